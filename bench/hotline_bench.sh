#!/usr/bin/env bash
# bench/hotline_bench.sh - the one-key call centre (一键呼) under load: device
# heartbeats through a Mosquitto broker into linlid, and key press -> screen pop
# on an operator's console while they arrive.
#
#  1. A fresh database: `linli demo --seed 1 --scale HB_SCALE` (the Chaoyang
#     areas and people, and at scale 1 46,700 call devices with subscriptions
#     and secrets derived from the seed), and an operator whose scope is the
#     district. sqlite3 reads each subscribed device's id, serial, secret and
#     subscriber into a file for bench/hotline_load.
#  2. For each --mqtt-clients value in HB_CLIENTS: a private broker
#     (scripts/mosquitto.sh) on a free loopback port and linlid (release) with
#     --mqtt on a copy of that database, then, in this order,
#     (b) key press -> screen pop with no load: bench/hotline_popper.py makes
#         HB_PRESSES presses, one at a time (each answered and closed), on the
#         quiet server;
#     (a) throughput: for each QoS in HB_QOS, hotline_load publishes signed
#         heartbeats flat out for HB_SECONDS over HB_LOAD_CLIENTS connections.
#         The figure is what linlid accepted, from /metrics
#         (linli_device_events_total{door="mqtt",kind="heartbeat",outcome="accepted"})
#         sampled every 0.5 s, over the load's window less its first HB_WARMUP
#         seconds; then the backlog the broker still holds is let drain, and
#         published - accepted is what was lost;
#     (c) after HB_SETTLE seconds, the presses of (b) again while hotline_load
#         publishes HB_RATE heartbeats a second at QoS 1 (or 90 % of the best
#         QoS 1 rate (a) measured, if that is lower).
#     Each phase also reports the heartbeat flushes and the store's commits
#     (linli_store_commit_seconds) that happened meanwhile.
#  3. The broker's dropped-message count ($SYS) for each broker.
#
# Run by hand after a release build (never in the tests; no timing is asserted):
#     cmake --preset release && cmake --build --preset release
#     bench/hotline_bench.sh
# Prints a markdown section and writes it to bench/results/hotline.md.
# Settings (environment): HB_SCALE (1), HB_SECONDS (25, at most 120), HB_WARMUP (3),
# HB_CLIENTS ("2 4": linlid's --mqtt-clients), HB_LOAD_CLIENTS (4: the load's
# connections), HB_QOS ("1 0"), HB_PRESSES (200), HB_RATE (20000), HB_GAP_MS (200:
# most time between presses), HB_SETTLE (5), HB_TEMPLATE (the template.db of an
# earlier run kept with HB_KEEP=1, to skip the demo), HB_KEEP=1 keeps the
# temporary directory, BENCH_BUILD (build/release), TMPDIR (put it on the disk you
# mean to measure: commits are fsync'ed).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=${BENCH_BUILD:-build/release}
SCALE=${HB_SCALE:-1}
SECS=${HB_SECONDS:-25}
WARMUP=${HB_WARMUP:-3}
CLIENTS=${HB_CLIENTS:-"2 4"}
LOAD_CLIENTS=${HB_LOAD_CLIENTS:-4}
QOS_LIST=${HB_QOS:-"1 0"}
PRESSES=${HB_PRESSES:-200}
RATE=${HB_RATE:-20000}
GAP_MS=${HB_GAP_MS:-200}
SETTLE=${HB_SETTLE:-5}
TEMPLATE=${HB_TEMPLATE:-}
PASSWORD=bench-password-123
OP_USER=bench-operator
OP_PASSWORD=bench-operator-123
OUT=bench/results/hotline.md
HB_SERIES='linli_device_events_total{door="mqtt",kind="heartbeat",outcome="accepted"}'
LOAD_MAX_S=590 # the background load in (c) ends by itself after this, whatever happens

for tool in python3 curl sqlite3 timeout mosquitto_sub; do
    command -v "$tool" >/dev/null || { echo "hotline_bench.sh: $tool is needed" >&2; exit 2; }
done
for bin in "$BUILD/linli" "$BUILD/linlid" "$BUILD/bench/hotline_load"; do
    [ -x "$bin" ] || { echo "hotline_bench.sh: $bin missing; run: cmake --preset release && cmake --build --preset release" >&2; exit 2; }
