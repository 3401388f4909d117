// Replays every input the fuzzers ever crashed on (fuzz/regressions) and
// their seeds through the same target code, under the test suite's build
// (and its ASan+UBSan flavour): a fixed bug stays fixed without clang.
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "../fuzz/targets.hpp"
#include "support/files.hpp"

namespace gosl {
namespace {

std::vector<std::string> Inputs(const std::string& target) {
  std::vector<std::string> files;
  for (const char* kind : {"regressions", "seeds"}) {
    const std::string dir = std::string(GOSL_SOURCE_DIR) + "/fuzz/" + kind + "/" + target;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
      if (entry.is_regular_file() && entry.path().filename() != "README.md") {
        files.push_back(entry.path().string());
      }
    }
  }
  return files;
}

void Replay(const std::string& target, void (*run)(const uint8_t*, size_t)) {
  const std::vector<std::string> files = Inputs(target);
  REQUIRE(files.size() >= 4);
  for (const std::string& file : files) {
    INFO(file);
    const std::string input = test::ReadFile(file);
    // A finding aborts: in a child, so it fails this check, not the suite.
    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      run(reinterpret_cast<const uint8_t*>(input.data()), input.size());
      _exit(0);
    }
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
}

}  // namespace

TEST_CASE("fuzz inputs of the request path still pass", "[fuzz]") {
  Replay("request", fuzz::RequestTarget);
}

TEST_CASE("fuzz inputs of the CSV line parser still pass", "[fuzz]") {
  Replay("csv_line", fuzz::CsvLineTarget);
}

TEST_CASE("fuzz inputs of the peer wire still pass", "[fuzz]") {
  Replay("peer_wire", fuzz::PeerWireTarget);
}

}  // namespace gosl
