#include "compression/bzip2_parallel.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <array>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <new>
#include <thread>
#include <vector>

#include <bzlib.h>

#include "compression/codec_common.hpp"
#include "util/posix_io.hpp"

namespace gosl::compression_internal {
namespace {

constexpr uint64_t kBlockMagic = 0x314159265359ULL;  // the digits of pi
constexpr uint64_t kEndMagic = 0x177245385090ULL;    // of sqrt(pi): the end of a stream
constexpr uint64_t kMagicMask = (uint64_t{1} << 48) - 1;
constexpr uint64_t kHeaderBits = 32;                 // "BZh" and the block size digit
constexpr uint64_t kEndBits = 48 + 32;               // end magic and the stream's CRC
// Read at a time by the scanner, whose window holds what is not yet cut off
// (a block's bytes, ~350 KB of CSV) and one read more.
constexpr size_t kReadBytes = 256 * 1024;
// A block holds at most 900 KB before compression and compresses to little
// more in the worst case: joined segments longer than this are damage.
constexpr uint64_t kLongestBlockBits = uint64_t{1100} * 1000 * 8;
// What a block of CSV text decodes to: 900 KB, and a little more where
// bzip2's first run-length step shortened long runs.
constexpr size_t kLargestBlockText = 1000 * 1000;

enum class Kind { kBlock, kEnd, kUnknown };

// A stretch of the file from one magic number (or the first block's place)
// to the next; bytes holds the file's bytes [first_byte, ...) covering it.
struct Segment {
  Kind kind = Kind::kUnknown;
  uint64_t start_bit = 0, end_bit = 0;  // absolute bit offsets in the file
  uint64_t first_byte = 0;
  std::vector<unsigned char> bytes;
  bool at_eof = false;                  // ends where the file ends
  enum class State { kPending, kDecoding, kDone } state = State::kPending;
  bool decoded = false;                 // kDone: the segment is one whole block
  int error = BZ_OK;
  std::string text;
  uint32_t block_crc = 0;
};

uint64_t Bits(const unsigned char* bytes, uint64_t bit, int count) {
  uint64_t value = 0;
  for (int i = 0; i < count; ++i, ++bit) value = (value << 1) | ((bytes[bit >> 3] >> (7 - (bit & 7))) & 1);
  return value;
}

class BitWriter {
 public:
  explicit BitWriter(std::string& out) : out_(out) {}
  void Put(uint64_t value, int count) {
    for (int i = count - 1; i >= 0; --i) {
      if (used_ == 0) out_.push_back(0);
      if ((value >> i) & 1) out_.back() = static_cast<char>(out_.back() | (0x80 >> used_));
      used_ = (used_ + 1) & 7;
    }
  }
  // count bits of src from bit offset `from`, appended while the output is
  // byte-aligned: whole bytes shifted into place, then the last few bits.
  void CopyAligned(const unsigned char* src, uint64_t from, uint64_t count) {
    const unsigned shift = from & 7;
    const unsigned char* in = src + (from >> 3);
    const uint64_t whole = count >> 3;
    out_.reserve(out_.size() + whole + 16);
    for (uint64_t i = 0; i < whole; ++i) {
      const unsigned value = shift ? ((in[i] << shift) | (in[i + 1] >> (8 - shift))) & 0xFF : in[i];
      out_.push_back(static_cast<char>(value));
    }
    Put(Bits(src, from + whole * 8, static_cast<int>(count & 7)), static_cast<int>(count & 7));
  }

 private:
  std::string& out_;
  unsigned used_ = 0;
};

// Decodes one bzip2 block at a time, keeping what that needs from block to
// block: libbz2's tables (3.6 MB for 900 KB blocks) and the one-block stream
// it is given. Allocated afresh for each block, they cost page faults every
// time, and each thread's malloc arena kept what the thread last freed
// (the import's peak grew by ~10 MB). One per decoding thread.
class BlockDecoder {
 public:
  BlockDecoder() = default;
  BlockDecoder(const BlockDecoder&) = delete;
  BlockDecoder& operator=(const BlockDecoder&) = delete;

  // Decodes bits [from, from + count) of src as one bzip2 block into text
  // (replacing what it held, keeping its capacity): a stream of its own is
  // made of a header, the block, and an end whose CRC is the block's (a
  // one-block stream's CRC is its block's). libbz2 checks both.
  int Decode(const unsigned char* src, uint64_t from, uint64_t count, std::string& text,
             uint32_t& block_crc);

