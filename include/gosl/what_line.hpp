// One "UUID,Name" line as W-Hat's export writes them, and as LSL scripts send
// pairs in a batch registration; and the line of a gosl-basics export, which
// adds what a W-Hat line cannot say. Knows nothing of files or HTTP.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "gosl/avatar_name.hpp"
#include "gosl/avatar_record.hpp"
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

// A line of a gosl-basics export (docs/database.md, "What a backup holds"):
//   UUID,Name[,Grid[,Registered]]
// W-Hat's two columns, then the grid when it is not Production (empty: the
// recorder sent none; left out for a Hypergrid name, whose grid is its host),
// then when the key was last registered in-world, as
// 2026-11-27T09:37:53.123456Z (UTC), on the key's newest name only. A file
// of Production names that were never registered in-world is W-Hat's format.
struct ExportLine {
  WhatRecord record;
  std::optional<std::string> grid;  // absent: the import's grid (or the Hypergrid host)
  uint64_t registered_us = 0;       // 0: not registered in-world
};
Result<ExportLine> ParseExportLine(std::string_view line);
std::string FormatExportLine(const ExportEntry& entry);

// The Registered column's form, both ways (whole microseconds, UTC).
std::string FormatRegisteredTime(uint64_t time_us);
Result<uint64_t> ParseRegisteredTime(std::string_view text);

}  // namespace gosl
