#include "store/record_format.hpp"

namespace gosl {

namespace record_format {
namespace {

constexpr int kGridShift = 3;
constexpr uint8_t kGridMask = 0x18;
enum GridCode : uint8_t { kGridNone = 0, kGridProduction = 1, kGridTesting = 2, kGridInline = 3 };
constexpr std::string_view kResidentSuffix = " Resident";

// The NameInfo of W-Hat's typical record ("Firstname Resident" from
// Production) is not stored at all: a name entry of just the 16 key bytes, or
// a key entry starting with a printable character (a flag byte is < 0x20),
// means this (NameInfo 0x0d). It saves two bytes a record, 20 MB of 10 M records.
constexpr uint8_t kImpliedFlags = NameInfo::kCapitalised | kResidentFlag;

std::string Capitalised(std::string_view lookup) {
  std::string out(lookup);
  bool word_start = true;
  for (char& c : out) {
    if (word_start && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    word_start = c == ' ';
  }
  return out;
}

bool IsImplied(uint8_t display_flags, std::string_view grid) {
  return display_flags == kImpliedFlags && grid == "Production";
}

AvatarRecord ImpliedRecord(const Uuid& key, std::string_view lookup) {
  return AvatarRecord{key, DeriveDisplay(kImpliedFlags, lookup), "Production"};
}

}  // namespace

std::string DeriveDisplay(uint8_t display_flags, std::string_view lookup) {
  std::string display = (display_flags & kDisplayMask) == NameInfo::kCapitalised
                            ? Capitalised(lookup)
                            : std::string(lookup);
  if (display_flags & kResidentFlag) display += kResidentSuffix;
  return display;
}

uint8_t DisplayFlagsFor(const AvatarName& name) {
  for (uint8_t kind : {NameInfo::kCapitalised, NameInfo::kAsLookup}) {
    for (uint8_t resident : {uint8_t{0}, kResidentFlag}) {
      const uint8_t flags = kind | resident;
      if (DeriveDisplay(flags, name.lookup()) == name.display()) return flags;
    }
  }
  return NameInfo::kVerbatim;
}

void AppendNameInfo(std::string& out, const NameInfo& info) {
  std::string_view grid = info.grid;
  const uint8_t grid_code = grid.empty()             ? kGridNone
                            : grid == "Production"   ? kGridProduction
                            : grid == "Testing"      ? kGridTesting
                                                     : kGridInline;
  out += static_cast<char>(info.display_flags | grid_code << kGridShift);
  if (grid_code == kGridInline) {
    grid = grid.substr(0, 255);  // requests allow 64 bytes (parameters.cpp)
    out += static_cast<char>(grid.size());
    out.append(grid);
  }
}

bool ParseNameInfo(std::string_view& value, NameInfo& info) {
  if (value.empty()) return false;
  const auto flags = static_cast<uint8_t>(value[0]);
  value.remove_prefix(1);
  info.display_flags = flags & (kDisplayMask | kResidentFlag);
  if ((info.display_flags & kDisplayMask) == 3) return false;
  switch ((flags & kGridMask) >> kGridShift) {
    case kGridNone: info.grid.clear(); break;
    case kGridProduction: info.grid = "Production"; break;
    case kGridTesting: info.grid = "Testing"; break;
    default: {
      if (value.empty()) return false;
      const size_t length = static_cast<uint8_t>(value[0]);
      if (value.size() < 1 + length) return false;
      info.grid.assign(value.substr(1, length));
      value.remove_prefix(1 + length);
    }
  }
  return true;
}

std::string NameKey(std::string_view lookup, std::string_view grid) {
  std::string key(1, kNamePrefix);
  key.append(lookup);
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

std::string LatestKey(std::string_view lookup) {
  std::string key(1, kLatestPrefix);
  return key.append(lookup);
}

std::string OtherGridsPrefix(std::string_view lookup) { return NameKey(lookup, ""); }

std::string_view LookupOfNameKey(std::string_view key_without_prefix) {
  return key_without_prefix.substr(0, key_without_prefix.find('\0'));
}

Result<AvatarRecord> DecodeNameEntry(std::string_view lookup, std::string_view value) {
  if (value.size() < Uuid::kByteLength) {
    return Status::Corruption("short name entry for '" + Sanitized(lookup) + "'");
  }
  const Uuid key = Uuid::FromBytes(value.substr(0, Uuid::kByteLength));
  value.remove_prefix(Uuid::kByteLength);
  if (value.empty()) return ImpliedRecord(key, lookup);
  NameInfo info;
  if (!ParseNameInfo(value, info)) {
    return Status::Corruption("bad name entry for '" + Sanitized(lookup) + "'");
  }
  std::string name = (info.display_flags & kDisplayMask) == NameInfo::kVerbatim
                         ? std::string(value)
                         : DeriveDisplay(info.display_flags, lookup);
  return AvatarRecord{key, std::move(name), std::move(info.grid)};
}

Result<AvatarRecord> DecodeKeyEntry(const Uuid& key, std::string_view value) {
  if (!value.empty() && static_cast<uint8_t>(value[0]) >= 0x20) return ImpliedRecord(key, value);
  NameInfo info;
  if (!ParseNameInfo(value, info)) return Status::Corruption("bad key entry for " + key.ToString());
  std::string name = (info.display_flags & kDisplayMask) == NameInfo::kVerbatim
                         ? std::string(value)
                         : DeriveDisplay(info.display_flags, value);
  return AvatarRecord{key, std::move(name), std::move(info.grid)};
}

namespace {

void PutBigEndian64(std::string& out, uint64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8) out += static_cast<char>((value >> shift) & 0xFF);
}

uint64_t GetBigEndian64(std::string_view bytes) {
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value = value << 8 | static_cast<uint8_t>(bytes[i]);
  return value;
}

}  // namespace

std::string JournalKey(uint64_t time_us, const Uuid& key) {
  std::string out(1, kJournalPrefix);
  PutBigEndian64(out, time_us);
  out.append(key.bytes());
  return out;
}

std::string JournalValue(std::string_view display_name, std::string_view grid) {
  std::string out;
  AppendNameInfo(out, NameInfo{NameInfo::kVerbatim, std::string(grid)});
  out.append(display_name);
  return out;
}

std::string RegisteredKey(const Uuid& key) {
  std::string out(1, kRegisteredPrefix);
  return out.append(key.bytes());
}

std::string RegisteredValue(uint64_t time_us) {
  std::string out;
  PutBigEndian64(out, time_us);
  return out;
}

Result<JournalEntry> DecodeJournalEntry(std::string_view key, std::string_view value) {
  if (key.size() != 8 + Uuid::kByteLength) return Status::Corruption("bad journal key length");
  JournalEntry entry;
  entry.time_us = GetBigEndian64(key);
  entry.key = Uuid::FromBytes(key.substr(8));
  NameInfo info;
  if (!ParseNameInfo(value, info) || (info.display_flags & kDisplayMask) != NameInfo::kVerbatim ||
      value.empty()) {
    return Status::Corruption("bad journal entry for " + entry.key.ToString());
  }
  entry.grid = std::move(info.grid);
  entry.name.assign(value);
  return entry;
}

bool DecodeRegisteredValue(std::string_view value, uint64_t& time_us) {
  if (value.size() != 8) return false;
  time_us = GetBigEndian64(value);
  return true;
}

std::string EncodeCarryFrom(const CarryFrom& from) {
  std::string out;
  coding::PutFixed64(out, from.device);
  coding::PutFixed64(out, from.inode);
  out.append(from.path);
  return out;
}

bool DecodeCarryFrom(std::string_view value, CarryFrom& from) {
  coding::Reader in(value);
  if (!in.GetFixed64(from.device) || !in.GetFixed64(from.inode)) return false;
  from.path.assign(in.rest());
  return !from.path.empty();
}

std::string_view GridOfNameKey(std::string_view key_without_prefix) {
  const size_t nul = key_without_prefix.find('\0');
  return nul == std::string_view::npos ? std::string_view(kMainGrid) : key_without_prefix.substr(nul + 1);
}

std::string CountKey(std::string_view grid) {
  std::string key(1, kCountPrefix);
  key.append(grid);
  return key;
}

std::string CountValue(uint64_t count) {
  std::string out;
  coding::PutFixed64(out, count);
  return out;
}

bool DecodeCountValue(std::string_view value, uint64_t& count) {
  coding::Reader in(value);
  return in.GetFixed64(count) && in.empty();
}

std::string EncodeCountedMark(const CountedMark& mark) {
  std::string out;
  coding::PutFixed64(out, mark.registrations);
  out.append(mark.newest_journal_key);
  return out;
}

bool DecodeCountedMark(std::string_view value, CountedMark& mark) {
  coding::Reader in(value);
  if (!in.GetFixed64(mark.registrations)) return false;
  mark.newest_journal_key.assign(in.rest());
  return mark.newest_journal_key.empty() || mark.newest_journal_key[0] == kJournalPrefix;
}

std::string EncodeImportFacts(const ImportFacts& facts) {
  std::string out;
  coding::PutFixed64(out, facts.time_s);
  coding::PutFixed64(out, facts.imported);
  coding::PutFixed64(out, facts.skipped);
  out += facts.refresh ? '1' : '0';
  out.append(facts.file);
  return out;
}

bool DecodeImportFacts(std::string_view value, ImportFacts& facts) {
  coding::Reader in(value);
  uint8_t refresh = 0;
  if (!in.GetFixed64(facts.time_s) || !in.GetFixed64(facts.imported) ||
      !in.GetFixed64(facts.skipped) || !in.GetByte(refresh) || (refresh != '0' && refresh != '1')) {
    return false;
  }
  facts.refresh = refresh == '1';
  facts.file.assign(in.rest());
  return true;
}

}  // namespace record_format

void EncodeRecord(const AvatarName& name, const Uuid& key, std::string_view grid,
                  RecordEntries& out) {
  using namespace record_format;
  const NameInfo info{DisplayFlagsFor(name), std::string(grid)};
  const bool implied = IsImplied(info.display_flags, grid);
  const bool verbatim = info.display_flags == NameInfo::kVerbatim;

  out.key_entry_key.assign(1, kKeyPrefix);  // in place: imports encode millions
  out.key_entry_key.append(key.bytes());
  out.key_entry_value.clear();
  if (!implied) AppendNameInfo(out.key_entry_value, info);
  out.key_entry_value += verbatim ? name.display() : name.lookup();

  out.name_entry_key = NameKey(name.lookup(), grid);
  out.name_entry_value.assign(key.bytes());
  if (!implied) AppendNameInfo(out.name_entry_value, info);
  if (verbatim) out.name_entry_value += name.display();

  out.latest_entry_key.clear();
  out.latest_entry_value.clear();
  if (grid != kMainGrid) {
    out.latest_entry_key = LatestKey(name.lookup());
    out.latest_entry_value.assign(grid);
  }
}

void EncodeRegistration(const AvatarName& name, const Uuid& key, std::string_view grid,
                        uint64_t time_us, RegistrationEntries& out) {
  using namespace record_format;
  out.time_key = RegisteredKey(key);
  out.time_value = RegisteredValue(time_us);
  out.journal_key = JournalKey(time_us, key);
  out.journal_value = JournalValue(name.display(), grid);
}

}  // namespace gosl
