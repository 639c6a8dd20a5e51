/* directory_coverage.c - coverage planning: who among the elderly can walk to
 * a service within a time (counted per street or community), who cannot (a
 * paged list), and where new sites would bring the most of them within reach
 * (greedy maximal covering).
 *
 * People are read with one scan of the people table per call (a district's
 * million rows take a fraction of a second); the facilities come from the
 * directory's memory copy (directory__service_points) into a spatial index
 * made for the call. A report per area is kept until what it counts changes
 * (directory_coverage_cache.c); the list and the plans are computed on each
 * call. */
#include "domain/directory_internal.h"

#include "domain/people.h"
#include "domain/stations.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COVERAGE_AGE_MAX     120 /* highest age_min accepted */
#define PLAN_AGE_DEFAULT     60  /* age_min of a plan given 0 (directory.h) */
#define PLAN_COUNT_MAX       100 /* sites one plan places */
#define PLAN_GRID_DEFAULT_M  500 /* grid spacing given 0 */
#define PLAN_GRID_MIN_M      100
#define PLAN_GRID_MAX_M      5000
#define PLAN_GIVEN_MAX       2000   /* candidates a caller may list */
#define PLAN_GRID_POINTS_MAX 200000 /* grid points tried before the uncovered filter */
/* Candidate-resident pairs a plan holds (4 bytes each: 64 MiB). A finer grid
 * over a crowded area needs more; the caller is told to use a coarser one. */
#define PLAN_PAIRS_MAX (16 * 1024 * 1024)
/* Spatial index cells: about the reach radius, so a query touches 3x3 cells. */
#define CELL_MIN_M            100.0
#define CELL_MAX_M            5000.0
#define METRES_PER_DEGREE_LAT 111194.9 /* mean Earth radius x pi / 180, as geo_distance_m */
#define GRID_COS_LAT_MIN      0.01     /* keeps grid columns finite near the poles */

/* ---- checks shared by the three calls ---- */

/* The people a call counts: community codes starting with prefix[0..len)
 * ("" = all). */
struct cov_scope {
    char prefix[AREA_CODE_LEN + 1];
    char area[AREA_CODE_LEN + 1]; /* the normalised `area`, "" = none */
};

static size_t level_len(const char *code12)
{
    return (size_t[]){6, 9, 12}[area_code_level(code12)];
}

/* Field errors for what every call takes. `area` is normalised into s->area. */
static void check_common(struct domain *d, const char *service, double minutes, int age_min,
                         const char *area, struct cov_scope *s, struct linli_err *err)
{
    memset(s, 0, sizeof *s);
    if (!service || !*service)
        linli_field(err, "service", "is required");
    else if (!services_known(d, service))
        linli_field(err, "service", "is not in the catalogue of services");
    if (!(minutes > 0 && minutes <= DIRECTORY_MINUTES_MAX))
        linli_field(err, "minutes", "must be more than 0 and at most %d", DIRECTORY_MINUTES_MAX);
    if (age_min < 0 || age_min > COVERAGE_AGE_MAX)
        linli_field(err, "age_min", "must be a whole number of years from 0 to %d",
                    COVERAGE_AGE_MAX);
    const char *why;
    if (area && area_code_normalize(area, s->area, &why) != 0) {
        s->area[0] = '\0';
        linli_field(err, "area", "%s", why);
    }
}

/* Narrows the caller's scope by s->area (checked by check_common): an area
 * outside the scope, or a staff account without one, is EFORBIDDEN. */
static int resolve_scope(const struct principal *who, struct cov_scope *s, struct linli_err *err)
{
    size_t len = 0;
    if (who->role != ROLE_ADMIN) {
        if (strlen(who->scope) != AREA_CODE_LEN)
            return linli_fail(err, LINLI_EFORBIDDEN, "Your account has no area scope.");
        len = level_len(who->scope);
        memcpy(s->prefix, who->scope, len);
    }
    if (s->area[0]) {
        size_t alen = level_len(s->area);
        if (alen < len || strncmp(s->prefix, s->area, len) != 0)
            return linli_fail(err, LINLI_EFORBIDDEN, "Area %s is outside your scope.", s->area);
        memcpy(s->prefix, s->area, alen);
        len = alen;
    }
    s->prefix[len] = '\0';
    return LINLI_OK;
}

/* ---- who the facilities reach ---- */

/* The open facilities offering a service, indexed for "is one within reach". */
struct reach {
    struct walk_model m;
    double minutes, radius_m;
    struct geo_point *pts; /* malloc'd; the index's ids are positions here */
    size_t n;
    struct spindex *ix; /* NULL when n is 0 */
};

static double cell_for(double radius_m)
{
    return radius_m < CELL_MIN_M ? CELL_MIN_M : radius_m > CELL_MAX_M ? CELL_MAX_M : radius_m;
}

