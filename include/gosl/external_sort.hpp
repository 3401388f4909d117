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
  std::vector<std::string> files_;
  size_t entries_ = 0;
};

// Merges run files in key order and calls emit(key, value) once per key.
// Where several entries share a key, only the one added last is emitted
// (the one from the latest run; within a run, the latest added), so a later
// line of an import replaces an earlier one. Reads each run through a buffer
// of read_buffer_bytes. Returns the first I/O error, kCorruption for a
// damaged run file, or the first non-OK status emit returns.
Status MergeRuns(const std::vector<std::string>& files, size_t read_buffer_bytes,
                 const std::function<Status(std::string_view key, std::string_view value)>& emit);

}  // namespace gosl
