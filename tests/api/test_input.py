"""Malformed and unwelcome requests: each gets the right problem answer and
changes nothing (no user, no audit entry)."""
import pytest

from conftest import (assert_problem, field_errors, raw_connect, raw_request, read_response,
                      wait_closed)


@pytest.fixture
def unchanged(client, admin):
    """Snapshot of users and audit log; the test body must leave both as they were."""
    def snap():
        users = client.all_users(admin)
        audit = client.audit(admin)
        return [u["id"] for u in users], [e["id"] for e in audit]
    before = snap()
    yield
    after = snap()
    assert after[0] == before[0], "the user list changed"
    assert after[1] == before[1], "the audit log changed"


def post_users(client, admin, raw, content_type="application/json", headers=None):
    return client.request("POST", "/api/v1/users", raw=raw, token=admin,
                          content_type=content_type, headers=headers)


def test_malformed_json_400(client, admin, unchanged):
    for raw in [b'{"username": "abc", "role": ', b"{", b"not json", b'{"a":1}}', b"\xff\xfe"]:
        st, h, b = post_users(client, admin, raw)
        assert_problem(st, h, b, 400)


def test_empty_body_400(client, admin, unchanged):
    st, h, b = post_users(client, admin, b"")
    assert_problem(st, h, b, 400)


def test_non_object_json_400(client, admin, unchanged):
    for raw in [b"[1, 2]", b'"text"', b"42", b"null", b"true"]:
        st, h, b = post_users(client, admin, raw)
        assert_problem(st, h, b, 400)


def test_wrong_content_type_415(client, admin, unchanged):
    body = b'{"username": "ctype1", "role": "resident"}'
    for ct in ["text/plain", "application/x-www-form-urlencoded", "application/jsonx"]:
        st, h, b = post_users(client, admin, body, content_type=ct)
        assert_problem(st, h, b, 415)
    st, h, b = post_users(client, admin, body, content_type=None)
    assert_problem(st, h, b, 415)


def test_json_content_type_with_charset_accepted(client, admin, uniq):
    name = uniq("cs")
    st, h, b = post_users(client, admin, ('{"username":"%s","role":"resident"}' % name).encode(),
                          content_type="application/json; charset=utf-8")
    assert st == 201, b
    assert b["username"] == name


def test_unknown_field_422(client, admin, unchanged):
    st, h, b = post_users(client, admin, b'{"username":"unk1","role":"resident","z":1}')
    assert_problem(st, h, b, 422)
    assert isinstance(b["errors"], list)
    errs = field_errors(b)
    assert "z" in errs and errs["z"], b
    for e in b["errors"]:
        assert set(e) >= {"field", "message"}


def test_wrong_type_422(client, admin, unchanged):
    st, h, b = post_users(client, admin, b'{"username": 5, "role": "resident"}')
    assert_problem(st, h, b, 422)
    assert "username" in field_errors(b)
    st, h, b = post_users(client, admin, b'{"username": "wt1", "role": ["resident"]}')
    assert_problem(st, h, b, 422)
    assert "role" in field_errors(b)


def test_missing_required_422(client, admin, unchanged):
    st, h, b = post_users(client, admin, b'{"username": "mr1"}')
    assert_problem(st, h, b, 422)
    assert "role" in field_errors(b)
    st, h, b = post_users(client, admin, b"{}")
    assert_problem(st, h, b, 422)
    errs = field_errors(b)
    assert "username" in errs and "role" in errs


def test_null_for_required_field_422(client, admin, unchanged):
    st, h, b = post_users(client, admin, b'{"username": null, "role": "resident"}')
    assert_problem(st, h, b, 422)
    assert "username" in field_errors(b)


def test_duplicate_keys_400(client, admin, unchanged):
    st, h, b = post_users(client, admin,
                          b'{"username":"dup1","username":"dup2","role":"resident"}')
    assert_problem(st, h, b, 400)


def test_invalid_username_422(client, admin, unchanged):
    for name in ["ab", "Upper", "has space", "_lead", "x" * 33, "semi;colon"]:
        st, h, b = client.post("/api/v1/users", {"username": name, "role": "resident"},
                               token=admin)
        assert_problem(st, h, b, 422)
        assert "username" in field_errors(b), (name, b)


