#include "store/manifest.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include <leveldb/comparator.h>
#include <leveldb/env.h>

#include "store/db_files.hpp"
#include "store/leveldb_status.hpp"
#include "util/coding.hpp"
#include "util/posix_io.hpp"

namespace gosl::manifest {
namespace {

// leveldb db/version_edit.cc: the tags of a version edit's fields.
enum Tag : uint64_t { kComparator = 1, kLogNumber = 2, kNextFileNumber = 3, kLastSequence = 4, kNewFile = 7 };
// leveldb db/log_format.h.
enum RecordType : uint8_t { kFullType = 1, kFirstType = 2, kMiddleType = 3, kLastType = 4 };
constexpr size_t kLogBlockBytes = 32768;
constexpr size_t kLogHeaderBytes = 7;
constexpr uint32_t kCrcMaskDelta = 0xa282ead8u;
constexpr uint64_t kManifestNumber = 1;

// leveldb util/crc32c.h: a stored CRC is rotated and offset, so that the CRC
// of bytes that hold CRCs is not trivially related to them.
uint32_t MaskedCrc(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + kCrcMaskDelta; }

Status WriteSynced(const std::string& path, std::string_view bytes) {
  leveldb::WritableFile* file = nullptr;
  leveldb::Status s = leveldb::Env::Default()->NewWritableFile(path, &file);
  if (!s.ok()) return FromLevelDbFile(s, path);
  std::unique_ptr<leveldb::WritableFile> owned(file);
  s = owned->Append(leveldb::Slice(bytes.data(), bytes.size()));
  if (s.ok()) s = owned->Sync();
  if (s.ok()) s = owned->Close();
  return FromLevelDbFile(s, path);
}

// LevelDB reads a file it reuses whole at every open, replaying a log's
// registrations into memory: past these sizes the usual open, which starts
// new files (a log's registrations go into a table), makes the opens after
// it cheaper. A MANIFEST as written anew lists every table (~4 KB at 10 M
// records, ~70 KB at 100 M); a log holds ~150 bytes a registration.
constexpr uint64_t kMaxReusedManifestBytes = 256 << 10;
constexpr uint64_t kMaxReusedLogBytes = 64 << 10;

// The last block of a file (an empty string for an empty file); nullopt when
// it cannot be read or holds more than max_bytes.
std::optional<std::string> LastBlock(const std::string& path, uint64_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::optional<std::string> block;
  struct stat info {};
  if (::fstat(fd, &info) == 0 && static_cast<uint64_t>(info.st_size) <= max_bytes) {
    const auto size = static_cast<uint64_t>(info.st_size);
    const uint64_t start = size == 0 ? 0 : (size - 1) / kLogBlockBytes * kLogBlockBytes;
    std::string bytes(size - start, '\0');
    if (posix::PreadFully(fd, bytes.data(), bytes.size(), start) == static_cast<ssize_t>(bytes.size())) {
      block = std::move(bytes);
    }
  }
  ::close(fd);
  return block;
}

}  // namespace

bool EndsWhole(std::string_view last_block) {
  const bool full_block = last_block.size() == kLogBlockBytes;
  bool whole = true;  // the block starts a record or continues one begun before
  while (!last_block.empty()) {
    if (last_block.size() < kLogHeaderBytes) {
      // A block's trailer; anywhere else the next record would be read from
      // these bytes.
      return whole && full_block && last_block.find_first_not_of('\0') == std::string_view::npos;
    }
    const auto length = static_cast<size_t>(coding::DecodeFixed(last_block.data() + 4, 2));
    const auto type = static_cast<uint8_t>(last_block[6]);
    if (kLogHeaderBytes + length > last_block.size()) return false;  // torn
    const uint32_t crc = coding::ExtendCrc32c(0, last_block.substr(6, 1 + length));
    if (MaskedCrc(crc) != coding::DecodeFixed(last_block.data(), 4)) return false;
    if (type == kFullType || type == kLastType) {
      whole = true;
    } else if (type == kFirstType || type == kMiddleType) {
      whole = false;
    } else {
      return false;  // zero or unknown type: LevelDB drops the rest of the block
    }
    last_block.remove_prefix(kLogHeaderBytes + length);
  }
  return whole;
}

bool MayAppendLogs(const std::string& dir) {
  auto current = LastBlock(db_files::CurrentFile(dir), kLogBlockBytes);
  if (!current || current->empty() || current->back() != '\n') return false;
  std::vector<std::pair<std::string, uint64_t>> files{
      {dir + "/" + current->substr(0, current->size() - 1), kMaxReusedManifestBytes}};
  std::error_code listing;
  for (std::filesystem::directory_iterator it(dir, listing), end; !listing && it != end;
       it.increment(listing)) {
    if (db_files::IsLogFile(it->path().filename().string())) {
      files.emplace_back(it->path().string(), kMaxReusedLogBytes);
    }
  }
  if (listing) return false;
  return std::all_of(files.begin(), files.end(), [](const auto& file) {
    auto block = LastBlock(file.first, file.second);
    return block && EndsWhole(*block);
  });
}

std::string EncodeEdit(const std::vector<StagedTable>& tables, uint64_t next_file_number) {
  std::string edit;
  coding::PutVarint64(edit, kComparator);
  coding::PutLengthPrefixed(edit, leveldb::BytewiseComparator()->Name());
  coding::PutVarint64(edit, kLogNumber);
  coding::PutVarint64(edit, 0);
  coding::PutVarint64(edit, kNextFileNumber);
  coding::PutVarint64(edit, next_file_number);
  coding::PutVarint64(edit, kLastSequence);
  coding::PutVarint64(edit, 0);
  for (const StagedTable& table : tables) {
    coding::PutVarint64(edit, kNewFile);
    coding::PutVarint64(edit, 0);  // level
    coding::PutVarint64(edit, table.number);
    coding::PutVarint64(edit, table.file_size);
    coding::PutLengthPrefixed(edit, table.smallest);
    coding::PutLengthPrefixed(edit, table.largest);
  }
  return edit;
}

std::string LogRecord(std::string_view payload) {
  std::string out;
  size_t block_offset = 0;
  bool first = true;
  do {  // an empty payload is one empty record
    if (kLogBlockBytes - block_offset < kLogHeaderBytes) {
      out.append(kLogBlockBytes - block_offset, '\0');
      block_offset = 0;
    }
    const size_t length = std::min(payload.size(), kLogBlockBytes - block_offset - kLogHeaderBytes);
    const bool last = length == payload.size();
    const uint8_t type = first ? (last ? kFullType : kFirstType) : (last ? kLastType : kMiddleType);
    const char type_byte = static_cast<char>(type);
    const uint32_t crc = coding::ExtendCrc32c(coding::ExtendCrc32c(0, {&type_byte, 1}),
                                              payload.substr(0, length));
    coding::PutFixed32(out, MaskedCrc(crc));
    coding::PutFixed16(out, static_cast<uint16_t>(length));
    out += type_byte;
    out.append(payload.substr(0, length));
    block_offset += kLogHeaderBytes + length;
    payload.remove_prefix(length);
    first = false;
  } while (!payload.empty());
  return out;
}

Status Write(const std::string& dir, const std::vector<StagedTable>& tables,
             uint64_t next_file_number) {
  const std::string manifest = db_files::ManifestFile(dir, kManifestNumber);
  Status status = WriteSynced(manifest, LogRecord(EncodeEdit(tables, next_file_number)));
  if (!status.ok()) return status;
  // CURRENT is replaced by a rename, as LevelDB does: never half written. It
  // holds the MANIFEST's name.
  const std::string temporary = db_files::TempFile(dir, kManifestNumber);
  status = WriteSynced(temporary, manifest.substr(dir.size() + 1) + "\n");
  if (!status.ok()) return status;
  return FromLevelDbFile(leveldb::Env::Default()->RenameFile(temporary, db_files::CurrentFile(dir)),
                         db_files::CurrentFile(dir));
}

}  // namespace gosl::manifest
