#include "gosl/logging.hpp"

// spdlog has six severities, the Go program's log six others: shift ours one
// down (DEBUG on spdlog's trace ... CRITICAL on critical) and print our names.
// Only this file includes spdlog, so the names are the same everywhere.
#define SPDLOG_LEVEL_NAMES {"DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL", "OFF"}

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <spdlog/logger.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include "util/posix_io.hpp"

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

// A size-rotated log file that several processes (mod_fcgid's) share.
// spdlog's rotating sink assumes one process: each would rotate on its own
// count and keep writing into files the others renamed. Here every line is
// one write(2) on an O_APPEND descriptor (the kernel appends it whole, so
// lines never interleave); the size is the file's, not this process's count;
// one process rotates at a time under flock(2) on "<log>.lock", after
// checking nobody rotated first; and a process whose file was renamed away
// reopens the new one before its next line (what it wrote meanwhile is in
// gosl.1.log: nothing is lost).
class SharedRotatingFileSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  SharedRotatingFileSink(std::string path, size_t max_bytes, size_t max_backups)
      : path_(std::move(path)), max_bytes_(max_bytes), max_backups_(max_backups) {
    std::error_code ec;
    std::filesystem::path parent = std::filesystem::path(path_).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    if (!Reopen()) throw spdlog::spdlog_ex(std::strerror(errno));
  }
  ~SharedRotatingFileSink() override {
    if (fd_ >= 0) ::close(fd_);
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& message) override {
    spdlog::memory_buf_t line;
    formatter_->format(message, line);
    // Whether another process rotated, and how large the file is, is looked
    // up at most every 100 ms (a stat per line costs a request a syscall);
    // in between, this process adds what it wrote. A file may pass its size
    // by what the processes write in 100 ms; no line is lost either way.
    const auto now = std::chrono::steady_clock::now();
    if (fd_ < 0 || now - last_check_ >= std::chrono::milliseconds(100)) {
      last_check_ = now;
      struct stat current {};
      if (::stat(path_.c_str(), &current) != 0 || current.st_ino != inode_) {
        if (!Reopen()) return;  // nowhere to write; the next line tries again
        ::stat(path_.c_str(), &current);
      }
      size_ = static_cast<size_t>(current.st_size);
    }
    if (size_ + line.size() > max_bytes_ && size_ > 0) {
      Rotate();
      size_ = 0;
    }
    size_ += line.size();
    // A full disk must not stop the service: a line that cannot be written is lost.
    if (!posix::WriteFully(fd_, std::string_view(line.data(), line.size()))) return;
  }
  void flush_() override {}  // nothing is buffered

 private:
  bool Reopen() {
    if (fd_ >= 0) ::close(fd_);
    // Never through a symbolic link: one planted at the log's name would
    // have the service append to (and rotate) whatever it points at.
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
    struct stat opened {};
    if (fd_ < 0 || ::fstat(fd_, &opened) != 0) return false;
    inode_ = opened.st_ino;
    return true;
  }

  void Rotate() {
    int lock = ::open((path_ + ".lock").c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (lock < 0 || ::flock(lock, LOCK_EX) != 0) {
      if (lock >= 0) ::close(lock);
      return;
    }
    struct stat current {};
    // Another process may have rotated while this one waited for the lock.
    if (::stat(path_.c_str(), &current) == 0 && current.st_ino == inode_ &&
        static_cast<size_t>(current.st_size) >= max_bytes_ / 2) {
      using Names = spdlog::sinks::rotating_file_sink<std::mutex>;
      if (max_backups_ == 0) {
        // Emptied, not unlinked: the other processes keep appending to it.
        // Through our descriptor, the file checked above, never a name.
        if (::ftruncate(fd_, 0) != 0) {
          // Nothing to do: the file just goes on growing until the next try.
        }
      } else {
        for (size_t i = max_backups_; i > 0; --i) {
          std::string from = Names::calc_filename(path_, i - 1);
          std::string to = Names::calc_filename(path_, i);
          ::rename(from.c_str(), to.c_str());  // a missing older file is fine
        }
      }
    }
    ::close(lock);  // releases the flock
    Reopen();
  }

  std::string path_;
  size_t max_bytes_;
  size_t max_backups_;
  int fd_ = -1;
  ino_t inode_ = 0;
  size_t size_ = 0;  // of the file, as last seen plus what this process wrote since
  std::chrono::steady_clock::time_point last_check_{};
};

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
      sinks.push_back(std::make_shared<SharedRotatingFileSink>(
          options.path, std::max<size_t>(options.max_size_bytes, 4096), options.max_backups));
    } catch (const spdlog::spdlog_ex& e) {
      status = Status::IOError("cannot open log file '" + options.path + "': " + e.what());
    }
  }
  if (options.to_stderr) sinks.push_back(std::make_shared<spdlog::sinks::stderr_sink_mt>());
  auto logger = std::make_shared<spdlog::logger>("gosl", sinks.begin(), sinks.end());
  // The pid written out once: spdlog's %P asks the kernel for it on every
  // line, a system call per request at INFO. No process of ours forks after
  // setting up its log.
  logger->set_pattern("%Y-%m-%d %H:%M:%S.%f [" + std::to_string(::getpid()) + "] %l %v");
  logger->set_level(ToSpdlog(options.level));
  // Every line reaches the file at once (the file sink buffers nothing): a
  // process killed by mod_fcgid or the host's watchdog loses no line.
  logger->flush_on(spdlog::level::trace);
  Replace(std::move(logger), static_cast<int>(options.level));
  return status;
}

void SetLevel(Level level) {
  std::lock_guard<std::mutex> lock(logger_mutex);
  if (!current_logger) return;
  current_logger->set_level(ToSpdlog(level));
  current_level = static_cast<int>(level);
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
