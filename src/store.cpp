#include "gosl/store.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <unordered_map>
#include <cerrno>
#include <cstring>
#include <functional>
#include <filesystem>

#include <leveldb/cache.h>
#include <leveldb/db.h>
#include <leveldb/env.h>
#include <leveldb/comparator.h>
#include <leveldb/filter_policy.h>
#include <leveldb/table_builder.h>
#include <leveldb/write_batch.h>

#include "gosl/logging.hpp"
#include "gosl/text.hpp"

namespace gosl {
namespace {

// Key layout (docs/storage.md). One byte of prefix per kind of entry:
//   'k' + 16-byte UUID            -> NameInfo + name text   (key -> newest name)
//   'n' + lookup form             -> 16-byte UUID + NameInfo (name -> key, main grid)
//   'n' + lookup + '\0' + grid    -> the same, for any other grid
//   'l' + lookup form             -> the grid that recorded the name last (not main)
//   'm' + "layout"                -> layout version
// Names never hold a NUL, so every lookup is a handful of point reads and a
// name's grids sit next to each other.
constexpr char kKeyPrefix = 'k';
constexpr char kNamePrefix = 'n';
const std::string kLayoutKey = "mlayout";
// 2: names per grid. A layout 1 database is read as it is (its 'n' entries
// may hold any grid's name) and marked 2 on open.
const std::string kLayoutVersion = "2";
const std::string kOldLayoutVersion = "1";
constexpr char kLatestPrefix = 'l';

// NameInfo is one flag byte, then the grid when it is not a common one:
//   bits 0-1  how the display form is stored: verbatim, or derived from the
//             lookup form (words capitalised, or as is)
//   bit 2     the display form ends in " Resident" (not part of the lookup form)
//   bits 3-4  grid: "", "Production", "Testing", or a length byte + bytes
// W-Hat's ten million "Firstname Resident" names from "Production" thus cost
// one byte beside their lookup form instead of a second copy of the name.
enum DisplayKind : uint8_t { kVerbatim = 0, kCapitalised = 1, kAsLookup = 2 };
constexpr uint8_t kDisplayMask = 0x03;
constexpr uint8_t kResidentFlag = 0x04;
constexpr int kGridShift = 3;
constexpr uint8_t kGridMask = 0x18;
enum GridCode : uint8_t { kGridNone = 0, kGridProduction = 1, kGridTesting = 2, kGridInline = 3 };
constexpr std::string_view kResidentSuffix = " Resident";
// The NameInfo of W-Hat's typical record ("Firstname Resident" from
// Production) is not stored at all: a name entry of just the 16 key bytes, or
// a key entry starting with a printable character (a flag byte is < 0x20),
// means this. It saves two bytes a record, 20 MB of 10 M records.
constexpr uint8_t kImpliedInfo = kCapitalised | kResidentFlag | kGridProduction << kGridShift;

std::string Capitalised(std::string_view lookup) {
  std::string out(lookup);
  bool word_start = true;
  for (char& c : out) {
    if (word_start && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    word_start = c == ' ';
  }
  return out;
}

std::string DeriveDisplay(uint8_t flags, std::string_view lookup) {
  std::string display =
      (flags & kDisplayMask) == kCapitalised ? Capitalised(lookup) : std::string(lookup);
  if (flags & kResidentFlag) display += kResidentSuffix;
  return display;
}

// Picks the cheapest display encoding that gives the display form back.
uint8_t DisplayFlags(const AvatarName& name) {
  for (uint8_t kind : {kCapitalised, kAsLookup}) {
    for (uint8_t resident : {uint8_t{0}, kResidentFlag}) {
      uint8_t flags = kind | resident;
      if (DeriveDisplay(flags, name.lookup()) == name.display()) return flags;
    }
  }
  return kVerbatim;
}

// Appends flag byte and grid; the grid is at most 64 bytes (parameters.cpp),
// longer ones are cut so the length fits its byte.
void AppendNameInfo(std::string& out, uint8_t display_flags, std::string_view grid) {
  uint8_t grid_code = grid.empty()             ? kGridNone
                      : grid == "Production"   ? kGridProduction
                      : grid == "Testing"      ? kGridTesting
                                               : kGridInline;
  out += static_cast<char>(display_flags | grid_code << kGridShift);
  if (grid_code == kGridInline) {
    grid = grid.substr(0, 255);
    out += static_cast<char>(grid.size());
    out.append(grid);
  }
}

// Reads NameInfo from the front of value; leaves value at what follows.
bool ParseNameInfo(std::string_view& value, uint8_t& display_flags, std::string& grid) {
  if (value.empty()) return false;
  auto flags = static_cast<uint8_t>(value[0]);
  value.remove_prefix(1);
  display_flags = flags & (kDisplayMask | kResidentFlag);
  if ((display_flags & kDisplayMask) == 3) return false;
  switch ((flags & kGridMask) >> kGridShift) {
    case kGridNone: grid.clear(); break;
    case kGridProduction: grid = "Production"; break;
    case kGridTesting: grid = "Testing"; break;
    default: {
      if (value.empty()) return false;
      size_t length = static_cast<uint8_t>(value[0]);
      if (value.size() < 1 + length) return false;
      grid.assign(value.substr(1, length));
      value.remove_prefix(1 + length);
    }
  }
  return true;
}

std::string NameKey(const std::string& lookup, std::string_view grid) {
  std::string key = kNamePrefix + lookup;
  if (grid != kMainGrid) {
    key += '\0';
    key.append(grid);
  }
  return key;
}

std::string KeyKey(const Uuid& key) {
  std::string k(1, kKeyPrefix);
  k.append(key.bytes());
  return k;
}

Status FromLevelDb(const leveldb::Status& s, const std::string& path) {
  if (s.ok()) return Status::OK();
  std::string text = s.ToString();
  if (s.IsNotFound()) return Status::NotFound(text);
  if (s.IsCorruption()) {
    return Status::Corruption("database '" + path + "' is damaged (stop the service and run " +
                              "gosl-basics.fcgi --repair): " + text);
  }
  if (text.find("/LOCK") != std::string::npos) {
    return Status::Unavailable("database '" + path + "' is in use by another process");
  }
  if (s.IsInvalidArgument() && text.find("does not exist") != std::string::npos) {
    return Status::Unavailable("no database at '" + path + "'");
  }
  return Status::IOError("database '" + path + "': " + text);
}

// value of 'n' + lookup -> the record.
Result<AvatarRecord> DecodeNameEntry(std::string_view lookup, std::string_view value) {
  AvatarRecord record;
  uint8_t display_flags = 0;
  if (value.size() < Uuid::kByteLength) {
    return Status::Corruption("short name entry for '" + Sanitized(lookup) + "'");
  }
  record.key = Uuid::FromBytes(value.substr(0, Uuid::kByteLength));
  value.remove_prefix(Uuid::kByteLength);
  if (value.empty()) {
    record.grid = "Production";
    record.name = DeriveDisplay(kImpliedInfo, lookup);
    return record;
  }
  if (!ParseNameInfo(value, display_flags, record.grid)) {
    return Status::Corruption("bad name entry for '" + Sanitized(lookup) + "'");
  }
  record.name = (display_flags & kDisplayMask) == kVerbatim ? std::string(value)
                                                           : DeriveDisplay(display_flags, lookup);
  return record;
}

// value of 'k' + key -> the record.
Result<AvatarRecord> DecodeKeyEntry(const Uuid& key, std::string_view value) {
  AvatarRecord record;
  record.key = key;
  if (!value.empty() && static_cast<uint8_t>(value[0]) >= 0x20) {
    record.grid = "Production";
    record.name = DeriveDisplay(kImpliedInfo, value);
    return record;
  }
  uint8_t display_flags = 0;
  if (!ParseNameInfo(value, display_flags, record.grid)) {
    return Status::Corruption("bad key entry for " + key.ToString());
  }
  record.name = (display_flags & kDisplayMask) == kVerbatim ? std::string(value)
                                                           : DeriveDisplay(display_flags, value);
  return record;
}

// Layout 1 kept one 'n' entry per name, of whatever grid recorded it last.
// Layout 2 keeps the main grid's there and every other grid's under its own
// key: move those, point 'l' at their grid, then mark the database. Answers
// stay the same throughout; it runs once, on the first open.
leveldb::Status MigrateFromLayout1(leveldb::DB* db) {
  std::unique_ptr<leveldb::Iterator> it(db->NewIterator(leveldb::ReadOptions()));
  leveldb::WriteBatch batch;
  size_t moved = 0;
  for (it->Seek(std::string(1, kNamePrefix)); it->Valid() && it->key()[0] == kNamePrefix; it->Next()) {
    std::string_view key(it->key().data(), it->key().size());
    std::string_view value(it->value().data(), it->value().size());
    if (key.find('\0') != std::string_view::npos || value.size() <= Uuid::kByteLength) continue;
    std::string_view info = value.substr(Uuid::kByteLength);
    uint8_t display_flags = 0;
    std::string grid;
    if (!ParseNameInfo(info, display_flags, grid) || grid == kMainGrid) continue;
    const std::string lookup(key.substr(1));
    batch.Put(NameKey(lookup, grid), leveldb::Slice(value.data(), value.size()));
    batch.Put(kLatestPrefix + lookup, grid);
    batch.Delete(leveldb::Slice(key.data(), key.size()));
    if (++moved % 1000 == 0) {
      if (auto s = db->Write(leveldb::WriteOptions(), &batch); !s.ok()) return s;
      batch.Clear();
    }
  }
  if (!it->status().ok()) return it->status();
  batch.Put(kLayoutKey, kLayoutVersion);
  leveldb::WriteOptions options;
  options.sync = true;
  if (moved > 0) {
    log::Notice("database moved to layout " + kLayoutVersion + ": " + std::to_string(moved) +
                " names of other grids than Production now kept per grid");
  }
  return db->Write(options, &batch);
}

// LevelDB 1.23 reads tables through mmap on 64-bit Linux, and every page a
// lookup touches then counts in the process's RSS: 600+ MB after a few
// hundred thousand lookups on 10 M records (leveldb-measured.md), where the
// host kills at ~280 MB. Reading with pread keeps RSS to what LevelDB caches.
class PreadFile final : public leveldb::RandomAccessFile {
 public:
  PreadFile(std::string name, int fd) : name_(std::move(name)), fd_(fd) {}
  ~PreadFile() override { ::close(fd_); }

  leveldb::Status Read(uint64_t offset, size_t n, leveldb::Slice* result,
                       char* scratch) const override {
    size_t done = 0;
    while (done < n) {
      ssize_t got = ::pread(fd_, scratch + done, n - done, static_cast<off_t>(offset + done));
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) return leveldb::Status::IOError(name_, std::strerror(errno));
      if (got == 0) break;  // end of file: LevelDB checks the length itself
      done += static_cast<size_t>(got);
    }
    *result = leveldb::Slice(scratch, done);
    return leveldb::Status::OK();
  }

 private:
  std::string name_;
  int fd_;
};

class PreadEnv final : public leveldb::EnvWrapper {
 public:
  PreadEnv() : EnvWrapper(leveldb::Env::Default()) {}

