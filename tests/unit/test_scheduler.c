/* test_scheduler.c - one-shot and periodic timers (src/jobs/scheduler.c).
 * Tests wait for events with a generous bound but never assert how long
 * anything took. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/status.h"
#include "jobs/scheduler.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

#define WAIT_BOUND_S 20 /* how long to wait for something that should happen soon */

/* Counts calls of a timer and lets the test wait for a number of them. */
struct tally {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int calls;
    struct sched *sched; /* for a callback that cancels itself */
    int self_id;
    int cancel_at;
    char order[16];
    int norder;
};

static void tally_init(struct tally *t)
{
    memset(t, 0, sizeof *t);
    pthread_mutex_init(&t->lock, NULL);
    pthread_cond_init(&t->cond, NULL);
}

static void tally_destroy(struct tally *t)
{
    pthread_mutex_destroy(&t->lock);
    pthread_cond_destroy(&t->cond);
}

static int tally_calls(struct tally *t)
{
    pthread_mutex_lock(&t->lock);
    int n = t->calls;
    pthread_mutex_unlock(&t->lock);
    return n;
}

/* Waits until at least `n` calls happened or the bound passed; returns the count. */
static int tally_wait(struct tally *t, int n)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += WAIT_BOUND_S;
    pthread_mutex_lock(&t->lock);
    while (t->calls < n)
        if (pthread_cond_timedwait(&t->cond, &t->lock, &until) != 0)
            break;
    int got = t->calls;
    pthread_mutex_unlock(&t->lock);
    return got;
}

static void bump(void *arg)
{
    struct tally *t = arg;
    pthread_mutex_lock(&t->lock);
    t->calls++;
    pthread_cond_broadcast(&t->cond);
    pthread_mutex_unlock(&t->lock);
}

static void bump_then_cancel_self(void *arg)
{
    struct tally *t = arg;
    pthread_mutex_lock(&t->lock);
    int n = ++t->calls;
    pthread_mutex_unlock(&t->lock);
    if (n == t->cancel_at)
        sched_cancel(t->sched, t->self_id);
    pthread_mutex_lock(&t->lock);
    pthread_cond_broadcast(&t->cond);
    pthread_mutex_unlock(&t->lock);
}

struct mark {
    struct tally *t;
    char letter;
};

static void note_order(void *arg)
{
    struct mark *m = arg;
    pthread_mutex_lock(&m->t->lock);
    m->t->order[m->t->norder++] = m->letter;
    m->t->calls++;
    pthread_cond_broadcast(&m->t->cond);
    pthread_mutex_unlock(&m->t->lock);
}

static int setup(void **state)
{
    *state = sched_start();
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    sched_stop(*state);
    return 0;
}

static void sched_after_runs_once(void **state)
{
    struct sched *s = *state;
    struct tally t, sentinel;
    tally_init(&t);
    tally_init(&sentinel);
    int id = sched_after(s, 5, bump, &t, "once");
    assert_true(id > 0);
    assert_int_equal(tally_wait(&t, 1), 1);
    /* a one-shot timer is gone once it has run */
    assert_int_equal(sched_pending(s), 0);
    /* let a later timer run; the first one must not have run again by then */
    sched_after(s, 50, bump, &sentinel, "sentinel");
    assert_int_equal(tally_wait(&sentinel, 1), 1);
    assert_int_equal(tally_calls(&t), 1);
    tally_destroy(&t);
    tally_destroy(&sentinel);
}

static void sched_after_with_zero_delay_runs(void **state)
{
    struct sched *s = *state;
    struct tally t;
    tally_init(&t);
    assert_true(sched_after(s, 0, bump, &t, "now") > 0);
    assert_int_equal(tally_wait(&t, 1), 1);
    tally_destroy(&t);
}

static void sched_ids_are_distinct_and_positive(void **state)
{
    struct sched *s = *state;
    struct tally t;
    tally_init(&t);
    int a = sched_after(s, 3600000, bump, &t, "a");
    int b = sched_every(s, 3600000, bump, &t, "b");
    assert_true(a > 0);
    assert_true(b > 0);
    assert_int_not_equal(a, b);
    assert_int_equal(sched_pending(s), 2);
    sched_cancel(s, a);
    sched_cancel(s, b);
    assert_int_equal(sched_pending(s), 0);
    tally_destroy(&t);
}

static void sched_every_runs_repeatedly(void **state)
{
    struct sched *s = *state;
    struct tally t;
    tally_init(&t);
    int id = sched_every(s, 5, bump, &t, "tick");
    assert_true(id > 0);
    assert_true(tally_wait(&t, 5) >= 5);
    assert_int_equal(sched_pending(s), 1); /* still armed */
    sched_cancel(s, id);
    tally_destroy(&t);
}

static void sched_cancel_stops_a_periodic_timer(void **state)
{
    struct sched *s = *state;
    struct tally t, sentinel;
    tally_init(&t);
    tally_init(&sentinel);
    int id = sched_every(s, 2, bump, &t, "tick");
    assert_true(tally_wait(&t, 3) >= 3);
    sched_cancel(s, id);
    int after_cancel = tally_calls(&t);
    assert_int_equal(sched_pending(s), 0);
    /* wait several periods' worth, marked by another timer */
    sched_after(s, 40, bump, &sentinel, "sentinel");
    assert_int_equal(tally_wait(&sentinel, 1), 1);
    assert_int_equal(tally_calls(&t), after_cancel);
    tally_destroy(&t);
    tally_destroy(&sentinel);
}

