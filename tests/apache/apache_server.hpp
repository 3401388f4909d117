// ApacheServer: a private Apache 2.4 + mod_fcgid on 127.0.0.1 serving the real
// binary the way a shared host does (shipped .htaccess, AllowOverride All,
// not root). Everything it writes lives in one temp directory; it owns the
// Apache process tree and leaves nothing running behind it.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "../support/process.hpp"
#include "../support/temp_dir.hpp"

namespace gosl::test {

struct ApacheOptions {
  // Server-level lines added after the modules are loaded, e.g. mod_fcgid settings:
  // "FcgidMaxProcessesPerClass 4\nFcgidIdleTimeout 2\n".
  std::string extra_config;
  // Called with the database path (app_dir()/slkvdb) before Apache starts, e.g. SeedApiDatabase.
  // Leave empty for a fresh install without a database.
  std::function<void(const std::string& db_path)> prepare_database;
  // The config.ini written beside the binary; empty: a copy of the shipped htaccess/config.ini
  // (or, without one, a file that only sets logLevel = INFO).
  std::string config_ini;
  // With the shipped config.ini: its "writes = sl-only" becomes this.
  std::string writes = "open";
  // Module names (as in mod_NAME.so) not to load, e.g. {"rewrite"} for a server without mod_rewrite.
  std::vector<std::string> skip_modules;
  // The binary copied into the app directory; empty: GOSL_TEST_BINARY.
  std::string binary;
  // False: the app directory is not made at all (no binary, .htaccess, config.ini or
  // database), as on a host before the deploy guide's first upload.
  bool install_app = true;
  int start_timeout_ms = 20000;
};

class ApacheServer {
 public:
  // The app is served from /name2key/ (document root subdirectory) holding a copy of the binary, the
  // shipped htaccess/.htaccess (unmodified), a config.ini and the database made by prepare_database.
  // When run as root, Apache runs as the system user "gosl-apache-test" (created if missing, owner of
  // the temp directory); otherwise as the current user. Returns once 127.0.0.1:port() accepts
  // connections. Throws std::runtime_error naming the Debian package when apache2 or mod_fcgid is
  // missing, and with the tail of Apache's error log when it does not start in time.
  explicit ApacheServer(ApacheOptions options = {});
  // Stop(), ignoring its result.
  ~ApacheServer();
  ApacheServer(const ApacheServer&) = delete;
  ApacheServer& operator=(const ApacheServer&) = delete;

  // Graceful restart (SIGUSR1 to the parent, as apachectl graceful does): mod_fcgid's process
  // manager is replaced and stops every app process. Returns once Apache has logged that it resumed
  // and answers HTTP again. Throws std::runtime_error if that does not happen within timeout_ms.
  void Graceful(int timeout_ms = 20000);

  // Stops Apache (SIGTERM to the parent, which stops its children and mod_fcgid's processes) and
  // waits up to timeout_ms; then SIGKILLs the process group and any process still running from the
  // temp directory. Returns true if everything exited on SIGTERM within the deadline, false if
  // something had to be killed. Throws std::runtime_error only if processes survive SIGKILL.
  // Safe to call twice.
  bool Stop(int timeout_ms = 15000);

  int port() const { return port_; }
  // URL path of the app directory ("/name2key/") and of the program in it.
  std::string app_prefix() const { return "/name2key/"; }
  std::string app_url() const { return "/name2key/gosl-basics.fcgi"; }
  // Filesystem path of the app directory (binary, .htaccess, config.ini, slkvdb/, gosl.log).
  const std::string& app_dir() const { return app_dir_; }
  const std::string& user() const { return user_; }
  uid_t uid() const { return uid_; }
  gid_t gid() const { return gid_; }
  // Runs the app's binary from the command line as the site's user (as the
  // owner does over SSH): `--dir app_dir()` then args, stdin input.
  RunResult RunAsSiteUser(const std::vector<std::string>& args, const std::string& input = "") const;
  // Runs a shell command as the site's user in app_dir() (as a guide's
  // `ssh $HOST '…'` does).
  RunResult ShellAsSiteUser(const std::string& command) const;
  // A directory beside the document root (root/name), owned by the site's user.
  std::string MakeSiteDir(const std::string& name) const;
  // The document root: app_dir() is its name2key/.
  std::string htdocs() const { return root_.path() + "/htdocs"; }
  // Runs a bash script as the site's user from dir, with exactly env, for up to timeout_ms.
  RunResult BashAsSiteUser(const std::string& script, const std::vector<std::string>& env,
                           const std::string& dir, int timeout_ms) const;
  pid_t apache_pid() const { return pid_; }

  std::string ErrorLog() const;  // Apache's error log so far
  std::string AccessLog() const;
  std::string AppLog() const;    // app_dir()/gosl.log
  // PIDs of the processes running the app binary, as `pgrep -f <app_dir>/gosl-basics.fcgi` lists
  // them (argv[0] is the script path under mod_fcgid).
  std::vector<pid_t> AppPids() const;

 private:
  // program with args, run as the site's user (through setpriv when the tests run as root).
  RunResult AsSiteUser(const std::string& program, std::vector<std::string> args,
                       const std::vector<std::string>& env, const std::string& input, int timeout_ms,
                       const std::string& dir) const;
  void Prepare();
  void Launch();
  bool WaitUntilServing(int timeout_ms, std::string* why);

  ApacheOptions options_;
  TempDir root_;
  std::string app_dir_;
  std::string binary_path_;
  std::string config_path_;
  std::string user_;
  uid_t uid_ = 0;
  gid_t gid_ = 0;
  int port_ = 0;
  pid_t pid_ = -1;  // Apache's parent, our child, leader of its own process group
};

}  // namespace gosl::test
