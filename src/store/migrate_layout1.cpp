#include "store/migrate_layout1.hpp"

#include <memory>
#include <string>

#include <leveldb/db.h>
#include <leveldb/write_batch.h>

#include "store/record_format.hpp"

namespace gosl {

leveldb::Status MigrateFromLayout1(leveldb::DB* db, size_t& moved) {
  using namespace record_format;
  moved = 0;
  std::unique_ptr<leveldb::Iterator> it(db->NewIterator(leveldb::ReadOptions()));
  leveldb::WriteBatch batch;
  for (it->Seek(std::string(1, kNamePrefix)); it->Valid() && it->key()[0] == kNamePrefix;
       it->Next()) {
    const std::string_view key(it->key().data(), it->key().size());
    const std::string_view value(it->value().data(), it->value().size());
    if (key.find('\0') != std::string_view::npos || value.size() <= Uuid::kByteLength) continue;
    std::string_view rest = value.substr(Uuid::kByteLength);
    NameInfo info;
    if (!ParseNameInfo(rest, info) || info.grid == kMainGrid) continue;
    const std::string_view lookup = key.substr(1);
    batch.Put(NameKey(lookup, info.grid), leveldb::Slice(value.data(), value.size()));
    batch.Put(LatestKey(lookup), info.grid);
    batch.Delete(leveldb::Slice(key.data(), key.size()));
    if (++moved % 1000 == 0) {
      if (leveldb::Status s = db->Write(leveldb::WriteOptions(), &batch); !s.ok()) return s;
      batch.Clear();
    }
  }
  if (!it->status().ok()) return it->status();
  batch.Put(std::string(kLayoutKey), std::string(kLayoutVersion));
  leveldb::WriteOptions options;
  options.sync = true;
  return db->Write(options, &batch);
}

}  // namespace gosl
