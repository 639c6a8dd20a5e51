"""Coverage planning end to end: GET /api/v1/reports/coverage (who among the
elderly can walk to a service in time, per street or community), its list
of the people out of reach, and POST /api/v1/plans/sites (greedy site
plans), checked against layouts whose answers are known, for each role and
every bad input.

One server per module over the official Chaoyang areas with the district
outline. The layouts stay apart so the tests can run in any order:

  建外 (110105001), around ORIGIN   one meals table; people just inside and
                                    just outside a 15-minute walk
  110105001026                      the "new facility" test's own person
  110105001027                      the kept-report test's own people
  枣营 (110105012), 10 km north     clusters of 50 / 30 / 10 people, and 20
                                    a meals table already reaches
  首都机场 (110105400)              people around the community centres, for
                                    the plan from community candidates,
                                    checked against a brute-force greedy
"""
import datetime
import itertools
import math
import os
import random

import pytest

from conftest import (ADMIN_PASSWORD, SHARED_FLAGS, SOURCE_DIR, assert_no_sanitizer_report,
                      assert_problem, field_errors, run_cli)

PW = "coverage-test-pw-1"
AREAS_DIR = os.path.join(SOURCE_DIR, "data", "chaoyang")
BOUNDARY = os.path.join(AREAS_DIR, "boundary_gcj02.geojson")
COVERAGE = "/api/v1/reports/coverage"
UNCOVERED = "/api/v1/reports/coverage/uncovered"
PLANS = "/api/v1/plans/sites"

JIANWAI = "110105001"
NLJY = "110105001024"     # 南郎家园
BLJY = "110105001025"     # 北郎家园
YONGANLI = "110105001026"
GUANGHUALI = "110105001027"
CHAOWAI = "110105002"
TIDONG = "110105002024"
ZAOYING = "110105012"
Z50, Z30, Z10, Z20 = (f"110105012{n:03d}" for n in (21, 22, 23, 24))
AIRPORT = "110105400"
AIRPORT_COMMUNITIES = [f"110105400{n:03d}" for n in (1, 2, 3, 4, 400)]

EARTH_R = 6371008.8
DETOUR, SPEED = 1.3, 60.0
R15 = 15 * SPEED / DETOUR  # metres in a 15-minute walk, straight line
ORIGIN = (39.9061, 116.4599)
NORTH = (39.9950, 116.4700)  # the clusters
OLD = "19450315"

_seq = itertools.count(1)


def cli(*args):
    r = run_cli([str(a) for a in args])
    assert_no_sanitizer_report(r.stderr, "linli")
    assert r.returncode == 0, f"linli {' '.join(map(str, args))}: {r.returncode}\n{r.stderr}"
    return r


def haversine(a, b):
    la1, lo1, la2, lo2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((la2 - la1) / 2) ** 2 + \
        math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    return 2 * EARTH_R * math.asin(math.sqrt(min(h, 1)))


def offset(p, north_m=0.0, east_m=0.0):
    lat = p[0] + math.degrees(north_m / EARTH_R)
    lon = p[1] + math.degrees(east_m / (EARTH_R * math.cos(math.radians(p[0]))))
    return (lat, lon)


