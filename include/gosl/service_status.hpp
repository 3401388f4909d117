// What the service is doing, for its operator (--status over SSH) and for
// anyone (status=1, the page for browsers): the counts the database keeps
// (Store::Facts: names per grid, registrations, the last import), the
// processes serving now and what each has answered (activity.hpp), and, for
// the operator only, where the files are and how large. Nothing here scans
// the database.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gosl/activity.hpp"
#include "gosl/parameters.hpp"
#include "gosl/status.hpp"
#include "gosl/store.hpp"

namespace gosl {

struct ServiceStatus {
  std::string version;
  Status database_status;  // OK, or why the counts cannot be told
  DatabaseFacts facts;     // when database_status is OK
  Status processes_status;  // OK, or why the processes cannot be told
  std::vector<ProcessActivity> processes;
  // The operator's only (never over HTTP: paths and sizes of the site's files).
  bool for_operator = false;
  std::string database_path;
  uint64_t database_bytes = 0;
  std::string log_path;
  uint64_t log_bytes = 0;
};

struct StatusSources {
  std::string activity_file;  // Config::ActivityPath()
  std::string log_file;       // Config::LogPath(); operator only
  bool for_operator = false;
  // The operator waits (up to this) for a count under way after an upgrade;
  // a request never does.
  int wait_for_count_ms = 0;
};

ServiceStatus GatherStatus(Store& store, const StatusSources& sources);

// Plain text, one fact a line; and JSON, with at least "records" (a number,
// or null while counting) and "grids" (grid -> names). docs/api.md.
std::string StatusText(const ServiceStatus& status);
// 12345678 -> "12,345,678": counts read at a glance.
std::string GroupedDigits(uint64_t number);
std::string StatusJson(const ServiceStatus& status);

}  // namespace gosl
