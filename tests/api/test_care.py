"""Proactive care over HTTP: care plans (/api/v1/care-plans: who makes them,
what is checked, scope), the operators' tasks (/api/v1/tasks: list, claim,
finish, cancel) made end to end by device events (a no-activity alarm makes an
urgent task) and by the scheduler's device watchdog (a subscribed device that
is never heard from gets one maintenance task); each task change is a
task.updated summary on the general event stream of staff in scope."""
import hashlib
import hmac
import itertools
import json
import os
import sqlite3
import time

import pytest

from conftest import (ADMIN_PASSWORD, SHARED_FLAGS, SOURCE_DIR, SSEStream,
                      assert_no_sanitizer_report, assert_problem, field_errors, run_cli)

DATA = os.path.join(SOURCE_DIR, "data", "chaoyang")
HERE = "110105001024"   # street 建外 (110105001)
NEAR = "110105001025"   # street 建外
FAR = "110105002024"    # street 朝外 (110105002)
PW = "care-password-1"

_seq = itertools.count(500)
_serials = itertools.count(1)
_events = itertools.count(1)


def make_id(birth="19400315"):
    first17 = f"110105{birth}{next(_seq) % 1000:03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return first17 + "10X98765432"[sum(int(c) * w for c, w in zip(first17, weights)) % 11]


def sign(secret_hex, timestamp, body):
    return hmac.new(bytes.fromhex(secret_hex), timestamp.encode() + b"." + body,
                    hashlib.sha256).hexdigest()


def send(c, device, event):
    body = json.dumps(event).encode()
    ts = str(int(time.time()))
    headers = {"X-Linli-Device": device["serial"], "X-Linli-Timestamp": ts,
               "X-Linli-Signature": sign(device["secret"], ts, body)}
    return c.request("POST", "/api/v1/device-events", raw=body, headers=headers)


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


def fresh_db(factory):
    path = factory.new_db_path()
    cli("--db", path, "init")
    cli("--db", path, "import", "areas", "--dir", DATA)
    return path


def new_person(c, token, community, name="周桂英", birth="19400315"):
    st, h, b = c.post("/api/v1/people", {"name": name, "id_number": make_id(birth),
                                         "community_code": community, "living_alone": True,
                                         "consent": True}, token=token)
    assert st == 201, b
    return b


def new_device(c, token, person_id=None):
    st, h, d = c.post("/api/v1/devices", {"serial": f"8600{os.getpid() % 10000:04d}"
                                          f"{next(_serials):07d}", "model": "LX-5K"},
                      token=token)
    assert st == 201, d
    if person_id:
        st, h, b = c.post("/api/v1/subscriptions", {"device_id": d["id"], "person_id": person_id},
                          token=token)
        assert st == 201, b
    return d


def tasks(c, token, query=""):
    st, h, b = c.get("/api/v1/tasks?limit=200" + query, token=token)
    assert st == 200, b
    return b["items"]


# --------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def srv(module_factory):
    return module_factory.start(*SHARED_FLAGS, db=fresh_db(module_factory))


@pytest.fixture(scope="module")
def c(srv):
    return srv.client


@pytest.fixture(scope="module")
def admin(srv):
    return srv.admin_token()


@pytest.fixture(scope="module")
def users(c, admin):
    out = {}
    for name, role, scope in (("cp-street", "street", "110105001"),
                              ("cp-far-street", "street", "110105002"),
                              ("cp-community", "community", HERE),
                              ("cp-op1", "operator", "110105001"),
                              ("cp-op2", "operator", "110105001"),
                              ("cp-op-far", "operator", "110105002"),
                              ("cp-resident", "resident", None)):
        u = c.create_user(admin, name, role=role, scope=scope, password=PW)
        out[name[3:]] = {"token": c.login(name, PW), "id": u["id"]}
    return out


@pytest.fixture(scope="module")
def people(c, admin):
    return {"here": new_person(c, admin, HERE),
            "near": new_person(c, admin, NEAR, name="吴秀兰", birth="19440229"),
            "far": new_person(c, admin, FAR, name="郑玉梅")}


# --------------------------------------------------------------------------- plans

