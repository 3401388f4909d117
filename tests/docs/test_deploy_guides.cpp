// The own-server guides, executed: the `server` blocks (doc_script.hpp) of
// docs/deploy-lighttpd.md, docs/deploy-nginx.md and docs/deploy-systemd.md run
// as root runs them on a fresh Debian 12 server, and each answer a guide shows
// is checked.
//
// The server is this machine seen from `unshare --net --mount --pid`: a network
// of its own (only `lo`, so ports 80 and 3000 are free), its own /etc, /var,
// /srv, /opt and /run, and processes of its own: when the script ends, the
// kernel ends everything it started, so no server outlives the test. Those
// directories are overlays on the real ones, not tmpfs copies: they hold the
// packages' configuration as installed, useradd rewrites /etc/passwd and
// /var/log/lastlog, the systemd guide writes in /var/lib, and a copy of /var
// would be large. Their changes vanish with the namespace. The tests run as
// root in CI; elsewhere, or where unshare or the mounts are refused, they are
// skipped with a warning.
//
// Shimmed, as bash functions in the script (kServerShims), because a container
// cannot do them:
//   apt-get install  no network and no package changes in a test: the packages
//                    are installed already (scripts/install-deps.sh); the shim
//                    checks each with dpkg-query and says so.
//   systemctl        no systemd as PID 1: start, stop, restart, reload,
//                    enable [--now], is-active and status read the installed
//                    unit files (/etc/systemd/system, then /lib/systemd/system;
//                    daemon-reload has nothing to do) and run their commands as
//                    systemd would: ExecStartPre, ExecStart (in the background,
//                    or to its end for Type=forking/oneshot), ExecReload and
//                    ExecStop, with the unit's User/DynamicUser,
//                    WorkingDirectory, Environment, UMask, RuntimeDirectory and
//                    StateDirectory; a .socket unit's ListenStream through
//                    systemd-socket-activate. A unit's processes (its cgroup)
//                    are those its start left running, and their children.
//   curl             W-Hat's download (no network here): the demo avatars,
//                    gzipped. Every other call is the real curl, with -sS as
//                    on a terminal (no progress meter in the output).
// Everything else (tar, cp, sed, useradd, lighttpd -tt, nginx -t,
// systemd-analyze verify, the servers, curl to them) runs as the guide says.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include <catch2/catch.hpp>

#include "../support/process.hpp"
#include "../support/temp_dir.hpp"
#include "doc_script.hpp"
#include "gosl/version.hpp"

namespace gosl::test {
namespace {

namespace fs = std::filesystem;

const std::string kSource = GOSL_SOURCE_DIR;
const char kUnshare[] = "/usr/bin/unshare";
// A network, mounts and processes of its own; --kill-child: if the test kills
// unshare (a timeout), the namespace goes too.
const std::vector<std::string> kIsolation = {"--net",  "--mount",      "--pid",
                                             "--fork", "--kill-child", "--mount-proc"};

// The archive `make dist` built (make test builds it first), as test_docs.cpp finds it.
std::string Archive() {
  return kSource + "/dist/gosl-basics-" + std::string(kVersion) + "-linux-x86_64.tar.gz";
}

// A fresh server: the directories a guide writes to are overlays whose upper
// layers live on a tmpfs of this namespace ($SERVER_LAYERS), so they read as
// the machine's and their changes vanish with it. Says "@@SETUP OK" when done,
// and the namespace of its processes ("@@PIDNS pid:[…]").
const char* const kFreshServer = R"SH(
__fresh_server() {
  mount -t tmpfs -o mode=0700 tmpfs "$SERVER_LAYERS" || return 1
  local dir layer
  for dir in /etc /var /srv /opt /run; do
    layer=$SERVER_LAYERS$dir
    mkdir -p "$layer/upper" "$layer/work" &&
      mount -t overlay -o "lowerdir=$dir,upperdir=$layer/upper,workdir=$layer/work" overlay "$dir" ||
      return 1
  done
  ip link set lo up
}
if __fresh_server; then
  echo "@@SETUP OK"
  echo "@@PIDNS $(readlink /proc/self/ns/pid)"
else
  echo "@@SETUP FAILED"
  exit 1
fi
)SH";

const char* const kServerShims = R"SH(
apt-get() {
  [ "$1" = install ] || { echo "the guide tests do not run 'apt-get $*'"; return 1; }
  local package missing=0
  for package in "${@:2}"; do
    case $package in -*) continue ;; esac
    if [ "$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null)" = "install ok installed" ]; then
      echo "$package is already the newest version ($(dpkg-query -W -f='${Version}' "$package"))."
    else
      echo "E: $package is not installed here (scripts/install-deps.sh installs it)"
      missing=1
    fi
  done
  return $missing
}

