// Access: who may register names. The write protection (writes = open |
// sl-only | token | off) and the per-client registration rate limit, which
// every process serving one database shares. Lookups never come here: they
// are not limited (docs/security.md).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "gosl/activity.hpp"
#include "gosl/parameters.hpp"
#include "gosl/request.hpp"
#include "gosl/status.hpp"
#include "gosl/uuid.hpp"

namespace gosl {

enum class WriteMode {
  kOpen,    // anyone may register (the Go program's and W-Hat's behaviour)
  kSlOnly,  // only requests carrying Second Life's script headers
  kToken,   // only requests carrying token= equal to the configured secret
  kOff,     // nobody: a read-only service
};

// "open", "sl-only", "token", "off" (case-insensitive); kInvalidArgument
// listing them otherwise.
Result<WriteMode> ParseWriteMode(std::string_view text);
std::string_view WriteModeName(WriteMode mode);

struct AccessPolicy {
  WriteMode writes = WriteMode::kSlOnly;
  std::string token;         // writes = token: the secret (never logged, never echoed)
  std::vector<Uuid> owners;  // writes = sl-only: only these owner keys, when any are listed
  // Registration requests per minute per client address and per owner key,
  // in bursts of up to a quarter of that; 0: no limit.
  unsigned registrations_per_minute = 120;
  // status=1 and the browser page's counts answered to anyone (public), or
  // to no one (off: 404).
  bool public_status = true;
};

// Counts registrations per client (GCRA: one "next allowed" time per client)
// in a 64 KB table kept in a file every process of one database reads and
// writes (under flock), so the limit holds however many processes mod_fcgid
// starts. The file is read and written, never mapped: one cut short or
// replaced (an upload over the live directory) costs its counts, not a
// SIGBUS. A lock held longer than kLockWaitMs (a process of ours hung while
// holding it) does not hold registrations up: they are counted in this
// process alone meanwhile.
class RegistrationLimiter {
 public:
  static constexpr size_t kSlots = 4096;
  static constexpr int kLockWaitMs = 50;

  // file: the shared table, created (owner-only) when missing. While it
  // cannot be had (its directory may not exist yet) a table of this process
  // alone is used.
  explicit RegistrationLimiter(std::string file);
  ~RegistrationLimiter();
  RegistrationLimiter(const RegistrationLimiter&) = delete;
  RegistrationLimiter& operator=(const RegistrationLimiter&) = delete;

  // Charges one registration to every client id (empty ones are skipped)
  // when all of them are within per_minute; otherwise charges none. Returns
  // 0 when charged, else the seconds (>= 1) until all would be within it.
  int Charge(const std::vector<std::string>& clients, unsigned per_minute, int64_t now_us);
  // True when the last charge was counted in the shared file.
  bool shared() const { return shared_; }

 private:
  struct Slot;
  class Table;

  std::mutex mutex_;  // threads of this process; flock() serialises the processes
  // Guarded by mutex_.
  const std::string path_;
  std::unique_ptr<Slot[]> local_;
  bool shared_ = false;
  bool said_busy_ = false;
};

// The verdict on one request.
struct Admission {
  Status status;          // OK, or kForbidden / kTooManyRequests saying why
  int retry_after_s = 0;  // kTooManyRequests: seconds to wait
};

// OK for every request that registers nothing. A registration (name and
// key, or pairs=) must pass the policy's write mode, then the rate limit
// (when limiter is given): charged to REMOTE_ADDR and to the owner key.
// In sl-only mode grid= may not move a registration to another grid than
// the script's own (a Hypergrid name's host may).
Admission AdmitRegistration(const AccessPolicy& policy, const Request& request,
                            const Parameters& params, RegistrationLimiter* limiter);

// Compares two secrets in time that depends on their lengths only.
bool SecretsEqual(std::string_view given, std::string_view secret);

// What public front ends check registrations against: the policy in force
// (source is asked on every request, so a changed config.ini takes effect)
// and the shared limiter. Requests with no gate are the operator's own.
class Gate {
 public:
  using PolicySource = std::function<std::shared_ptr<const AccessPolicy>()>;
  // activity_file: where each process counts its answers (activity.hpp);
  // empty: not counted (tests).
  Gate(PolicySource source, std::string limiter_file, std::string activity_file = "")
      : source_(std::move(source)), limiter_(std::move(limiter_file)), activity_(activity_file) {}

  std::shared_ptr<const AccessPolicy> Policy() const { return source_(); }
  RegistrationLimiter& limiter() { return limiter_; }
  ActivityRecorder& activity() { return activity_; }

 private:
  PolicySource source_;
  RegistrationLimiter limiter_;
  ActivityRecorder activity_;
};

}  // namespace gosl
