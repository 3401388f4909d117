#include "lsl_shapes.hpp"

#include <catch2/catch.hpp>

#include "files.hpp"

namespace gosl::test {
namespace {

const std::string kShapesFile = std::string(GOSL_SOURCE_DIR) + "/lsl/request-shapes.tsv";

// A TSV field: "\n", "\t" and "\\" written as two characters.
std::string Unescaped(const std::string& field) {
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 1 < field.size()) {
      char next = field[++i];
      out += next == 'n' ? '\n' : next == 't' ? '\t' : next;
    } else {
      out += field[i];
    }
  }
  return out;
}


}  // namespace

std::vector<Shape> LoadShapes() {
  std::vector<std::string> lines = Split(ReadFile(kShapesFile), '\n');
  REQUIRE(!lines.empty());
  REQUIRE(lines[0] ==
          "script\twhat\tmethod\tquery\tbody\tcontent_type\texpected_status\texpected_body");
  std::vector<Shape> shapes;
  for (size_t i = 1; i < lines.size(); ++i) {
    if (lines[i].empty()) continue;
    std::vector<std::string> fields = Split(lines[i], '\t');
    INFO(kShapesFile << ":" << i + 1);
    REQUIRE(fields.size() == 8);
    Shape shape{i + 1,
                fields[0],
                fields[1],
                fields[2],
                Unescaped(fields[3]),
                Unescaped(fields[4]),
                fields[5],
                std::stoi(fields[6]),
                Unescaped(fields[7])};
    REQUIRE((shape.method == "GET" || shape.method == "POST"));
    shapes.push_back(std::move(shape));
  }
  return shapes;
}


std::vector<std::pair<std::string, std::string>> SecondLifeHeaders(const std::string& script) {
  return {
      {"X-SecondLife-Shard", "Production"},
      {"X-SecondLife-Owner-Key", "5f3e2d1c-0b0a-4987-8654-3210fedcba98"},
      {"X-SecondLife-Owner-Name", "Scripter Resident"},
      {"X-SecondLife-Object-Name", "gosl " + script},
      {"X-SecondLife-Object-Key", "1a2b3c4d-5e6f-4a0b-8c1d-2e3f4a5b6c7d"},
      {"X-SecondLife-Region", "Jin Ho (264448, 233984)"},
      {"X-SecondLife-Local-Position", "(173.009827, 75.551231, 60.950001)"},
      {"X-SecondLife-Local-Rotation", "0.000000, 0.000000, 0.000000, 1.000000"},
      {"X-SecondLife-Local-Velocity", "0.000000, 0.000000, 0.000000"},
      {"User-Agent", "Second Life LSL/2024.06.21.9876543 (http://secondlife.com)"},
      {"Accept",
       "text/*, application/xhtml+xml, application/atom+xml, application/json, "
       "application/xml, application/llsd+xml, application/x-javascript, "
       "application/javascript, application/x-www-form-urlencoded, application/rss+xml"},
      {"Accept-Charset", "utf-8;q=1.0, *;q=0.5"},
      {"Accept-Encoding", "deflate, gzip"},
      {"Pragma", "no-cache"},
      {"Cache-Control", "max-age=259200"},
      {"Via", "1.1 sim10115.agni.lindenlab.com:3128 (squid/2.7.STABLE9)"},
      {"X-Forwarded-For", "127.0.0.1"},
  };
}

}  // namespace gosl::test
