/* cases_stats.c - the case workflow's figures per handling unit (response,
 * resolution and satisfaction rates, states, a ranking) and the month's most
 * recurring problems by category x community, computed from case_events on
 * every call. cases_stats.h states the rules; each report is one read
 * transaction, so its figures agree with each other. */
#include "domain/cases_stats.h"

#include "base/clock.h"
#include "domain/cases_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STATS_LIMIT_MS ((int64_t)CASE_LIMIT_MINUTES * CASE_MINUTE_MS) /* longest limit */

/* ---- months in Asia/Shanghai ---- */

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int64_t month_start(int64_t y, int m)
{
    return days_from_civil(y, m, 1) * CASE_DAY_MS - CASE_LOCAL_OFFSET;
}

static void local_year_month(int64_t at_ms, int *y, int *m)
{
    int64_t local = at_ms + CASE_LOCAL_OFFSET;
    time_t t = (time_t)((local >= 0 ? local : local - 999) / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    *y = tm.tm_year + 1900;
    *m = tm.tm_mon + 1;
}

void cases_month_of(int64_t at_ms, int64_t *start, int64_t *next)
{
    int y, m;
    local_year_month(at_ms, &y, &m);
    *start = month_start(y, m);
    *next = m == 12 ? month_start(y + 1, 1) : month_start(y, m + 1);
}

int cases_month_parse(const char *text, int64_t *start, int64_t *next)
{
    if (!text || strlen(text) != 7 || text[4] != '-')
        return -1;
    for (int i = 0; i < 7; i++)
        if (i != 4 && (text[i] < '0' || text[i] > '9'))
            return -1;
    int y = atoi(text), m = atoi(text + 5);
    if (y < 1970 || m < 1 || m > 12)
        return -1;
    *start = month_start(y, m);
    *next = m == 12 ? month_start(y + 1, 1) : month_start(y, m + 1);
    return 0;
}

/* "YYYY-MM" of the month starting at `start`. */
static void month_text(int64_t start, char out[8])
{
    int y, m;
    local_year_month(start, &y, &m);
    snprintf(out, 8, "%04u-%02u", (unsigned)y % 10000u, (unsigned)m % 100u);
}

/* ---- who sees which units and areas ---- */

struct stats_view {
    bool all;
    int64_t uid;                                       /* memberships of this account count */
    char lo[AREA_CODE_LEN + 1], hi[AREA_CODE_LEN + 1]; /* the scope's codes; "" = none */
};

static int stats_view(const struct principal *who, struct stats_view *v, struct linli_err *err)
{
    memset(v, 0, sizeof *v);
    if (!who)
        return linli_fail(err, LINLI_EUNAUTH, "Log in first.");
    if (cases__is_system(who) || who->role == ROLE_ADMIN || who->role == ROLE_AUDITOR ||
        who->role == ROLE_DISTRICT) {
        v->all = true;
        return LINLI_OK;
    }
    if (who->role != ROLE_STREET && who->role != ROLE_COMMUNITY && who->role != ROLE_OPERATOR)
        return linli_fail(err, LINLI_EFORBIDDEN, "Your role (%s) has no access to the figures.",
                          role_name(who->role));
    if (strlen(who->scope) != AREA_CODE_LEN)
        return linli_fail(err, LINLI_EFORBIDDEN, "Your account has no area scope.");
    size_t keep = (size_t[]){6, 9, 12}[area_code_level(who->scope)];
    memcpy(v->lo, who->scope, keep);
    memcpy(v->hi, who->scope, keep);
    memset(v->lo + keep, '0', AREA_CODE_LEN - keep);
    memset(v->hi + keep, '9', AREA_CODE_LEN - keep);
    v->lo[AREA_CODE_LEN] = v->hi[AREA_CODE_LEN] = '\0';
    v->uid = who->user_id;
    return LINLI_OK;
}

/* The codes within `code` (normalised) as [lo, hi]. */
static void code_range(const char *code, char lo[AREA_CODE_LEN + 1], char hi[AREA_CODE_LEN + 1])
{
    size_t keep = (size_t[]){6, 9, 12}[area_code_level(code)];
    memcpy(lo, code, keep);
    memcpy(hi, code, keep);
    memset(lo + keep, '0', AREA_CODE_LEN - keep);
    memset(hi + keep, '9', AREA_CODE_LEN - keep);
    lo[AREA_CODE_LEN] = hi[AREA_CODE_LEN] = '\0';
}

/* Checks and normalises ?area= against the view (field error or EFORBIDDEN). */
static int stats_area(const struct principal *who, const struct stats_view *v, const char *area,
                      char out[AREA_CODE_LEN + 1], struct linli_err *err)
{
    out[0] = '\0';
    if (!area)
        return LINLI_OK;
    const char *why;
    if (area_code_normalize(area, out, &why))
        return linli_field(err, "area", "%s", why);
    if (!v->all && !area_within(who->scope, out))
        return linli_fail(err, LINLI_EFORBIDDEN, "Area %s is outside your scope.", out);
    return LINLI_OK;
}

/* ---- the figures ---- */

/* Each figure has two statements. The whole district's figures are read by
 * time (the created_at and case_events_kind indexes); a scope's or one unit's
 * by unit (cases_unit), with the time terms kept off their indexes (unary +),
 * since a street's cases are a few percent of the district's. Parameters:
 * ?1 the earliest start of a deadline that can fall in the window (from minus
 * the longest limit a category may set), ?2 to, ?3 from, ?5/?6 a range of
 * unit codes (the scope's areas, or one unit twice), ?7 the account whose
 * memberships count (0: none), ?9/?10 the area's codes (NULL: any). */
#define STATS_SCOPE                                                                                \
    " (c.unit_code BETWEEN ?5 AND ?6"                                                              \
    "  OR c.unit_code IN (SELECT m.unit_code FROM unit_members m WHERE m.user_id = ?7))"
#define STATS_AREA " AND (?9 IS NULL OR c.area_code BETWEEN ?9 AND ?10)"
#define STATS_RESPONSE_AT                                                                          \
    " (SELECT e.at FROM case_events e WHERE e.case_id = c.id"                                      \
    "   AND e.kind IN ('accepted', 'rejected', 'duplicate') ORDER BY e.id LIMIT 1)"
#define STATS_CYCLE_END                                                                            \
    " LEFT JOIN case_events x ON x.id = (SELECT y.id FROM case_events y"                           \
    "   WHERE y.case_id = s.case_id AND y.id > s.id"                                               \
    "   AND y.kind IN ('resolved', 'rejected', 'duplicate') ORDER BY y.id LIMIT 1)"
#define STATS_DUE " s.at + c.resolve_minutes * 60000"

/* clang-format off */
static const char SQL_STATS_RECEIVED[] =
    "SELECT c.unit_code, c.state, count(*) FROM cases c"
    " WHERE c.created_at >= ?3 AND c.created_at < ?2" STATS_AREA
    " GROUP BY c.unit_code, c.state";
static const char SQL_STATS_RECEIVED_SCOPED[] =
    "SELECT c.unit_code, c.state, count(*) FROM cases c WHERE" STATS_SCOPE
    " AND +c.created_at >= ?3 AND +c.created_at < ?2" STATS_AREA
    " GROUP BY c.unit_code, c.state";
/* A response deadline lies within [created_at, created_at + the longest limit]. */
static const char SQL_STATS_RESPONSE[] =
    "SELECT c.unit_code, c.response_due_at," STATS_RESPONSE_AT " FROM cases c"
    " WHERE c.created_at >= ?1 AND c.created_at < ?2"
    " AND c.response_due_at >= ?3 AND c.response_due_at < ?2" STATS_AREA;
static const char SQL_STATS_RESPONSE_SCOPED[] =
    "SELECT c.unit_code, c.response_due_at," STATS_RESPONSE_AT " FROM cases c WHERE" STATS_SCOPE
    " AND +c.created_at >= ?1 AND +c.created_at < ?2"
    " AND c.response_due_at >= ?3 AND c.response_due_at < ?2" STATS_AREA;
static const char SQL_STATS_RESOLUTION[] =
    "SELECT c.unit_code," STATS_DUE ", x.kind, x.at"
    " FROM case_events s JOIN cases c ON c.id = s.case_id" STATS_CYCLE_END
    " WHERE s.kind IN ('accepted', 'reopened') AND s.at >= ?1 AND s.at < ?2"
    " AND" STATS_DUE " >= ?3 AND" STATS_DUE " < ?2" STATS_AREA;
static const char SQL_STATS_RESOLUTION_SCOPED[] =
    "SELECT c.unit_code," STATS_DUE ", x.kind, x.at"
    " FROM cases c CROSS JOIN case_events s ON s.case_id = c.id" STATS_CYCLE_END
    " WHERE" STATS_SCOPE " AND +c.created_at < ?2"
    " AND s.kind IN ('accepted', 'reopened') AND +s.at >= ?1 AND +s.at < ?2"
    " AND" STATS_DUE " >= ?3 AND" STATS_DUE " < ?2" STATS_AREA;
static const char SQL_STATS_RATED[] =
    "SELECT c.unit_code, json_extract(e.detail, '$.rating'), count(*)"
    " FROM case_events e JOIN cases c ON c.id = e.case_id"
    " WHERE e.kind = 'rated' AND e.at >= ?3 AND e.at < ?2" STATS_AREA
    " GROUP BY c.unit_code, 2";
static const char SQL_STATS_RATED_SCOPED[] =
    "SELECT c.unit_code, json_extract(e.detail, '$.rating'), count(*)"
    " FROM cases c CROSS JOIN case_events e ON e.case_id = c.id"
    " WHERE" STATS_SCOPE " AND +c.created_at < ?2"
    " AND e.kind = 'rated' AND +e.at >= ?3 AND +e.at < ?2" STATS_AREA
    " GROUP BY c.unit_code, 2";
static const char SQL_STATS_REOPENED[] =
    "SELECT c.unit_code, count(*) FROM case_events e JOIN cases c ON c.id = e.case_id"
    " WHERE e.kind = 'reopened' AND e.at >= ?3 AND e.at < ?2" STATS_AREA
    " GROUP BY c.unit_code";
static const char SQL_STATS_REOPENED_SCOPED[] =
    "SELECT c.unit_code, count(*) FROM cases c CROSS JOIN case_events e ON e.case_id = c.id"
    " WHERE" STATS_SCOPE " AND +c.created_at < ?2"
    " AND e.kind = 'reopened' AND +e.at >= ?3 AND +e.at < ?2" STATS_AREA
    " GROUP BY c.unit_code";
/* clang-format on */
static const char SQL_UNIT_NAME[] = "SELECT name_zh FROM case_departments WHERE code = ?1"
                                    " UNION ALL SELECT name FROM areas WHERE code = ?1 LIMIT 1";
static const char SQL_UNIT_MEMBER[] =
    "SELECT 1 FROM unit_members WHERE unit_code = ?1 AND user_id = ?2";

struct stats_job {
    const struct stats_view *v;
    int64_t from, to, now;
    const char *unit;                 /* normalised, or NULL */
    const char *alo, *ahi;            /* NULL: no area filter */
    struct cases_unit_figures *units; /* sorted by code while gathering */
    int n, cap;
};

static void stats_bind(sqlite3_stmt *st, const struct stats_job *j)
{
    sqlite3_bind_int64(st, 1, j->from - STATS_LIMIT_MS);
    sqlite3_bind_int64(st, 2, j->to);
    sqlite3_bind_int64(st, 3, j->from);
    if (j->unit) { /* one unit (already checked to be in view) */
        sqlite3_bind_text(st, 5, j->unit, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, j->unit, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 7, 0);
    } else if (!j->v->all) {
        sqlite3_bind_text(st, 5, j->v->lo, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, j->v->hi, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 7, j->v->uid);
    }
    if (j->alo) {
        sqlite3_bind_text(st, 9, j->alo, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 10, j->ahi, -1, SQLITE_STATIC);
    }
}

/* The unit's figures, added (zeroed, in code order) when new; NULL when out
 * of memory. */
static struct cases_unit_figures *unit_of(struct stats_job *j, const char *code)
{
    int lo = 0, hi = j->n;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        int c = strcmp(j->units[mid].unit, code);
        if (!c)
            return &j->units[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (j->n == j->cap) {
        int cap = j->cap ? j->cap * 2 : 64;
        struct cases_unit_figures *u = realloc(j->units, (size_t)cap * sizeof *u);
        if (!u)
            return NULL;
        j->units = u;
        j->cap = cap;
    }
    memmove(&j->units[lo + 1], &j->units[lo], (size_t)(j->n - lo) * sizeof *j->units);
    j->n++;
    struct cases_unit_figures *u = &j->units[lo];
    memset(u, 0, sizeof *u);
    snprintf(u->unit, sizeof u->unit, "%s", code);
    return u;
}

/* Steps `st` (bound) and hands each row's unit to `row`. */
static int stats_each(struct store_conn *c, struct stats_job *j, const char *all_sql,
                      const char *scoped_sql, const char *what,
                      void (*row)(struct stats_job *j, struct cases_unit_figures *u,
                                  sqlite3_stmt *st),
                      struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, j->v->all && !j->unit ? all_sql : scoped_sql, err);
    if (!st)
        return err->status;
    stats_bind(st, j);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *code = sqlite3_column_text(st, 0);
        struct cases_unit_figures *u = unit_of(j, code ? (const char *)code : "");
        if (!u) {
            sqlite3_reset(st);
            return linli_fail(err, LINLI_ENOMEM, "Out of memory for the figures.");
        }
        row(j, u, st);
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? LINLI_OK : store_fail(c, rc, what, err);
}

static void row_received(struct stats_job *j, struct cases_unit_figures *u, sqlite3_stmt *st)
{
    (void)j;
    int s;
    const unsigned char *state = sqlite3_column_text(st, 1);
    int64_t n = sqlite3_column_int64(st, 2);
    u->received += n;
    if (state && !case_state_parse((const char *)state, &s))
        u->states[s] += n;
}

/* A deadline `due` met by an event at `done_at` (0 = none yet). */
static void judge(struct cases_deadline_figures *f, int64_t due, int64_t done_at, int64_t now)
{
    if (done_at) {
        f->due++;
        if (done_at <= due)
            f->on_time++;
        else
            f->late++;
    } else if (due <= now) {
        f->due++;
        f->late++;
    } else {
        f->pending++;
    }
}

static void row_response(struct stats_job *j, struct cases_unit_figures *u, sqlite3_stmt *st)
{
    int64_t due = sqlite3_column_int64(st, 1);
    int64_t at = sqlite3_column_type(st, 2) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, 2);
    judge(&u->response, due, at, j->now);
}