static void reach_close(struct reach *r)
{
    spindex_free(r->ix);
    free(r->pts);
    memset(r, 0, sizeof *r);
}

static int reach_open(struct domain *d, const char *service, double minutes, struct reach *r,
                      struct linli_err *err)
{
    memset(r, 0, sizeof *r);
    directory_walk_model(d, &r->m);
    r->minutes = minutes;
    r->radius_m = r->m.reach_m(&r->m, minutes);
    int rc = directory__service_points(d, service, &r->pts, &r->n, err);
    if (rc)
        return rc;
    if (r->n == 0)
        return LINLI_OK;
    r->ix = spindex_new(cell_for(r->radius_m));
    if (!r->ix)
        goto oom;
    for (size_t i = 0; i < r->n; i++)
        if (spindex_put(r->ix, (int64_t)i, r->pts[i]) != 0)
            goto oom;
    return LINLI_OK;
oom:
    reach_close(r);
    return linli_fail(err, LINLI_ENOMEM, "out of memory");
}

struct reach_probe {
    const struct reach *r;
    struct geo_point from;
};

/* The index finds the points within the radius; the walk model decides. */
static int within_minutes(void *ctx, int64_t id)
{
    const struct reach_probe *p = ctx;
    const struct reach *r = p->r;
    return r->m.minutes(&r->m, p->from, r->pts[id]) <= r->minutes;
}

static bool reachable(const struct reach *r, struct geo_point home)
{
    struct reach_probe p = {r, home};
    return r->ix && spindex_any_within(r->ix, home, r->radius_m, within_minutes, &p);
}

/* ---- reading the elderly ---- */

/* One scan of the table: no index on birth_date or community_code is used
 * (substr() keeps the planner off them). When most rows are elderly, as in
 * this register, a scan reads a million rows about ten times faster than
 * walking the birth-date index and looking each row up. */
static const char SQL_ELDERLY[] =
    "SELECT id, lat, lon, community_code FROM people"
    " WHERE substr(birth_date, 1, 10) <= ?1 AND substr(community_code, 1, length(?2)) = ?2";
/* The uncovered list pages by id; rows without a home cannot be judged. */
static const char SQL_ELDERLY_PAGE[] =
    "SELECT id, lat, lon, community_code, name, birth_date FROM people"
    " WHERE id > ?1 AND substr(birth_date, 1, 10) <= ?2"
    " AND substr(community_code, 1, length(?3)) = ?3"
    " AND lat IS NOT NULL AND lon IS NOT NULL ORDER BY id";
static const char SQL_AREA_KNOWN[] = "SELECT count(*) FROM areas WHERE code = ?1";
static const char SQL_LEVEL_AREAS[] =
    "SELECT code, name, retired_edition IS NULL FROM areas"
    " WHERE level = ?1 AND substr(code, 1, length(?2)) = ?2 ORDER BY code";
static const char SQL_COMMUNITY_POINTS[] =
    "SELECT code, name, lat, lon FROM areas"
    " WHERE level = 2 AND retired_edition IS NULL AND lat IS NOT NULL AND lon IS NOT NULL"
    " AND substr(code, 1, length(?1)) = ?1 ORDER BY code";

struct elder {
    int64_t id;
    bool located;
    struct geo_point home;
    const char *community; /* valid during the callback only */
};

typedef int (*elder_fn)(void *ctx, const struct elder *e, struct linli_err *err);

/* EINVAL on "area" when s->area names no area at all. */
int directory__area_known(struct store_conn *c, const char *code, struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_AREA_KNOWN, err);
    if (!st)
        return err->status;
    sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW)
        return store_fail(c, rc, "reading an area", err);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return n ? LINLI_OK : linli_field(err, "area", "is not a known area");
}

static int area_known(struct store_conn *c, const struct cov_scope *s, struct linli_err *err)
{
    return s->area[0] ? directory__area_known(c, s->area, err) : LINLI_OK;
}

static void elder_from_row(sqlite3_stmt *st, struct elder *e)
{
    e->id = sqlite3_column_int64(st, 0);
    e->located =
        sqlite3_column_type(st, 1) != SQLITE_NULL && sqlite3_column_type(st, 2) != SQLITE_NULL;
    e->home.lat = sqlite3_column_double(st, 1);
    e->home.lon = sqlite3_column_double(st, 2);
    const unsigned char *code = sqlite3_column_text(st, 3);
    e->community = code ? (const char *)code : "";
}

/* Calls `fn` with every person born on or before `born` in s's prefix. */
static int scan_elderly(struct store_conn *c, const struct cov_scope *s, const char *born,
                        elder_fn fn, void *ctx, struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_ELDERLY, err);
    if (!st)
        return err->status;
    sqlite3_bind_text(st, 1, born, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, s->prefix, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct elder e;
        elder_from_row(st, &e);
        int frc = fn(ctx, &e, err);
        if (frc) {
            sqlite3_reset(st);
            return frc;
        }
    }
    if (rc != SQLITE_DONE)
        return store_fail(c, rc, "reading people", err);
    sqlite3_reset(st);
    return LINLI_OK;
}

