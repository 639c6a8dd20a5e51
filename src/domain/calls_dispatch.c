/* calls_dispatch.c - distribution of calls to operators, in memory: the
 * queue of calls not yet answered, offers, rebuilding from the store and
 * carrying decisions out. What operators do and how they come and go
 * (presence, consoles and their grace, the time that moves offers on, the
 * answer and declines) is in calls_operators.c; the two share
 * calls_dispatch_internal.h.
 *
 * One mutex guards the queue and the operators. Decisions (offer this call
 * to that operator, this offer expired, ...) are taken under it and written
 * to the store after it is released, in one write job per round, so no store
 * latency is ever paid while holding it. The memory is the truth for who
 * holds an offer; the store records what happened (state, offered_at and the
 * timeline). A call that changed in the store meanwhile (abandoned, answered)
 * is guarded by the state in each UPDATE.
 *
 * Offer policy. A waiting call, in order of priority, age and id, is offered
 * to the available operator whose scope holds its community, who holds no
 * other offer and has been idle longest. An operator who declined a call is
 * never offered it again (they may still take it from the queue). An
 * operator who let an offer expire stays available (a missed offer is not a
 * sign of absence: the console stream's end is) but is skipped for that call
 * while another eligible operator has not been tried; once all have, the
 * round starts over, so with a single operator the call keeps ringing.
 *
 * The end of an operator's last console stream sets them away, after a
 * grace period (calls_set_console_grace): a page reloading, or a phone
 * changing networks, reconnects within it and finds its offer still ringing
 * (console.sync). While in grace they are offered nothing new; an offer they
 * hold moves on at its deadline as usual, or when the grace runs out.
 *
 * Everything here runs on the caller's thread: an offer made when a call
 * arrives is written and published before calls_enqueue returns. */
#include "domain/calls.h"

#include "base/clock.h"
#include "base/log.h"
#include "domain/audit.h"
#include "domain/calls_dispatch_internal.h"
#include "domain/calls_internal.h"
#include "domain/care.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct decision *dispatch__decision_add(struct decisions *ds, int kind, const struct waiting *w,
                                        int64_t operator_id, int64_t at)
{
    if (ds->n == ds->cap) {
        int cap = ds->cap ? ds->cap * 2 : 8;
        struct decision *v = realloc(ds->v, (size_t)cap * sizeof *v);
        if (!v)
            return NULL;
        ds->v = v;
        ds->cap = cap;
    }
    struct decision *x = &ds->v[ds->n++];
    memset(x, 0, sizeof *x);
    x->kind = kind;
    x->call_id = w->id;
    x->operator_id = operator_id;
    x->at = at;
    snprintf(x->community, sizeof x->community, "%s", w->community);
    return x;
}

static void decisions_free(struct decisions *ds)
{
    for (int i = 0; i < ds->n; i++)
        json_decref(ds->v[i].pop);
    free(ds->v);
    ds->v = NULL;
    ds->n = ds->cap = 0;
}

/* ---- the structure ---- */

static struct dispatch *dispatch_new(void)
{
    struct dispatch *x = calloc(1, sizeof *x);
    if (!x)
        return NULL;
    pthread_mutex_init(&x->mu, NULL);
    pthread_mutex_init(&x->load_mu, NULL);
    x->timeout_ms = CALL_OFFER_TIMEOUT_MS;
    x->grace_ms = CALL_CONSOLE_GRACE_MS;
    return x;
}

static void dispatch_free(struct dispatch *x)
{
    if (!x)
        return;
    pthread_mutex_destroy(&x->mu);
    pthread_mutex_destroy(&x->load_mu);
    free(x->calls);
    free(x->ops);
    free(x);
}

void calls_close_dispatch(struct domain *d)
{
    dispatch_free(d->dispatch);
    d->dispatch = NULL;
}

