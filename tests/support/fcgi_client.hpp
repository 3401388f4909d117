#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace gosl::test {

struct HttpReply {
  int status = 0;                              // CGI "Status:" header (200 when absent) or HTTP status line
  std::string content_type;                    // "Content-Type:" header value
  std::map<std::string, std::string> headers;  // every response header, names lower-cased
  std::string body;
  std::string stderr_data;  // FCGI_STDERR stream (FastCGI only)
};

using Params = std::vector<std::pair<std::string, std::string>>;

// Connects to a FastCGI application listening on the unix socket `socket_path`, sends one FCGI_RESPONDER request
// (no keep-conn) with `params` and `body` as FCGI_STDIN, collects FCGI_STDOUT/FCGI_STDERR until FCGI_END_REQUEST and
// parses the CGI response. Throws std::runtime_error on connect/IO failure, a malformed reply, or when the whole
// exchange takes longer than `timeout_ms`.
HttpReply FastCgiRequest(const std::string& socket_path, const Params& params, const std::string& body = "",
                         int timeout_ms = 10000);

// The bytes of that request as a web server sends them: FCGI_BEGIN_REQUEST, the params and `body` as
// FCGI_STDIN, each stream ended by its empty record (for tests that drive the socket themselves).
std::string EncodeFastCgiRequest(const Params& params, const std::string& body = "");

// The CGI params a web server would send: REQUEST_METHOD, QUERY_STRING, CONTENT_LENGTH (when `body` is non-empty or
// the method is POST), CONTENT_TYPE (when non-empty), GATEWAY_INTERFACE, SERVER_PROTOCOL, SCRIPT_NAME, REMOTE_ADDR,
// then `extra` in order.
Params CgiParams(const std::string& method, const std::string& query, const std::string& body = "",
                 const std::string& content_type = "", const Params& extra = {});

// Parses a CGI response (header lines, blank line, body). Throws std::runtime_error if there is no blank line, a
// header line has no colon, or the Status header does not start with a number in [100, 999].
HttpReply ParseCgiResponse(const std::string& raw);

}  // namespace gosl::test
