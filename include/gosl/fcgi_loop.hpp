// The FastCGI and plain-CGI front ends: translate libfcgi's (or the CGI
// environment's) request into a Request, and the Response back. They build
// no answer themselves.
#pragma once

#include "gosl/access.hpp"
#include "gosl/store.hpp"

namespace gosl {

// True when fd 0 is a listening socket: how mod_fcgid and mod_fastcgi start
// a FastCGI application. (libfcgi's FCGX_IsCGI() also says "CGI" for a
// terminal, so it cannot tell a hand start from a CGI request.)
bool StdinIsListeningSocket();

// True when the environment describes a CGI request (GATEWAY_INTERFACE set).
bool EnvironmentIsCgi();

// Accepts requests on fd 0 until SIGTERM or SIGUSR1 (mod_fcgid's stop
// signals), finishing the request in hand first. Writes nothing to stdout or
// stderr. Returns the process exit code: 0 after a requested stop.
int RunFastCgi(Store& store, Gate& gate);

// Answers the one CGI request described by the environment and stdin on
// stdout. Returns the process exit code.
int RunCgiOnce(Store& store, Gate& gate);

}  // namespace gosl
