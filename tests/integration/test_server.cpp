// The real binary in --server mode over real TCP connections on 127.0.0.1.
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <thread>

#include <catch2/catch.hpp>

#include "../support/api_cases.hpp"
#include "../support/files.hpp"
#include "../support/http_client.hpp"
#include "../support/site.hpp"

namespace gosl::test {

TEST_CASE("every API row answers as SPEC.md says in --server mode", "[integration][server]") {
  Site site(Site::Db::kSeeded);
  const int port = site.StartServer({"--writes", "open"});
  CheckApiCases([port](const ApiCase& c) {
    Params headers;
    if (!c.grid.empty()) headers.emplace_back("X-SecondLife-Shard", c.grid);
    if (!c.content_type.empty()) headers.emplace_back("Content-Type", c.content_type);
    return HttpRequest(port, c.method, "/any/path?" + c.query, c.body, headers);
  });
  int status = site.process().StopWith(SIGTERM);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(CountRequestLines(site.Log()) == ApiCases().size());
}

TEST_CASE("--server keeps a connection alive across requests", "[integration][server]") {
  Site site(Site::Db::kSeeded);
  const int port = site.StartServer({"--writes", "open"});
  HttpConnection connection(port);
  for (int i = 0; i < 5; ++i) {
    HttpReply reply = connection.Send("GET", "/?name=mini");
    CHECK(reply.status == 200);
    CHECK(reply.body == kMiniKey);
  }
  CHECK_FALSE(connection.closed_by_server());
}

TEST_CASE("--server ends a busy connection after 1,000 requests: no client keeps one for ever",
          "[integration][server]") {
  Site site(Site::Db::kSeeded);
  const int port = site.StartServer({});
  HttpConnection connection(port);
  int answered = 0;
  for (int i = 0; i < 1000 && !connection.closed_by_server(); ++i) {
    answered += connection.Send("GET", "/?name=mini").body == kMiniKey;
  }
  CHECK(answered == 1000);
  CHECK(connection.WaitForClose(5000));
  // A new connection is served as usual.
  CHECK(HttpConnection(port).Send("GET", "/?name=mini").body == kMiniKey);
}

TEST_CASE("--server answers concurrent clients correctly", "[integration][server]") {
  Site site(Site::Db::kSeeded);
  const int port = site.StartServer({"--writes", "open"});
  std::atomic<int> wrong{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 8; ++c) {
    clients.emplace_back([port, &wrong, c] {
      HttpConnection connection(port);
      for (int i = 0; i < 100; ++i) {
        bool by_name = (i + c) % 2 == 0;
        HttpReply reply = by_name ? connection.Send("GET", "/?name=Legacy.Linden")
                                  : connection.Send("GET", "/?key=" + kLegacyKey);
        if (reply.status != 200 || reply.body != (by_name ? kLegacyKey : "Legacy Linden")) ++wrong;
      }
    });
  }
  for (auto& client : clients) client.join();
  CHECK(wrong == 0);
}

TEST_CASE("--server refuses an oversize body with 413 and a malformed request with 400",
          "[integration][server]") {
  Site site(Site::Db::kSeeded);
  const int port = site.StartServer({"--writes", "open"});
  HttpReply big = HttpRequest(port, "POST", "/", "name=" + std::string(70000, 'a'),
                              {{"Content-Type", "application/x-www-form-urlencoded"}});
  CHECK(big.status == 413);
  CHECK(big.body == "request body is larger than 65536 bytes");
  HttpReply bad = HttpRequest(port, "GET", "/?name=mini", "", {{"Content-Length", "nonsense"}});
  CHECK(bad.status == 400);
  CHECK(bad.body.rfind("malformed HTTP request", 0) == 0);
  CHECK(HttpRequest(port, "GET", "/?name=mini").body == kMiniKey);
}

TEST_CASE("--server listens on 127.0.0.1 unless --bind says otherwise", "[integration][server]") {
  Site site(Site::Db::kSeeded);
  site.StartServer({"--writes", "open"});
  CHECK(site.Stderr().find("listening on http://127.0.0.1:") != std::string::npos);
}

}  // namespace gosl::test
