// Operating the database while it is served (issue 12): a replacement (by
// the one command and by hand), a refresh (--import into the live
// database) and a backup (--export), each with three FastCGI processes
// serving and registrations and lookups arriving without pause. No request
// may fail or be answered wrongly, the new database must be answered by
// every process, and after every process is killed a fresh one must find
// every pair ever answered 200.
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <set>

#include <catch2/catch.hpp>

#include "gosl/store.hpp"
#include "../support/api_cases.hpp"
#include "../support/files.hpp"
#include "../support/keys.hpp"
#include "../support/site.hpp"
#include "../support/traffic.hpp"

namespace gosl::test {
namespace {

namespace fs = std::filesystem;
constexpr int kProcesses = 3;

// Lookups every database in these tests answers the same way.
const std::vector<std::pair<std::string, std::string>> kStable = {
    {"key=" + kLegacyKey, "Legacy Linden"},
    {"name=mini", kMiniKey},
};

// A W-Hat style file: "Upload<i> Resident" for i < count, plus the seeded
// Legacy Linden (a record the old database has too).
void WriteUpload(const std::string& path, int count) {
  std::string csv = kLegacyKey + ",Legacy Linden\n";
  for (int i = 0; i < count; ++i) csv += TestKey(i, 0x0b10ad00) + ",Upload" + std::to_string(i) + " Resident\n";
  WriteFile(path, csv);
}

// Three processes serving the seeded site, and traffic through them.
struct LiveSite {
  Site site{Site::Db::kSeeded};

