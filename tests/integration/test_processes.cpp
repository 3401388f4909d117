// Several FastCGI processes of the real binary on one database, as mod_fcgid
// runs them: every process answers, registrations are seen by all at once,
// and killing the process that holds the database loses no request.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include <catch2/catch.hpp>

#include "../support/api_cases.hpp"
#include "../support/fcgi_client.hpp"
#include "../support/files.hpp"
#include "../support/process.hpp"
#include "../support/temp_dir.hpp"

namespace gosl::test {
namespace {

constexpr int kProcesses = 4;

struct Processes {
  TempDir dir;
  std::vector<std::unique_ptr<FastCgiProcess>> apps;

  Processes() {
    SeedApiDatabase(dir.File("slkvdb"));
    for (int i = 0; i < kProcesses; ++i) {
      apps.push_back(std::make_unique<FastCgiProcess>(
          GOSL_TEST_BINARY, std::vector<std::string>{"--dir", dir.path(), "--writes", "open"}, Socket(i),
          dir.path(),
          std::vector<std::string>{"PATH=/usr/bin:/bin"}, dir.File("out" + std::to_string(i)),
          dir.File("err" + std::to_string(i))));
    }
  }
  std::string Socket(int i) const { return dir.File("app" + std::to_string(i) + ".sock"); }
  HttpReply Get(int i, const std::string& query) {
    return FastCgiRequest(Socket(i), CgiParams("GET", query));
  }
};

}  // namespace

TEST_CASE("several processes on one database all answer, and see each other's registrations",
          "[integration][processes]") {
  Processes p;
  for (int i = 0; i < kProcesses; ++i) CHECK(p.Get(i, "name=mini").body == kMiniKey);
  for (int writer = 0; writer < kProcesses; ++writer) {
    char key[37];
    std::snprintf(key, sizeof key, "00000000-0000-4000-8000-%012d", writer + 1);
    // Every process has just answered "unknown" (and may remember it).
    for (int reader = 0; reader < kProcesses; ++reader) {
      REQUIRE(p.Get(reader, std::string("key=") + key).body.empty());
    }
    REQUIRE(p.Get(writer, "name=" + std::string("Writer") + std::to_string(writer) + "&key=" + key).status == 200);
    for (int reader = 0; reader < kProcesses; ++reader) {
      INFO("written through " << writer << ", read through " << reader);
      CHECK(p.Get(reader, std::string("key=") + key).body == "Writer" + std::to_string(writer));
    }
  }
  // Every process wrote its own request lines into the one log.
  const std::string log = ReadFile(p.dir.File("gosl.log"));
  for (auto& app : p.apps) {
    CHECK(CountLinesWith(log, "[" + std::to_string(app->pid()) + "] INFO") > 0);
  }
}

TEST_CASE("killing the process that holds the database loses no request",
          "[integration][processes]") {
  Processes p;
  REQUIRE(p.Get(0, "name=mini").body == kMiniKey);  // process 0 opened first: it owns
  for (int i = 1; i < kProcesses; ++i) REQUIRE(p.Get(i, "name=mini").body == kMiniKey);

  std::atomic<int> wrong{0}, done{0};
  std::mutex first_wrong_mutex;
  std::string first_wrong;
  auto note_wrong = [&](const std::string& what) {
    std::lock_guard<std::mutex> lock(first_wrong_mutex);
    if (first_wrong.empty()) first_wrong = what;
    ++wrong;
  };
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int i = 1; i < kProcesses; ++i) {
    clients.emplace_back([&, i] {
      while (!stop) {
        try {
          HttpReply reply = p.Get(i, "key=" + kLegacyKey);
          if (reply.status != 200 || reply.body != "Legacy Linden") {
            note_wrong(std::to_string(reply.status) + " " + reply.body);
          }
        } catch (const std::exception& e) {  // a timeout or a dropped connection
          note_wrong(e.what());
        }
        ++done;
      }
    });
  }
  // Bounded waits: a hang fails the test instead of stalling the suite.
  auto wait_until = [&done](int count) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (done < count && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  };
  wait_until(200);
  p.apps[0]->StopWith(SIGKILL);
  int after_kill = done + 300;
  wait_until(after_kill);
  stop = true;
  for (auto& client : clients) client.join();
  INFO("first wrong answer: " << first_wrong);
  CHECK(wrong == 0);
  CHECK(done >= after_kill);
}

}  // namespace gosl::test
