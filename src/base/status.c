/* status.c - filling error records. */
#include "base/status.h"

#include <stdio.h>
#include <string.h>

void linli_err_clear(struct linli_err *err)
{
    if (!err)
        return;
    err->status = LINLI_OK;
    err->retry_after = 0;
    err->detail[0] = '\0';
    err->nfields = 0;
}

int linli_fail(struct linli_err *err, int status, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->detail, sizeof err->detail, fmt, ap);
        va_end(ap);
        err->status = status;
    }
    return status;
}

int linli_field(struct linli_err *err, const char *field, const char *fmt, ...)
{
    if (!err)
        return LINLI_EINVAL;
    err->status = LINLI_EINVAL;
    if (!err->detail[0])
        snprintf(err->detail, sizeof err->detail, "The request has invalid fields.");
    if (err->nfields < LINLI_ERR_FIELDS) {
        struct linli_field_error *f = &err->fields[err->nfields++];
        snprintf(f->field, sizeof f->field, "%s", field);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(f->message, sizeof f->message, fmt, ap);
        va_end(ap);
    }
    return LINLI_EINVAL;
}

const char *linli_status_name(int status)
{
    switch (status) {
    case LINLI_OK:
        return "ok";
    case LINLI_EINVAL:
        return "invalid";
    case LINLI_ENOTFOUND:
        return "not found";
    case LINLI_ECONFLICT:
        return "conflict";
    case LINLI_EFORBIDDEN:
        return "forbidden";
    case LINLI_EUNAUTH:
        return "unauthenticated";
    case LINLI_EBUSY:
        return "busy";
    case LINLI_ELIMIT:
        return "rate limited";
    case LINLI_ETOOBIG:
        return "too big";
    case LINLI_ENOMEM:
        return "out of memory";
    case LINLI_EIO:
        return "storage error";
    case LINLI_ESHUTDOWN:
        return "shutting down";
    default:
        return "unknown";
    }
}
