// Owner-only files and directories (util/private_files.hpp), on real files.
#include "util/private_files.hpp"

#include <sys/stat.h>

#include <string>

#include <catch2/catch.hpp>

#include "support/files.hpp"
#include "support/temp_dir.hpp"

namespace gosl {
namespace {

mode_t ModeOf(const std::string& path) {
  struct stat info {};
  REQUIRE(::stat(path.c_str(), &info) == 0);
  return info.st_mode & 07777;
}

}  // namespace

TEST_CASE("a directory others may enter is made owner-only with the files in it", "[private_files]") {
  test::TempDir dir;
  const std::string db = dir.File("db");
  REQUIRE(::mkdir(db.c_str(), 0700) == 0);
  test::WriteFile(db + "/CURRENT", "MANIFEST-000001\n");
  REQUIRE(::chmod((db + "/CURRENT").c_str(), 0644) == 0);
  REQUIRE(::chmod(db.c_str(), 0755) == 0);  // as an older guide left it

  const private_files::Tightening done = private_files::MakeOwnerOnly(db);
  CHECK(done.tightened.size() == 2);
  CHECK(done.foreign.empty());
  CHECK(ModeOf(db) == 0700);
  CHECK(ModeOf(db + "/CURRENT") == 0600);
}

TEST_CASE("the files of an owner-only directory are left as they are: nobody else reaches them",
          "[private_files]") {
  test::TempDir dir;
  const std::string db = dir.File("db");
  REQUIRE(::mkdir(db.c_str(), 0700) == 0);
  test::WriteFile(db + "/CURRENT", "MANIFEST-000001\n");
  REQUIRE(::chmod((db + "/CURRENT").c_str(), 0644) == 0);
  REQUIRE(::chmod(db.c_str(), 0700) == 0);

  const private_files::Tightening done = private_files::MakeOwnerOnly(db);
  CHECK(done.tightened.empty());
  CHECK(ModeOf(db) == 0700);
  CHECK(ModeOf(db + "/CURRENT") == 0644);  // not walked: one stat per file saved at every open
}

}  // namespace gosl
