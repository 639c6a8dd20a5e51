"""Fixtures for the black-box API tests: real linlid processes on loopback ports.

Only the Python standard library and pytest are used (Debian's /usr/bin/python3).

  server_factory  start(...) -> Server; every server it started is stopped at
                  teardown with SIGTERM, must exit 0 within 15 s and leave no
                  sanitizer report on stderr.
  server          one shared server per test module (tests that do not
                  interfere share it); `client` is its Client.
  cli             runs $LINLI_CLI and returns the CompletedProcess.

Helpers for raw-socket HTTP (raw_request, read_response) live here too.
"""
import http.client
import json
import os
import signal
import socket
import subprocess
import tempfile
import time

import pytest

SOURCE_DIR = os.environ.get(
    "LINLI_SOURCE_DIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
LINLID = os.path.abspath(
    os.environ.get("LINLID", os.path.join(SOURCE_DIR, "build", "dev", "linlid")))
LINLI_CLI = os.path.abspath(
    os.environ.get("LINLI_CLI", os.path.join(SOURCE_DIR, "build", "dev", "linli")))

ADMIN_PASSWORD = "admin-secret-pw-1"
SANITIZER_MARKS = ("AddressSanitizer", "runtime error", "LeakSanitizer", "ThreadSanitizer")
STOP_TIMEOUT = 15


def clean_env(**extra):
    """The environment for a child: no LINLI_* settings leak in from outside."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINLI_")}
    # Leaks are real failures; keep the reports on stderr where we look for them.
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
    env.update({k: v for k, v in extra.items() if v is not None})
    return env


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def assert_no_sanitizer_report(text, what="linlid"):
    for mark in SANITIZER_MARKS:
        assert mark not in text, f"{what} stderr has a sanitizer report ({mark}):\n{text[-6000:]}"


# --------------------------------------------------------------------------- client

class Client:
    """A tiny HTTP client: one connection per request (unless told otherwise)."""

    def __init__(self, host, port, source_ip=None):
        self.host = host
        self.port = port
        self.source_ip = source_ip
        self.token = None

    def connect(self, timeout=30):
        src = (self.source_ip, 0) if self.source_ip else None
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout,
                                          source_address=src)

    def request(self, method, path, body=None, headers=None, token=None, raw=None,
                content_type="application/json"):
        """Returns (status, headers, body). The body is parsed JSON when the
        answer is JSON, else text. `body` is JSON-encoded unless it is str/bytes;
        `raw` (bytes) is sent as is."""
        hdrs = {}
        data = None
        if raw is not None:
            data = raw
        elif body is not None:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        if isinstance(data, str):
            data = data.encode()
        if data is not None and content_type:
            hdrs["Content-Type"] = content_type
        tok = token if token is not None else None
        if tok:
            hdrs["Authorization"] = "Bearer " + tok
        if headers:
            hdrs.update(headers)
        conn = self.connect()
        try:
            conn.request(method, path, body=data, headers=hdrs)
            resp = conn.getresponse()
            payload = resp.read()
            rh = HeaderView(resp.getheaders())
            return resp.status, rh, decode_body(rh, payload)
        finally:
            conn.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body=body, **kw)

    def patch(self, path, body=None, **kw):
        return self.request("PATCH", path, body=body, **kw)

    def login(self, user, pw):
        st, h, b = self.request("POST", "/api/v1/auth/login",
                                body={"username": user, "password": pw})
        assert st == 200, f"login {user}: {st} {b}"
        return b["token"]

    def login_status(self, user, pw):
        st, h, b = self.request("POST", "/api/v1/auth/login",
                                body={"username": user, "password": pw})
        return st, h, b

    # --- small conveniences used by many tests ---

    def create_user(self, token, username, role="resident", scope=None, password=None,
                    display_name=None, expect=201, headers=None):
        body = {"username": username, "role": role}
        if scope is not None:
            body["scope"] = scope
        if password is not None:
            body["password"] = password
        if display_name is not None:
            body["display_name"] = display_name
        st, h, b = self.request("POST", "/api/v1/users", body=body, token=token, headers=headers)
        if expect is not None:
            assert st == expect, f"create {username}: {st} {b}"
        return b

    def all_users(self, token, limit=500):
        items, cursor = [], None
        for _ in range(1000):
            path = f"/api/v1/users?limit={limit}" + (f"&cursor={cursor}" if cursor else "")
            st, h, b = self.request("GET", path, token=token)
            assert st == 200, (st, b)
            items.extend(b["items"])
            cursor = b["next_cursor"]
            if not cursor:
                return items
        raise AssertionError("user pagination did not end")

    def audit(self, token, query=""):
        st, h, b = self.request("GET", "/api/v1/audit?limit=1000" + query, token=token)
        assert st == 200, (st, b)
        return b["items"]


class HeaderView:
    """Case-insensitive header lookup over a list of (name, value)."""

    def __init__(self, pairs):
        self.pairs = list(pairs)

    def get(self, name, default=None):
        for k, v in self.pairs:
            if k.lower() == name.lower():
                return v
        return default

    def __getitem__(self, name):
        v = self.get(name)
        if v is None:
            raise KeyError(name)
        return v

    def __contains__(self, name):
        return self.get(name) is not None

    def __repr__(self):
        return repr(self.pairs)


def decode_body(headers, payload):
    ct = (headers.get("Content-Type") or "").lower()
    text = payload.decode("utf-8", "replace")
    if "json" in ct and text:
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


# --------------------------------------------------------------------------- servers

class Server:
    def __init__(self, proc, port, db, workdir, stderr_path, args):
        self.proc = proc
        self.port = port
        self.host = "127.0.0.1"
        self.db = db
        self.workdir = workdir
        self.stderr_path = stderr_path
        self.args = args
        self.client = Client(self.host, self.port)
        self.admin_password = ADMIN_PASSWORD
        self.returncode = None
        self._admin_token = None

    @property
    def pid(self):
        return self.proc.pid

    def stderr(self):
        with open(self.stderr_path, "r", encoding="utf-8", errors="replace") as f:
            return f.read()

    def admin_token(self):
        if not self._admin_token:
            self._admin_token = self.client.login("admin", self.admin_password)
        return self._admin_token

    def client_from(self, source_ip):
        return Client(self.host, self.port, source_ip=source_ip)

    def alive(self):
        return self.proc.poll() is None

    def terminate(self, timeout=STOP_TIMEOUT):
        """SIGTERM and wait; returns the exit code (None if it did not exit)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.returncode = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.returncode = None
        return self.returncode

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class ServerFactory:
    def __init__(self, tmpdir):
        self.tmpdir = tmpdir
        self.servers = []
        self.n = 0

    def new_db_path(self):
        self.n += 1
        return os.path.join(self.tmpdir, f"linli-{self.n}.db")

    def start(self, *flags, db=None, admin_password=ADMIN_PASSWORD, env=None, wait=True,
              static_dir=""):
        """Starts linlid with the test's fast defaults plus `flags`; returns a
        Server once /healthz answers."""
        if db is None:
            db = self.new_db_path()
        last_err = ""
        for _attempt in range(5):
            port = free_port()
            self.n += 1
            stderr_path = os.path.join(self.tmpdir, f"linlid-{self.n}.stderr")
            args = [LINLID, "--db", db, "--listen", f"127.0.0.1:{port}",
                    "--static-dir", static_dir, "--idle-timeout", "5",
                    "--sse-heartbeat", "1", "--stop-grace", "5"] + [str(f) for f in flags]
            e = clean_env(LINLI_ADMIN_PASSWORD=admin_password, **(env or {}))
            errf = open(stderr_path, "wb")
            proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=errf, env=e, cwd=self.tmpdir)
            errf.close()
            srv = Server(proc, port, db, self.tmpdir, stderr_path, args)
            if not wait:
                self.servers.append(srv)
                return srv
            if wait_healthy(srv):
                self.servers.append(srv)
                return srv
            srv.kill()
            last_err = srv.stderr()
            if "cannot listen" not in last_err:
                break
        raise AssertionError(f"linlid did not become healthy: {args}\n{last_err[-4000:]}")

    def stop(self, srv, check=True):
        """SIGTERM, then check exit 0 and a clean stderr. Returns stderr."""
        rc = srv.terminate()
        if rc is None:
            srv.kill()
        if srv in self.servers:
            self.servers.remove(srv)
        text = srv.stderr()
        if check:
            assert rc == 0, f"linlid exited with {rc} after SIGTERM (None = not within " \
                            f"{STOP_TIMEOUT} s)\n{text[-4000:]}"
            assert_no_sanitizer_report(text)
        return text

    def stop_all(self):
        problems = []
        for srv in list(self.servers):
            rc = srv.terminate()
            if rc is None:
                srv.kill()
            text = srv.stderr()
            if rc != 0:
                problems.append(f"linlid {srv.args} exited with {rc} after SIGTERM "
                                f"(None = still running after {STOP_TIMEOUT} s)\n{text[-3000:]}")
            for mark in SANITIZER_MARKS:
                if mark in text:
                    problems.append(f"linlid stderr has a sanitizer report ({mark}):\n"
                                    f"{text[-6000:]}")
                    break
        self.servers.clear()
        assert not problems, "\n\n".join(problems)


