/* test_cases_stats.c - the case figures, recurring problems, search and CSV
 * (src/domain/cases_stats.c, cases_search.c) on a real store. Cases and their
 * events are written directly with SQL at known times, so every rate can be
 * checked against a hand computation: on-time and late responses and
 * resolutions, pending deadlines, rejections before and after a deadline,
 * ratings of each kind, deadlines outside the period, and a reopened case. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "support.h"

#include "base/clock.h"
#include "domain/cases_stats.h"
#include "domain/registry.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DISTRICT "110105000000"
#define JIANWAI  "110105001000"
#define CHAOWAI  "110105002000"
#define C1       "110105001001"
#define C2       "110105001002"
#define C4       "110105002001"
#define DEPT     "dept-cgj"

#define MIN_MS  60000LL
#define HOUR_MS (60 * MIN_MS)
#define DAY_MS  (24 * HOUR_MS)
#define RESPOND 1440  /* minutes: 24 hours */
#define RESOLVE 10080 /* minutes: 7 days */

struct fixture {
    char dir[64];
    char db[128];
    struct domain d;
    struct principal admin, jianwai, c4, resident, other_resident, auditor;
    struct linli_err err;
    int64_t t0, t1; /* November 2026 in Asia/Shanghai */
};

static struct principal as_user(int64_t id, enum role role, const char *scope, const char *name)
{
    struct principal p;
    memset(&p, 0, sizeof p);
    p.user_id = id;
    p.role = role;
    snprintf(p.username, sizeof p.username, "%s", name);
    snprintf(p.scope, sizeof p.scope, "%s", scope ? scope : "");
    snprintf(p.ip, sizeof p.ip, "10.0.0.9");
    return p;
}

