#include "temp_dir.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <system_error>
#include <vector>

namespace gosl::test {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = (base != nullptr && *base != '\0') ? base : "/tmp";
  tmpl += "/gosl-test-XXXXXX";
  // mkdtemp rewrites the template in place, so it needs a mutable, NUL-terminated buffer.
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) {
    throw std::runtime_error("TempDir: mkdtemp(" + tmpl + ") failed: " + std::strerror(errno));
  }
  path_ = buf.data();
}

TempDir::~TempDir() {
  // A destructor must not throw; a leftover directory in /tmp is harmless.
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
  // A test that uses the directory itself as a database leaves the files the service keeps beside a database.
  for (const char* beside : {".owner", ".peer", ".import.owner"}) std::filesystem::remove(path_ + beside, ec);
}

std::string TempDir::File(const std::string& name) const { return path_ + "/" + name; }

}  // namespace gosl::test
