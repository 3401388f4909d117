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

#include "peer/wire.hpp"
#include "util/posix_io.hpp"

namespace gosl {
namespace {

bool WriteFrame(int fd, const std::string& payload) {
  return posix::SendFully(fd, wire::FrameHeader(payload.size()) + payload);
}

bool ReadFrame(int fd, std::string& payload) {
  char header[wire::kFrameHeaderBytes];
  uint32_t length = 0;
  if (!posix::ReadFully(fd, header, sizeof header) ||
      !wire::DecodeFrameHeader(std::string_view(header, sizeof header), length)) {
    return false;
  }
  payload.resize(length);
  return posix::ReadFully(fd, payload.data(), length);
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
      if (wire::DecodeRequest(frame, request)) {
        reply = handler(request);
      } else {
        reply.status = Status::InvalidArgument("malformed peer request");
      }
      if (!WriteFrame(fd, wire::EncodeReply(reply))) break;
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
  if (!WriteFrame(fd_, wire::EncodeRequest(request)) || !ReadFrame(fd_, frame) ||
      !wire::DecodeReply(frame, reply)) {
    return Status::Unavailable("lost the process that holds the database (waited up to " +
                               std::to_string(timeout_ms_) + " ms)");
  }
  return reply;
}

}  // namespace gosl
