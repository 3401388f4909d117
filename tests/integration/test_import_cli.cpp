// --import and --export of the real binary, and its crash promise: killed at
// any moment, an import leaves a database that opens with every committed
// batch, and running it again completes it.
#include <signal.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include <catch2/catch.hpp>

#include "gosl/store.hpp"
#include "../support/files.hpp"
#include "../support/keys.hpp"
#include "../support/site.hpp"

namespace gosl::test {
namespace {

namespace fs = std::filesystem;

void WriteCsv(const std::string& path, int records) {
  std::string csv;
  csv.reserve(static_cast<size_t>(records) * 56);
  for (int i = 0; i < records; ++i) csv += ExportKey(i) + ",Crash" + std::to_string(i) + " Resident\n";
  WriteFile(path, csv);
}

// How many files in dir end in `ending` and hold at least min_size bytes.
size_t FilesEndingIn(const std::string& dir, const std::string& ending, uintmax_t min_size = 1) {
  std::error_code ec;
  size_t count = 0;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    count += name.size() >= ending.size() &&
             name.compare(name.size() - ending.size(), ending.size(), ending) == 0 &&
             entry.file_size(ec) >= min_size;
  }
  return count;
}

bool HasFileEndingIn(const std::string& dir, const std::string& ending, uintmax_t min_size = 1) {
  return FilesEndingIn(dir, ending, min_size) > 0;
}

bool Found(Store& store, int i) {
  return store.FindByKey(Uuid::Parse(ExportKey(i)).value()).ok();
}

// Either half of record i: the key and name halves are merged by two threads,
// so a kill can come before one of them has committed anything.
bool EitherHalfFound(Store& store, int i) {
  return Found(store, i) ||
         store.FindByName(AvatarName::Parse("Crash" + std::to_string(i) + " Resident").value()).ok();
}

// Lowers this process's open-file limit, which the programs it starts
// inherit, for as long as it lives.
class OpenFileLimit {
 public:
  explicit OpenFileLimit(rlim_t files) {
    REQUIRE(getrlimit(RLIMIT_NOFILE, &saved_) == 0);
    rlimit lowered = saved_;
    lowered.rlim_cur = files;
    REQUIRE(setrlimit(RLIMIT_NOFILE, &lowered) == 0);
  }
  ~OpenFileLimit() { setrlimit(RLIMIT_NOFILE, &saved_); }

 private:
  rlimit saved_{};
};

}  // namespace

TEST_CASE("under a low open-file limit an import merges its runs in passes and loses nothing; "
          "a limit too low for any import is refused before the file is read",
          "[integration][import]") {
  Site site;
  constexpr int kRecords = 200000;
  WriteCsv(site.File("export.csv"), kRecords);
  RunResult run;
  {
    const OpenFileLimit limit(64);
    run = site.Run({"--import", site.File("export.csv"), "--import-memory", "2", "--debug", "info"});
  }
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  // 2 MB of sorting makes 8 runs a side; 64 files allow fewer at once.
  CHECK_THAT(run.err, Catch::Matches(R"((.|\n)*merging 8 \+ 8 sorted runs, [2-7] files at a )"
                                     R"(time \([2-9] passes\)(.|\n)*)"));
  CHECK_THAT(run.err, Catch::Contains("200000 lines read, 200000 records imported, 0 skipped"));
  CHECK_FALSE(fs::exists(site.db() + ".import-runs"));
  {
    Store store({site.db()});
    for (int i = 0; i < kRecords; i += 97) {
      INFO(i);
      CHECK(Found(store, i));
      auto found = store.FindByName(AvatarName::Parse("Crash" + std::to_string(i) + " Resident").value());
      REQUIRE(found.ok());
      CHECK(found->key.ToString() == ExportKey(i));
    }
  }

  fs::remove_all(site.db());
  {
    const OpenFileLimit limit(32);
    run = site.Run({"--import", site.File("export.csv")});
  }
  CHECK(run.exit_code == 1);
  CHECK_THAT(run.err, Catch::Contains("the open-file limit (ulimit -n) is 32: an import needs at least"));
  CHECK_FALSE(fs::exists(site.db()));
}

