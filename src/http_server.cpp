#include "gosl/http_server.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "gosl/dispatcher.hpp"
#include "gosl/logging.hpp"
#include "gosl/text.hpp"
#include "util/posix_io.hpp"

namespace gosl {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

// A client that has not sent a whole request this long after the last
// answer (or the connection) is dropped, however it trickles bytes: the
// timer covers the whole read and is not restarted by partial data.
constexpr std::chrono::seconds kIdleTimeout{30};
constexpr size_t kMaxHeaderBytes = 16 * 1024;

size_t DefaultMaxConnections() {
  const size_t limit = posix::OpenFileLimit();
  if (limit == 0) return 512;
  return std::clamp<size_t>(limit / 2, 16, 512);
}

// RFC 9112 section 6.1: a request body is chunked only when chunked is the
// final (here: the only) transfer coding; anything else is ambiguous behind a
// proxy (request smuggling) and refused, as is Transfer-Encoding together
// with Content-Length (section 6.3).
Status CheckFraming(const http::request<http::string_body>& message) {
  const auto coding = message.find(http::field::transfer_encoding);
  if (coding == message.end()) return Status::OK();
  std::string value(coding->value());
  value.erase(0, value.find_first_not_of(" \t"));
  value.erase(value.find_last_not_of(" \t") + 1);
  if (AsciiLowered(value) != "chunked") {
    return Status::InvalidArgument("unsupported Transfer-Encoding: '" + Sanitized(value, 40) + "'");
  }
  if (message.find(http::field::content_length) != message.end()) {
    return Status::InvalidArgument("a request with both Transfer-Encoding and Content-Length");
  }
  return Status::OK();
}

class Session;

// The open connections: at the cap, the one idle longest gives way.
class Sessions {
 public:
  explicit Sessions(size_t max) : max_(max) {}

  // Registers a new session; false when all max are busy (the new one is
  // then to be closed).
  bool Admit(const std::shared_ptr<Session>& session);
  void Forget(const Session* session) {
    std::lock_guard<std::mutex> lock(mutex_);
    open_.erase(session);
  }
  // A session waiting for its client's next request is idle.
  void SetIdle(const Session* session, bool idle) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = open_.find(session);
    if (it != open_.end()) it->second.idle_since = idle ? Clock::now() : Clock::time_point::max();
  }

 private:
  using Clock = std::chrono::steady_clock;
  struct Entry {
    std::weak_ptr<Session> session;
    Clock::time_point idle_since = Clock::time_point::max();  // max: busy
  };
  const size_t max_;
  std::mutex mutex_;
  std::map<const Session*, Entry> open_;  // guarded by mutex_
  bool said_full_ = false;
};

Request ToRequest(const http::request<http::string_body>& message, const std::string& remote) {
  Request request;
  request.method = std::string(message.method_string());
  const std::string target(message.target());
  if (size_t question = target.find('?'); question != std::string::npos) {
    request.query = target.substr(question + 1);
  }
  request.body = message.body();
  request.content_type = std::string(message[http::field::content_type]);
  request.grid = std::string(message["X-SecondLife-Shard"]);
  request.object_key = std::string(message["X-SecondLife-Object-Key"]);
  request.owner_key = std::string(message["X-SecondLife-Owner-Key"]);
  request.remote_addr = remote;
  request.accept = std::string(message[http::field::accept]);
  return request;
}

