#include "gosl/logging.hpp"

#include <filesystem>

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
  REQUIRE(log::SetUp({dir.File("gosl.log"), 1, 1, log::Level::kNotice, false}).ok());
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
  REQUIRE(log::SetUp({dir.File("gosl.log"), 1, 2, log::Level::kInfo, false}).ok());
  const std::string line(1000, 'x');
  for (int i = 0; i < 4000; ++i) log::Info(line);  // ~4 MB through a 1 MB file
  log::ShutDown();
  CHECK(std::filesystem::file_size(dir.File("gosl.log")) <= (1u << 20));
  CHECK(std::filesystem::exists(dir.File("gosl.1.log")));
  CHECK(std::filesystem::exists(dir.File("gosl.2.log")));
  CHECK_FALSE(std::filesystem::exists(dir.File("gosl.3.log")));
}

TEST_CASE("a log file that cannot be opened is reported, not fatal", "[logging]") {
  test::TempDir dir;
  // spdlog creates missing directories; a path under a regular file cannot be made.
  test::WriteFile(dir.File("file"), "");
  Status status = log::SetUp({dir.File("file/gosl.log"), 1, 1, log::Level::kInfo, false});
  CHECK(status.code() == Code::kIOError);
  CHECK_THAT(status.message(), Catch::StartsWith("cannot open log file '" + dir.File("file/gosl.log")));
  log::Info("goes nowhere");  // must not crash
  log::ShutDown();
}

}  // namespace gosl
