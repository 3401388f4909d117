#include "db_holder.hpp"

#include <unistd.h>

#include <leveldb/db.h>

namespace gosl::test {

DatabaseHolder::DatabaseHolder(const std::string& db) {
  holder_ = std::make_unique<Holder>(geteuid(), getegid(), [&db] {
    leveldb::Options options;
    options.create_if_missing = true;
    leveldb::DB* raw = nullptr;  // kept open until the process ends
    return leveldb::DB::Open(options, db, &raw).ok();
  });
}

}  // namespace gosl::test
