#include "gosl/uuid.hpp"

#include <cstring>


namespace gosl {
namespace {

// Where each byte's two hex digits start in the 36-character text: groups of
// 8, 4, 4, 4 and 12 digits, a hyphen between groups.
constexpr size_t kDigitPairs[Uuid::kByteLength] = {0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34};

// A hex digit's value, or 0xFF: one load per character (an import parses
// ten million keys, and a call per digit was a tenth of its time).
struct HexTable {
  uint8_t value[256];
  constexpr HexTable() : value() {
    for (int c = 0; c < 256; ++c) value[c] = 0xFF;
    for (int c = '0'; c <= '9'; ++c) value[c] = static_cast<uint8_t>(c - '0');
    for (int c = 'a'; c <= 'f'; ++c) value[c] = static_cast<uint8_t>(c - 'a' + 10);
    for (int c = 'A'; c <= 'F'; ++c) value[c] = static_cast<uint8_t>(c - 'A' + 10);
  }
};
constexpr HexTable kHexDigits;

}  // namespace

// Digit by digit rather than strtoul: independent of the locale, and it
// refuses signs and spaces that strtoul would accept.
Result<Uuid> Uuid::Parse(std::string_view text) {
  if (text.size() == kTextLength && text[8] == '-' && text[13] == '-' && text[18] == '-' && text[23] == '-') {
    Uuid uuid;
    uint8_t bad = 0;
    for (size_t i = 0; i < kByteLength; ++i) {
      const uint8_t high = kHexDigits.value[static_cast<uint8_t>(text[kDigitPairs[i]])];
      const uint8_t low = kHexDigits.value[static_cast<uint8_t>(text[kDigitPairs[i] + 1])];
      bad |= high | low;  // 0xFF has bits a digit never has
      uuid.bytes_[i] = static_cast<uint8_t>(high << 4 | (low & 0x0F));
    }
    if ((bad & 0xF0) == 0) return uuid;
  }
  return Status::InvalidArgument("invalid key \"" + Sanitized(text, 40) + "\"");
}

Uuid Uuid::FromBytes(std::string_view bytes) {
  Uuid uuid;
  std::memcpy(uuid.bytes_.data(), bytes.data(), kByteLength);
  return uuid;
}

std::string Uuid::ToString() const {
  static const char kHex[] = "0123456789abcdef";
  std::string text;
  text.reserve(kTextLength);
  for (size_t i = 0; i < kByteLength; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) text += '-';
    text += kHex[bytes_[i] >> 4];
    text += kHex[bytes_[i] & 0x0F];
  }
  return text;
}

bool Uuid::IsNil() const {
  for (uint8_t b : bytes_) {
    if (b != 0) return false;
  }
  return true;
}

}  // namespace gosl
