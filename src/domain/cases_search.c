/* cases_search.c - finding cases and taking them out: full-text search in
 * Chinese over title, description and address (the trigram index for 3+
 * characters, a bounded LIKE scan for 1-2), combined with filters, newest
 * first, in the caller's view; the CSV export with its formula guard.
 * cases_stats.h states the rules. */
#include "domain/cases_stats.h"

#include "base/clock.h"
#include "base/csv.h"
#include "base/jx.h"
#include "domain/audit.h"
#include "domain/cases_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FORMULA_CHARS "=+-@\t\r" /* what makes a spreadsheet read a cell as a formula */
#define GUARD_QUOTE   '\''

/* ---- SQL ----
 *
 * ?1 every case, ?2 the caller's id, ?3/?4 the caller's scope (NULL = none):
 * the visibility rule of cases.h, as cases_list states it. ?5 state, ?6
 * category, ?7 unit (any link), ?8/?9 area, ?10/?11 submitted from/to (0 =
 * open), ?12 the cursor (ids below it), ?13 the text (an FTS5 phrase or a LIKE
 * pattern), ?14 how many rows to read, ?15 open cases only. */
#define SEARCH_VIEW                                                                                \
    " (?1 = 1 OR (?2 > 0 AND c.reporter_user_id = ?2)"                                             \
    "  OR (?3 IS NOT NULL AND (c.area_code BETWEEN ?3 AND ?4 OR c.unit_code BETWEEN ?3 AND ?4"     \
    "      OR EXISTS (SELECT 1 FROM case_units cu WHERE cu.case_id = c.id"                         \
    "                 AND cu.unit_code BETWEEN ?3 AND ?4)))"                                       \
    "  OR (?2 > 0 AND EXISTS (SELECT 1 FROM case_units cu JOIN unit_members m"                     \
    "      ON m.unit_code = cu.unit_code WHERE cu.case_id = c.id AND m.user_id = ?2)))"
#define SEARCH_FILTERS                                                                             \
    " AND (?5 IS NULL OR c.state = ?5)"                                                            \
    " AND (?6 IS NULL OR c.category = ?6)"                                                         \
    " AND (?7 IS NULL OR c.unit_code = ?7 OR EXISTS (SELECT 1 FROM case_units cu"                  \
    "      WHERE cu.case_id = c.id AND cu.unit_code = ?7))"                                        \
    " AND (?8 IS NULL OR c.area_code BETWEEN ?8 AND ?9)"                                           \
    " AND (?10 = 0 OR c.created_at >= ?10) AND (?11 = 0 OR c.created_at < ?11)"                    \
    " AND (?15 = 0 OR c.state NOT IN ('closed', 'rejected', 'duplicate'))"

/* The index leads and gives the order (newest first); cases are looked up by
 * id, so a rare text is found without reading the table and a common one
 * stops after the page. */
static const char SQL_SEARCH_FTS[] =
    "SELECT c.id FROM cases_fts CROSS JOIN cases c ON c.id = cases_fts.rowid"
    " WHERE cases_fts MATCH ?13 AND cases_fts.rowid < ?12 AND" SEARCH_VIEW SEARCH_FILTERS
    " ORDER BY cases_fts.rowid DESC LIMIT ?14";
/* At most ?14 cases below the cursor are read, newest first, whatever the
 * filters let through (nothing in WHERE but the cursor): each row says
 * whether it is visible, passes the filters and holds the text. */
static const char SQL_SEARCH_SHORT[] =
    "SELECT c.id, (" SEARCH_VIEW SEARCH_FILTERS
    "  AND (c.title LIKE ?13 ESCAPE '\\' OR c.description LIKE ?13 ESCAPE '\\'"
    "       OR c.address LIKE ?13 ESCAPE '\\'))"
    " FROM cases c WHERE c.id < ?12 ORDER BY c.id DESC LIMIT ?14";
static const char SQL_SEARCH_PLAIN[] =
    "SELECT c.id FROM cases c WHERE" SEARCH_VIEW SEARCH_FILTERS " AND c.id < ?12"
    " ORDER BY c.id DESC LIMIT ?14";

/* ---- the query ---- */

/* A query checked and normalised, with its text in the form its statement takes. */
struct search_plan {
    const struct principal *who;
    const char *sql;
    char *text; /* FTS5 phrase or LIKE pattern, malloc'd; NULL = none */
    int state;
    bool open_only;
    const char *category;
    char unit[CASE_UNIT_CODE_MAX + 1];
    char alo[AREA_CODE_LEN + 1], ahi[AREA_CODE_LEN + 1]; /* "" = any area */
    int64_t from, to;
};

