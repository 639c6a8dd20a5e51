#!/usr/bin/env bash
# bench/directory_bench.sh - the service directory at district scale (10,000
# facilities, 1,000,000 elderly): nearest 10 and within 15 minutes, the whole
# coverage report and the site plan, beside a brute-force scan and beside
# PostGIS on the same data, in one run (ratios, and whether the answers agree).
#
#  1. starts a private PostgreSQL 15 cluster with PostGIS in a temporary
#     directory, on 127.0.0.1 and a free port (as the postgres user when run
#     as root: initdb refuses root);
#  2. directory_bench (bench/directory_bench.c) makes a fresh store, imports
#     the Chaoyang areas, generates and imports the facilities and the people,
#     loads the same points into PostGIS, and times the three methods side by
#     side (markdown on the way out);
#  3. the cluster is stopped; linlid serves the generated database and
#     bench/directory_latency.py times the same searches and the coverage
#     report over HTTP, checking the answers against directory_search's.
#
# Run by hand after a release build (not part of the tests; no timing is ever
# asserted):  cmake --preset release && cmake --build --preset release
#             bench/directory_bench.sh
# Needs postgresql-15, postgresql-15-postgis-3 and libpq-dev (deps/debian-extra.txt).
# Prints a markdown section and writes it to bench/results/directory.md.
# Settings (environment): DIR_FACILITIES (10000), DIR_PEOPLE (1000000),
# DIR_QUERIES (2000), DIR_SEED (1), DIR_BRUTE_EVERY (1: the coverage scan takes
# every person; k > 1 takes every k-th and extrapolates), BENCH_BUILD
# (build/release), PGBIN (/usr/lib/postgresql/15/bin), DIR_KEEP=1 keeps the
# temporary directories, TMPDIR (must be reachable by the postgres user when
# run as root).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=${BENCH_BUILD:-build/release}
FACILITIES=${DIR_FACILITIES:-10000}
PEOPLE=${DIR_PEOPLE:-1000000}
QUERIES=${DIR_QUERIES:-2000}
SEED=${DIR_SEED:-1}
BRUTE_EVERY=${DIR_BRUTE_EVERY:-1}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
PASSWORD=bench-password-123
OUT=bench/results/directory.md

die() { echo "directory_bench.sh: $*" >&2; exit 2; }
for tool in python3 curl timeout; do
    command -v "$tool" >/dev/null || die "$tool is needed"
done
for bin in "$BUILD/linlid" "$BUILD/bench/directory_bench"; do
    [ -x "$bin" ] || die "$bin missing; run: cmake --preset release && cmake --build --preset release (directory_bench needs libpq-dev)"
done
for bin in initdb pg_ctl psql; do
    [ -x "$PGBIN/$bin" ] || die "$PGBIN/$bin missing; install postgresql-15 (make deps-extra)"
done
PGSHARE=$("$PGBIN/pg_config" --sharedir 2>/dev/null || echo /usr/share/postgresql/15)
[ -f "$PGSHARE/extension/postgis.control" ] || die "PostGIS missing; install postgresql-15-postgis-3 (make deps-extra)"

