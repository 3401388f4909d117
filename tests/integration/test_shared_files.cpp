// What the processes of one site share, and what happens to it under them
// (issue 17, findings 5, 8 and 10): the database directory swapped, the small
// files inside it cut short or replaced, the owner flooded with half-sent
// peer frames. Each with the real binary as mod_fcgid runs it.
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "gosl/peer.hpp"
#include "gosl/store.hpp"
#include "../support/api_cases.hpp"
#include "../support/files.hpp"
#include "../support/keys.hpp"
#include "../support/other_user.hpp"
#include "../support/process.hpp"
#include "../support/site.hpp"

namespace gosl::test {
namespace {

namespace fs = std::filesystem;

// "Threads:" of /proc/<pid>/status.
int ThreadsOf(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("Threads:", 0) == 0) return std::stoi(line.substr(8));
  }
  return -1;
}

}  // namespace

TEST_CASE("after the database directory is swapped, new processes forward to its new owner",
          "[integration][shared_files]") {
  Site site(Site::Db::kSeeded);
  site.Start({"--writes", "open"});
  REQUIRE(site.Get("name=mini", {}, 0).body == kMiniKey);  // process 0 holds the old directory
  // The swap a site owner does by hand: the new one uploaded beside it,
  // the old one aside, the new one in place.
  SeedApiDatabase(site.db() + ".new");
  fs::rename(site.db(), site.db() + ".old");
  fs::rename(site.db() + ".new", site.db());
  site.Start({"--writes", "open"}, 2);  // processes 1 and 2 find the new one
  REQUIRE(site.Get("name=mini", {}, 1).body == kMiniKey);
  const std::string key = TestKey(5, 0x5a5a0000);
  REQUIRE(site.Get("name=Swapped+In&key=" + key, {}, 2).status == 200);
  CHECK(site.Get("key=" + key, {}, 1).body == "Swapped In");
  site.StopAll();
  // The registration is in the directory now at the database's path.
  Store live({site.db(), 24, false});
  auto found = live.FindByKey(Uuid::Parse(key).value());
  REQUIRE(found.ok());
  CHECK(found->name == "Swapped In");
  Store old({site.db() + ".old", 24, false});
  CHECK(old.FindByKey(Uuid::Parse(key).value()).status().IsNotFound());
}

TEST_CASE("shared files cut short under running processes kill none of them",
          "[integration][shared_files]") {
  Site site(Site::Db::kSeeded);
  site.Start({"--writes", "open", "--registrations-per-minute", "100"}, 2);
  REQUIRE(site.Get("name=mini", {}, 0).body == kMiniKey);
  REQUIRE(site.Get("name=mini", {}, 1).body == kMiniKey);
  REQUIRE(site.Get("name=Before+Cut&key=" + TestKey(1, 0xc0c00000), {}, 1).status == 200);
  // An sftp put -r over the live directory rewrites files in place: it
  // empties them first.
  for (const char* name : {"GOSL-WRITES", "GOSL-RATES"}) {
    REQUIRE(fs::exists(site.db() + "/" + name));
    fs::resize_file(site.db() + "/" + name, 0);
  }
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 2; ++i) {
      const std::string key = TestKey(10 * round + i, 0xc0c00000);
      CHECK(site.Get("name=After+Cut" + std::to_string(round) + "&key=" + key, {}, i).status == 200);
      CHECK(site.Get("key=" + key, {}, 1 - i).body == "After Cut" + std::to_string(round));
    }
  }
  CHECK(site.process(0).Running());
  CHECK(site.process(1).Running());
}

