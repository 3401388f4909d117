#include "gosl/what_line.hpp"

#include <string>
#include <vector>

#include "gosl/text.hpp"

namespace gosl {
namespace {

// Splits an RFC 4180 line into fields. Returns false for an unterminated
// quote. Stops after max_fields + 1 fields (enough to say "too many").
bool SplitCsv(std::string_view line, std::vector<std::string>& fields, size_t max_fields) {
  fields.clear();
  size_t i = 0;
  while (fields.size() <= max_fields) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    std::string field;
    if (i < line.size() && line[i] == '"') {
      ++i;
      for (;;) {
        if (i >= line.size()) return false;
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        field += line[i++];
      }
      while (i < line.size() && line[i] != ',') ++i;  // spaces after the closing quote
    } else {
      size_t end = line.find(',', i);
      if (end == std::string_view::npos) end = line.size();
      field.assign(TrimBlanks(line.substr(i, end - i)));
      i = end;
    }
    fields.push_back(std::move(field));
    if (i >= line.size()) break;
    ++i;  // the comma
  }
  return true;
}

}  // namespace

Result<WhatRecord> ParseWhatLine(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  thread_local std::vector<std::string> fields;
  if (!SplitCsv(line, fields, 2)) return Status::InvalidArgument("unterminated quote");
  if (fields.size() != 2) {
    return Status::InvalidArgument("expected 2 fields (UUID,Name), found " +
                                   (fields.size() > 2 ? std::string("more") : "1"));
  }
  auto key = Uuid::Parse(fields[0]);
  if (!key.ok()) return key.status();
  if (key->IsNil()) return Status::InvalidArgument("the null key is not an avatar");
  auto name = AvatarName::Parse(fields[1]);
  if (!name.ok()) return name.status();
  return WhatRecord{key.value(), std::move(name).value()};
}

}  // namespace gosl
