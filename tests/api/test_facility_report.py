"""GET /api/v1/reports/facilities: the service directory in figures (public).

One server per module over a database holding the official Chaoyang areas and
only the facilities these tests make, so every count is known: in 建外 (NLJY and
the street itself) and 朝外 (TIDONG and the street), one of them closed and one
suspended."""
import os

import pytest

from conftest import (ADMIN_PASSWORD, SOURCE_DIR, assert_no_sanitizer_report, assert_problem,
                      field_errors, run_cli)

REPORT = "/api/v1/reports/facilities"
AREAS_DIR = os.path.join(SOURCE_DIR, "data", "chaoyang")
JIANWAI, CHAOWAI = "110105001000", "110105002000"
NLJY = "110105001024"      # 南郎家园, in 建外
BLJY = "110105001025"      # 北郎家园, in 建外
TIDONG = "110105002024"    # 体东, in 朝外
KINDS = ["institution", "station", "dining_table", "regional_centre", "family_bed_provider",
         "health_centre", "provider"]


@pytest.fixture(scope="module")
def srv(module_factory):
    db = module_factory.new_db_path()
    r = run_cli(["--db", db, "init"], env={"LINLI_ADMIN_PASSWORD": ADMIN_PASSWORD})
    assert r.returncode == 0, r.stderr
    r = run_cli(["--db", db, "import", "areas", "--dir", AREAS_DIR])
    assert_no_sanitizer_report(r.stderr, "linli")
    assert r.returncode == 0, r.stderr
    return module_factory.start(db=db)


@pytest.fixture(scope="module")
def c(srv):
    return srv.client


def facility(name, kind, area, beds=None, free=None, status=None):
    body = {"kind": kind, "name": name, "operator_type": "private", "area_code": area,
            "point": {"lat": 39.91, "lon": 116.46}}
    if beds is not None:
        body.update(beds_total=beds, beds_free=free)
    if status:
        body["status"] = status
    return body


@pytest.fixture(scope="module")
def made(srv, c):
    """What the tests count:
    建外  NLJY   institution 120 beds (15 free) open; dining table open
          BLJY   institution 60 beds (6 free), closed after it was made
          street regional centre open
    朝外  TIDONG institution 40 beds (4 free) suspended; station 8 beds (2 free) open
          street family-bed provider 30 beds (3 free) open"""
    tok = srv.admin_token()
    bodies = [
        facility("报表甲养老院", "institution", NLJY, 120, 15),
        facility("报表南郎家园老年餐桌", "dining_table", NLJY),
        facility("报表乙养老院", "institution", BLJY, 60, 6),
        facility("报表建外区域养老服务中心", "regional_centre", JIANWAI),
        facility("报表丙养老院", "institution", TIDONG, 40, 4, status="suspended"),
        facility("报表体东养老驿站", "station", TIDONG, 8, 2),
        facility("报表朝外家庭照护床位", "family_bed_provider", CHAOWAI, 30, 3),
    ]
    ids = []
    for body in bodies:
        st, h, b = c.post("/api/v1/facilities", body, token=tok)
        assert st == 201, b
        ids.append(b["id"])
    st, h, b = c.patch(f"/api/v1/facilities/{ids[2]}", {"status": "closed"}, token=tok)
    assert st == 200 and b["status"] == "closed", b
    return ids


def kinds(body):
    assert [k["kind"] for k in body["by_kind"]] == KINDS, "every kind, in order"
    return {k["kind"]: k for k in body["by_kind"]}


def test_public_counts_by_kind_and_status_without_closed_beds(c, made):
    st, h, b = c.get(REPORT)  # no token
    assert st == 200, b
    assert b["area"] is None
    assert b["total"] == 6  # the closed one is not in the total
    assert b["beds_total"] == 120 + 40 + 8 + 30
    assert b["beds_free"] == 15 + 4 + 2 + 3
    k = kinds(b)
    assert k["institution"] == {"kind": "institution", "name_zh": "养老机构", "name_en": "Care home",
                                "open": 1, "suspended": 1, "closed": 1,
                                "beds_total": 160, "beds_free": 19}
    assert (k["dining_table"]["open"], k["dining_table"]["beds_total"]) == (1, 0)
    assert k["station"]["beds_total"] == 8
    assert k["provider"] == {"kind": "provider", "name_zh": "服务商",
                             "name_en": "Home-service provider", "open": 0, "suspended": 0,
                             "closed": 0, "beds_total": 0, "beds_free": 0}
    assert sum(x["open"] + x["suspended"] for x in b["by_kind"]) == b["total"]
    assert "by_street" not in b


@pytest.mark.parametrize("area,total,beds,closed", [
    ("110105001", 3, 120, 1),   # 建外 by 9 digits: its communities and the street itself
    (JIANWAI, 3, 120, 1),
    (NLJY, 2, 120, 0),
    (BLJY, 0, 0, 1),            # only a closed one
    (TIDONG, 2, 48, 0),         # not 朝外's street-wide provider
    ("110105", 6, 198, 1),
    ("110105003", 0, 0, 0),     # 三里屯: nothing
])
def test_area_keeps_the_facilities_within_it(c, made, area, total, beds, closed):
    st, h, b = c.get(f"{REPORT}?area={area}")
    assert st == 200, b
    assert b["area"] == area + "0" * (12 - len(area))
    assert (b["total"], b["beds_total"]) == (total, beds)
    assert kinds(b)["institution"]["closed"] == closed


def test_by_street_lists_every_street_of_the_district(c, made):
    st, h, b = c.get(f"{REPORT}?by=street")
    assert st == 200, b
    streets = b["by_street"]
    codes = [s["code"] for s in streets]
    assert codes == sorted(codes) and len(codes) == 43, "all 43 streets of 朝阳, by code"
    row = {s["code"]: s for s in streets}
    jw = row[JIANWAI]
    assert jw["name"] == "建外街道"
    assert (jw["facilities"], jw["beds_total"], jw["beds_free"]) == (3, 120, 15)
    assert jw["by_kind"] == dict({k: 0 for k in KINDS}, institution=1, dining_table=1,
                                 regional_centre=1)
    cw = row[CHAOWAI]
    assert (cw["facilities"], cw["beds_total"], cw["beds_free"]) == (3, 78, 9)
    empty = [s for s in streets if s["code"] not in (JIANWAI, CHAOWAI)]
    assert all(s["facilities"] == 0 and s["beds_total"] == 0 and s["name"] for s in empty)
    assert sum(s["facilities"] for s in streets) == b["total"]
    assert sum(s["beds_total"] for s in streets) == b["beds_total"]
    assert sum(s["beds_free"] for s in streets) == b["beds_free"]
    # A street's report has that street's row only.
    st, h, b = c.get(f"{REPORT}?area=110105002&by=street")
    assert st == 200 and [s["code"] for s in b["by_street"]] == [CHAOWAI], b


@pytest.mark.parametrize("query,field", [
    ("area=12", "area"),
    ("area=11010500100x", "area"),
    ("area=110105099", "area"),        # well formed, but no such street
    ("area=110105001999", "area"),     # no such community
    ("by=community", "by"),
    ("colour=red", "colour"),
])
def test_bad_queries_are_422_naming_the_field(c, query, field):
    st, h, b = c.get(f"{REPORT}?{query}")
    assert_problem(st, h, b, 422)
    assert field in field_errors(b), b
