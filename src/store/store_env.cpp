#include "store/store_env.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "gosl/logging.hpp"
#include "util/posix_io.hpp"

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

// LevelDB's LOCK, locked with an open-file-description lock (F_OFD_SETLK):
// it conflicts with the fcntl locks of every other process (LevelDB's,
// 0.2.0's) and, unlike those, with a second lock by this same process too,
// whatever name the directory is reached by (its path, /proc/self/fd/N).
class LockFileLock final : public leveldb::FileLock {
 public:
  explicit LockFileLock(int fd) : fd_(fd) {}
  ~LockFileLock() override { ::close(fd_); }  // releases the lock

 private:
  int fd_;
};

bool WriteLock(int fd) {
  struct flock lock {};
  lock.l_type = F_WRLCK;
  lock.l_whence = SEEK_SET;
  return ::fcntl(fd, F_OFD_SETLK, &lock) == 0;
}

// The kind of lock that stops an exclusive one on fd: F_WRLCK, F_RDLCK, or
// F_UNLCK when none does.
short BlockingLock(int fd) {
  struct flock lock {};
  lock.l_type = F_WRLCK;
  lock.l_whence = SEEK_SET;
  return ::fcntl(fd, F_OFD_GETLK, &lock) == 0 ? lock.l_type : F_UNLCK;
}

// A new, owner-only LOCK put in place by rename: an open descriptor of the
// old one (and its lock) now points at a file nobody looks at. Returns the
// new file's descriptor, or -1.
int ReplaceLockFile(const std::string& name) {
  const std::string fresh = name + ".gosl-new";
  ::unlink(fresh.c_str());  // left by an earlier attempt
  const int fd = ::open(fresh.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return -1;
  if (::rename(fresh.c_str(), name.c_str()) == 0) return fd;
  ::close(fd);
  ::unlink(fresh.c_str());
  return -1;
}

leveldb::Status LockError(const std::string& name, int error) {
  return leveldb::Status::IOError("lock " + name, std::strerror(error));
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

  // Requires: the caller holds the role of the database's path (PathLock),
  // so no process of ours is in here at the same time.
  leveldb::Status LockFile(const std::string& name, leveldb::FileLock** lock) override {
    *lock = nullptr;
    int fd = ::open(name.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) return LockError(name, errno);
    if (!WriteLock(fd)) {
      const int error = errno == EACCES ? EAGAIN : errno;  // either, when held
      // A read lock on LOCK is never LevelDB's, which takes write locks: it
      // is someone else's, who may hold it as long as they like. LOCK gets a
      // new file; the read lock stays on the old one.
      const bool held_by_reader = error == EAGAIN && BlockingLock(fd) == F_RDLCK;
      ::close(fd);
      fd = held_by_reader ? ReplaceLockFile(name) : -1;
      if (fd < 0 || !WriteLock(fd)) {
        if (fd >= 0) ::close(fd);
        return LockError(name, error);
      }
      log::Warning("database '" + name.substr(0, name.rfind('/')) + "': a read lock held on " +
                   "its LOCK file (by another user: it would have stopped the service) is left " +
                   "on a replaced file");
    }
    *lock = new LockFileLock(fd);
    return leveldb::Status::OK();
  }

  leveldb::Status UnlockFile(leveldb::FileLock* lock) override {
    delete static_cast<LockFileLock*>(lock);
    return leveldb::Status::OK();
  }
};

class ProcessLog final : public leveldb::Logger {
 public:
  void Logv(const char* format, std::va_list ap) override {
    if (!log::Enabled(log::Level::kDebug)) return;
    char line[512];
    const int length = std::vsnprintf(line, sizeof line, format, ap);
    if (length < 0) return;
    std::string_view text(line, std::min<size_t>(static_cast<size_t>(length), sizeof line - 1));
    while (!text.empty() && text.back() == '\n') text.remove_suffix(1);
    log::Debug("leveldb: " + std::string(text));
  }
};

}  // namespace

leveldb::Logger* StoreLog() {
  // Never destroyed: LevelDB's compaction thread may still log at exit.
  static auto* const logger = new ProcessLog;
  return logger;
}

leveldb::Env* StoreEnv() {
  static StoreFileSystem env;
  return &env;
}

}  // namespace gosl
