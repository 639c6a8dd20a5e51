"""`linli import facilities` / `linli export facilities`: the elderly-service
directory as CSV, and the facilities `linli demo` places."""
import csv
import io
import json
import math
import os
import re
import sqlite3

import pytest

from conftest import ADMIN_PASSWORD, SOURCE_DIR, assert_no_sanitizer_report, run_cli

DATA = os.path.join(SOURCE_DIR, "data", "chaoyang")
COLUMNS = ["kind", "name", "operator_type", "status", "registration", "address", "lat", "lon",
           "crs", "area_code", "phone", "hours", "closures", "capacity", "beds_total",
           "beds_free", "rating", "consortium", "services"]
NANLANG = "110105001024"  # 南郎家园社区, 建外街道
BEILANG = "110105001025"  # 北郎家园社区
JIANWAI = "110105001000"

MEALS = [{"code": "meals", "price": 15, "unit": "meal", "age_min": 60, "care_levels": [],
          "note": "两荤一素一汤",
          "subsidies": [{"label": "低保老人半价", "classes": ["dibao"], "percent_off": 50},
                        {"label": "80岁以上每餐减3元", "age_min": 80, "amount_off": 3},
                        {"label": "特困老人免费", "classes": ["tekun"], "pay": 0}]}]
DAY_CARE = [{"code": "day_care", "price": 120.5, "unit": "day", "age_min": 60,
             "care_levels": ["self_care", "partly_dependent"],
             "subsidies": [{"label": "失独、优抚老人八折", "classes": ["shidu", "youfu"],
                            "percent_off": 20}]}]


def cli(*args, ok=True, **kw):
    r = run_cli([str(a) for a in args], **kw)
    assert_no_sanitizer_report(r.stderr, "linli")
    if ok:
        assert r.returncode == 0, f"linli {' '.join(map(str, args))}: {r.returncode}\n{r.stderr}"
    return r


def new_db(path):
    cli("--db", path, "init", env={"LINLI_ADMIN_PASSWORD": ADMIN_PASSWORD})
    cli("--db", path, "import", "areas", "--dir", DATA)
    return path


@pytest.fixture
def db(tmp_path):
    return new_db(str(tmp_path / "fac.db"))


def row(**kw):
    """A good dining table in 南郎家园, with `kw` changed."""
    base = {"kind": "dining_table", "name": "南郎家园社区老年餐桌", "operator_type": "private",
            "status": "open", "registration": "91110105MA01ABCD2X",
            "address": "北京市朝阳区建外街道南郎家园3号楼底商", "lat": "39.9065000",
            "lon": "116.4560000", "crs": "wgs84", "area_code": NANLANG, "phone": "010-65001234",
            "hours": "mon-sat 11:00-13:00,17:00-18:30",
            "closures": "2027-02-05..2027-02-11 春节", "capacity": "60", "beds_total": "",
            "beds_free": "", "rating": "4.5", "consortium": "建外街道养老服务联合体",
            "services": json.dumps(MEALS, ensure_ascii=False)}
    base.update(kw)
    return base


def station(**kw):
    base = row(kind="station", name="北郎家园社区养老驿站", operator_type="public_private",
               area_code=BEILANG, lat="39.9080000", lon="116.4590000",
               hours="daily 08:00-20:00", closures="", capacity="30", beds_total="6",
               beds_free="2", rating="", services=json.dumps(DAY_CARE, ensure_ascii=False))
    base.update(kw)
    return base


def write_csv(path, rows, columns=COLUMNS):
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=columns, lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k, "") for k in columns})
    return str(path)


def export(db, *args):
    return cli("--db", db, "export", "facilities", *args).stdout


def export_rows(db, *args):
    return list(csv.DictReader(io.StringIO(export(db, *args))))


def problems(stderr):
    """{(line, field)} of the "line N, field F: reason" lines."""
    return {(int(m.group(1)), m.group(2))
            for m in re.finditer(r"^line (\d+), field ([^:]+): ", stderr, re.M)}


# ---- import ----

