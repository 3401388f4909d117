#include "store/entry_counts.hpp"

#include <memory>
#include <set>
#include <vector>

#include <leveldb/db.h>
#include <leveldb/write_batch.h>

#include "gosl/logging.hpp"
#include "store/leveldb_status.hpp"
#include "store/record_format.hpp"
#include "util/quiet_thread.hpp"

namespace gosl {
namespace {

using namespace record_format;

std::string_view View(const leveldb::Slice& slice) { return {slice.data(), slice.size()}; }

// The name entries and journal entries a batch puts or deletes, in order.
class BatchEntries : public leveldb::WriteBatch::Handler {
 public:
  struct Change {
    std::string key;
    bool put = true;
  };
  std::vector<Change> changes;

  void Put(const leveldb::Slice& key, const leveldb::Slice&) override { Note(key, true); }
  void Delete(const leveldb::Slice& key) override { Note(key, false); }

 private:
  void Note(const leveldb::Slice& key, bool put) {
    if (!key.empty() && (key[0] == kNamePrefix || key[0] == kJournalPrefix)) {
      changes.push_back({key.ToString(), put});
    }
  }
};

// The newest journal entry the database holds, or "".
std::string NewestJournalKey(leveldb::DB* db, const leveldb::Snapshot* snapshot = nullptr) {
  leveldb::ReadOptions options;
  options.snapshot = snapshot;
  std::unique_ptr<leveldb::Iterator> it(db->NewIterator(options));
  // Looked for forwards first: with no journal (a fresh import) stepping back
  // from the end would open the last table of every level, a few ms of a
  // fresh process's first answer; a forward seek opens none.
  const std::string journal(1, kJournalPrefix);
  it->Seek(journal);
  if (!it->Valid() || !it->key().starts_with(journal)) return "";
  it->Seek(std::string(1, kJournalPrefix + 1));
  if (it->Valid()) {
    it->Prev();
  } else {
    it->SeekToLast();
  }
  if (it->Valid() && it->key().starts_with(journal)) return it->key().ToString();
  return "";
}

}  // namespace

CountKeeper::CountKeeper(leveldb::DB* db, std::string path, bool created)
    : db_(db), path_(std::move(path)) {
  if (created) {
    leveldb::WriteBatch mark;
    AppendEntries(mark, nullptr);
    loaded_ = db_->Write(leveldb::WriteOptions(), &mark).ok();
  }
}

void CountKeeper::LoadOnce() {
  if (loaded_) return;
  loaded_ = true;
  if (Load()) return;
  state_ = EntryCounts::State::kCounting;
  // It waits for mutex_, which the caller holds, before it reads anything.
  counter_ = QuietThread([this] { CountAll(); });
}

CountKeeper::~CountKeeper() {
  stop_ = true;
  if (counter_.joinable()) counter_.join();
}

// The counts are good when the mark names the newest journal entry: a
// version that does not count would have journaled past it.
bool CountKeeper::Load() {
  std::string value;
  if (!db_->Get(leveldb::ReadOptions(), std::string(kCountedKey), &value).ok()) return false;
  CountedMark mark;
  if (!DecodeCountedMark(value, mark) || mark.newest_journal_key != NewestJournalKey(db_)) return false;
  Totals loaded;
  loaded.registrations = static_cast<int64_t>(mark.registrations);
  loaded.newest_journal_key = mark.newest_journal_key;
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(leveldb::ReadOptions()));
  const std::string prefix(1, kCountPrefix);
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    uint64_t count = 0;
    if (!DecodeCountValue(View(it->value()), count)) return false;
    loaded.names[std::string(View(it->key()).substr(1))] = static_cast<int64_t>(count);
  }
  if (!it->status().ok()) return false;
  totals_ = std::move(loaded);
  return true;
}

