// The counts --status and status=1 answer (Store::Facts, entry_counts.hpp):
// kept exact by every write and import, counted again when another version
// wrote, never a scan on request; and how they are shown.
#include "gosl/service_status.hpp"

#include <fstream>
#include <chrono>
#include <map>
#include <thread>

#include <leveldb/db.h>
#include <leveldb/write_batch.h>

#include <catch2/catch.hpp>

#include "gosl/importer.hpp"
#include "gosl/logging.hpp"
#include "gosl/store.hpp"
#include "support/counted_facts.hpp"
#include "support/files.hpp"
#include "support/temp_dir.hpp"

namespace gosl {
namespace {

AvatarName Name(const std::string& text) { return AvatarName::Parse(text).value(); }

Uuid KeyNumber(int n) {
  char text[37];
  std::snprintf(text, sizeof text, "00000000-0000-4000-8000-%012d", n);
  return Uuid::Parse(text).value();
}

// What a full scan says: the truth the kept counts must equal.
std::map<std::string, uint64_t> ScannedNamesPerGrid(Store& store) {
  std::map<std::string, uint64_t> grids;
  REQUIRE(store.ForEachName([&grids](const AvatarRecord& r) {
                 ++grids[r.grid];
                 return Status::OK();
               }).ok());
  return grids;
}

// What a version that journals without counting leaves: "Old Version"
// registered under key, a name entry and a journal entry, no count.
void RegisterAsOlderVersion(const std::string& db, const Uuid& key) {
  leveldb::DB* raw = nullptr;
  REQUIRE(leveldb::DB::Open(leveldb::Options(), db, &raw).ok());
  std::unique_ptr<leveldb::DB> owned(raw);
  leveldb::WriteBatch old_write;
  old_write.Put(std::string("nold version"), std::string(key.bytes()));
  old_write.Put(std::string("r") + std::string(8, 0x7f) + std::string(key.bytes()), std::string(1, '\x01') + "x");
  REQUIRE(owned->Write(leveldb::WriteOptions(), &old_write).ok());
}

}  // namespace

TEST_CASE("every registration keeps the names per grid and the registrations exact", "[status]") {
  test::TempDir dir;
  Store store({dir.File("db")});
  REQUIRE(store.Record(Name("Mini Resident"), KeyNumber(1), "Production").ok());
  REQUIRE(store.Record(Name("Legacy Linden"), KeyNumber(2), "Production").ok());
  REQUIRE(store.Record(Name("McDonald Smith"), KeyNumber(3), "OSGrid").ok());
  REQUIRE(store.Record(Name("No Shard"), KeyNumber(4), "").ok());
  // Recorded again, with the same key or another one: still one name entry.
  REQUIRE(store.Record(Name("Mini Resident"), KeyNumber(1), "Production").ok());
  REQUIRE(store.Record(Name("mini"), KeyNumber(5), "Production").ok());
  // The same name on another grid is another entry.
  REQUIRE(store.Record(Name("Mini Resident"), KeyNumber(1), "OSGrid").ok());
  // A batch counts each new name once, even when it holds one twice.
  Store::Batch batch;
  batch.Add(Name("Batch One"), KeyNumber(6), "Production");
  batch.Add(Name("Batch One"), KeyNumber(7), "Production");
  batch.Add(Name("Batch Two"), KeyNumber(8), "Testing");
  REQUIRE(store.Commit(batch, true).ok());

  const DatabaseFacts facts = test::CountedFacts(store);
  const std::map<std::string, uint64_t> expected = {
      {"Production", 3}, {"OSGrid", 2}, {"", 1}, {"Testing", 1}};
  CHECK(facts.names_per_grid == expected);
  CHECK(facts.names_per_grid == ScannedNamesPerGrid(store));
  CHECK(facts.names == 7);
  // Seven registrations (the batch is not one: it is how imports write).
  CHECK(facts.registrations == 7);
  CHECK(facts.registrations_hour == 7);
  CHECK(facts.registrations_day == 7);
  CHECK(facts.registrations_30_days == 7);
  CHECK(facts.layout == "2");
  CHECK_FALSE(facts.last_import.has_value());
}

TEST_CASE("the counts survive a reopen and are read, not counted again", "[status]") {
  test::TempDir dir;
  {
    Store store({dir.File("db")});
    for (int i = 0; i < 50; ++i) {
      REQUIRE(store.Record(Name("Person" + std::to_string(i) + " Resident"), KeyNumber(i), i % 3 ? "Production" : "OSGrid").ok());
    }
  }
  Store store({dir.File("db")});
  auto facts = store.Facts();
  REQUIRE(facts.ok());
  CHECK(facts->counted);  // at once: read from the entries kept
  CHECK(facts->names == 50);
  CHECK(facts->registrations == 50);
  CHECK(facts->names_per_grid == ScannedNamesPerGrid(store));
}

TEST_CASE("a database another version wrote into is counted again, with the writes made meanwhile",
          "[status]") {
  test::TempDir dir;
  const std::string db = dir.File("db");
  {
    Store store({db});
    Store::Batch batch;
    for (int i = 0; i < 100000; ++i) {
      batch.Add(Name("Many" + std::to_string(i) + " Resident"), KeyNumber(i), i % 10 ? "Production" : "OSGrid");
    }
    REQUIRE(store.Commit(batch, false).ok());
  }
  RegisterAsOlderVersion(db, KeyNumber(900000));
  Store store({db});
  // Registrations while it is being counted are neither lost nor counted twice.
  for (int i = 0; i < 20; ++i) {
    REQUIRE(store.Record(Name("During" + std::to_string(i) + " Resident"), KeyNumber(200000 + i), "Production").ok());
  }
  const DatabaseFacts facts = test::CountedFacts(store);
  CHECK(facts.names_per_grid == ScannedNamesPerGrid(store));
  CHECK(facts.names == 100000 + 1 + 20);
  CHECK(facts.registrations == 1 + 20);
  // And written down: the next open reads them.
  auto again = Store({db}).Facts();
  REQUIRE(again.ok());
  CHECK(again->counted);
  CHECK(again->names == facts.names);
}

TEST_CASE("lookups do not wait for the counts: they are read, or counted, when first asked for",
          "[status]") {
  test::TempDir dir;
  const std::string db = dir.File("db");
  {
    Store store({db});
    REQUIRE(store.Record(Name("Counted Before"), KeyNumber(1), "Production").ok());
  }
  RegisterAsOlderVersion(db, KeyNumber(2));
  REQUIRE(log::SetUp({dir.File("gosl.log"), 1 << 20, 1, log::Level::kInfo, false}).ok());
  Store store({db});
  REQUIRE(store.FindByName(Name("Counted Before")).ok());
  REQUIRE(store.FindByName(Name("Old Version")).ok());
  // Time for a count started at open (as one was before) to say so.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  CHECK(test::ReadFile(dir.File("gosl.log")).find("counting its names") == std::string::npos);
  const DatabaseFacts facts = test::CountedFacts(store);
  CHECK(facts.names == 2);
  CHECK(facts.registrations == 2);
  log::ShutDown();
  CHECK(test::ReadFile(dir.File("gosl.log")).find("counting its names") != std::string::npos);
}

TEST_CASE("an import counts what it wrote and says what it was", "[status]") {
  test::TempDir dir;
  const std::string csv = dir.File("export.csv");
  {
    std::ofstream out(csv);
    out << "6a6b5a13-1f6e-4c3a-9a3e-0d4c1d2e3f40,Mini Resident\n"
           "0f0e0d0c-0b0a-4909-8807-060504030201,Legacy Linden\n"
           "not a line\n"
           "00000000-0000-4000-8000-000000000009,Other Person\n";
  }
  Store store({dir.File("db")});
  ImportOptions options;
  options.file = csv;
  options.grid = "OSGrid";
  REQUIRE(ImportCsv(options, store).ok());
  const DatabaseFacts facts = test::CountedFacts(store);
  CHECK(facts.names_per_grid == std::map<std::string, uint64_t>{{"OSGrid", 3}});
  CHECK(facts.registrations == 0);
  REQUIRE(facts.last_import.has_value());
  CHECK(facts.last_import->file == csv);
  CHECK(facts.last_import->imported == 3);
  CHECK(facts.last_import->skipped == 1);
  CHECK_FALSE(facts.last_import->refresh);
  CHECK(facts.last_import->time_s > 0);

  // A refresh into the live database: the file's records, then what only
  // the old one knew, carried.
  REQUIRE(store.Record(Name("Registered Later"), KeyNumber(77), "OSGrid").ok());
  REQUIRE(ImportCsv(options, store).ok());
  const DatabaseFacts refreshed = test::CountedFacts(store);
  CHECK(refreshed.names_per_grid == ScannedNamesPerGrid(store));
  CHECK(refreshed.names == 4);
  REQUIRE(refreshed.last_import.has_value());
  CHECK(refreshed.last_import->refresh);
}

TEST_CASE("a backup's registrations are counted by the import, not counted again at the next open",
          "[status]") {
  test::TempDir dir;
  const std::string csv = dir.File("backup.csv");
  {
    std::ofstream out(csv);
    out << "6a6b5a13-1f6e-4c3a-9a3e-0d4c1d2e3f40,Mini Resident,,2026-11-27T09:37:53.123456Z\n"
           "0f0e0d0c-0b0a-4909-8807-060504030201,McDonald Smith,OSGrid,2026-11-26T08:00:00.000000Z\n"
           "00000000-0000-4000-8000-000000000009,Other Person\n";
  }
  {
    Store store({dir.File("db")});
    ImportOptions options;
    options.file = csv;
    REQUIRE(ImportCsv(options, store).ok());
  }
  Store store({dir.File("db")});
  auto facts = store.Facts();
  REQUIRE(facts.ok());
  CHECK(facts->counted);  // read, not counted: the import wrote them
  CHECK(facts->registrations == 2);
  CHECK(facts->names_per_grid == ScannedNamesPerGrid(store));
}

TEST_CASE("a count that no longer finds a grid removes its count", "[status]") {
  test::TempDir dir;
  const std::string db = dir.File("db");
  {
    Store store({db});
    REQUIRE(store.Record(Name("Gone Person"), KeyNumber(1), "Vanished").ok());
    REQUIRE(store.Record(Name("Kept Person"), KeyNumber(2), "Production").ok());
  }
  {
    // What a repair does when a table held the grid's every name: the
    // entry is gone, and so is the mark.
    leveldb::DB* raw = nullptr;
    REQUIRE(leveldb::DB::Open(leveldb::Options(), db, &raw).ok());
    std::unique_ptr<leveldb::DB> owned(raw);
    leveldb::WriteBatch lost;
    lost.Delete(std::string("ngone person") + '\0' + "Vanished");
    lost.Delete("mcounted");
    REQUIRE(owned->Write(leveldb::WriteOptions(), &lost).ok());
  }
  {
    Store store({db});
    const DatabaseFacts facts = test::CountedFacts(store);
    CHECK(facts.names_per_grid == std::map<std::string, uint64_t>{{"Production", 1}});
    CHECK(facts.grids == 1);
  }
  Store again({db});
  auto facts = again.Facts();
  REQUIRE(facts.ok());
  CHECK(facts->counted);
  CHECK(facts->names_per_grid == std::map<std::string, uint64_t>{{"Production", 1}});
}

TEST_CASE("a batch written twice leaves the counts right", "[status]") {
  test::TempDir dir;
  {
    Store store({dir.File("db")});
    Store::Batch batch;
    batch.Add(Name("Twice Written"), KeyNumber(1), "Production");
    REQUIRE(store.Commit(batch, true).ok());
    REQUIRE(store.Record(Name("Between Writes"), KeyNumber(2), "Production").ok());
    REQUIRE(store.Commit(batch, true).ok());  // the same batch again, not cleared
    CHECK(test::CountedFacts(store).names == 2);
  }
  Store again({dir.File("db")});  // and as written down
  CHECK(again.Facts().value().names == 2);
}

TEST_CASE("status text and JSON: counts for anyone, paths and files for the operator only", "[status]") {
  test::TempDir dir;
  Store store({dir.File("db")});
  REQUIRE(store.Record(Name("Mini Resident"), KeyNumber(1), "Production").ok());
  REQUIRE(store.Record(Name("Evil <b>\"grid\"</b>"), KeyNumber(2), "<script>x</script>").ok());

  const ServiceStatus anyone = GatherStatus(store, {dir.File("db.activity"), dir.File("gosl.log"), false, 0});
  const std::string json = StatusJson(anyone);
  INFO(json);
  CHECK(json.find("\"records\":2,") != std::string::npos);
  CHECK(json.find("\"grids\":{\"<script>x</script>\":1,\"Production\":1}") != std::string::npos);
  CHECK(json.find("\"registrations\":{\"hour\":2,\"day\":2,\"30_days\":2,\"ever\":2}") != std::string::npos);
  const std::string text = StatusText(anyone);
  CHECK(text.find("records: 2 names on 2 grids\n") != std::string::npos);
  for (const std::string& shown : {json, text}) {
    CHECK(shown.find(dir.path()) == std::string::npos);  // no path of the site's
    CHECK(shown.find("gosl.log") == std::string::npos);
  }

  const ServiceStatus op = GatherStatus(store, {dir.File("db.activity"), dir.File("gosl.log"), true, 0});
  CHECK(StatusText(op).find("database: " + dir.File("db") + " (") != std::string::npos);
  CHECK(StatusJson(op).find("\"path\":\"" + dir.File("db") + "\"") != std::string::npos);

  // No database: said, never a path over HTTP.
  Store missing({dir.File("nothing-here"), 24, /*create_if_missing=*/false});
  const ServiceStatus none = GatherStatus(missing, {dir.File("nothing.activity"), "", false, 0});
  CHECK_FALSE(none.database_status.ok());
  CHECK(StatusJson(none).find("\"database\":\"unavailable\",\"records\":null,\"grids\":{}") != std::string::npos);
  CHECK(StatusText(none).find("records: unknown (the database cannot be read now)") != std::string::npos);
  CHECK(StatusText(none).find(dir.path()) == std::string::npos);
}

TEST_CASE("GroupedDigits puts a comma every three digits", "[status]") {
  CHECK(GroupedDigits(0) == "0");
  CHECK(GroupedDigits(999) == "999");
  CHECK(GroupedDigits(1000) == "1,000");
  CHECK(GroupedDigits(12345678) == "12,345,678");
}

}  // namespace gosl
