#include "store/leveldb_status.hpp"

#include <cerrno>
#include <cstring>

#include "store/db_files.hpp"

namespace gosl {

namespace {

// "lock <db>/LOCK: ..." as LevelDB's Env and ours (store_env.cpp) word it.
bool IsLockFailure(const std::string& text) {
  return text.find("lock ") != std::string::npos &&
         text.find("/" + std::string(db_files::kLockName) + ":") != std::string::npos;
}

}  // namespace

bool IsLockHeldElsewhere(const leveldb::Status& status) {
  const std::string text = status.ToString();
  return status.IsIOError() && IsLockFailure(text) &&
         (text.find(std::strerror(EAGAIN)) != std::string::npos ||
          text.find("already held by process") != std::string::npos);
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
  if (IsLockHeldElsewhere(s)) {
    return Status::Unavailable("database '" + path + "' is in use by another process");
  }
  if (IsLockFailure(text)) {
    return Status::Unavailable("cannot lock database '" + path + "': " +
                               text.substr(text.rfind(": ") + 2));
  }
  if (s.IsInvalidArgument() && text.find("does not exist") != std::string::npos) {
    return Status::Unavailable("no database at '" + path + "'");
  }
  return Status::IOError("database '" + path + "': " + text);
}

}  // namespace gosl
