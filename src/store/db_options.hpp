// How the database is tuned: table and block sizes, and the caches sized from
// the memory budget (docs/storage.md, "Memory"). Every LevelDB open, repair
// and bulk load takes its options from here.
#pragma once

#include <cstddef>
#include <memory>

#include <leveldb/options.h>

namespace leveldb {
class FilterPolicy;
}  // namespace leveldb

namespace gosl {

// Larger tables than LevelDB's 2 MB: a 10 M-record database then fits in
// ~100 files, all of them kept open, so no lookup pays for reopening one.
inline constexpr size_t kTableBytes = 8 << 20;
// Half LevelDB's 4 KB: a lookup that misses the cache reads and decompresses
// half as much (10 M records: 4.7 instead of 5.5 us median), for ~3 % more
// index memory and disk.
inline constexpr size_t kBlockBytes = 2048;

// Table and block sizes, reading through env (null: StoreEnv()). Repair and
// adoption read every table once: through mmap that would put the whole
// database in the process's RSS.
leveldb::Options BaseOptions(leveldb::Env* env = nullptr);

class BlockCache;

// The caches of one open database, alive as long as it is.
struct DbCaches {
  std::unique_ptr<BlockCache> block_cache;
  std::unique_ptr<const leveldb::FilterPolicy> filter_policy;
  DbCaches();
  ~DbCaches();
};

// Options for serving within memory_budget_mb: the block cache gets a third,
// each of the (at most two) write buffers an eighth; Bloom filters only from
// 48 MB up (10 M records need ~25 MB of them); every table kept open within
// half the process's descriptor limit. caches receives what options point to.
leveldb::Options ServingOptions(size_t memory_budget_mb, leveldb::Env* env, DbCaches& caches);

}  // namespace gosl
