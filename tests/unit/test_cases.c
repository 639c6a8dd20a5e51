/* test_cases.c - the case module (src/domain/cases*.c): the state machine,
 * numbers, deadlines and routing as pure rules; then, on a real store holding
 * a small district (two streets, three communities with centre points), the
 * whole workflow with who may do what, privacy per role, the scheduler's
 * due-soon / overdue / escalation / auto-close with explicit times, the
 * whistle and report-ins, ratings, nearby search and volunteer teams. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "support.h"

#include "base/bus.h"
#include "base/clock.h"
#include "base/log.h"
#include "domain/cases.h"
#include "domain/registry.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DISTRICT "110105000000"
#define JIANWAI  "110105001000"
#define CHAOWAI  "110105002000"
#define C1       "110105001001" /* centre 39.900, 116.450 */
#define C2       "110105001002" /* centre 39.900, 116.470 */
#define C3       "110105002001" /* centre 39.930, 116.450 */

#define MIN_MS  60000LL
#define HOUR_MS (60 * MIN_MS)
#define DAY_MS  (24 * HOUR_MS)
/* 2026-11-25T02:00:00Z = 10:00 in Beijing */
#define T0 1795572000000LL

struct fixture {
    char dir[64];
    char db[128];
    struct domain d;
    struct principal sys, admin, district, jianwai, chaowai, c1, c2, resident, other, volunteer,
        dept, auditor;
    struct linli_err err;
    int published;
    char last_topic[64];
};

enum {
    U_ADMIN = 1,
    U_DISTRICT,
    U_JIANWAI,
    U_CHAOWAI,
    U_C1,
    U_C2,
    U_RESIDENT,
    U_OTHER,
    U_VOLUNTEER,
    U_DEPT,
    U_AUDITOR
};

static struct principal as_user(int64_t id, enum role role, const char *scope)
{
    struct principal p;
    memset(&p, 0, sizeof p);
    p.user_id = id;
    p.role = role;
    snprintf(p.username, sizeof p.username, "%s-%lld", role_name(role), (long long)id);
    snprintf(p.scope, sizeof p.scope, "%s", scope ? scope : "");
    snprintf(p.ip, sizeof p.ip, "10.0.0.9");
    return p;
}

