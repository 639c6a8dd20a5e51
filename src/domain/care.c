/* care.c - the operators' tasks (主动服务 and maintenance work): making them
 * inside other modules' write jobs, announcing them, listing, claiming and
 * finishing them; also the names of plan and task kinds, the local calendar
 * and the care settings. Plans are in care_plans.c, the scheduler's checks
 * in care_tick.c, the figures in hotline_report.c.
 *
 * A task's `dedupe` key (UNIQUE in the table) is held while the task is open
 * or claimed and released (set to NULL) when it is done, failed or
 * cancelled, so the same cause may make a new task later (a device silent a
 * second time). */
#include "domain/care.h"

#include "base/clock.h"
#include "base/jx.h"
#include "domain/audit.h"
#include "domain/care_internal.h"
#include "domain/people.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- names ---- */

static const char *const plan_kind_names[PLAN_KINDS] = {
    "daily_checkin", "weekly_call", "discharge_followup", "birthday_call", "custom"};
static const char *const task_kind_names[TASK_KINDS] = {
    "checkin_call", "weekly_call",    "discharge_call", "birthday_call",
    "custom_call",  "missed_checkin", "no_activity",    "callback",
    "follow_up",    "device_silent",  "low_battery"};
static const char *const task_state_names[TASK_STATES] = {"open", "claimed", "done", "failed",
                                                          "cancelled"};

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

const char *care_plan_kind_name(int k)
{
    return k >= 0 && k < PLAN_KINDS ? plan_kind_names[k] : "?";
}

int care_plan_kind_parse(const char *text, int *k)
{
    return name_parse(plan_kind_names, PLAN_KINDS, text, k);
}

const char *task_kind_name(int k)
{
    return k >= 0 && k < TASK_KINDS ? task_kind_names[k] : "?";
}

int task_kind_parse(const char *text, int *k)
{
    return name_parse(task_kind_names, TASK_KINDS, text, k);
}

int task_kind_priority(int k)
{
    switch (k) {
    case TASK_MISSED_CHECKIN:
    case TASK_NO_ACTIVITY:
    case TASK_CALLBACK:
        return 0;
    case TASK_DEVICE_SILENT:
    case TASK_LOW_BATTERY:
        return 2;
    default:
        return 1;
    }
}

bool task_kind_proactive(int k)
{
    return k >= 0 && k < TASK_KINDS && task_kind_priority(k) != 2;
}

const char *task_state_name(int s)
{
    return s >= 0 && s < TASK_STATES ? task_state_names[s] : "?";
}

int task_state_parse(const char *text, int *s)
{
    return name_parse(task_state_names, TASK_STATES, text, s);
}

/* ---- settings ---- */

struct care_state {
    int64_t silent_limit_s; /* read and written with __atomic */
};

static struct care_state *care_get(struct domain *d)
{
    struct care_state *cs = __atomic_load_n(&d->care, __ATOMIC_ACQUIRE);
    if (cs)
        return cs;
    struct care_state *fresh = calloc(1, sizeof *fresh);
    if (!fresh)
        return NULL;
    fresh->silent_limit_s = CARE_SILENT_S_DEFAULT;
    struct care_state *expected = NULL;
    if (__atomic_compare_exchange_n(&d->care, &expected, fresh, false, __ATOMIC_ACQ_REL,
                                    __ATOMIC_ACQUIRE))
        return fresh;
    free(fresh);
    return expected;
}

void care_set_silent_limit(struct domain *d, int64_t seconds)
{
    struct care_state *cs = care_get(d);
    if (cs)
        __atomic_store_n(&cs->silent_limit_s, seconds < 0 ? 0 : seconds, __ATOMIC_RELEASE);
}

int64_t care__silent_limit(struct domain *d)
{
    struct care_state *cs = __atomic_load_n(&d->care, __ATOMIC_ACQUIRE);
    return cs ? __atomic_load_n(&cs->silent_limit_s, __ATOMIC_ACQUIRE) : CARE_SILENT_S_DEFAULT;
}

void care_close(struct domain *d)
{
    free(d->care);
    d->care = NULL;
}

/* ---- the local calendar ---- */

