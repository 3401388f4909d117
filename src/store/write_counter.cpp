#include "store/write_counter.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <random>

#include "store/db_files.hpp"
#include "util/posix_io.hpp"

namespace gosl {
namespace {

// splitmix64: spreads a seed and a sequence into marks that do not repeat.
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

private_files::Identity IdentityOrNone(int fd) {
  auto identity = private_files::IdentityOfFd(fd);
  return identity.ok() ? identity.value() : private_files::Identity{};
}

}  // namespace

std::unique_ptr<WriteCounter> WriteCounter::Open(const std::string& db) {
  const std::string path = db_files::WriteCounterFile(db);
  auto fd = private_files::Open(path, O_RDWR | O_CREAT);
  if (!fd.ok()) return nullptr;
  return std::unique_ptr<WriteCounter>(new WriteCounter(path, fd.value()));
}

WriteCounter::WriteCounter(std::string path, int fd) : path_(std::move(path)), fd_(fd) {
  identity_ = IdentityOrNone(fd_);
  // Marks of this process start somewhere no other process's did.
  std::random_device random;
  next_mark_ = (uint64_t{random()} << 32 | random()) ^
               static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
}

WriteCounter::~WriteCounter() { ::close(fd_); }

bool WriteCounter::Current() {
  const auto now = private_files::IdentityOf(path_);
  if (now.ok() && now.value() == identity_) return true;
  auto fd = private_files::Open(path_, O_RDWR | O_CREAT);
  if (!fd.ok()) return false;
  ::close(fd_);
  fd_ = fd.value();
  identity_ = IdentityOrNone(fd_);
  return true;
}

std::optional<uint64_t> WriteCounter::Load() {
  std::lock_guard<std::mutex> lock(mutex_);
  uint64_t mark = 0;
  if (!Current() || posix::PreadFully(fd_, reinterpret_cast<char*>(&mark), sizeof mark, 0) !=
                        static_cast<ssize_t>(sizeof mark)) {
    return std::nullopt;
  }
  return mark;
}

void WriteCounter::Bump() {
  std::lock_guard<std::mutex> lock(mutex_);
  const uint64_t mark = Mix(next_mark_++);
  if (Current() && ::pwrite(fd_, &mark, sizeof mark, 0) != static_cast<ssize_t>(sizeof mark)) {
    // A full disk: peers that cannot read a whole mark remember nothing.
    if (::ftruncate(fd_, 0) != 0) {
      // Nothing more to do: the next write tries again.
    }
  }
}

SharedWriteCounter::~SharedWriteCounter() { delete counter_.exchange(nullptr); }

void SharedWriteCounter::OpenOnce() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (get() != nullptr) return;
  if (auto counter = WriteCounter::Open(db_)) {
    counter_.store(counter.release(), std::memory_order_release);
  }
}

}  // namespace gosl
