// Response and its rendering: the outcome of a request turned into status,
// content type and body, in the compat, sentence or JSON form. The only place
// that knows HTTP status numbers.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gosl/activity.hpp"
#include "gosl/parameters.hpp"
#include "gosl/status.hpp"

namespace gosl {

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;     // never ends in a newline: LSL scripts compare it as is
  std::string summary;  // what happened, one line for the request log
  int retry_after_s = 0;  // > 0: a Retry-After header (429)
  // Further headers (the page's Content-Security-Policy and the like).
  std::vector<std::pair<std::string, std::string>> headers;
  Tally tally = Tally::kOther;  // how it ended, for the status counts (activity.hpp)
};

// What a request did, before it is rendered.
// kFindKeys / kFindNames: a batch lookup (names=, keys=), one lookup a line.
enum class Action { kFindKey, kFindName, kRecord, kRecordBatch, kFindAllGrids, kFindKeys, kFindNames };
struct Outcome {
  Action action = Action::kFindKey;
  bool found = false;
  std::string name;  // as stored when found; as asked otherwise
  std::string key;   // lower-case text; the nil UUID when unknown
  std::string grid;
  // kRecordBatch: pairs recorded out of total, and the refused ones as
  // (1-based position, reason).
  size_t recorded = 0, total = 0;
  std::vector<std::pair<size_t, std::string>> refused;
  // kFindAllGrids: every grid's entry as (name, key, grid).
  std::vector<std::array<std::string, 3>> entries;
  // kFindKeys / kFindNames: each line's own outcome (kFindKey / kFindName),
  // in the order asked; a malformed line has its reason in `error`.
  std::vector<Outcome> lookups;
  std::string error;
};

// 200 with the answer the SPEC's API table gives for the outcome.
Response Render(const Outcome& outcome, bool compat, Format format);
// The 4xx/5xx answer for a failed request: the status's reason, one line.
Response ErrorResponse(const Status& status);

// kInvalidArgument 400, kForbidden 403, kMissingArgument and kNotFound 404,
// kTooLarge 413, kTooLong 414, kTooManyRequests 429, kInternal 500, and the
// store's faults (kUnavailable, kIOError, kCorruption) 503.
int HttpStatusFor(Code code);
// "OK", "Not Found", ...: for front ends that write a status line.
std::string_view ReasonPhrase(int status);

// text as the inside of a JSON string (RFC 8259 section 7). Requires: UTF-8.
std::string JsonEscaped(std::string_view text);

}  // namespace gosl
