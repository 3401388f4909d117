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

}  // namespace gosl
