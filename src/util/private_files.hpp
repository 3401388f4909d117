// Files of the site that only its owner may read, write or lock. On a shared
// host hundreds of other accounts share the machine: a file another user can
// open can be read (a secret), locked (the database's LOCK) or flocked (the
// rate table), so what the service keeps is owner-only, and it says so when
// it finds otherwise (docs/security.md, "The host's other users").
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "gosl/status.hpp"

namespace gosl::private_files {

// Opens path (flags as open(2); O_CREAT makes it 0600) without following a
// symbolic link, and only when it is a regular file of ours; makes it
// owner-only when it was not. Returns the descriptor, or kIOError naming the
// file and the reason (kNotFound when it is missing and not to be created).
Result<int> Open(const std::string& path, int flags);

// The identity of a directory: what two processes compare to know they
// mean the same one, whatever its path is now.
struct Identity {
  dev_t device = 0;
  ino_t inode = 0;
  bool operator==(const Identity& o) const { return device == o.device && inode == o.inode; }
  bool operator!=(const Identity& o) const { return !(*this == o); }
};
Result<Identity> IdentityOf(const std::string& path);
Result<Identity> IdentityOfFd(int fd);

// What MakeOwnerOnly did and found.
struct Tightening {
  std::vector<std::string> tightened;  // ours, readable by others before
  std::vector<std::string> foreign;    // owned by another user: left as they are
};
// Makes dir and the files directly in it owner-only (0700 / 0600) where they
// are ours and were not. The files are looked at only when dir is not ours
// or others may enter it: in an owner-only directory of ours they are out of
// other users' reach as they are.
Tightening MakeOwnerOnly(const std::string& dir);

// True when a user other than the file's owner may read it (group or other
// read bits, or another owner than us). False when it cannot be looked at.
bool OthersMayRead(const std::string& path);

}  // namespace gosl::private_files
