#include "store/internal_key.hpp"

#include "util/coding.hpp"

namespace gosl::internal_key {
namespace {

uint64_t TrailerOf(const leveldb::Slice& internal_key) {
  return coding::DecodeFixed(internal_key.data() + internal_key.size() - kTrailerBytes, 8);
}

class InternalKeyOrder final : public leveldb::Comparator {
 public:
  const char* Name() const override { return "leveldb.InternalKeyComparator"; }

  int Compare(const leveldb::Slice& a, const leveldb::Slice& b) const override {
    const int order = UserKeyOf(a).compare(UserKeyOf(b));
    if (order != 0) return order;
    const uint64_t ta = TrailerOf(a), tb = TrailerOf(b);
    return ta > tb ? -1 : (ta < tb ? 1 : 0);
  }

  void FindShortestSeparator(std::string* start, const leveldb::Slice& limit) const override {
    const leveldb::Slice user_start = UserKeyOf(*start);
    std::string shorter(user_start.data(), user_start.size());
    leveldb::BytewiseComparator()->FindShortestSeparator(&shorter, UserKeyOf(limit));
    Adopt(user_start, shorter, start);
  }

  void FindShortSuccessor(std::string* key) const override {
    const leveldb::Slice user_key = UserKeyOf(*key);
    std::string shorter(user_key.data(), user_key.size());
    leveldb::BytewiseComparator()->FindShortSuccessor(&shorter);
    Adopt(user_key, shorter, key);
  }

 private:
  // A shortened user key is used only when it is shorter and still after
  // the original, with the largest trailer so it sorts before its entries.
  static void Adopt(const leveldb::Slice& user_key, std::string& shorter, std::string* key) {
    if (shorter.size() < user_key.size() && user_key.compare(shorter) < 0) {
      AppendTrailer(shorter, kMaxSequence);
      key->swap(shorter);
    }
  }
};

}  // namespace

void AppendTrailer(std::string& key, uint64_t sequence, uint8_t type) {
  coding::PutFixed64(key, sequence << 8 | type);
}

uint64_t SequenceOf(const leveldb::Slice& internal_key) { return TrailerOf(internal_key) >> 8; }
uint8_t TypeOf(const leveldb::Slice& internal_key) {
  return static_cast<uint8_t>(TrailerOf(internal_key) & 0xFF);
}

leveldb::Slice UserKeyOf(const leveldb::Slice& internal_key) {
  return {internal_key.data(), internal_key.size() - kTrailerBytes};
}

const leveldb::Comparator* Order() {
  static const InternalKeyOrder order;
  return &order;
}

}  // namespace gosl::internal_key
