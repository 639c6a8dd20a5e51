"""/api/v1/audit: what is recorded, who may read it, filters and paging."""
import pytest

from conftest import ADMIN_PASSWORD, assert_problem, field_errors

PW = "audit-test-password"


@pytest.fixture(scope="module")
def readers(client, admin):
    out = {}
    for name, role, scope in [("a-auditor", "auditor", "110105"),
                              ("a-resident", "resident", None),
                              ("a-community", "community", "110105001001"),
                              ("a-district", "district", "110105")]:
        client.create_user(admin, name, role=role, scope=scope, password=PW)
        out[role] = client.login(name, PW)
    return out


def find(entries, **want):
    return [e for e in entries if all(e.get(k) == v for k, v in want.items())]


def test_login_is_audited_with_ip_and_request_id(client, admin):
    st, h, b = client.post("/api/v1/auth/login", {"username": "admin", "password": ADMIN_PASSWORD})
    assert st == 200
    rid = h.get("X-Request-Id")
    entries = client.audit(admin, "&action=auth.login")
    mine = find(entries, request_id=rid)
    assert len(mine) == 1, entries[:5]
    e = mine[0]
    assert e["action"] == "auth.login"
    assert e["username"] == "admin"
    assert e["user_id"] == b["user"]["id"]
    assert e["ip"] == "127.0.0.1"
    assert isinstance(e["at"], str) and e["at"]


def test_failed_login_creates_no_session_entry(client, admin):
    before = len(client.audit(admin, "&action=auth.login"))
    assert client.login_status("admin", "wrong-password-x")[0] == 401
    assert len(client.audit(admin, "&action=auth.login")) == before


def test_user_create_is_audited(client, admin, uniq):
    name = uniq("au")
    st, h, b = client.post("/api/v1/users", {"username": name, "role": "community",
                                             "scope": "110105001001"}, token=admin)
    assert st == 201
    rid = h.get("X-Request-Id")
    entries = client.audit(admin, "&action=user.create")
    mine = find(entries, request_id=rid)
    assert len(mine) == 1
    e = mine[0]
    assert e["username"] == "admin"
    assert e["ip"] == "127.0.0.1"
    assert e["object"] == f"user:{b['id']}"
    assert e["detail"]["username"] == name
    assert e["detail"]["role"] == "community"
    assert e["detail"]["scope"] == "110105001001"
    # Newest first: it is at the head of the log.
    assert client.audit(admin)[0]["id"] == e["id"]


def test_user_update_is_audited(client, admin, uniq):
    name = uniq("auu")
    u = client.create_user(admin, name)
    st, h, b = client.patch(f"/api/v1/users/{u['id']}", {"display_name": "Changed",
                                                        "disabled": True}, token=admin)
    assert st == 200
    rid = h.get("X-Request-Id")
    mine = find(client.audit(admin, "&action=user.update"), request_id=rid)
    assert len(mine) == 1
    e = mine[0]
    assert e["username"] == "admin"
    assert e["ip"] == "127.0.0.1"
    assert e["object"] == f"user:{u['id']}"
    assert e["detail"]["username"] == name
    assert sorted(e["detail"]["changed"]) == ["disabled", "display_name"]
    assert e["detail"]["disabled"] is True


def test_password_never_in_audit(client, admin, uniq):
    name = uniq("apw")
    u = client.create_user(admin, name, password="secret-pw-in-audit")
    client.patch(f"/api/v1/users/{u['id']}", {"password": "other-secret-pw-in-audit"}, token=admin)
    st, h, b = client.get("/api/v1/audit?limit=1000", token=admin)
    text = str(b)
    assert "secret-pw-in-audit" not in text


def test_logout_is_audited(client, admin):
    tok = client.login("admin", ADMIN_PASSWORD)
    st, h, _ = client.post("/api/v1/auth/logout", token=tok)
    assert st == 204
    mine = find(client.audit(admin, "&action=auth.logout"), request_id=h.get("X-Request-Id"))
    assert len(mine) == 1 and mine[0]["username"] == "admin"


