/* http_workers.c - the write threads: a writing request's connection is
 * suspended, the request runs here (where it may wait for its commit without
 * holding an event thread), its answer is kept on the request, and the
 * connection is resumed so an event thread sends it. */
#include "net/http_internal.h"

#include "base/status.h"

#include <microhttpd.h>
#include <stdlib.h>

static void *worker_main(void *arg)
{
    struct http_server *s = arg;
    pthread_mutex_lock(&s->jobs_lock);
    for (;;) {
        while (!s->jobs_head && !s->workers_stop)
            pthread_cond_wait(&s->jobs_cond, &s->jobs_lock);
        if (!s->jobs_head)
            break;
        struct http_request *req = s->jobs_head;
        s->jobs_head = req->next_job;
        if (!s->jobs_head)
            s->jobs_tail = NULL;
        pthread_mutex_unlock(&s->jobs_lock);
        http__dispatch(req);
        MHD_resume_connection(req->conn); /* libmicrohttpd calls on_request to send it */
        pthread_mutex_lock(&s->jobs_lock);
    }
    pthread_mutex_unlock(&s->jobs_lock);
    return NULL;
}

/* Suspends the request's connection and queues the request for a worker. */
void http__offload(struct http_server *s, struct http_request *req)
{
    req->offloaded = true;
    MHD_suspend_connection(req->conn);
    pthread_mutex_lock(&s->jobs_lock);
    req->next_job = NULL;
    if (s->jobs_tail)
        s->jobs_tail->next_job = req;
    else
        s->jobs_head = req;
    s->jobs_tail = req;
    pthread_cond_signal(&s->jobs_cond);
    pthread_mutex_unlock(&s->jobs_lock);
}

void http__workers_stop(struct http_server *s)
{
    if (!s->workers)
        return;
    pthread_mutex_lock(&s->jobs_lock);
    s->workers_stop = true;
    pthread_cond_broadcast(&s->jobs_cond);
    pthread_mutex_unlock(&s->jobs_lock);
    for (int i = 0; i < s->nworkers; i++)
        pthread_join(s->workers[i], NULL);
    free(s->workers);
    s->workers = NULL;
    s->nworkers = 0;
}

int http__workers_start(struct http_server *s, struct linli_err *err)
{
    if (s->opt.write_threads <= 0 || s->workers)
        return LINLI_OK;
    s->workers = calloc((size_t)s->opt.write_threads, sizeof *s->workers);
    if (!s->workers)
        return linli_fail(err, LINLI_ENOMEM, "out of memory");
    for (int k = 0; k < s->opt.write_threads; k++) {
        if (pthread_create(&s->workers[k], NULL, worker_main, s) != 0) {
            http__workers_stop(s);
            return linli_fail(err, LINLI_EIO, "cannot start the write threads");
        }
        s->nworkers++;
    }
    return LINLI_OK;
}
