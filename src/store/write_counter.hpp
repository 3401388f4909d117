// A 64-bit mark of the writes made to one database, in a small file inside
// it that every process of the database reads. The owner writes a new mark
// after each write (before it answers); a peer that sees the mark change
// knows its remembered answers may be stale. The file is read and written,
// never mapped, and looked up by its path each time: one cut short or
// replaced (an upload over the live directory) makes peers forget what they
// remember, never a SIGBUS.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "util/private_files.hpp"

namespace gosl {

class WriteCounter {
 public:
  // Opens db's mark file (created owner-only when missing); null when it
  // cannot be had (no directory yet): peers then remember nothing.
  static std::unique_ptr<WriteCounter> Open(const std::string& db);
  ~WriteCounter();

  // The mark now; nullopt when the file cannot be read whole.
  std::optional<uint64_t> Load();
  // Writes a mark no process has seen before.
  void Bump();

 private:
  WriteCounter(std::string path, int fd);
  // Requires: mutex_ held. Follows the path to the file now there.
  bool Current();

  const std::string path_;
  std::mutex mutex_;
  // Guarded by mutex_.
  int fd_;
  private_files::Identity identity_;
  uint64_t next_mark_;
};

// A process's write counter, opened the first time the process owns or
// forwards to the database and kept for its life, so that other threads
// read the pointer without a lock.
class SharedWriteCounter {
 public:
  explicit SharedWriteCounter(std::string db) : db_(std::move(db)) {}
  ~SharedWriteCounter();

  // Opens the counter unless it is open already.
  void OpenOnce();
  // Null until opened (or when it cannot be).
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
