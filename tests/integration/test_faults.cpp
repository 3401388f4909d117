// Faults of the database under a running FastCGI process (issue 6, item 4):
// each answers 503 with a one-line reason, is logged once, and passes by
// itself when its cause does; a damaged database is mended by --repair.
#include <signal.h>
#include <sys/mount.h>

#include <filesystem>
#include <fstream>
#include <memory>

#include <catch2/catch.hpp>
#include <leveldb/db.h>

#include "../support/api_cases.hpp"
#include "../support/files.hpp"
#include "../support/keys.hpp"
#include "../support/site.hpp"

namespace gosl::test {
namespace {

namespace fs = std::filesystem;

// Every registration open and none rate-limited: a fault is the only reason to refuse one.
const std::vector<std::string> kOpenWrites = {"--writes", "open",
                                              "--registrations-per-minute", "0"};

// Seeds the API records and has LevelDB write them into a table file.
void SeedIntoTables(const std::string& db_path) {
  SeedApiDatabase(db_path);
  leveldb::DB* raw = nullptr;
  REQUIRE(leveldb::DB::Open(leveldb::Options(), db_path, &raw).ok());
  raw->CompactRange(nullptr, nullptr);
  delete raw;
}

}  // namespace

TEST_CASE("an unreadable database answers 503 and is served once readable again",
          "[integration][faults]") {
  // As root the processes run as nobody, so that file permissions mean something.
  Site s(Site::Db::kNone, Site::RunAs::kNobodyIfRoot);
  SeedApiDatabase(s.db());
  s.Start(kOpenWrites);
  fs::permissions(s.db(), fs::perms::none, fs::perm_options::replace);
  for (int i = 0; i < 3; ++i) {
    HttpReply reply = s.Get("name=mini");
    CHECK(reply.status == 503);
    CHECK(reply.body == "cannot read database '" + s.db() + "': Permission denied");
  }
  fs::permissions(s.db(), fs::perms(0755), fs::perm_options::replace);
  CHECK(s.Get("name=mini").body == kMiniKey);
  const std::string log = s.Log();
  CHECK(CountLinesWith(log, "ERROR cannot read database '" + s.db() + "': Permission denied") == 1);
  CHECK(CountLinesWith(log, "NOTICE database '" + s.db() + "' answers again") == 1);
}

TEST_CASE("a database held too long by a process that answers nobody: 503, logged once, then served",
          "[integration][faults]") {
  Site s(Site::Db::kNone, Site::RunAs::kNobodyIfRoot);
  SeedApiDatabase(s.db());
  s.Start(kOpenWrites);
  {
    leveldb::DB* raw = nullptr;  // holds LevelDB's lock and no peer socket
    REQUIRE(leveldb::DB::Open(leveldb::Options(), s.db(), &raw).ok());
    std::unique_ptr<leveldb::DB> holder(raw);
    for (int i = 0; i < 2; ++i) {
      HttpReply reply = s.Get("name=mini");  // after the 2 s wait limit
      CHECK(reply.status == 503);
      CHECK(reply.body == "database '" + s.db() + "' is in use by another process");
    }
    // --repair is refused while a process holds the database.
    RunResult busy = s.Run({"--repair"});
    CHECK(busy.exit_code == 1);
    CHECK(busy.err.find("is in use by another process: stop the service first") != std::string::npos);
  }
  CHECK(s.Get("name=mini").body == kMiniKey);
  CHECK(CountLinesWith(s.Log(), "ERROR database '" + s.db() + "' is in use by another process") ==
        1);
}

TEST_CASE("a damaged table answers 503 naming --repair; --repair makes it open again",
          "[integration][faults]") {
  Site s(Site::Db::kNone, Site::RunAs::kNobodyIfRoot);
  SeedIntoTables(s.db());
  size_t tables = 0;
  for (const auto& entry : fs::directory_iterator(s.db())) {
    if (entry.path().extension() != ".ldb") continue;
    ++tables;
    std::fstream table(entry.path(), std::ios::in | std::ios::out | std::ios::binary);
    table.seekp(-8, std::ios::end);
    table.write("DAMAGED!", 8);  // the table's magic number
  }
  REQUIRE(tables > 0);
  s.Start(kOpenWrites);
  for (int i = 0; i < 3; ++i) {
    HttpReply reply = s.Get("name=mini");
    CHECK(reply.status == 503);
    CHECK(reply.body.find("database '" + s.db() +
                          "' is damaged (stop the service and run gosl-basics.fcgi --repair)") ==
          0);
    CHECK(reply.body.find('\n') == std::string::npos);
  }
  CHECK(CountLinesWith(s.Log(), "ERROR database") == 1);
  s.StopAll();  // --repair wants the database to itself
  RunResult repaired = s.Run({"--repair"});
  CHECK(repaired.exit_code == 0);
  CHECK(repaired.err.find("repair of '" + s.db() + "' done: " + std::to_string(tables) +
                          " damaged tables moved to its lost/ directory") != std::string::npos);
  // What the damaged tables held is gone (their bytes are kept in lost/),
  // and the database serves and takes registrations again.
  s.Start(kOpenWrites);
  CHECK(s.Get("name=mini").status == 200);
  CHECK(s.Get("name=New+Start&key=" + kUnknownKey).status == 200);
  CHECK(s.Get("key=" + kUnknownKey).body == "New Start");
}

TEST_CASE("a damaged CURRENT file: 503, and --repair brings every record back",
          "[integration][faults]") {
  Site s(Site::Db::kNone, Site::RunAs::kNobodyIfRoot);
  SeedIntoTables(s.db());
  WriteFile(s.db() + "/CURRENT", "MANIFEST-999999\n");
  s.Start(kOpenWrites);
  HttpReply reply = s.Get("name=mini");
  CHECK(reply.status == 503);
  CHECK(reply.body.find("MANIFEST-999999") != std::string::npos);
  s.StopAll();  // --repair wants the database to itself
  RunResult repaired = s.Run({"--repair"});
  CHECK(repaired.exit_code == 0);
  s.Start(kOpenWrites);
  CHECK(s.Get("name=mini").body == kMiniKey);
  CHECK(s.Get("key=" + kLegacyKey).body == "Legacy Linden");
}

TEST_CASE("--repair refuses a directory without a database", "[integration][faults]") {
  Site s;
  RunResult run = s.Run({"--repair"});
  CHECK(run.exit_code == 1);
  CHECK(run.err.find("no database at '" + s.db() + "'") != std::string::npos);
  CHECK_FALSE(fs::exists(s.db()));
}

// A full disk needs a small file system of our own: a tmpfs, which only
// root may mount.
class SmallDisk {
 public:
  explicit SmallDisk(const std::string& path) : path_(path) {
    fs::create_directories(path);
    mounted_ = mount("tmpfs", path.c_str(), "tmpfs", 0, "size=3m,mode=0755") == 0;
  }
  ~SmallDisk() {
    if (mounted_) umount2(path_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }

 private:
  std::string path_;
  bool mounted_ = false;
};

TEST_CASE("a full disk: registrations get 503, lookups go on, writes resume when space returns",
          "[integration][faults]") {
  Site s(Site::Db::kNone, Site::RunAs::kNobodyIfRoot);
  SmallDisk disk(s.dir());
  if (!disk.mounted()) {
    WARN("not tested: mounting a small tmpfs needs root");
    return;
  }
  SeedApiDatabase(s.db());
  // The log on another disk, or the full one would swallow what it says.
  s.Start(
      {"--writes", "open", "--registrations-per-minute", "0", "--log-file", s.Beside("gosl.log")});
  REQUIRE(s.Get("name=mini").body == kMiniKey);
  REQUIRE(s.Get("name=Before+Full&key=" + kUnknownKey).status == 200);

  {  // Fill the disk.
    std::ofstream filler(s.File("filler"), std::ios::binary);
    const std::string block(64 * 1024, 'x');
    while (filler.write(block.data(), block.size()) && filler.flush()) {
    }
  }
  int refused = 0;
  std::string reason;
  for (int i = 0; i < 2000 && refused < 3; ++i) {
    HttpReply reply =
        s.Get("name=Full+Disk" + std::to_string(i) + "&key=" + TestKey(i, 0x12345678));
    INFO(reply.status << " " << reply.body);
    REQUIRE((reply.status == 200 || reply.status == 503));
    if (reply.status == 503) {
      ++refused;
      reason = reply.body;
    }
  }
  CHECK(refused == 3);
  CHECK(reason.find("No space left on device") != std::string::npos);
  CHECK(reason.find('\n') == std::string::npos);
  CHECK(s.Get("key=" + kUnknownKey).body == "Before Full");  // reads need no space

  fs::remove(s.File("filler"));
  HttpReply after = s.Get("name=After+Full&key=" + kMiniKey);
  CHECK(after.status == 200);
  CHECK(s.Get("key=" + kMiniKey).body == "After Full");
  CHECK(s.Get("key=" + kUnknownKey).body == "Before Full");
  const std::string log = ReadFile(s.Beside("gosl.log"));
  CHECK(CountLinesWith(log, "No space left on device (answering 503") == 1);
  CHECK(CountLinesWith(log, "reopened after a failed write") == 1);
  CHECK(CountLinesWith(log, "answers again") == 1);
  s.process().StopWith(SIGTERM);
}

}  // namespace gosl::test
