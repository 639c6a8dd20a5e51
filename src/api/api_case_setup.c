/* api_case_setup.c - how the district sets up case handling:
 * /api/v1/case-categories, /api/v1/case-settings, /api/v1/routing-rules,
 * /api/v1/units (departments and their members; areas as units) and
 * /api/v1/volunteer-teams. The cases themselves are in api_cases.c. */
#include "api/api.h"

#include "domain/cases.h"
#include "media/photo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NFIELDS(a) (sizeof(a) / sizeof((a)[0]))

static void problem(struct http_request *req, struct linli_err *err)
{
    if (err->status == LINLI_EINVAL)
        http_respond_problem(req, 422, err);
    else
        api_error(req, err);
}

/* A path parameter that must be a whole number > 0; answers 404 otherwise. */
static int path_int(struct http_request *req, int index, int64_t *out)
{
    return api_path_id(req, index, out);
}

/* ---- categories ---- */

static const struct jx_field category_fields[] = {
    {"code", JX_STRING, true, false, CASE_CATEGORY_CODE_MAX},
    {"name_zh", JX_STRING, true, false, CASE_CATEGORY_NAME_MAX},
    {"name_en", JX_STRING, true, false, CASE_CATEGORY_NAME_MAX},
    {"description", JX_STRING, false, false, 256},
    {"group", JX_STRING, false, false, CASE_CATEGORY_NAME_MAX},
    {"deadline_class", JX_STRING, true, false, 16},
    {"response_minutes", JX_INT, false, false, 0},
    {"resolve_minutes", JX_INT, false, false, 0},
    {"active", JX_BOOL, false, false, 0},
    {"attributes", JX_ARRAY, false, false, 0},
};

static void category_in_from(json_t *body, struct case_category_in *in)
{
    in->code = jx_str(body, "code");
    in->name_zh = jx_str(body, "name_zh");
    in->name_en = jx_str(body, "name_en");
    in->description = jx_str(body, "description");
    in->group = jx_str(body, "group");
    in->deadline_class = jx_str(body, "deadline_class");
    int64_t v = jx_int(body, "response_minutes", -1);
    in->response_minutes =
        v < 0 || v > INT32_MAX ? (jx_has(body, "response_minutes") ? 0 : -1) : (int)v;
    v = jx_int(body, "resolve_minutes", -1);
    in->resolve_minutes =
        v < 0 || v > INT32_MAX ? (jx_has(body, "resolve_minutes") ? 0 : -1) : (int)v;
    in->active = jx_has(body, "active") ? jx_bool(body, "active", 1) : -1;
    in->attributes = json_object_get(body, "attributes");
}

static void categories_list(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    if (api_query(req, (const char *const[]){"all", NULL}))
        return;
    const char *all = http_query(req, "all");
    struct linli_err err;
    linli_err_clear(&err);
    struct case_category *items;
    int n;
    if (case_categories_list(a->d, all && !strcmp(all, "true"), &items, &n, &err)) {
        api_error(req, &err);
        return;
    }
    json_t *arr = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(arr, case_category_to_json(&items[i]));
    free(items);
    http_respond_json(req, 200, json_pack("{s:o}", "items", arr));
}

static void category_get(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    if (api_query(req, (const char *const[]){NULL}))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    struct case_category c;
    if (case_categories_get(a->d, req->params[0], &c, &err)) {
        api_error(req, &err);
        return;
    }
    http_respond_json(req, 200, case_category_to_json(&c));
}

static void category_create(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    if (api_auth(a, req, &who) || api_query(req, (const char *const[]){NULL}))
        return;
    json_t *body = api_body(req, category_fields, NFIELDS(category_fields));
    if (!body)
        return;
    struct case_category_in in;
    category_in_from(body, &in);
    struct linli_err err;
    linli_err_clear(&err);
    struct case_category c;
    int rc = case_categories_create(a->d, &who, &in, &c, &err);
    json_decref(body);
    if (rc) {
        problem(req, &err);
        return;
    }
    char *loc = arena_alloc(&req->arena, 96);
    if (loc) {
        snprintf(loc, 96, "/api/v1/case-categories/%s", c.code);
        http_add_header(req, "Location", loc);
    }
    http_respond_json(req, 201, case_category_to_json(&c));
}

