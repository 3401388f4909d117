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
  for (int version : {kVersion1, kVersion2})
  for (const PeerRequest& request : requests) {
    const std::string bytes = EncodeRequest(request, version);
    INFO(static_cast<char>(request.op) << " version " << version);
    CHECK(bytes == (version == kVersion2 ? std::string(1, '\x02') : std::string()) +
                       std::string(1, static_cast<char>(request.op)) +
                       (request.only_grid ? "1" : "0") + std::string(std::string(kKey.bytes())) +
                       Text16(request.name) + Text16(request.grid));
    PeerRequest back;
    int decoded_version = 0;
    REQUIRE(DecodeRequest(bytes, back, decoded_version));
    CHECK(decoded_version == version);
    CHECK(back.op == request.op);
    CHECK(back.only_grid == request.only_grid);
    CHECK(back.key == request.key);
    CHECK(back.name == request.name);
    CHECK(back.grid == request.grid);
  }
}

TEST_CASE("a malformed request frame is refused", "[peer_wire]") {
  const std::string good = EncodeRequest(Request(PeerOp::kFindByName, "Mini", "OSGrid", false),
                                         kVersion1);
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
      {"a version byte and nothing", "\x02"},
      {"an unknown version", "\x03" + good},
      {"a version byte twice", "\x02\x02" + good},
      {"a hello where a request belongs", EncodeHello(PeerHello{1, 2, "0.3.0"})},
  };
  for (const Row& row : rows) {
    INFO(row.what);
    PeerRequest request;
    int version = 0;
    CHECK_FALSE(DecodeRequest(row.bytes, request, version));
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
  for (int version : {kVersion1, kVersion2})
  for (const PeerReply* reply : {&found, &missing, &fault}) {
    INFO("version " << version);
    const std::string bytes = EncodeReply(*reply, version);
    PeerReply back;
    REQUIRE(DecodeReply(bytes, back, version));
    PeerReply other;
    CHECK_FALSE(DecodeReply(bytes, other, version == kVersion1 ? kVersion2 : kVersion1));
    CHECK(back.status.code() == reply->status.code());
    CHECK(back.status.message() == reply->status.message());
    CHECK(back.cacheable == reply->cacheable);
    REQUIRE(back.records.size() == reply->records.size());
    for (size_t i = 0; i < back.records.size(); ++i) {
      CHECK(back.records[i].key == reply->records[i].key);
      CHECK(back.records[i].name == reply->records[i].name);
      CHECK(back.records[i].grid == reply->records[i].grid);
    }
    CHECK(EncodeReply(back, version) == bytes);  // one encoding per reply
  }
  CHECK(EncodeReply(found, kVersion1).substr(0, 6) == std::string("\0" "1" "\0\0" "\x02\0", 6));
  CHECK(EncodeReply(found, kVersion2).substr(0, 7) == std::string("\x02\0" "1" "\0\0" "\x02\0", 7));
}

TEST_CASE("a malformed reply frame is refused", "[peer_wire]") {
  PeerReply one;
  one.records = {{kKey, "Mini Resident", "Production"}};
  const std::string good = EncodeReply(one, kVersion1);
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
    CHECK_FALSE(DecodeReply(row.bytes, reply, kVersion1));
    CHECK_FALSE(DecodeReply("\x02" + row.bytes, reply, kVersion2));
  }
}

TEST_CASE("a hello names the directory a peer found and the program's version", "[peer_wire]") {
  const PeerHello hello{0x0102030405060708ULL, 0x1112131415161718ULL, "0.3.0"};
  const std::string bytes = EncodeHello(hello);
  CHECK(bytes == std::string("\x02H\x08\x07\x06\x05\x04\x03\x02\x01\x18\x17\x16\x15\x14\x13\x12\x11", 18) +
                     Text16("0.3.0"));
  CHECK(IsHello(bytes));
  PeerHello back;
  REQUIRE(DecodeHello(bytes, back));
  CHECK(back.device == hello.device);
  CHECK(back.inode == hello.inode);
  CHECK(back.version == "0.3.0");
  const std::string bad[] = {"", "\x02", "\x02H", bytes.substr(0, bytes.size() - 1), bytes + "!",
                             "\x03" + bytes.substr(1), "N" + bytes.substr(1)};
  for (const std::string& frame : bad) {
    INFO(frame.size() << " bytes");
    CHECK_FALSE(DecodeHello(frame, back));
  }
  CHECK_FALSE(IsHello(EncodeRequest(Request(PeerOp::kFindByKey, "", "", false), kVersion2)));
}

