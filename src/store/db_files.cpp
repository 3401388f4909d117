#include "store/db_files.hpp"

#include <cstdio>
#include <filesystem>

namespace gosl::db_files {
namespace {

bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

std::string Inside(const std::string& dir, std::string_view name) {
  std::string path = dir;
  path += '/';
  path.append(name);
  return path;
}

// leveldb db/filename.cc: a file number in six digits at least.
std::string Numbered(uint64_t number) {
  char digits[24];
  std::snprintf(digits, sizeof digits, "%06llu", static_cast<unsigned long long>(number));
  return digits;
}

}  // namespace

std::string TableFile(const std::string& db, uint64_t number) {
  return Inside(db, Numbered(number) + ".ldb");
}
std::string ManifestFile(const std::string& db, uint64_t number) {
  return Inside(db, std::string(kManifestPrefix) + Numbered(number));
}
std::string TempFile(const std::string& db, uint64_t number) {
  return Inside(db, Numbered(number) + ".dbtmp");
}
std::string CurrentFile(const std::string& db) { return Inside(db, kCurrentName); }
std::string LockFile(const std::string& db) { return Inside(db, kLockName); }
std::string LostDir(const std::string& db) { return Inside(db, "lost"); }
std::string WriteCounterFile(const std::string& db) { return Inside(db, "GOSL-WRITES"); }
std::string RateTableFile(const std::string& db) { return Inside(db, "GOSL-RATES"); }
std::string WriteProbeFile(const std::string& db) { return Inside(db, "GOSL-PROBE"); }
std::string OwnerLockFile(const std::string& db) { return db + ".owner"; }
std::string PeerSocketFile(const std::string& db) { return db + ".peer"; }
std::string ActivityFile(const std::string& db) { return db + ".activity"; }
std::string ImportRunsDir(const std::string& db) { return db + ".import-runs"; }
std::string ImportStagingDir(const std::string& db) { return db + ".import-new"; }
std::string ImportReservationPath(const std::string& db) { return db + ".import"; }
std::string ShellHistoryFile(const std::string& site_dir) { return Inside(site_dir, ".gosl_history"); }

bool IsTableFile(std::string_view file_name) {
  return EndsWith(file_name, ".ldb") || EndsWith(file_name, ".sst");
}

bool IsLogFile(std::string_view file_name) { return EndsWith(file_name, ".log"); }

bool IsDatabaseFile(std::string_view file_name) {
  return file_name == kCurrentName || file_name.substr(0, kManifestPrefix.size()) == kManifestPrefix ||
         IsTableFile(file_name) || IsLogFile(file_name);
}

bool HoldsDatabaseFiles(const std::string& dir) {
  std::error_code listing;
  for (std::filesystem::directory_iterator it(dir, listing), end; !listing && it != end;
       it.increment(listing)) {
    if (IsDatabaseFile(it->path().filename().string())) return true;
  }
  return false;
}

}  // namespace gosl::db_files
