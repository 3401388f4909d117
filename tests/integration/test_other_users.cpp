// What the host's other users can do to the service (issue 17): each test
// gives a throwaway user of its own what an older deployment left within
// reach (the guide once said chmod 755 slkvdb, chmod 644 slkvdb/*), and
// checks that the service, run as the site's user, still answers. Needs
// root to make users; otherwise each test says so in one line.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include <catch2/catch.hpp>

#include "gosl/peer.hpp"
#include "../support/api_cases.hpp"
#include "../support/files.hpp"
#include "../support/keys.hpp"
#include "../support/other_user.hpp"
#include "../support/site.hpp"

namespace gosl::test {
namespace {

namespace fs = std::filesystem;

const Params kScriptHeaders = {
    {"HTTP_X_SECONDLIFE_SHARD", "Production"},
    {"HTTP_X_SECONDLIFE_OBJECT_KEY", "1a2b3c4d-5e6f-4a0b-8c1d-2e3f4a5b6c7d"},
    {"HTTP_X_SECONDLIFE_OWNER_KEY", "5f3e2d1c-0b0a-4987-8654-3210fedcba98"},
};

// A seeded site as an older guide left it: everything readable by all.
struct OldDeploy {
  Site site{Site::Db::kSeeded, Site::RunAs::kNobodyIfRoot};

  OldDeploy() {
    site.HandToSiteUser();
    fs::permissions(site.dir(), fs::perms(0755), fs::perm_options::replace);
    fs::permissions(site.db(), fs::perms(0755), fs::perm_options::replace);
    for (const auto& entry : fs::directory_iterator(site.db())) {
      fs::permissions(entry.path(), fs::perms(0644), fs::perm_options::replace);
    }
  }
};

mode_t ModeOf(const std::string& path) {
  struct stat info {};
  REQUIRE(stat(path.c_str(), &info) == 0);
  return info.st_mode & 0777;
}

}  // namespace

TEST_CASE("another user's read lock on LOCK does not stop the service", "[integration][other_users]") {
  auto other = OtherUser::Create();
  if (!other) {
    WARN("not tested: making a second user needs root");
    return;
  }
  OldDeploy old;
  Site& site = old.site;
  const std::string lock_file = site.db() + "/LOCK";
  // Held before any process of ours starts, and for as long as the test runs.
  Holder reader(other->uid(), other->gid(), [&lock_file] {
    const int fd = open(lock_file.c_str(), O_RDONLY);
    struct flock lock {};
    lock.l_type = F_RDLCK;
    lock.l_whence = SEEK_SET;
    return fd >= 0 && fcntl(fd, F_SETLK, &lock) == 0;
  });
  REQUIRE(reader.taken());
  site.Start({"--writes", "open"}, 2);
  CHECK(site.Get("name=mini", {}, 0).body == kMiniKey);
  CHECK(site.Get("name=mini", {}, 1).body == kMiniKey);  // the second process, through the first
  CHECK(site.Get("name=Still+Here&key=" + kUnknownKey, {}, 1).status == 200);
  CHECK(site.Get("key=" + kUnknownKey, {}, 0).body == "Still Here");
  CHECK(site.Log().find("a read lock held on its LOCK file") != std::string::npos);
  // What the older deployment left open is closed now.
  CHECK(ModeOf(site.db()) == 0700);
  CHECK(ModeOf(lock_file) == 0600);
  CHECK(ModeOf(site.db() + "/CURRENT") == 0600);
}

TEST_CASE("another user's flock on the rate table does not hold registrations up",
          "[integration][other_users]") {
  auto other = OtherUser::Create();
  if (!other) {
    WARN("not tested: making a second user needs root");
    return;
  }
  OldDeploy old;
  Site& site = old.site;
  const std::string rates = site.db() + "/GOSL-RATES";
  WriteFile(rates, std::string(64 * 1024, '\0'));  // left by an earlier run, chmod 644 since
  REQUIRE(chown(rates.c_str(), kNobody, kNobody) == 0);
  fs::permissions(rates, fs::perms(0644), fs::perm_options::replace);
  Holder flocker(other->uid(), other->gid(), [&rates] {
    const int fd = open(rates.c_str(), O_RDONLY);  // a read-only descriptor is enough for flock
    return fd >= 0 && flock(fd, LOCK_EX) == 0;
  });
  REQUIRE(flocker.taken());
  site.Start();
  for (int i = 0; i < 3; ++i) {
    // Each would have waited for the lock for ever (and the client with it).
    HttpReply reply = site.Get("name=Rated" + std::to_string(i) + "&key=" + TestKey(i, 0x7a7e0000),
                               kScriptHeaders);
    CHECK(reply.status == 200);
  }
  CHECK(site.Get("key=" + TestKey(2, 0x7a7e0000)).body == "Rated2");
  CHECK(CountLinesWith(site.Log(), "has been locked for over 50 ms") == 1);
}

TEST_CASE("another user binding the peers' old socket name first stops nobody",
          "[integration][other_users]") {
  auto other = OtherUser::Create();
  if (!other) {
    WARN("not tested: making a second user needs root");
    return;
  }
  Site site(Site::Db::kSeeded, Site::RunAs::kNobodyIfRoot);
  const std::string name = LegacyPeerAddress(site.db());
  // An abstract name has no permissions: anyone can take it first.
  Holder squatter(other->uid(), other->gid(), [&name] {
    const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path + 1, name.data(), name.size());
    const socklen_t length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
    return fd >= 0 && bind(fd, reinterpret_cast<sockaddr*>(&address), length) == 0 &&
           listen(fd, 8) == 0;
  });
  REQUIRE(squatter.taken());
  site.Start({"--writes", "open"}, 3);
  CHECK(site.Get("name=mini", {}, 0).body == kMiniKey);  // the owner
  for (int i = 1; i < 3; ++i) {
    HttpReply reply = site.Get("name=mini", {}, i);  // its peers
    CHECK(reply.status == 200);
    CHECK(reply.body == kMiniKey);
  }
  CHECK(site.Get("name=Peer+Said&key=" + kUnknownKey, {}, 2).status == 200);
  CHECK(site.Get("key=" + kUnknownKey, {}, 1).body == "Peer Said");
}

