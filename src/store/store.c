/* store.c - SQLite connections, the writer thread (group commit), the reader
 * pool, migrations and checkpoints (backups: store_backup.c). See store.h.  */
#include "store/store.h"

#include "base/clock.h"
#include "base/log.h"
#include "base/metrics.h"
#include "store/migrations.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* "LNLI": marks a file as a Linli database so we never migrate a stranger's. */
#define LINLI_APPLICATION_ID 0x4C4E4C49

struct stmt_slot {
    const char *sql;
    sqlite3_stmt *stmt;
};

struct store_conn {
    sqlite3 *db;
    struct stmt_slot *slots; /* open addressing on the sql pointer */
    size_t nslots, used;
};

struct write_job {
    store_fn fn;
    void *arg;
    struct linli_err *err;
    int rc;
    int done;
    struct write_job *next;
};

struct store {
    struct store_options opt;
    char *path;

    struct store_conn writer;
    pthread_t writer_thread;
    pthread_mutex_t lock; /* guards the queue, stopping, done flags */
    pthread_cond_t work;  /* writer waits for jobs */
    pthread_cond_t done;  /* callers wait for their job */
    struct write_job *head, *tail;
    int queued;
    int stopping;
    int callers; /* threads inside store_write; close waits for them to leave */

    struct store_conn *readers;
    int *free_readers; /* stack of indexes */
    int nfree;
    pthread_mutex_t rlock;
    pthread_cond_t rcond;

    struct store_conn checkpointer;
    pthread_t checkpoint_thread;
    int checkpoint_started;
    pthread_cond_t cp_cond; /* under lock; signalled at stop */

    int schema_version;

    struct hist batch_size;
    struct hist commit_seconds;
    atomic_uint_fast64_t commits, commit_failures, jobs_done;
    atomic_int queue_depth;
    atomic_uint_fast64_t checkpoints;
};

void store_options_default(struct store_options *o)
{
    o->path = "linli.db";
    o->readers = 4;
    o->batch_max = 256;
    o->busy_timeout_ms = 5000;
    o->checkpoint_ms = 1000;
    o->create = 1;
}

sqlite3 *store_db(struct store_conn *c)
{
    return c->db;
}

int store_fail(struct store_conn *c, int rc, const char *what, struct linli_err *err)
{
    const char *msg = c && c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc);
    int status;
    switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
        status = LINLI_ECONFLICT;
        break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        status = LINLI_EBUSY;
        break;
    case SQLITE_NOMEM:
        status = LINLI_ENOMEM;
        break;
    default:
        status = LINLI_EIO;
        break;
    }
    if (status == LINLI_EIO)
        log_error("store: %s: %s (%d)", what, msg, rc);
    return linli_fail(err, status, "%s: %s", what, msg);
}

/* ---- statement cache ---- */

static size_t slot_hash(const char *sql, size_t nslots)
{
    uintptr_t h = (uintptr_t)sql;
    h ^= h >> 17;
    h *= (uintptr_t)0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 7) & (nslots - 1);
}

static int cache_grow(struct store_conn *c)
{
    size_t n = c->nslots ? c->nslots * 2 : 64;
    struct stmt_slot *s = calloc(n, sizeof *s);
    if (!s)
        return LINLI_ENOMEM;
    for (size_t i = 0; i < c->nslots; i++) {
        if (!c->slots[i].sql)
            continue;
        size_t j = slot_hash(c->slots[i].sql, n);
        while (s[j].sql)
            j = (j + 1) & (n - 1);
        s[j] = c->slots[i];
    }
    free(c->slots);
    c->slots = s;
    c->nslots = n;
    return LINLI_OK;
}

