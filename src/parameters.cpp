#include "gosl/parameters.hpp"

#include <array>
#include <string_view>

#include "gosl/form.hpp"
#include "gosl/text.hpp"

namespace gosl {
namespace {

enum class Field { kName, kKey, kCompat, kFormat, kPairs, kNames, kKeys, kGrid, kToken, kStatus, kQuery, kCount };

struct FieldSpelling {
  std::string_view spelling;
  Field field;
};

// Every spelling a caller may use. "amp;key" is what old touch.lsl copies
// produce by writing "&amp;key=" into a URL.
constexpr std::array<FieldSpelling, 12> kSpellings{{
    {"name", Field::kName},
    {"key", Field::kKey},
    {"amp;key", Field::kKey},
    {"compat", Field::kCompat},
    {"format", Field::kFormat},
    {"pairs", Field::kPairs},
    {"names", Field::kNames},
    {"keys", Field::kKeys},
    {"grid", Field::kGrid},
    {"token", Field::kToken},
    {"status", Field::kStatus},
    {"q", Field::kQuery},
}};

using RawFields = std::array<std::optional<std::string>, static_cast<size_t>(Field::kCount)>;

void Collect(FormPairs pairs, RawFields& raw) {
  for (auto& [name, value] : pairs) {
    for (const auto& spelling : kSpellings) {
      if (name == spelling.spelling) raw[static_cast<size_t>(spelling.field)] = std::move(value);
    }
  }
}

// A body is read as a form unless it says it is something else.
bool BodyIsForm(std::string_view content_type) {
  std::string type = AsciiLowered(content_type.substr(0, content_type.find(';')));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  return type.empty() || type == "application/x-www-form-urlencoded" || type == "text/plain";
}

Result<bool> ParseCompat(std::string_view value) {
  std::string lower = AsciiLowered(value);
  if (lower.empty() || lower == "true" || lower == "1" || lower == "yes") return true;
  if (lower == "false" || lower == "0" || lower == "no") return false;
  return Status::InvalidArgument("compat must be true or false, not '" + Sanitized(value, 20) +
                                 "'");
}

Result<Format> ParseFormat(std::string_view value) {
  std::string lower = AsciiLowered(value);
  if (lower.empty() || lower == "text") return Format::kText;
  if (lower == "json") return Format::kJson;
  return Status::InvalidArgument("format must be text or json, not '" + Sanitized(value, 20) +
                                 "'");
}

// "UUID,Name" lines separated by '\n' (llEscapeURL writes it as %0A);
// a trailing '\r' and blank lines are ignored.
Result<std::vector<Result<WhatRecord>>> ParsePairs(std::string_view text) {
  if (text.size() > kMaxBatchBytes) {
    return Status::TooLarge("pairs is larger than " + std::to_string(kMaxBatchBytes) + " bytes");
  }
  std::vector<Result<WhatRecord>> pairs;
  size_t lines = 0;
  for (std::string_view line : SplitLines(text)) {
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    if (++lines > kMaxBatchPairs) continue;  // counted for the message below
    pairs.push_back(ParseWhatLine(line));
  }
  if (lines == 0) return Status::InvalidArgument("pairs is empty");
  if (lines > kMaxBatchPairs) {
    return Status::InvalidArgument("too many pairs: " + std::to_string(lines) + " (at most " +
                                   std::to_string(kMaxBatchPairs) + ")");
  }
  return pairs;
}

// A batch lookup's lines ('\n' between them, a trailing '\r' ignored, one
// final '\n' too): every line counts, a blank one included, so that answer
// N is for line N.
Result<std::vector<std::string_view>> LookupLines(std::string_view text, const std::string& what) {
  if (text.size() > kMaxBatchBytes) {
    return Status::TooLarge(what + " is larger than " + std::to_string(kMaxBatchBytes) + " bytes");
  }
  if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return Status::InvalidArgument(what + " is empty");
  }
  std::vector<std::string_view> lines = SplitLines(text);
  if (lines.size() > kMaxBatchLookups) {
    return Status::InvalidArgument("too many " + what + ": " + std::to_string(lines.size()) +
                                   " (at most " + std::to_string(kMaxBatchLookups) + ")");
  }
  return lines;
}

Result<Uuid> KeyLine(std::string_view line) {
  line = TrimBlanks(line);
  if (line.empty()) return Status::InvalidArgument("key is empty");
  return Uuid::Parse(line);
}

}  // namespace

