// Store (gosl/store.hpp): builds each call's request and hands it to the
// router; the jobs themselves live beside this file (README, "Guide to the
// source").
#include "gosl/store.hpp"

#include <leveldb/write_batch.h>

#include "store/fault_log.hpp"
#include "store/local_db.hpp"
#include "store/record_format.hpp"
#include "store/router.hpp"
#include "store/write_counter.hpp"

namespace gosl {

// Members in the order they are built: each refers only to those above it,
// and the router (which answers peers) goes before the database closes.
struct Store::Rep {
  explicit Rep(StoreOptions store_options)
      : options(std::move(store_options)),
        writes(options.path),
        local(options, writes),
        router(options, local, writes),
        faults(options.path) {}

  Result<std::vector<AvatarRecord>> Dispatch(const PeerRequest& request) {
    Result<std::vector<AvatarRecord>> result = router.Route(request);
    faults.Note(result.status(), request.op == PeerOp::kRecord);
    return result;
  }

  Result<AvatarRecord> DispatchOne(const PeerRequest& request) {
    auto records = Dispatch(request);
    if (!records.ok()) return records.status();
    if (records->empty()) return Status::NotFound("");
    return std::move(records->front());
  }

  Status Write(leveldb::WriteBatch* writes_to_make, bool sync) {
    if (Status s = router.RequireOwnership(); !s.ok()) return s;
    return local.Write(writes_to_make, sync);
  }

  const StoreOptions options;
  SharedWriteCounter writes;
  LocalDb local;
  Router router;
  FaultLog faults;
};

Store::Store(StoreOptions options) : rep_(std::make_unique<Rep>(std::move(options))) {}
Store::~Store() = default;

Status Store::Open() { return rep_->router.Open(); }
bool Store::is_open() const { return rep_->router.is_open(); }
bool Store::owns_database() const { return rep_->router.owns_database(); }
const std::string& Store::path() const { return rep_->options.path; }

Result<AvatarRecord> Store::FindByName(const AvatarName& name, const GridChoice& grids) {
  PeerRequest request;
  request.op = PeerOp::kFindByName;
  request.name = name.display();
  request.grid = grids.caller;
  request.only_grid = grids.only;
  return rep_->DispatchOne(request);
}

Result<std::vector<AvatarRecord>> Store::FindInAllGrids(const AvatarName& name) {
  PeerRequest request;
  request.op = PeerOp::kFindInAllGrids;
  request.name = name.display();
  return rep_->Dispatch(request);
}

Result<AvatarRecord> Store::FindByKey(const Uuid& key) {
  PeerRequest request;
  request.op = PeerOp::kFindByKey;
  request.key = key;
  return rep_->DispatchOne(request);
}

namespace {

Result<std::vector<AvatarRecord>> InOrder(Result<std::vector<AvatarRecord>> answers, size_t asked) {
  if (answers.ok() && answers->size() != asked) {
    return Status::Corruption("the process holding the database answered " +
                              std::to_string(answers->size()) + " of " + std::to_string(asked) +
                              " questions");
  }
  return answers;
}

}  // namespace

Result<std::vector<AvatarRecord>> Store::FindManyByName(const std::vector<NameQuestion>& questions) {
  if (questions.empty()) return std::vector<AvatarRecord>();
  std::vector<PeerNameQuery> queries;
  for (const NameQuestion& question : questions) {
    queries.push_back({question.name.display(), question.grids.caller, question.grids.only});
  }
  PeerRequest request;
  request.op = PeerOp::kFindManyByName;
  request.name = EncodeNameQueries(queries);
  return InOrder(rep_->Dispatch(request), questions.size());
}

Result<std::vector<AvatarRecord>> Store::FindManyByKey(const std::vector<Uuid>& keys) {
  if (keys.empty()) return std::vector<AvatarRecord>();
  PeerRequest request;
  request.op = PeerOp::kFindManyByKey;
  request.name = EncodeKeyQueries(keys);
  return InOrder(rep_->Dispatch(request), keys.size());
}

Status Store::Record(const AvatarName& name, const Uuid& key, std::string_view grid) {
  PeerRequest request;
  request.op = PeerOp::kRecord;
  request.name = name.display();
  request.key = key;
  request.grid = std::string(grid);
  return rep_->Dispatch(request).status();
}

Store::Batch::Batch() : writes_(std::make_unique<leveldb::WriteBatch>()) {}
Store::Batch::~Batch() = default;

void Store::Batch::Add(const AvatarName& name, const Uuid& key, std::string_view grid) {
  AddRecord(*writes_, name, key, grid);
  ++records_;
}

void Store::Batch::Clear() {
  writes_->Clear();
  records_ = 0;
}

Status Store::Commit(Batch& batch, bool sync) { return rep_->Write(batch.writes_.get(), sync); }

Status Store::ForEachName(const std::function<Status(const AvatarRecord&)>& visit) {
  if (Status s = rep_->router.RequireOwnership(); !s.ok()) return s;
  return rep_->local.Scan(record_format::kNamePrefix,
                          [&visit](std::string_view key, std::string_view value) {
                            auto record = record_format::DecodeNameEntry(
                                record_format::LookupOfNameKey(key), value);
                            return record.ok() ? visit(record.value()) : record.status();
                          });
}

Status Store::ForEachKey(const std::function<Status(const AvatarRecord&)>& visit) {
  if (Status s = rep_->router.RequireOwnership(); !s.ok()) return s;
  return rep_->local.Scan(record_format::kKeyPrefix,
                          [&visit](std::string_view key, std::string_view value) {
                            if (key.size() != Uuid::kByteLength) {
                              return Status::Corruption("bad key entry length");
                            }
                            auto record = record_format::DecodeKeyEntry(Uuid::FromBytes(key), value);
                            return record.ok() ? visit(record.value()) : record.status();
                          });
}

Status Store::CompactAll() {
  if (Status s = rep_->router.RequireOwnership(); !s.ok()) return s;
  return rep_->local.CompactAll();
}

Result<std::string> Store::SwapIn(const std::string& new_dir, bool refresh) {
  auto summary = rep_->router.SwapIn(new_dir, refresh);
  rep_->faults.Note(summary.status(), /*write=*/true);
  return summary;
}

Status Store::Export(const ExportVisitor& visit) { return rep_->router.Export(visit); }

Result<DatabaseFacts> Store::Facts() { return rep_->router.Facts(); }

}  // namespace gosl
