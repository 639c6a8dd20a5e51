/* test_coverage.c - coverage planning (src/domain/directory_coverage.c): who
 * among the elderly can walk to a service in time, counted per street and
 * community on a hand-made layout (people just inside and just outside the
 * reach); the caller's scope; the list of those out of reach; greedy site
 * plans on clusters whose right answer is known; and a cross-check of all
 * three against brute force on random data. */
#include "support.h"

#include "domain/directory.h"
#include "domain/people.h"
#include "domain/registry.h"
#include "geo/geo.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DISTRICT "110105000000"
#define JIANWAI  "110105001000"
#define CHAOWAI  "110105002000"
#define C1       "110105001001"
#define C2       "110105001002"
#define C3       "110105001003" /* no centre point, nobody lives there */
#define C4       "110105002001"
#define MISSING  "110105009000" /* well formed, not in the registry */

#define OLD   "1950-01-01"
#define YOUNG "1990-01-01"

#define ORIGIN_LAT 39.90
#define ORIGIN_LON 116.45
#define M_PER_DEG  111194.9

struct fixture {
    char dir[64];
    char db[128];
    struct domain d;
    struct principal admin, district, jianwai, chaowai, c1, operator_, auditor, resident, provider,
        unscoped;
    struct linli_err err;
    int64_t ids[16]; /* the small layout's people, by number */
    double reach15;  /* the radius of a 15-minute walk */
};

static struct principal as_user(int64_t id, enum role role, const char *scope)
{
    struct principal p;
    memset(&p, 0, sizeof p);
    p.user_id = id;
    p.role = role;
    snprintf(p.username, sizeof p.username, "%s-%lld", role_name(role), (long long)id);
    snprintf(p.scope, sizeof p.scope, "%s", scope ? scope : "");
    snprintf(p.ip, sizeof p.ip, "127.0.0.1");
    return p;
}

/* A point `north_m` and `east_m` from the origin. */
static struct geo_point at(double north_m, double east_m)
{
    double lat = ORIGIN_LAT + north_m / M_PER_DEG;
    return (struct geo_point){lat, ORIGIN_LON + east_m / (M_PER_DEG * cos(lat * M_PI / 180))};
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    *state = f;
    if (make_temp_dir("coverage", f->dir, sizeof f->dir, "linli.db", f->db, sizeof f->db))
        return -1;
    linli_err_clear(&f->err);
    if (open_domain(&f->d, f->db, NULL, &f->err))
        return -1;
    f->admin = as_user(1, ROLE_ADMIN, NULL);
    f->district = as_user(2, ROLE_DISTRICT, DISTRICT);
    f->jianwai = as_user(3, ROLE_STREET, JIANWAI);
    f->chaowai = as_user(4, ROLE_STREET, CHAOWAI);
    f->c1 = as_user(5, ROLE_COMMUNITY, C1);
    f->operator_ = as_user(6, ROLE_OPERATOR, JIANWAI);
    f->auditor = as_user(7, ROLE_AUDITOR, DISTRICT);
    f->resident = as_user(8, ROLE_RESIDENT, NULL);
    f->provider = as_user(9, ROLE_PROVIDER, NULL);
    f->unscoped = as_user(10, ROLE_DISTRICT, NULL);
    struct walk_model m;
    directory_walk_model(&f->d, &m);
    f->reach15 = m.reach_m(&m, 15);
    static const struct area_row rows[] = {
        {DISTRICT, "朝阳区", "", "district"},      {JIANWAI, "建外街道", DISTRICT, "street"},
        {CHAOWAI, "朝外街道", DISTRICT, "street"}, {C1, "一社区", JIANWAI, "community"},
        {C2, "二社区", JIANWAI, "community"},      {C3, "三社区", JIANWAI, "community"},
        {C4, "四社区", CHAOWAI, "community"},
    };
    /* Community centres at the clusters of the plan tests. */
    struct area_point pts[] = {{C1, at(0, 0), "wgs84", "test"},
                               {C2, at(3000, 0), "wgs84", "test"},
                               {C4, at(3000, 3000), "wgs84", "test"}};
    struct principal sys;
    principal_system(&sys, "test");
    struct import_report rep;
    return registry_import(&f->d, &sys, 2020, rows, sizeof rows / sizeof rows[0], pts, 3, &rep,
                           &f->err);
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    close_domain(&f->d);
    remove_tree(f->dir);
    free(f);
    return 0;
}

/* ---- helpers ---- */

/* SQL text built up, for inserting many people in one write. */
struct sqlbuf {
    char *s;
    size_t n, cap;
};

