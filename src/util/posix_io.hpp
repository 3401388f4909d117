// The system calls every module repeats, written once: calls retried when a
// signal interrupts them (EINTR), reads and writes that move every byte,
// errno as text.
#pragma once

#include <sys/types.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace gosl::posix {

// Calls call() again while it fails with EINTR; returns its last result.
template <typename Call>
auto RetryOnEintr(Call call) -> decltype(call()) {
  decltype(call()) result;
  do {
    result = call();
  } while (result < 0 && errno == EINTR);
  return result;
}

// read(2) once (retried on EINTR): the bytes read, 0 at the end, -1 on error.
ssize_t ReadSome(int fd, char* out, size_t size);
// Reads exactly size bytes. False at the end of the input (errno 0) or on
// an error (errno set).
bool ReadFully(int fd, char* out, size_t size);
// Reads until size bytes, the end of the input or an error: the bytes read.
size_t ReadUpTo(int fd, char* out, size_t size);
// pread(2) from offset until size bytes or the end of the file: the bytes
// read, -1 on an error.
ssize_t PreadFully(int fd, char* out, size_t size, uint64_t offset);
// Writes all of data; false on an error (errno set).
bool WriteFully(int fd, std::string_view data);
// The same on a socket, without SIGPIPE when the other end is gone.
bool SendFully(int fd, std::string_view data);

// The process's soft limit on open files (RLIMIT_NOFILE), or 0 when it has
// none or it cannot be read: each caller picks its own default then.
size_t OpenFileLimit();
// How many descriptors the process has open now (listed in /proc/self/fd;
// 0 without /proc).
size_t OpenFileCount();

// "what: <strerror(error)>".
// The bytes of the regular files under dir (0 when it cannot be read).
uint64_t DirectoryBytes(const std::string& dir);

std::string ErrnoText(std::string_view what, int error);

}  // namespace gosl::posix
