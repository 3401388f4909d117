#include "targets.hpp"

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "gosl/access.hpp"
#include "gosl/dispatcher.hpp"
#include "gosl/form.hpp"
#include "gosl/parameters.hpp"
#include "gosl/what_line.hpp"
#include "peer/wire.hpp"

namespace gosl::fuzz {
namespace {

constexpr std::string_view kCanaryName = "Fuzz Canary";
constexpr std::string_view kCanaryKey = "0fa2b3c4-d5e6-4f70-8192-a3b4c5d6e7f8";

void Require(bool condition, const char* what) {
  if (condition) return;
  std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
  abort();
}

// One database for the whole run, in memory-backed /dev/shm when there is
// one (registrations are synced to disk), removed at exit.
class Fixture {
 public:
  Fixture() {
    std::string base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    std::string pattern = base + "/gosl-fuzz-XXXXXX";
    Require(mkdtemp(pattern.data()) != nullptr, "a temporary directory");
    dir_ = pattern;
    store_ = std::make_unique<Store>(StoreOptions{dir_ + "/slkvdb"});
    Request seed;
    seed.query = "name=Fuzz+Canary&key=" + std::string(kCanaryKey);
    Require(Handle(seed, *store_).status == 200, "the canary is recorded");
    policy_ = std::make_shared<AccessPolicy>();
    gate_ = std::make_unique<Gate>([this] { return std::shared_ptr<const AccessPolicy>(policy_); },
                                   dir_ + "/slkvdb/GOSL-RATES");
  }
  ~Fixture() {
    gate_.reset();
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  Store& store() { return *store_; }
  Gate& gate() { return *gate_; }
  AccessPolicy& policy() { return *policy_; }

 private:
  std::string dir_;
  std::unique_ptr<Store> store_;
  std::shared_ptr<AccessPolicy> policy_;
  std::unique_ptr<Gate> gate_;
};

Fixture& TheFixture() {
  static Fixture fixture;
  return fixture;
}

// The next line of input, without its '\n'; the rest stays in input.
std::string NextLine(std::string_view& input) {
  const size_t end = input.find('\n');
  std::string line(input.substr(0, end));
  input.remove_prefix(end == std::string_view::npos ? input.size() : end + 1);
  return line;
}

bool KnownStatus(int status) {
  switch (status) {
    case 200: case 400: case 403: case 404: case 413: case 414: case 429: case 503: return true;
    default: return false;
  }
}

}  // namespace

void RequestTarget(const uint8_t* data, size_t size) {
  Fixture& fixture = TheFixture();
  std::string_view input(reinterpret_cast<const char*>(data), size);
  Request request;
  request.method = NextLine(input);
  request.query = NextLine(input);
  request.content_type = NextLine(input);
  request.grid = NextLine(input);
  request.owner_key = NextLine(input);
  request.object_key = request.owner_key;
  const std::string mode = NextLine(input);
  request.body = std::string(input.substr(0, Request::kMaxBodyBytes));
  request.body_too_large = input.size() > Request::kMaxBodyBytes;
  // An address per input (from its bytes), so the rate limit does not turn
  // every gated registration into a 429 after the first thirty.
  uint32_t hash = 2166136261u;
  for (size_t i = 0; i < size; ++i) hash = (hash ^ data[i]) * 16777619u;
  request.remote_addr = "10." + std::to_string(hash >> 16 & 255) + "." +
                        std::to_string(hash >> 8 & 255) + "." + std::to_string(hash & 255);

  AccessPolicy& policy = fixture.policy();
  auto parsed = ParseWriteMode(mode);
  policy.writes = parsed.ok() ? parsed.value() : WriteMode::kSlOnly;
  policy.token = "fuzz-token-1";

  for (Gate* gate : {&fixture.gate(), static_cast<Gate*>(nullptr)}) {
    const Response response = Handle(request, fixture.store(), gate);
    Require(KnownStatus(response.status), "a known status (no 500)");
    // A batch answer lists its refused lines, one per line, within what an
    // LSL script receives (2,048 bytes); every other answer is one line.
    // A batch lookup (names=, keys=) answers a line for each line asked.
    const bool batch = response.status == 200 && response.body.rfind("recorded ", 0) == 0;
    const Result<Parameters> asked = ParseParameters(request);
    const bool lookups = response.status == 200 && asked.ok() && (!asked->names.empty() || !asked->keys.empty());
    const size_t lines = 1 + static_cast<size_t>(std::count(response.body.begin(),
                                                            response.body.end(), '\n'));
    Require(lines <= (batch ? 12u : lookups ? kMaxBatchLookups : 1u),
            "a one-line body, a batch registration's lines, or a line for each lookup asked");
    if (lookups && response.content_type.rfind("text/plain", 0) == 0) {
      Require(lines == asked->names.size() + asked->keys.size(), "a batch lookup answers every line asked");
    }
    Require(!batch || response.body.size() <= 2048, "a batch answer within LSL's 2,048 bytes");
    Require(response.body.find('\r') == std::string::npos, "no carriage return in a body");
    Require((response.retry_after_s > 0) == (response.status == 429), "Retry-After with 429 only");
    Require(response.status == 200 || response.status >= 400, "4xx/5xx for a refusal");
    Require(response.summary.find('\n') == std::string::npos, "a one-line log summary");
    if (response.content_type.rfind("application/json", 0) == 0) {
      const char open = lookups ? '[' : '{', close = lookups ? ']' : '}';
      Require(!response.body.empty() && response.body.front() == open && response.body.back() == close,
              "a JSON object (a list for a batch lookup)");
    }
    Require(IsValidUtf8(response.body), "a UTF-8 body");
  }
  Request canary;
  canary.query = "name=" + std::string(kCanaryName);
  const Response answer = Handle(canary, fixture.store());
  Require(answer.status == 200 && answer.body.size() == 36, "the database still answers");
}

namespace {

// A backup's line (UUID,Name[,Grid[,Registered]]): what the exporter writes
// for what was read reads back as the same entry.
void ExportLineTarget(std::string_view line) {
  Result<ExportLine> parsed = ParseExportLine(line);
  if (!parsed.ok()) {
    Require(!parsed.status().message().empty(), "a refusal says why");
    Require(parsed.status().code() == Code::kInvalidArgument, "a refusal is kInvalidArgument");
    return;
  }
  const std::string& host = parsed->record.name.hypergrid_host();
  const std::string grid = parsed->grid ? *parsed->grid : !host.empty() ? host : std::string(kMainGrid);
  Require(host.empty() || grid == host, "a Hypergrid name is on its home grid");
  ExportEntry entry{AvatarRecord{parsed->record.key, parsed->record.name.display(), grid}, false,
                    parsed->registered_us};
  Result<ExportLine> again = ParseExportLine(FormatExportLine(entry));
  Require(again.ok(), "the exported line parses");
  const std::string again_grid =
      again->grid ? *again->grid : !host.empty() ? host : std::string(kMainGrid);
  Require(again->record.key == parsed->record.key &&
              again->record.name.display() == parsed->record.name.display() && again_grid == grid &&
              again->registered_us == parsed->registered_us,
          "the exported line is the same entry");
}

}  // namespace

void CsvLineTarget(const uint8_t* data, size_t size) {
  std::string_view line(reinterpret_cast<const char*>(data), size);
  ExportLineTarget(line);
  Result<WhatRecord> record = ParseWhatLine(line);
  if (!record.ok()) {
    Require(!record.status().message().empty(), "a refusal says why");
    Require(record.status().code() == Code::kInvalidArgument, "a refusal is kInvalidArgument");
    return;
  }
  const std::string key = record->key.ToString();
  Require(Uuid::Parse(key).ok() && Uuid::Parse(key).value() == record->key, "the key prints back");
  const std::string& name = record->name.display();
  // A Hypergrid name shows its home grid after the name: "First.Last @host".
  const std::string& host = record->name.hypergrid_host();
  const size_t limit = AvatarName::kMaxBytes + (host.empty() ? 0 : 2 + host.size());
  Require(!name.empty() && name.size() <= limit, "a name within the limit");
  Require(host.size() <= AvatarName::kMaxHostBytes, "a host within the limit");
  Require(IsValidUtf8(name), "a UTF-8 name");
  for (char c : name) {
    Require(static_cast<unsigned char>(c) >= 0x20 && c != 0x7F, "no control characters");
  }
  // What the exporter writes for it reads back as the same record.
  std::string quoted = "\"";
  for (char c : name) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  Result<WhatRecord> again = ParseWhatLine(key + "," + quoted + "\"");
  Require(again.ok(), "the printout parses");
  Require(again->key == record->key && again->name.display() == name &&
              again->name.lookup() == record->name.lookup(),
          "the printout is the same record");
}

void PeerWireTarget(const uint8_t* data, size_t size) {
  if (size == 0) return;
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 7) {
    case 0: {
      PeerRequest request;
      int version = 0;
      if (wire::DecodeRequest(bytes, request, version)) {
        Require(version == wire::kVersion1 || version == wire::kVersion2, "a known version");
        Require(wire::EncodeRequest(request, version) == bytes, "a decoded request encodes to its bytes");
      }
      break;
    }
    case 1:
    case 2: {
      const int version = data[0] % 7 == 1 ? wire::kVersion1 : wire::kVersion2;
      PeerReply reply;
      if (wire::DecodeReply(bytes, reply, version)) {
        Require(wire::EncodeReply(reply, version) == bytes, "a decoded reply encodes to its bytes");
      }
      break;
    }
    case 3: {
      PeerHello hello;
      if (wire::DecodeHello(bytes, hello)) {
        Require(wire::IsHello(bytes), "a hello is recognised as one");
        Require(wire::EncodeHello(hello) == bytes, "a decoded hello encodes to its bytes");
      }
      break;
    }
    case 4: {
      PeerHelloReply reply;
      if (wire::DecodeHelloReply(bytes, reply)) {
        Require(wire::EncodeHelloReply(reply) == bytes, "a decoded hello reply encodes to its bytes");
      }
      break;
    }
    case 5: {
      std::vector<ExportEntry> chunk;
      if (wire::DecodeChunk(bytes, chunk)) {
        Require(wire::IsChunk(bytes), "a chunk is recognised as one");
        Require(wire::EncodeChunk(chunk) == bytes, "a decoded chunk encodes to its bytes");
      }
      break;
    }
    default: {
      uint32_t length = 0;
      if (wire::DecodeFrameHeader(bytes, length)) {
        Require(length <= wire::kMaxFrameBytes, "a frame is at most kMaxFrameBytes");
        Require(wire::FrameHeader(length) == bytes, "a frame header encodes to its bytes");
      }
    }
  }
}

}  // namespace gosl::fuzz
