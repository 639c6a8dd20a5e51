/* audit.h - the append-only audit log: every write, and every read of
 * sensitive personal data, with who, when, what and from where. The table
 * refuses UPDATE and DELETE (triggers). */
#ifndef LINLI_AUDIT_H
#define LINLI_AUDIT_H

#include "domain/domain.h"
#include "domain/principal.h"

#include <jansson.h>

/* Appends one entry inside the caller's write job, so the entry commits with
 * the change it describes or not at all. `detail` is borrowed (may be NULL). */
int audit_append(struct store_conn *c, const struct principal *who, const char *action,
                 const char *object, json_t *detail, struct linli_err *err);

/* Records a read of sensitive data as its own durable write. Returns 0 only
 * once the entry is on disk: callers disclose the data after that. */
int audit_record_read(struct domain *d, const struct principal *who, const char *action,
                      const char *object, json_t *detail, struct linli_err *err);

struct audit_filter {
    int64_t user_id;            /* 0 = any */
    const char *action;         /* exact, or a prefix ending in '.', NULL = any */
    int64_t since_ms, until_ms; /* 0 = open */
    int64_t before_id;          /* cursor: entries older than this id; 0 = newest */
    int limit;
};

/* Newest first. Only admin and auditor. Fills *out with a JSON array of
 * entries and *next_before with the cursor for the next page (0 = none). */
int audit_list(struct domain *d, const struct principal *who, const struct audit_filter *f,
               json_t **out, int64_t *next_before, struct linli_err *err);

#endif
