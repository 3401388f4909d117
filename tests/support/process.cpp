#include "process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "io_util.hpp"

namespace gosl::test {
namespace {

using internal::Deadline;
using internal::ThrowErrno;
using internal::UniqueFd;

// What the child reports through the status pipe when it cannot get as far as execve.
struct SpawnFailure {
  int stage;
  int error;
};
constexpr int kStageDup = 0;
constexpr int kStageChdir = 1;
constexpr int kStageExec = 2;

// The child dup2()s its fds onto 0..2; a source fd already in that range could be overwritten before it is used.
void MoveAboveStdio(UniqueFd* fd) {
  if (fd->get() > 2) return;
  const int moved = ::fcntl(fd->get(), F_DUPFD_CLOEXEC, 3);
  if (moved < 0) ThrowErrno("fcntl(F_DUPFD_CLOEXEC)");
  fd->Reset(moved);
}

std::vector<char*> CStrings(const std::string* first, const std::vector<std::string>& rest) {
  std::vector<char*> out;
  if (first != nullptr) out.push_back(const_cast<char*>(first->c_str()));
  for (const std::string& s : rest) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

// Returns true and the status once `pid` has exited, false if the deadline passed first.
bool WaitUntil(pid_t pid, const Deadline& deadline, int* status) {
  for (;;) {
    const pid_t r = ::waitpid(pid, status, WNOHANG);
    if (r == pid) return true;
    if (r < 0 && errno != EINTR) ThrowErrno("waitpid(" + std::to_string(pid) + ")");
    if (r == 0) {
      const int left = deadline.RemainingMs();
      if (left == 0) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min(left, 5)));
    }
  }
}

int KillAndReap(pid_t pid) {
  ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

// fork + execve with fds in_fd/out_fd/err_fd (all > 2) as the child's 0/1/2 and no other descriptors inherited.
// Exec failures are reported back through a close-on-exec pipe so the caller gets an exception instead of a
// mysterious exit status 127.
pid_t Spawn(const std::string& binary, const std::vector<std::string>& args, const std::vector<std::string>& env,
            const std::string& cwd, int in_fd, int out_fd, int err_fd) {
  // Everything is prepared before fork(): the child may only make async-signal-safe calls.
  std::vector<char*> argv = CStrings(&binary, args);
  std::vector<char*> envp = CStrings(nullptr, env);
  const long open_max = std::min(::sysconf(_SC_OPEN_MAX), 65536L);

  int status_pipe[2];
  if (::pipe2(status_pipe, O_CLOEXEC) < 0) ThrowErrno("pipe2");
  UniqueFd status_read(status_pipe[0]);
  UniqueFd status_write(status_pipe[1]);
  MoveAboveStdio(&status_write);

  const pid_t pid = ::fork();
  if (pid < 0) ThrowErrno("fork");
  if (pid == 0) {
    const auto fail = [&](int stage) {
      const SpawnFailure failure{stage, errno};
      [[maybe_unused]] const ssize_t ignored = ::write(status_write.get(), &failure, sizeof(failure));
      ::_exit(127);
    };
    // Blocked or ignored signals survive execve; the program under test should start with defaults.
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &dfl, nullptr);  // fails harmlessly for KILL/STOP

    if (::dup2(in_fd, 0) < 0 || ::dup2(out_fd, 1) < 0 || ::dup2(err_fd, 2) < 0) fail(kStageDup);
    if (!cwd.empty() && ::chdir(cwd.c_str()) < 0) fail(kStageChdir);
    // Descriptors the test process opened without O_CLOEXEC must not leak into the program under test.
    if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
      for (int fd = 3; fd < open_max; ++fd) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
    ::execve(argv[0], argv.data(), envp.data());
    fail(kStageExec);
  }

  status_write.Reset();
  SpawnFailure failure{};
  ssize_t n;
  while ((n = ::read(status_read.get(), &failure, sizeof(failure))) < 0 && errno == EINTR) {
  }
  if (n == static_cast<ssize_t>(sizeof(failure))) {
    KillAndReap(pid);
    const char* stage = failure.stage == kStageDup ? "dup2 for" : failure.stage == kStageChdir ? "chdir to" : "execve";
    const std::string target = failure.stage == kStageChdir ? cwd : binary;
    throw std::runtime_error(std::string("cannot start ") + binary + ": " + stage + " " + target + ": " +
                             std::strerror(failure.error));
  }
  return pid;
}

// Kills and reaps the child if RunProgram leaves early (timeout or error), so no zombie or stray process remains.
class ChildGuard {
 public:
  explicit ChildGuard(pid_t pid) : pid_(pid) {}
  ~ChildGuard() {
    if (pid_ > 0) KillAndReap(pid_);
  }
  ChildGuard(const ChildGuard&) = delete;
  ChildGuard& operator=(const ChildGuard&) = delete;
  void Release() { pid_ = -1; }

