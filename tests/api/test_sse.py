"""GET /api/v1/events: the live event stream."""
import json
import signal
import subprocess

import pytest

from conftest import SSEStream, assert_problem

PW = "sse-test-password"


@pytest.fixture(scope="module")
def tokens(client, admin):
    out = {"admin": admin}
    for name, role, scope in [("s-resident", "resident", None),
                              ("s-auditor", "auditor", "110105"),
                              ("s-community", "community", "110105001001")]:
        client.create_user(admin, name, role=role, scope=scope, password=PW)
        out[role] = client.login(name, PW)
    return out


@pytest.fixture
def streams():
    opened = []

    def open_(*a, **kw):
        s = SSEStream(*a, **kw)
        opened.append(s)
        return s
    yield open_
    for s in opened:
        s.close()


def is_user_created(name):
    def pred(ev):
        if ev["event"] != "user.created":
            return False
        return json.loads(ev["data"]).get("username") == name
    return pred


def test_stream_opens_with_event_stream_type(server, tokens, streams):
    s = streams(server.port, token=tokens["admin"])
    assert s.status == 200
    assert s.headers.get("Content-Type").startswith("text/event-stream")
    first = s.next(timeout=10)
    assert first is not None
    assert any("linli event stream" in c for c in first["comments"])
    # Heartbeats keep coming (--sse-heartbeat 1).
    ping = s.wait_for(lambda ev: "ping" in ev["comments"], timeout=10)
    assert ping is not None


def test_user_created_event_reaches_admin(server, client, tokens, streams, uniq):
    s = streams(server.port, token=tokens["admin"])
    assert s.status == 200
    s.next(timeout=10)  # the opening comment: the stream is registered
    name = uniq("sse")
    u = client.create_user(tokens["admin"], name, role="community", scope="110105001001")
    ev = s.wait_for(is_user_created(name), timeout=10)
    assert ev is not None, "no user.created event"
    data = json.loads(ev["data"])
    assert data["id"] == u["id"]
    assert data["username"] == name
    assert data["role"] == "community"
    assert data["scope"] == "110105001001"
    assert "password" not in ev["data"]


def test_user_created_event_matches_api_representation(server, client, tokens, streams, uniq):
    """The event carries the user as the API shows it: a user without a
    scope has "scope": null there, as in GET /api/v1/users/{id}."""
    s = streams(server.port, token=tokens["admin"])
    s.next(timeout=10)
    name = uniq("ssn")
    u = client.create_user(tokens["admin"], name, role="volunteer")
    assert u["scope"] is None
    ev = s.wait_for(is_user_created(name), timeout=10)
    assert ev is not None
    data = json.loads(ev["data"])
    for k in ("id", "username", "role", "scope"):
        assert data[k] == u[k], (k, data, u)


def test_disabled_user_stream_gets_no_more_events(server, client, tokens, streams, uniq):
    """Disabling an account revokes its sessions; a stream it opened before
    must not go on delivering events to it."""
    name = uniq("ssd")
    u = client.create_user(tokens["admin"], name, role="auditor", scope="110105", password=PW)
    tok = client.login(name, PW)
    s = streams(server.port, token=tok)
    adm = streams(server.port, token=tokens["admin"])
    assert s.status == 200 and adm.status == 200
    s.next(timeout=10)
    adm.next(timeout=10)
    st, h, b = client.patch(f"/api/v1/users/{u['id']}", {"disabled": True}, token=tokens["admin"])
    assert st == 200
    assert client.get("/api/v1/me", token=tok)[0] == 401
    marker = uniq("ssdm")
    client.create_user(tokens["admin"], marker)
    assert adm.wait_for(is_user_created(marker), timeout=10) is not None
    seen, pings = [], 0
    while pings < 2:
        ev = s.next(timeout=10)
        if ev is None:
            break  # the stream was ended: fine
        seen.append(ev)
        if "ping" in ev["comments"]:
            pings += 1
    # (The user.updated event of the disabling itself may still slip through.)
    leaked = [e for e in seen if is_user_created(marker)(e)]
    assert not leaked, f"a disabled account's stream still receives events: {leaked}"


def test_user_updated_event(server, client, tokens, streams, uniq):
    u = client.create_user(tokens["admin"], uniq("sseu"))
    s = streams(server.port, token=tokens["admin"])
    s.next(timeout=10)
    client.patch(f"/api/v1/users/{u['id']}", {"display_name": "Z"}, token=tokens["admin"])
    ev = s.wait_for(lambda e: e["event"] == "user.updated"
                    and json.loads(e["data"])["id"] == u["id"], timeout=10)
    assert ev is not None