def test_staff_make_a_weekly_plan_and_it_reads_back(c, users, people):
    street = users["street"]["token"]
    st, h, b = c.post("/api/v1/care-plans", {"person_id": people["near"]["id"],
                                             "kind": "weekly_call", "weekday": 2,
                                             "time_of_day": "09:30", "note": "爱聊京剧"},
                      token=street)
    assert st == 201, b
    assert h["Location"] == f"/api/v1/care-plans/{b['id']}"
    assert (b["kind"], b["weekday"], b["time_of_day"], b["note"], b["active"]) == \
        ("weekly_call", 2, "09:30", "爱聊京剧", True)
    assert b["person_name"] == "吴秀兰" and b["community_code"] == NEAR
    assert b["interval_days"] is None and b["ends_on"] is None and b["last_due_on"] is None
    st, h, lst = c.get(f"/api/v1/care-plans?person_id={people['near']['id']}", token=street)
    assert st == 200 and [p["id"] for p in lst["items"]] == [b["id"]]
    # operators read plans; another street's staff do not see it
    st, h, lst = c.get("/api/v1/care-plans", token=users["op1"]["token"])
    assert st == 200 and b["id"] in [p["id"] for p in lst["items"]]
    st, h, lst = c.get("/api/v1/care-plans", token=users["far-street"]["token"])
    assert st == 200 and b["id"] not in [p["id"] for p in lst["items"]]


def test_a_plan_is_checked_field_by_field(c, admin, people):
    pid = people["here"]["id"]
    st, h, b = c.post("/api/v1/care-plans", {"person_id": pid, "kind": "weekly_call",
                                             "weekday": 9, "time_of_day": "25:00",
                                             "colour": "red"}, token=admin)
    assert_problem(st, h, b, 422)
    assert "colour" in field_errors(b)
    st, h, b = c.post("/api/v1/care-plans", {"person_id": pid, "kind": "weekly_call",
                                             "weekday": 9, "time_of_day": "25:00"}, token=admin)
    assert_problem(st, h, b, 422)
    assert {"weekday", "time_of_day"} <= set(field_errors(b))
    st, h, b = c.post("/api/v1/care-plans", {"person_id": pid, "kind": "custom",
                                             "starts_on": "2030-02-30"}, token=admin)
    assert_problem(st, h, b, 422)
    assert {"interval_days", "starts_on"} <= set(field_errors(b))
    st, h, b = c.post("/api/v1/care-plans", {"person_id": pid, "kind": "fortnightly"},
                      token=admin)
    assert_problem(st, h, b, 422)
    assert "kind" in field_errors(b)
    st, h, b = c.post("/api/v1/care-plans", {"person_id": 999999, "kind": "birthday_call"},
                      token=admin)
    assert_problem(st, h, b, 422)
    assert "person_id" in field_errors(b)


def test_a_daily_checkin_needs_a_device_in_force(c, admin, users, people):
    pid = people["here"]["id"]
    st, h, b = c.post("/api/v1/care-plans", {"person_id": pid, "kind": "daily_checkin"},
                      token=users["community"]["token"])
    assert_problem(st, h, b, 422)
    assert "subscription" in field_errors(b)["person_id"]
    new_device(c, admin, pid)
    st, h, b = c.post("/api/v1/care-plans", {"person_id": pid, "kind": "daily_checkin",
                                             "time_of_day": "08:00"},
                      token=users["community"]["token"])
    assert st == 201, b
    assert b["kind"] == "daily_checkin" and b["time_of_day"] == "08:00"
    st, h, b2 = c.post("/api/v1/care-plans", {"person_id": pid, "kind": "daily_checkin"},
                       token=users["community"]["token"])
    assert_problem(st, h, b2, 409)


