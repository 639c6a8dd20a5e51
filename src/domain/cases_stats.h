/* cases_stats.h - what the case workflow's history adds up to, and how staff
 * find and take out cases: the figures per handling unit (response,
 * resolution and satisfaction rates, counts by state, a ranking), the
 * month's most recurring problems by category x community (未诉先办),
 * full-text search in Chinese, and the CSV export.
 *
 * ---- the figures (cases_stats_compute) ----
 *
 * Every figure is computed on each call from case_events (when a case was
 * accepted, resolved, reopened, rated) and the limits each case carries
 * (cases.response_due_at, cases.resolve_minutes); nothing is stored. A case
 * counts for its lead unit (cases.unit_code: the unit it was last dispatched
 * to). For a period [from, to):
 *
 *   received      cases submitted in the period, and their states now.
 *   response      a case's response is its first "accepted", "rejected" or
 *                 "duplicate" event (each says the matter was taken up). Its
 *                 response is DUE in the period when response_due_at lies in
 *                 [from, to). It is counted once decided: answered (on time
 *                 when at or before the deadline, else late), or unanswered
 *                 with the deadline past `now` (late). Unanswered with the
 *                 deadline still ahead: pending, in neither count.
 *   resolution    each "accepted" and each "reopened" event starts a cycle
 *                 whose deadline is that time + the case's resolve_minutes.
 *                 A cycle is DUE in the period when its deadline lies in
 *                 [from, to); its end is the first "resolved", "rejected" or
 *                 "duplicate" event after it. Resolved by the deadline: on
 *                 time; resolved later, or still open past the deadline, or
 *                 rejected / marked duplicate after the deadline: late.
 *                 Rejected or marked duplicate before the deadline: owes no
 *                 resolution and is not counted. Still open with the deadline
 *                 ahead: pending. So a reopened case is due twice: its first
 *                 resolution is judged on its own limit (the reporter's
 *                 verdict on it shows in the satisfaction rate and in
 *                 `reopened`), the reopening on the fresh one.
 *   satisfaction  "rated" events in the period: (satisfied + basically
 *                 satisfied) / rated.
 *   reopened      "reopened" events in the period.
 *
 * A rate is on_time / due (satisfied / rated), or undefined (-1; null in
 * JSON) when nothing was due. The RANKING orders units by their score, the
 * mean of the rates that are defined (each of the three weighs the same),
 * highest first, ties by unit code; a unit with no defined rate has no rank
 * and is listed after the ranked ones.
 *
 * ---- who sees which units ----
 *
 * admin, auditor, district staff (and the system): every unit. Street,
 * community and operator staff: the units that are areas within their scope,
 * and the units they are members of (unit_members). Other roles: EFORBIDDEN.
 * `area` narrows the cases to those whose area lies within it (it must lie
 * within the caller's scope: EFORBIDDEN otherwise); `unit` to one unit (in
 * the caller's view: EFORBIDDEN otherwise).
 *
 * ---- recurring problems (cases_recurring) ----
 *
 * For a calendar month in Asia/Shanghai: cases submitted in the month,
 * counted by category x area (the case's community), not counting cases
 * marked duplicate (the same matter twice) or rejected, nor cases without an
 * area; the top N by count (ties by category, then area), each with the
 * previous month's count for the same pair. Staff with a scope see the areas
 * within it; admin, auditor and district staff all of them.
 *
 * ---- search and export ----
 *
 * cases_search finds the cases the caller may see (cases.h: who sees what)
 * matching every filter, newest first. `q` is one substring of the title,
 * description or address: with 3 or more characters it is looked up in the
 * trigram index (cases_fts); with 1 or 2 characters, which hold no trigram,
 * each page reads the CASES_SHORT_QUERY_SCAN newest cases below the cursor,
 * whatever the filters, and keeps those the caller may see that pass the
 * filters and hold the text (LIKE): such a page may hold fewer hits than the
 * limit, even none, and still have a next cursor. Records come back in the
 * caller's view (cases__redact).
 *
 * cases_export hands every matching case, newest first, to a callback, in
 * pages; staff roles only, audited as "case.export" with the filters. The
 * CSV (cases_csv_*) has the public view's columns plus the handlers'
 * columns, never the reporter's contact details; text cells that a
 * spreadsheet would take for a formula (starting with = + - @, a tab or a
 * carriage return) get a leading single quote. */
#ifndef LINLI_CASES_STATS_H
#define LINLI_CASES_STATS_H

#include "domain/cases.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define CASES_STATS_SPAN_MAX_DAYS 366
#define CASES_RECURRING_DEFAULT   10    /* top N when not asked */
#define CASES_RECURRING_MAX       100   /* largest N */
#define CASES_QUERY_MAX           64    /* characters of a search text */
#define CASES_TRIGRAM_MIN         3     /* characters from which q uses the trigram index */
#define CASES_SHORT_QUERY_SCAN    20000 /* cases a 1-2 character search reads per page */
#define CASES_EXPORT_PAGE         200   /* cases read per store call while exporting */

/* ---- months in Asia/Shanghai ---- */

/* The month holding `at_ms`: [*start, *next) in UTC ms. */
void cases_month_of(int64_t at_ms, int64_t *start, int64_t *next);
/* "YYYY-MM" (1970-01 .. 9999-12) into its bounds; 0, or -1 when malformed. */
int cases_month_parse(const char *text, int64_t *start, int64_t *next);

