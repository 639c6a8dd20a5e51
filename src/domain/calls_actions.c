/* calls_actions.c - what an operator does for a call once answered: a
 * service order to a provider from the directory, an emergency contact
 * tried, an escalation to 120/119/110, a follow-up call (which becomes a
 * task), a note. Each action is a row of call_actions and a row of the
 * call's timeline, written in one job.
 *
 * States: service orders sent -> accepted -> on_the_way -> done, or failed
 * from any of those; follow-ups scheduled -> done (or failed); contacts are
 * reached or not_reached, escalations and notes recorded, once and for all. */
#include "domain/calls.h"

#include "base/clock.h"
#include "domain/audit.h"
#include "domain/calls_internal.h"
#include "domain/care.h"
#include "domain/directory.h"
#include "domain/people.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- rows ---- */

/* With the acting user's names beside their id: operators read calls but not users. */
#define ACTION_COLUMNS                                                                             \
    "SELECT a.id, a.call_id, a.kind, a.state, a.facility_id, a.service, a.contact_position,"       \
    " a.target, a.due_at, a.note, a.user_id, a.created_at, a.updated_at, f.name, u.username,"      \
    " NULLIF(u.display_name, '')"                                                                  \
    " FROM call_actions a LEFT JOIN facilities f ON f.id = a.facility_id"                          \
    " LEFT JOIN users u ON u.id = a.user_id"
static const char SQL_ACTION_COLUMNS_OF_CALL[] =
    ACTION_COLUMNS " WHERE a.call_id = ? ORDER BY a.id";
static const char SQL_ACTION_BY_ID[] = ACTION_COLUMNS " WHERE a.id = ? AND a.call_id = ?";

static json_t *opt_time(sqlite3_stmt *st, int i)
{
    if (sqlite3_column_type(st, i) == SQLITE_NULL)
        return json_null();
    char buf[40];
    return json_string(clock_format_rfc3339(sqlite3_column_int64(st, i), buf, sizeof buf));
}

static json_t *opt_int(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? json_null()
                                                     : json_integer(sqlite3_column_int64(st, i));
}

static json_t *opt_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? json_string((const char *)t) : json_null();
}

static json_t *action_json(sqlite3_stmt *st)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(sqlite3_column_int64(st, 0)));
    json_object_set_new(o, "call_id", json_integer(sqlite3_column_int64(st, 1)));
    const char *kind = (const char *)sqlite3_column_text(st, 2);
    const char *state = (const char *)sqlite3_column_text(st, 3);
    json_object_set_new(o, "kind", json_string(kind ? kind : ""));
    json_object_set_new(o, "state", json_string(state ? state : ""));
    json_object_set_new(o, "facility_id", opt_int(st, 4));
    json_object_set_new(o, "facility_name", opt_text(st, 13));
    json_object_set_new(o, "service", opt_text(st, 5));
    json_object_set_new(o, "contact_position", opt_int(st, 6));
    if (kind && !strcmp(kind, "contact"))
        json_object_set_new(o, "reached", json_boolean(state && !strcmp(state, "reached")));
    json_object_set_new(o, "target", opt_text(st, 7));
    json_object_set_new(o, "due_at", opt_time(st, 8));
    json_object_set_new(o, "note", opt_text(st, 9));
    json_object_set_new(o, "user_id", opt_int(st, 10));
    json_object_set_new(o, "username", opt_text(st, 14));
    json_object_set_new(o, "display_name", opt_text(st, 15));
    json_object_set_new(o, "created_at", opt_time(st, 11));
    json_object_set_new(o, "updated_at", opt_time(st, 12));
    return o;
}

int calls__actions_json(struct store_conn *c, int64_t call_id, json_t *into, struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_ACTION_COLUMNS_OF_CALL, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, call_id);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(into, action_json(st));
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? LINLI_OK : store_fail(c, rc, "reading a call's actions", err);
}

/* Reads action `id` of call `call_id` as JSON; ENOTFOUND when absent. */
static int action_load(struct store_conn *c, int64_t call_id, int64_t id, json_t **out,
                       struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_ACTION_BY_ID, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, call_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = action_json(st);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return linli_fail(err, LINLI_ENOTFOUND, "Call %lld has no action %lld.", (long long)call_id,
                          (long long)id);
    return rc == SQLITE_ROW ? LINLI_OK : store_fail(c, rc, "reading an action", err);
}

/* ---- checks ---- */

static const char *const escalation_targets[] = {"120", "119", "110"};

static bool known_target(const char *t)
{
    for (size_t i = 0; t && i < sizeof escalation_targets / sizeof *escalation_targets; i++)
        if (!strcmp(t, escalation_targets[i]))
            return true;
    return false;
}

