/* test_stations.c - the social-work service network (src/domain/stations.c,
 * stations_import.c, support_teams.c)
 * and the reports over it (src/domain/reports.c): validation, permissions,
 * the CSV import's all-or-nothing rule, support-team scope, and the coverage
 * and oversized-community arithmetic, on a real store holding a small
 * district of three streets and five communities. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "support.h"

#include "base/log.h"
#include "base/status.h"
#include "domain/registry.h"
#include "domain/reports.h"
#include "domain/stations.h"
#include "store/store.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DISTRICT "110105000000"
#define JIANWAI  "110105001000" /* street with communities 001001..001003 */
#define CHAOWAI  "110105002000" /* street with communities 002001, 002002 */
#define EMPTY_ST "110105003000" /* a street without communities */
#define C1       "110105001001"
#define C2       "110105001002"
#define C3       "110105001003"
#define C4       "110105002001"
#define C5       "110105002002"

struct fixture {
    char dir[64];
    char db[128];
    struct domain d;
    struct principal admin, district, jianwai, chaowai, community, operator_, resident;
    struct linli_err err;
};

static struct principal as_user(int64_t id, enum role role, const char *scope)
{
    struct principal p;
    memset(&p, 0, sizeof p);
    p.user_id = id;
    p.role = role;
    snprintf(p.username, sizeof p.username, "%s-%lld", role_name(role), (long long)id);
    snprintf(p.scope, sizeof p.scope, "%s", scope ? scope : "");
    snprintf(p.ip, sizeof p.ip, "10.0.0.7");
    return p;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    *state = f;
    if (make_temp_dir("stations", f->dir, sizeof f->dir, "linli.db", f->db, sizeof f->db))
        return -1;
    linli_err_clear(&f->err);
    if (open_domain(&f->d, f->db, NULL, &f->err))
        return -1;
    f->admin = as_user(1, ROLE_ADMIN, NULL);
    f->district = as_user(2, ROLE_DISTRICT, DISTRICT);
    f->jianwai = as_user(3, ROLE_STREET, JIANWAI);
    f->chaowai = as_user(4, ROLE_STREET, CHAOWAI);
    f->community = as_user(5, ROLE_COMMUNITY, C1);
    f->operator_ = as_user(6, ROLE_OPERATOR, JIANWAI);
    f->resident = as_user(7, ROLE_RESIDENT, NULL);
    static const struct area_row rows[] = {
        {DISTRICT, "朝阳区", "", "district"},      {JIANWAI, "建外街道", DISTRICT, "street"},
        {CHAOWAI, "朝外街道", DISTRICT, "street"}, {EMPTY_ST, "空街道", DISTRICT, "street"},
        {C1, "一社区", JIANWAI, "community"},      {C2, "二社区", JIANWAI, "community"},
        {C3, "三社区", JIANWAI, "community"},      {C4, "四社区", CHAOWAI, "community"},
        {C5, "五社区", CHAOWAI, "community"},
    };
    struct principal sys;
    principal_system(&sys, "test");
    struct import_report rep;
    if (registry_import(&f->d, &sys, 2020, rows, sizeof rows / sizeof rows[0], NULL, 0, &rep,
                        &f->err))
        return -1;
    return 0;
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

static struct station_fields fields(const char *name, const char *level, const char *area)
{
    return (struct station_fields){.name = name, .level = level, .area_code = area};
}

static int create(struct fixture *f, const struct principal *who, const char *name,
                  const char *level, const char *area, struct station *out)
{
    struct station_fields in = fields(name, level, area);
    linli_err_clear(&f->err);
    return stations_create(&f->d, who, &in, NULL, out, NULL, &f->err);
}

static int64_t create_ok(struct fixture *f, const char *name, const char *level, const char *area)
{
    struct station s;
    if (create(f, &f->admin, name, level, area, &s))
        fail_msg("create %s: %s", name, f->err.detail);
    return s.id;
}

static json_t *coverage(struct fixture *f, const struct principal *who, const char *street,
                        bool detail)
{
    struct coverage_query q = {street, detail};
    json_t *out = NULL;
    linli_err_clear(&f->err);
    if (reports_station_coverage(&f->d, who, &q, &out, &f->err))
        fail_msg("coverage: %s", f->err.detail);
    return out;
}

static json_t *street_row(json_t *report, const char *code)
{
    size_t i;
    json_t *row;
    json_array_foreach(json_object_get(report, "streets"), i, row)
    {
        if (!strcmp(json_string_value(json_object_get(row, "code")), code))
            return row;
    }
    fail_msg("no street %s in the report", code);
    return NULL;
}

static json_int_t jint(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v))
        fail_msg("%s is not an integer", key);
    return json_integer_value(v);
}