Result<Parameters> ParseParameters(const Request& request) {
  if (request.body_too_large) {
    return Status::TooLarge("request body is larger than " +
                            std::to_string(Request::kMaxBodyBytes) + " bytes");
  }
  if (request.query.size() > Request::kMaxQueryBytes) {
    return Status::TooLong("query string is longer than " +
                           std::to_string(Request::kMaxQueryBytes) + " bytes");
  }
  RawFields raw;
  auto query = DecodeForm(request.query);
  if (!query.ok()) return query.status();
  size_t parameters = query->size();
  Collect(std::move(query).value(), raw);
  if (!request.body.empty() && BodyIsForm(request.content_type)) {
    auto body = DecodeForm(request.body);
    if (!body.ok()) return body.status();
    parameters += body->size();
    Collect(std::move(body).value(), raw);
  }
  if (parameters > Request::kMaxParameters) {
    return Status::InvalidArgument("more than " + std::to_string(Request::kMaxParameters) +
                                   " parameters");
  }

  Parameters params;
  if (const auto& name = raw[static_cast<size_t>(Field::kName)]; name && !name->empty()) {
    auto parsed = AvatarName::Parse(*name);
    if (!parsed.ok()) return parsed.status();
    params.name = std::move(parsed).value();
  }
  if (const auto& key = raw[static_cast<size_t>(Field::kKey)]; key && !key->empty()) {
    auto parsed = Uuid::Parse(*key);
    if (!parsed.ok()) return parsed.status();
    params.key = parsed.value();
  }
  if (const auto& compat = raw[static_cast<size_t>(Field::kCompat)]) {
    auto parsed = ParseCompat(*compat);
    if (!parsed.ok()) return parsed.status();
    params.compat = parsed.value();
  }
  if (const auto& format = raw[static_cast<size_t>(Field::kFormat)]) {
    auto parsed = ParseFormat(*format);
    if (!parsed.ok()) return parsed.status();
    params.format = parsed.value();
  }
  const auto& names = raw[static_cast<size_t>(Field::kNames)];
  const auto& keys = raw[static_cast<size_t>(Field::kKeys)];
  if ((names || keys) && (params.name || params.key || raw[static_cast<size_t>(Field::kPairs)] ||
                          (names && keys))) {
    return Status::InvalidArgument("give one of name/key, pairs, names or keys");
  }
  if (names) {
    auto lines = LookupLines(*names, "names");
    if (!lines.ok()) return lines.status();
    for (std::string_view line : lines.value()) params.names.push_back(AvatarName::Parse(line));
  }
  if (keys) {
    auto lines = LookupLines(*keys, "keys");
    if (!lines.ok()) return lines.status();
    for (std::string_view line : lines.value()) params.keys.push_back(KeyLine(line));
  }
  if (const auto& pairs = raw[static_cast<size_t>(Field::kPairs)]) {
    if (params.name || params.key) {
      return Status::InvalidArgument("give either pairs or name/key, not both");
    }
    auto parsed = ParsePairs(*pairs);
    if (!parsed.ok()) return parsed.status();
    params.pairs = std::move(parsed).value();
  }
  if (Status grid = CheckGridName(request.grid, "X-SecondLife-Shard header"); !grid.ok()) return grid;
  params.grid = request.grid;
  if (params.name && !params.name->hypergrid_host().empty()) {
    params.explicit_grid = params.name->hypergrid_host();
  }
  if (const auto& grid = raw[static_cast<size_t>(Field::kGrid)]; grid && !grid->empty()) {
    if (*grid == "*") {
      if (!params.name || params.key) {
        return Status::InvalidArgument("grid=* lists a name's entries and needs name alone");
      }
      if (params.format != Format::kJson) {
        return Status::InvalidArgument("grid=* answers a list and needs format=json");
      }
      params.all_grids = true;
    } else {
      if (Status s = CheckGridName(*grid, "grid"); !s.ok()) return s;
      params.explicit_grid = *grid;
      params.grid_parameter = true;
    }
  }
  if (auto& token = raw[static_cast<size_t>(Field::kToken)]) params.token = std::move(*token);
  if (const auto& status = raw[static_cast<size_t>(Field::kStatus)]) {
    if (*status != "1") {
      return Status::InvalidArgument("status must be 1, not '" + Sanitized(*status, 20) + "'");
    }
    if (params.name || params.key || !params.pairs.empty() || names || keys) {
      return Status::InvalidArgument("status=1 is asked alone, without name, key, pairs, names or keys");
    }
    params.status = true;
  }
  if (auto& typed = raw[static_cast<size_t>(Field::kQuery)]) params.page_query = std::move(*typed);
  return params;
}

}  // namespace gosl