static struct dispatch *dispatch_made(struct domain *d)
{
    struct dispatch *x = __atomic_load_n(&d->dispatch, __ATOMIC_ACQUIRE);
    if (x)
        return x;
    struct dispatch *fresh = dispatch_new();
    if (!fresh)
        return NULL;
    struct dispatch *expected = NULL;
    if (__atomic_compare_exchange_n(&d->dispatch, &expected, fresh, false, __ATOMIC_ACQ_REL,
                                    __ATOMIC_ACQUIRE))
        return fresh;
    dispatch_free(fresh);
    return expected;
}

void calls_set_offer_timeout(struct domain *d, int64_t ms)
{
    struct dispatch *x = dispatch_made(d);
    if (!x)
        return;
    pthread_mutex_lock(&x->mu);
    x->timeout_ms = ms > 0 ? ms : CALL_OFFER_TIMEOUT_MS;
    pthread_mutex_unlock(&x->mu);
}

void calls_set_console_grace(struct domain *d, int64_t ms)
{
    struct dispatch *x = dispatch_made(d);
    if (!x)
        return;
    pthread_mutex_lock(&x->mu);
    x->grace_ms = ms > 0 ? ms : 0;
    pthread_mutex_unlock(&x->mu);
}

static bool before(const struct waiting *a, const struct waiting *b)
{
    if (a->priority != b->priority)
        return a->priority < b->priority;
    if (a->created_at != b->created_at)
        return a->created_at < b->created_at;
    return a->id < b->id;
}

int dispatch__find_call(struct dispatch *x, int64_t id)
{
    for (int i = 0; i < x->ncalls; i++)
        if (x->calls[i].id == id)
            return i;
    return -1;
}

struct agent *dispatch__find_op(struct dispatch *x, int64_t user_id)
{
    for (int i = 0; i < x->nops; i++)
        if (x->ops[i].who.user_id == user_id)
            return &x->ops[i];
    return NULL;
}

/* The operator entry of `who`, made (away) when missing; NULL when out of
 * memory. Refreshes the principal (scope changes apply from the next use). */
struct agent *dispatch__op_of(struct dispatch *x, const struct principal *who, int64_t now)
{
    struct agent *op = dispatch__find_op(x, who->user_id);
    if (!op) {
        if (x->nops == x->ops_cap) {
            int cap = x->ops_cap ? x->ops_cap * 2 : 16;
            struct agent *v = realloc(x->ops, (size_t)cap * sizeof *v);
            if (!v)
                return NULL;
            x->ops = v;
            x->ops_cap = cap;
        }
        op = &x->ops[x->nops++];
        memset(op, 0, sizeof *op);
        op->presence = PRESENCE_AWAY;
        op->since = now;
    }
    op->who = *who;
    return op;
}

/* Inserts a waiting call in order (a call already there is left alone).
 * Mutex held. Returns 0, or -1 out of memory. */
int dispatch__queue_put(struct dispatch *x, const struct waiting *w)
{
    if (dispatch__find_call(x, w->id) >= 0)
        return 0;
    if (x->ncalls == x->calls_cap) {
        int cap = x->calls_cap ? x->calls_cap * 2 : 32;
        struct waiting *v = realloc(x->calls, (size_t)cap * sizeof *v);
        if (!v)
            return -1;
        x->calls = v;
        x->calls_cap = cap;
    }
    int i = x->ncalls;
    while (i > 0 && before(w, &x->calls[i - 1])) {
        x->calls[i] = x->calls[i - 1];
        i--;
    }
    x->calls[i] = *w;
    x->ncalls++;
    return 0;
}

/* Removes the call at `i`, clearing the offer its operator held. Mutex held. */
void dispatch__queue_remove(struct dispatch *x, int i)
{
    struct waiting *w = &x->calls[i];
    if (w->offered_to) {
        struct agent *op = dispatch__find_op(x, w->offered_to);
        if (op && op->offer == w->id)
            op->offer = 0;
    }
    memmove(&x->calls[i], &x->calls[i + 1], (size_t)(x->ncalls - i - 1) * sizeof *w);
    x->ncalls--;
}

static bool listed(const int64_t *v, int n, int64_t id)
{
    for (int i = 0; i < n; i++)
        if (v[i] == id)
            return true;
    return false;
}

