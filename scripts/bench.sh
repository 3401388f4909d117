#!/bin/sh
# make bench: figures against the SPEC budgets on generated W-Hat data.
#   BENCH_SIZES="N ..."  record counts (default "1000000 10000000")
# Generated files are kept in build/bench-data (the 10 M .bz2 takes a minute
# to make once). Figures are printed, never asserted: the machine is shared
# and noisy, so each ratio pairs two runs made next to each other.
# usage: bench.sh TOOLS_BUILD_DIR [BINARY_BUILD_DIR]: the tools (generator,
# bench_lookup) from the first, the gosl-basics.fcgi measured from the second
# (make bench: build/release, the static binary users upload).
set -eu
B=$1
BIN_DIR=${2:-$1}
W=build/bench-data
mkdir -p "$W"
BIN="$(pwd)/$BIN_DIR/gosl-basics.fcgi"

echo "== gosl-basics bench, $(nproc) cores, $(date -u '+%Y-%m-%d %H:%M'), $BIN_DIR/gosl-basics.fcgi"
for N in ${BENCH_SIZES:-1000000 10000000}; do
  CSV="$W/gen-$N.csv"
  DB="$W/db-$N"
  [ -s "$CSV" ] || "$B/tools/gen_whatcsv" "$N" > "$CSV"
  [ -s "$CSV.bz2" ] || bzip2 -k -f "$CSV"
  rm -rf "$DB" && mkdir -p "$DB"

  echo "-- $N records: CSV $(stat -c %s "$CSV") bytes, .bz2 $(stat -c %s "$CSV.bz2") bytes"
  /usr/bin/time -f '%e' -o "$W/bzip2.time" bzip2 -dc "$CSV.bz2" > /dev/null
  /usr/bin/time -f '%e %M' -o "$W/import.time" \
    "$BIN" --dir "$DB" --import "$CSV.bz2" --debug WARNING > /dev/null 2>&1
  read -r reference < "$W/bzip2.time"
  read -r wall rss_kb < "$W/import.time"
  db_bytes=$(du -sb "$DB/slkvdb" | cut -f1)
  awk -v w="$wall" -v ref="$reference" -v r="$rss_kb" -v n="$N" -v d="$db_bytes" \
      -v c="$(stat -c %s "$CSV")" 'BEGIN {
    printf "import .csv.bz2: %.1f s (%.0f records/s); bzip2 -dc same file: %.1f s; ratio %.2f (budget: <= 2.00)\n", w, n / w, ref, w / ref
    printf "import peak RSS: %.1f MB (budget: <= 64 MB)\n", r / 1024
    printf "database size: %.1f MB = %.3f x the CSV (budget: <= 1.000)\n", d / 1e6, d / c }'
  # --status reads counts the import wrote: no scan, whatever the size.
  /usr/bin/time -f '%e %M' -o "$W/status.time" "$BIN" --dir "$DB" --status > /dev/null
  read -r status_wall status_kb < "$W/status.time"
  echo "--status: $status_wall s, peak RSS $((status_kb / 1024)) MB (counts kept, never a scan)"
  "$B/bench/bench_lookup" "$(pwd)/$DB/slkvdb" "$CSV" "$BIN"
  echo "operations on a copy while two processes serve it:"
  "$B/bench/bench_live" "$(pwd)/$DB/slkvdb" "$(pwd)/$CSV" "$BIN"
done

# Through a private Apache + mod_fcgid on 127.0.0.1, on the 1 M-record
# database: against a static file and a do-nothing libfcgi program.
FIRST=$(echo ${BENCH_SIZES:-1000000} | cut -d' ' -f1)
echo "-- through Apache + mod_fcgid ($FIRST records)"
scripts/bench-apache.sh "$BIN_DIR" "$W/db-$FIRST" "$W/gen-$FIRST.csv"
