/* test_store.c - the SQLite store: open and migrations, group commit with
 * per-job savepoints, the reader pool, the statement cache, close and backup
 * (src/store/store.c). Every test works on a database in its own temporary
 * directory. Waits have a generous bound; nothing asserts a duration. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "support.h"

#include "base/buf.h"
#include "base/log.h"
#include "base/status.h"
#include "store/store.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define WAIT_BOUND_MS        20000
#define LINLI_APPLICATION_ID 0x4C4E4C49

struct fixture {
    char dir[64];
    char db[192];
    struct store *s;
    struct linli_err err;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (make_temp_dir("store", f->dir, sizeof f->dir, "linli.db", f->db, sizeof f->db))
        return -1;
    linli_err_clear(&f->err);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    store_close(f->s);
    remove_tree(f->dir);
    free(f);
    return 0;
}

static int open_store(struct fixture *f, int batch_max)
{
    struct store_options o;
    store_options_default(&o);
    o.path = f->db;
    o.readers = 2;
    o.batch_max = batch_max;
    o.checkpoint_ms = 20;
    linli_err_clear(&f->err);
    return store_open(&o, &f->s, &f->err);
}

static void open_store_ok(struct fixture *f, int batch_max)
{
    int rc = open_store(f, batch_max);
    if (rc != LINLI_OK)
        fail_msg("store_open: %d %s", rc, f->err.detail);
    assert_non_null(f->s);
}

/* ---- jobs ---- */

static const char SQL_CREATE_T[] =
    "CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE)";
static const char SQL_INSERT_T[] = "INSERT INTO t (id, v) VALUES (?, ?)";
static const char SQL_INSERT_OR_ROLLBACK_T[] = "INSERT OR ROLLBACK INTO t (id, v) VALUES (?, ?)";
static const char SQL_COUNT_T[] = "SELECT count(*) FROM t";
static const char SQL_HAS_T[] = "SELECT count(*) FROM t WHERE id = ?";

static int create_table_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    (void)arg;
    char *msg = NULL;
    if (sqlite3_exec(store_db(c), SQL_CREATE_T, NULL, NULL, &msg) != SQLITE_OK) {
        linli_fail(err, LINLI_EIO, "create: %s", msg);
        sqlite3_free(msg);
        return LINLI_EIO;
    }
    return LINLI_OK;
}

enum insert_mode {
    INSERT_OK,        /* insert and succeed */
    INSERT_THEN_FAIL, /* insert, then return EINVAL: the insert must be undone */
    INSERT_CONFLICT,  /* an insert that breaks the UNIQUE constraint */
    INSERT_ABORT_TXN, /* a constraint failure that rolls back the whole transaction */
};

struct insert_arg {
    int64_t id;
    enum insert_mode mode;
    atomic_int calls; /* how often the job function ran */
    int rc;           /* what store_write returned */
    struct linli_err err;
};

static int insert_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct insert_arg *a = arg;
    atomic_fetch_add(&a->calls, 1);
    const char *sql = a->mode == INSERT_ABORT_TXN ? SQL_INSERT_OR_ROLLBACK_T : SQL_INSERT_T;
    sqlite3_stmt *st = store_stmt(c, sql, err);
    if (!st)
        return err->status;
    char v[32];
    if (a->mode == INSERT_CONFLICT || a->mode == INSERT_ABORT_TXN)
        snprintf(v, sizeof v, "taken");
    else
        snprintf(v, sizeof v, "v%lld", (long long)a->id);
    sqlite3_bind_int64(st, 1, a->id);
    sqlite3_bind_text(st, 2, v, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        return store_fail(c, rc, "inserting", err);
    if (a->mode == INSERT_THEN_FAIL)
        return linli_fail(err, LINLI_EINVAL, "job %lld changed its mind", (long long)a->id);
    return LINLI_OK;
}

struct count_arg {
    int64_t id; /* 0: count all rows */
    int64_t n;
};

static int count_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct count_arg *a = arg;
    sqlite3_stmt *st = store_stmt(c, a->id ? SQL_HAS_T : SQL_COUNT_T, err);
    if (!st)
        return err->status;
    if (a->id)
        sqlite3_bind_int64(st, 1, a->id);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW)
        return store_fail(c, rc, "counting", err);
    a->n = sqlite3_column_int64(st, 0);
    return LINLI_OK;
}

static int64_t count_rows(struct store *s, int64_t id)
{
    struct count_arg a = {id, -1};
    struct linli_err err;
    linli_err_clear(&err);
    int rc = store_read(s, count_job, &a, &err);
    if (rc)
        fail_msg("count: %s", err.detail);
    return a.n;
}

static void create_table(struct store *s)
{
    struct linli_err err;
    linli_err_clear(&err);
    int rc = store_write(s, create_table_job, NULL, &err);
    if (rc)
        fail_msg("create table: %s", err.detail);
}

static int queue_depth(struct store *s)
{
    struct buf b;
    buf_init(&b, 1 << 16);
    store_metrics_render(s, &b);
    const char *p = strstr(b.data, "\nlinli_store_queue_depth ");
    int depth = -1;
    if (p)
        sscanf(p, "\nlinli_store_queue_depth %d", &depth);
    buf_free(&b);
    return depth;
}