// One connection: read a request, answer it, and again while the client
// keeps the connection alive.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, Store& store, Gate& gate, std::shared_ptr<Sessions> sessions,
          const HttpServerOptions& options)
      : stream_(std::move(socket)),
        store_(store),
        gate_(gate),
        sessions_(std::move(sessions)),
        options_(options),
        closing_at_(std::chrono::steady_clock::now() +
                    std::chrono::seconds(options.max_connection_seconds)) {
    beast::error_code ec;
    auto endpoint = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_ = endpoint.address().to_string();
  }
  ~Session() { sessions_->Forget(this); }

  void Start() {
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&Session::Read, shared_from_this()));
  }

  // Closes the connection to make room for a new client (from any thread).
  void Evict() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      beast::error_code ignored;
      self->stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
      self->stream_.socket().close(ignored);
    });
  }

 private:
  void Read() {
    sessions_->SetIdle(this, true);
    parser_.emplace();
    parser_->body_limit(Request::kMaxBodyBytes);
    parser_->header_limit(kMaxHeaderBytes);
    stream_.expires_after(kIdleTimeout);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::OnRead, shared_from_this()));
  }

  void OnRead(beast::error_code ec, size_t) {
    if (ec == http::error::body_limit) {
      return Refuse(Status::TooLarge("request body is larger than " +
                                     std::to_string(Request::kMaxBodyBytes) + " bytes"));
    }
    if (ec && ec.category() == beast::error_code(http::error::end_of_stream).category() &&
        ec != http::error::end_of_stream && ec != http::error::partial_message) {
      return Refuse(Status::InvalidArgument("malformed HTTP request: " + ec.message()));
    }
    if (ec) return Close();  // the client left, timed out, or reset the connection
    sessions_->SetIdle(this, false);

    const auto& message = parser_->get();
    if (Status framing = CheckFraming(message); !framing.ok()) return Refuse(framing);
    const Request request = ToRequest(message, remote_);
    const Served served = Serve(request, store_, &gate_);
    LogServed(request, served);
    gate_.activity().Count(served.response.tally, store_.owns_database());
    // However busy, a connection ends after so many requests or so long.
    const bool keep_alive = message.keep_alive() &&
                            ++requests_ < options_.max_requests_per_connection &&
                            std::chrono::steady_clock::now() < closing_at_;
    Write(served.response, keep_alive, message.method() == http::verb::head, message.version());
  }

  void Refuse(const Status& status) {
    Response response = ErrorResponse(status);
    log::Info(std::to_string(response.status) + " refused: " + status.message() +
              (remote_.empty() ? "" : " from " + remote_));
    Write(response, /*keep_alive=*/false, /*head=*/false, 11);
  }

  void Write(const Response& response, bool keep_alive, bool head, unsigned version) {
    response_.emplace(static_cast<http::status>(response.status), version);
    response_->set(http::field::content_type, response.content_type);
    if (response.retry_after_s > 0) {
      response_->set(http::field::retry_after, std::to_string(response.retry_after_s));
    }
    for (const auto& [name, value] : response.headers) response_->set(name, value);
    response_->keep_alive(keep_alive);
    response_->body() = response.body;
    response_->prepare_payload();
    if (head) response_->body().clear();  // Content-Length still tells the size
    http::async_write(stream_, *response_,
                      beast::bind_front_handler(&Session::OnWrite, shared_from_this(), keep_alive));
  }

  void OnWrite(bool keep_alive, beast::error_code ec, size_t) {
    if (ec || !keep_alive) return Close();
    Read();
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  beast::tcp_stream stream_;
  Store& store_;
  Gate& gate_;
  // Shared: at exit the io_context destroys pending handlers in any order,
  // so a session may outlive the listener.
  std::shared_ptr<Sessions> sessions_;
  const HttpServerOptions& options_;
  const std::chrono::steady_clock::time_point closing_at_;
  int requests_ = 0;
  std::string remote_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::string_body>> response_;
};

bool Sessions::Admit(const std::shared_ptr<Session>& session) {
  std::shared_ptr<Session> evicted;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (open_.size() >= max_) {
      auto oldest = open_.end();
      for (auto it = open_.begin(); it != open_.end(); ++it) {
        if (it->second.idle_since == Clock::time_point::max()) continue;
        if (oldest == open_.end() || it->second.idle_since < oldest->second.idle_since) oldest = it;
      }
      if (oldest == open_.end()) {
        if (!said_full_) {
          log::Warning("--server: " + std::to_string(open_.size()) +
                       " connections, all busy: refusing new ones until one ends");
          said_full_ = true;
        }
        return false;
      }
      evicted = oldest->second.session.lock();
      open_.erase(oldest);
    }
    said_full_ = false;
    open_[session.get()].session = session;
  }
  if (evicted) evicted->Evict();
  return true;
}

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(net::io_context& io, tcp::acceptor&& acceptor, Store& store, Gate& gate,
           const HttpServerOptions& options)
      : io_(io),
        acceptor_(std::move(acceptor)),
        store_(store),
        gate_(gate),
        options_(options),
        sessions_(std::make_shared<Sessions>(options.max_connections ? options.max_connections
                                                                      : DefaultMaxConnections())),
        pause_(io) {}

  void Accept() {
    acceptor_.async_accept(net::make_strand(io_),
                           beast::bind_front_handler(&Listener::OnAccept, shared_from_this()));
  }

 private:
  void OnAccept(beast::error_code ec, tcp::socket socket) {
    if (!ec) {
      auto session = std::make_shared<Session>(std::move(socket), store_, gate_, sessions_, options_);
      if (sessions_->Admit(session)) session->Start();
    } else if (ec != net::error::operation_aborted) {
      // Out of descriptors: pause instead of spinning (and flooding the log).
      log::Warning("--server: accept failed: " + ec.message());
      pause_.expires_after(std::chrono::milliseconds(100));
      pause_.async_wait([self = shared_from_this()](beast::error_code) {
        if (self->acceptor_.is_open()) self->Accept();
      });
      return;
    }
    if (acceptor_.is_open()) Accept();
  }

  net::io_context& io_;
  tcp::acceptor acceptor_;
  Store& store_;
  Gate& gate_;
  const HttpServerOptions& options_;
  std::shared_ptr<Sessions> sessions_;
  net::steady_timer pause_;
};