# initdb and postgres refuse to run as root: as root, the cluster belongs to
# the postgres user (made by the postgresql packages), or to a system user
# made for this.
AS=()
if [ "$(id -u)" = 0 ]; then
    PGUSER_OS=postgres
    if ! id "$PGUSER_OS" >/dev/null 2>&1; then
        PGUSER_OS=linlibench
        id "$PGUSER_OS" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$PGUSER_OS"
    fi
    AS=(runuser -u "$PGUSER_OS" --)
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/linli-directory.XXXXXX")
PGDIR=$(mktemp -d "${TMPDIR:-/tmp}/linli-pg.XXXXXX")
[ ${#AS[@]} -gt 0 ] && chown "$PGUSER_OS" "$PGDIR"
PG_UP=0
PID=
stop_pg() {
    if [ "$PG_UP" = 1 ]; then
        "${AS[@]}" "$PGBIN/pg_ctl" -D "$PGDIR/data" -m fast -w stop >/dev/null 2>&1 || true
        PG_UP=0
    fi
}
cleanup() {
    if [ -n "$PID" ]; then
        kill -TERM "$PID" 2>/dev/null || true
        wait "$PID" 2>/dev/null || true
    fi
    stop_pg
    if [ "${DIR_KEEP:-0}" = 1 ]; then
        echo "directory_bench.sh: kept $TMP and $PGDIR" >&2
    else
        rm -rf "$TMP" "$PGDIR"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

T_START=$(date +%s)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')

# ---- PostgreSQL with PostGIS, private to this run ----
echo "== starting PostgreSQL in $PGDIR" >&2
PGPORT=$(free_port)
"${AS[@]}" "$PGBIN/initdb" -D "$PGDIR/data" -U postgres -A trust -E UTF8 --no-locale \
    >"$TMP/initdb.log" 2>&1 || { cat "$TMP/initdb.log" >&2; die "initdb failed"; }
# Durability is off for the load (it is not what is compared); memory as on
# a small server.
PG_SETTINGS="-c shared_buffers=1GB -c work_mem=64MB -c maintenance_work_mem=512MB -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
"${AS[@]}" "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/server.log" -w -t 60 \
    -o "-k $PGDIR -p $PGPORT -c listen_addresses=127.0.0.1 $PG_SETTINGS" start >/dev/null ||
    { cat "$PGDIR/server.log" >&2; die "PostgreSQL did not start"; }
PG_UP=1
CONN="host=127.0.0.1 port=$PGPORT user=postgres dbname=postgres"
"$PGBIN/psql" "$CONN" -qAtc 'CREATE EXTENSION postgis' >/dev/null
PG_VERSION=$("$PGBIN/psql" "$CONN" -qAtc 'SHOW server_version')
POSTGIS_VERSION=$("$PGBIN/psql" "$CONN" -qAtc 'SELECT postgis_lib_version()')
PG_PARALLEL=$("$PGBIN/psql" "$CONN" -qAtc 'SHOW max_parallel_workers_per_gather')

# ---- the store, the three methods side by side ----
echo "== directory_bench: $FACILITIES facilities, $PEOPLE people, $QUERIES origins" >&2
t0=$(date +%s)
timeout 7200 "$BUILD/bench/directory_bench" --work "$TMP" --data data/chaoyang --pg "$CONN" \
    --facilities "$FACILITIES" --people "$PEOPLE" --queries "$QUERIES" --seed "$SEED" \
    --brute-every "$BRUTE_EVERY" --out "$TMP/section.md" --expected "$TMP/expected.json" >&2
BENCH_S=$(($(date +%s) - t0))
stop_pg
DB_MB=$(python3 -c "import os; print(f'{os.path.getsize(\"$TMP/directory.db\") / 1e6:.0f}')")

# ---- the same through HTTP ----
echo "== linlid over HTTP" >&2
PORT=$(free_port)
LINLI_ADMIN_PASSWORD=$PASSWORD "$BUILD/linlid" --db "$TMP/directory.db" --listen "127.0.0.1:$PORT" \
    --static-dir "" --log-requests=false --log-level warn 2>"$TMP/linlid.err" &
PID=$!
for _ in $(seq 1 150); do
    curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done
TOKEN=$(curl -fs -H 'Content-Type: application/json' \
    -d "{\"username\":\"admin\",\"password\":\"$PASSWORD\"}" \
    "http://127.0.0.1:$PORT/api/v1/auth/login" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
HTTP_TABLE=$(timeout 3600 python3 bench/directory_latency.py "127.0.0.1:$PORT" "$TOKEN" \
    "$TMP/expected.json")

# ---- report ----
MODEL=$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1)
MEM_GB=$(awk '/MemTotal/ {printf "%.0f", $2 / 1048576}' /proc/meminfo)
FS=$(df -T "$TMP" | awk 'NR == 2 {print $2}')
SQLITE=$(pkg-config --modversion sqlite3 2>/dev/null || echo '?')
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')
TOTAL_S=$(($(date +%s) - T_START))

mkdir -p "$(dirname "$OUT")"
{
    echo "## Service directory (nearest, within 15 minutes, coverage, site plan)"
    echo
    echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs ($MODEL), ${MEM_GB} GB RAM, database on $FS;"
    echo "release build (\`$BUILD\`), SQLite $SQLITE, PostgreSQL $PG_VERSION with PostGIS $POSTGIS_VERSION"
    echo "(a private cluster on 127.0.0.1: shared_buffers 1GB, fsync off for the load,"
    echo "max_parallel_workers_per_gather $PG_PARALLEL). \`bench/directory_bench.sh\` with"
    echo "DIR_FACILITIES=$FACILITIES, DIR_PEOPLE=$PEOPLE, DIR_QUERIES=$QUERIES, DIR_SEED=$SEED,"
    echo "DIR_BRUTE_EVERY=$BRUTE_EVERY: ${TOTAL_S} s in all (directory_bench ${BENCH_S} s; the store"
    echo "afterwards ${DB_MB} MB). Load average before: $LOAD_START, after: $LOAD_END."
    echo
    cat "$TMP/section.md"
    echo "### Through HTTP (linlid, one keep-alive connection, sequential requests)"
    echo
    echo "The same origins, the answers compared id by id with directory_search's above."
    echo
    echo "$HTTP_TABLE"
} | tee "$OUT"
