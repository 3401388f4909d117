// A peer's recent answers (found and not found). Forwarding a lookup to the
// owner costs a socket round trip; an answer is remembered while the
// database's write counter (write_counter.hpp) has not moved since it was
// computed, so a registration is still seen everywhere at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "gosl/avatar_record.hpp"
#include "gosl/peer.hpp"

namespace gosl {

// What identifies a lookup in the cache: everything its answer depends on,
// and nothing else (a Hypergrid name's host is in the request's grid, so
// spellings of one name are one question).
std::string CacheQuestion(const PeerRequest& request);

// Thread-safe. Bounded by count and by bytes (an all-grids answer can hold
// 100 records): emptied when either would be passed.
class AnswerCache {
 public:
  static constexpr size_t kMaxAnswers = 4096;
  static constexpr size_t kMaxBytes = 2 << 20;  // within a serving process's 32 MB

  // The answer stored for question while the counter read `writes`; false
  // when there is none or the counter moved (which empties the cache).
  bool Find(const std::string& question, uint64_t writes, std::vector<AvatarRecord>& out);
  // Stores an answer computed after the counter read `writes`; dropped when
  // the counter has moved since.
  void Store(const std::string& question, uint64_t writes, std::vector<AvatarRecord> answer);

  size_t size();
  size_t bytes();

 private:
  void Clear();  // Requires: mutex_ held.

  std::mutex mutex_;
  // Guarded by mutex_.
  uint64_t writes_ = 0;
  std::unordered_map<std::string, std::vector<AvatarRecord>> answers_;
  size_t bytes_ = 0;  // what answers_ holds, estimated from its strings
};

}  // namespace gosl
