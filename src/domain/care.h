/* care.h - proactive care (主动服务) and the hotline's figures.
 *
 * Care plans say whom the centre reaches out to and when: a daily "I'm OK"
 * check-in for people over 80 who live alone, a weekly call, a follow-up
 * after a hospital discharge, a birthday call, and plans staff define with
 * their own interval. The scheduler turns plans into tasks for operators
 * (care_tick), once per plan per due day.
 *
 * Tasks are the operators' outbound work list: planned calls, urgent tasks
 * (a missed daily check-in, a no-activity alarm, a call back after an
 * abandoned call or a follow-up an operator scheduled) and maintenance tasks
 * (a device silent for too long, a low battery). An operator claims a task,
 * does it, and records the outcome; a done planned or urgent task counts as
 * a proactive service in the figures.
 *
 * Every task change is published as "console.task" with the task and its
 * community code (calls.h lists the console topics), and as "task.updated"
 * {id, kind, state, community_code} for the general event stream. */
#ifndef LINLI_CARE_H
#define LINLI_CARE_H

#include "domain/domain.h"
#include "domain/principal.h"
#include "store/store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CARE_NOTE_MAX          200 /* characters */
#define TASKS_PAGE_MAX         200
#define CARE_PLANS_PAGE_MAX    500
#define CARE_SILENT_S_DEFAULT  (3 * 3600) /* a device unheard of for 3 hours needs a look */
#define CARE_CHECKIN_GRACE_MIN 120        /* a daily check-in is missed 2 hours after its time */

enum care_plan_kind {
    PLAN_DAILY_CHECKIN, /* expects an "I'm OK" by time_of_day; missing -> urgent task */
    PLAN_WEEKLY_CALL,   /* a call on `weekday` */
    PLAN_DISCHARGE,     /* follow-up calls 1, 3 and 7 days after starts_on */
    PLAN_BIRTHDAY,      /* a call on the person's birthday */
    PLAN_CUSTOM,        /* a call every interval_days from starts_on */
    PLAN_KINDS
};
/* "daily_checkin", "weekly_call", "discharge_followup", "birthday_call", "custom". */
const char *care_plan_kind_name(int k);
int care_plan_kind_parse(const char *text, int *k);

enum task_kind {
    TASK_CHECKIN_CALL, /* planned: call to check on someone */
    TASK_WEEKLY_CALL,
    TASK_DISCHARGE_CALL,
    TASK_BIRTHDAY_CALL,
    TASK_CUSTOM_CALL,
    TASK_MISSED_CHECKIN, /* urgent */
    TASK_NO_ACTIVITY,    /* urgent */
    TASK_CALLBACK,       /* urgent: an abandoned call */
    TASK_FOLLOW_UP,      /* an operator's scheduled follow-up */
    TASK_DEVICE_SILENT,  /* maintenance */
    TASK_LOW_BATTERY,    /* maintenance */
    TASK_KINDS
};
const char *task_kind_name(int k); /* "checkin_call", "weekly_call", "discharge_call",
                                      "birthday_call", "custom_call", "missed_checkin",
                                      "no_activity", "callback", "follow_up",
                                      "device_silent", "low_battery" */
int task_kind_parse(const char *text, int *k);
/* 0 urgent, 1 normal, 2 maintenance. */
int task_kind_priority(int k);
/* True for the kinds that count as proactive services when done. */
bool task_kind_proactive(int k);

enum task_state { TASK_OPEN, TASK_CLAIMED, TASK_DONE, TASK_FAILED, TASK_CANCELLED, TASK_STATES };
const char *task_state_name(int s); /* "open", "claimed", "done", "failed", "cancelled" */
int task_state_parse(const char *text, int *s);

struct care_plan_in {
    int64_t person_id;
    const char *kind;
    int time_of_day;                 /* minutes after midnight; -1 = 600 (10:00) */
    int weekday;                     /* 0 Monday .. 6; -1 = none */
    int interval_days;               /* custom: 1..365; -1 = none */
    const char *starts_on, *ends_on; /* YYYY-MM-DD; NULL starts today, never ends */
    const char *note;
};

