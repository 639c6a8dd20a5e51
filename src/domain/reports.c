/* reports.c - station coverage and oversized communities, computed from the
 * areas and stations tables on each call (read only). */
#include "domain/reports.h"

#include "domain/stations.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

double coverage_share(int64_t part, int64_t whole)
{
    return whole > 0 ? (double)part / (double)whole : -1.0;
}

static bool level_met(int64_t part, int64_t whole, double target)
{
    return whole == 0 || coverage_share(part, whole) >= target;
}

bool coverage_met(const struct coverage_totals *t, double target)
{
    return level_met(t->districts_with_centre, t->districts, target) &&
           level_met(t->streets_with_centre, t->streets, target) &&
           level_met(t->communities_served, t->communities, target);
}

static json_t *share_json(int64_t part, int64_t whole)
{
    double s = coverage_share(part, whole);
    return s < 0 ? json_null() : json_real(s);
}

/* What a report covers: the codes starting with prefix[0..len). */
struct report_scope {
    char prefix[AREA_CODE_LEN + 1]; /* 12 digits, or "" with len 0 (everything) */
    size_t len;
};

/* Narrows the caller's scope by ?street=. */
static int resolve_scope(const struct principal *who, const char *street, struct report_scope *s,
                         struct linli_err *err)
{
    memset(s, 0, sizeof *s);
    if (!stations_staff_role(who->role))
        return linli_fail(err, LINLI_EFORBIDDEN, "Only staff may read reports.");
    if (who->role != ROLE_ADMIN) {
        if (strlen(who->scope) != AREA_CODE_LEN)
            return linli_fail(err, LINLI_EFORBIDDEN, "Your account has no area scope.");
        snprintf(s->prefix, sizeof s->prefix, "%s", who->scope);
        s->len = (size_t[]){6, 9, 12}[area_code_level(who->scope)];
    }
    if (!street)
        return LINLI_OK;
    if (s->len <= 9) {
        if (s->len && strncmp(s->prefix, street, s->len) != 0)
            return linli_fail(err, LINLI_EFORBIDDEN, "Street %s is outside your scope.", street);
        snprintf(s->prefix, sizeof s->prefix, "%s", street);
        s->len = 9;
    } else if (strncmp(s->prefix, street, 9) != 0) {
        return linli_fail(err, LINLI_EFORBIDDEN, "Street %s is outside your scope.", street);
    }
    return LINLI_OK;
}

/* The codes within the first `len` characters of the scope's prefix. */
static void range_of(const struct report_scope *s, size_t len, char lo[AREA_CODE_LEN + 1],
                     char hi[AREA_CODE_LEN + 1])
{
    if (len > s->len)
        len = s->len;
    memcpy(lo, s->prefix, len);
    memcpy(hi, s->prefix, len);
    memset(lo + len, '0', AREA_CODE_LEN - len);
    memset(hi + len, '9', AREA_CODE_LEN - len);
    lo[AREA_CODE_LEN] = hi[AREA_CODE_LEN] = '\0';
}

static bool in_scope(const struct report_scope *s, const char *code, size_t len)
{
    if (len > s->len)
        len = s->len;
    return strncmp(s->prefix, code, len) == 0;
}

static const char SQL_REPORT_STREET[] = "SELECT level, retired_edition FROM areas WHERE code = ?";

static int street_exists(struct store_conn *c, const char *code, struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_REPORT_STREET, err);
    if (!st)
        return err->status;
    sqlite3_bind_text(st, 1, code, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_fail(c, rc, "reading an area", err);
    bool ok = rc == SQLITE_ROW && sqlite3_column_int(st, 0) == 1 &&
              sqlite3_column_type(st, 1) == SQLITE_NULL;
    sqlite3_reset(st);
    return ok ? LINLI_OK : linli_fail(err, LINLI_ENOTFOUND, "No current street %s.", code);
}

/* ---- station coverage ---- */

static const char SQL_COVERAGE_AREAS[] =
    "SELECT code, name, level, parent_code FROM areas"
    " WHERE retired_edition IS NULL AND code BETWEEN ?1 AND ?2 ORDER BY code";
