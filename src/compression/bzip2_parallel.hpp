// A bzip2 file decoded on several threads. bzip2 compresses blocks of up
// to 900 KB independently; each block starts with a 48-bit magic number at
// any bit position. A scanner thread finds the magic numbers and cuts the
// file into segments between them; worker threads decode each segment as a
// one-block stream of its own with libbz2 (which checks the block's CRC);
// the reader puts the blocks back in order, checks every stream's CRC from
// the blocks' CRCs, and hands out the text. A magic number that is really
// data inside a block (a false match) splits a block in two: neither half
// decodes, and the reader decodes them joined. Private to src/compression/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "gosl/status.hpp"

namespace gosl::compression_internal {

class ParallelBzip2Decoder {
 public:
  // Decodes the bzip2 data of fd; `head` holds its first bytes, already
  // read by the caller (at least the 4-byte stream header). path names the
  // file in messages. Starts `workers` decoding threads and a scanner.
  ParallelBzip2Decoder(int fd, std::string path, std::string head, size_t workers);
  // Stops and joins every thread; the file descriptor stays the caller's.
  ~ParallelBzip2Decoder();
  ParallelBzip2Decoder(const ParallelBzip2Decoder&) = delete;
  ParallelBzip2Decoder& operator=(const ParallelBzip2Decoder&) = delete;

  // Copies up to room bytes of decoded text to out, in order. Returns the
  // bytes copied: 0 at the clean end of the data, or on an error (status()).
  // The text of every block before a damaged one comes out first.
  size_t Read(char* out, size_t room);
  const Status& status() const;
  // Bytes of the file the decoded text so far came from.
  uint64_t bytes_consumed() const;

  // For tests: also cut segments at these bit offsets, as a magic number
  // found inside a block's data would (false matches real files hardly ever
  // hold, so the joining of segments can be tested on any file).
  void AddFalseBoundariesForTest(std::vector<uint64_t> bit_offsets);

  struct Shared;

 private:
  std::unique_ptr<Shared> shared_;
};

}  // namespace gosl::compression_internal
