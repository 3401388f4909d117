#include "gosl/config.hpp"

#include <arpa/inet.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <boost/program_options.hpp>

#include "gosl/parameters.hpp"
#include "gosl/text.hpp"

namespace gosl {
namespace {

namespace po = boost::program_options;
namespace fs = std::filesystem;

enum class Kind { kFlag, kText, kNumber, kIgnored };

// One row per option: command-line spelling, INI spelling (section.key, the
// Go program's where it had one), kind, bounds for numbers, default for the
// help text, and what it does.
struct OptionRow {
  const char* cli;  // "long" or "long,s"; nullptr: INI only
  const char* ini;  // nullptr: command line only
  Kind kind;
  long long min, max;
  const char* default_text;
  const char* help;
};

constexpr std::array<OptionRow, 29> kOptions{{
    {"help,h", nullptr, Kind::kFlag, 0, 0, "", "print this help and exit"},
    {"version", nullptr, Kind::kFlag, 0, 0, "", "print the version and exit"},
    {"config", nullptr, Kind::kText, 0, 0, "config.ini beside the binary",
     "INI file with these options ([config], [options], [log])"},
    {"dir", "config.myDir", Kind::kText, 0, 0, "the binary's directory",
     "directory holding the database and the log"},
    {"databaseName,n", "config.databaseName", Kind::kText, 0, 0, "slkvdb",
     "name of the LevelDB directory inside --dir"},
    {"memory-budget", "options.memoryBudget", Kind::kNumber, 4, 4096, "24",
     "MB the database may use for caches and write buffers"},
    {"import,i", "options.importFilename", Kind::kText, 0, 0, "",
     "import a W-Hat export (.csv, .csv.gz or .csv.bz2), then exit or go on to a mode"},
    {"import-grid", "options.importGrid", Kind::kText, 0, 0, "Production",
     "the grid an --import file is from (W-Hat's export is Production)"},
    {"export", "options.exportFilename", Kind::kText, 0, 0, "",
     "write the database as a W-Hat CSV (.gz/.bz2 by extension), then exit or go on"},
    {"create", nullptr, Kind::kFlag, 0, 0, "",
     "make an empty database when there is none (serving never makes one), then exit or go on"},
    {"repair", nullptr, Kind::kFlag, 0, 0, "",
     "rebuild a damaged database from what can be read (stop the service first), then exit"},
    {"batchblock,b", "config.BATCH_BLOCK", Kind::kNumber, 1, 1000000, "10000",
     "records per committed batch during --import"},
    {"loopbatch,l", "config.loopBatch", Kind::kNumber, 1, 1000000000, "100000",
     "log a progress line every N records during --import"},
    {"server", "config.isServer", Kind::kFlag, 0, 0, "off",
     "run a standalone HTTP server instead of FastCGI"},
    {"shell", "config.isShell", Kind::kFlag, 0, 0, "off",
     "interactive prompt: type a name or a UUID, get the other"},
    {"port,p", "config.myPort", Kind::kNumber, 1, 65535, "3000", "--server port"},
    {"bind", "config.bind", Kind::kText, 0, 0, "127.0.0.1",
     "--server address (numeric; 0.0.0.0 to be reached from Second Life)"},
    {"writes", "options.writes", Kind::kText, 0, 0, "sl-only",
     "who may register names: open, sl-only (Second Life scripts), token or off"},
    {"token", "options.token", Kind::kText, 0, 0, "",
     "writes = token: the secret registrations send as token= (set it in config.ini)"},
    {"owners", "options.owners", Kind::kText, 0, 0, "any",
     "writes = sl-only: owner keys allowed to register, separated by commas"},
    {"registrations-per-minute", "options.registrationsPerMinute", Kind::kNumber, 0, 100000,
     "120", "registration requests per minute per address and per owner (0: no limit)"},
    {"debug,d", "log.logLevel", Kind::kText, 0, 0, "INFO",
     "log level: DEBUG, INFO, NOTICE, WARNING, ERROR or CRITICAL"},
    {"log-file", "log.Filename", Kind::kText, 0, 0, "gosl.log", "log file, relative to --dir"},
    {"log-max-size", "log.MaxSize", Kind::kNumber, 1, 1024, "10",
     "MB a log file reaches before it is rotated"},
    {"log-max-backups", "log.MaxBackups", Kind::kNumber, 0, 100, "3",
     "rotated log files kept"},
    // Settings of the Go program that mean nothing here: accepted in an INI
    // file so an old config.ini still works, and ignored.
    {nullptr, "config.database", Kind::kIgnored, 0, 0, "", ""},
    {nullptr, "options.noMemory", Kind::kIgnored, 0, 0, "", ""},
    {nullptr, "log.MaxAge", Kind::kIgnored, 0, 0, "", ""},
    {nullptr, "BuntDB.dbNamePath", Kind::kIgnored, 0, 0, "", ""},
}};

std::string LongName(const OptionRow& row) {
  std::string cli = row.cli ? row.cli : row.ini;
  return cli.substr(0, cli.find(','));
}

const OptionRow* FindRow(const std::string& long_name) {
  for (const auto& row : kOptions) {
    if (LongName(row) == long_name) return &row;
  }
  return nullptr;
}

po::value_semantic* Semantic(Kind kind) {
  auto* value = po::value<std::string>();
  if (kind == Kind::kFlag) value->zero_tokens()->implicit_value("true");
  return value;
}

po::options_description CommandLineOptions() {
  po::options_description desc;
  for (const auto& row : kOptions) {
    if (row.cli) desc.add_options()(row.cli, Semantic(row.kind), row.help);
  }
  return desc;
}

po::options_description IniOptions() {
  po::options_description desc;
  for (const auto& row : kOptions) {
    if (row.ini) desc.add_options()(row.ini, po::value<std::string>());
  }
  return desc;
}

StartupError OptionError(const std::string& message) {
  return StartupError(2, "gosl-basics.fcgi: " + message + "\nTry 'gosl-basics.fcgi --help'.");
}

// Go's config.ini quotes its strings; Program_options keeps quotes.
std::string Unquoted(std::string value) {
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
    return value.substr(1, value.size() - 2);
  }
  return value;
}

std::string ChooseConfigFile(const po::variables_map& cli, const std::string& binary_dir) {
  if (cli.count("config")) {
    std::string path = cli["config"].as<std::string>();
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) {
      throw OptionError("--config: '" + path + "' is not a readable file");
    }
    return path;
  }
  for (const fs::path& candidate : {fs::path(binary_dir) / "config.ini", fs::path("config.ini")}) {
    std::error_code ec;
    if (fs::is_regular_file(candidate, ec)) return candidate.string();
  }
  return "";
}

