#!/usr/bin/env bash
# bench/run.sh - throughput and latency of linlid on this machine, against a
# bare libmicrohttpd baseline (bench_hello). Called by `make bench` after a
# release build. Everything runs on 127.0.0.1, on free ports, with temporary
# databases; every load is a wrk run bounded by -d (and by `timeout`).
#
#  (a) GET /api/v1/me with a valid token, and bench_hello beside it, at 16 and
#      256 connections, alternating the two in the same run (plus GET /healthz,
#      which goes through linlid's HTTP layer without the token lookup);
#  (b) durable creates: POST /api/v1/users at 64 connections with group commit
#      (default --batch-max) and with --batch-max 1, a fresh database each;
#      once with linlid's default 64 write threads (writes run there while
#      their connections are suspended) and once with --write-threads 0 (writes
#      on the event threads, each holding its thread until its commit).
#
# Prints a markdown table and writes it to bench/results/latest.md.
# Settings (environment): BENCH_SECONDS (10), BENCH_ROUNDS (2), BENCH_WRK_THREADS (2),
# BENCH_HTTP_THREADS (event threads of linlid and bench_hello; linlid's default, 4),
# BENCH_CREATE_CONNS (64), BENCH_CREATE_THREADS (--write-threads values for (b), "64 0"),
# BENCH_BUILD (build/release), TMPDIR (must be a real disk for (b) to mean anything).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=${BENCH_BUILD:-build/release}
LINLID=$BUILD/linlid
HELLO=$BUILD/bench/bench_hello
SECS=${BENCH_SECONDS:-10}
ROUNDS=${BENCH_ROUNDS:-2}
WRK_THREADS=${BENCH_WRK_THREADS:-2}
HTTP_THREADS=${BENCH_HTTP_THREADS:-4}
CREATE_CONNS=${BENCH_CREATE_CONNS:-64}
CREATE_THREADS=${BENCH_CREATE_THREADS:-64 0}
CONNS="16 256"
PASSWORD=bench-password-123
OUT=bench/results/latest.md

for tool in wrk curl python3 timeout; do
    command -v "$tool" >/dev/null || { echo "bench/run.sh: $tool is needed" >&2; exit 2; }
done
for bin in "$LINLID" "$HELLO"; do
    [ -x "$bin" ] || { echo "bench/run.sh: $bin missing; run: cmake --preset release && cmake --build --preset release" >&2; exit 2; }
done

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')
TMP=$(mktemp -d "${TMPDIR:-/tmp}/linli-bench.XXXXXX")
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

wait_up() { # url: up to 15 s
    for _ in $(seq 150); do
        curl -sf -o /dev/null --max-time 1 "$1" && return 0
        sleep 0.1
    done
    echo "bench/run.sh: nothing answers at $1" >&2
    return 1
}

stop() { # pid: SIGTERM, then SIGKILL after 20 s
    local pid=$1
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 200); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    local keep=()
    for p in "${PIDS[@]}"; do [ "$p" != "$pid" ] && keep+=("$p"); done
    PIDS=("${keep[@]+"${keep[@]}"}")
}

LAST_PID=
start_linlid() { # db port threads [extra args...]
    local db=$1 port=$2 threads=$3
    shift 3
    LINLI_ADMIN_PASSWORD=$PASSWORD "$LINLID" --db "$db" --listen "127.0.0.1:$port" \
        --log-requests=false --log-level warn --threads "$threads" \
        --conn-per-ip 2048 --max-connections 4096 "$@" >>"$TMP/linlid.log" 2>&1 &
    LAST_PID=$!
    PIDS+=("$LAST_PID")
    wait_up "http://127.0.0.1:$port/healthz"
}

login() { # port -> token
    curl -sf --max-time 30 -H 'Content-Type: application/json' \
        -d "{\"username\":\"admin\",\"password\":\"$PASSWORD\"}" \
        "http://127.0.0.1:$1/api/v1/auth/login" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])'
}

