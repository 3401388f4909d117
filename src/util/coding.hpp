// Byte coding shared by every hand-written codec (the peer wire, the store's
// entries, LevelDB's internal-key trailer): fixed-width little-endian
// integers and length-prefixed text, and a reader that refuses short input
// instead of reading past it (leveldb util/coding.h). Pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace gosl::coding {

inline void PutFixed16(std::string& out, uint16_t value) {
  out += static_cast<char>(value & 0xFF);
  out += static_cast<char>(value >> 8);
}

inline void PutFixed32(std::string& out, uint32_t value) {
  for (int i = 0; i < 4; ++i) out += static_cast<char>((value >> (8 * i)) & 0xFF);
}

inline void PutFixed64(std::string& out, uint64_t value) {
  for (int i = 0; i < 8; ++i) out += static_cast<char>((value >> (8 * i)) & 0xFF);
}

inline uint64_t DecodeFixed(const char* bytes, int width) {
  uint64_t value = 0;
  for (int i = width - 1; i >= 0; --i) value = value << 8 | static_cast<uint8_t>(bytes[i]);
  return value;
}

// LevelDB's varint: 7 bits at a time, low first, the high bit set on every
// byte but the last.
inline void PutVarint64(std::string& out, uint64_t value) {
  for (; value >= 0x80; value >>= 7) out += static_cast<char>((value & 0x7F) | 0x80);
  out += static_cast<char>(value);
}

// LevelDB's length-prefixed slice: a varint length, then the bytes.
inline void PutLengthPrefixed(std::string& out, std::string_view bytes) {
  PutVarint64(out, bytes.size());
  out.append(bytes);
}

// CRC-32C (Castagnoli), as LevelDB checksums its logs and tables; crc is
// the CRC of the bytes before (0 to start).
inline uint32_t ExtendCrc32c(uint32_t crc, std::string_view bytes) {
  crc = ~crc;
  for (const char c : bytes) {
    crc ^= static_cast<uint8_t>(c);
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1)));
  }
  return ~crc;
}

// Text of at most 0xFFFF bytes after its 16-bit length; longer text is cut.
inline void PutText16(std::string& out, std::string_view text) {
  text = text.substr(0, 0xFFFF);
  PutFixed16(out, static_cast<uint16_t>(text.size()));
  out.append(text);
}

// Reads from the front of a byte string. Every Get returns false when the
// input is too short, and then reads nothing.
class Reader {
 public:
  explicit Reader(std::string_view input) : input_(input) {}

  bool GetBytes(size_t n, std::string_view& out) {
    if (input_.size() < n) return false;
    out = input_.substr(0, n);
    input_.remove_prefix(n);
    return true;
  }
  bool GetByte(uint8_t& out) {
    std::string_view byte;
    if (!GetBytes(1, byte)) return false;
    out = static_cast<uint8_t>(byte[0]);
    return true;
  }
  bool GetFixed16(uint16_t& out) { return GetFixed(2, out); }
  bool GetFixed32(uint32_t& out) { return GetFixed(4, out); }
  bool GetFixed64(uint64_t& out) { return GetFixed(8, out); }
  bool GetText16(std::string& out) {
    Reader before = *this;
    uint16_t length = 0;
    std::string_view text;
    if (!GetFixed16(length) || !GetBytes(length, text)) {
      *this = before;
      return false;
    }
    out.assign(text);
    return true;
  }

  std::string_view rest() const { return input_; }
  bool empty() const { return input_.empty(); }

 private:
  template <typename T>
  bool GetFixed(int width, T& out) {
    std::string_view bytes;
    if (!GetBytes(static_cast<size_t>(width), bytes)) return false;
    out = static_cast<T>(DecodeFixed(bytes.data(), width));
    return true;
  }

  std::string_view input_;
};

}  // namespace gosl::coding
