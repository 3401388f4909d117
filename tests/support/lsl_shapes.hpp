// lsl/request-shapes.tsv: every request the in-world scripts send, exactly
// as sent, with the answer each script expects; and the headers Second Life
// adds to every llHTTPRequest. Read by the LSL test (FastCGI) and the Apache
// test, so the scripts' requests are checked through both.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace gosl::test {

struct Shape {
  size_t line;  // in the TSV file, 1-based
  std::string script, what, method, query, body, content_type;
  int status;
  std::string expected_body;
};

// The rows of lsl/request-shapes.tsv, in order (REQUIREs its header and columns).
std::vector<Shape> LoadShapes();

// The headers Second Life adds to a request of `script`, as HTTP names and values.
std::vector<std::pair<std::string, std::string>> SecondLifeHeaders(const std::string& script);

}  // namespace gosl::test
