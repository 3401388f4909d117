#include "gosl/response.hpp"

#include <catch2/catch.hpp>

namespace gosl {

TEST_CASE("status codes map to HTTP in one place", "[response]") {
  CHECK(HttpStatusFor(Code::kOk) == 200);
  CHECK(HttpStatusFor(Code::kInvalidArgument) == 400);
  CHECK(HttpStatusFor(Code::kMissingArgument) == 404);
  CHECK(HttpStatusFor(Code::kNotFound) == 404);
  CHECK(HttpStatusFor(Code::kTooLarge) == 413);
  CHECK(HttpStatusFor(Code::kUnavailable) == 503);
  CHECK(HttpStatusFor(Code::kIOError) == 503);
  CHECK(HttpStatusFor(Code::kCorruption) == 503);
  CHECK(HttpStatusFor(Code::kForbidden) == 403);
  CHECK(HttpStatusFor(Code::kTooManyRequests) == 429);
  CHECK(HttpStatusFor(Code::kInternal) == 500);
  CHECK(ReasonPhrase(503) == "Service Unavailable");
}

TEST_CASE("JSON strings are escaped per RFC 8259", "[response]") {
  CHECK(JsonEscaped("plain") == "plain");
  CHECK(JsonEscaped("a\"b\\c") == "a\\\"b\\\\c");
  CHECK(JsonEscaped(std::string("\n\t\x01", 3)) == "\\u000a\\u0009\\u0001");
  CHECK(JsonEscaped("J\xC3\xBCrgen") == "J\xC3\xBCrgen");
  // Valid JSON either way, but JavaScript ends a line at U+2028/U+2029.
  CHECK(JsonEscaped("a\xE2\x80\xA8" "b\xC2\x85" "c") == "a\\u2028b\\u0085c");
}

TEST_CASE("an error answer is one line whatever its reason quotes", "[response]") {
  Response response = ErrorResponse(Status::InvalidArgument("bad\r\nthing"));
  CHECK(response.status == 400);
  CHECK(response.body == "bad\\x0d\\x0athing");
  CHECK(response.content_type == "text/plain; charset=utf-8");
}

TEST_CASE("answers carry no trailing newline", "[response]") {
  Outcome outcome;
  outcome.found = true;
  outcome.name = "Mini Resident";
  outcome.key = "6a6b5a13-1f6e-4c3a-9a3e-0d4c1d2e3f40";
  outcome.grid = "Production";
  for (Action action : {Action::kFindKey, Action::kFindName, Action::kRecord, Action::kRecordBatch}) {
    outcome.action = action;
    outcome.refused = {{2, "invalid key \"x\""}};
    for (bool compat : {true, false}) {
      for (Format format : {Format::kText, Format::kJson}) {
        std::string body = Render(outcome, compat, format).body;
        CHECK(body.back() != '\n');
      }
    }
  }
}

}  // namespace gosl

namespace gosl {

TEST_CASE("a batch answer lists at most ten refused pairs, then counts the rest", "[response]") {
  Outcome outcome;
  outcome.action = Action::kRecordBatch;
  outcome.total = 50;
  outcome.recorded = 35;
  for (size_t i = 1; i <= 15; ++i) outcome.refused.emplace_back(i, "name is empty");
  std::string body = Render(outcome, true, Format::kText).body;
  CHECK(body.rfind("recorded 35 of 50\nline 1: name is empty\n", 0) == 0);
  CHECK(body.find("line 10: name is empty\n... and 5 more refused") != std::string::npos);
  CHECK(body.find("line 11:") == std::string::npos);
  CHECK(body.size() < 2048);  // what LSL delivers by default
}

}  // namespace gosl
