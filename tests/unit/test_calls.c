/* test_calls.c - the call centre's calls (src/domain/calls.c,
 * calls_dispatch.c, calls_actions.c, calls_pop.c): who gets an offer, what
 * a timeout, a decline, an answer race and a restart do to the queue, the
 * state machine's refusals, actions and the audited screen pop, and what
 * is announced (console.call, call.updated) on each change, on a real store
 * holding two streets of two communities each. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "support.h"

#include "base/bus.h"
#include "base/clock.h"
#include "base/log.h"
#include "domain/calls.h"
#include "domain/calls_internal.h"
#include "domain/care.h"
#include "domain/directory.h"
#include "domain/people.h"
#include "domain/registry.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DISTRICT "110105000000"
#define STREET_A "110105001000"
#define STREET_B "110105002000"
#define A1       "110105001001"
#define A2       "110105001002"
#define B1       "110105002001"

struct fixture {
    char dir[64];
    char db[128];
    struct domain d;
    struct principal admin, op_a1, op_a2, op_b, staff_a, auditor, resident;
    struct linli_err err;
    int offers; /* console.offer events seen */
    json_t *last_offer;
    json_t *updates;       /* call.updated payloads, in order */
    json_t *console_calls; /* console.call payloads, in order */
};

static struct principal as_user(int64_t id, enum role role, const char *scope)
{
    struct principal p;
    memset(&p, 0, sizeof p);
    p.user_id = id;
    p.role = role;
    snprintf(p.username, sizeof p.username, "%s-%lld", role_name(role), (long long)id);
    snprintf(p.scope, sizeof p.scope, "%s", scope ? scope : "");
    snprintf(p.ip, sizeof p.ip, "127.0.0.1");
    return p;
}

static void on_offer(const char *topic, json_t *payload, void *ctx)
{
    struct fixture *f = ctx;
    (void)topic;
    f->offers++;
    json_decref(f->last_offer);
    f->last_offer = json_incref(payload);
}

static void on_call_event(const char *topic, json_t *payload, void *ctx)
{
    struct fixture *f = ctx;
    if (!strcmp(topic, "call.updated"))
        json_array_append(f->updates, payload);
    else if (!strcmp(topic, "console.call"))
        json_array_append(f->console_calls, payload);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    *state = f;
    if (make_temp_dir("calls", f->dir, sizeof f->dir, "linli.db", f->db, sizeof f->db))
        return -1;
    linli_err_clear(&f->err);
    if (open_domain(&f->d, f->db, NULL, &f->err))
        return -1;
    f->d.bus = bus_new();
    bus_subscribe(f->d.bus, "console.offer", on_offer, f);
    f->updates = json_array();
    f->console_calls = json_array();
    bus_subscribe(f->d.bus, "call.updated", on_call_event, f);
    bus_subscribe(f->d.bus, "console.call", on_call_event, f);
    f->admin = as_user(1, ROLE_ADMIN, NULL);
    f->op_a1 = as_user(11, ROLE_OPERATOR, STREET_A);
    f->op_a2 = as_user(12, ROLE_OPERATOR, STREET_A);
    f->op_b = as_user(13, ROLE_OPERATOR, STREET_B);
    f->staff_a = as_user(20, ROLE_STREET, STREET_A);
    f->auditor = as_user(21, ROLE_AUDITOR, DISTRICT);
    f->resident = as_user(22, ROLE_RESIDENT, NULL);
    static const struct area_row rows[] = {
        {DISTRICT, "朝阳区", "", "district"},       {STREET_A, "建外街道", DISTRICT, "street"},
        {STREET_B, "朝外街道", DISTRICT, "street"}, {A1, "一社区", STREET_A, "community"},
        {A2, "二社区", STREET_A, "community"},      {B1, "四社区", STREET_B, "community"},
    };
    struct principal sys;
    principal_system(&sys, "test");
    struct import_report rep;
    if (registry_import(&f->d, &sys, 2020, rows, sizeof rows / sizeof rows[0], NULL, 0, &rep,
                        &f->err))
        return -1;
    calls_set_offer_timeout(&f->d, 1000);
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    calls_close_dispatch(&f->d);
    directory_close(&f->d);
    json_decref(f->last_offer);
    json_decref(f->updates);
    json_decref(f->console_calls);
    close_domain(&f->d);
    remove_tree(f->dir);
    free(f);
    return 0;
}

/* ---- helpers ---- */

struct insert_args {
    struct call_seed seed;
    int64_t id;
};

static int insert_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct insert_args *a = arg;
    return calls__insert(c, &a->seed, &a->id, err);
}

/* A call from `community` (urgent when priority 0), committed and queued. */
static int64_t call_in(struct fixture *f, const char *community, const char *trigger, int priority,
                       int64_t person_id, int64_t device_id)
{
    struct insert_args a = {.seed = {.person_id = person_id,
                                     .device_id = device_id,
                                     .community_code = community,
                                     .trigger = trigger,
                                     .priority = priority,
                                     .at = clock_now_ms()}};
    linli_err_clear(&f->err);
    assert_ok(store_write(f->d.store, insert_job, &a, &f->err), &f->err);
    calls_enqueue(&f->d, a.id);
    return a.id;
}

static void available(struct fixture *f, const struct principal *who)
{
    linli_err_clear(&f->err);
    assert_ok(calls_set_presence(&f->d, who, PRESENCE_AVAILABLE, &f->err), &f->err);
}

static int presence_of(struct fixture *f, const struct principal *who)
{
    int state;
    int64_t since;
    linli_err_clear(&f->err);
    assert_ok(calls_get_presence(&f->d, who, &state, &since, &f->err), &f->err);
    return state;
}

