#include "gosl/importer.hpp"

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "gosl/exporter.hpp"
#include "support/files.hpp"
#include "support/keys.hpp"
#include "support/temp_dir.hpp"

namespace gosl {
namespace {

namespace fs = std::filesystem;
using test::ExportKey;

// n lines "uuid,Person<i> Resident" in key-random order.
std::string MakeCsv(int n, int first = 0) {
  std::string csv;
  for (int i = first; i < first + n; ++i) csv += ExportKey(i) + ",Person" + std::to_string(i) + " Resident\n";
  return csv;
}

Result<ImportStats> Import(const std::string& file, Store& store) {
  ImportOptions options;
  options.file = file;
  options.sort_memory_mb = 2;  // several runs even for small files
  return ImportCsv(options, store);
}

std::string NameOf(Store& store, const std::string& key) {
  auto record = store.FindByKey(Uuid::Parse(key).value());
  return record.ok() ? record->name : "<" + record.status().ToString() + ">";
}

std::string KeyOf(Store& store, const std::string& name) {
  auto record = store.FindByName(AvatarName::Parse(name).value());
  return record.ok() ? record->key.ToString() : "<" + record.status().ToString() + ">";
}

}  // namespace

TEST_CASE("a plain, gzip or bzip2 export builds a new database found both ways", "[importer]") {
  for (const char* tool : {"", "gzip", "bzip2"}) {
    INFO("compressed with '" << tool << "'");
    test::TempDir dir;
    test::WriteFile(dir.File("export"), MakeCsv(5000));
    if (*tool) REQUIRE(std::system((std::string(tool) + " -q " + dir.File("export")).c_str()) == 0);
    const std::string file = *tool ? dir.File(std::string("export.") + (tool[0] == 'g' ? "gz" : "bz2"))
                                   : dir.File("export");
    Store store({dir.File("db")});
    auto stats = Import(file, store);
    REQUIRE(stats.ok());
    CHECK(stats->fresh);
    CHECK(stats->lines == 5000);
    CHECK(stats->imported == 5000);
    CHECK(stats->skipped == 0);
    CHECK(stats->database_bytes > 0);
    for (int i : {0, 1234, 4999}) {
      CHECK(NameOf(store, ExportKey(i)) == "Person" + std::to_string(i) + " Resident");
      CHECK(KeyOf(store, "person" + std::to_string(i)) == ExportKey(i));
    }
    CHECK(store.FindByName(AvatarName::Parse("mini").value()).status().IsNotFound());
    // No work directories are left behind.
    CHECK_FALSE(fs::exists(dir.File("db.import-runs")));
    CHECK_FALSE(fs::exists(dir.File("db.import-new")));
  }
}

TEST_CASE("a header, a BOM, CRLF, blank lines and bad lines are handled", "[importer]") {
  test::TempDir dir;
  test::WriteFile(dir.File("in.csv"),
                  "\xEF\xBB\xBF"
                  "uuid,name\r\n"
                  "6a6b5a13-1f6e-4c3a-9a3e-0d4c1d2e3f40,Mini Resident\r\n"
                  "\r\n"
                  "   \n"
                  "not-a-uuid,Broken Line\n"
                  "0F0E0D0C-0B0A-4909-8807-060504030201 ,  Legacy Linden \n"
                  "00000000-0000-0000-0000-000000000000,Null Key\n"
                  "c0ffee00-1234-4abc-8def-0123456789ab,\xC3\x28\n"
                  "c0ffee00-1234-4abc-8def-0123456789ac,No Newline At End");
  Store store({dir.File("db")});
  auto stats = Import(dir.File("in.csv"), store);
  REQUIRE(stats.ok());
  CHECK(stats->lines == 9);
  CHECK(stats->imported == 3);
  CHECK(stats->skipped == 3);
  CHECK(NameOf(store, "0f0e0d0c-0b0a-4909-8807-060504030201") == "Legacy Linden");
  CHECK(KeyOf(store, "No Newline At End") == "c0ffee00-1234-4abc-8def-0123456789ac");
  CHECK(store.FindByName(AvatarName::Parse("uuid").value()).status().IsNotFound());  // a header
}

TEST_CASE("a re-import updates changed entries and keeps in-world captures", "[importer]") {
  test::TempDir dir;
  test::WriteFile(dir.File("old.csv"), MakeCsv(3000));
  Store store({dir.File("db")});
  REQUIRE(Import(dir.File("old.csv"), store).ok());
  const std::string captured = "0f0e0d0c-0b0a-4909-8807-060504030201";
  REQUIRE(store.Record(AvatarName::Parse("Captured Inworld").value(), Uuid::Parse(captured).value(),
                       "Production").ok());

  // The newer export renames Person7, adds two people and lacks the capture.
  std::string newer = MakeCsv(3000) + MakeCsv(2, 3000);
  newer += ExportKey(7) + ",Renamed Seven\n";
  test::WriteFile(dir.File("new.csv"), newer);
  auto stats = Import(dir.File("new.csv"), store);
  REQUIRE(stats.ok());
  CHECK_FALSE(stats->fresh);
  CHECK(NameOf(store, ExportKey(7)) == "Renamed Seven");
  CHECK(KeyOf(store, "person7") == ExportKey(7));  // the old name still finds the key
  CHECK(NameOf(store, ExportKey(3001)) == "Person3001 Resident");
  CHECK(NameOf(store, captured) == "Captured Inworld");
}

TEST_CASE("import, export and import again give the same database", "[importer]") {
  test::TempDir dir;
  std::string csv = MakeCsv(4000);
  csv += ExportKey(11) + ",Second Name\n";           // a key renamed within the file
  csv += ExportKey(4001) + ",\"Comma, In Name\"\n";  // a name that needs quoting
  test::WriteFile(dir.File("in.csv"), csv);
  Store first({dir.File("db1")});
  REQUIRE(Import(dir.File("in.csv"), first).ok());
  for (const char* ext : {".csv", ".csv.gz", ".csv.bz2"}) {
    INFO(ext);
    auto exported = ExportCsv(dir.File(std::string("out1") + ext), first);
    REQUIRE(exported.ok());
    CHECK(exported->records == 4001);
    CHECK(exported->old_names == 1);
    Store second({dir.File(std::string("db2") + ext)});
    REQUIRE(Import(dir.File(std::string("out1") + ext), second).ok());
    REQUIRE(ExportCsv(dir.File(std::string("out2") + ext), second).ok());
    CHECK(NameOf(second, ExportKey(11)) == "Second Name");
    CHECK(KeyOf(second, "person11") == ExportKey(11));
    CHECK(NameOf(second, ExportKey(4001)) == "Comma, In Name");
  }
  CHECK(test::ReadFile(dir.File("out1.csv")) == test::ReadFile(dir.File("out2.csv")));
}

namespace {

// Every answer a lookup can give for these names and keys, one per line.
std::string Answers(Store& store, const std::vector<std::string>& names,
                    const std::vector<std::string>& keys, const std::vector<std::string>& grids) {
  std::string out;
  const auto show = [](const Result<AvatarRecord>& r) {
    return r.ok() ? r->key.ToString() + " " + r->name + " @" + r->grid : r.status().ToString();
  };
  for (const std::string& text : names) {
    const AvatarName name = AvatarName::Parse(text).value();
    for (const std::string& grid : grids) {
      out += text + " from " + grid + ": " + show(store.FindByName(name, GridChoice{grid, false})) + "\n";
      out += text + " only " + grid + ": " + show(store.FindByName(name, GridChoice{grid, true})) + "\n";
    }
    auto all = store.FindInAllGrids(name);
    out += text + " everywhere:";
    if (all.ok()) {
      for (const AvatarRecord& r : all.value()) out += " " + show(r);
    }
    out += "\n";
  }
  for (const std::string& key : keys) {
    out += key + ": " + show(store.FindByKey(Uuid::Parse(key).value())) + "\n";
  }
  return out;
}

}  // namespace

TEST_CASE("a backup keeps every grid, Hypergrid names and in-world registrations: byte for byte, "
          "answer for answer",
          "[importer]") {
  test::TempDir dir;
  // W-Hat's data, then what the site's scripts registered on several grids.
  test::WriteFile(dir.File("what.csv"), MakeCsv(50) + ExportKey(60) + ",Same Name\n");
  Store live({dir.File("live")});
  REQUIRE(Import(dir.File("what.csv"), live).ok());
  const auto record = [&](const std::string& name, int key, const std::string& grid) {
    REQUIRE(live.Record(AvatarName::Parse(name).value(), Uuid::Parse(ExportKey(key)).value(), grid).ok());
  };
  record("Same Name", 61, "OSGrid");                  // the same name on another grid
  record("Same Name", 62, "");                        // and from a recorder that sent no grid
  record("Only Elsewhere", 63, "Metropolis");         // a name no Production avatar has
  record("Guest.Visitor @HG.Example.com:8002", 64, "hg.example.com:8002");  // a Hypergrid visitor, at home
  record("Person3 Renamed", 3, "Production");         // W-Hat's key renamed in-world
  record("Person4 Moved", 4, "Testing");              // and one renamed on the beta grid
  record("Odd, \"Grid\" Name", 65, " Odd, grid ");    // quoting in every column
  const std::vector<std::string> names = {"Same Name", "Only Elsewhere", "Guest.Visitor @hg.example.com:8002",
                                          "Person3",   "Person3 Renamed", "Person4",
                                          "Person4 Moved", "Odd, \"Grid\" Name", "Nobody Here"};
  std::vector<std::string> keys;
  for (int i : {3, 4, 5, 60, 61, 62, 63, 64, 65, 66}) keys.push_back(ExportKey(i));
  const std::vector<std::string> grids = {"Production", "OSGrid", "", "Metropolis", "Testing",
                                          "hg.example.com:8002", " Odd, grid ", "Elsewhere"};
  const std::string live_answers = Answers(live, names, keys, grids);
  INFO(live_answers);
  CHECK_THAT(live_answers, Catch::Contains("Same Name only OSGrid: " + ExportKey(61)));
  CHECK_THAT(live_answers, Catch::Contains("Guest.Visitor @hg.example.com:8002 only hg.example.com:8002: " +
                                           ExportKey(64) + " Guest.Visitor @hg.example.com:8002 @hg.example.com:8002"));

  auto exported = ExportCsv(dir.File("backup.csv.gz"), live);
  REQUIRE(exported.ok());
  CHECK(exported->records == 56);     // 50 + 60 + 61..65
  CHECK(exported->old_names == 2);    // Person3 and Person4's W-Hat names
  CHECK(exported->registrations == 7);
  Store restored({dir.File("restored")});
  auto imported = Import(dir.File("backup.csv.gz"), restored);
  REQUIRE(imported.ok());
  CHECK(imported->registrations == 7);
  CHECK(Answers(restored, names, keys, grids) == live_answers);
  REQUIRE(ExportCsv(dir.File("again.csv.gz"), restored).ok());
  REQUIRE(std::system(("gzip -d " + dir.File("backup.csv.gz") + " " + dir.File("again.csv.gz")).c_str()) == 0);
  const std::string backup = test::ReadFile(dir.File("backup.csv"));
  CHECK(test::ReadFile(dir.File("again.csv")) == backup);
  // W-Hat's own lines stay W-Hat's; the others say their grid and registration.
  CHECK_THAT(backup, Catch::Contains("\n" + ExportKey(5) + ",Person5 Resident\n"));
  CHECK_THAT(backup, Catch::Contains("\n" + ExportKey(61) + ",Same Name,OSGrid,20"));
  CHECK_THAT(backup, Catch::Contains("\n" + ExportKey(62) + ",Same Name,,20"));
  CHECK_THAT(backup, Catch::Contains("\n" + ExportKey(4) + ",Person4 Resident\n"));

  // The restored registrations still win over an older W-Hat name when the
  // database is refreshed from W-Hat's file again.
  REQUIRE(Import(dir.File("what.csv"), restored).ok());
  CHECK(NameOf(restored, ExportKey(3)) == "Person3 Renamed");
  CHECK(KeyOf(restored, "Person4 Moved") == ExportKey(4));
  CHECK(NameOf(restored, ExportKey(4)) == "Person4 Moved");
  CHECK(NameOf(restored, ExportKey(61)) == "Same Name");
}

TEST_CASE("files that cannot be imported are refused and the database untouched", "[importer]") {
  test::TempDir dir;
  test::WriteFile(dir.File("good.csv"), MakeCsv(100));
  test::WriteFile(dir.File("empty.csv"), "");
  test::WriteFile(dir.File("binary.csv"), std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16));
  test::WriteFile(dir.File("name2key.zip"), std::string("PK\x03\x04\x14\0\0\0\x08\0", 10) + MakeCsv(20));
  test::WriteFile(dir.File("name2key.csv.xz"), std::string("\xFD" "7zXZ\0\0\x04", 8) + MakeCsv(20));
  test::WriteFile(dir.File("big.csv"), MakeCsv(2000));
  REQUIRE(std::system(("bzip2 -q " + dir.File("big.csv")).c_str()) == 0);
  const auto size = fs::file_size(dir.File("big.csv.bz2"));
  fs::resize_file(dir.File("big.csv.bz2"), size / 2);

