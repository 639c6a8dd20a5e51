/* calls.c - calls in the store: their names, creation by the device intake,
 * the caller hanging up, the operator's state changes after the answer
 * (classify, close), the timeline, and reads (one call with its timeline and
 * actions, lists). The memory queue and offers are in calls_dispatch.c, the
 * screen pop in calls_pop.c, the actions in calls_actions.c. */
#include "domain/calls.h"

#include "base/clock.h"
#include "domain/audit.h"
#include "domain/calls_internal.h"
#include "domain/care.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- names ---- */

static const char *const state_names[CALL_STATES] = {"queued",     "offered", "answered",
                                                     "classified", "closed",  "abandoned"};
static const char *const category_names[CAT_COUNT] = {"health_consultation",
                                                      "convenience_service",
                                                      "emergency",
                                                      "fire",
                                                      "family",
                                                      "false_alarm",
                                                      "other"};
static const char *const category_labels[CAT_COUNT] = {"健康咨询", "便民服务", "紧急救助", "火警",
                                                       "亲情通话", "误报",     "其他"};
static const char *const presence_names[3] = {"away", "available", "busy"};
static const char *const action_kind_names[ACTION_KINDS] = {"service_order", "contact",
                                                            "escalation", "follow_up", "note"};

static int name_parse(const char *const *names, int n, const char *text, int *out)
{
    for (int i = 0; text && i < n; i++) {
        if (!strcmp(text, names[i])) {
            *out = i;
            return 0;
        }
    }
    return -1;
}

const char *call_state_name(int s)
{
    return s >= 0 && s < CALL_STATES ? state_names[s] : "?";
}

int call_state_parse(const char *text, int *s)
{
    return name_parse(state_names, CALL_STATES, text, s);
}

const char *call_category_name(int c)
{
    return c >= 0 && c < CAT_COUNT ? category_names[c] : "?";
}

const char *call_category_label(int c)
{
    return c >= 0 && c < CAT_COUNT ? category_labels[c] : "?";
}

int call_category_parse(const char *text, int *c)
{
    if (!name_parse(category_names, CAT_COUNT, text, c))
        return 0;
    return name_parse(category_labels, CAT_COUNT, text, c);
}

const char *presence_name(int p)
{
    return p >= 0 && p < 3 ? presence_names[p] : "?";
}

int presence_parse(const char *text, int *p)
{
    return name_parse(presence_names, 3, text, p);
}

const char *call_action_kind_name(int k)
{
    return k >= 0 && k < ACTION_KINDS ? action_kind_names[k] : "?";
}

int call_action_kind_parse(const char *text, int *k)
{
    return name_parse(action_kind_names, ACTION_KINDS, text, k);
}

/* ---- who ---- */

bool calls__in_scope(const struct principal *who, const char *community)
{
    if (who->role == ROLE_ADMIN)
        return true;
    return community && *community && area_within(who->scope, community);
}

bool calls__may_work(const struct principal *who)
{
    return who->role == ROLE_ADMIN || who->role == ROLE_OPERATOR;
}

bool calls__may_read(const struct principal *who)
{
    return who->role == ROLE_ADMIN || who->role == ROLE_OPERATOR || who->role == ROLE_DISTRICT ||
           who->role == ROLE_STREET || who->role == ROLE_COMMUNITY || who->role == ROLE_AUDITOR;
}

/* ---- rows ---- */

static const char SQL_CALL_COLUMNS_BY_ID[] =
    "SELECT id, direction, person_id, device_id, community_code, trigger, priority, state,"
    " category, operator_id, created_at, offered_at, answered_at, classified_at, closed_at,"
    " outcome FROM calls WHERE id = ?";

static int64_t col_i64(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, i);
}

static json_t *text_or_null(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? json_string((const char *)t) : json_null();
}

