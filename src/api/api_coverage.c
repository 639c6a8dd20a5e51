/* api_coverage.c - /api/v1/reports/coverage (who among the elderly can walk
 * to a service in time, per street or community), its list of the people out
 * of reach, and /api/v1/plans/sites (where new sites would reach the most of
 * them). Staff only, limited to the caller's scope. The report per area is
 * kept until what it counts changes (directory_coverage_cache.c). */
#include "api/api.h"

#include "domain/directory.h"
#include "domain/people.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COVERAGE_MINUTES_DEFAULT 15 /* a 15-minute walk: the district's 一刻钟服务圈 */
#define COVERAGE_AGE_DEFAULT     60
/* Most points a plan request may list: the limit directory_plan_sites keeps
 * (directory_coverage.c); checked here too so a big body is not decoded. */
#define PLAN_GIVEN_MAX    2000
#define PLAN_LABEL_MAX    64         /* characters of a candidate's label */
#define INT_ARG_OUT_RANGE 1000000000 /* any int out of every range the domain accepts */

/* ---- shared ---- */

static json_t *share_json(int64_t part, int64_t whole)
{
    return whole > 0 ? json_real((double)part / (double)whole) : json_null();
}

static double metres(double m)
{
    return round(m * 10) / 10;
}

static json_t *text_or_null(const char *s)
{
    return s[0] ? json_string(s) : json_null();
}

/* A JSON integer as an int; values beyond int are pushed out of every range. */
static int small_int(json_int_t v)
{
    return v > INT_ARG_OUT_RANGE    ? INT_ARG_OUT_RANGE
           : v < -INT_ARG_OUT_RANGE ? -INT_ARG_OUT_RANGE
                                    : (int)v;
}

/* ?minutes= as a number (default 15); a field error when malformed. */
static double query_minutes(struct http_request *req, struct linli_err *err)
{
    const char *s = http_query(req, "minutes");
    if (!s)
        return COVERAGE_MINUTES_DEFAULT;
    char *end;
    double v = strtod(s, &end);
    if (!*s || *end || !isfinite(v)) {
        linli_field(err, "minutes", "must be a number of minutes");
        return 0;
    }
    return v;
}

/* ?age_min= as a whole number (default 60). */
static int query_age_min(struct http_request *req, struct linli_err *err)
{
    const char *s = http_query(req, "age_min");
    if (!s)
        return COVERAGE_AGE_DEFAULT;
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < 0 || v > INT_ARG_OUT_RANGE) {
        linli_field(err, "age_min", "must be a whole number of years");
        return 0;
    }
    return (int)v;
}

static json_t *walk_json(struct api *a, double minutes)
{
    struct walk_model m;
    directory_walk_model(a->d, &m);
    double reach = minutes > 0 && minutes <= DIRECTORY_MINUTES_MAX ? m.reach_m(&m, minutes) : 0;
    return json_pack("{s:f, s:f, s:f}", "detour", m.detour, "speed_m_min", m.speed_m_min, "reach_m",
                     metres(reach));
}

/* ---- GET /api/v1/reports/coverage ---- */

static json_t *area_json(const struct service_coverage_area *ar, bool named)
{
    json_t *o = json_object();
    if (named) {
        json_object_set_new(o, "code", json_string(ar->code));
        json_object_set_new(o, "name", text_or_null(ar->name));
    }
    json_object_set_new(o, "elderly", json_integer(ar->elderly));
    json_object_set_new(o, "located", json_integer(ar->located));
    json_object_set_new(o, "covered", json_integer(ar->covered));
    json_object_set_new(o, "uncovered", json_integer(ar->located - ar->covered));
    json_object_set_new(o, "share", share_json(ar->covered, ar->located));
    return o;
}

static void coverage(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    if (api_auth(a, req, &who) ||
        api_query(req,
                  (const char *const[]){"service", "minutes", "level", "age_min", "area", NULL}))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    double minutes = query_minutes(req, &err);
    int age_min = query_age_min(req, &err);
    int level = 1;
    const char *lv = http_query(req, "level");
    if (lv && !strcmp(lv, "community"))
        level = 2;
    else if (lv && strcmp(lv, "street") != 0)
        linli_field(&err, "level", "must be street or community");
    if (err.nfields) {
        http_respond_problem(req, 422, &err);
        return;
    }
    struct service_coverage r;
    if (directory_coverage(a->d, &who, http_query(req, "service"), minutes, level, age_min,
                           http_query(req, "area"), &r, &err)) {
        api_error(req, &err);
        return;
    }
    json_t *areas = json_array();
    for (int i = 0; i < r.nareas; i++)
        json_array_append_new(areas, area_json(&r.areas[i], true));
    json_t *o = json_object();
    json_object_set_new(o, "service", json_string(r.service));
    json_object_set_new(o, "minutes", json_real(r.minutes));
    json_object_set_new(o, "level", json_string(level == 1 ? "street" : "community"));
    json_object_set_new(o, "age_min", json_integer(r.age_min));
    json_object_set_new(o, "walk", walk_json(a, r.minutes));
    json_object_set_new(o, "facilities", json_integer(r.facilities));
    json_object_set_new(o, "total", area_json(&r.total, false));
    json_object_set_new(o, "areas", areas);
    service_coverage_free(&r);
    http_respond_json(req, 200, o);
}