static unsigned long long metric(struct store *s, const char *name)
{
    struct buf b;
    buf_init(&b, 1 << 16);
    store_metrics_render(s, &b);
    char key[128];
    snprintf(key, sizeof key, "\n%s ", name);
    const char *p = strstr(b.data, key);
    double v = -1;
    if (p)
        sscanf(p + strlen(key), "%lf", &v);
    buf_free(&b);
    if (v < 0)
        fail_msg("metric %s not found", name);
    return (unsigned long long)v;
}

static void wait_for_queue_depth(struct store *s, int want)
{
    for (int waited = 0; queue_depth(s) != want; waited++) {
        if (waited > WAIT_BOUND_MS)
            fail_msg("the write queue never reached %d (it is %d)", want, queue_depth(s));
        sleep_ms(1);
    }
}

/* A write job that holds the writer until released, so the test can line
 * jobs up behind it and make them one batch. */
struct gate {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int running, released;
    struct store *s;
    int rc;
    struct linli_err err;
    pthread_t thread;
};

static int gate_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    (void)c;
    (void)err;
    struct gate *g = arg;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += WAIT_BOUND_MS / 1000;
    pthread_mutex_lock(&g->lock);
    g->running = 1;
    pthread_cond_broadcast(&g->cond);
    while (!g->released)
        if (pthread_cond_timedwait(&g->cond, &g->lock, &until) != 0)
            break;
    pthread_mutex_unlock(&g->lock);
    return LINLI_OK;
}

static void *gate_thread(void *arg)
{
    struct gate *g = arg;
    linli_err_clear(&g->err);
    g->rc = store_write(g->s, gate_job, g, &g->err);
    return NULL;
}

static void gate_close(struct gate *g, struct store *s)
{
    memset(g, 0, sizeof *g);
    pthread_mutex_init(&g->lock, NULL);
    pthread_cond_init(&g->cond, NULL);
    g->s = s;
    assert_int_equal(pthread_create(&g->thread, NULL, gate_thread, g), 0);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += WAIT_BOUND_MS / 1000;
    pthread_mutex_lock(&g->lock);
    while (!g->running)
        if (pthread_cond_timedwait(&g->cond, &g->lock, &until) != 0)
            break;
    int running = g->running;
    pthread_mutex_unlock(&g->lock);
    assert_true(running);
}

static void gate_open(struct gate *g)
{
    pthread_mutex_lock(&g->lock);
    g->released = 1;
    pthread_cond_broadcast(&g->cond);
    pthread_mutex_unlock(&g->lock);
    pthread_join(g->thread, NULL);
    assert_int_equal(g->rc, LINLI_OK);
    pthread_mutex_destroy(&g->lock);
    pthread_cond_destroy(&g->cond);
}

struct writer_ctx {
    struct store *s;
    struct insert_arg *a;
    pthread_t thread;
};

static void *write_thread(void *arg)
{
    struct writer_ctx *w = arg;
    linli_err_clear(&w->a->err);
    w->a->rc = store_write(w->s, insert_job, w->a, &w->a->err);
    return NULL;
}

/* ---- open, migrations ---- */

static void store_open_creates_the_file(void **state)
{
    struct fixture *f = *state;
    assert_int_not_equal(access(f->db, F_OK), 0);
    open_store_ok(f, 64);
    assert_int_equal(access(f->db, F_OK), 0);
    assert_true(store_ready(f->s));
}

static void store_open_without_create_refuses_a_missing_file(void **state)
{
    struct fixture *f = *state;
    struct store_options o;
    store_options_default(&o);
    o.path = f->db;
    o.create = 0;
    assert_int_equal(store_open(&o, &f->s, &f->err), LINLI_ENOTFOUND);
    assert_null(f->s);
    assert_int_not_equal(access(f->db, F_OK), 0);
}

static void store_open_refuses_no_readers_or_empty_batches(void **state)
{
    struct fixture *f = *state;
    struct store_options o;
    store_options_default(&o);
    o.path = f->db;
    o.readers = 0;
    assert_int_equal(store_open(&o, &f->s, &f->err), LINLI_EINVAL);
    assert_null(f->s);
    o.readers = 1;
    o.batch_max = 0;
    assert_int_equal(store_open(&o, &f->s, &f->err), LINLI_EINVAL);
    assert_null(f->s);
}

static int journal_mode_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    (void)err;
    sqlite3_stmt *st;
    sqlite3_prepare_v2(store_db(c), "PRAGMA journal_mode", -1, &st, NULL);
    if (sqlite3_step(st) == SQLITE_ROW)
        snprintf(arg, 16, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return LINLI_OK;
}

