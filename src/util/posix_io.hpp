// The system calls every module repeats, written once: calls retried when a
// signal interrupts them (EINTR), reads and writes that move every byte,
// errno as text, and a small file mapped shared between processes.
#pragma once

#include <sys/types.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "gosl/status.hpp"

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

// "what: <strerror(error)>".
std::string ErrnoText(std::string_view what, int error);

// A small file that every process which opens it maps shared (the write
// counter and the registration rate table in the database directory).
class SharedMapping {
 public:
  // Opens path (creating it with mode when missing), allocates its first
  // bytes on disk and maps them. Returns kIOError naming the file.
  static Result<std::unique_ptr<SharedMapping>> Map(const std::string& path, size_t bytes,
                                                    mode_t mode);
  ~SharedMapping();
  SharedMapping(const SharedMapping&) = delete;
  SharedMapping& operator=(const SharedMapping&) = delete;

  void* data() const { return data_; }
  size_t size() const { return size_; }
  int fd() const { return fd_; }  // open for as long as the mapping, for flock()

 private:
  SharedMapping(int fd, void* data, size_t size) : fd_(fd), data_(data), size_(size) {}
  int fd_;
  void* data_;
  size_t size_;
};

}  // namespace gosl::posix
