#include "web_servers.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "../support/files.hpp"
#include "../support/http_client.hpp"

namespace gosl::test {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

const char kLighttpd[] = "/usr/sbin/lighttpd";
const char kNginx[] = "/usr/sbin/nginx";
const char kSpawnFcgi[] = "/usr/bin/spawn-fcgi";
const std::vector<std::string> kServerEnv = {"PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
                                             "LANG=C"};

std::string Tail(const std::string& text, size_t bytes) {
  return text.size() <= bytes ? text : "..." + text.substr(text.size() - bytes);
}

void ReplaceAll(std::string* text, const std::string& from, const std::string& to) {
  for (size_t at = text->find(from); at != std::string::npos;
       at = text->find(from, at + to.size())) {
    text->replace(at, from.size(), to);
  }
}

}  // namespace

WebServer::WebServer(HostOptions options, std::string server, const std::vector<Program>& programs,
                     bool apps_outlive_server)
    : options_(std::move(options)),
      server_(std::move(server)),
      apps_outlive_server_(apps_outlive_server) {
  for (const Program& program : programs) {
    if (::access(program.path.c_str(), X_OK) != 0) {
      Fail(program.path + " not found: install the Debian package " + program.package +
           " (apt-get install -y " + program.package + ", as scripts/install-deps.sh does)");
    }
  }
  user_ = UnprivilegedUser();
  Prepare();
}

WebServer::~WebServer() {
  try {
    Stop();
  } catch (...) {
    // A destructor must not throw; Stop() called by the test reports the same failure.
  }
}

void WebServer::Fail(const std::string& what) const {
  throw std::runtime_error(server_ + " test server: " + what);
}

void WebServer::Prepare() {
  const std::string root = root_.path();
  app_dir_ = root + "/htdocs/name2key";
  binary_path_ = app_dir_ + "/gosl-basics.fcgi";
  for (const char* dir : {"logs", "run", "tmp"}) fs::create_directories(root + "/" + dir);
  fs::create_directories(app_dir_);
  fs::copy_file(GOSL_TEST_BINARY, binary_path_, fs::copy_options::overwrite_existing);
  fs::permissions(binary_path_, fs::perms(0755), fs::perm_options::replace);  // as users upload it
  const std::string shipped = std::string(GOSL_SOURCE_DIR) + "/htaccess/config.ini";
  WriteFile(app_dir_ + "/config.ini", ConfigWithWrites(ReadFile(shipped), options_.writes));
  if (options_.prepare_database) options_.prepare_database(app_dir_ + "/slkvdb");
  fs::permissions(root, fs::perms(0755), fs::perm_options::replace);
  if (user_.switch_to) ChownTree(root, user_.uid, user_.gid);
}

std::string WebServer::WriteExample(const std::string& example, const std::string& socket) const {
  const std::string source = std::string(GOSL_SOURCE_DIR) + "/hosts/" + example;
  std::string text = ReadFile(source);
  if (text.empty()) Fail(source + " is missing or empty");
  ReplaceAll(&text, "@APP_DIR@", app_dir_);
  ReplaceAll(&text, "@SOCKET@", socket);
  // A placeholder the example gained and this harness does not know.
  const size_t left = text.find('@');
  if (left != std::string::npos)
    Fail(source + " has a placeholder left: '" + text.substr(left, 20) + "'");
  const std::string path = Path("gosl-basics-" + example);
  WriteServerFile(path, text);
  return path;
}

void WebServer::WriteServerFile(const std::string& path, const std::string& text) const {
  WriteFile(path, text);
  if (user_.switch_to && ::lchown(path.c_str(), user_.uid, user_.gid) != 0) Fail("chown " + path);
}

