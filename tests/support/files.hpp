// Small file helpers shared by tests.
#pragma once

#include <fstream>
#include <sstream>
#include <string>

namespace gosl::test {

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

// Lines of text that contain `needle`.
inline size_t CountLinesWith(const std::string& text, const std::string& needle) {
  std::istringstream in(text);
  size_t count = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.find(needle) != std::string::npos) ++count;
  }
  return count;
}

}  // namespace gosl::test