static void state_of(struct fixture *f, int64_t id, char *out, size_t size)
{
    char idtext[24];
    snprintf(idtext, sizeof idtext, "%lld", (long long)id);
    sql_text(f->d.store, "SELECT state FROM calls WHERE id = ?1", idtext, out, size);
}

static int64_t timeline_count(struct fixture *f, int64_t id, const char *kind)
{
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM call_events WHERE call_id = %lld AND kind = ?1",
             (long long)id);
    return sql_int(f->d.store, sql, kind);
}

static int answer(struct fixture *f, const struct principal *who, int64_t id)
{
    linli_err_clear(&f->err);
    struct call c;
    return calls_answer(&f->d, who, id, &c, &f->err);
}

/* ---- distribution ---- */

static void the_longest_idle_operator_gets_the_offer(void **state)
{
    struct fixture *f = *state;
    available(f, &f->op_a2); /* idle first */
    available(f, &f->op_a1);
    int64_t id = call_in(f, A1, "health", 1, 0, 0);
    assert_int_equal(calls__offered_to(&f->d, id), f->op_a2.user_id);
    char st[16];
    state_of(f, id, st, sizeof st);
    assert_string_equal(st, "offered");
    assert_int_equal(timeline_count(f, id, "created"), 1);
    assert_int_equal(timeline_count(f, id, "offered"), 1);
    assert_int_equal(f->offers, 1);
    assert_int_equal(json_integer_value(json_object_get(f->last_offer, "operator_id")),
                     f->op_a2.user_id);
    /* A second call goes to the other one: a2 holds an offer already. */
    int64_t id2 = call_in(f, A2, "service", 1, 0, 0);
    assert_int_equal(calls__offered_to(&f->d, id2), f->op_a1.user_id);
    /* Answering makes a2 busy; closing makes them available, last in line. */
    assert_int_equal(answer(f, &f->op_a2, id), LINLI_OK);
    assert_int_equal(presence_of(f, &f->op_a2), PRESENCE_BUSY);
    linli_err_clear(&f->err);
    assert_ok(calls_close(&f->d, &f->op_a2, id, NULL, NULL, &f->err), &f->err);
    assert_int_equal(presence_of(f, &f->op_a2), PRESENCE_AVAILABLE);
    assert_int_equal(calls_decline(&f->d, &f->op_a1, id2, &f->err), LINLI_OK);
    assert_int_equal(calls__offered_to(&f->d, id2), f->op_a2.user_id);
}

static void an_emergency_jumps_the_queue(void **state)
{
    struct fixture *f = *state;
    int64_t normal = call_in(f, A1, "service", 1, 0, 0);
    int64_t urgent = call_in(f, A2, "emergency", 0, 0, 0);
    json_t *q;
    assert_ok(calls_queue(&f->d, &f->op_a1, &q, &f->err), &f->err);
    assert_int_equal(json_array_size(q), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(q, 0), "id")), urgent);
    json_decref(q);
    available(f, &f->op_a1);
    assert_int_equal(calls__offered_to(&f->d, urgent), f->op_a1.user_id);
    assert_int_equal(calls__offered_to(&f->d, normal), 0);
}

static void an_offer_not_taken_in_time_moves_to_the_next(void **state)
{
    struct fixture *f = *state;
    available(f, &f->op_a1);
    available(f, &f->op_a2);
    int64_t id = call_in(f, A1, "health", 1, 0, 0);
    assert_int_equal(calls__offered_to(&f->d, id), f->op_a1.user_id);
    calls_tick(&f->d, clock_now_ms() - 10); /* not yet */
    assert_int_equal(calls__offered_to(&f->d, id), f->op_a1.user_id);
    calls_tick(&f->d, clock_now_ms() + 5000);
    assert_int_equal(calls__offered_to(&f->d, id), f->op_a2.user_id);
    assert_int_equal(timeline_count(f, id, "offer_expired"), 1);
    assert_int_equal(timeline_count(f, id, "offered"), 2);
    /* The one who let it expire stays available. */
    assert_int_equal(presence_of(f, &f->op_a1), PRESENCE_AVAILABLE);
    /* Everyone tried: it rings the first again. */
    calls_tick(&f->d, clock_now_ms() + 10000);
    assert_int_equal(calls__offered_to(&f->d, id), f->op_a1.user_id);
}

/* The kinds of the call.updated events seen since `from`, joined by spaces. */
static void update_kinds(struct fixture *f, size_t from, char *out, size_t size)
{
    out[0] = '\0';
    for (size_t i = from; i < json_array_size(f->updates); i++) {
        const char *k = json_string_value(json_object_get(json_array_get(f->updates, i), "kind"));
        size_t len = strlen(out);
        snprintf(out + len, size - len, "%s%s", len ? " " : "", k ? k : "?");
    }
}

/* The offer's deadline, as the console stream gives it on (re)connecting. */
static int64_t console_offer(struct fixture *f, const struct principal *who, int64_t *expires_at)
{
    int64_t current, offer;
    linli_err_clear(&f->err);
    assert_ok(calls_console_calls(&f->d, who, &current, &offer, expires_at, &f->err), &f->err);
    return offer;
}

