"""The elderly-service directory: /api/v1/services, /api/v1/facilities (create,
change, read, list, the walking-time search, GeoJSON) and /api/v1/match.

One server per module over a database holding the official Chaoyang areas,
with the district outline loaded (so a point far from the district is
refused). The facilities the search and match tests look at stand around
ORIGIN in 建外街道; every other test writes its facilities kilometres away, so
the searches around ORIGIN see the same seven places whatever order the tests
run in."""
import datetime
import itertools
import math
import os

import pytest

from conftest import (ADMIN_PASSWORD, SHARED_FLAGS, SOURCE_DIR, assert_no_sanitizer_report,
                      assert_problem, field_errors, run_cli)

PW = "directory-test-pw-1"
AREAS_DIR = os.path.join(SOURCE_DIR, "data", "chaoyang")
BOUNDARY = os.path.join(AREAS_DIR, "boundary_gcj02.geojson")
NLJY = "110105001024"      # 南郎家园, in 建外 (110105001)
TIDONG = "110105002024"    # 体东, in 朝外 (110105002)

EARTH_R = 6371008.8        # the mean radius linlid's haversine uses
DETOUR, SPEED = 1.3, 60.0  # the default walking model
ORIGIN = (39.9061, 116.4599)
ELSEWHERE = (39.9950, 116.4700)   # about 10 km north: the tests that move things
FARTHER = (39.9600, 116.5400)     # about 9 km north-east
SCOPE_SPOT = (39.8700, 116.4599)  # 4 km south: scope and idempotency tests
EMPTY = (39.9300, 116.6000)       # nothing is written near here
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALWAYS = {d: ["00:00-24:00"] for d in DAYS}
LUNCH_DAILY = {d: ["10:30-13:00"] for d in DAYS}
NO_SUNDAY = dict({d: ["10:30-13:00", "16:30-18:30"] for d in DAYS[:6]}, sun=[])
SUNDAY_11 = "2026-03-08T11:00:00+08:00"   # a Sunday
NATIONAL_DAY = "2026-10-02T11:00:00+08:00"  # a Friday, inside C's closure
TUESDAY_11 = "2026-03-10T11:00:00+08:00"

_names = itertools.count(1)


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
    """The point `north_m` north and `east_m` east of p."""
    lat = p[0] + math.degrees(north_m / EARTH_R)
    lon = p[1] + math.degrees(east_m / (EARTH_R * math.cos(math.radians(p[0]))))
    return (round(lat, 7), round(lon, 7))


def walk_minutes(a, b):
    return haversine(a, b) * DETOUR / SPEED


def make_id(birth, seq):
    """A valid GB 11643 ID number of 朝阳 (region, birth date, sequence, check character)."""
    first17 = f"110105{birth}{seq:03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return first17 + "10X98765432"[sum(int(c) * w for c, w in zip(first17, weights)) % 11]


def facility(name, point, kind="dining_table", area=NLJY, **extra):
    body = {"kind": kind, "name": name, "operator_type": "private", "area_code": area,
            "address": "建外街道测试路1号", "point": {"lat": point[0], "lon": point[1]}}
    body.update(extra)
    return body


def meals(price, age_min=0, **extra):
    s = {"code": "meals", "price": price, "unit": "meal", "age_min": age_min}
    s.update(extra)
    return s


def q(params):
    return "&".join(f"{k}={v}" for k, v in params.items())


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
        "street": ("street", "110105001"),
        "other_street": ("street", "110105002"),
        "community": ("community", NLJY),
        "resident": ("resident", None),
    }
    out = {"admin": admin}
    for key, (role, scope) in specs.items():
        c.create_user(admin, f"dir-{key}", role=role, scope=scope, password=PW)
        out[key] = c.login(f"dir-{key}", PW)
    return out


def create(c, token, body, expect=201, headers=None):
    st, h, b = c.post("/api/v1/facilities", body, token=token, headers=headers)
    assert st == expect, f"{st} {b}"
    return b


@pytest.fixture(scope="module")
def world(c, tok):
    """The seven facilities around ORIGIN (walking minutes at 1.3 x 60 m/min):
    A dining table 250 m N (5.4 min, meals 15, 60+, dibao half price, no Sunday),
    B dining table 260 m S (5.6, meals 12, daily lunch),
    G institution 400 m NE (8.7, residential care 4000/month, 3 of 20 beds free),
    C institution 600 m E (13.0, residential care 5000, meals 20, no bed free,
      closed 1-7 October),
    D station 1000 m W (21.7, meals 10, health checks free),
    E dining table 3 km N (65, meals 8)."""
    t = tok["street"]
    spots = {
        "A": offset(ORIGIN, north_m=250),
        "B": offset(ORIGIN, north_m=-260),
        "G": offset(ORIGIN, north_m=400 / math.sqrt(2), east_m=400 / math.sqrt(2)),
        "C": offset(ORIGIN, east_m=600),
        "D": offset(ORIGIN, east_m=-1000),
        "E": offset(ORIGIN, north_m=3000),
    }
    bodies = {
        "A": facility("甲老年餐桌", spots["A"], phone="010-6500 1234", rating=4.5, capacity=40,
                      registration="京民养字001", consortium="建外养老服务联合体", hours=NO_SUNDAY,
                      services=[meals(15, age_min=60, note="两荤一素", subsidies=[
                          {"label": "低保老人半价", "classes": ["dibao"], "percent_off": 50}])]),
        "B": facility("乙老年餐桌", spots["B"], hours=LUNCH_DAILY, services=[meals(12)]),
        "G": facility("丙养老院", spots["G"], kind="institution", operator_type="public",
                      beds_total=20, beds_free=3, hours=ALWAYS,
                      services=[{"code": "residential_care", "price": 4000, "unit": "month",
                                 "care_levels": ["partly_dependent", "dependent"]}]),
        "C": facility("丁养老院", spots["C"], kind="institution", beds_total=50, beds_free=0,
                      hours=ALWAYS,
                      closures=[{"from": "2026-10-01", "to": "2026-10-07", "reason": "国庆"}],
                      services=[{"code": "residential_care", "price": 5000, "unit": "month"},
                                meals(20)]),
        "D": facility("戊养老驿站", spots["D"], kind="station", hours=ALWAYS,
                      services=[meals(10), {"code": "health_check", "price": 0,
                                            "unit": "visit"}]),
        "E": facility("己老年餐桌", spots["E"], hours=ALWAYS, services=[meals(8)]),
    }
    out = {}
    for key, body in bodies.items():
        out[key] = create(c, t, body)
    return out


