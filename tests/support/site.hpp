// The real binary on a site directory of its own, for the integration tests:
// FastCGI processes started as mod_fcgid starts them, requests to each, a
// --server, command-line runs, and the site's files.
#pragma once

#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "fcgi_client.hpp"
#include "process.hpp"
#include "temp_dir.hpp"

namespace gosl::test {

// A temporary directory holding the site directory (what --dir names: the
// database slkvdb, gosl.log, config.ini) and, beside it, each process's
// socket and captured stdout and stderr, so that nothing of the test's own
// lands in the site. Processes are started as mod_fcgid starts them: a
// listening socket of their own as fd 0, the site directory as working
// directory, PATH as the whole environment. They are stopped, and
// everything removed, when the Site goes out of scope.
class Site {
 public:
  enum class Db { kNone, kSeeded };  // kSeeded: SeedApiDatabase(db()) at construction
  // kNobodyIfRoot: when the test runs as root, the processes Start() and
  // StartServer() launch, and Run()'s commands, run as nobody, who is given
  // the directory, so that file permissions mean something.
  enum class RunAs { kTester, kNobodyIfRoot };

  // A new site directory, empty or holding the seeded database.
  explicit Site(Db db = Db::kNone, RunAs run_as = RunAs::kTester);
  Site(const Site&) = delete;
  Site& operator=(const Site&) = delete;

  // The site directory: what --dir names and the processes' working directory.
  const std::string& dir() const { return dir_; }
  // The database in it.
  std::string db() const { return File("slkvdb"); }
  // A file in the site directory.
  std::string File(const std::string& name) const { return dir_ + "/" + name; }
  // A file beside the site directory, outside it.
  std::string Beside(const std::string& name) const { return root_.File(name); }
  // Writes config.ini in the site directory, where the binary reads it.
  void WriteConfig(const std::string& ini) const;
  // What gosl.log in the site directory holds.
  std::string Log() const;

  // Starts `count` FastCGI processes with `--dir <site>` and `args`; returns the first one's index.
  int Start(const std::vector<std::string>& args = {}, int count = 1);
  // The same with another binary (the previous release, in the upgrade tests).
  int StartBinary(const std::string& binary, const std::vector<std::string>& args, int count = 1);
  // Starts `--server` on a free port as the next process; returns the port, REQUIREd to accept.
  int StartServer(const std::vector<std::string>& args = {});
  // --server as systemd starts it from a .socket unit: systemd-socket-activate
  // listens on a free port and, at the first connection, starts the binary
  // with the listening socket as fd 3 (LISTEN_FDS, LISTEN_PID). The port; with
  // unix_socket, listens there instead (the wrong kind of socket) and returns -1.
  int StartSocketActivatedServer(const std::vector<std::string>& args = {},
                                 const std::string& unix_socket = "");
  // Process i, counted in start order (servers included), to signal, stop or check.
  FastCgiProcess& process(int i = 0);
  // The FastCGI socket process i listens on.
  const std::string& SocketPath(int i = 0) const { return At(i).socket; }
  // What process i wrote to stdout.
  std::string Stdout(int i = 0) const;
  // What process i wrote to stderr.
  std::string Stderr(int i = 0) const;
  // kNobodyIfRoot as root: hands the directory to nobody now, as Start and
  // Run do before they run anything (a test that sets modes first).
  void HandToSiteUser() const {
    if (run_as_ == RunAs::kNobodyIfRoot && geteuid() == 0) HandToNobody();
  }
  // Ends every process as ~FastCgiProcess does; the next one started is process 0.
  void StopAll() { processes_.clear(); }

  // GET ?query to process i, with `extra` params (e.g. HTTP_* headers) after the usual ones.
  HttpReply Get(const std::string& query, const Params& extra = {}, int i = 0) const;
  // POST `body` of `content_type` to process i.
  HttpReply Post(const std::string& body, const std::string& content_type, const Params& extra = {},
                 int i = 0) const;
  // Exactly `params` and `body` to process i.
  HttpReply Send(const Params& params, const std::string& body = "", int i = 0) const;

  // Runs the binary to its end: `--dir <site>` + args, stdin `input` (or /dev/null), PATH + env.
  RunResult Run(const std::vector<std::string>& args, const std::string& input = "",
                const std::vector<std::string>& env = {}) const;
  // Runs it the same way with exactly `args`, as typed by hand in the site directory.
  RunResult RunWithoutDir(const std::vector<std::string>& args,
                          const std::string& input = "") const;

 private:
  struct Process {
    std::string socket, out, err;
    std::unique_ptr<FastCgiProcess> process;
  };

  int Launch(std::vector<std::string> args, std::string binary = GOSL_TEST_BINARY);
  // Starts binary with args as they are (as the site's user), its output kept.
  int LaunchCommand(std::string binary, std::vector<std::string> args);
  void HandToNobody() const;
  const Process& At(int i) const;

  TempDir root_;
  std::string dir_;
  RunAs run_as_;
  int launched_ = 0;                // names each process's files, so none is reused
  std::vector<Process> processes_;  // last: stopped before root_ is removed
};

}  // namespace gosl::test
