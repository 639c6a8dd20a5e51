/* api_areas.c - /api/v1/areas: the official areas (public reads), their
 * counts (staff), splits and history. */
#include "api/api.h"

#include "base/cursor.h"
#include "domain/registry.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AREAS_PAGE_MAX 1000

static const char *level_name(int level)
{
    return level == 0 ? "district" : level == 1 ? "street" : "community";
}

static json_t *count_json(int64_t v)
{
    return v < 0 ? json_null() : json_integer(v);
}

static json_t *area_json(const struct area *a, bool with_children)
{
    json_t *o = json_object();
    json_object_set_new(o, "code", json_string(a->code));
    json_object_set_new(o, "name", json_string(a->name));
    json_object_set_new(o, "level", json_string(level_name(a->level)));
    json_object_set_new(o, "kind", json_string(a->kind));
    json_object_set_new(o, "parent_code",
                        a->parent_code[0] ? json_string(a->parent_code) : json_null());
    json_object_set_new(o, "first_edition", json_integer(a->first_edition));
    json_object_set_new(o, "last_edition", json_integer(a->last_edition));
    json_object_set_new(o, "retired_edition",
                        a->retired_edition ? json_integer(a->retired_edition) : json_null());
    json_t *counts = json_object();
    json_object_set_new(counts, "households", count_json(a->households));
    json_object_set_new(counts, "residents", count_json(a->residents));
    json_object_set_new(counts, "elderly", count_json(a->elderly));
    if (with_children)
        json_object_set_new(counts, "sub_areas", json_integer(a->children));
    json_object_set_new(o, "counts", counts);
    if (a->has_point)
        json_object_set_new(o, "point",
                            json_pack("{s:f, s:f, s:s, s:s, s:s}", "lat", a->point.lat, "lon",
                                      a->point.lon, "crs", "wgs84", "source_crs", a->point_crs,
                                      "source", a->point_source));
    else
        json_object_set_new(o, "point", json_null());
    json_object_set_new(o, "updated_at", api_time(a->updated_at));
    return o;
}

/* The {code} path parameter, normalised; answers 404 when it is no code. */
static int path_code(struct http_request *req, char out[AREA_CODE_LEN + 1])
{
    const char *why;
    if (req->nparams < 1 || area_code_normalize(req->params[0], out, &why) != 0) {
        struct linli_err err;
        linli_err_clear(&err);
        linli_fail(&err, LINLI_ENOTFOUND, "No area %s: the code %s.",
                   req->nparams ? req->params[0] : "", "is not an official area code");
        http_respond_problem(req, 404, &err);
        return -1;
    }
    return 0;
}

static void list(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    if (api_query(req, (const char *const[]){"parent", "level", "include_retired", "limit",
                                             "cursor", NULL}))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    struct area_filter f = {.level = -1};
    int64_t after = 0;
    if (api_page(a, req, AREAS_PAGE_MAX, &f.limit, &after))
        return;
    char after_code[AREA_CODE_LEN + 1], parent[AREA_CODE_LEN + 1];
    if (after) {
        snprintf(after_code, sizeof after_code, "%012lld", (long long)after);
        f.after_code = after_code;
    }
    const char *p = http_query(req, "parent");
    const char *why;
    if (p) {
        if (area_code_normalize(p, parent, &why) != 0)
            linli_field(&err, "parent", "%s", why);
        f.parent = parent;
    }
    const char *level = http_query(req, "level");
    if (level) {
        if (!strcmp(level, "district"))
            f.level = 0;
        else if (!strcmp(level, "street"))
            f.level = 1;
        else if (!strcmp(level, "community"))
            f.level = 2;
        else
            linli_field(&err, "level", "must be district, street or community");
    }
    const char *ir = http_query(req, "include_retired");
    if (ir) {
        if (!strcmp(ir, "true"))
            f.include_retired = true;
        else if (strcmp(ir, "false") != 0)
            linli_field(&err, "include_retired", "must be true or false");
    }
    if (err.nfields) {
        http_respond_problem(req, 422, &err);
        return;
    }
    struct principal anyone = {0};
    struct area *items;
    int n;
    bool more;
    if (registry_list(a->d, &anyone, &f, &items, &n, &more, &err)) {
        api_error(req, &err);
        return;
    }
    json_t *arr = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(arr, area_json(&items[i], false));
    int64_t next = more && n > 0 ? strtoll(items[n - 1].code, NULL, 10) : 0;
    free(items);
    http_respond_json(req, 200, api_list(arr, next));
}

static void get(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    char code[AREA_CODE_LEN + 1];
    if (api_query(req, (const char *const[]){NULL}) || path_code(req, code))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    struct principal anyone = {0};
    struct area ar;
    if (registry_get(a->d, &anyone, code, &ar, &err)) {
        api_error(req, &err);
        return;
    }
    http_respond_json(req, 200, area_json(&ar, true));
}

static void patch(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    char code[AREA_CODE_LEN + 1];
    if (api_auth(a, req, &who) || api_query(req, (const char *const[]){NULL}) ||
        path_code(req, code))
        return;
    static const struct jx_field fields[] = {
        {"households", JX_INT, false, false, 0},
        {"residents", JX_INT, false, false, 0},
        {"elderly", JX_INT, false, false, 0},
    };
    json_t *body = api_body(req, fields, 3);
    if (!body)
        return;
    struct linli_err err;
    linli_err_clear(&err);
    const char *names[] = {"households", "residents", "elderly"};
    int64_t v[3];
    for (int i = 0; i < 3; i++) {
        v[i] = jx_int(body, names[i], -1);
        if (jx_has(body, names[i]) && (v[i] < 0 || v[i] > 10000000))
            linli_field(&err, names[i], "must be a count from 0 to 10000000");
    }
    json_decref(body);
    if (err.nfields) {
        http_respond_problem(req, 422, &err);
        return;
    }
    struct area ar;
    if (registry_set_counts(a->d, &who, code, v[0], v[1], v[2], &ar, &err)) {
        api_error(req, &err);
        return;
    }
    ar.children = 0;
    struct principal anyone = {0};
    registry_get(a->d, &anyone, code, &ar, &err);
    http_respond_json(req, 200, area_json(&ar, true));
}