// Reads the INI file into vm under the command-line names, so one table of
// checks serves both; the command line, stored first, wins.
void StoreIniFile(const std::string& path, const po::options_description& cli_desc,
                  po::variables_map& vm) {
  std::ifstream in(path);
  if (!in) throw OptionError("--config: cannot read '" + path + "'");
  po::parsed_options ini(nullptr);
  try {
    ini = po::parse_config_file(in, IniOptions(), /*allow_unregistered=*/false);
  } catch (const po::error& e) {
    // Program_options quotes a malformed line whole: never one with the secret.
    const std::string what = e.what();
    if (AsciiLowered(what).find("token") != std::string::npos) {
      throw OptionError(path + ": a malformed line with 'token' in it (not shown: it may hold "
                               "the secret); write it as token = VALUE");
    }
    throw OptionError(path + ": " + what);
  }
  po::parsed_options renamed(&cli_desc);
  for (po::option option : ini.options) {
    const OptionRow* row = nullptr;
    for (const auto& candidate : kOptions) {
      if (candidate.ini && option.string_key == candidate.ini) row = &candidate;
    }
    if (!row || row->kind == Kind::kIgnored) continue;
    option.string_key = LongName(*row);
    for (auto& value : option.value) value = Unquoted(value);
    renamed.options.push_back(option);
  }
  try {
    po::store(renamed, vm);
  } catch (const po::error& e) {
    throw OptionError(path + ": " + e.what());
  }
}

class Values {
 public:
  Values(const po::variables_map& vm, const std::string& ini_file)
      : vm_(vm), ini_file_(ini_file) {}

  bool Has(const char* name) const { return vm_.count(name) > 0; }
  std::string Text(const char* name) const { return vm_[name].as<std::string>(); }