def all_facilities(c, query=""):
    items, cursor = [], None
    for _ in range(100):
        st, h, b = c.get("/api/v1/facilities?limit=500" + query +
                         (f"&cursor={cursor}" if cursor else ""))
        assert st == 200, b
        items.extend(b["items"])
        cursor = b["next_cursor"]
        if not cursor:
            return items
    raise AssertionError("facility paging did not end")


def search(c, expect=200, **params):
    params.setdefault("near", f"{ORIGIN[0]},{ORIGIN[1]}")
    st, h, b = c.get("/api/v1/facilities?" + q(params))
    assert st == expect, f"{st} {b}"
    return b


def names(items):
    return [i["name"] for i in items]


# --------------------------------------------------------------------------- the catalogue

def test_catalogue_is_public_and_has_the_defaults(c):
    st, h, b = c.get("/api/v1/services")
    assert st == 200, b
    codes = {s["code"] for s in b["items"]}
    assert {"meals", "meal_delivery", "bathing", "residential_care", "home_nursing",
            "health_check", "emergency_response", "family_bed"} <= codes
    meal = next(s for s in b["items"] if s["code"] == "meals")
    assert meal["unit"] == "meal" and meal["name_zh"] and meal["name_en"]


def test_district_adds_a_service_once(c, tok):
    body = {"code": "tea_club", "name_zh": "茶话会", "name_en": "Tea club", "unit": "visit"}
    st, h, b = c.post("/api/v1/services", body, token=tok["district"])
    assert st == 201, b
    assert b["code"] == "tea_club" and b["unit"] == "visit"
    st, h, b = c.post("/api/v1/services", body, token=tok["admin"])
    assert_problem(st, h, b, 409)
    st, h, b = c.get("/api/v1/services")
    assert "tea_club" in {s["code"] for s in b["items"]}


@pytest.mark.parametrize("who", ["street", "resident"])
def test_other_roles_may_not_add_services_403(c, tok, who):
    body = {"code": f"club_{who}", "name_zh": "俱乐部", "name_en": "Club", "unit": "visit"}
    st, h, b = c.post("/api/v1/services", body, token=tok[who])
    assert_problem(st, h, b, 403)


@pytest.mark.parametrize("body,field", [
    ({"code": "Bad-Code", "name_zh": "甲", "name_en": "a", "unit": "visit"}, "code"),
    ({"code": "ok_code", "name_zh": "甲", "name_en": "a", "unit": "week"}, "unit"),
    ({"code": "ok_code", "name_zh": "", "name_en": "a", "unit": "visit"}, "name_zh"),
    ({"code": "ok_code", "name_en": "a", "unit": "visit"}, "name_zh"),
])
def test_bad_service_422(c, tok, body, field):
    st, h, b = c.post("/api/v1/services", body, token=tok["admin"])
    assert_problem(st, h, b, 422)
    assert field in field_errors(b), b


# --------------------------------------------------------------------------- create and read

def test_created_facility_has_the_api_shape(c, world):
    a = world["A"]
    assert a["kind"] == "dining_table" and a["kind_label"] == "老年餐桌"
    assert a["operator_type"] == "private" and a["status"] == "open"
    assert a["area_code"] == NLJY and a["area_name"] == "南郎家园社区居委会"
    assert a["street_code"] == "110105001000" and a["street_name"]
    assert a["phone"] == "01065001234" and a["rating"] == 4.5 and a["capacity"] == 40
    assert a["beds_total"] is None and a["beds_free"] is None
    assert a["registration"] == "京民养字001" and a["consortium"] == "建外养老服务联合体"
    assert a["hours"] == NO_SUNDAY and list(a["hours"]) == list(DAYS)
    assert a["closures"] == []
    assert a["services"] == [{
        "code": "meals", "price": 15.0, "unit": "meal", "age_min": 60, "care_levels": [],
        "note": "两荤一素",
        "subsidies": [{"label": "低保老人半价", "classes": ["dibao"], "age_min": 0,
                       "care_levels": [], "living_alone": False, "percent_off": 50}]}]
    for k in ("created_at", "updated_at"):
        datetime.datetime.fromisoformat(a[k].replace("Z", "+00:00"))
    assert world["B"]["phone"] is None and world["B"]["rating"] is None
    assert world["C"]["closures"] == [{"from": "2026-10-01", "to": "2026-10-07", "reason": "国庆"}]
    assert world["G"]["services"][0]["care_levels"] == ["partly_dependent", "dependent"]


