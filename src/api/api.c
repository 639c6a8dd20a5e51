/* api.c - route registration and the helpers every handler shares. */
#include "api/api.h"

#include "base/clock.h"
#include "base/cursor.h"
#include "domain/auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int api_register(struct api *a)
{
    int rc;
    if ((rc = api_system_routes(a)) < 0 || (rc = api_auth_routes(a)) < 0 ||
        (rc = api_users_routes(a)) < 0 || (rc = api_audit_routes(a)) < 0 ||
        (rc = api_events_routes(a)) < 0 || (rc = api_areas_routes(a)) < 0 ||
        (rc = api_stations_routes(a)) < 0 || (rc = api_reports_routes(a)) < 0 ||
        (rc = api_people_routes(a)) < 0 || (rc = api_directory_routes(a)) < 0 ||
        (rc = api_coverage_routes(a)) < 0 || (rc = api_devices_routes(a)) < 0 ||
        (rc = api_care_routes(a)) < 0 || (rc = api_calls_routes(a)) < 0 ||
        (rc = api_cases_stats_routes(a)) < 0 || (rc = api_cases_routes(a)) < 0 ||
        (rc = api_open311_routes(a)) < 0 || (rc = api_web_routes(a)) < 0 ||
        (rc = api_facility_report_routes(a)) < 0)
        return rc;
    return LINLI_OK;
}

void api_error(struct http_request *req, const struct linli_err *err)
{
    http_respond_error(req, err);
}

int api_auth_user(struct api *a, struct http_request *req, struct principal *who, struct user *user)
{
    struct linli_err err;
    linli_err_clear(&err);
    const char *h = http_header(req, "Authorization");
    const char *token = NULL;
    if (h && !strncasecmp(h, "Bearer ", 7))
        token = h + 7;
    if (!token) {
        linli_fail(&err, LINLI_EUNAUTH,
                   h ? "The Authorization header must be \"Bearer <token>\"."
                     : "Log in first: this needs an Authorization: Bearer <token> header.");
        http_add_header(req, "WWW-Authenticate", "Bearer realm=\"linli\"");
        api_error(req, &err);
        return -1;
    }
    memset(who, 0, sizeof *who);
    int rc = auth_authenticate(a->d, token, who, user, &err);
    if (rc) {
        if (rc == LINLI_EUNAUTH)
            http_add_header(req, "WWW-Authenticate",
                            "Bearer realm=\"linli\", error=\"invalid_token\"");
        api_error(req, &err);
        return -1;
    }
    snprintf(who->ip, sizeof who->ip, "%s", req->ip);
    snprintf(who->request_id, sizeof who->request_id, "%s", req->id_text);
    req->user = who;
    return 0;
}

int api_auth(struct api *a, struct http_request *req, struct principal *who)
{
    return api_auth_user(a, req, who, NULL);
}

json_t *api_body_object(struct http_request *req)
{
    struct linli_err err;
    linli_err_clear(&err);
    const char *ct = http_header(req, "Content-Type");
    if (!ct || strncasecmp(ct, "application/json", 16) != 0 ||
        (ct[16] != '\0' && ct[16] != ';' && ct[16] != ' ')) {
        linli_fail(&err, LINLI_EINVAL,
                   "The body must be JSON, sent with Content-Type: application/json.");
        http_respond_problem(req, 415, &err);
        return NULL;
    }
    json_t *v = jx_parse_object(req->body.data ? req->body.data : "", req->body.len, &err);
    if (!v)
        http_respond_problem(req, 400, &err);
    return v;
}

static json_t *body_checked(struct http_request *req, const struct jx_field *fields, size_t n,
                            bool partial)
{
    json_t *v = api_body_object(req);
    if (!v)
        return NULL;
    struct linli_err err;
    linli_err_clear(&err);
    if ((partial ? jx_check_partial : jx_check)(v, fields, n, &err)) {
        json_decref(v);
        http_respond_problem(req, 422, &err);
        return NULL;
    }
    return v;
}

json_t *api_body(struct http_request *req, const struct jx_field *fields, size_t n)
{
    return body_checked(req, fields, n, false);
}

json_t *api_body_partial(struct http_request *req, const struct jx_field *fields, size_t n)
{
    return body_checked(req, fields, n, true);
}

int api_query(struct http_request *req, const char *const *allowed)
{
    struct linli_err err;
    linli_err_clear(&err);
    if (http_query_check(req, allowed, &err)) {
        linli_fail(&err, LINLI_EINVAL,
                   "The request has query parameters this resource does not take.");
        http_respond_problem(req, 422, &err);
        return -1;
    }
    return 0;
}

/* ?limit= into *limit (the default when absent), a field error into err. */
static void page_limit(struct api *a, struct http_request *req, int max, int *limit,
                       struct linli_err *err)
{
    *limit = a->list_limit_default < max ? a->list_limit_default : max;
    const char *l = http_query(req, "limit");
    if (l) {
        char *end;
        long v = strtol(l, &end, 10);
        if (!*l || *end || v < 1 || v > max)
            linli_field(err, "limit", "must be a whole number from 1 to %d", max);
        else
            *limit = (int)v;
    }
}