RunResult WebServer::RunAsServerUser(const std::vector<std::string>& args) const {
  std::string program = args.front();
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (user_.switch_to) {  // through setpriv, as ApacheServer runs the site user's commands
    rest.insert(rest.begin(), {"--reuid=" + std::to_string(user_.uid),
                               "--regid=" + std::to_string(user_.gid), "--clear-groups", program});
    program = "/usr/bin/setpriv";
  }
  return RunProgram(program, rest, kServerEnv, "", 20000, app_dir_, "/dev/null");
}

void WebServer::Launch(const std::function<void(int)>& write_config,
                       const std::vector<std::string>& args) {
  // The port was free a moment ago; another program may take it before the server binds, so retry.
  for (int attempt = 1;; ++attempt) {
    port_ = FreeTcpPort();
    write_config(port_);
    pid_ = StartGroupLeader(args, kServerEnv, root_.path(), Path("logs/stderr.log"), user_);
    std::string why;
    if (WaitUntilServing(options_.start_timeout_ms, &why)) return;
    // Only the server's group: spawn-fcgi's processes stay for the next attempt.
    if (pid_ > 0) {
      ::kill(-pid_, SIGKILL);
      int status = 0;
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
      pid_ = -1;
    }
    const std::string log = ServerLog();
    if (attempt < 3 && log.find("Address already in use") != std::string::npos) continue;
    Fail("did not start on 127.0.0.1:" + std::to_string(port_) + " (" + why + "); configs in " +
         root_.path() + "; log:\n" + Tail(log, 3000));
  }
}