/* `"text"` with inner quotes doubled: an FTS5 phrase, so nothing typed is syntax. */
static char *fts_phrase(const char *q)
{
    size_t n = strlen(q), k = 0;
    char *out = malloc(2 * n + 3);
    if (!out)
        return NULL;
    out[k++] = '"';
    for (; *q; q++) {
        if (*q == '"')
            out[k++] = '"';
        out[k++] = *q;
    }
    out[k++] = '"';
    out[k] = '\0';
    return out;
}

/* `%text%` with %, _ and \ escaped by \. */
static char *like_pattern(const char *q)
{
    size_t n = strlen(q), k = 0;
    char *out = malloc(2 * n + 3);
    if (!out)
        return NULL;
    out[k++] = '%';
    for (; *q; q++) {
        if (*q == '%' || *q == '_' || *q == '\\')
            out[k++] = '\\';
        out[k++] = *q;
    }
    out[k++] = '%';
    out[k] = '\0';
    return out;
}

static bool valid_category_code(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > CASE_CATEGORY_CODE_MAX)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return false;
    return true;
}

/* Checks `q` and fills the plan (but for the text). */
static int plan_check(const struct cases_search_query *q, struct search_plan *p,
                      struct linli_err *err)
{
    memset(p, 0, sizeof *p);
    p->state = q->state;
    p->open_only = q->open_only;
    if (q->q) {
        size_t len = jx_utf8_len(q->q);
        bool control = false;
        for (const unsigned char *s = (const unsigned char *)q->q; *s; s++)
            control |= *s < 0x20 || *s == 0x7f;
        if (len == 0 || len > CASES_QUERY_MAX || control)
            linli_field(err, "q", "must be 1 to %d characters of text", CASES_QUERY_MAX);
    }
    if (q->state < -1 || q->state >= CASE_STATES)
        linli_field(err, "status", "is not a case state");
    if (q->category) {
        if (!valid_category_code(q->category))
            linli_field(err, "category", "is not a category code");
        p->category = q->category;
    }
    const char *why;
    if (q->unit) {
        char area[AREA_CODE_LEN + 1];
        if (case_unit_is_department(q->unit))
            snprintf(p->unit, sizeof p->unit, "%s", q->unit);
        else if (!area_code_normalize(q->unit, area, &why))
            snprintf(p->unit, sizeof p->unit, "%s", area);
        else
            linli_field(err, "unit", "must be a department (dept-...) or an area code");
    }
    if (q->area) {
        char area[AREA_CODE_LEN + 1];
        if (area_code_normalize(q->area, area, &why)) {
            linli_field(err, "area", "%s", why);
        } else {
            size_t keep = (size_t[]){6, 9, 12}[area_code_level(area)];
            memcpy(p->alo, area, keep);
            memcpy(p->ahi, area, keep);
            memset(p->alo + keep, '0', AREA_CODE_LEN - keep);
            memset(p->ahi + keep, '9', AREA_CODE_LEN - keep);
            p->alo[AREA_CODE_LEN] = p->ahi[AREA_CODE_LEN] = '\0';
        }
    }
    p->from = q->from_ms;
    p->to = q->to_ms;
    if (p->from && p->to && p->to <= p->from)
        linli_field(err, "to", "must be after from");
    if (q->limit < 1 || q->limit > CASES_PAGE_MAX)
        linli_field(err, "limit", "must be from 1 to %d", CASES_PAGE_MAX);
    return err->nfields ? LINLI_EINVAL : LINLI_OK;
}

int cases_search_check(const struct cases_search_query *q, struct linli_err *err)
{
    struct search_plan p;
    return plan_check(q, &p, err);
}

/* Chooses the statement for the text and makes the text's form. */
static int plan_text(const struct cases_search_query *q, struct search_plan *p,
                     struct linli_err *err)
{
    p->sql = SQL_SEARCH_PLAIN;
    if (!q->q)
        return LINLI_OK;
    bool indexed = jx_utf8_len(q->q) >= CASES_TRIGRAM_MIN;
    p->sql = indexed ? SQL_SEARCH_FTS : SQL_SEARCH_SHORT;
    p->text = indexed ? fts_phrase(q->q) : like_pattern(q->q);
    return p->text ? LINLI_OK : linli_fail(err, LINLI_ENOMEM, "Out of memory for the search.");
}