TEST_CASE("a config.ini other users can read is reported, a private one is not",
          "[integration][other_users]") {
  Site site(Site::Db::kSeeded, Site::RunAs::kNobodyIfRoot);
  site.WriteConfig("[options]\nwrites = token\ntoken = correct-horse-battery\n");
  site.HandToSiteUser();
  fs::permissions(site.File("config.ini"), fs::perms(0644), fs::perm_options::replace);
  site.Start();
  CHECK(site.Get("name=mini").body == kMiniKey);
  CHECK(CountLinesWith(site.Log(), "can be read by other users of this machine; it may hold the "
                                   "write token: chmod 600 it") == 1);
  site.StopAll();
  fs::permissions(site.File("config.ini"), fs::perms(0600), fs::perm_options::replace);
  site.Start();
  CHECK(site.Get("name=mini").body == kMiniKey);
  CHECK(CountLinesWith(site.Log(), "can be read by other users") == 1);  // not again
  CHECK(site.Log().find("correct-horse") == std::string::npos);
}

TEST_CASE("a new database, its files and the log are the site user's alone",
          "[integration][other_users]") {
  Site site;
  RunResult created = site.Run({"--create"});
  REQUIRE(created.exit_code == 0);
  CHECK(ModeOf(site.db()) == 0700);
  for (const auto& entry : fs::directory_iterator(site.db())) {
    INFO(entry.path());
    CHECK((ModeOf(entry.path().string()) & 077) == 0);
  }
  CHECK(ModeOf(site.File("gosl.log")) == 0600);
}

}  // namespace gosl::test
