// The file users upload (make release): fully static, stripped, and working
// in an empty chroot that holds only the binary and a database.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <regex>
#include <string>

#include <catch2/catch.hpp>

#include "gosl/version.hpp"

#include "../support/api_cases.hpp"
#include "../support/files.hpp"
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
  // The commit it was built from, as git names it.
  RunResult revision = RunProgram("/usr/bin/git", {"-C", GOSL_SOURCE_DIR, "rev-parse", "--short=7", "HEAD"},
                                  {"PATH=/usr/bin:/bin"});
  if (revision.exit_code == 0) {
    CHECK_THAT(version.out, Catch::Contains("(source " + revision.out.substr(0, 7)));
  }
}

TEST_CASE("the archive to upload holds every file its guides name", "[integration][release]") {
  const std::string archive = GOSL_SOURCE_DIR "/dist/gosl-basics-" + std::string(kVersion) +
                              "-linux-x86_64.tar.gz";
  REQUIRE(fs::exists(archive));  // make test builds it first (make dist)
  TempDir dir;
  REQUIRE(RunProgram("/bin/tar", {"-xzf", archive, "-C", dir.path()}, {"PATH=/usr/bin:/bin"}).exit_code == 0);
  const std::string root = dir.path() + "/gosl-basics-" + std::string(kVersion);
  for (const char* file : {"gosl-basics.fcgi", ".htaccess", "config.ini", "README-deploy.md",
                           "lsl/name2key_lib.lsl", "docs/deploy-shared-host.md",
                           "systemd/gosl-basics.service", "systemd/gosl-basics.socket",
                           "hosts/lighttpd.conf", "hosts/nginx.conf"}) {
    CHECK(fs::exists(root + "/" + file));
  }
  // Uploaded as they are (rsync -a keeps modes), they are private where they must be.
  CHECK((fs::status(root + "/config.ini").permissions() & fs::perms::all) == fs::perms(0600));
  CHECK((fs::status(root + "/gosl-basics.fcgi").permissions() & fs::perms::all) == fs::perms(0755));
  // Every guide a shipped guide points to ("docs/NAME.md") is in the archive.
  const std::regex link("docs/[a-z-]+\\.md");
  size_t links = 0;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.path().extension() != ".md") continue;
    const std::string text = ReadFile(entry.path().string());
    for (auto it = std::sregex_iterator(text.begin(), text.end(), link); it != std::sregex_iterator(); ++it) {
      ++links;
      INFO(entry.path().string() << " names " << it->str());
      CHECK(fs::exists(root + "/" + it->str()));
    }
    CHECK(text.find("../shared") == std::string::npos);
  }
  CHECK(links > 10);
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
