"""POST /api/v1/me/password: people change their own password; a password an
admin set is flagged for its owner to change."""
import json
import sqlite3

import pytest

from conftest import (ADMIN_PASSWORD, SSEStream, assert_problem, field_errors, run_cli)

PW = "account-test-pw-1"
NEW = "account-test-pw-2"


def make_user(client, admin, uniq, prefix="acc", password=PW, **kw):
    name = uniq(prefix)
    u = client.create_user(admin, name, password=password, **kw)
    return name, u


def change(client, token, current, new):
    return client.post("/api/v1/me/password",
                       {"current_password": current, "new_password": new}, token=token)


def changes_for(client, admin, user_id):
    return [e for e in client.audit(admin, "&action=user.password_change")
            if e["user_id"] == user_id]


def test_change_keeps_this_session_and_ends_the_others(client, admin, uniq):
    name, u = make_user(client, admin, uniq)
    mine = client.login(name, PW)
    others = [client.login(name, PW), client.login(name, PW)]
    st, h, b = change(client, mine, PW, NEW)
    assert st == 204, b
    assert b == ""
    st, h, me = client.get("/api/v1/me", token=mine)
    assert st == 200, me
    assert me["username"] == name
    for tok in others:
        st, h, b = client.get("/api/v1/me", token=tok)
        assert_problem(st, h, b, 401)
    # The new password logs in, the old one does not.
    st, h, b = client.login_status(name, PW)
    assert_problem(st, h, b, 401)
    st, h, b = client.login_status(name, NEW)
    assert st == 200, b
    assert b["user"]["id"] == u["id"]


def test_change_with_another_account_untouched(client, admin, uniq):
    name, u = make_user(client, admin, uniq)
    bystander, _ = make_user(client, admin, uniq, prefix="accb")
    theirs = client.login(bystander, PW)
    assert change(client, client.login(name, PW), PW, NEW)[0] == 204
    assert client.get("/api/v1/me", token=theirs)[0] == 200
    assert client.login_status(bystander, PW)[0] == 200


def test_other_sessions_streams_end_and_this_one_stays(server, client, admin, uniq):
    name, u = make_user(client, admin, uniq, role="auditor", scope="110105")
    mine, other = client.login(name, PW), client.login(name, PW)
    s_mine = SSEStream(server.port, token=mine)
    s_other = SSEStream(server.port, token=other)
    try:
        assert s_mine.status == 200 and s_other.status == 200
        s_mine.next(timeout=10)
        s_other.next(timeout=10)
        assert change(client, mine, PW, NEW)[0] == 204
        assert s_other.ended.wait(10), "the other session's stream is still open"
        # This session's stream goes on: an event published afterwards arrives.
        marker = uniq("accm")
        client.create_user(admin, marker)
        ev = s_mine.wait_for(lambda e: e["event"] == "user.created"
                             and json.loads(e["data"])["username"] == marker, timeout=10)
        assert ev is not None, "the stream of the session that changed the password ended"
    finally:
        s_mine.close()
        s_other.close()


def test_wrong_current_password_changes_nothing(client, admin, uniq):
    name, u = make_user(client, admin, uniq)
    mine, other = client.login(name, PW), client.login(name, PW)
    audit_before = [e["id"] for e in client.audit(admin)]
    st, h, b = change(client, mine, "not-the-password", NEW)
    assert_problem(st, h, b, 422)
    assert field_errors(b) == {"current_password": "is not your current password"}
    assert "nothing was changed" in b["detail"]
    # Nothing was written to the audit log; both sessions live; the new
    # password does not log in, the old one does.
    assert [e["id"] for e in client.audit(admin)] == audit_before
    assert client.get("/api/v1/me", token=mine)[0] == 200
    assert client.get("/api/v1/me", token=other)[0] == 200
    assert client.login_status(name, NEW)[0] == 401
    assert client.login_status(name, PW)[0] == 200


def messages_from_admin_create(client, admin, uniq, password):
    st, h, b = client.post("/api/v1/users",
                           {"username": uniq("accw"), "role": "resident", "password": password},
                           token=admin)
    assert_problem(st, h, b, 422)
    return field_errors(b)["password"]


@pytest.mark.parametrize("bad", [
    "short",              # under 8 characters
    "七个汉字的密码",        # 7 characters (21 bytes): characters count, not bytes
    "x" * 129,            # over 128 characters
    "密" * 50,            # 50 characters but 150 bytes: over 128 bytes
])
def test_weak_or_long_new_password_refused_as_admin_create_refuses_it(client, admin, uniq, bad):
    name, u = make_user(client, admin, uniq)
    mine = client.login(name, PW)
    want = messages_from_admin_create(client, admin, uniq, bad)
    st, h, b = change(client, mine, PW, bad)
    assert_problem(st, h, b, 422)
    assert field_errors(b) == {"new_password": want}
    assert client.login_status(name, PW)[0] == 200
    assert client.get("/api/v1/me", token=mine)[0] == 200
    assert changes_for(client, admin, u["id"]) == []


