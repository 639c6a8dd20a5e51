/* stations_internal.h - helpers stations.c shares with support_teams.c and
 * stations_import.c: who may write, text checks, column copies, area lookups
 * and reading and writing station rows. Internal to src/domain: nothing
 * outside these three files includes it. Defined in stations.c. */
#ifndef LINLI_STATIONS_INTERNAL_H
#define LINLI_STATIONS_INTERNAL_H

#include "base/status.h"
#include "domain/principal.h"
#include "domain/stations.h"
#include "store/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Admins, and district or street staff. */
bool stations__writer_role(const struct principal *who);
/* A writer whose scope holds `code` (admins: any area). */
bool stations__may_write_area(const struct principal *who, const char *code);

/* Adds a field error to `err` when `s` is missing though `required`, blank,
 * not UTF-8, holds control characters or is longer than `max` characters. */
void stations__check_text(const char *field, const char *s, size_t max, bool required,
                          struct linli_err *err);
/* Copies the field problems of `from` to `to`; returns EINVAL when there were any. */
int stations__merge_fields(struct linli_err *to, const struct linli_err *from);

/* Copies text column `i` into `dst` ("" for NULL), cut to `size`. */
void stations__copy_col(char *dst, size_t size, sqlite3_stmt *st, int i);
/* Binds `v`, or NULL when it is NULL or "". */
void stations__bind_text_or_null(sqlite3_stmt *st, int i, const char *v);

/* 0 when `code` is a current area of `level`; 1 with `why` when it is not;
 * a negative status when the store failed. Call inside a store job. */
int stations__area_fits(struct store_conn *c, const char *code, int level, char *why, size_t size,
                        struct linli_err *err);

/* Reads station `id` into `out`; *found says whether it exists. Call inside a store job. */
int stations__load_station(struct store_conn *c, int64_t id, struct station *out, bool *found,
                           struct linli_err *err);
/* 1 and *id when a station has the area, level and name of `s`; 0 when none;
 * a negative status when the store failed. */
int stations__find_by_key(struct store_conn *c, const struct station *s, int64_t *id,
                          struct linli_err *err);
/* Inserts checked station `s` and sets *id (inside a write job). */
int stations__insert_station(struct store_conn *c, const struct station *s, int64_t now,
                             int64_t *id, struct linli_err *err);
/* Writes checked station `s` over station `id` (inside a write job). */
int stations__update_station(struct store_conn *c, int64_t id, const struct station *s, int64_t now,
                             struct linli_err *err);

/* EFORBIDDEN: area `code` is outside the caller's scope. */
int stations__forbidden_area(struct linli_err *err, const char *code);
/* EFORBIDDEN: only admins and district or street staff may `what`. */
int stations__forbidden_role(struct linli_err *err, const char *what);

#endif
