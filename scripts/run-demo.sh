#!/bin/sh
# make run: a demo database from data/sample-name2key.csv (made-up avatars),
# served by --server on 127.0.0.1:$PORT (default 3000) until Ctrl-C.
set -eu
B=$1
PORT=${PORT:-3000}
DEMO=build/demo
rm -rf "$DEMO" && mkdir -p "$DEMO"
"$B/gosl-basics.fcgi" --dir "$DEMO" --import data/sample-name2key.csv --debug WARNING
cat <<EOT

Demo database: $DEMO/slkvdb ($(wc -l < data/sample-name2key.csv) made-up avatars). Try, in another terminal:
  curl 'http://127.0.0.1:$PORT/?name=Demokaka+Resident'
  curl 'http://127.0.0.1:$PORT/?name=demokaka&compat=false'
  curl 'http://127.0.0.1:$PORT/?key=63cbe1e4-5932-4dd7-844c-3cd7f43c661c'
  curl 'http://127.0.0.1:$PORT/?name=Demoloka+Resident&format=json'
  curl -H 'X-SecondLife-Shard: Production' -H 'X-SecondLife-Object-Key: 1a2b3c4d-5e6f-4a0b-8c1d-2e3f4a5b6c7d' -H 'X-SecondLife-Owner-Key: 5f3e2d1c-0b0a-4987-8654-3210fedcba98' 'http://127.0.0.1:$PORT/?name=New+Avatar&key=c0ffee00-1234-4abc-8def-0123456789ab'
Ctrl-C stops the server.

EOT
exec "$B/gosl-basics.fcgi" --dir "$DEMO" --server --port "$PORT"