void dispatch__list_add(int64_t *v, int *n, int64_t id)
{
    if (listed(v, *n, id))
        return;
    if (*n == TRIED_MAX) { /* forget the oldest */
        memmove(v, v + 1, (TRIED_MAX - 1) * sizeof *v);
        (*n)--;
    }
    v[(*n)++] = id;
}

static bool op_takes(const struct agent *op, const struct waiting *w)
{
    return op->presence == PRESENCE_AVAILABLE && !op->offer && !op->current_call &&
           !op->gone_since && calls__in_scope(&op->who, w->community) &&
           !listed(w->declined, w->ndeclined, op->who.user_id);
}

static bool idler(const struct agent *a, const struct agent *b)
{
    if (a->idle_since != b->idle_since)
        return a->idle_since < b->idle_since;
    return a->idle_seq < b->idle_seq;
}

/* The operator a waiting call goes to now, or NULL. */
static struct agent *pick(struct dispatch *x, struct waiting *w)
{
    struct agent *fresh = NULL, *any = NULL;
    for (int i = 0; i < x->nops; i++) {
        struct agent *op = &x->ops[i];
        if (!op_takes(op, w))
            continue;
        if (!any || idler(op, any))
            any = op;
        if (!listed(w->tried, w->ntried, op->who.user_id) && (!fresh || idler(op, fresh)))
            fresh = op;
    }
    if (fresh)
        return fresh;
    if (any) /* everyone eligible has been tried: start over */
        w->ntried = 0;
    return any;
}

/* Offers every waiting call without an offer that someone can take. Mutex held. */
void dispatch__round_locked(struct dispatch *x, int64_t now, struct decisions *ds)
{
    for (int i = 0; i < x->ncalls; i++) {
        struct waiting *w = &x->calls[i];
        if (w->offered_to)
            continue;
        struct agent *op = pick(x, w);
        if (!op)
            continue;
        struct decision *dx = dispatch__decision_add(ds, D_OFFER, w, op->who.user_id, now);
        if (!dx)
            return;
        dx->who = op->who;
        w->offered_to = op->who.user_id;
        w->offer_deadline = now + x->timeout_ms;
        op->offer = w->id;
    }
}

/* Takes back the offer `op` holds (they went away, or busy). Mutex held. */
void dispatch__release_offer(struct dispatch *x, struct agent *op, int kind, int64_t now,
                             struct decisions *ds)
{
    if (!op->offer)
        return;
    int i = dispatch__find_call(x, op->offer);
    op->offer = 0;
    if (i < 0)
        return;
    struct waiting *w = &x->calls[i];
    w->offered_to = 0;
    if (kind == D_DECLINE)
        dispatch__list_add(w->declined, &w->ndeclined, op->who.user_id);
    else
        dispatch__list_add(w->tried, &w->ntried, op->who.user_id);
    dispatch__decision_add(ds, kind, w, op->who.user_id, now);
}

/* ---- rebuilding from the store ---- */

struct rebuild {
    struct waiting *v;
    int n, cap;
    int offered; /* how many were on offer when the process stopped */
};

static const char SQL_WAITING[] =
    "SELECT id, person_id, community_code, trigger, priority, created_at, state FROM calls"
    " WHERE state IN ('queued', 'offered') ORDER BY id";

static int rebuild_read_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct rebuild *r = arg;
    sqlite3_stmt *st = store_stmt(c, SQL_WAITING, err);
    if (!st)
        return err->status;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (r->n == r->cap) {
            int cap = r->cap ? r->cap * 2 : 64;
            struct waiting *v = realloc(r->v, (size_t)cap * sizeof *v);
            if (!v) {
                sqlite3_reset(st);
                return linli_fail(err, LINLI_ENOMEM, "Out of memory rebuilding the call queue.");
            }
            r->v = v;
            r->cap = cap;
        }
        struct waiting *w = &r->v[r->n++];
        memset(w, 0, sizeof *w);
        w->id = sqlite3_column_int64(st, 0);
        w->person_id = sqlite3_column_int64(st, 1);
        const unsigned char *t = sqlite3_column_text(st, 2);
        snprintf(w->community, sizeof w->community, "%s", t ? (const char *)t : "");
        t = sqlite3_column_text(st, 3);
        snprintf(w->trigger, sizeof w->trigger, "%s", t ? (const char *)t : "");
        w->priority = sqlite3_column_int(st, 4);
        w->created_at = sqlite3_column_int64(st, 5);
        t = sqlite3_column_text(st, 6);
        if (t && !strcmp((const char *)t, "offered"))
            r->offered++;
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? LINLI_OK : store_fail(c, rc, "reading the waiting calls", err);
}

