// --shell: an interactive prompt (libedit) or a line-by-line filter for
// scripts. It only turns a typed line into a Request and prints the Response;
// the answers themselves are Handle()'s.
#pragma once

#include <istream>
#include <ostream>
#include <string>

#include "gosl/store.hpp"

namespace gosl {

// Runs the prompt until "quit", "exit" or end of input; returns the process
// exit code: 0, or 1 when libedit cannot be set up (out of memory).
//
// Each line, trimmed of surrounding blanks, becomes the Request the HTTP
// front ends would build: "key=<line>" when it parses as a UUID, otherwise
// "name=<line>" (so a mistyped key is looked up as a name and answered with
// the nil key), always with compat=false so the answer is the sentence with
// name, key and grid. The line is percent-encoded, so '&', '+', '%' and '='
// are looked up as typed. A refused query is printed as its HTTP status and
// reason, e.g. `400 name is longer than 63 bytes: '...'`. Blank lines are
// skipped. "quit" and "exit" are words of the shell only when typed exactly
// so, in lower case; an avatar called Quit is found as "Quit Resident".
//
// interactive == true: libedit reads the terminal on stdin/stdout/stderr
// (`in` is unused) with the prompt "gosl> ", line editing and history of at
// most 1000 lines; a one-line banner on `out` says how to leave. When
// history_file is not empty the history is loaded from it at start and saved
// to it at exit (mode 0600). An existing file that is not a libedit history
// is left untouched, and a file that cannot be read or written costs a
// one-line warning on `out`, not the session.
// interactive == false: no prompt and no banner; exactly one answer line on
// `out` for each query line read from `in`, flushed at once, so a script can
// write a name and read its answer.
//
// Requires: interactive only when stdin and stdout are terminals. Not
// thread-safe: the interactive mode sets LC_CTYPE to a UTF-8 locale while it
// runs (libedit decodes keystrokes by it) and restores it on return.
int RunShell(Store& store, std::istream& in, std::ostream& out, bool interactive,
             const std::string& history_file);

}  // namespace gosl