static void sqlf(struct fixture *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sqlf(struct fixture *f, const char *fmt, ...)
{
    char sql[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    sql_exec(f->d.store, sql);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    *state = f;
    if (make_temp_dir("cstats", f->dir, sizeof f->dir, "linli.db", f->db, sizeof f->db))
        return -1;
    linli_err_clear(&f->err);
    if (open_domain(&f->d, f->db, NULL, &f->err))
        return -1;
    f->admin = as_user(1, ROLE_ADMIN, NULL, "admin");
    f->jianwai = as_user(2, ROLE_STREET, JIANWAI, "jianwai");
    f->c4 = as_user(4, ROLE_COMMUNITY, C4, "c4");
    f->resident = as_user(20, ROLE_RESIDENT, NULL, "res");
    f->other_resident = as_user(21, ROLE_RESIDENT, NULL, "res2");
    f->auditor = as_user(13, ROLE_AUDITOR, DISTRICT, "aud");
    static const struct area_row rows[] = {
        {DISTRICT, "朝阳区", "", "district"},      {JIANWAI, "建外街道", DISTRICT, "street"},
        {CHAOWAI, "朝外街道", DISTRICT, "street"}, {C1, "一社区", JIANWAI, "community"},
        {C2, "二社区", JIANWAI, "community"},      {C4, "四社区", CHAOWAI, "community"},
    };
    struct principal sys;
    principal_system(&sys, "test");
    struct import_report rep;
    if (registry_import(&f->d, &sys, 2020, rows, sizeof rows / sizeof rows[0], NULL, 0, &rep,
                        &f->err))
        return -1;
    sql_exec(f->d.store,
             "INSERT INTO users (id, username, role, scope, created_at, updated_at) VALUES"
             " (2, 'jianwai', 'street', '110105001000', 0, 0),"
             " (4, 'c4', 'community', '110105002001', 0, 0),"
             " (20, 'res', 'resident', NULL, 0, 0),"
             " (21, 'res2', 'resident', NULL, 0, 0)");
    if (cases_month_parse("2026-11", &f->t0, &f->t1))
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

/* ---- writing history directly ---- */

/* A case submitted at `created` (with its "submitted" event), the usual limits. */
static void add_case(struct fixture *f, int64_t id, const char *unit, const char *area,
                     const char *category, int64_t created, const char *state)
{
    char areav[24];
    snprintf(areav, sizeof areav, area ? "'%s'" : "NULL", area);
    sqlf(f,
         "INSERT INTO cases (id, number, channel, category, title, description, area_code, state,"
         " unit_code, deadline_class, response_minutes, resolve_minutes, response_due_at,"
         " created_at, updated_at) VALUES (%lld, 'T%lld', 'snap', '%s', '事项%lld', '', %s, '%s',"
         " '%s', 'general', %d, %d, %lld, %lld, %lld);"
         "INSERT INTO case_events (case_id, at, kind, state) VALUES (%lld, %lld, 'submitted',"
         " 'submitted')",
         (long long)id, (long long)id, category, (long long)id, areav, state, unit, RESPOND,
         RESOLVE, (long long)(created + RESPOND * MIN_MS), (long long)created, (long long)created,
         (long long)id, (long long)created);
}

static void ev(struct fixture *f, int64_t id, const char *kind, int64_t at, const char *detail)
{
    sqlf(f,
         "INSERT INTO case_events (case_id, at, kind, state, detail) VALUES (%lld, %lld, '%s',"
         " 'in_progress', '%s')",
         (long long)id, (long long)at, kind, detail ? detail : "{}");
}

static void rated(struct fixture *f, int64_t id, const char *rating, int64_t at)
{
    char detail[96];
    snprintf(detail, sizeof detail, "{\"rating\": \"%s\", \"resolution\": 1}", rating);
    ev(f, id, "rated", at, detail);
}

/* The history of the hand computation (times from T0 = 2026-11-01 00:00 +08:00):
 *
 * unit C1 (limits: response 24 h from submission, resolution 7 days):
 *  1  submitted T0+1d, accepted +2h (on time), resolved T0+4d+2h (on time), rated satisfied
 *  2  submitted T0+2d, accepted T0+3d+1h (1 h late), resolved T0+11d+1h (1 day late), rated
 *     unsatisfied, reopened T0+12d+1h, resolved T0+14d (on time), rated basically satisfied
 *  3  submitted T0+3d, rejected +1h: responded on time, owes no resolution
 *  4  submitted T0+4d, accepted +1h, rejected T0+5d (before its resolution deadline)
 *  5  submitted T0+5d, accepted +1h, never resolved: late by `now` (T0+20d)
 *  6  submitted T0+28d: response due T0+29d, after `now`: pending
 *  7  submitted 2026-10-31 22:00 (before the period), due T0+22h (in it): accepted T0+1h,
 *     resolved T0+2d - counts for response and resolution, not as received
 *  8  submitted T0+29d+12h: response due in December - received, nothing else
 *  9  submitted and resolved in October, rated satisfied T0+1d: only the rating counts
 *  12 submitted T0+18d, accepted +1h: resolution due T0+25d+1h, after `now`: pending
 * unit dept-cgj (cases in C4):
 *  10 submitted T0+1d, marked duplicate +30 min: responded on time
 *  11 submitted T0+6d, never touched: response late
 * unit C2:
 *  13 submitted T0+19d+23h: response pending, nothing decided */
static void write_history(struct fixture *f)
{
    int64_t t0 = f->t0;
    add_case(f, 1, C1, C1, "corridor_clutter", t0 + DAY_MS, "closed");
    ev(f, 1, "accepted", t0 + DAY_MS + 2 * HOUR_MS, NULL);
    ev(f, 1, "resolved", t0 + 4 * DAY_MS + 2 * HOUR_MS, NULL);
    rated(f, 1, "satisfied", t0 + 5 * DAY_MS);

    add_case(f, 2, C1, C1, "small_ads", t0 + 2 * DAY_MS, "resolved");
    ev(f, 2, "accepted", t0 + 3 * DAY_MS + HOUR_MS, NULL);
    ev(f, 2, "resolved", t0 + 11 * DAY_MS + HOUR_MS, NULL);
    rated(f, 2, "unsatisfied", t0 + 12 * DAY_MS);
    ev(f, 2, "reopened", t0 + 12 * DAY_MS + HOUR_MS, NULL);
    ev(f, 2, "resolved", t0 + 14 * DAY_MS, NULL);
    rated(f, 2, "basically_satisfied", t0 + 15 * DAY_MS);

    add_case(f, 3, C1, C1, "noise", t0 + 3 * DAY_MS, "rejected");
    ev(f, 3, "rejected", t0 + 3 * DAY_MS + HOUR_MS, NULL);

    add_case(f, 4, C1, C1, "noise", t0 + 4 * DAY_MS, "rejected");
    ev(f, 4, "accepted", t0 + 4 * DAY_MS + HOUR_MS, NULL);
    ev(f, 4, "rejected", t0 + 5 * DAY_MS, NULL);

    add_case(f, 5, C1, C1, "sanitation", t0 + 5 * DAY_MS, "in_progress");
    ev(f, 5, "accepted", t0 + 5 * DAY_MS + HOUR_MS, NULL);

    add_case(f, 6, C1, C1, "sanitation", t0 + 28 * DAY_MS, "submitted");

    add_case(f, 7, C1, C1, "sanitation", t0 - 2 * HOUR_MS, "resolved");
    ev(f, 7, "accepted", t0 + HOUR_MS, NULL);
    ev(f, 7, "resolved", t0 + 2 * DAY_MS, NULL);

    add_case(f, 8, C1, C1, "sanitation", t0 + 29 * DAY_MS + 12 * HOUR_MS, "accepted");
    ev(f, 8, "accepted", t0 + 29 * DAY_MS + 13 * HOUR_MS, NULL);

    add_case(f, 9, C1, C1, "sanitation", t0 - 12 * DAY_MS, "closed");
    ev(f, 9, "accepted", t0 - 12 * DAY_MS + HOUR_MS, NULL);
    ev(f, 9, "resolved", t0 - 11 * DAY_MS, NULL);
    rated(f, 9, "satisfied", t0 + DAY_MS);

    add_case(f, 12, C1, C1, "sanitation", t0 + 18 * DAY_MS, "accepted");
    ev(f, 12, "accepted", t0 + 18 * DAY_MS + HOUR_MS, NULL);

    add_case(f, 10, DEPT, C4, "small_ads", t0 + DAY_MS, "duplicate");
    ev(f, 10, "duplicate", t0 + DAY_MS + 30 * MIN_MS, "{\"duplicate_of\": 11}");
    add_case(f, 11, DEPT, C4, "small_ads", t0 + 6 * DAY_MS, "submitted");

    add_case(f, 13, C2, C2, "noise", t0 + 19 * DAY_MS + 23 * HOUR_MS, "submitted");
}

static const struct cases_unit_figures *find_unit(const struct cases_unit_figures *u, int n,
                                                  const char *code)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(u[i].unit, code))
            return &u[i];
    return NULL;
}

static void assert_rate(double got, double want)
{
    if (fabs(got - want) > 1e-12)
        fail_msg("rate %.15f, expected %.15f", got, want);
}

/* ---- months ---- */

static void months_are_shanghai_calendar_months(void **state)
{
    (void)state;
    int64_t s, n;
    assert_int_equal(cases_month_parse("2026-11", &s, &n), 0);
    int64_t want;
    assert_int_equal(clock_parse_rfc3339("2026-11-01T00:00:00+08:00", &want), 0);
    assert_int_equal(s, want);
    assert_int_equal(clock_parse_rfc3339("2026-12-01T00:00:00+08:00", &want), 0);
    assert_int_equal(n, want);
    assert_int_equal(cases_month_parse("2026-12", &s, &n), 0);
    assert_int_equal(clock_parse_rfc3339("2027-01-01T00:00:00+08:00", &want), 0);
    assert_int_equal(n, want);
    /* 2026-10-31T16:30Z is 00:30 on 1 November in Beijing */
    int64_t at;
    assert_int_equal(clock_parse_rfc3339("2026-10-31T16:30:00Z", &at), 0);
    cases_month_of(at, &s, &n);
    assert_int_equal(clock_parse_rfc3339("2026-11-01T00:00:00+08:00", &want), 0);
    assert_int_equal(s, want);
    assert_int_equal(cases_month_parse("2024-02", &s, &n), 0);
    assert_int_equal(n - s, 29 * DAY_MS);
    assert_int_equal(cases_month_parse("2026-13", &s, &n), -1);
    assert_int_equal(cases_month_parse("2026-1", &s, &n), -1);
    assert_int_equal(cases_month_parse("26-11-01", &s, &n), -1);
    assert_int_equal(cases_month_parse("2026/11", &s, &n), -1);
}

/* ---- the figures ---- */

static void every_rate_matches_the_hand_computation(void **state)
{
    struct fixture *f = *state;
    write_history(f);
    struct cases_stats_query q = {.from_ms = f->t0, .to_ms = f->t1, .now_ms = f->t0 + 20 * DAY_MS};
    struct cases_unit_figures *u, tot;
    int n;
    assert_ok(cases_stats_compute(&f->d, &f->admin, &q, &u, &n, &tot, &f->err), &f->err);
    assert_int_equal(n, 3);

    const struct cases_unit_figures *c1 = find_unit(u, n, C1);
    assert_non_null(c1);
    assert_string_equal(c1->name, "一社区");
    assert_int_equal(c1->received, 8); /* 1-6, 8, 12; not 7 (October) nor 9 */
    assert_int_equal(c1->states[CASE_CLOSED], 1);
    assert_int_equal(c1->states[CASE_RESOLVED], 1);
    assert_int_equal(c1->states[CASE_REJECTED], 2);
    assert_int_equal(c1->states[CASE_IN_PROGRESS], 1);
    assert_int_equal(c1->states[CASE_SUBMITTED], 1);
    assert_int_equal(c1->states[CASE_ACCEPTED], 2);
    /* response: due 1, 2, 3, 4, 5, 7, 12 (6 pending, 8 due in December); late: 2 */
    assert_int_equal(c1->response.due, 7);
    assert_int_equal(c1->response.on_time, 6);
    assert_int_equal(c1->response.late, 1);
    assert_int_equal(c1->response.pending, 1);
    assert_rate(c1->response_rate, 6.0 / 7.0);
    /* resolution: 1, 2 (twice), 5, 7 due; 2's first and 5 late; 4 owes none; 12 pending */
    assert_int_equal(c1->resolution.due, 5);
    assert_int_equal(c1->resolution.on_time, 3);
    assert_int_equal(c1->resolution.late, 2);
    assert_int_equal(c1->resolution.pending, 1);
    assert_rate(c1->resolution_rate, 3.0 / 5.0);
    /* ratings made in November: 1 satisfied, 2 unsatisfied then basically, 9 satisfied */
    assert_int_equal(c1->rated, 4);
    assert_int_equal(c1->satisfied, 2);
    assert_int_equal(c1->basically_satisfied, 1);
    assert_int_equal(c1->unsatisfied, 1);
    assert_rate(c1->satisfaction_rate, 3.0 / 4.0);
    assert_int_equal(c1->reopened, 1);
    assert_rate(c1->score, (6.0 / 7.0 + 3.0 / 5.0 + 3.0 / 4.0) / 3.0);

    const struct cases_unit_figures *dept = find_unit(u, n, DEPT);
    assert_non_null(dept);
    assert_string_equal(dept->name, "区城管执法局");
    assert_int_equal(dept->received, 2);
    assert_int_equal(dept->states[CASE_DUPLICATE], 1);
    assert_int_equal(dept->response.due, 2);
    assert_int_equal(dept->response.on_time, 1);
    assert_int_equal(dept->response.late, 1);
    assert_rate(dept->response_rate, 0.5);
    assert_int_equal(dept->resolution.due, 0);
    assert_true(dept->resolution_rate < 0);
    assert_true(dept->satisfaction_rate < 0);
    assert_rate(dept->score, 0.5);

    const struct cases_unit_figures *c2 = find_unit(u, n, C2);
    assert_non_null(c2);
    assert_int_equal(c2->received, 1);
    assert_int_equal(c2->response.pending, 1);
    assert_int_equal(c2->response.due, 0);
    assert_true(c2->score < 0);

    /* ranked by score, the unit with nothing decided last and unranked */
    assert_string_equal(u[0].unit, C1);
    assert_int_equal(u[0].rank, 1);
    assert_string_equal(u[1].unit, DEPT);
    assert_int_equal(u[1].rank, 2);
    assert_string_equal(u[2].unit, C2);
    assert_int_equal(u[2].rank, 0);

    /* totals pool the counts, and their rates are of the pooled counts */
    assert_int_equal(tot.received, 11);
    assert_int_equal(tot.response.due, 9);
    assert_int_equal(tot.response.on_time, 7);
    assert_int_equal(tot.response.pending, 2);
    assert_rate(tot.response_rate, 7.0 / 9.0);
    assert_int_equal(tot.resolution.due, 5);
    assert_int_equal(tot.rated, 4);
    assert_int_equal(tot.reopened, 1);
    free(u);
}

static void a_later_now_decides_what_was_pending(void **state)
{
    struct fixture *f = *state;
    write_history(f);
    /* at the end of the month case 6's response (due T0+29d) is late, case 12's resolution
     * (due T0+25d+1h) too, case 13's response (due T0+20d+23h) too */
    struct cases_stats_query q = {.from_ms = f->t0, .to_ms = f->t1, .now_ms = f->t1};
    struct cases_unit_figures *u, tot;
    int n;
    assert_ok(cases_stats_compute(&f->d, &f->admin, &q, &u, &n, &tot, &f->err), &f->err);
    const struct cases_unit_figures *c1 = find_unit(u, n, C1);
    assert_int_equal(c1->response.due, 8);
    assert_int_equal(c1->response.late, 2);
    assert_int_equal(c1->response.pending, 0);
    assert_int_equal(c1->resolution.due, 6);
    assert_int_equal(c1->resolution.late, 3);
    assert_int_equal(c1->resolution.pending, 0);
    const struct cases_unit_figures *c2 = find_unit(u, n, C2);
    assert_int_equal(c2->response.due, 1);
    assert_int_equal(c2->response.late, 1);
    assert_int_equal(c2->rank, 3); /* 0.0 is a score: ranked, last */
    free(u);
}

static void a_rejection_after_the_deadline_counts_as_late(void **state)
{
    struct fixture *f = *state;
    add_case(f, 1, C1, C1, "noise", f->t0 + DAY_MS, "rejected");
    ev(f, 1, "accepted", f->t0 + DAY_MS + HOUR_MS, NULL);
    ev(f, 1, "rejected", f->t0 + 9 * DAY_MS, NULL); /* 7 days + 1 h after acceptance */
    struct cases_stats_query q = {.from_ms = f->t0, .to_ms = f->t1, .now_ms = f->t1};
    struct cases_unit_figures *u, tot;
    int n;
    assert_ok(cases_stats_compute(&f->d, &f->admin, &q, &u, &n, &tot, &f->err), &f->err);
    assert_int_equal(n, 1);
    assert_int_equal(u[0].resolution.due, 1);
    assert_int_equal(u[0].resolution.late, 1);
    assert_rate(u[0].resolution_rate, 0.0);
    free(u);
}

static void equal_scores_are_ranked_by_unit_code(void **state)
{
    struct fixture *f = *state;
    add_case(f, 1, C2, C2, "noise", f->t0 + DAY_MS, "accepted");
    ev(f, 1, "accepted", f->t0 + DAY_MS + HOUR_MS, NULL);
    add_case(f, 2, C1, C1, "noise", f->t0 + DAY_MS, "accepted");
    ev(f, 2, "accepted", f->t0 + DAY_MS + HOUR_MS, NULL);
    add_case(f, 3, DEPT, C4, "noise", f->t0 + DAY_MS, "accepted");
    ev(f, 3, "accepted", f->t0 + DAY_MS + HOUR_MS, NULL);
    struct cases_stats_query q = {.from_ms = f->t0, .to_ms = f->t1, .now_ms = f->t0 + 3 * DAY_MS};
    struct cases_unit_figures *u, tot;
    int n;
    assert_ok(cases_stats_compute(&f->d, &f->admin, &q, &u, &n, &tot, &f->err), &f->err);
    assert_int_equal(n, 3);
    assert_string_equal(u[0].unit, C1);
    assert_string_equal(u[1].unit, C2);
    assert_string_equal(u[2].unit, DEPT);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(u[i].rank, i + 1);
        assert_rate(u[i].score, 1.0);
    }
    free(u);
}

