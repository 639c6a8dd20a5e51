/* cases_internal.h - what the cases_*.c files share: who the caller acts
 * for, reading a case inside a job, writing its events, checking text, and
 * the bus payload. Internal to the case module: nothing else includes it. */
#ifndef LINLI_CASES_INTERNAL_H
#define LINLI_CASES_INTERNAL_H

#include "domain/cases.h"
#include "store/store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define CASE_MINUTE_MS     60000LL
#define CASE_DAY_MS        86400000LL
#define CASE_LOCAL_OFFSET  (8LL * 3600 * 1000) /* Asia/Shanghai: UTC+8, no summer time */
#define CASE_ACTOR_UNITS   32                  /* memberships of one account that count */
#define CASE_TICK_BATCH    200                 /* cases changed per write job of the tick */
#define CASE_LIMIT_MINUTES (90 * 24 * 60)      /* longest limit a category may set */

/* The caller and the units they are a member of, read once per call. */
struct case_actor {
    const struct principal *who; /* NULL = the public (no account) */
    int nmember;
    char member[CASE_ACTOR_UNITS][CASE_UNIT_CODE_MAX + 1];
};

/* Fills `a` for `who` (memberships from unit_members). Call inside a job. */
int cases__actor(struct store_conn *c, const struct principal *who, struct case_actor *a,
                 struct linli_err *err);
/* The rule of cases.h: true when the actor acts for `unit`. */
bool cases__acts_for(const struct case_actor *a, const char *unit);
/* The caller is the system principal (user 0): the scheduler, the command line,
 * the Open311 facade. */
bool cases__is_system(const struct principal *who);
/* Handlers: act for the lead unit or the unit the case was escalated to. The
 * unit acted for is copied to `unit` (may be NULL). */
bool cases__handles(const struct case_actor *a, const struct case_record *r,
                    char unit[CASE_UNIT_CODE_MAX + 1]);
/* Any linked unit the actor acts for, copied to `unit` (may be NULL). */
bool cases__linked(const struct case_actor *a, const struct case_record *r,
                   char unit[CASE_UNIT_CODE_MAX + 1]);
bool cases__is_reporter(const struct case_actor *a, const struct case_record *r);
/* The visibility rule of cases.h. */
bool cases__visible(const struct case_actor *a, const struct case_record *r);
/* Blanks what `a` may not see of `r` and sets r->view: contact details unless
 * reporter, handler, linked unit or admin; everything of the public view for
 * a NULL principal. */
void cases__redact(const struct case_actor *a, struct case_record *r);
/* Reduces `r` to the given view. */
void cases__reduce(struct case_record *r, int view);

/* Reads case `id` (with units and photos) into `out`; *found says whether it
 * exists. Call inside a job. */
int cases__load(struct store_conn *c, int64_t id, struct case_record *out, bool *found,
                struct linli_err *err);
/* The same by number. */
int cases__load_by_number(struct store_conn *c, const char *number, struct case_record *out,
                          bool *found, struct linli_err *err);
/* Loads a case and checks that `a` may see it: ENOTFOUND otherwise. */
int cases__load_visible(struct store_conn *c, const struct case_actor *a, int64_t id,
                        struct case_record *out, struct linli_err *err);

/* Appends an event (inside a write job); *event_id may be NULL. `detail` is
 * borrowed (NULL = {}). The actor is `who` (NULL or user 0 = the system). */
int cases__event(struct store_conn *c, int64_t case_id, int64_t at, const char *kind, int state,
                 const struct principal *who, const char *actor_unit, const char *note,
                 bool public_note, json_t *detail, int64_t *event_id, struct linli_err *err);
/* Links a unit to a case (inside a write job); an existing link of the same
 * kind is left as it is. */
int cases__link_unit(struct store_conn *c, int64_t case_id, const char *unit, int link, int64_t at,
                     int64_t due_at, struct linli_err *err);
/* Writes one photo of a case (inside a write job): 0, or 1 when the case
 * had it already, or a negative status. */
int cases__insert_photo(struct store_conn *c, int64_t case_id, const struct case_photo *p,
                        int64_t event_id, const struct principal *who, int64_t at,
                        struct linli_err *err);
/* 0 when `code` names a unit (a department, or a current area: normalised
 * into `out`); 1 with `why` when not; a negative status on a store failure. */
int cases__unit_exists(struct store_conn *c, const char *code, char out[CASE_UNIT_CODE_MAX + 1],
                       char *why, size_t size, struct linli_err *err);
/* The district's 12-digit code for a case: from its area, else the loaded
 * outline's code, else the first current district of the registry ("" when
 * none). Call inside a job. */
int cases__district(struct store_conn *c, struct domain *d, const char *area,
                    char out[AREA_CODE_LEN + 1], struct linli_err *err);

/* Admins and district staff (without department memberships) configure case
 * handling; EFORBIDDEN for anyone else. Call inside a job. */
int cases__may_configure(struct store_conn *c, const struct principal *who, struct linli_err *err);
/* EFORBIDDEN unless `who` has a staff role (admin, district, street,
 * community, operator, auditor) or is the system. */
int cases__staff_only(const struct principal *who, struct linli_err *err);
/* Reads case_settings (defaults when the row is missing). Call inside a job. */
int cases__settings(struct store_conn *c, struct case_settings *out, struct linli_err *err);

/* Field checks that add a field error to `err`: free text of at most `max`
 * characters (UTF-8; control characters refused, but for line breaks and tabs
 * when `multiline`), required or not. */
void cases__check_text(const char *field, const char *s, size_t max, bool required, bool multiline,
                       struct linli_err *err);
/* Checks a case's attributes against a category's definitions (a JSON array
 * text); field errors named "attributes.<code>". */
void cases__check_attributes(json_t *attributes, const char *definitions, struct linli_err *err);
/* Checks attribute definitions (for a category); field errors "attributes[i]...". */
void cases__check_definitions(json_t *defs, struct linli_err *err);
/* Checks a photo reference given by a caller; field errors under `field`. */
void cases__check_photo(const char *field, const struct case_photo *p, struct linli_err *err);

/* Staff roles with an area scope: district, street, community, operator. */
bool cases__staff_role(enum role r);
/* The codes within `code` as a range [lo, hi] of 12-digit codes. */
void cases__area_range(const char *code, char lo[AREA_CODE_LEN + 1], char hi[AREA_CODE_LEN + 1]);
/* Staff whose scope holds the case's area or one of its units' areas. */
bool cases__in_scope(const struct principal *who, const struct case_record *r);
/* ENOTFOUND "No case <id>." */
int cases__not_found(struct linli_err *err, int64_t id);
/* Integer column `i`, 0 for NULL. */
int64_t cases__col_i64(sqlite3_stmt *st, int i);
/* Copies text column `i` ("" for NULL) into dst. */
void cases__col(char *dst, size_t size, sqlite3_stmt *st, int i);
/* Binds `v`, or NULL when it is NULL or "". */
void cases__bind_text(sqlite3_stmt *st, int i, const char *v);

/* The bus payload of a case: id, number, state, category, area_code,
 * unit_code, escalated_to and `kind`. New reference. */
json_t *cases__summary(const struct case_record *r, const char *kind);
/* Publishes every {topic, payload} pair of `batch` (an array of 2-element
 * arrays) and frees it. */
void cases__publish_all(struct domain *d, json_t *batch);

/* "case:<id>" */
void cases__object(int64_t id, char out[32]);

#endif
