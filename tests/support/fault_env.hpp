// A LevelDB Env that fails on command (leveldb util/testutil.h ErrorEnv): a
// full disk, read errors, an unreadable directory and damaged bytes, for
// fault tests that run as any user, in every run. It wraps the Env the store
// reads through (pread), so everything else behaves as in production.
#pragma once

#include <atomic>
#include <string>

#include <leveldb/env.h>

namespace gosl::test {

class FaultEnv final : public leveldb::EnvWrapper {
 public:
  FaultEnv();

  // Creating, appending to and syncing files fails with strerror(error)
  // (ENOSPC: a full disk); 0 ends it.
  void FailWrites(int error) { write_error_ = error; }
  // Reading tables fails with strerror(error); 0 ends it.
  void FailReads(int error) { read_error_ = error; }
  // Opening any file fails with strerror(error) (EACCES: an unreadable
  // directory); 0 ends it.
  void FailOpens(int error) { open_error_ = error; }
  // Table reads return their bytes with every byte flipped.
  void DamageReads(bool damage) { damage_reads_ = damage; }
  // Writes refused so far.
  int refused_writes() const { return refused_writes_; }

  leveldb::Status NewSequentialFile(const std::string& name, leveldb::SequentialFile** result) override;
  leveldb::Status NewRandomAccessFile(const std::string& name,
                                      leveldb::RandomAccessFile** result) override;
  leveldb::Status NewWritableFile(const std::string& name, leveldb::WritableFile** result) override;
  leveldb::Status NewAppendableFile(const std::string& name, leveldb::WritableFile** result) override;
  leveldb::Status LockFile(const std::string& name, leveldb::FileLock** lock) override;

  // What the wrapped files ask before each operation.
  leveldb::Status WriteFault(const std::string& name);
  leveldb::Status ReadFault(const std::string& name) const;
  bool damage_reads() const { return damage_reads_; }

 private:
  leveldb::Status OpenFault(const std::string& name) const;

  std::atomic<int> write_error_{0}, read_error_{0}, open_error_{0};
  std::atomic<bool> damage_reads_{false};
  std::atomic<int> refused_writes_{0};
};

}  // namespace gosl::test
