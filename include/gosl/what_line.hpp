// One "UUID,Name" line as W-Hat's export writes them, and as LSL scripts send
// pairs in a batch registration. Parsing only; knows nothing of files or HTTP.
#pragma once

#include <string_view>

#include "gosl/avatar_name.hpp"
#include "gosl/status.hpp"
#include "gosl/uuid.hpp"

namespace gosl {

// One line of a W-Hat export: "UUID,Name", fields optionally quoted as in
// RFC 4180, spaces around fields ignored, a trailing '\r' ignored.
struct WhatRecord {
  Uuid key;
  AvatarName name;
};
// Returns the record, or kInvalidArgument saying what is wrong with the line.
Result<WhatRecord> ParseWhatLine(std::string_view line);

}  // namespace gosl
