/* http.c - the libmicrohttpd wrapper (see http.h): the server, its routes,
 * the request cycle, answers, stopping and metrics. Static files are served
 * by http_static.c and streams by http_stream.c; what the three share is in
 * http_internal.h.
 *
 * The access handler is called several times per request: first with the
 * headers only, then with pieces of the body, then once more with nothing.
 * We answer only on that last call. Queueing an answer on the first call
 * would leave an unread body on the connection, and libmicrohttpd would
 * then have to close it, killing keep-alive. The one exception is a body
 * declared too large by Content-Length: we refuse it at once, without
 * reading it, and the connection closes. */
#include "net/http.h"

#include "base/clock.h"
#include "base/log.h"
#include "base/metrics.h"
#include "net/http_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Statuses we count separately; anything else is counted as "other". */
const int http__counted_status[HTTP_NSTATUS] = {200, 201, 204, 304, 400, 401, 403, 404, 405,
                                                409, 413, 415, 422, 429, 500, 503, 0};
#define NSTATUS ((int)(sizeof http__counted_status / sizeof http__counted_status[0]))
_Static_assert(NSTATUS == HTTP_NSTATUS, "http_internal.h sizes the counters by HTTP_NSTATUS");

static const double latency_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                        0.1,    0.25,  0.5,    1,     2.5,  5};

struct http_server *http_new(const struct http_options *o)
{
    struct http_server *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->opt = *o;
    snprintf(s->listen, sizeof s->listen, "%s", o->listen);
    s->opt.listen = s->listen;
    s->static_dir[0] = '\0';
    if (o->static_dir && *o->static_dir && !realpath(o->static_dir, s->static_dir)) {
        log_warn("http: static directory %s: %s; no pages will be served", o->static_dir,
                 strerror(errno));
        s->static_dir[0] = '\0';
    }
    s->opt.static_dir = s->static_dir;
    atomic_init(&s->next_id, 1);
    pthread_mutex_init(&s->streams_lock, NULL);
    pthread_mutex_init(&s->jobs_lock, NULL);
    pthread_cond_init(&s->jobs_cond, NULL);
    pthread_cond_init(&s->streams_cond, NULL);
    struct route *none = &s->routes[HTTP_MAX_ROUTES];
    none->method = "";
    snprintf(none->pattern, sizeof none->pattern, "unmatched");
    hist_init(&none->seconds, latency_bounds, 13);
    return s;
}

int http_route(struct http_server *s, const char *method, const char *pattern, http_handler fn,
               void *ctx)
{
    if (s->nroutes == HTTP_MAX_ROUTES || strlen(pattern) >= sizeof s->routes[0].pattern)
        return LINLI_EINVAL;
    struct route *r = &s->routes[s->nroutes];
    r->method = method;
    snprintf(r->pattern, sizeof r->pattern, "%s", pattern);
    snprintf(r->storage, sizeof r->storage, "%s", pattern);
    r->nsegs = 0;
    for (char *save = NULL, *seg = strtok_r(r->storage, "/", &save); seg;
         seg = strtok_r(NULL, "/", &save)) {
        if (r->nsegs == HTTP_MAX_SEGS)
            return LINLI_EINVAL;
        r->segs[r->nsegs++] = seg;
    }
    r->fn = fn;
    r->ctx = ctx;
    hist_init(&r->seconds, latency_bounds, 13);
    return s->nroutes++;
}

int http_route_body_limit(struct http_server *s, int route, size_t max_body)
{
    if (route < 0 || route >= s->nroutes || max_body == 0)
        return LINLI_EINVAL;
    s->routes[route].max_body = max_body;
    return LINLI_OK;
}

/* Matches `path` against route r; fills params (arena copies). 1 on match. */
static int route_match(const struct route *r, const char *path, struct http_request *req)
{
    const char *p = path;
    int nparams = 0;
    for (int i = 0; i < r->nsegs; i++) {
        if (*p != '/')
            return 0;
        p++;
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == 0)
            return 0;
        const char *seg = r->segs[i];
        if (seg[0] == '{') {
            if (nparams < HTTP_MAX_PARAMS)
                req->params[nparams++] = arena_strndup(&req->arena, p, len);
        } else if (strlen(seg) != len || memcmp(seg, p, len) != 0) {
            return 0;
        }
        p += len;
    }
    if (*p != '\0' && strcmp(p, "/") != 0)
        return 0;
    req->nparams = nparams;
    return 1;
}

