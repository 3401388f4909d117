// --server: a standalone HTTP/1.1 server (Boost.Beast, header-only, so the
// release binary stays fully static) for home servers without Apache. It
// only translates HTTP to a Request and a Response back.
#pragma once

#include <string>

#include "gosl/access.hpp"
#include "gosl/store.hpp"

namespace gosl {

struct HttpServerOptions {
  std::string bind = "127.0.0.1";  // numeric address only: no DNS in a static binary
  int port = 3000;                 // 0: any free port (tests)
  int threads = 4;                 // lookups wait on disk; a few threads keep clients moving
  // Connections open at once (each holds a descriptor): at the cap, the one
  // idle longest is closed for a new client, or the new one is when none is
  // idle. 0: half the process's descriptor limit, at most 512.
  size_t max_connections = 0;
  // A connection is closed after this many requests or this long, however
  // busy: keep-alive cannot hold a descriptor for ever.
  int max_requests_per_connection = 1000;
  int max_connection_seconds = 600;
};

// Serves until SIGTERM or SIGINT, with keep-alive and concurrent clients.
// Returns the process exit code: 0 after a requested stop, 1 when the
// address cannot be bound (logged with the reason).
int RunHttpServer(Store& store, Gate& gate, const HttpServerOptions& options);

}  // namespace gosl
