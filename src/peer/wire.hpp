// The peer wire's byte codec, apart from the sockets (peer.cpp): a frame is a
// 4-byte little-endian payload length and the payload. Decoders read another
// process's bytes: they accept exactly what the encoders write and refuse
// anything else, so no frame can be read two ways.
//
// Version 1 is what gosl-basics 0.2.0 speaks (its frames start with the op);
// version 2 puts a version byte first and opens every connection with a
// hello naming the database directory both ends hold.
//
//   request:     [2] op (1) | only_grid '0'/'1' (1) | key (16) | name (text16) | grid (text16)
//   hello:       2 | 'H' | device (8) | inode (8) | program version (text16)
//   reply:       [2] code (1) | cacheable '0'/'1' (1) | message (text16) | count (2) |
//                count x (key (16) | name (text16) | grid (text16))
//   hello reply: 2 | 'h' | code (1) | device (8) | inode (8) | program version (text16) |
//                message (text16)
//   text16:      2-byte little-endian length, then the bytes
// ([2]: the version byte, absent in version 1.)
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gosl/peer.hpp"
#include "gosl/store.hpp"

namespace gosl::wire {

inline constexpr int kVersion1 = 1;
inline constexpr int kVersion2 = 2;
inline constexpr int kCurrentVersion = kVersion2;

// No frame comes near this (names are at most 63 bytes, a reply at most 100
// records).
inline constexpr uint32_t kMaxFrameBytes = 64 * 1024;
inline constexpr size_t kFrameHeaderBytes = 4;

std::string EncodeRequest(const PeerRequest& request, int version = kCurrentVersion);
// False when in is not exactly one request of version 1 or 2 (an unknown op
// included); version says which it was.
bool DecodeRequest(std::string_view in, PeerRequest& request, int& version);

std::string EncodeReply(const PeerReply& reply, int version = kCurrentVersion);
// False when in is not exactly one reply of that version (an unknown status
// code, or OK with a message, included).
bool DecodeReply(std::string_view in, PeerReply& reply, int version = kCurrentVersion);

// The first frame a version 2 peer sends, and the owner's answer.
std::string EncodeHello(const PeerHello& hello);
bool DecodeHello(std::string_view in, PeerHello& hello);
std::string EncodeHelloReply(const PeerHelloReply& reply);
bool DecodeHelloReply(std::string_view in, PeerHelloReply& reply);
// True when in is a hello (of any validity): the owner expects one first.
bool IsHello(std::string_view in);

// A chunk of a streamed answer (an export): entries, each with a kind.
//   export chunk: 2 | 'x' | count (2) | count x (kind | key (16) | name | grid | [time (8)])
//   kind: '1' an earlier name, '0' a newest name, '2' a newest name registered
//   in-world at time (µs since 1970, non-zero)
std::string EncodeChunk(const std::vector<ExportEntry>& chunk);
bool DecodeChunk(std::string_view in, std::vector<ExportEntry>& chunk);
// What one entry adds to a chunk's encoding, so a sender keeps frames under kMaxFrameBytes.
size_t ChunkEntryBytes(const ExportEntry& entry);
bool IsChunk(std::string_view in);

// A kFacts reply's record name: the facts as lines of text ("grid <count>\t<grid>"
// a grid; grids hold no control character). served_by is not sent.
std::string EncodeFacts(const DatabaseFacts& facts);
bool DecodeFacts(std::string_view text, DatabaseFacts& facts);

// The frame header for a payload, and the payload length a header gives;
// false when it is over kMaxFrameBytes.
std::string FrameHeader(size_t payload_bytes);
bool DecodeFrameHeader(std::string_view header, uint32_t& payload_bytes);

}  // namespace gosl::wire