  leveldb::Status NewRandomAccessFile(const std::string& name,
                                      leveldb::RandomAccessFile** result) override {
    int fd = ::open(name.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      *result = nullptr;
      return errno == ENOENT ? leveldb::Status::NotFound(name, std::strerror(errno))
                             : leveldb::Status::IOError(name, std::strerror(errno));
    }
    *result = new PreadFile(name, fd);
    return leveldb::Status::OK();
  }
};

leveldb::Env* SharedPreadEnv() {
  static PreadEnv env;  // like Env::Default(): one per process, never freed early
  return &env;
}

// Larger tables than LevelDB's 2 MB: a 10 M-record database then fits in
// ~100 files, all of them kept open, so no lookup pays for reopening one.
constexpr size_t kTableBytes = 8 << 20;
constexpr size_t kMaxGridsListed = 100;
// Half LevelDB's 4 KB: a lookup that misses the cache reads and decompresses
// half as much (10 M records: 4.7 instead of 5.5 us median), for ~3 % more
// index memory and disk.
constexpr size_t kBlockBytes = 2048;

// Every open table holds one descriptor; keep half of the process's limit
// for everything else (shared hosts often allow only 1024).
int MaxOpenFiles() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return 1000;
  return static_cast<int>(std::clamp<rlim_t>(limit.rlim_cur / 2, 74, 1000));
}


// Tables written by a database hold internal keys: the user key and 8 bytes
// (sequence << 8 | type), little-endian (leveldb db/dbformat.h, part of the
// on-disk format every LevelDB version reads). Directly built tables carry
// sequence 0 and type 1 (a value).
constexpr uint64_t kMaxSequence = (uint64_t{1} << 56) - 1;
constexpr uint8_t kTypeValue = 1;

void AppendTrailer(std::string& key, uint64_t sequence) {
  uint64_t packed = sequence << 8 | kTypeValue;
  for (int i = 0; i < 8; ++i) key += static_cast<char>((packed >> (8 * i)) & 0xFF);
}

uint64_t TrailerOf(const leveldb::Slice& internal_key) {
  uint64_t packed = 0;
  for (int i = 7; i >= 0; --i) {
    packed = packed << 8 | static_cast<uint8_t>(internal_key[internal_key.size() - 8 + i]);
  }
  return packed;
}

leveldb::Slice UserKeyOf(const leveldb::Slice& internal_key) {
  return {internal_key.data(), internal_key.size() - 8};
}

// The order (and index-key shortening) LevelDB's InternalKeyComparator uses,
// which is not exported: user keys ascending, then sequence descending. A
// table built with it reads back exactly like one a compaction wrote.
class InternalKeyOrder final : public leveldb::Comparator {
 public:
  const char* Name() const override { return "leveldb.InternalKeyComparator"; }

