// What each process serving a database has answered since it started, for
// --status and status=1: one slot per process in a small file beside the
// database ("<db>.activity", owner-only). A process holds its slot by an
// open-file-description lock for as long as it lives, so the kernel frees
// it however the process ends (a SIGKILL from the host's watchdog
// included) and a reader counts only slots still locked. Answers are counted
// in memory and the slot is rewritten with one pwrite at most kWriteDelay
// after an answer, by a thread of the recorder's (an idle process's slot is
// current too): a pwrite per request cost ~3 % of the requests per second
// through Apache. Read and written, never mapped: a file cut short costs the
// counts, not a SIGBUS.
#pragma once

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gosl/status.hpp"

namespace gosl {

// How a request ended, as the status counts it.
enum class Tally : uint8_t {
  kFound,     // a lookup that found, or a registration recorded
  kNotFound,  // a lookup that found nothing
  kRefused,   // 4xx: bad parameters, write protection, rate limit
  kFailed,    // 5xx: the database could not be used
  kOther,     // status=1 and the page for browsers
};
inline constexpr size_t kTallies = 5;
const char* TallyName(Tally tally);  // "found", "not_found", "refused", "failed", "other"

struct ProcessActivity {
  int pid = 0;
  int64_t started_s = 0;  // seconds since 1970
  bool owner = false;     // it held the database at its last answer
  std::string version;
  std::array<uint64_t, kTallies> answered{};
};

class ActivityRecorder {
 public:
  static constexpr size_t kSlots = 256;
  static constexpr size_t kSlotBytes = 128;
  // How long an answer may stay uncounted in the file: what a reader can
  // miss, and what a process killed loses.
  static constexpr std::chrono::milliseconds kWriteDelay{100};

  // file: created when missing; a slot is claimed at the first Count. When
  // none can be had (the file cannot be made, every slot is taken) this
  // process is not shown, and serves on.
  explicit ActivityRecorder(std::string file);
  ~ActivityRecorder();
  ActivityRecorder(const ActivityRecorder&) = delete;
  ActivityRecorder& operator=(const ActivityRecorder&) = delete;

  // Counts one answer; in the file within kWriteDelay. Thread-safe.
  void Count(Tally tally, bool owner);
  const std::string& file() const { return file_; }

 private:
  bool Claim();       // Requires: mutex_ held.
  void WriteSlot();   // Requires: mutex_ held, a slot claimed.
  void WriteLater();  // writer_'s loop

  const std::string file_;
  std::mutex mutex_;
  std::condition_variable changed_;
  int fd_ = -1;
  long slot_ = -1;
  bool tried_ = false;
  bool unwritten_ = false;  // counts the file does not have yet
  bool stopping_ = false;
  ProcessActivity mine_;
  std::thread writer_;  // started with the slot
};

// The processes holding a slot of file now, in slot order; an empty list
// when the file does not exist (nothing served since it was made).
Result<std::vector<ProcessActivity>> ReadActivity(const std::string& file);

}  // namespace gosl
