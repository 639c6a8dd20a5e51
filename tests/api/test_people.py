"""/api/v1/people: residents' profiles. Who sees whom (every role), masking and
the audit entry of every unmasked read, search (names of 1, 2 and 3+
characters, ID number, phone, community, street, age, living alone), writes,
and the CSV import (bad rows change nothing unless --skip-bad) and export."""
import csv
import datetime
import io
import itertools
import os

import pytest

from conftest import (ADMIN_PASSWORD, SHARED_FLAGS, SOURCE_DIR, assert_no_sanitizer_report,
                      assert_problem, field_errors, run_cli)

DATA = os.path.join(SOURCE_DIR, "data", "chaoyang")
PW = "people-password-1"

HERE = "110105001024"    # 南郎家园, street 建外 (110105001)
NEAR = "110105001025"    # 北郎家园, same street
FAR = "110105002024"     # 体东, street 朝外 (110105002)
SEARCH_C = "110105001026"
SEARCH_C2 = "110105001027"
IMPORT_C = "110105001028"
EXPORT_C = "110105001029"

ROLES = {
    # role: scope
    "district": "110105",
    "street": "110105001",
    "community": HERE,
    "operator": "110105001",
    "auditor": "110105",
    "provider": None,
    "volunteer": None,
    "resident": None,
}
READERS = {"admin", "district", "street", "community", "operator", "auditor"}
WRITERS = {"admin", "district", "street", "community"}
ALL_ROLES = ["admin"] + list(ROLES)

_seq = itertools.count(100)


def make_id(birth="19450315", seq=None, region="110105"):
    """A valid GB 11643 number: region, birth date, sequence (odd = male), check character."""
    seq = next(_seq) if seq is None else seq
    first17 = f"{region}{birth}{seq % 1000:03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return first17 + "10X98765432"[sum(int(c) * w for c, w in zip(first17, weights)) % 11]


def shanghai_today():
    return (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=8)).date()


def age_of(birth):
    t = shanghai_today()
    return t.year - birth.year - ((t.month, t.day) < (birth.month, birth.day))


def masked_id(i):
    return i[:6] + "********" + i[-4:]


def masked_phone(p):
    return p[:3] + "****" + p[-4:]


def cli(*args, ok=True, env=None):
    r = run_cli([str(a) for a in args], env=env, timeout=120)
    assert_no_sanitizer_report(r.stderr, "linli")
    if ok:
        assert r.returncode == 0, f"linli {' '.join(map(str, args))}: {r.returncode}\n{r.stderr}"
    return r


# --------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def db(module_factory):
    path = module_factory.new_db_path()
    cli("--db", path, "init", env={"LINLI_ADMIN_PASSWORD": ADMIN_PASSWORD})
    cli("--db", path, "import", "areas", "--dir", DATA)
    return path


@pytest.fixture(scope="module")
def srv(module_factory, db):
    return module_factory.start(*SHARED_FLAGS, db=db)


@pytest.fixture(scope="module")
def c(srv):
    return srv.client


@pytest.fixture(scope="module")
def users(srv, c):
    """role -> {"token", "id"} for every role."""
    admin = srv.admin_token()
    out = {"admin": {"token": admin, "id": c.get("/api/v1/me", token=admin)[2]["id"]}}
    for role, scope in ROLES.items():
        u = c.create_user(admin, f"pp-{role}", role=role, scope=scope, password=PW)
        out[role] = {"token": c.login(f"pp-{role}", PW), "id": u["id"]}
    return out


def full_body(community=HERE, **over):
    body = {
        "name": "张秀英",
        "id_number": make_id("19450315"),
        "phone": "13800138000",
        "address": "建外街道南郎家园3号楼2单元",
        "home": {"lat": 39.9052, "lon": 116.4601},
        "community_code": community,
        "living_alone": True,
        "care_level": "partly_dependent",
        "disability": "视力二级",
        "subsidy_class": "dibao",
        "conditions": ["高血压", "糖尿病"],
        "emergency_contacts": [
            {"name": "张伟", "relation": "儿子", "phone": "13900139000"},
            {"name": "李娜", "relation": "邻居", "phone": "010-65001234"},
        ],
        "consent": True,
    }
    body.update(over)
    return body


