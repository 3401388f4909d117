// LineReader (gosl/compression.hpp): plain, gzip or bzip2 text, line by line.
#include "gosl/compression.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>
#include <thread>
#include <utility>

#include <zlib.h>

#include "compression/bzip2_parallel.hpp"
#include "compression/codec_common.hpp"
#include "gosl/status.hpp"
#include "util/posix_io.hpp"

namespace gosl {

using namespace compression_internal;


Compression CompressionForName(const std::string& path) {
  if (EndsWith(path, ".gz")) return Compression::kGzip;
  if (EndsWith(path, ".bz2")) return Compression::kBzip2;
  return Compression::kNone;
}

struct LineReader::Impl {
  ~Impl() {
    bzip2.reset();  // its threads read fd
    if (fd >= 0) ::close(fd);
    if (z_open) inflateEnd(&z);
  }

  // Reads more of the file into the input buffer. Returns false on a read
  // error (status set); at the end of the file sets file_eof.
  bool ReadInput();
  // Appends decoded text to text[text_end, kTextBytes). Returns true when it
  // appended at least one byte; false at the end of the input or on an error
  // (status set), after which it is never called again.
  bool Fill();
  bool FillPlain();
  bool FillCompressed();
  bool FillBzip2();
  Status Corruption(const char* problem, const std::string& detail) const;
  bool BufferedLine(size_t& begin, size_t& length);
  bool Refill(std::string_view& last_line);

  uint64_t consumed() const {
    return bzip2 ? bzip2->bytes_consumed() : bytes_read - (input_end - input_pos);
  }

  std::string path;
  int fd = -1;
  Compression compression = Compression::kNone;
  Status status;
  uint64_t file_size = 0;
  uint64_t bytes_read = 0;
  uint64_t long_lines = 0;

  std::unique_ptr<char[]> input{new char[kInputBytes]};
  size_t input_pos = 0;
  size_t input_end = 0;
  bool file_eof = false;

  std::unique_ptr<char[]> text{new char[kTextBytes]};
  size_t text_pos = 0;
  size_t text_end = 0;
  bool finished = false;  // Fill() has returned false
  // An error found by the decoder call that also produced text: that text is
  // handed out first, and the error reported by the next Fill().
  Status deferred;
  bool skipping = false;  // inside a line longer than kMaxLineBytes