static void category_patch(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    if (api_auth(a, req, &who) || api_query(req, (const char *const[]){NULL}))
        return;
    json_t *body = api_body_partial(req, category_fields, NFIELDS(category_fields));
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
    struct case_category_in in;
    category_in_from(body, &in);
    struct case_category c;
    int rc = case_categories_update(a->d, &who, req->params[0], &in, &c, &err);
    json_decref(body);
    if (rc) {
        problem(req, &err);
        return;
    }
    http_respond_json(req, 200, case_category_to_json(&c));
}

/* ---- settings ---- */

/* The stored settings, and (read-only) the limits a client checks its photos
 * against before sending them: the body of a request with photos (null when
 * the route keeps the server's --max-body, which the API does not know) and
 * one photo. New reference. */
static json_t *settings_json(const struct api *a, const struct case_settings *s)
{
    return json_pack("{s:i, s:i, s:o, s:I}", "auto_close_days", s->auto_close_days,
                     "report_in_minutes", s->report_in_minutes, "photo_body_max",
                     a->photo_body_max ? json_integer((json_int_t)a->photo_body_max) : json_null(),
                     "photo_max_bytes", (json_int_t)PHOTO_MAX_BYTES);
}

static void settings_get(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    if (api_auth(a, req, &who) || api_query(req, (const char *const[]){NULL}))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    struct case_settings s;
    if (cases_settings_get(a->d, &s, &err)) {
        api_error(req, &err);
        return;
    }
    http_respond_json(req, 200, settings_json(a, &s));
}

static const struct jx_field settings_fields[] = {
    {"auto_close_days", JX_INT, true, false, 0},
    {"report_in_minutes", JX_INT, true, false, 0},
};

static void settings_patch(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    if (api_auth(a, req, &who) || api_query(req, (const char *const[]){NULL}))
        return;
    json_t *body = api_body_partial(req, settings_fields, NFIELDS(settings_fields));
    if (!body)
        return;
    struct linli_err err;
    linli_err_clear(&err);
    struct case_settings s;
    int rc = cases_settings_get(a->d, &s, &err);
    if (!rc) {
        int64_t days = jx_int(body, "auto_close_days", s.auto_close_days);
        int64_t minutes = jx_int(body, "report_in_minutes", s.report_in_minutes);
        s.auto_close_days = days < 0 || days > 100000 ? 0 : (int)days;
        s.report_in_minutes = minutes < 0 || minutes > 100000 ? 0 : (int)minutes;
        rc = cases_settings_set(a->d, &who, &s, &err);
    }
    json_decref(body);
    if (rc) {
        problem(req, &err);
        return;
    }
    http_respond_json(req, 200, settings_json(a, &s));
}

/* ---- routing rules ---- */

static void routes_list(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    if (api_auth(a, req, &who) || api_query(req, (const char *const[]){"all", NULL}))
        return;
    const char *all = http_query(req, "all");
    struct linli_err err;
    linli_err_clear(&err);
    struct case_route *items;
    int n;
    if (case_routes_list(a->d, &who, all && !strcmp(all, "true"), &items, &n, &err)) {
        api_error(req, &err);
        return;
    }
    json_t *arr = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(arr, case_route_to_json(&items[i]));
    free(items);
    http_respond_json(req, 200, json_pack("{s:o}", "items", arr));
}

static const struct jx_field route_fields[] = {
    {"category", JX_STRING, false, true, CASE_CATEGORY_CODE_MAX},
    {"area", JX_STRING, false, true, 12},
    {"unit", JX_STRING, true, false, CASE_UNIT_CODE_MAX},
    {"co_units", JX_ARRAY, false, false, 0},
};

