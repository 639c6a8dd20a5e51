/* directory_internal.h - what the directory's own files share: the memory
 * copy's accessors (directory_index.c) and the stored row's columns
 * (directory.c). Internal to src/domain. */
#ifndef LINLI_DIRECTORY_INTERNAL_H
#define LINLI_DIRECTORY_INTERNAL_H

#include "domain/directory.h"
#include "geo/spindex.h"

#include "store/store.h"

#define DIRECTORY_ID_MAX 50000000 /* facility ids the memory copy can hold */

/* The columns of a facility as read, with its area's and street's names. */
#define DIRECTORY__COLUMNS                                                                         \
    "f.id, f.kind, f.operator_type, f.status, f.name, f.registration, f.address, f.lat, "          \
    "f.lon, f.area_code, f.phone, f.hours, f.closures, f.capacity, f.beds_total, f.beds_free, "    \
    "f.rating_tenths, f.consortium, f.services, f.created_at, f.updated_at, a.name, "              \
    "st.code, st.name"
#define DIRECTORY__FROM                                                                            \
    " FROM facilities f JOIN areas a ON a.code = f.area_code"                                      \
    " LEFT JOIN areas st ON st.code = (CASE WHEN a.level = 2 THEN a.parent_code ELSE a.code END) "

/* Fills `f` from a row of DIRECTORY__COLUMNS. -1 when its stored hours,
 * closures or services cannot be read back (a bug or a hand-edited row). */
int directory__read_row(sqlite3_stmt *st, struct facility *f);
/* Inside a read job: LINLI_OK when `code` is a known area, else a field
 * error on "area" (EINVAL). directory_coverage.c. */
int directory__area_known(struct store_conn *c, const char *code, struct linli_err *err);
/* Copies text column `i` into `dst` ("" for NULL), cut to `size`. */
void directory__copy_col(char *dst, size_t size, sqlite3_stmt *st, int i);
/* The index of service `code` in f->services, or -1. */
int facility__service(const struct facility *f, const char *code);

/* The memory copy, refreshed and read-locked; NULL with err on failure.
 * Release it with directory__unlock. Facilities found in it are trimmed
 * copies: read them only up to f->nservices services, and copy them out with
 * directory__copy_facility. */
struct directory *directory__lock_read(struct domain *d, struct linli_err *err);
void directory__unlock(struct directory *dir);
const struct facility *directory__find(const struct directory *dir, int64_t id);
const struct spindex *directory__spindex(const struct directory *dir);
size_t directory__copy_facility(struct facility *dst, const struct facility *src);
/* The catalogue (at most CATALOGUE_MAX entries) into `out`. */
int directory__catalogue(struct domain *d, struct service_def *out, int *n, struct linli_err *err);

/* Brings the memory copy up to date (directory_refresh) and copies the
 * points of the facilities that are open (status open) and offer `service`
 * (NULL = any) into *pts (malloc'd; NULL when *n is 0). */
int directory__service_points(struct domain *d, const char *service, struct geo_point **pts,
                              size_t *n, struct linli_err *err);

/* Calls `fn` under the memory copy's read lock with every facility that is
 * not closed and lies within `radius_m` of `p` (radius <= 0: every one),
 * after a refresh. `fn` returning nonzero stops the walk. */
typedef int (*directory_each_fn)(void *ctx, const struct facility *f, double dist_m);
int directory__each_near(struct domain *d, struct geo_point p, double radius_m,
                         directory_each_fn fn, void *ctx, struct linli_err *err);

/* ---- coverage reports kept until their inputs change (directory_coverage_cache.c) ---- */

/* Everything a coverage report depends on. Build it zeroed (memset) and fill
 * strings with snprintf: keys are compared byte for byte. */
struct coverage_key {
    char service[SERVICE_CODE_MAX + 1];
    double minutes;
    int level, age_min;
    char prefix[AREA_CODE_LEN + 1];     /* the people counted: codes starting so */
    char area[AREA_CODE_LEN + 1];       /* the area asked for, "" = none */
    char total_code[AREA_CODE_LEN + 1]; /* the code the report's total carries */
    char born[11];                      /* the latest birth date counted */
    int64_t revs[3];                    /* directory, people, areas */
};

/* The three revision numbers, read in one statement. */
int directory__coverage_revs(struct domain *d, int64_t revs[3], struct linli_err *err);
/* True with a copy of the kept report for `k` in *out (free it with
 * service_coverage_free); false when none is kept (or no memory to copy). */
bool directory__coverage_kept(struct domain *d, const struct coverage_key *k,
                              struct service_coverage *out);
/* Keeps a copy of `r` under `k`, the least recently used report making room.
 * Silently keeps nothing when out of memory. */
void directory__coverage_keep(struct domain *d, const struct coverage_key *k,
                              const struct service_coverage *r);
/* Frees the kept reports (directory_close). */
void directory__coverage_cache_free(struct domain *d);

/* Adds a field error naming where a query point lies when it is outside
 * China or more than DIRECTORY_SERVED_KM outside the district outline. */
void directory__check_point(struct domain *d, const char *field, struct geo_point p,
                            struct linli_err *err);

#endif