static void a_reload_within_the_grace_keeps_the_offer_and_a_real_leave_goes_away(void **state)
{
    struct fixture *f = *state;
    calls_set_console_grace(&f->d, 10000);
    calls_set_offer_timeout(&f->d, 60000);
    calls_console_opened(&f->d, &f->op_a1);
    available(f, &f->op_a1);
    available(f, &f->op_a2);
    int64_t id = call_in(f, A1, "health", 1, 0, 0);
    assert_int_equal(calls__offered_to(&f->d, id), f->op_a1.user_id);

    /* The page reloads: the stream ends and a new one opens within the grace. */
    calls_console_closed(&f->d, &f->op_a1);
    assert_int_equal(presence_of(f, &f->op_a1), PRESENCE_AVAILABLE);
    calls_tick(&f->d, clock_now_ms() + 5000);
    assert_int_equal(calls__offered_to(&f->d, id), f->op_a1.user_id);
    calls_console_opened(&f->d, &f->op_a1);
    int64_t expires;
    assert_int_equal(console_offer(f, &f->op_a1, &expires), id);
    calls_tick(&f->d, clock_now_ms() + 15000); /* past the grace: nothing happens now */
    assert_int_equal(presence_of(f, &f->op_a1), PRESENCE_AVAILABLE);
    assert_int_equal(calls__offered_to(&f->d, id), f->op_a1.user_id);

    /* The tab is closed for good: in the grace no new call comes to them ... */
    calls_console_closed(&f->d, &f->op_a1);
    int64_t second = call_in(f, A1, "health", 1, 0, 0);
    assert_int_equal(calls__offered_to(&f->d, second), f->op_a2.user_id);
    /* ... and when it runs out they are away and their offer moves on. */
    calls_tick(&f->d, clock_now_ms() + 9000);
    assert_int_equal(presence_of(f, &f->op_a1), PRESENCE_AVAILABLE);
    calls_tick(&f->d, clock_now_ms() + 10500);
    assert_int_equal(presence_of(f, &f->op_a1), PRESENCE_AWAY);
    assert_int_equal(calls__offered_to(&f->d, id), 0); /* op_a2 holds the second */
    assert_int_equal(timeline_count(f, id, "offered"), 1);

    /* With no grace the end of the last console is away at once. */
    calls_set_console_grace(&f->d, 0);
    calls_console_opened(&f->d, &f->op_a2);
    calls_console_closed(&f->d, &f->op_a2);
    assert_int_equal(presence_of(f, &f->op_a2), PRESENCE_AWAY);
}

static void a_console_learns_when_its_offer_expires(void **state)
{
    struct fixture *f = *state;
    available(f, &f->op_a1);
    available(f, &f->op_a2);
    int64_t id = call_in(f, A1, "health", 1, 0, 0);
    char idtext[24];
    snprintf(idtext, sizeof idtext, "%lld", (long long)id);
    int64_t offered_at = sql_int(f->d.store, "SELECT offered_at FROM calls WHERE id = ?1", idtext);
    int64_t expires = 0;
    assert_int_equal(console_offer(f, &f->op_a1, &expires), id);
    assert_int_equal(expires, offered_at + 1000); /* the offer timeout set in setup */
    /* console.offer says the same. */
    char want[40];
    assert_string_equal(json_string_value(json_object_get(f->last_offer, "offer_expires_at")),
                        clock_format_rfc3339(expires, want, sizeof want));
    assert_int_equal(console_offer(f, &f->op_a2, &expires), 0);
    assert_int_equal(expires, 0);
    /* It rings out and moves on: the next operator's offer counts from then. */
    int64_t later = clock_now_ms() + 5000;
    calls_tick(&f->d, later);
    assert_int_equal(console_offer(f, &f->op_a1, &expires), 0);
    assert_int_equal(expires, 0);
    assert_int_equal(console_offer(f, &f->op_a2, &expires), id);
    assert_int_equal(expires, later + 1000);
}

static void each_state_change_is_one_call_updated_with_codes_only(void **state)
{
    struct fixture *f = *state;
    available(f, &f->op_a1);
    available(f, &f->op_a2);
    int64_t id = call_in(f, A1, "health", 1, 0, 0);
    char kinds[256];
    update_kinds(f, 0, kinds, sizeof kinds);
    assert_string_equal(kinds, "queued"); /* the offer made with it is not a second one */
    json_t *u = json_array_get(f->updates, 0);
    assert_int_equal(json_object_size(u), 6);
    assert_int_equal(json_integer_value(json_object_get(u, "id")), id);
    assert_string_equal(json_string_value(json_object_get(u, "state")), "offered");
    assert_string_equal(json_string_value(json_object_get(u, "community_code")), A1);
    assert_int_equal(json_integer_value(json_object_get(u, "priority")), 1);
    assert_true(json_is_null(json_object_get(u, "category")));
    assert_null(json_object_get(u, "person_id"));

    /* The offer rings out and moves: one event for the call, the console
     * told who holds it now. */
    size_t consoles = json_array_size(f->console_calls);
    calls_tick(&f->d, clock_now_ms() + 5000);
    update_kinds(f, 1, kinds, sizeof kinds);
    assert_string_equal(kinds, "offered");
    assert_int_equal(json_array_size(f->console_calls), consoles + 1);
    json_t *cc = json_object_get(json_array_get(f->console_calls, consoles), "call");
    assert_int_equal(json_integer_value(json_object_get(cc, "offered_to")), f->op_a2.user_id);

    /* Going away hands the offer to the next operator at once; with nobody
     * left the call waits again. */
    linli_err_clear(&f->err);
    assert_ok(calls_set_presence(&f->d, &f->op_a2, PRESENCE_AWAY, &f->err), &f->err);
    assert_int_equal(calls__offered_to(&f->d, id), f->op_a1.user_id);
    assert_ok(calls_set_presence(&f->d, &f->op_a1, PRESENCE_AWAY, &f->err), &f->err);
    assert_int_equal(calls__offered_to(&f->d, id), 0);
    update_kinds(f, 2, kinds, sizeof kinds);
    assert_string_equal(kinds, "offered offer_released");
    cc = json_object_get(json_array_get(f->console_calls, json_array_size(f->console_calls) - 1),
                         "call");
    assert_string_equal(json_string_value(json_object_get(cc, "state")), "queued");

    assert_int_equal(answer(f, &f->op_a1, id), LINLI_OK);
    assert_ok(calls_classify(&f->d, &f->op_a1, id, CAT_HEALTH, NULL, NULL, &f->err), &f->err);
    /* An action changes no state: the console hears of it, nobody else. */
    size_t before = json_array_size(f->updates);
    consoles = json_array_size(f->console_calls);
    json_t *a = NULL;
    struct call_action_in note = {.kind = ACTION_NOTE, .note = "x"};
    assert_ok(calls_add_action(&f->d, &f->op_a1, id, &note, &a, &f->err), &f->err);
    json_decref(a);
    assert_int_equal(json_array_size(f->updates), before);
    assert_int_equal(json_array_size(f->console_calls), consoles + 1);
    assert_ok(calls_close(&f->d, &f->op_a1, id, NULL, NULL, &f->err), &f->err);
    update_kinds(f, 4, kinds, sizeof kinds);
    assert_string_equal(kinds, "answered classified closed");
    u = json_array_get(f->updates, json_array_size(f->updates) - 1);
    assert_string_equal(json_string_value(json_object_get(u, "state")), "closed");
    assert_string_equal(json_string_value(json_object_get(u, "category")),
                        call_category_name(CAT_HEALTH));
}

