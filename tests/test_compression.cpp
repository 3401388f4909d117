#include "gosl/compression.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "support/files.hpp"
#include "support/temp_dir.hpp"

namespace gosl {
namespace {

// Every kind of line the reader must hand back unchanged.
const std::vector<std::string> kLines = {
    "6a6b5a13-1f6e-4c3a-9a3e-0d4c1d2e3f40,Mini Resident",
    "",
    "0f0e0d0c-0b0a-4909-8807-060504030201,Crlf Resident\r",
    "c0ffee00-1234-4abc-8def-0123456789ab,Zo\xC3\xAB \xE5\x90\x8D\xE5\x89\x8D",
    "c0ffee00-1234-4abc-8def-0123456789ac,No Newline At End",
};

std::string Joined(const std::vector<std::string>& lines, bool final_newline) {
  std::string text;
  for (size_t i = 0; i < lines.size(); ++i) {
    text += lines[i];
    if (i + 1 < lines.size() || final_newline) text += '\n';
  }
  return text;
}

// "uuid,Name Resident" lines like W-Hat's, the same for the same seed.
std::vector<std::string> GeneratedLines(size_t count, unsigned seed) {
  std::mt19937 random(seed);
  std::vector<std::string> lines;
  lines.reserve(count);
  char buffer[96];
  for (size_t i = 0; i < count; ++i) {
    const auto high = static_cast<unsigned>(random());
    const auto middle = static_cast<unsigned>(random());
    const auto low = static_cast<unsigned>(random());
    std::snprintf(buffer, sizeof buffer, "%08x-%04x-4%03x-%04x-%08x%04x,Name%zu Resident", high,
                  middle >> 16, middle & 0xfff, (low >> 16 & 0x3fff) | 0x8000, high ^ low,
                  low & 0xffff, i);
    lines.emplace_back(buffer);
  }
  return lines;
}

struct ReadOutcome {
  std::vector<std::string> lines;
  Status status;
  Compression compression = Compression::kNone;
  uint64_t long_lines = 0;
};

// chunk_bytes 0: line by line (Next); otherwise with NextLines, asking for
// chunk_bytes at a time, its text split back into lines.
ReadOutcome ReadWith(const std::string& path, size_t chunk_bytes) {
  auto reader = LineReader::Open(path);
  REQUIRE(reader.ok());
  ReadOutcome outcome;
  outcome.compression = reader.value()->compression();
  if (chunk_bytes == 0) {
    for (std::string line; reader.value()->Next(line);) outcome.lines.push_back(line);
  } else {
    for (std::string text; reader.value()->NextLines(text, chunk_bytes) > 0; text.clear()) {
      REQUIRE(text.back() == '\n');
      for (size_t begin = 0; begin < text.size();) {
        const size_t end = text.find('\n', begin);
        outcome.lines.push_back(text.substr(begin, end - begin));
        begin = end + 1;
      }
    }
  }
  outcome.status = reader.value()->status();
  outcome.long_lines = reader.value()->long_lines();
  return outcome;
}

// Reads the file line by line, and requires NextLines to give the same
// lines, status and count of long lines whatever it is asked for at a time.
ReadOutcome ReadAll(const std::string& path) {
  ReadOutcome by_line = ReadWith(path, 0);
  for (size_t chunk_bytes : {size_t{1}, size_t{100}, size_t{70000}, size_t{1} << 20}) {
    INFO("NextLines asking for " << chunk_bytes << " bytes at a time");
    ReadOutcome by_chunk = ReadWith(path, chunk_bytes);
    CHECK(by_chunk.lines == by_line.lines);
    CHECK(by_chunk.status.code() == by_line.status.code());
    CHECK(by_chunk.status.message() == by_line.status.message());
    CHECK(by_chunk.long_lines == by_line.long_lines);
  }
  return by_line;
}

void WriteLines(const std::string& path, const std::vector<std::string>& lines) {
  auto writer = LineWriter::Create(path);
  REQUIRE(writer.ok());
  for (const std::string& line : lines) REQUIRE(writer.value()->WriteLine(line).ok());
  REQUIRE(writer.value()->Close().ok());
}

// Runs a shell command (the real gzip, bzip2, cat) and requires success.
void Run(const std::string& command) {
  INFO(command);
  REQUIRE(std::system(command.c_str()) == 0);
}

void FlipByte(const std::string& path, size_t offset) {
  std::string bytes = test::ReadFile(path);
  REQUIRE(offset < bytes.size());
  bytes[offset] = static_cast<char>(~bytes[offset]);
  test::WriteFile(path, bytes);
}

bool StartsWith(const std::vector<std::string>& lines, const std::vector<std::string>& prefix) {
  return prefix.size() <= lines.size() && std::equal(prefix.begin(), prefix.end(), lines.begin());
}

}  // namespace

TEST_CASE("the compression a file name asks for is read from its extension", "[compression]") {
  const struct {
    const char* path;
    Compression expected;
  } kCases[] = {
      {"export.csv.gz", Compression::kGzip},
      {"export.csv.bz2", Compression::kBzip2},
      {"EXPORT.CSV.GZ", Compression::kGzip},
      {"/tmp/a.b/export.Bz2", Compression::kBzip2},
      {"export.csv", Compression::kNone},
      {"export", Compression::kNone},
      {"export.gz.csv", Compression::kNone},
      {"export.bz", Compression::kNone},
      {"gz", Compression::kNone},
      {"", Compression::kNone},
  };
  for (const auto& c : kCases) {
    INFO(c.path);
    CHECK(CompressionForName(c.path) == c.expected);
  }
}

TEST_CASE("the same lines come back from plain, gzip and bzip2 files, ours and the tools'",
          "[compression]") {
  test::TempDir dir;
  const std::string source = dir.File("source.txt");
  test::WriteFile(source, Joined(kLines, /*final_newline=*/false));
  const struct {
    const char* how;
    std::string path;
    Compression expected;
    std::function<void(const std::string&)> make;
  } kCases[] = {
      {"plain, written directly", source, Compression::kNone, [](const std::string&) {}},
      {"plain, by LineWriter", dir.File("ours.csv"), Compression::kNone,
       [](const std::string& path) { WriteLines(path, kLines); }},
      {"gzip, by LineWriter", dir.File("ours.csv.gz"), Compression::kGzip,
       [](const std::string& path) { WriteLines(path, kLines); }},
      {"bzip2, by LineWriter", dir.File("ours.csv.bz2"), Compression::kBzip2,
       [](const std::string& path) { WriteLines(path, kLines); }},
      {"gzip, by the gzip program", dir.File("tool.csv.gz"), Compression::kGzip,
       [&](const std::string& path) { Run("gzip -c '" + source + "' > '" + path + "'"); }},
      {"gzip -1, by the gzip program", dir.File("tool1.csv.gz"), Compression::kGzip,
       [&](const std::string& path) { Run("gzip -1 -c '" + source + "' > '" + path + "'"); }},
      {"bzip2, by the bzip2 program", dir.File("tool.csv.bz2"), Compression::kBzip2,
       [&](const std::string& path) { Run("bzip2 -c '" + source + "' > '" + path + "'"); }},
      {"bzip2 -1, by the bzip2 program", dir.File("tool1.csv.bz2"), Compression::kBzip2,
       [&](const std::string& path) { Run("bzip2 -1 -c '" + source + "' > '" + path + "'"); }},
  };
  for (const auto& c : kCases) {
    INFO(c.how);
    c.make(c.path);
    ReadOutcome read = ReadAll(c.path);
    CHECK(read.status.ok());
    CHECK(read.compression == c.expected);
    CHECK(read.lines == kLines);
    CHECK(read.long_lines == 0);
  }
}

TEST_CASE("files written by LineWriter are what the gzip and bzip2 programs read",
          "[compression]") {
  test::TempDir dir;
  const std::string expected = Joined(kLines, /*final_newline=*/true);
  const struct {
    const char* name;
    const char* decompress;
  } kCases[] = {{"out.csv.gz", "gzip -dc"}, {"out.csv.bz2", "bzip2 -dc"}, {"out.csv", "cat"}};
  for (const auto& c : kCases) {
    INFO(c.name);
    WriteLines(dir.File(c.name), kLines);
    Run(std::string(c.decompress) + " '" + dir.File(c.name) + "' > '" + dir.File("check") + "'");
    CHECK(test::ReadFile(dir.File("check")) == expected);
  }
  // Really compressed, not plain text under a compressed name.
  CHECK(test::ReadFile(dir.File("out.csv.gz")).substr(0, 2) == "\x1f\x8b");
  CHECK(test::ReadFile(dir.File("out.csv.bz2")).substr(0, 4) == "BZh9");
}

TEST_CASE("compression is detected from the first bytes, not from the file name", "[compression]") {
  test::TempDir dir;
  const std::string source = dir.File("source.txt");
  test::WriteFile(source, Joined(kLines, /*final_newline=*/true));
  Run("gzip -c '" + source + "' > '" + dir.File("gzip-inside.csv") + "'");
  Run("bzip2 -c '" + source + "' > '" + dir.File("bzip2-inside.gz") + "'");
  Run("cp '" + source + "' '" + dir.File("plain-inside.bz2") + "'");
  test::WriteFile(dir.File("almost-bzip2.txt"), "BZhang Resident\nBZh\n");
  const struct {
    const char* name;
    Compression expected;
    std::vector<std::string> lines;
  } kCases[] = {
      {"gzip-inside.csv", Compression::kGzip, kLines},
      {"bzip2-inside.gz", Compression::kBzip2, kLines},
      {"plain-inside.bz2", Compression::kNone, kLines},
      {"almost-bzip2.txt", Compression::kNone, {"BZhang Resident", "BZh"}},
  };
  for (const auto& c : kCases) {
    INFO(c.name);
    ReadOutcome read = ReadAll(dir.File(c.name));
    CHECK(read.status.ok());
    CHECK(read.compression == c.expected);
    CHECK(read.lines == c.lines);
  }
}

TEST_CASE("concatenated bzip2 streams and gzip members are read to the end", "[compression]") {
  test::TempDir dir;
  const std::vector<std::string> first = GeneratedLines(3000, 1);
  const std::vector<std::string> second = GeneratedLines(2000, 2);
  std::vector<std::string> both = first;
  both.insert(both.end(), second.begin(), second.end());
  test::WriteFile(dir.File("a"), Joined(first, true));
  test::WriteFile(dir.File("b"), Joined(second, true));
  test::WriteFile(dir.File("empty"), "");
  for (const char* tool : {"gzip", "bzip2"}) {
    INFO(tool);
    for (const char* part : {"a", "b", "empty"}) {
      Run(std::string(tool) + " -c '" + dir.File(part) + "' > '" + dir.File(part) + ".z'");
    }
    // An empty stream in the middle must not end the file either.
    Run("cat '" + dir.File("a.z") + "' '" + dir.File("empty.z") + "' '" + dir.File("b.z") +
        "' > '" + dir.File("ab.z") + "'");
    ReadOutcome read = ReadAll(dir.File("ab.z"));
    CHECK(read.status.ok());
    CHECK(read.lines.size() == both.size());
    CHECK(read.lines == both);
  }

  SECTION("one stream per line, as a parallel compressor writes one per block") {
    std::string cat = "cat";
    for (int i = 0; i < 30; ++i) {
      const std::string part = dir.File("line" + std::to_string(i));
      test::WriteFile(part, both[i] + "\n");
      Run("bzip2 '" + part + "'");
      cat += " '" + part + ".bz2'";
    }
    Run(cat + " > '" + dir.File("many.bz2") + "'");
    ReadOutcome read = ReadAll(dir.File("many.bz2"));
    CHECK(read.status.ok());
    CHECK(read.lines == std::vector<std::string>(both.begin(), both.begin() + 30));
  }
}

TEST_CASE("a truncated bzip2 or gzip file is corruption saying truncated, after the lines before",
          "[compression]") {
  test::TempDir dir;
  // About 1 MB of text: bzip2 -1 cuts it into ~10 blocks of 100 KB, so the
  // blocks before the cut still decode.
  const std::vector<std::string> lines = GeneratedLines(20000, 3);
  test::WriteFile(dir.File("source"), Joined(lines, true));
  Run("gzip -c '" + dir.File("source") + "' > '" + dir.File("whole.gz") + "'");
  Run("bzip2 -1 -c '" + dir.File("source") + "' > '" + dir.File("whole.bz2") + "'");
  const auto gz_size = std::filesystem::file_size(dir.File("whole.gz"));
  const auto bz2_size = std::filesystem::file_size(dir.File("whole.bz2"));
  const struct {
    const char* how;
    const char* whole;
    uintmax_t size;
    bool some_lines;  // lines are expected before the error
    bool all_lines;   // every line is expected before the error
  } kCases[] = {
      {"gzip cut at 60%", "whole.gz", gz_size * 6 / 10, true, false},
      {"gzip without its 8-byte trailer", "whole.gz", gz_size - 8, true, true},
      {"gzip cut inside its header", "whole.gz", 5, false, false},
      {"bzip2 cut at 60%", "whole.bz2", bz2_size * 6 / 10, true, false},
      // The last block decodes whole; only the stream end is missing.
      {"bzip2 without its end-of-stream marker", "whole.bz2", bz2_size - 10, true, true},
      {"bzip2 cut after its magic", "whole.bz2", 4, false, false},
  };
  for (const auto& c : kCases) {
    INFO(c.how);
    const std::string cut = dir.File("cut");
    Run("cp '" + dir.File(c.whole) + "' '" + cut + "'");
    std::filesystem::resize_file(cut, c.size);
    ReadOutcome read = ReadAll(cut);
    CHECK(read.status.code() == Code::kCorruption);
    CHECK_THAT(read.status.message(), Catch::Contains("truncated") && Catch::Contains(cut));
    CHECK(StartsWith(lines, read.lines));
    if (c.all_lines) {
      CHECK(read.lines.size() == lines.size());
    } else {
      CHECK(read.lines.size() < lines.size());
    }
    if (c.some_lines) CHECK(read.lines.size() > 1000);
  }
}

TEST_CASE("a flipped byte in a bzip2 or gzip file is corruption", "[compression]") {
  test::TempDir dir;
  const std::vector<std::string> lines = GeneratedLines(20000, 4);
  test::WriteFile(dir.File("source"), Joined(lines, true));
  const struct {
    const char* name;
    const char* compress;
    size_t intact_lines;  // lines from blocks before the damaged one, which must come out
  } kCases[] = {
      {"damaged.gz", "gzip", 0},
      {"damaged.bz2", "bzip2", 0},
      // About eleven 100 KB blocks with the damage at 55%: at least the first
      // four blocks (60-byte lines) come out intact before the error.
      {"damaged-1.bz2", "bzip2 -1", 4 * 100000 / 60},
  };
  for (const auto& c : kCases) {
    INFO(c.name);
    const std::string path = dir.File(c.name);
    Run(std::string(c.compress) + " -c '" + dir.File("source") + "' > '" + path + "'");
    FlipByte(path, std::filesystem::file_size(path) * 55 / 100);
    ReadOutcome read = ReadAll(path);
    CHECK(read.status.code() == Code::kCorruption);
    CHECK_THAT(read.status.message(), Catch::Contains(path) && Catch::Contains("corrupt"));
    // Checksums are verified after a block's text is out, so damaged text may
    // precede the error; but the file never reads back as it was.
    CHECK(read.lines != lines);
    REQUIRE(read.lines.size() >= c.intact_lines);
    CHECK(std::equal(lines.begin(), lines.begin() + c.intact_lines, read.lines.begin()));
  }
}

TEST_CASE("an empty file, plain or compressed, gives no lines and ok", "[compression]") {
  test::TempDir dir;
  test::WriteFile(dir.File("empty.csv"), "");
  Run("gzip -c '" + dir.File("empty.csv") + "' > '" + dir.File("empty.csv.gz") + "'");
  Run("bzip2 -c '" + dir.File("empty.csv") + "' > '" + dir.File("empty.csv.bz2") + "'");
  WriteLines(dir.File("ours.csv.bz2"), {});
  const struct {
    const char* name;
    Compression expected;
  } kCases[] = {{"empty.csv", Compression::kNone},
                {"empty.csv.gz", Compression::kGzip},
                {"empty.csv.bz2", Compression::kBzip2},
                {"ours.csv.bz2", Compression::kBzip2}};
  for (const auto& c : kCases) {
    INFO(c.name);
    auto reader = LineReader::Open(dir.File(c.name));
    REQUIRE(reader.ok());
    std::string line = "untouched";
    CHECK_FALSE(reader.value()->Next(line));
    CHECK_FALSE(reader.value()->Next(line));  // and stays at the end
    CHECK(reader.value()->status().ok());
    CHECK(reader.value()->compression() == c.expected);
    CHECK(reader.value()->bytes_consumed() == reader.value()->file_size());
  }
}

TEST_CASE("a missing file or a directory is refused with an I/O error naming it", "[compression]") {
  test::TempDir dir;
  auto missing = LineReader::Open(dir.File("none.csv.bz2"));
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == Code::kIOError);
  CHECK(missing.status().message() ==
        "cannot open '" + dir.File("none.csv.bz2") + "': No such file or directory");

