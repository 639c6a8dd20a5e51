/* bus.c - subscribers in an array under a read-write lock: publishing
 * takes the read side, so publishers on different threads run at once;
 * unsubscribe takes the write side, which waits for running handlers. */
#include "base/bus.h"

#include "base/status.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define BUS_MAX_SUBS 256

struct bus_sub {
    int id;
    char prefix[64];
    bus_handler fn;
    void *ctx;
};

struct bus {
    pthread_rwlock_t lock;
    struct bus_sub subs[BUS_MAX_SUBS];
    int nsubs;
    int next_id;
};

struct bus *bus_new(void)
{
    struct bus *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    pthread_rwlock_init(&b->lock, NULL);
    b->next_id = 1;
    return b;
}

void bus_free(struct bus *b)
{
    if (!b)
        return;
    pthread_rwlock_destroy(&b->lock);
    free(b);
}

int bus_subscribe(struct bus *b, const char *prefix, bus_handler fn, void *ctx)
{
    if (strlen(prefix) >= sizeof b->subs[0].prefix)
        return LINLI_EINVAL;
    pthread_rwlock_wrlock(&b->lock);
    if (b->nsubs == BUS_MAX_SUBS) {
        pthread_rwlock_unlock(&b->lock);
        return LINLI_EBUSY;
    }
    struct bus_sub *s = &b->subs[b->nsubs++];
    s->id = b->next_id++;
    strcpy(s->prefix, prefix);
    s->fn = fn;
    s->ctx = ctx;
    int id = s->id;
    pthread_rwlock_unlock(&b->lock);
    return id;
}

void bus_unsubscribe(struct bus *b, int id)
{
    pthread_rwlock_wrlock(&b->lock);
    for (int i = 0; i < b->nsubs; i++) {
        if (b->subs[i].id == id) {
            b->subs[i] = b->subs[--b->nsubs];
            break;
        }
    }
    pthread_rwlock_unlock(&b->lock);
}

int bus_publish(struct bus *b, const char *topic, json_t *payload)
{
    int called = 0;
    pthread_rwlock_rdlock(&b->lock);
    for (int i = 0; i < b->nsubs; i++) {
        const struct bus_sub *s = &b->subs[i];
        if (strncmp(topic, s->prefix, strlen(s->prefix)) == 0) {
            s->fn(topic, payload, s->ctx);
            called++;
        }
    }
    pthread_rwlock_unlock(&b->lock);
    return called;
}