/* ---- GET /api/v1/reports/coverage/uncovered ---- */

static json_t *uncovered_json(const struct uncovered_person *p)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(p->id));
    json_object_set_new(o, "name", json_string(p->name));
    json_object_set_new(o, "age", p->age >= 0 ? json_integer(p->age) : json_null());
    json_object_set_new(o, "community_code", json_string(p->community_code));
    json_object_set_new(o, "home", json_pack("{s:f, s:f}", "lat", p->home.lat, "lon", p->home.lon));
    json_object_set_new(o, "nearest_m",
                        p->nearest_m >= 0 ? json_real(metres(p->nearest_m)) : json_null());
    return o;
}

static void uncovered(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    if (api_auth(a, req, &who) ||
        api_query(req, (const char *const[]){"service", "minutes", "age_min", "area", "limit",
                                             "cursor", NULL}))
        return;
    int limit;
    int64_t after;
    if (api_page(a, req, PEOPLE_PAGE_MAX, &limit, &after))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    double minutes = query_minutes(req, &err);
    int age_min = query_age_min(req, &err);
    if (err.nfields) {
        http_respond_problem(req, 422, &err);
        return;
    }
    struct uncovered_person *items;
    int n;
    int64_t next;
    if (directory_uncovered(a->d, &who, http_query(req, "service"), minutes, age_min,
                            http_query(req, "area"), after, limit, &items, &n, &next, &err)) {
        api_error(req, &err);
        return;
    }
    json_t *arr = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(arr, uncovered_json(&items[i]));
    free(items);
    http_respond_json(req, 200, api_list(arr, next));
}

/* ---- POST /api/v1/plans/sites ---- */

/* "candidates" is a word or a list, which the field table cannot say: it is
 * checked on its own below. */
static const struct jx_field plan_fields[] = {
    {"service", JX_STRING, true, false, SERVICE_CODE_MAX},
    {"count", JX_INT, true, false, 0},
    {"minutes", JX_NUMBER, false, false, 0},
    {"age_min", JX_INT, false, false, 0},
    {"area", JX_STRING, false, true, AREA_CODE_LEN},
    {"grid_m", JX_INT, false, false, 0},
};
static const struct jx_field candidate_fields[] = {
    {"lat", JX_NUMBER, true, false, 0},
    {"lon", JX_NUMBER, true, false, 0},
    {"label", JX_STRING, false, false, PLAN_LABEL_MAX},
};

/* The body as api_body reads it (415, 400, 422), with "candidates" left out
 * of the table check. Returns NULL after answering. */
static json_t *plan_body(struct http_request *req)
{
    json_t *v = api_body_object(req);
    if (!v)
        return NULL;
    struct linli_err err;
    linli_err_clear(&err);
    json_t *rest = json_copy(v); /* shallow: the values stay shared */
    if (!rest) {
        json_decref(v);
        linli_fail(&err, LINLI_ENOMEM, "out of memory");
        api_error(req, &err);
        return NULL;
    }
    json_object_del(rest, "candidates");
    int rc = jx_check(rest, plan_fields, sizeof plan_fields / sizeof plan_fields[0], &err);
    json_decref(rest);
    if (rc) {
        json_decref(v);
        http_respond_problem(req, 422, &err);
        return NULL;
    }
    return v;
}

/* Decodes "candidates" into r (source, and the given points into *given,
 * malloc'd), adding field errors. */
static void decode_candidates(json_t *body, struct site_plan_request *r,
                              struct site_candidate **given, struct linli_err *err)
{
    *given = NULL;
    json_t *c = json_object_get(body, "candidates");
    r->source = CANDIDATES_COMMUNITIES;
    if (!c)
        return;
    if (json_is_string(c)) {
        if (!strcmp(json_string_value(c), "communities"))
            r->source = CANDIDATES_COMMUNITIES;
        else if (!strcmp(json_string_value(c), "grid"))
            r->source = CANDIDATES_GRID;
        else
            linli_field(err, "candidates", "must be \"communities\", \"grid\" or a list of points");
        return;
    }
    if (!json_is_array(c)) {
        linli_field(err, "candidates", "must be \"communities\", \"grid\" or a list of points");
        return;
    }
    r->source = CANDIDATES_GIVEN;
    size_t n = json_array_size(c);
    if (n == 0 || n > PLAN_GIVEN_MAX) {
        linli_field(err, "candidates", "must list 1 to %d points", PLAN_GIVEN_MAX);
        return;
    }
    *given = calloc(n, sizeof **given);
    if (!*given) {
        linli_fail(err, LINLI_ENOMEM, "out of memory");
        return;
    }
    size_t i;
    json_t *v;
    json_array_foreach(c, i, v)
    {
        char field[48];
        snprintf(field, sizeof field, "candidates[%zu]", i);
        if (!json_is_object(v)) {
            linli_field(err, field, "must be an object with lat and lon");
            continue;
        }
        struct linli_err inner;
        linli_err_clear(&inner);
        if (jx_check(v, candidate_fields, 3, &inner)) {
            for (int k = 0; k < inner.nfields; k++) {
                char name[112];
                snprintf(name, sizeof name, "%s.%s", field, inner.fields[k].field);
                linli_field(err, name, "%s", inner.fields[k].message);
            }
            continue;
        }
        struct site_candidate *k = &(*given)[i];
        k->point.lat = json_number_value(json_object_get(v, "lat"));
        k->point.lon = json_number_value(json_object_get(v, "lon"));
        const char *label = jx_str(v, "label");
        snprintf(k->label, sizeof k->label, "%s", label ? label : "");
    }
    r->ncandidates = (int)n;
    r->candidates = *given;
}