/* Days from 1970-01-01 of a proleptic Gregorian date (H. Hinnant's method). */
int64_t care__days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void care__civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

int64_t care__local_day(int64_t ms)
{
    int64_t t = ms + CARE_LOCAL_OFFSET_MS;
    int64_t day = t / CARE_DAY_MS;
    if (t < 0 && t % CARE_DAY_MS)
        day--;
    return day;
}

int64_t care__day_start_ms(int64_t day)
{
    return day * CARE_DAY_MS - CARE_LOCAL_OFFSET_MS;
}

int care__weekday(int64_t day)
{
    int64_t w = (day + 3) % 7; /* 1970-01-01 was a Thursday */
    return (int)(w < 0 ? w + 7 : w);
}

bool care__leap_year(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int care__parse_date(const char *s, int64_t *day)
{
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return -1;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return -1;
    int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1900 || y > 2999 || m < 1 || m > 12 || d < 1 ||
        d > mdays[m - 1] + (m == 2 && care__leap_year(y)))
        return -1;
    *day = care__days_from_civil(y, m, d);
    return 0;
}

void care__format_date(int64_t day, char *out, size_t size)
{
    int y, m, d;
    care__civil_from_days(day, &y, &m, &d);
    snprintf(out, size, "%04d-%02d-%02d", y, m, d);
}

/* ---- rows and JSON ---- */

void care__set_time(json_t *o, const char *key, sqlite3_stmt *st, int i)
{
    if (sqlite3_column_type(st, i) == SQLITE_NULL) {
        json_object_set_new(o, key, json_null());
        return;
    }
    char buf[40];
    clock_format_rfc3339(sqlite3_column_int64(st, i), buf, sizeof buf);
    json_object_set_new(o, key, json_string(buf));
}

void care__set_id(json_t *o, const char *key, sqlite3_stmt *st, int i)
{
    json_object_set_new(o, key,
                        sqlite3_column_type(st, i) == SQLITE_NULL
                            ? json_null()
                            : json_integer(sqlite3_column_int64(st, i)));
}

void care__set_text(json_t *o, const char *key, sqlite3_stmt *st, int i)
{
    const unsigned char *v = sqlite3_column_text(st, i);
    json_object_set_new(o, key, v ? json_string((const char *)v) : json_null());
}

