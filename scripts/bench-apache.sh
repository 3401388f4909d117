#!/bin/sh
# bench-apache.sh BUILD_DIR DB_DIR [CSV]
# gosl-basics.fcgi behind a private Apache 2.4 + mod_fcgid on 127.0.0.1, next
# to a static 36-byte file and bench/fcgi_hello.c (a libfcgi program that does
# nothing) served by the same Apache, from the same directory and .htaccess
# (and once more from a directory with a two-line .htaccess, to show what the
# shipped one costs): requests/s and p50/p99 at 1 and 8
# connections, the ratios against SPEC's budget (gosl >= 95 % of hello at
# one connection, 100 % at eight; median of alternating pairs), the
# cold start, the RSS of each gosl process and the p99 of a burst that makes
# mod_fcgid spawn processes. DB_DIR holds slkvdb/ (as --dir does); lookups use
# ~1000 names from CSV (default: the gen-N.csv that scripts/bench.sh keeps
# beside db-N). Figures only: it fails only when it cannot run.
#   BENCH_SECONDS=3          length of each wrk run
#   BENCH_ROUNDS=3           gosl / do-nothing pairs at each connection count (the ratio is their median)
#   BENCH_APACHE_CONFIG=...  extra server config lines, e.g. "FcgidMaxProcessesPerClass 1"
#   BENCH_LOG_LEVEL=...      logLevel for gosl-basics instead of config.ini's (INFO: a line per request)
#   BENCH_NAME_COUNT=1000    how many different names the lookups ask for (at most 200,000)
set -eu