curl() {
  local a url= out= previous=
  for a; do
    case $a in http://w-hat.com/*) url=$a ;; esac
    [ "$previous" = -o ] && out=$a
    previous=$a
  done
  if [ -n "$url" ]; then cp "$WHAT_EXPORT" "${out:-./${url##*/}}"; return; fi
  command curl -sS "$@"
}

# systemctl. A unit's state is kept in $__UNITS/UNIT: pids (what its start left
# running), main (its MAINPID) and log (its journal).
__UNITS=/run/systemctl-shim
__unit_name() {
  case $1 in *.service | *.socket | *.target) echo "$1" ;; *) echo "$1.service" ;; esac
}
__unit_file() {
  local dir
  for dir in /etc/systemd/system /lib/systemd/system; do
    [ -f "$dir/$1" ] && { echo "$dir/$1"; return 0; }
  done
  return 1
}
__unit_values() { sed -n "s/^[[:space:]]*$2=//p" "$1"; }  # FILE KEY: each value, in order
__unit_value() { __unit_values "$1" "$2" | tail -n 1; }
__socket_of() { __unit_values "$1" Requires | tr ' ' '\n' | grep '\.socket$'; }
# Live processes of the namespace (zombies are gone), this listing's own excepted.
__live_pids() {
  local stat line rest
  for stat in /proc/[0-9]*/stat; do
    read -r line 2>/dev/null <"$stat" || continue
    rest=${line##*) }
    [ "${line%% *}" = "$BASHPID" ] || [ "${rest%% *}" = Z ] || echo "${line%% *}"
  done
}
# FILES...: the live PIDs they list and all their live descendants.
__tree() {
  local -A parent=() in=()
  local stat line rest pid grew=1 wanted
  wanted=$(cat "$@" 2>/dev/null)
  for stat in /proc/[0-9]*/stat; do
    read -r line 2>/dev/null <"$stat" || continue
    rest=${line##*) }
    set -- $rest
    [ "$1" = Z ] || parent[${line%% *}]=$2
  done
  for pid in $wanted; do [ -n "${parent[$pid]}" ] && in[$pid]=1; done
  while [ $grew = 1 ]; do
    grew=0
    for pid in "${!parent[@]}"; do
      if [ -z "${in[$pid]}" ] && [ -n "${in[${parent[$pid]}]}" ]; then in[$pid]=1; grew=1; fi
    done
  done
  echo "${!in[@]}"
}
__active() {
  local file socket main
  if [ "${1%.service}" != "$1" ] && file=$(__unit_file "$1") && socket=$(__socket_of "$file"); then
    # A socket-activated service runs once the listener has exec'd into it.
    main=$(cat "$__UNITS/$socket/main" 2>/dev/null)
    [ -n "$(__tree "$__UNITS/$socket/pids")" ] && [ "$(cat "/proc/$main/comm")" != systemd-socket- ]
    return
  fi
  [ -n "$(__tree "$__UNITS/$1/pids")" ]
}
# FILE: the uid and gid the unit's processes run as.
__unit_ids() {
  local user group
  user=$(__unit_value "$1" User)
  group=$(__unit_value "$1" Group)
  if [ "$(__unit_value "$1" DynamicUser)" = yes ]; then
    echo 61184 61184  # the first of the UIDs systemd hands out
  elif [ -n "$group" ]; then
    echo "$(id -u "$user") $(getent group "$group" | cut -d: -f3)"
  elif [ -n "$user" ]; then
    echo "$(id -u "$user") $(id -g "$user")"
  else
    echo 0 0
  fi
}
# FILE COMMAND...: becomes the unit's command, run as its [Service] says. systemd's
# quoting is the shell's in these files. Call it in a subshell or in the background.
__exec_as_unit() {
  local file=$1 line ids dir umask
  shift
  local env=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8) as=()
  while IFS= read -r line; do eval "env+=($line)"; done < <(__unit_values "$file" Environment)
  read -r -a ids < <(__unit_ids "$file")
  if [ "$(__unit_value "$file" DynamicUser)" = yes ]; then
    as=(setpriv --reuid="${ids[0]}" --regid="${ids[1]}" --clear-groups)
  elif [ "${ids[0]}" != 0 ]; then
    as=(setpriv --reuid="${ids[0]}" --regid="${ids[1]}" --init-groups)
  fi
  dir=$(__unit_value "$file" WorkingDirectory)
  umask=$(__unit_value "$file" UMask)
  [ -z "$umask" ] || umask "$umask"
  dir=${dir#-}
  cd "${dir:-/}" || exit 200  # systemd: status=200/CHDIR
  exec env -i "${env[@]}" "${as[@]}" "$@"
}
# FILE: the directories systemd makes before a service starts.
__unit_directories() {
  local file=$1 name mode ids
  read -r -a ids < <(__unit_ids "$file")
  for name in $(__unit_value "$file" StateDirectory); do
    mode=$(__unit_value "$file" StateDirectoryMode)
    mkdir -p "/var/lib/$name" && chmod "${mode:-0755}" "/var/lib/$name"
    # systemd hands the whole tree to the service's user when the top is not its already.
    [ "$(stat -c %u:%g "/var/lib/$name")" = "${ids[0]}:${ids[1]}" ] ||
      chown -R "${ids[0]}:${ids[1]}" "/var/lib/$name"
  done
  for name in $(__unit_value "$file" RuntimeDirectory); do
    mode=$(__unit_value "$file" RuntimeDirectoryMode)
    mkdir -p "/run/$name" && chmod "${mode:-0755}" "/run/$name" &&
      chown "${ids[0]}:${ids[1]}" "/run/$name"
  done
}
__job_failed() {
  echo "Job for $1 failed because the control process exited with error code."
  echo "See \"systemctl status $1\" and \"journalctl -xeu $1\" for details."
  return 1
}
# FILE KEY UNIT: runs each ExecKEY= line to its end; a '-' before one lets it fail.
__exec_lines() {
  local file=$1 key=$2 state=$__UNITS/$3 line ignore MAINPID
  MAINPID=$(cat "$state/main" 2>/dev/null)
  while IFS= read -r line; do
    ignore=
    [ "${line#-}" = "$line" ] || { ignore=1; line=${line#-}; }
    eval "set -- $line"
    (__exec_as_unit "$file" "$@") >>"$state/log" 2>&1 </dev/null || [ -n "$ignore" ] || return 1
  done < <(__unit_values "$file" "$key")
}
# PID: waits up to 10 s for the process to listen on a socket; false if it ends first.
__wait_listening() {
  local i
  for i in $(seq 100); do
    ss -Hlnp 2>/dev/null | grep -q "pid=$1," && return 0
    [ -n "$(__tree <(echo "$1"))" ] || return 1
    sleep 0.1
  done
}
__start() {
  local unit=$1 file state before socket
  file=$(__unit_file "$unit") || { echo "Failed to start $unit: Unit $unit not found."; return 5; }
  if [ "${unit%.service}" != "$unit" ] && socket=$(__socket_of "$file"); then
    __start "$socket"  # the socket starts the service at the first connection
    return
  fi
  __active "$unit" && return 0
  state=$__UNITS/$unit
  mkdir -p "$state" && : >"$state/pids" && rm -f "$state/main"
  if [ "${unit%.socket}" != "$unit" ]; then
    # systemd listens and starts the service at the first connection, the socket its fd 3.
    local service listen=() passed=() line variable
    service=$(__unit_value "$file" Service)
    service=$(__unit_file "${service:-${unit%.socket}.service}") || return 5
    for line in $(__unit_values "$file" ListenStream); do listen+=(-l "$line"); done
    while IFS= read -r line; do
      eval "set -- $line"
      for variable; do passed+=(-E "$variable"); done
    done < <(__unit_values "$service" Environment)
    __unit_directories "$service"
    eval "set -- $(__unit_value "$service" ExecStart)"
    __exec_as_unit "$service" systemd-socket-activate "${listen[@]}" "${passed[@]}" "$@" \
      >>"$state/log" 2>&1 </dev/null &
    echo $! | tee "$state/main" >"$state/pids"
    __wait_listening $! || __job_failed "$unit"
    return
  fi
  __unit_directories "$file"
  __exec_lines "$file" ExecStartPre "$unit" || { __job_failed "$unit"; return; }
  before=$(__live_pids | sort)
  eval "set -- $(__unit_value "$file" ExecStart)"
  case $(__unit_value "$file" Type) in
    forking | oneshot)
      if ! (__exec_as_unit "$file" "$@") >>"$state/log" 2>&1 </dev/null; then
        __job_failed "$unit"
        return
      fi
      local pidfile; pidfile=$(__unit_value "$file" PIDFile)
      [ -z "$pidfile" ] || cat "$pidfile" >"$state/main" 2>/dev/null
      ;;
    *)
      __exec_as_unit "$file" "$@" >>"$state/log" 2>&1 </dev/null &
      echo $! >"$state/main"
      __wait_listening $! || { __job_failed "$unit"; return; }
      ;;
  esac
  cat "$state/main" >"$state/pids" 2>/dev/null
  comm -13 <(echo "$before") <(__live_pids | sort) >>"$state/pids"
}
__stop() {
  local unit=$1 file state socket pids i name
  file=$(__unit_file "$unit") || { echo "Failed to stop $unit: Unit $unit not loaded."; return 5; }
  if [ "${unit%.service}" != "$unit" ] && socket=$(__socket_of "$file"); then
    # One process listens for both: the service stops, the socket listens again.
    __active "$socket" || return 0
    __stop "$socket" && __start "$socket"
    return
  fi
  state=$__UNITS/$unit
  __active "$unit" || return 0
  __exec_lines "$file" ExecStop "$unit"
  pids=$(__tree "$state/pids")
  [ -z "$pids" ] || kill -TERM $pids 2>/dev/null
  for i in $(seq 100); do
    [ -n "$(__tree "$state/pids")" ] || break
    sleep 0.1
  done
  pids=$(__tree "$state/pids")
  [ -z "$pids" ] || kill -KILL $pids 2>/dev/null
  for name in $(__unit_value "$file" RuntimeDirectory); do rm -rf "/run/$name"; done
  : >"$state/pids"
}
__enable() {
  local unit=$1 file target
  if ! file=$(__unit_file "$unit"); then
    echo "Failed to enable unit: Unit file $unit does not exist."
    return 1
  fi
  for target in $(__unit_values "$file" WantedBy); do
    mkdir -p "/etc/systemd/system/$target.wants"
    ln -sf "$file" "/etc/systemd/system/$target.wants/$unit"
    echo "Created symlink /etc/systemd/system/$target.wants/$unit → $file."
  done
}
systemctl() {
  local verb= now= unit units=() rc=0 file
  for unit; do
    case $unit in
      --now) now=1 ;;
      -*) ;;
      *) if [ -z "$verb" ]; then verb=$unit; else units+=("$(__unit_name "$unit")"); fi ;;
    esac
  done
  [ "$verb" = daemon-reload ] && return 0  # every command reads the unit files afresh
  for unit in "${units[@]}"; do
    case $verb in
      start) __start "$unit" ;;
      stop) __stop "$unit" ;;
      restart) __stop "$unit" && __start "$unit" ;;
      reload)
        if ! file=$(__unit_file "$unit"); then
          echo "Failed to reload $unit: Unit $unit not found."
          return 5
        fi
        if ! __active "$unit"; then
          echo "$unit is not active, cannot reload."
          false
        elif [ -z "$(__unit_values "$file" ExecReload)" ]; then
          echo "Failed to reload $unit: Job type reload is not applicable for unit $unit."
          false
        else
          __exec_lines "$file" ExecReload "$unit" || __job_failed "$unit"
        fi
        ;;
      enable) __enable "$unit" && { [ -z "$now" ] || __start "$unit"; } ;;
      disable) rm -f /etc/systemd/system/*.wants/"$unit" && { [ -z "$now" ] || __stop "$unit"; } ;;
      is-active) if __active "$unit"; then echo active; else echo inactive; rc=3; fi ;;
      status)
        file=$(__unit_file "$unit") || { echo "Unit $unit could not be found."; return 4; }
        echo "● $unit - $(__unit_value "$file" Description)"
        echo "     Loaded: loaded ($file)"
        if __active "$unit"; then
          echo "     Active: active (running)"
        else
          echo "     Active: inactive (dead)"
          rc=3
        fi
        tail -n 10 "$__UNITS/$unit/log" 2>/dev/null
        ;;
      *) echo "the guide tests' systemctl does not know '$verb'"; return 1 ;;
    esac || rc=$?
  done
  return $rc
}

# The end of the script: the services stop as at a shutdown (the kernel ends the rest).
__stop_all() {
  local state
  for state in "$__UNITS"/*.socket "$__UNITS"/*.service; do
    [ -d "$state" ] && __stop "${state##*/}" >/dev/null 2>&1
  done
}
trap __stop_all EXIT
)SH";