static void staff_see_the_units_of_their_scope_and_their_memberships(void **state)
{
    struct fixture *f = *state;
    write_history(f);
    struct cases_stats_query q = {.from_ms = f->t0, .to_ms = f->t1, .now_ms = f->t0 + 20 * DAY_MS};
    struct cases_unit_figures *u, tot;
    int n;
    assert_ok(cases_stats_compute(&f->d, &f->jianwai, &q, &u, &n, &tot, &f->err), &f->err);
    assert_int_equal(n, 2);
    assert_non_null(find_unit(u, n, C1));
    assert_non_null(find_unit(u, n, C2));
    assert_int_equal(tot.received, 9);
    free(u);

    sql_exec(f->d.store, "INSERT INTO unit_members VALUES ('dept-cgj', 2, 0)");
    assert_ok(cases_stats_compute(&f->d, &f->jianwai, &q, &u, &n, &tot, &f->err), &f->err);
    assert_int_equal(n, 3);
    assert_non_null(find_unit(u, n, DEPT));
    free(u);

    /* the auditor sees every unit; a community worker only its own community */
    assert_ok(cases_stats_compute(&f->d, &f->auditor, &q, &u, &n, &tot, &f->err), &f->err);
    assert_int_equal(n, 3);
    free(u);
    assert_ok(cases_stats_compute(&f->d, &f->c4, &q, &u, &n, &tot, &f->err), &f->err);
    assert_int_equal(n, 0);
    free(u);

    linli_err_clear(&f->err);
    q.unit = C1;
    assert_int_equal(cases_stats_compute(&f->d, &f->c4, &q, &u, &n, &tot, &f->err),
                     LINLI_EFORBIDDEN);
    linli_err_clear(&f->err);
    q.unit = NULL;
    q.area = JIANWAI;
    assert_int_equal(cases_stats_compute(&f->d, &f->c4, &q, &u, &n, &tot, &f->err),
                     LINLI_EFORBIDDEN);
    linli_err_clear(&f->err);
    q.area = NULL;
    assert_int_equal(cases_stats_compute(&f->d, &f->resident, &q, &u, &n, &tot, &f->err),
                     LINLI_EFORBIDDEN);
}

