#include "http_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <stdexcept>

#include "io_util.hpp"

namespace gosl::test {
namespace {

using internal::Deadline;
using internal::ThrowErrno;
using internal::UniqueFd;

bool HasHeader(const Params& headers, const std::string& name) {
  for (const auto& header : headers) {
    if (internal::ToLower(header.first) == name) return true;
  }
  return false;
}

std::string BuildRequest(int port, const std::string& method, const std::string& target, const std::string& body,
                         const Params& headers, bool close) {
  std::string request = method + " " + target + " HTTP/1.1\r\n";
  if (!HasHeader(headers, "host")) request += "Host: 127.0.0.1:" + std::to_string(port) + "\r\n";
  if (close && !HasHeader(headers, "connection")) request += "Connection: close\r\n";
  const bool wants_length = !body.empty() || method == "POST" || method == "PUT" || method == "PATCH";
  if (wants_length && !HasHeader(headers, "content-length") && !HasHeader(headers, "transfer-encoding")) {
    request += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  for (const auto& [name, value] : headers) request += name + ": " + value + "\r\n";
  request += "\r\n";
  request += body;
  return request;
}

UniqueFd Connect(int port, const Deadline& deadline) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) ThrowErrno("HTTP client: socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  internal::ConnectBefore(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr), deadline,
                          "127.0.0.1:" + std::to_string(port));
  // Requests go out in one piece; without this, Nagle plus delayed ACKs can stall a keep-alive exchange.
  const int one = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

[[noreturn]] void Malformed(const std::string& why) { throw std::runtime_error("malformed HTTP response: " + why); }

// Parses an unsigned decimal or hexadecimal number that must make up the whole string.
size_t ParseSize(const std::string& text, int base, const std::string& what) {
  const std::string trimmed = internal::Trim(text);
  if (trimmed.empty() || trimmed.size() > 15) Malformed("bad " + what + " \"" + text + "\"");
  for (char c : trimmed) {
    const bool ok =
        base == 16 ? std::isxdigit(static_cast<unsigned char>(c)) : std::isdigit(static_cast<unsigned char>(c));
    if (!ok) Malformed("bad " + what + " \"" + text + "\"");
  }
  return static_cast<size_t>(std::stoull(trimmed, nullptr, base));
}

// Decodes a chunked body starting at `pos`. Returns false if more data is needed; otherwise sets *body and *end.
bool DecodeChunked(const std::string& in, size_t pos, std::string* body, size_t* end) {
  body->clear();
  for (;;) {
    const size_t eol = in.find('\n', pos);
    if (eol == std::string::npos) return false;
    std::string size_line = in.substr(pos, eol - pos);
    if (const size_t semi = size_line.find(';'); semi != std::string::npos) size_line.resize(semi);
    const size_t size = ParseSize(size_line, 16, "chunk size");
    pos = eol + 1;
    if (size == 0) break;
    if (in.size() < pos + size + 1) return false;
    body->append(in, pos, size);
    pos += size;
    if (in.compare(pos, 2, "\r\n") == 0) {
      pos += 2;
    } else if (in[pos] == '\n') {
      pos += 1;
    } else if (in[pos] == '\r' && pos + 1 == in.size()) {
      return false;
    } else {
      Malformed("chunk not followed by CRLF");
    }
  }
  // Trailer fields, then the terminating empty line.
  for (;;) {
    const size_t eol = in.find('\n', pos);
    if (eol == std::string::npos) return false;
    const bool empty = eol == pos || (eol == pos + 1 && in[pos] == '\r');
    pos = eol + 1;
    if (empty) break;
  }
  *end = pos;
  return true;
}

// Returns true once `in` holds a complete response (skipping 1xx interim ones), filling *reply and *consumed.
bool TryParseResponse(const std::string& in, bool head_request, bool eof, HttpReply* reply, size_t* consumed) {
  size_t start = 0;
  for (;;) {
    size_t headers_len = 0;
    size_t body_start = 0;
    if (!internal::FindHeaderEnd(in, start, &headers_len, &body_start)) return false;
    const std::string head = in.substr(start, headers_len);
    const size_t line_end = head.find('\n');
    std::string status_line = head.substr(0, line_end);
    if (!status_line.empty() && status_line.back() == '\r') status_line.pop_back();
    // "HTTP/1.1 200 OK": version, exactly three digits, then optional reason.
    if (status_line.compare(0, 5, "HTTP/") != 0 || status_line.size() < 12 || status_line[8] != ' ' ||
        !std::isdigit(static_cast<unsigned char>(status_line[9])) ||
        !std::isdigit(static_cast<unsigned char>(status_line[10])) ||
        !std::isdigit(static_cast<unsigned char>(status_line[11])) ||
        (status_line.size() > 12 && status_line[12] != ' ')) {
      Malformed("bad status line \"" + status_line + "\"");
    }
    HttpReply parsed;
    parsed.status = std::stoi(status_line.substr(9, 3));
    if (line_end != std::string::npos) {
      internal::ParseHeaderLines(head.substr(line_end + 1), &parsed.headers, "malformed HTTP response");
    }
    if (parsed.status >= 100 && parsed.status < 200 && parsed.status != 101) {
      start = body_start;
      continue;
    }
    if (const auto it = parsed.headers.find("content-type"); it != parsed.headers.end()) {
      parsed.content_type = it->second;
    }

    const auto te = parsed.headers.find("transfer-encoding");
    const auto cl = parsed.headers.find("content-length");
    if (head_request || parsed.status == 101 || parsed.status == 204 || parsed.status == 304) {
      *consumed = body_start;
    } else if (te != parsed.headers.end() && internal::ToLower(te->second).find("chunked") != std::string::npos) {
      if (!DecodeChunked(in, body_start, &parsed.body, consumed)) return false;
    } else if (cl != parsed.headers.end()) {
      const size_t length = ParseSize(cl->second, 10, "Content-Length");
      if (in.size() - body_start < length) return false;
      parsed.body = in.substr(body_start, length);
      *consumed = body_start + length;
    } else {
      // No framing: the body runs until the server closes the connection.
      if (!eof) return false;
      parsed.body = in.substr(body_start);
      *consumed = in.size();
    }
    *reply = std::move(parsed);
    return true;
  }
}

// Sends `request` and reads one response. Returns false if the server closed the connection first.
bool RoundTrip(int fd, const std::string& request, bool head_request, std::string* buffer, const Deadline& deadline,
               const std::string& what, HttpReply* reply) {
  size_t consumed = 0;
  const bool complete = internal::Exchange(fd, request, buffer, deadline, what, [&](const std::string& in, bool eof) {
    return TryParseResponse(in, head_request, eof, reply, &consumed);
  });
  if (complete) buffer->erase(0, consumed);
  return complete;
}

}  // namespace

HttpReply HttpRequest(int port, const std::string& method, const std::string& target, const std::string& body,
                      const Params& headers, int timeout_ms) {
  const std::string what = "HttpRequest(" + method + " 127.0.0.1:" + std::to_string(port) + target + ")";
  const Deadline deadline(timeout_ms);
  UniqueFd fd = Connect(port, deadline);
  std::string buffer;
  HttpReply reply;
  if (!RoundTrip(fd.get(), BuildRequest(port, method, target, body, headers, true), method == "HEAD", &buffer, deadline,
                 what, &reply)) {
    throw std::runtime_error(what + ": connection closed before a complete response (received " +
                             std::to_string(buffer.size()) + " bytes: \"" + buffer.substr(0, 200) + "\")");
  }
  return reply;
}

HttpConnection::HttpConnection(int port, int timeout_ms) : port_(port), timeout_ms_(timeout_ms) {
  fd_ = Connect(port, Deadline(timeout_ms)).Release();
}

HttpConnection::~HttpConnection() {
  if (fd_ >= 0) ::close(fd_);
}

HttpReply HttpConnection::Send(const std::string& method, const std::string& target, const std::string& body,
                               const Params& headers) {
  const std::string what = "HttpConnection(" + method + " 127.0.0.1:" + std::to_string(port_) + target + ")";
  if (closed_by_server_) throw std::runtime_error(what + ": connection already closed by server");
  HttpReply reply;
  if (!RoundTrip(fd_, BuildRequest(port_, method, target, body, headers, false), method == "HEAD", &buffer_,
                 Deadline(timeout_ms_), what, &reply)) {
    closed_by_server_ = true;
    throw std::runtime_error(what + ": connection closed by server before a complete response (received " +
                             std::to_string(buffer_.size()) + " bytes)");
  }
  return reply;
}

bool HttpConnection::WaitForClose(int timeout_ms) {
  if (closed_by_server_) return true;
  const Deadline deadline(timeout_ms);
  char buf[4096];
  for (;;) {
    pollfd p{fd_, POLLIN, 0};
    const int rc = ::poll(&p, 1, deadline.RemainingMs());
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) ThrowErrno("HttpConnection: poll");
    if (rc == 0) return false;
    const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n > 0) {
      buffer_.append(buf, static_cast<size_t>(n));
    } else if (n == 0 || errno == ECONNRESET) {
      closed_by_server_ = true;
      return true;
    } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      ThrowErrno("HttpConnection: recv");
    }
  }
}

}  // namespace gosl::test
