#include "fcgi_client.hpp"

#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <stdexcept>

#include "io_util.hpp"

namespace gosl::test {
namespace {

// Values from the FastCGI 1.0 specification.
constexpr uint8_t kVersion = 1;
constexpr uint8_t kBeginRequest = 1;
constexpr uint8_t kEndRequest = 3;
constexpr uint8_t kParams = 4;
constexpr uint8_t kStdin = 5;
constexpr uint8_t kStdout = 6;
constexpr uint8_t kStderr = 7;
constexpr uint16_t kResponderRole = 1;
constexpr uint16_t kRequestId = 1;
constexpr size_t kHeaderLen = 8;
constexpr size_t kMaxContent = 65535;

void AppendRecord(std::string* out, uint8_t type, const char* data, size_t len) {
  // Padding to a multiple of 8 is what the spec recommends, and it makes the server handle padding.
  const size_t padding = (8 - len % 8) % 8;
  const char header[kHeaderLen] = {
      static_cast<char>(kVersion),        static_cast<char>(type),
      static_cast<char>(kRequestId >> 8), static_cast<char>(kRequestId & 0xff),
      static_cast<char>(len >> 8),        static_cast<char>(len & 0xff),
      static_cast<char>(padding),         0,
  };
  out->append(header, kHeaderLen);
  out->append(data, len);
  out->append(padding, '\0');
}

// Splits a stream into records of at most 64 KiB - 1 and terminates it with an empty record.
void AppendStream(std::string* out, uint8_t type, const std::string& data) {
  for (size_t pos = 0; pos < data.size(); pos += kMaxContent) {
    AppendRecord(out, type, data.data() + pos, std::min(kMaxContent, data.size() - pos));
  }
  AppendRecord(out, type, nullptr, 0);
}

void AppendLength(std::string* out, size_t len) {
  if (len < 128) {
    out->push_back(static_cast<char>(len));
    return;
  }
  if (len > 0x7fffffff) throw std::runtime_error("FastCgiRequest: param too long");
  out->push_back(static_cast<char>(((len >> 24) & 0x7f) | 0x80));
  out->push_back(static_cast<char>((len >> 16) & 0xff));
  out->push_back(static_cast<char>((len >> 8) & 0xff));
  out->push_back(static_cast<char>(len & 0xff));
}

std::string EncodeParams(const Params& params) {
  std::string encoded;
  for (const auto& [name, value] : params) {
    AppendLength(&encoded, name.size());
    AppendLength(&encoded, value.size());
    encoded += name;
    encoded += value;
  }
  return encoded;
}

// Incrementally consumes records from the server until FCGI_END_REQUEST.
class ReplyReader {
 public:
  explicit ReplyReader(const std::string& what) : what_(what) {}

  bool Consume(const std::string& in) {
    while (!ended_ && in.size() - pos_ >= kHeaderLen) {
      const auto byte = [&](size_t i) { return static_cast<uint8_t>(in[pos_ + i]); };
      const uint8_t version = byte(0);
      const uint8_t type = byte(1);
      const unsigned request_id = (byte(2) << 8) | byte(3);
      const size_t content_len = (byte(4) << 8) | byte(5);
      const size_t padding = byte(6);
      if (version != kVersion) Malformed("record version " + std::to_string(version));
      if (in.size() - pos_ < kHeaderLen + content_len + padding) break;
      const std::string content = in.substr(pos_ + kHeaderLen, content_len);
      pos_ += kHeaderLen + content_len + padding;
      // Management records (request id 0), e.g. FCGI_UNKNOWN_TYPE, are not part of the reply.
      if (request_id == 0) continue;
      if (request_id != kRequestId) Malformed("record for unknown request id " + std::to_string(request_id));
      switch (type) {
        case kStdout:
          stdout_ += content;
          break;
        case kStderr:
          stderr_ += content;
          break;
        case kEndRequest:
          if (content_len < 8) Malformed("short FCGI_END_REQUEST body");
          protocol_status_ = static_cast<uint8_t>(content[4]);
          ended_ = true;
          break;
        default:
          Malformed("unexpected record type " + std::to_string(type));
      }
    }
    return ended_;
  }

  uint8_t protocol_status() const { return protocol_status_; }
  const std::string& stdout_data() const { return stdout_; }
  const std::string& stderr_data() const { return stderr_; }

 private:
  [[noreturn]] void Malformed(const std::string& why) const {
    throw std::runtime_error(what_ + ": malformed reply: " + why);
  }