static void unit_and_area_narrow_the_figures(void **state)
{
    struct fixture *f = *state;
    write_history(f);
    struct cases_stats_query q = {
        .from_ms = f->t0, .to_ms = f->t1, .now_ms = f->t0 + 20 * DAY_MS, .area = "110105002"};
    struct cases_unit_figures *u, tot;
    int n;
    assert_ok(cases_stats_compute(&f->d, &f->admin, &q, &u, &n, &tot, &f->err), &f->err);
    assert_int_equal(n, 1);
    assert_string_equal(u[0].unit, DEPT);
    free(u);

    /* a unit asked for is listed even with nothing to count; its 9-digit form is normalised */
    q.area = NULL;
    q.unit = JIANWAI;
    q.unit = "110105001";
    assert_ok(cases_stats_compute(&f->d, &f->admin, &q, &u, &n, &tot, &f->err), &f->err);
    assert_int_equal(n, 1);
    assert_string_equal(u[0].unit, JIANWAI);
    assert_string_equal(u[0].name, "建外街道");
    assert_int_equal(u[0].received, 0);
    assert_int_equal(u[0].rank, 0);
    free(u);

    q.unit = C1;
    assert_ok(cases_stats_compute(&f->d, &f->jianwai, &q, &u, &n, &tot, &f->err), &f->err);
    assert_int_equal(n, 1);
    assert_int_equal(u[0].received, 8);
    free(u);

    linli_err_clear(&f->err);
    q.unit = "dept-nosuch";
    assert_int_equal(cases_stats_compute(&f->d, &f->admin, &q, &u, &n, &tot, &f->err),
                     LINLI_EINVAL);
    assert_field_error(&f->err, "unit", "no unit");
    linli_err_clear(&f->err);
    q.unit = "nonsense";
    assert_int_equal(cases_stats_compute(&f->d, &f->admin, &q, &u, &n, &tot, &f->err),
                     LINLI_EINVAL);
    assert_field_error(&f->err, "unit", "department");
}

