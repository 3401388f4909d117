#include "gosl/access.hpp"

#include <catch2/catch.hpp>

#include "support/temp_dir.hpp"

namespace gosl {
namespace {

constexpr const char* kKey = "11111111-2222-3333-4444-555555555555";
constexpr const char* kOwner = "aaaaaaaa-2222-3333-4444-555555555555";
constexpr const char* kObject = "bbbbbbbb-2222-3333-4444-555555555555";
constexpr int64_t kSecond = 1000000;

// A request as a Second Life script sends it: its grid, object and owner.
Request FromScript(const std::string& query) {
  Request request;
  request.query = query;
  request.grid = "Production";
  request.object_key = kObject;
  request.owner_key = kOwner;
  request.remote_addr = "10.0.0.1";
  return request;
}

Request FromBrowser(const std::string& query) {
  Request request;
  request.query = query;
  request.remote_addr = "10.0.0.2";
  return request;
}

Admission Admit(const AccessPolicy& policy, const Request& request,
                RegistrationLimiter* limiter = nullptr) {
  Result<Parameters> params = ParseParameters(request);
  REQUIRE(params.ok());
  return AdmitRegistration(policy, request, params.value(), limiter);
}

AccessPolicy Writes(WriteMode mode) {
  AccessPolicy policy;
  policy.writes = mode;
  policy.token = "s3cret-token";
  return policy;
}

const std::string kRegister = std::string("name=Mini+Resident&key=") + kKey;

}  // namespace

TEST_CASE("write modes are read by name and refused otherwise", "[access]") {
  CHECK(ParseWriteMode("open").value() == WriteMode::kOpen);
  CHECK(ParseWriteMode("SL-Only").value() == WriteMode::kSlOnly);
  CHECK(ParseWriteMode("token").value() == WriteMode::kToken);
  CHECK(ParseWriteMode("off").value() == WriteMode::kOff);
  auto bad = ParseWriteMode("sometimes");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message() == "writes must be open, sl-only, token or off, not 'sometimes'");
  CHECK(WriteModeName(WriteMode::kSlOnly) == "sl-only");
  CHECK(AccessPolicy().writes == WriteMode::kSlOnly);  // the careful default
}

TEST_CASE("secrets compare equal only when every byte and the length match", "[access]") {
  CHECK(SecretsEqual("s3cret-token", "s3cret-token"));
  CHECK_FALSE(SecretsEqual("s3cret-tokeN", "s3cret-token"));
  CHECK_FALSE(SecretsEqual("s3cret-toke", "s3cret-token"));
  CHECK_FALSE(SecretsEqual("s3cret-token-", "s3cret-token"));
  CHECK_FALSE(SecretsEqual("", "s3cret-token"));
  CHECK_FALSE(SecretsEqual(std::string("s3cret-token\0", 13), "s3cret-token"));
}

TEST_CASE("lookups pass every write mode, registrations only the ones that allow them",
          "[access]") {
  const std::string lookups[] = {"name=Mini+Resident", std::string("key=") + kKey};
  for (WriteMode mode : {WriteMode::kOpen, WriteMode::kSlOnly, WriteMode::kToken, WriteMode::kOff}) {
    for (const auto& query : lookups) {
      CHECK(Admit(Writes(mode), FromBrowser(query)).status.ok());
    }
  }
  CHECK(Admit(Writes(WriteMode::kOpen), FromBrowser(kRegister)).status.ok());

  Admission off = Admit(Writes(WriteMode::kOff), FromScript(kRegister));
  CHECK(off.status.code() == Code::kForbidden);
  CHECK(off.status.message() == "registrations are switched off on this service (writes = off)");
  // A batch is a registration too.
  Admission batch = Admit(Writes(WriteMode::kOff), FromScript(std::string("pairs=") + kKey + ",A+B"));
  CHECK(batch.status.code() == Code::kForbidden);
}

