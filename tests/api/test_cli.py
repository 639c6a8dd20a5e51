"""The linli command line, alone and beside a running linlid."""
import http.client
import json
import re
import sqlite3
import threading

import pytest

from conftest import ADMIN_PASSWORD, assert_no_sanitizer_report, run_cli


def cli(*args, input=None, env=None, ok=True):
    r = run_cli(list(args), input=input, env=env)
    assert_no_sanitizer_report(r.stderr, "linli")
    if ok:
        assert r.returncode == 0, f"linli {' '.join(map(str, args))}: {r.returncode}\n{r.stderr}"
    return r


@pytest.fixture
def db(tmp_path):
    path = str(tmp_path / "cli.db")
    cli("--db", path, "init", env={"LINLI_ADMIN_PASSWORD": ADMIN_PASSWORD})
    return path


def list_rows(db):
    out = cli("--db", db, "user", "list").stdout
    rows = {}
    for line in out.splitlines()[1:]:
        parts = line.split(None, 5)
        if len(parts) >= 5:
            rows[parts[1]] = {"id": int(parts[0]), "role": parts[2], "scope": parts[3],
                              "state": parts[4], "name": parts[5] if len(parts) > 5 else ""}
    return rows


def test_init_prints_generated_admin_password(tmp_path, server_factory):
    path = str(tmp_path / "gen.db")
    r = cli("--db", path, "init")
    m = re.search(r"Created user admin with password: (\S+)", r.stdout)
    assert m, r.stdout
    pw = m.group(1)
    assert len(pw) >= 12
    # Running init again changes nothing and prints no password.
    r2 = cli("--db", path, "init")
    assert "exists already" in r2.stdout
    assert pw not in r2.stdout
    srv = server_factory.start(db=path, admin_password=None)
    st, h, b = srv.client.login_status("admin", pw)
    assert st == 200, b
    assert b["user"]["role"] == "admin"


def test_init_uses_env_password(tmp_path, server_factory):
    path = str(tmp_path / "env.db")
    r = cli("--db", path, "init", env={"LINLI_ADMIN_PASSWORD": "env-given-pass-1"})
    assert "LINLI_ADMIN_PASSWORD" in r.stdout
    assert "env-given-pass-1" not in r.stdout
    srv = server_factory.start(db=path, admin_password=None)
    assert srv.client.login_status("admin", "env-given-pass-1")[0] == 200


def test_init_refuses_weak_env_password(tmp_path):
    path = str(tmp_path / "weak.db")
    r = cli("--db", path, "init", env={"LINLI_ADMIN_PASSWORD": "short"}, ok=False)
    assert r.returncode != 0
    assert "password" in r.stderr.lower()


def test_user_add_reads_password_from_stdin_and_list_shows_it(db, server_factory):
    r = cli("--db", db, "user", "add", "carol", "--role", "community",
            "--scope", "110105001001", "--display-name", "Carol C", input="carol-password\n")
    assert "carol" in r.stdout
    assert "carol-password" not in r.stdout + r.stderr
    rows = list_rows(db)
    assert "carol" in rows, rows
    assert rows["carol"]["role"] == "community"
    assert rows["carol"]["scope"] == "110105001001"
    assert rows["carol"]["state"] == "active"
    assert rows["carol"]["name"] == "Carol C"
    srv = server_factory.start(db=db)
    st, h, b = srv.client.login_status("carol", "carol-password")
    assert st == 200, b
    assert b["user"]["scope"] == "110105001001"
    assert b["user"]["display_name"] == "Carol C"
    # The CLI's create is in the audit log, made by the CLI.
    entries = srv.client.audit(srv.admin_token(), "&action=user.create")
    mine = [e for e in entries if e["detail"] and e["detail"].get("username") == "carol"]
    assert len(mine) == 1
    assert mine[0]["username"].startswith("cli:")


def test_user_add_normalises_scope(db):
    cli("--db", db, "user", "add", "dora", "--role", "district", "--scope", "110105",
        "--no-password")
    cli("--db", db, "user", "add", "eddy", "--role", "street", "--scope", "110105001",
        "--no-password")
    rows = list_rows(db)
    assert rows["dora"]["scope"] == "110105000000"
    assert rows["dora"]["state"] == "no-pass"
    assert rows["eddy"]["scope"] == "110105001000"


def test_user_list_role_filter(db):
    cli("--db", db, "user", "add", "vol1", "--role", "volunteer", "--no-password")
    out = cli("--db", db, "user", "list", "--role", "volunteer").stdout
    assert "vol1" in out
    assert "admin" not in out.split("\n", 1)[1]