static void the_period_is_checked_and_defaults_to_the_month(void **state)
{
    struct fixture *f = *state;
    write_history(f);
    struct cases_unit_figures *u, tot;
    int n;
    struct cases_stats_query q = {.from_ms = f->t1, .to_ms = f->t0};
    assert_int_equal(cases_stats_compute(&f->d, &f->admin, &q, &u, &n, &tot, &f->err),
                     LINLI_EINVAL);
    assert_field_error(&f->err, "to", "after from");
    linli_err_clear(&f->err);
    q = (struct cases_stats_query){.from_ms = f->t0 - 400 * DAY_MS, .to_ms = f->t0};
    assert_int_equal(cases_stats_compute(&f->d, &f->admin, &q, &u, &n, &tot, &f->err),
                     LINLI_EINVAL);
    assert_field_error(&f->err, "from", "366 days");

    /* no period: the month of `now`; only `to`: the month before it */
    linli_err_clear(&f->err);
    q = (struct cases_stats_query){.now_ms = f->t0 + 20 * DAY_MS};
    assert_ok(cases_stats_compute(&f->d, &f->admin, &q, &u, &n, &tot, &f->err), &f->err);
    assert_int_equal(tot.received, 11);
    free(u);
    q = (struct cases_stats_query){.to_ms = f->t0, .now_ms = f->t1};
    assert_ok(cases_stats_compute(&f->d, &f->admin, &q, &u, &n, &tot, &f->err), &f->err);
    assert_int_equal(tot.received, 2); /* 7 and 9, submitted in October */
    free(u);

    json_t *out;
    q = (struct cases_stats_query){.from_ms = f->t0, .now_ms = f->t0 + 20 * DAY_MS};
    assert_ok(cases_stats_report(&f->d, &f->admin, &q, &out, &f->err), &f->err);
    assert_string_equal(json_string_value(json_object_get(out, "from")),
                        "2026-10-31T16:00:00.000Z");
    assert_string_equal(json_string_value(json_object_get(out, "to")), "2026-11-30T16:00:00.000Z");
    json_t *first = json_array_get(json_object_get(out, "units"), 0);
    assert_string_equal(json_string_value(json_object_get(first, "unit")), C1);
    assert_int_equal(json_integer_value(json_object_get(first, "rank")), 1);
    json_t *resolution = json_object_get(first, "resolution");
    assert_int_equal(json_integer_value(json_object_get(resolution, "due")), 5);
    assert_rate(json_real_value(json_object_get(resolution, "rate")), 0.6);
    json_t *dept = json_array_get(json_object_get(out, "units"), 1);
    assert_true(json_is_null(json_object_get(json_object_get(dept, "satisfaction"), "rate")));
    json_decref(out);
}

/* ---- recurring problems ---- */

