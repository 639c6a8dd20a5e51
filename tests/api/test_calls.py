"""The one-key call centre end to end: a signed key press becomes a call,
the longest-idle available operator gets the offer on their console stream
with the screen pop (name, contacts unmasked, nearest services), answers,
classifies, orders a service, notifies contacts, escalates and closes; the
timeline holds every step; the other operator sees the queue change; an offer
not taken in time moves to the next operator; the end of a console stream
sets the operator away; the general /api/v1/events stream carries no console
events but a summary of each call's state change (call.updated) and task
change (task.updated) to staff in scope, never for a heartbeat; and who may
read or act on calls."""
import datetime
import hashlib
import hmac
import itertools
import json
import os
import re
import sqlite3
import time

import pytest

from conftest import (ADMIN_PASSWORD, SHARED_FLAGS, SOURCE_DIR, SSEStream,
                      assert_no_sanitizer_report, assert_problem, field_errors, run_cli)

DATA = os.path.join(SOURCE_DIR, "data", "chaoyang")
HERE = "110105001024"   # a community of street 建外 (110105001)
FAR = "110105002024"    # a community of street 朝外 (110105002)
HOME = (39.9052, 116.4601)
PW = "calls-password-1"
CONSOLE = "/api/v1/console/events"

_seq = itertools.count(500)
_serials = itertools.count(1)
_events = itertools.count(1)


def make_id(birth="19380101"):
    first17 = f"110105{birth}{next(_seq) % 1000:03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return first17 + "10X98765432"[sum(int(c) * w for c, w in zip(first17, weights)) % 11]


def cli(*args):
    r = run_cli([str(a) for a in args], env={"LINLI_ADMIN_PASSWORD": ADMIN_PASSWORD},
                timeout=120)
    assert_no_sanitizer_report(r.stderr, "linli")
    assert r.returncode == 0, r.stderr
    return r


def db_rows(srv, sql, *params):
    con = sqlite3.connect(f"file:{srv.db}?mode=ro", uri=True, timeout=10)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def signal(c, dev, event):
    """A signed device event, as the device sends it: (status, body)."""
    body = json.dumps(dict(event, event_id=f"e-{next(_events)}")).encode()
    ts = str(int(time.time()))
    sig = hmac.new(bytes.fromhex(dev["secret"]), ts.encode() + b"." + body,
                   hashlib.sha256).hexdigest()
    st, h, b = c.request("POST", "/api/v1/device-events", raw=body,
                         headers={"X-Linli-Device": dev["serial"], "X-Linli-Timestamp": ts,
                                  "X-Linli-Signature": sig})
    return st, b


def press(c, dev, key="emergency"):
    """A signed key press: the new call's id."""
    st, b = signal(c, dev, {"type": "key", "key": key})
    assert st == 201, b
    return b["call_id"]


def put_presence(c, token, state, expect=200):
    st, h, b = c.request("PUT", "/api/v1/console/presence", {"state": state}, token=token)
    assert st == expect, b
    return b


def data(ev):
    return json.loads(ev["data"])


def rfc3339_ms(text):
    """Milliseconds since the epoch of an RFC 3339 UTC time as the API writes it."""
    when = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")
    return round(when.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)


def console(srv, token):
    """An operator's console stream, in sync (its first event read)."""
    s = SSEStream(srv.port, token=token, path=CONSOLE)
    assert s.status == 200, getattr(s, "body", b"")
    sync = s.wait_for(lambda e: e["event"] == "console.sync", timeout=10)
    assert sync is not None, "no console.sync on connect"
    return s, data(sync)


CALL_SUMMARY = {"id", "state", "category", "priority", "community_code", "kind"}


def call_updated(call_id, **want):
    """A call.updated about `call_id` (matching `want`) on the general stream."""
    return lambda e: (e["event"] == "call.updated" and data(e)["id"] == call_id and
                      all(data(e).get(k) == v for k, v in want.items()))


def is_event(name, **want):
    def pred(ev):
        if ev["event"] != name:
            return False
        d = data(ev)
        return all(d.get(k) == v for k, v in want.items())
    return pred


# --------------------------------------------------------------------------- world

