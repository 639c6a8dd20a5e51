"""/api/v1/users: creating, reading, changing and listing accounts."""
import pytest

from conftest import assert_problem, field_errors

PW = "user-password-1"


@pytest.fixture(scope="module")
def people(server, client, admin):
    """One passworded user (and a token) for each non-admin role we need."""
    specs = {
        "resident": ("resident", None),
        "auditor": ("auditor", "110105"),
        "community": ("community", "110105001001"),
        "district": ("district", "110105"),
        "street": ("street", "110105001"),
        "operator": ("operator", "110105001"),
    }
    out = {}
    for key, (role, scope) in specs.items():
        name = f"p-{key}"
        u = client.create_user(admin, name, role=role, scope=scope, password=PW)
        out[key] = {"user": u, "token": client.login(name, PW)}
    return out


# ---- create ----

@pytest.mark.parametrize("role,scope,want_scope", [
    ("district", "110105", "110105000000"),
    ("street", "110105001", "110105001000"),
    ("community", "110105001001", "110105001001"),
    ("operator", "110105", "110105000000"),
    ("operator", "110105001001", "110105001001"),
    ("auditor", "110105", "110105000000"),
    ("resident", None, None),
    ("resident", "110105001001", "110105001001"),
    ("volunteer", None, None),
    ("provider", None, None),
    ("admin", None, None),
])
def test_admin_creates_user_of_each_role(client, admin, uniq, role, scope, want_scope):
    name = uniq("r")
    st, h, b = client.post("/api/v1/users",
                           {"username": name, "role": role, "scope": scope,
                            "display_name": f"Name of {name}"}, token=admin)
    assert st == 201, b
    assert b["username"] == name
    assert b["role"] == role
    assert b["scope"] == want_scope
    assert b["display_name"] == f"Name of {name}"
    assert b["disabled"] is False
    assert b["has_password"] is False
    assert isinstance(b["id"], int) and b["id"] > 0
    assert h.get("Location") == f"/api/v1/users/{b['id']}"
    # It is really stored.
    st, h, got = client.get(f"/api/v1/users/{b['id']}", token=admin)
    assert st == 200
    assert got == b


def test_create_with_password_can_log_in(client, admin, uniq):
    name = uniq("pw")
    b = client.create_user(admin, name, role="community", scope="110105001001",
                           password="a-fine-password")
    assert b["has_password"] is True
    assert "password" not in b
    st, h, lb = client.login_status(name, "a-fine-password")
    assert st == 200
    assert lb["user"]["id"] == b["id"]
    assert lb["user"]["scope"] == "110105001001"


@pytest.mark.parametrize("role,scope", [
    ("district", "110105001"),       # street code for a district account
    ("district", "110105001001"),
    ("street", "110105"),
    ("street", "110105001001"),
    ("community", "110105"),
    ("community", "110105001"),
    ("district", None),              # needs a scope
    ("street", None),
    ("community", None),
    ("operator", None),
    ("auditor", None),
    ("admin", "110105"),             # admins have none
    ("community", "11010500100A"),
    ("community", "1101050010"),     # 10 digits
    ("district", "000105"),
    ("district", "110000"),          # province/city level, not district
    ("resident", "12345"),
])
def test_role_scope_mismatch_422(client, admin, uniq, role, scope):
    before = len(client.all_users(admin))
    st, h, b = client.post("/api/v1/users", {"username": uniq("mm"), "role": role, "scope": scope},
                           token=admin)
    assert_problem(st, h, b, 422)
    assert "scope" in field_errors(b), b
    assert len(client.all_users(admin)) == before


def test_unknown_role_422(client, admin, uniq):
    st, h, b = client.post("/api/v1/users", {"username": uniq("ur"), "role": "superuser"},
                           token=admin)
    assert_problem(st, h, b, 422)
    assert "role" in field_errors(b)


