#include "gosl/fcgi_loop.hpp"

#include <fcgiapp.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <string>

#include "gosl/dispatcher.hpp"
#include "gosl/logging.hpp"
#include "util/posix_io.hpp"

namespace gosl {
namespace {

volatile sig_atomic_t stop_requested = 0;

// Installed before FCGX_Init, so libfcgi keeps it (platform.md 6.4). Without
// SA_RESTART a blocked accept() returns, and FCGX_ShutdownPending() makes
// libfcgi give up accepting instead of retrying.
void OnStopSignal(int) {
  stop_requested = 1;
  FCGX_ShutdownPending();
}

void InstallStopHandlers() {
  struct sigaction action {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGUSR1, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
}

// CONTENT_LENGTH is untrusted: digits only, and anything above the cap only
// needs to be known as "too large".
size_t ParseContentLength(const char* text, bool& too_large) {
  too_large = false;
  if (!text) return 0;
  size_t length = 0;
  for (const char* p = text; *p; ++p) {
    if (*p < '0' || *p > '9') return 0;
    length = length * 10 + static_cast<size_t>(*p - '0');
    if (length > Request::kMaxBodyBytes) {
      too_large = true;
      return 0;
    }
  }
  return length;
}

template <typename GetParam>
Request RequestFromParams(GetParam get) {
  Request request;
  auto value = [&get](const char* name) {
    const char* v = get(name);
    return v ? std::string(v) : std::string();
  };
  request.method = value("REQUEST_METHOD");
  if (request.method.empty()) request.method = "GET";
  request.query = value("QUERY_STRING");
  request.content_type = value("CONTENT_TYPE");
  request.grid = value("HTTP_X_SECONDLIFE_SHARD");
  request.object_key = value("HTTP_X_SECONDLIFE_OBJECT_KEY");
  request.owner_key = value("HTTP_X_SECONDLIFE_OWNER_KEY");
  request.remote_addr = value("REMOTE_ADDR");
  request.accept = value("HTTP_ACCEPT");
  return request;
}

std::string RenderCgi(const Request& request, const Response& response) {
  std::string out = "Status: " + std::to_string(response.status) + " " +
                    std::string(ReasonPhrase(response.status)) +
                    "\r\nContent-Type: " + response.content_type +
                    "\r\nContent-Length: " + std::to_string(response.body.size()) + "\r\n";
  if (response.retry_after_s > 0) {
    out += "Retry-After: " + std::to_string(response.retry_after_s) + "\r\n";
  }
  for (const auto& [name, value] : response.headers) out += name + ": " + value + "\r\n";
  out += "\r\n";
  if (request.method != "HEAD") out += response.body;
  return out;
}

// What the web server may still send after a request's body: a body larger
// than we read, at most this much, is read and dropped before closing.
constexpr int kMaxUnreadBytes = 64 * 1024;

// Whether everything the web server sent for this request has been read,
// reading what is left (up to kMaxUnreadBytes). Then the connection can be
// closed at once. Otherwise libfcgi shuts down our side and waits for the
// server to close first, so that unread data never makes the kernel reset
// the connection under the answer: under mod_fcgid that wait is one more
// sleep and wake-up per request. Reading to the end blocks only until the
// server's empty FCGI_STDIN record, which every server sends after a body.
bool ReadToEnd(FCGX_Stream* in) {
  char scrap[4096];
  for (int left = kMaxUnreadBytes; left > 0;) {
    const int got = FCGX_GetStr(scrap, static_cast<int>(sizeof scrap), in);
    if (got <= 0) break;
    left -= got;
  }
  return FCGX_GetError(in) == 0 && FCGX_HasSeenEOF(in) == EOF;
}

}  // namespace

bool StdinIsListeningSocket() {
  int listening = 0;
  socklen_t length = sizeof(listening);
  return getsockopt(0, SOL_SOCKET, SO_ACCEPTCONN, &listening, &length) == 0 && listening;
}

bool EnvironmentIsCgi() { return std::getenv("GATEWAY_INTERFACE") != nullptr; }

int RunFastCgi(Store& store, Gate& gate) {
  InstallStopHandlers();
  if (FCGX_Init() != 0) {
    log::Critical("FastCGI: FCGX_Init failed");
    return 1;
  }
  FCGX_Request fcgi;
  if (FCGX_InitRequest(&fcgi, 0, 0) != 0) {
    log::Critical("FastCGI: FCGX_InitRequest failed");
    return 1;
  }
  log::Notice("FastCGI: serving on fd 0, database " + store.path());
  int rc = 0;
  while (!stop_requested && (rc = FCGX_Accept_r(&fcgi)) >= 0) {
    // libfcgi's strings die at FCGX_Finish_r: RequestFromParams copies them.
    Request request = RequestFromParams(
        [&fcgi](const char* name) { return FCGX_GetParam(name, fcgi.envp); });
    size_t length = ParseContentLength(FCGX_GetParam("CONTENT_LENGTH", fcgi.envp),
                                       request.body_too_large);
    request.body.resize(length);
    if (length > 0) {
      int got = FCGX_GetStr(request.body.data(), static_cast<int>(length), fcgi.in);
      request.body.resize(got > 0 ? static_cast<size_t>(got) : 0);
    }
    const Served served = Serve(request, store, &gate);
    const std::string out = RenderCgi(request, served.response);
    FCGX_PutStr(out.data(), static_cast<int>(out.size()), fcgi.out);
    // Detached, libfcgi closes without waiting for the server (ReadToEnd).
    if (ReadToEnd(fcgi.in)) FCGX_Detach(&fcgi);
    FCGX_Finish_r(&fcgi);
    LogServed(request, served);  // after the answer: the client does not wait for the log
    gate.activity().Count(served.response.tally, store.owns_database());
  }
  FCGX_Free(&fcgi, 1);
  if (stop_requested) {
    log::Notice("FastCGI: stop signal received, exiting");
    return 0;
  }
  log::Error(std::string("FastCGI: accept failed: ") + std::strerror(-rc));
  return 1;
}

int RunCgiOnce(Store& store, Gate& gate) {
  Request request = RequestFromParams([](const char* name) { return std::getenv(name); });
  size_t length = ParseContentLength(std::getenv("CONTENT_LENGTH"), request.body_too_large);
  request.body.resize(length);
  request.body.resize(posix::ReadUpTo(0, request.body.data(), length));
  const Served served = Serve(request, store, &gate);
  const bool written = posix::WriteFully(1, RenderCgi(request, served.response));
  LogServed(request, served);
  gate.activity().Count(served.response.tally, store.owns_database());
  return written ? 0 : 1;
}

}  // namespace gosl
