#include "gosl/external_sort.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>

#include <sys/resource.h>

#include <catch2/catch.hpp>

#include "support/temp_dir.hpp"
#include "util/posix_io.hpp"

namespace gosl {
namespace {

using Entries = std::vector<std::pair<std::string, std::string>>;

Entries Merged(const std::vector<std::string>& files, MergeLimits limits = {64, 64}) {
  Entries out;
  Status s = MergeRuns(files, limits, [&out](std::string_view k, std::string_view v) {
    out.emplace_back(std::string(k), std::string(v));
    return Status::OK();
  });
  REQUIRE(s.ok());
  return out;
}

// The merge emitted exactly expected's entries, in key order.
void CheckMergedIs(const Entries& merged, const std::map<std::string, std::string>& expected) {
  REQUIRE(merged.size() == expected.size());
  size_t i = 0;
  for (const auto& [key, value] : expected) {
    CHECK(merged[i].first == key);
    CHECK(merged[i].second == value);
    ++i;
  }
}

std::vector<std::string> FilesIn(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// 3,000 entries over 500 keys, many added several times, in runs of a few
// entries: the expected merge is the last value added for each key.
std::vector<std::string> ManyRuns(const std::string& dir, std::map<std::string, std::string>& expected) {
  RunWriter writer(dir, "t", 256);
  std::mt19937 random(7);
  for (int i = 0; i < 3000; ++i) {
    std::string key = "key" + std::to_string(random() % 500);
    std::string value = "v" + std::to_string(i);
    REQUIRE(writer.Add(key, value).ok());
    expected[key] = value;
  }
  auto files = writer.Finish();
  REQUIRE(files.ok());
  return files.value();
}

// Intermediate runs are named "<first run>.p<pass>.run".
void CheckNoIntermediateRuns(const std::string& dir) {
  for (const std::string& name : FilesIn(dir)) {
    INFO(name);
    CHECK(name.find(".p") == std::string::npos);
  }
}

}  // namespace

TEST_CASE("more runs than may be open at once merge in passes to what one merge gives, and "
          "never read more than the limit at once",
          "[external_sort]") {
  test::TempDir dir;
  std::map<std::string, std::string> expected;
  const std::vector<std::string> files = ManyRuns(dir.path(), expected);
  REQUIRE(files.size() > 100);
  const size_t max_open_runs = GENERATE(2, 3, 7, 64);
  CAPTURE(files.size(), max_open_runs);
  CHECK(MergePasses(files.size(), max_open_runs) > 1);

  const size_t before = posix::OpenFileCount();
  size_t most_open = 0;
  Entries merged;
  Status s = MergeRuns(files, {64, max_open_runs}, [&](std::string_view k, std::string_view v) {
    most_open = std::max(most_open, posix::OpenFileCount());
    merged.emplace_back(std::string(k), std::string(v));
    return Status::OK();
  });
  REQUIRE(s.ok());
  CHECK(most_open <= before + max_open_runs);
  CheckMergedIs(merged, expected);
  // No intermediate run is left; the runs of the last pass are the caller's.
  CheckNoIntermediateRuns(dir.path());
  CHECK(FilesIn(dir.path()).size() <= max_open_runs);
}

TEST_CASE("a merge pass counts", "[external_sort]") {
  CHECK(MergePasses(0, 2) == 1);
  CHECK(MergePasses(64, 64) == 1);
  CHECK(MergePasses(65, 64) == 2);
  CHECK(MergePasses(64 * 64, 64) == 2);
  CHECK(MergePasses(64 * 64 + 1, 64) == 3);
  CHECK(MergePasses(1000, 2) == 10);
}

TEST_CASE("a merge allowed fewer than two open runs is refused; a damaged run in a pass leaves "
          "no intermediate run behind",
          "[external_sort]") {
  test::TempDir dir;
  std::map<std::string, std::string> expected;
  const std::vector<std::string> files = ManyRuns(dir.path(), expected);
  auto ignore = [](std::string_view, std::string_view) { return Status::OK(); };
  Status one = MergeRuns(files, {64, 1}, ignore);
  CHECK(one.code() == Code::kInvalidArgument);
  CHECK(one.message() == "a merge needs at least 2 run files open at once, not 1");

  std::filesystem::resize_file(files.back(), std::filesystem::file_size(files.back()) - 3);
  Status damaged = MergeRuns(files, {64, 4}, ignore);
  CHECK(damaged.code() == Code::kCorruption);
  CHECK(damaged.message() == "run file '" + files.back() + "' is truncated");
  CheckNoIntermediateRuns(dir.path());
}

TEST_CASE("entries spill into runs of bounded size and merge back in key order", "[external_sort]") {
  test::TempDir dir;
  RunWriter writer(dir.path(), "t", 1024);
  std::mt19937 random(11);
  std::map<std::string, std::string> expected;
  for (int i = 0; i < 2000; ++i) {
    std::string key = "key" + std::to_string(random() % 100000);
    std::string value = "v" + std::to_string(i);
    REQUIRE(writer.Add(key, value).ok());
    expected[key] = value;  // the last added wins
  }
  CHECK(writer.entries() == 2000);
  auto files = writer.Finish();
  REQUIRE(files.ok());
  CHECK(files->size() > 20);  // 1 KB runs: many of them
  for (const std::string& file : files.value()) {
    CHECK(std::filesystem::file_size(file) <= 1024);
  }
  const Entries merged = Merged(files.value());
  CheckMergedIs(merged, expected);
}

TEST_CASE("of entries with one key, the one added last wins, within a run and across runs",
          "[external_sort]") {
  test::TempDir dir;
  RunWriter writer(dir.path(), "t", 64);  // a few entries a run
  REQUIRE(writer.Add("b", "first").ok());
  REQUIRE(writer.Add("b", "second").ok());  // same run: replaces
  REQUIRE(writer.Add("a", "1").ok());
  for (int i = 0; i < 10; ++i) REQUIRE(writer.Add("pad" + std::to_string(i), "x").ok());
  REQUIRE(writer.Add("b", "third").ok());  // a later run: wins
  REQUIRE(writer.Add("c", "").ok());       // an empty value is a value
  auto files = writer.Finish();
  REQUIRE(files.ok());
  REQUIRE(files->size() >= 2);
  const Entries merged = Merged(files.value());
  REQUIRE(merged.size() == 13);
  CHECK(merged[0] == std::make_pair(std::string("a"), std::string("1")));
  CHECK(merged[1] == std::make_pair(std::string("b"), std::string("third")));
  CHECK(merged[2] == std::make_pair(std::string("c"), std::string("")));
}

TEST_CASE("keys holding any byte sort as bytes", "[external_sort]") {
  test::TempDir dir;
  RunWriter writer(dir.path(), "t", 1 << 20);
  const std::string keys[] = {std::string("n\0b", 3), std::string("n\0a", 3), "n", "\xff", "k"};
  for (const std::string& key : keys) REQUIRE(writer.Add(key, "v").ok());
  auto files = writer.Finish();
  REQUIRE(files.ok());
  const Entries merged = Merged(files.value());
  REQUIRE(merged.size() == 5);
  CHECK(merged[0].first == "k");
  CHECK(merged[1].first == "n");
  CHECK(merged[2].first == std::string("n\0a", 3));
  CHECK(merged[3].first == std::string("n\0b", 3));
  CHECK(merged[4].first == "\xff");
}

TEST_CASE("entries larger than the read buffer, and keys alike in their first bytes, merge in order",
          "[external_sort]") {
  test::TempDir dir;
  RunWriter writer(dir.path(), "t", 64 << 10);
  std::mt19937 random(5);
  std::map<std::string, std::string> expected;
  for (int i = 0; i < 400; ++i) {
    // Keys share 12 bytes or more, so the merge orders them past any prefix.
    std::string key = "same-prefix-" + std::string(random() % 3, 'x') + std::to_string(random() % 300);
    std::string value(random() % 5000, static_cast<char>('a' + i % 26));
    REQUIRE(writer.Add(key, value).ok());
    expected[key] = value;
  }
  auto files = writer.Finish();
  REQUIRE(files.ok());
  REQUIRE(files->size() > 4);
  for (size_t buffer : {size_t{1}, size_t{64}, size_t{4096}}) {
    INFO("read buffer " << buffer);
    const Entries merged = Merged(files.value(), {buffer, 64});
    CheckMergedIs(merged, expected);
  }
}

TEST_CASE("a run whose length field is damaged is truncation, without a buffer of that size",
          "[external_sort]") {
  test::TempDir dir;
  // A key length of 3 GB in a 20-byte file: the reader must not try to hold it.
  const uint32_t lengths[2] = {3u << 30, 1};
  std::string bytes(reinterpret_cast<const char*>(lengths), sizeof lengths);
  bytes += "key and value";
  const std::string run = dir.File("t-0.run");
  std::ofstream(run, std::ios::binary) << bytes;
  rusage before{}, after{};
  getrusage(RUSAGE_SELF, &before);
  Status s = MergeRuns({run}, MergeLimits{64, 64}, [](std::string_view, std::string_view) {
    return Status::OK();
  });
  getrusage(RUSAGE_SELF, &after);
  CHECK(s.code() == Code::kCorruption);
  CHECK(s.message() == "run file '" + run + "' is truncated");
  CHECK(after.ru_maxrss - before.ru_maxrss < 256 * 1024);  // KB: nowhere near 3 GB
}

TEST_CASE("no entries make no runs; a merge of none emits nothing", "[external_sort]") {
  test::TempDir dir;
  RunWriter writer(dir.path(), "t", 1024);
  auto files = writer.Finish();
  REQUIRE(files.ok());
  CHECK(files->empty());
  CHECK(Merged({}).empty());
}

TEST_CASE("a damaged run is refused naming it; emit's failure stops the merge", "[external_sort]") {
  test::TempDir dir;
  RunWriter writer(dir.path(), "t", 1 << 20);
  for (int i = 0; i < 10; ++i) REQUIRE(writer.Add("key" + std::to_string(i), "value").ok());
  auto files = writer.Finish();
  REQUIRE(files.ok());
  REQUIRE(files->size() == 1);
  const std::string run = files->front();

  int emitted = 0;
  Status stopped = MergeRuns(files.value(), MergeLimits{64, 64}, [&emitted](std::string_view, std::string_view) {
    return ++emitted == 3 ? Status::IOError("disk full") : Status::OK();
  });
  CHECK(stopped.message() == "disk full");
  CHECK(emitted == 3);

  std::filesystem::resize_file(run, std::filesystem::file_size(run) - 3);
  Status truncated = MergeRuns(files.value(), MergeLimits{64, 64}, [](std::string_view, std::string_view) {
    return Status::OK();
  });
  CHECK(truncated.code() == Code::kCorruption);
  CHECK(truncated.message() == "run file '" + run + "' is truncated");

  Status missing = MergeRuns({dir.File("nope.run")}, MergeLimits{64, 64}, [](std::string_view, std::string_view) {
    return Status::OK();
  });
  CHECK(missing.code() == Code::kIOError);
  CHECK(missing.message().find("cannot read run file '" + dir.File("nope.run") + "'") == 0);
}

TEST_CASE("a run that cannot be written is an I/O error naming it", "[external_sort]") {
  test::TempDir dir;
  RunWriter writer(dir.File("no/such/dir"), "t", 64);
  Status s;
  for (int i = 0; i < 20 && s.ok(); ++i) s = writer.Add("key" + std::to_string(i), "value");
  if (s.ok()) s = writer.Finish().status();
  CHECK(s.code() == Code::kIOError);
  CHECK(s.message().find("cannot create run file") == 0);
}

}  // namespace gosl
