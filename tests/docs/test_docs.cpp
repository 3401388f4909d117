// The guides, executed: every runnable block of README.md and docs/*.md
// (doc_script.hpp) is run as a user would run it, and each answer a guide
// shows is checked. The demo's blocks run beside `make run`'s own script;
// the desktop's and the host's against a private Apache + mod_fcgid standing
// in for the shared host, through ssh, rsync, scp, curl and make that reach
// it on this machine instead of over the network.
#include <csignal>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "../apache/apache_server.hpp"
#include "../support/files.hpp"
#include "../support/process.hpp"
#include "../support/temp_dir.hpp"
#include "doc_script.hpp"
#include "gosl/version.hpp"

namespace gosl::test {
namespace {

namespace fs = std::filesystem;

const std::string kSource = GOSL_SOURCE_DIR;
const std::vector<std::string> kGuides = {
    "README.md",              "docs/api.md",          "docs/database.md",
    "docs/deploy-shared-host.md", "docs/deploy-lighttpd.md", "docs/deploy-nginx.md",
    "docs/deploy-systemd.md", "docs/security.md",     "docs/lsl.md",
    "docs/architecture.md",   "docs/storage.md",      "docs/messages.md"};

// The archive `make dist` built (make test builds it first).
std::string Archive() {
  return kSource + "/dist/gosl-basics-" + std::string(kVersion) + "-linux-x86_64.tar.gz";
}

std::vector<DocCommand> CommandsOf(const std::string& guide, const std::vector<std::string>& places) {
  std::vector<DocCommand> all;
  for (DocCommand& command : RunnableCommands(kSource + "/" + guide)) {
    command.file = guide;
    for (const std::string& place : places) {
      if (command.where == place) all.push_back(command);
    }
  }
  return all;
}

void ReplaceAll(std::string& text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

// W-Hat's export as a user downloads it: here, the demo's made-up avatars.
std::string WhatExport(const TempDir& dir) {
  const std::string file = dir.File("w-hat-name2key.csv");
  fs::copy_file(kSource + "/data/sample-name2key.csv", file);
  REQUIRE(RunProgram("/bin/gzip", {"-9", file}, {"PATH=/usr/bin:/bin"}).exit_code == 0);
  fs::permissions(file + ".gz", fs::perms(0644), fs::perm_options::replace);
  return file + ".gz";
}

// What stands in for the network: the host is this machine's Apache, reached as the site's user.
const char* const kHostShims = R"SH(
ssh() { shift; (cd "$HOME" && bash -c "$*"); }
__upload() {
  local files=() a f
  for a in "$@"; do case $a in -*) ;; *) files+=("$a") ;; esac; done
  local dest="$HOME/${files[-1]#*:}"
  unset 'files[-1]'
  for f in "${files[@]}"; do
    if [ -d "$f" ]; then
      case $f in */) mkdir -p "$dest" && cp -a "$f." "$dest" ;; *) cp -a "$f" "$dest" ;; esac
    else  # as rsync does: a temporary name renamed into place, never a running binary written over
      cp -a "$f" "$dest/.${f##*/}.upload" && mv -f "$dest/.${f##*/}.upload" "$dest/${f##*/}"
    fi || return 1
  done
}
rsync() { __upload "$@"; }
scp() { __upload "$@"; }
curl() {
  local a args=()
  for a in "$@"; do
    case $a in http://w-hat.com/*) cp "$WHAT_EXPORT" "./${a##*/}"; return ;; esac
    args+=("${a//https:\/\/example.com\//http://127.0.0.1:$APACHE_PORT/}")
  done
  command curl -sS "${args[@]}"
}
make() {
  if [ "$*" = dist ]; then mkdir -p dist && cp "$ARCHIVE" dist/; return; fi
  echo "the guide tests do not run 'make $*'"; return 1
}
export -f ssh __upload rsync scp curl make
)SH";

// What the host holds before a guide's first command: nothing (the deploy
// guide uploads it all), the program and its files, or those and a database.
enum class HostHolds { kNothing, kProgram, kDatabase };

