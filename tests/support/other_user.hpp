// Another user of the host, for the tests of what a shared host's other
// accounts can do to the service (issue 17): a system user made for the test
// and removed after it, and processes of that user that take something (a
// lock, a socket name) and hold it until released. Making users needs root:
// without it Create() gives null and the test skips with one line.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>

namespace gosl::test {

class OtherUser {
 public:
  // A new system user without a home or a shell; null when not root or
  // useradd fails.
  static std::unique_ptr<OtherUser> Create();
  ~OtherUser();  // userdel
  OtherUser(const OtherUser&) = delete;
  OtherUser& operator=(const OtherUser&) = delete;

  uid_t uid() const { return uid_; }
  gid_t gid() const { return gid_; }
  const std::string& name() const { return name_; }

 private:
  OtherUser(std::string name, uid_t uid, gid_t gid) : name_(std::move(name)), uid_(uid), gid_(gid) {}
  std::string name_;
  uid_t uid_;
  gid_t gid_;
};

// A child process running as uid/gid that calls take() and, when it returned
// true, holds on to whatever it took (its descriptors stay open) until this
// object is destroyed.
class Holder {
 public:
  Holder(uid_t uid, gid_t gid, const std::function<bool()>& take);
  ~Holder();
  Holder(const Holder&) = delete;
  Holder& operator=(const Holder&) = delete;

  // take() ran as the user and returned true.
  bool taken() const { return taken_; }

 private:
  pid_t pid_ = -1;
  int release_fd_ = -1;
  bool taken_ = false;
};

// The uid and gid the site's processes run as in tests (Site::RunAs::kNobodyIfRoot).
constexpr uid_t kNobody = 65534;

}  // namespace gosl::test
