#!/bin/sh
# Runs each libFuzzer target for a bounded time. Seeds: fuzz/seeds/<target>,
# the request shapes the LSL scripts send (lsl/request-shapes.tsv), every
# kept regression input, and what earlier runs found (build/fuzz/corpus-*).
#   fuzz.sh BUILD_DIR SECONDS_PER_TARGET
set -eu
build=$1
seconds=$2
root=$(cd "$(dirname "$0")/.." && pwd)
findings="$build/findings"
mkdir -p "$findings"

# Request seeds in the target's format: method, query, content type, grid,
# owner key, write mode, one per line, then the body.
seeds="$build/seeds-request"
rm -rf "$seeds" && mkdir -p "$seeds"
tail -n +2 "$root/lsl/request-shapes.tsv" | awk -F'\t' -v dir="$seeds" '{
  n++
  for (m = 0; m < 4; m++) {
    split("open sl-only token off", modes, " ")
    file = dir "/shape-" n "-" modes[m + 1]
    printf "%s\n%s\n%s\nProduction\n0fa2b3c4-d5e6-4f70-8192-a3b4c5d6e7f8\n%s\n%s", \
      $3, $4, $6, modes[m + 1], $5 > file
    close(file)
  }
}'

status=0
for target in request csv_line peer_wire; do
  corpus="$build/corpus-$target"
  mkdir -p "$corpus"
  set -- "$corpus" "$root/fuzz/seeds/$target"
  [ "$target" = request ] && set -- "$@" "$seeds"
  [ -d "$root/fuzz/regressions/$target" ] && set -- "$@" "$root/fuzz/regressions/$target"
  echo "fuzz_$target: ${seconds}s from $(find "$@" -type f 2>/dev/null | wc -l) inputs in $# directories"
  # New inputs go to the first directory (the kept corpus); the rest are read.
  if ! "$build/fuzz_$target" -max_total_time="$seconds" -max_len=8192 -timeout=10 \
       -rss_limit_mb=1024 -print_final_stats=1 -artifact_prefix="$findings/$target-" \
       "$@" > "$build/fuzz_$target.log" 2>&1; then
    status=1
    echo "fuzz_$target: FINDING (see $build/fuzz_$target.log and $findings/)"
    tail -n 30 "$build/fuzz_$target.log"
  fi
  grep -E "^stat::(number_of_executed_units|peak_rss_mb)|^#[0-9]+.*DONE" "$build/fuzz_$target.log" | tr '\n' ' '
  echo
done
[ $status -eq 0 ] && echo "fuzz: no finding"
exit $status
