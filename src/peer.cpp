#include "gosl/peer.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <set>
#include <system_error>
#include <thread>

namespace gosl {
namespace {

// A frame is a 4-byte little-endian length and a payload; no request or
// reply comes near this size (names are at most 63 bytes).
constexpr uint32_t kMaxFrameBytes = 64 * 1024;

void PutU16(std::string& out, size_t value) {
  out += static_cast<char>(value & 0xFF);
  out += static_cast<char>((value >> 8) & 0xFF);
}

void PutText(std::string& out, std::string_view text) {
  text = text.substr(0, 0xFFFF);
  PutU16(out, text.size());
  out.append(text);
}

// Reads from the front of `in`; false when it is too short.
bool TakeBytes(std::string_view& in, size_t n, std::string_view& out) {
  if (in.size() < n) return false;
  out = in.substr(0, n);
  in.remove_prefix(n);
  return true;
}

bool TakeText(std::string_view& in, std::string& out) {
  std::string_view length_bytes, text;
  if (!TakeBytes(in, 2, length_bytes)) return false;
  size_t length = static_cast<uint8_t>(length_bytes[0]) | static_cast<uint8_t>(length_bytes[1]) << 8;
  if (!TakeBytes(in, length, text)) return false;
  out.assign(text);
  return true;
}

std::string EncodeRequest(const PeerRequest& r) {
  std::string out(1, static_cast<char>(r.op));
  out += r.only_grid ? '1' : '0';
  out.append(r.key.bytes());
  PutText(out, r.name);
  PutText(out, r.grid);
  return out;
}

bool DecodeRequest(std::string_view in, PeerRequest& r) {
  std::string_view op, only, key;
  if (!TakeBytes(in, 1, op) || !TakeBytes(in, 1, only) ||
      !TakeBytes(in, Uuid::kByteLength, key)) {
    return false;
  }
  r.op = static_cast<PeerOp>(op[0]);
  r.only_grid = only[0] == '1';
  r.key = Uuid::FromBytes(key);
  return TakeText(in, r.name) && TakeText(in, r.grid) && in.empty();
}

Status StatusFrom(Code code, std::string message) {
  switch (code) {
    case Code::kOk: return Status::OK();
    case Code::kInvalidArgument: return Status::InvalidArgument(std::move(message));
    case Code::kMissingArgument: return Status::MissingArgument(std::move(message));
    case Code::kNotFound: return Status::NotFound(std::move(message));
    case Code::kTooLarge: return Status::TooLarge(std::move(message));
    case Code::kTooLong: return Status::TooLong(std::move(message));
    case Code::kUnavailable: return Status::Unavailable(std::move(message));
    case Code::kIOError: return Status::IOError(std::move(message));
    case Code::kForbidden: return Status::Forbidden(std::move(message));
    case Code::kTooManyRequests: return Status::TooManyRequests(std::move(message));
    case Code::kInternal: return Status::Internal(std::move(message));
    case Code::kCorruption: break;
  }
  return Status::Corruption(std::move(message));
}

std::string EncodeReply(const PeerReply& r) {
  std::string out(1, static_cast<char>(r.status.code()));
  out += r.cacheable ? '1' : '0';
  PutText(out, r.status.message());
  PutU16(out, r.records.size());
  for (const AvatarRecord& record : r.records) {
    out.append(record.key.bytes());
    PutText(out, record.name);
    PutText(out, record.grid);
  }
  return out;
}

bool DecodeReply(std::string_view in, PeerReply& r) {
  std::string_view code, cacheable, count;
  std::string message;
  if (!TakeBytes(in, 1, code) || !TakeBytes(in, 1, cacheable) || !TakeText(in, message) ||
      !TakeBytes(in, 2, count)) {
    return false;
  }
  r.cacheable = cacheable[0] == '1';
  auto value = static_cast<uint8_t>(code[0]);
  if (value > static_cast<uint8_t>(Code::kInternal)) return false;
  r.status = StatusFrom(static_cast<Code>(value), std::move(message));
  size_t records = static_cast<uint8_t>(count[0]) | static_cast<uint8_t>(count[1]) << 8;
  r.records.clear();
  for (size_t i = 0; i < records; ++i) {
    std::string_view key;
    AvatarRecord record;
    if (!TakeBytes(in, Uuid::kByteLength, key) || !TakeText(in, record.name) ||
        !TakeText(in, record.grid)) {
      return false;
    }
    record.key = Uuid::FromBytes(key);
    r.records.push_back(std::move(record));
  }
  return in.empty();
}

bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t sent = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent <= 0) return false;
    data.remove_prefix(static_cast<size_t>(sent));
  }
  return true;
}

