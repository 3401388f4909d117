#include "store/local_db.hpp"

#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <algorithm>

#include <leveldb/db.h>
#include <leveldb/env.h>
#include <leveldb/write_batch.h>

#include "gosl/logging.hpp"
#include "store/db_files.hpp"
#include "store/db_options.hpp"
#include "store/record_format.hpp"
#include "util/private_files.hpp"
#include "util/quiet_thread.hpp"

namespace gosl {
namespace {

// A closed database's blocks were freed in small pieces among others: give
// their pages back to the system, or the process keeps its peak for good.
void GiveBackFreedPages() { ::malloc_trim(0); }

namespace fs = std::filesystem;
using namespace record_format;

// Reopening writes a new log, a MANIFEST and perhaps a table of what the
// old log held: on a disk that cannot take this much it would fail and
// leave nothing to read from.
constexpr size_t kReopenProbeBytes = 1 << 20;
// A swap by hand is seen by the next request this long after it at most.
constexpr int64_t kPathCheckUs = 100 * 1000;
// A carry that failed (a full disk) is tried again after this.
constexpr std::chrono::seconds kCarryRetry{10};

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// "20261127-071500": for the names of replaced directories.
std::string Timestamp() {
  const std::time_t now = std::time(nullptr);
  std::tm parts{};
  gmtime_r(&now, &parts);
  char text[32];
  std::strftime(text, sizeof text, "%Y%m%d-%H%M%S", &parts);
  return text;
}

DatabaseIdentity ToIdentity(const private_files::Identity& identity) {
  return {identity.device, identity.inode};
}

// Where a directory with this identity is now: at the path it had, or beside
// the database under another name (it was renamed again since).
std::string FindDirectory(const CarryFrom& from, const std::string& db) {
  const DatabaseIdentity wanted{from.device, from.inode};
  auto at_path = private_files::IdentityOf(from.path);
  if (at_path.ok() && ToIdentity(at_path.value()) == wanted) return from.path;
  std::error_code ec;
  for (fs::directory_iterator it(fs::path(db).parent_path(), ec), end; !ec && it != end;
       it.increment(ec)) {
    auto identity = private_files::IdentityOf(it->path().string());
    if (identity.ok() && ToIdentity(identity.value()) == wanted) return it->path().string();
  }
  return "";
}

}  // namespace

LocalDb::LocalDb(const StoreOptions& options, SharedWriteCounter& writes)
    : options_(options), writes_(writes) {}

LocalDb::~LocalDb() {
  stop_carry_ = true;
  carry_done_.notify_all();
  if (carrier_.joinable()) carrier_.join();
}

Status LocalDb::Open(bool& lock_held_elsewhere) {
  lock_held_elsewhere = false;
  if (is_open()) return Status::OK();
  std::lock_guard<std::mutex> opening(open_mutex_);
  if (is_open()) return Status::OK();
  // The router's own call: the one way back after a hand-over.
  const bool was_released = released_.exchange(false);
  Status opened = OpenLocked(lock_held_elsewhere);
  if (!opened.ok() && was_released) released_ = true;
  return opened;
}

bool LocalDb::Releasable() const {
  std::shared_lock<std::shared_mutex> in_use(state_);
  return ReleasableLocked();
}

bool LocalDb::ReleasableLocked() const {
  // Another reference (an export, a count) would keep LevelDB's lock.
  return is_open() && !predecessor_ && current_ && current_.use_count() == 1;
}

bool LocalDb::Release() {
  std::lock_guard<std::mutex> opening(open_mutex_);
  std::shared_ptr<Database> closing;
  {
    std::unique_lock<std::shared_mutex> exclusive(state_);
    if (!ReleasableLocked()) return false;
    // Before the lookups and registrations waiting for the lock find it
    // gone: the router sends them on to the next holder.
    released_ = true;
    open_ = false;
    closing = std::move(current_);
  }
  closing.reset();  // the last reference: LevelDB closes, its lock goes
  path_lock_.reset();
  return true;
}

Status LocalDb::OpenLocked(bool& lock_held_elsewhere) {
  lock_held_elsewhere = false;
  // Handed over: a retry after a fault must not take it back (Open() may).
  if (released_.load()) return HandedOver();
  if (!path_lock_) {
    auto lock = PathLock::Take(options_.path);
    if (!lock.ok()) {
      lock_held_elsewhere = lock.status().code() == Code::kUnavailable;
      return lock.status();
    }
    path_lock_ = std::move(lock).value();
  }
  bool held = false;
  auto db = Database::Open({options_.path, options_.memory_budget_mb, options_.create_if_missing,
                            options_.env},
                           held);
  if (!db.ok()) {
    // Another program holds the directory (a 0.2.0 process takes only
    // LevelDB's lock): this process is not the one serving it.
    lock_held_elsewhere = held;
    path_lock_.reset();
    return db.status();
  }
  writes_.OpenOnce();  // before the process is seen as the one serving
  {
    std::unique_lock<std::shared_mutex> exclusive(state_);
    current_ = std::move(db).value();
  }
  open_ = true;
  if (closed_after_fault_) {
    closed_after_fault_ = false;
    log::Notice("database '" + options_.path + "' reopened after a failed write");
  }
  // A previous owner may have died between a write and its mark: peers'
  // caches may hold an answer older than that write.
  writes_.Bump();
  ResumeCarry();
  return Status::OK();
}

void LocalDb::ResumeCarry() {
  if (predecessor_) return;
  auto marker = current_->Get(kCarryFromKey);
  if (!marker.ok()) return;
  CarryFrom from;
  const std::string where = DecodeCarryFrom(marker.value(), from) ? FindDirectory(from, options_.path) : "";
  auto lock = where.empty() ? Result<std::unique_ptr<PathLock>>(Status::NotFound(""))
                            : PathLock::Take(where);
  auto old = lock.ok() ? OpenAt(where, /*carried=*/true)
                       : Result<std::unique_ptr<Database>>(lock.status());
  if (!old.ok()) {
    log::Warning("database '" + options_.path + "': the database it replaced ('" +
                 Sanitized(from.path, 200) + "') is gone or cannot be opened; what it held and " +
                 "this one lacks is not carried");
    leveldb::WriteBatch clear;
    clear.Delete(std::string(kCarryFromKey));
    if (!current_->Write(&clear, /*sync=*/true).ok()) return;
    return;
  }
  log::Notice("database '" + options_.path + "': carrying what '" + where +
              "' knew that this one lacks (resumed)");
  {
    std::unique_lock<std::shared_mutex> exclusive(state_);
    predecessor_ = std::move(old).value();
  }
  predecessor_lock_ = std::move(lock).value();
  // A refresh's old database is removed once carried, a replaced one kept.
  StartCarrying(/*refresh=*/where.find(".before-refresh-") != std::string::npos);
}

void LocalDb::StartCarrying(bool refresh) {
  // Two databases open, the index blocks of both in memory: the served one
  // gives up most of its block cache until the carry is done.
  current_->LimitBlockCache(kCarryingCacheBytes);
  if (carrier_.joinable()) carrier_.join();
  carrier_ = QuietThread(
      [this, predecessor = predecessor_, refresh] { CarryLoop(predecessor, refresh); });
}

DatabaseIdentity LocalDb::FollowPath(bool force) {
  const int64_t now = NowUs();
  int64_t next = next_path_check_us_.load();
  DatabaseIdentity served;
  {
    std::shared_lock<std::shared_mutex> in_use(state_);
    if (!current_) return served;
    served = current_->identity();
  }
  if (!force &&
      (now < next || !next_path_check_us_.compare_exchange_strong(next, now + kPathCheckUs))) {
    return served;
  }
  auto at_path = private_files::IdentityOf(options_.path);
  // Missing: between the two renames of a swap by hand. The next look sees.
  if (!at_path.ok() || ToIdentity(at_path.value()) == served) return served;

  std::lock_guard<std::mutex> opening(open_mutex_);
  if (!current_ || ToIdentity(at_path.value()) == current_->identity()) return served;
  if (predecessor_ || ToIdentity(at_path.value()) == refused_identity_) return current_->identity();
  const std::string old_path = current_->CurrentPath();
  // Lookups wait the few milliseconds this takes: without /proc the served
  // database would meanwhile read the new directory's files by its names.
  std::unique_lock<std::shared_mutex> exclusive(state_);
  std::shared_ptr<Database> old = std::move(current_);
  if (!old->follows_moves()) old = ForCarrying(std::move(old), old_path);
  auto fresh = OpenAt(options_.path);
  if (!fresh.ok()) {
    refused_identity_ = ToIdentity(at_path.value());
    log::Error("database '" + options_.path + "' was replaced by a directory that cannot be " +
               "served (" + fresh.status().message() + "); the one moved to '" + old_path +
               "' is served meanwhile");
    current_ = std::move(old);
    return current_ ? current_->identity() : served;
  }
  if (old) {
    log::Notice("database '" + options_.path + "' was replaced: serving the new one, carrying " +
                "what the one now at '" + old_path + "' knew that it lacks");
    if (Status marked = MarkCarryFrom(*fresh.value(), old->identity(), old_path); !marked.ok()) {
      log::Error("database '" + options_.path + "': " + marked.message());
    }
    if (old->follows_moves()) old = ForCarrying(std::move(old), old_path);
  }
  if (!old) {
    log::Error("database '" + options_.path + "' was replaced; the one moved to '" + old_path +
               "' cannot be opened there: what it knew is not carried");
  }
  TakeOver(std::move(fresh).value(), std::move(old), old_path, false);
  return current_->identity();
}

Result<std::unique_ptr<Database>> LocalDb::OpenAt(const std::string& path, bool carried) const {
  bool held = false;
  // A database being carried from is read once through, and looked up
  // only for what the new one lacks: the least cache there is, so that the
  // serving process stays within its budget with two databases open.
  return Database::Open({path, carried ? kCarriedBudgetMb : options_.memory_budget_mb, false,
                         options_.env, /*keep_counts=*/!carried},
                        held);
}

std::shared_ptr<Database> LocalDb::ForCarrying(std::shared_ptr<Database> old,
                                               const std::string& old_path) const {
  if (old.use_count() != 1) return old;  // an export still reads it: as it is
  old.reset();
  GiveBackFreedPages();  // its cache, before two databases are open
  auto reopened = OpenAt(old_path, /*carried=*/true);
  if (reopened.ok()) return std::move(reopened).value();
  log::Error("database '" + options_.path + "': the replaced one cannot be opened at '" + old_path +
             "': " + reopened.status().message());
  return nullptr;
}

// Written before the swap: a process that dies in the middle leaves the
// next one the marker, and it carries again.
Status LocalDb::MarkCarryFrom(Database& fresh, const DatabaseIdentity& old_identity,
                              const std::string& old_path) {
  leveldb::WriteBatch marker;
  marker.Put(std::string(kCarryFromKey),
             EncodeCarryFrom({old_identity.device, old_identity.inode, old_path}));
  return fresh.Write(&marker, /*sync=*/true);
}

void LocalDb::TakeOver(std::shared_ptr<Database> fresh, std::shared_ptr<Database> old,
                       const std::string& old_path, bool refresh) {
  auto old_lock = old ? PathLock::Take(old_path) : Result<std::unique_ptr<PathLock>>(Status::NotFound(""));
  predecessor_ = std::move(old);
  current_ = std::move(fresh);
  predecessor_lock_ = old_lock.ok() ? std::move(old_lock).value() : nullptr;
  refused_identity_ = {};
  // Peers find the new directory's mark file at the path: they forget.
  writes_.Bump();
  if (predecessor_) StartCarrying(refresh);
}

Result<std::string> LocalDb::SwapIn(const std::string& new_dir_given, bool refresh) {
  const std::string new_dir = fs::absolute(new_dir_given).lexically_normal().string();
  uint64_t finished_before = 0;
  {
    std::lock_guard<std::mutex> waiting(carry_mutex_);
    finished_before = carries_finished_;
  }
  {
    std::lock_guard<std::mutex> opening(open_mutex_);
    if (!current_) return Status::Unavailable("database '" + options_.path + "' is not open");
    if (predecessor_) {
      return Status::Unavailable("'" + predecessor_->CurrentPath() + "' is still being carried " +
                                 "into the database: try again when the log says it is done");
    }
    auto new_identity = private_files::IdentityOf(new_dir);
    if (new_identity.ok() && ToIdentity(new_identity.value()) == current_->identity()) {
      return Status::InvalidArgument("'" + new_dir + "' is the database served now");
    }
    // Two databases are about to be open: the served one gives up its cache
    // first, and gets it back if the swap does not happen.
    current_->LimitBlockCache(kCarryingCacheBytes);
    GiveBackFreedPages();
    struct CacheBack {
      LocalDb& local;
      bool swapped = false;
      ~CacheBack() {
        if (!swapped && local.current_) local.current_->LimitBlockCache(0);
      }
    } cache_back{*this};
    auto new_lock = PathLock::Take(new_dir);
    if (!new_lock.ok()) return new_lock.status();
    auto fresh = OpenAt(new_dir);
    if (!fresh.ok()) return fresh.status();
    const std::string old_path =
        options_.path + (refresh ? ".before-refresh-" : ".replaced-") + Timestamp();
    if (Status marked = MarkCarryFrom(*fresh.value(), current_->identity(), old_path);
        !marked.ok()) {
      return marked;
    }
    std::shared_ptr<Database> served(std::move(fresh).value());
    // Lookups wait the few milliseconds of the swap.
    std::unique_lock<std::shared_mutex> exclusive(state_);
    const bool follow = served->follows_moves() && current_->follows_moves();
    if (!follow) {
      served.reset();  // closed before their names change (no /proc)
      current_.reset();
    }
    Status swapped = SwapDirectories(new_dir, old_path);
    if (!follow) {
      // Reopened under their new names (the old one under its own when the
      // swap failed).
      auto now_served = OpenAt(options_.path);
      if (!now_served.ok()) {
        return Status::IOError("cannot reopen the database: " + now_served.status().message());
      }
      served = std::move(now_served).value();
      if (!swapped.ok()) current_ = std::move(served);
    }
    if (!swapped.ok()) return swapped;
    cache_back.swapped = true;
    // The name it came under is gone, and so goes the lock file beside it
    // (still locked here: no one else is using it).
    std::error_code ignored;
    fs::remove(db_files::OwnerLockFile(new_dir), ignored);
    std::shared_ptr<Database> old = std::move(current_);
    old = follow ? ForCarrying(std::move(old), old_path) : nullptr;
    if (!old) {
      auto replaced = OpenAt(old_path, /*carried=*/true);
      if (replaced.ok()) old = std::move(replaced).value();
    }
    log::Notice("database '" + options_.path + "': '" + new_dir + "' swapped in; the one it " +
                "replaces is at '" + old_path + "' and is carried into it");
    TakeOver(std::move(served), std::move(old), old_path, refresh);
  }
  // The swap is done; what the old one knew follows in the background.
  std::unique_lock<std::mutex> waiting(carry_mutex_);
  carry_done_.wait(waiting, [&] { return carries_finished_ != finished_before || stop_carry_; });
  return last_carry_summary_;
}

// The path gets the new directory at once where the kernel can exchange two
// names; elsewhere (or when it cannot), by two renames.
Status LocalDb::SwapDirectories(const std::string& new_dir, const std::string& old_path) {
  if (::renameat2(AT_FDCWD, options_.path.c_str(), AT_FDCWD, new_dir.c_str(), RENAME_EXCHANGE) ==
      0) {
    if (::rename(new_dir.c_str(), old_path.c_str()) != 0) {
      log::Warning("the replaced database stays at '" + new_dir + "': " + std::strerror(errno));
    }
    return Status::OK();
  }
  if (errno != EINVAL && errno != ENOSYS) {
    return Status::IOError("cannot swap '" + new_dir + "' in: " + std::strerror(errno));
  }
  if (::rename(options_.path.c_str(), old_path.c_str()) != 0) {
    return Status::IOError("cannot move '" + options_.path + "' aside: " + std::strerror(errno));
  }
  if (::rename(new_dir.c_str(), options_.path.c_str()) != 0) {
    const int error = errno;
    ::rename(old_path.c_str(), options_.path.c_str());  // put it back
    return Status::IOError("cannot move '" + new_dir + "' in: " + std::strerror(error));
  }
  return Status::OK();
}

void LocalDb::CarryLoop(std::shared_ptr<Database> from, bool refresh) {
  const std::string from_path = from->CurrentPath();
  for (;;) {
    auto carried = Carry(*from, *this, stop_carry_);
    if (carried.ok()) {
      from.reset();
      FinishCarry(carried.value(), refresh);
      return;
    }
    if (stop_carry_) return;
    const std::string failure = "carrying '" + from_path + "' into database '" + options_.path +
                                "' failed: " + carried.status().message() +
                                " (tried again every " + std::to_string(kCarryRetry.count()) +
                                " s; lookups answer from both meanwhile)";
    log::Error(failure);
    std::unique_lock<std::mutex> waiting(carry_mutex_);
    last_carry_summary_ = failure;
    ++carries_finished_;  // a waiting SwapIn returns with this
    carry_done_.notify_all();
    carry_done_.wait_for(waiting, kCarryRetry, [this] { return stop_carry_.load(); });
    if (stop_carry_) return;
  }
}

void LocalDb::FinishCarry(const CarryStats& stats, bool refresh) {
  std::string old_path;
  {
    std::lock_guard<std::mutex> opening(open_mutex_);
    std::shared_ptr<Database> old;
    {
      std::unique_lock<std::shared_mutex> exclusive(state_);
      old = std::move(predecessor_);
    }
    old_path = old->CurrentPath();
    old.reset();  // closes it
    // Nothing serves the path it was carried from: its lock file goes
    // (removed while still held, so no one can take the one removed).
    std::error_code ec;
    fs::remove(db_files::OwnerLockFile(old_path), ec);
    predecessor_lock_.reset();
    leveldb::WriteBatch clear;
    clear.Delete(std::string(kCarryFromKey));
    if (Status s = current_->Write(&clear, /*sync=*/true); !s.ok()) {
      log::Error("database '" + options_.path + "': " + s.message());
    }
    current_->LimitBlockCache(0);
    GiveBackFreedPages();
    if (refresh) {
      // Everything it held is in the new one now: a refresh keeps no copy.
      fs::remove_all(old_path, ec);
    }
  }
  const std::string summary =
      "carried " + std::to_string(stats.entries) + " entries the new database lacked and " +
      std::to_string(stats.registrations) + " newer in-world registrations from '" + old_path +
      "'" + (refresh ? ", then removed it" : " (kept: remove it when you no longer want it)");
  log::Notice("database '" + options_.path + "': " + summary);
  writes_.Bump();
  std::lock_guard<std::mutex> waiting(carry_mutex_);
  last_carry_summary_ = summary;
  ++carries_finished_;
  carry_done_.notify_all();
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
  if (released_.load()) return HandedOver();
  if (!write_fault_.load()) return Status::OK();  // another thread reopened it
  write_fault_ = false;
  {
    // Lookups wait for the reopen; the carry (if any) for its next chunk.
    std::unique_lock<std::shared_mutex> exclusive(state_);
    current_.reset();
  }
  open_ = false;
  closed_after_fault_ = true;
  // When another process took the database in between, the router hands
  // this process's peers over to it at its next Open().
  bool lock_held_elsewhere = false;
  return OpenLocked(lock_held_elsewhere);
}

Status LocalDb::WithWritesHeld(const std::function<Status(Database&)>& write) {
  std::lock_guard<std::mutex> writing(write_mutex_);
  std::shared_lock<std::shared_mutex> in_use(state_);
  if (!current_) return Status::Unavailable("database '" + options_.path + "' is being reopened");
  return write(*current_);
}

Status LocalDb::Write(leveldb::WriteBatch* writes, bool sync) {
  Status status = WithWritesHeld([&](Database& db) { return db.Write(writes, sync); });
  writes_.Bump();
  return status;
}

Status LocalDb::Scan(char prefix,
                     const std::function<Status(std::string_view, std::string_view)>& visit) {
  // A copy, not the lock: a scan may take minutes, and what it reads stays
  // open however the path changes meanwhile.
  std::shared_ptr<Database> db;
  {
    std::shared_lock<std::shared_mutex> in_use(state_);
    db = current_;
  }
  if (!db) return Status::Unavailable("database '" + options_.path + "' was closed after a fault");
  return db->Scan(prefix, visit);
}

Status LocalDb::CompactAll() {
  std::shared_lock<std::shared_mutex> in_use(state_);
  if (!current_) return Status::Unavailable("database '" + options_.path + "' was closed after a fault");
  current_->CompactAll();
  return Status::OK();
}

Result<DatabaseFacts> LocalDb::Facts() {
  constexpr size_t kMostGrids = 500;  // the rest are summed up: the answer stays small
  std::shared_ptr<Database> db;
  DatabaseFacts facts;
  {
    std::shared_lock<std::shared_mutex> in_use(state_);
    db = current_;
    facts.carrying = predecessor_ != nullptr;
  }
  if (!db) return Status::Unavailable("database '" + options_.path + "' is being reopened");
  // The counts are kept in memory, exact at every moment.
  const EntryCounts counts = db->Counts();
  facts.counted = counts.state == EntryCounts::State::kExact;
  facts.count_failed = counts.state == EntryCounts::State::kOff;
  facts.grids = counts.names_per_grid.size();
  std::vector<std::pair<uint64_t, std::string>> grids;
  for (const auto& [grid, count] : counts.names_per_grid) {
    grids.emplace_back(count, grid);
    facts.names += count;
  }
  std::sort(grids.begin(), grids.end(), std::greater<>());
  uint64_t others = 0;
  for (size_t i = 0; i < grids.size(); ++i) {
    if (i < kMostGrids) {
      facts.names_per_grid[grids[i].second] = grids[i].first;
    } else {
      others += grids[i].first;
    }
  }
  if (others > 0) {
    facts.names_per_grid["(" + std::to_string(grids.size() - kMostGrids) + " other grids)"] = others;
  }
  facts.registrations = counts.registrations;
  // What the journal says of the last hour, day and 30 days is read at
  // most once a second, and again at once after a registration: status=1
  // asked in a loop costs the owner nothing that matters.
  std::lock_guard<std::mutex> reading(facts_mutex_);
  const int64_t now = NowUs();
  if (!facts_ || now >= facts_until_us_ || facts_->registrations != counts.registrations ||
      facts_identity_ != db->identity()) {
    DatabaseFacts read;
    read.registrations = counts.registrations;
    const auto wall_us = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                                   std::chrono::system_clock::now().time_since_epoch())
                                                   .count());
    constexpr uint64_t kHourUs = 3600ull * 1000 * 1000;
    for (auto [hours, into] : {std::pair{1ull, &read.registrations_hour},
                               std::pair{24ull, &read.registrations_day},
                               std::pair{720ull, &read.registrations_30_days}}) {
      auto since = db->RegistrationsSince(wall_us - hours * kHourUs);
      if (!since.ok()) return since.status();
      *into = since.value();
    }
    auto layout = db->Get(kLayoutKey);
    read.layout = layout.ok() ? layout.value() : "";
    auto last_import = db->Get(kLastImportKey);
    ImportFacts imported;
    if (last_import.ok() && DecodeImportFacts(last_import.value(), imported)) read.last_import = imported;
    facts_ = std::move(read);
    facts_until_us_ = now + 1000 * 1000;
    facts_identity_ = db->identity();
  }
  facts.registrations_hour = facts_->registrations_hour;
  facts.registrations_day = facts_->registrations_day;
  facts.registrations_30_days = facts_->registrations_30_days;
  facts.layout = facts_->layout;
  facts.last_import = facts_->last_import;
  return facts;
}

uint64_t LocalDb::NextRegistrationTime() {
  const auto now = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                              std::chrono::system_clock::now().time_since_epoch())
                                              .count());
  // Strictly increasing here, so two registrations never share a time.
  last_registration_us_ = std::max(now, last_registration_us_ + 1);
  return last_registration_us_;
}

}  // namespace gosl