  int Compare(const leveldb::Slice& a, const leveldb::Slice& b) const override {
    int order = UserKeyOf(a).compare(UserKeyOf(b));
    if (order != 0) return order;
    uint64_t ta = TrailerOf(a), tb = TrailerOf(b);
    return ta > tb ? -1 : (ta < tb ? 1 : 0);
  }

  void FindShortestSeparator(std::string* start, const leveldb::Slice& limit) const override {
    leveldb::Slice user_start = UserKeyOf(*start);
    std::string shorter(user_start.data(), user_start.size());
    leveldb::BytewiseComparator()->FindShortestSeparator(&shorter, UserKeyOf(limit));
    Adopt(user_start, shorter, start);
  }

  void FindShortSuccessor(std::string* key) const override {
    leveldb::Slice user_key = UserKeyOf(*key);
    std::string shorter(user_key.data(), user_key.size());
    leveldb::BytewiseComparator()->FindShortSuccessor(&shorter);
    Adopt(user_key, shorter, key);
  }

 private:
  // A shortened user key is used only when it is shorter and still after
  // the original, with the largest trailer so it sorts before its entries.
  static void Adopt(const leveldb::Slice& user_key, std::string& shorter, std::string* key) {
    if (shorter.size() < user_key.size() && user_key.compare(shorter) < 0) {
      AppendTrailer(shorter, kMaxSequence);
      key->swap(shorter);
    }
  }
};

const InternalKeyOrder kInternalKeyOrder;

class TableSink final : public SortedSink {
 public:
  TableSink(std::string dir, std::atomic<uint64_t>& next_file_number)
      : dir_(std::move(dir)), next_file_number_(next_file_number) {
    options_.comparator = &kInternalKeyOrder;
    // No Bloom filter: it would add ~5 % to the size of a database that a
    // serving process reads without one at the default memory budget.
    options_.filter_policy = nullptr;
    options_.block_size = kBlockBytes;
  }

  ~TableSink() override {
    if (builder_) builder_->Abandon();
  }

  Status Add(std::string_view key, std::string_view value) override {
    if (!builder_) {
      if (Status s = StartTable(); !s.ok()) return s;
    }
    internal_key_.assign(key);
    AppendTrailer(internal_key_, 0);
    builder_->Add(internal_key_, leveldb::Slice(value.data(), value.size()));
    if (!builder_->status().ok()) return FromLevelDb(builder_->status(), path_);
    return builder_->FileSize() >= kTableBytes ? FinishTable() : Status::OK();
  }

  Status Finish() override { return builder_ ? FinishTable() : Status::OK(); }

 private:
  Status StartTable() {
    char name[32];
    std::snprintf(name, sizeof name, "/%06llu.ldb",
                  static_cast<unsigned long long>(next_file_number_++));
    path_ = dir_ + name;
    leveldb::WritableFile* file = nullptr;
    leveldb::Status s = leveldb::Env::Default()->NewWritableFile(path_, &file);
    if (!s.ok()) return FromLevelDb(s, path_);
    file_.reset(file);
    builder_ = std::make_unique<leveldb::TableBuilder>(options_, file_.get());
    return Status::OK();
  }

  Status FinishTable() {
    leveldb::Status s = builder_->Finish();
    if (s.ok()) s = file_->Sync();
    if (s.ok()) s = file_->Close();
    builder_.reset();
    file_.reset();
    return FromLevelDb(s, path_);
  }

  std::string dir_;
  std::atomic<uint64_t>& next_file_number_;
  leveldb::Options options_;
  std::string path_;
  std::unique_ptr<leveldb::WritableFile> file_;
  std::unique_ptr<leveldb::TableBuilder> builder_;
  std::string internal_key_;
};

class BatchSink final : public SortedSink {
 public:
  using Writer = std::function<Status(leveldb::WriteBatch*, bool sync)>;
  BatchSink(Writer write, size_t batch_entries)
      : write_(std::move(write)), batch_entries_(std::max<size_t>(batch_entries, 1)) {}

