/* api_cases_stats.c - the case workflow's figures and ways out:
 * GET /api/v1/reports/cases (per-unit rates and ranking),
 * GET /api/v1/reports/cases/recurring (the month's recurring problems),
 * GET /api/v1/cases/search (full text and filters, newest first) and
 * GET /api/v1/cases/export.csv (the same filters as CSV, staff only). */
#include "api/api.h"

#include "base/clock.h"
#include "domain/cases_stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Most cases one CSV answer holds: it is built in memory before it is sent
 * (the audit entry must be on disk first). `linli export cases` has no such
 * limit. */
#define CASES_EXPORT_HTTP_MAX 100000

/* ---- the figures ---- */

static void report_cases(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    if (api_auth(a, req, &who) ||
        api_query(req, (const char *const[]){"from", "to", "unit", "area", NULL}))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    struct cases_stats_query q = {.unit = http_query(req, "unit"), .area = http_query(req, "area")};
    api_query_time(req, "from", &q.from_ms, &err);
    api_query_time(req, "to", &q.to_ms, &err);
    if (err.nfields) {
        http_respond_problem(req, 422, &err);
        return;
    }
    json_t *out;
    if (cases_stats_report(a->d, &who, &q, &out, &err)) {
        api_error(req, &err);
        return;
    }
    http_respond_json(req, 200, out);
}

static void report_recurring(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    if (api_auth(a, req, &who) ||
        api_query(req, (const char *const[]){"month", "area", "limit", NULL}))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    struct cases_recurring_query q = {.month = http_query(req, "month"),
                                      .area = http_query(req, "area")};
    const char *l = http_query(req, "limit");
    if (l) {
        char *end;
        long v = strtol(l, &end, 10);
        if (!*l || *end || v < 1 || v > CASES_RECURRING_MAX)
            linli_field(&err, "limit", "must be a whole number from 1 to %d", CASES_RECURRING_MAX);
        else
            q.limit = (int)v;
    }
    if (err.nfields) {
        http_respond_problem(req, 422, &err);
        return;
    }
    json_t *out;
    if (cases_recurring_report(a->d, &who, &q, &out, &err)) {
        api_error(req, &err);
        return;
    }
    http_respond_json(req, 200, out);
}

/* ---- search and export: the same filters ---- */

#define FILTER_PARAMS "q", "status", "category", "unit", "area", "from", "to"

/* Reads the filters; field errors in `err`. */
static void read_filters(struct http_request *req, struct cases_search_query *q,
                         struct linli_err *err)
{
    q->q = http_query(req, "q");
    q->state = -1;
    const char *status = http_query(req, "status");
    if (status && !strcmp(status, "open")) {
        q->open_only = true;
    } else if (status && case_state_parse(status, &q->state)) {
        q->state = -1;
        linli_field(err, "status", "must be open or a state (submitted, accepted, ...)");
    }
    q->category = http_query(req, "category");
    q->unit = http_query(req, "unit");
    q->area = http_query(req, "area");
    api_query_time(req, "from", &q->from_ms, err);
    api_query_time(req, "to", &q->to_ms, err);
}

static void search(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    if (api_auth(a, req, &who) ||
        api_query(req, (const char *const[]){FILTER_PARAMS, "limit", "cursor", NULL}))
        return;
    struct cases_search_query q = {0};
    if (api_page(a, req, CASES_PAGE_MAX, &q.limit, &q.before_id))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    read_filters(req, &q, &err);
    if (err.nfields) {
        http_respond_problem(req, 422, &err);
        return;
    }
    struct case_record *items;
    int n;
    int64_t next;
    if (cases_search(a->d, &who, &q, &items, &n, &next, &err)) {
        api_error(req, &err);
        return;
    }
    json_t *arr = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(arr, case_to_json(&items[i], NULL, 0));
    free(items);
    http_respond_json(req, 200, api_list(arr, next));
}

struct csv_out {
    FILE *f;
    int64_t rows;
    struct linli_err *err;
};

static int csv_row(void *ctx, const struct case_record *r)
{
    struct csv_out *o = ctx;
    if (++o->rows > CASES_EXPORT_HTTP_MAX)
        return linli_fail(o->err, LINLI_EINVAL,
                          "More than %d cases match: narrow the period, area or state, or use "
                          "`linli export cases`.",
                          CASES_EXPORT_HTTP_MAX);
    return cases_csv_row(o->f, r) ? linli_fail(o->err, LINLI_ENOMEM, "Out of memory for the CSV.")
                                  : LINLI_OK;
}

static void export_csv(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    if (api_auth(a, req, &who) || api_query(req, (const char *const[]){FILTER_PARAMS, NULL}))
        return;
    struct cases_search_query q = {.limit = 1};
    struct linli_err err;
    linli_err_clear(&err);
    read_filters(req, &q, &err);
    if (err.nfields || cases_search_check(&q, &err)) {
        http_respond_problem(req, 422, &err);
        return;
    }
    char *data = NULL;
    size_t len = 0;
    struct csv_out o = {open_memstream(&data, &len), 0, &err};
    if (!o.f) {
        linli_fail(&err, LINLI_ENOMEM, "Out of memory for the CSV.");
        api_error(req, &err);
        return;
    }
    int64_t count;
    int rc = cases_csv_header(o.f) ? linli_fail(&err, LINLI_ENOMEM, "Out of memory for the CSV.")
                                   : cases_export(a->d, &who, &q, csv_row, &o, &count, &err);
    if (fclose(o.f) != 0 && !rc)
        rc = linli_fail(&err, LINLI_ENOMEM, "Out of memory for the CSV.");
    if (rc) {
        free(data);
        api_error(req, &err);
        return;
    }
    http_add_header(req, "Content-Disposition", "attachment; filename=\"cases.csv\"");
    http_add_header(req, "Cache-Control", "no-store");
    http_respond_owned(req, 200, "text/csv; charset=utf-8", data, len);
}

int api_cases_stats_routes(struct api *a)
{
    int rc;
    /* Before /api/v1/cases/{id}, which would take "search" and "export.csv" for ids. */
    if ((rc = http_route(a->http, "GET", "/api/v1/reports/cases", report_cases, a)) < 0 ||
        (rc = http_route(a->http, "GET", "/api/v1/reports/cases/recurring", report_recurring, a)) <
            0 ||
        (rc = http_route(a->http, "GET", "/api/v1/cases/search", search, a)) < 0 ||
        (rc = http_route(a->http, "GET", "/api/v1/cases/export.csv", export_csv, a)) < 0)
        return rc;
    return 0;
}
