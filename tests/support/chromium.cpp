#include "chromium.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <fstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "gosl/response.hpp"

namespace gosl::test {
namespace {

void AppendUtf8(std::string& out, uint32_t code) {
  if (code < 0x80) {
    out += static_cast<char>(code);
  } else if (code < 0x800) {
    out += static_cast<char>(0xC0 | (code >> 6));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else {
    out += static_cast<char>(0xE0 | (code >> 12));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  }
}

}  // namespace

std::string JsonStringField(const std::string& json, const std::string& name) {
  const std::string marker = "\"" + name + "\":\"";
  size_t at = json.find(marker);
  if (at == std::string::npos) return "";
  std::string out;
  for (at += marker.size(); at < json.size() && json[at] != '"'; ++at) {
    if (json[at] != '\\' || at + 1 >= json.size()) {
      out += json[at];
      continue;
    }
    const char escaped = json[++at];
    switch (escaped) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'u':
        // Surrogate pairs do not occur in what the tests read back.
        AppendUtf8(out, static_cast<uint32_t>(std::stoul(json.substr(at + 1, 4), nullptr, 16)));
        at += 4;
        break;
      default: out += escaped;  // \" \\ \/
    }
  }
  return out;
}

std::string Base64Decoded(const std::string& text) {
  std::string out;
  uint32_t bits = 0;
  int count = 0;
  for (char c : text) {
    int value = -1;
    if (c >= 'A' && c <= 'Z') value = c - 'A';
    if (c >= 'a' && c <= 'z') value = c - 'a' + 26;
    if (c >= '0' && c <= '9') value = c - '0' + 52;
    if (c == '+') value = 62;
    if (c == '/') value = 63;
    if (value < 0) continue;  // '=' and line breaks
    bits = bits << 6 | static_cast<uint32_t>(value);
    if ((count += 6) >= 8) {
      count -= 8;
      out += static_cast<char>((bits >> count) & 0xFF);
    }
  }
  return out;
}

HeadlessChromium::HeadlessChromium() {
  // Built before fork: the child only calls what is safe between fork and exec.
  const std::vector<std::string> args = {
      kBinary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
      "--remote-debugging-pipe", "--no-first-run", "--no-default-browser-check",
      "--user-data-dir=" + profile_.path(), "--window-size=412,900", "about:blank"};
  std::vector<char*> argv;
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  int to_child[2], from_child[2];
  if (::pipe2(to_child, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  if (::pipe2(from_child, O_CLOEXEC) != 0) {
    ::close(to_child[0]);
    ::close(to_child[1]);
    throw std::runtime_error("pipe failed");
  }
  pid_ = ::fork();
  if (pid_ < 0) {
    for (int fd : {to_child[0], to_child[1], from_child[0], from_child[1]}) ::close(fd);
    throw std::runtime_error("fork failed");
  }
  if (pid_ == 0) {
    ::setpgid(0, 0);  // one kill reaches its renderer and helpers
    // Above 4 first, so that neither dup2 undoes the other (the pipes may be 3 and 4).
    const int in = ::fcntl(to_child[0], F_DUPFD_CLOEXEC, 10);
    const int out = ::fcntl(from_child[1], F_DUPFD_CLOEXEC, 10);
    ::dup2(in, 3);
    ::dup2(out, 4);
    const int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::execv(kBinary, argv.data());
    ::_exit(127);
  }
  ::close(to_child[0]);
  ::close(from_child[1]);
  to_browser_ = to_child[1];
  from_browser_ = from_child[0];
  try {
    const std::string target = Call("Target.createTarget", "{\"url\":\"about:blank\"}", false);
    const std::string attached = Call(
        "Target.attachToTarget",
        "{\"targetId\":\"" + JsonStringField(target, "targetId") + "\",\"flatten\":true}", false);
    session_ = JsonStringField(attached, "sessionId");
    if (session_.empty()) throw std::runtime_error("chromium gave no page session: " + attached);
  } catch (...) {
    Stop();  // no destructor runs for a constructor that throws
    throw;
  }
}

HeadlessChromium::~HeadlessChromium() { Stop(); }

void HeadlessChromium::Stop() {
  if (to_browser_ >= 0) ::close(to_browser_);
  if (from_browser_ >= 0) ::close(from_browser_);
  if (pid_ > 0) {
    ::kill(-pid_, SIGKILL);
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  to_browser_ = from_browser_ = -1;
}

std::string HeadlessChromium::ReadMessage(int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    const size_t end = pending_.find('\0');
    if (end != std::string::npos) {
      std::string message = pending_.substr(0, end);
      pending_.erase(0, end + 1);
      return message;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd readable{from_browser_, POLLIN, 0};
    const int ready = left.count() <= 0 ? 0 : ::poll(&readable, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) {
      throw std::runtime_error("chromium did not answer within " + std::to_string(timeout_ms) + " ms");
    }
    char buffer[65536];
    const ssize_t got = ::read(from_browser_, buffer, sizeof buffer);
    if (got <= 0) throw std::runtime_error("chromium closed its pipe (did it start?)");
    pending_.append(buffer, static_cast<size_t>(got));
  }
}

std::string HeadlessChromium::Call(const std::string& method, const std::string& params_json, bool to_page) {
  const int id = next_id_++;
  std::string message = "{\"id\":" + std::to_string(id) + ",\"method\":\"" + method + "\",\"params\":" + params_json;
  if (to_page) message += ",\"sessionId\":\"" + session_ + "\"";
  message += "}";
  message += '\0';
  for (size_t sent = 0; sent < message.size();) {
    const ssize_t n = ::write(to_browser_, message.data() + sent, message.size() - sent);
    if (n <= 0) throw std::runtime_error("cannot write to chromium");
    sent += static_cast<size_t>(n);
  }
  const std::string id_field = "\"id\":" + std::to_string(id);
  // However many events come meanwhile, the reply is awaited 30 s in all.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    const std::string reply = ReadMessage(static_cast<int>(std::max<int64_t>(left.count(), 1)));
    const size_t at = reply.find(id_field);
    // Events carry no id; another reply's id might start with ours ("id":1 in "id":12).
    if (at != 0 && at != 1) continue;
    const char after = reply[at + id_field.size()];
    if (after != ',' && after != '}') continue;
    if (reply.find("\"error\":") != std::string::npos && reply.find("\"result\":") == std::string::npos) {
      throw std::runtime_error(method + " failed: " + reply);
    }
    return reply;
  }
}

void HeadlessChromium::Navigate(const std::string& url) {
  Call("Page.navigate", "{\"url\":\"" + JsonEscaped(url) + "\"}");
  const std::string loaded = "location.href === '" + JsonEscaped(url) + "' && document.readyState === 'complete'";
  if (!WaitUntil(loaded)) throw std::runtime_error("chromium did not load " + url);
}

std::string HeadlessChromium::Evaluate(const std::string& expression) {
  const std::string reply =
      Call("Runtime.evaluate", "{\"expression\":\"String(" + JsonEscaped(expression) + ")\",\"returnByValue\":true}");
  if (reply.find("\"exceptionDetails\"") != std::string::npos) {
    throw std::runtime_error("the page threw on " + expression + ": " + reply);
  }
  return JsonStringField(reply, "value");
}

bool HeadlessChromium::WaitUntil(const std::string& condition, int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    // A page being replaced may have no context to evaluate in for a moment.
    try {
      if (Evaluate("(" + condition + ") ? 'yes' : 'no'") == "yes") return true;
    } catch (const std::runtime_error&) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

void HeadlessChromium::Screenshot(const std::string& path) {
  const std::string reply = Call("Page.captureScreenshot", "{\"format\":\"png\"}");
  std::ofstream(path, std::ios::binary) << Base64Decoded(JsonStringField(reply, "data"));
}

}  // namespace gosl::test
