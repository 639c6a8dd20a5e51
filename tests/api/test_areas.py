"""Areas: import of the official Chaoyang lists, public reads, counts, splits,
history, and the district boundary."""
import os
import sqlite3

import pytest

from conftest import ADMIN_PASSWORD, SOURCE_DIR, assert_problem, field_errors, run_cli

DATA = os.path.join(SOURCE_DIR, "data", "chaoyang")
BOUNDARY = os.path.join(DATA, "boundary_gcj02.geojson")


@pytest.fixture(scope="module")
def area_db(module_factory):
    db = module_factory.new_db_path()
    r = run_cli(["--db", db, "init"], env={"LINLI_ADMIN_PASSWORD": ADMIN_PASSWORD})
    assert r.returncode == 0, r.stderr
    r = run_cli(["--db", db, "import", "areas", "--dir", DATA])
    assert r.returncode == 0, r.stderr
    assert "681 added" in r.stdout
    return db


@pytest.fixture(scope="module")
def srv(module_factory, area_db):
    return module_factory.start("--boundary", BOUNDARY, db=area_db)


def users(srv, admin_token):
    c = srv.client
    out = {}
    for name, role, scope in [("st1", "street", "110105001"), ("co1", "community", "110105001024"),
                              ("co2", "community", "110105002001"), ("res", "resident", None)]:
        c.create_user(admin_token, name, role=role, scope=scope, password="password-" + name)
        out[name] = c.login(name, "password-" + name)
    return out


@pytest.fixture(scope="module")
def tokens(srv):
    admin = srv.admin_token()
    t = users(srv, admin)
    t["admin"] = admin
    return t


def test_import_creates_the_2020_hierarchy(area_db):
    con = sqlite3.connect(area_db)
    rows = dict(con.execute("SELECT level, count(*) FROM areas GROUP BY level").fetchall())
    assert rows == {0: 1, 1: 43, 2: 637}
    kinds = dict(con.execute("SELECT kind, count(*) FROM areas GROUP BY kind").fetchall())
    assert kinds["village"] == 143 and kinds["community"] == 494
    assert kinds["street"] + kinds["township"] == 43
    # No street 020; the airport exclave is 400.
    codes = {r[0] for r in con.execute("SELECT code FROM areas WHERE level = 1")}
    assert "110105020000" not in codes and "110105400000" in codes


def test_points_are_converted_from_gcj02_and_labelled(area_db):
    con = sqlite3.connect(area_db)
    lat, lon, crs = con.execute(
        "SELECT lat, lon, point_crs FROM areas WHERE code = '110105001024'").fetchone()
    assert crs == "gcj02"
    # The source gives 39.907389, 116.466033 in GCJ-02; WGS-84 lies a few hundred metres off.
    dlat, dlon = (39.907389 - lat) * 111000, (116.466033 - lon) * 85000
    shift = (dlat ** 2 + dlon ** 2) ** 0.5
    assert 200 < shift < 800


def test_reimporting_the_same_edition_changes_nothing(area_db):
    r = run_cli(["--db", area_db, "import", "areas", "--dir", DATA])
    assert r.returncode == 0, r.stderr
    assert "0 added" in r.stdout and "0 retired" in r.stdout and "681 unchanged" in r.stdout


def test_an_older_edition_is_refused(tmp_path, area_db):
    d = tmp_path / "old"
    d.mkdir()
    for name in ("streets", "communities"):
        src = open(os.path.join(DATA, f"{name}_2020.csv"), encoding="utf-8").read()
        (d / f"{name}_2016.csv").write_text(src, encoding="utf-8")
    r = run_cli(["--db", area_db, "import", "areas", "--dir", str(d), "--edition", "2016"])
    assert r.returncode != 0
    assert "older" in r.stderr


