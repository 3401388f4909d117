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
