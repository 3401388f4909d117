#include "gosl/logging.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <set>
#include <sstream>

#include <catch2/catch.hpp>

#include "support/files.hpp"
#include "support/temp_dir.hpp"

namespace gosl {

TEST_CASE("log level names are the Go program's, in any case", "[logging]") {
  CHECK(log::ParseLevel("DEBUG").value() == log::Level::kDebug);
  CHECK(log::ParseLevel("info").value() == log::Level::kInfo);
  CHECK(log::ParseLevel("Notice").value() == log::Level::kNotice);
  CHECK(log::ParseLevel("WARNING").value() == log::Level::kWarning);
  CHECK(log::ParseLevel("warn").value() == log::Level::kWarning);
  CHECK(log::ParseLevel("error").value() == log::Level::kError);
  CHECK(log::ParseLevel("CRITICAL").value() == log::Level::kCritical);
  auto bad = log::ParseLevel("chatty");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message() ==
        "unknown log level 'chatty' (use DEBUG, INFO, NOTICE, WARNING, ERROR or CRITICAL)");
}

TEST_CASE("lines below the level are not written, others carry our level names", "[logging]") {
  test::TempDir dir;
  REQUIRE(log::SetUp({dir.File("gosl.log"), 1 << 20, 1, log::Level::kNotice, false}).ok());
  log::Debug("debug line");
  log::Info("info line");
  log::Notice("notice line");
  log::Warning("warning line");
  log::Critical("critical line");
  log::ShutDown();
  const std::string text = test::ReadFile(dir.File("gosl.log"));
  CHECK(text.find("debug line") == std::string::npos);
  CHECK(text.find("info line") == std::string::npos);
  CHECK(text.find("NOTICE notice line") != std::string::npos);
  CHECK(text.find("WARNING warning line") != std::string::npos);
  CHECK(text.find("CRITICAL critical line") != std::string::npos);
}

TEST_CASE("the log rotates at its size and keeps MaxBackups files", "[logging]") {
  test::TempDir dir;
  REQUIRE(log::SetUp({dir.File("gosl.log"), 1 << 20, 2, log::Level::kInfo, false}).ok());
  const std::string line(1000, 'x');
  for (int i = 0; i < 4000; ++i) log::Info(line);  // ~4 MB through a 1 MB file
  log::ShutDown();
  CHECK(std::filesystem::file_size(dir.File("gosl.log")) <= (1u << 20));
  CHECK(std::filesystem::file_size(dir.File("gosl.1.log")) > (1u << 19));
  CHECK(std::filesystem::exists(dir.File("gosl.1.log")));
  CHECK(std::filesystem::exists(dir.File("gosl.2.log")));
  CHECK_FALSE(std::filesystem::exists(dir.File("gosl.3.log")));
}

TEST_CASE("several processes share one log: no line lost, none interleaved", "[logging]") {
  test::TempDir dir;
  constexpr int kProcesses = 4, kLines = 5000;
  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      // Small files and enough backups to keep every line: ~15 rotations.
      Status set_up = log::SetUp({dir.File("gosl.log"), 64 * 1024, 100, log::Level::kInfo, false});
      for (int i = 0; set_up.ok() && i < kLines; ++i) {
        log::Info("process " + std::to_string(p) + " line " + std::to_string(i) + " end");
      }
      log::ShutDown();
      _exit(set_up.ok() ? 0 : 1);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
  std::string all;
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    if (entry.path().extension() == ".log") {
      all += test::ReadFile(entry.path().string());
      ++files;
    }
  }
  CHECK(files > 5);  // it did rotate
  std::istringstream lines(all);
  std::set<std::string> seen;
  size_t malformed = 0;
  for (std::string line; std::getline(lines, line);) {
    size_t at = line.find(" INFO process ");
    if (at == std::string::npos || line.size() < 4 || line.compare(line.size() - 4, 4, " end") != 0) {
      ++malformed;
      continue;
    }
    seen.insert(line.substr(at));
  }
  CHECK(malformed == 0);
  CHECK(seen.size() == size_t{kProcesses} * kLines);
}

TEST_CASE("with no backups the log is emptied in place, so other writers keep writing",
          "[logging]") {
  test::TempDir dir;
  REQUIRE(log::SetUp({dir.File("gosl.log"), 64 * 1024, 0, log::Level::kInfo, false}).ok());
  const std::string line(1000, 'y');
  for (int i = 0; i < 300; ++i) log::Info(line);  // ~300 KB through a 64 KB file
  log::Info("the last line");
  log::ShutDown();
  CHECK(std::filesystem::file_size(dir.File("gosl.log")) <= 64 * 1024);
  CHECK_FALSE(std::filesystem::exists(dir.File("gosl.1.log")));
  CHECK(test::ReadFile(dir.File("gosl.log")).find("the last line") != std::string::npos);
}

TEST_CASE("a log file that cannot be opened is reported, not fatal", "[logging]") {
  test::TempDir dir;
  // spdlog creates missing directories; a path under a regular file cannot be made.
  test::WriteFile(dir.File("file"), "");
  Status status = log::SetUp({dir.File("file/gosl.log"), 1 << 20, 1, log::Level::kInfo, false});
  CHECK(status.code() == Code::kIOError);
  CHECK_THAT(status.message(), Catch::StartsWith("cannot open log file '" + dir.File("file/gosl.log")));
  log::Info("goes nowhere");  // must not crash
  log::ShutDown();
}

}  // namespace gosl
