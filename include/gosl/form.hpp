// Decoding of application/x-www-form-urlencoded text (query strings and POST
// bodies) and the UTF-8 check every decoded value passes. Knows nothing of
// which parameters exist.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gosl/status.hpp"

namespace gosl {

using FormPairs = std::vector<std::pair<std::string, std::string>>;

// True if text is well-formed UTF-8 (RFC 3629): no overlong forms, no
// surrogates, nothing above U+10FFFF, no truncated sequence.
bool IsValidUtf8(std::string_view text);

// Decodes one component as an HTML form does: '+' is a space, %XX a byte.
// Returns kInvalidArgument when a '%' is not followed by two hex digits.
Result<std::string> PercentDecode(std::string_view encoded);

// Splits "a=1&b=2" into ordered, decoded pairs (URL spec, "application/
// x-www-form-urlencoded parsing"): empty segments are skipped, a segment
// without '=' has an empty value. Returns kInvalidArgument naming the
// parameter when a name or value has a bad %-escape, is not UTF-8 or holds a
// NUL byte; nothing is half-decoded.
Result<FormPairs> DecodeForm(std::string_view encoded);

}  // namespace gosl