/* ---- validation ---- */

static void check_normalises_area_code_phone_and_defaults(void **state)
{
    (void)state;
    struct station_fields in = fields("建外街道社工站", "street_centre", "110105001");
    in.phone = "+86 138-0013-8000";
    struct station s;
    struct linli_err err;
    linli_err_clear(&err);
    assert_ok(stations_check(&in, &s, &err), &err);
    assert_string_equal(s.area_code, JIANWAI);
    assert_string_equal(s.phone, "13800138000");
    assert_int_equal(s.level, STATION_STREET_CENTRE);
    assert_int_equal(s.staff, 0);
    assert_false(s.has_point);
    assert_string_equal(s.address, "");
}

static void check_reports_every_problem_at_once(void **state)
{
    (void)state;
    char hours[STATION_HOURS_MAX + 2];
    memset(hours, 'h', sizeof hours - 1);
    hours[sizeof hours - 1] = '\0';
    struct station_fields in = {.name = "",
                                .level = "centre",
                                .area_code = "12",
                                .has_point = true,
                                .point = {95, 116},
                                .has_staff = true,
                                .staff = -1,
                                .phone = "12345",
                                .opening_hours = hours};
    struct station s;
    struct linli_err err;
    linli_err_clear(&err);
    assert_int_equal(stations_check(&in, &s, &err), LINLI_EINVAL);
    assert_field_error(&err, "name", "required");
    assert_field_error(&err, "level", "district_centre, street_centre or community_station");
    assert_field_error(&err, "area_code", "6, 9 or 12 digits");
    assert_field_error(&err, "point.lat", "latitude");
    assert_field_error(&err, "staff", "from 0 to");
    assert_field_error(&err, "phone", "mobile");
    assert_field_error(&err, "opening_hours", "at most 128 characters");
    assert_int_equal(err.nfields, 7);
}

