/* test_bus.c - the in-process event bus (src/base/bus.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/bus.h"
#include "base/status.h"

#include <pthread.h>
#include <stdio.h>
#include <stdatomic.h>
#include <string.h>

struct recorder {
    int calls;
    char last_topic[64];
    json_t *last_payload; /* a reference of our own */
};

static void record(const char *topic, json_t *payload, void *ctx)
{
    struct recorder *r = ctx;
    r->calls++;
    snprintf(r->last_topic, sizeof r->last_topic, "%s", topic);
    json_decref(r->last_payload);
    r->last_payload = json_incref(payload);
}

static void recorder_done(struct recorder *r)
{
    json_decref(r->last_payload);
    r->last_payload = NULL;
}

static int setup(void **state)
{
    *state = bus_new();
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    bus_free(*state);
    return 0;
}

static void bus_subscribe_returns_distinct_positive_ids(void **state)
{
    struct bus *bus = *state;
    struct recorder r = {0};
    int a = bus_subscribe(bus, "user.", record, &r);
    int b = bus_subscribe(bus, "user.", record, &r);
    assert_true(a > 0);
    assert_true(b > 0);
    assert_int_not_equal(a, b);
}

static void bus_delivers_topic_and_payload_to_a_matching_prefix(void **state)
{
    struct bus *bus = *state;
    struct recorder r = {0};
    bus_subscribe(bus, "user.", record, &r);
    json_t *p = json_pack("{s:i}", "id", 7);
    assert_int_equal(bus_publish(bus, "user.created", p), 1);
    assert_int_equal(r.calls, 1);
    assert_string_equal(r.last_topic, "user.created");
    assert_ptr_equal(r.last_payload, p);
    assert_int_equal(json_integer_value(json_object_get(r.last_payload, "id")), 7);
    json_decref(p);
    /* the subscriber's own reference keeps the payload alive */
    assert_int_equal(json_integer_value(json_object_get(r.last_payload, "id")), 7);
    recorder_done(&r);
}

static void bus_skips_subscribers_whose_prefix_does_not_match(void **state)
{
    struct bus *bus = *state;
    struct recorder users = {0}, cases = {0}, exact = {0};
    bus_subscribe(bus, "user.", record, &users);
    bus_subscribe(bus, "case.", record, &cases);
    bus_subscribe(bus, "user.updated", record, &exact);
    assert_int_equal(bus_publish(bus, "user.created", NULL), 1);
    assert_int_equal(bus_publish(bus, "user.updated", NULL), 2);
    assert_int_equal(bus_publish(bus, "users", NULL), 0); /* "user." is not a prefix of it */
    assert_int_equal(bus_publish(bus, "use", NULL), 0);   /* shorter than the prefix */
    assert_int_equal(bus_publish(bus, "case.closed", NULL), 1);
    assert_int_equal(users.calls, 2);
    assert_int_equal(exact.calls, 1);
    assert_int_equal(cases.calls, 1);
    assert_string_equal(cases.last_topic, "case.closed");
}

static void bus_empty_prefix_receives_every_topic(void **state)
{
    struct bus *bus = *state;
    struct recorder all = {0};
    bus_subscribe(bus, "", record, &all);
    assert_int_equal(bus_publish(bus, "a", NULL), 1);
    assert_int_equal(bus_publish(bus, "device.offline", NULL), 1);
    assert_int_equal(bus_publish(bus, "", NULL), 1);
    assert_int_equal(all.calls, 3);
}

static void bus_publish_counts_handlers_called(void **state)
{
    struct bus *bus = *state;
    assert_int_equal(bus_publish(bus, "user.created", NULL), 0);
    struct recorder r[5] = {{0}};
    for (int i = 0; i < 5; i++)
        bus_subscribe(bus, i < 3 ? "user" : "case", record, &r[i]);
    assert_int_equal(bus_publish(bus, "user.created", NULL), 3);
    assert_int_equal(bus_publish(bus, "case.created", NULL), 2);
    for (int i = 0; i < 5; i++)
        assert_int_equal(r[i].calls, 1);
}