def create(c, token, body, expect=201):
    st, h, b = c.post("/api/v1/people", body, token=token)
    assert st == expect, (st, b)
    return b


@pytest.fixture(scope="module")
def seed(c, users):
    """One person in the community worker's community, one elsewhere in the same
    street, one in another street; created by the admin."""
    admin = users["admin"]["token"]
    return {
        "here": create(c, admin, full_body(HERE)),
        "near": create(c, admin, full_body(NEAR, name="王建国", phone="13700137000")),
        "far": create(c, admin, full_body(FAR, name="赵淑芬", phone="13600136000")),
    }


def visible(role, community):
    """Whether `role` may see the people of `community` (scopes above are code prefixes)."""
    if role not in READERS:
        return False
    return role == "admin" or community.startswith(ROLES[role])


def audit(c, admin, action):
    st, h, b = c.get(f"/api/v1/audit?limit=1000&action={action}", token=admin)
    assert st == 200, b
    return b["items"]


# --------------------------------------------------------------------------- every role

@pytest.mark.parametrize("role", ALL_ROLES)
def test_list_by_role(c, users, seed, role):
    st, h, b = c.get("/api/v1/people?limit=500", token=users[role]["token"])
    if role not in READERS:
        assert_problem(st, h, b, 403)
        return
    assert st == 200, b
    ids = {p["id"] for p in b["items"]}
    for key, p in seed.items():
        want = visible(role, p["community_code"])
        assert (p["id"] in ids) == want, f"{role} sees {key}: {p['id'] in ids}, want {want}"
    for p in b["items"]:
        assert visible(role, p["community_code"]), (role, p["community_code"])
        assert p["id_number_masked"] or p["id_number"] is None
        assert "*" in (p["phone"] or "*")


@pytest.mark.parametrize("role", ALL_ROLES)
def test_get_in_scope_by_role(c, users, seed, role):
    p = seed["here"]
    st, h, b = c.get(f"/api/v1/people/{p['id']}", token=users[role]["token"])
    if role not in READERS:
        assert_problem(st, h, b, 403)
        return
    assert st == 200, b
    assert b["name"] == "张秀英"
    assert b["id_number"] == p["id_number"] and "********" in b["id_number"]
    assert b["phone"] == "138****8000"
    assert b["id_number_masked"] is True and b["phone_masked"] is True


