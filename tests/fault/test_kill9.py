"""Fault test: SIGKILL linlid in the middle of a create load, then check that
every create it acknowledged (201) is in the database and the database is
sound; three rounds on the same database, restarting linlid on the crashed
files each time.

A 201 from POST /api/v1/users means the row was committed (synchronous=FULL)
before the answer went out, so no acknowledged user may be missing after a
crash. Users whose answer never arrived may or may not be there.

Run by ctest as `fault` with LINLID (the dev ASan build) set; stdlib + pytest.
"""

import http.client
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import threading
import time

import pytest

LINLID = os.environ.get("LINLID")
PASSWORD = "fault-test-password-1"
ROUNDS = 3
WRITERS = 8
LOAD_SECONDS = 2.0
LOAD_MIN_ACKED = 50      # creates answered before the load counts as running
LOAD_WARMUP_LIMIT = 20.0  # seconds to wait for that
START_TIMEOUT = 30.0

pytestmark = pytest.mark.skipif(not LINLID, reason="LINLID is not set (run through ctest)")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, db, log_path):
        self.port = free_port()
        env = dict(os.environ)
        env["LINLI_ADMIN_PASSWORD"] = PASSWORD
        # The process is killed: leak reports would be noise, and a graceful
        # exit is checked separately below.
        env["ASAN_OPTIONS"] = "detect_leaks=0"
        self.log = open(log_path, "ab")
        self.proc = subprocess.Popen(
            [LINLID, "--db", db, "--listen", f"127.0.0.1:{self.port}",
             "--log-requests=false", "--static-dir", "", "--conn-per-ip", "256",
             "--idle-timeout", "30"],
            stdout=self.log, stderr=subprocess.STDOUT, env=env)
        self._wait_ready(log_path)

    def _wait_ready(self, log_path):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.log.close()
                with open(log_path, "rb") as f:
                    tail = f.read()[-3000:].decode(errors="replace")
                pytest.fail(f"linlid exited with {self.proc.returncode} at start:\n{tail}")
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                c.request("GET", "/readyz")
                ok = c.getresponse().status == 200
                c.close()
                if ok:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        self.kill()
        pytest.fail("linlid did not become ready within %.0f s" % START_TIMEOUT)

    def login(self):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        c.request("POST", "/api/v1/auth/login",
                  body=json.dumps({"username": "admin", "password": PASSWORD}),
                  headers={"Content-Type": "application/json"})
        r = c.getresponse()
        body = r.read()
        c.close()
        assert r.status == 200, body
        return json.loads(body)["token"]

    def kill(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        self.log.close()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=30)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self.log.close()
        return rc


def writer(port, token, prefix, stop, acked, statuses):
    """Posts creates on one keep-alive connection until stopped or cut off."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    n = 0
    try:
        while not stop.is_set():
            n += 1
            name = f"{prefix}n{n}"
            conn.request("POST", "/api/v1/users",
                         body=json.dumps({"username": name, "role": "resident",
                                          "display_name": "压测 " + name}),
                         headers=headers)
            r = conn.getresponse()
            r.read()
            statuses[r.status] = statuses.get(r.status, 0) + 1
            if r.status == 201:
                acked.append(name)
    except (OSError, http.client.HTTPException):
        pass  # the server was killed under us
    finally:
        conn.close()


def check_db(path, acked):
    """Opens a copy of the crashed files (so linlid later recovers the
    originals itself) and checks integrity and the acknowledged users."""
    db = sqlite3.connect(path)
    try:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        names = {row[0] for row in db.execute("SELECT username FROM users")}
        missing = [u for u in acked if u not in names]
        assert not missing, f"{len(missing)} acknowledged users lost, e.g. {missing[:5]}"
        # Each create wrote its user and its audit entry in one job: never one without the other.
        unaudited = db.execute(
            "SELECT count(*) FROM users WHERE 'user:' || id NOT IN"
            " (SELECT object FROM audit_log WHERE action = 'user.create')").fetchone()[0]
        assert unaudited == 0, f"{unaudited} users without their audit entry"
        return len(names)
    finally:
        db.close()


def test_kill9_under_create_load(tmp_path):
    db = str(tmp_path / "fault.db")
    log = str(tmp_path / "linlid.log")
    all_acked = []
    report = []
    for rnd in range(1, ROUNDS + 1):
        srv = Server(db, log)  # rounds 2 and 3 start on the files of a killed process
        token = srv.login()
        stop = threading.Event()
        acked_per_thread = [[] for _ in range(WRITERS)]
        statuses = [{} for _ in range(WRITERS)]
        threads = [threading.Thread(target=writer, daemon=True,
                                    args=(srv.port, token, f"r{rnd}t{i}", stop,
                                          acked_per_thread[i], statuses[i]))
                   for i in range(WRITERS)]
        for t in threads:
            t.start()
        # The kill must land mid-load: wait until creates are being answered
        # (a slow start on a busy machine must not make the round empty).
        deadline = time.monotonic() + LOAD_WARMUP_LIMIT
        while sum(len(a) for a in acked_per_thread) < LOAD_MIN_ACKED and \
                time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(LOAD_SECONDS + random.uniform(0, 0.5))
        srv.kill()  # SIGKILL mid-load
        stop.set()
        for t in threads:
            t.join(timeout=15)
            assert not t.is_alive(), "a writer thread hung after the kill"

        acked = [u for lst in acked_per_thread for u in lst]
        merged = {}
        for s in statuses:
            for k, v in s.items():
                merged[k] = merged.get(k, 0) + v
        with open(log, "rb") as f:
            log_tail = f.read()[-3000:].decode(errors="replace")
        assert acked, f"round {rnd}: no create was acknowledged before the kill ({merged})\n{log_tail}"
        assert set(merged) == {201}, f"round {rnd}: unexpected answers {merged}\n{log_tail}"
        all_acked += acked

        check = tmp_path / f"check{rnd}"
        check.mkdir()
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(db + suffix):
                shutil.copy(db + suffix, str(check / ("fault.db" + suffix)))
        rows = check_db(str(check / "fault.db"), all_acked)
        report.append(f"round {rnd}: {len(acked)} acknowledged, {rows} users in the database")

    # A last start on the crashed files, then a clean stop.
    srv = Server(db, log)
    token = srv.login()
    c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
    c.request("GET", "/api/v1/users?limit=1", headers={"Authorization": f"Bearer {token}"})
    r = c.getresponse()
    r.read()
    c.close()
    assert r.status == 200
    rc = srv.stop()
    with open(log, "rb") as f:
        log_tail = f.read()[-3000:].decode(errors="replace")
    assert rc == 0, f"linlid did not stop cleanly on SIGTERM (exit {rc})\n{log_tail}"
    total = check_db(db, all_acked)
    print("\n" + "\n".join(report) + f"\nafter the clean stop: {total} users, all acknowledged present")