static void check_level_must_match_the_area_code(void **state)
{
    (void)state;
    const char *cases[][3] = {
        {"street_centre", C1, "street code"},
        {"district_centre", JIANWAI, "district code"},
        {"community_station", JIANWAI, "community code"},
        {"community_station", "110105", "community code"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct station_fields in = fields("站", cases[i][0], cases[i][1]);
        struct station s;
        struct linli_err err;
        linli_err_clear(&err);
        assert_int_equal(stations_check(&in, &s, &err), LINLI_EINVAL);
        assert_field_error(&err, "area_code", cases[i][2]);
    }
}

static void check_refuses_control_characters_bad_utf8_and_blank_names(void **state)
{
    (void)state;
    const char *bad[][2] = {
        {"a\nb", "control characters"},
        {"\xff\xfe", "UTF-8"},
        {"\xe5\xbb", "UTF-8"}, /* a cut sequence */
        {"\xc0\xaf", "UTF-8"}, /* overlong */
        {"   ", "blank"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct station_fields in = fields(bad[i][0], "street_centre", JIANWAI);
        struct station s;
        struct linli_err err;
        linli_err_clear(&err);
        assert_int_equal(stations_check(&in, &s, &err), LINLI_EINVAL);
        assert_field_error(&err, "name", bad[i][1]);
    }
    /* 64 Chinese characters are 64 characters, not 192 bytes. */
    char name[64 * 3 + 1] = "";
    for (int i = 0; i < 64; i++)
        strcat(name, "站");
    struct station_fields in = fields(name, "street_centre", JIANWAI);
    struct station s;
    struct linli_err err;
    linli_err_clear(&err);
    assert_ok(stations_check(&in, &s, &err), &err);
}

static void check_point_must_lie_in_china(void **state)
{
    (void)state;
    struct station_fields in = fields("站", "street_centre", JIANWAI);
    in.has_point = true;
    in.point = (struct geo_point){39.9, 16.4}; /* a typo'd longitude: Europe */
    struct station s;
    struct linli_err err;
    linli_err_clear(&err);
    assert_int_equal(stations_check(&in, &s, &err), LINLI_EINVAL);
    assert_field_error(&err, "point", "China");
    in.point = (struct geo_point){NAN, 116.4};
    linli_err_clear(&err);
    assert_int_equal(stations_check(&in, &s, &err), LINLI_EINVAL);
    assert_field_error(&err, "point.lat", "latitude");
}

/* ---- create and change ---- */

static void create_needs_a_current_area_of_the_right_level(void **state)
{
    struct fixture *f = *state;
    struct station s;
    assert_int_equal(create(f, &f->admin, "无", "street_centre", "110105009", &s), LINLI_EINVAL);
    assert_field_error(&f->err, "area_code", "no area");
    /* Retire C5 by splitting it. */
    struct area_row parts[] = {{"110105002011", "五甲社区", "", ""},
                               {"110105002012", "五乙社区", "", ""}};
    linli_err_clear(&f->err);
    assert_ok(registry_split(&f->d, &f->admin, C5, 2023, parts, 2, &f->err), &f->err);
    assert_int_equal(create(f, &f->admin, "五社区站", "community_station", C5, &s), LINLI_EINVAL);
    assert_field_error(&f->err, "area_code", "retired in 2023");
    assert_int_equal(sql_int(f->d.store, "SELECT count(*) FROM stations", NULL), 0);
}

static void create_is_for_admins_and_staff_within_scope(void **state)
{
    struct fixture *f = *state;
    struct station s;
    int64_t audits = sql_int(f->d.store, "SELECT count(*) FROM audit_log", NULL);
    const struct principal *refused[] = {&f->community, &f->operator_, &f->resident};
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(create(f, refused[i], "站", "community_station", C1, &s),
                         LINLI_EFORBIDDEN);
    /* A street's staff work in their own street only. */
    assert_int_equal(create(f, &f->chaowai, "站", "community_station", C1, &s), LINLI_EFORBIDDEN);
    assert_int_equal(create(f, &f->jianwai, "区中心", "district_centre", DISTRICT, &s),
                     LINLI_EFORBIDDEN);
    assert_int_equal(sql_int(f->d.store, "SELECT count(*) FROM stations", NULL), 0);
    assert_int_equal(sql_int(f->d.store, "SELECT count(*) FROM audit_log", NULL), audits);

    assert_ok(create(f, &f->jianwai, "一社区站", "community_station", C1, &s), &f->err);
    assert_string_equal(s.area_name, "一社区");
    assert_true(s.area_current);
    assert_ok(create(f, &f->district, "朝外站", "street_centre", CHAOWAI, &s), &f->err);
    assert_int_equal(
        sql_int(f->d.store, "SELECT count(*) FROM audit_log WHERE action = 'station.create'", NULL),
        2);
}

static void create_same_area_level_and_name_conflicts(void **state)
{
    struct fixture *f = *state;
    create_ok(f, "一社区站", "community_station", C1);
    struct station s;
    assert_int_equal(create(f, &f->admin, "一社区站", "community_station", C1, &s),
                     LINLI_ECONFLICT);
    /* Another name in the same community is fine: a community may have two. */
    assert_ok(create(f, &f->admin, "一社区第二站", "community_station", C1, &s), &f->err);
}

static void update_checks_the_merged_station_and_both_scopes(void **state)
{
    struct fixture *f = *state;
    int64_t id = create_ok(f, "一社区站", "community_station", C1);
    struct station s;
    /* Changing the level alone leaves a community code under a street centre. */
    struct station_patch p = {.set_level = true, .v = {.level = "street_centre"}};
    linli_err_clear(&f->err);
    assert_int_equal(stations_update(&f->d, &f->admin, id, &p, &s, &f->err), LINLI_EINVAL);
    assert_field_error(&f->err, "area_code", "street code");
    /* Moving it into another street is beyond a street's staff. */
    p = (struct station_patch){.set_area_code = true, .v = {.area_code = C4}};
    linli_err_clear(&f->err);
    assert_int_equal(stations_update(&f->d, &f->jianwai, id, &p, &s, &f->err), LINLI_EFORBIDDEN);
    linli_err_clear(&f->err);
    assert_int_equal(stations_update(&f->d, &f->chaowai, id, &p, &s, &f->err), LINLI_EFORBIDDEN);
    /* Staff, phone and point change; clearing the point works. */
    p = (struct station_patch){
        .set_staff = true,
        .set_phone = true,
        .set_point = true,
        .v = {.staff = 4, .phone = "010-6500 1234", .has_point = true, .point = {39.91, 116.45}}};
    linli_err_clear(&f->err);
    assert_ok(stations_update(&f->d, &f->jianwai, id, &p, &s, &f->err), &f->err);
    assert_int_equal(s.staff, 4);
    assert_string_equal(s.phone, "01065001234");
    assert_true(s.has_point);
    p = (struct station_patch){.set_point = true, .v = {.has_point = false}};
    linli_err_clear(&f->err);
    assert_ok(stations_update(&f->d, &f->admin, id, &p, &s, &f->err), &f->err);
    assert_false(s.has_point);
    assert_int_equal(s.staff, 4);
    linli_err_clear(&f->err);
    assert_int_equal(stations_update(&f->d, &f->admin, 999, &p, &s, &f->err), LINLI_ENOTFOUND);
    assert_int_equal(
        sql_int(f->d.store, "SELECT count(*) FROM audit_log WHERE action = 'station.update'", NULL),
        2);
}

/* ---- coverage ---- */

static void coverage_share_and_target_arithmetic(void **state)
{
    (void)state;
    assert_true(fabs(coverage_share(2, 9) - 2.0 / 9.0) < 1e-12);
    assert_true(coverage_share(0, 0) < 0);
    assert_true(coverage_share(3, 3) == 1.0);
    struct coverage_totals t = {.districts = 1,
                                .districts_with_centre = 1,
                                .streets = 2,
                                .streets_with_centre = 2,
                                .communities = 5,
                                .communities_served = 5};
    assert_true(coverage_met(&t, REPORT_COVERAGE_TARGET));
    t.communities_served = 4;
    assert_false(coverage_met(&t, REPORT_COVERAGE_TARGET));
    assert_true(coverage_met(&t, 0.8));
    t.communities_served = 5;
    t.streets_with_centre = 1;
    assert_false(coverage_met(&t, REPORT_COVERAGE_TARGET));
    /* Nothing to cover at a level passes that level. */
    struct coverage_totals none = {0};
    assert_true(coverage_met(&none, REPORT_COVERAGE_TARGET));
}

static void coverage_counts_served_communities_per_street(void **state)
{
    struct fixture *f = *state;
    int64_t centre = create_ok(f, "建外社工站", "street_centre", JIANWAI);
    int64_t s1 = create_ok(f, "一社区站", "community_station", C1);
    int64_t s2 = create_ok(f, "二社区站", "community_station", C2);
    int64_t s2b = create_ok(f, "二社区第二站", "community_station", C2);
    json_t *r = coverage(f, &f->admin, NULL, false);
    json_t *t = json_object_get(r, "totals");
    assert_int_equal(jint(t, "streets"), 3);
    assert_int_equal(jint(t, "streets_with_centre"), 1);
    assert_int_equal(jint(t, "communities"), 5);
    assert_int_equal(jint(t, "communities_served"), 2);
    assert_true(fabs(json_real_value(json_object_get(t, "coverage")) - 0.4) < 1e-12);
    assert_false(json_is_true(json_object_get(r, "met")));
    assert_true(json_real_value(json_object_get(r, "target")) == 1.0);
    json_t *jw = street_row(r, JIANWAI);
    assert_true(json_is_true(json_object_get(jw, "has_centre")));
    assert_int_equal(json_integer_value(json_array_get(json_object_get(jw, "centre_ids"), 0)),
                     centre);
    assert_int_equal(jint(jw, "communities_total"), 3);
    assert_int_equal(jint(jw, "communities_served"), 2);
    assert_true(fabs(json_real_value(json_object_get(jw, "coverage")) - 2.0 / 3.0) < 1e-12);
    assert_null(json_object_get(jw, "communities")); /* no detail unless asked */
    json_t *empty = street_row(r, EMPTY_ST);
    assert_true(json_is_null(json_object_get(empty, "coverage")));
    json_decref(r);

    r = coverage(f, &f->admin, JIANWAI, false); /* a street brings the detail */
    json_t *list = json_object_get(street_row(r, JIANWAI), "communities");
    assert_int_equal(json_array_size(list), 3);
    json_t *c2 = json_array_get(list, 1);
    assert_string_equal(json_string_value(json_object_get(c2, "code")), C2);
    assert_true(json_is_true(json_object_get(c2, "served")));
    json_t *ids = json_object_get(c2, "station_ids");
    assert_int_equal(json_array_size(ids), 2);
    assert_int_equal(json_integer_value(json_array_get(ids, 0)), s2);
    assert_int_equal(json_integer_value(json_array_get(ids, 1)), s2b);
    assert_false(json_is_true(json_object_get(json_array_get(list, 2), "served")));
    assert_int_equal(json_array_size(json_object_get(r, "streets")), 1);
    assert_int_equal(json_array_size(json_object_get(r, "districts")), 0);
    (void)s1;
    json_decref(r);
}

static void coverage_met_when_every_area_is_served(void **state)
{
    struct fixture *f = *state;
    create_ok(f, "区指导中心", "district_centre", DISTRICT);
    const char *streets[] = {JIANWAI, CHAOWAI, EMPTY_ST};
    const char *communities[] = {C1, C2, C3, C4, C5};
    char name[32];
    for (int i = 0; i < 3; i++) {
        snprintf(name, sizeof name, "街道站%d", i);
        create_ok(f, name, "street_centre", streets[i]);
    }
    for (int i = 0; i < 4; i++) {
        snprintf(name, sizeof name, "社区站%d", i);
        create_ok(f, name, "community_station", communities[i]);
    }
    json_t *r = coverage(f, &f->district, NULL, false);
    assert_false(json_is_true(json_object_get(r, "met")));
    json_decref(r);
    create_ok(f, "社区站4", "community_station", communities[4]);
    r = coverage(f, &f->district, NULL, false);
    assert_true(json_is_true(json_object_get(r, "met")));
    assert_true(json_real_value(json_object_get(json_object_get(r, "totals"), "coverage")) == 1.0);
    json_decref(r);
}

static void coverage_ignores_stations_of_retired_communities(void **state)
{
    struct fixture *f = *state;
    create_ok(f, "五社区站", "community_station", C5);
    struct area_row parts[] = {{"110105002011", "五甲社区", "", ""},
                               {"110105002012", "五乙社区", "", ""}};
    linli_err_clear(&f->err);
    assert_ok(registry_split(&f->d, &f->admin, C5, 2023, parts, 2, &f->err), &f->err);
    json_t *r = coverage(f, &f->admin, CHAOWAI, false);
    json_t *cw = street_row(r, CHAOWAI);
    assert_int_equal(jint(cw, "communities_total"), 3); /* C4 and the two parts */
    assert_int_equal(jint(cw, "communities_served"), 0);
    json_decref(r);
}

static void coverage_is_limited_to_the_callers_scope(void **state)
{
    struct fixture *f = *state;
    create_ok(f, "一社区站", "community_station", C1);
    json_t *r = coverage(f, &f->jianwai, NULL, false);
    assert_int_equal(json_array_size(json_object_get(r, "streets")), 1);
    assert_int_equal(json_array_size(json_object_get(r, "districts")), 0);
    assert_string_equal(json_string_value(json_object_get(r, "scope")), JIANWAI);
    json_decref(r);
    /* A community's staff see their community only. */
    r = coverage(f, &f->community, JIANWAI, false);
    json_t *jw = street_row(r, JIANWAI);
    assert_int_equal(jint(jw, "communities_total"), 1);
    assert_int_equal(jint(jw, "communities_served"), 1);
    json_decref(r);

    struct coverage_query q = {CHAOWAI, false};
    json_t *out = NULL;
    linli_err_clear(&f->err);
    assert_int_equal(reports_station_coverage(&f->d, &f->jianwai, &q, &out, &f->err),
                     LINLI_EFORBIDDEN);
    linli_err_clear(&f->err);
    assert_int_equal(reports_station_coverage(&f->d, &f->resident, &q, &out, &f->err),
                     LINLI_EFORBIDDEN);
    q.street = "110105009000";
    linli_err_clear(&f->err);
    assert_int_equal(reports_station_coverage(&f->d, &f->admin, &q, &out, &f->err),
                     LINLI_ENOTFOUND);
    assert_null(out);
}

/* ---- oversized communities ---- */

static void oversized_lists_largest_first_and_counts_unknowns(void **state)
{
    struct fixture *f = *state;
    struct area a;
    linli_err_clear(&f->err);
    assert_ok(registry_set_counts(&f->d, &f->admin, C1, 3500, 9000, 2000, &a, &f->err), &f->err);
    assert_ok(registry_set_counts(&f->d, &f->admin, C4, 4200, -1, -1, &a, &f->err), &f->err);
    assert_ok(registry_set_counts(&f->d, &f->admin, C2, 3000, -1, -1, &a, &f->err), &f->err);
    assert_ok(registry_set_counts(&f->d, &f->admin, C3, 120, -1, -1, &a, &f->err), &f->err);
    struct oversized_query q = {REPORT_OVERSIZED_HOUSEHOLDS, NULL};
    json_t *r = NULL;
    assert_ok(reports_oversized_communities(&f->d, &f->district, &q, &r, &f->err), &f->err);
    json_t *items = json_object_get(r, "items");
    assert_int_equal(json_array_size(items), 2); /* 3000 is not more than 3000 */
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "code")), C4);
    json_t *first = json_array_get(items, 1);
    assert_string_equal(json_string_value(json_object_get(first, "code")), C1);
    assert_int_equal(jint(first, "households"), 3500);
    assert_int_equal(jint(first, "elderly"), 2000);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(first, "street"), "code")), JIANWAI);
    assert_true(json_is_null(json_object_get(json_array_get(items, 0), "residents")));
    assert_int_equal(jint(r, "unknown_households"), 1); /* C5 */
    assert_int_equal(jint(r, "communities_total"), 5);
    json_decref(r);
    /* A street's staff see their street; the threshold moves. */
    q.households = 100;
    assert_ok(reports_oversized_communities(&f->d, &f->jianwai, &q, &r, &f->err), &f->err);
    assert_int_equal(json_array_size(json_object_get(r, "items")), 3);
    assert_int_equal(jint(r, "unknown_households"), 0);
    json_decref(r);
}