@pytest.mark.parametrize("role", ALL_ROLES)
def test_get_out_of_scope_by_role(c, users, seed, role):
    """The person in another street: 404 for staff of the street or community,
    403 for roles without access, visible to district-wide roles."""
    p = seed["far"]
    st, h, b = c.get(f"/api/v1/people/{p['id']}", token=users[role]["token"])
    if role not in READERS:
        assert_problem(st, h, b, 403)
    elif role in ("street", "community", "operator"):
        assert_problem(st, h, b, 404)
    else:
        assert st == 200 and b["id"] == p["id"]
    # The neighbouring community of the same street: only the community worker loses sight.
    p = seed["near"]
    st, h, b = c.get(f"/api/v1/people/{p['id']}", token=users[role]["token"])
    if role not in READERS:
        assert_problem(st, h, b, 403)
    elif role == "community":
        assert_problem(st, h, b, 404)
    else:
        assert st == 200 and b["id"] == p["id"]
    # A missing id is the same 404 as a hidden one (for those who may read at all).
    st, h, b = c.get("/api/v1/people/99999999", token=users[role]["token"])
    assert_problem(st, h, b, 404 if role in READERS else 403)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_reveal_by_role(c, users, seed, role):
    p = seed["here"]
    admin = users["admin"]["token"]
    before = len(audit(c, admin, "person.reveal"))
    st, h, b = c.get(f"/api/v1/people/{p['id']}?reveal=id_number,phone",
                     token=users[role]["token"])
    if role in WRITERS:
        assert st == 200, b
        assert b["id_number_masked"] is False and b["phone_masked"] is False
        assert b["phone"] == "13800138000"
        assert b["emergency_contacts"][1]["phone"] == "01065001234"
        assert h.get("Cache-Control") == "no-store"
        entries = audit(c, admin, "person.reveal")
        assert len(entries) == before + 1
        e = entries[0]
        assert e["object"] == f"person:{p['id']}"
        assert e["user_id"] == users[role]["id"]
        assert e["detail"] == {"fields": ["id_number", "phone"]}
        assert e["request_id"] == h.get("X-Request-Id")
    else:
        assert_problem(st, h, b, 403)
        assert len(audit(c, admin, "person.reveal")) == before
    # The phone alone: operators too.
    st, h, b = c.get(f"/api/v1/people/{p['id']}?reveal=phone", token=users[role]["token"])
    if role in WRITERS or role == "operator":
        assert st == 200, b
        assert b["phone"] == "13800138000" and b["id_number_masked"] is True
        assert b["emergency_contacts"][0]["phone"] == "13900139000"
        assert audit(c, admin, "person.reveal")[0]["detail"] == {"fields": ["phone"]}
    else:
        assert_problem(st, h, b, 403)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_create_by_role(c, users, role):
    token = users[role]["token"]
    st, h, b = c.post("/api/v1/people", full_body(HERE, id_number=make_id("19460101")),
                      token=token)
    if role in WRITERS:
        assert st == 201, b
        assert h.get("Location") == f"/api/v1/people/{b['id']}"
        assert b["id_number_masked"] and b["phone"] == "138****8000"
    else:
        assert_problem(st, h, b, 403)
    # Another street: only district-wide writers.
    st, h, b = c.post("/api/v1/people", full_body(FAR, id_number=make_id("19460102")),
                      token=token)
    if role in ("admin", "district"):
        assert st == 201, b
    else:
        assert_problem(st, h, b, 403)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_patch_by_role(c, users, seed, role):
    token = users[role]["token"]
    p = seed["here"]
    st, h, b = c.patch(f"/api/v1/people/{p['id']}", {"address": f"改过的地址 {role}"},
                       token=token)
    if role in WRITERS:
        assert st == 200, b
        assert b["address"] == f"改过的地址 {role}"
        assert b["id_number_masked"] is True
    else:
        assert_problem(st, h, b, 403)
    st, h, b = c.patch(f"/api/v1/people/{seed['far']['id']}", {"address": "x"}, token=token)
    if role in ("admin", "district"):
        assert st == 200, b
    elif role in WRITERS:
        assert_problem(st, h, b, 404)
    else:
        assert_problem(st, h, b, 403)


# --------------------------------------------------------------------------- profiles

def test_created_profile_reads_back_with_computed_fields(c, users):
    admin = users["admin"]["token"]
    idn = make_id("19450315", 21)
    b = create(c, admin, full_body(HERE, id_number=idn.lower(), phone="+86 138-0013-8001"))
    st, h, got = c.get(f"/api/v1/people/{b['id']}?reveal=id_number,phone", token=admin)
    assert st == 200
    assert got["id_number"] == idn  # upper-case X, as stored
    assert got["birth_date"] == "1945-03-15"
    assert got["sex"] == "M"
    assert got["age"] == age_of(datetime.date(1945, 3, 15))
    assert got["phone"] == "13800138001"
    assert got["home"] == {"lat": 39.9052, "lon": 116.4601}
    assert got["community_name"] == "南郎家园社区居委会"
    assert got["care_level"] == "partly_dependent" and got["subsidy_class"] == "dibao"
    assert got["conditions"] == ["高血压", "糖尿病"]
    assert [x["name"] for x in got["emergency_contacts"]] == ["张伟", "李娜"]
    assert got["consent"] is True and got["living_alone"] is True
    assert got["created_at"] and got["updated_at"]