static const char SQL_OFFERED_IDS[] = "SELECT id FROM calls WHERE state = 'offered'";
static const char SQL_REQUEUE[] =
    "UPDATE calls SET state = 'queued', updated_at = ? WHERE state = 'offered'";

/* Offers in flight when the process stopped are void: queued again. */
static int requeue_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    int64_t now = *(int64_t *)arg;
    sqlite3_stmt *st = store_stmt(c, SQL_OFFERED_IDS, err);
    if (!st)
        return err->status;
    int64_t ids[256];
    int n = 0, rc;
    while (n < 256 && (rc = sqlite3_step(st)) == SQLITE_ROW)
        ids[n++] = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    json_t *detail = json_pack("{s:s}", "reason", "restart");
    for (int i = 0; i < n; i++) {
        if ((rc = calls__event(c, ids[i], now, 0, "requeued", detail, err))) {
            json_decref(detail);
            return rc;
        }
    }
    json_decref(detail);
    if (!(st = store_stmt(c, SQL_REQUEUE, err)))
        return err->status;
    sqlite3_bind_int64(st, 1, now);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? LINLI_OK : store_fail(c, rc, "queueing offered calls again", err);
}

/* The dispatch state, rebuilt from the store on first use. NULL when it
 * cannot be had (out of memory); a failed rebuild is retried next time. */
struct dispatch *dispatch__get(struct domain *d)
{
    struct dispatch *x = dispatch_made(d);
    if (!x || __atomic_load_n(&x->loaded, __ATOMIC_ACQUIRE))
        return x;
    pthread_mutex_lock(&x->load_mu);
    if (!x->loaded) {
        struct rebuild r = {0};
        struct linli_err err;
        linli_err_clear(&err);
        int rc = store_read(d->store, rebuild_read_job, &r, &err);
        if (!rc && r.offered) {
            int64_t now = clock_now_ms();
            rc = store_write(d->store, requeue_job, &now, &err);
        }
        if (!rc) {
            pthread_mutex_lock(&x->mu);
            for (int i = 0; i < r.n; i++)
                dispatch__queue_put(x, &r.v[i]);
            pthread_mutex_unlock(&x->mu);
            if (r.n)
                log_info("calls: %d waiting call(s) back in the queue", r.n);
            __atomic_store_n(&x->loaded, 1, __ATOMIC_RELEASE);
        } else {
            log_warn("calls: cannot rebuild the call queue: %s", err.detail);
        }
        free(r.v);
    }
    pthread_mutex_unlock(&x->load_mu);
    return x;
}

/* ---- carrying decisions out ---- */

static const char SQL_OFFER[] = "UPDATE calls SET state = 'offered', offered_at = ?, updated_at = ?"
                                " WHERE id = ? AND state IN ('queued', 'offered')";
static const char SQL_UNOFFER[] =
    "UPDATE calls SET state = 'queued', updated_at = ? WHERE id = ? AND state = 'offered'";

static const char *const decision_event[] = {"offered", "offer_expired", "declined",
                                             "offer_released"};

struct apply_job {
    struct decisions *ds;
};

