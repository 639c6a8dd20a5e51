/* care_internal.h - what care.c (tasks), care_plans.c (plans),
 * care_tick.c (the scheduler's checks) and hotline_report.c share: the local calendar
 * (Asia/Shanghai), row-to-JSON helpers, inserting a task for a plan, and the
 * scope rules. Internal to src/domain: other modules call care.h. */
#ifndef LINLI_CARE_INTERNAL_H
#define LINLI_CARE_INTERNAL_H

#include "domain/care.h"

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#define CARE_DAY_MS          86400000LL
#define CARE_LOCAL_OFFSET_MS (8LL * 3600 * 1000) /* Asia/Shanghai: UTC+8, no summer time */

/* ---- the local calendar: days counted from 1970-01-01 ---- */

int64_t care__days_from_civil(int y, int m, int d);
void care__civil_from_days(int64_t day, int *y, int *m, int *d);
/* The local day `ms` falls on. */
int64_t care__local_day(int64_t ms);
/* The UTC milliseconds of local midnight starting `day`. */
int64_t care__day_start_ms(int64_t day);
/* 0 Monday .. 6 Sunday. */
int care__weekday(int64_t day);
/* Parses a valid YYYY-MM-DD into a day number; 0 or -1. */
int care__parse_date(const char *s, int64_t *day);
/* Writes a day as YYYY-MM-DD (out holds 11 bytes or more). */
void care__format_date(int64_t day, char *out, size_t size);
bool care__leap_year(int y);

/* ---- rows to JSON ---- */

void care__set_time(json_t *o, const char *key, sqlite3_stmt *st, int i); /* RFC 3339 or null */
void care__set_id(json_t *o, const char *key, sqlite3_stmt *st, int i);   /* integer or null */
void care__set_text(json_t *o, const char *key, sqlite3_stmt *st, int i); /* string or null */
void care__bind_text_or_null(sqlite3_stmt *st, int i, const char *v);
void care__bind_id_or_null(sqlite3_stmt *st, int i, int64_t v);

/* ---- tasks ---- */

/* As care__task_in_job, for a plan's task (plan_id > 0) too; *made says
 * whether a new task was inserted (false: the open one with the key). */
int care__task_insert(struct store_conn *c, const struct task_seed *s, int64_t plan_id, int64_t *id,
                      bool *made, struct linli_err *err);

/* ---- scope ---- */

/* The 12-digit codes within `code`: [lo, hi]. */
void care__area_range(const char *code, char lo[AREA_CODE_LEN + 1], char hi[AREA_CODE_LEN + 1]);
/* True when the caller sees the people (and their plans and tasks) of
 * `community_code`: admins everything, other reading roles their scope. */
bool care__visible(const struct principal *who, const char *community_code);
/* Admin, district, street and community staff. */
bool care__plan_writer(enum role r);

/* The silent limit in seconds (care_set_silent_limit). */
int64_t care__silent_limit(struct domain *d);

#endif
