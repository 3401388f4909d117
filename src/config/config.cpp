#include "gosl/config.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <boost/program_options.hpp>

#include "config/option_table.hpp"
#include "gosl/text.hpp"
#include "store/db_files.hpp"

namespace gosl {
namespace {

namespace po = boost::program_options;
namespace fs = std::filesystem;
using config_table::Kind;
using config_table::OptionError;
using config_table::Row;

po::value_semantic* Semantic(Kind kind) {
  auto* value = po::value<std::string>();
  if (kind == Kind::kFlag) value->zero_tokens()->implicit_value("true");
  return value;
}

po::options_description CommandLineOptions() {
  po::options_description desc;
  for (const Row& row : config_table::Rows()) {
    if (row.cli) desc.add_options()(row.cli, Semantic(row.kind), row.help);
  }
  return desc;
}

po::options_description IniOptions() {
  po::options_description desc;
  for (const Row& row : config_table::Rows()) {
    if (row.ini) desc.add_options()(row.ini, po::value<std::string>());
  }
  return desc;
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
    // Program_options quotes a malformed line whole: never one with a secret.
    const std::string what = AsciiLowered(e.what());
    for (const Row& row : config_table::Rows()) {
      if (!(row.flags & config_table::kSecret)) continue;
      const std::string key = AsciiLowered(std::string(row.ini).substr(std::string(row.ini).find('.') + 1));
      if (what.find(key) != std::string::npos) {
        throw OptionError(path + ": a malformed line with '" + key +
                          "' in it (not shown: it may hold the secret); write it as " + key +
                          " = VALUE");
      }
    }
    throw OptionError(path + ": " + e.what());
  }
  po::parsed_options renamed(&cli_desc);
  for (po::option option : ini.options) {
    const Row* row = config_table::FindByIni(option.string_key);
    if (!row || row->kind == Kind::kIgnored) continue;
    option.string_key = config_table::LongName(*row);
    for (auto& value : option.value) value = Unquoted(value);
    renamed.options.push_back(option);
  }
  try {
    po::store(renamed, vm);
  } catch (const po::error& e) {
    throw OptionError(path + ": " + e.what());
  }
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

std::string Config::DatabasePath() const { return config_table::AbsolutePath(database_name, dir); }
std::string Config::LogPath() const { return config_table::AbsolutePath(log_file, dir); }
std::string Config::RateTablePath() const { return db_files::RateTableFile(DatabasePath()); }
std::string Config::ActivityPath() const { return db_files::ActivityFile(DatabasePath()); }
std::string Config::ShellHistoryPath() const { return db_files::ShellHistoryFile(dir); }

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

  Config config;
  if (vm.count("help") || vm.count("version")) {
    config.help = vm.count("help") > 0;
    config.version = !config.help;
    return config;
  }
  for (const Row& row : config_table::Rows()) {
    if (row.kind != Kind::kIgnored && vm.count(config_table::LongName(row))) {
      config.on_command_line.insert(config_table::LongName(row));
    }
  }
  config_table::Source source;
  source.from_command_line = vm.count("dir") > 0;  // before the file adds its own
  source.config_file = ChooseConfigFile(vm, binary_dir);
  if (!source.config_file.empty()) StoreIniFile(source.config_file, cli_desc, vm);
  std::error_code ec;
  source.working_dir = fs::current_path(ec);
  source.binary_dir = binary_dir;

  for (const Row& row : config_table::Rows()) {
    if (row.kind == Kind::kIgnored) continue;
    const std::string name = config_table::LongName(row);
    if (vm.count(name)) config.given[name] = vm[name].as<std::string>();
  }
  for (const Row& row : config_table::Rows()) {
    if (row.kind == Kind::kIgnored) continue;
    row.apply(config_table::ValueOf(row, config.given, source.config_file), source, config);
  }
  config_table::CheckCombinations(config);
  return config;
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
  for (const Row& row : config_table::Rows()) {
    if (!row.cli) continue;
    std::string name = row.cli;
    size_t comma = name.find(',');
    std::string shown = comma == std::string::npos
                            ? "--" + name
                            : "-" + name.substr(comma + 1) + ", --" + name.substr(0, comma);
    if (row.kind == Kind::kText || row.kind == Kind::kNumber) shown += " ARG";
    out << "  " << shown;
    out << std::string(shown.size() < 26 ? 26 - shown.size() : 1, ' ') << row.help;
    if (row.default_help[0] != '\0') out << " (default: " << row.default_help << ")";
    if (row.ini) out << " [" << row.ini << "]";
    if (row.flags & config_table::kModifiable) out << " (taken while serving)";
    out << "\n";
  }
  out << "\nExamples:\n"
         "  gosl-basics.fcgi --import name2key.csv --dir /path/to/site\n"
         "  gosl-basics.fcgi --server --port 3000\n"
         "  curl 'http://127.0.0.1:3000/?name=Mini+Resident'\n";
  return out.str();
}

}  // namespace gosl
