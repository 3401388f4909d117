// Registrations and lookups without pause while something happens to the
// service (a database swapped in, processes of two versions), each answer
// checked as it comes: a registration must be answered 200 and then be found
// both ways by the next request, and the stable lookups given must always
// answer as given. What a test asserts afterwards: no error, and every pair
// answered 200 still there.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "fcgi_client.hpp"

namespace gosl::test {

class Traffic {
 public:
  // Sends one request (a query string) through whichever process or server
  // `turn` picks.
  using Send = std::function<HttpReply(const std::string& query, int turn)>;
  // stable: (query, exact answer) pairs asked again and again. Keys are
  // made with TestKey(i, first_group + thread).
  Traffic(Send send, std::vector<std::pair<std::string, std::string>> stable, uint32_t first_group,
          int threads = 2);
  ~Traffic();
  Traffic(const Traffic&) = delete;
  Traffic& operator=(const Traffic&) = delete;

  void Stop();
  // (name, key) of every registration answered 200 so far.
  std::vector<std::pair<std::string, std::string>> Acknowledged() const;
  size_t requests() const { return requests_.load(); }
  size_t error_count() const;
  // The first few errors, one per line.
  std::string Errors() const;

 private:
  void Run(int thread);
  void Fail(const std::string& what);

  Send send_;
  std::vector<std::pair<std::string, std::string>> stable_;
  uint32_t first_group_;
  std::atomic<bool> stop_{false};
  std::atomic<size_t> requests_{0};
  mutable std::mutex mutex_;
  std::vector<std::pair<std::string, std::string>> acknowledged_;  // guarded by mutex_
  std::vector<std::string> errors_;                                // guarded by mutex_
  size_t error_count_ = 0;                                         // guarded by mutex_
  std::vector<std::thread> threads_;
};

}  // namespace gosl::test
