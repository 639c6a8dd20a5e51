/* calls_operators.c - what operators do and how they come and go, over the
 * distribution state of calls_dispatch.c (calls_dispatch_internal.h): the
 * time that moves offers on and ends consoles' grace, presence, console
 * streams opening and closing, the answer (one operator wins) and declines.
 * The policy is stated at the top of calls_dispatch.c. */
#include "domain/calls.h"

#include "base/clock.h"
#include "domain/audit.h"
#include "domain/calls_dispatch_internal.h"
#include "domain/calls_internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- time ---- */

static void publish_presence(struct domain *d, int64_t user_id, int state, int64_t since,
                             int64_t current_call);
static bool presence_locked(struct dispatch *x, struct agent *op, int state, int64_t now,
                            struct decisions *ds);

void calls_tick(struct domain *d, int64_t now_ms)
{
    struct dispatch *x = dispatch__get(d);
    if (!x)
        return;
    struct decisions ds = {0};
    pthread_mutex_lock(&x->mu);
    for (int i = 0; i < x->ncalls; i++) {
        struct waiting *w = &x->calls[i];
        if (!w->offered_to || w->offer_deadline > now_ms)
            continue;
        struct agent *op = dispatch__find_op(x, w->offered_to);
        if (op && op->offer == w->id) {
            dispatch__release_offer(x, op, D_EXPIRE, now_ms, &ds);
        } else { /* cannot happen; recover all the same */
            dispatch__list_add(w->tried, &w->ntried, w->offered_to);
            dispatch__decision_add(&ds, D_EXPIRE, w, w->offered_to, now_ms);
            w->offered_to = 0;
        }
    }
    /* Operators whose grace ran out without a console coming back: away. */
    struct {
        int64_t user_id, current;
    } gone[GONE_PER_TICK];
    int ngone = 0;
    for (int i = 0; i < x->nops && ngone < GONE_PER_TICK; i++) {
        struct agent *op = &x->ops[i];
        if (!op->gone_since || op->consoles > 0 || now_ms - op->gone_since < x->grace_ms)
            continue;
        op->gone_since = 0;
        if (presence_locked(x, op, PRESENCE_AWAY, now_ms, &ds)) {
            gone[ngone].user_id = op->who.user_id;
            gone[ngone++].current = op->current_call;
        }
    }
    if (ds.n || ngone)
        dispatch__round_locked(x, now_ms, &ds);
    pthread_mutex_unlock(&x->mu);
    if (ds.n)
        dispatch__apply(d, x, &ds, NULL, 0);
    for (int i = 0; i < ngone; i++)
        publish_presence(d, gone[i].user_id, PRESENCE_AWAY, now_ms, gone[i].current);
}

/* ---- presence ---- */

static void publish_presence(struct domain *d, int64_t user_id, int state, int64_t since,
                             int64_t current_call)
{
    char buf[40];
    json_t *p =
        json_pack("{s:I, s:s, s:s}", "operator_id", (json_int_t)user_id, "state",
                  presence_name(state), "since", clock_format_rfc3339(since, buf, sizeof buf));
    json_object_set_new(p, "current_call", current_call ? json_integer(current_call) : json_null());
    domain_publish(d, "console.presence", p);
}

/* Sets op's presence under the mutex; returns whether it changed. */
static bool presence_locked(struct dispatch *x, struct agent *op, int state, int64_t now,
                            struct decisions *ds)
{
    if (op->presence == state)
        return false;
    if (state != PRESENCE_AVAILABLE)
        dispatch__release_offer(x, op, D_RELEASE, now, ds);
    else {
        op->idle_since = now;
        op->idle_seq = ++x->seq;
    }
    op->presence = state;
    op->since = now;
    return true;
}

