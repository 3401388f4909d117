// Debian's chromium, headless, driven as a person's browser over its
// DevTools pipe (--remote-debugging-pipe: JSON messages ending in a NUL
// byte; the browser reads fd 3 and writes fd 4, so no port and no
// WebSocket are needed): load a page, type into it, click, read the DOM,
// take a screenshot.
#pragma once

#include <sys/types.h>

#include <string>

#include "temp_dir.hpp"

namespace gosl::test {

class HeadlessChromium {
 public:
  static constexpr const char* kBinary = "/usr/bin/chromium";

  // Starts it with a fresh profile, a phone-sized window, one page open.
  // Throws std::runtime_error when it does not answer.
  HeadlessChromium();
  ~HeadlessChromium();  // kills it and everything it started
  HeadlessChromium(const HeadlessChromium&) = delete;
  HeadlessChromium& operator=(const HeadlessChromium&) = delete;

  // Loads url and waits until it has loaded.
  void Navigate(const std::string& url);
  // The value of a JavaScript expression in the page, as String() gives it;
  // throws std::runtime_error when it throws.
  std::string Evaluate(const std::string& expression);
  // Waits (up to timeout_ms) until the expression is true in the page.
  bool WaitUntil(const std::string& condition, int timeout_ms = 10000);
  // The page as a PNG image, written to path.
  void Screenshot(const std::string& path);

 private:
  // Sends a DevTools command (to the page when session) and returns its
  // reply's "result" object as JSON text; throws on an error reply.
  std::string Call(const std::string& method, const std::string& params_json, bool to_page = true);
  std::string ReadMessage(int timeout_ms);
  void Stop();  // kills the browser and closes the pipes

  TempDir profile_;
  pid_t pid_ = -1;
  int to_browser_ = -1, from_browser_ = -1;
  std::string pending_;  // bytes read past the last message
  std::string session_;
  int next_id_ = 1;
};

// The JSON string value of "name" in json (its first occurrence), unescaped;
// empty when there is none.
std::string JsonStringField(const std::string& json, const std::string& name);
std::string Base64Decoded(const std::string& text);

}  // namespace gosl::test
