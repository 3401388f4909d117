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
  CHECK(HttpStatusFor(Code::kIOError) == 500);
  CHECK(HttpStatusFor(Code::kCorruption) == 500);
  CHECK(ReasonPhrase(503) == "Service Unavailable");
}

TEST_CASE("JSON strings are escaped per RFC 8259", "[response]") {
  CHECK(JsonEscaped("plain") == "plain");
  CHECK(JsonEscaped("a\"b\\c") == "a\\\"b\\\\c");
  CHECK(JsonEscaped(std::string("\n\t\x01", 3)) == "\\u000a\\u0009\\u0001");
  CHECK(JsonEscaped("J\xC3\xBCrgen") == "J\xC3\xBCrgen");
}

TEST_CASE("an error answer is one line whatever its reason quotes", "[response]") {
  Response response = ErrorResponse(Status::InvalidArgument("bad\r\nthing"));
  CHECK(response.status == 400);
  CHECK(response.body == "bad\\x0d\\x0athing");
  CHECK(response.content_type == "text/plain; charset=utf-8");
}

TEST_CASE("answers carry no trailing newline", "[response]") {
  Outcome outcome{Action::kFindKey, true, "Mini Resident", "6a6b5a13-1f6e-4c3a-9a3e-0d4c1d2e3f40",
                  "Production"};
  for (bool compat : {true, false}) {
    for (Format format : {Format::kText, Format::kJson}) {
      std::string body = Render(outcome, compat, format).body;
      CHECK(body.back() != '\n');
    }
  }
}

}  // namespace gosl
