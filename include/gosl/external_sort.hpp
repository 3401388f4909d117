// External sort of key/value entries in bounded memory: entries are gathered
// into an in-memory run, each full run is sorted and spilled to a file, and
// the runs are merged back in key order. Used by the importer to feed LevelDB
// in key order (unordered writes make LevelDB rewrite the data many times).
// Knows nothing of avatars.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gosl/status.hpp"

namespace gosl {

// Gathers entries and spills sorted runs as files in a directory.
// Not thread-safe.
class RunWriter {
 public:
  // Runs are written as dir/<prefix>-<n>.run; run_bytes bounds the memory one
  // run holds (keys, values and their offsets).
  RunWriter(std::string dir, std::string prefix, size_t run_bytes);
  ~RunWriter();

  // Adds one entry. Requires: key and value shorter than 4 GB. Returns the
  // I/O failure of a spill.
  Status Add(std::string_view key, std::string_view value);
  // Spills what is left; returns the run files in the order they were
  // written (later runs hold later entries).
  Result<std::vector<std::string>> Finish();

  size_t entries() const { return entries_; }

 private:
  Status Spill();

  std::string dir_, prefix_;
  size_t run_bytes_;
  std::string arena_;              // entries back to back: klen, vlen, key, value
  std::vector<uint32_t> offsets_;  // where each entry of the run starts in arena_
  // While a run is sorted: each entry's offset and its key's first 8 bytes.
  struct SortKey {
    uint64_t prefix;
    uint32_t offset;
  };
  std::vector<SortKey> sort_keys_;
  std::vector<std::string> files_;
  size_t entries_ = 0;
};

// How much a merge may hold at once.
struct MergeLimits {
  size_t read_buffer_bytes = 32 * 1024;  // per run file open for reading
  size_t max_open_runs = 64;             // run files read at once; at least 2
};

// Merges run files in key order and calls emit(key, value) once per key.
// Where several entries share a key, only the one added last is emitted
// (the one from the latest run; within a run, the latest added), so a later
// line of an import replaces an earlier one. Never reads more than
// limits.max_open_runs files at once: with more runs, consecutive groups are
// first merged into intermediate runs beside the first of each group (pass
// after pass), so memory and open files do not grow with the input. Takes
// ownership of the files: each is removed once merged into an intermediate
// run, and intermediate runs are removed on every exit path; the caller
// removes the last pass's inputs. Returns the first I/O error, kCorruption
// for a damaged run file, kInvalidArgument for max_open_runs < 2, or the
// first non-OK status emit returns.
Status MergeRuns(const std::vector<std::string>& files, const MergeLimits& limits,
                 const std::function<Status(std::string_view key, std::string_view value)>& emit);

// How many merge passes MergeRuns makes over `runs` files (1 when they fit).
size_t MergePasses(size_t runs, size_t max_open_runs);

}  // namespace gosl