def test_facility_is_public(c, world):
    st, h, b = c.get(f"/api/v1/facilities/{world['A']['id']}")
    assert st == 200 and b == world["A"]
    st, h, b = c.get("/api/v1/facilities/99999999")
    assert_problem(st, h, b, 404)


def test_create_answers_location(c, tok):
    st, h, b = c.post("/api/v1/facilities",
                      facility("定位餐桌", offset(SCOPE_SPOT, east_m=100)), token=tok["district"])
    assert st == 201, b
    assert h.get("Location") == f"/api/v1/facilities/{b['id']}"


def test_plain_list_filters_and_pages(c, world):
    jianwai = all_facilities(c, "&area=110105001&kind=dining_table")
    got = {f["id"] for f in jianwai}
    assert {world["A"]["id"], world["B"]["id"], world["E"]["id"]} <= got
    assert world["C"]["id"] not in got
    assert all(f["kind"] == "dining_table" for f in jianwai)
    beds = all_facilities(c, "&service=residential_care")
    assert {world["C"]["id"], world["G"]["id"]} <= {f["id"] for f in beds}
    st, h, page = c.get("/api/v1/facilities?limit=2")
    assert st == 200 and len(page["items"]) == 2 and page["next_cursor"]
    st, h, more = c.get(f"/api/v1/facilities?limit=2&cursor={page['next_cursor']}")
    assert st == 200
    ids = [f["id"] for f in page["items"] + more["items"]]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


@pytest.mark.parametrize("query,field", [
    ("kind=park", "kind"), ("service=karaoke", "service"), ("status=gone", "status"),
    ("area=12", "area"), ("minutes=10", "minutes"), ("colour=red", "colour"),
    ("format=xml", "format"),
])
def test_plain_list_bad_parameter_422(c, query, field):
    st, h, b = c.get("/api/v1/facilities?" + query)
    assert_problem(st, h, b, 422)
    assert field in field_errors(b), b


# --------------------------------------------------------------------------- search

def test_search_orders_by_walking_time_then_price(c, world):
    b = search(c, minutes=15)
    assert names(b["items"]) == ["甲老年餐桌", "乙老年餐桌", "丙养老院", "丁养老院"]
    b = search(c, minutes=15, service="meals")
    # A and B are both a 6-minute walk: the cheaper B first.
    assert names(b["items"]) == ["乙老年餐桌", "甲老年餐桌", "丁养老院"]
    prices = [(math.ceil(i["walk_minutes"] - 0.05), i["price"]) for i in b["items"]]
    assert prices == sorted(prices)
    b_item = b["items"][0]
    assert b_item["price"] == 12.0 and b_item["unit"] == "meal" and b_item["pay"] == 12.0
    assert b["items"][1]["pay"] == 15.0  # the dibao rule is not for everyone


def test_search_distances_and_minutes_follow_the_model(c, world):
    b = search(c, minutes=30)
    assert len(b["items"]) == 5
    for item in b["items"]:
        p = (item["point"]["lat"], item["point"]["lon"])
        d = haversine(ORIGIN, p)
        assert abs(item["distance_m"] - d) <= 1, (item["name"], item["distance_m"], d)
        # rounded up to a tenth: never shorter than the walk
        assert -0.001 <= item["walk_minutes"] - d * DETOUR / SPEED < 0.1001, item
        assert item["walk_minutes"] <= 30
    assert b["minutes"] == 30 and b["origin"] == {"lat": ORIGIN[0], "lon": ORIGIN[1]}


def test_minutes_limit_the_search(c, world):
    assert names(search(c, minutes=6)["items"]) == ["甲老年餐桌", "乙老年餐桌"]
    assert "戊养老驿站" not in names(search(c)["items"])  # 15 minutes by default
    assert "戊养老驿站" in names(search(c, minutes=22)["items"])
    assert "己老年餐桌" in names(search(c, minutes=66)["items"])


def test_search_filters(c, world):
    assert names(search(c, kind="institution")["items"]) == ["丙养老院", "丁养老院"]
    assert names(search(c, service="meals", max_price=12)["items"]) == ["乙老年餐桌"]
    assert names(search(c, service="meals", max_price="12.5", minutes=30)["items"]) == \
        ["乙老年餐桌", "戊养老驿站"]
    assert names(search(c, beds_free="true")["items"]) == ["丙养老院"]
    assert names(search(c, minutes=30, limit=2)["items"]) == ["甲老年餐桌", "乙老年餐桌"]


