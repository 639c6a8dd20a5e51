/* api_stations.c - /api/v1/stations (the social-work service network:
 * public reads, staff writes) and /api/v1/support-teams (professional
 * support teams and the communities they serve: staff only). */
#include "api/api.h"

#include "domain/stations.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PHONE_TEXT_MAX 32 /* characters of a phone number as typed */

/* ---- shared ---- */

static void nothing_to_change(struct http_request *req)
{
    struct linli_err err;
    linli_err_clear(&err);
    linli_fail(&err, LINLI_EINVAL, "Nothing to change: send at least one field.");
    http_respond_problem(req, 422, &err);
}

/* Normalises an area code query parameter of `level` (-1 = any). Returns 0
 * (out = "" when absent) or -1 after adding a field error. */
static int query_area(struct http_request *req, const char *name, int level,
                      char out[AREA_CODE_LEN + 1], struct linli_err *err)
{
    out[0] = '\0';
    const char *v = http_query(req, name);
    if (!v)
        return 0;
    const char *why;
    if (area_code_normalize(v, out, &why)) {
        linli_field(err, name, "%s", why);
        return -1;
    }
    if (level >= 0 && area_code_level(out) != level) {
        linli_field(err, name, "must be %s",
                    (const char *[]){"a district code", "a 9-digit street code",
                                     "a 12-digit community code"}[level]);
        return -1;
    }
    return 0;
}

static json_t *phone_json(const char *phone)
{
    return phone[0] ? json_string(phone) : json_null();
}

/* ---- stations ---- */

static json_t *station_json(const struct station *s)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(s->id));
    json_object_set_new(o, "name", json_string(s->name));
    json_object_set_new(o, "level", json_string(station_level_name(s->level)));
    json_object_set_new(o, "area_code", json_string(s->area_code));
    json_object_set_new(o, "area_name", json_string(s->area_name));
    json_object_set_new(o, "area_current", json_boolean(s->area_current));
    json_object_set_new(o, "address", json_string(s->address));
    json_object_set_new(o, "point",
                        s->has_point
                            ? json_pack("{s:f, s:f}", "lat", s->point.lat, "lon", s->point.lon)
                            : json_null());
    json_object_set_new(o, "staff", json_integer(s->staff));
    json_object_set_new(o, "phone", phone_json(s->phone));
    json_object_set_new(o, "opening_hours", json_string(s->opening_hours));
    json_object_set_new(o, "created_at", api_time(s->created_at));
    json_object_set_new(o, "updated_at", api_time(s->updated_at));
    return o;
}

/* The fields of a station body; a PATCH has the same ones, none required. */
static const struct jx_field station_create_fields[] = {
    {"name", JX_STRING, true, false, STATION_NAME_MAX},
    {"level", JX_STRING, true, false, 32},
    {"area_code", JX_STRING, true, false, 12},
    {"address", JX_STRING, false, false, STATION_ADDRESS_MAX},
    {"point", JX_OBJECT, false, true, 0},
    {"staff", JX_INT, false, false, 0},
    {"phone", JX_STRING, false, true, PHONE_TEXT_MAX},
    {"opening_hours", JX_STRING, false, false, STATION_HOURS_MAX},
};
#define NFIELDS(a) (sizeof(a) / sizeof((a)[0]))

/* Decodes "point": null or {"lat": number, "lon": number}. Returns 0, or
 * -1 with field errors in err (and f->has_point false). */
static int decode_point(json_t *body, struct station_fields *f, struct linli_err *err)
{
    json_t *p = json_object_get(body, "point");
    f->has_point = false;
    if (!p || json_is_null(p))
        return 0;
    static const struct jx_field pf[] = {
        {"lat", JX_NUMBER, true, false, 0},
        {"lon", JX_NUMBER, true, false, 0},
    };
    struct linli_err inner;
    linli_err_clear(&inner);
    if (jx_check(p, pf, NFIELDS(pf), &inner)) {
        for (int i = 0; i < inner.nfields; i++) {
            char field[80];
            snprintf(field, sizeof field, "point.%s", inner.fields[i].field);
            linli_field(err, field, "%s", inner.fields[i].message);
        }
        return -1;
    }
    f->has_point = true;
    f->point.lat = json_number_value(json_object_get(p, "lat"));
    f->point.lon = json_number_value(json_object_get(p, "lon"));
    return 0;
}

