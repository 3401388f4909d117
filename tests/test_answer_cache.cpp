#include "store/answer_cache.hpp"

#include <catch2/catch.hpp>

#include "store/write_counter.hpp"
#include "support/temp_dir.hpp"

namespace gosl {
namespace {

const Uuid kKey = Uuid::Parse("6a6b5a13-1f6e-4c3a-9a3e-0d4c1d2e3f40").value();

PeerRequest ByName(const std::string& name, const std::string& grid = kMainGrid) {
  PeerRequest request;
  request.op = PeerOp::kFindByName;
  request.name = name;
  request.grid = grid;
  return request;
}

}  // namespace

TEST_CASE("the write counter is shared by every mapping of one database", "[answer_cache]") {
  test::TempDir dir;
  auto owner = WriteCounter::Open(dir.path());
  auto peer = WriteCounter::Open(dir.path());  // as another process maps it
  REQUIRE(owner);
  REQUIRE(peer);
  owner->Bump();
  const std::optional<uint64_t> first = peer->Load();
  REQUIRE(first);
  CHECK(owner->Load() == first);
  owner->Bump();
  CHECK(peer->Load() != first);  // a new mark: every write is seen
  CHECK(WriteCounter::Open(dir.File("missing/dir")) == nullptr);  // no directory: no sharing
}

TEST_CASE("a remembered answer is given while the counter stands still, and forgotten after a write",
          "[answer_cache]") {
  test::TempDir dir;
  auto counter = WriteCounter::Open(dir.path());
  REQUIRE(counter);
  counter->Bump();  // as an owner does on opening
  AnswerCache cache;
  const std::string question = CacheQuestion(ByName("Mini Resident"));
  std::vector<AvatarRecord> answer{{kKey, "Mini Resident", "Production"}};
  std::vector<AvatarRecord> out;

  uint64_t writes = *counter->Load();
  CHECK_FALSE(cache.Find(question, writes, out));
  cache.Store(question, writes, answer);
  REQUIRE(cache.Find(question, *counter->Load(), out));
  CHECK(out.size() == 1);
  CHECK(out[0].name == "Mini Resident");
  cache.Store(CacheQuestion(ByName("Nobody")), *counter->Load(), {});  // a miss is remembered too
  REQUIRE(cache.Find(CacheQuestion(ByName("Nobody")), *counter->Load(), out));
  CHECK(out.empty());

  counter->Bump();  // the owner wrote
  CHECK_FALSE(cache.Find(question, *counter->Load(), out));
  CHECK(cache.size() == 0);
  // An answer computed before the write is not kept after it.
  cache.Store(question, writes, answer);
  CHECK_FALSE(cache.Find(question, *counter->Load(), out));
}

TEST_CASE("the cache question holds all the answer depends on, and no more", "[answer_cache]") {
  // Spellings Second Life treats as one name are one question.
  CHECK(CacheQuestion(ByName("Mini Resident")) == CacheQuestion(ByName("mini")));
  CHECK(CacheQuestion(ByName("MINI")) == CacheQuestion(ByName("mini.resident")));
  // The caller's grid, the grid choice and a Hypergrid host change the answer.
  CHECK(CacheQuestion(ByName("mini")) != CacheQuestion(ByName("mini", "OSGrid")));
  PeerRequest only = ByName("mini");
  only.only_grid = true;
  CHECK(CacheQuestion(ByName("mini")) != CacheQuestion(only));
  // A Hypergrid name's host reaches the lookup as its grid (parameters.cpp):
  // the spelling of the name after the '@' changes nothing.
  CHECK(CacheQuestion(ByName("mini @z1.example.com", "z1.example.com")) ==
        CacheQuestion(ByName("mini @Z1.EXAMPLE.COM", "z1.example.com")));
  CHECK(CacheQuestion(ByName("mini", "z1.example.com")) !=
        CacheQuestion(ByName("mini", "z2.example.com")));
  PeerRequest all = ByName("mini");
  all.op = PeerOp::kFindInAllGrids;
  CHECK(CacheQuestion(ByName("mini")) != CacheQuestion(all));
  PeerRequest by_key;
  by_key.op = PeerOp::kFindByKey;
  by_key.key = kKey;
  CHECK(CacheQuestion(by_key) != CacheQuestion(ByName("mini")));
}

TEST_CASE("the cache stays within its bounds of count and bytes", "[answer_cache]") {
  AnswerCache cache;
  for (size_t i = 0; i < AnswerCache::kMaxAnswers + 10; ++i) {
    cache.Store(CacheQuestion(ByName("Name" + std::to_string(i))), 0, {});
    CHECK(cache.size() <= AnswerCache::kMaxAnswers);
  }
  CHECK(cache.size() > 0);
  // Answers of 100 grids each, the largest there are (finding 6 of issue 17:
  // 4,090 of them once grew a peer by 116 MB).
  std::vector<AvatarRecord> hundred_grids;
  for (int g = 0; g < 100; ++g) {
    hundred_grids.push_back({kKey, std::string(63, 'n'), "grid" + std::to_string(g) + std::string(50, 'g')});
  }
  for (int i = 0; i < 4090; ++i) {
    PeerRequest all = ByName("Name" + std::to_string(i));
    all.op = PeerOp::kFindInAllGrids;
    cache.Store(CacheQuestion(all), 0, hundred_grids);
    REQUIRE(cache.bytes() <= AnswerCache::kMaxBytes);
  }
  CHECK(cache.size() > 10);
}

}  // namespace gosl