def test_open_at_sunday_and_closure(c, world):
    b = search(c, service="meals", open_at=SUNDAY_11.replace("+", "%2B"))
    open_ = {i["name"]: i["open"] for i in b["items"]}
    assert open_ == {"乙老年餐桌": True, "甲老年餐桌": False, "丁养老院": True}
    b = search(c, service="meals", open_at=TUESDAY_11.replace("+", "%2B"))
    assert all(i["open"] for i in b["items"]), b
    b = search(c, open_at=NATIONAL_DAY.replace("+", "%2B"))
    open_ = {i["name"]: i["open"] for i in b["items"]}
    assert open_["丁养老院"] is False and open_["丙养老院"] is True and open_["甲老年餐桌"] is True
    b = search(c, service="meals", only_open="true", open_at=SUNDAY_11.replace("+", "%2B"))
    assert names(b["items"]) == ["乙老年餐桌", "丁养老院"]
    assert b["open_at"].startswith("2026-03-08T03:00:00")


def test_search_by_community_uses_its_centre(c, world):
    st, h, b = c.get(f"/api/v1/facilities?community={NLJY}&minutes=15")
    assert st == 200, b
    assert set(b["origin"]) == {"lat", "lon"}
    assert haversine(ORIGIN, (b["origin"]["lat"], b["origin"]["lon"])) < 300
    assert "甲老年餐桌" in names(b["items"])


def test_geojson(c, world):
    st, h, b = c.get(f"/api/v1/facilities?near={ORIGIN[0]},{ORIGIN[1]}&minutes=15"
                     "&service=meals&format=geojson")
    assert st == 200, b
    assert h.get("Content-Type").startswith("application/geo+json")
    assert b["type"] == "FeatureCollection" and len(b["features"]) == 3
    f = b["features"][0]
    assert f["type"] == "Feature" and f["geometry"]["type"] == "Point"
    assert f["geometry"]["coordinates"] == [world["B"]["point"]["lon"], world["B"]["point"]["lat"]]
    assert f["id"] == world["B"]["id"]
    assert f["properties"]["name"] == "乙老年餐桌" and f["properties"]["price"] == 12.0
    assert "walk_minutes" in f["properties"] and "point" not in f["properties"]
    st, h, b = c.get("/api/v1/facilities?area=110105001&format=geojson&limit=2")
    assert st == 200 and b["type"] == "FeatureCollection" and "next_cursor" in b


@pytest.mark.parametrize("query,field", [
    ("near=abc", "near"),
    ("near=39.9", "near"),
    ("near=48.85,2.35", "near"),          # Paris
    ("near=43.80,87.60", "near"),         # Urumqi: in China, far from the district
    ("near=95,116.4", "near"),
    ("community=110105001099", "community"),
    ("community=110105001", "community"),  # a street
    (f"near=39.9,116.4&community={NLJY}", "community"),
    ("near=39.9061,116.4599&minutes=0", "minutes"),
    ("near=39.9061,116.4599&minutes=-5", "minutes"),
    ("near=39.9061,116.4599&minutes=121", "minutes"),
    ("near=39.9061,116.4599&minutes=abc", "minutes"),
    ("near=39.9061,116.4599&service=karaoke", "service"),
    ("near=39.9061,116.4599&kind=park", "kind"),
    ("near=39.9061,116.4599&open_at=yesterday", "open_at"),
    ("near=39.9061,116.4599&max_price=10", "max_price"),
    ("near=39.9061,116.4599&service=meals&max_price=-1", "max_price"),
    ("near=39.9061,116.4599&service=meals&max_price=1.234", "max_price"),
    ("near=39.9061,116.4599&only_open=maybe", "only_open"),
    ("near=39.9061,116.4599&beds_free=yes", "beds_free"),
    ("near=39.9061,116.4599&limit=0", "limit"),
    ("near=39.9061,116.4599&limit=201", "limit"),
    ("near=39.9061,116.4599&format=kml", "format"),
    ("near=39.9061,116.4599&cursor=abc", "cursor"),
    ("near=39.9061,116.4599&status=open", "status"),
    ("near=39.9061,116.4599&radius=5", "radius"),
])
def test_search_bad_input_422(c, query, field):
    st, h, b = c.get("/api/v1/facilities?" + query)
    assert_problem(st, h, b, 422)
    assert field in field_errors(b), b


def test_search_lists_every_problem(c):
    st, h, b = c.get("/api/v1/facilities?near=abc&minutes=0&service=karaoke&kind=park")
    assert_problem(st, h, b, 422)
    assert {"near", "kind"} <= set(field_errors(b)), b
    st, h, b = c.get("/api/v1/facilities?near=39.9061,116.4599&minutes=0&service=karaoke"
                     "&open_at=x")
    assert {"minutes", "service", "open_at"} <= set(field_errors(b)), b


# --------------------------------------------------------------------------- changes reach the search