// Runs a guide's desktop and host blocks against a fresh Apache site, and
// checks that each command did what the guide says.
void CheckGuideOnHost(const std::string& guide, HostHolds site) {
  TempDir downloads;
  fs::permissions(downloads.path(), fs::perms(0755), fs::perm_options::replace);
  const std::string what = WhatExport(downloads);
  // The site's user may not be able to read the clone (CI's may be root's alone): a copy it can.
  const std::string archive = downloads.File(fs::path(Archive()).filename().string());
  fs::copy_file(Archive(), archive);
  fs::permissions(archive, fs::perms(0644), fs::perm_options::replace);
  ApacheOptions options;
  options.install_app = site != HostHolds::kNothing;
  if (site == HostHolds::kDatabase) {
    options.prepare_database = [&what](const std::string& db) {
      const RunResult imported =
          RunProgram(kSource + "/dist/gosl-basics.fcgi",
                     {"--import", what, "--dir", fs::path(db).parent_path().string(), "--debug", "WARNING"},
                     {"PATH=/usr/bin:/bin"});
      REQUIRE(imported.exit_code == 0);
    };
  }
  options.writes = "sl-only";  // the shipped config.ini, unchanged
  options.binary = kSource + "/dist/gosl-basics.fcgi";
  ApacheServer apache(options);
  const std::string home = apache.MakeSiteDir("home");
  const std::string desktop = apache.MakeSiteDir("desktop");
  fs::create_directory_symlink(apache.htdocs(), home + "/example.com");
  // Where Dreamhost keeps a site's Apache log, as the guide says.
  const std::string logs = apache.MakeSiteDir("home/logs/example.com/http");
  fs::create_symlink(fs::path(apache.htdocs()).parent_path() / "logs/error.log", logs + "/error.log");
  const std::vector<DocCommand> commands = CommandsOf(guide, {"desktop", "host"});
  REQUIRE_FALSE(commands.empty());
  const std::vector<std::string> env = {
      "HOME=" + home, "DESKTOP=" + desktop, "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8",
      "APACHE_PORT=" + std::to_string(apache.port()), "ARCHIVE=" + archive, "WHAT_EXPORT=" + what};
  std::string prelude = "export HOME DESKTOP APACHE_PORT ARCHIVE WHAT_EXPORT\n";
  prelude += kHostShims;
  const RunResult run = apache.BashAsSiteUser(ScriptFor(commands, prelude), env, desktop, 300000);
  const std::string report = Disagreements(commands, ParseOutcomes(run.out, commands.size()));
  CHECK(apache.Stop());
  INFO(run.out);
  CHECK(report == "");
}

}  // namespace

