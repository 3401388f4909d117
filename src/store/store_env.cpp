#include "store/store_env.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "gosl/logging.hpp"
#include "store/db_files.hpp"
#include "util/posix_io.hpp"
#include "util/private_files.hpp"

namespace gosl {
namespace {

class PreadFile final : public leveldb::RandomAccessFile {
 public:
  PreadFile(std::string name, int fd) : name_(std::move(name)), fd_(fd) {}
  ~PreadFile() override { ::close(fd_); }

  leveldb::Status Read(uint64_t offset, size_t n, leveldb::Slice* result,
                       char* scratch) const override {
    // Short at the end of the file: LevelDB checks the length itself.
    const ssize_t got = posix::PreadFully(fd_, scratch, n, offset);
    if (got < 0) return leveldb::Status::IOError(name_, std::strerror(errno));
    *result = leveldb::Slice(scratch, static_cast<size_t>(got));
    return leveldb::Status::OK();
  }

 private:
  std::string name_;
  int fd_;
};

// Both locks, released together: LevelDB's (through the default Env, which
// also refuses a second lock by this same process, as fcntl locks belong to
// the process) and GOSL-OWNER's.
class OwnerLock final : public leveldb::FileLock {
 public:
  OwnerLock(int owner_fd, leveldb::FileLock* lock) : owner_fd_(owner_fd), lock_(lock) {}
  ~OwnerLock() override {
    leveldb::Env::Default()->UnlockFile(lock_);
    ::close(owner_fd_);  // releases its fcntl lock
  }

 private:
  int owner_fd_;
  leveldb::FileLock* lock_;
};

// True when an exclusive fcntl lock on the whole file was taken.
bool WriteLock(int fd) {
  struct flock lock {};
  lock.l_type = F_WRLCK;
  lock.l_whence = SEEK_SET;
  return ::fcntl(fd, F_SETLK, &lock) == 0;
}

// True when what stops an exclusive lock on path is a read lock: never
// LevelDB's, which takes write locks (every version of it).
bool HeldByReader(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return false;
  struct flock lock {};
  lock.l_type = F_WRLCK;
  lock.l_whence = SEEK_SET;
  const bool asked = ::fcntl(fd, F_GETLK, &lock) == 0;
  ::close(fd);
  return asked && lock.l_type == F_RDLCK;
}

// A new, owner-only LOCK put in place by rename: an open descriptor of the
// old one (and its lock) now points at a file nobody looks at.
bool ReplaceLockFile(const std::string& name) {
  const std::string fresh = name + ".gosl-new";
  ::unlink(fresh.c_str());  // left by an earlier attempt
  const int fd = ::open(fresh.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  ::close(fd);
  if (::rename(fresh.c_str(), name.c_str()) == 0) return true;
  ::unlink(fresh.c_str());
  return false;
}

class StoreFileSystem final : public leveldb::EnvWrapper {
 public:
  StoreFileSystem() : EnvWrapper(leveldb::Env::Default()) {}

  leveldb::Status NewRandomAccessFile(const std::string& name,
                                      leveldb::RandomAccessFile** result) override {
    const int fd = ::open(name.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      *result = nullptr;
      return errno == ENOENT ? leveldb::Status::NotFound(name, std::strerror(errno))
                             : leveldb::Status::IOError(name, std::strerror(errno));
    }
    *result = new PreadFile(name, fd);
    return leveldb::Status::OK();
  }

  leveldb::Status LockFile(const std::string& name, leveldb::FileLock** lock) override {
    *lock = nullptr;
    const std::string dir = name.substr(0, name.rfind('/'));
    auto owner = private_files::Open(db_files::OwnerLockFile(dir), O_RDWR | O_CREAT);
    if (!owner.ok()) return leveldb::Status::IOError("lock " + name, owner.status().message());
    if (!WriteLock(owner.value())) {
      const int error = errno == EACCES ? EAGAIN : errno;  // F_SETLK says either when held
      ::close(owner.value());
      return leveldb::Status::IOError("lock " + name, std::strerror(error));
    }
    leveldb::FileLock* leveldb_lock = nullptr;
    leveldb::Status locked = target()->LockFile(name, &leveldb_lock);
    // We hold GOSL-OWNER, so no process of ours is in here: a read lock on
    // LOCK is someone else's, who may hold it as long as they like.
    if (!locked.ok() && HeldByReader(name) && ReplaceLockFile(name)) {
      locked = target()->LockFile(name, &leveldb_lock);
      if (locked.ok()) {
        log::Warning("database '" + dir + "': a read lock held on its LOCK file (by another " +
                     "user: it would have stopped the service) is left on a replaced file");
      }
    }
    if (!locked.ok()) {
      ::close(owner.value());
      return locked;
    }
    *lock = new OwnerLock(owner.value(), leveldb_lock);
    return leveldb::Status::OK();
  }

  leveldb::Status UnlockFile(leveldb::FileLock* lock) override {
    delete static_cast<OwnerLock*>(lock);
    return leveldb::Status::OK();
  }
};

}  // namespace

leveldb::Env* StoreEnv() {
  static StoreFileSystem env;
  return &env;
}

}  // namespace gosl
