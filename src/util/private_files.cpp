#include "util/private_files.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

#include "util/posix_io.hpp"

namespace gosl::private_files {
namespace {

constexpr mode_t kLooseBits = S_IRWXG | S_IRWXO;

}  // namespace

Result<int> Open(const std::string& path, int flags) {
  const int fd = posix::RetryOnEintr(
      [&] { return ::open(path.c_str(), flags | O_NOFOLLOW | O_CLOEXEC, 0600); });
  if (fd < 0) {
    const int error = errno;
    const std::string text = posix::ErrnoText("cannot open '" + path + "'", error);
    return error == ENOENT ? Status::NotFound(text) : Status::IOError(text);
  }
  struct stat info {};
  std::string refusal;
  if (::fstat(fd, &info) != 0) {
    refusal = posix::ErrnoText("cannot look at '" + path + "'", errno);
  } else if (!S_ISREG(info.st_mode)) {
    refusal = "'" + path + "' is not a regular file";
  } else if (info.st_uid != ::geteuid()) {
    refusal = "'" + path + "' belongs to another user (uid " + std::to_string(info.st_uid) + ")";
  } else if ((info.st_mode & kLooseBits) != 0 && ::fchmod(fd, 0600) != 0) {
    refusal = posix::ErrnoText("cannot make '" + path + "' owner-only", errno);
  }
  if (refusal.empty()) return fd;
  ::close(fd);
  return Status::IOError(refusal);
}

Result<Identity> IdentityOfFd(int fd) {
  struct stat info {};
  if (::fstat(fd, &info) != 0) return Status::IOError(posix::ErrnoText("fstat", errno));
  return Identity{info.st_dev, info.st_ino};
}

Result<Identity> IdentityOf(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    const int error = errno;
    const std::string text = posix::ErrnoText("cannot look at '" + path + "'", error);
    return error == ENOENT ? Status::NotFound(text) : Status::IOError(text);
  }
  return Identity{info.st_dev, info.st_ino};
}

Tightening MakeOwnerOnly(const std::string& dir) {
  Tightening result;
  const uid_t me = ::geteuid();
  auto tighten = [&](const std::string& path, const struct stat& info, mode_t mode) {
    if (info.st_uid != me) {
      result.foreign.push_back(path);
    } else if ((info.st_mode & kLooseBits) != 0 && ::chmod(path.c_str(), mode) == 0) {
      result.tightened.push_back(path);
    }
  };
  struct stat info {};
  if (::lstat(dir.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) return result;
  // No other user can reach a file in a directory of ours that only we may
  // enter, whatever its mode: the walk (a stat per file, 0.3 ms of a fresh
  // process's first answer at 10 M records) is for one others could enter.
  if (info.st_uid == me && (info.st_mode & kLooseBits) == 0) return result;
  tighten(dir, info, 0700);
  std::unique_ptr<DIR, int (*)(DIR*)> listing(::opendir(dir.c_str()), ::closedir);
  if (!listing) return result;
  while (const dirent* entry = ::readdir(listing.get())) {
    const std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    const std::string path = dir + "/" + name;
    if (::lstat(path.c_str(), &info) != 0) continue;
    if (S_ISREG(info.st_mode)) tighten(path, info, 0600);
    if (S_ISDIR(info.st_mode)) tighten(path, info, 0700);  // lost/: LevelDB's repair keeps tables there
  }
  return result;
}

bool OthersMayRead(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return false;
  return info.st_uid != ::geteuid() || (info.st_mode & (S_IRGRP | S_IROTH)) != 0;
}

}  // namespace gosl::private_files
