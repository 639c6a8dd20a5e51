/* idem.c - idempotency keys. */
#include "domain/idem.h"

#include "base/clock.h"

#include <sodium.h>
#include <string.h>

int idem_prepare(struct idem_req *r, const char *key, int64_t user_id, const char *route,
                 const void *body, size_t len, struct linli_err *err)
{
    size_t n = strlen(key);
    if (n == 0 || n > 255)
        return linli_field(err, "Idempotency-Key", "must be 1 to 255 characters");
    for (size_t i = 0; i < n; i++)
        if (key[i] < 0x21 || key[i] > 0x7e)
            return linli_field(err, "Idempotency-Key", "must be visible ASCII characters");
    r->key = key;
    r->user_id = user_id;
    r->route = route;
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, body ? body : (const void *)"", len);
    sodium_bin2hex(r->hash, sizeof r->hash, h, sizeof h);
    return LINLI_OK;
}

static const char SQL_IDEM_FIND[] = "SELECT route, request_hash, resource_id FROM idempotency_keys "
                                    "WHERE user_id = ? AND idem_key = ?";
static const char SQL_IDEM_INSERT[] =
    "INSERT INTO idempotency_keys (user_id, idem_key, route, request_hash, resource_id, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?)";
static const char SQL_IDEM_PURGE[] = "DELETE FROM idempotency_keys WHERE created_at < ?";

int idem_find(struct store_conn *c, const struct idem_req *r, int64_t *resource_id,
              struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_IDEM_FIND, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, r->user_id);
    sqlite3_bind_text(st, 2, r->key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        return 0;
    if (rc != SQLITE_ROW)
        return store_fail(c, rc, "looking up an idempotency key", err);
    if (strcmp((const char *)sqlite3_column_text(st, 0), r->route) != 0 ||
        strcmp((const char *)sqlite3_column_text(st, 1), r->hash) != 0)
        return linli_fail(err, LINLI_ECONFLICT,
                          "This Idempotency-Key was already used for a different request.");
    *resource_id = sqlite3_column_int64(st, 2);
    return 1;
}

int idem_record(struct store_conn *c, const struct idem_req *r, int64_t resource_id,
                struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_IDEM_INSERT, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, r->user_id);
    sqlite3_bind_text(st, 2, r->key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, r->route, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, r->hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, resource_id);
    sqlite3_bind_int64(st, 6, clock_now_ms());
    int rc = sqlite3_step(st);
    return rc == SQLITE_DONE ? LINLI_OK : store_fail(c, rc, "recording an idempotency key", err);
}

int idem_purge(struct store_conn *c, int64_t max_age_ms, struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_IDEM_PURGE, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, clock_now_ms() - max_age_ms);
    int rc = sqlite3_step(st);
    return rc == SQLITE_DONE ? LINLI_OK : store_fail(c, rc, "purging idempotency keys", err);
}