done
if [ "$SECS" -gt 120 ] || [ "$SECS" -lt 5 ] || [ "$PRESSES" -gt 2000 ]; then
    echo "hotline_bench.sh: HB_SECONDS must be 5..120 and HB_PRESSES at most 2000" >&2
    exit 2
fi

TMP=$(mktemp -d -t linli-hotline.XXXXXX) # in $TMPDIR when set
PIDS=()
BROKERS=()
cleanup() {
    local pid dir
    for pid in "${PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    for dir in "${BROKERS[@]}"; do
        scripts/mosquitto.sh stop "$dir" 2>/dev/null || true
    done
    if [ "${HB_KEEP:-0}" = 1 ]; then
        echo "hotline_bench.sh: kept $TMP" >&2
    else
        rm -rf "$TMP"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
now() { date +%s.%N; }
scrape() { # port file
    curl -sf --max-time 5 -o "$2" "http://127.0.0.1:$1/metrics"
}
metric() { # file series -> value (0 when absent)
    awk -v n="$2" '$1 == n {print $2; found = 1; exit} END {if (!found) print 0}' "$1"
}
cpu_ticks() { # pid -> user + system clock ticks
    awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0
}
# Waits for a step started in the background: unlike a step in the foreground, `wait`
# lets the INT/TERM trap clean up at once. Returns the step's status.
run_bg() {
    PIDS+=("$1")
    wait "$1"
}
stop_pid() {
    kill -TERM "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}
TICKS=$(getconf CLK_TCK)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
START_S=$(date +%s)

# ---- 1. the database and the devices ----
TEMPLATE_DB=$TMP/template.db
if [ -n "$TEMPLATE" ]; then
    echo "== using $TEMPLATE" >&2
    cp "$TEMPLATE" "$TEMPLATE_DB"
else
    echo "== demo district at scale $SCALE (a few minutes at scale 1)" >&2
    t0=$(now)
    LINLI_ADMIN_PASSWORD=$PASSWORD "$BUILD/linli" --db "$TEMPLATE_DB" init >/dev/null
    timeout 1800 "$BUILD/linli" --db "$TEMPLATE_DB" demo --seed 1 --scale "$SCALE" \
        >"$TMP/demo.txt" 2>"$TMP/demo.err"
    printf '%s\n%s\n' "$OP_PASSWORD" "$OP_PASSWORD" |
        "$BUILD/linli" --db "$TEMPLATE_DB" user add "$OP_USER" --role operator --scope 110105 >/dev/null
    echo "   $(python3 -c "print(f'{$(now) - $t0:.0f}')") s" >&2
fi
DEVICES=$TMP/devices.txt
sqlite3 -separator ' ' "$TEMPLATE_DB" \
    "SELECT d.id, d.serial, d.secret, s.person_id FROM devices d
     JOIN subscriptions s ON s.device_id = d.id AND s.ends_at IS NULL
     WHERE d.status = 'active' ORDER BY d.id" >"$DEVICES"
NDEV=$(wc -l <"$DEVICES")
[ "$NDEV" -gt 0 ] || { echo "hotline_bench.sh: the demo made no devices" >&2; exit 1; }
echo "== $NDEV subscribed devices" >&2

RESULTS=$TMP/results.tsv
: >"$RESULTS"

start_sampler() { # port file: the accepted-heartbeat counter every 0.5 s (at most 20 min)
    (
        for _ in $(seq 2400); do
            t=$(now)
            if scrape "$1" "$2.m" 2>/dev/null; then
                echo "$t $(metric "$2.m" "$HB_SERIES")" >>"$2"
            fi
            sleep 0.5
        done
    ) &
    SAMPLER=$!
    PIDS+=("$SAMPLER")
}

wait_drained() { # port: until the counter stands still for 2 s (at most 120 s)
    local last=-1 still=0 v
    for _ in $(seq 240); do
        scrape "$1" "$TMP/drain.m" || return 1
        v=$(metric "$TMP/drain.m" "$HB_SERIES")
        if [ "$v" = "$last" ]; then
            still=$((still + 1))
            [ "$still" -ge 4 ] && return 0
        else
            still=0
        fi
        last=$v
        sleep 0.5
    done
}

# Flush and store counters into "name=value ..." (deltas are taken in the report).
store_counters() { # metrics file
    local f=$1
    echo "flushes=$(metric "$f" linli_device_flushes_total)" \
        "rows=$(metric "$f" linli_device_flushed_rows_total)" \
        "commit_sum=$(metric "$f" linli_store_commit_seconds_sum)" \
        "commit_n=$(metric "$f" linli_store_commit_seconds_count)" \
        "batch_sum=$(metric "$f" linli_store_batch_size_sum)" \
        "accepted=$(metric "$f" "$HB_SERIES")" \
        "keys=$(metric "$f" 'linli_device_events_total{door="mqtt",kind="key",outcome="accepted"}')" \
        "$(awk -F'[{}" ]+' '/^linli_store_commit_seconds_bucket/ {printf "le%s=%s ", $3, $4}' "$f")"
}

best_rate() { # clients -> best QoS 1 accepted rate measured for this setting (0 if none)
    awk -F'\t' -v c="$1" '$1 == "tp" && $2 == c && $3 == 1 {print $7}' "$RESULTS" |
        sort -n | tail -1
}

# (a) heartbeats flat out at QoS $1 for SECS, on the linlid and broker started last.
throughput_phase() {
    local qos=$1 samples before after l0 l1 b0 b1 t0 t1 td0 td1 load_line window_rate
    samples=$TMP/samples-$clients-$qos.txt
    : >"$samples"
    start_sampler "$HTTP_PORT" "$samples"
    sleep 1
    scrape "$HTTP_PORT" "$TMP/before.m"
    before=$(store_counters "$TMP/before.m")
    l0=$(cpu_ticks "$LINLID")
    b0=$(cpu_ticks "$MQ_PID")
    t0=$(now)
    timeout $((SECS + 60)) "$BUILD/bench/hotline_load" load --port "$MQ_PORT" \
        --devices "$DEVICES" --clients "$LOAD_CLIENTS" --qos "$qos" --seconds "$SECS" \
        >"$TMP/load-$clients-$qos.txt" &
    run_bg $!
    t1=$(now)
    l1=$(cpu_ticks "$LINLID")
    b1=$(cpu_ticks "$MQ_PID")
    td0=$(now)
    wait_drained "$HTTP_PORT"
    td1=$(now)
    stop_pid "$SAMPLER"
    scrape "$HTTP_PORT" "$TMP/after.m"
    after=$(store_counters "$TMP/after.m")
    load_line=$(grep '^LOAD ' "$TMP/load-$clients-$qos.txt")
    window_rate=$(python3 - "$samples" "$t0" "$t1" "$WARMUP" <<'PY'
import sys
path, t0, t1, warm = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
pts = [tuple(map(float, l.split())) for l in open(path) if len(l.split()) == 2]
def at(t):  # the counter at time t, by linear interpolation between samples
    for (ta, va), (tb, vb) in zip(pts, pts[1:]):
        if ta <= t <= tb:
            return va + (vb - va) * (t - ta) / (tb - ta) if tb > ta else va
    return pts[0][1] if t < pts[0][0] else pts[-1][1]
a, b = t0 + warm, t1
print(f"{(at(b) - at(a)) / (b - a):.0f}")
PY
)
    printf 'tp\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$clients" "$qos" "$load_line" \
        "$before" "$after" "$window_rate" \
        "$(python3 -c "print(f'{($l1 - $l0) / $TICKS / ($t1 - $t0):.2f}')")" \
        "$(python3 -c "print(f'{($b1 - $b0) / $TICKS / ($t1 - $t0):.2f}')")" \
        "$(python3 -c "print(f'{$td1 - $td0:.1f}')")" "$(python3 -c "print(f'{$t1 - $t0:.2f}')")" \
        >>"$RESULTS"
    echo "   QoS $qos flat out: $load_line; linlid accepted $window_rate/s" >&2
}

# (b) or (c): PRESSES key presses, with no load ($1 = idle) or under a heartbeat load.
press_phase() {
    local phase=$1 target=0 load_pid='' best before after t0 t1 pop_line load_line=- seed=1
    if [ "$phase" = load ]; then
        seed=2
        target=$RATE
        best=$(best_rate "$clients")
        if [ -n "$best" ] && [ "$best" -gt 0 ] && [ "$((best * 9 / 10))" -lt "$target" ]; then
            target=$((best * 9 / 10))
        fi
        "$BUILD/bench/hotline_load" load --port "$MQ_PORT" --devices "$DEVICES" \
            --clients "$LOAD_CLIENTS" --qos 1 --rate "$target" --seconds "$LOAD_MAX_S" \
            >"$TMP/load-$clients-press.txt" &
        load_pid=$!
        PIDS+=("$load_pid")
        sleep "$WARMUP"
    fi
    scrape "$HTTP_PORT" "$TMP/before.m"
    before=$(store_counters "$TMP/before.m")
    t0=$(now)
    timeout 1200 python3 bench/hotline_popper.py "127.0.0.1:$HTTP_PORT" "$OP_USER" \
        "$OP_PASSWORD" "$DEVICES" --press-cmd "$BUILD/bench/hotline_load press --port $MQ_PORT" \
        --presses "$PRESSES" --gap-ms "$GAP_MS" --seed "$clients$seed" --run-id "$phase$clients" \
        --samples "$TMP/pop-$clients-$phase.txt" >"$TMP/pop-$clients-$phase.out" &
    run_bg $! || true
    t1=$(now)
    pop_line=$(grep '^POP ' "$TMP/pop-$clients-$phase.out" || true)
    scrape "$HTTP_PORT" "$TMP/after.m"
    after=$(store_counters "$TMP/after.m")
    if [ -n "$load_pid" ]; then
        stop_pid "$load_pid"
        load_line=$(grep '^LOAD ' "$TMP/load-$clients-press.txt" || echo -)
        wait_drained "$HTTP_PORT" || true
    fi
    printf 'lat\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$clients" "$phase" "$target" "$pop_line" \
        "$before" "$after" "$(python3 -c "print(f'{$t1 - $t0:.2f}')")" "$load_line" >>"$RESULTS"
    echo "   presses, $phase (heartbeats $target/s): ${pop_line:-no result}" >&2
}

for clients in $CLIENTS; do
    echo "== linlid --mqtt-clients $clients" >&2
    mq=$TMP/mq-$clients
    MQ_PORT=$(scripts/mosquitto.sh start "$mq" 2>"$TMP/mq-$clients.err")
    BROKERS+=("$mq")
    MQ_PID=$(cat "$mq/mosquitto.pid")
    db=$TMP/run-$clients.db
    cp "$TEMPLATE_DB" "$db"
    HTTP_PORT=$(free_port)
    LINLI_ADMIN_PASSWORD=$PASSWORD "$BUILD/linlid" --db "$db" --listen "127.0.0.1:$HTTP_PORT" \
        --static-dir "" --log-requests=false --log-level warn \
        --mqtt "127.0.0.1:$MQ_PORT" --mqtt-clients "$clients" --device-silent-s 0 \
        2>>"$TMP/linlid-$clients.err" &
    LINLID=$!
    PIDS+=("$LINLID")
    up=0
    for _ in $(seq 100); do
        if scrape "$HTTP_PORT" "$TMP/up.m" 2>/dev/null &&
            [ "$(metric "$TMP/up.m" linli_mqtt_clients_connected)" = "$clients" ]; then
            up=1
            break
        fi
        sleep 0.1
    done
    [ "$up" = 1 ] || { echo "hotline_bench.sh: linlid did not connect to the broker" >&2; cat "$TMP/linlid-$clients.err" >&2; exit 1; }

    # The quiet baseline first, before any load has filled the WAL.
    press_phase idle
    for qos in $QOS_LIST; do
        throughput_phase "$qos"
    done
    sleep "$SETTLE"
    press_phase load

    # The broker's own count of dropped messages ($SYS is published every 10 s).
    # shellcheck disable=SC2016 # $SYS is the broker's topic, not a variable
    dropped=$(timeout 15 mosquitto_sub -p "$MQ_PORT" -t '$SYS/broker/publish/messages/dropped' -W 11 2>/dev/null | tail -1 || true)
    printf 'broker\t%s\t%s\n' "$clients" "${dropped:-0}" >>"$RESULTS"
    stop_pid "$LINLID"
    scripts/mosquitto.sh stop "$mq"
done

# ---- report ----
MODEL=$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1)
MEM_GB=$(awk '/MemTotal/ {printf "%.0f", $2 / 1048576}' /proc/meminfo)
FS=$(df -T "$TMP" | awk 'NR == 2 {print $2}')
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
MOSQ=$( (mosquitto -h 2>/dev/null || true) | sed -n 's/^mosquitto version //p' | head -1)
mkdir -p "$(dirname "$OUT")"
python3 - "$RESULTS" >"$TMP/report.md" <<PY
import sys
def kv(s):
    return {k: float(v) for k, v in (x.split("=", 1) for x in s.split()) if v not in ("nan",)}