def test_birth_date_sex_and_age_cannot_be_typed(c, users):
    admin = users["admin"]["token"]
    for field, value in (("birth_date", "1950-01-01"), ("sex", "F"), ("age", 70)):
        st, h, b = c.post("/api/v1/people", full_body(**{field: value}), token=admin)
        assert_problem(st, h, b, 422)
        assert field_errors(b).get(field) == "unknown field"


def test_without_id_number_there_is_no_birth_date_or_age(c, users):
    admin = users["admin"]["token"]
    b = create(c, admin, {"name": "无证老人", "community_code": HERE})
    assert b["id_number"] is None and b["birth_date"] is None and b["age"] is None
    assert b["sex"] is None and b["phone"] is None and b["home"] is None
    assert b["care_level"] == "self_care" and b["emergency_contacts"] == []
    assert b["id_number_masked"] is False


def test_create_reports_every_problem(c, users):
    admin = users["admin"]["token"]
    st, h, b = c.post("/api/v1/people", {
        "name": "某", "community_code": "110105001", "id_number": "110105194503150212",
        "phone": "12345", "home": {"lat": 116.4, "lon": 39.9}, "care_level": "bedridden",
        "subsidy_class": "rich", "conditions": ["a;b", 3],
        "emergency_contacts": [{"name": "x"}, {"name": "y", "phone": "1"}]}, token=admin)
    assert_problem(st, h, b, 422)
    errors = field_errors(b)
    for f in ("community_code", "id_number", "phone", "home.lat", "care_level", "subsidy_class",
              "conditions[0]", "conditions[1]", "emergency_contacts[0].phone",
              "emergency_contacts[1].phone"):
        assert f in errors, (f, errors)


@pytest.mark.parametrize("code,why", [
    ("110105001999", "not an area"),   # no such community
    ("110105001000", "community"),     # a street
    ("110106001001", "not an area"),   # another district
])
def test_create_needs_an_existing_community(c, users, code, why):
    st, h, b = c.post("/api/v1/people", {"name": "某", "community_code": code},
                      token=users["admin"]["token"])
    assert_problem(st, h, b, 422)
    assert why in field_errors(b)["community_code"]


def test_duplicate_id_number_is_409_and_changes_nothing(c, users):
    admin = users["admin"]["token"]
    idn = make_id("19500505")
    create(c, admin, full_body(SEARCH_C2, id_number=idn))
    before = len(audit(c, admin, "person.create"))
    st, h, b = c.post("/api/v1/people", full_body(SEARCH_C2, id_number=idn, name="另一人"),
                      token=admin)
    assert_problem(st, h, b, 409)
    assert "id_number" in field_errors(b)
    assert len(audit(c, admin, "person.create")) == before
    st, h, b = c.get(f"/api/v1/people?id_number={idn}", token=admin)
    assert [p["name"] for p in b["items"]] == ["张秀英"]


def test_idempotency_key_replays_the_first_create(c, users):
    admin = users["admin"]["token"]
    body = full_body(SEARCH_C2, id_number=make_id("19510101"), name="幂等")
    st1, h1, b1 = c.post("/api/v1/people", body, token=admin, headers={"Idempotency-Key": "pp-1"})
    st2, h2, b2 = c.post("/api/v1/people", body, token=admin, headers={"Idempotency-Key": "pp-1"})
    assert (st1, st2) == (201, 201)
    assert b1["id"] == b2["id"] and h2.get("Idempotent-Replayed") == "true"
    st, h, b = c.post("/api/v1/people", dict(body, name="别的"), token=admin,
                      headers={"Idempotency-Key": "pp-1"})
    assert_problem(st, h, b, 409)


