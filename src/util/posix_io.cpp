#include "util/posix_io.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

namespace gosl::posix {

size_t OpenFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return 0;
  return static_cast<size_t>(limit.rlim_cur);
}

size_t OpenFileCount() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  size_t count = 0;
  while (const dirent* entry = ::readdir(dir)) count += entry->d_name[0] != '.';
  ::closedir(dir);
  return count > 0 ? count - 1 : 0;  // the listing's own descriptor
}

ssize_t ReadSome(int fd, char* out, size_t size) {
  return RetryOnEintr([&] { return ::read(fd, out, size); });
}

bool ReadFully(int fd, char* out, size_t size) {
  while (size > 0) {
    const ssize_t got = ReadSome(fd, out, size);
    if (got <= 0) {
      if (got == 0) errno = 0;
      return false;
    }
    out += got;
    size -= static_cast<size_t>(got);
  }
  return true;
}

size_t ReadUpTo(int fd, char* out, size_t size) {
  size_t done = 0;
  while (done < size) {
    const ssize_t got = ReadSome(fd, out + done, size - done);
    if (got <= 0) break;
    done += static_cast<size_t>(got);
  }
  return done;
}

ssize_t PreadFully(int fd, char* out, size_t size, uint64_t offset) {
  size_t done = 0;
  while (done < size) {
    const ssize_t got = RetryOnEintr(
        [&] { return ::pread(fd, out + done, size - done, static_cast<off_t>(offset + done)); });
    if (got < 0) return -1;
    if (got == 0) break;  // the end of the file
    done += static_cast<size_t>(got);
  }
  return static_cast<ssize_t>(done);
}

bool WriteFully(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t put = RetryOnEintr([&] { return ::write(fd, data.data(), data.size()); });
    if (put < 0) return false;
    data.remove_prefix(static_cast<size_t>(put));
  }
  return true;
}

bool SendFully(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t sent =
        RetryOnEintr([&] { return ::send(fd, data.data(), data.size(), MSG_NOSIGNAL); });
    if (sent <= 0) return false;
    data.remove_prefix(static_cast<size_t>(sent));
  }
  return true;
}

std::string ErrnoText(std::string_view what, int error) {
  std::string text(what);
  return text + ": " + std::strerror(error);
}

uint64_t DirectoryBytes(const std::string& dir) {
  uint64_t bytes = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir, ec)) {
    if (entry.is_regular_file(ec)) bytes += entry.file_size(ec);
  }
  return bytes;
}

}  // namespace gosl::posix