def wait_healthy(srv, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if srv.proc.poll() is not None:
            return False
        try:
            conn = http.client.HTTPConnection(srv.host, srv.port, timeout=2)
            conn.request("GET", "/healthz")
            r = conn.getresponse()
            r.read()
            conn.close()
            if r.status == 200:
                return True
        except OSError:
            pass
        time.sleep(0.05)
    return False


def run_linlid(args, timeout=30, env=None):
    """Runs linlid to completion (for the start-up refusals); returns CompletedProcess."""
    return subprocess.run([LINLID] + [str(a) for a in args], capture_output=True, text=True,
                          timeout=timeout, env=clean_env(**(env or {})), stdin=subprocess.DEVNULL)


def run_cli(args, input=None, env=None, timeout=60):
    return subprocess.run([LINLI_CLI] + [str(a) for a in args], input=input, capture_output=True,
                          text=True, timeout=timeout, env=clean_env(**(env or {})))


# --------------------------------------------------------------------------- raw HTTP

def raw_connect(port, source_ip=None, timeout=10):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout,
                                 source_address=(source_ip, 0) if source_ip else None)
    return s


def read_response(sock, buf=b""):
    """Reads one HTTP/1.1 response from sock. Returns (status, headers dict
    lower-cased, body bytes, leftover bytes). Raises EOFError when the peer
    closes before a full response."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise EOFError(f"connection closed before a full response ({buf[:200]!r})")
        buf += chunk
    head, buf = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            while b"\r\n" not in buf:
                chunk = sock.recv(65536)
                if not chunk:
                    raise EOFError("closed inside a chunked body")
                buf += chunk
            size_line, buf = buf.split(b"\r\n", 1)
            size = int(size_line.split(b";")[0], 16)
            while len(buf) < size + 2:
                chunk = sock.recv(65536)
                if not chunk:
                    raise EOFError("closed inside a chunk")
                buf += chunk
            body += buf[:size]
            buf = buf[size + 2:]
            if size == 0:
                break
        return status, headers, body, buf
    n = int(headers.get("content-length", "0"))
    while len(buf) < n:
        chunk = sock.recv(65536)
        if not chunk:
            raise EOFError("closed inside the body")
        buf += chunk
    return status, headers, buf[:n], buf[n:]


def raw_request(port, data, source_ip=None, timeout=10):
    """Sends raw bytes on a fresh connection; returns (status, headers, body)."""
    s = raw_connect(port, source_ip, timeout)
    try:
        s.sendall(data)
        st, h, body, _ = read_response(s)
        return st, h, body
    finally:
        s.close()


def wait_closed(sock, timeout):
    """Reads until the peer closes; returns (closed, bytes received)."""
    sock.settimeout(timeout)
    got = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return True, got
            got += chunk
    except (ConnectionResetError, BrokenPipeError):
        return True, got
    except socket.timeout:
        return False, got


def assert_problem(status, headers, body, want_status):
    """An RFC 9457 problem document with the expected status."""
    assert status == want_status, f"expected {want_status}, got {status}: {body}"
    ct = headers.get("Content-Type") or ""
    assert ct.startswith("application/problem+json"), f"Content-Type {ct!r}"
    assert isinstance(body, dict), body
    for k in ("type", "title", "status", "detail"):
        assert k in body, f"problem lacks {k}: {body}"
    assert body["status"] == want_status
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]


def field_errors(body):
    return {e["field"]: e["message"] for e in body.get("errors", [])}


# --------------------------------------------------------------------------- fixtures

@pytest.fixture
def server_factory(tmp_path):
    f = ServerFactory(str(tmp_path))
    yield f
    f.stop_all()


@pytest.fixture(scope="module")
def module_factory():
    with tempfile.TemporaryDirectory(prefix="linli-api-") as d:
        f = ServerFactory(d)
        yield f
        f.stop_all()


# Flags for the shared server: fast, and a high per-address login limit so
# the few deliberate failures in other tests never trip it.
SHARED_FLAGS = ("--login-max-failures-ip", "100000", "--idle-timeout", "2",
                "--conn-per-ip", "64", "--sse-heartbeat", "1")


@pytest.fixture(scope="module")
def server(module_factory):
    return module_factory.start(*SHARED_FLAGS)


@pytest.fixture(scope="module")
def client(server):
    return server.client


@pytest.fixture(scope="module")
def admin(server):
    """The admin's token on the shared server."""
    return server.admin_token()