TEST_CASE("--import of a .csv.bz2 and --export to .gz work from the command line",
          "[integration][import]") {
  Site site;
  WriteCsv(site.File("export.csv"), 20000);
  REQUIRE(std::system(("bzip2 -q " + site.File("export.csv")).c_str()) == 0);
  RunResult run = site.Run({"--import", site.File("export.csv.bz2")});
  CHECK(run.exit_code == 0);
  CHECK_THAT(run.err, Catch::Contains("(bzip2) into a new database"));
  CHECK_THAT(run.err, Catch::Contains("20000 lines read, 20000 records imported, 0 skipped"));
  CHECK_THAT(run.err, Catch::Contains("peak RSS"));
  CHECK(run.out.empty());  // no progress bar without a terminal

  run = site.Run({"--export", site.File("out.csv.gz")});
  CHECK(run.exit_code == 0);
  CHECK_THAT(run.err, Catch::Contains("20000 keys and 0 earlier names"));
  REQUIRE(std::system(("gzip -dc " + site.File("out.csv.gz") + " > " + site.File("out.csv")).c_str()) == 0);
  CHECK(CountLinesWith(ReadFile(site.File("out.csv")), " Resident") == 20000);
}

TEST_CASE("an import that cannot be done exits 1 and says why", "[integration][import]") {
  Site site;
  WriteFile(site.File("empty.csv"), "");
  struct Row {
    std::string file, reason;
  };
  const Row rows[] = {
      {site.File("missing.csv"), "missing.csv"},
      {site.dir(), "directory"},
      {site.File("empty.csv"), "holds no UUID,Name records"},
  };
  for (const Row& row : rows) {
    INFO(row.file);
    RunResult run = site.Run({"--import", row.file});
    CHECK(run.exit_code == 1);
    CHECK_THAT(run.err, Catch::Contains("import of '" + row.file + "' failed"));
    CHECK_THAT(run.err, Catch::Contains(row.reason));
  }
  CHECK_FALSE(fs::exists(site.db()));
}

TEST_CASE("an import killed with SIGKILL leaves a database that opens, and a rerun completes it",
          "[integration][import]") {
  constexpr int kRecords = 600000;
  Site site;
  WriteCsv(site.File("big.csv"), kRecords);
  const std::string db = site.db();

  // The import runs as a started process (its fd 0 socket unused) so that it can be killed.
  auto kill_when = [&](auto condition) {
    FastCgiProcess& import = site.process(site.Start({"--import", site.File("big.csv")}));
    bool reached = WaitFor([&] { return condition() || !import.Running(); }, 60000);
    REQUIRE(reached);
    REQUIRE(import.Running());  // killed mid-way, not after the end
    import.StopWith(SIGKILL);
  };

  SECTION("into a new database, while sorting") {
    kill_when([&] { return HasFileEndingIn(db + ".import-runs", ".run"); });
    CHECK_FALSE(fs::exists(db));  // nothing half made under the database's name
  }
  SECTION("into a new database, while writing tables") {
    kill_when([&] { return HasFileEndingIn(db + ".import-new", ".ldb", 1 << 20); });
    CHECK_FALSE(fs::exists(db));
  }
  SECTION("into an existing database, while committing batches") {
    {
      Store seed({db});
      REQUIRE(seed.Record(AvatarName::Parse("Seed Avatar").value(), Uuid::Parse(ExportKey(kRecords + 1)).value(),
                          "Production").ok());
    }
    // Opening writes the seed's log into a first table; a second one means
    // a whole memtable's worth of batches (3 MB) was committed before it. A
    // log of 1 MB was not enough: LevelDB groups concurrent batches into one
    // log record of up to 1 MB, which a kill can cut short, and recovery
    // rightly drops it.
    kill_when([&] { return FilesEndingIn(db, ".ldb") >= 2; });
    Store store({db});
    REQUIRE(store.Open().ok());
    CHECK(Found(store, kRecords + 1));  // what was there before is still there
    int found = 0;
    for (int i = 0; i < kRecords; i += 100) found += EitherHalfFound(store, i);
    CHECK(found > 0);  // some committed batches made it
  }

  // The same import again completes it.
  RunResult rerun = site.Run({"--import", site.File("big.csv")});
  REQUIRE(rerun.exit_code == 0);
  Store store({db});
  for (int i = 0; i < kRecords; i += 997) {
    INFO(i);
    CHECK(Found(store, i));
  }
  CHECK(Found(store, kRecords - 1));
  CHECK_FALSE(fs::exists(db + ".import-runs"));
  CHECK_FALSE(fs::exists(db + ".import-new"));
}

}  // namespace gosl::test
