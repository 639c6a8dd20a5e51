"""Idempotency-Key on POST /api/v1/users."""
import json

from conftest import assert_problem, field_errors


def test_same_key_same_body_replays(client, admin, uniq):
    name = uniq("idem")
    body = json.dumps({"username": name, "role": "resident", "display_name": "Once"})
    before = len(client.all_users(admin))
    audit_before = len(client.audit(admin, "&action=user.create"))
    key = {"Idempotency-Key": f"key-{name}"}
    st1, h1, b1 = client.request("POST", "/api/v1/users", raw=body.encode(), token=admin,
                                 headers=key)
    assert st1 == 201, b1
    assert h1.get("Idempotent-Replayed") is None
    st2, h2, b2 = client.request("POST", "/api/v1/users", raw=body.encode(), token=admin,
                                 headers=key)
    assert st2 == 201, b2
    assert h2.get("Idempotent-Replayed") == "true"
    assert b2["id"] == b1["id"]
    assert b2 == b1
    assert h2.get("Location") == f"/api/v1/users/{b1['id']}"
    users = client.all_users(admin)
    assert len(users) == before + 1
    assert sum(1 for u in users if u["username"] == name) == 1
    assert len(client.audit(admin, "&action=user.create")) == audit_before + 1


def test_same_key_different_body_409(client, admin, uniq):
    name = uniq("idc")
    key = {"Idempotency-Key": f"key-{name}"}
    st, h, b = client.request("POST", "/api/v1/users", body={"username": name, "role": "resident"},
                              token=admin, headers=key)
    assert st == 201
    before = len(client.all_users(admin))
    st, h, b = client.request("POST", "/api/v1/users",
                              body={"username": name + "x", "role": "resident"},
                              token=admin, headers=key)
    assert_problem(st, h, b, 409)
    assert len(client.all_users(admin)) == before
    assert not any(u["username"] == name + "x" for u in client.all_users(admin))


def test_different_keys_create_separately(client, admin, uniq):
    n1, n2 = uniq("idk"), uniq("idk")
    st1, h1, b1 = client.request("POST", "/api/v1/users", body={"username": n1, "role": "resident"},
                                 token=admin, headers={"Idempotency-Key": "k-" + n1})
    st2, h2, b2 = client.request("POST", "/api/v1/users", body={"username": n2, "role": "resident"},
                                 token=admin, headers={"Idempotency-Key": "k-" + n2})
    assert st1 == 201 and st2 == 201
    assert b1["id"] != b2["id"]
    assert h2.get("Idempotent-Replayed") is None


def test_key_without_key_header_duplicate_is_409(client, admin, uniq):
    """Without a key, sending the same create twice is a plain duplicate."""
    name = uniq("nok")
    assert client.post("/api/v1/users", {"username": name, "role": "resident"}, token=admin)[0] == 201
    st, h, b = client.post("/api/v1/users", {"username": name, "role": "resident"}, token=admin)
    assert_problem(st, h, b, 409)


def test_invalid_key_422(client, admin, uniq):
    before = len(client.all_users(admin))
    st, h, b = client.request("POST", "/api/v1/users",
                              body={"username": uniq("ik"), "role": "resident"},
                              token=admin, headers={"Idempotency-Key": "x" * 300})
    assert_problem(st, h, b, 422)
    assert "Idempotency-Key" in field_errors(b)
    assert len(client.all_users(admin)) == before


def test_keys_are_per_user(client, admin, uniq):
    """Another admin may use the same key string for its own request."""
    other = uniq("adm")
    client.create_user(admin, other, role="admin", password="second-admin-pw")
    tok2 = client.login(other, "second-admin-pw")
    key = {"Idempotency-Key": "shared-" + other}
    st1, _, b1 = client.request("POST", "/api/v1/users", body={"username": uniq("pk"),
                                "role": "resident"}, token=admin, headers=key)
    st2, h2, b2 = client.request("POST", "/api/v1/users", body={"username": uniq("pk"),
                                 "role": "resident"}, token=tok2, headers=key)
    assert st1 == 201 and st2 == 201, (b1, b2)
    assert b1["id"] != b2["id"]
    assert h2.get("Idempotent-Replayed") is None


def test_failed_request_does_not_use_up_key(client, admin, uniq):
    name = uniq("fk")
    key = {"Idempotency-Key": "fk-" + name}
    st, h, b = client.request("POST", "/api/v1/users",
                              body={"username": name, "role": "community"},  # no scope
                              token=admin, headers=key)
    assert_problem(st, h, b, 422)
    st, h, b = client.request("POST", "/api/v1/users",
                              body={"username": name, "role": "community",
                                    "scope": "110105001001"}, token=admin, headers=key)
    assert st == 201, b
    assert h.get("Idempotent-Replayed") is None
