// The one request handler every front end calls: parameters -> store ->
// outcome -> rendered Response. Start reading the source here.
#pragma once

#include "gosl/access.hpp"
#include "gosl/request.hpp"
#include "gosl/response.hpp"
#include "gosl/store.hpp"

namespace gosl {

// Answers a request as SPEC.md's API table says: name -> key, key -> name,
// both -> record the pair, neither -> 404. A lookup miss is an ordinary 200
// answer; refused parameters give 4xx, store faults 503. Registrations pass
// the gate's write protection and rate limit first (403, 429); without a
// gate the request is the operator's own (--shell). Throws nothing by
// design. Thread-safe when the store is (it is).
Response Handle(const Request& request, Store& store, Gate* gate = nullptr);

// A request answered, and how long Handle() took.
struct Served {
  Response response;
  long long elapsed_us = 0;
};

// Handle(), timed; an exception escaping by mistake costs this request a
// 500, logged, not the process.
Served Serve(const Request& request, Store& store, Gate* gate);

// The request's one INFO line: outcome, microseconds, client. Front ends
// write it once the answer has gone, so the client does not wait for a
// write into the log file (~10 us a request, measured through FastCGI).
void LogServed(const Request& request, const Served& served);

}  // namespace gosl
