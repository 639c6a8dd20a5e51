/* hotline_report.c - the one-key call centre's figures
 * (GET /api/v1/reports/hotline): subscribers, inbound calls by category,
 * proactive services done, answer times and their shares within 60 s and
 * 180 s, abandoned calls, and per-operator figures, for calls created in
 * [from, to) of callers in an area.
 *
 * Percentiles are exact, by the nearest-rank method over every answered
 * call's answer time (answered_at - created_at): with the n times sorted
 * ascending, the p-th percentile is the ceil(p/100 * n)-th. The shares within
 * 60 s and 180 s count answered calls with an answer time at or under the
 * limit, over the calls that were answered or abandoned (calls still waiting
 * when the report is made are in neither). Only one read transaction is
 * used, so the figures agree with each other. */
#include "base/clock.h"
#include "domain/calls.h"
#include "domain/care.h"
#include "domain/care_internal.h"
#include "domain/people.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPORT_SPAN_MAX_DAYS 366
#define WITHIN_SHORT_MS      60000
#define WITHIN_LONG_MS       180000

static const char SQL_SUBSCRIBERS[] =
    "SELECT COUNT(DISTINCT s.person_id) FROM subscriptions s JOIN people p ON p.id = s.person_id"
    " WHERE s.starts_at <= ?1 AND (s.ends_at IS NULL OR s.ends_at > ?1)"
    "   AND (?2 IS NULL OR p.community_code BETWEEN ?2 AND ?3)";
#define CALLS_WHERE                                                                                \
    " WHERE c.direction = 'inbound' AND c.created_at >= ?1 AND c.created_at < ?2"                  \
    "   AND (?3 IS NULL OR c.community_code BETWEEN ?3 AND ?4)"
static const char SQL_CALLS_BY_CATEGORY[] =
    "SELECT c.category, COUNT(*), SUM(c.state = 'abandoned'), SUM(c.answered_at IS NOT NULL)"
    " FROM calls c" CALLS_WHERE " GROUP BY c.category";
static const char SQL_ANSWER_TIMES[] =
    "SELECT c.answered_at - c.created_at FROM calls c" CALLS_WHERE
    "   AND c.answered_at IS NOT NULL ORDER BY 1";
static const char SQL_OPERATOR_CALLS[] =
    "SELECT c.operator_id, u.username, c.answered_at - c.created_at, c.closed_at - c.answered_at"
    " FROM calls c LEFT JOIN users u ON u.id = c.operator_id" CALLS_WHERE
    "   AND c.answered_at IS NOT NULL AND c.operator_id IS NOT NULL"
    " ORDER BY c.operator_id, 3";
static const char SQL_TASKS_DONE[] =
    "SELECT t.operator_id, u.username, t.kind, COUNT(*)"
    " FROM tasks t LEFT JOIN users u ON u.id = t.operator_id"
    " WHERE t.state = 'done' AND t.done_at >= ?1 AND t.done_at < ?2"
    "   AND (?3 IS NULL OR t.community_code BETWEEN ?3 AND ?4)"
    " GROUP BY t.operator_id, t.kind ORDER BY t.operator_id";

/* The nearest-rank p-th percentile of n sorted values, in seconds. */
static json_t *percentile(const int64_t *v, size_t n, int p)
{
    if (!n)
        return json_null();
    size_t rank = ((size_t)p * n + 99) / 100;
    if (rank < 1)
        rank = 1;
    return json_real((double)v[rank - 1] / 1000.0);
}

static json_t *share(int64_t part, int64_t whole)
{
    return whole ? json_real((double)part / (double)whole) : json_null();
}

struct report_job {
    int64_t from, to;
    const char *lo, *hi; /* NULL: no area filter */
    json_t *out;
};

static void bind_window(sqlite3_stmt *st, const struct report_job *j)
{
    sqlite3_bind_int64(st, 1, j->from);
    sqlite3_bind_int64(st, 2, j->to);
    if (j->lo) {
        sqlite3_bind_text(st, 3, j->lo, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 4, j->hi, -1, SQLITE_TRANSIENT);
    }
}

/* Per-operator figures, gathered from two ordered queries. */
struct op {
    int64_t id;
    char username[64];
    int64_t answered, closed, handling_ms, tasks_done;
    int64_t *times; /* answer times, sorted */
    size_t ntimes, cap;
};

struct ops {
    struct op *v;
    size_t n, cap;
};

