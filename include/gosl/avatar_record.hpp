// AvatarRecord: what a lookup finds, as the store and the peer wire carry it.
#pragma once

#include <string>

#include "gosl/uuid.hpp"

namespace gosl {

struct AvatarRecord {
  Uuid key;
  std::string name;  // display form, as last stored
  std::string grid;  // as recorded; empty when the recorder sent none
};

// The grid Second Life's main grid sends in X-SecondLife-Shard; W-Hat's
// export is from it, and a lookup falls back to it.
inline constexpr const char* kMainGrid = "Production";

}  // namespace gosl