static void bus_unsubscribe_stops_delivery(void **state)
{
    struct bus *bus = *state;
    struct recorder a = {0}, b = {0};
    int ida = bus_subscribe(bus, "user.", record, &a);
    bus_subscribe(bus, "user.", record, &b);
    assert_int_equal(bus_publish(bus, "user.created", NULL), 2);
    bus_unsubscribe(bus, ida);
    assert_int_equal(bus_publish(bus, "user.created", NULL), 1);
    assert_int_equal(a.calls, 1);
    assert_int_equal(b.calls, 2);
}

static void bus_unsubscribe_of_unknown_id_changes_nothing(void **state)
{
    struct bus *bus = *state;
    struct recorder a = {0};
    int id = bus_subscribe(bus, "x", record, &a);
    bus_unsubscribe(bus, id + 1000);
    bus_unsubscribe(bus, id);
    bus_unsubscribe(bus, id); /* twice */
    assert_int_equal(bus_publish(bus, "x", NULL), 0);
    assert_int_equal(a.calls, 0);
}

static void bus_unsubscribe_keeps_other_subscriptions_intact(void **state)
{
    struct bus *bus = *state;
    struct recorder r[4] = {{0}};
    int ids[4];
    const char *prefixes[4] = {"a", "b", "c", "d"};
    for (int i = 0; i < 4; i++)
        ids[i] = bus_subscribe(bus, prefixes[i], record, &r[i]);
    bus_unsubscribe(bus, ids[1]);
    assert_int_equal(bus_publish(bus, "a", NULL), 1);
    assert_int_equal(bus_publish(bus, "b", NULL), 0);
    assert_int_equal(bus_publish(bus, "c", NULL), 1);
    assert_int_equal(bus_publish(bus, "d", NULL), 1);
    assert_int_equal(r[0].calls, 1);
    assert_int_equal(r[1].calls, 0);
    assert_int_equal(r[2].calls, 1);
    assert_int_equal(r[3].calls, 1);
}

static void bus_refuses_a_prefix_too_long(void **state)
{
    struct bus *bus = *state;
    struct recorder r = {0};
    char prefix[200];
    memset(prefix, 'p', sizeof prefix - 1);
    prefix[sizeof prefix - 1] = '\0';
    assert_int_equal(bus_subscribe(bus, prefix, record, &r), LINLI_EINVAL);
    assert_int_equal(bus_publish(bus, prefix, NULL), 0);
}

static void bus_refuses_subscribers_past_capacity(void **state)
{
    struct bus *bus = *state;
    struct recorder r = {0};
    int last = 0, n = 0;
    for (int i = 0; i < 1000; i++) {
        last = bus_subscribe(bus, "t", record, &r);
        if (last < 0)
            break;
        n++;
    }
    assert_int_equal(last, LINLI_EBUSY);
    assert_true(n > 0);
    assert_int_equal(bus_publish(bus, "t", NULL), n);
}

struct counter {
    atomic_int calls;
};

static void count(const char *topic, json_t *payload, void *ctx)
{
    (void)topic;
    (void)payload;
    struct counter *c = ctx;
    atomic_fetch_add(&c->calls, 1);
}

struct publisher {
    struct bus *bus;
    int n;
};

static void *publish_many(void *arg)
{
    struct publisher *p = arg;
    for (int i = 0; i < p->n; i++)
        bus_publish(p->bus, "load.tick", NULL);
    return NULL;
}

static void bus_delivers_every_event_from_concurrent_publishers(void **state)
{
    struct bus *bus = *state;
    struct counter c = {0};
    bus_subscribe(bus, "load.", count, &c);
    pthread_t t[4];
    struct publisher p = {bus, 2000};
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, publish_many, &p), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(atomic_load(&c.calls), 8000);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(bus_subscribe_returns_distinct_positive_ids),
        T(bus_delivers_topic_and_payload_to_a_matching_prefix),
        T(bus_skips_subscribers_whose_prefix_does_not_match),
        T(bus_empty_prefix_receives_every_topic),
        T(bus_publish_counts_handlers_called),
        T(bus_unsubscribe_stops_delivery),
        T(bus_unsubscribe_of_unknown_id_changes_nothing),
        T(bus_unsubscribe_keeps_other_subscriptions_intact),
        T(bus_refuses_a_prefix_too_long),
        T(bus_refuses_subscribers_past_capacity),
        T(bus_delivers_every_event_from_concurrent_publishers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