def commits(B, A, over=0.025):
    """Store commits between two scrapes: how many, how many took longer than over seconds,
    and the upper bound of the slowest histogram bucket reached (s)."""
    les = sorted(float(k[2:]) for k in A if k.startswith("le") and k != "le+Inf")
    d = {le: A[f"le{le:g}"] - B.get(f"le{le:g}", 0) for le in les}
    n = A["commit_n"] - B["commit_n"]
    slow = n - max((d[le] for le in les if le <= over), default=0)
    top = next((le for le in les if d[le] >= n), float("inf"))
    return n, slow, top
tp, lat, drops = [], [], {}
for line in open(sys.argv[1]):
    f = line.rstrip("\n").split("\t")
    if f[0] == "tp":
        tp.append(f)
    elif f[0] == "lat":
        lat.append(f)
    elif f[0] == "broker":
        drops[f[1]] = f[2]
print("## One-key call centre: heartbeats through the broker, key press to screen pop")
print()
print(f"$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs ($MODEL), ${MEM_GB} GB RAM, database on $FS;")
print(f"release build (\`$BUILD\`), Mosquitto $MOSQ. \`bench/hotline_bench.sh\` with HB_SCALE=$SCALE "
      f"($NDEV subscribed devices), HB_SECONDS=$SECS, HB_LOAD_CLIENTS=$LOAD_CLIENTS, "
      f"HB_PRESSES=$PRESSES, HB_RATE=$RATE; load average $LOAD_START before, $LOAD_END after "
      f"($(( $(date +%s) - START_S )) s in all).")
