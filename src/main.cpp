// config -> logging -> import/export -> pick mode -> exit code. Everything else lives in a module.
#include <signal.h>
#include <unistd.h>

#include <iostream>

#include "gosl/config.hpp"
#include "gosl/exporter.hpp"
#include "gosl/fcgi_loop.hpp"
#include "gosl/http_server.hpp"
#include "gosl/importer.hpp"
#include "gosl/logging.hpp"
#include "gosl/shell.hpp"
#include "gosl/store.hpp"
#include "gosl/version.hpp"

namespace {

enum class Mode { kFastCgi, kCgi, kServer, kShell, kFilesOnly, kUsage };

Mode ChooseMode(const gosl::Config& config) {
  if (config.server) return Mode::kServer;
  if (config.shell) return Mode::kShell;
  if (!config.import_file.empty() || !config.export_file.empty()) return Mode::kFilesOnly;
  if (gosl::StdinIsListeningSocket()) return Mode::kFastCgi;
  if (gosl::EnvironmentIsCgi()) return Mode::kCgi;
  return Mode::kUsage;  // started by hand: say how to use it instead of hanging
}

// --import then --export, as asked; false when one failed (it is logged).
bool ImportAndExport(const gosl::Config& config, gosl::Store& store) {
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
    const gosl::Config config = gosl::ParseConfig(argc, argv, gosl::BinaryDirectory(argv[0]));
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

    // Only an import or a mode that takes registrations may create the
    // database; --shell or --export with a mistyped --dir must say so.
    const bool may_create = !config.import_file.empty() || mode == Mode::kServer ||
                            mode == Mode::kFastCgi || mode == Mode::kCgi;
    gosl::Store store({config.DatabasePath(), config.memory_budget_mb, may_create});
    if (!ImportAndExport(config, store)) return 1;
    switch (mode) {
      case Mode::kServer: return gosl::RunHttpServer(store, {config.bind, config.port});
      case Mode::kShell: {
        // Request lines would interleave with the prompt's answers: file only
        // (a failure to open it was said above).
        log_options.to_stderr = false;
        logging = gosl::log::SetUp(log_options);
        const bool interactive = isatty(0) && isatty(1);
        return gosl::RunShell(store, std::cin, std::cout, interactive,
                              interactive ? config.dir + "/.gosl_history" : "");
      }
      case Mode::kFastCgi: return gosl::RunFastCgi(store);
      case Mode::kCgi: return gosl::RunCgiOnce(store);
      default: return 0;
    }
  } catch (const gosl::StartupError& e) {
    std::cerr << e.what() << "\n";
    return e.exit_code();
  }
}
