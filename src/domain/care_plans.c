/* care_plans.c - care plans: who the centre reaches out to, and when.
 * Staff make (one at a time or many at once), change and list them; the
 * scheduler turns them into tasks (care_tick.c). */
#include "domain/care.h"

#include "base/clock.h"
#include "base/jx.h"
#include "domain/audit.h"
#include "domain/care_internal.h"
#include "domain/people.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CARE_IMPORT_BATCH   5000 /* plans per write job of care_plans_import */
#define TIME_OF_DAY_DEFAULT 600  /* 10:00 */
#define INTERVAL_DAYS_MAX   365

/* ---- rows ---- */

#define PLAN_COLUMNS                                                                               \
    "cp.id, cp.person_id, cp.kind, cp.time_of_day, cp.weekday, cp.interval_days, cp.starts_on,"    \
    " cp.ends_on, cp.note, cp.active, cp.last_due_on, cp.created_by, cp.created_at,"               \
    " cp.updated_at, p.name, p.community_code"
#define PLAN_FROM " FROM care_plans cp JOIN people p ON p.id = cp.person_id"

static const char SQL_PLAN_GET[] = "SELECT " PLAN_COLUMNS PLAN_FROM " WHERE cp.id = ?";
static const char SQL_PLAN_LIST[] =
    "SELECT " PLAN_COLUMNS PLAN_FROM " WHERE cp.id > ?1 AND (?2 = 0 OR cp.person_id = ?2)"
    "   AND (?3 IS NULL OR p.community_code BETWEEN ?3 AND ?4)"
    " ORDER BY cp.id LIMIT ?5";
static const char SQL_PLAN_INSERT[] =
    "INSERT INTO care_plans (person_id, kind, time_of_day, weekday, interval_days, starts_on,"
    " ends_on, note, created_by, created_at, updated_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10) RETURNING id";
static const char SQL_PLAN_UPDATE[] =
    "UPDATE care_plans SET active = ?2, note = ?3, ends_on = ?4, updated_at = ?5 WHERE id = ?1";
static const char SQL_PERSON_FOR_PLAN[] =
    "SELECT community_code, birth_date FROM people WHERE id = ?";
static const char SQL_SUBSCRIPTION_AHEAD[] =
    "SELECT 1 FROM subscriptions WHERE person_id = ?1 AND (ends_at IS NULL OR ends_at > ?2)"
    " LIMIT 1";
static const char SQL_PLAN_SAME_KIND[] =
    "SELECT id FROM care_plans WHERE person_id = ?1 AND kind = ?2"
    "   AND +active = 1" /* "+": look up by person, not through every active plan of the kind */
    "   AND (ends_on IS NULL OR ends_on >= ?3) LIMIT 1";

static json_t *plan_json(sqlite3_stmt *st)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(sqlite3_column_int64(st, 0)));
    json_object_set_new(o, "person_id", json_integer(sqlite3_column_int64(st, 1)));
    care__set_text(o, "person_name", st, 14);
    care__set_text(o, "community_code", st, 15);
    care__set_text(o, "kind", st, 2);
    int tod = sqlite3_column_int(st, 3);
    char hhmm[16];
    snprintf(hhmm, sizeof hhmm, "%02d:%02d", tod / 60 % 24, tod % 60);
    json_object_set_new(o, "time_of_day", json_string(hhmm));
    care__set_id(o, "weekday", st, 4);
    care__set_id(o, "interval_days", st, 5);
    care__set_text(o, "starts_on", st, 6);
    care__set_text(o, "ends_on", st, 7);
    care__set_text(o, "note", st, 8);
    json_object_set_new(o, "active", json_boolean(sqlite3_column_int(st, 9)));
    care__set_text(o, "last_due_on", st, 10);
    care__set_id(o, "created_by", st, 11);
    care__set_time(o, "created_at", st, 12);
    care__set_time(o, "updated_at", st, 13);
    return o;
}