/* The birth date on or before which a person is at least `age_min` today. */
static void born_bound(int age_min, char out[11])
{
    char unused[11];
    people_birth_bounds(age_min, -1, people_today(), out, unused);
}

/* ---- coverage per area ---- */

/* 12-digit codes as numbers, for quick lookups. -1 when not 12 digits. */
static int64_t code_key(const char *code)
{
    int64_t k = 0;
    int i = 0;
    for (; i < AREA_CODE_LEN && code[i] >= '0' && code[i] <= '9'; i++)
        k = k * 10 + (code[i] - '0');
    return i == AREA_CODE_LEN && code[i] == '\0' ? k : -1;
}

/* The 12-digit text of a key made by code_key. */
static void code_text(int64_t key, char out[AREA_CODE_LEN + 1])
{
    for (int i = AREA_CODE_LEN - 1; i >= 0; i--, key /= 10)
        out[i] = (char)('0' + key % 10);
    out[AREA_CODE_LEN] = '\0';
}

struct cov_row {
    int64_t key;
    bool current; /* a current area: listed even when nobody lives there */
    struct service_coverage_area a;
};

struct cov_args {
    const struct cov_scope *scope;
    const struct reach *reach;
    int level;
    char born[11];
    struct cov_row *rows; /* sorted by key */
    size_t n, cap;
    size_t last; /* the row of the previous person: neighbours often share one */
};

static struct cov_row *row_insert(struct cov_args *a, int64_t key, const char *code,
                                  const char *name, bool current, struct linli_err *err)
{
    size_t lo = 0, hi = a->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (a->rows[mid].key < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 64;
        void *p = realloc(a->rows, cap * sizeof *a->rows);
        if (!p) {
            linli_fail(err, LINLI_ENOMEM, "out of memory");
            return NULL;
        }
        a->rows = p;
        a->cap = cap;
    }
    memmove(&a->rows[lo + 1], &a->rows[lo], (a->n - lo) * sizeof *a->rows);
    a->n++;
    struct cov_row *r = &a->rows[lo];
    memset(r, 0, sizeof *r);
    r->key = key;
    r->current = current;
    snprintf(r->a.code, sizeof r->a.code, "%s", code);
    snprintf(r->a.name, sizeof r->a.name, "%s", name);
    a->last = lo;
    return r;
}

static struct cov_row *row_find(struct cov_args *a, int64_t key)
{
    if (a->last < a->n && a->rows[a->last].key == key)
        return &a->rows[a->last];
    size_t lo = 0, hi = a->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (a->rows[mid].key < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < a->n && a->rows[lo].key == key) {
        a->last = lo;
        return &a->rows[lo];
    }
    return NULL;
}

static int count_elder(void *ctx, const struct elder *e, struct linli_err *err)
{
    struct cov_args *a = ctx;
    int64_t key = code_key(e->community);
    if (key < 0)
        return linli_fail(err, LINLI_EIO, "Person %lld has a malformed community code.",
                          (long long)e->id);
    if (a->level == 1)
        key = key / 1000 * 1000; /* the street: the first 9 digits and 000 */
    struct cov_row *r = row_find(a, key);
    if (!r) {
        char code[AREA_CODE_LEN + 1];
        code_text(key, code);
        if (!(r = row_insert(a, key, code, "", false, err)))
            return err->status;
    }
    r->a.elderly++;
    if (e->located) {
        r->a.located++;
        r->a.covered += reachable(a->reach, e->home);
    }
    return LINLI_OK;
}

static int coverage_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct cov_args *a = arg;
    int rc = area_known(c, a->scope, err);
    if (rc)
        return rc;
    sqlite3_stmt *st = store_stmt(c, SQL_LEVEL_AREAS, err);
    if (!st)
        return err->status;
    /* The areas of the level that the prefix can hold (a community's street too). */
    char prefix[AREA_CODE_LEN + 1];
    snprintf(prefix, sizeof prefix, "%.*s", a->level == 1 ? 9 : AREA_CODE_LEN, a->scope->prefix);
    sqlite3_bind_int(st, 1, a->level);
    sqlite3_bind_text(st, 2, prefix, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *code = (const char *)sqlite3_column_text(st, 0);
        const char *name = (const char *)sqlite3_column_text(st, 1);
        int64_t key = code ? code_key(code) : -1;
        if (key < 0 || row_find(a, key))
            continue;
        if (!row_insert(a, key, code, name ? name : "", sqlite3_column_int(st, 2) != 0, err)) {
            sqlite3_reset(st);
            return err->status;
        }
    }
    if (rc != SQLITE_DONE)
        return store_fail(c, rc, "reading areas", err);
    sqlite3_reset(st);
    return scan_elderly(c, a->scope, a->born, count_elder, a, err);
}

