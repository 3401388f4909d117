#include "store/router.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <system_error>
#include <thread>

#include "gosl/logging.hpp"
#include "gosl/version.hpp"
#include "peer/wire.hpp"
#include "util/private_files.hpp"
#include "util/quiet_thread.hpp"

namespace gosl {

Router::Router(const StoreOptions& options, LocalDb& local, SharedWriteCounter& writes)
    : options_(options), local_(local), writes_(writes) {}

Router::~Router() {
  {
    std::lock_guard<std::mutex> lock(hand_over_mutex_);
    stopping_ = true;
  }
  if (hand_over_.joinable()) hand_over_.join();
  server_.reset();
  peer_.reset();
}

int64_t Router::NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

Status Router::StartPeerServer() {
  PeerServer::Options server_options;
  server_options.db_path = options_.path;
  server_options.served = [this](bool follow) { return local_.FollowPath(follow); };
  auto server = PeerServer::Start(server_options, [this](const PeerRequest& request,
                                                         const PeerServer::ChunkSender& send) {
    return AnswerPeer(request, send);
  });
  if (!server.ok()) return server.status();
  server_ = std::move(server).value();
  server_running_ = true;
  return Status::OK();
}

PeerReply Router::AnswerPeer(const PeerRequest& request, const PeerServer::ChunkSender& send) {
  PeerReply reply;
  // An operation keeps the database here until it ends (MaybeHandOver).
  struct InFlight {
    std::atomic<int>& count;
    explicit InFlight(std::atomic<int>& c) : count(c) { ++count; }
    ~InFlight() { --count; }
  };
  const bool operation =
      request.op == PeerOp::kSwapIn || request.op == PeerOp::kExport || request.op == PeerOp::kFacts;
  std::optional<InFlight> in_flight;
  if (operation) {
    std::lock_guard<std::mutex> lock(operations_mutex_);
    // A swap or an export is never sent twice: one cut off by the hand-over
    // would be lost. Asked again, it finds the next holder.
    if (closing_for_hand_over_ && request.op != PeerOp::kFacts) {
      reply.status = Status::Unavailable("database '" + options_.path +
                                         "' is being handed to another process: try again");
      return reply;
    }
    in_flight.emplace(operations_in_flight_);
  }
  switch (request.op) {
    case PeerOp::kSwapIn: {
      auto summary = local_.SwapIn(request.name, request.grid == "refresh");
      if (!summary.ok()) {
        reply.status = summary.status();
      } else {
        reply.records.push_back(AvatarRecord{Uuid(), summary.value(), ""});
      }
      return reply;
    }
    case PeerOp::kExport: {
      std::vector<ExportEntry> chunk;
      size_t chunk_bytes = 0;
      auto last_sent = std::chrono::steady_clock::now();
      const auto send_chunk = [&] {
        const bool sent = send(chunk);
        chunk.clear();
        chunk_bytes = 0;
        last_sent = std::chrono::steady_clock::now();
        return sent ? Status::OK() : Status::Unavailable("the exporting process is gone");
      };
      Status exported = local_.Export(
          [&](const ExportEntry& entry) {
            chunk.push_back(entry);
            chunk_bytes += wire::ChunkEntryBytes(entry);
            // Long names and grids make fewer records fill a frame.
            return chunk.size() < kExportChunkRecords && chunk_bytes < kExportChunkBytes ? Status::OK()
                                                                                         : send_chunk();
          },
          // Older names are few: scanning past millions of current ones
          // sends nothing for minutes, so the exporter hears (an empty
          // chunk) that the owner is still at it.
          [&] {
            return std::chrono::steady_clock::now() - last_sent < kExportKeepAlive ? Status::OK()
                                                                                  : send_chunk();
          });
      if (exported.ok() && !chunk.empty() && !send(chunk)) {
        exported = Status::Unavailable("the exporting process is gone");
      }
      reply.status = exported;
      return reply;
    }
    case PeerOp::kFacts: {
      auto facts = local_.Facts();
      if (!facts.ok()) {
        reply.status = facts.status();
      } else {
        reply.records.push_back(AvatarRecord{Uuid(), wire::EncodeFacts(facts.value()), ""});
      }
      return reply;
    }
    default: break;
  }
  auto records = local_.Answer(request);
  if (records.ok()) {
    reply.records = std::move(records).value();
  } else {
    reply.status = records.status();
  }
  // Only an owner that marks the shared counter lets peers remember answers.
  reply.cacheable = writes_.get() != nullptr;
  if (options_.hand_over_when_idle) MaybeHandOver();
  return reply;
}

void Router::MaybeHandOver() {
  ++peer_answers_in_a_row_;
  if (!StillIdle() || operations_in_flight_.load() > 0) return;
  std::lock_guard<std::mutex> lock(hand_over_mutex_);
  if (stopping_ || handing_over_) return;
  if (hand_over_.joinable()) hand_over_.join();  // the last one, finished
  handing_over_ = true;
  try {
    hand_over_ = QuietThread([this] { HandOver(); });
  } catch (const std::system_error&) {  // the host's thread limit: keep the database
    handing_over_ = false;
  }
}

bool Router::StillIdle() const {
  return peer_answers_in_a_row_.load() >= kHandOverAfterAnswers &&
         NowMs() - last_own_work_ms_.load() >= std::chrono::milliseconds(kHandOverAfter).count();
}

void Router::HandOver() {
  const uint64_t answered = peer_answers_in_a_row_.load();
  bool released = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    bool closing = false;
    if (owns_database() && server_ && StillIdle() && local_.Releasable()) {
      std::lock_guard<std::mutex> operations(operations_mutex_);
      closing = closing_for_hand_over_ = operations_in_flight_.load() == 0;
    }
    if (closing) {
      // The peers first: a peer whose connection closes takes the database
      // (waiting for its lock) or finds the process that did.
      server_.reset();
      server_running_ = false;
      released = local_.Release();
      if (!released) {
        if (Status started = StartPeerServer(); !started.ok()) {
          log::Warning("database '" + options_.path + "': other processes cannot share it yet: " +
                       started.message());
        }
      }
      std::lock_guard<std::mutex> operations(operations_mutex_);
      closing_for_hand_over_ = false;
    }
  }
  if (released) {
    log::Notice("database '" + options_.path + "': handed to the processes the web server sends " +
                "requests to (this one answered only them, " + std::to_string(answered) +
                " lookups in a row)");
  }
  peer_answers_in_a_row_ = 0;
  last_own_work_ms_ = NowMs();
  std::lock_guard<std::mutex> lock(hand_over_mutex_);
  handing_over_ = false;
}

