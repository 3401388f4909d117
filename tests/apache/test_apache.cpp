// The real binary behind a private Apache 2.4 + mod_fcgid, configured only by
// the shipped .htaccess: SPEC's API table, the files it hides, oversize
// bodies, other methods, and several mod_fcgid processes sharing one database
// through bursts, a graceful restart and idle kills.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "../support/api_cases.hpp"
#include "../support/files.hpp"
#include "../support/http_client.hpp"
#include "../support/lsl_shapes.hpp"
#include "../support/process.hpp"
#include "apache_server.hpp"

namespace gosl::test {
namespace {

using Clock = std::chrono::steady_clock;

const std::string kText = "text/plain; charset=utf-8";
const std::string kForm = "application/x-www-form-urlencoded";
const std::string kNil = "00000000-0000-0000-0000-000000000000";

ApacheOptions Seeded(const std::string& extra_config = "") {
  ApacheOptions options;
  options.extra_config = extra_config;
  options.prepare_database = [](const std::string& db_path) { SeedApiDatabase(db_path); };
  return options;
}

std::string Target(const std::string& url, const std::string& query) {
  return query.empty() ? url : url + "?" + query;
}

struct Lookup {
  std::string query;
  std::string body;  // expected, with status 200 and kText
};

// Known answers in the database as SeedApiDatabase leaves it.
const std::vector<Lookup>& SeededLookups() {
  static const std::vector<Lookup> lookups = {
      {"name=Mini+Resident", kMiniKey},      {"name=mini", kMiniKey},
      {"name=Legacy.Linden", kLegacyKey},    {"key=" + kMiniKey, "Mini Resident"},
      {"key=" + kLegacyKey, "Legacy Linden"}, {"name=Nobody+Here", kNil},
      {"key=" + kUnknownKey, ""},
  };
  return lookups;
}

struct BurstResult {
  size_t requests = 0;
  size_t errors = 0;
  std::vector<std::string> first_errors;
};

// `clients` threads, each on its own keep-alive connection, send `lookups` round robin until
// duration_ms has passed; every answer must be 200, text/plain and exactly the expected body.
BurstResult RunBurst(const ApacheServer& apache, const std::vector<Lookup>& lookups, int clients,
                     int duration_ms) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(duration_ms);
  std::mutex mutex;
  BurstResult result;
  std::vector<std::thread> threads;
  for (int client = 0; client < clients; ++client) {
    threads.emplace_back([&, client] {
      size_t requests = 0;
      std::vector<std::string> errors;
      std::unique_ptr<HttpConnection> connection;
      for (size_t i = static_cast<size_t>(client); Clock::now() < deadline; ++i) {
        const Lookup& lookup = lookups[i % lookups.size()];
        try {
          // mod_fcgid may hold a request for seconds while it spawns a process.
          if (!connection) connection = std::make_unique<HttpConnection>(apache.port(), 30000);
          const HttpReply reply = connection->Send("GET", Target(apache.app_url(), lookup.query));
          ++requests;
          if (reply.status != 200 || reply.content_type != kText || reply.body != lookup.body) {
            errors.push_back(lookup.query + " -> " + std::to_string(reply.status) + " '" +
                             reply.body.substr(0, 100) + "'");
          }
        } catch (const std::exception& e) {
          errors.push_back(lookup.query + " -> " + e.what());
          connection.reset();
        }
      }
      std::lock_guard<std::mutex> lock(mutex);
      result.requests += requests;
      result.errors += errors.size();
      for (const std::string& e : errors) {
        if (result.first_errors.size() < 5) result.first_errors.push_back(e);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  return result;
}

std::string Describe(const BurstResult& r) {
  std::ostringstream out;
  out << r.requests << " requests, " << r.errors << " errors";
  for (const std::string& e : r.first_errors) out << "\n  " << e;
  return out.str();
}

// The app's log with its rotated files (gosl.1.log, ...), oldest first.
std::string AllAppLogs(const ApacheServer& apache) {
  std::vector<std::string> rotated;
  for (const auto& entry : std::filesystem::directory_iterator(apache.app_dir())) {
    const std::string name = entry.path().filename().string();
    if (name != "gosl.log" && name.rfind("gosl.", 0) == 0 && name.size() > 4 &&
        name.compare(name.size() - 4, 4, ".log") == 0) {
      rotated.push_back(entry.path().string());
    }
  }
  std::sort(rotated.rbegin(), rotated.rend());
  std::string text;
  for (const std::string& path : rotated) text += ReadFile(path);
  return text + apache.AppLog();
}

// PIDs ("[1234]") of the INFO lines, i.e. of the processes that answered requests.
std::set<std::string> InfoPids(const std::string& log) {
  std::set<std::string> pids;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) {
    if (!IsRequestLine(line)) continue;
    const size_t open = line.find(" [");
    const size_t close = line.find("] ", open);
    if (open != std::string::npos && close != std::string::npos) {
      pids.insert(line.substr(open + 2, close - open - 2));
    }
  }
  return pids;
}

// Error-log lines showing an app process that crashed or broke off a request, or mod_fcgid
// giving up on a request.
std::vector<std::string> TroubleLines(const std::string& error_log) {
  static const char* const kSigns[] = {"get unexpected signal", "core dump",
                                       "End of script output before headers",
                                       "error reading data from FastCGI server",
                                       "can't apply process slot", "exceeds MaxRequestLen"};
  std::vector<std::string> lines;
  std::istringstream in(error_log);
  for (std::string line; std::getline(in, line);) {
    bool bad = false;
    for (const char* sign : kSigns) bad = bad || line.find(sign) != std::string::npos;
    // "mod_fcgid: process PATH(PID) exit(WHY), terminated by calling exit(), return code: N"
    const size_t code = line.find("return code: ");
    if (line.find("mod_fcgid: process") != std::string::npos && code != std::string::npos &&
        std::atoi(line.c_str() + code + 13) != 0) {
      bad = true;  // an app process exited with a failure status
    }
    if (bad) lines.push_back(line);
  }
  return lines;
}

void CheckNoTrouble(const ApacheServer& apache) {
  const std::vector<std::string> lines = TroubleLines(apache.ErrorLog());
  std::string text;
  for (const std::string& line : lines) text += line + "\n";
  INFO("Apache error log:\n" << text);
  CHECK(lines.empty());
}

void CheckLookup(const ApacheServer& apache, const std::string& query, const std::string& body) {
  const HttpReply reply = HttpRequest(apache.port(), "GET", Target(apache.app_url(), query));
  INFO("GET ?" << query);
  CHECK(reply.status == 200);
  CHECK(reply.content_type == kText);
  CHECK(reply.body == body);
}

// The private files the shipped .htaccess must hide, as URL paths.
std::vector<std::string> PrivateTargets(const ApacheServer& apache) {
  std::vector<std::string> targets = {
      "/name2key/slkvdb/",    "/name2key/slkvdb",         "/name2key/slkvdb/CURRENT",
      "/name2key/slkvdb/LOCK", "/name2key/%73lkvdb/CURRENT", "/name2key/config.ini",
      "/name2key/gosl.log",   "/name2key/gosl.1.log",     "/name2key/.htaccess",
      "/name2key/.gosl_history"};
  for (const auto& entry : std::filesystem::directory_iterator(apache.app_dir() + "/slkvdb")) {
    targets.push_back("/name2key/slkvdb/" + entry.path().filename().string());
  }
  // What the documented procedures leave beside it, and any other file.
  for (const char* other : {"slkvdb.replaced-20261127-120000/CURRENT",
                            "slkvdb.replaced-20261127-120000/", "slkvdb.old/CURRENT", "slkvdb.owner",
                            "slkvdb.import.owner", "gosl.log.lock", "name2key.csv.gz",
                            "backup-2026-11-27.csv.bz2", "readme.txt", "slkvdb.new/CURRENT",
                            "slkvdb.restored/CURRENT", "slkvdb.before-refresh-20261127-120000/CURRENT",
                            "slkvdb.import-runs/k-0.run"}) {
    targets.push_back(std::string("/name2key/") + other);
  }
  return targets;
}

// Readable files Apache would serve if nothing forbade them.
void AddPrivateFiles(const ApacheServer& apache) {
  const std::string& dir = apache.app_dir();
  WriteFile(dir + "/gosl.1.log", "rotated log line\n");
  WriteFile(dir + "/.gosl_history", "mini\n");
  WriteFile(dir + "/readme.txt", "public");
  std::filesystem::create_directories(dir + "/slkvdb.replaced-20261127-120000");
  for (const char* made : {"slkvdb.old", "slkvdb.new", "slkvdb.restored",
                           "slkvdb.before-refresh-20261127-120000", "slkvdb.import-runs"}) {
    std::filesystem::create_directories(dir + "/" + made);
  }
  for (const char* file : {"slkvdb.replaced-20261127-120000/CURRENT", "slkvdb.old/CURRENT",
                           "slkvdb.owner", "slkvdb.import.owner", "gosl.log.lock", "name2key.csv.gz",
                           "backup-2026-11-27.csv.bz2", "slkvdb.new/CURRENT", "slkvdb.restored/CURRENT",
                           "slkvdb.before-refresh-20261127-120000/CURRENT", "slkvdb.import-runs/k-0.run"}) {
    WriteFile(dir + "/" + file, "private\n");
  }
  if (apache.AppLog().empty()) WriteFile(dir + "/gosl.log", "log line\n");
  // Readable by Apache itself, as on a host where it runs as the site's user.
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    ::chmod(entry.path().c_str(), entry.is_directory() ? 0755 : 0644);
    if (::geteuid() == 0) ::lchown(entry.path().c_str(), apache.uid(), apache.gid());
  }
}

void CheckPrivateFilesRefused(const ApacheServer& apache) {
  AddPrivateFiles(apache);
  // Deny by default: only the program is served, whatever else lies beside it.
  CHECK(HttpRequest(apache.port(), "GET", apache.app_url() + "?name=mini").body == kMiniKey);
  for (const std::string& target : PrivateTargets(apache)) {
    INFO("GET " << target);
    CHECK(HttpRequest(apache.port(), "GET", target).status == 403);
  }
}

std::string Chunked(const std::string& body, size_t chunk) {
  std::ostringstream out;
  for (size_t at = 0; at < body.size(); at += chunk) {
    const std::string part = body.substr(at, chunk);
    out << std::hex << part.size() << "\r\n" << part << "\r\n";
  }
  out << "0\r\n\r\n";
  return out.str();
}

}  // namespace

TEST_CASE("every SPEC API row answers through Apache and mod_fcgid as SPEC.md says", "[apache]") {
  ApacheServer apache(Seeded());
  CheckApiCases([&apache](const ApiCase& c) {
    Params headers;
    if (!c.content_type.empty()) headers.emplace_back("Content-Type", c.content_type);
    if (!c.grid.empty()) headers.emplace_back("X-SecondLife-Shard", c.grid);
    HttpReply reply = HttpRequest(apache.port(), c.method, Target(apache.app_url(), c.query), c.body, headers);
    // The .htaccess reads Content-Length without making caches vary on it.
    CHECK(reply.headers.count("vary") == 0);
    return reply;
  });
  // One INFO line per request: every row reached the program, none was answered by Apache.
  // (A request's line is written once its answer has gone.)
  WaitFor([&] { return CountRequestLines(apache.AppLog()) >= ApiCases().size(); }, 5000, 20);
  CHECK(CountRequestLines(apache.AppLog()) == ApiCases().size());
  CheckNoTrouble(apache);
  CHECK(apache.Stop());
  CHECK(apache.AppPids().empty());
}

TEST_CASE("the W-Hat URL forms /name2key?name= and /name2key/?name= reach the program without a redirect",
          "[apache]") {
  ApacheServer apache(Seeded());
  struct Form {
    std::string method, target, body, expected;
  };
  const std::vector<Form> forms = {
      {"GET", "/name2key?name=Mini+Resident", "", kMiniKey},
      {"GET", "/name2key/?name=legacy.linden", "", kLegacyKey},
      {"GET", "/name2key?key=" + kLegacyKey + "&compat=false", "",
       "avatar name for '" + kLegacyKey + "' is 'Legacy Linden' on grid: 'Production'"},
      {"POST", "/name2key", "name=Legacy+Linden", kLegacyKey},
      {"POST", "/name2key/", "name=mini", kMiniKey},
      {"GET", "/name2key/gosl-basics.fcgi/any/path?name=mini", "", kMiniKey},
  };
  for (const Form& form : forms) {
    INFO(form.method << " " << form.target << " body '" << form.body << "'");
    const Params headers = form.body.empty() ? Params{} : Params{{"Content-Type", kForm}};
    const HttpReply reply = HttpRequest(apache.port(), form.method, form.target, form.body, headers);
    CHECK(reply.status == 200);
    CHECK(reply.content_type == kText);
    CHECK(reply.body == form.expected);
  }
  CheckNoTrouble(apache);
}

TEST_CASE("the database directory, config, logs and dot files are answered 403", "[apache]") {
  ApacheServer apache(Seeded());
  CheckLookup(apache, "name=mini", kMiniKey);  // the program has written gosl.log
  CheckPrivateFilesRefused(apache);
}

TEST_CASE("with the shipped config only requests with Second Life's headers register", "[apache]") {
  ApacheOptions options = Seeded();
  options.writes = "sl-only";  // as shipped
  ApacheServer apache(options);
  const std::string key = "5ec0417e-0000-4000-8000-00000000000a";
  const std::string target = Target(apache.app_url(), "name=Header+Checked&key=" + key);
  const HttpReply browser = HttpRequest(apache.port(), "GET", target);
  CHECK(browser.status == 403);
  CHECK(browser.body.find("Second Life scripts only") != std::string::npos);
  // Apache hands the X-SecondLife-* headers to the program as HTTP_X_SECONDLIFE_*.
  const HttpReply script = HttpRequest(apache.port(), "GET", target, "",
                                       {{"X-SecondLife-Shard", "Production"},
                                        {"X-SecondLife-Object-Key", "1a2b3c4d-5e6f-4a0b-8c1d-2e3f4a5b6c7d"},
                                        {"X-SecondLife-Owner-Key", "5f3e2d1c-0b0a-4987-8654-3210fedcba98"}});
  CHECK(script.status == 200);
  CheckLookup(apache, "key=" + key, "Header Checked");
}

TEST_CASE("the shipped .htaccess serves the program and hides its files on a server without mod_rewrite",
          "[apache]") {
  ApacheOptions options = Seeded();
  options.skip_modules = {"rewrite"};
  ApacheServer apache(options);
  CheckLookup(apache, "name=mini", kMiniKey);
  // The directory form still works through DirectoryIndex.
  const HttpReply directory = HttpRequest(apache.port(), "GET", "/name2key/?name=legacy.linden");
  CHECK(directory.status == 200);
  CHECK(directory.body == kLegacyKey);
  // Without mod_rewrite the slash-less form is mod_dir's redirect to the directory form.
  HttpReply bare = HttpRequest(apache.port(), "GET", "/name2key?name=mini");
  CHECK(bare.status == 301);
  CHECK(bare.headers["location"] == "http://127.0.0.1:" + std::to_string(apache.port()) +
                                        "/name2key/?name=mini");
  CheckPrivateFilesRefused(apache);
  const HttpReply big = HttpRequest(apache.port(), "POST", apache.app_url(),
                                    "name=" + std::string(200 * 1024, 'a'), {{"Content-Type", kForm}});
  CHECK(big.status == 413);
  CheckNoTrouble(apache);
}

TEST_CASE("a 200 KB body ends in 413 instead of mod_fcgid's 500 and Apache goes on answering", "[apache]") {
  ApacheServer apache(Seeded());
  const std::string body = "name=" + std::string(200 * 1024, 'a');

  // With Content-Length: Apache's own 413 (the .htaccess <If> rule) before mod_fcgid reads a byte.
  const HttpReply declared = HttpRequest(apache.port(), "POST", Target(apache.app_url(), "name=mini"), body,
                                         {{"Content-Type", kForm}});
  CHECK(declared.status == 413);
  CHECK(declared.body == "request body is larger than 65536 bytes");
  // Chunked: LimitRequestBody stops Apache reading past 64 KB, and the program, told a
  // CONTENT_LENGTH over its limit, refuses it itself.
  const HttpReply chunked =
      HttpRequest(apache.port(), "POST", Target(apache.app_url(), "name=mini"), Chunked(body, 8192),
                  {{"Content-Type", kForm}, {"Transfer-Encoding", "chunked"}});
  CHECK(chunked.status == 413);
  CHECK(chunked.body == "request body is larger than 65536 bytes");
  // Just under the limit is an ordinary request.
  const HttpReply fits = HttpRequest(apache.port(), "POST", apache.app_url(),
                                     "name=Legacy+Linden&pad=" + std::string(60000, 'p'), {{"Content-Type", kForm}});
  CHECK(fits.status == 200);
  CHECK(fits.body == kLegacyKey);

  CheckLookup(apache, "name=mini", kMiniKey);
  CheckNoTrouble(apache);
}

TEST_CASE("PUT, DELETE, OPTIONS, PATCH and HEAD are answered by the program, not refused by Apache",
          "[apache]") {
  ApacheServer apache(Seeded());
  // The program ignores the method (one handler): each gets the lookup's answer, 200.
  for (const std::string method : {"PUT", "DELETE", "OPTIONS", "PATCH"}) {
    INFO(method);
    const HttpReply reply = HttpRequest(apache.port(), method, Target(apache.app_url(), "name=mini"));
    CHECK(reply.status == 200);
    CHECK(reply.content_type == kText);
    CHECK(reply.body == kMiniKey);
  }
  HttpReply head = HttpRequest(apache.port(), "HEAD", Target(apache.app_url(), "name=mini"));
  CHECK(head.status == 200);
  CHECK(head.headers["content-length"] == "36");
  CHECK(head.body.empty());
  // A request's line is written once its answer has gone.
  const char* const methods[] = {"PUT", "DELETE", "OPTIONS", "PATCH", "HEAD"};
  WaitFor([&] { return CountLinesWith(apache.AppLog(), " INFO 200 HEAD ") == 1; }, 5000, 20);
  const std::string log = apache.AppLog();
  for (const std::string method : methods) {
    INFO(method << " in gosl.log:\n" << log);
    CHECK(CountLinesWith(log, " INFO 200 " + method + " ") == 1);
  }
  CheckNoTrouble(apache);
}

TEST_CASE("every request the LSL scripts send gets the answer the script expects through Apache",
          "[apache][lsl]") {
  ApacheOptions options = Seeded();
  options.writes = "sl-only";  // the shipped setting: the scripts' headers let them register
  ApacheServer apache(options);
  const std::vector<Shape> shapes = LoadShapes();
  for (const Shape& shape : shapes) {
    INFO("request-shapes.tsv:" << shape.line << " " << shape.script << ": " << shape.what);
    Params headers;
    for (const auto& header : SecondLifeHeaders(shape.script)) headers.push_back(header);
    if (!shape.content_type.empty()) headers.emplace_back("Content-Type", shape.content_type);
    const HttpReply reply =
        HttpRequest(apache.port(), shape.method, Target(apache.app_url(), shape.query), shape.body, headers);
    CHECK(reply.status == shape.status);
    CHECK(reply.body == shape.expected_body);
  }
  WARN(shapes.size() << " request shapes through Apache");
  CheckNoTrouble(apache);
}

TEST_CASE("16 keep-alive clients for 3 seconds get only correct answers from several processes",
          "[apache]") {
  ApacheServer apache(Seeded());
  const BurstResult burst = RunBurst(apache, SeededLookups(), 16, 3000);
  INFO(Describe(burst));
  CHECK(burst.errors == 0);
  CHECK(burst.requests > 0);

  // A request's line is written once its answer has gone.
  WaitFor([&] { return CountRequestLines(AllAppLogs(apache)) >= burst.requests; }, 5000, 20);
  const std::string log = AllAppLogs(apache);
  const std::set<std::string> pids = InfoPids(log);
  WARN("burst: " << burst.requests << " requests in 3 s from 16 clients, answered by " << pids.size()
                 << " processes (" << apache.AppPids().size() << " running now)");
  CHECK(pids.size() > 1);
  // Several processes share the log without losing a line.
  CHECK(CountRequestLines(log) == burst.requests);
  CheckNoTrouble(apache);
  CHECK(apache.Stop());
}

TEST_CASE("a pair recorded through one request is at once visible on every connection and process",
          "[apache]") {
  ApacheServer apache(Seeded());
  const std::string key = "b0057e57-0000-4000-8000-00000000b00e";
  // Several processes first, each of which has already missed the name: no cache may keep the miss.
  const BurstResult before = RunBurst(
      apache, {{"name=Burst+Newcomer", kNil}, {"key=" + key, ""}, {"name=mini", kMiniKey}}, 16, 1500);
  INFO("before: " << Describe(before));
  CHECK(before.errors == 0);
  CHECK(apache.AppPids().size() > 1);

  const size_t mark = apache.AppLog().size();
  const HttpReply added =
      HttpRequest(apache.port(), "GET", Target(apache.app_url(), "name=Burst+Newcomer&key=" + key), "",
                  {{"X-SecondLife-Shard", "Production"}});
  CHECK(added.status == 200);
  CHECK(added.body == "Added new entry for 'Burst Newcomer' which is: " + key + " from grid: 'Production'");

  const BurstResult after = RunBurst(
      apache, {{"name=Burst+Newcomer", key}, {"key=" + key, "Burst Newcomer"}, {"name=burst.newcomer", key}},
      16, 1500);
  INFO("after: " << Describe(after));
  CHECK(after.errors == 0);
  const std::set<std::string> pids = InfoPids(apache.AppLog().substr(mark));
  INFO("processes that answered after the registration: " << pids.size());
  CHECK(pids.size() > 1);
  CheckNoTrouble(apache);
}

TEST_CASE("after a graceful restart replaces every process the service still answers correctly",
          "[apache]") {
  ApacheServer apache(Seeded());
  const BurstResult warm = RunBurst(apache, SeededLookups(), 8, 1000);
  INFO("before: " << Describe(warm));
  CHECK(warm.errors == 0);
  const std::vector<pid_t> old_pids = apache.AppPids();
  CHECK(!old_pids.empty());

  apache.Graceful();
  // mod_fcgid's new process manager stops the old processes (SIGTERM, SIGKILL 3 s later at most).
  const bool replaced = WaitFor([&] {
    const std::vector<pid_t> now = apache.AppPids();
    return std::none_of(old_pids.begin(), old_pids.end(),
                        [&](pid_t p) { return std::count(now.begin(), now.end(), p) > 0; });
  }, 15000, 50);  // scanning /proc is not free
  REQUIRE(replaced);

  CheckLookup(apache, "name=mini", kMiniKey);
  const BurstResult again = RunBurst(apache, SeededLookups(), 8, 1000);
  INFO("after: " << Describe(again));
  CHECK(again.errors == 0);
  const std::vector<pid_t> new_pids = apache.AppPids();
  CHECK(!new_pids.empty());
  for (pid_t pid : new_pids) CHECK(std::count(old_pids.begin(), old_pids.end(), pid) == 0);
  CheckNoTrouble(apache);
  CHECK(apache.Stop());
}

TEST_CASE("after mod_fcgid kills idle processes the service still answers correctly", "[apache]") {
  // Idle kills after 1 s, down to no process at all. The spawn score limit is lifted: by default
  // each kill costs 2 points and mod_fcgid refuses to spawn at 10, so the first request after a
  // wave of kills waits (in 1 s sleeps) until the score decays - mod_fcgid's delay, not ours.
  ApacheServer apache(Seeded(
      "FcgidIdleTimeout 1\nFcgidIdleScanInterval 1\nFcgidMinProcessesPerClass 0\n"
      "FcgidMaxProcessesPerClass 6\nFcgidSpawnScoreUpLimit 100\n"));
  // Requests that find every process busy sleep 1 s before asking for another: 2 s makes several.
  const BurstResult warm = RunBurst(apache, SeededLookups(), 8, 2000);
  INFO("before: " << Describe(warm));
  CHECK(warm.errors == 0);
  const size_t spawned = apache.AppPids().size();
  INFO(spawned << " processes before the idle kills");
  CHECK(spawned >= 1);

  REQUIRE(WaitFor([&] { return apache.AppPids().empty(); }, 20000, 50));
  // mod_fcgid logs an exit when it reaps the process, at its next error scan.
  const bool logged = WaitFor([&] {
    return CountLinesWith(apache.ErrorLog(), "exit(idle timeout)") >= spawned;
  }, 10000, 50);
  INFO("error log:\n" << apache.ErrorLog());
  CHECK(logged);

  CheckLookup(apache, "key=" + kLegacyKey, "Legacy Linden");
  const BurstResult again = RunBurst(apache, SeededLookups(), 8, 1000);
  INFO("after: " << Describe(again));
  CHECK(again.errors == 0);
  CheckNoTrouble(apache);
  CHECK(apache.Stop());
}

// The pid of the last process that took the database, from its NOTICE line.
std::string HolderPid(const std::string& log) {
  const size_t at = log.rfind(" holds database '");
  if (at == std::string::npos) return "";
  const size_t open = log.rfind(" [", at);
  const size_t close = log.find("] ", open);
  return open == std::string::npos || close > at ? "" : log.substr(open + 2, close - open - 2);
}

// mod_fcgid hands a request to the process that finished last: one request
// at a time all go to one process, which after a burst is rarely the one
// holding the database (docs/architecture.md, "The database goes where the
// requests go").
TEST_CASE("one request at a time: the database goes to the process mod_fcgid uses, every answer right",
          "[apache]") {
  ApacheServer apache(Seeded());
  std::string busy, holder;
  // A burst spawns several processes; the one mod_fcgid then reuses is
  // another than the holder in most tries.
  for (int attempt = 0; attempt < 6 && busy == holder; ++attempt) {
    const BurstResult burst = RunBurst(apache, SeededLookups(), 16, 1000);
    REQUIRE(burst.errors == 0);
    const size_t mark = apache.AppLog().size();
    for (int n = 0; n < 20; ++n) {
      REQUIRE(HttpRequest(apache.port(), "GET", Target(apache.app_url(), "name=mini")).body == kMiniKey);
    }
    WaitFor([&] { return !InfoPids(apache.AppLog().substr(mark)).empty(); }, 5000, 20);
    const std::set<std::string> answered = InfoPids(apache.AppLog().substr(mark));
    REQUIRE(answered.size() == 1);
    busy = *answered.begin();
    holder = HolderPid(AllAppLogs(apache));
  }
  REQUIRE(!holder.empty());
  REQUIRE(busy != holder);

  // Keys never asked before: the busy process cannot answer them from memory.
  bool handed = false;
  for (int n = 0; n < 20000 && !handed; ++n) {
    char key[37];
    std::snprintf(key, sizeof key, "0a0d0e00-0000-4000-8000-%012d", n);
    const HttpReply reply = HttpRequest(apache.port(), "GET", Target(apache.app_url(), std::string("key=") + key));
    REQUIRE(reply.status == 200);
    REQUIRE(reply.body.empty());
    if (n % 100 == 99) handed = HolderPid(AllAppLogs(apache)) == busy;
  }
  REQUIRE(handed);
  CHECK(AllAppLogs(apache).find("[" + holder + "] NOTICE database '") != std::string::npos);
  // Everyone still answers right, the old holder included.
  const BurstResult after = RunBurst(apache, SeededLookups(), 16, 1000);
  INFO(Describe(after));
  CHECK(after.errors == 0);
  CheckNoTrouble(apache);
}

}  // namespace gosl::test
