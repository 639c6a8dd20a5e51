/* http_internal.h - what the files of the HTTP server share: the server's
 * fields, the route table they hold and the one way an answer is queued.
 * Internal to src/net: http.c (the server and the request cycle),
 * http_static.c (static files) and http_stream.c (streams) include it;
 * nothing else does. */
#ifndef LINLI_HTTP_INTERNAL_H
#define LINLI_HTTP_INTERNAL_H

#include "net/http.h"

#include "base/metrics.h"

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

struct MHD_Daemon;
struct MHD_Response;

#define HTTP_MAX_ROUTES 256
#define HTTP_MAX_SEGS   12
/* The statuses a route counts separately, and one slot for "other": the
 * length of counted_status in http.c, which checks it. */
#define HTTP_NSTATUS 17

struct route {
    const char *method;
    char pattern[128];
    char *segs[HTTP_MAX_SEGS];
    int nsegs;
    char storage[128];
    http_handler fn;
    void *ctx;
    size_t max_body; /* 0 = the server's --max-body */
    atomic_uint_fast64_t count[HTTP_NSTATUS];
    struct hist seconds;
};

struct http_server {
    struct http_options opt;
    char listen[128];
    char static_dir[PATH_MAX];
    struct MHD_Daemon *daemon;
    uint16_t port;
    struct route routes[HTTP_MAX_ROUTES + 1]; /* last: unmatched requests */
    int nroutes;
    atomic_uint_fast64_t next_id;
    atomic_int inflight;
    atomic_bool stopping;
    pthread_mutex_t streams_lock;
    pthread_cond_t streams_cond;
    struct http_stream *streams;
    int nstreams;
    /* The write workers and their queue of suspended requests. */
    pthread_t *workers;
    int nworkers;
    pthread_mutex_t jobs_lock;
    pthread_cond_t jobs_cond;
    struct http_request *jobs_head, *jobs_tail;
    bool workers_stop;
};

/* Adds the common headers to `resp`, records `status` on the request and
 * queues the answer; the request no longer needs `resp` afterwards (it is
 * destroyed here). A NULL `resp` (out of memory) is logged and nothing is
 * queued. Defined in http.c. */
void http__queue(struct http_request *req, int status, struct MHD_Response *resp);

/* The statuses counted separately, in the order of struct route's counters;
 * the last is 0, counting every other status. Defined in http.c. */
extern const int http__counted_status[HTTP_NSTATUS];

/* Routes the request and runs its handler (which answers). Defined in http.c. */
void http__dispatch(struct http_request *req);

/* Write threads (http_workers.c): start them as configured (0 or a status),
 * hand them a request whose connection this suspends, stop them after the
 * daemon has stopped. */
int http__workers_start(struct http_server *s, struct linli_err *err);
void http__offload(struct http_server *s, struct http_request *req);
void http__workers_stop(struct http_server *s);

/* Wakes every open stream so its reader runs again (and, once the server is
 * stopping, ends). The caller holds s->streams_lock. Defined in
 * http_stream.c. */
void http__streams_wake(struct http_server *s);

#endif
