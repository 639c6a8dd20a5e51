/* api_care.c - proactive care over HTTP: /api/v1/tasks (the operators'
 * outbound, urgent and maintenance work: list, claim, finish, cancel),
 * /api/v1/care-plans (staff make and change plans) and
 * /api/v1/reports/hotline (the call centre's figures). */
#include "api/api.h"

#include "base/clock.h"
#include "domain/care.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NFIELDS(a)          (sizeof(a) / sizeof((a)[0]))
#define REPORT_DEFAULT_DAYS 30
#define DAY_MS              86400000LL

/* Reads a positive integer query parameter; 0 when absent, -1 after a field error. */
static int64_t query_id(struct http_request *req, const char *name, struct linli_err *err)
{
    const char *v = http_query(req, name);
    if (!v)
        return 0;
    char *end;
    long long n = strtoll(v, &end, 10);
    if (!*v || *end || n <= 0) {
        linli_field(err, name, "must be a positive whole number");
        return -1;
    }
    return n;
}

/* ---- tasks ---- */

static void task_list(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    if (api_auth(a, req, &who) ||
        api_query(req, (const char *const[]){"state", "kind", "person_id", "mine", "limit",
                                             "cursor", NULL}))
        return;
    struct task_filter f = {.state = -1, .kind = -1};
    if (api_page(a, req, TASKS_PAGE_MAX, &f.limit, &f.after_id))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    const char *state = http_query(req, "state");
    if (state && task_state_parse(state, &f.state))
        linli_field(&err, "state", "must be open, claimed, done, failed or cancelled");
    const char *kind = http_query(req, "kind");
    if (kind && task_kind_parse(kind, &f.kind))
        linli_field(&err, "kind", "is not a task kind (see the API documentation)");
    int64_t person = query_id(req, "person_id", &err);
    f.person_id = person > 0 ? person : 0;
    const char *mine = http_query(req, "mine");
    if (mine && strcmp(mine, "true") && strcmp(mine, "false"))
        linli_field(&err, "mine", "must be true or false");
    f.mine = mine && !strcmp(mine, "true");
    if (err.nfields) {
        http_respond_problem(req, 422, &err);
        return;
    }
    json_t *items;
    int64_t next;
    if (tasks_list(a->d, &who, &f, &items, &next, &err)) {
        api_error(req, &err);
        return;
    }
    http_respond_json(req, 200, api_list(items, next));
}

static void task_claim(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    int64_t id;
    if (api_auth(a, req, &who) || api_query(req, (const char *const[]){NULL}) ||
        api_path_id(req, 0, &id))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    json_t *out;
    if (tasks_claim(a->d, &who, id, &out, &err)) {
        api_error(req, &err);
        return;
    }
    http_respond_json(req, 200, out);
}

static const struct jx_field finish_fields[] = {
    {"state", JX_STRING, true, false, 16},
    {"outcome", JX_STRING, true, false, CARE_NOTE_MAX},
};

static void task_finish(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    int64_t id;
    if (api_auth(a, req, &who) || api_query(req, (const char *const[]){NULL}) ||
        api_path_id(req, 0, &id))
        return;
    json_t *body = api_body(req, finish_fields, NFIELDS(finish_fields));
    if (!body)
        return;
    struct linli_err err;
    linli_err_clear(&err);
    int state = -1;
    const char *s = jx_str(body, "state");
    if (task_state_parse(s, &state) || (state != TASK_DONE && state != TASK_FAILED)) {
        json_decref(body);
        linli_field(&err, "state", "must be done or failed");
        http_respond_problem(req, 422, &err);
        return;
    }
    json_t *out;
    int rc = tasks_finish(a->d, &who, id, state, jx_str(body, "outcome"), &out, &err);
    json_decref(body);
    if (rc) {
        api_error(req, &err);
        return;
    }
    http_respond_json(req, 200, out);
}

static const struct jx_field cancel_fields[] = {
    {"outcome", JX_STRING, false, false, CARE_NOTE_MAX},
};

static void task_cancel(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    int64_t id;
    if (api_auth(a, req, &who) || api_query(req, (const char *const[]){NULL}) ||
        api_path_id(req, 0, &id))
        return;
    json_t *body = NULL;
    if (req->body.len && !(body = api_body(req, cancel_fields, NFIELDS(cancel_fields))))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    json_t *out;
    int rc = tasks_finish(a->d, &who, id, TASK_CANCELLED, body ? jx_str(body, "outcome") : NULL,
                          &out, &err);
    json_decref(body);
    if (rc) {
        api_error(req, &err);
        return;
    }
    http_respond_json(req, 200, out);
}

/* ---- care plans ---- */

static const struct jx_field plan_fields[] = {
    {"person_id", JX_INT, true, false, 0},       {"kind", JX_STRING, true, false, 32},
    {"time_of_day", JX_STRING, false, false, 5}, {"weekday", JX_INT, false, false, 0},
    {"interval_days", JX_INT, false, false, 0},  {"starts_on", JX_STRING, false, false, 10},
    {"ends_on", JX_STRING, false, true, 10},     {"note", JX_STRING, false, false, CARE_NOTE_MAX},
};

/* "HH:MM" to minutes after midnight; -1 when malformed. */
static int parse_hhmm(const char *s)
{
    if (!s || strlen(s) != 5 || s[2] != ':')
        return -1;
    for (int i = 0; i < 5; i++)
        if (i != 2 && (s[i] < '0' || s[i] > '9'))
            return -1;
    int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
    return h < 24 && m < 60 ? h * 60 + m : -1;
}