sqlite3_stmt *store_stmt(struct store_conn *c, const char *sql, struct linli_err *err)
{
    if (c->used * 2 >= c->nslots && cache_grow(c)) {
        linli_fail(err, LINLI_ENOMEM, "out of memory caching a statement");
        return NULL;
    }
    size_t j = slot_hash(sql, c->nslots);
    while (c->slots[j].sql && c->slots[j].sql != sql)
        j = (j + 1) & (c->nslots - 1);
    if (c->slots[j].sql) {
        sqlite3_stmt *st = c->slots[j].stmt;
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        return st;
    }
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
    if (rc != SQLITE_OK) {
        store_fail(c, rc, "preparing a statement", err);
        log_error("store: cannot prepare: %s", sql);
        return NULL;
    }
    c->slots[j].sql = sql;
    c->slots[j].stmt = st;
    c->used++;
    return st;
}

/* Resets statements a job left mid-step so they hold no read snapshot. */
static void conn_reset_busy(struct store_conn *c)
{
    for (sqlite3_stmt *st = sqlite3_next_stmt(c->db, NULL); st; st = sqlite3_next_stmt(c->db, st))
        if (sqlite3_stmt_busy(st))
            sqlite3_reset(st);
}

static void conn_close(struct store_conn *c)
{
    for (size_t i = 0; i < c->nslots; i++)
        if (c->slots[i].stmt)
            sqlite3_finalize(c->slots[i].stmt);
    free(c->slots);
    c->slots = NULL;
    c->nslots = c->used = 0;
    if (c->db)
        sqlite3_close(c->db);
    c->db = NULL;
}

static int conn_exec(struct store_conn *c, const char *sql, struct linli_err *err)
{
    char *msg = NULL;
    int rc = sqlite3_exec(c->db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        linli_fail(err, LINLI_EIO, "%s: %s", sql, msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return LINLI_EIO;
    }
    return LINLI_OK;
}

static int pragma_int(struct store_conn *c, const char *sql)
{
    sqlite3_stmt *st;
    int v = -1;
    if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            v = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
    }
    return v;
}

