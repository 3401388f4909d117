// The database's key layout and value encoding (docs/storage.md), as pure
// functions: what key each entry has, how NameInfo packs a record's display
// form and grid, and how entries decode back into records. No LevelDB here.
//
//   'k' + 16-byte UUID            -> NameInfo + name text   (key -> newest name)
//   'n' + lookup form             -> 16-byte UUID + NameInfo (name -> key, main grid)
//   'n' + lookup + '\0' + grid    -> the same, for any other grid
//   'l' + lookup form             -> the grid that recorded the name last (not main)
//   'r' + time + key              -> NameInfo + name: an in-world registration (journal)
//   'R' + key                     -> time of the key's newest in-world registration
//   'm' + "layout"                -> layout version
//   'm' + "features"              -> "journal": registrations are journaled
//   'm' + "carry-from"            -> the directory this one replaced, while carried
//   'c' + grid                    -> how many name entries the grid has
//   'm' + "counted"               -> registrations journaled, and the newest journal key
//                                    the counts include (stale when another wrote)
//   'm' + "last-import"           -> the last import or refresh: file, time, records
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "gosl/avatar_name.hpp"
#include "gosl/avatar_record.hpp"
#include "gosl/bulk_load.hpp"
#include "gosl/status.hpp"
#include "gosl/uuid.hpp"
#include "util/coding.hpp"

namespace gosl::record_format {

inline constexpr char kKeyPrefix = 'k';
inline constexpr char kNamePrefix = 'n';
inline constexpr char kLatestPrefix = 'l';
inline constexpr char kJournalPrefix = 'r';
inline constexpr char kRegisteredPrefix = 'R';
inline constexpr std::string_view kLayoutKey = "mlayout";
// The journal ('r', 'R', "mfeatures") came after layout 2 and is invisible
// to a reader of layout 2 (0.2.0 reads only the keys it knows): a database
// keeps layout 2, so 0.2.0 and later versions can serve it side by side.
inline constexpr std::string_view kFeaturesKey = "mfeatures";
inline constexpr std::string_view kFeatures = "journal";
inline constexpr std::string_view kCarryFromKey = "mcarry-from";
// The counts --status and status=1 answer, kept by every write (0.3.0 on):
// a version that does not keep them leaves a journal entry newer than the
// one "mcounted" names, and the next owner counts again.
inline constexpr char kCountPrefix = 'c';
inline constexpr std::string_view kCountedKey = "mcounted";
inline constexpr std::string_view kLastImportKey = "mlast-import";
// 2: names per grid. A layout 1 database is read as it is (its 'n' entries
// may hold any grid's name) and migrated to 2 on its first open.
inline constexpr std::string_view kLayoutVersion = "2";
inline constexpr std::string_view kOldLayoutVersion = "1";

// NameInfo is one flag byte, then the grid when it is not a common one:
//   bits 0-1  how the display form is stored: verbatim, or derived from the
//             lookup form (words capitalised, or as is)
//   bit 2     the display form ends in " Resident" (not part of the lookup form)
//   bits 3-4  grid: "", "Production", "Testing", or a length byte + bytes
struct NameInfo {
  enum Display : uint8_t { kVerbatim = 0, kCapitalised = 1, kAsLookup = 2 };
  uint8_t display_flags = kVerbatim;  // Display | kResidentFlag
  std::string grid;
};
inline constexpr uint8_t kDisplayMask = 0x03;
inline constexpr uint8_t kResidentFlag = 0x04;

// The cheapest display flags that give name.display() back from its lookup form.
uint8_t DisplayFlagsFor(const AvatarName& name);
// The display form the flags derive from a lookup form.
std::string DeriveDisplay(uint8_t display_flags, std::string_view lookup);
// Appends NameInfo (a grid longer than 255 bytes is cut).
void AppendNameInfo(std::string& out, const NameInfo& info);
// Reads NameInfo from the front of value and leaves value at what follows;
// false when it is malformed.
bool ParseNameInfo(std::string_view& value, NameInfo& info);

// Keys.
std::string NameKey(std::string_view lookup, std::string_view grid);  // grid's name -> key
std::string KeyKey(const Uuid& key);                                  // key -> newest name
std::string LatestKey(std::string_view lookup);                       // the name's latest grid
// 'n' + lookup + '\0': every grid's entry for a name but the main grid's.
std::string OtherGridsPrefix(std::string_view lookup);
// The lookup form inside a name entry's key (prefix removed), without its grid.
std::string_view LookupOfNameKey(std::string_view key_without_prefix);

// The journal of in-world registrations. Times are microseconds since 1970,
// big-endian in keys so that they sort in time order.
std::string JournalKey(uint64_t time_us, const Uuid& key);
std::string JournalValue(std::string_view display_name, std::string_view grid);
std::string RegisteredKey(const Uuid& key);
std::string RegisteredValue(uint64_t time_us);
struct JournalEntry {
  uint64_t time_us = 0;
  Uuid key;
  std::string name;  // display form
  std::string grid;
};
// Decodes a journal entry (its key without the prefix). kCorruption when malformed.
Result<JournalEntry> DecodeJournalEntry(std::string_view key, std::string_view value);
// The time in a RegisteredKey's value; false when malformed.
bool DecodeRegisteredValue(std::string_view value, uint64_t& time_us);

// Where a directory being carried into this one is: its identity, and the
// path it had when the carry began (it may have moved since).
struct CarryFrom {
  uint64_t device = 0, inode = 0;
  std::string path;
};
std::string EncodeCarryFrom(const CarryFrom& from);
bool DecodeCarryFrom(std::string_view value, CarryFrom& from);

// The grid of a name entry's key (prefix removed): the main grid when it
// names none.
std::string_view GridOfNameKey(std::string_view key_without_prefix);

// The counts kept beside the entries (docs/storage.md).
std::string CountKey(std::string_view grid);
std::string CountValue(uint64_t count);
bool DecodeCountValue(std::string_view value, uint64_t& count);
struct CountedMark {
  uint64_t registrations = 0;      // journal entries
  std::string newest_journal_key;  // the newest counted ('r' + time + key), or empty
};
std::string EncodeCountedMark(const CountedMark& mark);
bool DecodeCountedMark(std::string_view value, CountedMark& mark);

std::string EncodeImportFacts(const ImportFacts& facts);
bool DecodeImportFacts(std::string_view value, ImportFacts& facts);

// Decodes the value of NameKey(lookup, ...). kCorruption when malformed.
Result<AvatarRecord> DecodeNameEntry(std::string_view lookup, std::string_view value);
// Decodes the value of KeyKey(key). kCorruption when malformed.
Result<AvatarRecord> DecodeKeyEntry(const Uuid& key, std::string_view value);

}  // namespace gosl::record_format
