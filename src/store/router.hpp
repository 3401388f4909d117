// Who answers: this process's own database (when it holds LevelDB's lock) or
// the process that holds it, over the peer socket (peer.hpp). The owner
// answers the others through a peer server; a peer forwards, remembers recent
// answers while the shared write counter stands still, and takes the owner's
// place when it exits.
//
// Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "gosl/avatar_record.hpp"
#include "gosl/peer.hpp"
#include "gosl/status.hpp"
#include "gosl/store.hpp"
#include "store/answer_cache.hpp"
#include "store/local_db.hpp"
#include "store/write_counter.hpp"

namespace gosl {

class Router {
 public:
  Router(const StoreOptions& options, LocalDb& local, SharedWriteCounter& writes);
  // Stops answering peers first: none may reach the database while it closes.
  ~Router();
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // Makes this process the owner, or a peer of the owner (trying for up to
  // wait_ms while the owner starts or hands over). OK when already either.
  Status Open();
  bool is_open() const { return local_.is_open() || peer_open_.load(); }
  bool owns_database() const { return local_.is_open(); }
  // Open(), then kUnavailable unless this process owns the database.
  Status RequireOwnership();

  // Answers a request from the database or through its owner. A request is
  // sent again (to the next owner) when the owner went away: lookups change
  // nothing, a registration writes the same pair.
  Result<std::vector<AvatarRecord>> Route(const PeerRequest& request);

  // The operator's operations, done by the process serving the path: this
  // one, or the owner asked over the peer socket (never sent twice).
  Result<std::string> SwapIn(const std::string& new_dir, bool refresh);
  Status Export(const ExportVisitor& visit);
  Result<DatabaseFacts> Facts();

 private:
  // Sets owner_lost when the connection to the owner broke, and cacheable
  // when the owner lets the answer be remembered.
  // The connection to the owner broke: forget it (the next request finds the
  // owner again) and return why. Requires: mutex_ held.
  Status LosePeer(Status why, bool& owner_lost);
  // A batch asked of a 0.2.0 owner, one question at a time. Requires: mutex_ held.
  Result<std::vector<AvatarRecord>> ForwardOneByOne(const PeerRequest& batch, bool& owner_lost);
  Result<std::vector<AvatarRecord>> Forward(const PeerRequest& request, bool& owner_lost,
                                            bool& cacheable);
  // What the peer server answers other processes.
  PeerReply AnswerPeer(const PeerRequest& request, const PeerServer::ChunkSender& send);
  // Requires: mutex_ held.
  Status StartPeerServer();
  // After a lookup answered for a peer: hands the database over (on a thread
  // of its own: the peer server cannot stop itself) when this process has
  // answered only peers for kHandOverAfterAnswers lookups in a row and for
  // kHandOverAfter, and no operation is under way.
  void MaybeHandOver();
  void HandOver();
  bool StillIdle() const;
  // OK when the owner this peer forwards to does the operator's operations
  // (protocol 2); else kUnavailable saying what_it_cannot. Requires: mutex_ held.
  Status OwnerSpeaksVersion2(const std::string& what_it_cannot) const;

  // A swap waits for the carry (minutes on 10 M records); an export's
  // chunks follow each other closely.
  static constexpr int kOperationTimeoutMs = 2 * 3600 * 1000;
  static constexpr int kExportChunkTimeoutMs = 60 * 1000;
  static constexpr size_t kExportChunkRecords = 500;
  static constexpr size_t kExportChunkBytes = 48 * 1024;  // under the wire's 64 KB frame
  static constexpr std::chrono::seconds kExportKeepAlive{5};
  // An owner whose peer server could not start tries again, at most once a
  // second.
  void RetryPeerServer();

  // Constant after construction.
  const StoreOptions& options_;
  LocalDb& local_;
  SharedWriteCounter& writes_;

  AnswerCache answers_;  // a peer's; thread-safe on its own

  // Guards server_ and peer_, and serialises calls through peer_.
  std::mutex mutex_;
  std::unique_ptr<PeerServer> server_;  // owner: answers the peers
  std::unique_ptr<PeerClient> peer_;    // peer: the connection to the owner

  static constexpr uint64_t kHandOverAfterAnswers = 1000;
  static constexpr std::chrono::seconds kHandOverAfter{1};
  static int64_t NowMs();

  // Read without the lock.
  std::atomic<bool> peer_open_{false};
  std::atomic<uint64_t> peer_answers_in_a_row_{0};
  std::atomic<int64_t> last_own_work_ms_{0};  // an answer of its own, or taking the database
  std::atomic<int> operations_in_flight_{0};  // exports, swaps, counts asked by peers
  // Guards the start of an operation against a hand-over closing the server.
  std::mutex operations_mutex_;
  bool closing_for_hand_over_ = false;  // guarded by operations_mutex_
  // The hand-over thread: started under hand_over_mutex_, never once stopping_.
  std::mutex hand_over_mutex_;
  bool handing_over_ = false;  // guarded by hand_over_mutex_
  bool stopping_ = false;      // guarded by hand_over_mutex_
  std::thread hand_over_;
  std::atomic<bool> server_running_{false};
  std::atomic<int64_t> last_server_attempt_ms_{0};
};

}  // namespace gosl
