#include "gosl/parameters.hpp"

#include <catch2/catch.hpp>

namespace gosl {
namespace {

Request Get(std::string query) {
  Request request;
  request.query = std::move(query);
  return request;
}

Request Post(std::string query, std::string body, std::string content_type) {
  Request request;
  request.method = "POST";
  request.query = std::move(query);
  request.body = std::move(body);
  request.content_type = std::move(content_type);
  return request;
}

const char* const kKey = "6a6b5a13-1f6e-4c3a-9a3e-0d4c1d2e3f40";

}  // namespace

TEST_CASE("parameters are typed once: name, key, compat, format", "[parameters]") {
  auto params = ParseParameters(Get(std::string("name=Mini+Resident&key=") + kKey +
                                    "&compat=FALSE&format=JSON"));
  REQUIRE(params.ok());
  CHECK(params->name->display() == "Mini Resident");
  CHECK(params->key->ToString() == kKey);
  CHECK_FALSE(params->compat);
  CHECK(params->format == Format::kJson);

  auto defaults = ParseParameters(Get("name=mini"));
  REQUIRE(defaults.ok());
  CHECK(defaults->compat);
  CHECK(defaults->format == Format::kText);
  CHECK_FALSE(defaults->key.has_value());
}

TEST_CASE("issue 2: amp;key is read as key", "[parameters]") {
  auto params = ParseParameters(Get(std::string("name=X&amp;key=") + kKey));
  REQUIRE(params.ok());
  REQUIRE(params->key.has_value());
  CHECK(params->key->ToString() == kKey);
}

TEST_CASE("a form body wins over the query string", "[parameters]") {
  for (const char* type : {"application/x-www-form-urlencoded", "text/plain;charset=utf-8",
                           "Application/X-WWW-Form-Urlencoded; charset=UTF-8", ""}) {
    INFO(type);
    auto params = ParseParameters(Post("name=Query&compat=false", "name=Body", type));
    REQUIRE(params.ok());
    CHECK(params->name->display() == "Body");
    CHECK_FALSE(params->compat);  // query values the body does not repeat still count
  }
  auto json = ParseParameters(Post("name=Query", "name=Body", "application/json"));
  REQUIRE(json.ok());
  CHECK(json->name->display() == "Query");
}

TEST_CASE("empty name and key count as absent", "[parameters]") {
  auto params = ParseParameters(Get("name=&key="));
  REQUIRE(params.ok());
  CHECK_FALSE(params->name.has_value());
  CHECK_FALSE(params->key.has_value());
}

TEST_CASE("a malformed parameter is refused with a reason naming it", "[parameters]") {
  struct Row {
    Request request;
    Code code;
    std::string message;
  };
  Request big = Post("", "", "");
  big.body_too_large = true;
  Request bad_grid = Get("name=mini");
  bad_grid.grid = "Prod\nuction";
  Request long_grid = Get("name=mini");
  long_grid.grid = std::string(65, 'g');
  const Row rows[] = {
      {Get("key=abc"), Code::kInvalidArgument, "invalid key \"abc\""},
      {Get("name=a%2"), Code::kInvalidArgument, "parameter 'name': bad %-escape at '%2'"},
      {Get("name=%FF"), Code::kInvalidArgument, "parameter 'name' is not valid UTF-8"},
      {Get("compat=2&name=x"), Code::kInvalidArgument, "compat must be true or false, not '2'"},
      {Get("format=yaml&name=x"), Code::kInvalidArgument, "format must be text or json, not 'yaml'"},
      {Get("name=+"), Code::kInvalidArgument, "name is empty"},
      {big, Code::kTooLarge, "request body is larger than 65536 bytes"},
      {bad_grid, Code::kInvalidArgument, "X-SecondLife-Shard header contains a control character"},
      {long_grid, Code::kInvalidArgument,
       "X-SecondLife-Shard header is not a grid name of at most 64 UTF-8 bytes"},
      {Post("", "key=%", "text/plain"), Code::kInvalidArgument, "parameter 'key': bad %-escape at '%'"},
  };
  for (const Row& row : rows) {
    INFO(row.request.query << " / " << row.request.body);
    auto params = ParseParameters(row.request);
    REQUIRE_FALSE(params.ok());
    CHECK(params.status().code() == row.code);
    CHECK(params.status().message() == row.message);
  }
}

TEST_CASE("the grid comes from the X-SecondLife-Shard header", "[parameters]") {
  Request request = Get("name=mini");
  request.grid = "Production";
  CHECK(ParseParameters(request).value().grid == "Production");
}

}  // namespace gosl

namespace gosl {

TEST_CASE("pairs are read line by line, CRLF and blank lines ignored, 50 at most", "[parameters]") {
  Request request;
  request.method = "POST";
  request.content_type = "application/x-www-form-urlencoded";
  request.body = "pairs=6a6b5a13-1f6e-4c3a-9a3e-0d4c1d2e3f40%2CMini%20Resident%0D%0A%0A%20%0A"
                 "bad%2CLine%0D%0A";
  auto params = ParseParameters(request);
  REQUIRE(params.ok());
  REQUIRE(params->pairs.size() == 2);
  CHECK(params->pairs[0]->name.display() == "Mini Resident");
  CHECK(params->pairs[1].status().message() == "invalid key \"bad\"");

  std::string fifty;
  for (int i = 0; i < 50; ++i) {
    char line[64];
    std::snprintf(line, sizeof line, "%s00000000-0000-4000-8000-%012d%%2CP%d", i ? "%0A" : "", i, i);
    fifty += line;
  }
  request.body = "pairs=" + fifty;
  params = ParseParameters(request);
  REQUIRE(params.ok());
  CHECK(params->pairs.size() == 50);
}

}  // namespace gosl
