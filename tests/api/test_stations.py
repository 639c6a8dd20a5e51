"""/api/v1/stations and /api/v1/support-teams: the social-work service network
and its professional support teams; `linli import/export stations` (CSV).

One server per module over a database holding the 681 official Chaoyang areas."""
import csv
import io
import os

import pytest

from conftest import (ADMIN_PASSWORD, SHARED_FLAGS, SOURCE_DIR, assert_no_sanitizer_report,
                      assert_problem, field_errors, run_cli)

PW = "station-test-pw-1"
DISTRICT = "110105000000"
JIANWAI = "110105001000"       # 建外街道, 9 communities
CHAOWAI = "110105002000"       # 朝外街道
NLJY = "110105001024"          # 南郎家园, in 建外
BLJY = "110105001025"          # 北郎家园, in 建外
YAL = "110105001026"           # 永安里, in 建外
TIDONG = "110105002024"        # 体东, in 朝外
AREAS_DIR = os.path.join(SOURCE_DIR, "data", "chaoyang")
HEADER = "name,level,area_code,address,lat,lon,staff,phone,opening_hours"


def cli(*args, ok=True):
    r = run_cli([str(a) for a in args])
    assert_no_sanitizer_report(r.stderr, "linli")
    if ok:
        assert r.returncode == 0, f"linli {' '.join(map(str, args))}: {r.returncode}\n{r.stderr}"
    return r


def area_db(path):
    """A new database with the admin account and the official areas."""
    r = run_cli(["--db", path, "init"], env={"LINLI_ADMIN_PASSWORD": ADMIN_PASSWORD})
    assert r.returncode == 0, r.stderr
    cli("--db", path, "import", "areas", "--dir", AREAS_DIR)
    return path


@pytest.fixture(scope="module")
def net(module_factory):
    db = area_db(module_factory.new_db_path())
    return module_factory.start(*SHARED_FLAGS, db=db)


@pytest.fixture(scope="module")
def client(net):
    return net.client


@pytest.fixture(scope="module")
def tok(net, client):
    """A token per role: admin and staff of 建外 (two streets apart where it matters)."""
    admin = net.admin_token()
    specs = {
        "district": ("district", "110105"),
        "street": ("street", "110105001"),
        "other_street": ("street", "110105002"),
        "community": ("community", NLJY),
        "operator": ("operator", "110105001"),
        "auditor": ("auditor", "110105"),
        "resident": ("resident", None),
    }
    out = {"admin": admin}
    for key, (role, scope) in specs.items():
        client.create_user(admin, f"st-{key}", role=role, scope=scope, password=PW)
        out[key] = client.login(f"st-{key}", PW)
    return out


def station(name, level="community_station", area=NLJY, **extra):
    body = {"name": name, "level": level, "area_code": area}
    body.update(extra)
    return body


def all_stations(client, query=""):
    items, cursor = [], None
    while True:
        path = "/api/v1/stations?limit=500" + query + (f"&cursor={cursor}" if cursor else "")
        st, h, b = client.get(path)
        assert st == 200, b
        items.extend(b["items"])
        cursor = b["next_cursor"]
        if not cursor:
            return items


def audit_count(client, admin, action):
    return len(client.audit(admin, f"&action={action}"))


# ---- stations: create, read ----

def test_created_station_is_public_and_normalised(client, tok):
    body = station("南郎家园社区社工室", address="建外街道南郎家园3号楼",
                   point={"lat": 39.904, "lon": 116.462}, staff=3,
                   phone="+86 010-6500 1234", opening_hours="周一至周五 08:30-17:30")
    st, h, b = client.post("/api/v1/stations", body, token=tok["street"])
    assert st == 201, b
    assert h.get("Location") == f"/api/v1/stations/{b['id']}"
    assert b["level"] == "community_station"
    assert b["area_code"] == NLJY and b["area_name"] == "南郎家园社区居委会"
    assert b["area_current"] is True
    assert b["phone"] == "01065001234"
    assert b["point"] == {"lat": 39.904, "lon": 116.462}
    assert b["staff"] == 3 and b["opening_hours"] == "周一至周五 08:30-17:30"
    # Stations are public facilities: read without a token.
    st, h, got = client.get(f"/api/v1/stations/{b['id']}")
    assert st == 200 and got == b
    assert b["id"] in [s["id"] for s in all_stations(client)]
    # A 9-digit street code is stored as 12 digits.
    st, h, c = client.post("/api/v1/stations", station("建外街道社工站", "street_centre", "110105001"),
                           token=tok["district"])
    assert st == 201, c
    assert c["area_code"] == JIANWAI and c["point"] is None and c["phone"] is None