  auto directory = LineReader::Open(dir.path());
  REQUIRE_FALSE(directory.ok());
  CHECK(directory.status().code() == Code::kIOError);
  CHECK(directory.status().message() == "cannot open '" + dir.path() + "': Is a directory");
}

TEST_CASE("a line longer than 64 KB is skipped whole and counted", "[compression]") {
  test::TempDir dir;
  const std::string huge(100 * 1024, 'x');
  const std::string longest(LineReader::kMaxLineBytes, 'y');
  const struct {
    const char* how;
    std::string text;
    std::vector<std::string> lines;
    uint64_t long_lines;
  } kCases[] = {
      {"last, without newline", "a\n" + huge, {"a"}, 1},
      {"in the middle", "a\n" + huge + "\nb\n", {"a", "b"}, 1},
      {"two in a row", huge + "\n" + huge + "\r\nc", {"c"}, 2},
      {"first, then a long run", huge + "\n" + std::string(300000, 'z') + "\nd\n", {"d"}, 2},
      {"exactly the limit is kept", longest + "\n" + longest, {longest, longest}, 0},
      {"one byte over is not", longest + "y\ne\n", {"e"}, 1},
  };
  for (const auto& c : kCases) {
    INFO(c.how);
    test::WriteFile(dir.File("long.txt"), c.text);
    Run("bzip2 -c '" + dir.File("long.txt") + "' > '" + dir.File("long.txt.bz2") + "'");
    for (const char* name : {"long.txt", "long.txt.bz2"}) {
      INFO(name);
      ReadOutcome read = ReadAll(dir.File(name));
      CHECK(read.status.ok());
      CHECK(read.lines == c.lines);
      CHECK(read.long_lines == c.long_lines);
    }
  }
}

