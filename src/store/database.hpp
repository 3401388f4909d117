// One open LevelDB directory: its handle and caches, the identity of the
// directory (whatever its path is now), its layout checked and migrated, and
// reads and writes in the record format. The process serving a path holds
// one, or two while a replaced directory is carried into the new one
// (local_db.hpp). Which directory, and when, is not decided here.
//
// Thread-safe: LevelDB's handle is.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gosl/avatar_name.hpp"
#include "gosl/avatar_record.hpp"
#include "gosl/peer.hpp"
#include "gosl/status.hpp"
#include "gosl/uuid.hpp"
#include "store/db_options.hpp"
#include "store/entry_counts.hpp"

namespace leveldb {
class DB;
class Env;
class Snapshot;
class WriteBatch;
}  // namespace leveldb

namespace gosl {

class Database {
 public:
  struct Options {
    std::string path;
    size_t memory_budget_mb = 24;
    bool create_if_missing = false;
    leveldb::Env* env = nullptr;  // null: StoreEnv()
    // Keep the counts of names per grid (entry_counts.hpp): every database
    // served does; one only carried from does not.
    bool keep_counts = true;
  };
  // Opens the database at options.path. Returns kUnavailable when there is
  // none (and it may not be created), when it cannot be read, or when it is
  // held elsewhere (lock_held_elsewhere then true); kCorruption when it is
  // damaged or of a layout this program does not read.
  // Requires: the caller holds the role of the path (PathLock).
  static Result<std::unique_ptr<Database>> Open(const Options& options, bool& lock_held_elsewhere);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  DatabaseIdentity identity() const { return identity_; }
  // The path it was opened at; the directory may have moved since.
  const std::string& opened_at() const { return opened_at_; }
  // Where the directory is now (followed through its descriptor), or
  // opened_at() when that cannot be told.
  std::string CurrentPath() const;
  leveldb::DB* raw() const { return db_.get(); }
  // True when it keeps working wherever the directory is moved (LevelDB
  // reaches it through /proc/self/fd); without /proc it must be reopened.
  bool follows_moves() const { return follows_moves_; }

  // Reads; kNotFound is a miss. From snapshot when given.
  Result<AvatarRecord> FindKey(const Uuid& key, const leveldb::Snapshot* snapshot = nullptr) const;
  Result<AvatarRecord> FindNameOnGrid(std::string_view lookup, std::string_view grid,
                                      const leveldb::Snapshot* snapshot = nullptr) const;
  // The grid other than the main one that recorded the name last; kNotFound.
  Result<std::string> LatestGrid(std::string_view lookup) const;
  // The main grid's entry, then every other grid's (at most limit entries).
  Result<std::vector<AvatarRecord>> FindAllGrids(std::string_view lookup, size_t limit) const;
  // When the key was last registered in-world (journal), 0 when never.
  uint64_t RegisteredAt(const Uuid& key) const;
  // A raw entry: kNotFound when absent.
  Result<std::string> Get(std::string_view key) const;

  // Writes the batch atomically, with the counts it changes.
  Status Write(leveldb::WriteBatch* batch, bool sync);
  // The names per grid and registrations (state kOff when not kept).
  EntryCounts Counts() const;
  // Journal entries (in-world registrations) since time_us (µs since 1970).
  Result<uint64_t> RegistrationsSince(uint64_t time_us) const;
  // Calls visit for every entry whose key starts with prefix (the prefix
  // removed), in key order, without filling the block cache.
  Status Scan(char prefix, const std::function<Status(std::string_view, std::string_view)>& visit,
              const leveldb::Snapshot* snapshot = nullptr) const;
  void CompactAll();
  // Lowers the block cache to at most bytes while another database is open
  // beside this one (block_cache.hpp); 0 gives it back its whole capacity.
  void LimitBlockCache(size_t bytes);

 private:
  Database(std::string path, std::unique_ptr<DbCaches> caches, leveldb::DB* db,
           DatabaseIdentity identity, int dir_fd, bool follows_moves, bool keep_counts, bool created);

  const std::string opened_at_;
  std::unique_ptr<DbCaches> caches_;  // alive as long as db_ (declared first, freed last)
  std::unique_ptr<leveldb::DB> db_;
  std::unique_ptr<CountKeeper> counts_;  // null when not kept; freed before db_
  const DatabaseIdentity identity_;
  const int dir_fd_;  // O_PATH: LevelDB's way to the directory, wherever it moves
  const bool follows_moves_;
};

// Adds a record's entries (record_format.hpp) to a batch.
void AddRecord(leveldb::WriteBatch& batch, const AvatarName& name, const Uuid& key,
               std::string_view grid);
// The same, as an in-world registration at time_us: journaled too.
void AddRegistration(leveldb::WriteBatch& batch, const AvatarName& name, const Uuid& key,
                     std::string_view grid, uint64_t time_us);

}  // namespace gosl
