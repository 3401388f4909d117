#include "api_cases.hpp"

#include <catch2/catch.hpp>

#include "gosl/avatar_name.hpp"
#include "gosl/store.hpp"
#include "gosl/uuid.hpp"
#include "keys.hpp"

namespace gosl::test {
namespace {

const std::string kText = "text/plain; charset=utf-8";
const std::string kJson = "application/json";
const std::string kNil = "00000000-0000-0000-0000-000000000000";
const std::string kForm = "application/x-www-form-urlencoded";
const std::string kNewKey = "c0ffee00-1234-4abc-8def-0123456789ab";
const std::string kTouchKey = "d00dfeed-0000-4000-8000-000000000001";

ApiCase Get(std::string what, std::string query, int status, std::string body,
            std::string type = kText, std::string grid = "") {
  return {std::move(what), "GET", std::move(query), "", "", std::move(grid), status,
          std::move(type), std::move(body)};
}

ApiCase Post(std::string what, std::string query, std::string body, std::string content_type,
             int status, std::string expected, std::string type = kText) {
  return {std::move(what), "POST", std::move(query), std::move(body), std::move(content_type),
          "", status, std::move(type), std::move(expected)};
}

const std::string kBatchKey1 = "ba7c0000-0000-4000-8000-000000000001";
const std::string kBatchKey2 = "ba7c0000-0000-4000-8000-000000000002";

// n made-up "UUID,Name" pairs, url-encoded and joined by %0A.
std::string ManyPairs(int n) {
  std::string pairs;
  for (int i = 0; i < n; ++i) {
    pairs +=
        std::string(i ? "%0A" : "") + TestKey(100 + i, 0xba7c0000u) + "%2CMany" + std::to_string(i);
  }
  return pairs;
}

// n names joined by %0A.
std::string ManyNames(int n) {
  std::string names;
  for (int i = 0; i < n; ++i) names += std::string(i ? "%0A" : "") + "Name" + std::to_string(i);
  return names;
}

std::string ManyParameters(int n) {
  std::string query;
  for (int i = 0; i < n; ++i) query += std::string(i ? "&" : "") + "p" + std::to_string(i) + "=1";
  return query;
}

std::string Upper(std::string text) {
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

}  // namespace

void SeedApiDatabase(const std::string& db_path) {
  Store store({db_path});
  Store::Batch batch;
  batch.Add(AvatarName::Parse("Mini Resident").value(), Uuid::Parse(kMiniKey).value(),
            "Production");
  batch.Add(AvatarName::Parse("Legacy Linden").value(), Uuid::Parse(kLegacyKey).value(),
            "Production");
  Status status = store.Commit(batch, /*sync=*/true);
  REQUIRE(status.ok());
}

const std::vector<ApiCase>& ApiCases() {
  static const std::vector<ApiCase> cases = {
      // name -> key, matched as Second Life matches names
      Get("name as stored", "name=Mini+Resident", 200, kMiniKey),
      Get("first name only means Resident", "name=mini", 200, kMiniKey),
      Get("any letter case, %20 for space", "name=MINI%20RESIDENT", 200, kMiniKey),
      Get("username form first.last", "name=Legacy.Linden", 200, kLegacyKey),
      Get("surrounding and repeated spaces", "name=++Mini+++Resident+", 200, kMiniKey),
      Get("compat=false sentence", "name=mini&compat=false", 200,
          "UUID for 'Mini Resident' is: " + kMiniKey + " from grid: 'Production'"),
      Get("unknown name: 200 and the nil key", "name=Nobody+Here", 200, kNil),
      Get("unknown name, sentence", "name=Nobody+Here&compat=false", 200,
          "UUID for 'Nobody Here' is: " + kNil + " from grid: ''"),
      Get("W-Hat's terse=1 is ignored", "terse=1&name=Legacy%20Linden", 200, kLegacyKey),
      // key -> name
      Get("key -> name", "key=" + kMiniKey, 200, "Mini Resident"),
      Get("key in upper case", "key=" + Upper(kMiniKey), 200, "Mini Resident"),
      Get("key -> name sentence", "key=" + kLegacyKey + "&compat=false", 200,
          "avatar name for '" + kLegacyKey + "' is 'Legacy Linden' on grid: 'Production'"),
      Get("unknown key: 200 and an empty body", "key=" + kUnknownKey, 200, ""),
      // format=json
      Get("json, found", "name=Mini+Resident&format=json", 200,
          R"({"name":"Mini Resident","key":")" + kMiniKey +
              R"(","grid":"Production","found":true})",
          kJson),
      Get("json, not found", "name=Nobody&format=json", 200,
          R"({"name":"Nobody","key":")" + kNil + R"(","grid":"","found":false})", kJson),
      Get("json, key not found", "key=" + kUnknownKey + "&format=json", 200,
          R"({"name":"","key":")" + kUnknownKey + R"(","grid":"","found":false})", kJson),
      // refused requests
      Get("neither name nor key: 404", "", 404,
          "empty avatar name and UUID key received, cannot proceed"),
      Get("empty values count as absent", "name=&key=", 404,
          "empty avatar name and UUID key received, cannot proceed"),
      Get("malformed key with a name: 400", "name=X&key=notauuid", 400, "invalid key \"notauuid\""),
      Get("malformed key alone: 400", "key=6a6b5a13-1f6e-4c3a-9a3e-0d4c1d2e3f4", 400,
          "invalid key \"6a6b5a13-1f6e-4c3a-9a3e-0d4c1d2e3f4\""),
      Get("bad %-escape: 400", "name=Mini%zzResident", 400,
          "parameter 'name': bad %-escape at '%zz'"),
      Get("invalid UTF-8: 400", "name=%C3%28", 400, "parameter 'name' is not valid UTF-8"),
      Get("over-long name: 400", "name=" + std::string(64, 'a'), 400,
          "name is longer than 63 bytes: '" + std::string(40, 'a') + "...'"),
      Get("a query string over 4 KB: 414", "name=" + std::string(4100, 'a'), 414,
          "query string is longer than 4096 bytes"),
      Get("more than 64 parameters: 400", ManyParameters(65) + "&name=mini", 400,
          "more than 64 parameters"),
      Get("64 parameters are fine", ManyParameters(63) + "&name=mini", 200, kMiniKey),
      Get("control character in a name: 400", "name=Mini%0AResident", 400,
          "name contains a control character: 'Mini\\x0aResident'"),
      Get("bad compat value: 400", "name=mini&compat=maybe", 400,
          "compat must be true or false, not 'maybe'"),
      Get("bad format value: 400", "name=mini&format=xml", 400,
          "format must be text or json, not 'xml'"),
      Get("recording the null key: 400", "name=Someone&key=" + kNil, 400,
          "cannot record the null key for an avatar"),
      // name + key records the pair, both ways at once
      Get("register, grid from X-SecondLife-Shard", "name=New+Avatar&key=" + Upper(kNewKey), 200,
          "Added new entry for 'New Avatar' which is: " + kNewKey + " from grid: 'Production'",
          kText, "Production"),
      Get("registered pair found by key", "key=" + kNewKey, 200, "New Avatar"),
      Get("registered pair found by name", "name=new.avatar", 200, kNewKey),
      Get("old touch.lsl sends amp;key", "name=Touch+Person&amp;key=" + kTouchKey, 200,
          "Added new entry for 'Touch Person' which is: " + kTouchKey + " from grid: ''"),
      Get("amp;key pair found by key", "key=" + kTouchKey + "&compat=false", 200,
          "avatar name for '" + kTouchKey + "' is 'Touch Person' on grid: ''"),
      Get("register with json answer", "name=Json+Person&key=" + kUnknownKey + "&format=json",
          200, R"({"name":"Json Person","key":")" + kUnknownKey + R"(","grid":"OSGrid","found":true})",
          kJson, "OSGrid"),
      // a name change: key -> newest name, every old name still finds the key
      Get("rename", "name=Mini+Renamed&key=" + kMiniKey, 200,
          "Added new entry for 'Mini Renamed' which is: " + kMiniKey + " from grid: ''"),
      Get("key -> newest name", "key=" + kMiniKey, 200, "Mini Renamed"),
      Get("old name still finds the key", "name=Mini+Resident", 200, kMiniKey),
      Get("new name finds the key", "name=mini+renamed", 200, kMiniKey),
      // POST bodies
      Post("urlencoded body wins over the query", "name=Nobody", "name=Legacy+Linden", kForm, 200,
           kLegacyKey),
      Post("text/plain body as LSL sends by default", "", "name=Legacy+Linden",
           "text/plain;charset=utf-8", 200, kLegacyKey),
      Post("body registers", "", "name=Body+Person&key=" + kTouchKey, kForm, 200,
           "Added new entry for 'Body Person' which is: " + kTouchKey + " from grid: ''"),
      Post("a non-form body is not read as parameters", "name=Legacy+Linden", "name=Mini",
           "application/octet-stream", 200, kLegacyKey),
      Post("bad encoding in the body: 400", "", "key=%G1", kForm, 400,
           "parameter 'key': bad %-escape at '%G1'"),
      // Batch registration: pairs= holds "UUID,Name" lines (%0A between them).
      Post("a batch records its good pairs and names the bad one", "",
           "pairs=" + kBatchKey1 + "%2CBatch%20One%0Anot-a-uuid%2CBroken%0A" + kBatchKey2 +
               "%2CBatch%20Two%20Resident",
           kForm, 200, "recorded 2 of 3\nline 2: invalid key \"not-a-uuid\""),
      Get("a batched pair is found by key", "key=" + kBatchKey2, 200, "Batch Two Resident"),
      Get("a batched pair is found by name", "name=batch.one", 200, kBatchKey1),
      Post("a batch answers json", "format=json", "pairs=" + kBatchKey1 + "%2CBatch%20One%0A,x",
           kForm, 200,
           R"({"recorded":1,"total":2,"refused":[{"line":2,"reason":"invalid key \"\""}]})", kJson),
      Post("an empty batch: 400", "", "pairs=%0A%0A", kForm, 400, "pairs is empty"),
      Post("a batch with name or key: 400", "name=Mini", "pairs=" + kBatchKey1 + "%2CX", kForm, 400,
           "give either pairs or name/key, not both"),
      Post("a batch of 51 pairs: 400", "", "pairs=" + ManyPairs(51), kForm, 400,
           "too many pairs: 51 (at most 50)"),
      Post("a batch over 8 KB: 413", "", "pairs=" + kBatchKey1 + "%2C" + std::string(8200, 'a'),
           kForm, 413, "pairs is larger than 8192 bytes"),
      // Batch lookups: names= / keys= hold one a line, answered a line each in the same order.
      Get("names= answers a key a line, in order", "names=Mini+Resident%0ANobody+Here%0A%0Alegacy.linden",
          200, kMiniKey + "\n" + kNil + "\n! name is empty\n" + kLegacyKey),
      Post("names= in a POST body", "", "names=mini%0Alegacy.linden%0A", kForm, 200,
           kMiniKey + "\n" + kLegacyKey),
      Get("keys= answers a name a line, empty when unknown",
          "keys=" + kMiniKey + "%0A" + kNil + "%0Anot-a-key%0A" + Upper(kLegacyKey), 200,
          "Mini Renamed\n\n! invalid key \"not-a-key\"\nLegacy Linden"),  // renamed by a row above
      Get("names= as json", "names=mini%0Anobody&format=json", 200,
          "[{\"name\":\"Mini Resident\",\"key\":\"" + kMiniKey +
              "\",\"grid\":\"Production\",\"found\":true},{\"name\":\"nobody\",\"key\":\"" + kNil +
              "\",\"grid\":\"\",\"found\":false}]",
          kJson),
      Get("names= and keys= together: 400", "names=mini&keys=" + kMiniKey, 400,
          "give one of name/key, pairs, names or keys"),
      Get("names= with name=: 400", "names=mini&name=mini", 400, "give one of name/key, pairs, names or keys"),
      Get("an empty names=: 400", "names=", 400, "names is empty"),
      Get("names= with 51 lines: 400", "names=" + ManyNames(51), 400, "too many names: 51 (at most 50)"),
  };
  return cases;
}

void CheckApiCases(const std::function<HttpReply(const ApiCase&)>& send) {
  for (const ApiCase& c : ApiCases()) {
    INFO(c.what << ": " << c.method << " ?" << c.query << " body '" << c.body << "'");
    HttpReply reply = send(c);
    CHECK(reply.status == c.status);
    CHECK(reply.body == c.expected_body);
    if (!c.expected_type.empty()) CHECK(reply.content_type == c.expected_type);
  }
}

}  // namespace gosl::test
