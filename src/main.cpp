// config -> logging -> pick mode -> exit code. Everything else lives in a module.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <iostream>

#include "gosl/config.hpp"
#include "gosl/fcgi_loop.hpp"
#include "gosl/http_server.hpp"
#include "gosl/logging.hpp"
#include "gosl/maintenance.hpp"
#include "gosl/service_status.hpp"
#include "gosl/shell.hpp"
#include "gosl/store.hpp"
#include "gosl/version.hpp"

namespace {

enum class Mode { kFastCgi, kCgi, kServer, kShell, kFilesOnly, kRepair, kStatus, kUsage };

Mode ChooseMode(const gosl::Config& config) {
  if (config.status) return Mode::kStatus;
  if (config.server) return Mode::kServer;
  if (config.shell) return Mode::kShell;
  if (config.repair) return Mode::kRepair;
  const bool operation = !config.import_file.empty() || !config.export_file.empty() ||
                         config.create || !config.replace_dir.empty();
  const auto& given = config.on_command_line;
  const bool asked_by_hand =
      given.count("import") || given.count("export") || given.count("create") || given.count("replace");
  if (operation && asked_by_hand) return Mode::kFilesOnly;
  // Started by Apache, it serves, whatever config.ini asks to do once
  // (main() says why that is not done).
  if (gosl::StdinIsListeningSocket()) return Mode::kFastCgi;
  if (gosl::EnvironmentIsCgi()) return Mode::kCgi;
  if (operation) return Mode::kFilesOnly;  // config.ini's, run by hand: the Go program's way
  return Mode::kUsage;  // started by hand: say how to use it instead of hanging
}

}  // namespace

int main(int argc, char* argv[]) {
  signal(SIGPIPE, SIG_IGN);  // a client that hangs up costs its answer, not the process
  umask(077);  // all the service makes is the site user's alone (docs/security.md)
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
    // --status's output is the answer: its own log lines go to the file only.
    const bool operator_watching = mode != Mode::kFastCgi && mode != Mode::kCgi && mode != Mode::kStatus;
    gosl::log::LogOptions log_options{config.LogPath(), config.log_max_size_mb << 20,
                                      config.log_max_backups, config.log_level, operator_watching};
    gosl::Status logging = gosl::log::SetUp(log_options);
    if (!logging.ok() && operator_watching) std::cerr << logging.message() << "\n";

    if (mode == Mode::kRepair) return gosl::RunRepair(config);
    // Only an import or --create makes a database: a serving process that
    // finds none (a mistyped --dir, an upload under way) answers 503 and
    // serves it once it is there, instead of filling a new empty one.
    gosl::Config operations = config;
    if ((mode == Mode::kFastCgi || mode == Mode::kCgi) &&
        (!config.import_file.empty() || !config.export_file.empty())) {
      // A Go-era config.ini's importFilename or exportFilename would run in
      // every process Apache starts: an operation is run over SSH instead.
      gosl::log::Warning("config.ini sets importFilename or exportFilename, which would run in "
                         "every process Apache starts: ignored here (run gosl-basics.fcgi --import "
                         "FILE or --export FILE over SSH, docs/database.md)");
      operations.import_file.clear();
      operations.export_file.clear();
    }
    const bool may_create = !operations.import_file.empty() || config.create;
    gosl::StoreOptions store_options{config.DatabasePath(), config.memory_budget_mb, may_create};
    store_options.hand_over_when_idle = mode == Mode::kFastCgi;
    gosl::Store store(store_options);
    if (mode == Mode::kStatus) {
      // Asks the process serving the database, or opens it when none does;
      // waits for a count under way after an upgrade (seconds).
      const gosl::ServiceStatus status =
          gosl::GatherStatus(store, {config.ActivityPath(), config.LogPath(), true, 120 * 1000});
      std::cout << (config.status_format == gosl::Format::kJson ? gosl::StatusJson(status) + "\n"
                                                                 : gosl::StatusText(status));
      return status.database_status.ok() ? 0 : 1;
    }
    // Public front ends check registrations against the settings in force
    // (config.ini may change them while serving, an import included); the
    // shell is the operator.
    gosl::LiveConfig live(argc, argv, binary_dir, config);
    if (!gosl::RunFileOperations(operations, store)) return 1;

    gosl::Gate gate(
        [&live] {
          std::shared_ptr<const gosl::Config> now = live.Current();
          return std::shared_ptr<const gosl::AccessPolicy>(now, &now->access);
        },
        config.RateTablePath(), config.ActivityPath());
    switch (mode) {
      case Mode::kServer: return gosl::RunHttpServer(store, gate, {config.bind, config.port});
      case Mode::kShell: {
        // Request lines would interleave with the prompt's answers: file only
        // (a failure to open it was said above).
        log_options.to_stderr = false;
        logging = gosl::log::SetUp(log_options);
        const bool interactive = isatty(0) && isatty(1);
        return gosl::RunShell(store, std::cin, std::cout, interactive,
                              interactive ? config.ShellHistoryPath() : "");
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
