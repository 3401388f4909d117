// Faults of the disk under a serving store, injected through LevelDB's Env
// (support/fault_env.hpp) so they run as any user, every time: each answers
// 503 with a one-line reason naming the cause, is logged once, and passes by
// itself when its cause does. The same faults on real files, through the
// real binary, are in integration/test_faults.cpp.
#include <cerrno>
#include <filesystem>

#include <catch2/catch.hpp>
#include <leveldb/db.h>

#include "gosl/dispatcher.hpp"
#include "gosl/logging.hpp"
#include "support/api_cases.hpp"
#include "support/fault_env.hpp"
#include "support/keys.hpp"
#include "support/files.hpp"
#include "support/temp_dir.hpp"

namespace gosl {
namespace {

// A database seeded with the API records, written into table files so that
// lookups read them through the Env, served by a store on a FaultEnv, and
// a log to count what it says.
struct FaultySite {
  test::TempDir dir;
  const std::string db = dir.File("slkvdb");
  test::FaultEnv env;
  std::unique_ptr<Store> store;

  FaultySite() {
    test::SeedApiDatabase(db);
    leveldb::DB* raw = nullptr;
    REQUIRE(leveldb::DB::Open(leveldb::Options(), db, &raw).ok());
    raw->CompactRange(nullptr, nullptr);
    delete raw;
    REQUIRE(log::SetUp({dir.File("gosl.log"), 1 << 20, 1, log::Level::kInfo, false}).ok());
    StoreOptions options{db};
    options.create_if_missing = false;
    options.env = &env;
    store = std::make_unique<Store>(options);
  }
  ~FaultySite() {
    store.reset();
    log::ShutDown();
  }

  Response Get(const std::string& query) {
    Request request;
    request.query = query;
    return Handle(request, *store);
  }
  size_t Logged(const std::string& text) {
    return test::CountLinesWith(test::ReadFile(dir.File("gosl.log")), text);
  }
};

}  // namespace

TEST_CASE("a full disk (injected): registrations get 503, lookups go on, writes resume after",
          "[store][faults]") {
  FaultySite s;
  REQUIRE(s.Get("name=mini").body == test::kMiniKey);
  REQUIRE(s.Get("name=Before+Full&key=" + test::kUnknownKey).status == 200);

  s.env.FailWrites(ENOSPC);
  for (int i = 0; i < 3; ++i) {
    Response reply = s.Get("name=Full+Disk" + std::to_string(i) + "&key=" + test::TestKey(i, 0x12345678));
    INFO(reply.body);
    CHECK(reply.status == 503);
    CHECK(reply.body.find("No space left on device") != std::string::npos);
    CHECK(reply.body.find('\n') == std::string::npos);
  }
  CHECK(s.env.refused_writes() >= 3);
  CHECK(s.Get("key=" + test::kUnknownKey).body == "Before Full");  // reads need no space
  CHECK(s.Get("name=mini").body == test::kMiniKey);

  s.env.FailWrites(0);
  CHECK(s.Get("name=After+Full&key=" + test::kMiniKey).status == 200);
  CHECK(s.Get("key=" + test::kMiniKey).body == "After Full");
  CHECK(s.Get("key=" + test::kUnknownKey).body == "Before Full");
  CHECK(s.Get("key=" + test::TestKey(0, 0x12345678)).body.empty());  // a refused registration left nothing
  CHECK(s.Logged("No space left on device (answering 503") == 1);
  CHECK(s.Logged("reopened after a failed write") == 1);
  CHECK(s.Logged("answers again") == 1);
}

TEST_CASE("read errors (injected): lookups get 503 naming the cause, and answer again after",
          "[store][faults]") {
  FaultySite s;
  s.env.FailReads(EIO);
  for (int i = 0; i < 3; ++i) {
    Response reply = s.Get("name=mini");
    CHECK(reply.status == 503);
    CHECK(reply.body.find("Input/output error") != std::string::npos);
  }
  s.env.FailReads(0);
  CHECK(s.Get("name=mini").body == test::kMiniKey);
  CHECK(s.Get("key=" + test::kLegacyKey).body == "Legacy Linden");
  CHECK(s.Logged("Input/output error (answering 503") == 1);
  CHECK(s.Logged("answers again") == 1);
}

TEST_CASE("an unreadable database (injected) answers 503 and is served once readable again",
          "[store][faults]") {
  FaultySite s;
  s.env.FailOpens(EACCES);
  for (int i = 0; i < 3; ++i) {
    Response reply = s.Get("name=mini");
    CHECK(reply.status == 503);
    CHECK(reply.body == "cannot read database '" + s.db + "': Permission denied");
  }
  s.env.FailOpens(0);
  CHECK(s.Get("name=mini").body == test::kMiniKey);
  CHECK(s.Logged("ERROR cannot read database '" + s.db + "': Permission denied") == 1);
  CHECK(s.Logged("NOTICE database '" + s.db + "' answers again") == 1);
}

TEST_CASE("damaged table bytes (injected) answer 503 naming --repair, never a wrong answer",
          "[store][faults]") {
  FaultySite s;
  s.env.DamageReads(true);
  for (const char* query : {"name=mini", "key=6a6b5a13-1f6e-4c3a-9a3e-0d4c1d2e3f40"}) {
    Response reply = s.Get(query);
    INFO(query << ": " << reply.body);
    CHECK(reply.status == 503);
    CHECK(reply.body.find("is damaged (stop the service and run gosl-basics.fcgi --repair)") !=
          std::string::npos);
  }
  s.env.DamageReads(false);
  CHECK(s.Get("name=mini").body == test::kMiniKey);
  CHECK(s.Logged("is damaged") == 1);
}

TEST_CASE("a full disk (injected) refuses a database swapped in, and changes nothing",
          "[store][faults][live]") {
  FaultySite s;
  const std::string upload = s.dir.File("slkvdb.new");
  {
    StoreOptions options{upload};
    Store fresh(options);
    REQUIRE(fresh.Record(AvatarName::Parse("Only New").value(), Uuid::Parse(test::kUnknownKey).value(),
                         kMainGrid)
                .ok());
  }
  REQUIRE(s.Get("name=Before+Swap&key=" + test::TestKey(1, 0x5a0)).status == 200);

  s.env.FailWrites(ENOSPC);
  auto refused = s.store->SwapIn(upload, /*refresh=*/false);
  REQUIRE_FALSE(refused.ok());
  INFO(refused.status().message());
  CHECK(refused.status().message().find("No space left on device") != std::string::npos);
  CHECK(std::filesystem::exists(upload + "/CURRENT"));  // still where it was
  CHECK(s.Get("name=mini").body == test::kMiniKey);      // the old one serves
  CHECK(s.Get("name=Only+New").body == std::string(kNilUuidText));

  s.env.FailWrites(0);  // space again: the same swap goes through
  auto swapped = s.store->SwapIn(upload, /*refresh=*/false);
  INFO((swapped.ok() ? swapped.value() : swapped.status().message()));
  REQUIRE(swapped.ok());
  CHECK(s.Get("name=Only+New").body == test::kUnknownKey);
  CHECK(s.Get("name=Before+Swap").body == test::TestKey(1, 0x5a0));  // carried
  CHECK(s.Get("name=mini").body == test::kMiniKey);
}

}  // namespace gosl
