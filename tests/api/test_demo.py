"""linli demo: a Chaoyang-like district from the real area list, the same for
the same seed, everyone placed inside the district."""
import os
import sqlite3

import pytest

from conftest import ADMIN_PASSWORD, SOURCE_DIR, run_cli

DATA = os.path.join(SOURCE_DIR, "data", "chaoyang")
SCALE = "0.01"


def build(db, seed, scale=SCALE):
    r = run_cli(["--db", db, "init"], env={"LINLI_ADMIN_PASSWORD": ADMIN_PASSWORD})
    assert r.returncode == 0, r.stderr
    r = run_cli(["--db", db, "demo", "--seed", str(seed), "--scale", scale, "--dir", DATA],
                timeout=300)
    assert r.returncode == 0, r.stderr
    return r


@pytest.fixture(scope="module")
def demo(module_factory):
    db = module_factory.new_db_path()
    r = build(db, 7)
    return db, r.stdout


def people_rows(db):
    con = sqlite3.connect(db)
    return con.execute("SELECT name, id_number, phone, lat, lon, community_code, care_level,"
                       " living_alone, conditions FROM people ORDER BY id").fetchall()


def test_the_same_seed_gives_the_same_district(module_factory):
    dbs = [module_factory.new_db_path() for _ in range(3)]
    for db, seed in zip(dbs, (7, 7, 8)):
        build(db, seed, scale="0.002")
    assert people_rows(dbs[0]) == people_rows(dbs[1])
    assert people_rows(dbs[0]) != people_rows(dbs[2])


def test_the_station_network_of_the_article(demo):
    db, out = demo
    con = sqlite3.connect(db)
    levels = dict(con.execute("SELECT level, count(*) FROM stations GROUP BY level").fetchall())
    assert levels == {0: 1, 1: 35, 2: 205}
    assert con.execute("SELECT count(*) FROM support_teams").fetchone()[0] > 0
    assert "241 social-work centres and stations" in out


def test_counts_and_people_agree(demo):
    db, _ = demo
    con = sqlite3.connect(db)
    elderly, residents = con.execute(
        "SELECT sum(elderly), sum(residents) FROM areas WHERE level = 2").fetchone()
    assert 0.15 < elderly / residents < 0.25  # about a fifth are 60 or over
    people = con.execute("SELECT count(*) FROM people").fetchone()[0]
    assert people == elderly
    # Every community's people match its elderly count.
    bad = con.execute("SELECT count(*) FROM areas a WHERE level = 2 AND elderly !="
                      " (SELECT count(*) FROM people p WHERE p.community_code = a.code)").fetchone()[0]
    assert bad == 0


def test_ages_form_a_pyramid_over_sixty(demo):
    db, _ = demo
    con = sqlite3.connect(db)
    years = [int(b[:4]) for (b,) in con.execute("SELECT birth_date FROM people")]
    this_year = max(years) + 60
    ages = [this_year - y for y in years]
    assert min(ages) >= 59 and max(ages) <= 101
    young = sum(1 for a in ages if a < 70)
    old = sum(1 for a in ages if a >= 80)
    assert young > old > 0


def test_every_home_is_inside_the_district(module_factory, demo):
    db, _ = demo
    srv = module_factory.start("--boundary", os.path.join(DATA, "boundary_gcj02.geojson"), db=db)
    con = sqlite3.connect(db)
    points = con.execute("SELECT lat, lon FROM people ORDER BY id").fetchall()
    assert points and all(lat is not None for lat, _ in points)
    step = max(1, len(points) // 100)
    for lat, lon in points[::step]:
        st, _, body = srv.client.get(f"/api/v1/areas/110105/contains?lat={lat}&lon={lon}")
        assert st == 200 and body["contains"] is True, (lat, lon)


def test_demo_refuses_a_registry_that_has_people(demo):
    db, _ = demo
    r = run_cli(["--db", db, "demo", "--seed", "1", "--scale", SCALE, "--dir", DATA])
    assert r.returncode != 0
    assert "holds people already" in r.stderr


def test_bad_demo_options(tmp_path):
    db = str(tmp_path / "x.db")
    for args in (["--scale", "0"], ["--scale", "abc"], ["--seed", "x1"], ["--colour", "red"]):
        r = run_cli(["--db", db, "demo"] + args)
        assert r.returncode != 0 and r.stderr.startswith("linli:"), (args, r.stderr)
