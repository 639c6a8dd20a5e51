/* test_auth.c - passwords, logins, sessions and login limits
 * (src/domain/auth.c), on a real store in a temporary directory. Argon2 runs
 * with its smallest parameters so the tests stay quick. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "support.h"

#include "base/clock.h"
#include "base/log.h"
#include "base/status.h"
#include "domain/auth.h"
#include "domain/users.h"
#include "store/store.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ADMIN_PASSWORD "correct horse battery"
#define WAIT_BOUND_MS  20000

struct fixture {
    char dir[64];
    char db[128];
    struct auth_options ao;
    struct domain d;
    struct principal admin; /* the bootstrap admin, as a caller */
    struct linli_err err;
};

static void small_auth_options(struct auth_options *o)
{
    fast_auth_options(o);
    o->max_failures_user = 3;
    o->max_failures_ip = 10;
    o->window_s = 900;
}

/* Opens the store and the auth with `f->ao`; no accounts yet. */
static int start(struct fixture *f)
{
    return open_domain(&f->d, f->db, &f->ao, &f->err);
}

static void stop(struct fixture *f)
{
    close_domain(&f->d);
}

static int setup_empty(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (make_temp_dir("auth", f->dir, sizeof f->dir, "linli.db", f->db, sizeof f->db))
        return -1;
    small_auth_options(&f->ao);
    linli_err_clear(&f->err);
    *state = f;
    return start(f);
}

/* Like setup_empty, plus the admin account ("admin", ADMIN_PASSWORD). */
static int setup(void **state)
{
    if (setup_empty(state))
        return -1;
    struct fixture *f = *state;
    bool created = false;
    if (admin_principal(&f->d, ADMIN_PASSWORD, &created, &f->admin, &f->err) || !created)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    stop(f);
    remove_tree(f->dir);
    free(f);
    return 0;
}

/* ---- helpers ---- */

static void token_hash_hex(const char *token, char out[65])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)token, strlen(token));
    sodium_bin2hex(out, 65, h, sizeof h);
}

static int login(struct fixture *f, const char *user, const char *password, const char *ip,
                 struct login_result *out)
{
    linli_err_clear(&f->err);
    return auth_login(&f->d, user, password, ip, "req-1", out, &f->err);
}

static void login_ok(struct fixture *f, const char *user, const char *password,
                     struct login_result *out)
{
    int rc = login(f, user, password, "127.0.0.1", out);
    if (rc != LINLI_OK)
        fail_msg("login %s: %d %s", user, rc, f->err.detail);
}

static int authenticate(struct fixture *f, const char *token, struct principal *p)
{
    linli_err_clear(&f->err);
    memset(p, 0, sizeof *p);
    return auth_authenticate(&f->d, token, p, NULL, &f->err);
}

static int64_t create_user(struct fixture *f, const char *name, const char *role, const char *scope,
                           const char *password)
{
    struct user_new in = {.username = name, .role = role, .scope = scope, .password = password};
    struct user u;
    linli_err_clear(&f->err);
    int rc = users_create(&f->d, &f->admin, &in, NULL, &u, NULL, &f->err);
    if (rc)
        fail_msg("create %s: %d %s", name, rc, f->err.detail);
    return u.id;
}

/* ---- the admin account ---- */

static void users_ensure_admin_creates_the_admin_once(void **state)
{
    struct fixture *f = *state;
    bool created = false;
    assert_ok(users_ensure_admin(&f->d, "first password", NULL, 0, &created, &f->err), &f->err);
    assert_true(created);
    created = true;
    assert_ok(users_ensure_admin(&f->d, "second password", NULL, 0, &created, &f->err), &f->err);
    assert_false(created);
    int64_t n = 0;
    assert_ok(users_count(&f->d, &n, &f->err), &f->err);
    assert_int_equal(n, 1);
    assert_int_equal(sql_int(f->d.store, "SELECT count(*) FROM users WHERE role = 'admin'", NULL),
                     1);
    /* the first password stands */
    struct login_result r;
    login_ok(f, "admin", "first password", &r);
    assert_int_equal(login(f, "admin", "second password", "127.0.0.1", &r), LINLI_EUNAUTH);
}

