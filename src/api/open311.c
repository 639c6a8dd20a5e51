/* open311.c - Open311 GeoReport v2 under /open311/v2/: the routes, the
 * answers in JSON or XML by the path's suffix and errors in the
 * specification's shape, discovery, and services (case categories) with
 * their definitions. Reading requests and updates is in open311_requests.c,
 * submitting one in open311_post.c, the XML writer and dates in
 * open311_xml.c, API keys in domain/open311_clients.c.
 *
 * Everything read through the facade is the public view of cases
 * (cases_get/cases_list with no principal): no reporter, no contact details,
 * no internal notes. Unknown query parameters are ignored, unlike /api/v1:
 * existing Open311 clients send extras (api_key on reads, jurisdiction_id)
 * and must work unchanged. */
#include "api/open311_internal.h"

#include "api/open311_xml.h"
#include "base/clock.h"
#include "domain/cases.h"
#include "domain/open311_clients.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OPEN311_SPEC_URL  "http://wiki.open311.org/GeoReport_v2"
#define OPEN311_CHANGESET "2026-11-25T00:00:00+08:00" /* last change to this interface */

static const char CT_JSON[] = "application/json; charset=utf-8";
static const char CT_XML[] = "text/xml; charset=utf-8";

/* ---- formats and answers ---- */

int open311__format(const char *text, char *stem, size_t stem_size)
{
    size_t n = strlen(text);
    int fmt;
    size_t cut;
    if (n > 5 && !strcmp(text + n - 5, ".json"))
        fmt = OPEN311_JSON, cut = n - 5;
    else if (n > 4 && !strcmp(text + n - 4, ".xml"))
        fmt = OPEN311_XML, cut = n - 4;
    else
        return -1;
    if (stem) {
        if (cut >= stem_size)
            return -1;
        memcpy(stem, text, cut);
        stem[cut] = '\0';
    }
    return fmt;
}

/* The format of a document directly under /open311/v2 (get_document has
 * checked the suffix). */
int open311__doc_format(struct http_request *req)
{
    int fmt = open311__format(req->path, NULL, 0);
    return fmt < 0 ? OPEN311_JSON : fmt;
}

void open311__respond(struct http_request *req, int fmt, int status, const char *root, json_t *v)
{
    if (!v) {
        http_respond(req, 500, "text/plain; charset=utf-8", "out of memory\n", 14);
        return;
    }
    if (fmt == OPEN311_XML) {
        struct buf out;
        buf_init(&out, (size_t)64 << 20);
        int rc = open311_xml_write(&out, root, v);
        json_decref(v);
        size_t len;
        char *text = rc ? NULL : buf_detach(&out, &len);
        buf_free(&out);
        if (!text) {
            http_respond(req, 500, "text/plain; charset=utf-8", "out of memory\n", 14);
            return;
        }
        http_respond_owned(req, status, CT_XML, text, len);
        return;
    }
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | OPEN311_REAL_PRECISION);
    json_decref(v);
    if (!text) {
        http_respond(req, 500, "text/plain; charset=utf-8", "out of memory\n", 14);
        return;
    }
    http_respond_owned(req, status, CT_JSON, text, strlen(text));
}

static json_t *error_item(int status, const char *description)
{
    return json_pack("{s:i, s:s}", "code", status, "description", description);
}

void open311__error(struct http_request *req, int fmt, int status, const char *description, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, description);
    vsnprintf(text, sizeof text, description, ap);
    va_end(ap);
    json_t *list = json_array();
    json_array_append_new(list, error_item(status, text));
    open311__respond(req, fmt, status, "errors", list);
}

static int http_status_of(int linli_status)
{
    switch (linli_status) {
    case LINLI_EINVAL:
        return 400;
    case LINLI_EUNAUTH:
    case LINLI_EFORBIDDEN:
        return 403;
    case LINLI_ENOTFOUND:
        return 404;
    case LINLI_ECONFLICT:
        return 409;
    case LINLI_ETOOBIG:
        return 413;
    case LINLI_ELIMIT:
        return 429;
    case LINLI_EBUSY:
    case LINLI_ESHUTDOWN:
        return 503;
    default:
        return 500;
    }
}

/* The Open311 parameter a domain field came from. */
static void parameter_name(const char *field, char *out, size_t size)
{
    static const char *const names[][2] = {
        {"category", "service_code"}, {"point", "lat/long"},
        {"point.lat", "lat"},         {"point.lon", "long"},
        {"area_code", "lat/long"},    {"address", "address_string"},
        {"title", "description"},     {"contact_name", "first_name/last_name"},
        {"contact_phone", "phone"},   {"contact_email", "email"},
        {"client", "api_key"},        {"attributes", "attribute"},
    };
    if (!strncmp(field, "attributes.", 11)) {
        snprintf(out, size, "attribute[%s]", field + 11);
        return;
    }
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (!strcmp(field, names[i][0])) {
            snprintf(out, size, "%s", names[i][1]);
            return;
        }
    }
    snprintf(out, size, "%s", field);
}