print()
print("### Heartbeats flat out (linlid's accepted rate is the figure)")
print()
print("| linlid --mqtt-clients | QoS | published/s | linlid accepted/s | lost | drain s | "
      "linlid CPU | broker CPU | load CPU | flushes | rows/flush | commits | over 25 ms | slowest ≤ ms |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for f in tp:
    _, c, q, load, before, after, wr, lcpu, bcpu, drain, secs = f
    L, B, A = kv(load.replace("LOAD ", "")), kv(before), kv(after)
    lost = L["published"] - (A["accepted"] - B["accepted"])
    fl = A["flushes"] - B["flushes"]
    rows = A["rows"] - B["rows"]
    n, slow, top = commits(B, A)
    print(f"| {c} | {q} | {L['rate']:,.0f} | **{float(wr):,.0f}** | {lost:,.0f} | {drain} | "
          f"{lcpu} | {bcpu} | {L['cpu_s'] / float(secs):.2f} | {fl:.0f} | "
          f"{rows / fl if fl else 0:,.0f} | {n:.0f} | {slow:.0f} | {1000 * top:g} |")
print()
print("### Key press to screen pop (console.offer on the operator's stream)")
print()
print("| linlid --mqtt-clients | heartbeat load | accepted/s meanwhile | presses | p50 ms | p90 ms | "
      "p99 ms | max ms | missing | flushes | rows/flush | commits | over 25 ms | slowest ≤ ms |")
print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for f in lat:
    _, c, phase, target, pop, before, after, secs, load = f
    P, B, A = kv(pop.replace("POP ", "")), kv(before), kv(after)
    rate = (A["accepted"] - B["accepted"]) / float(secs)
    fl = A["flushes"] - B["flushes"]
    rows = A["rows"] - B["rows"]
    n, slow, top = commits(B, A)
    what = "none" if phase == "idle" else f"{int(target):,}/s QoS 1"
    p99 = P.get("p99_ms", float("nan"))
    print(f"| {c} | {what} | {rate:,.0f} | {P.get('n', 0):.0f} | {P.get('p50_ms', float('nan')):.1f} | "
          f"{P.get('p90_ms', float('nan')):.1f} | **{p99:.1f}** | {P.get('max_ms', float('nan')):.1f} | "
          f"{P.get('missing', 0):.0f} | {fl:.0f} | {rows / fl if fl else 0:,.0f} | {n:.0f} | {slow:.0f} | "
          f"{1000 * top:g} |")
print()
print("Broker's dropped messages (\`\$SYS/broker/publish/messages/dropped\`): " +
      ", ".join(f"{drops[c] or 0} with {c} linlid clients" for c in drops) + ".")
PY
cat "$TMP/report.md"
cp "$TMP/report.md" "$OUT"
echo "written to $OUT" >&2
