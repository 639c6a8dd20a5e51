/* api_users.c - /api/v1/users: accounts, for admins (and auditors to read). */
#include "api/api.h"

#include "base/cursor.h"

#include <stdlib.h>
#include <string.h>

#define USERS_PAGE_MAX 500

static const struct jx_field user_fields[] = {
    {"username", JX_STRING, true, false, USERNAME_MAX},
    {"display_name", JX_STRING, false, false, DISPLAY_NAME_MAX},
    {"role", JX_STRING, true, false, 16},
    {"scope", JX_STRING, false, true, 12},
    {"password", JX_STRING, false, true, PASSWORD_MAX},
};

static void create(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    if (api_auth(a, req, &who) || api_query(req, (const char *const[]){NULL}))
        return;
    json_t *body = api_body(req, user_fields, sizeof user_fields / sizeof user_fields[0]);
    if (!body)
        return;
    struct linli_err err;
    linli_err_clear(&err);
    struct user_new in = {
        .username = jx_str(body, "username"),
        .display_name = jx_str(body, "display_name"),
        .role = jx_str(body, "role"),
        .scope = jx_str(body, "scope"),
        .password = jx_str(body, "password"),
    };
    struct idem_req idem;
    const struct idem_req *ip;
    if (api_idempotency(req, &who, "POST /api/v1/users", &idem, &ip)) {
        json_decref(body);
        return;
    }
    struct user u;
    bool replayed = false;
    int rc = users_create(a->d, &who, &in, ip, &u, &replayed, &err);
    json_decref(body);
    if (rc) {
        api_error(req, &err);
        return;
    }
    api_created(req, "users", u.id, replayed, api_user_json(&u));
}

static void list(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    if (api_auth(a, req, &who) ||
        api_query(req, (const char *const[]){"limit", "cursor", "role", NULL}))
        return;
    struct user_filter f = {.role = http_query(req, "role")};
    if (api_page(a, req, USERS_PAGE_MAX, &f.limit, &f.after_id))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    struct user *items;
    int n;
    int64_t next;
    if (users_list(a->d, &who, &f, &items, &n, &next, &err)) {
        api_error(req, &err);
        return;
    }
    json_t *arr = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(arr, api_user_json(&items[i]));
    free(items);
    http_respond_json(req, 200, api_list(arr, next));
}

static void get(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    int64_t id;
    if (api_auth(a, req, &who) || api_query(req, (const char *const[]){NULL}) ||
        api_path_id(req, 0, &id))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    struct user u;
    if (users_get(a->d, &who, id, &u, &err)) {
        api_error(req, &err);
        return;
    }
    http_respond_json(req, 200, api_user_json(&u));
}

static void patch(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    int64_t id;
    if (api_auth(a, req, &who) || api_query(req, (const char *const[]){NULL}) ||
        api_path_id(req, 0, &id))
        return;
    static const struct jx_field fields[] = {
        {"display_name", JX_STRING, false, false, DISPLAY_NAME_MAX},
        {"role", JX_STRING, false, false, 16},
        {"scope", JX_STRING, false, true, 12},
        {"disabled", JX_BOOL, false, false, 0},
        {"password", JX_STRING, false, false, PASSWORD_MAX},
    };
    json_t *body = api_body(req, fields, sizeof fields / sizeof fields[0]);
    if (!body)
        return;
    struct linli_err err;
    linli_err_clear(&err);
    if (json_object_size(body) == 0) {
        json_decref(body);
        linli_fail(&err, LINLI_EINVAL, "Nothing to change: send at least one field.");
        http_respond_problem(req, 422, &err);
        return;
    }
    struct user_patch p = {
        .set_display_name = jx_has(body, "display_name"),
        .display_name = jx_str(body, "display_name"),
        .set_role = jx_has(body, "role"),
        .role = jx_str(body, "role"),
        .set_scope = jx_has(body, "scope"),
        .scope = jx_str(body, "scope"),
        .set_disabled = jx_has(body, "disabled"),
        .disabled = jx_bool(body, "disabled", 0),
        .set_password = jx_has(body, "password"),
        .password = jx_str(body, "password"),
    };
    struct user u;
    int rc = users_update(a->d, &who, id, &p, &u, &err);
    json_decref(body);
    if (rc) {
        api_error(req, &err);
        return;
    }
    http_respond_json(req, 200, api_user_json(&u));
}

int api_users_routes(struct api *a)
{
    int rc;
    if ((rc = http_route(a->http, "POST", "/api/v1/users", create, a)) < 0 ||
        (rc = http_route(a->http, "GET", "/api/v1/users", list, a)) < 0 ||
        (rc = http_route(a->http, "GET", "/api/v1/users/{id}", get, a)) < 0 ||
        (rc = http_route(a->http, "PATCH", "/api/v1/users/{id}", patch, a)) < 0)
        return rc;
    return 0;
}
