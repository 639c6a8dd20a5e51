/* status.h - the one set of status codes every Linli function returns,
 * and the error record that carries a human message and per-field problems
 * back to whoever must answer the user. */
#ifndef LINLI_STATUS_H
#define LINLI_STATUS_H

#include <stdarg.h>

enum linli_status {
    LINLI_OK = 0,
    LINLI_EINVAL = -1,     /* the input is wrong: 400/422 */
    LINLI_ENOTFOUND = -2,  /* no such thing, or not visible to the caller: 404 */
    LINLI_ECONFLICT = -3,  /* clashes with what exists or with its state: 409 */
    LINLI_EFORBIDDEN = -4, /* the caller may not do this: 403 */
    LINLI_EUNAUTH = -5,    /* no valid credentials: 401 */
    LINLI_EBUSY = -6,      /* saturated, try again: 503 */
    LINLI_ELIMIT = -7,     /* too many attempts: 429 */
    LINLI_ETOOBIG = -8,    /* over a size limit: 413 */
    LINLI_ENOMEM = -9,
    LINLI_EIO = -10,      /* the store failed: 500 */
    LINLI_ESHUTDOWN = -11 /* the server is stopping: 503 */
};

#define LINLI_ERR_FIELDS 16

struct linli_field_error {
    char field[64];
    char message[192];
};

/* Filled by a failing function for its caller. `status` repeats the return
 * code; `detail` is one sentence for a person; `fields` lists validation
 * problems by field name (JSON path or CSV column). */
struct linli_err {
    int status;
    int retry_after; /* seconds, for EBUSY and ELIMIT; 0 when not known */
    char detail[256];
    int nfields;
    struct linli_field_error fields[LINLI_ERR_FIELDS];
};

void linli_err_clear(struct linli_err *err);

/* Sets status and detail; returns status so callers can `return linli_fail(...)`. */
int linli_fail(struct linli_err *err, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Adds a field problem and sets status to EINVAL (keeps detail if set). Returns EINVAL. */
int linli_field(struct linli_err *err, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

const char *linli_status_name(int status);

#endif
