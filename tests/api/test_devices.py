"""Devices, subscriptions and the HTTP door for device events
(POST /api/v1/device-events): a registered device subscribed to a person
presses a key and a call is made; the same event again is a duplicate of it;
a bad signature, an unknown device or an old timestamp is refused with 401
and stores nothing; malformed events are named field by field; an event
without a subscription is 409; heartbeats are 202 and reach the store after
the flush; every outcome moves /metrics."""
import hashlib
import hmac
import itertools
import json
import os
import re
import sqlite3
import time

import pytest

from conftest import (ADMIN_PASSWORD, SHARED_FLAGS, SOURCE_DIR, assert_no_sanitizer_report,
                      assert_problem, field_errors, run_cli)

DATA = os.path.join(SOURCE_DIR, "data", "chaoyang")
HERE = "110105001024"   # a community of street 建外 (110105001)
FAR = "110105002024"    # a community of street 朝外 (110105002)
PW = "devices-password-1"

_seq = itertools.count(300)


def make_id(birth="19400101"):
    first17 = f"110105{birth}{next(_seq) % 1000:03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return first17 + "10X98765432"[sum(int(c) * w for c, w in zip(first17, weights)) % 11]


def sign(secret_hex, timestamp, body):
    """What a device computes: hex HMAC-SHA256, key = the secret's 32 bytes."""
    if isinstance(body, str):
        body = body.encode()
    return hmac.new(bytes.fromhex(secret_hex), timestamp.encode() + b"." + body,
                    hashlib.sha256).hexdigest()


def send(c, serial, secret, event, ts=None, signature=None, raw=None):
    body = raw if raw is not None else json.dumps(event, ensure_ascii=False).encode()
    ts = str(int(time.time())) if ts is None else ts
    headers = {"X-Linli-Device": serial, "X-Linli-Timestamp": ts,
               "X-Linli-Signature": signature or sign(secret, ts, body)}
    return c.request("POST", "/api/v1/device-events", raw=body, headers=headers)


def cli(*args):
    r = run_cli([str(a) for a in args], env={"LINLI_ADMIN_PASSWORD": ADMIN_PASSWORD},
                timeout=120)
    assert_no_sanitizer_report(r.stderr, "linli")
    assert r.returncode == 0, r.stderr
    return r


def metric(c, name, **labels):
    st, h, text = c.get("/metrics")
    assert st == 200
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    total = 0.0
    for line in text.splitlines():
        m = re.match(r"^(\w+)(\{[^}]*\})? (\S+)$", line)
        if m and m.group(1) == name and all(f'{k}="{v}"' in (m.group(2) or "")
                                            for k, v in labels.items()):
            total += float(m.group(3))
    return total


def db_rows(srv, sql, *params):
    con = sqlite3.connect(f"file:{srv.db}?mode=ro", uri=True, timeout=10)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


# --------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def srv(module_factory):
    path = module_factory.new_db_path()
    cli("--db", path, "init")
    cli("--db", path, "import", "areas", "--dir", DATA)
    return module_factory.start(*SHARED_FLAGS, db=path)


@pytest.fixture(scope="module")
def c(srv):
    return srv.client


@pytest.fixture(scope="module")
def admin(srv):
    return srv.admin_token()


@pytest.fixture(scope="module")
def people(c, admin):
    out = {}
    for key, community, name in (("here", HERE, "刘桂兰"), ("far", FAR, "陈玉珍"),
                                 ("other", HERE, "孙淑华")):
        st, h, b = c.post("/api/v1/people", {"name": name, "id_number": make_id(),
                                             "community_code": community, "consent": True},
                          token=admin)
        assert st == 201, b
        out[key] = b
    return out


_serials = itertools.count(1)


def new_device(c, token, **over):
    body = {"serial": f"86{os.getpid() % 10000:04d}{next(_serials):06d}", "model": "LX-5",
            "firmware": "1.2.0"}
    body.update(over)
    st, h, b = c.post("/api/v1/devices", body, token=token)
    assert st == 201, b
    return b


