/* http_stream.c - streamed (suspended) responses, such as server-sent
 * events: a reader the server calls whenever it can send, suspension while
 * the reader has nothing, wake-ups from any thread, and the server's list of
 * open streams that http_stop() wakes to end them. */
#include "net/http_internal.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

struct http_stream {
    struct http_server *server;
    struct MHD_Connection *conn;
    http_stream_read read;
    http_stream_done done;
    void *ctx;
    pthread_mutex_t lock;
    int suspended;
    int wake_pending;
    struct http_stream *prev, *next; /* in server->streams */
};

static ssize_t stream_reader(void *cls, uint64_t pos, char *out, size_t max)
{
    (void)pos;
    struct http_stream *st = cls;
    if (atomic_load(&st->server->stopping))
        return MHD_CONTENT_READER_END_OF_STREAM;
    ssize_t n = st->read(st->ctx, out, max);
    if (n < 0)
        return MHD_CONTENT_READER_END_OF_STREAM;
    return n;
}

static void stream_free(void *cls)
{
    struct http_stream *st = cls;
    struct http_server *s = st->server;
    if (st->done)
        st->done(st->ctx);
    pthread_mutex_lock(&s->streams_lock);
    if (st->prev)
        st->prev->next = st->next;
    else
        s->streams = st->next;
    if (st->next)
        st->next->prev = st->prev;
    s->nstreams--;
    pthread_cond_broadcast(&s->streams_cond);
    pthread_mutex_unlock(&s->streams_lock);
    pthread_mutex_destroy(&st->lock);
    free(st);
}

struct http_stream *http_respond_stream(struct http_request *req, const char *content_type,
                                        http_stream_read read, http_stream_done done, void *ctx)
{
    struct http_server *s = req->server;
    struct http_stream *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    st->server = s;
    st->conn = req->conn;
    st->read = read;
    st->done = done;
    st->ctx = ctx;
    pthread_mutex_init(&st->lock, NULL);
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_reader, st, stream_free);
    if (!resp) {
        pthread_mutex_destroy(&st->lock);
        free(st);
        return NULL;
    }
    pthread_mutex_lock(&s->streams_lock);
    st->next = s->streams;
    if (s->streams)
        s->streams->prev = st;
    s->streams = st;
    s->nstreams++;
    pthread_mutex_unlock(&s->streams_lock);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    http__queue(req, 200, resp);
    return st;
}

void http_stream_suspend(struct http_stream *st)
{
    pthread_mutex_lock(&st->lock);
    if (st->wake_pending) {
        st->wake_pending = 0; /* woken before we slept: read again at once */
    } else if (!st->suspended && !atomic_load(&st->server->stopping)) {
        st->suspended = 1;
        MHD_suspend_connection(st->conn);
    }
    pthread_mutex_unlock(&st->lock);
}

void http_stream_resume(struct http_stream *st)
{
    pthread_mutex_lock(&st->lock);
    if (st->suspended) {
        st->suspended = 0;
        MHD_resume_connection(st->conn);
    } else {
        st->wake_pending = 1;
    }
    pthread_mutex_unlock(&st->lock);
}

void http__streams_wake(struct http_server *s)
{
    for (struct http_stream *st = s->streams; st; st = st->next)
        http_stream_resume(st);
}