static void store_open_puts_the_database_in_wal_mode(void **state)
{
    struct fixture *f = *state;
    open_store_ok(f, 64);
    char mode[16] = "";
    assert_int_equal(store_read(f->s, journal_mode_job, mode, &f->err), LINLI_OK);
    assert_string_equal(mode, "wal");
    store_close(f->s);
    f->s = NULL;
    sqlite3 *db = raw_open(f->db, SQLITE_OPEN_READONLY);
    char file_mode[16];
    raw_text(db, "PRAGMA journal_mode", file_mode, sizeof file_mode);
    assert_string_equal(file_mode, "wal"); /* WAL is a property of the file */
    sqlite3_close(db);
}

static void store_open_applies_every_migration(void **state)
{
    struct fixture *f = *state;
    open_store_ok(f, 64);
    assert_true(store_latest_schema_version() >= 1);
    assert_int_equal(store_schema_version(f->s), store_latest_schema_version());
    store_close(f->s);
    f->s = NULL;
    sqlite3 *db = raw_open(f->db, SQLITE_OPEN_READONLY);
    assert_int_equal(raw_int(db, "PRAGMA user_version"), store_latest_schema_version());
    assert_int_equal(raw_int(db, "PRAGMA application_id"), LINLI_APPLICATION_ID);
    const char *tables[] = {"users", "sessions", "audit_log", "idempotency_keys"};
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        char sql[128];
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = '%s'",
                 tables[i]);
        if (raw_int(db, sql) != 1)
            fail_msg("table %s is missing", tables[i]);
    }
    sqlite3_close(db);
}

static void store_reopen_keeps_data_and_applies_nothing(void **state)
{
    struct fixture *f = *state;
    open_store_ok(f, 64);
    create_table(f->s);
    struct insert_arg a = {.id = 1, .mode = INSERT_OK};
    assert_int_equal(store_write(f->s, insert_job, &a, &f->err), LINLI_OK);
    store_close(f->s);
    f->s = NULL;
    sqlite3 *db = raw_open(f->db, SQLITE_OPEN_READONLY);
    int64_t objects = raw_int(db, "SELECT count(*) FROM sqlite_schema");
    sqlite3_close(db);

    open_store_ok(f, 64);
    assert_int_equal(store_schema_version(f->s), store_latest_schema_version());
    assert_int_equal(count_rows(f->s, 0), 1);
    store_close(f->s);
    f->s = NULL;
    db = raw_open(f->db, SQLITE_OPEN_READONLY);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_schema"), objects);
    assert_int_equal(raw_int(db, "PRAGMA user_version"), store_latest_schema_version());
    sqlite3_close(db);
}

static void store_refuses_a_database_with_a_newer_schema(void **state)
{
    struct fixture *f = *state;
    open_store_ok(f, 64);
    store_close(f->s);
    f->s = NULL;
    sqlite3 *db = raw_open(f->db, SQLITE_OPEN_READWRITE);
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", store_latest_schema_version() + 1);
    raw_exec(db, sql);
    sqlite3_close(db);

    assert_int_equal(open_store(f, 64), LINLI_EINVAL);
    assert_null(f->s);
    assert_int_equal(f->err.status, LINLI_EINVAL);
    assert_contains(f->err.detail, "newer");
    /* and it was left as it was */
    db = raw_open(f->db, SQLITE_OPEN_READONLY);
    assert_int_equal(raw_int(db, "PRAGMA user_version"), store_latest_schema_version() + 1);
    sqlite3_close(db);
}

static void store_refuses_a_foreign_sqlite_file(void **state)
{
    struct fixture *f = *state;
    sqlite3 *db = raw_open(f->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    raw_exec(db, "CREATE TABLE recipes (name TEXT); INSERT INTO recipes VALUES ('jiaozi')");
    sqlite3_close(db);

    assert_int_equal(open_store(f, 64), LINLI_EINVAL);
    assert_null(f->s);
    assert_contains(f->err.detail, "not a Linli database");

    db = raw_open(f->db, SQLITE_OPEN_READONLY);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM recipes"), 1);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'users'"), 0);
    assert_int_equal(raw_int(db, "PRAGMA user_version"), 0);
    sqlite3_close(db);
}

/* "Refusing to touch it" must hold for the file's settings too: a refused
 * file is not switched to WAL mode. */