int directory_coverage(struct domain *d, const struct principal *who, const char *service,
                       double minutes, int level, int age_min, const char *area,
                       struct service_coverage *out, struct linli_err *err)
{
    memset(out, 0, sizeof *out);
    if (!stations_staff_role(who->role))
        return linli_fail(err, LINLI_EFORBIDDEN, "Only staff may read coverage reports.");
    int rc = directory_refresh(d, err);
    if (rc)
        return rc;
    struct cov_scope s;
    check_common(d, service, minutes, age_min, area, &s, err);
    if (level != 1 && level != 2)
        linli_field(err, "level", "must be street or community");
    if (err->nfields)
        return LINLI_EINVAL;
    if ((rc = resolve_scope(who, &s, err)))
        return rc;
    /* A report kept from an earlier call, while nothing it counts changed. */
    struct coverage_key key;
    memset(&key, 0, sizeof key);
    snprintf(key.service, sizeof key.service, "%s", service);
    key.minutes = minutes;
    key.level = level;
    key.age_min = age_min;
    snprintf(key.prefix, sizeof key.prefix, "%s", s.prefix);
    snprintf(key.area, sizeof key.area, "%s", s.area);
    snprintf(key.total_code, sizeof key.total_code, "%s",
             s.area[0]                 ? s.area
             : who->role == ROLE_ADMIN ? ""
                                       : who->scope);
    born_bound(age_min, key.born);
    if ((rc = directory__coverage_revs(d, key.revs, err)))
        return rc;
    if (directory__coverage_kept(d, &key, out))
        return LINLI_OK;

    struct reach r;
    if ((rc = reach_open(d, service, minutes, &r, err)))
        return rc;
    struct cov_args a = {.scope = &s, .reach = &r, .level = level};
    memcpy(a.born, key.born, sizeof a.born);
    rc = store_read(d->store, coverage_job, &a, err);
    if (rc == LINLI_OK) {
        snprintf(out->service, sizeof out->service, "%s", service);
        out->minutes = minutes;
        out->level = level;
        out->age_min = age_min;
        out->facilities = (int64_t)r.n;
        snprintf(out->total.code, sizeof out->total.code, "%s", key.total_code);
        out->areas = malloc((a.n ? a.n : 1) * sizeof *out->areas);
        if (!out->areas)
            rc = linli_fail(err, LINLI_ENOMEM, "out of memory");
        for (size_t i = 0; i < a.n && !rc; i++) {
            const struct service_coverage_area *ar = &a.rows[i].a;
            out->total.elderly += ar->elderly;
            out->total.located += ar->located;
            out->total.covered += ar->covered;
            if (a.rows[i].current || ar->elderly > 0)
                out->areas[out->nareas++] = *ar;
        }
    }
    free(a.rows);
    reach_close(&r);
    if (rc)
        service_coverage_free(out);
    else
        directory__coverage_keep(d, &key, out);
    return rc;
}

void service_coverage_free(struct service_coverage *r)
{
    if (!r)
        return;
    free(r->areas);
    r->areas = NULL;
    r->nareas = 0;
}

/* ---- who is out of reach ---- */

struct uncovered_args {
    const struct cov_scope *scope;
    const struct reach *reach;
    char born[11];
    int today;
    int64_t after_id;
    int limit;
    struct uncovered_person *items;
    int n;
    int64_t next;
};

static int uncovered_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct uncovered_args *a = arg;
    int rc = area_known(c, a->scope, err);
    if (rc)
        return rc;
    sqlite3_stmt *st = store_stmt(c, SQL_ELDERLY_PAGE, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, a->after_id);
    sqlite3_bind_text(st, 2, a->born, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, a->scope->prefix, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct elder e;
        elder_from_row(st, &e);
        if (reachable(a->reach, e.home))
            continue;
        if (a->n == a->limit) {
            a->next = a->items[a->n - 1].id;
            break;
        }
        struct uncovered_person *p = &a->items[a->n++];
        memset(p, 0, sizeof *p);
        p->id = e.id;
        p->home = e.home;
        snprintf(p->community_code, sizeof p->community_code, "%s", e.community);
        const unsigned char *name = sqlite3_column_text(st, 4);
        snprintf(p->name, sizeof p->name, "%s", name ? (const char *)name : "");
        const unsigned char *birth = sqlite3_column_text(st, 5);
        p->age = people_age(birth ? (const char *)birth : "", a->today);
        struct spindex_hit hit;
        size_t nhit = 0;
        p->nearest_m = -1;
        if (a->reach->ix) {
            if (spindex_nearest(a->reach->ix, e.home, 1, 0, NULL, NULL, &hit, &nhit) != 0) {
                sqlite3_reset(st);
                return linli_fail(err, LINLI_ENOMEM, "out of memory");
            }
            if (nhit)
                p->nearest_m = hit.dist_m;
        }
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_fail(c, rc, "reading people", err);
    sqlite3_reset(st);
    return LINLI_OK;
}

