/* calls_dispatch.c - distribution of calls to operators, in memory: the
 * queue of calls not yet answered, the operators' presence, offers and their
 * timeouts, the answer (one operator wins) and declines.
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
#include "domain/calls_internal.h"
#include "domain/care.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TRIED_MAX 32 /* operators remembered per call as tried or declined */
#define GONE_PER_TICK 32 /* operators set away per tick when their grace ends */

struct waiting {
    int64_t id, person_id, created_at;
    int priority;
    char community[AREA_CODE_LEN + 1];
    char trigger[16];
    int64_t offered_to;     /* 0 = nobody holds an offer */
    int64_t offer_deadline; /* ms */
    int ntried, ndeclined;
    int64_t tried[TRIED_MAX], declined[TRIED_MAX];
};

struct agent {
    struct principal who; /* as of their last presence change or answer */
    int presence;         /* enum presence */
    int64_t since;        /* presence since, ms */
    int64_t idle_since;   /* ms; ties broken by idle_seq */
    uint64_t idle_seq;
    int64_t current_call; /* answered and not yet closed, 0 = none */
    int64_t offer;        /* call held on offer, 0 = none */
    int consoles;         /* live console streams */
    int64_t gone_since;   /* ms the last console ended, while in grace; 0 = not */
    int after_call;       /* presence once the current call closes: as before the answer */
};

struct dispatch {
    pthread_mutex_t mu;
    struct waiting *calls; /* sorted by (priority, created_at, id) */
    int ncalls, calls_cap;
    struct agent *ops;
    int nops, ops_cap;
    int64_t timeout_ms;
    int64_t grace_ms; /* after the last console ends, before away */
    uint64_t seq;
    pthread_mutex_t load_mu;
    int loaded; /* rebuilt from the store */
};

enum decision_kind { D_OFFER, D_EXPIRE, D_DECLINE, D_RELEASE };

struct decision {
    int kind;
    int64_t call_id, operator_id, at;
    char community[AREA_CODE_LEN + 1];
    struct principal who; /* D_OFFER: the operator (for the screen pop) */
    bool written;         /* D_OFFER: the store took it */
    json_t *pop;
    int64_t pop_person;
};

struct decisions {
    struct decision *v;
    int n, cap;
};

