// Store: the avatar database. Opens it lazily on the first call that needs
// it and keeps it open; both lookups are single point reads. The layout is in
// docs/storage.md. No LevelDB type is visible to callers: LevelDB statuses
// become gosl Status inside src/store/.
//
// Several processes share one database (mod_fcgid runs several): the one
// that holds LevelDB's lock owns it and answers the others' lookups and
// registrations over a local socket (peer.hpp); the others forward theirs,
// and take over when the owner exits. Only the owner may bulk-load, scan or
// compact.
//
// Thread-safety: every method may be called from several threads at once,
// except on a Batch.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gosl/avatar_name.hpp"
#include "gosl/avatar_record.hpp"
#include "gosl/bulk_load.hpp"
#include "gosl/status.hpp"
#include "gosl/uuid.hpp"

namespace leveldb {
class Env;
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

  // The process holding the database gives it up to the others when, for a
  // while, it answers only them (FastCGI: mod_fcgid hands requests to the
  // process that finished last, so one process may take them all while the
  // holder waits). The next process to forward takes the database, and
  // answers from it without a hop. See Router::MaybeHandOver.
  bool hand_over_when_idle = false;

  // The file system LevelDB goes through; null: the real one, tables read
  // with pread. Tests inject faults here (a full disk, read errors). Not
  // owned; must outlive the store.
  leveldb::Env* env = nullptr;
};

// Receives what an export holds: each name that is no longer its key's
// newest (earlier_name), then each key with its newest name and when it was
// last registered in-world; returns non-OK to stop.
using ExportVisitor = std::function<Status(const ExportEntry& entry)>;

// Which grid's entry a lookup by name wants.
struct GridChoice {
  std::string caller = kMainGrid;  // the asking script's grid (X-SecondLife-Shard)
  bool only = false;               // that grid's entry or nothing, no fallback
};

// What --status and status=1 say about the database (docs/api.md): counts
// kept by every write, never a scan of the names (docs/storage.md).
struct DatabaseFacts {
  // False while the database is counted after an upgrade (the names and
  // registrations below are then 0; the count takes seconds).
  bool counted = false;
  bool count_failed = false;  // the count after an upgrade failed (gosl.log says why)
  // grid -> name entries ("" : no grid sent); the 500 largest, the rest summed
  // up as "(N other grids)".
  std::map<std::string, uint64_t> names_per_grid;
  uint64_t grids = 0;                              // how many grids have names
  uint64_t names = 0;                              // every name entry on every grid
  // In-world registrations journaled: ever, and in the last hour, day, 30 days.
  uint64_t registrations = 0, registrations_hour = 0, registrations_day = 0,
           registrations_30_days = 0;
  std::string layout;               // the layout version ("2")
  std::optional<ImportFacts> last_import;
  bool carrying = false;            // a replaced database is being carried into it
  std::string served_by;            // the version of the process that answered
};

class Store {
 public:
  explicit Store(StoreOptions options);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Opens the database if it is not open yet. Lookups and writes call it
  // themselves; importers call it to fail early. Returns kUnavailable when
  // another process holds the database and does not answer, or it is missing
  // and may not be created; kCorruption when it cannot be read. A later call
  // tries again.
  Status Open();
  // True once this process owns the database or forwards to its owner.
  bool is_open() const;
  // True when this process holds the database; false when it is a peer of
  // the process that does (or nothing is open).
  bool owns_database() const;
  const std::string& path() const;

  // Returns the name's entry on the caller's grid; when that grid has none,
  // the main grid's (Production); then the entry recorded most recently on
  // any grid. kNotFound when there is none, or the Open() failure.
  Result<AvatarRecord> FindByName(const AvatarName& name, const GridChoice& grids = {});
  // Every grid's entry for the name (main grid first, then by grid name, at
  // most 100); kNotFound when there is none.
  Result<std::vector<AvatarRecord>> FindInAllGrids(const AvatarName& name);
  // Returns the newest name recorded for key, kNotFound when there is none.
  Result<AvatarRecord> FindByKey(const Uuid& key);

  // Many lookups at once (names=, keys=; at most kMaxBatchLookups), in one
  // round trip to the process holding the database: the answers in the
  // order asked, each with an empty name where none is known. Or the first
  // failure.
  struct NameQuestion {
    AvatarName name;
    GridChoice grids;
  };
  Result<std::vector<AvatarRecord>> FindManyByName(const std::vector<NameQuestion>& questions);
  Result<std::vector<AvatarRecord>> FindManyByKey(const std::vector<Uuid>& keys);

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
  // Writes every record of the batch or none (owner only). sync: wait for
  // the disk.
  Status Commit(Batch& batch, bool sync);

  // Calls visit for every name entry (name -> key), in name order, then
  // returns the first non-OK status visit returned, or an I/O error. Owner
  // only. Reads without filling the block cache, so a full pass leaves it as
  // it was.
  Status ForEachName(const std::function<Status(const AvatarRecord&)>& visit);
  // The same for every key entry (key -> newest name), in key order.
  Status ForEachKey(const std::function<Status(const AvatarRecord&)>& visit);

  // The counts --status and status=1 show, from the process serving the
  // path (this one or the owner, asked over the peer socket). kUnavailable
  // when that process is of a version that cannot tell.
  Result<DatabaseFacts> Facts();

  // Rewrites the whole database into its smallest form. Owner only.
  Status CompactAll();

  // The operator's operations, done by the process serving the path (this
  // one, or the one asked over the peer socket) while it goes on serving
  // (docs/database.md).
  //
  // Serves the database directory new_dir in place of the one at the path:
  // every process answers from it at once, and what the replaced one knew
  // that new_dir lacks (its entries, and newer in-world registrations) is
  // carried into it; the replaced one is kept as "<path>.replaced-<time>"
  // (refresh: carried, then removed). Returns a one-line summary once the
  // carry is done. kUnavailable while another swap is being carried, or when
  // the serving process is of a version that cannot swap; kInvalidArgument
  // for the database served itself; Open()'s failures for new_dir. Nothing
  // changes when it fails before the swap.
  Result<std::string> SwapIn(const std::string& new_dir, bool refresh);
  // Calls visit with what an export holds, from one snapshot of the database
  // taken now (everything answered before it, nothing after). kUnavailable
  // while a swap is being carried.
  Status Export(const ExportVisitor& visit);

 private:
  struct Rep;
  std::unique_ptr<Rep> rep_;
};

}  // namespace gosl
