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

  // Accepts valid UTF-8 without control characters, 1..kMaxBytes bytes once
  // surrounding spaces are trimmed and runs of spaces collapsed.
  // Returns kInvalidArgument naming the fault otherwise.
  static Result<AvatarName> Parse(std::string_view text);

  // The name as given, spaces trimmed and collapsed: "Mini  Resident " ->
  // "Mini Resident". This is what is stored and answered.
  const std::string& display() const { return display_; }
  // What names are matched by: ASCII letters lower-cased; a lone username
  // "first.last" read as "first last"; a trailing " resident" after a single
  // word dropped, so "first" == "First Resident" == "first.resident".
  const std::string& lookup() const { return lookup_; }

 private:
  AvatarName(std::string display, std::string lookup)
      : display_(std::move(display)), lookup_(std::move(lookup)) {}

  std::string display_;
  std::string lookup_;
};

// The lookup form of an already well-formed display name (see lookup()).
std::string LookupForm(std::string_view display);

}  // namespace gosl
