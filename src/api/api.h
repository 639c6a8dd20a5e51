/* api.h - the HTTP API under /api/v1: decoding requests into domain calls and
 * encoding their results. Handlers live in one file per resource
 * (api_auth.c, api_users.c, ...); this header holds what they share. */
#ifndef LINLI_API_H
#define LINLI_API_H

#include "base/jx.h"
#include "domain/domain.h"
#include "domain/principal.h"
#include "domain/users.h"
#include "net/http.h"
#include "net/sse.h"

struct api {
    struct domain *d;
    struct http_server *http;
    struct sse_hub *hub;
    int64_t started_ms;
    const char *version;
    int list_limit_default;
    struct mqtt_intake *mqtt;    /* the MQTT door when --mqtt is set, else NULL */
    struct sse_hub *console_hub; /* operators' console streams (api_calls.c); NULL = none */
    const char *photo_dir;       /* where case photos are kept (photo_store.h); NULL = none */
    size_t photo_body_max;       /* body limit of the routes that take photos; 0 = max_body */
    /* The Open311 jurisdiction_id (open311.c); NULL = the default. */
    const char *open311_jurisdiction;
    /* The pages' map tiles (api_web.c): a Leaflet URL template; NULL or "" = none. */
    const char *map_tiles;
    const char *map_attribution;
};

/* The event filter to create the SSE hub with: who sees which topic. */
sse_filter api_event_filter(void);

/* What linlid does with each bus event: revocations end the streams of the
 * sessions concerned; everything else goes to the streams allowed to see it. */
void api_events_on_bus(struct sse_hub *hub, const char *topic, json_t *payload);

/* The same for the operators' console hub (api_calls.c): console.* topics to
 * the operators they concern; revocations end their streams. */
sse_filter api_console_filter(void);
void api_console_on_bus(struct sse_hub *console_hub, const char *topic, json_t *payload);

/* Registers every route on a.http. Returns 0 or a negative status. */
int api_register(struct api *a);

/* Each api_*.c adds its routes. */
int api_auth_routes(struct api *a);
int api_users_routes(struct api *a);
int api_audit_routes(struct api *a);
int api_system_routes(struct api *a);
int api_events_routes(struct api *a);
int api_areas_routes(struct api *a);
int api_stations_routes(struct api *a);
int api_reports_routes(struct api *a);
int api_people_routes(struct api *a);
int api_directory_routes(struct api *a);   /* facilities, services, search, match */
int api_coverage_routes(struct api *a);    /* coverage reports and site plans */
int api_devices_routes(struct api *a);     /* device events, devices, subscriptions */
int api_care_routes(struct api *a);        /* tasks, care plans, the hotline's figures */
int api_calls_routes(struct api *a);       /* calls, the queue, presence, the console stream */
int api_cases_stats_routes(struct api *a); /* case figures, search, export (before cases) */
int api_cases_routes(struct api *a);       /* cases and their workflow (api_cases.c) */
int api_case_setup_routes(
    struct api *a); /* categories, settings, routing, units, volunteer teams */
/* Open311 GeoReport v2 under /open311/v2 (open311.c). */
int api_open311_routes(struct api *a);
/* What the web pages need from the server: GET /api/v1/map (api_web.c). */
int api_web_routes(struct api *a);
/* The directory in figures: GET /api/v1/reports/facilities (api_facility_report.c). */
int api_facility_report_routes(struct api *a);

/* ---- shared helpers; each one that fails has already answered ---- */

/* Authenticates the bearer token of `req` into `who`. On failure answers 401
 * (or 503) and returns nonzero. */
int api_auth(struct api *a, struct http_request *req, struct principal *who);
/* The same, also filling the caller's account. */
int api_auth_user(struct api *a, struct http_request *req, struct principal *who,
                  struct user *user);

/* Parses a JSON object body without checking its fields (for bodies whose
 * shape a field table cannot state). Returns NULL after answering 400/415. */
json_t *api_body_object(struct http_request *req);
/* Parses and checks a JSON object body. Returns NULL after answering 400/415/422. */
json_t *api_body(struct http_request *req, const struct jx_field *fields, size_t n);
/* The same for a PATCH: the create fields, none required. */
json_t *api_body_partial(struct http_request *req, const struct jx_field *fields, size_t n);

/* Checks query parameters against `allowed`; answers 422 and returns nonzero on unknown ones. */
int api_query(struct http_request *req, const char *const *allowed);

/* Reads ?limit= and ?cursor=; answers 422 and returns nonzero when malformed. */
int api_page(struct api *a, struct http_request *req, int max, int *limit, int64_t *cursor_id);
/* The same for a list in another order than by id, whose cursor carries the
 * last row's sort key and id (cursor_encode_key); *cursor_id 0 = first page. */
int api_page_keyed(struct api *a, struct http_request *req, int max, int *limit, int64_t *key,
                   int64_t *cursor_id);

/* Parses a positive integer id from a path parameter; answers 404 otherwise. */
int api_path_id(struct http_request *req, int index, int64_t *id);

/* Reads the Idempotency-Key header for a creating POST on `route`. Returns 0
 * with *ip pointing at *idem (NULL without a key), or -1 after answering 422. */
int api_idempotency(struct http_request *req, const struct principal *who, const char *route,
                    struct idem_req *idem, const struct idem_req **ip);

/* 201 with Location /api/v1/<collection>/<id> (and Idempotent-Replayed when
 * the create was a replay); takes the reference to `body`. */
void api_created(struct http_request *req, const char *collection, int64_t id, bool replayed,
                 json_t *body);

/* Answers with the error record. */
void api_error(struct http_request *req, const struct linli_err *err);

/* {"items": items, "next_cursor": ...} */
json_t *api_list(json_t *items, int64_t next_id);
/* The same with a keyed cursor after (key, last_id) when `more`. */
json_t *api_list_keyed(json_t *items, bool more, int64_t key, int64_t last_id);

json_t *api_time(int64_t ms); /* RFC 3339 string, or null for 0 */
/* Query parameter `name` as a time into *ms (left as is when absent): RFC
 * 3339, or a date YYYY-MM-DD meaning its midnight in Asia/Shanghai. A field
 * error in `err` otherwise. */
void api_query_time(struct http_request *req, const char *name, int64_t *ms, struct linli_err *err);
json_t *api_user_json(const struct user *u);

#endif
