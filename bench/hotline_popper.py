#!/usr/bin/env python3
"""bench/hotline_popper.py - key press to screen pop, as an operator sees it.

An operator's console against a running linlid with its MQTT door:

  1. logs in, opens GET /api/v1/console/events (server-sent events) and waits
     for console.sync, then sets its presence to available;
  2. PRESSES times: a subscribed device from DEVICES (drawn without
     replacement) presses a key, published through the broker by
     `hotline_load press` (one persistent MQTT connection; it prints the time
     just before each publish); the time from that publish to the arrival of
     the console.offer for that caller (matched by the call's person_id) on
     the stream is one sample;
  3. answers and closes the call over HTTP (so the operator is free for the
     next press), then waits a random 0..GAP ms, so presses land at every
     phase of the server's 2 s heartbeat flush.

Every wait is bounded (--timeout per press). Prints one line

  POP n=N missing=M p50_ms=.. p90_ms=.. p99_ms=.. max_ms=.. mean_ms=.. pops_null=K strays=S

(strays: offers for calls this run did not make, answered and closed so that they do not
hold the operator; there are none on a fresh server.)

and, with --samples FILE, writes each sample (ms) on its own line.

  hotline_popper.py HOST:PORT USER PASSWORD DEVICES --press-cmd "hotline_load press --port P"
                    [--presses 200] [--gap-ms 200] [--timeout 10] [--seed 1]
"""
import argparse
import http.client
import json
import queue
import random
import shlex
import statistics
import subprocess
import sys
import threading
import time

KEYS = ["health", "service", "emergency", "family", "fire"]


def percentile(sorted_values, p):
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, round(p / 100 * (len(sorted_values) - 1))))
    return sorted_values[k]


