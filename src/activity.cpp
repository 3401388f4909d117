#include "gosl/activity.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <system_error>

#include "gosl/version.hpp"
#include "util/coding.hpp"
#include "util/private_files.hpp"
#include "util/quiet_thread.hpp"

namespace gosl {
namespace {

// slot: magic (4) | pid (4) | started (8) | owner (1) | version (23, NUL-padded) |
//       answered (5 x 8) | unused, to kSlotBytes. Little-endian.
constexpr std::string_view kMagic = "GOSA";
constexpr size_t kVersionBytes = 23;

std::string EncodeSlot(const ProcessActivity& a) {
  std::string out(kMagic);
  coding::PutFixed32(out, static_cast<uint32_t>(a.pid));
  coding::PutFixed64(out, static_cast<uint64_t>(a.started_s));
  out += a.owner ? '1' : '0';
  std::string version = a.version.substr(0, kVersionBytes);
  version.resize(kVersionBytes, '\0');
  out += version;
  for (uint64_t count : a.answered) coding::PutFixed64(out, count);
  out.resize(ActivityRecorder::kSlotBytes, '\0');
  return out;
}

bool DecodeSlot(std::string_view bytes, ProcessActivity& a) {
  coding::Reader in(bytes);
  std::string_view magic, version;
  uint32_t pid = 0;
  uint64_t started = 0;
  uint8_t owner = 0;
  if (!in.GetBytes(kMagic.size(), magic) || magic != kMagic || !in.GetFixed32(pid) ||
      !in.GetFixed64(started) || !in.GetByte(owner) || !in.GetBytes(kVersionBytes, version)) {
    return false;
  }
  a.pid = static_cast<int>(pid);
  a.started_s = static_cast<int64_t>(started);
  a.owner = owner == '1';
  a.version.assign(version.substr(0, version.find('\0')));
  for (uint64_t& count : a.answered) {
    if (!in.GetFixed64(count)) return false;
  }
  return true;
}

struct flock SlotRange(long slot, short type) {
  struct flock range {};
  range.l_type = type;
  range.l_whence = SEEK_SET;
  range.l_start = static_cast<off_t>(slot) * static_cast<off_t>(ActivityRecorder::kSlotBytes);
  range.l_len = static_cast<off_t>(ActivityRecorder::kSlotBytes);
  return range;
}

constexpr off_t kFileBytes = ActivityRecorder::kSlots * ActivityRecorder::kSlotBytes;

}  // namespace

const char* TallyName(Tally tally) {
  switch (tally) {
    case Tally::kFound: return "found";
    case Tally::kNotFound: return "not_found";
    case Tally::kRefused: return "refused";
    case Tally::kFailed: return "failed";
    case Tally::kOther: break;
  }
  return "other";
}

ActivityRecorder::ActivityRecorder(std::string file) : file_(std::move(file)) {}

ActivityRecorder::~ActivityRecorder() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (writer_.joinable()) writer_.join();
  if (fd_ < 0) return;
  // Blanked, so a reader skips it without asking the kernel; a process
  // killed leaves its slot written, and the lock (gone) tells.
  const std::string blank(kSlotBytes, '\0');
  (void)!::pwrite(fd_, blank.data(), blank.size(), static_cast<off_t>(slot_) * static_cast<off_t>(kSlotBytes));
  ::close(fd_);  // releases the slot
}