 private:
  pid_t pid_;
};

// Writing to a pipe whose reader has gone raises SIGPIPE, which would kill the test binary; block it while feeding
// stdin and swallow the ones we caused.
class SigpipeBlock {
 public:
  SigpipeBlock() {
    ::sigemptyset(&set_);
    ::sigaddset(&set_, SIGPIPE);
    ::pthread_sigmask(SIG_BLOCK, &set_, &old_);
    sigset_t pending;
    ::sigpending(&pending);
    was_pending_ = ::sigismember(&pending, SIGPIPE) == 1;
  }
  ~SigpipeBlock() {
    if (!was_pending_) {
      const timespec zero{};
      while (::sigtimedwait(&set_, nullptr, &zero) == SIGPIPE) {
      }
    }
    ::pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeBlock(const SigpipeBlock&) = delete;
  SigpipeBlock& operator=(const SigpipeBlock&) = delete;

 private:
  sigset_t set_;
  sigset_t old_;
  bool was_pending_ = false;
};

void MakePipe(UniqueFd* read_end, UniqueFd* write_end) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) < 0) ThrowErrno("pipe2");
  read_end->Reset(fds[0]);
  write_end->Reset(fds[1]);
}

int ExitCode(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

FastCgiProcess::FastCgiProcess(const std::string& binary, const std::vector<std::string>& args,
                               const std::string& socket_path, const std::string& cwd,
                               const std::vector<std::string>& env, const std::string& stdout_path,
                               const std::string& stderr_path)
    : socket_path_(socket_path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof(addr.sun_path)) {
    throw std::runtime_error("FastCgiProcess: socket path too long: " + socket_path);
  }
  socket_path.copy(addr.sun_path, socket_path.size());
  UniqueFd listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!listener.valid()) ThrowErrno("FastCgiProcess: socket");
  if (::unlink(socket_path.c_str()) < 0 && errno != ENOENT) ThrowErrno("FastCgiProcess: unlink " + socket_path);
  if (::bind(listener.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) < 0) {
    ThrowErrno("FastCgiProcess: bind " + socket_path);
  }
  try {
    if (::listen(listener.get(), 64) < 0) ThrowErrno("FastCgiProcess: listen " + socket_path);
    // O_APPEND keeps both streams intact when a test points them at the same file.
    const int flags = O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC;
    UniqueFd out(::open(stdout_path.c_str(), flags, 0644));
    if (!out.valid()) ThrowErrno("FastCgiProcess: open " + stdout_path);
    UniqueFd err(::open(stderr_path.c_str(), flags, 0644));
    if (!err.valid()) ThrowErrno("FastCgiProcess: open " + stderr_path);
    MoveAboveStdio(&listener);
    MoveAboveStdio(&out);
    MoveAboveStdio(&err);
    pid_ = Spawn(binary, args, env, cwd, listener.get(), out.get(), err.get());
  } catch (...) {
    ::unlink(socket_path.c_str());
    throw;
  }
  // The parent's copy of the listener is closed here, as mod_fcgid does: once the child is gone, connecting fails
  // instead of hanging.
}

FastCgiProcess::~FastCgiProcess() {
  try {
    if (pid_ > 0 && !status_) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      if (!WaitUntil(pid_, Deadline(5000), &status)) status = KillAndReap(pid_);
      status_ = status;
    }
  } catch (...) {
    // Destructors must not throw; the child is gone or was reaped by someone else.
  }
  ::unlink(socket_path_.c_str());
}

int FastCgiProcess::StopWith(int signal, int timeout_ms) {
  if (status_) return *status_;
  if (::kill(pid_, signal) < 0) ThrowErrno("kill(" + std::to_string(pid_) + ")");
  int status = 0;
  if (!WaitUntil(pid_, Deadline(timeout_ms), &status)) {
    throw std::runtime_error("process " + std::to_string(pid_) + " did not exit within " + std::to_string(timeout_ms) +
                             " ms after signal " + std::to_string(signal));
  }
  status_ = status;
  return status;
}

int FastCgiProcess::Wait(int timeout_ms) {
  if (status_) return *status_;
  int status = 0;
  if (!WaitUntil(pid_, Deadline(timeout_ms), &status)) {
    throw std::runtime_error("process " + std::to_string(pid_) + " did not exit within " + std::to_string(timeout_ms) +
                             " ms");
  }
  status_ = status;
  return status;
}

bool FastCgiProcess::Running() {
  if (status_) return false;
  int status = 0;
  pid_t r;
  while ((r = ::waitpid(pid_, &status, WNOHANG)) < 0 && errno == EINTR) {
  }
  if (r == 0) return true;
  if (r < 0) ThrowErrno("waitpid(" + std::to_string(pid_) + ")");
  status_ = status;
  return false;
}