  Status Add(std::string_view key, std::string_view value) override {
    batch_.Put(leveldb::Slice(key.data(), key.size()), leveldb::Slice(value.data(), value.size()));
    if (++entries_ < batch_entries_) return Status::OK();
    entries_ = 0;
    Status s = write_(&batch_, /*sync=*/false);
    batch_.Clear();
    return s;
  }

  // The last batch is synced: once an import says it is done, it is on disk.
  Status Finish() override { return write_(&batch_, /*sync=*/true); }

 private:
  Writer write_;
  size_t batch_entries_;
  size_t entries_ = 0;
  leveldb::WriteBatch batch_;
};

// The number of table files on each level, to see when LevelDB has stopped
// moving them.
std::string LevelShape(leveldb::DB* db) {
  std::string shape, count;
  for (int level = 0; level < 7; ++level) {
    db->GetProperty("leveldb.num-files-at-level" + std::to_string(level), &count);
    shape += count + ",";
  }
  return shape;
}

// RepairDB reads every table once: through mmap that would put the whole
// database in the process's RSS (the host kills at ~280 MB).
leveldb::Options BaseOptions() {
  leveldb::Options options;
  options.env = SharedPreadEnv();
  options.max_file_size = kTableBytes;
  options.block_size = kBlockBytes;
  return options;
}

}  // namespace

// A 64-bit counter in a small file inside the database directory, mapped
// shared by every process of the database (LevelDB leaves files it does not
// know alone). The owner adds one after each write it makes.
class Store::WriteCounter {
 public:
  static std::unique_ptr<WriteCounter> Map(const std::string& db_path) {
    int fd = ::open((db_path + "/GOSL-WRITES").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) return nullptr;
    struct stat info {};
    // Allocated, not just sized: a page of a sparse file mapped on a full
    // disk would kill the process with SIGBUS when first written.
    bool sized = ::fstat(fd, &info) == 0 && ::posix_fallocate(fd, 0, 8) == 0;
    void* map = sized ? ::mmap(nullptr, 8, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) : MAP_FAILED;
    ::close(fd);
    if (map == MAP_FAILED) return nullptr;
    return std::unique_ptr<WriteCounter>(new WriteCounter(static_cast<uint64_t*>(map)));
  }
  ~WriteCounter() { ::munmap(counter_, 8); }
  uint64_t Load() const { return __atomic_load_n(counter_, __ATOMIC_ACQUIRE); }
  void Bump() { __atomic_fetch_add(counter_, 1, __ATOMIC_ACQ_REL); }

 private:
  explicit WriteCounter(uint64_t* counter) : counter_(counter) {}
  uint64_t* counter_;
};

// A peer's recent answers (found and not found), valid while the write
// counter does not move. Bounded: emptied when full.
class Store::AnswerCache {
 public:
  static constexpr size_t kMaxAnswers = 4096;

  // The cached answer to `question`, if the database has not been written
  // since it was stored.
  bool Find(const std::string& question, uint64_t writes, std::vector<AvatarRecord>& out) {
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
  // Stores an answer computed after the counter read `writes`.
  void Store(const std::string& question, uint64_t writes, std::vector<AvatarRecord> answer) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (writes != writes_) return;  // written since: the answer may be stale
    if (answers_.size() >= kMaxAnswers) answers_.clear();
    answers_.emplace(question, std::move(answer));
  }

 private:
  std::mutex mutex_;
  uint64_t writes_ = 0;
  std::unordered_map<std::string, std::vector<AvatarRecord>> answers_;
};

struct Store::Resources {
  std::unique_ptr<leveldb::Cache> block_cache;
  std::unique_ptr<const leveldb::FilterPolicy> filter_policy;
};

Store::Store(StoreOptions options) : options_(std::move(options)) {}

Store::~Store() {
  server_.reset();  // no peer request may reach the database while it closes
  peer_.reset();
  delete db_.exchange(nullptr);
  delete answers_.exchange(nullptr);
  delete writes_seen_.exchange(nullptr);
}

void Store::MapWriteCounter() {
  if (writes_seen_.load() != nullptr) return;
  if (auto counter = WriteCounter::Map(options_.path)) {
    answers_.store(new AnswerCache());
    writes_seen_.store(counter.release());
  }
}

Status Store::StartPeerServer() {
  auto server = PeerServer::Start(PeerAddress(options_.path), [this](const PeerRequest& request) {
    auto records = Local(request);
    PeerReply reply;
    if (records.ok()) {
      reply.records = std::move(records).value();
    } else {
      reply.status = records.status();
    }
    // Only an owner that bumps the shared counter lets peers remember answers.
    reply.cacheable = writes_seen_.load() != nullptr;
    return reply;
  });
  if (!server.ok()) return server.status();
  server_ = std::move(server).value();
  server_running_ = true;
  return Status::OK();
}

void Store::RetryPeerServer() {
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::steady_clock::now().time_since_epoch())
                             .count();
  int64_t last = last_server_attempt_ms_.load();
  if (now_ms - last < 1000 || !last_server_attempt_ms_.compare_exchange_strong(last, now_ms)) {
    return;
  }
  std::lock_guard<std::mutex> lock(open_mutex_);
  if (server_ || !owns_database()) return;
  if (StartPeerServer().ok()) log::Notice("database '" + options_.path + "': now shared again");
}

