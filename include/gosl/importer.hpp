// ImportCsv: loads a W-Hat export ("UUID,Name" lines; plain, gzip or bzip2,
// told apart by their first bytes) into the Store in bounded memory. The file
// is streamed, sorted in runs on disk and written in key order: straight into
// table files when the database is new, in committed batches when it exists
// (a re-import merges: it updates what changed and keeps what was captured
// in-world). A malformed line is skipped and counted, never fatal and never
// half written.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "gosl/status.hpp"
#include "gosl/store.hpp"

namespace gosl {

struct ImportOptions {
  std::string file;
  size_t progress_records = 100000;  // a log line every N lines
  std::string grid = "Production";   // W-Hat's export is Second Life's main grid
  size_t sort_memory_mb = 8;         // held by the sorted runs; the rest of the import is smaller
  bool progress_bar = false;         // a progress bar with records/s and ETA on stderr
};

struct ImportStats {
  size_t lines = 0;         // lines read, blank ones and a header included
  size_t imported = 0;      // records written
  size_t registrations = 0; // of them, registered in-world (a backup's Registered column)
  size_t skipped = 0;       // malformed lines (the first few are logged with their number)
  bool fresh = false;       // a new database built directly, rather than merged into one
  double seconds = 0;
  long peak_rss_kb = 0;     // of the whole process, at the end
  uint64_t input_bytes = 0;     // the file as given (compressed or not)
  uint64_t database_bytes = 0;  // the database directory afterwards

  // One line for the operator: counts, time, records/s, peak RSS, size.
  std::string Summary() const;
};

// Imports options.file into the store's database. Returns kIOError when the
// file cannot be read (missing, a directory) or written, kCorruption when a
// compressed file is damaged or truncated (what was read before the damage
// is not written: the import is refused whole for a new database, and for an
// existing one only the batches committed before stay), kUnavailable when the
// database is held by another process, kInvalidArgument when the database
// directory holds something that is not a database.
// Killed at any moment, it leaves the database as it was (new database) or
// with every committed batch (existing one); running it again completes it.
Result<ImportStats> ImportCsv(const ImportOptions& options, Store& store);

}  // namespace gosl