static int plan_load(struct store_conn *c, int64_t id, json_t **out, struct linli_err *err)
{
    *out = NULL;
    sqlite3_stmt *st = store_stmt(c, SQL_PLAN_GET, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = plan_json(st);
    else if (rc != SQLITE_DONE)
        return store_fail(c, rc, "reading a care plan", err);
    sqlite3_reset(st);
    return LINLI_OK;
}

static int audit_plan(struct store_conn *c, const struct principal *who, const char *action,
                      json_t *plan, json_t *changed, struct linli_err *err)
{
    char object[40];
    snprintf(object, sizeof object, "care_plan:%lld",
             (long long)json_integer_value(json_object_get(plan, "id")));
    json_t *detail = json_pack("{s:O, s:O}", "person_id", json_object_get(plan, "person_id"),
                               "kind", json_object_get(plan, "kind"));
    if (changed)
        json_object_set(detail, "changed", changed);
    int rc = audit_append(c, who, action, object, detail, err);
    json_decref(detail);
    return rc;
}

/* ---- create ---- */

struct plan_checked {
    int64_t person_id;
    int kind;
    int time_of_day, weekday, interval_days; /* -1 = none */
    char starts_on[11], ends_on[11];         /* ends_on "" = never */
    const char *note;
};

/* Checks the fields that need no store; all problems as field errors. */
static int plan_check(const struct care_plan_in *in, struct plan_checked *out,
                      struct linli_err *err)
{
    struct linli_err e;
    linli_err_clear(&e);
    memset(out, 0, sizeof *out);
    out->person_id = in->person_id;
    if (in->person_id <= 0)
        linli_field(&e, "person_id", "is required: the id of a person");
    out->kind = -1;
    if (!in->kind || !*in->kind)
        linli_field(&e, "kind", "is required");
    else if (care_plan_kind_parse(in->kind, &out->kind))
        linli_field(&e, "kind",
                    "must be daily_checkin, weekly_call, discharge_followup, birthday_call or "
                    "custom");
    out->time_of_day = in->time_of_day < 0 ? TIME_OF_DAY_DEFAULT : in->time_of_day;
    if (in->time_of_day >= 24 * 60)
        linli_field(&e, "time_of_day", "must be a time of day from 00:00 to 23:59");
    out->weekday = in->weekday;
    if (out->kind == PLAN_WEEKLY_CALL && (in->weekday < 0 || in->weekday > 6))
        linli_field(&e, "weekday", "is required for a weekly call: 0 (Monday) to 6 (Sunday)");
    else if (out->kind >= 0 && out->kind != PLAN_WEEKLY_CALL && in->weekday >= 0)
        linli_field(&e, "weekday", "is only for weekly_call plans");
    out->interval_days = in->interval_days;
    if (out->kind == PLAN_CUSTOM &&
        (in->interval_days < 1 || in->interval_days > INTERVAL_DAYS_MAX))
        linli_field(&e, "interval_days", "is required for a custom plan: 1 to %d days",
                    INTERVAL_DAYS_MAX);
    else if (out->kind >= 0 && out->kind != PLAN_CUSTOM && in->interval_days >= 0)
        linli_field(&e, "interval_days", "is only for custom plans");
    int64_t starts = care__local_day(clock_now_ms()), ends = 0;
    if (in->starts_on && care__parse_date(in->starts_on, &starts))
        linli_field(&e, "starts_on", "must be a date YYYY-MM-DD");
    care__format_date(starts, out->starts_on, sizeof out->starts_on);
    if (in->ends_on && *in->ends_on) {
        if (care__parse_date(in->ends_on, &ends))
            linli_field(&e, "ends_on", "must be a date YYYY-MM-DD");
        else if (ends < starts)
            linli_field(&e, "ends_on", "must not be before starts_on");
        else
            care__format_date(ends, out->ends_on, sizeof out->ends_on);
    }
    out->note = in->note ? in->note : "";
    if (jx_utf8_len(out->note) > CARE_NOTE_MAX)
        linli_field(&e, "note", "must be at most %d characters", CARE_NOTE_MAX);
    if (!e.nfields)
        return LINLI_OK;
    for (int i = 0; i < e.nfields; i++)
        linli_field(err, e.fields[i].field, "%s", e.fields[i].message);
    return LINLI_EINVAL;
}

/* Checks a plan against the store and inserts it (inside a write job):
 * the person exists and is visible to `who`, a daily check-in has a device,
 * a birthday a birth date, and no active plan of a kind a person has once. */
static int plan_insert(struct store_conn *c, const struct principal *who,
                       const struct plan_checked *in, int64_t *id, struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_PERSON_FOR_PLAN, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, in->person_id);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_fail(c, rc, "reading a person", err);
    char community[AREA_CODE_LEN + 1] = "", birth[16] = "";
    if (rc == SQLITE_ROW) {
        const unsigned char *v = sqlite3_column_text(st, 0);
        snprintf(community, sizeof community, "%s", v ? (const char *)v : "");
        v = sqlite3_column_text(st, 1);
        snprintf(birth, sizeof birth, "%s", v ? (const char *)v : "");
    }
    bool found = rc == SQLITE_ROW;
    sqlite3_reset(st);
    if (!found || !care__visible(who, community))
        return linli_field(err, "person_id", "no person %lld in your area",
                           (long long)in->person_id);
    int64_t now = clock_now_ms();
    if (in->kind == PLAN_DAILY_CHECKIN) {
        if (!(st = store_stmt(c, SQL_SUBSCRIPTION_AHEAD, err)))
            return err->status;
        sqlite3_bind_int64(st, 1, in->person_id);
        sqlite3_bind_int64(st, 2, now);
        rc = sqlite3_step(st);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            return store_fail(c, rc, "reading subscriptions", err);
        bool subscribed = rc == SQLITE_ROW;
        sqlite3_reset(st);
        if (!subscribed)
            return linli_field(err, "person_id",
                               "has no call device subscription in force: a daily check-in "
                               "needs a device to check in with");
    }
    if (in->kind == PLAN_BIRTHDAY && !birth[0])
        return linli_field(err, "person_id",
                           "has no birth date on record (it comes from the ID number)");
    if (in->kind == PLAN_DAILY_CHECKIN || in->kind == PLAN_BIRTHDAY) {
        if (!(st = store_stmt(c, SQL_PLAN_SAME_KIND, err)))
            return err->status;
        sqlite3_bind_int64(st, 1, in->person_id);
        sqlite3_bind_text(st, 2, care_plan_kind_name(in->kind), -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, in->starts_on, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(st);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            return store_fail(c, rc, "reading care plans", err);
        int64_t other = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
        sqlite3_reset(st);
        if (other)
            return linli_fail(
                err, LINLI_ECONFLICT, "Person %lld already has an active %s plan (%lld).",
                (long long)in->person_id, care_plan_kind_name(in->kind), (long long)other);
    }
    if (!(st = store_stmt(c, SQL_PLAN_INSERT, err)))
        return err->status;
    sqlite3_bind_int64(st, 1, in->person_id);
    sqlite3_bind_text(st, 2, care_plan_kind_name(in->kind), -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, in->time_of_day);
    if (in->weekday >= 0)
        sqlite3_bind_int(st, 4, in->weekday);
    if (in->interval_days > 0)
        sqlite3_bind_int(st, 5, in->interval_days);
    sqlite3_bind_text(st, 6, in->starts_on, -1, SQLITE_TRANSIENT);
    care__bind_text_or_null(st, 7, in->ends_on);
    sqlite3_bind_text(st, 8, in->note, -1, SQLITE_TRANSIENT);
    care__bind_id_or_null(st, 9, who->user_id);
    sqlite3_bind_int64(st, 10, now);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW)
        return store_fail(c, rc, "adding a care plan", err);
    *id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return LINLI_OK;
}