Result<std::string> Router::SwapIn(const std::string& new_dir, bool refresh) {
  if (Status s = Open(); !s.ok()) return s;
  if (owns_database()) return local_.SwapIn(new_dir, refresh);
  PeerRequest request;
  request.op = PeerOp::kSwapIn;
  request.name = new_dir;
  request.grid = refresh ? "refresh" : "replace";
  std::lock_guard<std::mutex> lock(mutex_);
  if (Status able = OwnerSpeaksVersion2("cannot swap a database in: try again once it has exited"); !able.ok()) {
    return able;
  }
  auto reply = peer_->Call(request, kOperationTimeoutMs);
  if (!reply.ok()) {
    peer_.reset();
    peer_open_ = false;
    return reply.status();
  }
  if (!reply->status.ok()) return reply->status;
  return reply->records.empty() ? std::string() : reply->records.front().name;
}

Status Router::OwnerSpeaksVersion2(const std::string& what_it_cannot) const {
  if (peer_ && peer_->version() >= 2) return Status::OK();
  return Status::Unavailable("the process serving the database (version " +
                             std::string(peer_ ? peer_->owner_version() : "?") + ") " + what_it_cannot);
}

Status Router::Export(const ExportVisitor& visit) {
  if (Status s = Open(); !s.ok()) return s;
  if (owns_database()) return local_.Export(visit);
  PeerRequest request;
  request.op = PeerOp::kExport;
  std::lock_guard<std::mutex> lock(mutex_);
  if (Status able = OwnerSpeaksVersion2("cannot export it: try again once it has exited"); !able.ok()) {
    return able;
  }
  // A failure in visit (writing the file) leaves the stream half read: this
  // connection is not used again either way.
  auto reply = peer_->Stream(request, kExportChunkTimeoutMs, visit);
  peer_.reset();
  peer_open_ = false;
  if (!reply.ok()) return reply.status();
  return reply->status;
}