def test_new_equal_to_current_refused(client, admin, uniq):
    name, u = make_user(client, admin, uniq)
    mine, other = client.login(name, PW), client.login(name, PW)
    st, h, b = change(client, mine, PW, PW)
    assert_problem(st, h, b, 422)
    assert field_errors(b) == {"new_password": "must differ from the current password"}
    assert client.get("/api/v1/me", token=other)[0] == 200
    assert changes_for(client, admin, u["id"]) == []


def test_missing_and_unknown_fields_refused(client, admin, uniq):
    name, u = make_user(client, admin, uniq)
    mine = client.login(name, PW)
    st, h, b = client.post("/api/v1/me/password", {"new_password": NEW}, token=mine)
    assert_problem(st, h, b, 422)
    assert "current_password" in field_errors(b)
    st, h, b = client.post("/api/v1/me/password",
                           {"current_password": PW, "new_password": NEW, "password": NEW},
                           token=mine)
    assert_problem(st, h, b, 422)
    assert "password" in field_errors(b)
    st, h, b = client.post("/api/v1/me/password", "not json", token=mine)
    assert_problem(st, h, b, 400)
    assert client.login_status(name, PW)[0] == 200


def test_without_a_token_401(client, admin, uniq):
    name, u = make_user(client, admin, uniq)
    st, h, b = client.post("/api/v1/me/password", {"current_password": PW, "new_password": NEW})
    assert_problem(st, h, b, 401)
    assert (h.get("WWW-Authenticate") or "").startswith("Bearer")
    st, h, b = client.post("/api/v1/me/password", {"current_password": PW, "new_password": NEW},
                           token="lnl_" + "A" * 43)
    assert_problem(st, h, b, 401)
    assert client.login_status(name, PW)[0] == 200


def test_disabled_account_cannot(client, admin, uniq):
    name, u = make_user(client, admin, uniq)
    mine = client.login(name, PW)
    assert client.patch(f"/api/v1/users/{u['id']}", {"disabled": True}, token=admin)[0] == 200
    st, h, b = change(client, mine, PW, NEW)
    assert_problem(st, h, b, 401)
    client.patch(f"/api/v1/users/{u['id']}", {"disabled": False}, token=admin)
    assert client.login_status(name, PW)[0] == 200


def test_audited_without_the_passwords(client, admin, uniq):
    name, u = make_user(client, admin, uniq, password="audit-old-secret-1")
    mine = client.login(name, "audit-old-secret-1")
    client.login(name, "audit-old-secret-1")
    st, h, b = change(client, mine, "audit-old-secret-1", "audit-new-secret-2")
    assert st == 204, b
    rid = h.get("X-Request-Id")
    entries = changes_for(client, admin, u["id"])
    assert len(entries) == 1
    e = entries[0]
    assert e["username"] == name
    assert e["object"] == f"user:{u['id']}"
    assert e["request_id"] == rid
    assert e["ip"] == "127.0.0.1"
    assert e["detail"] == {"other_sessions_ended": 1}
    st, h, raw = client.get("/api/v1/audit?limit=1000", token=admin)
    text = json.dumps(raw)
    assert "audit-old-secret-1" not in text and "audit-new-secret-2" not in text


def test_any_role_may_change_its_own(client, admin, uniq):
    for role, scope in [("resident", None), ("community", "110105001001"),
                        ("operator", "110105"), ("auditor", "110105")]:
        name, u = make_user(client, admin, uniq, prefix="accr", role=role, scope=scope)
        assert change(client, client.login(name, PW), PW, NEW)[0] == 204, role
        assert client.login_status(name, NEW)[0] == 200


def test_admin_changes_own_password_through_it(server_factory):
    srv = server_factory.start()
    c = srv.client
    tok = srv.admin_token()
    st, h, b = change(c, tok, ADMIN_PASSWORD, "admin-new-pw-1")
    assert st == 204, b
    assert c.login_status("admin", "admin-new-pw-1")[0] == 200
    assert c.login_status("admin", ADMIN_PASSWORD)[0] == 401