/* ---- import ---- */

static struct station_import_row row(long line, const char *name, const char *level,
                                     const char *area)
{
    return (struct station_import_row){line, fields(name, level, area)};
}

static void import_with_a_bad_row_writes_nothing(void **state)
{
    struct fixture *f = *state;
    struct station_import_row rows[] = {
        row(2, "建外站", "street_centre", JIANWAI),
        row(3, "一社区站", "community_station", "110105001"), /* a street code */
        row(4, "二社区站", "community_station", C2),
        row(5, "幽灵站", "community_station", "110105001099"), /* no such community */
        row(6, "建外站", "street_centre", JIANWAI),            /* line 2 again */
    };
    rows[2].f.phone = "999";
    struct station_import_opts o = {.source = "test.csv"};
    struct station_import_report rep;
    int64_t audits = sql_int(f->d.store, "SELECT count(*) FROM audit_log", NULL);
    linli_err_clear(&f->err);
    assert_int_equal(stations_import(&f->d, &f->admin, rows, 5, &o, &rep, &f->err), LINLI_EINVAL);
    assert_int_equal(rep.bad, 4);
    assert_int_equal(rep.nerrors, 4);
    assert_int_equal(rep.errors[0].line, 3);
    assert_string_equal(rep.errors[0].field, "area_code");
    assert_int_equal(rep.errors[1].line, 4);
    assert_string_equal(rep.errors[1].field, "phone");
    assert_int_equal(rep.errors[2].line, 5);
    assert_contains(rep.errors[2].message, "no area");
    assert_int_equal(rep.errors[3].line, 6);
    assert_contains(rep.errors[3].message, "same station as line 2");
    stations_import_report_free(&rep);
    assert_int_equal(sql_int(f->d.store, "SELECT count(*) FROM stations", NULL), 0);
    assert_int_equal(sql_int(f->d.store, "SELECT count(*) FROM audit_log", NULL), audits);

    /* --skip-bad: the good row goes in; the counts are audited. */
    o.skip_bad = true;
    o.bad_before = 1; /* an unreadable line the caller already refused */
    linli_err_clear(&f->err);
    assert_ok(stations_import(&f->d, &f->admin, rows, 5, &o, &rep, &f->err), &f->err);
    assert_int_equal(rep.added, 1);
    assert_int_equal(rep.bad, 5);
    stations_import_report_free(&rep);
    assert_int_equal(sql_int(f->d.store, "SELECT count(*) FROM stations", NULL), 1);
    assert_int_equal(sql_int(f->d.store,
                             "SELECT count(*) FROM audit_log WHERE action = 'station.import'"
                             " AND detail LIKE '%\"added\":1%' AND detail LIKE '%\"skipped\":5%'",
                             NULL),
                     1);
}

