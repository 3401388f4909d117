// Uuid: an avatar key. Parsed once at the edge from any letter case, held as
// 16 bytes, printed in lower case. Knows nothing of avatars or storage.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "gosl/status.hpp"

namespace gosl {

class Uuid {
 public:
  static constexpr size_t kTextLength = 36;  // 8-4-4-4-12 hex digits
  static constexpr size_t kByteLength = 16;

  Uuid() = default;  // the nil UUID

  // Parses the 36-character hyphenated form, hex digits in any case.
  // Returns kInvalidArgument with the Go program's message
  // (invalid key "TEXT") for anything else.
  static Result<Uuid> Parse(std::string_view text);
  // Requires: bytes.size() == kByteLength.
  static Uuid FromBytes(std::string_view bytes);

  std::string ToString() const;  // lower case, 36 characters
  std::string_view bytes() const {
    return {reinterpret_cast<const char*>(bytes_.data()), bytes_.size()};
  }
  bool IsNil() const;

  friend bool operator==(const Uuid& a, const Uuid& b) { return a.bytes_ == b.bytes_; }
  friend bool operator!=(const Uuid& a, const Uuid& b) { return !(a == b); }
  friend bool operator<(const Uuid& a, const Uuid& b) { return a.bytes_ < b.bytes_; }

 private:
  std::array<uint8_t, kByteLength> bytes_{};
};

// "00000000-0000-0000-0000-000000000000": what LSL calls NULL_KEY and what
// old W-Hat clients expect for an unknown name.
inline constexpr std::string_view kNilUuidText = "00000000-0000-0000-0000-000000000000";

}  // namespace gosl