def make_world(srv):
    """Users, a caller with contacts, a facility near the caller's home, and a
    device subscribed to the caller, on server `srv`."""
    c = srv.client
    admin = srv.admin_token()
    w = {"c": c, "admin": admin, "srv": srv}
    for name, role, scope in (("op1", "operator", "110105001"), ("op2", "operator", "110105001"),
                              ("opfar", "operator", "110105002"), ("street", "street", "110105001"),
                              ("auditor", "auditor", "110105"), ("resident", "resident", None)):
        u = c.create_user(admin, f"calls-{name}", role=role, scope=scope, password=PW,
                          display_name="接线员王芳" if name == "op1" else None)
        w[name] = c.login(f"calls-{name}", PW)
        w[name + "_id"] = u["id"]
    st, h, b = c.post("/api/v1/people", {
        "name": "王秀兰", "id_number": make_id(), "community_code": HERE, "consent": True,
        "address": "建外街道南郎家园5号楼", "home": {"lat": HOME[0], "lon": HOME[1]},
        "living_alone": True, "conditions": ["高血压"],
        "emergency_contacts": [{"name": "王强", "relation": "儿子", "phone": "13800138001"},
                               {"name": "王丽", "relation": "女儿", "phone": "13900139002"}]},
        token=admin)
    assert st == 201, b
    w["person"] = b
    st, h, b = c.post("/api/v1/facilities", {
        "kind": "provider", "name": "建外居家护理服务站", "operator_type": "private",
        "area_code": HERE, "address": "建外街道南郎家园1号",
        "point": {"lat": HOME[0] + 0.001, "lon": HOME[1]},
        "services": [{"code": "emergency_response", "price": 0, "unit": "visit"},
                     {"code": "home_nursing", "price": 80, "unit": "visit"}]}, token=admin)
    assert st == 201, b
    w["facility"] = b
    st, h, b = c.post("/api/v1/devices", {"serial": f"8677{os.getpid() % 10000:04d}"
                                                    f"{next(_serials):05d}",
                                          "model": "LX-5", "firmware": "1.0"}, token=admin)
    assert st == 201, b
    w["device"] = b
    st, h, b = c.post("/api/v1/subscriptions", {"device_id": b["id"],
                                                "person_id": w["person"]["id"]}, token=admin)
    assert st == 201, b
    return w


@pytest.fixture(scope="module")
def w(module_factory):
    path = module_factory.new_db_path()
    cli("--db", path, "init")
    cli("--db", path, "import", "areas", "--dir", DATA)
    # No console grace: the end of a console sets its operator away at once.
    srv = module_factory.start(*SHARED_FLAGS, "--console-grace-ms", "0", db=path)
    return make_world(srv)


# --------------------------------------------------------------------------- the whole call