/* Plans: staff in scope (admin, district, street, community) create, change
 * (active, note, ends_on) and list them; operators read them. JSON in the
 * API's shape. Audited. */
int care_plans_create(struct domain *d, const struct principal *who, const struct care_plan_in *in,
                      json_t **out, struct linli_err *err);
int care_plans_update(struct domain *d, const struct principal *who, int64_t id, json_t *patch,
                      json_t **out, struct linli_err *err);
int care_plans_list(struct domain *d, const struct principal *who, int64_t person_id,
                    int64_t after_id, int limit, json_t **items, int64_t *next,
                    struct linli_err *err);

/* Makes many plans at once (the demo; imports), each checked as
 * care_plans_create checks it, in write jobs of 5,000 plans that commit one
 * after another: on an error (EINVAL naming "rows" with the row index, or
 * ECONFLICT) the batches before the failing one stay. One audit entry per
 * batch (care_plan.import). *made counts the plans stored. */
int care_plans_import(struct domain *d, const struct principal *who,
                      const struct care_plan_in *rows, size_t n, size_t *made,
                      struct linli_err *err);

/* Makes the plans' tasks that are due by `now_ms` (idempotent: one per plan
 * per due date), the urgent tasks of missed daily check-ins, and the
 * maintenance tasks of devices silent for longer than the silent limit
 * (one per silence). Called by the scheduler every minute. */
int care_tick(struct domain *d, int64_t now_ms, struct linli_err *err);
/* Sets the silent limit in seconds (default CARE_SILENT_S_DEFAULT; 0 turns
 * the device watchdog off). */
void care_set_silent_limit(struct domain *d, int64_t seconds);
/* Frees the care settings (d->care); linlid calls it at shutdown. */
void care_close(struct domain *d);

/* Inside devices_intake's or calls' write job: makes a task (urgent or
 * maintenance) unless an open one with the same `dedupe` key exists (then
 * returns that one). `dedupe` may be NULL. */
struct task_seed {
    int kind;
    int64_t person_id, device_id, call_id;
    const char *community_code;
    int64_t due_at; /* ms */
    const char *note;
    const char *dedupe;
};
int care__task_in_job(struct store_conn *c, const struct task_seed *s, int64_t *id,
                      struct linli_err *err);
/* After such a job committed: announces the task ("console.task",
 * "task.updated"). */
void care_task_announce(struct domain *d, int64_t task_id);

/* Operators' list: open and claimed tasks in scope, most urgent and oldest
 * due first; filters state, kind, person. */
struct task_filter {
    int state; /* -1 = open and claimed */
    int kind;  /* -1 = any */
    int64_t person_id;
    bool mine; /* only tasks claimed by the caller (their operator_id) */
    int64_t after_id;
    int limit;
};
int tasks_list(struct domain *d, const struct principal *who, const struct task_filter *f,
               json_t **items, int64_t *next, struct linli_err *err);
/* claim (operator), then done/failed with an outcome; cancel (staff). */
int tasks_claim(struct domain *d, const struct principal *who, int64_t id, json_t **out,
                struct linli_err *err);
int tasks_finish(struct domain *d, const struct principal *who, int64_t id, int state,
                 const char *outcome, json_t **out, struct linli_err *err);

/* ---- figures ---- */

/* GET /api/v1/reports/hotline: for calls created in [from_ms, to_ms) of
 * callers in `area` (NULL = the caller's scope): subscribers in force at
 * to_ms, calls by category (and unclassified), proactive services done,
 * answer time p50/p90/p99 (seconds from created to answered), the share
 * answered within 60 s and within 180 s, abandoned calls, and per operator:
 * calls answered, median answer time, mean handling time (answer to close),
 * tasks done. Staff roles (admin, district, street, community, operator,
 * auditor). */
int hotline_report(struct domain *d, const struct principal *who, int64_t from_ms, int64_t to_ms,
                   const char *area, json_t **out, struct linli_err *err);

#endif
