#include "gosl/importer.hpp"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "gosl/avatar_name.hpp"
#include "gosl/logging.hpp"
#include "gosl/uuid.hpp"

namespace gosl {
namespace {

constexpr size_t kLoggedBadLines = 10;  // then only counted: a broken file must not flood the log
constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

std::string_view Trimmed(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// One line "UUID,Name" -> the record, or the reason it is refused.
Status ParseLine(std::string_view line, Store::Batch& batch, const std::string& grid) {
  size_t comma = line.find(',');
  if (comma == std::string_view::npos) return Status::InvalidArgument("no comma");
  auto key = Uuid::Parse(Trimmed(line.substr(0, comma)));
  if (!key.ok()) return key.status();
  auto name = AvatarName::Parse(Trimmed(line.substr(comma + 1)));
  if (!name.ok()) return name.status();
  if (key->IsNil()) return Status::InvalidArgument("null key");
  batch.Add(name.value(), key.value(), grid);
  return Status::OK();
}

}  // namespace

Result<ImportStats> ImportCsv(const ImportOptions& options, Store& store) {
  const auto start = std::chrono::steady_clock::now();
  std::error_code ec;
  if (std::filesystem::is_directory(options.file, ec)) {
    return Status::IOError("cannot import '" + options.file + "': it is a directory");
  }
  std::ifstream in(options.file, std::ios::binary);
  if (!in) {
    return Status::IOError("cannot import '" + options.file + "': " + std::strerror(errno));
  }
  if (Status s = store.Open(); !s.ok()) return s;

  ImportStats stats;
  Store::Batch batch;
  std::string line;
  while (std::getline(in, line)) {
    ++stats.lines;
    std::string_view text(line);
    if (stats.lines == 1 && text.substr(0, kUtf8Bom.size()) == kUtf8Bom) {
      text.remove_prefix(kUtf8Bom.size());
    }
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    if (Trimmed(text).empty()) continue;

    if (Status s = ParseLine(text, batch, options.grid); !s.ok()) {
      if (++stats.skipped <= kLoggedBadLines) {
        log::Warning("import: line " + std::to_string(stats.lines) + " skipped: " + s.message());
      }
      continue;
    }
    if (batch.records() >= options.batch_records) {
      if (Status s = store.Commit(batch, /*sync=*/false); !s.ok()) return s;
      stats.imported += batch.records();
      batch.Clear();
    }
    if (stats.lines % options.progress_records == 0) {
      log::Info("import: " + std::to_string(stats.lines) + " lines read");
    }
  }
  if (in.bad()) {
    return Status::IOError("reading '" + options.file + "' failed: " + std::strerror(errno));
  }
  // The last batch is synced: when the import reports success, it is on disk.
  if (Status s = store.Commit(batch, /*sync=*/true); !s.ok()) return s;
  stats.imported += batch.records();
  if (Status s = store.CompactAll(); !s.ok()) return s;
  stats.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (stats.skipped > kLoggedBadLines) {
    log::Warning("import: " + std::to_string(stats.skipped - kLoggedBadLines) +
                 " more malformed lines skipped");
  }
  return stats;
}

}  // namespace gosl