bool ReadAll(int fd, char* out, size_t n) {
  while (n > 0) {
    ssize_t got = ::recv(fd, out, n, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    out += got;
    n -= static_cast<size_t>(got);
  }
  return true;
}

bool WriteFrame(int fd, const std::string& payload) {
  std::string frame;
  uint32_t length = static_cast<uint32_t>(payload.size());
  for (int i = 0; i < 4; ++i) frame += static_cast<char>((length >> (8 * i)) & 0xFF);
  frame += payload;
  return WriteAll(fd, frame);
}

bool ReadFrame(int fd, std::string& payload) {
  unsigned char header[4];
  if (!ReadAll(fd, reinterpret_cast<char*>(header), 4)) return false;
  uint32_t length = header[0] | header[1] << 8 | header[2] << 16 | uint32_t{header[3]} << 24;
  if (length > kMaxFrameBytes) return false;
  payload.resize(length);
  return ReadAll(fd, payload.data(), length);
}

// An abstract address: sun_path starts with a NUL byte.
socklen_t MakeAddress(const std::string& address, sockaddr_un& out) {
  std::memset(&out, 0, sizeof out);
  out.sun_family = AF_UNIX;
  size_t length = std::min(address.size(), sizeof(out.sun_path) - 1);
  std::memcpy(out.sun_path + 1, address.data(), length);
  return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + length);
}

}  // namespace

std::string PeerAddress(const std::string& db_path) {
  std::error_code ec;
  std::string canonical = std::filesystem::weakly_canonical(db_path, ec).string();
  if (ec) canonical = db_path;
  // FNV-1a: a short, stable name for any path length.
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (char c : canonical) hash = (hash ^ static_cast<uint8_t>(c)) * 0x100000001b3ULL;
  char name[40];
  std::snprintf(name, sizeof name, "gosl-basics-%016llx", static_cast<unsigned long long>(hash));
  return name;
}

struct PeerServer::Impl {
  int listen_fd = -1;
  int wake[2] = {-1, -1};
  Handler handler;
  std::thread acceptor;
  std::mutex mutex;
  std::condition_variable idle;
  std::set<int> connections;  // open peer connections, to shut down on stop
  int workers = 0;
  bool stopping = false;

  void Accept() {
    for (;;) {
      pollfd fds[2] = {{listen_fd, POLLIN, 0}, {wake[0], POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0 && errno != EINTR) return;
      if (fds[1].revents) return;
      if (!(fds[0].revents & POLLIN)) continue;
      int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) {
        // Out of descriptors or memory: let it pass instead of spinning.
        if (errno != EINTR && errno != ECONNABORTED) ::poll(fds + 1, 1, 50);
        continue;
      }
      // Abstract sockets have no file permissions: on a shared host another
      // user could connect, so only our own user id is answered.
      ucred peer{};
      socklen_t length = sizeof peer;
      if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &length) != 0 || peer.uid != ::geteuid()) {
        ::close(fd);
        continue;
      }
      std::lock_guard<std::mutex> lock(mutex);
      if (stopping) {
        ::close(fd);
        return;
      }
      connections.insert(fd);
      ++workers;
      try {
        std::thread([this, fd] { Serve(fd); }).detach();
      } catch (const std::system_error&) {  // the host's thread limit: refuse this peer, live on
        connections.erase(fd);
        --workers;
        ::close(fd);
      }
    }
  }

  void Serve(int fd) {
    std::string frame;
    PeerRequest request;
    while (ReadFrame(fd, frame)) {
      PeerReply reply;
      if (DecodeRequest(frame, request)) {
        reply = handler(request);
      } else {
        reply.status = Status::InvalidArgument("malformed peer request");
      }
      if (!WriteFrame(fd, EncodeReply(reply))) break;
    }
    std::lock_guard<std::mutex> lock(mutex);
    connections.erase(fd);
    ::close(fd);
    if (--workers == 0) idle.notify_all();
  }
};