int directory_uncovered(struct domain *d, const struct principal *who, const char *service,
                        double minutes, int age_min, const char *area, int64_t after_id, int limit,
                        struct uncovered_person **items, int *n, int64_t *next,
                        struct linli_err *err)
{
    *items = NULL;
    *n = 0;
    *next = 0;
    if (!people_may_read(who->role))
        return linli_fail(err, LINLI_EFORBIDDEN, "Your role has no access to residents' profiles.");
    int rc = directory_refresh(d, err);
    if (rc)
        return rc;
    struct cov_scope s;
    check_common(d, service, minutes, age_min, area, &s, err);
    if (limit < 1 || limit > PEOPLE_PAGE_MAX)
        linli_field(err, "limit", "must be between 1 and %d", PEOPLE_PAGE_MAX);
    if (after_id < 0)
        linli_field(err, "cursor", "is not a cursor this server gave out");
    if (err->nfields)
        return LINLI_EINVAL;
    if ((rc = resolve_scope(who, &s, err)))
        return rc;
    struct reach r;
    if ((rc = reach_open(d, service, minutes, &r, err)))
        return rc;
    struct uncovered_args a = {
        .scope = &s, .reach = &r, .today = people_today(), .after_id = after_id, .limit = limit};
    born_bound(age_min, a.born);
    a.items = malloc((size_t)limit * sizeof *a.items);
    if (!a.items)
        rc = linli_fail(err, LINLI_ENOMEM, "out of memory");
    else
        rc = store_read(d->store, uncovered_job, &a, err);
    reach_close(&r);
    if (rc) {
        free(a.items);
        return rc;
    }
    *items = a.items;
    *n = a.n;
    *next = a.next;
    return LINLI_OK;
}

/* ---- planning new sites ---- */

struct plan_args {
    const struct cov_scope *scope;
    const struct reach *reach;
    char born[11];
    bool want_communities;
    int64_t located, covered;
    struct geo_point lo, hi; /* the box of the located elderly */
    /* The located elderly out of reach: homes and communities. */
    struct geo_point *homes;
    char (*communities)[AREA_CODE_LEN + 1];
    size_t nu, cap_homes, cap_communities;
    /* Community centres, when they are the candidates. */
    struct site_candidate *cands;
    size_t nc, capc;
};

static int grow(void **p, size_t *cap, size_t need, size_t size, struct linli_err *err)
{
    if (need <= *cap)
        return LINLI_OK;
    size_t cap2 = *cap ? *cap * 2 : 1024;
    while (cap2 < need)
        cap2 *= 2;
    void *q = realloc(*p, cap2 * size);
    if (!q)
        return linli_fail(err, LINLI_ENOMEM, "out of memory");
    *p = q;
    *cap = cap2;
    return LINLI_OK;
}

static int plan_elder(void *ctx, const struct elder *e, struct linli_err *err)
{
    struct plan_args *a = ctx;
    if (!e->located)
        return LINLI_OK;
    if (a->located == 0) {
        a->lo = a->hi = e->home;
    } else {
        a->lo.lat = fmin(a->lo.lat, e->home.lat);
        a->lo.lon = fmin(a->lo.lon, e->home.lon);
        a->hi.lat = fmax(a->hi.lat, e->home.lat);
        a->hi.lon = fmax(a->hi.lon, e->home.lon);
    }
    a->located++;
    if (reachable(a->reach, e->home)) {
        a->covered++;
        return LINLI_OK;
    }
    if (grow((void **)&a->homes, &a->cap_homes, a->nu + 1, sizeof *a->homes, err) ||
        grow((void **)&a->communities, &a->cap_communities, a->nu + 1, sizeof *a->communities, err))
        return err->status;
    a->homes[a->nu] = e->home;
    snprintf(a->communities[a->nu], sizeof a->communities[a->nu], "%s", e->community);
    a->nu++;
    return LINLI_OK;
}

static int community_candidates(struct store_conn *c, struct plan_args *a, struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_COMMUNITY_POINTS, err);
    if (!st)
        return err->status;
    sqlite3_bind_text(st, 1, a->scope->prefix, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (grow((void **)&a->cands, &a->capc, a->nc + 1, sizeof *a->cands, err)) {
            sqlite3_reset(st);
            return err->status;
        }
        struct site_candidate *k = &a->cands[a->nc++];
        memset(k, 0, sizeof *k);
        const unsigned char *code = sqlite3_column_text(st, 0);
        const unsigned char *name = sqlite3_column_text(st, 1);
        snprintf(k->area_code, sizeof k->area_code, "%s", code ? (const char *)code : "");
        snprintf(k->label, sizeof k->label, "%s", name ? (const char *)name : "");
        k->point.lat = sqlite3_column_double(st, 2);
        k->point.lon = sqlite3_column_double(st, 3);
    }
    if (rc != SQLITE_DONE)
        return store_fail(c, rc, "reading community centres", err);
    sqlite3_reset(st);
    return LINLI_OK;
}