def test_patch_replaces_lists_and_clears_nullable_fields(c, users):
    admin = users["admin"]["token"]
    p = create(c, admin, full_body(SEARCH_C2, id_number=make_id("19520101")))
    st, h, b = c.patch(f"/api/v1/people/{p['id']}", {
        "emergency_contacts": [{"name": "李娜", "phone": "13500135000"}],
        "conditions": [], "home": None, "disability": None, "care_level": "dependent"},
        token=admin)
    assert st == 200, b
    assert [x["name"] for x in b["emergency_contacts"]] == ["李娜"]
    assert b["emergency_contacts"][0]["relation"] == ""
    assert b["conditions"] == [] and b["home"] is None and b["disability"] is None
    assert b["care_level"] == "dependent" and b["name"] == "张秀英"
    e = audit(c, admin, "person.update")[0]
    assert e["object"] == f"person:{p['id']}"
    assert e["detail"]["changed"] == ["home", "care_level", "disability", "conditions",
                                      "emergency_contacts"]
    st, h, b = c.patch(f"/api/v1/people/{p['id']}", {}, token=admin)
    assert_problem(st, h, b, 422)
    st, h, b = c.patch(f"/api/v1/people/{p['id']}", {"birth_date": "1990-01-01"}, token=admin)
    assert_problem(st, h, b, 422)


def test_moving_a_person_out_of_ones_area_is_403(c, users):
    admin, street = users["admin"]["token"], users["street"]["token"]
    p = create(c, admin, full_body(NEAR, id_number=make_id("19530101")))
    st, h, b = c.patch(f"/api/v1/people/{p['id']}", {"community_code": FAR}, token=street)
    assert_problem(st, h, b, 403)
    st, h, b = c.patch(f"/api/v1/people/{p['id']}", {"community_code": HERE}, token=street)
    assert st == 200 and b["community_code"] == HERE


# --------------------------------------------------------------------------- search

@pytest.fixture(scope="module")
def search_people(c, users):
    admin = users["admin"]["token"]
    specs = [
        # name, birth, community, living_alone, phone
        ("欧阳娜娜", "19400101", SEARCH_C, True, "13811110001"),
        ("欧阳修文", "19500615", SEARCH_C, False, "13811110002"),
        ("司马相如", "19601231", SEARCH_C, True, None),
        ("娜仁", "19450220", SEARCH_C2, False, "13811110004"),
        ("王100%_纯", "19550101", SEARCH_C, False, None),
    ]
    out = {}
    for name, birth, comm, alone, phone in specs:
        body = {"name": name, "id_number": make_id(birth), "community_code": comm,
                "living_alone": alone}
        if phone:
            body["phone"] = phone
        if name == "司马相如":
            body["emergency_contacts"] = [{"name": "卓文君", "relation": "妻子",
                                           "phone": "13811119999"}]
        b = create(c, admin, body)
        b["_id_number"] = body["id_number"]
        b["_birth"] = datetime.date(int(birth[:4]), int(birth[4:6]), int(birth[6:]))
        out[name] = b
    return out


def names(c, token, query):
    st, h, b = c.get("/api/v1/people?limit=500&" + query, token=token)
    assert st == 200, (query, b)
    return [p["name"] for p in b["items"]]


@pytest.mark.parametrize("q,want", [
    ("欧", ["欧阳娜娜", "欧阳修文"]),                 # one character: substring
    ("娜", ["欧阳娜娜"]),
    ("娜娜", ["欧阳娜娜"]),                           # two characters
    ("阳修", ["欧阳修文"]),
    ("阳娜娜", ["欧阳娜娜"]),                         # three: the trigram index
    ("司马相如", ["司马相如"]),
    ("马相如x", []),
    ("%", ["王100%_纯"]),                             # wildcards are plain characters
    ("_", ["王100%_纯"]),
    ("0%_", ["王100%_纯"]),
    ('"欧阳" OR 司马', []),                           # no FTS syntax gets through
])
def test_search_by_name(c, users, search_people, q, want):
    from urllib.parse import quote
    got = names(c, users["admin"]["token"], f"community={SEARCH_C}&q={quote(q)}")
    assert got == want


