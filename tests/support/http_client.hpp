#pragma once

#include <string>

#include "fcgi_client.hpp"

namespace gosl::test {

// One HTTP/1.1 request to 127.0.0.1:port with "Connection: close". Adds Host, and Content-Length when `body` is
// non-empty or the method is POST/PUT/PATCH, unless `headers` already has them. Reads the response framed by
// Content-Length, chunked Transfer-Encoding, or connection close; 1xx interim responses are skipped. Throws
// std::runtime_error on IO failure, a malformed response, or when the exchange takes longer than timeout_ms.
HttpReply HttpRequest(int port, const std::string& method, const std::string& target, const std::string& body = "",
                      const Params& headers = {}, int timeout_ms = 10000);

// A persistent (keep-alive) connection to 127.0.0.1:port on which requests are sent one after another, to check
// that a server keeps connections open between requests.
class HttpConnection {
 public:
  // Connects immediately; `timeout_ms` applies to the connect and to each Send().
  explicit HttpConnection(int port, int timeout_ms = 10000);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // Sends one request without a Connection header (HTTP/1.1 default: keep-alive) and reads its response. Throws
  // std::runtime_error if the server closed the connection before a complete response (closed_by_server() is then
  // true), on a malformed response, or on timeout.
  HttpReply Send(const std::string& method, const std::string& target, const std::string& body = "",
                 const Params& headers = {});
  bool closed_by_server() const { return closed_by_server_; }
  // Waits up to timeout_ms for the server to close the connection; true if it did (any data it sends meanwhile is
  // kept for the next Send()).
  bool WaitForClose(int timeout_ms);

 private:
  int port_;
  int timeout_ms_;
  int fd_ = -1;
  std::string buffer_;  // bytes received beyond the last complete response
  bool closed_by_server_ = false;
};

}  // namespace gosl::test
