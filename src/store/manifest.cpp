#include "store/manifest.hpp"

#include <algorithm>
#include <memory>
#include <string_view>

#include <leveldb/comparator.h>
#include <leveldb/env.h>

#include "store/db_files.hpp"
#include "store/leveldb_status.hpp"
#include "util/coding.hpp"

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

}  // namespace

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