struct create_job {
    const struct principal *who;
    const struct plan_checked *in;
    json_t *out;
};

static int create_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct create_job *j = arg;
    int64_t id;
    int rc = plan_insert(c, j->who, j->in, &id, err);
    if (rc)
        return rc;
    if ((rc = plan_load(c, id, &j->out, err)))
        return rc;
    return audit_plan(c, j->who, "care_plan.create", j->out, NULL, err);
}

int care_plans_create(struct domain *d, const struct principal *who, const struct care_plan_in *in,
                      json_t **out, struct linli_err *err)
{
    *out = NULL;
    if (!care__plan_writer(who->role))
        return linli_fail(err, LINLI_EFORBIDDEN,
                          "Only admins and district, street or community staff make care plans.");
    struct plan_checked ck;
    if (plan_check(in, &ck, err))
        return LINLI_EINVAL;
    struct create_job j = {who, &ck, NULL};
    int rc = store_write(d->store, create_job, &j, err);
    if (rc) {
        json_decref(j.out);
        return rc;
    }
    *out = j.out;
    return LINLI_OK;
}

/* ---- many at once ---- */

struct import_job {
    const struct principal *who;
    const struct plan_checked *rows;
    size_t first, n, made;
};

static int import_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct import_job *j = arg;
    j->made = 0;
    for (size_t i = 0; i < j->n; i++) {
        int64_t id;
        struct linli_err e;
        linli_err_clear(&e);
        int rc = plan_insert(c, j->who, &j->rows[i], &id, &e);
        if (rc) {
            size_t row = j->first + i;
            if (e.nfields) {
                for (int k = 0; k < e.nfields; k++)
                    linli_field(err, "rows", "row %zu, %s: %s", row, e.fields[k].field,
                                e.fields[k].message);
                return LINLI_EINVAL;
            }
            return linli_fail(err, rc, "Row %zu: %s", row, e.detail);
        }
        j->made++;
    }
    json_t *detail =
        json_pack("{s:I, s:I}", "first_row", (json_int_t)j->first, "plans", (json_int_t)j->made);
    int rc = audit_append(c, j->who, "care_plan.import", "care_plan:*", detail, err);
    json_decref(detail);
    return rc;
}

