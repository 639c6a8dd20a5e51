/* hello.c - the baseline for bench/run.sh: a bare libmicrohttpd server set up
 * the way linlid sets up its own (internal polling thread, epoll, a thread
 * pool, suspend/resume allowed, the answer queued on the final call of the
 * access handler, per-request state freed in the completion callback), which
 * answers every request with a fixed JSON body about the size of linlid's
 * GET /api/v1/me answer. What linlid does beyond this is what it costs.
 *
 *   bench_hello PORT [THREADS]     listens on 127.0.0.1:PORT; SIGTERM stops it */
#include <microhttpd.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Same fields and about the same length as /api/v1/me's answer. */
static const char body[] =
    "{\"id\":1,\"username\":\"admin\",\"display_name\":\"Administrator\",\"role\":\"admin\","
    "\"scope\":null,\"disabled\":false,\"has_password\":true,"
    "\"created_at\":\"2026-01-01T00:00:00.000Z\",\"updated_at\":\"2026-01-01T00:00:00.000Z\"}";

struct req {
    unsigned long long id;
    char id_text[24];
};

static unsigned long long next_id = 1;

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **con_cls)
{
    (void)cls;
    (void)url;
    (void)method;
    (void)version;
    (void)upload_data;
    struct req *r = *con_cls;
    if (!r) { /* first call: headers only */
        r = calloc(1, sizeof *r);
        if (!r)
            return MHD_NO;
        r->id = __atomic_fetch_add(&next_id, 1, __ATOMIC_RELAXED);
        snprintf(r->id_text, sizeof r->id_text, "%llu", r->id);
        *con_cls = r;
        return MHD_YES;
    }
    if (*upload_size) { /* body pieces: dropped */
        *upload_size = 0;
        return MHD_YES;
    }
    /* final call: answer */
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(sizeof body - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(resp, "X-Request-Id", r->id_text);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    enum MHD_Result rc = MHD_queue_response(conn, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return rc;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    free(*con_cls);
    *con_cls = NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s PORT [THREADS]\n", argv[0]);
        return 2;
    }
    long port = strtol(argv[1], NULL, 10);
    long threads = argc > 2 ? strtol(argv[2], NULL, 10) : 4;
    if (port < 1 || port > 65535 || threads < 1 || threads > 256) {
        fprintf(stderr, "%s: bad port or thread count\n", argv[0]);
        return 2;
    }
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL); /* before MHD starts its threads */
    signal(SIGPIPE, SIG_IGN);

    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG;
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)threads, MHD_OPTION_CONNECTION_TIMEOUT, 30u,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, 100000u, MHD_OPTION_CONNECTION_LIMIT, 100000u,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u,
        MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "%s: cannot listen on 127.0.0.1:%ld\n", argv[0], port);
        return 1;
    }
    fprintf(stderr, "bench_hello listening on http://127.0.0.1:%ld (%ld threads)\n", port, threads);
    int sig = 0;
    sigwait(&sigs, &sig);
    MHD_stop_daemon(d);
    return 0;
}