def test_key_press_to_closed_call(w):
    c, srv = w["c"], w["srv"]
    general = SSEStream(srv.port, token=w["admin"])
    s1, sync1 = console(srv, w["op1"])
    s2, sync2 = console(srv, w["op2"])
    try:
        assert general.status == 200
        assert sync1["operator_id"] == w["op1_id"] and sync1["presence"] == "away"
        assert sync1["queue"] == []
        # op1 has been idle longest: the offer is theirs.
        assert put_presence(c, w["op1"], "available")["state"] == "available"
        assert s1.wait_for(is_event("console.presence", state="available"), 10)
        put_presence(c, w["op2"], "available")

        call_id = press(c, w["device"], "emergency")
        offer = s1.wait_for(is_event("console.offer"), 10)
        assert offer is not None, "op1 got no offer"
        o = data(offer)
        assert o["operator_id"] == w["op1_id"] and o["call"]["id"] == call_id
        assert o["call"]["urgent"] is True and o["community_code"] == HERE
        pop = o["screen_pop"]
        assert pop["person"]["name"] == "王秀兰" and pop["person"]["living_alone"] is True
        assert pop["person"]["conditions"] == ["高血压"]
        assert [(k["position"], k["name"], k["phone"]) for k in pop["contacts"]] == [
            (1, "王强", "13800138001"), (2, "王丽", "13900139002")]
        assert [s["id"] for s in pop["services"]] == [w["facility"]["id"]]
        assert pop["services"][0]["service"] in ("emergency_response", "home_nursing")
        assert pop["services"][0]["status"] == "open"
        assert pop["services"][0]["services"] == ["emergency_response", "home_nursing"]
        assert pop["device"]["id"] == w["device"]["id"]
        # The other operator sees the queue change, not the offer.
        q2 = s2.wait_for(lambda e: e["event"] == "console.queue" and any(
            x["id"] == call_id for x in data(e)["calls"]), 10)
        assert q2 is not None and data(q2)["community_code"] == HERE
        assert [x["state"] for x in data(q2)["calls"] if x["id"] == call_id] == ["offered"]

        # Revealing the contacts' phones was recorded, naming the call.
        entries = c.audit(w["admin"], "&action=person.reveal")
        assert any(e["object"] == f"person:{w['person']['id']}" and
                   e["detail"].get("reason") == f"call {call_id}" for e in entries), entries

        st, h, b = c.post(f"/api/v1/calls/{call_id}/answer", token=w["op2"])
        assert_problem(st, h, b, 409)  # the offer is op1's
        st, h, b = c.post(f"/api/v1/calls/{call_id}/answer", token=w["op1"])
        assert st == 200 and b["state"] == "answered" and b["operator_id"] == w["op1_id"], b
        assert s2.wait_for(lambda e: e["event"] == "console.queue" and
                           data(e)["community_code"] == HERE and
                           all(x["id"] != call_id for x in data(e)["calls"]), 10)
        assert put_presence(c, w["op1"], "available", expect=409)

        st, h, b = c.post(f"/api/v1/calls/{call_id}/classify",
                          {"category": "紧急救助", "note": "摔倒，意识清醒"}, token=w["op1"])
        assert st == 200 and b["state"] == "classified" and b["category"] == "emergency", b
        st, h, b = c.post(f"/api/v1/calls/{call_id}/classify", {"category": "flood"},
                          token=w["op1"])
        assert_problem(st, h, b, 422)
        assert "category" in field_errors(b)

        base = f"/api/v1/calls/{call_id}/actions"
        st, h, order = c.post(base, {"kind": "service_order", "facility_id": w["facility"]["id"],
                                     "service": "home_nursing"}, token=w["op1"])
        assert st == 201 and order["state"] == "sent", order
        assert h["Location"].endswith(f"{base}/{order['id']}")
        st, h, b = c.post(base, {"kind": "service_order", "facility_id": w["facility"]["id"],
                                 "service": "meals"}, token=w["op1"])
        assert_problem(st, h, b, 422)
        assert "service" in field_errors(b)
        for pos, reached in ((1, False), (2, True)):
            st, h, b = c.post(base, {"kind": "contact", "contact_position": pos,
                                     "reached": reached}, token=w["op1"])
            assert st == 201 and b["reached"] is reached, b
        st, h, b = c.post(base, {"kind": "escalation", "target": "120", "note": "已呼叫急救"},
                          token=w["op1"])
        assert st == 201 and b["state"] == "recorded", b
        st, h, b = c.post(base, {"kind": "escalation", "target": "999"}, token=w["op1"])
        assert_problem(st, h, b, 422)
        st, h, b = c.post(base, {"kind": "note", "note": "x"}, token=w["op2"])
        assert_problem(st, h, b, 403)
        st, h, b = c.patch(f"{base}/{order['id']}", {"state": "accepted"}, token=w["op1"])
        assert st == 200 and b["state"] == "accepted", b
        st, h, b = c.patch(f"{base}/{order['id']}", {"state": "sent"}, token=w["op1"])
        assert_problem(st, h, b, 422)
        st, h, b = c.post(f"/api/v1/calls/{call_id}/close", {"outcome": "急救已到，家属已到场"},
                          token=w["op1"])
        assert st == 200 and b["state"] == "closed" and b["outcome"], b
        st, h, b = c.post(f"/api/v1/calls/{call_id}/close", {}, token=w["op1"])
        assert_problem(st, h, b, 409)
        assert "closed" in b["detail"]
        # A provider reports later: the order moves on after the close.
        st, h, b = c.patch(f"{base}/{order['id']}", {"state": "done"}, token=w["op1"])
        assert st == 200 and b["state"] == "done", b
        st, h, b = c.patch(f"{base}/{order['id']}", {"state": "failed"}, token=w["op1"])
        assert_problem(st, h, b, 409)

        st, h, got = c.get(f"/api/v1/calls/{call_id}", token=w["op1"])
        assert st == 200, got
        assert [e["kind"] for e in got["timeline"]] == [
            "created", "offered", "answered", "classified", "action", "action", "action",
            "action", "action_updated", "closed", "action_updated"]
        assert got["timeline"][1]["detail"] == {
            "operator_id": w["op1_id"], "username": "calls-op1", "display_name": "接线员王芳"}
        # Who did what, by name: an operator may not read users.
        rows = {(e["user_id"], e["username"], e["display_name"]) for e in got["timeline"]}
        assert rows == {(None, None, None),
                        (w["op1_id"], "calls-op1", "接线员王芳")}, rows
        assert all((a["user_id"], a["username"], a["display_name"]) ==
                   (w["op1_id"], "calls-op1", "接线员王芳") for a in got["actions"]), got["actions"]
        assert [(a["kind"], a["state"]) for a in got["actions"]] == [
            ("service_order", "done"), ("contact", "not_reached"), ("contact", "reached"),
            ("escalation", "recorded")]
        assert got["actions"][0]["facility_name"] == w["facility"]["name"]
        st, h, p = c.get("/api/v1/console/presence", token=w["op1"])
        assert st == 200 and p["state"] == "available", p
    finally:
        s1.close()
        s2.close()
    # Nothing of the console went down the general stream.
    assert general.wait_for(lambda e: (e["event"] or "").startswith("console."), 1) is None
    general.close()


