/* auth.c - passwords, sessions and login limits (see auth.h). */
#include "domain/auth.h"

#include "base/clock.h"
#include "base/log.h"
#include "domain/audit.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TOKEN_PREFIX    "lnl_"
#define TOKEN_BYTES     32
#define LIMIT_SLOTS     4096
#define LIMIT_PROBE     8
#define SESSION_KEEP_MS (24LL * 3600 * 1000) /* expired sessions kept a day, for the audit trail   \
                                              */
#define IDEM_KEEP_MS  (24LL * 3600 * 1000)
#define CACHE_SLOTS   4096 /* direct-mapped by the token hash */
#define CACHE_STRIPES 64

/* A recently checked session, so a busy client's every request need not
 * read the store. Dropped at logout and whenever its account changes;
 * changes made by another process (the linli command) are seen once
 * `session_cache_ms` has passed. */
struct cache_slot {
    char hash[65];
    int64_t fresh_until_ms; /* 0 = empty */
    int64_t expires_at;     /* the session's own expiry */
    struct principal p;
    struct user u;
};

struct limit_slot {
    char key[96];
    int64_t start_ms;
    int count;
};

struct auth {
    struct auth_options opt;
    pthread_mutex_t hash_lock;
    pthread_cond_t hash_cond;
    int hashing;
    pthread_mutex_t limit_lock;
    struct limit_slot *slots;
    char dummy_hash[crypto_pwhash_STRBYTES]; /* verified against for unknown users */
    struct cache_slot *cache;                /* NULL when session_cache_ms is 0 */
    pthread_mutex_t stripes[CACHE_STRIPES];
};

static size_t cache_index(const char *hash)
{
    /* The hash is hex of SHA-256: its first digits are already uniform. */
    size_t v = 0;
    for (int i = 0; i < 6; i++)
        v = v * 16 + (size_t)(hash[i] <= '9' ? hash[i] - '0' : hash[i] - 'a' + 10);
    return v % CACHE_SLOTS;
}

static bool cache_get(struct auth *a, const char *hash, struct principal *p, struct user *u)
{
    if (!a->cache)
        return false;
    size_t i = cache_index(hash);
    pthread_mutex_t *m = &a->stripes[i % CACHE_STRIPES];
    int64_t now = clock_now_ms();
    bool hit = false;
    pthread_mutex_lock(m);
    struct cache_slot *s = &a->cache[i];
    if (s->fresh_until_ms > now && s->expires_at > now && !strcmp(s->hash, hash)) {
        *p = s->p;
        if (u)
            *u = s->u;
        hit = true;
    }
    pthread_mutex_unlock(m);
    return hit;
}

static void cache_put(struct auth *a, const char *hash, int64_t expires_at,
                      const struct principal *p, const struct user *u)
{
    if (!a->cache)
        return;
    size_t i = cache_index(hash);
    pthread_mutex_t *m = &a->stripes[i % CACHE_STRIPES];
    pthread_mutex_lock(m);
    struct cache_slot *s = &a->cache[i];
    snprintf(s->hash, sizeof s->hash, "%s", hash);
    s->expires_at = expires_at;
    s->fresh_until_ms = clock_now_ms() + a->opt.session_cache_ms;
    s->p = *p;
    s->u = *u;
    pthread_mutex_unlock(m);
}

static void cache_forget_hash(struct auth *a, const char *hash)
{
    if (!a->cache)
        return;
    size_t i = cache_index(hash);
    pthread_mutex_lock(&a->stripes[i % CACHE_STRIPES]);
    if (!strcmp(a->cache[i].hash, hash))
        a->cache[i].fresh_until_ms = 0;
    pthread_mutex_unlock(&a->stripes[i % CACHE_STRIPES]);
}

