/* api_directory.c - the elderly-service directory over HTTP: the catalogue of
 * services (/api/v1/services), facilities (public reads, staff writes), the
 * walking-time search (GET /api/v1/facilities?near=... or ?community=...)
 * and the personal match (POST /api/v1/match). */
#include "api/api.h"

#include "base/clock.h"
#include "domain/directory.h"
#include "domain/people.h"
#include "domain/registry.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SEARCH_LIMIT_DEFAULT   20   /* hits of a search when ?limit= is absent */
#define SEARCH_MINUTES_DEFAULT 15.0 /* the district's "15-minute elderly-care circle" */
#define CODE_TEXT_MAX          32   /* characters of a code or label as typed */
#define NFIELDS(a)             (sizeof(a) / sizeof((a)[0]))

/* ---- shared ---- */

/* Admins and district or street staff write facilities; the domain checks
 * the scope. Answering 403 before the body is read tells other roles
 * plainly, whatever they sent. */
static bool may_write_facilities(enum role r)
{
    return r == ROLE_ADMIN || r == ROLE_DISTRICT || r == ROLE_STREET;
}

static bool may_write_catalogue(enum role r)
{
    return r == ROLE_ADMIN || r == ROLE_DISTRICT;
}

static int forbid(struct http_request *req, const char *what)
{
    struct linli_err err;
    linli_err_clear(&err);
    linli_fail(&err, LINLI_EFORBIDDEN, "Your role may not %s.", what);
    api_error(req, &err);
    return -1;
}

static void out_of_memory(struct http_request *req)
{
    struct linli_err err;
    linli_err_clear(&err);
    linli_fail(&err, LINLI_ENOMEM, "out of memory");
    api_error(req, &err);
}

/* A JSON object body, with the content type and syntax checked (415/400)
 * but not its fields: the directory's decoders check those, nested ones
 * included, and name every problem. NULL after answering. */
/* Adds the problems of `more` whose field `err` does not name yet. */
static void merge_problems(struct linli_err *err, const struct linli_err *more)
{
    for (int i = 0; i < more->nfields; i++) {
        bool known = false;
        for (int k = 0; k < err->nfields; k++)
            known |= !strcmp(err->fields[k].field, more->fields[i].field);
        if (!known)
            linli_field(err, more->fields[i].field, "%s", more->fields[i].message);
    }
}

static int parse_bool(const char *s, bool *out)
{
    if (!strcmp(s, "true") || !strcmp(s, "1"))
        *out = true;
    else if (!strcmp(s, "false") || !strcmp(s, "0"))
        *out = false;
    else
        return -1;
    return 0;
}

