// LocalDb's answers (local_db.hpp): lookups from the database served (and,
// while a replaced one is carried into it, from both), registrations, and
// the records of an export.
#include <algorithm>
#include <map>
#include <memory>
#include <string>

#include <leveldb/db.h>
#include <leveldb/write_batch.h>

#include "gosl/avatar_name.hpp"
#include "store/local_db.hpp"
#include "store/record_format.hpp"

namespace gosl {
namespace {

using namespace record_format;

// Anyone may register a name on new grids: a listing stops here, so it
// stays one small answer (and one peer frame).
constexpr size_t kMaxGridsListed = 100;

// The time each key was last registered in-world, read in key order beside
// the scan of the keys' entries (both sort by the key's bytes): one pass,
// not one lookup per key.
class RegistrationTimes {
 public:
  RegistrationTimes(const Database& db, const leveldb::Snapshot* snapshot) {
    leveldb::ReadOptions options;
    options.fill_cache = false;
    options.snapshot = snapshot;
    it_.reset(db.raw()->NewIterator(options));
    it_->Seek(std::string(1, kRegisteredPrefix));
  }
  // Requires: keys asked in increasing order. 0 when never registered.
  Result<uint64_t> Of(std::string_view key_bytes) {
    for (; it_->Valid() && it_->key()[0] == kRegisteredPrefix; it_->Next()) {
      const std::string_view key(it_->key().data() + 1, it_->key().size() - 1);
      if (key < key_bytes) continue;
      if (key > key_bytes) return uint64_t{0};
      uint64_t time_us = 0;
      if (!DecodeRegisteredValue(std::string_view(it_->value().data(), it_->value().size()), time_us)) {
        return Status::Corruption("bad registration time entry");
      }
      return time_us;
    }
    if (!it_->status().ok()) return Status::IOError("reading registration times: " + it_->status().ToString());
    return uint64_t{0};
  }

 private:
  std::unique_ptr<leveldb::Iterator> it_;
};

Result<std::vector<AvatarRecord>> One(Result<AvatarRecord> record) {
  if (!record.ok()) return record.status();
  return std::vector<AvatarRecord>{std::move(record).value()};
}

// The database served and, while it is carried into it, the one it
// replaced: each lookup asks both, and of two answers takes the one whose
// key was registered in-world later (the one served when neither was).
struct Layers {
  const Database& current;
  const Database* predecessor;

  Result<AvatarRecord> Pick(Result<AvatarRecord> served, Result<AvatarRecord> replaced) const {
    if (!served.ok() && !served.status().IsNotFound()) return served;
    if (!replaced.ok() && !replaced.status().IsNotFound()) return replaced;
    if (!replaced.ok()) return served;
    if (!served.ok()) return replaced;
    return predecessor->RegisteredAt(replaced->key) > current.RegisteredAt(served->key) ? replaced
                                                                                       : served;
  }

  Result<AvatarRecord> FindKey(const Uuid& key) const {
    auto served = current.FindKey(key);
    return predecessor ? Pick(std::move(served), predecessor->FindKey(key)) : served;
  }

  Result<AvatarRecord> FindNameOnGrid(std::string_view lookup, std::string_view grid) const {
    auto served = current.FindNameOnGrid(lookup, grid);
    return predecessor ? Pick(std::move(served), predecessor->FindNameOnGrid(lookup, grid)) : served;
  }

  Result<std::string> LatestGrid(std::string_view lookup) const {
    auto latest = current.LatestGrid(lookup);
    if (latest.ok() || !latest.status().IsNotFound() || !predecessor) return latest;
    return predecessor->LatestGrid(lookup);
  }

  // The caller's grid, then the main grid, then the grid that recorded the
  // name last ('l'); with grids.only, the caller's grid alone.
  Result<AvatarRecord> FindName(const AvatarName& name, const GridChoice& grids) const {
    const std::string& lookup = name.lookup();
    auto found = FindNameOnGrid(lookup, grids.caller);
    if (found.ok() || !found.status().IsNotFound() || grids.only) return found;
    if (grids.caller != kMainGrid) {
      found = FindNameOnGrid(lookup, kMainGrid);
      if (found.ok() || !found.status().IsNotFound()) return found;
    }
    auto latest_grid = LatestGrid(lookup);
    if (latest_grid.status().IsNotFound()) return found;
    if (!latest_grid.ok()) return latest_grid.status();
    return FindNameOnGrid(lookup, latest_grid.value());
  }