static void users_ensure_admin_generates_a_password_when_none_given(void **state)
{
    struct fixture *f = *state;
    char generated[32] = "";
    bool created = false;
    assert_ok(users_ensure_admin(&f->d, NULL, generated, sizeof generated, &created, &f->err),
              &f->err);
    assert_true(created);
    assert_int_equal(strlen(generated), 20);
    struct login_result r;
    login_ok(f, "admin", generated, &r);
    assert_int_equal(r.user.role, ROLE_ADMIN);
    assert_string_equal(r.user.scope, "");
}

static void users_ensure_admin_refuses_a_weak_password(void **state)
{
    struct fixture *f = *state;
    bool created = true;
    assert_int_equal(users_ensure_admin(&f->d, "short", NULL, 0, &created, &f->err), LINLI_EINVAL);
    assert_false(created);
    assert_contains(f->err.detail, "LINLI_ADMIN_PASSWORD");
    int64_t n = -1;
    assert_ok(users_count(&f->d, &n, &f->err), &f->err);
    assert_int_equal(n, 0);
}

static void users_ensure_admin_audits_the_creation(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(
        sql_int(f->d.store,
                "SELECT count(*) FROM audit_log WHERE action = 'user.create'"
                " AND object = 'user:' || (SELECT id FROM users WHERE username = 'admin')"
                " AND username = 'system' AND user_id IS NULL",
                NULL),
        1);
}

/* ---- login and tokens ---- */

static void auth_login_yields_an_lnl_token_of_43_base64url_chars(void **state)
{
    struct fixture *f = *state;
    struct login_result r;
    int64_t before = clock_now_ms();
    login_ok(f, "admin", ADMIN_PASSWORD, &r);
    assert_int_equal(strncmp(r.token, "lnl_", 4), 0);
    assert_int_equal(strlen(r.token), 4 + 43);
    for (const char *p = r.token + 4; *p; p++)
        if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", *p))
            fail_msg("token %s has '%c'", r.token, *p);
    assert_int_equal(r.user.id, f->admin.user_id);
    assert_string_equal(r.user.username, "admin");
    assert_int_equal(r.user.role, ROLE_ADMIN);
    assert_true(r.user.has_password);
    assert_true(r.expires_at >= before + f->ao.token_ttl_s * 1000);
    assert_true(r.expires_at <= clock_now_ms() + f->ao.token_ttl_s * 1000);
}

static void auth_login_gives_a_new_token_each_time(void **state)
{
    struct fixture *f = *state;
    struct login_result a, b;
    login_ok(f, "admin", ADMIN_PASSWORD, &a);
    login_ok(f, "admin", ADMIN_PASSWORD, &b);
    assert_string_not_equal(a.token, b.token);
    struct principal p;
    assert_int_equal(authenticate(f, a.token, &p), LINLI_OK);
    assert_int_equal(authenticate(f, b.token, &p), LINLI_OK);
}

static void auth_authenticate_resolves_the_token_to_its_principal(void **state)
{
    struct fixture *f = *state;
    int64_t id = create_user(f, "li.wei", "community", "110105001024", "community pass 1");
    struct login_result r;
    login_ok(f, "li.wei", "community pass 1", &r);
    struct principal p;
    struct user u;
    linli_err_clear(&f->err);
    assert_ok(auth_authenticate(&f->d, r.token, &p, &u, &f->err), &f->err);
    assert_int_equal(p.user_id, id);
    assert_string_equal(p.username, "li.wei");
    assert_int_equal(p.role, ROLE_COMMUNITY);
    assert_string_equal(p.scope, "110105001024");
    assert_int_equal(u.id, id);
    assert_string_equal(u.username, "li.wei");
    assert_false(u.disabled);
}

static void auth_authenticate_refuses_malformed_and_unknown_tokens(void **state)
{
    struct fixture *f = *state;
    struct login_result r;
    login_ok(f, "admin", ADMIN_PASSWORD, &r);
    char tampered[TOKEN_MAX];
    snprintf(tampered, sizeof tampered, "%s", r.token);
    tampered[10] = tampered[10] == 'A' ? 'B' : 'A';
    char longer[TOKEN_MAX + 512];
    snprintf(longer, sizeof longer, "%sA", r.token);
    char bad_char[TOKEN_MAX + 512];
    snprintf(bad_char, sizeof bad_char, "%s", r.token);
    bad_char[20] = '+';
    char other_prefix[TOKEN_MAX + 512];
    snprintf(other_prefix, sizeof other_prefix, "xyz_%s", r.token + 4);
    const char *bad[] = {"",     "lnl_",   "lnl_short",  r.token + 4,     tampered,
                         longer, bad_char, other_prefix, "Bearer lnl_abc"};
    struct principal p;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (authenticate(f, bad[i], &p) != LINLI_EUNAUTH)
            fail_msg("token \"%s\" was not refused", bad[i]);
        assert_int_equal(f->err.status, LINLI_EUNAUTH);
    }
    assert_int_equal(authenticate(f, NULL, &p), LINLI_EUNAUTH);
    assert_int_equal(authenticate(f, r.token, &p), LINLI_OK);
}