static int apply_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct decisions *ds = ((struct apply_job *)arg)->ds;
    for (int i = 0; i < ds->n; i++) {
        struct decision *x = &ds->v[i];
        x->written = false;
        sqlite3_stmt *st = store_stmt(c, x->kind == D_OFFER ? SQL_OFFER : SQL_UNOFFER, err);
        if (!st)
            return err->status;
        int k = 1;
        if (x->kind == D_OFFER)
            sqlite3_bind_int64(st, k++, x->at);
        sqlite3_bind_int64(st, k++, x->at);
        sqlite3_bind_int64(st, k, x->call_id);
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
            return store_fail(c, rc, "recording an offer", err);
        if (!sqlite3_changes(store_db(c)))
            continue; /* answered or abandoned meanwhile: nothing to record */
        json_t *detail = json_pack("{s:I}", "operator_id", (json_int_t)x->operator_id);
        rc = calls__event(c, x->call_id, x->at, x->kind == D_DECLINE ? x->operator_id : 0,
                          decision_event[x->kind], detail, err);
        json_decref(detail);
        if (rc)
            return rc;
        x->written = true;
        if (x->kind == D_OFFER && x->pop) {
            /* The contacts' phones in the screen pop are disclosed with
             * this commit: the audit entry commits with it. */
            char object[32], reason[48];
            snprintf(object, sizeof object, "person:%lld", (long long)x->pop_person);
            snprintf(reason, sizeof reason, "call %lld", (long long)x->call_id);
            json_t *ad = json_pack("{s:[s], s:s}", "fields", "phone", "reason", reason);
            rc = audit_append(c, &x->who, "person.reveal", object, ad, err);
            json_decref(ad);
            if (rc)
                return rc;
        }
    }
    return LINLI_OK;
}

static json_t *waiting_json(const struct waiting *w)
{
    char buf[40];
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(w->id));
    json_object_set_new(o, "person_id", w->person_id ? json_integer(w->person_id) : json_null());
    json_object_set_new(o, "community_code",
                        w->community[0] ? json_string(w->community) : json_null());
    json_object_set_new(o, "trigger", json_string(w->trigger));
    json_object_set_new(o, "priority", json_integer(w->priority));
    json_object_set_new(o, "urgent", json_boolean(w->priority == 0));
    json_object_set_new(o, "state", json_string(w->offered_to ? "offered" : "queued"));
    json_object_set_new(o, "offered_to", w->offered_to ? json_integer(w->offered_to) : json_null());
    json_object_set_new(o, "created_at",
                        json_string(clock_format_rfc3339(w->created_at, buf, sizeof buf)));
    return o;
}

/* Publishes "console.queue" for each community in `codes` with its waiting
 * calls: a console keeps one list per community it sees. */
static void publish_queues(struct domain *d, struct dispatch *x, char (*codes)[AREA_CODE_LEN + 1],
                           int n)
{
    for (int k = 0; k < n; k++) {
        json_t *calls = json_array();
        pthread_mutex_lock(&x->mu);
        for (int i = 0; i < x->ncalls; i++)
            if (!strcmp(x->calls[i].community, codes[k]))
                json_array_append_new(calls, waiting_json(&x->calls[i]));
        pthread_mutex_unlock(&x->mu);
        json_t *p = json_pack("{s:s, s:o}", "community_code", codes[k], "calls", calls);
        domain_publish(d, "console.queue", p);
    }
}

struct codes {
    char v[16][AREA_CODE_LEN + 1];
    int n;
};

static void codes_add(struct codes *cs, const char *code)
{
    for (int i = 0; i < cs->n; i++)
        if (!strcmp(cs->v[i], code))
            return;
    if (cs->n < 16)
        snprintf(cs->v[cs->n++], AREA_CODE_LEN + 1, "%s", code);
}

/* Announces (console.call, call.updated) each call whose state a written
 * decision changed, once per call, with what happened last to it: an offer
 * that expired and went to the next operator is one "offered". `skip` is a
 * call the caller announces itself (0 = none). */
