// The served database's block cache, lowered while a carry runs
// (src/store/block_cache.hpp).
#include <string>

#include <catch2/catch.hpp>

#include "store/block_cache.hpp"

namespace gosl {
namespace {

int deleted = 0;
void Delete(const leveldb::Slice&, void* value) {
  ++deleted;
  delete static_cast<std::string*>(value);
}

// Inserts a 1 KB block under key and releases it.
void Put(BlockCache& cache, int key) {
  const std::string name = "block-" + std::to_string(key);
  cache.Release(cache.Insert(name, new std::string(name), 1024, &Delete));
}

}  // namespace

TEST_CASE("a lowered block cache keeps at most its limit, and gets its capacity back",
          "[block_cache]") {
  deleted = 0;
  {
    BlockCache cache(1 << 20);  // LevelDB's 16 shards: 64 KB each
    for (int i = 0; i < 64; ++i) Put(cache, i);
    CHECK(cache.TotalCharge() == 64 * 1024);  // full capacity, nothing evicted
    CHECK(deleted == 0);

    cache.Limit(8 * 1024);
    CHECK(cache.TotalCharge() <= 8 * 1024);
    for (int i = 100; i < 200; ++i) {
      Put(cache, i);
      CHECK(cache.TotalCharge() <= 8 * 1024);
    }

    // A block in use when the limit is passed stays valid until released.
    leveldb::Cache::Handle* held =
        cache.Insert("held", new std::string("held"), 1024, &Delete);
    for (int i = 200; i < 220; ++i) Put(cache, i);
    CHECK(*static_cast<std::string*>(cache.Value(held)) == "held");
    cache.Release(held);

    cache.Limit(cache.capacity());
    const size_t before = cache.TotalCharge();
    const int deleted_before = deleted;
    for (int i = 300; i < 364; ++i) Put(cache, i);
    CHECK(cache.TotalCharge() == before + 64 * 1024);  // nothing dropped any more
    CHECK(deleted == deleted_before);
    leveldb::Cache::Handle* found = cache.Lookup("block-300");
    REQUIRE(found != nullptr);
    cache.Release(found);
  }
  CHECK(deleted == 64 + 100 + 1 + 20 + 64);  // every block freed once
}

}  // namespace gosl
