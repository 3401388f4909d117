// Small file helpers shared by tests.
#pragma once

#include <cctype>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace gosl::test {

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Throws when the file cannot be written: a test must not go on without it.
inline void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  out.close();
  if (!out) throw std::runtime_error("WriteFile: cannot write '" + path + "'");
}

// text cut at each separator: "a,,b" -> {"a", "", "b"}; "" -> {""}.
inline std::vector<std::string> Split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) return parts;
    start = end + 1;
  }
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

// True for the line written for each answered request (" INFO 200 GET …"), not for the
// INFO lines a process writes about itself (which database it forwards to, and so on).
inline bool IsRequestLine(const std::string& line) {
  const size_t at = line.find(" INFO ");
  if (at == std::string::npos || line.size() < at + 10) return false;
  const char* status = line.c_str() + at + 6;
  return std::isdigit(static_cast<unsigned char>(status[0])) &&
         std::isdigit(static_cast<unsigned char>(status[1])) &&
         std::isdigit(static_cast<unsigned char>(status[2])) && status[3] == ' ';
}

// Requests answered in a log.
inline size_t CountRequestLines(const std::string& log) {
  std::istringstream in(log);
  size_t count = 0;
  for (std::string line; std::getline(in, line);) {
    if (IsRequestLine(line)) ++count;
  }
  return count;
}

}  // namespace gosl::test