def make_id(birth=OLD):
    """A valid GB 11643 number: a new sequence for each call."""
    n = next(_seq)
    birth = (datetime.date(int(birth[:4]), int(birth[4:6]), int(birth[6:]))
             + datetime.timedelta(days=n // 900)).strftime("%Y%m%d")
    first17 = f"110105{birth}{n % 900 + 100:03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return first17 + "10X98765432"[sum(int(c) * w for c, w in zip(first17, weights)) % 11]


def shanghai_today():
    return (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=8)).date()


def age_of(birth):
    b = datetime.date(int(birth[:4]), int(birth[4:6]), int(birth[6:]))
    t = shanghai_today()
    return t.year - b.year - ((t.month, t.day) < (b.month, b.day))


def q(**params):
    return "?" + "&".join(f"{k}={v}" for k, v in params.items())


# --------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def srv(module_factory):
    db = module_factory.new_db_path()
    r = run_cli(["--db", db, "init"], env={"LINLI_ADMIN_PASSWORD": ADMIN_PASSWORD})
    assert r.returncode == 0, r.stderr
    cli("--db", db, "import", "areas", "--dir", AREAS_DIR)
    return module_factory.start(*SHARED_FLAGS, "--boundary", BOUNDARY, db=db)


@pytest.fixture(scope="module")
def c(srv):
    return srv.client


@pytest.fixture(scope="module")
def tok(srv, c):
    admin = srv.admin_token()
    specs = {
        "district": ("district", "110105"),
        "street": ("street", JIANWAI),
        "community": ("community", NLJY),
        "operator": ("operator", JIANWAI),
        "auditor": ("auditor", "110105"),
        "resident": ("resident", None),
    }
    out = {"admin": admin}
    for key, (role, scope) in specs.items():
        c.create_user(admin, f"cov-{key}", role=role, scope=scope, password=PW)
        out[key] = c.login(f"cov-{key}", PW)
    return out


def add_facility(c, token, name, point, area, service="meals"):
    body = {"kind": "dining_table", "name": name, "operator_type": "public",
            "point": {"lat": point[0], "lon": point[1]}, "area_code": area,
            "services": [{"code": service, "price": 15, "unit": "meal"}]}
    st, h, b = c.post("/api/v1/facilities", body, token=token)
    assert st == 201, b
    return b


def add_person(c, token, name, community, home=None, birth=OLD):
    body = {"name": name, "id_number": make_id(birth), "community_code": community}
    if home:
        body["home"] = {"lat": home[0], "lon": home[1]}
    st, h, b = c.post("/api/v1/people", body, token=token)
    assert st == 201, b
    return b


def import_people(srv, tmp_dir, rows):
    """rows: (name, community, (lat, lon)) through `linli import people`."""
    path = os.path.join(tmp_dir, f"people-{next(_seq)}.csv")
    with open(path, "w", encoding="utf-8") as f:
        f.write("name,id_number,lat,lon,community_code\n")
        for name, community, p in rows:
            f.write(f"{name},{make_id()},{p[0]:.7f},{p[1]:.7f},{community}\n")
    cli("--db", srv.db, "import", "people", path)


@pytest.fixture(scope="module")
def layout(srv, c, tok):
    """ORIGIN's meals table and the people around it, by letter."""
    admin = tok["admin"]
    add_facility(c, admin, "南郎家园老年餐桌", ORIGIN, NLJY)
    add_facility(c, admin, "北郎家园助浴点", offset(ORIGIN, east_m=3000), BLJY, service="bathing")
    p = {
        "a": add_person(c, admin, "近者", NLJY, offset(ORIGIN, north_m=0.9 * R15)),
        "b": add_person(c, admin, "远者", NLJY, offset(ORIGIN, east_m=1.1 * R15)),
        "b2": add_person(c, admin, "更远者", NLJY, offset(ORIGIN, east_m=-2000)),
        "c": add_person(c, admin, "无址者", NLJY),
        "d": add_person(c, admin, "年轻人", NLJY, ORIGIN, birth="19900101"),
        "e": add_person(c, admin, "东边的", BLJY, offset(ORIGIN, east_m=3000)),
        "g": add_person(c, admin, "邻街的", TIDONG, offset(ORIGIN, north_m=-0.3 * R15)),
    }
    return p


def spiral(centre, count, radius=200.0):
    """`count` points within `radius` m of centre, the same every run."""
    return [offset(centre, radius * (i + 1) / count * math.sin(i * 2.399963),
                   radius * (i + 1) / count * math.cos(i * 2.399963)) for i in range(count)]


@pytest.fixture(scope="module")
def clusters(srv, c, tok, module_factory):
    """50 people at NORTH, 30 at 3 km north of it, 10 at 3 km east, and 20 at
    3 km north-east whom a meals table there already reaches."""
    centres = {"fifty": NORTH, "thirty": offset(NORTH, north_m=3000),
               "ten": offset(NORTH, east_m=3000), "covered": offset(NORTH, 3000, 3000)}
    rows = []
    for (key, n, community) in (("fifty", 50, Z50), ("thirty", 30, Z30), ("ten", 10, Z10),
                                ("covered", 20, Z20)):
        rows += [(f"{key}{i}", community, p) for i, p in enumerate(spiral(centres[key], n))]
    import_people(srv, module_factory.tmpdir, rows)
    add_facility(c, tok["admin"], "枣营老年餐桌", centres["covered"], Z20)
    return centres


# --------------------------------------------------------------------------- coverage

def coverage(c, token, expect=200, **params):
    st, h, b = c.get(COVERAGE + q(**params), token=token)
    assert st == expect, f"{st} {b}"
    return b


def row(report, code):
    code = code + "0" * (12 - len(code))
    hits = [a for a in report["areas"] if a["code"] == code]
    assert len(hits) == 1, f"{code} not in {[a['code'] for a in report['areas']]}"
    return hits[0]


def counts(a):
    return (a["elderly"], a["located"], a["covered"], a["uncovered"])


def test_coverage_counts_people_inside_and_outside_the_walk(c, tok, layout):
    b = coverage(c, tok["admin"], service="meals", minutes=15, level="community", area=NLJY)
    assert b["service"] == "meals" and b["minutes"] == 15 and b["level"] == "community"
    assert b["age_min"] == 60
    assert b["walk"]["detour"] == DETOUR and b["walk"]["speed_m_min"] == SPEED
    assert abs(b["walk"]["reach_m"] - R15) < 0.1
    assert b["facilities"] >= 1
    # a is in, b and b2 out, c has no home, d is not old yet.
    assert counts(b["total"]) == (4, 3, 1, 2)
    assert b["total"]["share"] == pytest.approx(1 / 3)
    assert [a["code"] for a in b["areas"]] == [NLJY]
    assert counts(b["areas"][0]) == (4, 3, 1, 2)
    assert b["areas"][0]["name"] == "南郎家园社区居委会"

    # Per street over the district: the walk crosses street lines (g is in 朝外).
    b = coverage(c, tok["admin"], service="meals")
    assert b["level"] == "street" and b["minutes"] == 15
    assert counts(row(b, CHAOWAI)) == (1, 1, 1, 0)
    assert row(b, JIANWAI)["elderly"] >= 5 and row(b, JIANWAI)["located"] >= 4
    empty = row(b, "110105003")  # 呼家楼: listed, nobody to count
    assert counts(empty) == (0, 0, 0, 0) and empty["share"] is None
    assert sum(a["elderly"] for a in b["areas"]) == b["total"]["elderly"]

    # Longer walks reach b; a higher age_min leaves out everyone born 1945.
    b = coverage(c, tok["admin"], service="meals", minutes=20, area=NLJY)
    assert counts(b["total"]) == (4, 3, 2, 1)
    b = coverage(c, tok["admin"], service="meals", age_min=90, area=NLJY)
    assert counts(b["total"]) == (0, 0, 0, 0) and b["total"]["share"] is None
    # Nobody offers respite care.
    b = coverage(c, tok["admin"], service="respite", area=NLJY)
    assert b["facilities"] == 0 and counts(b["total"]) == (4, 3, 0, 3)


def test_a_new_facility_raises_coverage_on_the_next_report(c, tok):
    admin = tok["admin"]
    home = offset(ORIGIN, north_m=-6000)
    add_person(c, admin, "永安里的", YONGANLI, home)
    before = coverage(c, admin, service="meals", area=YONGANLI)
    assert counts(before["total"]) == (1, 1, 0, 1)
    add_facility(c, tok["street"], "永安里老年餐桌", offset(home, east_m=100), YONGANLI)
    after = coverage(c, admin, service="meals", area=YONGANLI)
    assert counts(after["total"]) == (1, 1, 1, 0)
    assert after["facilities"] == before["facilities"] + 1
    assert after["total"]["share"] == 1.0


def test_a_kept_report_follows_every_change_to_what_it_counts(srv, c, tok, module_factory):
    """Reports are kept between calls; each kind of change is seen at once,
    including one written by another process (`linli import people`)."""
    admin = tok["admin"]
    home = offset(ORIGIN, north_m=-7000)
    first = add_person(c, admin, "光华里的", GUANGHUALI, home)
    table = add_facility(c, admin, "光华里老年餐桌", offset(home, east_m=100), GUANGHUALI)
    b = coverage(c, admin, service="meals", area=GUANGHUALI)
    assert counts(b["total"]) == (1, 1, 1, 0)
    assert coverage(c, admin, service="meals", area=GUANGHUALI) == b  # the same, kept
    # Someone far from the table, through the command line.
    import_people(srv, module_factory.tmpdir, [("光华里远处的", GUANGHUALI,
                                                offset(home, north_m=3000))])
    b = coverage(c, admin, service="meals", area=GUANGHUALI)
    assert counts(b["total"]) == (2, 2, 1, 1)
    # The first one moves away from the table.
    st, h, p = c.patch(f"/api/v1/people/{first['id']}",
                       {"home": {"lat": home[0] - 0.03, "lon": home[1]}}, token=admin)
    assert st == 200, p
    b = coverage(c, admin, service="meals", area=GUANGHUALI)
    assert counts(b["total"]) == (2, 2, 0, 2)
    # ... and back; then the table closes.
    st, h, p = c.patch(f"/api/v1/people/{first['id']}",
                       {"home": {"lat": home[0], "lon": home[1]}}, token=admin)
    assert st == 200, p
    assert counts(coverage(c, admin, service="meals", area=GUANGHUALI)["total"]) == (2, 2, 1, 1)
    st, h, f = c.patch(f"/api/v1/facilities/{table['id']}", {"status": "closed"}, token=admin)
    assert st == 200, f
    b = coverage(c, admin, service="meals", area=GUANGHUALI)
    assert counts(b["total"]) == (2, 2, 0, 2)
    # A report asked by another scope is its own (the street sees the same).
    s = coverage(c, tok["street"], service="meals", area=GUANGHUALI)
    assert counts(s["total"]) == (2, 2, 0, 2)


def test_coverage_is_limited_to_the_callers_scope(c, tok, layout):
    b = coverage(c, tok["street"], service="meals")
    assert [a["code"] for a in b["areas"]] == [JIANWAI + "000"]
    b = coverage(c, tok["community"], service="meals", level="community")
    assert [a["code"] for a in b["areas"]] == [NLJY]
    assert counts(b["total"]) == (4, 3, 1, 2)
    for who in ("district", "auditor", "operator"):
        coverage(c, tok[who], service="meals", area=NLJY)
    st, h, b = c.get(COVERAGE + q(service="meals", area=CHAOWAI), token=tok["street"])
    assert_problem(st, h, b, 403)
    st, h, b = c.get(COVERAGE + q(service="meals", area="110105"), token=tok["community"])
    assert_problem(st, h, b, 403)
    st, h, b = c.get(COVERAGE + q(service="meals"), token=tok["resident"])
    assert_problem(st, h, b, 403)
    st, h, b = c.get(COVERAGE + q(service="meals"))
    assert_problem(st, h, b, 401)


@pytest.mark.parametrize("params,field", [
    ({}, "service"),
    ({"service": "no_such_service"}, "service"),
    ({"service": "meals", "minutes": "abc"}, "minutes"),
    ({"service": "meals", "minutes": "0"}, "minutes"),
    ({"service": "meals", "minutes": "121"}, "minutes"),
    ({"service": "meals", "level": "building"}, "level"),
    ({"service": "meals", "age_min": "sixty"}, "age_min"),
    ({"service": "meals", "age_min": "121"}, "age_min"),
    ({"service": "meals", "area": "12"}, "area"),
    ({"service": "meals", "area": "110105099"}, "area"),
    ({"service": "meals", "colour": "red"}, "colour"),
])
def test_bad_coverage_query_422(c, tok, params, field):
    st, h, b = c.get(COVERAGE + q(**params), token=tok["admin"])
    assert_problem(st, h, b, 422)
    assert field in field_errors(b), b


# --------------------------------------------------------------------------- uncovered

def test_uncovered_lists_people_out_of_reach_page_by_page(c, tok, layout):
    items, cursor, pages = [], None, 0
    while True:
        path = UNCOVERED + q(service="meals", area=NLJY, limit=1) + \
            (f"&cursor={cursor}" if cursor else "")
        st, h, b = c.get(path, token=tok["operator"])
        assert st == 200, b
        items += b["items"]
        cursor, pages = b["next_cursor"], pages + 1
        if not cursor:
            break
    assert pages == 2
    far, farther = layout["b"], layout["b2"]
    assert [i["id"] for i in items] == [far["id"], farther["id"]]
    first = items[0]
    assert first["name"] == "远者" and first["community_code"] == NLJY
    assert first["age"] == far["age"] == age_of(OLD)
    assert abs(first["home"]["lat"] - far["home"]["lat"]) < 1e-9
    assert first["nearest_m"] == pytest.approx(1.1 * R15, abs=1)
    assert items[1]["nearest_m"] == pytest.approx(2000, abs=1)
    # Nobody offers respite: every located person is out of reach, with no distance.
    st, h, b = c.get(UNCOVERED + q(service="respite", area=NLJY), token=tok["community"])
    assert st == 200, b
    assert len(b["items"]) == 3 and all(i["nearest_m"] is None for i in b["items"])


def test_uncovered_is_for_people_readers_in_scope(c, tok, layout):
    st, h, b = c.get(UNCOVERED + q(service="meals"), token=tok["resident"])
    assert_problem(st, h, b, 403)
    st, h, b = c.get(UNCOVERED + q(service="meals", area=TIDONG), token=tok["community"])
    assert_problem(st, h, b, 403)
    st, h, b = c.get(UNCOVERED + q(service="meals"))
    assert_problem(st, h, b, 401)
    st, h, b = c.get(UNCOVERED + q(service="meals"), token=tok["community"])
    assert st == 200 and {i["community_code"] for i in b["items"]} == {NLJY}


@pytest.mark.parametrize("params,field", [
    ({"service": "meals", "limit": "0"}, "limit"),
    ({"service": "meals", "limit": "501"}, "limit"),
    ({"service": "meals", "cursor": "not-a-cursor"}, "cursor"),
    ({"service": "meals", "minutes": "-1"}, "minutes"),
    ({"service": "nope"}, "service"),
    ({"service": "meals", "level": "street"}, "level"),
])
def test_bad_uncovered_query_422(c, tok, params, field):
    st, h, b = c.get(UNCOVERED + q(**params), token=tok["admin"])
    assert_problem(st, h, b, 422)
    assert field in field_errors(b), b


# --------------------------------------------------------------------------- plans

def plan(c, token, body, expect=200):
    st, h, b = c.post(PLANS, body, token=token)
    assert st == expect, f"{st} {b}"
    return b


def test_plan_picks_the_largest_clusters_then_stops(c, tok, clusters):
    given = [{"lat": p[0], "lon": p[1], "label": k} for k, p in clusters.items()]
    b = plan(c, tok["district"], {"service": "meals", "count": 2, "area": ZAOYING,
                                  "candidates": given})
    assert b["service"] == "meals" and b["minutes"] == 15
    assert b["located"] == 110 and b["covered_before"] == 20
    assert b["share_before"] == pytest.approx(20 / 110)
    assert b["candidates_considered"] == 4
    assert [s["label"] for s in b["sites"]] == ["fifty", "thirty"]
    assert [s["rank"] for s in b["sites"]] == [1, 2]
    assert [s["gain"] for s in b["sites"]] == [50, 30]
    assert [s["covered_after"] for s in b["sites"]] == [70, 100]
    assert b["sites"][0]["area_code"] == Z50
    assert b["sites"][0]["point"]["lat"] == pytest.approx(clusters["fifty"][0])
    assert b["sites"][1]["share_after"] == pytest.approx(100 / 110)
    assert b["covered_after"] == 100 and b["share_after"] == pytest.approx(100 / 110)
    # Five asked, three placed: the covered cluster's site would add nobody.
    again = plan(c, tok["admin"], {"service": "meals", "count": 5, "area": ZAOYING,
                                   "candidates": given})
    assert [s["label"] for s in again["sites"]] == ["fifty", "thirty", "ten"]
    assert again["covered_after"] == 110 and again["share_after"] == 1.0
    # The same question, the same answer.
    assert plan(c, tok["admin"], {"service": "meals", "count": 5, "area": ZAOYING,
                                  "candidates": given}) == again


def test_plan_on_a_grid_finds_each_cluster(c, tok, clusters):
    b = plan(c, tok["admin"], {"service": "meals", "count": 3, "area": ZAOYING,
                               "candidates": "grid", "grid_m": 500})
    assert b["candidates_considered"] > 3
    assert [s["gain"] for s in b["sites"]] == [50, 30, 10]
    assert [s["area_code"] for s in b["sites"]] == [Z50, Z30, Z10]
    for s, key in zip(b["sites"], ("fifty", "thirty", "ten")):
        assert haversine((s["point"]["lat"], s["point"]["lon"]), clusters[key]) < R15


def test_plan_from_community_centres_matches_a_brute_force_greedy(srv, c, tok, module_factory):
    centres = {}
    for code in AIRPORT_COMMUNITIES:
        st, h, b = c.get(f"/api/v1/areas/{code}", token=tok["admin"])
        assert st == 200, b
        if b.get("point"):
            centres[code] = (b["point"]["lat"], b["point"]["lon"])
    assert len(centres) >= 2
    rnd = random.Random(7)
    anchor = list(centres.values())[0]
    rows = []
    for i in range(60):
        p = offset(anchor, rnd.uniform(-1500, 1500), rnd.uniform(-1500, 1500))
        # The brute force below must not hinge on a rounding at the rim.
        if any(abs(haversine(p, cp) - R15) < 1 for cp in centres.values()):
            continue
        rows.append((f"机场{i}", rnd.choice(AIRPORT_COMMUNITIES), p))
    import_people(srv, module_factory.tmpdir, rows)
    b = plan(c, tok["admin"], {"service": "meals", "count": 4, "area": AIRPORT,
                               "candidates": "communities"})
    assert b["located"] == len(rows) and b["covered_before"] == 0
    assert b["candidates_considered"] == len(centres)
    # Plain greedy over the candidates in code order.
    codes = sorted(centres)
    reach = {k: {i for i, r in enumerate(rows) if haversine(r[2], centres[k]) <= R15}
             for k in codes}
    done, want = set(), []
    for _ in range(4):
        gains = [(len(reach[k] - done), -n, k) for n, k in enumerate(codes)]
        g, _, k = max(gains)
        if g == 0:
            break
        want.append((k, g))
        done |= reach[k]
    assert len(want) >= 2, want  # the layout is not trivial
    assert [(s["area_code"], s["gain"]) for s in b["sites"]] == want
    assert all(s["label"] for s in b["sites"])


def test_plans_are_for_planners_in_scope(c, tok, clusters):
    body = {"service": "meals", "count": 1, "area": ZAOYING}
    for who in ("community", "operator", "auditor", "resident"):
        st, h, b = c.post(PLANS, body, token=tok[who])
        assert_problem(st, h, b, 403)
    st, h, b = c.post(PLANS, body, token=tok["street"])  # 枣营 is not 建外
    assert_problem(st, h, b, 403)
    st, h, b = c.post(PLANS, body)
    assert_problem(st, h, b, 401)
    b = plan(c, tok["street"], {"service": "meals", "count": 1})  # 建外 by default
    assert b["located"] >= 4  # a, b, b2 and e at least


@pytest.mark.parametrize("body,field", [
    ({"count": 1}, "service"),
    ({"service": "nope", "count": 1}, "service"),
    ({"service": "meals"}, "count"),
    ({"service": "meals", "count": 0}, "count"),
    ({"service": "meals", "count": 101}, "count"),
    ({"service": "meals", "count": 1.5}, "count"),
    ({"service": "meals", "count": 1, "minutes": 0}, "minutes"),
    ({"service": "meals", "count": 1, "minutes": 121}, "minutes"),
    ({"service": "meals", "count": 1, "minutes": "15"}, "minutes"),
    ({"service": "meals", "count": 1, "age_min": 0}, "age_min"),
    ({"service": "meals", "count": 1, "age_min": 121}, "age_min"),
    ({"service": "meals", "count": 1, "area": "1"}, "area"),
    ({"service": "meals", "count": 1, "area": "110105099"}, "area"),
    ({"service": "meals", "count": 1, "candidates": "streets"}, "candidates"),
    ({"service": "meals", "count": 1, "candidates": 3}, "candidates"),
    ({"service": "meals", "count": 1, "candidates": []}, "candidates"),
    ({"service": "meals", "count": 1, "candidates": [{"lat": 0, "lon": 0}]}, "candidates[0]"),
    ({"service": "meals", "count": 1, "candidates": [{"lat": 10, "lon": 75}]}, "candidates[0]"),
    ({"service": "meals", "count": 1, "candidates": [{"lat": "x"}]}, "candidates[0].lat"),
    ({"service": "meals", "count": 1, "candidates": [{"lat": 39.9}]}, "candidates[0].lon"),
    ({"service": "meals", "count": 1, "candidates": [5]}, "candidates[0]"),
    ({"service": "meals", "count": 1, "candidates": [{"lat": 39.9, "lon": 116.4, "x": 1}]},
     "candidates[0].x"),
    ({"service": "meals", "count": 1, "candidates": "grid", "grid_m": 50}, "grid_m"),
    ({"service": "meals", "count": 1, "candidates": "grid", "grid_m": 0}, "grid_m"),
    ({"service": "meals", "count": 1, "grid_m": 500}, "grid_m"),
    ({"service": "meals", "count": 1, "colour": "red"}, "colour"),
])
def test_bad_plan_422(c, tok, body, field):
    st, h, b = c.post(PLANS, body, token=tok["admin"])
    assert_problem(st, h, b, 422)
    assert field in field_errors(b), b


def test_plan_body_must_be_json(c, tok):
    st, h, b = c.post(PLANS, "{not json", token=tok["admin"])
    assert_problem(st, h, b, 400)
    st, h, b = c.post(PLANS, '{"service": "meals"}', token=tok["admin"], content_type="text/plain")
    assert_problem(st, h, b, 415)
