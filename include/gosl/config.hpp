// Config: every setting of the program, from the command line and the INI
// file (Boost.Program_options), as plain values. The option table
// (src/config/option_table.cpp) is the one place an option is declared;
// main passes the parts a module needs, nothing reads a global.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <set>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "gosl/access.hpp"
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

// Every setting, as plain values. Defaults, bounds and help come from the
// option table (src/config/option_table.cpp), one row per option.
struct Config {
  bool help = false;
  bool version = false;

  std::string config_file;           // the INI file read; empty when none
  std::string dir;                   // absolute; default: the binary's directory
  std::string database_name;         // the LevelDB directory inside dir
  size_t memory_budget_mb = 0;       // store caches, MB

  std::string import_file;           // --import: W-Hat CSV to load
  std::string import_grid;           // --import-grid: the grid the file is from
  size_t import_memory_mb = 8;       // --import-memory: what the sort holds, MB
  std::string export_file;           // --export: W-Hat CSV to write
  std::string replace_dir;           // --replace: a database directory to serve instead
  bool create = false;               // --create: make an empty database when there is none
  bool repair = false;               // --repair: RepairDB, then exit
  bool status = false;               // --status: what the service is doing, then exit
  Format status_format = Format::kText;  // --format: --status's text or json
  size_t progress_records = 0;       // --loopbatch: a progress line every N records

  bool server = false;               // --server: standalone HTTP
  bool shell = false;                // --shell: interactive prompt
  int port = 0;
  std::string bind;                  // numeric address

  AccessPolicy access;               // writes, token, owners, registration rate limit

  log::Level log_level = log::Level::kInfo;
  std::string log_file;              // relative to dir
  size_t log_max_size_mb = 0;
  size_t log_max_backups = 0;

  // The text each option was given as (command line or INI file), by long
  // name; options left at their default are absent. What a reload compares.
  std::map<std::string, std::string> given;
  // The long names of those given on the command line (the rest came from
  // config.ini): an operation asked there runs even when Apache started us.
  std::set<std::string> on_command_line;

  std::string DatabasePath() const;   // dir/database_name unless absolute
  std::string LogPath() const;        // dir/log_file unless absolute
  std::string RateTablePath() const;  // the registration rate table, inside the database
  std::string ActivityPath() const;   // what each serving process answered, beside the database
  std::string ShellHistoryPath() const;  // the --shell prompt's history, in dir
};

// Parses argv, then the INI file (--config FILE; else config.ini in
// binary_dir, else in the working directory); the command line wins.
// Throws StartupError(2, message naming the option) on unknown options, bad
// values, or a --config file that cannot be read.
Config ParseConfig(int argc, const char* const argv[], const std::string& binary_dir);

// The settings in force while a server runs: the write protection and the
// log level follow config.ini without a restart. Current() looks at the
// file (one stat) at most once a second; when it changed, the command line
// and the file are parsed again. A file with an error keeps the settings in
// force and logs why, once per change of the file; so does a file that is
// deleted. A file is read once it is `settle` old, not while it is being
// uploaded. Only the options the table marks as modifiable are taken; a
// change to any other setting is logged as needing a restart.
class LiveConfig {
 public:
  LiveConfig(int argc, const char* const argv[], std::string binary_dir, Config initial,
             std::chrono::milliseconds settle = std::chrono::milliseconds(1000));
  std::shared_ptr<const Config> Current();
  // Reads the file again now if it changed since last seen.
  void CheckNow();

 private:
  struct FileStamp {
    long long mtime_ns = 0, size = -1, inode = 0;
    bool operator==(const FileStamp& o) const {
      return mtime_ns == o.mtime_ns && size == o.size && inode == o.inode;
    }
  };
  static FileStamp Stamp(const std::string& path);
  // A token in a file other users can read is theirs too: said at start and
  // at each reload.
  void WarnIfReadableByOthers() const;

  std::vector<std::string> args_;
  std::string binary_dir_;
  std::string watched_;  // the config file, or where one would be found
  long long settle_ns_;
  std::mutex mutex_;
  std::shared_ptr<const Config> current_;
  FileStamp stamp_;
  std::chrono::steady_clock::time_point next_check_;
};

// The directory of the running binary (where config.ini, the database and
// the log live by default): /proc/self/exe, or argv[0] where there is no
// /proc (a chroot), or the working directory.
std::string BinaryDirectory(const char* argv0);

// The --help text: usage, modes and every option with its default.
std::string HelpText();

}  // namespace gosl