@pytest.mark.parametrize("who", ["community", "operator", "auditor", "resident"])
def test_create_refused_to_other_roles_403(client, tok, who):
    before = len(all_stations(client))
    st, h, b = client.post("/api/v1/stations", station(f"不许-{who}"), token=tok[who])
    assert_problem(st, h, b, 403)
    assert len(all_stations(client)) == before


def test_create_needs_a_token_401(client):
    st, h, b = client.post("/api/v1/stations", station("匿名站"))
    assert_problem(st, h, b, 401)


def test_street_staff_write_only_in_their_street_403(client, tok):
    before = len(all_stations(client))
    audits = audit_count(client, tok["admin"], "station.create")
    for body in (station("体东站", area=TIDONG), station("区中心", "district_centre", DISTRICT),
                 station("朝外中心", "street_centre", CHAOWAI)):
        st, h, b = client.post("/api/v1/stations", body, token=tok["street"])
        assert_problem(st, h, b, 403)
    assert len(all_stations(client)) == before
    assert audit_count(client, tok["admin"], "station.create") == audits
    st, h, b = client.post("/api/v1/stations", station("体东社区社工室", area=TIDONG),
                           token=tok["other_street"])
    assert st == 201, b


@pytest.mark.parametrize("body,field", [
    ({"level": "community_station", "area_code": NLJY}, "name"),
    (station(""), "name"),
    (station("x" * 65), "name"),
    (station("站", level="station"), "level"),
    (station("站", level="street_centre"), "area_code"),          # a community code
    (station("站", area="110105001099"), "area_code"),            # no such community
    (station("站", area="11010500102A"), "area_code"),
    (station("站", point={"lat": 95, "lon": 116.4}), "point.lat"),
    (station("站", point={"lat": "39.9", "lon": 116.4}), "point.lat"),
    (station("站", point={"lat": 39.9}), "point.lon"),
    (station("站", point={"lat": 48.85, "lon": 2.35}), "point"),   # Paris
    (station("站", point=[39.9, 116.4]), "point"),
    (station("站", staff=-1), "staff"),
    (station("站", staff=2.5), "staff"),
    (station("站", phone="12345"), "phone"),
    (station("站", opening_hours="h" * 129), "opening_hours"),
    (station("站", colour="red"), "colour"),
    (station("站\n二"), "name"),
])
def test_create_invalid_422_changes_nothing(client, tok, body, field):
    before = len(all_stations(client))
    st, h, b = client.post("/api/v1/stations", body, token=tok["admin"])
    assert_problem(st, h, b, 422)
    assert field in field_errors(b), b
    assert len(all_stations(client)) == before


def test_every_problem_is_listed(client, tok):
    st, h, b = client.post("/api/v1/stations",
                           {"name": "", "level": "x", "area_code": "1", "point": {"lat": "a"}},
                           token=tok["admin"])
    assert_problem(st, h, b, 422)
    assert {"name", "level", "area_code", "point.lat", "point.lon"} <= set(field_errors(b)), b


def test_same_area_level_and_name_409(client, tok):
    body = station("永安里社区社工室", area=YAL)
    st, h, b = client.post("/api/v1/stations", body, token=tok["admin"])
    assert st == 201, b
    before = len(all_stations(client))
    st, h, b = client.post("/api/v1/stations", body, token=tok["street"])
    assert_problem(st, h, b, 409)
    assert len(all_stations(client)) == before


def test_idempotency_key_replays_the_first_station(client, tok):
    body = station("北郎家园社区社工室", area=BLJY)
    hdr = {"Idempotency-Key": "station-create-1"}
    st, h, first = client.post("/api/v1/stations", body, token=tok["street"], headers=hdr)
    assert st == 201, first
    before = len(all_stations(client))
    st, h, again = client.post("/api/v1/stations", body, token=tok["street"], headers=hdr)
    assert st == 201 and h.get("Idempotent-Replayed") == "true"
    assert again == first
    st, h, b = client.post("/api/v1/stations", station("别的", area=BLJY), token=tok["street"],
                           headers=hdr)
    assert_problem(st, h, b, 409)
    assert len(all_stations(client)) == before


