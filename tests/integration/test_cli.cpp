// The command line of the real binary: help, version, the hand-start hint,
// and every kind of bad option refused with exit 2 and a message naming it.
#include <filesystem>

#include <catch2/catch.hpp>

#include "../support/files.hpp"
#include "../support/site.hpp"

namespace gosl::test {
namespace {

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("--help and --version print to stdout and exit 0", "[integration][cli]") {
  Site site;
  RunResult help = site.RunWithoutDir({"--help"});
  CHECK(help.exit_code == 0);
  CHECK(Contains(help.out, "Usage: gosl-basics.fcgi"));
  CHECK(Contains(help.out, "--databaseName"));
  CHECK(Contains(help.out, "[config.myPort]"));
  RunResult version = site.RunWithoutDir({"--version"});
  CHECK(version.exit_code == 0);
  CHECK(Contains(version.out, "gosl-basics "));
  CHECK(help.err.empty());
}

TEST_CASE("started by hand with no mode it explains itself and exits 2", "[integration][cli]") {
  Site site;
  RunResult run = site.RunWithoutDir({});
  CHECK(run.exit_code == 2);
  CHECK(Contains(run.err, "--server"));
  CHECK(run.out.empty());
}

TEST_CASE("bad options are refused with exit 2 and a message naming the option",
          "[integration][cli]") {
  Site site;
  struct Row {
    std::vector<std::string> args;
    std::string named;
  };
  const std::vector<Row> rows = {
      {{"--bogus"}, "'--bogus'"},
      {{"--port", "abc"}, "--port must be a whole number from 1 to 65535, not 'abc'"},
      {{"--port", "70000"}, "--port must be a whole number from 1 to 65535, not '70000'"},
      {{"--port", "-3"}, "--port"},
      {{"--memory-budget", "1"}, "--memory-budget must be a whole number from 4 to 4096"},
      {{"--batchblock", "0"}, "--batchblock"},
      {{"--debug", "LOUD"}, "--debug: unknown log level 'LOUD'"},
      {{"--bind", "localhost"}, "--bind must be a numeric IPv4 or IPv6 address, not 'localhost'"},
      {{"--config", "/nonexistent/config.ini"}, "--config: '/nonexistent/config.ini'"},
      {{"--import"}, "--import"},
      {{"stray-argument"}, "unexpected argument 'stray-argument'"},
      {{"--port", "1", "--port", "2"}, "'--port'"},
      {{"--status", "--format", "xml"}, "--format must be text or json, not 'xml'"},
      {{"--public-status", "sometimes"}, "--public-status (status in config.ini) must be public or off, not 'sometimes'"},
  };
  for (const Row& row : rows) {
    INFO(row.args.front());
    RunResult run = site.RunWithoutDir(row.args);
    CHECK(run.exit_code == 2);
    CHECK(Contains(run.err, row.named));
    CHECK(run.out.empty());
  }
  // Nothing was created by a refused start.
  CHECK_FALSE(std::filesystem::exists(site.db()));
  CHECK_FALSE(std::filesystem::exists(site.File("gosl.log")));
}

TEST_CASE("a bad value in config.ini is refused naming the file and the option",
          "[integration][cli]") {
  Site site;
  site.WriteConfig("[config]\nmyPort = lots\n");
  RunResult run = site.RunWithoutDir({"--server"});
  CHECK(run.exit_code == 2);
  CHECK(Contains(run.err, "--port must be a whole number"));
  CHECK(Contains(run.err, "config.ini"));

  site.WriteConfig("[config]\nmyPortt = 3000\n");
  run = site.RunWithoutDir({"--server"});
  CHECK(run.exit_code == 2);
  CHECK(Contains(run.err, "config.myPortt"));
}

TEST_CASE("--import loads a W-Hat CSV, skipping and reporting malformed lines",
          "[integration][cli]") {
  Site site;
  WriteFile(site.File("export.csv"),
            "6a6b5a13-1f6e-4c3a-9a3e-0d4c1d2e3f40,Mini Resident\r\n"
            "not-a-uuid,Broken Line\n"
            "\n"
            "0f0e0d0c-0b0a-4909-8807-060504030201,Legacy Linden\n"
            "c0ffee00-1234-4abc-8def-0123456789ab,\n");
  RunResult run = site.Run({"--import", site.File("export.csv")});
  CHECK(run.exit_code == 0);
  CHECK(Contains(run.err, "line 2 skipped: invalid key \"not-a-uuid\""));
  CHECK(Contains(run.err, "line 5 skipped: name is empty"));
  CHECK(Contains(run.err, "5 lines read, 2 records imported, 2 skipped"));

  RunResult missing = site.Run({"--import", site.File("nothing.csv")});
  CHECK(missing.exit_code == 1);
  CHECK(Contains(missing.err, "import of '" + site.File("nothing.csv") + "' failed"));
  RunResult directory = site.Run({"--import", site.dir()});
  CHECK(directory.exit_code == 1);
  CHECK(Contains(directory.err, "directory"));
}

}  // namespace gosl::test

namespace gosl::test {

TEST_CASE("--shell and --export never create a database where there is none",
          "[integration][cli]") {
  Site site;
  RunResult shell = site.Run({"--shell"}, "Mini Resident\n");
  CHECK(shell.exit_code == 0);
  CHECK(shell.out == "503 no database at '" + site.db() +
                         "' (upload one, or make it with --import or --create)\n");
  RunResult exported = site.Run({"--export", site.File("out.csv")});
  CHECK(exported.exit_code == 1);
  CHECK(Contains(exported.err, "no database at '" + site.db() + "'"));
  CHECK_FALSE(std::filesystem::exists(site.db()));
  CHECK_FALSE(std::filesystem::exists(site.File("out.csv")));
}

}  // namespace gosl::test
