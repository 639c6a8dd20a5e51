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
# The MQTT door: a broker on a free loopback port unless LINLI_MQTT names one
# (linlid reads LINLI_MQTT itself); stopped when linlid stops.
BROKER_DIR=
stop_broker() {
  if [ -n "$BROKER_DIR" ]; then
    scripts/mosquitto.sh stop "$BROKER_DIR" || true
    rm -rf "$BROKER_DIR"
    BROKER_DIR=
  fi
}
MQTT_FLAG=
if [ -z "${LINLI_MQTT:-}" ]; then
  if command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ]; then
    BROKER_DIR=$(mktemp -d "${TMPDIR:-/tmp}/linli-mqtt.XXXXXX")
    trap stop_broker EXIT
    trap 'stop_broker; exit 130' INT TERM
    MQTT_PORT=$(scripts/mosquitto.sh start "$BROKER_DIR")
    MQTT_FLAG="--mqtt=127.0.0.1:$MQTT_PORT"
    echo "linli: MQTT broker for devices on 127.0.0.1:$MQTT_PORT (topics linli/devices/{serial}/events)"
  else
    echo "linli: mosquitto is not installed; the MQTT door for devices is off"
  fi
else
  echo "linli: devices' MQTT broker: $LINLI_MQTT"
fi
# The demo's call devices are records, not live devices: nothing sends their
# heartbeats, so the silent-device watchdog stays off unless asked for.
export LINLI_DEVICE_SILENT_S=${LINLI_DEVICE_SILENT_S:-0}
"$BIN/linlid" --db "$DB" --listen "$LISTEN" --static-dir web $MQTT_FLAG