static void import_again_updates_and_leaves_the_same_rows_alone(void **state)
{
    struct fixture *f = *state;
    struct station_import_row rows[] = {
        row(2, "建外站", "street_centre", JIANWAI),
        row(3, "一社区站", "community_station", C1),
    };
    struct station_import_opts o = {0};
    struct station_import_report rep;
    linli_err_clear(&f->err);
    assert_ok(stations_import(&f->d, &f->admin, rows, 2, &o, &rep, &f->err), &f->err);
    assert_int_equal(rep.added, 2);
    stations_import_report_free(&rep);
    rows[1].f.has_staff = true;
    rows[1].f.staff = 3;
    assert_ok(stations_import(&f->d, &f->admin, rows, 2, &o, &rep, &f->err), &f->err);
    assert_int_equal(rep.added, 0);
    assert_int_equal(rep.updated, 1);
    assert_int_equal(rep.unchanged, 1);
    stations_import_report_free(&rep);
    assert_int_equal(
        sql_int(f->d.store, "SELECT staff FROM stations WHERE area_code = '" C1 "'", NULL), 3);
    /* A dry run counts without writing. */
    rows[1].f.staff = 5;
    o.dry_run = true;
    assert_ok(stations_import(&f->d, &f->admin, rows, 2, &o, &rep, &f->err), &f->err);
    assert_int_equal(rep.updated, 1);
    stations_import_report_free(&rep);
    assert_int_equal(
        sql_int(f->d.store, "SELECT staff FROM stations WHERE area_code = '" C1 "'", NULL), 3);
}