# Every script ends with one machine-readable line (latencies in microseconds).
DONE_LUA='
done = function(s, lat, req)
  local e = s.errors
  io.write(string.format("BENCH requests=%d duration_us=%d p50_us=%d p99_us=%d status_errors=%d socket_errors=%d\n",
    s.requests, s.duration, lat:percentile(50), lat:percentile(99), e.status,
    e.connect + e.read + e.write + e.timeout))
end'

RESULTS=$TMP/results.tsv
: >"$RESULTS"
# run_wrk label conns url script
run_wrk() {
    local label=$1 conns=$2 url=$3 script=$4 round=${5:-0}
    local log=$TMP/wrk-$label-$conns-$round.txt
    local t=$WRK_THREADS
    [ "$conns" -lt "$t" ] && t=$conns
    timeout $((SECS + 30)) wrk -t"$t" -c"$conns" -d"${SECS}s" --latency -s "$script" "$url" >"$log" 2>&1 || true
    local line
    line=$(grep '^BENCH ' "$log" || true)
    if [ -z "$line" ]; then
        echo "bench/run.sh: wrk gave no result for $label at $conns connections:" >&2
        cat "$log" >&2
        return 1
    fi
    printf '%s\t%s\t%s\t%s\n' "$label" "$conns" "$round" "${line#BENCH }" >>"$RESULTS"
    printf '  %-8s c=%-4s round %s: %s\n' "$label" "$conns" "$round" "${line#BENCH }" >&2
}

metric() { # file name -> value of the first series with that exact name
    awk -v n="$2" '$1 == n && !found {print $2; found = 1}' "$1"
}

settle() { # port: wait (up to 10 s) until no request is in flight any more
    for _ in $(seq 100); do
        curl -sf --max-time 5 -o "$TMP/metrics.txt" "http://127.0.0.1:$1/metrics" || return 1
        [ "$(metric "$TMP/metrics.txt" linli_http_inflight)" = 1 ] && return 0 # this request
        sleep 0.1
    done
}

# ---- (a) GET /api/v1/me beside bench_hello ----
echo "== (a) GET /api/v1/me vs bench_hello (${SECS}s per run, $ROUNDS rounds, wrk -t$WRK_THREADS)" >&2
ME_PORT=$(free_port)
start_linlid "$TMP/me.db" "$ME_PORT" "$HTTP_THREADS"
ME_PID=$LAST_PID
TOKEN=$(login "$ME_PORT")
HELLO_PORT=$(free_port)
"$HELLO" "$HELLO_PORT" "$HTTP_THREADS" >>"$TMP/hello.log" 2>&1 &
HELLO_PID=$!
PIDS+=("$HELLO_PID")
wait_up "http://127.0.0.1:$HELLO_PORT/"

# The same request (with the token) goes to all three targets.
cat >"$TMP/get.lua" <<EOF
wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer $TOKEN"
$DONE_LUA
EOF
status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$ME_PORT/api/v1/me")
[ "$status" = 200 ] || { echo "bench/run.sh: GET /api/v1/me answered $status" >&2; exit 1; }

# Warm both up (page cache, statement caches, thread stacks).
SECS_SAVED=$SECS
SECS=2
run_wrk warm-hello 16 "http://127.0.0.1:$HELLO_PORT/" "$TMP/get.lua" >/dev/null 2>&1 || true
run_wrk warm-me 16 "http://127.0.0.1:$ME_PORT/api/v1/me" "$TMP/get.lua" >/dev/null 2>&1 || true
SECS=$SECS_SAVED

for round in $(seq "$ROUNDS"); do
    for c in $CONNS; do
        run_wrk hello "$c" "http://127.0.0.1:$HELLO_PORT/" "$TMP/get.lua" "$round"
        run_wrk me "$c" "http://127.0.0.1:$ME_PORT/api/v1/me" "$TMP/get.lua" "$round"
        run_wrk healthz "$c" "http://127.0.0.1:$ME_PORT/healthz" "$TMP/get.lua" "$round"
    done
done
stop "$HELLO_PID"
stop "$ME_PID"