static struct op *op_find(struct ops *o, int64_t id, const unsigned char *username)
{
    for (size_t i = 0; i < o->n; i++)
        if (o->v[i].id == id)
            return &o->v[i];
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 16;
        struct op *v = realloc(o->v, cap * sizeof *v);
        if (!v)
            return NULL;
        o->v = v;
        o->cap = cap;
    }
    struct op *p = &o->v[o->n++];
    memset(p, 0, sizeof *p);
    p->id = id;
    snprintf(p->username, sizeof p->username, "%s", username ? (const char *)username : "");
    return p;
}

static void ops_free(struct ops *o)
{
    for (size_t i = 0; i < o->n; i++)
        free(o->v[i].times);
    free(o->v);
}

static int op_add_time(struct op *p, int64_t ms)
{
    if (p->ntimes == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 64;
        int64_t *t = realloc(p->times, cap * sizeof *t);
        if (!t)
            return -1;
        p->times = t;
        p->cap = cap;
    }
    p->times[p->ntimes++] = ms;
    return 0;
}

static int op_figures(struct store_conn *c, struct report_job *j, struct ops *o, int64_t *proactive,
                      struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_OPERATOR_CALLS, err);
    if (!st)
        return err->status;
    bind_window(st, j);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct op *p = op_find(o, sqlite3_column_int64(st, 0), sqlite3_column_text(st, 1));
        if (!p || op_add_time(p, sqlite3_column_int64(st, 2))) {
            sqlite3_reset(st);
            return linli_fail(err, LINLI_ENOMEM, "Out of memory for the report.");
        }
        p->answered++;
        if (sqlite3_column_type(st, 3) != SQLITE_NULL) {
            p->closed++;
            p->handling_ms += sqlite3_column_int64(st, 3);
        }
    }
    if (rc != SQLITE_DONE)
        return store_fail(c, rc, "reading operators' calls", err);
    sqlite3_reset(st);
    if (!(st = store_stmt(c, SQL_TASKS_DONE, err)))
        return err->status;
    bind_window(st, j);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int kind = -1;
        task_kind_parse((const char *)sqlite3_column_text(st, 2), &kind);
        int64_t n = sqlite3_column_int64(st, 3);
        if (task_kind_proactive(kind))
            *proactive += n;
        if (sqlite3_column_type(st, 0) == SQLITE_NULL)
            continue;
        struct op *p = op_find(o, sqlite3_column_int64(st, 0), sqlite3_column_text(st, 1));
        if (!p) {
            sqlite3_reset(st);
            return linli_fail(err, LINLI_ENOMEM, "Out of memory for the report.");
        }
        p->tasks_done += n;
    }
    if (rc != SQLITE_DONE)
        return store_fail(c, rc, "reading tasks done", err);
    sqlite3_reset(st);
    return LINLI_OK;
}

