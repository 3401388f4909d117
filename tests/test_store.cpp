#include "gosl/store.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <leveldb/db.h>

#include <catch2/catch.hpp>

#include "gosl/logging.hpp"
#include "store/db_files.hpp"
#include "support/db_holder.hpp"
#include "support/files.hpp"
#include "support/temp_dir.hpp"

namespace gosl {
namespace {

AvatarName Name(const char* text) { return AvatarName::Parse(text).value(); }
Uuid Key(const char* text) { return Uuid::Parse(text).value(); }

const char* const kA = "6a6b5a13-1f6e-4c3a-9a3e-0d4c1d2e3f40";
const char* const kB = "0f0e0d0c-0b0a-4909-8807-060504030201";

// The database's one log file, where registrations wait for a table.
std::string LogFile(const std::string& db) {
  std::string found;
  for (const auto& entry : std::filesystem::directory_iterator(db)) {
    if (db_files::IsLogFile(entry.path().filename().string())) found = entry.path().string();
  }
  return found;
}

}  // namespace

TEST_CASE("a pair recorded once is found both ways", "[store]") {
  test::TempDir dir;
  Store store({dir.File("db")});
  REQUIRE(store.Record(Name("Mini Resident"), Key(kA), "Production").ok());

  auto by_name = store.FindByName(Name("mini"));
  REQUIRE(by_name.ok());
  CHECK(by_name->key == Key(kA));
  CHECK(by_name->name == "Mini Resident");
  CHECK(by_name->grid == "Production");

  auto by_key = store.FindByKey(Key(kA));
  REQUIRE(by_key.ok());
  CHECK(by_key->name == "Mini Resident");
  CHECK(by_key->grid == "Production");
}

TEST_CASE("every display form and grid comes back exactly as stored", "[store]") {
  // Names whose display form the layout derives from the lookup form, and
  // names it must store verbatim.
  const char* names[] = {"Mini Resident", "mini",          "Legacy Linden",  "legacy linden",
                         "mini resident", "MINI RESIDENT", "McDonald Smith", "first.last",
                         "Ab Cd Ef",      "J\xC3\xBCrgen Resident", "x",     "Mini Resident2",
                         "Resident",      "Two  Spaces"};
  const char* grids[] = {"", "Production", "Testing", "OSGrid", "hg.example.com:8002"};
  test::TempDir dir;
  Store store({dir.File("db")});
  int i = 0;
  for (const char* text : names) {
    for (const char* grid : grids) {
      INFO(text << " on '" << grid << "'");
      char key_text[37];
      std::snprintf(key_text, sizeof key_text, "00000000-0000-4000-8000-%012d", ++i);
      const Uuid key = Key(key_text);
      const AvatarName name = Name(text);
      REQUIRE(store.Record(name, key, grid).ok());
      auto by_key = store.FindByKey(key);
      REQUIRE(by_key.ok());
      CHECK(by_key->name == name.display());
      CHECK(by_key->grid == grid);
      auto by_name = store.FindByName(name, {grid, /*only=*/true});
      REQUIRE(by_name.ok());
      CHECK(by_name->name == name.display());
      CHECK(by_name->key == key);
      CHECK(by_name->grid == grid);
    }
  }
}

TEST_CASE("a renamed key answers its newest name and every old name finds it", "[store]") {
  test::TempDir dir;
  Store store({dir.File("db")});
  REQUIRE(store.Record(Name("Old Name"), Key(kA), "Production").ok());
  REQUIRE(store.Record(Name("New Name"), Key(kA), "Production").ok());
  CHECK(store.FindByKey(Key(kA)).value().name == "New Name");
  CHECK(store.FindByName(Name("old name")).value().key == Key(kA));
  CHECK(store.FindByName(Name("new.name")).value().key == Key(kA));
}

TEST_CASE("a miss is kNotFound, not a failure", "[store]") {
  test::TempDir dir;
  Store store({dir.File("db")});
  CHECK(store.FindByName(Name("Nobody")).status().IsNotFound());
  CHECK(store.FindByKey(Key(kB)).status().IsNotFound());
}

TEST_CASE("the store opens lazily and survives being reopened", "[store]") {
  test::TempDir dir;
  {
    Store store({dir.File("db")});
    CHECK_FALSE(store.is_open());
    CHECK_FALSE(std::filesystem::exists(dir.File("db")));  // nothing touched before use
    Store::Batch batch;
    batch.Add(Name("Mini Resident"), Key(kA), "Production");
    batch.Add(Name("Legacy Linden"), Key(kB), "");
    CHECK(batch.records() == 2);
    REQUIRE(store.Commit(batch, /*sync=*/true).ok());
    CHECK(store.is_open());
    REQUIRE(store.CompactAll().ok());
  }
  Store reopened({dir.File("db")});
  CHECK(reopened.FindByKey(Key(kB)).value().name == "Legacy Linden");
  CHECK(reopened.FindByName(Name("mini")).value().key == Key(kA));
}

TEST_CASE("LevelDB's own log goes to the process log at DEBUG, not to a LOG file", "[store]") {
  test::TempDir dir;
  REQUIRE(log::SetUp({dir.File("gosl.log"), 1 << 20, 1, log::Level::kDebug, false}).ok());
  CHECK(Store({dir.File("db")}).Record(Name("Mini Resident"), Key(kA), "").ok());
  log::ShutDown();
  CHECK(test::ReadFile(dir.File("gosl.log")).find("DEBUG leveldb: ") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir.File("db/LOG")));
}