static void row_resolution(struct stats_job *j, struct cases_unit_figures *u, sqlite3_stmt *st)
{
    int64_t due = sqlite3_column_int64(st, 1);
    const unsigned char *kind = sqlite3_column_text(st, 2);
    int64_t at = sqlite3_column_int64(st, 3);
    if (kind && strcmp((const char *)kind, CASE_EV_RESOLVED) != 0) {
        /* rejected or marked duplicate: nothing owed if before the deadline */
        if (at > due) { /* left unresolved past the deadline: late */
            u->resolution.due++;
            u->resolution.late++;
        }
        return;
    }
    judge(&u->resolution, due, kind ? at : 0, j->now);
}

static void row_rated(struct stats_job *j, struct cases_unit_figures *u, sqlite3_stmt *st)
{
    (void)j;
    int r;
    const unsigned char *rating = sqlite3_column_text(st, 1);
    int64_t n = sqlite3_column_int64(st, 2);
    if (!rating || case_rating_parse((const char *)rating, &r))
        return; /* not a rating this version knows: not counted */
    u->rated += n;
    if (r == RATING_SATISFIED)
        u->satisfied += n;
    else if (r == RATING_BASICALLY_SATISFIED)
        u->basically_satisfied += n;
    else
        u->unsatisfied += n;
}

