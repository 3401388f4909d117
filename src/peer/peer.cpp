#include "gosl/peer.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
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

#include "gosl/logging.hpp"
#include "gosl/version.hpp"
#include "peer/wire.hpp"
#include "store/db_files.hpp"
#include "util/posix_io.hpp"
#include "util/quiet_thread.hpp"

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

void SetTimeouts(int fd, int timeout_ms) {
  const timeval timeout{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
}

// Who is at the other end of a unix socket.
bool PeerCredentials(int fd, ucred& credentials) {
  socklen_t length = sizeof credentials;
  return ::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) == 0;
}

// The address of the socket file beside the database. A socket path is at
// most 107 bytes; a longer one is reached through its directory's descriptor
// (/proc/self/fd/N/...), which dir_fd then holds open.
struct SocketFile {
  sockaddr_un address{};
  socklen_t length = 0;
  int dir_fd = -1;

  explicit SocketFile(const std::string& db_path) {
    address.sun_family = AF_UNIX;
    std::string path = db_files::PeerSocketFile(db_path);
    if (path.size() >= sizeof address.sun_path) {
      const std::filesystem::path file(path);
      dir_fd = ::open(file.parent_path().c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
      path = "/proc/self/fd/" + std::to_string(dir_fd) + "/" + file.filename().string();
    }
    path = path.substr(0, sizeof address.sun_path - 1);
    std::memcpy(address.sun_path, path.data(), path.size());
    length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
  }
  ~SocketFile() {
    if (dir_fd >= 0) ::close(dir_fd);
  }
  sockaddr* get() { return reinterpret_cast<sockaddr*>(&address); }
};

// An abstract address: sun_path starts with a NUL byte.
socklen_t AbstractAddress(const std::string& name, sockaddr_un& out) {
  std::memset(&out, 0, sizeof out);
  out.sun_family = AF_UNIX;
  const size_t length = std::min(name.size(), sizeof(out.sun_path) - 1);
  std::memcpy(out.sun_path + 1, name.data(), length);
  return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + length);
}

int ListeningSocket(sockaddr* address, socklen_t length) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (::bind(fd, address, length) != 0 || ::listen(fd, 64) != 0) {
    const int error = errno;
    ::close(fd);
    errno = error;
    return -1;
  }
  return fd;
}

// The pid holding an fcntl lock on the database's LOCK, or 0.
pid_t LockHolder(const std::string& db_path) {
  const int fd = ::open(db_files::LockFile(db_path).c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return 0;
  struct flock lock {};
  lock.l_type = F_WRLCK;
  lock.l_whence = SEEK_SET;
  const bool asked = ::fcntl(fd, F_GETLK, &lock) == 0;
  ::close(fd);
  return asked && lock.l_type == F_WRLCK ? lock.l_pid : 0;
}

}  // namespace

std::string LegacyPeerAddress(const std::string& db_path) {
  std::error_code ec;
  std::string canonical = std::filesystem::weakly_canonical(db_path, ec).string();
  if (ec) canonical = db_path;
  // FNV-1a, as 0.2.0 computed it.
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (char c : canonical) hash = (hash ^ static_cast<uint8_t>(c)) * 0x100000001b3ULL;
  char name[40];
  std::snprintf(name, sizeof name, "gosl-basics-%016llx", static_cast<unsigned long long>(hash));
  return name;
}

struct PeerServer::Impl {
  Options options;
  Handler handler;
  int listen_fd = -1;         // the socket file
  int legacy_fd = -1;         // 0.2.0's abstract name; -1: none
  struct stat socket_file {};  // as bound, to remove only our own
  int wake[2] = {-1, -1};
  std::thread acceptor;
  mutable std::mutex mutex;
  std::condition_variable idle;
  std::set<int> connections;  // open peer connections, to shut down on stop
  bool stopping = false;
  bool said_full = false;

  void Accept() {
    for (;;) {
      pollfd fds[3] = {{wake[0], POLLIN, 0}, {listen_fd, POLLIN, 0}, {legacy_fd, POLLIN, 0}};
      if (::poll(fds, legacy_fd >= 0 ? 3 : 2, -1) < 0 && errno != EINTR) return;
      if (fds[0].revents) return;
      for (int i = 1; i < 3; ++i) {
        if (fds[i].fd >= 0 && (fds[i].revents & POLLIN)) AcceptOne(fds[i].fd, fds[i].fd == legacy_fd);
      }
    }
  }

