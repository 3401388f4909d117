#include "gosl/avatar_name.hpp"

#include <catch2/catch.hpp>

namespace gosl {

TEST_CASE("a name is found whatever its case and spacing", "[avatar_name]") {
  struct Row {
    const char* given;
    const char* display;
    const char* lookup;
  };
  const Row rows[] = {
      {"Mini Resident", "Mini Resident", "mini"},
      {"mini", "mini", "mini"},
      {"MINI resident", "MINI resident", "mini"},
      {"  Mini   Resident  ", "Mini Resident", "mini"},
      {"mini.resident", "mini.resident", "mini"},
      {"Legacy Linden", "Legacy Linden", "legacy linden"},
      {"legacy.linden", "legacy.linden", "legacy linden"},
      {"Resident", "Resident", "resident"},
      {"Resident Resident", "Resident Resident", "resident"},
      {"a.b.c", "a.b.c", "a.b.c"},                    // not a username: two dots
      {".hidden", ".hidden", ".hidden"},
      {"First Middle Resident", "First Middle Resident", "first middle resident"},
      {"First.Last @grid.example.com:8002", "First.Last @grid.example.com:8002", "first last"},
      {"First.Last@Grid.Example.com:8002", "First.Last @grid.example.com:8002", "first last"},
      {"J\xC3\xBCrgen Resident", "J\xC3\xBCrgen Resident", "j\xC3\xBCrgen"},
  };
  for (const Row& row : rows) {
    INFO(row.given);
    auto name = AvatarName::Parse(row.given);
    REQUIRE(name.ok());
    CHECK(name->display() == row.display);
    CHECK(name->lookup() == row.lookup);
  }
}

TEST_CASE("malformed names are refused naming the fault", "[avatar_name]") {
  struct Row {
    std::string given;
    std::string message;
  };
  const Row rows[] = {
      {"", "name is empty"},
      {"    ", "name is empty"},
      {"\xC3\x28", "name is not valid UTF-8"},
      {"Mini\tResident", "name contains a control character: 'Mini\\x09Resident'"},
      {std::string("Mini\0R", 6), "name contains a control character: 'Mini\\x00R'"},
      {std::string(64, 'a'), "name is longer than 63 bytes: '" + std::string(40, 'a') + "...'"},
      {"Mini\xE2\x80\xA8Resident", "name contains a control character: 'Mini\\u2028Resident'"},
      {"Mini\xC2\x85Resident", "name contains a control character: 'Mini\\u0085Resident'"},
  };
  for (const Row& row : rows) {
    INFO(row.given);
    auto name = AvatarName::Parse(row.given);
    REQUIRE_FALSE(name.ok());
    CHECK(name.status().code() == Code::kInvalidArgument);
    CHECK(name.status().message() == row.message);
  }
}

TEST_CASE("the length limit is 63 bytes of the display form", "[avatar_name]") {
  std::string longest = std::string(31, 'f') + " " + std::string(31, 'l');
  CHECK(AvatarName::Parse(longest).ok());
  CHECK(AvatarName::Parse("  " + longest + "  ").ok());  // trimmed before counting
  CHECK_FALSE(AvatarName::Parse(longest + "x").ok());
}

}  // namespace gosl

namespace gosl {

TEST_CASE("a Hypergrid name's host names its grid", "[avatar_name]") {
  auto name = AvatarName::Parse("  Ann.Other  @  HG.OSGrid.org:80 ");
  REQUIRE(name.ok());
  CHECK(name->display() == "Ann.Other @hg.osgrid.org:80");
  CHECK(name->lookup() == "ann other");
  CHECK(name->hypergrid_host() == "hg.osgrid.org:80");
  CHECK(AvatarName::Parse("Mini Resident").value().hypergrid_host().empty());
  CHECK(AvatarName::Parse("Ann.Other@").status().message() ==
        "hypergrid name needs one host after '@': 'Ann.Other@'");
  CHECK(AvatarName::Parse("@host:80").status().message() == "name is empty");
  CHECK(AvatarName::Parse("A@b@c").status().code() == Code::kInvalidArgument);
  CHECK(AvatarName::Parse("A@" + std::string(65, 'h')).status().message() ==
        "hypergrid host is longer than 64 bytes");
}

}  // namespace gosl
