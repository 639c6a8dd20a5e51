"""/api/v1/cases and the district's setup around them (categories, routing
rules, units, settings, volunteer teams): raising a case with and without
photos, its whole life through a resident and the community, 409s for moves
the workflow forbids, privacy between residents, nearby search, the whistle
and report-ins.

One server per module over a database holding the official Chaoyang areas
(with their centre points)."""
import binascii
import os
import re
import socket
import sqlite3
import struct
import time
import zlib

import pytest

from conftest import (ADMIN_PASSWORD, SHARED_FLAGS, SOURCE_DIR, assert_problem, field_errors,
                      run_cli)

PW = "cases-test-pw-1"
NLJY = "110105001024"          # 南郎家园, in 建外 (centre 39.90606, 116.45988)
BLJY = "110105001025"          # 北郎家园, in 建外
JIANWAI = "110105001000"
NLJY_POINT = {"lat": 39.9061, "lon": 116.4599}
AREAS_DIR = os.path.join(SOURCE_DIR, "data", "chaoyang")
BOUNDARY = os.path.join(AREAS_DIR, "boundary_gcj02.geojson")


def exif_gps(lat, lon):
    """A little-endian TIFF (EXIF) block holding only a GPS position."""
    def dms(v):
        d = int(v)
        m = int((v - d) * 60)
        sec = round(((v - d) * 60 - m) * 60 * 100)
        return struct.pack("<6I", d, 1, m, 1, sec, 100)
    head = b"II*\x00" + struct.pack("<I", 8)
    ifd0 = struct.pack("<H", 1) + struct.pack("<HHII", 0x8825, 4, 1, 26) + struct.pack("<I", 0)
    gps = struct.pack("<H", 4)
    gps += struct.pack("<HHI", 1, 2, 2) + b"N\x00\x00\x00"
    gps += struct.pack("<HHII", 2, 5, 3, 80)
    gps += struct.pack("<HHI", 3, 2, 2) + b"E\x00\x00\x00"
    gps += struct.pack("<HHII", 4, 5, 3, 104) + struct.pack("<I", 0)
    return head + ifd0 + gps + dms(lat) + dms(lon)