static void a_declined_call_goes_on_and_never_comes_back(void **state)
{
    struct fixture *f = *state;
    available(f, &f->op_a1);
    int64_t id = call_in(f, A1, "health", 1, 0, 0);
    assert_int_equal(calls__offered_to(&f->d, id), f->op_a1.user_id);
    linli_err_clear(&f->err);
    assert_int_equal(calls_decline(&f->d, &f->op_a2, id, &f->err), LINLI_ECONFLICT);
    assert_ok(calls_decline(&f->d, &f->op_a1, id, &f->err), &f->err);
    assert_int_equal(calls__offered_to(&f->d, id), 0); /* nobody else: it waits */
    assert_int_equal(timeline_count(f, id, "declined"), 1);
    calls_tick(&f->d, clock_now_ms() + 5000);
    assert_int_equal(calls__offered_to(&f->d, id), 0);
    available(f, &f->op_a2);
    assert_int_equal(calls__offered_to(&f->d, id), f->op_a2.user_id);
}

static void with_nobody_available_a_call_waits_and_anyone_in_scope_takes_it(void **state)
{
    struct fixture *f = *state;
    int64_t id = call_in(f, A2, "health", 1, 0, 0);
    char st[16];
    state_of(f, id, st, sizeof st);
    assert_string_equal(st, "queued");
    assert_int_equal(calls__offered_to(&f->d, id), 0);
    assert_int_equal(answer(f, &f->op_b, id), LINLI_ENOTFOUND); /* another street */
    assert_int_equal(answer(f, &f->op_a1, id), LINLI_OK);
    state_of(f, id, st, sizeof st);
    assert_string_equal(st, "answered");
    assert_int_equal(presence_of(f, &f->op_a1), PRESENCE_BUSY);
    assert_int_equal(answer(f, &f->op_a2, id), LINLI_ECONFLICT);
    assert_contains(f->err.detail, "answered");
}

static void an_operator_is_offered_only_calls_in_their_scope(void **state)
{
    struct fixture *f = *state;
    available(f, &f->op_a1);
    int64_t id = call_in(f, B1, "health", 1, 0, 0);
    assert_int_equal(calls__offered_to(&f->d, id), 0);
    available(f, &f->op_b);
    assert_int_equal(calls__offered_to(&f->d, id), f->op_b.user_id);
    /* An offer held by another is not for the taking. */
    assert_int_equal(answer(f, &f->admin, id), LINLI_ECONFLICT);
    json_t *q;
    assert_ok(calls_queue(&f->d, &f->op_a1, &q, &f->err), &f->err);
    assert_int_equal(json_array_size(q), 0);
    json_decref(q);
}

struct racer {
    struct fixture *f;
    const struct principal *who;
    int64_t id;
    int rc;
    pthread_barrier_t *start;
};

static void *race(void *arg)
{
    struct racer *r = arg;
    struct linli_err err;
    linli_err_clear(&err);
    struct call c;
    pthread_barrier_wait(r->start);
    r->rc = calls_answer(&r->f->d, r->who, r->id, &c, &err);
    return NULL;
}

static void of_two_operators_answering_at_once_one_wins(void **state)
{
    struct fixture *f = *state;
    for (int round = 0; round < 5; round++) {
        int64_t id = call_in(f, A1, "emergency", 0, 0, 0);
        pthread_barrier_t start;
        pthread_barrier_init(&start, NULL, 2);
        struct racer r1 = {f, &f->op_a1, id, 99, &start}, r2 = {f, &f->op_a2, id, 99, &start};
        pthread_t t1, t2;
        pthread_create(&t1, NULL, race, &r1);
        pthread_create(&t2, NULL, race, &r2);
        pthread_join(t1, NULL);
        pthread_join(t2, NULL);
        pthread_barrier_destroy(&start);
        assert_true((r1.rc == LINLI_OK && r2.rc == LINLI_ECONFLICT) ||
                    (r2.rc == LINLI_OK && r1.rc == LINLI_ECONFLICT));
        assert_int_equal(timeline_count(f, id, "answered"), 1);
        const struct principal *winner = r1.rc == LINLI_OK ? &f->op_a1 : &f->op_a2;
        char idtext[24];
        snprintf(idtext, sizeof idtext, "%lld", (long long)id);
        assert_int_equal(sql_int(f->d.store, "SELECT operator_id FROM calls WHERE id = ?1", idtext),
                         winner->user_id);
        linli_err_clear(&f->err);
        assert_ok(calls_close(&f->d, winner, id, "ok", NULL, &f->err), &f->err);
        /* Away again, so the next call waits for both rather than being offered. */
        assert_ok(calls_set_presence(&f->d, winner, PRESENCE_AWAY, &f->err), &f->err);
    }
}

