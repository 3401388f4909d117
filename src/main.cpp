// config -> logging -> pick mode -> exit code. Everything else lives in a module.
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>

#include "gosl/config.hpp"
#include "gosl/fcgi_loop.hpp"
#include "gosl/http_server.hpp"
#include "gosl/importer.hpp"
#include "gosl/logging.hpp"
#include "gosl/store.hpp"
#include "gosl/version.hpp"

namespace {

enum class Mode { kFastCgi, kCgi, kServer, kImportOnly, kUsage };

Mode ChooseMode(const gosl::Config& config) {
  if (config.server) return Mode::kServer;
  if (!config.import_file.empty()) return Mode::kImportOnly;
  if (gosl::StdinIsListeningSocket()) return Mode::kFastCgi;
  if (gosl::EnvironmentIsCgi()) return Mode::kCgi;
  return Mode::kUsage;  // started by hand: say how to use it instead of hanging
}

std::string BinaryDirectory() {
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::current_path(ec).string() : self.parent_path().string();
}

int Import(const gosl::Config& config, gosl::Store& store) {
  gosl::ImportOptions options{config.import_file, config.batch_records, config.progress_records};
  auto stats = gosl::ImportCsv(options, store);
  if (!stats.ok()) {
    gosl::log::Error("import failed: " + stats.status().message());
    return 1;
  }
  gosl::log::Notice("import of '" + config.import_file + "' done: " +
                    std::to_string(stats->lines) + " lines, " + std::to_string(stats->imported) +
                    " records imported, " + std::to_string(stats->skipped) + " skipped, " +
                    std::to_string(stats->seconds) + " s");
  return 0;
}

}  // namespace

int main(int argc, char* argv[]) {
  signal(SIGPIPE, SIG_IGN);  // a client that hangs up costs its answer, not the process
  try {
    const gosl::Config config = gosl::ParseConfig(argc, argv, BinaryDirectory());
    if (config.help) std::cout << gosl::HelpText();
    if (config.version) std::cout << "gosl-basics " << gosl::kVersion << "\n";
    if (config.help || config.version) return 0;

    const Mode mode = ChooseMode(config);
    if (mode == Mode::kUsage) {
      std::cerr << "gosl-basics.fcgi is a FastCGI program: Apache's mod_fcgid starts it.\n"
                   "By hand, run it with --server, --import FILE or --help.\n";
      return 2;
    }
    const bool interactive = mode == Mode::kServer || mode == Mode::kImportOnly;
    gosl::Status logging = gosl::log::SetUp({config.LogPath(), config.log_max_size_mb,
                                             config.log_max_backups, config.log_level,
                                             interactive});
    // In FastCGI and CGI modes stderr is Apache's error log, not ours: serve without a log.
    if (!logging.ok() && interactive) std::cerr << logging.message() << "\n";

    gosl::Store store({config.DatabasePath(), config.memory_budget_mb});
    if (!config.import_file.empty() && Import(config, store) != 0) return 1;
    switch (mode) {
      case Mode::kServer:
        return gosl::RunHttpServer(store, {config.bind, config.port});
      case Mode::kFastCgi: return gosl::RunFastCgi(store);
      case Mode::kCgi: return gosl::RunCgiOnce(store);
      default: return 0;
    }
  } catch (const gosl::StartupError& e) {
    std::cerr << e.what() << "\n";
    return e.exit_code();
  }
}
