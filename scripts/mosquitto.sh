#!/bin/sh
# mosquitto.sh - a Mosquitto broker on loopback, for `make run` and the tests.
#
#   scripts/mosquitto.sh start DIR [PORT]   starts a broker in the background with its
#                                           config, log and pid file in DIR (made if
#                                           missing), on 127.0.0.1:PORT (a free port when
#                                           not given); prints the port once it accepts
#                                           connections
#   scripts/mosquitto.sh stop DIR           stops the broker started in DIR
#
# Anonymous access on loopback only, no persistence to disk: the broker keeps
# persistent sessions (and the QoS 1 messages queued for them) while it runs.
set -eu

usage() {
  echo "usage: $0 start DIR [PORT] | stop DIR" >&2
  exit 2
}

find_broker() {
  for b in mosquitto /usr/sbin/mosquitto /usr/local/sbin/mosquitto; do
    if command -v "$b" >/dev/null 2>&1; then
      command -v "$b"
      return 0
    fi
  done
  echo "mosquitto.sh: no mosquitto broker installed (Debian: apt-get install mosquitto)" >&2
  exit 1
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

[ $# -ge 2 ] || usage
cmd=$1
dir=$2

case "$cmd" in
start)
  broker=$(find_broker)
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  port=${3:-$(free_port)}
  cat >"$dir/mosquitto.conf" <<CONF
# Written by scripts/mosquitto.sh: a broker for development and tests.
listener $port 127.0.0.1
allow_anonymous true
persistence false
pid_file $dir/mosquitto.pid
log_dest file $dir/mosquitto.log
log_type error
log_type warning
log_type notice
# Messages queued for a disconnected persistent session (linlid stopped):
# the default of 1000 would drop heartbeats after a few seconds of a restart.
max_queued_messages 200000
# QoS 1 messages in flight to one client before the broker waits for PUBACKs.
max_inflight_messages 200
# Stay the user who started it (as root, mosquitto would switch to the
# "mosquitto" user, who cannot write to DIR).
user $(id -un)
CONF
  rm -f "$dir/mosquitto.pid"
  "$broker" -c "$dir/mosquitto.conf" -d
  # Wait (at most 5 s) until it accepts connections.
  i=0
  while ! mosquitto_pub -h 127.0.0.1 -p "$port" -t linli/ping -n -q 0 >/dev/null 2>&1; do
    i=$((i + 1))
    if [ $i -ge 50 ]; then
      echo "mosquitto.sh: the broker did not start on 127.0.0.1:$port; see $dir/mosquitto.log" >&2
      exit 1
    fi
    sleep 0.1
  done
  echo "$port"
  ;;
stop)
  pidfile="$dir/mosquitto.pid"
  [ -f "$pidfile" ] || exit 0
  pid=$(cat "$pidfile")
  if kill "$pid" 2>/dev/null; then
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do
      i=$((i + 1))
      sleep 0.1
    done
  fi
  rm -f "$pidfile"
  ;;
*)
  usage
  ;;
esac
