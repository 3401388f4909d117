// Building a database from table files (NewTableSink + AdoptTables) and
// mending a damaged one (RepairDatabase), on real LevelDB directories.
#include "gosl/bulk_load.hpp"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <thread>

#include <catch2/catch.hpp>
#include <leveldb/db.h>

#include "gosl/store.hpp"
#include "support/keys.hpp"
#include "support/counted_facts.hpp"
#include "support/db_holder.hpp"
#include "support/temp_dir.hpp"

namespace gosl {
namespace {

namespace fs = std::filesystem;

Uuid KeyOf(int i) { return Uuid::Parse(test::TestKey(i)).value(); }

// Builds a database of `records` records in dir the way a fresh import does:
// key entries and name entries into two sinks, then adopted.
void BuildDatabase(const std::string& dir, int records, size_t block_bytes = 0) {
  fs::create_directories(dir);
  std::map<std::string, std::string> key_entries, name_entries;
  RecordEntries entries;
  for (int i = 0; i < records; ++i) {
    EncodeRecord(AvatarName::Parse("Built" + std::to_string(i) + " Resident").value(), KeyOf(i),
                 "Production", entries);
    key_entries[entries.key_entry_key] = entries.key_entry_value;
    name_entries[entries.name_entry_key] = entries.name_entry_value;
  }
  StagedTables staged;
  auto key_sink = NewTableSink(dir, staged, block_bytes);
  auto name_sink = NewTableSink(dir, staged, block_bytes);
  for (const auto& [k, v] : key_entries) REQUIRE(key_sink->Add(k, v).ok());
  for (const auto& [k, v] : name_entries) REQUIRE(name_sink->Add(k, v).ok());
  REQUIRE(key_sink->Finish().ok());
  REQUIRE(name_sink->Finish().ok());
  REQUIRE(AdoptTables(dir, staged, {{{"Production", static_cast<uint64_t>(records)}}, 0, ""}, {}).ok());
}

size_t TableFiles(const std::string& dir) {
  size_t n = 0;
  for (const auto& entry : fs::directory_iterator(dir)) n += entry.path().extension() == ".ldb";
  return n;
}

}  // namespace

TEST_CASE("blocks grow with the database so that the index of every table stays ~10 MB",
          "[bulk_load]") {
  CHECK(TableBlockBytes(0) == 2048);
  CHECK(TableBlockBytes(800'000'000) == 2048);     // ~11 M records
  CHECK(TableBlockBytes(900'000'000) == 4096);
  CHECK(TableBlockBytes(2'150'000'000) == 8192);   // 30 M records
  CHECK(TableBlockBytes(8'000'000'000) == 32768);  // 100 M records
  CHECK(TableBlockBytes(uint64_t{1} << 50) == 65536);
}

TEST_CASE("tables built directly and adopted make a database that answers both ways", "[bulk_load]") {
  test::TempDir dir;
  const std::string db = dir.File("slkvdb");
  const size_t block_bytes = GENERATE(0, 8192, 65536);  // the default, a large database's
  CAPTURE(block_bytes);
  BuildDatabase(db, 5000, block_bytes);
  CHECK(TableFiles(db) >= 2);
  Store store({db, 24, /*create_if_missing=*/false});
  for (int i : {0, 1, 2499, 4999}) {
    INFO(i);
    auto by_key = store.FindByKey(KeyOf(i));
    REQUIRE(by_key.ok());
    CHECK(by_key->name == "Built" + std::to_string(i) + " Resident");
    auto by_name = store.FindByName(AvatarName::Parse("built" + std::to_string(i)).value());
    REQUIRE(by_name.ok());
    CHECK(by_name->key == KeyOf(i));
  }
  CHECK(store.FindByKey(KeyOf(5000)).status().IsNotFound());
  // Later writes shadow the adopted entries (sequence 0) as usual.
  REQUIRE(store.Record(AvatarName::Parse("Renamed Avatar").value(), KeyOf(7), "Production").ok());
  CHECK(store.FindByKey(KeyOf(7))->name == "Renamed Avatar");
  CHECK(store.FindByName(AvatarName::Parse("built7").value())->key == KeyOf(7));
}

// The number of table files on each level of the database in dir, as a
// fresh LevelDB sees it, and after giving LevelDB time to move any.
std::string LevelShape(const std::string& dir, int settle_ms) {
  leveldb::DB* raw = nullptr;
  leveldb::Options options;
  options.reuse_logs = true;  // as a serving process opens it: the facts' log is not made a table
  REQUIRE(leveldb::DB::Open(options, dir, &raw).ok());
  std::unique_ptr<leveldb::DB> db(raw);
  std::this_thread::sleep_for(std::chrono::milliseconds(settle_ms));
  std::string shape, count;
  for (int level = 0; level < 7; ++level) {
    db->GetProperty("leveldb.num-files-at-level" + std::to_string(level), &count);
    shape += count + " ";
  }
  return shape;
}

TEST_CASE("adopted tables are left where LevelDB would settle them", "[bulk_load]") {
  // Six small tables of disjoint keys, all on level 0 in the MANIFEST: four
  // or more there make LevelDB move some down. AdoptTables returns once it
  // would move no more, so a database opened afterwards is not changed.
  test::TempDir dir;
  const std::string db = dir.File("slkvdb");
  fs::create_directories(db);
  StagedTables staged;
  for (int table = 0; table < 6; ++table) {
    auto sink = NewTableSink(db, staged);
    for (int i = 0; i < 100; ++i) {
      char key[32];
      std::snprintf(key, sizeof key, "k%02d-%03d", table, i);
      REQUIRE(sink->Add(key, "value").ok());
    }
    REQUIRE(sink->Finish().ok());
  }
  REQUIRE(AdoptTables(db, staged, {}, {}).ok());
  const std::string adopted = LevelShape(db, 0);
  INFO("files per level: " << adopted);
  CHECK(std::stoi(adopted) < 4);
  CHECK(LevelShape(db, 300) == adopted);
}

TEST_CASE("a table sink without its staging directory fails as an I/O error naming the file",
          "[bulk_load]") {
  test::TempDir dir;
  StagedTables staged;
  auto sink = NewTableSink(dir.File("gone"), staged);
  Status s = sink->Add("a", "1");
  CHECK(s.code() == Code::kIOError);
  CHECK(s.message().find(dir.File("gone/000002.ldb")) != std::string::npos);
  // Adopting a directory without tables makes an empty database.
  REQUIRE(AdoptTables(dir.path(), staged, {}, {}).ok());
  Store store({dir.path(), 24, false});
  CHECK(store.FindByKey(KeyOf(1)).status().IsNotFound());
}

TEST_CASE("repair moves a damaged table aside and the database opens with the rest", "[bulk_load]") {
  test::TempDir dir;
  const std::string db = dir.File("slkvdb");
  BuildDatabase(db, 5000);
  std::string damaged;
  for (const auto& entry : fs::directory_iterator(db)) {
    if (entry.path().extension() == ".ldb") damaged = entry.path().string();
  }
  REQUIRE(!damaged.empty());
  {
    std::fstream table(damaged, std::ios::in | std::ios::out | std::ios::binary);
    table.seekp(-8, std::ios::end);
    table.write("DAMAGED!", 8);  // the table's magic number
  }
  auto count_entries = [&db](size_t& entries) {
    Store store({db, 24, false});
    entries = 0;
    auto count = [&entries](const AvatarRecord&) {
      ++entries;
      return Status::OK();
    };
    Status keys = store.ForEachKey(count);
    return keys.ok() ? store.ForEachName(count) : keys;
  };
  size_t entries = 0;
  CHECK(count_entries(entries).code() == Code::kCorruption);  // a full pass reads every table
  size_t lost = 0;
  REQUIRE(RepairDatabase(db, lost).ok());
  CHECK(lost == 1);
  CHECK(fs::exists(db + "/lost/" + fs::path(damaged).filename().string()));
  REQUIRE(count_entries(entries).ok());
  CHECK(entries > 0);
  CHECK(entries < 10000);  // what the damaged table held is gone
  // The names --status counts are those left, counted again after the repair.
  Store store({db, 24, false});
  uint64_t names = 0;
  REQUIRE(store.ForEachName([&names](const AvatarRecord&) {
                 ++names;
                 return Status::OK();
               }).ok());
  CHECK(test::CountedFacts(store).names == names);
}

TEST_CASE("repair refuses a directory with no database and a database in use", "[bulk_load]") {
  test::TempDir dir;
  size_t lost = 0;
  Status empty = RepairDatabase(dir.path(), lost);
  CHECK(empty.code() == Code::kUnavailable);
  CHECK(empty.message() == "no database at '" + dir.path() + "'");
  CHECK(fs::is_empty(dir.path()));  // left as it was

  const std::string db = dir.File("slkvdb");
  BuildDatabase(db, 10);
  test::DatabaseHolder holder(db);
  REQUIRE(holder.held());
  Status busy = RepairDatabase(db, lost);
  CHECK(busy.code() == Code::kUnavailable);
  CHECK(busy.message().find("is in use by another process") != std::string::npos);
}

}  // namespace gosl