def test_wrong_current_passwords_count_as_failed_logins(server_factory):
    srv = server_factory.start("--login-max-failures", 3, "--login-max-failures-ip", 100,
                               "--login-window", 120)
    c = srv.client
    admin = srv.admin_token()
    c.create_user(admin, "limited", password=PW)
    tok = c.login("limited", PW)
    for i in range(3):
        st, h, b = change(c, tok, f"wrong-{i}-password", NEW)
        assert_problem(st, h, b, 422)
    # Past the limit: even the right current password is refused, and so is
    # a login with the right password.
    st, h, b = change(c, tok, PW, NEW)
    assert_problem(st, h, b, 429)
    assert h.get("Retry-After", "").isdigit()
    st, h, b = c.login_status("limited", PW)
    assert_problem(st, h, b, 429)
    # The session is not ended by it, and nothing changed.
    assert c.get("/api/v1/me", token=tok)[0] == 200
    con = sqlite3.connect(srv.db)
    n = con.execute("SELECT count(*) FROM audit_log WHERE action = 'user.password_change'")
    assert n.fetchone()[0] == 0
    con.close()


def test_a_blank_current_password_is_required_not_counted(server_factory):
    srv = server_factory.start("--login-max-failures", 2, "--login-max-failures-ip", 100,
                               "--login-window", 120)
    c = srv.client
    c.create_user(srv.admin_token(), "blank", password=PW)
    tok = c.login("blank", PW)
    for _ in range(3):
        st, h, b = change(c, tok, "", NEW)
        assert_problem(st, h, b, 422)
        assert field_errors(b) == {"current_password": "is required"}
    assert change(c, tok, PW, NEW)[0] == 204


def test_failed_logins_count_against_a_change_too(server_factory):
    srv = server_factory.start("--login-max-failures", 3, "--login-max-failures-ip", 100,
                               "--login-window", 120)
    c = srv.client
    c.create_user(srv.admin_token(), "guessed", password=PW)
    tok = c.login("guessed", PW)
    for i in range(3):
        assert c.login_status("guessed", f"wrong-{i}-password")[0] == 401
    st, h, b = change(c, tok, PW, NEW)
    assert_problem(st, h, b, 429)


# ---- must_change_password ----

def test_admin_reset_asks_the_owner_to_choose_one(client, admin, uniq):
    name, u = make_user(client, admin, uniq)
    assert u["must_change_password"] is False
    st, h, b = client.patch(f"/api/v1/users/{u['id']}", {"password": "set-by-admin-1"},
                            token=admin)
    assert st == 200, b
    assert b["must_change_password"] is True
    st, h, b = client.login_status(name, "set-by-admin-1")
    assert st == 200, b
    assert b["user"]["must_change_password"] is True
    tok = b["token"]
    assert client.get("/api/v1/me", token=tok)[2]["must_change_password"] is True
    assert change(client, tok, "set-by-admin-1", NEW)[0] == 204
    assert client.get("/api/v1/me", token=tok)[2]["must_change_password"] is False
    assert client.login_status(name, NEW)[2]["user"]["must_change_password"] is False
    # Another change by the admin (not the password) leaves the flag alone.
    st, h, b = client.patch(f"/api/v1/users/{u['id']}", {"display_name": "X"}, token=admin)
    assert b["must_change_password"] is False


def test_admin_setting_own_password_is_not_flagged(server_factory):
    srv = server_factory.start()
    c = srv.client
    tok = srv.admin_token()
    me = c.get("/api/v1/me", token=tok)[2]
    st, h, b = c.patch(f"/api/v1/users/{me['id']}", {"password": "admin-own-pw-2"}, token=tok)
    assert st == 200, b
    assert b["must_change_password"] is False


def test_command_line_reset_is_not_flagged(server_factory, tmp_path):
    srv = server_factory.start()
    c = srv.client
    c.create_user(srv.admin_token(), "clireset", password=PW)
    r = run_cli(["--db", srv.db, "user", "passwd", "clireset"], input="cli-set-pw-1\n")
    assert r.returncode == 0, r.stderr
    st, h, b = c.login_status("clireset", "cli-set-pw-1")
    assert st == 200, b
    assert b["user"]["must_change_password"] is False


def test_database_from_before_the_flag_is_upgraded(server_factory, tmp_path):
    """A database made before schema step 12 opens; its accounts log in
    unflagged and may change their passwords."""
    db = str(tmp_path / "old.db")
    srv = server_factory.start(db=db)
    srv.client.create_user(srv.admin_token(), "oldtimer", password=PW)
    server_factory.stop(srv)
    con = sqlite3.connect(db)
    version = con.execute("PRAGMA user_version").fetchone()[0]
    assert version >= 12
    con.execute("ALTER TABLE users DROP COLUMN must_change_password")
    con.execute("PRAGMA user_version = 11")
    con.commit()
    con.close()
    srv = server_factory.start(db=db)
    c = srv.client
    st, h, b = c.login_status("oldtimer", PW)
    assert st == 200, b
    assert b["user"]["must_change_password"] is False
    assert change(c, b["token"], PW, NEW)[0] == 204
    server_factory.stop(srv)
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA user_version").fetchone()[0] == version
    con.close()