def test_short_password_422(client, admin, unchanged):
    st, h, b = client.post("/api/v1/users",
                           {"username": "shortpw1", "role": "resident", "password": "short"},
                           token=admin)
    assert_problem(st, h, b, 422)
    assert "password" in field_errors(b)


def test_bad_patch_body_changes_nothing(client, admin, uniq):
    u = client.create_user(admin, uniq("pb"), role="resident", display_name="Before")
    path = f"/api/v1/users/{u['id']}"
    audit_before = [e["id"] for e in client.audit(admin)]
    for raw, want in [(b"{", 400), (b"[]", 400), (b"{}", 422), (b'{"z": 1}', 422),
                      (b'{"disabled": "yes"}', 422), (b'{"display_name": 3}', 422),
                      (b'{"display_name":"a","display_name":"b"}', 400)]:
        st, h, b = client.request("PATCH", path, raw=raw, token=admin)
        assert_problem(st, h, b, want)
    st, h, b = client.request("PATCH", path, raw=b'{"display_name":"x"}', token=admin,
                              content_type="text/plain")
    assert_problem(st, h, b, 415)
    st, _, now = client.get(path, token=admin)
    assert now["display_name"] == "Before"
    assert now["updated_at"] == u["updated_at"]
    assert [e["id"] for e in client.audit(admin)] == audit_before


def test_oversized_body_413_and_server_keeps_serving(server, client, admin, unchanged):
    s = raw_connect(server.port)
    try:
        s.sendall(b"POST /api/v1/users HTTP/1.1\r\nHost: t\r\n"
                  b"Authorization: Bearer " + admin.encode() + b"\r\n"
                  b"Content-Type: application/json\r\nContent-Length: 5000000\r\n\r\n"
                  b'{"username":"big1","role":"resident","display_name":"')
        st, h, body, _ = read_response(s)
        assert st == 413
        assert h.get("content-type", "").startswith("application/problem+json")
    finally:
        s.close()
    # The next connection is served as usual.
    st, h, b = client.get("/api/v1/me", token=admin)
    assert st == 200, b
    st, h, b = client.get("/healthz")
    assert st == 200


def test_unknown_query_parameter_422(client, admin, unchanged):
    st, h, b = client.get("/api/v1/users?foo=1", token=admin)
    assert_problem(st, h, b, 422)
    assert "foo" in field_errors(b)
    st, h, b = client.get("/api/v1/me?x=y", token=admin)
    assert_problem(st, h, b, 422)
    st, h, b = client.post("/api/v1/users?dry=1", {"username": "qp1", "role": "resident"},
                           token=admin)
    assert_problem(st, h, b, 422)
    st, h, b = client.get("/api/v1/audit?bogus=1", token=admin)
    assert_problem(st, h, b, 422)
    assert "bogus" in field_errors(b)


def test_bad_limit_422(client, admin, unchanged):
    for q in ["limit=0", "limit=-1", "limit=abc", "limit=501", "limit="]:
        st, h, b = client.get("/api/v1/users?" + q, token=admin)
        assert_problem(st, h, b, 422)
        assert "limit" in field_errors(b)


def test_method_not_allowed_405_with_allow(client, admin, unchanged):
    st, h, b = client.request("DELETE", "/api/v1/users", token=admin)
    assert_problem(st, h, b, 405)
    allow = {m.strip() for m in h.get("Allow", "").split(",")}
    assert allow == {"GET", "POST"}, h
    st, h, b = client.request("PUT", "/api/v1/users/1", body={"display_name": "x"}, token=admin)
    assert_problem(st, h, b, 405)
    assert {m.strip() for m in h.get("Allow", "").split(",")} == {"GET", "PATCH"}
    st, h, b = client.request("GET", "/api/v1/auth/login")
    assert_problem(st, h, b, 405)
    assert h.get("Allow") == "POST"
    st, h, b = client.request("POST", "/healthz")
    assert_problem(st, h, b, 405)
    assert h.get("Allow") == "GET"


def test_unknown_api_path_404_problem(client, admin, unchanged):
    for path in ["/api/v1/nothing", "/api/v2/users", "/api/v1/users/1/extra", "/api"]:
        st, h, b = client.get(path, token=admin)
        assert_problem(st, h, b, 404)
        assert b["instance"] == path
    st, h, b = client.post("/api/v1/nothing", {"a": 1}, token=admin)
    assert_problem(st, h, b, 404)