Result<DatabaseFacts> Router::Facts() {
  // The owner may have exited since this peer last asked (mod_fcgid's idle
  // timeout): a second try finds the next one, or makes this process it.
  for (int attempt = 0;; ++attempt) {
    if (Status s = Open(); !s.ok()) return s;
    if (owns_database()) {
      auto facts = local_.Facts();
      if (facts.ok()) facts.value().served_by = kVersion;
      return facts;
    }
    PeerRequest request;
    request.op = PeerOp::kFacts;
    std::lock_guard<std::mutex> lock(mutex_);
    if (Status able = OwnerSpeaksVersion2("cannot count it: ask again once it has exited"); !able.ok()) {
      return able;
    }
    auto reply = peer_->Call(request);
    if (!reply.ok()) {
      peer_.reset();
      peer_open_ = false;
      if (attempt == 0) continue;
      return reply.status();
    }
    if (!reply->status.ok()) return reply->status;
    DatabaseFacts facts;
    if (reply->records.size() != 1 || !wire::DecodeFacts(reply->records.front().name, facts)) {
      return Status::Corruption("the process serving the database sent counts that do not decode");
    }
    facts.served_by = peer_->owner_version();
    return facts;
  }
}

void Router::RetryPeerServer() {
  const int64_t now_ms = NowMs();
  int64_t last = last_server_attempt_ms_.load();
  if (now_ms - last < 1000 || !last_server_attempt_ms_.compare_exchange_strong(last, now_ms)) {
    return;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  if (server_ || !owns_database()) return;
  if (StartPeerServer().ok()) log::Notice("database '" + options_.path + "': now shared again");
}

Status Router::Open() {
  if (is_open()) return Status::OK();
  std::lock_guard<std::mutex> lock(mutex_);
  if (is_open()) return Status::OK();

  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.wait_ms);
  for (int pause_ms = 1;; pause_ms = std::min(pause_ms * 2, 50)) {
    bool lock_held_elsewhere = false;
    Status status = local_.Open(lock_held_elsewhere);
    if (status.ok()) {
      last_own_work_ms_ = NowMs();
      peer_answers_in_a_row_ = 0;
      // The owner answers the other processes of this database (its server
      // lives on when the database was closed after a write fault).
      if (server_) return Status::OK();
      // Which version serves, for the log's reader (an upgrade runs two).
      log::Notice("gosl-basics " + std::string(kVersion) + " holds database '" + options_.path +
                  "' and answers the other processes");
      if (Status started = StartPeerServer(); !started.ok()) {
        log::Warning("database '" + options_.path + "': other processes cannot share it yet: " +
                     started.message());
      }
      return Status::OK();
    }
    if (!lock_held_elsewhere) return status;
    if (server_) {
      // This process closed the database after a write fault and another
      // took it meanwhile: free the address for the new owner, or this
      // process would connect to its own server.
      server_.reset();
      server_running_ = false;
      continue;
    }
    // The directory found at the path: the owner must hold this one.
    const auto identity = private_files::IdentityOf(options_.path);
    auto peer = identity.ok() ? PeerClient::Connect(options_.path,
                                                    {identity->device, identity->inode},
                                                    std::max(options_.wait_ms, 100))
                              : Result<std::unique_ptr<PeerClient>>(identity.status());
    if (peer.ok()) {
      peer_ = std::move(peer).value();
      log::Info("gosl-basics " + std::string(kVersion) + " forwards to the process holding database '" +
                options_.path + "' (gosl-basics " + peer_->owner_version() + ")");
      writes_.OpenOnce();  // before the process is seen as a peer
      peer_open_ = true;
      return Status::OK();
    }
    // The owner is starting or handing over: its socket or its lock is
    // about to appear or go. Try again for a bounded time.
    if (std::chrono::steady_clock::now() >= deadline) return status;
    std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms));
  }
}

Status Router::RequireOwnership() {
  if (Status s = Open(); !s.ok()) return s;
  if (owns_database()) return Status::OK();
  return Status::Unavailable("database '" + options_.path + "' is in use by another process");
}

