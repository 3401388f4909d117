#include "gosl/text.hpp"

#include <catch2/catch.hpp>

namespace gosl {

TEST_CASE("hex digits read in either case, anything else is -1", "[text]") {
  CHECK(HexDigitValue('0') == 0);
  CHECK(HexDigitValue('9') == 9);
  CHECK(HexDigitValue('a') == 10);
  CHECK(HexDigitValue('F') == 15);
  for (char c : {'g', 'G', ' ', '-', '+', '\0', '/', ':', '@', '`'}) CHECK(HexDigitValue(c) == -1);
}

TEST_CASE("only ASCII letters are lowered, and blanks trimmed at both ends", "[text]") {
  CHECK(AsciiLowered("Mini RESIDENT 42") == "mini resident 42");
  CHECK(AsciiLowered("J\xC3\x9Crgen") == "j\xC3\x9Crgen");  // UTF-8 bytes untouched
  CHECK(TrimBlanks(" \t a b \t ") == "a b");
  CHECK(TrimBlanks("   ").empty());
  CHECK(TrimBlanks("x") == "x");
}

TEST_CASE("a UTF-8 character's length, or 0 where none starts", "[text]") {
  CHECK(Utf8CharLength("a", 0) == 1);
  CHECK(Utf8CharLength("\xC3\xBC", 0) == 2);          // ü
  CHECK(Utf8CharLength("\xE2\x82\xAC", 0) == 3);      // €
  CHECK(Utf8CharLength("\xF0\x9F\x98\x80", 0) == 4);  // an emoji
  CHECK(Utf8CharLength("x\xC3\xBC", 1) == 2);         // from the middle
  CHECK(Utf8CharLength("\xBC", 0) == 0);               // a continuation byte first
  CHECK(Utf8CharLength("\xC0\xAF", 0) == 0);          // overlong
  CHECK(Utf8CharLength("\xED\xA0\x80", 0) == 0);      // a UTF-16 surrogate
  CHECK(Utf8CharLength("\xF4\x90\x80\x80", 0) == 0);  // above U+10FFFF
  CHECK(Utf8CharLength("\xE2\x82", 0) == 0);          // cut short
  CHECK(Utf8CharLength("\xFF", 0) == 0);
}

}  // namespace gosl

namespace gosl {

TEST_CASE("text splits into lines at each newline, a CR before it dropped, blank lines kept", "[text]") {
  using Lines = std::vector<std::string_view>;
  CHECK(SplitLines("") == Lines{""});
  CHECK(SplitLines("a") == Lines{"a"});
  CHECK(SplitLines("a\n\nb") == Lines{"a", "", "b"});
  CHECK(SplitLines("a\r\nb\r\n") == Lines{"a", "b", ""});
  CHECK(SplitLines("a\rb") == Lines{"a\rb"});  // a CR alone is no line break
}

}  // namespace gosl