TEST_CASE("a write-counter file replaced under a peer does not leave it answering stale names",
          "[integration][shared_files]") {
  Site site(Site::Db::kSeeded);
  site.Start({"--writes", "open"}, 3);
  REQUIRE(site.Get("name=mini", {}, 0).body == kMiniKey);             // 0 owns
  REQUIRE(site.Get("key=" + kMiniKey, {}, 1).body == "Mini Resident");  // 1 remembers this
  // A new file in its place (a new inode), then the owner gone.
  const std::string counter = site.db() + "/GOSL-WRITES";
  fs::copy_file(counter, counter + ".new");
  fs::rename(counter + ".new", counter);
  site.process(0).StopWith(SIGKILL);
  REQUIRE(site.Get("name=mini", {}, 2).body == kMiniKey);  // 2 owns now
  REQUIRE(site.Get("name=Mini+Renamed&key=" + kMiniKey, {}, 2).status == 200);
  CHECK(site.Get("key=" + kMiniKey, {}, 1).body == "Mini Renamed");
}

TEST_CASE("half-sent frames from thousands of connections hold a bounded number of threads",
          "[integration][shared_files]") {
  Site site(Site::Db::kSeeded, Site::RunAs::kNobodyIfRoot);
  site.Start({"--writes", "open"}, 2);
  REQUIRE(site.Get("name=mini", {}, 0).body == kMiniKey);
  const pid_t owner = site.process(0).pid();
  const int threads_before = ThreadsOf(owner);
  const std::string socket_path = site.db() + ".peer";            // where this version listens
  const std::string legacy_name = LegacyPeerAddress(site.db());  // and where 0.2.0 did
  REQUIRE(fs::exists(socket_path));
  // Only the site's own user gets past the owner's check: the flood comes
  // from a process of the site's user gone wrong.
  const uid_t uid = geteuid() == 0 ? kNobody : geteuid();
  const gid_t gid = geteuid() == 0 ? kNobody : getegid();
  {
    // A thousand connections to each listener, each with half a frame header, then nothing.
    Holder flood(uid, gid, [&socket_path, &legacy_name] {
      rlimit limit{4096, 4096};
      setrlimit(RLIMIT_NOFILE, &limit);
      sockaddr_un file{}, legacy{};
      file.sun_family = legacy.sun_family = AF_UNIX;
      std::strncpy(file.sun_path, socket_path.c_str(), sizeof file.sun_path - 1);
      std::memcpy(legacy.sun_path + 1, legacy_name.data(), legacy_name.size());
      const socklen_t legacy_length =
          static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + legacy_name.size());
      int sent_to_file = 0, sent_to_legacy = 0;
      for (int i = 0; i < 2000; ++i) {
        const bool to_file = i % 2 == 0;
        const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (fd < 0) continue;
        const int connected = to_file ? connect(fd, reinterpret_cast<sockaddr*>(&file), sizeof file)
                                      : connect(fd, reinterpret_cast<sockaddr*>(&legacy), legacy_length);
        if (connected != 0) {
          close(fd);
          continue;
        }
        if (send(fd, "\x10\x00", 2, MSG_NOSIGNAL) == 2) ++(to_file ? sent_to_file : sent_to_legacy);
      }
      return sent_to_file > 0 && sent_to_legacy > 0;
    });
    REQUIRE(flood.taken());
    CHECK(ThreadsOf(owner) <= threads_before + 260);
  }
  // Half a frame is given up after 2 s: the owner answers its peers again.
  CHECK(WaitFor([&] { return site.Get("name=mini", {}, 1).body == kMiniKey; }, 10000, 100));
  CHECK(site.process(0).Running());
}

}  // namespace gosl::test

namespace gosl::test {

TEST_CASE("a log name planted as a symbolic link is never followed", "[integration][shared_files]") {
  Site site(Site::Db::kSeeded);
  const std::string victim = site.Beside("precious.txt");
  WriteFile(victim, "precious\n");
  fs::create_symlink(victim, site.File("gosl.log"));
  // Small and without backups: rotation would empty the file by name.
  site.Start({"--log-max-size", "1", "--log-max-backups", "0"});
  for (int i = 0; i < 50; ++i) CHECK(site.Get("name=mini").body == kMiniKey);
  CHECK(ReadFile(victim) == "precious\n");
  CHECK(fs::is_symlink(site.File("gosl.log")));
}

}  // namespace gosl::test