static void auth_login_with_wrong_password_is_eunauth(void **state)
{
    struct fixture *f = *state;
    struct login_result r;
    memset(&r, 0, sizeof r);
    assert_int_equal(login(f, "admin", "not the password", "127.0.0.1", &r), LINLI_EUNAUTH);
    assert_int_equal(f->err.status, LINLI_EUNAUTH);
    assert_string_equal(r.token, "");
    assert_int_equal(r.user.id, 0); /* nothing about the account leaks */
    assert_int_equal(sql_int(f->d.store, "SELECT count(*) FROM sessions", NULL), 0);
}

static void auth_login_answers_unknown_user_like_wrong_password(void **state)
{
    struct fixture *f = *state;
    struct login_result r;
    assert_int_equal(login(f, "admin", "not the password", "10.0.0.1", &r), LINLI_EUNAUTH);
    char wrong_password[sizeof f->err.detail];
    snprintf(wrong_password, sizeof wrong_password, "%s", f->err.detail);
    assert_int_equal(login(f, "nobody", "not the password", "10.0.0.2", &r), LINLI_EUNAUTH);
    assert_string_equal(f->err.detail, wrong_password);
}

static void auth_login_of_an_account_without_password_is_eunauth(void **state)
{
    struct fixture *f = *state;
    create_user(f, "nopass", "resident", NULL, NULL);
    struct login_result r;
    assert_int_equal(login(f, "nopass", "", "127.0.0.1", &r), LINLI_EUNAUTH);
    assert_int_equal(login(f, "nopass", "anything at all", "127.0.0.1", &r), LINLI_EUNAUTH);
}

static void auth_login_is_refused_after_max_failures_user_even_with_right_password(void **state)
{
    struct fixture *f = *state;
    struct login_result r;
    for (int i = 0; i < f->ao.max_failures_user; i++)
        assert_int_equal(login(f, "admin", "guess", "10.0.0.1", &r), LINLI_EUNAUTH);
    assert_int_equal(login(f, "admin", ADMIN_PASSWORD, "10.0.0.1", &r), LINLI_ELIMIT);
    assert_int_equal(f->err.status, LINLI_ELIMIT);
    assert_true(f->err.retry_after > 0);
    assert_true(f->err.retry_after <= f->ao.window_s);
    /* the limit is on the username, from any address */
    assert_int_equal(login(f, "admin", ADMIN_PASSWORD, "10.9.9.9", &r), LINLI_ELIMIT);
    assert_true(f->err.retry_after > 0);
    assert_int_equal(sql_int(f->d.store, "SELECT count(*) FROM sessions", NULL), 0);
}

static void auth_login_limit_on_one_user_leaves_others_alone(void **state)
{
    struct fixture *f = *state;
    create_user(f, "zhang.min", "resident", NULL, "resident pass");
    struct login_result r;
    for (int i = 0; i < f->ao.max_failures_user; i++)
        assert_int_equal(login(f, "admin", "guess", "10.0.0.1", &r), LINLI_EUNAUTH);
    assert_int_equal(login(f, "admin", ADMIN_PASSWORD, "10.0.0.2", &r), LINLI_ELIMIT);
    login_ok(f, "zhang.min", "resident pass", &r);
}

static void auth_login_success_resets_the_users_failure_count(void **state)
{
    struct fixture *f = *state;
    struct login_result r;
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < f->ao.max_failures_user - 1; i++)
            assert_int_equal(login(f, "admin", "guess", "10.0.0.1", &r), LINLI_EUNAUTH);
        login_ok(f, "admin", ADMIN_PASSWORD, &r);
    }
}