def test_a_waiting_call_is_in_the_queue_and_anyone_in_scope_takes_it(w):
    c = w["c"]
    put_presence(c, w["op1"], "away")
    put_presence(c, w["op2"], "away")
    call_id = press(c, w["device"], "health")
    st, h, b = c.get("/api/v1/calls/queue", token=w["op2"])
    assert st == 200 and [x["id"] for x in b["items"]] == [call_id], b
    assert b["items"][0]["state"] == "queued" and b["items"][0]["urgent"] is False
    st, h, b = c.get("/api/v1/calls/queue", token=w["opfar"])
    assert st == 200 and b["items"] == []
    st, h, b = c.post(f"/api/v1/calls/{call_id}/answer", token=w["opfar"])
    assert_problem(st, h, b, 404)
    st, h, b = c.post(f"/api/v1/calls/{call_id}/classify", {"category": "health_consultation"},
                      token=w["op2"])
    assert_problem(st, h, b, 409)
    assert "queued" in b["detail"]
    st, h, b = c.post(f"/api/v1/calls/{call_id}/answer", token=w["op2"])
    assert st == 200 and b["operator_id"] == w["op2_id"], b
    st, h, b = c.post(f"/api/v1/calls/{call_id}/answer", token=w["op1"])
    assert_problem(st, h, b, 409)
    st, h, b = c.post(f"/api/v1/calls/{call_id}/close", {"outcome": "建议就医"}, token=w["op2"])
    assert st == 200, b
    put_presence(c, w["op2"], "away")


def test_who_reads_and_acts(w):
    c = w["c"]
    st, h, b = c.get("/api/v1/calls?limit=1", token=w["street"])
    assert st == 200 and len(b["items"]) == 1 and b["next_cursor"], b
    newest = b["items"][0]["id"]
    st, h, b2 = c.get(f"/api/v1/calls?limit=50&cursor={b['next_cursor']}", token=w["street"])
    assert st == 200 and all(x["id"] < newest for x in b2["items"]) and b2["items"], b2
    st, h, b = c.get(f"/api/v1/calls?state=closed&person_id={w['person']['id']}",
                     token=w["auditor"])
    assert st == 200 and b["items"] and all(x["state"] == "closed" for x in b["items"]), b
    st, h, b = c.get("/api/v1/calls", token=w["opfar"])
    assert st == 200 and b["items"] == []
    st, h, b = c.get(f"/api/v1/calls/{newest}", token=w["opfar"])
    assert_problem(st, h, b, 404)
    st, h, b = c.get("/api/v1/calls", token=w["resident"])
    assert_problem(st, h, b, 403)
    st, h, b = c.get("/api/v1/calls?state=ringing", token=w["street"])
    assert_problem(st, h, b, 422)
    assert "state" in field_errors(b)
    st, h, b = c.get(f"/api/v1/calls/{newest}/screen-pop", token=w["street"])
    assert_problem(st, h, b, 403)
    st, h, b = c.get(f"/api/v1/calls/{newest}/screen-pop", token=w["op1"])
    assert st == 200 and b["contacts"][0]["phone"] == "13800138001", b
    # A suspended facility is still shown, saying so, with what it offers.
    st, h, b = c.get("/api/v1/calls?limit=50", token=w["op1"])
    urgent = [x["id"] for x in b["items"] if x["trigger"] == "emergency"][0]
    fid = w["facility"]["id"]
    st, h, f = c.patch(f"/api/v1/facilities/{fid}", {"status": "suspended"}, token=w["admin"])
    assert st == 200, f
    try:
        st, h, b = c.get(f"/api/v1/calls/{urgent}/screen-pop", token=w["op1"])
        assert st == 200 and [(s["id"], s["status"]) for s in b["services"]] == [
            (fid, "suspended")], b["services"]
        assert b["services"][0]["services"] == ["emergency_response", "home_nursing"]
    finally:
        st, h, f = c.patch(f"/api/v1/facilities/{fid}", {"status": "open"}, token=w["admin"])
        assert st == 200, f
    put_presence(c, w["street"], "available", expect=403)
    st, h, b = c.request("PUT", "/api/v1/console/presence", {"state": "asleep"}, token=w["op1"])
    assert_problem(st, h, b, 422)
    s = SSEStream(w["srv"].port, token=w["street"], path=CONSOLE)
    assert s.status == 403
    s.close()
    st, h, b = c.get(CONSOLE)
    assert_problem(st, h, b, 401)


