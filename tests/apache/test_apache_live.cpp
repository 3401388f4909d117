// Operating the database behind a real Apache + mod_fcgid while it serves
// (issue 12): a replacement by the one command and a backup, with
// registrations and lookups arriving through Apache without pause.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <set>

#include <catch2/catch.hpp>

#include "../support/api_cases.hpp"
#include "../support/files.hpp"
#include "../support/http_client.hpp"
#include "../support/keys.hpp"
#include "../support/traffic.hpp"
#include "apache_server.hpp"

namespace gosl::test {
namespace {

ApacheOptions SeededOpen() {
  ApacheOptions options;
  options.extra_config = "FcgidMaxProcessesPerClass 4\n";
  options.prepare_database = [](const std::string& db_path) { SeedApiDatabase(db_path); };
  options.config_ini = "[options]\nwrites = open\nregistrationsPerMinute = 0\n";
  return options;
}

// A command a guide shows, word for word: the test runs what the user is
// told to run, and fails when the guide no longer says it.
std::string FromGuide(const std::string& guide, const std::string& command) {
  const std::string doc = ReadFile(std::string(GOSL_SOURCE_DIR) + "/" + guide);
  INFO(guide << " should show: " << command);
  REQUIRE(doc.find(command) != std::string::npos);
  return command;
}

Traffic::Send ThroughApache(const ApacheServer& apache) {
  return [&apache](const std::string& query, int) {
    return HttpRequest(apache.port(), "GET", apache.app_url() + "?" + query, "", {}, 30000);
  };
}

const std::vector<std::pair<std::string, std::string>> kStable = {
    {"key=" + kLegacyKey, "Legacy Linden"}, {"name=mini", kMiniKey}};

}  // namespace

TEST_CASE("--replace under Apache: every process serves the new database, nothing is lost",
          "[apache][live]") {
  ApacheServer apache(SeededOpen());
  std::string csv = kLegacyKey + ",Legacy Linden\n";
  for (int i = 0; i < 5000; ++i) csv += TestKey(i, 0x0a9ac4e0) + ",Apache" + std::to_string(i) + " Resident\n";
  WriteFile(apache.app_dir() + "/upload.csv", csv);
  RunResult built =
      apache.RunAsSiteUser({"--import", apache.app_dir() + "/upload.csv", "--databaseName", "slkvdb.new"});
  INFO(built.err);
  REQUIRE(built.exit_code == 0);

  std::vector<std::pair<std::string, std::string>> acknowledged;
  {
    Traffic traffic(ThroughApache(apache), kStable, 0x21000000, 4);
    REQUIRE(WaitFor([&] { return traffic.Acknowledged().size() >= 20; }, 20000, 10));
    // As docs/database.md says, over SSH in the binary's directory.
    RunResult replaced = apache.ShellAsSiteUser(FromGuide("docs/database.md", "./gosl-basics.fcgi --replace slkvdb.new"));
    INFO(replaced.err);
    CHECK(replaced.exit_code == 0);
    CHECK(replaced.err.find("replace done: carried") != std::string::npos);
    // Every connection, whichever process mod_fcgid hands it to.
    for (int i = 0; i < 20; ++i) {
      CHECK(HttpRequest(apache.port(), "GET", apache.app_url() + "?name=Apache7").body ==
            TestKey(7, 0x0a9ac4e0));
    }
    REQUIRE(WaitFor([&] { return traffic.Acknowledged().size() >= 80; }, 20000, 10));
    traffic.Stop();
    INFO(traffic.Errors());
    CHECK(traffic.error_count() == 0);
    acknowledged = traffic.Acknowledged();
  }
  CHECK(apache.Stop());
  // With nothing serving, the command line reads the database itself.
  std::string keys;
  for (const auto& pair : acknowledged) keys += pair.second + "\n";
  const std::string answers = apache.RunAsSiteUser({"--shell"}, keys + kMiniKey + "\n").out;
  size_t missing = 0;
  for (const auto& [name, key] : acknowledged) missing += answers.find("'" + name + "'") == std::string::npos;
  CHECK(missing == 0);
  CHECK(answers.find("'Mini Resident'") != std::string::npos);  // carried from the old one
}

TEST_CASE("--export under Apache holds every pair answered before it began", "[apache][live]") {
  ApacheServer apache(SeededOpen());
  Traffic traffic(ThroughApache(apache), kStable, 0x22000000, 4);
  REQUIRE(WaitFor([&] { return traffic.Acknowledged().size() >= 50; }, 20000, 10));
  const auto before = traffic.Acknowledged();
  RunResult exported = apache.RunAsSiteUser({"--export", apache.app_dir() + "/backup.csv"});
  INFO(exported.err);
  REQUIRE(exported.exit_code == 0);
  REQUIRE(WaitFor([&] { return traffic.Acknowledged().size() >= before.size() + 20; }, 20000, 10));

  // docs/database.md's nightly backup, as cron runs it (cron turns \% into
  // %), and its restore, while the traffic goes on.
  const std::string home = "HOME=" + apache.app_dir() + "/home; export HOME; ";
  std::string nightly = FromGuide("docs/database.md",
                                  "mkdir -p $HOME/backups && ./gosl-basics.fcgi --export "
                                  "$HOME/backups/name2key-$(date +\\%a).csv.gz --debug WARNING");
  nightly.erase(nightly.find("\\%"), 1);
  const RunResult backed_up = apache.ShellAsSiteUser(home + nightly);
  INFO(backed_up.err);
  REQUIRE(backed_up.exit_code == 0);
  const std::string restore = FromGuide("docs/database.md",
                                        "./gosl-basics.fcgi --import $HOME/backups/name2key-$(date +%a).csv.gz "
                                        "--databaseName slkvdb.restored");
  const RunResult restored = apache.ShellAsSiteUser(
      home + restore + " && " + FromGuide("docs/database.md", "./gosl-basics.fcgi --replace slkvdb.restored"));
  INFO(restored.err);
  CHECK(restored.exit_code == 0);
  CHECK(restored.err.find("replace done: carried") != std::string::npos);
  traffic.Stop();
  INFO(traffic.Errors());
  CHECK(traffic.error_count() == 0);
  const std::string csv = ReadFile(apache.app_dir() + "/backup.csv");
  size_t missing = 0;
  // Registered in-world: each line says its grid and when (docs/database.md, "What a backup holds").
  for (const auto& [name, key] : before) missing += csv.find(key + "," + name + ",") == std::string::npos;
  CHECK(missing == 0);
  // Everything answered before and during it is still answered.
  size_t lost = 0;
  for (const auto& [name, key] : traffic.Acknowledged()) {
    lost += HttpRequest(apache.port(), "GET", apache.app_url() + "?key=" + key).body != name;
  }
  CHECK(lost == 0);
  // Apache never serves the backup left in its directory.
  CHECK(HttpRequest(apache.port(), "GET", apache.app_prefix() + "backup.csv").status == 403);
}

}  // namespace gosl::test

