"""GET /api/v1/reports/hotline: the call centre's figures.

Two ways in. End to end: a subscribed device presses keys, an operator answers,
classifies and closes two calls, the caller hangs up on the third (abandoned,
with a callback task the operator does); the report for that community counts
exactly that. By hand: calls with chosen times in the past (which the API
cannot make) are written straight into the test database with sqlite3, in a
community nothing else touches, and every figure (nearest-rank percentiles,
shares within 60 s and 180 s, per-operator medians and handling times, tasks
done) is checked against a computation written out here."""
import datetime
import hashlib
import hmac
import itertools
import json
import os
import sqlite3
import time

import pytest

from conftest import (ADMIN_PASSWORD, SHARED_FLAGS, SOURCE_DIR, assert_no_sanitizer_report,
                      assert_problem, field_errors, run_cli)

DATA = os.path.join(SOURCE_DIR, "data", "chaoyang")
LIVE = "110105001026"    # 永安里, street 建外: the end-to-end calls
BYHAND = "110105001027"  # 光华里, street 建外: calls written by hand
FAR = "110105002024"     # street 朝外
PW = "report-password-1"

_seq = itertools.count(700)
_events = itertools.count(1)


def make_id(birth="19380101"):
    first17 = f"110105{birth}{next(_seq) % 1000:03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return first17 + "10X98765432"[sum(int(c) * w for c, w in zip(first17, weights)) % 11]


def send(c, device, event):
    body = json.dumps(event).encode()
    ts = str(int(time.time()))
    sig = hmac.new(bytes.fromhex(device["secret"]), ts.encode() + b"." + body,
                   hashlib.sha256).hexdigest()
    st, h, b = c.request("POST", "/api/v1/device-events", raw=body,
                         headers={"X-Linli-Device": device["serial"], "X-Linli-Timestamp": ts,
                                  "X-Linli-Signature": sig})
    assert st in (200, 201), b
    return b


def cli(*args):
    r = run_cli([str(a) for a in args], env={"LINLI_ADMIN_PASSWORD": ADMIN_PASSWORD},
                timeout=120)
    assert_no_sanitizer_report(r.stderr, "linli")
    assert r.returncode == 0, r.stderr
    return r