static void store_refuses_a_foreign_file_without_changing_it(void **state)
{
    struct fixture *f = *state;
    sqlite3 *db = raw_open(f->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    raw_exec(db, "CREATE TABLE recipes (name TEXT)");
    char before[16];
    raw_text(db, "PRAGMA journal_mode", before, sizeof before);
    sqlite3_close(db);
    assert_string_equal(before, "delete");

    assert_int_equal(open_store(f, 64), LINLI_EINVAL);

    db = raw_open(f->db, SQLITE_OPEN_READONLY);
    char after[16];
    raw_text(db, "PRAGMA journal_mode", after, sizeof after);
    sqlite3_close(db);
    assert_string_equal(after, "delete");
}

static void store_refuses_a_file_that_is_not_sqlite(void **state)
{
    struct fixture *f = *state;
    FILE *fp = fopen(f->db, "w");
    assert_non_null(fp);
    for (int i = 0; i < 200; i++)
        fputs("this is a text file, not a database\n", fp);
    fclose(fp);
    assert_int_not_equal(open_store(f, 64), LINLI_OK);
    assert_null(f->s);
    assert_true(f->err.detail[0] != '\0');
}

/* ---- writes and reads ---- */

static void store_write_commits_and_store_read_sees_it(void **state)
{
    struct fixture *f = *state;
    open_store_ok(f, 64);
    create_table(f->s);
    for (int64_t id = 1; id <= 10; id++) {
        struct insert_arg a = {.id = id, .mode = INSERT_OK};
        assert_int_equal(store_write(f->s, insert_job, &a, &f->err), LINLI_OK);
        assert_int_equal(atomic_load(&a.calls), 1);
        assert_int_equal(count_rows(f->s, id), 1); /* visible as soon as the write returns */
    }
    assert_int_equal(count_rows(f->s, 0), 10);
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* Without background checkpoints the writer never folds the WAL back (it
 * runs with wal_autocheckpoint off), so the WAL would grow with every
 * commit. With them it is reused from the start once checkpointed. */
static void store_background_checkpoints_keep_the_wal_from_growing(void **state)
{
    struct fixture *f = *state;
    open_store_ok(f, 1);
    create_table(f->s);
    char wal[600];
    snprintf(wal, sizeof wal, "%s-wal", f->db);
    int64_t id = 1;
    for (int i = 0; i < 200; i++, id++) {
        struct insert_arg a = {.id = id, .mode = INSERT_OK};
        assert_int_equal(store_write(f->s, insert_job, &a, &f->err), LINLI_OK);
    }
    long first = file_size(wal);
    assert_true(first > 0);
    for (int round = 0; round < 5; round++) {
        sleep_ms(100); /* several checkpoint periods (20 ms) */
        for (int i = 0; i < 200; i++, id++) {
            struct insert_arg a = {.id = id, .mode = INSERT_OK};
            assert_int_equal(store_write(f->s, insert_job, &a, &f->err), LINLI_OK);
        }
    }
    long last = file_size(wal);
    /* Six rounds of the same writes: a WAL that is never checkpointed ends
     * about six times the first size; a reused one stays near it. */
    if (last > first * 2)
        fail_msg("the WAL grew from %ld to %ld bytes: checkpoints are not running", first, last);
    assert_int_equal(count_rows(f->s, 0), id - 1);
}

static void store_write_is_durable_across_close_and_reopen(void **state)
{
    struct fixture *f = *state;
    open_store_ok(f, 64);
    create_table(f->s);
    struct insert_arg a = {.id = 7, .mode = INSERT_OK};
    assert_int_equal(store_write(f->s, insert_job, &a, &f->err), LINLI_OK);
    store_close(f->s);
    f->s = NULL;
    /* the final checkpoint folds the WAL into the file */
    char wal[256];
    snprintf(wal, sizeof wal, "%s-wal", f->db);
    FILE *w = fopen(wal, "r");
    if (w) {
        fseek(w, 0, SEEK_END);
        assert_int_equal(ftell(w), 0);
        fclose(w);
    }
    sqlite3 *db = raw_open(f->db, SQLITE_OPEN_READONLY);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM t WHERE id = 7"), 1);
    sqlite3_close(db);
}

static void store_write_returns_a_failing_jobs_status_and_undoes_it(void **state)
{
    struct fixture *f = *state;
    open_store_ok(f, 64);
    create_table(f->s);
    struct insert_arg a = {.id = 5, .mode = INSERT_THEN_FAIL};
    linli_err_clear(&a.err);
    assert_int_equal(store_write(f->s, insert_job, &a, &a.err), LINLI_EINVAL);
    assert_int_equal(a.err.status, LINLI_EINVAL);
    assert_contains(a.err.detail, "changed its mind");
    assert_int_equal(count_rows(f->s, 0), 0);
}

static void store_write_maps_a_constraint_failure_to_conflict(void **state)
{
    struct fixture *f = *state;
    open_store_ok(f, 64);
    create_table(f->s);
    struct insert_arg a = {.id = 1, .mode = INSERT_CONFLICT};
    assert_int_equal(store_write(f->s, insert_job, &a, &f->err), LINLI_OK);
    struct insert_arg b = {.id = 2, .mode = INSERT_CONFLICT};
    linli_err_clear(&b.err);
    assert_int_equal(store_write(f->s, insert_job, &b, &b.err), LINLI_ECONFLICT);
    assert_contains(b.err.detail, "inserting");
    assert_int_equal(count_rows(f->s, 0), 1);
}

static int write_in_read_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    (void)arg;
    int rc =
        sqlite3_exec(store_db(c), "INSERT INTO t (id, v) VALUES (99, 'sneaky')", NULL, NULL, NULL);
    return rc == SQLITE_OK ? LINLI_OK : store_fail(c, rc, "writing on a reader", err);
}

static void store_read_connections_refuse_writes(void **state)
{
    struct fixture *f = *state;
    open_store_ok(f, 64);
    create_table(f->s);
    assert_int_not_equal(store_read(f->s, write_in_read_job, NULL, &f->err), LINLI_OK);
    assert_int_equal(count_rows(f->s, 0), 0);
}

struct reader_ctx {
    struct store *s;
    int loops;
    int bad;
    pthread_t thread;
};

static void *reader_thread(void *arg)
{
    struct reader_ctx *r = arg;
    for (int i = 0; i < r->loops; i++) {
        struct count_arg a = {0, -1};
        struct linli_err err;
        linli_err_clear(&err);
        if (store_read(r->s, count_job, &a, &err) != LINLI_OK || a.n != 3)
            r->bad++;
    }
    return NULL;
}

static void store_read_serves_more_threads_than_pooled_connections(void **state)
{
    struct fixture *f = *state;
    open_store_ok(f, 64); /* two readers */
    create_table(f->s);
    for (int64_t id = 1; id <= 3; id++) {
        struct insert_arg a = {.id = id, .mode = INSERT_OK};
        assert_int_equal(store_write(f->s, insert_job, &a, &f->err), LINLI_OK);
    }
    struct reader_ctx r[8];
    for (int i = 0; i < 8; i++) {
        r[i] = (struct reader_ctx){.s = f->s, .loops = 200};
        assert_int_equal(pthread_create(&r[i].thread, NULL, reader_thread, &r[i]), 0);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(r[i].thread, NULL);
        assert_int_equal(r[i].bad, 0);
    }
}

/* ---- group commit ---- */

#define NBATCH 60

/* Lines up NBATCH jobs behind a gate so they run as one transaction; every
 * third job fails after writing, every seventh breaks a constraint. */
static void run_one_batch(struct fixture *f, int batch_max)
{
    open_store_ok(f, batch_max);
    create_table(f->s);
    struct insert_arg taken = {.id = 1000, .mode = INSERT_CONFLICT}; /* holds the value "taken" */
    assert_int_equal(store_write(f->s, insert_job, &taken, &f->err), LINLI_OK);

    unsigned long long batches_before = metric(f->s, "linli_store_batch_size_count");
    struct gate g;
    gate_close(&g, f->s);
    static struct insert_arg args[NBATCH];
    struct writer_ctx w[NBATCH];
    for (int i = 0; i < NBATCH; i++) {
        memset(&args[i], 0, sizeof args[i]);
        args[i].id = i + 1;
        args[i].mode = i % 3 == 1 ? INSERT_THEN_FAIL : i % 7 == 5 ? INSERT_CONFLICT : INSERT_OK;
        w[i] = (struct writer_ctx){.s = f->s, .a = &args[i]};
        assert_int_equal(pthread_create(&w[i].thread, NULL, write_thread, &w[i]), 0);
    }
    wait_for_queue_depth(f->s, NBATCH);
    gate_open(&g);
    for (int i = 0; i < NBATCH; i++)
        pthread_join(w[i].thread, NULL);

    int expected_ok = 0;
    for (int i = 0; i < NBATCH; i++) {
        struct insert_arg *a = &args[i];
        assert_int_equal(atomic_load(&a->calls), 1);
        int64_t present = count_rows(f->s, a->id);
        switch (a->mode) {
        case INSERT_OK:
            if (a->rc != LINLI_OK)
                fail_msg("job %lld failed: %d %s", (long long)a->id, a->rc, a->err.detail);
            assert_int_equal(present, 1);
            expected_ok++;
            break;
        case INSERT_THEN_FAIL:
            assert_int_equal(a->rc, LINLI_EINVAL);
            assert_contains(a->err.detail, "changed its mind");
            assert_int_equal(present, 0);
            break;
        case INSERT_CONFLICT:
            assert_int_equal(a->rc, LINLI_ECONFLICT);
            assert_int_equal(present, 0);
            break;
        default:
            fail();
        }
    }
    assert_int_equal(count_rows(f->s, 0), expected_ok + 1);
    if (batch_max >= NBATCH) {
        /* the gate's own transaction, then all of the others in one */
        assert_int_equal(metric(f->s, "linli_store_batch_size_count") - batches_before, 2);
    } else {
        assert_int_equal(metric(f->s, "linli_store_batch_size_count") - batches_before,
                         1 + (NBATCH + batch_max - 1) / batch_max);
    }
}

static void store_failing_job_does_not_undo_others_in_its_batch(void **state)
{
    run_one_batch(*state, 256);
}

static void store_failing_job_does_not_undo_others_with_batches_of_one(void **state)
{
    run_one_batch(*state, 1);
}

static void store_failing_job_does_not_undo_others_in_partial_batches(void **state)
{
    run_one_batch(*state, 7);
}

#define NTHREADS   8
#define PER_THREAD 40

struct burst {
    struct store *s;
    int first_id;
    int ok, failed, wrong;
    pthread_t thread;
};

static void *burst_thread(void *arg)
{
    struct burst *b = arg;
    for (int i = 0; i < PER_THREAD; i++) {
        struct insert_arg a = {.id = b->first_id + i};
        a.mode = i % 4 == 3 ? INSERT_THEN_FAIL : INSERT_OK;
        linli_err_clear(&a.err);
        int rc = store_write(b->s, insert_job, &a, &a.err);
        if (a.mode == INSERT_OK && rc == LINLI_OK)
            b->ok++;
        else if (a.mode == INSERT_THEN_FAIL && rc == LINLI_EINVAL)
            b->failed++;
        else
            b->wrong++;
    }
    return NULL;
}

static void run_burst(struct fixture *f, int batch_max)
{
    open_store_ok(f, batch_max);
    create_table(f->s);
    struct burst b[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        b[i] = (struct burst){.s = f->s, .first_id = 1 + i * PER_THREAD};
        assert_int_equal(pthread_create(&b[i].thread, NULL, burst_thread, &b[i]), 0);
    }
    int ok = 0;
    for (int i = 0; i < NTHREADS; i++) {
        pthread_join(b[i].thread, NULL);
        assert_int_equal(b[i].wrong, 0);
        assert_int_equal(b[i].failed, PER_THREAD / 4);
        ok += b[i].ok;
    }
    assert_int_equal(ok, NTHREADS * PER_THREAD * 3 / 4);
    assert_int_equal(count_rows(f->s, 0), ok);
    for (int id = 1; id <= NTHREADS * PER_THREAD; id++)
        assert_int_equal(count_rows(f->s, id), (id - 1) % PER_THREAD % 4 == 3 ? 0 : 1);
    assert_int_equal(metric(f->s, "linli_store_jobs_total"), NTHREADS * PER_THREAD + 1);
}

static void store_concurrent_writers_each_get_their_own_outcome(void **state)
{
    run_burst(*state, 256);
}

static void store_concurrent_writers_with_batch_max_one(void **state)
{
    run_burst(*state, 1);
}

/* A job whose failure makes SQLite roll back the whole transaction (here
 * INSERT OR ROLLBACK; also SQLITE_FULL or an I/O error) must not leave the
 * others of its batch told one thing while the database holds another. */
static void store_batch_reports_truthfully_when_a_job_aborts_the_transaction(void **state)
{
    struct fixture *f = *state;
    open_store_ok(f, 256);
    create_table(f->s);
    struct insert_arg taken = {.id = 1000, .mode = INSERT_CONFLICT};
    assert_int_equal(store_write(f->s, insert_job, &taken, &f->err), LINLI_OK);

    struct gate g;
    gate_close(&g, f->s);
    static struct insert_arg args[3];
    struct writer_ctx w[3];
    enum insert_mode modes[3] = {INSERT_OK, INSERT_ABORT_TXN, INSERT_OK};
    for (int i = 0; i < 3; i++) {
        memset(&args[i], 0, sizeof args[i]);
        args[i].id = i + 1;
        args[i].mode = modes[i];
        w[i] = (struct writer_ctx){.s = f->s, .a = &args[i]};
        assert_int_equal(pthread_create(&w[i].thread, NULL, write_thread, &w[i]), 0);
        wait_for_queue_depth(f->s, i + 1); /* queued in this order */
    }
    gate_open(&g);
    for (int i = 0; i < 3; i++)
        pthread_join(w[i].thread, NULL);

    assert_int_equal(args[1].rc, LINLI_ECONFLICT);
    assert_int_equal(count_rows(f->s, 2), 0);
    for (int i = 0; i < 3; i += 2) {
        int64_t present = count_rows(f->s, args[i].id);
        if ((args[i].rc == LINLI_OK) != (present == 1))
            fail_msg("job %lld was told %d (%s) but its row is %s", (long long)args[i].id,
                     args[i].rc, args[i].err.detail, present ? "stored" : "absent");
    }
}

/* ---- close ---- */

struct closer {
    struct store *s;
    pthread_t thread;
};

static void *close_thread(void *arg)
{
    struct closer *c = arg;
    store_close(c->s);
    return NULL;
}

static void store_close_finishes_jobs_queued_before_it_and_refuses_later_ones(void **state)
{
    struct fixture *f = *state;
    open_store_ok(f, 256);
    create_table(f->s);
    struct gate g;
    gate_close(&g, f->s);
    static struct insert_arg args[20];
    struct writer_ctx w[20];
    for (int i = 0; i < 20; i++) {
        memset(&args[i], 0, sizeof args[i]);
        args[i].id = i + 1;
        args[i].mode = INSERT_OK;
        w[i] = (struct writer_ctx){.s = f->s, .a = &args[i]};
        assert_int_equal(pthread_create(&w[i].thread, NULL, write_thread, &w[i]), 0);
    }
    wait_for_queue_depth(f->s, 20);

    struct closer c = {.s = f->s};
    assert_int_equal(pthread_create(&c.thread, NULL, close_thread, &c), 0);
    /* the close has begun once the store stops accepting writes; it cannot
     * finish while the gate holds the writer */
    for (int waited = 0; store_ready(f->s); waited++) {
        if (waited > WAIT_BOUND_MS)
            fail_msg("store_close never began");
        sleep_ms(1);
    }
    struct insert_arg late = {.id = 999, .mode = INSERT_OK};
    linli_err_clear(&late.err);
    assert_int_equal(store_write(f->s, insert_job, &late, &late.err), LINLI_ESHUTDOWN);
    assert_int_equal(late.err.status, LINLI_ESHUTDOWN);
    assert_int_equal(atomic_load(&late.calls), 0);

    gate_open(&g);
    for (int i = 0; i < 20; i++) {
        pthread_join(w[i].thread, NULL);
        if (args[i].rc != LINLI_OK)
            fail_msg("job %d queued before close failed: %s", i + 1, args[i].err.detail);
    }
    pthread_join(c.thread, NULL);
    f->s = NULL;

    sqlite3 *db = raw_open(f->db, SQLITE_OPEN_READONLY);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM t"), 20);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM t WHERE id = 999"), 0);
    sqlite3_close(db);
}

