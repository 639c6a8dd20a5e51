#!/usr/bin/env bash
# bench/cases_bench.sh - the case workflow at one million cases: creating a case
# with a photo (per second), list and search latency, and the figures report.
#
#  1. A fresh database gets the Chaoyang areas (`linli init`, `linli import
#     areas`); `cases_bench gen` writes CASES_N cases with their whole history
#     (events at generated times over the last CASES_DAYS days) straight into
#     it with prepared statements: the domain has no bulk path (see
#     bench/cases_bench.c).
#  2. `cases_bench figures` times the figures in the domain (cases_stats_compute
#     over the last whole month, the current month and 366 days; the month's
#     recurring problems), CASES_RUNS runs each.
#  3. linlid serves that database; bench/cases_latency.py makes CASES_REQUESTS
#     sequential requests of each kind over one keep-alive connection (the list,
#     the list of one community, of a street and category, as street staff;
#     search by 3+, 2 and 1 characters) and asks for each report CASES_RUNS times.
#  4. Creation with a photo: wrk posts multipart/form-data (category,
#     description, lat, lon and one JPEG of about CASES_PHOTO_KB KB, each upload a
#     different file) to POST /api/v1/cases as a resident, CASES_SECONDS seconds at
#     each of CASES_CONNS connections, then the same case as JSON without a photo;
#     creates/s are the 201s over the time, and the cases and photo files in the
#     store are counted afterwards.
#
# Run by hand after a release build (not part of the tests; no timing is ever
# asserted):  cmake --preset release && cmake --build --preset release
#             bench/cases_bench.sh
# Prints a markdown section and writes it to bench/results/cases.md.
# Settings (environment): CASES_N (1000000), CASES_DAYS (365), CASES_REQUESTS (1000),
# CASES_RUNS (3), CASES_SECONDS (10), CASES_CONNS ("16 64"), CASES_PHOTO_KB (30),
# CASES_SEED (1), WRK_THREADS (2), BENCH_BUILD (build/release), CASES_KEEP=1 keeps the
# temporary directory, CASES_DB=DIR/cases.db reuses a database a kept run left (no
# generation), TMPDIR (put it on the disk you mean to measure).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=${BENCH_BUILD:-build/release}
N=${CASES_N:-1000000}
DAYS=${CASES_DAYS:-365}
REQUESTS=${CASES_REQUESTS:-1000}
RUNS=${CASES_RUNS:-3}
SECS=${CASES_SECONDS:-10}
CONNS=${CASES_CONNS:-16 64}
PHOTO_KB=${CASES_PHOTO_KB:-30}
SEED=${CASES_SEED:-1}
WRK_THREADS=${WRK_THREADS:-2}
PASSWORD=bench-password-123
OUT=bench/results/cases.md

for tool in python3 curl timeout wrk; do
    command -v "$tool" >/dev/null || { echo "cases_bench.sh: $tool is needed" >&2; exit 2; }
done
for bin in "$BUILD/linli" "$BUILD/linlid" "$BUILD/bench/cases_bench"; do
    [ -x "$bin" ] || { echo "cases_bench.sh: $bin missing; run: cmake --preset release && cmake --build --preset release" >&2; exit 2; }
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/linli-cases.XXXXXX")
PID=
cleanup() {
    if [ -n "$PID" ]; then
        kill -TERM "$PID" 2>/dev/null || true
        wait "$PID" 2>/dev/null || true
    fi
    if [ "${CASES_KEEP:-0}" = 1 ]; then
        echo "cases_bench.sh: kept $TMP" >&2
    else
        rm -rf "$TMP"
    fi
}
trap cleanup EXIT

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
if [ -n "${CASES_DB:-}" ]; then
    # A database an earlier run kept (CASES_KEEP=1): its cases and queries are reused, and the
    # creation runs add to it.
    DB=$CASES_DB
    cp "$(dirname "$DB")/queries.json" "$TMP/queries.json"
    GEN_LINE="Reused $DB: $(python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from cases").fetchone()[0])' "$DB") cases."
else
    DB=$TMP/cases.db
    echo "== generating $N cases" >&2
    LINLI_ADMIN_PASSWORD=$PASSWORD "$BUILD/linli" --db "$DB" init >/dev/null
    "$BUILD/linli" --db "$DB" import areas --dir data/chaoyang >/dev/null
    GEN_LINE=$(timeout 7200 "$BUILD/bench/cases_bench" gen --db "$DB" --cases "$N" \
        --days "$DAYS" --seed "$SEED" --queries "$TMP/queries.json")
fi
PHOTOS=$(dirname "$DB")/photos
echo "$GEN_LINE" >&2
DB_MB=$(python3 -c "import os; print(f'{os.path.getsize(\"$DB\") / 1e6:.0f}')")

