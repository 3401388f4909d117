// A 64-bit count of the writes made to one database, in a small file inside
// it that every process of the database maps shared. The owner adds one
// after each write; a peer that sees it move knows its remembered answers
// may be stale.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "util/posix_io.hpp"

namespace gosl {

class WriteCounter {
 public:
  // Maps db's counter file (created when missing); null when it cannot be
  // had (no directory yet, a full disk): peers then remember nothing.
  static std::unique_ptr<WriteCounter> Map(const std::string& db);

  uint64_t Load() const;
  void Bump();

 private:
  explicit WriteCounter(std::unique_ptr<posix::SharedMapping> file);
  std::unique_ptr<posix::SharedMapping> file_;
  uint64_t* counter_;
};

}  // namespace gosl

namespace gosl {

// A process's write counter, mapped the first time the process owns or
// forwards to the database and kept for its life, so that other threads
// read it without a lock.
class SharedWriteCounter {
 public:
  explicit SharedWriteCounter(std::string db) : db_(std::move(db)) {}
  ~SharedWriteCounter();

  // Maps the counter unless it is mapped already.
  void MapOnce();
  // Null until mapped (or when it cannot be).
  WriteCounter* get() const { return counter_.load(std::memory_order_acquire); }
  void Bump() {
    if (WriteCounter* counter = get()) counter->Bump();
  }

 private:
  std::string db_;
  std::mutex mutex_;
  std::atomic<WriteCounter*> counter_{nullptr};  // owned; set at most once
};

}  // namespace gosl