static void store_close_of_null_is_harmless(void **state)
{
    (void)state;
    store_close(NULL);
}

/* ---- statement cache ---- */

static const char SQL_ONE[] = "SELECT 1";
static const char SQL_ONE_AGAIN[] = "SELECT 1";
static const char SQL_PARAM[] = "SELECT ?";
static const char SQL_SERIES[] = "SELECT value FROM (SELECT 1 AS value UNION ALL SELECT 2)";
static const char SQL_BROKEN[] = "SELEKT nonsense";

struct cache_arg {
    int ok;
    struct linli_err bad_err;
    sqlite3_stmt *bad;
};

static int cache_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct cache_arg *a = arg;
    sqlite3_stmt *one = store_stmt(c, SQL_ONE, err);
    sqlite3_stmt *one_again = store_stmt(c, SQL_ONE, err);
    sqlite3_stmt *other = store_stmt(c, SQL_ONE_AGAIN, err);
    a->ok = one && one == one_again && other && other != one;

    /* a cached statement comes back reset, even if left mid-way */
    sqlite3_stmt *series = store_stmt(c, SQL_SERIES, err);
    a->ok =
        a->ok && series && sqlite3_step(series) == SQLITE_ROW && sqlite3_column_int(series, 0) == 1;
    series = store_stmt(c, SQL_SERIES, err);
    a->ok = a->ok && sqlite3_step(series) == SQLITE_ROW && sqlite3_column_int(series, 0) == 1;

    /* ... with its bindings cleared */
    sqlite3_stmt *p = store_stmt(c, SQL_PARAM, err);
    sqlite3_bind_int(p, 1, 5);
    a->ok = a->ok && sqlite3_step(p) == SQLITE_ROW && sqlite3_column_int(p, 0) == 5;
    p = store_stmt(c, SQL_PARAM, err);
    a->ok = a->ok && sqlite3_step(p) == SQLITE_ROW && sqlite3_column_type(p, 0) == SQLITE_NULL;

    linli_err_clear(&a->bad_err);
    a->bad = store_stmt(c, SQL_BROKEN, &a->bad_err);
    return LINLI_OK;
}