static void row_reopened(struct stats_job *j, struct cases_unit_figures *u, sqlite3_stmt *st)
{
    (void)j;
    u->reopened += sqlite3_column_int64(st, 1);
}

static int unit_name(struct store_conn *c, struct cases_unit_figures *u, struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_UNIT_NAME, err);
    if (!st)
        return err->status;
    sqlite3_bind_text(st, 1, u->unit, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        cases__col(u->name, sizeof u->name, st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? LINLI_OK
                                                 : store_fail(c, rc, "naming a unit", err);
}

/* The asked unit must exist and be in the caller's view. */
static int check_unit(struct store_conn *c, struct stats_job *j, struct linli_err *err)
{
    struct cases_unit_figures *u = unit_of(j, j->unit);
    if (!u)
        return linli_fail(err, LINLI_ENOMEM, "Out of memory for the figures.");
    int rc = unit_name(c, u, err);
    if (rc)
        return rc;
    if (!u->name[0]) /* neither a department nor an area the registry has had */
        return linli_field(err, "unit", "no unit %s", j->unit);
    if (j->v->all)
        return LINLI_OK;
    if (j->v->lo[0] && strcmp(j->unit, j->v->lo) >= 0 && strcmp(j->unit, j->v->hi) <= 0)
        return LINLI_OK;
    sqlite3_stmt *st = store_stmt(c, SQL_UNIT_MEMBER, err);
    if (!st)
        return err->status;
    sqlite3_bind_text(st, 1, j->unit, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, j->v->uid);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return LINLI_OK;
    if (rc != SQLITE_DONE)
        return store_fail(c, rc, "reading unit memberships", err);
    return linli_fail(err, LINLI_EFORBIDDEN, "Unit %s is outside your scope.", j->unit);
}

static int stats_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct stats_job *j = arg;
    int rc;
    if (j->unit && (rc = check_unit(c, j, err)))
        return rc;
    if ((rc = stats_each(c, j, SQL_STATS_RECEIVED, SQL_STATS_RECEIVED_SCOPED,
                         "counting cases received", row_received, err)) ||
        (rc = stats_each(c, j, SQL_STATS_RESPONSE, SQL_STATS_RESPONSE_SCOPED, "reading responses",
                         row_response, err)) ||
        (rc = stats_each(c, j, SQL_STATS_RESOLUTION, SQL_STATS_RESOLUTION_SCOPED,
                         "reading resolutions", row_resolution, err)) ||
        (rc = stats_each(c, j, SQL_STATS_RATED, SQL_STATS_RATED_SCOPED, "reading ratings",
                         row_rated, err)) ||
        (rc = stats_each(c, j, SQL_STATS_REOPENED, SQL_STATS_REOPENED_SCOPED, "counting reopenings",
                         row_reopened, err)))
        return rc;
    for (int i = 0; i < j->n; i++)
        if (!j->units[i].name[0] && (rc = unit_name(c, &j->units[i], err)))
            return rc;
    return LINLI_OK;
}

