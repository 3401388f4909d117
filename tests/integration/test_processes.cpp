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

// mod_fcgid hands a request to the process that finished last: at low
// traffic one process takes them all, and when it is not the one holding the
// database it would forward every lookup. The holder gives the database up.
TEST_CASE("the database goes to the process the web server sends the requests to, losing nothing",
          "[integration][processes]") {
  Site site(Site::Db::kSeeded);
  site.Start({"--writes", "open"}, 2);
  REQUIRE(site.Get("name=mini", {}, 0).body == kMiniKey);  // process 0 opened first: it holds
  REQUIRE(site.Get("name=mini", {}, 1).body == kMiniKey);
  const std::string holder = "[" + std::to_string(site.process(0).pid()) + "] NOTICE";
  const std::string other = "[" + std::to_string(site.process(1).pid()) + "] NOTICE";
  REQUIRE(CountLinesWith(site.Log(), other + " gosl-basics") == 0);

  // Only process 1 is asked: lookups it cannot have answered before (it
  // forwards each), and now and then a registration read back at once.
  std::vector<std::string> registered;
  bool handed = false;
  for (int n = 0; n < 200000 && !handed; ++n) {
    if (n % 400 == 399) {
      const std::string key = TestKey(1000000 + n);
      const std::string name = "Handed" + std::to_string(n);
      REQUIRE(site.Get("name=" + name + "&key=" + key, {}, 1).status == 200);
      REQUIRE(site.Get("key=" + key, {}, 1).body == name);
      registered.push_back(key);
    } else {
      const HttpReply reply = site.Get("key=" + TestKey(n), {}, 1);
      REQUIRE(reply.status == 200);
      REQUIRE(reply.body.empty());
    }
    if (n % 200 == 0) handed = CountLinesWith(site.Log(), other + " gosl-basics") > 0;
  }
  REQUIRE(handed);
  // Said by the process that gave it up, once.
  const std::string log = site.Log();
  CHECK(CountLinesWith(log, "handed to the processes the web server sends requests to") == 1);
  size_t said = log.find("handed to the processes the web server sends requests to");
  CHECK(log.rfind(holder, said) != std::string::npos);
  CHECK(log.rfind(holder, said) > log.rfind('\n', said));
  // Each registration counted once.
  const std::string status = site.Get("status=1", {}, 1).body;
  INFO(status);
  CHECK(status.find(", " + std::to_string(registered.size()) + " ever") != std::string::npos);
  // Both still answer, from the new holder; nothing registered was lost.
  for (int i = 0; i < 2; ++i) {
    CHECK(site.Get("name=mini", {}, i).body == kMiniKey);
    for (size_t r = 0; r < registered.size(); ++r) {
      INFO("registration " << r << " read through process " << i);
      CHECK(site.Get("key=" + registered[r], {}, i).body == "Handed" + std::to_string(r * 400 + 399));
    }
  }
}

TEST_CASE("a holder that answers requests of its own keeps the database", "[integration][processes]") {
  Site site(Site::Db::kSeeded);
  site.Start({"--writes", "open"}, 2);
  REQUIRE(site.Get("name=mini", {}, 0).body == kMiniKey);
  // Twice the lookups and well over the time that hand a silent holder's
  // database over, one in twenty of them to the holder.
  const auto start = std::chrono::steady_clock::now();
  for (int n = 0; n < 2000 || std::chrono::steady_clock::now() - start < std::chrono::seconds(3); ++n) {
    REQUIRE(site.Get("key=" + TestKey(n), {}, n % 20 == 0 ? 0 : 1).status == 200);
  }
  CHECK(site.Log().find("handed to the processes") == std::string::npos);
  CHECK(CountLinesWith(site.Log(), "[" + std::to_string(site.process(1).pid()) + "] NOTICE gosl-basics") == 0);
}

}  // namespace gosl::test