  LiveSite() {
    site.Start({"--writes", "open", "--registrations-per-minute", "0"}, kProcesses);
    for (int i = 0; i < kProcesses; ++i) REQUIRE(site.Get("name=mini", {}, i).body == kMiniKey);
  }
  Traffic::Send Sender() {
    return [this](const std::string& query, int turn) { return site.Get(query, {}, turn % kProcesses); };
  }
  // Every process answers the new database's records (within a few seconds).
  bool AllAnswerUpload() {
    return WaitFor(
        [&] {
          for (int i = 0; i < kProcesses; ++i) {
            if (site.Get("name=Upload7", {}, i).body != TestKey(7, 0x0b10ad00)) return false;
          }
          return true;
        },
        10000, 20);
  }
  // Runs operation while a client registers and looks up without pause
  // (its pairs from first_group on); then every process must answer the
  // upload and no request may have failed. Returns the pairs acknowledged.
  std::vector<std::pair<std::string, std::string>> UnderTraffic(uint32_t first_group,
                                                                const std::function<void()>& operation) {
    Traffic traffic(Sender(), kStable, first_group);
    REQUIRE(WaitFor([&] { return traffic.Acknowledged().size() >= 20; }, 10000, 10));
    operation();
    CHECK(AllAnswerUpload());
    REQUIRE(WaitFor([&] { return traffic.Acknowledged().size() >= 60; }, 10000, 10));
    traffic.Stop();
    INFO(traffic.Errors());
    CHECK(traffic.error_count() == 0);
    return traffic.Acknowledged();
  }
  // After every process is killed, a fresh one finds all of these.
  void CheckAfterKill(const std::vector<std::pair<std::string, std::string>>& acknowledged) {
    for (int i = 0; i < kProcesses; ++i) site.process(i).StopWith(SIGKILL);
    site.StopAll();
    site.Start({"--writes", "open"});
    size_t missing = 0;
    std::string first_missing;
    for (const auto& [name, key] : acknowledged) {
      if (site.Get("key=" + key).body != name) {
        if (missing++ == 0) first_missing = name + " " + key;
      }
    }
    INFO(missing << " of " << acknowledged.size() << " acknowledged pairs missing; first: "
                 << first_missing);
    CHECK(missing == 0);
    CHECK(site.Get("name=Upload7").body == TestKey(7, 0x0b10ad00));
    CHECK(site.Get("key=" + kMiniKey).body == "Mini Resident");  // only the old one had it
  }
};

}  // namespace

TEST_CASE("--replace swaps a database in while three processes serve, losing nothing",
          "[integration][live]") {
  LiveSite live;
  Site& site = live.site;
  WriteUpload(site.File("upload.csv"), 20000);
  REQUIRE(site.Run({"--import", site.File("upload.csv"), "--databaseName", "slkvdb.new"}).exit_code == 0);

  const auto acknowledged = live.UnderTraffic(0x11000000, [&] {
    RunResult replaced = site.Run({"--replace", site.File("slkvdb.new")});
    INFO(replaced.err);
    CHECK(replaced.exit_code == 0);
    CHECK(replaced.err.find("replace done: carried") != std::string::npos);
  });
  CHECK_FALSE(fs::exists(site.File("slkvdb.new")));
  CHECK_FALSE(fs::exists(site.File("slkvdb.new.owner")));  // nor its lock file
  size_t kept = 0;
  for (const auto& entry : fs::directory_iterator(site.dir())) {
    const std::string name = entry.path().filename().string();
    INFO(name);
    if (name.rfind("slkvdb.replaced-", 0) != 0) continue;
    CHECK(entry.is_directory());  // no lock file beside it: nothing serves it
    ++kept;
  }
  CHECK(kept == 1);  // the replaced database, kept aside
  live.CheckAfterKill(acknowledged);
}

TEST_CASE("a database swapped in by hand is served by every process, losing nothing",
          "[integration][live]") {
  LiveSite live;
  Site& site = live.site;
  WriteUpload(site.File("upload.csv"), 20000);
  REQUIRE(site.Run({"--import", site.File("upload.csv"), "--databaseName", "slkvdb.new"}).exit_code == 0);

  const auto acknowledged = live.UnderTraffic(0x12000000, [&] {
    // docs/database.md's swap by hand: the old one aside, the new one in.
    fs::rename(site.db(), site.File("slkvdb.old"));
    fs::rename(site.File("slkvdb.new"), site.db());
    CHECK(live.AllAnswerUpload());  // at once, while the old one is still being carried
    REQUIRE(WaitFor([&] { return site.Log().find("carried ") != std::string::npos; }, 30000, 20));
  });
  live.CheckAfterKill(acknowledged);
}

TEST_CASE("--import into the live database refreshes it while three processes serve",
          "[integration][live]") {
  LiveSite live;
  Site& site = live.site;
  WriteUpload(site.File("newer.csv.tmp"), 50000);
  REQUIRE(std::system(("bzip2 -c " + site.File("newer.csv.tmp") + " > " + site.File("newer.csv.bz2"))
                          .c_str()) == 0);
  const auto acknowledged = live.UnderTraffic(0x13000000, [&] {
    RunResult refreshed = site.Run({"--import", site.File("newer.csv.bz2")});
    INFO(refreshed.err);
    CHECK(refreshed.exit_code == 0);
  });
  // A refresh keeps no copy of the old database, nor its work files.
  for (const auto& entry : fs::directory_iterator(site.dir())) {
    const std::string name = entry.path().filename().string();
    INFO(name);
    CHECK(name.find("before-refresh") == std::string::npos);
    CHECK(name.find("import-") == std::string::npos);
  }
  live.CheckAfterKill(acknowledged);
}

TEST_CASE("--export of the live database holds every pair answered before it began",
          "[integration][live]") {
  LiveSite live;
  Site& site = live.site;
  Traffic traffic(live.Sender(), kStable, 0x14000000);
  REQUIRE(WaitFor([&] { return traffic.Acknowledged().size() >= 50; }, 10000, 10));
  const auto before = traffic.Acknowledged();
  RunResult exported = site.Run({"--export", site.File("backup.csv.gz")});
  INFO(exported.err);
  REQUIRE(exported.exit_code == 0);
  REQUIRE(WaitFor([&] { return traffic.Acknowledged().size() >= before.size() + 20; }, 10000, 10));
  traffic.Stop();
  INFO(traffic.Errors());
  CHECK(traffic.error_count() == 0);

  REQUIRE(std::system(("gzip -dc " + site.File("backup.csv.gz") + " > " + site.File("backup.csv"))
                          .c_str()) == 0);
  const std::string csv = ReadFile(site.File("backup.csv"));
  // "UUID,Name", and the grid and registration time of what scripts registered.
  std::set<std::string> lines;
  for (size_t at = 0; at < csv.size();) {
    const size_t end = csv.find('\n', at);
    const std::string line = csv.substr(at, end - at);
    lines.insert(line.substr(0, line.find(',', line.find(',') + 1)));
    at = end == std::string::npos ? csv.size() : end + 1;
  }
  size_t missing = 0;
  for (const auto& [name, key] : before) missing += lines.count(key + "," + name) == 0;
  CHECK(missing == 0);
  CHECK(lines.count(kMiniKey + ",Mini Resident") == 1);
  // The backup is a database again.
  Site restored;
  REQUIRE(restored.Run({"--import", site.File("backup.csv.gz")}).exit_code == 0);
  CHECK(restored.Run({"--shell"}, before.front().second + "\n").out.find("'" + before.front().first + "'") !=
        std::string::npos);
}

TEST_CASE("an operation that cannot be done is refused naming the cause, and changes nothing",
          "[integration][live]") {
  LiveSite live;
  Site& site = live.site;
  fs::create_directories(site.File("empty"));
  fs::create_directories(site.File("not-a-db"));
  WriteFile(site.File("not-a-db/notes.txt"), "mine");
  struct Row {
    std::vector<std::string> args;
    std::string message;
  };
  const Row rows[] = {
      {{"--replace", site.File("missing")}, "no database at '" + site.File("missing") + "'"},
      {{"--replace", site.File("empty")}, "no database at '" + site.File("empty") + "'"},
      {{"--replace", site.File("not-a-db")}, "no database at '" + site.File("not-a-db") + "'"},
      {{"--replace", site.db()}, "is the database served now"},
      {{"--import", site.File("missing.csv")}, "missing.csv"},
  };
  for (const Row& row : rows) {
    INFO(row.args[0] << " " << row.args[1]);
    RunResult run = site.Run(row.args);
    CHECK(run.exit_code == 1);
    CHECK(run.err.find(row.message) != std::string::npos);
  }
  for (int i = 0; i < kProcesses; ++i) CHECK(site.Get("key=" + kLegacyKey, {}, i).body == "Legacy Linden");
  CHECK(fs::is_empty(site.File("empty")));
  CHECK(ReadFile(site.File("not-a-db/notes.txt")) == "mine");
}

}  // namespace gosl::test