static int plan_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct plan_args *a = arg;
    int rc = area_known(c, a->scope, err);
    if (rc || (a->want_communities && (rc = community_candidates(c, a, err))))
        return rc;
    return scan_elderly(c, a->scope, a->born, plan_elder, a, err);
}

/* What one plan works on once the people are read. */
struct planner {
    const struct reach *reach; /* the model, minutes and radius */
    struct spindex *uix;       /* the uncovered elderly; ids index homes */
    const struct geo_point *homes;
    const char (*communities)[AREA_CODE_LEN + 1];
    size_t nu;
    struct site_candidate *cands; /* malloc'd */
    size_t nc;
    /* Whom each candidate reaches: people[start[i] .. start[i + 1]). */
    size_t *start;
    int32_t *people;
    size_t npairs, cappairs;
    bool too_many, oom;
};

/* A query of the uncovered people's index from one point. */
struct visit_ctx {
    struct planner *p;
    struct geo_point from;
};

static int collect_reached(void *ctx, int64_t id, struct geo_point at, double dist_m)
{
    (void)dist_m;
    struct visit_ctx *v = ctx;
    struct planner *p = v->p;
    const struct reach *r = p->reach;
    if (r->m.minutes(&r->m, v->from, at) > r->minutes)
        return 0;
    if (p->npairs == p->cappairs) {
        if (p->cappairs >= PLAN_PAIRS_MAX) {
            p->too_many = true;
            return 1;
        }
        size_t cap = p->cappairs ? p->cappairs * 2 : 4096;
        if (cap > PLAN_PAIRS_MAX)
            cap = PLAN_PAIRS_MAX;
        void *q = realloc(p->people, cap * sizeof *p->people);
        if (!q) {
            p->oom = true;
            return 1;
        }
        p->people = q;
        p->cappairs = cap;
    }
    p->people[p->npairs++] = (int32_t)id;
    return 0;
}

/* Whether a point reaches some uncovered person (the probe's minutes test). */
static int reaches_uncovered(void *ctx, int64_t id)
{
    struct visit_ctx *v = ctx;
    const struct reach *r = v->p->reach;
    return r->m.minutes(&r->m, v->from, v->p->homes[id]) <= r->minutes;
}

/* The community of the nearest uncovered person within reach of `c`, as a
 * guess at where a grid point or a given site lies; "" when none. */
static int guess_area(struct planner *p, struct site_candidate *c)
{
    struct visit_ctx v = {.p = p, .from = c->point};
    struct spindex_hit hit;
    size_t n = 0;
    if (spindex_nearest(p->uix, c->point, 1, p->reach->radius_m, reaches_uncovered, &v, &hit, &n) !=
        0)
        return -1;
    if (n)
        snprintf(c->area_code, sizeof c->area_code, "%s", p->communities[hit.id]);
    return 0;
}

/* Grid points over the box, spaced grid_m apart, that reach an uncovered person. */
static int grid_candidates(struct planner *p, const struct plan_args *a, int grid_m,
                           struct linli_err *err)
{
    if (a->located == 0)
        return LINLI_OK;
    double dlat = grid_m / METRES_PER_DEGREE_LAT;
    double mid = (a->lo.lat + a->hi.lat) / 2 * M_PI / 180;
    double dlon = grid_m / (METRES_PER_DEGREE_LAT * fmax(cos(mid), GRID_COS_LAT_MIN));
    long rows = (long)floor((a->hi.lat - a->lo.lat) / dlat) + 1;
    long cols = (long)floor((a->hi.lon - a->lo.lon) / dlon) + 1;
    if ((double)rows * (double)cols > PLAN_GRID_POINTS_MAX)
        return linli_field(err, "grid_m",
                           "a %d m grid over this area has %ld points, more than %d: use a "
                           "larger spacing or a smaller area",
                           grid_m, rows * cols, PLAN_GRID_POINTS_MAX);
    size_t cap = 0;
    for (long i = 0; i < rows; i++) {
        for (long j = 0; j < cols; j++) {
            struct geo_point pt = {a->lo.lat + ((double)i + 0.5) * dlat,
                                   a->lo.lon + ((double)j + 0.5) * dlon};
            struct visit_ctx v = {.p = p, .from = pt};
            if (!p->uix ||
                !spindex_any_within(p->uix, pt, p->reach->radius_m, reaches_uncovered, &v))
                continue;
            if (grow((void **)&p->cands, &cap, p->nc + 1, sizeof *p->cands, err))
                return err->status;
            struct site_candidate *c = &p->cands[p->nc++];
            memset(c, 0, sizeof *c);
            c->point = pt;
            snprintf(c->label, sizeof c->label, "grid %ld,%ld", i, j);
        }
    }
    return LINLI_OK;
}

