#include "gosl/compression.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include <bzlib.h>
#include <zlib.h>

#include "util/posix_io.hpp"

namespace gosl {
namespace {

// Both buffers are fixed, whatever the file: this is the whole memory budget
// of a reader besides the decoder's own state.
constexpr size_t kInputBytes = 256 * 1024;
constexpr size_t kTextBytes = 256 * 1024;
// A partial line of up to kMaxLineBytes is moved to the front of the text
// buffer before refilling it; the rest must leave room for real progress.
static_assert(kTextBytes >= 2 * LineReader::kMaxLineBytes, "text buffer too small");

// The writer compresses (or writes) once this much text is buffered.
constexpr size_t kWriteChunkBytes = 256 * 1024;

constexpr int kGzipLevel = 6;       // gzip's own default: the usual size/speed trade
constexpr int kBzip2BlockSize = 9;  // 900 KB blocks, as `bzip2` itself writes
// inflateInit2 window bits: 15 (the maximum window) + 32 (accept a gzip or zlib
// header); deflateInit2: 15 + 16 (write a gzip header and trailer).
constexpr int kInflateWindowBits = 15 + 32;
constexpr int kDeflateWindowBits = 15 + 16;
constexpr int kDeflateMemLevel = 8;  // zlib's default

// File names come from the operator, but a message must stay one line.
std::string Quoted(const std::string& path) { return "'" + Sanitized(path, 1024) + "'"; }

std::string ErrnoText(int error) { return std::strerror(error); }

const char* CompressionName(Compression compression) {
  switch (compression) {
    case Compression::kGzip:
      return "gzip";
    case Compression::kBzip2:
      return "bzip2";
    case Compression::kNone:
      break;
  }
  return "plain";
}

const char* Bzip2ErrorText(int rc) {
  switch (rc) {
    case BZ_DATA_ERROR:
      return "data integrity error (BZ_DATA_ERROR)";
    case BZ_DATA_ERROR_MAGIC:
      return "bad stream header (BZ_DATA_ERROR_MAGIC)";
    case BZ_MEM_ERROR:
      return "out of memory (BZ_MEM_ERROR)";
    case BZ_PARAM_ERROR:
      return "bad parameter (BZ_PARAM_ERROR)";
    case BZ_SEQUENCE_ERROR:
      return "sequence error (BZ_SEQUENCE_ERROR)";
    case BZ_CONFIG_ERROR:
      return "library misconfigured (BZ_CONFIG_ERROR)";
    default:
      return "unknown error";
  }
}

bool EndsWith(const std::string& text, std::string_view suffix) {
  if (text.size() < suffix.size()) return false;
  return std::equal(suffix.begin(), suffix.end(), text.end() - suffix.size(),
                    [](char a, char b) { return a == (b >= 'A' && b <= 'Z' ? b - 'A' + 'a' : b); });
}

}  // namespace

Compression CompressionForName(const std::string& path) {
  if (EndsWith(path, ".gz")) return Compression::kGzip;
  if (EndsWith(path, ".bz2")) return Compression::kBzip2;
  return Compression::kNone;
}

struct LineReader::Impl {
  ~Impl() {
    if (fd >= 0) ::close(fd);
    if (z_open) inflateEnd(&z);
    if (bz_open) BZ2_bzDecompressEnd(&bz);
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
  Status Corruption(const char* problem, const std::string& detail) const;

  uint64_t consumed() const { return bytes_read - (input_end - input_pos); }

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

  // Between two gzip members or bzip2 streams (and before the first), the
  // input may end cleanly; inside one, its end means the file is truncated.
  bool in_stream = false;
  z_stream z{};
  bool z_open = false;
  bz_stream bz{};
  bool bz_open = false;
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
  return Status::Corruption(std::string(CompressionName(compression)) + " data in " + Quoted(path) +
                            " is " + problem + " at byte " + std::to_string(consumed()) + ": " +
                            detail);
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

// One loop for both libraries: feed input, take output, and at the end of a
// member/stream start the next one if the file goes on (RFC 1952 2.2 allows
// several gzip members; bzip2 tools read concatenated streams).
bool LineReader::Impl::FillCompressed() {
  for (;;) {
    if (input_pos == input_end && !file_eof) {
      if (!ReadInput()) return false;
    }
    const bool no_input = input_pos == input_end;
    if (no_input && !in_stream) return false;  // clean end after a complete stream

    char* out = text.get() + text_end;
    const size_t room = kTextBytes - text_end;
    const size_t available = input_end - input_pos;
    size_t produced = 0;
    Status failure;
    if (compression == Compression::kGzip) {
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
    } else {
      if (!in_stream) {
        int rc = BZ2_bzDecompressInit(&bz, /*verbosity=*/0, /*small=*/0);
        if (rc != BZ_OK) {
          status = Status::IOError("reading " + Quoted(path) + " failed: " + Bzip2ErrorText(rc));
          return false;
        }
        bz_open = true;
        in_stream = true;
      }
      bz.next_in = input.get() + input_pos;
      bz.avail_in = static_cast<unsigned int>(available);
      bz.next_out = out;
      bz.avail_out = static_cast<unsigned int>(room);
      int rc = BZ2_bzDecompress(&bz);
      input_pos += available - bz.avail_in;
      produced = room - bz.avail_out;
      if (rc == BZ_STREAM_END) {
        // A concatenated stream needs a fresh decoder: libbz2 cannot reset one.
        BZ2_bzDecompressEnd(&bz);
        bz_open = false;
        in_stream = false;
      } else if (rc == BZ_MEM_ERROR) {
        failure = Status::IOError("reading " + Quoted(path) + " failed: " + Bzip2ErrorText(rc));
      } else if (rc != BZ_OK) {
        failure = Corruption("corrupt", Bzip2ErrorText(rc));
      }
    }
    text_end += produced;
    if (!failure.ok()) {
      // libbz2 may finish a good block and fail on the next in one call: the
      // good block's lines still come out first.
      if (produced > 0) {
        deferred = std::move(failure);
        return true;
      }
      status = std::move(failure);
      return false;
    }
    if (produced > 0) return true;
    // The decoder is called once more with no input before this, so text it
    // still held back has been delivered: a stream still open now is cut short.
    if (no_input && in_stream) {
      status = Corruption("truncated", "the file ends inside a stream");
      return false;
    }
  }
}

LineReader::LineReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LineReader::~LineReader() = default;

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

  // The magic needs 4 bytes; a pipe may deliver fewer per read.
  while (impl->input_end < 4 && !impl->file_eof) {
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
  }
  return std::unique_ptr<LineReader>(new LineReader(std::move(impl)));
}

bool LineReader::Next(std::string& line) {
  Impl& s = *impl_;
  for (;;) {
    const char* begin = s.text.get() + s.text_pos;
    const size_t available = s.text_end - s.text_pos;
    if (const void* found = std::memchr(begin, '\n', available)) {
      const size_t length = static_cast<size_t>(static_cast<const char*>(found) - begin);
      s.text_pos += length + 1;
      if (s.skipping) {
        s.skipping = false;  // the tail of a long line, already counted
        continue;
      }
      if (length > kMaxLineBytes) {
        ++s.long_lines;
        continue;
      }
      line.assign(begin, length);  // reuses line's capacity: no allocation per line
      return true;
    }
    // No '\n' buffered. A partial line that is already too long is dropped
    // now, so the buffer never has to hold more than kMaxLineBytes of it.
    if (s.skipping) {
      s.text_pos = s.text_end;
    } else if (available > kMaxLineBytes) {
      s.skipping = true;
      ++s.long_lines;
      s.text_pos = s.text_end;
    }
    std::memmove(s.text.get(), s.text.get() + s.text_pos, s.text_end - s.text_pos);
    s.text_end -= s.text_pos;
    s.text_pos = 0;
    if (!s.Fill()) {
      // A last line without '\n' counts at a clean end; before an error it is
      // incomplete and dropped.
      const bool last_line = s.status.ok() && !s.skipping && s.text_end > 0;
      if (last_line) line.assign(s.text.get(), s.text_end);
      s.text_end = 0;
      s.skipping = false;
      return last_line;
    }
  }
}

const Status& LineReader::status() const { return impl_->status; }
Compression LineReader::compression() const { return impl_->compression; }
uint64_t LineReader::bytes_consumed() const { return impl_->consumed(); }
uint64_t LineReader::file_size() const { return impl_->file_size; }
uint64_t LineReader::long_lines() const { return impl_->long_lines; }

struct LineWriter::Impl {
  ~Impl() {
    if (fd >= 0) ::close(fd);
    if (z_open) deflateEnd(&z);
    if (bz_open) BZ2_bzCompressEnd(&bz);
    if (temp_exists) ::unlink(temp_path.c_str());
  }

