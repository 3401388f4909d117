// Hostile input against the real binary: over a thousand generated bad
// requests (huge, truncated, wrong encodings, NUL bytes, control characters,
// thousands of parameters, odd methods, lying CONTENT_LENGTH, broken HTTP),
// in FastCGI and --server modes. No answer may be a 5xx, the process must
// live, the stored records must not change, and a good query must still be
// answered afterwards.
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <regex>
#include <set>

#include <catch2/catch.hpp>

#include "gosl/store.hpp"
#include "gosl/text.hpp"
#include "../support/api_cases.hpp"
#include "../support/files.hpp"
#include "../support/http_client.hpp"
#include "../support/keys.hpp"
#include "../support/site.hpp"

namespace gosl::test {
namespace {

struct BadRequest {
  std::string method, query, body, content_type;
  std::string content_length;  // FastCGI only: "" means the body's true length
};

// Deterministic: the same thousand requests every run (seeded).
std::vector<BadRequest> MakeBadRequests(size_t count) {
  std::mt19937 random(20261121);
  auto pick = [&random](size_t n) { return static_cast<size_t>(random() % n); };
  auto bytes = [&](size_t n) {
    std::string out;
    for (size_t i = 0; i < n; ++i) out += static_cast<char>(random() % 256);
    return out;
  };
  auto escaped_bytes = [&](size_t n) {
    static const char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (size_t i = 0; i < n; ++i) {
      unsigned char c = static_cast<unsigned char>(random() % 256);
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
    return out;
  };
  const char* methods[] = {"GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "FOO"};
  const char* types[] = {"application/x-www-form-urlencoded", "text/plain", "", "multipart/form-data",
                         "application/json", "text/plain; charset=\x01"};
  std::vector<BadRequest> requests;
  for (size_t i = 0; i < count; ++i) {
    BadRequest r;
    r.method = methods[pick(8)];
    switch (i % 14) {
      case 0: r.query = bytes(1 + pick(200)); break;                        // raw bytes
      case 1: r.query = "name=" + escaped_bytes(1 + pick(40)); break;       // any byte, escaped
      case 2: r.query = "name=" + std::string(4000 + pick(20000), 'n'); break;  // huge
      case 3: r.query = "name=abc%" + std::string(pick(2), '4'); break;     // truncated escape
      case 4: r.query = "key=" + escaped_bytes(18); break;                  // not a UUID
      case 5:                                                               // bad UTF-8
        r.query = std::string("name=") + (pick(2) ? "%C3%28" : pick(2) ? "%ED%A0%80" : "%F5%80%80%80");
        break;
      case 6: r.query = "name=Mini%00Resident&key=" + escaped_bytes(10); break;  // NUL
      case 7: {  // thousands of parameters in a body
        r.method = "POST";
        r.content_type = types[0];
        for (size_t p = 0; p < 1000 + pick(2000); ++p) r.body += "p" + std::to_string(p) + "=1&";
        break;
      }
      case 8:  // a huge body
        r.method = "POST";
        r.content_type = types[pick(3)];
        r.body = "name=" + std::string(65 * 1024 + pick(100000), 'b');
        break;
      case 9:  // a body of random bytes under any type
        r.method = "POST";
        r.content_type = types[pick(6)];
        r.body = bytes(1 + pick(3000));
        break;
      case 10:  // a name of control characters, or far too long, with a bad key
        r.query = "name=" + (pick(2) ? std::string("%01%02%1B%7F") : std::string(200, 'x')) +
                  "&key=not-a-key";
        break;
      case 11:  // batches that hold nothing valid
        r.method = "POST";
        r.content_type = types[0];
        r.body = "pairs=" + escaped_bytes(1 + pick(60)) + "%0Anot-a-uuid%2C" + escaped_bytes(5);
        break;
      case 12:  // lying CONTENT_LENGTH (FastCGI)
        r.method = "POST";
        r.content_type = types[0];
        r.body = "name=Mini+Resident";
        r.content_length = pick(2) ? std::to_string(r.body.size() + 1 + pick(1000))
                                   : (pick(2) ? "-1" : pick(2) ? "abc" : "99999999999999999999999");
        break;
      default:  // grid and format garbage with a valid lookup
        r.query = "name=mini&grid=" + escaped_bytes(70 + pick(20)) + "&format=" + escaped_bytes(3);
        break;
    }
    requests.push_back(std::move(r));
  }
  return requests;
}

// Every record, both ways, as text: what "unchanged" compares.
std::set<std::string> Snapshot(const std::string& db) {
  Store store({db});
  std::set<std::string> entries;
  Status s = store.ForEachName([&entries](const AvatarRecord& r) {
    entries.insert("n " + r.name + " " + r.key.ToString() + " " + r.grid);
    return Status::OK();
  });
  REQUIRE(s.ok());
  s = store.ForEachKey([&entries](const AvatarRecord& r) {
    entries.insert("k " + r.key.ToString() + " " + r.name + " " + r.grid);
    return Status::OK();
  });
  REQUIRE(s.ok());
  return entries;
}

// Sends raw bytes to 127.0.0.1:port, closes its sending side, and returns
// what came back before the server closed (or the deadline passed).
std::string SendRaw(int port, const std::string& bytes) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string reply;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    size_t sent = 0;
    while (sent < bytes.size()) {
      ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) break;
      sent += static_cast<size_t>(n);
    }
    ::shutdown(fd, SHUT_WR);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    char buffer[4096];
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) break;
      reply.append(buffer, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  return reply;
}

}  // namespace

TEST_CASE("a thousand hostile FastCGI requests get 4xx, change nothing, kill nothing",
          "[integration][hostile]") {
  Site site(Site::Db::kSeeded);
  const auto before = Snapshot(site.db());
  site.Start({"--writes", "open"});
  size_t answered = 0, refused = 0;
  for (const BadRequest& r : MakeBadRequests(1200)) {
    Params params = CgiParams(r.method, r.query, r.body, r.content_type);
    if (!r.content_length.empty()) {
      for (auto& [name, value] : params) {
        if (name == "CONTENT_LENGTH") value = r.content_length;
      }
    }
    HttpReply reply = site.Send(params, r.body);
    INFO(r.method << " ?" << r.query.substr(0, 80) << " body " << r.body.size() << " bytes");
    REQUIRE(reply.status < 500);
    // A refusal is one line, whatever came in (a batch's answer has a line per pair).
    if (reply.status >= 400) REQUIRE(reply.body.find('\n') == std::string::npos);
    ++answered;
    refused += reply.status >= 400;
  }
  CHECK(answered == 1200);
  CHECK(refused > 1000);
  CHECK(site.process().Running());
  CHECK(site.Get("name=mini").body == kMiniKey);
  int status = site.process().StopWith(SIGTERM);
  INFO("the server's stderr:\n" << site.Stderr());
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(Snapshot(site.db()) == before);
}

TEST_CASE("the browser page shows whatever was typed as text, never as markup", "[integration][hostile][page]") {
  Site site(Site::Db::kSeeded);
  site.Start();
  static const std::regex kTag("<(/?)([!A-Za-z][A-Za-z0-9]*)");
  const std::set<std::string> page_tags = {"!DOCTYPE", "html", "head", "meta", "title", "style", "body",
                                           "main",     "h1",   "h2",   "p",    "form",  "label", "input",
                                           "button",   "section", "dl", "dt",  "dd",    "span",  "ul", "li"};
  const auto utf8_valid = [](const std::string& text) {
    for (size_t i = 0; i < text.size();) {
      const size_t length = Utf8CharLength(text, i);
      if (length == 0) return false;
      i += length;
    }
    return true;
  };
  size_t pages = 0;
  for (const BadRequest& r : MakeBadRequests(1200)) {
    // Each generated query and body, whole, as what a person typed.
    for (const std::string& typed : {r.query, r.body.substr(0, 300)}) {
      std::string escaped;
      for (unsigned char c : typed) {
        static const char kHex[] = "0123456789ABCDEF";
        escaped += '%';
        escaped += kHex[c >> 4];
        escaped += kHex[c & 15];
      }
      if (escaped.size() > 3900) escaped.resize(3900 - 3900 % 3);
      const HttpReply reply = site.Get("q=" + escaped, {{"HTTP_ACCEPT", "text/html"}});
      INFO("typed: " << typed.substr(0, 80));
      REQUIRE(reply.status < 500);
      if (reply.content_type != "text/html; charset=utf-8") {
        // Not even a query (bytes that are no UTF-8, a broken escape): refused as for any client.
        REQUIRE(reply.status >= 400);
        REQUIRE(reply.body.find('\n') == std::string::npos);
        continue;
      }
      REQUIRE(reply.body.size() <= 16 * 1024);
      REQUIRE(utf8_valid(reply.body));
      for (auto it = std::sregex_iterator(reply.body.begin(), reply.body.end(), kTag); it != std::sregex_iterator();
           ++it) {
        INFO((*it)[0].str());
        REQUIRE(page_tags.count((*it)[2].str()) == 1);
      }
      ++pages;
    }
  }
  CHECK(pages > 1000);
  CHECK(site.process().Running());
}

TEST_CASE("a thousand hostile HTTP requests to --server get 4xx, change nothing, kill nothing",
          "[integration][hostile]") {
  Site site(Site::Db::kSeeded);
  const auto before = Snapshot(site.db());
  const int port = site.StartServer({"--writes", "open"});
  size_t refused = 0;
  for (const BadRequest& r : MakeBadRequests(1000)) {
    // The query goes into the target as raw bytes, as a hostile client would send it.
    std::string request = r.method + " /?" + r.query + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    if (!r.content_type.empty()) request += "Content-Type: " + r.content_type + "\r\n";
    request += "Content-Length: " +
               (r.content_length.empty() ? std::to_string(r.body.size()) : r.content_length) +
               "\r\nConnection: close\r\n\r\n" + r.body;
    std::string reply = SendRaw(port, request);
    INFO(r.method << " ?" << r.query.substr(0, 80) << " body " << r.body.size() << " bytes");
    // A request the server cannot even read may get no answer; any answer is no 5xx.
    if (reply.rfind("HTTP/1.1 ", 0) == 0) {
      int status = std::stoi(reply.substr(9, 3));
      REQUIRE(status < 500);
      refused += status >= 400;
    }
  }
  // Broken HTTP on its own: no request line, junk headers, a header bomb.
  for (const std::string& junk : {std::string("\r\n\r\n"), std::string("GARBAGE\r\n\r\n"),
                                  "GET / HTTP/1.1\r\n" + std::string(20000, 'X') + "\r\n\r\n",
                                  std::string("GET / HTTP/9.9\r\nHost\r\n\r\n"),
                                  std::string("\x16\x03\x01\x02\x00", 5)}) {
    std::string reply = SendRaw(port, junk);
    if (reply.rfind("HTTP/1.1 ", 0) == 0) REQUIRE(std::stoi(reply.substr(9, 3)) < 500);
  }
  CHECK(refused > 700);
  CHECK(site.process().Running());
  CHECK(HttpRequest(port, "GET", "/?name=mini").body == kMiniKey);
  int status = site.process().StopWith(SIGTERM);
  INFO("the server's stderr:\n" << site.Stderr());
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(Snapshot(site.db()) == before);
}

}  // namespace gosl::test

