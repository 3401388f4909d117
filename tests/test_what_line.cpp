#include "gosl/what_line.hpp"

#include <catch2/catch.hpp>

namespace gosl {

TEST_CASE("W-Hat lines parse with quoting, spaces and CRLF", "[what_line]") {
  struct Row {
    std::string line, key, name;
  };
  const Row rows[] = {
      {"6a6b5a13-1f6e-4c3a-9a3e-0d4c1d2e3f40,Mini Resident", "6a6b5a13-1f6e-4c3a-9a3e-0d4c1d2e3f40",
       "Mini Resident"},
      {"6A6B5A13-1F6E-4C3A-9A3E-0D4C1D2E3F40 ,  Mini Resident \r",
       "6a6b5a13-1f6e-4c3a-9a3e-0d4c1d2e3f40", "Mini Resident"},
      {"\"6a6b5a13-1f6e-4c3a-9a3e-0d4c1d2e3f40\",\"Mini Resident\"",
       "6a6b5a13-1f6e-4c3a-9a3e-0d4c1d2e3f40", "Mini Resident"},
      {"6a6b5a13-1f6e-4c3a-9a3e-0d4c1d2e3f40,\"Odd, \"\"Name\"\"\"",
       "6a6b5a13-1f6e-4c3a-9a3e-0d4c1d2e3f40", "Odd, \"Name\""},
  };
  for (const Row& row : rows) {
    INFO(row.line);
    auto record = ParseWhatLine(row.line);
    REQUIRE(record.ok());
    CHECK(record->key.ToString() == row.key);
    CHECK(record->name.display() == row.name);
  }
}

TEST_CASE("every kind of malformed W-Hat line is refused with its reason", "[what_line]") {
  struct Row {
    std::string line, message;
  };
  const Row rows[] = {
      {"6a6b5a13-1f6e-4c3a-9a3e-0d4c1d2e3f40", "expected 2 fields (UUID,Name), found 1"},
      {"6a6b5a13-1f6e-4c3a-9a3e-0d4c1d2e3f40,Mini,Resident", "expected 2 fields (UUID,Name), found more"},
      {"not-a-uuid,Mini Resident", "invalid key \"not-a-uuid\""},
      {"00000000-0000-0000-0000-000000000000,Nobody", "the null key is not an avatar"},
      {"6a6b5a13-1f6e-4c3a-9a3e-0d4c1d2e3f40,", "name is empty"},
      {"6a6b5a13-1f6e-4c3a-9a3e-0d4c1d2e3f40," + std::string(64, 'x'),
       "name is longer than 63 bytes: '" + std::string(40, 'x') + "...'"},
      {"6a6b5a13-1f6e-4c3a-9a3e-0d4c1d2e3f40,Bad \xC3\x28", "name is not valid UTF-8"},
      {"6a6b5a13-1f6e-4c3a-9a3e-0d4c1d2e3f40,\"Unterminated", "unterminated quote"},
  };
  for (const Row& row : rows) {
    INFO(row.line);
    auto record = ParseWhatLine(row.line);
    REQUIRE_FALSE(record.ok());
    CHECK(record.status().message() == row.message);
  }
}

}  // namespace gosl
