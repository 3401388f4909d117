#include "store/answer_cache.hpp"

#include "gosl/avatar_name.hpp"

namespace gosl {

namespace {

// What an entry costs: its strings and the map's node around them.
constexpr size_t kEntryOverheadBytes = 96;
constexpr size_t kRecordOverheadBytes = 2 * sizeof(std::string) + sizeof(Uuid);

size_t BytesOf(const std::string& question, const std::vector<AvatarRecord>& answer) {
  size_t bytes = kEntryOverheadBytes + question.capacity();
  for (const AvatarRecord& record : answer) {
    bytes += kRecordOverheadBytes + record.name.capacity() + record.grid.capacity();
  }
  return bytes;
}

}  // namespace

std::string CacheQuestion(const PeerRequest& r) {
  std::string q(1, static_cast<char>(r.op));
  q += r.only_grid ? '1' : '0';
  if (r.op == PeerOp::kFindByKey) return q.append(r.key.bytes());
  q += LookupForm(r.name);
  q += '\0';
  return q + r.grid;
}

bool AnswerCache::Find(const std::string& question, uint64_t writes,
                       std::vector<AvatarRecord>& out) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (writes != writes_) {
    Clear();
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
  const size_t bytes = BytesOf(question, answer);
  if (bytes > kMaxBytes) return;
  if (answers_.size() >= kMaxAnswers || bytes_ + bytes > kMaxBytes) Clear();
  if (answers_.emplace(question, std::move(answer)).second) bytes_ += bytes;
}

void AnswerCache::Clear() {
  answers_.clear();
  // A cleared map keeps its bucket array: give that back too.
  std::unordered_map<std::string, std::vector<AvatarRecord>>().swap(answers_);
  bytes_ = 0;
}

size_t AnswerCache::bytes() {
  std::lock_guard<std::mutex> lock(mutex_);
  return bytes_;
}

size_t AnswerCache::size() {
  std::lock_guard<std::mutex> lock(mutex_);
  return answers_.size();
}

}  // namespace gosl