namespace gosl::test {

namespace {

// A command the deploy guide gives, run as the guide says: the text inside
// the `ssh $HOST '…'` of the first shell block after `heading`.
std::string GuideCommand(const std::string& heading) {
  const std::string guide = ReadFile(std::string(GOSL_SOURCE_DIR) + "/docs/deploy-shared-host.md");
  const size_t at = guide.find(heading);
  REQUIRE(at != std::string::npos);
  const std::string open = "```sh\nssh $HOST '";
  const size_t begin = guide.find(open, at);
  REQUIRE(begin != std::string::npos);
  const size_t end = guide.find("'\n```", begin + open.size());
  REQUIRE(end != std::string::npos);
  return guide.substr(begin + open.size(), end - begin - open.size());
}

// The previous release serves under Apache with traffic; the new binary is
// uploaded as rsync does. The old processes go (by themselves, or hurried
// with the guide's command), nothing is lost and nothing fails.
void UpgradeUnderTraffic(bool hurry) {
  const std::string previous = GOSL_PREVIOUS_BINARY;
  if (access(previous.c_str(), X_OK) != 0) {
    WARN("not tested: no previous release at " << previous << " (make previous)");
    return;
  }
  ApacheOptions options = SeededOpen();
  options.binary = previous;
  // Left alone, old processes idle out within seconds of their last request;
  // hurried, they would live for Apache's default 300 s.
  options.extra_config += std::string("FcgidIdleTimeout ") + (hurry ? "300" : "3") +
                          "\nFcgidIdleScanInterval 1\nFcgidMinProcessesPerClass 0\n";
  ApacheServer apache(options);
  std::vector<std::pair<std::string, std::string>> acknowledged;
  {
    Traffic traffic(ThroughApache(apache), kStable, hurry ? 0x36000000 : 0x35000000, 4);
    REQUIRE(WaitFor([&] { return traffic.Acknowledged().size() >= 40; }, 20000, 10));
    const std::vector<pid_t> old_pids = apache.AppPids();
    REQUIRE(!old_pids.empty());
    // As rsync uploads it: a temporary file, renamed into place.
    const std::string target = apache.app_dir() + "/gosl-basics.fcgi";
    std::filesystem::copy_file(GOSL_TEST_BINARY, target + ".tmp");
    if (geteuid() == 0) REQUIRE(chown((target + ".tmp").c_str(), apache.uid(), apache.gid()) == 0);
    std::filesystem::permissions(target + ".tmp", std::filesystem::perms(0755),
                                 std::filesystem::perm_options::replace);
    std::filesystem::rename(target + ".tmp", target);
    const auto uploaded = std::chrono::steady_clock::now();
    const size_t served_before = traffic.requests();
    // The new binary's processes serve beside the old ones.
    REQUIRE(WaitFor([&] { return traffic.requests() >= served_before + 100; }, 20000, 10));
    if (hurry) {
      const RunResult hurried = apache.ShellAsSiteUser(GuideCommand("To hurry the old processes out"));
      INFO(hurried.out << hurried.err);
      CHECK(hurried.exit_code == 0);
    }
    const bool old_gone = WaitFor(
        [&] {
          for (pid_t pid : apache.AppPids()) {
            if (std::find(old_pids.begin(), old_pids.end(), pid) != old_pids.end()) return false;
          }
          return true;
        },
        hurry ? 10000 : 60000, 100);
    CHECK(old_gone);
    WARN("the two versions served side by side for "
         << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                   uploaded).count()
         << " ms (" << (hurry ? "hurried" : "FcgidIdleTimeout 3 s here, 300 s by default") << "); "
         << traffic.requests() << " requests so far, " << traffic.error_count() << " errors");
    REQUIRE(WaitFor([&] { return traffic.Acknowledged().size() >= 200; }, 30000, 10));
    traffic.Stop();
    INFO(traffic.Errors());
    CHECK(traffic.error_count() == 0);
    acknowledged = traffic.Acknowledged();
  }
  // The guide's way of seeing which versions serve.
  const std::string versions = apache.ShellAsSiteUser("DIR=" + apache.app_dir() + "; " +
                                                      "grep -h 'gosl-basics [0-9]' $DIR/gosl*.log | tail -n 5")
                                   .out;
  CHECK(versions.find("gosl-basics 0.3.0 ") != std::string::npos);
  const std::string version = apache.RunAsSiteUser({"--version"}).out;
  CHECK(version.find("0.3.0") != std::string::npos);  // the new binary is the one in place
  CHECK(apache.Stop());
  std::string keys;
  for (const auto& pair : acknowledged) keys += pair.second + "\n";
  const std::string answers = apache.RunAsSiteUser({"--shell"}, keys).out;
  size_t missing = 0;
  for (const auto& [name, key] : acknowledged) missing += answers.find("'" + name + "'") == std::string::npos;
  CHECK(missing == 0);
}

}  // namespace

TEST_CASE("a new binary uploaded over the old under traffic: both serve, then the new alone, nothing lost",
          "[apache][upgrade]") {
  UpgradeUnderTraffic(/*hurry=*/false);
}

TEST_CASE("the guide's command hurries the old binary's processes out, nothing lost", "[apache][upgrade]") {
  UpgradeUnderTraffic(/*hurry=*/true);
}

}  // namespace gosl::test
