/* open311_clients.c - Open311 clients' API keys and their requests' media
 * URLs (see open311_clients.h). */
#include "domain/open311_clients.h"

#include "base/clock.h"
#include "domain/audit.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_PREFIX_LEN (sizeof OPEN311_KEY_PREFIX - 1)
#define KEY_BODY_LEN   43 /* base64url of OPEN311_KEY_RANDOM bytes, unpadded */

_Static_assert(KEY_PREFIX_LEN + KEY_BODY_LEN + 1 == OPEN311_KEY_SIZE, "key size");

int open311_client_name_check(const char *name, const char **why)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > OPEN311_CLIENT_NAME_MAX) {
        *why = "must be 1 to 64 characters";
        return -1;
    }
    if (!((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z'))) {
        *why = "must start with a letter";
        return -1;
    }
    for (const char *p = name; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '_' || *p == '-')) {
            *why = "may hold letters, digits, '.', '_' and '-' only";
            return -1;
        }
    }
    return 0;
}

static bool key_well_formed(const char *k)
{
    if (strncmp(k, OPEN311_KEY_PREFIX, KEY_PREFIX_LEN) != 0 ||
        strlen(k) != KEY_PREFIX_LEN + KEY_BODY_LEN)
        return false;
    for (const char *p = k + KEY_PREFIX_LEN; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_'))
            return false;
    return true;
}

static void key_hash(const char *key, char out[65])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)key, strlen(key));
    sodium_bin2hex(out, 65, h, sizeof h);
}

static void col_text(char *out, size_t size, sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    snprintf(out, size, "%s", t ? (const char *)t : "");
}

#define CLIENT_COLUMNS "id, name, key_hint, created_at, COALESCE(revoked_at, 0)"

static void client_from_row(sqlite3_stmt *st, struct open311_client *c)
{
    memset(c, 0, sizeof *c);
    c->id = sqlite3_column_int64(st, 0);
    col_text(c->name, sizeof c->name, st, 1);
    col_text(c->hint, sizeof c->hint, st, 2);
    c->created_at = sqlite3_column_int64(st, 3);
    c->revoked_at = sqlite3_column_int64(st, 4);
}

/* ---- making keys ---- */

static const char SQL_INSERT[] =
    "INSERT INTO open311_clients (name, key_hash, key_hint, created_at) VALUES (?, ?, ?, ?)"
    " RETURNING " CLIENT_COLUMNS;

struct add_job {
    const struct principal *who;
    const char *name, *hash, *hint;
    struct open311_client *out;
};

static int add_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct add_job *j = arg;
    sqlite3_stmt *st = store_stmt(c, SQL_INSERT, err);
    if (!st)
        return err->status;
    sqlite3_bind_text(st, 1, j->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, j->hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, j->hint, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, clock_now_ms());
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return store_fail(c, rc, "adding an Open311 key", err);
    }
    client_from_row(st, j->out);
    sqlite3_reset(st);
    char object[40];
    snprintf(object, sizeof object, "open311_client:%lld", (long long)j->out->id);
    json_t *detail = json_pack("{s:s, s:s}", "name", j->name, "hint", j->hint);
    rc = audit_append(c, j->who, "open311_key.create", object, detail, err);
    json_decref(detail);
    return rc;
}

int open311_clients_add(struct domain *d, const struct principal *who, const char *name,
                        struct open311_client *out, char key[OPEN311_KEY_SIZE],
                        struct linli_err *err)
{
    key[0] = '\0';
    if (!who || who->user_id != 0)
        return linli_fail(err, LINLI_EFORBIDDEN,
                          "Open311 keys are made on the command line: linli open311 key add.");
    const char *why;
    if (open311_client_name_check(name, &why))
        return linli_field(err, "name", "%s", why);
    if (sodium_init() < 0)
        return linli_fail(err, LINLI_ENOMEM, "The random number generator is not available.");
    unsigned char raw[OPEN311_KEY_RANDOM];
    randombytes_buf(raw, sizeof raw);
    memcpy(key, OPEN311_KEY_PREFIX, KEY_PREFIX_LEN);
    sodium_bin2base64(key + KEY_PREFIX_LEN, OPEN311_KEY_SIZE - KEY_PREFIX_LEN, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
    char hash[65], hint[OPEN311_KEY_HINT_SIZE];
    key_hash(key, hash);
    snprintf(hint, sizeof hint, "%.*s", (int)(OPEN311_KEY_HINT_SIZE - 1), key);
    struct add_job j = {who, name, hash, hint, out};
    int rc = store_write(d->store, add_job, &j, err);
    if (rc)
        sodium_memzero(key, OPEN311_KEY_SIZE);
    return rc;
}

/* ---- listing ---- */

static const char SQL_LIST[] = "SELECT " CLIENT_COLUMNS " FROM open311_clients ORDER BY id";

struct list_job {
    struct open311_client **items;
    int *n;
};

static int list_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct list_job *j = arg;
    sqlite3_stmt *st = store_stmt(c, SQL_LIST, err);
    if (!st)
        return err->status;
    int cap = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*j->n == cap) {
            int ncap = cap ? cap * 2 : 16;
            struct open311_client *grown = realloc(*j->items, (size_t)ncap * sizeof *grown);
            if (!grown) {
                sqlite3_reset(st);
                return linli_fail(err, LINLI_ENOMEM, "Out of memory listing Open311 keys.");
            }
            *j->items = grown;
            cap = ncap;
        }
        client_from_row(st, &(*j->items)[(*j->n)++]);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return store_fail(c, rc, "listing Open311 keys", err);
    return LINLI_OK;
}