def test_patch_moves_and_closing_removes_from_search(c, tok):
    t = tok["street"]
    h = create(c, t, facility("庚老年餐桌", offset(ELSEWHERE, north_m=100), hours=ALWAYS,
                              services=[meals(9)]))
    near_elsewhere = f"{ELSEWHERE[0]},{ELSEWHERE[1]}"
    near_farther = f"{FARTHER[0]},{FARTHER[1]}"
    assert names(search(c, near=near_elsewhere, minutes=5)["items"]) == ["庚老年餐桌"]
    assert search(c, near=near_farther, minutes=5)["items"] == []

    st, _, moved = c.patch(f"/api/v1/facilities/{h['id']}",
                           {"point": {"lat": FARTHER[0], "lon": FARTHER[1]}}, token=t)
    assert st == 200, moved
    assert moved["point"] == {"lat": FARTHER[0], "lon": FARTHER[1]}
    assert search(c, near=near_elsewhere, minutes=5)["items"] == []
    got = search(c, near=near_farther, minutes=5)["items"]
    assert names(got) == ["庚老年餐桌"] and got[0]["distance_m"] == 0

    st, _, b = c.patch(f"/api/v1/facilities/{h['id']}",
                       {"services": [meals(6)], "phone": "13800138000"}, token=t)
    assert st == 200, b
    got = search(c, near=near_farther, minutes=5, service="meals")["items"]
    assert got[0]["price"] == 6.0 and got[0]["phone"] == "13800138000"

    st, _, b = c.patch(f"/api/v1/facilities/{h['id']}", {"status": "suspended"}, token=t)
    assert st == 200 and b["status"] == "suspended"
    got = search(c, near=near_farther, minutes=5)["items"]
    assert names(got) == ["庚老年餐桌"] and got[0]["open"] is False

    st, _, b = c.patch(f"/api/v1/facilities/{h['id']}", {"status": "closed"}, token=t)
    assert st == 200 and b["status"] == "closed"
    assert search(c, near=near_farther, minutes=5)["items"] == []
    st, _, b = c.get(f"/api/v1/facilities/{h['id']}")
    assert st == 200 and b["status"] == "closed"  # kept, with its record
    assert h["id"] in {f["id"] for f in all_facilities(c, "&status=closed")}


def test_patch_clears_with_null(c, tok):
    t = tok["street"]
    f = create(c, t, facility("辛老年餐桌", offset(SCOPE_SPOT, north_m=300), phone="13800138001",
                              rating=3.5, capacity=10))
    st, _, b = c.patch(f"/api/v1/facilities/{f['id']}",
                       {"phone": None, "rating": None, "capacity": None}, token=t)
    assert st == 200, b
    assert b["phone"] is None and b["rating"] is None and b["capacity"] is None
    assert b["name"] == "辛老年餐桌"


@pytest.mark.parametrize("body,field", [
    ({}, None),
    ({"point": None}, "point"),
    ({"kind": "park"}, "kind"),
    ({"hours": {"mon": ["9-5"]}}, "hours.mon[0]"),
    ({"services": [meals(1.234)]}, "services[0].price"),
    ({"id": 5}, "id"),
    ({"area_name": "x"}, "area_name"),
])
def test_patch_bad_input_422_changes_nothing(c, tok, world, body, field):
    before = c.get(f"/api/v1/facilities/{world['B']['id']}")[2]
    st, h, b = c.patch(f"/api/v1/facilities/{world['B']['id']}", body, token=tok["street"])
    assert_problem(st, h, b, 422)
    if field:
        assert field in field_errors(b), b
    assert c.get(f"/api/v1/facilities/{world['B']['id']}")[2] == before


def test_patch_needs_scope(c, tok, world):
    for who, want in (("other_street", 403), ("resident", 403), ("community", 403)):
        st, h, b = c.patch(f"/api/v1/facilities/{world['B']['id']}", {"capacity": 5},
                           token=tok[who])
        assert_problem(st, h, b, want)
    st, h, b = c.patch(f"/api/v1/facilities/{world['B']['id']}", {"capacity": 5})
    assert_problem(st, h, b, 401)
    st, h, b = c.patch("/api/v1/facilities/99999999", {"capacity": 5}, token=tok["admin"])
    assert_problem(st, h, b, 404)


# --------------------------------------------------------------------------- who may create

def test_street_staff_create_only_in_their_street_403(c, tok):
    before = len(all_facilities(c))
    st, h, b = c.post("/api/v1/facilities",
                      facility("越界餐桌", offset(SCOPE_SPOT, east_m=500), area=TIDONG),
                      token=tok["street"])
    assert_problem(st, h, b, 403)
    for who in ("resident", "community"):
        st, h, b = c.post("/api/v1/facilities",
                          facility(f"不许-{who}", offset(SCOPE_SPOT, east_m=600)), token=tok[who])
        assert_problem(st, h, b, 403)
    st, h, b = c.post("/api/v1/facilities", facility("匿名餐桌", offset(SCOPE_SPOT, east_m=700)))
    assert_problem(st, h, b, 401)
    assert len(all_facilities(c)) == before
    create(c, tok["other_street"], facility("体东餐桌", offset(SCOPE_SPOT, east_m=800),
                                            area=TIDONG))


def test_same_name_in_the_same_area_409(c, tok):
    body = facility("重名餐桌", offset(SCOPE_SPOT, east_m=900))
    create(c, tok["street"], body)
    before = len(all_facilities(c))
    st, h, b = c.post("/api/v1/facilities", body, token=tok["admin"])
    assert_problem(st, h, b, 409)
    assert len(all_facilities(c)) == before


def test_idempotent_create(c, tok):
    body = facility("幂等餐桌", offset(SCOPE_SPOT, east_m=1000), services=[meals(11)])
    hdr = {"Idempotency-Key": "facility-create-1"}
    first = create(c, tok["street"], body, headers=hdr)
    before = len(all_facilities(c))
    st, h, again = c.post("/api/v1/facilities", body, token=tok["street"], headers=hdr)
    assert st == 201, again
    assert h.get("Idempotent-Replayed") == "true" and again["id"] == first["id"]
    assert len(all_facilities(c)) == before
    other = dict(body, name="另一个餐桌")
    st, h, b = c.post("/api/v1/facilities", other, token=tok["street"], headers=hdr)
    assert_problem(st, h, b, 409)
    assert len(all_facilities(c)) == before


