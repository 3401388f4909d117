#pragma once

// Header-only helpers shared by the test-support clients; not meant for use by tests directly.

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>

namespace gosl::test::internal {

[[noreturn]] inline void ThrowErrno(const std::string& what) {
  const int err = errno;
  throw std::runtime_error(what + ": " + std::strerror(err));
}

// Owns a file descriptor so that every early exit (including exceptions) closes it.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { Reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.Release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) Reset(other.Release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }
  // close() is not retried on EINTR: on Linux the descriptor is gone either way.
  void Reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

class Deadline {
 public:
  explicit Deadline(int timeout_ms)
      : timeout_ms_(timeout_ms), end_(std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms)) {}

  int timeout_ms() const { return timeout_ms_; }
  bool Expired() const { return std::chrono::steady_clock::now() >= end_; }
  // Rounded up so that poll() never returns "timeout" while time is still left.
  int RemainingMs() const {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(end_ - std::chrono::steady_clock::now()).count();
    if (left <= 0) return 0;
    return left > INT_MAX ? INT_MAX : static_cast<int>(left);
  }

 private:
  int timeout_ms_;
  std::chrono::steady_clock::time_point end_;
};

inline void SetNonBlocking(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) ThrowErrno("fcntl(O_NONBLOCK)");
}

// Connects a non-blocking socket, giving up at the deadline instead of blocking forever.
inline void ConnectBefore(int fd, const sockaddr* addr, socklen_t len, const Deadline& deadline,
                          const std::string& what) {
  for (;;) {
    if (::connect(fd, addr, len) == 0) return;
    if (errno == EAGAIN) {
      // AF_UNIX reports a full listen backlog this way; the server may drain it soon.
      if (deadline.Expired()) throw std::runtime_error("connect to " + what + ": listen backlog full until timeout");
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      continue;
    }
    if (errno != EINPROGRESS && errno != EINTR) ThrowErrno("connect to " + what);
    break;
  }
  for (;;) {
    pollfd p{fd, POLLOUT, 0};
    const int rc = ::poll(&p, 1, deadline.RemainingMs());
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) ThrowErrno("poll");
    if (rc == 0) {
      throw std::runtime_error("connect to " + what + ": timed out after " + std::to_string(deadline.timeout_ms()) +
                               " ms");
    }
    break;
  }
  int err = 0;
  socklen_t err_len = sizeof(err);
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &err_len) < 0) ThrowErrno("getsockopt(SO_ERROR)");
  if (err != 0) {
    errno = err;
    ThrowErrno("connect to " + what);
  }
}

// Sends `out` while reading everything the peer sends into `*in`, until done(*in, eof) says the reply is complete.
// Reading and writing at the same time keeps a server that answers before consuming the whole request from
// deadlocking against us. If the peer stops reading (EPIPE/ECONNRESET) the rest of `out` is dropped and reading
// goes on, because the reply may already be on its way. Returns false if the peer closed before done() was satisfied;
// throws on timeout or other socket errors.
template <typename Done>
bool Exchange(int fd, const std::string& out, std::string* in, const Deadline& deadline, const std::string& what,
              Done done) {
  size_t sent = 0;
  bool writing = !out.empty();
  char buf[65536];
  for (;;) {
    pollfd p{fd, static_cast<short>(POLLIN | (writing ? POLLOUT : 0)), 0};
    const int rc = ::poll(&p, 1, deadline.RemainingMs());
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) ThrowErrno(what + ": poll");
    if (rc == 0) {
      throw std::runtime_error(what + ": timed out after " + std::to_string(deadline.timeout_ms()) + " ms (sent " +
                               std::to_string(sent) + "/" + std::to_string(out.size()) + " bytes, received " +
                               std::to_string(in->size()) + " bytes)");
    }
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
      const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
      if (n > 0) {
        in->append(buf, static_cast<size_t>(n));
        if (done(*in, false)) return true;
        continue;
      }
      if (n == 0 || errno == ECONNRESET) return done(*in, true);
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) ThrowErrno(what + ": recv");
    }
    if (writing && (p.revents & POLLOUT)) {
      const size_t chunk = std::min<size_t>(out.size() - sent, 1 << 20);
      const ssize_t n = ::send(fd, out.data() + sent, chunk, MSG_NOSIGNAL);
      if (n >= 0) {
        sent += static_cast<size_t>(n);
        writing = sent < out.size();
      } else if (errno == EPIPE || errno == ECONNRESET) {
        writing = false;
      } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        ThrowErrno(what + ": send");
      }
    }
  }
}

inline std::string ToLower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

inline std::string Trim(const std::string& s) {
  const size_t first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  const size_t last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

// Finds the blank line ending a header block ("\r\n\r\n" or "\n\n", whichever comes first). Returns false if there
// is none yet; otherwise *headers_len is the length of the header lines and *body_start where the body begins.
inline bool FindHeaderEnd(const std::string& raw, size_t from, size_t* headers_len, size_t* body_start) {
  // A reply with no headers at all starts with the blank line.
  if (raw.compare(from, 2, "\r\n") == 0 || raw.compare(from, 1, "\n") == 0) {
    *headers_len = 0;
    *body_start = from + (raw[from] == '\r' ? 2 : 1);
    return true;
  }
  const size_t crlf = raw.find("\r\n\r\n", from);
  const size_t lf = raw.find("\n\n", from);
  if (crlf == std::string::npos && lf == std::string::npos) return false;
  if (lf == std::string::npos || (crlf != std::string::npos && crlf < lf)) {
    *headers_len = crlf - from;
    *body_start = crlf + 4;
  } else {
    *headers_len = lf - from;
    *body_start = lf + 2;
  }
  return true;
}

// Parses "Name: value" lines (LF or CRLF terminated) into `*headers` with lower-cased names; repeated headers are
// joined with ", " as HTTP allows.
inline void ParseHeaderLines(const std::string& block, std::map<std::string, std::string>* headers,
                             const std::string& what) {
  size_t pos = 0;
  while (pos < block.size()) {
    size_t eol = block.find('\n', pos);
    if (eol == std::string::npos) eol = block.size();
    std::string line = block.substr(pos, eol - pos);
    pos = eol + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    const size_t colon = line.find(':');
    if (colon == std::string::npos || colon == 0) {
      throw std::runtime_error(what + ": malformed header line \"" + line + "\"");
    }
    const std::string name = ToLower(Trim(line.substr(0, colon)));
    const std::string value = Trim(line.substr(colon + 1));
    auto [it, inserted] = headers->emplace(name, value);
    if (!inserted) it->second += ", " + value;
  }
}

}  // namespace gosl::test::internal