def test_import_writes_good_rows_and_reads_back_the_same(db, tmp_path):
    path = write_csv(tmp_path / "good.csv", [row(), station()])
    r = cli("--db", db, "import", "facilities", path)
    assert "2 created, 0 updated, 0 bad rows skipped" in r.stdout
    got = {x["name"]: x for x in export_rows(db)}
    assert set(got) == {"南郎家园社区老年餐桌", "北郎家园社区养老驿站"}
    d = got["南郎家园社区老年餐桌"]
    assert d["kind"] == "dining_table" and d["operator_type"] == "private"
    assert d["phone"] == "01065001234"
    assert d["hours"] == "mon-sat 11:00-13:00,17:00-18:30"
    assert d["closures"] == "2027-02-05..2027-02-11 春节"
    assert d["rating"] == "4.5" and d["capacity"] == "60" and d["beds_total"] == ""
    services = json.loads(d["services"])
    assert [s["code"] for s in services] == ["meals"]
    assert services[0]["price"] == 15
    assert [x.get("percent_off", x.get("amount_off", x.get("pay")))
            for x in services[0]["subsidies"]] == [50, 3, 0]
    s = got["北郎家园社区养老驿站"]
    assert (s["beds_total"], s["beds_free"], s["rating"]) == ("6", "2", "")


def test_codes_or_chinese_labels(db, tmp_path):
    path = write_csv(tmp_path / "labels.csv",
                     [station(kind="养老驿站", operator_type="公建民营", status="暂停")])
    cli("--db", db, "import", "facilities", path)
    (got,) = export_rows(db)
    assert (got["kind"], got["operator_type"], got["status"]) == \
        ("station", "public_private", "suspended")


def test_a_second_import_updates_instead_of_adding(db, tmp_path):
    path = write_csv(tmp_path / "good.csv", [row(), station()])
    cli("--db", db, "import", "facilities", path)
    path = write_csv(tmp_path / "again.csv", [row(capacity="80"), station()])
    r = cli("--db", db, "import", "facilities", path)
    assert "0 created, 2 updated" in r.stdout
    rows = export_rows(db)
    assert len(rows) == 2
    assert {x["name"]: x["capacity"] for x in rows}["南郎家园社区老年餐桌"] == "80"


BAD_ROWS = [
    row(),                                                         # 2: good
    row(name="坏种类", kind="spaceship"),                            # 3
    station(name="坏时间", hours="mon 25:00-26:00", capacity="abc"),  # 4
    station(name="坏闭馆", closures="2027-02-30..2027-03-01 春节"),    # 5
    station(name="倒闭馆", closures="2027-03-05..2027-03-01 修缮"),    # 6
    station(name="坏坐标", lat="north", crs="mars"),                  # 7
    station(name="坏服务", services='[{"code": "meals", "price": -1, "unit": "meal"}]'),  # 8
    station(name="坏JSON", services="[1"),                          # 9
    station(name="", rating="7"),                                  # 10
    station(name="床位", beds_total="5", beds_free="9"),             # 11
    station(name="无区", area_code="110105999999"),                  # 12
]
BAD_PROBLEMS = {(3, "kind"), (4, "hours"), (4, "capacity"), (5, "closures"), (6, "closures"),
                (7, "lat"), (7, "crs"), (8, "services[0].price"), (9, "services"), (10, "name"),
                (10, "rating"), (11, "beds_free")}


def test_bad_rows_write_nothing_and_each_problem_names_line_and_field(db, tmp_path):
    path = write_csv(tmp_path / "bad.csv", BAD_ROWS)
    r = cli("--db", db, "import", "facilities", path, ok=False)
    assert r.returncode == 1
    found = problems(r.stderr)
    assert BAD_PROBLEMS <= found, r.stderr
    assert not any(line == 2 for line, _ in found), r.stderr
    assert "--skip-bad" in r.stderr
    assert export_rows(db) == []


def test_skip_bad_writes_the_good_rows_only(db, tmp_path):
    path = write_csv(tmp_path / "bad.csv", BAD_ROWS)
    r = cli("--db", db, "import", "facilities", path, "--skip-bad")
    assert "1 created, 0 updated, 10 bad rows skipped" in r.stdout, r.stdout
    assert BAD_PROBLEMS | {(12, "area_code")} <= problems(r.stderr), r.stderr
    assert [x["name"] for x in export_rows(db)] == ["南郎家园社区老年餐桌"]


def test_dry_run_checks_and_writes_nothing(db, tmp_path):
    path = write_csv(tmp_path / "bad.csv", BAD_ROWS)
    r = cli("--db", db, "import", "facilities", path, "--dry-run", ok=False)
    assert r.returncode == 1 and BAD_PROBLEMS <= problems(r.stderr)
    r = cli("--db", db, "import", "facilities", path, "--dry-run", "--skip-bad")
    assert "1 good row to write (1 to create, 0 to update), 10 bad rows to skip; nothing was written" in r.stdout, r.stdout
    good = write_csv(tmp_path / "good.csv", [row(), station()])
    r = cli("--db", db, "import", "facilities", good, "--dry-run")
    assert "2 good rows to write (2 to create, 0 to update)" in r.stdout
    assert export_rows(db) == []