namespace {

// What identifies a question in the peer's cache.
std::string Question(const PeerRequest& r) {
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

}  // namespace

Status Store::OpenLocal(bool& lock_held_elsewhere) {
  lock_held_elsewhere = false;
  const size_t budget = std::max<size_t>(options_.memory_budget_mb, 4) << 20;
  auto resources = std::make_unique<Resources>();
  resources->block_cache.reset(leveldb::NewLRUCache(budget / 3));
  if (options_.memory_budget_mb >= 48) {
    resources->filter_policy.reset(leveldb::NewBloomFilterPolicy(10));
  }

  leveldb::Options options;
  options.env = SharedPreadEnv();
  options.create_if_missing = options_.create_if_missing;
  options.block_cache = resources->block_cache.get();
  options.filter_policy = resources->filter_policy.get();
  options.write_buffer_size = std::clamp<size_t>(budget / 8, 1 << 20, 64 << 20);
  options.max_file_size = kTableBytes;
  options.block_size = kBlockBytes;
  options.max_open_files = MaxOpenFiles();

  struct stat current {};
  const bool existed = ::stat((options_.path + "/CURRENT").c_str(), &current) == 0;
  if (!existed && errno != ENOENT && errno != ENOTDIR) {
    return Status::Unavailable("cannot read database '" + options_.path + "': " +
                               std::strerror(errno));
  }
  // LevelDB makes the directory and its LOCK even when it may not create
  // the database: do not let it touch anything then.
  if (!existed && !options_.create_if_missing) {
    return Status::Unavailable("no database at '" + options_.path +
                               "' (upload one, or make it with --import or --create)");
  }
  leveldb::DB* db = nullptr;
  leveldb::Status opened = leveldb::DB::Open(options, options_.path, &db);
  lock_held_elsewhere = opened.IsIOError() && opened.ToString().find("/LOCK") != std::string::npos;
  Status status = FromLevelDb(opened, options_.path);
  if (!status.ok()) return status;
  // A mistyped --dir would otherwise serve an empty database without a trace.
  if (!existed) log::Warning("created a new, empty database at '" + options_.path + "'");

  // The layout version tells later versions which layout they read.
  std::string version;
  leveldb::Status s = db->Get(leveldb::ReadOptions(), kLayoutKey, &version);
  if (s.ok() && version == kOldLayoutVersion) {
    s = MigrateFromLayout1(db);
  } else if (s.IsNotFound()) {
    s = db->Put(leveldb::WriteOptions(), kLayoutKey, kLayoutVersion);
  } else if (s.ok() && version != kLayoutVersion) {
    delete db;
    return Status::Corruption("database '" + options_.path + "' has layout version '" +
                              Sanitized(version, 8) + "', this program reads '" +
                              kLayoutVersion + "'");
  }
  if (!s.ok()) {
    delete db;
    return FromLevelDb(s, options_.path);
  }
  resources_ = std::move(resources);
  MapWriteCounter();  // before the process is seen as the owner
  db_.store(db, std::memory_order_release);
  // A previous owner may have died between a write and its bump: peers'
  // caches may hold an answer older than that write.
  if (WriteCounter* counter = writes_seen_.load()) counter->Bump();
  return Status::OK();
}

Status Store::Open() {
  if (is_open()) return Status::OK();
  std::unique_lock<std::mutex> lock(open_mutex_);
  if (is_open()) return Status::OK();

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.wait_ms);
  const std::string address = PeerAddress(options_.path);
  for (int pause_ms = 1;; pause_ms = std::min(pause_ms * 2, 50)) {
    bool lock_held_elsewhere = false;
    Status status = OpenLocal(lock_held_elsewhere);
    if (status.ok()) {
      // The owner answers the other processes of this database (its server
      // lives on when the database was closed after a write fault).
      if (server_) return Status::OK();
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
      // process would connect to its own server. Its workers may be waiting
      // for open_mutex_ (Local): stop it without holding that.
      std::unique_ptr<PeerServer> retired = std::move(server_);
      server_running_ = false;
      lock.unlock();
      retired.reset();
      lock.lock();
      if (is_open()) return Status::OK();
      continue;
    }
    auto peer = PeerClient::Connect(address, std::max(options_.wait_ms, 100));
    if (peer.ok()) {
      peer_ = std::move(peer).value();
      MapWriteCounter();  // before the process is seen as a peer
      peer_open_ = true;
      return Status::OK();
    }
    // The owner is starting or handing over: its socket or its lock is
    // about to appear or go. Try again for a bounded time.
    if (std::chrono::steady_clock::now() >= deadline) return status;
    std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms));
  }
}

Status Store::RequireOwnership() {
  if (Status s = Open(); !s.ok()) return s;
  if (owns_database()) return Status::OK();
  return Status::Unavailable("database '" + options_.path + "' is in use by another process");
}

Result<std::vector<AvatarRecord>> Store::Dispatch(const PeerRequest& request) {
  Result<std::vector<AvatarRecord>> result = Route(request);
  NoteHealth(result.status(), request.op == PeerOp::kRecord);
  return result;
}

void Store::NoteHealth(const Status& status, bool write) {
  const Code code = status.code();
  const bool fault = code == Code::kUnavailable || code == Code::kIOError || code == Code::kCorruption;
  if (!fault && !in_fault_.load(std::memory_order_relaxed)) return;  // the usual case
  if (!fault && !status.ok() && !status.IsNotFound()) return;  // a bad request says nothing
  // One cause whichever file it names: a full disk is one fault, whether
  // LevelDB was writing its log, a table or its MANIFEST.
  const std::string& message = status.message();
  const size_t colon = message.rfind(": ");
  const std::string cause = std::to_string(static_cast<int>(code)) +
                            (colon == std::string::npos ? message : message.substr(colon + 2));
  std::lock_guard<std::mutex> lock(fault_mutex_);
  if (fault && cause != fault_) {
    log::Error(Sanitized(message, 300) + " (answering 503 until this passes)");
    fault_ = cause;
    fault_on_write_ = write;
    in_fault_ = true;
  } else if (!fault && in_fault_.load() && (write || !fault_on_write_)) {
    // A lookup that works says nothing of a write fault (a full disk).
    log::Notice("database '" + options_.path + "' answers again");
    fault_.clear();
    in_fault_ = false;
  }
}

