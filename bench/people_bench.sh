#!/usr/bin/env bash
# bench/people_bench.sh - residents at one million: how fast `linli import people`
# loads them, and how long GET /api/v1/people takes to search them.
#
#  1. bench/people_gen.py writes PEOPLE_N valid residents (GB 11643 ID numbers
#     with correct check characters, Chinese names, Chaoyang communities) as CSV;
#  2. a fresh database gets the Chaoyang areas, then `linli import people` loads
#     the file (its own timing: checking pass + writing pass, rows/s);
#  3. linlid serves that database; bench/people_latency.py makes PEOPLE_REQUESTS
#     sequential requests per kind of search over one keep-alive connection as
#     the admin (whole district): name of 3+ characters (trigram index), 2 and 1
#     characters (substring scan), ID number, community.
#
# Run by hand after a release build (not part of the tests; no timing is ever
# asserted):  cmake --preset release && cmake --build --preset release
#             bench/people_bench.sh
# Prints a markdown section and writes it to bench/results/people.md.
# Settings (environment): PEOPLE_N (1000000), PEOPLE_REQUESTS (2000), PEOPLE_SEED (1),
# BENCH_BUILD (build/release), PEOPLE_KEEP=1 keeps the temporary directory,
# TMPDIR (put it on the disk you mean to measure).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=${BENCH_BUILD:-build/release}
N=${PEOPLE_N:-1000000}
REQUESTS=${PEOPLE_REQUESTS:-2000}
SEED=${PEOPLE_SEED:-1}
PASSWORD=bench-password-123
OUT=bench/results/people.md

for tool in python3 curl timeout; do
    command -v "$tool" >/dev/null || { echo "people_bench.sh: $tool is needed" >&2; exit 2; }
done
for bin in "$BUILD/linli" "$BUILD/linlid"; do
    [ -x "$bin" ] || { echo "people_bench.sh: $bin missing; run: cmake --preset release && cmake --build --preset release" >&2; exit 2; }
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/linli-people.XXXXXX")
PID=
cleanup() {
    if [ -n "$PID" ]; then
        kill -TERM "$PID" 2>/dev/null || true
        wait "$PID" 2>/dev/null || true
    fi
    if [ "${PEOPLE_KEEP:-0}" = 1 ]; then
        echo "people_bench.sh: kept $TMP" >&2
    else
        rm -rf "$TMP"
    fi
}
trap cleanup EXIT

DB=$TMP/people.db
CSV=$TMP/people.csv
echo "== generating $N people" >&2
t0=$(date +%s.%N)
python3 bench/people_gen.py "$N" "$CSV" --seed "$SEED" --communities data/chaoyang/communities_2020.csv
t1=$(date +%s.%N)
GEN_S=$(python3 -c "print(f'{$t1 - $t0:.1f}')")
CSV_MB=$(python3 -c "import os; print(f'{os.path.getsize(\"$CSV\") / 1e6:.0f}')")

echo "== importing" >&2
LINLI_ADMIN_PASSWORD=$PASSWORD "$BUILD/linli" --db "$DB" init >/dev/null
"$BUILD/linli" --db "$DB" import areas --dir data/chaoyang >/dev/null
IMPORT_LINE=$(timeout 3600 "$BUILD/linli" --db "$DB" import people "$CSV" 2>"$TMP/import.err")
IMPORT_LINE=${IMPORT_LINE//$CSV/people.csv}
echo "$IMPORT_LINE" >&2
DB_MB=$(python3 -c "import os; print(f'{os.path.getsize(\"$DB\") / 1e6:.0f}')")

echo "== searching" >&2
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$BUILD/linlid" --db "$DB" --listen "127.0.0.1:$PORT" --static-dir "" --log-requests=false \
    2>"$TMP/linlid.err" &
PID=$!
for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done
TOKEN=$(curl -fs -H 'Content-Type: application/json' \
    -d "{\"username\":\"admin\",\"password\":\"$PASSWORD\"}" \
    "http://127.0.0.1:$PORT/api/v1/auth/login" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
TABLE=$(timeout 3600 python3 bench/people_latency.py "127.0.0.1:$PORT" "$TOKEN" \
    "$CSV.queries.json" --requests "$REQUESTS" --seed "$SEED")

MODEL=$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1)
MEM_GB=$(awk '/MemTotal/ {printf "%.0f", $2 / 1048576}' /proc/meminfo)
FS=$(df -T "$TMP" | awk 'NR == 2 {print $2}')
SQLITE=$(pkg-config --modversion sqlite3 2>/dev/null || echo '?')

mkdir -p "$(dirname "$OUT")"
{
    echo "## People: import and search at one million"
    echo
    echo "$(date -u +%Y-%m-%d), $(nproc) CPUs ($MODEL), ${MEM_GB} GB RAM, database on $FS;"
    echo "release build (\`$BUILD\`), SQLite $SQLITE."
    echo "\`bench/people_bench.sh\` with PEOPLE_N=$N, PEOPLE_REQUESTS=$REQUESTS, PEOPLE_SEED=$SEED."
    echo
    echo "Import (\`linli import people\`, $N rows, ${CSV_MB} MB of CSV generated in ${GEN_S} s; database afterwards ${DB_MB} MB):"
    echo
    echo "> $IMPORT_LINE"
    echo
    echo "Search latency through linlid over HTTP, one keep-alive connection, sequential requests"
    echo "as the admin (whole district), first page (limit 50):"
    echo
    echo "$TABLE"
} | tee "$OUT"
