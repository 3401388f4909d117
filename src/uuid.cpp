#include "gosl/uuid.hpp"

#include <cstring>

#include "gosl/text.hpp"

namespace gosl {
namespace {

bool IsHyphenPosition(size_t i) { return i == 8 || i == 13 || i == 18 || i == 23; }

}  // namespace

// Digit by digit rather than strtoul: independent of the locale, and it
// refuses signs and spaces that strtoul would accept.
Result<Uuid> Uuid::Parse(std::string_view text) {
  auto invalid = [&text] {
    return Status::InvalidArgument("invalid key \"" + Sanitized(text, 40) + "\"");
  };
  if (text.size() != kTextLength) return invalid();
  Uuid uuid;
  size_t out = 0;
  for (size_t i = 0; i < kTextLength; ++i) {
    if (IsHyphenPosition(i)) {
      if (text[i] != '-') return invalid();
      continue;
    }
    int high = HexDigitValue(text[i]);
    int low = HexDigitValue(text[i + 1]);
    if (high < 0 || low < 0 || IsHyphenPosition(i + 1)) return invalid();
    uuid.bytes_[out++] = static_cast<uint8_t>(high << 4 | low);
    ++i;
  }
  return uuid;
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
