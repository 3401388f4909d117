// Faults of the database under a running FastCGI process (issue 6, item 4):
// each answers 503 with a one-line reason, is logged once, and passes by
// itself when its cause does; a damaged database is mended by --repair.
#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>

#include <catch2/catch.hpp>
#include <leveldb/db.h>

#include "../support/api_cases.hpp"
#include "../support/fcgi_client.hpp"
#include "../support/files.hpp"
#include "../support/process.hpp"
#include "../support/temp_dir.hpp"

namespace gosl::test {
namespace {

namespace fs = std::filesystem;

constexpr uid_t kNobody = 65534;

// The FastCGI binary on dir's database. As root it runs as nobody (who owns
// dir), so that file permissions mean something.
std::unique_ptr<FastCgiProcess> StartApp(const TempDir& dir, const std::string& db_dir,
                                         const std::vector<std::string>& more_args = {}) {
  std::string binary = GOSL_TEST_BINARY;
  std::vector<std::string> args = {"--dir", db_dir, "--writes", "open",
                                   "--registrations-per-minute", "0"};
  args.insert(args.end(), more_args.begin(), more_args.end());
  if (geteuid() == 0) {
    args.insert(args.begin(), {"--reuid=65534", "--regid=65534", "--clear-groups", binary});
    binary = "/usr/bin/setpriv";
    fs::permissions(dir.path(), fs::perms(0755), fs::perm_options::replace);
    for (const auto& entry : fs::recursive_directory_iterator(dir.path())) {
      REQUIRE(lchown(entry.path().c_str(), kNobody, kNobody) == 0);
    }
    REQUIRE(chown(dir.path().c_str(), kNobody, kNobody) == 0);
  }
  return std::make_unique<FastCgiProcess>(binary, args, dir.File("app.sock"), dir.path(),
                                          std::vector<std::string>{"PATH=/usr/bin:/bin"},
                                          dir.File("stdout"), dir.File("stderr"));
}

// A site directory (what --dir names) holding the database, inside a
// temporary directory that also holds the app's socket and output.
struct Site {
  TempDir dir;
  const std::string site = dir.File("site"), db = dir.File("site/slkvdb");

