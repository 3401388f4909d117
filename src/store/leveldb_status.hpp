// Where LevelDB's statuses become gosl's: the one place that reads
// leveldb::Status, so its codes and texts go no further than src/store/.
#pragma once

#include <string>

#include <leveldb/status.h>

#include "gosl/status.hpp"

namespace gosl {

// OK, kNotFound, kCorruption (naming --repair), kUnavailable (held by
// another process; no database there) or kIOError, each naming the
// database at path.
Status FromLevelDb(const leveldb::Status& status, const std::string& path);

// The same for what a file operation returned (creating, writing, syncing a
// table): a missing directory is an I/O error there, not a lookup's miss;
// the message is LevelDB's, which names the file.
Status FromLevelDbFile(const leveldb::Status& status, const std::string& path);

// True when LevelDB could not take the database's lock: another process
// holds it.
bool IsLockHeldElsewhere(const leveldb::Status& status);

}  // namespace gosl