int calls_set_presence(struct domain *d, const struct principal *who, int state,
                       struct linli_err *err)
{
    if (!calls__may_work(who))
        return linli_fail(err, LINLI_EFORBIDDEN, "Only operators take calls.");
    if (state < PRESENCE_AWAY || state > PRESENCE_BUSY)
        return linli_field(err, "state", "must be away, available or busy");
    struct dispatch *x = dispatch__get(d);
    if (!x)
        return linli_fail(err, LINLI_ENOMEM, "Out of memory for the call queue.");
    int64_t now = clock_now_ms();
    struct decisions ds = {0};
    pthread_mutex_lock(&x->mu);
    struct agent *op = dispatch__op_of(x, who, now);
    if (!op) {
        pthread_mutex_unlock(&x->mu);
        return linli_fail(err, LINLI_ENOMEM, "Out of memory for the call queue.");
    }
    if (state == PRESENCE_AVAILABLE && op->current_call) {
        int64_t busy = op->current_call;
        pthread_mutex_unlock(&x->mu);
        return linli_fail(err, LINLI_ECONFLICT,
                          "You are on call %lld: close it before taking another.", (long long)busy);
    }
    bool changed = presence_locked(x, op, state, now, &ds);
    /* Available: calls may come to them. Away or busy: the offer they held
     * goes to the next operator at once, not at the next event. */
    if (changed)
        dispatch__round_locked(x, now, &ds);
    int64_t since = op->since, current = op->current_call;
    pthread_mutex_unlock(&x->mu);
    dispatch__apply(d, x, &ds, NULL, 0);
    if (changed)
        publish_presence(d, who->user_id, state, since, current);
    return LINLI_OK;
}

int calls_get_presence(struct domain *d, const struct principal *who, int *state, int64_t *since_ms,
                       struct linli_err *err)
{
    if (!calls__may_work(who))
        return linli_fail(err, LINLI_EFORBIDDEN, "Only operators take calls.");
    struct dispatch *x = dispatch__get(d);
    if (!x)
        return linli_fail(err, LINLI_ENOMEM, "Out of memory for the call queue.");
    pthread_mutex_lock(&x->mu);
    struct agent *op = dispatch__find_op(x, who->user_id);
    *state = op ? op->presence : PRESENCE_AWAY;
    *since_ms = op ? op->since : 0;
    pthread_mutex_unlock(&x->mu);
    return LINLI_OK;
}

int calls_console_calls(struct domain *d, const struct principal *who, int64_t *current_call,
                        int64_t *offer, int64_t *offer_expires_at, struct linli_err *err)
{
    *current_call = *offer = *offer_expires_at = 0;
    if (!calls__may_work(who))
        return linli_fail(err, LINLI_EFORBIDDEN, "Only operators take calls.");
    struct dispatch *x = dispatch__get(d);
    if (!x)
        return linli_fail(err, LINLI_ENOMEM, "Out of memory for the call queue.");
    pthread_mutex_lock(&x->mu);
    struct agent *op = dispatch__find_op(x, who->user_id);
    if (op) {
        *current_call = op->current_call;
        int i = op->offer ? dispatch__find_call(x, op->offer) : -1;
        if (i >= 0 && x->calls[i].offered_to == op->who.user_id) {
            *offer = op->offer;
            *offer_expires_at = x->calls[i].offer_deadline;
        }
    }
    pthread_mutex_unlock(&x->mu);
    return LINLI_OK;
}

void calls_console_opened(struct domain *d, const struct principal *who)
{
    struct dispatch *x = dispatch__get(d);
    if (!x || !calls__may_work(who))
        return;
    pthread_mutex_lock(&x->mu);
    struct agent *op = dispatch__op_of(x, who, clock_now_ms());
    if (op) {
        op->consoles++;
        op->gone_since = 0; /* back within the grace: as if never gone */
    }
    pthread_mutex_unlock(&x->mu);
}

void calls_console_closed(struct domain *d, const struct principal *who)
{
    struct dispatch *x = dispatch__get(d);
    if (!x)
        return;
    int64_t now = clock_now_ms();
    struct decisions ds = {0};
    bool changed = false;
    int64_t current = 0;
    pthread_mutex_lock(&x->mu);
    struct agent *op = dispatch__find_op(x, who->user_id);
    if (op && op->consoles > 0 && --op->consoles == 0) {
        if (x->grace_ms > 0 && op->presence != PRESENCE_AWAY) {
            /* Nobody is watching for offers: away once the grace runs out
             * (calls_tick), unless a console comes back first. */
            op->gone_since = now;
        } else {
            changed = presence_locked(x, op, PRESENCE_AWAY, now, &ds);
            current = op->current_call;
            if (changed)
                dispatch__round_locked(x, now, &ds);
        }
    }
    pthread_mutex_unlock(&x->mu);
    dispatch__apply(d, x, &ds, NULL, 0);
    if (changed)
        publish_presence(d, who->user_id, PRESENCE_AWAY, now, current);
}