static int report_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct report_job *j = arg;
    json_t *out = j->out;
    /* subscribers in force at the end of the window */
    sqlite3_stmt *st = store_stmt(c, SQL_SUBSCRIBERS, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, j->to);
    if (j->lo) {
        sqlite3_bind_text(st, 2, j->lo, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, j->hi, -1, SQLITE_TRANSIENT);
    }
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW)
        return store_fail(c, rc, "counting subscribers", err);
    json_object_set_new(out, "subscribers", json_integer(sqlite3_column_int64(st, 0)));
    sqlite3_reset(st);

    /* calls by category */
    if (!(st = store_stmt(c, SQL_CALLS_BY_CATEGORY, err)))
        return err->status;
    bind_window(st, j);
    json_t *by = json_object();
    for (int k = 0; k < CAT_COUNT; k++)
        json_object_set_new(by, call_category_name(k), json_integer(0));
    json_object_set_new(by, "unclassified", json_integer(0));
    int64_t total = 0, abandoned = 0, answered = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *cat = sqlite3_column_text(st, 0);
        int64_t n = sqlite3_column_int64(st, 1);
        int k;
        const char *key = !cat                                         ? "unclassified"
                          : call_category_parse((const char *)cat, &k) ? "other"
                                                                       : call_category_name(k);
        json_object_set_new(by, key,
                            json_integer(json_integer_value(json_object_get(by, key)) + n));
        total += n;
        abandoned += sqlite3_column_int64(st, 2);
        answered += sqlite3_column_int64(st, 3);
    }
    if (rc != SQLITE_DONE) {
        json_decref(by);
        return store_fail(c, rc, "counting calls", err);
    }
    sqlite3_reset(st);
    json_object_set_new(out, "calls",
                        json_pack("{s:I, s:I, s:I, s:o}", "total", (json_int_t)total, "answered",
                                  (json_int_t)answered, "abandoned", (json_int_t)abandoned,
                                  "by_category", by));
    json_object_set_new(out, "abandoned", json_integer(abandoned));

    /* answer times */
    int64_t *times = malloc((size_t)(answered ? answered : 1) * sizeof *times);
    if (!times)
        return linli_fail(err, LINLI_ENOMEM, "Out of memory for the report.");
    size_t n = 0;
    int64_t within_short = 0, within_long = 0;
    if (!(st = store_stmt(c, SQL_ANSWER_TIMES, err))) {
        free(times);
        return err->status;
    }
    bind_window(st, j);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < (size_t)answered) {
        int64_t ms = sqlite3_column_int64(st, 0);
        times[n++] = ms;
        within_short += ms <= WITHIN_SHORT_MS;
        within_long += ms <= WITHIN_LONG_MS;
    }
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        free(times);
        return store_fail(c, rc, "reading answer times", err);
    }
    sqlite3_reset(st);
    json_object_set_new(out, "answer_time_s",
                        json_pack("{s:o, s:o, s:o, s:I}", "p50", percentile(times, n, 50), "p90",
                                  percentile(times, n, 90), "p99", percentile(times, n, 99),
                                  "calls", (json_int_t)n));
    free(times);
    json_object_set_new(out, "answered_within_60s", share(within_short, answered + abandoned));
    json_object_set_new(out, "answered_within_180s", share(within_long, answered + abandoned));

    /* operators */
    struct ops o = {0};
    int64_t proactive = 0;
    rc = op_figures(c, j, &o, &proactive, err);
    if (rc) {
        ops_free(&o);
        return rc;
    }
    json_object_set_new(out, "proactive_services_done", json_integer(proactive));
    json_t *ops = json_array();
    for (size_t i = 0; i < o.n; i++) {
        struct op *p = &o.v[i];
        json_array_append_new(
            ops,
            json_pack("{s:I, s:s, s:I, s:o, s:o, s:I}", "operator_id", (json_int_t)p->id,
                      "username", p->username, "calls_answered", (json_int_t)p->answered,
                      "median_answer_s", percentile(p->times, p->ntimes, 50), "mean_handling_s",
                      p->closed ? json_real((double)p->handling_ms / (double)p->closed / 1000.0)
                                : json_null(),
                      "tasks_done", (json_int_t)p->tasks_done));
    }
    ops_free(&o);
    json_object_set_new(out, "operators", ops);
    return LINLI_OK;
}

int hotline_report(struct domain *d, const struct principal *who, int64_t from_ms, int64_t to_ms,
                   const char *area, json_t **out, struct linli_err *err)
{
    *out = NULL;
    if (!people_may_read(who->role))
        return linli_fail(err, LINLI_EFORBIDDEN, "Your role (%s) has no access to the figures.",
                          role_name(who->role));
    if (to_ms <= from_ms)
        return linli_field(err, "to", "must be after from");
    if (to_ms - from_ms > REPORT_SPAN_MAX_DAYS * CARE_DAY_MS)
        return linli_field(err, "from", "must be at most %d days before to", REPORT_SPAN_MAX_DAYS);
    char code[AREA_CODE_LEN + 1] = "";
    if (area && *area) {
        const char *why;
        if (area_code_normalize(area, code, &why))
            return linli_field(err, "area", "%s", why);
        if (who->role != ROLE_ADMIN && !area_within(who->scope, code))
            return linli_fail(err, LINLI_EFORBIDDEN, "Area %s is outside your scope.", code);
    } else if (who->role != ROLE_ADMIN) {
        if (!who->scope[0])
            return linli_fail(err, LINLI_EFORBIDDEN, "Your account has no area scope.");
        snprintf(code, sizeof code, "%s", who->scope);
    }
    char lo[AREA_CODE_LEN + 1], hi[AREA_CODE_LEN + 1];
    struct report_job j = {from_ms, to_ms, NULL, NULL, json_object()};
    if (code[0]) {
        care__area_range(code, lo, hi);
        j.lo = lo;
        j.hi = hi;
    }
    char t[40];
    json_object_set_new(j.out, "from", json_string(clock_format_rfc3339(from_ms, t, sizeof t)));
    json_object_set_new(j.out, "to", json_string(clock_format_rfc3339(to_ms, t, sizeof t)));
    json_object_set_new(j.out, "area", code[0] ? json_string(code) : json_null());
    int rc = store_read(d->store, report_job, &j, err);
    if (rc) {
        json_decref(j.out);
        return rc;
    }
    *out = j.out;
    return LINLI_OK;
}