# ---- (b) durable creates: group commit vs a transaction per request ----
echo "== (b) POST /api/v1/users at $CREATE_CONNS connections: --batch-max default vs 1" >&2
: >"$TMP/batch.tsv"
for round in $(seq "$ROUNDS"); do
  for threads in $CREATE_THREADS; do
    for kind in group single; do
        mode=$kind-$threads
        db=$TMP/create-$mode-$round.db
        port=$(free_port)
        if [ "$kind" = group ]; then
            start_linlid "$db" "$port" "$HTTP_THREADS" --write-threads "$threads"
        else
            start_linlid "$db" "$port" "$HTTP_THREADS" --write-threads "$threads" --batch-max 1
        fi
        pid=$LAST_PID
        token=$(login "$port")
        cat >"$TMP/create-$mode-$round.lua" <<EOF
local threads = {}
setup = function(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end
local n = 0
local hdrs = { ["Authorization"] = "Bearer $token", ["Content-Type"] = "application/json" }
request = function()
  n = n + 1
  return wrk.format("POST", "/api/v1/users", hdrs,
    string.format('{"username":"b%dn%d","role":"resident"}', tid, n))
end
$DONE_LUA
EOF
        settle "$port"
        jobs0=$(metric "$TMP/metrics.txt" linli_store_jobs_total)
        run_wrk "create-$mode" "$CREATE_CONNS" "http://127.0.0.1:$port/api/v1/users" \
            "$TMP/create-$mode-$round.lua" "$round"
        # Requests wrk sent but did not wait for still finish; then read the
        # store's counters once (whole run, including the login's few writes).
        settle "$port"
        bsum=$(metric "$TMP/metrics.txt" linli_store_batch_size_sum)
        bcount=$(metric "$TMP/metrics.txt" linli_store_batch_size_count)
        csum=$(metric "$TMP/metrics.txt" linli_store_commit_seconds_sum)
        ccount=$(metric "$TMP/metrics.txt" linli_store_commit_seconds_count)
        cp "$TMP/metrics.txt" "$TMP/metrics-$mode-$round.txt"
        stop "$pid"
        # What the database holds after a clean stop (minus the admin account).
        rows=$(python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from users").fetchone()[0] - 1)' "$db")
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$mode" "$round" "$bsum" "$bcount" "$csum" \
            "$ccount" "$rows" "$jobs0" >>"$TMP/batch.tsv"
        echo "  create-$mode round $round: batch_size sum=$bsum count=$bcount; users in db: $rows" >&2
        rm -f "$db" "$db-wal" "$db-shm"
    done
  done
done

# ---- report ----
mkdir -p bench/results
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')
python3 - "$RESULTS" "$TMP/batch.tsv" "$SECS" "$ROUNDS" "$WRK_THREADS" "$HTTP_THREADS" \
    "$CREATE_CONNS" "$CREATE_THREADS" "$LOAD_START" "$LOAD_END" >"$TMP/report.md" <<'PY'
import statistics, sys, datetime, os

(res_path, batch_path, secs, rounds, wrk_t, http_t, create_c, create_threads, load_start,
 load_end) = sys.argv[1:11]
runs = {}
for line in open(res_path):
    label, conns, rnd, kv = line.rstrip("\n").split("\t")
    d = dict(x.split("=") for x in kv.split())
    d = {k: int(v) for k, v in d.items()}
    d["rps"] = d["requests"] / (d["duration_us"] / 1e6)
    d["ok_rps"] = (d["requests"] - d["status_errors"]) / (d["duration_us"] / 1e6)
    runs.setdefault((label, int(conns)), []).append((int(rnd), d))

def agg(label, conns, key="rps"):
    rs = [d for _, d in sorted(runs.get((label, conns), []))]
    if not rs:
        return None
    return {"rps": statistics.mean(d[key] for d in rs),
            "p99": statistics.mean(d["p99_us"] for d in rs) / 1000,
            "p50": statistics.mean(d["p50_us"] for d in rs) / 1000,
            "errors": sum(d["status_errors"] + d["socket_errors"] for d in rs),
            "each": [d[key] for d in rs]}

def fmt_each(a):
    return " / ".join(f"{x:,.0f}" for x in a["each"])

out = []
w = out.append
w(f"Run {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC} on "
  f"{os.cpu_count()} CPUs; wrk -t{wrk_t}, {secs} s per run, {rounds} rounds "
  f"(figures are the mean of the rounds; each round listed after it); "
  f"linlid and bench_hello with {http_t} event threads. Load average before: {load_start}, "
  f"after: {load_end} (the latter includes this run's own load; anything else running on the "
  f"machine skews the figures).\n")
w("### (a) GET /api/v1/me vs a bare libmicrohttpd server\n")
w("| target | conns | req/s (mean) | rounds | p50 ms | p99 ms | errors |")
w("|---|---:|---:|---|---:|---:|---:|")
ratios = []
for c in (16, 256):
    for label, name in (("hello", "bench_hello"), ("me", "linlid GET /api/v1/me"),
                        ("healthz", "linlid GET /healthz")):
        a = agg(label, c)
        if a:
            w(f"| {name} | {c} | {a['rps']:,.0f} | {fmt_each(a)} | {a['p50']:.2f} | {a['p99']:.2f} | {a['errors']} |")
w("")
w("| conns | /api/v1/me ÷ hello (goal ≥ 0.6) | /healthz ÷ hello | p99 me / hello (ms) |")
w("|---:|---:|---:|---:|")
for c in (16, 256):
    h, m, z = agg("hello", c), agg("me", c), agg("healthz", c)
    if h and m:
        r = m["rps"] / h["rps"]
        ratios.append(r)
        zr = f"{z['rps'] / h['rps']:.2f}" if z else "-"
        w(f"| {c} | **{r:.2f}** {'met' if r >= 0.6 else 'MISSED'} | {zr} | {m['p99']:.2f} / {h['p99']:.2f} |")
w("")
w(f"### (b) durable creates, POST /api/v1/users at {create_c} connections\n")
batches = {}
for line in open(batch_path):
    mode, rnd, bsum, bcount, csum, ccount, rows, _ = line.rstrip("\n").split("\t")
    batches.setdefault(mode, []).append((float(bsum or 0), float(bcount or 0),
                                         float(csum or 0), float(ccount or 0), int(rows)))
w("| write threads | store | creates/s (mean) | rounds | p50 ms | p99 ms | non-201 | mean batch | mean commit ms | users in DB |")
w("|---:|---|---:|---|---:|---:|---:|---:|---:|---:|")
cr = {}
for t in create_threads.split():
    for kind, name in (("group", "group commit (--batch-max 256)"), ("single", "--batch-max 1")):
        mode = f"{kind}-{t}"
        a = agg("create-" + mode, int(create_c), key="ok_rps")
        b = batches.get(mode, [])
        if not a:
            continue
        cr[mode] = a["rps"]
        mb = sum(x[0] for x in b) / max(1, sum(x[1] for x in b))
        mc = 1000 * sum(x[2] for x in b) / max(1, sum(x[3] for x in b))
        rows = " / ".join(str(x[4]) for x in b)
        w(f"| {t} | {name} | {a['rps']:,.0f} | {fmt_each(a)} | {a['p50']:.2f} | {a['p99']:.2f} | {a['errors']} | {mb:.1f} | {mc:.2f} | {rows} |")
w("")
w("| write threads | group commit ÷ --batch-max 1 (goal ≥ 5x) |")
w("|---:|---:|")
for t in create_threads.split():
    g, s1 = cr.get(f"group-{t}"), cr.get(f"single-{t}")
    if g and s1:
        r = g / s1
        w(f"| {t}{' (default)' if t == '64' else ''} | **{r:.1f}x** {'met' if r >= 5 else 'MISSED'} |")
w("")
print("\n".join(out))
PY
cat "$TMP/report.md"
{
    echo "# Benchmark results (bench/run.sh)"
    echo
    cat "$TMP/report.md"
} >"$OUT"
echo "written to $OUT" >&2
