// The log cannot be used to fill the disk (issue 6, item 5): a burst of
// 100,000 requests, many of them trying to forge log lines, through a real
// FastCGI process with a 1 MB log and two backups.
#include <filesystem>
#include <regex>
#include <sstream>
#include <thread>

#include <catch2/catch.hpp>

#include "../support/files.hpp"
#include "../support/site.hpp"

namespace gosl::test {

TEST_CASE("100,000 requests keep the log within MaxSize x (MaxBackups + 1), every line whole",
          "[integration][logging]") {
  Site site(Site::Db::kSeeded);
  site.Start({"--log-max-size", "1", "--log-max-backups", "2"});
  constexpr int kRequests = 100000;
  constexpr int kClients = 2;
  std::vector<std::thread> clients;
  std::vector<int> failures(kClients, 0);
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      for (int i = c; i < kRequests; i += kClients) {
        // Every third request tries to end its line and start a forged one.
        const std::string query = i % 3 == 0
                                      ? "name=Flood" + std::to_string(i) +
                                            "%0D%0A2026-01-01+00:00:00.000000+[1]+ERROR+forged"
                                      : "name=Flood" + std::to_string(i);
        HttpReply reply = site.Get(query);
        if (reply.status != (i % 3 == 0 ? 400 : 200)) ++failures[c];
      }
    });
  }
  for (auto& client : clients) client.join();
  CHECK(failures == std::vector<int>(kClients, 0));
  REQUIRE(site.Get("name=Last+Request").status == 200);
  // A request's line is written once its answer has gone.
  CHECK(WaitFor([&] { return CountLinesWith(site.Log(), "name 'Last Request'") == 1; }, 5000));

  const size_t max_size = 1 << 20;
  size_t total = 0, files = 0, lines = 0;
  const std::regex line_shape(
      R"(^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6} \[\d+\] (DEBUG|INFO|NOTICE|WARNING|ERROR|CRITICAL) .*$)");
  for (const auto& entry : std::filesystem::directory_iterator(site.dir())) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("gosl.", 0) != 0 || name == "gosl.log.lock") continue;  // the lock is empty
    INFO(name);
    CHECK((name == "gosl.log" || name == "gosl.1.log" || name == "gosl.2.log"));
    ++files;
    const std::string text = ReadFile(entry.path().string());
    CHECK(text.size() <= max_size);
    total += text.size();
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
      ++lines;
      if (!std::regex_match(line, line_shape)) FAIL_CHECK("malformed log line: " << line);
      if (line.find("ERROR forged") != std::string::npos &&
          line.find("Flood") == std::string::npos) {
        FAIL_CHECK("forged line: " << line);
      }
    }
  }
  CHECK(files == 3);
  CHECK(total <= 3 * max_size);
  CHECK(lines > 10000);  // what is left is the newest part of the burst
}

}  // namespace gosl::test
