"""HTTP-level behaviour over raw sockets: keep-alive, idle clients, the
per-address connection limit, and static files that never leak what lies
outside --static-dir."""
import json
import os
import socket
import time

import pytest

from conftest import (ADMIN_PASSWORD, assert_problem, raw_connect, raw_request, read_response,
                      wait_closed)

IDLE = 2
CONN_PER_IP = 3
MAX_BODY = 4096
SECRET = b"TOP-SECRET-CONTENT-DO-NOT-SERVE"
INDEX = b"<!doctype html><title>Linli test</title><p>index page</p>\n"


@pytest.fixture(scope="module")
def site(module_factory):
    root = os.path.join(module_factory.tmpdir, "site")
    www = os.path.join(root, "www")
    os.makedirs(os.path.join(www, "sub"))
    os.makedirs(os.path.join(www, "a"))
    with open(os.path.join(www, "index.html"), "wb") as f:
        f.write(INDEX)
    with open(os.path.join(www, "app.js"), "wb") as f:
        f.write(b"console.log('hi');\n")
    with open(os.path.join(www, "sub", "index.html"), "wb") as f:
        f.write(b"<p>sub index</p>\n")
    with open(os.path.join(root, "secret"), "wb") as f:
        f.write(SECRET)
    with open(os.path.join(root, "secret.txt"), "wb") as f:
        f.write(SECRET)
    os.symlink(os.path.join(root, "secret"), os.path.join(www, "link-to-secret"))
    return www


@pytest.fixture(scope="module")
def hs(module_factory, site):
    return module_factory.start("--idle-timeout", IDLE, "--login-max-failures-ip", "100000",
                                "--max-body", MAX_BODY, static_dir=site)


def get_raw(port, target, source_ip=None):
    req = (f"GET {target} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").encode("latin-1")
    s = raw_connect(port, source_ip)
    try:
        s.sendall(req)
        closed, data = wait_closed(s, 10)
        assert closed, f"no answer to GET {target}"
        return data
    finally:
        s.close()


def status_of(data):
    line = data.split(b"\r\n", 1)[0]
    parts = line.split()
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None


# ---- static files ----