static void announce_decided(struct domain *d, const struct decisions *ds, int64_t skip)
{
    for (int i = 0; i < ds->n; i++) {
        const struct decision *dx = &ds->v[i];
        if (!dx->written || dx->call_id == skip)
            continue;
        bool later = false; /* a later written decision about the same call */
        for (int k = i + 1; k < ds->n && !later; k++)
            later = ds->v[k].written && ds->v[k].call_id == dx->call_id;
        if (!later)
            calls__announce(d, dx->call_id, decision_event[dx->kind]);
    }
}

/* Writes the decisions, then publishes the offers (with their screen pops),
 * the queues of the communities concerned and the calls whose state changed.
 * `extra` names one more community whose queue changed (or ""); `skip` a
 * call the caller announces itself (0 = none). Frees the decisions. */
void dispatch__apply(struct domain *d, struct dispatch *x, struct decisions *ds, const char *extra,
                     int64_t skip)
{
    struct codes cs = {.n = 0};
    if (extra && *extra)
        codes_add(&cs, extra);
    if (ds->n) {
        for (int i = 0; i < ds->n; i++) {
            struct decision *dx = &ds->v[i];
            codes_add(&cs, dx->community);
            if (dx->kind != D_OFFER)
                continue;
            struct linli_err perr;
            linli_err_clear(&perr);
            if (calls__pop_build(d, &dx->who, dx->call_id, &dx->pop, &dx->pop_person, &perr)) {
                log_warn("calls: no screen pop for call %lld: %s", (long long)dx->call_id,
                         perr.detail);
                dx->pop = NULL;
            }
        }
        struct apply_job job = {ds};
        struct linli_err err;
        linli_err_clear(&err);
        if (store_write(d->store, apply_job, &job, &err)) {
            if (err.status != LINLI_ESHUTDOWN)
                log_warn("calls: cannot record offers: %s", err.detail);
            decisions_free(ds);
            return;
        }
        for (int i = 0; i < ds->n; i++) {
            struct decision *dx = &ds->v[i];
            if (dx->kind != D_OFFER)
                continue;
            if (!dx->written) { /* the call left the queue meanwhile */
                pthread_mutex_lock(&x->mu);
                int k = dispatch__find_call(x, dx->call_id);
                if (k >= 0 && x->calls[k].offered_to == dx->operator_id)
                    dispatch__queue_remove(x, k);
                pthread_mutex_unlock(&x->mu);
                continue;
            }
            json_t *callj = NULL;
            int64_t timeout_ms = 0, expires_at = 0;
            pthread_mutex_lock(&x->mu);
            int k = dispatch__find_call(x, dx->call_id);
            if (k >= 0 && x->calls[k].offered_to == dx->operator_id) { /* still theirs */
                callj = waiting_json(&x->calls[k]);
                expires_at = x->calls[k].offer_deadline;
            }
            timeout_ms = x->timeout_ms;
            pthread_mutex_unlock(&x->mu);
            if (!callj)
                continue;
            json_t *p =
                json_pack("{s:I, s:s, s:o, s:o}", "operator_id", (json_int_t)dx->operator_id,
                          "community_code", dx->community, "call", callj, "screen_pop",
                          dx->pop ? json_incref(dx->pop) : json_null());
            json_object_set_new(p, "offer_timeout_ms", json_integer(timeout_ms));
            char buf[40];
            json_object_set_new(p, "offer_expires_at",
                                json_string(clock_format_rfc3339(expires_at, buf, sizeof buf)));
            domain_publish(d, "console.offer", p);
        }
    }
    publish_queues(d, x, cs.v, cs.n);
    announce_decided(d, ds, skip);
    decisions_free(ds);
}

/* ---- from the intake ---- */

struct one_call {
    int64_t id;
    struct call c;
};

static int one_call_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct one_call *o = arg;
    return calls__load(c, o->id, &o->c, err);
}

int dispatch__read_call(struct domain *d, int64_t id, struct call *out, struct linli_err *err)
{
    struct one_call o = {.id = id};
    int rc = store_read(d->store, one_call_job, &o, err);
    if (!rc)
        *out = o.c;
    return rc;
}