static int conn_open(struct store *s, struct store_conn *c, int create, int readonly,
                     struct linli_err *err)
{
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
    int rc = sqlite3_open_v2(s->path, &c->db, flags, NULL);
    if (rc != SQLITE_OK) {
        linli_fail(err, LINLI_EIO, "cannot open database %s: %s", s->path,
                   c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
        conn_close(c);
        return LINLI_EIO;
    }
    sqlite3_busy_timeout(c->db, s->opt.busy_timeout_ms);
    sqlite3_extended_result_codes(c->db, 1);
    if (conn_exec(c, "PRAGMA foreign_keys=ON", err) ||
        (readonly && conn_exec(c, "PRAGMA query_only=1", err))) {
        conn_close(c);
        return LINLI_EIO;
    }
    return LINLI_OK;
}

/* ---- migrations ---- */

int store_latest_schema_version(void)
{
    return store_migrations[store_migration_count - 1].version;
}

/* Refuses a file that is not a Linli database or is newer than this program,
 * before anything (even the journal mode) is changed in it. */
static int identify(struct store *s, struct linli_err *err)
{
    struct store_conn *c = &s->writer;
    int app = pragma_int(c, "PRAGMA application_id");
    int version = pragma_int(c, "PRAGMA user_version");
    int tables = pragma_int(c, "SELECT count(*) FROM sqlite_schema");
    if (version < 0 || app < 0 || tables < 0)
        return linli_fail(err, LINLI_EIO, "%s is not a readable SQLite database: %s", s->path,
                          sqlite3_errmsg(c->db));
    if (app != LINLI_APPLICATION_ID && (app != 0 || tables > 0))
        return linli_fail(err, LINLI_EINVAL,
                          "%s is not a Linli database (it holds other data); refusing to touch it",
                          s->path);
    int latest = store_latest_schema_version();
    if (version > latest)
        return linli_fail(err, LINLI_EINVAL,
                          "database %s has schema version %d, newer than this program "
                          "understands (%d); run a newer Linli release with it",
                          s->path, version, latest);
    s->schema_version = version;
    return LINLI_OK;
}

static int migrate(struct store *s, struct linli_err *err)
{
    struct store_conn *c = &s->writer;
    int version = s->schema_version;
    for (int i = 0; i < store_migration_count; i++) {
        const struct migration *m = &store_migrations[i];
        if (m->version <= version)
            continue;
        char sql[96];
        if (conn_exec(c, "BEGIN IMMEDIATE", err))
            return LINLI_EIO;
        snprintf(sql, sizeof sql, "PRAGMA user_version=%d", m->version);
        char appsql[64];
        snprintf(appsql, sizeof appsql, "PRAGMA application_id=%d", LINLI_APPLICATION_ID);
        if (conn_exec(c, m->sql, err) || conn_exec(c, sql, err) || conn_exec(c, appsql, err) ||
            conn_exec(c, "COMMIT", err)) {
            conn_exec(c, "ROLLBACK", NULL);
            char why[sizeof err->detail];
            snprintf(why, sizeof why, "%s", err->detail);
            return linli_fail(err, LINLI_EIO, "migration %d (%s) failed: %s", m->version, m->name,
                              why);
        }
        log_info("store: applied migration %d: %s", m->version, m->name);
        version = m->version;
    }
    s->schema_version = version;
    return LINLI_OK;
}

/* ---- the writer ---- */

/* Runs one batch. Each job gets a savepoint so its failure undoes only its
 * own work. Some errors (I/O, disk full, out of memory, OR ROLLBACK) make
 * SQLite abandon the whole transaction; the jobs already run in it are then
 * lost, so they are told so (EIO), and the rest go on in a new transaction. */
static int batch_begin(struct store_conn *c)
{
    return sqlite3_exec(c->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
}

static void fail_jobs(struct write_job *from, struct write_job *to, const char *why)
{
    for (struct write_job *j = from; j && j != to; j = j->next)
        if (j->rc == LINLI_OK)
            j->rc = linli_fail(j->err, LINLI_EIO, "%s; nothing was saved", why);
}

static void run_batch(struct store *s, struct write_job *batch, int n)
{
    struct store_conn *c = &s->writer;
    int64_t t0 = clock_mono_us();
    struct write_job *segment = batch; /* first job of the current transaction */
    int in_txn = batch_begin(c) == SQLITE_OK;
    for (struct write_job *j = batch; j; j = j->next) {
        if (!in_txn) {
            log_error("store: cannot begin a transaction: %s", sqlite3_errmsg(c->db));
            j->rc = linli_fail(j->err, LINLI_EIO, "the store could not start a transaction");
            if (j->next && (in_txn = batch_begin(c) == SQLITE_OK))
                segment = j->next;
            continue;
        }
        int sp = n > 1 && sqlite3_exec(c->db, "SAVEPOINT job", NULL, NULL, NULL) == SQLITE_OK;
        if (n > 1 && !sp) {
            j->rc = linli_fail(j->err, LINLI_EIO, "the store could not start the change");
            continue;
        }
        j->rc = j->fn(c, j->arg, j->err);
        conn_reset_busy(c);
        if (sqlite3_get_autocommit(c->db)) {
            /* SQLite rolled the whole transaction back under us. */
            log_error("store: a write job's error ended the transaction; %s",
                      "earlier jobs in it are reported failed");
            if (j->rc == LINLI_OK)
                j->rc = linli_fail(j->err, LINLI_EIO, "the store lost the transaction");
            fail_jobs(segment, j, "the store lost the transaction");
            atomic_fetch_add(&s->commit_failures, 1);
            in_txn = j->next && batch_begin(c) == SQLITE_OK;
            segment = j->next;
            continue;
        }
        if (sp) {
            if (j->rc != LINLI_OK)
                sqlite3_exec(c->db, "ROLLBACK TO job", NULL, NULL, NULL);
            sqlite3_exec(c->db, "RELEASE job", NULL, NULL, NULL);
        }
    }
    if (in_txn) {
        int any_ok = 0;
        for (struct write_job *j = segment; j; j = j->next)
            any_ok |= j->rc == LINLI_OK;
        if (!any_ok) {
            sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
        } else if (sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
            log_error("store: COMMIT failed: %s", sqlite3_errmsg(c->db));
            if (!sqlite3_get_autocommit(c->db))
                sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
            atomic_fetch_add(&s->commit_failures, 1);
            fail_jobs(segment, NULL, "the store could not commit the change");
        } else {
            atomic_fetch_add(&s->commits, 1);
        }
    }
    hist_observe(&s->commit_seconds, (double)(clock_mono_us() - t0) / 1e6);
    hist_observe(&s->batch_size, n);
}

static void *writer_main(void *arg)
{
    struct store *s = arg;
    pthread_mutex_lock(&s->lock);
    for (;;) {
        while (!s->head && !s->stopping)
            pthread_cond_wait(&s->work, &s->lock);
        if (!s->head)
            break; /* stopping and drained */
        struct write_job *batch = s->head, *last = s->head;
        int n = 1;
        while (last->next && n < s->opt.batch_max) {
            last = last->next;
            n++;
        }
        s->head = last->next;
        if (!s->head)
            s->tail = NULL;
        last->next = NULL;
        s->queued -= n;
        atomic_store(&s->queue_depth, s->queued);
        pthread_mutex_unlock(&s->lock);

        run_batch(s, batch, n);

        pthread_mutex_lock(&s->lock);
        for (struct write_job *j = batch, *next; j; j = next) {
            next = j->next; /* the caller may free j once done is set */
            j->done = 1;
        }
        atomic_fetch_add(&s->jobs_done, (uint_fast64_t)n);
        pthread_cond_broadcast(&s->done);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

int store_write(struct store *s, store_fn fn, void *arg, struct linli_err *err)
{
    struct write_job job = {.fn = fn, .arg = arg, .err = err, .rc = LINLI_OK};
    pthread_mutex_lock(&s->lock);
    if (s->stopping) {
        pthread_mutex_unlock(&s->lock);
        return linli_fail(err, LINLI_ESHUTDOWN, "the server is shutting down; try again shortly");
    }
    s->callers++;
    if (s->tail)
        s->tail->next = &job;
    else
        s->head = &job;
    s->tail = &job;
    s->queued++;
    atomic_store(&s->queue_depth, s->queued);
    pthread_cond_signal(&s->work);
    while (!job.done)
        pthread_cond_wait(&s->done, &s->lock);
    if (--s->callers == 0 && s->stopping)
        pthread_cond_broadcast(&s->done); /* store_close may be waiting for us */
    pthread_mutex_unlock(&s->lock);
    return job.rc;
}

/* ---- readers ---- */

int store_read(struct store *s, store_fn fn, void *arg, struct linli_err *err)
{
    pthread_mutex_lock(&s->rlock);
    while (s->nfree == 0)
        pthread_cond_wait(&s->rcond, &s->rlock);
    int i = s->free_readers[--s->nfree];
    pthread_mutex_unlock(&s->rlock);

    struct store_conn *c = &s->readers[i];
    int rc = fn(c, arg, err);
    conn_reset_busy(c);

    pthread_mutex_lock(&s->rlock);
    s->free_readers[s->nfree++] = i;
    pthread_cond_signal(&s->rcond);
    pthread_mutex_unlock(&s->rlock);
    return rc;
}

/* ---- checkpoints ---- */

static void *checkpoint_main(void *arg)
{
    struct store *s = arg;
    pthread_mutex_lock(&s->lock);
    while (!s->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        int64_t ns = until.tv_nsec + (int64_t)s->opt.checkpoint_ms * 1000000;
        until.tv_sec += (time_t)(ns / 1000000000);
        until.tv_nsec = (long)(ns % 1000000000);
        pthread_cond_timedwait(&s->cp_cond, &s->lock, &until);
        if (s->stopping)
            break;
        pthread_mutex_unlock(&s->lock);
        int log_frames = 0, done_frames = 0;
        int rc = sqlite3_wal_checkpoint_v2(s->checkpointer.db, NULL, SQLITE_CHECKPOINT_PASSIVE,
                                           &log_frames, &done_frames);
        if (rc == SQLITE_OK)
            atomic_fetch_add(&s->checkpoints, 1);
        else if (rc != SQLITE_BUSY)
            log_warn("store: checkpoint failed: %s", sqlite3_errmsg(s->checkpointer.db));
        pthread_mutex_lock(&s->lock);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

/* ---- open and close ---- */

int store_open(const struct store_options *o, struct store **out, struct linli_err *err)
{
    *out = NULL;
    if (o->readers < 1 || o->batch_max < 1)
        return linli_fail(err, LINLI_EINVAL, "store needs at least one reader and a batch of one");
    if (!o->create && access(o->path, F_OK) != 0)
        return linli_fail(err, LINLI_ENOTFOUND, "database %s does not exist", o->path);
    struct store *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(o->path))) {
        free(s);
        return linli_fail(err, LINLI_ENOMEM, "out of memory");
    }
    s->opt = *o;
    s->opt.path = s->path;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->work, NULL);
    pthread_cond_init(&s->done, NULL);
    pthread_cond_init(&s->cp_cond, NULL);
    pthread_mutex_init(&s->rlock, NULL);
    pthread_cond_init(&s->rcond, NULL);
    static const double batch_bounds[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512};
    static const double commit_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                           0.05,   0.1,   0.25,   0.5,   1,    2.5};
    hist_init(&s->batch_size, batch_bounds, 10);
    hist_init(&s->commit_seconds, commit_bounds, 12);

    int rc = conn_open(s, &s->writer, o->create, 0, err);
    if (rc || (rc = identify(s, err)))
        goto fail;
    /* WAL before anything else; synchronous=FULL so a commit is on disk when
     * COMMIT returns. The writer never checkpoints on its own (that would
     * stall a commit); the checkpoint thread does it. */
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->writer.db, "PRAGMA journal_mode=WAL", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW ||
        strcmp((const char *)sqlite3_column_text(st, 0), "wal") != 0) {
        sqlite3_finalize(st);
        rc = linli_fail(err, LINLI_EIO, "cannot put %s in WAL mode: %s", s->path,
                        sqlite3_errmsg(s->writer.db));
        goto fail;
    }
    sqlite3_finalize(st);
    if ((rc = conn_exec(&s->writer, "PRAGMA synchronous=FULL", err)) ||
        (o->checkpoint_ms > 0 && (rc = conn_exec(&s->writer, "PRAGMA wal_autocheckpoint=0", err))))
        goto fail;
    if ((rc = migrate(s, err)))
        goto fail;

    s->readers = calloc((size_t)o->readers, sizeof *s->readers);
    s->free_readers = calloc((size_t)o->readers, sizeof *s->free_readers);
    if (!s->readers || !s->free_readers) {
        rc = linli_fail(err, LINLI_ENOMEM, "out of memory");
        goto fail;
    }
    for (int i = 0; i < o->readers; i++) {
        if ((rc = conn_open(s, &s->readers[i], 0, 1, err)))
            goto fail;
        s->free_readers[s->nfree++] = i;
    }
    /* A connection learns that the file is in WAL mode only when it first
     * reads it; until then its checkpoints do nothing. */
    if ((rc = conn_open(s, &s->checkpointer, 0, 0, err)) ||
        (rc = conn_exec(&s->checkpointer, "SELECT count(*) FROM sqlite_schema", err)))
        goto fail;

    if (pthread_create(&s->writer_thread, NULL, writer_main, s) != 0) {
        rc = linli_fail(err, LINLI_EIO, "cannot start the writer thread");
        goto fail;
    }
    if (o->checkpoint_ms > 0) {
        if (pthread_create(&s->checkpoint_thread, NULL, checkpoint_main, s) != 0) {
            pthread_mutex_lock(&s->lock);
            s->stopping = 1;
            pthread_cond_broadcast(&s->work);
            pthread_mutex_unlock(&s->lock);
            pthread_join(s->writer_thread, NULL);
            rc = linli_fail(err, LINLI_EIO, "cannot start the checkpoint thread");
            goto fail;
        }
        s->checkpoint_started = 1;
    }
    *out = s;
    return LINLI_OK;

fail:
    if (s->readers)
        for (int i = 0; i < o->readers; i++)
            conn_close(&s->readers[i]);
    conn_close(&s->checkpointer);
    conn_close(&s->writer);
    free(s->readers);
    free(s->free_readers);
    free(s->path);
    free(s);
    return rc;
}

void store_close(struct store *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    s->stopping = 1;
    pthread_cond_broadcast(&s->work);
    pthread_cond_broadcast(&s->cp_cond);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->writer_thread, NULL); /* drains the queue first */
    /* Callers whose jobs just finished may still be waking up on our lock. */
    pthread_mutex_lock(&s->lock);
    while (s->callers > 0)
        pthread_cond_wait(&s->done, &s->lock);
    pthread_mutex_unlock(&s->lock);
    if (s->checkpoint_started)
        pthread_join(s->checkpoint_thread, NULL);
    for (int i = 0; i < s->opt.readers; i++)
        conn_close(&s->readers[i]);
    conn_close(&s->checkpointer);
    /* Fold the WAL into the database so the file alone is complete. */
    if (sqlite3_wal_checkpoint_v2(s->writer.db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL) !=
        SQLITE_OK)
        log_warn("store: final checkpoint: %s", sqlite3_errmsg(s->writer.db));
    conn_close(&s->writer);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->work);
    pthread_cond_destroy(&s->done);
    pthread_cond_destroy(&s->cp_cond);
    pthread_mutex_destroy(&s->rlock);
    pthread_cond_destroy(&s->rcond);
    free(s->readers);
    free(s->free_readers);
    free(s->path);
    free(s);
}

