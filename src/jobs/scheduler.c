/* scheduler.c - timers in a small array scanned for the earliest; the
 * thread sleeps on a condition variable until that one is due or the set
 * changes. Periodic timers are re-armed from their due time, not from when
 * they finished, so they do not drift. */
#include "jobs/scheduler.h"

#include "base/clock.h"
#include "base/log.h"
#include "base/status.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#define SCHED_MAX 256

struct timer {
    int id;
    int64_t due_us;    /* monotonic */
    int64_t period_us; /* 0 = one-shot */
    sched_fn fn;
    void *arg;
    const char *name;
};

struct sched {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond; /* CLOCK_MONOTONIC */
    pthread_cond_t idle; /* signalled when a run ends */
    struct timer timers[SCHED_MAX];
    int n;
    int next_id;
    int running_id; /* timer being run now, 0 when none */
    int stopping;
};

static int earliest(const struct sched *s)
{
    int best = -1;
    for (int i = 0; i < s->n; i++)
        if (best < 0 || s->timers[i].due_us < s->timers[best].due_us)
            best = i;
    return best;
}

static void *sched_main(void *arg)
{
    struct sched *s = arg;
    pthread_mutex_lock(&s->lock);
    while (!s->stopping) {
        int i = earliest(s);
        if (i < 0) {
            pthread_cond_wait(&s->cond, &s->lock);
            continue;
        }
        int64_t now = clock_mono_us();
        if (s->timers[i].due_us > now) {
            int64_t due = s->timers[i].due_us;
            struct timespec ts = {(time_t)(due / 1000000), (long)(due % 1000000) * 1000};
            pthread_cond_timedwait(&s->cond, &s->lock, &ts);
            continue;
        }
        struct timer t = s->timers[i];
        if (t.period_us > 0) {
            s->timers[i].due_us += t.period_us;
            if (s->timers[i].due_us < now) /* fell behind: skip missed runs */
                s->timers[i].due_us = now + t.period_us;
        } else {
            s->timers[i] = s->timers[--s->n];
        }
        s->running_id = t.id;
        pthread_mutex_unlock(&s->lock);
        t.fn(t.arg);
        pthread_mutex_lock(&s->lock);
        s->running_id = 0;
        pthread_cond_broadcast(&s->idle);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

struct sched *sched_start(void)
{
    struct sched *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cond, &ca);
    pthread_condattr_destroy(&ca);
    pthread_cond_init(&s->idle, NULL);
    pthread_mutex_init(&s->lock, NULL);
    s->next_id = 1;
    if (pthread_create(&s->thread, NULL, sched_main, s) != 0) {
        pthread_cond_destroy(&s->cond);
        pthread_cond_destroy(&s->idle);
        pthread_mutex_destroy(&s->lock);
        free(s);
        return NULL;
    }
    return s;
}

static int add(struct sched *s, int64_t delay_ms, int64_t period_ms, sched_fn fn, void *arg,
               const char *name)
{
    if (delay_ms < 0 || period_ms < 0)
        return LINLI_EINVAL;
    pthread_mutex_lock(&s->lock);
    if (s->n == SCHED_MAX) {
        pthread_mutex_unlock(&s->lock);
        log_error("scheduler: too many timers, refusing %s", name);
        return LINLI_EBUSY;
    }
    struct timer *t = &s->timers[s->n++];
    t->id = s->next_id++;
    t->due_us = clock_mono_us() + delay_ms * 1000;
    t->period_us = period_ms * 1000;
    t->fn = fn;
    t->arg = arg;
    t->name = name;
    int id = t->id;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
    return id;
}

int sched_every(struct sched *s, int64_t period_ms, sched_fn fn, void *arg, const char *name)
{
    if (period_ms <= 0)
        return LINLI_EINVAL;
    return add(s, period_ms, period_ms, fn, arg, name);
}

int sched_after(struct sched *s, int64_t delay_ms, sched_fn fn, void *arg, const char *name)
{
    return add(s, delay_ms, 0, fn, arg, name);
}

void sched_cancel(struct sched *s, int id)
{
    pthread_mutex_lock(&s->lock);
    for (int i = 0; i < s->n; i++) {
        if (s->timers[i].id == id) {
            s->timers[i] = s->timers[--s->n];
            break;
        }
    }
    while (s->running_id == id && !pthread_equal(pthread_self(), s->thread))
        pthread_cond_wait(&s->idle, &s->lock);
    pthread_mutex_unlock(&s->lock);
}

int sched_pending(struct sched *s)
{
    pthread_mutex_lock(&s->lock);
    int n = s->n;
    pthread_mutex_unlock(&s->lock);
    return n;
}

void sched_stop(struct sched *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    s->stopping = 1;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);
    pthread_cond_destroy(&s->cond);
    pthread_cond_destroy(&s->idle);
    pthread_mutex_destroy(&s->lock);
    free(s);
}