echo "== the figures in the domain" >&2
FIGURES=$(timeout 3600 "$BUILD/bench/cases_bench" figures --db "$DB" --runs "$RUNS" 2>/dev/null)
echo "$FIGURES" >&2

echo "== list, search and reports through HTTP" >&2
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
LINLI_ADMIN_PASSWORD=$PASSWORD "$BUILD/linlid" --db "$DB" --listen "127.0.0.1:$PORT" \
    --static-dir "" --log-requests=false --log-level warn --conn-per-ip 2048 \
    --max-connections 4096 2>"$TMP/linlid.err" &
PID=$!
for _ in $(seq 1 300); do
    curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done
login() { # user -> token
    curl -fs -H 'Content-Type: application/json' \
        -d "{\"username\":\"$1\",\"password\":\"$PASSWORD\"}" \
        "http://127.0.0.1:$PORT/api/v1/auth/login" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])'
}
ADMIN=$(login admin)
STREET_CODE=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["streets"][0])' "$TMP/queries.json")
for u in "bench-street street $STREET_CODE" "bench-resident resident"; do
    set -- $u
    body="{\"username\":\"$1\",\"role\":\"$2\",\"password\":\"$PASSWORD\"${3:+,\"scope\":\"$3\"}}"
    curl -s -o /dev/null -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' \
        -d "$body" "http://127.0.0.1:$PORT/api/v1/users" # 409 when a reused database has them
done
STREET=$(login bench-street)
RESIDENT=$(login bench-resident)
TABLES=$(timeout 7200 python3 bench/cases_latency.py "127.0.0.1:$PORT" "$ADMIN" "$STREET" \
    "$TMP/queries.json" --requests "$REQUESTS" --report-runs "$RUNS" --seed "$SEED")
echo "$TABLES" >&2

