"""/healthz, /readyz, /metrics, /api/v1 and the OpenAPI document."""
import json
import os
import re
import subprocess
import time

from conftest import LINLID, SOURCE_DIR

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def test_healthz_200(client):
    st, h, b = client.get("/healthz")
    assert st == 200
    assert b == "ok\n"
    assert h.get("Content-Type").startswith("text/plain")


def test_readyz_200(client):
    st, h, b = client.get("/readyz")
    assert st == 200
    assert b.strip() == "ready"


def test_api_index(client):
    st, h, b = client.get("/api/v1")
    assert st == 200
    assert b["name"] == "linli"
    assert b["openapi"] == "/api/v1/openapi.json"
    assert isinstance(b["version"], str) and b["version"]


def test_head_request_gets_headers_only(server):
    from conftest import raw_connect, wait_closed
    s = raw_connect(server.port)
    try:
        s.sendall(b"HEAD /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        closed, data = wait_closed(s, 10)
        assert closed
        head, _, body = data.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200")
        assert body == b""
    finally:
        s.close()


def metric_lines(text):
    return [ln for ln in text.splitlines() if ln and not ln.startswith("#")]


def request_counts(client):
    st, h, text = client.get("/metrics")
    assert st == 200
    assert h.get("Content-Type").startswith("text/plain")
    counts = {}
    for ln in metric_lines(text):
        m = re.match(r'linli_http_requests_total\{method="([^"]*)",route="([^"]*)",'
                     r'status="([^"]*)"\} (\d+)$', ln)
        if m:
            counts[m.group(1, 2, 3)] = int(m.group(4))
    return counts


def test_metrics_has_request_counts_by_route(client, admin):
    client.get("/healthz")
    client.get("/api/v1/me", token=admin)
    client.get("/api/v1/me")  # 401
    client.get("/api/v1/nowhere")  # unmatched 404
    # A request is counted when libmicrohttpd reports it complete, which can
    # be a moment after its answer reached us: look again briefly.
    want = [("GET", "/healthz", "200"), ("GET", "/api/v1/me", "200"),
            ("GET", "/api/v1/me", "401")]
    for _ in range(40):
        counts = request_counts(client)
        if all(counts.get(k, 0) >= 1 for k in want):
            break
        time.sleep(0.05)
    assert counts.get(("GET", "/healthz", "200"), 0) >= 1, counts
    assert counts.get(("GET", "/api/v1/me", "200"), 0) >= 1, counts
    assert counts.get(("GET", "/api/v1/me", "401"), 0) >= 1
    assert any(k[2] == "404" for k in counts if k[1] not in ("/healthz", "/api/v1/me"))
    # Route labels are patterns, never raw paths with ids.
    assert not any(re.search(r"/users/\d", k[1]) for k in counts)


def test_metrics_route_label_is_pattern_for_ids(client, admin):
    st, _, me = client.get("/api/v1/me", token=admin)
    client.get(f"/api/v1/users/{me['id']}", token=admin)
    for _ in range(40):
        st, h, text = client.get("/metrics")
        if 'route="/api/v1/users/{id}"' in text:
            break
        time.sleep(0.05)
    assert 'route="/api/v1/users/{id}"' in text
    assert f'route="/api/v1/users/{me["id"]}"' not in text


def test_metrics_has_store_series(client, admin, uniq):
    client.create_user(admin, uniq("met"))  # at least one commit
    for _ in range(40):
        st, h, text = client.get("/metrics")
        assert st == 200
        if re.search(r"^linli_store_commit_seconds_count [1-9]", text, re.M):
            break
        time.sleep(0.05)
    names = {re.split(r"[{ ]", ln, 1)[0] for ln in metric_lines(text)}
    for want in ["linli_store_queue_depth", "linli_store_batch_size_count",
                 "linli_store_commit_seconds_count"]:
        assert want in names, sorted(names)
    assert "linli_store_batch_size_bucket" in names
    assert "linli_store_commit_seconds_bucket" in names
    for ln in metric_lines(text):
        if ln.startswith("linli_store_commit_seconds_count"):
            assert float(ln.split()[-1]) >= 1
        if ln.startswith("linli_store_queue_depth"):
            assert float(ln.split()[-1]) >= 0


def test_metrics_lines_are_well_formed(client):
    st, h, text = client.get("/metrics")
    for ln in metric_lines(text):
        assert re.match(r'^[a-zA-Z_:][a-zA-Z0-9_:]*'
                        r'(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\.)*",?)*\})?'
                        r' [-+0-9.eEInfa]+$', ln), ln


def routes():
    out = subprocess.run([LINLID, "--routes"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    pairs = set()
    for ln in out.stdout.splitlines():
        if not ln.strip():
            continue
        method, path = ln.split(" ", 1)
        pairs.add((method.lower(), path.strip()))
    assert pairs
    return pairs


def test_openapi_served_and_parses(client):
    st, h, b = client.get("/api/v1/openapi.json")
    assert st == 200
    assert h.get("Content-Type").startswith("application/json")
    assert isinstance(b, dict), "openapi.json is not a JSON object"
    assert str(b.get("openapi", "")).startswith("3.")
    assert isinstance(b.get("paths"), dict)
    with open(os.path.join(SOURCE_DIR, "docs", "openapi.json"), encoding="utf-8") as f:
        assert json.load(f) == b, "the served document differs from docs/openapi.json"


def test_openapi_documents_every_route(client):
    st, h, doc = client.get("/api/v1/openapi.json")
    assert st == 200
    documented = set()
    for path, item in doc.get("paths", {}).items():
        for method in item:
            if method in HTTP_METHODS:
                documented.add((method, path))
    actual = routes()
    missing = sorted(actual - documented)
    extra = sorted(documented - actual)
    assert not missing, f"routes not documented in docs/openapi.json: {missing}"
    assert not extra, f"documented in docs/openapi.json but not served: {extra}"