namespace gosl::test {

TEST_CASE("an ambiguous Transfer-Encoding is refused and smuggles no request through --server",
          "[integration][hostile]") {
  Site site(Site::Db::kSeeded);
  const int port = site.StartServer({"--writes", "open"});
  const std::string codings[] = {"Transfer-Encoding: xchunked\r\n",
                                 "Transfer-Encoding: chunked, identity\r\n",
                                 "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"};
  int i = 0;
  for (const std::string& coding : codings) {
    INFO(coding);
    const std::string key = TestKey(++i, 0x5a0a0000);
    // What a proxy that took the body for chunked would hide inside it.
    const std::string smuggled = "GET /?name=Smuggled&key=" + key + " HTTP/1.1\r\nHost: x\r\n\r\n";
    const std::string reply =
        SendRaw(port, "POST /?name=mini HTTP/1.1\r\nHost: x\r\n" + coding + "\r\n" + smuggled);
    REQUIRE(reply.rfind("HTTP/1.1 400", 0) == 0);
    // The reason names the header (Beast refuses the third itself: "bad Content-Length").
    CHECK((reply.find("Transfer-Encoding") != std::string::npos ||
           reply.find("bad Content-Length") != std::string::npos));
    CHECK(HttpRequest(port, "GET", "/?key=" + key).body.empty());  // never recorded
  }
  CHECK(HttpRequest(port, "GET", "/?name=mini").body == kMiniKey);
}

TEST_CASE("Unicode line breaks in a name are refused and never reach the log raw",
          "[integration][hostile]") {
  Site site(Site::Db::kSeeded);
  site.Start({"--writes", "open"});
  for (const std::string& query :
       {std::string("name=Mini%E2%80%A8Resident"), std::string("name=Mini%E2%80%A9Resident"),
        std::string("name=Mini%C2%85Resident"), "name=A%C2%85B&key=" + kUnknownKey}) {
    INFO(query);
    HttpReply reply = site.Get(query);
    CHECK(reply.status == 400);
    CHECK(reply.body.find("control character") != std::string::npos);
  }
  CHECK(site.Get("key=" + kUnknownKey).body.empty());
  const std::string log = site.Log();
  for (const char* raw : {"\xE2\x80\xA8", "\xE2\x80\xA9", "\xC2\x85"}) {
    CHECK(log.find(raw) == std::string::npos);
  }
  CHECK(log.find("Mini\\u2028Resident") != std::string::npos);
}

TEST_CASE("a peer asked thousands of 100-grid lookups stays within its memory budget",
          "[integration][hostile]") {
  Site site(Site::Db::kSeeded);
  site.Start({"--writes", "open", "--registrations-per-minute", "0"}, 2);
  REQUIRE(site.Get("name=mini", {}, 0).body == kMiniKey);  // process 0 owns, 1 is a peer
  // One name on 100 grids (what two forged batches once made).
  for (int g = 0; g < 100; ++g) {
    REQUIRE(site.Get("name=Blow+Up&key=" + TestKey(g, 0xb1000000) + "&grid=grid" +
                         std::to_string(g) + std::string(40, 'x'),
                     {}, 0)
                .status == 200);
  }
  for (int n = 0; n < 4090; ++n) {
    // Each spelling of the visitor's home was once an answer of its own.
    HttpReply reply = site.Get("name=Blow+Up+%40z" + std::to_string(n) + ".example&grid=*&format=json",
                               {}, 1);
    REQUIRE(reply.status == 200);
  }
  const std::string status = ReadFile("/proc/" + std::to_string(site.process(1).pid()) + "/status");
  const size_t at = status.find("VmRSS:");
  REQUIRE(at != std::string::npos);
  const long rss_kb = std::stol(status.substr(at + 6));
#if defined(__SANITIZE_ADDRESS__)
  // ASan keeps freed memory in quarantine: the figure says nothing here.
  WARN("peer RSS after the lookups: " << rss_kb / 1024 << " MB (not checked under ASan)");
#else
  INFO("peer RSS " << rss_kb << " kB");
  CHECK(rss_kb < 32 * 1024);  // SPEC: a serving process stays within 32 MB
#endif
}

TEST_CASE("a thousand idle connections do not keep a new client of --server out",
          "[integration][hostile]") {
  rlimit limit{};
  REQUIRE(getrlimit(RLIMIT_NOFILE, &limit) == 0);
  if (limit.rlim_max < 1300) {
    WARN("not tested: the descriptor limit (" << limit.rlim_max << ") is below 1,300");
    return;
  }
  limit.rlim_cur = limit.rlim_max;
  REQUIRE(setrlimit(RLIMIT_NOFILE, &limit) == 0);
  Site site(Site::Db::kSeeded);
  const int port = site.StartServer();
  // As on a shared host, where 1,024 descriptors is a common limit.
  const rlimit host{1024, 1024};
  REQUIRE(prlimit(site.process(0).pid(), RLIMIT_NOFILE, &host, nullptr) == 0);
  std::vector<int> idle;
  for (int i = 0; i < 1100; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
      idle.push_back(fd);
    } else if (fd >= 0) {
      ::close(fd);
    }
  }
  CHECK(idle.size() > 1000);
  HttpReply reply = HttpRequest(port, "GET", "/?name=mini");
  CHECK(reply.status == 200);
  CHECK(reply.body == kMiniKey);
  for (int fd : idle) ::close(fd);
  CHECK(site.process(0).Running());
}

}  // namespace gosl::test
