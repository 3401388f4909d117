#include "gosl/page.hpp"

#include <algorithm>
#include <functional>
#include <vector>

#include "gosl/avatar_name.hpp"
#include "gosl/text.hpp"
#include "gosl/uuid.hpp"
#include "gosl/version.hpp"

namespace gosl {
namespace {

// What a typed query may be at most (a name is 63 bytes, a key 36).
constexpr size_t kMaxQueryBytes = 200;
constexpr size_t kGridsShown = 10;  // the page stays small whatever the grids

constexpr std::string_view kStyle =
    "body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}"
    "main{max-width:40rem;margin:0 auto;padding:1rem}"
    "h1{font-size:1.4rem;margin:.5rem 0}h2{font-size:1.1rem;margin:1.2rem 0 .4rem}"
    "form{display:flex;flex-wrap:wrap;gap:.5rem}label{width:100%}"
    "input{flex:1 1 14rem;font:inherit;padding:.5rem;border:1px solid #8a93a6;border-radius:4px}"
    "button{font:inherit;padding:.5rem 1rem;border:0;border-radius:4px;background:#2456c9;color:#fff}"
    "section{background:#fff;border:1px solid #dde1e8;border-radius:6px;padding:.2rem 1rem;margin-top:1rem}"
    "dl{display:grid;grid-template-columns:auto 1fr;gap:.2rem 1rem}dt{font-weight:600}"
    "dd{margin:0;overflow-wrap:anywhere;font-family:ui-monospace,monospace}"
    "ul{padding-left:1.2rem}.note{color:#4a5163;font-size:.9rem}";

std::vector<std::string_view> SplitOn(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    const size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

// The answer to what was typed, as a section of the page; sets the HTTP
// status and the tally.
std::string ResultSection(const std::string& typed, Store& store, Response& response) {
  const std::string_view asked = TrimBlanks(typed);
  std::string shown = HtmlEscaped(Sanitized(asked, kMaxQueryBytes));
  std::string section = "<section id=\"result\"><h2>Result</h2>";
  Result<AvatarRecord> found = Status::NotFound("");
  if (asked.empty()) {
    response.tally = Tally::kRefused;
    response.status = 400;
    return section + "<p id=\"problem\">Type an avatar name or key first.</p></section>";
  }
  auto key = Uuid::Parse(asked);
  if (key.ok()) {
    found = store.FindByKey(key.value());
  } else {
    auto name = asked.size() > kMaxQueryBytes ? Result<AvatarName>(Status::InvalidArgument("it is too long"))
                                              : AvatarName::Parse(asked);
    if (!name.ok()) {
      response.tally = Tally::kRefused;
      response.status = 400;
      return section + "<p id=\"problem\">&#8216;" + shown + "&#8217; is not an avatar name or key: " +
             HtmlEscaped(Sanitized(name.status().message(), 200)) + ".</p></section>";
    }
    found = store.FindByName(name.value());
  }
  if (found.ok()) {
    response.tally = Tally::kFound;
    return section + "<dl><dt>Name</dt><dd id=\"name\">" + HtmlEscaped(found->name) +
           "</dd><dt>Key</dt><dd id=\"key\">" + found->key.ToString() + "</dd><dt>Grid</dt><dd id=\"grid\">" +
           HtmlEscaped(found->grid.empty() ? "(none sent)" : Sanitized(found->grid)) + "</dd></dl></section>";
  }
  if (found.status().IsNotFound()) {
    response.tally = Tally::kNotFound;
    return section + "<p id=\"not-known\">&#8216;" + shown + "&#8217; is not known here.</p></section>";
  }
  // The reason would name the site's files: the log has it.
  response.tally = Tally::kFailed;
  response.status = 503;
  return section + "<p id=\"problem\">The database cannot be read just now. Try again in a minute.</p></section>";
}

std::string StatusSection(const ServiceStatus& status) {
  std::string section = "<section id=\"status\"><h2>This database</h2>";
  if (!status.database_status.ok() || !status.facts.counted) {
    const char* why = !status.database_status.ok() ? "Cannot be read just now."
                      : status.facts.count_failed   ? "Cannot be counted just now."
                                                    : "Being counted: look again in a minute.";
    return section + "<p>" + why + "</p></section>";
  }
  const DatabaseFacts& f = status.facts;
  section += "<p><span id=\"records\">" + GroupedDigits(f.names) + "</span> names on " + GroupedDigits(f.grids) +
             (f.grids == 1 ? " grid" : " grids") + "; " + GroupedDigits(f.registrations_day) +
             " registered by scripts in the last day, " + GroupedDigits(f.registrations_30_days) +
             " in the last 30 days.</p><ul>";
  std::vector<std::pair<uint64_t, std::string>> grids;
  for (const auto& [grid, count] : f.names_per_grid) grids.emplace_back(count, grid);
  std::sort(grids.begin(), grids.end(), std::greater<>());
  for (size_t i = 0; i < grids.size() && i < kGridsShown; ++i) {
    section += "<li>" + HtmlEscaped(grids[i].second.empty() ? "(no grid sent)" : Sanitized(grids[i].second)) +
               ": " + GroupedDigits(grids[i].first) + "</li>";
  }
  if (f.grids > kGridsShown) section += "<li>and " + GroupedDigits(f.grids - kGridsShown) + " more</li>";
  return section + "</ul></section>";
}

}  // namespace

bool WantsHtmlPage(std::string_view accept) {
  for (std::string_view range : SplitOn(accept, ',')) {
    const size_t semicolon = range.find(';');
    if (AsciiLowered(TrimBlanks(range.substr(0, semicolon))) != "text/html") continue;
    if (semicolon == std::string_view::npos) return true;
    // "text/html;q=0" refuses it.
    for (std::string_view parameter : SplitOn(range.substr(semicolon + 1), ';')) {
      parameter = TrimBlanks(parameter);
      if (parameter.substr(0, 2) == "q=" && parameter.substr(2).find_first_not_of("0.") == std::string_view::npos) {
        return false;
      }
    }
    return true;
  }
  return false;
}

std::string HtmlEscaped(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string_view PageStyle() { return kStyle; }

Response BrowserPage(const Parameters& params, Store& store, const ServiceStatus* status) {
  Response response;
  response.content_type = "text/html; charset=utf-8";
  response.tally = Tally::kOther;
  const std::string typed = params.page_query ? *params.page_query : "";
  std::string body =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
      "<title>Avatar name and key lookup</title><style>" +
      std::string(kStyle) +
      "</style></head><body><main><h1>Avatar name and key lookup</h1>"
      "<p class=\"note\" id=\"what\">This service finds the key (UUID) of a Second Life or OpenSimulator "
      "avatar from its name, and the name from its key. In-world scripts ask it with llHTTPRequest; "
      "you can ask it here.</p>"
      "<form method=\"get\"><label for=\"q\">Avatar name or key</label>"
      "<input id=\"q\" name=\"q\" type=\"text\" maxlength=\"200\" autocomplete=\"off\" "
      "placeholder=\"Firstname Resident\" value=\"" +
      HtmlEscaped(Sanitized(TrimBlanks(typed), kMaxQueryBytes)) +
      "\"><button type=\"submit\">Look up</button></form>";
  if (params.page_query) body += ResultSection(typed, store, response);
  if (status) body += StatusSection(*status);
  body += "<p class=\"note\">gosl-basics " + std::string(kVersion) + "</p></main></body></html>";
  response.body = std::move(body);
  response.summary = params.page_query ? "page: lookup of '" + Sanitized(typed) + "'" : "page";
  response.headers = {
      {"Content-Security-Policy", "default-src 'none'; style-src '" + std::string(kPageStyleHash) +
                                      "'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"},
      {"X-Content-Type-Options", "nosniff"},
      {"Referrer-Policy", "no-referrer"},
      {"Cache-Control", "no-store"},
  };
  return response;
}

}  // namespace gosl
