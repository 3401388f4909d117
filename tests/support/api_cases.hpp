// The SPEC.md API table as data: every row (and every error row) as a request
// and the exact answer expected, run in order through each front end against
// a database seeded by SeedApiDatabase(). Later rows depend on earlier
// registrations, so a run always starts from a freshly seeded database.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "fcgi_client.hpp"

namespace gosl::test {

// Seeded records (grid "Production").
inline const std::string kMiniKey = "6a6b5a13-1f6e-4c3a-9a3e-0d4c1d2e3f40";      // Mini Resident
inline const std::string kLegacyKey = "0f0e0d0c-0b0a-4909-8807-060504030201";    // Legacy Linden
inline const std::string kUnknownKey = "99999999-8888-4777-8666-555555555555";   // never recorded

struct ApiCase {
  std::string what;          // shown when the case fails
  std::string method;        // GET, POST, HEAD
  std::string query;         // raw query string
  std::string body;          // raw body (POST)
  std::string content_type;  // of the body
  std::string grid;          // X-SecondLife-Shard header; empty: not sent
  int status;
  std::string expected_type;  // Content-Type expected, "" when not checked
  std::string expected_body;
};

// Writes the seeded records into a new LevelDB database at db_path.
void SeedApiDatabase(const std::string& db_path);

const std::vector<ApiCase>& ApiCases();

// Sends each case through `send` in order and checks status, content type
// and body exactly.
void CheckApiCases(const std::function<HttpReply(const ApiCase&)>& send);

}  // namespace gosl::test