static void a_restart_puts_offered_calls_back_in_the_queue(void **state)
{
    struct fixture *f = *state;
    available(f, &f->op_a1);
    int64_t offered = call_in(f, A1, "health", 1, 0, 0);
    int64_t queued = call_in(f, A2, "service", 1, 0, 0);
    int64_t done = call_in(f, A2, "family", 1, 0, 0);
    assert_int_equal(answer(f, &f->op_a2, done), LINLI_OK);
    assert_int_equal(calls__offered_to(&f->d, offered), f->op_a1.user_id);

    calls_close_dispatch(&f->d); /* the process stops; memory is gone */

    json_t *q;
    assert_ok(calls_queue(&f->d, &f->admin, &q, &f->err), &f->err);
    assert_int_equal(json_array_size(q), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(q, 0), "id")), offered);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(q, 1), "id")), queued);
    assert_string_equal(json_string_value(json_object_get(json_array_get(q, 0), "state")),
                        "queued");
    json_decref(q);
    char st[16];
    state_of(f, offered, st, sizeof st);
    assert_string_equal(st, "queued");
    assert_int_equal(timeline_count(f, offered, "requeued"), 1);
    /* Presence is not kept: operators come back away. */
    assert_int_equal(presence_of(f, &f->op_a1), PRESENCE_AWAY);
    available(f, &f->op_a1);
    assert_int_equal(calls__offered_to(&f->d, offered), f->op_a1.user_id);
}

/* ---- the state machine ---- */

static void steps_out_of_order_are_refused_naming_the_state(void **state)
{
    struct fixture *f = *state;
    int64_t id = call_in(f, A1, "health", 1, 0, 0);
    linli_err_clear(&f->err);
    assert_int_equal(calls_classify(&f->d, &f->op_a1, id, CAT_HEALTH, NULL, NULL, &f->err),
                     LINLI_ECONFLICT);
    assert_contains(f->err.detail, "queued");
    linli_err_clear(&f->err);
    assert_int_equal(calls_close(&f->d, &f->op_a1, id, NULL, NULL, &f->err), LINLI_ECONFLICT);

    assert_int_equal(answer(f, &f->op_a1, id), LINLI_OK);
    linli_err_clear(&f->err);
    assert_int_equal(calls_classify(&f->d, &f->op_a2, id, CAT_HEALTH, NULL, NULL, &f->err),
                     LINLI_EFORBIDDEN);
    linli_err_clear(&f->err);
    assert_int_equal(calls_classify(&f->d, &f->op_a1, id, CAT_COUNT, NULL, NULL, &f->err),
                     LINLI_EINVAL);
    struct call c;
    linli_err_clear(&f->err);
    assert_ok(calls_classify(&f->d, &f->op_a1, id, CAT_HEALTH, "血压高", &c, &f->err), &f->err);
    assert_int_equal(c.state, CALL_CLASSIFIED);
    assert_int_equal(c.category, CAT_HEALTH);
    assert_ok(calls_close(&f->d, &f->op_a1, id, "advised to see the doctor", &c, &f->err), &f->err);
    assert_int_equal(c.state, CALL_CLOSED);
    /* Taken from the queue while away: away again after it. */
    assert_int_equal(presence_of(f, &f->op_a1), PRESENCE_AWAY);
    linli_err_clear(&f->err);
    assert_int_equal(calls_close(&f->d, &f->op_a1, id, NULL, NULL, &f->err), LINLI_ECONFLICT);
    assert_contains(f->err.detail, "closed");
    assert_int_equal(answer(f, &f->op_a1, id), LINLI_ECONFLICT);

    json_t *got;
    assert_ok(calls_get(&f->d, &f->staff_a, id, &got, &f->err), &f->err);
    const char *kinds[] = {"created", "answered", "classified", "closed"};
    json_t *tl = json_object_get(got, "timeline");
    assert_int_equal(json_array_size(tl), 4);
    for (size_t i = 0; i < 4; i++)
        assert_string_equal(json_string_value(json_object_get(json_array_get(tl, i), "kind")),
                            kinds[i]);
    json_decref(got);
    linli_err_clear(&f->err);
    assert_int_equal(calls_get(&f->d, &f->op_b, id, &got, &f->err), LINLI_ENOTFOUND);
    assert_int_equal(calls_get(&f->d, &f->resident, id, &got, &f->err), LINLI_EFORBIDDEN);
    assert_ok(calls_get(&f->d, &f->auditor, id, &got, &f->err), &f->err);
    json_decref(got);
}