static double rate(int64_t part, int64_t whole)
{
    return whole > 0 ? (double)part / (double)whole : -1.0;
}

static void finish_rates(struct cases_unit_figures *u)
{
    u->response_rate = rate(u->response.on_time, u->response.due);
    u->resolution_rate = rate(u->resolution.on_time, u->resolution.due);
    u->satisfaction_rate = rate(u->satisfied + u->basically_satisfied, u->rated);
    double sum = 0;
    int k = 0;
    const double r[] = {u->response_rate, u->resolution_rate, u->satisfaction_rate};
    for (int i = 0; i < 3; i++)
        if (r[i] >= 0) {
            sum += r[i];
            k++;
        }
    u->score = k ? sum / k : -1.0;
}

static int by_rank(const void *a, const void *b)
{
    const struct cases_unit_figures *x = a, *y = b;
    bool rx = x->score >= 0, ry = y->score >= 0;
    if (rx != ry)
        return rx ? -1 : 1;
    if (rx && x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return strcmp(x->unit, y->unit);
}

static void add_deadline(struct cases_deadline_figures *t, const struct cases_deadline_figures *f)
{
    t->due += f->due;
    t->on_time += f->on_time;
    t->late += f->late;
    t->pending += f->pending;
}

/* Checks the window and fills from/to (the defaults of cases_stats.h). */
static int stats_window(const struct cases_stats_query *q, int64_t now, int64_t *from, int64_t *to,
                        struct linli_err *err)
{
    *from = q->from_ms;
    *to = q->to_ms;
    int64_t next;
    if (!*from && !*to)
        cases_month_of(now, from, to);
    else if (!*from)
        cases_month_of(*to - 1, from, &next);
    else if (!*to)
        cases_month_of(*from, &next, to);
    if (*to <= *from)
        return linli_field(err, "to", "must be after from");
    if (*to - *from > CASES_STATS_SPAN_MAX_DAYS * CASE_DAY_MS)
        return linli_field(err, "from", "must be at most %d days before to",
                           CASES_STATS_SPAN_MAX_DAYS);
    return LINLI_OK;
}

/* Normalises ?unit=: a department code, or an area code of 6, 9 or 12 digits. */
static int stats_unit(const char *unit, char out[CASE_UNIT_CODE_MAX + 1], struct linli_err *err)
{
    out[0] = '\0';
    if (!unit)
        return LINLI_OK;
    if (case_unit_is_department(unit)) {
        snprintf(out, CASE_UNIT_CODE_MAX + 1, "%s", unit);
        return LINLI_OK;
    }
    char area[AREA_CODE_LEN + 1];
    const char *why;
    if (area_code_normalize(unit, area, &why))
        return linli_field(err, "unit", "must be a department (dept-...) or an area code");
    snprintf(out, CASE_UNIT_CODE_MAX + 1, "%s", area);
    return LINLI_OK;
}

int cases_stats_compute(struct domain *d, const struct principal *who,
                        const struct cases_stats_query *q, struct cases_unit_figures **units,
                        int *n, struct cases_unit_figures *totals, struct linli_err *err)
{
    *units = NULL;
    *n = 0;
    memset(totals, 0, sizeof *totals);
    struct stats_view v;
    int rc = stats_view(who, &v, err);
    if (rc)
        return rc;
    int64_t now = q->now_ms ? q->now_ms : clock_now_ms();
    struct stats_job j = {.v = &v, .now = now};
    char unit[CASE_UNIT_CODE_MAX + 1], area[AREA_CODE_LEN + 1];
    char alo[AREA_CODE_LEN + 1], ahi[AREA_CODE_LEN + 1];
    stats_window(q, now, &j.from, &j.to, err);
    stats_unit(q->unit, unit, err);
    if (err->nfields)
        return LINLI_EINVAL;
    if ((rc = stats_area(who, &v, q->area, area, err)))
        return rc;
    if (unit[0])
        j.unit = unit;
    if (area[0]) {
        code_range(area, alo, ahi);
        j.alo = alo;
        j.ahi = ahi;
    }
    rc = store_read(d->store, stats_job, &j, err);
    if (rc) {
        free(j.units);
        return rc;
    }
    for (int i = 0; i < j.n; i++) {
        struct cases_unit_figures *u = &j.units[i];
        finish_rates(u);
        totals->received += u->received;
        for (int s = 0; s < CASE_STATES; s++)
            totals->states[s] += u->states[s];
        add_deadline(&totals->response, &u->response);
        add_deadline(&totals->resolution, &u->resolution);
        totals->rated += u->rated;
        totals->satisfied += u->satisfied;
        totals->basically_satisfied += u->basically_satisfied;
        totals->unsatisfied += u->unsatisfied;
        totals->reopened += u->reopened;
    }
    finish_rates(totals);
    if (j.n)
        qsort(j.units, (size_t)j.n, sizeof *j.units, by_rank);
    for (int i = 0; i < j.n && j.units[i].score >= 0; i++)
        j.units[i].rank = i + 1;
    *units = j.units;
    *n = j.n;
    return LINLI_OK;
}

/* ---- the figures as JSON ---- */

static json_t *rate_json(double r)
{
    return r < 0 ? json_null() : json_real(r);
}

static json_t *deadline_json(const struct cases_deadline_figures *f, double r)
{
    return json_pack("{s:I, s:I, s:I, s:I, s:o}", "due", (json_int_t)f->due, "on_time",
                     (json_int_t)f->on_time, "late", (json_int_t)f->late, "pending",
                     (json_int_t)f->pending, "rate", rate_json(r));
}

static json_t *figures_json(const struct cases_unit_figures *u, bool is_unit)
{
    json_t *states = json_object();
    for (int s = 0; s < CASE_STATES; s++)
        json_object_set_new(states, case_state_name(s), json_integer(u->states[s]));
    json_t *o = json_pack("{s:I, s:o, s:o, s:o, s:{s:I, s:I, s:I, s:I, s:o}, s:I, s:o}", "received",
                          (json_int_t)u->received, "states", states, "response",
                          deadline_json(&u->response, u->response_rate), "resolution",
                          deadline_json(&u->resolution, u->resolution_rate), "satisfaction",
                          "rated", (json_int_t)u->rated, "satisfied", (json_int_t)u->satisfied,
                          "basically_satisfied", (json_int_t)u->basically_satisfied, "unsatisfied",
                          (json_int_t)u->unsatisfied, "rate", rate_json(u->satisfaction_rate),
                          "reopened", (json_int_t)u->reopened, "score", rate_json(u->score));
    if (o && is_unit) {
        json_object_set_new(o, "unit", json_string(u->unit));
        json_object_set_new(o, "name", u->name[0] ? json_string(u->name) : json_null());
        json_object_set_new(o, "rank", u->rank ? json_integer(u->rank) : json_null());
    }
    return o;
}

int cases_stats_report(struct domain *d, const struct principal *who,
                       const struct cases_stats_query *q, json_t **out, struct linli_err *err)
{
    *out = NULL;
    struct cases_unit_figures *units, totals;
    int n;
    int rc = cases_stats_compute(d, who, q, &units, &n, &totals, err);
    if (rc)
        return rc;
    struct cases_stats_query w = *q;
    int64_t now = q->now_ms ? q->now_ms : clock_now_ms();
    stats_window(q, now, &w.from_ms, &w.to_ms, err); /* checked above */
    char unit[CASE_UNIT_CODE_MAX + 1], area[AREA_CODE_LEN + 1] = "";
    stats_unit(q->unit, unit, err);
    const char *why;
    if (q->area)
        area_code_normalize(q->area, area, &why);
    char f[40], t[40], g[40];
    json_t *items = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(items, figures_json(&units[i], true));
    free(units);
    *out = json_pack("{s:s, s:s, s:o, s:o, s:s, s:s, s:o, s:o}", "from",
                     clock_format_rfc3339(w.from_ms, f, sizeof f), "to",
                     clock_format_rfc3339(w.to_ms, t, sizeof t), "unit",
                     unit[0] ? json_string(unit) : json_null(), "area",
                     area[0] ? json_string(area) : json_null(), "as_of",
                     clock_format_rfc3339(now, g, sizeof g), "ranking",
                     "score = mean of the defined rates (response, resolution, satisfaction), "
                     "highest first; ties by unit code",
                     "totals", figures_json(&totals, false), "units", items);
    return *out ? LINLI_OK : linli_fail(err, LINLI_ENOMEM, "Out of memory for the figures.");
}

/* ---- recurring problems ---- */

/* ?1/?2 the month, ?3/?4 the caller's scope (NULL = all), ?5/?6 the area. */
static const char SQL_RECURRING[] =
    "SELECT c.category, c.area_code, count(*) FROM cases c"
    " WHERE c.created_at >= ?1 AND c.created_at < ?2 AND c.area_code IS NOT NULL"
    " AND c.state NOT IN ('duplicate', 'rejected')"
    " AND (?3 IS NULL OR c.area_code BETWEEN ?3 AND ?4)"
    " AND (?5 IS NULL OR c.area_code BETWEEN ?5 AND ?6)"
    " GROUP BY c.category, c.area_code";
static const char SQL_CATEGORY_NAME[] = "SELECT name_zh FROM case_categories WHERE code = ?1";
static const char SQL_AREA_NAME[] = "SELECT name FROM areas WHERE code = ?1";

struct pairs {
    struct cases_recurring_item *v;
    int n, cap;
};

struct recurring_job {
    const struct stats_view *v;
    int64_t start, next, prev_start;
    const char *alo, *ahi;
    struct pairs cur, prev;
};

static int read_pairs(struct store_conn *c, struct recurring_job *j, int64_t from, int64_t to,
                      struct pairs *p, struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_RECURRING, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, from);
    sqlite3_bind_int64(st, 2, to);
    if (!j->v->all) {
        sqlite3_bind_text(st, 3, j->v->lo, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, j->v->hi, -1, SQLITE_STATIC);
    }
    if (j->alo) {
        sqlite3_bind_text(st, 5, j->alo, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, j->ahi, -1, SQLITE_STATIC);
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (p->n == p->cap) {
            int cap = p->cap ? p->cap * 2 : 256;
            struct cases_recurring_item *v = realloc(p->v, (size_t)cap * sizeof *v);
            if (!v) {
                sqlite3_reset(st);
                return linli_fail(err, LINLI_ENOMEM, "Out of memory for the report.");
            }
            p->v = v;
            p->cap = cap;
        }
        struct cases_recurring_item *it = &p->v[p->n++];
        memset(it, 0, sizeof *it);
        cases__col(it->category, sizeof it->category, st, 0);
        cases__col(it->area_code, sizeof it->area_code, st, 1);
        it->count = sqlite3_column_int64(st, 2);
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? LINLI_OK : store_fail(c, rc, "counting recurring problems", err);
}

static int name_of(struct store_conn *c, const char *sql, const char *code, char *out, size_t size,
                   struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, sql, err);
    if (!st)
        return err->status;
    sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        cases__col(out, size, st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? LINLI_OK : store_fail(c, rc, "naming", err);
}

static int recurring_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct recurring_job *j = arg;
    int rc;
    if ((rc = read_pairs(c, j, j->start, j->next, &j->cur, err)) ||
        (rc = read_pairs(c, j, j->prev_start, j->start, &j->prev, err)))
        return rc;
    return LINLI_OK;
}