static void store_stmt_caches_by_sql_address(void **state)
{
    struct fixture *f = *state;
    open_store_ok(f, 64);
    struct cache_arg a = {0};
    assert_int_equal(store_read(f->s, cache_job, &a, &f->err), LINLI_OK);
    assert_true(a.ok);
    assert_null(a.bad);
    assert_int_equal(a.bad_err.status, LINLI_EIO);
    assert_true(a.bad_err.detail[0] != '\0');
    /* and again on the writer connection */
    memset(&a, 0, sizeof a);
    assert_int_equal(store_write(f->s, cache_job, &a, &f->err), LINLI_OK);
    assert_true(a.ok);
}

#define MANY_SQL 300
static char many_sql[MANY_SQL][32];

struct many_arg {
    sqlite3_stmt *first[MANY_SQL];
    int same, correct;
};

static int many_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct many_arg *a = arg;
    for (int i = 0; i < MANY_SQL; i++)
        a->first[i] = store_stmt(c, many_sql[i], err);
    for (int i = 0; i < MANY_SQL; i++) {
        sqlite3_stmt *st = store_stmt(c, many_sql[i], err);
        if (st && st == a->first[i])
            a->same++;
        if (st && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == i)
            a->correct++;
    }
    return LINLI_OK;
}

