#include "other_user.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>

#include "process.hpp"

namespace gosl::test {

std::unique_ptr<OtherUser> OtherUser::Create() {
  if (geteuid() != 0) return nullptr;
  static std::atomic<int> made{0};
  const std::string name =
      "gosl-other-" + std::to_string(getpid() % 100000) + "-" + std::to_string(made++);
  const RunResult added = RunProgram("/usr/sbin/useradd",
                                     {"--system", "--no-create-home", "--shell",
                                      "/usr/sbin/nologin", name},
                                     {"PATH=/usr/sbin:/usr/bin:/sbin:/bin"});
  if (added.exit_code != 0) return nullptr;
  const passwd* entry = getpwnam(name.c_str());
  if (entry == nullptr) return nullptr;
  return std::unique_ptr<OtherUser>(new OtherUser(name, entry->pw_uid, entry->pw_gid));
}

OtherUser::~OtherUser() {
  RunProgram("/usr/sbin/userdel", {name_}, {"PATH=/usr/sbin:/usr/bin:/sbin:/bin"});
}

Holder::Holder(uid_t uid, gid_t gid, const std::function<bool()>& take) {
  int ready[2], release[2];
  if (pipe(ready) != 0 || pipe(release) != 0) return;
  pid_ = fork();
  if (pid_ == 0) {
    close(ready[0]);
    close(release[1]);
    char taken = 0;
    const bool same_user = geteuid() == uid && getegid() == gid;
    if (same_user || (setgroups(0, nullptr) == 0 && setgid(gid) == 0 && setuid(uid) == 0)) {
      taken = take() ? 1 : 0;
    }
    if (write(ready[1], &taken, 1) != 1) _exit(1);
    char byte;
    while (read(release[0], &byte, 1) > 0) {
    }
    _exit(0);
  }
  close(ready[1]);
  close(release[0]);
  release_fd_ = release[1];
  char taken = 0;
  taken_ = pid_ > 0 && read(ready[0], &taken, 1) == 1 && taken == 1;
  close(ready[0]);
}

Holder::~Holder() {
  if (release_fd_ >= 0) close(release_fd_);
  if (pid_ > 0) waitpid(pid_, nullptr, 0);
}

}  // namespace gosl::test