static void sql_add(struct sqlbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sql_add(struct sqlbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int need = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    assert_true(need >= 0);
    if (b->n + (size_t)need + 1 > b->cap) {
        b->cap = (b->n + (size_t)need + 1) * 2;
        b->s = realloc(b->s, b->cap);
        assert_non_null(b->s);
    }
    va_start(ap, fmt);
    vsnprintf(b->s + b->n, b->cap - b->n, fmt, ap);
    va_end(ap);
    b->n += (size_t)need;
}

/* Appends one person; `home` NULL = no home point. */
static void person_sql(struct sqlbuf *b, const char *name, const char *birth,
                       const struct geo_point *home, const char *community)
{
    if (home)
        sql_add(b,
                "INSERT INTO people (name, birth_date, lat, lon, community_code, created_at,"
                " updated_at) VALUES ('%s', '%s', %.17g, %.17g, '%s', 0, 0);",
                name, birth, home->lat, home->lon, community);
    else
        sql_add(b,
                "INSERT INTO people (name, birth_date, community_code, created_at, updated_at)"
                " VALUES ('%s', '%s', '%s', 0, 0);",
                name, birth, community);
}

static void sql_run(struct fixture *f, struct sqlbuf *b)
{
    sql_exec(f->d.store, b->s);
    free(b->s);
    memset(b, 0, sizeof *b);
}

static int64_t last_person(struct fixture *f)
{
    return sql_int(f->d.store, "SELECT max(id) FROM people", NULL);
}

static int64_t add_person(struct fixture *f, const char *name, const char *birth,
                          const struct geo_point *home, const char *community)
{
    struct sqlbuf b = {0};
    person_sql(&b, name, birth, home, community);
    sql_run(f, &b);
    return last_person(f);
}

/* A facility offering `service` at `p`; status NULL = open. */
static int64_t add_facility(struct fixture *f, const char *name, const char *area,
                            struct geo_point p, const char *service, const char *status)
{
    struct facility_in in;
    memset(&in, 0, sizeof in);
    in.kind = "dining_table";
    in.operator_type = "public";
    in.status = status;
    in.name = name;
    in.area_code = area;
    in.has_point = true;
    in.point = p;
    in.capacity = in.beds_total = in.beds_free = in.rating_tenths = -1;
    in.nservices = 1;
    snprintf(in.services[0].code, sizeof in.services[0].code, "%s", service);
    in.services[0].price_fen = 1500;
    in.services[0].unit = UNIT_MEAL;
    struct facility out;
    linli_err_clear(&f->err);
    assert_ok(facilities_create(&f->d, &f->admin, &in, NULL, &out, NULL, &f->err), &f->err);
    return out.id;
}

/* yyyymmdd + `days`, as YYYY-MM-DD `years` earlier. */
static void birth_on(int years, int days, char out[11])
{
    int today = people_today();
    struct tm t = {.tm_year = today / 10000 - years - 1900,
                   .tm_mon = today / 100 % 100 - 1,
                   .tm_mday = today % 100 + days,
                   .tm_hour = 12};
    time_t s = timegm(&t);
    gmtime_r(&s, &t);
    strftime(out, 11, "%Y-%m-%d", &t);
}

/* The small layout: one open meals table at the origin in C1; a closed one
 * and one without meals where they would otherwise reach people.
 *
 *   1  C1  old, 0.98 R north           covered
 *   2  C1  old, 1.02 R east            not covered (the closed table is there)
 *   3  C1  old, 0.5 R south-west       covered
 *   4  C1  old, no home                elderly, not located
 *   5  C1  34 or so, at the origin     not elderly
 *   6  C1  60 today, at the origin     covered
 *   7  C1  60 tomorrow, at the origin  not elderly yet
 *   8  C2  old, 3 km east              not covered (a bathing-only place is there)
 *   9  C4  old, 0.3 R north            covered: reach crosses street lines
 *  10  C4  old, 5 km north             not covered */
static void small_layout(struct fixture *f)
{
    double r = f->reach15;
    add_facility(f, "一社区老年餐桌", C1, at(0, 0), "meals", NULL);
    add_facility(f, "已关闭餐桌", C1, at(0, 1.02 * r), "meals", "closed");
    add_facility(f, "助浴点", C2, at(0, 3000), "bathing", NULL);
    char sixty[11], almost[11];
    birth_on(60, 0, sixty);
    birth_on(60, 1, almost);
    struct geo_point p[11] = {[1] = at(0.98 * r, 0),
                              [2] = at(0, 1.02 * r),
                              [3] = at(-0.5 * r / sqrt(2), -0.5 * r / sqrt(2)),
                              [5] = at(0, 0),
                              [6] = at(0, 0),
                              [7] = at(0, 0),
                              [8] = at(0, 3000),
                              [9] = at(0.3 * r, 0),
                              [10] = at(5000, 0)};
    /* The distances are what the layout says. */
    assert_true(geo_distance_m(p[1], at(0, 0)) < r);
    assert_true(geo_distance_m(p[2], at(0, 0)) > r);
    f->ids[1] = add_person(f, "甲", OLD, &p[1], C1);
    f->ids[2] = add_person(f, "乙", OLD, &p[2], C1);
    f->ids[3] = add_person(f, "丙", OLD, &p[3], C1);
    f->ids[4] = add_person(f, "丁", OLD, NULL, C1);
    f->ids[5] = add_person(f, "戊", YOUNG, &p[5], C1);
    f->ids[6] = add_person(f, "己", sixty, &p[6], C1);
    f->ids[7] = add_person(f, "庚", almost, &p[7], C1);
    f->ids[8] = add_person(f, "辛", OLD, &p[8], C2);
    f->ids[9] = add_person(f, "壬", OLD, &p[9], C4);
    f->ids[10] = add_person(f, "癸", OLD, &p[10], C4);
}

static void assert_counts(const struct service_coverage_area *a, int64_t elderly, int64_t located,
                          int64_t covered)
{
    if (a->elderly != elderly || a->located != located || a->covered != covered)
        fail_msg("%s: %lld/%lld/%lld, expected %lld/%lld/%lld", a->code, (long long)a->elderly,
                 (long long)a->located, (long long)a->covered, (long long)elderly,
                 (long long)located, (long long)covered);
}

static const struct service_coverage_area *row_of(const struct service_coverage *r,
                                                  const char *code)
{
    for (int i = 0; i < r->nareas; i++)
        if (!strcmp(r->areas[i].code, code))
            return &r->areas[i];
    fail_msg("no row for %s", code);
    return NULL;
}

static void report(struct fixture *f, const struct principal *who, double minutes, int level,
                   const char *area, struct service_coverage *out)
{
    linli_err_clear(&f->err);
    assert_ok(directory_coverage(&f->d, who, "meals", minutes, level, 60, area, out, &f->err),
              &f->err);
}

/* ---- coverage ---- */

static void coverage_counts_people_just_inside_and_outside_the_reach(void **state)
{
    struct fixture *f = *state;
    small_layout(f);
    struct service_coverage r;
    report(f, &f->admin, 15, 1, NULL, &r);
    assert_string_equal(r.service, "meals");
    assert_int_equal(r.level, 1);
    assert_int_equal(r.age_min, 60);
    assert_int_equal(r.facilities, 1); /* the closed one and the bathing place do not count */
    assert_counts(&r.total, 8, 7, 4);
    assert_int_equal(r.nareas, 2);
    assert_string_equal(r.areas[0].code, JIANWAI);
    assert_string_equal(r.areas[0].name, "建外街道");
    assert_counts(&r.areas[0], 6, 5, 3);
    assert_string_equal(r.areas[1].code, CHAOWAI);
    assert_counts(&r.areas[1], 2, 2, 1);
    service_coverage_free(&r);

    /* Per community, every current one in scope, by code: the empty one too. */
    report(f, &f->admin, 15, 2, NULL, &r);
    assert_int_equal(r.nareas, 4);
    assert_counts(row_of(&r, C1), 5, 4, 3);
    assert_counts(row_of(&r, C2), 1, 1, 0);
    assert_counts(row_of(&r, C3), 0, 0, 0);
    assert_string_equal(row_of(&r, C3)->name, "三社区");
    assert_counts(row_of(&r, C4), 2, 2, 1);
    assert_string_equal(r.areas[0].code, C1);
    assert_string_equal(r.areas[3].code, C4);
    service_coverage_free(&r);

    /* A longer walk reaches person 2; an older age_min drops person 6. */
    report(f, &f->admin, 30, 1, NULL, &r);
    assert_counts(&r.total, 8, 7, 5);
    service_coverage_free(&r);
    linli_err_clear(&f->err);
    assert_ok(directory_coverage(&f->d, &f->admin, "meals", 15, 1, 61, NULL, &r, &f->err), &f->err);
    assert_counts(&r.total, 7, 6, 3);
    service_coverage_free(&r);
    /* A service nobody offers: everyone is out of reach. */
    linli_err_clear(&f->err);
    assert_ok(directory_coverage(&f->d, &f->admin, "respite", 15, 1, 60, NULL, &r, &f->err),
              &f->err);
    assert_int_equal(r.facilities, 0);
    assert_counts(&r.total, 8, 7, 0);
    service_coverage_free(&r);
}

static void coverage_counts_only_what_the_callers_scope_holds(void **state)
{
    struct fixture *f = *state;
    small_layout(f);
    struct service_coverage r;
    report(f, &f->jianwai, 15, 1, NULL, &r);
    assert_counts(&r.total, 6, 5, 3);
    assert_int_equal(r.nareas, 1);
    assert_string_equal(r.areas[0].code, JIANWAI);
    service_coverage_free(&r);

    report(f, &f->c1, 15, 2, NULL, &r);
    assert_counts(&r.total, 5, 4, 3);
    assert_int_equal(r.nareas, 1);
    assert_string_equal(r.areas[0].code, C1);
    service_coverage_free(&r);

    report(f, &f->c1, 15, 1, NULL, &r); /* its street's row holds only its community */
    assert_int_equal(r.nareas, 1);
    assert_counts(&r.areas[0], 5, 4, 3);
    service_coverage_free(&r);

    const struct principal *all[] = {&f->district, &f->auditor};
    for (size_t i = 0; i < 2; i++) {
        report(f, all[i], 15, 1, NULL, &r);
        assert_counts(&r.total, 8, 7, 4);
        service_coverage_free(&r);
    }
    report(f, &f->operator_, 15, 2, NULL, &r);
    assert_counts(&r.total, 6, 5, 3);
    assert_int_equal(r.nareas, 3); /* C1, C2, C3 */
    service_coverage_free(&r);

    /* `area` narrows within the scope. */
    report(f, &f->jianwai, 15, 2, C2, &r);
    assert_counts(&r.total, 1, 1, 0);
    assert_int_equal(r.nareas, 1);
    service_coverage_free(&r);
    report(f, &f->admin, 15, 1, "110105002", &r);
    assert_counts(&r.total, 2, 2, 1);
    service_coverage_free(&r);

    /* ... and never beyond it. */
    linli_err_clear(&f->err);
    assert_int_equal(directory_coverage(&f->d, &f->jianwai, "meals", 15, 1, 60, C4, &r, &f->err),
                     LINLI_EFORBIDDEN);
    linli_err_clear(&f->err);
    assert_int_equal(
        directory_coverage(&f->d, &f->jianwai, "meals", 15, 1, 60, "110105", &r, &f->err),
        LINLI_EFORBIDDEN);
    const struct principal *refused[] = {&f->resident, &f->provider, &f->unscoped};
    for (size_t i = 0; i < 3; i++) {
        linli_err_clear(&f->err);
        assert_int_equal(
            directory_coverage(&f->d, refused[i], "meals", 15, 1, 60, NULL, &r, &f->err),
            LINLI_EFORBIDDEN);
    }
}

static void coverage_rejects_bad_input_naming_the_field(void **state)
{
    struct fixture *f = *state;
    struct service_coverage r;
    static const struct {
        const char *service;
        double minutes;
        int level, age_min;
        const char *area, *field;
    } bad[] = {
        {"no_such", 15, 1, 60, NULL, "service"}, {NULL, 15, 1, 60, NULL, "service"},
        {"meals", 0, 1, 60, NULL, "minutes"},    {"meals", 120.5, 1, 60, NULL, "minutes"},
        {"meals", NAN, 1, 60, NULL, "minutes"},  {"meals", -5, 1, 60, NULL, "minutes"},
        {"meals", 15, 3, 60, NULL, "level"},     {"meals", 15, 0, 60, NULL, "level"},
        {"meals", 15, 1, -1, NULL, "age_min"},   {"meals", 15, 1, 121, NULL, "age_min"},
        {"meals", 15, 1, 60, "12", "area"},      {"meals", 15, 1, 60, MISSING, "area"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        linli_err_clear(&f->err);
        int rc = directory_coverage(&f->d, &f->admin, bad[i].service, bad[i].minutes, bad[i].level,
                                    bad[i].age_min, bad[i].area, &r, &f->err);
        if (rc != LINLI_EINVAL || !field_error(&f->err, bad[i].field))
            fail_msg("case %zu: %d, no error on %s (%s)", i, rc, bad[i].field, f->err.detail);
    }
    /* Every problem at once. */
    linli_err_clear(&f->err);
    assert_int_equal(directory_coverage(&f->d, &f->admin, "x", 0, 5, 200, "1", &r, &f->err),
                     LINLI_EINVAL);
    assert_int_equal(f->err.nfields, 5);
    /* 120 minutes is the longest accepted. */
    report(f, &f->admin, DIRECTORY_MINUTES_MAX, 1, NULL, &r);
    service_coverage_free(&r);
}

static void a_new_facility_raises_coverage_on_the_next_report(void **state)
{
    struct fixture *f = *state;
    small_layout(f);
    struct service_coverage r;
    report(f, &f->admin, 15, 2, NULL, &r);
    assert_counts(row_of(&r, C2), 1, 1, 0);
    service_coverage_free(&r);
    add_facility(f, "二社区老年餐桌", C2, at(100, 3000), "meals", NULL);
    report(f, &f->admin, 15, 2, NULL, &r);
    assert_int_equal(r.facilities, 2);
    assert_counts(row_of(&r, C2), 1, 1, 1);
    assert_counts(&r.total, 8, 7, 5);
    service_coverage_free(&r);
}

/* ---- who is out of reach ---- */

static void uncovered_lists_people_out_of_reach_by_id(void **state)
{
    struct fixture *f = *state;
    small_layout(f);
    struct uncovered_person *items;
    int n;
    int64_t next;
    linli_err_clear(&f->err);
    assert_ok(directory_uncovered(&f->d, &f->admin, "meals", 15, 60, NULL, 0, 2, &items, &n, &next,
                                  &f->err),
              &f->err);
    assert_int_equal(n, 2);
    assert_int_equal(items[0].id, f->ids[2]);
    assert_int_equal(items[1].id, f->ids[8]);
    assert_int_equal(next, f->ids[8]);
    assert_string_equal(items[0].name, "乙");
    assert_string_equal(items[0].community_code, C1);
    assert_int_equal(items[0].age, people_age(OLD, people_today()));
    /* The nearest open place with meals: the one at the origin (the closed one is nearer). */
    assert_true(fabs(items[0].nearest_m - 1.02 * f->reach15) < 0.5);
    assert_true(fabs(items[1].nearest_m - 3000) < 1);
    free(items);
    linli_err_clear(&f->err);
    assert_ok(directory_uncovered(&f->d, &f->admin, "meals", 15, 60, NULL, next, 2, &items, &n,
                                  &next, &f->err),
              &f->err);
    assert_int_equal(n, 1);
    assert_int_equal(items[0].id, f->ids[10]);
    assert_int_equal(next, 0);
    free(items);

    /* In scope only. */
    linli_err_clear(&f->err);
    assert_ok(directory_uncovered(&f->d, &f->c1, "meals", 15, 60, NULL, 0, 50, &items, &n, &next,
                                  &f->err),
              &f->err);
    assert_int_equal(n, 1);
    assert_int_equal(items[0].id, f->ids[2]);
    free(items);

    /* Nobody offers respite: every located elderly person, with no distance. */
    linli_err_clear(&f->err);
    assert_ok(directory_uncovered(&f->d, &f->auditor, "respite", 15, 60, NULL, 0, 50, &items, &n,
                                  &next, &f->err),
              &f->err);
    assert_int_equal(n, 7);
    for (int i = 0; i < n; i++)
        assert_true(items[i].nearest_m < 0);
    free(items);

    const struct principal *refused[] = {&f->resident, &f->provider};
    for (size_t i = 0; i < 2; i++) {
        linli_err_clear(&f->err);
        assert_int_equal(directory_uncovered(&f->d, refused[i], "meals", 15, 60, NULL, 0, 50,
                                             &items, &n, &next, &f->err),
                         LINLI_EFORBIDDEN);
    }
    linli_err_clear(&f->err);
    assert_int_equal(
        directory_uncovered(&f->d, &f->c1, "meals", 15, 60, C2, 0, 50, &items, &n, &next, &f->err),
        LINLI_EFORBIDDEN);
    static const int limits[] = {0, PEOPLE_PAGE_MAX + 1};
    for (size_t i = 0; i < 2; i++) {
        linli_err_clear(&f->err);
        assert_int_equal(directory_uncovered(&f->d, &f->admin, "meals", 15, 60, NULL, 0, limits[i],
                                             &items, &n, &next, &f->err),
                         LINLI_EINVAL);
        assert_field_error(&f->err, "limit", "between");
    }
}

/* ---- plans ---- */

/* `count` people within 200 m of `centre` (a fixed spiral: the same every run). */
static void cluster(struct sqlbuf *b, struct geo_point centre, int count, const char *community)
{
    for (int i = 0; i < count; i++) {
        double r = 200.0 * (i + 1) / count, a = i * 2.399963; /* the golden angle */
        double lat = centre.lat + r * sin(a) / M_PER_DEG;
        struct geo_point p = {lat, centre.lon + r * cos(a) / (M_PER_DEG * cos(lat * M_PI / 180))};
        char name[32];
        snprintf(name, sizeof name, "居民%s-%d", community + 9, i);
        person_sql(b, name, OLD, &p, community);
    }
}

/* 50 people around the origin (C1), 30 at 3 km north (C2), 10 at 3 km east
 * (C4), and 20 at 3 km north-east (C4) whom a meals table already reaches. */
static void clusters(struct fixture *f)
{
    struct sqlbuf b = {0};
    cluster(&b, at(0, 0), 50, C1);
    cluster(&b, at(3000, 0), 30, C2);
    cluster(&b, at(0, 3000), 10, C4);
    cluster(&b, at(3000, 3000), 20, C4);
    sql_run(f, &b);
    add_facility(f, "四社区老年餐桌", C4, at(3000, 3000), "meals", NULL);
}

static struct site_candidate candidate(struct geo_point p, const char *label)
{
    struct site_candidate c;
    memset(&c, 0, sizeof c);
    c.point = p;
    snprintf(c.label, sizeof c.label, "%s", label);
    return c;
}

static void plan(struct fixture *f, const struct principal *who, struct site_plan_request *r,
                 struct site_plan *out)
{
    linli_err_clear(&f->err);
    assert_ok(directory_plan_sites(&f->d, who, r, out, &f->err), &f->err);
}

static void plan_picks_the_largest_clusters_then_stops_when_nothing_is_gained(void **state)
{
    struct fixture *f = *state;
    clusters(f);
    struct site_candidate given[] = {candidate(at(0, 3000), "ten"), candidate(at(0, 0), "fifty"),
                                     candidate(at(3000, 3000), "covered already"),
                                     candidate(at(3000, 0), "thirty")};
    struct site_plan_request r = {.service = "meals",
                                  .count = 2,
                                  .minutes = 15,
                                  .source = CANDIDATES_GIVEN,
                                  .ncandidates = 4,
                                  .candidates = given};
    struct site_plan p;
    plan(f, &f->admin, &r, &p);
    assert_int_equal(p.located, 110);
    assert_int_equal(p.covered_before, 20);
    assert_int_equal(p.candidates_considered, 4);
    assert_int_equal(p.npicks, 2);
    assert_string_equal(p.picks[0].c.label, "fifty");
    assert_int_equal(p.picks[0].gain, 50);
    assert_int_equal(p.picks[0].covered_after, 70);
    assert_string_equal(p.picks[0].c.area_code, C1); /* from the people it reaches */
    assert_string_equal(p.picks[1].c.label, "thirty");
    assert_int_equal(p.picks[1].gain, 30);
    assert_int_equal(p.picks[1].covered_after, 100);
    site_plan_free(&p);

    /* Asked for five, it places three: the fourth would reach nobody new. */
    r.count = 5;
    plan(f, &f->admin, &r, &p);
    assert_int_equal(p.npicks, 3);
    assert_string_equal(p.picks[2].c.label, "ten");
    assert_int_equal(p.picks[2].gain, 10);
    assert_int_equal(p.picks[2].covered_after, 110);
    site_plan_free(&p);
}

static void plan_breaks_ties_by_the_lower_index_and_repeats_itself(void **state)
{
    struct fixture *f = *state;
    clusters(f);
    /* "near" sits 700 m off the big cluster and reaches only part of it. */
    struct site_candidate given[] = {candidate(at(0, 700), "near"), candidate(at(0, 0), "a"),
                                     candidate(at(0, 0), "b"), candidate(at(3000, 0), "thirty")};
    struct site_plan_request r = {.service = "meals",
                                  .count = 3,
                                  .minutes = 15,
                                  .source = CANDIDATES_GIVEN,
                                  .ncandidates = 4,
                                  .candidates = given};
    struct site_plan p, q;
    plan(f, &f->admin, &r, &p);
    assert_int_equal(p.npicks, 2); /* a, thirty; b and near add nobody after a */
    assert_string_equal(p.picks[0].c.label, "a");
    assert_string_equal(p.picks[1].c.label, "thirty");
    plan(f, &f->admin, &r, &q);
    assert_int_equal(q.npicks, p.npicks);
    assert_memory_equal(q.picks, p.picks, (size_t)p.npicks * sizeof *p.picks);
    site_plan_free(&p);
    site_plan_free(&q);
    /* Swapped, the other twin wins. */
    given[1] = candidate(at(0, 0), "b");
    given[2] = candidate(at(0, 0), "a");
    plan(f, &f->admin, &r, &p);
    assert_string_equal(p.picks[0].c.label, "b");
    site_plan_free(&p);
}

static void plan_from_community_centres_and_from_a_grid(void **state)
{
    struct fixture *f = *state;
    clusters(f);
    struct site_plan_request r = {.service = "meals",
                                  .count = 5,
                                  .minutes = 15,
                                  .area = JIANWAI,
                                  .source = CANDIDATES_COMMUNITIES};
    struct site_plan p;
    plan(f, &f->admin, &r, &p);
    assert_int_equal(p.located, 80); /* C1 and C2 */
    assert_int_equal(p.covered_before, 0);
    assert_int_equal(p.candidates_considered, 2); /* C3 has no centre; C4 is elsewhere */
    assert_int_equal(p.npicks, 2);
    assert_string_equal(p.picks[0].c.area_code, C1);
    assert_string_equal(p.picks[0].c.label, "一社区");
    assert_int_equal(p.picks[0].gain, 50);
    assert_string_equal(p.picks[1].c.area_code, C2);
    assert_int_equal(p.picks[1].gain, 30);
    site_plan_free(&p);

    /* The street's own staff plan the same without naming it. */
    r.area = NULL;
    plan(f, &f->jianwai, &r, &p);
    assert_int_equal(p.located, 80);
    assert_int_equal(p.npicks, 2);
    site_plan_free(&p);

    /* A 500 m grid over the whole district finds each cluster whole. */
    r.source = CANDIDATES_GRID;
    r.grid_m = 500;
    plan(f, &f->admin, &r, &p);
    assert_int_equal(p.located, 110);
    assert_int_equal(p.covered_before, 20);
    assert_true(p.candidates_considered > 3);
    assert_int_equal(p.npicks, 3);
    assert_int_equal(p.picks[0].gain, 50);
    assert_string_equal(p.picks[0].c.area_code, C1);
    assert_int_equal(p.picks[1].gain, 30);
    assert_string_equal(p.picks[1].c.area_code, C2);
    assert_int_equal(p.picks[2].gain, 10);
    assert_string_equal(p.picks[2].c.area_code, C4);
    assert_int_equal(p.picks[2].covered_after, 110);
    site_plan_free(&p);
}

static void plan_is_for_planners_in_scope_and_checks_its_input(void **state)
{
    struct fixture *f = *state;
    clusters(f);
    struct site_plan_request r = {.service = "meals", .count = 3, .minutes = 15};
    struct site_plan p;
    const struct principal *refused[] = {&f->c1,       &f->operator_, &f->auditor,
                                         &f->resident, &f->provider,  &f->unscoped};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        linli_err_clear(&f->err);
        assert_int_equal(directory_plan_sites(&f->d, refused[i], &r, &p, &f->err),
                         LINLI_EFORBIDDEN);
    }
    r.area = C4;
    linli_err_clear(&f->err);
    assert_int_equal(directory_plan_sites(&f->d, &f->jianwai, &r, &p, &f->err), LINLI_EFORBIDDEN);
    plan(f, &f->chaowai, &r, &p);
    site_plan_free(&p);

    struct site_candidate outside = candidate((struct geo_point){0, 0}, "Null Island");
    static const struct {
        const char *service;
        int count;
        double minutes;
        int age_min, source, grid_m, n;
        const char *field;
    } bad[] = {
        {"meals", 0, 15, 0, CANDIDATES_COMMUNITIES, 0, 0, "count"},
        {"meals", 101, 15, 0, CANDIDATES_COMMUNITIES, 0, 0, "count"},
        {"nope", 3, 15, 0, CANDIDATES_COMMUNITIES, 0, 0, "service"},
        {"meals", 3, 0, 0, CANDIDATES_COMMUNITIES, 0, 0, "minutes"},
        {"meals", 3, 121, 0, CANDIDATES_COMMUNITIES, 0, 0, "minutes"},
        {"meals", 3, 15, 121, CANDIDATES_COMMUNITIES, 0, 0, "age_min"},
        {"meals", 3, 15, 0, CANDIDATES_GRID, 99, 0, "grid_m"},
        {"meals", 3, 15, 0, CANDIDATES_GRID, 5001, 0, "grid_m"},
        {"meals", 3, 15, 0, CANDIDATES_GIVEN, 0, 0, "candidates"},
        {"meals", 3, 15, 0, CANDIDATES_GIVEN, 0, 1, "candidates[0]"},
        {"meals", 3, 15, 0, 7, 0, 0, "candidates"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct site_plan_request b = {.service = bad[i].service,
                                      .count = bad[i].count,
                                      .minutes = bad[i].minutes,
                                      .age_min = bad[i].age_min,
                                      .source = bad[i].source,
                                      .grid_m = bad[i].grid_m,
                                      .ncandidates = bad[i].n,
                                      .candidates = &outside};
        linli_err_clear(&f->err);
        int rc = directory_plan_sites(&f->d, &f->admin, &b, &p, &f->err);
        if (rc != LINLI_EINVAL || !field_error(&f->err, bad[i].field))
            fail_msg("case %zu: %d, no error on %s (%s)", i, rc, bad[i].field, f->err.detail);
    }
    /* A grid too fine for the area is refused before any work. */
    struct site_plan_request fine = {
        .service = "meals", .count = 3, .minutes = 15, .source = CANDIDATES_GRID, .grid_m = 100};
    struct sqlbuf b = {0};
    struct geo_point far = at(80000, 80000);
    person_sql(&b, "远方", OLD, &far, C4);
    sql_run(f, &b);
    linli_err_clear(&f->err);
    assert_int_equal(directory_plan_sites(&f->d, &f->admin, &fine, &p, &f->err), LINLI_EINVAL);
    assert_field_error(&f->err, "grid_m", "larger spacing");
}

/* ---- brute force ---- */

#define RANDOM_PEOPLE     1500
#define RANDOM_FACILITIES 30
#define RANDOM_CANDIDATES 40
#define BOX_M             5000.0

static uint64_t rng_state = 0x2545F4914F6CDD1DULL;

static double uniform(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}

struct random_person {
    int64_t id;
    char birth[11];
    bool located;
    struct geo_point home;
    const char *community;
};

struct random_facility {
    struct geo_point p;
    bool counts; /* open, with meals */
};

static bool brute_reachable(const struct walk_model *m, double minutes,
                            const struct random_facility *fac, int nfac, struct geo_point home)
{
    double radius = m->reach_m(m, minutes);
    for (int k = 0; k < nfac; k++)
        if (fac[k].counts && geo_distance_m(home, fac[k].p) <= radius &&
            m->minutes(m, home, fac[k].p) <= minutes)
            return true;
    return false;
}

static void coverage_and_plans_agree_with_brute_force_on_random_data(void **state)
{
    struct fixture *f = *state;
    static const char *const communities[] = {C1, C2, C4};
    struct random_person *people = calloc(RANDOM_PEOPLE, sizeof *people);
    assert_non_null(people);
    struct sqlbuf b = {0};
    int64_t first = last_person(f) + 1;
    for (int i = 0; i < RANDOM_PEOPLE; i++) {
        struct random_person *rp = &people[i];
        rp->id = first + i;
        unsigned year = 1930 + (unsigned)(uniform() * 60), month = 1 + (unsigned)(uniform() * 12),
                 day = 1 + (unsigned)(uniform() * 28);
        snprintf(rp->birth, sizeof rp->birth, "%04u-%02u-%02u", year % 10000u, month % 100u,
                 day % 100u);
        rp->located = uniform() > 0.05;
        rp->home = at(uniform() * BOX_M, uniform() * BOX_M);
        rp->community = communities[(int)(uniform() * 3)];
        person_sql(&b, "随机", rp->birth, rp->located ? &rp->home : NULL, rp->community);
    }
    sql_run(f, &b);
    assert_int_equal(last_person(f), first + RANDOM_PEOPLE - 1);
    struct random_facility fac[RANDOM_FACILITIES];
    for (int k = 0; k < RANDOM_FACILITIES; k++) {
        char name[32];
        snprintf(name, sizeof name, "随机设施%d", k);
        fac[k].p = at(uniform() * BOX_M, uniform() * BOX_M);
        bool closed = k % 10 == 3, other = k % 10 == 7;
        fac[k].counts = !closed && !other;
        int64_t id = add_facility(f, name, C1, fac[k].p, other ? "bathing" : "meals",
                                  closed ? "closed" : NULL);
        struct facility stored; /* its point as the store holds it */
        assert_ok(facilities_get(&f->d, id, &stored, &f->err), &f->err);
        fac[k].p = stored.point;
    }
    struct walk_model m;
    directory_walk_model(&f->d, &m);
    int today = people_today();
    static const double minutes[] = {3, 7.5, 15};
    for (size_t t = 0; t < sizeof minutes / sizeof minutes[0]; t++) {
        int64_t elderly = 0, located = 0, covered = 0, c1_covered = 0;
        int64_t *out_of_reach = calloc(RANDOM_PEOPLE, sizeof *out_of_reach);
        size_t nout = 0;
        for (int i = 0; i < RANDOM_PEOPLE; i++) {
            if (people_age(people[i].birth, today) < 60)
                continue;
            elderly++;
            if (!people[i].located)
                continue;
            located++;
            bool in = brute_reachable(&m, minutes[t], fac, RANDOM_FACILITIES, people[i].home);
            covered += in;
            c1_covered += in && !strcmp(people[i].community, C1);
            if (!in)
                out_of_reach[nout++] = people[i].id;
        }
        assert_true(covered > 0 && nout > 0); /* the case is not trivial */
        struct service_coverage r;
        report(f, &f->admin, minutes[t], 2, NULL, &r);
        assert_int_equal(r.total.elderly, elderly);
        assert_int_equal(r.total.located, located);
        assert_int_equal(r.total.covered, covered);
        assert_int_equal(row_of(&r, C1)->covered, c1_covered);
        service_coverage_free(&r);

        /* The uncovered list, page by page, is exactly the brute-force list. */
        size_t seen = 0;
        int64_t after = 0;
        do {
            struct uncovered_person *items;
            int n;
            linli_err_clear(&f->err);
            assert_ok(directory_uncovered(&f->d, &f->admin, "meals", minutes[t], 60, NULL, after,
                                          37, &items, &n, &after, &f->err),
                      &f->err);
            for (int i = 0; i < n; i++) {
                assert_true(seen < nout);
                assert_int_equal(items[i].id, out_of_reach[seen]);
                const struct random_person *rp = &people[items[i].id - first];
                double best = INFINITY;
                for (int k = 0; k < RANDOM_FACILITIES; k++)
                    if (fac[k].counts)
                        best = fmin(best, geo_distance_m(rp->home, fac[k].p));
                assert_true(fabs(items[i].nearest_m - best) < 1e-6);
                seen++;
            }
            free(items);
        } while (after);
        assert_int_equal(seen, nout);
        free(out_of_reach);
    }

    /* Greedy picks, against a plain greedy over brute-force reach sets. */
    struct site_candidate given[RANDOM_CANDIDATES];
    for (int c = 0; c < RANDOM_CANDIDATES; c++) {
        char label[16];
        snprintf(label, sizeof label, "c%d", c);
        given[c] = candidate(at(uniform() * BOX_M, uniform() * BOX_M), label);
    }
    const double mins = 7.5;
    double radius = m.reach_m(&m, mins);
    bool *done = calloc(RANDOM_PEOPLE, sizeof *done);
    bool *taken = calloc(RANDOM_CANDIDATES, sizeof *taken);
    int64_t before = 0, located = 0;
    for (int i = 0; i < RANDOM_PEOPLE; i++) {
        bool counts = people_age(people[i].birth, today) >= 60 && people[i].located;
        done[i] = !counts || brute_reachable(&m, mins, fac, RANDOM_FACILITIES, people[i].home);
        located += counts;
        before += counts && done[i];
    }
    struct site_plan_request r = {.service = "meals",
                                  .count = 12,
                                  .minutes = mins,
                                  .source = CANDIDATES_GIVEN,
                                  .ncandidates = RANDOM_CANDIDATES,
                                  .candidates = given};
    struct site_plan p;
    plan(f, &f->admin, &r, &p);
    assert_int_equal(p.located, located);
    assert_int_equal(p.covered_before, before);
    int64_t total = before;
    for (int pick = 0; pick < r.count; pick++) {
        int best = -1;
        int64_t best_gain = 0;
        for (int c = 0; c < RANDOM_CANDIDATES; c++) {
            int64_t g = 0;
            for (int i = 0; i < RANDOM_PEOPLE; i++)
                g += !done[i] && geo_distance_m(given[c].point, people[i].home) <= radius &&
                     m.minutes(&m, given[c].point, people[i].home) <= mins;
            if (!taken[c] && g > best_gain) {
                best = c;
                best_gain = g;
            }
        }
        if (best < 0) {
            assert_int_equal(p.npicks, pick);
            break;
        }
        taken[best] = true;
        for (int i = 0; i < RANDOM_PEOPLE; i++)
            if (geo_distance_m(given[best].point, people[i].home) <= radius &&
                m.minutes(&m, given[best].point, people[i].home) <= mins)
                done[i] = true;
        total += best_gain;
        assert_true(pick < p.npicks);
        assert_string_equal(p.picks[pick].c.label, given[best].label);
        assert_int_equal(p.picks[pick].gain, best_gain);
        assert_int_equal(p.picks[pick].covered_after, total);
    }
    site_plan_free(&p);
    free(done);
    free(taken);
    free(people);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(coverage_counts_people_just_inside_and_outside_the_reach,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(coverage_counts_only_what_the_callers_scope_holds, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(coverage_rejects_bad_input_naming_the_field, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_new_facility_raises_coverage_on_the_next_report, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(uncovered_lists_people_out_of_reach_by_id, setup, teardown),
        cmocka_unit_test_setup_teardown(
            plan_picks_the_largest_clusters_then_stops_when_nothing_is_gained, setup, teardown),
        cmocka_unit_test_setup_teardown(plan_breaks_ties_by_the_lower_index_and_repeats_itself,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(plan_from_community_centres_and_from_a_grid, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(plan_is_for_planners_in_scope_and_checks_its_input, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(coverage_and_plans_agree_with_brute_force_on_random_data,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