static void recurring_problems_rank_pairs_and_compare_with_last_month(void **state)
{
    struct fixture *f = *state;
    int64_t nov = f->t0 + 2 * DAY_MS, oct = f->t0 - 10 * DAY_MS;
    int64_t id = 1;
    for (int i = 0; i < 3; i++)
        add_case(f, id++, C1, C1, "corridor_clutter", nov + i, "submitted");
    for (int i = 0; i < 2; i++)
        add_case(f, id++, C1, C1, "small_ads", nov + i, "submitted");
    for (int i = 0; i < 2; i++)
        add_case(f, id++, C2, C2, "corridor_clutter", nov + i, "accepted");
    add_case(f, id++, C2, C2, "corridor_clutter", nov, "duplicate"); /* the same matter again */
    add_case(f, id++, C2, C2, "corridor_clutter", nov, "rejected");
    add_case(f, id++, JIANWAI, NULL, "corridor_clutter", nov, "submitted"); /* no area */
    add_case(f, id++, DEPT, C4, "noise", nov, "submitted");
    add_case(f, id++, C1, C1, "corridor_clutter", oct, "closed");
    for (int i = 0; i < 4; i++)
        add_case(f, id++, C2, C2, "corridor_clutter", oct + i, "closed");
    add_case(f, id++, C1, C1, "corridor_clutter", f->t1, "submitted"); /* December */

    struct cases_recurring_query q = {.month = "2026-11", .limit = 3};
    struct cases_recurring_item *it;
    int n;
    int64_t start;
    assert_ok(cases_recurring(&f->d, &f->admin, &q, &it, &n, &start, &f->err), &f->err);
    assert_int_equal(start, f->t0);
    assert_int_equal(n, 3);
    assert_string_equal(it[0].category, "corridor_clutter");
    assert_string_equal(it[0].category_name, "堆物堆料");
    assert_string_equal(it[0].area_code, C1);
    assert_string_equal(it[0].area_name, "一社区");
    assert_int_equal(it[0].count, 3);
    assert_int_equal(it[0].previous, 1);
    /* a tie of 2: by category code */
    assert_string_equal(it[1].category, "corridor_clutter");
    assert_string_equal(it[1].area_code, C2);
    assert_int_equal(it[1].count, 2);
    assert_int_equal(it[1].previous, 4);
    assert_string_equal(it[2].category, "small_ads");
    assert_int_equal(it[2].count, 2);
    assert_int_equal(it[2].previous, 0);
    free(it);

    /* a community worker sees its own community only; the street its own */
    q.limit = 0;
    assert_ok(cases_recurring(&f->d, &f->c4, &q, &it, &n, &start, &f->err), &f->err);
    assert_int_equal(n, 1);
    assert_string_equal(it[0].category, "noise");
    free(it);
    assert_ok(cases_recurring(&f->d, &f->jianwai, &q, &it, &n, &start, &f->err), &f->err);
    assert_int_equal(n, 3);
    free(it);
    q.area = C2;
    assert_ok(cases_recurring(&f->d, &f->jianwai, &q, &it, &n, &start, &f->err), &f->err);
    assert_int_equal(n, 1);
    free(it);

    json_t *out;
    q = (struct cases_recurring_query){.month = "2026-11", .limit = 1};
    assert_ok(cases_recurring_report(&f->d, &f->admin, &q, &out, &f->err), &f->err);
    assert_string_equal(json_string_value(json_object_get(out, "month")), "2026-11");
    assert_string_equal(json_string_value(json_object_get(out, "previous_month")), "2026-10");
    json_t *top = json_array_get(json_object_get(out, "items"), 0);
    assert_int_equal(json_integer_value(json_object_get(top, "change")), 2);
    assert_int_equal(json_array_size(json_object_get(out, "items")), 1);
    json_decref(out);

    linli_err_clear(&f->err);
    q = (struct cases_recurring_query){.month = "2026-1", .limit = 101};
    assert_int_equal(cases_recurring(&f->d, &f->admin, &q, &it, &n, &start, &f->err), LINLI_EINVAL);
    assert_field_error(&f->err, "month", "YYYY-MM");
    assert_field_error(&f->err, "limit", "1 to 100");
    linli_err_clear(&f->err);
    q = (struct cases_recurring_query){.area = CHAOWAI};
    assert_int_equal(cases_recurring(&f->d, &f->jianwai, &q, &it, &n, &start, &f->err),
                     LINLI_EFORBIDDEN);
}

/* ---- search ---- */

static void add_text_case(struct fixture *f, int64_t id, const char *unit, const char *area,
                          const char *title, const char *description, int64_t reporter)
{
    char rep[24];
    snprintf(rep, sizeof rep, reporter ? "%lld" : "NULL", (long long)reporter);
    sqlf(f,
         "INSERT INTO cases (id, number, channel, category, title, description, address, area_code,"
         " state, unit_code, deadline_class, response_minutes, resolve_minutes, response_due_at,"
         " created_at, updated_at, reporter_user_id, contact_name, contact_phone) VALUES"
         " (%lld, 'S%lld', 'snap', 'corridor_clutter', '%s', '%s', '建国门外大街%lld号', '%s',"
         " 'submitted', '%s', 'general', 1440, 10080, %lld, %lld, %lld, %s, '张三', "
         "'13800138000')",
         (long long)id, (long long)id, title, description, (long long)id, area, unit,
         (long long)(f->t0 + id * HOUR_MS + DAY_MS), (long long)(f->t0 + id * HOUR_MS),
         (long long)(f->t0 + id * HOUR_MS), rep);
}

static void write_texts(struct fixture *f)
{
    add_text_case(f, 1, C1, C1, "楼道堆放杂物", "三楼楼道堆满纸箱，影响通行", 20);
    add_text_case(f, 2, C1, C1, "电线杆小广告", "电线杆上贴满小广告", 21);
    add_text_case(f, 3, C2, C2, "楼道灯不亮", "五单元楼道灯坏了", 20);
    add_text_case(f, 4, DEPT, C4, "共享单车乱停", "地铁口单车堆放", 0);
    add_text_case(f, 5, C1, C1, "=SUM(A1)", "+danger, \"quoted\"", 0);
}

static int ids_of(const struct case_record *items, int n, char *out, size_t size)
{
    size_t at = 0;
    out[0] = '\0';
    for (int i = 0; i < n; i++)
        at += (size_t)snprintf(out + at, size - at, "%s%lld", i ? "," : "", (long long)items[i].id);
    return n;
}

