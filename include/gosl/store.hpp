// Store: the avatar database. Owns the LevelDB handle, opens it lazily on the
// first call that needs it and keeps it open; both lookups are single point
// reads. The layout is in docs/storage.md. No LevelDB type is visible to
// callers: LevelDB statuses become gosl Status at this boundary.
//
// Several processes share one database (mod_fcgid runs several): the one
// that holds LevelDB's lock owns it and answers the others' lookups and
// registrations over a local socket (peer.hpp); the others forward theirs,
// and take over when the owner exits. Only the owner may bulk-load, scan or
// compact.
//
// Thread-safety: every method may be called from several threads at once.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "gosl/avatar_name.hpp"
#include "gosl/avatar_record.hpp"
#include "gosl/peer.hpp"
#include "gosl/status.hpp"
#include "gosl/uuid.hpp"

namespace leveldb {
class DB;
class WriteBatch;
}  // namespace leveldb

namespace gosl {

struct StoreOptions {
  std::string path;  // the LevelDB directory, e.g. ".../slkvdb"

  // Everything the store caches is sized from this (default 24 MB, which with
  // the binary and the index blocks of a 10 M-record database keeps a serving
  // process under the SPEC's 32 MB): the block cache gets a third, each of the
  // (at most two) write buffers an eighth; Bloom filters are kept in memory
  // only from 48 MB up, as 10 M records need ~25 MB of them.
  size_t memory_budget_mb = 24;

  // Create an empty database when the directory holds none (--import,
  // --create, tests); serving processes answer 503 instead.
  bool create_if_missing = true;

  // How long (ms) to keep trying while another process holds the database
  // but does not answer yet (it is starting, or exiting and handing over).
  int wait_ms = 2000;
};

// The two entries a record is stored as (docs/storage.md): key -> name and
// name -> key. Reused across calls so bulk loaders allocate nothing per record.
struct RecordEntries {
  std::string key_entry_key, key_entry_value;
  std::string name_entry_key, name_entry_value;
  // For a grid other than the main one: which grid recorded the name last.
  // Empty key: no such entry.
  std::string latest_entry_key, latest_entry_value;
};
void EncodeRecord(const AvatarName& name, const Uuid& key, std::string_view grid,
                  RecordEntries& out);

// Receives entries in strictly increasing key order (bulk loading).
class SortedSink {
 public:
  virtual ~SortedSink() = default;
  virtual Status Add(std::string_view key, std::string_view value) = 0;
  // Writes what is buffered; the sink is unusable afterwards.
  virtual Status Finish() = 0;
};

// A sink that writes LevelDB table files straight into staging_dir (which
// must exist), with sequence number 0 on every entry: a fresh database built
// this way is written once and compresses better than one written through
// the log (leveldb-measured.md). Several sinks may fill disjoint key ranges
// at once; file numbers come from next_file_number.
std::unique_ptr<SortedSink> NewTableSink(const std::string& staging_dir,
                                         std::atomic<uint64_t>& next_file_number);

// Rebuilds a damaged database's MANIFEST from the files that can still be
// read (LevelDB's RepairDB); unreadable files go to its lost/ directory.
// Refuses (kUnavailable) while another process holds the database.
// lost_files: how many table files lost/ gained.
Status RepairDatabase(const std::string& path, size_t& lost_files);

// Turns a staging directory of table files from NewTableSink into a database
// (LevelDB's RepairDB writes the MANIFEST, a public API) and lets LevelDB
// move the tables to their levels. Returns kIOError/kCorruption on failure;
// the staging directory is then unusable.
Status AdoptTables(const std::string& staging_dir);


// Which grid's entry a lookup by name wants.
struct GridChoice {
  std::string caller = kMainGrid;  // the asking script's grid (X-SecondLife-Shard)
  bool only = false;               // that grid's entry or nothing, no fallback
};

class Store {
 public:
  explicit Store(StoreOptions options);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Opens the database if it is not open yet. Lookups and writes call it
  // themselves; importers call it to fail early. Returns kUnavailable when
  // another process holds the database or it is missing and may not be
  // created, kCorruption when it cannot be read; a later call tries again.
  Status Open();
  bool is_open() const { return owns_database() || peer_open_.load(); }
  // True when this process holds the database; false when it is a peer of
  // the process that does (or nothing is open).
  bool owns_database() const { return db_.load(std::memory_order_acquire) != nullptr; }
  const std::string& path() const { return options_.path; }

  // Returns the name's entry on the caller's grid; when that grid has none,
  // the main grid's (Production); then the entry recorded most recently on
  // any grid. kNotFound when there is none, or the Open() failure.
  Result<AvatarRecord> FindByName(const AvatarName& name, const GridChoice& grids = {});
  // Every grid's entry for the name (main grid first, then by grid name);
  // kNotFound when there is none.
  Result<std::vector<AvatarRecord>> FindInAllGrids(const AvatarName& name);
  // Returns the newest name recorded for key, kNotFound when there is none.
  Result<AvatarRecord> FindByKey(const Uuid& key);

