#include "peer/wire.hpp"

#include <vector>

#include "gosl/text.hpp"

#include "util/coding.hpp"

namespace gosl::wire {
namespace {

constexpr char kHelloOp = 'H';
constexpr char kHelloReplyTag = 'h';
constexpr char kChunkTag = 'x';
// The kinds of an export chunk's entry.
constexpr char kNewestName = '0', kEarlierName = '1', kRegisteredName = '2';

bool IsKnownOp(uint8_t op) {
  switch (static_cast<PeerOp>(op)) {
    case PeerOp::kFindByName:
    case PeerOp::kFindByKey:
    case PeerOp::kRecord:
    case PeerOp::kFindInAllGrids:
    case PeerOp::kSwapIn:
    case PeerOp::kExport:
    case PeerOp::kFindManyByName:
    case PeerOp::kFindManyByKey:
    case PeerOp::kFacts: return true;
  }
  return false;
}

bool GetFlag(coding::Reader& in, bool& flag) {
  uint8_t byte = 0;
  if (!in.GetByte(byte) || (byte != '0' && byte != '1')) return false;
  flag = byte == '1';
  return true;
}

bool GetKey(coding::Reader& in, Uuid& key) {
  std::string_view bytes;
  if (!in.GetBytes(Uuid::kByteLength, bytes)) return false;
  key = Uuid::FromBytes(bytes);
  return true;
}

bool GetVersionByte(coding::Reader& in, int version) {
  uint8_t byte = 0;
  return version == kVersion1 || (in.GetByte(byte) && byte == version);
}

Status StatusFrom(Code code, std::string message) {
  switch (code) {
    case Code::kOk: return Status::OK();
    case Code::kInvalidArgument: return Status::InvalidArgument(std::move(message));
    case Code::kMissingArgument: return Status::MissingArgument(std::move(message));
    case Code::kNotFound: return Status::NotFound(std::move(message));
    case Code::kTooLarge: return Status::TooLarge(std::move(message));
    case Code::kTooLong: return Status::TooLong(std::move(message));
    case Code::kUnavailable: return Status::Unavailable(std::move(message));
    case Code::kIOError: return Status::IOError(std::move(message));
    case Code::kForbidden: return Status::Forbidden(std::move(message));
    case Code::kTooManyRequests: return Status::TooManyRequests(std::move(message));
    case Code::kInternal: return Status::Internal(std::move(message));
    case Code::kCorruption: break;
  }
  return Status::Corruption(std::move(message));
}

// A status: its code, and its message (never one with OK: one encoding).
bool GetStatus(coding::Reader& in, uint8_t code, Status& status) {
  std::string message;
  if (code > static_cast<uint8_t>(Code::kInternal) || !in.GetText16(message)) return false;
  if (code == static_cast<uint8_t>(Code::kOk) && !message.empty()) return false;
  status = StatusFrom(static_cast<Code>(code), std::move(message));
  return true;
}

}  // namespace

std::string EncodeRequest(const PeerRequest& r, int version) {
  std::string out;
  if (version != kVersion1) out += static_cast<char>(version);
  out += static_cast<char>(r.op);
  out += r.only_grid ? '1' : '0';
  out.append(r.key.bytes());
  coding::PutText16(out, r.name);
  coding::PutText16(out, r.grid);
  return out;
}

bool DecodeRequest(std::string_view bytes, PeerRequest& r, int& version) {
  coding::Reader in(bytes);
  uint8_t op = 0;
  if (!in.GetByte(op)) return false;
  version = kVersion1;  // 0.2.0's frames start with the op, a capital letter
  if (op == kVersion2) {
    version = kVersion2;
    if (!in.GetByte(op)) return false;
  }
  // The operator's operations and the batches are version 2's only.
  const bool operation = op == static_cast<uint8_t>(PeerOp::kSwapIn) ||
                         op == static_cast<uint8_t>(PeerOp::kExport) ||
                         op == static_cast<uint8_t>(PeerOp::kFacts) ||
                         IsBatchLookup(static_cast<PeerOp>(op));
  if (!IsKnownOp(op) || (operation && version == kVersion1) || !GetFlag(in, r.only_grid) || !GetKey(in, r.key) || !in.GetText16(r.name) ||
      !in.GetText16(r.grid)) {
    return false;
  }
  r.op = static_cast<PeerOp>(op);
  return in.empty();
}

std::string EncodeReply(const PeerReply& r, int version) {
  std::string out;
  if (version != kVersion1) out += static_cast<char>(version);
  out += static_cast<char>(r.status.code());
  out += r.cacheable ? '1' : '0';
  coding::PutText16(out, r.status.message());
  coding::PutFixed16(out, static_cast<uint16_t>(r.records.size()));
  for (const AvatarRecord& record : r.records) {
    out.append(record.key.bytes());
    coding::PutText16(out, record.name);
    coding::PutText16(out, record.grid);
  }
  return out;
}

bool DecodeReply(std::string_view bytes, PeerReply& r, int version) {
  coding::Reader in(bytes);
  uint8_t code = 0;
  uint16_t count = 0;
  if (!GetVersionByte(in, version) || !in.GetByte(code)) return false;
  Status status;
  bool cacheable = false;
  if (!GetFlag(in, cacheable) || !GetStatus(in, code, status) || !in.GetFixed16(count)) {
    return false;
  }
  r.status = std::move(status);
  r.cacheable = cacheable;
  r.records.clear();
  for (size_t i = 0; i < count; ++i) {
    AvatarRecord record;
    if (!GetKey(in, record.key) || !in.GetText16(record.name) || !in.GetText16(record.grid)) {
      return false;
    }
    r.records.push_back(std::move(record));
  }
  return in.empty();
}

std::string EncodeHello(const PeerHello& hello) {
  std::string out{static_cast<char>(kVersion2), kHelloOp};
  coding::PutFixed64(out, hello.device);
  coding::PutFixed64(out, hello.inode);
  coding::PutText16(out, hello.version);
  return out;
}

bool DecodeHello(std::string_view bytes, PeerHello& hello) {
  coding::Reader in(bytes);
  std::string_view tag;
  return in.GetBytes(2, tag) && IsHello(tag) && in.GetFixed64(hello.device) &&
         in.GetFixed64(hello.inode) && in.GetText16(hello.version) && in.empty();
}

bool IsHello(std::string_view in) {
  return in.size() >= 2 && static_cast<uint8_t>(in[0]) == kVersion2 && in[1] == kHelloOp;
}

std::string EncodeHelloReply(const PeerHelloReply& reply) {
  std::string out{static_cast<char>(kVersion2), kHelloReplyTag,
                  static_cast<char>(reply.status.code())};
  coding::PutFixed64(out, reply.device);
  coding::PutFixed64(out, reply.inode);
  coding::PutText16(out, reply.version);
  coding::PutText16(out, reply.status.message());
  return out;
}

bool DecodeHelloReply(std::string_view bytes, PeerHelloReply& reply) {
  coding::Reader in(bytes);
  std::string_view tag;
  uint8_t code = 0;
  if (!in.GetBytes(2, tag) || static_cast<uint8_t>(tag[0]) != kVersion2 || tag[1] != kHelloReplyTag ||
      !in.GetByte(code) || !in.GetFixed64(reply.device) || !in.GetFixed64(reply.inode) ||
      !in.GetText16(reply.version) || !GetStatus(in, code, reply.status)) {
    return false;
  }
  return in.empty();
}

std::string EncodeChunk(const std::vector<ExportEntry>& chunk) {
  std::string out{static_cast<char>(kVersion2), kChunkTag};
  coding::PutFixed16(out, static_cast<uint16_t>(chunk.size()));
  for (const ExportEntry& entry : chunk) {
    const bool registered = !entry.earlier_name && entry.registered_us != 0;
    out += entry.earlier_name ? kEarlierName : registered ? kRegisteredName : kNewestName;
    out.append(entry.record.key.bytes());
    coding::PutText16(out, entry.record.name);
    coding::PutText16(out, entry.record.grid);
    if (registered) coding::PutFixed64(out, entry.registered_us);
  }
  return out;
}

size_t ChunkEntryBytes(const ExportEntry& entry) {
  return 1 + Uuid::kByteLength + 2 + entry.record.name.size() + 2 + entry.record.grid.size() + 8;
}

bool IsChunk(std::string_view in) {
  return in.size() >= 2 && static_cast<uint8_t>(in[0]) == kVersion2 && in[1] == kChunkTag;
}

bool DecodeChunk(std::string_view bytes, std::vector<ExportEntry>& chunk) {
  coding::Reader in(bytes);
  std::string_view tag;
  uint16_t count = 0;
  if (!in.GetBytes(2, tag) || !IsChunk(tag) || !in.GetFixed16(count)) return false;
  chunk.clear();
  for (size_t i = 0; i < count; ++i) {
    ExportEntry entry;
    uint8_t kind = 0;
    if (!in.GetByte(kind) || (kind != kEarlierName && kind != kNewestName && kind != kRegisteredName) ||
        !GetKey(in, entry.record.key) || !in.GetText16(entry.record.name) ||
        !in.GetText16(entry.record.grid)) {
      return false;
    }
    entry.earlier_name = kind == kEarlierName;
    // A registered entry has a time, and no other one: one reading only.
    if (kind == kRegisteredName && (!in.GetFixed64(entry.registered_us) || entry.registered_us == 0)) {
      return false;
    }
    chunk.push_back(std::move(entry));
  }
  return in.empty();
}

std::string EncodeFacts(const DatabaseFacts& f) {
  std::string out = "counted " + std::string(f.counted ? "1" : f.count_failed ? "2" : "0") +
                    "\ngrids " + std::to_string(f.grids) + "\nlayout " + f.layout +
                    "\ncarrying " + (f.carrying ? "1" : "0") + "\nregistrations " +
                    std::to_string(f.registrations) + " " + std::to_string(f.registrations_hour) + " " +
                    std::to_string(f.registrations_day) + " " + std::to_string(f.registrations_30_days) + "\n";
  if (f.last_import) {
    const ImportFacts& i = *f.last_import;
    out += "import " + std::to_string(i.time_s) + " " + std::to_string(i.imported) + " " +
           std::to_string(i.skipped) + " " + (i.refresh ? "1" : "0") + "\t" + Sanitized(i.file, 1024) + "\n";
  }
  for (const auto& [grid, count] : f.names_per_grid) {
    // Grids from a script's header hold no control character; older
    // databases and batches were not checked: one must not break the lines.
    out += "grid " + std::to_string(count) + "\t" + Sanitized(grid, 255) + "\n";
  }
  return out;
}

namespace {

// "<word> <numbers...>[\t<text>]": false when the line is not exactly that.
bool ParseFactsLine(std::string_view line, std::string_view word, std::vector<uint64_t>& numbers,
                    size_t count, std::string* text) {
  if (line.substr(0, word.size() + 1) != std::string(word) + " ") return false;
  line.remove_prefix(word.size() + 1);
  const size_t tab = line.find('\t');
  if ((tab != std::string_view::npos) != (text != nullptr)) return false;
  if (text) text->assign(line.substr(tab + 1));
  std::string_view digits = line.substr(0, tab);
  numbers.clear();
  while (!digits.empty()) {
    const size_t space = digits.find(' ');
    const std::string_view number = digits.substr(0, space);
    if (number.empty() || number.size() > 19 ||
        number.find_first_not_of("0123456789") != std::string_view::npos) {
      return false;
    }
    numbers.push_back(std::stoull(std::string(number)));
    digits = space == std::string_view::npos ? std::string_view() : digits.substr(space + 1);
    if (space != std::string_view::npos && digits.empty()) return false;
  }
  return numbers.size() == count;
}

}  // namespace

bool DecodeFacts(std::string_view text, DatabaseFacts& f) {
  f = DatabaseFacts();
  std::vector<uint64_t> n;
  int seen = 0;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    if (end == std::string_view::npos) return false;
    const std::string_view line = text.substr(0, end);
    text.remove_prefix(end + 1);
    std::string words;
    if (line == "counted 0" || line == "counted 1" || line == "counted 2") {
      f.counted = line.back() == '1';
      f.count_failed = line.back() == '2';
      seen |= 1;
    } else if (ParseFactsLine(line, "grids", n, 1, nullptr)) {
      f.grids = n[0];
      seen |= 16;
    } else if (line == "carrying 0" || line == "carrying 1") {
      f.carrying = line.back() == '1';
      seen |= 2;
    } else if (line.substr(0, 7) == "layout ") {
      f.layout.assign(line.substr(7));
      seen |= 4;
    } else if (ParseFactsLine(line, "registrations", n, 4, nullptr)) {
      f.registrations = n[0], f.registrations_hour = n[1], f.registrations_day = n[2],
      f.registrations_30_days = n[3];
      seen |= 8;
    } else if (ParseFactsLine(line, "import", n, 4, &words) && n[3] <= 1) {
      f.last_import = ImportFacts{words, n[0], n[1], n[2], n[3] == 1};
    } else if (ParseFactsLine(line, "grid", n, 1, &words)) {
      if (!f.names_per_grid.emplace(words, n[0]).second) return false;
      f.names += n[0];
    } else {
      return false;
    }
  }
  return seen == 31;
}

