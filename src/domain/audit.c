/* audit.c - writing and reading the audit log. */
#include "domain/audit.h"

#include "base/clock.h"

#include <stdlib.h>
#include <string.h>

static const char SQL_AUDIT_INSERT[] =
    "INSERT INTO audit_log (at, user_id, username, action, object, detail, ip, request_id)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)";

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *v)
{
    if (v && *v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

int audit_append(struct store_conn *c, const struct principal *who, const char *action,
                 const char *object, json_t *detail, struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_AUDIT_INSERT, err);
    if (!st)
        return err->status;
    char *d = detail ? json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    sqlite3_bind_int64(st, 1, clock_now_ms());
    if (who->user_id)
        sqlite3_bind_int64(st, 2, who->user_id);
    else
        sqlite3_bind_null(st, 2);
    bind_text_or_null(st, 3, who->username);
    sqlite3_bind_text(st, 4, action, -1, SQLITE_STATIC);
    bind_text_or_null(st, 5, object);
    bind_text_or_null(st, 6, d);
    bind_text_or_null(st, 7, who->ip);
    bind_text_or_null(st, 8, who->request_id);
    int rc = sqlite3_step(st);
    free(d);
    if (rc != SQLITE_DONE)
        return store_fail(c, rc, "writing the audit log", err);
    return LINLI_OK;
}

struct read_entry {
    const struct principal *who;
    const char *action, *object;
    json_t *detail;
};

static int record_read_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct read_entry *e = arg;
    return audit_append(c, e->who, e->action, e->object, e->detail, err);
}

int audit_record_read(struct domain *d, const struct principal *who, const char *action,
                      const char *object, json_t *detail, struct linli_err *err)
{
    struct read_entry e = {who, action, object, detail};
    return store_write(d->store, record_read_job, &e, err);
}

struct list_args {
    const struct audit_filter *f;
    json_t *out;
    int64_t next;
};

static const char SQL_AUDIT_LIST[] =
    "SELECT id, at, user_id, username, action, object, detail, ip, request_id FROM audit_log"
    " WHERE (?1 = 0 OR user_id = ?1)"
    "   AND (?2 IS NULL OR action = ?2 OR (substr(?2, -1) = '.' AND substr(action, 1, length(?2)) "
    "= ?2))"
    "   AND (?3 = 0 OR at >= ?3) AND (?4 = 0 OR at < ?4)"
    "   AND (?5 = 0 OR id < ?5)"
    " ORDER BY id DESC LIMIT ?6";

static int list_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct list_args *a = arg;
    const struct audit_filter *f = a->f;
    sqlite3_stmt *st = store_stmt(c, SQL_AUDIT_LIST, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, f->user_id);
    if (f->action)
        sqlite3_bind_text(st, 2, f->action, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, f->since_ms);
    sqlite3_bind_int64(st, 4, f->until_ms);
    sqlite3_bind_int64(st, 5, f->before_id);
    sqlite3_bind_int(st, 6, f->limit + 1);
    int rc, n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        if (n == f->limit) {
            break; /* there is a further page */
        }
        n++;
        a->next = id;
        char at[32];
        clock_format_rfc3339(sqlite3_column_int64(st, 1), at, sizeof at);
        json_t *e = json_object();
        json_object_set_new(e, "id", json_integer(id));
        json_object_set_new(e, "at", json_string(at));
        json_object_set_new(e, "user_id",
                            sqlite3_column_type(st, 2) == SQLITE_NULL
                                ? json_null()
                                : json_integer(sqlite3_column_int64(st, 2)));
        const char *cols[] = {"username", "action", "object"};
        for (int i = 0; i < 3; i++) {
            const unsigned char *v = sqlite3_column_text(st, 3 + i);
            json_object_set_new(e, cols[i], v ? json_string((const char *)v) : json_null());
        }
        const unsigned char *detail = sqlite3_column_text(st, 6);
        json_t *dj = detail ? json_loads((const char *)detail, 0, NULL) : NULL;
        json_object_set_new(e, "detail", dj ? dj : json_null());
        const unsigned char *ip = sqlite3_column_text(st, 7);
        json_object_set_new(e, "ip", ip ? json_string((const char *)ip) : json_null());
        const unsigned char *rid = sqlite3_column_text(st, 8);
        json_object_set_new(e, "request_id", rid ? json_string((const char *)rid) : json_null());
        json_array_append_new(a->out, e);
    }
    if (rc != SQLITE_ROW) {
        a->next = 0; /* no further page */
        if (rc != SQLITE_DONE)
            return store_fail(c, rc, "reading the audit log", err);
    }
    return LINLI_OK;
}

int audit_list(struct domain *d, const struct principal *who, const struct audit_filter *f,
               json_t **out, int64_t *next_before, struct linli_err *err)
{
    if (who->role != ROLE_ADMIN && who->role != ROLE_AUDITOR)
        return linli_fail(err, LINLI_EFORBIDDEN,
                          "Only admins and auditors may read the audit log.");
    struct list_args a = {f, json_array(), 0};
    int rc = store_read(d->store, list_job, &a, err);
    if (rc) {
        json_decref(a.out);
        return rc;
    }
    *out = a.out;
    *next_before = a.next;
    return LINLI_OK;
}
