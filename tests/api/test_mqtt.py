"""The MQTT door: linlid (--mqtt) subscribed to a real Mosquitto broker on a
free loopback port. Devices' signed envelopes are published with
mosquitto_pub; the call appears, the ack arrives on the device's ack topic,
a repeat is a duplicate of the same call, bad signatures, foreign topics and
broken envelopes are counted; messages published while linlid is down are
taken when it is back (persistent sessions); a broker that cannot be reached
stops the start."""
import hashlib
import hmac
import itertools
import json
import os
import re
import sqlite3
import subprocess
import time

import pytest

from conftest import (ADMIN_PASSWORD, SHARED_FLAGS, SOURCE_DIR, assert_no_sanitizer_report,
                      free_port, run_cli, run_linlid)

DATA = os.path.join(SOURCE_DIR, "data", "chaoyang")
HERE = "110105001024"
_seq = itertools.count(700)
_serials = itertools.count(1)


def make_id(birth="19380101"):
    first17 = f"110105{birth}{next(_seq) % 1000:03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return first17 + "10X98765432"[sum(int(c) * w for c, w in zip(first17, weights)) % 11]


def envelope(serial, secret, event, ts=None, signature=None, device=None):
    body = json.dumps(event, ensure_ascii=False)
    ts = str(int(time.time())) if ts is None else ts
    sig = signature or hmac.new(bytes.fromhex(secret), f"{ts}.{body}".encode(),
                                hashlib.sha256).hexdigest()
    return json.dumps({"device": device or serial, "timestamp": ts, "signature": sig,
                       "body": body}, ensure_ascii=False)


def publish(broker, topic, payload, qos=1):
    r = subprocess.run(["mosquitto_pub", "-h", broker.host, "-p", str(broker.port), "-q",
                        str(qos), "-t", topic, "-m", payload], capture_output=True, text=True,
                       timeout=20)
    assert r.returncode == 0, r.stderr