static void store_stmt_cache_keeps_every_statement_as_it_grows(void **state)
{
    struct fixture *f = *state;
    open_store_ok(f, 64);
    for (int i = 0; i < MANY_SQL; i++)
        snprintf(many_sql[i], sizeof many_sql[i], "SELECT %d", i);
    struct many_arg *a = calloc(1, sizeof *a);
    assert_int_equal(store_read(f->s, many_job, a, &f->err), LINLI_OK);
    assert_int_equal(a->same, MANY_SQL);
    assert_int_equal(a->correct, MANY_SQL);
    free(a);
}

/* ---- backup ---- */

static void store_backup_copies_a_live_database(void **state)
{
    struct fixture *f = *state;
    open_store_ok(f, 64);
    create_table(f->s);
    for (int64_t id = 1; id <= 50; id++) {
        struct insert_arg a = {.id = id, .mode = INSERT_OK};
        assert_int_equal(store_write(f->s, insert_job, &a, &f->err), LINLI_OK);
    }
    char dst[160];
    snprintf(dst, sizeof dst, "%s/backup.db", f->dir);
    linli_err_clear(&f->err);
    int rc = store_backup(f->db, dst, &f->err);
    if (rc)
        fail_msg("backup: %s", f->err.detail);

    char part[200];
    snprintf(part, sizeof part, "%s.part", dst);
    assert_int_not_equal(access(part, F_OK), 0);

    sqlite3 *db = raw_open(dst, SQLITE_OPEN_READONLY);
    char check[64];
    raw_text(db, "PRAGMA integrity_check", check, sizeof check);
    assert_string_equal(check, "ok");
    assert_int_equal(raw_int(db, "SELECT count(*) FROM t"), 50);
    assert_int_equal(raw_int(db, "PRAGMA user_version"), store_latest_schema_version());
    char mode[16];
    raw_text(db, "PRAGMA journal_mode", mode, sizeof mode);
    assert_string_equal(mode, "delete"); /* the copy stands alone, no -wal needed */
    sqlite3_close(db);

    /* the copy is itself a Linli database the store opens */
    store_close(f->s);
    f->s = NULL;
    snprintf(f->db, sizeof f->db, "%s", dst);
    open_store_ok(f, 64);
    assert_int_equal(count_rows(f->s, 0), 50);
}