static void col_text(char *dst, size_t size, sqlite3_stmt *st, int i)
{
    const unsigned char *v = sqlite3_column_text(st, i);
    snprintf(dst, size, "%s", v ? (const char *)v : "");
}

/* Fills *out from a row of the columns above. */
static void call_from_row(sqlite3_stmt *st, struct call *out)
{
    memset(out, 0, sizeof *out);
    out->id = sqlite3_column_int64(st, 0);
    const unsigned char *dir = sqlite3_column_text(st, 1);
    out->outbound = dir && !strcmp((const char *)dir, "outbound");
    out->person_id = col_i64(st, 2);
    out->device_id = col_i64(st, 3);
    col_text(out->community_code, sizeof out->community_code, st, 4);
    col_text(out->trigger, sizeof out->trigger, st, 5);
    out->priority = sqlite3_column_int(st, 6);
    out->state = -1;
    call_state_parse((const char *)sqlite3_column_text(st, 7), &out->state);
    out->category = -1;
    if (sqlite3_column_type(st, 8) != SQLITE_NULL)
        call_category_parse((const char *)sqlite3_column_text(st, 8), &out->category);
    out->operator_id = col_i64(st, 9);
    out->created_at = col_i64(st, 10);
    out->offered_at = col_i64(st, 11);
    out->answered_at = col_i64(st, 12);
    out->classified_at = col_i64(st, 13);
    out->closed_at = col_i64(st, 14);
    col_text(out->outcome, sizeof out->outcome, st, 15);
}

int calls__load(struct store_conn *c, int64_t id, struct call *out, struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_CALL_COLUMNS_BY_ID, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        sqlite3_reset(st);
        return linli_fail(err, LINLI_ENOTFOUND, "No call %lld.", (long long)id);
    }
    if (rc != SQLITE_ROW)
        return store_fail(c, rc, "reading a call", err);
    call_from_row(st, out);
    sqlite3_reset(st);
    return LINLI_OK;
}

static const char SQL_EVENT_INSERT[] =
    "INSERT INTO call_events (call_id, at, user_id, kind, detail) VALUES (?, ?, ?, ?, ?)";

int calls__event(struct store_conn *c, int64_t call_id, int64_t at, int64_t user_id,
                 const char *kind, json_t *detail, struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_EVENT_INSERT, err);
    if (!st)
        return err->status;
    char *text = detail ? json_dumps(detail, JSON_COMPACT) : NULL;
    if (detail && !text)
        return linli_fail(err, LINLI_ENOMEM, "Out of memory for a timeline row.");
    sqlite3_bind_int64(st, 1, call_id);
    sqlite3_bind_int64(st, 2, at);
    if (user_id)
        sqlite3_bind_int64(st, 3, user_id);
    else
        sqlite3_bind_null(st, 3);
    sqlite3_bind_text(st, 4, kind, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, text ? text : "{}", -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    free(text);
    if (rc != SQLITE_DONE)
        return store_fail(c, rc, "appending to a call's timeline", err);
    sqlite3_reset(st);
    return LINLI_OK;
}

static json_t *time_or_null(int64_t ms)
{
    if (!ms)
        return json_null();
    char buf[40];
    return json_string(clock_format_rfc3339(ms, buf, sizeof buf));
}

static json_t *id_or_null(int64_t id)
{
    return id ? json_integer(id) : json_null();
}