// systemd's socket activation (sd_listen_fds(3)): when LISTEN_PID is this
// process and LISTEN_FDS is at least 1, the listening socket is fd 3. The
// variables are removed so that nothing started later takes them for its own.
constexpr int kFirstPassedFd = 3;

bool SocketPassedBySystemd() {
  const char* pid = std::getenv("LISTEN_PID");
  const char* fds = std::getenv("LISTEN_FDS");
  if (pid == nullptr || fds == nullptr) return false;
  const bool ours = std::strtol(pid, nullptr, 10) == static_cast<long>(::getpid()) &&
                    std::strtol(fds, nullptr, 10) >= 1;
  ::unsetenv("LISTEN_PID");
  ::unsetenv("LISTEN_FDS");
  ::unsetenv("LISTEN_FDNAMES");
  return ours;
}

// Takes the passed socket if it is a listening TCP socket; otherwise says why.
bool AdoptPassedSocket(tcp::acceptor& acceptor) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  int listening = 0;
  socklen_t flag_length = sizeof listening;
  if (::getsockname(kFirstPassedFd, reinterpret_cast<sockaddr*>(&address), &length) != 0 ||
      (address.ss_family != AF_INET && address.ss_family != AF_INET6) ||
      ::getsockopt(kFirstPassedFd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &flag_length) != 0 ||
      !listening) {
    log::Critical("--server: the socket systemd passed (fd 3) is not a listening TCP socket: "
                  "give the .socket unit a ListenStream= address and port");
    return false;
  }
  ::fcntl(kFirstPassedFd, F_SETFD, FD_CLOEXEC);
  beast::error_code ec;
  acceptor.assign(address.ss_family == AF_INET ? tcp::v4() : tcp::v6(), kFirstPassedFd, ec);
  if (ec) {
    log::Critical("--server: cannot use the socket systemd passed: " + ec.message());
    return false;
  }
  return true;
}

// Binds and listens on --bind:--port.
bool Listen(tcp::acceptor& acceptor, const HttpServerOptions& options) {
  beast::error_code ec;
  // make_address is inet_pton: no resolver, nothing glibc's NSS must load.
  auto address = net::ip::make_address(options.bind, ec);
  if (ec) {
    log::Critical("--server: '" + options.bind + "' is not a numeric address");
    return false;
  }
  tcp::endpoint endpoint(address, static_cast<unsigned short>(options.port));
  if (acceptor.open(endpoint.protocol(), ec), !ec) {
    acceptor.set_option(net::socket_base::reuse_address(true), ec);
    acceptor.bind(endpoint, ec);
  }
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    log::Critical("--server: cannot listen on " + options.bind + ":" +
                  std::to_string(options.port) + ": " + ec.message());
    return false;
  }
  return true;
}

}  // namespace

int RunHttpServer(Store& store, Gate& gate, const HttpServerOptions& options) {
  net::io_context io(options.threads);
  beast::error_code ec;
  tcp::acceptor acceptor(io);
  const bool passed = SocketPassedBySystemd();
  if (passed ? !AdoptPassedSocket(acceptor) : !Listen(acceptor, options)) return 1;
  if (passed) log::Info("--server: using the socket systemd passed; --bind and --port are not used");
  const auto local = acceptor.local_endpoint(ec);
  log::Notice("--server: listening on http://" + local.address().to_string() + ":" +
              std::to_string(local.port()) + "/, database " + store.path());

  std::make_shared<Listener>(io, std::move(acceptor), store, gate, options)->Accept();
  net::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&io](beast::error_code, int) { io.stop(); });

  std::vector<std::thread> threads;
  for (int i = 1; i < options.threads; ++i) threads.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& thread : threads) thread.join();
  log::Notice("--server: stop signal received, exiting");
  return 0;
}

}  // namespace gosl
