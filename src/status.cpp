#include "gosl/status.hpp"

#include "gosl/text.hpp"

namespace gosl {

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
    if (const uint32_t control = length > 1 ? UnicodeControlAt(user_text, i) : 0) {
      // NEL and the Unicode separators end a line for some log readers.
      out += "\\u";
      for (int shift = 12; shift >= 0; shift -= 4) out += kHex[(control >> shift) & 0x0F];
      i += length;
    } else if (length == 0 || byte < 0x20 || byte == 0x7F) {
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
