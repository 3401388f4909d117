// The block cache of a served database, whose limit can be lowered for a
// while: during a carry the process holds two databases (the index blocks
// of both, ~8 MB each at 10 M records), and gives up most of the cache to
// stay within its memory budget. LevelDB's LRU cache cannot be resized, so
// above a lowered limit the blocks not in use are all dropped at once.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>

#include <leveldb/cache.h>

namespace gosl {

class BlockCache final : public leveldb::Cache {
 public:
  explicit BlockCache(size_t capacity);
  ~BlockCache() override;

  size_t capacity() const { return capacity_; }
  // At most bytes from now on (capacity() to end it).
  void Limit(size_t bytes);

  Handle* Insert(const leveldb::Slice& key, void* value, size_t charge,
                 void (*deleter)(const leveldb::Slice& key, void* value)) override;
  Handle* Lookup(const leveldb::Slice& key) override { return lru_->Lookup(key); }
  void Release(Handle* handle) override { lru_->Release(handle); }
  void* Value(Handle* handle) override { return lru_->Value(handle); }
  void Erase(const leveldb::Slice& key) override { lru_->Erase(key); }
  uint64_t NewId() override { return lru_->NewId(); }
  void Prune() override { lru_->Prune(); }
  size_t TotalCharge() const override { return lru_->TotalCharge(); }

 private:
  const size_t capacity_;
  const std::unique_ptr<leveldb::Cache> lru_;
  std::atomic<size_t> limit_;
};

}  // namespace gosl
