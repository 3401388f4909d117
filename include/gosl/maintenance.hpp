// The commands that work on the database's files rather than serve it:
// --create, --import, --replace and --export (then exit, or go on to a
// mode), and --repair. Each logs what it did, or why it could not.
#pragma once

#include "gosl/config.hpp"
#include "gosl/store.hpp"

namespace gosl {

// --repair: rebuilds the damaged database from what can be read, then opens
// it as serving will (migrating and checking its layout). Returns the exit
// code: 0 when it opens afterwards, 1 otherwise.
int RunRepair(const Config& config);

// --create, --import or --replace, then --export, as the config asks, on
// store: done by the process serving the database when one does, while it
// goes on serving. Returns false when one failed (it is logged); the ones
// after it are not run.
bool RunFileOperations(const Config& config, Store& store);

}  // namespace gosl
