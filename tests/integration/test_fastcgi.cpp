// The real binary as mod_fcgid runs it: a listening socket on fd 0, only PATH
// in the environment, stdout and stderr captured to prove nothing goes there.
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include <catch2/catch.hpp>
#include <leveldb/db.h>

#include "gosl/store.hpp"
#include "../support/api_cases.hpp"
#include "../support/fcgi_client.hpp"
#include "../support/files.hpp"
#include "../support/site.hpp"

namespace gosl::test {

TEST_CASE("every API row answers as SPEC.md says over FastCGI, in one process",
          "[integration][fastcgi]") {
  Site site(Site::Db::kSeeded);
  site.Start({"--writes", "open"});
  CheckApiCases([&site](const ApiCase& c) {
    Params extra;
    if (!c.grid.empty()) extra.emplace_back("HTTP_X_SECONDLIFE_SHARD", c.grid);
    return site.Send(CgiParams(c.method, c.query, c.body, c.content_type, extra), c.body);
  });
  CHECK(site.process().Running());

  int status = site.process().StopWith(SIGTERM);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(site.Stdout().empty());
  CHECK(site.Stderr().empty());
  // One INFO line per request, with its time in microseconds.
  const std::string log = site.Log();
  CHECK(CountRequestLines(log) == ApiCases().size());
  CHECK(CountLinesWith(log, "us from 127.0.0.1") == ApiCases().size());
}

TEST_CASE("a body over the limit is refused with 413 over FastCGI", "[integration][fastcgi]") {
  Site site(Site::Db::kSeeded);
  site.Start({"--writes", "open"});
  std::string body = "name=" + std::string(70000, 'a');
  HttpReply reply = site.Post(body, "application/x-www-form-urlencoded");
  CHECK(reply.status == 413);
  CHECK(reply.body == "request body is larger than 65536 bytes");
  // The process is still serving.
  CHECK(site.Get("name=mini").body == kMiniKey);
}

TEST_CASE("HEAD answers the headers without a body over FastCGI", "[integration][fastcgi]") {
  Site site(Site::Db::kSeeded);
  site.Start({"--writes", "open"});
  HttpReply reply = site.Send(CgiParams("HEAD", "name=mini"));
  CHECK(reply.status == 200);
  CHECK(reply.headers["content-length"] == "36");
  CHECK(reply.body.empty());
}

TEST_CASE("without a database: 503 saying so, logged once, served once --create made one",
          "[integration][fastcgi]") {
  Site site;
  site.Start({"--writes", "open"});
  for (int i = 0; i < 3; ++i) {
    HttpReply reply = site.Get("name=First+Person&key=" + kLegacyKey);
    CHECK(reply.status == 503);
    CHECK(reply.body ==
          "no database at '" + site.db() + "' (upload one, or make it with --import or --create)");
  }
  CHECK_FALSE(std::filesystem::exists(site.db()));  // serving made nothing
  RunResult created = site.Run({"--create"});
  CHECK(created.exit_code == 0);
  // The same process, not restarted, serves it from the next request on.
  CHECK(site.Get("name=mini").body == "00000000-0000-0000-0000-000000000000");
  CHECK(site.Get("name=First+Person&key=" + kLegacyKey).status == 200);
  CHECK(site.Get("key=" + kLegacyKey).body == "First Person");
  const std::string log = site.Log();
  CHECK(CountLinesWith(log, "ERROR no database at '" + site.db() + "'") == 1);
  CHECK(CountLinesWith(log, "answers again") == 1);
}

TEST_CASE("a batch lookup through a peer answers as the owner does", "[integration][fastcgi]") {
  const std::string kNewKey = "c0ffee00-1234-4abc-8def-0123456789ab";
  Site site(Site::Db::kSeeded);
  site.Start({"--writes", "open"}, 2);
  REQUIRE(site.Get("name=mini", {}, 0).body == kMiniKey);  // process 0 holds the database
  REQUIRE(site.Get("name=Hyper.Guest+%40hg.example.com%3A8002&key=" + kNewKey, {}, 0).status == 200);
  std::string names;
  for (int i = 0; i < 50; ++i) {
    names += (i ? "%0A" : "") + std::string(i % 3 == 0 ? "mini" : i % 3 == 1 ? "Nobody" : "Hyper.Guest@HG.example.com:8002");
  }
  const HttpReply owner = site.Get("names=" + names, {}, 0);
  const HttpReply peer = site.Get("names=" + names, {}, 1);
  CHECK(owner.status == 200);
  CHECK(peer.body == owner.body);
  CHECK(CountLinesWith(peer.body, kMiniKey) == 17);
  CHECK(CountLinesWith(peer.body, kNewKey) == 16);  // the Hypergrid visitor, found on its home grid
  CHECK(site.Get("keys=" + kMiniKey + "%0A" + kNewKey + "&format=json", {}, 1).body ==
        site.Get("keys=" + kMiniKey + "%0A" + kNewKey + "&format=json", {}, 0).body);
  // One log line a request, whatever the number of names.
  CHECK(CountLinesWith(site.Log(), "names (50) -> 33 found") == 2);
}

TEST_CASE("a Go-era config.ini's importFilename and exportFilename do not run in every FastCGI process",
          "[integration][fastcgi]") {
  Site site(Site::Db::kSeeded);
  WriteFile(site.File("name2key.csv"), "11111111-0000-4000-8000-000000000001,Not Imported\n");
  site.WriteConfig("[options]\nimportFilename = " + site.File("name2key.csv") +
                   "\nexportFilename = " + site.File("export.csv") + "\n");
  site.Start({}, 2);
  for (int i = 0; i < 2; ++i) {
    CHECK(site.Get("name=mini", {}, i).body == kMiniKey);
    CHECK(site.Get("name=Not+Imported", {}, i).body == "00000000-0000-0000-0000-000000000000");
  }
  CHECK_FALSE(std::filesystem::exists(site.File("export.csv")));
  CHECK(CountLinesWith(site.Log(), "WARNING config.ini sets importFilename or exportFilename, which would run "
                                   "in every process Apache starts: ignored here") == 2);
  // By hand, the same config.ini still imports (the Go program's way).
  CHECK(site.Run({"--shell"}, "Not Imported\n").exit_code == 0);
  CHECK(site.Run({"--shell"}, "Not Imported\n").out.find("11111111-0000-4000-8000-000000000001") !=
        std::string::npos);
}

TEST_CASE("a database held by another process is answered through it", "[integration][fastcgi]") {
  Site site(Site::Db::kSeeded);
  gosl::Store holder({site.db()});
  REQUIRE(holder.Open().ok());
  site.Start({"--writes", "open"});
  CHECK(site.Get("name=mini").body == kMiniKey);
  // A registration through the FastCGI process is seen by the holder at once.
  CHECK(site.Get("name=Via+Peer&key=" + kUnknownKey).status == 200);
  auto via_peer = holder.FindByKey(gosl::Uuid::Parse(kUnknownKey).value());
  REQUIRE(via_peer.ok());
  CHECK(via_peer.value().name == "Via Peer");
}

TEST_CASE("a database locked by a process that answers nobody gives 503 with the reason",
          "[integration][fastcgi]") {
  Site site(Site::Db::kSeeded);
  leveldb::DB* raw = nullptr;
  REQUIRE(leveldb::DB::Open(leveldb::Options(), site.db(), &raw).ok());
  std::unique_ptr<leveldb::DB> holder(raw);
  site.Start({"--writes", "open"});
  HttpReply reply = site.Get("name=mini");
  CHECK(reply.status == 503);
  CHECK(reply.body == "database '" + site.db() + "' is in use by another process");
  holder.reset();
  CHECK(site.Get("name=mini").body == kMiniKey);
}

TEST_CASE("SIGUSR1 also stops the FastCGI loop cleanly", "[integration][fastcgi]") {
  Site site(Site::Db::kSeeded);
  site.Start({"--writes", "open"});
  REQUIRE(site.Get("name=mini").status == 200);
  int status = site.process().StopWith(SIGUSR1);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

// libfcgi closes a connection by shutting down its side, then reading and
// dropping whatever the web server still sends until it closes too: one more
// sleep and wake-up per request under mod_fcgid. A process that has read the
// whole request (its stdin to the end) closes at once instead.
TEST_CASE("the connection is closed (not only shut down) once the answer is written",
          "[integration][fastcgi]") {
  Site site(Site::Db::kSeeded);
  site.Start({"--writes", "open"});
  REQUIRE(site.Get("name=mini").body == kMiniKey);  // serving

  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  site.SocketPath().copy(address.sun_path, sizeof(address.sun_path) - 1);
  REQUIRE(::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0);
  const std::string request = EncodeFastCgiRequest(CgiParams("GET", "name=mini"));
  REQUIRE(::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size()));

  // The answer, then the end of what the process sends.
  std::string received;
  for (;;) {
    pollfd readable{fd, POLLIN, 0};
    REQUIRE(::poll(&readable, 1, 30000) == 1);
    char buffer[4096];
    const ssize_t got = ::read(fd, buffer, sizeof(buffer));
    if (got <= 0) break;
    received.append(buffer, static_cast<size_t>(got));
  }
  CHECK(received.find(kMiniKey) != std::string::npos);

  // Shut down only, the process would still read (and drop) these bytes for
  // as long as they come; closed, the first one is refused.
  bool refused = false;
  for (int sent = 0; sent < 100 && !refused; ++sent) {
    refused = ::send(fd, "x", 1, MSG_NOSIGNAL) < 0;
    if (!refused) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::close(fd);
  CHECK(refused);
  CHECK(site.Get("name=mini").body == kMiniKey);
}

}  // namespace gosl::test
