#include "gosl/dispatcher.hpp"

#include <memory>

#include <catch2/catch.hpp>
#include <leveldb/db.h>

#include "support/api_cases.hpp"
#include "support/files.hpp"
#include "support/db_holder.hpp"
#include "support/temp_dir.hpp"
#include "gosl/logging.hpp"

namespace gosl {

TEST_CASE("every API row answers as SPEC.md says in process", "[dispatcher]") {
  test::TempDir dir;
  test::SeedApiDatabase(dir.File("slkvdb"));
  Store store({dir.File("slkvdb")});
  test::CheckApiCases([&store](const test::ApiCase& c) {
    Request request;
    request.method = c.method;
    request.query = c.query;
    request.body = c.body;
    request.content_type = c.content_type;
    request.grid = c.grid;
    Response response = Handle(request, store);
    test::HttpReply reply;
    reply.status = response.status;
    reply.content_type = response.content_type;
    reply.body = response.body;
    return reply;
  });
}

TEST_CASE("a store failure is a 503 with its reason, not a crash", "[dispatcher]") {
  test::TempDir dir;
  test::DatabaseHolder holder(dir.File("db"));  // holds the lock and answers no peer
  REQUIRE(holder.held());
  StoreOptions options{dir.File("db")};
  options.wait_ms = 50;
  Store busy(options);
  Request request;
  request.query = "name=mini";
  Response response = Handle(request, busy);
  CHECK(response.status == 503);
  CHECK(response.body == "database '" + dir.File("db") + "' is in use by another process");
}

TEST_CASE("LogServed writes one INFO line per request with outcome and microseconds", "[dispatcher]") {
  test::TempDir dir;
  REQUIRE(log::SetUp({dir.File("test.log"), 1 << 20, 1, log::Level::kInfo, false}).ok());
  Store store({dir.File("db")});
  Request request;
  request.query = "name=Nobody%0AInjected";
  request.remote_addr = "192.0.2.7";
  Served served = Serve(request, store, nullptr);
  CHECK(served.response.status == 400);
  CHECK(served.elapsed_us >= 0);
  CHECK(test::ReadFile(dir.File("test.log")).find(" INFO ") == std::string::npos);  // not before LogServed
  LogServed(request, served);
  request.query = "name=Nobody";
  served = Serve(request, store, nullptr);
  CHECK(served.response.status == 200);
  LogServed(request, served);
  log::ShutDown();
  const std::string log = test::ReadFile(dir.File("test.log"));
  CHECK(test::CountRequestLines(log) == 2);
  CHECK(test::CountLinesWith(log, "INFO 200 GET name 'Nobody' -> unknown ") == 1);
  CHECK(test::CountLinesWith(log, "us from 192.0.2.7") == 2);
  // A name with a newline cannot forge a log line.
  CHECK(test::CountLinesWith(log, "Injected") == 1);
  CHECK(log.find("Nobody\\x0aInjected") != std::string::npos);
}

}  // namespace gosl

namespace gosl {

TEST_CASE("a gate refuses registrations before the store sees them", "[dispatcher]") {
  test::TempDir dir;
  test::SeedApiDatabase(dir.File("slkvdb"));
  Store store({dir.File("slkvdb")});
  auto policy = std::make_shared<AccessPolicy>();
  policy->writes = WriteMode::kOff;
  policy->registrations_per_minute = 4;
  Gate gate([&policy] { return std::shared_ptr<const AccessPolicy>(policy); },
            dir.File("slkvdb/GOSL-RATES"));
  Request request;
  request.query = "name=Gated+Resident&key=12345678-2222-3333-4444-555555555555";
  request.remote_addr = "192.0.2.7";
  Request lookup;
  lookup.query = "name=Gated+Resident";
  Response refused = Handle(request, store, &gate);
  CHECK(refused.status == 403);
  CHECK(refused.body == "registrations are switched off on this service (writes = off)");
  CHECK(Handle(lookup, store).body ==
        "00000000-0000-0000-0000-000000000000");

  policy->writes = WriteMode::kOpen;  // the source is asked on every request
  CHECK(Handle(request, store, &gate).status == 200);
  Response limited = Handle(request, store, &gate);
  CHECK(limited.status == 429);
  CHECK(limited.retry_after_s >= 14);
  CHECK(Handle(lookup, store, &gate).body ==
        "12345678-2222-3333-4444-555555555555");
  // The operator's own requests (no gate) are neither protected nor limited.
  CHECK(Handle(request, store).status == 200);
}

}  // namespace gosl
