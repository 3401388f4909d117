#include "site.hpp"

#include <unistd.h>

#include <filesystem>
#include <stdexcept>

#include <catch2/catch.hpp>

#include "api_cases.hpp"
#include "files.hpp"
#include "other_user.hpp"

namespace gosl::test {
namespace {

namespace fs = std::filesystem;

// mod_fcgid gives the processes it starts next to no environment.
const std::vector<std::string> kEnv = {"PATH=/usr/bin:/bin"};
// Long enough for a 600,000-line import; only a hang ever reaches it.
constexpr int kRunTimeoutMs = 120000;

}  // namespace

Site::Site(Db db, RunAs run_as) : dir_(root_.File("site")), run_as_(run_as) {
  fs::create_directories(dir_);
  if (db == Db::kSeeded) SeedApiDatabase(this->db());
}

void Site::WriteConfig(const std::string& ini) const { WriteFile(File("config.ini"), ini); }

std::string Site::Log() const { return ReadFile(File("gosl.log")); }

int Site::Start(const std::vector<std::string>& args, int count) {
  return StartBinary(GOSL_TEST_BINARY, args, count);
}

int Site::StartBinary(const std::string& binary, const std::vector<std::string>& args, int count) {
  const int first = static_cast<int>(processes_.size());
  for (int i = 0; i < count; ++i) Launch(args, binary);
  return first;
}

int Site::StartServer(const std::vector<std::string>& args) {
  const int port = FreeTcpPort();
  std::vector<std::string> all = {"--server", "--port", std::to_string(port)};
  all.insert(all.end(), args.begin(), args.end());
  Launch(all);  // --server ignores the socket on fd 0
  REQUIRE(WaitForTcpPort(port, 10000));
  return port;
}

FastCgiProcess& Site::process(int i) { return *At(i).process; }

std::string Site::Stdout(int i) const { return ReadFile(At(i).out); }

std::string Site::Stderr(int i) const { return ReadFile(At(i).err); }

HttpReply Site::Get(const std::string& query, const Params& extra, int i) const {
  return Send(CgiParams("GET", query, "", "", extra), "", i);
}

HttpReply Site::Post(const std::string& body, const std::string& content_type, const Params& extra,
                     int i) const {
  return Send(CgiParams("POST", "", body, content_type, extra), body, i);
}

HttpReply Site::Send(const Params& params, const std::string& body, int i) const {
  return FastCgiRequest(At(i).socket, params, body);
}

RunResult Site::Run(const std::vector<std::string>& args, const std::string& input,
                    const std::vector<std::string>& env) const {
  std::vector<std::string> all = {"--dir", dir_};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<std::string> all_env = kEnv;
  all_env.insert(all_env.end(), env.begin(), env.end());
  std::string binary = GOSL_TEST_BINARY;
  // The site's own user runs its commands, as an operator does over SSH:
  // what --repair writes must be the service's to read.
  if (run_as_ == RunAs::kNobodyIfRoot && geteuid() == 0) {
    HandToNobody();
    all.insert(all.begin(), {"--reuid=65534", "--regid=65534", "--clear-groups", binary});
    binary = "/usr/bin/setpriv";
  }
  return RunProgram(binary, all, all_env, input, kRunTimeoutMs, dir_,
                    input.empty() ? "/dev/null" : "");
}

RunResult Site::RunWithoutDir(const std::vector<std::string>& args,
                              const std::string& input) const {
  return RunProgram(GOSL_TEST_BINARY, args, kEnv, input, kRunTimeoutMs, dir_,
                    input.empty() ? "/dev/null" : "");
}

int Site::StartSocketActivatedServer(const std::vector<std::string>& args,
                                     const std::string& unix_socket) {
  const int port = unix_socket.empty() ? FreeTcpPort() : -1;
  const std::string address = unix_socket.empty() ? "127.0.0.1:" + std::to_string(port) : unix_socket;
  std::vector<std::string> all = {"-l", address, GOSL_TEST_BINARY, "--dir", dir_, "--server"};
  all.insert(all.end(), args.begin(), args.end());
  LaunchCommand("/usr/bin/systemd-socket-activate", all);
  if (port > 0) REQUIRE(WaitForTcpPort(port, 10000));
  return port;
}

int Site::Launch(std::vector<std::string> args, std::string binary) {
  args.insert(args.begin(), {"--dir", dir_});
  return LaunchCommand(std::move(binary), std::move(args));
}

int Site::LaunchCommand(std::string binary, std::vector<std::string> args) {
  if (run_as_ == RunAs::kNobodyIfRoot && geteuid() == 0) {
    HandToNobody();
    args.insert(args.begin(), {"--reuid=65534", "--regid=65534", "--clear-groups", binary});
    binary = "/usr/bin/setpriv";
  }
  const std::string name = "process" + std::to_string(launched_++);
  Process p{Beside(name + ".sock"), Beside(name + ".out"), Beside(name + ".err"), nullptr};
  p.process = std::make_unique<FastCgiProcess>(binary, args, p.socket, dir_, kEnv, p.out, p.err);
  processes_.push_back(std::move(p));
  return static_cast<int>(processes_.size()) - 1;
}

// Everything the test made so far, the database included, becomes nobody's.
void Site::HandToNobody() const {
  fs::permissions(root_.path(), fs::perms(0755), fs::perm_options::replace);
  for (const auto& entry : fs::recursive_directory_iterator(root_.path())) {
    REQUIRE(lchown(entry.path().c_str(), kNobody, kNobody) == 0);
  }
  REQUIRE(chown(root_.path().c_str(), kNobody, kNobody) == 0);
}

const Site::Process& Site::At(int i) const {
  if (i < 0 || i >= static_cast<int>(processes_.size())) {
    throw std::out_of_range("Site: no process " + std::to_string(i) + " (" +
                            std::to_string(processes_.size()) + " started)");
  }
  return processes_[static_cast<size_t>(i)];
}

}  // namespace gosl::test