static void split(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    char code[AREA_CODE_LEN + 1];
    if (api_auth(a, req, &who) || api_query(req, (const char *const[]){NULL}) ||
        path_code(req, code))
        return;
    static const struct jx_field fields[] = {
        {"edition", JX_INT, true, false, 0},
        {"parts", JX_ARRAY, true, false, 0},
    };
    json_t *body = api_body(req, fields, 2);
    if (!body)
        return;
    struct linli_err err;
    linli_err_clear(&err);
    json_t *parts = json_object_get(body, "parts");
    size_t n = json_array_size(parts);
    struct area_row rows[16];
    if (n > 16)
        linli_field(&err, "parts", "a split makes 2 to 16 communities");
    for (size_t i = 0; i < n && i < 16; i++) {
        json_t *p = json_array_get(parts, i);
        char field[32];
        snprintf(field, sizeof field, "parts[%zu]", i);
        static const struct jx_field pf[] = {
            {"code", JX_STRING, true, false, 12},
            {"name", JX_STRING, true, false, AREA_NAME_MAX},
        };
        struct linli_err perr;
        linli_err_clear(&perr);
        if (!json_is_object(p) || jx_check(p, pf, 2, &perr)) {
            linli_field(&err, field, "must be {\"code\": 12-digit code, \"name\": text}");
            continue;
        }
        memset(&rows[i], 0, sizeof rows[i]);
        snprintf(rows[i].code, sizeof rows[i].code, "%s", jx_str(p, "code"));
        snprintf(rows[i].name, sizeof rows[i].name, "%s", jx_str(p, "name"));
    }
    int edition = (int)jx_int(body, "edition", 0);
    json_decref(body);
    if (err.nfields) {
        http_respond_problem(req, 422, &err);
        return;
    }
    if (registry_split(a->d, &who, code, edition, rows, n, &err)) {
        api_error(req, &err);
        return;
    }
    json_t *out = json_array();
    struct principal anyone = {0};
    for (size_t i = 0; i < n; i++) {
        struct area ar;
        if (registry_get(a->d, &anyone, rows[i].code, &ar, &err) == LINLI_OK)
            json_array_append_new(out, area_json(&ar, false));
    }
    http_respond_json(req, 201, json_pack("{s:s, s:o}", "retired", code, "parts", out));
}

static void history(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    char code[AREA_CODE_LEN + 1];
    if (api_query(req, (const char *const[]){NULL}) || path_code(req, code))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    struct principal anyone = {0};
    json_t *events;
    if (registry_history(a->d, &anyone, code, &events, &err)) {
        api_error(req, &err);
        return;
    }
    http_respond_json(req, 200, json_pack("{s:s, s:o}", "code", code, "events", events));
}

static int parse_coord(const char *s, double lo, double hi, double *out)
{
    if (!s || !*s)
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v) || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static void contains(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    char code[AREA_CODE_LEN + 1];
    if (api_query(req, (const char *const[]){"lat", "lon", "crs", NULL}) || path_code(req, code))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    struct geo_point p;
    if (parse_coord(http_query(req, "lat"), -90, 90, &p.lat))
        linli_field(&err, "lat", "must be a latitude in degrees (-90 to 90)");
    if (parse_coord(http_query(req, "lon"), -180, 180, &p.lon))
        linli_field(&err, "lon", "must be a longitude in degrees (-180 to 180)");
    const char *crs = http_query(req, "crs");
    if (crs && strcmp(crs, "wgs84") && strcmp(crs, "gcj02"))
        linli_field(&err, "crs", "must be wgs84 or gcj02");
    if (err.nfields) {
        http_respond_problem(req, 422, &err);
        return;
    }
    if (crs && !strcmp(crs, "gcj02"))
        p = geo_gcj02_to_wgs84(p);
    if (!a->d->boundary || strcmp(a->d->boundary_code, code) != 0) {
        linli_fail(&err, LINLI_ENOTFOUND, "No boundary is loaded for area %s.", code);
        http_respond_problem(req, 404, &err);
        return;
    }
    http_respond_json(req, 200,
                      json_pack("{s:s, s:b, s:{s:f, s:f, s:s}}", "code", code, "contains",
                                boundary_contains(a->d->boundary, p), "point", "lat", p.lat, "lon",
                                p.lon, "crs", "wgs84"));
}

int api_areas_routes(struct api *a)
{
    int rc;
    if ((rc = http_route(a->http, "GET", "/api/v1/areas", list, a)) < 0 ||
        (rc = http_route(a->http, "GET", "/api/v1/areas/{code}", get, a)) < 0 ||
        (rc = http_route(a->http, "PATCH", "/api/v1/areas/{code}", patch, a)) < 0 ||
        (rc = http_route(a->http, "POST", "/api/v1/areas/{code}/split", split, a)) < 0 ||
        (rc = http_route(a->http, "GET", "/api/v1/areas/{code}/history", history, a)) < 0 ||
        (rc = http_route(a->http, "GET", "/api/v1/areas/{code}/contains", contains, a)) < 0)
        return rc;
    return 0;
}