json_t *calls__json(const struct call *c)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(c->id));
    json_object_set_new(o, "direction", json_string(c->outbound ? "outbound" : "inbound"));
    json_object_set_new(o, "person_id", id_or_null(c->person_id));
    json_object_set_new(o, "device_id", id_or_null(c->device_id));
    json_object_set_new(o, "community_code",
                        c->community_code[0] ? json_string(c->community_code) : json_null());
    json_object_set_new(o, "trigger", json_string(c->trigger));
    json_object_set_new(o, "priority", json_integer(c->priority));
    json_object_set_new(o, "urgent", json_boolean(c->priority == 0));
    json_object_set_new(o, "state", json_string(call_state_name(c->state)));
    json_object_set_new(o, "category",
                        c->category >= 0 ? json_string(call_category_name(c->category))
                                         : json_null());
    json_object_set_new(o, "category_label",
                        c->category >= 0 ? json_string(call_category_label(c->category))
                                         : json_null());
    json_object_set_new(o, "operator_id", id_or_null(c->operator_id));
    json_object_set_new(o, "offered_to", id_or_null(c->offered_to));
    json_object_set_new(o, "created_at", time_or_null(c->created_at));
    json_object_set_new(o, "offered_at", time_or_null(c->offered_at));
    json_object_set_new(o, "answered_at", time_or_null(c->answered_at));
    json_object_set_new(o, "classified_at", time_or_null(c->classified_at));
    json_object_set_new(o, "closed_at", time_or_null(c->closed_at));
    json_object_set_new(o, "outcome", c->outcome[0] ? json_string(c->outcome) : json_null());
    return o;
}

/* ---- created by the intake ---- */

static const char SQL_CALL_INSERT[] =
    "INSERT INTO calls (direction, person_id, device_id, community_code, trigger, priority,"
    " state, created_at, updated_at) VALUES ('inbound', ?, ?, ?, ?, ?, 'queued', ?, ?)";

int calls__insert(struct store_conn *c, const struct call_seed *s, int64_t *id,
                  struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_CALL_INSERT, err);
    if (!st)
        return err->status;
    if (s->person_id)
        sqlite3_bind_int64(st, 1, s->person_id);
    else
        sqlite3_bind_null(st, 1);
    if (s->device_id)
        sqlite3_bind_int64(st, 2, s->device_id);
    else
        sqlite3_bind_null(st, 2);
    if (s->community_code && *s->community_code)
        sqlite3_bind_text(st, 3, s->community_code, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, 3);
    sqlite3_bind_text(st, 4, s->trigger && *s->trigger ? s->trigger : "manual", -1,
                      SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 5, s->priority == 0 ? 0 : 1);
    sqlite3_bind_int64(st, 6, s->at);
    sqlite3_bind_int64(st, 7, s->at);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        return store_fail(c, rc, "creating a call", err);
    sqlite3_reset(st);
    int64_t call_id = sqlite3_last_insert_rowid(store_db(c));
    json_t *detail = json_pack("{s:s, s:i}", "trigger", s->trigger ? s->trigger : "manual",
                               "priority", s->priority == 0 ? 0 : 1);
    rc = calls__event(c, call_id, s->at, 0, "created", detail, err);
    json_decref(detail);
    if (rc)
        return rc;
    *id = call_id;
    return LINLI_OK;
}

static const char SQL_WAITING_OF_DEVICE[] =
    "SELECT id, person_id, community_code FROM calls"
    " WHERE device_id = ? AND state IN ('queued', 'offered') ORDER BY id DESC LIMIT 1";
static const char SQL_CALL_ABANDON[] =
    "UPDATE calls SET state = 'abandoned', closed_at = ?, updated_at = ?"
    " WHERE id = ? AND state IN ('queued', 'offered')";

int calls__cancel_in_job(struct store_conn *c, int64_t device_id, int64_t at, int64_t *call_id,
                         struct linli_err *err)
{
    *call_id = 0;
    sqlite3_stmt *st = store_stmt(c, SQL_WAITING_OF_DEVICE, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, device_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        sqlite3_reset(st);
        return LINLI_OK;
    }
    if (rc != SQLITE_ROW)
        return store_fail(c, rc, "finding a device's waiting call", err);
    int64_t id = sqlite3_column_int64(st, 0);
    int64_t person_id = col_i64(st, 1);
    char community[AREA_CODE_LEN + 1];
    col_text(community, sizeof community, st, 2);
    sqlite3_reset(st);

