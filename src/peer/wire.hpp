// The peer wire's byte codec, apart from the sockets (peer.cpp): a frame is a
// 4-byte little-endian payload length and the payload; a payload is one
// PeerRequest or PeerReply. Decoders read another process's bytes: they
// accept exactly what the encoders write and refuse anything else.
//
//   request: op (1) | only_grid '0'/'1' (1) | key (16) | name (text16) | grid (text16)
//   reply:   code (1) | cacheable '0'/'1' (1) | message (text16) | count (2) |
//            count x (key (16) | name (text16) | grid (text16))
//   text16:  2-byte little-endian length, then the bytes
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "gosl/peer.hpp"

namespace gosl::wire {

// No request or reply comes near this (names are at most 63 bytes, a reply
// at most 100 records).
inline constexpr uint32_t kMaxFrameBytes = 64 * 1024;
inline constexpr size_t kFrameHeaderBytes = 4;

std::string EncodeRequest(const PeerRequest& request);
// False when in is not exactly one request (an unknown op included).
bool DecodeRequest(std::string_view in, PeerRequest& request);

std::string EncodeReply(const PeerReply& reply);
// False when in is not exactly one reply (an unknown status code, or OK
// with a message, included).
bool DecodeReply(std::string_view in, PeerReply& reply);

// The frame header for a payload, and the payload length a header gives;
// false when it is over kMaxFrameBytes.
std::string FrameHeader(size_t payload_bytes);
bool DecodeFrameHeader(std::string_view header, uint32_t& payload_bytes);

}  // namespace gosl::wire
