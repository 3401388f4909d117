#include "gosl/exporter.hpp"

#include "gosl/compression.hpp"
#include "gosl/what_line.hpp"

namespace gosl {
Result<ExportStats> ExportCsv(const std::string& path, Store& store) {
  auto writer = LineWriter::Create(path);
  if (!writer.ok()) return writer.status();
  ExportStats stats;
  // From one snapshot, by the process serving the database (this one or
  // another): earlier names first, then every key with its newest name.
  Status status = store.Export([&](const ExportEntry& entry) {
    ++(entry.earlier_name ? stats.old_names : stats.records);
    if (entry.record.grid != kMainGrid) ++stats.other_grids;
    if (entry.registered_us != 0) ++stats.registrations;
    return writer.value()->WriteLine(FormatExportLine(entry));
  });
  if (status.ok()) status = writer.value()->Close();
  if (!status.ok()) return status;
  return stats;
}

}  // namespace gosl