/* ---- the answer ---- */

static const char SQL_ANSWER[] =
    "UPDATE calls SET state = 'answered', operator_id = ?, answered_at = ?, updated_at = ?"
    " WHERE id = ? AND state IN ('queued', 'offered')";

struct answer_job {
    const struct principal *who;
    int64_t id, at;
    struct call out;
};

static int answer_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct answer_job *j = arg;
    sqlite3_stmt *st = store_stmt(c, SQL_ANSWER, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, j->who->user_id);
    sqlite3_bind_int64(st, 2, j->at);
    sqlite3_bind_int64(st, 3, j->at);
    sqlite3_bind_int64(st, 4, j->id);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return store_fail(c, rc, "answering a call", err);
    if (!sqlite3_changes(store_db(c))) {
        if ((rc = calls__load(c, j->id, &j->out, err)))
            return rc;
        return linli_fail(err, LINLI_ECONFLICT, "The call is %s: it can no longer be answered.",
                          call_state_name(j->out.state));
    }
    if ((rc = calls__event(c, j->id, j->at, j->who->user_id, "answered", NULL, err)))
        return rc;
    char object[32];
    snprintf(object, sizeof object, "call:%lld", (long long)j->id);
    if ((rc = audit_append(c, j->who, "call.answer", object, NULL, err)))
        return rc;
    return calls__load(c, j->id, &j->out, err);
}

/* Why `who` cannot have a call that is not waiting in memory. */
static int not_waiting(struct domain *d, const struct principal *who, int64_t id, bool *waiting,
                       struct linli_err *err)
{
    struct call c;
    *waiting = false;
    int rc = dispatch__read_call(d, id, &c, err);
    if (rc == LINLI_ENOTFOUND || (!rc && !calls__in_scope(who, c.community_code)))
        return linli_fail(err, LINLI_ENOTFOUND, "No call %lld in your area.", (long long)id);
    if (rc)
        return rc;
    if (c.state == CALL_QUEUED || c.state == CALL_OFFERED) {
        *waiting = true; /* committed but not yet queued: the caller queues it */
        return LINLI_OK;
    }
    return linli_fail(err, LINLI_ECONFLICT, "The call is %s: it can no longer be answered.",
                      call_state_name(c.state));
}

int calls_answer(struct domain *d, const struct principal *who, int64_t id, struct call *out,
                 struct linli_err *err)
{
    if (!calls__may_work(who))
        return linli_fail(err, LINLI_EFORBIDDEN, "Only operators answer calls.");
    struct dispatch *x = dispatch__get(d);
    if (!x)
        return linli_fail(err, LINLI_ENOMEM, "Out of memory for the call queue.");
    int64_t now = clock_now_ms();
    struct decisions ds = {0};
    struct waiting w;
    int prev_presence = PRESENCE_AWAY;
    for (int attempt = 0;; attempt++) {
        pthread_mutex_lock(&x->mu);
        int i = dispatch__find_call(x, id);
        if (i >= 0)
            break; /* mutex held */
        pthread_mutex_unlock(&x->mu);
        bool waiting;
        int rc = not_waiting(d, who, id, &waiting, err);
        if (rc)
            return rc;
        if (attempt > 0)
            return linli_fail(err, LINLI_ECONFLICT, "The call is not waiting any more.");
        calls_enqueue(d, id);
    }
    int i = dispatch__find_call(x, id);
    w = x->calls[i];
    const char *why = NULL;
    if (!calls__in_scope(who, w.community)) {
        pthread_mutex_unlock(&x->mu);
        return linli_fail(err, LINLI_ENOTFOUND, "No call %lld in your area.", (long long)id);
    }
    struct agent *op = dispatch__op_of(x, who, now);
    if (!op)
        why = "out of memory";
    else if (w.offered_to && w.offered_to != who->user_id)
        why = "offered to another operator";
    else if (op->current_call)
        why = "not yours to take while you are on another call";
    if (why) {
        int64_t cur = op ? op->current_call : 0;
        pthread_mutex_unlock(&x->mu);
        if (cur)
            return linli_fail(err, LINLI_ECONFLICT,
                              "You are on call %lld: close it before answering another.",
                              (long long)cur);
        return linli_fail(err, op ? LINLI_ECONFLICT : LINLI_ENOMEM, "The call is %s.", why);
    }
    /* Claimed: whoever comes next finds it gone. */
    if (op->offer && op->offer != id)
        dispatch__release_offer(x, op, D_RELEASE, now, &ds);
    dispatch__queue_remove(x, i);
    op->offer = 0;
    prev_presence = op->presence;
    op->after_call = prev_presence == PRESENCE_AWAY ? PRESENCE_AWAY : PRESENCE_AVAILABLE;
    op->presence = PRESENCE_BUSY;
    op->since = now;
    op->current_call = id;
    dispatch__round_locked(x, now, &ds);
    pthread_mutex_unlock(&x->mu);