def test_resident_stream_does_not_receive_user_events(server, client, tokens, streams, uniq):
    res = streams(server.port, token=tokens["resident"])
    com = streams(server.port, token=tokens["community"])
    adm = streams(server.port, token=tokens["admin"])
    for s in (res, com, adm):
        assert s.status == 200
        s.next(timeout=10)
    name = uniq("ssr")
    client.create_user(tokens["admin"], name)
    assert adm.wait_for(is_user_created(name), timeout=10) is not None
    # The broadcast is done once the admin has it. Two heartbeats later
    # anything queued for the resident before them has been read.
    for s in (res, com):
        seen, pings = [], 0
        while pings < 2:
            ev = s.next(timeout=10)
            assert ev is not None, "stream ended"
            seen.append(ev)
            if "ping" in ev["comments"]:
                pings += 1
        assert not [e for e in seen if e["event"]], seen


def test_auditor_stream_receives_user_events(server, client, tokens, streams, uniq):
    s = streams(server.port, token=tokens["auditor"])
    assert s.status == 200
    s.next(timeout=10)
    name = uniq("ssa")
    client.create_user(tokens["admin"], name)
    assert s.wait_for(is_user_created(name), timeout=10) is not None


def test_access_token_query_parameter(server, client, tokens, streams, uniq):
    s = streams(server.port, query="?access_token=" + tokens["admin"])
    assert s.status == 200
    assert s.headers.get("Content-Type").startswith("text/event-stream")
    s.next(timeout=10)
    name = uniq("ssq")
    client.create_user(tokens["admin"], name)
    assert s.wait_for(is_user_created(name), timeout=10) is not None


def test_stream_needs_valid_token(server, streams):
    s = streams(server.port)
    assert s.status == 401
    s = streams(server.port, token="lnl_" + "B" * 43)
    assert s.status == 401
    s = streams(server.port, query="?access_token=lnl_" + "C" * 43)
    assert s.status == 401
    s = streams(server.port, query="?access_token=garbage")
    assert s.status == 401
    assert json.loads(s.body)["status"] == 401


def test_access_token_only_on_events_route(client, tokens):
    st, h, b = client.get("/api/v1/me?access_token=" + tokens["admin"])
    assert st in (401, 422)
    assert st != 200


def test_stream_unknown_query_422(server, tokens, streams):
    s = streams(server.port, token=tokens["admin"], query="?since=5")
    assert s.status == 422


def test_logged_out_token_cannot_open_stream(server, client, streams):
    from conftest import ADMIN_PASSWORD
    tok = client.login("admin", ADMIN_PASSWORD)
    assert client.post("/api/v1/auth/logout", token=tok)[0] == 204
    s = streams(server.port, token=tok)
    assert s.status == 401


def test_idempotent_replay_publishes_one_event(server, client, tokens, streams, uniq):
    s = streams(server.port, token=tokens["admin"])
    s.next(timeout=10)
    name, marker = uniq("ssi"), uniq("ssm")
    key = {"Idempotency-Key": "sse-" + name}
    for _ in range(3):
        st, h, b = client.request("POST", "/api/v1/users", body={"username": name,
                                  "role": "resident"}, token=tokens["admin"], headers=key)
        assert st == 201
    client.create_user(tokens["admin"], marker)
    seen = []
    ev = s.wait_for(lambda e: (seen.append(e) or True) and is_user_created(marker)(e),
                    timeout=10)
    assert ev is not None
    assert sum(1 for e in seen if is_user_created(name)(e)) == 1


def test_tokens_and_passwords_not_logged(server, client, tokens, streams):
    s = streams(server.port, query="?access_token=" + tokens["admin"])
    assert s.status == 200
    s.next(timeout=10)
    text = server.stderr()
    for tok in tokens.values():
        assert tok not in text
        assert tok[4:] not in text
    assert PW not in text


def test_stream_limit_503_with_retry_after(server_factory):
    srv = server_factory.start("--sse-max", "1")
    tok = srv.admin_token()
    s1 = SSEStream(srv.port, token=tok)
    try:
        assert s1.status == 200
        s1.next(timeout=10)
        s2 = SSEStream(srv.port, token=tok)
        assert s2.status == 503
        assert s2.headers.get("Retry-After")
        assert json.loads(s2.body)["status"] == 503
    finally:
        s1.close()


def test_sigterm_with_open_stream_exits_cleanly(server_factory):
    srv = server_factory.start()
    tok = srv.admin_token()
    s1 = SSEStream(srv.port, token=tok)
    s2 = SSEStream(srv.port, query="?access_token=" + tok)
    try:
        assert s1.status == 200 and s2.status == 200
        assert s1.next(timeout=10) is not None
        assert s2.next(timeout=10) is not None
        srv.proc.send_signal(signal.SIGTERM)
        try:
            rc = srv.proc.wait(timeout=8)
        except subprocess.TimeoutExpired:
            rc = None
        assert rc == 0, f"linlid did not exit 0 within 8 s of SIGTERM with streams open ({rc})"
        assert s1.ended.wait(5) and s2.ended.wait(5), "the streams did not end"
    finally:
        s1.close()
        s2.close()
    text = server_factory.stop(srv)
    assert "stopped cleanly" in text