static void search_expect(struct fixture *f, const struct principal *who,
                          const struct cases_search_query *q, const char *want)
{
    struct case_record *items;
    int n;
    int64_t next;
    char got[128];
    assert_ok(cases_search(&f->d, who, q, &items, &n, &next, &f->err), &f->err);
    ids_of(items, n, got, sizeof got);
    free(items);
    if (strcmp(got, want))
        fail_msg("search \"%s\": got [%s], want [%s]", q->q ? q->q : "", got, want);
}

static void search_finds_chinese_by_three_characters_and_by_one_or_two(void **state)
{
    struct fixture *f = *state;
    write_texts(f);
    struct cases_search_query q = {.state = -1, .limit = 50};
    q.q = "小广告"; /* a trigram */
    search_expect(f, &f->admin, &q, "2");
    q.q = "楼道灯"; /* the title */
    search_expect(f, &f->admin, &q, "3");
    q.q = "影响通行"; /* the description */
    search_expect(f, &f->admin, &q, "1");
    q.q = "建国门外大街4号"; /* the address */
    search_expect(f, &f->admin, &q, "4");
    q.q = "楼道"; /* two characters: no trigram, substring */
    search_expect(f, &f->admin, &q, "3,1");
    q.q = "灯";
    search_expect(f, &f->admin, &q, "3");
    q.q = "堆放"; /* in a title and a description */
    search_expect(f, &f->admin, &q, "4,1");
    q.q = "不存在的事";
    search_expect(f, &f->admin, &q, "");
    q.q = "%";
    search_expect(f, &f->admin, &q, ""); /* LIKE's wildcard is a character like any */
    q.q = "\"quoted\"";                  /* FTS5 syntax is text */
    search_expect(f, &f->admin, &q, "5");
    q.q = NULL;
    search_expect(f, &f->admin, &q, "5,4,3,2,1");
}

static void search_combines_text_with_filters_and_pages(void **state)
{
    struct fixture *f = *state;
    write_texts(f);
    struct cases_search_query q = {.q = "楼道", .state = -1, .limit = 50, .unit = "110105001002"};
    search_expect(f, &f->admin, &q, "3");
    q = (struct cases_search_query){.q = "堆放", .state = -1, .limit = 50, .area = "110105002"};
    search_expect(f, &f->admin, &q, "4");
    q = (struct cases_search_query){.q = "楼道堆", .state = CASE_CLOSED, .limit = 50};
    search_expect(f, &f->admin, &q, "");
    q = (struct cases_search_query){.state = -1,
                                    .limit = 50,
                                    .category = "corridor_clutter",
                                    .from_ms = f->t0 + 2 * HOUR_MS,
                                    .to_ms = f->t0 + 4 * HOUR_MS};
    search_expect(f, &f->admin, &q, "3,2");

    /* pages of two, newest first, by the cursor */
    q = (struct cases_search_query){.state = -1, .limit = 2};
    struct case_record *items;
    int n;
    int64_t next;
    char got[64];
    assert_ok(cases_search(&f->d, &f->admin, &q, &items, &n, &next, &f->err), &f->err);
    ids_of(items, n, got, sizeof got);
    free(items);
    assert_string_equal(got, "5,4");
    assert_int_equal(next, 4);
    q.before_id = next;
    assert_ok(cases_search(&f->d, &f->admin, &q, &items, &n, &next, &f->err), &f->err);
    ids_of(items, n, got, sizeof got);
    free(items);
    assert_string_equal(got, "3,2");
    q.before_id = next;
    assert_ok(cases_search(&f->d, &f->admin, &q, &items, &n, &next, &f->err), &f->err);
    ids_of(items, n, got, sizeof got);
    free(items);
    assert_string_equal(got, "1");
    assert_int_equal(next, 0);
    /* the same through the trigram index, and through the short-text scan */
    const char *texts[] = {"建国门外大街", "号"};
    for (int t = 0; t < 2; t++) {
        q = (struct cases_search_query){.q = texts[t], .state = -1, .limit = 2};
        char all[64] = "";
        do {
            assert_ok(cases_search(&f->d, &f->admin, &q, &items, &n, &next, &f->err), &f->err);
            ids_of(items, n, got, sizeof got);
            free(items);
            strcat(all, got);
            strcat(all, "|");
            q.before_id = next;
        } while (next);
        assert_string_equal(all, "5,4|3,2|1|");
    }

    linli_err_clear(&f->err);
    q = (struct cases_search_query){
        .q = "", .state = -1, .limit = 0, .area = "12", .category = "Bad Code"};
    assert_int_equal(cases_search(&f->d, &f->admin, &q, &items, &n, &next, &f->err), LINLI_EINVAL);
    assert_field_error(&f->err, "q", "1 to 64");
    assert_field_error(&f->err, "limit", "1 to 500");
    assert_field_error(&f->err, "area", "6, 9 or 12");
    assert_field_error(&f->err, "category", "category");
}

static void search_shows_only_what_the_caller_may_see(void **state)
{
    struct fixture *f = *state;
    write_texts(f);
    struct cases_search_query q = {.q = "楼道", .state = -1, .limit = 50};
    search_expect(f, &f->resident, &q, "3,1"); /* both are the resident's own */
    search_expect(f, &f->other_resident, &q, "");
    search_expect(f, &f->c4, &q, "");
    q.q = NULL;
    search_expect(f, &f->other_resident, &q, "2");
    search_expect(f, &f->c4, &q, "4");
    search_expect(f, &f->jianwai, &q, "5,3,2,1");

    /* the street sees contact details only of cases it handles; the reporter its own */
    struct case_record *items;
    int n;
    int64_t next;
    q.q = "小广告";
    assert_ok(cases_search(&f->d, &f->c4, &q, &items, &n, &next, &f->err), &f->err);
    assert_int_equal(n, 0);
    free(items);
    assert_ok(cases_search(&f->d, &f->other_resident, &q, &items, &n, &next, &f->err), &f->err);
    assert_int_equal(n, 1);
    assert_string_equal(items[0].contact_phone, "13800138000");
    free(items);
}

