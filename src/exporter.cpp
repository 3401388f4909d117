#include "gosl/exporter.hpp"

#include "gosl/compression.hpp"

namespace gosl {
namespace {

// W-Hat lines carry no quoting; a name with a comma or a quote (possible
// only for names registered in-world) is quoted as RFC 4180 says, which the
// importer reads back.
std::string CsvLine(const AvatarRecord& record) {
  std::string line = record.key.ToString() + ",";
  if (record.name.find_first_of(",\"") == std::string::npos) return line + record.name;
  line += '"';
  for (char c : record.name) {
    if (c == '"') line += '"';
    line += c;
  }
  return line + '"';
}

}  // namespace

Result<ExportStats> ExportCsv(const std::string& path, Store& store) {
  auto writer = LineWriter::Create(path);
  if (!writer.ok()) return writer.status();
  ExportStats stats;
  // From one snapshot, by the process serving the database (this one or
  // another): earlier names first, then every key with its newest name.
  Status status = store.Export([&](const AvatarRecord& record, bool earlier_name) {
    ++(earlier_name ? stats.old_names : stats.records);
    return writer.value()->WriteLine(CsvLine(record));
  });
  if (status.ok()) status = writer.value()->Close();
  if (!status.ok()) return status;
  return stats;
}

}  // namespace gosl