/* ---- answers ---- */

static void add_common_headers(struct http_request *req, struct MHD_Response *resp)
{
    MHD_add_response_header(resp, "X-Request-Id", req->id_text);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    /* Answers are not cached unless the handler says otherwise (photos). */
    bool cache_set = false;
    for (int i = 0; i < req->nheaders; i++) {
        MHD_add_response_header(resp, req->headers[i][0], req->headers[i][1]);
        cache_set = cache_set || !strcasecmp(req->headers[i][0], "Cache-Control");
    }
    if (!cache_set)
        MHD_add_response_header(resp, "Cache-Control", "no-store");
    if (atomic_load(&req->server->stopping))
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
}

void http__queue(struct http_request *req, int status, struct MHD_Response *resp)
{
    if (!resp) {
        log_error("http: cannot create a response (out of memory)");
        return;
    }
    add_common_headers(req, resp);
    req->status = status;
    if (req->offloaded) {
        /* On a worker: keep the answer until the connection is resumed. */
        if (req->pending)
            MHD_destroy_response(req->pending);
        req->pending = resp;
        return;
    }
    if (MHD_queue_response(req->conn, (unsigned)status, resp) != MHD_YES)
        log_error("http: req=%s could not queue the response", req->id_text);
    MHD_destroy_response(resp);
}

void http_respond(struct http_request *req, int status, const char *content_type, const void *body,
                  size_t len)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (resp && content_type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    http__queue(req, status, resp);
}

void http_respond_owned(struct http_request *req, int status, const char *content_type, char *body,
                        size_t len)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(body);
        return;
    }
    if (content_type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    http__queue(req, status, resp);
}

void http_respond_json(struct http_request *req, int status, json_t *v)
{
    /* Ten significant digits keep coordinates to about a centimetre
     * without printing binary noise (39.920000000000002). */
    char *text = json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(10));
    json_decref(v);
    if (!text) {
        static const char oom[] = "{\"title\":\"out of memory\",\"status\":500}";
        http_respond(req, 500, "application/problem+json", oom, sizeof oom - 1);
        return;
    }
    http_respond_owned(req, status, "application/json", text, strlen(text));
}

static const char *reason(int status)
{
    switch (status) {
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 413:
        return "Content Too Large";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Content";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    default:
        return "Error";
    }
}

int http_status_for(int st)
{
    switch (st) {
    case LINLI_OK:
        return 200;
    case LINLI_EINVAL:
        return 422;
    case LINLI_ENOTFOUND:
        return 404;
    case LINLI_ECONFLICT:
        return 409;
    case LINLI_EFORBIDDEN:
        return 403;
    case LINLI_EUNAUTH:
        return 401;
    case LINLI_EBUSY:
    case LINLI_ESHUTDOWN:
        return 503;
    case LINLI_ELIMIT:
        return 429;
    case LINLI_ETOOBIG:
        return 413;
    default:
        return 500;
    }
}

void http_respond_problem(struct http_request *req, int status, const struct linli_err *err)
{
    json_t *p = json_object();
    json_object_set_new(p, "type", json_string("about:blank"));
    json_object_set_new(p, "title", json_string(reason(status)));
    json_object_set_new(p, "status", json_integer(status));
    if (err && err->detail[0])
        json_object_set_new(p, "detail", json_string(err->detail));
    json_object_set_new(p, "instance", json_string(req->path));
    json_object_set_new(p, "request_id", json_string(req->id_text));
    if (err && err->nfields > 0) {
        json_t *list = json_array();
        for (int i = 0; i < err->nfields; i++) {
            json_t *f = json_object();
            json_object_set_new(f, "field", json_string(err->fields[i].field));
            json_object_set_new(f, "message", json_string(err->fields[i].message));
            json_array_append_new(list, f);
        }
        json_object_set_new(p, "errors", list);
    }
    if (err && err->retry_after > 0 && (status == 429 || status == 503)) {
        char *ra = arena_alloc(&req->arena, 16);
        if (ra) {
            snprintf(ra, 16, "%d", err->retry_after);
            http_add_header(req, "Retry-After", ra);
        }
    }
    char *text = json_dumps(p, JSON_COMPACT);
    json_decref(p);
    if (!text)
        return;
    http_respond_owned(req, status, "application/problem+json", text, strlen(text));
}

