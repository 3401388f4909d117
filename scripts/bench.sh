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

# The do-nothing libfcgi program: the floor of a fresh process's first answer.
cc -O2 -o "$W/fcgi_hello" bench/fcgi_hello.c -lfcgi
# The decompressor alone on $FILE, and the import of $FILE into $TARGET.
reference() { /usr/bin/time -f '%e %U %S' -o "$W/reference.time" $REF "$FILE" > /dev/null; }
import() {
  /usr/bin/time -f '%e %U %S %M' -o "$W/import.time" \
    "$BIN" --dir "$TARGET" --import "$FILE" --debug WARNING > /dev/null 2>&1
}
echo "== gosl-basics bench, $(nproc) cores, $(date -u '+%Y-%m-%d %H:%M'), $BIN_DIR/gosl-basics.fcgi"
for N in ${BENCH_SIZES:-1000000 10000000}; do
  CSV="$W/gen-$N.csv"
  DB="$W/db-$N"
  [ -s "$CSV" ] || "$B/tools/gen_whatcsv" "$N" > "$CSV"
  [ -s "$CSV.bz2" ] || bzip2 -k -f "$CSV"
  [ -s "$CSV.gz" ] || gzip -k -f "$CSV"
  rm -rf "$DB" && mkdir -p "$DB"

  echo "-- $N records: CSV $(stat -c %s "$CSV") bytes, .bz2 $(stat -c %s "$CSV.bz2") bytes, .gz $(stat -c %s "$CSV.gz") bytes"
  # Each format: the decompressor alone on the file and the import of it,
  # next to each other. Its CPU minus the decompressor's is the import's own
  # work; the floor is all of its CPU spread over every core. The .bz2 has
  # a budget: BENCH_IMPORT_ROUNDS pairs (default 3), the first of each pair
  # switching, and the median of their ratios (this machine's minutes differ
  # by up to 20 %); the peak RSS is the largest of them.
  for FORMAT in bz2 gz csv; do
    case $FORMAT in
      bz2) FILE="$CSV.bz2"; REF="bzip2 -dc"; ROUNDS=${BENCH_IMPORT_ROUNDS:-3} ;;
      gz) FILE="$CSV.gz"; REF="zcat"; ROUNDS=1 ;;
      csv) FILE="$CSV"; REF="cat"; ROUNDS=1 ;;
    esac
    : > "$W/pairs.txt"
    for ROUND in $(seq 1 "$ROUNDS"); do
      TARGET="$DB"
      [ "$FORMAT" = bz2 ] || TARGET="$W/db-$N-$FORMAT"
      rm -rf "$TARGET" && mkdir -p "$TARGET"
      if [ $((ROUND % 2)) = 1 ]; then reference; import; else import; reference; fi
      [ "$FORMAT" = bz2 ] || rm -rf "$TARGET"
      echo "$(cat "$W/reference.time") $(cat "$W/import.time")" >> "$W/pairs.txt"
    done
    awk -v f="$FORMAT" -v ref="$REF" -v n="$N" -v cores="$(nproc)" -f scripts/median.awk -f /dev/stdin \
        "$W/pairs.txt" << 'EOF'
      { k++; rw[k] = $1; rc[k] = $2 + $3; w[k] = $4; cpu[k] = $5 + $6; r = $7 > r ? $7 : r
        ratio[k] = rw[k] >= 0.05 ? w[k] / rw[k] : -1; ratios = ratios sprintf("%s%.2f", k > 1 ? " " : "", ratio[k])
        per_floor[k] = w[k] / (cpu[k] / cores) }
      END {
        # Each column's median (median() sorts it: nothing reads the pairs after).
        wall = median(w, k); ref_wall = median(rw, k); all_cpu = median(cpu, k); ref_cpu = median(rc, k)
        mid_ratio = median(ratio, k); mid_floor = median(per_floor, k)
        budget = f == "bz2" ? " (budget: <= 1.00)" : ""
        of = k > 1 ? sprintf(", median of %d pairs (%s)", k, ratios) : ""
        shown = mid_ratio >= 0 ? sprintf("%.2f", mid_ratio) : "not timed (the reference took under 0.05 s)"
        printf "import .%s: %.1f s (%.0f records/s); %s same file: %.1f s; ratio %s%s%s\n", f, wall, n / wall, ref, ref_wall, shown, of, budget
        printf "  CPU %.1f s = %s %.1f s + the import's own %.1f s; %d-core floor %.1f s, wall / floor %.2f%s; peak RSS %.1f MB%s (goal: <= 32 MB, budget <= 64 MB)\n", all_cpu, ref, ref_cpu, all_cpu - ref_cpu, cores, all_cpu / cores, mid_floor, f == "bz2" ? " (budget: <= 1.20)" : "", r / 1024, (k > 1 ? ", the largest" : "") }
EOF
  done
  db_bytes=$(du -sb "$DB/slkvdb" | cut -f1)
  awk -v d="$db_bytes" -v c="$(stat -c %s "$CSV")" 'BEGIN {
    printf "database size: %.1f MB = %.3f x the CSV (budget: <= 1.000)\n", d / 1e6, d / c }'
  # --status reads counts the import wrote: no scan, whatever the size.
  /usr/bin/time -f '%e %M' -o "$W/status.time" "$BIN" --dir "$DB" --status > /dev/null
  read -r status_wall status_kb < "$W/status.time"
  echo "--status: $status_wall s, peak RSS $((status_kb / 1024)) MB (counts kept, never a scan)"
  "$B/bench/bench_lookup" "$(pwd)/$DB/slkvdb" "$CSV" "$BIN" "$(pwd)/$W/fcgi_hello"
  echo "operations on a copy while two processes serve it:"
  "$B/bench/bench_live" "$(pwd)/$DB/slkvdb" "$(pwd)/$CSV" "$BIN"
done

# Through a private Apache + mod_fcgid on 127.0.0.1, on the 1 M-record
# database: against a static file and a do-nothing libfcgi program.
FIRST=$(echo ${BENCH_SIZES:-1000000} | cut -d' ' -f1)
echo "-- through Apache + mod_fcgid ($FIRST records)"
scripts/bench-apache.sh "$BIN_DIR" "$W/db-$FIRST" "$W/gen-$FIRST.csv"