static void station_fields_from(json_t *body, struct station_fields *f)
{
    f->name = jx_str(body, "name");
    f->level = jx_str(body, "level");
    f->area_code = jx_str(body, "area_code");
    f->address = jx_str(body, "address");
    f->has_staff = jx_has(body, "staff");
    f->staff = jx_int(body, "staff", 0);
    f->phone = jx_str(body, "phone");
    f->opening_hours = jx_str(body, "opening_hours");
}

static void station_create(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    if (api_auth(a, req, &who) || api_query(req, (const char *const[]){NULL}))
        return;
    json_t *body = api_body(req, station_create_fields, NFIELDS(station_create_fields));
    if (!body)
        return;
    struct station_fields f = {0};
    station_fields_from(body, &f);
    struct linli_err err;
    linli_err_clear(&err);
    if (decode_point(body, &f, &err)) {
        struct station ignored; /* the other fields' problems, reported together */
        stations_check(&f, &ignored, &err);
        json_decref(body);
        http_respond_problem(req, 422, &err);
        return;
    }
    struct idem_req idem;
    const struct idem_req *ip;
    if (api_idempotency(req, &who, "POST /api/v1/stations", &idem, &ip)) {
        json_decref(body);
        return;
    }
    struct station s;
    bool replayed = false;
    int rc = stations_create(a->d, &who, &f, ip, &s, &replayed, &err);
    json_decref(body);
    if (rc) {
        api_error(req, &err);
        return;
    }
    api_created(req, "stations", s.id, replayed, station_json(&s));
}

static void station_patch(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    int64_t id;
    if (api_auth(a, req, &who) || api_query(req, (const char *const[]){NULL}) ||
        api_path_id(req, 0, &id))
        return;
    json_t *body = api_body_partial(req, station_create_fields, NFIELDS(station_create_fields));
    if (!body)
        return;
    if (json_object_size(body) == 0) {
        json_decref(body);
        nothing_to_change(req);
        return;
    }
    struct station_patch p = {
        .set_name = jx_has(body, "name"),
        .set_level = jx_has(body, "level"),
        .set_area_code = jx_has(body, "area_code"),
        .set_address = jx_has(body, "address"),
        .set_point = jx_has(body, "point"),
        .set_staff = jx_has(body, "staff"),
        .set_phone = jx_has(body, "phone"),
        .set_opening_hours = jx_has(body, "opening_hours"),
    };
    station_fields_from(body, &p.v);
    struct linli_err err;
    linli_err_clear(&err);
    if (decode_point(body, &p.v, &err)) {
        json_decref(body);
        http_respond_problem(req, 422, &err);
        return;
    }
    struct station s;
    int rc = stations_update(a->d, &who, id, &p, &s, &err);
    json_decref(body);
    if (rc) {
        api_error(req, &err);
        return;
    }
    http_respond_json(req, 200, station_json(&s));
}

static void station_get(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    int64_t id;
    if (api_query(req, (const char *const[]){NULL}) || api_path_id(req, 0, &id))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    struct principal anyone = {0};
    struct station s;
    if (stations_get(a->d, &anyone, id, &s, &err)) {
        api_error(req, &err);
        return;
    }
    http_respond_json(req, 200, station_json(&s));
}

static void station_list(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    if (api_query(req, (const char *const[]){"area", "level", "limit", "cursor", NULL}))
        return;
    struct station_filter f = {.level = -1};
    if (api_page(a, req, STATIONS_PAGE_MAX, &f.limit, &f.after_id))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    char area[AREA_CODE_LEN + 1];
    if (query_area(req, "area", -1, area, &err) == 0 && area[0])
        f.area = area;
    const char *level = http_query(req, "level");
    if (level && station_level_parse(level, &f.level))
        linli_field(&err, "level", "must be district_centre, street_centre or community_station");
    if (err.nfields) {
        http_respond_problem(req, 422, &err);
        return;
    }
    struct principal anyone = {0};
    struct station *items;
    int n;
    int64_t next;
    if (stations_list(a->d, &anyone, &f, &items, &n, &next, &err)) {
        api_error(req, &err);
        return;
    }
    json_t *arr = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(arr, station_json(&items[i]));
    free(items);
    http_respond_json(req, 200, api_list(arr, next));
}

/* ---- support teams ---- */