void http_respond_error(struct http_request *req, const struct linli_err *err)
{
    http_respond_problem(req, http_status_for(err->status), err);
}

void http_add_header(struct http_request *req, const char *name, const char *value)
{
    if (req->nheaders < HTTP_MAX_HEADERS) {
        req->headers[req->nheaders][0] = name;
        req->headers[req->nheaders][1] = value;
        req->nheaders++;
    }
}

const char *http_query(struct http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *http_header(struct http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

struct qcheck {
    const char *const *allowed;
    struct linli_err *err;
    int bad;
};

static enum MHD_Result qcheck_one(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value)
{
    (void)kind;
    (void)value;
    struct qcheck *q = cls;
    for (const char *const *a = q->allowed; *a; a++)
        if (!strcmp(*a, key))
            return MHD_YES;
    q->bad = linli_field(q->err, key, "unknown query parameter");
    return MHD_YES;
}

int http_query_check(struct http_request *req, const char *const *allowed, struct linli_err *err)
{
    struct qcheck q = {allowed, err, 0};
    MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, qcheck_one, &q);
    return q.bad ? LINLI_EINVAL : LINLI_OK;
}

/* ---- the request cycle ---- */

/* The body limit of the request's route: its own when it has one, else the
 * server's. Only routes with a limit of their own are matched here. */
static size_t body_limit(struct http_server *s, struct http_request *req)
{
    for (int i = 0; i < s->nroutes; i++) {
        struct route *r = &s->routes[i];
        if (r->max_body && !strcmp(r->method, req->method) && route_match(r, req->path, req))
            return r->max_body;
    }
    return s->opt.max_body;
}

void http__dispatch(struct http_request *req)
{
    struct http_server *s = req->server;
    struct linli_err err;
    linli_err_clear(&err);
    int path_matched = 0;
    char allow[128] = "";
    for (int i = 0; i < s->nroutes; i++) {
        struct route *r = &s->routes[i];
        if (!route_match(r, req->path, req))
            continue;
        path_matched = 1;
        if (!strcmp(r->method, req->method) ||
            (!strcmp(req->method, "HEAD") && !strcmp(r->method, "GET"))) {
            req->route = i;
            r->fn(req, r->ctx);
            if (!req->status) {
                linli_fail(&err, LINLI_EIO, "The handler gave no answer.");
                http_respond_problem(req, 500, &err);
            }
            return;
        }
        if (strlen(allow) + strlen(r->method) + 3 < sizeof allow) {
            if (allow[0])
                strcat(allow, ", ");
            strcat(allow, r->method);
        }
    }
    if (path_matched) {
        char *a = arena_strdup(&req->arena, allow);
        if (a)
            http_add_header(req, "Allow", a);
        linli_fail(&err, LINLI_EINVAL, "%s is not allowed on %s (allowed: %s).", req->method,
                   req->path, allow);
        http_respond_problem(req, 405, &err);
        return;
    }
    if (strncmp(req->path, "/api/", 5) != 0 && strcmp(req->path, "/api") != 0 &&
        (!strcmp(req->method, "GET") || !strcmp(req->method, "HEAD"))) {
        http_respond_static(req);
        return;
    }
    linli_fail(&err, LINLI_ENOTFOUND, "No resource at %s.", req->path);
    http_respond_problem(req, 404, &err);
}

static void client_ip(struct MHD_Connection *conn, char *out, size_t size)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(out, size, "?");
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
                  (socklen_t)size);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
                  (socklen_t)size);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **con_cls)
{
    (void)version;
    struct http_server *s = cls;
    struct http_request *req = *con_cls;
    if (!req) {
        req = calloc(1, sizeof *req);
        if (!req)
            return MHD_NO;
        req->server = s;
        req->conn = conn;
        req->id = atomic_fetch_add(&s->next_id, 1);
        snprintf(req->id_text, sizeof req->id_text, "%llu", (unsigned long long)req->id);
        req->start_us = clock_mono_us();
        req->route = -1;
        arena_init(&req->arena, 2048);
        req->method = arena_strdup(&req->arena, method);
        req->path = arena_strdup(&req->arena, url);
        size_t limit = body_limit(s, req);
        buf_init(&req->body, limit);
        client_ip(conn, req->ip, sizeof req->ip);
        *con_cls = req;
        atomic_fetch_add(&s->inflight, 1);

        const char *cl =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > limit) {
            struct linli_err err;
            linli_err_clear(&err);
            linli_fail(&err, LINLI_ETOOBIG,
                       "The request body is larger than the limit of %zu bytes.", limit);
            http_respond_problem(req, 413, &err);
        }
        return MHD_YES;
    }
    if (req->pending) {
        /* Back from a worker: send what it answered. */
        struct MHD_Response *resp = req->pending;
        req->pending = NULL;
        if (MHD_queue_response(conn, (unsigned)req->status, resp) != MHD_YES)
            log_error("http: req=%s could not queue the response", req->id_text);
        MHD_destroy_response(resp);
        return MHD_YES;
    }
    if (req->status) {
        /* Answered already (413 above): drop whatever body still arrives. */
        *upload_size = 0;
        return MHD_YES;
    }
    if (*upload_size) {
        int rc = buf_append(&req->body, upload_data, *upload_size);
        *upload_size = 0;
        if (rc == LINLI_ETOOBIG) {
            /* A chunked body that outgrew the limit: we cannot answer in
             * the middle of an upload, so the connection is closed. */
            log_warn("http: req=%s %s %s body over %zu bytes; closing", req->id_text, method, url,
                     req->body.max);
            return MHD_NO;
        }
        return rc == LINLI_OK ? MHD_YES : MHD_NO;
    }
    if (s->nworkers > 0 && strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
        http__offload(s, req);
        return MHD_YES;
    }
    http__dispatch(req);
    return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)conn;
    struct http_server *s = cls;
    struct http_request *req = *con_cls;
    if (!req)
        return;
    *con_cls = NULL;
    if (req->pending) /* the connection ended before the answer could go out */
        MHD_destroy_response(req->pending);
    double secs = (double)(clock_mono_us() - req->start_us) / 1e6;
    struct route *r = req->route >= 0 ? &s->routes[req->route] : &s->routes[HTTP_MAX_ROUTES];
    int si = NSTATUS - 1;
    for (int i = 0; i < NSTATUS - 1; i++)
        if (http__counted_status[i] == req->status)
            si = i;
    atomic_fetch_add_explicit(&r->count[si], 1, memory_order_relaxed);
    hist_observe(&r->seconds, secs);
    if (s->opt.log_requests)
        log_info("req=%s %s %s route=%s status=%d dur_ms=%.2f ip=%s%s", req->id_text, req->method,
                 req->path, req->route >= 0 ? r->pattern : "-", req->status, secs * 1000, req->ip,
                 toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (connection ended early)");
    buf_free(&req->body);
    arena_free(&req->arena);
    free(req);
    atomic_fetch_sub(&s->inflight, 1);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    log_debug("http: %s", msg);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decodes the path and query values in place, except %00: a NUL
 * would cut the text short and make us answer for a different path than the
 * one asked for, so it stays as the three characters "%00" (and so matches
 * no route and no file). */
static size_t unescape(void *cls, struct MHD_Connection *conn, char *s)
{
    (void)cls;
    (void)conn;
    char *w = s;
    for (const char *r = s; *r;) {
        int hi, lo;
        if (r[0] == '%' && (hi = hexval(r[1])) >= 0 && (lo = hexval(r[2])) >= 0 && (hi | lo)) {
            *w++ = (char)(hi * 16 + lo);
            r += 3;
        } else {
            *w++ = *r++;
        }
    }
    *w = '\0';
    return (size_t)(w - s);
}

static int parse_listen(const char *text, struct sockaddr_storage *ss, socklen_t *len, int *v6)
{
    char host[128];
    const char *colon;
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close || close[1] != ':' || (size_t)(close - text - 1) >= sizeof host)
            return -1;
        memcpy(host, text + 1, (size_t)(close - text - 1));
        host[close - text - 1] = '\0';
        colon = close + 1;
    } else {
        colon = strrchr(text, ':');
        if (!colon || (size_t)(colon - text) >= sizeof host)
            return -1;
        memcpy(host, text, (size_t)(colon - text));
        host[colon - text] = '\0';
    }
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || end == colon + 1 || port < 0 || port > 65535)
        return -1;
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *a4 = (struct sockaddr_in *)(void *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)(void *)ss;
    if (!strcmp(host, "localhost"))
        snprintf(host, sizeof host, "127.0.0.1");
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        *len = sizeof *a4;
        *v6 = 0;
        return 0;
    }
    if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        *len = sizeof *a6;
        *v6 = 1;
        return 0;
    }
    return -1;
}

