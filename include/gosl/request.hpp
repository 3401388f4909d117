// Request: what a front end (FastCGI, CGI, --server) hands the dispatcher,
// already stripped of its transport. Values are raw, nothing is decoded yet.
#pragma once

#include <cstddef>
#include <string>

namespace gosl {

struct Request {
  // The largest body a front end reads: LSL scripts send at most a few KB,
  // and mod_fcgid refuses more than 128 KB anyway. A front end reads at most
  // kMaxBodyBytes + 1 bytes and sets body_too_large when there were more.
  static constexpr size_t kMaxBodyBytes = 64 * 1024;
  // A query string longer than this is refused (414): LSL lookup URLs are a
  // few hundred bytes; below Apache's own 8 KB request-line limit, so the
  // answer is ours (one line) under Apache too.
  static constexpr size_t kMaxQueryBytes = 4 * 1024;
  // More parameters than this in the query and body together: refused (400).
  static constexpr size_t kMaxParameters = 64;

  std::string method = "GET";
  std::string query;         // raw query string, without '?'
  std::string body;          // raw body, at most kMaxBodyBytes
  bool body_too_large = false;
  std::string content_type;  // CONTENT_TYPE / Content-Type, may be empty
  // Second Life's headers on a script's request (X-SecondLife-Shard,
  // -Object-Key, -Owner-Key); empty when absent. Anyone can forge them: they
  // say which script asks, they prove nothing (docs/security.md).
  std::string grid;
  std::string object_key;
  std::string owner_key;
  std::string remote_addr;   // REMOTE_ADDR: the log and the registration rate limit
  // Accept: a browser's lists text/html, and one that asks nothing gets the
  // page for people (page.hpp); LSL's and curl's never do.
  std::string accept;
};

}  // namespace gosl