static json_t *team_json(const struct support_team *t)
{
    json_t *codes = json_array();
    for (size_t i = 0; i < t->ncommunities; i++)
        json_array_append_new(codes, json_string(t->communities[i]));
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(t->id));
    json_object_set_new(o, "name", json_string(t->name));
    json_object_set_new(o, "kind", json_string(team_kind_name(t->kind)));
    json_object_set_new(o, "organisation", json_string(t->organisation));
    json_object_set_new(o, "contact_phone", phone_json(t->contact_phone));
    json_object_set_new(o, "members", json_integer(t->members));
    json_object_set_new(o, "communities", codes);
    json_object_set_new(o, "created_at", api_time(t->created_at));
    json_object_set_new(o, "updated_at", api_time(t->updated_at));
    return o;
}

/* Reads body["communities"] as an array of strings into a malloc'd array
 * (borrowing the strings from body). Returns 0, or -1 after answering 422. */
static int decode_codes(struct http_request *req, json_t *body, const char ***codes, size_t *n)
{
    json_t *arr = json_object_get(body, "communities");
    *codes = NULL;
    *n = 0;
    if (!arr)
        return 0;
    struct linli_err err;
    linli_err_clear(&err);
    size_t len = json_array_size(arr);
    if (len > TEAM_COMMUNITIES_MAX) {
        linli_field(&err, "communities", "may hold at most %d communities", TEAM_COMMUNITIES_MAX);
        http_respond_problem(req, 422, &err);
        return -1;
    }
    *codes = calloc(len ? len : 1, sizeof **codes);
    if (!*codes) {
        linli_fail(&err, LINLI_ENOMEM, "out of memory");
        api_error(req, &err);
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        json_t *v = json_array_get(arr, i);
        if (!json_is_string(v)) {
            char field[40];
            snprintf(field, sizeof field, "communities[%zu]", i);
            linli_field(&err, field, "must be a 12-digit community code, as a string");
        }
        (*codes)[i] = json_string_value(v);
    }
    if (err.nfields) {
        free(*codes);
        *codes = NULL;
        http_respond_problem(req, 422, &err);
        return -1;
    }
    *n = len;
    return 0;
}

static const struct jx_field team_create_fields[] = {
    {"name", JX_STRING, true, false, TEAM_NAME_MAX},
    {"kind", JX_STRING, true, false, 16},
    {"organisation", JX_STRING, false, false, TEAM_ORG_MAX},
    {"contact_phone", JX_STRING, false, true, PHONE_TEXT_MAX},
    {"members", JX_INT, false, false, 0},
    {"communities", JX_ARRAY, false, false, 0}, /* last: PATCH takes all but this one */
};
static void team_create(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    if (api_auth(a, req, &who) || api_query(req, (const char *const[]){NULL}))
        return;
    json_t *body = api_body(req, team_create_fields, NFIELDS(team_create_fields));
    if (!body)
        return;
    struct team_fields f = {
        .name = jx_str(body, "name"),
        .kind = jx_str(body, "kind"),
        .organisation = jx_str(body, "organisation"),
        .contact_phone = jx_str(body, "contact_phone"),
        .has_members = jx_has(body, "members"),
        .members = jx_int(body, "members", 0),
        .set_communities = true,
    };
    const char **codes = NULL;
    struct idem_req idem;
    const struct idem_req *ip;
    if (decode_codes(req, body, &codes, &f.ncommunities)) {
        json_decref(body);
        return;
    }
    f.communities = codes;
    if (api_idempotency(req, &who, "POST /api/v1/support-teams", &idem, &ip)) {
        free(codes);
        json_decref(body);
        return;
    }
    struct linli_err err;
    linli_err_clear(&err);
    struct support_team t;
    bool replayed = false;
    int rc = support_teams_create(a->d, &who, &f, ip, &t, &replayed, &err);
    free(codes);
    json_decref(body);
    if (rc) {
        api_error(req, &err);
        return;
    }
    api_created(req, "support-teams", t.id, replayed, team_json(&t));
    support_teams_release(&t, 1);
}

