#include "gosl/response.hpp"

#include "gosl/text.hpp"
#include "gosl/uuid.hpp"

namespace gosl {
namespace {

// LSL delivers 2048 bytes of an answer by default: a batch's answer names at
// most this many refused pairs, then counts the rest.
constexpr size_t kListedRefusals = 10;

std::string BatchText(const Outcome& o) {
  std::string text =
      "recorded " + std::to_string(o.recorded) + " of " + std::to_string(o.total);
  for (size_t i = 0; i < o.refused.size() && i < kListedRefusals; ++i) {
    text += "\nline " + std::to_string(o.refused[i].first) + ": " + o.refused[i].second;
  }
  if (o.refused.size() > kListedRefusals) {
    text += "\n... and " + std::to_string(o.refused.size() - kListedRefusals) + " more refused";
  }
  return text;
}

std::string BatchJson(const Outcome& o) {
  std::string json = "{\"recorded\":" + std::to_string(o.recorded) +
                     ",\"total\":" + std::to_string(o.total) + ",\"refused\":[";
  for (size_t i = 0; i < o.refused.size(); ++i) {
    if (i > 0) json += ",";
    json += "{\"line\":" + std::to_string(o.refused[i].first) + ",\"reason\":\"" +
            JsonEscaped(o.refused[i].second) + "\"}";
  }
  return json + "]}";
}

std::string AllGridsJson(const Outcome& o) {
  std::string json = "{\"name\":\"" + JsonEscaped(o.name) + "\",\"found\":" +
                     (o.entries.empty() ? "false" : "true") + ",\"entries\":[";
  for (size_t i = 0; i < o.entries.size(); ++i) {
    if (i > 0) json += ",";
    json += "{\"name\":\"" + JsonEscaped(o.entries[i][0]) + "\",\"key\":\"" + o.entries[i][1] +
            "\",\"grid\":\"" + JsonEscaped(o.entries[i][2]) + "\"}";
  }
  return json + "]}";
}

// The Go program's sentences, kept word for word: scripts parse them.
std::string Sentence(const Outcome& o) {
  switch (o.action) {
    case Action::kFindKey:
      return "UUID for '" + o.name + "' is: " + o.key + " from grid: '" + o.grid + "'";
    case Action::kFindName:
      return "avatar name for '" + o.key + "' is '" + o.name + "' on grid: '" + o.grid + "'";
    case Action::kRecord:
      break;
    case Action::kRecordBatch:
      return BatchText(o);
    case Action::kFindAllGrids:
      return AllGridsJson(o);  // parameters allow it with format=json only
    case Action::kFindKeys:
    case Action::kFindNames:
      return {};  // Render answers each line (LookupLines)
  }
  return "Added new entry for '" + o.name + "' which is: " + o.key + " from grid: '" + o.grid +
         "'";
}

std::string CompatBody(const Outcome& o) {
  switch (o.action) {
    case Action::kFindKey: return o.key;  // the nil UUID when unknown, as W-Hat answered
    case Action::kFindName: return o.name;  // empty when unknown
    case Action::kRecord: return Sentence(o);  // the Go program always answered the sentence
    case Action::kRecordBatch: return BatchText(o);
    case Action::kFindAllGrids: return AllGridsJson(o);
    case Action::kFindKeys:
    case Action::kFindNames: return {};  // Render answers each line (LookupLines)
  }
  return {};
}

std::string JsonBody(const Outcome& o) {
  return "{\"name\":\"" + JsonEscaped(o.name) + "\",\"key\":\"" + o.key + "\",\"grid\":\"" +
         JsonEscaped(o.grid) + "\",\"found\":" + (o.found ? "true" : "false") +
         (o.error.empty() ? "" : ",\"error\":\"" + JsonEscaped(o.error) + "\"") + "}";
}

// A batch lookup: each line's answer on its own line, in the order asked;
// a malformed line answers "! " and its reason (docs/api.md).
std::string LookupLines(const Outcome& o, bool compat) {
  std::string text;
  for (size_t i = 0; i < o.lookups.size(); ++i) {
    const Outcome& line = o.lookups[i];
    if (i > 0) text += '\n';
    text += !line.error.empty() ? "! " + Sanitized(line.error, 200)
            : compat            ? CompatBody(line)
                                : Sentence(line);
  }
  return text;
}

std::string LookupsJson(const Outcome& o) {
  std::string json = "[";
  for (size_t i = 0; i < o.lookups.size(); ++i) json += (i > 0 ? "," : "") + JsonBody(o.lookups[i]);
  return json + "]";
}

}  // namespace

Response Render(const Outcome& outcome, bool compat, Format format) {
  Response response;
  if (format == Format::kJson) {
    response.content_type = "application/json";
    response.body = outcome.action == Action::kRecordBatch    ? BatchJson(outcome)
                    : outcome.action == Action::kFindAllGrids ? AllGridsJson(outcome)
                    : !outcome.lookups.empty()                ? LookupsJson(outcome)
                                                              : JsonBody(outcome);
  } else if (!outcome.lookups.empty()) {
    response.body = LookupLines(outcome, compat);
  } else {
    response.body = compat ? CompatBody(outcome) : Sentence(outcome);
  }
  return response;
}

Response ErrorResponse(const Status& status) {
  Response response;
  response.status = HttpStatusFor(status.code());
  response.body = Sanitized(status.message(), 400);  // one line whatever it quotes
  return response;
}

int HttpStatusFor(Code code) {
  switch (code) {
    case Code::kOk: return 200;
    case Code::kInvalidArgument: return 400;
    case Code::kMissingArgument:
    case Code::kNotFound: return 404;
    case Code::kTooLarge: return 413;
    case Code::kTooLong: return 414;
    case Code::kForbidden: return 403;
    case Code::kTooManyRequests: return 429;
    // Store faults: the database is missing, unreadable, full or damaged.
    // Each is a state that passes (or that --repair ends): "try again later".
    case Code::kUnavailable:
    case Code::kIOError:
    case Code::kCorruption: return 503;
    case Code::kInternal: return 500;
  }
  return 500;
}

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Unknown";
  }
}

std::string JsonEscaped(std::string_view text) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    auto byte = static_cast<unsigned char>(c);
    // U+2028 and U+2029 are valid in JSON but end a line in JavaScript; C1
    // controls are escaped like C0 ones.
    const uint32_t control = byte >= 0x80 ? UnicodeControlAt(text, i) : 0;
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20 || byte == 0x7F || control != 0) {
      const uint32_t code = control != 0 ? control : byte;
      out += "\\u";
      for (int shift = 12; shift >= 0; shift -= 4) out += kHex[(code >> shift) & 0x0F];
      if (control != 0) i += control >= 0x2000 ? 2 : 1;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace gosl