  Site() { fs::create_directories(site); }
  std::unique_ptr<FastCgiProcess> Start(const std::vector<std::string>& more_args = {}) const {
    return StartApp(dir, site, more_args);
  }
  HttpReply Get(const std::string& query) const {
    return FastCgiRequest(dir.File("app.sock"), CgiParams("GET", query));
  }
  std::string Log() const { return ReadFile(site + "/gosl.log"); }
  RunResult Repair() const {
    return RunProgram(GOSL_TEST_BINARY, {"--repair", "--dir", site}, {"PATH=/usr/bin:/bin"});
  }
};

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
  Site s;
  SeedApiDatabase(s.db);
  auto app = s.Start();
  fs::permissions(s.db, fs::perms::none, fs::perm_options::replace);
  for (int i = 0; i < 3; ++i) {
    HttpReply reply = s.Get("name=mini");
    CHECK(reply.status == 503);
    CHECK(reply.body == "cannot read database '" + s.db + "': Permission denied");
  }
  fs::permissions(s.db, fs::perms(0755), fs::perm_options::replace);
  CHECK(s.Get("name=mini").body == kMiniKey);
  const std::string log = s.Log();
  CHECK(CountLinesWith(log, "ERROR cannot read database '" + s.db + "': Permission denied") == 1);
  CHECK(CountLinesWith(log, "NOTICE database '" + s.db + "' answers again") == 1);
}

TEST_CASE("a database held too long by a process that answers nobody: 503, logged once, then served",
          "[integration][faults]") {
  Site s;
  SeedApiDatabase(s.db);
  auto app = s.Start();
  {
    leveldb::DB* raw = nullptr;  // holds LevelDB's lock and no peer socket
    REQUIRE(leveldb::DB::Open(leveldb::Options(), s.db, &raw).ok());
    std::unique_ptr<leveldb::DB> holder(raw);
    for (int i = 0; i < 2; ++i) {
      HttpReply reply = s.Get("name=mini");  // after the 2 s wait limit
      CHECK(reply.status == 503);
      CHECK(reply.body == "database '" + s.db + "' is in use by another process");
    }
    // --repair is refused while a process holds the database.
    RunResult busy = s.Repair();
    CHECK(busy.exit_code == 1);
    CHECK(busy.err.find("is in use by another process: stop the service first") != std::string::npos);
  }
  CHECK(s.Get("name=mini").body == kMiniKey);
  CHECK(CountLinesWith(s.Log(), "ERROR database '" + s.db + "' is in use by another process") == 1);
}

TEST_CASE("a damaged table answers 503 naming --repair; --repair makes it open again",
          "[integration][faults]") {
  Site s;
  SeedIntoTables(s.db);
  size_t tables = 0;
  for (const auto& entry : fs::directory_iterator(s.db)) {
    if (entry.path().extension() != ".ldb") continue;
    ++tables;
    std::fstream table(entry.path(), std::ios::in | std::ios::out | std::ios::binary);
    table.seekp(-8, std::ios::end);
    table.write("DAMAGED!", 8);  // the table's magic number
  }
  REQUIRE(tables > 0);
  {
    auto app = s.Start();
    for (int i = 0; i < 3; ++i) {
      HttpReply reply = s.Get("name=mini");
      CHECK(reply.status == 503);
      CHECK(reply.body.find("database '" + s.db +
                            "' is damaged (stop the service and run gosl-basics.fcgi --repair)") ==
            0);
      CHECK(reply.body.find('\n') == std::string::npos);
    }
    CHECK(CountLinesWith(s.Log(), "ERROR database") == 1);
  }
  RunResult repaired = s.Repair();
  CHECK(repaired.exit_code == 0);
  CHECK(repaired.err.find("repair of '" + s.db + "' done: " + std::to_string(tables) +
                          " damaged tables moved to its lost/ directory") != std::string::npos);
  // What the damaged tables held is gone (their bytes are kept in lost/),
  // and the database serves and takes registrations again.
  auto app = s.Start();
  CHECK(s.Get("name=mini").status == 200);
  CHECK(s.Get("name=New+Start&key=" + kUnknownKey).status == 200);
  CHECK(s.Get("key=" + kUnknownKey).body == "New Start");
}

TEST_CASE("a damaged CURRENT file: 503, and --repair brings every record back",
          "[integration][faults]") {
  Site s;
  SeedIntoTables(s.db);
  WriteFile(s.db + "/CURRENT", "MANIFEST-999999\n");
  {
    auto app = s.Start();
    HttpReply reply = s.Get("name=mini");
    CHECK(reply.status == 503);
    CHECK(reply.body.find("MANIFEST-999999") != std::string::npos);
  }
  RunResult repaired = s.Repair();
  CHECK(repaired.exit_code == 0);
  auto app = s.Start();
  CHECK(s.Get("name=mini").body == kMiniKey);
  CHECK(s.Get("key=" + kLegacyKey).body == "Legacy Linden");
}

TEST_CASE("--repair refuses a directory without a database", "[integration][faults]") {
  TempDir dir;
  RunResult run = RunProgram(GOSL_TEST_BINARY, {"--repair", "--dir", dir.path()}, {"PATH=/usr/bin:/bin"});
  CHECK(run.exit_code == 1);
  CHECK(run.err.find("no database at '" + dir.File("slkvdb") + "'") != std::string::npos);
  CHECK_FALSE(fs::exists(dir.File("slkvdb")));
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
  Site s;
  SmallDisk disk(s.site);
  if (!disk.mounted()) {
    WARN("not tested: mounting a small tmpfs needs root");
    return;
  }
  SeedApiDatabase(s.db);
  // The log on another disk, or the full one would swallow what it says.
  auto app = s.Start({"--log-file", s.dir.File("gosl.log")});
  REQUIRE(s.Get("name=mini").body == kMiniKey);
  REQUIRE(s.Get("name=Before+Full&key=" + kUnknownKey).status == 200);

  {  // Fill the disk.
    std::ofstream filler(s.site + "/filler", std::ios::binary);
    const std::string block(64 * 1024, 'x');
    while (filler.write(block.data(), block.size()) && filler.flush()) {
    }
  }
  int refused = 0;
  std::string reason;
  for (int i = 0; i < 2000 && refused < 3; ++i) {
    char key[37];
    snprintf(key, sizeof key, "12345678-0000-4000-8000-%012d", i);
    HttpReply reply = s.Get("name=Full+Disk" + std::to_string(i) + "&key=" + key);
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

  fs::remove(s.site + "/filler");
  HttpReply after = s.Get("name=After+Full&key=" + kMiniKey);
  CHECK(after.status == 200);
  CHECK(s.Get("key=" + kMiniKey).body == "After Full");
  CHECK(s.Get("key=" + kUnknownKey).body == "Before Full");
  const std::string log = ReadFile(s.dir.File("gosl.log"));
  CHECK(CountLinesWith(log, "No space left on device (answering 503") == 1);
  CHECK(CountLinesWith(log, "reopened after a failed write") == 1);
  CHECK(CountLinesWith(log, "answers again") == 1);
  app->StopWith(SIGTERM);
}

}  // namespace gosl::test
