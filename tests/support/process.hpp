#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace gosl::test {

// Runs `binary` the way Apache mod_fcgid does: a listening AF_UNIX socket bound to `socket_path` is the child's fd 0,
// its stdout/stderr go to the files `stdout_path`/`stderr_path` (so a test can assert nothing was written there), the
// environment is exactly `env` ("NAME=value" entries) and the working directory is `cwd` (unchanged when empty).
// argv[0] is `binary`. Throws std::runtime_error if the socket cannot be set up or the binary cannot be executed.
class FastCgiProcess {
 public:
  FastCgiProcess(const std::string& binary, const std::vector<std::string>& args, const std::string& socket_path,
                 const std::string& cwd, const std::vector<std::string>& env, const std::string& stdout_path,
                 const std::string& stderr_path);
  // SIGTERM if still running, up to 5 s grace, then SIGKILL; always reaps and removes the socket file.
  ~FastCgiProcess();
  FastCgiProcess(const FastCgiProcess&) = delete;
  FastCgiProcess& operator=(const FastCgiProcess&) = delete;

  pid_t pid() const { return pid_; }
  // Sends `signal` (unless the child was already reaped) and waits up to timeout_ms for it to exit; returns the
  // waitpid status. Throws std::runtime_error on timeout (the destructor still cleans up).
  int StopWith(int signal, int timeout_ms = 5000);
  // Waits up to timeout_ms for the child to exit on its own; returns the waitpid status or throws on timeout.
  int Wait(int timeout_ms = 5000);
  // True while the child has not exited (reaps it with WNOHANG otherwise).
  bool Running();
  // The waitpid status once the child has been reaped.
  std::optional<int> wait_status() const { return status_; }

 private:
  pid_t pid_ = -1;
  std::string socket_path_;
  std::optional<int> status_;
};

struct RunResult {
  int exit_code;  // WEXITSTATUS, or 128 + signal number if the program was killed by a signal
  std::string out;
  std::string err;
};

// Runs a program to completion (no shell, argv[0] = binary) with exactly the environment `env`, feeding `input` on a
// pipe as stdin and capturing stdout and stderr. If `stdin_path` is non-empty that file is opened as stdin instead
// (e.g. "/dev/null") and `input` is ignored. `cwd` is the working directory (unchanged when empty). Kills the program
// and throws std::runtime_error if it runs longer than timeout_ms or cannot be executed.
RunResult RunProgram(const std::string& binary, const std::vector<std::string>& args,
                     const std::vector<std::string>& env, const std::string& input = "", int timeout_ms = 20000,
                     const std::string& cwd = "", const std::string& stdin_path = "");

// Polls condition() every poll_ms until it holds (true) or timeout_ms passes
// (false): for what a process does after it has answered, never a fixed sleep.
template <typename Condition>
bool WaitFor(Condition condition, int timeout_ms, int poll_ms = 2) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(poll_ms));
  }
  return true;
}

// Polls until something accepts TCP connections on 127.0.0.1:port; returns false if that did not happen in time.
bool WaitForTcpPort(int port, int timeout_ms);

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, read back, closed).
int FreeTcpPort();

}  // namespace gosl::test
