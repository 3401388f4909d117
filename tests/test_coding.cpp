#include "util/coding.hpp"

#include <catch2/catch.hpp>

namespace gosl::coding {

TEST_CASE("fixed-width integers are written little-endian and read back", "[coding]") {
  std::string out;
  PutFixed16(out, 0x0102);
  PutFixed32(out, 0x03040506);
  PutFixed64(out, 0x0708090a0b0c0d0eULL);
  CHECK(out == std::string("\x02\x01\x06\x05\x04\x03\x0e\x0d\x0c\x0b\x0a\x09\x08\x07", 14));
  Reader in(out);
  uint16_t a = 0;
  uint32_t b = 0;
  uint64_t c = 0;
  REQUIRE(in.GetFixed16(a));
  REQUIRE(in.GetFixed32(b));
  REQUIRE(in.GetFixed64(c));
  CHECK(a == 0x0102);
  CHECK(b == 0x03040506);
  CHECK(c == 0x0708090a0b0c0d0eULL);
  CHECK(in.empty());
}

TEST_CASE("the extremes of every width survive the round trip", "[coding]") {
  for (uint64_t value : {uint64_t{0}, uint64_t{1}, uint64_t{0xFF}, uint64_t{0x100},
                         uint64_t{0xFFFFFFFF}, ~uint64_t{0}}) {
    std::string out;
    PutFixed64(out, value);
    CHECK(DecodeFixed(out.data(), 8) == value);
  }
  std::string out;
  PutFixed16(out, 0xFFFF);
  PutFixed32(out, 0xFFFFFFFF);
  Reader in(out);
  uint16_t a = 0;
  uint32_t b = 0;
  CHECK((in.GetFixed16(a) && a == 0xFFFF));
  CHECK((in.GetFixed32(b) && b == 0xFFFFFFFF));
}

TEST_CASE("text carries its 16-bit length and is cut at 65535 bytes", "[coding]") {
  struct Row {
    std::string text;
    size_t kept;
  };
  const Row rows[] = {{"", 0}, {"a", 1}, {std::string("\0x\0", 3), 3}, {std::string(65535, 'x'), 65535},
                      {std::string(70000, 'y'), 65535}};
  for (const Row& row : rows) {
    INFO(row.text.size());
    std::string out;
    PutText16(out, row.text);
    CHECK(out.size() == 2 + row.kept);
    Reader in(out);
    std::string back;
    REQUIRE(in.GetText16(back));
    CHECK(back == row.text.substr(0, row.kept));
    CHECK(in.empty());
  }
}

TEST_CASE("a short input is refused and nothing of it is consumed", "[coding]") {
  struct Row {
    const char* what;
    std::string bytes;
  };
  const Row rows[] = {
      {"empty", ""},
      {"one byte of a length", std::string("\x05", 1)},
      {"a length longer than the rest", std::string("\x05\x00" "abc", 5)},
      {"a length of 65535 and two bytes", std::string("\xff\xff" "ab", 4)},
  };
  for (const Row& row : rows) {
    INFO(row.what);
    Reader in(row.bytes);
    std::string text = "unchanged";
    CHECK_FALSE(in.GetText16(text));
    CHECK(text == "unchanged");
    CHECK(in.rest() == row.bytes);
  }
  Reader three("abc");
  uint32_t value = 7;
  std::string_view bytes;
  CHECK_FALSE(three.GetFixed32(value));
  CHECK_FALSE(three.GetBytes(4, bytes));
  CHECK(three.rest() == "abc");
  uint8_t byte = 0;
  CHECK((three.GetByte(byte) && byte == 'a'));
  CHECK(three.rest() == "bc");
}

TEST_CASE("varints and length-prefixed bytes are written as LevelDB writes them", "[coding]") {
  const struct {
    uint64_t value;
    std::string bytes;
  } kCases[] = {
      {0, std::string(1, '\0')}, {1, "\x01"}, {127, "\x7f"}, {128, "\x80\x01"},
      {300, "\xac\x02"}, {~uint64_t{0}, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"},
  };
  for (const auto& c : kCases) {
    INFO(c.value);
    std::string out;
    PutVarint64(out, c.value);
    CHECK(out == c.bytes);
  }
  std::string out;
  PutLengthPrefixed(out, "abc");
  CHECK(out == "\x03" "abc");
}

TEST_CASE("CRC-32C matches the published check values", "[coding]") {
  CHECK(ExtendCrc32c(0, "") == 0);
  CHECK(ExtendCrc32c(0, "123456789") == 0xE3069283u);  // the CRC catalogue's check value
  CHECK(ExtendCrc32c(0, std::string(32, '\0')) == 0x8A9136AAu);  // RFC 3720 B.4
  CHECK(ExtendCrc32c(0, std::string(32, '\xff')) == 0x62A8AB43u);
  // Extending is the CRC of the bytes joined.
  CHECK(ExtendCrc32c(ExtendCrc32c(0, "1234"), "56789") == 0xE3069283u);
}

}  // namespace gosl::coding