  std::string what_;
  size_t pos_ = 0;
  bool ended_ = false;
  uint8_t protocol_status_ = 0;
  std::string stdout_;
  std::string stderr_;
};

}  // namespace

std::string EncodeFastCgiRequest(const Params& params, const std::string& body) {
  std::string request;
  const char begin[8] = {
      static_cast<char>(kResponderRole >> 8), static_cast<char>(kResponderRole & 0xff), 0, 0, 0, 0, 0, 0};
  AppendRecord(&request, kBeginRequest, begin, sizeof(begin));
  AppendStream(&request, kParams, EncodeParams(params));
  AppendStream(&request, kStdin, body);
  return request;
}

HttpReply FastCgiRequest(const std::string& socket_path, const Params& params, const std::string& body,
                         int timeout_ms) {
  const std::string what = "FastCgiRequest(" + socket_path + ")";
  const internal::Deadline deadline(timeout_ms);

  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof(addr.sun_path)) throw std::runtime_error(what + ": socket path too long");
  socket_path.copy(addr.sun_path, socket_path.size());
  internal::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) internal::ThrowErrno(what + ": socket");
  internal::ConnectBefore(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr), deadline, socket_path);

  const std::string request = EncodeFastCgiRequest(params, body);
  ReplyReader reader(what);
  std::string received;
  const bool complete = internal::Exchange(fd.get(), request, &received, deadline, what,
                                           [&reader](const std::string& in, bool) { return reader.Consume(in); });
  if (!complete) {
    throw std::runtime_error(what + ": connection closed before FCGI_END_REQUEST (received " +
                             std::to_string(received.size()) + " bytes; stdout so far: \"" + reader.stdout_data() +
                             "\", stderr: \"" + reader.stderr_data() + "\")");
  }
  if (reader.protocol_status() != 0) {
    throw std::runtime_error(what + ": FCGI_END_REQUEST protocolStatus " + std::to_string(reader.protocol_status()) +
                             " (1=CANT_MPX_CONN 2=OVERLOADED 3=UNKNOWN_ROLE)");
  }
  HttpReply reply;
  try {
    reply = ParseCgiResponse(reader.stdout_data());
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(what + ": " + e.what() + " (stderr: \"" + reader.stderr_data() + "\")");
  }
  reply.stderr_data = reader.stderr_data();
  return reply;
}

Params CgiParams(const std::string& method, const std::string& query, const std::string& body,
                 const std::string& content_type, const Params& extra) {
  Params params = {{"REQUEST_METHOD", method}, {"QUERY_STRING", query}};
  if (!body.empty() || method == "POST") params.emplace_back("CONTENT_LENGTH", std::to_string(body.size()));
  if (!content_type.empty()) params.emplace_back("CONTENT_TYPE", content_type);
  params.emplace_back("GATEWAY_INTERFACE", "CGI/1.1");
  params.emplace_back("SERVER_PROTOCOL", "HTTP/1.1");
  params.emplace_back("SCRIPT_NAME", "/gosl-basics.fcgi");
  params.emplace_back("REMOTE_ADDR", "127.0.0.1");
  params.insert(params.end(), extra.begin(), extra.end());
  return params;
}

HttpReply ParseCgiResponse(const std::string& raw) {
  size_t headers_len = 0;
  size_t body_start = 0;
  if (!internal::FindHeaderEnd(raw, 0, &headers_len, &body_start)) {
    throw std::runtime_error("malformed CGI response: no blank line after the headers in \"" + raw.substr(0, 200) +
                             "\"");
  }
  HttpReply reply;
  internal::ParseHeaderLines(raw.substr(0, headers_len), &reply.headers, "malformed CGI response");
  reply.status = 200;
  if (const auto it = reply.headers.find("status"); it != reply.headers.end()) {
    const std::string& value = it->second;
    const bool ok = value.size() >= 3 && std::isdigit(static_cast<unsigned char>(value[0])) &&
                    std::isdigit(static_cast<unsigned char>(value[1])) &&
                    std::isdigit(static_cast<unsigned char>(value[2])) && (value.size() == 3 || value[3] == ' ') &&
                    value[0] != '0';
    if (!ok) throw std::runtime_error("malformed CGI response: bad Status header \"" + value + "\"");
    reply.status = std::stoi(value.substr(0, 3));
  }
  if (const auto it = reply.headers.find("content-type"); it != reply.headers.end()) reply.content_type = it->second;
  reply.body = raw.substr(body_start);
  return reply;
}

}  // namespace gosl::test
