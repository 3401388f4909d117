// The real binary's --shell: at a terminal (a pseudo-terminal, so libedit
// really edits lines and keeps history) and as a filter with stdin a pipe.
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "../support/site.hpp"
#include "gosl/status.hpp"
#include "gosl/store.hpp"

namespace gosl::test {
namespace {

const std::string kMiniKey = "6a6b5a13-1f6e-4c3a-9a3e-0d4c1d2e3f40";
const std::string kMiniByName =
    "UUID for 'Mini Resident' is: " + kMiniKey + " from grid: 'Production'";
const std::string kMiniByKey =
    "avatar name for '" + kMiniKey + "' is 'Mini Resident' on grid: 'Production'";
const std::string kPrompt = "gosl> ";
constexpr int kTimeoutMs = 10000;

// Writes Mini Resident (and `more`) into the database at db_path and closes
// it again: LevelDB lets one process at a time open a database.
void Seed(const std::string& db_path,
          const std::vector<std::pair<std::string, std::string>>& more = {}) {
  Store store({db_path});
  std::vector<std::pair<std::string, std::string>> records = {{"Mini Resident", kMiniKey}};
  records.insert(records.end(), more.begin(), more.end());
  for (const auto& [name, key] : records) {
    REQUIRE(
        store.Record(AvatarName::Parse(name).value(), Uuid::Parse(key).value(), "Production").ok());
  }
}

size_t Count(const std::string& text, const std::string& part) {
  size_t count = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) {
    ++count;
  }
  return count;
}

// True once `answer` has been printed `times` times and the prompt is back
// after the last one, i.e. the shell waits for the next line in raw mode.
bool AnsweredAndPrompting(const std::string& output, const std::string& answer, size_t times) {
  if (Count(output, answer) < times) return false;
  return output.find(kPrompt, output.rfind(answer)) != std::string::npos;
}

int RemainingMs(std::chrono::steady_clock::time_point end) {
  auto left = std::chrono::ceil<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

// The binary started on a new pseudo-terminal (forkpty) as its controlling
// terminal and stdin, stdout and stderr. Killed and reaped on destruction if
// it has not exited.
class PtyProcess {
 public:
  PtyProcess(const std::vector<std::string>& args, const std::vector<std::string>& env,
             const std::string& cwd) {
    // Everything the child needs is built before fork(): after it, the child
    // only calls async-signal-safe functions.
    std::vector<std::string> argv_strings = {GOSL_TEST_BINARY};
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    std::vector<char*> argv = Pointers(argv_strings);
    std::vector<char*> envp = Pointers(env);
    winsize size{};
    size.ws_row = 24;
    size.ws_col = 80;
    pid_ = forkpty(&master_, nullptr, nullptr, &size);
    if (pid_ < 0) throw std::runtime_error(std::string("forkpty: ") + std::strerror(errno));
    if (pid_ == 0) {
      if (chdir(cwd.c_str()) == 0) execve(argv[0], argv.data(), envp.data());
      static const char kFailed[] = "test: cannot start the binary\n";
      ssize_t ignored = write(2, kFailed, sizeof(kFailed) - 1);
      (void)ignored;
      _exit(127);
    }
  }

  ~PtyProcess() {
    if (!status_) {
      kill(pid_, SIGKILL);
      int status = 0;
      while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
    }
    close(master_);
  }
  PtyProcess(const PtyProcess&) = delete;
  PtyProcess& operator=(const PtyProcess&) = delete;

  // Keys as the terminal would send them, once the shell reads them itself.
  void Type(const std::string& keys) {
    WaitUntilRaw();
    size_t sent = 0;
    while (sent < keys.size()) {
      ssize_t n = write(master_, keys.data() + sent, keys.size() - sent);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw std::runtime_error(std::string("write to pty: ") + std::strerror(errno));
      sent += static_cast<size_t>(n);
    }
  }

  // Reads the terminal until done(output) holds. Throws, quoting what the
  // terminal showed, when the deadline passes or the child closes it first.
  void ReadUntil(const std::string& what, const std::function<bool(const std::string&)>& done) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(kTimeoutMs);
    while (!done(output_)) {
      pollfd p{master_, POLLIN, 0};
      int rc = poll(&p, 1, RemainingMs(end));
      if (rc < 0 && errno == EINTR) continue;
      if (rc <= 0 || !ReadSome()) {
        throw std::runtime_error("no " + what + " within " + std::to_string(kTimeoutMs) +
                                 " ms; the terminal showed: " + Sanitized(output_, 2000));
      }
    }
  }

  // Waits for the child to exit, draining the terminal meanwhile so it never
  // blocks on a full pty. Returns the waitpid status; throws at the deadline.
  int WaitForExit() {
    const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(kTimeoutMs);
    // A pidfd turns "has the child exited?" into something poll() can wait
    // for. Called through syscall(): glibc 2.36's <sys/pidfd.h> lacks
    // extern "C", so its pidfd_open() does not link from C++.
    int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid_, 0));
    if (pidfd < 0) throw std::runtime_error(std::string("pidfd_open: ") + std::strerror(errno));
    bool open = true;
    for (;;) {
      pollfd p[2] = {{pidfd, POLLIN, 0}, {open ? master_ : -1, POLLIN, 0}};
      int rc = poll(p, 2, RemainingMs(end));
      if (rc < 0 && errno == EINTR) continue;
      if (rc <= 0) break;
      if (p[1].revents != 0) open = ReadSome();
      if (p[0].revents != 0) {
        int status = 0;
        while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
        status_ = status;
        close(pidfd);
        return status;
      }
    }
    close(pidfd);
    throw std::runtime_error("the shell did not exit within " + std::to_string(kTimeoutMs) +
                             " ms; the terminal showed: " + Sanitized(output_, 2000));
  }

  const std::string& output() const { return output_; }

 private:
  // libedit prints its prompt before it puts the terminal in raw mode. Keys
  // typed in between reach the kernel's line discipline first, which echoes
  // them a second time and takes a Ctrl-D as its own end of file, so the
  // shell would never see it. A person is never that fast; a test is. The
  // master reports the terminal's modes (Linux); no event says they changed,
  // so they are looked at every few milliseconds until the deadline.
  void WaitUntilRaw() {
    const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(kTimeoutMs);
    for (;;) {
      termios mode{};
      if (tcgetattr(master_, &mode) != 0) {
        throw std::runtime_error(std::string("tcgetattr on the pty: ") + std::strerror(errno));
      }
      if ((mode.c_lflag & ICANON) == 0) return;
      if (RemainingMs(end) == 0) {
        throw std::runtime_error("the shell did not put the terminal in raw mode within " +
                                 std::to_string(kTimeoutMs) +
                                 " ms; the terminal showed: " + Sanitized(output_, 2000));
      }
      pollfd p{master_, POLLIN, 0};
      if (poll(&p, 1, 5) > 0 && !ReadSome()) {
        throw std::runtime_error("the shell closed the terminal; it showed: " +
                                 Sanitized(output_, 2000));
      }
    }
  }

  static std::vector<char*> Pointers(const std::vector<std::string>& strings) {
    std::vector<char*> out;
    for (const std::string& s : strings) out.push_back(const_cast<char*>(s.c_str()));
    out.push_back(nullptr);
    return out;
  }

  // False once the child has closed its side (Linux reports EIO then).
  bool ReadSome() {
    char buffer[4096];
    for (;;) {
      ssize_t n = read(master_, buffer, sizeof(buffer));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      output_.append(buffer, static_cast<size_t>(n));
      return true;
    }
  }

  int master_ = -1;
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::string output_;
};

}  // namespace