def test_the_end_of_the_console_stream_sets_the_operator_away(w):
    c = w["c"]
    s, _ = console(w["srv"], w["op1"])
    assert s.wait_for(lambda e: "ping" in e["comments"], 10), "no heartbeat on the console"
    put_presence(c, w["op1"], "available")
    s.close()
    state = None
    for _ in range(100):  # the server notices the closed socket at its next write
        state = c.get("/api/v1/console/presence", token=w["op1"])[2]["state"]
        if state == "away":
            break
        time.sleep(0.1)
    assert state == "away"


def consoles_open(c):
    st, h, text = c.request("GET", "/metrics")
    assert st == 200
    m = re.search(r"^linli_console_subscribers (\d+)$", text, re.M)
    assert m, "no console gauge in /metrics"
    return int(m.group(1))


def until(what, timeout=20):
    """Polls `what` (every 0.1 s, at most `timeout` s) until it is true."""
    for _ in range(int(timeout * 10)):
        if what():
            return True
        time.sleep(0.1)
    return what()


def world_with_grace(module_factory, grace_ms):
    """A world of its own whose consoles have `grace_ms` of grace and whose
    offers never time out by themselves."""
    path = module_factory.new_db_path()
    cli("--db", path, "init")
    cli("--db", path, "import", "areas", "--dir", DATA)
    srv = module_factory.start(*SHARED_FLAGS, "--console-grace-ms", str(grace_ms),
                               "--offer-timeout-ms", "600000", db=path)
    return make_world(srv)


def test_a_console_reloaded_within_the_grace_keeps_its_ringing_offer(module_factory):
    g = world_with_grace(module_factory, 600000)  # longer than the test
    c, srv = g["c"], g["srv"]
    s1, _ = console(srv, g["op1"])
    put_presence(c, g["op1"], "available")
    call_id = press(c, g["device"], "service")
    assert s1.wait_for(is_event("console.offer"), 10) is not None, "op1 got no offer"
    # The page goes (a reload): once the server has seen the stream end,
    # op1 is still available and the call still rings for them.
    s1.close()
    assert until(lambda: consoles_open(c) == 0), "the server never saw the console end"
    assert c.get("/api/v1/console/presence", token=g["op1"])[2]["state"] == "available"
    st, h, got = c.get(f"/api/v1/calls/{call_id}", token=g["op1"])
    assert st == 200 and got["state"] == "offered" and got["offered_to"] == g["op1_id"], got
    # The page is back: it finds the offer ringing and answers it.
    s1, sync = console(srv, g["op1"])
    try:
        assert sync["presence"] == "available" and sync["offer"] == call_id, sync
        st, h, b = c.post(f"/api/v1/calls/{call_id}/answer", token=g["op1"])
        assert st == 200, b
    finally:
        s1.close()


def test_a_console_gone_past_the_grace_sets_its_operator_away(module_factory):
    g = world_with_grace(module_factory, 1000)
    c, srv = g["c"], g["srv"]
    s1, _ = console(srv, g["op1"])
    s2, _ = console(srv, g["op2"])
    try:
        put_presence(c, g["op1"], "available")
        call_id = press(c, g["device"], "service")
        assert s1.wait_for(is_event("console.offer"), 10) is not None, "op1 got no offer"
        put_presence(c, g["op2"], "available")
        s1.close()
        # After the grace op1 is away and the ringing call has gone to op2.
        assert until(lambda: c.get("/api/v1/console/presence",
                                   token=g["op1"])[2]["state"] == "away")
        offer = s2.wait_for(lambda e: e["event"] == "console.offer" and
                            data(e)["call"]["id"] == call_id, 10)
        assert offer is not None, "the call did not move to op2"
    finally:
        s2.close()