int store_ready(struct store *s)
{
    pthread_mutex_lock(&s->lock);
    int ok = !s->stopping;
    pthread_mutex_unlock(&s->lock);
    return ok;
}

int store_schema_version(struct store *s)
{
    return s->schema_version;
}

void store_metrics_render(struct store *s, struct buf *out)
{
    buf_printf(out,
               "# HELP linli_store_queue_depth Write jobs waiting for the writer.\n"
               "# TYPE linli_store_queue_depth gauge\n"
               "linli_store_queue_depth %d\n",
               atomic_load(&s->queue_depth));
    buf_printf(out,
               "# HELP linli_store_commits_total Transactions committed.\n"
               "# TYPE linli_store_commits_total counter\n"
               "linli_store_commits_total %llu\n"
               "# HELP linli_store_commit_failures_total Transactions that failed.\n"
               "# TYPE linli_store_commit_failures_total counter\n"
               "linli_store_commit_failures_total %llu\n"
               "# HELP linli_store_jobs_total Write jobs run.\n"
               "# TYPE linli_store_jobs_total counter\n"
               "linli_store_jobs_total %llu\n"
               "# HELP linli_store_checkpoints_total Background WAL checkpoints.\n"
               "# TYPE linli_store_checkpoints_total counter\n"
               "linli_store_checkpoints_total %llu\n",
               (unsigned long long)atomic_load(&s->commits),
               (unsigned long long)atomic_load(&s->commit_failures),
               (unsigned long long)atomic_load(&s->jobs_done),
               (unsigned long long)atomic_load(&s->checkpoints));
    buf_appends(out, "# HELP linli_store_batch_size Write jobs per transaction.\n"
                     "# TYPE linli_store_batch_size histogram\n");
    hist_render(out, "linli_store_batch_size", "", &s->batch_size);
    buf_appends(out, "# HELP linli_store_commit_seconds Time from BEGIN to durable COMMIT.\n"
                     "# TYPE linli_store_commit_seconds histogram\n");
    hist_render(out, "linli_store_commit_seconds", "", &s->commit_seconds);
}