  // Compresses (or copies) pending to the file; with finish, also ends the
  // compressed stream. Returns false with status set on failure.
  bool Flush(bool finish);
  bool WriteOut(const char* data, size_t size);
  // Records the first failure and returns false.
  bool Fail(Status failure) {
    if (status.ok()) status = std::move(failure);
    return false;
  }

  std::string path;
  std::string temp_path;
  int fd = -1;
  Compression compression = Compression::kNone;
  std::string pending;
  std::unique_ptr<char[]> out{new char[kWriteChunkBytes]};
  z_stream z{};
  bool z_open = false;
  bz_stream bz{};
  bool bz_open = false;
  Status status;  // the first failure; every later call returns it
  bool closed = false;
  bool temp_exists = false;  // PATH.tmp is ours to remove
};

bool LineWriter::Impl::WriteOut(const char* data, size_t size) {
  if (posix::WriteFully(fd, std::string_view(data, size))) return true;
  return Fail(Status::IOError("writing " + Quoted(temp_path) + " failed: " + ErrnoText(errno)));
}

bool LineWriter::Impl::Flush(bool finish) {
  if (compression == Compression::kNone) {
    bool ok = WriteOut(pending.data(), pending.size());
    pending.clear();
    return ok;
  }
  // pending is at most a chunk plus one line, but the libraries count in
  // unsigned int: feed a huge line in slices.
  constexpr size_t kSliceBytes = 1 << 30;
  size_t offset = 0;
  for (;;) {
    const size_t slice = std::min(pending.size() - offset, kSliceBytes);
    const bool last_slice = offset + slice == pending.size();
    const bool finishing = finish && last_slice;
    bool done;
    size_t produced;
    if (compression == Compression::kGzip) {
      z.next_in = reinterpret_cast<Bytef*>(pending.data() + offset);
      z.avail_in = static_cast<uInt>(slice);
      z.next_out = reinterpret_cast<Bytef*>(out.get());
      z.avail_out = static_cast<uInt>(kWriteChunkBytes);
      int rc = deflate(&z, finishing ? Z_FINISH : Z_NO_FLUSH);
      if (rc == Z_STREAM_ERROR) {
        return Fail(Status::IOError("writing " + Quoted(temp_path) + " failed: deflate error"));
      }
      offset += slice - z.avail_in;
      produced = kWriteChunkBytes - z.avail_out;
      // Z_NO_FLUSH is done when deflate left output room (all input taken and
      // nothing held back); Z_FINISH when the trailer is out.
      done = finishing ? rc == Z_STREAM_END : z.avail_out != 0;
    } else {
      bz.next_in = pending.data() + offset;
      bz.avail_in = static_cast<unsigned int>(slice);
      bz.next_out = out.get();
      bz.avail_out = static_cast<unsigned int>(kWriteChunkBytes);
      int rc = BZ2_bzCompress(&bz, finishing ? BZ_FINISH : BZ_RUN);
      if (rc != BZ_RUN_OK && rc != BZ_FINISH_OK && rc != BZ_STREAM_END) {
        return Fail(
            Status::IOError("writing " + Quoted(temp_path) + " failed: " + Bzip2ErrorText(rc)));
      }
      offset += slice - bz.avail_in;
      produced = kWriteChunkBytes - bz.avail_out;
      done = finishing ? rc == BZ_STREAM_END : bz.avail_in == 0;
    }
    if (produced > 0 && !WriteOut(out.get(), produced)) return false;
    if (done && last_slice) break;
  }
  pending.clear();
  return true;
}

LineWriter::LineWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LineWriter::~LineWriter() = default;

Result<std::unique_ptr<LineWriter>> LineWriter::Create(const std::string& path) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->temp_path = path + ".tmp";
  impl->compression = CompressionForName(path);
  // O_TRUNC rather than O_EXCL: a temporary file left by a killed export must
  // not block every later one.
  impl->fd = ::open(impl->temp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (impl->fd < 0) {
    return Status::IOError("cannot create " + Quoted(impl->temp_path) + ": " + ErrnoText(errno));
  }
  impl->temp_exists = true;
  if (impl->compression == Compression::kGzip) {
    if (deflateInit2(&impl->z, kGzipLevel, Z_DEFLATED, kDeflateWindowBits, kDeflateMemLevel,
                     Z_DEFAULT_STRATEGY) != Z_OK) {
      return Status::IOError("cannot create " + Quoted(impl->temp_path) +
                             ": zlib cannot start (out of memory)");
    }
    impl->z_open = true;
  } else if (impl->compression == Compression::kBzip2) {
    int rc = BZ2_bzCompressInit(&impl->bz, kBzip2BlockSize, /*verbosity=*/0, /*workFactor=*/0);
    if (rc != BZ_OK) {
      return Status::IOError("cannot create " + Quoted(impl->temp_path) + ": " +
                             Bzip2ErrorText(rc));
    }
    impl->bz_open = true;
  }
  impl->pending.reserve(kWriteChunkBytes + 256);
  return std::unique_ptr<LineWriter>(new LineWriter(std::move(impl)));
}

Status LineWriter::WriteLine(std::string_view line) {
  Impl& s = *impl_;
  if (!s.status.ok()) return s.status;
  if (s.closed) return Status::IOError("writing " + Quoted(s.path) + " after it was closed");
  s.pending.append(line);
  s.pending.push_back('\n');
  if (s.pending.size() >= kWriteChunkBytes) s.Flush(/*finish=*/false);
  return s.status;
}

Status LineWriter::Close() {
  Impl& s = *impl_;
  if (s.closed) return s.status;
  s.closed = true;
  bool ok = s.status.ok() && s.Flush(/*finish=*/true);
  // fsync before rename: otherwise a crash can leave PATH renamed but empty.
  if (ok && ::fsync(s.fd) != 0) {
    ok = s.Fail(Status::IOError("syncing " + Quoted(s.temp_path) + " failed: " + ErrnoText(errno)));
  }
  if (s.fd >= 0 && ::close(s.fd) != 0 && ok) {
    ok = s.Fail(Status::IOError("closing " + Quoted(s.temp_path) + " failed: " + ErrnoText(errno)));
  }
  s.fd = -1;
  if (ok && ::rename(s.temp_path.c_str(), s.path.c_str()) != 0) {
    ok = s.Fail(Status::IOError("cannot rename " + Quoted(s.temp_path) + " to " + Quoted(s.path) +
                                ": " + ErrnoText(errno)));
  }
  if (!ok) {
    ::unlink(s.temp_path.c_str());
    s.temp_exists = false;
    return s.status;
  }
  s.temp_exists = false;
  // The rename lives in the directory: sync it too, or a crash may undo it.
  const size_t slash = s.path.rfind('/');
  const std::string directory =
      slash == std::string::npos ? "." : (slash == 0 ? "/" : s.path.substr(0, slash));
  int dir_fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0 || ::fsync(dir_fd) != 0) {
    s.Fail(
        Status::IOError("syncing directory " + Quoted(directory) + " failed: " + ErrnoText(errno)));
  }
  if (dir_fd >= 0) ::close(dir_fd);
  return s.status;
}

}  // namespace gosl