static void store_backup_replaces_an_older_backup(void **state)
{
    struct fixture *f = *state;
    open_store_ok(f, 64);
    create_table(f->s);
    char dst[160];
    snprintf(dst, sizeof dst, "%s/backup.db", f->dir);
    assert_int_equal(store_backup(f->db, dst, &f->err), LINLI_OK);
    struct insert_arg a = {.id = 1, .mode = INSERT_OK};
    assert_int_equal(store_write(f->s, insert_job, &a, &f->err), LINLI_OK);
    assert_int_equal(store_backup(f->db, dst, &f->err), LINLI_OK);
    sqlite3 *db = raw_open(dst, SQLITE_OPEN_READONLY);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM t"), 1);
    sqlite3_close(db);
}

static void store_backup_of_a_missing_file_is_not_found(void **state)
{
    struct fixture *f = *state;
    char src[160], dst[160];
    snprintf(src, sizeof src, "%s/absent.db", f->dir);
    snprintf(dst, sizeof dst, "%s/backup.db", f->dir);
    assert_int_equal(store_backup(src, dst, &f->err), LINLI_ENOTFOUND);
    assert_int_equal(f->err.status, LINLI_ENOTFOUND);
    assert_contains(f->err.detail, "absent.db");
    assert_int_not_equal(access(dst, F_OK), 0);
}

static void store_metrics_render_prometheus_series(void **state)
{
    struct fixture *f = *state;
    open_store_ok(f, 64);
    create_table(f->s);
    struct buf b;
    buf_init(&b, 1 << 16);
    store_metrics_render(f->s, &b);
    assert_contains(b.data, "# TYPE linli_store_queue_depth gauge");
    assert_contains(b.data, "linli_store_commits_total 1\n");
    assert_contains(b.data, "linli_store_batch_size_bucket{le=\"+Inf\"} 1\n");
    assert_contains(b.data, "linli_store_commit_seconds_count 1\n");
    buf_free(&b);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    log_set_level(LOG_WARN); /* keep migrations and logins out of the output */
    const struct CMUnitTest tests[] = {
        T(store_open_creates_the_file),
        T(store_open_without_create_refuses_a_missing_file),
        T(store_open_refuses_no_readers_or_empty_batches),
        T(store_open_puts_the_database_in_wal_mode),
        T(store_open_applies_every_migration),
        T(store_reopen_keeps_data_and_applies_nothing),
        T(store_refuses_a_database_with_a_newer_schema),
        T(store_refuses_a_foreign_sqlite_file),
        T(store_refuses_a_foreign_file_without_changing_it),
        T(store_refuses_a_file_that_is_not_sqlite),
        T(store_write_commits_and_store_read_sees_it),
        T(store_write_is_durable_across_close_and_reopen),
        T(store_background_checkpoints_keep_the_wal_from_growing),
        T(store_write_returns_a_failing_jobs_status_and_undoes_it),
        T(store_write_maps_a_constraint_failure_to_conflict),
        T(store_read_connections_refuse_writes),
        T(store_read_serves_more_threads_than_pooled_connections),
        T(store_failing_job_does_not_undo_others_in_its_batch),
        T(store_failing_job_does_not_undo_others_with_batches_of_one),
        T(store_failing_job_does_not_undo_others_in_partial_batches),
        T(store_concurrent_writers_each_get_their_own_outcome),
        T(store_concurrent_writers_with_batch_max_one),
        T(store_batch_reports_truthfully_when_a_job_aborts_the_transaction),
        T(store_close_finishes_jobs_queued_before_it_and_refuses_later_ones),
        T(store_close_of_null_is_harmless),
        T(store_stmt_caches_by_sql_address),
        T(store_stmt_cache_keeps_every_statement_as_it_grows),
        T(store_backup_copies_a_live_database),
        T(store_backup_replaces_an_older_backup),
        T(store_backup_of_a_missing_file_is_not_found),
        T(store_metrics_render_prometheus_series),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
