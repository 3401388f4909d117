// The page for people with a browser (page.hpp) and status=1 through the
// dispatcher: who gets them, what they hold, that user text stays text, and
// that every other client's answers are as before.
#include "gosl/page.hpp"

#include <algorithm>
#include <fstream>
#include <regex>
#include <set>

#include <catch2/catch.hpp>

#include "gosl/dispatcher.hpp"
#include "gosl/text.hpp"
#include "support/api_cases.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace gosl {
namespace {

// What Chromium 120 sends for a page it navigates to.
constexpr const char* kBrowserAccept =
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8";
// What LSL's llHTTPRequest sends (docs: HTTP headers of llHTTPRequest).
constexpr const char* kLslAccept =
    "text/*, application/xhtml+xml, application/atom+xml, application/json, application/xml, "
    "application/llsd+xml, application/x-javascript, application/javascript, "
    "application/x-www-form-urlencoded, application/rss+xml";

Request BrowserRequest(const std::string& query) {
  Request request;
  request.query = query;
  request.accept = kBrowserAccept;
  return request;
}

std::string Base64(const std::string& bytes) {
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < bytes.size(); i += 3) {
    const size_t have = std::min<size_t>(3, bytes.size() - i);
    uint32_t chunk = 0;
    for (size_t j = 0; j < 3; ++j) chunk = chunk << 8 | (j < have ? static_cast<uint8_t>(bytes[i + j]) : 0);
    for (size_t j = 0; j < 4; ++j) out += j <= have ? kAlphabet[(chunk >> (18 - 6 * j)) & 63] : '=';
  }
  return out;
}

// The tags a page may hold: anything else means user text became markup.
const std::set<std::string> kPageTags = {"!DOCTYPE", "html", "head", "meta", "title", "style", "body",
                                         "main",     "h1",   "h2",   "p",    "form",  "label", "input",
                                         "button",   "section", "dl", "dt",  "dd",    "span",  "ul", "li"};

void CheckOnlyPageTags(const std::string& html) {
  static const std::regex kTag("<(/?)([!A-Za-z][A-Za-z0-9]*)");
  for (auto it = std::sregex_iterator(html.begin(), html.end(), kTag); it != std::sregex_iterator(); ++it) {
    INFO((*it)[0].str());
    CHECK(kPageTags.count((*it)[2].str()) == 1);
  }
}

}  // namespace

TEST_CASE("only a request whose Accept names text/html itself gets the page", "[page]") {
  CHECK(WantsHtmlPage(kBrowserAccept));
  CHECK(WantsHtmlPage("text/html"));
  CHECK(WantsHtmlPage("TEXT/HTML ; charset=utf-8"));
  CHECK(WantsHtmlPage("application/json, text/html;q=0.5"));
  CHECK_FALSE(WantsHtmlPage(""));
  CHECK_FALSE(WantsHtmlPage("*/*"));  // curl
  CHECK_FALSE(WantsHtmlPage(kLslAccept));
  CHECK_FALSE(WantsHtmlPage("text/*"));
  CHECK_FALSE(WantsHtmlPage("text/html;q=0"));
  CHECK_FALSE(WantsHtmlPage("text/html;q=0.0, */*"));
  CHECK_FALSE(WantsHtmlPage("text/htmlx"));
}

TEST_CASE("HtmlEscaped leaves no markup", "[page]") {
  CHECK(HtmlEscaped("<a href=\"x\" onclick='y'>&amp;</a>") ==
        "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;");
}

TEST_CASE("the page's stylesheet is the one its Content-Security-Policy allows", "[page]") {
  test::TempDir dir;
  const std::string file = dir.File("style.css");
  std::ofstream(file) << PageStyle();
  const test::RunResult sum = test::RunProgram("/usr/bin/sha256sum", {file}, {"PATH=/usr/bin:/bin"});
  REQUIRE(sum.exit_code == 0);
  std::string digest;
  for (size_t i = 0; i < 64; i += 2) digest += static_cast<char>(std::stoi(sum.out.substr(i, 2), nullptr, 16));
  CHECK("sha256-" + Base64(digest) == std::string(kPageStyleHash));
}

