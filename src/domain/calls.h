/* calls.h - calls to the one-key call centre and the operators who take them.
 *
 * A key press or a fall becomes a call (devices_intake creates it in the
 * same transaction as the event). A call moves
 *
 *   queued -> offered -> answered -> classified -> closed
 *
 * with `abandoned` when the caller hangs up before anyone answered (a
 * callback task is made for it). Every step is a row of the call's
 * append-only timeline (call_events).
 *
 * Distribution (calls_dispatch.c) lives in memory: the queue of calls not yet
 * answered, ordered by priority (emergency and fire keys and falls first)
 * then age, and the operators' presence. A queued call is offered to the
 * available operator, among those whose scope holds the caller's community,
 * who has been idle longest; an offer not answered within the offer timeout
 * goes to the next; with nobody available the call waits and every operator
 * in scope sees it in the queue and may take it. On start the queue is
 * rebuilt from the store (offers in flight become queued again).
 *
 * Operators see all this live on their console stream: the domain publishes
 * on the bus, and the API routes each event to the operators it concerns:
 *   console.offer   {operator_id, call, screen_pop, offer_timeout_ms,
 *                    offer_expires_at}                 to that operator
 *   console.queue   {calls: [...]}                     to operators in scope
 *   console.call    {call}                            to operators in scope
 *   console.task    {task}                            (care.h) to operators in scope
 *   console.presence {operator_id, state}             to that operator
 * Each payload carries "community_code" (or "scope") for the scope filter and
 * "operator_id" where it is meant for one operator.
 *
 * Beside console.call, every change of a call's state is also published as
 *   call.updated    {id, state, category, priority, community_code, kind}
 * for the general event stream (staff in scope, auditors): ids and codes
 * only, `kind` saying what happened (queued, offered, offer_expired,
 * declined, offer_released, answered, classified, closed, abandoned). An
 * action changes no state and publishes console.call only. */
#ifndef LINLI_CALLS_H
#define LINLI_CALLS_H

#include "domain/domain.h"
#include "domain/principal.h"
#include "geo/geo.h"
#include "store/store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define CALL_NOTE_MAX         500 /* characters */
#define CALLS_PAGE_MAX        200
#define CALL_OFFER_TIMEOUT_MS 20000 /* default: an offer not taken in 20 s moves on */
/* Default grace after an operator's last console ends: a reload or a network
 * change reconnects well within it. */
#define CALL_CONSOLE_GRACE_MS 10000

enum call_state {
    CALL_QUEUED,
    CALL_OFFERED,
    CALL_ANSWERED,
    CALL_CLASSIFIED,
    CALL_CLOSED,
    CALL_ABANDONED,
    CALL_STATES
};
const char *call_state_name(int s); /* "queued", ... */
int call_state_parse(const char *text, int *s);

enum call_category {
    CAT_HEALTH,      /* health consultation 健康咨询 */
    CAT_CONVENIENCE, /* convenience service 便民服务 */
    CAT_EMERGENCY,   /* emergency 紧急救助 */
    CAT_FIRE,        /* fire 火警 */
    CAT_FAMILY,      /* family 亲情通话 */
    CAT_FALSE_ALARM, /* false alarm 误报 */
    CAT_OTHER,
    CAT_COUNT
};
/* "health_consultation", "convenience_service", "emergency", "fire",
 * "family", "false_alarm", "other"; parse takes codes or Chinese labels. */
const char *call_category_name(int c);
const char *call_category_label(int c);
int call_category_parse(const char *text, int *c);

enum presence { PRESENCE_AWAY, PRESENCE_AVAILABLE, PRESENCE_BUSY };
const char *presence_name(int p); /* "away", "available", "busy" */
int presence_parse(const char *text, int *p);

struct call {
    int64_t id;
    bool outbound;
    int64_t person_id, device_id;
    char community_code[AREA_CODE_LEN + 1];
    char trigger[16]; /* a key name, "fall", or "manual" */
    int priority;     /* 0 urgent, 1 normal */
    int state;        /* enum call_state */
    int category;     /* enum call_category, -1 = not classified */
    int64_t operator_id;
    int64_t offered_to; /* the operator holding the offer now, 0 = none (memory only) */
    int64_t created_at, offered_at, answered_at, classified_at, closed_at; /* ms, 0 = not yet */
    char outcome[CALL_NOTE_MAX * 4 + 1];
};

/* What devices_intake hands over, inside its write job. */
struct call_seed {
    int64_t person_id, device_id;
    const char *community_code;
    const char *trigger;
    int priority;
    int64_t at; /* ms */
};

/* Inserts a queued call and its first timeline row ("created"), inside the
 * caller's write job. */
int calls__insert(struct store_conn *c, const struct call_seed *s, int64_t *id,
                  struct linli_err *err);
/* After the job committed: puts the call in the memory queue and offers it.
 * Cheap; never blocks on the store for long (one read of the call). */
void calls_enqueue(struct domain *d, int64_t call_id);
/* The caller hung up (devices_intake, DEV_CANCEL, inside its write job):
 * an unanswered call of that device becomes abandoned and a callback task
 * is made (care.h). Returns the call id or 0 when none was waiting. */
int calls__cancel_in_job(struct store_conn *c, int64_t device_id, int64_t at, int64_t *call_id,
                         struct linli_err *err);
/* After such a job committed: takes the call out of the memory queue. */
void calls_dequeue(struct domain *d, int64_t call_id);