static void auth_login_is_refused_after_max_failures_ip_from_that_address(void **state)
{
    struct fixture *f = *state;
    create_user(f, "wang.fang", "resident", NULL, "resident pass");
    struct login_result r;
    /* spread over many usernames so no single user reaches its own limit */
    for (int i = 0; i < f->ao.max_failures_ip; i++) {
        char name[32];
        snprintf(name, sizeof name, "guess%d", i);
        assert_int_equal(login(f, name, "guess", "192.0.2.7", &r), LINLI_EUNAUTH);
    }
    assert_int_equal(login(f, "wang.fang", "resident pass", "192.0.2.7", &r), LINLI_ELIMIT);
    assert_true(f->err.retry_after > 0);
    /* another address is not affected */
    login_ok(f, "wang.fang", "resident pass", &r);
}

/* ---- sessions ---- */

static void auth_logout_revokes_the_token(void **state)
{
    struct fixture *f = *state;
    struct login_result a, b;
    login_ok(f, "admin", ADMIN_PASSWORD, &a);
    login_ok(f, "admin", ADMIN_PASSWORD, &b);
    struct principal p;
    assert_int_equal(authenticate(f, a.token, &p), LINLI_OK);
    linli_err_clear(&f->err);
    assert_ok(auth_logout(&f->d, &p, a.token, &f->err), &f->err);
    assert_int_equal(authenticate(f, a.token, &p), LINLI_EUNAUTH);
    assert_int_equal(f->err.status, LINLI_EUNAUTH);
    /* the user's other session is untouched */
    assert_int_equal(authenticate(f, b.token, &p), LINLI_OK);
    char th[65];
    token_hash_hex(a.token, th);
    assert_int_not_equal(
        sql_int(f->d.store, "SELECT revoked_at FROM sessions WHERE token_hash = ?1", th), 0);
}

static void auth_login_and_logout_are_audited(void **state)
{
    struct fixture *f = *state;
    struct login_result r;
    login_ok(f, "admin", ADMIN_PASSWORD, &r);
    struct principal p;
    assert_int_equal(authenticate(f, r.token, &p), LINLI_OK);
    snprintf(p.ip, sizeof p.ip, "127.0.0.1");
    assert_ok(auth_logout(&f->d, &p, r.token, &f->err), &f->err);
    char sql[160];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM audit_log WHERE action = 'auth.login' AND user_id = %lld"
             " AND ip = '127.0.0.1' AND request_id = 'req-1'",
             (long long)f->admin.user_id);
    assert_int_equal(sql_int(f->d.store, sql, NULL), 1);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM audit_log WHERE action = 'auth.logout' AND user_id = %lld",
             (long long)f->admin.user_id);
    assert_int_equal(sql_int(f->d.store, sql, NULL), 1);
    /* a failed login opens no session and writes no login entry */
    assert_int_equal(login(f, "admin", "guess", "127.0.0.1", &r), LINLI_EUNAUTH);
    assert_int_equal(
        sql_int(f->d.store, "SELECT count(*) FROM audit_log WHERE action = 'auth.login'", NULL), 1);
}

static void auth_stores_only_the_sha256_of_the_token(void **state)
{
    struct fixture *f = *state;
    struct login_result r;
    login_ok(f, "admin", ADMIN_PASSWORD, &r);
    char stored[256];
    sql_text(f->d.store, "SELECT token_hash FROM sessions", NULL, stored, sizeof stored);
    assert_string_not_equal(stored, r.token);
    assert_null(strstr(stored, r.token + 4));
    char want[65];
    token_hash_hex(r.token, want);
    assert_string_equal(stored, want);
    /* the token appears nowhere in the database's session rows */
    assert_int_equal(sql_int(f->d.store,
                             "SELECT count(*) FROM sessions WHERE token_hash = ?1"
                             " OR ip = ?1 OR CAST(user_id AS TEXT) = ?1",
                             r.token),
                     0);
}

static void auth_stores_passwords_as_argon2id_hashes(void **state)
{
    struct fixture *f = *state;
    char hash[256];
    sql_text(f->d.store, "SELECT password_hash FROM users WHERE username = 'admin'", NULL, hash,
             sizeof hash);
    assert_int_equal(strncmp(hash, "$argon2id$", 10), 0);
    assert_null(strstr(hash, ADMIN_PASSWORD));
}