static const char SQL_COVERAGE_STATIONS[] =
    "SELECT s.id, s.area_code FROM stations s JOIN areas a ON a.code = s.area_code"
    " WHERE a.retired_edition IS NULL AND a.level = s.level AND s.area_code BETWEEN ?1 AND ?2"
    " ORDER BY s.id";

struct cov_area {
    char code[AREA_CODE_LEN + 1];
    char parent[AREA_CODE_LEN + 1];
    char *name;
    int level;
    json_t *ids;                 /* the stations serving it */
    int64_t communities, served; /* streets: their communities in scope, and how many are served */
    json_t *detail;              /* streets: the communities, when asked for */
};

struct cov_args {
    const struct report_scope *scope;
    const struct coverage_query *q;
    struct cov_area *areas;
    size_t n, cap;
};

static int by_code(const void *key, const void *elem)
{
    return strcmp(key, ((const struct cov_area *)elem)->code);
}

static struct cov_area *find_area(struct cov_args *a, const char *code)
{
    return bsearch(code, a->areas, a->n, sizeof *a->areas, by_code);
}

static int cov_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct cov_args *a = arg;
    int rc;
    if (a->q->street && (rc = street_exists(c, a->q->street, err)))
        return rc;
    char lo[AREA_CODE_LEN + 1], hi[AREA_CODE_LEN + 1];
    range_of(a->scope, 6, lo, hi); /* the districts concerned; filtered below */
    sqlite3_stmt *st = store_stmt(c, SQL_COVERAGE_AREAS, err);
    if (!st)
        return err->status;
    sqlite3_bind_text(st, 1, lo, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, hi, -1, SQLITE_TRANSIENT);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (a->n == a->cap) {
            size_t cap = a->cap ? a->cap * 2 : 256;
            void *p = realloc(a->areas, cap * sizeof *a->areas);
            if (!p) {
                sqlite3_reset(st);
                return linli_fail(err, LINLI_ENOMEM, "out of memory");
            }
            a->areas = p;
            a->cap = cap;
        }
        struct cov_area *ar = &a->areas[a->n];
        memset(ar, 0, sizeof *ar);
        const unsigned char *code = sqlite3_column_text(st, 0);
        const unsigned char *name = sqlite3_column_text(st, 1);
        const unsigned char *parent = sqlite3_column_text(st, 3);
        snprintf(ar->code, sizeof ar->code, "%s", code ? (const char *)code : "");
        snprintf(ar->parent, sizeof ar->parent, "%s", parent ? (const char *)parent : "");
        ar->level = sqlite3_column_int(st, 2);
        ar->name = strdup(name ? (const char *)name : "");
        ar->ids = json_array();
        a->n++;
        if (!ar->name || !ar->ids) {
            sqlite3_reset(st);
            return linli_fail(err, LINLI_ENOMEM, "out of memory");
        }
    }
    if (rc != SQLITE_DONE)
        return store_fail(c, rc, "reading areas", err);
    st = store_stmt(c, SQL_COVERAGE_STATIONS, err);
    if (!st)
        return err->status;
    sqlite3_bind_text(st, 1, lo, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, hi, -1, SQLITE_TRANSIENT);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *code = sqlite3_column_text(st, 1);
        struct cov_area *ar = code ? find_area(a, (const char *)code) : NULL;
        if (ar)
            json_array_append_new(ar->ids, json_integer(sqlite3_column_int64(st, 0)));
    }
    return rc == SQLITE_DONE ? LINLI_OK : store_fail(c, rc, "reading stations", err);
}

