// The --shell front end as scripts use it (stdin not a terminal), through
// string streams against a real LevelDB store. The interactive prompt needs a
// terminal: tests/integration/test_shell_pty.cpp drives it through a pty.
#include "gosl/shell.hpp"

#include <sstream>
#include <string>
#include <vector>

#include <memory>

#include <catch2/catch.hpp>
#include <leveldb/db.h>

#include "support/db_holder.hpp"
#include "support/temp_dir.hpp"

namespace gosl {
namespace {

const std::string kMiniKey = "6a6b5a13-1f6e-4c3a-9a3e-0d4c1d2e3f40";
const std::string kNil = "00000000-0000-0000-0000-000000000000";
const std::string kMiniByName =
    "UUID for 'Mini Resident' is: " + kMiniKey + " from grid: 'Production'";
const std::string kMiniByKey =
    "avatar name for '" + kMiniKey + "' is 'Mini Resident' on grid: 'Production'";

// A fresh database holding Mini Resident.
struct Seeded {
  test::TempDir dir;
  Store store{{dir.File("db")}};

  Seeded() { Record("Mini Resident", kMiniKey); }
  void Record(const std::string& name, const std::string& key) {
    REQUIRE(
        store.Record(AvatarName::Parse(name).value(), Uuid::Parse(key).value(), "Production").ok());
  }
};

// What the shell prints for `input` in script mode; it must exit 0.
std::string Answers(Store& store, const std::string& input) {
  std::istringstream in(input);
  std::ostringstream out;
  CHECK(RunShell(store, in, out, false, "") == 0);
  return out.str();
}

std::string UnknownName(const std::string& name) {
  return "UUID for '" + name + "' is: " + kNil + " from grid: ''";
}

}  // namespace

TEST_CASE("a name is answered with its key and grid", "[shell]") {
  Seeded db;
  // Trimmed first, then matched by Second Life's rules, as over HTTP.
  const std::vector<std::string> spellings = {
      "Mini Resident", "mini", "MINI", "  mini  ", "mini\r", "\tmini.resident", "Mini   Resident"};
  for (const std::string& spelling : spellings) {
    INFO("typed: " << spelling);
    CHECK(Answers(db.store, spelling + "\n") == kMiniByName + "\n");
  }
}

TEST_CASE("a key in upper or lower case is answered with its name", "[shell]") {
  Seeded db;
  CHECK(Answers(db.store, "6A6B5A13-1F6E-4C3A-9A3E-0D4C1D2E3F40\n") == kMiniByKey + "\n");
  CHECK(Answers(db.store, kMiniKey + "\n") == kMiniByKey + "\n");
}

TEST_CASE("an unknown name is answered with the nil key", "[shell]") {
  Seeded db;
  CHECK(Answers(db.store, "Nobody Here\n") == UnknownName("Nobody Here") + "\n");
}

// Decided: only a well-formed UUID is a key. The shell does not guess what a
// near-miss meant; it asks for the name, which is unknown, and says so with
// the nil key instead of refusing the line.
TEST_CASE("a line that is almost a key is looked up as a name", "[shell]") {
  Seeded db;
  const std::vector<std::string> near_misses = {
      "6a6b5a13-1f6e-4c3a-9a3e-0d4c1d2e3f4",    // one digit short
      "6a6b5a13-1f6e-4c3a-9a3e-0d4c1d2e3f4g",   // not hex
      "6a6b5a131f6e4c3a9a3e0d4c1d2e3f40",       // no hyphens
      "{6a6b5a13-1f6e-4c3a-9a3e-0d4c1d2e3f40}"  // braced
  };
  for (const std::string& line : near_misses) {
    INFO("typed: " << line);
    CHECK(Answers(db.store, line + "\n") == UnknownName(line) + "\n");
  }
}

TEST_CASE("names with '&', '+', '%' and '=' are looked up as typed", "[shell]") {
  Seeded db;
  // Pairs that a sloppy query string would confuse: '+' read as a space,
  // "%25" decoded to '%', '&' or '=' splitting the parameter.
  struct Row {
    std::string name;
    std::string key;
  };
  const std::vector<Row> rows = {
      {"A&B+C Resident", "11111111-1111-4111-8111-111111111111"},
      {"A&B C Resident", "22222222-2222-4222-8222-222222222222"},
      {"A+B Resident", "33333333-3333-4333-8333-333333333333"},
      {"A B Resident", "44444444-4444-4444-8444-444444444444"},
      {"50%25 Resident", "55555555-5555-4555-8555-555555555555"},
      {"50% Resident", "66666666-6666-4666-8666-666666666666"},
      {"Key=Value Resident", "77777777-7777-4777-8777-777777777777"},
      {"Zo\xC3\xAB R\xC3\xA9sident", "88888888-8888-4888-8888-888888888888"},
  };
  for (const Row& row : rows) db.Record(row.name, row.key);
  for (const Row& row : rows) {
    INFO("typed: " << row.name);
    CHECK(Answers(db.store, row.name + "\n") ==
          "UUID for '" + row.name + "' is: " + row.key + " from grid: 'Production'\n");
  }
}

TEST_CASE("blank lines are skipped and each query gets exactly one line", "[shell]") {
  Seeded db;
  CHECK(Answers(db.store, "\n   \n\t\nmini\n\r\n\n6A6B5A13-1F6E-4C3A-9A3E-0D4C1D2E3F40\n  \n") ==
        kMiniByName + "\n" + kMiniByKey + "\n");
  CHECK(Answers(db.store, "").empty());
  CHECK(Answers(db.store, "\n\n \n").empty());
}

TEST_CASE("the last line is answered even without a newline", "[shell]") {
  Seeded db;
  CHECK(Answers(db.store, "mini") == kMiniByName + "\n");
}

TEST_CASE("quit and exit stop reading and later lines are unanswered", "[shell]") {
  Seeded db;
  for (const std::string word : {"quit", "exit", "  quit \r"}) {
    INFO("typed: " << word);
    std::istringstream in("mini\n" + word + "\nmini\n");
    std::ostringstream out;
    CHECK(RunShell(db.store, in, out, false, "") == 0);
    CHECK(out.str() == kMiniByName + "\n");
    std::string unread;
    CHECK(std::getline(in, unread));
    CHECK(unread == "mini");
  }
  // Any other spelling is a name: an avatar called Quit can be looked up.
  CHECK(Answers(db.store, "Quit\nmini\n") == UnknownName("Quit") + "\n" + kMiniByName + "\n");
}

TEST_CASE("a refused query is answered with its status and reason on one line", "[shell]") {
  Seeded db;
  const std::string long_name(64, 'x');
  struct Row {
    std::string line;
    std::string answer;
  };
  const std::vector<Row> rows = {
      {long_name, "400 name is longer than 63 bytes: '" + std::string(40, 'x') + "...'"},
      {"Bad\xFFName", "400 parameter 'name' is not valid UTF-8"},
      {"Tab\tIn Name", "400 name contains a control character: 'Tab\\x09In Name'"},
      {std::string("Nul\0Name", 8), "400 parameter 'name' contains a NUL byte"},
  };
  // Refusals mixed with answers: the n-th output line answers the n-th query.
  std::string input;
  std::string expected;
  for (const Row& row : rows) {
    input += row.line + "\nmini\n";
    expected += row.answer + "\n" + kMiniByName + "\n";
  }
  CHECK(Answers(db.store, input) == expected);
}

TEST_CASE("a database locked by a process that answers nobody gives 503 for every query",
          "[shell]") {
  test::TempDir dir;
  test::DatabaseHolder holder(dir.File("db"));  // holds LevelDB's lock and answers no peer
  REQUIRE(holder.held());
  StoreOptions options{dir.File("db")};
  options.wait_ms = 50;
  Store busy(options);
  const std::string refused = "503 database '" + dir.File("db") + "' is in use by another process";
  CHECK(Answers(busy, "mini\n" + kMiniKey + "\n") == refused + "\n" + refused + "\n");
}

}  // namespace gosl
