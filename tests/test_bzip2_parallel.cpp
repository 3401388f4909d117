// The bzip2 decoder that works on several threads, against the bzip2
// program itself: every file must read back byte for byte as `bzip2 -dc`
// reads it, whatever the number of threads, the block size, the number of
// streams, and false block boundaries cut into the data.
#include "compression/bzip2_parallel.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "support/files.hpp"
#include "support/temp_dir.hpp"

namespace gosl::compression_internal {
namespace {

void Run(const std::string& command) {
  INFO(command);
  REQUIRE(std::system(command.c_str()) == 0);
}

struct Decoded {
  std::string text;
  Status status;
};

// Reads path through the decoder in pieces of `piece` bytes.
Decoded Decode(const std::string& path, size_t workers, std::vector<uint64_t> false_boundaries = {},
               size_t piece = 4096) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  // As the line reader does: the first bytes were read to see the magic.
  std::string head(6, '\0');
  head.resize(static_cast<size_t>(std::max<ssize_t>(::read(fd, head.data(), head.size()), 0)));
  Decoded out;
  {
    ParallelBzip2Decoder decoder(fd, path, head, workers);
    decoder.AddFalseBoundariesForTest(std::move(false_boundaries));
    std::string buffer(piece, '\0');
    while (size_t n = decoder.Read(buffer.data(), buffer.size())) out.text.append(buffer.data(), n);
    out.status = decoder.status();
  }
  ::close(fd);
  return out;
}

// What the bzip2 program reads from path.
std::string Reference(const test::TempDir& dir, const std::string& path) {
  Run("bzip2 -dc '" + path + "' > '" + dir.File("reference") + "'");
  return test::ReadFile(dir.File("reference"));
}

// Text files of several kinds, each compressed at several block sizes.
std::vector<std::string> SampleFiles(const test::TempDir& dir) {
  std::mt19937 random(5);
  std::string lines, binary, runs, magic;
  for (int i = 0; i < 40000; ++i) {
    lines += "6a6b5a13-1f6e-4c3a-9a3e-" + std::to_string(100000000000 + random() % 899999999999) +
             ",Avatar" + std::to_string(random() % 1000000) + " Resident\n";
  }
  for (int i = 0; i < 300000; ++i) binary += static_cast<char>(random());
  for (int i = 0; i < 200; ++i) runs += std::string(5000 + random() % 5000, static_cast<char>('a' + i % 26));
  // Both magic numbers as bytes of the text: the compressed data does not
  // hold them, but nothing must be fooled by text that does.
  for (int i = 0; i < 30000; ++i) magic += "1AY&SY\x17rE8P\x90" + std::to_string(i) + "\n";
  test::WriteFile(dir.File("lines"), lines);
  test::WriteFile(dir.File("binary"), binary);
  test::WriteFile(dir.File("runs"), runs);
  test::WriteFile(dir.File("magic"), magic);
  test::WriteFile(dir.File("empty"), "");
  test::WriteFile(dir.File("one"), "0f0e0d0c-0b0a-4909-8807-060504030201,Legacy Linden\n");
  std::vector<std::string> files;
  for (const char* name : {"lines", "binary", "runs", "magic", "empty", "one"}) {
    for (const char* level : {"-1", "-9"}) {
      const std::string path = dir.File(std::string(name) + level + ".bz2");
      Run(std::string("bzip2 ") + level + " -c '" + dir.File(name) + "' > '" + path + "'");
      files.push_back(path);
    }
  }
  // Several streams one after the other, an empty one among them (pbzip2
  // and `cat a.bz2 b.bz2` make such files).
  Run("cat '" + dir.File("lines-1.bz2") + "' '" + dir.File("empty-9.bz2") + "' '" +
      dir.File("magic-9.bz2") + "' '" + dir.File("one-1.bz2") + "' > '" + dir.File("streams.bz2") + "'");
  files.push_back(dir.File("streams.bz2"));
  return files;
}

}  // namespace

TEST_CASE("bzip2 decoded on several threads is byte for byte what the bzip2 program reads",
          "[compression][bzip2]") {
  test::TempDir dir;
  for (const std::string& path : SampleFiles(dir)) {
    const std::string expected = Reference(dir, path);
    for (size_t workers : {1, 2, 4}) {
      INFO(path << ", " << workers << " workers");
      const Decoded decoded = Decode(path, workers, {}, workers == 2 ? 100 : 65536);
      CHECK(decoded.status.ok());
      CHECK(decoded.text.size() == expected.size());
      CHECK(decoded.text == expected);
    }
  }
}

TEST_CASE("a block cut by a false boundary is decoded joined, whatever the cut",
          "[compression][bzip2]") {
  test::TempDir dir;
  std::mt19937_64 random(9);
  for (const std::string& path : SampleFiles(dir)) {
    const std::string expected = Reference(dir, path);
    const uint64_t bits = std::filesystem::file_size(path) * 8;
    // Random cuts, two cuts close together, and cuts right after the header.
    std::vector<uint64_t> cuts;
    for (int i = 0; i < 12; ++i) cuts.push_back(33 + random() % (bits - 33));
    cuts.push_back(cuts.front() + 1);
    cuts.push_back(cuts.front() + 50);
    cuts.push_back(33);
    cuts.push_back(80);
    INFO(path);
    const Decoded decoded = Decode(path, 2, cuts);
    CHECK(decoded.status.ok());
    CHECK(decoded.text == expected);
  }
}

TEST_CASE("damage anywhere in a bzip2 file is refused, naming the file, after the text before it",
          "[compression][bzip2]") {
  test::TempDir dir;
  SampleFiles(dir);
  const std::string whole = test::ReadFile(dir.File("lines-1.bz2"));  // ~20 blocks of 100 KB
  const std::string expected = Reference(dir, dir.File("lines-1.bz2"));
  const struct {
    const char* how;
    size_t at;           // byte changed or where the file is cut
    bool cut;            // cut there rather than a byte flipped
    const char* saying;  // in the message
  } kCases[] = {
      {"a byte flipped at 30 %", whole.size() * 3 / 10, false, "corrupt"},
      {"a byte flipped in the stream's CRC", whole.size() - 2, false, "corrupt"},
      {"a byte flipped in the first block's magic", 5, false, "corrupt"},
      {"cut at 70 %", whole.size() * 7 / 10, true, "truncated"},
      {"cut inside the stream's CRC", whole.size() - 2, true, "truncated"},
      {"cut after the header", 4, true, "truncated"},
  };
  for (const auto& c : kCases) {
    INFO(c.how);
    std::string bytes = whole;
    if (c.cut) {
      bytes.resize(c.at);
    } else {
      bytes[c.at] = static_cast<char>(~bytes[c.at]);
    }
    const std::string path = dir.File("damaged.bz2");
    test::WriteFile(path, bytes);
    const Decoded decoded = Decode(path, 2);
    CHECK(decoded.status.code() == Code::kCorruption);
    CHECK_THAT(decoded.status.message(), Catch::Contains(path) && Catch::Contains(c.saying));
    // What came out is the text before the damage, block by block.
    CHECK(decoded.text.size() <= expected.size());
    CHECK(expected.compare(0, decoded.text.size(), decoded.text) == 0);
  }
  // Anything after the last stream that is not another stream is damage too.
  test::WriteFile(dir.File("trailing.bz2"), whole + "not bzip2");
  const Decoded trailing = Decode(dir.File("trailing.bz2"), 2);
  CHECK(trailing.status.code() == Code::kCorruption);
  CHECK(trailing.text == expected);
}

}  // namespace gosl::compression_internal
