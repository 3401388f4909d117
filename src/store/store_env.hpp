// The file system LevelDB goes through, with two changes to its defaults.
//
// Tables are read with pread: LevelDB 1.23 maps table files on 64-bit Linux,
// and every page a lookup touches then counts in the process's resident
// memory (600+ MB after a few hundred thousand lookups on 10 M records),
// where a shared host kills at ~280 MB.
//
// A lock on LOCK another user holds cannot stop the service. LevelDB locks
// LOCK with fcntl; a file another user can open (LevelDB made it 0644, older
// guides said chmod 644) can be locked for reading by anyone, and then no
// process could open the database. A read lock on LOCK is never LevelDB's
// (it takes write locks): the process serving the path (path_lock.hpp, a
// file only we can open) replaces such a LOCK with a fresh file, leaving the
// read lock on a file nobody uses. LevelDB's LOCK stays the lock older
// versions of gosl-basics look at.
//
// LevelDB's own log goes to the process log at level DEBUG, not to a LOG file
// it would rename to LOG.old and start again at every open.
#pragma once

#include <leveldb/env.h>

namespace gosl {

// One per process, never freed (like leveldb::Env::Default()).
leveldb::Env* StoreEnv();
// LevelDB's info log, written to the process log; never freed.
leveldb::Logger* StoreLog();

}  // namespace gosl