def ms(text):
    return int(datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def nearest_rank(values, p):
    """The p-th percentile by the nearest-rank method."""
    v = sorted(values)
    rank = max(1, -(-p * len(v) // 100))  # ceil(p * n / 100)
    return v[rank - 1]


def report(c, token, query="", expect=200):
    st, h, b = c.get("/api/v1/reports/hotline" + query, token=token)
    assert st == expect, b
    return b


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
def users(c, admin):
    out = {}
    for name, role, scope in (("hr-op", "operator", "110105001"),
                              ("hr-op2", "operator", "110105001"),
                              ("hr-community", "community", LIVE),
                              ("hr-far", "street", "110105002"),
                              ("hr-auditor", "auditor", "110105"),
                              ("hr-resident", "resident", None)):
        u = c.create_user(admin, name, role=role, scope=scope, password=PW)
        out[name] = {"token": c.login(name, PW), "id": u["id"]}
    return out


@pytest.fixture(scope="module")
def live(c, admin, users):
    """Three key presses from one subscriber of LIVE: two answered, classified
    and closed by hr-op; the third abandoned, and its callback task done."""
    st, h, person = c.post("/api/v1/people", {"name": "冯秀珍", "id_number": make_id(),
                                              "community_code": LIVE, "living_alone": True,
                                              "consent": True}, token=admin)
    assert st == 201, person
    st, h, dev = c.post("/api/v1/devices", {"serial": f"86000{os.getpid() % 100000:05d}00001",
                                            "model": "LX-5K"}, token=admin)
    assert st == 201, dev
    st, h, sub = c.post("/api/v1/subscriptions", {"device_id": dev["id"],
                                                  "person_id": person["id"]}, token=admin)
    assert st == 201, sub
    op = users["hr-op"]["token"]
    for key, category in (("health", "health_consultation"), ("service", "convenience_service")):
        b = send(c, dev, {"event_id": f"k-{next(_events)}", "type": "key", "key": key})
        call = b["call_id"]
        st, h, r = c.post(f"/api/v1/calls/{call}/answer", token=op)
        assert st == 200, r
        st, h, r = c.post(f"/api/v1/calls/{call}/classify", {"category": category}, token=op)
        assert st == 200, r
        st, h, r = c.post(f"/api/v1/calls/{call}/close", {"outcome": "已处理"}, token=op)
        assert st == 200, r
    b = send(c, dev, {"event_id": f"k-{next(_events)}", "type": "key", "key": "family"})
    send(c, dev, {"event_id": f"c-{next(_events)}", "type": "cancel"})
    st, h, t = c.get(f"/api/v1/tasks?kind=callback&person_id={person['id']}", token=op)
    assert st == 200 and len(t["items"]) == 1, t
    tid = t["items"][0]["id"]
    st, h, r = c.post(f"/api/v1/tasks/{tid}/claim", token=op)
    assert st == 200, r
    st, h, r = c.post(f"/api/v1/tasks/{tid}/finish", {"state": "done", "outcome": "回拨，误按"},
                      token=op)
    assert st == 200, r
    return {"person": person, "abandoned": b["call_id"]}


def test_live_calls_are_counted_as_they_happened(c, users, live):
    r = report(c, users["hr-op"]["token"], f"?area={LIVE}")
    assert r["area"] == LIVE
    assert r["subscribers"] == 1
    calls = r["calls"]
    assert (calls["total"], calls["answered"], calls["abandoned"]) == (3, 2, 1)
    assert r["abandoned"] == 1
    by = calls["by_category"]
    assert by["health_consultation"] == 1 and by["convenience_service"] == 1
    assert by["unclassified"] == 1
    assert sum(by.values()) == 3
    at = r["answer_time_s"]
    assert at["calls"] == 2
    assert 0 <= at["p50"] <= at["p90"] <= at["p99"] < 60
    # answered within 60 s over answered + abandoned
    assert r["answered_within_60s"] == pytest.approx(2 / 3)
    assert r["answered_within_180s"] == pytest.approx(2 / 3)
    assert r["proactive_services_done"] == 1  # the callback
    ops = r["operators"]
    assert len(ops) == 1
    o = ops[0]
    assert (o["username"], o["operator_id"], o["calls_answered"], o["tasks_done"]) == \
        ("hr-op", users["hr-op"]["id"], 2, 1)
    assert o["median_answer_s"] >= 0 and o["mean_handling_s"] >= 0
    # the default window is the last 30 days
    assert ms(r["to"]) - ms(r["from"]) == 30 * 86400 * 1000


# Answer times (s) of 20 calls by hand, alternately by the two operators, and
# handling times (s) of those that were closed (None: still open).
TIMES = [3, 4, 5, 7, 8, 9, 10, 12, 15, 18, 20, 25, 30, 40, 55, 60, 61, 90, 150, 400]
HANDLE = [100, 200, None, 300, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150, 160, 170, 180,
          190, None]
CATS = ["health_consultation"] * 9 + ["convenience_service"] * 8 + ["emergency", "fire", None]
FROM = "2025-03-01T00:00:00+08:00"
TO = "2025-04-01T00:00:00+08:00"


@pytest.fixture(scope="module")
def byhand(srv, users):
    start = ms(FROM)
    ops = [users["hr-op"]["id"], users["hr-op2"]["id"]]
    con = sqlite3.connect(srv.db, timeout=10)
    try:
        with con:
            for i, (t, hd, cat) in enumerate(zip(TIMES, HANDLE, CATS)):
                created = start + i * 3600 * 1000
                answered = created + t * 1000
                closed = answered + hd * 1000 if hd is not None else None
                con.execute(
                    "INSERT INTO calls (community_code, trigger, state, category, operator_id,"
                    " created_at, answered_at, closed_at, updated_at)"
                    " VALUES (?, 'health', ?, ?, ?, ?, ?, ?, ?)",
                    (BYHAND, "closed" if closed else "answered", cat, ops[i % 2], created,
                     answered, closed, created))
            for i in range(3):  # abandoned
                con.execute("INSERT INTO calls (community_code, trigger, state, created_at,"
                            " updated_at) VALUES (?, 'service', 'abandoned', ?, ?)",
                            (BYHAND, start + (30 + i) * 3600 * 1000, start))
            # outside the window: just before and at its end
            for at in (start - 1, ms(TO)):
                con.execute("INSERT INTO calls (community_code, trigger, state, category,"
                            " created_at, answered_at, updated_at)"
                            " VALUES (?, 'health', 'answered', 'health_consultation', ?, ?, ?)",
                            (BYHAND, at, at + 1000, at))
            # tasks done in the window: two proactive, one maintenance; one failed
            for kind, state, op in (("weekly_call", "done", ops[0]),
                                    ("birthday_call", "done", ops[1]),
                                    ("device_silent", "done", ops[1]),
                                    ("weekly_call", "failed", ops[0])):
                con.execute("INSERT INTO tasks (kind, priority, state, community_code, due_at,"
                            " operator_id, created_at, done_at, updated_at)"
                            " VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?)",
                            (kind, state, BYHAND, start, op, start, start + 1000, start))
    finally:
        con.close()


def test_every_figure_matches_a_hand_computation(c, users, byhand):
    q = f"?area={BYHAND}&from={FROM.replace('+', '%2B')}&to={TO.replace('+', '%2B')}"
    r = report(c, users["hr-auditor"]["token"], q)
    assert r["from"] == "2025-02-28T16:00:00.000Z" and r["to"] == "2025-03-31T16:00:00.000Z"
    calls = r["calls"]
    assert (calls["total"], calls["answered"], calls["abandoned"]) == (23, 20, 3)
    by = calls["by_category"]
    assert (by["health_consultation"], by["convenience_service"], by["emergency"], by["fire"],
            by["unclassified"]) == (9, 8, 1, 1, 4)
    at = r["answer_time_s"]
    assert at["p50"] == nearest_rank(TIMES, 50) == 18
    assert at["p90"] == nearest_rank(TIMES, 90) == 90
    assert at["p99"] == nearest_rank(TIMES, 99) == 400
    assert r["answered_within_60s"] == pytest.approx(16 / 23)
    assert r["answered_within_180s"] == pytest.approx(19 / 23)
    assert r["proactive_services_done"] == 2
    assert r["subscribers"] == 0
    ops = {o["username"]: o for o in r["operators"]}
    assert set(ops) == {"hr-op", "hr-op2"}
    for name, idx in (("hr-op", 0), ("hr-op2", 1)):
        mine_t = TIMES[idx::2]
        mine_h = [x for x in HANDLE[idx::2] if x is not None]
        o = ops[name]
        assert o["calls_answered"] == 10
        assert o["median_answer_s"] == nearest_rank(mine_t, 50)
        assert o["mean_handling_s"] == pytest.approx(sum(mine_h) / len(mine_h))
    assert ops["hr-op"]["tasks_done"] == 1 and ops["hr-op2"]["tasks_done"] == 2


def test_a_wider_area_adds_up(c, admin, live, byhand):
    q = f"&from={FROM.replace('+', '%2B')}&to={TO.replace('+', '%2B')}"
    street = report(c, admin, "?area=110105001" + q)
    assert street["calls"]["total"] == 23
    far = report(c, admin, f"?area={FAR}" + q)
    assert far["calls"]["total"] == 0 and far["answer_time_s"]["p50"] is None
    assert far["answered_within_60s"] is None and far["operators"] == []


def test_scope_and_roles(c, users, live):
    r = report(c, users["hr-community"]["token"])  # their own community by default
    assert r["area"] == LIVE and r["calls"]["total"] == 3
    st, h, b = c.get(f"/api/v1/reports/hotline?area={BYHAND}", token=users["hr-community"]["token"])
    assert_problem(st, h, b, 403)
    st, h, b = c.get(f"/api/v1/reports/hotline?area={LIVE}", token=users["hr-far"]["token"])
    assert_problem(st, h, b, 403)
    st, h, b = c.get("/api/v1/reports/hotline", token=users["hr-resident"]["token"])
    assert_problem(st, h, b, 403)
    st, h, b = c.get("/api/v1/reports/hotline")
    assert_problem(st, h, b, 401)


def test_bad_windows_and_areas_are_named(c, admin):
    for q, field in (("?from=yesterday", "from"),
                     ("?to=2025-13-01T00:00:00Z", "to"),
                     ("?from=2025-03-02T00:00:00Z&to=2025-03-01T00:00:00Z", "to"),
                     ("?from=2024-01-01T00:00:00Z&to=2025-01-02T00:00:00Z", "from"),
                     ("?area=1101", "area")):
        st, h, b = c.get("/api/v1/reports/hotline" + q, token=admin)
        assert_problem(st, h, b, 422)
        assert field in field_errors(b), (q, b)
    # 366 days is allowed
    report(c, admin, "?from=2024-01-01T00:00:00Z&to=2025-01-01T00:00:00Z")
    st, h, b = c.get("/api/v1/reports/hotline?period=month", token=admin)
    assert_problem(st, h, b, 422)


# --------------------------------------------------------------------------- the demo

def demo_count(base, scale):
    """What the demo places at `scale` (as cli_demo.c's demo_count)."""
    import math
    return max(1, int(math.floor(base * scale + 0.5)))


def luhn_ok(digits):
    total = 0
    for i, ch in enumerate(digits[:-1]):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return (10 - total % 10) % 10 == int(digits[-1])


def build_demo(factory, seed, scale):
    db = factory.new_db_path()
    cli("--db", db, "init")
    r = run_cli(["--db", db, "demo", "--seed", str(seed), "--scale", scale, "--dir", DATA],
                timeout=300)
    assert_no_sanitizer_report(r.stderr, "linli")
    assert r.returncode == 0, r.stderr
    return db, r.stdout


@pytest.fixture(scope="module")
def demo(module_factory):
    return build_demo(module_factory, 11, "0.01")


def test_the_demo_gives_devices_to_those_most_in_need(demo):
    db, out = demo
    con = sqlite3.connect(db)
    n = demo_count(46700, 0.01)
    assert con.execute("SELECT count(*) FROM devices").fetchone()[0] == n
    assert con.execute("SELECT count(*) FROM subscriptions WHERE ends_at IS NULL").fetchone()[0] \
        == n
    assert con.execute("SELECT count(DISTINCT person_id) FROM subscriptions").fetchone()[0] == n
    serials = [s for (s,) in con.execute("SELECT serial FROM devices")]
    assert len(set(serials)) == n
    assert all(len(s) == 15 and s.isdigit() and s.startswith("860000") and luhn_ok(s)
               for s in serials)
    models = {m for (m,) in con.execute("SELECT DISTINCT model FROM devices")}
    assert models <= {"LX-5K", "一键呼 5键"}
    assert all(len(x) == 64 for (x,) in con.execute("SELECT secret FROM devices"))
    # daily check-ins: exactly the subscribers over 80 who live alone
    today = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=8)).date()
    cutoff = today.replace(year=today.year - 80).isoformat() if not (
        today.month == 2 and today.day == 29) else f"{today.year - 80}-02-28"
    want = {p for (p,) in con.execute(
        "SELECT p.id FROM people p JOIN subscriptions s ON s.person_id = p.id"
        " WHERE p.living_alone = 1 AND p.birth_date <= ?", (cutoff,))}
    got = {p for (p,) in con.execute("SELECT person_id FROM care_plans WHERE kind ="
                                     " 'daily_checkin' AND active = 1")}
    assert got == want and len(got) > n // 4
    # they are favoured: far more of the over-80s living alone carry a device than of the rest
    share = lambda where: con.execute(
        "SELECT avg(id IN (SELECT person_id FROM subscriptions)) FROM people WHERE " + where,
        (cutoff,)).fetchone()[0]
    assert share("living_alone = 1 AND birth_date <= ?") > 5 * share("birth_date > ?")
    weekly = con.execute("SELECT count(*) FROM care_plans WHERE kind = 'weekly_call'").fetchone()[0]
    assert 0 < weekly < n
    assert f"{n} devices and subscriptions" in out and "not secret" in out


def test_the_demo_history_is_a_month_of_realistic_calls(demo, module_factory):
    db, out = demo
    con = sqlite3.connect(db)
    calls = demo_count(round(56600 * 30 / 365), 0.01)
    tasks = demo_count(round(124000 * 30 / 365), 0.01)
    assert con.execute("SELECT count(*) FROM calls").fetchone()[0] == calls
    assert con.execute("SELECT count(*) FROM tasks WHERE state = 'done'").fetchone()[0] == tasks
    waits = [w for (w,) in con.execute("SELECT answered_at - created_at FROM calls"
                                       " WHERE answered_at IS NOT NULL")]
    assert sum(1 for w in waits if w <= 60000) / len(waits) > 0.9
    assert con.execute("SELECT count(*) FROM calls WHERE outcome IS NOT NULL AND outcome NOT"
                       " LIKE '演示数据%'").fetchone()[0] == 0
    # linlid reports it: the month's calls by category
    srv = module_factory.start(*SHARED_FLAGS, "--device-silent-s", "0", db=db)
    now = datetime.datetime.now(datetime.timezone.utc)
    frm = (now - datetime.timedelta(days=32)).strftime("%Y-%m-%dT%H:%M:%SZ")
    r = report(srv.client, srv.admin_token(), f"?from={frm}")
    assert r["calls"]["total"] == calls
    assert r["subscribers"] == demo_count(46700, 0.01)
    by = r["calls"]["by_category"]
    assert by["convenience_service"] > 0 and by["health_consultation"] > 0
    assert r["proactive_services_done"] == tasks
    assert r["answered_within_60s"] > 0.85


def test_the_same_seed_gives_the_same_devices(module_factory):
    rows = []
    for seed in (5, 5, 6):
        db, _ = build_demo(module_factory, seed, "0.002")
        con = sqlite3.connect(db)
        rows.append(con.execute("SELECT serial, secret, model FROM devices ORDER BY id").fetchall())
    assert rows[0] == rows[1]
    assert rows[0] != rows[2]
