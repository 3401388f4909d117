#include "doc_script.hpp"

#include <cstdlib>
#include <sstream>

#include "../support/files.hpp"

namespace gosl::test {
namespace {

constexpr std::string_view kMarker = "<!-- runs: ";
constexpr std::string_view kEllipsis = "\xE2\x80\xA6";  // …

std::string Trimmed(std::string_view text) {
  const size_t begin = text.find_first_not_of(" \t\r");
  if (begin == std::string_view::npos) return "";
  const size_t end = text.find_last_not_of(" \t\r");
  return std::string(text.substr(begin, end - begin + 1));
}

bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// Reads a shell line the way bash splits it, far enough to know where its
// comment starts and whether the command goes on to the next line.
class LineScanner {
 public:
  // Returns where the line's comment starts (npos: none).
  size_t Scan(std::string_view line) {
    for (size_t i = 0; i < line.size(); ++i) {
      const char c = line[i];
      switch (quote_) {
        case Quote::kNone:
          if (c == '\\') {
            ++i;
          } else if (c == '\'') {
            quote_ = i > 0 && line[i - 1] == '$' ? Quote::kAnsiC : Quote::kSingle;
          } else if (c == '"') {
            quote_ = Quote::kDouble;
          } else if (c == '(') {
            ++depth_;
          } else if (c == ')' && depth_ > 0) {
            --depth_;
          } else if (c == '#' && (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t')) {
            return i;
          }
          break;
        case Quote::kSingle:
          if (c == '\'') quote_ = Quote::kNone;
          break;
        case Quote::kAnsiC:
        case Quote::kDouble:
          if (c == '\\') {
            ++i;
          } else if (c == (quote_ == Quote::kDouble ? '"' : '\'')) {
            quote_ = Quote::kNone;
          }
          break;
      }
    }
    return std::string_view::npos;
  }
  // Inside quotes or parentheses (an array or a $(…) over several lines).
  bool open() const { return quote_ != Quote::kNone || depth_ > 0; }

 private:
  enum class Quote { kNone, kSingle, kDouble, kAnsiC };
  Quote quote_ = Quote::kNone;
  int depth_ = 0;
};

// Text for inside "…" in bash, with $ left to expand.
std::string DoubleQuoted(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\' || c == '`') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::vector<DocCommand> RunnableCommands(const std::string& path) {
  std::vector<DocCommand> commands;
  std::istringstream in(ReadFile(path));
  std::string where;       // of the block being read; empty: not runnable
  std::string pending;     // from a marker, for the next block
  bool in_block = false, block_start = false;
  bool in_command = false, reading_answer = false;
  LineScanner scanner;
  int number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    if (!in_block) {
      const std::string trimmed = Trimmed(line);
      if (trimmed.rfind(kMarker, 0) == 0 && EndsWith(trimmed, " -->")) {
        pending = trimmed.substr(kMarker.size(), trimmed.size() - kMarker.size() - 4);
      } else if (trimmed.rfind("```", 0) == 0) {
        in_block = true;
        where = pending;
        block_start = true;
        pending.clear();
      } else {
        pending.clear();  // a marker belongs to the block right below it
      }
      continue;
    }
    if (Trimmed(line).rfind("```", 0) == 0) {
      in_block = in_command = reading_answer = false;
      continue;
    }
    if (where.empty()) continue;
    if (!in_command) {
      if (Trimmed(line).empty()) {
        reading_answer = false;
        continue;
      }
      if (line[0] == '#') {
        if (reading_answer) {
          DocCommand& last = commands.back();
          const std::string shown = line.substr(1);
          if (shown.rfind("  ", 0) == 0 && last.answer) {
            *last.answer += Trimmed(shown);  // the line above goes on
          } else {
            last.answer = last.answer ? *last.answer + "\n" + Trimmed(shown) : Trimmed(shown);
          }
        }
        continue;
      }
      commands.push_back(DocCommand{path, number, where, line, std::nullopt});
      commands.back().block_start = block_start;
      block_start = false;
      in_command = true;
    } else {
      commands.back().text += "\n" + line;
    }
    const size_t comment = scanner.Scan(line);
    const std::string code = Trimmed(std::string_view(line).substr(0, comment));
    if (scanner.open() || EndsWith(code, "\\") || EndsWith(code, "|") || EndsWith(code, "&&") ||
        EndsWith(code, "||")) {
      continue;  // the command goes on
    }
    in_command = false;
    const std::string remark = comment == std::string::npos ? "" : Trimmed(line.substr(comment + 1));
    if (remark.rfind("-> ", 0) == 0) {
      commands.back().answer = Trimmed(remark.substr(3));
      reading_answer = false;
    } else {
      reading_answer = true;
    }
  }
  return commands;
}

