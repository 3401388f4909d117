#include "store/answer_cache.hpp"

#include <algorithm>

#include "gosl/avatar_name.hpp"
#include "gosl/text.hpp"

namespace gosl {

std::string CacheQuestion(const PeerRequest& r) {
  std::string q(1, static_cast<char>(r.op));
  q += r.only_grid ? '1' : '0';
  if (r.op == PeerOp::kFindByKey) return q.append(r.key.bytes());
  // The lookup form, plus a Hypergrid name's host (which the lookup form drops).
  const size_t at = std::min(r.name.find('@'), r.name.size());
  q += LookupForm(r.name);
  q += '\0';
  q += AsciiLowered(std::string_view(r.name).substr(at));
  q += '\0';
  return q + r.grid;
}

bool AnswerCache::Find(const std::string& question, uint64_t writes,
                       std::vector<AvatarRecord>& out) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (writes != writes_) {
    answers_.clear();
    writes_ = writes;
    return false;
  }
  auto it = answers_.find(question);
  if (it == answers_.end()) return false;
  out = it->second;
  return true;
}

void AnswerCache::Store(const std::string& question, uint64_t writes,
                        std::vector<AvatarRecord> answer) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (writes != writes_) return;  // written since: the answer may be stale
  if (answers_.size() >= kMaxAnswers) answers_.clear();
  answers_.emplace(question, std::move(answer));
}

size_t AnswerCache::size() {
  std::lock_guard<std::mutex> lock(mutex_);
  return answers_.size();
}

}  // namespace gosl