static void going_available_on_a_call_is_refused_and_away_is_kept_after_close(void **state)
{
    struct fixture *f = *state;
    int64_t id = call_in(f, A1, "health", 1, 0, 0);
    assert_int_equal(answer(f, &f->op_a1, id), LINLI_OK);
    linli_err_clear(&f->err);
    assert_int_equal(calls_set_presence(&f->d, &f->op_a1, PRESENCE_AVAILABLE, &f->err),
                     LINLI_ECONFLICT);
    assert_ok(calls_set_presence(&f->d, &f->op_a1, PRESENCE_AWAY, &f->err), &f->err);
    assert_ok(calls_close(&f->d, &f->op_a1, id, NULL, NULL, &f->err), &f->err);
    assert_int_equal(presence_of(f, &f->op_a1), PRESENCE_AWAY);
    linli_err_clear(&f->err);
    assert_int_equal(calls_set_presence(&f->d, &f->staff_a, PRESENCE_AVAILABLE, &f->err),
                     LINLI_EFORBIDDEN);
}

static void list_filters_by_state_and_pages_within_scope(void **state)
{
    struct fixture *f = *state;
    int64_t a = call_in(f, A1, "health", 1, 0, 0);
    int64_t b = call_in(f, A2, "health", 1, 0, 0);
    call_in(f, B1, "health", 1, 0, 0);
    assert_int_equal(answer(f, &f->op_a1, a), LINLI_OK);
    struct call_filter flt = {.state = -1, .limit = 1};
    struct call *items;
    int n;
    int64_t next;
    assert_ok(calls_list(&f->d, &f->staff_a, &flt, &items, &n, &next, &f->err), &f->err);
    assert_int_equal(n, 1);
    assert_int_equal(items[0].id, b); /* newest first */
    free(items);
    flt.after_id = next;
    assert_ok(calls_list(&f->d, &f->staff_a, &flt, &items, &n, &next, &f->err), &f->err);
    assert_int_equal(n, 1);
    assert_int_equal(items[0].id, a);
    assert_int_equal(next, 0);
    free(items);
    struct call_filter answered = {.state = CALL_ANSWERED, .limit = 10};
    assert_ok(calls_list(&f->d, &f->admin, &answered, &items, &n, &next, &f->err), &f->err);
    assert_int_equal(n, 1);
    assert_int_equal(items[0].operator_id, f->op_a1.user_id);
    free(items);
}

/* ---- the caller hangs up ---- */

struct cancel_args {
    int64_t device_id, call_id;
};

static int cancel_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct cancel_args *a = arg;
    return calls__cancel_in_job(c, a->device_id, clock_now_ms(), &a->call_id, err);
}

static void a_hang_up_abandons_the_call_and_makes_a_callback(void **state)
{
    struct fixture *f = *state;
    sql_exec(f->d.store, "INSERT INTO devices (serial, secret, created_at, updated_at)"
                         " VALUES ('DEV1', 'aa', 0, 0)");
    int64_t dev = sql_int(f->d.store, "SELECT id FROM devices WHERE serial = 'DEV1'", NULL);
    available(f, &f->op_a1);
    int64_t id = call_in(f, A1, "emergency", 0, 0, dev);
    assert_int_equal(calls__offered_to(&f->d, id), f->op_a1.user_id);
    struct cancel_args a = {dev, 0};
    assert_ok(store_write(f->d.store, cancel_job, &a, &f->err), &f->err);
    assert_int_equal(a.call_id, id);
    calls_dequeue(&f->d, id);
    char st[16];
    state_of(f, id, st, sizeof st);
    assert_string_equal(st, "abandoned");
    assert_int_equal(calls__offered_to(&f->d, id), 0);
    assert_int_equal(timeline_count(f, id, "abandoned"), 1);
    char idtext[24];
    snprintf(idtext, sizeof idtext, "%lld", (long long)id);
    assert_int_equal(sql_int(f->d.store,
                             "SELECT count(*) FROM tasks WHERE call_id = ?1 AND kind = 'callback'"
                             " AND state = 'open'",
                             idtext),
                     1);
    /* The operator is free for the next call. */
    int64_t next = call_in(f, A1, "health", 1, 0, 0);
    assert_int_equal(calls__offered_to(&f->d, next), f->op_a1.user_id);
    /* Nothing left to cancel. */
    struct cancel_args again = {dev, 0};
    assert_ok(store_write(f->d.store, cancel_job, &again, &f->err), &f->err);
    assert_int_equal(again.call_id, 0);
    assert_int_equal(calls__offered_to(&f->d, next), f->op_a1.user_id);
    assert_int_equal(answer(f, &f->op_a1, id), LINLI_ECONFLICT);
}

/* ---- actions and the screen pop ---- */

static int64_t person_with_contacts(struct fixture *f)
{
    struct person_in in = {.name = "王秀兰",
                           .community_code = A1,
                           .address = "建外街道一号楼",
                           .has_home = true,
                           .lat = 39.905,
                           .lon = 116.45,
                           .living_alone = true,
                           .ncontacts = 2};
    in.contacts[0] = (struct contact_in){"王强", "儿子", "13800138001"};
    in.contacts[1] = (struct contact_in){"李梅", "女儿", "13900139002"};
    struct person p;
    linli_err_clear(&f->err);
    assert_ok(people_create(&f->d, &f->admin, &in, NULL, &p, NULL, &f->err), &f->err);
    return p.id;
}

static int64_t facility_with(struct fixture *f, const char *service, const char *status)
{
    char text[600];
    snprintf(text, sizeof text,
             "{\"kind\": \"provider\", \"name\": \"%s服务商%s\", \"operator_type\": \"private\","
             " \"area_code\": \"%s\", \"address\": \"建外街道1号\", \"status\": \"%s\","
             " \"point\": {\"lat\": 39.906, \"lon\": 116.451},"
             " \"services\": [{\"code\": \"%s\", \"price\": 10, \"unit\": \"visit\"}]}",
             service, status, A1, status, service);
    json_t *obj = json_loads(text, 0, NULL);
    assert_non_null(obj);
    struct facility_in in;
    struct facility out;
    linli_err_clear(&f->err);
    assert_ok(facility_in_from_json(obj, &in, &f->err), &f->err);
    assert_ok(facilities_create(&f->d, &f->admin, &in, NULL, &out, NULL, &f->err), &f->err);
    json_decref(obj);
    return out.id;
}