def test_who_may_make_and_change_plans(c, admin, users, people):
    body = {"person_id": people["far"]["id"], "kind": "custom", "interval_days": 14}
    st, h, b = c.post("/api/v1/care-plans", body, token=users["op1"]["token"])
    assert_problem(st, h, b, 403)
    st, h, b = c.post("/api/v1/care-plans", body, token=users["resident"]["token"])
    assert_problem(st, h, b, 403)
    st, h, b = c.post("/api/v1/care-plans", body)
    assert_problem(st, h, b, 401)
    st, h, b = c.post("/api/v1/care-plans", body, token=users["street"]["token"])
    assert_problem(st, h, b, 422)  # not in their area: as good as absent
    assert "person_id" in field_errors(b)
    st, h, plan = c.post("/api/v1/care-plans", body, token=users["far-street"]["token"])
    assert st == 201, plan
    # change: only the fields a plan may change
    url = f"/api/v1/care-plans/{plan['id']}"
    st, h, b = c.patch(url, {"active": False}, token=users["street"]["token"])
    assert_problem(st, h, b, 404)
    st, h, b = c.patch(url, {"kind": "weekly_call"}, token=users["far-street"]["token"])
    assert_problem(st, h, b, 422)
    assert "kind" in field_errors(b)
    st, h, b = c.patch(url, {}, token=users["far-street"]["token"])
    assert_problem(st, h, b, 422)
    st, h, b = c.patch(url, {"ends_on": "1999-01-01"}, token=users["far-street"]["token"])
    assert_problem(st, h, b, 422)
    assert "ends_on" in field_errors(b)
    st, h, b = c.patch(url, {"active": False, "ends_on": "2099-12-31", "note": "住院中"},
                       token=users["far-street"]["token"])
    assert st == 200, b
    assert (b["active"], b["ends_on"], b["note"]) == (False, "2099-12-31", "住院中")
    st, h, b = c.patch(url, {"ends_on": None}, token=admin)
    assert st == 200 and b["ends_on"] is None, b
    audit = c.audit(admin, "&action=care_plan.")
    assert {e["action"] for e in audit if e["object"] == f"care_plan:{plan['id']}"} == \
        {"care_plan.create", "care_plan.update"}


def test_plan_list_pages_and_checks_its_query(c, admin, people):
    for kind in ("birthday_call", "discharge_followup"):
        st, h, b = c.post("/api/v1/care-plans", {"person_id": people["near"]["id"],
                                                 "kind": kind}, token=admin)
        assert st == 201, b
    seen, cursor = [], None
    for _ in range(100):
        q = f"/api/v1/care-plans?limit=1&person_id={people['near']['id']}"
        st, h, b = c.get(q + (f"&cursor={cursor}" if cursor else ""), token=admin)
        assert st == 200, b
        seen += [p["id"] for p in b["items"]]
        cursor = b["next_cursor"]
        if not cursor:
            break
    assert len(seen) >= 3 and seen == sorted(seen) and len(set(seen)) == len(seen)
    st, h, b = c.get("/api/v1/care-plans?person_id=abc", token=admin)
    assert_problem(st, h, b, 422)
    st, h, b = c.get("/api/v1/care-plans?kind=x", token=admin)
    assert_problem(st, h, b, 422)


# --------------------------------------------------------------------------- tasks

@pytest.fixture(scope="module")
def alarmed(c, admin, people):
    """Two no-activity alarms from a device of "here": two urgent tasks."""
    d = new_device(c, admin, people["here"]["id"])
    ids = []
    for hours in (12, 24):
        st, h, b = send(c, d, {"event_id": f"na-{next(_events)}", "type": "no_activity",
                               "hours": hours})
        assert st in (200, 201), b
        assert b.get("task_id"), b
        ids.append(b["task_id"])
    return ids


def test_an_alarm_is_an_urgent_task_in_scope(c, users, alarmed, people):
    items = tasks(c, users["op1"]["token"], f"&kind=no_activity&person_id={people['here']['id']}")
    mine = [t for t in items if t["id"] in alarmed]
    assert len(set(alarmed)) == 2 and len(mine) == 2
    t = mine[0]
    assert (t["kind"], t["priority"], t["state"], t["community_code"]) == \
        ("no_activity", 0, "open", HERE)
    assert t["person_name"] == "周桂英" and t["operator_id"] is None and t["due_at"]
    assert not [x for x in tasks(c, users["op-far"]["token"]) if x["id"] in alarmed]
    st, h, b = c.get("/api/v1/tasks", token=users["resident"]["token"])
    assert_problem(st, h, b, 403)