    st = store_stmt(c, SQL_CALL_ABANDON, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, at);
    sqlite3_bind_int64(st, 2, at);
    sqlite3_bind_int64(st, 3, id);
    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        return store_fail(c, rc, "abandoning a call", err);
    sqlite3_reset(st);
    if ((rc = calls__event(c, id, at, 0, "abandoned", NULL, err)))
        return rc;

    char dedupe[48];
    snprintf(dedupe, sizeof dedupe, "callback:%lld", (long long)id);
    struct task_seed seed = {.kind = TASK_CALLBACK,
                             .person_id = person_id,
                             .device_id = device_id,
                             .call_id = id,
                             .community_code = community[0] ? community : NULL,
                             .due_at = at,
                             .note = "The caller hung up before an answer: call back.",
                             .dedupe = dedupe};
    int64_t task_id = 0;
    if ((rc = care__task_in_job(c, &seed, &task_id, err)))
        return rc;
    json_t *detail = json_pack("{s:I}", "task_id", (json_int_t)task_id);
    rc = calls__event(c, id, at, 0, "callback_task", detail, err);
    json_decref(detail);
    if (rc)
        return rc;
    *call_id = id;
    return LINLI_OK;
}

/* ---- announcing ---- */

static int announce_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    return calls__load(c, ((struct call *)arg)->id, arg, err);
}

void calls__announce(struct domain *d, int64_t call_id, const char *kind)
{
    if (!d->bus)
        return;
    struct call c = {.id = call_id};
    struct linli_err err;
    linli_err_clear(&err);
    if (store_read(d->store, announce_job, &c, &err))
        return;
    /* Who holds an offer lives in memory only: the same value the call's
     * GET shows. */
    c.offered_to = calls__offered_to(d, call_id);
    json_t *p = json_pack("{s:o}", "call", calls__json(&c));
    if (c.community_code[0])
        json_object_set_new(p, "community_code", json_string(c.community_code));
    domain_publish(d, "console.call", p);
    if (!kind)
        return;
    /* The general stream's summary: ids and codes, never who called. */
    json_t *u = json_pack("{s:I, s:s, s:i, s:s}", "id", (json_int_t)c.id, "state",
                          call_state_name(c.state), "priority", c.priority, "kind", kind);
    json_object_set_new(
        u, "category", c.category >= 0 ? json_string(call_category_name(c.category)) : json_null());
    json_object_set_new(u, "community_code",
                        c.community_code[0] ? json_string(c.community_code) : json_null());
    domain_publish(d, "call.updated", u);
}

/* ---- text ---- */

/* Checks a free text of at most `max` characters: UTF-8, no control
 * characters but for line breaks and tabs. */
int calls__check_note(const char *field, const char *s, size_t max, struct linli_err *err)
{
    if (!s)
        return LINLI_OK;
    size_t chars = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p & 0xC0) != 0x80)
            chars++;
        if ((*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7F)
            return linli_field(err, field, "must not contain control characters");
    }
    json_t *probe = json_string(s); /* jansson checks the UTF-8 */
    if (!probe)
        return linli_field(err, field, "is not UTF-8 text");
    json_decref(probe);
    if (chars > max)
        return linli_field(err, field, "must be at most %zu characters", max);
    return LINLI_OK;
}

/* ---- the operator's state changes ---- */

/* Who may change a call after the answer: the operator who answered it, or
 * an admin. */
static int may_handle(const struct principal *who, const struct call *c, struct linli_err *err)
{
    if (!calls__in_scope(who, c->community_code))
        return linli_fail(err, LINLI_ENOTFOUND, "No call %lld in your area.", (long long)c->id);
    if (who->role != ROLE_ADMIN && c->operator_id != who->user_id)
        return linli_fail(err, LINLI_EFORBIDDEN,
                          "Only the operator who answered the call may handle it.");
    return LINLI_OK;
}

static const char SQL_CLASSIFY[] =
    "UPDATE calls SET state = 'classified', category = ?, classified_at = ?, updated_at = ?"
    " WHERE id = ?";
