#include "gosl/access.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <map>
#include <set>
#include <thread>

#include "gosl/text.hpp"
#include "gosl/logging.hpp"
#include "util/posix_io.hpp"
#include "util/private_files.hpp"

namespace gosl {
namespace {

constexpr std::array<std::pair<std::string_view, WriteMode>, 4> kModeNames{{
    {"open", WriteMode::kOpen},
    {"sl-only", WriteMode::kSlOnly},
    {"token", WriteMode::kToken},
    {"off", WriteMode::kOff},
}};

// A clock that jumped back, or a table left by another machine, must not
// lock a client out for longer than a burst takes to drain.
constexpr int64_t kMaxAheadUs = 120 * 1000000LL;

uint64_t ClientHash(std::string_view id) {
  uint64_t hash = 14695981039346656037ULL;  // FNV-1a
  for (char c : id) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ULL;
  }
  return hash == 0 ? 1 : hash;  // 0 marks an empty slot
}

// flock that gives up after wait_ms: a hung holder must not hang us.
bool LockWithin(int fd, int wait_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  for (;;) {
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return true;
    if (errno != EWOULDBLOCK && errno != EINTR) return false;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

bool IsRegistration(const Parameters& params) {
  return !params.pairs.empty() || (params.name && params.key);
}

// The first Second Life header that is missing or malformed, or nullptr.
const char* MissingScriptHeader(const Request& request) {
  if (request.grid.empty()) return "X-SecondLife-Shard";
  if (!Uuid::Parse(request.object_key).ok()) return "X-SecondLife-Object-Key";
  if (!Uuid::Parse(request.owner_key).ok()) return "X-SecondLife-Owner-Key";
  return nullptr;
}

Status CheckWriteMode(const AccessPolicy& policy, const Request& request,
                      const Parameters& params) {
  switch (policy.writes) {
    case WriteMode::kOpen: return Status::OK();
    case WriteMode::kOff:
      return Status::Forbidden("registrations are switched off on this service (writes = off)");
    case WriteMode::kToken:
      if (!params.token) return Status::Forbidden("registrations need token= here (writes = token)");
      if (policy.token.empty() || !SecretsEqual(*params.token, policy.token)) {
        return Status::Forbidden("wrong token= for registrations");
      }
      return Status::OK();
    case WriteMode::kSlOnly: break;
  }
  if (const char* missing = MissingScriptHeader(request)) {
    return Status::Forbidden("registrations are taken from Second Life scripts only: no valid " +
                             std::string(missing) + " header (writes = sl-only)");
  }
  const Uuid owner = Uuid::Parse(request.owner_key).value();
  if (!policy.owners.empty() &&
      std::find(policy.owners.begin(), policy.owners.end(), owner) == policy.owners.end()) {
    return Status::Forbidden("owner " + owner.ToString() +
                             " may not register here (not in owners)");
  }
  if (params.grid_parameter && *params.explicit_grid != request.grid) {
    return Status::Forbidden("grid= may not move a registration to another grid here "
                             "(writes = sl-only)");
  }
  return Status::OK();
}

}  // namespace

Result<WriteMode> ParseWriteMode(std::string_view text) {
  const std::string lower = AsciiLowered(text);
  for (const auto& [name, mode] : kModeNames) {
    if (lower == name) return mode;
  }
  return Status::InvalidArgument("writes must be open, sl-only, token or off, not '" +
                                 Sanitized(text, 20) + "'");
}

std::string_view WriteModeName(WriteMode mode) {
  for (const auto& [name, candidate] : kModeNames) {
    if (candidate == mode) return name;
  }
  return "?";
}

bool SecretsEqual(std::string_view given, std::string_view secret) {
  // Every byte of the secret is looked at whatever the given text is, and
  // no branch depends on a byte: the time tells the lengths only.
  unsigned char difference = given.size() == secret.size() ? 0 : 1;
  for (size_t i = 0; i < secret.size(); ++i) {
    const unsigned char g = i < given.size() ? static_cast<unsigned char>(given[i]) : 0;
    difference |= static_cast<unsigned char>(g ^ static_cast<unsigned char>(secret[i]));
  }
  return difference == 0;
}

struct RegistrationLimiter::Slot {
  uint64_t id = 0;          // ClientHash; 0: empty
  int64_t next_at_us = 0;   // GCRA's theoretical arrival time
};

// The slots of one charge: read from the shared file (or this process's own
// table) as they are looked at, written back at the end if changed.
class RegistrationLimiter::Table {
 public:
  Table(int fd, Slot* local) : fd_(fd), local_(local) {}

  Slot Get(size_t index) {
    auto it = slots_.find(index);
    if (it != slots_.end()) return it->second;
    Slot slot;
    if (fd_ < 0) {
      slot = local_[index];
    } else if (posix::PreadFully(fd_, reinterpret_cast<char*>(&slot), sizeof slot,
                                 index * sizeof slot) != sizeof slot) {
      slot = Slot();  // past the end of a file cut short: empty
    }
    slots_[index] = slot;
    return slot;
  }
  void Put(size_t index, const Slot& slot) {
    slots_[index] = slot;
    changed_.insert(index);
  }
  void WriteBack() {
    for (size_t index : changed_) {
      const Slot& slot = slots_[index];
      if (fd_ < 0) {
        local_[index] = slot;
      } else if (::pwrite(fd_, &slot, sizeof slot, static_cast<off_t>(index * sizeof slot)) < 0) {
        // A full disk: the charge is lost, the registration still answered.
      }
    }
  }

  // The client's slot; else a slot whose client is within its limit again
  // (it holds nothing worth keeping); else the one nearest to that.
  size_t Find(uint64_t id, int64_t now_us) {
    constexpr size_t kProbes = 8;
    size_t reusable = kSlots;
    Slot best;
    for (size_t i = 0; i < kProbes; ++i) {
      const size_t index = (id + i) % kSlots;
      const Slot slot = Get(index);
      if (slot.id == id) return index;
      const bool free = slot.id == 0 || slot.next_at_us <= now_us;
      if (reusable == kSlots || (free && best.next_at_us > now_us) ||
          (!free && best.next_at_us > now_us && slot.next_at_us < best.next_at_us)) {
        reusable = index;
        best = slot;
      }
    }
    return reusable;
  }

 private:
  int fd_;
  Slot* local_;
  std::map<size_t, Slot> slots_;
  std::set<size_t> changed_;
};

RegistrationLimiter::RegistrationLimiter(std::string file)
    : path_(std::move(file)) {}

RegistrationLimiter::~RegistrationLimiter() = default;

int RegistrationLimiter::Charge(const std::vector<std::string>& clients, unsigned per_minute,
                                int64_t now_us) {
  if (per_minute == 0) return 0;
  const int64_t interval_us = 60 * 1000000LL / per_minute;
  const int64_t burst = std::max<int64_t>(1, per_minute / 4);
  const int64_t tolerance_us = interval_us * (burst - 1);

  std::lock_guard<std::mutex> lock(mutex_);
  // Opened for each charge (registrations are rare): a file replaced since
  // is the one used.
  int fd = -1;
  if (!path_.empty()) {
    auto file = private_files::Open(path_, O_RDWR | O_CREAT);
    if (file.ok()) fd = file.value();
  }
  if (fd >= 0 && !LockWithin(fd, kLockWaitMs)) {
    if (!said_busy_) {
      log::Warning("registration rate table '" + path_ + "' has been locked for over " +
                   std::to_string(kLockWaitMs) + " ms: counting in this process alone meanwhile");
      said_busy_ = true;
    }
    ::close(fd);
    fd = -1;
  } else if (fd >= 0) {
    said_busy_ = false;
  }
  shared_ = fd >= 0;
  // Made at the first registration, not with the process: most never see one.
  if (!local_) local_.reset(new Slot[kSlots]());
  Table table(fd, local_.get());
  auto next_at = [&](const Slot& slot, uint64_t id) {
    if (slot.id != id || slot.next_at_us > now_us + kMaxAheadUs) return now_us;
    return std::max(slot.next_at_us, now_us);
  };
  int64_t wait_us = 0;
  for (const std::string& client : clients) {
    if (client.empty()) continue;
    const uint64_t id = ClientHash(client);
    const int64_t at = next_at(table.Get(table.Find(id, now_us)), id);
    wait_us = std::max(wait_us, at - tolerance_us - now_us);
  }
  if (wait_us <= 0) {
    for (const std::string& client : clients) {
      if (client.empty()) continue;
      const uint64_t id = ClientHash(client);
      const size_t index = table.Find(id, now_us);
      const int64_t at = next_at(table.Get(index), id);
      table.Put(index, Slot{id, at + interval_us});
    }
    table.WriteBack();
  }
  if (fd >= 0) ::close(fd);  // releases the flock
  if (wait_us <= 0) return 0;
  return static_cast<int>(std::max<int64_t>(1, (wait_us + 999999) / 1000000));
}

Admission AdmitRegistration(const AccessPolicy& policy, const Request& request,
                            const Parameters& params, RegistrationLimiter* limiter) {
  Admission admission;
  if (!IsRegistration(params)) return admission;
  admission.status = CheckWriteMode(policy, request, params);
  // A wrong token still counts against its address: guessing is limited.
  const bool guess = policy.writes == WriteMode::kToken && !admission.status.ok();
  if ((!admission.status.ok() && !guess) || !limiter) return admission;

  const std::string address = request.remote_addr.empty() ? "" : "a:" + request.remote_addr;
  // The owner key counts only where the header is what lets a request in;
  // with a token, the token holder is trusted and the header is anyone's.
  const bool count_owner = policy.writes != WriteMode::kToken && !request.owner_key.empty();
  const std::string owner = count_owner ? "o:" + AsciiLowered(request.owner_key) : "";
  const auto now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  const int wait_s = limiter->Charge({address, owner}, policy.registrations_per_minute, now_us);
  if (guess && wait_s == 0) return admission;  // the 403 stands
  if (wait_s > 0) {
    admission.retry_after_s = wait_s;
    admission.status = Status::TooManyRequests("too many registrations from this client: try again in " +
                                               std::to_string(wait_s) + " s");
  }
  return admission;
}

}  // namespace gosl