class Console(threading.Thread):
    """Reads the console stream; puts (arrival_us, event, data) on a queue."""

    def __init__(self, host, port, token):
        super().__init__(daemon=True)
        self.events = queue.Queue()
        self.conn = http.client.HTTPConnection(host, port, timeout=60)
        self.conn.request("GET", "/api/v1/console/events",
                          headers={"Authorization": "Bearer " + token,
                                   "Accept": "text/event-stream"})
        self.resp = self.conn.getresponse()
        if self.resp.status != 200:
            raise SystemExit(f"hotline_popper: console stream answered {self.resp.status}: "
                             f"{self.resp.read()[:300]!r}")

    def run(self):
        event, data = None, []
        try:
            while True:
                line = self.resp.readline()
                if not line:
                    break
                line = line.rstrip(b"\r\n")
                if not line:
                    if event and data:
                        now = time.time_ns() // 1000
                        try:
                            payload = json.loads(b"\n".join(data))
                        except ValueError:
                            payload = None
                        self.events.put((now, event, payload))
                    event, data = None, []
                elif line.startswith(b"event:"):
                    event = line[6:].strip().decode()
                elif line.startswith(b"data:"):
                    data.append(line[5:].lstrip())
        except OSError:
            pass
        self.events.put((time.time_ns() // 1000, "closed", None))

    def wait_for(self, pred, timeout):
        """The first event for which pred(event, data) holds, or None at the timeout."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                t, ev, data = self.events.get(timeout=left)
            except queue.Empty:
                return None
            if ev == "closed":
                raise SystemExit("hotline_popper: the console stream ended")
            if pred(ev, data):
                return t, ev, data


def api(conn, method, path, token, body=None):
    headers = {"Authorization": "Bearer " + token}
    data = None
    if body is not None:
        data = json.dumps(body)
        headers["Content-Type"] = "application/json"
    conn.request(method, path, body=data, headers=headers)
    r = conn.getresponse()
    text = r.read()
    return r.status, (json.loads(text) if text else None)


def take(conn, token, call_id):
    """Answers and closes a call, so the operator is free for the next offer."""
    st, body = api(conn, "POST", f"/api/v1/calls/{call_id}/answer", token, {})
    if st != 200:
        raise SystemExit(f"hotline_popper: answer answered {st}: {body}")
    st, body = api(conn, "POST", f"/api/v1/calls/{call_id}/close", token, {"outcome": "bench"})
    if st != 200:
        raise SystemExit(f"hotline_popper: close answered {st}: {body}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("server")
    ap.add_argument("user")
    ap.add_argument("password")
    ap.add_argument("devices")
    ap.add_argument("--press-cmd", required=True)
    ap.add_argument("--presses", type=int, default=200)
    ap.add_argument("--gap-ms", type=int, default=200)
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--run-id", default=str(int(time.time())))
    ap.add_argument("--samples")
    a = ap.parse_args()
    host, port = a.server.rsplit(":", 1)
    port = int(port)
    rng = random.Random(a.seed)

    devices = []
    with open(a.devices) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 4:
                devices.append((parts[1], parts[2], int(parts[3])))
    if len(devices) < a.presses:
        raise SystemExit("hotline_popper: fewer subscribed devices than presses")
    chosen = rng.sample(devices, a.presses)

    http_conn = http.client.HTTPConnection(host, port, timeout=30)
    st, login = api(http_conn, "POST", "/api/v1/auth/login", "",
                    {"username": a.user, "password": a.password})
    if st != 200:
        raise SystemExit(f"hotline_popper: login answered {st}: {login}")
    token = login["token"]
    me = login["user"]["id"]

    console = Console(host, port, token)
    console.start()
    if not console.wait_for(lambda ev, d: ev == "console.sync", 10):
        raise SystemExit("hotline_popper: no console.sync")
    st, _ = api(http_conn, "PUT", "/api/v1/console/presence", token, {"state": "available"})
    if st != 200:
        raise SystemExit(f"hotline_popper: presence answered {st}")

    press = subprocess.Popen(shlex.split(a.press_cmd), stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, bufsize=1)
    samples, missing, pops_null, strays = [], 0, 0, 0
    try:
        for i, (serial, secret, person) in enumerate(chosen):
            event_id = f"press-{a.run_id}-{i}"
            press.stdin.write(f"{serial} {secret} {event_id} {KEYS[i % len(KEYS)]}\n")
            press.stdin.flush()
            sent = press.stdout.readline().split()
            if len(sent) != 3 or sent[0] != "SENT" or sent[1] != event_id:
                raise SystemExit(f"hotline_popper: the press helper said {sent!r}")
            t_sent = int(sent[2])
            deadline = time.monotonic() + a.timeout
            got = None
            while not got and time.monotonic() < deadline:
                got = console.wait_for(
                    lambda ev, d: ev == "console.offer" and d and d.get("operator_id") == me,
                    deadline - time.monotonic())
                if got and (got[2].get("call") or {}).get("person_id") != person:
                    # Not this press's call (one left from an earlier run): take it off the
                    # operator, who is offered nothing else while it rings.
                    strays += 1
                    take(http_conn, token, got[2]["call"]["id"])
                    got = None
            if not got:
                missing += 1
                print(f"hotline_popper: no offer within {a.timeout} s for press {i}",
                      file=sys.stderr)
                continue
            t_pop, _, offer = got
            samples.append((t_pop - t_sent) / 1000.0)
            if offer.get("screen_pop") is None:
                pops_null += 1
            take(http_conn, token, offer["call"]["id"])
            time.sleep(rng.uniform(0, a.gap_ms / 1000.0))
    finally:
        press.stdin.close()
        try:
            press.wait(timeout=10)
        except subprocess.TimeoutExpired:
            press.kill()

    s = sorted(samples)
    if a.samples:
        with open(a.samples, "w") as f:
            f.writelines(f"{x:.3f}\n" for x in samples)
    mean = statistics.mean(s) if s else float("nan")
    print(f"POP n={len(s)} missing={missing} p50_ms={percentile(s, 50):.2f} "
          f"p90_ms={percentile(s, 90):.2f} p99_ms={percentile(s, 99):.2f} "
          f"max_ms={(s[-1] if s else float('nan')):.2f} mean_ms={mean:.2f} "
          f"pops_null={pops_null} strays={strays}")


if __name__ == "__main__":
    main()