def subscribe(c, token, device_id, person_id, expect=201, **over):
    body = {"device_id": device_id, "person_id": person_id}
    body.update(over)
    st, h, b = c.post("/api/v1/subscriptions", body, token=token)
    assert st == expect, b
    return b


@pytest.fixture(scope="module")
def bound(c, admin, people):
    """A device subscribed to the person "here"."""
    d = new_device(c, admin)
    s = subscribe(c, admin, d["id"], people["here"]["id"])
    return {"device": d, "sub": s, "serial": d["serial"], "secret": d["secret"]}


# --------------------------------------------------------------------------- register

def test_create_returns_the_secret_once(c, admin):
    d = new_device(c, admin, model="一键呼 M2")
    assert re.fullmatch(r"[0-9a-f]{64}", d["secret"])
    assert d["status"] == "active" and d["person_id"] is None and d["battery"] is None
    st, h, b = c.get(f"/api/v1/devices/{d['id']}", token=admin)
    assert st == 200 and b["serial"] == d["serial"] and b["model"] == "一键呼 M2"
    assert "secret" not in b
    st, h, b = c.get("/api/v1/devices?limit=500", token=admin)
    assert st == 200 and all("secret" not in x for x in b["items"])
    assert d["id"] in [x["id"] for x in b["items"]]
    audit = c.audit(admin, "&action=device.create")
    assert any(e["object"] == f"device:{d['id']}" for e in audit)
    assert d["secret"] not in json.dumps(audit)


def test_create_refuses_a_known_serial_and_bad_fields(c, admin):
    d = new_device(c, admin)
    st, h, b = c.post("/api/v1/devices", {"serial": d["serial"]}, token=admin)
    assert_problem(st, h, b, 409)
    st, h, b = c.post("/api/v1/devices", {"serial": "has space", "model": "x" * 40,
                                          "colour": "red"}, token=admin)
    assert_problem(st, h, b, 422)
    assert {"model", "colour"} <= set(field_errors(b))
    st, h, b = c.post("/api/v1/devices", {"serial": "a/b"}, token=admin)
    assert_problem(st, h, b, 422)
    assert "serial" in field_errors(b)


def test_who_may_manage(c, srv, admin, people):
    c.create_user(admin, "dv-resident", role="resident", password=PW)
    c.create_user(admin, "dv-street", role="street", scope="110105001", password=PW)
    resident = c.login("dv-resident", PW)
    street = c.login("dv-street", PW)
    st, h, b = c.post("/api/v1/devices", {"serial": "RES-1"}, token=resident)
    assert_problem(st, h, b, 403)
    st, h, b = c.get("/api/v1/devices", token=resident)
    assert_problem(st, h, b, 403)
    st, h, b = c.post("/api/v1/devices", {"serial": "x"})
    assert_problem(st, h, b, 401)
    d = new_device(c, street)
    # a person outside the street's scope is as good as absent
    st, h, b = c.post("/api/v1/subscriptions",
                      {"device_id": d["id"], "person_id": people["far"]["id"]}, token=street)
    assert_problem(st, h, b, 422)
    assert "person_id" in field_errors(b)