Result<std::vector<AvatarRecord>> Store::Route(const PeerRequest& request) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.wait_ms);
  for (;;) {
    if (Status s = Open(); !s.ok()) return s;
    if (owns_database()) {
      if (!server_running_.load()) RetryPeerServer();
      return Local(request);
    }
    AnswerCache* answers = request.op != PeerOp::kRecord ? answers_.load() : nullptr;
    WriteCounter* counter = writes_seen_.load();
    const std::string question = answers ? Question(request) : std::string();
    const uint64_t writes = answers ? counter->Load() : 0;
    std::vector<AvatarRecord> cached;
    if (answers && answers->Find(question, writes, cached)) {
      if (cached.empty()) return Status::NotFound("");
      return cached;
    }
    bool owner_lost = false, cacheable = false;
    auto records = Forward(request, owner_lost, cacheable);
    if (answers && cacheable && (records.ok() || records.status().IsNotFound())) {
      answers->Store(question, writes, records.ok() ? records.value() : std::vector<AvatarRecord>());
    }
    // The owner went away (exited, killed, or dying while we reconnected):
    // take its place, or find the process that did. Repeating a request is
    // harmless: lookups change nothing, a registration writes the same pair.
    if (!owner_lost || std::chrono::steady_clock::now() >= deadline) return records;
  }
}

Result<std::vector<AvatarRecord>> Store::Forward(const PeerRequest& request, bool& owner_lost,
                                                 bool& cacheable) {
  std::lock_guard<std::mutex> lock(open_mutex_);
  if (!peer_) {
    owner_lost = true;
    return Status::Unavailable("not connected to the database's owner");
  }
  auto reply = peer_->Call(request);
  if (!reply.ok()) {
    peer_.reset();
    peer_open_ = false;
    owner_lost = true;
    return reply.status();
  }
  cacheable = reply->cacheable;
  if (!reply->status.ok()) return reply->status;
  return std::move(reply->records);
}

Result<std::vector<AvatarRecord>> Store::Local(const PeerRequest& request) {
  if (request.op == PeerOp::kRecord && write_fault_.load()) {
    if (Status s = ReopenAfterWriteFault(); !s.ok()) return s;
  }
  if (!owns_database()) {
    // A reopen failed: try again (the cause may be gone). Open() is not for
    // here: this may be the peer server's thread, and Open() could connect
    // the process to its own peer server.
    std::lock_guard<std::mutex> opening(open_mutex_);
    if (!owns_database()) {
      if (Status s = ReopenLocked(); !s.ok()) return s;
    }
  }
  bool write_failed = false;
  Result<std::vector<AvatarRecord>> result = Status::Unavailable("");
  {
    std::shared_lock<std::shared_mutex> in_use(db_use_);
    if (!db()) return Status::Unavailable("database '" + options_.path + "' is being reopened");
    result = Answer(request, write_failed);
  }
  if (write_failed) write_fault_ = true;
  return result;
}

Status Store::ReopenAfterWriteFault() {
  // Reopening writes a new log and MANIFEST: on a disk still full it would
  // fail and leave nothing to read from. Lookups go on meanwhile.
  constexpr unsigned long long kMinFreeBytes = 1 << 20;
  struct statvfs space {};
  if (::statvfs(options_.path.c_str(), &space) == 0 &&
      static_cast<unsigned long long>(space.f_bavail) * space.f_frsize < kMinFreeBytes) {
    return Status::IOError("database '" + options_.path + "' cannot be written: " +
                           std::strerror(ENOSPC));
  }
  // open_mutex_ first: Open() (which takes only that) must not see the
  // database closed and open it while this thread is between the two.
  std::lock_guard<std::mutex> opening(open_mutex_);
  std::unique_lock<std::shared_mutex> exclusive(db_use_);
  if (!write_fault_.load()) return Status::OK();  // another thread reopened it
  write_fault_ = false;
  delete db_.exchange(nullptr, std::memory_order_acq_rel);
  resources_.reset();
  return ReopenLocked();
}

Status Store::ReopenLocked() {
  bool lock_held_elsewhere = false;
  Status status = OpenLocal(lock_held_elsewhere);
  // When another process took the database in between, the next Open()
  // (a request of this process's own) hands the peers over to it.
  if (status.ok()) log::Notice("database '" + options_.path + "' reopened after a failed write");
  return status;
}

Result<std::vector<AvatarRecord>> Store::Answer(const PeerRequest& request, bool& write_failed) {
  auto one = [](Result<AvatarRecord> record) -> Result<std::vector<AvatarRecord>> {
    if (!record.ok()) return record.status();
    return std::vector<AvatarRecord>{std::move(record).value()};
  };
  switch (request.op) {
    case PeerOp::kFindByName:
    case PeerOp::kFindInAllGrids: {
      auto name = AvatarName::Parse(request.name);
      if (!name.ok()) return name.status();
      if (request.op == PeerOp::kFindInAllGrids) return FindAllGridsLocal(name.value());
      return one(FindNameLocal(name.value(), {request.grid, request.only_grid}));
    }
    case PeerOp::kFindByKey: {
      std::string value;
      leveldb::Status s = db()->Get(leveldb::ReadOptions(), KeyKey(request.key), &value);
      if (!s.ok()) return FromLevelDb(s, options_.path);
      return one(DecodeKeyEntry(request.key, value));
    }
    case PeerOp::kRecord: {
      auto name = AvatarName::Parse(request.name);
      if (!name.ok()) return name.status();
      Batch batch;
      batch.Add(name.value(), request.key, request.grid);
      leveldb::WriteOptions options;
      options.sync = true;
      if (Status s = FromLevelDb(db()->Write(options, batch.writes_.get()), options_.path);
          !s.ok()) {
        write_failed = true;
        return s;
      }
      // Before the answer: every peer's cache is stale from now on.
      if (WriteCounter* counter = writes_seen_.load()) counter->Bump();
      return one(AvatarRecord{request.key, name->display(), request.grid});
    }
  }
  return Status::InvalidArgument("unknown peer request");
}