void care__bind_text_or_null(sqlite3_stmt *st, int i, const char *v)
{
    if (v && *v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

void care__bind_id_or_null(sqlite3_stmt *st, int i, int64_t v)
{
    if (v > 0)
        sqlite3_bind_int64(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

/* ---- scope ---- */

void care__area_range(const char *code, char lo[AREA_CODE_LEN + 1], char hi[AREA_CODE_LEN + 1])
{
    size_t keep = (size_t[]){6, 9, 12}[area_code_level(code)];
    memcpy(lo, code, keep);
    memcpy(hi, code, keep);
    memset(lo + keep, '0', AREA_CODE_LEN - keep);
    memset(hi + keep, '9', AREA_CODE_LEN - keep);
    lo[AREA_CODE_LEN] = hi[AREA_CODE_LEN] = '\0';
}

bool care__visible(const struct principal *who, const char *community_code)
{
    if (!people_may_read(who->role))
        return false;
    if (who->role == ROLE_ADMIN)
        return true;
    return community_code && *community_code && area_within(who->scope, community_code);
}

bool care__plan_writer(enum role r)
{
    return r == ROLE_ADMIN || r == ROLE_DISTRICT || r == ROLE_STREET || r == ROLE_COMMUNITY;
}

/* ---- tasks: storage ---- */

static const char SQL_TASK_BY_DEDUPE[] = "SELECT id FROM tasks WHERE dedupe = ?";
static const char SQL_PERSON_COMMUNITY[] = "SELECT community_code FROM people WHERE id = ?";
static const char SQL_TASK_INSERT[] =
    "INSERT INTO tasks (kind, priority, state, person_id, device_id, plan_id, call_id,"
    " community_code, due_at, note, dedupe, created_at, updated_at)"
    " VALUES (?1, ?2, 'open', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11) RETURNING id";

/* The task holding `dedupe` (open or claimed: finished tasks release their
 * key): 1 and *id, or 0 when none. */
static int task_by_dedupe(struct store_conn *c, const char *dedupe, int64_t *id,
                          struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_TASK_BY_DEDUPE, err);
    if (!st)
        return err->status;
    sqlite3_bind_text(st, 1, dedupe, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        return 0;
    if (rc != SQLITE_ROW)
        return store_fail(c, rc, "looking up a task", err);
    *id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return 1;
}

int care__task_insert(struct store_conn *c, const struct task_seed *s, int64_t plan_id, int64_t *id,
                      bool *made, struct linli_err *err)
{
    *made = false;
    if (s->kind < 0 || s->kind >= TASK_KINDS)
        return linli_fail(err, LINLI_EINVAL, "Unknown task kind %d.", s->kind);
    if (s->dedupe && *s->dedupe) {
        int found = task_by_dedupe(c, s->dedupe, id, err);
        if (found)
            return found < 0 ? found : LINLI_OK;
    }
    char community[AREA_CODE_LEN + 1] = "";
    if (s->community_code && *s->community_code) {
        snprintf(community, sizeof community, "%s", s->community_code);
    } else if (s->person_id > 0) {
        sqlite3_stmt *st = store_stmt(c, SQL_PERSON_COMMUNITY, err);
        if (!st)
            return err->status;
        sqlite3_bind_int64(st, 1, s->person_id);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            const unsigned char *v = sqlite3_column_text(st, 0);
            snprintf(community, sizeof community, "%s", v ? (const char *)v : "");
        } else if (rc != SQLITE_DONE) {
            return store_fail(c, rc, "reading a person's community", err);
        }
        sqlite3_reset(st);
    }
    int64_t now = clock_now_ms();
    sqlite3_stmt *st = store_stmt(c, SQL_TASK_INSERT, err);
    if (!st)
        return err->status;
    sqlite3_bind_text(st, 1, task_kind_name(s->kind), -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, task_kind_priority(s->kind));
    care__bind_id_or_null(st, 3, s->person_id);
    care__bind_id_or_null(st, 4, s->device_id);
    care__bind_id_or_null(st, 5, plan_id);
    care__bind_id_or_null(st, 6, s->call_id);
    care__bind_text_or_null(st, 7, community);
    sqlite3_bind_int64(st, 8, s->due_at > 0 ? s->due_at : now);
    sqlite3_bind_text(st, 9, s->note ? s->note : "", -1, SQLITE_TRANSIENT);
    care__bind_text_or_null(st, 10, s->dedupe);
    sqlite3_bind_int64(st, 11, now);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW)
        return store_fail(c, rc, "adding a task", err);
    *id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    *made = true;
    return LINLI_OK;
}

int care__task_in_job(struct store_conn *c, const struct task_seed *s, int64_t *id,
                      struct linli_err *err)
{
    bool made;
    return care__task_insert(c, s, 0, id, &made, err);
}

#define TASK_COLUMNS                                                                               \
    "t.id, t.kind, t.priority, t.state, t.person_id, t.device_id, t.plan_id, t.call_id,"           \
    " t.community_code, t.due_at, t.operator_id, t.outcome, t.note, t.created_at, t.done_at,"      \
    " t.updated_at, p.name, u.username"
#define TASK_FROM                                                                                  \
    " FROM tasks t LEFT JOIN people p ON p.id = t.person_id"                                       \
    " LEFT JOIN users u ON u.id = t.operator_id"

static const char SQL_TASK_GET[] = "SELECT " TASK_COLUMNS TASK_FROM " WHERE t.id = ?";
static const char SQL_TASK_LIST[] =
    "SELECT " TASK_COLUMNS TASK_FROM
    " WHERE ((?1 < 0 AND t.state IN ('open', 'claimed')) OR t.state = ?2)"
    "   AND (?3 IS NULL OR t.kind = ?3) AND (?4 = 0 OR t.person_id = ?4)"
    "   AND (?5 IS NULL OR t.community_code BETWEEN ?5 AND ?6)"
    "   AND (?7 = 0 OR (t.priority, t.due_at, t.id) >"
    "        (SELECT priority, due_at, id FROM tasks WHERE id = ?7))"
    "   AND (?9 = 0 OR t.operator_id = ?9)"
    " ORDER BY t.priority, t.due_at, t.id LIMIT ?8";
static const char SQL_TASK_CLAIM[] =
    "UPDATE tasks SET state = 'claimed', operator_id = ?2, updated_at = ?3 WHERE id = ?1";
static const char SQL_TASK_END[] =
    "UPDATE tasks SET state = ?2, outcome = ?3, operator_id = COALESCE(operator_id, ?4),"
    " dedupe = NULL, done_at = ?5, updated_at = ?5 WHERE id = ?1";

/* A task row (TASK_COLUMNS) in the API's shape. */
static json_t *task_json(sqlite3_stmt *st)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(sqlite3_column_int64(st, 0)));
    care__set_text(o, "kind", st, 1);
    json_object_set_new(o, "priority", json_integer(sqlite3_column_int(st, 2)));
    care__set_text(o, "state", st, 3);
    care__set_id(o, "person_id", st, 4);
    care__set_text(o, "person_name", st, 16);
    care__set_id(o, "device_id", st, 5);
    care__set_id(o, "plan_id", st, 6);
    care__set_id(o, "call_id", st, 7);
    care__set_text(o, "community_code", st, 8);
    care__set_time(o, "due_at", st, 9);
    care__set_id(o, "operator_id", st, 10);
    care__set_text(o, "operator", st, 17);
    care__set_text(o, "outcome", st, 11);
    care__set_text(o, "note", st, 12);
    care__set_time(o, "created_at", st, 13);
    care__set_time(o, "done_at", st, 14);
    care__set_time(o, "updated_at", st, 15);
    return o;
}

