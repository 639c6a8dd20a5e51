"""The case workflow's figures, search and export, end to end: cases raised
and moved through the API, then GET /api/v1/reports/cases (rates, ranking),
/reports/cases/recurring, /cases/search (Chinese by 2 and 3+ characters, in
the caller's view) and /cases/export.csv (the visible fields round-trip, the
formula guard, no contact details), and `linli export cases`.

One server per module over a database holding the official Chaoyang areas."""
import csv
import io
import os
import urllib.parse
from datetime import datetime, timedelta, timezone

import pytest

from conftest import (ADMIN_PASSWORD, SHARED_FLAGS, SOURCE_DIR, assert_problem, field_errors,
                      run_cli)

PW = "cases-stats-pw-1"
NLJY = "110105001024"          # 南郎家园, in 建外
BLJY = "110105001025"          # 北郎家园, in 建外
NLJY_POINT = {"lat": 39.9061, "lon": 116.4599}
AREAS_DIR = os.path.join(SOURCE_DIR, "data", "chaoyang")
SHANGHAI = timezone(timedelta(hours=8))


def rfc3339(dt):
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def q(params):
    return urllib.parse.urlencode(params)


@pytest.fixture(scope="module")
def net(module_factory):
    db = module_factory.new_db_path()
    r = run_cli(["--db", db, "init"], env={"LINLI_ADMIN_PASSWORD": ADMIN_PASSWORD})
    assert r.returncode == 0, r.stderr
    r = run_cli(["--db", db, "import", "areas", "--dir", AREAS_DIR])
    assert r.returncode == 0, r.stderr
    return module_factory.start(*SHARED_FLAGS, db=db)


@pytest.fixture(scope="module")
def client(net):
    return net.client


@pytest.fixture(scope="module")
def tok(net, client):
    admin = net.admin_token()
    specs = {"resident": ("resident", None), "neighbour": ("resident", None),
             "community": ("community", NLJY), "other_community": ("community", BLJY),
             "street": ("street", "110105001")}
    toks, ids = {"admin": admin}, {}
    for name, (role, scope) in specs.items():
        u = client.create_user(admin, f"stats-{name}", role=role, scope=scope, password=PW)
        ids[name] = u["id"]
        toks[name] = client.login(f"stats-{name}", PW)
    toks["ids"] = ids
    return toks


def new_case(client, token, **extra):
    body = {"category": "corridor_clutter", "point": NLJY_POINT}
    body.update(extra)
    st, h, b = client.post("/api/v1/cases", body, token=token)
    assert st == 201, b
    return b


def move(client, token, cid, to, **extra):
    st, h, b = client.post(f"/api/v1/cases/{cid}/transitions", dict(to=to, **extra),
                           token=token)
    assert st == 200, (to, st, b)
    return b


def resolve(client, token, cid, first=True):
    if first:
        move(client, token, cid, "accepted")
        move(client, token, cid, "dispatched")
        move(client, token, cid, "in_progress")
    move(client, token, cid, "resolved", note="已清理")


def rate(client, token, cid, rating):
    st, h, b = client.post(f"/api/v1/cases/{cid}/rating", {"rating": rating}, token=token)
    assert st == 200, b


