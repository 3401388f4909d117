// Layout 1 (version 0.2.0) kept one 'n' entry per name, of whatever grid
// recorded it last; layout 2 keeps every grid's (docs/storage.md).
#pragma once

#include <cstddef>

#include <leveldb/status.h>

namespace leveldb {
class DB;
}

namespace gosl {

// Moves every name entry of a grid other than the main one to its per-grid
// key, points 'l' at its grid, then marks the database layout 2. Answers stay
// the same throughout; run once, on the first open. moved: names moved.
leveldb::Status MigrateFromLayout1(leveldb::DB* db, size_t& moved);

}  // namespace gosl