TEST_CASE("the guide runner finds commands, joins their lines and reads the answers shown", "[docs]") {
  TempDir dir;
  WriteFile(dir.File("guide.md"),
            "Some prose.\n\n<!-- runs: desktop -->\n```sh\n# prose before the first command\n"
            "echo one     # -> one\n"
            "printf 'a\\nb\\n'\n# a\n# b\n\n# prose again\n"
            "echo \"two  # not a comment\" \\\n  three\n"
            "printf '{\"x\":1,\"y\":2}'\n# {\"x\":1,\n#  \"y\":2}\n"
            "echo $'multi\nline'   # -> multi…\n```\n\n```sh\necho not runnable\n```\n"
            "<!-- runs: host -->\n\n```sh\necho the marker is not right above\n```\n");
  const std::vector<DocCommand> commands = RunnableCommands(dir.File("guide.md"));
  REQUIRE(commands.size() == 5);
  CHECK(commands[0].text == "echo one     # -> one");
  CHECK(commands[0].answer == std::optional<std::string>("one"));
  CHECK(commands[0].block_start);
  CHECK(commands[1].answer == std::optional<std::string>("a\nb"));
  CHECK(commands[2].text == "echo \"two  # not a comment\" \\\n  three");
  CHECK_FALSE(commands[2].answer);
  CHECK(commands[3].answer == std::optional<std::string>("{\"x\":1,\"y\":2}"));
  CHECK(commands[4].line == 17);
  CHECK(commands[4].where == "desktop");

  const RunResult run = RunProgram("/bin/bash", {"-c", ScriptFor(commands, "")},
                                   {"PATH=/usr/bin:/bin", "HOME=" + dir.path(), "DESKTOP=" + dir.path()});
  const std::vector<CommandOutcome> outcomes = ParseOutcomes(run.out, commands.size());
  CHECK(Disagreements(commands, outcomes).empty());
  CHECK(outcomes[2].output == "two  # not a comment three");
  // A wrong answer, a failing command and a missing one are each reported.
  std::vector<CommandOutcome> wrong = outcomes;
  wrong[0].output = "uno";
  wrong[2].exit_code = 1;
  wrong[4].ran = false;
  const std::string report = Disagreements(commands, wrong);
  CHECK_THAT(report, Catch::Contains("guide.md:6: echo one     # -> one\n    the guide shows: one\n"
                                     "    it answered:     uno\n"));
  CHECK_THAT(report, Catch::Contains("three\n    exited 1: two"));
  CHECK_THAT(report, Catch::Contains("did not run: echo $'multi"));
}

TEST_CASE("'…' in a guide's answer stands for any text", "[docs]") {
  CHECK(MatchesAnswer("UUID for 'Demo' is: … from grid: 'Production'",
                      "UUID for 'Demo' is: 63cbe1e4-5932-4dd7-844c-3cd7f43c661c from grid: 'Production'"));
  CHECK(MatchesAnswer("…", ""));
  CHECK(MatchesAnswer("a…b…c", "a-b-b-c"));
  CHECK_FALSE(MatchesAnswer("a…b", "a-c"));
  CHECK_FALSE(MatchesAnswer("exact", "exact "));
}

TEST_CASE("README and the API guide answer as shown beside make run's demo server", "[docs]") {
  TempDir work;
  fs::create_directory_symlink(kSource + "/data", work.File("data"));
  const int port = FreeTcpPort();
  const std::string binary_dir = fs::path(GOSL_TEST_BINARY).parent_path().string();
  // make run's own script: it imports the demo database and execs --server.
  FastCgiProcess demo("/bin/sh", {kSource + "/scripts/run-demo.sh", binary_dir}, work.File("unused.sock"),
                      work.path(), {"PATH=/usr/bin:/bin", "PORT=" + std::to_string(port)},
                      work.File("demo.out"), work.File("demo.err"));
  REQUIRE(WaitForTcpPort(port, 20000));
  for (const std::string guide : {"README.md", "docs/api.md"}) {
    INFO(guide);
    std::vector<DocCommand> commands = CommandsOf(guide, {"demo"});
    REQUIRE_FALSE(commands.empty());
    for (DocCommand& command : commands) {
      ReplaceAll(command.text, "127.0.0.1:3000", "127.0.0.1:" + std::to_string(port));
    }
    // On a terminal curl shows no progress meter; here its output is a pipe.
    const RunResult run = RunProgram("/bin/bash", {"-c", ScriptFor(commands, "curl() { command curl -sS \"$@\"; }")},
                                     {"PATH=/usr/bin:/bin", "HOME=" + work.path(), "DESKTOP=" + work.path()},
                                     "", 60000, work.path());
    INFO(run.out);
    CHECK(Disagreements(commands, ParseOutcomes(run.out, commands.size())) == "");
  }
  demo.StopWith(SIGTERM);
}

TEST_CASE("the deploy guide, followed from make dist to the first answers, works on a fresh host",
          "[docs][apache]") {
  CheckGuideOnHost("docs/deploy-shared-host.md", HostHolds::kNothing);
}

TEST_CASE("README's deploy recipe gives the guide's site: the database is never served", "[docs][apache]") {
  CheckGuideOnHost("README.md", HostHolds::kNothing);
}