@pytest.fixture(scope="module")
def cases(client, tok):
    """A: resolved, rated satisfied. B: resolved, rated unsatisfied, reopened, resolved again,
    rated basically satisfied. C: left submitted. D: rejected. E: the formula guard's case,
    recorded on the hotline with the caller's phone."""
    res, com = tok["resident"], tok["community"]
    a = new_case(client, res, title="楼道堆放纸箱", description="三号楼二单元楼道堆满纸箱，影响通行")
    resolve(client, com, a["id"])
    rate(client, res, a["id"], "satisfied")
    b = new_case(client, res, title="自行车堆放", description="车棚外自行车乱放")
    resolve(client, com, b["id"])
    rate(client, res, b["id"], "unsatisfied")
    move(client, res, b["id"], "in_progress", note="又堆上了")
    resolve(client, com, b["id"], first=False)
    rate(client, res, b["id"], "basically_satisfied")
    c = new_case(client, res, title="电线杆小广告", description="电线杆上贴满小广告",
                 category="small_ads")
    d = new_case(client, res, title="重复提交", description="同一件事")
    move(client, com, d["id"], "rejected", reason="与已有事项相同")
    e = new_case(client, com, channel="hotline", title="=HYPERLINK(\"x\")",
                 description="+86 来电, \"楼道\" 有杂物", contact_name="王先生",
                 contact_phone="13912345678", address="@建国门外大街1号")
    return {"a": a, "b": b, "c": c, "d": d, "e": e}


def window():
    now = datetime.now(timezone.utc)
    return {"from": rfc3339(now - timedelta(days=1)), "to": rfc3339(now + timedelta(days=30))}


def unit_row(report, code):
    for u in report["units"]:
        if u["unit"] == code:
            return u
    return None


# ---- the figures ----

def test_the_figures_count_what_the_workflow_did(client, tok, cases):
    st, h, b = client.get("/api/v1/reports/cases?" + q(window()), token=tok["community"])
    assert st == 200, b
    u = unit_row(b, NLJY)
    assert u is not None, b
    assert u["name"] == "南郎家园社区居委会"
    assert u["received"] == 5
    assert u["states"]["closed"] + u["states"]["resolved"] == 2
    assert u["states"]["submitted"] == 2 and u["states"]["rejected"] == 1
    # A, B accepted and D rejected just now, long before their 24-hour limits; C and E pending
    assert u["response"] == {"due": 3, "on_time": 3, "late": 0, "pending": 2, "rate": 1.0}
    # A once, B twice (the reopening starts a fresh 7-day limit), each resolved at once
    assert u["resolution"] == {"due": 3, "on_time": 3, "late": 0, "pending": 0, "rate": 1.0}
    sat = u["satisfaction"]
    assert (sat["rated"], sat["satisfied"], sat["basically_satisfied"], sat["unsatisfied"]) == \
        (3, 1, 1, 1)
    assert abs(sat["rate"] - 2 / 3) < 1e-9
    assert u["reopened"] == 1
    assert abs(u["score"] - (1 + 1 + 2 / 3) / 3) < 1e-9
    assert u["rank"] == 1
    assert b["totals"]["received"] == 5
    assert b["ranking"].startswith("score = mean")


