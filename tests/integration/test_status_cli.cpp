// --status over SSH and status=1 over FastCGI, with the real binary: it asks
// the process holding the database while the service runs, opens the
// database itself when none does, and sees every process serving and what
// each has answered.
#include <chrono>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "../support/api_cases.hpp"
#include "../support/files.hpp"
#include "../support/site.hpp"

namespace gosl::test {
namespace {

bool Has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("--status tells the processes serving, their answers and the counts, while they serve",
          "[integration][status]") {
  Site site(Site::Db::kSeeded);
  site.Start({"--writes", "open"}, 2);
  // Process 0 opens the database first and holds it; 1 forwards to it.
  REQUIRE(site.Get("name=Mini+Resident", {}, 0).body == kMiniKey);
  REQUIRE(site.Get("name=Mini+Resident", {}, 1).body == kMiniKey);
  REQUIRE(site.Get("name=Nobody+Here", {}, 1).status == 200);
  REQUIRE(site.Get("key=not-a-key", {}, 1).status == 400);
  REQUIRE(site.Get("name=Status+Tester&key=12345678-aaaa-4bbb-8ccc-1234567890ab", {}, 1).status == 200);

  // Each process counts an answer just after it has gone: wait for the last.
  RunResult text = site.Run({"--status"});
  for (int i = 0; i < 40 && !Has(text.out, "answered since they started: 3 found, 1 not found, 1 refused"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    text = site.Run({"--status"});
  }
  INFO(text.out << text.err);
  CHECK(text.exit_code == 0);
  CHECK(Has(text.out, "gosl-basics "));
  CHECK(Has(text.out, "database: " + site.db() + " ("));
  CHECK(Has(text.out, "registrations: 1 in the last hour, 1 in the last day, 1 in the last 30 days, 1 ever\n"));
  CHECK(Has(text.out, "processes serving: 2 (1 holding the database, 1 forwarding to it)\n"));
  CHECK(Has(text.out, "answered since they started: 3 found, 1 not found, 1 refused, 0 failed, 0 other\n"));
  CHECK(Has(text.out, "log: " + site.File("gosl.log") + " ("));

  const RunResult json = site.Run({"--status", "--format", "json"});
  INFO(json.out);
  CHECK(json.exit_code == 0);
  CHECK(Has(json.out, "\"processes\":{\"owner\":1,\"peers\":1}"));
  CHECK(Has(json.out, "\"answered\":{\"found\":3,\"not_found\":1,\"refused\":1,\"failed\":0,\"other\":0}"));
  // The records: every name entry the seeded database holds, plus the one registered.
  const RunResult over_http = RunResult{0, site.Get("status=1&format=json", {}, 1).body, ""};
  CHECK(Has(over_http.out, "\"records\":"));
  CHECK_FALSE(Has(over_http.out, site.dir()));  // no path over HTTP
  const auto records_at = json.out.find("\"records\":");
  REQUIRE(records_at != std::string::npos);
  CHECK(over_http.out.find(json.out.substr(records_at, json.out.find(',', records_at) - records_at)) !=
        std::string::npos);

  // With nothing serving it opens the database itself: the same counts, no process.
  site.StopAll();
  const RunResult alone = site.Run({"--status", "--format", "json"});
  CHECK(alone.exit_code == 0);
  CHECK(Has(alone.out, "\"processes\":{\"owner\":0,\"peers\":0}"));
  CHECK(alone.out.substr(records_at, 30) == json.out.substr(records_at, 30));
}

TEST_CASE("--status without a database says so and exits 1; status = off answers 404",
          "[integration][status]") {
  Site site;
  const RunResult none = site.Run({"--status"});
  CHECK(none.exit_code == 1);
  CHECK(Has(none.out, "records: unknown (no database at '" + site.db() + "'"));

  Site seeded(Site::Db::kSeeded);
  seeded.WriteConfig("[options]\nstatus = off\n");
  seeded.Start();
  const HttpReply off = seeded.Get("status=1");
  CHECK(off.status == 404);
  CHECK(off.body == "status is switched off on this site");
  // The operator's --status is not the public's: it still answers.
  CHECK(seeded.Run({"--status"}).exit_code == 0);
}

}  // namespace gosl::test
