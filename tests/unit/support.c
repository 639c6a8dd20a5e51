/* support.c - fixture helpers shared by the unit tests (see support.h). */
#include "support.h"

#include "domain/directory.h"

#include "base/bus.h"
#include "domain/users.h"

#include <dirent.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

const struct linli_field_error *field_error(const struct linli_err *err, const char *field)
{
    for (int i = 0; i < err->nfields; i++)
        if (!strcmp(err->fields[i].field, field))
            return &err->fields[i];
    return NULL;
}

int make_temp_dir(const char *name, char *dir, size_t dir_size, const char *file, char *path,
                  size_t path_size)
{
    int n = snprintf(dir, dir_size, "/tmp/linli-%s-XXXXXX", name);
    if (n < 0 || (size_t)n >= dir_size || !mkdtemp(dir))
        return -1;
    n = snprintf(path, path_size, "%s/%s", dir, file);
    return n < 0 || (size_t)n >= path_size ? -1 : 0;
}

void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char p[512];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

void fast_auth_options(struct auth_options *o)
{
    auth_options_default(o);
    o->argon_ops = crypto_pwhash_OPSLIMIT_MIN;
    o->argon_mem = crypto_pwhash_MEMLIMIT_MIN;
    o->hash_wait_ms = 20000;
}

int open_domain(struct domain *d, const char *db, const struct auth_options *ao,
                struct linli_err *err)
{
    struct store_options so;
    store_options_default(&so);
    so.path = db;
    so.readers = 2;
    so.checkpoint_ms = 0;
    if (store_open(&so, &d->store, err) != LINLI_OK)
        return -1;
    d->bus = NULL;
    if (!ao)
        return 0;
    d->auth = auth_new(ao);
    return d->auth ? 0 : -1;
}

void close_domain(struct domain *d)
{
    directory_close(d);
    store_close(d->store);
    auth_free(d->auth);
    bus_free(d->bus);
    d->store = NULL;
    d->auth = NULL;
    d->bus = NULL;
}

int admin_principal(struct domain *d, const char *password, bool *created, struct principal *admin,
                    struct linli_err *err)
{
    if (users_ensure_admin(d, password, NULL, 0, created, err))
        return -1;
    struct principal sys;
    principal_system(&sys, "test");
    struct user u;
    if (users_get_by_name(d, &sys, "admin", &u, err))
        return -1;
    memset(admin, 0, sizeof *admin);
    admin->user_id = u.id;
    admin->role = ROLE_ADMIN;
    snprintf(admin->username, sizeof admin->username, "admin");
    snprintf(admin->ip, sizeof admin->ip, "127.0.0.1");
    return 0;
}

int exec_job(struct store_conn *c, void *sql, struct linli_err *err)
{
    char *msg = NULL;
    int rc = sqlite3_exec(store_db(c), sql, NULL, NULL, &msg);
    sqlite3_free(msg);
    return rc == SQLITE_OK ? LINLI_OK : store_fail(c, rc, "exec", err);
}

void sql_exec(struct store *s, const char *sql)
{
    struct linli_err err;
    linli_err_clear(&err);
    if (store_write(s, exec_job, (void *)sql, &err) != LINLI_OK)
        fail_msg("%s: %s", sql, err.detail);
}

struct query {
    const char *sql;
    const char *param; /* bound as ?1 when not NULL */
    int64_t i;
    char text[512];
    int rows;
};

static int query_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct query *q = arg;
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(store_db(c), q->sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return store_fail(c, rc, q->sql, err);
    if (q->param)
        sqlite3_bind_text(st, 1, q->param, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (q->rows++ == 0) {
            q->i = sqlite3_column_int64(st, 0);
            const unsigned char *t = sqlite3_column_text(st, 0);
            snprintf(q->text, sizeof q->text, "%s", t ? (const char *)t : "");
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? LINLI_OK : store_fail(c, rc, q->sql, err);
}

static void query(struct store *s, struct query *q)
{
    struct linli_err err;
    linli_err_clear(&err);
    if (store_read(s, query_job, q, &err) != LINLI_OK)
        fail_msg("%s: %s", q->sql, err.detail);
}

int64_t sql_int(struct store *s, const char *sql, const char *param)
{
    struct query q = {.sql = sql, .param = param};
    query(s, &q);
    return q.i;
}

void sql_text(struct store *s, const char *sql, const char *param, char *out, size_t size)
{
    struct query q = {.sql = sql, .param = param};
    query(s, &q);
    snprintf(out, size, "%s", q.text);
}

sqlite3 *raw_open(const char *path, int flags)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK)
        fail_msg("cannot open %s: %s", path, db ? sqlite3_errmsg(db) : "?");
    return db;
}

void raw_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        char copy[256];
        snprintf(copy, sizeof copy, "%s", msg ? msg : "?");
        sqlite3_free(msg);
        fail_msg("%s: %s", sql, copy);
    }
}

int64_t raw_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    int64_t v = -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

void raw_text(sqlite3 *db, const char *sql, char *out, size_t size)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    out[0] = '\0';
    if (sqlite3_step(st) == SQLITE_ROW)
        snprintf(out, size, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
}