def test_a_newer_edition_adds_renames_and_retires(tmp_path, module_factory):
    db = module_factory.new_db_path()
    assert run_cli(["--db", db, "init"], env={"LINLI_ADMIN_PASSWORD": ADMIN_PASSWORD}).returncode == 0
    assert run_cli(["--db", db, "import", "areas", "--dir", DATA]).returncode == 0
    d = tmp_path / "new"
    d.mkdir()
    (d / "streets_2024.csv").write_text(
        open(os.path.join(DATA, "streets_2020.csv"), encoding="utf-8").read(), encoding="utf-8")
    lines = open(os.path.join(DATA, "communities_2020.csv"), encoding="utf-8").read().splitlines()
    header, rows = lines[0], lines[1:]
    gone = rows[0].split(",")[0]
    renamed = rows[1].split(",")
    kept = rows[2:]
    new_rows = kept + [f"{renamed[0]},新名字社区居委会,{renamed[2]}",
                       "110105001999,新建社区居委会,110105001"]
    (d / "communities_2024.csv").write_text("\n".join([header] + new_rows) + "\n", encoding="utf-8")
    r = run_cli(["--db", db, "import", "areas", "--dir", str(d), "--edition", "2024"])
    assert r.returncode == 0, r.stderr
    assert "1 added" in r.stdout and "1 renamed" in r.stdout and "1 retired" in r.stdout
    con = sqlite3.connect(db)
    assert con.execute("SELECT retired_edition FROM areas WHERE code = ?", (gone,)).fetchone()[0] == 2024
    ev = con.execute("SELECT event, old_value, new_value FROM area_events WHERE code = ? ORDER BY id",
                     (renamed[0],)).fetchall()
    assert ev[-1] == ("renamed", renamed[1], "新名字社区居委会")
    assert con.execute("SELECT count(*) FROM areas").fetchone()[0] == 682  # nothing deleted


def test_bad_rows_in_a_list_import_nothing(tmp_path, module_factory):
    db = module_factory.new_db_path()
    assert run_cli(["--db", db, "init"], env={"LINLI_ADMIN_PASSWORD": ADMIN_PASSWORD}).returncode == 0
    d = tmp_path / "bad"
    d.mkdir()
    (d / "streets_2020.csv").write_text("code,name,parent_code\n110105001,建外街道,110105\n",
                                        encoding="utf-8")
    (d / "communities_2020.csv").write_text(
        "code,name,parent_code\n110105001024,南郎家园社区居委会,110105001\nABC,坏,110105001\n",
        encoding="utf-8")
    r = run_cli(["--db", db, "import", "areas", "--dir", str(d)])
    assert r.returncode != 0
    assert "line 3" in r.stderr
    con = sqlite3.connect(db)
    assert con.execute("SELECT count(*) FROM areas").fetchone()[0] == 0