def test_the_figures_are_scoped_and_checked(client, tok, cases):
    w = window()
    st, h, b = client.get("/api/v1/reports/cases?" + q(w), token=tok["other_community"])
    assert st == 200, b
    assert unit_row(b, NLJY) is None
    st, h, b = client.get("/api/v1/reports/cases?" + q(dict(w, unit=NLJY)),
                          token=tok["other_community"])
    assert_problem(st, h, b, 403)
    st, h, b = client.get("/api/v1/reports/cases?" + q(dict(w, unit=NLJY)), token=tok["street"])
    assert st == 200 and [u["unit"] for u in b["units"]] == [NLJY], b
    st, h, b = client.get("/api/v1/reports/cases?" + q(w), token=tok["resident"])
    assert_problem(st, h, b, 403)
    st, h, b = client.get("/api/v1/reports/cases?" + q(dict(w, area="110105002")),
                          token=tok["street"])
    assert_problem(st, h, b, 403)
    st, h, b = client.get("/api/v1/reports/cases?from=yesterday&to=2026-01-01T00:00:00Z&x=1",
                          token=tok["admin"])
    assert_problem(st, h, b, 422)
    st, h, b = client.get("/api/v1/reports/cases?from=yesterday", token=tok["admin"])
    assert_problem(st, h, b, 422)
    assert "from" in field_errors(b)
    st, h, b = client.get("/api/v1/reports/cases?from=2025-01-01T00:00:00Z&"
                          "to=2026-06-01T00:00:00Z", token=tok["admin"])
    assert_problem(st, h, b, 422)
    assert "366 days" in field_errors(b)["from"]
    # no period: the current month in Asia/Shanghai
    st, h, b = client.get("/api/v1/reports/cases", token=tok["admin"])
    assert st == 200, b
    start = datetime.now(SHANGHAI).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    assert b["from"] == start.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def test_recurring_problems_of_the_month(client, tok, cases):
    st, h, b = client.get("/api/v1/reports/cases/recurring?limit=5", token=tok["street"])
    assert st == 200, b
    assert b["month"] == datetime.now(SHANGHAI).strftime("%Y-%m")
    top = b["items"][0]
    # A, B, E (corridor clutter in 南郎家园); D was rejected and does not count
    assert (top["category"], top["area_code"], top["count"]) == ("corridor_clutter", NLJY, 3)
    assert top["category_name"] == "堆物堆料" and top["area_name"] == "南郎家园社区居委会"
    assert top["previous"] == 0 and top["change"] == 3 and top["rank"] == 1
    assert [(i["category"], i["count"]) for i in b["items"][1:]] == [("small_ads", 1)]
    st, h, b = client.get("/api/v1/reports/cases/recurring?month=2026-13", token=tok["street"])
    assert_problem(st, h, b, 422)
    st, h, b = client.get("/api/v1/reports/cases/recurring", token=tok["other_community"])
    assert st == 200 and b["items"] == [], b


# ---- search ----

def search(client, token, **params):
    st, h, b = client.get("/api/v1/cases/search?" + q(params), token=token)
    assert st == 200, b
    return [c["id"] for c in b["items"]], b


def test_search_finds_chinese_by_three_characters_and_by_two(client, tok, cases):
    ids, _ = search(client, tok["community"], q="小广告")
    assert ids == [cases["c"]["id"]]
    ids, _ = search(client, tok["community"], q="影响通行")
    assert ids == [cases["a"]["id"]]
    ids, _ = search(client, tok["community"], q="堆放")          # two characters
    assert ids == [cases["b"]["id"], cases["a"]["id"]]
    ids, _ = search(client, tok["community"], q="楼道")
    assert ids == [cases["e"]["id"], cases["a"]["id"]]
    ids, _ = search(client, tok["community"], q="堆放", status="closed")
    assert ids == []
    ids, _ = search(client, tok["community"], q="楼道", category="corridor_clutter",
                    area="110105001", unit=NLJY)
    assert ids == [cases["e"]["id"], cases["a"]["id"]]
    # status=open leaves out rejected D; dates are Asia/Shanghai days, as GET /api/v1/cases takes
    today = datetime.now(SHANGHAI).date()
    ids, _ = search(client, tok["community"], q="事")
    assert ids == [cases["d"]["id"]]
    ids, _ = search(client, tok["community"], q="事", status="open")
    assert ids == []
    ids, _ = search(client, tok["community"], q="电", **{"from": str(today),
                                                        "to": str(today + timedelta(days=1))})
    assert ids == [cases["e"]["id"], cases["c"]["id"]]
    ids, _ = search(client, tok["community"], q="电", to=str(today - timedelta(days=1)))
    assert ids == []