static void import_refuses_rows_outside_the_callers_scope(void **state)
{
    struct fixture *f = *state;
    struct station_import_row rows[] = {row(2, "朝外站", "street_centre", CHAOWAI)};
    struct station_import_opts o = {0};
    struct station_import_report rep;
    linli_err_clear(&f->err);
    assert_int_equal(stations_import(&f->d, &f->jianwai, rows, 1, &o, &rep, &f->err), LINLI_EINVAL);
    assert_int_equal(rep.nerrors, 1);
    assert_contains(rep.errors[0].message, "outside your scope");
    stations_import_report_free(&rep);
    linli_err_clear(&f->err);
    assert_int_equal(stations_import(&f->d, &f->community, rows, 1, &o, &rep, &f->err),
                     LINLI_EFORBIDDEN);
    stations_import_report_free(&rep);
}

/* ---- support teams ---- */

static void teams_assign_within_scope_and_replace_the_set(void **state)
{
    struct fixture *f = *state;
    const char *mine[] = {C1, "110105001002"};
    struct team_fields in = {.name = "社区律师团",
                             .kind = "lawyer",
                             .contact_phone = "13900139000",
                             .has_members = true,
                             .members = 4,
                             .communities = mine,
                             .ncommunities = 2,
                             .set_communities = true};
    struct support_team t;
    linli_err_clear(&f->err);
    assert_ok(support_teams_create(&f->d, &f->jianwai, &in, NULL, &t, NULL, &f->err), &f->err);
    int64_t id = t.id;
    assert_int_equal(t.ncommunities, 2);
    support_teams_release(&t, 1);

    /* Another street's staff cannot touch it, nor add their community. */
    const char *theirs[] = {C4};
    linli_err_clear(&f->err);
    assert_int_equal(support_teams_assign(&f->d, &f->chaowai, id, theirs, 1, &t, &f->err),
                     LINLI_EFORBIDDEN);
    linli_err_clear(&f->err);
    assert_int_equal(support_teams_assign(&f->d, &f->jianwai, id, theirs, 1, &t, &f->err),
                     LINLI_EFORBIDDEN);
    /* Unknown, non-community and repeated codes are field errors. */
    const char *bad[] = {"110105001099", JIANWAI, C3, C3};
    linli_err_clear(&f->err);
    assert_int_equal(support_teams_assign(&f->d, &f->jianwai, id, bad, 4, &t, &f->err),
                     LINLI_EINVAL);
    assert_field_error(&f->err, "communities[1]", "community code");
    assert_field_error(&f->err, "communities[3]", "twice");
    const char *unknown[] = {"110105001099"};
    linli_err_clear(&f->err);
    assert_int_equal(support_teams_assign(&f->d, &f->jianwai, id, unknown, 1, &t, &f->err),
                     LINLI_EINVAL);
    assert_field_error(&f->err, "communities[0]", "no area");

    const char *next[] = {C3, C2};
    linli_err_clear(&f->err);
    assert_ok(support_teams_assign(&f->d, &f->jianwai, id, next, 2, &t, &f->err), &f->err);
    assert_int_equal(t.ncommunities, 2);
    assert_string_equal(t.communities[0], C2);
    assert_string_equal(t.communities[1], C3);
    support_teams_release(&t, 1);
    assert_int_equal(sql_int(f->d.store, "SELECT count(*) FROM support_assignments", NULL), 2);

    /* Once it also serves another street, only district staff may change it. */
    const char *wide[] = {C2, C4};
    linli_err_clear(&f->err);
    assert_ok(support_teams_assign(&f->d, &f->district, id, wide, 2, &t, &f->err), &f->err);
    support_teams_release(&t, 1);
    struct team_patch p = {.set_members = true, .v = {.has_members = true, .members = 9}};
    linli_err_clear(&f->err);
    assert_int_equal(support_teams_update(&f->d, &f->jianwai, id, &p, &t, &f->err),
                     LINLI_EFORBIDDEN);
    linli_err_clear(&f->err);
    assert_ok(support_teams_update(&f->d, &f->district, id, &p, &t, &f->err), &f->err);
    assert_int_equal(t.members, 9);
    support_teams_release(&t, 1);

    /* Reads: staff only; the filter by community. */
    struct support_team *items;
    int n;
    int64_t nextid;
    struct team_filter tf = {.community = C4, .limit = 10};
    linli_err_clear(&f->err);
    assert_ok(support_teams_list(&f->d, &f->operator_, &tf, &items, &n, &nextid, &f->err), &f->err);
    assert_int_equal(n, 1);
    support_teams_release(items, n);
    free(items);
    tf.community = C1;
    assert_ok(support_teams_list(&f->d, &f->operator_, &tf, &items, &n, &nextid, &f->err), &f->err);
    assert_int_equal(n, 0);
    free(items);
    linli_err_clear(&f->err);
    assert_int_equal(support_teams_list(&f->d, &f->resident, &tf, &items, &n, &nextid, &f->err),
                     LINLI_EFORBIDDEN);
    assert_int_equal(sql_int(f->d.store,
                             "SELECT count(*) FROM audit_log WHERE action LIKE 'support_team.%'",
                             NULL),
                     4);
}

