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
#include "../support/files.hpp"
#include "../support/keys.hpp"
#include "../support/site.hpp"

namespace gosl::test {
namespace {

constexpr int kProcesses = 4;

}  // namespace

TEST_CASE("several processes on one database all answer, and see each other's registrations",
          "[integration][processes]") {
  Site site(Site::Db::kSeeded);
  site.Start({"--writes", "open"}, kProcesses);
  for (int i = 0; i < kProcesses; ++i) CHECK(site.Get("name=mini", {}, i).body == kMiniKey);
  for (int writer = 0; writer < kProcesses; ++writer) {
    const std::string key = TestKey(writer + 1);
    // Every process has just answered "unknown" (and may remember it).
    for (int reader = 0; reader < kProcesses; ++reader) {
      REQUIRE(site.Get("key=" + key, {}, reader).body.empty());
    }
    REQUIRE(site.Get("name=Writer" + std::to_string(writer) + "&key=" + key, {}, writer).status ==
            200);
    for (int reader = 0; reader < kProcesses; ++reader) {
      INFO("written through " << writer << ", read through " << reader);
      CHECK(site.Get("key=" + key, {}, reader).body == "Writer" + std::to_string(writer));
    }
  }
  // Every process wrote its own request lines into the one log.
  const std::string log = site.Log();
  for (int i = 0; i < kProcesses; ++i) {
    CHECK(CountLinesWith(log, "[" + std::to_string(site.process(i).pid()) + "] INFO") > 0);
  }
}

TEST_CASE("killing the process that holds the database loses no request",
          "[integration][processes]") {
  Site site(Site::Db::kSeeded);
  site.Start({"--writes", "open"}, kProcesses);
  REQUIRE(site.Get("name=mini", {}, 0).body == kMiniKey);  // process 0 opened first: it owns
  for (int i = 1; i < kProcesses; ++i) REQUIRE(site.Get("name=mini", {}, i).body == kMiniKey);

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
          HttpReply reply = site.Get("key=" + kLegacyKey, {}, i);
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
  site.process(0).StopWith(SIGKILL);
  int after_kill = done + 300;
  wait_until(after_kill);
  stop = true;
  for (auto& client : clients) client.join();
  INFO("first wrong answer: " << first_wrong);
  CHECK(wrong == 0);
  CHECK(done >= after_kill);
}

}  // namespace gosl::test
