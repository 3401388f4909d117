#include "gosl/importer.hpp"

#include <catch2/catch.hpp>

#include "support/files.hpp"
#include "support/temp_dir.hpp"

namespace gosl {

TEST_CASE("an import stores every good line both ways and skips bad ones", "[importer]") {
  test::TempDir dir;
  test::WriteFile(dir.File("in.csv"),
                  "\xEF\xBB\xBF"
                  "6a6b5a13-1f6e-4c3a-9a3e-0d4c1d2e3f40,Mini Resident\r\n"
                  "uuid,name\n"
                  "0F0E0D0C-0B0A-4909-8807-060504030201 ,  Legacy Linden \n"
                  "\n"
                  "00000000-0000-0000-0000-000000000000,Null Key\n"
                  "c0ffee00-1234-4abc-8def-0123456789ab,\xC3\x28\n"
                  "c0ffee00-1234-4abc-8def-0123456789ac,No Newline At End");
  Store store({dir.File("db")});
  auto stats = ImportCsv({dir.File("in.csv"), 2, 1000}, store);
  REQUIRE(stats.ok());
  CHECK(stats->lines == 7);
  CHECK(stats->imported == 3);
  CHECK(stats->skipped == 3);
  CHECK(store.FindByName(AvatarName::Parse("mini").value()).value().grid == "Production");
  CHECK(store.FindByKey(Uuid::Parse("0f0e0d0c-0b0a-4909-8807-060504030201").value()).value().name ==
        "Legacy Linden");
  CHECK(store.FindByName(AvatarName::Parse("No Newline At End").value()).ok());
}

TEST_CASE("importing the same file twice leaves the same answers", "[importer]") {
  test::TempDir dir;
  test::WriteFile(dir.File("in.csv"), "6a6b5a13-1f6e-4c3a-9a3e-0d4c1d2e3f40,Mini Resident\n");
  Store store({dir.File("db")});
  REQUIRE(ImportCsv({dir.File("in.csv")}, store).ok());
  REQUIRE(store.Record(AvatarName::Parse("Captured Inworld").value(),
                       Uuid::Parse("0f0e0d0c-0b0a-4909-8807-060504030201").value(), "Production")
              .ok());
  auto again = ImportCsv({dir.File("in.csv")}, store);
  REQUIRE(again.ok());
  CHECK(again->imported == 1);
  CHECK(store.FindByName(AvatarName::Parse("mini").value()).ok());
  CHECK(store.FindByName(AvatarName::Parse("captured inworld").value()).ok());  // kept
}

TEST_CASE("a missing file or a directory is refused and the database untouched", "[importer]") {
  test::TempDir dir;
  Store store({dir.File("db")});
  auto missing = ImportCsv({dir.File("none.csv")}, store);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().message() ==
        "cannot import '" + dir.File("none.csv") + "': No such file or directory");
  auto directory = ImportCsv({dir.path()}, store);
  REQUIRE_FALSE(directory.ok());
  CHECK(directory.status().message() == "cannot import '" + dir.path() + "': it is a directory");
  CHECK_FALSE(store.is_open());
}

}  // namespace gosl