Result<std::vector<AvatarRecord>> Router::Route(const PeerRequest& request) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.wait_ms);
  for (;;) {
    if (Status s = Open(); !s.ok()) return s;
    if (owns_database()) {
      if (!server_running_.load()) RetryPeerServer();
      if (options_.hand_over_when_idle) {
        peer_answers_in_a_row_ = 0;
        last_own_work_ms_ = NowMs();
      }
      auto answer = local_.Answer(request);
      // Handed over meanwhile (HandOver): ask the process that took it.
      if (!answer.ok() && answer.status().code() == Code::kUnavailable && local_.released() &&
          std::chrono::steady_clock::now() < deadline) {
        continue;
      }
      return answer;
    }
    WriteCounter* counter = request.op != PeerOp::kRecord ? writes_.get() : nullptr;
    const std::optional<uint64_t> mark = counter ? counter->Load() : std::nullopt;
    const std::string question = mark ? CacheQuestion(request) : std::string();
    const uint64_t writes = mark.value_or(0);
    std::vector<AvatarRecord> cached;
    if (mark && answers_.Find(question, writes, cached)) {
      if (cached.empty()) return Status::NotFound("");
      return cached;
    }
    bool owner_lost = false, cacheable = false;
    auto records = Forward(request, owner_lost, cacheable);
    if (mark && cacheable && (records.ok() || records.status().IsNotFound())) {
      answers_.Store(question, writes, records.ok() ? records.value() : std::vector<AvatarRecord>());
    }
    // The owner went away (exited, killed, or dying while we reconnected):
    // take its place, or find the process that did.
    if (!owner_lost || std::chrono::steady_clock::now() >= deadline) return records;
  }
}

Result<std::vector<AvatarRecord>> Router::Forward(const PeerRequest& request, bool& owner_lost,
                                                  bool& cacheable) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!peer_) {
    owner_lost = true;
    return Status::Unavailable("not connected to the database's owner");
  }
  // 0.2.0's owner knows no batch: one question after another.
  if (IsBatchLookup(request.op) && peer_->version() == wire::kVersion1) {
    return ForwardOneByOne(request, owner_lost);
  }
  auto reply = peer_->Call(request);
  if (!reply.ok()) {
    return LosePeer(reply.status(), owner_lost);
  }
  cacheable = reply->cacheable;
  if (!reply->status.ok()) return reply->status;
  return std::move(reply->records);
}

Status Router::LosePeer(Status why, bool& owner_lost) {
  peer_.reset();
  peer_open_ = false;
  owner_lost = true;
  return why;
}

Result<std::vector<AvatarRecord>> Router::ForwardOneByOne(const PeerRequest& batch, bool& owner_lost) {
  std::vector<PeerRequest> singles;
  if (batch.op == PeerOp::kFindManyByName) {
    std::vector<PeerNameQuery> queries;
    if (!DecodeNameQueries(batch.name, queries)) return Status::InvalidArgument("malformed batch of names");
    for (const PeerNameQuery& query : queries) {
      PeerRequest single;
      single.op = PeerOp::kFindByName;
      single.name = query.name;
      single.grid = query.grid;
      single.only_grid = query.only_grid;
      singles.push_back(std::move(single));
    }
  } else {
    std::vector<Uuid> keys;
    if (!DecodeKeyQueries(batch.name, keys)) return Status::InvalidArgument("malformed batch of keys");
    for (const Uuid& key : keys) {
      PeerRequest single;
      single.op = PeerOp::kFindByKey;
      single.key = key;
      singles.push_back(std::move(single));
    }
  }
  std::vector<AvatarRecord> answers;
  for (const PeerRequest& single : singles) {
    auto reply = peer_->Call(single);
    if (!reply.ok()) {
      return LosePeer(reply.status(), owner_lost);
    }
    if (reply->status.ok() && !reply->records.empty()) {
      answers.push_back(std::move(reply->records.front()));
    } else if (reply->status.ok() || reply->status.IsNotFound()) {
      AvatarRecord unknown;
      if (single.op == PeerOp::kFindByKey) unknown.key = single.key;
      answers.push_back(std::move(unknown));
    } else {
      return reply->status;
    }
  }
  return answers;
}

}  // namespace gosl