TEST_CASE("a browser asking nothing gets the page, with the counts and a lookup box", "[page]") {
  test::TempDir dir;
  test::SeedApiDatabase(dir.File("slkvdb"));
  Store store({dir.File("slkvdb")});
  const Response page = Handle(BrowserRequest(""), store);
  CHECK(page.status == 200);
  CHECK(page.content_type == "text/html; charset=utf-8");
  CHECK(page.body.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(page.body.find("<form method=\"get\">") != std::string::npos);
  CHECK(page.body.find("name=\"q\"") != std::string::npos);
  CHECK(page.body.find("<span id=\"records\">") != std::string::npos);
  CHECK(page.body.find("id=\"what\"") != std::string::npos);
  CHECK(page.body.find("http") == std::string::npos);  // nothing loaded from anywhere
  CHECK(page.body.size() <= 16 * 1024);
  CHECK(page.tally == Tally::kOther);
  bool csp = false;
  for (const auto& [name, value] : page.headers) {
    if (name == "Content-Security-Policy") {
      csp = true;
      CHECK(value.rfind("default-src 'none'; style-src 'sha256-", 0) == 0);
      CHECK(value.find("unsafe") == std::string::npos);
    }
  }
  CHECK(csp);
  CheckOnlyPageTags(page.body);
}

TEST_CASE("the page answers what was typed: a name, a key, nothing known, nonsense", "[page]") {
  test::TempDir dir;
  test::SeedApiDatabase(dir.File("slkvdb"));
  Store store({dir.File("slkvdb")});
  const Response by_name = Handle(BrowserRequest("q=Mini+Resident"), store);
  CHECK(by_name.status == 200);
  CHECK(by_name.body.find("<dd id=\"key\">" + std::string(test::kMiniKey) + "</dd>") != std::string::npos);
  CHECK(by_name.tally == Tally::kFound);
  const Response by_key = Handle(BrowserRequest("q=+" + std::string(test::kMiniKey) + "+"), store);
  CHECK(by_key.body.find("<dd id=\"name\">Mini Resident</dd>") != std::string::npos);
  const Response unknown = Handle(BrowserRequest("q=Nobody+Here"), store);
  CHECK(unknown.status == 200);
  CHECK(unknown.body.find("id=\"not-known\"") != std::string::npos);
  CHECK(unknown.tally == Tally::kNotFound);
  const Response markup = Handle(BrowserRequest("q=%3Cscript%3Ealert(1)%3C%2Fscript%3E"), store);
  CHECK(markup.status == 200);  // a name no one has
  CHECK(markup.body.find("<script>") == std::string::npos);
  CHECK(markup.body.find("&lt;script&gt;alert(1)&lt;/script&gt;") != std::string::npos);
  CheckOnlyPageTags(markup.body);
  const Response nonsense = Handle(BrowserRequest("q=%22%3E%3Cb%3E%01"), store);
  CHECK(nonsense.status == 400);
  CHECK(nonsense.tally == Tally::kRefused);
  CHECK(nonsense.body.find("is not an avatar name or key: ") != std::string::npos);
  CHECK(nonsense.body.find("&quot;&gt;&lt;b&gt;") != std::string::npos);
  CheckOnlyPageTags(nonsense.body);
  const Response empty = Handle(BrowserRequest("q="), store);
  CHECK(empty.status == 400);
  CHECK(empty.body.find("Type an avatar name or key first.") != std::string::npos);
}

TEST_CASE("every page is valid HTML5, as HTML Tidy reads it", "[page]") {
  test::TempDir dir;
  test::SeedApiDatabase(dir.File("slkvdb"));
  Store store({dir.File("slkvdb")});
  for (const char* query : {"", "q=Mini+Resident", "q=Nobody+Here", "q=%22%3E%3Cb%3E%01", "q="}) {
    INFO(query);
    const std::string file = dir.File("page.html");
    std::ofstream(file) << Handle(BrowserRequest(query), store).body;
    // -errors: errors and warnings only, on stderr; exit 0 means none.
    const test::RunResult tidy = test::RunProgram("/usr/bin/tidy", {"-errors", "-quiet", file}, {"PATH=/usr/bin:/bin"});
    CHECK(tidy.exit_code == 0);
    CHECK(tidy.err.empty());
  }
}

TEST_CASE("every other client gets today's answers, the browser too when it asks a name", "[page]") {
  test::TempDir dir;
  test::SeedApiDatabase(dir.File("slkvdb"));
  Store store({dir.File("slkvdb")});
  for (const char* accept : {"", "*/*", kLslAccept, "text/*"}) {
    INFO(accept);
    Request request;
    request.accept = accept;
    request.query = "q=Mini+Resident";
    const Response nothing = Handle(request, store);
    CHECK(nothing.status == 404);
    CHECK(nothing.body == "empty avatar name and UUID key received, cannot proceed");
  }
  const Response name = Handle(BrowserRequest("name=Mini+Resident"), store);
  CHECK(name.content_type == "text/plain; charset=utf-8");
  CHECK(name.body == test::kMiniKey);
}

TEST_CASE("status=1 answers the counts, and status = off refuses them", "[page][status]") {
  test::TempDir dir;
  test::SeedApiDatabase(dir.File("slkvdb"));
  Store store({dir.File("slkvdb")});
  auto policy = std::make_shared<AccessPolicy>();
  Gate gate([&policy] { return std::shared_ptr<const AccessPolicy>(policy); }, dir.File("slkvdb/GOSL-RATES"),
            dir.File("slkvdb.activity"));
  Request request;
  request.query = "status=1&format=json";
  Response json = Handle(request, store, &gate);
  CHECK(json.status == 200);
  CHECK(json.content_type == "application/json");
  CHECK(json.body.rfind("{\"version\":", 0) == 0);
  CHECK(json.body.find("\"records\":") != std::string::npos);
  request.query = "status=1";
  Response text = Handle(request, store, &gate);
  CHECK(text.body.find("records: ") != std::string::npos);
  CHECK(text.body.back() != '\n');
  for (const char* bad : {"status=2", "status=yes", "status=1&name=Mini+Resident"}) {
    request.query = bad;
    CHECK(Handle(request, store, &gate).status == 400);
  }
  request.query = "status=2";
  CHECK(Handle(request, store, &gate).body == "status must be 1, not '2'");
  request.query = "status=1&key=" + std::string(test::kMiniKey);
  CHECK(Handle(request, store, &gate).body == "status=1 is asked alone, without name, key, pairs, names or keys");

  policy->public_status = false;
  request.query = "status=1";
  Response off = Handle(request, store, &gate);
  CHECK(off.status == 404);
  CHECK(off.body == "status is switched off on this site");
  // The page still works, without the counts.
  const Response page = Handle(BrowserRequest(""), store, &gate);
  CHECK(page.status == 200);
  CHECK(page.body.find("id=\"records\"") == std::string::npos);
  // The operator's shell is never refused.
  CHECK(Handle(request, store).status == 200);
}

}  // namespace gosl
