// AvatarRecord: what a lookup finds, as the store and the peer wire carry it.
#pragma once

#include <cstdint>
#include <string>

#include "gosl/uuid.hpp"

namespace gosl {

struct AvatarRecord {
  Uuid key;
  std::string name;  // display form, as last stored
  std::string grid;  // as recorded; empty when the recorder sent none
};

// One entry of an export (Store::Export), as a backup must keep it.
struct ExportEntry {
  AvatarRecord record;
  bool earlier_name = false;   // no longer its key's newest name
  uint64_t registered_us = 0;  // newest names: when registered in-world (µs since 1970), 0 if never
};

// The grid Second Life's main grid sends in X-SecondLife-Shard; W-Hat's
// export is from it, and a lookup falls back to it.
inline constexpr const char* kMainGrid = "Production";

}  // namespace gosl
