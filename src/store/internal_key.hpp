// LevelDB's internal keys, for tables built without a database: a user key
// and an 8-byte little-endian trailer (sequence << 8 | type), ordered by user
// key ascending, then sequence descending (leveldb db/dbformat.h, part of the
// on-disk format every LevelDB version reads, though not of its public API).
#pragma once

#include <cstdint>
#include <string>

#include <leveldb/comparator.h>
#include <leveldb/slice.h>

namespace gosl::internal_key {

inline constexpr uint64_t kMaxSequence = (uint64_t{1} << 56) - 1;
inline constexpr uint8_t kTypeDeletion = 0;
inline constexpr uint8_t kTypeValue = 1;
inline constexpr size_t kTrailerBytes = 8;

// Appends the trailer of a value entry with this sequence number.
void AppendTrailer(std::string& key, uint64_t sequence, uint8_t type = kTypeValue);
// Requires: internal_key holds at least the trailer.
uint64_t SequenceOf(const leveldb::Slice& internal_key);
uint8_t TypeOf(const leveldb::Slice& internal_key);
leveldb::Slice UserKeyOf(const leveldb::Slice& internal_key);

// The order (and index-key shortening) of LevelDB's InternalKeyComparator,
// which is not exported; a table built with it reads back exactly like one a
// compaction wrote.
const leveldb::Comparator* Order();

}  // namespace gosl::internal_key
