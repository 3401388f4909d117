#include "gosl/service_status.hpp"

#include <sys/stat.h>

#include <chrono>
#include <ctime>
#include <thread>

#include "gosl/response.hpp"
#include "gosl/version.hpp"
#include "util/posix_io.hpp"

namespace gosl {
namespace {

// "2026-11-27 14:05:00 UTC"
std::string UtcTime(int64_t seconds) {
  const auto when = static_cast<std::time_t>(seconds);
  std::tm parts{};
  gmtime_r(&when, &parts);
  char text[40];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &parts);
  return text;
}

// "17 KB", "561.2 MB"
std::string SizeText(uint64_t bytes) {
  char text[32];
  if (bytes < (1 << 20)) {
    std::snprintf(text, sizeof text, "%llu KB", static_cast<unsigned long long>((bytes + 1023) >> 10));
  } else {
    std::snprintf(text, sizeof text, "%.1f MB", static_cast<double>(bytes) / (1 << 20));
  }
  return text;
}

std::string GridLabel(const std::string& grid) { return grid.empty() ? "(no grid sent)" : Sanitized(grid); }

struct ProcessTotals {
  size_t owners = 0, peers = 0;
  std::array<uint64_t, kTallies> answered{};
};

ProcessTotals Totals(const std::vector<ProcessActivity>& processes) {
  ProcessTotals totals;
  for (const ProcessActivity& p : processes) {
    ++(p.owner ? totals.owners : totals.peers);
    for (size_t i = 0; i < kTallies; ++i) totals.answered[i] += p.answered[i];
  }
  return totals;
}

std::string AnsweredText(const std::array<uint64_t, kTallies>& answered) {
  return GroupedDigits(answered[0]) + " found, " + GroupedDigits(answered[1]) + " not found, " +
         GroupedDigits(answered[2]) + " refused, " + GroupedDigits(answered[3]) + " failed, " +
         GroupedDigits(answered[4]) + " other";
}

std::string AnsweredJson(const std::array<uint64_t, kTallies>& answered) {
  std::string json = "{";
  for (size_t i = 0; i < kTallies; ++i) {
    json += std::string(i ? "," : "") + "\"" + TallyName(static_cast<Tally>(i)) +
            "\":" + std::to_string(answered[i]);
  }
  return json + "}";
}

std::string Quoted(std::string_view text) { return "\"" + JsonEscaped(Sanitized(text, 4096)) + "\""; }

}  // namespace