static void auth_disabled_user_cannot_log_in_and_loses_open_sessions(void **state)
{
    struct fixture *f = *state;
    int64_t id = create_user(f, "chen.jie", "resident", NULL, "resident pass");
    struct login_result r;
    login_ok(f, "chen.jie", "resident pass", &r);
    struct principal p;
    assert_int_equal(authenticate(f, r.token, &p), LINLI_OK);

    struct user_patch patch = {.set_disabled = true, .disabled = true};
    struct user u;
    linli_err_clear(&f->err);
    assert_ok(users_update(&f->d, &f->admin, id, &patch, &u, &f->err), &f->err);
    assert_true(u.disabled);

    assert_int_equal(authenticate(f, r.token, &p), LINLI_EUNAUTH);
    assert_int_equal(login(f, "chen.jie", "resident pass", "127.0.0.1", &r), LINLI_EUNAUTH);
    assert_string_equal(f->err.detail, "Wrong username or password.");
}

static void auth_token_of_a_disabled_account_fails_even_if_not_revoked(void **state)
{
    struct fixture *f = *state;
    create_user(f, "chen.jie", "resident", NULL, "resident pass");
    struct login_result r;
    login_ok(f, "chen.jie", "resident pass", &r);
    sql_exec(f->d.store, "UPDATE users SET disabled = 1 WHERE username = 'chen.jie'");
    struct principal p;
    assert_int_equal(authenticate(f, r.token, &p), LINLI_EUNAUTH);
    sql_exec(f->d.store, "UPDATE users SET disabled = 0 WHERE username = 'chen.jie'");
    assert_int_equal(authenticate(f, r.token, &p), LINLI_OK);
}

static void auth_expired_token_fails(void **state)
{
    struct fixture *f = *state;
    struct login_result a, b;
    login_ok(f, "admin", ADMIN_PASSWORD, &a);
    login_ok(f, "admin", ADMIN_PASSWORD, &b);
    char th[65], sql[256];
    token_hash_hex(a.token, th);
    snprintf(sql, sizeof sql, "UPDATE sessions SET expires_at = %lld WHERE token_hash = '%s'",
             (long long)(clock_now_ms() - 1), th);
    sql_exec(f->d.store, sql);
    struct principal p;
    assert_int_equal(authenticate(f, a.token, &p), LINLI_EUNAUTH);
    assert_contains(f->err.detail, "expired");
    assert_int_equal(authenticate(f, b.token, &p), LINLI_OK);
}

static void auth_token_expires_after_token_ttl(void **state)
{
    struct fixture *f = *state;
    stop(f);
    f->ao.token_ttl_s = 1;
    assert_int_equal(start(f), 0);
    struct login_result r;
    login_ok(f, "admin", ADMIN_PASSWORD, &r);
    /* wait (with a generous bound) until the clock passes the expiry */
    for (int i = 0; clock_now_ms() <= r.expires_at; i++) {
        if (i > WAIT_BOUND_MS)
            fail_msg("the clock never passed the expiry");
        usleep(1000);
    }
    struct principal p;
    assert_int_equal(authenticate(f, r.token, &p), LINLI_EUNAUTH);
}

static void auth_password_change_ends_the_users_sessions(void **state)
{
    struct fixture *f = *state;
    int64_t id = create_user(f, "zhao.lei", "resident", NULL, "old password");
    struct login_result r;
    login_ok(f, "zhao.lei", "old password", &r);
    struct user_patch patch = {.set_password = true, .password = "new password"};
    struct user u;
    linli_err_clear(&f->err);
    assert_ok(users_update(&f->d, &f->admin, id, &patch, &u, &f->err), &f->err);
    struct principal p;
    assert_int_equal(authenticate(f, r.token, &p), LINLI_EUNAUTH);
    assert_int_equal(login(f, "zhao.lei", "old password", "127.0.0.1", &r), LINLI_EUNAUTH);
    login_ok(f, "zhao.lei", "new password", &r);
}