void open311__fail(struct http_request *req, int fmt, const struct linli_err *err)
{
    int status = http_status_of(err->status);
    if (err->retry_after > 0) {
        char *ra = arena_alloc(&req->arena, 16);
        if (ra) {
            snprintf(ra, 16, "%d", err->retry_after);
            http_add_header(req, "Retry-After", ra);
        }
    }
    json_t *list = json_array();
    for (int i = 0; i < err->nfields; i++) {
        char name[96], text[320];
        parameter_name(err->fields[i].field, name, sizeof name);
        snprintf(text, sizeof text, "%s: %s", name, err->fields[i].message);
        json_array_append_new(list, error_item(status, text));
    }
    if (err->nfields == 0)
        json_array_append_new(
            list,
            error_item(status, err->detail[0] ? err->detail : linli_status_name(err->status)));
    open311__respond(req, fmt, status, "errors", list);
}

int open311__jurisdiction(struct api *a, struct http_request *req, int fmt, const char *given)
{
    const char *ours = a->open311_jurisdiction && *a->open311_jurisdiction
                           ? a->open311_jurisdiction
                           : OPEN311_JURISDICTION_DEFAULT;
    if (!given || !*given || !strcmp(given, ours))
        return 0;
    open311__error(req, fmt, 404, "jurisdiction_id not found: this endpoint serves %s", ours);
    return -1;
}

/* The format of a "{x}.json" segment, its stem in `stem`; answers 404 and
 * returns -1 for another ending. */
int open311__segment_format(struct http_request *req, char *stem, size_t size)
{
    const char *seg = req->nparams > 0 ? req->params[0] : "";
    int fmt = open311__format(seg, stem, size);
    if (fmt < 0 || !stem[0]) {
        open311__error(req, OPEN311_JSON, 404,
                       "No resource at %s: paths end in .json or .xml (the format).", req->path);
        return -1;
    }
    return fmt;
}