static const char SQL_CLOSE[] =
    "UPDATE calls SET state = 'closed', outcome = ?, closed_at = ?, updated_at = ? WHERE id = ?";

struct change_job {
    const struct principal *who;
    int64_t id, at;
    int category;
    const char *text; /* note or outcome */
    bool close;
    struct call out;
};

static int change_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct change_job *j = arg;
    int rc = calls__load(c, j->id, &j->out, err);
    if (rc == LINLI_ENOTFOUND)
        return linli_fail(err, LINLI_ENOTFOUND, "No call %lld in your area.", (long long)j->id);
    if (rc)
        return rc;
    if (!calls__in_scope(j->who, j->out.community_code))
        return linli_fail(err, LINLI_ENOTFOUND, "No call %lld in your area.", (long long)j->id);
    if (j->out.state != CALL_ANSWERED && j->out.state != CALL_CLASSIFIED)
        return linli_fail(err, LINLI_ECONFLICT, "The call is %s: it cannot be %s.",
                          call_state_name(j->out.state), j->close ? "closed" : "classified");
    if ((rc = may_handle(j->who, &j->out, err)))
        return rc;
    sqlite3_stmt *st = store_stmt(c, j->close ? SQL_CLOSE : SQL_CLASSIFY, err);
    if (!st)
        return err->status;
    if (j->close) {
        if (j->text && *j->text)
            sqlite3_bind_text(st, 1, j->text, -1, SQLITE_TRANSIENT);
        else
            sqlite3_bind_null(st, 1);
    } else {
        sqlite3_bind_text(st, 1, call_category_name(j->category), -1, SQLITE_STATIC);
    }
    sqlite3_bind_int64(st, 2, j->at);
    sqlite3_bind_int64(st, 3, j->at);
    sqlite3_bind_int64(st, 4, j->id);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return store_fail(c, rc, j->close ? "closing a call" : "classifying a call", err);
    json_t *detail = json_object();
    if (!j->close)
        json_object_set_new(detail, "category", json_string(call_category_name(j->category)));
    if (j->text && *j->text)
        json_object_set_new(detail, j->close ? "outcome" : "note", json_string(j->text));
    rc = calls__event(c, j->id, j->at, j->who->user_id, j->close ? "closed" : "classified", detail,
                      err);
    char object[32];
    snprintf(object, sizeof object, "call:%lld", (long long)j->id);
    if (!rc)
        rc =
            audit_append(c, j->who, j->close ? "call.close" : "call.classify", object, detail, err);
    json_decref(detail);
    if (rc)
        return rc;
    return calls__load(c, j->id, &j->out, err);
}

int calls_classify(struct domain *d, const struct principal *who, int64_t id, int category,
                   const char *note, struct call *out, struct linli_err *err)
{
    if (!calls__may_work(who))
        return linli_fail(err, LINLI_EFORBIDDEN, "Only operators handle calls.");
    if (category < 0 || category >= CAT_COUNT)
        linli_field(err, "category", "is not a call category");
    calls__check_note("note", note, CALL_NOTE_MAX, err);
    if (err->nfields)
        return LINLI_EINVAL;
    struct change_job j = {
        .who = who, .id = id, .at = clock_now_ms(), .category = category, .text = note};
    int rc = store_write(d->store, change_job, &j, err);
    if (rc)
        return rc;
    calls__announce(d, id, "classified");
    if (out)
        *out = j.out;
    return LINLI_OK;
}