std::string GroupedDigits(uint64_t number) {
  std::string digits = std::to_string(number), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

ServiceStatus GatherStatus(Store& store, const StatusSources& sources) {
  ServiceStatus status;
  status.version = kVersion;
  status.for_operator = sources.for_operator;
  auto facts = store.Facts();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(sources.wait_for_count_ms);
  while (facts.ok() && !facts->counted && !facts->count_failed && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    facts = store.Facts();
  }
  if (facts.ok()) {
    status.facts = facts.value();
  } else {
    status.database_status = facts.status();
  }
  // After the database: the process that just opened it has no slot yet.
  auto processes = ReadActivity(sources.activity_file);
  if (processes.ok()) {
    status.processes = std::move(processes).value();
  } else {
    status.processes_status = processes.status();
  }
  if (sources.for_operator) {
    status.database_path = store.path();
    status.database_bytes = posix::DirectoryBytes(store.path());
    status.log_path = sources.log_file;
    struct stat info {};
    if (!sources.log_file.empty() && ::stat(sources.log_file.c_str(), &info) == 0) {
      status.log_bytes = static_cast<uint64_t>(info.st_size);
    }
  }
  return status;
}

std::string StatusText(const ServiceStatus& s) {
  std::string out = "gosl-basics " + s.version + "\n";
  if (s.for_operator) {
    out += "database: " + s.database_path + " (" + SizeText(s.database_bytes) + " on disk" +
           (s.database_status.ok() ? ", layout " + s.facts.layout : "") + ")\n";
  }
  if (!s.database_status.ok()) {
    // Over HTTP the reason would name the site's paths.
    out += "records: unknown (" +
           (s.for_operator ? s.database_status.message() : std::string("the database cannot be read now")) +
           ")\n";
  } else if (s.facts.count_failed) {
    out += "records: unknown (counting them failed" +
           std::string(s.for_operator ? ": gosl.log says why" : "") + ")\n";
  } else if (!s.facts.counted) {
    out += "records: being counted (once, after an upgrade): ask again in a minute\n";
  } else {
    const DatabaseFacts& f = s.facts;
    out += "records: " + GroupedDigits(f.names) + " names on " + GroupedDigits(f.grids) +
           (f.grids == 1 ? " grid\n" : " grids\n");
    for (const auto& [grid, count] : f.names_per_grid) out += "- " + GridLabel(grid) + ": " + GroupedDigits(count) + "\n";
    out += "registrations: " + GroupedDigits(f.registrations_hour) + " in the last hour, " +
           GroupedDigits(f.registrations_day) + " in the last day, " + GroupedDigits(f.registrations_30_days) +
           " in the last 30 days, " + GroupedDigits(f.registrations) + " ever\n";
  }
  if (s.database_status.ok()) {
    if (s.facts.last_import) {
      const ImportFacts& i = *s.facts.last_import;
      out += std::string("last import: ") + (i.refresh ? "a refresh" : "a new database") + ", " +
             UtcTime(static_cast<int64_t>(i.time_s)) + ", " + GroupedDigits(i.imported) + " records, " +
             GroupedDigits(i.skipped) + " lines skipped" + (s.for_operator ? ", from '" + Sanitized(i.file, 300) + "'" : "") +
             "\n";
    } else {
      out += "last import: none recorded\n";
    }
    if (s.facts.carrying) out += "a replaced database is being carried into this one\n";
  }
  const ProcessTotals totals = Totals(s.processes);
  if (!s.processes_status.ok()) {
    out += "processes serving: unknown (" +
           (s.for_operator ? s.processes_status.message() : std::string("cannot be read now")) + ")\n";
  } else {
    out += "processes serving: " + std::to_string(s.processes.size()) + " (" + std::to_string(totals.owners) +
         " holding the database, " + std::to_string(totals.peers) + " forwarding to it)\n";
    out += "answered since they started: " + AnsweredText(totals.answered) + "\n";
  }
  if (s.for_operator) {
    for (const ProcessActivity& p : s.processes) {
      out += "- pid " + std::to_string(p.pid) + (p.owner ? " (holds the database)" : "") + ", " +
             p.version + ", since " + UtcTime(p.started_s) + ": " + AnsweredText(p.answered) + "\n";
    }
    out += "log: " + s.log_path + " (" + SizeText(s.log_bytes) + ")\n";
  }
  return out;
}

std::string StatusJson(const ServiceStatus& s) {
  std::string json = "{\"version\":" + Quoted(s.version);
  const bool counted = s.database_status.ok() && s.facts.counted;
  json += ",\"database\":" + std::string(!s.database_status.ok() ? "\"unavailable\""
                                         : counted                  ? "\"ok\""
                                         : s.facts.count_failed     ? "\"count failed\""
                                                                    : "\"counting\"");
  json += ",\"records\":" + (counted ? std::to_string(s.facts.names) : "null");
  json += ",\"grids\":{";
  if (counted) {
    bool first = true;
    for (const auto& [grid, count] : s.facts.names_per_grid) {
      json += (first ? "" : ",") + Quoted(grid) + ":" + std::to_string(count);
      first = false;
    }
  }
  json += "}";
  if (counted) {
    const DatabaseFacts& f = s.facts;
    json += ",\"registrations\":{\"hour\":" + std::to_string(f.registrations_hour) +
            ",\"day\":" + std::to_string(f.registrations_day) + ",\"30_days\":" +
            std::to_string(f.registrations_30_days) + ",\"ever\":" + std::to_string(f.registrations) + "}";
  }
  if (s.database_status.ok() && s.facts.last_import) {
    const ImportFacts& i = *s.facts.last_import;
    json += ",\"last_import\":{\"time\":" + Quoted(UtcTime(static_cast<int64_t>(i.time_s))) +
            ",\"records\":" + std::to_string(i.imported) + ",\"skipped\":" + std::to_string(i.skipped) +
            ",\"refresh\":" + (i.refresh ? "true" : "false") + (s.for_operator ? ",\"file\":" + Quoted(i.file) : "") + "}";
  }
  const ProcessTotals totals = Totals(s.processes);
  if (s.processes_status.ok()) {
    json += ",\"processes\":{\"owner\":" + std::to_string(totals.owners) + ",\"peers\":" +
            std::to_string(totals.peers) + "},\"answered\":" + AnsweredJson(totals.answered);
  } else {
    json += ",\"processes\":null,\"answered\":null";
  }
  if (s.for_operator) {
    json += ",\"path\":" + Quoted(s.database_path) + ",\"bytes\":" + std::to_string(s.database_bytes) +
            ",\"layout\":" + Quoted(s.facts.layout) + ",\"log\":{\"path\":" + Quoted(s.log_path) +
            ",\"bytes\":" + std::to_string(s.log_bytes) + "},\"process_list\":[";
    for (size_t i = 0; i < s.processes.size(); ++i) {
      const ProcessActivity& p = s.processes[i];
      json += std::string(i ? "," : "") + "{\"pid\":" + std::to_string(p.pid) + ",\"owner\":" +
              (p.owner ? "true" : "false") + ",\"version\":" + Quoted(p.version) + ",\"started\":" +
              Quoted(UtcTime(p.started_s)) + ",\"answered\":" + AnsweredJson(p.answered) + "}";
    }
    json += "]";
    if (!s.database_status.ok()) json += ",\"error\":" + Quoted(s.database_status.message());
  }
  return json + "}";
}

}  // namespace gosl
