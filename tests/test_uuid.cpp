#include "gosl/uuid.hpp"

#include <catch2/catch.hpp>

namespace gosl {

TEST_CASE("a UUID parses in any letter case and prints in lower case", "[uuid]") {
  for (const char* text : {"6a6b5a13-1f6e-4c3a-9a3e-0d4c1d2e3f40",
                           "6A6B5A13-1F6E-4C3A-9A3E-0D4C1D2E3F40",
                           "6a6B5a13-1F6e-4c3A-9a3E-0d4C1d2E3f40"}) {
    INFO(text);
    auto uuid = Uuid::Parse(text);
    REQUIRE(uuid.ok());
    CHECK(uuid->ToString() == "6a6b5a13-1f6e-4c3a-9a3e-0d4c1d2e3f40");
    CHECK(uuid->bytes().size() == 16);
    CHECK(Uuid::FromBytes(uuid->bytes()) == uuid.value());
  }
}

TEST_CASE("anything but the 36-character hyphenated form is refused", "[uuid]") {
  for (const char* bad : {"", "notauuid", "6a6b5a13-1f6e-4c3a-9a3e-0d4c1d2e3f4",
                          "6a6b5a13-1f6e-4c3a-9a3e-0d4c1d2e3f400", "6a6b5a131f6e4c3a9a3e0d4c1d2e3f40",
                          "6a6b5a13-1f6e-4c3a-9a3e-0d4c1d2e3g40", "6a6b5a13_1f6e-4c3a-9a3e-0d4c1d2e3f40",
                          "{6a6b5a13-1f6e-4c3a-9a3e-0d4c1d2e3f4}", " 6a6b5a13-1f6e-4c3a-9a3e-0d4c1d2e3f4",
                          "6a6b5a1-31f6e-4c3a-9a3e-0d4c1d2e3f40", "+a6b5a13-1f6e-4c3a-9a3e-0d4c1d2e3f40"}) {
    INFO(bad);
    auto uuid = Uuid::Parse(bad);
    REQUIRE_FALSE(uuid.ok());
    CHECK(uuid.status().message() == std::string("invalid key \"") + bad + "\"");
  }
}

TEST_CASE("every character of the text is checked: each position, each of the 256 bytes", "[uuid]") {
  const std::string valid = "6a6b5a13-1f6e-4c3a-9a3e-0d4c1d2e3f40";
  const std::string hex = "0123456789abcdefABCDEF";
  for (size_t at = 0; at < valid.size(); ++at) {
    const bool hyphen = at == 8 || at == 13 || at == 18 || at == 23;
    for (int byte = 0; byte < 256; ++byte) {
      std::string text = valid;
      text[at] = static_cast<char>(byte);
      const bool expected = hyphen ? byte == '-' : byte != 0 && hex.find(static_cast<char>(byte)) != std::string::npos;
      INFO("position " << at << ", byte " << byte);
      auto uuid = Uuid::Parse(text);
      REQUIRE(uuid.ok() == expected);
      if (expected && !hyphen) {
        // The digit lands in its byte's half, whatever its letter case.
        const int value = byte <= '9' ? byte - '0' : (byte | 0x20) - 'a' + 10;
        const std::string lower = uuid->ToString();
        CHECK(lower[at] == "0123456789abcdef"[value]);
      }
    }
  }
}

TEST_CASE("the nil UUID is recognised", "[uuid]") {
  CHECK(Uuid().IsNil());
  CHECK(Uuid().ToString() == kNilUuidText);
  CHECK(Uuid::Parse(kNilUuidText).value().IsNil());
  CHECK_FALSE(Uuid::Parse("00000000-0000-0000-0000-000000000001").value().IsNil());
}

TEST_CASE("user text in a key error is truncated and stripped of control characters", "[uuid]") {
  auto uuid = Uuid::Parse("bad\nkey" + std::string(100, 'x'));
  REQUIRE_FALSE(uuid.ok());
  CHECK(uuid.status().message().find('\n') == std::string::npos);
  CHECK(uuid.status().message().size() <= 70);
}

}  // namespace gosl