/* ---- the figures ---- */

struct cases_stats_query {
    int64_t from_ms, to_ms; /* [from, to); both 0 = the current month */
    const char *unit;       /* one unit; NULL = every unit in the caller's view */
    const char *area;       /* cases whose area lies within it; NULL = any */
    int64_t now_ms;         /* what "past the deadline" is judged against; 0 = now */
};

/* One deadline kind's count: on_time + late = due; pending is in neither. */
struct cases_deadline_figures {
    int64_t due, on_time, late, pending;
};

struct cases_unit_figures {
    char unit[CASE_UNIT_CODE_MAX + 1];
    char name[CASE_TEXT_SIZE(CASE_UNIT_NAME_MAX)]; /* "" when the code is unknown */
    int64_t received;
    int64_t states[CASE_STATES]; /* of the cases received, their state now */
    struct cases_deadline_figures response, resolution;
    int64_t rated, satisfied, basically_satisfied, unsatisfied;
    int64_t reopened;
    double response_rate, resolution_rate, satisfaction_rate; /* -1 = undefined */
    double score; /* mean of the defined rates; -1 = none defined */
    int rank;     /* 1-based; 0 = not ranked */
};

/* The figures of every unit with anything to count in the period, in rank
 * order (ranked first, then the rest by code), and their sum in `*totals`
 * (unit "", rank 0). EFORBIDDEN / EINVAL per the rules above (field errors
 * "from", "to", "unit", "area"). *units malloc'd. */
int cases_stats_compute(struct domain *d, const struct principal *who,
                        const struct cases_stats_query *q, struct cases_unit_figures **units,
                        int *n, struct cases_unit_figures *totals, struct linli_err *err);

/* The same as the API's JSON object (docs/api.md). New reference. */
int cases_stats_report(struct domain *d, const struct principal *who,
                       const struct cases_stats_query *q, json_t **out, struct linli_err *err);

/* ---- recurring problems ---- */

struct cases_recurring_query {
    const char *month; /* "YYYY-MM"; NULL = the current month */
    const char *area;  /* within this area; NULL = the caller's whole view */
    int limit;         /* 1..CASES_RECURRING_MAX; 0 = CASES_RECURRING_DEFAULT */
    int64_t now_ms;    /* for the current month; 0 = now */
};

struct cases_recurring_item {
    char category[CASE_CATEGORY_CODE_MAX + 1];
    char category_name[CASE_TEXT_SIZE(CASE_CATEGORY_NAME_MAX)];
    char area_code[AREA_CODE_LEN + 1];
    char area_name[CASE_TEXT_SIZE(CASE_UNIT_NAME_MAX)];
    int64_t count, previous;
};

/* The top pairs of the month (rules above). *items malloc'd; *month_start
 * the month's first instant (UTC ms). */
int cases_recurring(struct domain *d, const struct principal *who,
                    const struct cases_recurring_query *q, struct cases_recurring_item **items,
                    int *n, int64_t *month_start, struct linli_err *err);
int cases_recurring_report(struct domain *d, const struct principal *who,
                           const struct cases_recurring_query *q, json_t **out,
                           struct linli_err *err);

/* ---- search and export ---- */

struct cases_search_query {
    const char *q;          /* 1..CASES_QUERY_MAX characters; NULL = no text */
    int state;              /* enum case_state; -1 = any */
    bool open_only;         /* only cases not closed, rejected or duplicate */
    const char *category;   /* NULL = any */
    const char *unit;       /* linked to it (any link); NULL = any */
    const char *area;       /* an area code (6, 9 or 12 digits): cases within it; NULL = any */
    int64_t from_ms, to_ms; /* submitted in [from, to); 0 = open */
    int64_t before_id;      /* cursor: ids below it; 0 = from the newest */
    int limit;              /* 1..CASES_PAGE_MAX */
};

/* Checks a query's fields (field errors "q", "category", "unit", "area",
 * "to", "limit"); EINVAL when any is wrong. */
int cases_search_check(const struct cases_search_query *q, struct linli_err *err);

/* A page of matching cases the caller may see, newest first, in the
 * caller's view. Any logged-in role (who may not be NULL). *items malloc'd;
 * *next the cursor for the next page, 0 after the last. */
int cases_search(struct domain *d, const struct principal *who, const struct cases_search_query *q,
                 struct case_record **items, int *n, int64_t *next, struct linli_err *err);

/* Gets each case in turn; a nonzero return stops the export and is returned. */
typedef int (*cases_export_fn)(void *ctx, const struct case_record *r);

/* Every matching case (q's cursor and limit are ignored), newest first, to
 * `fn`; staff roles only (EFORBIDDEN). Audited before the first row
 * ("case.export", object "cases", the filters). *count: cases handed out. */
int cases_export(struct domain *d, const struct principal *who, const struct cases_search_query *q,
                 cases_export_fn fn, void *ctx, int64_t *count, struct linli_err *err);

/* The CSV's header line, and one case as one line (RFC 4180, UTF-8, times
 * RFC 3339 UTC). Return 0, or -1 when the stream failed. */
int cases_csv_header(FILE *out);
int cases_csv_row(FILE *out, const struct case_record *r);

#endif
