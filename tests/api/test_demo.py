"""linli demo: a Chaoyang-like district from the real area list, the same for
the same seed, everyone placed inside the district; the demo accounts, one per
role the pages need, and two months of cases made through the case workflow."""
import datetime
import os
import re
import sqlite3
import time

import pytest

from conftest import ADMIN_PASSWORD, SOURCE_DIR, ServerFactory, run_cli

DATA = os.path.join(SOURCE_DIR, "data", "chaoyang")
SCALE = "0.01"
DEMO_PASSWORD = "demo-test-pw-1"
ACCOUNTS = {  # username: role
    "demo-operator": "operator", "demo-district": "district", "demo-street": "street",
    "demo-community": "community", "demo-volunteer": "volunteer", "demo-resident": "resident",
}
BEIJING = datetime.timezone(datetime.timedelta(hours=8))


def build(db, seed, scale=SCALE, password=DEMO_PASSWORD):
    r = run_cli(["--db", db, "init"], env={"LINLI_ADMIN_PASSWORD": ADMIN_PASSWORD})
    assert r.returncode == 0, r.stderr
    r = run_cli(["--db", db, "demo", "--seed", str(seed), "--scale", scale, "--dir", DATA],
                env={"LINLI_DEMO_PASSWORD": password} if password else None, timeout=300)
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


# --------------------------------------------------------------------------- accounts

@pytest.fixture(scope="module")
def demo_server(module_factory, demo):
    db, _ = demo
    return module_factory.start("--boundary", os.path.join(DATA, "boundary_gcj02.geojson"), db=db)


def me(srv, username, password=DEMO_PASSWORD):
    token = srv.client.login(username, password)
    st, _, body = srv.client.get("/api/v1/me", token=token)
    assert st == 200, body
    return token, body


def test_every_demo_account_logs_in_with_the_demo_password(demo_server, demo):
    _, out = demo
    scopes = {}
    for username, role in ACCOUNTS.items():
        _, u = me(demo_server, username)
        assert u["role"] == role and u["display_name"], u
        scopes[username] = u["scope"]
    assert scopes["demo-operator"] == scopes["demo-district"] == "110105000000"
    assert scopes["demo-volunteer"] is None and scopes["demo-resident"] is None
    community, street = scopes["demo-community"], scopes["demo-street"]
    assert re.fullmatch(r"110105\d{6}", community) and community[9:] != "000"
    assert street == community[:9] + "000", "demo-street works for the demo community's street"
    assert "Demo accounts:" in out and "demo-community" in out
    assert DEMO_PASSWORD not in out, "a password from the environment is not printed"


def test_the_demo_community_has_people_and_facilities(demo_server, demo):
    db, _ = demo
    _, u = me(demo_server, "demo-community")
    con = sqlite3.connect(db)
    people = con.execute("SELECT count(*) FROM people WHERE community_code = ?",
                         (u["scope"],)).fetchone()[0]
    facilities = con.execute("SELECT count(*) FROM facilities WHERE area_code = ?",
                             (u["scope"],)).fetchone()[0]
    assert people > 0 and facilities > 0
    # Members of nothing: staff act for their unit through their scope.
    assert con.execute("SELECT count(*) FROM unit_members").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM volunteer_team_members").fetchone()[0] == 0


def test_without_the_environment_the_password_is_random_and_printed_once(tmp_path):
    db = str(tmp_path / "pw.db")
    r = build(db, 9, scale="0.002", password=None)
    found = re.findall(r"one password for all: ([a-z2-9]{4}(?:-[a-z2-9]{4}){3})$", r.stdout, re.M)
    assert len(found) == 1, r.stdout
    assert r.stdout.count(found[0]) == 1
    f = ServerFactory(str(tmp_path))
    try:
        srv = f.start(db=db)
        assert srv.client.login("demo-resident", found[0])
    finally:
        f.stop_all()


def test_demo_refuses_a_database_with_a_demo_account(tmp_path):
    db = str(tmp_path / "acct.db")
    r = run_cli(["--db", db, "init"], env={"LINLI_ADMIN_PASSWORD": ADMIN_PASSWORD})
    assert r.returncode == 0, r.stderr
    r = run_cli(["--db", db, "user", "add", "demo-volunteer", "--role", "volunteer",
                 "--no-password"])
    assert r.returncode == 0, r.stderr
    r = run_cli(["--db", db, "demo", "--scale", "0.002", "--dir", DATA])
    assert r.returncode != 0
    assert "demo account demo-volunteer" in r.stderr
    con = sqlite3.connect(db)
    assert con.execute("SELECT count(*) FROM people").fetchone()[0] == 0, "refused before work"


def test_a_password_users_create_would_refuse_is_refused_first(tmp_path):
    db = str(tmp_path / "pw.db")
    r = run_cli(["--db", db, "init"], env={"LINLI_ADMIN_PASSWORD": ADMIN_PASSWORD})
    assert r.returncode == 0, r.stderr
    r = run_cli(["--db", db, "demo", "--scale", "0.002", "--dir", DATA],
                env={"LINLI_DEMO_PASSWORD": "short"})
    assert r.returncode != 0 and "LINLI_DEMO_PASSWORD must be at least 8" in r.stderr, r.stderr
    con = sqlite3.connect(db)
    assert con.execute("SELECT count(*) FROM people").fetchone()[0] == 0


