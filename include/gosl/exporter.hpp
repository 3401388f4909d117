// ExportCsv: writes the database back as a W-Hat export ("uuid,Name" lines,
// with the grid and the time of an in-world registration where the database
// knows them: what_line.hpp), gzip or bzip2 compressed when the file name
// ends in .gz or .bz2. Importing the export gives the same answers again:
// older names of a key come first, each key's newest name last, as an
// import takes the last line for a key.
#pragma once

#include <cstddef>
#include <string>

#include "gosl/status.hpp"
#include "gosl/store.hpp"

namespace gosl {

struct ExportStats {
  size_t records = 0;     // keys written with their newest name
  size_t old_names = 0;   // earlier names of those keys, written before them
  size_t other_grids = 0;    // lines of a grid other than Production (a Grid column)
  size_t registrations = 0;  // keys registered in-world (a Registered column)
};

// Returns the counts, or kIOError when the file cannot be written (it is
// written under a temporary name and renamed at the end, so a failed export
// leaves no half file), or the store's error.
Result<ExportStats> ExportCsv(const std::string& path, Store& store);

}  // namespace gosl
