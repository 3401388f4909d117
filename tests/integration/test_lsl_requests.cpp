// The in-world side: every request the scripts in lsl/ send, as listed in
// lsl/request-shapes.tsv, is sent to the real binary running as FastCGI (as
// mod_fcgid runs it) with the headers Second Life adds, and must get exactly
// the answer the script expects. A second test case lints the scripts, since
// no LSL compiler runs here: balanced brackets, closed strings, the one
// SERVICE_URL line, no HTML-escaped "&key=", HTTP_METHOD in every request and
// only built-in functions that exist.
#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cctype>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "../support/api_cases.hpp"
#include "../support/files.hpp"
#include "../support/lsl_shapes.hpp"
#include "../support/process.hpp"
#include "../support/site.hpp"

namespace gosl::test {
namespace {

const std::string kLslDir = std::string(GOSL_SOURCE_DIR) + "/lsl";
const std::string kServiceUrlLine =
    "string SERVICE_URL = \"https://example.com/name2key/gosl-basics.fcgi\";";
// What LSL delivers to http_response unless HTTP_BODY_MAXLENGTH asks for more;
// the scripts do not ask.
constexpr size_t kLslBodyLimit = 2048;

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::vector<std::string> LslScripts() {
  std::vector<std::string> names;
  DIR* dir = opendir(kLslDir.c_str());
  if (dir == nullptr) throw std::runtime_error("cannot list " + kLslDir);
  while (dirent* entry = readdir(dir)) {
    std::string name = entry->d_name;
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".lsl") == 0) names.push_back(name);
  }
  closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

// llEscapeURL: every byte outside [A-Za-z0-9] becomes %XX.
std::string LslEscapeUrl(const std::string& text) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) && byte < 0x80) {
      out += c;
    } else {
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 0x0F];
    }
  }
  return out;
}

std::string PercentDecoded(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      out += static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += text[i] == '+' ? ' ' : text[i];
    }
  }
  return out;
}

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// The headers Second Life adds to every llHTTPRequest, as FastCGI params.
Params SecondLifeParams(const std::string& script) {
  Params params;
  for (const auto& [name, value] : SecondLifeHeaders(script)) {
    std::string param = "HTTP_";
    for (char c : name) param += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    params.emplace_back(param, value);
  }
  return params;
}

// A request as `script` sends it with llHTTPRequest, to the site's process.
HttpReply SendAs(const Site& site, const std::string& script, const std::string& method,
                 const std::string& query, const std::string& body = "",
                 const std::string& content_type = "") {
  return site.Send(CgiParams(method, query, body, content_type, SecondLifeParams(script)), body);
}

// Line numbers ("line K: ...") of the pairs a batch answer refuses.
std::set<size_t> RefusedLines(const std::string& answer) {
  std::set<size_t> refused;
  for (const std::string& line : Split(answer, '\n')) {
    if (line.rfind("line ", 0) == 0) refused.insert(std::stoul(line.substr(5)));
  }
  return refused;
}

// After a batch answered as expected, every pair it did not refuse is found
// both ways, as a script would ask.
void CheckBatchRecorded(const Site& site, const Shape& shape) {
  const std::string prefix = "pairs=";
  REQUIRE(shape.body.rfind(prefix, 0) == 0);
  std::vector<std::string> pairs = Split(PercentDecoded(shape.body.substr(prefix.size())), '\n');
  std::set<size_t> refused = RefusedLines(shape.expected_body);
  for (size_t i = 0; i < pairs.size(); ++i) {
    if (refused.count(i + 1) != 0) continue;
    size_t comma = pairs[i].find(',');
    REQUIRE(comma != std::string::npos);
    std::string key = Lower(pairs[i].substr(0, comma));
    std::string name = pairs[i].substr(comma + 1);
    INFO("pair " << i + 1 << " of the batch: " << pairs[i]);
    HttpReply by_key = SendAs(site, shape.script, "GET", "key=" + key);
    CHECK(by_key.status == 200);
    CHECK(by_key.body == name);
    HttpReply by_name = SendAs(site, shape.script, "GET", "name=" + LslEscapeUrl(name));
    CHECK(by_name.status == 200);
    CHECK(by_name.body == key);
  }
}

