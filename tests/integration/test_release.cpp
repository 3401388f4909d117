// The file users upload (make release): fully static, stripped, and working
// in an empty chroot that holds only the binary and a database.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include <catch2/catch.hpp>

#include "../support/api_cases.hpp"
#include "../support/fcgi_client.hpp"
#include "../support/process.hpp"
#include "../support/temp_dir.hpp"

namespace gosl::test {
namespace {

namespace fs = std::filesystem;
const std::string kRelease = GOSL_SOURCE_DIR "/dist/gosl-basics.fcgi";

}  // namespace

TEST_CASE("the release binary is static, stripped and says what it was built from",
          "[integration][release]") {
  REQUIRE(fs::exists(kRelease));  // make test builds it first (make release)
  RunResult ldd = RunProgram("/usr/bin/ldd", {kRelease}, {"PATH=/usr/bin:/bin"});
  CHECK_THAT(ldd.out + ldd.err, Catch::Contains("not a dynamic executable"));
  RunResult nm = RunProgram("/usr/bin/nm", {kRelease}, {"PATH=/usr/bin:/bin"});
  CHECK_THAT(nm.err, Catch::Contains("no symbols"));
  RunResult version = RunProgram(kRelease, {"--version"}, {});
  CHECK(version.exit_code == 0);
  CHECK_THAT(version.out, Catch::Contains("statically linked"));
  CHECK_THAT(version.out, Catch::Contains("leveldb 1."));
  CHECK_THAT(version.out, Catch::Contains("libfcgi 2."));
}

TEST_CASE("the release binary answers in an empty chroot holding only it and a database",
          "[integration][release]") {
  if (geteuid() != 0) {
    WARN("not root: the chroot check runs in CI (as root) only");
    return;
  }
  TempDir root;
  fs::create_directories(root.File("site"));
  fs::copy_file(kRelease, root.File("site/gosl-basics.fcgi"));
  SeedApiDatabase(root.File("site/slkvdb"));

  // Plain CGI: no /proc, no /lib, no /etc inside.
  RunResult cgi = RunProgram("/usr/sbin/chroot", {root.path(), "/site/gosl-basics.fcgi"},
                             {"GATEWAY_INTERFACE=CGI/1.1", "REQUEST_METHOD=GET",
                              "QUERY_STRING=name=Mini+Resident"});
  CHECK(cgi.exit_code == 0);
  CHECK(ParseCgiResponse(cgi.out).body == kMiniKey);

  // FastCGI: the listening socket reaches the binary on fd 0 through chroot.
  FastCgiProcess app("/usr/sbin/chroot", {root.path(), "/site/gosl-basics.fcgi"},
                     root.File("app.sock"), root.path(), {}, root.File("out"), root.File("err"));
  CHECK(FastCgiRequest(root.File("app.sock"), CgiParams("GET", "key=" + kLegacyKey)).body ==
        "Legacy Linden");
  // A registration as an in-world script sends it (writes = sl-only, the default).
  const Params script = {{"HTTP_X_SECONDLIFE_SHARD", "Production"},
                         {"HTTP_X_SECONDLIFE_OBJECT_KEY", "1a2b3c4d-5e6f-4a0b-8c1d-2e3f4a5b6c7d"},
                         {"HTTP_X_SECONDLIFE_OWNER_KEY", "5f3e2d1c-0b0a-4987-8654-3210fedcba98"}};
  CHECK(FastCgiRequest(root.File("app.sock"), CgiParams("GET", "name=Chroot+Person&key=" +
                                                                   kUnknownKey, "", "", script))
            .status == 200);
  CHECK(FastCgiRequest(root.File("app.sock"), CgiParams("GET", "key=" + kUnknownKey)).body ==
        "Chroot Person");
  int status = app.StopWith(SIGTERM);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

}  // namespace gosl::test
