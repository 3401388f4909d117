#include "gosl/maintenance.hpp"

#include <unistd.h>

#include "gosl/bulk_load.hpp"
#include "gosl/exporter.hpp"
#include "gosl/importer.hpp"
#include "gosl/logging.hpp"

namespace gosl {

int RunRepair(const Config& config) {
  size_t lost = 0;
  Status repaired = RepairDatabase(config.DatabasePath(), lost);
  if (!repaired.ok()) {
    log::Error("repair of '" + config.DatabasePath() + "' failed: " + repaired.message());
    return 1;
  }
  log::Notice("repair of '" + config.DatabasePath() + "' done: " + std::to_string(lost) +
              " damaged tables moved to its lost/ directory");
  Store store({config.DatabasePath(), config.memory_budget_mb, /*create_if_missing=*/false});
  Status opened = store.Open();
  if (!opened.ok()) log::Error("the repaired database does not open: " + opened.message());
  return opened.ok() ? 0 : 1;
}

bool RunFileOperations(const Config& config, Store& store) {
  if (config.create) {
    if (Status s = store.Open(); !s.ok()) {
      log::Error("cannot make the database: " + s.message());
      return false;
    }
  }
  if (!config.import_file.empty()) {
    ImportOptions options{config.import_file, config.progress_records, config.import_grid,
                          config.import_memory_mb};
    options.progress_bar = isatty(2);
    auto stats = ImportCsv(options, store);
    if (!stats.ok()) {
      log::Error("import of '" + config.import_file + "' failed: " + stats.status().message());
      return false;
    }
    log::Notice("import done: " + stats->Summary());
  }
  if (!config.replace_dir.empty()) {
    auto summary = store.SwapIn(config.replace_dir, /*refresh=*/false);
    if (!summary.ok()) {
      log::Error("replacing the database with '" + config.replace_dir +
                 "' failed: " + summary.status().message());
      return false;
    }
    log::Notice("replace done: " + summary.value());
  }
  if (!config.export_file.empty()) {
    auto stats = ExportCsv(config.export_file, store);
    if (!stats.ok()) {
      log::Error("export to '" + config.export_file + "' failed: " + stats.status().message());
      return false;
    }
    log::Notice("export done: " + std::to_string(stats->records) + " keys and " +
                std::to_string(stats->old_names) + " earlier names in '" + config.export_file +
                "' (" + std::to_string(stats->other_grids) + " lines of other grids than Production, " +
                std::to_string(stats->registrations) + " keys registered in-world)");
  }
  return true;
}

}  // namespace gosl
