#!/bin/sh
# make bench: figures against the SPEC budgets on generated W-Hat data.
#   BENCH_RECORDS=N  records to generate (default 1000000)
# Figures are printed, never asserted: the machine is shared and noisy.
set -eu
B=$1
N=${BENCH_RECORDS:-1000000}
W=build/bench-data
mkdir -p "$W"
CSV="$W/gen-$N.csv"
DB="$W/db-$N"
[ -s "$CSV" ] || "$B/tools/gen_whatcsv" "$N" > "$CSV"
rm -rf "$DB" && mkdir -p "$DB"

echo "== gosl-basics bench: $N generated records, $(nproc) cores, $(date -u +%Y-%m-%d)"
/usr/bin/time -f '%e %M' -o "$W/import.time" \
  "$B/gosl-basics.fcgi" --dir "$DB" --import "$CSV" --debug WARNING >/dev/null 2>&1
read -r wall rss_kb < "$W/import.time"
csv_bytes=$(stat -c %s "$CSV")
db_bytes=$(du -sb "$DB/slkvdb" | cut -f1)
awk -v w="$wall" -v r="$rss_kb" -v n="$N" 'BEGIN {
  printf "import (plain CSV): %.1f s wall, %.0f records/s, peak RSS %.1f MB (budget: <= 64 MB)\n", w, n / w, r / 1024 }'
awk -v d="$db_bytes" -v c="$csv_bytes" 'BEGIN {
  printf "database size: %.1f MB for %.1f MB of CSV = %.2f x CSV (budget: <= 1.00)\n", d / 1e6, c / 1e6, d / c }'
"$B/bench/bench_lookup" "$(pwd)/$DB/slkvdb" "$CSV" "$(pwd)/$B/gosl-basics.fcgi"