def test_duplicate_username_409(client, admin, uniq):
    name = uniq("dup")
    client.create_user(admin, name)
    users_before = len(client.all_users(admin))
    audit_before = len(client.audit(admin))
    st, h, b = client.post("/api/v1/users", {"username": name, "role": "volunteer"}, token=admin)
    assert_problem(st, h, b, 409)
    assert len(client.all_users(admin)) == users_before
    assert len(client.audit(admin)) == audit_before


# ---- permissions ----

@pytest.mark.parametrize("who", ["resident", "auditor", "community", "district", "street",
                                 "operator"])
def test_non_admin_cannot_create_403(client, admin, people, uniq, who):
    before = len(client.all_users(admin))
    st, h, b = client.post("/api/v1/users", {"username": uniq("na"), "role": "resident"},
                           token=people[who]["token"])
    assert_problem(st, h, b, 403)
    assert len(client.all_users(admin)) == before


@pytest.mark.parametrize("who", ["resident", "auditor", "community", "district"])
def test_non_admin_cannot_patch_403(client, admin, people, who):
    target = people["resident"]["user"]
    st, h, b = client.patch(f"/api/v1/users/{target['id']}", {"display_name": "hacked"},
                            token=people[who]["token"])
    assert_problem(st, h, b, 403)
    # Not even their own account.
    me = people[who]["user"]
    st, h, b = client.patch(f"/api/v1/users/{me['id']}", {"role": "admin"},
                            token=people[who]["token"])
    assert_problem(st, h, b, 403)
    st, _, now = client.get(f"/api/v1/users/{target['id']}", token=admin)
    assert now["display_name"] == target["display_name"]
    st, _, now = client.get(f"/api/v1/users/{me['id']}", token=admin)
    assert now["role"] == me["role"]


@pytest.mark.parametrize("who", ["resident", "community", "district", "street", "operator"])
def test_non_admin_cannot_list_403(client, people, who):
    st, h, b = client.get("/api/v1/users", token=people[who]["token"])
    assert_problem(st, h, b, 403)


def test_auditor_may_list(client, admin, people):
    st, h, b = client.get("/api/v1/users?limit=500", token=people["auditor"]["token"])
    assert st == 200, b
    names = {u["username"] for u in b["items"]}
    assert "admin" in names and "p-resident" in names


def test_user_reads_own_record_but_not_others(client, people):
    for key in ["resident", "community", "district"]:
        tok = people[key]["token"]
        me = people[key]["user"]
        st, h, b = client.get(f"/api/v1/users/{me['id']}", token=tok)
        assert st == 200, b
        assert b["id"] == me["id"] and b["username"] == me["username"]
        other = people["auditor"]["user"]
        st, h, b = client.get(f"/api/v1/users/{other['id']}", token=tok)
        assert_problem(st, h, b, 404)
        st, h, b = client.get("/api/v1/users/1", token=tok)  # the admin
        assert_problem(st, h, b, 404)


def test_auditor_reads_any_user(client, people):
    tok = people["auditor"]["token"]
    other = people["resident"]["user"]
    st, h, b = client.get(f"/api/v1/users/{other['id']}", token=tok)
    assert st == 200
    assert b["username"] == other["username"]


def test_get_missing_user_404(client, admin):
    st, h, b = client.get("/api/v1/users/987654", token=admin)
    assert_problem(st, h, b, 404)


# ---- patch ----

def test_patch_display_name(client, admin, uniq):
    u = client.create_user(admin, uniq("pd"), display_name="Old")
    st, h, b = client.patch(f"/api/v1/users/{u['id']}", {"display_name": "新名字 New"}, token=admin)
    assert st == 200, b
    assert b["display_name"] == "新名字 New"
    assert b["role"] == u["role"]
    st, h, got = client.get(f"/api/v1/users/{u['id']}", token=admin)
    assert got["display_name"] == "新名字 New"


