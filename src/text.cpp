#include "gosl/text.hpp"

namespace gosl {

int HexDigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string AsciiLowered(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = AsciiLower(c);
  return out;
}

std::string_view TrimBlanks(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::vector<std::string_view> SplitLines(std::string_view text) {
  std::vector<std::string_view> lines;
  for (size_t begin = 0; begin <= text.size();) {
    size_t end = text.find('\n', begin);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(begin, end - begin);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    begin = end + 1;
  }
  return lines;
}

size_t Utf8CharLength(std::string_view text, size_t at) {
  auto byte = [&text](size_t i) { return i < text.size() ? static_cast<unsigned char>(text[i]) : 0; };
  const unsigned char first = byte(at);
  if (first < 0x80) return 1;
  size_t length;
  unsigned char min_second = 0x80, max_second = 0xBF;  // RFC 3629 section 4 table
  if (first >= 0xC2 && first <= 0xDF) {
    length = 2;
  } else if (first >= 0xE0 && first <= 0xEF) {
    length = 3;
    if (first == 0xE0) min_second = 0xA0;  // overlong
    if (first == 0xED) max_second = 0x9F;  // UTF-16 surrogates
  } else if (first >= 0xF0 && first <= 0xF4) {
    length = 4;
    if (first == 0xF0) min_second = 0x90;  // overlong
    if (first == 0xF4) max_second = 0x8F;  // above U+10FFFF
  } else {
    return 0;  // a continuation byte first, or C0, C1, F5..FF
  }
  if (at + length > text.size()) return 0;
  if (byte(at + 1) < min_second || byte(at + 1) > max_second) return 0;
  for (size_t i = 2; i < length; ++i) {
    if ((byte(at + i) & 0xC0) != 0x80) return 0;
  }
  return length;
}

uint32_t UnicodeControlAt(std::string_view text, size_t at) {
  const size_t length = Utf8CharLength(text, at);
  auto byte = [&text, at](size_t i) { return static_cast<unsigned char>(text[at + i]); };
  if (length == 2 && byte(0) == 0xC2 && byte(1) <= 0x9F) return byte(1);  // U+0080..U+009F
  if (length == 3 && byte(0) == 0xE2 && byte(1) == 0x80 && (byte(2) == 0xA8 || byte(2) == 0xA9)) {
    return 0x2000u + (byte(2) & 0x3F);  // U+2028, U+2029
  }
  return 0;
}

}  // namespace gosl