int http_start(struct http_server *s, struct linli_err *err)
{
    struct sockaddr_storage ss;
    socklen_t slen;
    int v6;
    if (parse_listen(s->opt.listen, &ss, &slen, &v6) != 0)
        return linli_fail(err, LINLI_EINVAL,
                          "listen address \"%s\" is not HOST:PORT (an IP address and a port)",
                          s->opt.listen);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG | (v6 ? MHD_USE_IPv6 : 0);
    int wrc = http__workers_start(s, err);
    if (wrc)
        return wrc;
    s->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)s->opt.threads, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)s->opt.idle_timeout_s, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        (unsigned)s->opt.conn_per_ip, MHD_OPTION_CONNECTION_LIMIT, (unsigned)s->opt.max_connections,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
        MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u, MHD_OPTION_UNESCAPE_CALLBACK, unescape, s,
        MHD_OPTION_END);
    if (!s->daemon)
        return linli_fail(err, LINLI_EIO,
                          "cannot listen on %s (is the address in use, or not on this machine?)",
                          s->opt.listen);
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : 0;
    return LINLI_OK;
}

uint16_t http_port(struct http_server *s)
{
    return s->port;
}

bool http_stopping(struct http_server *s)
{
    return atomic_load(&s->stopping);
}

int http_inflight(struct http_server *s)
{
    return atomic_load(&s->inflight);
}

