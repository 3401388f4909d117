#include "gosl/what_line.hpp"

#include <optional>

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

TEST_CASE("a backup line adds the grid and the registration time to W-Hat's two columns",
          "[what_line]") {
  const std::string key = "6a6b5a13-1f6e-4c3a-9a3e-0d4c1d2e3f40";
  struct Row {
    std::string line;
    std::optional<std::string> grid;
    uint64_t registered_us;
  };
  const Row rows[] = {
      {key + ",Mini Resident", std::nullopt, 0},
      {key + ",Mini Resident,OSGrid", "OSGrid", 0},
      {key + ",Mini Resident,", "", 0},  // a recorder that sent no grid
      {key + ",Mini Resident,\" Odd, grid\"", " Odd, grid", 0},
      {key + ",Mini Resident,Production,2026-11-27T09:37:53.123456Z", "Production",
       1795772273123456ULL},
      {key + ",Guest.Visitor @hg.example.com:8002", std::nullopt, 0},
      {key + ",Guest.Visitor @hg.example.com:8002,hg.example.com:8002,1970-01-01T00:00:01.000000Z",
       "hg.example.com:8002", 1000000},
  };
  for (const Row& row : rows) {
    INFO(row.line);
    auto line = ParseExportLine(row.line);
    REQUIRE(line.ok());
    CHECK(line->record.key.ToString() == key);
    CHECK(line->grid == row.grid);
    CHECK(line->registered_us == row.registered_us);
  }
}

TEST_CASE("a malformed backup line is refused with its reason", "[what_line]") {
  const std::string key = "6a6b5a13-1f6e-4c3a-9a3e-0d4c1d2e3f40";
  const std::string form = "' is not like 2026-11-27T09:37:53.123456Z (UTC)";
  struct Row {
    std::string line, message;
  };
  const Row rows[] = {
      {key + ",Mini Resident,OSGrid,2026-11-27T09:37:53.123456Z,more",
       "expected 2 to 4 fields (UUID,Name[,Grid[,Registered]]), found more"},
      {key, "expected 2 to 4 fields (UUID,Name[,Grid[,Registered]]), found 1"},
      {key + ",Mini Resident,Bad\x01Grid", "the grid column contains a control character"},
      {key + ",Mini Resident," + std::string(65, 'g'),
       "the grid column is not a grid name of at most 64 UTF-8 bytes"},
      {key + ",Guest.Visitor @hg.example.com:8002,OSGrid",
       "grid 'OSGrid' is not the home grid of a Hypergrid name ('hg.example.com:8002')"},
      {key + ",Mini Resident,OSGrid,", "registration time '" + form},
      {key + ",Mini Resident,OSGrid,2026-11-27 09:37:53", "registration time '2026-11-27 09:37:53" + form},
      {key + ",Mini Resident,OSGrid,2026-02-30T09:37:53.000000Z",
       "registration time '2026-02-30T09:37:53.000000Z" + form},
      {key + ",Mini Resident,OSGrid,1970-01-01T00:00:00.000000Z",
       "registration time '1970-01-01T00:00:00.000000Z" + form},
      {key + ",Mini Resident,OSGrid,2026-11-27T09:37:5x.123456Z",
       "registration time '2026-11-27T09:37:5x.123456Z" + form},
  };
  for (const Row& row : rows) {
    INFO(row.line);
    auto line = ParseExportLine(row.line);
    REQUIRE_FALSE(line.ok());
    CHECK(line.status().message() == row.message);
  }
  // A batch registration from a script keeps W-Hat's two columns: no grid or time smuggled in.
  CHECK(ParseWhatLine(key + ",Mini Resident,OSGrid").status().message() ==
        "expected 2 fields (UUID,Name), found more");
}

TEST_CASE("the exporter writes the columns an import needs, and they read back", "[what_line]") {
  const Uuid key = Uuid::Parse("6a6b5a13-1f6e-4c3a-9a3e-0d4c1d2e3f40").value();
  const std::string k = key.ToString();
  struct Row {
    ExportEntry entry;
    std::string line;
  };
  const Row rows[] = {
      {{{key, "Mini Resident", "Production"}, false, 0}, k + ",Mini Resident"},
      {{{key, "Mini Resident", "OSGrid"}, true, 0}, k + ",Mini Resident,OSGrid"},
      {{{key, "Mini Resident", ""}, false, 0}, k + ",Mini Resident,"},
      {{{key, "Odd, \"Name\"", " spaced "}, false, 0}, k + ",\"Odd, \"\"Name\"\"\",\" spaced \""},
      {{{key, "Guest.Visitor @hg.example.com:8002", "hg.example.com:8002"}, false, 0},
       k + ",Guest.Visitor @hg.example.com:8002"},
      {{{key, "Mini Resident", "Production"}, false, 1795772273123456ULL},
       k + ",Mini Resident,Production,2026-11-27T09:37:53.123456Z"},
      // An earlier name is never the key's registration.
      {{{key, "Mini Resident", "Production"}, true, 1795772273123456ULL}, k + ",Mini Resident"},
  };
  for (const Row& row : rows) {
    INFO(row.line);
    CHECK(FormatExportLine(row.entry) == row.line);
    auto back = ParseExportLine(row.line);
    REQUIRE(back.ok());
    CHECK(back->record.name.display() == row.entry.record.name);
  }
  CHECK(FormatRegisteredTime(1) == "1970-01-01T00:00:00.000001Z");
  CHECK(ParseRegisteredTime(FormatRegisteredTime(4102444799999999ULL)).value() == 4102444799999999ULL);
}

}  // namespace gosl