// ---- the lint ----

struct Scan {
  std::string masked;  // comments and string contents replaced by spaces; newlines kept
  std::vector<std::string> problems;
};

// Walks an LSL source: // and /* */ comments, "..." strings with backslash
// escapes that must close on their line, and (), [], {} that must balance
// outside both.
Scan ScanLsl(const std::string& text) {
  Scan scan;
  scan.masked = text;
  std::vector<std::pair<char, size_t>> open;  // bracket, line
  size_t line = 1;
  size_t string_line = 0;
  enum { kCode, kLineComment, kBlockComment, kString } state = kCode;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    char next = i + 1 < text.size() ? text[i + 1] : '\0';
    if (c == '\n') {
      if (state == kString) {
        scan.problems.push_back("line " + std::to_string(string_line) + ": string not closed");
        state = kCode;
      }
      if (state == kLineComment) state = kCode;
      ++line;
      continue;
    }
    switch (state) {
      case kCode:
        if (c == '/' && next == '/') {
          state = kLineComment;
          scan.masked[i] = scan.masked[i + 1] = ' ';
          ++i;
        } else if (c == '/' && next == '*') {
          state = kBlockComment;
          scan.masked[i] = scan.masked[i + 1] = ' ';
          ++i;
        } else if (c == '"') {
          state = kString;
          string_line = line;
        } else if (c == '(' || c == '[' || c == '{') {
          open.emplace_back(c, line);
        } else if (c == ')' || c == ']' || c == '}') {
          char expected = c == ')' ? '(' : c == ']' ? '[' : '{';
          if (open.empty() || open.back().first != expected) {
            scan.problems.push_back("line " + std::to_string(line) + ": unbalanced '" + c + "'");
            if (!open.empty()) open.pop_back();
          } else {
            open.pop_back();
          }
        }
        break;
      case kLineComment:
        scan.masked[i] = ' ';
        break;
      case kBlockComment:
        scan.masked[i] = ' ';
        if (c == '*' && next == '/') {
          scan.masked[i + 1] = ' ';
          ++i;
          state = kCode;
        }
        break;
      case kString:
        if (c == '\\' && next != '\0' && next != '\n') {
          scan.masked[i] = scan.masked[i + 1] = ' ';
          ++i;
        } else if (c == '"') {
          state = kCode;
        } else {
          scan.masked[i] = ' ';
        }
        break;
    }
  }
  if (state == kString) scan.problems.push_back("string not closed at end of file");
  if (state == kBlockComment) scan.problems.push_back("/* comment not closed at end of file");
  for (const auto& [bracket, at] : open) {
    scan.problems.push_back("line " + std::to_string(at) + ": '" + bracket + "' never closed");
  }
  return scan;
}

size_t LineOf(const std::string& text, size_t offset) {
  return 1 + static_cast<size_t>(std::count(text.begin(), text.begin() + offset, '\n'));
}

bool IsWordChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// The built-in functions the scripts may call: a typo, or a function LSL does
// not have, fails here instead of in-world. Add a name only after checking it
// on https://wiki.secondlife.com/wiki/Category:LSL_Functions.
const std::set<std::string>& KnownLslFunctions() {
  static const std::set<std::string> known = {"llAbs",
                                              "llCeil",
                                              "llDeleteSubList",
                                              "llDetectedKey",
                                              "llDetectedName",
                                              "llDetectedType",
                                              "llDumpList2String",
                                              "llEscapeURL",
                                              "llFloor",
                                              "llFrand",
                                              "llGetAgentSize",
                                              "llGetFreeMemory",
                                              "llGetInventoryType",
                                              "llGetKey",
                                              "llGetNotecardLine",
                                              "llGetListLength",
                                              "llGetObjectName",
                                              "llGetOwner",
                                              "llGetRegionName",
                                              "llGetSubString",
                                              "llGetTime",
                                              "llGetUnixTime",
                                              "llGetUsedMemory",
                                              "llHTTPRequest",
                                              "llInstantMessage",
                                              "llJsonGetValue",
                                              "llKey2Name",
                                              "llList2Integer",
                                              "llList2Key",
                                              "llList2List",
                                              "llList2String",
                                              "llListFindList",
                                              "llListInsertList",
                                              "llListRemove",
                                              "llListReplaceList",
                                              "llListen",
                                              "llListenRemove",
                                              "llOwnerSay",
                                              "llParseString2List",
                                              "llParseStringKeepNulls",
                                              "llRegionSay",
                                              "llRegionSayTo",
                                              "llResetScript",
                                              "llResetTime",
                                              "llRound",
                                              "llSay",
                                              "llSensor",
                                              "llSensorRemove",
                                              "llSensorRepeat",
                                              "llSetText",
                                              "llSetTimerEvent",
                                              "llShout",
                                              "llStringLength",
                                              "llStringTrim",
                                              "llSubStringIndex",
                                              "llToLower",
                                              "llToUpper",
                                              "llUnescapeURL",
                                              "llVolumeDetect",
                                              "llWhisper"};
  return known;
}

}  // namespace

