"""Login, tokens, /me (with the case units the account acts for) and logout."""
import base64
import os

from conftest import (ADMIN_PASSWORD, SHARED_FLAGS, SOURCE_DIR, assert_problem, field_errors,
                      run_cli)


def test_login_ok_returns_token_expiry_and_user(client):
    st, h, b = client.post("/api/v1/auth/login", {"username": "admin", "password": ADMIN_PASSWORD})
    assert st == 200, b
    assert h.get("Content-Type").startswith("application/json")
    assert isinstance(b["token"], str) and b["token"].startswith("lnl_")
    assert b["token_type"] == "Bearer"
    assert isinstance(b["expires_at"], str) and b["expires_at"].endswith("Z")
    u = b["user"]
    assert u["username"] == "admin"
    assert u["role"] == "admin"
    assert u["scope"] is None
    assert u["disabled"] is False
    assert u["has_password"] is True
    assert "password" not in u and "password_hash" not in u
    assert h.get("X-Request-Id")
    assert h.get("Cache-Control") == "no-store"


def test_login_wrong_password_and_unknown_user_same_401(client):
    st1, h1, b1 = client.post("/api/v1/auth/login",
                              {"username": "admin", "password": "not-the-password"})
    st2, h2, b2 = client.post("/api/v1/auth/login",
                              {"username": "nosuchuser", "password": "not-the-password"})
    assert_problem(st1, h1, b1, 401)
    assert_problem(st2, h2, b2, 401)
    assert b1["detail"] == b2["detail"]
    assert b1["title"] == b2["title"]
    assert "token" not in b1 and "token" not in b2


def test_login_disabled_or_passwordless_user_401_same_detail(client, admin, uniq):
    name = uniq("nopw")
    client.create_user(admin, name, role="resident")  # no password
    st, h, b = client.post("/api/v1/auth/login", {"username": name, "password": "whatever-pw"})
    assert_problem(st, h, b, 401)
    st2, h2, b2 = client.post("/api/v1/auth/login",
                              {"username": "nosuchuser2", "password": "whatever-pw"})
    assert b["detail"] == b2["detail"]


def test_login_missing_fields_422(client):
    st, h, b = client.post("/api/v1/auth/login", {"username": "admin"})
    assert_problem(st, h, b, 422)
    assert "password" in field_errors(b)


def test_me_with_token(client, admin):
    st, h, b = client.get("/api/v1/me", token=admin)
    assert st == 200, b
    assert b["username"] == "admin"
    assert b["role"] == "admin"
    assert isinstance(b["id"], int)


def test_logout_then_token_is_rejected(client):
    tok = client.login("admin", ADMIN_PASSWORD)
    st, _, _ = client.get("/api/v1/me", token=tok)
    assert st == 200
    st, h, body = client.post("/api/v1/auth/logout", token=tok)
    assert st == 204, body
    assert body == ""
    st, h, b = client.get("/api/v1/me", token=tok)
    assert_problem(st, h, b, 401)
    # Logging out again with the dead token is also 401.
    st, h, b = client.post("/api/v1/auth/logout", token=tok)
    assert_problem(st, h, b, 401)


def test_logout_ends_only_that_session(client):
    t1 = client.login("admin", ADMIN_PASSWORD)
    t2 = client.login("admin", ADMIN_PASSWORD)
    assert t1 != t2
    assert client.post("/api/v1/auth/logout", token=t1)[0] == 204
    assert client.get("/api/v1/me", token=t1)[0] == 401
    assert client.get("/api/v1/me", token=t2)[0] == 200


def test_forged_token_401(client):
    forged = "lnl_" + base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
    assert len(forged) == 4 + 43
    st, h, b = client.get("/api/v1/me", token=forged)
    assert_problem(st, h, b, 401)
    assert "Bearer" in (h.get("WWW-Authenticate") or "")