/* Fills start/people: whom each candidate brings within reach. */
static int reach_lists(struct planner *p, const char *field, struct linli_err *err)
{
    p->start = calloc(p->nc + 1, sizeof *p->start);
    if (!p->start)
        return linli_fail(err, LINLI_ENOMEM, "out of memory");
    for (size_t i = 0; i < p->nc; i++) {
        p->start[i] = p->npairs;
        if (p->uix) {
            struct visit_ctx v = {.p = p, .from = p->cands[i].point};
            spindex_visit_within(p->uix, v.from, p->reach->radius_m, collect_reached, &v);
        }
        if (p->too_many)
            return linli_field(err, field,
                               "the candidates reach residents more than %d times over: use "
                               "fewer or sparser candidates, or a smaller area",
                               PLAN_PAIRS_MAX);
        if (p->oom)
            return linli_fail(err, LINLI_ENOMEM, "out of memory");
    }
    p->start[p->nc] = p->npairs;
    return LINLI_OK;
}

/* A max-heap of candidates by gain, then by lower index. */
struct heap_item {
    int64_t gain;
    size_t idx;
};

static bool heap_before(const struct heap_item *x, const struct heap_item *y)
{
    return x->gain > y->gain || (x->gain == y->gain && x->idx < y->idx);
}

static void heap_down(struct heap_item *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && heap_before(&h[l], &h[m]))
            m = l;
        if (r < n && heap_before(&h[r], &h[m]))
            m = r;
        if (m == i)
            return;
        struct heap_item t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

static int64_t fresh_gain(const struct planner *p, size_t c, const uint64_t *covered)
{
    int64_t g = 0;
    for (size_t k = p->start[c]; k < p->start[c + 1]; k++) {
        int32_t u = p->people[k];
        g += !(covered[u / 64] >> (u % 64) & 1);
    }
    return g;
}

/* Lazy greedy: a candidate's gain only falls as sites are placed, so a stale
 * gain is an upper bound; the top of the heap is re-counted and taken when it
 * still beats (or ties with a higher index) the next one. */
static int greedy(struct planner *p, int count, int64_t covered_before, struct site_plan *out,
                  struct linli_err *err)
{
    uint64_t *covered = calloc(p->nu / 64 + 1, sizeof *covered);
    struct heap_item *h = malloc((p->nc ? p->nc : 1) * sizeof *h);
    out->picks = calloc((size_t)count, sizeof *out->picks);
    if (!covered || !h || !out->picks) {
        free(covered);
        free(h);
        return linli_fail(err, LINLI_ENOMEM, "out of memory");
    }
    size_t n = p->nc;
    for (size_t i = 0; i < n; i++)
        h[i] = (struct heap_item){(int64_t)(p->start[i + 1] - p->start[i]), i};
    for (size_t i = n / 2; i-- > 0;)
        heap_down(h, n, i);
    int64_t total = covered_before;
    while (out->npicks < count && n > 0 && h[0].gain > 0) {
        struct heap_item top = h[0];
        top.gain = fresh_gain(p, top.idx, covered);
        h[0] = h[--n];
        heap_down(h, n, 0);
        if (n > 0 && !heap_before(&top, &h[0])) {
            h[n++] = top; /* the slot just freed; sift it up */
            for (size_t i = n - 1; i > 0 && heap_before(&h[i], &h[(i - 1) / 2]); i = (i - 1) / 2) {
                struct heap_item t = h[i];
                h[i] = h[(i - 1) / 2];
                h[(i - 1) / 2] = t;
            }
            continue;
        }
        if (top.gain == 0)
            break;
        for (size_t k = p->start[top.idx]; k < p->start[top.idx + 1]; k++) {
            int32_t u = p->people[k];
            covered[u / 64] |= UINT64_C(1) << (u % 64);
        }
        total += top.gain;
        struct site_pick *pk = &out->picks[out->npicks++];
        pk->c = p->cands[top.idx];
        pk->gain = top.gain;
        pk->covered_after = total;
    }
    free(covered);
    free(h);
    return LINLI_OK;
}

static bool plan_role(enum role r)
{
    return r == ROLE_ADMIN || r == ROLE_DISTRICT || r == ROLE_STREET;
}

