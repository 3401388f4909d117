// Names per grid (issue 7): one name on several grids with several keys, the
// caller's grid answered first, then Production, then the grid that recorded
// the name last; grid= and grid=*; Hypergrid names; old databases.
#include <filesystem>

#include <catch2/catch.hpp>

#include "gosl/dispatcher.hpp"
#include "gosl/importer.hpp"
#include "support/files.hpp"
#include "support/temp_dir.hpp"

namespace gosl {
namespace {

const std::string kSl = "11111111-0000-4000-8000-000000000001";
const std::string kOs = "22222222-0000-4000-8000-000000000002";
const std::string kMetro = "33333333-0000-4000-8000-000000000003";

// Answers a GET as a script on `grid` would send it (empty: no header).
Response Ask(Store& store, const std::string& query, const std::string& grid = "") {
  Request request;
  request.query = query;
  request.grid = grid;
  return Handle(request, store);
}

// "Same Name" on Production, OSGrid and Metropolis, with three keys.
void RecordThreeGrids(Store& store) {
  REQUIRE(Ask(store, "name=Same+Name&key=" + kSl, "Production").status == 200);
  REQUIRE(Ask(store, "name=Same+Name&key=" + kOs, "OSGrid").status == 200);
  REQUIRE(Ask(store, "name=Same+Name&key=" + kMetro, "Metropolis").status == 200);
}

}  // namespace

TEST_CASE("one name on three grids answers each grid's key to its own scripts", "[grids]") {
  test::TempDir dir;
  Store store({dir.File("db")});
  RecordThreeGrids(store);
  CHECK(Ask(store, "name=Same+Name", "Production").body == kSl);
  CHECK(Ask(store, "name=Same+Name", "OSGrid").body == kOs);
  CHECK(Ask(store, "name=same.name", "Metropolis").body == kMetro);
  CHECK(Ask(store, "name=Same+Name&compat=false", "OSGrid").body ==
        "UUID for 'Same Name' is: " + kOs + " from grid: 'OSGrid'");
  // key -> name is unaffected, and says the grid.
  CHECK(Ask(store, "key=" + kMetro + "&compat=false").body ==
        "avatar name for '" + kMetro + "' is 'Same Name' on grid: 'Metropolis'");
}

TEST_CASE("a grid without the name falls back to Production, then the latest grid", "[grids]") {
  test::TempDir dir;
  Store store({dir.File("db")});
  RecordThreeGrids(store);
  CHECK(Ask(store, "name=Same+Name", "Other Grid").body == kSl);  // Production first
  CHECK(Ask(store, "name=Same+Name").body == kSl);                // no header: the same

  REQUIRE(Ask(store, "name=Only+Open&key=" + kOs, "OSGrid").status == 200);
  REQUIRE(Ask(store, "name=Only+Open&key=" + kMetro, "Metropolis").status == 200);
  CHECK(Ask(store, "name=Only+Open", "Production").body == kMetro);  // most recent grid
  REQUIRE(Ask(store, "name=Only+Open&key=" + kOs, "OSGrid").status == 200);
  CHECK(Ask(store, "name=Only+Open", "Production").body == kOs);  // now OSGrid is the latest
  CHECK(Ask(store, "name=Nobody", "OSGrid").body == std::string(kNilUuidText));
}

TEST_CASE("grid= asks one grid only; grid=* lists every grid's entry", "[grids]") {
  test::TempDir dir;
  Store store({dir.File("db")});
  RecordThreeGrids(store);
  CHECK(Ask(store, "name=Same+Name&grid=OSGrid", "Production").body == kOs);
  CHECK(Ask(store, "name=Same+Name&grid=Production", "OSGrid").body == kSl);
  CHECK(Ask(store, "name=Same+Name&grid=Nowhere").body == std::string(kNilUuidText));
  Response all = Ask(store, "name=same+name&grid=*&format=json");
  CHECK(all.status == 200);
  CHECK(all.content_type == "application/json");
  CHECK(all.body == R"({"name":"same name","found":true,"entries":[)"
                    R"({"name":"Same Name","key":")" + kSl + R"(","grid":"Production"},)"
                    R"({"name":"Same Name","key":")" + kMetro + R"(","grid":"Metropolis"},)"
                    R"({"name":"Same Name","key":")" + kOs + R"(","grid":"OSGrid"}]})");
  CHECK(Ask(store, "name=Nobody&grid=*&format=json").body ==
        R"({"name":"Nobody","found":false,"entries":[]})");
  Response text = Ask(store, "name=Same+Name&grid=*");
  CHECK(text.status == 400);
  CHECK(text.body == "grid=* answers a list and needs format=json");
  CHECK(Ask(store, "key=" + kSl + "&grid=*&format=json").body ==
        "grid=* lists a name's entries and needs name alone");
  CHECK(Ask(store, "name=x&grid=%0A").body == "grid contains a control character");
  // Unicode's line and paragraph separators and NEL break lines for some log readers.
  for (const char* separator : {"%E2%80%A8", "%E2%80%A9", "%C2%85"}) {
    INFO(separator);
    CHECK(Ask(store, std::string("name=x&grid=Bad") + separator + "Grid").body ==
          "grid contains a control character");
  }
}

TEST_CASE("grid= on a registration records on that grid", "[grids]") {
  test::TempDir dir;
  Store store({dir.File("db")});
  Response added = Ask(store, "name=Moved+Avatar&key=" + kOs + "&grid=OSGrid", "Production");
  CHECK(added.body == "Added new entry for 'Moved Avatar' which is: " + kOs + " from grid: 'OSGrid'");
  CHECK(Ask(store, "name=Moved+Avatar&grid=OSGrid").body == kOs);
  CHECK(Ask(store, "name=Moved+Avatar&grid=Production").body == std::string(kNilUuidText));
}

TEST_CASE("Hypergrid names select their home grid", "[grids]") {
  test::TempDir dir;
  Store store({dir.File("db")});
  REQUIRE(Ask(store, "name=Same+Name&key=" + kSl, "Production").status == 200);
  // A visitor from hg.example.com:8002 touches a prim on OSGrid.
  Response added = Ask(store, "name=Same.Name%20%40hg.example.com%3A8002&key=" + kMetro, "OSGrid");
  CHECK(added.body == "Added new entry for 'Same.Name @hg.example.com:8002' which is: " + kMetro +
                          " from grid: 'hg.example.com:8002'");
  CHECK(Ask(store, "name=Same.Name@HG.example.com:8002").body == kMetro);
  CHECK(Ask(store, "name=Same+Name+%40hg.example.com%3A8002").body == kMetro);
  CHECK(Ask(store, "name=Same+Name", "OSGrid").body == kSl);  // the plain name: Production
  CHECK(Ask(store, "key=" + kMetro).body == "Same.Name @hg.example.com:8002");
  CHECK(Ask(store, "name=Same.Name@other.grid:9000").body == std::string(kNilUuidText));
}

TEST_CASE("a Hypergrid pair in a batch is recorded on its home grid", "[grids]") {
  test::TempDir dir;
  Store store({dir.File("db")});
  Request request;
  request.method = "POST";
  request.content_type = "application/x-www-form-urlencoded";
  request.grid = "OSGrid";
  request.body = "pairs=" + kOs + "%2CLocal%20Avatar%0A" + kMetro +
                 "%2CGuest.Crowd%20%40grid.example.org%3A8002";
  REQUIRE(Handle(request, store).body == "recorded 2 of 2");
  CHECK(Ask(store, "name=Guest.Crowd%20%40grid.example.org%3A8002").body == kMetro);
  CHECK(Ask(store, "name=Local+Avatar&grid=OSGrid").body == kOs);
  CHECK(Ask(store, "key=" + kMetro + "&compat=false").body ==
        "avatar name for '" + kMetro + "' is 'Guest.Crowd @grid.example.org:8002' on grid: "
        "'grid.example.org:8002'");
}

TEST_CASE("a database written by version 0.2.0 (layout 1) answers as it did", "[grids]") {
  test::TempDir dir;
  std::filesystem::copy(GOSL_SOURCE_DIR "/tests/data/layout1-db", dir.File("slkvdb"));
  Store store({dir.File("slkvdb")});
  // What 0.2.0 answered (tests/data/README.md).
  CHECK(Ask(store, "name=Shared+Name").body == "5aa5e000-0000-4000-8000-000000000002");
  CHECK(Ask(store, "name=Grid+Only").body == "5aa5e000-0000-4000-8000-000000000003");
  CHECK(Ask(store, "name=mini").body == "6a6b5a13-1f6e-4c3a-9a3e-0d4c1d2e3f40");
  CHECK(Ask(store, "key=5aa5e000-0000-4000-8000-000000000001&compat=false").body ==
        "avatar name for '5aa5e000-0000-4000-8000-000000000001' is 'Shared Name' on grid: "
        "'Production'");
  CHECK(Ask(store, "name=no.header&compat=false").body ==
        "UUID for 'No Header' is: 5aa5e000-0000-4000-8000-000000000004 from grid: ''");
  // Its OSGrid entry answers OSGrid scripts and grid=OSGrid, as an entry of that grid.
  CHECK(Ask(store, "name=Grid+Only", "OSGrid").body == "5aa5e000-0000-4000-8000-000000000003");
  CHECK(Ask(store, "name=Grid+Only&grid=OSGrid").body == "5aa5e000-0000-4000-8000-000000000003");
  // New registrations go into the new layout beside the old entries.
  REQUIRE(Ask(store, "name=Shared+Name&key=" + kSl, "Production").status == 200);
  CHECK(Ask(store, "name=Shared+Name", "Production").body == kSl);
  CHECK(Ask(store, "name=Shared+Name", "OSGrid").body == "5aa5e000-0000-4000-8000-000000000002");
}

TEST_CASE("--import-grid imports another grid's export beside Production's", "[grids]") {
  test::TempDir dir;
  Store store({dir.File("db")});
  test::WriteFile(dir.File("sl.csv"), kSl + ",Same Name\n");
  test::WriteFile(dir.File("os.csv"), kOs + ",Same Name\n" + kMetro + ",Os Only\n");
  ImportOptions sl;
  sl.file = dir.File("sl.csv");
  REQUIRE(ImportCsv(sl, store).ok());
  ImportOptions os;
  os.file = dir.File("os.csv");
  os.grid = "OSGrid";
  REQUIRE(ImportCsv(os, store).ok());
  CHECK(Ask(store, "name=Same+Name", "Production").body == kSl);
  CHECK(Ask(store, "name=Same+Name", "OSGrid").body == kOs);
  CHECK(Ask(store, "name=Os+Only", "Production").body == kMetro);  // only on OSGrid
  CHECK(Ask(store, "key=" + kOs + "&compat=false").body ==
        "avatar name for '" + kOs + "' is 'Same Name' on grid: 'OSGrid'");
}

}  // namespace gosl

namespace gosl {

TEST_CASE("a name registered on very many grids lists at most 100 of them", "[grids]") {
  test::TempDir dir;
  Store store({dir.File("db")});
  for (int i = 0; i < 105; ++i) {
    REQUIRE(Ask(store, "name=Popular+Name&key=" + kOs + "&grid=grid" + std::to_string(i)).status ==
            200);
  }
  Response all = Ask(store, "name=Popular+Name&grid=*&format=json");
  CHECK(all.status == 200);
  size_t entries = 0;
  for (size_t at = 0; (at = all.body.find("\"grid\":", at)) != std::string::npos; ++at) ++entries;
  CHECK(entries == 100);
}

}  // namespace gosl