static json_t *build_coverage(struct cov_args *a)
{
    const struct report_scope *s = a->scope;
    struct coverage_totals t = {0};
    bool detail = a->q->detail || a->q->street;
    json_t *districts = json_array(), *streets = json_array();
    for (size_t i = 0; i < a->n; i++) {
        struct cov_area *ar = &a->areas[i];
        if (ar->level != 2 || !in_scope(s, ar->code, AREA_CODE_LEN))
            continue;
        struct cov_area *street = find_area(a, ar->parent);
        if (!street || street->level != 1 || !in_scope(s, street->code, 9))
            continue; /* its street is not current: nothing to report it under */
        bool served = json_array_size(ar->ids) > 0;
        street->communities++;
        street->served += served;
        if (detail) {
            if (!street->detail)
                street->detail = json_array();
            json_array_append_new(street->detail,
                                  json_pack("{s:s, s:s, s:b, s:O}", "code", ar->code, "name",
                                            ar->name, "served", served, "station_ids", ar->ids));
        }
    }
    for (size_t i = 0; i < a->n; i++) {
        struct cov_area *ar = &a->areas[i];
        bool has = json_array_size(ar->ids) > 0;
        if (ar->level == 0 && s->len <= 6 && in_scope(s, ar->code, 6)) {
            t.districts++;
            t.districts_with_centre += has;
            json_array_append_new(districts,
                                  json_pack("{s:s, s:s, s:b, s:O}", "code", ar->code, "name",
                                            ar->name, "has_centre", has, "centre_ids", ar->ids));
        } else if (ar->level == 1 && in_scope(s, ar->code, 9)) {
            t.streets++;
            t.streets_with_centre += has;
            t.communities += ar->communities;
            t.communities_served += ar->served;
            json_t *row =
                json_pack("{s:s, s:s, s:b, s:O, s:I, s:I, s:o}", "code", ar->code, "name", ar->name,
                          "has_centre", has, "centre_ids", ar->ids, "communities_total",
                          (json_int_t)ar->communities, "communities_served", (json_int_t)ar->served,
                          "coverage", share_json(ar->served, ar->communities));
            if (detail)
                json_object_set_new(row, "communities",
                                    ar->detail ? json_incref(ar->detail) : json_array());
            json_array_append_new(streets, row);
        }
    }
    json_t *totals =
        json_pack("{s:I, s:I, s:I, s:I, s:o, s:I, s:I, s:o}", "districts", (json_int_t)t.districts,
                  "districts_with_centre", (json_int_t)t.districts_with_centre, "streets",
                  (json_int_t)t.streets, "streets_with_centre", (json_int_t)t.streets_with_centre,
                  "street_coverage", share_json(t.streets_with_centre, t.streets), "communities",
                  (json_int_t)t.communities, "communities_served", (json_int_t)t.communities_served,
                  "coverage", share_json(t.communities_served, t.communities));
    char scope12[AREA_CODE_LEN + 1];
    range_of(s, AREA_CODE_LEN, scope12, (char[AREA_CODE_LEN + 1]){0});
    return json_pack("{s:o, s:o, s:f, s:b, s:o, s:o, s:o}", "scope",
                     s->len ? json_string(scope12) : json_null(), "street",
                     a->q->street ? json_string(a->q->street) : json_null(), "target",
                     REPORT_COVERAGE_TARGET, "met", coverage_met(&t, REPORT_COVERAGE_TARGET),
                     "totals", totals, "districts", districts, "streets", streets);
}

