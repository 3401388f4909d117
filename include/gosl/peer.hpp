// How several processes share one database. LevelDB lets one process open a
// directory; mod_fcgid runs several processes of the application. The process
// holding LevelDB's lock (the owner) answers the others' lookups and
// registrations over a local socket; the others (peers) forward them. When
// the owner exits, the lock is free and the next process to open becomes the
// owner. This module is only the wire: Store decides who is what.
#pragma once

#include <functional>
#include <memory>
#include <string>
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
};

struct PeerRequest {
  PeerOp op = PeerOp::kFindByName;
  std::string name;        // by name, record: the name as given (display form)
  Uuid key;                // by key, record
  std::string grid;        // record: its grid; by name: the caller's grid, or the only one
  bool only_grid = false;  // by name: look in `grid` only (no fallback)
};

struct PeerReply {
  Status status;                       // OK, kNotFound, or the owner's failure
  std::vector<AvatarRecord> records;   // when OK: one, or every grid's (kFindInAllGrids)
  // The owner bumps the shared write counter on every write, so the peer may
  // remember this answer until the counter moves. False: never remember it.
  bool cacheable = false;
};

// The socket address of the owner of the database at db_path: a Linux
// abstract socket (no file to go stale, no path-length limit) named after the
// database's canonical path.
std::string PeerAddress(const std::string& db_path);

// The owner's side: accepts peers of the same user id (SO_PEERCRED; other
// users of a shared host are refused) and answers each request with handler,
// one thread per peer connection. Destroying it stops accepting, closes every
// connection and joins the threads.
class PeerServer {
 public:
  using Handler = std::function<PeerReply(const PeerRequest&)>;
  // Returns kUnavailable when the address is taken (another owner is
  // alive), kIOError when the socket cannot be made.
  static Result<std::unique_ptr<PeerServer>> Start(const std::string& address, Handler handler);
  ~PeerServer();
  PeerServer(const PeerServer&) = delete;
  PeerServer& operator=(const PeerServer&) = delete;

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
  // Returns kUnavailable when no owner of our user id listens at address
  // (connecting, sending and receiving each wait at most timeout_ms).
  static Result<std::unique_ptr<PeerClient>> Connect(const std::string& address, int timeout_ms);
  ~PeerClient();
  PeerClient(const PeerClient&) = delete;
  PeerClient& operator=(const PeerClient&) = delete;

  // Sends request and waits for the reply. Returns kUnavailable when the
  // connection broke or the owner did not answer within the timeout; the
  // client is then unusable.
  Result<PeerReply> Call(const PeerRequest& request);

 private:
  PeerClient(int fd, int timeout_ms) : fd_(fd), timeout_ms_(timeout_ms) {}
  int fd_;
  int timeout_ms_;
};

}  // namespace gosl