void auth_forget_user(struct auth *a, int64_t user_id)
{
    if (!a->cache)
        return;
    for (size_t i = 0; i < CACHE_SLOTS; i++) {
        pthread_mutex_lock(&a->stripes[i % CACHE_STRIPES]);
        if (a->cache[i].fresh_until_ms && a->cache[i].p.user_id == user_id)
            a->cache[i].fresh_until_ms = 0;
        pthread_mutex_unlock(&a->stripes[i % CACHE_STRIPES]);
    }
}

void auth_options_default(struct auth_options *o)
{
    o->token_ttl_s = 12 * 3600;
    o->hash_concurrency = 2;
    o->hash_wait_ms = 250;
    o->max_failures_user = 5;
    o->max_failures_ip = 20;
    o->window_s = 900;
    o->argon_ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
    o->argon_mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
    o->session_cache_ms = 0;
}

struct auth *auth_new(const struct auth_options *o)
{
    if (sodium_init() < 0)
        return NULL;
    struct auth *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->opt = *o;
    a->slots = calloc(LIMIT_SLOTS, sizeof *a->slots);
    if (!a->slots) {
        free(a);
        return NULL;
    }
    pthread_mutex_init(&a->hash_lock, NULL);
    pthread_cond_init(&a->hash_cond, NULL);
    pthread_mutex_init(&a->limit_lock, NULL);
    for (int i = 0; i < CACHE_STRIPES; i++)
        pthread_mutex_init(&a->stripes[i], NULL);
    if (o->session_cache_ms > 0 && !(a->cache = calloc(CACHE_SLOTS, sizeof *a->cache))) {
        auth_free(a);
        return NULL;
    }
    char random_pw[33];
    randombytes_buf(random_pw, 32);
    for (int i = 0; i < 32; i++)
        random_pw[i] = (char)('a' + (unsigned char)random_pw[i] % 26);
    random_pw[32] = '\0';
    if (crypto_pwhash_str(a->dummy_hash, random_pw, 32, o->argon_ops, o->argon_mem) != 0) {
        auth_free(a);
        return NULL;
    }
    return a;
}

void auth_free(struct auth *a)
{
    if (!a)
        return;
    pthread_mutex_destroy(&a->hash_lock);
    pthread_cond_destroy(&a->hash_cond);
    pthread_mutex_destroy(&a->limit_lock);
    for (int i = 0; i < CACHE_STRIPES; i++)
        pthread_mutex_destroy(&a->stripes[i]);
    free(a->cache);
    free(a->slots);
    free(a);
}

/* ---- the hashing slots ---- */

static int hash_acquire(struct auth *a, struct linli_err *err)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    int64_t ns = until.tv_nsec + (int64_t)a->opt.hash_wait_ms * 1000000;
    until.tv_sec += (time_t)(ns / 1000000000);
    until.tv_nsec = (long)(ns % 1000000000);
    pthread_mutex_lock(&a->hash_lock);
    while (a->hashing >= a->opt.hash_concurrency) {
        if (pthread_cond_timedwait(&a->hash_cond, &a->hash_lock, &until) != 0 &&
            a->hashing >= a->opt.hash_concurrency) {
            pthread_mutex_unlock(&a->hash_lock);
            err->retry_after = 1;
            return linli_fail(
                err, LINLI_EBUSY,
                "The server is busy checking other passwords; try again in a moment.");
        }
    }
    a->hashing++;
    pthread_mutex_unlock(&a->hash_lock);
    return LINLI_OK;
}

static void hash_release(struct auth *a)
{
    pthread_mutex_lock(&a->hash_lock);
    a->hashing--;
    pthread_cond_signal(&a->hash_cond);
    pthread_mutex_unlock(&a->hash_lock);
}

int auth_hash_password(struct auth *a, const char *password, char out[crypto_pwhash_STRBYTES],
                       struct linli_err *err)
{
    int rc = hash_acquire(a, err);
    if (rc)
        return rc;
    rc = crypto_pwhash_str(out, password, strlen(password), a->opt.argon_ops, a->opt.argon_mem);
    hash_release(a);
    if (rc != 0)
        return linli_fail(err, LINLI_ENOMEM, "Not enough memory to hash the password.");
    return LINLI_OK;
}

