"""Concurrent writes: group commit must keep each request's outcome its own."""
import json
import threading

import pytest

from conftest import ADMIN_PASSWORD, Client


def run_parallel(fns):
    """Runs the callables at once (a barrier releases them together);
    returns their results in order."""
    results = [None] * len(fns)
    barrier = threading.Barrier(len(fns))

    def run(i, fn):
        barrier.wait()
        try:
            results[i] = fn()
        except Exception as e:  # reported through the result
            results[i] = e
    threads = [threading.Thread(target=run, args=(i, fn), daemon=True)
               for i, fn in enumerate(fns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_concurrent_creates_with_duplicates(client, admin, uniq):
    dup = uniq("cdup")
    distinct = [uniq("cd") for _ in range(16)]
    users_before = {u["id"] for u in client.all_users(admin)}
    audit_before = len(client.audit(admin, "&action=user.create"))

    def mk(name):
        return lambda: client.request("POST", "/api/v1/users",
                                      body={"username": name, "role": "resident"}, token=admin)
    fns = [mk(n) for n in distinct] + [mk(dup) for _ in range(8)]
    res = run_parallel(fns)
    for r in res:
        assert not isinstance(r, Exception), r
    for name, (st, h, b) in zip(distinct, res[:16]):
        assert st == 201, (name, st, b)
    dup_status = sorted(r[0] for r in res[16:])
    assert dup_status == [201] + [409] * 7, dup_status
    after = client.all_users(admin)
    new = [u for u in after if u["id"] not in users_before]
    assert sorted(u["username"] for u in new) == sorted(distinct + [dup])
    assert len(client.audit(admin, "&action=user.create")) == audit_before + 17


def test_concurrent_same_idempotency_key(client, admin, uniq):
    name = uniq("cidem")
    raw = json.dumps({"username": name, "role": "resident"}).encode()
    key = {"Idempotency-Key": "ck-" + name}
    before = len(client.all_users(admin))
    res = run_parallel([lambda: client.request("POST", "/api/v1/users", raw=raw, token=admin,
                                               headers=key) for _ in range(8)])
    for r in res:
        assert not isinstance(r, Exception), r
    assert [r[0] for r in res] == [201] * 8, [(r[0], r[2]) for r in res]
    ids = {r[2]["id"] for r in res}
    assert len(ids) == 1
    replayed = [r[1].get("Idempotent-Replayed") for r in res]
    assert replayed.count(None) == 1 and replayed.count("true") == 7, replayed
    assert len(client.all_users(admin)) == before + 1


def test_concurrent_same_key_different_bodies(client, admin, uniq):
    base = uniq("ckd")
    key = {"Idempotency-Key": "ckd-" + base}
    names = [f"{base}-{i}" for i in range(6)]
    before = len(client.all_users(admin))
    res = run_parallel([
        (lambda n=n: client.request("POST", "/api/v1/users",
                                    body={"username": n, "role": "resident"},
                                    token=admin, headers=key)) for n in names])
    for r in res:
        assert not isinstance(r, Exception), r
    statuses = sorted(r[0] for r in res)
    assert statuses == [201] + [409] * 5, statuses
    assert len(client.all_users(admin)) == before + 1


def test_concurrent_patches_each_audited(client, admin, uniq):
    u = client.create_user(admin, uniq("cp"))
    path = f"/api/v1/users/{u['id']}"
    res = run_parallel([(lambda i=i: client.patch(path, {"display_name": f"n{i}"}, token=admin))
                        for i in range(10)])
    assert all(r[0] == 200 for r in res), res
    final = client.get(path, token=admin)[2]["display_name"]
    assert final in {f"n{i}" for i in range(10)}
    entries = [e for e in client.audit(admin, "&action=user.update")
               if e["object"] == f"user:{u['id']}"]
    assert len(entries) == 10


def test_concurrent_logins_never_fail_with_500(server_factory):
    """With one hashing slot and no waiting, logins beyond it are refused
    with 503 and Retry-After, never with a server error, and a refused
    login does not count as a failed one."""
    srv = server_factory.start("--hash-concurrency", "1", "--hash-wait-ms", "0",
                               "--login-max-failures", "3")
    c = Client(srv.host, srv.port)
    seen = []
    for _ in range(5):
        res = run_parallel([lambda: c.login_status("admin", ADMIN_PASSWORD) for _ in range(6)])
        for r in res:
            assert not isinstance(r, Exception), r
            st, h, b = r
            assert st in (200, 503), (st, b)
            if st == 503:
                assert h.get("Retry-After"), h
                assert b["status"] == 503
            seen.append(st)
        if 503 in seen:
            break
    assert 200 in seen
    # However many 503s there were, the account is not locked.
    assert c.login_status("admin", ADMIN_PASSWORD)[0] == 200
