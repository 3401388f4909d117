// The file system LevelDB reads through. LevelDB 1.23 maps table files on
// 64-bit Linux, and every page a lookup touches then counts in the process's
// resident memory (600+ MB after a few hundred thousand lookups on 10 M
// records), where a shared host kills at ~280 MB. This Env reads tables with
// pread, so a process holds only what LevelDB caches itself.
#pragma once

#include <leveldb/env.h>

namespace gosl {

// One per process, never freed (like leveldb::Env::Default()).
leveldb::Env* PreadEnv();

}  // namespace gosl