def bad(**over):
    body = facility("坏数据餐桌", offset(SCOPE_SPOT, east_m=1500), hours=ALWAYS,
                    services=[meals(15, subsidies=[{"label": "低保", "classes": ["dibao"],
                                                    "percent_off": 50}])])
    for k, v in over.items():
        if v is None:
            body.pop(k, None)
        else:
            body[k] = v
    return body


def with_rule(**rule):
    r = {"label": "规则", "classes": ["dibao"]}
    r.update(rule)
    return [meals(15, subsidies=[r])]


@pytest.mark.parametrize("body,field", [
    (bad(name=None), "name"),
    (bad(name=""), "name"),
    (bad(name="名" * 65), "name"),
    (bad(kind="park"), "kind"),
    (bad(kind=None), "kind"),
    (bad(operator_type="state"), "operator_type"),
    (bad(status="gone"), "status"),
    (bad(area_code="110105"), "area_code"),
    (bad(area_code="110105001099"), "area_code"),
    (bad(point=None), "point"),
    (bad(point={"lat": "39.9", "lon": 116.4}), "point.lat"),
    (bad(point={"lat": 39.9}), "point.lon"),
    (bad(point={"lat": 48.85, "lon": 2.35}), "point"),
    (bad(phone="12345"), "phone"),
    (bad(hours={"mon": ["10:30-13:00", "25:00-26:00"]}), "hours.mon[1]"),
    (bad(hours={"mon": ["13:00-10:30"]}), "hours.mon[0]"),
    (bad(hours={"monday": ["10:30-13:00"]}), "hours.monday"),
    (bad(hours={"mon": "10:30-13:00"}), "hours.mon"),
    (bad(closures=[{"from": "2026-10-01", "to": "2026-10-07"}, {"from": "1 Oct", "to": "x"}]),
     "closures[1].from"),
    (bad(closures=[{"from": "2026-10-07", "to": "2026-10-01"}]), "closures[0]"),
    (bad(capacity=-2), "capacity"),
    (bad(beds_total=5, beds_free=6), "beds_free"),
    (bad(rating=7), "rating"),
    (bad(rating=4.55), "rating"),
    (bad(services=[meals(15), {"code": "karaoke", "price": 1, "unit": "hour"}]),
     "services[1].code"),
    (bad(services=[meals(15), meals(16)]), "services[1].code"),
    (bad(services=[meals(1.234)]), "services[0].price"),
    (bad(services=[meals(-1)]), "services[0].price"),
    (bad(services=[meals(15, unit="week")]), "services[0].unit"),
    (bad(services=[meals(15, care_levels=["healthy"])]), "services[0].care_levels[0]"),
    (bad(services=[meals(15, colour="red")]), "services[0].colour"),
    (bad(services=with_rule(percent_off=150)), "services[0].subsidies[0].percent_off"),
    (bad(services=with_rule(percent_off=50, pay=3)), "services[0].subsidies[0]"),
    (bad(services=with_rule()), "services[0].subsidies[0]"),
    (bad(services=with_rule(amount_off=0.001)), "services[0].subsidies[0].amount_off"),
    (bad(services=with_rule(pay=2, classes=["rich"])), "services[0].subsidies[0].classes[0]"),
    (bad(id=7), "id"),
    (bad(area_name="x"), "area_name"),
    (bad(created_at="2026-01-01T00:00:00Z"), "created_at"),
    (bad(colour="red"), "colour"),
])
def test_create_bad_input_422_changes_nothing(c, tok, body, field):
    before = len(all_facilities(c))
    st, h, b = c.post("/api/v1/facilities", body, token=tok["street"])
    assert_problem(st, h, b, 422)
    assert field in field_errors(b), b
    assert len(all_facilities(c)) == before


def test_create_lists_every_problem(c, tok):
    body = bad(kind="park", point={"lat": "x", "lon": 116.4}, rating=9,
               hours={"tue": ["x"]},
               services=[meals(15), {"code": "karaoke", "price": 1.001, "unit": "hour"}])
    st, h, b = c.post("/api/v1/facilities", body, token=tok["street"])
    assert_problem(st, h, b, 422)
    assert {"kind", "point.lat", "rating", "hours.tue[0]", "services[1].price"} <= \
        set(field_errors(b)), b


def test_create_body_must_be_json(c, tok):
    st, h, b = c.post("/api/v1/facilities", "not json", token=tok["street"])
    assert_problem(st, h, b, 400)
    st, h, b = c.post("/api/v1/facilities", "{}", token=tok["street"], content_type="text/plain")
    assert_problem(st, h, b, 415)


# --------------------------------------------------------------------------- match

def match(c, body, token=None, expect=200):
    st, h, b = c.post("/api/v1/match", body, token=token)
    assert st == expect, f"{st} {b}"
    return h, b


NEAR = {"lat": ORIGIN[0], "lon": ORIGIN[1]}


def results_for(b, need):
    return [r for r in b["results"] if r["need"] == need]


