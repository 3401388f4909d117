#include "store/leveldb_status.hpp"

#include "store/db_files.hpp"

namespace gosl {

bool IsLockHeldElsewhere(const leveldb::Status& status) {
  return status.IsIOError() &&
         status.ToString().find("/" + std::string(db_files::kLockName)) != std::string::npos;
}

Status FromLevelDbFile(const leveldb::Status& s, const std::string& path) {
  if (s.ok() || s.IsCorruption()) return FromLevelDb(s, path);
  return Status::IOError(s.ToString());  // LevelDB's text names the file
}

Status FromLevelDb(const leveldb::Status& s, const std::string& path) {
  if (s.ok()) return Status::OK();
  std::string text = s.ToString();
  if (s.IsNotFound()) return Status::NotFound(text);
  if (s.IsCorruption()) {
    return Status::Corruption("database '" + path + "' is damaged (stop the service and run " +
                              "gosl-basics.fcgi --repair): " + text);
  }
  if (text.find("/" + std::string(db_files::kLockName)) != std::string::npos) {
    return Status::Unavailable("database '" + path + "' is in use by another process");
  }
  if (s.IsInvalidArgument() && text.find("does not exist") != std::string::npos) {
    return Status::Unavailable("no database at '" + path + "'");
  }
  return Status::IOError("database '" + path + "': " + text);
}

}  // namespace gosl