TEST_CASE("a database that ends whole reopens without new files; after a torn log, nothing is lost",
          "[store]") {
  test::TempDir dir;
  const std::string db = dir.File("db");
  REQUIRE(Store({db}).Record(Name("First Resident"), Key(kA), "").ok());
  const std::string manifest = test::ReadFile(db + "/CURRENT");
  REQUIRE(Store({db}).Record(Name("Second Resident"), Key(kB), "").ok());
  CHECK(test::ReadFile(db + "/CURRENT") == manifest);  // reopened as it was: no new MANIFEST

  // Power was lost inside a record: its header (64 bytes, full) is there,
  // and 4 bytes of it. Appending after it would lose the next registration
  // the next time the log is read: LevelDB drops the rest of a block after
  // a bad record.
  const std::string log = LogFile(db);
  REQUIRE_FALSE(log.empty());
  std::ofstream(log, std::ios::binary | std::ios::app)
      << std::string("\x12\x34\x56\x78\x40\x00\x01half", 11);
  const char* const kC = "11111111-2222-4333-8444-555555555555";
  REQUIRE(Store({db}).Record(Name("Third Resident"), Key(kC), "").ok());
  CHECK(test::ReadFile(db + "/CURRENT") != manifest);  // opened the usual way: new files
  Store reopened({db});
  CHECK(reopened.FindByKey(Key(kA)).value().name == "First Resident");
  CHECK(reopened.FindByKey(Key(kB)).value().name == "Second Resident");
  CHECK(reopened.FindByKey(Key(kC)).value().name == "Third Resident");
}

TEST_CASE("a database whose log has grown is opened anew once, and its registrations kept",
          "[store]") {
  test::TempDir dir;
  const std::string db = dir.File("db");
  Store::Batch batch;  // ~125 KB in the log: more than an open should replay every time
  for (int i = 0; i < 2000; ++i) {
    char key[40];
    std::snprintf(key, sizeof key, "%08x-0000-4000-8000-000000000000", i);
    std::string letters;  // aaa, baa, ...: names are letters
    for (int n = i, place = 0; place < 3; ++place, n /= 26) letters += static_cast<char>('a' + n % 26);
    batch.Add(Name(("Av" + letters + " Resident").c_str()), Key(key), "");
  }
  REQUIRE(Store({db}).Commit(batch, /*sync=*/true).ok());
  REQUIRE(std::filesystem::file_size(LogFile(db)) > (64 << 10));
  const std::string manifest = test::ReadFile(db + "/CURRENT");
  CHECK(Store({db}).FindByName(Name("avhaa")).value().key == Key("00000007-0000-4000-8000-000000000000"));
  CHECK(test::ReadFile(db + "/CURRENT") != manifest);  // new files: the log went into a table
  CHECK(std::filesystem::file_size(LogFile(db)) < (64 << 10));
  const std::string after = test::ReadFile(db + "/CURRENT");
  CHECK(Store({db}).FindByName(Name("avlmb")).value().key == Key("000003e7-0000-4000-8000-000000000000"));
  CHECK(test::ReadFile(db + "/CURRENT") == after);  // small again: reused
}