/* 0 when the password matches, EUNAUTH when not, EBUSY when no slot. */
static int verify_password(struct auth *a, const char *hash, const char *password,
                           struct linli_err *err)
{
    int rc = hash_acquire(a, err);
    if (rc)
        return rc;
    rc = crypto_pwhash_str_verify(hash, password, strlen(password));
    hash_release(a);
    return rc == 0 ? LINLI_OK : LINLI_EUNAUTH;
}

/* ---- failure counting ---- */

static struct limit_slot *limit_slot(struct auth *a, const char *key, int64_t now, bool create)
{
    uint32_t h = 2166136261u;
    for (const char *p = key; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    struct limit_slot *victim = NULL;
    int64_t window = (int64_t)a->opt.window_s * 1000;
    for (int i = 0; i < LIMIT_PROBE; i++) {
        struct limit_slot *s = &a->slots[(h + (uint32_t)i) % LIMIT_SLOTS];
        if (s->key[0] && !strcmp(s->key, key)) {
            if (now - s->start_ms >= window) { /* the window has passed: start afresh */
                s->start_ms = now;
                s->count = 0;
            }
            return s;
        }
        if (!victim || !s->key[0] || s->start_ms < victim->start_ms)
            victim = s;
    }
    if (!create)
        return NULL;
    snprintf(victim->key, sizeof victim->key, "%s", key);
    victim->start_ms = now;
    victim->count = 0;
    return victim;
}

/* ELIMIT with Retry-After when the user or the address is over its limit. */
static int limit_check(struct auth *a, const char *username, const char *ip, struct linli_err *err)
{
    char ku[96], ki[96];
    snprintf(ku, sizeof ku, "u:%s", username);
    snprintf(ki, sizeof ki, "i:%s", ip);
    int64_t now = clock_now_ms();
    int64_t window = (int64_t)a->opt.window_s * 1000;
    pthread_mutex_lock(&a->limit_lock);
    struct limit_slot *su = limit_slot(a, ku, now, false);
    struct limit_slot *si = limit_slot(a, ki, now, false);
    int64_t wait_ms = 0;
    if (su && su->count >= a->opt.max_failures_user)
        wait_ms = su->start_ms + window - now;
    if (si && si->count >= a->opt.max_failures_ip && si->start_ms + window - now > wait_ms)
        wait_ms = si->start_ms + window - now;
    pthread_mutex_unlock(&a->limit_lock);
    if (wait_ms > 0) {
        err->retry_after = (int)((wait_ms + 999) / 1000);
        return linli_fail(err, LINLI_ELIMIT,
                          "Too many wrong passwords for this account or from this address; try "
                          "again in %d seconds.",
                          err->retry_after);
    }
    return LINLI_OK;
}

static void limit_fail(struct auth *a, const char *username, const char *ip)
{
    char ku[96], ki[96];
    snprintf(ku, sizeof ku, "u:%s", username);
    snprintf(ki, sizeof ki, "i:%s", ip);
    int64_t now = clock_now_ms();
    pthread_mutex_lock(&a->limit_lock);
    limit_slot(a, ku, now, true)->count++;
    limit_slot(a, ki, now, true)->count++;
    pthread_mutex_unlock(&a->limit_lock);
}

static void limit_clear_user(struct auth *a, const char *username)
{
    char ku[96];
    snprintf(ku, sizeof ku, "u:%s", username);
    pthread_mutex_lock(&a->limit_lock);
    struct limit_slot *s = limit_slot(a, ku, clock_now_ms(), false);
    if (s)
        s->count = 0;
    pthread_mutex_unlock(&a->limit_lock);
}

/* ---- tokens ---- */

static void token_hash(const char *token, char out[65])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)token, strlen(token));
    sodium_bin2hex(out, 65, h, sizeof h);
}