void calls_enqueue(struct domain *d, int64_t call_id)
{
    struct dispatch *x = dispatch__get(d);
    if (!x)
        return;
    struct one_call o = {.id = call_id};
    struct linli_err err;
    linli_err_clear(&err);
    if (store_read(d->store, one_call_job, &o, &err)) {
        log_warn("calls: cannot queue call %lld: %s", (long long)call_id, err.detail);
        return;
    }
    if (o.c.state != CALL_QUEUED && o.c.state != CALL_OFFERED)
        return;
    struct waiting w;
    memset(&w, 0, sizeof w);
    w.id = o.c.id;
    w.person_id = o.c.person_id;
    w.created_at = o.c.created_at;
    w.priority = o.c.priority;
    snprintf(w.community, sizeof w.community, "%s", o.c.community_code);
    snprintf(w.trigger, sizeof w.trigger, "%s", o.c.trigger);
    struct decisions ds = {0};
    pthread_mutex_lock(&x->mu);
    if (dispatch__queue_put(x, &w))
        log_warn("calls: out of memory queueing call %lld", (long long)call_id);
    dispatch__round_locked(x, clock_now_ms(), &ds);
    pthread_mutex_unlock(&x->mu);
    dispatch__apply(d, x, &ds, w.community, call_id);
    calls__announce(d, call_id, "queued");
}

static const char SQL_CALLBACK_TASK[] =
    "SELECT id FROM tasks WHERE call_id = ? AND kind = 'callback' ORDER BY id DESC LIMIT 1";

static int callback_task_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    int64_t *io = arg; /* in: the call; out: its callback task or 0 */
    sqlite3_stmt *st = store_stmt(c, SQL_CALLBACK_TASK, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, io[0]);
    int rc = sqlite3_step(st);
    io[1] = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? LINLI_OK
                                                 : store_fail(c, rc, "finding a callback", err);
}

void calls_dequeue(struct domain *d, int64_t call_id)
{
    struct dispatch *x = dispatch__get(d);
    if (!x)
        return;
    char community[AREA_CODE_LEN + 1] = "";
    struct decisions ds = {0};
    pthread_mutex_lock(&x->mu);
    int i = dispatch__find_call(x, call_id);
    if (i >= 0) {
        snprintf(community, sizeof community, "%s", x->calls[i].community);
        dispatch__queue_remove(x, i); /* the operator who held the offer is free for the next */
        dispatch__round_locked(x, clock_now_ms(), &ds);
    }
    pthread_mutex_unlock(&x->mu);
    dispatch__apply(d, x, &ds, community, 0);
    calls__announce(d, call_id, "abandoned");
    /* The callback task calls__cancel_in_job made is announced here, after
     * the commit, since the intake is not told its id. */
    int64_t io[2] = {call_id, 0};
    struct linli_err err;
    linli_err_clear(&err);
    if (!store_read(d->store, callback_task_job, io, &err) && io[1])
        care_task_announce(d, io[1]);
}

/* ---- the queue as operators see it ---- */

int calls_queue(struct domain *d, const struct principal *who, json_t **out, struct linli_err *err)
{
    if (!calls__may_read(who))
        return linli_fail(err, LINLI_EFORBIDDEN, "Your role has no access to calls.");
    struct dispatch *x = dispatch__get(d);
    if (!x)
        return linli_fail(err, LINLI_ENOMEM, "Out of memory for the call queue.");
    json_t *a = json_array();
    pthread_mutex_lock(&x->mu);
    for (int i = 0; i < x->ncalls; i++)
        if (calls__in_scope(who, x->calls[i].community))
            json_array_append_new(a, waiting_json(&x->calls[i]));
    pthread_mutex_unlock(&x->mu);
    *out = a;
    return LINLI_OK;
}

int64_t calls__offered_to(struct domain *d, int64_t id)
{
    struct dispatch *x = dispatch__get(d);
    if (!x)
        return 0;
    pthread_mutex_lock(&x->mu);
    int i = dispatch__find_call(x, id);
    int64_t holder = i >= 0 ? x->calls[i].offered_to : 0;
    pthread_mutex_unlock(&x->mu);
    return holder;
}