TEST_CASE("a hello reply carries the owner's directory, version and verdict", "[peer_wire]") {
  PeerHelloReply refused;
  refused.status = Status::Unavailable("this process holds another directory");
  refused.device = 7;
  refused.inode = 9;
  refused.version = "0.3.0";
  PeerHelloReply welcome;
  welcome.device = 7;
  welcome.inode = 9;
  welcome.version = "0.3.0";
  for (const PeerHelloReply* reply : {&refused, &welcome}) {
    const std::string bytes = EncodeHelloReply(*reply);
    PeerHelloReply back;
    REQUIRE(DecodeHelloReply(bytes, back));
    CHECK(back.status.code() == reply->status.code());
    CHECK(back.status.message() == reply->status.message());
    CHECK(back.device == 7);
    CHECK(back.inode == 9);
    CHECK(back.version == "0.3.0");
    CHECK(EncodeHelloReply(back) == bytes);
    CHECK_FALSE(DecodeHelloReply(bytes.substr(0, bytes.size() - 1), back));
    CHECK_FALSE(DecodeHelloReply(bytes + "x", back));
    PeerReply not_a_reply;
    CHECK_FALSE(DecodeReply(bytes, not_a_reply, kVersion2));
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

TEST_CASE("an export chunk carries each entry's kind, record and registration time", "[peer_wire]") {
  const std::vector<ExportEntry> chunk = {
      {{kKey, "Mini Resident", "Production"}, false, 0},
      {{kKey, "Old Name", "OSGrid"}, true, 0},
      {{kKey, "Mini Resident", ""}, false, 0x0102030405060708ULL},
  };
  const std::string bytes = EncodeChunk(chunk);
  const std::string record = std::string(kKey.bytes()) + Text16("Mini Resident");
  CHECK(bytes == std::string("\x02x\x03\x00", 4) + "0" + record + Text16("Production") + "1" +
                     std::string(kKey.bytes()) + Text16("Old Name") + Text16("OSGrid") + "2" + record + Text16("") +
                     "\x08\x07\x06\x05\x04\x03\x02\x01");
  CHECK(IsChunk(bytes));
  std::vector<ExportEntry> back;
  REQUIRE(DecodeChunk(bytes, back));
  REQUIRE(back.size() == 3);
  for (size_t i = 0; i < 3; ++i) {
    CHECK(back[i].record.key == chunk[i].record.key);
    CHECK(back[i].record.name == chunk[i].record.name);
    CHECK(back[i].record.grid == chunk[i].record.grid);
    CHECK(back[i].earlier_name == chunk[i].earlier_name);
    CHECK(back[i].registered_us == chunk[i].registered_us);
  }
  // Each entry's share of a frame is known before it is sent.
  size_t bytes_counted = 4;
  for (const ExportEntry& entry : chunk) bytes_counted += ChunkEntryBytes(entry);
  CHECK(bytes.size() <= bytes_counted);
}

TEST_CASE("a malformed export chunk is refused", "[peer_wire]") {
  const std::string entry = std::string(kKey.bytes()) + Text16("Mini Resident") + Text16("OSGrid");
  const std::string head = std::string("\x02x\x01\x00", 4);
  const std::string bad[] = {
      head + "3" + entry,                                  // no such kind
      head + "2" + entry,                                  // a registration without its time
      head + "2" + entry + std::string(8, '\0'),           // a registration at time 0
      head + "0" + entry + "x",                            // bytes after the last entry
      std::string("\x02x\x02\x00", 4) + "0" + entry,       // fewer entries than counted
      std::string("\x01x\x01\x00", 4) + "0" + entry,       // version 1 has no chunks
  };
  for (const std::string& bytes : bad) {
    std::vector<ExportEntry> chunk;
    CHECK_FALSE(DecodeChunk(bytes, chunk));
  }
}

TEST_CASE("a batch of name questions is one request, version 2 only", "[peer_wire]") {
  const std::vector<PeerNameQuery> queries = {
      {"Mini Resident", "Production", false}, {"Guest.Visitor @hg.example.com:8002", "hg.example.com:8002", true}};
  const std::string text = EncodeNameQueries(queries);
  CHECK(text == "0Production\tMini Resident\n1hg.example.com:8002\tGuest.Visitor @hg.example.com:8002");
  std::vector<PeerNameQuery> back;
  REQUIRE(DecodeNameQueries(text, back));
  REQUIRE(back.size() == 2);
  CHECK(back[1].name == queries[1].name);
  CHECK(back[1].grid == queries[1].grid);
  CHECK(back[1].only_grid);
  for (const char* bad : {"", "2Production\tx", "0Production", "0Production\tx\n"}) {
    INFO(bad);
    CHECK_FALSE(DecodeNameQueries(bad, back));
  }
  PeerRequest request = Request(PeerOp::kFindManyByName, text, "", false);
  PeerRequest decoded;
  int version = 0;
  REQUIRE(DecodeRequest(EncodeRequest(request), decoded, version));
  CHECK(decoded.op == PeerOp::kFindManyByName);
  CHECK(decoded.name == text);
  // 0.2.0 speaks version 1, which has no batch: such a frame is refused, never misread.
  CHECK_FALSE(DecodeRequest(EncodeRequest(request, kVersion1), decoded, version));
}

}  // namespace gosl::wire
