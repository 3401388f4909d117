#include "gosl/external_sort.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <queue>

namespace gosl {
namespace {

// An entry in a run (memory or file): two native-endian 32-bit lengths, then
// the key and the value. Run files live only as long as one import on one
// machine, so no portable encoding is needed.
constexpr size_t kHeaderBytes = 8;

void PutHeader(std::string& out, uint32_t key_length, uint32_t value_length) {
  char header[kHeaderBytes];
  std::memcpy(header, &key_length, 4);
  std::memcpy(header + 4, &value_length, 4);
  out.append(header, kHeaderBytes);
}

std::string_view KeyAt(const std::string& arena, uint32_t offset) {
  uint32_t key_length;
  std::memcpy(&key_length, arena.data() + offset, 4);
  return {arena.data() + offset + kHeaderBytes, key_length};
}

size_t EntryBytesAt(const std::string& arena, uint32_t offset) {
  uint32_t lengths[2];
  std::memcpy(lengths, arena.data() + offset, kHeaderBytes);
  return kHeaderBytes + lengths[0] + lengths[1];
}

Status FileError(const std::string& what, const std::string& path) {
  return Status::IOError(what + " '" + path + "': " + std::strerror(errno));
}

// A run file read or written through a buffer of its own, closed when it goes.
class BufferedRunFile {
 public:
  BufferedRunFile(std::string path, size_t buffer_bytes)
      : path_(std::move(path)), buffer_(buffer_bytes) {}
  ~BufferedRunFile() {
    if (file_) std::fclose(file_);
  }
  BufferedRunFile(const BufferedRunFile&) = delete;
  BufferedRunFile& operator=(const BufferedRunFile&) = delete;

 protected:
  Status OpenAs(const char* mode, const char* failure) {
    file_ = std::fopen(path_.c_str(), mode);
    if (!file_) return FileError(failure, path_);
    std::setvbuf(file_, buffer_.data(), _IOFBF, buffer_.size());
    return Status::OK();
  }

  std::string path_;
  std::vector<char> buffer_;
  std::FILE* file_ = nullptr;
};

class RunReader : BufferedRunFile {
 public:
  using BufferedRunFile::BufferedRunFile;

  Status Open() {
    if (Status s = OpenAs("rb", "cannot read run file"); !s.ok()) return s;
    return Next();
  }

  // Reads the next entry; valid() is false at the end.
  Status Next() {
    uint32_t lengths[2];
    size_t got = std::fread(lengths, 1, kHeaderBytes, file_);
    if (got == 0 && std::feof(file_)) {
      valid_ = false;
      return Status::OK();
    }
    if (got != kHeaderBytes) return Truncated();
    key_.resize(lengths[0]);
    value_.resize(lengths[1]);
    if (std::fread(key_.data(), 1, key_.size(), file_) != key_.size() ||
        std::fread(value_.data(), 1, value_.size(), file_) != value_.size()) {
      return Truncated();
    }
    valid_ = true;
    return Status::OK();
  }

  bool valid() const { return valid_; }
  const std::string& key() const { return key_; }
  const std::string& value() const { return value_; }

 private:
  Status Truncated() {
    if (std::ferror(file_)) return FileError("cannot read run file", path_);
    return Status::Corruption("run file '" + path_ + "' is truncated");
  }

  std::string key_, value_;
  bool valid_ = false;
};

}  // namespace

RunWriter::RunWriter(std::string dir, std::string prefix, size_t run_bytes)
    : dir_(std::move(dir)), prefix_(std::move(prefix)), run_bytes_(run_bytes) {
  arena_.reserve(run_bytes_);
}

RunWriter::~RunWriter() = default;

Status RunWriter::Add(std::string_view key, std::string_view value) {
  const size_t bytes = kHeaderBytes + key.size() + value.size();
  if (!offsets_.empty() &&
      arena_.size() + bytes + (offsets_.size() + 1) * sizeof(uint32_t) > run_bytes_) {
    if (Status s = Spill(); !s.ok()) return s;
  }
  offsets_.push_back(static_cast<uint32_t>(arena_.size()));
  PutHeader(arena_, static_cast<uint32_t>(key.size()), static_cast<uint32_t>(value.size()));
  arena_.append(key);
  arena_.append(value);
  ++entries_;
  return Status::OK();
}

Status RunWriter::Spill() {
  if (offsets_.empty()) return Status::OK();
  // Stable, so entries with one key stay in the order they were added and
  // the last of them is the one kept.
  std::stable_sort(offsets_.begin(), offsets_.end(), [this](uint32_t a, uint32_t b) {
    return KeyAt(arena_, a) < KeyAt(arena_, b);
  });
  std::string path = dir_ + "/" + prefix_ + "-" + std::to_string(files_.size()) + ".run";
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (!file) return FileError("cannot create run file", path);
  bool ok = true;
  for (size_t i = 0; i < offsets_.size() && ok; ++i) {
    if (i + 1 < offsets_.size() && KeyAt(arena_, offsets_[i]) == KeyAt(arena_, offsets_[i + 1])) {
      continue;  // a later entry with this key follows
    }
    const size_t bytes = EntryBytesAt(arena_, offsets_[i]);
    ok = std::fwrite(arena_.data() + offsets_[i], 1, bytes, file) == bytes;
  }
  ok = (std::fclose(file) == 0) && ok;
  if (!ok) return FileError("cannot write run file", path);
  files_.push_back(std::move(path));
  arena_.clear();
  offsets_.clear();
  return Status::OK();
}

Result<std::vector<std::string>> RunWriter::Finish() {
  if (Status s = Spill(); !s.ok()) return s;
  // The merge that follows needs this memory more than the writer does.
  std::string().swap(arena_);
  std::vector<uint32_t>().swap(offsets_);
  return files_;
}

namespace {

using Emit = std::function<Status(std::string_view key, std::string_view value)>;

// One merge of files that may all be open at once.
Status MergeGroup(const std::vector<std::string>& files, size_t read_buffer_bytes, const Emit& emit) {
  std::vector<std::unique_ptr<RunReader>> readers;
  for (const auto& file : files) {
    readers.push_back(std::make_unique<RunReader>(file, read_buffer_bytes));
    if (Status s = readers.back()->Open(); !s.ok()) return s;
  }
  // Smallest key on top; among equal keys the latest run, whose entry wins.
  auto after = [&readers](size_t a, size_t b) {
    int order = readers[a]->key().compare(readers[b]->key());
    return order != 0 ? order > 0 : a < b;
  };
  std::priority_queue<size_t, std::vector<size_t>, decltype(after)> heap(after);
  for (size_t i = 0; i < readers.size(); ++i) {
    if (readers[i]->valid()) heap.push(i);
  }
  std::vector<size_t> same_key;
  while (!heap.empty()) {
    const size_t winner = heap.top();
    heap.pop();
    same_key.assign(1, winner);
    while (!heap.empty() && readers[heap.top()]->key() == readers[winner]->key()) {
      same_key.push_back(heap.top());
      heap.pop();
    }
    if (Status s = emit(readers[winner]->key(), readers[winner]->value()); !s.ok()) return s;
    for (size_t i : same_key) {
      if (Status s = readers[i]->Next(); !s.ok()) return s;
      if (readers[i]->valid()) heap.push(i);
    }
  }
  return Status::OK();
}

// An intermediate run, written in key order as its group's merge emits it.
class RunAppender : BufferedRunFile {
 public:
  using BufferedRunFile::BufferedRunFile;