/* Reads task `id` as JSON into *out (NULL when there is none). */
static int task_load(struct store_conn *c, int64_t id, json_t **out, struct linli_err *err)
{
    *out = NULL;
    sqlite3_stmt *st = store_stmt(c, SQL_TASK_GET, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = task_json(st);
    else if (rc != SQLITE_DONE)
        return store_fail(c, rc, "reading a task", err);
    sqlite3_reset(st);
    return LINLI_OK;
}

struct task_read {
    int64_t id;
    json_t *task; /* out */
};

static int task_read_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct task_read *r = arg;
    return task_load(c, r->id, &r->task, err);
}

/* Publishes "console.task" {task, community_code} for the operators, and
 * "task.updated" {id, kind, state, community_code} for the general stream
 * (ids and codes only: no name, note or outcome); borrows `task`. */
static void task_publish(struct domain *d, json_t *task)
{
    json_t *community = json_object_get(task, "community_code");
    if (!community)
        community = json_null();
    domain_publish(d, "console.task",
                   json_pack("{s:O, s:O}", "task", task, "community_code", community));
    json_t *id = json_object_get(task, "id"), *kind = json_object_get(task, "kind"),
           *state = json_object_get(task, "state");
    domain_publish(d, "task.updated",
                   json_pack("{s:O, s:O, s:O, s:O}", "id", id ? id : json_null(), "kind",
                             kind ? kind : json_null(), "state", state ? state : json_null(),
                             "community_code", community));
}

void care_task_announce(struct domain *d, int64_t task_id)
{
    if (!d->bus || task_id <= 0)
        return;
    struct task_read r = {.id = task_id, .task = NULL};
    struct linli_err err;
    linli_err_clear(&err);
    if (store_read(d->store, task_read_job, &r, &err) || !r.task)
        return;
    task_publish(d, r.task);
    json_decref(r.task);
}

/* ---- tasks: the operators' list ---- */

struct list_job {
    const struct principal *who;
    const struct task_filter *f;
    json_t *items; /* out */
    int64_t next;  /* out */
};

