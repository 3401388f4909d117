// LevelDB's MANIFEST and logs, read and written by us where its API cannot:
// the MANIFEST of a database made of tables built outside LevelDB (an
// import's): one version edit that lists every table on level 0, the one
// LevelDB's RepairDB would write after reading each table again to learn its
// first and last keys; and whether a database's MANIFEST and logs end whole,
// so that LevelDB may append to them. The formats are LevelDB's on-disk
// ones, which every version reads (leveldb db/version_edit.cc,
// db/log_format.h), not its public API.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gosl/bulk_load.hpp"
#include "gosl/status.hpp"

namespace gosl::manifest {

// The version edit, as LevelDB encodes it: the bytewise comparator, no log,
// next_file_number, last sequence 0 (every entry of a built table has it),
// and each table on level 0.
std::string EncodeEdit(const std::vector<StagedTable>& tables, uint64_t next_file_number);

// payload as one record of LevelDB's log format, from the start of a file:
// 32 KB blocks, each fragment under a 7-byte header (masked CRC-32C, length,
// type); a fragment never crosses a block, a block's last 6 bytes or fewer
// are zeros.
std::string LogRecord(std::string_view payload);

// Whether a file in LevelDB's log format ends with a whole record, read from
// the start of its last 32 KB block: every fragment there has its checksum,
// the last is a whole record or the last fragment of one, and nothing
// follows it but a block's zero trailer. An empty file ends whole.
bool EndsWhole(std::string_view last_block);

// Whether LevelDB may append to the files it would reuse when opening dir
// with Options::reuse_logs (no new MANIFEST and log, so no syncs): the
// MANIFEST that CURRENT names and every *.log must be small (LevelDB reads
// them whole at every open; the usual open starts them anew) and end
// whole. After a torn
// record LevelDB would drop what is appended to the same block the next
// time it reads the file (and refuse a MANIFEST): LevelDB 1.23 does not
// check (google/leveldb issue 1287). A database with one is opened the
// usual way, which starts new files.
bool MayAppendLogs(const std::string& dir);

// Writes dir/MANIFEST-000001 and a CURRENT that names it, each synced.
// Returns the I/O error naming the file.
Status Write(const std::string& dir, const std::vector<StagedTable>& tables,
             uint64_t next_file_number);

}  // namespace gosl::manifest