TEST_CASE("at a terminal the shell answers a typed name and the up arrow repeats it",
          "[integration][shell]") {
  Site site;
  Seed(site.db());
  // TERM names a terminal libedit knows; HOME keeps the tester's ~/.editrc out.
  PtyProcess shell({"--shell", "--dir", site.dir()},
                   {"PATH=/usr/bin:/bin", "TERM=xterm", "HOME=" + site.dir(), "LANG=C.UTF-8"},
                   site.dir());

  shell.ReadUntil("prompt", [](const std::string& out) { return Count(out, kPrompt) >= 1; });
  shell.Type("mini\n");
  shell.ReadUntil("answer to 'mini'",
                  [](const std::string& out) { return AnsweredAndPrompting(out, kMiniByName, 1); });
  // Up recalls "mini" from the history; Enter sends it again.
  shell.Type("\x1b[A\n");
  shell.ReadUntil("second answer after the up arrow",
                  [](const std::string& out) { return AnsweredAndPrompting(out, kMiniByName, 2); });
  CHECK(Count(shell.output(), kMiniByName) == 2);

  shell.Type("\x04");  // Ctrl-D on an empty line: end of input
  const int status = shell.WaitForExit();
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

// libedit decodes keys by LC_CTYPE; in the C locale it would drop every byte
// of "ë" and "é" and look up "Zo Rsident".
TEST_CASE("at a terminal a UTF-8 name is read whole even when no locale is set",
          "[integration][shell]") {
  Site site;
  const std::string name = "Zo\xC3\xAB R\xC3\xA9sident";
  const std::string key = "88888888-8888-4888-8888-888888888888";
  Seed(site.db(), {{name, key}});
  PtyProcess shell({"--shell", "--dir", site.dir()},
                   {"PATH=/usr/bin:/bin", "TERM=xterm", "HOME=" + site.dir()}, site.dir());
  const std::string answer = "UUID for '" + name + "' is: " + key + " from grid: 'Production'";

  shell.ReadUntil("prompt", [](const std::string& out) { return Count(out, kPrompt) >= 1; });
  shell.Type(name + "\n");
  shell.ReadUntil("answer to the UTF-8 name", [&answer](const std::string& out) {
    return AnsweredAndPrompting(out, answer, 1);
  });
  shell.Type("\x04");
  const int status = shell.WaitForExit();
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("with stdin a pipe the shell prints exactly one line per query and nothing else",
          "[integration][shell]") {
  Site site;
  Seed(site.db());
  RunResult run = site.Run({"--shell"}, "mini\n6A6B5A13-1F6E-4C3A-9A3E-0D4C1D2E3F40\n");
  CHECK(run.exit_code == 0);
  CHECK(run.out == kMiniByName + "\n" + kMiniByKey + "\n");
}

}  // namespace gosl::test