def test_non_numeric_user_id_404(client, admin, unchanged):
    for part in ["abc", "0", "-1", "1.5", "99999999"]:
        st, h, b = client.get(f"/api/v1/users/{part}", token=admin)
        assert_problem(st, h, b, 404)


def test_problem_has_request_id_matching_header(client):
    st, h, b = client.get("/api/v1/me")
    assert st == 401
    assert b["request_id"] == h.get("X-Request-Id")


def test_garbage_request_line_does_not_break_server(server, client):
    for junk in [b"\x00\x01\x02garbage\r\n\r\n", b"GET\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n",
                 b"GET /healthz HTTP/1.1\r\nBad Header Line\r\n\r\n"]:
        s = raw_connect(server.port)
        try:
            s.sendall(junk)
            closed, data = wait_closed(s, 5)
            if data:
                assert data.startswith(b"HTTP/1."), data[:100]
                assert b" 200 " not in data.split(b"\r\n", 1)[0] or junk.startswith(b"GET /healthz")
        finally:
            s.close()
    assert client.get("/healthz")[0] == 200


def test_chunked_body_over_limit_closes_only_that_connection(server, client, admin, unchanged):
    """A chunked body cannot be refused up front; the server closes that
    connection and keeps serving others."""
    s = raw_connect(server.port)
    try:
        s.sendall(b"POST /api/v1/users HTTP/1.1\r\nHost: t\r\n"
                  b"Authorization: Bearer " + admin.encode() + b"\r\n"
                  b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"x" * 65536
        try:
            for _ in range(20):  # 1.25 MiB, over the 1 MiB default limit
                s.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        closed, data = wait_closed(s, 10)
        assert closed
        if data:
            assert b" 201 " not in data.split(b"\r\n", 1)[0]
    finally:
        s.close()
    assert client.get("/api/v1/me", token=admin)[0] == 200


def test_raw_request_helper_sanity(server):
    st, h, body = raw_request(server.port, b"GET /healthz HTTP/1.1\r\nHost: t\r\n"
                                           b"Connection: close\r\n\r\n")
    assert st == 200 and body == b"ok\n"


def test_nul_in_string_refused(client, admin, unchanged):
    st, h, b = post_users(client, admin, b'{"username": "ab\\u0000cd", "role": "resident"}')
    assert st in (400, 422), (st, b)
    assert_problem(st, h, b, st)


def test_invalid_utf8_400(client, admin, unchanged):
    st, h, b = post_users(client, admin,
                          b'{"username": "utf8x", "role": "resident", "display_name": "\xc3\x28"}')
    assert_problem(st, h, b, 400)


def test_deeply_nested_json_400(server, client, admin, unchanged):
    deep = b'{"username": "deep1", "role": "resident", "z": ' + b"[" * 100000 + b"]" * 100000 + b"}"
    st, h, b = post_users(client, admin, deep)
    assert st in (400, 422), (st, b)
    assert client.get("/healthz")[0] == 200


def test_huge_numbers_and_odd_values_422(client, admin, unchanged):
    for raw in [b'{"username": 1e999, "role": "resident"}',
                b'{"username": 123456789012345678901234567890, "role": "resident"}',
                b'{"username": {"a": 1}, "role": "resident"}',
                b'{"username": true, "role": "resident"}']:
        st, h, b = post_users(client, admin, raw)
        assert st in (400, 422), (raw, st, b)


@pytest.mark.parametrize("cl", [b"-1", b"abc", b"18446744073709551616", b"1, 2"])
def test_bad_content_length_refused(server, client, admin, cl, unchanged):
    s = raw_connect(server.port)
    try:
        s.sendall(b"POST /api/v1/users HTTP/1.1\r\nHost: t\r\n"
                  b"Authorization: Bearer " + admin.encode() + b"\r\n"
                  b"Content-Type: application/json\r\nContent-Length: " + cl + b"\r\n\r\n"
                  b'{"username":"clx1","role":"resident"}')
        closed, data = wait_closed(s, 10)
        if data:
            first = data.split(b"\r\n", 1)[0]
            assert b" 4" in first, first  # some 4xx
    finally:
        s.close()
    assert client.get("/healthz")[0] == 200
