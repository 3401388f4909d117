#include "gosl/status.hpp"

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
  for (char c : user_text) {
    auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7F) {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0x0F];
    } else {
      out += c;
    }
  }
  if (cut) out += "...";
  return out;
}

}  // namespace gosl