  Status Open() { return OpenAs("wb", "cannot create run file"); }
  Status Append(std::string_view key, std::string_view value) {
    header_.clear();
    PutHeader(header_, static_cast<uint32_t>(key.size()), static_cast<uint32_t>(value.size()));
    if (std::fwrite(header_.data(), 1, header_.size(), file_) != header_.size() ||
        std::fwrite(key.data(), 1, key.size(), file_) != key.size() ||
        std::fwrite(value.data(), 1, value.size(), file_) != value.size()) {
      return FileError("cannot write run file", path_);
    }
    return Status::OK();
  }
  Status Close() {
    if (!file_) return Status::OK();
    const bool ok = std::fclose(file_) == 0;
    file_ = nullptr;
    return ok ? Status::OK() : FileError("cannot write run file", path_);
  }

 private:
  std::string header_;
};

// "dir/k-7.run" merged in pass 2 -> "dir/k-7.p2.run": unique, since the
// first run of each group is.
std::string IntermediateName(const std::string& first, size_t pass) {
  const size_t name = first.rfind('/') + 1;  // npos + 1 == 0
  const size_t dot = first.find('.', name);
  return first.substr(0, dot) + ".p" + std::to_string(pass) + ".run";
}

void RemoveFiles(const std::vector<std::string>& files) {
  for (const std::string& file : files) std::remove(file.c_str());
}

// Consecutive runs in the fewest groups of at most max_open_runs, as even
// as possible.
std::vector<std::vector<std::string>> Groups(const std::vector<std::string>& runs,
                                             size_t max_open_runs) {
  const size_t count = (runs.size() + max_open_runs - 1) / max_open_runs;
  std::vector<std::vector<std::string>> groups(count);
  for (size_t i = 0, at = 0; i < count; ++i) {
    const size_t size = runs.size() / count + (i < runs.size() % count ? 1 : 0);
    groups[i].assign(runs.begin() + at, runs.begin() + at + size);
    at += size;
  }
  return groups;
}

}  // namespace

size_t MergePasses(size_t runs, size_t max_open_runs) {
  size_t passes = 1;
  for (; runs > max_open_runs && max_open_runs >= 2; ++passes) {
    runs = (runs + max_open_runs - 1) / max_open_runs;
  }
  return passes;
}

Status MergeRuns(const std::vector<std::string>& files, const MergeLimits& limits, const Emit& emit) {
  if (limits.max_open_runs < 2) {
    return Status::InvalidArgument("a merge needs at least 2 run files open at once, not " +
                                   std::to_string(limits.max_open_runs));
  }
  std::vector<std::string> runs = files;
  std::vector<std::string> intermediate;  // this call's, removed whatever happens
  Status status;
  for (size_t pass = 1; status.ok() && runs.size() > limits.max_open_runs; ++pass) {
    std::vector<std::string> next;
    for (const std::vector<std::string>& group : Groups(runs, limits.max_open_runs)) {
      if (group.size() == 1) {
        next.push_back(group.front());
        continue;
      }
      // Later groups hold later entries, so the merged run takes its group's
      // place and "the last added wins" still holds in the next pass.
      intermediate.push_back(IntermediateName(group.front(), pass));
      RunAppender out(intermediate.back(), limits.read_buffer_bytes);
      status = out.Open();
      if (status.ok()) {
        status = MergeGroup(group, limits.read_buffer_bytes,
                            [&out](std::string_view k, std::string_view v) { return out.Append(k, v); });
      }
      if (Status closed = out.Close(); status.ok()) status = closed;
      if (!status.ok()) break;
      RemoveFiles(group);  // the disk holds one copy of the entries, not two
      next.push_back(intermediate.back());
    }
    runs = std::move(next);
  }
  if (status.ok()) status = MergeGroup(runs, limits.read_buffer_bytes, emit);
  RemoveFiles(intermediate);
  return status;
}

}  // namespace gosl
