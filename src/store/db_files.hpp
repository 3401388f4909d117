// Every name in and beside the database directory, spelled once (leveldb
// db/filename.h): LevelDB's own files, the ones gosl keeps inside the
// directory (LevelDB leaves names it does not know alone), and an import's
// work directories beside it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace gosl::db_files {

// LevelDB's.
inline constexpr std::string_view kCurrentName = "CURRENT";
inline constexpr std::string_view kLockName = "LOCK";
inline constexpr std::string_view kManifestPrefix = "MANIFEST-";
std::string CurrentFile(const std::string& db);
std::string LockFile(const std::string& db);
std::string LostDir(const std::string& db);  // where RepairDB puts what it cannot read
// LevelDB's numbered files: "000007.ldb", "MANIFEST-000001", "000001.dbtmp".
std::string TableFile(const std::string& db, uint64_t number);
std::string ManifestFile(const std::string& db, uint64_t number);
std::string TempFile(const std::string& db, uint64_t number);

// gosl's, inside the database directory.
std::string WriteCounterFile(const std::string& db);  // every process maps it (answer caches)
std::string RateTableFile(const std::string& db);     // the shared registration rate limit
std::string WriteProbeFile(const std::string& db);    // written and removed: can the disk take writes?

// gosl's, beside the database: they belong to its path, which survives a
// swap of the directory (path_lock.hpp).
std::string OwnerLockFile(const std::string& db);     // "<db>.owner": locked by the process serving the path
std::string PeerSocketFile(const std::string& db);    // "<db>.peer": where it answers the others
std::string ActivityFile(const std::string& db);      // "<db>.activity": each serving process's answers

// An import's work, beside the database so its final rename stays on one
// file system.
std::string ImportRunsDir(const std::string& db);     // sorted runs
std::string ImportStagingDir(const std::string& db);  // a new database being built
// What an import's reservation is the role of (its lock: "<db>.import.owner").
std::string ImportReservationPath(const std::string& db);

// The --shell prompt's history, in the site directory (--dir).
std::string ShellHistoryFile(const std::string& site_dir);

// A table file (.ldb, or .sst from older LevelDB versions).
bool IsTableFile(std::string_view file_name);
// A log ("000005.log"): writes not yet in a table.
bool IsLogFile(std::string_view file_name);
// A file only a LevelDB database holds (CURRENT, a MANIFEST, a table or a log).
bool IsDatabaseFile(std::string_view file_name);
// A directory that holds at least one such file.
bool HoldsDatabaseFiles(const std::string& dir);

}  // namespace gosl::db_files