_counter = [0]


@pytest.fixture
def uniq():
    """Returns a function making unique valid usernames."""
    def make(prefix="u"):
        _counter[0] += 1
        return f"{prefix}{os.getpid() % 1000}-{_counter[0]}-{int(time.time() * 1000) % 100000}"
    return make


# --------------------------------------------------------------------------- SSE

class SSEStream:
    """An open GET /api/v1/events stream (or another event-stream `path`, such
    as the console's) read by a background thread.
    Events land in a queue as dicts {"event", "data", "comments"};
    None marks the end of the stream."""

    def __init__(self, port, token=None, query="", source_ip=None, timeout=30,
                 path="/api/v1/events"):
        import queue
        import threading
        self.q = queue.Queue()
        self.conn = http.client.HTTPConnection(
            "127.0.0.1", port, timeout=timeout,
            source_address=(source_ip, 0) if source_ip else None)
        headers = {"Accept": "text/event-stream"}
        if token:
            headers["Authorization"] = "Bearer " + token
        self.conn.request("GET", path + query, headers=headers)
        self.resp = self.conn.getresponse()
        self.status = self.resp.status
        self.headers = HeaderView(self.resp.getheaders())
        self.ended = threading.Event()
        if self.status == 200:
            self.thread = threading.Thread(target=self._run, daemon=True)
            self.thread.start()
        else:
            self.body = self.resp.read()
            self.ended.set()

    def _run(self):
        ev = {"event": None, "data": [], "comments": []}
        try:
            while True:
                line = self.resp.readline()
                if not line:
                    break
                line = line.decode("utf-8").rstrip("\r\n")
                if line == "":
                    if ev["event"] or ev["data"] or ev["comments"]:
                        ev["data"] = "\n".join(ev["data"])
                        self.q.put(ev)
                    ev = {"event": None, "data": [], "comments": []}
                elif line.startswith(":"):
                    ev["comments"].append(line[1:].strip())
                else:
                    k, _, v = line.partition(":")
                    v = v[1:] if v.startswith(" ") else v
                    if k == "event":
                        ev["event"] = v
                    elif k == "data":
                        ev["data"].append(v)
        except Exception:  # closed under us, reset, timed out: the stream is over
            pass
        finally:
            self.ended.set()
            self.q.put(None)

    def next(self, timeout=10):
        """The next event (or comment block); None at the end of the stream;
        raises queue.Empty on timeout."""
        return self.q.get(timeout=timeout)

    def wait_for(self, pred, timeout=10):
        """Reads until pred(event) holds; returns that event (None if the
        stream ended or the time ran out first)."""
        import queue
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                ev = self.q.get(timeout=left)
            except queue.Empty:
                return None
            if ev is None:
                self.q.put(None)
                return None
            if pred(ev):
                return ev

    def close(self):
        try:
            if self.conn.sock:
                self.conn.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        if getattr(self, "thread", None):
            self.thread.join(5)
        self.conn.close()


# --------------------------------------------------------------------------- MQTT

class Broker:
    """A Mosquitto broker on a free loopback port (scripts/mosquitto.sh)."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.host = "127.0.0.1"
        script = os.path.join(SOURCE_DIR, "scripts", "mosquitto.sh")
        r = subprocess.run([script, "start", workdir], capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, f"mosquitto.sh start: {r.stderr}"
        self.port = int(r.stdout.strip().splitlines()[-1])
        self.script = script

    @property
    def hostport(self):
        return f"{self.host}:{self.port}"

    def stop(self):
        subprocess.run([self.script, "stop", self.workdir], capture_output=True, timeout=30)


@pytest.fixture(scope="module")
def mosquitto_broker():
    """A broker for the module; skipped when mosquitto is not installed."""
    import shutil
    if not (shutil.which("mosquitto") or os.path.exists("/usr/sbin/mosquitto")) or \
            not shutil.which("mosquitto_pub"):
        pytest.skip("mosquitto and mosquitto-clients are not installed")
    with tempfile.TemporaryDirectory(prefix="linli-mqtt-") as d:
        b = Broker(d)
        yield b
        b.stop()