static void route_create(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    if (api_auth(a, req, &who) || api_query(req, (const char *const[]){NULL}))
        return;
    json_t *body = api_body(req, route_fields, NFIELDS(route_fields));
    if (!body)
        return;
    struct linli_err err;
    linli_err_clear(&err);
    struct case_route_in in = {
        .category = jx_str(body, "category"),
        .area = jx_str(body, "area"),
        .unit = jx_str(body, "unit"),
    };
    json_t *co = json_object_get(body, "co_units");
    if (json_array_size(co) > CASE_UNITS_MAX - 1)
        linli_field(&err, "co_units", "at most %d units", CASE_UNITS_MAX - 1);
    size_t i;
    json_t *v;
    json_array_foreach(co, i, v)
    {
        if (!json_is_string(v)) {
            char f[32];
            snprintf(f, sizeof f, "co_units[%zu]", i);
            linli_field(&err, f, "must be a unit code (text)");
        } else if (in.nco < CASE_UNITS_MAX - 1) {
            in.co_units[in.nco++] = json_string_value(v);
        }
    }
    struct case_route r;
    int rc = err.nfields ? LINLI_EINVAL : case_routes_create(a->d, &who, &in, &r, &err);
    json_decref(body);
    if (rc) {
        problem(req, &err);
        return;
    }
    api_created(req, "routing-rules", r.id, false, case_route_to_json(&r));
}

static void route_retire(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    int64_t id;
    if (api_auth(a, req, &who) || api_query(req, (const char *const[]){NULL}) ||
        path_int(req, 0, &id))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    if (case_routes_retire(a->d, &who, id, &err)) {
        api_error(req, &err);
        return;
    }
    http_respond(req, 204, NULL, "", 0);
}

/* ---- units ---- */

static void units_list(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    if (api_auth(a, req, &who) || api_query(req, (const char *const[]){"kind", "parent", NULL}))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    int kind = UNIT_DEPARTMENT;
    const char *k = http_query(req, "kind");
    if (k && unit_kind_parse(k, &kind)) {
        linli_field(&err, "kind", "must be department, district, street or community");
        http_respond_problem(req, 422, &err);
        return;
    }
    struct case_unit *items;
    int n;
    if (case_units_list(a->d, &who, kind, http_query(req, "parent"), &items, &n, &err)) {
        problem(req, &err);
        return;
    }
    json_t *arr = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(arr, case_unit_to_json(&items[i]));
    free(items);
    http_respond_json(req, 200, json_pack("{s:o}", "items", arr));
}

static void unit_get(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    if (api_auth(a, req, &who) || api_query(req, (const char *const[]){NULL}))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    struct case_unit u;
    if (case_units_get(a->d, req->params[0], &u, &err)) {
        api_error(req, &err);
        return;
    }
    http_respond_json(req, 200, case_unit_to_json(&u));
}

static const struct jx_field unit_fields[] = {
    {"code", JX_STRING, true, false, CASE_UNIT_CODE_MAX},
    {"name_zh", JX_STRING, true, false, CASE_UNIT_NAME_MAX},
    {"name_en", JX_STRING, false, false, CASE_UNIT_NAME_MAX},
};

static void unit_create(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    if (api_auth(a, req, &who) || api_query(req, (const char *const[]){NULL}))
        return;
    json_t *body = api_body(req, unit_fields, NFIELDS(unit_fields));
    if (!body)
        return;
    struct linli_err err;
    linli_err_clear(&err);
    struct case_unit u;
    int rc = case_units_create_department(a->d, &who, jx_str(body, "code"), jx_str(body, "name_zh"),
                                          jx_str(body, "name_en"), &u, &err);
    json_decref(body);
    if (rc) {
        problem(req, &err);
        return;
    }
    char *loc = arena_alloc(&req->arena, 80);
    if (loc) {
        snprintf(loc, 80, "/api/v1/units/%s", u.code);
        http_add_header(req, "Location", loc);
    }
    http_respond_json(req, 201, case_unit_to_json(&u));
}

