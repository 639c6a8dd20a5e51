"""Failed-login limits per username and per client address.

This module runs its own server with small limits. Each test speaks from its
own loopback address (127.0.0.x), so the per-address counters of one test
never touch another's."""
import pytest

from conftest import ADMIN_PASSWORD, assert_problem

MAX_USER = 5
MAX_IP = 8
WINDOW = 120


@pytest.fixture(scope="module")
def rl(module_factory):
    return module_factory.start("--login-max-failures", MAX_USER,
                                "--login-max-failures-ip", MAX_IP,
                                "--login-window", WINDOW)


def make_user(rl, name, pw):
    tok = rl.admin_token()
    rl.client.create_user(tok, name, role="resident", password=pw)


def test_user_limit_429_even_with_right_password(rl):
    make_user(rl, "alice", "alice-password")
    c = rl.client_from("127.0.0.3")
    for i in range(MAX_USER):
        st, h, b = c.login_status("alice", f"wrong-{i}-password")
        assert_problem(st, h, b, 401)
    st, h, b = c.login_status("alice", "alice-password")
    assert_problem(st, h, b, 429)
    ra = h.get("Retry-After")
    assert ra is not None and ra.isdigit(), h
    assert 1 <= int(ra) <= WINDOW
    # The limit is on the username, from any address.
    st, h, b = rl.client_from("127.0.0.13").login_status("alice", "alice-password")
    assert_problem(st, h, b, 429)
    assert h.get("Retry-After")


def test_user_limit_leaves_other_users_alone(rl):
    make_user(rl, "bob", "bob-password")
    make_user(rl, "carol", "carol-password")
    c = rl.client_from("127.0.0.5")
    for i in range(MAX_USER):
        assert c.login_status("bob", f"wrong-{i}-password")[0] == 401
    assert c.login_status("bob", "bob-password")[0] == 429
    st, h, b = c.login_status("carol", "carol-password")
    assert st == 200, b
    assert b["user"]["username"] == "carol"


def test_success_below_limit_resets_user_count(rl):
    make_user(rl, "dave", "dave-password")
    c = rl.client_from("127.0.0.6")
    for i in range(MAX_USER - 1):
        assert c.login_status("dave", f"wrong-{i}-password")[0] == 401
    assert c.login_status("dave", "dave-password")[0] == 200
    # A second address, so the per-address count stays below its own limit.
    c2 = rl.client_from("127.0.0.9")
    for i in range(MAX_USER - 1):
        assert c2.login_status("dave", f"again-{i}-password")[0] == 401
    assert c2.login_status("dave", "dave-password")[0] == 200


def test_ip_limit_429_for_any_user_from_that_address(rl):
    c = rl.client_from("127.0.0.4")
    # Different unknown usernames: no single user reaches its own limit.
    for i in range(MAX_IP):
        st, h, b = c.login_status(f"ghost{i}", "wrong-password")
        assert_problem(st, h, b, 401)
    st, h, b = c.login_status("admin", ADMIN_PASSWORD)
    assert_problem(st, h, b, 429)
    ra = h.get("Retry-After")
    assert ra is not None and ra.isdigit() and 1 <= int(ra) <= WINDOW
    # Another address is not affected.
    st, h, b = rl.client_from("127.0.0.7").login_status("admin", ADMIN_PASSWORD)
    assert st == 200, b


def test_rate_limited_login_writes_no_session_or_audit(rl):
    make_user(rl, "erin", "erin-password")
    tok = rl.admin_token()
    c = rl.client_from("127.0.0.8")
    for i in range(MAX_USER):
        assert c.login_status("erin", f"wrong-{i}-password")[0] == 401
    before = rl.client.audit(tok, "&action=auth.login")
    st, h, b = c.login_status("erin", "erin-password")
    assert st == 429
    after = rl.client.audit(tok, "&action=auth.login")
    assert len(after) == len(before)