 private:
  // libbz2's allocator: a freed area is kept for the next request of its size.
  static void* Allocate(void* self, int items, int size);
  static void Release(void* self, void* address);

  struct Area {
    std::unique_ptr<char[]> memory;
    size_t bytes = 0;
    bool in_use = false;
  };
  std::array<Area, 4> areas_;  // libbz2 holds two at once: its state and its tables
  std::string stream_;
};

void* BlockDecoder::Allocate(void* self, int items, int size) {
  auto& areas = static_cast<BlockDecoder*>(self)->areas_;
  const size_t bytes = static_cast<size_t>(items) * static_cast<size_t>(size);
  Area* spare = nullptr;
  for (Area& area : areas) {
    if (area.in_use) continue;
    if (area.bytes == bytes) {
      area.in_use = true;
      return area.memory.get();
    }
    if (!spare || (spare->memory && !area.memory)) spare = &area;  // an empty area first
  }
  if (!spare) return nullptr;  // libbz2 reports BZ_MEM_ERROR
  spare->memory.reset(new (std::nothrow) char[bytes]);
  if (!spare->memory) return nullptr;
  spare->bytes = bytes;
  spare->in_use = true;
  return spare->memory.get();
}

void BlockDecoder::Release(void* self, void* address) {
  for (Area& area : static_cast<BlockDecoder*>(self)->areas_) {
    if (area.memory.get() == address) area.in_use = false;
  }
}

int BlockDecoder::Decode(const unsigned char* src, uint64_t from, uint64_t count, std::string& text,
                         uint32_t& block_crc) {
  if (count < 48 + 32) return BZ_DATA_ERROR;
  block_crc = static_cast<uint32_t>(Bits(src, from + 48, 32));
  stream_ = "BZh9";  // the largest block size accepts every block
  BitWriter writer(stream_);
  writer.CopyAligned(src, from, count);
  writer.Put(kEndMagic, 48);
  writer.Put(block_crc, 32);

  bz_stream bz{};
  bz.bzalloc = &BlockDecoder::Allocate;
  bz.bzfree = &BlockDecoder::Release;
  bz.opaque = this;
  if (int rc = BZ2_bzDecompressInit(&bz, 0, 0); rc != BZ_OK) return rc;
  text.clear();
  text.reserve(kLargestBlockText);
  bz.next_in = stream_.data();
  bz.avail_in = static_cast<unsigned>(stream_.size());
  int rc = BZ_OK;
  while (rc == BZ_OK) {
    // A step at a time (resize writes every byte it adds), within the room
    // reserved; past it only when a block decodes to more (a string grown
    // by whole steps would double its capacity at ~770 KB).
    const size_t have = text.size();
    const size_t step = 256 * 1024;
    const size_t room = text.capacity() > have ? std::min(step, text.capacity() - have) : step;
    text.resize(have + room);
    bz.next_out = text.data() + have;
    bz.avail_out = static_cast<unsigned>(room);
    rc = BZ2_bzDecompress(&bz);
    text.resize(text.size() - bz.avail_out);
    if (rc == BZ_OK && bz.avail_in == 0 && bz.avail_out > 0) rc = BZ_UNEXPECTED_EOF;
  }
  BZ2_bzDecompressEnd(&bz);
  // Damaged data without a magic number for a long stretch makes a long
  // segment: its copy is not kept.
  if (stream_.capacity() > kLongestBlockBits / 8 + 64) std::string().swap(stream_);
  return rc == BZ_STREAM_END ? BZ_OK : rc;
}

// Which of the two magic numbers byte b at offset 1 of an 8-byte window can
// belong to, at each of the 8 bit shifts: bits 0-7 block, 8-15 end.
std::array<uint16_t, 256> MagicFilter() {
  std::array<uint16_t, 256> filter{};
  for (unsigned shift = 0; shift < 8; ++shift) {
    filter[(kBlockMagic >> (32 + shift)) & 0xFF] |= static_cast<uint16_t>(1u << shift);
    filter[(kEndMagic >> (32 + shift)) & 0xFF] |= static_cast<uint16_t>(1u << (8 + shift));
  }
  return filter;
}

}  // namespace

struct ParallelBzip2Decoder::Shared {
  int fd = -1;
  std::string path;
  std::string head;  // the file's first bytes, read before
  size_t worker_count = 1;
  size_t max_segments = 4;
  bool started = false;

