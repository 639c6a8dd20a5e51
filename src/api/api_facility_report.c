/* api_facility_report.c - GET /api/v1/reports/facilities: the service
 * directory in figures for the district's dashboard (facilities by kind and
 * status, beds, and per street). Public, like the directory itself. */
#include "api/api.h"

#include "domain/directory.h"

#include <string.h>

static json_t *kinds_json(const struct facility_summary *s)
{
    json_t *arr = json_array();
    for (int k = 0; k < FACILITY_KINDS; k++) {
        const struct facility_kind_figures *f = &s->kinds[k];
        json_array_append_new(
            arr, json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I}", "kind",
                           facility_kind_name(k), "name_zh", facility_kind_label(k), "name_en",
                           facility_kind_label_en(k), "open", (json_int_t)f->open, "suspended",
                           (json_int_t)f->suspended, "closed", (json_int_t)f->closed, "beds_total",
                           (json_int_t)f->beds_total, "beds_free", (json_int_t)f->beds_free));
    }
    return arr;
}

static json_t *streets_json(const struct facility_summary *s)
{
    json_t *arr = json_array();
    for (int i = 0; i < s->nstreets; i++) {
        const struct facility_street_figures *f = &s->streets[i];
        json_t *by_kind = json_object();
        for (int k = 0; k < FACILITY_KINDS; k++)
            json_object_set_new(by_kind, facility_kind_name(k), json_integer(f->by_kind[k]));
        json_array_append_new(
            arr, json_pack("{s:s, s:o, s:I, s:I, s:I, s:o}", "code", f->code, "name",
                           f->name[0] ? json_string(f->name) : json_null(), "facilities",
                           (json_int_t)f->facilities, "beds_total", (json_int_t)f->beds_total,
                           "beds_free", (json_int_t)f->beds_free, "by_kind", by_kind));
    }
    return arr;
}

static void facilities_report(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    if (api_query(req, (const char *const[]){"area", "by", NULL}))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    const char *by = http_query(req, "by");
    if (by && strcmp(by, "street") != 0) {
        linli_field(&err, "by", "must be street (the only breakdown there is)");
        http_respond_problem(req, 422, &err);
        return;
    }
    struct facility_summary s;
    if (directory_summary(a->d, http_query(req, "area"), by != NULL, &s, &err)) {
        api_error(req, &err);
        return;
    }
    json_t *o = json_object();
    json_object_set_new(o, "area", s.area[0] ? json_string(s.area) : json_null());
    json_object_set_new(o, "total", json_integer(s.total));
    json_object_set_new(o, "beds_total", json_integer(s.beds_total));
    json_object_set_new(o, "beds_free", json_integer(s.beds_free));
    json_object_set_new(o, "by_kind", kinds_json(&s));
    if (by)
        json_object_set_new(o, "by_street", streets_json(&s));
    facility_summary_free(&s);
    http_respond_json(req, 200, o);
}

int api_facility_report_routes(struct api *a)
{
    int rc = http_route(a->http, "GET", "/api/v1/reports/facilities", facilities_report, a);
    return rc < 0 ? rc : 0;
}
