#include "store/db_options.hpp"

#include <algorithm>

#include <leveldb/filter_policy.h>

#include "store/block_cache.hpp"
#include "store/store_env.hpp"
#include "util/posix_io.hpp"

namespace gosl {
namespace {

// Every open table holds one descriptor; keep half of the process's limit
// for everything else (shared hosts often allow only 1024).
int MaxOpenFiles() {
  const size_t limit = posix::OpenFileLimit();
  if (limit == 0) return 1000;
  return static_cast<int>(std::clamp<size_t>(limit / 2, 74, 1000));
}

}  // namespace

DbCaches::DbCaches() = default;
DbCaches::~DbCaches() = default;

leveldb::Options BaseOptions(leveldb::Env* env) {
  leveldb::Options options;
  options.env = env ? env : StoreEnv();
  options.info_log = StoreLog();
  options.max_file_size = kTableBytes;
  options.block_size = kBlockBytes;
  // RepairDB (--repair) keeps every table it reads open.
  options.max_open_files = MaxOpenFiles();
  return options;
}

leveldb::Options ServingOptions(size_t memory_budget_mb, leveldb::Env* env, DbCaches& caches) {
  const size_t budget = std::max<size_t>(memory_budget_mb, 4) << 20;
  caches.block_cache = std::make_unique<BlockCache>(budget / 3);
  if (memory_budget_mb >= 48) caches.filter_policy.reset(leveldb::NewBloomFilterPolicy(10));

  leveldb::Options options = BaseOptions(env);
  options.block_cache = caches.block_cache.get();
  options.filter_policy = caches.filter_policy.get();
  options.write_buffer_size = std::clamp<size_t>(budget / 8, 1 << 20, 64 << 20);
  return options;
}

}  // namespace gosl