def test_the_console_knows_who_holds_the_offer_and_the_call_on_reconnect(w):
    c, srv = w["c"], w["srv"]
    put_presence(c, w["op1"], "away")
    put_presence(c, w["op2"], "away")
    s1, sync = console(srv, w["op1"])
    streams = [s1]
    try:
        assert sync["current_call"] is None and sync["offer"] is None, sync
        assert sync["offer_expires_at"] is None, sync
        put_presence(c, w["op1"], "available")
        call_id = press(c, w["device"], "service")
        offer = s1.wait_for(is_event("console.offer"), 10)
        assert offer is not None, "op1 got no offer"
        # The offer says when it stops ringing: the offer timeout after it was made.
        expires = data(offer)["offer_expires_at"]
        st, h, got = c.get(f"/api/v1/calls/{call_id}", token=w["op1"])
        assert st == 200 and got["offered_at"], got
        assert (rfc3339_ms(expires) - rfc3339_ms(got["offered_at"]) ==
                data(offer)["offer_timeout_ms"]), (expires, got["offered_at"])
        # console.call while it rings names the same operator as the call's GET.
        ev = s1.wait_for(lambda e: e["event"] == "console.call" and
                         data(e)["call"]["id"] == call_id, 10)
        assert ev is not None, "no console.call for the new call"
        assert data(ev)["call"]["state"] == "offered", data(ev)
        assert data(ev)["call"]["offered_to"] == w["op1_id"], data(ev)
        st, h, got = c.get(f"/api/v1/calls/{call_id}", token=w["op1"])
        assert st == 200 and got["offered_to"] == data(ev)["call"]["offered_to"], got
        st, h, b = c.get("/api/v1/calls?state=offered", token=w["op1"])
        assert [(x["id"], x["offered_to"]) for x in b["items"]] == [(call_id, w["op1_id"])], b

        # A console opened while it rings learns of the offer and when it
        # stops ringing, so it can count down.
        s1b, sync = console(srv, w["op1"])
        streams.append(s1b)
        assert sync["offer"] == call_id and sync["current_call"] is None, sync
        assert sync["offer_expires_at"] == expires, sync

        st, h, b = c.post(f"/api/v1/calls/{call_id}/answer", token=w["op1"])
        assert st == 200, b
        ev = s1.wait_for(lambda e: e["event"] == "console.call" and
                         data(e)["call"]["id"] == call_id and
                         data(e)["call"]["state"] == "answered", 10)
        assert ev is not None and data(ev)["call"]["offered_to"] is None, ev
        # ... and one opened during the call learns which call it is.
        s1c, sync = console(srv, w["op1"])
        streams.append(s1c)
        assert sync["current_call"] == call_id and sync["offer"] is None, sync
        assert sync["offer_expires_at"] is None, sync
        assert sync["presence"] == "busy"

        st, h, b = c.post(f"/api/v1/calls/{call_id}/close", {"outcome": "已登记送餐"},
                          token=w["op1"])
        assert st == 200, b
        s1d, sync = console(srv, w["op1"])
        streams.append(s1d)
        assert sync["current_call"] is None and sync["offer"] is None, sync
        assert sync["offer_expires_at"] is None, sync
    finally:
        put_presence(c, w["op1"], "away")
        for s in streams:
            s.close()


