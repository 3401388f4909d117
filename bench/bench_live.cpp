// bench_live: what operating the database costs while it is served
// (docs/database.md): a backup (--export), a refresh (--import of the same
// export) and a replacement (--replace), each run as a command beside two
// FastCGI processes serving a copy of the database, with lookups sent
// without pause. For each: the operation's wall time and peak RSS, lookup
// latency before and during it (median, p99), errors, and the serving
// processes' peak RSS. Prints figures only.
//   bench_live DB_DIR CSV BINARY
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "../tests/support/fcgi_client.hpp"
#include "../tests/support/process.hpp"
#include "../tests/support/temp_dir.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using gosl::test::CgiParams;
using gosl::test::FastCgiProcess;
using gosl::test::FastCgiRequest;

// Thrown, not exit(): the serving processes are stopped on the way out.
[[noreturn]] void Fail(const std::string& what) { throw std::runtime_error(what); }

// Stops a probe thread however its scope is left.
struct StopAndJoin {
  std::atomic<bool>& stop;
  std::thread& thread;
  ~StopAndJoin() {
    stop = true;
    if (thread.joinable()) thread.join();
  }
};

std::vector<std::string> Queries(const std::string& csv_path, size_t count) {
  std::ifstream in(csv_path);
  std::vector<std::string> queries;
  std::mt19937_64 random(11);
  size_t seen = 0;
  for (std::string line; std::getline(in, line);) {
    const size_t comma = line.find(',');
    if (comma == std::string::npos) continue;
    std::string query = (seen % 2) ? "key=" + line.substr(0, comma) : "name=" + line.substr(comma + 1);
    std::replace(query.begin(), query.end(), ' ', '+');
    if (queries.size() < count) {
      queries.push_back(std::move(query));
    } else if (size_t j = random() % (seen + 1); j < count) {
      queries[j] = std::move(query);
    }
    ++seen;
  }
  return queries;
}

long StatusField(pid_t pid, const char* field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(field, 0) == 0) return std::stol(line.substr(std::strlen(field) + 1));
  }
  return -1;
}

struct Latency {
  size_t requests = 0, errors = 0;
  double median_us = 0, p99_us = 0;
};

// Lookups through the two processes in turn until stop.
Latency Probe(const std::vector<std::string>& sockets, const std::vector<std::string>& queries,
              const std::atomic<bool>& stop) {
  std::vector<double> us;
  Latency latency;
  for (size_t i = 0; !stop; ++i) {
    const auto start = Clock::now();
    try {
      auto reply = FastCgiRequest(sockets[i % sockets.size()], CgiParams("GET", queries[i % queries.size()]));
      if (reply.status != 200 || reply.body.empty()) ++latency.errors;
    } catch (const std::exception&) {
      ++latency.errors;
    }
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
  }
  latency.requests = us.size();
  if (!us.empty()) {
    std::sort(us.begin(), us.end());
    latency.median_us = us[us.size() / 2];
    latency.p99_us = us[us.size() * 99 / 100];
  }
  return latency;
}

// Runs binary with args to its end; its wall time (s) and peak RSS (KB).
std::pair<double, long> RunCommand(const std::string& binary, const std::vector<std::string>& args) {
  const auto start = Clock::now();
  const pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> argv{const_cast<char*>(binary.c_str())};
    for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  int status = 0;
  rusage usage{};
  wait4(pid, &status, 0, &usage);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) Fail(args[2] + " failed");
  return {std::chrono::duration<double>(Clock::now() - start).count(), usage.ru_maxrss};
}

}  // namespace

int Run(int argc, char** argv) {
  if (argc != 4) Fail("usage: bench_live DB_DIR CSV BINARY");
  const std::string db_path = argv[1], csv = argv[2], binary = argv[3];
  const std::vector<std::string> queries = Queries(csv, 20000);
  gosl::test::TempDir work;
  const std::string site = work.File("site");
  if (std::system(("mkdir -p " + site + " && cp -a " + db_path + " " + site + "/slkvdb").c_str()) != 0) {
    Fail("cannot copy " + db_path);
  }
  std::vector<std::string> sockets = {work.File("a.sock"), work.File("b.sock")};
  std::vector<std::unique_ptr<FastCgiProcess>> serving;
  for (const auto& socket : sockets) {
    serving.push_back(std::make_unique<FastCgiProcess>(
        binary, std::vector<std::string>{"--dir", site, "--debug", "WARNING"}, socket, site,
        std::vector<std::string>{"PATH=/usr/bin:/bin"}, socket + ".out", socket + ".err"));
    FastCgiRequest(socket, CgiParams("GET", queries[0]));
  }
  struct Operation {
    const char* what;
    std::vector<std::string> args;
  };
  const std::vector<Operation> operations = {
      {"backup   (--export .csv.gz)", {"--export", work.File("backup.csv.gz")}},
      {"refresh  (--import .csv.bz2)", {"--import", csv + ".bz2"}},
      {"replace  (--replace a copy) ", {"--replace", work.File("copy")}},
  };
  for (const Operation& op : operations) {
    if (op.args[0] == "--replace" &&
        std::system(("cp -a " + site + "/slkvdb " + work.File("copy")).c_str()) != 0) {
      Fail("cannot copy the database");
    }
    // Each operation's own peak: the kernel's peak RSS starts again from now.
    for (const auto& process : serving) {
      std::ofstream("/proc/" + std::to_string(process->pid()) + "/clear_refs") << "5";
    }
    std::atomic<bool> stop{false};
    Latency before;
    std::thread warm([&] { before = Probe(sockets, queries, stop); });
    std::this_thread::sleep_for(std::chrono::seconds(3));
    stop = true;
    warm.join();
    stop = false;
    Latency during;
    std::thread probe([&] { during = Probe(sockets, queries, stop); });
    std::pair<double, long> measured;
    {
      StopAndJoin probing{stop, probe};
      std::vector<std::string> args = {"--dir", site};
      args.insert(args.end(), op.args.begin(), op.args.end());
      args.insert(args.end(), {"--debug", "WARNING"});
      measured = RunCommand(binary, args);
    }
    const auto [seconds, peak_kb] = measured;
    std::printf("%s %6.1f s, peak RSS %5.1f MB; lookups before: median %5.0f us p99 %6.0f us; "
                "during: median %5.0f us p99 %6.0f us (%zu requests, %zu errors)\n",
                op.what, seconds, peak_kb / 1024.0, before.median_us, before.p99_us,
                during.median_us, during.p99_us, during.requests, during.errors);
    std::printf("  serving processes' peak RSS meanwhile (budget: <= 32 MB each):");
    for (const auto& process : serving) {
      std::printf(" %.1f MB", StatusField(process->pid(), "VmHWM:") / 1024.0);
    }
    std::printf("\n");
  }
  return 0;
}

int main(int argc, char** argv) {
  try {
    return Run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_live: %s\n", e.what());
    return 1;
  }
}