json_t *open311__text(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

json_t *open311__time(int64_t ms)
{
    char t[OPEN311_TIME_SIZE];
    return ms ? json_string(open311_format_time(ms, t)) : json_null();
}

json_t *open311__id(int64_t id)
{
    char t[24];
    snprintf(t, sizeof t, "%lld", (long long)id);
    return json_string(t);
}

/* ---- discovery ---- */

/* The endpoint's absolute URL from the request's Host (and a proxy's
 * X-Forwarded-Proto); a Host that is not a plain host[:port] is not echoed. */
static void endpoint_url(struct http_request *req, char *out, size_t size)
{
    const char *host = http_header(req, "Host");
    const char *proto = http_header(req, "X-Forwarded-Proto");
    bool ok = host && *host && strlen(host) < 256;
    for (const char *p = host; ok && *p; p++)
        ok = isalnum((unsigned char)*p) || strchr(".-:[]", *p);
    snprintf(out, size, "%s://%s/open311/v2", proto && !strcmp(proto, "https") ? "https" : "http",
             ok ? host : "localhost");
}

static void discovery(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    int fmt = open311__doc_format(req);
    if (open311__jurisdiction(a, req, fmt, http_query(req, "jurisdiction_id")))
        return;
    char url[320];
    endpoint_url(req, url, sizeof url);
    json_t *endpoint = json_pack("{s:s, s:s, s:s, s:s, s:[s, s]}", "specification",
                                 OPEN311_SPEC_URL, "url", url, "changeset", OPEN311_CHANGESET,
                                 "type", "production", "formats", "text/xml", "application/json");
    json_t *d = json_pack(
        "{s:s, s:s, s:s, s:[o]}", "changeset", OPEN311_CHANGESET, "contact",
        "The operators of this Linli server (the district's 接诉即办 centre).", "key_service",
        "API keys are issued by the operators of this server (linli open311 key add NAME).",
        "endpoints", endpoint);
    open311__respond(req, fmt, 200, "discovery", d);
}

/* ---- services ---- */

static void services(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    int fmt = open311__doc_format(req);
    if (open311__jurisdiction(a, req, fmt, http_query(req, "jurisdiction_id")))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    struct case_category *cats;
    int n;
    if (case_categories_list(a->d, false, &cats, &n, &err)) {
        open311__fail(req, fmt, &err);
        return;
    }
    json_t *list = json_array();
    for (int i = 0; i < n; i++) {
        const struct case_category *c = &cats[i];
        if (!c->active)
            continue;
        bool metadata = c->attributes[0] && strcmp(c->attributes, "[]") != 0;
        json_t *s = json_object();
        json_object_set_new(s, "service_code", json_string(c->code));
        json_object_set_new(s, "service_name", json_string(c->name_zh));
        json_object_set_new(s, "description",
                            json_string(c->description[0] ? c->description : c->name_en));
        json_object_set_new(s, "metadata", json_boolean(metadata));
        json_object_set_new(s, "type", json_string("realtime"));
        json_object_set_new(s, "keywords", json_string(c->name_en));
        json_object_set_new(s, "group", open311__text(c->group));
        json_array_append_new(list, s);
    }
    free(cats);
    open311__respond(req, fmt, 200, "services", list);
}

/* An attribute definition as Open311 writes it, from the category's own. */
static json_t *attribute_json(json_t *def, size_t index)
{
    json_t *o = json_object();
    json_t *variable = json_object_get(def, "variable");
    json_t *required = json_object_get(def, "required");
    json_t *order = json_object_get(def, "order");
    json_t *values = json_object_get(def, "values");
    const char *type = json_string_value(json_object_get(def, "datatype"));
    json_object_set_new(o, "variable", json_boolean(!json_is_false(variable)));
    json_object_set(o, "code", json_object_get(def, "code"));
    json_object_set_new(o, "datatype", json_string(type ? type : "string"));
    json_object_set_new(o, "required", json_boolean(json_is_true(required)));
    json_object_set_new(
        o, "datatype_description",
        open311__text(json_string_value(json_object_get(def, "datatype_description"))));
    json_object_set_new(o, "order",
                        json_is_integer(order) ? json_copy(order)
                                               : json_integer((json_int_t)index + 1));
    json_object_set_new(o, "description",
                        open311__text(json_string_value(json_object_get(def, "description"))));
    if (type && strstr(type, "valuelist")) {
        json_t *vs = json_array();
        size_t k;
        json_t *v;
        json_array_foreach(values, k, v)
        {
            json_array_append_new(vs, json_pack("{s:O, s:O}", "key", json_object_get(v, "key"),
                                                "name", json_object_get(v, "name")));
        }
        json_object_set_new(o, "values", vs);
    }
    return o;
}

static void service_definition(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    char code[OPEN311_SEGMENT_MAX];
    int fmt = open311__segment_format(req, code, sizeof code);
    if (fmt < 0 || open311__jurisdiction(a, req, fmt, http_query(req, "jurisdiction_id")))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    struct case_category c;
    int rc = case_categories_get(a->d, code, &c, &err);
    if (rc == LINLI_ENOTFOUND || (!rc && !c.active)) {
        open311__error(req, fmt, 404, "service_code not found: %s", code);
        return;
    }
    if (rc) {
        open311__fail(req, fmt, &err);
        return;
    }
    json_t *defs = json_loads(c.attributes, 0, NULL);
    json_t *attrs = json_array();
    size_t i;
    json_t *def;
    json_array_foreach(defs, i, def)
    {
        if (json_is_object(def))
            json_array_append_new(attrs, attribute_json(def, i));
    }
    json_decref(defs);
    json_t *o = json_pack("{s:s, s:o}", "service_code", c.code, "attributes", attrs);
    open311__respond(req, fmt, 200, "service_definition", o);
}

/* ---- routes ----
 * Five routes, not one per document and format: the route table is shared
 * by the whole API and has a fixed size. The documents directly under
 * /open311/v2 are told apart here. */

static void get_document(struct http_request *req, void *ctx)
{
    static const struct {
        const char *name;
        http_handler fn;
    } documents[] = {
        {"discovery", discovery},
        {"services", services},
        {"requests", open311__requests_list},
        {"servicerequestupdates", open311__updates},
    };
    char stem[OPEN311_SEGMENT_MAX];
    int fmt = open311__segment_format(req, stem, sizeof stem);
    if (fmt < 0)
        return;
    for (size_t i = 0; i < sizeof documents / sizeof documents[0]; i++) {
        if (!strcmp(stem, documents[i].name)) {
            documents[i].fn(req, ctx);
            return;
        }
    }
    open311__error(req, fmt, 404, "No resource at %s.", req->path);
}

static void post_document(struct http_request *req, void *ctx)
{
    char stem[OPEN311_SEGMENT_MAX];
    int fmt = open311__segment_format(req, stem, sizeof stem);
    if (fmt < 0)
        return;
    if (strcmp(stem, "requests") != 0) {
        open311__error(req, fmt, 404,
                       "No resource at %s: POST is for requests.json and requests.xml.", req->path);
        return;
    }
    open311__post_request(req, ctx);
}

int api_open311_routes(struct api *a)
{
    static const struct {
        const char *method, *pattern;
        http_handler fn;
    } routes[] = {
        {"GET", "/open311/v2/{document}", get_document},
        {"POST", "/open311/v2/{document}", post_document},
        {"GET", "/open311/v2/services/{service_code}", service_definition},
        {"GET", "/open311/v2/requests/{service_request_id}", open311__request_get},
        {"GET", "/open311/v2/tokens/{token}", open311__token_get},
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        int rc = http_route(a->http, routes[i].method, routes[i].pattern, routes[i].fn, a);
        if (rc < 0)
            return rc;
    }
    return LINLI_OK;
}
