// The option table: every option declared once (redis src/config.c), with
// its spellings, kind, bounds, default, help, whether it may change while a
// server runs and whether it is secret, and how its value lands in Config.
// ParseConfig, LiveConfig and HelpText all read it; nothing else names an
// option.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "gosl/config.hpp"

namespace gosl::config_table {

enum class Kind { kFlag, kText, kNumber, kIgnored };

enum Flags : unsigned {
  kStartup = 0,        // a setting read at start; a change needs a restart
  kModifiable = 1,     // taken from a changed config.ini while serving
  kSecret = 2,         // its value is never quoted back
  kCommand = 4,        // a mode or a one-off command, not a setting of a running server
};

// Where a value came from, for the rows whose meaning depends on it.
struct Source {
  bool from_command_line = false;
  std::string config_file;           // the INI file read; empty: none
  std::filesystem::path working_dir;
  std::string binary_dir;
};

// One option's value: given (command line or INI file) or the row's default.
struct Value {
  bool given = false;
  std::string text;      // as given; the default text when not given
  long long number = 0;  // Kind::kNumber, within the row's bounds
  bool flag = false;     // Kind::kFlag
};

struct Row {
  const char* cli;  // "long" or "long,s"; nullptr: INI only
  const char* ini;  // "section.key", the Go program's where it had one; nullptr: command line only
  Kind kind;
  long long min, max;     // Kind::kNumber
  const char* default_value;  // applied when not given; nullptr: none
  const char* default_help;   // what --help says the default is
  const char* help;
  unsigned flags;
  // Stores the value in config; throws StartupError(2) naming the option
  // when the value is not acceptable.
  void (*apply)(const Value& value, const Source& source, Config& config);
};

const std::vector<Row>& Rows();
// The long command-line name ("memory-budget"), or the INI key for INI-only rows.
std::string LongName(const Row& row);
const Row* FindByLongName(const std::string& long_name);
const Row* FindByIni(const std::string& ini_name);

// path made absolute against base (unless it is), normalised.
std::string AbsolutePath(const std::string& path, const std::filesystem::path& base);

// The row's value in `given` (by long name), else its default, checked
// against its kind and bounds; throws StartupError(2) naming the option and
// config_file (when there is one) otherwise.
Value ValueOf(const Row& row, const std::map<std::string, std::string>& given,
              const std::string& config_file);
// Settings that exclude or need each other; throws StartupError(2).
void CheckCombinations(const Config& config);
// Applies every row that may change while serving (kModifiable) from
// `from`'s values onto `to`, then checks the combination; throws like
// ParseConfig. A setting `to` was given that `from` no longer gives keeps
// its value in force (settings fail closed); returns their names.
std::vector<std::string> TakeModifiable(const Config& from, Config& to);

// "gosl-basics.fcgi: <message>\nTry 'gosl-basics.fcgi --help'." as a StartupError(2).
StartupError OptionError(const std::string& message);

}  // namespace gosl::config_table