def test_search_pages_and_keeps_to_the_callers_view(client, tok, cases):
    ids, b = search(client, tok["community"], limit=2)
    assert ids == [cases["e"]["id"], cases["d"]["id"]] and b["next_cursor"]
    ids2, b2 = search(client, tok["community"], limit=2, cursor=b["next_cursor"])
    assert ids2 == [cases["c"]["id"], cases["b"]["id"]]
    ids, _ = search(client, tok["neighbour"], q="楼道")
    assert ids == []
    ids, b = search(client, tok["resident"], q="楼道")
    assert ids == [cases["a"]["id"]]          # E was raised by the community on the hotline
    ids, _ = search(client, tok["other_community"], q="小广告")
    assert ids == []
    st, h, b = client.get("/api/v1/cases/search?" + q({"q": "长" * 65}), token=tok["community"])
    assert_problem(st, h, b, 422)
    assert "q" in field_errors(b)
    st, h, b = client.get("/api/v1/cases/search?status=opened", token=tok["community"])
    assert_problem(st, h, b, 422)
    st, h, b = client.get("/api/v1/cases/search?" + q({"q": "楼道"}))
    assert_problem(st, h, b, 401)


# ---- export ----

def export(client, token, **params):
    return client.get("/api/v1/cases/export.csv?" + q(params), token=token)


def test_the_export_round_trips_the_visible_fields(client, tok, cases):
    st, h, body = export(client, tok["community"], area=NLJY)
    assert st == 200, body
    assert h["Content-Type"].startswith("text/csv")
    assert "attachment" in h["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(body)))
    assert [int(r["id"]) for r in rows] == [cases[k]["id"] for k in "edcba"]
    for r in rows:
        st, hh, c = client.get(f"/api/v1/cases/{r['id']}", token=tok["community"])
        assert st == 200
        for k in ("number", "channel", "category", "state", "priority", "area_code",
                  "deadline_class"):
            assert r[k] == c[k], (k, r[k], c[k])
        if not r["title"].startswith("'"):
            assert (r["title"], r["description"], r["address"]) == \
                (c["title"], c["description"], c["address"])
        assert r["unit"] == c["unit_code"]
        assert abs(float(r["lat"]) - c["point"]["lat"]) < 1e-6
        assert r["created_at"][:19] == c["created_at"][:19]
        assert r["rating"] == (c["rating"]["rating"] if c["rating"] else "")
    by_id = {int(r["id"]): r for r in rows}
    assert by_id[cases["b"]["id"]]["resolutions"] == "2"
    assert by_id[cases["d"]["id"]]["reason"] == "与已有事项相同"


def test_the_export_guards_formulas_and_has_no_contact_details(client, tok, cases):
    st, h, body = export(client, tok["street"], q="HYPERLINK")
    assert st == 200, body
    rows = list(csv.DictReader(io.StringIO(body)))
    assert len(rows) == 1
    r = rows[0]
    assert r["title"] == "'=HYPERLINK(\"x\")"
    assert r["description"] == "'+86 来电, \"楼道\" 有杂物"
    assert r["address"] == "'@建国门外大街1号"
    assert "13912345678" not in body and "王先生" not in body
    assert r["channel"] == "hotline"


def test_the_export_is_for_staff_and_audited(client, tok, cases):
    st, h, b = export(client, tok["resident"])
    assert_problem(st, h, b, 403)
    st, h, b = export(client, tok["community"], status="nonsense")
    assert_problem(st, h, b, 422)
    st, h, b = export(client, tok["community"], limit="5")
    assert_problem(st, h, b, 422)
    entries = client.audit(tok["admin"], "&action=case.export")
    assert entries and entries[0]["object"] == "cases"


def test_the_command_line_exports_the_same_rows(net, client, tok, cases, tmp_path):
    out = tmp_path / "cases.csv"
    r = run_cli(["--db", net.db, "export", "cases", "--area", NLJY, "--q", "楼道", str(out)])
    assert r.returncode == 0, r.stderr
    assert "Exported 2 cases" in r.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [int(x["id"]) for x in rows] == [cases["e"]["id"], cases["a"]["id"]]
    st, h, body = export(client, tok["community"], area=NLJY, q="楼道")
    assert st == 200
    assert out.read_text(encoding="utf-8") == body
    r = run_cli(["--db", net.db, "export", "cases", "--status", "nonsense"])
    assert r.returncode != 0 and "status" in r.stderr
