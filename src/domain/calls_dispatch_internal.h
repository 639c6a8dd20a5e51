/* calls_dispatch_internal.h - what the two halves of call distribution
 * share: calls_dispatch.c (the queue, offers, rebuilding from the store and
 * carrying decisions out) and calls_operators.c (time, presence, consoles,
 * answering and declining). One mutex, dispatch.mu, guards everything in
 * struct dispatch; functions marked "Mutex held" expect the caller to hold
 * it. Internal to src/domain. */
#ifndef LINLI_CALLS_DISPATCH_INTERNAL_H
#define LINLI_CALLS_DISPATCH_INTERNAL_H

#include "domain/calls.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define TRIED_MAX     32 /* operators remembered per call as tried or declined */
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

/* Appends a decision about call `w` (copied: its id and community) to `ds`;
 * NULL when out of memory. */
struct decision *dispatch__decision_add(struct decisions *ds, int kind, const struct waiting *w,
                                        int64_t operator_id, int64_t at);

/* The dispatch state, rebuilt from the store on first use. NULL when it
 * cannot be had (out of memory); a failed rebuild is retried next time. */
struct dispatch *dispatch__get(struct domain *d);

/* Reads call `id` from the store (its own read job; no mutex needed). */
int dispatch__read_call(struct domain *d, int64_t id, struct call *out, struct linli_err *err);

/* Mutex held: the position of call `id` in the queue, or -1. */
int dispatch__find_call(struct dispatch *x, int64_t id);
/* Mutex held: the operator entry of `user_id`, or NULL. */
struct agent *dispatch__find_op(struct dispatch *x, int64_t user_id);
/* Mutex held: the operator entry of `who`, made (away) when missing; NULL
 * when out of memory. Refreshes the principal (scope changes apply from the
 * next use). */
struct agent *dispatch__op_of(struct dispatch *x, const struct principal *who, int64_t now);
/* Mutex held: inserts a waiting call in order (a call already there is left
 * alone). 0, or -1 out of memory. */
int dispatch__queue_put(struct dispatch *x, const struct waiting *w);
/* Mutex held: removes the call at `i`, clearing the offer its operator held. */
void dispatch__queue_remove(struct dispatch *x, int i);
/* Adds `id` to the list v[0..*n) unless there (the oldest goes when full). */
void dispatch__list_add(int64_t *v, int *n, int64_t id);
/* Mutex held: offers every waiting call without an offer that someone can
 * take, adding the offers to `ds`. */
void dispatch__round_locked(struct dispatch *x, int64_t now, struct decisions *ds);
/* Mutex held: takes back the offer `op` holds (they went away, busy, let it
 * expire or declined: `kind`), adding the decision to `ds`. */
void dispatch__release_offer(struct dispatch *x, struct agent *op, int kind, int64_t now,
                             struct decisions *ds);
/* Mutex NOT held: writes the decisions, then publishes the offers (with their
 * screen pops), the queues of the communities concerned and the calls whose
 * state changed. `extra` names one more community whose queue changed (or
 * ""); `skip` a call the caller announces itself (0 = none). Frees the
 * decisions. */
void dispatch__apply(struct domain *d, struct dispatch *x, struct decisions *ds, const char *extra,
                     int64_t skip);

#endif
