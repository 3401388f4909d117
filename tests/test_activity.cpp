// The processes' answer counts (activity.hpp): a slot per process, freed by
// the kernel however the process ends.
#include "gosl/activity.hpp"

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "support/other_user.hpp"
#include "support/temp_dir.hpp"

namespace gosl {
namespace {

// The processes of file once their counts add up to `answers` (each answer
// reaches the file within ActivityRecorder::kWriteDelay, by the recorder's
// own thread: nothing else is counted after them here), or as they are
// after 10 s.
std::vector<ProcessActivity> ReadOnce(const std::string& file, uint64_t answers) {
  std::vector<ProcessActivity> processes;
  for (int tries = 0; tries < 1000; ++tries) {
    auto read = ReadActivity(file);
    REQUIRE(read.ok());
    processes = std::move(read).value();
    uint64_t total = 0;
    for (const ProcessActivity& process : processes) {
      for (uint64_t count : process.answered) total += count;
    }
    if (total == answers) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return processes;
}

}  // namespace

TEST_CASE("each recorder holds a slot while it lives, and its counts are read back", "[status]") {
  test::TempDir dir;
  const std::string file = dir.File("db.activity");
  CHECK(ReadActivity(file).value().empty());  // no file yet: nobody
  {
    ActivityRecorder first(file), second(file);
    first.Count(Tally::kFound, true);
    first.Count(Tally::kFound, true);
    first.Count(Tally::kRefused, true);
    second.Count(Tally::kNotFound, false);
    second.Count(Tally::kFailed, false);
    second.Count(Tally::kOther, false);
    const std::vector<ProcessActivity> processes = ReadOnce(file, 6);
    REQUIRE(processes.size() == 2);
    const ProcessActivity& a = processes[0];
    const ProcessActivity& b = processes[1];
    CHECK(a.pid == ::getpid());
    CHECK(a.owner);
    CHECK_FALSE(b.owner);
    CHECK(a.answered == std::array<uint64_t, kTallies>{2, 0, 1, 0, 0});
    CHECK(b.answered == std::array<uint64_t, kTallies>{0, 1, 0, 1, 1});
    CHECK(a.started_s > 0);
    CHECK_FALSE(a.version.empty());
  }
  CHECK(ReadActivity(file).value().empty());  // both gone
}

TEST_CASE("a process killed without a word leaves no slot behind", "[status]") {
  test::TempDir dir;
  const std::string file = dir.File("db.activity");
  int ready[2];
  REQUIRE(::pipe(ready) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ActivityRecorder recorder(file);
    recorder.Count(Tally::kFound, false);
    (void)!::write(ready[1], "x", 1);
    ::pause();
    ::_exit(0);
  }
  char byte = 0;
  REQUIRE(::read(ready[0], &byte, 1) == 1);
  auto alive = ReadActivity(file);
  REQUIRE(alive.ok());
  REQUIRE(alive->size() == 1);
  CHECK(alive->front().pid == child);
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  CHECK(ReadActivity(file).value().empty());
  ::close(ready[0]);
  ::close(ready[1]);
}

TEST_CASE("a process that may not start a thread writes each answer's count at once", "[status]") {
  auto user = test::OtherUser::Create();
  if (!user) {
    WARN("skipped: making another user needs root");
    return;
  }
  test::TempDir dir;
  const std::string file = dir.File("db.activity");
  REQUIRE(::chown(dir.path().c_str(), user->uid(), user->gid()) == 0);
  int ready[2];
  REQUIRE(::pipe(ready) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // The new user's only process, allowed one: a thread would be a second.
    const struct rlimit one {1, 1};
    if (::setgid(user->gid()) != 0 || ::setuid(user->uid()) != 0 || ::setrlimit(RLIMIT_NPROC, &one) != 0) {
      ::_exit(2);
    }
    ActivityRecorder recorder(file);
    recorder.Count(Tally::kFound, true);
    recorder.Count(Tally::kFound, true);
    // Read back at once, by this user (the file is theirs): no waiting.
    const auto processes = ReadActivity(file);
    const bool written = processes.ok() && processes->size() == 1 &&
                         processes->front().answered == std::array<uint64_t, kTallies>{2, 0, 0, 0, 0};
    (void)!::write(ready[1], written ? "y" : "n", 1);
    ::_exit(0);
  }
  ::close(ready[1]);
  char said = 0;  // none when the child died (a thread it could not start, thrown)
  (void)!::read(ready[0], &said, 1);
  int status = 0;
  ::waitpid(child, &status, 0);
  ::close(ready[0]);
  CHECK(said == 'y');
  CHECK(WIFEXITED(status));
}

TEST_CASE("a recorder that cannot have its file serves on uncounted", "[status]") {
  ActivityRecorder nowhere("/nonexistent-dir/db.activity");
  nowhere.Count(Tally::kFound, true);  // must not throw or crash
  CHECK(ReadActivity("/nonexistent-dir/db.activity").value().empty());
}

}  // namespace gosl
