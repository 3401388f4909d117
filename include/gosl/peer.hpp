// How several processes share one database. LevelDB lets one process open a
// directory; mod_fcgid runs several processes of the application. The process
// holding the database (the owner) answers the others' lookups and
// registrations over a local socket; the others (peers) forward them. When
// the owner exits, the next process to open becomes the owner. This module
// is the sockets and the handshake; Store decides who is what.
//
// The owner listens on a socket file beside the database ("<db>.peer",
// owner-only, in the site's directory, which other users cannot write), so
// no other user can connect or take the name first. Each connection opens
// with a hello in which the peer names the directory it found at the path
// (device and inode) and the owner the one it serves, having first taken
// over a directory swapped in; so a peer never talks to the owner of another
// directory. Processes of version 0.2.0, which knew only an abstract socket
// name, are answered there too.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gosl/avatar_record.hpp"
#include "gosl/status.hpp"
#include "gosl/uuid.hpp"

namespace gosl {

enum class PeerOp : uint8_t {
  kFindByName = 'N',
  kFindByKey = 'K',
  kRecord = 'R',
  kFindInAllGrids = 'A',
  // Version 2 only: the operator's operations, done by the process serving
  // the path (docs/database.md).
  kSwapIn = 'S',  // name: a database directory to serve instead; grid: "replace" or "refresh"
  kExport = 'X',  // the records of an export, streamed (export chunks, then the reply)
  // Version 2 only: many lookups in one round trip (names=, keys=). name:
  // one question a line (EncodeNameQueries, or a UUID a line); the reply
  // has one record a line, in order, with an empty name where none is known.
  kFindManyByName = 'M',
  kFindManyByKey = 'L',
  // Version 2, from 0.3.0: the counts --status shows (EncodeFacts, as the
  // name of the reply's one record).
  kFacts = 'C',
};

// One question of a kFindManyByName request.
struct PeerNameQuery {
  std::string name;        // display form
  std::string grid;        // the caller's grid, or the only one
  bool only_grid = false;
};
// "<0|1><grid>\t<name>" a line (grids and names hold no control character).
std::string EncodeNameQueries(const std::vector<PeerNameQuery>& queries);
// False when text is not such lines.
bool DecodeNameQueries(std::string_view text, std::vector<PeerNameQuery>& queries);
// A kFindManyByKey request's name: a UUID a line. False when text is not such lines.
std::string EncodeKeyQueries(const std::vector<Uuid>& keys);
bool DecodeKeyQueries(std::string_view text, std::vector<Uuid>& keys);
inline constexpr size_t kMaxBatchQuestions = 50;  // as names= and keys= allow
inline bool IsBatchLookup(PeerOp op) {
  return op == PeerOp::kFindManyByName || op == PeerOp::kFindManyByKey;
}

struct PeerRequest {
  PeerOp op = PeerOp::kFindByName;
  std::string name;        // by name, record: the name as given (display form); swap-in: a path
  Uuid key;                // by key, record
  std::string grid;        // record: its grid; by name: the caller's grid, or the only one
  bool only_grid = false;  // by name: look in `grid` only (no fallback)
};

struct PeerReply {
  Status status;                       // OK, kNotFound, or the owner's failure
  // When OK: one, or every grid's (kFindInAllGrids); a swap-in's summary as
  // the name of the one record.
  std::vector<AvatarRecord> records;
  // The owner bumps the shared write counter on every write, so the peer may
  // remember this answer until the counter moves. False: never remember it.
  bool cacheable = false;
};

// A database directory, whatever its path is now.
struct DatabaseIdentity {
  uint64_t device = 0;
  uint64_t inode = 0;
  bool operator==(const DatabaseIdentity& o) const { return device == o.device && inode == o.inode; }
  bool operator!=(const DatabaseIdentity& o) const { return !(*this == o); }
};

// What a peer says first, and what the owner answers.
struct PeerHello {
  uint64_t device = 0, inode = 0;  // the directory the peer found at the path
  std::string version;             // the peer's program version
};
struct PeerHelloReply {
  Status status;                   // OK, or why the owner will not answer this peer
  uint64_t device = 0, inode = 0;  // the directory the owner holds
  std::string version;             // the owner's program version
};

// The abstract socket name gosl-basics 0.2.0 listened on (a hash of the
// database's canonical path). Anyone can bind an abstract name: only 0.2.0
// peers are answered there.
std::string LegacyPeerAddress(const std::string& db_path);

// The owner's side: accepts processes of the same user id (SO_PEERCRED),
// checks each one's hello, and answers its requests with handler, one thread
// per connection. Destroying it stops accepting, closes every connection,
// joins the threads and removes its socket file.
class PeerServer {
 public:
  // Answers one request. A streamed answer (an export) sends its chunks
  // through send_chunk (false: the peer is gone) before returning the reply.
  using ChunkSender = std::function<bool(const std::vector<ExportEntry>& chunk)>;
  using Handler = std::function<PeerReply(const PeerRequest&, const ChunkSender& send_chunk)>;
  struct Options {
    std::string db_path;
    // The directory served; with follow, after looking whether the path
    // holds another one now (and taking that one over).
    std::function<DatabaseIdentity(bool follow)> served;
    size_t max_connections = 256;  // more are closed at once: each holds a thread
    int frame_timeout_ms = 2000;   // a frame begun must be whole within this
    bool legacy_listener = true;   // also answer 0.2.0 peers on their abstract name
  };
  // Returns kIOError when the socket cannot be made.
  static Result<std::unique_ptr<PeerServer>> Start(const Options& options, Handler handler);
  ~PeerServer();
  PeerServer(const PeerServer&) = delete;
  PeerServer& operator=(const PeerServer&) = delete;

