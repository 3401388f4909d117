// Small ASCII text helpers shared by the parsers. Locale-independent on
// purpose: a static binary cannot rely on the host's locales, and Second
// Life names, UUIDs and parameter names are ASCII.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace gosl {

// 0-15 for a hex digit in either case, -1 for anything else.
int HexDigitValue(char c);

// ASCII letters lowered; every other byte (UTF-8 included) unchanged.
char AsciiLower(char c);
std::string AsciiLowered(std::string_view text);

// text without leading and trailing spaces and tabs.
std::string_view TrimBlanks(std::string_view text);

// The lines of text, cut at each '\n' (a line's trailing '\r' dropped):
// "a\n\nb" -> {"a", "", "b"}, "" -> {""}. Views into text.
std::vector<std::string_view> SplitLines(std::string_view text);

// The length (1-4) of the well-formed UTF-8 character at text[at], or 0 for
// a byte that starts none: RFC 3629's table (no overlong forms, no UTF-16
// surrogates, nothing above U+10FFFF, nothing cut short). Requires: at < size.
size_t Utf8CharLength(std::string_view text, size_t at);

// The code point at text[at] when it is a Unicode control character that
// some readers of a log or an answer take as a line break or worse: C1
// controls (U+0080-U+009F, NEL U+0085 among them) and the line and paragraph
// separators U+2028, U+2029. 0 for anything else. Requires: at < size.
uint32_t UnicodeControlAt(std::string_view text, size_t at);

}  // namespace gosl