int open311_clients_list(struct domain *d, struct open311_client **items, int *n,
                         struct linli_err *err)
{
    *items = NULL;
    *n = 0;
    struct list_job j = {items, n};
    int rc = store_read(d->store, list_job, &j, err);
    if (rc) {
        free(*items);
        *items = NULL;
        *n = 0;
    }
    return rc;
}

/* ---- revoking ---- */

static const char SQL_REVOKE[] =
    "UPDATE open311_clients SET revoked_at = ?1"
    " WHERE (id = ?2 OR (?2 IS NULL AND name = ?3)) AND revoked_at IS NULL RETURNING id";

struct revoke_job {
    const struct principal *who;
    const char *id_or_name;
    bool by_id;
    int revoked;
};

static int revoke_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct revoke_job *j = arg;
    sqlite3_stmt *st = store_stmt(c, SQL_REVOKE, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, clock_now_ms());
    if (j->by_id)
        sqlite3_bind_int64(st, 2, strtoll(j->id_or_name, NULL, 10));
    sqlite3_bind_text(st, 3, j->id_or_name, -1, SQLITE_STATIC);
    json_t *ids = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(ids, json_integer(sqlite3_column_int64(st, 0)));
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        json_decref(ids);
        return store_fail(c, rc, "revoking Open311 keys", err);
    }
    j->revoked = (int)json_array_size(ids);
    if (j->revoked == 0) {
        json_decref(ids);
        return linli_fail(err, LINLI_ENOTFOUND, "No Open311 key in use has the %s %s.",
                          j->by_id ? "id" : "client name", j->id_or_name);
    }
    char object[80];
    snprintf(object, sizeof object, "open311_client:%.60s", j->id_or_name);
    json_t *detail = json_pack("{s:o}", "ids", ids);
    rc = audit_append(c, j->who, "open311_key.revoke", object, detail, err);
    json_decref(detail);
    return rc;
}

int open311_clients_revoke(struct domain *d, const struct principal *who, const char *id_or_name,
                           int *revoked, struct linli_err *err)
{
    *revoked = 0;
    if (!who || who->user_id != 0)
        return linli_fail(err, LINLI_EFORBIDDEN,
                          "Open311 keys are revoked on the command line: linli open311 key "
                          "revoke.");
    size_t n = id_or_name ? strlen(id_or_name) : 0;
    bool digits = n > 0 && n <= 18;
    for (size_t i = 0; digits && i < n; i++)
        digits = id_or_name[i] >= '0' && id_or_name[i] <= '9';
    const char *why;
    if (!digits && open311_client_name_check(id_or_name, &why))
        return linli_field(err, "key", "must be a key's id or a client's name");
    struct revoke_job j = {who, id_or_name, digits, 0};
    int rc = store_write(d->store, revoke_job, &j, err);
    if (!rc)
        *revoked = j.revoked;
    return rc;
}

/* ---- checking a key ---- */

static const char SQL_BY_HASH[] =
    "SELECT " CLIENT_COLUMNS " FROM open311_clients WHERE key_hash = ?";

struct check_job {
    const char *hash;
    struct open311_client *out;
    bool found;
};

static int check_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct check_job *j = arg;
    sqlite3_stmt *st = store_stmt(c, SQL_BY_HASH, err);
    if (!st)
        return err->status;
    sqlite3_bind_text(st, 1, j->hash, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        client_from_row(st, j->out);
        j->found = true;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_fail(c, rc, "checking an Open311 key", err);
    return LINLI_OK;
}

