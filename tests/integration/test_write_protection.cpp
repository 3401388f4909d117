// Write protection, the registration rate limit and config reload against
// the real binary over FastCGI (issue 6, items 1, 2 and 6).
#include <chrono>
#include <memory>
#include <thread>

#include <catch2/catch.hpp>

#include "../support/api_cases.hpp"
#include "../support/fcgi_client.hpp"
#include "../support/files.hpp"
#include "../support/process.hpp"
#include "../support/temp_dir.hpp"

namespace gosl::test {
namespace {

const Params kScriptHeaders = {
    {"HTTP_X_SECONDLIFE_SHARD", "Production"},
    {"HTTP_X_SECONDLIFE_OBJECT_KEY", "1a2b3c4d-5e6f-4a0b-8c1d-2e3f4a5b6c7d"},
    {"HTTP_X_SECONDLIFE_OWNER_KEY", "5f3e2d1c-0b0a-4987-8654-3210fedcba98"},
};

struct App {
  TempDir dir;
  std::vector<std::unique_ptr<FastCgiProcess>> processes;

  // config.ini in the working directory, where the binary finds it.
  App(const std::string& config_ini, const std::vector<std::string>& args = {}, int count = 1) {
    SeedApiDatabase(dir.File("slkvdb"));
    WriteFile(dir.File("config.ini"), config_ini);
    std::vector<std::string> all = {"--dir", dir.path()};
    all.insert(all.end(), args.begin(), args.end());
    for (int i = 0; i < count; ++i) {
      processes.push_back(std::make_unique<FastCgiProcess>(
          GOSL_TEST_BINARY, all, Socket(i), dir.path(), std::vector<std::string>{"PATH=/usr/bin:/bin"},
          dir.File("out" + std::to_string(i)), dir.File("err" + std::to_string(i))));
    }
  }
  std::string Socket(int i) const { return dir.File("app" + std::to_string(i) + ".sock"); }