# --------------------------------------------------------------------------- cases

def test_cases_have_a_past_history_consistent_with_their_deadlines(demo):
    db, out = demo
    now_ms = time.time() * 1000
    con = sqlite3.connect(db)
    n = con.execute("SELECT count(*) FROM cases").fetchone()[0]
    assert n >= 30, "at least 30 cases at tiny scales"
    assert re.search(rf"^Cases: {n} raised", out, re.M), out
    created_min, created_max = con.execute(
        "SELECT min(created_at), max(created_at) FROM cases").fetchone()
    assert now_ms - 61 * 86400000 < created_min and created_max < now_ms
    assert con.execute("SELECT max(at) FROM case_events").fetchone()[0] < now_ms
    # Each case's history runs forward in time.
    assert con.execute("SELECT count(*) FROM case_events e JOIN case_events f"
                       " ON f.case_id = e.case_id AND f.id > e.id AND f.at < e.at").fetchone()[0] == 0
    # The deadlines are the domain's: response from submission, resolution from acceptance.
    assert con.execute("SELECT count(*) FROM cases"
                       " WHERE response_due_at != created_at + response_minutes * 60000"
                       " OR (accepted_at IS NOT NULL AND resolutions = 0 AND"
                       "     resolve_due_at != accepted_at + resolve_minutes * 60000)"
                       " OR accepted_at < created_at OR resolved_at < accepted_at").fetchone()[0] == 0
    # An overdue flag comes after its deadline.
    late = con.execute("SELECT e.at, e.detail, c.response_due_at, c.resolve_due_at FROM case_events e"
                       " JOIN cases c ON c.id = e.case_id WHERE e.kind = 'overdue'").fetchall()
    for at, detail, response_due, resolve_due in late:
        assert at > (response_due if '"response"' in detail else resolve_due)
    states = dict(con.execute("SELECT state, count(*) FROM cases GROUP BY state").fetchall())
    assert states.get("closed", 0) > n / 2, states
    channels = dict(con.execute("SELECT channel, count(*) FROM cases GROUP BY channel").fetchall())
    assert set(channels) == {"snap", "hotline", "walk_in"}, channels
    # Snap reports are the demo resident's or volunteer's.
    reporters = {r for (r,) in con.execute(
        "SELECT DISTINCT u.username FROM cases c JOIN users u ON u.id = c.reporter_user_id"
        " WHERE c.channel = 'snap'")}
    assert reporters <= {"demo-resident", "demo-volunteer"} and reporters
    assert con.execute("SELECT count(*) FROM cases WHERE channel = 'snap'"
                       " AND reporter_user_id IS NULL").fetchone()[0] == 0
    # Titles in Chinese from the category's templates, the area a community.
    assert con.execute("SELECT count(*) FROM cases WHERE title = '' OR description = ''"
                       " OR area_code IS NULL OR substr(area_code, 10) = '000'").fetchone()[0] == 0


def test_the_demo_cases_give_case_figures(demo_server):
    token, _ = me(demo_server, "demo-district")
    today = datetime.datetime.now(BEIJING).date()
    start = today - datetime.timedelta(days=61)
    end = today + datetime.timedelta(days=1)
    st, _, b = demo_server.client.get(f"/api/v1/reports/cases?from={start}&to={end}", token=token)
    assert st == 200, b
    t = b["totals"]
    assert t["received"] >= 30
    assert t["response"]["due"] > 0 and 0.5 <= t["response"]["rate"] <= 1
    assert t["resolution"]["due"] > 0 and 0.5 <= t["resolution"]["rate"] <= 1
    assert t["satisfaction"]["rated"] > 0 and t["satisfaction"]["rate"] is not None
    assert t["states"]["closed"] > 0
    assert len(b["units"]) > 1 and any(u["rank"] for u in b["units"])
    # Month by month (the months the 60 days touch): the previous month, most of it in
    # the window, has cases, and the months add up to them all.
    months, day = [], today
    while day >= start:
        months.append(day.strftime("%Y-%m"))
        day = day.replace(day=1) - datetime.timedelta(days=1)
    received = {}
    for m in months:
        st, _, b = demo_server.client.get(f"/api/v1/reports/cases?from={m}-01", token=token)
        assert st == 200, (m, b)
        received[m] = b["totals"]["received"]
    assert received[months[1]] > 0, received
    assert sum(received.values()) == t["received"], received


def test_the_demo_community_worker_and_resident_see_their_cases(demo_server):
    token, u = me(demo_server, "demo-community")
    st, _, b = demo_server.client.get(f"/api/v1/cases?area={u['scope']}&limit=100", token=token)
    assert st == 200 and b["items"], b
    assert all(c["area_code"] == u["scope"] for c in b["items"])
    token, _ = me(demo_server, "demo-resident")
    st, _, b = demo_server.client.get("/api/v1/cases?mine=true&limit=100", token=token)
    assert st == 200 and b["items"], b