RunResult RunProgram(const std::string& binary, const std::vector<std::string>& args,
                     const std::vector<std::string>& env, const std::string& input, int timeout_ms,
                     const std::string& cwd, const std::string& stdin_path) {
  UniqueFd in_child, in_parent, out_parent, out_child, err_parent, err_child;
  if (!stdin_path.empty()) {
    in_child.Reset(::open(stdin_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!in_child.valid()) ThrowErrno("RunProgram: open " + stdin_path);
  } else {
    MakePipe(&in_child, &in_parent);
  }
  MakePipe(&out_parent, &out_child);
  MakePipe(&err_parent, &err_child);
  MoveAboveStdio(&in_child);
  MoveAboveStdio(&out_child);
  MoveAboveStdio(&err_child);

  const Deadline deadline(timeout_ms);
  const pid_t pid = Spawn(binary, args, env, cwd, in_child.get(), out_child.get(), err_child.get());
  ChildGuard guard(pid);
  // Our copies of the child's ends must go, or we would never see EOF on its output.
  in_child.Reset();
  out_child.Reset();
  err_child.Reset();

  if (input.empty()) in_parent.Reset();
  for (UniqueFd* fd : {&in_parent, &out_parent, &err_parent}) {
    if (fd->valid()) internal::SetNonBlocking(fd->get());
  }

  RunResult result{-1, "", ""};
  const SigpipeBlock sigpipe_block;
  size_t written = 0;
  char buf[65536];
  while (in_parent.valid() || out_parent.valid() || err_parent.valid()) {
    pollfd fds[3];
    UniqueFd* owners[3];
    std::string* sinks[3] = {nullptr, nullptr, nullptr};
    nfds_t n = 0;
    if (in_parent.valid()) {
      owners[n] = &in_parent;
      fds[n++] = {in_parent.get(), POLLOUT, 0};
    }
    if (out_parent.valid()) {
      owners[n] = &out_parent;
      sinks[n] = &result.out;
      fds[n++] = {out_parent.get(), POLLIN, 0};
    }
    if (err_parent.valid()) {
      owners[n] = &err_parent;
      sinks[n] = &result.err;
      fds[n++] = {err_parent.get(), POLLIN, 0};
    }
    const int rc = ::poll(fds, n, deadline.RemainingMs());
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) ThrowErrno("RunProgram: poll");
    if (rc == 0) {
      throw std::runtime_error("RunProgram: " + binary + " still running after " + std::to_string(timeout_ms) +
                               " ms; killed (stdout so far: \"" + result.out + "\", stderr so far: \"" + result.err +
                               "\")");
    }
    for (nfds_t i = 0; i < n; ++i) {
      if (fds[i].revents == 0) continue;
      if (sinks[i] == nullptr) {
        const ssize_t w = ::write(fds[i].fd, input.data() + written, input.size() - written);
        if (w >= 0) {
          written += static_cast<size_t>(w);
          if (written == input.size()) owners[i]->Reset();  // EOF for the child
        } else if (errno == EPIPE) {
          owners[i]->Reset();  // the child stopped reading; that is its business
        } else if (errno != EAGAIN && errno != EINTR) {
          ThrowErrno("RunProgram: write to stdin");
        }
      } else {
        const ssize_t r = ::read(fds[i].fd, buf, sizeof(buf));
        if (r > 0) {
          sinks[i]->append(buf, static_cast<size_t>(r));
        } else if (r == 0) {
          owners[i]->Reset();
        } else if (errno != EAGAIN && errno != EINTR) {
          ThrowErrno("RunProgram: read");
        }
      }
    }
  }

  int status = 0;
  if (!WaitUntil(pid, deadline, &status)) {
    throw std::runtime_error("RunProgram: " + binary + " closed its output but still running after " +
                             std::to_string(timeout_ms) + " ms; killed");
  }
  guard.Release();
  result.exit_code = ExitCode(status);
  return result;
}

bool WaitForTcpPort(int port, int timeout_ms) {
  const Deadline deadline(timeout_ms);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (;;) {
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd.valid()) ThrowErrno("WaitForTcpPort: socket");
    // Loopback connects complete or fail immediately, so a blocking connect is fine here.
    int rc;
    while ((rc = ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr))) < 0 && errno == EINTR) {
    }
    if (rc == 0) return true;
    const int left = deadline.RemainingMs();
    if (left == 0) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(left, 20)));
  }
}

int FreeTcpPort() {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) ThrowErrno("FreeTcpPort: socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) < 0) ThrowErrno("FreeTcpPort: bind");
  socklen_t len = sizeof(addr);
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) < 0) ThrowErrno("FreeTcpPort: getsockname");
  return ntohs(addr.sin_port);
}

}  // namespace gosl::test
