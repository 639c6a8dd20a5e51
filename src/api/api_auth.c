/* api_auth.c - POST /api/v1/auth/login, POST /api/v1/auth/logout, GET /api/v1/me
 * (the account, with the case units it acts for), POST /api/v1/me/password. */
#include "api/api.h"

#include "domain/account.h"
#include "domain/auth.h"
#include "domain/cases.h"

#include <stdlib.h>
#include <string.h>

static void login(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    static const struct jx_field fields[] = {
        {"username", JX_STRING, true, false, 64},
        {"password", JX_STRING, true, false, 256},
    };
    json_t *body = api_body(req, fields, 2);
    if (!body)
        return;
    struct linli_err err;
    linli_err_clear(&err);
    struct login_result res;
    int rc = auth_login(a->d, jx_str(body, "username"), jx_str(body, "password"), req->ip,
                        req->id_text, &res, &err);
    json_decref(body);
    if (rc) {
        if (rc == LINLI_EUNAUTH)
            http_add_header(req, "WWW-Authenticate", "Bearer realm=\"linli\"");
        api_error(req, &err);
        return;
    }
    json_t *out = json_object();
    json_object_set_new(out, "token", json_string(res.token));
    json_object_set_new(out, "token_type", json_string("Bearer"));
    json_object_set_new(out, "expires_at", api_time(res.expires_at));
    json_object_set_new(out, "user", api_user_json(&res.user));
    sodium_memzero(res.token, sizeof res.token);
    http_respond_json(req, 200, out);
}

static void logout(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    if (api_auth(a, req, &who) || api_query(req, (const char *const[]){NULL}))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    const char *token = http_header(req, "Authorization") + 7;
    if (auth_logout(a->d, &who, token, &err)) {
        api_error(req, &err);
        return;
    }
    http_respond(req, 204, NULL, "", 0);
}

static void me(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    struct user u;
    if (api_auth_user(a, req, &who, &u) || api_query(req, (const char *const[]){NULL}))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    struct case_unit *units;
    int n;
    bool all;
    if (case_units_acting(a->d, &who, &units, &n, &all, &err)) {
        api_error(req, &err);
        return;
    }
    json_t *out = api_user_json(&u), *list = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(
            list, json_pack("{s:s, s:s, s:s, s:o}", "code", units[i].code, "kind",
                            unit_kind_name(units[i].kind), "name_zh", units[i].name_zh, "name_en",
                            units[i].name_en[0] ? json_string(units[i].name_en) : json_null()));
    free(units);
    json_object_set_new(out, "units", list);
    json_object_set_new(out, "all_units", json_boolean(all));
    http_respond_json(req, 200, out);
}

/* POST /api/v1/me/password {current_password, new_password}: 204 once the
 * new password is stored and the account's other sessions have ended; the
 * session making the request stays open. */
static void me_password(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    if (api_auth(a, req, &who) || api_query(req, (const char *const[]){NULL}))
        return;
    static const struct jx_field fields[] = {
        {"current_password", JX_STRING, true, false, PASSWORD_MAX},
        {"new_password", JX_STRING, true, false, PASSWORD_MAX},
    };
    json_t *body = api_body(req, fields, sizeof fields / sizeof fields[0]);
    if (!body)
        return;
    struct linli_err err;
    linli_err_clear(&err);
    int rc = account_change_password(a->d, &who, jx_str(body, "current_password"),
                                     jx_str(body, "new_password"), &err);
    json_decref(body);
    if (rc) {
        api_error(req, &err);
        return;
    }
    http_respond(req, 204, NULL, "", 0);
}

int api_auth_routes(struct api *a)
{
    int rc;
    if ((rc = http_route(a->http, "POST", "/api/v1/auth/login", login, a)) < 0 ||
        (rc = http_route(a->http, "POST", "/api/v1/auth/logout", logout, a)) < 0 ||
        (rc = http_route(a->http, "GET", "/api/v1/me", me, a)) < 0 ||
        (rc = http_route(a->http, "POST", "/api/v1/me/password", me_password, a)) < 0)
        return rc;
    return 0;
}