static int add(struct fixture *f, const struct principal *who, int64_t call,
               struct call_action_in in, json_t **out)
{
    linli_err_clear(&f->err);
    *out = NULL;
    return calls_add_action(&f->d, who, call, &in, out, &f->err);
}

static void actions_are_checked_recorded_and_moved_on(void **state)
{
    struct fixture *f = *state;
    int64_t person = person_with_contacts(f);
    int64_t cleaning = facility_with(f, "cleaning", "open");
    int64_t shut = facility_with(f, "cleaning", "closed");
    int64_t id = call_in(f, A1, "service", 1, person, 0);
    json_t *a;
    assert_int_equal(
        add(f, &f->op_a1, id, (struct call_action_in){.kind = ACTION_NOTE, .note = "x"}, &a),
        LINLI_ECONFLICT); /* not answered yet */
    assert_int_equal(answer(f, &f->op_a1, id), LINLI_OK);

    assert_int_equal(add(f, &f->op_a1, id,
                         (struct call_action_in){.kind = ACTION_ESCALATION, .target = "911"}, &a),
                     LINLI_EINVAL);
    assert_field_error(&f->err, "target", "120");
    assert_int_equal(add(f, &f->op_a1, id,
                         (struct call_action_in){.kind = ACTION_CONTACT, .contact_position = 3},
                         &a),
                     LINLI_EINVAL);
    assert_field_error(&f->err, "contact_position", "2 emergency contacts");
    assert_int_equal(add(f, &f->op_a1, id,
                         (struct call_action_in){.kind = ACTION_SERVICE_ORDER,
                                                 .facility_id = 999999,
                                                 .service = "cleaning"},
                         &a),
                     LINLI_EINVAL);
    assert_field_error(&f->err, "facility_id", "no facility");
    assert_int_equal(add(f, &f->op_a1, id,
                         (struct call_action_in){.kind = ACTION_SERVICE_ORDER,
                                                 .facility_id = cleaning,
                                                 .service = "meals"},
                         &a),
                     LINLI_EINVAL);
    assert_field_error(&f->err, "service", "does not offer");
    assert_int_equal(add(f, &f->op_a1, id,
                         (struct call_action_in){.kind = ACTION_SERVICE_ORDER,
                                                 .facility_id = shut,
                                                 .service = "cleaning"},
                         &a),
                     LINLI_ECONFLICT);
    assert_int_equal(
        add(f, &f->op_a2, id, (struct call_action_in){.kind = ACTION_NOTE, .note = "x"}, &a),
        LINLI_EFORBIDDEN);

    assert_ok(add(f, &f->op_a1, id,
                  (struct call_action_in){
                      .kind = ACTION_SERVICE_ORDER, .facility_id = cleaning, .service = "cleaning"},
                  &a),
              &f->err);
    assert_string_equal(json_string_value(json_object_get(a, "state")), "sent");
    int64_t order = json_integer_value(json_object_get(a, "id"));
    json_decref(a);
    assert_ok(add(f, &f->op_a1, id,
                  (struct call_action_in){
                      .kind = ACTION_CONTACT, .contact_position = 1, .reached = false},
                  &a),
              &f->err);
    assert_string_equal(json_string_value(json_object_get(a, "state")), "not_reached");
    json_decref(a);
    assert_ok(
        add(f, &f->op_a1, id,
            (struct call_action_in){.kind = ACTION_CONTACT, .contact_position = 2, .reached = true},
            &a),
        &f->err);
    assert_true(json_is_true(json_object_get(a, "reached")));
    json_decref(a);
    int64_t due = clock_now_ms() + 86400000;
    assert_ok(add(f, &f->op_a1, id,
                  (struct call_action_in){.kind = ACTION_FOLLOW_UP, .due_at = due, .note = "回访"},
                  &a),
              &f->err);
    int64_t follow = json_integer_value(json_object_get(a, "id"));
    json_decref(a);
    char idtext[24];
    snprintf(idtext, sizeof idtext, "%lld", (long long)id);
    assert_int_equal(sql_int(f->d.store,
                             "SELECT count(*) FROM tasks WHERE call_id = ?1 AND kind = 'follow_up'",
                             idtext),
                     1);

    const char *moves[] = {"accepted", "on_the_way", "done"};
    for (int i = 0; i < 3; i++) {
        linli_err_clear(&f->err);
        assert_ok(calls_update_action(&f->d, &f->op_a1, id, order, moves[i], NULL, &a, &f->err),
                  &f->err);
        assert_string_equal(json_string_value(json_object_get(a, "state")), moves[i]);
        json_decref(a);
    }
    linli_err_clear(&f->err);
    assert_int_equal(calls_update_action(&f->d, &f->op_a1, id, order, "failed", NULL, &a, &f->err),
                     LINLI_ECONFLICT);
    assert_contains(f->err.detail, "done");
    linli_err_clear(&f->err);
    assert_int_equal(
        calls_update_action(&f->d, &f->op_a1, id, follow, "on_the_way", NULL, &a, &f->err),
        LINLI_ECONFLICT);
    linli_err_clear(&f->err);
    assert_ok(calls_update_action(&f->d, &f->op_a1, id, follow, "done", "回访完成", &a, &f->err),
              &f->err);
    json_decref(a);
    linli_err_clear(&f->err);
    assert_int_equal(calls_update_action(&f->d, &f->op_a1, id, 999999, "done", NULL, &a, &f->err),
                     LINLI_ENOTFOUND);

    assert_int_equal(timeline_count(f, id, "action"), 4);
    assert_int_equal(timeline_count(f, id, "action_updated"), 4);
    json_t *got;
    assert_ok(calls_get(&f->d, &f->op_a1, id, &got, &f->err), &f->err);
    assert_int_equal(json_array_size(json_object_get(got, "actions")), 4);
    json_decref(got);

    assert_ok(calls_close(&f->d, &f->op_a1, id, NULL, NULL, &f->err), &f->err);
    assert_int_equal(
        add(f, &f->op_a1, id, (struct call_action_in){.kind = ACTION_NOTE, .note = "x"}, &a),
        LINLI_ECONFLICT);
    assert_contains(f->err.detail, "closed");
}