/* What does not need the store. */
static int check_in(const struct call_action_in *in, struct linli_err *err)
{
    switch (in->kind) {
    case ACTION_SERVICE_ORDER:
        if (in->facility_id <= 0)
            linli_field(err, "facility_id", "is required for a service order");
        if (!in->service || !*in->service)
            linli_field(err, "service", "is required for a service order");
        break;
    case ACTION_CONTACT:
        if (in->contact_position < 1 || in->contact_position > PERSON_CONTACTS_MAX)
            linli_field(err, "contact_position", "must be between 1 and %d", PERSON_CONTACTS_MAX);
        break;
    case ACTION_ESCALATION:
        if (!known_target(in->target))
            linli_field(err, "target", "must be 120, 119 or 110");
        break;
    case ACTION_FOLLOW_UP:
        if (in->due_at <= 0)
            linli_field(err, "due_at", "is required for a follow-up");
        break;
    case ACTION_NOTE:
        if (!in->note || !*in->note)
            linli_field(err, "note", "is required for a note");
        break;
    default:
        linli_field(err, "kind", "must be service_order, contact, escalation, follow_up or note");
    }
    calls__check_note("note", in->note, CALL_NOTE_MAX, err);
    return err->nfields ? LINLI_EINVAL : LINLI_OK;
}

/* The service order's facility: it exists, is open (not suspended or
 * closed) and offers the service. Read before the write job: the directory
 * has its own copy and lock. */
static int check_facility(struct domain *d, const struct call_action_in *in, struct linli_err *err)
{
    struct facility *f = malloc(sizeof *f);
    if (!f)
        return linli_fail(err, LINLI_ENOMEM, "Out of memory.");
    struct linli_err ferr;
    linli_err_clear(&ferr);
    int rc = facilities_get(d, in->facility_id, f, &ferr);
    if (rc == LINLI_ENOTFOUND) {
        free(f);
        return linli_field(err, "facility_id", "no facility has the id %lld",
                           (long long)in->facility_id);
    }
    if (rc) {
        free(f);
        *err = ferr;
        return rc;
    }
    if (f->status != FACILITY_OPEN) {
        rc = linli_fail(err, LINLI_ECONFLICT, "The facility %s is %s: it takes no orders.", f->name,
                        facility_status_name(f->status));
        free(f);
        return rc;
    }
    bool offered = false;
    for (int i = 0; i < f->nservices; i++)
        if (!strcmp(f->services[i].code, in->service))
            offered = true;
    free(f);
    if (!offered)
        return linli_field(err, "service", "the facility does not offer %s", in->service);
    return LINLI_OK;
}

/* ---- adding ---- */

static const char SQL_ACTION_INSERT[] =
    "INSERT INTO call_actions (call_id, kind, state, facility_id, service, contact_position,"
    " target, due_at, note, user_id, created_at, updated_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11)";
static const char SQL_CONTACT_COUNT[] =
    "SELECT count(*) FROM emergency_contacts WHERE person_id = ?";

struct add_job {
    const struct principal *who;
    int64_t call_id, at;
    const struct call_action_in *in;
    json_t *out;
    int64_t task_id;
};

