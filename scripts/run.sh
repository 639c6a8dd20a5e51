#!/bin/sh
# Starts linlid from the release build on $LISTEN with the database $DB,
# creating the database and the admin account on first use.
set -eu
cd "$(dirname "$0")/.."
DB=${DB:-linli.db}
LISTEN=${LISTEN:-127.0.0.1:8080}
BIN=build/release
if [ ! -f "$DB" ]; then
  echo "linli: creating the database $DB with a demo district (seed ${DEMO_SEED:-1})"
  if ! "$BIN/linli" --db "$DB" init || \
     ! "$BIN/linli" --db "$DB" demo --seed "${DEMO_SEED:-1}" --scale "${DEMO_SCALE:-1}"; then
    echo "linli: could not build the demo database; removing the partial $DB" >&2
    rm -f "$DB" "$DB-wal" "$DB-shm"
    exit 1
  fi
  echo
fi
echo "linli: starting linlid on http://$LISTEN  (Ctrl-C stops it)"
echo "linli: log in at http://$LISTEN/ or with:"
echo "         curl -s -X POST http://$LISTEN/api/v1/auth/login -H 'Content-Type: application/json' \\"
echo "              -d '{\"username\":\"admin\",\"password\":\"...\"}'"
echo "       forgot the admin password?  $BIN/linli --db $DB user passwd admin"
echo
exec "$BIN/linlid" --db "$DB" --listen "$LISTEN" --static-dir web