static void on_event(const char *topic, json_t *payload, void *ctx)
{
    (void)payload;
    struct fixture *f = ctx;
    f->published++;
    snprintf(f->last_topic, sizeof f->last_topic, "%s", topic);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    *state = f;
    if (make_temp_dir("cases", f->dir, sizeof f->dir, "linli.db", f->db, sizeof f->db))
        return -1;
    linli_err_clear(&f->err);
    if (open_domain(&f->d, f->db, NULL, &f->err))
        return -1;
    f->d.bus = bus_new();
    bus_subscribe(f->d.bus, "case.", on_event, f);
    principal_system(&f->sys, "test");
    f->admin = as_user(U_ADMIN, ROLE_ADMIN, NULL);
    f->district = as_user(U_DISTRICT, ROLE_DISTRICT, DISTRICT);
    f->jianwai = as_user(U_JIANWAI, ROLE_STREET, JIANWAI);
    f->chaowai = as_user(U_CHAOWAI, ROLE_STREET, CHAOWAI);
    f->c1 = as_user(U_C1, ROLE_COMMUNITY, C1);
    f->c2 = as_user(U_C2, ROLE_COMMUNITY, C2);
    f->resident = as_user(U_RESIDENT, ROLE_RESIDENT, NULL);
    f->other = as_user(U_OTHER, ROLE_RESIDENT, NULL);
    f->volunteer = as_user(U_VOLUNTEER, ROLE_VOLUNTEER, NULL);
    f->dept = as_user(U_DEPT, ROLE_DISTRICT, DISTRICT);
    f->auditor = as_user(U_AUDITOR, ROLE_AUDITOR, DISTRICT);
    static const struct area_row rows[] = {
        {DISTRICT, "朝阳区", "", "district"},      {JIANWAI, "建外街道", DISTRICT, "street"},
        {CHAOWAI, "朝外街道", DISTRICT, "street"}, {C1, "一社区", JIANWAI, "community"},
        {C2, "二社区", JIANWAI, "community"},      {C3, "三社区", CHAOWAI, "community"},
    };
    static const struct area_point pts[] = {
        {C1, {39.900, 116.450}, "wgs84", "test"},
        {C2, {39.900, 116.470}, "wgs84", "test"},
        {C3, {39.930, 116.450}, "wgs84", "test"},
    };
    struct import_report rep;
    if (registry_import(&f->d, &f->sys, 2020, rows, 6, pts, 3, &rep, &f->err))
        return -1;
    sql_exec(f->d.store,
             "INSERT INTO users (id, username, display_name, role, scope, created_at, updated_at)"
             " VALUES (1, 'admin', '', 'admin', NULL, 0, 0),"
             " (2, 'district', '', 'district', '110105000000', 0, 0),"
             " (3, 'jianwai', '', 'street', '110105001000', 0, 0),"
             " (4, 'chaowai', '', 'street', '110105002000', 0, 0),"
             " (5, 'c1', '', 'community', '110105001001', 0, 0),"
             " (6, 'c2', '', 'community', '110105001002', 0, 0),"
             " (7, 'resident', '王芳', 'resident', NULL, 0, 0),"
             " (8, 'other', '', 'resident', NULL, 0, 0),"
             " (9, 'volunteer', '李强', 'volunteer', NULL, 0, 0),"
             " (10, 'dept', '', 'district', '110105000000', 0, 0),"
             " (11, 'auditor', '', 'auditor', '110105000000', 0, 0)");
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

static struct case_in snap(const char *category, const char *area, int64_t at)
{
    return (struct case_in){
        .category = category, .area_code = area, .at = at, .description = "楼道里堆满了纸箱"};
}

static struct case_record *rec(void)
{
    struct case_record *r = calloc(1, sizeof *r);
    assert_non_null(r);
    return r;
}

static int64_t create_as(struct fixture *f, const struct principal *who, struct case_in in)
{
    struct case_record *r = rec();
    linli_err_clear(&f->err);
    assert_ok(cases_create(&f->d, who, &in, NULL, r, NULL, &f->err), &f->err);
    int64_t id = r->id;
    free(r);
    return id;
}

static int move(struct fixture *f, const struct principal *who, int64_t id, const char *to,
                const char *note, int64_t at)
{
    struct case_transition_in in = {.to = to, .note = note, .at = at};
    struct case_record *r = rec();
    linli_err_clear(&f->err);
    int rc = cases_transition(&f->d, who, id, &in, r, &f->err);
    free(r);
    return rc;
}

static void move_ok(struct fixture *f, const struct principal *who, int64_t id, const char *to,
                    int64_t at)
{
    assert_ok(move(f, who, id, to, "处理说明", at), &f->err);
}

static void load(struct fixture *f, const struct principal *who, int64_t id, struct case_record *r)
{
    linli_err_clear(&f->err);
    assert_ok(cases_get(&f->d, who, id, r, &f->err), &f->err);
}

static int64_t count(struct fixture *f, const char *sql, const char *param)
{
    return sql_int(f->d.store, sql, param);
}

/* ---- pure rules ---- */

static void state_machine_allows_exactly_the_workflow(void **state)
{
    (void)state;
    const unsigned H = CASE_BY_HANDLER | CASE_BY_SYSTEM, R = CASE_BY_REPORTER | CASE_BY_SYSTEM;
    unsigned want[CASE_STATES][CASE_STATES] = {0};
    want[CASE_SUBMITTED][CASE_ACCEPTED] = H;
    want[CASE_SUBMITTED][CASE_REJECTED] = H;
    want[CASE_SUBMITTED][CASE_DUPLICATE] = H;
    want[CASE_ACCEPTED][CASE_DISPATCHED] = H;
    want[CASE_ACCEPTED][CASE_REJECTED] = H;
    want[CASE_ACCEPTED][CASE_DUPLICATE] = H;
    want[CASE_DISPATCHED][CASE_IN_PROGRESS] = H;
    want[CASE_IN_PROGRESS][CASE_RESOLVED] = H;
    want[CASE_RESOLVED][CASE_CLOSED] = R;
    want[CASE_RESOLVED][CASE_IN_PROGRESS] = R;
    for (int from = 0; from < CASE_STATES; from++)
        for (int to = 0; to < CASE_STATES; to++)
            if (case_transition_allowed(from, to) != want[from][to])
                fail_msg("%s -> %s: %u, want %u", case_state_name(from), case_state_name(to),
                         case_transition_allowed(from, to), want[from][to]);
    assert_int_equal(case_transition_allowed(-1, 0), 0);
    assert_int_equal(case_transition_allowed(0, CASE_STATES), 0);
    for (int s = 0; s < CASE_STATES; s++) {
        int back;
        assert_int_equal(case_state_parse(case_state_name(s), &back), 0);
        assert_int_equal(back, s);
    }
    assert_string_equal(case_state_open311(CASE_RESOLVED), "open");
    assert_string_equal(case_state_open311(CASE_DUPLICATE), "closed");
}

static void numbers_are_the_beijing_date_and_a_daily_sequence(void **state)
{
    (void)state;
    char n[CASE_NUMBER_SIZE];
    case_number_format(T0, 123, n);
    assert_string_equal(n, "2026112500123");
    /* 16:30 UTC is already the next day in Beijing */
    case_number_format(T0 + 14 * HOUR_MS + 30 * MIN_MS, 1, n);
    assert_string_equal(n, "2026112600001");
    case_number_format(T0, 123456, n);
    assert_string_equal(n, "20261125123456");
    assert_int_equal(case_local_day(T0 - 10 * HOUR_MS), 20261125);
    assert_int_equal(case_local_day(T0 - 10 * HOUR_MS - 1), 20261124);
}

static void deadline_classes_carry_beijings_limits(void **state)
{
    (void)state;
    assert_int_equal(deadline_class_resolve_minutes(DEADLINE_EMERGENCY), 120);
    assert_int_equal(deadline_class_resolve_minutes(DEADLINE_UTILITIES), 24 * 60);
    assert_int_equal(deadline_class_resolve_minutes(DEADLINE_GENERAL), 7 * 24 * 60);
    assert_int_equal(deadline_class_resolve_minutes(DEADLINE_COMPLEX), 15 * 24 * 60);
    assert_true(deadline_class_response_minutes(DEADLINE_EMERGENCY) <
                deadline_class_resolve_minutes(DEADLINE_EMERGENCY));
    /* due soon: 2 hours before a long limit, 10% before a short one */
    assert_int_equal(case_due_soon_at(T0, 7 * DAY_MS), T0 - 2 * HOUR_MS);
    assert_int_equal(case_due_soon_at(T0, 2 * HOUR_MS), T0 - 12 * MIN_MS);
}

static void routing_picks_the_most_specific_rule(void **state)
{
    (void)state;
    struct case_route rules[5];
    memset(rules, 0, sizeof rules);
    rules[0] = (struct case_route){.id = 1, .unit = "dept-cgj"}; /* anything anywhere */
    rules[1] = (struct case_route){.id = 2, .category = "noise", .unit = "dept-sthj"};
    rules[2] = (struct case_route){
        .id = 3, .category = "noise", .area = JIANWAI, .unit = CASE_ROUTE_OWN_STREET};
    rules[3] = (struct case_route){.id = 4, .area = C1, .unit = "dept-zjw"};
    rules[4] = (struct case_route){
        .id = 5, .category = "noise", .area = C2, .unit = "dept-scjg", .retired_at = 1};
    /* the category outweighs the depth of the area */
    assert_int_equal(case_route_pick(rules, 5, "noise", C1)->id, 3);
    assert_int_equal(case_route_pick(rules, 5, "noise", C3)->id, 2);
    assert_int_equal(case_route_pick(rules, 5, "noise", C2)->id, 3); /* rule 5 is retired */
    assert_int_equal(case_route_pick(rules, 5, "sanitation", C1)->id, 4);
    assert_int_equal(case_route_pick(rules, 5, "sanitation", C3)->id, 1);
    assert_int_equal(case_route_pick(rules, 5, "sanitation", "")->id, 1);
    assert_null(case_route_pick(rules, 0, "noise", C1));

    char lead[CASE_UNIT_CODE_MAX + 1], co[CASE_UNITS_MAX - 1][CASE_UNIT_CODE_MAX + 1];
    int nco;
    case_route_apply(&rules[2], C1, DISTRICT, lead, co, &nco);
    assert_string_equal(lead, JIANWAI);
    case_route_apply(NULL, C1, DISTRICT, lead, co, &nco);
    assert_string_equal(lead, C1);
    assert_int_equal(nco, 0);
    case_route_apply(NULL, "", DISTRICT, lead, co, &nco);
    assert_string_equal(lead, DISTRICT);
    struct case_route with_co = {.id = 9,
                                 .unit = "dept-cgw",
                                 .nco = 3,
                                 .co_units = {"dept-sw", CASE_ROUTE_OWN_COMMUNITY, "dept-sw"}};
    case_route_apply(&with_co, C2, DISTRICT, lead, co, &nco);
    assert_string_equal(lead, "dept-cgw");
    assert_int_equal(nco, 2);
    assert_string_equal(co[0], "dept-sw");
    assert_string_equal(co[1], C2);
}

static void units_escalate_community_street_district(void **state)
{
    (void)state;
    char up[CASE_UNIT_CODE_MAX + 1];
    case_unit_parent(C1, DISTRICT, up);
    assert_string_equal(up, JIANWAI);
    case_unit_parent(JIANWAI, DISTRICT, up);
    assert_string_equal(up, DISTRICT);
    case_unit_parent(DISTRICT, DISTRICT, up);
    assert_string_equal(up, "");
    case_unit_parent("dept-cgj", DISTRICT, up);
    assert_string_equal(up, DISTRICT);
    assert_true(case_unit_is_department("dept-jtzd"));
    assert_false(case_unit_is_department("dept-"));
    assert_false(case_unit_is_department("dept-A"));
    assert_false(case_unit_is_department(C1));
}

/* ---- creating ---- */

static void create_numbers_cases_per_day_uniquely(void **state)
{
    struct fixture *f = *state;
    int64_t a = create_as(f, &f->resident, snap("sanitation", C1, T0));
    int64_t b = create_as(f, &f->resident, snap("sanitation", C1, T0 + MIN_MS));
    int64_t c = create_as(f, &f->resident, snap("sanitation", C1, T0 + DAY_MS));
    struct case_record *r = rec();
    load(f, &f->resident, a, r);
    assert_string_equal(r->number, "2026112500001");
    load(f, &f->resident, b, r);
    assert_string_equal(r->number, "2026112500002");
    load(f, &f->resident, c, r);
    assert_string_equal(r->number, "2026112600001");
    linli_err_clear(&f->err);
    assert_ok(cases_get_by_number(&f->d, &f->resident, "2026112500002", r, &f->err), &f->err);
    assert_int_equal(r->id, b);
    free(r);
    assert_int_equal(count(f, "SELECT count(DISTINCT number) FROM cases", NULL), 3);
}

static void create_finds_the_area_from_the_nearest_community_centre(void **state)
{
    struct fixture *f = *state;
    struct case_in in = {
        .category = "small_ads", .has_point = true, .point = {39.901, 116.468}, .at = T0};
    int64_t id = create_as(f, &f->resident, in);
    struct case_record *r = rec();
    load(f, &f->resident, id, r);
    assert_string_equal(r->area_code, C2);
    assert_true(r->area_from_point);
    assert_string_equal(r->unit_code, C2);   /* no rule: the case's community */
    assert_string_equal(r->title, "小广告"); /* the category's name when no title */
    assert_int_equal(r->channel, CHANNEL_SNAP);
    assert_int_equal(r->reporter_user_id, U_RESIDENT);
    assert_string_equal(r->reporter_name, "王芳");
    free(r);
}

static void create_routes_by_the_seeded_rules_with_co_handlers(void **state)
{
    struct fixture *f = *state;
    struct case_record *r = rec();
    load(f, &f->resident, create_as(f, &f->resident, snap("illegal_parking", C1, T0)), r);
    assert_string_equal(r->unit_code, "dept-jtzd");
    load(f, &f->resident, create_as(f, &f->resident, snap("utilities", C1, T0)), r);
    assert_string_equal(r->unit_code, "dept-cgw");
    assert_int_equal(r->nunits, 2);
    assert_string_equal(r->units[1].unit, "dept-sw");
    assert_int_equal(r->units[1].link, LINK_CO);
    /* a rule added for a street wins over the default for its communities */
    struct case_route_in rin = {.category = "noise", .area = JIANWAI, .unit = "@street"};
    struct case_route route;
    linli_err_clear(&f->err);
    assert_ok(case_routes_create(&f->d, &f->district, &rin, &route, &f->err), &f->err);
    linli_err_clear(&f->err);
    assert_int_equal(case_routes_create(&f->d, &f->district, &rin, &route, &f->err),
                     LINLI_ECONFLICT);
    linli_err_clear(&f->err);
    assert_int_equal(case_routes_create(&f->d, &f->c1, &rin, &route, &f->err), LINLI_EFORBIDDEN);
    load(f, &f->resident, create_as(f, &f->resident, snap("noise", C2, T0)), r);
    assert_string_equal(r->unit_code, JIANWAI);
    load(f, &f->resident, create_as(f, &f->resident, snap("noise", C3, T0)), r);
    assert_string_equal(r->unit_code, C3);
    free(r);
}

static void create_sets_the_response_deadline_by_class(void **state)
{
    struct fixture *f = *state;
    struct case_record *r = rec();
    load(f, &f->resident, create_as(f, &f->resident, snap("utilities", C1, T0)), r);
    assert_int_equal(r->deadline_class, DEADLINE_UTILITIES);
    assert_int_equal(r->response_due_at, T0 + 2 * HOUR_MS);
    assert_int_equal(r->resolve_due_at, 0);
    load(f, &f->resident, create_as(f, &f->resident, snap("sanitation", C1, T0)), r);
    assert_int_equal(r->response_due_at, T0 + DAY_MS);
    /* acceptance starts the resolution limit */
    move_ok(f, &f->c1, r->id, "accepted", T0 + HOUR_MS);
    load(f, &f->resident, r->id, r);
    assert_int_equal(r->accepted_at, T0 + HOUR_MS);
    assert_int_equal(r->resolve_due_at, T0 + HOUR_MS + 7 * DAY_MS);
    free(r);
}

static void create_checks_fields_and_channels(void **state)
{
    struct fixture *f = *state;
    struct case_record *r = rec();
    struct case_in in = {.category = "sanitation", .at = T0};
    linli_err_clear(&f->err);
    assert_int_equal(cases_create(&f->d, &f->resident, &in, NULL, r, NULL, &f->err), LINLI_EINVAL);
    assert_field_error(&f->err, "point", "location is required");
    in = (struct case_in){.category = "nonsense", .area_code = C1, .at = T0};
    linli_err_clear(&f->err);
    assert_int_equal(cases_create(&f->d, &f->resident, &in, NULL, r, NULL, &f->err), LINLI_EINVAL);
    assert_field_error(&f->err, "category", "not an active category");
    in = (struct case_in){.category = "sanitation", .has_point = true, .point = {48.85, 2.35}};
    linli_err_clear(&f->err);
    assert_int_equal(cases_create(&f->d, &f->resident, &in, NULL, r, NULL, &f->err), LINLI_EINVAL);
    assert_field_error(&f->err, "point", "China");
    in = snap("sanitation", C1, T0);
    in.channel = "hotline";
    linli_err_clear(&f->err);
    assert_int_equal(cases_create(&f->d, &f->resident, &in, NULL, r, NULL, &f->err),
                     LINLI_EFORBIDDEN);
    in.channel = "open311";
    linli_err_clear(&f->err);
    assert_int_equal(cases_create(&f->d, &f->c1, &in, NULL, r, NULL, &f->err), LINLI_EFORBIDDEN);
    /* the facade (system) creates anonymous Open311 cases with contact details */
    in.contact_name = "张先生";
    in.contact_phone = "13800138000";
    in.client = "fixmystreet";
    linli_err_clear(&f->err);
    assert_ok(cases_create(&f->d, &f->sys, &in, NULL, r, NULL, &f->err), &f->err);
    assert_int_equal(r->reporter_user_id, 0);
    assert_int_equal(r->channel, CHANNEL_OPEN311);
    /* ...which the public never sees */
    struct case_record *pub = rec();
    linli_err_clear(&f->err);
    assert_ok(cases_get(&f->d, NULL, r->id, pub, &f->err), &f->err);
    assert_int_equal(pub->view, CASE_VIEW_PUBLIC);
    assert_string_equal(pub->contact_phone, "");
    assert_string_equal(pub->contact_name, "");
    assert_string_equal(pub->client, "");
    free(pub);
    free(r);
}

static void attributes_follow_the_category_definitions(void **state)
{
    struct fixture *f = *state;
    json_t *defs = json_loads("[{\"code\":\"floor\",\"datatype\":\"number\",\"required\":true},"
                              "{\"code\":\"kind\",\"datatype\":\"singlevaluelist\",\"values\":"
                              "[{\"key\":\"box\",\"name\":\"纸箱\"}]}]",
                              0, NULL);
    struct case_category_in cin = {.name_zh = NULL,
                                   .response_minutes = -1,
                                   .resolve_minutes = -1,
                                   .active = -1,
                                   .attributes = defs};
    struct case_category cat;
    linli_err_clear(&f->err);
    assert_ok(case_categories_update(&f->d, &f->admin, "corridor_clutter", &cin, &cat, &f->err),
              &f->err);
    struct case_in in = snap("corridor_clutter", C1, T0);
    json_t *attrs = json_loads("{\"kind\":\"sofa\",\"colour\":\"red\"}", 0, NULL);
    in.attributes = attrs;
    struct case_record *r = rec();
    linli_err_clear(&f->err);
    assert_int_equal(cases_create(&f->d, &f->resident, &in, NULL, r, NULL, &f->err), LINLI_EINVAL);
    assert_field_error(&f->err, "attributes.kind", "one of the keys");
    assert_field_error(&f->err, "attributes.colour", "not an attribute");
    assert_field_error(&f->err, "attributes.floor", "required");
    json_decref(attrs);
    attrs = json_loads("{\"kind\":\"box\",\"floor\":3}", 0, NULL);
    in.attributes = attrs;
    linli_err_clear(&f->err);
    assert_ok(cases_create(&f->d, &f->resident, &in, NULL, r, NULL, &f->err), &f->err);
    assert_string_equal(r->attributes, "{\"floor\":3,\"kind\":\"box\"}");
    json_decref(attrs);
    json_decref(defs);
    free(r);
}

/* ---- the workflow ---- */

static void whole_life_of_a_case_through_reporter_and_community(void **state)
{
    struct fixture *f = *state;
    int64_t id = create_as(f, &f->resident, snap("corridor_clutter", C1, T0));
    /* the reporter cannot take it on; another community cannot see it */
    assert_int_equal(move(f, &f->resident, id, "accepted", NULL, T0), LINLI_EFORBIDDEN);
    assert_int_equal(move(f, &f->c2, id, "accepted", NULL, T0), LINLI_ENOTFOUND);
    /* the street sees it but does not handle a community's case */
    assert_int_equal(move(f, &f->jianwai, id, "accepted", NULL, T0), LINLI_EFORBIDDEN);
    /* no skipping ahead */
    assert_int_equal(move(f, &f->c1, id, "resolved", "好了", T0), LINLI_ECONFLICT);
    assert_contains(f->err.detail, "submitted");
    move_ok(f, &f->c1, id, "accepted", T0 + MIN_MS);
    move_ok(f, &f->c1, id, "dispatched", T0 + 2 * MIN_MS);
    move_ok(f, &f->c1, id, "in_progress", T0 + 3 * MIN_MS);
    assert_int_equal(move(f, &f->c1, id, "resolved", NULL, T0), LINLI_EINVAL); /* no note */
    move_ok(f, &f->c1, id, "resolved", T0 + HOUR_MS);
    /* staff cannot confirm for the reporter; the reporter reopens */
    assert_int_equal(move(f, &f->c1, id, "closed", NULL, T0), LINLI_EFORBIDDEN);
    move_ok(f, &f->resident, id, "in_progress", T0 + 2 * HOUR_MS);
    move_ok(f, &f->c1, id, "resolved", T0 + 3 * HOUR_MS);
    move_ok(f, &f->resident, id, "closed", T0 + 4 * HOUR_MS);
    assert_int_equal(move(f, &f->c1, id, "in_progress", NULL, T0), LINLI_ECONFLICT);
    struct case_record *r = rec();
    load(f, &f->resident, id, r);
    assert_int_equal(r->state, CASE_CLOSED);
    assert_int_equal(r->resolutions, 2);
    assert_int_equal(r->closed_at, T0 + 4 * HOUR_MS);
    struct case_event *ev;
    int n;
    linli_err_clear(&f->err);
    assert_ok(cases_events(&f->d, &f->resident, id, &ev, &n, &f->err), &f->err);
    const char *kinds[] = {"submitted", "accepted", "dispatched", "in_progress",
                           "resolved",  "reopened", "resolved",   "closed"};
    assert_int_equal(n, 8);
    for (int i = 0; i < n; i++)
        assert_string_equal(ev[i].kind, kinds[i]);
    assert_string_equal(ev[1].actor_unit, C1);
    assert_string_equal(ev[4].note, "处理说明");
    free(ev);
    free(r);
    assert_int_equal(
        count(f, "SELECT count(*) FROM audit_log WHERE action = 'case.transition'", NULL), 7);
}

static void reject_needs_a_reason_and_duplicate_links_the_original(void **state)
{
    struct fixture *f = *state;
    int64_t orig = create_as(f, &f->resident, snap("small_ads", C1, T0));
    int64_t dup = create_as(f, &f->other, snap("small_ads", C1, T0));
    int64_t spam = create_as(f, &f->other, snap("small_ads", C1, T0));
    struct case_transition_in in = {.to = "rejected"};
    struct case_record *r = rec();
    linli_err_clear(&f->err);
    assert_int_equal(cases_transition(&f->d, &f->c1, spam, &in, r, &f->err), LINLI_EINVAL);
    assert_field_error(&f->err, "reason", "required");
    in.reason = "不属于受理范围";
    linli_err_clear(&f->err);
    assert_ok(cases_transition(&f->d, &f->c1, spam, &in, r, &f->err), &f->err);
    assert_string_equal(r->reason, "不属于受理范围");
    in = (struct case_transition_in){.to = "duplicate", .duplicate_of = dup};
    linli_err_clear(&f->err);
    assert_int_equal(cases_transition(&f->d, &f->c1, dup, &in, r, &f->err), LINLI_EINVAL);
    in.duplicate_of = orig;
    linli_err_clear(&f->err);
    assert_ok(cases_transition(&f->d, &f->c1, dup, &in, r, &f->err), &f->err);
    assert_int_equal(r->state, CASE_DUPLICATE);
    assert_int_equal(r->duplicate_of, orig);
    /* a duplicate of a duplicate points at the original instead */
    int64_t third = create_as(f, &f->other, snap("small_ads", C1, T0));
    in.duplicate_of = dup;
    linli_err_clear(&f->err);
    assert_int_equal(cases_transition(&f->d, &f->c1, third, &in, r, &f->err), LINLI_EINVAL);
    assert_field_error(&f->err, "duplicate_of", "itself a duplicate");
    free(r);
}

static void dispatch_hands_the_case_to_a_department_and_its_members(void **state)
{
    struct fixture *f = *state;
    linli_err_clear(&f->err);
    assert_ok(case_units_add_member(&f->d, &f->admin, "dept-cgj", U_DEPT, &f->err), &f->err);
    linli_err_clear(&f->err);
    assert_int_equal(case_units_add_member(&f->d, &f->admin, "dept-cgj", U_DEPT, &f->err),
                     LINLI_ECONFLICT);
    linli_err_clear(&f->err);
    assert_int_equal(case_units_add_member(&f->d, &f->admin, "dept-cgj", U_RESIDENT, &f->err),
                     LINLI_EINVAL);
    int64_t id = create_as(f, &f->resident, snap("corridor_clutter", C1, T0));
    move_ok(f, &f->c1, id, "accepted", T0);
    /* a district account in a department acts only for its department */
    assert_int_equal(move(f, &f->dept, id, "dispatched", NULL, T0), LINLI_EFORBIDDEN);
    struct case_transition_in in = {
        .to = "dispatched", .unit = "dept-cgj", .nco = 1, .co_units = {"dept-zjw"}};
    struct case_record *r = rec();
    linli_err_clear(&f->err);
    assert_ok(cases_transition(&f->d, &f->c1, id, &in, r, &f->err), &f->err);
    assert_string_equal(r->unit_code, "dept-cgj");
    assert_int_equal(r->nunits, 2);
    /* the community has handed it over; the department takes it from here */
    assert_int_equal(move(f, &f->c1, id, "in_progress", NULL, T0), LINLI_EFORBIDDEN);
    move_ok(f, &f->dept, id, "in_progress", T0 + HOUR_MS);
    move_ok(f, &f->dept, id, "resolved", T0 + 2 * HOUR_MS);
    char(*units)[CASE_UNIT_CODE_MAX + 1];
    int n;
    bool all;
    linli_err_clear(&f->err);
    assert_ok(case_units_of(&f->d, &f->dept, &units, &n, &all, &f->err), &f->err);
    assert_int_equal(n, 1);
    assert_string_equal(units[0], "dept-cgj");
    free(units);
    free(r);
}

static void privacy_follows_the_role(void **state)
{
    struct fixture *f = *state;
    struct case_in in = snap("sanitation", C1, T0);
    in.channel = "hotline";
    in.contact_name = "赵女士";
    in.contact_phone = "13912345678";
    in.reporter_user_id = U_RESIDENT;
    int64_t id = create_as(f, &f->c1, in); /* recorded by the community for the resident */
    int64_t mine = create_as(f, &f->other, snap("sanitation", C3, T0));
    struct case_record *r = rec();
    /* a resident reads their own case in full, others' not at all */
    load(f, &f->resident, id, r);
    assert_string_equal(r->contact_phone, "13912345678");
    linli_err_clear(&f->err);
    assert_int_equal(cases_get(&f->d, &f->other, id, r, &f->err), LINLI_ENOTFOUND);
    linli_err_clear(&f->err);
    assert_int_equal(cases_get(&f->d, &f->volunteer, id, r, &f->err), LINLI_ENOTFOUND);
    /* staff in scope see it; contact details only when they handle it */
    load(f, &f->c1, id, r);
    assert_string_equal(r->contact_phone, "13912345678");
    load(f, &f->jianwai, id, r);
    assert_string_equal(r->contact_phone, "");
    load(f, &f->auditor, id, r);
    linli_err_clear(&f->err);
    assert_int_equal(cases_get(&f->d, &f->chaowai, id, r, &f->err), LINLI_ENOTFOUND);
    linli_err_clear(&f->err);
    assert_int_equal(cases_get(&f->d, &f->c2, id, r, &f->err), LINLI_ENOTFOUND);
    /* lists obey the same rule */
    struct case_filter flt = {.state = -1, .channel = -1, .limit = 50};
    struct case_record *items;
    int n;
    int64_t next;
    linli_err_clear(&f->err);
    assert_ok(cases_list(&f->d, &f->other, &flt, &items, &n, &next, &f->err), &f->err);
    assert_int_equal(n, 1);
    assert_int_equal(items[0].id, mine);
    free(items);
    linli_err_clear(&f->err);
    assert_ok(cases_list(&f->d, &f->jianwai, &flt, &items, &n, &next, &f->err), &f->err);
    assert_int_equal(n, 1);
    assert_int_equal(items[0].id, id);
    free(items);
    linli_err_clear(&f->err);
    assert_ok(cases_list(&f->d, &f->district, &flt, &items, &n, &next, &f->err), &f->err);
    assert_int_equal(n, 2);
    assert_int_equal(items[0].id, mine); /* newest first */
    free(items);
    /* the public view names no reporter who did not opt in */
    linli_err_clear(&f->err);
    assert_ok(cases_get(&f->d, NULL, id, r, &f->err), &f->err);
    assert_string_equal(r->reporter_name, "");
    assert_int_equal(r->reporter_user_id, 0);
    /* internal notes stay with staff */
    struct case_event ev;
    linli_err_clear(&f->err);
    assert_ok(cases_add_note(&f->d, &f->c1, id, "内部：联系物业", false, &ev, &f->err), &f->err);
    struct case_event *evs;
    linli_err_clear(&f->err);
    assert_ok(cases_events(&f->d, &f->resident, id, &evs, &n, &f->err), &f->err);
    assert_string_equal(evs[n - 1].kind, "note");
    assert_string_equal(evs[n - 1].note, "");
    free(evs);
    linli_err_clear(&f->err);
    assert_ok(cases_events(&f->d, &f->jianwai, id, &evs, &n, &f->err), &f->err);
    assert_string_equal(evs[n - 1].note, "内部：联系物业");
    free(evs);
    free(r);
}

static void rating_is_the_reporters_once_per_resolution(void **state)
{
    struct fixture *f = *state;
    int64_t id = create_as(f, &f->resident, snap("sanitation", C1, T0));
    struct case_record *r = rec();
    linli_err_clear(&f->err);
    assert_int_equal(cases_rate(&f->d, &f->resident, id, "satisfied", NULL, T0, r, &f->err),
                     LINLI_ECONFLICT);
    move_ok(f, &f->c1, id, "accepted", T0);
    move_ok(f, &f->c1, id, "dispatched", T0);
    move_ok(f, &f->c1, id, "in_progress", T0);
    move_ok(f, &f->c1, id, "resolved", T0);
    linli_err_clear(&f->err);
    assert_int_equal(cases_rate(&f->d, &f->c1, id, "satisfied", NULL, T0, r, &f->err),
                     LINLI_EFORBIDDEN);
    linli_err_clear(&f->err);
    assert_int_equal(cases_rate(&f->d, &f->resident, id, "great", NULL, T0, r, &f->err),
                     LINLI_EINVAL);
    linli_err_clear(&f->err);
    assert_ok(cases_rate(&f->d, &f->resident, id, "unsatisfied", "还有", T0, r, &f->err), &f->err);
    assert_int_equal(r->rating, RATING_UNSATISFIED);
    assert_int_equal(r->state, CASE_RESOLVED); /* a rating moves nothing */
    linli_err_clear(&f->err);
    assert_int_equal(cases_rate(&f->d, &f->resident, id, "satisfied", NULL, T0, r, &f->err),
                     LINLI_ECONFLICT);
    /* a new resolution may be rated again */
    move_ok(f, &f->resident, id, "in_progress", T0);
    move_ok(f, &f->c1, id, "resolved", T0);
    linli_err_clear(&f->err);
    assert_ok(cases_rate(&f->d, &f->resident, id, "basically_satisfied", NULL, T0, r, &f->err),
              &f->err);
    assert_int_equal(r->rated_resolution, 2);
    free(r);
}

static void events_cannot_be_changed_or_deleted(void **state)
{
    struct fixture *f = *state;
    create_as(f, &f->resident, snap("sanitation", C1, T0));
    struct linli_err err;
    linli_err_clear(&err);
    assert_int_not_equal(
        store_write(f->d.store, exec_job, (void *)"UPDATE case_events SET note = 'x'", &err),
        LINLI_OK);
    linli_err_clear(&err);
    assert_int_not_equal(store_write(f->d.store, exec_job, (void *)"DELETE FROM case_events", &err),
                         LINLI_OK);
    assert_int_equal(count(f, "SELECT count(*) FROM case_events", NULL), 1);
}

/* ---- the scheduler ---- */

static void tick_flags_due_soon_then_overdue_and_escalates_once_a_level(void **state)
{
    struct fixture *f = *state;
    int64_t id = create_as(f, &f->resident, snap("sanitation", C1, T0)); /* response in 24 h */
    struct case_tick_report rep;
    struct case_record *r = rec();
    assert_ok(cases_tick(&f->d, T0 + 21 * HOUR_MS, &rep, &f->err), &f->err);
    assert_int_equal(rep.due_soon + rep.overdue, 0);
    assert_ok(cases_tick(&f->d, T0 + 22 * HOUR_MS + MIN_MS, &rep, &f->err), &f->err);
    assert_int_equal(rep.due_soon, 1);
    assert_string_equal(f->last_topic, "case.due_soon");
    assert_ok(cases_tick(&f->d, T0 + 23 * HOUR_MS, &rep, &f->err), &f->err);
    assert_int_equal(rep.due_soon, 0); /* once */
    assert_ok(cases_tick(&f->d, T0 + 25 * HOUR_MS, &rep, &f->err), &f->err);
    assert_int_equal(rep.overdue, 1);
    assert_int_equal(rep.escalated, 1);
    assert_string_equal(f->last_topic, "case.escalated");
    load(f, &f->jianwai, id, r);
    assert_string_equal(r->escalated_to, JIANWAI);
    assert_true(r->flags & CASE_FLAG_RESPONSE_OVERDUE);
    /* the street may now act on it */
    move_ok(f, &f->jianwai, id, "accepted", T0 + 26 * HOUR_MS);
    assert_ok(cases_tick(&f->d, T0 + 26 * HOUR_MS, &rep, &f->err), &f->err);
    assert_int_equal(rep.overdue + rep.escalated + rep.due_soon, 0);
    /* past the resolution limit it climbs to the district, then stays there */
    assert_ok(cases_tick(&f->d, T0 + 26 * HOUR_MS + 7 * DAY_MS + 1, &rep, &f->err), &f->err);
    assert_int_equal(rep.overdue, 1);
    assert_int_equal(rep.escalated, 1);
    load(f, &f->district, id, r);
    assert_string_equal(r->escalated_to, DISTRICT);
    assert_int_equal(r->escalations, 2);
    assert_ok(cases_tick(&f->d, T0 + 30 * DAY_MS, &rep, &f->err), &f->err);
    assert_int_equal(rep.overdue + rep.escalated, 0);
    assert_int_equal(count(f, "SELECT count(*) FROM case_events WHERE kind = 'escalated'", NULL),
                     2);
    free(r);
}

static void short_limits_are_due_soon_at_a_tenth_of_the_limit(void **state)
{
    struct fixture *f = *state;
    int64_t id = create_as(f, &f->resident, snap("utilities", C1, T0)); /* response 2 h */
    struct case_tick_report rep;
    assert_ok(cases_tick(&f->d, T0 + 107 * MIN_MS, &rep, &f->err), &f->err);
    assert_int_equal(rep.due_soon, 0);
    assert_ok(cases_tick(&f->d, T0 + 109 * MIN_MS, &rep, &f->err), &f->err);
    assert_int_equal(rep.due_soon, 1);
    /* a department's overdue case goes to the district */
    assert_ok(cases_tick(&f->d, T0 + 3 * HOUR_MS, &rep, &f->err), &f->err);
    struct case_record *r = rec();
    load(f, &f->district, id, r);
    assert_string_equal(r->unit_code, "dept-cgw");
    assert_string_equal(r->escalated_to, DISTRICT);
    free(r);
}

static void tick_closes_resolutions_left_unconfirmed(void **state)
{
    struct fixture *f = *state;
    int64_t id = create_as(f, &f->resident, snap("sanitation", C1, T0));
    move_ok(f, &f->c1, id, "accepted", T0);
    move_ok(f, &f->c1, id, "dispatched", T0);
    move_ok(f, &f->c1, id, "in_progress", T0);
    move_ok(f, &f->c1, id, "resolved", T0 + HOUR_MS);
    struct case_tick_report rep;
    assert_ok(cases_tick(&f->d, T0 + HOUR_MS + 7 * DAY_MS - 1, &rep, &f->err), &f->err);
    assert_int_equal(rep.auto_closed, 0);
    assert_ok(cases_tick(&f->d, T0 + HOUR_MS + 7 * DAY_MS, &rep, &f->err), &f->err);
    assert_int_equal(rep.auto_closed, 1);
    struct case_record *r = rec();
    load(f, &f->resident, id, r);
    assert_int_equal(r->state, CASE_CLOSED);
    free(r);
    /* the setting is the admin's */
    struct case_settings s = {.auto_close_days = 3, .report_in_minutes = 15};
    linli_err_clear(&f->err);
    assert_int_equal(cases_settings_set(&f->d, &f->district, &s, &f->err), LINLI_EFORBIDDEN);
    linli_err_clear(&f->err);
    assert_ok(cases_settings_set(&f->d, &f->admin, &s, &f->err), &f->err);
    s.auto_close_days = 0;
    linli_err_clear(&f->err);
    assert_int_equal(cases_settings_set(&f->d, &f->admin, &s, &f->err), LINLI_EINVAL);
}

static void whistle_summons_departments_who_must_report_in(void **state)
{
    struct fixture *f = *state;
    linli_err_clear(&f->err);
    assert_ok(case_units_add_member(&f->d, &f->admin, "dept-cgj", U_DEPT, &f->err), &f->err);
    int64_t id = create_as(f, &f->resident, snap("corridor_clutter", C1, T0));
    const char *units[] = {"dept-cgj", "dept-zjw"};
    struct case_record *r = rec();
    /* only the street (or above) blows the whistle */
    linli_err_clear(&f->err);
    assert_int_equal(cases_whistle(&f->d, &f->c1, id, units, 2, NULL, T0, r, &f->err),
                     LINLI_EFORBIDDEN);
    linli_err_clear(&f->err);
    assert_int_equal(cases_whistle(&f->d, &f->chaowai, id, units, 2, NULL, T0, r, &f->err),
                     LINLI_ENOTFOUND);
    linli_err_clear(&f->err);
    assert_ok(cases_whistle(&f->d, &f->jianwai, id, units, 2, "联合整治", T0, r, &f->err), &f->err);
    assert_int_equal(r->nunits, 3);
    assert_int_equal(r->units[1].due_at, T0 + 30 * MIN_MS);
    linli_err_clear(&f->err);
    assert_int_equal(cases_whistle(&f->d, &f->jianwai, id, units, 1, NULL, T0, r, &f->err),
                     LINLI_EINVAL); /* summoned already */
    /* the summoned department sees the case and reports in, once */
    linli_err_clear(&f->err);
    assert_ok(cases_report_in(&f->d, &f->dept, id, NULL, "已到场", T0 + 10 * MIN_MS, r, &f->err),
              &f->err);
    linli_err_clear(&f->err);
    assert_int_equal(cases_report_in(&f->d, &f->dept, id, NULL, NULL, T0 + 11 * MIN_MS, r, &f->err),
                     LINLI_ECONFLICT);
    linli_err_clear(&f->err);
    assert_int_equal(cases_report_in(&f->d, &f->c2, id, NULL, NULL, T0, r, &f->err),
                     LINLI_ENOTFOUND);
    /* the department that did not come is flagged, once */
    struct case_tick_report rep;
    assert_ok(cases_tick(&f->d, T0 + 31 * MIN_MS, &rep, &f->err), &f->err);
    assert_int_equal(rep.report_ins_late, 1);
    assert_ok(cases_tick(&f->d, T0 + 40 * MIN_MS, &rep, &f->err), &f->err);
    assert_int_equal(rep.report_ins_late, 0);
    load(f, &f->jianwai, id, r);
    for (int i = 0; i < r->nunits; i++) {
        if (!strcmp(r->units[i].unit, "dept-zjw"))
            assert_true(r->units[i].late);
        if (!strcmp(r->units[i].unit, "dept-cgj"))
            assert_int_equal(r->units[i].reported_at, T0 + 10 * MIN_MS);
    }
    free(r);
}

/* ---- finding ---- */

static void nearby_finds_open_cases_of_the_category_within_the_radius(void **state)
{
    struct fixture *f = *state;
    struct case_in in = {.category = "public_facility",
                         .has_point = true,
                         .point = {39.9000, 116.4500},
                         .at = T0,
                         .title = "路灯坏了"};
    int64_t near = create_as(f, &f->resident, in);
    in.point.lat = 39.9030; /* about 330 m north */
    int64_t far = create_as(f, &f->resident, in);
    in.point.lat = 39.9005;
    int64_t closed = create_as(f, &f->resident, in);
    struct case_transition_in rej = {.to = "rejected", .reason = "重复"};
    struct case_record *r = rec();
    linli_err_clear(&f->err);
    assert_ok(cases_transition(&f->d, &f->c1, closed, &rej, r, &f->err), &f->err);
    in.category = "sanitation";
    create_as(f, &f->resident, in);
    struct case_record *items;
    int n;
    linli_err_clear(&f->err);
    assert_ok(cases_nearby(&f->d, &f->other, (struct geo_point){39.9001, 116.4501},
                           "public_facility", 0, &items, &n, &f->err),
              &f->err);
    assert_int_equal(n, 1);
    assert_int_equal(items[0].id, near);
    assert_int_equal(items[0].view, CASE_VIEW_NEARBY);
    assert_string_equal(items[0].description, "");
    assert_string_equal(items[0].reporter_name, "");
    assert_true(items[0].distance_m < 20);
    free(items);
    linli_err_clear(&f->err);
    assert_ok(cases_nearby(&f->d, &f->other, (struct geo_point){39.9001, 116.4501},
                           "public_facility", 500, &items, &n, &f->err),
              &f->err);
    assert_int_equal(n, 2);
    assert_int_equal(items[1].id, far);
    free(items);
    linli_err_clear(&f->err);
    assert_int_equal(cases_nearby(&f->d, &f->other, (struct geo_point){39.9, 116.45},
                                  "public_facility", 5000, &items, &n, &f->err),
                     LINLI_EINVAL);
    free(r);
}

static void updates_since_report_public_changes_in_order(void **state)
{
    struct fixture *f = *state;
    int64_t id = create_as(f, &f->resident, snap("sanitation", C1, T0));
    move_ok(f, &f->c1, id, "accepted", T0 + MIN_MS);
    struct case_event ev;
    linli_err_clear(&f->err);
    assert_ok(cases_add_note(&f->d, &f->c1, id, "内部", false, &ev, &f->err), &f->err);
    linli_err_clear(&f->err);
    assert_ok(cases_add_note(&f->d, &f->c1, id, "明天上午处理", true, &ev, &f->err), &f->err);
    struct case_event *items;
    int n;
    linli_err_clear(&f->err);
    assert_ok(cases_updates_since(&f->d, 0, 0, 100, NULL, &items, &n, &f->err), &f->err);
    assert_int_equal(n, 3);
    assert_string_equal(items[0].kind, "submitted");
    assert_string_equal(items[1].kind, "accepted");
    assert_string_equal(items[2].note, "明天上午处理");
    assert_int_equal(items[2].actor_user_id, 0);
    int64_t after = items[1].id;
    free(items);
    linli_err_clear(&f->err);
    assert_ok(cases_updates_since(&f->d, 0, after, 100, NULL, &items, &n, &f->err), &f->err);
    assert_int_equal(n, 1);
    free(items);
}

static void volunteer_teams_count_reports_and_resolutions(void **state)
{
    struct fixture *f = *state;
    struct volunteer_team t;
    linli_err_clear(&f->err);
    assert_int_equal(volunteer_teams_create(&f->d, &f->c2, "随手拍志愿队", C1, &t, &f->err),
                     LINLI_EFORBIDDEN);
    linli_err_clear(&f->err);
    assert_ok(volunteer_teams_create(&f->d, &f->c1, "随手拍志愿队", C1, &t, &f->err), &f->err);
    linli_err_clear(&f->err);
    assert_ok(volunteer_teams_add_member(&f->d, &f->c1, t.id, U_VOLUNTEER, &f->err), &f->err);
    linli_err_clear(&f->err);
    assert_int_equal(volunteer_teams_add_member(&f->d, &f->c1, t.id, U_C2, &f->err), LINLI_EINVAL);
    int64_t a = create_as(f, &f->volunteer, snap("small_ads", C1, T0));
    create_as(f, &f->volunteer, snap("small_ads", C1, T0));
    move_ok(f, &f->c1, a, "accepted", T0);
    move_ok(f, &f->c1, a, "dispatched", T0);
    move_ok(f, &f->c1, a, "in_progress", T0);
    move_ok(f, &f->c1, a, "resolved", T0);
    struct volunteer_member *m;
    int n;
    linli_err_clear(&f->err);
    assert_ok(volunteer_teams_get(&f->d, &f->volunteer, t.id, &t, &m, &n, &f->err), &f->err);
    assert_int_equal(n, 1);
    assert_int_equal(m[0].reports, 2);
    assert_int_equal(m[0].resolved, 1);
    assert_int_equal(t.reports, 2);
    free(m);
    linli_err_clear(&f->err);
    assert_int_equal(volunteer_teams_get(&f->d, &f->other, t.id, &t, &m, &n, &f->err),
                     LINLI_ENOTFOUND);
}

int main(void)
{
    log_set_level(LOG_WARN);
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(state_machine_allows_exactly_the_workflow),
        cmocka_unit_test(numbers_are_the_beijing_date_and_a_daily_sequence),
        cmocka_unit_test(deadline_classes_carry_beijings_limits),
        cmocka_unit_test(routing_picks_the_most_specific_rule),
        cmocka_unit_test(units_escalate_community_street_district),
        T(create_numbers_cases_per_day_uniquely),
        T(create_finds_the_area_from_the_nearest_community_centre),
        T(create_routes_by_the_seeded_rules_with_co_handlers),
        T(create_sets_the_response_deadline_by_class),
        T(create_checks_fields_and_channels),
        T(attributes_follow_the_category_definitions),
        T(whole_life_of_a_case_through_reporter_and_community),
        T(reject_needs_a_reason_and_duplicate_links_the_original),
        T(dispatch_hands_the_case_to_a_department_and_its_members),
        T(privacy_follows_the_role),
        T(rating_is_the_reporters_once_per_resolution),
        T(events_cannot_be_changed_or_deleted),
        T(tick_flags_due_soon_then_overdue_and_escalates_once_a_level),
        T(short_limits_are_due_soon_at_a_tenth_of_the_limit),
        T(tick_closes_resolutions_left_unconfirmed),
        T(whistle_summons_departments_who_must_report_in),
        T(nearby_finds_open_cases_of_the_category_within_the_radius),
        T(updates_since_report_public_changes_in_order),
        T(volunteer_teams_count_reports_and_resolutions),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