int care_plans_import(struct domain *d, const struct principal *who,
                      const struct care_plan_in *rows, size_t n, size_t *made,
                      struct linli_err *err)
{
    *made = 0;
    if (!care__plan_writer(who->role))
        return linli_fail(err, LINLI_EFORBIDDEN,
                          "Only admins and district, street or community staff make care plans.");
    struct plan_checked *ck = calloc(n ? n : 1, sizeof *ck);
    if (!ck)
        return linli_fail(err, LINLI_ENOMEM, "Out of memory for %zu care plans.", n);
    for (size_t i = 0; i < n; i++) {
        struct linli_err e;
        linli_err_clear(&e);
        if (plan_check(&rows[i], &ck[i], &e)) {
            for (int k = 0; k < e.nfields; k++)
                linli_field(err, "rows", "row %zu, %s: %s", i, e.fields[k].field,
                            e.fields[k].message);
            free(ck);
            return LINLI_EINVAL;
        }
    }
    int rc = LINLI_OK;
    for (size_t first = 0; first < n && !rc; first += CARE_IMPORT_BATCH) {
        struct import_job j = {who, ck + first, first,
                               n - first < CARE_IMPORT_BATCH ? n - first : CARE_IMPORT_BATCH, 0};
        rc = store_write(d->store, import_job, &j, err);
        if (!rc)
            *made += j.made;
    }
    free(ck);
    return rc;
}

/* ---- change ---- */

static const struct jx_field plan_patch_fields[] = {
    {"active", JX_BOOL, false, false, 0},
    {"note", JX_STRING, false, false, CARE_NOTE_MAX},
    {"ends_on", JX_STRING, false, true, 10},
};

struct update_job {
    const struct principal *who;
    int64_t id;
    json_t *patch;
    json_t *out;
};

static int update_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct update_job *j = arg;
    json_t *before;
    int rc = plan_load(c, j->id, &before, err);
    if (rc)
        return rc;
    const char *community =
        before ? json_string_value(json_object_get(before, "community_code")) : NULL;
    if (!before || !care__visible(j->who, community)) {
        json_decref(before);
        return linli_fail(err, LINLI_ENOTFOUND, "No care plan %lld.", (long long)j->id);
    }
    bool active = json_is_true(json_object_get(before, "active"));
    const char *note = json_string_value(json_object_get(before, "note"));
    const char *ends_on = json_string_value(json_object_get(before, "ends_on"));
    const char *starts_on = json_string_value(json_object_get(before, "starts_on"));
    json_t *changed = json_array();
    if (jx_has(j->patch, "active")) {
        bool v = jx_bool(j->patch, "active", active);
        if (v != active)
            json_array_append_new(changed, json_string("active"));
        active = v;
    }
    if (jx_has(j->patch, "note")) {
        const char *v = jx_str(j->patch, "note");
        if (strcmp(v ? v : "", note ? note : ""))
            json_array_append_new(changed, json_string("note"));
        note = v;
    }
    if (jx_has(j->patch, "ends_on")) {
        const char *v = jx_str(j->patch, "ends_on");
        int64_t e, s;
        if (v && care__parse_date(v, &e)) {
            rc = linli_field(err, "ends_on", "must be a date YYYY-MM-DD, or null");
        } else if (v && !care__parse_date(starts_on, &s) && e < s) {
            rc = linli_field(err, "ends_on", "must not be before starts_on (%s)", starts_on);
        } else if ((v == NULL) != (ends_on == NULL) || (v && strcmp(v, ends_on))) {
            json_array_append_new(changed, json_string("ends_on"));
        }
        ends_on = v;
    }
    if (rc || json_array_size(changed) == 0) {
        json_decref(changed);
        if (rc)
            json_decref(before);
        else
            j->out = before;
        return rc;
    }
    if (j->who->role != ROLE_ADMIN && !area_within(j->who->scope, community)) {
        json_decref(changed);
        json_decref(before);
        return linli_fail(err, LINLI_EFORBIDDEN, "Care plan %lld is outside your scope.",
                          (long long)j->id);
    }
    sqlite3_stmt *st = store_stmt(c, SQL_PLAN_UPDATE, err);
    if (!st) {
        json_decref(changed);
        json_decref(before);
        return err->status;
    }
    sqlite3_bind_int64(st, 1, j->id);
    sqlite3_bind_int(st, 2, active);
    sqlite3_bind_text(st, 3, note ? note : "", -1, SQLITE_TRANSIENT);
    care__bind_text_or_null(st, 4, ends_on);
    sqlite3_bind_int64(st, 5, clock_now_ms());
    rc = sqlite3_step(st);
    json_decref(before); /* note, ends_on and starts_on pointed into it: used above only */
    if (rc != SQLITE_DONE) {
        json_decref(changed);
        return store_fail(c, rc, "changing a care plan", err);
    }
    if ((rc = plan_load(c, j->id, &j->out, err)) == LINLI_OK)
        rc = audit_plan(c, j->who, "care_plan.update", j->out, changed, err);
    json_decref(changed);
    return rc;
}