[ $# -ge 2 ] || { echo "usage: $0 BUILD_DIR DB_DIR [CSV]" >&2; exit 2; }
B=$(cd "$1" && pwd)
DB=$(cd "$2" && pwd)
CSV=${3:-$(dirname "$DB")/gen-$(basename "$DB" | sed 's/^db-//').csv}
SECONDS_EACH=${BENCH_SECONDS:-3}
SRC=$(cd "$(dirname "$0")/.." && pwd)
MODULES=/usr/lib/apache2/modules

[ -x /usr/sbin/apache2 ] || { echo "bench-apache: install apache2 (apt-get install -y apache2)" >&2; exit 1; }
[ -f $MODULES/mod_fcgid.so ] || { echo "bench-apache: install libapache2-mod-fcgid" >&2; exit 1; }
command -v wrk > /dev/null || { echo "bench-apache: install wrk" >&2; exit 1; }
command -v curl > /dev/null || { echo "bench-apache: install curl" >&2; exit 1; }
[ -x "$B/gosl-basics.fcgi" ] || { echo "bench-apache: no $B/gosl-basics.fcgi (run make)" >&2; exit 1; }
[ -d "$DB/slkvdb" ] || { echo "bench-apache: no database in $DB/slkvdb" >&2; exit 1; }

W=$(mktemp -d /tmp/gosl-bench-apache-XXXXXX)
APACHE_PID=
stop_apache() {
  [ -n "$APACHE_PID" ] || return 0
  kill -TERM "$APACHE_PID" 2> /dev/null || true
  i=0
  while kill -0 "$APACHE_PID" 2> /dev/null && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
  # Last resort: Apache's session (it detaches with setsid, mod_fcgid's processes included).
  kill -9 -- "-$APACHE_PID" 2> /dev/null || true
  APACHE_PID=
}
cleanup() {
  stop_apache
  rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Apache runs as a non-root user, as on a shared host.
if [ "$(id -u)" = 0 ]; then
  RUN_USER=gosl-apache-test
  id "$RUN_USER" > /dev/null 2>&1 ||
    useradd --system --no-create-home --shell /usr/sbin/nologin "$RUN_USER"
  as_user() { runuser -u "$RUN_USER" -- "$@"; }
else
  RUN_USER=$(id -un)
  as_user() { "$@"; }
fi

# Document root: the static file, the do-nothing program, the app as users upload it.
mkdir -p "$W/htdocs/bare" "$W/htdocs/hello" "$W/htdocs/name2key" "$W/run/fcgid" "$W/logs"
printf '00000000-0000-0000-0000-000000000000' > "$W/htdocs/static.txt"
APP=$W/htdocs/name2key
cc -O2 -o "$W/htdocs/hello/hello.fcgi" "$SRC/bench/fcgi_hello.c" -lfcgi
cp "$W/htdocs/hello/hello.fcgi" "$W/htdocs/bare/hello.fcgi"
# The shipped .htaccess serves only gosl-basics.fcgi: the do-nothing program
# gets the same rules in a directory of its own, with its own name in them.
sed 's/gosl-basics/hello/g' "$SRC/htaccess/.htaccess" > "$W/htdocs/hello/.htaccess"
printf 'AddHandler fcgid-script .fcgi\nOptions +ExecCGI\n' > "$W/htdocs/bare/.htaccess"
cp "$B/gosl-basics.fcgi" "$APP/" && chmod 755 "$APP/gosl-basics.fcgi"
cp "$SRC/htaccess/.htaccess" "$APP/"
if [ -f "$SRC/htaccess/config.ini" ]; then cp "$SRC/htaccess/config.ini" "$APP/"
else printf '[log]\nlogLevel = INFO\n' > "$APP/config.ini"; fi
if [ -n "${BENCH_LOG_LEVEL:-}" ]; then
  sed -i "/^logLevel/d; s/^\[log\]\$/[log]\nlogLevel = $BENCH_LOG_LEVEL/" "$APP/config.ini"
fi
# Hard links: no copy of a large database, and the original is never written (LevelDB writes new
# files; LOCK and LOG are dropped from the copy so that the app creates its own). Not when the
# Apache user cannot read the original's files: a database the service made is private (0600),
# and scripts/bench.sh makes it as root; then a copy the Apache user owns.
if as_user test -r "$DB/slkvdb/CURRENT" && cp -al "$DB/slkvdb" "$APP/slkvdb" 2> /dev/null; then
  rm -f "$APP/slkvdb/LOCK" "$APP/slkvdb/LOG" "$APP/slkvdb/LOG.old" "$APP/slkvdb/GOSL-WRITES"
  chmod 755 "$APP/slkvdb"
  [ "$(id -u)" = 0 ] && chown "$RUN_USER" "$APP/slkvdb"
  SHARED_DB=1
else
  cp -a "$DB/slkvdb" "$APP/slkvdb"
  SHARED_DB=0
fi
if [ "$(id -u)" = 0 ]; then
  chmod 755 "$W"
  for f in "$W" "$W/htdocs" "$W/htdocs"/* "$W/htdocs"/*/.htaccess "$W/htdocs"/*/*.fcgi "$W/htdocs"/*.txt \
           "$APP/config.ini" "$W/run" "$W/run/fcgid" "$W/logs"; do chown "$RUN_USER" "$f"; done
  [ "$SHARED_DB" = 1 ] || chown -R "$RUN_USER" "$APP/slkvdb"
fi

# Names for the lookups: BENCH_NAME_COUNT (default 1000) spread over the
# first 200,000 lines, URL-encoded (space -> +). With few, the processes that
# forward answer most from what they remember; with many, they forward.
NAME_COUNT=${BENCH_NAME_COUNT:-1000}
NAMES=$W/names.txt
if [ -f "$CSV" ]; then
  head -n 200000 "$CSV" | awk -F, -v every=$((200000 / NAME_COUNT)) \
      '(NR - 1) % every == 0 && $2 ~ /^[A-Za-z0-9 ._-]+$/ { gsub(/ /, "+", $2); print $2 }' |
    head -n "$NAME_COUNT" > "$NAMES"
fi
[ -s "$NAMES" ] || { echo "bench-apache: no CSV at $CSV; every lookup asks for one unknown name"; echo "Nobody+Here" > "$NAMES"; }

cat > "$W/bench.lua" << 'EOF'
-- With BENCH_NAMES: each request asks for the next name of that file, appended to the URL.
local file = os.getenv("BENCH_NAMES")
if file and file ~= "" then
  local names = {}
  for line in io.lines(file) do names[#names + 1] = line end
  local i = math.random(#names)
  request = function()
    i = i % #names + 1
    return wrk.format("GET", wrk.path .. names[i])
  end
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %.0f %.3f %.3f %.3f %d\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    e.connect + e.read + e.write + e.status + e.timeout))
end
EOF

PORT=
start_apache() {
  for attempt in 1 2 3; do
    PORT=$(shuf -i 20000-60999 -n 1)
    cat > "$W/apache2.conf" << EOF
ServerRoot "$W"
ServerName 127.0.0.1
Listen 127.0.0.1:$PORT
PidFile $W/run/apache2.pid
DefaultRuntimeDir $W/run
Mutex file:$W/run default
ErrorLog $W/logs/error.log
LogLevel warn fcgid:info
LoadModule mpm_event_module $MODULES/mod_mpm_event.so
LoadModule authz_core_module $MODULES/mod_authz_core.so
LoadModule mime_module $MODULES/mod_mime.so
LoadModule dir_module $MODULES/mod_dir.so
LoadModule alias_module $MODULES/mod_alias.so
LoadModule rewrite_module $MODULES/mod_rewrite.so
LoadModule fcgid_module $MODULES/mod_fcgid.so
TypesConfig /dev/null
StartServers 1
ServerLimit 2
ThreadsPerChild 32
MaxRequestWorkers 64
MinSpareThreads 8
MaxSpareThreads 64
KeepAlive On
MaxKeepAliveRequests 0
FcgidIPCDir $W/run/fcgid
FcgidProcessTableFile $W/run/fcgid_shm
${BENCH_APACHE_CONFIG:-}
DocumentRoot "$W/htdocs"
<Directory />
  Options None
  AllowOverride None
  Require all denied
</Directory>
<Directory "$W/htdocs">
  Options None
  AllowOverride All
  Require all granted
</Directory>
CustomLog $W/logs/access.log "%h %t \"%r\" %>s %b %D"
EOF
    [ "$(id -u)" = 0 ] && chown "$RUN_USER" "$W/apache2.conf"
    rm -f "$W/run/apache2.pid"
    # -k start detaches (setsid): Apache and mod_fcgid's processes form one session we can kill.
    as_user env -i PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin LANG=C \
      /usr/sbin/apache2 -f "$W/apache2.conf" -k start
    i=0
    while [ ! -s "$W/run/apache2.pid" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
    if [ -s "$W/run/apache2.pid" ]; then
      APACHE_PID=$(cat "$W/run/apache2.pid")
      i=0
      while [ $i -lt 200 ]; do
        if curl -s -o /dev/null "http://127.0.0.1:$PORT/static.txt"; then return 0; fi
        sleep 0.05; i=$((i + 1))
      done
    fi
    stop_apache
    grep -q 'Address already in use' "$W/logs/error.log" 2> /dev/null || break
  done
  echo "bench-apache: Apache did not start:" >&2
  tail -n 20 "$W/logs/error.log" >&2 || true
  exit 1
}

gosl_pids() {
  for p in /proc/[0-9]*; do
    [ "$({ tr '\0' '\n' < "$p/cmdline" | head -n 1; } 2> /dev/null)" = "$APP/gosl-basics.fcgi" ] &&
      grep -q '^State:.*[RSD]' "$p/status" 2> /dev/null && echo "${p#/proc/}"
  done
  return 0
}

# run_wrk NAME CONNECTIONS SECONDS URL [NAMES]: prints "NAME CONNS req/s p50 p99 max errors".
run_wrk() {
  out=$(BENCH_NAMES=${5:-} wrk -t1 -c"$2" -d"$3"s --timeout 10s -s "$W/bench.lua" "$4" 2>&1) || true
  line=$(printf '%s\n' "$out" | grep '^RESULT' || echo "RESULT 0 0 0 0 -1")
  set -- "$1" "$2" $(echo "$line" | cut -d' ' -f2-)
  printf '%-10s %5s %10s %9s %9s %9s %7s\n' "$1" "$2" "$3" "$4" "$5" "$6" "$7"
  echo "$1 $2 $3 $4 $5 $6 $7 ${ROUND:-0}" >> "$W/results.txt"
}

URL_STATIC=/static.txt
# hello gets the same query strings from the same wrk script as gosl: the ratio is our cost only.
URL_HELLO="/hello/hello.fcgi?name="
URL_BARE=/bare/hello.fcgi
URL_GOSL="/name2key/gosl-basics.fcgi?name="

echo "== Apache + mod_fcgid, $(nproc) cores, $(/usr/sbin/apache2 -v | sed -n 's/^Server version: //p'), Apache as $RUN_USER"
echo "database $DB/slkvdb ($(du -sh "$DB/slkvdb" | cut -f1)), $(wc -l < "$NAMES") names from $CSV"
start_apache
base="http://127.0.0.1:$PORT"

# Cold start: no process of either program exists yet.
cold_gosl=$(curl -s -o "$W/cold.out" -w '%{time_total}' "$base${URL_GOSL}$(head -n 1 "$NAMES")")
cold_hello=$(curl -s -o /dev/null -w '%{time_total}' "$base$URL_HELLO")
echo "cold start, fresh Apache to first answer: gosl-basics $(awk -v t="$cold_gosl" 'BEGIN { printf "%.1f", t * 1000 }') ms" \
     "(answer '$(head -c 36 "$W/cold.out")'), fcgi_hello $(awk -v t="$cold_hello" 'BEGIN { printf "%.1f", t * 1000 }') ms (budget: first answer of a fresh process <= 10 ms at 10 M records)"

# Warm-up: mod_fcgid spawns processes for 8 connections (requests that find none idle sleep 1 s);
# two rounds, so that no program is measured while it still waits for spawns.
for round in 1 2; do
  BENCH_NAMES= wrk -t1 -c8 -d2s "$base$URL_BARE" > /dev/null 2>&1 || true
  BENCH_NAMES=$NAMES wrk -t1 -c8 -d2s -s "$W/bench.lua" "$base$URL_HELLO" > /dev/null 2>&1 || true
  BENCH_NAMES=$NAMES wrk -t1 -c8 -d2s -s "$W/bench.lua" "$base$URL_GOSL" > /dev/null 2>&1 || true
done
echo "mod_fcgid processes after 2 x 2 s of warm-up at 8 connections: fcgi_hello $(grep -c 'hello/hello.fcgi([0-9]*) started' "$W/logs/error.log"), gosl-basics $(gosl_pids | wc -l)"

: > "$W/results.txt"
printf '%-10s %5s %10s %9s %9s %9s %7s\n' target conns 'req/s' 'p50 ms' 'p99 ms' 'max ms' errors
# gosl and hello alternate, ROUNDS times, the first of each pair switching: one run of wrk on
# this shared 2-core machine varies by +-15 %, so the ratio is the median of the pairs' ratios.
ROUNDS=${BENCH_ROUNDS:-3}
for c in 1 8; do
  ROUND=0
  log_from=$(date '+%Y-%m-%d %H:%M:%S')
  run_wrk static "$c" "$SECONDS_EACH" "$base$URL_STATIC"
  run_wrk hello-bare "$c" "$SECONDS_EACH" "$base$URL_BARE"
  for ROUND in $(seq 1 "$ROUNDS"); do
    if [ $((ROUND % 2)) = 1 ]; then
      run_wrk hello "$c" "$SECONDS_EACH" "$base$URL_HELLO" "$NAMES"
      run_wrk gosl "$c" "$SECONDS_EACH" "$base$URL_GOSL" "$NAMES"
    else
      run_wrk gosl "$c" "$SECONDS_EACH" "$base$URL_GOSL" "$NAMES"
      run_wrk hello "$c" "$SECONDS_EACH" "$base$URL_HELLO" "$NAMES"
    fi
  done
  # Which processes mod_fcgid handed the requests to: the one holding the
  # database answers from it, the others forward to it (docs/architecture.md).
  # (The log rotates during the runs: every file of it, by time.)
  cat "$APP"/gosl*log* 2> /dev/null |
    awk -v c="$c" -v from="$log_from" -v holders="$(cat "$APP"/gosl*log* 2> /dev/null | grep ' holds database ' | sed 's/.*\[\([0-9]*\)\].*/\1/' | sort -u | tr '\n' ' ')" '
      BEGIN { n = split(holders, h, " "); for (i = 1; i <= n; i++) holder[h[i]] = 1 }
      $1 " " substr($2, 1, 8) >= from && / INFO [0-9][0-9][0-9] / { pid = $3; gsub(/[][]/, "", pid); seen[pid]++; total++; if (pid in holder) own++ }
      END { if (total) printf "  gosl at %d connection(s): %d requests logged by %d processes, %.0f %% by the one holding the database, %.0f %% by the others (forwarded, or from what they remember)\n", c, total, length(seen), 100 * own / total, 100 * (total - own) / total }' >> "$W/who.txt"
done
cat "$W/who.txt" 2> /dev/null || true
awk -v rounds="$ROUNDS" -f "$SRC/scripts/median.awk" -f /dev/stdin "$W/results.txt" << 'EOF'
{ rps[$1 " " $2 " " $8] = $3; errors[$1 " " $2] += $7 }
  END {
    for (c = 1; c <= 8; c += 7) {
      list = ""
      for (r = 1; r <= rounds; r++) {
        g = rps["gosl " c " " r]; h = rps["hello " c " " r]
        pair[r] = h ? g / h : 0; hello[r] = h; list = list sprintf("%s%.2f", r > 1 ? " " : "", pair[r])
      }
      ratio = median(pair, rounds); h = median(hello, rounds)
      s = rps["static " c " 0"]; b = rps["hello-bare " c " 0"]
      printf "at %d connection(s): gosl/hello %.2f, median of %d pairs (%s) (budget: >= %.2f); hello/static %.2f, hello/hello-bare %.2f (the shipped .htaccess)\n",
        c, ratio, rounds, list, c == 1 ? 0.95 : 1.00, s ? h / s : 0, b ? h / b : 0
      # An error answer is cheap: a ratio over runs that had any means nothing.
      if (errors["gosl " c] + errors["hello " c] > 0)
        printf "  NOT VALID at %d connection(s): %d error answers from gosl, %d from hello\n", c, errors["gosl " c], errors["hello " c]
    }
  }
EOF

# Error answers: what the service and Apache said about them.
if awk '$1 == "gosl" && $7 > 0 { bad = 1 } END { exit !bad }' "$W/results.txt"; then
  echo "gosl-basics answered errors; the last lines its log and Apache's error log have of them:"
  grep -v ' INFO ' "$APP/gosl.log" 2> /dev/null | tail -n 5 | sed 's/^/  gosl.log: /'
  tail -n 5 "$W/logs/error.log" | sed 's/^/  error.log: /'
fi

echo "RSS of each gosl-basics process (budget: <= 32 MB with 10 M records):"
for pid in $(gosl_pids); do
  rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2> /dev/null || echo 0)
  awk -v p="$pid" -v r="$rss" 'BEGIN { printf "  pid %s: %.1f MB\n", p, r / 1024 }'
done

# Batch lookups (names=): 50 names in one request against 50 single requests, the same names.
BATCHES=$W/batches.txt
awk '{ line = line (NR % 50 == 1 ? "" : "%0A") $0 } NR % 50 == 0 { print line; line = "" }' "$NAMES" > "$BATCHES"
if [ -s "$BATCHES" ]; then
  echo "batch lookups: 50 names a request (names=) against one name a request, 1 connection, $SECONDS_EACH s each:"
  single=$(run_wrk gosl 1 "$SECONDS_EACH" "$base$URL_GOSL" "$NAMES")
  batch=$(run_wrk gosl-batch 1 "$SECONDS_EACH" "$base/name2key/gosl-basics.fcgi?names=" "$BATCHES")
  printf '%s\n%s\n' "$single" "$batch"
  printf '%s %s\n' "$single" "$batch" | awk '{ printf "names/s: %.0f single, %.0f batched (%.1f x); 50 names: %.1f ms in 50 requests (p50), %.2f ms in one\n", $3, $10 * 50, $3 ? $10 * 50 / $3 : 0, $4 * 50, $11 }'
fi

# Spawn burst: a graceful restart makes mod_fcgid stop every process (and reset its spawn score),
# then 16 connections arrive at once.
restarts=$(grep -c 'resuming normal operations' "$W/logs/error.log" || true)
kill -USR1 "$APACHE_PID"
i=0
while [ "$(grep -c 'resuming normal operations' "$W/logs/error.log" || true)" -le "$restarts" ] ||
      [ -n "$(gosl_pids)" ]; do
  [ $i -lt 300 ] || break
  sleep 0.05; i=$((i + 1))
done
spawned_before=$(grep -c 'gosl-basics.fcgi([0-9]*) started' "$W/logs/error.log" || true)
printf 'spawn burst (16 connections from no process, %s s): ' "$SECONDS_EACH"
out=$(BENCH_NAMES=$NAMES wrk -t1 -c16 -d"$SECONDS_EACH"s --timeout 10s -s "$W/bench.lua" "$base$URL_GOSL" 2>&1) || true
spawned=$(( $(grep -c 'gosl-basics.fcgi([0-9]*) started' "$W/logs/error.log" || true) - spawned_before ))
printf '%s\n' "$out" | awk -v n="$spawned" '/^RESULT/ {
  printf "%.0f req/s, p50 %.1f ms, p99 %.1f ms, max %.1f ms, %d errors, %d processes spawned\n", $2, $3, $4, $5, $6, n }'
stop_apache