def test_patch_role_and_scope(client, admin, uniq):
    u = client.create_user(admin, uniq("prs"), role="community", scope="110105001001")
    st, h, b = client.patch(f"/api/v1/users/{u['id']}", {"role": "district", "scope": "110106"},
                            token=admin)
    assert st == 200, b
    assert b["role"] == "district" and b["scope"] == "110106000000"
    # A role change alone that leaves the scope at the wrong level is refused.
    st, h, b = client.patch(f"/api/v1/users/{u['id']}", {"role": "community"}, token=admin)
    assert_problem(st, h, b, 422)
    assert "scope" in field_errors(b)
    st, h, got = client.get(f"/api/v1/users/{u['id']}", token=admin)
    assert got["role"] == "district" and got["scope"] == "110106000000"
    # Scope alone.
    st, h, b = client.patch(f"/api/v1/users/{u['id']}", {"scope": "110108"}, token=admin)
    assert st == 200 and b["scope"] == "110108000000"
    # Clearing a needed scope is refused.
    st, h, b = client.patch(f"/api/v1/users/{u['id']}", {"scope": None}, token=admin)
    assert_problem(st, h, b, 422)
    # Resident: the scope may be cleared.
    st, h, b = client.patch(f"/api/v1/users/{u['id']}", {"role": "resident", "scope": None},
                            token=admin)
    assert st == 200, b
    assert b["role"] == "resident" and b["scope"] is None


def test_patch_bad_values_422(client, admin, uniq):
    u = client.create_user(admin, uniq("pbv"))
    for body, field in [({"role": "king"}, "role"), ({"scope": "12"}, "scope"),
                        ({"password": "short"}, "password"),
                        ({"display_name": "x" * 65}, "display_name")]:
        st, h, b = client.patch(f"/api/v1/users/{u['id']}", body, token=admin)
        assert_problem(st, h, b, 422)
        assert field in field_errors(b), (body, b)
    st, h, got = client.get(f"/api/v1/users/{u['id']}", token=admin)
    assert got == u


def test_patch_missing_user_404(client, admin):
    st, h, b = client.patch("/api/v1/users/987654", {"display_name": "x"}, token=admin)
    assert_problem(st, h, b, 404)


def test_disable_revokes_sessions_and_blocks_login(client, admin, uniq):
    name = uniq("dis")
    u = client.create_user(admin, name, password=PW)
    tok = client.login(name, PW)
    assert client.get("/api/v1/me", token=tok)[0] == 200
    st, h, b = client.patch(f"/api/v1/users/{u['id']}", {"disabled": True}, token=admin)
    assert st == 200 and b["disabled"] is True
    st, h, b = client.get("/api/v1/me", token=tok)
    assert_problem(st, h, b, 401)
    st, h, b = client.login_status(name, PW)
    assert_problem(st, h, b, 401)
    # Enabling again lets them log in; the old token stays dead.
    st, h, b = client.patch(f"/api/v1/users/{u['id']}", {"disabled": False}, token=admin)
    assert st == 200 and b["disabled"] is False
    assert client.get("/api/v1/me", token=tok)[0] == 401
    tok2 = client.login(name, PW)
    assert client.get("/api/v1/me", token=tok2)[0] == 200


def test_password_change_ends_sessions(client, admin, uniq):
    name = uniq("cpw")
    u = client.create_user(admin, name, password=PW)
    tok = client.login(name, PW)
    st, h, b = client.patch(f"/api/v1/users/{u['id']}", {"password": "brand-new-password"},
                            token=admin)
    assert st == 200, b
    assert b["has_password"] is True
    assert "password" not in b
    st, h, b = client.get("/api/v1/me", token=tok)
    assert_problem(st, h, b, 401)
    assert client.login_status(name, PW)[0] == 401
    tok2 = client.login(name, "brand-new-password")
    assert client.get("/api/v1/me", token=tok2)[0] == 200