static void auth_purge_deletes_sessions_expired_over_a_day_ago(void **state)
{
    struct fixture *f = *state;
    struct login_result old, recent, live;
    login_ok(f, "admin", ADMIN_PASSWORD, &old);
    login_ok(f, "admin", ADMIN_PASSWORD, &recent);
    login_ok(f, "admin", ADMIN_PASSWORD, &live);
    char th[65], sql[256];
    int64_t now = clock_now_ms();
    token_hash_hex(old.token, th);
    snprintf(sql, sizeof sql, "UPDATE sessions SET expires_at = %lld WHERE token_hash = '%s'",
             (long long)(now - 2LL * 24 * 3600 * 1000), th);
    sql_exec(f->d.store, sql);
    token_hash_hex(recent.token, th);
    snprintf(sql, sizeof sql, "UPDATE sessions SET expires_at = %lld WHERE token_hash = '%s'",
             (long long)(now - 3600 * 1000), th);
    sql_exec(f->d.store, sql);
    linli_err_clear(&f->err);
    assert_ok(auth_purge(&f->d, &f->err), &f->err);
    assert_int_equal(sql_int(f->d.store, "SELECT count(*) FROM sessions", NULL), 2);
    token_hash_hex(old.token, th);
    assert_int_equal(sql_int(f->d.store, "SELECT count(*) FROM sessions WHERE token_hash = ?1", th),
                     0);
    struct principal p;
    assert_int_equal(authenticate(f, live.token, &p), LINLI_OK);
}

/* ---- hashing slots ---- */

static void auth_hash_password_produces_a_verifiable_hash(void **state)
{
    struct fixture *f = *state;
    char hash[crypto_pwhash_STRBYTES];
    linli_err_clear(&f->err);
    assert_ok(auth_hash_password(f->d.auth, "王芳的密码很长", hash, &f->err), &f->err);
    assert_int_equal(crypto_pwhash_str_verify(hash, "王芳的密码很长", strlen("王芳的密码很长")), 0);
    assert_int_not_equal(crypto_pwhash_str_verify(hash, "wrong", 5), 0);
}

struct hasher {
    struct auth *auth;
    atomic_int stop;
    atomic_int hashed;
    atomic_int busy;
    pthread_t thread;
};

static void *hash_loop(void *arg)
{
    struct hasher *h = arg;
    char out[crypto_pwhash_STRBYTES];
    while (!atomic_load(&h->stop)) {
        struct linli_err err;
        linli_err_clear(&err);
        int rc = auth_hash_password(h->auth, "holding the slot", out, &err);
        if (rc == LINLI_OK)
            atomic_fetch_add(&h->hashed, 1);
        else if (rc == LINLI_EBUSY)
            atomic_fetch_add(&h->busy, 1);
    }
    return NULL;
}

/* With one slot and no waiting, a hash asked for while another thread holds
 * the slot is refused with EBUSY. Another thread hashes in a loop with more
 * memory, so it holds the slot nearly all the time; we try until we meet it
 * there (the bound is generous; in practice the first tries do). */
static void auth_hash_is_ebusy_when_the_only_slot_is_held(void **state)
{
    (void)state;
    struct auth_options o;
    small_auth_options(&o);
    o.hash_concurrency = 1;
    o.hash_wait_ms = 0;
    o.argon_mem = 8u << 20;
    struct auth *a = auth_new(&o);
    assert_non_null(a);
    struct hasher h = {.auth = a};
    assert_int_equal(pthread_create(&h.thread, NULL, hash_loop, &h), 0);
    while (atomic_load(&h.hashed) == 0 && atomic_load(&h.busy) == 0)
        usleep(100);

    int saw_busy = 0;
    struct linli_err err;
    for (int i = 0; i < 20000 && !saw_busy; i++) {
        char out[crypto_pwhash_STRBYTES];
        linli_err_clear(&err);
        int rc = auth_hash_password(a, "me too", out, &err);
        if (rc == LINLI_EBUSY)
            saw_busy = 1;
        else
            assert_int_equal(rc, LINLI_OK);
    }
    atomic_store(&h.stop, 1);
    pthread_join(h.thread, NULL);
    assert_true(saw_busy);
    assert_int_equal(err.status, LINLI_EBUSY);
    assert_int_equal(err.retry_after, 1);
    assert_true(err.detail[0] != '\0');

    /* once the slot is free again, hashing works */
    char out[crypto_pwhash_STRBYTES];
    linli_err_clear(&err);
    assert_int_equal(auth_hash_password(a, "me too", out, &err), LINLI_OK);
    auth_free(a);
}