  HttpReply Get(const std::string& query, const Params& headers = {}, int process = 0,
                const std::string& remote_addr = "") {
    Params params = CgiParams("GET", query, "", "", headers);
    for (auto& [name, value] : params) {
      if (name == "REMOTE_ADDR" && !remote_addr.empty()) value = remote_addr;
    }
    return FastCgiRequest(Socket(process), params);
  }
  HttpReply Post(const std::string& body, const Params& headers = {}) {
    return FastCgiRequest(Socket(0), CgiParams("POST", "", body, "text/plain", headers), body);
  }
  std::string Log() const { return ReadFile(dir.File("gosl.log")); }
};

std::string Register(int i) {
  return "name=Writer" + std::to_string(i) + "+Resident&key=" + "11111111-2222-4333-8444-" +
         std::string(12 - std::to_string(i).size(), '0') + std::to_string(i);
}

// Asks until the answer's status is `status` (the service looks at
// config.ini at most once a second, and reads a file a second old).
// Each try registers another name: one that gets through before the
// change is simply recorded.
bool RegistrationAnswersWithin(App& app, int first, int status) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (int i = first; std::chrono::steady_clock::now() < deadline; ++i) {
    if (app.Get(Register(i)).status == status) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

}  // namespace

TEST_CASE("by default only Second Life scripts register; lookups are open to all",
          "[integration][access]") {
  App app("[log]\nlogLevel = INFO\n");
  HttpReply browser = app.Get(Register(1));
  CHECK(browser.status == 403);
  CHECK(browser.body ==
        "registrations are taken from Second Life scripts only: no valid X-SecondLife-Shard "
        "header (writes = sl-only)");
  CHECK(app.Get("key=11111111-2222-4333-8444-000000000001").body.empty());  // nothing recorded
  CHECK(app.Get(Register(1), kScriptHeaders).status == 200);
  CHECK(app.Get("key=11111111-2222-4333-8444-000000000001").body == "Writer1 Resident");
  CHECK(app.Get("name=mini").body == kMiniKey);
}

TEST_CASE("writes = token: the token in the body registers and is never logged",
          "[integration][access]") {
  App app("[options]\nwrites = token\ntoken = \"Tr0ub4dor-and-3\"\n");
  CHECK(app.Post(Register(2) + "&token=Tr0ub4dor-and-3").status == 200);
  HttpReply wrong = app.Post(Register(3) + "&token=Tr0ub4dor-and-4");
  CHECK(wrong.status == 403);
  CHECK(wrong.body == "wrong token= for registrations");
  CHECK(app.Get(Register(3), kScriptHeaders).status == 403);  // headers are not enough
  CHECK(app.Get("key=11111111-2222-4333-8444-000000000002").body == "Writer2 Resident");
  CHECK(app.Get("key=11111111-2222-4333-8444-000000000003").body.empty());
  const std::string log = app.Log();
  CHECK(log.find("Tr0ub4dor") == std::string::npos);
}

TEST_CASE("writes = off is a read-only service", "[integration][access]") {
  App app("", {"--writes", "off"});
  HttpReply reply = app.Post("pairs=" + kUnknownKey + "%2CBatch+Person", kScriptHeaders);
  CHECK(reply.status == 403);
  CHECK(reply.body == "registrations are switched off on this service (writes = off)");
  CHECK(app.Get("key=" + kUnknownKey).body.empty());
}

TEST_CASE("registrations over the limit get 429 with Retry-After, across processes",
          "[integration][access]") {
  // 8 a minute: bursts of 2, then one every 7.5 s.
  App app("[options]\nwrites = open\nregistrationsPerMinute = 8\n", {}, 2);
  CHECK(app.Get(Register(4), {}, 0).status == 200);
  CHECK(app.Get(Register(5), {}, 1).status == 200);
  HttpReply limited = app.Get(Register(6), {}, 0);  // the other process counted too
  CHECK(limited.status == 429);
  // 7.5 s after the second registration, rounded up; 7 if that took over 0.5 s.
  const std::string wait = limited.headers["retry-after"];
  CHECK((wait == "8" || wait == "7"));
  CHECK(limited.body == "too many registrations from this client: try again in " + wait + " s");
  CHECK(app.Get("key=11111111-2222-4333-8444-000000000006").body.empty());
  // Another address is not held up; lookups never are.
  CHECK(app.Get(Register(7), {}, 1, "192.0.2.200").status == 200);
  for (int i = 0; i < 50; ++i) REQUIRE(app.Get("name=mini", {}, i % 2).body == kMiniKey);
}

TEST_CASE("a changed config.ini is used within a second; a broken one keeps the last good one",
          "[integration][access]") {
  App app("[options]\nwrites = open\n");
  CHECK(app.Get(Register(8)).status == 200);

  WriteFile(app.dir.File("config.ini"), "[options]\nwrites = off\n");
  CHECK(RegistrationAnswersWithin(app, 100, 403));

  WriteFile(app.dir.File("config.ini"), "[options]\nwrites = open\nwrites_typo = 1\n");
  // Seen (and refused) once the log says so; registrations stay off.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (CountLinesWith(app.Log(), "changed but is not used") == 0 &&
         std::chrono::steady_clock::now() < deadline) {
    CHECK(app.Get(Register(9)).status == 403);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(app.Get(Register(9)).status == 403);  // still off
  CHECK(app.Get("name=mini").body == kMiniKey);

  WriteFile(app.dir.File("config.ini"), "[options]\nwrites = open\n[log]\nlogLevel = WARNING\n");
  CHECK(RegistrationAnswersWithin(app, 200, 200));
  CHECK(app.Get(Register(9)).status == 200);
  CHECK(app.Get("key=11111111-2222-4333-8444-000000000009").body == "Writer9 Resident");

  const std::string log = app.Log();
  CHECK(CountLinesWith(log, "reloaded: writes = off") == 1);
  CHECK(CountLinesWith(log, "changed but is not used, the settings in force stay") == 1);
  CHECK(CountLinesWith(log, "options.writes_typo") == 1);
  CHECK(CountLinesWith(log, "reloaded: writes = open") == 1);
  // At WARNING the requests after the last reload are not logged.
  CHECK(CountLinesWith(log, "Writer9 Resident") == 0);
}

}  // namespace gosl::test
