#include "gosl/status.hpp"

namespace gosl {

namespace {

// The length of the well-formed UTF-8 character at text[i] (RFC 3629), or 0.
size_t Utf8CharLength(std::string_view text, size_t i) {
  auto at = [&text](size_t k) { return k < text.size() ? static_cast<unsigned char>(text[k]) : 0; };
  auto cont = [&at](size_t k) { return (at(k) & 0xC0) == 0x80; };
  const unsigned char b = at(i);
  if (b < 0x80) return 1;
  if (b >= 0xC2 && b <= 0xDF) return cont(i + 1) ? 2 : 0;
  if (b >= 0xE0 && b <= 0xEF) {
    const unsigned char lo = b == 0xE0 ? 0xA0 : 0x80, hi = b == 0xED ? 0x9F : 0xBF;
    return at(i + 1) >= lo && at(i + 1) <= hi && cont(i + 2) ? 3 : 0;
  }
  if (b >= 0xF0 && b <= 0xF4) {
    const unsigned char lo = b == 0xF0 ? 0x90 : 0x80, hi = b == 0xF4 ? 0x8F : 0xBF;
    return at(i + 1) >= lo && at(i + 1) <= hi && cont(i + 2) && cont(i + 3) ? 4 : 0;
  }
  return 0;
}

}  // namespace

std::string Sanitized(std::string_view user_text, size_t max_bytes) {
  static const char kHex[] = "0123456789abcdef";
  bool cut = user_text.size() > max_bytes;
  if (cut) {
    size_t end = max_bytes;
    // Step back over UTF-8 continuation bytes so no character is split.
    while (end > 0 && (static_cast<unsigned char>(user_text[end]) & 0xC0) == 0x80) --end;
    user_text = user_text.substr(0, end);
  }
  std::string out;
  out.reserve(user_text.size() + 3);
  for (size_t i = 0; i < user_text.size();) {
    auto byte = static_cast<unsigned char>(user_text[i]);
    const size_t length = Utf8CharLength(user_text, i);
    if (length == 0 || byte < 0x20 || byte == 0x7F) {
      // Control characters and bytes that are no UTF-8: an answer and a log
      // line stay one line of valid UTF-8 (JSON needs it, LSL shows it).
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0x0F];
      ++i;
    } else {
      out.append(user_text.substr(i, length));
      i += length;
    }
  }
  if (cut) out += "...";
  return out;
}

}  // namespace gosl