static void check_plan(struct domain *d, const struct site_plan_request *r, int age_min, int grid_m,
                       struct cov_scope *s, struct linli_err *err)
{
    check_common(d, r->service, r->minutes, age_min, r->area, s, err);
    if (r->count < 1 || r->count > PLAN_COUNT_MAX)
        linli_field(err, "count", "must be a whole number from 1 to %d", PLAN_COUNT_MAX);
    if (r->source < CANDIDATES_COMMUNITIES || r->source > CANDIDATES_GIVEN)
        linli_field(err, "candidates", "must be \"communities\", \"grid\" or a list of points");
    if (r->source == CANDIDATES_GRID && (grid_m < PLAN_GRID_MIN_M || grid_m > PLAN_GRID_MAX_M))
        linli_field(err, "grid_m", "must be a whole number of metres from %d to %d",
                    PLAN_GRID_MIN_M, PLAN_GRID_MAX_M);
    if (r->source != CANDIDATES_GIVEN)
        return;
    if (r->ncandidates < 1 || r->ncandidates > PLAN_GIVEN_MAX || !r->candidates) {
        linli_field(err, "candidates", "must list 1 to %d points", PLAN_GIVEN_MAX);
        return;
    }
    for (int i = 0; i < r->ncandidates && err->nfields < LINLI_ERR_FIELDS; i++) {
        char field[32];
        snprintf(field, sizeof field, "candidates[%d]", i);
        directory__check_point(d, field, r->candidates[i].point, err);
    }
}

static void planner_free(struct planner *p)
{
    spindex_free(p->uix);
    free(p->cands);
    free(p->start);
    free(p->people);
}

int directory_plan_sites(struct domain *d, const struct principal *who,
                         const struct site_plan_request *r, struct site_plan *out,
                         struct linli_err *err)
{
    memset(out, 0, sizeof *out);
    if (!plan_role(who->role))
        return linli_fail(err, LINLI_EFORBIDDEN,
                          "Only admins and district or street staff may plan sites.");
    int rc = directory_refresh(d, err);
    if (rc)
        return rc;
    int age_min = r->age_min ? r->age_min : PLAN_AGE_DEFAULT;
    int grid_m = r->grid_m ? r->grid_m : PLAN_GRID_DEFAULT_M;
    struct cov_scope s;
    check_plan(d, r, age_min, grid_m, &s, err);
    if (err->nfields)
        return LINLI_EINVAL;
    if ((rc = resolve_scope(who, &s, err)))
        return rc;
    struct reach reach;
    if ((rc = reach_open(d, r->service, r->minutes, &reach, err)))
        return rc;
    struct plan_args a = {
        .scope = &s, .reach = &reach, .want_communities = r->source == CANDIDATES_COMMUNITIES};
    born_bound(age_min, a.born);
    struct planner p = {.reach = &reach};
    rc = store_read(d->store, plan_job, &a, err);
    if (rc)
        goto done;
    out->located = a.located;
    out->covered_before = a.covered;
    p.homes = a.homes;
    p.communities = (const char(*)[AREA_CODE_LEN + 1]) a.communities;
    p.nu = a.nu;
    if (a.nu) {
        p.uix = spindex_new(cell_for(reach.radius_m));
        if (!p.uix) {
            rc = linli_fail(err, LINLI_ENOMEM, "out of memory");
            goto done;
        }
        for (size_t i = 0; i < a.nu; i++)
            if (spindex_put(p.uix, (int64_t)i, a.homes[i]) != 0) {
                rc = linli_fail(err, LINLI_ENOMEM, "out of memory");
                goto done;
            }
    }
    if (r->source == CANDIDATES_COMMUNITIES) {
        p.cands = a.cands;
        p.nc = a.nc;
        a.cands = NULL;
    } else if (r->source == CANDIDATES_GRID) {
        if ((rc = grid_candidates(&p, &a, grid_m, err)))
            goto done;
    } else {
        p.nc = (size_t)r->ncandidates;
        p.cands = malloc(p.nc * sizeof *p.cands);
        if (!p.cands) {
            rc = linli_fail(err, LINLI_ENOMEM, "out of memory");
            goto done;
        }
        memcpy(p.cands, r->candidates, p.nc * sizeof *p.cands);
    }
    for (size_t i = 0; i < p.nc && p.uix; i++)
        if (!p.cands[i].area_code[0] && guess_area(&p, &p.cands[i]) != 0) {
            rc = linli_fail(err, LINLI_ENOMEM, "out of memory");
            goto done;
        }
    out->candidates_considered = (int64_t)p.nc;
    if ((rc = reach_lists(&p, r->source == CANDIDATES_GRID ? "grid_m" : "candidates", err)))
        goto done;
    rc = greedy(&p, r->count, a.covered, out, err);
done:
    planner_free(&p);
    free(a.homes);
    free(a.communities);
    free(a.cands);
    reach_close(&reach);
    if (rc)
        site_plan_free(out);
    return rc;
}

void site_plan_free(struct site_plan *p)
{
    if (!p)
        return;
    free(p->picks);
    p->picks = NULL;
    p->npicks = 0;
}