int open311_clients_check(struct domain *d, const char *key, struct open311_client *out,
                          struct linli_err *err)
{
    memset(out, 0, sizeof *out);
    if (!key || !*key)
        return linli_fail(err, LINLI_EFORBIDDEN, "api_key is required.");
    if (!key_well_formed(key))
        return linli_fail(err, LINLI_EFORBIDDEN, "api_key is not a key this server gave out.");
    char hash[65];
    key_hash(key, hash);
    struct check_job j = {hash, out, false};
    int rc = store_read(d->store, check_job, &j, err);
    if (rc)
        return rc;
    if (!j.found)
        return linli_fail(err, LINLI_EFORBIDDEN, "api_key is not a key this server gave out.");
    if (out->revoked_at)
        return linli_fail(err, LINLI_EFORBIDDEN, "api_key has been revoked.");
    return LINLI_OK;
}

/* ---- media URLs ---- */

int open311_media_url_check(const char *url, const char **why)
{
    size_t n = url ? strlen(url) : 0;
    if (n > OPEN311_MEDIA_URL_MAX) {
        *why = "must be at most 1024 bytes";
        return -1;
    }
    if (!url || (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)) {
        *why = "must be an http or https URL";
        return -1;
    }
    for (const char *p = url; *p; p++) {
        if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7F) {
            *why = "must be a URL of visible ASCII characters (percent-encode the rest)";
            return -1;
        }
    }
    return 0;
}

static const char SQL_MEDIA_SET[] =
    "INSERT INTO open311_media (case_id, client_id, url, created_at) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (case_id) DO UPDATE SET url = excluded.url";

struct media_set_job {
    int64_t case_id, client_id;
    const char *url;
};

static int media_set_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct media_set_job *j = arg;
    sqlite3_stmt *st = store_stmt(c, SQL_MEDIA_SET, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, j->case_id);
    sqlite3_bind_int64(st, 2, j->client_id);
    sqlite3_bind_text(st, 3, j->url, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, clock_now_ms());
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return store_fail(c, rc, "recording a media URL", err);
    return LINLI_OK;
}

int open311_media_set(struct domain *d, int64_t case_id, int64_t client_id, const char *url,
                      struct linli_err *err)
{
    const char *why;
    if (open311_media_url_check(url, &why))
        return linli_field(err, "media_url", "%s", why);
    struct media_set_job j = {case_id, client_id, url};
    return store_write(d->store, media_set_job, &j, err);
}

static const char SQL_MEDIA_GET[] =
    "SELECT case_id, url FROM open311_media WHERE case_id IN (SELECT value FROM json_each(?))";

struct media_get_job {
    const char *ids;
    struct open311_media **items;
    int *n, max;
};

static int media_get_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct media_get_job *j = arg;
    sqlite3_stmt *st = store_stmt(c, SQL_MEDIA_GET, err);
    if (!st)
        return err->status;
    sqlite3_bind_text(st, 1, j->ids, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && *j->n < j->max) {
        struct open311_media *m = &(*j->items)[(*j->n)++];
        m->case_id = sqlite3_column_int64(st, 0);
        col_text(m->url, sizeof m->url, st, 1);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_fail(c, rc, "reading media URLs", err);
    return LINLI_OK;
}

int open311_media_get(struct domain *d, const int64_t *ids, int nids, struct open311_media **items,
                      int *n, struct linli_err *err)
{
    *items = NULL;
    *n = 0;
    if (nids <= 0)
        return LINLI_OK;
    if (nids > CASES_PAGE_MAX)
        return linli_fail(err, LINLI_EINVAL, "At most %d cases at a time.", CASES_PAGE_MAX);
    json_t *arr = json_array();
    for (int i = 0; i < nids; i++)
        json_array_append_new(arr, json_integer(ids[i]));
    char *text = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    *items = calloc((size_t)nids, sizeof **items);
    if (!text || !*items) {
        free(text);
        free(*items);
        *items = NULL;
        return linli_fail(err, LINLI_ENOMEM, "Out of memory reading media URLs.");
    }
    struct media_get_job j = {text, items, n, nids};
    int rc = store_read(d->store, media_get_job, &j, err);
    free(text);
    if (rc || *n == 0) {
        free(*items);
        *items = NULL;
        *n = 0;
    }
    return rc;
}
