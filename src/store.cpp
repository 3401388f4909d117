#include "gosl/store.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include <leveldb/cache.h>
#include <leveldb/db.h>
#include <leveldb/env.h>
#include <leveldb/filter_policy.h>
#include <leveldb/write_batch.h>

#include "gosl/logging.hpp"

namespace gosl {
namespace {

// Key layout (docs/storage.md). One byte of prefix per kind of entry:
//   'k' + 16-byte UUID          -> NameInfo + name text   (key -> newest name)
//   'n' + lookup form           -> 16-byte UUID + NameInfo (name -> key)
//   'm' + "layout"              -> layout version
// A later version keeps other grids' names apart as 'n' + lookup + '\0' +
// grid: names never hold a NUL, so every lookup stays one point read.
constexpr char kKeyPrefix = 'k';
constexpr char kNamePrefix = 'n';
const std::string kLayoutKey = "mlayout";
const std::string kLayoutVersion = "1";

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

std::string NameKey(const AvatarName& name) { return kNamePrefix + name.lookup(); }

std::string KeyKey(const Uuid& key) {
  std::string k(1, kKeyPrefix);
  k.append(key.bytes());
  return k;
}

Status FromLevelDb(const leveldb::Status& s, const std::string& path) {
  if (s.ok()) return Status::OK();
  std::string text = s.ToString();
  if (s.IsNotFound()) return Status::NotFound(text);
  if (s.IsCorruption()) return Status::Corruption("database '" + path + "' is damaged: " + text);
  if (text.find("/LOCK") != std::string::npos) {
    return Status::Unavailable("database '" + path + "' is in use by another process");
  }
  if (s.IsInvalidArgument() && text.find("does not exist") != std::string::npos) {
    return Status::Unavailable("no database at '" + path + "'");
  }
  return Status::IOError("database '" + path + "': " + text);
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

// Every open table holds one descriptor; keep half of the process's limit
// for everything else (shared hosts often allow only 1024).
int MaxOpenFiles() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return 1000;
  return static_cast<int>(std::clamp<rlim_t>(limit.rlim_cur / 2, 74, 1000));
}

}  // namespace

struct Store::Resources {
  std::unique_ptr<leveldb::Cache> block_cache;
  std::unique_ptr<const leveldb::FilterPolicy> filter_policy;
};

Store::Store(StoreOptions options) : options_(std::move(options)) {}

Store::~Store() { delete db_.exchange(nullptr); }

Status Store::Open() {
  if (is_open()) return Status::OK();
  std::lock_guard<std::mutex> lock(open_mutex_);
  if (is_open()) return Status::OK();

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
  // Larger tables than LevelDB's 2 MB: a 10 M-record database then fits in
  // ~100 files, all of them kept open, so no lookup pays for reopening one.
  options.max_file_size = 8 << 20;
  options.max_open_files = MaxOpenFiles();

  std::error_code ec;
  const bool existed = std::filesystem::exists(options_.path + "/CURRENT", ec);
  leveldb::DB* db = nullptr;
  Status status = FromLevelDb(leveldb::DB::Open(options, options_.path, &db), options_.path);
  if (!status.ok()) return status;
  // A mistyped --dir would otherwise serve an empty database without a trace.
  if (!existed) log::Warning("created a new, empty database at '" + options_.path + "'");

  // The layout version tells later versions which layout they read.
  std::string version;
  leveldb::Status s = db->Get(leveldb::ReadOptions(), kLayoutKey, &version);
  if (s.IsNotFound()) {
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
  db_.store(db, std::memory_order_release);
  return Status::OK();
}

Result<AvatarRecord> Store::FindByName(const AvatarName& name) {
  if (Status s = Open(); !s.ok()) return s;
  std::string value;
  leveldb::Status s = db()->Get(leveldb::ReadOptions(), NameKey(name), &value);
  if (!s.ok()) return FromLevelDb(s, options_.path);

  std::string_view rest(value);
  AvatarRecord record;
  uint8_t display_flags = 0;
  if (rest.size() < Uuid::kByteLength) {
    return Status::Corruption("short name entry for '" + Sanitized(name.lookup()) + "'");
  }
  record.key = Uuid::FromBytes(rest.substr(0, Uuid::kByteLength));
  rest.remove_prefix(Uuid::kByteLength);
  if (!ParseNameInfo(rest, display_flags, record.grid)) {
    return Status::Corruption("bad name entry for '" + Sanitized(name.lookup()) + "'");
  }
  record.name = (display_flags & kDisplayMask) == kVerbatim
                    ? std::string(rest)
                    : DeriveDisplay(display_flags, name.lookup());
  return record;
}

Result<AvatarRecord> Store::FindByKey(const Uuid& key) {
  if (Status s = Open(); !s.ok()) return s;
  std::string value;
  leveldb::Status s = db()->Get(leveldb::ReadOptions(), KeyKey(key), &value);
  if (!s.ok()) return FromLevelDb(s, options_.path);

  std::string_view rest(value);
  AvatarRecord record;
  record.key = key;
  uint8_t display_flags = 0;
  if (!ParseNameInfo(rest, display_flags, record.grid)) {
    return Status::Corruption("bad key entry for " + key.ToString());
  }
  record.name = (display_flags & kDisplayMask) == kVerbatim ? std::string(rest)
                                                           : DeriveDisplay(display_flags, rest);
  return record;
}

Store::Batch::Batch() : writes_(std::make_unique<leveldb::WriteBatch>()) {}
Store::Batch::~Batch() = default;

void Store::Batch::Add(const AvatarName& name, const Uuid& key, std::string_view grid) {
  uint8_t display_flags = DisplayFlags(name);

  std::string name_value(key.bytes());
  AppendNameInfo(name_value, display_flags, grid);
  if (display_flags == kVerbatim) name_value += name.display();
  writes_->Put(NameKey(name), name_value);

  std::string key_value;
  AppendNameInfo(key_value, display_flags, grid);
  key_value += display_flags == kVerbatim ? name.display() : name.lookup();
  writes_->Put(KeyKey(key), key_value);
  ++records_;
}

void Store::Batch::Clear() {
  writes_->Clear();
  records_ = 0;
}

Status Store::Record(const AvatarName& name, const Uuid& key, std::string_view grid) {
  Batch batch;
  batch.Add(name, key, grid);
  return Commit(batch, /*sync=*/true);
}

Status Store::Commit(Batch& batch, bool sync) { return Write(batch.writes_.get(), sync); }

Status Store::Write(leveldb::WriteBatch* writes, bool sync) {
  if (Status s = Open(); !s.ok()) return s;
  leveldb::WriteOptions options;
  options.sync = sync;
  return FromLevelDb(db()->Write(options, writes), options_.path);
}

Status Store::CompactAll() {
  if (Status s = Open(); !s.ok()) return s;
  db()->CompactRange(nullptr, nullptr);
  return Status::OK();
}

}  // namespace gosl