def test_admin_and_auditor_may_read(client, admin, readers):
    for tok in (admin, readers["auditor"]):
        st, h, b = client.get("/api/v1/audit", token=tok)
        assert st == 200, b
        assert isinstance(b["items"], list) and b["items"]
        assert "next_cursor" in b


@pytest.mark.parametrize("role", ["resident", "community", "district"])
def test_others_may_not_read_403(client, readers, role):
    st, h, b = client.get("/api/v1/audit", token=readers[role])
    assert_problem(st, h, b, 403)


def test_filter_action_prefix(client, admin, uniq):
    u = client.create_user(admin, uniq("afp"))
    client.patch(f"/api/v1/users/{u['id']}", {"display_name": "p"}, token=admin)
    entries = client.audit(admin, "&action=user.")
    assert entries
    assert all(e["action"].startswith("user.") for e in entries)
    actions = {e["action"] for e in entries}
    assert {"user.create", "user.update"} <= actions
    # An exact action matches only itself; a prefix needs the trailing dot.
    exact = client.audit(admin, "&action=user.create")
    assert exact and all(e["action"] == "user.create" for e in exact)
    assert client.audit(admin, "&action=user") == []
    all_entries = client.audit(admin)
    assert len(entries) == sum(1 for e in all_entries if e["action"].startswith("user."))


def test_filter_user_id(client, admin, readers):
    st, h, me = client.get("/api/v1/me", token=readers["auditor"])
    entries = client.audit(admin, f"&user_id={me['id']}")
    assert entries, "the auditor's login should be in the log"
    assert all(e["user_id"] == me["id"] for e in entries)
    assert any(e["action"] == "auth.login" for e in entries)
    assert client.audit(admin, "&user_id=987654") == []


def test_bad_filters_422(client, admin):
    for q, field in [("user_id=abc", "user_id"), ("user_id=0", "user_id"),
                     ("since=yesterday", "since"), ("until=2026-13-99", "until"),
                     ("limit=0", "limit"), ("limit=1001", "limit"), ("cursor=zzz", "cursor")]:
        st, h, b = client.get("/api/v1/audit?" + q, token=admin)
        assert_problem(st, h, b, 422)
        assert field in field_errors(b), (q, b)


def test_cursor_paging_walks_log_once(client, admin, uniq):
    for _ in range(4):
        client.create_user(admin, uniq("acp"))
    full = client.audit(admin)
    ids = [e["id"] for e in full]
    assert ids == sorted(ids, reverse=True)
    seen, cursor, pages = [], None, 0
    while True:
        q = "/api/v1/audit?limit=4" + (f"&cursor={cursor}" if cursor else "")
        st, h, b = client.get(q, token=admin)
        assert st == 200, b
        assert len(b["items"]) <= 4
        seen.extend(e["id"] for e in b["items"])
        pages += 1
        cursor = b["next_cursor"]
        if not cursor:
            break
        assert len(b["items"]) == 4
        assert pages < 10000
    # Listing writes no audit entries, so the walk sees exactly the snapshot.
    assert seen == ids
    assert pages == (len(ids) + 3) // 4


def test_cursor_paging_with_filter(client, admin):
    full = client.audit(admin, "&action=user.")
    seen, cursor = [], None
    for _ in range(10000):
        q = "/api/v1/audit?limit=2&action=user." + (f"&cursor={cursor}" if cursor else "")
        st, h, b = client.get(q, token=admin)
        assert st == 200
        seen.extend(e["id"] for e in b["items"])
        cursor = b["next_cursor"]
        if not cursor:
            break
    assert seen == [e["id"] for e in full]


def test_since_until_filter(client, admin):
    entries = client.audit(admin)
    newest = entries[0]["at"]
    st, h, b = client.get(f"/api/v1/audit?limit=1000&until={newest}", token=admin)
    assert st == 200
    assert all(e["id"] != entries[0]["id"] for e in b["items"])  # until is exclusive
    st, h, b = client.get(f"/api/v1/audit?limit=1000&since={newest}", token=admin)
    assert st == 200
    assert entries[0]["id"] in [e["id"] for e in b["items"]]