/* A whole number field in [lo, hi] or absent (-1); out of range adds a field error. */
static int int_field(json_t *body, const char *name, int lo, int hi, struct linli_err *err)
{
    if (!jx_has(body, name))
        return -1;
    int64_t v = jx_int(body, name, -1);
    if (v < lo || v > hi) {
        linli_field(err, name, "must be a whole number from %d to %d", lo, hi);
        return -1;
    }
    return (int)v;
}

static void plan_create(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    if (api_auth(a, req, &who) || api_query(req, (const char *const[]){NULL}))
        return;
    json_t *body = api_body(req, plan_fields, NFIELDS(plan_fields));
    if (!body)
        return;
    struct linli_err err;
    linli_err_clear(&err);
    struct care_plan_in in = {
        .person_id = jx_int(body, "person_id", 0),
        .kind = jx_str(body, "kind"),
        .time_of_day = -1,
        .weekday = int_field(body, "weekday", 0, 6, &err),
        .interval_days = int_field(body, "interval_days", 1, 365, &err),
        .starts_on = jx_str(body, "starts_on"),
        .ends_on = jx_str(body, "ends_on"),
        .note = jx_str(body, "note"),
    };
    const char *tod = jx_str(body, "time_of_day");
    if (tod && (in.time_of_day = parse_hhmm(tod)) < 0)
        linli_field(&err, "time_of_day", "must be a time of day HH:MM, 00:00 to 23:59");
    if (err.nfields) {
        json_decref(body);
        http_respond_problem(req, 422, &err);
        return;
    }
    json_t *out;
    int rc = care_plans_create(a->d, &who, &in, &out, &err);
    json_decref(body);
    if (rc) {
        api_error(req, &err);
        return;
    }
    api_created(req, "care-plans", json_integer_value(json_object_get(out, "id")), false, out);
}

static const struct jx_field plan_patch_fields[] = {
    {"active", JX_BOOL, false, false, 0},
    {"note", JX_STRING, false, false, CARE_NOTE_MAX},
    {"ends_on", JX_STRING, false, true, 10},
};

static void plan_patch(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    int64_t id;
    if (api_auth(a, req, &who) || api_query(req, (const char *const[]){NULL}) ||
        api_path_id(req, 0, &id))
        return;
    json_t *body = api_body_partial(req, plan_patch_fields, NFIELDS(plan_patch_fields));
    if (!body)
        return;
    struct linli_err err;
    linli_err_clear(&err);
    if (json_object_size(body) == 0) {
        json_decref(body);
        linli_fail(&err, LINLI_EINVAL, "Nothing to change: send active, note or ends_on.");
        http_respond_problem(req, 422, &err);
        return;
    }
    json_t *out;
    int rc = care_plans_update(a->d, &who, id, body, &out, &err);
    json_decref(body);
    if (rc) {
        api_error(req, &err);
        return;
    }
    http_respond_json(req, 200, out);
}

static void plan_list(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    if (api_auth(a, req, &who) ||
        api_query(req, (const char *const[]){"person_id", "limit", "cursor", NULL}))
        return;
    int limit;
    int64_t after;
    if (api_page(a, req, CARE_PLANS_PAGE_MAX, &limit, &after))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    int64_t person = query_id(req, "person_id", &err);
    if (err.nfields) {
        http_respond_problem(req, 422, &err);
        return;
    }
    json_t *items;
    int64_t next;
    if (care_plans_list(a->d, &who, person > 0 ? person : 0, after, limit, &items, &next, &err)) {
        api_error(req, &err);
        return;
    }
    http_respond_json(req, 200, api_list(items, next));
}

/* ---- figures ---- */

static void hotline(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    if (api_auth(a, req, &who) || api_query(req, (const char *const[]){"from", "to", "area", NULL}))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    int64_t to = clock_now_ms(), from;
    const char *t = http_query(req, "to"), *f = http_query(req, "from");
    if (t && clock_parse_rfc3339(t, &to))
        linli_field(&err, "to", "must be an RFC 3339 time, e.g. 2026-11-25T00:00:00+08:00");
    from = to - REPORT_DEFAULT_DAYS * DAY_MS;
    if (f && clock_parse_rfc3339(f, &from))
        linli_field(&err, "from", "must be an RFC 3339 time, e.g. 2026-10-26T00:00:00+08:00");
    if (err.nfields) {
        http_respond_problem(req, 422, &err);
        return;
    }
    json_t *out;
    if (hotline_report(a->d, &who, from, to, http_query(req, "area"), &out, &err)) {
        api_error(req, &err);
        return;
    }
    http_respond_json(req, 200, out);
}

int api_care_routes(struct api *a)
{
    int rc;
    if ((rc = http_route(a->http, "GET", "/api/v1/tasks", task_list, a)) < 0 ||
        (rc = http_route(a->http, "POST", "/api/v1/tasks/{id}/claim", task_claim, a)) < 0 ||
        (rc = http_route(a->http, "POST", "/api/v1/tasks/{id}/finish", task_finish, a)) < 0 ||
        (rc = http_route(a->http, "POST", "/api/v1/tasks/{id}/cancel", task_cancel, a)) < 0 ||
        (rc = http_route(a->http, "GET", "/api/v1/care-plans", plan_list, a)) < 0 ||
        (rc = http_route(a->http, "POST", "/api/v1/care-plans", plan_create, a)) < 0 ||
        (rc = http_route(a->http, "PATCH", "/api/v1/care-plans/{id}", plan_patch, a)) < 0 ||
        (rc = http_route(a->http, "GET", "/api/v1/reports/hotline", hotline, a)) < 0)
        return rc;
    return 0;
}