static void unit_members(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    if (api_auth(a, req, &who) || api_query(req, (const char *const[]){NULL}))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    int64_t *ids;
    int n;
    if (case_units_members(a->d, &who, req->params[0], &ids, &n, &err)) {
        api_error(req, &err);
        return;
    }
    json_t *arr = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(arr, json_integer(ids[i]));
    free(ids);
    http_respond_json(req, 200, json_pack("{s:s, s:o}", "unit", req->params[0], "user_ids", arr));
}

static const struct jx_field member_fields[] = {
    {"user_id", JX_INT, true, false, 0},
};

static void unit_member_add(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    if (api_auth(a, req, &who) || api_query(req, (const char *const[]){NULL}))
        return;
    json_t *body = api_body(req, member_fields, NFIELDS(member_fields));
    if (!body)
        return;
    struct linli_err err;
    linli_err_clear(&err);
    int64_t user = jx_int(body, "user_id", 0);
    json_decref(body);
    if (case_units_add_member(a->d, &who, req->params[0], user, &err)) {
        problem(req, &err);
        return;
    }
    http_respond_json(req, 201,
                      json_pack("{s:s, s:I}", "unit", req->params[0], "user_id", (json_int_t)user));
}

static void unit_member_remove(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    int64_t user;
    if (api_auth(a, req, &who) || api_query(req, (const char *const[]){NULL}) ||
        path_int(req, 1, &user))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    if (case_units_remove_member(a->d, &who, req->params[0], user, &err)) {
        api_error(req, &err);
        return;
    }
    http_respond(req, 204, NULL, "", 0);
}

/* ---- volunteer teams ---- */

static json_t *team_json(const struct volunteer_team *t)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(t->id));
    json_object_set_new(o, "name", json_string(t->name));
    json_object_set_new(o, "area_code", json_string(t->area_code));
    json_object_set_new(o, "members", json_integer(t->members));
    json_object_set_new(o, "reports", json_integer(t->reports));
    json_object_set_new(o, "resolved", json_integer(t->resolved));
    json_object_set_new(o, "created_at", api_time(t->created_at));
    json_object_set_new(o, "updated_at", api_time(t->updated_at));
    return o;
}

static void teams_list(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    if (api_auth(a, req, &who) || api_query(req, (const char *const[]){"area", NULL}))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    struct volunteer_team *items;
    int n;
    if (volunteer_teams_list(a->d, &who, http_query(req, "area"), &items, &n, &err)) {
        problem(req, &err);
        return;
    }
    json_t *arr = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(arr, team_json(&items[i]));
    free(items);
    http_respond_json(req, 200, json_pack("{s:o}", "items", arr));
}

static const struct jx_field team_fields[] = {
    {"name", JX_STRING, true, false, VOLUNTEER_TEAM_NAME_MAX},
    {"area_code", JX_STRING, true, false, 12},
};

static void team_create(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    if (api_auth(a, req, &who) || api_query(req, (const char *const[]){NULL}))
        return;
    json_t *body = api_body(req, team_fields, NFIELDS(team_fields));
    if (!body)
        return;
    struct linli_err err;
    linli_err_clear(&err);
    struct volunteer_team t;
    int rc = volunteer_teams_create(a->d, &who, jx_str(body, "name"), jx_str(body, "area_code"), &t,
                                    &err);
    json_decref(body);
    if (rc) {
        problem(req, &err);
        return;
    }
    api_created(req, "volunteer-teams", t.id, false, team_json(&t));
}

static void team_get(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    int64_t id;
    if (api_auth(a, req, &who) || api_query(req, (const char *const[]){NULL}) ||
        path_int(req, 0, &id))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    struct volunteer_team t;
    struct volunteer_member *m;
    int n;
    if (volunteer_teams_get(a->d, &who, id, &t, &m, &n, &err)) {
        api_error(req, &err);
        return;
    }
    json_t *o = team_json(&t);
    json_t *arr = json_array();
    for (int i = 0; i < n; i++) {
        json_t *mj = json_object();
        json_object_set_new(mj, "user_id", json_integer(m[i].user_id));
        json_object_set_new(mj, "username", json_string(m[i].username));
        json_object_set_new(mj, "display_name", json_string(m[i].display_name));
        json_object_set_new(mj, "joined_at", api_time(m[i].joined_at));
        json_object_set_new(mj, "reports", json_integer(m[i].reports));
        json_object_set_new(mj, "resolved", json_integer(m[i].resolved));
        json_array_append_new(arr, mj);
    }
    free(m);
    json_object_set_new(o, "member_list", arr);
    http_respond_json(req, 200, o);
}

