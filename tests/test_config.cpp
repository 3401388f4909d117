#include "gosl/config.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>

#include <catch2/catch.hpp>

#include "config/option_table.hpp"
#include "support/files.hpp"
#include "support/temp_dir.hpp"

namespace gosl {
namespace {

Config Parse(std::vector<std::string> args, const std::string& binary_dir) {
  args.insert(args.begin(), "gosl-basics.fcgi");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  return ParseConfig(static_cast<int>(argv.size()), argv.data(), binary_dir);
}

// The message of the StartupError a parse throws, or "" when it does not.
std::string Refusal(std::vector<std::string> args, const std::string& binary_dir) {
  try {
    Parse(std::move(args), binary_dir);
  } catch (const StartupError& e) {
    CHECK(e.exit_code() == 2);
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("defaults put the database and log beside the binary", "[config]") {
  test::TempDir bin;
  Config config = Parse({}, bin.path());
  CHECK(config.dir == bin.path());
  CHECK(config.DatabasePath() == bin.File("slkvdb"));
  CHECK(config.LogPath() == bin.File("gosl.log"));
  CHECK(config.port == 3000);
  CHECK(config.bind == "127.0.0.1");
  CHECK(config.memory_budget_mb == 24);
  CHECK(config.log_level == log::Level::kInfo);
  CHECK_FALSE(config.server);
  CHECK(config.config_file.empty());
}

TEST_CASE("the Go program's option names work on the command line", "[config]") {
  test::TempDir bin;
  Config config = Parse({"--server", "-p", "8080", "-n", "other", "-d", "warning", "-b", "500",
                         "-l", "7", "-i", "export.csv", "--dir", "/srv/site"},
                        bin.path());
  CHECK(config.server);
  CHECK(config.port == 8080);
  CHECK(config.DatabasePath() == "/srv/site/other");
  CHECK(config.log_level == log::Level::kWarning);
  CHECK(config.progress_records == 7);
  CHECK(config.import_file == "export.csv");
}

TEST_CASE("config.ini beside the binary is read, and the command line wins", "[config]") {
  test::TempDir bin;
  test::WriteFile(bin.File("config.ini"),
                  "# a Go-style config\n"
                  "[config]\n"
                  "myPort = 4000\n"
                  "myDir = \"data\"\n"
                  "isServer = true\n"
                  "database = \"leveldb\" # the Go program's, ignored\n"
                  "[options]\n"
                  "memoryBudget = 40\n"
                  "noMemory = true\n"
                  "[log]\n"
                  "Filename = \"logs/service.log\"\n"
                  "logLevel = NOTICE\n"
                  "MaxSize = 5\n"
                  "MaxBackups = 2\n"
                  "MaxAge = 28\n");
  Config config = Parse({"--port", "5000"}, bin.path());
  CHECK(config.config_file == bin.File("config.ini"));
  CHECK(config.port == 5000);  // the command line wins
  CHECK(config.server);
  CHECK(config.dir == bin.File("data"));  // relative to the INI file
  CHECK(config.memory_budget_mb == 40);
  CHECK(config.LogPath() == bin.File("data/logs/service.log"));
  CHECK(config.log_level == log::Level::kNotice);
  CHECK(config.log_max_size_mb == 5);
  CHECK(config.log_max_backups == 2);
}

TEST_CASE("--config names the INI file to read", "[config]") {
  test::TempDir bin, other;
  test::WriteFile(other.File("site.ini"), "[config]\nmyPort = 4100\n");
  CHECK(Parse({"--config", other.File("site.ini")}, bin.path()).port == 4100);
}

TEST_CASE("bad options are refused naming the option", "[config]") {
  test::TempDir bin;
  struct Row {
    std::vector<std::string> args;
    std::string message;
  };
  const Row rows[] = {
      {{"--nope"}, "unrecognised option '--nope'"},
      {{"--port", "0"}, "--port must be a whole number from 1 to 65535, not '0'"},
      {{"--port", "3000x"}, "--port must be a whole number from 1 to 65535, not '3000x'"},
      {{"--port", "+80"}, "--port must be a whole number from 1 to 65535, not '+80'"},
      {{"--log-max-backups", "101"}, "--log-max-backups must be a whole number from 0 to 100"},
      {{"--import-memory", "1"}, "--import-memory must be a whole number from 2 to 1024, not '1'"},
      {{"--debug", "verbose"}, "--debug: unknown log level 'verbose'"},
      {{"--bind", "example.com"}, "--bind must be a numeric IPv4 or IPv6 address"},
      {{"--databaseName", ""}, "--databaseName must not be empty"},
      {{"--config", bin.File("missing.ini")}, "is not a readable file"},
  };
  for (const Row& row : rows) {
    INFO(row.args.front());
    CHECK_THAT(Refusal(row.args, bin.path()), Catch::Contains(row.message));
  }
}

TEST_CASE("a bad INI file is refused naming the file and the key", "[config]") {
  test::TempDir bin;
  test::WriteFile(bin.File("config.ini"), "[config]\nisServer = perhaps\n");
  std::string message = Refusal({}, bin.path());
  CHECK_THAT(message, Catch::Contains("--server must be true or false, not 'perhaps'"));
  CHECK_THAT(message, Catch::Contains(bin.File("config.ini")));

  test::WriteFile(bin.File("config.ini"), "[log]\nFileName = x.log\n");
  CHECK_THAT(Refusal({}, bin.path()), Catch::Contains("log.FileName"));
}

TEST_CASE("IPv6 and 0.0.0.0 are accepted for --bind", "[config]") {
  test::TempDir bin;
  CHECK(Parse({"--bind", "0.0.0.0"}, bin.path()).bind == "0.0.0.0");
  CHECK(Parse({"--bind", "::1"}, bin.path()).bind == "::1");
}

}  // namespace gosl

namespace gosl {

TEST_CASE("the shipped config.ini is valid and says what the defaults are", "[config]") {
  test::TempDir bin;
  Config shipped = Parse({"--config", GOSL_SOURCE_DIR "/htaccess/config.ini"}, bin.path());
  Config defaults = Parse({}, bin.path());
  CHECK(shipped.database_name == defaults.database_name);
  CHECK(shipped.memory_budget_mb == defaults.memory_budget_mb);
  CHECK(shipped.log_file == defaults.log_file);
  CHECK(shipped.log_level == defaults.log_level);
  CHECK(shipped.log_max_size_mb == defaults.log_max_size_mb);
  CHECK(shipped.log_max_backups == defaults.log_max_backups);
  CHECK(shipped.dir == bin.path());  // the binary's directory, where config.ini sits on a host
}

}  // namespace gosl

namespace gosl {

TEST_CASE("--import-grid is checked as a grid name is everywhere else", "[config]") {
  test::TempDir bin;
  CHECK(Parse({"--import-grid", "OSGrid"}, bin.path()).import_grid == "OSGrid");
  CHECK_THAT(Refusal({"--import-grid", ""}, bin.path()), Catch::Contains("--import-grid needs a grid name"));
  CHECK_THAT(Refusal({"--import-grid", std::string(65, 'g')}, bin.path()),
             Catch::Contains("--import-grid is not a grid name of at most 64 UTF-8 bytes"));
  CHECK_THAT(Refusal({"--import-grid", "Bad\x01Grid"}, bin.path()),
             Catch::Contains("--import-grid contains a control character"));
}

}  // namespace gosl

namespace gosl {

TEST_CASE("write protection options: default sl-only, token, owners, rate", "[config]") {
  test::TempDir bin;
  Config defaults = Parse({}, bin.path());
  CHECK(defaults.access.writes == WriteMode::kSlOnly);
  CHECK(defaults.access.registrations_per_minute == 120);
  CHECK(defaults.access.owners.empty());

  test::WriteFile(bin.File("config.ini"),
                  "[options]\n"
                  "writes = token\n"
                  "token = \"correct-horse-battery\"\n"
                  "owners = aaaaaaaa-2222-3333-4444-555555555555, "
                  "BBBBBBBB-2222-3333-4444-555555555555\n"
                  "registrationsPerMinute = 30\n");
  Config config = Parse({}, bin.path());
  CHECK(config.access.writes == WriteMode::kToken);
  CHECK(config.access.token == "correct-horse-battery");
  REQUIRE(config.access.owners.size() == 2);
  CHECK(config.access.owners[1].ToString() == "bbbbbbbb-2222-3333-4444-555555555555");
  CHECK(config.access.registrations_per_minute == 30);
  CHECK(Parse({"--writes", "off"}, bin.path()).access.writes == WriteMode::kOff);
}

TEST_CASE("bad write protection options are refused, the token never quoted", "[config]") {
  test::TempDir bin;
  struct Row {
    std::vector<std::string> args;
    std::string message;
  };
  const Row rows[] = {
      {{"--writes", "maybe"}, "--writes must be open, sl-only, token or off, not 'maybe'"},
      {{"--writes", "token"}, "--writes token needs a token"},
      {{"--token", "short"}, "--token must be 8 to 256 characters long"},
      {{"--token", "has a space"}, "--token must not contain spaces or control characters"},
      {{"--owners", "aaaaaaaa-2222-3333-4444-555555555555,nobody"},
       "--owners: 'nobody' is not an avatar key"},
      {{"--registrations-per-minute", "-1"},
       "--registrations-per-minute must be a whole number from 0 to 100000"},
      {{"--repair", "--create"}, "--repair runs alone"},
  };
  for (const auto& row : rows) {
    INFO(row.args[0]);
    const std::string refusal = Refusal(row.args, bin.path());
    CHECK(refusal.find(row.message) != std::string::npos);
    CHECK(refusal.find("has a space") == std::string::npos);
  }
}

TEST_CASE("a malformed line holding the token is refused without quoting it", "[config]") {
  test::TempDir bin;
  test::WriteFile(bin.File("config.ini"), "[options]\ntoken s3cret-value\n");
  const std::string refusal = Refusal({}, bin.path());
  CHECK(refusal.find("a malformed line with 'token' in it") != std::string::npos);
  CHECK(refusal.find("s3cret") == std::string::npos);
}

TEST_CASE("a file being written is read once it has settled", "[config]") {
  test::TempDir bin;
  test::WriteFile(bin.File("config.ini"), "[options]\nwrites = open\n");
  const char* argv[] = {"gosl-basics.fcgi"};
  LiveConfig live(1, argv, bin.path(), ParseConfig(1, argv, bin.path()),
                  std::chrono::milliseconds(60000));
  test::WriteFile(bin.File("config.ini"), "[options]\nwrites = off\n");
  live.CheckNow();
  CHECK(live.Current()->access.writes == WriteMode::kOpen);  // just written: not yet
}

TEST_CASE("a changed config.ini is taken by a running process; a broken one is not",
          "[config]") {
  test::TempDir bin;
  test::TempDir logs;
  REQUIRE(log::SetUp({logs.File("gosl.log"), 1 << 20, 1, log::Level::kInfo, false}).ok());
  test::WriteFile(bin.File("config.ini"), "[options]\nwrites = open\n");
  const char* argv[] = {"gosl-basics.fcgi", "--port", "4000"};
  const std::chrono::milliseconds now(0);  // no wait for the file to settle
  LiveConfig live(3, argv, bin.path(), ParseConfig(3, argv, bin.path()), now);
  CHECK(live.Current()->access.writes == WriteMode::kOpen);

  test::WriteFile(bin.File("config.ini"),
                  "[options]\nwrites = off\nregistrationsPerMinute = 7\n[log]\nlogLevel = ERROR\n");
  live.CheckNow();
  CHECK(live.Current()->access.writes == WriteMode::kOff);
  CHECK(live.Current()->access.registrations_per_minute == 7);
  CHECK(live.Current()->log_level == log::Level::kError);
  CHECK_FALSE(log::Enabled(log::Level::kWarning));
  CHECK(live.Current()->port == 4000);  // the command line still wins

  test::WriteFile(bin.File("config.ini"), "[options]\nwrites = sometimes\n[log]\nlogLevel = INFO\n");
  live.CheckNow();
  CHECK(live.Current()->access.writes == WriteMode::kOff);  // the old settings stay
  CHECK(live.Current()->log_level == log::Level::kError);
  // Deleted (or mid-rename): the settings in force stay, not the defaults.
  test::WriteFile(bin.File("config.ini"), "[options]\nwrites = off\n[log]\nlogLevel = INFO\n");
  live.CheckNow();
  std::filesystem::remove(bin.File("config.ini"));
  live.CheckNow();
  CHECK(live.Current()->access.writes == WriteMode::kOff);
  log::ShutDown();
  const std::string logged = test::ReadFile(logs.File("gosl.log"));
  CHECK(logged.find("is gone: the settings in force stay") != std::string::npos);
  CHECK(logged.find("reloaded: writes = off") != std::string::npos);
  // Each reload names what it changed, the log level too, even when it lowers it from ERROR.
  CHECK(logged.find("; changed now: writes = off, ") != std::string::npos);
  CHECK(logged.find(", logLevel = ERROR") != std::string::npos);
  CHECK(logged.find("; changed now: logLevel = INFO") != std::string::npos);
  CHECK(logged.find("changed but is not used, the settings in force stay: gosl-basics.fcgi: "
                    "--writes must be open, sl-only, token or off, not 'sometimes'") !=
        std::string::npos);

  // A config.ini that appears after the start is picked up too.
  test::TempDir bare;
  LiveConfig later(1, argv, bare.path(), ParseConfig(1, argv, bare.path()), now);
  CHECK(later.Current()->access.writes == WriteMode::kSlOnly);
  test::WriteFile(bare.File("config.ini"), "[options]\nwrites = open\n");
  later.CheckNow();
  CHECK(later.Current()->access.writes == WriteMode::kOpen);
}

}  // namespace gosl

namespace gosl {

TEST_CASE("the shipped config.ini spells every setting as the option table does, with its default",
          "[config]") {
  std::ifstream in(std::string(GOSL_SOURCE_DIR) + "/htaccess/config.ini");
  REQUIRE(in);
  std::string section, line;
  std::set<std::string> mentioned;
  while (std::getline(in, line)) {
    if (line.size() > 2 && line.front() == '[' && line.back() == ']') {
      section = line.substr(1, line.size() - 2);
      continue;
    }
    const bool commented = line.rfind("# ", 0) == 0;
    const std::string setting = commented ? line.substr(2) : line;
    const size_t equals = setting.find(" = ");
    if (equals == std::string::npos || setting.find(' ') < equals) continue;  // prose
    const std::string key = section + "." + setting.substr(0, equals);
    const std::string value = setting.substr(equals + 3);
    if (value.find(' ') != std::string::npos) continue;  // prose too: "writes = sl-only: only..."
    INFO(line);
    const config_table::Row* row = config_table::FindByIni(key);
    REQUIRE(row != nullptr);
    CHECK(row->kind != config_table::Kind::kIgnored);
    mentioned.insert(key);
    // A value set (not commented out) is the default; a commented example
    // of an option with a default shows that default.
    if (row->default_value) CHECK(value == row->default_value);
    if (!commented) CHECK(row->default_value != nullptr);
  }
  for (const config_table::Row& row : config_table::Rows()) {
    if (!row.ini || row.kind == config_table::Kind::kIgnored || (row.flags & config_table::kCommand)) {
      continue;
    }
    INFO(row.ini);
    CHECK(mentioned.count(row.ini) == 1);  // every setting a site may change is shown
  }
}

TEST_CASE("--help shows every option with the table's default", "[config]") {
  const std::string help = HelpText();
  for (const config_table::Row& row : config_table::Rows()) {
    if (!row.cli) continue;
    INFO(row.cli);
    CHECK(help.find("--" + config_table::LongName(row)) != std::string::npos);
    if (row.default_help[0] != '\0') {
      CHECK(help.find(std::string("(default: ") + row.default_help + ")") != std::string::npos);
    }
    if (row.default_value && row.kind == config_table::Kind::kNumber) {
      CHECK(std::string(row.default_value) == row.default_help);
    }
  }
}

TEST_CASE("a reload takes the modifiable settings and names the ones needing a restart",
          "[config]") {
  test::TempDir bin;
  test::TempDir logs;
  REQUIRE(log::SetUp({logs.File("gosl.log"), 1 << 20, 1, log::Level::kInfo, false}).ok());
  test::WriteFile(bin.File("config.ini"), "[config]\nmyPort = 4000\n[options]\nwrites = open\n");
  const char* argv[] = {"gosl-basics.fcgi"};
  const std::chrono::milliseconds now(0);
  LiveConfig live(1, argv, bin.path(), ParseConfig(1, argv, bin.path()), now);
  test::WriteFile(bin.File("config.ini"),
                  "[config]\nmyPort = 4001\n[options]\nwrites = off\nmemoryBudget = 30\n");
  live.CheckNow();
  CHECK(live.Current()->access.writes == WriteMode::kOff);  // taken
  CHECK(live.Current()->port == 4000);                      // not taken: a restart
  CHECK(live.Current()->memory_budget_mb == 24);
  log::ShutDown();
  const std::string logged = test::ReadFile(logs.File("gosl.log"));
  CHECK(logged.find("reloaded: writes = off") != std::string::npos);
  CHECK(logged.find("taking effect at the next start: --memory-budget, --port") !=
        std::string::npos);
}

}  // namespace gosl

namespace gosl {

TEST_CASE("a reload that loses the write protection keeps the one in force and says so",
          "[config]") {
  test::TempDir bin;
  test::TempDir logs;
  REQUIRE(log::SetUp({logs.File("gosl.log"), 1 << 20, 1, log::Level::kInfo, false}).ok());
  test::WriteFile(bin.File("config.ini"),
                  "[options]\nwrites = token\ntoken = correct-horse-battery\n"
                  "owners = aaaaaaaa-2222-3333-4444-555555555555\n");
  const char* argv[] = {"gosl-basics.fcgi"};
  const std::chrono::milliseconds now(0);
  LiveConfig live(1, argv, bin.path(), ParseConfig(1, argv, bin.path()), now);
  REQUIRE(live.Current()->access.writes == WriteMode::kToken);

  // Emptied (an upload under way, a careless edit): nothing is weakened.
  test::WriteFile(bin.File("config.ini"), "# nothing yet\n");
  live.CheckNow();
  CHECK(live.Current()->access.writes == WriteMode::kToken);
  CHECK(live.Current()->access.token == "correct-horse-battery");
  CHECK(live.Current()->access.owners.size() == 1);
  // Half written: the writes line lost, another setting changed.
  test::WriteFile(bin.File("config.ini"), "[options]\nregistrationsPerMinute = 30\n");
  live.CheckNow();
  CHECK(live.Current()->access.writes == WriteMode::kToken);
  CHECK(live.Current()->access.registrations_per_minute == 30);
  // An explicit new value is taken, even a weaker one.
  test::WriteFile(bin.File("config.ini"), "[options]\nwrites = open\n");
  live.CheckNow();
  CHECK(live.Current()->access.writes == WriteMode::kOpen);
  log::ShutDown();
  const std::string logged = test::ReadFile(logs.File("gosl.log"));
  CHECK(logged.find("no longer sets --writes, --token, --owners: the values in force stay") !=
        std::string::npos);
  CHECK(logged.find("correct-horse") == std::string::npos);  // the secret is never written
}

}  // namespace gosl
