#include "gosl/exporter.hpp"

#include "gosl/avatar_name.hpp"
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
  // Pass 1: names that are no longer their key's newest name.
  Status status = store.ForEachName([&](const AvatarRecord& by_name) {
    auto current = store.FindByKey(by_name.key);
    if (!current.ok() && !current.status().IsNotFound()) return current.status();
    if (current.ok() && LookupForm(current->name) == LookupForm(by_name.name)) {
      return Status::OK();
    }
    ++stats.old_names;
    return writer.value()->WriteLine(CsvLine(by_name));
  });
  // Pass 2: every key with its newest name.
  if (status.ok()) {
    status = store.ForEachKey([&](const AvatarRecord& by_key) {
      ++stats.records;
      return writer.value()->WriteLine(CsvLine(by_key));
    });
  }
  if (status.ok()) status = writer.value()->Close();
  if (!status.ok()) return status;
  return stats;
}

}  // namespace gosl
