#include "peer/wire.hpp"

#include "util/coding.hpp"

namespace gosl::wire {
namespace {

bool IsKnownOp(uint8_t op) {
  switch (static_cast<PeerOp>(op)) {
    case PeerOp::kFindByName:
    case PeerOp::kFindByKey:
    case PeerOp::kRecord:
    case PeerOp::kFindInAllGrids: return true;
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

}  // namespace

std::string EncodeRequest(const PeerRequest& r) {
  std::string out(1, static_cast<char>(r.op));
  out += r.only_grid ? '1' : '0';
  out.append(r.key.bytes());
  coding::PutText16(out, r.name);
  coding::PutText16(out, r.grid);
  return out;
}

bool DecodeRequest(std::string_view bytes, PeerRequest& r) {
  coding::Reader in(bytes);
  uint8_t op = 0;
  if (!in.GetByte(op) || !IsKnownOp(op) || !GetFlag(in, r.only_grid) || !GetKey(in, r.key) ||
      !in.GetText16(r.name) || !in.GetText16(r.grid)) {
    return false;
  }
  r.op = static_cast<PeerOp>(op);
  return in.empty();
}

std::string EncodeReply(const PeerReply& r) {
  std::string out(1, static_cast<char>(r.status.code()));
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

bool DecodeReply(std::string_view bytes, PeerReply& r) {
  coding::Reader in(bytes);
  uint8_t code = 0;
  uint16_t count = 0;
  std::string message;
  if (!in.GetByte(code) || code > static_cast<uint8_t>(Code::kInternal) ||
      !GetFlag(in, r.cacheable) || !in.GetText16(message) || !in.GetFixed16(count)) {
    return false;
  }
  if (code == static_cast<uint8_t>(Code::kOk) && !message.empty()) return false;
  r.status = StatusFrom(static_cast<Code>(code), std::move(message));
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
