/* api_audit.c - GET /api/v1/audit: the audit log, newest first, for admins and auditors. */
#include "api/api.h"

#include "base/clock.h"
#include "domain/audit.h"

#include <stdlib.h>
#include <string.h>

#define AUDIT_PAGE_MAX 1000

static void list(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    if (api_auth(a, req, &who) ||
        api_query(req, (const char *const[]){"limit", "cursor", "user_id", "action", "since",
                                             "until", NULL}))
        return;
    struct audit_filter f = {0};
    if (api_page(a, req, AUDIT_PAGE_MAX, &f.limit, &f.before_id))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    const char *uid = http_query(req, "user_id");
    if (uid) {
        char *end;
        long long v = strtoll(uid, &end, 10);
        if (!*uid || *end || v <= 0)
            linli_field(&err, "user_id", "must be a user id (a positive whole number)");
        f.user_id = v;
    }
    f.action = http_query(req, "action");
    if (f.action && (!*f.action || strlen(f.action) > 64))
        linli_field(&err, "action",
                    "must be an action name such as user.create, or a prefix such as user.");
    const char *since = http_query(req, "since"), *until = http_query(req, "until");
    if (since && clock_parse_rfc3339(since, &f.since_ms) != 0)
        linli_field(&err, "since", "must be an RFC 3339 time such as 2026-11-25T08:00:00+08:00");
    if (until && clock_parse_rfc3339(until, &f.until_ms) != 0)
        linli_field(&err, "until", "must be an RFC 3339 time such as 2026-11-25T18:00:00+08:00");
    if (err.nfields) {
        http_respond_problem(req, 422, &err);
        return;
    }
    json_t *items;
    int64_t next;
    if (audit_list(a->d, &who, &f, &items, &next, &err)) {
        api_error(req, &err);
        return;
    }
    http_respond_json(req, 200, api_list(items, next));
}

int api_audit_routes(struct api *a)
{
    int rc = http_route(a->http, "GET", "/api/v1/audit", list, a);
    return rc < 0 ? rc : 0;
}