static void sched_cancel_before_due_means_it_never_runs(void **state)
{
    struct sched *s = *state;
    struct tally t, sentinel;
    tally_init(&t);
    tally_init(&sentinel);
    int id = sched_after(s, 30, bump, &t, "doomed");
    sched_cancel(s, id);
    assert_int_equal(sched_pending(s), 0);
    sched_after(s, 60, bump, &sentinel, "sentinel");
    assert_int_equal(tally_wait(&sentinel, 1), 1);
    assert_int_equal(tally_calls(&t), 0);
    tally_destroy(&t);
    tally_destroy(&sentinel);
}

static void sched_cancel_of_unknown_id_is_harmless(void **state)
{
    struct sched *s = *state;
    struct tally t;
    tally_init(&t);
    int id = sched_after(s, 3600000, bump, &t, "later");
    sched_cancel(s, id + 100);
    sched_cancel(s, -1);
    assert_int_equal(sched_pending(s), 1);
    tally_destroy(&t);
}

static void sched_timer_may_cancel_itself_from_its_callback(void **state)
{
    struct sched *s = *state;
    struct tally t, sentinel;
    tally_init(&t);
    tally_init(&sentinel);
    t.sched = s;
    t.cancel_at = 3;
    pthread_mutex_lock(&t.lock); /* the callback reads self_id after the first run */
    t.self_id = sched_every(s, 2, bump_then_cancel_self, &t, "self");
    pthread_mutex_unlock(&t.lock);
    assert_true(t.self_id > 0);
    assert_int_equal(tally_wait(&t, 3), 3);
    sched_after(s, 40, bump, &sentinel, "sentinel");
    assert_int_equal(tally_wait(&sentinel, 1), 1);
    assert_int_equal(tally_calls(&t), 3);
    assert_int_equal(sched_pending(s), 0);
    tally_destroy(&t);
    tally_destroy(&sentinel);
}

static void sched_runs_timers_in_order_of_due_time(void **state)
{
    struct sched *s = *state;
    struct tally t;
    tally_init(&t);
    struct mark late = {&t, 'c'}, middle = {&t, 'b'}, early = {&t, 'a'};
    sched_after(s, 600, note_order, &late, "late");
    sched_after(s, 300, note_order, &middle, "middle");
    sched_after(s, 0, note_order, &early, "early");
    assert_int_equal(tally_wait(&t, 3), 3);
    assert_memory_equal(t.order, "abc", 3);
    tally_destroy(&t);
}

static void sched_refuses_negative_delay_and_non_positive_period(void **state)
{
    struct sched *s = *state;
    struct tally t;
    tally_init(&t);
    assert_int_equal(sched_after(s, -1, bump, &t, "bad"), LINLI_EINVAL);
    assert_int_equal(sched_every(s, 0, bump, &t, "bad"), LINLI_EINVAL);
    assert_int_equal(sched_every(s, -5, bump, &t, "bad"), LINLI_EINVAL);
    assert_int_equal(sched_pending(s), 0);
    tally_destroy(&t);
}

static void sched_refuses_timers_past_capacity(void **state)
{
    struct sched *s = *state;
    struct tally t;
    tally_init(&t);
    int n = 0, rc = 0;
    for (int i = 0; i < 1000; i++) {
        rc = sched_after(s, 3600000, bump, &t, "many");
        if (rc < 0)
            break;
        n++;
    }
    assert_int_equal(rc, LINLI_EBUSY);
    assert_int_equal(sched_pending(s), n);
    tally_destroy(&t);
}

static void sched_stop_with_pending_timers_is_clean(void **state)
{
    (void)state;
    struct sched *s = sched_start();
    assert_non_null(s);
    struct tally t;
    tally_init(&t);
    for (int i = 0; i < 10; i++)
        assert_true(sched_after(s, 3600000 + i, bump, &t, "pending") > 0);
    assert_true(sched_every(s, 3600000, bump, &t, "periodic") > 0);
    assert_int_equal(sched_pending(s), 11);
    sched_stop(s); /* returns; the dropped timers never run and nothing leaks */
    assert_int_equal(tally_calls(&t), 0);
    tally_destroy(&t);
}

static void sched_stop_while_a_periodic_timer_is_busy_is_clean(void **state)
{
    (void)state;
    struct sched *s = sched_start();
    assert_non_null(s);
    struct tally t;
    tally_init(&t);
    sched_every(s, 1, bump, &t, "busy");
    assert_true(tally_wait(&t, 2) >= 2);
    sched_stop(s);
    int at_stop = tally_calls(&t);
    assert_true(at_stop >= 2);
    tally_destroy(&t);
}

static void sched_stop_of_null_is_harmless(void **state)
{
    (void)state;
    sched_stop(NULL);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(sched_after_runs_once),
        T(sched_after_with_zero_delay_runs),
        T(sched_ids_are_distinct_and_positive),
        T(sched_every_runs_repeatedly),
        T(sched_cancel_stops_a_periodic_timer),
        T(sched_cancel_before_due_means_it_never_runs),
        T(sched_cancel_of_unknown_id_is_harmless),
        T(sched_timer_may_cancel_itself_from_its_callback),
        T(sched_runs_timers_in_order_of_due_time),
        T(sched_refuses_negative_delay_and_non_positive_period),
        T(sched_refuses_timers_past_capacity),
        cmocka_unit_test(sched_stop_with_pending_timers_is_clean),
        cmocka_unit_test(sched_stop_while_a_periodic_timer_is_busy_is_clean),
        cmocka_unit_test(sched_stop_of_null_is_harmless),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