namespace gosl::test {

TEST_CASE("the process serving killed while it carries: the next one resumes, nothing is lost",
          "[integration][live]") {
  Site site;
  // A database big enough for its carry to take a while.
  WriteUpload(site.File("big.csv"), 200000);
  REQUIRE(site.Run({"--import", site.File("big.csv")}).exit_code == 0);
  SeedApiDatabase(site.File("slkvdb.seed"));  // Mini and Legacy, to carry too
  WriteFile(site.File("small.csv"), kLegacyKey + ",Legacy Linden\n" + TestKey(1, 0x5a11) + ",Small One\n");
  REQUIRE(site.Run({"--import", site.File("small.csv"), "--databaseName", "slkvdb.new"}).exit_code == 0);
  site.Start({"--writes", "open", "--registrations-per-minute", "0"}, kProcesses);
  REQUIRE(site.Get("name=mini").status == 200);
  REQUIRE(site.Get("name=Mini+Resident&key=" + kMiniKey).status == 200);

  std::vector<std::pair<std::string, std::string>> acknowledged;
  {
    Traffic traffic([&](const std::string& query, int turn) { return site.Get(query, {}, 1 + turn % 2); },
                    {{"key=" + kLegacyKey, "Legacy Linden"}}, 0x15000000, 1);
    REQUIRE(WaitFor([&] { return traffic.Acknowledged().size() >= 10; }, 10000, 10));
    // The command, through process 0 (which serves the path), in the background.
    FastCgiProcess& command = site.process(site.Start({"--replace", site.File("slkvdb.new")}));
    REQUIRE(WaitFor([&] { return site.Log().find("swapped in") != std::string::npos; }, 30000, 2));
    site.process(0).StopWith(SIGKILL);  // killed in the middle of the carry
    command.Wait(30000);  // it says it lost the process doing it
    REQUIRE(WaitFor([&] { return traffic.Acknowledged().size() >= 40; }, 20000, 10));
    traffic.Stop();
    INFO(traffic.Errors());
    CHECK(traffic.error_count() == 0);
    acknowledged = traffic.Acknowledged();
  }
  CHECK(WaitFor([&] { return site.Log().find("(resumed)") != std::string::npos; }, 10000, 20));
  REQUIRE(WaitFor([&] { return site.Log().find("newer in-world registrations") != std::string::npos; },
                  60000, 50));
  for (int i = 1; i < kProcesses; ++i) site.process(i).StopWith(SIGKILL);
  site.StopAll();
  site.Start({"--writes", "open"});
  size_t missing = 0;
  for (const auto& [name, key] : acknowledged) missing += site.Get("key=" + key).body != name;
  CHECK(missing == 0);
  CHECK(site.Get("key=" + kMiniKey).body == "Mini Resident");                     // registered in the old
  CHECK(site.Get("name=Upload199999").body == TestKey(199999, 0x0b10ad00));  // imported in the old
  CHECK(site.Get("name=Small+One").body == TestKey(1, 0x5a11));                   // the new one's
}

TEST_CASE("an import killed before its swap leaves the old database serving; a rerun completes it",
          "[integration][live]") {
  LiveSite live;
  Site& site = live.site;
  WriteUpload(site.File("newer.csv"), 300000);
  FastCgiProcess& import = site.process(site.Start({"--import", site.File("newer.csv")}));
  REQUIRE(WaitFor([&] { return fs::exists(site.File("slkvdb.import-runs")); }, 30000, 2));
  import.StopWith(SIGKILL);
  for (int i = 0; i < kProcesses; ++i) {
    CHECK(site.Get("key=" + kLegacyKey, {}, i).body == "Legacy Linden");
    CHECK(site.Get("name=Upload7", {}, i).body == std::string(kNilUuidText));
  }
  RunResult rerun = site.Run({"--import", site.File("newer.csv")});
  INFO(rerun.err);
  REQUIRE(rerun.exit_code == 0);
  CHECK(live.AllAnswerUpload());
  CHECK(site.Get("key=" + kMiniKey).body == "Mini Resident");
  CHECK_FALSE(fs::exists(site.File("slkvdb.import-runs")));
  CHECK_FALSE(fs::exists(site.File("slkvdb.import-new")));
}

TEST_CASE("a second import while one runs, and a damaged database to swap in, are refused",
          "[integration][live]") {
  LiveSite live;
  Site& site = live.site;
  // A damaged one: CURRENT names a MANIFEST that is not there.
  SeedApiDatabase(site.File("damaged"));
  WriteFile(site.File("damaged/CURRENT"), "MANIFEST-999999\n");
  RunResult damaged = site.Run({"--replace", site.File("damaged")});
  CHECK(damaged.exit_code == 1);
  CHECK(damaged.err.find("is damaged") != std::string::npos);

  WriteUpload(site.File("newer.csv"), 300000);
  FastCgiProcess& first = site.process(site.Start({"--import", site.File("newer.csv")}));
  REQUIRE(WaitFor([&] { return fs::exists(site.File("slkvdb.import-runs")); }, 30000, 2));
  RunResult second = site.Run({"--import", site.File("newer.csv")});
  CHECK(second.exit_code == 1);
  CHECK(second.err.find("another import into") != std::string::npos);
  CHECK(first.Wait(120000) == 0);  // the first goes on, untouched
  CHECK(live.AllAnswerUpload());
}

}  // namespace gosl::test