def test_password_set_for_passwordless_user(client, admin, uniq):
    name = uniq("npw")
    u = client.create_user(admin, name)
    assert u["has_password"] is False
    st, h, b = client.patch(f"/api/v1/users/{u['id']}", {"password": "first-password"},
                            token=admin)
    assert st == 200 and b["has_password"] is True
    assert client.login_status(name, "first-password")[0] == 200


def test_role_change_ends_sessions(client, admin, uniq):
    name = uniq("rc")
    u = client.create_user(admin, name, role="resident", password=PW)
    tok = client.login(name, PW)
    st, h, b = client.patch(f"/api/v1/users/{u['id']}", {"role": "volunteer"}, token=admin)
    assert st == 200
    assert client.get("/api/v1/me", token=tok)[0] == 401


def test_display_name_change_keeps_sessions(client, admin, uniq):
    name = uniq("dn")
    u = client.create_user(admin, name, password=PW)
    tok = client.login(name, PW)
    st, h, b = client.patch(f"/api/v1/users/{u['id']}", {"display_name": "Still Here"},
                            token=admin)
    assert st == 200
    st, h, me = client.get("/api/v1/me", token=tok)
    assert st == 200 and me["display_name"] == "Still Here"


def test_admin_cannot_disable_self_409(client, admin):
    st, h, me = client.get("/api/v1/me", token=admin)
    audit_before = [e["id"] for e in client.audit(admin)]
    st, h, b = client.patch(f"/api/v1/users/{me['id']}", {"disabled": True}, token=admin)
    assert_problem(st, h, b, 409)
    st, h, b = client.patch(f"/api/v1/users/{me['id']}", {"role": "resident"}, token=admin)
    assert_problem(st, h, b, 409)
    st, h, now = client.get("/api/v1/me", token=admin)
    assert st == 200
    assert now["disabled"] is False and now["role"] == "admin"
    assert [e["id"] for e in client.audit(admin)] == audit_before


# ---- list ----

def test_pagination_walks_all_users_once(client, admin, uniq):
    for i in range(7):
        client.create_user(admin, uniq("pg"))
    full = client.get("/api/v1/users?limit=500", token=admin)[2]
    assert full["next_cursor"] is None
    all_ids = [u["id"] for u in full["items"]]
    assert all_ids == sorted(all_ids)
    assert len(all_ids) >= 8
    seen, cursor, pages = [], None, 0
    while True:
        path = "/api/v1/users?limit=3" + (f"&cursor={cursor}" if cursor else "")
        st, h, b = client.get(path, token=admin)
        assert st == 200, b
        assert len(b["items"]) <= 3
        seen.extend(u["id"] for u in b["items"])
        pages += 1
        cursor = b["next_cursor"]
        if cursor is None:
            break
        assert len(b["items"]) == 3
        assert pages < 1000
    assert seen == all_ids
    assert len(set(seen)) == len(seen)
    assert pages == (len(all_ids) + 2) // 3


def test_list_role_filter(client, admin, uniq):
    client.create_user(admin, uniq("vf"), role="volunteer")
    st, h, b = client.get("/api/v1/users?role=volunteer&limit=500", token=admin)
    assert st == 200
    assert b["items"] and all(u["role"] == "volunteer" for u in b["items"])
    st, h, b = client.get("/api/v1/users?role=emperor", token=admin)
    assert_problem(st, h, b, 422)


def test_bad_cursor_422(client, admin):
    for c in ["garbage", "c", "c11", "x123", "c" + "z" * 20]:
        st, h, b = client.get(f"/api/v1/users?cursor={c}", token=admin)
        assert_problem(st, h, b, 422)
        assert "cursor" in field_errors(b), (c, b)
    # A real cursor with its check digit altered is refused too.
    st, h, b = client.get("/api/v1/users?limit=1", token=admin)
    good = b["next_cursor"]
    assert good
    last = good[-1]
    alt = "0" if last != "0" else "1"
    st, h, b = client.get(f"/api/v1/users?cursor={good[:-1] + alt}", token=admin)
    assert_problem(st, h, b, 422)