std::string FrameHeader(size_t payload_bytes) {
  std::string header;
  coding::PutFixed32(header, static_cast<uint32_t>(payload_bytes));
  return header;
}

bool DecodeFrameHeader(std::string_view header, uint32_t& payload_bytes) {
  coding::Reader in(header);
  return in.GetFixed32(payload_bytes) && in.empty() && payload_bytes <= kMaxFrameBytes;
}

}  // namespace gosl::wire

namespace gosl {

std::string EncodeNameQueries(const std::vector<PeerNameQuery>& queries) {
  std::string text;
  for (const PeerNameQuery& query : queries) {
    if (!text.empty()) text += '\n';
    text += query.only_grid ? '1' : '0';
    text += query.grid;
    text += '\t';
    text += query.name;
  }
  return text;
}

bool DecodeNameQueries(std::string_view text, std::vector<PeerNameQuery>& queries) {
  queries.clear();
  for (const std::string_view line : SplitLines(text)) {
    const size_t tab = line.find('\t');
    if (line.empty() || (line[0] != '0' && line[0] != '1') || tab == std::string_view::npos) return false;
    queries.push_back(
        {std::string(line.substr(tab + 1)), std::string(line.substr(1, tab - 1)), line[0] == '1'});
  }
  return !queries.empty();
}

std::string EncodeKeyQueries(const std::vector<Uuid>& keys) {
  std::string text;
  for (const Uuid& key : keys) text += (text.empty() ? "" : "\n") + key.ToString();
  return text;
}

bool DecodeKeyQueries(std::string_view text, std::vector<Uuid>& keys) {
  keys.clear();
  for (const std::string_view line : SplitLines(text)) {
    auto key = Uuid::Parse(line);
    if (!key.ok()) return false;
    keys.push_back(key.value());
  }
  return true;
}

}  // namespace gosl
