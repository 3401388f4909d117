#include "traffic.hpp"

#include "keys.hpp"

namespace gosl::test {

Traffic::Traffic(Send send, std::vector<std::pair<std::string, std::string>> stable,
                 uint32_t first_group, int threads)
    : send_(std::move(send)), stable_(std::move(stable)), first_group_(first_group) {
  for (int t = 0; t < threads; ++t) threads_.emplace_back(&Traffic::Run, this, t);
}

Traffic::~Traffic() { Stop(); }

void Traffic::Stop() {
  stop_ = true;
  for (std::thread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

void Traffic::Fail(const std::string& what) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (errors_.size() < 10) errors_.push_back(what);
  ++error_count_;
}

void Traffic::Run(int thread) {
  int turn = thread;
  for (int i = 0; !stop_; ++i) {
    const std::string key = TestKey(i, first_group_ + static_cast<uint32_t>(thread));
    const std::string name = "Live" + std::to_string(thread) + "x" + std::to_string(i);
    try {
      HttpReply added = send_("name=" + name + "+Resident&key=" + key, turn++);
      ++requests_;
      if (added.status != 200) {
        Fail("register " + name + ": " + std::to_string(added.status) + " " + added.body);
        continue;
      }
      {
        std::lock_guard<std::mutex> lock(mutex_);
        acknowledged_.emplace_back(name + " Resident", key);
      }
      HttpReply by_key = send_("key=" + key, turn++);
      ++requests_;
      if (by_key.status != 200 || by_key.body != name + " Resident") {
        Fail("key=" + key + " after its registration: " + std::to_string(by_key.status) + " '" +
             by_key.body + "'");
      }
      for (const auto& [query, answer] : stable_) {
        HttpReply reply = send_(query, turn++);
        ++requests_;
        if (reply.status != 200 || reply.body != answer) {
          Fail(query + ": " + std::to_string(reply.status) + " '" + reply.body + "'");
        }
      }
    } catch (const std::exception& e) {  // a timeout or a dropped connection
      Fail(std::string("exception: ") + e.what());
    }
  }
}

std::vector<std::pair<std::string, std::string>> Traffic::Acknowledged() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return acknowledged_;
}

size_t Traffic::error_count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return error_count_;
}

std::string Traffic::Errors() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string text;
  for (const std::string& error : errors_) text += error + "\n";
  return text;
}

}  // namespace gosl::test