bool WebServer::WaitUntilServing(int timeout_ms, std::string* why) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    int status = 0;
    if (ReapedChild(pid_, &status)) {
      *why = WIFEXITED(status)
                 ? server_ + " exited with status " + std::to_string(WEXITSTATUS(status))
                 : server_ + " killed by signal " + std::to_string(WTERMSIG(status));
      pid_ = -1;
      return false;
    }
    // The Server header proves the port is ours, not another program's that took it first.
    if (WaitForTcpPort(port_, 0)) {
      try {
        const HttpReply reply = HttpRequest(port_, "GET", "/", "", {}, 2000);
        const auto header = reply.headers.find("server");
        if (header != reply.headers.end() && header->second.rfind(server_, 0) == 0) return true;
      } catch (const std::runtime_error&) {
        // not answering yet
      }
    }
    if (Clock::now() >= deadline) {
      *why = "not serving after " + std::to_string(timeout_ms) + " ms";
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

bool WebServer::Stop(int timeout_ms) {
  // spawn-fcgi's processes are nobody's children: stopped by PID, as an init script does.
  if (apps_outlive_server_) {
    for (pid_t pid : AppPids()) ::kill(pid, SIGTERM);
  }
  const bool clean = StopProcessTree(pid_, SIGTERM, root_.path(), timeout_ms);
  pid_ = -1;
  return clean;
}

std::string WebServer::AppLog() const { return ReadFile(app_dir_ + "/gosl.log"); }

std::string WebServer::ServerLog() const {
  return ReadFile(Path("logs/error.log")) + ReadFile(Path("logs/stderr.log"));
}

std::vector<pid_t> WebServer::AppPids() const {
  std::vector<pid_t> out;
  for (const ProcInfo& p : LiveProcesses()) {
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/" + std::to_string(p.pid) + "/exe", ec);
    const bool by_argv = !p.argv.empty() && p.argv[0] == binary_path_;
    if (by_argv || (!ec && exe == binary_path_)) out.push_back(p.pid);
  }
  std::sort(out.begin(), out.end());
  return out;
}

LighttpdServer::LighttpdServer(HostOptions options)
    : WebServer(std::move(options), "lighttpd", {{kLighttpd, "lighttpd"}}, false) {
  const std::string example = WriteExample("lighttpd.conf", Path("run/gosl-basics.sock"));
  const std::string config = Path("lighttpd.conf");
  Launch(
      [&](int listen_port) {
        std::ostringstream conf;
        conf
            << "# Private lighttpd for the gosl-basics tests: 127.0.0.1 only, all in this dir.\n"
            << "# Modules, URL parsing and access-deny as in Debian's lighttpd.conf: the example\n"
            << "# must work with those.\n"
            << "server.modules = (\"mod_indexfile\", \"mod_access\", \"mod_alias\", "
               "\"mod_redirect\")\n"
            << "server.document-root = \"" << Path("htdocs") << "\"\n"
            << "server.upload-dirs = (\"" << Path("tmp") << "\")\n"
            << "server.errorlog = \"" << Path("logs/error.log") << "\"\n"
            << "server.bind = \"127.0.0.1\"\n"
            << "server.port = " << listen_port << "\n"
            << "server.http-parseopts = (\n"
            << "  \"header-strict\" => \"enable\", \"host-strict\" => \"enable\",\n"
            << "  \"host-normalize\" => \"enable\", \"url-normalize-unreserved\" => \"enable\",\n"
            << "  \"url-normalize-required\" => \"enable\", \"url-ctrls-reject\" => \"enable\",\n"
            << "  \"url-path-2f-decode\" => \"enable\", \"url-path-dotseg-remove\" => \"enable\",\n"
            << ")\n"
            << "url.access-deny = (\"~\", \".inc\")\n"
            << "include \"" << example << "\"\n";
        WriteServerFile(config, conf.str());
      },
      {kLighttpd, "-D", "-f", config});
}

NginxServer::NginxServer(HostOptions options)
    : WebServer(std::move(options), "nginx", {{kNginx, "nginx-light"}, {kSpawnFcgi, "spawn-fcgi"}},
                true) {
  const std::string socket = Path("run/fcgi.sock");
  // The example's command line: several processes accepting on the one socket.
  const RunResult spawned = RunAsServerUser(
      {kSpawnFcgi, "-s", socket, "-F", std::to_string(kAppProcesses), "--", binary_path()});
  const auto all_running = [&] { return AppPids().size() >= static_cast<size_t>(kAppProcesses); };
  if (spawned.exit_code != 0 || !WaitFor(all_running, 5000, 10)) {
    Fail("spawn-fcgi exited with " + std::to_string(spawned.exit_code) + ", " +
         std::to_string(AppPids().size()) + " app process(es) running:\n" + spawned.out +
         spawned.err);
  }
  const std::string example = WriteExample("nginx.conf", socket);
  const std::string config = Path("nginx.conf");
  Launch(
      [&](int listen_port) {
        const std::string root = Path("");
        std::ostringstream conf;
        conf << "# Private nginx for the gosl-basics tests: 127.0.0.1 only, everything under this "
                "directory.\n"
             << "worker_processes 1;\n"
             << "pid " << root << "run/nginx.pid;\n"
             << "error_log " << root << "logs/error.log notice;\n"
             << "events { worker_connections 64; }\n"
             << "http {\n"
             << "  access_log " << root << "logs/access.log;\n"
             << "  client_body_temp_path " << root << "tmp/body;\n"
             << "  fastcgi_temp_path " << root << "tmp/fastcgi;\n"
             << "  proxy_temp_path " << root << "tmp/proxy;\n"
             << "  uwsgi_temp_path " << root << "tmp/uwsgi;\n"
             << "  scgi_temp_path " << root << "tmp/scgi;\n"
             << "  default_type application/octet-stream;\n"
             << "  server {\n"
             << "    listen 127.0.0.1:" << listen_port << ";\n"
             << "    server_name 127.0.0.1;\n"
             << "    root " << root << "htdocs;\n"
             << "    include " << example << ";\n"
             << "  }\n"
             << "}\n";
        WriteServerFile(config, conf.str());
      },
      // -e: the error log before the config is read, which is not Debian's (unwritable) one.
      {kNginx, "-g", "daemon off;", "-c", config, "-p", Path(""), "-e", Path("logs/error.log")});
}

}  // namespace gosl::test