void CountKeeper::CountAll() {
  const leveldb::Snapshot* snapshot = nullptr;
  {
    // From here on writes are tallied as differences against the snapshot.
    std::lock_guard<std::mutex> writing(mutex_);
    totals_ = Totals();
    snapshot = db_->GetSnapshot();
  }
  log::Notice("database '" + path_ + "': counting its names per grid for --status (once, after an " +
              "upgrade or a repair)");
  Totals counted;
  leveldb::ReadOptions options;
  options.fill_cache = false;
  options.snapshot = snapshot;
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(options));
  size_t seen = 0;
  for (it->Seek(std::string(1, kNamePrefix)); it->Valid() && it->key()[0] == kNamePrefix; it->Next()) {
    ++counted.names[std::string(GridOfNameKey(View(it->key()).substr(1)))];
    if (++seen % 65536 == 0 && stop_) break;
  }
  for (it->Seek(std::string(1, kJournalPrefix)); !stop_ && it->Valid() && it->key()[0] == kJournalPrefix;
       it->Next()) {
    ++counted.registrations;
  }
  const leveldb::Status read = it->status();
  it.reset();
  counted.newest_journal_key = NewestJournalKey(db_, snapshot);
  db_->ReleaseSnapshot(snapshot);
  if (stop_) return;
  std::lock_guard<std::mutex> writing(mutex_);
  if (!read.ok()) {
    log::Error("database '" + path_ + "': counting its names failed: " + read.ToString());
    state_ = EntryCounts::State::kOff;
    return;
  }
  Add(totals_, counted);
  leveldb::WriteBatch entries;
  // A grid the count did not find (a repair lost all its names) loses its count.
  std::unique_ptr<leveldb::Iterator> kept(db_->NewIterator(leveldb::ReadOptions()));
  const std::string count_prefix(1, kCountPrefix);
  for (kept->Seek(count_prefix); kept->Valid() && kept->key().starts_with(count_prefix); kept->Next()) {
    if (totals_.names.count(std::string(View(kept->key()).substr(1))) == 0) entries.Delete(kept->key());
  }
  kept.reset();
  AppendEntries(entries, nullptr);
  leveldb::WriteOptions sync;
  sync.sync = true;
  if (leveldb::Status s = db_->Write(sync, &entries); !s.ok()) {
    log::Error("database '" + path_ + "': the counts cannot be written: " + s.ToString());
  }
  state_ = EntryCounts::State::kExact;
  uint64_t names = 0;
  for (const auto& [grid, count] : totals_.names) names += static_cast<uint64_t>(std::max<int64_t>(count, 0));
  log::Notice("database '" + path_ + "': counted " + std::to_string(names) + " names (" +
              std::to_string(totals_.names.size()) + " grids) and " +
              std::to_string(totals_.registrations) + " registrations");
}

CountKeeper::Totals CountKeeper::Tally(const leveldb::WriteBatch& batch) const {
  BatchEntries entries;
  batch.Iterate(&entries);
  Totals changed;
  std::map<std::string, bool> present;  // what earlier changes of this batch left
  for (const BatchEntries::Change& change : entries.changes) {
    auto known = present.find(change.key);
    bool was_there = false;
    if (known != present.end()) {
      was_there = known->second;
    } else {
      std::string ignored;
      was_there = db_->Get(leveldb::ReadOptions(), change.key, &ignored).ok();
    }
    present[change.key] = change.put;
    if (was_there == change.put) continue;
    const int64_t step = change.put ? 1 : -1;
    if (change.key[0] == kNamePrefix) {
      changed.names[std::string(GridOfNameKey(std::string_view(change.key).substr(1)))] += step;
    } else {
      changed.registrations += step;
      if (change.put && change.key > changed.newest_journal_key) changed.newest_journal_key = change.key;
    }
  }
  return changed;
}

void CountKeeper::Add(Totals& into, const Totals& more) {
  for (const auto& [grid, count] : more.names) into.names[grid] += count;
  into.registrations += more.registrations;
  if (more.newest_journal_key > into.newest_journal_key) into.newest_journal_key = more.newest_journal_key;
}

void CountKeeper::AppendEntries(leveldb::WriteBatch& batch, const Totals* changed) const {
  // The totals as they are, or as they will be once changed is written.
  const auto total_of = [&](const std::string& grid) {
    auto now = totals_.names.find(grid);
    int64_t total = now == totals_.names.end() ? 0 : now->second;
    if (changed) total += changed->names.at(grid);
    return static_cast<uint64_t>(std::max<int64_t>(total, 0));
  };
  for (const auto& entry : changed ? changed->names : totals_.names) {
    batch.Put(CountKey(entry.first), CountValue(total_of(entry.first)));
  }
  CountedMark mark;
  const int64_t registrations = totals_.registrations + (changed ? changed->registrations : 0);
  mark.registrations = static_cast<uint64_t>(std::max<int64_t>(registrations, 0));
  mark.newest_journal_key = std::max(totals_.newest_journal_key,
                                     changed ? changed->newest_journal_key : std::string());
  batch.Put(std::string(kCountedKey), EncodeCountedMark(mark));
}

Status CountKeeper::Write(leveldb::WriteBatch* batch, bool sync) {
  std::lock_guard<std::mutex> writing(mutex_);
  LoadOnce();
  const Totals changed = Tally(*batch);
  // The caller's batch stays as it was given: it may be written again.
  leveldb::WriteBatch with_counts(*batch);
  // While counting, the counts are written once, at the end.
  if (state_ == EntryCounts::State::kExact) AppendEntries(with_counts, &changed);
  leveldb::WriteOptions options;
  options.sync = sync;
  Status written = FromLevelDb(db_->Write(options, &with_counts), path_);
  if (written.ok()) Add(totals_, changed);
  return written;
}

EntryCounts CountKeeper::Counts() {
  std::lock_guard<std::mutex> reading(mutex_);
  LoadOnce();
  EntryCounts counts;
  counts.state = state_;
  if (state_ != EntryCounts::State::kExact) return counts;
  for (const auto& [grid, count] : totals_.names) {
    if (count > 0) counts.names_per_grid[grid] = static_cast<uint64_t>(count);
  }
  counts.registrations = static_cast<uint64_t>(std::max<int64_t>(totals_.registrations, 0));
  return counts;
}

}  // namespace gosl
