// The sorted sinks of bulk_load.hpp: NewTableSink (declared there) builds
// table files; NewBatchSink writes through a database in atomic batches.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>

#include "gosl/bulk_load.hpp"
#include "gosl/status.hpp"

namespace leveldb {
class WriteBatch;
}

namespace gosl {

// Writes entries with write(batch, sync) every batch_entries; the last
// batch, at Finish(), synced.
using BatchWriter = std::function<Status(leveldb::WriteBatch* batch, bool sync)>;
std::unique_ptr<SortedSink> NewBatchSink(BatchWriter write, size_t batch_entries);

}  // namespace gosl
