"""Start-up refusals: databases from a newer release, and files that are not
Linli databases, are never touched."""
import os
import re
import sqlite3
import subprocess

import pytest

from conftest import (ADMIN_PASSWORD, LINLID, assert_no_sanitizer_report, free_port, run_cli,
                      run_linlid)


def latest_schema():
    out = subprocess.run([LINLID, "--version"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0
    m = re.search(r"schema (\d+)", out.stdout)
    assert m, out.stdout
    return int(m.group(1))


def start_expect_failure(db):
    try:
        r = run_linlid(["--db", db, "--listen", f"127.0.0.1:{free_port()}", "--static-dir", ""],
                       timeout=30, env={"LINLI_ADMIN_PASSWORD": ADMIN_PASSWORD})
    except subprocess.TimeoutExpired:
        pytest.fail("linlid started (and kept running) on a database it must refuse")
    assert_no_sanitizer_report(r.stderr)
    return r


def init_db(tmp_path):
    db = str(tmp_path / "linli.db")
    r = run_cli(["--db", db, "init"], env={"LINLI_ADMIN_PASSWORD": ADMIN_PASSWORD})
    assert r.returncode == 0, r.stderr
    return db


def test_version_reports_schema():
    assert latest_schema() >= 1


def test_newer_schema_refused(tmp_path):
    db = init_db(tmp_path)
    newer = latest_schema() + 1
    con = sqlite3.connect(db)
    con.execute(f"PRAGMA user_version = {newer}")
    con.commit()
    con.close()
    r = start_expect_failure(db)
    assert r.returncode != 0
    assert "newer" in r.stderr, r.stderr
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA user_version").fetchone()[0] == newer
    con.close()


def test_newer_schema_refused_by_cli(tmp_path):
    db = init_db(tmp_path)
    con = sqlite3.connect(db)
    con.execute(f"PRAGMA user_version = {latest_schema() + 5}")
    con.commit()
    con.close()
    r = run_cli(["--db", db, "user", "list"])
    assert r.returncode != 0
    assert "newer" in r.stderr


def test_foreign_sqlite_file_refused(tmp_path):
    db = str(tmp_path / "other.db")
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE recipes (id INTEGER PRIMARY KEY, name TEXT)")
    con.execute("INSERT INTO recipes (name) VALUES ('dumplings')")
    con.commit()
    con.close()
    r = start_expect_failure(db)
    assert r.returncode != 0
    assert "not a Linli database" in r.stderr, r.stderr
    con = sqlite3.connect(db)
    tables = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert tables == {"recipes"}
    assert con.execute("PRAGMA user_version").fetchone()[0] == 0
    assert con.execute("SELECT name FROM recipes").fetchall() == [("dumplings",)]
    con.close()


def test_foreign_application_id_refused(tmp_path):
    db = str(tmp_path / "app.db")
    con = sqlite3.connect(db)
    con.execute("PRAGMA application_id = 12345")
    con.commit()
    con.close()
    r = start_expect_failure(db)
    assert r.returncode != 0
    assert "not a Linli database" in r.stderr, r.stderr


def test_non_sqlite_file_refused(tmp_path):
    db = str(tmp_path / "notes.db")
    with open(db, "wb") as f:
        f.write(b"these are my notes, not a database\n" * 100)
    r = start_expect_failure(db)
    assert r.returncode != 0
    with open(db, "rb") as f:
        assert f.read() == b"these are my notes, not a database\n" * 100


def test_same_schema_database_starts(server_factory, tmp_path):
    db = init_db(tmp_path)
    srv = server_factory.start(db=db)
    st, h, b = srv.client.get("/api/v1")
    assert st == 200
    assert srv.client.login("admin", ADMIN_PASSWORD)
