#include "store/carry.hpp"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <leveldb/db.h>
#include <leveldb/write_batch.h>

#include "store/leveldb_status.hpp"
#include "store/record_format.hpp"

namespace gosl {
namespace {

using namespace record_format;

constexpr size_t kChunkEntries = 1000;  // registrations wait at most one chunk (a few ms)

using Entries = std::vector<std::pair<std::string, std::string>>;

// Writes the entries of chunk that `to` lacks (looked up again now, in key
// order alongside an iterator of `to`).
Status CarryAbsent(const Entries& chunk, CarryTarget& to, size_t& carried) {
  return to.WithWritesHeld([&chunk, &carried](Database& db) {
    leveldb::ReadOptions options;
    options.fill_cache = false;
    std::unique_ptr<leveldb::Iterator> it(db.raw()->NewIterator(options));
    it->Seek(chunk.front().first);
    leveldb::WriteBatch batch;
    size_t added = 0;
    for (const auto& [key, value] : chunk) {
      while (it->Valid() && it->key().compare(key) < 0) it->Next();
      if (it->Valid() && it->key() == key) continue;  // `to` has it: it wins
      batch.Put(key, value);
      ++added;
    }
    if (!it->status().ok()) return FromLevelDb(it->status(), db.opened_at());
    if (added == 0) return Status::OK();
    Status written = db.Write(&batch, /*sync=*/false);
    if (written.ok()) carried += added;
    return written;
  });
}

// Phase 1: every entry of these kinds that `to` lacks. Journal entries come
// too: what was registered stays known as registered.
Status CarryAbsentEntries(const Database& from, CarryTarget& to, const std::atomic<bool>& stop,
                          size_t& carried) {
  for (char prefix : {kKeyPrefix, kNamePrefix, kLatestPrefix, kJournalPrefix}) {
    Entries chunk;
    auto flush = [&]() -> Status {
      if (chunk.empty()) return Status::OK();
      Status s = CarryAbsent(chunk, to, carried);
      chunk.clear();
      return s;
    };
    Status scanned = from.Scan(prefix, [&](std::string_view key, std::string_view value) {
      if (stop.load()) return Status::Unavailable("stopped");
      chunk.emplace_back(std::string(1, prefix) + std::string(key), std::string(value));
      return chunk.size() < kChunkEntries ? Status::OK() : flush();
    });
    if (!scanned.ok()) return scanned;
    if (Status s = flush(); !s.ok()) return s;
  }
  return Status::OK();
}

// Phase 2: in time order, every in-world registration of `from` newer than
// what `to` knows of its key is registered in `to` as it was then. The
// name's entry is taken unless `to` gives that name to another key
// registered later still.
Status ReplayJournal(const Database& from, CarryTarget& to, const std::atomic<bool>& stop,
                     size_t& replayed) {
  std::vector<JournalEntry> chunk;
  auto flush = [&]() -> Status {
    if (chunk.empty()) return Status::OK();
    Status s = to.WithWritesHeld([&chunk, &replayed](Database& db) {
      leveldb::WriteBatch batch;
      size_t applied = 0;
      for (const JournalEntry& entry : chunk) {
        if (db.RegisteredAt(entry.key) >= entry.time_us) continue;
        auto name = AvatarName::Parse(entry.name);
        if (!name.ok()) continue;  // a name no longer accepted (never registered since)
        auto claimed = db.FindNameOnGrid(name->lookup(), entry.grid);
        const bool name_taken_later = claimed.ok() && claimed->key != entry.key &&
                                      db.RegisteredAt(claimed->key) > entry.time_us;
        RecordEntries entries;
        EncodeRecord(name.value(), entry.key, entry.grid, entries);
        batch.Put(entries.key_entry_key, entries.key_entry_value);
        if (!name_taken_later) {
          batch.Put(entries.name_entry_key, entries.name_entry_value);
          if (!entries.latest_entry_key.empty()) {
            batch.Put(entries.latest_entry_key, entries.latest_entry_value);
          }
        }
        batch.Put(RegisteredKey(entry.key), RegisteredValue(entry.time_us));
        batch.Put(JournalKey(entry.time_us, entry.key), JournalValue(entry.name, entry.grid));
        ++applied;
      }
      if (applied == 0) return Status::OK();
      // One batch's entries apply in order: a later registration of the same
      // key in this chunk wins, as it did then.
      Status written = db.Write(&batch, /*sync=*/false);
      if (written.ok()) replayed += applied;
      return written;
    });
    chunk.clear();
    return s;
  };
  Status scanned = from.Scan(kJournalPrefix, [&](std::string_view key, std::string_view value) {
    if (stop.load()) return Status::Unavailable("stopped");
    auto entry = DecodeJournalEntry(key, value);
    if (!entry.ok()) return entry.status();
    chunk.push_back(std::move(entry).value());
    return chunk.size() < kChunkEntries ? Status::OK() : flush();
  });
  if (!scanned.ok()) return scanned;
  return flush();
}

}  // namespace

Result<CarryStats> Carry(const Database& from, CarryTarget& to, const std::atomic<bool>& stop) {
  CarryStats stats;
  if (Status s = CarryAbsentEntries(from, to, stop, stats.entries); !s.ok()) return s;
  if (Status s = ReplayJournal(from, to, stop, stats.registrations); !s.ok()) return s;
  // Synced once at the end: a crash before it carries again what was lost.
  Status synced = to.WithWritesHeld([](Database& db) {
    leveldb::WriteBatch empty;
    return db.Write(&empty, /*sync=*/true);
  });
  if (!synced.ok()) return synced;
  return stats;
}

}  // namespace gosl