void http_stop(struct http_server *s)
{
    if (!s || !s->daemon)
        return;
    atomic_store(&s->stopping, true);
    /* 1. No new connections. The listening socket is ours now, but MHD's
     * threads may still hold it in their epoll sets: it is shut down at once
     * (connecting clients are refused) and closed only after
     * MHD_stop_daemon, as libmicrohttpd's manual asks for threaded modes. */
    MHD_socket ls = MHD_quiesce_daemon(s->daemon);
    if (ls != MHD_INVALID_SOCKET)
        shutdown(ls, SHUT_RDWR);
    /* 2. Every suspended stream wakes, sees `stopping` and ends. */
    int64_t deadline = clock_mono_us() + (int64_t)s->opt.stop_grace_s * 1000000;
    pthread_mutex_lock(&s->streams_lock);
    http__streams_wake(s);
    while (s->nstreams > 0 && clock_mono_us() < deadline) {
        pthread_mutex_unlock(&s->streams_lock);
        usleep(10000);
        pthread_mutex_lock(&s->streams_lock);
        http__streams_wake(s);
    }
    pthread_mutex_unlock(&s->streams_lock);
    /* 3. Requests in flight finish and their answers go out. */
    while (atomic_load(&s->inflight) > 0 && clock_mono_us() < deadline)
        usleep(10000);
    if (atomic_load(&s->inflight) > 0)
        log_warn("http: %d requests still running after %d s; closing them",
                 atomic_load(&s->inflight), s->opt.stop_grace_s);
    MHD_stop_daemon(s->daemon);
    s->daemon = NULL;
    if (ls != MHD_INVALID_SOCKET)
        close(ls);
    http__workers_stop(s);
}

void http_free(struct http_server *s)
{
    if (!s)
        return;
    http_stop(s);
    http__workers_stop(s);
    pthread_mutex_destroy(&s->jobs_lock);
    pthread_cond_destroy(&s->jobs_cond);
    pthread_mutex_destroy(&s->streams_lock);
    pthread_cond_destroy(&s->streams_cond);
    free(s);
}