  // Main grid first, then by grid name.
  Result<std::vector<AvatarRecord>> FindAllGrids(const AvatarName& name) const {
    auto served = current.FindAllGrids(name.lookup(), kMaxGridsListed);
    if (!served.ok()) return served.status();
    std::vector<AvatarRecord> records = std::move(served).value();
    if (predecessor) {
      auto replaced = predecessor->FindAllGrids(name.lookup(), kMaxGridsListed);
      if (!replaced.ok()) return replaced.status();
      std::map<std::string, AvatarRecord> by_grid;
      for (AvatarRecord& record : records) by_grid.emplace(record.grid, std::move(record));
      for (AvatarRecord& record : replaced.value()) {
        auto it = by_grid.find(record.grid);
        if (it == by_grid.end()) {
          by_grid.emplace(record.grid, std::move(record));
        } else if (predecessor->RegisteredAt(record.key) > current.RegisteredAt(it->second.key)) {
          it->second = std::move(record);
        }
      }
      records.clear();
      for (auto& [grid, record] : by_grid) {
        if (records.size() < kMaxGridsListed) records.push_back(std::move(record));
      }
    }
    if (records.empty()) return Status::NotFound("no entry on any grid");
    std::stable_sort(records.begin(), records.end(), [](const AvatarRecord& a, const AvatarRecord& b) {
      return (a.grid == kMainGrid) > (b.grid == kMainGrid) ||
             ((a.grid == kMainGrid) == (b.grid == kMainGrid) && a.grid < b.grid);
    });
    return records;
  }

  // A batch's answers, one per question in order: a record with an empty
  // name where none is known (peer.hpp, kFindManyByName).
  Result<std::vector<AvatarRecord>> FindNames(std::string_view questions) const {
    std::vector<PeerNameQuery> queries;
    if (!DecodeNameQueries(questions, queries) || queries.size() > kMaxBatchQuestions) {
      return Status::InvalidArgument("malformed batch of names");
    }
    std::vector<AvatarRecord> answers;
    for (const PeerNameQuery& query : queries) {
      auto name = AvatarName::Parse(query.name);
      if (!name.ok()) return name.status();
      auto found = FindName(name.value(), {query.grid, query.only_grid});
      if (!found.ok() && !found.status().IsNotFound()) return found.status();
      answers.push_back(found.ok() ? std::move(found).value() : AvatarRecord{});
    }
    return answers;
  }