static struct decision *decision_add(struct decisions *ds, int kind, const struct waiting *w,
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

static int find_call(struct dispatch *x, int64_t id)
{
    for (int i = 0; i < x->ncalls; i++)
        if (x->calls[i].id == id)
            return i;
    return -1;
}

static struct agent *find_op(struct dispatch *x, int64_t user_id)
{
    for (int i = 0; i < x->nops; i++)
        if (x->ops[i].who.user_id == user_id)
            return &x->ops[i];
    return NULL;
}

/* The operator entry of `who`, made (away) when missing; NULL when out of
 * memory. Refreshes the principal (scope changes apply from the next use). */
static struct agent *op_of(struct dispatch *x, const struct principal *who, int64_t now)
{
    struct agent *op = find_op(x, who->user_id);
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
static int queue_put(struct dispatch *x, const struct waiting *w)
{
    if (find_call(x, w->id) >= 0)
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
static void queue_remove(struct dispatch *x, int i)
{
    struct waiting *w = &x->calls[i];
    if (w->offered_to) {
        struct agent *op = find_op(x, w->offered_to);
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

static void list_add(int64_t *v, int *n, int64_t id)
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
static void round_locked(struct dispatch *x, int64_t now, struct decisions *ds)
{
    for (int i = 0; i < x->ncalls; i++) {
        struct waiting *w = &x->calls[i];
        if (w->offered_to)
            continue;
        struct agent *op = pick(x, w);
        if (!op)
            continue;
        struct decision *dx = decision_add(ds, D_OFFER, w, op->who.user_id, now);
        if (!dx)
            return;
        dx->who = op->who;
        w->offered_to = op->who.user_id;
        w->offer_deadline = now + x->timeout_ms;
        op->offer = w->id;
    }
}

/* Takes back the offer `op` holds (they went away, or busy). Mutex held. */
static void release_offer(struct dispatch *x, struct agent *op, int kind, int64_t now,
                          struct decisions *ds)
{
    if (!op->offer)
        return;
    int i = find_call(x, op->offer);
    op->offer = 0;
    if (i < 0)
        return;
    struct waiting *w = &x->calls[i];
    w->offered_to = 0;
    if (kind == D_DECLINE)
        list_add(w->declined, &w->ndeclined, op->who.user_id);
    else
        list_add(w->tried, &w->ntried, op->who.user_id);
    decision_add(ds, kind, w, op->who.user_id, now);
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
static struct dispatch *dispatch_get(struct domain *d)
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
                queue_put(x, &r.v[i]);
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
static void apply(struct domain *d, struct dispatch *x, struct decisions *ds, const char *extra,
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
                int k = find_call(x, dx->call_id);
                if (k >= 0 && x->calls[k].offered_to == dx->operator_id)
                    queue_remove(x, k);
                pthread_mutex_unlock(&x->mu);
                continue;
            }
            json_t *callj = NULL;
            int64_t timeout_ms = 0, expires_at = 0;
            pthread_mutex_lock(&x->mu);
            int k = find_call(x, dx->call_id);
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

void calls_enqueue(struct domain *d, int64_t call_id)
{
    struct dispatch *x = dispatch_get(d);
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
    if (queue_put(x, &w))
        log_warn("calls: out of memory queueing call %lld", (long long)call_id);
    round_locked(x, clock_now_ms(), &ds);
    pthread_mutex_unlock(&x->mu);
    apply(d, x, &ds, w.community, call_id);
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
    struct dispatch *x = dispatch_get(d);
    if (!x)
        return;
    char community[AREA_CODE_LEN + 1] = "";
    struct decisions ds = {0};
    pthread_mutex_lock(&x->mu);
    int i = find_call(x, call_id);
    if (i >= 0) {
        snprintf(community, sizeof community, "%s", x->calls[i].community);
        queue_remove(x, i); /* the operator who held the offer is free for the next */
        round_locked(x, clock_now_ms(), &ds);
    }
    pthread_mutex_unlock(&x->mu);
    apply(d, x, &ds, community, 0);
    calls__announce(d, call_id, "abandoned");
    /* The callback task calls__cancel_in_job made is announced here, after
     * the commit, since the intake is not told its id. */
    int64_t io[2] = {call_id, 0};
    struct linli_err err;
    linli_err_clear(&err);
    if (!store_read(d->store, callback_task_job, io, &err) && io[1])
        care_task_announce(d, io[1]);
}

/* ---- time ---- */

static void publish_presence(struct domain *d, int64_t user_id, int state, int64_t since,
                             int64_t current_call);
static bool presence_locked(struct dispatch *x, struct agent *op, int state, int64_t now,
                            struct decisions *ds);

void calls_tick(struct domain *d, int64_t now_ms)
{
    struct dispatch *x = dispatch_get(d);
    if (!x)
        return;
    struct decisions ds = {0};
    pthread_mutex_lock(&x->mu);
    for (int i = 0; i < x->ncalls; i++) {
        struct waiting *w = &x->calls[i];
        if (!w->offered_to || w->offer_deadline > now_ms)
            continue;
        struct agent *op = find_op(x, w->offered_to);
        if (op && op->offer == w->id) {
            release_offer(x, op, D_EXPIRE, now_ms, &ds);
        } else { /* cannot happen; recover all the same */
            list_add(w->tried, &w->ntried, w->offered_to);
            decision_add(&ds, D_EXPIRE, w, w->offered_to, now_ms);
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
        round_locked(x, now_ms, &ds);
    pthread_mutex_unlock(&x->mu);
    if (ds.n)
        apply(d, x, &ds, NULL, 0);
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
        release_offer(x, op, D_RELEASE, now, ds);
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
    struct dispatch *x = dispatch_get(d);
    if (!x)
        return linli_fail(err, LINLI_ENOMEM, "Out of memory for the call queue.");
    int64_t now = clock_now_ms();
    struct decisions ds = {0};
    pthread_mutex_lock(&x->mu);
    struct agent *op = op_of(x, who, now);
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
        round_locked(x, now, &ds);
    int64_t since = op->since, current = op->current_call;
    pthread_mutex_unlock(&x->mu);
    apply(d, x, &ds, NULL, 0);
    if (changed)
        publish_presence(d, who->user_id, state, since, current);
    return LINLI_OK;
}

int calls_get_presence(struct domain *d, const struct principal *who, int *state, int64_t *since_ms,
                       struct linli_err *err)
{
    if (!calls__may_work(who))
        return linli_fail(err, LINLI_EFORBIDDEN, "Only operators take calls.");
    struct dispatch *x = dispatch_get(d);
    if (!x)
        return linli_fail(err, LINLI_ENOMEM, "Out of memory for the call queue.");
    pthread_mutex_lock(&x->mu);
    struct agent *op = find_op(x, who->user_id);
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
    struct dispatch *x = dispatch_get(d);
    if (!x)
        return linli_fail(err, LINLI_ENOMEM, "Out of memory for the call queue.");
    pthread_mutex_lock(&x->mu);
    struct agent *op = find_op(x, who->user_id);
    if (op) {
        *current_call = op->current_call;
        int i = op->offer ? find_call(x, op->offer) : -1;
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
    struct dispatch *x = dispatch_get(d);
    if (!x || !calls__may_work(who))
        return;
    pthread_mutex_lock(&x->mu);
    struct agent *op = op_of(x, who, clock_now_ms());
    if (op) {
        op->consoles++;
        op->gone_since = 0; /* back within the grace: as if never gone */
    }
    pthread_mutex_unlock(&x->mu);
}

void calls_console_closed(struct domain *d, const struct principal *who)
{
    struct dispatch *x = dispatch_get(d);
    if (!x)
        return;
    int64_t now = clock_now_ms();
    struct decisions ds = {0};
    bool changed = false;
    int64_t current = 0;
    pthread_mutex_lock(&x->mu);
    struct agent *op = find_op(x, who->user_id);
    if (op && op->consoles > 0 && --op->consoles == 0) {
        if (x->grace_ms > 0 && op->presence != PRESENCE_AWAY) {
            /* Nobody is watching for offers: away once the grace runs out
             * (calls_tick), unless a console comes back first. */
            op->gone_since = now;
        } else {
            changed = presence_locked(x, op, PRESENCE_AWAY, now, &ds);
            current = op->current_call;
            if (changed)
                round_locked(x, now, &ds);
        }
    }
    pthread_mutex_unlock(&x->mu);
    apply(d, x, &ds, NULL, 0);
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
    struct one_call o = {.id = id};
    *waiting = false;
    int rc = store_read(d->store, one_call_job, &o, err);
    if (rc == LINLI_ENOTFOUND || (!rc && !calls__in_scope(who, o.c.community_code)))
        return linli_fail(err, LINLI_ENOTFOUND, "No call %lld in your area.", (long long)id);
    if (rc)
        return rc;
    if (o.c.state == CALL_QUEUED || o.c.state == CALL_OFFERED) {
        *waiting = true; /* committed but not yet queued: the caller queues it */
        return LINLI_OK;
    }
    return linli_fail(err, LINLI_ECONFLICT, "The call is %s: it can no longer be answered.",
                      call_state_name(o.c.state));
}

int calls_answer(struct domain *d, const struct principal *who, int64_t id, struct call *out,
                 struct linli_err *err)
{
    if (!calls__may_work(who))
        return linli_fail(err, LINLI_EFORBIDDEN, "Only operators answer calls.");
    struct dispatch *x = dispatch_get(d);
    if (!x)
        return linli_fail(err, LINLI_ENOMEM, "Out of memory for the call queue.");
    int64_t now = clock_now_ms();
    struct decisions ds = {0};
    struct waiting w;
    int prev_presence = PRESENCE_AWAY;
    for (int attempt = 0;; attempt++) {
        pthread_mutex_lock(&x->mu);
        int i = find_call(x, id);
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
    int i = find_call(x, id);
    w = x->calls[i];
    const char *why = NULL;
    if (!calls__in_scope(who, w.community)) {
        pthread_mutex_unlock(&x->mu);
        return linli_fail(err, LINLI_ENOTFOUND, "No call %lld in your area.", (long long)id);
    }
    struct agent *op = op_of(x, who, now);
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
        release_offer(x, op, D_RELEASE, now, &ds);
    queue_remove(x, i);
    op->offer = 0;
    prev_presence = op->presence;
    op->after_call = prev_presence == PRESENCE_AWAY ? PRESENCE_AWAY : PRESENCE_AVAILABLE;
    op->presence = PRESENCE_BUSY;
    op->since = now;
    op->current_call = id;
    round_locked(x, now, &ds);
    pthread_mutex_unlock(&x->mu);

    struct answer_job j = {.who = who, .id = id, .at = now};
    int rc = store_write(d->store, answer_job, &j, err);
    if (rc) {
        /* Not answered after all (hung up meanwhile, or the store failed). */
        pthread_mutex_lock(&x->mu);
        op = find_op(x, who->user_id);
        if (op && op->current_call == id) {
            op->current_call = 0;
            op->presence = prev_presence;
            op->since = now;
            if (prev_presence == PRESENCE_AVAILABLE)
                round_locked(x, now, &ds);
        }
        if (rc != LINLI_ECONFLICT && rc != LINLI_ENOTFOUND)
            queue_put(x, &w); /* the store failed: it still waits */
        pthread_mutex_unlock(&x->mu);
        apply(d, x, &ds, w.community, 0);
        return rc;
    }
    apply(d, x, &ds, w.community, 0);
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
    struct dispatch *x = dispatch_get(d);
    if (!x)
        return linli_fail(err, LINLI_ENOMEM, "Out of memory for the call queue.");
    int64_t now = clock_now_ms();
    struct decisions ds = {0};
    pthread_mutex_lock(&x->mu);
    int i = find_call(x, id);
    struct agent *op = find_op(x, who->user_id);
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
    release_offer(x, op, D_DECLINE, now, &ds);
    round_locked(x, now, &ds);
    pthread_mutex_unlock(&x->mu);
    apply(d, x, &ds, NULL, 0);
    return LINLI_OK;
}

void calls__operator_free(struct domain *d, int64_t operator_id, int64_t now_ms)
{
    struct dispatch *x = dispatch_get(d);
    if (!x)
        return;
    struct decisions ds = {0};
    bool changed = false;
    int after = PRESENCE_AVAILABLE;
    pthread_mutex_lock(&x->mu);
    struct agent *op = find_op(x, operator_id);
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
        round_locked(x, now_ms, &ds);
    }
    pthread_mutex_unlock(&x->mu);
    apply(d, x, &ds, NULL, 0);
    if (changed)
        publish_presence(d, operator_id, after, now_ms, 0);
}

/* ---- the queue as operators see it ---- */

int calls_queue(struct domain *d, const struct principal *who, json_t **out, struct linli_err *err)
{
    if (!calls__may_read(who))
        return linli_fail(err, LINLI_EFORBIDDEN, "Your role has no access to calls.");
    struct dispatch *x = dispatch_get(d);
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
    struct dispatch *x = dispatch_get(d);
    if (!x)
        return 0;
    pthread_mutex_lock(&x->mu);
    int i = find_call(x, id);
    int64_t holder = i >= 0 ? x->calls[i].offered_to : 0;
    pthread_mutex_unlock(&x->mu);
    return holder;
}