def test_search_by_short_name_across_communities_and_streets(c, users, search_people):
    from urllib.parse import quote
    admin = users["admin"]["token"]
    assert names(c, admin, f"q={quote('娜')}&street=110105001") == ["欧阳娜娜", "娜仁"]
    assert names(c, admin, f"q={quote('娜仁')}") == ["娜仁"]


def test_search_by_id_number(c, users, search_people):
    admin = users["admin"]["token"]
    p = search_people["欧阳修文"]
    assert names(c, admin, f"id_number={p['_id_number']}") == ["欧阳修文"]
    assert names(c, admin, f"id_number={p['_id_number'].lower()}") == ["欧阳修文"]
    st, h, b = c.get("/api/v1/people?id_number=12345", token=admin)
    assert_problem(st, h, b, 422)
    assert "id_number" in field_errors(b)


def test_search_by_phone_finds_the_person_and_the_contacts_person(c, users, search_people):
    admin = users["admin"]["token"]
    assert names(c, admin, "phone=138-1111-0002") == ["欧阳修文"]
    assert names(c, admin, "phone=13811119999") == ["司马相如"]  # the wife's number
    assert names(c, admin, "phone=13811119998") == []


def test_search_by_community_and_street(c, users, search_people):
    admin = users["admin"]["token"]
    assert names(c, admin, f"community={SEARCH_C2}&q=%E5%A8%9C") == ["娜仁"]
    assert set(names(c, admin, f"community={SEARCH_C}")) == \
        {"欧阳娜娜", "欧阳修文", "司马相如", "王100%_纯"}
    st, h, b = c.get("/api/v1/people?community=110105001", token=admin)
    assert_problem(st, h, b, 422)
    st, h, b = c.get("/api/v1/people?street=110105001026", token=admin)
    assert_problem(st, h, b, 422)


def test_search_by_age_range(c, users, search_people):
    admin = users["admin"]["token"]
    in_c = {n: p for n, p in search_people.items() if p["community_code"] == SEARCH_C}
    ages = {n: age_of(p["_birth"]) for n, p in in_c.items()}
    for lo, hi in [(ages["欧阳修文"], ages["欧阳娜娜"]), (ages["欧阳娜娜"], None),
                   (None, ages["司马相如"]), (ages["王100%_纯"], ages["王100%_纯"])]:
        q = f"community={SEARCH_C}"
        if lo is not None:
            q += f"&age_min={lo}"
        if hi is not None:
            q += f"&age_max={hi}"
        want = sorted((n for n, a in ages.items()
                       if (lo is None or a >= lo) and (hi is None or a <= hi)),
                      key=lambda n: in_c[n]["id"])
        assert names(c, admin, q) == want, (lo, hi, ages)
    for bad in ("age_min=-1", "age_max=abc", "age_min=90&age_max=80", "age_min=151"):
        st, h, b = c.get(f"/api/v1/people?{bad}", token=admin)
        assert_problem(st, h, b, 422)


def test_search_by_living_alone(c, users, search_people):
    admin = users["admin"]["token"]
    assert names(c, admin, f"community={SEARCH_C}&living_alone=true") == ["欧阳娜娜", "司马相如"]
    assert names(c, admin, f"community={SEARCH_C}&living_alone=0") == ["欧阳修文", "王100%_纯"]
    st, h, b = c.get("/api/v1/people?living_alone=maybe", token=admin)
    assert_problem(st, h, b, 422)


def test_search_is_silently_limited_to_the_callers_area(c, users, search_people, seed):
    from urllib.parse import quote
    community = users["community"]["token"]
    assert names(c, community, f"q={quote('欧阳娜娜')}") == []
    assert names(c, community, f"community={SEARCH_C}") == []
    assert names(c, community, "phone=13600136000") == []
    got = names(c, users["street"]["token"], f"q={quote('欧阳')}")
    assert got == ["欧阳娜娜", "欧阳修文"]  # SEARCH_C is in the street
    assert names(c, users["street"]["token"], f"q={quote('赵淑芬')}") == []
    assert names(c, users["auditor"]["token"], f"q={quote('赵淑芬')}") == ["赵淑芬"]


