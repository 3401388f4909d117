// RepairDatabase and AdoptTables (bulk_load.hpp): a MANIFEST for the table
// files a directory holds, written by LevelDB's RepairDB after reading them
// all (a repair), or from what the sinks that wrote them know (an import).
#include <array>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <sstream>
#include <thread>

#include <leveldb/db.h>
#include <leveldb/env.h>
#include <leveldb/write_batch.h>

#include "gosl/bulk_load.hpp"
#include "store/db_files.hpp"
#include "store/db_options.hpp"
#include "store/leveldb_status.hpp"
#include "store/manifest.hpp"
#include "store/path_lock.hpp"
#include "store/record_format.hpp"
#include "store/store_env.hpp"

namespace gosl {
namespace {

// Whether LevelDB would still compact the database: its scores
// (VersionSet::Finalize in leveldb/db/version_set.cc), level 0 by its file
// count (4 start a compaction) and levels 1 to 5 by their bytes against
// 10 MB x 10^(level - 1), a score of 1 or more starting one. Read from the
// tables it lists ("--- level N ---", then " number:size[smallest .. largest]").
bool WantsCompaction(leveldb::DB* db) {
  std::string tables;
  if (!db->GetProperty("leveldb.sstables", &tables)) return false;
  std::array<uint64_t, 7> files{}, bytes{};
  int level = -1;
  std::istringstream lines(tables);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("--- level ", 0) == 0) {
      level = std::atoi(line.c_str() + 10);
      continue;
    }
    const size_t colon = line.find(':'), bracket = line.find('[');
    if (level < 0 || level >= 7 || colon == std::string::npos || bracket < colon) continue;
    ++files[level];
    bytes[level] += std::strtoull(line.c_str() + colon + 1, nullptr, 10);
  }
  if (files[0] >= 4) return true;
  double level_bytes = 10.0 * 1048576;
  for (int l = 1; l <= 5; ++l, level_bytes *= 10) {
    if (static_cast<double>(bytes[l]) >= level_bytes) return true;
  }
  return false;
}

size_t CountLostTables(const std::string& db) {
  std::error_code ec;
  size_t n = 0;
  for (std::filesystem::directory_iterator it(db_files::LostDir(db), ec), end; !ec && it != end;
       it.increment(ec)) {
    n += db_files::IsTableFile(it->path().filename().string());  // not old MANIFESTs and logs
  }
  return n;
}

}  // namespace

namespace {

class PathReservation final : public ImportReservation {
 public:
  explicit PathReservation(std::unique_ptr<PathLock> lock) : lock_(std::move(lock)) {}

 private:
  std::unique_ptr<PathLock> lock_;
};

}  // namespace

Result<std::unique_ptr<ImportReservation>> ReserveImport(const std::string& db) {
  auto lock = PathLock::Take(db_files::ImportReservationPath(db));
  if (!lock.ok()) {
    if (lock.status().code() != Code::kUnavailable) return lock.status();
    return Status::Unavailable("another import into '" + db + "' is under way: wait for it to end");
  }
  return std::unique_ptr<ImportReservation>(new PathReservation(std::move(lock).value()));
}

Status CountingSink::Add(std::string_view key, std::string_view value) {
  if (!key.empty() && key[0] == record_format::kNamePrefix) {
    const std::string_view grid = record_format::GridOfNameKey(key.substr(1));
    if (!last_count_ || grid != last_grid_) {
      last_grid_.assign(grid);
      last_count_ = &counts_.names_per_grid[last_grid_];
    }
    ++*last_count_;
  } else if (!key.empty() && key[0] == record_format::kJournalPrefix) {
    ++counts_.registrations;
    counts_.newest_journal_key.assign(key);  // keys come in order: the last is the newest
  }
  return sink_.Add(key, value);
}

Status AdoptTables(const std::string& staging_dir, const StagedTables& staged,
                   const ImportedCounts& counts, const ImportFacts& facts) {
  auto role = PathLock::Take(staging_dir);
  if (!role.ok()) return role.status();
  leveldb::Options options = BaseOptions();
  Status status = manifest::Write(staging_dir, staged.tables(), staged.next_file_number());
  if (!status.ok()) return status;
  leveldb::DB* db = nullptr;
  status = FromLevelDb(leveldb::DB::Open(options, staging_dir, &db), staging_dir);
  if (!status.ok()) return status;
  std::unique_ptr<leveldb::DB> owned(db);
  // The layout, the counts of what was imported (no registration is
  // journaled yet) and what the import was, in one batch.
  leveldb::WriteBatch facts_batch;
  facts_batch.Put(std::string(record_format::kLayoutKey), std::string(record_format::kLayoutVersion));
  for (const auto& [grid, count] : counts.names_per_grid) {
    facts_batch.Put(record_format::CountKey(grid), record_format::CountValue(count));
  }
  facts_batch.Put(std::string(record_format::kCountedKey),
                  record_format::EncodeCountedMark({counts.registrations, counts.newest_journal_key}));
  facts_batch.Put(std::string(record_format::kLastImportKey), record_format::EncodeImportFacts(facts));
  leveldb::WriteOptions sync;
  sync.sync = true;
  status = FromLevelDb(owned->Write(sync, &facts_batch), staging_dir);
  // The MANIFEST puts every table on level 0; LevelDB then moves them down
  // without rewriting them (trivial moves, as no two tables overlap). Wait
  // until it would move no more, so the directory uploaded is the settled
  // one. (Waiting instead for the levels to stand still for 200 ms was a
  // tenth of a 1 M-record import.)
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (status.ok() && WantsCompaction(db) && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return status;
}

Status RepairDatabase(const std::string& path, size_t& lost_files) {
  lost_files = 0;
  // RepairDB makes a database of any directory: an empty one (an upload
  // not done yet) must stay as it is.
  if (!db_files::HoldsDatabaseFiles(path)) return Status::Unavailable("no database at '" + path + "'");
  const size_t lost_before = CountLostTables(path);
  // No process may serve the database meanwhile (RepairDB takes no lock of
  // its own).
  auto role = PathLock::Take(path);
  if (!role.ok()) {
    if (role.status().code() != Code::kUnavailable) return role.status();
    return Status::Unavailable("database '" + path +
                               "' is in use by another process: stop the service first");
  }
  // RepairDB takes no lock of its own: hold LevelDB's, so no serving
  // process can have the database open meanwhile.
  leveldb::Env* env = StoreEnv();
  leveldb::FileLock* lock = nullptr;
  if (leveldb::Status locked = env->LockFile(db_files::LockFile(path), &lock); !locked.ok()) {
    if (!IsLockHeldElsewhere(locked)) return FromLevelDb(locked, path);
    return Status::Unavailable("database '" + path +
                               "' is in use by another process: stop the service first");
  }
  Status status = FromLevelDb(leveldb::RepairDB(path, BaseOptions()), path);
  env->UnlockFile(lock);
  if (status.ok()) {
    // A lost table took names with it: the counts kept are counted again
    // by the next process to serve (entry_counts.hpp). Still ours alone:
    // the path's role is held.
    leveldb::DB* db = nullptr;
    status = FromLevelDb(leveldb::DB::Open(BaseOptions(), path, &db), path);
    std::unique_ptr<leveldb::DB> owned(db);
    if (status.ok()) {
      leveldb::WriteOptions sync;
      sync.sync = true;
      status = FromLevelDb(owned->Delete(sync, std::string(record_format::kCountedKey)), path);
    }
  }
  lost_files = CountLostTables(path) - lost_before;
  return status;
}

}  // namespace gosl