static void bind_opt_i64(sqlite3_stmt *st, int i, int64_t v)
{
    if (v)
        sqlite3_bind_int64(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

static void bind_opt_text(sqlite3_stmt *st, int i, const char *v)
{
    if (v && *v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

static const char *initial_state(const struct call_action_in *in)
{
    switch (in->kind) {
    case ACTION_SERVICE_ORDER:
        return "sent";
    case ACTION_CONTACT:
        return in->reached ? "reached" : "not_reached";
    case ACTION_FOLLOW_UP:
        return "scheduled";
    default:
        return "recorded";
    }
}

static int add_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct add_job *j = arg;
    const struct call_action_in *in = j->in;
    struct call call;
    int rc = calls__load(c, j->call_id, &call, err);
    if (rc == LINLI_ENOTFOUND || (!rc && !calls__in_scope(j->who, call.community_code)))
        return linli_fail(err, LINLI_ENOTFOUND, "No call %lld in your area.",
                          (long long)j->call_id);
    if (rc)
        return rc;
    if (call.state != CALL_ANSWERED && call.state != CALL_CLASSIFIED)
        return linli_fail(err, LINLI_ECONFLICT,
                          "The call is %s: actions are taken on answered calls.",
                          call_state_name(call.state));
    if (j->who->role != ROLE_ADMIN && call.operator_id != j->who->user_id)
        return linli_fail(err, LINLI_EFORBIDDEN,
                          "Only the operator who answered the call may act on it.");
    if (in->kind == ACTION_CONTACT) {
        sqlite3_stmt *st = store_stmt(c, SQL_CONTACT_COUNT, err);
        if (!st)
            return err->status;
        sqlite3_bind_int64(st, 1, call.person_id);
        int n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
        sqlite3_reset(st);
        if (in->contact_position > n)
            return linli_field(err, "contact_position", "the caller has %d emergency contact%s", n,
                               n == 1 ? "" : "s");
    }
    sqlite3_stmt *st = store_stmt(c, SQL_ACTION_INSERT, err);
    if (!st)
        return err->status;
    const char *state = initial_state(in);
    sqlite3_bind_int64(st, 1, j->call_id);
    sqlite3_bind_text(st, 2, call_action_kind_name(in->kind), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, state, -1, SQLITE_STATIC);
    bind_opt_i64(st, 4, in->kind == ACTION_SERVICE_ORDER ? in->facility_id : 0);
    bind_opt_text(st, 5, in->kind == ACTION_SERVICE_ORDER ? in->service : NULL);
    bind_opt_i64(st, 6, in->kind == ACTION_CONTACT ? in->contact_position : 0);
    bind_opt_text(st, 7, in->kind == ACTION_ESCALATION ? in->target : NULL);
    bind_opt_i64(st, 8, in->kind == ACTION_FOLLOW_UP ? in->due_at : 0);
    sqlite3_bind_text(st, 9, in->note ? in->note : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 10, j->who->user_id);
    sqlite3_bind_int64(st, 11, j->at);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return store_fail(c, rc, "recording an action", err);
    int64_t action_id = sqlite3_last_insert_rowid(store_db(c));

    if (in->kind == ACTION_FOLLOW_UP) {
        struct task_seed seed = {.kind = TASK_FOLLOW_UP,
                                 .person_id = call.person_id,
                                 .device_id = call.device_id,
                                 .call_id = j->call_id,
                                 .community_code =
                                     call.community_code[0] ? call.community_code : NULL,
                                 .due_at = in->due_at,
                                 .note = in->note && *in->note ? in->note : "Follow-up call",
                                 .dedupe = NULL};
        if ((rc = care__task_in_job(c, &seed, &j->task_id, err)))
            return rc;
    }
    if ((rc = action_load(c, j->call_id, action_id, &j->out, err)))
        return rc;
    json_t *detail = json_pack("{s:I, s:s, s:s}", "action_id", (json_int_t)action_id, "kind",
                               call_action_kind_name(in->kind), "state", state);
    if (in->kind == ACTION_SERVICE_ORDER) {
        json_object_set_new(detail, "facility_id", json_integer(in->facility_id));
        json_object_set_new(detail, "service", json_string(in->service));
    } else if (in->kind == ACTION_CONTACT) {
        json_object_set_new(detail, "position", json_integer(in->contact_position));
        json_object_set_new(detail, "reached", json_boolean(in->reached));
    } else if (in->kind == ACTION_ESCALATION) {
        json_object_set_new(detail, "target", json_string(in->target));
    } else if (in->kind == ACTION_FOLLOW_UP) {
        json_object_set_new(detail, "due_at",
                            json_object_get(j->out, "due_at")
                                ? json_incref(json_object_get(j->out, "due_at"))
                                : json_null());
        json_object_set_new(detail, "task_id", json_integer(j->task_id));
    }
    if (in->note && *in->note)
        json_object_set_new(detail, "note", json_string(in->note));
    rc = calls__event(c, j->call_id, j->at, j->who->user_id, "action", detail, err);
    char object[32];
    snprintf(object, sizeof object, "call:%lld", (long long)j->call_id);
    if (!rc)
        rc = audit_append(c, j->who, "call.action", object, detail, err);
    json_decref(detail);
    return rc;
}

int calls_add_action(struct domain *d, const struct principal *who, int64_t call_id,
                     const struct call_action_in *in, json_t **out, struct linli_err *err)
{
    if (!calls__may_work(who))
        return linli_fail(err, LINLI_EFORBIDDEN, "Only operators act on calls.");
    int rc = check_in(in, err);
    if (rc)
        return rc;
    if (in->kind == ACTION_SERVICE_ORDER && (rc = check_facility(d, in, err)))
        return rc;
    struct add_job j = {.who = who, .call_id = call_id, .at = clock_now_ms(), .in = in};
    rc = store_write(d->store, add_job, &j, err);
    if (rc) {
        json_decref(j.out);
        return rc;
    }
    if (j.task_id)
        care_task_announce(d, j.task_id);
    calls__announce(d, call_id, NULL); /* an action changes no state */
    *out = j.out;
    return LINLI_OK;
}

/* ---- moving on ---- */

/* Whether `kind` may go from `from` to `to`. */
static bool move_allowed(const char *kind, const char *from, const char *to)
{
    if (!strcmp(kind, "service_order")) {
        static const char *const order[] = {"sent", "accepted", "on_the_way", "done"};
        int f = -1, t = -1;
        for (int i = 0; i < 4; i++) {
            if (!strcmp(from, order[i]))
                f = i;
            if (!strcmp(to, order[i]))
                t = i;
        }
        if (f < 0 || f == 3)
            return false; /* done or failed: final */
        return !strcmp(to, "failed") || t > f;
    }
    if (!strcmp(kind, "follow_up"))
        return !strcmp(from, "scheduled") && (!strcmp(to, "done") || !strcmp(to, "failed"));
    return false;
}

static bool known_state(const char *s)
{
    static const char *const states[] = {"accepted", "on_the_way", "done", "failed"};
    for (size_t i = 0; s && i < sizeof states / sizeof *states; i++)
        if (!strcmp(s, states[i]))
            return true;
    return false;
}

static const char SQL_ACTION_MOVE[] =
    "UPDATE call_actions SET state = ?1, note = CASE WHEN ?2 IS NULL THEN note ELSE ?2 END,"
    " updated_at = ?3 WHERE id = ?4";

struct move_job {
    const struct principal *who;
    int64_t call_id, action_id, at;
    const char *state, *note;
    json_t *out;
};

static int move_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct move_job *j = arg;
    struct call call;
    int rc = calls__load(c, j->call_id, &call, err);
    if (rc == LINLI_ENOTFOUND || (!rc && !calls__in_scope(j->who, call.community_code)))
        return linli_fail(err, LINLI_ENOTFOUND, "No call %lld in your area.",
                          (long long)j->call_id);
    if (rc)
        return rc;
    if (j->who->role != ROLE_ADMIN && call.operator_id != j->who->user_id)
        return linli_fail(err, LINLI_EFORBIDDEN,
                          "Only the operator who answered the call may act on it.");
    json_t *before = NULL;
    if ((rc = action_load(c, j->call_id, j->action_id, &before, err)))
        return rc;
    char kind[24], from[24];
    snprintf(kind, sizeof kind, "%s", json_string_value(json_object_get(before, "kind")));
    snprintf(from, sizeof from, "%s", json_string_value(json_object_get(before, "state")));
    json_decref(before);
    if (!move_allowed(kind, from, j->state))
        return linli_fail(err, LINLI_ECONFLICT, "The %s is %s: it cannot become %s.",
                          !strcmp(kind, "service_order") ? "service order" : kind, from, j->state);
    sqlite3_stmt *st = store_stmt(c, SQL_ACTION_MOVE, err);
    if (!st)
        return err->status;
    sqlite3_bind_text(st, 1, j->state, -1, SQLITE_TRANSIENT);
    bind_opt_text(st, 2, j->note);
    sqlite3_bind_int64(st, 3, j->at);
    sqlite3_bind_int64(st, 4, j->action_id);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return store_fail(c, rc, "moving an action on", err);
    json_t *detail = json_pack("{s:I, s:s, s:s, s:s}", "action_id", (json_int_t)j->action_id,
                               "kind", kind, "from", from, "state", j->state);
    if (j->note && *j->note)
        json_object_set_new(detail, "note", json_string(j->note));
    rc = calls__event(c, j->call_id, j->at, j->who->user_id, "action_updated", detail, err);
    char object[32];
    snprintf(object, sizeof object, "call:%lld", (long long)j->call_id);
    if (!rc)
        rc = audit_append(c, j->who, "call.action_update", object, detail, err);
    json_decref(detail);
    if (rc)
        return rc;
    return action_load(c, j->call_id, j->action_id, &j->out, err);
}

int calls_update_action(struct domain *d, const struct principal *who, int64_t call_id,
                        int64_t action_id, const char *state, const char *note, json_t **out,
                        struct linli_err *err)
{
    if (!calls__may_work(who))
        return linli_fail(err, LINLI_EFORBIDDEN, "Only operators act on calls.");
    if (!known_state(state))
        linli_field(err, "state", "must be accepted, on_the_way, done or failed");
    calls__check_note("note", note, CALL_NOTE_MAX, err);
    if (err->nfields)
        return LINLI_EINVAL;
    struct move_job j = {.who = who,
                         .call_id = call_id,
                         .action_id = action_id,
                         .at = clock_now_ms(),
                         .state = state,
                         .note = note};
    int rc = store_write(d->store, move_job, &j, err);
    if (rc) {
        json_decref(j.out);
        return rc;
    }
    calls__announce(d, call_id, NULL); /* an action changes no state */
    *out = j.out;
    return LINLI_OK;
}
