/* http.h - the HTTP server: libmicrohttpd with an epoll thread pool, a route
 * table, bounded request bodies, per-request arenas, one log line and
 * metrics per request, static files, suspended (streaming) responses, and a
 * stop that lets requests in flight finish.
 *
 * A handler is called once per request, after the whole body has arrived,
 * and must answer with exactly one http_respond*() call (or start a stream). */
#ifndef LINLI_HTTP_H
#define LINLI_HTTP_H

#include "base/arena.h"
#include "base/buf.h"
#include "base/status.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct http_server;
struct MHD_Connection;

#define HTTP_MAX_PARAMS  4
#define HTTP_MAX_HEADERS 8

struct http_request {
    struct http_server *server;
    struct MHD_Connection *conn;
    uint64_t id;
    char id_text[24];
    const char *method;
    const char *path; /* decoded path, without the query */
    char ip[64];
    int64_t start_us;
    struct arena arena; /* freed when the request completes */
    struct buf body;
    bool body_too_big;
    int route;                           /* index in the route table, -1 when none matched */
    const char *params[HTTP_MAX_PARAMS]; /* the {x} segments of the route */
    int nparams;
    int status; /* what was answered; 0 until then */
    /* Writes run on a worker thread while their connection is suspended; the
     * answer waits here until libmicrohttpd calls us back to send it. */
    bool offloaded;
    struct MHD_Response *pending;
    struct http_request *next_job;
    int nheaders;
    const char *headers[HTTP_MAX_HEADERS][2]; /* extra response headers */
    void *user;                               /* for the API layer: the authenticated principal */
};

typedef void (*http_handler)(struct http_request *req, void *ctx);

struct http_options {
    const char *listen; /* "HOST:PORT", "[v6]:PORT" */
    int threads;
    size_t max_body;
    int conn_per_ip;
    int max_connections;
    int idle_timeout_s;
    int stop_grace_s;       /* how long stop waits for requests in flight */
    const char *static_dir; /* "" = no static files */
    int log_requests;
    /* Threads that run writing requests (every method but GET and HEAD) while
     * their connections are suspended, so a write waiting for its commit
     * holds no event thread and many writes can share one commit.
     * 0 = run them on the event threads. */
    int write_threads;
};

/* Creates a server with no routes yet; nothing listens until http_start. */
struct http_server *http_new(const struct http_options *o);

/* Adds a route. `pattern` is a path whose segments are literal or "{name}"
 * (one segment). `method` is "GET", "POST", ... Returns the route index or a
 * negative status. Routes are tried in the order they were added. */
int http_route(struct http_server *s, const char *method, const char *pattern, http_handler fn,
               void *ctx);

/* Gives route `route` (an index from http_route) its own body limit, for
 * uploads larger than the server's max_body (photos). */
int http_route_body_limit(struct http_server *s, int route, size_t max_body);

int http_start(struct http_server *s, struct linli_err *err);
uint16_t http_port(struct http_server *s);

/* Stops accepting, resumes every suspended stream (their readers see
 * http_stopping() and end), waits up to stop_grace_s for requests in flight,
 * then closes everything. Safe on a server that never started. */
void http_stop(struct http_server *s);
void http_free(struct http_server *s);
bool http_stopping(struct http_server *s);

/* ---- request helpers ---- */
const char *http_query(struct http_request *req, const char *name);
const char *http_header(struct http_request *req, const char *name);
/* Refuses query parameters not in `allowed` (NULL-terminated) with field errors. */
int http_query_check(struct http_request *req, const char *const *allowed, struct linli_err *err);
/* Adds a response header (both strings must outlive the request: literals or arena). */
void http_add_header(struct http_request *req, const char *name, const char *value);

/* ---- answers ---- */
void http_respond(struct http_request *req, int status, const char *content_type, const void *body,
                  size_t len);
/* Takes ownership of `body` (malloc'd). */
void http_respond_owned(struct http_request *req, int status, const char *content_type, char *body,
                        size_t len);
/* Encodes and takes the reference to `v`. */
void http_respond_json(struct http_request *req, int status, json_t *v);
/* RFC 9457 problem+json from a status and the error record. */
void http_respond_problem(struct http_request *req, int http_status, const struct linli_err *err);
/* Maps a Linli status to its HTTP status and answers with the problem. */
void http_respond_error(struct http_request *req, const struct linli_err *err);
int http_status_for(int linli_status);

/* Serves a file from the static directory (GET/HEAD); 404 when absent,
 * 400 for paths that try to leave the directory. */
void http_respond_static(struct http_request *req);

/* ---- streams (server-sent events) ----
 * A stream is answered with status 200 and `content_type`; the server then
 * calls `read` whenever it can send. `read` copies up to `max` bytes into
 * `out` and returns how many; returns 0 after calling http_stream_suspend()
 * when it has nothing yet; returns -1 to end the stream. `done` runs once
 * when the connection is finished, from any cause. */
struct http_stream;
typedef ssize_t (*http_stream_read)(void *ctx, char *out, size_t max);
typedef void (*http_stream_done)(void *ctx);
struct http_stream *http_respond_stream(struct http_request *req, const char *content_type,
                                        http_stream_read read, http_stream_done done, void *ctx);
/* Called from inside `read` only. */
void http_stream_suspend(struct http_stream *st);
/* Wakes a suspended stream so `read` is called again. Any thread. */
void http_stream_resume(struct http_stream *st);

/* Writes "METHOD PATTERN" per line for every route, in order. */
void http_print_routes(struct http_server *s, FILE *out);

/* ---- metrics ---- */
void http_metrics_render(struct http_server *s, struct buf *out);
/* Number of requests being handled now. */
int http_inflight(struct http_server *s);

#endif
