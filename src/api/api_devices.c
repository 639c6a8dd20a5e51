/* api_devices.c - the HTTP door for device events (POST /api/v1/device-events,
 * authenticated by the device's signature, not by a login) and the register
 * of devices and subscriptions (/api/v1/devices, /api/v1/subscriptions: staff). */
#include "api/api.h"

#include "base/clock.h"
#include "domain/devices.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NFIELDS(a) (sizeof(a) / sizeof((a)[0]))

/* ---- the door ---- */

static json_t *event_answer(const struct intake_result *r, const char *status)
{
    json_t *o = json_object();
    json_object_set_new(o, "event_id", json_string(r->event_id));
    json_object_set_new(o, "status", json_string(status));
    json_object_set_new(o, "call_id", r->call_id ? json_integer(r->call_id) : json_null());
    if (r->task_id)
        json_object_set_new(o, "task_id", json_integer(r->task_id));
    return o;
}

static void device_event(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    if (api_query(req, (const char *const[]){NULL}))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    if (req->body.len > DEVICE_BODY_MAX) {
        linli_fail(&err, LINLI_ETOOBIG, "An event may be at most %d bytes.", DEVICE_BODY_MAX);
        http_respond_problem(req, 413, &err);
        return;
    }
    struct intake_result r;
    int rc =
        devices_intake(a->d, DOOR_HTTP, http_header(req, "X-Linli-Device"),
                       http_header(req, "X-Linli-Timestamp"), http_header(req, "X-Linli-Signature"),
                       req->body.data ? req->body.data : "", req->body.len, &r, &err);
    if (rc == LINLI_EINVAL) {
        /* Broken JSON is 400; a well-formed event with bad fields is 422. */
        http_respond_problem(req, err.nfields ? 422 : 400, &err);
        return;
    }
    if (rc) {
        api_error(req, &err);
        return;
    }
    if (!r.durable)
        http_respond_json(req, 202, event_answer(&r, "accepted"));
    else if (r.duplicate)
        http_respond_json(req, 200, event_answer(&r, "duplicate"));
    else
        http_respond_json(req, 201, event_answer(&r, "accepted"));
}

/* ---- devices ---- */

static json_t *device_json(const struct device *dv)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(dv->id));
    json_object_set_new(o, "serial", json_string(dv->serial));
    json_object_set_new(o, "model", json_string(dv->model));
    json_object_set_new(o, "firmware", json_string(dv->firmware));
    json_object_set_new(o, "status", json_string(dv->retired ? "retired" : "active"));
    json_object_set_new(o, "battery", dv->battery >= 0 ? json_integer(dv->battery) : json_null());
    json_object_set_new(o, "signal",
                        device_signal_known(dv->signal) ? json_integer(dv->signal) : json_null());
    json_object_set_new(o, "last_seen_at", api_time(dv->last_seen_at));
    json_object_set_new(o, "location",
                        dv->has_location
                            ? json_pack("{s:f, s:f, s:o}", "lat", dv->location.lat, "lon",
                                        dv->location.lon, "at", api_time(dv->located_at))
                            : json_null());
    json_object_set_new(o, "person_id", dv->person_id ? json_integer(dv->person_id) : json_null());
    json_object_set_new(o, "subscription_id",
                        dv->subscription_id ? json_integer(dv->subscription_id) : json_null());
    json_object_set_new(o, "created_at", api_time(dv->created_at));
    json_object_set_new(o, "updated_at", api_time(dv->updated_at));
    return o;
}

static const struct jx_field device_fields[] = {
    {"serial", JX_STRING, true, false, DEVICE_SERIAL_MAX},
    {"model", JX_STRING, false, false, DEVICE_TEXT_MAX},
    {"firmware", JX_STRING, false, false, DEVICE_TEXT_MAX},
};

static void device_create(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    if (api_auth(a, req, &who) || api_query(req, (const char *const[]){NULL}))
        return;
    json_t *body = api_body(req, device_fields, NFIELDS(device_fields));
    if (!body)
        return;
    struct device_in in = {jx_str(body, "serial"), jx_str(body, "model"), jx_str(body, "firmware")};
    struct linli_err err;
    linli_err_clear(&err);
    struct device dv;
    char secret[2 * DEVICE_SECRET_BYTES + 1];
    int rc = devices_create(a->d, &who, &in, &dv, secret, &err);
    json_decref(body);
    if (rc) {
        api_error(req, &err);
        return;
    }
    json_t *o = device_json(&dv);
    json_object_set_new(o, "secret", json_string(secret));
    sodium_memzero(secret, sizeof secret);
    http_add_header(req, "Cache-Control", "no-store");
    api_created(req, "devices", dv.id, false, o);
}

static void device_rotate(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    int64_t id;
    if (api_auth(a, req, &who) || api_query(req, (const char *const[]){NULL}) ||
        api_path_id(req, 0, &id))
        return;
    if (req->body.len) {
        json_t *body = api_body(req, NULL, 0);
        if (!body)
            return;
        json_decref(body);
    }
    struct linli_err err;
    linli_err_clear(&err);
    char secret[2 * DEVICE_SECRET_BYTES + 1];
    if (devices_rotate_secret(a->d, &who, id, secret, &err)) {
        api_error(req, &err);
        return;
    }
    json_t *o = json_pack("{s:I, s:s}", "id", (json_int_t)id, "secret", secret);
    sodium_memzero(secret, sizeof secret);
    http_add_header(req, "Cache-Control", "no-store");
    http_respond_json(req, 200, o);
}