def test_root_serves_index_html(hs):
    st, h, body = raw_request(hs.port, b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    assert st == 200
    assert body == INDEX
    assert h["content-type"].startswith("text/html")


def test_static_file_and_subdir_index(hs):
    st, h, body = hs.client.get("/app.js")
    assert st == 200 and "console.log" in body
    assert h.get("Content-Type").startswith("text/javascript")
    st, h, body = hs.client.get("/index.html")
    assert st == 200 and body.encode() == INDEX
    st, h, body = hs.client.get("/sub/")
    assert st == 200 and "sub index" in body
    st, h, body = hs.client.get("/sub")
    assert st == 200 and "sub index" in body


def test_static_missing_file_404(hs):
    st, h, b = hs.client.get("/no-such-file.css")
    assert st == 404
    assert isinstance(b, dict) and b["status"] == 404


@pytest.mark.parametrize("target", [
    "/../secret",
    "/%2e%2e/secret",
    "/%2E%2E/secret",
    "/a/../../secret",
    "/a/%2e%2e/%2e%2e/secret",
    "/..%2fsecret",
    "/%2e%2e%2fsecret",
    "/./../secret",
    "/sub/../../secret.txt",
    "/..\\secret",
    "/%2e%2e%5csecret",
    "/.%2e/secret",
    "/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/link-to-secret",
])
def test_traversal_never_returns_secret(hs, target):
    data = get_raw(hs.port, target)
    assert SECRET not in data, f"{target} leaked the secret"
    assert b"root:x:" not in data
    st = status_of(data)
    assert st in (400, 404), f"{target}: {data[:200]!r}"


def test_encoded_nul_in_path_is_refused(hs):
    """%00 decodes to a NUL byte; the path must not be silently cut short
    there (which would serve /healthz for /healthz%00junk, or the index page
    for /%00/../secret). The static-file code means to refuse control
    characters with 400."""
    for target in ["/%00/../secret", "/healthz%00junk", "/index.html%00.png"]:
        data = get_raw(hs.port, target)
        assert SECRET not in data
        assert status_of(data) in (400, 404), f"{target}: {data[:160]!r}"


def test_traversal_absolute_form_never_returns_secret(hs, site):
    secret_path = os.path.join(os.path.dirname(site), "secret")
    for target in [secret_path, "http://t/../secret", "//" + secret_path.lstrip("/")]:
        data = get_raw(hs.port, target)
        assert SECRET not in data, target
        assert status_of(data) != 200 or INDEX in data or b"sub index" in data, target


def test_static_only_for_get(hs):
    st, h, b = hs.client.request("POST", "/index.html", body={"a": 1})
    assert st in (404, 405)
    assert st != 200


# ---- keep-alive ----

def test_keep_alive_three_requests_on_one_socket(hs):
    s = raw_connect(hs.port)
    try:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        st, h, body, rest = read_response(s)
        assert st == 200 and body == b"ok\n"
        assert h.get("connection", "").lower() != "close"

        login = json.dumps({"username": "admin", "password": ADMIN_PASSWORD}).encode()
        s.sendall(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: t\r\n"
                  b"Content-Type: application/json\r\n"
                  b"Content-Length: " + str(len(login)).encode() + b"\r\n\r\n" + login)
        st, h, body, rest = read_response(s, rest)
        assert st == 200, body
        assert h.get("connection", "").lower() != "close"
        token = json.loads(body)["token"]

        s.sendall(b"GET /api/v1/me HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer "
                  + token.encode() + b"\r\n\r\n")
        st, h, body, rest = read_response(s, rest)
        assert st == 200
        assert json.loads(body)["username"] == "admin"
        assert rest == b""
    finally:
        s.close()


def test_pipelined_requests_answered_in_order(hs):
    s = raw_connect(hs.port)
    try:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"
                  b"GET /readyz HTTP/1.1\r\nHost: t\r\n\r\n"
                  b"GET /api/v1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        st1, _, b1, rest = read_response(s)
        st2, _, b2, rest = read_response(s, rest)
        st3, _, b3, rest = read_response(s, rest)
        assert (st1, b1) == (200, b"ok\n")
        assert (st2, b2.strip()) == (200, b"ready")
        assert st3 == 200 and json.loads(b3)["name"] == "linli"
    finally:
        s.close()


def test_error_answer_keeps_connection(hs):
    s = raw_connect(hs.port)
    try:
        s.sendall(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: t\r\n"
                  b"Content-Type: application/json\r\nContent-Length: 1\r\n\r\n{")
        st, h, body, rest = read_response(s)
        assert st == 400
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        st, h, body, rest = read_response(s, rest)
        assert st == 200
    finally:
        s.close()


# ---- idle clients ----

def test_half_request_is_dropped_after_idle_timeout(hs):
    slow = raw_connect(hs.port, source_ip="127.0.0.20", timeout=IDLE * 6)
    try:
        slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n")  # no blank line: never finishes
        # Meanwhile another client is served, more than once.
        for _ in range(3):
            st, h, b = hs.client.get("/healthz")
            assert st == 200
        other = raw_connect(hs.port)
        try:
            other.sendall(b"GET /readyz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            st, _, _, _ = read_response(other)
            assert st == 200
        finally:
            other.close()
        closed, data = wait_closed(slow, IDLE * 6)
        assert closed, "the half-finished request was never dropped"
        assert b" 200 " not in data.split(b"\r\n", 1)[0]
    finally:
        slow.close()
    assert hs.client.get("/healthz")[0] == 200


def test_idle_keep_alive_connection_is_closed(hs):
    s = raw_connect(hs.port, source_ip="127.0.0.21", timeout=IDLE * 6)
    try:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        st, _, _, rest = read_response(s)
        assert st == 200
        closed, data = wait_closed(s, IDLE * 6)
        assert closed and data == b""
    finally:
        s.close()


# ---- connections per address ----

def keepalive_get(sock, path=b"/healthz"):
    sock.sendall(b"GET " + path + b" HTTP/1.1\r\nHost: t\r\n\r\n")
    st, h, body, rest = read_response(sock)
    return st


def test_conn_per_ip_limit(server_factory):
    # Its own server: a small per-address limit on the shared one would make
    # other tests race the server's reaping of their closed connections.
    hs = server_factory.start("--conn-per-ip", CONN_PER_IP)
    ip = "127.0.0.30"
    held = []
    try:
        for _ in range(CONN_PER_IP):
            s = raw_connect(hs.port, source_ip=ip, timeout=10)
            held.append(s)
            assert keepalive_get(s) == 200
        # One more from the same address is refused (closed without an answer).
        extra = None
        try:
            extra = raw_connect(hs.port, source_ip=ip, timeout=10)
            try:
                extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass
            closed, data = wait_closed(extra, 10)
            assert closed, "the connection over the per-address limit was kept open"
            assert b" 200 " not in data.split(b"\r\n", 1)[0]
        except ConnectionRefusedError:
            pass
        finally:
            if extra:
                extra.close()
        # Another address is not limited meanwhile.
        assert hs.client.get("/healthz")[0] == 200
        # The first N still work.
        for s in held:
            assert keepalive_get(s) == 200
        # Closing one makes room for another.
        held.pop().close()
        ok = False
        for _ in range(50):
            s = raw_connect(hs.port, source_ip=ip, timeout=10)
            try:
                ok = keepalive_get(s) == 200
            except (EOFError, ConnectionResetError, BrokenPipeError):
                ok = False
            if ok:
                held.append(s)
                break
            s.close()
            time.sleep(0.1)
        assert ok, "no room for a new connection after one was closed"
    finally:
        for s in held:
            s.close()


# ---- body size limits ----

def padded_create(token, name, size):
    """A valid create body padded with JSON whitespace to exactly `size` bytes."""
    core = json.dumps({"username": name, "role": "resident"}).encode()
    assert len(core) <= size
    return core[:-1] + b" " * (size - len(core)) + b"}"


def post_raw(port, token, body, chunked=False):
    s = raw_connect(port)
    try:
        head = (b"POST /api/v1/users HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                b"Authorization: Bearer " + token.encode() + b"\r\n"
                b"Content-Type: application/json\r\n")
        if chunked:
            s.sendall(head + b"Transfer-Encoding: chunked\r\n\r\n")
            for i in range(0, len(body), 1000):
                part = body[i:i + 1000]
                s.sendall(b"%x\r\n" % len(part) + part + b"\r\n")
            s.sendall(b"0\r\n\r\n")
        else:
            s.sendall(head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
        st, h, data, _ = read_response(s)
        return st, json.loads(data) if data else None
    finally:
        s.close()


def test_body_of_exactly_max_body_is_accepted(hs):
    tok = hs.admin_token()
    st, b = post_raw(hs.port, tok, padded_create(tok, "exactmax", MAX_BODY))
    assert st == 201, b
    assert b["username"] == "exactmax"


def test_body_one_over_max_body_is_413(hs):
    tok = hs.admin_token()
    before = len(hs.client.all_users(tok))
    st, b = post_raw(hs.port, tok, padded_create(tok, "overmax", MAX_BODY + 1))
    assert st == 413
    assert b["status"] == 413
    assert len(hs.client.all_users(tok)) == before


def test_chunked_body_within_limit_is_accepted(hs):
    tok = hs.admin_token()
    st, b = post_raw(hs.port, tok, padded_create(tok, "chunky", 2500), chunked=True)
    assert st == 201, b
    assert b["username"] == "chunky"


@pytest.mark.parametrize("write_threads", ["0", "1"])
def test_writes_work_with_any_number_of_write_threads(server_factory, write_threads):
    """Writes run on write threads while their connection is suspended; with
    none they run on the event threads. Either way the answers are the same,
    keep-alive survives, and many concurrent writes all land."""
    import threading
    srv = server_factory.start("--write-threads", write_threads)
    tok = srv.admin_token()
    conn = srv.client.connect()
    names = []
    for i in range(3):  # several writes on one keep-alive connection
        name = f"wt{write_threads}k{i}"
        conn.request("POST", "/api/v1/users", body=json.dumps({"username": name, "role": "resident"}),
                     headers={"Authorization": "Bearer " + tok, "Content-Type": "application/json"})
        r = conn.getresponse()
        r.read()
        assert r.status == 201
        names.append(name)
    conn.close()
    errors = []

    def create(i):
        st, _, body = srv.client.post("/api/v1/users", {"username": f"wt{write_threads}c{i}",
                                                         "role": "resident"}, token=tok)
        if st != 201:
            errors.append((st, body))

    threads = [threading.Thread(target=create, args=(i,)) for i in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    listed = {u["username"] for u in srv.client.all_users(tok)}
    assert set(names) <= listed
    assert {f"wt{write_threads}c{i}" for i in range(24)} <= listed
    st, h, body = srv.client.post("/api/v1/users", {"username": "x", "role": "nope"}, token=tok)
    assert_problem(st, h, body, 422)
