/* support.h - fixture helpers shared by the unit tests (tests/unit/support.c):
 * temporary directories, a store and a domain on a temporary database, a fast
 * auth, the bootstrap admin as a caller, SQL through the store and around it,
 * and the assertions the tests have in common. Helpers that "fail" stop the
 * running test with fail_msg(). */
#ifndef LINLI_TEST_SUPPORT_H
#define LINLI_TEST_SUPPORT_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/status.h"
#include "domain/auth.h"
#include "domain/domain.h"
#include "domain/principal.h"
#include "store/store.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <string.h>

/* Fails unless the string `hay` contains `needle`. */
#define assert_contains(hay, needle)                                                               \
    do {                                                                                           \
        if (!strstr((hay), (needle)))                                                              \
            fail_msg("\"%s\" does not contain \"%s\"", (hay), (needle));                           \
    } while (0)

/* Fails unless `call` returns LINLI_OK, saying what `err` (a struct linli_err *) holds. */
#define assert_ok(call, err)                                                                       \
    do {                                                                                           \
        int rc_ = (call);                                                                          \
        if (rc_ != LINLI_OK)                                                                       \
            fail_msg("%s: %d %s (%s: %s)", #call, rc_, (err)->detail,                              \
                     (err)->nfields ? (err)->fields[0].field : "",                                 \
                     (err)->nfields ? (err)->fields[0].message : "");                              \
    } while (0)

/* Fails unless `err` has a field error on `field` whose message contains `text`. */
#define assert_field_error(err, field, text)                                                       \
    do {                                                                                           \
        const struct linli_field_error *fe_ = field_error((err), (field));                         \
        if (!fe_)                                                                                  \
            fail_msg("no field error for \"%s\" (detail: %s)", (field), (err)->detail);            \
        assert_contains(fe_->message, (text));                                                     \
    } while (0)

/* The first field error of `err` on `field`, or NULL. */
const struct linli_field_error *field_error(const struct linli_err *err, const char *field);

/* Makes a new directory /tmp/linli-<name>-XXXXXX into `dir` and sets `path` to <dir>/<file>
 * (the file is not created); 0, or -1 when a buffer is too small or mkdtemp fails. */
int make_temp_dir(const char *name, char *dir, size_t dir_size, const char *file, char *path,
                  size_t path_size);

/* Removes the plain files directly in `dir`, then `dir` itself; a missing `dir` is no error. */
void remove_tree(const char *dir);

/* Sleeps for about `ms` milliseconds. */
void sleep_ms(int ms);

/* Sets `o` to the defaults but with argon2's smallest cost and a 20 s hash wait (quick, never
 * EBUSY unless a test asks for it). */
void fast_auth_options(struct auth_options *o);

/* Opens a store on `db` (2 readers, no background checkpoint) into d->store and, when `ao` is not
 * NULL, an auth with `ao` into d->auth; d->bus is left NULL. 0, or -1 (`err` says why for the
 * store). */
int open_domain(struct domain *d, const char *db, const struct auth_options *ao,
                struct linli_err *err);

/* Frees d->store, d->auth and d->bus (any may be NULL) and leaves them NULL. */
void close_domain(struct domain *d);

/* Creates the admin account with `password` unless there is one (`created` says which), and
 * fills `admin` as that user calling from 127.0.0.1 (all else zero); 0, or -1 with `err` set. */
int admin_principal(struct domain *d, const char *password, bool *created, struct principal *admin,
                    struct linli_err *err);

/* A store job running the SQL text `sql` (a const char *) with sqlite3_exec. */
int exec_job(struct store_conn *c, void *sql, struct linli_err *err);

/* Runs `sql` as a write job on `s`; fails the test on an error. */
void sql_exec(struct store *s, const char *sql);

/* The first column of the first row of `sql` read from `s`, with `param` bound to ?1 when not
 * NULL; 0 when there is no row; fails the test on an error. */
int64_t sql_int(struct store *s, const char *sql, const char *param);

/* As sql_int, as text copied into `out` ("" for no row or NULL). */
void sql_text(struct store *s, const char *sql, const char *param, char *out, size_t size);

/* Opens a raw SQLite connection to `path` with `flags`, outside any store; fails on an error. */
sqlite3 *raw_open(const char *path, int flags);

/* Runs `sql` on the raw connection `db`; fails on an error. */
void raw_exec(sqlite3 *db, const char *sql);

/* The first column of the first row of `sql` on `db`, or -1 when there is no row. */
int64_t raw_int(sqlite3 *db, const char *sql);

/* The first column of the first row of `sql` on `db` as text into `out` ("" for no row). */
void raw_text(sqlite3 *db, const char *sql, char *out, size_t size);

#endif
