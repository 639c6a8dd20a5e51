"""Open311 GeoReport v2 at /open311/v2 end to end: keys made with the command
line, discovery, services and service definitions in JSON and XML, service
requests posted as forms and read back by id, token and filter, the error
shape and statuses of the specification, and FixMyStreet's
servicerequestupdates carrying the handling staff's status changes back to a
client that polls like FixMyStreet does."""
import json
import os
import re
import sqlite3
import time
import urllib.parse
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone

import pytest

from conftest import (ADMIN_PASSWORD, SHARED_FLAGS, SOURCE_DIR, assert_no_sanitizer_report,
                      run_cli)

DATA = os.path.join(SOURCE_DIR, "data", "chaoyang")
BOUNDARY = os.path.join(DATA, "boundary_gcj02.geojson")
FORM = "application/x-www-form-urlencoded"
JURISDICTION = "chaoyang.linli"
HERE = ("39.9219", "116.4436")      # 体育场路, inside Chaoyang (WGS-84)
SHANGHAI = ("31.2304", "121.4737")  # far outside the district
BEIJING = timezone(timedelta(hours=8))
KEY_RE = re.compile(r"o311_[A-Za-z0-9_-]{43}")

# Attribute definitions given to the seeded category public_facility.
DEFINITIONS = [
    {"code": "kind", "datatype": "singlevaluelist", "required": True, "description": "什么设施",
     "values": [{"key": "bench", "name": "长椅"}, {"key": "lamp", "name": "路灯"}]},
    {"code": "count", "datatype": "number", "required": False, "description": "数量"},
    {"code": "tags", "datatype": "multivaluelist", "required": False, "description": "标记",
     "values": [{"key": "dark", "name": "漆黑"}, {"key": "danger", "name": "危险"}]},
    {"code": "seen", "datatype": "datetime", "required": False, "description": "发现时间"},
]


def cli(*args, check=True):
    r = run_cli([str(a) for a in args], env={"LINLI_ADMIN_PASSWORD": ADMIN_PASSWORD},
                timeout=120)
    assert_no_sanitizer_report(r.stderr, "linli")
    if check:
        assert r.returncode == 0, r.stderr
    return r


class World:
    pass


@pytest.fixture(scope="module")
def w(module_factory):
    db = module_factory.new_db_path()
    cli("--db", db, "init")
    cli("--db", db, "import", "areas", "--dir", DATA)
    con = sqlite3.connect(db)
    con.execute("UPDATE case_categories SET attributes = ? WHERE code = 'public_facility'",
                (json.dumps(DEFINITIONS, ensure_ascii=False),))
    con.commit()
    con.close()
    made = cli("--db", db, "open311", "key", "add", "fms")
    keys = KEY_RE.findall(made.stdout)
    assert len(keys) == 1, made.stdout
    old = KEY_RE.findall(cli("--db", db, "open311", "key", "add", "old-client").stdout)[0]
    cli("--db", db, "open311", "key", "revoke", "old-client")
    srv = module_factory.start(*SHARED_FLAGS, "--boundary", BOUNDARY, "--case-tick-s", "1",
                               db=db)
    x = World()
    x.srv, x.c, x.db, x.key, x.old_key = srv, srv.client, db, keys[0], old
    x.admin = srv.admin_token()
    x.handlers = {}
    return x


# --------------------------------------------------------------------------- helpers

def xml(body):
    assert isinstance(body, str), body
    return ET.fromstring(body.encode("utf-8"))


def get(w, path, fmt="json", query=None):
    q = ("?" + urllib.parse.urlencode(query)) if query else ""
    st, h, b = w.c.get(f"/open311/v2/{path}.{fmt}{q}")
    check_type(h, fmt, st)
    return st, h, (xml(b) if fmt == "xml" else b)


def post(w, fields, fmt="json", content_type=FORM, key=True):
    """POSTs `fields` (a list of pairs) form-encoded, with our key first unless told."""
    pairs = ([("api_key", w.key)] if key else []) + list(fields)
    body = urllib.parse.urlencode(pairs).encode()
    st, h, b = w.c.request("POST", f"/open311/v2/requests.{fmt}", raw=body,
                           content_type=content_type)
    check_type(h, fmt, st)
    return st, h, (xml(b) if fmt == "xml" else b)