bool ActivityRecorder::Claim() {
  tried_ = true;
  auto opened = private_files::Open(file_, O_RDWR | O_CREAT | O_CLOEXEC);
  if (!opened.ok()) return false;
  fd_ = opened.value();
  struct stat info {};
  // Never shrunk: another process may be writing past any new end.
  if (::fstat(fd_, &info) != 0 || (info.st_size < kFileBytes && ::ftruncate(fd_, kFileBytes) != 0)) {
    ::close(fd_);
    fd_ = -1;
    return false;
  }
  for (long slot = 0; slot < static_cast<long>(kSlots); ++slot) {
    struct flock range = SlotRange(slot, F_WRLCK);
    if (::fcntl(fd_, F_OFD_SETLK, &range) != 0) continue;
    mine_.pid = static_cast<int>(::getpid());
    mine_.started_s = static_cast<int64_t>(std::time(nullptr));
    mine_.version = kVersion;
    // At once: the slot may still hold a dead process's bytes, which its
    // lock would now pass off as this process's.
    const std::string fresh = EncodeSlot(mine_);
    const off_t at = static_cast<off_t>(slot) * static_cast<off_t>(kSlotBytes);
    if (::pwrite(fd_, fresh.data(), fresh.size(), at) == static_cast<ssize_t>(fresh.size())) {
      slot_ = slot;
      return true;
    }
    break;
  }
  ::close(fd_);
  fd_ = -1;
  return false;
}

void ActivityRecorder::Count(Tally tally, bool owner) {
  std::unique_lock<std::mutex> counting(mutex_);
  if (slot_ < 0) {
    if (tried_ || !Claim()) return;
    try {
      writer_ = QuietThread([this] { WriteLater(); });
    } catch (const std::system_error&) {
      // A host's limit on threads (CloudLinux counts them as processes):
      // each answer is written at once instead.
    }
  }
  ++mine_.answered[static_cast<size_t>(tally)];
  mine_.owner = owner;
  if (!writer_.joinable()) return WriteSlot();
  if (unwritten_) return;  // the writer is already waiting to write
  unwritten_ = true;
  counting.unlock();
  changed_.notify_one();
}

void ActivityRecorder::WriteSlot() {
  const std::string slot = EncodeSlot(mine_);
  // A failed write is made good by the next one.
  (void)!::pwrite(fd_, slot.data(), slot.size(), static_cast<off_t>(slot_) * static_cast<off_t>(kSlotBytes));
}

void ActivityRecorder::WriteLater() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    changed_.wait(lock, [this] { return unwritten_ || stopping_; });
    // The answers of the next kWriteDelay go out in the same write. At the
    // end the destructor blanks the slot: nothing left to write.
    if (stopping_ || changed_.wait_for(lock, kWriteDelay, [this] { return stopping_; })) return;
    WriteSlot();
    unwritten_ = false;
  }
}

Result<std::vector<ProcessActivity>> ReadActivity(const std::string& file) {
  std::vector<ProcessActivity> processes;
  if (file.empty()) return processes;  // no file named: nothing counted (--shell, tests)
  auto opened = private_files::Open(file, O_RDONLY | O_CLOEXEC);
  if (!opened.ok()) {
    if (opened.status().IsNotFound()) return processes;
    return opened.status();
  }
  const int fd = opened.value();
  // One read of every slot, then the kernel is asked only about the ones
  // written: a status costs a few system calls, not one per slot.
  std::string slots(ActivityRecorder::kSlots * ActivityRecorder::kSlotBytes, '\0');
  const ssize_t got = ::pread(fd, slots.data(), slots.size(), 0);
  for (size_t i = 0; got > 0 && (i + 1) * ActivityRecorder::kSlotBytes <= static_cast<size_t>(got); ++i) {
    const std::string_view slot(slots.data() + i * ActivityRecorder::kSlotBytes, ActivityRecorder::kSlotBytes);
    ProcessActivity activity;
    // Blank (never used, or left by a process that ended) or being claimed.
    if (!DecodeSlot(slot, activity)) continue;
    struct flock range = SlotRange(static_cast<long>(i), F_RDLCK);
    if (::fcntl(fd, F_OFD_GETLK, &range) != 0) {
      const int error = errno;
      ::close(fd);
      return Status::IOError("cannot read '" + file + "': " + std::strerror(error));
    }
    if (range.l_type != F_UNLCK) processes.push_back(std::move(activity));  // else: its process died
  }
  ::close(fd);
  return processes;
}

}  // namespace gosl
