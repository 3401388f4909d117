#include "peer/wire.hpp"

#include <catch2/catch.hpp>

namespace gosl::wire {
namespace {

const Uuid kKey = Uuid::Parse("6a6b5a13-1f6e-4c3a-9a3e-0d4c1d2e3f40").value();

std::string Text16(const std::string& text) {
  return std::string(1, static_cast<char>(text.size() & 0xFF)) +
         static_cast<char>(text.size() >> 8) + text;
}

PeerRequest Request(PeerOp op, std::string name, std::string grid, bool only) {
  PeerRequest r;
  r.op = op;
  r.name = std::move(name);
  r.grid = std::move(grid);
  r.only_grid = only;
  r.key = kKey;
  return r;
}

}  // namespace

TEST_CASE("a request is op, flag, key, name and grid, and decodes back", "[peer_wire]") {
  const PeerRequest requests[] = {
      Request(PeerOp::kFindByName, "Mini Resident", "OSGrid", true),
      Request(PeerOp::kFindByKey, "", "", false),
      Request(PeerOp::kRecord, "J\xC3\xBCrgen Resident", "", false),
      Request(PeerOp::kFindInAllGrids, std::string(63, 'x'), std::string(64, 'g'), false),
  };
  for (const PeerRequest& request : requests) {
    const std::string bytes = EncodeRequest(request);
    INFO(static_cast<char>(request.op));
    CHECK(bytes == std::string(1, static_cast<char>(request.op)) + (request.only_grid ? "1" : "0") +
                       std::string(kKey.bytes()) + Text16(request.name) + Text16(request.grid));
    PeerRequest back;
    REQUIRE(DecodeRequest(bytes, back));
    CHECK(back.op == request.op);
    CHECK(back.only_grid == request.only_grid);
    CHECK(back.key == request.key);
    CHECK(back.name == request.name);
    CHECK(back.grid == request.grid);
  }
}

TEST_CASE("a malformed request frame is refused", "[peer_wire]") {
  const std::string good = EncodeRequest(Request(PeerOp::kFindByName, "Mini", "OSGrid", false));
  struct Row {
    const char* what;
    std::string bytes;
  };
  const Row rows[] = {
      {"empty", ""},
      {"an unknown op", "X" + good.substr(1)},
      {"a flag that is not '0' or '1'", good.substr(0, 1) + "2" + good.substr(2)},
      {"cut inside the key", good.substr(0, 10)},
      {"cut inside the name", good.substr(0, 2 + 16 + 3)},
      {"cut before the grid", good.substr(0, 2 + 16 + 2 + 4)},
      {"cut inside the grid", good.substr(0, good.size() - 1)},
      {"a byte too many", good + "!"},
      {"a name length past the end", good.substr(0, 18) + "\xff\xff" + good.substr(20)},
  };
  for (const Row& row : rows) {
    INFO(row.what);
    PeerRequest request;
    CHECK_FALSE(DecodeRequest(row.bytes, request));
  }
}

TEST_CASE("a reply carries its status, whether it may be remembered, and its records",
          "[peer_wire]") {
  PeerReply found;
  found.cacheable = true;
  found.records = {{kKey, "Mini Resident", "Production"}, {kKey, "Mini Resident", "OSGrid"}};
  PeerReply missing;
  missing.status = Status::NotFound("no entry on any grid");
  PeerReply fault;
  fault.status = Status::Unavailable("database '/x' is in use by another process");
  for (const PeerReply* reply : {&found, &missing, &fault}) {
    const std::string bytes = EncodeReply(*reply);
    PeerReply back;
    REQUIRE(DecodeReply(bytes, back));
    CHECK(back.status.code() == reply->status.code());
    CHECK(back.status.message() == reply->status.message());
    CHECK(back.cacheable == reply->cacheable);
    REQUIRE(back.records.size() == reply->records.size());
    for (size_t i = 0; i < back.records.size(); ++i) {
      CHECK(back.records[i].key == reply->records[i].key);
      CHECK(back.records[i].name == reply->records[i].name);
      CHECK(back.records[i].grid == reply->records[i].grid);
    }
    CHECK(EncodeReply(back) == bytes);  // one encoding per reply
  }
  CHECK(EncodeReply(found).substr(0, 6) == std::string("\0" "1" "\0\0" "\x02\0", 6));
}

TEST_CASE("a malformed reply frame is refused", "[peer_wire]") {
  PeerReply one;
  one.records = {{kKey, "Mini Resident", "Production"}};
  const std::string good = EncodeReply(one);
  struct Row {
    const char* what;
    std::string bytes;
  };
  const Row rows[] = {
      {"empty", ""},
      {"a status code past the last", std::string(1, static_cast<char>(Code::kInternal) + 1) + good.substr(1)},
      {"a flag that is not '0' or '1'", good.substr(0, 1) + "x" + good.substr(2)},
      {"OK with a message", std::string("\0" "0", 2) + Text16("surprise") + std::string("\0\0", 2)},
      {"more records counted than sent", good.substr(0, 4) + "\x02" + good.substr(5)},
      {"fewer records counted than sent", good.substr(0, 4) + std::string(1, '\0') + good.substr(5)},
      {"cut inside a record", good.substr(0, good.size() - 3)},
      {"a byte too many", good + "!"},
  };
  for (const Row& row : rows) {
    INFO(row.what);
    PeerReply reply;
    CHECK_FALSE(DecodeReply(row.bytes, reply));
  }
}

TEST_CASE("a frame header gives the payload length, up to 64 KB", "[peer_wire]") {
  struct Row {
    size_t length;
    bool ok;
  };
  for (const Row& row : {Row{0, true}, Row{1, true}, Row{kMaxFrameBytes, true},
                         Row{kMaxFrameBytes + 1, false}, Row{0xFFFFFFFF, false}}) {
    INFO(row.length);
    const std::string header = FrameHeader(row.length);
    REQUIRE(header.size() == kFrameHeaderBytes);
    uint32_t length = 0;
    CHECK(DecodeFrameHeader(header, length) == row.ok);
    if (row.ok) CHECK(length == row.length);
  }
  uint32_t length = 0;
  CHECK_FALSE(DecodeFrameHeader("abc", length));
}

}  // namespace gosl::wire