def test_subscriptions_do_not_overlap_and_end(c, admin, people):
    d = new_device(c, admin)
    s = subscribe(c, admin, d["id"], people["other"]["id"])
    assert s["ends_at"] is None
    st, h, b = c.post("/api/v1/subscriptions",
                      {"device_id": d["id"], "person_id": people["here"]["id"]}, token=admin)
    assert_problem(st, h, b, 409)
    st, h, b = c.get(f"/api/v1/devices/{d['id']}", token=admin)
    assert b["person_id"] == people["other"]["id"] and b["subscription_id"] == s["id"]
    st, h, b = c.post(f"/api/v1/subscriptions/{s['id']}/end", token=admin)
    assert st == 200 and b["ends_at"], b
    st, h, b = c.post(f"/api/v1/subscriptions/{s['id']}/end", token=admin)
    assert_problem(st, h, b, 409)
    st, h, b = c.get(f"/api/v1/devices/{d['id']}", token=admin)
    assert b["person_id"] is None
    # a new one may start now; times are checked
    st, h, b = c.post("/api/v1/subscriptions", {"device_id": d["id"],
                      "person_id": people["here"]["id"], "starts_at": "2030-01-01T00:00:00Z",
                      "ends_at": "2029-01-01T00:00:00Z"}, token=admin)
    assert_problem(st, h, b, 422)
    assert "ends_at" in field_errors(b)
    st, h, b = c.post("/api/v1/subscriptions", {"device_id": d["id"],
                      "person_id": people["here"]["id"], "starts_at": "yesterday"}, token=admin)
    assert_problem(st, h, b, 422)
    assert "starts_at" in field_errors(b)
    subscribe(c, admin, d["id"], people["here"]["id"])


# --------------------------------------------------------------------------- the door

def test_key_press_makes_one_call(c, srv, admin, bound, people):
    ev = {"event_id": "k-1", "type": "key", "key": "emergency", "battery": 80,
          "lat": 39.9, "lon": 116.46}
    before = metric(c, "linli_device_events_total", door="http", kind="key", outcome="accepted")
    st, h, b = send(c, bound["serial"], bound["secret"], ev)
    assert st == 201, b
    assert b["event_id"] == "k-1" and b["status"] == "accepted" and b["call_id"] > 0
    call_id = b["call_id"]
    rows = db_rows(srv, "SELECT person_id, device_id, trigger, priority FROM calls WHERE id = ?",
                   call_id)
    assert rows == [(people["here"]["id"], bound["device"]["id"], "emergency", 0)]
    ev_rows = db_rows(srv, "SELECT kind, key, call_id, door, person_id FROM device_events"
                      " WHERE device_id = ? AND event_id = 'k-1'", bound["device"]["id"])
    assert ev_rows == [("key", "emergency", call_id, "http", people["here"]["id"])]
    # the same event again: the same call, nothing new
    dup_before = metric(c, "linli_device_events_total", door="http", kind="key",
                        outcome="duplicate")
    st, h, b = send(c, bound["serial"], bound["secret"], ev)
    assert st == 200 and b["status"] == "duplicate" and b["call_id"] == call_id, b
    assert db_rows(srv, "SELECT COUNT(*) FROM calls WHERE device_id = ?",
                   bound["device"]["id"]) == [(1,)]
    assert metric(c, "linli_device_events_total", door="http", kind="key",
                  outcome="accepted") == before + 1
    assert metric(c, "linli_device_events_total", door="http", kind="key",
                  outcome="duplicate") == dup_before + 1


def test_service_key_is_not_urgent_and_fall_is(c, srv, bound):
    st, h, b = send(c, bound["serial"], bound["secret"],
                    {"event_id": "k-svc", "type": "key", "key": "service"})
    assert st == 201, b
    assert db_rows(srv, "SELECT trigger, priority FROM calls WHERE id = ?",
                   b["call_id"]) == [("service", 1)]
    st, h, b = send(c, bound["serial"], bound["secret"], {"event_id": "f-1", "type": "fall"})
    assert st == 201, b
    assert db_rows(srv, "SELECT trigger, priority FROM calls WHERE id = ?",
                   b["call_id"]) == [("fall", 0)]


def test_checkin_is_stored_without_a_call(c, srv, bound):
    st, h, b = send(c, bound["serial"], bound["secret"],
                    {"event_id": "ok-1", "type": "checkin", "at": int(time.time())})
    assert st == 201 and b["call_id"] is None, b
    rows = db_rows(srv, "SELECT kind, call_id, device_at FROM device_events WHERE event_id = 'ok-1'")
    assert rows[0][0] == "checkin" and rows[0][1] is None and rows[0][2] > 0