def test_the_timeline_names_the_operator_each_offer_rang_for(w):
    c, srv = w["c"], w["srv"]
    for op in ("op1", "op2"):
        put_presence(c, w[op], "away")
    # Each works at a console: the end of an earlier test's streams, noticed
    # late, is then not the end of their last console (which sets them away).
    streams = [console(srv, w["op1"])[0], console(srv, w["op2"])[0]]
    put_presence(c, w["op1"], "available")
    put_presence(c, w["op2"], "available")
    try:
        call_id = press(c, w["device"], "health")
        st, h, got = c.get(f"/api/v1/calls/{call_id}", token=w["op2"])
        assert st == 200 and got["offered_to"] == w["op1_id"], got
        # op1 declines; op2 gets it and turns away while it rings: back to the
        # queue (op1 is never offered it again), where op1 takes it all the same.
        st, h, got = c.post(f"/api/v1/calls/{call_id}/decline", token=w["op1"])
        assert st == 200 and got["offered_to"] == w["op2_id"], got
        put_presence(c, w["op2"], "away")
        st, h, got = c.post(f"/api/v1/calls/{call_id}/answer", token=w["op1"])
        assert st == 200 and got["operator_id"] == w["op1_id"], got
        st, h, got = c.post(f"/api/v1/calls/{call_id}/close", {}, token=w["op1"])
        assert st == 200, got

        # An operator, who may not read users, reads who each offer rang for.
        st, h, got = c.get(f"/api/v1/calls/{call_id}", token=w["op2"])
        assert st == 200, got
        op1 = {"operator_id": w["op1_id"], "username": "calls-op1", "display_name": "接线员王芳"}
        op2 = {"operator_id": w["op2_id"], "username": "calls-op2", "display_name": None}
        assert [(e["kind"], e["detail"]) for e in got["timeline"][1:5]] == [
            ("offered", op1), ("declined", op1), ("offered", op2), ("offer_released", op2)], \
            got["timeline"]
        # Rows of no offer name nobody in their detail.
        assert all("username" not in e["detail"] for e in got["timeline"]
                   if e["kind"] not in ("offered", "declined", "offer_released")), got["timeline"]
    finally:
        put_presence(c, w["op1"], "away")
        put_presence(c, w["op2"], "away")
        for s in streams:
            s.close()


def test_an_offer_not_taken_in_time_moves_to_the_next_operator(module_factory):
    path = module_factory.new_db_path()
    cli("--db", path, "init")
    cli("--db", path, "import", "areas", "--dir", DATA)
    srv = module_factory.start(*SHARED_FLAGS, "--offer-timeout-ms", "1000", db=path)
    t = make_world(srv)
    c = t["c"]
    s1, _ = console(srv, t["op1"])
    s2, _ = console(srv, t["op2"])
    general = SSEStream(srv.port, token=t["street"])
    try:
        assert general.status == 200
        put_presence(c, t["op1"], "available")
        put_presence(c, t["op2"], "available")
        call_id = press(c, t["device"], "service")
        first = s1.wait_for(is_event("console.offer"), 10)
        assert first is not None and data(first)["call"]["id"] == call_id
        # op1 lets it ring out; the next second's tick moves it on.
        second = s2.wait_for(is_event("console.offer"), 10)
        assert second is not None and data(second)["operator_id"] == t["op2_id"]
        # op1's console hears that the call it let ring out is ringing elsewhere.
        moved = s1.wait_for(lambda e: e["event"] == "console.call" and
                            data(e)["call"]["id"] == call_id and
                            data(e)["call"]["offered_to"] == t["op2_id"], 10)
        assert moved is not None, "no console.call when the offer moved"
        assert data(moved)["call"]["state"] == "offered"
        # The general stream follows the state, not who it rings for.
        for kind in ("queued", "offered"):
            ev = general.wait_for(call_updated(call_id, kind=kind), 10)
            assert ev is not None, f"no call.updated {kind}"
            assert set(data(ev)) == CALL_SUMMARY and data(ev)["state"] == "offered", data(ev)
        st, h, b = c.post(f"/api/v1/calls/{call_id}/answer", token=t["op2"])
        assert st == 200, b
        st, h, got = c.get(f"/api/v1/calls/{call_id}", token=t["admin"])
        kinds = [e["kind"] for e in got["timeline"]]
        assert kinds[:5] == ["created", "offered", "offer_expired", "offered", "answered"], kinds
        assert [(e["detail"]["operator_id"], e["detail"]["username"], e["detail"]["display_name"])
                for e in got["timeline"][1:4]] == [
            (t["op1_id"], "calls-op1", "接线员王芳"), (t["op1_id"], "calls-op1", "接线员王芳"),
            (t["op2_id"], "calls-op2", None)], got["timeline"]
        st, h, p = c.get("/api/v1/console/presence", token=t["op1"])
        assert p["state"] == "available"  # a missed offer is not absence
        # The caller hangs up on the next call before anyone answers.
        put_presence(c, t["op1"], "away")
        nxt = press(c, t["device"], "family")
        body = json.dumps({"event_id": f"e-{next(_events)}", "type": "cancel"}).encode()
        ts = str(int(time.time()))
        sig = hmac.new(bytes.fromhex(t["device"]["secret"]), ts.encode() + b"." + body,
                       hashlib.sha256).hexdigest()
        st, h, b = c.request("POST", "/api/v1/device-events", raw=body,
                             headers={"X-Linli-Device": t["device"]["serial"],
                                      "X-Linli-Timestamp": ts, "X-Linli-Signature": sig})
        assert st in (200, 201), b
        st, h, got = c.get(f"/api/v1/calls/{nxt}", token=t["admin"])
        assert got["state"] == "abandoned", got
        assert db_rows(srv, "SELECT count(*) FROM tasks WHERE call_id = ? AND kind = 'callback'",
                       nxt) == [(1,)]
        st, h, b = c.get("/api/v1/calls/queue", token=t["op1"])
        assert b["items"] == []
        assert general.wait_for(call_updated(nxt, kind="abandoned", state="abandoned"), 10)
        task = general.wait_for(lambda e: e["event"] == "task.updated", 10)
        assert task is not None, "no task.updated for the callback"
        assert data(task) == {"id": data(task)["id"], "kind": "callback", "state": "open",
                              "community_code": HERE}, data(task)
    finally:
        s1.close()
        s2.close()
        general.close()