std::vector<std::string> IsolatedBash(const std::string& script) {
  std::vector<std::string> args = kIsolation;
  args.insert(args.end(), {"/bin/bash", "-c", script});
  return args;
}

// The server's root shell: root's home holds what the guides say to copy there.
struct ServerHome {
  TempDir dir;
  std::string home = dir.File("root");
  std::vector<std::string> env = {
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      "LANG=C.UTF-8",
      "HOME=" + home,
      "SERVER_HOME=" + home,
      "SERVER_LAYERS=" + dir.File("layers"),
      "WHAT_EXPORT=" + dir.File("name2key.csv.gz")};
  ServerHome() {
    fs::create_directory(home);
    fs::permissions(home, fs::perms(0700), fs::perm_options::replace);
    fs::create_directory(dir.File("layers"));
  }
};

// Why the namespace cannot be made here (empty: it can).
std::string WhyNoServer() {
  if (::geteuid() != 0) return "they run as root (CI does)";
  ServerHome probe;
  const RunResult run = RunProgram(kUnshare, IsolatedBash(kFreshServer), probe.env, "", 20000,
                                   probe.home, "/dev/null");
  if (run.out.find("@@SETUP OK") != std::string::npos) return "";
  return "unshare --net --mount --pid, or its tmpfs and overlay mounts, failed here (exit " +
         std::to_string(run.exit_code) + "): " + run.out + run.err;
}

