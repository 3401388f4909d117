#include "apache_server.hpp"

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
#include <thread>

#include "../support/files.hpp"
#include "../support/http_client.hpp"
#include "../support/process.hpp"

namespace gosl::test {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

const char kApacheBinary[] = "/usr/sbin/apache2";
const char kModuleDir[] = "/usr/lib/apache2/modules";
const char kTestUser[] = "gosl-apache-test";
// Built into Debian's apache2 binary: core, so, watchdog, http, log_config, logio, version, unixd.
const char* const kModules[] = {"mpm_event", "authz_core", "mime", "dir", "alias", "rewrite", "fcgid"};

[[noreturn]] void Fail(const std::string& what) { throw std::runtime_error("ApacheServer: " + what); }

void RequireInstalled() {
  if (::access(kApacheBinary, X_OK) != 0) {
    Fail(std::string(kApacheBinary) +
         " not found: install the Debian package apache2 (apt-get install -y apache2)");
  }
  for (const char* module : kModules) {
    const std::string path = std::string(kModuleDir) + "/mod_" + module + ".so";
    if (::access(path.c_str(), R_OK) == 0) continue;
    if (std::string(module) == "fcgid") {
      Fail(path + " not found: install the Debian package libapache2-mod-fcgid "
                  "(apt-get install -y libapache2-mod-fcgid)");
    }
    Fail(path + " not found: reinstall the Debian package apache2");
  }
}

bool Skipped(const ApacheOptions& options, const std::string& module) {
  return std::find(options.skip_modules.begin(), options.skip_modules.end(), module) !=
         options.skip_modules.end();
}

std::string Tail(const std::string& text, size_t bytes) {
  return text.size() <= bytes ? text : "..." + text.substr(text.size() - bytes);
}

// Lowest-privilege user the tests can run Apache as: as root, a system user of our own (a shared
// host never runs the site as root); otherwise whoever runs the tests.
void ResolveUser(std::string* name, uid_t* uid, gid_t* gid) {
  if (::geteuid() != 0) {
    *uid = ::getuid();
    *gid = ::getgid();
    const passwd* pw = ::getpwuid(*uid);
    *name = pw != nullptr ? pw->pw_name : std::to_string(*uid);
    return;
  }
  if (::getpwnam(kTestUser) == nullptr) {
    const RunResult r = RunProgram(
        "/usr/sbin/useradd", {"--system", "--no-create-home", "--shell", "/usr/sbin/nologin", kTestUser},
        {"PATH=/usr/sbin:/usr/bin:/sbin:/bin"});
    // 9: created meanwhile by a test run in parallel.
    if (r.exit_code != 0 && r.exit_code != 9) {
      Fail(std::string("useradd ") + kTestUser + " failed (" + std::to_string(r.exit_code) + "): " + r.err);
    }
  }
  const passwd* pw = ::getpwnam(kTestUser);
  if (pw == nullptr) Fail(std::string("user ") + kTestUser + " missing after useradd");
  *name = kTestUser;
  *uid = pw->pw_uid;
  *gid = pw->pw_gid;
}

void ChownTree(const std::string& top, uid_t uid, gid_t gid) {
  if (::lchown(top.c_str(), uid, gid) != 0) Fail("chown " + top + ": " + std::strerror(errno));
  for (const fs::directory_entry& entry : fs::recursive_directory_iterator(top)) {
    const std::string path = entry.path().string();
    if (::lchown(path.c_str(), uid, gid) != 0) Fail("chown " + path + ": " + std::strerror(errno));
  }
}

struct ProcInfo {
  pid_t pid;
  pid_t pgid;
  char state;
  std::vector<std::string> argv;
};

// Every live (non-zombie) process; a zombie has already let go of everything but its PID.
std::vector<ProcInfo> Processes() {
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

bool Alive(pid_t pid) {
  for (const ProcInfo& p : Processes()) {
    if (p.pid == pid) return true;
  }
  return false;
}

// Reaps `pid` (our child) if it has exited; false while it runs.
bool Reaped(pid_t pid, int* status) {
  for (;;) {
    const pid_t r = ::waitpid(pid, status, WNOHANG);
    if (r == pid) return true;
    if (r == 0) return false;
    if (errno == EINTR) continue;
    if (errno == ECHILD) return true;  // already reaped
    Fail(std::string("waitpid: ") + std::strerror(errno));
  }
}

void SleepMs(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

}  // namespace

ApacheServer::ApacheServer(ApacheOptions options) : options_(std::move(options)) {
  RequireInstalled();
  ResolveUser(&user_, &uid_, &gid_);
  Prepare();
  // The port was free a moment ago; another program may take it before Apache binds, so retry.
  for (int attempt = 1;; ++attempt) {
    port_ = FreeTcpPort();
    Launch();
    std::string why;
    if (WaitUntilServing(options_.start_timeout_ms, &why)) return;
    Stop(3000);
    const std::string log = ErrorLog() + ReadFile(root_.File("logs/stderr.log"));
    if (attempt < 3 && log.find("Address already in use") != std::string::npos) continue;
    Fail("Apache did not start on 127.0.0.1:" + std::to_string(port_) + " (" + why + "); config " +
         config_path_ + "; error log:\n" + Tail(log, 3000));
  }
}

ApacheServer::~ApacheServer() {
  try {
    Stop();
  } catch (...) {
    // A destructor must not throw; Stop() called by the test reports the same failure.
  }
}

void ApacheServer::Prepare() {
  const std::string root = root_.path();
  app_dir_ = root + "/htdocs/name2key";
  binary_path_ = app_dir_ + "/gosl-basics.fcgi";
  config_path_ = root + "/apache2.conf";
  fs::create_directories(root + "/htdocs");
  fs::create_directories(root + "/logs");
  fs::create_directories(root + "/run/fcgid");
  if (!options_.install_app) {
    fs::permissions(root, fs::perms(0755), fs::perm_options::replace);
    if (::geteuid() == 0) ChownTree(root, uid_, gid_);
    return;
  }
  fs::create_directories(app_dir_);

  std::string binary = options_.binary;
#ifdef GOSL_TEST_BINARY
  if (binary.empty()) binary = GOSL_TEST_BINARY;
#endif
  if (binary.empty() || !fs::exists(binary)) Fail("app binary not found: '" + binary + "'");
  fs::copy_file(binary, binary_path_, fs::copy_options::overwrite_existing);
  // suEXEC-style hosts refuse group/world-writable programs: 0755, as users upload it.
  fs::permissions(binary_path_, fs::perms(0755), fs::perm_options::replace);

  std::string shipped = "htaccess/";
#ifdef GOSL_SOURCE_DIR
  shipped = std::string(GOSL_SOURCE_DIR) + "/" + shipped;
#endif
  if (!fs::exists(shipped + ".htaccess")) Fail("shipped .htaccess not found at " + shipped + ".htaccess");
  fs::copy_file(shipped + ".htaccess", app_dir_ + "/.htaccess", fs::copy_options::overwrite_existing);
  if (!options_.config_ini.empty()) {
    WriteFile(app_dir_ + "/config.ini", options_.config_ini);
  } else if (fs::exists(shipped + "config.ini")) {
    std::string config = ReadFile(shipped + "config.ini");
    const std::string shipped_writes = "\nwrites = sl-only\n";
    if (config.find(shipped_writes) == std::string::npos) Fail("shipped config.ini has no writes = sl-only");
    config.replace(config.find(shipped_writes), shipped_writes.size(), "\nwrites = " + options_.writes + "\n");
    WriteFile(app_dir_ + "/config.ini", config);
  } else {
    WriteFile(app_dir_ + "/config.ini", "[log]\nlogLevel = INFO\n");
  }
  if (options_.prepare_database) options_.prepare_database(app_dir_ + "/slkvdb");
  fs::permissions(root, fs::perms(0755), fs::perm_options::replace);
  if (::geteuid() == 0) ChownTree(root, uid_, gid_);
}

void ApacheServer::Launch() {
  const std::string root = root_.path();
  std::ostringstream conf;
  conf << "# Private Apache for the gosl-basics tests: 127.0.0.1 only, everything under this directory.\n"
       << "ServerRoot \"" << root << "\"\n"
       << "ServerName 127.0.0.1\n"
       << "Listen 127.0.0.1:" << port_ << "\n"
       << "PidFile " << root << "/run/apache2.pid\n"
       << "DefaultRuntimeDir " << root << "/run\n"
       // File locks rather than SysV semaphores, which would outlive a SIGKILLed server.
       << "Mutex file:" << root << "/run default\n"
       << "ErrorLog " << root << "/logs/error.log\n"
       // mod_fcgid logs each spawn and each exit (with its cause) at info.
       << "LogLevel warn fcgid:info\n";
  for (const char* module : kModules) {
    if (Skipped(options_, module)) continue;
    conf << "LoadModule " << module << "_module " << kModuleDir << "/mod_" << module << ".so\n";
  }
  conf << "TypesConfig /dev/null\n"
       << "StartServers 1\nServerLimit 2\nThreadsPerChild 32\nMaxRequestWorkers 64\n"
       << "MinSpareThreads 8\nMaxSpareThreads 64\n"
       // Test clients keep their connections for the whole run.
       << "KeepAlive On\nMaxKeepAliveRequests 0\nKeepAliveTimeout 15\nTimeout 30\n";
  if (!Skipped(options_, "fcgid")) {
    conf << "FcgidIPCDir " << root << "/run/fcgid\n"
         << "FcgidProcessTableFile " << root << "/run/fcgid_shm\n";
  }
  conf << options_.extra_config << "\n"
       << "DocumentRoot \"" << root << "/htdocs\"\n"
       << "<Directory />\n  Options None\n  AllowOverride None\n  Require all denied\n</Directory>\n"
       // What a shared host gives a site: nothing enabled, everything overridable by .htaccess.
       << "<Directory \"" << root << "/htdocs\">\n  Options None\n  AllowOverride All\n"
       << "  Require all granted\n</Directory>\n"
       << "LogFormat \"%h %t \\\"%r\\\" %>s %b %D\" timed\n"
       << "CustomLog " << root << "/logs/access.log timed\n";
  WriteFile(config_path_, conf.str());
  if (::geteuid() == 0 && ::lchown(config_path_.c_str(), uid_, gid_) != 0) Fail("chown " + config_path_);

  // Everything the child needs is built before fork(): after it only async-signal-safe calls.
  const std::vector<std::string> args = {kApacheBinary, "-f", config_path_, "-DFOREGROUND"};
  const std::vector<std::string> env = {"PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "LANG=C"};
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const std::string& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  const std::string out_path = root + "/logs/stderr.log";
  const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  const int null_in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (out < 0 || null_in < 0) Fail("open " + out_path + ": " + std::strerror(errno));
  const bool drop = ::geteuid() == 0;
  const uid_t uid = uid_;
  const gid_t gid = gid_;
  const char* dir = root.c_str();

  const pid_t pid = ::fork();
  if (pid < 0) Fail(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    // Own process group, so that a last-resort kill reaches every process Apache started.
    ::setpgid(0, 0);
    if (drop && (::setgroups(1, &gid) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0)) ::_exit(126);
    if (::dup2(null_in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(out, 2) < 0) ::_exit(126);
    ::close_range(3, ~0U, 0);
    if (::chdir(dir) != 0) ::_exit(126);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also from here, so the group exists whichever runs first
  ::close(out);
  ::close(null_in);
  pid_ = pid;
}

bool ApacheServer::WaitUntilServing(int timeout_ms, std::string* why) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    int status = 0;
    if (Reaped(pid_, &status)) {
      *why = WIFEXITED(status) ? "apache2 exited with status " + std::to_string(WEXITSTATUS(status))
                               : "apache2 killed by signal " + std::to_string(WTERMSIG(status));
      pid_ = -1;
      return false;
    }
    // The log line proves the port is Apache's, not another program's that took it first.
    if (ErrorLog().find("resuming normal operations") != std::string::npos && WaitForTcpPort(port_, 0)) {
      return true;
    }
    if (Clock::now() >= deadline) {
      *why = "not serving after " + std::to_string(timeout_ms) + " ms";
      return false;
    }
    SleepMs(10);
  }
}

void ApacheServer::Graceful(int timeout_ms) {
  if (pid_ < 0) Fail("Graceful() on a stopped server");
  const size_t restarts = CountLinesWith(ErrorLog(), "resuming normal operations");
  if (::kill(pid_, SIGUSR1) != 0) Fail(std::string("kill(SIGUSR1): ") + std::strerror(errno));
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    int status = 0;
    if (Reaped(pid_, &status)) {
      pid_ = -1;
      Fail("Apache exited during a graceful restart; error log:\n" + Tail(ErrorLog(), 3000));
    }
    if (CountLinesWith(ErrorLog(), "resuming normal operations") > restarts) {
      try {
        HttpRequest(port_, "GET", "/", "", {}, 2000);  // any answer will do
        return;
      } catch (const std::runtime_error&) {
        // not answering yet
      }
    }
    if (Clock::now() >= deadline) {
      Fail("no answer " + std::to_string(timeout_ms) + " ms after a graceful restart; error log:\n" +
           Tail(ErrorLog(), 3000));
    }
    SleepMs(20);
  }
}

bool ApacheServer::Stop(int timeout_ms) {
  if (pid_ < 0) {
    KillLeftovers();
    return true;
  }
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  bool clean = ::kill(pid_, SIGTERM) == 0;
  int status = 0;
  while (!Reaped(pid_, &status)) {
    if (Clock::now() >= deadline) {
      clean = false;
      ::kill(-pid_, SIGKILL);
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
      break;
    }
    SleepMs(10);
  }
  // Apache's children and mod_fcgid's processes go with the parent; give stragglers the rest
  // of the deadline before calling them leftovers.
  while (!ProcessesFromRoot().empty() && Clock::now() < deadline) SleepMs(10);
  if (!ProcessesFromRoot().empty()) clean = false;
  KillLeftovers();
  pid_ = -1;
  return clean;
}

std::vector<pid_t> ApacheServer::ProcessesFromRoot() const {
  std::vector<pid_t> out;
  const std::string& root = root_.path();
  for (const ProcInfo& p : Processes()) {
    bool ours = pid_ > 0 && p.pgid == pid_;
    for (const std::string& arg : p.argv) {
      if (arg.compare(0, root.size() + 1, root + "/") == 0) ours = true;
    }
    if (ours && p.pid != ::getpid()) out.push_back(p.pid);
  }
  return out;
}

void ApacheServer::KillLeftovers() {
  if (pid_ > 0) ::kill(-pid_, SIGKILL);
  std::vector<pid_t> left = ProcessesFromRoot();
  if (left.empty()) return;
  for (pid_t pid : left) ::kill(pid, SIGKILL);
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  while (Clock::now() < deadline) {
    left.erase(std::remove_if(left.begin(), left.end(), [](pid_t pid) { return !Alive(pid); }), left.end());
    if (left.empty()) return;
    SleepMs(10);
  }
  Fail(std::to_string(left.size()) + " process(es) from " + root_.path() + " survive SIGKILL, first PID " +
       std::to_string(left.front()));
}

std::string ApacheServer::ErrorLog() const { return ReadFile(root_.File("logs/error.log")); }
std::string ApacheServer::AccessLog() const { return ReadFile(root_.File("logs/access.log")); }
std::string ApacheServer::AppLog() const { return ReadFile(app_dir_ + "/gosl.log"); }

std::vector<pid_t> ApacheServer::AppPids() const {
  std::vector<pid_t> out;
  for (const ProcInfo& p : Processes()) {
    if (!p.argv.empty() && p.argv[0] == binary_path_) out.push_back(p.pid);
  }
  std::sort(out.begin(), out.end());
  return out;
}

RunResult ApacheServer::RunAsSiteUser(const std::vector<std::string>& args,
                                      const std::string& input) const {
  std::vector<std::string> all = {"--dir", app_dir_};
  all.insert(all.end(), args.begin(), args.end());
  return AsSiteUser(binary_path_, std::move(all), {"PATH=/usr/bin:/bin"}, input, 300000, app_dir_);
}

RunResult ApacheServer::AsSiteUser(const std::string& program, std::vector<std::string> args,
                                   const std::vector<std::string>& env, const std::string& input,
                                   int timeout_ms, const std::string& dir) const {
  std::string run = program;
  if (::geteuid() == 0) {  // as the site's user, through setpriv
    args.insert(args.begin(), {"--reuid=" + std::to_string(uid_), "--regid=" + std::to_string(gid_),
                               "--clear-groups", program});
    run = "/usr/bin/setpriv";
  }
  return RunProgram(run, args, env, input, timeout_ms, dir, input.empty() ? "/dev/null" : "");
}

std::string ApacheServer::MakeSiteDir(const std::string& name) const {
  const std::string dir = root_.path() + "/" + name;
  fs::create_directories(dir);
  if (::geteuid() == 0) ChownTree(dir, uid_, gid_);
  return dir;
}

RunResult ApacheServer::BashAsSiteUser(const std::string& script, const std::vector<std::string>& env,
                                       const std::string& dir, int timeout_ms) const {
  return AsSiteUser("/bin/bash", {"-c", script}, env, "", timeout_ms, dir);
}

RunResult ApacheServer::ShellAsSiteUser(const std::string& command) const {
  return AsSiteUser("/bin/sh", {"-c", command}, {"PATH=/usr/bin:/bin"}, "", 60000, app_dir_);
}

}  // namespace gosl::test
