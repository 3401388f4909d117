// The page for people, in a real browser: Debian's headless chromium loads
// it from the real binary under Apache + mod_fcgid (the shipped .htaccess),
// types a name into the box, submits the form as a person would, and reads
// the key from the page that comes back. Screenshots of each page are kept
// under build/screenshots/ for a person to look at.
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "../support/api_cases.hpp"
#include "../support/chromium.hpp"
#include "../support/http_client.hpp"
#include "apache_server.hpp"

namespace gosl::test {
namespace {

const std::string kScreenshots = std::string(GOSL_SOURCE_DIR) + "/build/screenshots";

// Types text into the lookup box and presses the button.
void LookUp(HeadlessChromium& browser, const std::string& text) {
  browser.Evaluate("(document.getElementById('q').value = '" + text + "', 'typed')");
  browser.Evaluate("(document.querySelector('button').click(), 'clicked')");
}

}  // namespace

TEST_CASE("in a real browser the page loads, a name typed finds its key, and hostile text stays text",
          "[apache][browser]") {
  REQUIRE(std::filesystem::exists(HeadlessChromium::kBinary));  // scripts/install-deps.sh installs it
  std::filesystem::create_directories(kScreenshots);
  ApacheOptions options;
  options.prepare_database = [](const std::string& db_path) { SeedApiDatabase(db_path); };
  ApacheServer apache(options);
  const std::string site = "http://127.0.0.1:" + std::to_string(apache.port()) + apache.app_prefix();
  HeadlessChromium browser;

  browser.Navigate(site);
  CHECK(browser.Evaluate("document.title") == "Avatar name and key lookup");
  CHECK(browser.Evaluate("document.getElementById('what').textContent").find("Second Life") != std::string::npos);
  const std::string records = browser.Evaluate("document.getElementById('records').textContent");
  CHECK_FALSE(records.empty());
  CHECK(records.find_first_not_of("0123456789,") == std::string::npos);
  // The stylesheet ran under the Content-Security-Policy: its hash is right.
  CHECK(browser.Evaluate("getComputedStyle(document.querySelector('button')).backgroundColor") ==
        "rgb(36, 86, 201)");
  // Readable on a phone: nothing wider than the 412-pixel window.
  CHECK(browser.Evaluate("document.documentElement.scrollWidth <= window.innerWidth") == "true");
  browser.Screenshot(kScreenshots + "/page-start.png");

  LookUp(browser, "Mini Resident");
  REQUIRE(browser.WaitUntil("document.getElementById('key') !== null"));
  CHECK(browser.Evaluate("document.getElementById('key').textContent") == kMiniKey);
  CHECK(browser.Evaluate("document.getElementById('name').textContent") == "Mini Resident");
  CHECK(browser.Evaluate("location.search") == "?q=Mini+Resident");
  CHECK(browser.Evaluate("document.getElementById('q').value") == "Mini Resident");
  browser.Screenshot(kScreenshots + "/page-found.png");

  LookUp(browser, kMiniKey);
  REQUIRE(browser.WaitUntil("location.search.indexOf('6a6b5a13') > 0 && document.getElementById('name') !== null"));
  CHECK(browser.Evaluate("document.getElementById('name').textContent") == "Mini Resident");

  // Markup typed into the box comes back as the text typed, nothing run.
  const std::string hostile = "<img src=x onerror=document.title=1>";
  LookUp(browser, hostile);
  REQUIRE(browser.WaitUntil("document.getElementById('not-known') !== null"));
  CHECK(browser.Evaluate("document.querySelectorAll('img').length") == "0");
  CHECK(browser.Evaluate("document.getElementById('not-known').textContent").find(hostile) != std::string::npos);
  CHECK(browser.Evaluate("document.title") == "Avatar name and key lookup");
  browser.Screenshot(kScreenshots + "/page-not-known.png");

  // The same URL without a browser's Accept: today's answer, not a page.
  const HttpReply plain = HttpRequest(apache.port(), "GET", apache.app_prefix() + "?q=Mini+Resident");
  CHECK(plain.status == 404);
  CHECK(plain.body == "empty avatar name and UUID key received, cannot proceed");
  // The same counts for scripts, through the host: every lookup above was
  // answered by a process mod_fcgid started, and is counted.
  // (Each process writes its counts within 100 ms of an answer.)
  HttpReply status = HttpRequest(apache.port(), "GET", apache.app_prefix() + "?status=1&format=json");
  for (int tries = 0; tries < 50 && status.body.find("\"found\":0") != std::string::npos; ++tries) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    status = HttpRequest(apache.port(), "GET", apache.app_prefix() + "?status=1&format=json");
  }
  INFO(status.body);
  CHECK(status.status == 200);
  CHECK(status.content_type == "application/json");
  CHECK(status.body.find("\"records\":2,\"grids\":{\"Production\":2}") != std::string::npos);
  CHECK(status.body.find("\"owner\":1") != std::string::npos);
  CHECK(status.body.find("\"found\":0") == std::string::npos);
  CHECK(status.body.find(apache.app_dir()) == std::string::npos);  // no path of the site
  CHECK(apache.Stop());
}

}  // namespace gosl::test
