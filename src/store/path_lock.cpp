#include "store/path_lock.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "store/db_files.hpp"
#include "util/private_files.hpp"

namespace gosl {

Result<std::unique_ptr<PathLock>> PathLock::Take(const std::string& db) {
  auto fd = private_files::Open(db_files::OwnerLockFile(db), O_RDWR | O_CREAT);
  if (!fd.ok()) {
    return Status::IOError("cannot lock database '" + db + "': " + fd.status().message());
  }
  // An open-file-description lock: a second Take in this process (another
  // Store of the same database) conflicts too, and closing another
  // descriptor of the file does not drop it, as it would a process's lock.
  struct flock lock {};
  lock.l_type = F_WRLCK;
  lock.l_whence = SEEK_SET;
  if (::fcntl(fd.value(), F_OFD_SETLK, &lock) != 0) {
    const int error = errno;
    ::close(fd.value());
    if (error == EAGAIN || error == EACCES) {
      return Status::Unavailable("database '" + db + "' is in use by another process");
    }
    return Status::IOError("cannot lock database '" + db + "': " + std::strerror(error));
  }
  return std::unique_ptr<PathLock>(new PathLock(db, fd.value()));
}

PathLock::~PathLock() { ::close(fd_); }  // releases the lock

}  // namespace gosl
