// The real binary as a plain CGI program: request in the environment and on
// stdin, answer on stdout, one request per process.
#include <catch2/catch.hpp>

#include "../support/api_cases.hpp"
#include "../support/site.hpp"

namespace gosl::test {
namespace {

RunResult RunCgi(const Site& site, const std::string& method, const std::string& query,
                 const std::string& body = "", const std::string& content_type = "",
                 const std::string& grid = "") {
  std::vector<std::string> env = {"GATEWAY_INTERFACE=CGI/1.1", "REQUEST_METHOD=" + method,
                                  "QUERY_STRING=" + query, "REMOTE_ADDR=127.0.0.1"};
  if (!body.empty()) env.push_back("CONTENT_LENGTH=" + std::to_string(body.size()));
  if (!content_type.empty()) env.push_back("CONTENT_TYPE=" + content_type);
  if (!grid.empty()) env.push_back("HTTP_X_SECONDLIFE_SHARD=" + grid);
  return site.Run({"--writes", "open"}, body, env);
}

}  // namespace

TEST_CASE("every API row answers as SPEC.md says as plain CGI", "[integration][cgi]") {
  Site site(Site::Db::kSeeded);
  CheckApiCases([&site](const ApiCase& c) {
    RunResult run = RunCgi(site, c.method, c.query, c.body, c.content_type, c.grid);
    CHECK(run.exit_code == 0);
    CHECK(run.err.empty());
    return ParseCgiResponse(run.out);
  });
}

TEST_CASE("a CGI body over the limit is refused with 413 without reading it", "[integration][cgi]") {
  Site site;
  RunResult run =
      site.Run({"--writes", "open"}, "name=x",
               {"GATEWAY_INTERFACE=CGI/1.1", "REQUEST_METHOD=POST", "CONTENT_LENGTH=999999999"});
  HttpReply reply = ParseCgiResponse(run.out);
  CHECK(reply.status == 413);
  CHECK(reply.body == "request body is larger than 65536 bytes");
}

TEST_CASE("a malformed CONTENT_LENGTH reads no body", "[integration][cgi]") {
  Site site(Site::Db::kSeeded);
  RunResult run = site.Run({"--writes", "open"}, "name=Legacy+Linden",
                           {"GATEWAY_INTERFACE=CGI/1.1", "REQUEST_METHOD=POST",
                            "QUERY_STRING=name=mini", "CONTENT_LENGTH=-5"});
  CHECK(ParseCgiResponse(run.out).body == kMiniKey);
}

}  // namespace gosl::test