def test_match_dibao_pays_the_subsidised_price(c, world):
    _, b = match(c, {"profile": {"age": 72, "subsidy_class": "dibao"}, "near": NEAR,
                     "needs": ["meals"]})
    assert b["needs"] == ["meals"]
    res = results_for(b, "meals")
    assert [r["facility"]["name"] for r in res] == ["甲老年餐桌", "乙老年餐桌", "丁养老院", "戊养老驿站"]
    top = res[0]
    assert top["rank"] == 1 and top["eligible"] and top["has_capacity"] and top["within_budget"]
    assert top["pay"] == 7.5 and top["subsidy"] == "低保老人半价"
    assert top["service"] == {"code": "meals", "price": 15.0, "unit": "meal"}
    assert set(top["facility"]) == {"id", "name", "kind", "address", "point", "phone"}
    assert top["facility"]["id"] == world["A"]["id"]
    exact = walk_minutes(ORIGIN, (top["facility"]["point"]["lat"], top["facility"]["point"]["lon"]))
    assert -0.001 <= top["walk_minutes"] - exact < 0.1001, (top["walk_minutes"], exact)
    assert any("7.50" in r and "低保老人半价" in r for r in top["reasons"]), top["reasons"]
    # 5.4 minutes is read, ranked and shown as 6, as the search does
    assert top["walk_minutes"] == 5.5 and top["reasons"][0] == "步行约6分钟 (250 m) / 6 min walk"
    found = [i for i in search(c, minutes=15)["items"] if i["id"] == world["A"]["id"]]
    assert found and found[0]["walk_minutes"] == top["walk_minutes"], found
    assert [r["rank"] for r in res] == [1, 2, 3, 4]
    assert res[1]["subsidy"] is None and res[1]["pay"] == 12.0
    # Without the subsidy class the cheaper B comes first.
    _, b = match(c, {"profile": {"age": 72}, "near": NEAR, "needs": ["meals"]})
    assert results_for(b, "meals")[0]["facility"]["name"] == "乙老年餐桌"
    assert results_for(b, "meals")[1]["pay"] == 15.0


def test_match_ranks_the_ineligible_last(c, world):
    _, b = match(c, {"profile": {"age": 55, "subsidy_class": "dibao"}, "near": NEAR,
                     "needs": ["meals"]})
    res = results_for(b, "meals")
    assert [r["facility"]["name"] for r in res] == ["乙老年餐桌", "丁养老院", "戊养老驿站", "甲老年餐桌"]
    assert res[-1]["eligible"] is False and all(r["eligible"] for r in res[:-1])
    assert any("60" in r for r in res[-1]["reasons"]), res[-1]["reasons"]


def test_match_no_free_bed_has_no_capacity(c, world):
    _, b = match(c, {"profile": {"age": 85, "care_level": "dependent"}, "near": NEAR,
                     "needs": ["residential_care"]})
    res = results_for(b, "residential_care")
    assert [r["facility"]["name"] for r in res] == ["丙养老院", "丁养老院"]
    assert res[0]["has_capacity"] is True and res[1]["has_capacity"] is False
    assert any("床位已满" in r for r in res[1]["reasons"]), res[1]["reasons"]
    # G serves only those partly dependent or dependent; C has no bed: neither is
    # usable, so the score (time and price) decides.
    _, b = match(c, {"profile": {"age": 85, "care_level": "self_care"}, "near": NEAR,
                     "needs": ["residential_care"]})
    res = results_for(b, "residential_care")
    assert [(r["facility"]["name"], r["eligible"], r["has_capacity"]) for r in res] == \
        [("丙养老院", False, True), ("丁养老院", True, False)]


def test_match_budget(c, world):
    _, b = match(c, {"profile": {"age": 70}, "near": NEAR, "needs": ["meals"], "budget": 10,
                     "minutes": 30})
    res = results_for(b, "meals")
    assert res[0]["facility"]["name"] == "戊养老驿站" and res[0]["within_budget"] is True
    assert all(r["within_budget"] is False for r in res[1:]), res
    assert any("超出预算" in r for r in res[1]["reasons"])


def test_match_limit_and_minutes(c, world):
    _, b = match(c, {"profile": {"age": 70}, "near": NEAR, "needs": ["meals"], "limit": 1})
    assert len(b["results"]) == 1
    _, b = match(c, {"profile": {"age": 70}, "near": NEAR, "needs": ["meals"], "minutes": 6})
    assert {r["facility"]["name"] for r in b["results"]} == {"甲老年餐桌", "乙老年餐桌"}


def test_match_derives_needs_from_the_profile(c, world):
    _, b = match(c, {"profile": {"age": 70}, "near": NEAR})
    assert b["needs"] == ["meals", "health_check"]
    # D, 21.7 minutes away, is within the default 30.
    assert [r["facility"]["name"] for r in results_for(b, "health_check")] == ["戊养老驿站"]
    _, b = match(c, {"profile": {"age": 80, "living_alone": True, "care_level": "dependent"},
                     "near": NEAR, "minutes": 30})
    assert b["needs"] == ["meals", "health_check", "cleaning", "emergency_response",
                          "psychological", "residential_care", "home_nursing", "family_bed"]
    assert [r["facility"]["name"] for r in results_for(b, "health_check")] == ["戊养老驿站"]
    needs_order = [b["needs"].index(r["need"]) for r in b["results"]]
    assert needs_order == sorted(needs_order)
    _, b = match(c, {"profile": {"age": 70, "care_level": "partly_dependent"}, "near": NEAR})
    assert b["needs"] == ["meals", "health_check", "home_nursing", "rehabilitation", "bathing",
                          "day_care"]


