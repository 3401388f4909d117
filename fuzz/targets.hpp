// The fuzz targets' bodies, shared by the libFuzzer binaries (fuzz_*.cpp)
// and the test that replays every input they ever crashed on
// (tests/test_fuzz_regressions.cpp). Each aborts when an invariant breaks,
// so a finding is a crash whatever the sanitizers see.
#pragma once

#include <cstddef>
#include <cstdint>

namespace gosl::fuzz {

// Input: six lines (method, query string, content type, X-SecondLife-Shard,
// X-SecondLife-Owner-Key, write mode) then the body. Runs the request
// through Handle() with that write mode on a small database in a temporary
// directory. Checks: a known status, a one-line body, Retry-After only with
// 429, no 5xx but 503, and the database still answering a known name.
void RequestTarget(const uint8_t* data, size_t size);

// Input: one line of a W-Hat CSV. Checks: a parsed record has a key that
// prints back, a name of valid UTF-8 without control characters within the
// length limit, and parsing its own printout gives the same record.
void CsvLineTarget(const uint8_t* data, size_t size);

// Input: a selector byte (modulo 6: 0 request of either version, 1 reply of
// version 1, 2 of version 2, 3 hello, 4 hello reply, 5 frame header), then
// bytes another process could send. Checks: whatever a decoder accepts
// encodes back to exactly the same bytes (one encoding per message, so no
// two processes can read one frame two ways).
void PeerWireTarget(const uint8_t* data, size_t size);

}  // namespace gosl::fuzz