/* ---- one page ---- */

struct search_job {
    const struct search_plan *p;
    int64_t before_id;
    int limit;
    struct case_record *items;
    int n;
    int64_t next;
};

static bool staff_role(enum role r)
{
    return r == ROLE_DISTRICT || r == ROLE_STREET || r == ROLE_COMMUNITY || r == ROLE_OPERATOR;
}

static void search_bind(sqlite3_stmt *st, const struct search_job *j, char lo[AREA_CODE_LEN + 1],
                        char hi[AREA_CODE_LEN + 1])
{
    const struct search_plan *p = j->p;
    const struct principal *who = p->who;
    bool all = who->role == ROLE_ADMIN || who->role == ROLE_AUDITOR || cases__is_system(who);
    sqlite3_bind_int(st, 1, all ? 1 : 0);
    sqlite3_bind_int64(st, 2, who->user_id);
    if (staff_role(who->role) && strlen(who->scope) == AREA_CODE_LEN) {
        size_t keep = (size_t[]){6, 9, 12}[area_code_level(who->scope)];
        memcpy(lo, who->scope, keep);
        memcpy(hi, who->scope, keep);
        memset(lo + keep, '0', AREA_CODE_LEN - keep);
        memset(hi + keep, '9', AREA_CODE_LEN - keep);
        lo[AREA_CODE_LEN] = hi[AREA_CODE_LEN] = '\0';
        sqlite3_bind_text(st, 3, lo, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, hi, -1, SQLITE_STATIC);
    }
    if (p->state >= 0)
        sqlite3_bind_text(st, 5, case_state_name(p->state), -1, SQLITE_STATIC);
    if (p->category)
        sqlite3_bind_text(st, 6, p->category, -1, SQLITE_STATIC);
    if (p->unit[0])
        sqlite3_bind_text(st, 7, p->unit, -1, SQLITE_STATIC);
    if (p->alo[0]) {
        sqlite3_bind_text(st, 8, p->alo, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 9, p->ahi, -1, SQLITE_STATIC);
    }
    sqlite3_bind_int64(st, 10, p->from);
    sqlite3_bind_int64(st, 11, p->to);
    sqlite3_bind_int64(st, 12, j->before_id ? j->before_id : INT64_MAX);
    if (p->text)
        sqlite3_bind_text(st, 13, p->text, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 15, p->open_only ? 1 : 0);
}

/* The ids of the page into `ids` (room for limit + 1); sets j->next. */
static int search_ids(struct store_conn *c, struct search_job *j, int64_t *ids, int *nids,
                      struct linli_err *err)
{
    const struct search_plan *p = j->p;
    sqlite3_stmt *st = store_stmt(c, p->sql, err);
    if (!st)
        return err->status;
    char lo[AREA_CODE_LEN + 1], hi[AREA_CODE_LEN + 1];
    search_bind(st, j, lo, hi);
    bool bounded = p->sql == SQL_SEARCH_SHORT;
    sqlite3_bind_int(st, 14, bounded ? CASES_SHORT_QUERY_SCAN : j->limit + 1);
    int rc, scanned = 0;
    int64_t last = 0;
    *nids = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        scanned++;
        last = id;
        if (bounded && !sqlite3_column_int(st, 1))
            continue;
        ids[(*nids)++] = id;
        if (*nids == j->limit + 1)
            break;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_fail(c, rc, "searching cases", err);
    j->next = 0;
    if (*nids > j->limit) {
        *nids = j->limit;
        j->next = ids[j->limit - 1];
    } else if (bounded && scanned == CASES_SHORT_QUERY_SCAN) {
        j->next = last; /* the scan stopped at its bound: more may follow */
    }
    return LINLI_OK;
}

static int search_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct search_job *j = arg;
    struct case_actor a;
    int rc = cases__actor(c, j->p->who, &a, err);
    if (rc)
        return rc;
    int64_t *ids = malloc((size_t)(j->limit + 1) * sizeof *ids);
    if (!ids)
        return linli_fail(err, LINLI_ENOMEM, "Out of memory for the search.");
    int nids = 0;
    if ((rc = search_ids(c, j, ids, &nids, err))) {
        free(ids);
        return rc;
    }
    j->items = nids ? calloc((size_t)nids, sizeof *j->items) : NULL;
    if (nids && !j->items) {
        free(ids);
        return linli_fail(err, LINLI_ENOMEM, "Out of memory for the search.");
    }
    j->n = 0;
    for (int i = 0; i < nids; i++) {
        bool found;
        struct case_record *r = &j->items[j->n];
        if ((rc = cases__load(c, ids[i], r, &found, err)))
            break;
        if (found && cases__visible(&a, r)) { /* the statement said so; the rule has the word */
            cases__redact(&a, r);
            j->n++;
        }
    }
    free(ids);
    if (rc) {
        free(j->items);
        j->items = NULL;
    }
    return rc;
}

