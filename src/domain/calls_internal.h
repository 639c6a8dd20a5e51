/* calls_internal.h - what the files of the call centre share: reading a call
 * row, appending to its timeline, its JSON, the scope rule, and the
 * dispatch hooks that calls.c and calls_actions.c call after a commit. */
#ifndef LINLI_CALLS_INTERNAL_H
#define LINLI_CALLS_INTERNAL_H

#include "domain/calls.h"

/* Reads the call `id` on `c` into *out. ENOTFOUND when there is none. */
int calls__load(struct store_conn *c, int64_t id, struct call *out, struct linli_err *err);

/* Appends a timeline row inside the caller's write job. `user_id` 0 = the
 * system; `detail` is borrowed and may be NULL ("{}"). */
int calls__event(struct store_conn *c, int64_t call_id, int64_t at, int64_t user_id,
                 const char *kind, json_t *detail, struct linli_err *err);

/* The call as the API shows it (new reference). */
json_t *calls__json(const struct call *c);

/* True when `who` may see or act on calls of `community`: admins everywhere,
 * everyone else within their scope. */
bool calls__in_scope(const struct principal *who, const char *community);
/* Operators and admins work calls; staff in scope and auditors read them. */
bool calls__may_work(const struct principal *who);
bool calls__may_read(const struct principal *who);

/* Publishes "console.call" with the call as it is in the store now and, when
 * `kind` names what happened to its state ("answered", ...), the summary
 * "call.updated" for the general stream. NULL: console.call only. */
void calls__announce(struct domain *d, int64_t call_id, const char *kind);

/* Checks a free text (a note, an outcome): UTF-8, no control characters
 * but line breaks and tabs, at most `max` characters. Adds a field error. */
int calls__check_note(const char *field, const char *s, size_t max, struct linli_err *err);

/* Appends the actions of a call to the JSON array `into` (calls_actions.c). */
int calls__actions_json(struct store_conn *c, int64_t call_id, json_t *into, struct linli_err *err);

/* ---- screen pop (calls_pop.c) ---- */

/* Builds the screen pop of `call_id` for `who` with the contacts' phones
 * unmasked as far as who's role allows, WITHOUT recording the read: the
 * caller appends the audit entry (person.reveal) before disclosing it.
 * Sets *person_id to the caller whose profile it shows (0 = none). */
int calls__pop_build(struct domain *d, const struct principal *who, int64_t call_id, json_t **out,
                     int64_t *person_id, struct linli_err *err);

/* ---- dispatch (calls_dispatch.c) ---- */

/* The operator `operator_id` finished their call: available again (unless
 * away) and a new offer round runs. */
void calls__operator_free(struct domain *d, int64_t operator_id, int64_t now_ms);

/* The operator holding an offer of call `id` now, 0 = none. */
int64_t calls__offered_to(struct domain *d, int64_t id);

#endif