int care_plans_update(struct domain *d, const struct principal *who, int64_t id, json_t *patch,
                      json_t **out, struct linli_err *err)
{
    *out = NULL;
    if (!care__plan_writer(who->role))
        return linli_fail(err, LINLI_EFORBIDDEN,
                          "Only admins and district, street or community staff change care "
                          "plans.");
    if (!patch || jx_check_partial(patch, plan_patch_fields,
                                   sizeof plan_patch_fields / sizeof plan_patch_fields[0], err))
        return patch ? LINLI_EINVAL : linli_fail(err, LINLI_EINVAL, "Nothing to change.");
    struct update_job j = {who, id, patch, NULL};
    int rc = store_write(d->store, update_job, &j, err);
    if (rc) {
        json_decref(j.out);
        return rc;
    }
    *out = j.out;
    return LINLI_OK;
}

/* ---- list ---- */

struct list_job {
    const struct principal *who;
    int64_t person_id, after_id;
    int limit;
    json_t *items;
    int64_t next;
};

static int list_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct list_job *j = arg;
    sqlite3_stmt *st = store_stmt(c, SQL_PLAN_LIST, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, j->after_id);
    sqlite3_bind_int64(st, 2, j->person_id);
    if (j->who->role != ROLE_ADMIN) {
        char lo[AREA_CODE_LEN + 1], hi[AREA_CODE_LEN + 1];
        care__area_range(j->who->scope, lo, hi);
        sqlite3_bind_text(st, 3, lo, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 4, hi, -1, SQLITE_TRANSIENT);
    }
    sqlite3_bind_int(st, 5, j->limit + 1);
    int rc, n = 0;
    int64_t last = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == j->limit) {
            j->next = last;
            break;
        }
        last = sqlite3_column_int64(st, 0);
        json_array_append_new(j->items, plan_json(st));
        n++;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_fail(c, rc, "listing care plans", err);
    sqlite3_reset(st);
    return LINLI_OK;
}

int care_plans_list(struct domain *d, const struct principal *who, int64_t person_id,
                    int64_t after_id, int limit, json_t **items, int64_t *next,
                    struct linli_err *err)
{
    *items = NULL;
    *next = 0;
    if (!people_may_read(who->role))
        return linli_fail(err, LINLI_EFORBIDDEN, "Your role (%s) has no access to care plans.",
                          role_name(who->role));
    struct list_job j = {who,
                         person_id > 0 ? person_id : 0,
                         after_id > 0 ? after_id : 0,
                         limit < 1 || limit > CARE_PLANS_PAGE_MAX ? CARE_PLANS_PAGE_MAX : limit,
                         json_array(),
                         0};
    if (who->role != ROLE_ADMIN && !who->scope[0]) {
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
