// What the web-server harnesses (tests/apache, tests/hosts) share: the user a
// test server and the app under it run as, and the process tree a server
// starts, of which nothing may be left running after the test.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace gosl::test {

struct ServerUser {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
  bool switch_to = false;  // the tests run as root: become uid/gid before exec
};

// As root, the system user "gosl-apache-test" (created if missing; named when only
// the Apache tests used it): a host never runs a site as root. Otherwise whoever
// runs the tests. Throws std::runtime_error if useradd fails.
ServerUser UnprivilegedUser();

// lchown of top and of everything under it; throws std::runtime_error on failure.
void ChownTree(const std::string& top, uid_t uid, gid_t gid);

// The shipped config.ini's "writes = sl-only" line made "writes = <writes>";
// throws std::runtime_error if config_ini has no such line.
std::string ConfigWithWrites(std::string config_ini, const std::string& writes);

struct ProcInfo {
  pid_t pid;
  pid_t pgid;
  char state;
  std::vector<std::string> argv;
};

// Every live (non-zombie) process; a zombie has already let go of everything but its PID.
std::vector<ProcInfo> LiveProcesses();
bool ProcessAlive(pid_t pid);

// Reaps `pid` (our child) if it has exited: true then (also when it was reaped
// already), false while it runs.
bool ReapedChild(pid_t pid, int* status);

// Starts args[0] (a path) with args[1..] and exactly env, in dir, stdin /dev/null,
// stdout and stderr appended to output_path, as `user` and as the leader of a new
// process group, so that one kill reaches everything it starts. Returns its PID.
// Throws std::runtime_error if output_path cannot be opened or fork fails.
pid_t StartGroupLeader(const std::vector<std::string>& args, const std::vector<std::string>& env,
                       const std::string& dir, const std::string& output_path,
                       const ServerUser& user);

// Live processes of group pgid (when > 0) or with an argument naming a path under
// root/, the test's own process excepted.
std::vector<pid_t> ProcessesFrom(pid_t pgid, const std::string& root);

// SIGKILLs group pgid (when > 0) and ProcessesFrom(pgid, root). Throws
// std::runtime_error if any of them is still alive 5 s later.
void KillProcessesFrom(pid_t pgid, const std::string& root);

// Sends stop_signal to leader (our child, leader of its group) and waits up to
// timeout_ms for it (SIGKILLing the group at the deadline), then for the rest of
// ProcessesFrom(leader, root) to exit; KillProcessesFrom does away with what is
// left. True if everything exited in time without being killed. With leader < 0
// only KillProcessesFrom(-1, root), and true.
bool StopProcessTree(pid_t leader, int stop_signal, const std::string& root, int timeout_ms);

}  // namespace gosl::test