static int by_count(const void *a, const void *b)
{
    const struct cases_recurring_item *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    int k = strcmp(x->category, y->category);
    return k ? k : strcmp(x->area_code, y->area_code);
}

struct names_job {
    struct cases_recurring_item *items;
    int n;
};

static int names_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct names_job *j = arg;
    int rc;
    for (int i = 0; i < j->n; i++) {
        struct cases_recurring_item *it = &j->items[i];
        if ((rc = name_of(c, SQL_CATEGORY_NAME, it->category, it->category_name,
                          sizeof it->category_name, err)) ||
            (rc = name_of(c, SQL_AREA_NAME, it->area_code, it->area_name, sizeof it->area_name,
                          err)))
            return rc;
    }
    return LINLI_OK;
}

int cases_recurring(struct domain *d, const struct principal *who,
                    const struct cases_recurring_query *q, struct cases_recurring_item **items,
                    int *n, int64_t *month_start_ms, struct linli_err *err)
{
    *items = NULL;
    *n = 0;
    struct stats_view v;
    int rc = stats_view(who, &v, err);
    if (rc)
        return rc;
    struct recurring_job j = {.v = &v};
    if (q->month) {
        if (cases_month_parse(q->month, &j.start, &j.next))
            linli_field(err, "month", "must be a month as YYYY-MM, e.g. 2026-11");
    } else {
        cases_month_of(q->now_ms ? q->now_ms : clock_now_ms(), &j.start, &j.next);
    }
    int limit = q->limit ? q->limit : CASES_RECURRING_DEFAULT;
    if (limit < 1 || limit > CASES_RECURRING_MAX)
        linli_field(err, "limit", "must be a whole number from 1 to %d", CASES_RECURRING_MAX);
    if (err->nfields)
        return LINLI_EINVAL;
    char area[AREA_CODE_LEN + 1], alo[AREA_CODE_LEN + 1], ahi[AREA_CODE_LEN + 1];
    if ((rc = stats_area(who, &v, q->area, area, err)))
        return rc;
    if (area[0]) {
        code_range(area, alo, ahi);
        j.alo = alo;
        j.ahi = ahi;
    }
    int64_t ignored;
    cases_month_of(j.start - 1, &j.prev_start, &ignored);
    rc = store_read(d->store, recurring_job, &j, err);
    if (!rc) {
        if (j.cur.n)
            qsort(j.cur.v, (size_t)j.cur.n, sizeof *j.cur.v, by_count);
        if (j.cur.n > limit)
            j.cur.n = limit;
        for (int i = 0; i < j.cur.n; i++)
            for (int k = 0; k < j.prev.n; k++)
                if (!strcmp(j.prev.v[k].category, j.cur.v[i].category) &&
                    !strcmp(j.prev.v[k].area_code, j.cur.v[i].area_code)) {
                    j.cur.v[i].previous = j.prev.v[k].count;
                    break;
                }
        struct names_job nj = {j.cur.v, j.cur.n};
        rc = store_read(d->store, names_job, &nj, err);
    }
    free(j.prev.v);
    if (rc) {
        free(j.cur.v);
        return rc;
    }
    *items = j.cur.v;
    *n = j.cur.n;
    *month_start_ms = j.start;
    return LINLI_OK;
}

