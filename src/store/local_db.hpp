// The path this process serves, when it holds the role of serving it
// (path_lock.hpp): the database directory there, opened with options sized
// from the memory budget; lookups and registrations answered from it; and
// what happens to the path while serving (docs/database.md):
//   - a directory put in its place (by hand, or by --replace and --import,
//     through SwapIn) is served within moments, and what the replaced one
//     knew that the new one lacks is carried into it in the background
//     (carry.hpp), answers meanwhile coming from both;
//   - after a failed write (LevelDB then refuses every later write) the next
//     registration reopens the database.
// Whether this process should serve the path is the router's business.
//
// Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "gosl/avatar_record.hpp"
#include "gosl/peer.hpp"
#include "gosl/status.hpp"
#include "gosl/store.hpp"
#include "store/carry.hpp"
#include "store/database.hpp"
#include "store/path_lock.hpp"
#include "store/write_counter.hpp"

namespace leveldb {
class WriteBatch;
}

namespace gosl {

class LocalDb final : public CarryTarget {
 public:
  // writes: marked after every write, so peers forget what they remember.
  LocalDb(const StoreOptions& options, SharedWriteCounter& writes);
  ~LocalDb() override;  // stops a carry (the next process to serve resumes it)
  LocalDb(const LocalDb&) = delete;
  LocalDb& operator=(const LocalDb&) = delete;

  // Takes the path's role and opens its database (OK when it is open). On
  // failure lock_held_elsewhere says whether another process serves it.
  Status Open(bool& lock_held_elsewhere);
  bool is_open() const { return open_.load(std::memory_order_acquire); }
  // Closes the database and gives up the path's role, for another process to
  // take (Router::HandOver); Answer() then says kUnavailable, and nothing
  // but Open() opens it again. False, with nothing changed, while it cannot:
  // a carry runs, or something else (an export, a count) reads it.
  bool Releasable() const;
  bool Release();
  bool released() const { return released_.load(); }
  // The directory served now, after looking whether the path holds another
  // one (and taking that one over): at most every 100 ms, or now with force.
  DatabaseIdentity FollowPath(bool force = false);

  // Answers a lookup or registration (not the operations below).
  Result<std::vector<AvatarRecord>> Answer(const PeerRequest& request);

  // Serves the database directory at new_dir in place of the one at the
  // path, which is kept as "<path>.replaced-<time>" (refresh: removed once
  // carried). Waits until what the old one knew is carried; returns a
  // one-line summary. kUnavailable while another swap is being carried;
  // kInvalidArgument when new_dir is the database served; Open's failures
  // for new_dir. Nothing changes when it fails before the swap.
  Result<std::string> SwapIn(const std::string& new_dir, bool refresh);

  // Calls emit with what an export holds (Store::Export), from a snapshot
  // taken now, and still_going every kExportProgressEntries entries read
  // (long stretches of entries emit nothing). kUnavailable while a swap is
  // being carried.
  Status Export(const ExportVisitor& emit, const std::function<Status()>& still_going = {});
  static constexpr int kExportProgressEntries = 10000;

  // The counts of the database served (Store::Facts).
  Result<DatabaseFacts> Facts();

  // Bulk and maintenance access to the database served.
  Status Write(leveldb::WriteBatch* writes, bool sync);
  Status Scan(char prefix, const std::function<Status(std::string_view key, std::string_view value)>& visit);
  Status CompactAll();

  // CarryTarget.
  Status WithWritesHeld(const std::function<Status(Database&)>& write) override;

 private:
  using Clock = std::chrono::steady_clock;

  // Requires: open_mutex_ held.
  Status OpenLocked(bool& lock_held_elsewhere);
  Status HandedOver() const;
  bool ReleasableLocked() const;  // Requires: state_ held.
  Result<std::unique_ptr<Database>> OpenAt(const std::string& path, bool carried = false) const;
  // The replaced database, now at old_path, reopened with a carried one's
  // small cache (unless an export still reads it); null when it cannot be.
  std::shared_ptr<Database> ForCarrying(std::shared_ptr<Database> old,
                                        const std::string& old_path) const;
  static constexpr size_t kCarriedBudgetMb = 4;
  static constexpr size_t kCarryingCacheBytes = 1 << 20;  // the served one's, meanwhile
  // Starts carrying predecessor_ into current_. Requires: open_mutex_ held.
  void StartCarrying(bool refresh);
  static Status MarkCarryFrom(Database& fresh, const DatabaseIdentity& old_identity,
                              const std::string& old_path);
  // Makes fresh the database served and old (now at old_path) its
  // predecessor, and starts carrying. Requires: open_mutex_ held and state_
  // held exclusively.
  void TakeOver(std::shared_ptr<Database> fresh, std::shared_ptr<Database> old,
                const std::string& old_path, bool refresh);
  Status SwapDirectories(const std::string& new_dir, const std::string& old_path);
  void ResumeCarry();  // Requires: open_mutex_ held.
  void CarryLoop(std::shared_ptr<Database> from, bool refresh);
  void FinishCarry(const CarryStats& stats, bool refresh);
  Status CheckWritable() const;
  Status ReopenAfterWriteFault();
  Result<std::vector<AvatarRecord>> AnswerOpen(const PeerRequest& request, bool& write_failed);
  uint64_t NextRegistrationTime();  // Requires: write_mutex_ held.

  // Constant after construction.
  const StoreOptions& options_;
  SharedWriteCounter& writes_;

  // Structural changes (open, reopen, taking over a swap, the end of a
  // carry) hold open_mutex_, then state_ exclusively; every use of current_
  // and predecessor_ holds state_ shared.
  std::mutex open_mutex_;
  mutable std::shared_mutex state_;
  std::unique_ptr<PathLock> path_lock_;           // guarded by open_mutex_
  std::shared_ptr<Database> current_;             // the directory at the path
  std::shared_ptr<Database> predecessor_;         // being carried into current_, or null
  std::unique_ptr<PathLock> predecessor_lock_;    // its own path's role, while carried
  std::atomic<bool> open_{false};
  std::atomic<bool> released_{false};
  std::atomic<bool> write_fault_{false};
  bool closed_after_fault_ = false;               // guarded by open_mutex_

  // Registrations and carried chunks, one at a time (a chunk is checked
  // against what is there, then written).
  std::mutex write_mutex_;
  uint64_t last_registration_us_ = 0;  // guarded by write_mutex_

  // The carry running in the background, and SwapIn callers waiting for it.
  std::thread carrier_;                 // guarded by open_mutex_
  std::atomic<bool> stop_carry_{false};
  std::mutex carry_mutex_;
  std::condition_variable carry_done_;
  uint64_t carries_finished_ = 0;       // guarded by carry_mutex_
  std::string last_carry_summary_;      // guarded by carry_mutex_

  std::mutex facts_mutex_;
  std::optional<DatabaseFacts> facts_;  // guarded by facts_mutex_
  int64_t facts_until_us_ = 0;          // guarded by facts_mutex_
  DatabaseIdentity facts_identity_;     // guarded by facts_mutex_

  std::atomic<int64_t> next_path_check_us_{0};  // FollowPath looks at most every 100 ms
  DatabaseIdentity refused_identity_;          // a directory at the path that did not open; guarded by open_mutex_
};

}  // namespace gosl
