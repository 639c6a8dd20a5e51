/* sse.c - the event-stream hub. Locks: the hub lock guards the subscriber
 * list; each subscriber's lock guards its queue. The hub lock is taken
 * before a subscriber's, never the other way round. */
#include "net/sse.h"

#include "base/buf.h"
#include "base/log.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct sse_client {
    struct sse_hub *hub;
    struct http_stream *stream;
    pthread_mutex_t lock;
    struct buf queue; /* bytes not yet sent */
    size_t sent;      /* of queue, already handed to the connection */
    bool dead;        /* overflowed: end the stream */
    struct sse_client *prev, *next;
    unsigned char who[]; /* hub->who_size bytes */
};

struct sse_hub {
    pthread_mutex_t lock;
    struct sse_client *clients;
    int count, max;
    size_t queue_max;
    sse_filter filter;
    size_t who_size;
    sse_closed on_close; /* may be NULL */
    void *on_close_ctx;
};

struct sse_hub *sse_hub_new(int max_subscribers, size_t queue_max, sse_filter filter,
                            size_t who_size)
{
    struct sse_hub *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    pthread_mutex_init(&h->lock, NULL);
    h->max = max_subscribers;
    h->queue_max = queue_max;
    h->filter = filter;
    h->who_size = who_size;
    return h;
}

void sse_hub_free(struct sse_hub *h)
{
    if (!h)
        return;
    if (h->count)
        log_warn("sse: freeing the hub with %d subscribers still open", h->count);
    pthread_mutex_destroy(&h->lock);
    free(h);
}

static ssize_t client_read(void *ctx, char *out, size_t max)
{
    struct sse_client *c = ctx;
    pthread_mutex_lock(&c->lock);
    if (c->dead) {
        pthread_mutex_unlock(&c->lock);
        return -1;
    }
    size_t avail = c->queue.len - c->sent;
    if (avail == 0) {
        buf_reset(&c->queue);
        c->sent = 0;
        http_stream_suspend(c->stream);
        pthread_mutex_unlock(&c->lock);
        return 0;
    }
    size_t n = avail < max ? avail : max;
    memcpy(out, c->queue.data + c->sent, n);
    c->sent += n;
    pthread_mutex_unlock(&c->lock);
    return (ssize_t)n;
}

static void client_done(void *ctx)
{
    struct sse_client *c = ctx;
    struct sse_hub *h = c->hub;
    pthread_mutex_lock(&h->lock);
    if (c->prev)
        c->prev->next = c->next;
    else
        h->clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    h->count--;
    pthread_mutex_unlock(&h->lock);
    if (h->on_close)
        h->on_close(c->who, h->on_close_ctx);
    buf_free(&c->queue);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

void sse_hub_on_close(struct sse_hub *h, sse_closed fn, void *ctx)
{
    h->on_close = fn;
    h->on_close_ctx = ctx;
}

int sse_open(struct sse_hub *h, struct http_request *req, const void *who, struct linli_err *err)
{
    struct sse_client *c = calloc(1, sizeof *c + h->who_size);
    if (!c)
        return linli_fail(err, LINLI_ENOMEM, "out of memory");
    c->hub = h;
    memcpy(c->who, who, h->who_size);
    pthread_mutex_init(&c->lock, NULL);
    buf_init(&c->queue, h->queue_max);
    /* The first bytes tell the client the stream is open and how long to
     * wait before reconnecting. */
    buf_appends(&c->queue, ": linli event stream\nretry: 3000\n\n");

    pthread_mutex_lock(&h->lock);
    if (h->count >= h->max) {
        pthread_mutex_unlock(&h->lock);
        buf_free(&c->queue);
        pthread_mutex_destroy(&c->lock);
        free(c);
        err->retry_after = 5;
        return linli_fail(err, LINLI_EBUSY,
                          "Too many live event streams are open; try again later.");
    }
    h->count++; /* the place is ours; the client joins the list below */
    pthread_mutex_unlock(&h->lock);

    /* Made without holding any of our locks: libmicrohttpd takes its own
     * while queueing, and takes them again around client_read. The stream
     * is read only after this request's handler returns, and broadcasts
     * find the client only once it is in the list, with its stream. */
    http_add_header(req, "X-Accel-Buffering", "no");
    c->stream =
        http_respond_stream(req, "text/event-stream; charset=utf-8", client_read, client_done, c);
    if (!c->stream) {
        pthread_mutex_lock(&h->lock);
        h->count--;
        pthread_mutex_unlock(&h->lock);
        buf_free(&c->queue);
        pthread_mutex_destroy(&c->lock);
        free(c);
        return linli_fail(err, LINLI_ENOMEM, "cannot open the event stream");
    }
    pthread_mutex_lock(&h->lock);
    c->next = h->clients;
    if (h->clients)
        h->clients->prev = c;
    h->clients = c;
    pthread_mutex_unlock(&h->lock);
    return LINLI_OK;
}

/* Appends `text` to one client's queue and wakes its stream. Hub lock held. */
static void client_push(struct sse_client *c, const char *text, size_t len)
{
    pthread_mutex_lock(&c->lock);
    if (!c->dead && c->stream) {
        if (buf_append(&c->queue, text, len) != LINLI_OK) {
            c->dead = true; /* too far behind: drop it; the client reconnects */
            log_warn("sse: dropping a subscriber whose queue is full");
        }
        http_stream_resume(c->stream);
    }
    pthread_mutex_unlock(&c->lock);
}

void sse_broadcast(struct sse_hub *h, const char *topic, json_t *payload)
{
    char *data = json_dumps(payload, JSON_COMPACT);
    if (!data)
        return;
    struct buf ev;
    buf_init(&ev, 1 << 20);
    buf_printf(&ev, "event: %s\ndata: %s\n\n", topic, data);
    free(data);
    pthread_mutex_lock(&h->lock);
    for (struct sse_client *c = h->clients; c; c = c->next)
        if (!h->filter || h->filter(c->who, topic, payload))
            client_push(c, ev.data, ev.len);
    pthread_mutex_unlock(&h->lock);
    buf_free(&ev);
}

void sse_heartbeat(struct sse_hub *h)
{
    static const char ping[] = ": ping\n\n";
    pthread_mutex_lock(&h->lock);
    for (struct sse_client *c = h->clients; c; c = c->next)
        client_push(c, ping, sizeof ping - 1);
    pthread_mutex_unlock(&h->lock);
}

int sse_close_where(struct sse_hub *h, sse_match match, void *ctx)
{
    int n = 0;
    pthread_mutex_lock(&h->lock);
    for (struct sse_client *c = h->clients; c; c = c->next) {
        if (!match(c->who, ctx))
            continue;
        pthread_mutex_lock(&c->lock);
        if (!c->dead && c->stream) {
            c->dead = true;
            http_stream_resume(c->stream);
            n++;
        }
        pthread_mutex_unlock(&c->lock);
    }
    pthread_mutex_unlock(&h->lock);
    return n;
}

int sse_count(struct sse_hub *h)
{
    pthread_mutex_lock(&h->lock);
    int n = h->count;
    pthread_mutex_unlock(&h->lock);
    return n;
}