def refused_nothing_stored(c, srv, serial, secret, ev, status, reason, outcome, **kw):
    before = metric(c, "linli_device_events_total", door="http", outcome=outcome)
    n = db_rows(srv, "SELECT COUNT(*) FROM device_events")[0][0]
    st, h, b = send(c, serial, secret, ev, **kw)
    assert_problem(st, h, b, status)
    assert reason in b["detail"].lower(), b
    assert db_rows(srv, "SELECT COUNT(*) FROM device_events")[0][0] == n
    assert metric(c, "linli_device_events_total", door="http", outcome=outcome) == before + 1
    return b


def test_bad_signature_is_401(c, srv, bound):
    ev = {"event_id": "bad-sig", "type": "key", "key": "health"}
    refused_nothing_stored(c, srv, bound["serial"], bound["secret"], ev, 401, "signature",
                           "bad_signature", signature="0" * 64)
    refused_nothing_stored(c, srv, bound["serial"], bound["secret"], ev, 401, "signature",
                           "bad_signature", signature="not hex")
    # signed with another device's secret
    refused_nothing_stored(c, srv, bound["serial"], "11" * 32, ev, 401, "signature",
                           "bad_signature")
    # a body changed after signing
    ts = str(int(time.time()))
    sig = sign(bound["secret"], ts, json.dumps(ev))
    refused_nothing_stored(c, srv, bound["serial"], bound["secret"], None, 401, "signature",
                           "bad_signature", ts=ts, signature=sig,
                           raw=json.dumps(dict(ev, key="fire")).encode())


def test_unknown_device_is_401(c, srv, bound):
    ev = {"event_id": "who", "type": "key", "key": "health"}
    refused_nothing_stored(c, srv, "NO-SUCH-DEVICE", bound["secret"], ev, 401, "unknown",
                           "unknown_device")
    refused_nothing_stored(c, srv, "bad serial!", bound["secret"], ev, 401, "device",
                           "unknown_device")


def test_old_or_future_timestamp_is_401(c, srv, bound):
    ev = {"event_id": "late", "type": "key", "key": "health"}
    now = int(time.time())
    refused_nothing_stored(c, srv, bound["serial"], bound["secret"], ev, 401, "timestamp",
                           "replayed", ts=str(now - 3600))
    refused_nothing_stored(c, srv, bound["serial"], bound["secret"], ev, 401, "timestamp",
                           "replayed", ts=str(now + 3600))
    # just inside the window is fine
    st, h, b = send(c, bound["serial"], bound["secret"], dict(ev, event_id="edge"),
                    ts=str(now - 240))
    assert st == 201, b


def test_malformed_events_name_their_fields(c, srv, bound):
    s, k = bound["serial"], bound["secret"]
    b = refused_nothing_stored(c, srv, s, k, None, 400, "", "malformed", raw=b"{not json")
    cases = [
        ({"type": "key", "key": "health"}, "event_id"),
        ({"event_id": "m1", "type": "dance"}, "type"),
        ({"event_id": "m2", "type": "key"}, "key"),
        ({"event_id": "m3", "type": "key", "key": "pizza"}, "key"),
        ({"event_id": "m4", "type": "heartbeat", "battery": 101}, "battery"),
        ({"event_id": "m5", "type": "heartbeat", "signal": 5}, "signal"),
        ({"event_id": "m6", "type": "location", "lat": 95, "lon": 116}, "lat"),
        ({"event_id": "m7", "type": "location", "lat": 39.9}, "lon"),
        ({"event_id": "m8", "type": "no_activity"}, "hours"),
        ({"event_id": "m9", "type": "no_activity", "hours": 500}, "hours"),
        ({"event_id": "m10", "type": "checkin", "mood": "good"}, "mood"),
        ({"event_id": "bad id", "type": "checkin"}, "event_id"),
        ({"event_id": "m11", "type": "heartbeat", "battery": "full"}, "battery"),
        ({"event_id": "m12", "type": "location", "lat": 39.9, "lon": 116.4, "crs": "bd09"},
         "crs"),
    ]
    for ev, field in cases:
        b = refused_nothing_stored(c, srv, s, k, ev, 422, "", "malformed")
        assert field in field_errors(b), (ev, b)
    st, h, b = send(c, s, k, None, raw=b"x" * 5000)
    assert_problem(st, h, b, 413)