int cases_recurring_report(struct domain *d, const struct principal *who,
                           const struct cases_recurring_query *q, json_t **out,
                           struct linli_err *err)
{
    *out = NULL;
    struct cases_recurring_item *items;
    int n;
    int64_t start, next, prev, ignored;
    int rc = cases_recurring(d, who, q, &items, &n, &start, err);
    if (rc)
        return rc;
    cases_month_of(start, &ignored, &next);
    cases_month_of(start - 1, &prev, &ignored);
    char month[8], prev_month[8], f[40], t[40];
    month_text(start, month);
    month_text(prev, prev_month);
    char area[AREA_CODE_LEN + 1] = "";
    const char *why;
    if (q->area)
        area_code_normalize(q->area, area, &why);
    json_t *arr = json_array();
    for (int i = 0; i < n; i++) {
        const struct cases_recurring_item *it = &items[i];
        json_array_append_new(
            arr, json_pack("{s:i, s:s, s:o, s:s, s:o, s:I, s:I, s:I}", "rank", i + 1, "category",
                           it->category, "category_name",
                           it->category_name[0] ? json_string(it->category_name) : json_null(),
                           "area_code", it->area_code, "area_name",
                           it->area_name[0] ? json_string(it->area_name) : json_null(), "count",
                           (json_int_t)it->count, "previous", (json_int_t)it->previous, "change",
                           (json_int_t)(it->count - it->previous)));
    }
    free(items);
    *out = json_pack("{s:s, s:s, s:s, s:s, s:o, s:i, s:o}", "month", month, "from",
                     clock_format_rfc3339(start, f, sizeof f), "to",
                     clock_format_rfc3339(next, t, sizeof t), "previous_month", prev_month, "area",
                     area[0] ? json_string(area) : json_null(), "limit",
                     q->limit ? q->limit : CASES_RECURRING_DEFAULT, "items", arr);
    return *out ? LINLI_OK : linli_fail(err, LINLI_ENOMEM, "Out of memory for the report.");
}
