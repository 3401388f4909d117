// ImportCsv: streams a W-Hat export ("UUID,Name" lines) into the Store in
// committed batches. Never holds the file in memory; a malformed line is
// skipped and counted, never fatal and never half written.
#pragma once

#include <cstddef>
#include <string>

#include "gosl/status.hpp"
#include "gosl/store.hpp"

namespace gosl {

struct ImportOptions {
  std::string file;
  size_t batch_records = 10000;      // records per atomic, committed batch
  size_t progress_records = 100000;  // a log line every N records
  std::string grid = "Production";   // W-Hat's export is Second Life's main grid
};

struct ImportStats {
  size_t lines = 0;     // lines read, blank ones included
  size_t imported = 0;  // records written
  size_t skipped = 0;   // malformed lines (the first few are logged with their number)
  double seconds = 0;
};

// Returns the counts, or kIOError when the file cannot be read (missing, a
// directory) or a batch cannot be committed, kUnavailable when the database
// cannot be opened. Batches committed before a failure stay in the database.
Result<ImportStats> ImportCsv(const ImportOptions& options, Store& store);

}  // namespace gosl