TEST_CASE("every request the LSL scripts send gets the answer the script expects",
          "[integration][lsl]") {
  std::vector<Shape> shapes = LoadShapes();
  std::vector<std::string> scripts = LslScripts();
  REQUIRE(!scripts.empty());

  // Every script has its requests listed, and every row is a script that exists.
  std::map<std::string, size_t> rows_per_script;
  for (const Shape& shape : shapes) ++rows_per_script[shape.script];
  for (const std::string& script : scripts) {
    INFO("lsl/" << script << " has no row in lsl/request-shapes.tsv: list every request it sends");
    CHECK(rows_per_script[script] > 0);
  }
  for (const auto& [script, count] : rows_per_script) {
    INFO("request-shapes.tsv names a script that is not in lsl/: " << script);
    CHECK(std::find(scripts.begin(), scripts.end(), script) != scripts.end());
  }

  Site site(Site::Db::kSeeded);
  site.Start();
  for (const Shape& shape : shapes) {
    INFO("request-shapes.tsv:" << shape.line << " " << shape.script << ": " << shape.what << "\n  "
                               << shape.method << " ?" << shape.query << " body " << shape.body);
    HttpReply reply =
        SendAs(site, shape.script, shape.method, shape.query, shape.body, shape.content_type);
    CHECK(reply.status == shape.status);
    CHECK(reply.body == shape.expected_body);
    // Second Life hands the script a 415 and no body for a Content-Type it
    // does not know, and cuts answers at 2048 bytes.
    CHECK((reply.content_type.rfind("text/plain", 0) == 0 ||
           reply.content_type.rfind("application/json", 0) == 0));
    CHECK(reply.body.size() <= kLslBodyLimit);
    // A batch that answered as expected recorded its pairs both ways.
    if (shape.body.rfind("pairs=", 0) == 0 && shape.status == 200 && reply.status == shape.status &&
        reply.body == shape.expected_body) {
      CheckBatchRecorded(site, shape);
    }
  }
  CHECK(site.process().Running());
}