def test_claim_then_finish_by_the_claimer_only(c, srv, users, alarmed):
    tid = alarmed[0]
    op1, op2 = users["op1"]["token"], users["op2"]["token"]
    st, h, b = c.post(f"/api/v1/tasks/{tid}/finish", {"state": "done", "outcome": "ok"},
                      token=op1)
    assert_problem(st, h, b, 409)  # claim first
    st, h, b = c.post(f"/api/v1/tasks/{tid}/claim", token=op1)
    assert st == 200 and b["state"] == "claimed" and b["operator"] == "cp-op1", b
    st, h, b = c.post(f"/api/v1/tasks/{tid}/claim", token=op2)
    assert_problem(st, h, b, 409)
    assert "cp-op1" in b["detail"]
    st, h, b = c.post(f"/api/v1/tasks/{tid}/claim", token=users["op-far"]["token"])
    assert_problem(st, h, b, 404)
    st, h, b = c.post(f"/api/v1/tasks/{tid}/claim", token=users["street"]["token"])
    assert_problem(st, h, b, 403)
    st, h, b = c.post(f"/api/v1/tasks/{tid}/finish", {"state": "done", "outcome": "ok"},
                      token=op2)
    assert_problem(st, h, b, 409)
    st, h, b = c.post(f"/api/v1/tasks/{tid}/finish", {"state": "cancelled", "outcome": "x"},
                      token=op1)
    assert_problem(st, h, b, 422)
    assert "state" in field_errors(b)
    st, h, b = c.post(f"/api/v1/tasks/{tid}/finish", {"state": "done"}, token=op1)
    assert_problem(st, h, b, 422)
    assert "outcome" in field_errors(b)
    st, h, b = c.post(f"/api/v1/tasks/{tid}/finish",
                      {"state": "done", "outcome": "上门查看，老人午睡未起，一切正常"}, token=op1)
    assert st == 200, b
    assert b["state"] == "done" and b["done_at"] and b["outcome"].startswith("上门")
    st, h, b = c.post(f"/api/v1/tasks/{tid}/finish", {"state": "failed", "outcome": "x"},
                      token=op1)
    assert_problem(st, h, b, 409)
    assert db_rows(srv, "SELECT dedupe FROM tasks WHERE id = ?", tid) == [(None,)]
    assert [t["id"] for t in tasks(c, op1, "&state=done")] == [tid]
    assert tid not in [t["id"] for t in tasks(c, op1)]  # open and claimed only by default


def test_staff_cancel_operators_do_not(c, users, alarmed):
    tid = alarmed[1]
    st, h, b = c.post(f"/api/v1/tasks/{tid}/cancel", token=users["op1"]["token"])
    assert_problem(st, h, b, 403)
    st, h, b = c.post(f"/api/v1/tasks/{tid}/cancel", {"outcome": "家属已确认"},
                      token=users["far-street"]["token"])
    assert_problem(st, h, b, 404)
    st, h, b = c.post(f"/api/v1/tasks/{tid}/cancel", {"outcome": "家属已确认"},
                      token=users["community"]["token"])
    assert st == 200 and b["state"] == "cancelled" and b["outcome"] == "家属已确认", b
    st, h, b = c.post(f"/api/v1/tasks/{tid}/cancel", token=users["community"]["token"])
    assert_problem(st, h, b, 409)
    st, h, b = c.post("/api/v1/tasks/999999/claim", token=users["op1"]["token"])
    assert_problem(st, h, b, 404)


def test_mine_lists_the_tasks_the_caller_claimed(c, admin, users, people):
    d = new_device(c, admin, people["here"]["id"])
    made = []
    for hours in (3, 4, 5):
        st, h, b = send(c, d, {"event_id": f"na-{next(_events)}", "type": "no_activity",
                               "hours": hours})
        assert st in (200, 201) and b.get("task_id"), b
        made.append(b["task_id"])
    op1, op2 = users["op1"], users["op2"]
    for who, tid in ((op1, made[0]), (op2, made[1])):
        st, h, b = c.post(f"/api/v1/tasks/{tid}/claim", token=who["token"])
        assert st == 200, b

    def ids(token, query):
        return [t["id"] for t in tasks(c, token, query) if t["id"] in made]

    assert ids(op1["token"], "&mine=true") == [made[0]]
    assert ids(op2["token"], "&mine=true") == [made[1]]
    assert all(t["operator_id"] == op1["id"] and t["state"] == "claimed"
               for t in tasks(c, op1["token"], "&mine=true")), "only op1's claimed tasks"
    assert ids(op1["token"], "&mine=false") == ids(op1["token"], "") == made
    assert ids(admin, "&mine=true") == []
    # finished, it leaves the default list and is found with its state
    st, h, b = c.post(f"/api/v1/tasks/{made[0]}/finish", {"state": "done", "outcome": "已回访"},
                      token=op1["token"])
    assert st == 200, b
    assert ids(op1["token"], "&mine=true") == []
    assert ids(op1["token"], "&mine=true&state=done") == [made[0]]
    assert ids(op2["token"], "&mine=true&state=done") == []
    st, h, b = c.get("/api/v1/tasks?mine=yes", token=op1["token"])
    assert_problem(st, h, b, 422)
    assert "mine" in field_errors(b)