  // The same for keys, one UUID a line: an unknown key keeps its key, with an empty name.
  Result<std::vector<AvatarRecord>> FindKeys(std::string_view questions) const {
    std::vector<Uuid> keys;
    if (!DecodeKeyQueries(questions, keys) || keys.size() > kMaxBatchQuestions) {
      return Status::InvalidArgument("malformed batch of keys");
    }
    std::vector<AvatarRecord> answers;
    for (const Uuid& key : keys) {
      auto found = FindKey(key);
      if (!found.ok() && !found.status().IsNotFound()) return found.status();
      answers.push_back(found.ok() ? std::move(found).value() : AvatarRecord{key, "", ""});
    }
    return answers;
  }
};

}  // namespace

Status LocalDb::HandedOver() const {
  return Status::Unavailable("database '" + options_.path + "' was handed to another process");
}

Result<std::vector<AvatarRecord>> LocalDb::Answer(const PeerRequest& request) {
  if (released_.load()) return HandedOver();
  if (request.op == PeerOp::kRecord && write_fault_.load()) {
    if (Status s = ReopenAfterWriteFault(); !s.ok()) return s;
  }
  if (!is_open()) {
    // A reopen failed: try again (the cause may be gone).
    std::lock_guard<std::mutex> opening(open_mutex_);
    bool lock_held_elsewhere = false;
    if (!is_open()) {
      if (Status s = OpenLocked(lock_held_elsewhere); !s.ok()) return s;
    }
  }
  FollowPath();  // a directory swapped in by hand is served from the next request
  bool write_failed = false;
  Result<std::vector<AvatarRecord>> result = AnswerOpen(request, write_failed);
  if (write_failed) write_fault_ = true;
  return result;
}

Result<std::vector<AvatarRecord>> LocalDb::AnswerOpen(const PeerRequest& request,
                                                      bool& write_failed) {
  if (request.op == PeerOp::kRecord) {
    auto name = AvatarName::Parse(request.name);
    if (!name.ok()) return name.status();
    Status written = WithWritesHeld([&](Database& db) {
      leveldb::WriteBatch batch;
      AddRegistration(batch, name.value(), request.key, request.grid, NextRegistrationTime());
      return db.Write(&batch, /*sync=*/true);
    });
    if (!written.ok()) {
      write_failed = written.code() != Code::kUnavailable;
      return written;
    }
    // Before the answer: every peer's cache is stale from now on.
    writes_.Bump();
    return One(AvatarRecord{request.key, name->display(), request.grid});
  }
  std::shared_lock<std::shared_mutex> in_use(state_);
  if (!current_) return Status::Unavailable("database '" + options_.path + "' is being reopened");
  const Layers layers{*current_, predecessor_.get()};
  switch (request.op) {
    case PeerOp::kFindByName:
    case PeerOp::kFindInAllGrids: {
      auto name = AvatarName::Parse(request.name);
      if (!name.ok()) return name.status();
      if (request.op == PeerOp::kFindInAllGrids) return layers.FindAllGrids(name.value());
      return One(layers.FindName(name.value(), {request.grid, request.only_grid}));
    }
    case PeerOp::kFindByKey: return One(layers.FindKey(request.key));
    case PeerOp::kFindManyByName: return layers.FindNames(request.name);
    case PeerOp::kFindManyByKey: return layers.FindKeys(request.name);
    default: break;
  }
  return Status::InvalidArgument("unknown peer request");
}

Status LocalDb::Export(const ExportVisitor& emit, const std::function<Status()>& still_going) {
  std::shared_ptr<Database> db;
  {
    std::shared_lock<std::shared_mutex> in_use(state_);
    if (predecessor_) {
      return Status::Unavailable("'" + predecessor_->CurrentPath() + "' is still being carried " +
                                 "into the database: export when the log says it is done");
    }
    db = current_;
  }
  if (!db) return Status::Unavailable("database '" + options_.path + "' is being reopened");
  // Everything answered before now, nothing written after: one snapshot.
  const leveldb::Snapshot* snapshot = db->raw()->GetSnapshot();
  int64_t entries_read = 0;
  const auto progress = [&] {
    return (++entries_read % kExportProgressEntries != 0 || !still_going) ? Status::OK() : still_going();
  };
  // Older names of a key first, each key with its newest name last, as an
  // import takes the last line for a key (exporter.hpp).
  Status status = db->Scan(
      kNamePrefix,
      [&](std::string_view key, std::string_view value) {
        if (Status s = progress(); !s.ok()) return s;
        auto by_name = DecodeNameEntry(LookupOfNameKey(key), value);
        if (!by_name.ok()) return by_name.status();
        auto current = db->FindKey(by_name->key, snapshot);
        if (!current.ok() && !current.status().IsNotFound()) return current.status();
        if (current.ok() && LookupForm(current->name) == LookupForm(by_name->name)) {
          return Status::OK();
        }
        return emit(ExportEntry{std::move(by_name).value(), /*earlier_name=*/true, 0});
      },
      snapshot);
  if (status.ok()) {
    RegistrationTimes registered(*db, snapshot);
    status = db->Scan(
        kKeyPrefix,
        [&](std::string_view key, std::string_view value) {
          if (Status s = progress(); !s.ok()) return s;
          if (key.size() != Uuid::kByteLength) return Status::Corruption("bad key entry length");
          auto by_key = DecodeKeyEntry(Uuid::FromBytes(key), value);
          if (!by_key.ok()) return by_key.status();
          auto time_us = registered.Of(key);
          if (!time_us.ok()) return time_us.status();
          return emit(ExportEntry{std::move(by_key).value(), /*earlier_name=*/false, time_us.value()});
        },
        snapshot);
  }
  db->raw()->ReleaseSnapshot(snapshot);
  return status;
}

}  // namespace gosl