echo "== creating cases with a photo" >&2
"$BUILD/bench/cases_bench" jpeg --out "$TMP/photo.jpg" --kb "$PHOTO_KB" --seed "$SEED"
PHOTO_BYTES=$(stat -c %s "$TMP/photo.jpg")
count_cases() {
    python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from cases").fetchone()[0])' "$DB"
}
count_photos() {
    find "$PHOTOS" -type f 2>/dev/null | wc -l
}
cat >"$TMP/create.lua" <<'EOF'
-- POST /api/v1/cases as multipart/form-data with one JPEG; the JPEG's 20-byte
-- slot gets the run, the thread and a counter, so every upload is a new file.
local threads = {}
setup = function(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end
init = function(args)
  local f = assert(io.open(os.getenv("CASES_JPEG"), "rb"))
  local jpeg = f:read("*a")
  f:close()
  local slot = "PHOTOSLOT00000000000"
  local i = assert(jpeg:find(slot, 1, true))
  local b = "----linlibench7MA4YWxkTrZu0gW"
  local function field(k, v)
    return "--" .. b .. "\r\nContent-Disposition: form-data; name=\"" .. k .. "\"\r\n\r\n" .. v .. "\r\n"
  end
  pre = field("category", "corridor_clutter") ..
        field("description", "3号楼2单元楼道堆放纸箱和旧家具，影响通行，存在消防隐患") ..
        field("lat", "39.9061") .. field("lon", "116.4599") ..
        "--" .. b .. "\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"p.jpg\"\r\n" ..
        "Content-Type: image/jpeg\r\n\r\n" .. jpeg:sub(1, i - 1)
  post = jpeg:sub(i + #slot) .. "\r\n--" .. b .. "--\r\n"
  hdrs = { ["Authorization"] = "Bearer " .. os.getenv("CASES_TOKEN"),
           ["Content-Type"] = "multipart/form-data; boundary=" .. b }
  run = tonumber(os.getenv("CASES_RUN"))
  n = 0
end
request = function()
  n = n + 1
  return wrk.format("POST", "/api/v1/cases", hdrs,
                    pre .. string.format("%04d%04d%012d", run, tid, n) .. post)
end
if os.getenv("CASES_NO_PHOTO") == "1" then
  -- the same case as JSON, without a photo: what the photo costs
  request = function()
    return wrk.format("POST", "/api/v1/cases", jhdrs, jbody)
  end
  local init_photo = init
  init = function(args)
    init_photo(args)
    jhdrs = { ["Authorization"] = "Bearer " .. os.getenv("CASES_TOKEN"),
              ["Content-Type"] = "application/json" }
    jbody = '{"category": "corridor_clutter", "description": ' ..
            '"3号楼2单元楼道堆放纸箱和旧家具，影响通行，存在消防隐患", ' ..
            '"point": {"lat": 39.9061, "lon": 116.4599}}'
  end
end
done = function(s, lat, req)
  local e = s.errors
  io.write(string.format("BENCH requests=%d duration_us=%d p50_us=%d p99_us=%d status_errors=%d socket_errors=%d\n",
    s.requests, s.duration, lat:percentile(50), lat:percentile(99), e.status,
    e.connect + e.read + e.write + e.timeout))
end
EOF
CREATE_ROWS=""
for run in $(for c in $CONNS; do echo "photo:$c json:$c"; done); do
    kind=${run%%:*}
    c=${run#*:}
    t=$WRK_THREADS
    [ "$c" -lt "$t" ] && t=$c
    before=$(count_cases)
    photos_before=$(count_photos)
    # a run number of its own (the clock), so no upload repeats an earlier run's photo
    CASES_JPEG=$TMP/photo.jpg CASES_TOKEN=$RESIDENT CASES_RUN=$(($(date +%s) % 10000)) \
        CASES_NO_PHOTO=$([ "$kind" = json ] && echo 1 || echo 0) timeout $((SECS + 60)) \
        wrk -t"$t" -c"$c" -d"${SECS}s" --latency -s "$TMP/create.lua" \
        "http://127.0.0.1:$PORT/api/v1/cases" >"$TMP/wrk-$kind-$c.txt" 2>&1 || true
    line=$(grep '^BENCH ' "$TMP/wrk-$kind-$c.txt" || true)
    if [ -z "$line" ]; then
        echo "cases_bench.sh: wrk gave no result for $kind at $c connections:" >&2
        cat "$TMP/wrk-$kind-$c.txt" >&2
        exit 1
    fi
    sleep 2 # requests wrk did not wait for still finish
    after=$(count_cases)
    photos_after=$(count_photos)
    CREATE_ROWS+=$(python3 - "$kind" "$c" "$line" "$((after - before))" "$((photos_after - photos_before))" <<'PY'
import sys
kind, conns, line = sys.argv[1], sys.argv[2], sys.argv[3]
rows, photos = int(sys.argv[4]), int(sys.argv[5])
body = "multipart, one JPEG" if kind == "photo" else "JSON, no photo"
d = {k: int(v) for k, v in (x.split("=") for x in line.split()[1:])}
secs = d["duration_us"] / 1e6
ok = d["requests"] - d["status_errors"]
print(f"| {body} | {conns} | {ok / secs:,.0f} | {d['requests']:,} | {d['p50_us'] / 1000:.1f} | "
      f"{d['p99_us'] / 1000:.1f} | {d['status_errors']} | {d['socket_errors']} | {rows:,} | "
      f"{photos:,} |")
PY
)$'\n'
    echo "  $kind, $c connections: $line" >&2
done

kill -TERM "$PID" 2>/dev/null || true
wait "$PID" 2>/dev/null || true
PID=
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
MODEL=$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1)
MEM_GB=$(awk '/MemTotal/ {printf "%.0f", $2 / 1048576}' /proc/meminfo)
FS=$(df -T "$TMP" | awk 'NR == 2 {print $2}')
SQLITE=$(pkg-config --modversion sqlite3 2>/dev/null || echo '?')

mkdir -p "$(dirname "$OUT")"
{
    echo "## Cases: creation with a photo, list and search, figures at one million"
    echo
    echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs ($MODEL), ${MEM_GB} GB RAM, database on"
    echo "$FS; release build (\`$BUILD\`), SQLite $SQLITE; load average $LOAD_START before, $LOAD_END after."
    echo "\`bench/cases_bench.sh\` with CASES_N=$N, CASES_DAYS=$DAYS, CASES_REQUESTS=$REQUESTS,"
    echo "CASES_RUNS=$RUNS, CASES_SECONDS=$SECS, CASES_CONNS=\"$CONNS\", CASES_PHOTO_KB=$PHOTO_KB, CASES_SEED=$SEED."
    echo
    echo "Data (\`cases_bench gen\`, prepared statements on one connection; database afterwards ${DB_MB} MB):"
    echo
    echo "> $GEN_LINE"
    echo
    echo "### The figures in the domain (\`cases_stats_compute\`, \`cases_recurring\`; all units)"
    echo
    echo "$FIGURES"
    echo
    echo "### Through HTTP (linlid, one keep-alive connection, sequential requests, first page of 50)"
    echo
    echo "$TABLES"
    echo
    echo "### Creation: POST /api/v1/cases as a resident, with a ${PHOTO_BYTES}-byte JPEG and without"
    echo
    echo "| body | connections | creates/s | requests | p50 ms | p99 ms | non-2xx | socket errors | cases added | photo files added |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    printf '%s' "$CREATE_ROWS"
} | tee "$OUT"
