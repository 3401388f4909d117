// What the line reader and writer share: buffer sizes, codec settings and
// one-line messages naming a file. Private to src/compression/.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include <bzlib.h>

#include "gosl/compression.hpp"
#include "gosl/status.hpp"

namespace gosl::compression_internal {

// Both buffers are fixed, whatever the file: this is the whole memory budget
// of a reader besides the decoder's own state.
inline constexpr size_t kInputBytes = 256 * 1024;
inline constexpr size_t kTextBytes = 256 * 1024;
// A partial line of up to kMaxLineBytes is moved to the front of the text
// buffer before refilling it; the rest must leave room for real progress.
static_assert(kTextBytes >= 2 * LineReader::kMaxLineBytes, "text buffer too small");

// The writer compresses (or writes) once this much text is buffered.
inline constexpr size_t kWriteChunkBytes = 256 * 1024;

inline constexpr int kGzipLevel = 6;       // gzip's own default: the usual size/speed trade
inline constexpr int kBzip2BlockSize = 9;  // 900 KB blocks, as `bzip2` itself writes
// inflateInit2 window bits: 15 (the maximum window) + 32 (accept a gzip or zlib
// header); deflateInit2: 15 + 16 (write a gzip header and trailer).
inline constexpr int kInflateWindowBits = 15 + 32;
inline constexpr int kDeflateWindowBits = 15 + 16;
inline constexpr int kDeflateMemLevel = 8;  // zlib's default

// File names come from the operator, but a message must stay one line.
inline std::string Quoted(const std::string& path) { return "'" + Sanitized(path, 1024) + "'"; }

inline std::string ErrnoText(int error) { return std::strerror(error); }

inline const char* CompressionName(Compression compression) {
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

// "<codec> data in '<path>' is <problem> at byte <at_byte>: <detail>", the
// one shape of every damaged-file message, whichever decoder found it.
inline Status DamagedData(Compression compression, const std::string& path, const char* problem,
                          uint64_t at_byte, const std::string& detail) {
  return Status::Corruption(std::string(CompressionName(compression)) + " data in " + Quoted(path) +
                            " is " + problem + " at byte " + std::to_string(at_byte) + ": " + detail);
}

inline const char* Bzip2ErrorText(int rc) {
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

// Case-insensitive in ASCII: "NAME.CSV.GZ" is gzip too.
inline bool EndsWith(const std::string& text, std::string_view suffix) {
  if (text.size() < suffix.size()) return false;
  return std::equal(suffix.begin(), suffix.end(), text.end() - suffix.size(),
                    [](char a, char b) { return a == (b >= 'A' && b <= 'Z' ? b - 'A' + 'a' : b); });
}

}  // namespace gosl::compression_internal
