// The real binary in --server mode over real TCP connections on 127.0.0.1.
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include <atomic>
#include <thread>

#include <catch2/catch.hpp>

#include "../support/api_cases.hpp"
#include "../support/files.hpp"
#include "../support/http_client.hpp"
#include "../support/process.hpp"
#include "../support/site.hpp"
#include "../support/temp_dir.hpp"

namespace gosl::test {
namespace fs = std::filesystem;

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

TEST_CASE("--server answers on the socket systemd passes it (socket activation), its own "
          "--bind and --port unused",
          "[integration][server]") {
  Site site(Site::Db::kSeeded);
  // A port nobody listens on: only the passed socket can be answering.
  const int port = site.StartSocketActivatedServer({"--writes", "open", "--port", "1", "--debug", "INFO"});
  CheckApiCases([port](const ApiCase& c) {
    Params headers;
    if (!c.grid.empty()) headers.emplace_back("X-SecondLife-Shard", c.grid);
    if (!c.content_type.empty()) headers.emplace_back("Content-Type", c.content_type);
    return HttpRequest(port, c.method, "/?" + c.query, c.body, headers);
  });
  CHECK_THAT(site.Log(), Catch::Contains("using the socket systemd passed"));
  int status = site.process().StopWith(SIGTERM);
  CHECK(WIFEXITED(status));
}

TEST_CASE("--server refuses a passed socket that is not a listening TCP socket, naming it",
          "[integration][server]") {
  Site site(Site::Db::kSeeded);
  const std::string socket = site.File("activation.sock");
  site.StartSocketActivatedServer({}, socket);
  for (int i = 0; i < 100 && !fs::exists(socket); ++i) usleep(20000);
  // The first connection starts the binary with the unix socket as fd 3.
  const int client = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::snprintf(address.sun_path, sizeof address.sun_path, "%s", socket.c_str());
  REQUIRE(::connect(client, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  std::string log;
  for (int i = 0; i < 250 && log.find("CRITICAL") == std::string::npos; ++i) {
    usleep(20000);
    log = site.Log();
  }
  ::close(client);
  CHECK_THAT(log, Catch::Contains("the socket systemd passed (fd 3) is not a listening TCP socket"));
}

// systemd-analyze verify: the units load, every key is known, the binary exists.
TEST_CASE("the systemd units in the archive pass systemd-analyze verify, and the service is "
          "sandboxed",
          "[integration][server]") {
  const std::string analyze = "/usr/bin/systemd-analyze";
  REQUIRE(access(analyze.c_str(), X_OK) == 0);  // scripts/install-deps.sh installs systemd
  TempDir units;
  std::string service = ReadFile(GOSL_SOURCE_DIR "/systemd/gosl-basics.service");
  const std::string shipped_binary = "/opt/gosl-basics/gosl-basics.fcgi";
  const size_t at = service.find("ExecStart=" + shipped_binary);
  REQUIRE(at != std::string::npos);
  service.replace(at + 10, shipped_binary.size(), GOSL_TEST_BINARY);
  WriteFile(units.File("gosl-basics.service"), service);
  WriteFile(units.File("gosl-basics.socket"), ReadFile(GOSL_SOURCE_DIR "/systemd/gosl-basics.socket"));
  const std::vector<std::string> env = {"PATH=/usr/bin:/bin", "SYSTEMD_LOG_COLOR=0"};
  RunResult verify = RunProgram(analyze, {"verify", units.File("gosl-basics.service"),
                                          units.File("gosl-basics.socket")}, env);
  INFO(verify.err);
  CHECK(verify.exit_code == 0);
  CHECK(verify.err.empty());  // an unknown key is only a warning there
  // A typo in a key is what the check above exists for.
  WriteFile(units.File("gosl-basics.service"), service + "ProtectSystm=strict\n");
  RunResult typo = RunProgram(analyze, {"verify", units.File("gosl-basics.service")}, env);
  CHECK_THAT(typo.err, Catch::Contains("Unknown key 'ProtectSystm'"));
  WriteFile(units.File("gosl-basics.service"), service);

  // systemd's own score of the sandbox: 0 (locked down) to 10 (exposed).
  RunResult security = RunProgram(analyze, {"security", "--offline=true", "--no-pager",
                                            units.File("gosl-basics.service")}, env);
  INFO(security.out << security.err);
  const std::string text = security.out + security.err;
  const std::string marker = "Overall exposure level for gosl-basics.service: ";
  const size_t level = text.find(marker);
  REQUIRE(level != std::string::npos);
  CHECK(std::stod(text.substr(level + marker.size())) <= 2.0);
}

}  // namespace gosl::test