  bool Flag(const char* name) const {
    if (!Has(name)) return false;
    const std::string v = AsciiLowered(Text(name));
    if (v == "true" || v == "1" || v == "yes" || v == "on") return true;
    if (v == "false" || v == "0" || v == "no" || v == "off") return false;
    throw OptionError("--" + std::string(name) + " must be true or false, not '" + Text(name) +
                      "'" + Where());
  }

  long long Number(const char* name, long long fallback) const {
    if (!Has(name)) return fallback;
    const OptionRow* row = FindRow(name);
    std::string text = Text(name);
    long long value = 0;
    size_t used = 0;
    bool parsed = !text.empty() && std::isdigit(static_cast<unsigned char>(text[0]));
    if (parsed) {
      try {
        value = std::stoll(text, &used);
      } catch (const std::exception&) {
        parsed = false;
      }
    }
    if (!parsed || used != text.size() || value < row->min || value > row->max) {
      throw OptionError("--" + std::string(name) + " must be a whole number from " +
                        std::to_string(row->min) + " to " + std::to_string(row->max) +
                        ", not '" + text + "'" + Where());
    }
    return value;
  }

 private:
  std::string Where() const { return ini_file_.empty() ? "" : " (command line or " + ini_file_ + ")"; }

  const po::variables_map& vm_;
  const std::string& ini_file_;
};

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

AccessPolicy ParseAccess(const Values& values) {
  AccessPolicy access;
  if (values.Has("writes")) {
    auto mode = ParseWriteMode(values.Text("writes"));
    if (!mode.ok()) throw OptionError("--" + mode.status().message());
    access.writes = mode.value();
  }
  if (values.Has("token")) {
    // Never quoted back: the message names the rule, not the value.
    access.token = values.Text("token");
    if (access.token.size() < 8 || access.token.size() > 256) {
      throw OptionError("--token must be 8 to 256 characters long");
    }
    for (char c : access.token) {
      if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7F) {
        throw OptionError("--token must not contain spaces or control characters");
      }
    }
  }
  if (access.writes == WriteMode::kToken && access.token.empty()) {
    throw OptionError("--writes token needs a token (token = ... in config.ini)");
  }
  if (values.Has("owners")) access.owners = ParseOwners(values.Text("owners"));
  access.registrations_per_minute = static_cast<unsigned>(
      values.Number("registrations-per-minute", access.registrations_per_minute));
  return access;
}

std::string Absolute(const std::string& path, const fs::path& base) {
  fs::path p(path);
  return (p.is_absolute() ? p : base / p).lexically_normal().string();
}

}  // namespace

// Where config.ini, the database and the log live by default. Without /proc
// (a chroot, some hardened hosts) argv[0] still names the script's path.
std::string BinaryDirectory(const char* argv0) {
  std::error_code ec;
  auto self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) return self.parent_path().string();
  if (argv0 && std::string_view(argv0).find('/') != std::string_view::npos) {
    auto path = fs::absolute(argv0, ec);
    if (!ec) return path.lexically_normal().parent_path().string();
  }
  return fs::current_path(ec).string();
}

std::string Config::DatabasePath() const { return Absolute(database_name, dir); }
std::string Config::LogPath() const { return Absolute(log_file, dir); }