def test_task_changes_reach_the_general_stream_of_staff_in_scope(c, srv, admin, users,
                                                                 people):
    community = SSEStream(srv.port, token=users["community"]["token"])
    far = SSEStream(srv.port, token=users["far-street"]["token"])
    try:
        assert community.status == far.status == 200
        d = new_device(c, admin, people["here"]["id"])
        st, h, b = send(c, d, {"event_id": f"na-{next(_events)}", "type": "no_activity",
                               "hours": 6})
        assert st in (200, 201) and b.get("task_id"), b
        tid = b["task_id"]
        op1 = users["op1"]["token"]
        st, h, b = c.post(f"/api/v1/tasks/{tid}/claim", token=op1)
        assert st == 200, b
        st, h, b = c.post(f"/api/v1/tasks/{tid}/finish", {"state": "done", "outcome": "已回访"},
                          token=op1)
        assert st == 200, b
        # Ids and codes only: no name, note or outcome.
        for state in ("open", "claimed", "done"):
            ev = community.wait_for(lambda e: e["event"] == "task.updated" and
                                    json.loads(e["data"])["id"] == tid, 10)
            assert ev is not None, f"no task.updated {state}"
            assert json.loads(ev["data"]) == {"id": tid, "kind": "no_activity", "state": state,
                                              "community_code": HERE}
        assert far.wait_for(lambda e: e["event"] == "task.updated", 1) is None
    finally:
        community.close()
        far.close()


def test_the_task_list_checks_its_query(c, users):
    op = users["op1"]["token"]
    for q, field in (("?state=lost", "state"), ("?kind=walk", "kind"),
                     ("?person_id=-1", "person_id"), ("?limit=0", "limit"),
                     ("?cursor=zz", "cursor")):
        st, h, b = c.get("/api/v1/tasks" + q, token=op)
        assert_problem(st, h, b, 422)
        assert field in field_errors(b), (q, b)
    st, h, b = c.get("/api/v1/tasks?sort=due", token=op)
    assert_problem(st, h, b, 422)


def test_the_task_list_pages_most_urgent_first(c, srv, admin, users, people):
    """Urgent before normal before maintenance, then by due time; pages by cursor."""
    d = new_device(c, admin, people["near"]["id"])
    for _ in range(3):
        st, h, b = send(c, d, {"event_id": f"na-{next(_events)}", "type": "no_activity",
                               "hours": 6})
        assert st in (200, 201), b
    st, h, b = send(c, d, {"event_id": f"lb-{next(_events)}", "type": "low_battery",
                           "battery": 9})
    assert st in (200, 201), b
    want = tasks(c, admin, f"&person_id={people['near']['id']}")
    assert len(want) >= 2
    keys = [(t["priority"], t["due_at"], t["id"]) for t in want]
    assert keys == sorted(keys)
    got, cursor = [], None
    for _ in range(50):
        q = f"/api/v1/tasks?limit=1&person_id={people['near']['id']}"
        st, h, b = c.get(q + (f"&cursor={cursor}" if cursor else ""), token=admin)
        assert st == 200, b
        got += [t["id"] for t in b["items"]]
        cursor = b["next_cursor"]
        if not cursor:
            break
    assert got == [t["id"] for t in want]


# --------------------------------------------------------------------------- the watchdog

def test_a_device_never_heard_from_gets_one_maintenance_task(server_factory):
    """With the watchdog at 1 s and the checks every second, a subscribed device
    that sends nothing gets a device_silent task, and only one."""
    srv = server_factory.start("--device-silent-s", "1", "--care-tick-s", "1",
                               db=fresh_db(server_factory))
    c = srv.client
    tok = srv.admin_token()
    person = new_person(c, tok, HERE, name="钱淑珍")
    d = new_device(c, tok, person["id"])
    lonely = new_device(c, tok)  # no subscription: no task
    found = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not found:
        found = tasks(c, tok, "&kind=device_silent")
        if not found:
            time.sleep(0.2)
    assert len(found) == 1, found
    t = found[0]
    assert (t["device_id"], t["person_id"], t["priority"], t["community_code"]) == \
        (d["id"], person["id"], 2, HERE)
    assert "never heard" in t["note"]
    time.sleep(2.5)  # two more checks: still one task
    again = tasks(c, tok, "&kind=device_silent")
    assert [x["id"] for x in again] == [t["id"]]
    assert lonely["id"] not in [x["device_id"] for x in again]
    server_factory.stop(srv)
