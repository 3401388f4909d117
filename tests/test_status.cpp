#include "gosl/status.hpp"

#include <catch2/catch.hpp>

namespace gosl {

TEST_CASE("user text is made one safe line", "[status]") {
  CHECK(Sanitized("plain") == "plain");
  CHECK(Sanitized("a\nb\tc\\") == "a\\x0ab\\x09c\\");
  CHECK(Sanitized(Sanitized("a\nb")) == Sanitized("a\nb"));
  CHECK(Sanitized(std::string(100, 'x'), 10) == std::string(10, 'x') + "...");
  // Cut at a character boundary: the 3-byte euro sign is dropped whole.
  CHECK(Sanitized("abcd\xE2\x82\xAC", 5) == "abcd...");
}

TEST_CASE("bytes that are no UTF-8 are escaped, so answers stay valid UTF-8", "[status]") {
  // Found by fuzz_request: a parameter name of raw bytes was echoed as is.
  CHECK(Sanitized("n\x9f\x92mini") == "n\\x9f\\x92mini");
  CHECK(Sanitized("J\xC3\xBCrgen \xE2\x82\xAC \xF0\x9F\x98\x80") ==
        "J\xC3\xBCrgen \xE2\x82\xAC \xF0\x9F\x98\x80");
  CHECK(Sanitized("\xC0\xAF") == "\\xc0\\xaf");            // overlong
  CHECK(Sanitized("\xED\xA0\x80") == "\\xed\\xa0\\x80");   // a surrogate
  CHECK(Sanitized("\xE2\x82") == "\\xe2\\x82");            // cut short
  CHECK(Sanitized("\xF4\x90\x80\x80") == "\\xf4\\x90\\x80\\x80");  // past U+10FFFF
}

TEST_CASE("Unicode line breaks and C1 controls are escaped, so a name forges no log line",
          "[status]") {
  // Issue 17, finding 10: readers that split on Unicode line breaks.
  CHECK(Sanitized("a\xC2\x85" "b") == "a\\u0085b");          // NEL
  CHECK(Sanitized("a\xE2\x80\xA8" "b") == "a\\u2028b");      // LINE SEPARATOR
  CHECK(Sanitized("a\xE2\x80\xA9" "b") == "a\\u2029b");      // PARAGRAPH SEPARATOR
  CHECK(Sanitized("\xC2\x9B" "31m") == "\\u009b31m");          // CSI, a terminal escape
  CHECK(Sanitized("\xC2\xA0\xE2\x80\xA7") == "\xC2\xA0\xE2\x80\xA7");  // their neighbours are text
  CHECK(Sanitized(Sanitized("a\xE2\x80\xA8")) == Sanitized("a\xE2\x80\xA8"));
}

TEST_CASE("a Result holds a value or a non-OK status", "[status]") {
  Result<int> good = 7;
  CHECK(good.ok());
  CHECK(good.value() == 7);
  Result<int> bad = Status::NotFound("nope");
  CHECK_FALSE(bad.ok());
  CHECK(bad.status().IsNotFound());
  CHECK(bad.status().ToString() == "nope");
  CHECK(Status::OK().ToString() == "ok");
}

}  // namespace gosl