static void team_member_add(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    int64_t id;
    if (api_auth(a, req, &who) || api_query(req, (const char *const[]){NULL}) ||
        path_int(req, 0, &id))
        return;
    json_t *body = api_body(req, member_fields, NFIELDS(member_fields));
    if (!body)
        return;
    struct linli_err err;
    linli_err_clear(&err);
    int64_t user = jx_int(body, "user_id", 0);
    json_decref(body);
    if (volunteer_teams_add_member(a->d, &who, id, user, &err)) {
        problem(req, &err);
        return;
    }
    http_respond_json(
        req, 201, json_pack("{s:I, s:I}", "team_id", (json_int_t)id, "user_id", (json_int_t)user));
}

static void team_member_remove(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    int64_t id, user;
    if (api_auth(a, req, &who) || api_query(req, (const char *const[]){NULL}) ||
        path_int(req, 0, &id) || path_int(req, 1, &user))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    if (volunteer_teams_remove_member(a->d, &who, id, user, &err)) {
        api_error(req, &err);
        return;
    }
    http_respond(req, 204, NULL, "", 0);
}

int api_case_setup_routes(struct api *a)
{
    struct http_server *h = a->http;
    int rc;
    if ((rc = http_route(h, "GET", "/api/v1/case-categories", categories_list, a)) < 0 ||
        (rc = http_route(h, "POST", "/api/v1/case-categories", category_create, a)) < 0 ||
        (rc = http_route(h, "GET", "/api/v1/case-categories/{code}", category_get, a)) < 0 ||
        (rc = http_route(h, "PATCH", "/api/v1/case-categories/{code}", category_patch, a)) < 0 ||
        (rc = http_route(h, "GET", "/api/v1/case-settings", settings_get, a)) < 0 ||
        (rc = http_route(h, "PATCH", "/api/v1/case-settings", settings_patch, a)) < 0 ||
        (rc = http_route(h, "GET", "/api/v1/routing-rules", routes_list, a)) < 0 ||
        (rc = http_route(h, "POST", "/api/v1/routing-rules", route_create, a)) < 0 ||
        (rc = http_route(h, "DELETE", "/api/v1/routing-rules/{id}", route_retire, a)) < 0 ||
        (rc = http_route(h, "GET", "/api/v1/units", units_list, a)) < 0 ||
        (rc = http_route(h, "POST", "/api/v1/units", unit_create, a)) < 0 ||
        (rc = http_route(h, "GET", "/api/v1/units/{code}", unit_get, a)) < 0 ||
        (rc = http_route(h, "GET", "/api/v1/units/{code}/members", unit_members, a)) < 0 ||
        (rc = http_route(h, "POST", "/api/v1/units/{code}/members", unit_member_add, a)) < 0 ||
        (rc = http_route(h, "DELETE", "/api/v1/units/{code}/members/{user_id}", unit_member_remove,
                         a)) < 0 ||
        (rc = http_route(h, "GET", "/api/v1/volunteer-teams", teams_list, a)) < 0 ||
        (rc = http_route(h, "POST", "/api/v1/volunteer-teams", team_create, a)) < 0 ||
        (rc = http_route(h, "GET", "/api/v1/volunteer-teams/{id}", team_get, a)) < 0 ||
        (rc = http_route(h, "POST", "/api/v1/volunteer-teams/{id}/members", team_member_add, a)) <
            0 ||
        (rc = http_route(h, "DELETE", "/api/v1/volunteer-teams/{id}/members/{user_id}",
                         team_member_remove, a)) < 0)
        return rc;
    return LINLI_OK;
}
