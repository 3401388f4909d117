#include "apache_server.hpp"

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
#include "../support/web_host.hpp"

namespace gosl::test {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

const char kApacheBinary[] = "/usr/sbin/apache2";
const char kModuleDir[] = "/usr/lib/apache2/modules";
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

void SleepMs(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

}  // namespace

ApacheServer::ApacheServer(ApacheOptions options) : options_(std::move(options)) {
  RequireInstalled();
  const ServerUser user = UnprivilegedUser();
  user_ = user.name;
  uid_ = user.uid;
  gid_ = user.gid;
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
    WriteFile(app_dir_ + "/config.ini",
              ConfigWithWrites(ReadFile(shipped + "config.ini"), options_.writes));
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

  const std::vector<std::string> args = {kApacheBinary, "-f", config_path_, "-DFOREGROUND"};
  const std::vector<std::string> env = {"PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "LANG=C"};
  pid_ = StartGroupLeader(args, env, root, root + "/logs/stderr.log",
                          {user_, uid_, gid_, ::geteuid() == 0});
}

bool ApacheServer::WaitUntilServing(int timeout_ms, std::string* why) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    int status = 0;
    if (ReapedChild(pid_, &status)) {
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
    if (ReapedChild(pid_, &status)) {
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
  // Apache's children and mod_fcgid's processes go with the parent (SIGTERM).
  const bool clean = StopProcessTree(pid_, SIGTERM, root_.path(), timeout_ms);
  pid_ = -1;
  return clean;
}

std::string ApacheServer::ErrorLog() const { return ReadFile(root_.File("logs/error.log")); }
std::string ApacheServer::AccessLog() const { return ReadFile(root_.File("logs/access.log")); }
std::string ApacheServer::AppLog() const { return ReadFile(app_dir_ + "/gosl.log"); }

std::vector<pid_t> ApacheServer::AppPids() const {
  std::vector<pid_t> out;
  for (const ProcInfo& p : LiveProcesses()) {
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