    struct answer_job j = {.who = who, .id = id, .at = now};
    int rc = store_write(d->store, answer_job, &j, err);
    if (rc) {
        /* Not answered after all (hung up meanwhile, or the store failed). */
        pthread_mutex_lock(&x->mu);
        op = dispatch__find_op(x, who->user_id);
        if (op && op->current_call == id) {
            op->current_call = 0;
            op->presence = prev_presence;
            op->since = now;
            if (prev_presence == PRESENCE_AVAILABLE)
                dispatch__round_locked(x, now, &ds);
        }
        if (rc != LINLI_ECONFLICT && rc != LINLI_ENOTFOUND)
            dispatch__queue_put(x, &w); /* the store failed: it still waits */
        pthread_mutex_unlock(&x->mu);
        dispatch__apply(d, x, &ds, w.community, 0);
        return rc;
    }
    dispatch__apply(d, x, &ds, w.community, 0);
    if (prev_presence != PRESENCE_BUSY)
        publish_presence(d, who->user_id, PRESENCE_BUSY, now, id);
    calls__announce(d, id, "answered");
    if (out)
        *out = j.out;
    return LINLI_OK;
}

int calls_decline(struct domain *d, const struct principal *who, int64_t id, struct linli_err *err)
{
    if (!calls__may_work(who))
        return linli_fail(err, LINLI_EFORBIDDEN, "Only operators take calls.");
    struct dispatch *x = dispatch__get(d);
    if (!x)
        return linli_fail(err, LINLI_ENOMEM, "Out of memory for the call queue.");
    int64_t now = clock_now_ms();
    struct decisions ds = {0};
    pthread_mutex_lock(&x->mu);
    int i = dispatch__find_call(x, id);
    struct agent *op = dispatch__find_op(x, who->user_id);
    if (i < 0 || !calls__in_scope(who, x->calls[i].community)) {
        pthread_mutex_unlock(&x->mu);
        bool waiting;
        int rc = not_waiting(d, who, id, &waiting, err);
        if (rc)
            return rc;
        return linli_fail(err, LINLI_ECONFLICT, "The call is not offered to you.");
    }
    if (!op || op->offer != id || x->calls[i].offered_to != who->user_id) {
        pthread_mutex_unlock(&x->mu);
        return linli_fail(err, LINLI_ECONFLICT, "The call is not offered to you.");
    }
    dispatch__release_offer(x, op, D_DECLINE, now, &ds);
    dispatch__round_locked(x, now, &ds);
    pthread_mutex_unlock(&x->mu);
    dispatch__apply(d, x, &ds, NULL, 0);
    return LINLI_OK;
}

void calls__operator_free(struct domain *d, int64_t operator_id, int64_t now_ms)
{
    struct dispatch *x = dispatch__get(d);
    if (!x)
        return;
    struct decisions ds = {0};
    bool changed = false;
    int after = PRESENCE_AVAILABLE;
    pthread_mutex_lock(&x->mu);
    struct agent *op = dispatch__find_op(x, operator_id);
    if (op) {
        op->current_call = 0;
        /* Busy with the call: back to what they were before it. Away
         * meanwhile: they stay away. */
        if (op->presence == PRESENCE_BUSY) {
            op->presence = op->after_call;
            op->since = now_ms;
            if (op->presence == PRESENCE_AVAILABLE) {
                op->idle_since = now_ms;
                op->idle_seq = ++x->seq;
            }
            changed = true;
            after = op->presence;
        }
        dispatch__round_locked(x, now_ms, &ds);
    }
    pthread_mutex_unlock(&x->mu);
    dispatch__apply(d, x, &ds, NULL, 0);
    if (changed)
        publish_presence(d, operator_id, after, now_ms, 0);
}
