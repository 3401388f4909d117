// The real binary as mod_fcgid runs it: a listening socket on fd 0, only PATH
// in the environment, stdout and stderr captured to prove nothing goes there.
#include <signal.h>
#include <sys/wait.h>

#include <filesystem>

#include <catch2/catch.hpp>
#include <leveldb/db.h>

#include "gosl/store.hpp"
#include "../support/api_cases.hpp"
#include "../support/fcgi_client.hpp"
#include "../support/files.hpp"
#include "../support/process.hpp"
#include "../support/temp_dir.hpp"

namespace gosl::test {
namespace {

struct FastCgiApp {
  TempDir dir;
  std::string socket = dir.File("app.sock");
  std::unique_ptr<FastCgiProcess> process;

  explicit FastCgiApp(bool seed = true) {
    if (seed) SeedApiDatabase(dir.File("slkvdb"));
    process = std::make_unique<FastCgiProcess>(
        GOSL_TEST_BINARY, std::vector<std::string>{"--dir", dir.path(), "--writes", "open"}, socket,
        dir.path(),
        std::vector<std::string>{"PATH=/usr/bin:/bin"}, dir.File("stdout"), dir.File("stderr"));
  }

  HttpReply Send(const std::string& method, const std::string& query, const std::string& body = "",
                 const std::string& content_type = "", const Params& extra = {}) {
    return FastCgiRequest(socket, CgiParams(method, query, body, content_type, extra), body);
  }
};

}  // namespace

TEST_CASE("every API row answers as SPEC.md says over FastCGI, in one process",
          "[integration][fastcgi]") {
  FastCgiApp app;
  CheckApiCases([&app](const ApiCase& c) {
    Params extra;
    if (!c.grid.empty()) extra.emplace_back("HTTP_X_SECONDLIFE_SHARD", c.grid);
    return app.Send(c.method, c.query, c.body, c.content_type, extra);
  });
  CHECK(app.process->Running());

  int status = app.process->StopWith(SIGTERM);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(ReadFile(app.dir.File("stdout")).empty());
  CHECK(ReadFile(app.dir.File("stderr")).empty());
  // One INFO line per request, with its time in microseconds.
  const std::string log = ReadFile(app.dir.File("gosl.log"));
  CHECK(CountLinesWith(log, " INFO ") == ApiCases().size());
  CHECK(CountLinesWith(log, "us from 127.0.0.1") == ApiCases().size());
}

TEST_CASE("a body over the limit is refused with 413 over FastCGI", "[integration][fastcgi]") {
  FastCgiApp app;
  std::string body = "name=" + std::string(70000, 'a');
  HttpReply reply = app.Send("POST", "", body, "application/x-www-form-urlencoded");
  CHECK(reply.status == 413);
  CHECK(reply.body == "request body is larger than 65536 bytes");
  // The process is still serving.
  CHECK(app.Send("GET", "name=mini").body == kMiniKey);
}

TEST_CASE("HEAD answers the headers without a body over FastCGI", "[integration][fastcgi]") {
  FastCgiApp app;
  HttpReply reply = app.Send("HEAD", "name=mini");
  CHECK(reply.status == 200);
  CHECK(reply.headers["content-length"] == "36");
  CHECK(reply.body.empty());
}

TEST_CASE("without a database: 503 saying so, logged once, served once --create made one",
          "[integration][fastcgi]") {
  FastCgiApp app(/*seed=*/false);
  for (int i = 0; i < 3; ++i) {
    HttpReply reply = app.Send("GET", "name=First+Person&key=" + kLegacyKey);
    CHECK(reply.status == 503);
    CHECK(reply.body == "no database at '" + app.dir.File("slkvdb") +
                            "' (upload one, or make it with --import or --create)");
  }
  CHECK_FALSE(std::filesystem::exists(app.dir.File("slkvdb")));  // serving made nothing
  RunResult created = RunProgram(GOSL_TEST_BINARY, {"--create", "--dir", app.dir.path()},
                                 {"PATH=/usr/bin:/bin"});
  CHECK(created.exit_code == 0);
  // The same process, not restarted, serves it from the next request on.
  CHECK(app.Send("GET", "name=mini").body == "00000000-0000-0000-0000-000000000000");
  CHECK(app.Send("GET", "name=First+Person&key=" + kLegacyKey).status == 200);
  CHECK(app.Send("GET", "key=" + kLegacyKey).body == "First Person");
  const std::string log = ReadFile(app.dir.File("gosl.log"));
  CHECK(CountLinesWith(log, "ERROR no database at '" + app.dir.File("slkvdb") + "'") == 1);
  CHECK(CountLinesWith(log, "answers again") == 1);
}

TEST_CASE("a database held by another process is answered through it", "[integration][fastcgi]") {
  TempDir dir;
  SeedApiDatabase(dir.File("slkvdb"));
  gosl::Store holder({dir.File("slkvdb")});
  REQUIRE(holder.Open().ok());
  FastCgiProcess process(GOSL_TEST_BINARY, {"--dir", dir.path(), "--writes", "open"}, dir.File("app.sock"),
                         dir.path(), {"PATH=/usr/bin:/bin"}, dir.File("out"), dir.File("err"));
  const std::string socket = dir.File("app.sock");
  CHECK(FastCgiRequest(socket, CgiParams("GET", "name=mini")).body == kMiniKey);
  // A registration through the FastCGI process is seen by the holder at once.
  CHECK(FastCgiRequest(socket, CgiParams("GET", "name=Via+Peer&key=" + kUnknownKey)).status == 200);
  auto via_peer = holder.FindByKey(gosl::Uuid::Parse(kUnknownKey).value());
  REQUIRE(via_peer.ok());
  CHECK(via_peer.value().name == "Via Peer");
}

TEST_CASE("a database locked by a process that answers nobody gives 503 with the reason",
          "[integration][fastcgi]") {
  TempDir dir;
  SeedApiDatabase(dir.File("slkvdb"));
  leveldb::DB* raw = nullptr;
  REQUIRE(leveldb::DB::Open(leveldb::Options(), dir.File("slkvdb"), &raw).ok());
  std::unique_ptr<leveldb::DB> holder(raw);
  FastCgiProcess process(GOSL_TEST_BINARY, {"--dir", dir.path(), "--writes", "open"}, dir.File("app.sock"),
                         dir.path(), {"PATH=/usr/bin:/bin"}, dir.File("out"), dir.File("err"));
  HttpReply reply = FastCgiRequest(dir.File("app.sock"), CgiParams("GET", "name=mini"));
  CHECK(reply.status == 503);
  CHECK(reply.body == "database '" + dir.File("slkvdb") + "' is in use by another process");
  holder.reset();
  CHECK(FastCgiRequest(dir.File("app.sock"), CgiParams("GET", "name=mini")).body == kMiniKey);
}

TEST_CASE("SIGUSR1 also stops the FastCGI loop cleanly", "[integration][fastcgi]") {
  FastCgiApp app;
  REQUIRE(app.Send("GET", "name=mini").status == 200);
  int status = app.process->StopWith(SIGUSR1);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

}  // namespace gosl::test
