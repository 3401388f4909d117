// LiveConfig (gosl/config.hpp): the settings in force while a server runs.
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>

#include "config/option_table.hpp"
#include "gosl/config.hpp"
#include "gosl/text.hpp"
#include "util/private_files.hpp"

namespace gosl {
namespace {

namespace fs = std::filesystem;

// The settings read at start that differ between two parses: they take
// effect at the next start.
// The settings given differently in after than in before: those read only at
// start (modifiable false), or those taken while serving, with their new
// value (a secret's never shown).
std::vector<std::string> ChangedSettings(const Config& before, const Config& after, bool modifiable) {
  std::vector<std::string> changed;
  for (const config_table::Row& row : config_table::Rows()) {
    if (row.kind == config_table::Kind::kIgnored || (row.flags & config_table::kCommand) != 0) continue;
    if (((row.flags & config_table::kModifiable) != 0) != modifiable) continue;
    const std::string name = config_table::LongName(row);
    auto was = before.given.find(name), now = after.given.find(name);
    const bool same = (was == before.given.end()) == (now == after.given.end()) &&
                      (was == before.given.end() || was->second == now->second);
    if (same) continue;
    if (!modifiable) {
      changed.push_back("--" + name);
      continue;
    }
    // A reload reads config.ini: name the setting as it is written there.
    const std::string ini = row.ini != nullptr ? std::string(row.ini) : "";
    const std::string label = ini.empty() ? "--" + name : ini.substr(ini.find('.') + 1);
    if (now == after.given.end()) {
      changed.push_back(label + " no longer set");
    } else {
      changed.push_back(label + " = " +
                        ((row.flags & config_table::kSecret) != 0 ? "(secret)" : Sanitized(now->second, 60)));
    }
  }
  return changed;
}

std::string Joined(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

}  // namespace

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
  WarnIfReadableByOthers();
  next_check_ = std::chrono::steady_clock::now() + std::chrono::seconds(1);
}

void LiveConfig::WarnIfReadableByOthers() const {
  if (watched_.empty() || !private_files::OthersMayRead(watched_)) return;
  log::Warning("config '" + watched_ + "' can be read by other users of this machine; it may " +
               "hold the write token: chmod 600 it");
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
  std::vector<std::string> restart_needed, taken;
  // Only what can change under a running server is taken.
  auto next = std::make_shared<Config>(*before);
  std::vector<std::string> kept;
  try {
    const Config parsed = ParseConfig(static_cast<int>(argv.size()), argv.data(), binary_dir_);
    kept = config_table::TakeModifiable(parsed, *next);
    restart_needed = ChangedSettings(*before, parsed, /*modifiable=*/false);
    taken = ChangedSettings(*before, parsed, /*modifiable=*/true);
  } catch (const StartupError& e) {
    std::string why = e.what();
    why = why.substr(0, why.find('\n'));
    log::Error("config '" + watched_ + "' changed but is not used, the settings in force stay: " +
               Sanitized(why, 300));
    return;
  }
  if (!kept.empty()) {
    std::string names;
    for (const std::string& name : kept) names += (names.empty() ? "--" : ", --") + name;
    log::Warning("config '" + watched_ + "' no longer sets " + names +
                 ": the values in force stay (a setting removed is not a setting weakened; " +
                 "write the new value to change it)");
  }
  // A setting removed whose value stays (kept) is not taken: the warning above says so.
  for (const std::string& name : kept) {
    const config_table::Row* row = config_table::FindByLongName(name);
    const std::string ini = row != nullptr && row->ini != nullptr ? std::string(row->ini) : "";
    const std::string removed = (ini.empty() ? "--" + name : ini.substr(ini.find('.') + 1)) + " no longer set";
    taken.erase(std::remove(taken.begin(), taken.end(), removed), taken.end());
  }
  // Written under whichever level shows more: ERROR lowered to INFO is news too.
  log::SetLevel(std::min(before->log_level, next->log_level));
  log::Notice("config '" + watched_ + "' reloaded: writes = " +
              std::string(WriteModeName(next->access.writes)) + ", " +
              std::to_string(next->access.owners.size()) + " owners listed, " +
              std::to_string(next->access.registrations_per_minute) + " registrations per minute" +
              (taken.empty() ? "" : "; changed now: " + Joined(taken)) +
              (restart_needed.empty() ? ""
                                      : "; changed, taking effect at the next start: " + Joined(restart_needed)));
  log::SetLevel(next->log_level);  // after the line above, which a higher level would hide
  WarnIfReadableByOthers();
  std::lock_guard<std::mutex> lock(mutex_);
  current_ = std::move(next);
}

}  // namespace gosl
