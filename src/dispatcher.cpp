#include "gosl/dispatcher.hpp"

#include <algorithm>

#include <chrono>
#include <exception>
#include <optional>

#include "gosl/logging.hpp"
#include "gosl/page.hpp"
#include "gosl/parameters.hpp"
#include "gosl/service_status.hpp"

namespace gosl {
namespace {

// The Go program's words: old clients may match them.
constexpr std::string_view kNothingGiven = "empty avatar name and UUID key received, cannot proceed";

Response Refused(const Status& status) {
  Response response = ErrorResponse(status);
  response.tally = response.status >= 500 ? Tally::kFailed : Tally::kRefused;
  response.summary = "refused: " + Sanitized(status.message(), 120);
  return response;
}

// Each pair is recorded whole or not at all; a malformed one is refused with
// its reason and the others go on. A store that cannot be written fails the
// request (503/500), so the script sends the batch again: pairs already
// recorded are simply written again.
Result<Outcome> RecordBatch(const Parameters& params, Store& store) {
  Outcome outcome;
  outcome.action = Action::kRecordBatch;
  outcome.grid = params.record_grid();
  outcome.total = params.pairs.size();
  for (size_t i = 0; i < params.pairs.size(); ++i) {
    const Result<WhatRecord>& pair = params.pairs[i];
    if (!pair.ok()) {
      outcome.refused.emplace_back(i + 1, pair.status().message());
      continue;
    }
    // A Hypergrid visitor's pair belongs to its home grid, like a single one.
    const std::string& host = pair->name.hypergrid_host();
    Status s = store.Record(pair->name, pair->key, host.empty() ? params.record_grid() : host);
    if (s.code() == Code::kInvalidArgument) {
      outcome.refused.emplace_back(i + 1, s.message());
    } else if (!s.ok()) {
      return s;
    } else {
      ++outcome.recorded;
    }
  }
  outcome.found = outcome.recorded > 0;
  return outcome;
}

// names= / keys=: the well-formed lines asked in one go, the answers put
// back in the order of the lines.
Result<Outcome> FindMany(const Parameters& params, Store& store) {
  Outcome outcome;
  outcome.action = params.names.empty() ? Action::kFindNames : Action::kFindKeys;
  std::vector<Store::NameQuestion> questions;
  std::vector<Uuid> keys;
  const size_t lines = params.names.empty() ? params.keys.size() : params.names.size();
  for (size_t i = 0; i < lines; ++i) {
    Outcome line;
    line.action = params.names.empty() ? Action::kFindName : Action::kFindKey;
    line.key = std::string(kNilUuidText);
    const Status& malformed = params.names.empty() ? params.keys[i].status() : params.names[i].status();
    if (!malformed.ok()) {
      line.error = malformed.message();
    } else if (!params.names.empty()) {
      const AvatarName& name = params.names[i].value();
      line.name = name.display();
      // As a single lookup: grid= or a Hypergrid name's host is the only grid.
      GridChoice grids;
      const std::string& host = name.hypergrid_host();
      grids.caller = !host.empty() ? host : params.explicit_grid ? *params.explicit_grid : params.grid;
      grids.only = !host.empty() || params.explicit_grid.has_value();
      questions.push_back({name, grids});
    } else {
      line.key = params.keys[i]->ToString();
      keys.push_back(params.keys[i].value());
    }
    outcome.lookups.push_back(std::move(line));
  }
  auto answers = params.names.empty() ? store.FindManyByKey(keys) : store.FindManyByName(questions);
  if (!answers.ok()) return answers.status();
  size_t next = 0;
  for (Outcome& line : outcome.lookups) {
    if (!line.error.empty()) continue;
    const AvatarRecord& answer = answers.value()[next++];
    if (answer.name.empty()) continue;  // not known
    line.found = true;
    line.name = answer.name;
    line.key = answer.key.ToString();
    line.grid = answer.grid;
    outcome.found = true;
  }
  return outcome;
}

Result<Outcome> Decide(const Parameters& params, Store& store) {
  if (!params.pairs.empty()) return RecordBatch(params, store);
  if (!params.names.empty() || !params.keys.empty()) return FindMany(params, store);
  Outcome outcome;
  if (params.name && params.key) {
    if (params.key->IsNil()) {
      return Status::InvalidArgument("cannot record the null key for an avatar");
    }
    if (Status s = store.Record(*params.name, *params.key, params.record_grid()); !s.ok()) {
      return s;
    }
    outcome.action = Action::kRecord;
    outcome.found = true;
    outcome.name = params.name->display();
    outcome.key = params.key->ToString();
    outcome.grid = params.record_grid();
    return outcome;
  }
  if (params.all_grids) {
    outcome.action = Action::kFindAllGrids;
    outcome.name = params.name->display();
    auto records = store.FindInAllGrids(*params.name);
    if (!records.ok() && !records.status().IsNotFound()) return records.status();
    if (records.ok()) {
      for (const AvatarRecord& r : records.value()) {
        outcome.entries.push_back({r.name, r.key.ToString(), r.grid});
      }
    }
    outcome.found = !outcome.entries.empty();
    return outcome;
  }
  Result<AvatarRecord> found = Status::MissingArgument(std::string(kNothingGiven));
  if (params.name) {
    outcome.action = Action::kFindKey;
    outcome.name = params.name->display();
    outcome.key = std::string(kNilUuidText);
    GridChoice grids;
    grids.caller = params.explicit_grid ? *params.explicit_grid : params.grid;
    grids.only = params.explicit_grid.has_value();
    found = store.FindByName(*params.name, grids);
  } else if (params.key) {
    outcome.action = Action::kFindName;
    outcome.key = params.key->ToString();
    found = store.FindByKey(*params.key);
  }
  if (found.ok()) {
    outcome.found = true;
    outcome.name = found->name;
    outcome.key = found->key.ToString();
    outcome.grid = found->grid;
  } else if (!found.status().IsNotFound()) {
    return found.status();
  }
  return outcome;
}

std::string Summarise(const Outcome& o) {
  switch (o.action) {
    case Action::kFindKey:
      return "name '" + Sanitized(o.name) + "' -> " + (o.found ? o.key : "unknown");
    case Action::kFindName:
      return "key " + o.key + " -> " + (o.found ? "'" + Sanitized(o.name) + "'" : "unknown");
    case Action::kRecord: break;
    case Action::kFindAllGrids:
      return "name '" + Sanitized(o.name) + "' on all grids -> " + std::to_string(o.entries.size()) +
             " entries";
    case Action::kRecordBatch:
      return "batch: recorded " + std::to_string(o.recorded) + " of " + std::to_string(o.total) +
             " grid '" + Sanitized(o.grid) + "'";
    case Action::kFindKeys:
    case Action::kFindNames:
      return std::string(o.action == Action::kFindKeys ? "names" : "keys") + " (" +
             std::to_string(o.lookups.size()) + ") -> " +
             std::to_string(std::count_if(o.lookups.begin(), o.lookups.end(),
                                          [](const Outcome& line) { return line.found; })) +
             " found";
  }
  return "recorded '" + Sanitized(o.name) + "' = " + o.key + " grid '" + Sanitized(o.grid) + "'";
}

}  // namespace

Response Handle(const Request& request, Store& store, Gate* gate) {
  // Asked first, so a changed config.ini is seen on every kind of request.
  const std::shared_ptr<const AccessPolicy> policy = gate ? gate->Policy() : nullptr;
  Result<Parameters> params = ParseParameters(request);
  if (!params.ok()) return Refused(params.status());
  if (policy) {
    Admission admission = AdmitRegistration(*policy, request, params.value(), &gate->limiter());
    if (!admission.status.ok()) {
      Response response = Refused(admission.status);
      response.retry_after_s = admission.retry_after_s;
      return response;
    }
  }
  // Counts only (no path, no setting): the public may see them unless the
  // site switched them off. The operator's --shell always may.
  const bool status_allowed = !policy || policy->public_status;
  // Built only for a status or a page: a lookup pays nothing for them.
  const auto public_status = [&] {
    return GatherStatus(store, {gate ? gate->activity().file() : "", "", false, 0});
  };
  if (params->status) {
    if (!status_allowed) return Refused(Status::NotFound("status is switched off on this site"));
    const ServiceStatus status = public_status();
    Response response;
    if (params->format == Format::kJson) {
      response.content_type = "application/json";
      response.body = StatusJson(status);
    } else {
      response.body = StatusText(status);
      response.body.pop_back();  // an answer never ends in a newline
    }
    response.summary = "status";
    return response;
  }
  const bool asks_nothing = !params->name && !params->key && params->pairs.empty() &&
                            params->names.empty() && params->keys.empty();
  if (asks_nothing && WantsHtmlPage(request.accept)) {
    std::optional<ServiceStatus> status;
    if (status_allowed) status = public_status();
    return BrowserPage(params.value(), store, status ? &*status : nullptr);
  }
  Result<Outcome> outcome = Decide(params.value(), store);
  if (!outcome.ok()) return Refused(outcome.status());
  Response response = Render(outcome.value(), params->compat, params->format);
  response.summary = Summarise(outcome.value());
  response.tally = outcome->found ? Tally::kFound : Tally::kNotFound;
  return response;
}

Served Serve(const Request& request, Store& store, Gate* gate) {
  auto start = std::chrono::steady_clock::now();
  Served served;
  try {
    served.response = Handle(request, store, gate);
  } catch (const std::exception& e) {
    served.response = ErrorResponse(Status::Internal("internal error"));
    served.response.tally = Tally::kFailed;
    served.response.summary = std::string("exception: ") + Sanitized(e.what(), 120);
  }
  served.elapsed_us = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::steady_clock::now() - start)
                          .count();
  return served;
}

void LogServed(const Request& request, const Served& served) {
  if (!log::Enabled(log::Level::kInfo)) return;
  const Response& response = served.response;
  log::Info(std::to_string(response.status) + " " + Sanitized(request.method, 16) + " " +
            response.summary + " " + std::to_string(served.elapsed_us) + "us" +
            (request.remote_addr.empty() ? "" : " from " + Sanitized(request.remote_addr, 64)));
}

}  // namespace gosl