# ---- stations: change ----

def test_patch_within_scope_and_audited(client, tok):
    st, h, s = client.post("/api/v1/stations",
                           station("光华里社区社工室", area="110105001027", phone="13800138000",
                                   point={"lat": 39.91, "lon": 116.46}),
                           token=tok["street"])
    assert st == 201, s
    path = f"/api/v1/stations/{s['id']}"
    st, h, b = client.patch(path, {"staff": 6, "point": None, "phone": None,
                                   "opening_hours": "每天 09:00-18:00"}, token=tok["street"])
    assert st == 200, b
    assert b["staff"] == 6 and b["point"] is None and b["phone"] is None
    assert b["name"] == s["name"] and b["created_at"] == s["created_at"]
    entries = client.audit(tok["admin"], "&action=station.update")
    mine = [e for e in entries if e["object"] == f"station:{s['id']}"]
    assert mine and set(mine[0]["detail"]["changed"]) == {"staff", "point", "phone",
                                                          "opening_hours"}
    assert mine[0]["username"] == "st-street"


def test_patch_refused_out_of_scope_and_invalid(client, tok):
    st, h, s = client.post("/api/v1/stations", station("建国里社区社工室", area="110105001028"),
                           token=tok["admin"])
    assert st == 201, s
    path = f"/api/v1/stations/{s['id']}"
    st, h, b = client.patch(path, {"staff": 1}, token=tok["other_street"])
    assert_problem(st, h, b, 403)
    st, h, b = client.patch(path, {"area_code": TIDONG}, token=tok["street"])   # into 朝外
    assert_problem(st, h, b, 403)
    for who in ("community", "resident", "auditor"):
        st, h, b = client.patch(path, {"staff": 1}, token=tok[who])
        assert_problem(st, h, b, 403)
    for body, field in (({"level": "street_centre"}, "area_code"), ({"staff": -2}, "staff"),
                        ({"name": None}, "name"), ({"phone": "0"}, "phone"),
                        ({"point": {"lat": 39.9, "lon": 200}}, "point.lon")):
        st, h, b = client.patch(path, body, token=tok["street"])
        assert_problem(st, h, b, 422)
        assert field in field_errors(b), (body, b)
    st, h, b = client.patch(path, {}, token=tok["street"])
    assert_problem(st, h, b, 422)
    st, h, now = client.get(path)
    assert now == s
    st, h, b = client.patch("/api/v1/stations/987654", {"staff": 1}, token=tok["admin"])
    assert_problem(st, h, b, 404)
    st, h, b = client.get("/api/v1/stations/987654")
    assert_problem(st, h, b, 404)
    st, h, b = client.get("/api/v1/stations/abc")
    assert_problem(st, h, b, 404)


# ---- stations: lists ----

