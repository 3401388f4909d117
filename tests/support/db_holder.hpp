// Another process holding a LevelDB database open (and so its lock) without
// answering anyone, for the tests of what the store does then. In another
// process for real: fcntl locks of this one would be dropped by the store's
// own look at the lock file (closing any descriptor of a file drops them).
#pragma once

#include <memory>
#include <string>

#include "other_user.hpp"

namespace gosl::test {

class DatabaseHolder {
 public:
  // Opens (creating when missing) the database at db in a child process.
  explicit DatabaseHolder(const std::string& db);
  bool held() const { return holder_ && holder_->taken(); }
  // Ends the holding process, and with it the lock.
  void Release() { holder_.reset(); }

 private:
  std::unique_ptr<Holder> holder_;
};

}  // namespace gosl::test
