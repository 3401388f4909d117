#include "store/database.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <set>
#include <utility>

#include <leveldb/db.h>
#include <leveldb/env.h>
#include <leveldb/write_batch.h>

#include "gosl/bulk_load.hpp"
#include "gosl/logging.hpp"
#include "gosl/version.hpp"
#include "store/block_cache.hpp"
#include "store/db_files.hpp"
#include "store/leveldb_status.hpp"
#include "store/manifest.hpp"
#include "store/migrate_layout1.hpp"
#include "store/record_format.hpp"
#include "util/private_files.hpp"

namespace gosl {
namespace {

using namespace record_format;

// The layout version tells later versions which layout they read, and the
// features what was added to it that older readers ignore.
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
    refused = Status::Corruption(
        "database '" + path + "' has layout version '" + Sanitized(version, 8) +
        "', written by a newer gosl-basics; this one (" + kVersion + ") reads layout '" +
        std::string(kLayoutVersion) + "': upload the newer gosl-basics.fcgi again");
    return leveldb::Status::OK();
  }
  if (!s.ok()) return s;
  std::string features;
  s = db->Get(leveldb::ReadOptions(), std::string(kFeaturesKey), &features);
  if (s.IsNotFound()) {
    // Registrations from now on are journaled; what came before is known
    // only by being there (docs/storage.md, "Replacing a database").
    s = db->Put(leveldb::WriteOptions(), std::string(kFeaturesKey), std::string(kFeatures));
  }
  return s;
}

// Nothing of the database may be readable or lockable by the host's other
// users (docs/security.md): an older guide said chmod 644, and LevelDB
// makes its files 0644 when the umask lets it.
void MakeOwnerOnly(const std::string& path) {
  const private_files::Tightening done = private_files::MakeOwnerOnly(path);
  if (!done.tightened.empty()) {
    log::Notice("database '" + path + "': made owner-only (" +
                std::to_string(done.tightened.size()) +
                " files and directories other users of this machine could read)");
  }
  if (!done.foreign.empty()) {
    log::Warning("database '" + path + "': " + std::to_string(done.foreign.size()) +
                 " files belong to another user, who can read and lock them (first: '" +
                 done.foreign.front() + "'): upload the database as the site's user");
  }
}

// The directories open in this process: LevelDB's own check is by name,
// and one directory has two names here (its path, /proc/self/fd/N).
std::mutex open_mutex;
std::set<std::pair<dev_t, ino_t>> open_directories;  // guarded by open_mutex

bool RegisterOpen(const private_files::Identity& identity) {
  std::lock_guard<std::mutex> lock(open_mutex);
  return open_directories.emplace(identity.device, identity.inode).second;
}

void UnregisterOpen(const private_files::Identity& identity) {
  std::lock_guard<std::mutex> lock(open_mutex);
  open_directories.erase({identity.device, identity.inode});
}

}  // namespace