def check_type(h, fmt, st):
    want = "text/xml; charset=utf-8" if fmt == "xml" else "application/json; charset=utf-8"
    assert h.get("Content-Type") == want, (st, h)


def errors(st, body, fmt, status, *contains):
    """The specification's error answer: a list of {code, description}."""
    assert st == status, (st, body)
    if fmt == "xml":
        assert body.tag == "errors"
        items = [(e.findtext("code"), e.findtext("description")) for e in body.findall("error")]
        assert items and all(code == str(status) for code, _ in items), items
    else:
        assert isinstance(body, list) and body, body
        assert all(set(e) == {"code", "description"} and e["code"] == status for e in body), body
        items = [(e["code"], e["description"]) for e in body]
    descriptions = [d for _, d in items]
    for want in contains:
        assert any(want in d for d in descriptions), (want, descriptions)
    return descriptions


def lamp(*extra, where=HERE, description="路灯不亮\n已经三天了"):
    return [("service_code", "public_facility"), ("lat", where[0]), ("long", where[1]),
            ("attribute[kind]", "lamp"), ("description", description)] + list(extra)


def new_request(w, fields=None, fmt="json"):
    st, h, b = post(w, fields or lamp(), fmt)
    assert st == 200, b
    return b[0]["service_request_id"] if fmt == "json" else b.findtext("request/service_request_id")


def case(w, rid):
    st, h, b = w.c.get(f"/api/v1/cases/{rid}", token=w.admin)
    assert st == 200, b
    return b


def handler(w, rid):
    """A staff account acting for the case's lead unit (made once per unit)."""
    unit = case(w, rid)["unit_code"]
    if unit not in w.handlers:
        assert re.fullmatch(r"\d{12}", unit), unit
        role = ("district" if unit[6:] == "000000" else
                "street" if unit[9:] == "000" else "community")
        name = f"h{unit}"
        w.c.create_user(w.admin, name, role=role, scope=unit, password="handler-pw-1")
        w.handlers[unit] = w.c.login(name, "handler-pw-1")
    return w.handlers[unit]


def move(w, rid, to, token=None, **extra):
    st, h, b = w.c.post(f"/api/v1/cases/{rid}/transitions", {"to": to, **extra},
                        token=token or handler(w, rid))
    assert st == 200, (to, st, b)
    return b


def one(w, rid, fmt="json"):
    st, h, b = get(w, f"requests/{rid}", fmt)
    assert st == 200, b
    if fmt == "xml":
        assert b.tag == "service_requests" and len(b.findall("request")) == 1
        return b.find("request")
    assert isinstance(b, list) and len(b) == 1, b
    return b[0]


def ids_of(body):
    return [r["service_request_id"] for r in body]


def iso(dt):
    return dt.astimezone(BEIJING).isoformat(timespec="seconds")


# --------------------------------------------------------------------------- keys

def test_cli_prints_a_key_once_and_lists_only_its_hint(w):
    listed = cli("--db", w.db, "open311", "key", "list").stdout
    assert "fms" in listed and "old-client" in listed
    assert w.key not in listed and w.key[:9] in listed
    assert not KEY_RE.search(listed)
    rows = [ln for ln in listed.splitlines() if " old-client " in ln]
    assert rows and re.search(r"\d{4}-\d\d-\d\dT", rows[0].split("old-client")[1].split()[-1])
    again = cli("--db", w.db, "open311", "key", "revoke", "old-client", check=False)
    assert again.returncode == 1 and "No Open311 key in use" in again.stderr
    bad = cli("--db", w.db, "open311", "key", "add", "9lives", check=False)
    assert bad.returncode == 1


# --------------------------------------------------------------------------- discovery, services

