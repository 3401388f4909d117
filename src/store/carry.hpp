// Carrying a replaced database's knowledge into the one that replaced it
// (docs/storage.md, "Replacing a database"): every entry the new one lacks,
// and every in-world registration (the journal) newer than what the new one
// has for its key. Used for a replacement (by upload, by hand or by
// --replace) and for a refresh (--import into a live database), which swaps
// in a database built from the file.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>

#include "gosl/status.hpp"
#include "store/database.hpp"

namespace gosl {

// What Carry writes into: the database being served, which registrations
// write into too, and which may be reopened between two calls.
class CarryTarget {
 public:
  virtual ~CarryTarget() = default;
  // Calls write with the database served and registrations held off, and
  // returns what it returned.
  virtual Status WithWritesHeld(const std::function<Status(Database&)>& write) = 0;
};

struct CarryStats {
  size_t entries = 0;        // entries the new database lacked
  size_t registrations = 0;  // in-world registrations newer than the new database's
};

// Carries `from` into `to`. Each chunk is checked against `to` again with
// registrations held off, so one made meanwhile is never overwritten; so
// running it again (after a crash, or after stop) finishes it. Returns
// kUnavailable "stopped" when stop was set, else the first failure.
Result<CarryStats> Carry(const Database& from, CarryTarget& to, const std::atomic<bool>& stop);

}  // namespace gosl
