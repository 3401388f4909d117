// The guides' commands as a test runs them. A fenced block in README.md or
// docs/*.md is runnable when the line before it says where it runs:
//
//   <!-- runs: demo -->     beside `make run`'s demo server (127.0.0.1:3000)
//   <!-- runs: desktop -->  on the user's machine, in a clone with `make dist` built
//   <!-- runs: host -->     in a shell on the shared host (over SSH), from the home directory
//   <!-- runs: server -->   as root on the user's own server (Debian 12), from root's home
//
// Each command (one line, or several joined by a trailing '\', an open
// quote, '|' or '&&') is run in order, in one bash, so variables and `cd`
// carry to the next. What a guide shows a command answering is checked:
//
//   curl "$URL?name=x"        # -> the answer, on the command's last line
//   ./gosl-basics.fcgi --repair
//   # repair of '…' done        the answer's lines, right below the command
//   #  …continued               (two spaces: the line above goes on)
//
// '…' matches any text; $NAME and ${…} in an answer are the shell's
// variables. A blank line ends an answer; other comments are prose. A
// command that shows no answer must exit 0.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gosl::test {

struct DocCommand {
  std::string file;  // the guide, and the line the command starts on
  int line = 0;
  std::string where;  // demo, desktop, host or server
  std::string text;   // the command as written (several lines when joined)
  std::optional<std::string> answer;  // what the guide shows it answering
  bool block_start = false;           // the first command of its block
};

// The runnable commands of a guide (a Markdown file), in order.
std::vector<DocCommand> RunnableCommands(const std::string& path);

// A bash script running the commands one after another, each one's output
// (stdout and stderr) framed by markers ParseOutcomes reads. prelude runs
// first; desktop, host and server blocks each keep their own working
// directory, starting in $DESKTOP, $HOME and $SERVER_HOME (/root when unset).
std::string ScriptFor(const std::vector<DocCommand>& commands, const std::string& prelude);

struct CommandOutcome {
  bool ran = false;
  int exit_code = -1;
  std::string output;  // trailing newlines removed
  std::string answer;  // the guide's answer, variables expanded
};
std::vector<CommandOutcome> ParseOutcomes(const std::string& script_output, size_t commands);

// True when text is pattern, where each '…' in pattern stands for any text.
bool MatchesAnswer(std::string_view pattern, std::string_view text);

// One line per command that did not do what its guide says (empty: all did).
std::string Disagreements(const std::vector<DocCommand>& commands,
                          const std::vector<CommandOutcome>& outcomes);

}  // namespace gosl::test