def test_a_line_that_is_no_row_is_reported_by_line(db, tmp_path):
    path = tmp_path / "short.csv"
    write_csv(path, [row()])
    with open(path, "a", encoding="utf-8") as f:
        f.write("station,only three\n")
    r = cli("--db", db, "import", "facilities", path, ok=False)
    assert "line 3: has 2 fields; the header has 19" in r.stderr
    assert export_rows(db) == []


def test_header_problems_are_refused(db, tmp_path):
    for cols, message in ((COLUMNS + ["colour"], 'unknown column "colour"'),
                          (COLUMNS[:1] + COLUMNS, 'the column "kind" appears twice'),
                          ([c for c in COLUMNS if c != "lat"], 'lacks the column "lat"')):
        path = write_csv(tmp_path / "h.csv", [], columns=cols)
        r = cli("--db", db, "import", "facilities", path, ok=False)
        assert r.returncode == 1 and message in r.stderr, r.stderr


def test_optional_columns_may_be_left_out(db, tmp_path):
    cols = ["kind", "name", "operator_type", "area_code", "lat", "lon"]
    path = write_csv(tmp_path / "min.csv", [row()], columns=cols)
    cli("--db", db, "import", "facilities", path)
    (got,) = export_rows(db)
    assert got["status"] == "open" and got["services"] == "" and got["hours"] == ""
    assert got["capacity"] == "" and got["rating"] == ""


# ---- export ----

def test_export_import_export_gives_the_same_file(db, tmp_path):
    rows = [row(), station(),
            row(kind="institution", name="北京恭和建外颐养中心", operator_type="private",
                hours="daily 00:00-24:00", beds_total="320", beds_free="31", capacity="",
                closures="2026-10-01..2026-10-07 国庆; 2027-02-05..2027-02-11",
                services=json.dumps(MEALS + DAY_CARE, ensure_ascii=False),
                address="+86 guarded", registration="-1", consortium="@联合体"),
            row(kind="regional_centre", name="建外街道区域养老服务中心", area_code=JIANWAI,
                operator_type="public", status="closed", hours="mon-fri 08:30-17:30",
                closures="", phone="", rating="0", services="")]
    cli("--db", db, "import", "facilities", write_csv(tmp_path / "in.csv", rows))
    first = export(db)
    assert len(list(csv.DictReader(io.StringIO(first)))) == 4  # closed ones too
    (tmp_path / "first.csv").write_text(first, encoding="utf-8")
    other = new_db(str(tmp_path / "other.db"))
    r = cli("--db", other, "import", "facilities", tmp_path / "first.csv")
    assert "4 created" in r.stdout
    assert export(other) == first
    # And into the same database: every row is an update, nothing changes.
    r = cli("--db", db, "import", "facilities", tmp_path / "first.csv")
    assert "0 created, 4 updated" in r.stdout
    assert export(db) == first


def test_export_to_a_file_and_filters(db, tmp_path):
    cli("--db", db, "import", "facilities", write_csv(tmp_path / "in.csv", [row(), station()]))
    out = tmp_path / "out.csv"
    r = cli("--db", db, "export", "facilities", out)
    assert "Exported 2 facilities to" in r.stderr
    assert out.read_text(encoding="utf-8") == export(db)
    assert [x["kind"] for x in export_rows(db, "--kind", "dining_table")] == ["dining_table"]
    assert [x["kind"] for x in export_rows(db, "--kind", "养老驿站")] == ["station"]
    assert [x["area_code"] for x in export_rows(db, "--area", BEILANG)] == [BEILANG]
    assert len(export_rows(db, "--area", "110105001")) == 2  # the street holds both
    assert export_rows(db, "--area", "110105002") == []
    for bad in (["--kind", "spaceship"], ["--area", "12x"], ["--crs", "mars"], ["--colour", "x"]):
        r = cli("--db", db, "export", "facilities", *bad, ok=False)
        assert r.returncode == 1 and r.stderr.startswith("linli:"), (bad, r.stderr)


