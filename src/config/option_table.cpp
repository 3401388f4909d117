#include "config/option_table.hpp"

#include <arpa/inet.h>

#include <cctype>

#include "gosl/parameters.hpp"
#include "gosl/logging.hpp"
#include "gosl/text.hpp"

namespace gosl::config_table {
namespace {

namespace fs = std::filesystem;

std::vector<Uuid> ParseOwners(const std::string& text) {
  std::vector<Uuid> owners;
  std::string word;
  for (size_t i = 0; i <= text.size(); ++i) {
    const char c = i < text.size() ? text[i] : ',';
    if (c != ',' && c != ' ' && c != '\t') {
      word += c;
      continue;
    }
    if (word.empty()) continue;
    auto key = Uuid::Parse(word);
    if (!key.ok()) throw OptionError("--owners: '" + Sanitized(word, 40) + "' is not an avatar key");
    owners.push_back(key.value());
    word.clear();
  }
  return owners;
}

void RequireText(const Value& value, const char* message) {
  if (value.given && value.text.empty()) throw OptionError(message);
}

// Rows in --help order. Settings of the Go program that mean nothing here
// are accepted in an INI file so an old config.ini still works, and ignored.
const std::vector<Row> kRows = {
    {"help,h", nullptr, Kind::kFlag, 0, 0, nullptr, "", "print this help and exit", kCommand,
     [](const Value& v, const Source&, Config& c) { c.help = v.flag; }},
    {"version", nullptr, Kind::kFlag, 0, 0, nullptr, "", "print the version and exit", kCommand,
     [](const Value& v, const Source&, Config& c) { c.version = v.flag; }},
    {"config", nullptr, Kind::kText, 0, 0, nullptr, "config.ini beside the binary",
     "INI file with these options ([config], [options], [log])", kStartup,
     [](const Value&, const Source& s, Config& c) { c.config_file = s.config_file; }},
    {"dir", "config.myDir", Kind::kText, 0, 0, nullptr, "the binary's directory",
     "directory holding the database and the log", kStartup,
     [](const Value& v, const Source& s, Config& c) {
       if (!v.given) {
         c.dir = s.binary_dir;
         return;
       }
       // A relative --dir is read from where it was written: the working
       // directory for the command line, the INI file's directory for the file.
       std::error_code ec;
       const fs::path base = s.from_command_line
                                 ? s.working_dir
                                 : fs::absolute(s.config_file, ec).parent_path();
       c.dir = AbsolutePath(v.text, base);
     }},
    {"databaseName,n", "config.databaseName", Kind::kText, 0, 0, "slkvdb", "slkvdb",
     "name of the LevelDB directory inside --dir", kStartup,
     [](const Value& v, const Source&, Config& c) {
       if (v.text.empty()) throw OptionError("--databaseName must not be empty");
       c.database_name = v.text;
     }},
    {"memory-budget", "options.memoryBudget", Kind::kNumber, 4, 4096, "24", "24",
     "MB the database may use for caches and write buffers", kStartup,
     [](const Value& v, const Source&, Config& c) {
       c.memory_budget_mb = static_cast<size_t>(v.number);
     }},
    {"import,i", "options.importFilename", Kind::kText, 0, 0, nullptr, "",
     "import a W-Hat export (.csv, .csv.gz or .csv.bz2), then exit or go on to a mode", kCommand,
     [](const Value& v, const Source&, Config& c) {
       RequireText(v, "--import needs a file name");
       c.import_file = v.text;
     }},
    {"import-grid", "options.importGrid", Kind::kText, 0, 0, "Production", "Production",
     "the grid an --import file is from (W-Hat's export is Production)", kCommand,
     [](const Value& v, const Source&, Config& c) {
       RequireText(v, "--import-grid needs a grid name");
       if (Status s = CheckGridName(v.text, "--import-grid"); !s.ok()) throw OptionError(s.message());
       c.import_grid = v.text;
     }},
    {"import-memory", "options.importMemory", Kind::kNumber, 2, 1024, "8", "8",
     "MB an --import sorts in before it spills a run to disk (the rest of an import is smaller)",
     kCommand,
     [](const Value& v, const Source&, Config& c) {
       c.import_memory_mb = static_cast<size_t>(v.number);
     }},
    {"replace", nullptr, Kind::kText, 0, 0, nullptr, "",
     "serve the database directory ARG in place of the one at --dir while the service goes on "
     "serving (what the old one knew is carried in; it is kept as <db>.replaced-<time>), then exit",
     kCommand,
     [](const Value& v, const Source&, Config& c) {
       RequireText(v, "--replace needs a database directory");
       c.replace_dir = v.text;
     }},
    {"export", "options.exportFilename", Kind::kText, 0, 0, nullptr, "",
     "write the database as a W-Hat CSV (.gz/.bz2 by extension), then exit or go on", kCommand,
     [](const Value& v, const Source&, Config& c) {
       RequireText(v, "--export needs a file name");
       c.export_file = v.text;
     }},
    {"create", nullptr, Kind::kFlag, 0, 0, nullptr, "",
     "make an empty database when there is none (serving never makes one), then exit or go on",
     kCommand, [](const Value& v, const Source&, Config& c) { c.create = v.flag; }},
    {"repair", nullptr, Kind::kFlag, 0, 0, nullptr, "",
     "rebuild a damaged database from what can be read (stop the service first), then exit",
     kCommand, [](const Value& v, const Source&, Config& c) { c.repair = v.flag; }},
    {"status", nullptr, Kind::kFlag, 0, 0, nullptr, "",
     "say what the service is doing (names per grid, registrations, the last import, the "
     "processes serving and their answers), then exit; works while it serves",
     kCommand, [](const Value& v, const Source&, Config& c) { c.status = v.flag; }},
    {"format", nullptr, Kind::kText, 0, 0, "text", "text", "--status's output: text or json", kCommand,
     [](const Value& v, const Source&, Config& c) {
       if (v.text != "text" && v.text != "json") {
         throw OptionError("--format must be text or json, not '" + Sanitized(v.text, 40) + "'");
       }
       c.status_format = v.text == "json" ? Format::kJson : Format::kText;
     }},
    {"batchblock,b", "config.BATCH_BLOCK", Kind::kNumber, 1, 1000000, "10000", "10000",
     "accepted and ignored: the Go program's setting (an import writes table files, not batches)",
     kCommand, [](const Value&, const Source&, Config&) {}},
    {"loopbatch,l", "config.loopBatch", Kind::kNumber, 1, 1000000000, "100000", "100000",
     "log a progress line every N records during --import", kCommand,
     [](const Value& v, const Source&, Config& c) {
       c.progress_records = static_cast<size_t>(v.number);
     }},
    {"server", "config.isServer", Kind::kFlag, 0, 0, nullptr, "off",
     "run a standalone HTTP server instead of FastCGI", kCommand,
     [](const Value& v, const Source&, Config& c) { c.server = v.flag; }},
    {"shell", "config.isShell", Kind::kFlag, 0, 0, nullptr, "off",
     "interactive prompt: type a name or a UUID, get the other", kCommand,
     [](const Value& v, const Source&, Config& c) { c.shell = v.flag; }},
    {"port,p", "config.myPort", Kind::kNumber, 1, 65535, "3000", "3000", "--server port", kStartup,
     [](const Value& v, const Source&, Config& c) { c.port = static_cast<int>(v.number); }},
    {"bind", "config.bind", Kind::kText, 0, 0, "127.0.0.1", "127.0.0.1",
     "--server address (numeric; 0.0.0.0 to be reached from Second Life)", kStartup,
     [](const Value& v, const Source&, Config& c) {
       unsigned char address[16];
       if (inet_pton(AF_INET, v.text.c_str(), address) != 1 &&
           inet_pton(AF_INET6, v.text.c_str(), address) != 1) {
         throw OptionError("--bind must be a numeric IPv4 or IPv6 address, not '" + v.text + "'");
       }
       c.bind = v.text;
     }},
    {"public-status", "options.status", Kind::kText, 0, 0, "public", "public",
     "status=1 and the browser page's counts: public (anyone may ask) or off", kModifiable,
     [](const Value& v, const Source&, Config& c) {
       if (v.text != "public" && v.text != "off") {
         throw OptionError("--public-status (status in config.ini) must be public or off, not '" +
                           Sanitized(v.text, 40) + "'");
       }
       c.access.public_status = v.text == "public";
     }},
    {"writes", "options.writes", Kind::kText, 0, 0, "sl-only", "sl-only",
     "who may register names: open, sl-only (Second Life scripts), token or off", kModifiable,
     [](const Value& v, const Source&, Config& c) {
       auto mode = ParseWriteMode(v.text);
       if (!mode.ok()) throw OptionError("--" + mode.status().message());
       c.access.writes = mode.value();
     }},
    {"token", "options.token", Kind::kText, 0, 0, nullptr, "",
     "writes = token: the secret registrations send as token= (set it in config.ini)",
     kModifiable | kSecret,
     [](const Value& v, const Source&, Config& c) {
       // Never quoted back: the messages name the rule, not the value.
       c.access.token = v.text;
       if (!v.given) return;
       if (v.text.size() < 8 || v.text.size() > 256) {
         throw OptionError("--token must be 8 to 256 characters long");
       }
       for (char ch : v.text) {
         if (static_cast<unsigned char>(ch) <= 0x20 || ch == 0x7F) {
           throw OptionError("--token must not contain spaces or control characters");
         }
       }
     }},
    {"owners", "options.owners", Kind::kText, 0, 0, nullptr, "any",
     "writes = sl-only: owner keys allowed to register, separated by commas", kModifiable,
     [](const Value& v, const Source&, Config& c) { c.access.owners = ParseOwners(v.text); }},
    {"registrations-per-minute", "options.registrationsPerMinute", Kind::kNumber, 0, 100000, "120",
     "120", "registration requests per minute per address and per owner (0: no limit)",
     kModifiable,
     [](const Value& v, const Source&, Config& c) {
       c.access.registrations_per_minute = static_cast<unsigned>(v.number);
     }},
    {"debug,d", "log.logLevel", Kind::kText, 0, 0, "INFO", "INFO",
     "log level: DEBUG, INFO, NOTICE, WARNING, ERROR or CRITICAL", kModifiable,
     [](const Value& v, const Source&, Config& c) {
       auto level = log::ParseLevel(v.text);
       if (!level.ok()) throw OptionError("--debug: " + level.status().message());
       c.log_level = level.value();
     }},
    {"log-file", "log.Filename", Kind::kText, 0, 0, "gosl.log", "gosl.log",
     "log file, relative to --dir", kStartup,
     [](const Value& v, const Source&, Config& c) { c.log_file = v.text; }},
    {"log-max-size", "log.MaxSize", Kind::kNumber, 1, 1024, "10", "10",
     "MB a log file reaches before it is rotated", kStartup,
     [](const Value& v, const Source&, Config& c) { c.log_max_size_mb = static_cast<size_t>(v.number); }},
    {"log-max-backups", "log.MaxBackups", Kind::kNumber, 0, 100, "3", "3", "rotated log files kept",
     kStartup,
     [](const Value& v, const Source&, Config& c) {
       c.log_max_backups = static_cast<size_t>(v.number);
     }},
    {nullptr, "config.database", Kind::kIgnored, 0, 0, nullptr, "", "", kStartup, nullptr},
    {nullptr, "options.noMemory", Kind::kIgnored, 0, 0, nullptr, "", "", kStartup, nullptr},
    {nullptr, "log.MaxAge", Kind::kIgnored, 0, 0, nullptr, "", "", kStartup, nullptr},
    {nullptr, "BuntDB.dbNamePath", Kind::kIgnored, 0, 0, nullptr, "", "", kStartup, nullptr},
};

}  // namespace

const std::vector<Row>& Rows() { return kRows; }

std::string LongName(const Row& row) {
  const std::string cli = row.cli ? row.cli : row.ini;
  return cli.substr(0, cli.find(','));
}

const Row* FindByLongName(const std::string& long_name) {
  for (const Row& row : kRows) {
    if (LongName(row) == long_name) return &row;
  }
  return nullptr;
}

const Row* FindByIni(const std::string& ini_name) {
  for (const Row& row : kRows) {
    if (row.ini && ini_name == row.ini) return &row;
  }
  return nullptr;
}

std::string AbsolutePath(const std::string& path, const std::filesystem::path& base) {
  fs::path p(path);
  return (p.is_absolute() ? p : base / p).lexically_normal().string();
}

// The row's value: as given, else its default, checked against its kind.
Value ValueOf(const Row& row, const std::map<std::string, std::string>& given,
                            const std::string& config_file) {
  const std::string name = LongName(row);
  Value value;
  auto it = given.find(name);
  value.given = it != given.end();
  value.text = value.given ? it->second : (row.default_value ? row.default_value : "");
  const std::string where = config_file.empty() ? "" : " (command line or " + config_file + ")";
  if (row.kind == Kind::kFlag && value.given) {
    const std::string v = AsciiLowered(value.text);
    if (v == "true" || v == "1" || v == "yes" || v == "on") {
      value.flag = true;
    } else if (v != "false" && v != "0" && v != "no" && v != "off") {
      throw OptionError("--" + name + " must be true or false, not '" + value.text + "'" + where);
    }
  }
  if (row.kind == Kind::kNumber && (value.given || row.default_value)) {
    size_t used = 0;
    bool parsed = !value.text.empty() && std::isdigit(static_cast<unsigned char>(value.text[0]));
    if (parsed) {
      try {
        value.number = std::stoll(value.text, &used);
      } catch (const std::exception&) {
        parsed = false;
      }
    }
    if (!parsed || used != value.text.size() || value.number < row.min || value.number > row.max) {
      throw OptionError("--" + name + " must be a whole number from " + std::to_string(row.min) +
                        " to " + std::to_string(row.max) + ", not '" + value.text + "'" + where);
    }
  }
  return value;
}

// Settings that exclude or need each other.
void CheckCombinations(const Config& config) {
  if (config.repair && (config.create || !config.import_file.empty() || !config.replace_dir.empty())) {
    throw OptionError("--repair runs alone (not with --create, --import or --replace)");
  }
  if (!config.replace_dir.empty() && !config.import_file.empty()) {
    throw OptionError("--replace and --import each swap a database in: give one of them");
  }
  if (config.server && config.shell) throw OptionError("--server and --shell exclude each other");
  if (config.access.writes == WriteMode::kToken && config.access.token.empty()) {
    throw OptionError("--writes token needs a token (token = ... in config.ini)");
  }
}

std::vector<std::string> TakeModifiable(const Config& from, Config& to) {
  Source source;
  source.config_file = from.config_file;
  std::vector<std::string> kept;
  for (const Row& row : kRows) {
    if (!(row.flags & kModifiable)) continue;
    const std::string name = LongName(row);
    auto it = from.given.find(name);
    if (it == from.given.end() && to.given.count(name)) {
      // Fail closed: a file emptied or half written must not turn
      // writes = token back into the default.
      kept.push_back(name);
      continue;
    }
    row.apply(ValueOf(row, from.given, from.config_file), source, to);
    if (it != from.given.end()) to.given[name] = it->second;
  }
  CheckCombinations(to);
  return kept;
}

StartupError OptionError(const std::string& message) {
  return StartupError(2, "gosl-basics.fcgi: " + message + "\nTry 'gosl-basics.fcgi --help'.");
}

}  // namespace gosl::config_table