def test_search_pages_with_a_cursor(c, users, search_people):
    admin = users["admin"]["token"]
    seen, cursor = [], None
    for _ in range(10):
        q = f"/api/v1/people?community={SEARCH_C}&limit=3" + (f"&cursor={cursor}" if cursor else "")
        st, h, b = c.get(q, token=admin)
        assert st == 200
        seen += [p["id"] for p in b["items"]]
        cursor = b["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(seen) and len(seen) == 4


def test_search_refuses_unknown_parameters(c, users):
    st, h, b = c.get("/api/v1/people?name=x", token=users["admin"]["token"])
    assert_problem(st, h, b, 422)
    st, h, b = c.get("/api/v1/people/1?reveal=address", token=users["admin"]["token"])
    assert_problem(st, h, b, 422)


def test_masked_reads_are_not_audited(c, users, seed):
    admin = users["admin"]["token"]
    before = len(audit(c, admin, "person.reveal"))
    c.get(f"/api/v1/people/{seed['here']['id']}", token=users["street"]["token"])
    c.get("/api/v1/people?limit=10", token=users["street"]["token"])
    assert len(audit(c, admin, "person.reveal")) == before


# --------------------------------------------------------------------------- CSV

HEADER = ("name,id_number,phone,address,lat,lon,community_code,living_alone,care_level,"
          "disability,subsidy_class,conditions,contact1_name,contact1_relation,contact1_phone,"
          "contact2_name,contact2_relation,contact2_phone,consent")


def write_csv(path, rows):
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(HEADER + "\n")
        for r in rows:
            f.write(r + "\n")
    return str(path)


def test_import_with_bad_rows_changes_nothing_and_reports_each(tmp_path, srv, c, users):
    admin = users["admin"]["token"]
    a, b = make_id("19410101"), make_id("19420202")
    bad_check = a[:-1] + ("0" if a[-1] != "0" else "1")
    path = write_csv(tmp_path / "bad.csv", [
        f"刘一,{a},13812340001,地址1,,,{IMPORT_C},1,自理,,低保,高血压;冠心病,刘二,儿子,13812340002,,,,1",
        f"陈二,{bad_check},13812340003,,,,{IMPORT_C},0,,,,,,,,,,,0",
        f"杨三,{b},13812340004,,,,{IMPORT_C},no,dependent,,tekun,,,,,,,,yes",
        f"黄四,,12345,,,,{IMPORT_C},maybe,,,,,,,,,,,0",
        f"周五,{a},,,,,{IMPORT_C},0,,,,,,,,,,,0",
        f"吴六,,,,,,110105001999,0,,,,,,,,,,,0",
        "郑七,only,three",
        f"孙八,,,,39.9,,{IMPORT_C},0,,,,,,,,,,,0",
    ])
    audits = len(audit(c, admin, "person.import"))
    r = cli("--db", srv.db, "import", "people", path, ok=False)
    assert r.returncode == 1, r.stderr
    err = r.stderr
    for want in ("line 3, field id_number: has a wrong check character",
                 "line 5, field phone:", "line 5, field living_alone:",
                 "line 6, field id_number: appears twice in this import (first on line 2)",
                 "line 7, field community_code: is not a current community",
                 "line 8: has 3 fields where the header has 19",
                 "line 9, field lon: give both lat and lon",
                 "6 of 8 rows", "nothing was imported"):
        assert want in err, (want, err)
    assert "line 2," not in err and "line 4," not in err
    assert names(c, admin, f"community={IMPORT_C}") == []
    assert len(audit(c, admin, "person.import")) == audits

    r = cli("--db", srv.db, "import", "people", path, "--skip-bad")
    assert "Imported 2 people" in r.stdout and "6 bad rows skipped" in r.stdout
    assert names(c, admin, f"community={IMPORT_C}") == ["刘一", "杨三"]
    st, h, p = c.get(f"/api/v1/people?community={IMPORT_C}&limit=1", token=admin)
    got = p["items"][0]
    assert got["subsidy_class"] == "dibao" and got["care_level"] == "self_care"
    assert got["conditions"] == ["高血压", "冠心病"] and got["consent"] is True
    assert got["emergency_contacts"][0]["relation"] == "儿子"
    e = audit(c, admin, "person.import")
    assert len(e) == audits + 1 and e[0]["detail"]["rows"] == 2
    assert e[0]["username"].startswith("cli:")


def test_import_converts_gcj02_home_points(tmp_path, srv, c, users):
    admin = users["admin"]["token"]
    path = write_csv(tmp_path / "gcj.csv", [
        f"钱九,{make_id('19430303')},,,39.907389,116.466033,{IMPORT_C},0,,,,,,,,,,,0"])
    cli("--db", srv.db, "import", "people", path, "--crs", "gcj02")
    st, h, b = c.get(f"/api/v1/people?community={IMPORT_C}&q=%E9%92%B1", token=admin)
    home = b["items"][0]["home"]
    # WGS-84 lies a few hundred metres south-west of GCJ-02 in Beijing.
    dlat, dlon = (39.907389 - home["lat"]) * 111000, (116.466033 - home["lon"]) * 85000
    assert dlat > 0 and dlon > 0 and 200 < (dlat ** 2 + dlon ** 2) ** 0.5 < 800
    r = cli("--db", srv.db, "import", "people", path, "--crs", "bd09", ok=False)
    assert r.returncode != 0


def test_import_refuses_an_unknown_column(tmp_path, srv):
    p = tmp_path / "cols.csv"
    p.write_text("name,community_code,nickname\n甲,110105001028,x\n", encoding="utf-8")
    r = cli("--db", srv.db, "import", "people", str(p), ok=False)
    assert r.returncode == 1 and "unknown column \"nickname\"" in r.stderr


def test_export_round_trip(tmp_path, module_factory, srv, c, users):
    admin = users["admin"]["token"]
    made = [
        create(c, admin, full_body(EXPORT_C, id_number=make_id("19440404"),
                                   name='带"引号",的名字', conditions=["心脏病, 轻度", "哮喘"])),
        create(c, admin, {"name": "简单", "community_code": EXPORT_C}),
        create(c, admin, full_body(EXPORT_C, id_number=make_id("19440505"), name="三个联系人",
                                   emergency_contacts=[
                                       {"name": f"联系人{i}", "phone": f"1390000000{i}"}
                                       for i in range(3)])),
    ]
    out = tmp_path / "people.csv"
    r = cli("--db", srv.db, "export", "people", "--community", EXPORT_C, str(out))
    assert "Exported 3 people" in r.stderr
    assert audit(c, admin, "person.export")[0]["detail"] == {"area": EXPORT_C, "count": 3}
    with open(out, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 3
    for row, p in zip(rows, made):
        st, h, full = c.get(f"/api/v1/people/{p['id']}?reveal=id_number,phone", token=admin)
        assert row["name"] == full["name"]
        assert row["id_number"] == (full["id_number"] or "")
        assert row["phone"] == (full["phone"] or "")
        assert row["conditions"] == ";".join(full["conditions"])
        for i, ct in enumerate(full["emergency_contacts"]):
            assert row[f"contact{i + 1}_phone"] == ct["phone"]
    assert "contact3_name" in rows[0]

    # Into a new database and out again: the same file.
    db2 = module_factory.new_db_path()
    cli("--db", db2, "init", env={"LINLI_ADMIN_PASSWORD": ADMIN_PASSWORD})
    cli("--db", db2, "import", "areas", "--dir", DATA)
    cli("--db", db2, "import", "people", str(out))
    out2 = tmp_path / "again.csv"
    cli("--db", db2, "export", "people", str(out2))
    assert out2.read_bytes() == out.read_bytes()
    # To stdout as well.
    r = cli("--db", db2, "export", "people", "-")
    assert r.stdout.encode() == out.read_bytes()
