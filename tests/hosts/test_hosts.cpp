// The real binary behind lighttpd (its mod_fastcgi starting the program) and
// behind nginx (spawn-fcgi starting it), each configured by the example users
// copy from hosts/: SPEC's API table through each, and the app directory's
// files refused.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "../support/api_cases.hpp"
#include "../support/files.hpp"
#include "../support/http_client.hpp"
#include "../support/process.hpp"
#include "web_servers.hpp"

namespace gosl::test {
namespace {

HostOptions Seeded() {
  HostOptions options;
  options.prepare_database = [](const std::string& db_path) { SeedApiDatabase(db_path); };
  return options;
}

std::string Target(const std::string& url, const std::string& query) {
  return query.empty() ? url : url + "?" + query;
}

void CheckSpecTable(const WebServer& server) {
  CheckApiCases([&server](const ApiCase& c) {
    Params headers;
    if (!c.content_type.empty()) headers.emplace_back("Content-Type", c.content_type);
    if (!c.grid.empty()) headers.emplace_back("X-SecondLife-Shard", c.grid);
    return HttpRequest(server.port(), c.method, Target(server.app_url(), c.query), c.body, headers);
  });
  // One request line per row: every row reached the program, none was answered by the server.
  // (A request's line is written once its answer has gone.)
  WaitFor([&] { return CountRequestLines(server.AppLog()) >= ApiCases().size(); }, 5000, 20);
  CHECK(CountRequestLines(server.AppLog()) == ApiCases().size());
}

// The PIDs ("[1234]") of the log lines holding `text`.
std::set<std::string> PidsLogging(const std::string& log, const std::string& text) {
  std::set<std::string> pids;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) {
    if (line.find(text) == std::string::npos) continue;
    const size_t open = line.find(" [");
    const size_t close = line.find("] ", open);
    if (open != std::string::npos && close != std::string::npos) {
      pids.insert(line.substr(open + 2, close - open - 2));
    }
  }
  return pids;
}

// A line of the file that an answer serving it would show.
std::string FirstLine(const std::string& path) {
  std::istringstream in(ReadFile(path));
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) return line;
  }
  return "";
}

void CheckPrivateFilesRefused(const WebServer& server) {
  // The program has answered, so gosl.log exists.
  REQUIRE(HttpRequest(server.port(), "GET", server.app_url() + "?name=mini").body == kMiniKey);
  const std::string& dir = server.app_dir();
  // Readable by the server's user (it is the files' owner, as on a host where the server runs
  // as the site's user): only the configuration keeps them from being served.
  for (const char* file : {"config.ini", "gosl.log", "slkvdb/CURRENT"}) {
    REQUIRE(::chmod((dir + "/" + file).c_str(), 0644) == 0);
  }
  REQUIRE(::chmod((dir + "/slkvdb").c_str(), 0755) == 0);
  const std::vector<std::string> secrets = {FirstLine(dir + "/config.ini"),
                                            FirstLine(dir + "/gosl.log"),
                                            FirstLine(dir + "/slkvdb/CURRENT"), "MANIFEST"};
  for (const std::string& secret : secrets) REQUIRE_FALSE(secret.empty());

  const std::vector<std::string> targets = {"/name2key/slkvdb/CURRENT",
                                            "/name2key/config.ini",
                                            "/name2key/gosl.log",
                                            "/name2key/slkvdb/",
                                            "/name2key/slkvdb",
                                            "/name2key/%73lkvdb/CURRENT",
                                            "/name2key/./config.ini",
                                            "/name2key//config.ini",
                                            "/name2key/gosl-basics.fcgi/../config.ini",
                                            "/name2key/%63onfig.ini",
                                            "/name2key/slkvdb%2fCURRENT",
                                            "/x/../name2key/gosl.log"};
  for (const std::string& target : targets) {
    const HttpReply reply = HttpRequest(server.port(), "GET", target);
    INFO("GET " << target << " -> " << reply.status << " '" << reply.body.substr(0, 200) << "'");
    CHECK((reply.status == 403 || reply.status == 404));
    for (const std::string& secret : secrets) CHECK(reply.body.find(secret) == std::string::npos);
  }
}

}  // namespace

TEST_CASE("every API row answers as SPEC.md says through lighttpd + mod_fastcgi",
          "[integration][hosts]") {
  LighttpdServer server(Seeded());
  CheckSpecTable(server);
  CHECK(server.Stop());  // lighttpd stops the processes it started
  CHECK(server.AppPids().empty());
}

TEST_CASE("every API row answers as SPEC.md says through nginx + spawn-fcgi",
          "[integration][hosts]") {
  NginxServer server(Seeded());
  CheckSpecTable(server);
  // Both processes on the socket lived through the table.
  CHECK(server.AppPids().size() == static_cast<size_t>(NginxServer::kAppProcesses));
  CHECK(server.Stop());
  CHECK(server.AppPids().empty());
}

TEST_CASE("lighttpd's mod_fastcgi starts several processes of the program itself",
          "[integration][hosts]") {
  LighttpdServer server(Seeded());
  const size_t wanted = static_cast<size_t>(LighttpdServer::kAppProcesses);
  // Started with lighttpd ("bin-path", "max-procs"), before any request.
  const bool started = WaitFor([&] { return server.AppPids().size() >= wanted; }, 10000, 20);
  // Each opened the database and serves on a socket of its own.
  const bool serving = WaitFor(
      [&] { return PidsLogging(server.AppLog(), "FastCGI: serving on fd 0").size() >= wanted; },
      10000, 20);
  INFO("gosl.log:\n" << server.AppLog() << "lighttpd's log:\n" << server.ServerLog());
  CHECK(started);
  CHECK(serving);
  CHECK(server.Stop());
  CHECK(server.AppPids().empty());
}

TEST_CASE("lighttpd refuses the database, config.ini and the log beside the program",
          "[integration][hosts]") {
  LighttpdServer server(Seeded());
  CheckPrivateFilesRefused(server);
}

TEST_CASE("nginx refuses the database, config.ini and the log beside the program",
          "[integration][hosts]") {
  NginxServer server(Seeded());
  CheckPrivateFilesRefused(server);
}

}  // namespace gosl::test
