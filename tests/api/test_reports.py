"""/api/v1/reports: station coverage and oversized communities, checked
against what the tests create, for each staff role and scope.

One server per module over a database holding the 681 official Chaoyang
areas (43 streets, 637 communities); counts are set through
PATCH /api/v1/areas/{code}."""
import os

import pytest

from conftest import (ADMIN_PASSWORD, SHARED_FLAGS, SOURCE_DIR, assert_problem, field_errors,
                      run_cli)

PW = "report-test-pw-1"
DISTRICT = "110105000000"
JIANWAI = "110105001000"
CHAOWAI = "110105002000"
AIRPORT = "110105400000"     # 首都机场街道: 5 communities
NLJY = "110105001024"
BLJY = "110105001025"
COVERAGE = "/api/v1/reports/station-coverage"
OVERSIZED = "/api/v1/reports/oversized-communities"


@pytest.fixture(scope="module")
def net(module_factory):
    db = module_factory.new_db_path()
    for args, env in ((["init"], {"LINLI_ADMIN_PASSWORD": ADMIN_PASSWORD}),
                      (["import", "areas", "--dir", os.path.join(SOURCE_DIR, "data", "chaoyang")],
                       None)):
        r = run_cli(["--db", db] + args, env=env)
        assert r.returncode == 0, r.stderr
    return module_factory.start(*SHARED_FLAGS, db=db)


@pytest.fixture(scope="module")
def client(net):
    return net.client


@pytest.fixture(scope="module")
def tok(net, client):
    admin = net.admin_token()
    specs = {
        "district": ("district", "110105"),
        "street": ("street", "110105001"),
        "other_street": ("street", "110105002"),
        "community": ("community", NLJY),
        "operator": ("operator", "110105001"),
        "auditor": ("auditor", "110105"),
        "resident": ("resident", None),
        "volunteer": ("volunteer", None),
    }
    out = {"admin": admin}
    for key, (role, scope) in specs.items():
        client.create_user(admin, f"rp-{key}", role=role, scope=scope, password=PW)
        out[key] = client.login(f"rp-{key}", PW)
    return out


def communities_of(client, street):
    st, h, b = client.get(f"/api/v1/areas?parent={street}&level=community&limit=1000")
    assert st == 200, b
    return [a["code"] for a in b["items"]]


def add_station(client, token, name, level, area):
    st, h, b = client.post("/api/v1/stations", {"name": name, "level": level, "area_code": area},
                           token=token)
    assert st == 201, b
    return b["id"]


@pytest.fixture(scope="module")
def jianwai(client, tok):
    """A street centre for 建外 and stations for 2 of its communities (one has two)."""
    codes = communities_of(client, JIANWAI)
    centre = add_station(client, tok["street"], "建外街道社工站", "street_centre", JIANWAI)
    a = add_station(client, tok["street"], "南郎家园社工室", "community_station", codes[0])
    b = add_station(client, tok["street"], "北郎家园社工室", "community_station", codes[1])
    b2 = add_station(client, tok["district"], "北郎家园第二社工室", "community_station", codes[1])
    return {"codes": codes, "centre": centre, "served": {codes[0]: [a], codes[1]: [b, b2]}}


def get(client, token, path):
    st, h, b = client.get(path, token=token)
    assert st == 200, (path, b)
    return b


def street_row(report, code):
    rows = [s for s in report["streets"] if s["code"] == code]
    assert len(rows) == 1, report["streets"]
    return rows[0]


# ---- station coverage ----