static void device_get(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    int64_t id;
    if (api_auth(a, req, &who) || api_query(req, (const char *const[]){NULL}) ||
        api_path_id(req, 0, &id))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    struct device dv;
    if (devices_get(a->d, &who, id, &dv, &err)) {
        api_error(req, &err);
        return;
    }
    http_respond_json(req, 200, device_json(&dv));
}

static void device_list(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    if (api_auth(a, req, &who) || api_query(req, (const char *const[]){"limit", "cursor", NULL}))
        return;
    int limit;
    int64_t after;
    if (api_page(a, req, DEVICES_PAGE_MAX, &limit, &after))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    struct device *items;
    int n;
    int64_t next;
    if (devices_list(a->d, &who, after, limit, &items, &n, &next, &err)) {
        api_error(req, &err);
        return;
    }
    json_t *arr = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(arr, device_json(&items[i]));
    free(items);
    http_respond_json(req, 200, api_list(arr, next));
}

/* ---- subscriptions ---- */

static json_t *subscription_json(const struct subscription *s)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(s->id));
    json_object_set_new(o, "device_id", json_integer(s->device_id));
    json_object_set_new(o, "person_id", json_integer(s->person_id));
    json_object_set_new(o, "starts_at", api_time(s->starts_at));
    json_object_set_new(o, "ends_at", api_time(s->ends_at));
    json_object_set_new(o, "created_at", api_time(s->created_at));
    json_object_set_new(o, "updated_at", api_time(s->updated_at));
    return o;
}

/* Reads an optional RFC 3339 field into *ms (0 when absent or null). */
static void time_field(json_t *body, const char *name, int64_t *ms, struct linli_err *err)
{
    *ms = 0;
    const char *t = jx_str(body, name);
    if (t && (clock_parse_rfc3339(t, ms) || *ms <= 0))
        linli_field(err, name, "must be an RFC 3339 time, e.g. 2026-11-25T09:00:00+08:00");
}

static const struct jx_field subscription_fields[] = {
    {"device_id", JX_INT, true, false, 0},
    {"person_id", JX_INT, true, false, 0},
    {"starts_at", JX_STRING, false, true, 40},
    {"ends_at", JX_STRING, false, true, 40},
};

static void subscription_create(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    if (api_auth(a, req, &who) || api_query(req, (const char *const[]){NULL}))
        return;
    json_t *body = api_body(req, subscription_fields, NFIELDS(subscription_fields));
    if (!body)
        return;
    struct linli_err err;
    linli_err_clear(&err);
    int64_t starts, ends;
    time_field(body, "starts_at", &starts, &err);
    time_field(body, "ends_at", &ends, &err);
    int64_t device_id = jx_int(body, "device_id", 0), person_id = jx_int(body, "person_id", 0);
    json_decref(body);
    if (err.nfields) {
        http_respond_problem(req, 422, &err);
        return;
    }
    struct subscription s;
    if (subscriptions_create(a->d, &who, device_id, person_id, starts, ends, &s, &err)) {
        api_error(req, &err);
        return;
    }
    http_respond_json(req, 201, subscription_json(&s));
}

static void subscription_end(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    int64_t id;
    if (api_auth(a, req, &who) || api_query(req, (const char *const[]){NULL}) ||
        api_path_id(req, 0, &id))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    int64_t at = 0;
    if (req->body.len) {
        static const struct jx_field fields[] = {{"at", JX_STRING, false, true, 40}};
        json_t *body = api_body(req, fields, NFIELDS(fields));
        if (!body)
            return;
        time_field(body, "at", &at, &err);
        json_decref(body);
        if (err.nfields) {
            http_respond_problem(req, 422, &err);
            return;
        }
    }
    struct subscription s;
    if (subscriptions_end(a->d, &who, id, at, &s, &err)) {
        api_error(req, &err);
        return;
    }
    http_respond_json(req, 200, subscription_json(&s));
}

int api_devices_routes(struct api *a)
{
    int rc;
    if ((rc = http_route(a->http, "POST", "/api/v1/device-events", device_event, a)) < 0 ||
        (rc = http_route(a->http, "GET", "/api/v1/devices", device_list, a)) < 0 ||
        (rc = http_route(a->http, "POST", "/api/v1/devices", device_create, a)) < 0 ||
        (rc = http_route(a->http, "GET", "/api/v1/devices/{id}", device_get, a)) < 0 ||
        (rc = http_route(a->http, "POST", "/api/v1/devices/{id}/secret", device_rotate, a)) < 0 ||
        (rc = http_route(a->http, "POST", "/api/v1/subscriptions", subscription_create, a)) < 0 ||
        (rc = http_route(a->http, "POST", "/api/v1/subscriptions/{id}/end", subscription_end, a)) <
            0)
        return rc;
    return 0;
}
