#include "store/record_format.hpp"

#include <catch2/catch.hpp>

namespace gosl::record_format {
namespace {

const Uuid kKey = Uuid::Parse("6a6b5a13-1f6e-4c3a-9a3e-0d4c1d2e3f40").value();

std::string Bytes(std::initializer_list<int> bytes) {
  std::string out;
  for (int b : bytes) out += static_cast<char>(b);
  return out;
}

}  // namespace

TEST_CASE("a record's entries have the bytes docs/storage.md shows", "[record_format]") {
  struct Row {
    const char* name;
    const char* grid;
    std::string key_value;    // of 'k' + key
    std::string name_key;     // the name entry's key
    std::string name_suffix;  // the name entry's value after the 16 key bytes
    std::string latest;       // the 'l' entry's value; empty: none
  };
  const Row rows[] = {
      // W-Hat's typical record: NameInfo implied, not stored.
      {"Mini Resident", "Production", "mini", "nmini", "", ""},
      {"McDonald Smith", "OSGrid", Bytes({0x18, 6}) + "OSGrid" + "McDonald Smith",
       std::string("nmcdonald smith\0OSGrid", 22), Bytes({0x18, 6}) + "OSGrid" + "McDonald Smith",
       "OSGrid"},
      {"Legacy Linden", "Production", Bytes({0x09}) + "legacy linden", "nlegacy linden",
       Bytes({0x09}), ""},
      {"legacy linden", "Production", Bytes({0x0a}) + "legacy linden", "nlegacy linden",
       Bytes({0x0a}), ""},
      {"Mini Resident", "Testing", Bytes({0x15}) + "mini", std::string("nmini\0Testing", 13),
       Bytes({0x15}), "Testing"},
      {"mini", "", Bytes({0x02}) + "mini", std::string("nmini\0", 6), Bytes({0x02}), ""},
      {"first.last", "Production", Bytes({0x08}) + "first.last", "nfirst last",
       Bytes({0x08}) + "first.last", ""},
  };
  for (const Row& row : rows) {
    INFO(row.name << " on '" << row.grid << "'");
    RecordEntries entries;
    EncodeRecord(AvatarName::Parse(row.name).value(), kKey, row.grid, entries);
    CHECK(entries.key_entry_key == "k" + std::string(kKey.bytes()));
    CHECK(entries.key_entry_value == row.key_value);
    CHECK(entries.name_entry_key == row.name_key);
    CHECK(entries.name_entry_value == std::string(kKey.bytes()) + row.name_suffix);
    CHECK(entries.latest_entry_value == row.latest);
    CHECK(entries.latest_entry_key.empty() == (std::string(row.grid) == "Production"));
  }
}

TEST_CASE("every display form and grid decodes back from both entries", "[record_format]") {
  const char* names[] = {"Mini Resident", "mini",          "Legacy Linden", "legacy linden",
                         "MINI RESIDENT", "McDonald Smith", "first.last",   "J\xC3\xBCrgen Resident",
                         "x",             "Resident",      "Ab Cd Ef",      "Name @hg.example.com:8002"};
  const char* grids[] = {"", "Production", "Testing", "OSGrid", "hg.example.com:8002"};
  for (const char* text : names) {
    for (const char* grid : grids) {
      INFO(text << " on '" << grid << "'");
      const AvatarName name = AvatarName::Parse(text).value();
      RecordEntries entries;
      EncodeRecord(name, kKey, grid, entries);
      auto by_name = DecodeNameEntry(LookupOfNameKey(entries.name_entry_key.substr(1)),
                                     entries.name_entry_value);
      REQUIRE(by_name.ok());
      CHECK(by_name->key == kKey);
      CHECK(by_name->name == name.display());
      CHECK(by_name->grid == grid);
      auto by_key = DecodeKeyEntry(kKey, entries.key_entry_value);
      REQUIRE(by_key.ok());
      CHECK(by_key->name == name.display());
      CHECK(by_key->grid == grid);
    }
  }
}

TEST_CASE("malformed entries are refused as damaged, never misread", "[record_format]") {
  struct Row {
    const char* what;
    std::string name_value;  // after nothing: the whole value of a name entry
    std::string key_value;
  };
  const std::string key(kKey.bytes());
  const Row rows[] = {
      {"empty", "", ""},
      {"shorter than a key", key.substr(0, 15), Bytes({0x1f})},
      {"display kind 3", key + Bytes({0x03}), Bytes({0x03}) + "x"},
      {"an inline grid without its length", key + Bytes({0x18}), Bytes({0x18})},
      {"an inline grid longer than the value", key + Bytes({0x18, 9}) + "OSGrid",
       Bytes({0x18, 9}) + "OSGrid"},
  };
  for (const Row& row : rows) {
    INFO(row.what);
    auto by_name = DecodeNameEntry("mini", row.name_value);
    REQUIRE_FALSE(by_name.ok());
    CHECK(by_name.status().code() == Code::kCorruption);
    auto by_key = DecodeKeyEntry(kKey, row.key_value);
    REQUIRE_FALSE(by_key.ok());
    CHECK(by_key.status().code() == Code::kCorruption);
  }
}

TEST_CASE("NameInfo keeps reserved bits out of the display and grid", "[record_format]") {
  struct Row {
    std::string bytes;
    bool ok;
    uint8_t display_flags;
    std::string grid;
    std::string rest;
  };
  const Row rows[] = {
      {Bytes({0x0d}) + "tail", true, 0x05, "Production", "tail"},
      {Bytes({0x10}), true, 0x00, "Testing", ""},
      {Bytes({0x18, 0}), true, 0x00, "", ""},
      {Bytes({0x18, 2}) + "ab" + "c", true, 0x00, "ab", "c"},
      {Bytes({0xe1}), true, 0x01, "", ""},  // bits 5-7 are reserved: ignored
      {Bytes({0x07}), false, 0, "", ""},
      {"", false, 0, "", ""},
  };
  for (const Row& row : rows) {
    INFO(row.bytes.size() << " bytes, first " << (row.bytes.empty() ? -1 : row.bytes[0] & 0xff));
    std::string_view value = row.bytes;
    NameInfo info;
    REQUIRE(ParseNameInfo(value, info) == row.ok);
    if (!row.ok) continue;
    CHECK(info.display_flags == row.display_flags);
    CHECK(info.grid == row.grid);
    CHECK(value == row.rest);
  }
}

TEST_CASE("the keys of a name's grids sort together, after its main-grid entry", "[record_format]") {
  const std::string main = NameKey("mini", kMainGrid);
  const std::string os = NameKey("mini", "OSGrid");
  const std::string other_name = NameKey("mini2", kMainGrid);
  CHECK(main < os);
  CHECK(os < other_name);
  CHECK(os.rfind(OtherGridsPrefix("mini"), 0) == 0);
  CHECK(main.rfind(OtherGridsPrefix("mini"), 0) != 0);
  CHECK(LookupOfNameKey(os.substr(1)) == "mini");
  CHECK(LatestKey("mini") == "lmini");
  CHECK(KeyKey(kKey) == "k" + std::string(kKey.bytes()));
}

}  // namespace gosl::record_format