def test_coverage_of_a_street(client, tok, jianwai):
    n = len(jianwai["codes"])
    assert n == 9
    r = get(client, tok["street"], f"{COVERAGE}?street=110105001")
    assert r["scope"] == JIANWAI and r["street"] == JIANWAI
    assert r["target"] == 1.0 and r["met"] is False
    assert r["districts"] == []
    row = street_row(r, JIANWAI)
    assert row["has_centre"] is True and row["centre_ids"] == [jianwai["centre"]]
    assert row["communities_total"] == n and row["communities_served"] == 2
    assert row["coverage"] == pytest.approx(2 / n)
    detail = {c["code"]: c for c in row["communities"]}
    assert list(detail) == jianwai["codes"]
    for code, c in detail.items():
        ids = jianwai["served"].get(code, [])
        assert c["served"] is bool(ids) and c["station_ids"] == ids, c
    t = r["totals"]
    assert (t["streets"], t["streets_with_centre"], t["communities"], t["communities_served"]) == \
        (1, 1, n, 2)
    assert t["coverage"] == pytest.approx(2 / n) and t["street_coverage"] == 1.0


def test_coverage_of_the_district(client, tok, jianwai):
    r = get(client, tok["district"], COVERAGE)
    assert r["scope"] == DISTRICT and r["street"] is None
    t = r["totals"]
    assert t["districts"] == 1 and t["districts_with_centre"] == 0
    assert t["streets"] == 43 and t["streets_with_centre"] == 1
    assert t["communities"] == 637 and t["communities_served"] == 2
    assert t["coverage"] == pytest.approx(2 / 637)
    assert t["street_coverage"] == pytest.approx(1 / 43)
    assert r["met"] is False and r["target"] == 1.0
    assert r["districts"] == [{"code": DISTRICT, "name": "朝阳区", "has_centre": False,
                               "centre_ids": []}]
    assert len(r["streets"]) == 43
    assert sum(s["communities_total"] for s in r["streets"]) == 637
    assert all("communities" not in s for s in r["streets"])       # detail only when asked
    cw = street_row(r, CHAOWAI)
    assert cw["has_centre"] is False and cw["communities_served"] == 0 and cw["coverage"] == 0
    # The admin's report (no scope) and the auditor's (district scope) agree.
    assert get(client, tok["admin"], COVERAGE)["totals"] == t
    detailed = get(client, tok["auditor"], f"{COVERAGE}?detail=true")
    assert detailed["totals"] == t
    assert sum(len(s["communities"]) for s in detailed["streets"]) == 637


def test_coverage_met_when_a_street_is_fully_served(client, tok):
    codes = communities_of(client, AIRPORT)
    assert len(codes) == 5
    add_station(client, tok["district"], "首都机场街道社工站", "street_centre", AIRPORT)
    for i, code in enumerate(codes[:-1]):
        add_station(client, tok["district"], f"机场社工室{i}", "community_station", code)
    r = get(client, tok["district"], f"{COVERAGE}?street={AIRPORT}")
    assert r["met"] is False and r["totals"]["coverage"] == pytest.approx(4 / 5)
    add_station(client, tok["district"], "机场社工室4", "community_station", codes[-1])
    r = get(client, tok["district"], f"{COVERAGE}?street={AIRPORT}")
    assert r["met"] is True
    assert r["totals"]["coverage"] == 1.0 and street_row(r, AIRPORT)["coverage"] == 1.0
    assert all(c["served"] for c in street_row(r, AIRPORT)["communities"])


def test_coverage_limited_to_scope(client, tok, jianwai):
    # Street staff and an operator of 建外 see 建外 only.
    for who in ("street", "operator"):
        r = get(client, tok[who], COVERAGE)
        assert [s["code"] for s in r["streets"]] == [JIANWAI] and r["districts"] == []
        assert r["scope"] == JIANWAI
    # Community staff see their own community within its street.
    r = get(client, tok["community"], COVERAGE)
    row = street_row(r, JIANWAI)
    assert row["communities_total"] == 1 and row["communities_served"] == 1
    assert r["scope"] == NLJY
    r = get(client, tok["community"], f"{COVERAGE}?street={JIANWAI}")
    assert [c["code"] for c in street_row(r, JIANWAI)["communities"]] == [NLJY]
    # Another street is out of scope; other roles may not read reports at all.
    for who in ("street", "operator", "community", "other_street"):
        street = CHAOWAI if who != "other_street" else JIANWAI
        st, h, b = client.get(f"{COVERAGE}?street={street}", token=tok[who])
        assert_problem(st, h, b, 403)
    for who in ("resident", "volunteer"):
        st, h, b = client.get(COVERAGE, token=tok[who])
        assert_problem(st, h, b, 403)
    st, h, b = client.get(COVERAGE)
    assert_problem(st, h, b, 401)