  // Between two gzip members (and before the first), the input may end
  // cleanly; inside one, its end means the file is truncated.
  bool in_stream = false;
  z_stream z{};
  bool z_open = false;
  // bzip2 is decoded block by block on up to two threads (bzip2_parallel.hpp).
  std::unique_ptr<ParallelBzip2Decoder> bzip2;
};

bool LineReader::Impl::ReadInput() {
  if (input_pos == input_end) input_pos = input_end = 0;
  ssize_t n = posix::ReadSome(fd, input.get() + input_end, kInputBytes - input_end);
  if (n < 0) {
    status = Status::IOError("reading " + Quoted(path) + " failed: " + ErrnoText(errno));
    return false;
  }
  if (n == 0) file_eof = true;
  input_end += static_cast<size_t>(n);
  bytes_read += static_cast<uint64_t>(n);
  return true;
}

Status LineReader::Impl::Corruption(const char* problem, const std::string& detail) const {
  return DamagedData(compression, path, problem, consumed(), detail);
}

bool LineReader::Impl::Fill() {
  if (finished) return false;
  if (!deferred.ok()) {
    status = std::exchange(deferred, Status::OK());
    finished = true;
    return false;
  }
  bool filled = compression == Compression::kNone ? FillPlain() : FillCompressed();
  if (!filled) finished = true;
  return filled;
}

bool LineReader::Impl::FillPlain() {
  char* out = text.get() + text_end;
  size_t room = kTextBytes - text_end;
  // Only the first bytes, read to detect the compression, pass through the
  // input buffer; after that the file is read straight into the text buffer.
  if (input_pos < input_end) {
    size_t n = std::min(room, input_end - input_pos);
    std::memcpy(out, input.get() + input_pos, n);
    input_pos += n;
    text_end += n;
    return true;
  }
  if (file_eof) return false;
  ssize_t n = posix::ReadSome(fd, out, room);
  if (n < 0) {
    status = Status::IOError("reading " + Quoted(path) + " failed: " + ErrnoText(errno));
    return false;
  }
  if (n == 0) {
    file_eof = true;
    return false;
  }
  text_end += static_cast<size_t>(n);
  bytes_read += static_cast<uint64_t>(n);
  return true;
}

bool LineReader::Impl::FillBzip2() {
  if (!bzip2) {
    // What Open() read to see the magic is the decoder's first input. A
    // worker per core, at most two: on 2 cores one worker (beside the
    // thread that parses) left the import decode-bound, two finish 10 M
    // records ~3 s sooner; each worker holds a decoder (3.6 MB) and a block
    // of text, so more cores do not grow the import's memory further.
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    const unsigned threads = std::min(cores, 2u);
    bzip2 = std::make_unique<ParallelBzip2Decoder>(
        fd, path, std::string(input.get() + input_pos, input_end - input_pos), threads);
    input_pos = input_end;
  }
  const size_t produced = bzip2->Read(text.get() + text_end, kTextBytes - text_end);
  if (produced == 0) {
    status = bzip2->status();
    return false;
  }
  text_end += produced;
  return true;
}

// gzip: feed input, take output, and at the end of a member start the next
// one if the file goes on (RFC 1952 2.2 allows several members).
bool LineReader::Impl::FillCompressed() {
  if (compression == Compression::kBzip2) return FillBzip2();
  for (;;) {
    if (input_pos == input_end && !file_eof) {
      if (!ReadInput()) return false;
    }
    const bool no_input = input_pos == input_end;
    if (no_input && !in_stream) return false;  // clean end after a complete member

    char* out = text.get() + text_end;
    const size_t room = kTextBytes - text_end;
    const size_t available = input_end - input_pos;
    size_t produced = 0;
    Status failure;
    if (!in_stream) {
      // inflateInit2 succeeded in Open(); inflateReset cannot fail on a valid stream.
      if (inflateReset(&z) != Z_OK) {
        status = Corruption("unreadable", "inflateReset failed");
        return false;
      }
      in_stream = true;
    }
    z.next_in = reinterpret_cast<Bytef*>(input.get() + input_pos);
    z.avail_in = static_cast<uInt>(available);
    z.next_out = reinterpret_cast<Bytef*>(out);
    z.avail_out = static_cast<uInt>(room);
    int rc = inflate(&z, Z_NO_FLUSH);
    input_pos += available - z.avail_in;
    produced = room - z.avail_out;
    if (rc == Z_STREAM_END) {
      in_stream = false;
    } else if (rc == Z_BUF_ERROR && z.avail_in == 0) {
      // No progress without more input: fine unless the file has ended (below).
    } else if (rc == Z_MEM_ERROR) {
      failure = Status::IOError("reading " + Quoted(path) + " failed: zlib is out of memory");
    } else if (rc != Z_OK) {
      failure =
          Corruption("corrupt", z.msg != nullptr ? z.msg : "zlib error " + std::to_string(rc));
    }
    text_end += produced;
    if (!failure.ok()) {
      // zlib may inflate good data and fail further on in one call: the
      // good lines still come out first.
      if (produced > 0) {
        deferred = std::move(failure);
        return true;
      }
      status = std::move(failure);
      return false;
    }
    if (produced > 0) return true;
    // The decoder is called once more with no input before this, so text it
    // still held back has been delivered: a member still open now is cut short.
    if (no_input && in_stream) {
      status = Corruption("truncated", "the file ends inside a stream");
      return false;
    }
  }
}

LineReader::LineReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LineReader::~LineReader() = default;

namespace {

// The archives and compressors a download may come in that are not read here.
const char* OtherArchive(const unsigned char* magic, size_t have) {
  const auto starts = [&](std::string_view prefix) {
    return have >= prefix.size() && std::memcmp(magic, prefix.data(), prefix.size()) == 0;
  };
  if (starts("PK\x03\x04") || starts("PK\x05\x06")) return "a zip archive";
  if (starts(std::string_view("\xFD" "7zXZ\0", 6))) return "an xz file";
  if (starts("\x28\xB5\x2F\xFD")) return "a zstd file";
  if (starts("7z\xBC\xAF\x27\x1C")) return "a 7-Zip archive";
  if (starts("Rar!\x1A\x07")) return "a RAR archive";
  return nullptr;
}

}  // namespace

Result<std::unique_ptr<LineReader>> LineReader::Open(const std::string& path) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (impl->fd < 0) return Status::IOError("cannot open " + Quoted(path) + ": " + ErrnoText(errno));
  struct stat info;
  if (::fstat(impl->fd, &info) != 0) {
    return Status::IOError("cannot open " + Quoted(path) + ": " + ErrnoText(errno));
  }
  // open(2) accepts a directory for reading; only read(2) would refuse it.
  if (S_ISDIR(info.st_mode)) {
    return Status::IOError("cannot open " + Quoted(path) + ": " + ErrnoText(EISDIR));
  }
  if (S_ISREG(info.st_mode)) {
    impl->file_size = static_cast<uint64_t>(info.st_size);
    // Advisory only (doubles the kernel's read-ahead); a refusal changes nothing.
    (void)::posix_fadvise(impl->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  }

  // The magic needs up to 6 bytes; a pipe may deliver fewer per read.
  while (impl->input_end < 6 && !impl->file_eof) {
    if (!impl->ReadInput()) return impl->status;
  }
  const auto* magic = reinterpret_cast<const unsigned char*>(impl->input.get());
  const size_t have = impl->input_end;
  if (have >= 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
    impl->compression = Compression::kGzip;
    if (inflateInit2(&impl->z, kInflateWindowBits) != Z_OK) {
      return Status::IOError("cannot open " + Quoted(path) + ": zlib cannot start (" +
                             (impl->z.msg != nullptr ? impl->z.msg : "out of memory") + ")");
    }
    impl->z_open = true;
  } else if (have >= 4 && magic[0] == 'B' && magic[1] == 'Z' && magic[2] == 'h' &&
             magic[3] >= '1' && magic[3] <= '9') {
    impl->compression = Compression::kBzip2;
  } else if (const char* other = OtherArchive(magic, have)) {
    // Read as text, an archive gives lines of garbage and then "no records": say what it is.
    return Status::InvalidArgument(Quoted(path) + " is " + other +
                                   ": unpack it first (--import reads .csv, .csv.gz and .csv.bz2)");
  }
  return std::unique_ptr<LineReader>(new LineReader(std::move(impl)));
}

// The next complete line buffered, [begin, begin + length) of text; false
// when no '\n' is buffered. Skips lines longer than kMaxLineBytes (counted)
// and the tail of one cut at a refill.
bool LineReader::Impl::BufferedLine(size_t& begin, size_t& length) {
  for (;;) {
    const char* from = text.get() + text_pos;
    const void* found = std::memchr(from, '\n', text_end - text_pos);
    if (!found) return false;
    begin = text_pos;
    length = static_cast<size_t>(static_cast<const char*>(found) - from);
    text_pos += length + 1;
    if (skipping) {
      skipping = false;  // the tail of a long line, already counted
    } else if (length > kMaxLineBytes) {
      ++long_lines;
    } else {
      return true;
    }
  }
}

// No '\n' is buffered: keeps the partial line and reads more. A partial
// line already too long is dropped now, so the buffer never has to hold more
// than kMaxLineBytes of it. At the end (false) last_line holds a last line
// without '\n': it counts at a clean end; before an error it is incomplete
// and dropped.
bool LineReader::Impl::Refill(std::string_view& last_line) {
  if (skipping) {
    text_pos = text_end;
  } else if (text_end - text_pos > kMaxLineBytes) {
    skipping = true;
    ++long_lines;
    text_pos = text_end;
  }
  std::memmove(text.get(), text.get() + text_pos, text_end - text_pos);
  text_end -= text_pos;
  text_pos = 0;
  if (Fill()) return true;
  last_line = status.ok() && !skipping ? std::string_view(text.get(), text_end) : std::string_view();
  text_end = 0;  // valid until the next call: Fill() is not called again
  skipping = false;
  return false;
}

bool LineReader::Next(std::string& line) {
  Impl& s = *impl_;
  for (;;) {
    size_t begin = 0, length = 0;
    if (s.BufferedLine(begin, length)) {
      line.assign(s.text.get() + begin, length);  // reuses line's capacity: no allocation per line
      return true;
    }
    std::string_view last_line;
    if (!s.Refill(last_line)) {
      line.assign(last_line);
      return !last_line.empty();
    }
  }
}

size_t LineReader::NextLines(std::string& out, size_t bytes) {
  Impl& s = *impl_;
  size_t lines = 0;
  while (out.size() < bytes) {
    // Consecutive lines lie back to back in the buffer, each with its '\n':
    // they are appended as one span, broken only where a long line is skipped.
    size_t span_begin = s.text_pos, span_end = s.text_pos;
    size_t begin = 0, length = 0;
    while (out.size() + (span_end - span_begin) < bytes && s.BufferedLine(begin, length)) {
      if (begin != span_end) {
        out.append(s.text.get() + span_begin, span_end - span_begin);
        span_begin = begin;
      }
      span_end = begin + length + 1;
      ++lines;
    }
    out.append(s.text.get() + span_begin, span_end - span_begin);
    if (out.size() >= bytes) break;
    std::string_view last_line;
    if (!s.Refill(last_line)) {
      if (!last_line.empty()) {
        out.append(last_line);
        out += '\n';
        ++lines;
      }
      break;
    }
  }
  return lines;
}

const Status& LineReader::status() const { return impl_->status; }
Compression LineReader::compression() const { return impl_->compression; }
uint64_t LineReader::bytes_consumed() const { return impl_->consumed(); }
uint64_t LineReader::file_size() const { return impl_->file_size; }
uint64_t LineReader::long_lines() const { return impl_->long_lines; }

}  // namespace gosl