Config ParseConfig(int argc, const char* const argv[], const std::string& binary_dir) {
  const po::options_description cli_desc = CommandLineOptions();
  po::variables_map vm;
  try {
    po::parsed_options parsed = po::command_line_parser(argc, argv).options(cli_desc).run();
    // Program_options drops words that are no option silently; refuse them.
    auto stray = po::collect_unrecognized(parsed.options, po::include_positional);
    if (!stray.empty()) throw OptionError("unexpected argument '" + stray.front() + "'");
    po::store(parsed, vm);
  } catch (const po::error& e) {
    throw OptionError(e.what());
  }
  const bool dir_from_cli = vm.count("dir") > 0;

  Config config;
  if (vm.count("help") || vm.count("version")) {
    config.help = vm.count("help") > 0;
    config.version = !config.help;
    return config;
  }
  config.config_file = ChooseConfigFile(vm, binary_dir);
  if (!config.config_file.empty()) StoreIniFile(config.config_file, cli_desc, vm);

  const Values values(vm, config.config_file);
  std::error_code ec;
  const fs::path cwd = fs::current_path(ec);
  // A relative --dir is read from where it was written: the working
  // directory for the command line, the INI file's directory for the file.
  if (values.Has("dir")) {
    fs::path base = dir_from_cli ? cwd : fs::absolute(config.config_file, ec).parent_path();
    config.dir = Absolute(values.Text("dir"), base);
  } else {
    config.dir = binary_dir;
  }
  if (values.Has("databaseName")) config.database_name = values.Text("databaseName");
  if (config.database_name.empty()) throw OptionError("--databaseName must not be empty");
  config.memory_budget_mb = values.Number("memory-budget", config.memory_budget_mb);

  if (values.Has("import")) {
    config.import_file = values.Text("import");
    if (config.import_file.empty()) throw OptionError("--import needs a file name");
  }
  if (values.Has("import-grid")) {
    config.import_grid = values.Text("import-grid");
    if (config.import_grid.empty()) throw OptionError("--import-grid needs a grid name");
    if (Status s = CheckGridName(config.import_grid, "--import-grid"); !s.ok()) {
      throw OptionError(s.message());
    }
  }
  if (values.Has("export")) {
    config.export_file = values.Text("export");
    if (config.export_file.empty()) throw OptionError("--export needs a file name");
  }
  config.batch_records = values.Number("batchblock", config.batch_records);
  config.progress_records = values.Number("loopbatch", config.progress_records);

  config.create = values.Flag("create");
  config.repair = values.Flag("repair");
  if (config.repair && (config.create || !config.import_file.empty())) {
    throw OptionError("--repair runs alone (not with --create or --import)");
  }
  config.server = values.Flag("server");
  config.shell = values.Flag("shell");
  if (config.server && config.shell) throw OptionError("--server and --shell exclude each other");
  config.port = static_cast<int>(values.Number("port", config.port));
  if (values.Has("bind")) config.bind = values.Text("bind");
  unsigned char address[16];
  if (inet_pton(AF_INET, config.bind.c_str(), address) != 1 &&
      inet_pton(AF_INET6, config.bind.c_str(), address) != 1) {
    throw OptionError("--bind must be a numeric IPv4 or IPv6 address, not '" + config.bind + "'");
  }

  config.access = ParseAccess(values);

  if (values.Has("debug")) {
    auto level = log::ParseLevel(values.Text("debug"));
    if (!level.ok()) throw OptionError("--debug: " + level.status().message());
    config.log_level = level.value();
  }
  if (values.Has("log-file")) config.log_file = values.Text("log-file");
  config.log_max_size_mb = values.Number("log-max-size", config.log_max_size_mb);
  config.log_max_backups = values.Number("log-max-backups", config.log_max_backups);
  return config;
}

LiveConfig::LiveConfig(int argc, const char* const argv[], std::string binary_dir, Config initial,
                       std::chrono::milliseconds settle)
    : args_(argv, argv + argc),
      binary_dir_(std::move(binary_dir)),
      settle_ns_(std::chrono::duration_cast<std::chrono::nanoseconds>(settle).count()) {
  watched_ = initial.config_file;
  const bool config_named = std::find_if(args_.begin(), args_.end(), [](const std::string& a) {
                              return a.rfind("--config", 0) == 0;
                            }) != args_.end();
  if (watched_.empty() && !config_named) watched_ = (fs::path(binary_dir_) / "config.ini").string();
  stamp_ = Stamp(watched_);
  current_ = std::make_shared<const Config>(std::move(initial));
  next_check_ = std::chrono::steady_clock::now() + std::chrono::seconds(1);
}

LiveConfig::FileStamp LiveConfig::Stamp(const std::string& path) {
  FileStamp stamp;
  struct stat st {};
  if (path.empty() || stat(path.c_str(), &st) != 0) return stamp;
  stamp.mtime_ns = static_cast<long long>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec;
  stamp.size = st.st_size;
  stamp.inode = static_cast<long long>(st.st_ino);
  return stamp;
}

std::shared_ptr<const Config> LiveConfig::Current() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto now = std::chrono::steady_clock::now();
    if (now < next_check_) return current_;
    next_check_ = now + std::chrono::seconds(1);
  }
  CheckNow();
  std::lock_guard<std::mutex> lock(mutex_);
  return current_;
}

