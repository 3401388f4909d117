// Config: every setting of the program, from the command line and the INI
// file (Boost.Program_options), as plain values. The option table in
// config.cpp is the one place an option is declared; main passes the parts a
// module needs, nothing reads a global.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

#include "gosl/logging.hpp"

namespace gosl {

// A fault found before serving: bad options (exit 2), an unreadable config
// file (exit 2), or a resource that cannot be had (exit 1). main catches it.
class StartupError : public std::runtime_error {
 public:
  StartupError(int exit_code, const std::string& message)
      : std::runtime_error(message), exit_code_(exit_code) {}
  int exit_code() const { return exit_code_; }

 private:
  int exit_code_;
};

struct Config {
  bool help = false;
  bool version = false;

  std::string config_file;            // the INI file read; empty when none
  std::string dir;                    // absolute; default: the binary's directory
  std::string database_name = "slkvdb";
  size_t memory_budget_mb = 24;       // store caches, MB (4..4096)

  std::string import_file;            // --import: W-Hat CSV to load
  std::string import_grid = "Production";  // --import-grid: the grid the file is from
  std::string export_file;            // --export: W-Hat CSV to write
  size_t batch_records = 10000;       // --batchblock: records per committed batch
  size_t progress_records = 100000;   // --loopbatch: a progress line every N records

  bool server = false;                // --server: standalone HTTP
  bool shell = false;                 // --shell: interactive prompt
  int port = 3000;
  std::string bind = "127.0.0.1";     // numeric address; 0.0.0.0 to be reached from outside

  log::Level log_level = log::Level::kInfo;
  std::string log_file = "gosl.log";  // relative to dir
  size_t log_max_size_mb = 10;
  size_t log_max_backups = 3;

  std::string DatabasePath() const;   // dir/database_name unless absolute
  std::string LogPath() const;        // dir/log_file unless absolute
};

// Parses argv, then the INI file (--config FILE; else config.ini in
// binary_dir, else in the working directory); the command line wins.
// Throws StartupError(2, message naming the option) on unknown options, bad
// values, or a --config file that cannot be read.
Config ParseConfig(int argc, const char* const argv[], const std::string& binary_dir);

// The directory of the running binary (where config.ini, the database and
// the log live by default): /proc/self/exe, or argv[0] where there is no
// /proc (a chroot), or the working directory.
std::string BinaryDirectory(const char* argv0);

// The --help text: usage, modes and every option with its default.
std::string HelpText();

}  // namespace gosl