static json_t *plan_json(const struct site_plan_request *r, const struct site_plan *p)
{
    json_t *sites = json_array();
    for (int i = 0; i < p->npicks; i++) {
        const struct site_pick *k = &p->picks[i];
        json_t *s = json_object();
        json_object_set_new(s, "rank", json_integer(i + 1));
        json_object_set_new(s, "point",
                            json_pack("{s:f, s:f}", "lat", k->c.point.lat, "lon", k->c.point.lon));
        json_object_set_new(s, "label", text_or_null(k->c.label));
        json_object_set_new(s, "area_code", text_or_null(k->c.area_code));
        json_object_set_new(s, "gain", json_integer(k->gain));
        json_object_set_new(s, "covered_after", json_integer(k->covered_after));
        json_object_set_new(s, "share_after", share_json(k->covered_after, p->located));
        json_array_append_new(sites, s);
    }
    int64_t after = p->npicks ? p->picks[p->npicks - 1].covered_after : p->covered_before;
    json_t *o = json_object();
    json_object_set_new(o, "service", json_string(r->service));
    json_object_set_new(o, "minutes", json_real(r->minutes));
    json_object_set_new(o, "age_min", json_integer(r->age_min));
    json_object_set_new(o, "located", json_integer(p->located));
    json_object_set_new(o, "covered_before", json_integer(p->covered_before));
    json_object_set_new(o, "share_before", share_json(p->covered_before, p->located));
    json_object_set_new(o, "sites", sites);
    json_object_set_new(o, "covered_after", json_integer(after));
    json_object_set_new(o, "share_after", share_json(after, p->located));
    json_object_set_new(o, "candidates_considered", json_integer(p->candidates_considered));
    return o;
}

static void plan_sites(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    if (api_auth(a, req, &who))
        return;
    json_t *body = plan_body(req);
    if (!body)
        return;
    struct linli_err err;
    linli_err_clear(&err);
    struct site_plan_request r = {
        .service = jx_str(body, "service"),
        .count = small_int(jx_int(body, "count", 0)),
        .minutes = COVERAGE_MINUTES_DEFAULT,
        .age_min = small_int(jx_int(body, "age_min", COVERAGE_AGE_DEFAULT)),
        .area = jx_str(body, "area"),
    };
    json_t *mv = json_object_get(body, "minutes");
    if (mv)
        r.minutes = json_number_value(mv);
    /* The domain reads an age_min of 0 as "the default"; a plan for all ages
     * is not offered, so 0 is refused here rather than quietly changed. */
    if (jx_has(body, "age_min") && r.age_min < 1)
        linli_field(&err, "age_min", "must be a whole number of years from 1 to 120");
    struct site_candidate *given = NULL;
    decode_candidates(body, &r, &given, &err);
    if (jx_has(body, "grid_m")) {
        r.grid_m = small_int(jx_int(body, "grid_m", 0));
        if (r.source != CANDIDATES_GRID)
            linli_field(&err, "grid_m", "is only used with \"candidates\": \"grid\"");
        else if (r.grid_m == 0)
            r.grid_m = -1; /* 0 means "the default" to the domain; here it is wrong */
    }
    struct site_plan plan;
    int rc = err.status;
    if (rc == LINLI_OK)
        rc = directory_plan_sites(a->d, &who, &r, &plan, &err);
    if (rc) {
        free(given);
        json_decref(body);
        api_error(req, &err);
        return;
    }
    json_t *out = plan_json(&r, &plan);
    site_plan_free(&plan);
    free(given);
    json_decref(body);
    http_respond_json(req, 200, out);
}

int api_coverage_routes(struct api *a)
{
    int rc;
    if ((rc = http_route(a->http, "GET", "/api/v1/reports/coverage", coverage, a)) < 0 ||
        (rc = http_route(a->http, "GET", "/api/v1/reports/coverage/uncovered", uncovered, a)) < 0 ||
        (rc = http_route(a->http, "POST", "/api/v1/plans/sites", plan_sites, a)) < 0)
        return rc;
    return 0;
}