  struct Row {
    std::string file;
    Code code;
    std::string message_part;
  };
  const Row rows[] = {
      {dir.File("missing.csv"), Code::kIOError, "missing.csv"},
      {dir.path(), Code::kIOError, "directory"},
      {dir.File("empty.csv"), Code::kInvalidArgument, "holds no UUID,Name records (0 lines"},
      {dir.File("binary.csv"), Code::kInvalidArgument, "holds no UUID,Name records"},
      {dir.File("big.csv.bz2"), Code::kCorruption, "truncated"},
      {dir.File("name2key.zip"), Code::kInvalidArgument,
       "name2key.zip' is a zip archive: unpack it first (--import reads .csv, .csv.gz and .csv.bz2)"},
      {dir.File("name2key.csv.xz"), Code::kInvalidArgument, "name2key.csv.xz' is an xz file: unpack it first"},
  };
  // Into no database, and into an existing one.
  Store fresh({dir.File("fresh")});
  Store existing({dir.File("existing")});
  REQUIRE(Import(dir.File("good.csv"), existing).ok());
  for (Store* store : {&fresh, &existing}) {
    for (const Row& row : rows) {
      INFO(row.file);
      auto stats = Import(row.file, *store);
      REQUIRE_FALSE(stats.ok());
      CHECK(stats.status().code() == row.code);
      CHECK_THAT(stats.status().message(), Catch::Contains(row.message_part));
    }
  }
  CHECK_FALSE(fs::exists(dir.File("fresh")));
  CHECK(NameOf(existing, ExportKey(5)) == "Person5 Resident");
  CHECK(existing.FindByKey(Uuid::Parse(ExportKey(150)).value()).status().IsNotFound());
}

TEST_CASE("a directory that holds something else is not imported into", "[importer]") {
  test::TempDir dir;
  test::WriteFile(dir.File("in.csv"), MakeCsv(10));
  fs::create_directory(dir.File("db"));
  test::WriteFile(dir.File("db/notes.txt"), "mine");
  Store store({dir.File("db")});
  auto stats = Import(dir.File("in.csv"), store);
  REQUIRE_FALSE(stats.ok());
  CHECK(stats.status().code() == Code::kInvalidArgument);
  CHECK(test::ReadFile(dir.File("db/notes.txt")) == "mine");
}

}  // namespace gosl
