// AvatarName: an avatar name checked once at the edge, in two forms: the
// display form answered to callers, and the lookup form names are matched by,
// following Second Life's rules (wiki:LlName2Key). Knows nothing of storage.
#pragma once

#include <string>
#include <string_view>

#include "gosl/status.hpp"

namespace gosl {

class AvatarName {
 public:
  // A Second Life legacy name is a first and a last name of at most 31 bytes
  // each and a space: 63 bytes. The limit applies to the display form.
  static constexpr size_t kMaxBytes = 63;

  // A Hypergrid visitor's home grid, after the '@' of its name.
  static constexpr size_t kMaxHostBytes = 64;

  // Accepts valid UTF-8 without control characters, 1..kMaxBytes bytes once
  // surrounding spaces are trimmed and runs of spaces collapsed. A Hypergrid
  // name "First.Last @grid.example.com:8002" (or "First.Last@host:port") is
  // the name before the '@' (matched as usual) and its home grid after it.
  // Returns kInvalidArgument naming the fault otherwise.
  static Result<AvatarName> Parse(std::string_view text);

  // The name as given, spaces trimmed and collapsed: "Mini  Resident " ->
  // "Mini Resident". This is what is stored and answered.
  const std::string& display() const { return display_; }
  // What names are matched by: ASCII letters lower-cased; a lone username
  // "first.last" read as "first last"; a trailing " resident" after a single
  // word dropped, so "first" == "First Resident" == "first.resident".
  const std::string& lookup() const { return lookup_; }
  // The host of a Hypergrid name ("grid.example.com:8002", lower case),
  // which names its grid; empty for an ordinary name.
  const std::string& hypergrid_host() const { return hypergrid_host_; }

 private:
  AvatarName(std::string display, std::string lookup, std::string hypergrid_host)
      : display_(std::move(display)),
        lookup_(std::move(lookup)),
        hypergrid_host_(std::move(hypergrid_host)) {}

  std::string display_;
  std::string lookup_;
  std::string hypergrid_host_;
};

// The lookup form of an already well-formed display name (see lookup();
// a Hypergrid name's host is not part of it).
std::string LookupForm(std::string_view display);

// Status::OK() when grid is a usable grid name: at most 64 bytes of UTF-8
// without control characters; otherwise kInvalidArgument, the message
// starting with `what` (the header, parameter or option it came from).
Status CheckGridName(std::string_view grid, const char* what);

}  // namespace gosl