def test_list_by_parent_and_level_pages_through_all(srv):
    c = srv.client
    seen, cursor = [], None
    while True:
        q = "/api/v1/areas?parent=110105001&limit=4" + (f"&cursor={cursor}" if cursor else "")
        st, _, body = c.get(q)
        assert st == 200
        seen += [a["code"] for a in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 9
    assert all(code.startswith("110105001") for code in seen)
    st, _, body = c.get("/api/v1/areas?level=street&limit=100")
    assert st == 200 and len(body["items"]) == 43


def test_get_area_has_counts_and_sub_areas(srv):
    st, _, a = srv.client.get("/api/v1/areas/110105001")
    assert st == 200
    assert a["code"] == "110105001000" and a["name"] == "建外街道" and a["level"] == "street"
    assert a["counts"]["sub_areas"] == 9
    assert a["counts"]["households"] is None


@pytest.mark.parametrize("path,want", [("/api/v1/areas/110105999", 404), ("/api/v1/areas/abc", 404),
                                       ("/api/v1/areas?level=city", 422),
                                       ("/api/v1/areas?parent=12", 422),
                                       ("/api/v1/areas?colour=red", 422)])
def test_bad_area_queries(srv, path, want):
    st, h, body = srv.client.get(path)
    assert_problem(st, h, body, want)


def test_counts_by_staff_in_scope(srv, tokens):
    c = srv.client
    st, _, a = c.patch("/api/v1/areas/110105001024", {"households": 3200, "residents": 8000,
                                                      "elderly": 1700}, token=tokens["co1"])
    assert st == 200, a
    assert a["counts"] == {"households": 3200, "residents": 8000, "elderly": 1700, "sub_areas": 0}
    st, _, a = c.patch("/api/v1/areas/110105001025", {"households": 900}, token=tokens["st1"])
    assert st == 200 and a["counts"]["households"] == 900
    st, _, h = c.get("/api/v1/areas/110105001024/history")
    assert st == 200 and h["events"][-1]["event"] == "counts"


@pytest.mark.parametrize("who,code,want", [("co2", "110105001024", 404), ("co1", "110105001025", 404),
                                           ("res", "110105001024", 403)])
def test_counts_outside_scope_or_role_are_refused(srv, tokens, who, code, want):
    before = srv.client.get(f"/api/v1/areas/{code}")[2]["counts"]
    st, h, body = srv.client.patch(f"/api/v1/areas/{code}", {"households": 1}, token=tokens[who])
    assert_problem(st, h, body, want)
    assert srv.client.get(f"/api/v1/areas/{code}")[2]["counts"] == before


def test_counts_validation(srv, tokens):
    st, h, body = srv.client.patch("/api/v1/areas/110105001026", {"households": -1},
                                   token=tokens["admin"])
    assert_problem(st, h, body, 422)
    st, h, body = srv.client.patch("/api/v1/areas/110105001026", {"residents": 10, "elderly": 20},
                                   token=tokens["admin"])
    assert_problem(st, h, body, 422)
    assert "elderly" in field_errors(body)


def test_split_records_history_on_both_sides(srv, tokens):
    c = srv.client
    st, _, body = c.post("/api/v1/areas/110105001027/split",
                         {"edition": 2025, "parts": [{"code": "110105001901", "name": "光华里东社区"},
                                                     {"code": "110105001902", "name": "光华里西社区"}]},
                         token=tokens["st1"])
    assert st == 201, body
    assert [p["code"] for p in body["parts"]] == ["110105001901", "110105001902"]
    st, _, old = c.get("/api/v1/areas/110105001027")
    assert old["retired_edition"] == 2025
    hist = c.get("/api/v1/areas/110105001027/history")[2]["events"]
    assert {e["related_code"] for e in hist if e["event"] == "split"} == {"110105001901", "110105001902"}
    new = c.get("/api/v1/areas/110105001901/history")[2]["events"]
    assert new[0]["event"] == "split" and new[0]["related_code"] == "110105001027"
    # A retired community is not listed by default.
    codes = [a["code"] for a in c.get("/api/v1/areas?parent=110105001&limit=100")[2]["items"]]
    assert "110105001027" not in codes and "110105001901" in codes
    audit = c.audit(tokens["admin"], "&action=area.split")
    assert audit[0]["object"] == "area:110105001027"


def test_split_refusals_change_nothing(srv, tokens):
    c = srv.client
    n = len(c.get("/api/v1/areas?parent=110105001&limit=100")[2]["items"])
    cases = [
        ("co1", {"edition": 2025, "parts": [{"code": "110105001903", "name": "甲"},
                                            {"code": "110105001904", "name": "乙"}]}, 403),
        ("st1", {"edition": 2025, "parts": [{"code": "110105001905", "name": "甲"}]}, 422),
        ("st1", {"edition": 2025, "parts": [{"code": "110105002905", "name": "甲"},
                                            {"code": "110105001906", "name": "乙"}]}, 422),
        ("st1", {"edition": 2025, "parts": [{"code": "110105001025", "name": "甲"},
                                            {"code": "110105001907", "name": "乙"}]}, 409),
    ]
    for who, body, want in cases:
        st, h, b = c.post("/api/v1/areas/110105001026/split", body, token=tokens[who])
        assert_problem(st, h, b, want)
    assert len(c.get("/api/v1/areas?parent=110105001&limit=100")[2]["items"]) == n


def test_boundary_answers_in_and_out(srv):
    c = srv.client
    # Chaoyang's centre (WGS-84) is inside; Tiananmen (Dongcheng) and Tianjin are not.
    assert c.get("/api/v1/areas/110105/contains?lat=39.92&lon=116.45")[2]["contains"] is True
    assert c.get("/api/v1/areas/110105/contains?lat=39.9055&lon=116.3976")[2]["contains"] is False
    assert c.get("/api/v1/areas/110105/contains?lat=39.13&lon=117.20")[2]["contains"] is False
    # The airport exclave is part of the district.
    assert c.get("/api/v1/areas/110105/contains?lat=40.075&lon=116.590&crs=gcj02")[2]["contains"] is True
    st, h, body = c.get("/api/v1/areas/110105/contains?lat=91&lon=116")
    assert_problem(st, h, body, 422)
    st, h, body = c.get("/api/v1/areas/110105001/contains?lat=39.9&lon=116.4")
    assert_problem(st, h, body, 404)


def test_events_about_people_reach_only_staff_whose_area_holds_them(srv, tokens):
    from conftest import SSEStream
    import json as _json
    near = SSEStream(srv.port, token=tokens["co1"])   # 110105001024
    far = SSEStream(srv.port, token=tokens["co2"])    # 110105002001
    res = SSEStream(srv.port, token=tokens["res"])
    try:
        for s in (near, far, res):
            assert s.status == 200
            s.next(timeout=10)
        st, _, p = srv.client.post("/api/v1/people", {"name": "事件测试", "community_code": "110105001024"},
                                   token=tokens["co1"])
        assert st == 201, p
        is_created = lambda ev: ev["event"] == "person.created"
        ev = near.wait_for(is_created, timeout=10)
        assert ev is not None and _json.loads(ev["data"]) == {"id": p["id"],
                                                               "community_code": "110105001024"}
        assert far.wait_for(is_created, timeout=2) is None
        assert res.wait_for(is_created, timeout=1) is None
    finally:
        for s in (near, far, res):
            s.close()