def test_console_streams_are_capped(module_factory):
    srv = module_factory.start(*SHARED_FLAGS, "--sse-max", "1")
    admin = srv.admin_token()
    first = SSEStream(srv.port, token=admin, path=CONSOLE)
    try:
        assert first.status == 200
        second = SSEStream(srv.port, token=admin, path=CONSOLE)
        assert second.status == 503
        assert "Retry-After" in second.headers
        second.close()
    finally:
        first.close()


def test_staff_in_scope_follow_calls_on_the_general_stream(w):
    c, srv, admin = w["c"], w["srv"], w["admin"]
    put_presence(c, w["op1"], "away")
    put_presence(c, w["op2"], "away")
    c.create_user(admin, "calls-district", role="district", scope="110105", password=PW)
    c.create_user(admin, "calls-next-door", role="community", scope="110105001025",
                  password=PW)
    district = SSEStream(srv.port, token=c.login("calls-district", PW))
    next_door = SSEStream(srv.port, token=c.login("calls-next-door", PW))
    auditor = SSEStream(srv.port, token=w["auditor"])
    try:
        assert district.status == next_door.status == auditor.status == 200
        # A heartbeat is no change of state: nothing goes out for it.
        st, b = signal(c, w["device"], {"type": "heartbeat", "battery": 90, "signal": -70})
        assert st == 202, b
        call_id = press(c, w["device"], "service")
        first = district.wait_for(lambda e: e["event"] is not None, 10)
        assert first is not None and first["event"] == "call.updated", first
        assert data(first) == {"id": call_id, "state": "queued", "category": None,
                               "priority": 1, "community_code": HERE, "kind": "queued"}
        st, h, b = c.post(f"/api/v1/calls/{call_id}/answer", token=w["op1"])
        assert st == 200, b
        ev = district.wait_for(call_updated(call_id, kind="answered"), 10)
        assert ev is not None and data(ev)["state"] == "answered", ev
        st, h, b = c.post(f"/api/v1/calls/{call_id}/classify",
                          {"category": "convenience_service"}, token=w["op1"])
        assert st == 200, b
        ev = district.wait_for(call_updated(call_id, kind="classified"), 10)
        assert ev is not None and data(ev)["category"] == "convenience_service", ev
        # An action changes no state: the console hears of it, the general stream not.
        st, h, b = c.post(f"/api/v1/calls/{call_id}/actions", {"kind": "note", "note": "x"},
                          token=w["op1"])
        assert st == 201, b
        st, h, b = c.post(f"/api/v1/calls/{call_id}/close", {"outcome": "已登记"},
                          token=w["op1"])
        assert st == 200, b
        ev = district.wait_for(lambda e: e["event"] is not None, 10)
        assert ev is not None and ev["event"] == "call.updated", ev
        assert data(ev) == {"id": call_id, "state": "closed", "category": "convenience_service",
                            "priority": 1, "community_code": HERE, "kind": "closed"}
        for kind in ("queued", "answered", "classified", "closed"):
            assert auditor.wait_for(call_updated(call_id, kind=kind), 10), kind
        # Another community's account hears nothing of it.
        assert next_door.wait_for(lambda e: (e["event"] or "").startswith(("call.", "task.")),
                                  1) is None
    finally:
        for s in (district, next_door, auditor):
            s.close()