TEST_CASE("the LSL scripts pass the lint", "[integration][lsl]") {
  std::vector<std::string> scripts = LslScripts();
  REQUIRE(!scripts.empty());
  for (const std::string& script : scripts) {
    const std::string text = ReadText(kLslDir + "/" + script);
    INFO("lsl/" << script);
    Scan scan = ScanLsl(text);
    for (const std::string& problem : scan.problems) {
      INFO(problem);
      CHECK(false);
    }

    // It opens with its header comment.
    CHECK(text.rfind("//", 0) == 0);

    // Exactly one SERVICE_URL line, the placeholder left as shipped, and the
    // code assigns SERVICE_URL nowhere else.
    size_t url_lines = 0;
    for (std::string line : Split(text, '\n')) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line == kServiceUrlLine) ++url_lines;
    }
    CHECK(url_lines == 1);
    size_t assignments = 0;
    for (size_t at = scan.masked.find("SERVICE_URL"); at != std::string::npos;
         at = scan.masked.find("SERVICE_URL", at + 1)) {
      size_t next = scan.masked.find_first_not_of(" \t", at + std::string("SERVICE_URL").size());
      if (next != std::string::npos && scan.masked[next] == '=' &&
          (next + 1 >= scan.masked.size() || scan.masked[next + 1] != '=')) {
        ++assignments;
      }
    }
    CHECK(assignments == 1);

    // The Go program's touch.lsl bug: registrations that never carried the key.
    CHECK(text.find("&amp;key=") == std::string::npos);

    // Every llHTTPRequest call says its method.
    const std::string call = "llHTTPRequest";
    size_t calls = 0;
    for (size_t at = scan.masked.find(call); at != std::string::npos;
         at = scan.masked.find(call, at + call.size())) {
      if (at > 0 && IsWordChar(scan.masked[at - 1])) continue;
      size_t paren = scan.masked.find_first_not_of(" \t\r\n", at + call.size());
      if (paren == std::string::npos || scan.masked[paren] != '(') continue;
      ++calls;
      int depth = 0;
      size_t end = paren;
      for (; end < scan.masked.size(); ++end) {
        if (scan.masked[end] == '(') ++depth;
        if (scan.masked[end] == ')' && --depth == 0) break;
      }
      std::string arguments = scan.masked.substr(paren, end - paren);
      INFO("llHTTPRequest call on line " << LineOf(text, at) << " has no HTTP_METHOD");
      CHECK(arguments.find("HTTP_METHOD") != std::string::npos);
    }
    CHECK(calls > 0);

    // LSL has no conditional operator.
    size_t question = scan.masked.find('?');
    if (question != std::string::npos) {
      INFO("line " << LineOf(text, question) << ": LSL has no ?: operator");
      CHECK(false);
    }

    // Only built-in functions that exist, and none of the C keywords LSL lacks.
    for (size_t i = 0; i < scan.masked.size(); ++i) {
      if (!IsWordChar(scan.masked[i]) || (i > 0 && IsWordChar(scan.masked[i - 1]))) continue;
      size_t end = i;
      while (end < scan.masked.size() && IsWordChar(scan.masked[end])) ++end;
      std::string word = scan.masked.substr(i, end - i);
      if (word.size() > 2 && word[0] == 'l' && word[1] == 'l' &&
          std::isupper(static_cast<unsigned char>(word[2]))) {
        INFO("line " << LineOf(text, i) << ": " << word << " is not a known LSL function");
        CHECK(KnownLslFunctions().count(word) == 1);
      }
      if (word == "break" || word == "continue" || word == "switch" || word == "case" ||
          word == "const" || word == "void" || word == "int" || word == "bool" || word == "null" ||
          word == "true" || word == "false") {
        INFO("line " << LineOf(text, i) << ": LSL has no '" << word << "'");
        CHECK(false);
      }
      i = end - 1;
    }
  }
}

}  // namespace gosl::test

namespace gosl::test {

// The real front end: lslint (Makopo/lslint) knows every ll… function,
// constant and event with its signature. It lives beside the project
// (../shared/tools), not in it: a user's own clone skips this check.
TEST_CASE("lslint finds no error in any script, and every warning is explained where it stands",
          "[integration][lsl]") {
  const std::string lslint = std::string(GOSL_SOURCE_DIR) + "/../shared/tools/lslint";
  if (access(lslint.c_str(), X_OK) != 0) {
    WARN("not checked: " << lslint << " is absent (a user's own clone)");
    return;
  }
  for (const std::string& script : LslScripts()) {
    const std::string path = kLslDir + "/" + script;
    INFO("lsl/" << script);
    const RunResult lint = RunProgram(lslint, {"-p", path}, {"PATH=/usr/bin:/bin"});
    INFO(lint.err);
    CHECK(lint.exit_code == 0);  // the number of errors
    CHECK(lint.err.find("TOTAL:: Errors: 0 ") != std::string::npos);
    // A warning stays only with a comment on the line above saying why ("lslint: …").
    const std::vector<std::string> lines = Split(ReadText(path), '\n');
    for (const std::string& message : Split(lint.err, '\n')) {
      const size_t at = message.find(":: WARN:: (");
      if (at == std::string::npos) continue;
      const size_t line = std::stoul(message.substr(at + 11));
      INFO(message);
      REQUIRE(line >= 2);
      CHECK(lines[line - 2].find("// lslint: ") != std::string::npos);
    }
  }
}

}  // namespace gosl::test