// The caller's grid, then the main grid, then the grid that recorded the
// name last ('l'); with grids.only, the caller's grid alone.
Result<AvatarRecord> Store::FindNameLocal(const AvatarName& name, const GridChoice& grids) {
  const std::string& lookup = name.lookup();
  auto get = [this, &lookup](std::string_view grid) -> Result<AvatarRecord> {
    std::string value;
    leveldb::Status s = db()->Get(leveldb::ReadOptions(), NameKey(lookup, grid), &value);
    if (!s.ok()) return FromLevelDb(s, options_.path);
    return DecodeNameEntry(lookup, value);
  };
  auto found = get(grids.caller);
  if (found.ok() || !found.status().IsNotFound() || grids.only) return found;
  if (grids.caller != kMainGrid) {
    found = get(kMainGrid);
    if (found.ok() || !found.status().IsNotFound()) return found;
  }
  std::string latest_grid;
  leveldb::Status s = db()->Get(leveldb::ReadOptions(), kLatestPrefix + lookup, &latest_grid);
  if (s.IsNotFound()) return found;
  if (!s.ok()) return FromLevelDb(s, options_.path);
  return get(latest_grid);
}

Result<std::vector<AvatarRecord>> Store::FindAllGridsLocal(const AvatarName& name) {
  std::vector<AvatarRecord> records;
  const std::string prefix = NameKey(name.lookup(), "");  // 'n' + lookup + '\0'
  std::string value;
  leveldb::Status s = db()->Get(leveldb::ReadOptions(), NameKey(name.lookup(), kMainGrid), &value);
  if (s.ok()) {
    auto base = DecodeNameEntry(name.lookup(), value);
    if (!base.ok()) return base.status();
    records.push_back(std::move(base).value());
  } else if (!s.IsNotFound()) {
    return FromLevelDb(s, options_.path);
  }
  std::unique_ptr<leveldb::Iterator> it(db()->NewIterator(leveldb::ReadOptions()));
  // Anyone may register a name on new grids: a listing stops at
  // kMaxGridsListed, so it stays one small answer (and one peer frame).
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix) &&
                         records.size() < kMaxGridsListed;
       it->Next()) {
    auto record = DecodeNameEntry(name.lookup(), std::string_view(it->value().data(), it->value().size()));
    if (!record.ok()) return record.status();
    records.push_back(std::move(record).value());
  }
  if (!it->status().ok()) return FromLevelDb(it->status(), options_.path);
  if (records.empty()) return Status::NotFound("no entry on any grid");
  std::stable_sort(records.begin(), records.end(), [](const AvatarRecord& a, const AvatarRecord& b) {
    return (a.grid == kMainGrid) > (b.grid == kMainGrid) ||
           ((a.grid == kMainGrid) == (b.grid == kMainGrid) && a.grid < b.grid);
  });
  return records;
}

Result<AvatarRecord> Store::FindByName(const AvatarName& name, const GridChoice& grids) {
  PeerRequest request;
  request.op = PeerOp::kFindByName;
  request.name = name.display();
  request.grid = grids.caller;
  request.only_grid = grids.only;
  auto records = Dispatch(request);
  if (!records.ok()) return records.status();
  if (records->empty()) return Status::NotFound("");
  return std::move(records->front());
}

Result<std::vector<AvatarRecord>> Store::FindInAllGrids(const AvatarName& name) {
  PeerRequest request;
  request.op = PeerOp::kFindInAllGrids;
  request.name = name.display();
  return Dispatch(request);
}

Result<AvatarRecord> Store::FindByKey(const Uuid& key) {
  PeerRequest request;
  request.op = PeerOp::kFindByKey;
  request.key = key;
  auto records = Dispatch(request);
  if (!records.ok()) return records.status();
  if (records->empty()) return Status::NotFound("");
  return std::move(records->front());
}

Status Store::ForEachName(const std::function<Status(const AvatarRecord&)>& visit) {
  return Scan(kNamePrefix, [&visit](std::string_view key, std::string_view value) {
    auto record = DecodeNameEntry(key.substr(0, key.find('\0')), value);
    return record.ok() ? visit(record.value()) : record.status();
  });
}

Status Store::ForEachKey(const std::function<Status(const AvatarRecord&)>& visit) {
  return Scan(kKeyPrefix, [&visit](std::string_view key, std::string_view value) {
    if (key.size() != Uuid::kByteLength) return Status::Corruption("bad key entry length");
    auto record = DecodeKeyEntry(Uuid::FromBytes(key), value);
    return record.ok() ? visit(record.value()) : record.status();
  });
}

Status Store::Scan(char prefix,
                   const std::function<Status(std::string_view, std::string_view)>& visit) {
  if (Status s = RequireOwnership(); !s.ok()) return s;
  // Held across visit, which may look up (the exporter does): a second
  // shared lock by the same thread, which pthread rwlocks (under
  // std::shared_mutex) allow and grant even while a reopen waits.
  std::shared_lock<std::shared_mutex> in_use(db_use_);
  if (!db()) return Status::Unavailable("database '" + options_.path + "' was closed after a fault");
  leveldb::ReadOptions options;
  options.fill_cache = false;  // a full pass must not evict what lookups use
  std::unique_ptr<leveldb::Iterator> it(db()->NewIterator(options));
  for (it->Seek(std::string(1, prefix)); it->Valid() && it->key()[0] == prefix; it->Next()) {
    leveldb::Slice key = it->key(), value = it->value();
    Status s = visit(std::string_view(key.data() + 1, key.size() - 1),
                     std::string_view(value.data(), value.size()));
    if (!s.ok()) return s;
  }
  return FromLevelDb(it->status(), options_.path);
}

Store::Batch::Batch() : writes_(std::make_unique<leveldb::WriteBatch>()) {}
Store::Batch::~Batch() = default;

