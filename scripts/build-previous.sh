#!/bin/sh
# Builds the previous release of gosl-basics from this repository's history,
# for the tests of two versions serving one site (tests/integration/
# test_upgrade.cpp). Reproducible: the same commit, the same Makefile, the
# same Debian packages.
#   build-previous.sh COMMIT OUT_DIR   -> OUT_DIR/gosl-basics.fcgi
# Without the commit (a shallow clone) it says so, makes nothing and exits 0:
# the tests then say they did not run.
set -eu
commit=$1
out=$2
root=$(cd "$(dirname "$0")/.." && pwd)
[ -x "$out/gosl-basics.fcgi" ] && [ "$(cat "$out/commit" 2>/dev/null)" = "$commit" ] && exit 0
if ! git -C "$root" cat-file -e "$commit^{commit}" 2>/dev/null; then
  # A shallow clone may still fetch it from where it came from.
  git -C "$root" fetch --quiet --unshallow 2>/dev/null || true
fi
if ! git -C "$root" cat-file -e "$commit^{commit}" 2>/dev/null; then
  echo "build-previous: commit $commit is not in this clone; the upgrade tests will not run"
  exit 0
fi
rm -rf "$out" && mkdir -p "$out/src"
git -C "$root" archive "$commit" | tar -x -C "$out/src"
echo "build-previous: building $commit (the previous release) in $out"
make -C "$out/src" -j2 binary > "$out/build.log" 2>&1 || { tail -20 "$out/build.log"; exit 1; }
cp "$out/src/build/dev/gosl-basics.fcgi" "$out/gosl-basics.fcgi"
echo "$commit" > "$out/commit"
rm -rf "$out/src/build"