static int parse_number(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (!*s || *end || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

/* A community code's centre point. Adds a field error under `field`
 * otherwise. */
static int community_point(struct api *a, const char *field, const char *code,
                           struct geo_point *out, struct linli_err *err)
{
    char norm[AREA_CODE_LEN + 1];
    const char *why;
    if (area_code_normalize(code, norm, &why) != 0)
        return linli_field(err, field, "%s", why);
    if (area_code_level(norm) != 2)
        return linli_field(err, field, "must be a 12-digit community code");
    struct principal anyone = {0};
    struct area *ar = malloc(sizeof *ar);
    if (!ar)
        return linli_fail(err, LINLI_ENOMEM, "out of memory");
    struct linli_err aerr;
    linli_err_clear(&aerr);
    int rc = registry_get(a->d, &anyone, norm, ar, &aerr);
    if (rc == LINLI_ENOTFOUND)
        rc = linli_field(err, field, "is not a community in the registry");
    else if (rc)
        *err = aerr;
    else if (!ar->has_point)
        rc = linli_field(err, field, "has no centre point on record; send near instead");
    else
        *out = ar->point;
    free(ar);
    return rc;
}

/* Answers `body` as GeoJSON. */
static void respond_geojson(struct http_request *req, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(10));
    json_decref(body);
    if (!text) {
        out_of_memory(req);
        return;
    }
    http_respond_owned(req, 200, "application/geo+json", text, strlen(text));
}

/* A FeatureCollection of Point features, one per facility object of `items`
 * (their "point" becomes the geometry). Takes the reference to items. */
static json_t *feature_collection(json_t *items)
{
    json_t *features = json_array();
    size_t i;
    json_t *o;
    json_array_foreach(items, i, o)
    {
        json_t *p = json_object_get(o, "point");
        json_t *geometry = json_pack("{s:s, s:[f, f]}", "type", "Point", "coordinates",
                                     json_number_value(json_object_get(p, "lon")),
                                     json_number_value(json_object_get(p, "lat")));
        json_t *props = json_deep_copy(o);
        json_object_del(props, "point");
        json_array_append_new(features, json_pack("{s:s, s:O, s:o, s:o}", "type", "Feature", "id",
                                                  json_object_get(o, "id"), "geometry", geometry,
                                                  "properties", props));
    }
    json_decref(items);
    return json_pack("{s:s, s:o}", "type", "FeatureCollection", "features", features);
}

/* ?format= : 0 JSON, 1 GeoJSON, -1 after a field error. */
static int query_format(struct http_request *req, struct linli_err *err)
{
    const char *f = http_query(req, "format");
    if (!f || !strcmp(f, "json"))
        return 0;
    if (!strcmp(f, "geojson"))
        return 1;
    linli_field(err, "format", "must be json or geojson");
    return -1;
}

/* ---- the catalogue ---- */

static json_t *service_def_json(const struct service_def *s)
{
    json_t *o = json_object();
    json_object_set_new(o, "code", json_string(s->code));
    json_object_set_new(o, "name_zh", json_string(s->name_zh));
    json_object_set_new(o, "name_en", json_string(s->name_en));
    json_object_set_new(o, "unit", json_string(price_unit_name(s->unit)));
    json_object_set_new(o, "facilities", json_integer(s->facilities));
    return o;
}

static void services_get(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    if (api_query(req, (const char *const[]){NULL}))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    struct service_def *items;
    int n;
    if (services_list(a->d, &items, &n, &err)) {
        api_error(req, &err);
        return;
    }
    json_t *arr = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(arr, service_def_json(&items[i]));
    free(items);
    http_respond_json(req, 200, api_list(arr, 0));
}

static bool code_ok(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return false;
    return true;
}

static void services_post(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    if (api_auth(a, req, &who) || api_query(req, (const char *const[]){NULL}))
        return;
    if (!may_write_catalogue(who.role)) {
        forbid(req, "change the catalogue of services");
        return;
    }
    static const struct jx_field fields[] = {
        {"code", JX_STRING, true, false, SERVICE_CODE_MAX},
        {"name_zh", JX_STRING, true, false, SERVICE_NAME_MAX},
        {"name_en", JX_STRING, true, false, SERVICE_NAME_MAX},
        {"unit", JX_STRING, true, false, CODE_TEXT_MAX},
    };
    json_t *body = api_body(req, fields, NFIELDS(fields));
    if (!body)
        return;
    struct linli_err err;
    linli_err_clear(&err);
    struct service_def in = {0};
    const char *code = jx_str(body, "code");
    if (!code_ok(code))
        linli_field(&err, "code", "must be lower-case letters, digits and _");
    const char *zh = jx_str(body, "name_zh"), *en = jx_str(body, "name_en");
    if (!*zh)
        linli_field(&err, "name_zh", "must not be empty");
    if (!*en)
        linli_field(&err, "name_en", "must not be empty");
    if (price_unit_parse(jx_str(body, "unit"), &in.unit) != 0)
        linli_field(&err, "unit", "must be meal, hour, visit, day or month");
    snprintf(in.code, sizeof in.code, "%s", code);
    snprintf(in.name_zh, sizeof in.name_zh, "%s", zh);
    snprintf(in.name_en, sizeof in.name_en, "%s", en);
    json_decref(body);
    if (err.nfields) {
        http_respond_problem(req, 422, &err);
        return;
    }
    struct service_def out;
    if (services_create(a->d, &who, &in, &out, &err)) {
        api_error(req, &err);
        return;
    }
    http_respond_json(req, 201, service_def_json(&out));
}

/* ---- facilities: create, change, read ---- */

static void facility_post(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    if (api_auth(a, req, &who) || api_query(req, (const char *const[]){NULL}))
        return;
    if (!may_write_facilities(who.role)) {
        forbid(req, "add facilities to the directory");
        return;
    }
    json_t *body = api_body_object(req);
    if (!body)
        return;
    struct facility_in *in = malloc(sizeof *in);
    struct facility *f = malloc(sizeof *f);
    if (!in || !f) {
        free(in);
        free(f);
        json_decref(body);
        out_of_memory(req);
        return;
    }
    struct linli_err err;
    linli_err_clear(&err);
    if (facility_in_from_json(body, in, &err)) {
        /* The rule problems of what did decode, too: every problem at once. */
        struct linli_err rules;
        linli_err_clear(&rules);
        facility_check(a->d, in, f, &rules);
        merge_problems(&err, &rules);
        http_respond_problem(req, 422, &err);
        goto done;
    }
    struct idem_req idem;
    const struct idem_req *ip;
    if (api_idempotency(req, &who, "POST /api/v1/facilities", &idem, &ip))
        goto done;
    bool replayed = false;
    if (facilities_create(a->d, &who, in, ip, f, &replayed, &err)) {
        api_error(req, &err);
        goto done;
    }
    api_created(req, "facilities", f->id, replayed, facility_to_json(f));
done:
    free(in);
    free(f);
    json_decref(body);
}

static void facility_patch(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    int64_t id;
    if (api_auth(a, req, &who) || api_query(req, (const char *const[]){NULL}) ||
        api_path_id(req, 0, &id))
        return;
    if (!may_write_facilities(who.role)) {
        forbid(req, "change facilities in the directory");
        return;
    }
    json_t *body = api_body_object(req);
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
    struct facility_patch *p = malloc(sizeof *p);
    struct facility *f = malloc(sizeof *f);
    if (!p || !f) {
        out_of_memory(req);
    } else if (facility_patch_from_json(body, p, &err)) {
        http_respond_problem(req, 422, &err);
    } else if (facilities_update(a->d, &who, id, p, f, &err)) {
        api_error(req, &err);
    } else {
        http_respond_json(req, 200, facility_to_json(f));
    }
    free(p);
    free(f);
    json_decref(body);
}

static void facility_get(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    int64_t id;
    if (api_query(req, (const char *const[]){NULL}) || api_path_id(req, 0, &id))
        return;
    struct facility *f = malloc(sizeof *f);
    if (!f) {
        out_of_memory(req);
        return;
    }
    struct linli_err err;
    linli_err_clear(&err);
    if (facilities_get(a->d, id, f, &err))
        api_error(req, &err);
    else
        http_respond_json(req, 200, facility_to_json(f));
    free(f);
}

/* ---- facilities: the list and the search ---- */

static const char *const list_only[] = {"area", "status", "cursor", NULL};
static const char *const search_only[] = {"minutes",   "max_price", "open_at",
                                          "only_open", "beds_free", NULL};

/* `err` holds the problems of the parameters both modes share. */
static void facility_list(struct api *a, struct http_request *req, int kind, int format,
                          struct linli_err *err)
{
    for (int i = 0; search_only[i]; i++)
        if (http_query(req, search_only[i]))
            linli_field(err, search_only[i], "is a search parameter: send near or community too");
    struct facility_filter f = {.kind = kind, .status = -1};
    char area[AREA_CODE_LEN + 1];
    const char *q = http_query(req, "area"), *why;
    if (q && area_code_normalize(q, area, &why) != 0)
        linli_field(err, "area", "%s", why);
    else if (q)
        f.area = area;
    f.service = http_query(req, "service");
    if (f.service && !services_known(a->d, f.service))
        linli_field(err, "service", "is not a service in the catalogue (GET /api/v1/services)");
    q = http_query(req, "status");
    if (q && facility_status_parse(q, &f.status) != 0)
        linli_field(err, "status", "must be open, suspended or closed");
    if (err->nfields) {
        http_respond_problem(req, 422, err);
        return;
    }
    if (api_page(a, req, FACILITIES_PAGE_MAX, &f.limit, &f.after_id))
        return;
    struct facility *items;
    int n;
    int64_t next;
    if (facilities_list(a->d, &f, &items, &n, &next, err)) {
        api_error(req, err);
        return;
    }
    json_t *arr = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(arr, facility_to_json(&items[i]));
    free(items);
    json_t *page = api_list(arr, next);
    if (format == 1) {
        json_t *fc = feature_collection(json_incref(json_object_get(page, "items")));
        json_object_set(fc, "next_cursor", json_object_get(page, "next_cursor"));
        json_decref(page);
        respond_geojson(req, fc);
        return;
    }
    http_respond_json(req, 200, page);
}

/* "LAT,LON" in degrees. */
static int parse_near(const char *s, struct geo_point *p)
{
    const char *comma = strchr(s, ',');
    if (!comma || comma == s)
        return -1;
    char lat[64];
    if ((size_t)(comma - s) >= sizeof lat)
        return -1;
    memcpy(lat, s, (size_t)(comma - s));
    lat[comma - s] = '\0';
    return parse_number(lat, &p->lat) || parse_number(comma + 1, &p->lon) ? -1 : 0;
}

/* A hit: the facility, where it is from the origin, whether it is open, and
 * the queried service's price and what anyone pays after the subsidies
 * that apply to everyone. */
static json_t *hit_json(const struct directory_hit *h)
{
    json_t *o = facility_to_json(&h->f);
    json_object_set_new(o, "distance_m", json_integer((json_int_t)llround(h->dist_m)));
    json_object_set_new(o, "walk_minutes", json_real(walk_minutes_tenths(h->walk_minutes)));
    json_object_set_new(o, "open", json_boolean(h->open));
    if (h->service_index >= 0 && h->service_index < h->f.nservices) {
        const struct facility_service *s = &h->f.services[h->service_index];
        struct match_profile anyone = {.age = -1, .care_level = CARE_SELF, .subsidy_class = -1};
        int rule;
        int64_t pay = service_pay_fen(s, &anyone, &rule);
        json_object_set_new(o, "price", json_real((double)s->price_fen / 100.0));
        json_object_set_new(o, "unit", json_string(price_unit_name(s->unit)));
        json_object_set_new(o, "pay", json_real((double)pay / 100.0));
    }
    return o;
}

/* Adds the problems of the domain's query check, skipping those about the
 * origin when it could not be read (already reported) and naming the
 * origin as the caller sent it. */
static void merge_query_check(struct linli_err *err, const struct linli_err *check,
                              bool have_origin, const char *origin_field)
{
    struct linli_err more;
    linli_err_clear(&more);
    for (int i = 0; i < check->nfields; i++) {
        const char *f = check->fields[i].field;
        if (!strcmp(f, "near")) {
            if (!have_origin)
                continue;
            f = origin_field;
        }
        linli_field(&more, f, "%s", check->fields[i].message);
    }
    merge_problems(err, &more);
}

static void facility_search(struct api *a, struct http_request *req, int kind, int format,
                            struct linli_err *err)
{
    for (int i = 0; list_only[i]; i++)
        if (http_query(req, list_only[i]))
            linli_field(err, list_only[i],
                        "is a filter of the plain list, not of a search "
                        "(near or community)");
    struct directory_query q = {.kind = kind,
                                .max_price_fen = -1,
                                .limit = SEARCH_LIMIT_DEFAULT,
                                .minutes = SEARCH_MINUTES_DEFAULT};
    const char *near = http_query(req, "near"), *community = http_query(req, "community");
    bool have_origin = false;
    if (near && community) {
        linli_field(err, "community", "send either near or community, not both");
    } else if (near) {
        if (parse_near(near, &q.origin) == 0)
            have_origin = true;
        else
            linli_field(err, "near", "must be LAT,LON in degrees (WGS-84), e.g. 39.9061,116.4599");
    } else {
        struct linli_err cerr;
        linli_err_clear(&cerr);
        int rc = community_point(a, "community", community, &q.origin, &cerr);
        if (rc == LINLI_OK) {
            have_origin = true;
        } else if (rc == LINLI_EINVAL) {
            merge_problems(err, &cerr);
        } else {
            api_error(req, &cerr);
            return;
        }
    }
    const char *v = http_query(req, "minutes");
    if (v &&
        (parse_number(v, &q.minutes) != 0 || q.minutes <= 0 || q.minutes > DIRECTORY_MINUTES_MAX)) {
        linli_field(err, "minutes", "must be a number of minutes above 0 and at most %d",
                    DIRECTORY_MINUTES_MAX);
        q.minutes = SEARCH_MINUTES_DEFAULT;
    }
    q.service = http_query(req, "service");
    double yuan;
    if ((v = http_query(req, "max_price")) &&
        (parse_number(v, &yuan) != 0 || price_parse_yuan(yuan, &q.max_price_fen) != 0)) {
        linli_field(err, "max_price", "must be an amount in yuan with at most two decimals");
        q.max_price_fen = -1;
    }
    int64_t at_ms = clock_now_ms();
    if ((v = http_query(req, "open_at")) && clock_parse_rfc3339(v, &at_ms) != 0)
        linli_field(err, "open_at", "must be a time in RFC 3339, e.g. 2026-10-03T11:30:00+08:00");
    q.at = at_ms / 1000;
    if ((v = http_query(req, "only_open")) && parse_bool(v, &q.only_open) != 0)
        linli_field(err, "only_open", "must be true or false");
    if ((v = http_query(req, "beds_free")) && parse_bool(v, &q.beds_free) != 0)
        linli_field(err, "beds_free", "must be true or false");
    if ((v = http_query(req, "limit"))) {
        char *end;
        long l = strtol(v, &end, 10);
        if (!*v || *end || l < 1 || l > DIRECTORY_HITS_MAX)
            linli_field(err, "limit", "must be a whole number from 1 to %d", DIRECTORY_HITS_MAX);
        else
            q.limit = (int)l;
    }
    /* The domain's own checks (the point near the district, the service
     * known, max_price only with a service), listed with the ones above. */
    struct linli_err check;
    linli_err_clear(&check);
    int rc = directory_query_check(a->d, &q, &check);
    if (rc && rc != LINLI_EINVAL) {
        api_error(req, &check);
        return;
    }
    merge_query_check(err, &check, have_origin, near ? "near" : "community");
    if (err->nfields) {
        http_respond_problem(req, 422, err);
        return;
    }
    struct directory_hit *hits;
    int n;
    if (directory_search(a->d, &q, &hits, &n, err)) {
        api_error(req, err);
        return;
    }
    json_t *items = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(items, hit_json(&hits[i]));
    free(hits);
    if (format == 1) {
        respond_geojson(req, feature_collection(items));
        return;
    }
    char at[32];
    json_t *body = json_object();
    json_object_set_new(body, "items", items);
    json_object_set_new(body, "origin",
                        json_pack("{s:f, s:f}", "lat", q.origin.lat, "lon", q.origin.lon));
    json_object_set_new(body, "minutes", json_real(q.minutes));
    json_object_set_new(body, "open_at", json_string(clock_format_rfc3339(at_ms, at, sizeof at)));
    http_respond_json(req, 200, body);
}

static void facilities_get_route(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    if (api_query(req, (const char *const[]){"near", "community", "minutes", "service", "kind",
                                             "max_price", "open_at", "only_open", "beds_free",
                                             "limit", "format", "area", "status", "cursor", NULL}))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    int kind = -1;
    const char *k = http_query(req, "kind");
    if (k && facility_kind_parse(k, &kind) != 0) {
        linli_field(&err, "kind",
                    "must be institution, station, dining_table, regional_centre, "
                    "family_bed_provider, health_centre or provider");
        kind = -1;
    }
    int format = query_format(req, &err);
    if (http_query(req, "near") || http_query(req, "community"))
        facility_search(a, req, kind, format, &err);
    else
        facility_list(a, req, kind, format, &err);
}

/* ---- the match ---- */

static const struct jx_field match_fields[] = {
    {"person_id", JX_INT, false, false, 0},  {"profile", JX_OBJECT, false, false, 0},
    {"near", JX_OBJECT, false, false, 0},    {"community", JX_STRING, false, false, AREA_CODE_LEN},
    {"budget", JX_NUMBER, false, true, 0},   {"needs", JX_ARRAY, false, false, 0},
    {"minutes", JX_NUMBER, false, false, 0}, {"limit", JX_INT, false, false, 0},
};

static const struct jx_field profile_fields[] = {
    {"age", JX_INT, false, true, 0},
    {"care_level", JX_STRING, false, false, CODE_TEXT_MAX},
    {"living_alone", JX_BOOL, false, false, 0},
    {"subsidy_class", JX_STRING, false, true, CODE_TEXT_MAX},
};

static const struct jx_field point_fields[] = {
    {"lat", JX_NUMBER, true, false, 0},
    {"lon", JX_NUMBER, true, false, 0},
};

/* jx_check on a nested object, its field errors named "prefix.field".
 * Returns true when it has none. */
static bool nested_ok(const json_t *obj, const struct jx_field *fields, size_t n,
                      const char *prefix, struct linli_err *err)
{
    struct linli_err inner;
    linli_err_clear(&inner);
    if (!jx_check(obj, fields, n, &inner))
        return true;
    for (int i = 0; i < inner.nfields; i++) {
        char name[160]; /* linli_field keeps the first 63 bytes */
        snprintf(name, sizeof name, "%s.%s", prefix, inner.fields[i].field);
        linli_field(err, name, "%s", inner.fields[i].message);
    }
    return false;
}

/* Fills `r` from a body that passed match_fields; field errors otherwise. */
static void decode_match(json_t *body, struct match_request *r, struct linli_err *err)
{
    memset(r, 0, sizeof *r);
    r->profile = (struct match_profile){.age = -1, .care_level = CARE_SELF, .subsidy_class = -1};
    r->budget_fen = -1;
    r->person_id = jx_int(body, "person_id", 0);
    if (jx_has(body, "person_id") && r->person_id <= 0)
        linli_field(err, "person_id", "must be a positive id");
    json_t *profile = json_object_get(body, "profile");
    if (profile && jx_has(body, "person_id"))
        linli_field(err, "profile", "send either person_id or profile, not both");
    if (profile && nested_ok(profile, profile_fields, NFIELDS(profile_fields), "profile", err)) {
        /* The range is the domain's to check; out-of-range values stay out of it. */
        json_t *age = json_object_get(profile, "age");
        if (json_is_integer(age)) {
            json_int_t v = json_integer_value(age);
            r->profile.age = v < 0 ? -2 : v > 1000 ? 1000 : (int)v;
        }
        const char *care = jx_str(profile, "care_level");
        enum care_level c = CARE_SELF;
        if (care && people_care_level_parse(care, &c) != 0)
            linli_field(err, "profile.care_level",
                        "must be self_care, partly_dependent or dependent");
        r->profile.care_level = (int)c;
        r->profile.living_alone = jx_bool(profile, "living_alone", 0) == 1;
        const char *sc = jx_str(profile, "subsidy_class");
        if (sc) {
            const char *code = people_subsidy_code(sc);
            if (!code || subsidy_class_parse(code, &r->profile.subsidy_class) != 0) {
                linli_field(err, "profile.subsidy_class",
                            "must be dibao, tekun, low_income, shidu, youfu, other or null");
                r->profile.subsidy_class = -1;
            }
        }
    }
    json_t *near = json_object_get(body, "near");
    if (near && nested_ok(near, point_fields, NFIELDS(point_fields), "near", err)) {
        r->has_origin = true;
        r->origin.lat = json_number_value(json_object_get(near, "lat"));
        r->origin.lon = json_number_value(json_object_get(near, "lon"));
    }
    r->community = jx_str(body, "community");
    json_t *budget = json_object_get(body, "budget");
    if (json_is_number(budget) && price_parse_yuan(json_number_value(budget), &r->budget_fen)) {
        linli_field(err, "budget", "must be an amount in yuan with at most two decimals");
        r->budget_fen = -1;
    }
    json_t *needs = json_object_get(body, "needs");
    if (json_array_size(needs) > FACILITY_SERVICES_MAX) {
        linli_field(err, "needs", "may list at most %d services", FACILITY_SERVICES_MAX);
    } else {
        size_t i;
        json_t *v;
        json_array_foreach(needs, i, v)
        {
            if (!json_is_string(v)) {
                char field[32];
                snprintf(field, sizeof field, "needs[%zu]", i);
                linli_field(err, field, "must be a service code");
            }
            r->needs[r->nneeds++] = json_string_value(v);
        }
    }
    if (jx_has(body, "minutes")) {
        r->minutes = json_number_value(json_object_get(body, "minutes"));
        if (r->minutes <= 0 || r->minutes > DIRECTORY_MINUTES_MAX)
            linli_field(err, "minutes", "must be a number of minutes above 0 and at most %d",
                        DIRECTORY_MINUTES_MAX);
    }
    if (jx_has(body, "limit")) { /* the most is the domain's to say */
        json_int_t l = jx_int(body, "limit", 0);
        if (l < 1)
            linli_field(err, "limit", "must be 1 or more");
        else
            r->limit = l > DIRECTORY_HITS_MAX ? DIRECTORY_HITS_MAX + 1 : (int)l;
    }
}

static json_t *match_json(const struct match_result *m, const char *need, int rank)
{
    const struct facility *f = &m->f;
    const struct facility_service *s = &f->services[m->service_index];
    json_t *reasons = json_array();
    for (int i = 0; i < m->nreasons; i++)
        json_array_append_new(reasons, json_string(m->reasons[i]));
    json_t *fac = json_object();
    json_object_set_new(fac, "id", json_integer(f->id));
    json_object_set_new(fac, "name", json_string(f->name));
    json_object_set_new(fac, "kind", json_string(facility_kind_name(f->kind)));
    json_object_set_new(fac, "address", json_string(f->address));
    json_object_set_new(fac, "point",
                        json_pack("{s:f, s:f}", "lat", f->point.lat, "lon", f->point.lon));
    json_object_set_new(fac, "phone", f->phone[0] ? json_string(f->phone) : json_null());
    json_t *o = json_object();
    json_object_set_new(o, "need", json_string(need));
    json_object_set_new(o, "rank", json_integer(rank));
    json_object_set_new(o, "facility", fac);
    json_object_set_new(o, "service",
                        json_pack("{s:s, s:f, s:s}", "code", s->code, "price",
                                  (double)m->price_fen / 100.0, "unit", price_unit_name(s->unit)));
    json_object_set_new(o, "distance_m", json_integer((json_int_t)llround(m->dist_m)));
    json_object_set_new(o, "walk_minutes", json_real(walk_minutes_tenths(m->walk_minutes)));
    json_object_set_new(o, "eligible", json_boolean(m->eligible));
    json_object_set_new(o, "has_capacity", json_boolean(m->has_capacity));
    json_object_set_new(o, "within_budget", json_boolean(m->within_budget));
    json_object_set_new(o, "pay", json_real((double)m->pay_fen / 100.0));
    json_object_set_new(o, "subsidy",
                        m->rule >= 0 && m->rule < s->nrules ? json_string(s->rules[m->rule].label)
                                                            : json_null());
    json_object_set_new(o, "reasons", reasons);
    return o;
}

static void match_post(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    const struct principal *whop = NULL;
    if (api_query(req, (const char *const[]){NULL}))
        return;
    json_t *body = api_body(req, match_fields, NFIELDS(match_fields));
    if (!body)
        return;
    /* A profile needs no token; a stored person does (and a role that may
     * read people). A token sent is checked either way. */
    if (jx_has(body, "person_id") || http_header(req, "Authorization")) {
        if (api_auth(a, req, &who)) {
            json_decref(body);
            return;
        }
        whop = &who;
    }
    struct linli_err err;
    linli_err_clear(&err);
    struct match_request r;
    decode_match(body, &r, &err);
    if (err.nfields) {
        json_decref(body);
        http_respond_problem(req, 422, &err);
        return;
    }
    struct match_result *res;
    int n, nneeds;
    char needs[FACILITY_SERVICES_MAX][SERVICE_CODE_MAX + 1];
    int rc = directory_match(a->d, whop, &r, &res, &n, needs, &nneeds, &err);
    json_decref(body); /* r borrowed its strings */
    if (rc) {
        api_error(req, &err);
        return;
    }
    json_t *used = json_array();
    for (int i = 0; i < nneeds; i++)
        json_array_append_new(used, json_string(needs[i]));
    json_t *results = json_array();
    /* Results come by need, in the order of `needs`, each need's best first. */
    int need = 0, rank = 0;
    for (int i = 0; i < n; i++) {
        const char *code = res[i].f.services[res[i].service_index].code;
        while (need < nneeds && strcmp(needs[need], code) != 0) {
            need++;
            rank = 0;
        }
        json_array_append_new(results, match_json(&res[i], code, ++rank));
    }
    free(res);
    http_respond_json(req, 200, json_pack("{s:o, s:o}", "needs", used, "results", results));
}

int api_directory_routes(struct api *a)
{
    int rc;
    if ((rc = http_route(a->http, "GET", "/api/v1/services", services_get, a)) < 0 ||
        (rc = http_route(a->http, "POST", "/api/v1/services", services_post, a)) < 0 ||
        (rc = http_route(a->http, "GET", "/api/v1/facilities", facilities_get_route, a)) < 0 ||
        (rc = http_route(a->http, "POST", "/api/v1/facilities", facility_post, a)) < 0 ||
        (rc = http_route(a->http, "GET", "/api/v1/facilities/{id}", facility_get, a)) < 0 ||
        (rc = http_route(a->http, "PATCH", "/api/v1/facilities/{id}", facility_patch, a)) < 0 ||
        (rc = http_route(a->http, "POST", "/api/v1/match", match_post, a)) < 0)
        return rc;
    return 0;
}