Result<std::unique_ptr<Database>> Database::Open(const Options& options, bool& lock_held_elsewhere) {
  lock_held_elsewhere = false;
  auto caches = std::make_unique<DbCaches>();
  leveldb::Options db_options = ServingOptions(options.memory_budget_mb, options.env, *caches);
  db_options.create_if_missing = options.create_if_missing;

  // Through the Env, as LevelDB will read it: a missing database is not an
  // unreadable one.
  leveldb::SequentialFile* current = nullptr;
  const leveldb::Status probe =
      db_options.env->NewSequentialFile(db_files::CurrentFile(options.path), &current);
  delete current;
  const std::string probe_text = probe.ToString();
  const std::string reason = probe_text.substr(probe_text.rfind(": ") + 2);
  const bool existed = probe.ok();
  if (!existed && !probe.IsNotFound() && reason != std::strerror(ENOTDIR)) {
    return Status::Unavailable("cannot read database '" + options.path + "': " + reason);
  }
  // LevelDB makes the directory and its LOCK even when it may not create
  // the database: do not let it touch anything then.
  if (!existed && !options.create_if_missing) {
    return Status::Unavailable("no database at '" + options.path +
                               "' (upload one, or make it with --import or --create)");
  }
  // LevelDB names every file by its database's path, and opens tables and
  // writes new files by that name for as long as it runs: a directory
  // renamed under it (a swap) would have it read and write the files of
  // whatever directory took the name. Through /proc/self/fd/N it follows
  // the directory itself, wherever it is moved.
  if (!existed) {
    std::error_code ec;
    std::filesystem::create_directories(options.path, ec);
  }
  const int dir_fd = ::open(options.path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) {
    return Status::Unavailable("cannot read database '" + options.path + "': " + std::strerror(errno));
  }
  const auto identity = private_files::IdentityOfFd(dir_fd);
  const std::string by_descriptor = "/proc/self/fd/" + std::to_string(dir_fd);
  struct stat through {};
  const bool follows = identity.ok() && ::stat(by_descriptor.c_str(), &through) == 0 &&
                       through.st_ino == identity->inode && through.st_dev == identity->device;
  if (!identity.ok() || !RegisterOpen(identity.value())) {
    ::close(dir_fd);
    return identity.ok() ? Status::Unavailable("database '" + options.path +
                                               "' is open in this process already")
                         : identity.status();
  }
  // A clean database is opened without writing: the MANIFEST and log are
  // appended to, not replaced and synced (2-3 ms of a fresh process's first
  // answer here, more on a host's slower disks).
  db_options.reuse_logs = existed && manifest::MayAppendLogs(follows ? by_descriptor : options.path);
  leveldb::DB* db = nullptr;
  const leveldb::Status opened =
      leveldb::DB::Open(db_options, follows ? by_descriptor : options.path, &db);
  lock_held_elsewhere = IsLockHeldElsewhere(opened);
  if (Status status = FromLevelDb(opened, options.path); !status.ok()) {
    UnregisterOpen(identity.value());
    ::close(dir_fd);
    return status;
  }
  std::unique_ptr<leveldb::DB> owned(db);
  MakeOwnerOnly(options.path);
  // A mistyped --dir would otherwise serve an empty database without a trace.
  if (!existed) log::Warning("created a new, empty database at '" + options.path + "'");
  Status refused;
  leveldb::Status layout = CheckLayout(db, options.path, refused);
  if (!layout.ok() || !refused.ok()) {
    owned.reset();
    UnregisterOpen(identity.value());
    ::close(dir_fd);
    return layout.ok() ? refused : FromLevelDb(layout, options.path);
  }
  return std::unique_ptr<Database>(new Database(options.path, std::move(caches), owned.release(),
                                                {identity->device, identity->inode}, dir_fd,
                                                follows, options.keep_counts, !existed));
}

Database::Database(std::string path, std::unique_ptr<DbCaches> caches, leveldb::DB* db,
                   DatabaseIdentity identity, int dir_fd, bool follows_moves, bool keep_counts,
                   bool created)
    : opened_at_(std::move(path)),
      caches_(std::move(caches)),
      db_(db),
      counts_(keep_counts ? std::make_unique<CountKeeper>(db, opened_at_, created) : nullptr),
      identity_(identity),
      dir_fd_(dir_fd),
      follows_moves_(follows_moves) {}

Database::~Database() {
  counts_.reset();  // a count under way reads db_
  db_.reset();  // before the caches it uses
  UnregisterOpen({identity_.device, identity_.inode});
  ::close(dir_fd_);
}

std::string Database::CurrentPath() const {
  std::error_code ec;
  const auto path = std::filesystem::read_symlink("/proc/self/fd/" + std::to_string(dir_fd_), ec);
  if (!ec && path.is_absolute()) return path.string();
  return opened_at_;
}

Result<AvatarRecord> Database::FindKey(const Uuid& key, const leveldb::Snapshot* snapshot) const {
  leveldb::ReadOptions options;
  options.snapshot = snapshot;
  std::string value;
  leveldb::Status s = db_->Get(options, KeyKey(key), &value);
  if (!s.ok()) return FromLevelDb(s, opened_at_);
  return DecodeKeyEntry(key, value);
}