  // Records name <-> key on grid atomically in both directions: key -> name
  // is replaced by this name, and the grid's name -> key is added (older
  // names of the key keep finding it; other grids' entries for the same name
  // stay). Synced to disk before it returns.
  Status Record(const AvatarName& name, const Uuid& key, std::string_view grid);

  // A group of records written atomically by Commit(). Not thread-safe.
  class Batch {
   public:
    Batch();
    ~Batch();
    void Add(const AvatarName& name, const Uuid& key, std::string_view grid);
    size_t records() const { return records_; }
    void Clear();

   private:
    friend class Store;
    std::unique_ptr<leveldb::WriteBatch> writes_;
    size_t records_ = 0;
  };
  // Writes every record of the batch or none. sync: wait for the disk.
  Status Commit(Batch& batch, bool sync);

  // Calls visit for every name entry (name -> key), in name order, then
  // returns the first non-OK status visit returned, or an I/O error.
  // Reads without filling the block cache, so a full pass leaves it as it was.
  Status ForEachName(const std::function<Status(const AvatarRecord&)>& visit);
  // The same for every key entry (key -> newest name), in key order.
  Status ForEachKey(const std::function<Status(const AvatarRecord&)>& visit);

  // A sink writing sorted entries into this (existing) database in atomic
  // batches of batch_entries, the last one synced. Requires: the store
  // outlives the sink.
  std::unique_ptr<SortedSink> NewBatchSink(size_t batch_entries);

  // Rewrites the whole database into its smallest form (after an import).
  Status CompactAll();

 private:
  leveldb::DB* db() const { return db_.load(std::memory_order_acquire); }
  // Opens LevelDB here; sets lock_held_elsewhere when another process has it.
  Status OpenLocal(bool& lock_held_elsewhere);
  Status RequireOwnership();
  // Answers a request from this database (owner) or through the owner.
  Result<std::vector<AvatarRecord>> Dispatch(const PeerRequest& request);
  // Answers from this process's database (Answer), reopening it first for
  // a registration after a write failed (Answer sets write_failed).
  Result<std::vector<AvatarRecord>> Local(const PeerRequest& request);
  Result<std::vector<AvatarRecord>> Answer(const PeerRequest& request, bool& write_failed);
  // LevelDB refuses every later write once a sync or a compaction failed,
  // and a log record cut short by a full disk is best not appended to: the
  // next registration reopens the database (replaying what reached the
  // disk, starting a new log), once the disk has room again. Lookups keep
  // using the open database meanwhile.
  Status ReopenAfterWriteFault();
  // Opens the closed database again. Requires: open_mutex_ held.
  Status ReopenLocked();
  std::atomic<bool> write_fault_{false};
  // Logs a fault of the database once (not once per request), and its end:
  // a write fault ends with a write that works.
  void NoteHealth(const Status& status, bool write);
  Result<std::vector<AvatarRecord>> Route(const PeerRequest& request);
  Result<AvatarRecord> FindNameLocal(const AvatarName& name, const GridChoice& grids);
  Result<std::vector<AvatarRecord>> FindAllGridsLocal(const AvatarName& name);
  // Sets owner_lost when the connection to the owner broke, and cacheable
  // when the owner lets the answer be remembered.
  Result<std::vector<AvatarRecord>> Forward(const PeerRequest& request, bool& owner_lost,
                                            bool& cacheable);
  Status Write(leveldb::WriteBatch* writes, bool sync);
  // Visits every entry whose key starts with prefix, the prefix removed.
  Status Scan(char prefix, const std::function<Status(std::string_view, std::string_view)>& visit);

  StoreOptions options_;
  struct Resources;  // cache and filter policy, alive as long as the DB
  std::unique_ptr<Resources> resources_;
  std::mutex open_mutex_;  // also serializes calls through peer_
  std::atomic<leveldb::DB*> db_{nullptr};
  // Shared by every use of db_ in an owner, exclusive to close it after a fault.
  std::shared_mutex db_use_;
  std::mutex fault_mutex_;
  std::string fault_;  // the fault logged last; empty: none
  std::atomic<bool> in_fault_{false};
  bool fault_on_write_ = false;  // under fault_mutex_
  std::unique_ptr<PeerServer> server_;  // owner: answers the peers
  std::unique_ptr<PeerClient> peer_;    // peer: the connection to the owner
  std::atomic<bool> peer_open_{false};
  // A peer remembers recent answers (forwarding costs a socket round trip);
  // every write by the owner bumps a counter all processes map, which
  // empties the caches, so a registration is still seen everywhere at once.
  // Set at most once, before this process first publishes itself as owner
  // or peer, and never replaced: other threads read them without a lock.
  class WriteCounter;
  std::atomic<WriteCounter*> writes_seen_{nullptr};  // owned; null: no sharing of caches
  class AnswerCache;
  std::atomic<AnswerCache*> answers_{nullptr};       // owned; peers only
  void MapWriteCounter();
  // An owner whose peer server could not start tries again (at most once a second).
  void RetryPeerServer();
  Status StartPeerServer();
  std::atomic<int64_t> last_server_attempt_ms_{0};
  std::atomic<bool> server_running_{false};
};

}  // namespace gosl