std::string ScriptFor(const std::vector<DocCommand>& commands, const std::string& prelude) {
  std::string script = "exec 2>&1 </dev/null\n" + prelude + "\n" +
                       "__desktop_cwd=$DESKTOP\n__host_cwd=$HOME\n"
                       "__server_cwd=${SERVER_HOME:-/root}\n";
  std::string previous;
  for (size_t i = 0; i < commands.size(); ++i) {
    const DocCommand& command = commands[i];
    // The demo's commands run on the desktop too, where the terminal stays
    // in the directory it was left in, as root's does on the server; each
    // host block is a new SSH login.
    const std::string where =
        command.where == "host" || command.where == "server" ? command.where : "desktop";
    if (!previous.empty() && (where != previous || where == "host") && command.block_start) {
      script += "__" + previous + "_cwd=$PWD\n";
    }
    if (where == "host" && command.block_start) {
      script += "cd \"$HOME\"\n";
    } else if (where != previous) {
      script += "cd \"$__" + where + "_cwd\"\n";
    }
    previous = where;
    script += "printf '\\n@@BEGIN " + std::to_string(i) + "\\n'\n";
    script += command.text + "\n";
    script += "printf '\\n@@END " + std::to_string(i) + " %d\\n' \"$?\"\n";
    if (command.answer) {
      script += "printf '@@ANSWER " + std::to_string(i) + " %s\\n@@ANSWEREND\\n' " +
                DoubleQuoted(*command.answer) + "\n";
    }
  }
  return script;
}

std::vector<CommandOutcome> ParseOutcomes(const std::string& out, size_t commands) {
  std::vector<CommandOutcome> outcomes(commands);
  for (size_t i = 0; i < commands; ++i) {
    const std::string begin = "\n@@BEGIN " + std::to_string(i) + "\n";
    const std::string end = "\n@@END " + std::to_string(i) + " ";
    const size_t from = out.find(begin);
    if (from == std::string::npos) continue;
    const size_t to = out.find(end, from + begin.size() - 1);
    if (to == std::string::npos) continue;
    CommandOutcome& outcome = outcomes[i];
    outcome.ran = true;
    outcome.output = out.substr(from + begin.size(), to < from + begin.size() ? 0 : to - from - begin.size());
    while (!outcome.output.empty() && (outcome.output.back() == '\n' || outcome.output.back() == '\r')) {
      outcome.output.pop_back();
    }
    outcome.exit_code = std::atoi(out.c_str() + to + end.size());
    const std::string answer = "@@ANSWER " + std::to_string(i) + " ";
    const size_t shown = out.find(answer, to);
    const size_t shown_end = out.find("\n@@ANSWEREND", shown);
    if (shown != std::string::npos && shown_end != std::string::npos) {
      outcome.answer = out.substr(shown + answer.size(), shown_end - shown - answer.size());
    }
  }
  return outcomes;
}

bool MatchesAnswer(std::string_view pattern, std::string_view text) {
  const size_t wildcard = pattern.find(kEllipsis);
  if (wildcard == std::string_view::npos) return pattern == text;
  const std::string_view head = pattern.substr(0, wildcard);
  if (text.substr(0, head.size()) != head) return false;
  const std::string_view rest = pattern.substr(wildcard + kEllipsis.size());
  for (size_t skip = head.size(); skip <= text.size(); ++skip) {
    if (MatchesAnswer(rest, text.substr(skip))) return true;
  }
  return false;
}

std::string Disagreements(const std::vector<DocCommand>& commands,
                          const std::vector<CommandOutcome>& outcomes) {
  std::string report;
  for (size_t i = 0; i < commands.size(); ++i) {
    const DocCommand& command = commands[i];
    const CommandOutcome& outcome = outcomes[i];
    const std::string where = command.file + ":" + std::to_string(command.line) + ": ";
    if (!outcome.ran) {
      report += where + "did not run: " + command.text + "\n";
    } else if (command.answer && !MatchesAnswer(outcome.answer, outcome.output)) {
      report += where + command.text + "\n    the guide shows: " + outcome.answer +
                "\n    it answered:     " + outcome.output + "\n";
    } else if (!command.answer && outcome.exit_code != 0) {
      report += where + command.text + "\n    exited " + std::to_string(outcome.exit_code) + ": " +
                outcome.output + "\n";
    }
  }
  return report;
}

}  // namespace gosl::test