static bool token_well_formed(const char *t)
{
    size_t plen = strlen(TOKEN_PREFIX);
    if (strncmp(t, TOKEN_PREFIX, plen) != 0 || strlen(t) != plen + 43)
        return false;
    for (const char *p = t + plen; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_'))
            return false;
    return true;
}

static const char SQL_LOGIN_USER[] =
    "SELECT " USER_COLUMNS ", password_hash FROM users WHERE username = ?";
static const char SQL_SESSION_INSERT[] =
    "INSERT INTO sessions (token_hash, user_id, created_at, expires_at, ip) VALUES (?, ?, ?, ?, ?)";
static const char SQL_SESSION_LOOKUP[] =
    "SELECT s.expires_at, u.id, u.username, u.display_name, u.role, u.scope, u.disabled,"
    " u.password_hash IS NOT NULL, u.created_at, u.updated_at, u.must_change_password"
    " FROM sessions s JOIN users u ON u.id = s.user_id"
    " WHERE s.token_hash = ? AND s.revoked_at IS NULL";
static const char SQL_SESSION_REVOKE[] =
    "UPDATE sessions SET revoked_at = ? WHERE token_hash = ? AND revoked_at IS NULL";
static const char SQL_SESSION_REVOKE_USER[] =
    "UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL";
static const char SQL_SESSION_REVOKE_OTHERS[] =
    "UPDATE sessions SET revoked_at = ?1 WHERE user_id = ?2 AND revoked_at IS NULL"
    " AND expires_at > ?1 AND substr(token_hash, 1, 16) <> ?3";
static const char SQL_SESSION_PURGE[] = "DELETE FROM sessions WHERE expires_at < ?";
static const char SQL_OWN_HASH[] = "SELECT password_hash FROM users WHERE id = ? AND disabled = 0";

struct login_lookup {
    const char *username;
    struct user *user;
    char hash[crypto_pwhash_STRBYTES];
    bool found;
};

static int login_lookup_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct login_lookup *l = arg;
    sqlite3_stmt *st = store_stmt(c, SQL_LOGIN_USER, err);
    if (!st)
        return err->status;
    sqlite3_bind_text(st, 1, l->username, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        return LINLI_OK;
    if (rc != SQLITE_ROW)
        return store_fail(c, rc, "reading an account", err);
    users_from_row(st, 0, l->user);
    const unsigned char *h = sqlite3_column_text(st, 10); /* after USER_COLUMNS */
    snprintf(l->hash, sizeof l->hash, "%s", h ? (const char *)h : "");
    l->found = true;
    return LINLI_OK;
}

struct session_job {
    const struct principal *who;
    const char *token_hash;
    int64_t expires_at;
    int64_t user_id;
};

static int session_open_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct session_job *j = arg;
    sqlite3_stmt *st = store_stmt(c, SQL_SESSION_INSERT, err);
    if (!st)
        return err->status;
    sqlite3_bind_text(st, 1, j->token_hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, j->user_id);
    sqlite3_bind_int64(st, 3, clock_now_ms());
    sqlite3_bind_int64(st, 4, j->expires_at);
    sqlite3_bind_text(st, 5, j->who->ip, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        return store_fail(c, rc, "opening a session", err);
    return audit_append(c, j->who, "auth.login", NULL, NULL, err);
}

int auth_login(struct domain *d, const char *username, const char *password, const char *ip,
               const char *request_id, struct login_result *out, struct linli_err *err)
{
    struct auth *a = d->auth;
    int rc = limit_check(a, username, ip, err);
    if (rc)
        return rc;
    struct login_lookup l = {.username = username, .user = &out->user};
    if ((rc = store_read(d->store, login_lookup_job, &l, err)))
        return rc;
    /* Verify even for an unknown user or one without a password, against a
     * dummy hash, so the answer takes as long either way. */
    bool usable = l.found && l.hash[0] && !out->user.disabled;
    rc = verify_password(a, usable ? l.hash : a->dummy_hash, password, err);
    if (rc == LINLI_EBUSY)
        return rc;
    if (rc != LINLI_OK || !usable) {
        limit_fail(a, username, ip);
        log_info("auth: failed login for \"%s\" from %s%s", username, ip,
                 l.found && out->user.disabled ? " (account disabled)" : "");
        memset(&out->user, 0, sizeof out->user);
        return linli_fail(err, LINLI_EUNAUTH, "Wrong username or password.");
    }
    limit_clear_user(a, username);

    unsigned char raw[TOKEN_BYTES];
    randombytes_buf(raw, sizeof raw);
    strcpy(out->token, TOKEN_PREFIX);
    sodium_bin2base64(out->token + strlen(TOKEN_PREFIX), sizeof out->token - strlen(TOKEN_PREFIX),
                      raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
    char th[65];
    token_hash(out->token, th);
    out->expires_at = clock_now_ms() + a->opt.token_ttl_s * 1000;

    struct principal who = {.user_id = out->user.id, .role = out->user.role};
    snprintf(who.username, sizeof who.username, "%s", out->user.username);
    snprintf(who.scope, sizeof who.scope, "%s", out->user.scope);
    snprintf(who.ip, sizeof who.ip, "%s", ip);
    snprintf(who.request_id, sizeof who.request_id, "%s", request_id ? request_id : "");
    struct session_job j = {&who, th, out->expires_at, out->user.id};
    if ((rc = store_write(d->store, session_open_job, &j, err))) {
        sodium_memzero(out->token, sizeof out->token);
        return rc;
    }
    return LINLI_OK;
}

struct auth_lookup {
    const char *token_hash;
    struct principal *p;
    struct user u;
    int64_t expires_at;
    bool found, disabled;
};

static int auth_lookup_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct auth_lookup *l = arg;
    sqlite3_stmt *st = store_stmt(c, SQL_SESSION_LOOKUP, err);
    if (!st)
        return err->status;
    sqlite3_bind_text(st, 1, l->token_hash, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        return LINLI_OK;
    if (rc != SQLITE_ROW)
        return store_fail(c, rc, "checking a session", err);
    l->found = true;
    l->expires_at = sqlite3_column_int64(st, 0);
    users_from_row(st, 1, &l->u);
    l->disabled = l->u.disabled;
    l->p->user_id = l->u.id;
    l->p->role = l->u.role;
    snprintf(l->p->username, sizeof l->p->username, "%s", l->u.username);
    snprintf(l->p->scope, sizeof l->p->scope, "%s", l->u.scope);
    return LINLI_OK;
}

int auth_authenticate(struct domain *d, const char *token, struct principal *out, struct user *user,
                      struct linli_err *err)
{
    if (!token || !token_well_formed(token))
        return linli_fail(err, LINLI_EUNAUTH, "The token is missing or malformed; log in again.");
    char th[65];
    token_hash(token, th);
    if (cache_get(d->auth, th, out, user))
        return LINLI_OK;
    struct auth_lookup l = {.token_hash = th, .p = out};
    int rc = store_read(d->store, auth_lookup_job, &l, err);
    if (rc)
        return rc;
    if (!l.found || l.disabled || l.expires_at <= clock_now_ms())
        return linli_fail(err, LINLI_EUNAUTH,
                          "The token is unknown, expired or revoked; log in again.");
    if (user)
        *user = l.u;
    snprintf(out->session, sizeof out->session, "%.16s", th);
    cache_put(d->auth, th, l.expires_at, out, &l.u);
    return LINLI_OK;
}

struct revoke_job {
    const struct principal *who;
    const char *token_hash;
};

static int revoke_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct revoke_job *j = arg;
    sqlite3_stmt *st = store_stmt(c, SQL_SESSION_REVOKE, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, clock_now_ms());
    sqlite3_bind_text(st, 2, j->token_hash, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        return store_fail(c, rc, "revoking a session", err);
    return audit_append(c, j->who, "auth.logout", NULL, NULL, err);
}

int auth_logout(struct domain *d, const struct principal *who, const char *token,
                struct linli_err *err)
{
    char th[65];
    token_hash(token, th);
    struct revoke_job j = {who, th};
    int rc = store_write(d->store, revoke_job, &j, err);
    cache_forget_hash(d->auth, th);
    if (rc == LINLI_OK) {
        char session[17];
        snprintf(session, sizeof session, "%.16s", th);
        domain_publish(
            d, "auth.revoked",
            json_pack("{s:I, s:s}", "user_id", (json_int_t)who->user_id, "session", session));
    }
    return rc;
}

int auth_revoke_user_sessions(struct store_conn *c, int64_t user_id, struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_SESSION_REVOKE_USER, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, clock_now_ms());
    sqlite3_bind_int64(st, 2, user_id);
    int rc = sqlite3_step(st);
    return rc == SQLITE_DONE ? LINLI_OK : store_fail(c, rc, "ending sessions", err);
}

int auth_revoke_other_sessions(struct store_conn *c, int64_t user_id, const char *keep_session,
                               int *ended, struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_SESSION_REVOKE_OTHERS, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, clock_now_ms());
    sqlite3_bind_int64(st, 2, user_id);
    sqlite3_bind_text(st, 3, keep_session, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        return store_fail(c, rc, "ending sessions", err);
    *ended = sqlite3_changes(store_db(c));
    return LINLI_OK;
}

struct own_hash {
    int64_t user_id;
    char *hash;
};

static int own_hash_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct own_hash *o = arg;
    sqlite3_stmt *st = store_stmt(c, SQL_OWN_HASH, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, o->user_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const unsigned char *h = sqlite3_column_text(st, 0);
        snprintf(o->hash, crypto_pwhash_STRBYTES, "%s", h ? (const char *)h : "");
        return LINLI_OK;
    }
    return rc == SQLITE_DONE ? LINLI_OK : store_fail(c, rc, "reading an account", err);
}

