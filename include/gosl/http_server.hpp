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
};

// Serves until SIGTERM or SIGINT, with keep-alive and concurrent clients.
// Returns the process exit code: 0 after a requested stop, 1 when the
// address cannot be bound (logged with the reason).
int RunHttpServer(Store& store, Gate& gate, const HttpServerOptions& options);

}  // namespace gosl
