// LineReader and LineWriter: text files line by line, plain or compressed with
// gzip or bzip2, streamed in fixed-size chunks so a file is never held in
// memory. They know nothing of CSV: splitting and trimming lines is the caller's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "gosl/status.hpp"

namespace gosl {

enum class Compression { kNone, kGzip, kBzip2 };

// The compression a file name asks for: kGzip for ".gz", kBzip2 for ".bz2"
// (either case), kNone for anything else. Used by LineWriter and in messages;
// LineReader never looks at the name.
Compression CompressionForName(const std::string& path);

// Reads a text file line by line. The compression is detected from the first
// bytes (gzip: 1f 8b; bzip2: "BZh" and a block-size digit), never from the
// name. Concatenated gzip members and concatenated bzip2 streams (what
// pbzip2, lbzip2 and `cat a.bz2 b.bz2` produce) are read to the end.
//
// Memory stays bounded whatever the file holds: a 256 KB input buffer, a
// 256 KB text buffer, the decoder's own state (gzip: zlib's; bzip2: blocks
// decoded on up to two threads, each with libbz2's 3.6 MB for bzip2 -9 and
// a block's text, and a few blocks queued).
//
// Thread-safety: none; use one reader per thread.
class LineReader {
 public:
  // Longer lines are skipped whole and counted in long_lines().
  static constexpr size_t kMaxLineBytes = 64 * 1024;

  // Returns a reader positioned before the first line. An empty file is
  // fine (no lines). Returns kIOError, naming the file and the system's
  // reason, when it is missing, a directory or unreadable.
  static Result<std::unique_ptr<LineReader>> Open(const std::string& path);

  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // Sets line to the next line without its '\n' and returns true. A trailing
  // '\r' is kept (the caller decides); a last line without '\n' is returned.
  // Returns false at the end of the input or on an error; status() then says
  // which. After a decoding error the incomplete line before it is dropped;
  // the lines before it have been returned. Those lines are not guaranteed
  // intact when the stream was damaged (not just cut short): checksums cover
  // a whole bzip2 block (up to 900 KB) or gzip member, and are checked after
  // its text has been handed out, so treat a kCorruption as "this import is
  // suspect", not as "everything returned so far is verified".
  bool Next(std::string& line);

  // The lines Next() would return, appended to out each with a '\n', until
  // out holds at least `bytes` or the input ends. Returns how many lines it
  // appended (0: the end, or an error: status()). Whole runs of lines are
  // copied at once, so a thread that only hands text on does not pay a copy
  // per line.
  size_t NextLines(std::string& out, size_t bytes);

  // OK while reading and after a clean end; otherwise kCorruption for a
  // damaged or truncated gzip/bzip2 stream (the message names the file, the
  // byte offset, and says "truncated" or gives the library's error), or
  // kIOError when reading fails.
  const Status& status() const;

  Compression compression() const;
  // Compressed bytes of the file decoded so far; reaches file_size() at a
  // clean end. For progress and ETA.
  uint64_t bytes_consumed() const;
  // The size when the file was opened (0 for a pipe).
  uint64_t file_size() const;
  // Lines skipped because they were longer than kMaxLineBytes.
  uint64_t long_lines() const;

 private:
  struct Impl;  // buffers and the zlib/libbz2 state; in compression.cpp
  explicit LineReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Writes a text file, compressed by the name's extension (see
// CompressionForName): gzip at level 6, bzip2 with 900 KB blocks, or plain.
// The text goes to "PATH.tmp", which Close() renames onto PATH, so a failed or
// interrupted export never leaves a half file under the real name (an existing
// PATH stays untouched until then).
//
// Thread-safety: none.
class LineWriter {
 public:
  // Returns a writer with "PATH.tmp" created (and truncated if it was left
  // over), or kIOError naming that file when it cannot be created.
  static Result<std::unique_ptr<LineWriter>> Create(const std::string& path);

  // Without a successful Close(): removes the temporary file.
  ~LineWriter();
  LineWriter(const LineWriter&) = delete;
  LineWriter& operator=(const LineWriter&) = delete;

  // Appends line and '\n'. Text is buffered and written in chunks, so a full
  // disk may only show in a later call or in Close(). Returns kIOError when
  // writing fails; that error then sticks, and Close() returns it too.
  // Requires: line has no '\n'; Close() not called yet.
  Status WriteLine(std::string_view line);

  // Flushes, finishes the compressed stream, fsyncs the file, renames it onto
  // PATH and fsyncs the directory. Returns OK once PATH is complete on disk,
  // or kIOError: when anything before the rename failed, the temporary file
  // is removed and PATH left as it was. Calling it again returns the first
  // call's result.
  Status Close();

 private:
  struct Impl;  // buffers and the zlib/libbz2 state; in compression.cpp
  explicit LineWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace gosl