TEST_CASE("writes = token: the right token= registers, a missing or wrong one is refused",
          "[access]") {
  const AccessPolicy policy = Writes(WriteMode::kToken);
  Admission missing = Admit(policy, FromScript(kRegister));
  CHECK(missing.status.code() == Code::kForbidden);
  CHECK(missing.status.message() == "registrations need token= here (writes = token)");

  Admission wrong = Admit(policy, FromBrowser(kRegister + "&token=s3cret-tokem"));
  CHECK(wrong.status.code() == Code::kForbidden);
  CHECK(wrong.status.message() == "wrong token= for registrations");  // the token is not echoed
  CHECK(Admit(policy, FromBrowser(kRegister + "&token=")).status.code() == Code::kForbidden);

  CHECK(Admit(policy, FromBrowser(kRegister + "&token=s3cret-token")).status.ok());
  // Guessing counts against the address: past the limit a guess gets 429.
  test::TempDir dir;
  RegistrationLimiter limiter(dir.File("GOSL-RATES"));
  AccessPolicy limited = policy;
  limited.registrations_per_minute = 4;  // bursts of 1
  CHECK(Admit(limited, FromBrowser(kRegister + "&token=guess-1"), &limiter).status.code() ==
        Code::kForbidden);
  Admission second = Admit(limited, FromBrowser(kRegister + "&token=guess-2"), &limiter);
  CHECK(second.status.code() == Code::kTooManyRequests);
  CHECK(second.retry_after_s > 0);
  // In the body, where Apache's access log does not see it.
  Request post = FromBrowser("");
  post.method = "POST";
  post.body = kRegister + "&token=s3cret%2Dtoken";
  CHECK(Admit(policy, post).status.ok());
  // A policy without a secret lets nothing through, not everything.
  AccessPolicy empty = policy;
  empty.token.clear();
  CHECK(Admit(empty, FromBrowser(kRegister + "&token=")).status.code() == Code::kForbidden);
}

TEST_CASE("writes = sl-only needs Second Life's three headers", "[access]") {
  const AccessPolicy policy = Writes(WriteMode::kSlOnly);
  CHECK(Admit(policy, FromScript(kRegister)).status.ok());

  Admission browser = Admit(policy, FromBrowser(kRegister));
  CHECK(browser.status.code() == Code::kForbidden);
  CHECK(browser.status.message() ==
        "registrations are taken from Second Life scripts only: no valid X-SecondLife-Shard "
        "header (writes = sl-only)");

  Request no_object = FromScript(kRegister);
  no_object.object_key = "not-a-key";
  CHECK(Admit(policy, no_object).status.message().find("X-SecondLife-Object-Key") !=
        std::string::npos);
  Request no_owner = FromScript(kRegister);
  no_owner.owner_key.clear();
  CHECK(Admit(policy, no_owner).status.message().find("X-SecondLife-Owner-Key") !=
        std::string::npos);
}

TEST_CASE("writes = sl-only with owners listed takes those owners only", "[access]") {
  AccessPolicy policy = Writes(WriteMode::kSlOnly);
  policy.owners = {Uuid::Parse("cccccccc-2222-3333-4444-555555555555").value()};
  Admission stranger = Admit(policy, FromScript(kRegister));
  CHECK(stranger.status.code() == Code::kForbidden);
  CHECK(stranger.status.message() == std::string("owner ") + kOwner +
                                         " may not register here (not in owners)");
  policy.owners.push_back(Uuid::Parse(kOwner).value());
  Request upper = FromScript(kRegister);
  upper.owner_key = "AAAAAAAA-2222-3333-4444-555555555555";  // any letter case
  CHECK(Admit(policy, upper).status.ok());
}

TEST_CASE("writes = sl-only keeps a registration on the script's own grid", "[access]") {
  const AccessPolicy policy = Writes(WriteMode::kSlOnly);
  Admission moved = Admit(policy, FromScript(kRegister + "&grid=OSGrid"));
  CHECK(moved.status.code() == Code::kForbidden);
  CHECK(moved.status.message().find("grid=") != std::string::npos);
  CHECK(Admit(policy, FromScript(kRegister + "&grid=Production")).status.ok());
  // A Hypergrid visitor's name carries its home grid: that is not a move.
  CHECK(Admit(policy, FromScript(std::string("name=Ann.Other+%40hg.example.org%3A8002&key=") +
                                 kKey))
            .status.ok());
  // grid= on a lookup is no registration.
  CHECK(Admit(policy, FromScript("name=Mini+Resident&grid=OSGrid")).status.ok());
  // The token and open modes trust grid=.
  CHECK(Admit(Writes(WriteMode::kOpen), FromBrowser(kRegister + "&grid=OSGrid")).status.ok());
}

TEST_CASE("the rate limit allows bursts of a quarter minute, then the rate", "[access]") {
  test::TempDir dir;
  RegistrationLimiter limiter(dir.File("GOSL-RATES"));
  const int64_t t0 = 1700000000 * kSecond;
  // 8 a minute: one every 7.5 s, bursts of 2.
  CHECK(limiter.Charge({"a:10.0.0.1"}, 8, t0) == 0);
  CHECK(limiter.shared());
  CHECK(limiter.Charge({"a:10.0.0.1"}, 8, t0) == 0);
  CHECK(limiter.Charge({"a:10.0.0.1"}, 8, t0) == 8);  // 7.5 s, rounded up
  CHECK(limiter.Charge({"a:10.0.0.2"}, 8, t0) == 0);  // another client is not held up
  CHECK(limiter.Charge({"a:10.0.0.1"}, 8, t0 + 7 * kSecond) == 1);
  CHECK(limiter.Charge({"a:10.0.0.1"}, 8, t0 + 8 * kSecond) == 0);
  CHECK(limiter.Charge({"a:10.0.0.1"}, 0, t0) == 0);  // 0: no limit
}