int api_page(struct api *a, struct http_request *req, int max, int *limit, int64_t *cursor_id)
{
    struct linli_err err;
    linli_err_clear(&err);
    *cursor_id = 0;
    page_limit(a, req, max, limit, &err);
    const char *c = http_query(req, "cursor");
    if (c && cursor_decode(c, cursor_id) != 0)
        linli_field(&err, "cursor", "is not a cursor this server gave out");
    if (err.nfields) {
        http_respond_problem(req, 422, &err);
        return -1;
    }
    return 0;
}

int api_page_keyed(struct api *a, struct http_request *req, int max, int *limit, int64_t *key,
                   int64_t *cursor_id)
{
    struct linli_err err;
    linli_err_clear(&err);
    *key = *cursor_id = 0;
    page_limit(a, req, max, limit, &err);
    const char *c = http_query(req, "cursor");
    if (c && cursor_decode_key(c, key, cursor_id) != 0)
        linli_field(&err, "cursor", "is not a cursor this server gave out for this order");
    if (err.nfields) {
        http_respond_problem(req, 422, &err);
        return -1;
    }
    return 0;
}

int api_path_id(struct http_request *req, int index, int64_t *id)
{
    const char *s = index < req->nparams ? req->params[index] : NULL;
    char *end;
    long long v = s ? strtoll(s, &end, 10) : 0;
    if (!s || !*s || *end || v <= 0) {
        struct linli_err err;
        linli_err_clear(&err);
        linli_fail(&err, LINLI_ENOTFOUND, "No resource at %s.", req->path);
        http_respond_problem(req, 404, &err);
        return -1;
    }
    *id = v;
    return 0;
}

int api_idempotency(struct http_request *req, const struct principal *who, const char *route,
                    struct idem_req *idem, const struct idem_req **ip)
{
    *ip = NULL;
    const char *key = http_header(req, "Idempotency-Key");
    if (!key)
        return 0;
    struct linli_err err;
    linli_err_clear(&err);
    if (idem_prepare(idem, key, who->user_id, route, req->body.data, req->body.len, &err)) {
        http_respond_problem(req, 422, &err);
        return -1;
    }
    *ip = idem;
    return 0;
}

void api_created(struct http_request *req, const char *collection, int64_t id, bool replayed,
                 json_t *body)
{
    char *loc = arena_alloc(&req->arena, 64);
    if (loc) {
        snprintf(loc, 64, "/api/v1/%s/%lld", collection, (long long)id);
        http_add_header(req, "Location", loc);
    }
    if (replayed)
        http_add_header(req, "Idempotent-Replayed", "true");
    http_respond_json(req, 201, body);
}

json_t *api_list(json_t *items, int64_t next_id)
{
    json_t *o = json_object();
    json_object_set_new(o, "items", items);
    if (next_id) {
        char c[CURSOR_MAX];
        cursor_encode(next_id, c);
        json_object_set_new(o, "next_cursor", json_string(c));
    } else {
        json_object_set_new(o, "next_cursor", json_null());
    }
    return o;
}

json_t *api_list_keyed(json_t *items, bool more, int64_t key, int64_t last_id)
{
    json_t *o = json_object();
    json_object_set_new(o, "items", items);
    if (more) {
        char c[CURSOR_MAX];
        cursor_encode_key(key, last_id, c);
        json_object_set_new(o, "next_cursor", json_string(c));
    } else {
        json_object_set_new(o, "next_cursor", json_null());
    }
    return o;
}

json_t *api_time(int64_t ms)
{
    if (!ms)
        return json_null();
    char t[32];
    return json_string(clock_format_rfc3339(ms, t, sizeof t));
}

json_t *api_user_json(const struct user *u)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(u->id));
    json_object_set_new(o, "username", json_string(u->username));
    json_object_set_new(o, "display_name", json_string(u->display_name));
    json_object_set_new(o, "role", json_string(role_name(u->role)));
    json_object_set_new(o, "scope", u->scope[0] ? json_string(u->scope) : json_null());
    json_object_set_new(o, "disabled", json_boolean(u->disabled));
    json_object_set_new(o, "has_password", json_boolean(u->has_password));
    json_object_set_new(o, "must_change_password", json_boolean(u->must_change_password));
    json_object_set_new(o, "created_at", api_time(u->created_at));
    json_object_set_new(o, "updated_at", api_time(u->updated_at));
    return o;
}

void api_query_time(struct http_request *req, const char *name, int64_t *ms, struct linli_err *err)
{
    const char *v = http_query(req, name);
    if (!v || !clock_parse_rfc3339(v, ms))
        return;
    char t[40];
    if (strlen(v) != 10 ||
        (snprintf(t, sizeof t, "%sT00:00:00+08:00", v), clock_parse_rfc3339(t, ms)))
        linli_field(err, name, "must be a date (YYYY-MM-DD) or an RFC 3339 time");
}