def test_no_subscription_is_409(c, srv, admin, people):
    d = new_device(c, admin)
    ev = {"event_id": "lonely", "type": "key", "key": "emergency"}
    refused_nothing_stored(c, srv, d["serial"], d["secret"], ev, 409, "subscription",
                           "no_subscription")
    # heartbeats need nobody
    st, h, b = send(c, d["serial"], d["secret"], {"event_id": "hb", "type": "heartbeat"})
    assert st == 202, b
    # an ended subscription is no subscription
    s = subscribe(c, admin, d["id"], people["other"]["id"])
    st, h, b = send(c, d["serial"], d["secret"], dict(ev, event_id="while-on"))
    assert st == 201, b
    st, h, b = c.post(f"/api/v1/subscriptions/{s['id']}/end", token=admin)
    assert st == 200
    refused_nothing_stored(c, srv, d["serial"], d["secret"], dict(ev, event_id="after"), 409,
                           "subscription", "no_subscription")
    # but a retry of an event stored while it was on is still its duplicate
    st, h, b = send(c, d["serial"], d["secret"], dict(ev, event_id="while-on"))
    assert st == 200 and b["status"] == "duplicate", b


def test_rotated_secret_replaces_the_old_one_at_once(c, admin, bound, people):
    d = new_device(c, admin)
    subscribe(c, admin, d["id"], people["other"]["id"])
    ev = {"event_id": "r1", "type": "checkin"}
    st, h, b = send(c, d["serial"], d["secret"], ev)
    assert st == 201, b
    st, h, b = c.post(f"/api/v1/devices/{d['id']}/secret", token=admin)
    assert st == 200 and b["secret"] != d["secret"], b
    st, h, b2 = send(c, d["serial"], d["secret"], dict(ev, event_id="r2"))
    assert_problem(st, h, b2, 401)
    st, h, b2 = send(c, d["serial"], b["secret"], dict(ev, event_id="r3"))
    assert st == 201, b2


def test_heartbeat_reaches_the_store_after_a_flush(c, srv, admin, bound):
    st, h, b = send(c, bound["serial"], bound["secret"],
                    {"event_id": "hb-1", "type": "heartbeat", "battery": 64, "signal": -71})
    assert st == 202 and b["status"] == "accepted", b
    # the API shows the memory state at once
    st, h, d = c.get(f"/api/v1/devices/{bound['device']['id']}", token=admin)
    assert d["battery"] == 64 and d["signal"] == -71 and d["last_seen_at"]
    # the flush runs every 2 s
    for _ in range(100):
        rows = db_rows(srv, "SELECT battery, signal, last_seen_at FROM devices WHERE id = ?",
                       bound["device"]["id"])
        if rows[0][0] == 64:
            break
        time.sleep(0.1)
    assert rows[0][0] == 64 and rows[0][1] == -71 and rows[0][2] > 0, rows
    assert metric(c, "linli_device_flushes_total") >= 1