int auth_check_own_password(struct domain *d, const struct principal *who, const char *field,
                            const char *password, char hash[crypto_pwhash_STRBYTES],
                            struct linli_err *err)
{
    struct auth *a = d->auth;
    int rc = limit_check(a, who->username, who->ip, err);
    if (rc)
        return rc;
    hash[0] = '\0';
    struct own_hash o = {who->user_id, hash};
    if ((rc = store_read(d->store, own_hash_job, &o, err)))
        return rc;
    /* As at login: an account without a usable hash still takes the time of
     * one check, against the dummy. */
    bool usable = hash[0] != '\0';
    rc = verify_password(a, usable ? hash : a->dummy_hash, password, err);
    if (rc == LINLI_EBUSY)
        return rc;
    if (rc != LINLI_OK || !usable) {
        limit_fail(a, who->username, who->ip);
        log_info("auth: wrong current password for \"%s\" from %s", who->username, who->ip);
        sodium_memzero(hash, crypto_pwhash_STRBYTES);
        linli_fail(err, LINLI_EINVAL, "The current password is wrong; nothing was changed.");
        return linli_field(err, field, "is not your current password");
    }
    limit_clear_user(a, who->username);
    return LINLI_OK;
}

static int purge_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    (void)arg;
    sqlite3_stmt *st = store_stmt(c, SQL_SESSION_PURGE, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, clock_now_ms() - SESSION_KEEP_MS);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        return store_fail(c, rc, "purging sessions", err);
    return idem_purge(c, IDEM_KEEP_MS, err);
}

int auth_purge(struct domain *d, struct linli_err *err)
{
    return store_write(d->store, purge_job, NULL, err);
}
