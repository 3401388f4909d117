// The database this process holds: LevelDB opened with options sized from
// the memory budget, its layout checked (and migrated), lookups and
// registrations answered from it, and its recovery: LevelDB refuses every
// later write once a sync or a compaction failed, so after a failed write
// the next registration reopens it. Whether this process should hold the
// database is the router's business (router.hpp).
//
// Thread-safe.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string_view>
#include <vector>

#include "gosl/avatar_record.hpp"
#include "gosl/peer.hpp"
#include "gosl/status.hpp"
#include "gosl/store.hpp"
#include "store/db_options.hpp"
#include "store/write_counter.hpp"

namespace leveldb {
class DB;
class WriteBatch;
}  // namespace leveldb

namespace gosl {

// Adds a record's entries (record_format.hpp) to a batch.
void AddRecord(leveldb::WriteBatch& batch, const AvatarName& name, const Uuid& key,
               std::string_view grid);

class LocalDb {
 public:
  // writes: bumped after every write, so peers forget what they remember.
  LocalDb(const StoreOptions& options, SharedWriteCounter& writes);
  ~LocalDb();
  LocalDb(const LocalDb&) = delete;
  LocalDb& operator=(const LocalDb&) = delete;

  // Opens the database (OK when it is open). On failure lock_held_elsewhere
  // says whether another process holds it.
  Status Open(bool& lock_held_elsewhere);
  bool is_open() const { return db_.load(std::memory_order_acquire) != nullptr; }
  // The directory held, as it was when opened. Requires: is_open().
  DatabaseIdentity identity() const { return identity_; }

  // Answers a request from the database: reopens it first when a reopen
  // failed before, or for a registration after a write failed.
  Result<std::vector<AvatarRecord>> Answer(const PeerRequest& request);
  // Writes a batch (bulk loading). kUnavailable when the database was closed.
  Status Write(leveldb::WriteBatch* writes, bool sync);
  // Calls visit for every entry whose key starts with prefix (the prefix
  // removed), in key order, without filling the block cache.
  Status Scan(char prefix, const std::function<Status(std::string_view key, std::string_view value)>& visit);
  Status CompactAll();

 private:
  leveldb::DB* db() const { return db_.load(std::memory_order_acquire); }
  // Requires: open_mutex_ held, and db_ null or db_use_ held exclusively.
  Status OpenLocked(bool& lock_held_elsewhere);
  Status CheckWritable() const;
  void MakeOwnerOnly() const;
  Status ReopenAfterWriteFault();
  Result<std::vector<AvatarRecord>> AnswerOpen(const PeerRequest& request, bool& write_failed);
  Result<AvatarRecord> FindName(const AvatarName& name, const GridChoice& grids);
  Result<std::vector<AvatarRecord>> FindAllGrids(const AvatarName& name);
  Result<AvatarRecord> FindKey(const Uuid& key);
  Status Closed() const;

  // Constant after construction.
  const StoreOptions& options_;
  SharedWriteCounter& writes_;

  // Opening and reopening hold open_mutex_; closing db_ (to reopen it) also
  // holds db_use_ exclusively, and every use of db_ holds it shared.
  std::mutex open_mutex_;
  std::shared_mutex db_use_;
  std::unique_ptr<DbCaches> caches_;      // alive as long as db_
  DatabaseIdentity identity_;             // of the directory db_ holds
  std::atomic<leveldb::DB*> db_{nullptr};  // owned
  std::atomic<bool> write_fault_{false};
  bool closed_after_fault_ = false;  // guarded by open_mutex_
};

}  // namespace gosl