TEST_CASE("a second store on a database is served by the first, and takes over after it",
          "[store]") {
  test::TempDir dir;
  auto owner = std::make_unique<Store>(StoreOptions{dir.File("db")});
  REQUIRE(owner->Record(Name("Mini Resident"), Key(kA), "").ok());
  Store peer({dir.File("db")});
  CHECK(peer.FindByName(Name("mini")).value().key == Key(kA));
  CHECK(peer.is_open());
  CHECK_FALSE(peer.owns_database());
  // A registration through the peer is seen by the owner at once.
  REQUIRE(peer.Record(Name("Legacy Linden"), Key(kB), "Production").ok());
  CHECK(owner->FindByKey(Key(kB)).value().name == "Legacy Linden");
  // Bulk work needs the database to itself.
  CHECK(peer.CompactAll().code() == Code::kUnavailable);

  owner.reset();  // the owner exits: the peer becomes the owner
  CHECK(peer.FindByKey(Key(kB)).value().grid == "Production");
  CHECK(peer.owns_database());
}

TEST_CASE("a peer's remembered answers never hide a registration made elsewhere", "[store]") {
  test::TempDir dir;
  Store owner({dir.File("db")});
  REQUIRE(owner.Record(Name("Mini Resident"), Key(kA), "Production").ok());
  Store peer({dir.File("db")});
  // Asked twice: the second answer comes from the peer's cache.
  CHECK(peer.FindByKey(Key(kB)).status().IsNotFound());
  CHECK(peer.FindByKey(Key(kB)).status().IsNotFound());
  CHECK(peer.FindByName(Name("Legacy Linden")).status().IsNotFound());
  CHECK(peer.FindByName(Name("mini")).value().key == Key(kA));
  // Registered through the owner, then renamed: the peer sees each at once.
  REQUIRE(owner.Record(Name("Legacy Linden"), Key(kB), "Production").ok());
  CHECK(peer.FindByKey(Key(kB)).value().name == "Legacy Linden");
  CHECK(peer.FindByName(Name("legacy.linden")).value().key == Key(kB));
  REQUIRE(owner.Record(Name("Mini Renamed"), Key(kA), "Production").ok());
  CHECK(peer.FindByKey(Key(kA)).value().name == "Mini Renamed");
  // And a registration through the peer itself.
  REQUIRE(peer.Record(Name("Mini Again"), Key(kA), "Production").ok());
  CHECK(peer.FindByKey(Key(kA)).value().name == "Mini Again");
}

TEST_CASE("a database locked by a process that does not answer is kUnavailable after the wait",
          "[store]") {
  test::TempDir dir;
  { REQUIRE(Store({dir.File("db")}).Record(Name("Mini Resident"), Key(kA), "").ok()); }
  test::DatabaseHolder holder(dir.File("db"));  // holds LevelDB's lock without answering peers
  REQUIRE(holder.held());
  StoreOptions options{dir.File("db")};
  options.wait_ms = 100;
  Store store(options);
  auto busy = store.FindByName(Name("mini"));
  REQUIRE_FALSE(busy.ok());
  CHECK(busy.status().code() == Code::kUnavailable);
  CHECK(busy.status().message() == "database '" + dir.File("db") + "' is in use by another process");
  holder.Release();
  CHECK(store.FindByName(Name("mini")).value().key == Key(kA));  // retried on the next call
}

TEST_CASE("a missing database is kUnavailable when it may not be created", "[store]") {
  test::TempDir dir;
  Store store({dir.File("db"), 24, /*create_if_missing=*/false});
  auto result = store.FindByKey(Key(kA));
  REQUIRE_FALSE(result.ok());
  CHECK(result.status().code() == Code::kUnavailable);
  CHECK(result.status().message() == "no database at '" + dir.File("db") +
                                         "' (upload one, or make it with --import or --create)");
}

}  // namespace gosl
