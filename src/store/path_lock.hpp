// The role of serving one database path. An fcntl lock on "<db>.owner", a
// file beside the database that only the site's user can open (so no other
// user of the host can take or block it). Whoever holds it serves whatever
// directory is at the path now: the path, not a directory, is what the
// processes of a site share, so a directory swapped in by hand or by
// --replace is taken over by the process already serving (docs/architecture.md).
// Bulk loads and repair of any directory take the role of its path first.
#pragma once

#include <memory>
#include <string>

#include "gosl/status.hpp"

namespace gosl {

class PathLock {
 public:
  // Takes the role, or returns kUnavailable ("in use by another process")
  // when another process holds it, kIOError naming the file when it cannot
  // be had (an unwritable parent directory, a file of another user).
  static Result<std::unique_ptr<PathLock>> Take(const std::string& db);
  ~PathLock();
  PathLock(const PathLock&) = delete;
  PathLock& operator=(const PathLock&) = delete;

  const std::string& db() const { return db_; }

 private:
  PathLock(std::string db, int fd) : db_(std::move(db)), fd_(fd) {}
  std::string db_;
  int fd_;
};

}  // namespace gosl