int calls_close(struct domain *d, const struct principal *who, int64_t id, const char *outcome,
                struct call *out, struct linli_err *err)
{
    if (!calls__may_work(who))
        return linli_fail(err, LINLI_EFORBIDDEN, "Only operators handle calls.");
    if (calls__check_note("outcome", outcome, CALL_NOTE_MAX, err))
        return LINLI_EINVAL;
    struct change_job j = {
        .who = who, .id = id, .at = clock_now_ms(), .text = outcome, .close = true};
    int rc = store_write(d->store, change_job, &j, err);
    if (rc)
        return rc;
    calls__operator_free(d, j.out.operator_id, j.at);
    calls__announce(d, id, "closed");
    if (out)
        *out = j.out;
    return LINLI_OK;
}

/* ---- reads ---- */

/* Who acted is named beside their id: operators read calls but not users.
 * A row whose detail names an operator (the rows of an offer: made, expired,
 * declined, taken back) names them in the detail the same way. A detail
 * that is not JSON reads as {}, as below. */
static const char SQL_TIMELINE[] =
    "SELECT e.id, e.at, e.user_id, e.kind, e.detail, u.username, NULLIF(u.display_name, ''),"
    " e.operator_id, o.username, NULLIF(o.display_name, '')"
    " FROM (SELECT id, at, user_id, kind, detail, CASE WHEN json_valid(detail)"
    " THEN json_extract(detail, '$.operator_id') END AS operator_id"
    " FROM call_events WHERE call_id = ?) e"
    " LEFT JOIN users u ON u.id = e.user_id LEFT JOIN users o ON o.id = e.operator_id"
    " ORDER BY e.id";

static json_t *time_json(int64_t ms)
{
    return time_or_null(ms);
}

static int timeline_json(struct store_conn *c, int64_t id, json_t *into, struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_TIMELINE, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, id);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *e = json_object();
        json_object_set_new(e, "id", json_integer(sqlite3_column_int64(st, 0)));
        json_object_set_new(e, "at", time_json(sqlite3_column_int64(st, 1)));
        json_object_set_new(e, "user_id", id_or_null(col_i64(st, 2)));
        json_object_set_new(e, "username", text_or_null(st, 5));
        json_object_set_new(e, "display_name", text_or_null(st, 6));
        json_object_set_new(e, "kind", json_string((const char *)sqlite3_column_text(st, 3)));
        json_t *detail = json_loads((const char *)sqlite3_column_text(st, 4), 0, NULL);
        if (!json_is_object(detail)) {
            json_decref(detail);
            detail = json_object();
        }
        if (sqlite3_column_type(st, 7) == SQLITE_INTEGER) {
            json_object_set_new(detail, "username", text_or_null(st, 8));
            json_object_set_new(detail, "display_name", text_or_null(st, 9));
        }
        json_object_set_new(e, "detail", detail);
        json_array_append_new(into, e);
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? LINLI_OK : store_fail(c, rc, "reading a call's timeline", err);
}

struct get_job {
    const struct principal *who;
    int64_t id;
    json_t *out;
};

static int get_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct get_job *j = arg;
    struct call call;
    int rc = calls__load(c, j->id, &call, err);
    if (rc == LINLI_ENOTFOUND || (!rc && !calls__in_scope(j->who, call.community_code)))
        return linli_fail(err, LINLI_ENOTFOUND, "No call %lld in your area.", (long long)j->id);
    if (rc)
        return rc;
    json_t *o = calls__json(&call);
    json_t *timeline = json_array(), *actions = json_array();
    json_object_set_new(o, "timeline", timeline);
    json_object_set_new(o, "actions", actions);
    if ((rc = timeline_json(c, j->id, timeline, err)) ||
        (rc = calls__actions_json(c, j->id, actions, err))) {
        json_decref(o);
        return rc;
    }
    j->out = o;
    return LINLI_OK;
}

int calls_get(struct domain *d, const struct principal *who, int64_t id, json_t **out,
              struct linli_err *err)
{
    if (!calls__may_read(who))
        return linli_fail(err, LINLI_EFORBIDDEN, "Your role has no access to calls.");
    struct get_job j = {.who = who, .id = id};
    int rc = store_read(d->store, get_job, &j, err);
    if (rc)
        return rc;
    /* Who holds an offer lives in memory only. */
    int64_t holder = calls__offered_to(d, id);
    if (holder)
        json_object_set_new(j.out, "offered_to", json_integer(holder));
    *out = j.out;
    return LINLI_OK;
}

