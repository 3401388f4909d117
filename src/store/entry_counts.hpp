// The counts --status and status=1 answer, kept exact without scanning on
// request: how many name entries each grid has and how many registrations
// the journal holds. Every write through Database::Write is tallied (a name
// entry is new when the database does not have it yet) and the changed
// counts are written in the same atomic batch. A database whose counts are
// missing or stale (written by another version, migrated, repaired) is
// counted once, in the background, from a snapshot; writes made meanwhile
// are tallied as differences and added at the end (docs/storage.md).
//
// Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "gosl/status.hpp"

namespace leveldb {
class DB;
class WriteBatch;
}  // namespace leveldb

namespace gosl {

// What the counts say now.
struct EntryCounts {
  // kCounting: the database is being counted (after an upgrade); the numbers
  // are not known yet.
  enum class State { kExact, kCounting, kOff };
  State state = State::kOff;
  std::map<std::string, uint64_t> names_per_grid;  // grid -> name entries (main grid "Production")
  uint64_t registrations = 0;                      // journal entries
};

class CountKeeper {
 public:
  // db: the open database (not owned; outlives this). The counts kept in it
  // are read when first needed (a write, Counts()), not at open: reading
  // them opens the first table of every level, which a fresh process's
  // first lookup should not wait for. When they are missing or stale, they
  // are counted then, on a thread of its own.
  // created: the database was made just now, empty: nothing to count.
  CountKeeper(leveldb::DB* db, std::string path, bool created);
  ~CountKeeper();  // stops a count under way (the next open counts again)
  CountKeeper(const CountKeeper&) = delete;
  CountKeeper& operator=(const CountKeeper&) = delete;

  // Writes batch with the counts it changes added to it. The one way this
  // database is written while served.
  Status Write(leveldb::WriteBatch* batch, bool sync);
  EntryCounts Counts();

 private:
  // Signed: while counting, writes add differences that may be negative.
  using Tallies = std::map<std::string, int64_t>;
  struct Totals {
    Tallies names;
    int64_t registrations = 0;
    std::string newest_journal_key;
  };
  // What writing batch changes, looked up against the database as it is.
  // Requires: mutex_ held.
  Totals Tally(const leveldb::WriteBatch& batch) const;
  static void Add(Totals& into, const Totals& more);
  // The count entries and the mark: of the grids changed changes, as they
  // will be once it is written; all of them, as they are, when null.
  void AppendEntries(leveldb::WriteBatch& batch, const Totals* changed) const;
  // Reads the counts, or starts counting, the first time only.
  // Requires: mutex_ held.
  void LoadOnce();
  bool Load();
  void CountAll();

  leveldb::DB* const db_;
  const std::string path_;
  mutable std::mutex mutex_;  // serialises writes, so that each tally is against what is there
  Totals totals_;              // guarded by mutex_
  EntryCounts::State state_ = EntryCounts::State::kExact;  // guarded by mutex_
  bool loaded_ = false;                                     // guarded by mutex_
  std::atomic<bool> stop_{false};
  std::thread counter_;
};

}  // namespace gosl
