#include "gosl/shell.hpp"

#include <histedit.h>
#include <langinfo.h>

#include <cerrno>
#include <clocale>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string_view>

#include "gosl/dispatcher.hpp"
#include "gosl/request.hpp"
#include "gosl/response.hpp"
#include "gosl/status.hpp"
#include "gosl/uuid.hpp"
#include "gosl/version.hpp"

namespace gosl {
namespace {

constexpr int kMaxHistoryLines = 1000;
constexpr std::string_view kBlanks = " \t\r\n\v\f";

std::string_view Trimmed(std::string_view line) {
  const size_t first = line.find_first_not_of(kBlanks);
  if (first == std::string_view::npos) return {};
  const size_t last = line.find_last_not_of(kBlanks);
  return line.substr(first, last - first + 1);
}

bool IsQuit(std::string_view line) { return line == "quit" || line == "exit"; }

// Only RFC 3986's unreserved characters (section 2.3) stay as they are; every
// other byte, space included, becomes %XX. DecodeForm() then gives back
// exactly the bytes typed: a bare '+' would read as a space, '&' would end
// the parameter and '%' would start an escape.
std::string QueryEscaped(std::string_view text) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += c;
    } else {
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 0x0F];
    }
  }
  return out;
}

// The Request an HTTP front end would have built from the same text. Only a
// well-formed UUID is a key: the shell does not guess what a near-miss meant,
// so "6a6b5a13-1f6e" is a name, answered like any unknown name.
// compat=false: the sentence names the name, the key and the grid, so one
// line says everything; the bare compat answers would not say which grid.
Request RequestFor(std::string_view text) {
  Request request;
  request.query =
      std::string(Uuid::Parse(text).ok() ? "key=" : "name=") + QueryEscaped(text) + "&compat=false";
  return request;
}

// Handle()'s answer as one line. A refused query also shows its status, as
// the HTTP front ends would, so a script can tell "400 ..." from an answer.
std::string AnswerLine(std::string_view text, Store& store) {
  const Response response = Handle(RequestFor(text), store);
  // Bodies hold no line breaks (names and grids are checked before they are
  // stored, error reasons are sanitized); this keeps "one line per query"
  // true even for a record some other program wrote, and changes nothing
  // otherwise.
  std::string body = Sanitized(response.body, response.body.size());
  if (response.status == 200) return body;
  return std::to_string(response.status) + " " + body;
}

int RunFilter(Store& store, std::istream& in, std::ostream& out) {
  for (std::string line; std::getline(in, line);) {
    const std::string_view text = Trimmed(line);
    if (text.empty()) continue;
    if (IsQuit(text)) break;
    // Flushed per line: a script that writes a name and waits for its answer
    // on a pipe would otherwise wait for our buffer to fill.
    out << AnswerLine(text, store) << '\n' << std::flush;
  }
  return 0;
}

// libedit decodes keystrokes with LC_CTYPE's character set; in the "C"
// locale (no LANG, as in many ssh sessions) it drops every byte of a UTF-8
// name as it is typed. Names are UTF-8 throughout gosl, so the terminal is
// read as UTF-8: by the environment's locale when that is UTF-8, else by
// C.UTF-8. Only LC_CTYPE changes, and only while the prompt runs; the rest of
// the program stays independent of the locale.
class Utf8Ctype {
 public:
  Utf8Ctype() {
    if (const char* current = std::setlocale(LC_CTYPE, nullptr)) saved_ = current;
    if (!IsUtf8(std::setlocale(LC_CTYPE, ""))) std::setlocale(LC_CTYPE, "C.UTF-8");
  }
  ~Utf8Ctype() {
    if (!saved_.empty()) std::setlocale(LC_CTYPE, saved_.c_str());
  }
  Utf8Ctype(const Utf8Ctype&) = delete;
  Utf8Ctype& operator=(const Utf8Ctype&) = delete;

 private:
  static bool IsUtf8(const char* set_locale) {
    return set_locale != nullptr && std::strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
  }

  std::string saved_;
};

struct EditLineDeleter {
  void operator()(EditLine* editor) const { el_end(editor); }
};
struct HistoryDeleter {
  void operator()(History* lines) const { history_end(lines); }
};

char* Prompt(EditLine*) {
  static char prompt[] = "gosl> ";
  return prompt;
}

int RunInteractive(Store& store, std::ostream& out, const std::string& history_file) {
  Utf8Ctype ctype;  // first: libedit reads the character set in el_init
  std::unique_ptr<History, HistoryDeleter> lines(history_init());
  std::unique_ptr<EditLine, EditLineDeleter> editor(el_init("gosl", stdin, stdout, stderr));
  if (!lines || !editor) {
    const int error = errno;
    out << "cannot set up line editing: " << std::strerror(error) << '\n';
    return 1;
  }
  HistEvent event;
  history(lines.get(), &event, H_SETSIZE, kMaxHistoryLines);
  history(lines.get(), &event, H_SETUNIQUE, 1);  // repeating a query adds no line
  el_set(editor.get(), EL_EDITOR, "emacs");
  el_set(editor.get(), EL_PROMPT, &Prompt);
  el_set(editor.get(), EL_HIST, history, lines.get());
  // On Ctrl-C, Ctrl-Z and friends libedit puts the terminal back before the
  // signal takes effect, so a killed shell does not leave it in raw mode.
  el_set(editor.get(), EL_SIGNAL, 1);
  el_source(editor.get(), nullptr);  // the user's ~/.editrc may rebind keys or pick vi mode

  out << "gosl-basics " << kVersion
      << " shell: type an avatar name or key; quit, exit or Ctrl-D leaves\n"
      << std::flush;

  bool save_history = !history_file.empty();
  if (save_history && history(lines.get(), &event, H_LOAD, history_file.c_str()) == -1) {
    std::error_code ec;
    if (std::filesystem::exists(history_file, ec)) {
      // Probably not ours (libedit's files start with "_HiStOrY_V2_"): saving
      // would overwrite someone else's file with this session's queries.
      out << "history file '" << Sanitized(history_file, 200)
          << "' cannot be read as a libedit history; it will be left as it is\n";
      save_history = false;
    }
  }

  for (;;) {
    int count = 0;
    const char* line = el_gets(editor.get(), &count);
    // A signal libedit does not handle itself (SIGWINCH and SIGCONT it does)
    // interrupts the read: that costs the line being typed, not the session.
    if (line == nullptr && count < 0 && errno == EINTR) continue;
    if (line == nullptr || count <= 0) {
      out << '\n';  // Ctrl-D leaves the cursor after the prompt
      break;
    }
    const std::string text(Trimmed(line));  // line dies at the next el_gets
    if (text.empty()) continue;
    if (IsQuit(text)) break;
    history(lines.get(), &event, H_ENTER, text.c_str());
    out << AnswerLine(text, store) << '\n' << std::flush;
  }

  if (save_history && history(lines.get(), &event, H_SAVE, history_file.c_str()) == -1) {
    const int error = errno;
    out << "history not saved to '" << Sanitized(history_file, 200) << "': " << std::strerror(error)
        << '\n';
  }
  out << std::flush;
  return 0;
}

}  // namespace

int RunShell(Store& store, std::istream& in, std::ostream& out, bool interactive,
             const std::string& history_file) {
  if (interactive) return RunInteractive(store, out, history_file);
  return RunFilter(store, in, out);
}

}  // namespace gosl
