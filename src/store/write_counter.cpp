#include "store/write_counter.hpp"

#include "store/db_files.hpp"

namespace gosl {

std::unique_ptr<WriteCounter> WriteCounter::Map(const std::string& db) {
  auto file = posix::SharedMapping::Map(db_files::WriteCounterFile(db), sizeof(uint64_t), 0640);
  if (!file.ok()) return nullptr;
  return std::unique_ptr<WriteCounter>(new WriteCounter(std::move(file).value()));
}

WriteCounter::WriteCounter(std::unique_ptr<posix::SharedMapping> file)
    : file_(std::move(file)), counter_(static_cast<uint64_t*>(file_->data())) {}

uint64_t WriteCounter::Load() const { return __atomic_load_n(counter_, __ATOMIC_ACQUIRE); }
void WriteCounter::Bump() { __atomic_fetch_add(counter_, 1, __ATOMIC_ACQ_REL); }

}  // namespace gosl

namespace gosl {

SharedWriteCounter::~SharedWriteCounter() { delete counter_.exchange(nullptr); }

void SharedWriteCounter::MapOnce() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (get() != nullptr) return;
  if (auto counter = WriteCounter::Map(db_)) counter_.store(counter.release(), std::memory_order_release);
}

}  // namespace gosl