  std::mutex mutex;
  std::condition_variable changed;
  std::deque<std::shared_ptr<Segment>> segments;  // in file order
  bool scan_done = false;
  bool stopping = false;
  Status scan_status;
  bool reader_waiting = false;  // the reader needs more segments to join

  std::vector<uint64_t> false_boundaries;  // tests only; set before the scan starts
  std::thread scanner;
  std::vector<std::thread> workers;

  // The reader's side (one thread).
  Status status;
  bool finished = false;
  uint32_t stream_crc = 0;
  uint64_t consumed = 0;
  std::string text;
  size_t text_pos = 0;
  // For segments joined after a false boundary, and a file cut inside a
  // stream's end (both rare); once used, it keeps its 3.6 MB to the end.
  BlockDecoder reader_decoder;

  // Texts the reader has handed out, for the next blocks to be decoded into:
  // a block's text is ~1 MB, allocated once instead of for every block.
  // Guarded by mutex.
  std::vector<std::string> spare_texts;
  // Requires: mutex held.
  std::string SpareText() {
    if (spare_texts.empty()) return {};
    std::string spare = std::move(spare_texts.back());
    spare_texts.pop_back();
    return spare;
  }

  void Scan(std::string first_bytes);
  void Work();
  bool Emit(std::shared_ptr<Segment> segment);
  bool NextText();
  bool Block(std::unique_lock<std::mutex>& lock);
  bool EndOfStream(std::unique_lock<std::mutex>& lock);
  bool WaitForMore(std::unique_lock<std::mutex>& lock, size_t count);
  std::vector<unsigned char> JoinedBytes(size_t count) const;
  void Drop(size_t count);
  Status Corruption(const char* problem, uint64_t at_byte, const std::string& detail) const {
    return DamagedData(Compression::kBzip2, path, problem, at_byte, detail);
  }
};

// Hands a segment to the workers and the reader; waits while too many are
// queued, unless the reader is waiting for more of them. False when stopping.
bool ParallelBzip2Decoder::Shared::Emit(std::shared_ptr<Segment> segment) {
  std::unique_lock<std::mutex> lock(mutex);
  changed.wait(lock, [&] { return stopping || segments.size() < max_segments || reader_waiting; });
  if (stopping) return false;
  segments.push_back(std::move(segment));
  changed.notify_all();
  return true;
}

void ParallelBzip2Decoder::Shared::Scan(std::string first_bytes) {
  static const std::array<uint16_t, 256> filter = MagicFilter();
  std::vector<unsigned char> window(first_bytes.begin(), first_bytes.end());  // the file from window_start
  uint64_t window_start = 0;
  bool eof = false;
  Status failure;
  auto read_more = [&] {
    const size_t have = window.size();
    window.resize(have + kReadBytes);
    const ssize_t n = posix::ReadSome(fd, reinterpret_cast<char*>(window.data() + have), kReadBytes);
    window.resize(have + static_cast<size_t>(std::max<ssize_t>(n, 0)));
    if (n < 0) failure = Status::IOError("reading " + Quoted(path) + " failed: " + ErrnoText(errno));
    if (n <= 0) eof = true;
  };
  std::vector<uint64_t> extra = false_boundaries;
  std::sort(extra.begin(), extra.end());
  size_t next_extra = 0;

  uint64_t segment_start = kHeaderBits;  // the first block (or end) follows the header
  Kind segment_kind = Kind::kUnknown;
  bool first = true;
  uint64_t scan_byte = kHeaderBits / 8;  // next window position to look at, absolute
  auto cut = [&](uint64_t end_bit, Kind next_kind, bool at_eof) {
    auto segment = std::make_shared<Segment>();
    segment->kind = segment_kind;
    segment->start_bit = segment_start;
    segment->end_bit = end_bit;
    segment->first_byte = segment_start / 8;
    segment->at_eof = at_eof;
    const uint64_t last_byte = std::min<uint64_t>((end_bit + 7) / 8, window_start + window.size());
    const auto from = window.begin() + static_cast<ptrdiff_t>(segment->first_byte - window_start);
    const auto to = window.begin() + static_cast<ptrdiff_t>(last_byte - window_start);
    segment->bytes.reserve(static_cast<size_t>(to - from) + 8);
    segment->bytes.assign(from, to);
    segment->bytes.resize(segment->bytes.size() + 8, 0);  // room to read a few bits past the end
    if (segment->kind != Kind::kBlock) segment->state = Segment::State::kDone;
    segment_start = end_bit;
    segment_kind = next_kind;
    // What is before the next segment is no longer needed.
    const uint64_t keep_from = segment_start / 8;
    window.erase(window.begin(), window.begin() + static_cast<ptrdiff_t>(keep_from - window_start));
    window_start = keep_from;
    return Emit(std::move(segment));
  };

  for (;;) {
    // Eight bytes from scan_byte must be in the window (or the file ended).
    while (!eof && scan_byte + 8 > window_start + window.size()) read_more();
    if (!failure.ok()) break;
    const uint64_t end = window_start + window.size();
    if (scan_byte + 7 > end) {  // fewer than 7 bytes left: no more magic can start
      if (!cut(end * 8, Kind::kUnknown, true)) return;
      break;
    }
    const unsigned char* at = window.data() + (scan_byte - window_start);
    uint16_t shifts = scan_byte + 8 <= end ? filter[at[1]] : 0xFFFF;
    uint64_t found_bit = 0;
    Kind found_kind = Kind::kUnknown;
    if (shifts != 0) {
      uint64_t word = 0;
      for (int i = 0; i < 8; ++i) word = (word << 8) | (scan_byte + i < end ? at[i] : 0);
      for (unsigned shift = 0; shift < 8 && found_kind == Kind::kUnknown; ++shift) {
        const uint64_t bits = (word >> (16 - shift)) & kMagicMask;
        const uint64_t bit = scan_byte * 8 + shift;
        if (bit < segment_start + (first ? 0 : 1) || bit + 48 > end * 8) continue;
        if (bits == kBlockMagic) found_kind = Kind::kBlock;
        if (bits == kEndMagic) found_kind = Kind::kEnd;
        found_bit = bit;
      }
    }
    // A boundary a test asks for, before the next real one.
    while (next_extra < extra.size() && extra[next_extra] <= segment_start) ++next_extra;
    if (next_extra < extra.size() && extra[next_extra] < (scan_byte + 1) * 8 &&
        (found_kind == Kind::kUnknown || extra[next_extra] < found_bit)) {
      found_bit = extra[next_extra++];
      found_kind = Kind::kBlock;
    }
    if (found_kind == Kind::kUnknown) {
      ++scan_byte;
      continue;
    }
    if (first && found_bit == segment_start) {
      segment_kind = found_kind;  // the first block (or end) right after the header
    } else if (!cut(found_bit, found_kind, false)) {
      return;
    }
    first = false;
    // Looked at again from there: a false match may overlap the next real
    // magic number, and only bits after found_bit count.
    scan_byte = found_bit / 8;
  }
  std::lock_guard<std::mutex> lock(mutex);
  scan_status = failure;
  scan_done = true;
  changed.notify_all();
}

void ParallelBzip2Decoder::Shared::Work() {
  BlockDecoder decoder;
  std::unique_lock<std::mutex> lock(mutex);
  for (;;) {
    std::shared_ptr<Segment> job;
    changed.wait(lock, [&] {
      if (stopping) return true;
      for (auto& segment : segments) {
        if (segment->state == Segment::State::kPending) {
          job = segment;
          return true;
        }
      }
      return false;
    });
    if (stopping) return;
    job->state = Segment::State::kDecoding;
    std::string decoded = SpareText();
    lock.unlock();
    uint32_t crc = 0;
    const int rc = decoder.Decode(job->bytes.data(), job->start_bit - job->first_byte * 8,
                                  job->end_bit - job->start_bit, decoded, crc);
    lock.lock();
    job->error = rc;
    job->decoded = rc == BZ_OK;
    job->text = std::move(decoded);
    job->block_crc = crc;
    job->state = Segment::State::kDone;
    changed.notify_all();
  }
}

// Waits until the queue holds more than `count` segments; false when the
// scan has ended without them.
bool ParallelBzip2Decoder::Shared::WaitForMore(std::unique_lock<std::mutex>& lock, size_t count) {
  reader_waiting = true;
  changed.notify_all();
  changed.wait(lock, [&] { return segments.size() > count || scan_done; });
  reader_waiting = false;
  return segments.size() > count;
}

// The file's bytes under the first `count` queued segments, one after the
// other (neighbours share at most a byte), with 8 zero bytes after them.
std::vector<unsigned char> ParallelBzip2Decoder::Shared::JoinedBytes(size_t count) const {
  const Segment& first = *segments.front();
  std::vector<unsigned char> bytes(first.bytes.begin(), first.bytes.end() - 8);
  for (size_t i = 1; i < count; ++i) {
    const Segment& part = *segments[i];
    bytes.resize(part.first_byte - first.first_byte);
    bytes.insert(bytes.end(), part.bytes.begin(), part.bytes.end() - 8);
  }
  bytes.resize(bytes.size() + 8, 0);
  return bytes;
}

void ParallelBzip2Decoder::Shared::Drop(size_t count) {
  consumed = segments[count - 1]->end_bit / 8;
  segments.erase(segments.begin(), segments.begin() + static_cast<ptrdiff_t>(count));
  changed.notify_all();
}

// The end of a stream at the front: its CRC must be its blocks', and after
// it (and the padding to a byte) come the file's end or the next stream's
// header and first magic number. False boundaries cut into the CRC, the
// padding or the header are joined over.
bool ParallelBzip2Decoder::Shared::EndOfStream(std::unique_lock<std::mutex>& lock) {
  const uint64_t start = segments.front()->start_bit;
  const uint64_t first_byte = segments.front()->first_byte;
  const uint64_t next_stream = (start + kEndBits + 7) / 8;
  const uint64_t next_magic = next_stream * 8 + kHeaderBits;
  size_t count = 1;
  while (segments[count - 1]->end_bit < next_magic && !segments[count - 1]->at_eof) {
    if (!WaitForMore(lock, count)) break;
    ++count;
  }
  const Segment& last = *segments[count - 1];
  const std::vector<unsigned char> bytes = JoinedBytes(count);
  const uint64_t from = start - first_byte * 8;
  if (last.end_bit - start < kEndBits) {
    status = Corruption(last.at_eof ? "truncated" : "corrupt", first_byte,
                        last.at_eof ? "the file ends inside a stream" : "a stream's end is cut short");
    return false;
  }
  if (Bits(bytes.data(), from + 48, 32) != stream_crc) {
    status = Corruption("corrupt", first_byte, "the stream's CRC does not match its blocks'");
    return false;
  }
  stream_crc = 0;
  if (last.at_eof && last.end_bit == next_stream * 8) {
    Drop(count);
    finished = true;
    return false;
  }
  const unsigned char* header = bytes.data() + (next_stream - first_byte);
  const bool next = last.end_bit == next_magic && header[0] == 'B' && header[1] == 'Z' &&
                    header[2] == 'h' && header[3] >= '1' && header[3] <= '9';
  if (!next) {
    const bool cut = last.at_eof && last.end_bit < next_magic;
    status = Corruption(cut ? "truncated" : "corrupt", next_stream,
                        cut ? "the file ends inside a stream"
                            : "what follows a stream is not another stream");
    return false;
  }
  Drop(count);
  return true;
}

// A block at the front: its text, decoded by a worker, or by joining the
// next segments when a false boundary cut it. Sets `text`; false with status
// set when it cannot be decoded. The reader waits for the workers rather
// than decode a block itself: its own decoder would be 3.6 MB more at the
// import's peak, for no more cores; it decodes only the (rare) joins.
bool ParallelBzip2Decoder::Shared::Block(std::unique_lock<std::mutex>& lock) {
  std::shared_ptr<Segment> segment = segments.front();
  const uint64_t from = segment->start_bit - segment->first_byte * 8;
  changed.wait(lock, [&] { return segment->state == Segment::State::kDone; });
  if (!segment->decoded && segment->at_eof) {
    // A file cut inside the stream's end: the block may be whole, followed
    // by the first bits of the end's magic number. Without them it decodes.
    const uint64_t length = segment->end_bit - segment->start_bit;
    for (int cut = 1; cut < 48 && !segment->decoded && static_cast<uint64_t>(cut) < length; ++cut) {
      if (Bits(segment->bytes.data(), from + length - cut, cut) != kEndMagic >> (48 - cut)) continue;
      segment->decoded = reader_decoder.Decode(segment->bytes.data(), from, length - cut,
                                               segment->text, segment->block_crc) == BZ_OK;
    }
  }
  size_t count = 1;
  while (!segment->decoded && WaitForMore(lock, count)) {
    // A false boundary cut the block: join the next segment and try again.
    ++count;
    const uint64_t end_bit = segments[count - 1]->end_bit;
    if (end_bit - segment->start_bit > kLongestBlockBits) break;
    std::vector<unsigned char> bytes = JoinedBytes(count);
    lock.unlock();
    segment->decoded = reader_decoder.Decode(bytes.data(), from, end_bit - segment->start_bit,
                                             segment->text, segment->block_crc) == BZ_OK;
    lock.lock();
  }
  if (!segment->decoded) {
    const Segment& last = *segments[count - 1];
    const bool cut = last.at_eof && last.kind != Kind::kEnd;
    status = cut ? Corruption("truncated", segment->first_byte, "the file ends inside a stream")
                 : Corruption("corrupt", segment->first_byte, Bzip2ErrorText(segment->error));
    return false;
  }
  stream_crc = ((stream_crc << 1) | (stream_crc >> 31)) ^ segment->block_crc;
  // A block of long runs can decode to tens of MB: such a text is not kept.
  if (text.capacity() >= kLargestBlockText && text.capacity() <= 2 * kLargestBlockText &&
      spare_texts.size() <= worker_count) {
    spare_texts.push_back(std::move(text));
  }
  text = std::move(segment->text);
  text_pos = 0;
  Drop(count);
  return true;
}

// Puts the next block's text in `text`; false at the clean end (finished)
// or on damage (status set).
bool ParallelBzip2Decoder::Shared::NextText() {
  std::unique_lock<std::mutex> lock(mutex);
  for (;;) {
    changed.wait(lock, [&] { return !segments.empty() || scan_done; });
    if (segments.empty()) {
      status = !scan_status.ok() ? scan_status
                                 : Corruption("truncated", consumed, "the file ends inside a stream");
      return false;
    }
    const Segment& front = *segments.front();
    if (front.kind == Kind::kBlock) return Block(lock);
    if (front.kind == Kind::kUnknown) {
      // Bits where a block should start but no magic number is.
      status = front.at_eof ? Corruption("truncated", front.first_byte, "the file ends inside a stream")
                            : Corruption("corrupt", front.first_byte, "no block starts here");
      return false;
    }
    if (!EndOfStream(lock)) return false;
  }
}

ParallelBzip2Decoder::ParallelBzip2Decoder(int fd, std::string path, std::string head, size_t workers)
    : shared_(std::make_unique<Shared>()) {
  shared_->fd = fd;
  shared_->path = std::move(path);
  shared_->head = std::move(head);
  shared_->worker_count = std::max<size_t>(workers, 1);
  // One segment queued for each worker and one more: enough to keep them
  // busy, and each holds a block's text (~900 KB) besides its own bytes.
  shared_->max_segments = shared_->worker_count + 1;
}

ParallelBzip2Decoder::~ParallelBzip2Decoder() {
  {
    std::lock_guard<std::mutex> lock(shared_->mutex);
    shared_->stopping = true;
  }
  shared_->changed.notify_all();
  if (shared_->scanner.joinable()) shared_->scanner.join();
  for (std::thread& worker : shared_->workers) worker.join();
}

void ParallelBzip2Decoder::AddFalseBoundariesForTest(std::vector<uint64_t> bit_offsets) {
  shared_->false_boundaries = std::move(bit_offsets);
}

size_t ParallelBzip2Decoder::Read(char* out, size_t room) {
  Shared& s = *shared_;
  if (!s.started) {
    // Threads start here, not in the constructor, so that a test can add
    // false boundaries first.
    s.started = true;
    s.scanner = std::thread([&s] { s.Scan(std::move(s.head)); });
    for (size_t i = 0; i < s.worker_count; ++i) s.workers.emplace_back([&s] { s.Work(); });
  }
  while (s.text_pos == s.text.size()) {
    if (s.finished || !s.status.ok() || !s.NextText()) return 0;
  }
  const size_t n = std::min(room, s.text.size() - s.text_pos);
  std::memcpy(out, s.text.data() + s.text_pos, n);
  s.text_pos += n;
  return n;
}

const Status& ParallelBzip2Decoder::status() const { return shared_->status; }
uint64_t ParallelBzip2Decoder::bytes_consumed() const { return shared_->consumed; }

}  // namespace gosl::compression_internal
