#include "fault_env.hpp"

#include <cstring>
#include <memory>

#include "store/store_env.hpp"

namespace gosl::test {
namespace {

class FaultyWritableFile final : public leveldb::WritableFile {
 public:
  FaultyWritableFile(std::string name, leveldb::WritableFile* file, FaultEnv& env)
      : name_(std::move(name)), file_(file), env_(env) {}

  leveldb::Status Append(const leveldb::Slice& data) override {
    leveldb::Status fault = env_.WriteFault(name_);
    return fault.ok() ? file_->Append(data) : fault;
  }
  leveldb::Status Close() override { return file_->Close(); }
  leveldb::Status Flush() override {
    leveldb::Status fault = env_.WriteFault(name_);
    return fault.ok() ? file_->Flush() : fault;
  }
  leveldb::Status Sync() override {
    leveldb::Status fault = env_.WriteFault(name_);
    return fault.ok() ? file_->Sync() : fault;
  }

 private:
  std::string name_;
  std::unique_ptr<leveldb::WritableFile> file_;
  FaultEnv& env_;
};

class FaultyRandomAccessFile final : public leveldb::RandomAccessFile {
 public:
  FaultyRandomAccessFile(std::string name, leveldb::RandomAccessFile* file, const FaultEnv& env)
      : name_(std::move(name)), file_(file), env_(env) {}

  leveldb::Status Read(uint64_t offset, size_t n, leveldb::Slice* result,
                       char* scratch) const override {
    if (leveldb::Status fault = env_.ReadFault(name_); !fault.ok()) return fault;
    leveldb::Status s = file_->Read(offset, n, result, scratch);
    if (s.ok() && env_.damage_reads()) {
      // The bytes may be in a buffer of the file's own: damage a copy.
      for (size_t i = 0; i < result->size(); ++i) scratch[i] = static_cast<char>(~(*result)[i]);
      *result = leveldb::Slice(scratch, result->size());
    }
    return s;
  }

 private:
  std::string name_;
  std::unique_ptr<leveldb::RandomAccessFile> file_;
  const FaultEnv& env_;
};

leveldb::Status Failure(const std::string& name, int error) {
  return leveldb::Status::IOError(name, std::strerror(error));
}

}  // namespace

FaultEnv::FaultEnv() : EnvWrapper(StoreEnv()) {}

leveldb::Status FaultEnv::WriteFault(const std::string& name) {
  const int error = write_error_.load();
  if (error == 0) return leveldb::Status::OK();
  ++refused_writes_;
  return Failure(name, error);
}

leveldb::Status FaultEnv::ReadFault(const std::string& name) const {
  const int error = read_error_.load();
  return error == 0 ? leveldb::Status::OK() : Failure(name, error);
}

leveldb::Status FaultEnv::OpenFault(const std::string& name) const {
  const int error = open_error_.load();
  return error == 0 ? leveldb::Status::OK() : Failure(name, error);
}

leveldb::Status FaultEnv::NewSequentialFile(const std::string& name,
                                            leveldb::SequentialFile** result) {
  if (leveldb::Status fault = OpenFault(name); !fault.ok()) return fault;
  return target()->NewSequentialFile(name, result);
}

leveldb::Status FaultEnv::NewRandomAccessFile(const std::string& name,
                                              leveldb::RandomAccessFile** result) {
  if (leveldb::Status fault = OpenFault(name); !fault.ok()) return fault;
  leveldb::RandomAccessFile* file = nullptr;
  leveldb::Status s = target()->NewRandomAccessFile(name, &file);
  *result = s.ok() ? new FaultyRandomAccessFile(name, file, *this) : nullptr;
  return s;
}

leveldb::Status FaultEnv::NewWritableFile(const std::string& name, leveldb::WritableFile** result) {
  if (leveldb::Status fault = OpenFault(name); !fault.ok()) return fault;
  if (leveldb::Status fault = WriteFault(name); !fault.ok()) return fault;
  leveldb::WritableFile* file = nullptr;
  leveldb::Status s = target()->NewWritableFile(name, &file);
  *result = s.ok() ? new FaultyWritableFile(name, file, *this) : nullptr;
  return s;
}

leveldb::Status FaultEnv::NewAppendableFile(const std::string& name,
                                            leveldb::WritableFile** result) {
  if (leveldb::Status fault = OpenFault(name); !fault.ok()) return fault;
  if (leveldb::Status fault = WriteFault(name); !fault.ok()) return fault;
  leveldb::WritableFile* file = nullptr;
  leveldb::Status s = target()->NewAppendableFile(name, &file);
  *result = s.ok() ? new FaultyWritableFile(name, file, *this) : nullptr;
  return s;
}

leveldb::Status FaultEnv::LockFile(const std::string& name, leveldb::FileLock** lock) {
  if (leveldb::Status fault = OpenFault(name); !fault.ok()) return fault;
  return target()->LockFile(name, lock);
}

}  // namespace gosl::test