def test_malformed_tokens_401(client, admin):
    for bad in ["abc", "lnl_", "lnl_short", admin + "x", admin[:-1], "lnl_" + "!" * 43,
                admin.replace("lnl_", "xyz_")]:
        st, h, b = client.get("/api/v1/me", token=bad)
        assert_problem(st, h, b, 401)


def test_missing_token_401(client):
    st, h, b = client.get("/api/v1/me")
    assert_problem(st, h, b, 401)
    assert (h.get("WWW-Authenticate") or "").startswith("Bearer")
    st, h, b = client.get("/api/v1/users")
    assert_problem(st, h, b, 401)
    st, h, b = client.get("/api/v1/audit")
    assert_problem(st, h, b, 401)


def test_wrong_auth_scheme_401(client, admin):
    st, h, b = client.get("/api/v1/me", headers={"Authorization": "Basic YWRtaW46eA=="})
    assert_problem(st, h, b, 401)
    st, h, b = client.get("/api/v1/me", headers={"Authorization": admin})
    assert_problem(st, h, b, 401)


def test_unauthenticated_write_changes_nothing(client, admin, uniq):
    before = len(client.all_users(admin))
    st, h, b = client.post("/api/v1/users", {"username": uniq("x"), "role": "resident"})
    assert_problem(st, h, b, 401)
    st, h, b = client.post("/api/v1/users", {"username": uniq("x"), "role": "resident"},
                           token="lnl_" + "A" * 43)
    assert_problem(st, h, b, 401)
    assert len(client.all_users(admin)) == before


def test_me_lists_the_case_units_the_account_acts_for(module_factory):
    db = module_factory.new_db_path()
    r = run_cli(["--db", db, "init"], env={"LINLI_ADMIN_PASSWORD": ADMIN_PASSWORD})
    assert r.returncode == 0, r.stderr
    r = run_cli(["--db", db, "import", "areas", "--dir",
                 os.path.join(SOURCE_DIR, "data", "chaoyang")])
    assert r.returncode == 0, r.stderr
    srv = module_factory.start(*SHARED_FLAGS, db=db)
    c, admin, pw = srv.client, srv.admin_token(), "me-units-pw-1"
    ids, toks = {}, {}
    for name, role, scope in (("community", "community", "110105001024"),
                              ("street", "street", "110105001"),
                              ("dept", "district", "110105"),
                              ("resident", "resident", None)):
        ids[name] = c.create_user(admin, f"me-{name}", role=role, scope=scope, password=pw)["id"]
        toks[name] = c.login(f"me-{name}", pw)
    for unit in ("dept-cgj", "dept-sw"):
        st, h, b = c.post(f"/api/v1/units/{unit}/members", {"user_id": ids["dept"]}, token=admin)
        assert st == 201, b
    # The street account is also a member of a community unit.
    st, h, b = c.post("/api/v1/units/110105001025/members", {"user_id": ids["street"]},
                      token=admin)
    assert st == 201, b

    def units(name):
        st, h, b = c.get("/api/v1/me", token=toks[name] if name != "admin" else admin)
        assert st == 200, b
        assert set(b) >= {"id", "username", "role", "units", "all_units"}, b
        return b["all_units"], b["units"]

    every, got = units("community")
    assert not every and got == [{"code": "110105001024", "kind": "community",
                                  "name_zh": "南郎家园社区居委会", "name_en": None}], got
    every, got = units("street")
    assert not every and sorted((u["code"], u["kind"]) for u in got) == [
        ("110105001000", "street"), ("110105001025", "community")], got
    assert all(u["name_zh"] for u in got), got
    # A district account in departments acts only through them.
    every, got = units("dept")
    assert not every and [(u["code"], u["kind"]) for u in got] == [
        ("dept-cgj", "department"), ("dept-sw", "department")], got
    assert got[0]["name_zh"] == "区城管执法局" and got[0]["name_en"], got
    assert units("resident") == (False, [])
    assert units("admin") == (True, [])
