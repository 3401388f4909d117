// LineWriter (gosl/compression.hpp): plain, gzip or bzip2 text, written
// to PATH.tmp and renamed into place when closed.
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

#include "compression/codec_common.hpp"
#include "gosl/status.hpp"
#include "util/posix_io.hpp"

namespace gosl {

using namespace compression_internal;

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