PeerServer::PeerServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {
  impl_->acceptor = std::thread([impl = impl_.get()] { impl->Accept(); });
}

Result<std::unique_ptr<PeerServer>> PeerServer::Start(const std::string& address, Handler handler) {
  auto impl = std::make_unique<Impl>();
  impl->handler = std::move(handler);
  impl->listen_fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (impl->listen_fd < 0) return Status::IOError(std::string("peer socket: ") + std::strerror(errno));
  sockaddr_un addr;
  socklen_t length = MakeAddress(address, addr);
  if (::bind(impl->listen_fd, reinterpret_cast<sockaddr*>(&addr), length) != 0) {
    int error = errno;
    ::close(impl->listen_fd);
    if (error == EADDRINUSE) return Status::Unavailable("another process answers for this database");
    return Status::IOError(std::string("peer socket bind: ") + std::strerror(error));
  }
  if (::listen(impl->listen_fd, 64) != 0 || ::pipe2(impl->wake, O_CLOEXEC) != 0) {
    int error = errno;
    ::close(impl->listen_fd);
    return Status::IOError(std::string("peer socket listen: ") + std::strerror(error));
  }
  return std::unique_ptr<PeerServer>(new PeerServer(std::move(impl)));
}

PeerServer::~PeerServer() {
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->stopping = true;
  }
  char wake = 1;
  if (::write(impl_->wake[1], &wake, 1) < 0) {
    // The pipe cannot be full (one byte, once); nothing else to do.
  }
  impl_->acceptor.join();
  ::close(impl_->listen_fd);
  std::unique_lock<std::mutex> lock(impl_->mutex);
  for (int fd : impl_->connections) ::shutdown(fd, SHUT_RDWR);  // ends their reads
  impl_->idle.wait(lock, [this] { return impl_->workers == 0; });
  lock.unlock();
  ::close(impl_->wake[0]);
  ::close(impl_->wake[1]);
}

Result<std::unique_ptr<PeerClient>> PeerClient::Connect(const std::string& address,
                                                        int timeout_ms) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::IOError(std::string("peer socket: ") + std::strerror(errno));
  // Before connect: on a unix socket the send timeout also bounds connect,
  // which would otherwise wait for ever on an owner that stopped accepting.
  timeval timeout{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  sockaddr_un addr;
  socklen_t length = MakeAddress(address, addr);
  ucred owner{};
  socklen_t owner_length = sizeof owner;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), length) != 0 ||
      ::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &owner, &owner_length) != 0 ||
      owner.uid != ::geteuid()) {
    ::close(fd);
    return Status::Unavailable("no process of ours answers for this database");
  }
  return std::unique_ptr<PeerClient>(new PeerClient(fd, timeout_ms));
}

PeerClient::~PeerClient() { ::close(fd_); }

Result<PeerReply> PeerClient::Call(const PeerRequest& request) {
  std::string frame;
  PeerReply reply;
  if (!WriteFrame(fd_, EncodeRequest(request)) || !ReadFrame(fd_, frame) ||
      !DecodeReply(frame, reply)) {
    return Status::Unavailable("lost the process that holds the database (waited up to " +
                               std::to_string(timeout_ms_) + " ms)");
  }
  return reply;
}

}  // namespace gosl
