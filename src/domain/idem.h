/* idem.h - idempotency keys for creating requests. A client on a bad network
 * sends the same create again with the same Idempotency-Key; the second time
 * nothing is created and the first result is returned. Both calls run inside
 * the create's write job, so check and record are atomic with the create. */
#ifndef LINLI_IDEM_H
#define LINLI_IDEM_H

#include "store/store.h"

#include <stdint.h>

struct idem_req {
    const char *key;   /* the header's value, 1..255 visible ASCII characters */
    int64_t user_id;   /* keys are per user */
    const char *route; /* e.g. "POST /api/v1/users" */
    char hash[65];     /* hex SHA-256 of the request body */
};

/* Validates the key and hashes `body`. Returns 0 or EINVAL. */
int idem_prepare(struct idem_req *r, const char *key, int64_t user_id, const char *route,
                 const void *body, size_t len, struct linli_err *err);

/* 1 and *resource_id when the key was used before for the same request;
 * 0 when it is new; ECONFLICT when it was used for a different request. */
int idem_find(struct store_conn *c, const struct idem_req *r, int64_t *resource_id,
              struct linli_err *err);

int idem_record(struct store_conn *c, const struct idem_req *r, int64_t resource_id,
                struct linli_err *err);

/* Forgets keys older than `max_age_ms`. A write job. */
int idem_purge(struct store_conn *c, int64_t max_age_ms, struct linli_err *err);

#endif
