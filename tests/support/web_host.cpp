#include "web_host.hpp"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "files.hpp"
#include "process.hpp"

namespace gosl::test {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

const char kTestUser[] = "gosl-apache-test";

[[noreturn]] void Fail(const std::string& what) { throw std::runtime_error(what); }

void SleepMs(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

}  // namespace

ServerUser UnprivilegedUser() {
  ServerUser user;
  if (::geteuid() != 0) {
    user.uid = ::getuid();
    user.gid = ::getgid();
    const passwd* pw = ::getpwuid(user.uid);
    user.name = pw != nullptr ? pw->pw_name : std::to_string(user.uid);
    return user;
  }
  if (::getpwnam(kTestUser) == nullptr) {
    const RunResult r =
        RunProgram("/usr/sbin/useradd",
                   {"--system", "--no-create-home", "--shell", "/usr/sbin/nologin", kTestUser},
                   {"PATH=/usr/sbin:/usr/bin:/sbin:/bin"});
    // 9: created meanwhile by a test run in parallel.
    if (r.exit_code != 0 && r.exit_code != 9) {
      Fail(std::string("useradd ") + kTestUser + " failed (" + std::to_string(r.exit_code) +
           "): " + r.err);
    }
  }
  const passwd* pw = ::getpwnam(kTestUser);
  if (pw == nullptr) Fail(std::string("user ") + kTestUser + " missing after useradd");
  user.name = kTestUser;
  user.uid = pw->pw_uid;
  user.gid = pw->pw_gid;
  user.switch_to = true;
  return user;
}

void ChownTree(const std::string& top, uid_t uid, gid_t gid) {
  if (::lchown(top.c_str(), uid, gid) != 0) Fail("chown " + top + ": " + std::strerror(errno));
  for (const fs::directory_entry& entry : fs::recursive_directory_iterator(top)) {
    const std::string path = entry.path().string();
    if (::lchown(path.c_str(), uid, gid) != 0) Fail("chown " + path + ": " + std::strerror(errno));
  }
}

std::string ConfigWithWrites(std::string config_ini, const std::string& writes) {
  const std::string shipped_writes = "\nwrites = sl-only\n";
  const size_t at = config_ini.find(shipped_writes);
  if (at == std::string::npos) Fail("shipped config.ini has no writes = sl-only");
  config_ini.replace(at, shipped_writes.size(), "\nwrites = " + writes + "\n");
  return config_ini;
}

std::vector<ProcInfo> LiveProcesses() {
  std::vector<ProcInfo> out;
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string stat = ReadFile("/proc/" + name + "/stat");
    const size_t paren = stat.rfind(')');
    if (paren == std::string::npos) continue;  // exited meanwhile
    std::istringstream fields(stat.substr(paren + 1));
    ProcInfo info{static_cast<pid_t>(std::stol(name)), 0, '?', {}};
    pid_t ppid = 0;
    fields >> info.state >> ppid >> info.pgid;
    if (!fields || info.state == 'Z' || info.state == 'X') continue;
    const std::string cmdline = ReadFile("/proc/" + name + "/cmdline");
    for (size_t start = 0; start < cmdline.size();) {
      size_t end = cmdline.find('\0', start);
      if (end == std::string::npos) end = cmdline.size();
      info.argv.push_back(cmdline.substr(start, end - start));
      start = end + 1;
    }
    out.push_back(std::move(info));
  }
  return out;
}

bool ProcessAlive(pid_t pid) {
  for (const ProcInfo& p : LiveProcesses()) {
    if (p.pid == pid) return true;
  }
  return false;
}

bool ReapedChild(pid_t pid, int* status) {
  for (;;) {
    const pid_t r = ::waitpid(pid, status, WNOHANG);
    if (r == pid) return true;
    if (r == 0) return false;
    if (errno == EINTR) continue;
    if (errno == ECHILD) return true;  // already reaped
    Fail(std::string("waitpid: ") + std::strerror(errno));
  }
}

pid_t StartGroupLeader(const std::vector<std::string>& args, const std::vector<std::string>& env,
                       const std::string& dir, const std::string& output_path,
                       const ServerUser& user) {
  // Everything the child needs is built before fork(): after it only async-signal-safe calls.
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const std::string& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  const int out = ::open(output_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  const int null_in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (out < 0 || null_in < 0) {
    const std::string why = std::strerror(errno);
    if (out >= 0) ::close(out);
    if (null_in >= 0) ::close(null_in);
    Fail("open " + output_path + ": " + why);
  }
  const bool drop = user.switch_to;
  const uid_t uid = user.uid;
  const gid_t gid = user.gid;
  const char* cwd = dir.c_str();

  const pid_t pid = ::fork();
  if (pid < 0) {
    const std::string why = std::strerror(errno);
    ::close(out);
    ::close(null_in);
    Fail("fork: " + why);
  }
  if (pid == 0) {
    // Own process group, so that a last-resort kill reaches every process the server started.
    ::setpgid(0, 0);
    if (drop && (::setgroups(1, &gid) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0))
      ::_exit(126);
    if (::dup2(null_in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(out, 2) < 0) ::_exit(126);
    ::close_range(3, ~0U, 0);
    if (::chdir(cwd) != 0) ::_exit(126);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also from here, so the group exists whichever runs first
  ::close(out);
  ::close(null_in);
  return pid;
}

std::vector<pid_t> ProcessesFrom(pid_t pgid, const std::string& root) {
  std::vector<pid_t> out;
  for (const ProcInfo& p : LiveProcesses()) {
    bool ours = pgid > 0 && p.pgid == pgid;
    for (const std::string& arg : p.argv) {
      if (arg.compare(0, root.size() + 1, root + "/") == 0) ours = true;
    }
    if (ours && p.pid != ::getpid()) out.push_back(p.pid);
  }
  return out;
}

void KillProcessesFrom(pid_t pgid, const std::string& root) {
  if (pgid > 0) ::kill(-pgid, SIGKILL);
  std::vector<pid_t> left = ProcessesFrom(pgid, root);
  if (left.empty()) return;
  for (pid_t pid : left) ::kill(pid, SIGKILL);
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  while (Clock::now() < deadline) {
    left.erase(
        std::remove_if(left.begin(), left.end(), [](pid_t pid) { return !ProcessAlive(pid); }),
        left.end());
    if (left.empty()) return;
    SleepMs(10);
  }
  Fail(std::to_string(left.size()) + " process(es) from " + root + " survive SIGKILL, first PID " +
       std::to_string(left.front()));
}

bool StopProcessTree(pid_t leader, int stop_signal, const std::string& root, int timeout_ms) {
  if (leader < 0) {
    KillProcessesFrom(-1, root);
    return true;
  }
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  bool clean = ::kill(leader, stop_signal) == 0;
  int status = 0;
  while (!ReapedChild(leader, &status)) {
    if (Clock::now() >= deadline) {
      clean = false;
      ::kill(-leader, SIGKILL);
      while (::waitpid(leader, &status, 0) < 0 && errno == EINTR) {
      }
      break;
    }
    SleepMs(10);
  }
  // The server's children and the app processes go with it; give stragglers the rest
  // of the deadline before calling them leftovers.
  while (!ProcessesFrom(leader, root).empty() && Clock::now() < deadline) SleepMs(10);
  if (!ProcessesFrom(leader, root).empty()) clean = false;
  KillProcessesFrom(leader, root);
  return clean;
}

}  // namespace gosl::test
