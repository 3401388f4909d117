#include "gosl/what_line.hpp"

#include <cstdio>
#include <ctime>
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

Result<WhatRecord> RecordOf(const std::vector<std::string>& fields) {
  auto key = Uuid::Parse(fields[0]);
  if (!key.ok()) return key.status();
  if (key->IsNil()) return Status::InvalidArgument("the null key is not an avatar");
  auto name = AvatarName::Parse(fields[1]);
  if (!name.ok()) return name.status();
  return WhatRecord{key.value(), std::move(name).value()};
}

// A field as SplitCsv reads it back: quoted when it holds a comma or a
// quote, or starts or ends with a blank (unquoted fields are trimmed).
void AppendField(std::string& line, std::string_view field) {
  const bool quote = field.find_first_of(",\"") != std::string_view::npos ||
                     (!field.empty() && (field.front() == ' ' || field.front() == '\t' ||
                                         field.back() == ' ' || field.back() == '\t'));
  if (!quote) {
    line += field;
    return;
  }
  line += '"';
  for (char c : field) {
    if (c == '"') line += '"';
    line += c;
  }
  line += '"';
}

bool Digits(std::string_view text, size_t at, size_t count, int& value) {
  value = 0;
  for (size_t i = at; i < at + count; ++i) {
    if (i >= text.size() || text[i] < '0' || text[i] > '9') return false;
    value = value * 10 + (text[i] - '0');
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
  return RecordOf(fields);
}

Result<ExportLine> ParseExportLine(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  thread_local std::vector<std::string> fields;
  if (!SplitCsv(line, fields, 4)) return Status::InvalidArgument("unterminated quote");
  if (fields.size() < 2 || fields.size() > 4) {
    return Status::InvalidArgument("expected 2 to 4 fields (UUID,Name[,Grid[,Registered]]), found " +
                                   (fields.size() > 4 ? std::string("more") : "1"));
  }
  auto record = RecordOf(fields);
  if (!record.ok()) return record.status();
  ExportLine out{std::move(record).value(), std::nullopt, 0};
  if (fields.size() >= 3) {
    if (Status s = CheckGridName(fields[2], "the grid column"); !s.ok()) return s;
    const std::string& host = out.record.name.hypergrid_host();
    if (!host.empty() && fields[2] != host) {
      return Status::InvalidArgument("grid '" + Sanitized(fields[2], 40) +
                                     "' is not the home grid of a Hypergrid name ('" + host + "')");
    }
    out.grid = fields[2];
  }
  if (fields.size() == 4) {
    auto time_us = ParseRegisteredTime(fields[3]);
    if (!time_us.ok()) return time_us.status();
    out.registered_us = time_us.value();
  }
  return out;
}

std::string FormatExportLine(const ExportEntry& entry) {
  const AvatarRecord& record = entry.record;
  std::string line = record.key.ToString() + ",";
  AppendField(line, record.name);
  const bool registered = entry.registered_us != 0 && !entry.earlier_name;
  // What an import assumes without the column: Production, or a Hypergrid
  // name's host (the name ends in " @" + grid). No string built per line.
  const std::string_view name = record.name;
  const size_t suffix = record.grid.size() + 2;
  const bool implied = record.grid == kMainGrid ||
                       (!record.grid.empty() && name.size() > suffix &&
                        name.substr(name.size() - suffix, 2) == " @" &&
                        name.substr(name.size() - record.grid.size()) == record.grid);
  if (registered || !implied) {
    line += ',';
    AppendField(line, record.grid);
  }
  if (registered) line += "," + FormatRegisteredTime(entry.registered_us);
  return line;
}

std::string FormatRegisteredTime(uint64_t time_us) {
  const time_t seconds = static_cast<time_t>(time_us / 1000000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[96];  // room for any int the compiler can imagine in each field
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>(time_us % 1000000));
  return text;
}

Result<uint64_t> ParseRegisteredTime(std::string_view text) {
  const auto refused = [&] {
    return Status::InvalidArgument("registration time '" + Sanitized(text, 40) +
                                   "' is not like 2026-11-27T09:37:53.123456Z (UTC)");
  };
  std::tm utc{};
  int micros = 0;
  if (text.size() != 27 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' ||
      text[16] != ':' || text[19] != '.' || text[26] != 'Z' || !Digits(text, 0, 4, utc.tm_year) ||
      !Digits(text, 5, 2, utc.tm_mon) || !Digits(text, 8, 2, utc.tm_mday) ||
      !Digits(text, 11, 2, utc.tm_hour) || !Digits(text, 14, 2, utc.tm_min) ||
      !Digits(text, 17, 2, utc.tm_sec) || !Digits(text, 20, 6, micros)) {
    return refused();
  }
  const std::tm asked = utc;
  utc.tm_year -= 1900;
  utc.tm_mon -= 1;
  const time_t seconds = timegm(&utc);
  // timegm moves a 30 February to March: a date that does not exist is refused.
  if (seconds < 0 || (seconds == 0 && micros == 0) || utc.tm_year + 1900 != asked.tm_year || utc.tm_mon + 1 != asked.tm_mon ||
      utc.tm_mday != asked.tm_mday || utc.tm_hour != asked.tm_hour || utc.tm_min != asked.tm_min ||
      utc.tm_sec != asked.tm_sec) {
    return refused();
  }
  return static_cast<uint64_t>(seconds) * 1000000 + static_cast<uint64_t>(micros);
}

}  // namespace gosl