def test_a_signal_never_reported_is_null_and_never_stored(c, srv, admin, people):
    d = new_device(c, admin)
    subscribe(c, admin, d["id"], people["other"]["id"])
    st, h, got = c.get(f"/api/v1/devices/{d['id']}", token=admin)
    assert st == 200 and got["signal"] is None and got["battery"] is None, got
    st, h, b = send(c, d["serial"], d["secret"],
                    {"event_id": "nosig-1", "type": "heartbeat", "battery": 88})
    assert st == 202, b
    st, h, got = c.get(f"/api/v1/devices/{d['id']}", token=admin)
    assert got["battery"] == 88 and got["signal"] is None, got
    for _ in range(100):  # the flush runs every 2 s
        rows = db_rows(srv, "SELECT battery, signal FROM devices WHERE id = ?", d["id"])
        if rows[0][0] == 88:
            break
        time.sleep(0.1)
    assert rows == [(88, None)], rows
    # the store's NULL read back is still "unknown", in the list too
    st, h, b = c.get("/api/v1/devices?limit=500", token=admin)
    assert [x["signal"] for x in b["items"] if x["id"] == d["id"]] == [None], b


def test_low_battery_heartbeats_make_one_task(c, srv, admin, people):
    d = new_device(c, admin)
    subscribe(c, admin, d["id"], people["other"]["id"])
    for i, battery in enumerate((50, 15, 12, 10)):
        st, h, b = send(c, d["serial"], d["secret"],
                        {"event_id": f"lb{i}", "type": "heartbeat", "battery": battery})
        assert st == 202, b
    rows = db_rows(srv, "SELECT kind, state, person_id FROM tasks WHERE device_id = ?", d["id"])
    assert rows == [("low_battery", "open", people["other"]["id"])], rows


def test_location_in_gcj02_is_stored_as_wgs84(c, admin, bound):
    st, h, b = send(c, bound["serial"], bound["secret"],
                    {"event_id": "loc-1", "type": "location", "lat": 39.9100, "lon": 116.4660,
                     "crs": "gcj02"})
    assert st == 202, b
    st, h, d = c.get(f"/api/v1/devices/{bound['device']['id']}", token=admin)
    loc = d["location"]
    # GCJ-02 is shifted a few hundred metres from WGS-84 around Beijing
    assert abs(loc["lat"] - 39.9100) > 0.0005 or abs(loc["lon"] - 116.4660) > 0.0005, loc
    assert abs(loc["lat"] - 39.9100) < 0.01 and abs(loc["lon"] - 116.4660) < 0.01, loc


def test_cancel_abandons_the_waiting_call(c, srv, admin, people):
    d = new_device(c, admin)
    subscribe(c, admin, d["id"], people["other"]["id"])
    st, h, b = send(c, d["serial"], d["secret"], {"event_id": "c1", "type": "key", "key": "family"})
    assert st == 201, b
    call_id = b["call_id"]
    st, h, b = send(c, d["serial"], d["secret"], {"event_id": "c2", "type": "cancel"})
    assert st == 201 and b["call_id"] == call_id, b
    assert db_rows(srv, "SELECT state FROM calls WHERE id = ?", call_id) == [("abandoned",)]


def test_no_activity_makes_an_urgent_task(c, srv, admin, people):
    d = new_device(c, admin)
    subscribe(c, admin, d["id"], people["other"]["id"])
    st, h, b = send(c, d["serial"], d["secret"],
                    {"event_id": "na1", "type": "no_activity", "hours": 12})
    assert st == 201 and b.get("task_id"), b
    rows = db_rows(srv, "SELECT kind, priority FROM tasks WHERE id = ?", b["task_id"])
    assert rows == [("no_activity", 0)]


def test_refusals_are_logged_with_a_rate_limit(c, srv, bound):
    for i in range(30):
        send(c, bound["serial"], bound["secret"], {"event_id": f"x{i}", "type": "key",
                                                   "key": "health"}, signature="f" * 64)
    text = srv.stderr()
    lines = [l for l in text.splitlines() if "device event refused" in l]
    assert 1 <= len(lines) < 30, len(lines)
    assert metric(c, "linli_device_refusals_unlogged_total") > 0
