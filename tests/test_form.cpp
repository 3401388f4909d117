#include "gosl/form.hpp"

#include <catch2/catch.hpp>

namespace gosl {

TEST_CASE("form text decodes '+' and %XX as HTML forms do", "[form]") {
  struct Row {
    const char* encoded;
    const char* decoded;
  };
  const Row rows[] = {
      {"", ""},
      {"plain", "plain"},
      {"Mini+Resident", "Mini Resident"},
      {"Mini%20Resident", "Mini Resident"},
      {"%2B%2b", "++"},
      {"a%2Eb", "a.b"},
      {"%C3%A9t%C3%A9", "\xC3\xA9t\xC3\xA9"},
      {"100%25", "100%"},
  };
  for (const Row& row : rows) {
    INFO(row.encoded);
    auto decoded = PercentDecode(row.encoded);
    REQUIRE(decoded.ok());
    CHECK(decoded.value() == row.decoded);
  }
}

TEST_CASE("a bad %-escape is refused, never half-decoded", "[form]") {
  for (const char* bad : {"%", "%4", "%zz", "a%G1", "%%", "abc%2"}) {
    INFO(bad);
    auto decoded = PercentDecode(bad);
    CHECK_FALSE(decoded.ok());
    CHECK(decoded.status().code() == Code::kInvalidArgument);
  }
}

TEST_CASE("UTF-8 validation follows RFC 3629", "[form]") {
  struct Row {
    std::string text;
    bool valid;
  };
  const Row rows[] = {
      {"", true},
      {"ascii", true},
      {"\xC3\xA9", true},                  // é
      {"\xE2\x82\xAC", true},              // €
      {"\xF0\x9F\x98\x80", true},          // emoji
      {"\xF4\x8F\xBF\xBF", true},          // U+10FFFF
      {"\xC3", false},                     // truncated
      {"\xC3\x28", false},                 // bad continuation
      {"\xC0\xAF", false},                 // overlong '/'
      {"\xE0\x80\xAF", false},             // overlong
      {"\xED\xA0\x80", false},             // surrogate
      {"\xF4\x90\x80\x80", false},         // above U+10FFFF
      {"\xF5\x80\x80\x80", false},
      {"\x80", false},                     // continuation first
      {"\xFF", false},
      {std::string("a\0b", 3), true},      // NUL is valid UTF-8; DecodeForm refuses it
  };
  for (const Row& row : rows) {
    INFO(row.text);
    CHECK(IsValidUtf8(row.text) == row.valid);
  }
}

TEST_CASE("a form splits into ordered decoded pairs", "[form]") {
  auto pairs = DecodeForm("name=Mini+Resident&&key=&flag&amp;key=x&compat=false");
  REQUIRE(pairs.ok());
  const FormPairs expected = {
      {"name", "Mini Resident"}, {"key", ""}, {"flag", ""}, {"amp;key", "x"}, {"compat", "false"}};
  CHECK(pairs.value() == expected);
  CHECK(DecodeForm("").value().empty());
  CHECK(DecodeForm("a=1=2").value() == FormPairs{{"a", "1=2"}});
}

TEST_CASE("a form with bad encoding is refused naming the parameter", "[form]") {
  struct Row {
    const char* encoded;
    const char* message;
  };
  const Row rows[] = {
      {"name=%zz", "parameter 'name': bad %-escape at '%zz'"},
      {"name=%C3%28", "parameter 'name' is not valid UTF-8"},
      {"name=a%00b", "parameter 'name' contains a NUL byte"},
      {"na%ZZme=x", "parameter name 'na%ZZme': bad %-escape at '%ZZ'"},
      // The byte is shown escaped: an answer is valid UTF-8 whatever it quotes.
      {"%FF=x", "parameter name '\\xff' is not valid UTF-8 text"},
  };
  for (const Row& row : rows) {
    INFO(row.encoded);
    auto pairs = DecodeForm(row.encoded);
    REQUIRE_FALSE(pairs.ok());
    CHECK(pairs.status().code() == Code::kInvalidArgument);
    CHECK(pairs.status().message() == row.message);
  }
}

TEST_CASE("a malformed token= is refused without quoting any of it", "[form]") {
  auto pairs = DecodeForm("name=a&token=s3cret%zzmore");
  REQUIRE_FALSE(pairs.ok());
  CHECK(pairs.status().message() == "parameter 'token': bad %-escape");
}

}  // namespace gosl
