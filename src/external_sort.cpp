#include "gosl/external_sort.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <queue>

#include "util/posix_io.hpp"

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

// The first 8 bytes of a key, big-endian (zeros past its end): comparing
// two of these orders most keys without a memcmp. Equal prefixes say
// nothing; the keys are compared then.
uint64_t PrefixOf(std::string_view key) {
  uint64_t prefix = 0;
  for (size_t i = 0; i < 8; ++i) prefix = prefix << 8 | (i < key.size() ? static_cast<uint8_t>(key[i]) : 0);
  return prefix;
}

// A run file read through a buffer of its own, with read(2): each entry's
// key and value are views into the buffer, valid until the next Next().
class RunReader {
 public:
  RunReader(std::string path, size_t buffer_bytes)
      : path_(std::move(path)), buffer_(std::max(buffer_bytes, kHeaderBytes)) {}
  ~RunReader() {
    if (fd_ >= 0) ::close(fd_);
  }
  RunReader(const RunReader&) = delete;
  RunReader& operator=(const RunReader&) = delete;

  Status Open() {
    fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat info {};
    if (fd_ < 0 || ::fstat(fd_, &info) != 0) return FileError("cannot read run file", path_);
    unread_bytes_ = static_cast<uint64_t>(info.st_size);
    return Next();
  }

  // Reads the next entry; valid() is false at the end.
  Status Next() {
    pos_ += entry_bytes_;  // past the entry handed out last
    entry_bytes_ = 0;
    valid_ = false;
    if (!Buffer(kHeaderBytes)) {
      if (failed_) return FileError("cannot read run file", path_);
      return pos_ == end_ ? Status::OK() : Truncated();
    }
    uint32_t lengths[2];
    std::memcpy(lengths, buffer_.data() + pos_, kHeaderBytes);
    const size_t bytes = kHeaderBytes + size_t{lengths[0]} + lengths[1];
    if (!Buffer(bytes)) return failed_ ? FileError("cannot read run file", path_) : Truncated();
    const char* entry = buffer_.data() + pos_;
    key_ = std::string_view(entry + kHeaderBytes, lengths[0]);
    value_ = std::string_view(entry + kHeaderBytes + lengths[0], lengths[1]);
    prefix_ = PrefixOf(key_);
    entry_bytes_ = bytes;
    valid_ = true;
    return Status::OK();
  }

  bool valid() const { return valid_; }
  std::string_view key() const { return key_; }
  std::string_view value() const { return value_; }
  uint64_t prefix() const { return prefix_; }

 private:
  // At least n bytes buffered from pos_: moves what is left to the front and
  // reads more (the buffer grows for an entry larger than it). False at the
  // end of the file first, or on a read error (failed_).
  bool Buffer(size_t n) {
    // A damaged length larger than what the file still holds is truncation,
    // found before the buffer grows to it.
    if (end_ - pos_ < n && n - (end_ - pos_) > unread_bytes_) return false;
    while (end_ - pos_ < n) {
      if (eof_) return false;
      std::memmove(buffer_.data(), buffer_.data() + pos_, end_ - pos_);
      end_ -= pos_;
      pos_ = 0;
      if (buffer_.size() < n) buffer_.resize(n);
      const ssize_t got = posix::ReadSome(fd_, buffer_.data() + end_, buffer_.size() - end_);
      if (got < 0) {
        failed_ = true;
        return false;
      }
      eof_ = got == 0;
      end_ += static_cast<size_t>(got);
      unread_bytes_ -= std::min<uint64_t>(unread_bytes_, static_cast<uint64_t>(got));
    }
    return true;
  }

  Status Truncated() const { return Status::Corruption("run file '" + path_ + "' is truncated"); }

  std::string path_;
  std::vector<char> buffer_;
  int fd_ = -1;
  size_t pos_ = 0, end_ = 0;  // buffered bytes: [pos_, end_)
  size_t entry_bytes_ = 0;    // of the entry at pos_, handed out
  uint64_t unread_bytes_ = 0;  // of the file, not read yet
  bool eof_ = false, failed_ = false, valid_ = false;
  std::string_view key_, value_;
  uint64_t prefix_ = 0;
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
  // Sorted by each key's first 8 bytes, held beside its offset so that most
  // comparisons touch neither the arena nor memcmp; then by the key; then by
  // offset, the order entries were added, so that of entries with one key
  // the last added is the one kept.
  sort_keys_.resize(offsets_.size());  // no spare capacity: runs are alike in size
  for (size_t i = 0; i < offsets_.size(); ++i) {
    sort_keys_[i] = {PrefixOf(KeyAt(arena_, offsets_[i])), offsets_[i]};
  }
  std::sort(sort_keys_.begin(), sort_keys_.end(), [this](const SortKey& a, const SortKey& b) {
    if (a.prefix != b.prefix) return a.prefix < b.prefix;
    const int order = KeyAt(arena_, a.offset).compare(KeyAt(arena_, b.offset));
    return order != 0 ? order < 0 : a.offset < b.offset;
  });
  for (size_t i = 0; i < offsets_.size(); ++i) offsets_[i] = sort_keys_[i].offset;
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
  std::vector<SortKey>().swap(sort_keys_);
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
    const RunReader& x = *readers[a];
    const RunReader& y = *readers[b];
    if (x.prefix() != y.prefix()) return x.prefix() > y.prefix();
    const int order = x.key().compare(y.key());
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

// An intermediate run, written in key order as its group's merge emits it,
// through a buffer of its own; closed when it goes.
class RunAppender {
 public:
  RunAppender(std::string path, size_t buffer_bytes) : path_(std::move(path)), buffer_(buffer_bytes) {}
  ~RunAppender() {
    if (file_) std::fclose(file_);
  }
  RunAppender(const RunAppender&) = delete;
  RunAppender& operator=(const RunAppender&) = delete;

  Status Open() {
    file_ = std::fopen(path_.c_str(), "wb");
    if (!file_) return FileError("cannot create run file", path_);
    std::setvbuf(file_, buffer_.data(), _IOFBF, buffer_.size());
    return Status::OK();
  }
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
  std::string path_;
  std::vector<char> buffer_;
  std::FILE* file_ = nullptr;
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