static void the_screen_pop_shows_contacts_unmasked_and_is_audited(void **state)
{
    struct fixture *f = *state;
    int64_t person = person_with_contacts(f);
    facility_with(f, "cleaning", "open");
    available(f, &f->op_a1);
    int64_t before =
        sql_int(f->d.store, "SELECT count(*) FROM audit_log WHERE action = 'person.reveal'", NULL);
    int64_t id = call_in(f, A1, "service", 1, person, 0);

    /* The offer carries the pop, and its disclosure was recorded with it. */
    assert_int_equal(f->offers, 1);
    json_t *pop = json_object_get(f->last_offer, "screen_pop");
    assert_true(json_is_object(pop));
    assert_string_equal(json_string_value(json_object_get(json_object_get(pop, "person"), "name")),
                        "王秀兰");
    json_t *contacts = json_object_get(pop, "contacts");
    assert_int_equal(json_array_size(contacts), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(contacts, 0), "phone")),
                        "13800138001");
    json_t *services = json_object_get(pop, "services");
    assert_int_equal(json_array_size(services), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(services, 0), "service")),
                        "cleaning");
    assert_int_equal(
        sql_int(f->d.store, "SELECT count(*) FROM audit_log WHERE action = 'person.reveal'", NULL),
        before + 1);

    json_t *again;
    linli_err_clear(&f->err);
    assert_ok(calls_screen_pop(&f->d, &f->op_a1, id, &again, &f->err), &f->err);
    json_decref(again);
    char reason[64];
    sql_text(f->d.store,
             "SELECT detail FROM audit_log WHERE action = 'person.reveal' ORDER BY id DESC LIMIT 1",
             NULL, reason, sizeof reason);
    char want[32];
    snprintf(want, sizeof want, "call %lld", (long long)id);
    assert_contains(reason, want);
    assert_int_equal(
        sql_int(f->d.store, "SELECT count(*) FROM audit_log WHERE action = 'person.reveal'", NULL),
        before + 2);
    linli_err_clear(&f->err);
    assert_int_equal(calls_screen_pop(&f->d, &f->staff_a, id, &again, &f->err), LINLI_EFORBIDDEN);
    linli_err_clear(&f->err);
    assert_int_equal(calls_screen_pop(&f->d, &f->op_b, id, &again, &f->err), LINLI_ENOTFOUND);
}

static void names_parse_codes_and_chinese_labels(void **state)
{
    (void)state;
    int c;
    assert_int_equal(call_category_parse("火警", &c), 0);
    assert_int_equal(c, CAT_FIRE);
    assert_int_equal(call_category_parse("false_alarm", &c), 0);
    assert_int_equal(c, CAT_FALSE_ALARM);
    assert_int_equal(call_category_parse("fire!", &c), -1);
    int s;
    assert_int_equal(call_state_parse("abandoned", &s), 0);
    assert_string_equal(call_state_name(s), "abandoned");
    int p;
    assert_int_equal(presence_parse("busy", &p), 0);
    assert_int_equal(presence_parse("Busy", &p), -1);
    int k;
    assert_int_equal(call_action_kind_parse("follow_up", &k), 0);
    assert_int_equal(k, ACTION_FOLLOW_UP);
}

int main(void)
{
    log_set_level(LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(names_parse_codes_and_chinese_labels),
        cmocka_unit_test_setup_teardown(the_longest_idle_operator_gets_the_offer, setup, teardown),
        cmocka_unit_test_setup_teardown(an_emergency_jumps_the_queue, setup, teardown),
        cmocka_unit_test_setup_teardown(an_offer_not_taken_in_time_moves_to_the_next, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_console_learns_when_its_offer_expires, setup, teardown),
        cmocka_unit_test_setup_teardown(
            a_reload_within_the_grace_keeps_the_offer_and_a_real_leave_goes_away, setup, teardown),
        cmocka_unit_test_setup_teardown(each_state_change_is_one_call_updated_with_codes_only,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(a_declined_call_goes_on_and_never_comes_back, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            with_nobody_available_a_call_waits_and_anyone_in_scope_takes_it, setup, teardown),
        cmocka_unit_test_setup_teardown(an_operator_is_offered_only_calls_in_their_scope, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(of_two_operators_answering_at_once_one_wins, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_restart_puts_offered_calls_back_in_the_queue, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(steps_out_of_order_are_refused_naming_the_state, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            going_available_on_a_call_is_refused_and_away_is_kept_after_close, setup, teardown),
        cmocka_unit_test_setup_teardown(list_filters_by_state_and_pages_within_scope, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_hang_up_abandons_the_call_and_makes_a_callback, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(actions_are_checked_recorded_and_moved_on, setup, teardown),
        cmocka_unit_test_setup_teardown(the_screen_pop_shows_contacts_unmasked_and_is_audited,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