static void team_patch(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    int64_t id;
    if (api_auth(a, req, &who) || api_query(req, (const char *const[]){NULL}) ||
        api_path_id(req, 0, &id))
        return;
    json_t *body = api_body_partial(req, team_create_fields, NFIELDS(team_create_fields) - 1);
    if (!body)
        return;
    if (json_object_size(body) == 0) {
        json_decref(body);
        nothing_to_change(req);
        return;
    }
    struct team_patch p = {
        .set_name = jx_has(body, "name"),
        .set_kind = jx_has(body, "kind"),
        .set_organisation = jx_has(body, "organisation"),
        .set_contact_phone = jx_has(body, "contact_phone"),
        .set_members = jx_has(body, "members"),
        .v = {.name = jx_str(body, "name"),
              .kind = jx_str(body, "kind"),
              .organisation = jx_str(body, "organisation"),
              .contact_phone = jx_str(body, "contact_phone"),
              .has_members = jx_has(body, "members"),
              .members = jx_int(body, "members", 0)},
    };
    struct linli_err err;
    linli_err_clear(&err);
    struct support_team t;
    int rc = support_teams_update(a->d, &who, id, &p, &t, &err);
    json_decref(body);
    if (rc) {
        api_error(req, &err);
        return;
    }
    http_respond_json(req, 200, team_json(&t));
    support_teams_release(&t, 1);
}

static void team_put_communities(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    int64_t id;
    if (api_auth(a, req, &who) || api_query(req, (const char *const[]){NULL}) ||
        api_path_id(req, 0, &id))
        return;
    static const struct jx_field fields[] = {{"communities", JX_ARRAY, true, false, 0}};
    json_t *body = api_body(req, fields, NFIELDS(fields));
    if (!body)
        return;
    const char **codes;
    size_t n;
    if (decode_codes(req, body, &codes, &n)) {
        json_decref(body);
        return;
    }
    struct linli_err err;
    linli_err_clear(&err);
    struct support_team t;
    int rc = support_teams_assign(a->d, &who, id, codes, n, &t, &err);
    free(codes);
    json_decref(body);
    if (rc) {
        api_error(req, &err);
        return;
    }
    http_respond_json(req, 200, team_json(&t));
    support_teams_release(&t, 1);
}

static void team_get(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    int64_t id;
    if (api_auth(a, req, &who) || api_query(req, (const char *const[]){NULL}) ||
        api_path_id(req, 0, &id))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    struct support_team t;
    if (support_teams_get(a->d, &who, id, &t, &err)) {
        api_error(req, &err);
        return;
    }
    http_respond_json(req, 200, team_json(&t));
    support_teams_release(&t, 1);
}

static void team_list(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    if (api_auth(a, req, &who) ||
        api_query(req, (const char *const[]){"community", "limit", "cursor", NULL}))
        return;
    struct team_filter f = {0};
    if (api_page(a, req, TEAMS_PAGE_MAX, &f.limit, &f.after_id))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    char community[AREA_CODE_LEN + 1];
    if (query_area(req, "community", 2, community, &err)) {
        http_respond_problem(req, 422, &err);
        return;
    }
    f.community = community[0] ? community : NULL;
    struct support_team *items;
    int n;
    int64_t next;
    if (support_teams_list(a->d, &who, &f, &items, &n, &next, &err)) {
        api_error(req, &err);
        return;
    }
    json_t *arr = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(arr, team_json(&items[i]));
    support_teams_release(items, n);
    free(items);
    http_respond_json(req, 200, api_list(arr, next));
}

int api_stations_routes(struct api *a)
{
    int rc;
    if ((rc = http_route(a->http, "GET", "/api/v1/stations", station_list, a)) < 0 ||
        (rc = http_route(a->http, "POST", "/api/v1/stations", station_create, a)) < 0 ||
        (rc = http_route(a->http, "GET", "/api/v1/stations/{id}", station_get, a)) < 0 ||
        (rc = http_route(a->http, "PATCH", "/api/v1/stations/{id}", station_patch, a)) < 0 ||
        (rc = http_route(a->http, "GET", "/api/v1/support-teams", team_list, a)) < 0 ||
        (rc = http_route(a->http, "POST", "/api/v1/support-teams", team_create, a)) < 0 ||
        (rc = http_route(a->http, "GET", "/api/v1/support-teams/{id}", team_get, a)) < 0 ||
        (rc = http_route(a->http, "PATCH", "/api/v1/support-teams/{id}", team_patch, a)) < 0 ||
        (rc = http_route(a->http, "PUT", "/api/v1/support-teams/{id}/communities",
                         team_put_communities, a)) < 0)
        return rc;
    return 0;
}