def test_list_filters_by_area_and_level_and_pages(client, tok):
    for body in (station("秀水社区社工室", area="110105001029"),
                 station("吉庆里社区社工室", area="110105002025")):
        st, h, b = client.post("/api/v1/stations", body, token=tok["district"])
        assert st == 201, b
    everything = all_stations(client)
    jianwai = all_stations(client, "&area=110105001")
    assert jianwai and all(s["area_code"].startswith("110105001") for s in jianwai)
    assert len(jianwai) == len([s for s in everything if s["area_code"].startswith("110105001")])
    centres = all_stations(client, "&level=street_centre")
    assert centres and all(s["level"] == "street_centre" for s in centres)
    one = all_stations(client, f"&area={NLJY}&level=community_station")
    assert {s["area_code"] for s in one} == {NLJY}
    # Pages of one, in id order, cover everything once.
    seen, cursor = [], None
    while True:
        st, h, b = client.get("/api/v1/stations?limit=1" + (f"&cursor={cursor}" if cursor else ""))
        assert st == 200 and len(b["items"]) <= 1
        seen.extend(s["id"] for s in b["items"])
        cursor = b["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(s["id"] for s in everything)
    for query, field in (("level=centre", "level"), ("area=12", "area"), ("limit=0", "limit"),
                         ("limit=501", "limit"), ("cursor=zzz", "cursor"), ("street=1", "street")):
        st, h, b = client.get("/api/v1/stations?" + query)
        assert_problem(st, h, b, 422)
        assert field in field_errors(b), (query, b)


# ---- support teams ----

def team(name, kind="lawyer", **extra):
    body = {"name": name, "kind": kind}
    body.update(extra)
    return body


def test_team_created_within_scope_and_read_by_staff(client, tok):
    body = team("建外社区律师团", organisation="北京某律师事务所", contact_phone="010-8888 1234",
                members=5, communities=[NLJY, BLJY])
    st, h, t = client.post("/api/v1/support-teams", body, token=tok["street"])
    assert st == 201, t
    assert h.get("Location") == f"/api/v1/support-teams/{t['id']}"
    assert t["communities"] == [NLJY, BLJY] and t["contact_phone"] == "01088881234"
    assert t["kind"] == "lawyer" and t["members"] == 5
    for who in ("admin", "district", "street", "other_street", "community", "operator", "auditor"):
        st, h, got = client.get(f"/api/v1/support-teams/{t['id']}", token=tok[who])
        assert st == 200 and got == t, (who, got)
    st, h, b = client.get(f"/api/v1/support-teams/{t['id']}", token=tok["resident"])
    assert_problem(st, h, b, 403)
    st, h, b = client.get("/api/v1/support-teams", token=tok["resident"])
    assert_problem(st, h, b, 403)
    st, h, b = client.get("/api/v1/support-teams")
    assert_problem(st, h, b, 401)
    st, h, b = client.get(f"/api/v1/support-teams?community={BLJY}", token=tok["community"])
    assert st == 200 and [x["id"] for x in b["items"]] == [t["id"]]
    st, h, b = client.get(f"/api/v1/support-teams?community={TIDONG}", token=tok["community"])
    assert st == 200 and b["items"] == []
    st, h, b = client.get("/api/v1/support-teams?community=110105001", token=tok["admin"])
    assert_problem(st, h, b, 422)
    assert audit_count(client, tok["admin"], "support_team.create") >= 1


def test_team_create_refused_out_of_scope_and_invalid(client, tok):
    st, h, b = client.get("/api/v1/support-teams?limit=500", token=tok["admin"])
    before = len(b["items"])
    for who in ("community", "operator", "auditor", "resident"):
        st, h, b = client.post("/api/v1/support-teams", team(f"t-{who}"), token=tok[who])
        assert_problem(st, h, b, 403)
    st, h, b = client.post("/api/v1/support-teams", team("越界", communities=[TIDONG]),
                           token=tok["street"])
    assert_problem(st, h, b, 403)
    for body, field in ((team("", "planner"), "name"), (team("t", "doctor"), "kind"),
                        (team("t", members=-1), "members"), (team("t", contact_phone="1"),
                                                             "contact_phone"),
                        (team("t", communities=[JIANWAI]), "communities[0]"),
                        (team("t", communities=[NLJY, NLJY]), "communities[1]"),
                        (team("t", communities=[24]), "communities[0]"),
                        (team("t", communities=["110105001099"]), "communities[0]"),
                        (team("t", communities=NLJY), "communities")):
        st, h, b = client.post("/api/v1/support-teams", body, token=tok["admin"])
        assert_problem(st, h, b, 422)
        assert field in field_errors(b), (body, b)
    st, h, b = client.get("/api/v1/support-teams?limit=500", token=tok["admin"])
    assert len(b["items"]) == before


def test_team_communities_replaced_within_scope(client, tok):
    st, h, t = client.post("/api/v1/support-teams",
                           team("社区规划师", "planner", communities=[NLJY]), token=tok["street"],
                           headers={"Idempotency-Key": "team-create-1"})
    assert st == 201, t
    path = f"/api/v1/support-teams/{t['id']}/communities"
    st, h, b = client.request("PUT", path, body={"communities": [YAL, BLJY]}, token=tok["street"])
    assert st == 200, b
    assert b["communities"] == [BLJY, YAL]
    entry = client.audit(tok["admin"], "&action=support_team.assign")[0]
    assert entry["object"] == f"support_team:{t['id']}"
    assert entry["detail"]["communities"] == {"added": [YAL, BLJY], "removed": [NLJY]}
    # Another street's staff may not change it; nor add their own community to it.
    for who, codes in (("other_street", [TIDONG]), ("street", [YAL, TIDONG]),
                       ("community", [NLJY])):
        st, h, e = client.request("PUT", path, body={"communities": codes}, token=tok[who])
        assert_problem(st, h, e, 403)
    st, h, e = client.request("PUT", path, body={"communities": ["110105001099"]},
                              token=tok["street"])
    assert_problem(st, h, e, 422)
    st, h, e = client.request("PUT", path, body={}, token=tok["street"])
    assert_problem(st, h, e, 422)
    st, h, now = client.get(f"/api/v1/support-teams/{t['id']}", token=tok["street"])
    assert now["communities"] == [BLJY, YAL]
    # District staff may widen it; then the street's staff no longer may change it.
    st, h, b = client.request("PUT", path, body={"communities": [BLJY, TIDONG]},
                              token=tok["district"])
    assert st == 200 and b["communities"] == [BLJY, TIDONG]
    st, h, e = client.patch(f"/api/v1/support-teams/{t['id']}", {"members": 2},
                            token=tok["street"])
    assert_problem(st, h, e, 403)
    st, h, b = client.patch(f"/api/v1/support-teams/{t['id']}", {"members": 2, "kind": "counsellor"},
                            token=tok["district"])
    assert st == 200 and b["members"] == 2 and b["kind"] == "counsellor"
    st, h, e = client.patch(f"/api/v1/support-teams/{t['id']}", {"communities": []},
                            token=tok["district"])
    assert_problem(st, h, e, 422)      # assignments change through PUT .../communities
    st, h, e = client.request("PUT", "/api/v1/support-teams/987654/communities",
                              body={"communities": []}, token=tok["admin"])
    assert_problem(st, h, e, 404)
    # The idempotent create replays the team as first created.
    st, h, again = client.post("/api/v1/support-teams",
                               team("社区规划师", "planner", communities=[NLJY]),
                               token=tok["street"], headers={"Idempotency-Key": "team-create-1"})
    assert st == 201 and h.get("Idempotent-Replayed") == "true" and again["id"] == t["id"]


# ---- CSV import and export ----

def write_csv(path, rows, header=HEADER):
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(header + "\n")
        for r in rows:
            f.write(r + "\n")
    return path


GOOD = [
    "朝阳区社会工作指导中心,district_centre,110105,朝阳区某路1号,39.921,116.443,12,010-65001234,"
    "周一至周五 08:30-17:30",
    "朝外街道社工站,street_centre,110105002,朝外大街2号,39.92,116.44,5,13800138000,",
    "\"吉祥里, 社工室\",community_station,110105002026,\"吉祥里\"\"3号\"\"\",,,2,,",
]


def test_csv_with_bad_rows_changes_nothing_unless_skip_bad(net, client, tok, tmp_path):
    path = write_csv(tmp_path / "s.csv", GOOD + [
        "坏的一行,street_centre,110105002026,x,91,116,-3,12345,",
        "不存在的社区站,community_station,110105002099,,,,,,",
        "少了几列,community_station",
        "朝外街道社工站,street_centre,110105002,重复,,,,,",
    ])
    before = all_stations(client)
    audits = audit_count(client, tok["admin"], "station.import")
    r = cli("--db", net.db, "import", "stations", path, ok=False)
    assert r.returncode == 1, r.stdout
    err = r.stderr
    assert "line 5, field area_code: a street_centre serves a street" in err, err
    assert "line 5, field lat: must be a latitude" in err
    assert "line 5, field staff:" in err and "line 5, field phone:" in err
    assert "line 6, field area_code: no area has the code 110105002099" in err
    assert "line 7: has 2 fields; the header has 9" in err
    assert "line 8, field name: names the same station as line 3" in err
    assert "nothing was imported" in err
    assert all_stations(client) == before
    assert audit_count(client, tok["admin"], "station.import") == audits

    r = cli("--db", net.db, "import", "stations", path, "--skip-bad")
    assert "3 added, 0 updated, 0 unchanged, 4 bad rows skipped" in r.stdout, r.stdout
    assert "line 6, field area_code" in r.stderr
    after = all_stations(client)
    new = {s["name"]: s for s in after if s["id"] not in {b["id"] for b in before}}
    assert set(new) == {"朝阳区社会工作指导中心", "朝外街道社工站", "吉祥里, 社工室"}
    assert new["吉祥里, 社工室"]["address"] == "吉祥里\"3号\""
    assert new["朝阳区社会工作指导中心"]["phone"] == "01065001234"
    assert new["朝阳区社会工作指导中心"]["area_code"] == DISTRICT
    entry = client.audit(tok["admin"], "&action=station.import")[0]
    assert entry["detail"]["added"] == 3 and entry["detail"]["skipped"] == 4

    # The same file again changes nothing.
    r = cli("--db", net.db, "import", "stations", path, "--skip-bad")
    assert "0 added, 0 updated, 3 unchanged" in r.stdout, r.stdout


def test_csv_header_is_checked(net, tmp_path):
    for header, msg in (("name,level,area,address", "unknown column \"area\""),
                        ("name,level,address", "lacks the column \"area_code\""),
                        ("name,level,area_code,name", "appears twice")):
        path = write_csv(tmp_path / "h.csv", ["x,street_centre,110105001"], header=header)
        r = cli("--db", net.db, "import", "stations", path, ok=False)
        assert r.returncode == 1 and msg in r.stderr, r.stderr
    r = cli("--db", net.db, "import", "stations", tmp_path / "missing.csv", ok=False)
    assert r.returncode == 1 and "cannot read" in r.stderr
    r = cli("--db", net.db, "import", "stations", write_csv(tmp_path / "e.csv", []), ok=False)
    assert r.returncode == 1 and "no stations" in r.stderr


def test_large_import_progress_and_export_round_trip(module_factory, tmp_path):
    """1,274 stations (two per community) into a fresh database with a
    progress report; the export re-imported elsewhere exports the same file."""
    db1 = area_db(module_factory.new_db_path())
    codes = [r[0] for r in csv.reader(open(os.path.join(AREAS_DIR, "communities_2020.csv"),
                                           encoding="utf-8"))][1:]
    assert len(codes) == 637
    rows = []
    for i, code in enumerate(codes):
        for k in (1, 2):
            lat, lon = 39.85 + (i % 100) * 0.001, 116.40 + k * 0.01
            rows.append(f"社工室{i}-{k},community_station,{code},地址{i},{lat:.6f},{lon:.6f},{k},"
                        f"1380013{i:04d},周一至周五")
    big = write_csv(tmp_path / "big.csv", rows)
    r = cli("--db", db1, "import", "stations", big, "--crs", "wgs84")
    assert "1274 added" in r.stdout, r.stdout
    assert "stations: 100%" in r.stderr, r.stderr      # progress lines when not a terminal
    out1 = tmp_path / "out1.csv"
    r = cli("--db", db1, "export", "stations", out1)
    assert "Exported 1274 stations" in r.stderr
    text1 = out1.read_text(encoding="utf-8")
    lines = text1.splitlines()
    assert lines[0] == HEADER and len(lines) == 1275
    assert lines[1] == f"社工室0-1,community_station,{codes[0]},地址0,39.8500000,116.4100000,1,"\
                       "13800130000,周一至周五"
    db2 = area_db(module_factory.new_db_path())
    cli("--db", db2, "import", "stations", out1)
    text2 = cli("--db", db2, "export", "stations", "-").stdout
    assert text2 == text1
    r = cli("--db", db2, "import", "stations", out1)
    assert "0 added, 0 updated, 1274 unchanged" in r.stdout


def test_gcj02_import_converts_to_wgs84(net, client, tmp_path):
    # A point given in GCJ-02 (as Chinese maps publish) is stored in WGS-84,
    # a few hundred metres away.
    path = write_csv(tmp_path / "g.csv",
                     ["三丰里社区社工室,community_station,110105002027,,39.9200,116.4400,,,"])
    cli("--db", net.db, "import", "stations", path, "--crs", "gcj02")
    got = [s for s in all_stations(client, "&area=110105002027") if s["name"] == "三丰里社区社工室"]
    assert len(got) == 1
    p = got[0]["point"]
    assert 0.0005 < abs(p["lat"] - 39.92) + abs(p["lon"] - 116.44) < 0.02, p
    r = cli("--db", net.db, "import", "stations", path, "--crs", "bd09", ok=False)
    assert r.returncode == 1 and "--crs must be wgs84 or gcj02" in r.stderr
