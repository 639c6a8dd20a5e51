/* api_system.c - /healthz, /readyz, /metrics, /api/v1/openapi.json, /api/v1. */
#include "api/api.h"

#include "base/clock.h"
#include "domain/devices.h"
#include "intake/mqtt.h"

#include <string.h>

extern const unsigned char linli_openapi_json[];
extern const size_t linli_openapi_json_len;

static void healthz(struct http_request *req, void *ctx)
{
    (void)ctx;
    http_respond(req, 200, "text/plain; charset=utf-8", "ok\n", 3);
}

static void readyz(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct linli_err err;
    linli_err_clear(&err);
    if (http_stopping(a->http) || !store_ready(a->d->store)) {
        linli_fail(&err, LINLI_ESHUTDOWN, "The server is stopping.");
        http_respond_problem(req, 503, &err);
        return;
    }
    http_respond(req, 200, "text/plain; charset=utf-8", "ready\n", 6);
}

static void metrics(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct buf out;
    buf_init(&out, 4 << 20);
    buf_printf(&out,
               "# HELP linli_build_info The running version.\n# TYPE linli_build_info gauge\n"
               "linli_build_info{version=\"%s\",schema=\"%d\"} 1\n"
               "# HELP linli_start_time_seconds When the server started.\n"
               "# TYPE linli_start_time_seconds gauge\nlinli_start_time_seconds %lld\n",
               a->version, store_schema_version(a->d->store), (long long)(a->started_ms / 1000));
    http_metrics_render(a->http, &out);
    store_metrics_render(a->d->store, &out);
    if (a->hub)
        buf_printf(&out,
                   "# HELP linli_sse_subscribers Live event-stream subscribers.\n"
                   "# TYPE linli_sse_subscribers gauge\nlinli_sse_subscribers %d\n",
                   sse_count(a->hub));
    if (a->console_hub)
        buf_printf(&out,
                   "# HELP linli_console_subscribers Live operator console streams.\n"
                   "# TYPE linli_console_subscribers gauge\nlinli_console_subscribers %d\n",
                   sse_count(a->console_hub));
    devices_metrics_render(a->d, &out);
    if (a->mqtt)
        mqtt_intake_metrics_render(a->mqtt, &out);
    size_t len;
    char *text = buf_detach(&out, &len);
    if (!text) {
        http_respond(req, 500, "text/plain", "out of memory\n", 14);
        return;
    }
    http_respond_owned(req, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
}

static void openapi(struct http_request *req, void *ctx)
{
    (void)ctx;
    http_respond(req, 200, "application/json", linli_openapi_json, linli_openapi_json_len);
}

static void index_(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    json_t *o = json_pack("{s:s, s:s, s:s}", "name", "linli", "version", a->version, "openapi",
                          "/api/v1/openapi.json");
    http_respond_json(req, 200, o);
}

int api_system_routes(struct api *a)
{
    int rc;
    if ((rc = http_route(a->http, "GET", "/healthz", healthz, a)) < 0 ||
        (rc = http_route(a->http, "GET", "/readyz", readyz, a)) < 0 ||
        (rc = http_route(a->http, "GET", "/metrics", metrics, a)) < 0 ||
        (rc = http_route(a->http, "GET", "/api/v1/openapi.json", openapi, a)) < 0 ||
        (rc = http_route(a->http, "GET", "/api/v1", index_, a)) < 0)
        return rc;
    return 0;
}