TEST_CASE("a client over its limit is charged nothing, and the owner key counts too",
          "[access]") {
  test::TempDir dir;
  RegistrationLimiter limiter(dir.File("GOSL-RATES"));
  const int64_t t0 = 1700000000 * kSecond;
  // 4 a minute: bursts of 1.
  CHECK(limiter.Charge({"a:10.0.0.1", "o:owner"}, 4, t0) == 0);
  // The same owner from another address: held up by the owner's count.
  CHECK(limiter.Charge({"a:10.0.0.9", "o:owner"}, 4, t0) == 15);
  // ...which charged the new address nothing.
  CHECK(limiter.Charge({"a:10.0.0.9"}, 4, t0) == 0);
  CHECK(limiter.Charge({"", "o:other"}, 4, t0) == 0);  // empty ids are skipped
}

TEST_CASE("every process of a database shares one count", "[access]") {
  test::TempDir dir;
  // Two limiters on one file are two processes' views of it.
  RegistrationLimiter first(dir.File("GOSL-RATES")), second(dir.File("GOSL-RATES"));
  const int64_t t0 = 1700000000 * kSecond;
  CHECK(first.Charge({"a:10.0.0.1"}, 4, t0) == 0);
  CHECK(second.Charge({"a:10.0.0.1"}, 4, t0) == 15);
  // A clock that went back, or a stale file, does not lock a client out.
  CHECK(second.Charge({"a:10.0.0.1"}, 4, t0 - 3600 * kSecond) == 0);
}

TEST_CASE("without its directory the limiter counts for this process alone", "[access]") {
  test::TempDir dir;
  RegistrationLimiter limiter(dir.File("missing/GOSL-RATES"));
  const int64_t t0 = 1700000000 * kSecond;
  CHECK(limiter.Charge({"a:10.0.0.1"}, 4, t0) == 0);
  CHECK_FALSE(limiter.shared());
  CHECK(limiter.Charge({"a:10.0.0.1"}, 4, t0) == 15);
}

TEST_CASE("a client over its limit stays limited while thousands of others come and go",
          "[access]") {
  test::TempDir dir;
  RegistrationLimiter limiter(dir.File("GOSL-RATES"));
  const int64_t t0 = 1700000000 * kSecond;
  // 60 a minute: bursts of 15.
  int refused_at = -1;
  for (int i = 0; i < 20 && refused_at < 0; ++i) {
    if (limiter.Charge({"a:flooder"}, 60, t0) > 0) refused_at = i;
  }
  CHECK(refused_at == 15);
  // Three tables' worth of one-time clients: they push out one another
  // (the ones nearest to being within their limit), not the flooder.
  for (int i = 0; i < 3 * static_cast<int>(RegistrationLimiter::kSlots); ++i) {
    CHECK(limiter.Charge({"a:client" + std::to_string(i)}, 60, t0) == 0);
  }
  CHECK(limiter.Charge({"a:flooder"}, 60, t0) > 0);
}

TEST_CASE("a registration over the limit gets 429 with the wait", "[access]") {
  test::TempDir dir;
  RegistrationLimiter limiter(dir.File("GOSL-RATES"));
  AccessPolicy policy = Writes(WriteMode::kSlOnly);
  policy.registrations_per_minute = 4;
  CHECK(Admit(policy, FromScript(kRegister), &limiter).status.ok());
  Admission again = Admit(policy, FromScript(kRegister), &limiter);
  CHECK(again.status.code() == Code::kTooManyRequests);
  CHECK(again.retry_after_s >= 14);
  CHECK(again.retry_after_s <= 15);
  CHECK(again.status.message().find("too many registrations") == 0);
  // Lookups are never limited.
  for (int i = 0; i < 100; ++i) {
    CHECK(Admit(policy, FromScript("name=Mini+Resident"), &limiter).status.ok());
  }
  // A refused registration is not counted against anyone.
  Request other = FromBrowser(kRegister);
  other.remote_addr = "10.0.0.3";
  CHECK(Admit(policy, other, &limiter).status.code() == Code::kForbidden);
  Request script = FromScript(kRegister);
  script.remote_addr = "10.0.0.3";
  script.owner_key = "dddddddd-2222-3333-4444-555555555555";
  CHECK(Admit(policy, script, &limiter).status.ok());
}

}  // namespace gosl
