// Logs a fault of the database once, not once per request, and its end. A
// fault is a kUnavailable, kIOError or kCorruption answer; one cause is one
// fault whichever file it names (a full disk is one fault, whether LevelDB
// was writing its log, a table or its MANIFEST). A write fault ends with a
// write that works: a lookup that works says nothing of a full disk.
#pragma once

#include <atomic>
#include <mutex>
#include <string>

#include "gosl/status.hpp"

namespace gosl {

class FaultLog {
 public:
  explicit FaultLog(std::string db) : db_(std::move(db)) {}

  // Notes the status of one request (write: a registration). Thread-safe.
  void Note(const Status& status, bool write);

 private:
  const std::string db_;
  std::atomic<bool> in_fault_{false};  // read without the lock on every request
  std::mutex mutex_;
  // Guarded by mutex_.
  std::string fault_;  // the cause logged last; empty: none
  bool fault_on_write_ = false;
};

}  // namespace gosl
