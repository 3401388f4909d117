// Threads that never run the process's signal handlers. A stop signal must
// reach the thread that serves requests: its handler sets a flag, and only
// in that thread does it also interrupt the blocked accept() that would
// otherwise wait for one more request (fcgi_loop.cpp). The kernel gives a
// signal to any thread not blocking it, for instance while the serving
// thread has every signal blocked for the instant pthread_create takes.
#pragma once

#include <pthread.h>
#include <signal.h>

#include <thread>
#include <utility>

namespace gosl {

// Starts a std::thread running body with the asynchronous signals blocked
// (faults still reach it). Throws what std::thread throws.
template <typename Body>
std::thread QuietThread(Body&& body) {
  sigset_t quiet, before;
  sigfillset(&quiet);
  for (int fault : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS, SIGABRT}) sigdelset(&quiet, fault);
  pthread_sigmask(SIG_BLOCK, &quiet, &before);  // the new thread inherits it
  struct Restore {
    const sigset_t& mask;
    ~Restore() { pthread_sigmask(SIG_SETMASK, &mask, nullptr); }
  } restore{before};
  return std::thread(std::forward<Body>(body));
}

}  // namespace gosl
