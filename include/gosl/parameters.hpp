// ParseParameters: a Request's query string and form body turned into typed
// Parameters, or the Status that refuses it. Every parameter the API knows is
// declared once here; handlers never see a raw string.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "gosl/avatar_name.hpp"
#include "gosl/request.hpp"
#include "gosl/status.hpp"
#include "gosl/uuid.hpp"
#include "gosl/what_line.hpp"

namespace gosl {

enum class Format { kText, kJson };

// A batch registration (pairs=) holds at most this many "UUID,Name" lines
// in at most this many bytes: a sensor sweep sees up to 16 avatars, and a
// pair is ~55 bytes, so one request carries several sweeps.
inline constexpr size_t kMaxBatchPairs = 50;
inline constexpr size_t kMaxBatchBytes = 8192;
// A batch lookup (names=, keys=) holds at most this many lines: the answer to
// 50 keys (~1.9 KB) fits the 2,048 bytes LSL delivers by default.
inline constexpr size_t kMaxBatchLookups = 50;

struct Parameters {
  std::optional<AvatarName> name;  // absent when not given or empty
  std::optional<Uuid> key;         // absent when not given or empty
  // pairs=: each line parsed on its own; a malformed one carries its reason
  // and does not stop the others. Empty when not given.
  std::vector<Result<WhatRecord>> pairs;
  // names= / keys=: many lookups, one a line, answered in the same order; a
  // malformed line carries its reason and does not stop the others. Empty
  // when not given.
  std::vector<Result<AvatarName>> names;
  std::vector<Result<Uuid>> keys;
  bool compat = true;              // false: answer in sentences, as the Go program did
  Format format = Format::kText;
  std::string grid;                // the caller's: the X-SecondLife-Shard header
  // The grid asked for explicitly: grid= or a Hypergrid name's host. A lookup
  // then answers that grid's entry only; a registration is recorded on it.
  std::optional<std::string> explicit_grid;
  bool all_grids = false;          // grid=*: every grid's entry (format=json)
  bool grid_parameter = false;     // explicit_grid came from grid=, not a Hypergrid name
  // token=: the registration secret (writes = token). Never logged or echoed.
  std::optional<std::string> token;

  // status=1: the service's counts (service_status.hpp) instead of an answer.
  bool status = false;
  // q=: what a person typed into the page's lookup box (page.hpp); only a
  // browser's request reads it, every other client's ignores it as before.
  std::optional<std::string> page_query;

  // The grid a registration is recorded on.
  const std::string& record_grid() const { return explicit_grid ? *explicit_grid : grid; }
};

// Reads the query string, then the body when it is a form (content type
// application/x-www-form-urlencoded, text/plain as LSL labels bodies by
// default, or none); body values win. "amp;key" is read as "key" (old
// touch.lsl copies send "&amp;key="). Unknown parameters are ignored: old
// W-Hat clients send terse=1.
// Returns kTooLarge for an oversize body or pairs, kInvalidArgument for bad
// encoding, a malformed key, a bad name, a bad compat/format/grid value, an
// empty pairs, too many pairs, pairs given with name/key, or grid=* without
// format=json or without a name; the same for names= and keys= (empty, too
// many lines, given with another of name/key, pairs, names, keys).
Result<Parameters> ParseParameters(const Request& request);

}  // namespace gosl