def test_coverage_parameters_checked(client, tok):
    for query, field in (("street=110105", "street"), ("street=110105001024", "street"),
                         ("street=abc", "street"), ("detail=yes", "detail"),
                         ("district=110105", "district")):
        st, h, b = client.get(f"{COVERAGE}?{query}", token=tok["admin"])
        assert_problem(st, h, b, 422)
        assert field in field_errors(b), (query, b)
    st, h, b = client.get(f"{COVERAGE}?street=110105099", token=tok["admin"])
    assert_problem(st, h, b, 404)


# ---- oversized communities ----

COUNTS = {
    "110105001024": 5200,   # 建外
    "110105001025": 3001,   # 建外
    "110105001026": 3000,   # 建外: not more than 3000
    "110105001027": 2999,   # 建外
    "110105002024": 4100,   # 朝外
}


@pytest.fixture(scope="module")
def counted(client, tok):
    for code, households in COUNTS.items():
        body = {"households": households}
        if code == "110105001024":
            body.update({"residents": 12000, "elderly": 3100})
        st, h, b = client.patch(f"/api/v1/areas/{code}", body, token=tok["district"])
        assert st == 200, b
    return COUNTS


def test_oversized_default_threshold(client, tok, counted):
    r = get(client, tok["district"], OVERSIZED)
    assert r["threshold"] == 3000 and r["scope"] == DISTRICT
    assert [i["code"] for i in r["items"]] == ["110105001024", "110105002024", "110105001025"]
    assert [i["households"] for i in r["items"]] == [5200, 4100, 3001]
    assert r["count"] == 3
    first = r["items"][0]
    assert first["name"] == "南郎家园社区居委会"
    assert first["street"] == {"code": JIANWAI, "name": "建外街道"}
    assert (first["residents"], first["elderly"]) == (12000, 3100)
    assert r["items"][1]["residents"] is None
    assert r["communities_total"] == 637
    assert r["unknown_households"] == 637 - len(counted)
    assert get(client, tok["admin"], OVERSIZED)["items"] == r["items"]


def test_oversized_threshold_and_scope(client, tok, counted):
    r = get(client, tok["district"], f"{OVERSIZED}?households=4000")
    assert [i["households"] for i in r["items"]] == [5200, 4100]
    r = get(client, tok["street"], f"{OVERSIZED}?households=2000")
    assert [i["households"] for i in r["items"]] == [5200, 3001, 3000, 2999]
    assert r["communities_total"] == 9 and r["unknown_households"] == 5
    r = get(client, tok["other_street"], OVERSIZED)
    assert [i["code"] for i in r["items"]] == ["110105002024"]
    r = get(client, tok["community"], f"{OVERSIZED}?households=0")
    assert [i["code"] for i in r["items"]] == [NLJY] and r["communities_total"] == 1
    r = get(client, tok["admin"], f"{OVERSIZED}?street=110105002")
    assert [i["code"] for i in r["items"]] == ["110105002024"] and r["street"] == CHAOWAI
    st, h, b = client.get(f"{OVERSIZED}?street=110105002", token=tok["street"])
    assert_problem(st, h, b, 403)
    for who in ("resident", "volunteer"):
        st, h, b = client.get(OVERSIZED, token=tok[who])
        assert_problem(st, h, b, 403)
    for query in ("households=abc", "households=-1", "households=", "households=10000001",
                  "size=3000"):
        st, h, b = client.get(f"{OVERSIZED}?{query}", token=tok["district"])
        assert_problem(st, h, b, 422)
