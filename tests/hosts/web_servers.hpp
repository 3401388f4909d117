// LighttpdServer and NginxServer: a private lighttpd or nginx on 127.0.0.1
// serving the real binary through the configuration users copy
// (hosts/lighttpd.conf, hosts/nginx.conf, placeholders filled in). Everything
// they write lives in one temp directory; each owns the processes it starts
// and leaves none running behind it.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "../support/process.hpp"
#include "../support/temp_dir.hpp"
#include "../support/web_host.hpp"

namespace gosl::test {

struct HostOptions {
  // Called with the database path (app_dir()/slkvdb) before anything starts, e.g.
  // SeedApiDatabase. Leave empty for no database.
  std::function<void(const std::string& db_path)> prepare_database;
  // The shipped config.ini is copied beside the binary with "writes = sl-only" made this.
  std::string writes = "open";
  int start_timeout_ms = 20000;
};

// What both servers share: a temp directory with the document root htdocs/, the
// app directory htdocs/name2key/ in it (a copy of the binary, config.ini, the
// database), the server's configs, logs/, run/ (sockets) and tmp/, all owned by
// the user everything runs as (UnprivilegedUser(): not root).
class WebServer {
 public:
  ~WebServer();  // Stop(), ignoring its result
  WebServer(const WebServer&) = delete;
  WebServer& operator=(const WebServer&) = delete;

  // SIGTERM to the server (and, behind nginx, to the app processes spawn-fcgi
  // left), then waits up to timeout_ms; then SIGKILLs whatever still runs from the
  // temp directory. True if everything exited on SIGTERM in time, false if
  // something had to be killed. Throws std::runtime_error only if processes
  // survive SIGKILL. Safe to call twice.
  bool Stop(int timeout_ms = 15000);

  int port() const { return port_; }
  // URL path of the program, and the app directory on disk.
  std::string app_url() const { return "/name2key/gosl-basics.fcgi"; }
  const std::string& app_dir() const { return app_dir_; }
  std::string AppLog() const;     // app_dir()/gosl.log
  std::string ServerLog() const;  // the server's error log, then what it wrote to stderr
  // Live processes running the app's binary (argv[0] or /proc/PID/exe is
  // app_dir()/gosl-basics.fcgi), sorted.
  std::vector<pid_t> AppPids() const;

 protected:
  struct Program {
    std::string path;
    std::string package;  // the Debian package that installs it
  };
  // server: the program's name as its Server header starts ("lighttpd"). Throws
  // std::runtime_error naming the package of the first of `programs` missing.
  // apps_outlive_server: the app processes are not the server's to stop.
  WebServer(HostOptions options, std::string server, const std::vector<Program>& programs,
            bool apps_outlive_server);

  std::string Path(const std::string& name) const { return root_.File(name); }
  const std::string& binary_path() const { return binary_path_; }
  // hosts/<example> with @APP_DIR@ and @SOCKET@ filled in, written beside the
  // server's config; returns the file's path.
  std::string WriteExample(const std::string& example, const std::string& socket) const;
  // A file the server reads, owned by its user.
  void WriteServerFile(const std::string& path, const std::string& text) const;
  // args as the server's user, to their end (at most 20 s).
  RunResult RunAsServerUser(const std::vector<std::string>& args) const;
  // On a free port: write_config(port), then args run as the leader of a process
  // group. Returns once the port answers HTTP with this server's Server header;
  // retries with another port if it was taken meanwhile. Throws with the server's
  // log when it does not start in time.
  void Launch(const std::function<void(int)>& write_config, const std::vector<std::string>& args);
  [[noreturn]] void Fail(const std::string& what) const;

 private:
  void Prepare();
  bool WaitUntilServing(int timeout_ms, std::string* why);

  HostOptions options_;
  std::string server_;
  bool apps_outlive_server_;
  ServerUser user_;
  TempDir root_;
  std::string app_dir_;
  std::string binary_path_;
  int port_ = 0;
  pid_t pid_ = -1;  // the server's main process, our child, leader of its process group
};

// lighttpd -D, hosts/lighttpd.conf included from a config like Debian's: its
// mod_fastcgi starts kAppProcesses app processes itself ("bin-path").
class LighttpdServer : public WebServer {
 public:
  static constexpr int kAppProcesses = 2;  // the example's "max-procs"
  explicit LighttpdServer(HostOptions options = {});
};

// spawn-fcgi -F kAppProcesses: that many app processes on one unix socket, then
// nginx (-g 'daemon off;') with hosts/nginx.conf in its server block passing
// requests to it. Started as the unprivileged user, nginx needs no "user" directive.
class NginxServer : public WebServer {
 public:
  static constexpr int kAppProcesses = 2;
  explicit NginxServer(HostOptions options = {});
};

}  // namespace gosl::test
