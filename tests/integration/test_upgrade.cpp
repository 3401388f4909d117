// Two versions serving one site (issue 16): mod_fcgid starts processes of a
// new binary while those of the old one serve on until they idle out. The
// previous release (0.2.0) is built from its commit (make previous); two
// processes of each serve one site under constant registrations and
// lookups, the old ones stop midway, and a fresh process must then find
// every pair answered 200.
#include <signal.h>
#include <unistd.h>

#include <filesystem>

#include <catch2/catch.hpp>
#include <leveldb/db.h>

#include "../support/api_cases.hpp"
#include "../support/files.hpp"
#include "../support/keys.hpp"
#include "../support/site.hpp"
#include "../support/traffic.hpp"

namespace gosl::test {
namespace {

namespace fs = std::filesystem;
const std::string kPrevious = GOSL_PREVIOUS_BINARY;

bool HavePrevious() { return access(kPrevious.c_str(), X_OK) == 0; }

const std::vector<std::string> kServing = {"--writes", "open", "--registrations-per-minute", "0"};

const std::vector<std::pair<std::string, std::string>> kStable = {
    {"key=" + kLegacyKey, "Legacy Linden"}, {"name=mini", kMiniKey}};

// Processes [0, 4): two of `first` (started first), two of `second`.
struct MixedSite {
  Site site;
  MixedSite(const std::string& first, const std::string& second) {
    // The database as the previous release writes it.
    WriteFile(site.File("seed.csv"), kMiniKey + ",Mini Resident\n" + kLegacyKey + ",Legacy Linden\n");
    REQUIRE(RunProgram(kPrevious, {"--dir", site.dir(), "--import", site.File("seed.csv")},
                       {"PATH=/usr/bin:/bin"}).exit_code == 0);
    site.StartBinary(first, kServing, 2);
    REQUIRE(site.Get("name=mini", {}, 0).body == kMiniKey);  // process 0 serves the database
    site.StartBinary(second, kServing, 2);
  }
  Traffic::Send Through(std::vector<int> processes) {
    return [this, processes](const std::string& query, int turn) {
      return site.Get(query, {}, processes[static_cast<size_t>(turn) % processes.size()]);
    };
  }
  void CheckAllFound(const std::vector<std::pair<std::string, std::string>>& acknowledged) {
    for (int i = 0; i < 4; ++i) {
      if (site.process(i).Running()) site.process(i).StopWith(SIGKILL);
    }
    site.StopAll();
    site.Start(kServing);
    size_t missing = 0;
    std::string first;
    for (const auto& [name, key] : acknowledged) {
      if (site.Get("key=" + key).body != name && missing++ == 0) first = name;
    }
    INFO(missing << " of " << acknowledged.size() << " missing, first " << first);
    CHECK(missing == 0);
  }
};

}  // namespace

TEST_CASE("old processes serving, new ones joining, the old ones stopped: nothing lost",
          "[integration][upgrade]") {
  if (!HavePrevious()) {
    WARN("not tested: no previous release at " << kPrevious << " (make previous)");
    return;
  }
  MixedSite mixed(kPrevious, GOSL_TEST_BINARY);
  std::vector<std::pair<std::string, std::string>> acknowledged;
  {
    Traffic traffic(mixed.Through({0, 1, 2, 3}), kStable, 0x31000000);
    REQUIRE(WaitFor([&] { return traffic.Acknowledged().size() >= 40; }, 20000, 10));
    {
      INFO(traffic.Errors());
      CHECK(traffic.error_count() == 0);  // both versions answering, each through the old owner
    }
    // A batch lookup through a new peer of the old owner, which knows no batch: one question at a time.
    CHECK(mixed.site.Get("names=mini%0ANobody+Here%0Alegacy.linden", {}, 2).body ==
          kMiniKey + "\n00000000-0000-0000-0000-000000000000\n" + kLegacyKey);
    CHECK(mixed.site.Get("keys=" + kLegacyKey + "%0A00000000-0000-4000-8000-000000000000", {}, 3).body ==
          "Legacy Linden\n");
    // As mod_fcgid's idle timeout ends them: SIGTERM, the old owner first.
    mixed.site.process(0).StopWith(SIGTERM);
    mixed.site.process(1).StopWith(SIGTERM);
    Traffic after(mixed.Through({2, 3}), kStable, 0x32000000);
    REQUIRE(WaitFor([&] { return after.Acknowledged().size() >= 40; }, 20000, 10));
    traffic.Stop();
    after.Stop();
    INFO(after.Errors());
    // Requests to the stopped processes fail (mod_fcgid sends none there); the others may not.
    for (const auto& pair : after.Acknowledged()) acknowledged.push_back(pair);
    for (const auto& pair : traffic.Acknowledged()) acknowledged.push_back(pair);
    CHECK(after.error_count() == 0);
  }
  // The new owner marked the journal on the old database: the previous
  // release still reads it.
  CHECK(mixed.site.Log().find("in use") == std::string::npos);
  mixed.CheckAllFound(acknowledged);
  RunResult old_reads = RunProgram(kPrevious, {"--dir", mixed.site.dir(), "--shell"}, {"PATH=/usr/bin:/bin"},
                                   acknowledged.front().second + "\n");
  CHECK(old_reads.out.find(acknowledged.front().first) != std::string::npos);
}

TEST_CASE("new processes serving, old ones joining as their peers: nothing lost, both read it",
          "[integration][upgrade]") {
  if (!HavePrevious()) {
    WARN("not tested: no previous release at " << kPrevious << " (make previous)");
    return;
  }
  MixedSite mixed(GOSL_TEST_BINARY, kPrevious);
  std::vector<std::pair<std::string, std::string>> acknowledged;
  {
    Traffic traffic(mixed.Through({0, 1, 2, 3}), kStable, 0x33000000);
    REQUIRE(WaitFor([&] { return traffic.Acknowledged().size() >= 60; }, 20000, 10));
    traffic.Stop();
    INFO(traffic.Errors());
    CHECK(traffic.error_count() == 0);
    acknowledged = traffic.Acknowledged();
  }
  // The new owner gone, an old process takes the database over: it reads
  // what the new version wrote (journal included) as before.
  mixed.site.process(0).StopWith(SIGTERM);
  mixed.site.process(1).StopWith(SIGTERM);
  {
    Traffic old_only(mixed.Through({2, 3}), kStable, 0x34000000);
    REQUIRE(WaitFor([&] { return old_only.Acknowledged().size() >= 20; }, 20000, 10));
    old_only.Stop();
    INFO(old_only.Errors());
    CHECK(old_only.error_count() == 0);
    for (const auto& pair : old_only.Acknowledged()) acknowledged.push_back(pair);
  }
  for (const auto& [name, key] : acknowledged) {
    INFO(name);
    CHECK(mixed.site.Get("key=" + key, {}, 2).body == name);
  }
  mixed.CheckAllFound(acknowledged);
}

TEST_CASE("a database of a newer layout is refused naming both versions and the fix",
          "[integration][upgrade]") {
  Site site(Site::Db::kSeeded);
  {
    leveldb::DB* raw = nullptr;
    REQUIRE(leveldb::DB::Open(leveldb::Options(), site.db(), &raw).ok());
    REQUIRE(raw->Put(leveldb::WriteOptions(), "mlayout", "3").ok());
    delete raw;
  }
  site.Start();
  HttpReply reply = site.Get("name=mini");
  CHECK(reply.status == 503);
  CHECK(reply.body == "database '" + site.db() + "' has layout version '3', written by a newer "
                      "gosl-basics; this one (0.3.0) reads layout '2': upload the newer "
                      "gosl-basics.fcgi again");
}

}  // namespace gosl::test
