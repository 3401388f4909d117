// Threads started with QuietThread (util/quiet_thread.hpp) leave the
// process's signals to the thread that serves requests.
#include "util/quiet_thread.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>

#include <catch2/catch.hpp>

namespace gosl {
namespace {

std::atomic<pid_t> handled_by{0};
void NoteHandler(int) { handled_by = ::gettid(); }

// In a child of its own (one thread when forked): 'y' when a signal sent
// while the main thread blocks it waits, pending, instead of running on a
// quiet thread, and runs on the main thread once it unblocks it.
char SignalWaitsForTheMainThread() {
  struct sigaction note {};
  note.sa_handler = NoteHandler;
  sigemptyset(&note.sa_mask);
  if (::sigaction(SIGUSR2, &note, nullptr) != 0) return 'a';
  std::atomic<bool> stop{false};
  std::thread quiet = QuietThread([&stop] {
    while (!stop) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  });
  sigset_t usr2, before;
  sigemptyset(&usr2);
  sigaddset(&usr2, SIGUSR2);
  ::pthread_sigmask(SIG_BLOCK, &usr2, &before);
  ::kill(::getpid(), SIGUSR2);
  // A thread that could take it would have run the handler by now.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  sigset_t pending;
  ::sigpending(&pending);
  const bool waited = sigismember(&pending, SIGUSR2) == 1 && handled_by == 0;
  ::pthread_sigmask(SIG_SETMASK, &before, nullptr);  // delivered here, now
  const bool here = handled_by == ::gettid();
  stop = true;
  quiet.join();
  return waited ? (here ? 'y' : 'h') : 'w';
}

}  // namespace

TEST_CASE("a quiet thread never takes a signal meant for the serving thread", "[fastcgi]") {
  int said[2];
  REQUIRE(::pipe(said) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    const char answer = SignalWaitsForTheMainThread();
    (void)!::write(said[1], &answer, 1);
    ::_exit(0);
  }
  ::close(said[1]);
  char answer = 0;
  (void)!::read(said[0], &answer, 1);
  ::close(said[0]);
  ::waitpid(child, nullptr, 0);
  INFO("w: taken by another thread, h: not run on the main thread, a: no handler");
  CHECK(answer == 'y');
}

}  // namespace gosl