def test_formula_cells_are_guarded_and_the_guard_is_undone(db, tmp_path):
    evil = row(name='=HYPERLINK("http://x","点我")', address="+8610", registration="-2+3",
               consortium="@SUM(A1)", phone="")
    plain = station(name="'t Hooft驿站", address="'+already guarded")
    cli("--db", db, "import", "facilities", write_csv(tmp_path / "in.csv", [evil, plain]))
    con = sqlite3.connect(db)
    stored = dict(con.execute("SELECT kind, name FROM facilities").fetchall())
    # The guard quote of the input is gone; a quote before anything else stays.
    assert stored == {"dining_table": '=HYPERLINK("http://x","点我")', "station": "'t Hooft驿站"}
    assert con.execute("SELECT address FROM facilities WHERE kind = 'station'").fetchone() == \
        ("+already guarded",)
    text = export(db)
    got = {x["kind"]: x for x in csv.DictReader(io.StringIO(text))}
    d = got["dining_table"]
    assert d["name"] == '\'=HYPERLINK("http://x","点我")'
    assert (d["address"], d["registration"], d["consortium"]) == ("'+8610", "'-2+3", "'@SUM(A1)")
    s = got["station"]
    assert (s["name"], s["address"]) == ("''t Hooft驿站", "'+already guarded")
    # No cell of the file starts a formula; numbers are not guarded.
    for r in csv.reader(io.StringIO(text)):
        assert not any(c[:1] in ("=", "+", "-", "@") for c in r), r
    # And the guarded file reads back to the same values.
    (tmp_path / "out.csv").write_text(text, encoding="utf-8")
    other = new_db(str(tmp_path / "other.db"))
    cli("--db", other, "import", "facilities", tmp_path / "out.csv")
    assert export(other) == text