Result<AvatarRecord> Database::FindNameOnGrid(std::string_view lookup, std::string_view grid,
                                              const leveldb::Snapshot* snapshot) const {
  leveldb::ReadOptions options;
  options.snapshot = snapshot;
  std::string value;
  leveldb::Status s = db_->Get(options, NameKey(lookup, grid), &value);
  if (!s.ok()) return FromLevelDb(s, opened_at_);
  return DecodeNameEntry(lookup, value);
}

Result<std::string> Database::LatestGrid(std::string_view lookup) const {
  return Get(LatestKey(lookup));
}

Result<std::vector<AvatarRecord>> Database::FindAllGrids(std::string_view lookup, size_t limit) const {
  std::vector<AvatarRecord> records;
  auto main = FindNameOnGrid(lookup, kMainGrid);
  if (main.ok()) {
    records.push_back(std::move(main).value());
  } else if (!main.status().IsNotFound()) {
    return main.status();
  }
  const std::string prefix = OtherGridsPrefix(lookup);
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(leveldb::ReadOptions()));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix) && records.size() < limit;
       it->Next()) {
    auto record = DecodeNameEntry(lookup, std::string_view(it->value().data(), it->value().size()));
    if (!record.ok()) return record.status();
    records.push_back(std::move(record).value());
  }
  if (!it->status().ok()) return FromLevelDb(it->status(), opened_at_);
  return records;
}

uint64_t Database::RegisteredAt(const Uuid& key) const {
  auto value = Get(RegisteredKey(key));
  uint64_t time_us = 0;
  if (value.ok() && DecodeRegisteredValue(value.value(), time_us)) return time_us;
  return 0;
}

Result<std::string> Database::Get(std::string_view key) const {
  std::string value;
  leveldb::Status s =
      db_->Get(leveldb::ReadOptions(), leveldb::Slice(key.data(), key.size()), &value);
  if (!s.ok()) return FromLevelDb(s, opened_at_);
  return value;
}

EntryCounts Database::Counts() const { return counts_ ? counts_->Counts() : EntryCounts(); }

Result<uint64_t> Database::RegistrationsSince(uint64_t time_us) const {
  leveldb::ReadOptions options;
  options.fill_cache = false;
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(options));
  uint64_t count = 0;
  const std::string from = JournalKey(time_us, Uuid());
  for (it->Seek(from); it->Valid() && it->key()[0] == kJournalPrefix; it->Next()) ++count;
  if (!it->status().ok()) return FromLevelDb(it->status(), opened_at_);
  return count;
}

Status Database::Write(leveldb::WriteBatch* batch, bool sync) {
  if (counts_) return counts_->Write(batch, sync);
  leveldb::WriteOptions options;
  options.sync = sync;
  return FromLevelDb(db_->Write(options, batch), opened_at_);
}

Status Database::Scan(char prefix,
                      const std::function<Status(std::string_view, std::string_view)>& visit,
                      const leveldb::Snapshot* snapshot) const {
  leveldb::ReadOptions options;
  options.fill_cache = false;  // a full pass must not evict what lookups use
  options.snapshot = snapshot;
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(options));
  for (it->Seek(std::string(1, prefix)); it->Valid() && it->key()[0] == prefix; it->Next()) {
    const leveldb::Slice key = it->key(), value = it->value();
    Status s = visit(std::string_view(key.data() + 1, key.size() - 1),
                     std::string_view(value.data(), value.size()));
    if (!s.ok()) return s;
  }
  return FromLevelDb(it->status(), opened_at_);
}

void Database::CompactAll() { db_->CompactRange(nullptr, nullptr); }

void Database::LimitBlockCache(size_t bytes) {
  BlockCache& cache = *caches_->block_cache;
  cache.Limit(bytes == 0 ? cache.capacity() : bytes);
}

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

void AddRegistration(leveldb::WriteBatch& batch, const AvatarName& name, const Uuid& key,
                     std::string_view grid, uint64_t time_us) {
  AddRecord(batch, name, key, grid);
  batch.Put(JournalKey(time_us, key), JournalValue(name.display(), grid));
  batch.Put(RegisteredKey(key), RegisteredValue(time_us));
}

}  // namespace gosl