def test_user_passwd_then_login_with_new_password(db, server_factory):
    cli("--db", db, "user", "add", "frank", "--role", "resident", input="frank-old-pass\n")
    srv = server_factory.start(db=db)
    old_token = srv.client.login("frank", "frank-old-pass")
    r = cli("--db", db, "user", "passwd", "frank", input="frank-new-pass\n")
    assert "frank" in r.stdout
    st, h, b = srv.client.login_status("frank", "frank-new-pass")
    assert st == 200, b
    assert srv.client.login_status("frank", "frank-old-pass")[0] == 401
    assert srv.client.get("/api/v1/me", token=old_token)[0] == 401


def test_user_disable_blocks_login_and_enable_restores(db, server_factory):
    cli("--db", db, "user", "add", "gina", "--role", "resident", input="gina-password\n")
    srv = server_factory.start(db=db)
    tok = srv.client.login("gina", "gina-password")
    r = cli("--db", db, "user", "disable", "gina")
    assert "disabled" in r.stdout
    assert srv.client.login_status("gina", "gina-password")[0] == 401
    assert srv.client.get("/api/v1/me", token=tok)[0] == 401
    assert list_rows(db)["gina"]["state"] == "disabled"
    cli("--db", db, "user", "enable", "gina")
    assert srv.client.login_status("gina", "gina-password")[0] == 200


def test_bad_role_fails_with_message(db):
    before = list_rows(db)
    r = cli("--db", db, "user", "add", "hank", "--role", "king", "--no-password", ok=False)
    assert r.returncode != 0
    assert "role" in r.stderr
    assert list_rows(db) == before


@pytest.mark.parametrize("args,needle", [
    (["user", "add", "ivy", "--role", "community", "--scope", "110105", "--no-password"],
     "scope"),
    (["user", "add", "ivy", "--role", "district", "--no-password"], "scope"),
    (["user", "add", "ivy", "--no-password"], "role"),
    (["user", "add", "IV", "--role", "resident", "--no-password"], "username"),
    (["user", "add", "ivy", "--role", "resident", "--bogus", "--no-password"], "bogus"),
    (["user", "passwd", "nobody-here"], "nobody-here"),
    (["user", "disable", "nobody-here"], "nobody-here"),
    (["user", "frobnicate"], "frobnicate"),
    (["dance"], "dance"),
])
def test_cli_errors_exit_nonzero(db, args, needle):
    before = list_rows(db)
    r = cli("--db", db, *args, input="some-password\n", ok=False)
    assert r.returncode != 0
    assert needle in r.stderr, r.stderr
    assert list_rows(db) == before


def test_duplicate_user_add_fails(db):
    cli("--db", db, "user", "add", "jack", "--role", "resident", "--no-password")
    r = cli("--db", db, "user", "add", "jack", "--role", "resident", "--no-password", ok=False)
    assert r.returncode != 0
    assert "jack" in r.stderr


def test_short_password_from_stdin_refused(db):
    r = cli("--db", db, "user", "add", "kim", "--role", "resident", input="short\n", ok=False)
    assert r.returncode != 0
    assert "password" in r.stderr
    assert "kim" not in list_rows(db)


def test_commands_on_missing_db_fail(tmp_path):
    r = cli("--db", str(tmp_path / "nope.db"), "user", "list", ok=False)
    assert r.returncode != 0
    assert "init" in r.stderr
    assert not (tmp_path / "nope.db").exists()


def test_backup_under_write_load(db, server_factory, tmp_path):
    srv = server_factory.start(db=db)
    token = srv.admin_token()
    created = []
    stop = threading.Event()
    errors = []

    def writer():
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=20)
        i = 0
        while not stop.is_set() and i < 2000:
            body = json.dumps({"username": f"load-{i:05d}", "role": "resident"})
            try:
                conn.request("POST", "/api/v1/users", body=body,
                             headers={"Content-Type": "application/json",
                                      "Authorization": "Bearer " + token})
                r = conn.getresponse()
                r.read()
            except (OSError, http.client.HTTPException) as e:
                errors.append(repr(e))
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=20)
                continue
            if r.status == 201:
                created.append(f"load-{i:05d}")
            else:
                errors.append(r.status)
            i += 1
        conn.close()

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    try:
        for _ in range(2000):
            if len(created) >= 30 or not t.is_alive():
                break
            threading.Event().wait(0.01)
        before_backup = list(created)
        assert len(before_backup) >= 30
        out = str(tmp_path / "backup.db")
        r = cli("--db", db, "backup", out)
        assert "integrity" in r.stdout
    finally:
        stop.set()
        t.join(30)
    assert not errors, errors[:5]
    con = sqlite3.connect(out)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        names = {row[0] for row in con.execute("SELECT username FROM users")}
        assert "admin" in names
        missing = [n for n in before_backup if n not in names]
        assert not missing, f"users created before the backup are missing: {missing[:5]}"
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    finally:
        con.close()
    # The copy is a working Linli database.
    copy = server_factory.start(db=out)
    assert copy.client.login_status("admin", ADMIN_PASSWORD)[0] == 200
    # The server kept serving throughout.
    assert srv.client.get("/readyz")[0] == 200