TEST_CASE("200,000 generated lines make the round trip through each compression", "[compression]") {
  test::TempDir dir;
  const std::vector<std::string> lines = GeneratedLines(200000, 5);
  for (const char* name : {"round.csv", "round.csv.gz", "round.csv.bz2"}) {
    INFO(name);
    const std::string path = dir.File(name);
    WriteLines(path, lines);
    auto reader = LineReader::Open(path);
    REQUIRE(reader.ok());
    LineReader& in = *reader.value();
    CHECK(in.compression() == CompressionForName(path));
    CHECK(in.file_size() == std::filesystem::file_size(path));
    std::vector<std::string> read;
    read.reserve(lines.size());
    uint64_t last_consumed = 0;
    bool consumed_grows_within_size = true;
    for (std::string line; in.Next(line);) {
      read.push_back(line);
      if (in.bytes_consumed() < last_consumed || in.bytes_consumed() > in.file_size()) {
        consumed_grows_within_size = false;
      }
      last_consumed = in.bytes_consumed();
    }
    CHECK(in.status().ok());
    CHECK(consumed_grows_within_size);
    CHECK(in.bytes_consumed() == in.file_size());
    CHECK(read.size() == lines.size());
    CHECK(read == lines);
  }
}

TEST_CASE("a writer only replaces the file when it is closed", "[compression]") {
  test::TempDir dir;
  const std::string path = dir.File("export.csv.bz2");
  test::WriteFile(path, "old\n");

  SECTION("without Close, the old file stays and no temporary file is left") {
    {
      auto writer = LineWriter::Create(path);
      REQUIRE(writer.ok());
      for (const auto& line : GeneratedLines(20000, 6))
        REQUIRE(writer.value()->WriteLine(line).ok());
      CHECK(std::filesystem::exists(path + ".tmp"));
    }
    CHECK(test::ReadFile(path) == "old\n");
    CHECK_FALSE(std::filesystem::exists(path + ".tmp"));
  }
  SECTION("without Close, no file appears under a new name") {
    const std::string fresh = dir.File("fresh.csv.gz");
    { REQUIRE(LineWriter::Create(fresh).ok()); }
    CHECK_FALSE(std::filesystem::exists(fresh));
    CHECK_FALSE(std::filesystem::exists(fresh + ".tmp"));
  }
  SECTION("after Close, the new file is in place, alone, and later writes are refused") {
    auto writer = LineWriter::Create(path);
    REQUIRE(writer.ok());
    REQUIRE(writer.value()->WriteLine("new").ok());
    CHECK(test::ReadFile(path) == "old\n");
    REQUIRE(writer.value()->Close().ok());
    CHECK(writer.value()->Close().ok());
    CHECK(writer.value()->WriteLine("late").code() == Code::kIOError);
    CHECK(ReadAll(path).lines == std::vector<std::string>{"new"});
    CHECK_FALSE(std::filesystem::exists(path + ".tmp"));
  }
  SECTION("a failed rename is an I/O error, and the temporary file goes") {
    const std::string occupied = dir.File("occupied.csv");
    std::filesystem::create_directory(occupied);
    auto writer = LineWriter::Create(occupied);
    REQUIRE(writer.ok());
    REQUIRE(writer.value()->WriteLine("text").ok());
    Status closed = writer.value()->Close();
    CHECK(closed.code() == Code::kIOError);
    CHECK_THAT(closed.message(),
               Catch::StartsWith("cannot rename '" + occupied + ".tmp' to '" + occupied + "': "));
    CHECK(std::filesystem::is_directory(occupied));
    CHECK_FALSE(std::filesystem::exists(occupied + ".tmp"));
  }
  SECTION("a file that cannot be created is an I/O error naming it") {
    const std::string nowhere = dir.File("no-such-dir/export.csv");
    auto writer = LineWriter::Create(nowhere);
    REQUIRE_FALSE(writer.ok());
    CHECK(writer.status().code() == Code::kIOError);
    CHECK(writer.status().message() ==
          "cannot create '" + nowhere + ".tmp': No such file or directory");
  }
}

}  // namespace gosl