TEST_CASE("the database guide, built, checked, uploaded and operated while it serves", "[docs][apache]") {
  CheckGuideOnHost("docs/database.md", HostHolds::kProgram);
}

TEST_CASE("the security guide's repair runs on a serving site", "[docs][apache]") {
  CheckGuideOnHost("docs/security.md", HostHolds::kDatabase);
}

namespace {

// The longest string literal of each call that makes a message an operator
// can meet: a 5xx answer (Unavailable, Corruption, IOError, Internal) or a
// log line at WARNING and above.
std::vector<std::string> OperatorMessages(std::vector<std::string>& where) {
  const std::regex call(R"re((log::(Error|Warning|Critical)|Status::(Unavailable|Corruption|IOError|Internal))\()re");
  const std::regex literal(R"re("((?:[^"\\]|\\.)*)")re");
  std::vector<std::string> messages;
  for (const auto& entry : fs::recursive_directory_iterator(kSource + "/src")) {
    if (entry.path().extension() != ".cpp") continue;
    const std::string text = ReadFile(entry.path().string());
    for (auto it = std::sregex_iterator(text.begin(), text.end(), call); it != std::sregex_iterator(); ++it) {
      const size_t begin = static_cast<size_t>(it->position() + it->length());
      const std::string args = text.substr(begin, text.find(';', begin) - begin);
      std::string longest;
      for (auto lit = std::sregex_iterator(args.begin(), args.end(), literal); lit != std::sregex_iterator(); ++lit) {
        std::string unescaped;
        const std::string raw = (*lit)[1].str();
        for (size_t i = 0; i < raw.size(); ++i) unescaped += raw[i] == '\\' && i + 1 < raw.size() ? raw[++i] : raw[i];
        if (unescaped.size() > longest.size()) longest = unescaped;
      }
      if (longest.size() < 12) continue;  // "' is gone", ": ": no message of its own to look up
      messages.push_back(longest);
      where.push_back(entry.path().lexically_relative(kSource).string());
    }
  }
  return messages;
}

}  // namespace

TEST_CASE("every message an operator can meet is in docs/messages.md with its cause and fix", "[docs]") {
  const std::string table = ReadFile(kSource + "/docs/messages.md");
  std::vector<std::string> where;
  const std::vector<std::string> messages = OperatorMessages(where);
  CHECK(messages.size() > 80);
  for (size_t i = 0; i < messages.size(); ++i) {
    INFO(where[i] << ": \"" << messages[i] << "\"");
    CHECK(table.find(messages[i]) != std::string::npos);
  }
  // The deploy guide's "When it fails" is built from the table: each message it quotes is there.
  const std::string guide = ReadFile(kSource + "/docs/deploy-shared-host.md");
  const size_t section = guide.find("## When it fails");
  REQUIRE(section != std::string::npos);
  const std::string fails = guide.substr(section, guide.find("\n## ", section + 1) - section);
  CHECK(fails.find("docs/messages.md") != std::string::npos);
}

TEST_CASE("every guide's runnable blocks say where they run, and it names no file outside the repository",
          "[docs]") {
  size_t runnable = 0;
  for (const std::string& guide : kGuides) {
    INFO(guide);
    for (const DocCommand& command : RunnableCommands(kSource + "/" + guide)) {
      ++runnable;
      CHECK((command.where == "demo" || command.where == "desktop" || command.where == "host" ||
             command.where == "server"));
    }
    const std::string text = ReadFile(kSource + "/" + guide);
    CHECK(text.find("../shared") == std::string::npos);
    // Every docs/… a guide names is there.
    const std::regex named("docs/[a-z-]+\\.md");
    for (auto it = std::sregex_iterator(text.begin(), text.end(), named); it != std::sregex_iterator(); ++it) {
      INFO(it->str());
      CHECK(fs::exists(kSource + "/" + it->str()));
    }
  }
  CHECK(runnable > 40);
}

}  // namespace gosl::test