static const char SQL_LIST[] =
    "SELECT id, direction, person_id, device_id, community_code, trigger, priority, state,"
    " category, operator_id, created_at, offered_at, answered_at, classified_at, closed_at,"
    " outcome FROM calls"
    " WHERE (?1 = 0 OR id < ?1) AND (?2 IS NULL OR community_code BETWEEN ?2 AND ?3)"
    "   AND (?4 IS NULL OR state = ?4) AND (?5 = 0 OR person_id = ?5)"
    "   AND (?6 = 0 OR created_at >= ?6) AND (?7 = 0 OR created_at < ?7)"
    " ORDER BY id DESC LIMIT ?8";

struct list_job {
    const struct principal *who;
    const struct call_filter *f;
    struct call *items;
    int n;
    int64_t next;
};

static int list_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct list_job *a = arg;
    sqlite3_stmt *st = store_stmt(c, SQL_LIST, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, a->f->after_id);
    if (a->who->role != ROLE_ADMIN) {
        const char *scope = a->who->scope;
        size_t keep = (size_t[]){6, 9, 12}[area_code_level(scope)];
        char lo[AREA_CODE_LEN + 1], hi[AREA_CODE_LEN + 1];
        memcpy(lo, scope, keep);
        memcpy(hi, scope, keep);
        memset(lo + keep, '0', AREA_CODE_LEN - keep);
        memset(hi + keep, '9', AREA_CODE_LEN - keep);
        lo[AREA_CODE_LEN] = hi[AREA_CODE_LEN] = '\0';
        sqlite3_bind_text(st, 2, lo, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, hi, -1, SQLITE_TRANSIENT);
    }
    if (a->f->state >= 0)
        sqlite3_bind_text(st, 4, call_state_name(a->f->state), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, a->f->person_id);
    sqlite3_bind_int64(st, 6, a->f->from_ms);
    sqlite3_bind_int64(st, 7, a->f->to_ms);
    sqlite3_bind_int(st, 8, a->f->limit + 1);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (a->n == a->f->limit) {
            a->next = a->items[a->n - 1].id;
            break;
        }
        call_from_row(st, &a->items[a->n++]);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_fail(c, rc, "listing calls", err);
    return LINLI_OK;
}

int calls_list(struct domain *d, const struct principal *who, const struct call_filter *f,
               struct call **items, int *n, int64_t *next, struct linli_err *err)
{
    if (!calls__may_read(who))
        return linli_fail(err, LINLI_EFORBIDDEN, "Your role has no access to calls.");
    if (who->role != ROLE_ADMIN && strlen(who->scope) != AREA_CODE_LEN)
        return linli_fail(err, LINLI_EFORBIDDEN, "Your account has no area.");
    if (f->limit < 1 || f->limit > CALLS_PAGE_MAX)
        return linli_field(err, "limit", "must be between 1 and %d", CALLS_PAGE_MAX);
    if (f->state < -1 || f->state >= CALL_STATES)
        return linli_field(err, "state", "is not a call state");
    struct list_job a = {who, f, calloc((size_t)f->limit, sizeof(struct call)), 0, 0};
    if (!a.items)
        return linli_fail(err, LINLI_ENOMEM, "Out of memory.");
    int rc = store_read(d->store, list_job, &a, err);
    if (rc) {
        free(a.items);
        return rc;
    }
    for (int i = 0; i < a.n; i++) /* who holds an offer lives in memory only */
        if (a.items[i].state == CALL_OFFERED)
            a.items[i].offered_to = calls__offered_to(d, a.items[i].id);
    *items = a.items;
    *n = a.n;
    *next = a.next;
    return LINLI_OK;
}