def test_match_from_a_community(c, world):
    _, b = match(c, {"profile": {"age": 70}, "community": NLJY, "needs": ["meals"]})
    assert results_for(b, "meals"), b


@pytest.mark.parametrize("body,field", [
    ({"profile": {"age": 70}, "needs": ["meals"]}, "near"),
    ({"profile": {"age": 140}, "near": NEAR}, "profile.age"),
    ({"profile": {"age": -1}, "near": NEAR}, "profile.age"),
    ({"profile": {"age": "70"}, "near": NEAR}, "profile.age"),
    ({"profile": {"care_level": "fine"}, "near": NEAR}, "profile.care_level"),
    ({"profile": {"subsidy_class": "rich"}, "near": NEAR}, "profile.subsidy_class"),
    ({"profile": {"age": 70, "hobby": "chess"}, "near": NEAR}, "profile.hobby"),
    ({"profile": {"age": 70}, "near": {"lat": 48.85, "lon": 2.35}}, "near"),
    ({"profile": {"age": 70}, "near": {"lat": 39.9}}, "near.lon"),
    ({"profile": {"age": 70}, "near": NEAR, "community": NLJY}, "community"),
    ({"profile": {"age": 70}, "community": "110105001099"}, "community"),
    ({"profile": {"age": 70}, "near": NEAR, "needs": ["meals", "karaoke"]}, "needs[1]"),
    ({"profile": {"age": 70}, "near": NEAR, "needs": ["meals", "meals"]}, "needs[1]"),
    ({"profile": {"age": 70}, "near": NEAR, "needs": [3]}, "needs[0]"),
    ({"profile": {"age": 70}, "near": NEAR, "budget": -1}, "budget"),
    ({"profile": {"age": 70}, "near": NEAR, "budget": 1.234}, "budget"),
    ({"profile": {"age": 70}, "near": NEAR, "minutes": 0}, "minutes"),
    ({"profile": {"age": 70}, "near": NEAR, "minutes": 500}, "minutes"),
    ({"profile": {"age": 70}, "near": NEAR, "limit": 0}, "limit"),
    ({"profile": {"age": 70}, "near": NEAR, "limit": 1000}, "limit"),
    ({"profile": {"age": 30}, "near": NEAR}, "needs"),
    ({"person_id": 0}, "person_id"),
    ({"profile": {"age": 70}, "near": NEAR, "colour": "red"}, "colour"),
])
def test_match_bad_input_422(c, tok, body, field):
    st, h, b = c.post("/api/v1/match", body, token=tok["admin"] if "person_id" in body else None)
    assert_problem(st, h, b, 422)
    assert field in field_errors(b), b


@pytest.fixture(scope="module")
def person(c, tok, world):
    """A dibao resident of 南郎家园, 78, living at ORIGIN."""
    body = {"name": "王秀兰", "id_number": make_id("19480312", 124), "community_code": NLJY,
            "home": NEAR, "subsidy_class": "dibao", "living_alone": True}
    st, h, b = c.post("/api/v1/people", body, token=tok["street"])
    assert st == 201, b
    return b


def test_match_a_stored_person_in_scope(c, tok, person):
    for who in ("street", "community", "district", "admin"):
        _, b = match(c, {"person_id": person["id"], "needs": ["meals"]}, token=tok[who])
        res = results_for(b, "meals")
        assert res[0]["facility"]["name"] == "甲老年餐桌" and res[0]["pay"] == 7.5, (who, res)
        assert "王秀兰" not in str(b) and "profile" not in b
    _, b = match(c, {"person_id": person["id"]}, token=tok["street"])
    assert b["needs"] == ["meals", "health_check", "cleaning", "emergency_response",
                          "psychological"]
    # An origin sent overrides the home.
    _, b = match(c, {"person_id": person["id"], "needs": ["meals"],
                     "near": {"lat": EMPTY[0], "lon": EMPTY[1]}}, token=tok["street"])
    assert results_for(b, "meals") == []


def test_match_a_person_out_of_scope_404(c, tok, person):
    st, h, b = c.post("/api/v1/match", {"person_id": person["id"]}, token=tok["other_street"])
    assert_problem(st, h, b, 404)
    st, h, b = c.post("/api/v1/match", {"person_id": 99999999}, token=tok["street"])
    assert_problem(st, h, b, 404)
    st, h, b = c.post("/api/v1/match", {"person_id": person["id"]}, token=tok["resident"])
    assert_problem(st, h, b, 403)
    st, h, b = c.post("/api/v1/match", {"person_id": person["id"]})
    assert_problem(st, h, b, 401)
    st, h, b = c.post("/api/v1/match", {"person_id": person["id"], "profile": {"age": 70}},
                      token=tok["street"])
    assert_problem(st, h, b, 422)
    assert "profile" in field_errors(b)


def test_match_with_a_bad_token_401(c):
    st, h, b = c.post("/api/v1/match", {"profile": {"age": 70}, "near": NEAR},
                      token="lnl_" + "x" * 43)
    assert_problem(st, h, b, 401)