static void teams_check_kind_phone_and_members(void **state)
{
    struct fixture *f = *state;
    struct team_fields in = {
        .name = "", .kind = "doctor", .contact_phone = "12", .has_members = true, .members = -1};
    struct support_team t;
    linli_err_clear(&f->err);
    assert_int_equal(support_teams_create(&f->d, &f->admin, &in, NULL, &t, NULL, &f->err),
                     LINLI_EINVAL);
    assert_field_error(&f->err, "name", "required");
    assert_field_error(&f->err, "kind", "planner, lawyer, property, counsellor or social_org");
    assert_field_error(&f->err, "contact_phone", "mobile");
    assert_field_error(&f->err, "members", "from 0");
    assert_int_equal(sql_int(f->d.store, "SELECT count(*) FROM support_teams", NULL), 0);
}

int main(void)
{
    log_set_level(LOG_WARN); /* keep migrations out of the output */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(check_normalises_area_code_phone_and_defaults),
        cmocka_unit_test(check_reports_every_problem_at_once),
        cmocka_unit_test(check_level_must_match_the_area_code),
        cmocka_unit_test(check_refuses_control_characters_bad_utf8_and_blank_names),
        cmocka_unit_test(check_point_must_lie_in_china),
        cmocka_unit_test(coverage_share_and_target_arithmetic),
        cmocka_unit_test_setup_teardown(create_needs_a_current_area_of_the_right_level, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(create_is_for_admins_and_staff_within_scope, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(create_same_area_level_and_name_conflicts, setup, teardown),
        cmocka_unit_test_setup_teardown(update_checks_the_merged_station_and_both_scopes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(coverage_counts_served_communities_per_street, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(coverage_met_when_every_area_is_served, setup, teardown),
        cmocka_unit_test_setup_teardown(coverage_ignores_stations_of_retired_communities, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(coverage_is_limited_to_the_callers_scope, setup, teardown),
        cmocka_unit_test_setup_teardown(oversized_lists_largest_first_and_counts_unknowns, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(import_with_a_bad_row_writes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(import_again_updates_and_leaves_the_same_rows_alone, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(import_refuses_rows_outside_the_callers_scope, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(teams_assign_within_scope_and_replace_the_set, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(teams_check_kind_phone_and_members, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