int cases_search(struct domain *d, const struct principal *who, const struct cases_search_query *q,
                 struct case_record **items, int *n, int64_t *next, struct linli_err *err)
{
    *items = NULL;
    *n = 0;
    *next = 0;
    if (!who)
        return linli_fail(err, LINLI_EUNAUTH, "Log in first.");
    struct search_plan p;
    int rc = plan_check(q, &p, err);
    if (rc)
        return rc;
    p.who = who;
    if ((rc = plan_text(q, &p, err)))
        return rc;
    struct search_job j = {&p, q->before_id, q->limit, NULL, 0, 0};
    rc = store_read(d->store, search_job, &j, err);
    free(p.text);
    if (rc)
        return rc;
    *items = j.items;
    *n = j.n;
    *next = j.next;
    return LINLI_OK;
}

/* ---- export ---- */

static bool export_role(const struct principal *who)
{
    return cases__is_system(who) || who->role == ROLE_ADMIN || who->role == ROLE_AUDITOR ||
           staff_role(who->role);
}

/* The filters as the audit entry's detail. */
static json_t *export_detail(const struct cases_search_query *q)
{
    char t[40];
    json_t *o = json_object();
    if (q->q)
        json_object_set_new(o, "q", json_string(q->q));
    if (q->state >= 0 || q->open_only)
        json_object_set_new(o, "status",
                            json_string(q->open_only ? "open" : case_state_name(q->state)));
    if (q->category)
        json_object_set_new(o, "category", json_string(q->category));
    if (q->unit)
        json_object_set_new(o, "unit", json_string(q->unit));
    if (q->area)
        json_object_set_new(o, "area", json_string(q->area));
    if (q->from_ms)
        json_object_set_new(o, "from", json_string(clock_format_rfc3339(q->from_ms, t, sizeof t)));
    if (q->to_ms)
        json_object_set_new(o, "to", json_string(clock_format_rfc3339(q->to_ms, t, sizeof t)));
    return o;
}

int cases_export(struct domain *d, const struct principal *who, const struct cases_search_query *q,
                 cases_export_fn fn, void *ctx, int64_t *count, struct linli_err *err)
{
    *count = 0;
    if (!who)
        return linli_fail(err, LINLI_EUNAUTH, "Log in first.");
    if (!export_role(who))
        return linli_fail(err, LINLI_EFORBIDDEN, "Only staff may export cases.");
    struct cases_search_query pq = *q;
    pq.before_id = 0;
    pq.limit = CASES_EXPORT_PAGE;
    struct search_plan p;
    int rc = plan_check(&pq, &p, err);
    if (rc)
        return rc;
    p.who = who;
    json_t *detail = export_detail(q);
    rc = audit_record_read(d, who, "case.export", "cases", detail, err);
    json_decref(detail);
    if (rc || (rc = plan_text(&pq, &p, err)))
        return rc;
    struct search_job j = {&p, 0, CASES_EXPORT_PAGE, NULL, 0, 0};
    do {
        if ((rc = store_read(d->store, search_job, &j, err)))
            break;
        for (int i = 0; i < j.n && !rc; i++) {
            rc = fn(ctx, &j.items[i]);
            if (!rc)
                (*count)++;
        }
        free(j.items);
        j.items = NULL;
        j.before_id = j.next;
    } while (!rc && j.next);
    free(p.text);
    return rc;
}

/* ---- CSV ---- */

static const char *const csv_columns[] = {
    /* the public view */
    "id", "number", "channel", "category", "title", "description", "address", "lat", "lon",
    "area_code", "state", "priority", "reporter", "photos", "created_at", "accepted_at",
    "resolved_at", "closed_at", "rating",
    /* the handlers' */
    "unit", "escalated_to", "co_units", "summoned_units", "deadline_class", "response_due_at",
    "resolve_due_at", "response_overdue", "resolve_overdue", "escalations", "resolutions",
    "rating_comment", "reason", "duplicate_of"};