  void AcceptOne(int listener, bool legacy) {
    const int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      // Out of descriptors or memory: let it pass instead of spinning.
      if (errno != EINTR && errno != ECONNABORTED) {
        pollfd wait{wake[0], POLLIN, 0};
        ::poll(&wait, 1, 50);
      }
      return;
    }
    // Only our own user id is answered: on the abstract name anyone could
    // connect, and it costs nothing to check on the socket file too.
    ucred peer{};
    if (!PeerCredentials(fd, peer) || peer.uid != ::geteuid()) {
      ::close(fd);
      return;
    }
    std::lock_guard<std::mutex> lock(mutex);
    if (stopping) {
      ::close(fd);
      return;
    }
    // Each connection holds a thread: a cap, so that a flood of connections
    // (by a process of ours gone wrong) cannot exhaust the host's threads.
    if (connections.size() >= options.max_connections) {
      if (!said_full) {
        log::Warning("database '" + options.db_path + "': " +
                     std::to_string(connections.size()) +
                     " processes connected, no more are answered until some leave");
        said_full = true;
      }
      ::close(fd);
      return;
    }
    said_full = false;
    SetTimeouts(fd, options.frame_timeout_ms);
    connections.insert(fd);
    try {
      QuietThread([this, fd, legacy] { Serve(fd, legacy); }).detach();
    } catch (const std::system_error&) {  // the host's thread limit: refuse this peer, live on
      connections.erase(fd);
      ::close(fd);
    }
  }

  // Waits for the next frame without a limit (a peer may be idle for
  // hours), then reads it within frame_timeout_ms.
  bool NextFrame(int fd, std::string& frame) {
    pollfd readable{fd, POLLIN, 0};
    if (posix::RetryOnEintr([&] { return ::poll(&readable, 1, -1); }) <= 0) return false;
    return ReadFrame(fd, frame);
  }

  PeerHelloReply Greet(std::string_view frame) {
    PeerHelloReply reply;
    reply.version = kVersion;
    PeerHello hello;
    DatabaseIdentity served = options.served(false);
    if (wire::DecodeHello(frame, hello) && DatabaseIdentity{hello.device, hello.inode} != served) {
      // The peer found another directory at the path: one swapped in since
      // this process last looked, which it takes over now.
      served = options.served(true);
    }
    reply.device = served.device;
    reply.inode = served.inode;
    if (!wire::DecodeHello(frame, hello)) {
      reply.status = Status::InvalidArgument("a peer must say hello first (peer protocol 2)");
    } else if (DatabaseIdentity{hello.device, hello.inode} != served) {
      reply.status = Status::Unavailable("this process serves another directory than the one at '" +
                                         options.db_path + "' (it was moved or replaced)");
    }
    return reply;
  }

  void Serve(int fd, bool legacy) {
    std::string frame;
    bool greeted = legacy;  // 0.2.0's peers say no hello
    while (NextFrame(fd, frame)) {
      if (!greeted) {
        const PeerHelloReply reply = Greet(frame);
        if (!WriteFrame(fd, wire::EncodeHelloReply(reply)) || !reply.status.ok()) break;
        greeted = true;
        continue;
      }
      PeerRequest request;
      int version = wire::kVersion1;
      PeerReply reply;
      bool peer_gone = false;
      if (!wire::DecodeRequest(frame, request, version) ||
          version != (legacy ? wire::kVersion1 : wire::kVersion2)) {
        version = legacy ? wire::kVersion1 : wire::kVersion2;
        reply.status = Status::InvalidArgument("malformed peer request");
      } else {
        reply = handler(request, [fd, &peer_gone](const std::vector<ExportEntry>& chunk) {
          peer_gone = peer_gone || !WriteFrame(fd, wire::EncodeChunk(chunk));
          return !peer_gone;
        });
      }
      if (peer_gone || !WriteFrame(fd, wire::EncodeReply(reply, version))) break;
    }
    std::lock_guard<std::mutex> lock(mutex);
    connections.erase(fd);
    ::close(fd);
    if (connections.empty()) idle.notify_all();
  }
};

PeerServer::PeerServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {
  impl_->acceptor = QuietThread([impl = impl_.get()] { impl->Accept(); });
}

Result<std::unique_ptr<PeerServer>> PeerServer::Start(const Options& options, Handler handler) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->handler = std::move(handler);
  SocketFile file(options.db_path);
  // Whoever holds the database's lock owns this name: a file left by an
  // owner that died is stale.
  const std::string path(file.address.sun_path);
  ::unlink(path.c_str());
  impl->listen_fd = ListeningSocket(file.get(), file.length);
  if (impl->listen_fd < 0 || ::stat(path.c_str(), &impl->socket_file) != 0 ||
      ::pipe2(impl->wake, O_CLOEXEC) != 0) {
    const int error = errno;
    if (impl->listen_fd >= 0) ::close(impl->listen_fd);
    return Status::IOError(posix::ErrnoText("peer socket '" + db_files::PeerSocketFile(options.db_path) + "'", error));
  }
  if (options.legacy_listener) {
    sockaddr_un legacy;
    const socklen_t length = AbstractAddress(LegacyPeerAddress(options.db_path), legacy);
    // Taken by a 0.2.0 owner of a directory moved away, or by anyone: then
    // 0.2.0 peers of this database are not answered (they answer 503).
    impl->legacy_fd = ListeningSocket(reinterpret_cast<sockaddr*>(&legacy), length);
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
  // Remove the socket file if it is still ours (a new owner may have bound
  // its own there since).
  SocketFile file(impl_->options.db_path);
  struct stat now {};
  if (::stat(file.address.sun_path, &now) == 0 && now.st_ino == impl_->socket_file.st_ino &&
      now.st_dev == impl_->socket_file.st_dev) {
    ::unlink(file.address.sun_path);
  }
  ::close(impl_->listen_fd);
  if (impl_->legacy_fd >= 0) ::close(impl_->legacy_fd);
  std::unique_lock<std::mutex> lock(impl_->mutex);
  for (int fd : impl_->connections) ::shutdown(fd, SHUT_RDWR);  // ends their reads
  impl_->idle.wait(lock, [this] { return impl_->connections.empty(); });
  lock.unlock();
  ::close(impl_->wake[0]);
  ::close(impl_->wake[1]);
}