// The namespaces of the processes alive now, by /proc/PID/ns/pid.
std::vector<std::string> LivePidNamespaces() {
  std::vector<std::string> namespaces;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const fs::path link = fs::read_symlink(entry.path() / "ns/pid", ec);
    if (!ec) namespaces.push_back(link.string());
  }
  return namespaces;
}

void CheckServerGuide(const std::string& guide) {
  std::vector<DocCommand> commands;
  for (DocCommand& command : RunnableCommands(kSource + "/" + guide)) {
    command.file = guide;
    if (command.where == "server") commands.push_back(command);
  }
  // A guide without a runnable server command would pass untested.
  REQUIRE_FALSE(commands.empty());
  const std::string why_not = WhyNoServer();
  if (!why_not.empty()) {
    WARN("skipped: " << guide << "'s server blocks not run: " << why_not);
    return;
  }
  REQUIRE(fs::exists(Archive()));  // make test builds it first (make dist)
  ServerHome server;
  fs::copy_file(Archive(), server.home + "/" + fs::path(Archive()).filename().string());
  fs::copy_file(kSource + "/data/sample-name2key.csv", server.home + "/sample-name2key.csv");
  // W-Hat's export as a user downloads it: here, the demo's made-up avatars.
  const std::string what = server.dir.File("name2key.csv");
  fs::copy_file(kSource + "/data/sample-name2key.csv", what);
  REQUIRE(RunProgram("/bin/gzip", {"-9", what}, {"PATH=/usr/bin:/bin"}).exit_code == 0);

  const std::string script = ScriptFor(commands, std::string(kFreshServer) + kServerShims);
  const RunResult run =
      RunProgram(kUnshare, IsolatedBash(script), server.env, "", 300000, server.home, "/dev/null");
  INFO(run.out << run.err);
  REQUIRE_THAT(run.out, Catch::Contains("@@SETUP OK"));
  CHECK(Disagreements(commands, ParseOutcomes(run.out, commands.size())) == "");
  // Nothing the guide started runs on: its namespace is gone.
  const size_t at = run.out.find("@@PIDNS ");
  REQUIRE(at != std::string::npos);
  const std::string pid_namespace = run.out.substr(at + 8, run.out.find('\n', at) - at - 8);
  const std::vector<std::string> alive = LivePidNamespaces();
  CHECK(std::count(alive.begin(), alive.end(), pid_namespace) == 0);
}

}  // namespace

TEST_CASE("the lighttpd guide, followed as root on a fresh server, answers as it shows",
          "[integration][docs][hosts]") {
  CheckServerGuide("docs/deploy-lighttpd.md");
}

TEST_CASE("the nginx guide, followed as root on a fresh server, answers as it shows",
          "[integration][docs][hosts]") {
  CheckServerGuide("docs/deploy-nginx.md");
}

TEST_CASE("the systemd guide, followed as root on a fresh server, answers as it shows",
          "[integration][docs][hosts]") {
  CheckServerGuide("docs/deploy-systemd.md");
}

}  // namespace gosl::test
