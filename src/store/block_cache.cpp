#include "store/block_cache.hpp"

namespace gosl {

BlockCache::BlockCache(size_t capacity)
    : capacity_(capacity), lru_(leveldb::NewLRUCache(capacity)), limit_(capacity) {}

BlockCache::~BlockCache() = default;

void BlockCache::Limit(size_t bytes) {
  limit_ = bytes;
  if (lru_->TotalCharge() > bytes) lru_->Prune();
}

leveldb::Cache::Handle* BlockCache::Insert(const leveldb::Slice& key, void* value, size_t charge,
                                           void (*deleter)(const leveldb::Slice& key, void* value)) {
  Handle* inserted = lru_->Insert(key, value, charge, deleter);
  // Only a cache miss inserts: checking the charge here costs lookups that
  // hit nothing. The block just inserted is in use and stays.
  const size_t limit = limit_.load(std::memory_order_relaxed);
  if (limit < capacity_ && lru_->TotalCharge() > limit) lru_->Prune();
  return inserted;
}

}  // namespace gosl