static void auth_hash_waits_for_a_slot_within_hash_wait_ms(void **state)
{
    (void)state;
    struct auth_options o;
    small_auth_options(&o);
    o.hash_concurrency = 1;
    o.hash_wait_ms = WAIT_BOUND_MS;
    o.argon_mem = 1u << 20;
    struct auth *a = auth_new(&o);
    assert_non_null(a);
    struct hasher h[3];
    for (int i = 0; i < 3; i++) {
        h[i] = (struct hasher){.auth = a};
        assert_int_equal(pthread_create(&h[i].thread, NULL, hash_loop, &h[i]), 0);
    }
    for (int i = 0; i < 3; i++)
        while (atomic_load(&h[i].hashed) < 5 && atomic_load(&h[i].busy) == 0)
            usleep(100);
    for (int i = 0; i < 3; i++)
        atomic_store(&h[i].stop, 1);
    for (int i = 0; i < 3; i++) {
        pthread_join(h[i].thread, NULL);
        assert_int_equal(atomic_load(&h[i].busy), 0);
        assert_true(atomic_load(&h[i].hashed) >= 5);
    }
    auth_free(a);
}

static void auth_login_is_ebusy_when_the_only_slot_is_held(void **state)
{
    struct fixture *f = *state;
    stop(f);
    f->ao.hash_concurrency = 1;
    f->ao.hash_wait_ms = 0;
    f->ao.argon_mem = 8u << 20;
    assert_int_equal(start(f), 0);
    struct hasher h = {.auth = f->d.auth};
    assert_int_equal(pthread_create(&h.thread, NULL, hash_loop, &h), 0);
    while (atomic_load(&h.hashed) == 0 && atomic_load(&h.busy) == 0)
        usleep(100);
    int rc = LINLI_OK;
    struct login_result r;
    for (int i = 0; i < 20000; i++) {
        rc = login(f, "admin", ADMIN_PASSWORD, "127.0.0.1", &r);
        if (rc == LINLI_EBUSY)
            break;
        assert_int_equal(rc, LINLI_OK);
    }
    atomic_store(&h.stop, 1);
    pthread_join(h.thread, NULL);
    assert_int_equal(rc, LINLI_EBUSY);
    assert_int_equal(f->err.retry_after, 1);
    /* a busy answer is not a failed attempt: it does not count towards the limit */
    for (int i = 0; i < f->ao.max_failures_user + 1; i++)
        login_ok(f, "admin", ADMIN_PASSWORD, &r);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
#define E(name) cmocka_unit_test_setup_teardown(name, setup_empty, teardown)

int main(void)
{
    log_set_level(LOG_WARN); /* keep migrations and logins out of the output */
    const struct CMUnitTest tests[] = {
        E(users_ensure_admin_creates_the_admin_once),
        E(users_ensure_admin_generates_a_password_when_none_given),
        E(users_ensure_admin_refuses_a_weak_password),
        T(users_ensure_admin_audits_the_creation),
        T(auth_login_yields_an_lnl_token_of_43_base64url_chars),
        T(auth_login_gives_a_new_token_each_time),
        T(auth_authenticate_resolves_the_token_to_its_principal),
        T(auth_authenticate_refuses_malformed_and_unknown_tokens),
        T(auth_login_with_wrong_password_is_eunauth),
        T(auth_login_answers_unknown_user_like_wrong_password),
        T(auth_login_of_an_account_without_password_is_eunauth),
        T(auth_login_is_refused_after_max_failures_user_even_with_right_password),
        T(auth_login_limit_on_one_user_leaves_others_alone),
        T(auth_login_success_resets_the_users_failure_count),
        T(auth_login_is_refused_after_max_failures_ip_from_that_address),
        T(auth_logout_revokes_the_token),
        T(auth_login_and_logout_are_audited),
        T(auth_stores_only_the_sha256_of_the_token),
        T(auth_stores_passwords_as_argon2id_hashes),
        T(auth_disabled_user_cannot_log_in_and_loses_open_sessions),
        T(auth_token_of_a_disabled_account_fails_even_if_not_revoked),
        T(auth_expired_token_fails),
        T(auth_token_expires_after_token_ttl),
        T(auth_password_change_ends_the_users_sessions),
        T(auth_purge_deletes_sessions_expired_over_a_day_ago),
        T(auth_hash_password_produces_a_verifiable_hash),
        cmocka_unit_test(auth_hash_is_ebusy_when_the_only_slot_is_held),
        cmocka_unit_test(auth_hash_waits_for_a_slot_within_hash_wait_ms),
        T(auth_login_is_ebusy_when_the_only_slot_is_held),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