#define NCSV (sizeof csv_columns / sizeof csv_columns[0])

static bool guard_needed(const char *s)
{
    return *s && (strchr(FORMULA_CHARS, *s) != NULL);
}

/* A text cell; one a spreadsheet would take for a formula is written quoted
 * with a leading single quote inside. */
static void text_cell(FILE *out, const char *v, int last)
{
    if (!guard_needed(v)) {
        csv_write_field(out, v, last);
        return;
    }
    fputc('"', out);
    fputc(GUARD_QUOTE, out);
    for (const char *p = v; *p; p++) {
        if (*p == '"')
            fputc('"', out);
        fputc(*p, out);
    }
    fputc('"', out);
    fputc(last ? '\n' : ',', out);
}

static void int_cell(FILE *out, int64_t v)
{
    char t[24];
    snprintf(t, sizeof t, "%lld", (long long)v);
    csv_write_field(out, t, 0);
}

static void time_cell(FILE *out, int64_t ms)
{
    char t[40];
    csv_write_field(out, ms ? clock_format_rfc3339(ms, t, sizeof t) : "", 0);
}

/* The units of one link kind, ";"-separated. */
static void units_cell(FILE *out, const struct case_record *r, int link)
{
    char v[CASE_UNITS_MAX * (CASE_UNIT_CODE_MAX + 1) + 1];
    size_t at = 0;
    v[0] = '\0';
    for (int i = 0; i < r->nunits; i++)
        if (r->units[i].link == link)
            at += (size_t)snprintf(v + at, sizeof v - at, "%s%s", at ? ";" : "", r->units[i].unit);
    csv_write_field(out, v, 0);
}

int cases_csv_header(FILE *out)
{
    for (size_t i = 0; i < NCSV; i++)
        csv_write_field(out, csv_columns[i], i == NCSV - 1);
    return ferror(out) ? -1 : 0;
}

int cases_csv_row(FILE *out, const struct case_record *r)
{
    char num[32];
    int_cell(out, r->id);
    csv_write_field(out, r->number, 0);
    csv_write_field(out, case_channel_name(r->channel), 0);
    csv_write_field(out, r->category, 0);
    text_cell(out, r->title, 0);
    text_cell(out, r->description, 0);
    text_cell(out, r->address, 0);
    if (r->has_point) {
        snprintf(num, sizeof num, "%.7f", r->point.lat);
        csv_write_field(out, num, 0);
        snprintf(num, sizeof num, "%.7f", r->point.lon);
        csv_write_field(out, num, 0);
    } else {
        csv_write_field(out, "", 0);
        csv_write_field(out, "", 0);
    }
    csv_write_field(out, r->area_code, 0);
    csv_write_field(out, case_state_name(r->state), 0);
    csv_write_field(out, case_priority_name(r->priority), 0);
    /* the reporter's name only where the public view has it; never contact details */
    text_cell(out, r->reporter_public ? r->reporter_name : "", 0);
    int_cell(out, r->nphotos);
    time_cell(out, r->created_at);
    time_cell(out, r->accepted_at);
    time_cell(out, r->resolved_at);
    time_cell(out, r->closed_at);
    csv_write_field(out, r->rating >= 0 ? case_rating_name(r->rating) : "", 0);
    csv_write_field(out, r->unit_code, 0);
    csv_write_field(out, r->escalated_to, 0);
    units_cell(out, r, LINK_CO);
    units_cell(out, r, LINK_SUMMONED);
    csv_write_field(out, deadline_class_name(r->deadline_class), 0);
    time_cell(out, r->response_due_at);
    time_cell(out, r->resolve_due_at);
    csv_write_field(out, r->flags & CASE_FLAG_RESPONSE_OVERDUE ? "1" : "0", 0);
    csv_write_field(out, r->flags & CASE_FLAG_RESOLVE_OVERDUE ? "1" : "0", 0);
    int_cell(out, r->escalations);
    int_cell(out, r->resolutions);
    text_cell(out, r->rating_comment, 0);
    text_cell(out, r->reason, 0);
    if (r->duplicate_of) {
        snprintf(num, sizeof num, "%lld", (long long)r->duplicate_of);
        csv_write_field(out, num, 1);
    } else {
        csv_write_field(out, "", 1);
    }
    return ferror(out) ? -1 : 0;
}
