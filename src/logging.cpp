#include "gosl/logging.hpp"

// spdlog has six severities, the Go program's log six others: shift ours one
// down (DEBUG on spdlog's trace ... CRITICAL on critical) and print our names.
// Only this file includes spdlog, so the names are the same everywhere.
#define SPDLOG_LEVEL_NAMES {"DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL", "OFF"}

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

#include <spdlog/logger.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

namespace gosl::log {
namespace {

spdlog::level::level_enum ToSpdlog(Level level) {
  switch (level) {
    case Level::kDebug: return spdlog::level::trace;
    case Level::kInfo: return spdlog::level::debug;
    case Level::kNotice: return spdlog::level::info;
    case Level::kWarning: return spdlog::level::warn;
    case Level::kError: return spdlog::level::err;
    case Level::kCritical: return spdlog::level::critical;
  }
  return spdlog::level::critical;
}

// Swapped only at start-up and shut-down; readers take their own reference.
std::mutex logger_mutex;
std::shared_ptr<spdlog::logger> current_logger;
std::atomic<int> current_level{static_cast<int>(Level::kCritical) + 1};  // nothing before SetUp

std::shared_ptr<spdlog::logger> Logger() {
  std::lock_guard<std::mutex> lock(logger_mutex);
  return current_logger;
}

void Replace(std::shared_ptr<spdlog::logger> logger, int level) {
  std::shared_ptr<spdlog::logger> old;
  {
    std::lock_guard<std::mutex> lock(logger_mutex);
    old = std::move(current_logger);
    current_logger = std::move(logger);
    current_level = level;
  }
  if (old) old->flush();
}

std::string Upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

}  // namespace

Result<Level> ParseLevel(std::string_view name) {
  const std::string upper = Upper(name);
  if (upper == "DEBUG") return Level::kDebug;
  if (upper == "INFO") return Level::kInfo;
  if (upper == "NOTICE") return Level::kNotice;
  if (upper == "WARNING" || upper == "WARN") return Level::kWarning;
  if (upper == "ERROR" || upper == "ERR") return Level::kError;
  if (upper == "CRITICAL") return Level::kCritical;
  return Status::InvalidArgument("unknown log level '" + Sanitized(name, 20) +
                                 "' (use DEBUG, INFO, NOTICE, WARNING, ERROR or CRITICAL)");
}

Status SetUp(const LogOptions& options) {
  std::vector<spdlog::sink_ptr> sinks;
  Status status;
  if (!options.path.empty()) {
    try {
      sinks.push_back(std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
          options.path, std::max<size_t>(options.max_size_mb, 1) << 20, options.max_backups));
    } catch (const spdlog::spdlog_ex& e) {
      status = Status::IOError("cannot open log file '" + options.path + "': " + e.what());
    }
  }
  if (options.to_stderr) sinks.push_back(std::make_shared<spdlog::sinks::stderr_sink_mt>());
  auto logger = std::make_shared<spdlog::logger>("gosl", sinks.begin(), sinks.end());
  logger->set_pattern("%Y-%m-%d %H:%M:%S.%f [%P] %l %v");
  logger->set_level(ToSpdlog(options.level));
  // Every line reaches the file at once, as one append: a process killed by
  // mod_fcgid or the host's watchdog loses no line of what it did.
  logger->flush_on(spdlog::level::trace);
  Replace(std::move(logger), static_cast<int>(options.level));
  return status;
}

void ShutDown() { Replace(nullptr, static_cast<int>(Level::kCritical) + 1); }

bool Enabled(Level level) { return static_cast<int>(level) >= current_level.load(); }

void Write(Level level, std::string_view message) {
  if (!Enabled(level)) return;
  if (auto logger = Logger()) {
    logger->log(ToSpdlog(level), "{}", message);
  }
}

}  // namespace gosl::log
