/* store.h - the SQLite store: one writer thread with group commit, a pool of
 * read connections, numbered migrations, background checkpoints, backups.
 *
 * Writes: a caller hands store_write() a function that does its SQL on the
 * writer connection. The writer thread takes every queued job (up to
 * batch_max), runs them in one BEGIN IMMEDIATE ... COMMIT, each inside its own
 * savepoint so one failing job leaves the others' work intact, and wakes the
 * callers once the commit is on disk (synchronous=FULL). store_write returns
 * only then: a success means durable.
 *
 * Reads: store_read() lends the function a read-only connection of the pool
 * for the length of the call. WAL lets readers run beside the writer.
 *
 * SQL stays within what PostgreSQL also accepts (standard types, RETURNING,
 * ON CONFLICT), so another driver can implement the same contract later. */
#ifndef LINLI_STORE_H
#define LINLI_STORE_H

#include "base/buf.h"
#include "base/status.h"

#include <sqlite3.h>
#include <stdint.h>

struct store;
struct store_conn;

struct store_options {
    const char *path;
    int readers;         /* read connections in the pool, >= 1 */
    int batch_max;       /* most write jobs per transaction; 1 = one per job */
    int busy_timeout_ms; /* how long a connection waits on a lock */
    int checkpoint_ms;   /* how often the background checkpoint runs; 0 = never */
    int create;          /* create the file if missing (else a missing file is an error) */
};

void store_options_default(struct store_options *o);

/* Runs on a connection lent by the store. Returns 0 or a negative status with
 * err filled. Must not keep the connection or its statements. */
typedef int (*store_fn)(struct store_conn *c, void *arg, struct linli_err *err);

/* Opens (creating when allowed) the database, applies pending migrations and
 * starts the writer and checkpoint threads. Refuses a database whose schema
 * is newer than this program, or that is not a Linli database. */
int store_open(const struct store_options *o, struct store **out, struct linli_err *err);

/* Finishes every queued write, stops the threads, checkpoints the WAL into the
 * database file and closes every connection. Safe on NULL. */
void store_close(struct store *s);

/* Queues `fn` for the writer and waits until its transaction committed (0),
 * the job failed (its status), or the commit failed (EIO). After store_close
 * has begun, returns ESHUTDOWN without running fn. */
int store_write(struct store *s, store_fn fn, void *arg, struct linli_err *err);

/* Runs `fn` on a read connection from the pool (waits for one if all are busy). */
int store_read(struct store *s, store_fn fn, void *arg, struct linli_err *err);

/* A prepared statement for `sql`, cached on the connection and reset, with its
 * bindings cleared. The cache is keyed by the string's address: pass string
 * literals. Returns NULL with err filled on a SQL error (a bug). */
sqlite3_stmt *store_stmt(struct store_conn *c, const char *sql, struct linli_err *err);

/* The raw handle, for what the helpers above do not cover. */
sqlite3 *store_db(struct store_conn *c);

/* Maps a SQLite result code to a Linli status and fills err with a message
 * naming `what` was being done. */
int store_fail(struct store_conn *c, int rc, const char *what, struct linli_err *err);

/* 1 while the writer accepts jobs. */
int store_ready(struct store *s);

int store_schema_version(struct store *s);
int store_latest_schema_version(void);

/* Copies the database at src_path to dst_path while others may be writing to
 * it (SQLite online backup), through a temporary file renamed into place, and
 * checks the copy's integrity. */
int store_backup(const char *src_path, const char *dst_path, struct linli_err *err);

/* Appends the store's Prometheus series (queue depth, batch sizes, commit latency). */
void store_metrics_render(struct store *s, struct buf *out);

#endif