class AckWaiter:
    """mosquitto_sub on one ack topic, ready (SUBACK seen) before the publish."""

    def __init__(self, broker, topic, count=1):
        self.proc = subprocess.Popen(
            # line-buffered, so "Subscribed" is read as soon as it is printed
            ["stdbuf", "-oL", "mosquitto_sub", "-d", "-h", broker.host, "-p", str(broker.port), "-q", "1",
             "-t", topic, "-C", str(count), "-W", "10"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines = []
        for _ in range(50):
            line = self.proc.stdout.readline()
            if not line:
                break
            self.lines.append(line)
            if line.startswith("Subscribed"):
                return
        raise AssertionError("mosquitto_sub did not subscribe: " + "".join(self.lines))

    def messages(self):
        out, _ = self.proc.communicate(timeout=20)
        text = "".join(self.lines) + out
        return [json.loads(l) for l in text.splitlines() if l.startswith("{")]


def metric(c, name, **labels):
    st, h, text = c.get("/metrics")
    assert st == 200
    total = 0.0
    for line in text.splitlines():
        m = re.match(r"^(\w+)(\{[^}]*\})? (\S+)$", line)
        if m and m.group(1) == name and all(f'{k}="{v}"' in (m.group(2) or "")
                                            for k, v in labels.items()):
            total += float(m.group(3))
    return total


def wait_until(pred, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    return pred()


def db_rows(db, sql, *params):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def cli(*args):
    r = run_cli([str(a) for a in args], env={"LINLI_ADMIN_PASSWORD": ADMIN_PASSWORD},
                timeout=120)
    assert_no_sanitizer_report(r.stderr, "linli")
    assert r.returncode == 0, r.stderr


# --------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def db(module_factory):
    path = module_factory.new_db_path()
    cli("--db", path, "init")
    cli("--db", path, "import", "areas", "--dir", DATA)
    return path


@pytest.fixture(scope="module")
def srv(module_factory, db, mosquitto_broker):
    return module_factory.start(*SHARED_FLAGS, "--mqtt", mosquitto_broker.hostport,
                                "--mqtt-clients", "2", db=db)


@pytest.fixture(scope="module")
def c(srv):
    return srv.client


@pytest.fixture(scope="module")
def person(c, srv):
    st, h, b = c.post("/api/v1/people", {"name": "马淑珍", "id_number": make_id(),
                                         "community_code": HERE, "consent": True},
                      token=srv.admin_token())
    assert st == 201, b
    return b


def new_device(c, srv, person=None):
    token = srv.admin_token()
    st, h, d = c.post("/api/v1/devices", {"serial": f"MQ{os.getpid() % 10000}-{next(_serials)}"},
                      token=token)
    assert st == 201, d
    if person:
        st, h, b = c.post("/api/v1/subscriptions", {"device_id": d["id"],
                                                    "person_id": person["id"]}, token=token)
        assert st == 201, b
    return d


def topic(serial, kind="events"):
    return f"linli/devices/{serial}/{kind}"


# --------------------------------------------------------------------------- tests

def test_key_press_makes_a_call_and_an_ack(c, srv, mosquitto_broker, person):
    d = new_device(c, srv, person)
    acks = AckWaiter(mosquitto_broker, topic(d["serial"], "acks"), count=2)
    ev = {"event_id": "mq-1", "type": "key", "key": "health"}
    publish(mosquitto_broker, topic(d["serial"]), envelope(d["serial"], d["secret"], ev))
    # the device did not see the ack in time and sends it again
    publish(mosquitto_broker, topic(d["serial"]), envelope(d["serial"], d["secret"], ev))
    # Two client threads may take the two copies at once: either answer may
    # come first, but exactly one is the accepted one and both name its call.
    got = acks.messages()
    assert sorted(a["status"] for a in got) == ["accepted", "duplicate"], got
    assert all(a["event_id"] == "mq-1" for a in got)
    assert got[0]["call_id"] > 0 and got[1]["call_id"] == got[0]["call_id"]
    rows = db_rows(srv.db, "SELECT trigger, person_id FROM calls WHERE device_id = ?", d["id"])
    assert rows == [("health", person["id"])]
    assert db_rows(srv.db, "SELECT door FROM device_events WHERE device_id = ?",
                   d["id"]) == [("mqtt",)]
    assert metric(c, "linli_mqtt_messages_total", outcome="duplicate") >= 1
    assert metric(c, "linli_mqtt_acks_total") >= 2
    assert metric(c, "linli_mqtt_clients_connected") == 2


def test_heartbeat_updates_the_device(c, srv, mosquitto_broker):
    d = new_device(c, srv)
    publish(mosquitto_broker, topic(d["serial"]),
            envelope(d["serial"], d["secret"], {"event_id": "hb", "type": "heartbeat",
                                                 "battery": 42, "signal": -90}))

    def seen():
        st, h, b = c.get(f"/api/v1/devices/{d['id']}", token=srv.admin_token())
        return b["battery"] == 42 and b

    b = wait_until(seen)
    assert b and b["signal"] == -90 and b["last_seen_at"], b


def test_refusals_are_counted_and_store_nothing(c, srv, mosquitto_broker, person):
    d = new_device(c, srv, person)
    other = new_device(c, srv, person)
    bad_sig = metric(c, "linli_device_events_total", door="mqtt", outcome="bad_signature")
    bad_topic = metric(c, "linli_mqtt_messages_total", outcome="bad_topic")
    bad_env = metric(c, "linli_mqtt_messages_total", outcome="bad_envelope")
    replayed = metric(c, "linli_device_events_total", door="mqtt", outcome="replayed")
    ev = {"event_id": "no", "type": "key", "key": "emergency"}
    publish(mosquitto_broker, topic(d["serial"]),
            envelope(d["serial"], d["secret"], ev, signature="ab" * 32))
    # signed by the right device but sent on another device's topic
    publish(mosquitto_broker, topic(other["serial"]), envelope(d["serial"], d["secret"], ev))
    publish(mosquitto_broker, topic(d["serial"]), '{"device": "x", "body": 5}')
    publish(mosquitto_broker, topic(d["serial"]), "not json")
    publish(mosquitto_broker, topic(d["serial"]),
            envelope(d["serial"], d["secret"], ev, ts=str(int(time.time()) - 3600)))
    assert wait_until(lambda: metric(c, "linli_device_events_total", door="mqtt",
                                     outcome="replayed") == replayed + 1)
    assert wait_until(lambda: metric(c, "linli_device_events_total", door="mqtt",
                                     outcome="bad_signature") == bad_sig + 1)
    assert wait_until(lambda: metric(c, "linli_mqtt_messages_total",
                                     outcome="bad_topic") == bad_topic + 1)
    assert wait_until(lambda: metric(c, "linli_mqtt_messages_total",
                                     outcome="bad_envelope") == bad_env + 2)
    for dev in (d, other):
        assert db_rows(srv.db, "SELECT COUNT(*) FROM device_events WHERE device_id = ?",
                       dev["id"]) == [(0,)]
    assert "mqtt: message on" in srv.stderr()


def test_messages_sent_while_linlid_is_down_are_taken_later(module_factory, srv, c, db,
                                                            mosquitto_broker, person):
    d = new_device(c, srv, person)
    module_factory.stop(srv)
    ev = {"event_id": "while-down", "type": "fall"}
    publish(mosquitto_broker, topic(d["serial"]), envelope(d["serial"], d["secret"], ev))
    back = module_factory.start(*SHARED_FLAGS, "--mqtt", mosquitto_broker.hostport,
                                "--mqtt-clients", "2", db=db)
    rows = wait_until(lambda: db_rows(back.db, "SELECT call_id FROM device_events"
                                      " WHERE device_id = ? AND event_id = 'while-down'",
                                      d["id"]))
    assert rows and rows[0][0], rows
    assert db_rows(back.db, "SELECT trigger, priority FROM calls WHERE id = ?",
                   rows[0][0]) == [("fall", 0)]


def test_unreachable_broker_stops_the_start(tmp_path):
    r = run_linlid(["--db", str(tmp_path / "x.db"), "--listen", f"127.0.0.1:{free_port()}",
                    "--static-dir", "", "--mqtt", f"127.0.0.1:{free_port()}"],
                   env={"LINLI_ADMIN_PASSWORD": ADMIN_PASSWORD})
    assert r.returncode == 1, r.stderr
    assert "MQTT broker" in r.stderr
    assert_no_sanitizer_report(r.stderr)
    r = run_linlid(["--db", str(tmp_path / "y.db"), "--listen", f"127.0.0.1:{free_port()}",
                    "--static-dir", "", "--mqtt", "no-port-here"],
                   env={"LINLI_ADMIN_PASSWORD": ADMIN_PASSWORD})
    assert r.returncode == 1 and "HOST:PORT" in r.stderr, r.stderr
