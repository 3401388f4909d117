// The MANIFEST an import writes for the tables it built (store/manifest.hpp),
// checked against LevelDB itself: RepairDB's for the same tables, and
// LevelDB's own reading of it (checksums on) when it spans several log blocks.
#include "store/manifest.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <random>
#include <string>

#include <catch2/catch.hpp>
#include <leveldb/db.h>
#include <leveldb/env.h>
#include <leveldb/table_builder.h>

#include "gosl/bulk_load.hpp"
#include "store/db_files.hpp"
#include "store/internal_key.hpp"
#include "support/temp_dir.hpp"

namespace gosl {
namespace {

namespace fs = std::filesystem;

std::string KeyText(int i) {
  char key[16];
  std::snprintf(key, sizeof key, "key%06d", i);
  return key;
}

// Two sinks fill two key ranges, as an import's do: "a…" with low_entries,
// "b…" with high_entries, each value 80 bytes snappy cannot shorten (~85,000
// entries fill an 8 MB table).
void WriteTables(const std::string& dir, int low_entries, int high_entries, StagedTables& staged) {
  fs::create_directories(dir);
  auto low = NewTableSink(dir, staged);
  auto high = NewTableSink(dir, staged);
  std::mt19937_64 random(11);
  std::string value(80, ' ');
  for (int i = 0; i < std::max(low_entries, high_entries); ++i) {
    for (char& c : value) c = static_cast<char>('!' + random() % 90);
    if (i < low_entries) REQUIRE(low->Add("a" + KeyText(i), value).ok());
    if (i < high_entries) REQUIRE(high->Add("b" + KeyText(i), value).ok());
  }
  REQUIRE(low->Finish().ok());
  REQUIRE(high->Finish().ok());
}

struct Opened {
  std::unique_ptr<leveldb::DB> db;
  std::string sstables;  // LevelDB's own listing: level, number, size, first and last key
};

Opened Open(const std::string& dir) {
  leveldb::Options options;
  options.paranoid_checks = true;  // a MANIFEST record with a wrong checksum fails the open
  leveldb::DB* db = nullptr;
  const leveldb::Status s = leveldb::DB::Open(options, dir, &db);
  INFO(s.ToString());
  REQUIRE(s.ok());
  Opened opened{std::unique_ptr<leveldb::DB>(db), ""};
  REQUIRE(db->GetProperty("leveldb.sstables", &opened.sstables));
  return opened;
}

}  // namespace

TEST_CASE("the MANIFEST written for built tables is the one RepairDB writes after reading them",
          "[manifest]") {
  test::TempDir dir;
  StagedTables staged;
  // Three tables, two from one sink: level 0 holds them all, and fewer than
  // four start no compaction, so both listings are read before LevelDB
  // moves anything.
  WriteTables(dir.File("ours"), 1000, 100000, staged);
  REQUIRE(staged.tables().size() == 3);
  fs::copy(dir.File("ours"), dir.File("repaired"));
  REQUIRE(manifest::Write(dir.File("ours"), staged.tables(), staged.next_file_number()).ok());
  leveldb::Options repair_options;
  REQUIRE(leveldb::RepairDB(dir.File("repaired"), repair_options).ok());

  Opened ours = Open(dir.File("ours"));
  Opened repaired = Open(dir.File("repaired"));
  CHECK(ours.sstables.find("--- level 0 ---") != std::string::npos);
  CHECK(ours.sstables == repaired.sstables);
  std::string value;
  for (int i : {0, 1, 999}) {
    INFO(i);
    CHECK(ours.db->Get(leveldb::ReadOptions(), "a" + KeyText(i), &value).ok());
  }
  for (int i : {0, 50000, 99999}) {
    INFO(i);
    CHECK(ours.db->Get(leveldb::ReadOptions(), "b" + KeyText(i), &value).ok());
  }
  CHECK(ours.db->Get(leveldb::ReadOptions(), "a" + KeyText(1000), &value).IsNotFound());
  CHECK(ours.db->Get(leveldb::ReadOptions(), "b" + KeyText(100000), &value).IsNotFound());
  // Writes after it get sequence numbers above the tables' 0 and win.
  REQUIRE(ours.db->Put(leveldb::WriteOptions(), "a" + KeyText(7), "new").ok());
  REQUIRE(ours.db->Get(leveldb::ReadOptions(), "a" + KeyText(7), &value).ok());
  CHECK(value == "new");
}

TEST_CASE("a MANIFEST longer than one 32 KB log block is read back whole by LevelDB", "[manifest]") {
  // 1,200 one-entry tables: ~45 KB of version edit, in two fragments.
  test::TempDir dir;
  const std::string db_dir = dir.File("db");
  fs::create_directories(db_dir);
  StagedTables staged;
  leveldb::Options table_options;
  table_options.comparator = internal_key::Order();
  constexpr int kTables = 1200;
  for (int i = 0; i < kTables; ++i) {
    StagedTable table;
    table.number = staged.TakeFileNumber();
    leveldb::WritableFile* file = nullptr;
    REQUIRE(leveldb::Env::Default()->NewWritableFile(db_files::TableFile(db_dir, table.number), &file).ok());
    std::unique_ptr<leveldb::WritableFile> owned(file);
    std::string key = KeyText(i);
    internal_key::AppendTrailer(key, 0);
    leveldb::TableBuilder builder(table_options, file);
    builder.Add(key, "value" + std::to_string(i));
    REQUIRE(builder.Finish().ok());
    REQUIRE(owned->Close().ok());
    table.file_size = builder.FileSize();
    table.smallest = table.largest = key;
    staged.Finished(std::move(table));
  }
  const std::string edit = manifest::EncodeEdit(staged.tables(), staged.next_file_number());
  REQUIRE(edit.size() > 32768);
  const std::string record = manifest::LogRecord(edit);
  CHECK(record.size() == edit.size() + 2 * 7);  // two fragments, each with its header
  CHECK(record[6] == 2);                        // the first fragment's type: kFirstType
  CHECK(record[32768 + 6] == 4);                // the second block's: kLastType

  REQUIRE(manifest::Write(db_dir, staged.tables(), staged.next_file_number()).ok());
  Opened opened = Open(db_dir);
  std::string value;
  for (int i : {0, 599, 1199}) {
    INFO(i);
    REQUIRE(opened.db->Get(leveldb::ReadOptions(), KeyText(i), &value).ok());
    CHECK(value == "value" + std::to_string(i));
  }
}

TEST_CASE("a MANIFEST that cannot be written is an I/O error naming the file", "[manifest]") {
  test::TempDir dir;
  const Status s = manifest::Write(dir.File("missing"), {}, 2);
  CHECK(s.code() == Code::kIOError);
  CHECK(s.message().find(dir.File("missing") + "/MANIFEST-000001") != std::string::npos);
}

TEST_CASE("a log-format file ends whole only after a whole, checksummed record", "[manifest]") {
  using manifest::EndsWhole;
  using manifest::LogRecord;
  CHECK(EndsWhole(""));
  const std::string one = LogRecord("an edit") + LogRecord("another edit");
  CHECK(EndsWhole(one));
  CHECK_FALSE(EndsWhole(one.substr(0, one.size() - 1)));  // payload torn
  CHECK_FALSE(EndsWhole(one.substr(0, one.size() - 14)));  // header torn
  std::string flipped = one;
  flipped.back() ^= 0x01;
  CHECK_FALSE(EndsWhole(flipped));
  // Zeros are a block's trailer only at its end: a record appended after
  // them mid-block would be read from them.
  CHECK_FALSE(EndsWhole(one + std::string(3, '\0')));
  const std::string fills_block = LogRecord(std::string(32768 - 7 - 3, 'x'));
  CHECK(EndsWhole(fills_block + std::string(3, '\0')));
  CHECK_FALSE(EndsWhole(fills_block + std::string("\0\0z", 3)));
  // 40,000 bytes: a first fragment filling block one, the last in block two.
  const std::string two_blocks = LogRecord(std::string(40000, 'y'));
  CHECK(EndsWhole(std::string_view(two_blocks).substr(32768)));
  CHECK_FALSE(EndsWhole(std::string_view(two_blocks).substr(0, 32768)));  // the rest never written
  std::string zero_type = one;
  zero_type += std::string(7, '\0');
  CHECK_FALSE(EndsWhole(zero_type));
}

}  // namespace gosl