  // Peers connected now.
  size_t connections() const;

  struct Impl;

 private:
  explicit PeerServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// A peer's side: one connection to the owner, whose user id must be ours
// (SO_PEERCRED: another user cannot pose as the owner). Not thread-safe: one
// call at a time.
class PeerClient {
 public:
  // Connects to the owner of the database at db_path that holds the
  // directory `identity` (what this process found at db_path): through the
  // socket in the directory, or, when the process holding that directory's
  // lock is a 0.2.0 one, its abstract name. Returns kUnavailable when no
  // such owner answers (connecting, sending and receiving each wait at most
  // timeout_ms), naming an owner that holds another directory.
  static Result<std::unique_ptr<PeerClient>> Connect(const std::string& db_path,
                                                     const DatabaseIdentity& identity,
                                                     int timeout_ms);
  ~PeerClient();
  PeerClient(const PeerClient&) = delete;
  PeerClient& operator=(const PeerClient&) = delete;

  // Sends request and waits for the reply. Returns kUnavailable when the
  // connection broke or the owner did not answer within the timeout (or
  // within timeout_ms, for an operation that takes long); the client is then
  // unusable.
  Result<PeerReply> Call(const PeerRequest& request);
  Result<PeerReply> Call(const PeerRequest& request, int timeout_ms);
  // Sends a streamed request (an export) and hands each entry of each chunk
  // to receive, then returns the final reply; each chunk within timeout_ms.
  Result<PeerReply> Stream(const PeerRequest& request, int timeout_ms,
                           const std::function<Status(const ExportEntry&)>& receive);
  // The peer protocol spoken (1 with a 0.2.0 owner, 2 otherwise) and the
  // owner's program version ("0.2.0" for 1).
  int version() const { return version_; }
  const std::string& owner_version() const { return owner_version_; }

 private:
  PeerClient(int fd, int timeout_ms, int version, std::string owner_version)
      : fd_(fd), timeout_ms_(timeout_ms), version_(version), owner_version_(std::move(owner_version)) {}
  int fd_;
  int timeout_ms_;
  int version_;
  std::string owner_version_;
};

}  // namespace gosl
