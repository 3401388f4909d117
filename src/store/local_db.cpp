#include "store/local_db.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <leveldb/db.h>
#include <leveldb/env.h>
#include <leveldb/write_batch.h>

#include "gosl/logging.hpp"
#include "store/db_files.hpp"
#include "store/leveldb_status.hpp"
#include "store/migrate_layout1.hpp"
#include "store/record_format.hpp"
#include "util/private_files.hpp"

namespace gosl {
namespace {

using namespace record_format;

// Anyone may register a name on new grids: a listing stops here, so it
// stays one small answer (and one peer frame).
constexpr size_t kMaxGridsListed = 100;

// Reopening writes a new log, a MANIFEST and perhaps a table of what the
// old log held: on a disk that cannot take this much it would fail and
// leave nothing to read from.
constexpr size_t kReopenProbeBytes = 1 << 20;

Result<std::vector<AvatarRecord>> One(Result<AvatarRecord> record) {
  if (!record.ok()) return record.status();
  return std::vector<AvatarRecord>{std::move(record).value()};
}

// The layout version tells later versions which layout they read.
leveldb::Status CheckLayout(leveldb::DB* db, const std::string& path, Status& refused) {
  std::string version;
  const std::string layout_key(kLayoutKey);
  leveldb::Status s = db->Get(leveldb::ReadOptions(), layout_key, &version);
  if (s.ok() && version == kOldLayoutVersion) {
    size_t moved = 0;
    s = MigrateFromLayout1(db, moved);
    if (s.ok() && moved > 0) {
      log::Notice("database moved to layout " + std::string(kLayoutVersion) + ": " +
                  std::to_string(moved) +
                  " names of other grids than Production now kept per grid");
    }
  } else if (s.IsNotFound()) {
    s = db->Put(leveldb::WriteOptions(), layout_key, std::string(kLayoutVersion));
  } else if (s.ok() && version != kLayoutVersion) {
    refused = Status::Corruption("database '" + path + "' has layout version '" +
                                 Sanitized(version, 8) + "', this program reads '" +
                                 std::string(kLayoutVersion) + "'");
  }
  return s;
}

}  // namespace

void AddRecord(leveldb::WriteBatch& batch, const AvatarName& name, const Uuid& key,
               std::string_view grid) {
  RecordEntries entries;
  EncodeRecord(name, key, grid, entries);
  batch.Put(entries.name_entry_key, entries.name_entry_value);
  batch.Put(entries.key_entry_key, entries.key_entry_value);
  if (!entries.latest_entry_key.empty()) {
    batch.Put(entries.latest_entry_key, entries.latest_entry_value);
  }
}

LocalDb::LocalDb(const StoreOptions& options, SharedWriteCounter& writes)
    : options_(options), writes_(writes) {}

LocalDb::~LocalDb() { delete db_.exchange(nullptr); }

Status LocalDb::Open(bool& lock_held_elsewhere) {
  lock_held_elsewhere = false;
  if (is_open()) return Status::OK();
  std::lock_guard<std::mutex> opening(open_mutex_);
  if (is_open()) return Status::OK();
  return OpenLocked(lock_held_elsewhere);
}

Status LocalDb::OpenLocked(bool& lock_held_elsewhere) {
  lock_held_elsewhere = false;
  auto caches = std::make_unique<DbCaches>();
  leveldb::Options options = ServingOptions(options_.memory_budget_mb, options_.env, *caches);
  options.create_if_missing = options_.create_if_missing;

  // Through the Env, as LevelDB will read it: a missing database is not an
  // unreadable one.
  leveldb::SequentialFile* current = nullptr;
  const leveldb::Status probe =
      options.env->NewSequentialFile(db_files::CurrentFile(options_.path), &current);
  delete current;
  const std::string probe_text = probe.ToString();
  const std::string reason = probe_text.substr(probe_text.rfind(": ") + 2);
  const bool existed = probe.ok();
  if (!existed && !probe.IsNotFound() && reason != std::strerror(ENOTDIR)) {
    return Status::Unavailable("cannot read database '" + options_.path + "': " + reason);
  }
  // LevelDB makes the directory and its LOCK even when it may not create
  // the database: do not let it touch anything then.
  if (!existed && !options_.create_if_missing) {
    return Status::Unavailable("no database at '" + options_.path +
                               "' (upload one, or make it with --import or --create)");
  }
  const auto identity_before = private_files::IdentityOf(options_.path);
  leveldb::DB* db = nullptr;
  const leveldb::Status opened = leveldb::DB::Open(options, options_.path, &db);
  lock_held_elsewhere = IsLockHeldElsewhere(opened);
  if (Status status = FromLevelDb(opened, options_.path); !status.ok()) return status;
  std::unique_ptr<leveldb::DB> owned(db);
  // What peers will be told this process holds (they compare it with what
  // they find at the path).
  const auto identity = private_files::IdentityOf(options_.path);
  if (!identity.ok()) return identity.status();
  if (identity_before.ok() && identity_before.value() != identity.value()) {
    return Status::Unavailable("database '" + options_.path + "' was replaced while being opened");
  }
  MakeOwnerOnly();
  // A mistyped --dir would otherwise serve an empty database without a trace.
  if (!existed) log::Warning("created a new, empty database at '" + options_.path + "'");

  Status refused;
  if (leveldb::Status s = CheckLayout(db, options_.path, refused); !s.ok()) {
    return FromLevelDb(s, options_.path);
  }
  if (!refused.ok()) return refused;

  writes_.OpenOnce();  // before the process is seen as the owner
  identity_ = {identity->device, identity->inode};
  caches_ = std::move(caches);
  db_.store(owned.release(), std::memory_order_release);
  if (closed_after_fault_) {
    closed_after_fault_ = false;
    log::Notice("database '" + options_.path + "' reopened after a failed write");
  }
  // A previous owner may have died between a write and its bump: peers'
  // caches may hold an answer older than that write.
  writes_.Bump();
  return Status::OK();
}

// Nothing of the database may be readable or lockable by the host's other
// users (docs/security.md): an older guide said chmod 644, and LevelDB
// makes its files 0644 when the umask lets it.
void LocalDb::MakeOwnerOnly() const {
  const private_files::Tightening done = private_files::MakeOwnerOnly(options_.path);
  if (!done.tightened.empty()) {
    log::Notice("database '" + options_.path + "': made owner-only (" +
                std::to_string(done.tightened.size()) +
                " files and directories other users of this machine could read)");
  }
  if (!done.foreign.empty()) {
    log::Warning("database '" + options_.path + "': " + std::to_string(done.foreign.size()) +
                 " files belong to another user, who can read and lock them (first: '" +
                 done.foreign.front() + "'): upload the database as the site's user");
  }
}

// Writes (and removes) a probe file through the Env, as LevelDB will write:
// whatever stops it (a full disk, a quota, a read-only file system) says so.
Status LocalDb::CheckWritable() const {
  leveldb::Env* env = BaseOptions(options_.env).env;
  const std::string probe = db_files::WriteProbeFile(options_.path);
  leveldb::WritableFile* file = nullptr;
  leveldb::Status s = env->NewWritableFile(probe, &file);
  if (s.ok()) {
    std::unique_ptr<leveldb::WritableFile> owned(file);
    const std::string block(64 << 10, '\0');
    for (size_t written = 0; s.ok() && written < kReopenProbeBytes; written += block.size()) {
      s = owned->Append(block);
    }
    if (s.ok()) s = owned->Sync();
    const leveldb::Status closed = owned->Close();
    if (s.ok()) s = closed;
  }
  env->RemoveFile(probe);  // a probe never left behind, whatever happened
  if (s.ok()) return Status::OK();
  const std::string text = s.ToString();
  return Status::IOError("database '" + options_.path +
                         "' cannot be written: " + text.substr(text.rfind(": ") + 2));
}

Status LocalDb::ReopenAfterWriteFault() {
  if (Status writable = CheckWritable(); !writable.ok()) return writable;
  std::lock_guard<std::mutex> opening(open_mutex_);
  std::unique_lock<std::shared_mutex> exclusive(db_use_);  // lookups wait for the reopen
  if (!write_fault_.load()) return Status::OK();  // another thread reopened it
  write_fault_ = false;
  delete db_.exchange(nullptr, std::memory_order_acq_rel);
  caches_.reset();
  closed_after_fault_ = true;
  // When another process took the database in between, the router hands
  // this process's peers over to it at its next Open().
  bool lock_held_elsewhere = false;
  return OpenLocked(lock_held_elsewhere);
}

Result<std::vector<AvatarRecord>> LocalDb::Answer(const PeerRequest& request) {
  if (request.op == PeerOp::kRecord && write_fault_.load()) {
    if (Status s = ReopenAfterWriteFault(); !s.ok()) return s;
  }
  if (!is_open()) {
    // A reopen failed: try again (the cause may be gone).
    std::lock_guard<std::mutex> opening(open_mutex_);
    bool lock_held_elsewhere = false;
    if (!is_open()) {
      if (Status s = OpenLocked(lock_held_elsewhere); !s.ok()) return s;
    }
  }
  bool write_failed = false;
  Result<std::vector<AvatarRecord>> result = Status::Unavailable("");
  {
    std::shared_lock<std::shared_mutex> in_use(db_use_);
    if (!db()) return Status::Unavailable("database '" + options_.path + "' is being reopened");
    result = AnswerOpen(request, write_failed);
  }
  if (write_failed) write_fault_ = true;
  return result;
}

Result<std::vector<AvatarRecord>> LocalDb::AnswerOpen(const PeerRequest& request,
                                                      bool& write_failed) {
  switch (request.op) {
    case PeerOp::kFindByName:
    case PeerOp::kFindInAllGrids: {
      auto name = AvatarName::Parse(request.name);
      if (!name.ok()) return name.status();
      if (request.op == PeerOp::kFindInAllGrids) return FindAllGrids(name.value());
      return One(FindName(name.value(), {request.grid, request.only_grid}));
    }
    case PeerOp::kFindByKey: return One(FindKey(request.key));
    case PeerOp::kRecord: {
      auto name = AvatarName::Parse(request.name);
      if (!name.ok()) return name.status();
      leveldb::WriteBatch writes;
      AddRecord(writes, name.value(), request.key, request.grid);
      leveldb::WriteOptions options;
      options.sync = true;
      if (Status s = FromLevelDb(db()->Write(options, &writes), options_.path); !s.ok()) {
        write_failed = true;
        return s;
      }
      // Before the answer: every peer's cache is stale from now on.
      writes_.Bump();
      return One(AvatarRecord{request.key, name->display(), request.grid});
    }
  }
  return Status::InvalidArgument("unknown peer request");
}

// The caller's grid, then the main grid, then the grid that recorded the
// name last ('l'); with grids.only, the caller's grid alone.
Result<AvatarRecord> LocalDb::FindName(const AvatarName& name, const GridChoice& grids) {
  const std::string& lookup = name.lookup();
  auto get = [this, &lookup](std::string_view grid) -> Result<AvatarRecord> {
    std::string value;
    leveldb::Status s = db()->Get(leveldb::ReadOptions(), NameKey(lookup, grid), &value);
    if (!s.ok()) return FromLevelDb(s, options_.path);
    return DecodeNameEntry(lookup, value);
  };
  auto found = get(grids.caller);
  if (found.ok() || !found.status().IsNotFound() || grids.only) return found;
  if (grids.caller != kMainGrid) {
    found = get(kMainGrid);
    if (found.ok() || !found.status().IsNotFound()) return found;
  }
  std::string latest_grid;
  leveldb::Status s = db()->Get(leveldb::ReadOptions(), LatestKey(lookup), &latest_grid);
  if (s.IsNotFound()) return found;
  if (!s.ok()) return FromLevelDb(s, options_.path);
  return get(latest_grid);
}

Result<std::vector<AvatarRecord>> LocalDb::FindAllGrids(const AvatarName& name) {
  std::vector<AvatarRecord> records;
  std::string value;
  leveldb::Status s =
      db()->Get(leveldb::ReadOptions(), NameKey(name.lookup(), kMainGrid), &value);
  if (s.ok()) {
    auto base = DecodeNameEntry(name.lookup(), value);
    if (!base.ok()) return base.status();
    records.push_back(std::move(base).value());
  } else if (!s.IsNotFound()) {
    return FromLevelDb(s, options_.path);
  }
  const std::string prefix = OtherGridsPrefix(name.lookup());
  std::unique_ptr<leveldb::Iterator> it(db()->NewIterator(leveldb::ReadOptions()));
  for (it->Seek(prefix);
       it->Valid() && it->key().starts_with(prefix) && records.size() < kMaxGridsListed;
       it->Next()) {
    auto record =
        DecodeNameEntry(name.lookup(), std::string_view(it->value().data(), it->value().size()));
    if (!record.ok()) return record.status();
    records.push_back(std::move(record).value());
  }
  if (!it->status().ok()) return FromLevelDb(it->status(), options_.path);
  if (records.empty()) return Status::NotFound("no entry on any grid");
  std::stable_sort(records.begin(), records.end(), [](const AvatarRecord& a, const AvatarRecord& b) {
    return (a.grid == kMainGrid) > (b.grid == kMainGrid) ||
           ((a.grid == kMainGrid) == (b.grid == kMainGrid) && a.grid < b.grid);
  });
  return records;
}

Result<AvatarRecord> LocalDb::FindKey(const Uuid& key) {
  std::string value;
  leveldb::Status s = db()->Get(leveldb::ReadOptions(), KeyKey(key), &value);
  if (!s.ok()) return FromLevelDb(s, options_.path);
  return DecodeKeyEntry(key, value);
}

Status LocalDb::Closed() const {
  return Status::Unavailable("database '" + options_.path + "' was closed after a fault");
}

Status LocalDb::Write(leveldb::WriteBatch* writes, bool sync) {
  std::shared_lock<std::shared_mutex> in_use(db_use_);
  if (!db()) return Closed();
  leveldb::WriteOptions options;
  options.sync = sync;
  Status status = FromLevelDb(db()->Write(options, writes), options_.path);
  writes_.Bump();
  return status;
}

Status LocalDb::Scan(char prefix,
                     const std::function<Status(std::string_view, std::string_view)>& visit) {
  // Held across visit, which may look up (the exporter does): a second
  // shared lock by the same thread, which pthread rwlocks (under
  // std::shared_mutex) allow and grant even while a reopen waits.
  std::shared_lock<std::shared_mutex> in_use(db_use_);
  if (!db()) return Closed();
  leveldb::ReadOptions options;
  options.fill_cache = false;  // a full pass must not evict what lookups use
  std::unique_ptr<leveldb::Iterator> it(db()->NewIterator(options));
  for (it->Seek(std::string(1, prefix)); it->Valid() && it->key()[0] == prefix; it->Next()) {
    const leveldb::Slice key = it->key(), value = it->value();
    Status s = visit(std::string_view(key.data() + 1, key.size() - 1),
                     std::string_view(value.data(), value.size()));
    if (!s.ok()) return s;
  }
  return FromLevelDb(it->status(), options_.path);
}

Status LocalDb::CompactAll() {
  std::shared_lock<std::shared_mutex> in_use(db_use_);
  if (!db()) return Closed();
  db()->CompactRange(nullptr, nullptr);
  return Status::OK();
}

}  // namespace gosl