void LiveConfig::CheckNow() {
  const FileStamp stamp = Stamp(watched_);
  std::shared_ptr<const Config> before;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stamp == stamp_) return;
    // A file being uploaded is read once it has not changed for a while
    // (an FTP upload empties it first); until then, the next look tries.
    const auto age_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count() -
                        stamp.mtime_ns;
    if (stamp.size >= 0 && age_ns < settle_ns_) return;
    const bool vanished = stamp.size < 0 && stamp_.size >= 0;
    stamp_ = stamp;
    before = current_;
    if (vanished) {
      // Deleted, or replaced by a rename not done yet: not "all defaults".
      log::Warning("config '" + watched_ + "' is gone: the settings in force stay");
      return;
    }
  }
  std::vector<const char*> argv;
  for (const std::string& arg : args_) argv.push_back(arg.c_str());
  Config parsed;
  try {
    parsed = ParseConfig(static_cast<int>(argv.size()), argv.data(), binary_dir_);
  } catch (const StartupError& e) {
    std::string why = e.what();
    why = why.substr(0, why.find('\n'));
    log::Error("config '" + watched_ + "' changed but is not used, the settings in force stay: " +
               Sanitized(why, 300));
    return;
  }
  // Only what can change under a running server is taken.
  auto next = std::make_shared<Config>(*before);
  next->access = parsed.access;
  next->log_level = parsed.log_level;
  const bool restart_needed =
      parsed.dir != before->dir || parsed.database_name != before->database_name ||
      parsed.memory_budget_mb != before->memory_budget_mb || parsed.port != before->port ||
      parsed.bind != before->bind || parsed.log_file != before->log_file ||
      parsed.log_max_size_mb != before->log_max_size_mb ||
      parsed.log_max_backups != before->log_max_backups;
  log::Notice("config '" + watched_ + "' reloaded: writes = " +
              std::string(WriteModeName(next->access.writes)) + ", " +
              std::to_string(next->access.owners.size()) + " owners listed, " +
              std::to_string(next->access.registrations_per_minute) +
              " registrations per minute" +
              (restart_needed ? "; paths, port, memory and log file settings take effect at "
                                "the next start"
                              : ""));
  log::SetLevel(next->log_level);  // after the line above, which a higher level would hide
  std::lock_guard<std::mutex> lock(mutex_);
  current_ = std::move(next);
}

std::string HelpText() {
  std::ostringstream out;
  out << "Usage: gosl-basics.fcgi [OPTIONS]\n"
         "name2key / key2name service for Second Life and OpenSimulator.\n\n"
         "Modes:\n"
         "  (none)              FastCGI, when Apache mod_fcgid starts it (socket on fd 0),\n"
         "                      or one CGI request when GATEWAY_INTERFACE is set\n"
         "  --server            standalone HTTP server on --bind:--port\n"
         "  --shell             interactive prompt (one answer per line when piped)\n"
         "  --import FILE       load a W-Hat export, then exit (or go on to --server/--shell)\n"
         "  --export FILE       write the database as a W-Hat export, then exit (or go on)\n\n"
         "Options (also in config.ini as [section] key = value):\n";
  for (const auto& row : kOptions) {
    if (!row.cli) continue;
    std::string name = row.cli;
    size_t comma = name.find(',');
    std::string shown = comma == std::string::npos
                            ? "--" + name
                            : "-" + name.substr(comma + 1) + ", --" + name.substr(0, comma);
    if (row.kind == Kind::kText || row.kind == Kind::kNumber) shown += " ARG";
    out << "  " << shown;
    out << std::string(shown.size() < 26 ? 26 - shown.size() : 1, ' ') << row.help;
    if (row.default_text[0] != '\0') out << " (default: " << row.default_text << ")";
    if (row.ini) out << " [" << row.ini << "]";
    out << "\n";
  }
  out << "\nExamples:\n"
         "  gosl-basics.fcgi --import name2key.csv --dir /path/to/site\n"
         "  gosl-basics.fcgi --server --port 3000\n"
         "  curl 'http://127.0.0.1:3000/?name=Mini+Resident'\n";
  return out.str();
}

}  // namespace gosl