static int list_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct list_job *j = arg;
    const struct task_filter *f = j->f;
    sqlite3_stmt *st = store_stmt(c, SQL_TASK_LIST, err);
    if (!st)
        return err->status;
    sqlite3_bind_int(st, 1, f->state);
    if (f->state >= 0)
        sqlite3_bind_text(st, 2, task_state_name(f->state), -1, SQLITE_STATIC);
    if (f->kind >= 0)
        sqlite3_bind_text(st, 3, task_kind_name(f->kind), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, f->person_id > 0 ? f->person_id : 0);
    if (j->who->role != ROLE_ADMIN) {
        char lo[AREA_CODE_LEN + 1], hi[AREA_CODE_LEN + 1];
        care__area_range(j->who->scope, lo, hi);
        sqlite3_bind_text(st, 5, lo, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 6, hi, -1, SQLITE_TRANSIENT);
    }
    sqlite3_bind_int64(st, 7, f->after_id > 0 ? f->after_id : 0);
    sqlite3_bind_int(st, 8, f->limit + 1);
    sqlite3_bind_int64(st, 9, f->mine ? j->who->user_id : 0);
    int rc, n = 0;
    int64_t last = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == f->limit) {
            j->next = last;
            break;
        }
        last = sqlite3_column_int64(st, 0);
        json_array_append_new(j->items, task_json(st));
        n++;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_fail(c, rc, "listing tasks", err);
    sqlite3_reset(st);
    return LINLI_OK;
}

int tasks_list(struct domain *d, const struct principal *who, const struct task_filter *f,
               json_t **items, int64_t *next, struct linli_err *err)
{
    *items = NULL;
    *next = 0;
    if (!people_may_read(who->role))
        return linli_fail(err, LINLI_EFORBIDDEN, "Your role (%s) has no access to tasks.",
                          role_name(who->role));
    struct task_filter g = *f;
    if (g.limit < 1 || g.limit > TASKS_PAGE_MAX)
        g.limit = TASKS_PAGE_MAX;
    if (g.state >= TASK_STATES)
        g.state = -1;
    if (g.kind >= TASK_KINDS)
        g.kind = -1;
    struct list_job j = {who, &g, json_array(), 0};
    if (who->role != ROLE_ADMIN && !who->scope[0]) { /* a scoped role without a scope sees none */
        *items = j.items;
        return LINLI_OK;
    }
    int rc = store_read(d->store, list_job, &j, err);
    if (rc) {
        json_decref(j.items);
        return rc;
    }
    *items = j.items;
    *next = j.next;
    return LINLI_OK;
}

/* ---- tasks: claim, finish, cancel ---- */

struct change_job {
    const struct principal *who;
    int64_t id;
    int state; /* TASK_CLAIMED, TASK_DONE, TASK_FAILED or TASK_CANCELLED */
    const char *outcome;
    json_t *out;  /* the task afterwards */
    bool changed; /* false when a claim was repeated */
};

static int audit_task(struct store_conn *c, const struct principal *who, const char *action,
                      json_t *task, struct linli_err *err)
{
    char object[40];
    snprintf(object, sizeof object, "task:%lld",
             (long long)json_integer_value(json_object_get(task, "id")));
    json_t *detail =
        json_pack("{s:O, s:O, s:O}", "kind", json_object_get(task, "kind"), "person_id",
                  json_object_get(task, "person_id"), "state", json_object_get(task, "state"));
    int rc = audit_append(c, who, action, object, detail, err);
    json_decref(detail);
    return rc;
}

