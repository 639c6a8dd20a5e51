/* api_reports.c - /api/v1/reports: the planner's reports (station coverage,
 * oversized communities), for staff, limited to their scope. */
#include "api/api.h"

#include "domain/reports.h"

#include <stdlib.h>
#include <string.h>

/* ?street=: a 9-digit street code (or its 12-digit form). Returns 0 (out ""
 * when absent) or -1 with a field error. */
static int query_street(struct http_request *req, char out[AREA_CODE_LEN + 1],
                        struct linli_err *err)
{
    out[0] = '\0';
    const char *v = http_query(req, "street");
    if (!v)
        return 0;
    const char *why;
    if (area_code_normalize(v, out, &why) || area_code_level(out) != 1) {
        out[0] = '\0';
        linli_field(err, "street", "must be a 9-digit street code");
        return -1;
    }
    return 0;
}

static void coverage(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    if (api_auth(a, req, &who) || api_query(req, (const char *const[]){"street", "detail", NULL}))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    char street[AREA_CODE_LEN + 1];
    struct coverage_query q = {0};
    if (query_street(req, street, &err) == 0 && street[0])
        q.street = street;
    const char *detail = http_query(req, "detail");
    if (detail) {
        if (!strcmp(detail, "true"))
            q.detail = true;
        else if (strcmp(detail, "false") != 0)
            linli_field(&err, "detail", "must be true or false");
    }
    if (err.nfields) {
        http_respond_problem(req, 422, &err);
        return;
    }
    json_t *out;
    if (reports_station_coverage(a->d, &who, &q, &out, &err)) {
        api_error(req, &err);
        return;
    }
    http_respond_json(req, 200, out);
}

static void oversized(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    if (api_auth(a, req, &who) ||
        api_query(req, (const char *const[]){"households", "street", NULL}))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    char street[AREA_CODE_LEN + 1];
    struct oversized_query q = {.households = REPORT_OVERSIZED_HOUSEHOLDS};
    if (query_street(req, street, &err) == 0 && street[0])
        q.street = street;
    const char *h = http_query(req, "households");
    if (h) {
        char *end;
        long long v = strtoll(h, &end, 10);
        if (!*h || *end || v < 0 || v > REPORT_HOUSEHOLDS_MAX)
            linli_field(&err, "households", "must be a whole number from 0 to %d",
                        REPORT_HOUSEHOLDS_MAX);
        else
            q.households = v;
    }
    if (err.nfields) {
        http_respond_problem(req, 422, &err);
        return;
    }
    json_t *out;
    if (reports_oversized_communities(a->d, &who, &q, &out, &err)) {
        api_error(req, &err);
        return;
    }
    http_respond_json(req, 200, out);
}

int api_reports_routes(struct api *a)
{
    int rc;
    if ((rc = http_route(a->http, "GET", "/api/v1/reports/station-coverage", coverage, a)) < 0 ||
        (rc = http_route(a->http, "GET", "/api/v1/reports/oversized-communities", oversized, a)) <
            0)
        return rc;
    return 0;
}