def png(width=2, height=1, text=b"", exif=b""):
    """A small valid PNG (grey pixels), with a tEXt chunk when `text` is given
    and an eXIf chunk when `exif` is."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", binascii.crc32(kind + data) & 0xFFFFFFFF))
    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    body = chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
    if exif:
        body += chunk(b"eXIf", exif)
    if text:
        body += chunk(b"tEXt", b"Comment\x00" + text)
    body += chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


def multipart(fields, files):
    """(content type, body) for text `fields` and `files` [(name, filename, type, bytes)]."""
    boundary = "----linli-test-7MA4YWxkTrZu0gW"
    out = b""
    for k, v in fields.items():
        out += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n"
                f"{v}\r\n").encode()
    for name, filename, ctype, data in files:
        out += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; "
                f"filename=\"{filename}\"\r\nContent-Type: {ctype}\r\n\r\n").encode()
        out += data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", out


@pytest.fixture(scope="module")
def net(module_factory):
    db = module_factory.new_db_path()
    r = run_cli(["--db", db, "init"], env={"LINLI_ADMIN_PASSWORD": ADMIN_PASSWORD})
    assert r.returncode == 0, r.stderr
    r = run_cli(["--db", db, "import", "areas", "--dir", AREAS_DIR])
    assert r.returncode == 0, r.stderr
    return module_factory.start(*SHARED_FLAGS, "--boundary", BOUNDARY, db=db)


@pytest.fixture(scope="module")
def client(net):
    return net.client


@pytest.fixture(scope="module")
def tok(net, client):
    admin = net.admin_token()
    specs = {
        "resident": ("resident", None), "neighbour": ("resident", None),
        "volunteer": ("volunteer", None),
        "community": ("community", NLJY), "other_community": ("community", BLJY),
        "street": ("street", "110105001"), "district": ("district", "110105"),
        "dept": ("district", "110105"),
    }
    toks, ids = {"admin": admin}, {}
    for name, (role, scope) in specs.items():
        u = client.create_user(admin, f"case-{name}", role=role, scope=scope, password=PW)
        ids[name] = u["id"]
        toks[name] = client.login(f"case-{name}", PW)
    st, h, b = client.post("/api/v1/units/dept-cgj/members", {"user_id": ids["dept"]},
                           token=admin)
    assert st == 201, b
    toks["ids"] = ids
    return toks


def new_case(client, token, **extra):
    body = {"category": "corridor_clutter", "description": "3号楼2单元楼道堆放杂物",
            "point": NLJY_POINT}
    body.update(extra)
    st, h, b = client.post("/api/v1/cases", body, token=token)
    assert st == 201, b
    return b


def move(client, token, cid, to, **extra):
    return client.post(f"/api/v1/cases/{cid}/transitions", dict(to=to, **extra), token=token)


def test_create_with_json_finds_the_community_and_numbers_the_case(client, tok):
    st, h, b = client.post("/api/v1/cases", {"category": "corridor_clutter",
                                             "title": "楼道堆物", "point": NLJY_POINT},
                           token=tok["resident"])
    assert st == 201, b
    assert h["Location"] == f"/api/v1/cases/{b['id']}"
    assert re.fullmatch(r"\d{13}", b["number"]), b["number"]
    assert b["state"] == "submitted" and b["status"] == "open"
    assert b["area_code"] == NLJY and b["area_from_point"] is True
    assert b["unit_code"] == NLJY
    assert b["deadline_class"] == "general" and b["resolve_due_at"] is None
    st, h, got = client.get(f"/api/v1/cases/{b['id']}", token=tok["resident"])
    assert st == 200
    assert [e["kind"] for e in got["events"]] == ["submitted"]
    assert got["reporter"]["user_id"] == tok["ids"]["resident"]


def test_create_refuses_bad_fields_with_every_problem(client, tok):
    st, h, b = client.post("/api/v1/cases", {"category": "corridor_clutter", "colour": "red",
                                             "point": {"lat": "x"}}, token=tok["resident"])
    assert_problem(st, h, b, 422)
    errs = field_errors(b)
    assert "colour" in errs
    st, h, b = client.post("/api/v1/cases", {"category": "nope", "point": NLJY_POINT},
                           token=tok["resident"])
    assert_problem(st, h, b, 422)
    assert "category" in field_errors(b)
    st, h, b = client.post("/api/v1/cases", {"category": "noise", "point":
                                             {"lat": 31.23, "lon": 121.47}},
                           token=tok["resident"])  # Shanghai: outside the district
    assert_problem(st, h, b, 422)
    assert "point" in field_errors(b)
    st, h, b = client.post("/api/v1/cases", {"category": "noise"}, token=tok["resident"])
    assert_problem(st, h, b, 422)
    st, h, b = client.post("/api/v1/cases", {"category": "noise", "point": NLJY_POINT,
                                             "channel": "hotline"}, token=tok["resident"])
    assert_problem(st, h, b, 403)
    st, h, b = client.post("/api/v1/cases", {"category": "noise", "point": NLJY_POINT})
    assert st == 401


def test_create_with_a_photo_stores_it_stripped_and_serves_it_to_the_reporter(client, tok):
    ctype, body = multipart({"category": "public_facility", "title": "路灯不亮",
                             "lat": "39.9061", "lon": "116.4599"},
                            [("photo", "IMG_0001.png", "image/png", png(text=b"secret"))])
    st, h, b = client.request("POST", "/api/v1/cases", raw=body, content_type=ctype,
                              token=tok["resident"])
    assert st == 201, b
    assert len(b["photos"]) == 1
    p = b["photos"][0]
    assert p["type"] == "image/png" and p["width"] == 2 and p["height"] == 1
    st, h, data = client.request("GET", p["url"], token=tok["resident"])
    assert st == 200
    assert h["Content-Type"] == "image/png"
    assert "immutable" in h["Cache-Control"] and "private" in h["Cache-Control"]
    assert h["ETag"] == f"\"{p['hash']}\""
    assert "secret" not in data  # the metadata chunk was stripped
    st, h, _ = client.request("GET", p["url"], token=tok["resident"],
                              headers={"If-None-Match": h["ETag"]})
    assert st == 304
    # another resident may not see the case, nor its photo
    st, h, b2 = client.request("GET", p["url"], token=tok["neighbour"])
    assert st == 404
    # staff of the community may, and may add a photo of their own
    ctype, body = multipart({"note": "现场照片"}, [("photo", "a.png", "image/png", png(3, 3))])
    st, h, b3 = client.request("POST", f"/api/v1/cases/{b['id']}/photos", raw=body,
                               content_type=ctype, token=tok["community"])
    assert st == 200, b3
    assert len(b3["photos"]) == 2
    assert b3["events"][-1]["kind"] == "photo"


def test_a_phone_sized_photo_fits_though_other_bodies_keep_the_small_limit(net, client, tok):
    # A 3 MB photo (a PNG with a large text chunk, stripped on the way in)
    # passes the photo routes' own limit; the same bytes elsewhere are 413.
    big = png(text=b"x" * (3 * 1024 * 1024))
    ctype, body = multipart({"category": "public_facility", "lat": "39.9061",
                             "lon": "116.4599"}, [("photo", "big.png", "image/png", big)])
    st, h, b = client.request("POST", "/api/v1/cases", raw=body, content_type=ctype,
                              token=tok["resident"])
    assert st == 201, b
    assert b["photos"][0]["size"] < 1024
    # The limits are judged from Content-Length before any body is read.
    assert announced_length_status(net, "/api/v1/cases/nearby", len(body), ctype,
                                   tok["resident"]) == 413
    assert announced_length_status(net, "/api/v1/cases", 40 * 1024 * 1024, ctype,
                                   tok["resident"]) == 413


def announced_length_status(net, path, length, ctype, token):
    """The status linlid answers to headers announcing a body of `length`
    bytes, none of which is sent."""
    with socket.create_connection(("127.0.0.1", net.port), timeout=10) as s:
        s.sendall((f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   f"Authorization: Bearer {token}\r\nContent-Type: {ctype}\r\n"
                   f"Content-Length: {length}\r\n\r\n").encode())
        head = s.recv(4096).decode("latin-1")
    return int(head.split(" ", 2)[1])


def test_a_photos_gps_position_fills_a_missing_point(client, tok):
    photo = png(exif=exif_gps(39.9111, 116.4658))  # 北郎家园
    ctype, body = multipart({"category": "sanitation", "address": "北郎家园小区东门"},
                            [("photo", "IMG_0002.png", "image/png", photo)])
    st, h, b = client.request("POST", "/api/v1/cases", raw=body, content_type=ctype,
                              token=tok["resident"])
    assert st == 201, b
    assert b["point"] is not None
    assert abs(b["point"]["lat"] - 39.9111) < 1e-4 and abs(b["point"]["lon"] - 116.4658) < 1e-4
    assert b["area_code"] == BLJY and b["area_from_point"] is True


def test_a_photo_is_recognised_by_its_bytes_not_its_name(client, tok):
    ctype, body = multipart({"category": "public_facility", "lat": "39.9061",
                             "lon": "116.4599"},
                            [("photo", "fine.jpg", "image/jpeg", b"not a picture at all")])
    st, h, b = client.request("POST", "/api/v1/cases", raw=body, content_type=ctype,
                              token=tok["resident"])
    assert_problem(st, h, b, 422)
    assert "photo[0]" in field_errors(b)
    truncated = png()[:40]
    ctype, body = multipart({"category": "public_facility", "lat": "39.9061",
                             "lon": "116.4599"}, [("photo", "x.png", "image/png", truncated)])
    st, h, b = client.request("POST", "/api/v1/cases", raw=body, content_type=ctype,
                              token=tok["resident"])
    assert_problem(st, h, b, 422)


def test_the_whole_life_of_a_case_through_two_users(client, tok):
    c = new_case(client, tok["resident"])
    cid = c["id"]
    st, h, b = move(client, tok["resident"], cid, "accepted")
    assert_problem(st, h, b, 403)
    st, h, b = move(client, tok["community"], cid, "resolved", note="done")
    assert_problem(st, h, b, 409)
    for to in ("accepted", "dispatched", "in_progress"):
        st, h, b = move(client, tok["community"], cid, to)
        assert st == 200, b
        assert b["state"] == to
    assert b["resolve_due_at"] is not None
    st, h, b = move(client, tok["community"], cid, "resolved")
    assert_problem(st, h, b, 422)
    st, h, b = move(client, tok["community"], cid, "resolved", note="已协调物业清理")
    assert st == 200 and b["state"] == "resolved"
    st, h, b = move(client, tok["community"], cid, "closed")
    assert_problem(st, h, b, 403)
    st, h, b = client.post(f"/api/v1/cases/{cid}/rating",
                           {"rating": "basically_satisfied", "comment": "还有一点"},
                           token=tok["resident"])
    assert st == 200 and b["rating"]["rating"] == "basically_satisfied"
    st, h, b = client.post(f"/api/v1/cases/{cid}/rating", {"rating": "satisfied"},
                           token=tok["resident"])
    assert_problem(st, h, b, 409)
    st, h, b = move(client, tok["resident"], cid, "closed", note="确认")
    assert st == 200 and b["state"] == "closed" and b["status"] == "closed"
    st, h, b = move(client, tok["community"], cid, "in_progress")
    assert_problem(st, h, b, 409)
    st, h, b = client.post(f"/api/v1/cases/{cid}/notes", {"text": "late"},
                           token=tok["community"])
    assert_problem(st, h, b, 409)
    st, h, b = client.get(f"/api/v1/cases/{cid}", token=tok["resident"])
    kinds = [e["kind"] for e in b["events"]]
    assert kinds == ["submitted", "accepted", "dispatched", "in_progress", "resolved", "rated",
                     "closed"]
    audit = client.audit(tok["admin"], "&action=case.")
    assert any(e["action"] == "case.transition" and e["object"] == f"case:{cid}" for e in audit)


def test_reopen_and_reject_and_duplicate(client, tok):
    c = new_case(client, tok["resident"])
    for to in ("accepted", "dispatched", "in_progress"):
        assert move(client, tok["community"], c["id"], to)[0] == 200
    assert move(client, tok["community"], c["id"], "resolved", note="ok")[0] == 200
    st, h, b = move(client, tok["resident"], c["id"], "in_progress", note="没有清理干净")
    assert st == 200 and b["events"][-1]["kind"] == "reopened"
    d = new_case(client, tok["neighbour"])
    st, h, b = move(client, tok["community"], d["id"], "duplicate", duplicate_of=c["id"])
    assert st == 200 and b["duplicate_of"] == c["id"]
    e = new_case(client, tok["neighbour"])
    st, h, b = move(client, tok["community"], e["id"], "rejected")
    assert_problem(st, h, b, 422)
    st, h, b = move(client, tok["community"], e["id"], "rejected", reason="非本辖区事项")
    assert st == 200 and b["reason"] == "非本辖区事项"


def test_a_resident_sees_only_their_own_cases(client, tok):
    c = new_case(client, tok["resident"], contact_phone="13800138000")
    st, h, b = client.get(f"/api/v1/cases/{c['id']}", token=tok["neighbour"])
    assert_problem(st, h, b, 404)
    st, h, b = client.get(f"/api/v1/cases/{c['id']}", token=tok["other_community"])
    assert_problem(st, h, b, 404)
    st, h, b = client.get("/api/v1/cases?mine=true&limit=200", token=tok["neighbour"])
    assert st == 200
    assert all(i["reporter"]["user_id"] == tok["ids"]["neighbour"] for i in b["items"])
    st, h, b = client.get("/api/v1/cases?limit=200", token=tok["neighbour"])
    assert c["id"] not in [i["id"] for i in b["items"]]
    # the street sees its communities' cases, without the reporter's phone
    st, h, b = client.get(f"/api/v1/cases/{c['id']}", token=tok["street"])
    assert st == 200 and b["reporter"]["contact_phone"] is None
    st, h, b = client.get(f"/api/v1/cases/{c['id']}", token=tok["community"])
    assert st == 200 and b["reporter"]["contact_phone"] == "13800138000"


def test_lists_filter_and_page(client, tok):
    for _ in range(3):
        new_case(client, tok["volunteer"], category="small_ads")
    st, h, b = client.get("/api/v1/cases?category=small_ads&status=submitted&limit=2",
                          token=tok["street"])
    assert st == 200 and len(b["items"]) == 2 and b["next_cursor"]
    st, h, b2 = client.get(f"/api/v1/cases?category=small_ads&status=submitted&limit=2"
                           f"&cursor={b['next_cursor']}", token=tok["street"])
    assert st == 200 and b2["items"]
    assert b2["items"][0]["id"] < b["items"][-1]["id"]
    st, h, b = client.get("/api/v1/cases?colour=red", token=tok["street"])
    assert_problem(st, h, b, 422)
    st, h, b = client.get(f"/api/v1/cases?area={JIANWAI}&from=2020-01-01&status=open",
                          token=tok["district"])
    assert st == 200 and b["items"]


def test_nearby_finds_an_open_case_and_not_a_closed_one(client, tok):
    point = {"lat": 39.9111, "lon": 116.4658}  # 北郎家园
    open_case = new_case(client, tok["resident"], category="sanitation", point=point,
                         title="垃圾桶满了")
    gone = new_case(client, tok["resident"], category="sanitation", point=point)
    st, h, b = move(client, tok["other_community"], gone["id"], "rejected", reason="已处理")
    assert st == 200, b
    st, h, b = client.get("/api/v1/cases/nearby?lat=39.91112&lon=116.46581&category=sanitation",
                          token=tok["neighbour"])
    assert st == 200, b
    ids = [i["id"] for i in b["items"]]
    assert open_case["id"] in ids and gone["id"] not in ids
    mine = [i for i in b["items"] if i["id"] == open_case["id"]][0]
    assert mine["title"] == "垃圾桶满了" and "reporter" not in mine and "description" not in mine
    st, h, b = client.get("/api/v1/cases/nearby?lat=39.91112&lon=116.46581", token=tok["neighbour"])
    assert_problem(st, h, b, 422)
    st, h, b = client.get("/api/v1/cases/nearby?lat=39.9&lon=116.4&category=sanitation"
                          "&radius=9999", token=tok["neighbour"])
    assert_problem(st, h, b, 422)


def test_the_street_blows_the_whistle_and_the_department_reports_in(client, tok):
    c = new_case(client, tok["resident"])
    st, h, b = client.post(f"/api/v1/cases/{c['id']}/whistle", {"units": ["dept-cgj"]},
                           token=tok["community"])
    assert_problem(st, h, b, 403)
    st, h, b = client.post(f"/api/v1/cases/{c['id']}/whistle",
                           {"units": ["dept-cgj", "dept-zjw"], "note": "联合整治"},
                           token=tok["street"])
    assert st == 200, b
    summoned = [u for u in b["units"] if u["link"] == "summoned"]
    assert {u["unit"] for u in summoned} == {"dept-cgj", "dept-zjw"}
    st, h, b = client.post(f"/api/v1/cases/{c['id']}/report-in", {"note": "到场"},
                           token=tok["dept"])
    assert st == 200, b
    cgj = [u for u in b["units"] if u["unit"] == "dept-cgj"][0]
    assert cgj["reported_at"] and cgj["late"] is False
    st, h, b = client.post(f"/api/v1/cases/{c['id']}/report-in", {}, token=tok["dept"])
    assert_problem(st, h, b, 409)


def test_list_by_number_overdue_and_deadline(net, client, tok):
    cat = {"code": "dues", "name_zh": "期限测试", "name_en": "Deadlines", "deadline_class": "general"}
    st, h, b = client.post("/api/v1/case-categories", cat, token=tok["admin"])
    assert st == 201, b
    c = {k: new_case(client, tok["resident"], category="dues", title=f"期限{k}")
         for k in ("sub_late", "acc_ok", "acc_late", "res", "rej", "sub_ok", "sub_tie")}
    com = tok["community"]
    for k in ("acc_ok", "acc_late", "res"):
        assert move(client, com, c[k]["id"], "accepted")[0] == 200
    for to in ("dispatched", "in_progress"):
        assert move(client, com, c["res"]["id"], to)[0] == 200
    assert move(client, com, c["res"]["id"], "resolved", note="已清理")[0] == 200
    assert move(client, com, c["rej"]["id"], "rejected", reason="非本辖区")[0] == 200
    # Deadlines moved by hand: response (r) and resolution (s) hours from now.
    now = int(time.time() * 1000)
    hour = 3600 * 1000
    hours = {"sub_late": (-3, None), "acc_ok": (-5, 2), "acc_late": (-9, -1), "res": (-20, -10),
             "rej": (-10, None), "sub_ok": (1, None), "sub_tie": (1, None)}
    con = sqlite3.connect(net.db, timeout=10)
    for k, (r, s) in hours.items():
        con.execute("UPDATE cases SET response_due_at = ?, resolve_due_at = ? WHERE id = ?",
                    (now + r * hour, None if s is None else now + s * hour, c[k]["id"]))
    con.commit()
    con.close()

    def ids(query, token=tok["admin"]):
        st, h, b = client.get(f"/api/v1/cases?category=dues&{query}", token=token)
        assert st == 200, b
        return [x["id"] for x in b["items"]], b["next_cursor"]

    # overdue: the deadline the case waits on now has passed (not the response
    # deadline of a case accepted since, nor anything once resolved or final)
    assert ids("overdue=true")[0] == [c["acc_late"]["id"], c["sub_late"]["id"]]
    assert ids("overdue=false")[0] == ids("")[0] and len(ids("")[0]) == 7
    # by deadline: earliest first, ties by id, only cases with a pending deadline
    order = [c[k]["id"] for k in ("sub_late", "acc_late", "sub_ok", "sub_tie", "acc_ok")]
    assert ids("sort=due")[0] == order
    assert ids("sort=due&overdue=true")[0] == order[:2]
    assert ids("sort=due&status=submitted")[0] == [order[0], order[2], order[3]]
    assert ids("sort=newest")[0] == ids("")[0]
    # paged by deadline: each page continues after the last one, the tie included
    got, cursor, pages = [], None, 0
    while True:
        page, cursor = ids("sort=due&limit=2" + (f"&cursor={cursor}" if cursor else ""))
        got += page
        pages += 1
        if not cursor:
            break
        assert cursor.startswith("k"), cursor
    assert got == order and pages == 3
    # the cursor holds its place when the case it names moves on meanwhile
    page, cursor = ids("sort=due&limit=3")
    assert page == order[:3]
    assert move(client, com, c["sub_ok"]["id"], "accepted")[0] == 200  # due in 7 days now
    assert ids(f"sort=due&limit=3&cursor={cursor}")[0] == [order[3], order[4], order[2]]
    # by number, exactly, in the caller's view
    number = c["res"]["number"]
    assert ids(f"number={number}")[0] == [c["res"]["id"]]
    assert ids(f"number={number}&overdue=true")[0] == []
    assert ids(f"number={c['sub_late']['number']}&sort=due")[0] == [c["sub_late"]["id"]]
    assert ids("number=2099123199999")[0] == []
    assert ids(f"number={number}", token=tok["resident"])[0] == [c["res"]["id"]]
    assert ids(f"number={number}", token=tok["neighbour"])[0] == []
    # wrong values name their parameter
    id_cursor = ids("limit=1")[1]
    for query, field in (("number=123", "number"), ("number=2026x125001234", "number"),
                         ("overdue=yes", "overdue"), ("sort=oldest", "sort"),
                         ("sort=due&status=resolved", "status"),
                         ("sort=due&status=closed", "status"),
                         (f"sort=due&cursor={id_cursor}", "cursor"),
                         ("sort=due&cursor=k1-2ab", "cursor"),
                         (f"cursor={cursor}", "cursor")):
        st, h, b = client.get(f"/api/v1/cases?{query}", token=tok["admin"])
        assert_problem(st, h, b, 422)
        assert field in field_errors(b), (query, b)


def test_setup_is_for_admins_and_the_district(client, tok):
    st, h, b = client.get("/api/v1/case-categories")
    assert st == 200
    codes = [c["code"] for c in b["items"]]
    assert codes[:3] == ["corridor_clutter", "small_ads", "public_facility"]
    util = [c for c in b["items"] if c["code"] == "utilities"][0]
    assert util["deadline_class"] == "utilities" and util["resolve_minutes"] == 1440
    new = {"code": "pets", "name_zh": "宠物扰民", "name_en": "Pets", "deadline_class": "general"}
    st, h, b = client.post("/api/v1/case-categories", new, token=tok["resident"])
    assert_problem(st, h, b, 403)
    st, h, b = client.post("/api/v1/case-categories", new, token=tok["district"])
    assert st == 201, b
    st, h, b = client.post("/api/v1/case-categories", new, token=tok["district"])
    assert_problem(st, h, b, 409)
    st, h, b = client.patch("/api/v1/case-categories/pets",
                            {"deadline_class": "emergency"}, token=tok["admin"])
    assert st == 200 and b["resolve_minutes"] == 120
    st, h, b = client.post("/api/v1/routing-rules",
                           {"category": "pets", "area": JIANWAI, "unit": "dept-cgj",
                            "co_units": ["@community"]}, token=tok["district"])
    assert st == 201, b
    c = new_case(client, tok["resident"], category="pets")
    assert c["unit_code"] == "dept-cgj" and c["priority"] == "urgent"
    assert [u["unit"] for u in c["units"]] == ["dept-cgj", NLJY]
    st, h, b = client.request("DELETE", f"/api/v1/routing-rules/{b['id']}", token=tok["admin"])
    assert st == 204
    st, h, b = client.get("/api/v1/units?kind=street&parent=110105", token=tok["street"])
    assert st == 200 and any(u["code"] == JIANWAI for u in b["items"])
    st, h, b = client.get("/api/v1/units", token=tok["resident"])
    assert st == 200 and any(u["code"] == "dept-jtzd" for u in b["items"])
    st, h, b = client.patch("/api/v1/case-settings", {"report_in_minutes": 20},
                            token=tok["district"])
    assert_problem(st, h, b, 403)
    st, h, b = client.patch("/api/v1/case-settings", {"report_in_minutes": 20},
                            token=tok["admin"])
    # the photo limits come along, read-only: the report page checks its
    # photos against them before sending
    assert st == 200 and b == {"auto_close_days": 7, "report_in_minutes": 20,
                               "photo_body_max": 32 * 1024 * 1024,
                               "photo_max_bytes": 10 * 1024 * 1024}
    st, h, b = client.patch("/api/v1/case-settings", {"photo_body_max": 1},
                            token=tok["admin"])
    assert_problem(st, h, b, 422)
    st, h, b = client.get("/api/v1/case-settings", token=tok["resident"])
    assert st == 200 and b["photo_body_max"] == 32 * 1024 * 1024


def test_case_settings_name_the_photo_limit_the_server_was_started_with(server_factory):
    srv = server_factory.start("--photo-body-max", "1048576")
    st, h, b = srv.client.get("/api/v1/case-settings", token=srv.admin_token())
    assert st == 200
    assert b["photo_body_max"] == 1048576 and b["photo_max_bytes"] == 10 * 1024 * 1024


def test_volunteer_teams_count_what_members_reported(client, tok):
    st, h, team = client.post("/api/v1/volunteer-teams", {"name": "南郎家园随手拍志愿队",
                                                          "area_code": NLJY},
                              token=tok["community"])
    assert st == 201, team
    st, h, b = client.post(f"/api/v1/volunteer-teams/{team['id']}/members",
                           {"user_id": tok["ids"]["volunteer"]}, token=tok["community"])
    assert st == 201, b
    new_case(client, tok["volunteer"], category="small_ads")
    st, h, b = client.get(f"/api/v1/volunteer-teams/{team['id']}", token=tok["volunteer"])
    assert st == 200
    assert b["members"] == 1 and b["member_list"][0]["reports"] >= 1
    st, h, b = client.get(f"/api/v1/volunteer-teams/{team['id']}", token=tok["neighbour"])
    assert_problem(st, h, b, 404)
    st, h, b = client.get("/api/v1/volunteer-teams", token=tok["street"])
    assert st == 200 and [t["id"] for t in b["items"]] == [team["id"]]


def test_a_retried_create_with_the_same_key_creates_once(client, tok):
    body = {"category": "noise", "point": NLJY_POINT, "title": "夜间施工"}
    hdr = {"Idempotency-Key": "case-retry-1"}
    st1, h1, b1 = client.post("/api/v1/cases", body, token=tok["resident"], headers=hdr)
    st2, h2, b2 = client.post("/api/v1/cases", body, token=tok["resident"], headers=hdr)
    assert st1 == 201 and st2 == 201
    assert b1["id"] == b2["id"] and h2["Idempotent-Replayed"] == "true"


def test_reporter_stream_gets_own_case_events_only(net, client, tok):
    from conftest import SSEStream
    s = SSEStream(net.port, token=tok["resident"])
    try:
        assert s.status == 200
        other = new_case(client, tok["neighbour"], title="邻居的上报")
        mine = new_case(client, tok["resident"], title="我的上报")
        st, _, b = move(client, tok["community"], mine["id"], "accepted")
        assert st == 200, b
        seen = []

        def mine_accepted(ev):
            if ev["event"] and ev["event"].startswith("case."):
                seen.append(ev)
            return ev["event"] == "case.updated" and f'"id":{mine["id"]}' in ev["data"].replace(" ", "")
        assert s.wait_for(mine_accepted, timeout=10), seen
        ids = {__import__("json").loads(e["data"])["id"] for e in seen}
        assert mine["id"] in ids and other["id"] not in ids, ids
    finally:
        s.close()


def test_backup_copies_the_photos_and_a_server_on_the_copy_serves_them(net, client, tok,
                                                                        server_factory,
                                                                        tmp_path):
    photos = [png(4, 4, text=b"one"), png(5, 3)]
    ctype, body = multipart({"category": "public_facility", "title": "井盖松动",
                             "lat": "39.9061", "lon": "116.4599"},
                            [("photo", f"p{i}.png", "image/png", p) for i, p in enumerate(photos)])
    st, h, b = client.request("POST", "/api/v1/cases", raw=body, content_type=ctype,
                              token=tok["resident"])
    assert st == 201, b
    served = {}
    for p in b["photos"]:
        st, h, data = client.request("GET", p["url"], token=tok["admin"])
        assert st == 200
        served[p["hash"]] = data

    (tmp_path / "bk").mkdir()
    out = tmp_path / "bk" / "linli.db"
    r = run_cli(["--db", net.db, "backup", str(out)])
    assert r.returncode == 0, r.stderr
    assert "integrity" in r.stdout
    # Every photo the copy names is beside it, in the layout linlid reads.
    con = sqlite3.connect(str(out))
    try:
        named = con.execute("SELECT DISTINCT hash, type FROM case_photos").fetchall()
    finally:
        con.close()
    assert len(named) >= 2
    ext = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}
    src = os.path.join(os.path.dirname(net.db), "photos")
    for hsh, typ in named:
        rel = os.path.join(hsh[:2], hsh[2:] + "." + ext[typ])
        with open(os.path.join(src, rel), "rb") as f1, \
                open(os.path.join(tmp_path, "bk", "photos", rel), "rb") as f2:
            assert f1.read() == f2.read()
    assert re.search(rf"Photos: {len(named)} copied .*0 already in", r.stdout), r.stdout
    # A second backup into the same directory copies nothing new.
    r = run_cli(["--db", net.db, "backup", str(tmp_path / "bk" / "linli-2.db")])
    assert r.returncode == 0, r.stderr
    assert re.search(rf"Photos: 0 copied .*{len(named)} already in", r.stdout), r.stdout

    # Restored: a server on the copy serves the same photos.
    copy = server_factory.start(*SHARED_FLAGS, db=str(out))
    admin = copy.client.login("admin", ADMIN_PASSWORD)
    for p in b["photos"]:
        st, h, data = copy.client.request("GET", p["url"], token=admin)
        assert st == 200, data
        assert data == served[p["hash"]]


def test_backup_names_the_photos_it_could_not_find(net, client, tok, tmp_path):
    ctype, body = multipart({"category": "public_facility", "lat": "39.9061",
                             "lon": "116.4599"}, [("photo", "x.png", "image/png", png(6, 2))])
    st, h, b = client.request("POST", "/api/v1/cases", raw=body, content_type=ctype,
                              token=tok["resident"])
    assert st == 201, b
    empty = tmp_path / "nothing-here"
    empty.mkdir()
    (tmp_path / "bk").mkdir()
    out = tmp_path / "bk" / "linli.db"
    r = run_cli(["--db", net.db, "backup", str(out), "--photo-dir", str(empty)])
    assert r.returncode == 1
    assert b["photos"][0]["hash"] in r.stderr
    assert "missing from" in r.stderr and str(empty) in r.stderr
    # The database copy itself stands.
    con = sqlite3.connect(str(out))
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        con.close()
    # Refused before anything is written: an unknown option, two files.
    for args, msg in [([str(tmp_path / "b2.db"), "--photos"], "unknown option --photos"),
                      ([str(tmp_path / "b3.db"), str(tmp_path / "b4.db")], "usage")]:
        r = run_cli(["--db", net.db, "backup"] + args)
        assert r.returncode != 0 and msg in r.stderr, (args, r.stderr)
    assert not (tmp_path / "b2.db").exists() and not (tmp_path / "b3.db").exists()
    # A copy beside the live photos: the database is copied and the photos,
    # already there, are said not to be.
    here = os.path.join(os.path.dirname(net.db), "again.db")
    r = run_cli(["--db", net.db, "backup", here])
    assert r.returncode == 0, r.stderr
    assert "not copied" in r.stdout and "another directory" in r.stdout
    assert os.path.exists(here)