def test_discovery_names_our_endpoint_and_formats(w):
    st, h, d = get(w, "discovery")
    assert st == 200
    assert d["changeset"] and d["endpoints"]
    ep = d["endpoints"][0]
    assert ep["url"] == f"http://127.0.0.1:{w.srv.port}/open311/v2"
    assert ep["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert ep["formats"] == ["text/xml", "application/json"] and ep["type"] == "production"
    st, h, x = get(w, "discovery", "xml")
    assert st == 200 and x.tag == "discovery"
    assert [f.text for f in x.findall("endpoints/endpoint/formats/format")] == \
        ["text/xml", "application/json"]
    assert x.findtext("endpoints/endpoint/url") == ep["url"]


def test_jurisdiction_id_is_ours_or_404(w):
    st, h, d = get(w, "services", query={"jurisdiction_id": JURISDICTION})
    assert st == 200
    for fmt in ("json", "xml"):
        st, h, b = get(w, "services", fmt, query={"jurisdiction_id": "sf.gov"})
        errors(st, b, fmt, 404, "jurisdiction_id")
    st, h, b = post(w, lamp(("jurisdiction_id", "sf.gov")))
    errors(st, b, "json", 404, "jurisdiction_id")


def test_services_are_the_active_categories_in_both_formats(w):
    st, h, services = get(w, "services")
    assert st == 200 and isinstance(services, list)
    by_code = {s["service_code"]: s for s in services}
    assert {"corridor_clutter", "small_ads", "public_facility", "other"} <= set(by_code)
    pf = by_code["public_facility"]
    assert pf["service_name"] == "公共设施损坏" and pf["type"] == "realtime"
    assert pf["metadata"] is True and pf["group"] == "公共设施"
    assert pf["keywords"] == "Damaged public facilities"
    assert by_code["noise"]["metadata"] is False
    assert by_code["other"]["group"] is None
    for s in services:
        assert set(s) == {"service_code", "service_name", "description", "metadata", "type",
                          "keywords", "group"}
    st, h, x = get(w, "services", "xml")
    assert x.tag == "services"
    xs = {s.findtext("service_code"): s for s in x.findall("service")}
    assert set(xs) == set(by_code)
    assert xs["public_facility"].findtext("metadata") == "true"
    assert xs["noise"].findtext("metadata") == "false"
    assert xs["public_facility"].findtext("service_name") == "公共设施损坏"


def test_service_definition_lists_attributes_in_both_formats(w):
    st, h, d = get(w, "services/public_facility")
    assert st == 200 and d["service_code"] == "public_facility"
    attrs = d["attributes"]
    assert [a["code"] for a in attrs] == ["kind", "count", "tags", "seen"]
    assert [a["order"] for a in attrs] == [1, 2, 3, 4]
    kind = attrs[0]
    assert kind["variable"] is True and kind["required"] is True
    assert kind["datatype"] == "singlevaluelist" and kind["description"] == "什么设施"
    assert kind["values"] == [{"key": "bench", "name": "长椅"}, {"key": "lamp", "name": "路灯"}]
    assert "values" not in attrs[1] and attrs[1]["required"] is False
    st, h, x = get(w, "services/public_facility", "xml")
    assert x.tag == "service_definition"
    xa = x.findall("attributes/attribute")
    assert [a.findtext("code") for a in xa] == ["kind", "count", "tags", "seen"]
    assert [v.findtext("name") for v in xa[0].findall("values/value")] == ["长椅", "路灯"]
    assert xa[0].findtext("required") == "true" and xa[1].findtext("datatype") == "number"
    st, h, d = get(w, "services/noise")
    assert st == 200 and d["attributes"] == []
    for fmt in ("json", "xml"):
        st, h, b = get(w, "services/no_such_service", fmt)
        errors(st, b, fmt, 404, "service_code not found")


def test_unknown_documents_and_formats_are_404(w):
    st, h, b = w.c.get("/open311/v2/requests.yaml")
    assert st == 404 and isinstance(b, list) and b[0]["code"] == 404
    st, h, b = w.c.get("/open311/v2/nothing.xml")
    assert st == 404 and xml(b).tag == "errors"
    st, h, b = w.c.get("/open311/v2/services/noise.csv")
    assert st == 404


# --------------------------------------------------------------------------- posting

def test_post_with_attributes_creates_a_case_readable_by_id_token_and_list(w):
    fields = lamp(("attribute[count]", "3"), ("attribute[tags][]", "dark"),
                  ("attribute[tags][]", "danger"), ("attribute[seen]", "2026-11-20T20:00:00Z"),
                  ("first_name", "三"), ("last_name", "张"), ("email", "zhang.san@example.cn"),
                  ("phone", "13800138000"), ("media_url", "https://img.example.org/lamp.jpg"),
                  ("device_id", "ignored"), ("account_id", "ignored"),
                  ("jurisdiction_id", JURISDICTION),
                  description="路灯不亮 & 很暗 <危险> 1+1\n已经三天了")
    st, h, b = post(w, fields)
    assert st == 200, b
    assert isinstance(b, list) and len(b) == 1
    r = b[0]
    assert set(r) == {"service_request_id", "service_notice", "account_id", "token"}
    rid = r["service_request_id"]
    assert isinstance(rid, str) and rid.isdigit() and r["account_id"] is None
    assert r["token"] in r["service_notice"]

    # the case behind it, as staff see it
    c = case(w, rid)
    assert c["channel"] == "open311" and c["client"] == "fms" and c["number"] == r["token"]
    assert c["category"] == "public_facility" and c["title"] == "路灯不亮 & 很暗 <危险> 1+1"
    assert c["description"] == "路灯不亮 & 很暗 <危险> 1+1\n已经三天了"
    assert c["attributes"] == {"kind": "lamp", "count": 3, "tags": ["dark", "danger"],
                               "seen": "2026-11-21T04:00:00+08:00"}
    rep = c["reporter"]
    assert rep["contact_name"] == "张三" and rep["contact_phone"] == "13800138000"
    assert rep["contact_email"] == "zhang.san@example.cn" and rep["public"] is False

    # by id, in both formats, without the reporter
    got = one(w, rid)
    assert got["service_request_id"] == rid and got["status"] == "open"
    assert got["service_code"] == "public_facility" and got["service_name"] == "公共设施损坏"
    assert got["description"] == c["description"]
    assert got["lat"] == pytest.approx(39.9219) and got["long"] == pytest.approx(116.4436)
    assert got["media_url"] == "https://img.example.org/lamp.jpg"
    assert got["agency_responsible"]
    assert got["requested_datetime"].endswith("+08:00")
    datetime.fromisoformat(got["requested_datetime"])
    text = json.dumps(got, ensure_ascii=False)
    for secret in ("张三", "13800138000", "zhang.san@example.cn", "fms"):
        assert secret not in text
    x = one(w, rid, "xml")
    assert x.findtext("service_request_id") == rid
    assert x.findtext("description") == c["description"]  # escaped and read back
    assert x.findtext("status") == "open" and x.find("address_id") is not None

    # the token is the case's number and maps to the id
    st, h, t = get(w, f"tokens/{r['token']}")
    assert st == 200 and t == [{"service_request_id": rid, "token": r["token"]}]
    st, h, t = get(w, f"tokens/{r['token']}", "xml")
    assert t.findtext("request/service_request_id") == rid
    st, h, b = get(w, "tokens/20990101012345")
    errors(st, b, "json", 404, "token")

    # in the list
    st, h, lst = get(w, "requests")
    assert st == 200 and rid in ids_of(lst)

    # the audit names the client
    st, h, a = w.c.get("/api/v1/audit?action=case.create&limit=100", token=w.admin)
    assert any(e["username"] == "open311:fms" and e["object"] == f"case:{rid}"
               for e in a["items"]), a["items"][:3]


def test_post_answers_xml_like_the_specification(w):
    st, h, x = post(w, lamp(), "xml")
    assert st == 200 and x.tag == "service_requests"
    req = x.findall("request")
    assert len(req) == 1
    assert req[0].findtext("service_request_id").isdigit()
    assert req[0].find("account_id") is not None and req[0].findtext("token")


def test_requests_that_do_not_exist_are_404(w):
    for fmt in ("json", "xml"):
        st, h, b = get(w, "requests/99999999", fmt)
        errors(st, b, fmt, 404, "service_request_id")
    st, h, b = get(w, "requests/abc")
    errors(st, b, "json", 404)


def count_cases(w):
    con = sqlite3.connect(f"file:{w.db}?mode=ro", uri=True, timeout=10)
    try:
        return con.execute("SELECT count(*) FROM cases").fetchone()[0]
    finally:
        con.close()


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_without_a_usable_key_is_403(w, fmt):
    before = count_cases(w)
    st, h, b = post(w, lamp(), fmt, key=False)
    errors(st, b, fmt, 403, "api_key")
    st, h, b = post(w, [("api_key", "o311_" + "A" * 43)] + lamp(), fmt, key=False)
    errors(st, b, fmt, 403, "api_key")
    st, h, b = post(w, [("api_key", "not-a-key")] + lamp(), fmt, key=False)
    errors(st, b, fmt, 403, "api_key")
    st, h, b = post(w, [("api_key", w.old_key)] + lamp(), fmt, key=False)
    errors(st, b, fmt, 403, "revoked")
    assert count_cases(w) == before


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_bad_input_is_400_naming_the_parameter(w, fmt):
    before = count_cases(w)
    st, h, b = post(w, [("service_code", "no_such_service"), ("lat", HERE[0]),
                        ("long", HERE[1])], fmt)
    errors(st, b, fmt, 400, "service_code not found")
    st, h, b = post(w, [("lat", HERE[0]), ("long", HERE[1])], fmt)
    errors(st, b, fmt, 400, "service_code")
    st, h, b = post(w, [("service_code", "noise"), ("description", "太吵")], fmt)
    errors(st, b, fmt, 400, "lat and long, or address_string")
    st, h, b = post(w, [("service_code", "noise"), ("address_id", "545483")], fmt)
    errors(st, b, fmt, 400, "address_id")
    st, h, b = post(w, [("service_code", "noise"), ("lat", HERE[0])], fmt)
    errors(st, b, fmt, 400, "long")
    st, h, b = post(w, [("service_code", "noise"), ("lat", "north"), ("long", HERE[1])], fmt)
    errors(st, b, fmt, 400, "lat")
    st, h, b = post(w, [("service_code", "noise"), ("lat", SHANGHAI[0]),
                        ("long", SHANGHAI[1])], fmt)
    errors(st, b, fmt, 400, "lat/long")
    # every attribute problem at once, each named
    st, h, b = post(w, [("service_code", "public_facility"), ("lat", HERE[0]),
                        ("long", HERE[1]), ("attribute[count]", "many"),
                        ("attribute[tags][]", "sunny"), ("attribute[colour]", "red"),
                        ("attribute[seen]", "last week")], fmt)
    errors(st, b, fmt, 400, "attribute[seen]")
    st, h, b = post(w, [("service_code", "public_facility"), ("lat", HERE[0]),
                        ("long", HERE[1]), ("attribute[count]", "many"),
                        ("attribute[tags][]", "sunny"), ("attribute[colour]", "red")], fmt)
    d = errors(st, b, fmt, 400, "attribute[kind]", "attribute[count]", "attribute[tags]",
               "attribute[colour]")
    assert len(d) == 4, d
    st, h, b = post(w, lamp(("email", "not an address"), ("phone", "12")), fmt)
    errors(st, b, fmt, 400, "email", "phone")
    st, h, b = post(w, lamp(("media_url", "ftp://x/y.jpg")), fmt)
    errors(st, b, fmt, 400, "media_url")
    assert count_cases(w) == before


def test_post_must_be_a_well_formed_form(w):
    form = f"api_key={w.key}&service_code=noise&lat={HERE[0]}&long={HERE[1]}&description="
    st, h, b = w.c.request("POST", "/open311/v2/requests.json", raw=(form + "%E8%B7").encode(),
                           content_type=FORM)
    errors(st, b, "json", 400, "description", "UTF-8")
    for bad in ("%G1", "%4", "%"):
        st, h, b = w.c.request("POST", "/open311/v2/requests.json", raw=(form + bad).encode(),
                               content_type=FORM)
        errors(st, b, "json", 400, "percent-escape")
    st, h, b = w.c.request("POST", "/open311/v2/requests.json",
                           body={"api_key": w.key, "service_code": "noise"})
    errors(st, b, "json", 400, "form-encoded")
    st, h, b = w.c.post("/open311/v2/discovery.json", b"", content_type=FORM)
    assert st == 404


def test_post_decodes_plus_and_percent_escapes(w):
    # written by hand: '+' is a space, %2B a plus, %26 an ampersand
    body = (f"api_key={w.key}&service_code=noise&lat={HERE[0]}&long={HERE[1]}"
            "&description=%E5%A4%AA%E5%90%B5+1%2B1%3D2+%26+more&address_string=%E4%BD%93%E8%82"
            "%B2%E5%9C%BA%E8%B7%AF+1%E5%8F%B7")
    st, h, b = w.c.request("POST", "/open311/v2/requests.json", raw=body.encode(),
                           content_type=FORM + "; charset=utf-8")
    assert st == 200, b
    got = one(w, b[0]["service_request_id"])
    assert got["description"] == "太吵 1+1=2 & more"
    assert got["address"] == "体育场路 1号"


def test_post_with_an_address_only(w):
    rid = new_request(w, [("service_code", "small_ads"), ("address_string", "朝阳区某小区3号楼")])
    got = one(w, rid)
    assert got["address"] == "朝阳区某小区3号楼" and got["lat"] is None and got["long"] is None


# --------------------------------------------------------------------------- reading lists

def test_list_filters_by_code_status_and_ids_newest_first(w):
    a = new_request(w)
    b = new_request(w, [("service_code", "noise"), ("lat", HERE[0]), ("long", HERE[1])])
    c = new_request(w, [("service_code", "noise"), ("lat", HERE[0]), ("long", HERE[1])])
    move(w, b, "rejected", reason="不属于本区管辖")

    st, h, lst = get(w, "requests", query={"service_code": "noise"})
    got = ids_of(lst)
    assert b in got and c in got and a not in got
    assert all(r["service_code"] == "noise" for r in lst)
    st, h, lst = get(w, "requests", query={"service_code": "noise,public_facility"})
    assert {a, b, c} <= set(ids_of(lst))
    ids = [int(i) for i in ids_of(lst)]
    assert ids == sorted(ids, reverse=True)

    st, h, lst = get(w, "requests", query={"status": "closed"})
    assert b in ids_of(lst) and a not in ids_of(lst) and c not in ids_of(lst)
    closed = next(r for r in lst if r["service_request_id"] == b)
    assert closed["status"] == "closed" and closed["status_notes"] == "不属于本区管辖"
    st, h, lst = get(w, "requests", query={"status": "open"})
    assert a in ids_of(lst) and c in ids_of(lst) and b not in ids_of(lst)
    st, h, lst = get(w, "requests", query={"status": "open,closed", "service_code": "noise"})
    assert {b, c} <= set(ids_of(lst))

    # a list of ids overrides the other filters
    st, h, lst = get(w, "requests", query={"service_request_id": f"{a},{c},99999999",
                                           "status": "closed"})
    assert ids_of(lst) == [c, a]
    st, h, x = get(w, "requests", "xml", query={"service_request_id": f"{a},{b}"})
    assert [r.findtext("service_request_id") for r in x.findall("request")] == [b, a]
    assert [r.findtext("status") for r in x.findall("request")] == ["closed", "open"]

    for q in ({"service_request_id": ",".join(str(i) for i in range(1, 202))},
              {"service_request_id": "1,two"}, {"service_code": "no_such"},
              {"status": "pending"}):
        st, h, e = get(w, "requests", query=q)
        errors(st, e, "json", 400)


def test_list_dates_at_most_90_days_apart(w):
    rid = new_request(w)
    now = datetime.now(timezone.utc)
    st, h, lst = get(w, "requests", query={"start_date": iso(now - timedelta(hours=1)),
                                           "end_date": iso(now + timedelta(minutes=1))})
    assert st == 200 and rid in ids_of(lst)
    st, h, lst = get(w, "requests", query={"start_date": iso(now + timedelta(days=1))})
    assert st == 200 and lst == []
    st, h, lst = get(w, "requests", query={"end_date": iso(now - timedelta(days=1))})
    assert st == 200 and rid not in ids_of(lst)
    st, h, lst = get(w, "requests", query={"start_date": (now - timedelta(days=1))
                                           .strftime("%Y-%m-%dT%H:%M:%SZ")})
    assert rid in ids_of(lst)
    # a '+' left unescaped in the query arrives as a space, and still reads
    raw = iso(now - timedelta(hours=1))
    assert "+08:00" in raw
    st, h, lst = w.c.get(f"/open311/v2/requests.json?start_date={raw}")
    assert st == 200 and rid in ids_of(lst)
    for q in ({"start_date": iso(now - timedelta(days=100)), "end_date": iso(now)},
              {"start_date": iso(now - timedelta(days=91))},
              {"start_date": iso(now), "end_date": iso(now - timedelta(days=1))},
              {"start_date": "yesterday"}, {"end_date": "2026-02-30T00:00:00Z"}):
        for fmt in ("json", "xml"):
            st, h, e = get(w, "requests", fmt, query=q)
            errors(st, e, fmt, 400, "date")


# --------------------------------------------------------------------------- updates

def updates(w, fmt="json", **query):
    q = {"api_key": w.key, **query}
    st, h, b = get(w, "servicerequestupdates", fmt, query=q)
    assert st == 200, b
    return b


def test_updates_need_a_key_and_sound_dates(w):
    for fmt in ("json", "xml"):
        st, h, b = get(w, "servicerequestupdates", fmt)
        errors(st, b, fmt, 403, "api_key")
        st, h, b = get(w, "servicerequestupdates", fmt, query={"api_key": w.old_key})
        errors(st, b, fmt, 403, "revoked")
        st, h, b = get(w, "servicerequestupdates", fmt,
                       query={"api_key": w.key, "start_date": "soon"})
        errors(st, b, fmt, 400, "start_date")


def test_staff_status_changes_reach_updates_and_the_request(w):
    rid = new_request(w)
    staff = handler(w, rid)
    move(w, rid, "accepted", staff, note="已受理，马上派人")
    move(w, rid, "dispatched", staff)
    move(w, rid, "in_progress", staff, note="维修工已到场")
    move(w, rid, "resolved", staff, note="灯泡已更换")
    mine = [u for u in updates(w) if u["service_request_id"] == rid]
    assert [u["status"] for u in mine] == ["open", "investigating", "action_scheduled",
                                           "in_progress", "fixed"]
    assert [u["description"] for u in mine] == ["", "已受理，马上派人", "", "维修工已到场",
                                                "灯泡已更换"]
    for u in mine:
        assert u["update_id"].isdigit() and u["updated_datetime"].endswith("+08:00")
        assert set(u) >= {"update_id", "service_request_id", "status", "updated_datetime",
                          "description", "media_url"}
    assert len({u["update_id"] for u in mine}) == 5
    # resolved awaits the reporter: still open to Open311
    assert one(w, rid)["status"] == "open"
    assert one(w, rid)["expected_datetime"]

    # the resolution is not confirmed within the limit: the scheduler closes it
    con = sqlite3.connect(w.db, timeout=10)
    con.execute("UPDATE cases SET resolved_at = resolved_at - 8 * 86400000 WHERE id = ?",
                (int(rid),))
    con.commit()
    con.close()
    deadline = time.monotonic() + 15
    while one(w, rid)["status"] != "closed" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert one(w, rid)["status"] == "closed"
    x = updates(w, "xml")
    assert x.tag == "service_requests_updates"
    last = [u for u in x.findall("request_update") if u.findtext("service_request_id") == rid][-1]
    assert last.findtext("status") == "closed"
    assert "自动结案" in last.findtext("description")
    st, h, lst = get(w, "requests", query={"status": "closed", "service_code": "public_facility"})
    assert rid in ids_of(lst)


def test_rejection_by_staff_closes_the_request(w):
    rid = new_request(w)
    move(w, rid, "rejected", reason="重复反映，已并案")
    got = one(w, rid)
    assert got["status"] == "closed" and got["status_notes"] == "重复反映，已并案"
    last = [u for u in updates(w) if u["service_request_id"] == rid][-1]
    assert last["status"] == "no_further_action"


def test_updates_stay_within_the_dates_asked(w):
    rid = new_request(w)
    now = datetime.now(timezone.utc)
    past = updates(w, start_date=iso(now - timedelta(days=3)),
                   end_date=iso(now - timedelta(days=2)))
    assert all(u["service_request_id"] != rid for u in past)
    recent = updates(w, start_date=iso(now - timedelta(minutes=5)),
                     end_date=iso(now + timedelta(minutes=1)))
    assert any(u["service_request_id"] == rid for u in recent)
    times = [datetime.fromisoformat(u["updated_datetime"]) for u in recent]
    assert times == sorted(times)


# --------------------------------------------------------------------------- a FixMyStreet-like client

class FixMyStreetLike:
    """Speaks to the endpoint the way FixMyStreet's Open311 client does: XML
    documents, form posts with jurisdiction_id and api_key, the description
    built from title, detail and the report's URL, names split in two,
    coordinates cut to six decimals, attributes as attribute[code], the id
    taken from request/service_request_id (else via the token), updates
    polled over a window with W3C dates in UTC, statuses lower-cased with
    '_' read as ' '."""

    STATE = {"fixed": "fixed - council", "not councils responsibility": "not responsible",
             "no further action": "unable to fix", "open": "confirmed", "closed": "closed"}

    def __init__(self, client, key):
        self.c, self.key = client, key

    def _get(self, path, params):
        params = {**params, "jurisdiction_id": JURISDICTION}
        st, h, b = self.c.get(f"/open311/v2/{path}?" + urllib.parse.urlencode(params))
        assert st == 200, b
        return ET.fromstring(b.encode())

    def service_list(self):
        return self._get("services.xml", {})

    def send(self, report):
        first, _, last = report["name"].partition(" ")
        params = {"jurisdiction_id": JURISDICTION, "api_key": self.key,
                  "service_code": report["category"],
                  "description": f"{report['title']}\n\n{report['detail']}\n\n{report['url']}\n",
                  "first_name": first, "last_name": last, "email": report["email"],
                  "lat": f"{report['lat']:.6f}", "long": f"{report['lon']:.6f}",
                  "media_url": report["photo"]}
        for k, v in report["extra"].items():
            params[f"attribute[{k}]"] = v
        st, h, b = self.c.request("POST", "/open311/v2/requests.xml",
                                  raw=urllib.parse.urlencode(params).encode(), content_type=FORM)
        assert 200 <= st < 300, b
        obj = ET.fromstring(b.encode())
        rid = obj.findtext("request/service_request_id")
        if not rid:
            token = obj.findtext("request/token")
            rid = self._get(f"tokens/{token}.xml", {}).findtext("request/service_request_id")
        return rid

    def fetch_updates(self, start, end):
        fmt = "%Y-%m-%dT%H:%M:%SZ"
        x = self._get("servicerequestupdates.xml",
                      {"api_key": self.key, "start_date": start.strftime(fmt),
                       "end_date": end.strftime(fmt)})
        out = []
        for u in x.findall("request_update"):
            status = u.findtext("status").lower().replace("_", " ")
            out.append({"id": u.findtext("service_request_id"),
                        "update_id": u.findtext("update_id"),
                        "state": self.STATE.get(status, status),
                        "text": u.findtext("description") or "",
                        "when": datetime.fromisoformat(u.findtext("updated_datetime"))})
        return out


def test_fixmystreet_like_client_posts_and_polls_updates_unchanged(w):
    fms = FixMyStreetLike(w.c, w.key)
    codes = [s.findtext("service_code") for s in fms.service_list().findall("service")]
    assert "public_facility" in codes
    start = datetime.now(timezone.utc) - timedelta(seconds=5)
    rid = fms.send({"category": "public_facility", "title": "Street light out",
                    "detail": "The lamp by the bus stop has been dark for a week.",
                    "url": "https://fms.example.org/report/42", "name": "Wang Fang",
                    "email": "wang.fang@example.org", "lat": 39.92190123, "lon": 116.44361234,
                    "photo": "https://fms.example.org/photo/42.0.full.jpeg",
                    "extra": {"kind": "lamp"}})
    assert rid and rid.isdigit()
    c = case(w, rid)
    assert c["title"] == "Street light out" and c["reporter"]["contact_name"] == "Wang Fang"
    staff = handler(w, rid)
    move(w, rid, "accepted", staff, note="We are looking into it.")
    move(w, rid, "dispatched", staff)
    move(w, rid, "in_progress", staff)
    move(w, rid, "resolved", staff, note="The lamp has been replaced.")
    got = [u for u in fms.fetch_updates(start, datetime.now(timezone.utc) + timedelta(seconds=5))
           if u["id"] == rid]
    assert [u["state"] for u in got] == ["confirmed", "investigating", "action scheduled",
                                         "in progress", "fixed - council"]
    assert got[1]["text"] == "We are looking into it."
    assert got[-1]["text"] == "The lamp has been replaced."
    assert all(u["when"].tzinfo is not None for u in got)
    req = fms._get("requests.xml", {"service_request_id": rid}).find("request")
    assert req.findtext("media_url") == "https://fms.example.org/photo/42.0.full.jpeg"
    assert req.findtext("lat") == "39.921901" and req.findtext("long") == "116.443612"