size_t PeerServer::connections() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->connections.size();
}

namespace {

// A connected socket to address, or -1. The send timeout also bounds
// connect on a unix socket, which would otherwise wait for ever on an owner
// that stopped accepting.
int ConnectTo(sockaddr* address, socklen_t length, int timeout_ms, ucred& owner) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  SetTimeouts(fd, timeout_ms);
  if (::connect(fd, address, length) != 0 || !PeerCredentials(fd, owner) ||
      owner.uid != ::geteuid()) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

Result<std::unique_ptr<PeerClient>> PeerClient::Connect(const std::string& db_path,
                                                        const DatabaseIdentity& identity,
                                                        int timeout_ms) {
  ucred owner{};
  SocketFile file(db_path);
  int fd = ConnectTo(file.get(), file.length, timeout_ms, owner);
  if (fd >= 0) {
    std::string frame;
    PeerHelloReply reply;
    const PeerHello hello{identity.device, identity.inode, kVersion};
    if (!WriteFrame(fd, wire::EncodeHello(hello)) || !ReadFrame(fd, frame) ||
        !wire::DecodeHelloReply(frame, reply)) {
      ::close(fd);
      return Status::Unavailable("the process that holds the database did not say hello");
    }
    if (!reply.status.ok() || DatabaseIdentity{reply.device, reply.inode} != identity) {
      ::close(fd);
      return Status::Unavailable(reply.status.ok() ? "the process answering at '" + db_path +
                                                         "' holds another directory"
                                                   : reply.status.message());
    }
    return std::unique_ptr<PeerClient>(new PeerClient(fd, timeout_ms, wire::kVersion2, reply.version));
  }
  // A 0.2.0 owner listens on its abstract name only. Anyone may bind that
  // name: it is used only when the process there is the one that holds
  // this directory's lock.
  const pid_t holder = LockHolder(db_path);
  if (holder > 0) {
    sockaddr_un legacy;
    const socklen_t length = AbstractAddress(LegacyPeerAddress(db_path), legacy);
    fd = ConnectTo(reinterpret_cast<sockaddr*>(&legacy), length, timeout_ms, owner);
    if (fd >= 0 && owner.pid == holder) {
      return std::unique_ptr<PeerClient>(new PeerClient(fd, timeout_ms, wire::kVersion1, "0.2.0"));
    }
    if (fd >= 0) ::close(fd);
  }
  return Status::Unavailable("no process of ours answers for this database");
}

PeerClient::~PeerClient() { ::close(fd_); }

Result<PeerReply> PeerClient::Call(const PeerRequest& request) { return Call(request, timeout_ms_); }

Result<PeerReply> PeerClient::Call(const PeerRequest& request, int timeout_ms) {
  return Stream(request, timeout_ms, [](const ExportEntry&) {
    return Status::InvalidArgument("a chunk where none belongs");
  });
}

Result<PeerReply> PeerClient::Stream(const PeerRequest& request, int timeout_ms,
                                     const std::function<Status(const ExportEntry&)>& receive) {
  SetTimeouts(fd_, timeout_ms);
  const auto lost = [timeout_ms] {
    return Status::Unavailable("lost the process that holds the database (waited up to " +
                               std::to_string(timeout_ms) + " ms)");
  };
  std::string frame;
  if (!WriteFrame(fd_, wire::EncodeRequest(request, version_))) return lost();
  for (;;) {
    if (!ReadFrame(fd_, frame)) return lost();
    if (version_ == wire::kVersion1 || !wire::IsChunk(frame)) break;
    std::vector<ExportEntry> chunk;
    if (!wire::DecodeChunk(frame, chunk)) return lost();
    for (const ExportEntry& entry : chunk) {
      if (Status s = receive(entry); !s.ok()) return s;
    }
  }
  PeerReply reply;
  if (!wire::DecodeReply(frame, reply, version_)) return lost();
  if (timeout_ms != timeout_ms_) SetTimeouts(fd_, timeout_ms_);
  return reply;
}

}  // namespace gosl