int reports_station_coverage(struct domain *d, const struct principal *who,
                             const struct coverage_query *q, json_t **out, struct linli_err *err)
{
    struct report_scope s;
    int rc = resolve_scope(who, q->street, &s, err);
    if (rc)
        return rc;
    struct cov_args a = {&s, q, NULL, 0, 0};
    rc = store_read(d->store, cov_job, &a, err);
    if (rc == LINLI_OK) {
        *out = build_coverage(&a);
        if (!*out)
            rc = linli_fail(err, LINLI_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < a.n; i++) {
        free(a.areas[i].name);
        json_decref(a.areas[i].ids);
        json_decref(a.areas[i].detail);
    }
    free(a.areas);
    return rc;
}

/* ---- oversized communities ---- */

static const char SQL_OVERSIZED[] =
    "SELECT c.code, c.name, c.parent_code, p.name, c.households, c.residents, c.elderly"
    " FROM areas c LEFT JOIN areas p ON p.code = c.parent_code"
    " WHERE c.level = 2 AND c.retired_edition IS NULL AND c.code BETWEEN ?1 AND ?2"
    "   AND c.households > ?3"
    " ORDER BY c.households DESC, c.code";
static const char SQL_COMMUNITY_COUNTS[] =
    "SELECT count(*), coalesce(sum(CASE WHEN households IS NULL THEN 1 ELSE 0 END), 0)"
    " FROM areas WHERE level = 2 AND retired_edition IS NULL AND code BETWEEN ?1 AND ?2";

struct oversized_args {
    const struct report_scope *scope;
    const struct oversized_query *q;
    json_t *items;
    int64_t total, unknown;
};

static json_t *text_or_null(sqlite3_stmt *st, int i)
{
    const unsigned char *v = sqlite3_column_text(st, i);
    return v ? json_string((const char *)v) : json_null();
}

static json_t *int_or_null(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? json_null()
                                                     : json_integer(sqlite3_column_int64(st, i));
}

static int oversized_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct oversized_args *a = arg;
    int rc;
    if (a->q->street && (rc = street_exists(c, a->q->street, err)))
        return rc;
    char lo[AREA_CODE_LEN + 1], hi[AREA_CODE_LEN + 1];
    range_of(a->scope, AREA_CODE_LEN, lo, hi);
    sqlite3_stmt *st = store_stmt(c, SQL_OVERSIZED, err);
    if (!st)
        return err->status;
    sqlite3_bind_text(st, 1, lo, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, hi, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, a->q->households);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *street =
            json_pack("{s:o, s:o}", "code", text_or_null(st, 2), "name", text_or_null(st, 3));
        json_array_append_new(a->items,
                              json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "code",
                                        text_or_null(st, 0), "name", text_or_null(st, 1), "street",
                                        street, "households", int_or_null(st, 4), "residents",
                                        int_or_null(st, 5), "elderly", int_or_null(st, 6)));
    }
    if (rc != SQLITE_DONE)
        return store_fail(c, rc, "finding oversized communities", err);
    st = store_stmt(c, SQL_COMMUNITY_COUNTS, err);
    if (!st)
        return err->status;
    sqlite3_bind_text(st, 1, lo, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, hi, -1, SQLITE_TRANSIENT);
    if ((rc = sqlite3_step(st)) != SQLITE_ROW)
        return store_fail(c, rc, "counting communities", err);
    a->total = sqlite3_column_int64(st, 0);
    a->unknown = sqlite3_column_int64(st, 1);
    sqlite3_reset(st);
    return LINLI_OK;
}

int reports_oversized_communities(struct domain *d, const struct principal *who,
                                  const struct oversized_query *q, json_t **out,
                                  struct linli_err *err)
{
    if (q->households < 0 || q->households > REPORT_HOUSEHOLDS_MAX)
        return linli_field(err, "households", "must be a whole number from 0 to %d",
                           REPORT_HOUSEHOLDS_MAX);
    struct report_scope s;
    int rc = resolve_scope(who, q->street, &s, err);
    if (rc)
        return rc;
    struct oversized_args a = {&s, q, json_array(), 0, 0};
    rc = store_read(d->store, oversized_job, &a, err);
    if (rc) {
        json_decref(a.items);
        return rc;
    }
    char scope12[AREA_CODE_LEN + 1];
    range_of(&s, AREA_CODE_LEN, scope12, (char[AREA_CODE_LEN + 1]){0});
    *out = json_pack("{s:I, s:o, s:o, s:I, s:I, s:I, s:o}", "threshold", (json_int_t)q->households,
                     "scope", s.len ? json_string(scope12) : json_null(), "street",
                     q->street ? json_string(q->street) : json_null(), "communities_total",
                     (json_int_t)a.total, "unknown_households", (json_int_t)a.unknown, "count",
                     (json_int_t)json_array_size(a.items), "items", a.items);
    return *out ? LINLI_OK : linli_fail(err, LINLI_ENOMEM, "out of memory");
}