# GCJ-02 (the published forward transform), to check the conversion.
def wgs84_to_gcj02(lat, lon):
    a, ee = 6378245.0, 0.00669342162296594323
    x, y = lon - 105.0, lat - 35.0
    dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
            + (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2 / 3
            + (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2 / 3
            + (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2 / 3)
    dlon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
            + (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2 / 3
            + (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2 / 3
            + (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2 / 3)
    rad = lat / 180.0 * math.pi
    magic = 1 - ee * math.sin(rad) ** 2
    sq = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((a * (1 - ee)) / (magic * sq) * math.pi)
    dlon = (dlon * 180.0) / (a / sq * math.cos(rad) * math.pi)
    return lat + dlat, lon + dlon


def test_gcj02_rows_are_converted_to_wgs84(db, tmp_path):
    wgs = (39.9219000, 116.4432000)
    gcj = wgs84_to_gcj02(*wgs)
    assert abs(gcj[0] - wgs[0]) + abs(gcj[1] - wgs[1]) > 1e-3  # a real offset
    rows = [row(lat=f"{gcj[0]:.7f}", lon=f"{gcj[1]:.7f}", crs="gcj02"),
            station(lat=f"{wgs[0]:.7f}", lon=f"{wgs[1]:.7f}", crs="")]  # empty = wgs84
    cli("--db", db, "import", "facilities", write_csv(tmp_path / "g.csv", rows))
    for got in export_rows(db):
        assert got["crs"] == "wgs84"
        assert abs(float(got["lat"]) - wgs[0]) < 2e-7, got
        assert abs(float(got["lon"]) - wgs[1]) < 2e-7, got
    for got in export_rows(db, "--crs", "gcj02"):
        assert got["crs"] == "gcj02"
        assert abs(float(got["lat"]) - gcj[0]) < 2e-7 and abs(float(got["lon"]) - gcj[1]) < 2e-7


# ---- the demo's facilities ----

DEMO_SCALE = 0.02
DEMO_BASE = {"institution": 81, "station": 172, "dining_table": 187, "regional_centre": 30,
             "health_centre": (43, 120), "family_bed_provider": 12, "provider": 40}


def demo_count(base, scale):
    return max(1, int(math.floor(base * scale + 0.5)))


def expected_counts(scale):
    out = {}
    for kind, base in DEMO_BASE.items():
        bases = base if isinstance(base, tuple) else (base,)
        out[kind] = sum(demo_count(b, scale) for b in bases)
    return out


def build_demo(db, seed, scale=DEMO_SCALE):
    cli("--db", db, "init", env={"LINLI_ADMIN_PASSWORD": ADMIN_PASSWORD})
    return cli("--db", db, "demo", "--seed", seed, "--scale", scale, "--dir", DATA, timeout=300)


@pytest.fixture(scope="module")
def demo(module_factory):
    db = module_factory.new_db_path()
    r = build_demo(db, 7)
    return db, r.stdout, export(db)


def test_demo_places_the_scaled_counts_of_each_kind(demo):
    db, out, text = demo
    rows = list(csv.DictReader(io.StringIO(text)))
    counts = {}
    for r in rows:
        counts[r["kind"]] = counts.get(r["kind"], 0) + 1
    assert counts == expected_counts(DEMO_SCALE)
    want = expected_counts(DEMO_SCALE)
    assert f"Elderly services: {want['institution']} institutions" in out, out
    assert f"{want['dining_table']} dining tables" in out


def test_demo_facilities_look_like_the_district(demo):
    db, _, text = demo
    rows = list(csv.DictReader(io.StringIO(text)))
    beds = 0
    for r in rows:
        services = json.loads(r["services"]) if r["services"] else []
        assert services, r["name"]
        assert r["registration"] and len(r["registration"]) == 18
        if r["kind"] == "institution":
            total, free = int(r["beds_total"]), int(r["beds_free"])
            assert 50 <= total <= 800 and 0.04 * total <= free <= 0.21 * total, r
            assert r["hours"] == "daily 00:00-24:00"
            assert "residential_care" in [s["code"] for s in services]
            care = next(s for s in services if s["code"] == "residential_care")
            assert 4000 <= care["price"] <= 12000 and care["unit"] == "month"
            beds += total
        elif r["kind"] == "dining_table":
            assert r["name"].endswith("老年餐桌")
            # Lunch and supper only.
            spans = re.findall(r"(\d\d:\d\d)-(\d\d:\d\d)", r["hours"])
            assert spans and all(a >= "11:00" and b <= "19:00" for a, b in spans), r["hours"]
            meals = next(s for s in services if s["code"] == "meals")
            assert 12 <= meals["price"] <= 25 and meals["unit"] == "meal"
            labels = [x["label"] for x in meals["subsidies"]]
            assert "80岁以上每餐减3元" in labels
        elif r["kind"] == "station":
            assert r["name"].endswith("养老驿站") and r["hours"] == "daily 08:00-20:00"
        elif r["kind"] == "regional_centre":
            assert r["hours"].startswith("mon-fri ") and r["area_code"].endswith("000")
        if r["consortium"]:
            assert r["consortium"].endswith("养老服务联合体")
    # The article's 20,000+ beds, scaled.
    assert beds >= 20000 * DEMO_SCALE


def test_demo_facilities_stand_inside_the_district(module_factory, demo):
    db, _, text = demo
    srv = module_factory.start("--boundary", os.path.join(DATA, "boundary_gcj02.geojson"), db=db)
    for r in csv.DictReader(io.StringIO(text)):
        st, _, body = srv.client.get(
            f"/api/v1/areas/110105/contains?lat={r['lat']}&lon={r['lon']}")
        assert st == 200 and body["contains"] is True, r


def test_the_same_seed_gives_the_same_facilities(module_factory, demo):
    _, _, text = demo
    same, other = module_factory.new_db_path(), module_factory.new_db_path()
    build_demo(same, 7)
    build_demo(other, 8)
    assert export(same) == text
    assert export(other) != text


def test_a_semicolon_or_backslash_in_a_closure_reason_survives_the_round_trip(db, tmp_path):
    # In the cell, "\;" is a ';' of the reason and "\\" a backslash; a lone
    # backslash stands for itself.
    cell = r"2027-01-04..2027-01-05 水管维修\; 周三恢复 \\ 见通知; 2027-02-01..2027-02-01 停电\t"
    cli("--db", db, "import", "facilities",
        write_csv(tmp_path / "in.csv", [row(closures=cell)]))
    con = sqlite3.connect(db)
    stored = json.loads(con.execute("SELECT closures FROM facilities").fetchone()[0])
    con.close()
    assert [c["reason"] for c in stored] == ["水管维修; 周三恢复 \\ 见通知", r"停电\t"]
    first = export(db)
    # The export escapes every backslash, the lone one too.
    assert export_rows(db)[0]["closures"] == cell.replace(r"停电\t", r"停电\\t")
    (tmp_path / "first.csv").write_text(first, encoding="utf-8")
    other = new_db(str(tmp_path / "other.db"))
    cli("--db", other, "import", "facilities", tmp_path / "first.csv")
    assert export(other) == first