void EncodeRecord(const AvatarName& name, const Uuid& key, std::string_view grid,
                  RecordEntries& out) {
  const uint8_t display_flags = DisplayFlags(name);
  const bool implied = (display_flags | kGridProduction << kGridShift) == kImpliedInfo &&
                       grid == "Production";

  out.key_entry_key.assign(1, kKeyPrefix);
  out.key_entry_key.append(key.bytes());
  out.key_entry_value.clear();
  if (!implied) AppendNameInfo(out.key_entry_value, display_flags, grid);
  out.key_entry_value += display_flags == kVerbatim ? name.display() : name.lookup();

  out.name_entry_key = NameKey(name.lookup(), grid);
  out.name_entry_value.assign(key.bytes());
  if (!implied) AppendNameInfo(out.name_entry_value, display_flags, grid);
  if (display_flags == kVerbatim) out.name_entry_value += name.display();

  out.latest_entry_key.clear();
  out.latest_entry_value.clear();
  if (grid != kMainGrid) {
    out.latest_entry_key = kLatestPrefix + name.lookup();
    out.latest_entry_value.assign(grid);
  }
}

void Store::Batch::Add(const AvatarName& name, const Uuid& key, std::string_view grid) {
  RecordEntries entries;
  EncodeRecord(name, key, grid, entries);
  writes_->Put(entries.name_entry_key, entries.name_entry_value);
  writes_->Put(entries.key_entry_key, entries.key_entry_value);
  if (!entries.latest_entry_key.empty()) {
    writes_->Put(entries.latest_entry_key, entries.latest_entry_value);
  }
  ++records_;
}

void Store::Batch::Clear() {
  writes_->Clear();
  records_ = 0;
}

Status Store::Record(const AvatarName& name, const Uuid& key, std::string_view grid) {
  PeerRequest request;
  request.op = PeerOp::kRecord;
  request.name = name.display();
  request.key = key;
  request.grid = std::string(grid);
  return Dispatch(request).status();
}

Status Store::Commit(Batch& batch, bool sync) { return Write(batch.writes_.get(), sync); }

Status Store::Write(leveldb::WriteBatch* writes, bool sync) {
  if (Status s = RequireOwnership(); !s.ok()) return s;
  std::shared_lock<std::shared_mutex> in_use(db_use_);
  if (!db()) return Status::Unavailable("database '" + options_.path + "' was closed after a fault");
  leveldb::WriteOptions options;
  options.sync = sync;
  Status status = FromLevelDb(db()->Write(options, writes), options_.path);
  if (WriteCounter* counter = writes_seen_.load()) counter->Bump();
  return status;
}

std::unique_ptr<SortedSink> Store::NewBatchSink(size_t batch_entries) {
  return std::make_unique<BatchSink>(
      [this](leveldb::WriteBatch* writes, bool sync) { return Write(writes, sync); },
      batch_entries);
}

std::unique_ptr<SortedSink> NewTableSink(const std::string& staging_dir,
                                         std::atomic<uint64_t>& next_file_number) {
  return std::make_unique<TableSink>(staging_dir, next_file_number);
}

Status AdoptTables(const std::string& staging_dir) {
  leveldb::Options options = BaseOptions();
  Status status = FromLevelDb(leveldb::RepairDB(staging_dir, options), staging_dir);
  if (!status.ok()) return status;
  leveldb::DB* db = nullptr;
  status = FromLevelDb(leveldb::DB::Open(options, staging_dir, &db), staging_dir);
  if (!status.ok()) return status;
  std::unique_ptr<leveldb::DB> owned(db);
  status = FromLevelDb(owned->Put(leveldb::WriteOptions(), kLayoutKey, kLayoutVersion), staging_dir);
  // RepairDB puts every table on level 0; LevelDB then moves them down
  // without rewriting them (trivial moves, as no two tables overlap). Wait
  // until it stops, so the directory uploaded is the settled one.
  std::string shape = LevelShape(db);
  for (int unchanged = 0, polls = 0; status.ok() && unchanged < 10 && polls < 3000; ++polls) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::string now = LevelShape(db);
    unchanged = now == shape ? unchanged + 1 : 0;
    shape = std::move(now);
  }
  return status;
}

Status Store::CompactAll() {
  if (Status s = RequireOwnership(); !s.ok()) return s;
  std::shared_lock<std::shared_mutex> in_use(db_use_);
  if (!db()) return Status::Unavailable("database '" + options_.path + "' was closed after a fault");
  db()->CompactRange(nullptr, nullptr);
  return Status::OK();
}

Status RepairDatabase(const std::string& path, size_t& lost_files) {
  lost_files = 0;
  // RepairDB makes a database of any directory: an empty one (an upload
  // not done yet) must stay as it is.
  bool has_database_files = false;
  std::error_code listing;
  for (std::filesystem::directory_iterator it(path, listing), end; !listing && it != end;
       it.increment(listing)) {
    const std::string name = it->path().filename().string();
    const std::string extension = it->path().extension().string();
    has_database_files |= name == "CURRENT" || name.rfind("MANIFEST-", 0) == 0 ||
                          extension == ".ldb" || extension == ".sst" || extension == ".log";
  }
  if (!has_database_files) return Status::Unavailable("no database at '" + path + "'");
  auto count_lost = [&path] {
    std::error_code ec;
    size_t n = 0;
    for (std::filesystem::directory_iterator it(path + "/lost", ec), end; !ec && it != end;
         it.increment(ec)) {
      const std::string extension = it->path().extension().string();
      n += extension == ".ldb" || extension == ".sst";  // not the old MANIFESTs and logs
    }
    return n;
  };
  const size_t lost_before = count_lost();
  // RepairDB takes no lock of its own: hold LevelDB's, so no serving
  // process can have the database open meanwhile.
  leveldb::Env* env = leveldb::Env::Default();
  leveldb::FileLock* lock = nullptr;
  Status status = FromLevelDb(env->LockFile(path + "/LOCK", &lock), path);
  if (!status.ok()) {
    return Status::Unavailable("database '" + path +
                               "' is in use by another process: stop the service first");
  }
  status = FromLevelDb(leveldb::RepairDB(path, BaseOptions()), path);
  env->UnlockFile(lock);
  lost_files = count_lost() - lost_before;
  return status;
}

}  // namespace gosl