static int change_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct change_job *j = arg;
    json_t *task;
    int rc = task_load(c, j->id, &task, err);
    if (rc)
        return rc;
    const char *community = task ? json_string_value(json_object_get(task, "community_code")) : "";
    if (!task || !care__visible(j->who, community)) {
        json_decref(task);
        return linli_fail(err, LINLI_ENOTFOUND, "No task %lld.", (long long)j->id);
    }
    int state = -1;
    task_state_parse(json_string_value(json_object_get(task, "state")), &state);
    int64_t holder = json_integer_value(json_object_get(task, "operator_id"));
    bool admin = j->who->role == ROLE_ADMIN;
    int64_t now = clock_now_ms();
    if (state != TASK_OPEN && state != TASK_CLAIMED) {
        json_decref(task);
        return linli_fail(err, LINLI_ECONFLICT, "Task %lld is %s already.", (long long)j->id,
                          task_state_name(state));
    }
    const char *action;
    if (j->state == TASK_CLAIMED) {
        action = "task.claim";
        if (state == TASK_CLAIMED && holder == j->who->user_id) { /* a repeated claim */
            j->out = task;
            return LINLI_OK;
        }
        if (state == TASK_CLAIMED) {
            const char *name = json_string_value(json_object_get(task, "operator"));
            linli_fail(err, LINLI_ECONFLICT, "Task %lld is claimed by %s.", (long long)j->id,
                       name ? name : "another operator");
            json_decref(task);
            return LINLI_ECONFLICT;
        }
        sqlite3_stmt *st = store_stmt(c, SQL_TASK_CLAIM, err);
        if (!st) {
            json_decref(task);
            return err->status;
        }
        sqlite3_bind_int64(st, 1, j->id);
        sqlite3_bind_int64(st, 2, j->who->user_id);
        sqlite3_bind_int64(st, 3, now);
        rc = sqlite3_step(st);
    } else {
        if (j->state == TASK_CANCELLED) {
            action = "task.cancel";
        } else {
            action = "task.finish";
            if (!admin && (state != TASK_CLAIMED || holder != j->who->user_id)) {
                json_decref(task);
                return linli_fail(err, LINLI_ECONFLICT,
                                  "Claim task %lld first: only the operator who claimed a task "
                                  "finishes it.",
                                  (long long)j->id);
            }
        }
        sqlite3_stmt *st = store_stmt(c, SQL_TASK_END, err);
        if (!st) {
            json_decref(task);
            return err->status;
        }
        sqlite3_bind_int64(st, 1, j->id);
        sqlite3_bind_text(st, 2, task_state_name(j->state), -1, SQLITE_STATIC);
        care__bind_text_or_null(st, 3, j->outcome);
        care__bind_id_or_null(st, 4, j->state == TASK_CANCELLED ? 0 : j->who->user_id);
        sqlite3_bind_int64(st, 5, now);
        rc = sqlite3_step(st);
    }
    json_decref(task);
    if (rc != SQLITE_DONE)
        return store_fail(c, rc, "changing a task", err);
    j->changed = true;
    if ((rc = task_load(c, j->id, &j->out, err)))
        return rc;
    return audit_task(c, j->who, action, j->out, err);
}

static int task_change(struct domain *d, const struct principal *who, int64_t id, int state,
                       const char *outcome, json_t **out, struct linli_err *err)
{
    struct change_job j = {who, id, state, outcome, NULL, false};
    int rc = store_write(d->store, change_job, &j, err);
    if (rc) {
        json_decref(j.out);
        return rc;
    }
    if (j.changed)
        task_publish(d, j.out);
    if (out)
        *out = j.out;
    else
        json_decref(j.out);
    return LINLI_OK;
}

int tasks_claim(struct domain *d, const struct principal *who, int64_t id, json_t **out,
                struct linli_err *err)
{
    if (out)
        *out = NULL;
    if (who->role != ROLE_OPERATOR && who->role != ROLE_ADMIN)
        return linli_fail(err, LINLI_EFORBIDDEN, "Only operators claim tasks.");
    return task_change(d, who, id, TASK_CLAIMED, NULL, out, err);
}

int tasks_finish(struct domain *d, const struct principal *who, int64_t id, int state,
                 const char *outcome, json_t **out, struct linli_err *err)
{
    if (out)
        *out = NULL;
    if (state == TASK_CANCELLED) {
        if (!care__plan_writer(who->role))
            return linli_fail(err, LINLI_EFORBIDDEN,
                              "Only admins and district, street or community staff cancel "
                              "tasks.");
    } else if (state == TASK_DONE || state == TASK_FAILED) {
        if (who->role != ROLE_OPERATOR && who->role != ROLE_ADMIN)
            return linli_fail(err, LINLI_EFORBIDDEN, "Only operators finish tasks.");
    } else {
        return linli_field(err, "state", "must be done or failed");
    }
    if (state != TASK_CANCELLED && (!outcome || !*outcome))
        return linli_field(err, "outcome", "is required: say what was done");
    if (outcome && jx_utf8_len(outcome) > CARE_NOTE_MAX)
        return linli_field(err, "outcome", "must be at most %d characters", CARE_NOTE_MAX);
    return task_change(d, who, id, state, outcome, out, err);
}
