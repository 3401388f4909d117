// config -> logging -> import/export -> pick mode -> exit code. Everything else lives in a module.
#include <signal.h>
#include <unistd.h>

#include <iostream>

#include "gosl/config.hpp"
#include "gosl/bulk_load.hpp"
#include "gosl/exporter.hpp"
#include "gosl/fcgi_loop.hpp"
#include "gosl/http_server.hpp"
#include "gosl/importer.hpp"
#include "gosl/logging.hpp"
#include "gosl/shell.hpp"
#include "gosl/store.hpp"
#include "gosl/version.hpp"

namespace {

enum class Mode { kFastCgi, kCgi, kServer, kShell, kFilesOnly, kRepair, kUsage };

Mode ChooseMode(const gosl::Config& config) {
  if (config.server) return Mode::kServer;
  if (config.shell) return Mode::kShell;
  if (config.repair) return Mode::kRepair;
  if (!config.import_file.empty() || !config.export_file.empty() || config.create) {
    return Mode::kFilesOnly;
  }
  if (gosl::StdinIsListeningSocket()) return Mode::kFastCgi;
  if (gosl::EnvironmentIsCgi()) return Mode::kCgi;
  return Mode::kUsage;  // started by hand: say how to use it instead of hanging
}

// --repair: the database rebuilt from what can be read; the exit code.
int Repair(const gosl::Config& config) {
  size_t lost = 0;
  gosl::Status repaired = gosl::RepairDatabase(config.DatabasePath(), lost);
  if (!repaired.ok()) {
    gosl::log::Error("repair of '" + config.DatabasePath() + "' failed: " + repaired.message());
    return 1;
  }
  gosl::log::Notice("repair of '" + config.DatabasePath() + "' done: " + std::to_string(lost) +
                    " damaged tables moved to its lost/ directory");
  gosl::Store store({config.DatabasePath(), config.memory_budget_mb, /*create_if_missing=*/false});
  gosl::Status opened = store.Open();  // migrates and checks the layout, as serving will
  if (!opened.ok()) gosl::log::Error("the repaired database does not open: " + opened.message());
  return opened.ok() ? 0 : 1;
}

// --create, --import, then --export, as asked; false when one failed (it is logged).
bool ImportAndExport(const gosl::Config& config, gosl::Store& store) {
  if (config.create) {
    if (gosl::Status s = store.Open(); !s.ok()) {
      gosl::log::Error("cannot make the database: " + s.message());
      return false;
    }
  }
  if (!config.import_file.empty()) {
    gosl::ImportOptions options{config.import_file, config.batch_records, config.progress_records,
                                config.import_grid};
    options.progress_bar = isatty(2);
    auto stats = gosl::ImportCsv(options, store);
    if (!stats.ok()) {
      gosl::log::Error("import of '" + config.import_file + "' failed: " + stats.status().message());
      return false;
    }
    gosl::log::Notice("import done: " + stats->Summary());
  }
  if (!config.export_file.empty()) {
    auto stats = gosl::ExportCsv(config.export_file, store);
    if (!stats.ok()) {
      gosl::log::Error("export to '" + config.export_file + "' failed: " + stats.status().message());
      return false;
    }
    gosl::log::Notice("export done: " + std::to_string(stats->records) + " keys and " +
                      std::to_string(stats->old_names) + " earlier names in '" +
                      config.export_file + "'");
  }
  return true;
}

}  // namespace

int main(int argc, char* argv[]) {
  signal(SIGPIPE, SIG_IGN);  // a client that hangs up costs its answer, not the process
  try {
    const std::string binary_dir = gosl::BinaryDirectory(argv[0]);
    const gosl::Config config = gosl::ParseConfig(argc, argv, binary_dir);
    if (config.help) std::cout << gosl::HelpText();
    if (config.version) std::cout << gosl::VersionText();
    if (config.help || config.version) return 0;

    const Mode mode = ChooseMode(config);
    if (mode == Mode::kUsage) {
      std::cerr << "gosl-basics.fcgi is a FastCGI program: Apache's mod_fcgid starts it.\n"
                   "By hand, run it with --server, --shell, --import FILE or --help.\n";
      return 2;
    }
    // In FastCGI and CGI modes stderr is Apache's error log, not ours.
    const bool operator_watching = mode != Mode::kFastCgi && mode != Mode::kCgi;
    gosl::log::LogOptions log_options{config.LogPath(), config.log_max_size_mb << 20,
                                      config.log_max_backups, config.log_level, operator_watching};
    gosl::Status logging = gosl::log::SetUp(log_options);
    if (!logging.ok() && operator_watching) std::cerr << logging.message() << "\n";

    if (mode == Mode::kRepair) return Repair(config);
    // Only an import or --create makes a database: a serving process that
    // finds none (a mistyped --dir, an upload under way) answers 503 and
    // serves it once it is there, instead of filling a new empty one.
    const bool may_create = !config.import_file.empty() || config.create;
    gosl::Store store({config.DatabasePath(), config.memory_budget_mb, may_create});
    // Public front ends check registrations against the settings in force
    // (config.ini may change them while serving, an import included); the
    // shell is the operator.
    gosl::LiveConfig live(argc, argv, binary_dir, config);
    if (!ImportAndExport(config, store)) return 1;

    gosl::Gate gate(
        [&live] {
          std::shared_ptr<const gosl::Config> now = live.Current();
          return std::shared_ptr<const gosl::AccessPolicy>(now, &now->access);
        },
        config.DatabasePath() + "/GOSL-RATES");
    switch (mode) {
      case Mode::kServer: return gosl::RunHttpServer(store, gate, {config.bind, config.port});
      case Mode::kShell: {
        // Request lines would interleave with the prompt's answers: file only
        // (a failure to open it was said above).
        log_options.to_stderr = false;
        logging = gosl::log::SetUp(log_options);
        const bool interactive = isatty(0) && isatty(1);
        return gosl::RunShell(store, std::cin, std::cout, interactive,
                              interactive ? config.dir + "/.gosl_history" : "");
      }
      case Mode::kFastCgi: return gosl::RunFastCgi(store, gate);
      case Mode::kCgi: return gosl::RunCgiOnce(store, gate);
      default: return 0;
    }
  } catch (const gosl::StartupError& e) {
    std::cerr << e.what() << "\n";
    return e.exit_code();
  }
}
