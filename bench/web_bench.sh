#!/usr/bin/env bash
# bench/web_bench.sh - the pages' speed in Chromium (bench/web_bench.mjs)
# against the release linlid on a demo district. Run by hand after
# `make build` (not part of `make bench`: building the demo at scale 1 takes
# about two minutes). Everything on 127.0.0.1, on a free port.
# Settings: WEB_BENCH_SCALE (demo scale, 1), WEB_BENCH_ROUNDS (7),
# WEB_BENCH_DB (kept between runs: bench/results/web-demo-<scale>.db).
set -euo pipefail
cd "$(dirname "$0")/.."
SCALE=${WEB_BENCH_SCALE:-1}
ROUNDS=${WEB_BENCH_ROUNDS:-7}
DB=${WEB_BENCH_DB:-bench/results/web-demo-$SCALE.db}
BIN=build/release
ADMIN_PW=bench-admin-pw-1
DEMO_PW=bench-demo-pw-1
mkdir -p bench/results
if [ ! -f "$DB" ]; then
  echo "web_bench: building the demo district at scale $SCALE in $DB" >&2
  rm -f "$DB.part"
  LINLI_ADMIN_PASSWORD=$ADMIN_PW "$BIN/linli" --db "$DB.part" init >/dev/null
  LINLI_DEMO_PASSWORD=$DEMO_PW "$BIN/linli" --db "$DB.part" demo --seed 1 --scale "$SCALE" >/dev/null
  mv "$DB.part" "$DB"
fi
PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
WORK=$(mktemp -d)
trap 'kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; rm -rf "$WORK"' EXIT
cp "$DB" "$WORK/linli.db"
LINLI_DEVICE_SILENT_S=0 "$BIN/linlid" --db "$WORK/linli.db" --listen "127.0.0.1:$PORT" --static-dir web \
  --photo-dir "$WORK/photos" --log-requests=false 2>"$WORK/linlid.stderr" &
PID=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
node bench/web_bench.mjs "http://127.0.0.1:$PORT" "$ADMIN_PW" "$DEMO_PW" "$ROUNDS"
echo "written to bench/results/web.md" >&2
