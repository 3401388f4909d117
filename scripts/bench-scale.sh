#!/bin/sh
# make bench-scale: an import far larger than make bench's, under a shared
# host's open-file limit, and the database size on other name mixes.
#   SCALE_RECORDS=N   records of the large import (default 30000000)
#   SCALE_NOFILE=N    its open-file limit, ulimit -n (default 256)
# Prints wall time, CPU, peak RSS, the most files the import held open, the
# most temporary disk it used, database / CSV, then lookups on a sample
# (bench_lookup checks every sampled answer both ways). Figures only.
# usage: bench-scale.sh TOOLS_BUILD_DIR BINARY_BUILD_DIR
set -eu
B=$1
BIN="$(pwd)/$2/gosl-basics.fcgi"
W=build/bench-data
mkdir -p "$W"
N=${SCALE_RECORDS:-30000000}
NOFILE=${SCALE_NOFILE:-256}

echo "== gosl-basics bench-scale, $(nproc) cores, $(date -u '+%Y-%m-%d %H:%M'), $2/gosl-basics.fcgi"

# The database's size per name mix, at 1 M records: all "First Resident",
# 65 % of them (a mix like Second Life's accounts), all legacy two-part names.
for mix in 100 65 0; do
  CSV="$W/gen-1000000-r$mix.csv"
  [ -s "$CSV" ] || "$B/tools/gen_whatcsv" 1000000 --resident-percent "$mix" > "$CSV"
  rm -rf "$W/db-mix" && mkdir -p "$W/db-mix"
  "$BIN" --dir "$W/db-mix" --import "$CSV" --debug WARNING > /dev/null 2>&1
  awk -v m="$mix" -v d="$(du -sb "$W/db-mix/slkvdb" | cut -f1)" -v c="$(stat -c %s "$CSV")" 'BEGIN {
    printf "1 M records, %d %% \"First Resident\": CSV %.1f MB, database %.1f MB = %.3f x the CSV (budget: <= 1.000)\n", m, c / 1e6, d / 1e6, d / c }'
done
rm -rf "$W/db-mix"

CSV="$W/gen-$N.csv"
DB="$W/db-scale"
[ -s "$CSV" ] || "$B/tools/gen_whatcsv" "$N" > "$CSV"
rm -rf "$DB" && mkdir -p "$DB"
echo "-- $N records, plain CSV $(stat -c %s "$CSV") bytes, under ulimit -n $NOFILE"
(ulimit -n "$NOFILE" && exec /usr/bin/time -f '%e %M %U %S' -o "$W/scale.time" \
   "$BIN" --dir "$DB" --import "$CSV" --debug info) > /dev/null 2> "$W/scale.log" &
TIMER=$!
most_files=0
most_temp=0
while kill -0 "$TIMER" 2> /dev/null; do
  pid=$(pgrep -f -n -- "--dir $DB --import" || true)
  if [ -n "$pid" ]; then
    files=$(ls "/proc/$pid/fd" 2> /dev/null | wc -l)
    [ "$files" -gt "$most_files" ] && most_files=$files
  fi
  temp=$(du -sb "$DB/slkvdb.import-runs" "$DB/slkvdb.import-new" 2> /dev/null | awk '{ s += $1 } END { printf "%.0f", s }')
  [ "$temp" -gt "$most_temp" ] && most_temp=$temp
  sleep 0.5
done
wait "$TIMER" || { echo "import failed:"; tail -5 "$W/scale.log"; exit 1; }
grep -o 'merging .*\|[0-9]* MB of entries.*' "$W/scale.log" || true
read -r wall rss_kb user sys < "$W/scale.time"
awk -v w="$wall" -v r="$rss_kb" -v u="$user" -v s="$sys" -v n="$N" -v f="$most_files" \
    -v t="$most_temp" -v lim="$NOFILE" -v d="$(du -sb "$DB/slkvdb" | cut -f1)" \
    -v c="$(stat -c %s "$CSV")" 'BEGIN {
  printf "import: %.1f s wall (%.0f records/s), CPU %.1f s user + %.1f s sys\n", w, n / w, u, s
  printf "import peak RSS: %.1f MB (goal: <= 32 MB, budget <= 64 MB, whatever N)\n", r / 1024
  printf "files open at the most (sampled every 0.5 s): %d of %d allowed\n", f, lim
  printf "temporary disk at the most (sampled): %.1f MB = %.2f x the CSV\n", t / 1e6, t / c
  printf "database size: %.1f MB = %.3f x the CSV (budget: <= 1.000)\n", d / 1e6, d / c }'
"$B/bench/bench_lookup" "$(pwd)/$DB/slkvdb" "$CSV" "$BIN"
rm -rf "$DB"
