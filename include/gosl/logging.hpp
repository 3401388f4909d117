// The process log: a size-rotated file (spdlog) at the level --debug names,
// also copied to stderr in the interactive modes. Several processes may share
// the file (mod_fcgid runs several): lines never interleave, none is lost,
// one process rotates at a time. Set up once at start-up; callers hand it
// finished one-line messages. Nothing else writes logs.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "gosl/status.hpp"

namespace gosl::log {

// The Go program's level names (go-logging), in increasing severity.
enum class Level { kDebug, kInfo, kNotice, kWarning, kError, kCritical };

// "DEBUG", "info", "Notice", ...: case-insensitive; WARN and ERR accepted too.
// Returns kInvalidArgument listing the valid names otherwise.
Result<Level> ParseLevel(std::string_view name);

struct LogOptions {
  std::string path;           // the log file; empty: no file
  size_t max_size_bytes = 10 << 20;  // rotate when the file would pass this size
  size_t max_backups = 3;     // gosl.1.log .. gosl.N.log are kept
  Level level = Level::kInfo;
  bool to_stderr = false;     // --server, --shell, --import: the operator is watching
};

// Replaces the process log. Returns kIOError naming the file when it cannot
// be opened; the log then writes nowhere until a later SetUp succeeds.
Status SetUp(const LogOptions& options);
// Changes the level of the log set up (config.ini changed while running).
void SetLevel(Level level);
// Flushes and closes the log (before exit, or in tests).
void ShutDown();

bool Enabled(Level level);
void Write(Level level, std::string_view message);

inline void Debug(std::string_view message) { Write(Level::kDebug, message); }
inline void Info(std::string_view message) { Write(Level::kInfo, message); }
inline void Notice(std::string_view message) { Write(Level::kNotice, message); }
inline void Warning(std::string_view message) { Write(Level::kWarning, message); }
inline void Error(std::string_view message) { Write(Level::kError, message); }
inline void Critical(std::string_view message) { Write(Level::kCritical, message); }

}  // namespace gosl::log
