// Write protection, the registration rate limit and config reload against
// the real binary over FastCGI (issue 6, items 1, 2 and 6).
#include <chrono>
#include <thread>

#include <catch2/catch.hpp>

#include "../support/api_cases.hpp"
#include "../support/files.hpp"
#include "../support/site.hpp"

namespace gosl::test {
namespace {

const Params kScriptHeaders = {
    {"HTTP_X_SECONDLIFE_SHARD", "Production"},
    {"HTTP_X_SECONDLIFE_OBJECT_KEY", "1a2b3c4d-5e6f-4a0b-8c1d-2e3f4a5b6c7d"},
    {"HTTP_X_SECONDLIFE_OWNER_KEY", "5f3e2d1c-0b0a-4987-8654-3210fedcba98"},
};

// A GET as if from `address` instead of 127.0.0.1.
Params GetFrom(const std::string& address, const std::string& query) {
  Params params = CgiParams("GET", query);
  for (auto& [name, value] : params) {
    if (name == "REMOTE_ADDR") value = address;
  }
  return params;
}

std::string Register(int i) {
  return "name=Writer" + std::to_string(i) + "+Resident&key=" + "11111111-2222-4333-8444-" +
         std::string(12 - std::to_string(i).size(), '0') + std::to_string(i);
}

// Asks until the answer's status is `status` (the service looks at
// config.ini at most once a second, and reads a file a second old).
// Each try registers another name: one that gets through before the
// change is simply recorded.
bool RegistrationAnswersWithin(const Site& site, int first, int status) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (int i = first; std::chrono::steady_clock::now() < deadline; ++i) {
    if (site.Get(Register(i)).status == status) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

}  // namespace

TEST_CASE("by default only Second Life scripts register; lookups are open to all",
          "[integration][access]") {
  Site site(Site::Db::kSeeded);
  site.WriteConfig("[log]\nlogLevel = INFO\n");
  site.Start();
  HttpReply browser = site.Get(Register(1));
  CHECK(browser.status == 403);
  CHECK(browser.body ==
        "registrations are taken from Second Life scripts only: no valid X-SecondLife-Shard "
        "header (writes = sl-only)");
  CHECK(site.Get("key=11111111-2222-4333-8444-000000000001").body.empty());  // nothing recorded
  CHECK(site.Get(Register(1), kScriptHeaders).status == 200);
  CHECK(site.Get("key=11111111-2222-4333-8444-000000000001").body == "Writer1 Resident");
  CHECK(site.Get("name=mini").body == kMiniKey);
}

TEST_CASE("writes = token: the token in the body registers and is never logged",
          "[integration][access]") {
  Site site(Site::Db::kSeeded);
  site.WriteConfig("[options]\nwrites = token\ntoken = \"Tr0ub4dor-and-3\"\n");
  site.Start();
  CHECK(site.Post(Register(2) + "&token=Tr0ub4dor-and-3", "text/plain").status == 200);
  HttpReply wrong = site.Post(Register(3) + "&token=Tr0ub4dor-and-4", "text/plain");
  CHECK(wrong.status == 403);
  CHECK(wrong.body == "wrong token= for registrations");
  CHECK(site.Get(Register(3), kScriptHeaders).status == 403);  // headers are not enough
  CHECK(site.Get("key=11111111-2222-4333-8444-000000000002").body == "Writer2 Resident");
  CHECK(site.Get("key=11111111-2222-4333-8444-000000000003").body.empty());
  const std::string log = site.Log();
  CHECK(log.find("Tr0ub4dor") == std::string::npos);
}

TEST_CASE("writes = off is a read-only service", "[integration][access]") {
  Site site(Site::Db::kSeeded);
  site.WriteConfig("");
  site.Start({"--writes", "off"});
  HttpReply reply =
      site.Post("pairs=" + kUnknownKey + "%2CBatch+Person", "text/plain", kScriptHeaders);
  CHECK(reply.status == 403);
  CHECK(reply.body == "registrations are switched off on this service (writes = off)");
  CHECK(site.Get("key=" + kUnknownKey).body.empty());
}

TEST_CASE("registrations over the limit get 429 with Retry-After, across processes",
          "[integration][access]") {
  // 8 a minute: bursts of 2, then one every 7.5 s.
  Site site(Site::Db::kSeeded);
  site.WriteConfig("[options]\nwrites = open\nregistrationsPerMinute = 8\n");
  site.Start({}, 2);
  CHECK(site.Get(Register(4), {}, 0).status == 200);
  CHECK(site.Get(Register(5), {}, 1).status == 200);
  HttpReply limited = site.Get(Register(6), {}, 0);  // the other process counted too
  CHECK(limited.status == 429);
  // 7.5 s after the second registration, rounded up; 7 if that took over 0.5 s.
  const std::string wait = limited.headers["retry-after"];
  CHECK((wait == "8" || wait == "7"));
  CHECK(limited.body == "too many registrations from this client: try again in " + wait + " s");
  CHECK(site.Get("key=11111111-2222-4333-8444-000000000006").body.empty());
  // Another address is not held up; lookups never are.
  CHECK(site.Send(GetFrom("192.0.2.200", Register(7)), "", 1).status == 200);
  for (int i = 0; i < 50; ++i) REQUIRE(site.Get("name=mini", {}, i % 2).body == kMiniKey);
}

TEST_CASE("a changed config.ini is used within a second; a broken one keeps the last good one",
          "[integration][access]") {
  Site site(Site::Db::kSeeded);
  site.WriteConfig("[options]\nwrites = open\n");
  site.Start();
  CHECK(site.Get(Register(8)).status == 200);

  site.WriteConfig("[options]\nwrites = off\n");
  CHECK(RegistrationAnswersWithin(site, 100, 403));

  site.WriteConfig("[options]\nwrites = open\nwrites_typo = 1\n");
  // Seen (and refused) once the log says so; registrations stay off.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (CountLinesWith(site.Log(), "changed but is not used") == 0 &&
         std::chrono::steady_clock::now() < deadline) {
    CHECK(site.Get(Register(9)).status == 403);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(site.Get(Register(9)).status == 403);  // still off
  CHECK(site.Get("name=mini").body == kMiniKey);

  site.WriteConfig("[options]\nwrites = open\n[log]\nlogLevel = WARNING\n");
  CHECK(RegistrationAnswersWithin(site, 200, 200));
  CHECK(site.Get(Register(9)).status == 200);
  CHECK(site.Get("key=11111111-2222-4333-8444-000000000009").body == "Writer9 Resident");

  const std::string log = site.Log();
  CHECK(CountLinesWith(log, "reloaded: writes = off") == 1);
  CHECK(CountLinesWith(log, "changed but is not used, the settings in force stay") == 1);
  CHECK(CountLinesWith(log, "options.writes_typo") == 1);
  CHECK(CountLinesWith(log, "reloaded: writes = open") == 1);
  // At WARNING the requests after the last reload are not logged.
  CHECK(CountLinesWith(log, "Writer9 Resident") == 0);
}

}  // namespace gosl::test

namespace gosl::test {

TEST_CASE("a config.ini emptied or half written keeps writes = token in force",
          "[integration][access]") {
  Site site(Site::Db::kSeeded);
  site.WriteConfig("[options]\nwrites = token\ntoken = correct-horse-battery\n");
  site.Start();
  const Params forged = {
      {"HTTP_X_SECONDLIFE_SHARD", "Production"},
      {"HTTP_X_SECONDLIFE_OBJECT_KEY", "1a2b3c4d-5e6f-4a0b-8c1d-2e3f4a5b6c7d"},
      {"HTTP_X_SECONDLIFE_OWNER_KEY", "5f3e2d1c-0b0a-4987-8654-3210fedcba98"},
  };
  CHECK(site.Get(Register(20), forged).status == 403);
  // An upload under way, a careless edit: the writes line is gone.
  site.WriteConfig("[log]\nlogLevel = INFO\n");
  // Every request looks at the file (at most once a second).
  CHECK(WaitFor(
      [&] {
        return site.Get("name=mini").body == kMiniKey &&
               CountLinesWith(site.Log(), "no longer sets --writes") == 1;
      },
      10000, 100));
  CHECK(site.Get(Register(20), forged).status == 403);  // sl-only would let these headers in
  CHECK(site.Get(Register(21) + "&token=correct-horse-battery").status == 200);
  CHECK(site.Log().find("correct-horse") == std::string::npos);
}

}  // namespace gosl::test