static void a_short_text_reads_a_bounded_number_of_cases_per_page(void **state)
{
    struct fixture *f = *state;
    add_text_case(f, 1, C1, C1, "路灯坏了", "", 0);
    /* CASES_SHORT_QUERY_SCAN + 10 newer cases without the text */
    sqlf(f,
         "WITH RECURSIVE n(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM n WHERE i < %d)"
         " INSERT INTO cases (id, number, channel, category, title, area_code, state, unit_code,"
         " deadline_class, response_minutes, resolve_minutes, response_due_at, created_at,"
         " updated_at) SELECT i, 'N' || i, 'snap', 'noise', '噪音扰民', '%s', 'submitted', '%s',"
         " 'general', 1440, 10080, 0, 0, 0 FROM n",
         CASES_SHORT_QUERY_SCAN + 11, C1, C1);
    struct cases_search_query q = {.q = "灯", .state = -1, .limit = 10};
    struct case_record *items;
    int n;
    int64_t next;
    assert_ok(cases_search(&f->d, &f->admin, &q, &items, &n, &next, &f->err), &f->err);
    free(items);
    assert_int_equal(n, 0);     /* nothing in the newest CASES_SHORT_QUERY_SCAN ... */
    assert_int_equal(next, 12); /* ... but the cursor goes on below them */
    q.before_id = next;
    assert_ok(cases_search(&f->d, &f->admin, &q, &items, &n, &next, &f->err), &f->err);
    assert_int_equal(n, 1);
    assert_int_equal(items[0].id, 1);
    assert_int_equal(next, 0);
    free(items);
    /* the bound is on cases read, not on cases that pass the filters: a filter no newer case
     * passes still gives a page of none and a cursor */
    q = (struct cases_search_query){.q = "灯", .state = -1, .limit = 10, .area = C2};
    assert_ok(cases_search(&f->d, &f->admin, &q, &items, &n, &next, &f->err), &f->err);
    free(items);
    assert_int_equal(n, 0);
    assert_int_equal(next, 12);
    q.before_id = next;
    assert_ok(cases_search(&f->d, &f->admin, &q, &items, &n, &next, &f->err), &f->err);
    free(items);
    assert_int_equal(n, 0);
    assert_int_equal(next, 0);
    /* three characters go through the index, whatever lies between */
    q = (struct cases_search_query){.q = "路灯坏", .state = -1, .limit = 10};
    assert_ok(cases_search(&f->d, &f->admin, &q, &items, &n, &next, &f->err), &f->err);
    assert_int_equal(n, 1);
    assert_int_equal(next, 0);
    free(items);
}

/* ---- CSV ---- */

static int collect(void *ctx, const struct case_record *r)
{
    return cases_csv_row(ctx, r) ? LINLI_EIO : LINLI_OK;
}

static void the_csv_guards_formulas_and_leaves_out_contact_details(void **state)
{
    struct fixture *f = *state;
    write_texts(f);
    char *data = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&data, &len);
    assert_non_null(out);
    assert_int_equal(cases_csv_header(out), 0);
    struct cases_search_query q = {.state = -1, .limit = 1, .unit = C1};
    int64_t count;
    assert_ok(cases_export(&f->d, &f->jianwai, &q, collect, out, &count, &f->err), &f->err);
    fclose(out);
    assert_int_equal(count, 3);
    assert_contains(data, "id,number,channel,category,title,description,address,lat,lon,");
    assert_contains(data,
                    "\n5,S5,snap,corridor_clutter,\"'=SUM(A1)\",\"'+danger, \"\"quoted\"\"\"");
    assert_contains(data, "\n1,S1,snap,corridor_clutter,楼道堆放杂物,三楼楼道堆满纸箱，影响通行,");
    assert_null(strstr(data, "13800138000"));
    assert_null(strstr(data, "张三"));
    /* newest first: 5, 2, 1 */
    assert_true(strstr(data, "\n5,") < strstr(data, "\n2,"));
    assert_true(strstr(data, "\n2,") < strstr(data, "\n1,"));
    free(data);
    assert_int_equal(
        sql_int(f->d.store, "SELECT count(*) FROM audit_log WHERE action = 'case.export'", NULL),
        1);

    linli_err_clear(&f->err);
    assert_int_equal(cases_export(&f->d, &f->resident, &q, collect, stdout, &count, &f->err),
                     LINLI_EFORBIDDEN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(months_are_shanghai_calendar_months),
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(every_rate_matches_the_hand_computation),
        T(a_later_now_decides_what_was_pending),
        T(a_rejection_after_the_deadline_counts_as_late),
        T(equal_scores_are_ranked_by_unit_code),
        T(staff_see_the_units_of_their_scope_and_their_memberships),
        T(unit_and_area_narrow_the_figures),
        T(the_period_is_checked_and_defaults_to_the_month),
        T(recurring_problems_rank_pairs_and_compare_with_last_month),
        T(search_finds_chinese_by_three_characters_and_by_one_or_two),
        T(search_combines_text_with_filters_and_pages),
        T(search_shows_only_what_the_caller_may_see),
        T(a_short_text_reads_a_bounded_number_of_cases_per_page),
        T(the_csv_guards_formulas_and_leaves_out_contact_details),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