/* ---- the operator's work (operators, and admins for testing) ---- */

/* Sets the caller's presence; going available may bring an offer at once. */
int calls_set_presence(struct domain *d, const struct principal *who, int state,
                       struct linli_err *err);
int calls_get_presence(struct domain *d, const struct principal *who, int *state, int64_t *since_ms,
                       struct linli_err *err);

/* What the caller's console shows on (re)connecting: the call they answered
 * and have not closed, the call ringing for them now and when that offer
 * times out (ms; each 0 = none). */
int calls_console_calls(struct domain *d, const struct principal *who, int64_t *current_call,
                        int64_t *offer, int64_t *offer_expires_at, struct linli_err *err);

/* The console stream of an operator opened / ended: when an operator's last
 * console ends they go away (nobody is there to see an offer) once the
 * console grace has passed without a console opening again; meanwhile they
 * are offered no new call. */
void calls_console_opened(struct domain *d, const struct principal *who);
void calls_console_closed(struct domain *d, const struct principal *who);

/* Answers a call: the caller's own offer, or any queued call in scope.
 * ECONFLICT when someone else answered it first or it is no longer waiting.
 * The operator becomes busy. */
int calls_answer(struct domain *d, const struct principal *who, int64_t id, struct call *out,
                 struct linli_err *err);
/* Declines an offer: it goes to the next operator at once. */
int calls_decline(struct domain *d, const struct principal *who, int64_t id, struct linli_err *err);
int calls_classify(struct domain *d, const struct principal *who, int64_t id, int category,
                   const char *note, struct call *out, struct linli_err *err);
/* Closes an answered or classified call; the operator becomes available
 * again (unless away). */
int calls_close(struct domain *d, const struct principal *who, int64_t id, const char *outcome,
                struct call *out, struct linli_err *err);

/* Reads a call with its timeline and actions as JSON (the API's shape). */
int calls_get(struct domain *d, const struct principal *who, int64_t id, json_t **out,
              struct linli_err *err);

struct call_filter {
    int state;              /* -1 = any */
    int64_t person_id;      /* 0 = any */
    int64_t from_ms, to_ms; /* created between; 0 = open */
    int64_t after_id;
    int limit;
};
int calls_list(struct domain *d, const struct principal *who, const struct call_filter *f,
               struct call **items, int *n, int64_t *next, struct linli_err *err);

/* The waiting calls the caller may take, most urgent first (JSON array). */
int calls_queue(struct domain *d, const struct principal *who, json_t **out, struct linli_err *err);

/* The screen pop for a call, as JSON: the caller's name, age, sex, address,
 * home point, conditions, care level, living alone, emergency contacts
 * (phones unmasked for operators: an audited read), the device's last
 * location and battery, the last 5 calls, open tasks, and the nearest
 * suitable services from the directory (health centres for a health key,
 * emergency response and home nursing for emergency, meals and cleaning for
 * the service key). */
int calls_screen_pop(struct domain *d, const struct principal *who, int64_t call_id, json_t **out,
                     struct linli_err *err);

/* ---- actions on a call ---- */

enum call_action_kind {
    ACTION_SERVICE_ORDER, /* to a provider from the directory */
    ACTION_CONTACT,       /* an emergency contact tried */
    ACTION_ESCALATION,    /* 120, 119 or 110 */
    ACTION_FOLLOW_UP,     /* a call back at due_at (makes a task) */
    ACTION_NOTE,
    ACTION_KINDS
};
const char *call_action_kind_name(int k); /* "service_order", "contact", "escalation",
                                             "follow_up", "note" */
int call_action_kind_parse(const char *text, int *k);

/* Service orders: sent -> accepted -> on_the_way -> done | failed;
 * contacts: reached | not_reached; escalations: recorded; follow-ups:
 * scheduled -> done; notes: recorded. */
struct call_action_in {
    int kind;
    int64_t facility_id;  /* service_order */
    const char *service;  /* service_order: a catalogue code */
    int contact_position; /* contact: 1 = first */
    bool reached;         /* contact */
    const char *target;   /* escalation: "120", "119", "110" */
    int64_t due_at;       /* follow_up, ms */
    const char *note;
};

/* Adds an action to an answered or classified call (the operator who
 * answered it, or an admin); appended to the timeline; returns the action
 * as JSON. */
int calls_add_action(struct domain *d, const struct principal *who, int64_t call_id,
                     const struct call_action_in *in, json_t **out, struct linli_err *err);
/* Moves a service order or follow-up on ("accepted", "on_the_way", "done",
 * "failed"); ECONFLICT for a move its state does not allow. */
int calls_update_action(struct domain *d, const struct principal *who, int64_t call_id,
                        int64_t action_id, const char *state, const char *note, json_t **out,
                        struct linli_err *err);

/* ---- time ---- */

/* Moves offers that timed out to the next operator. The scheduler calls it
 * every second; `now_ms` makes it testable. */
void calls_tick(struct domain *d, int64_t now_ms);
/* Sets the offer timeout (ms; default CALL_OFFER_TIMEOUT_MS). */
void calls_set_offer_timeout(struct domain *d, int64_t ms);
/* Sets how long an operator whose last console ended stays as they were
 * before going away (ms; 0 = away at once; default CALL_CONSOLE_GRACE_MS). */
void calls_set_console_grace(struct domain *d, int64_t ms);
/* Frees the memory queue. */
void calls_close_dispatch(struct domain *d);

#endif
