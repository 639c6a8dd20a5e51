/* care_tick.c - the scheduler's care checks (care_tick): the plans' calls,
 * missed daily check-ins, and the device watchdog.
 *
 * Days are Asia/Shanghai calendar days. A plan's `last_due_on` is the last
 * day it was dealt with (a task made, or a check-in found); care_tick looks
 * at that day + 1 onward, and never further back than yesterday: after the
 * server was down for days, only yesterday's and today's work is made.
 * Days before the plan was created are never due, and a daily check-in is
 * only missed when its deadline came after the plan was made. Work is read
 * in batches and written one batch per write job; tasks are announced after
 * their job committed. */
#include "domain/care.h"

#include "base/clock.h"
#include "base/log.h"
#include "domain/care_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CARE_TICK_BATCH      1000 /* plans or devices looked at per write job */
#define DISCHARGE_DAYS_COUNT 3

static const int discharge_days[DISCHARGE_DAYS_COUNT] = {1, 3, 7};

/* ---- the scheduler's checks ---- */

/* One piece of work a plan owes on one day. */
struct due {
    int64_t plan_id, person_id;
    char community[AREA_CODE_LEN + 1];
    int task_kind;
    bool checkin;     /* a daily check-in to look for, not a call */
    int64_t day;      /* the local day it is for */
    int64_t due_at;   /* ms: the planned time (calls) or the deadline (check-ins) */
    int64_t expected; /* ms: the check-in's time of day */
};

/* True when a plan of `kind` owes a call (or a check-in) on `day`. */
static bool plan_due_on(int kind, int64_t starts, int weekday, int interval, const char *birth,
                        int64_t day)
{
    if (day < starts)
        return false;
    switch (kind) {
    case PLAN_DAILY_CHECKIN:
        return true;
    case PLAN_WEEKLY_CALL:
        return care__weekday(day) == weekday;
    case PLAN_DISCHARGE:
        for (int i = 0; i < DISCHARGE_DAYS_COUNT; i++)
            if (day == starts + discharge_days[i])
                return true;
        return false;
    case PLAN_BIRTHDAY: {
        int64_t born;
        if (care__parse_date(birth, &born))
            return false;
        int by, bm, bd, y, m, d;
        care__civil_from_days(born, &by, &bm, &bd);
        care__civil_from_days(day, &y, &m, &d);
        if (bm == 2 && bd == 29 && !care__leap_year(y)) /* celebrated on 28 February */
            bd = 28;
        return m == bm && d == bd;
    }
    case PLAN_CUSTOM:
        return interval > 0 && (day - starts) % interval == 0;
    default:
        return false;
    }
}

static const int plan_task_kind[PLAN_KINDS] = {TASK_MISSED_CHECKIN, TASK_WEEKLY_CALL,
                                               TASK_DISCHARGE_CALL, TASK_BIRTHDAY_CALL,
                                               TASK_CUSTOM_CALL};

static const char SQL_TICK_PLANS[] =
    "SELECT cp.id, cp.person_id, cp.kind, cp.time_of_day, cp.weekday, cp.interval_days,"
    " cp.starts_on, cp.ends_on, cp.last_due_on, cp.created_at, p.birth_date, p.community_code"
    " FROM care_plans cp JOIN people p ON p.id = cp.person_id"
    " WHERE cp.active = 1 AND cp.id > ?1 AND cp.starts_on <= ?2"
    "   AND (cp.ends_on IS NULL OR cp.ends_on >= ?3)"
    "   AND (cp.last_due_on IS NULL OR cp.last_due_on < ?2)"
    " ORDER BY cp.id LIMIT ?4";

struct scan_job {
    int64_t now, after_id;
    struct due *dues; /* CARE_TICK_BATCH * 2 */
    int n, rows;
    int64_t last_id;
};

/* Reads a batch of plans that may owe work and works out what is due. */
static int scan_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct scan_job *j = arg;
    int64_t today = care__local_day(j->now);
    char today_s[16], yesterday_s[16];
    care__format_date(today, today_s, sizeof today_s);
    care__format_date(today - 1, yesterday_s, sizeof yesterday_s);
    sqlite3_stmt *st = store_stmt(c, SQL_TICK_PLANS, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, j->after_id);
    sqlite3_bind_text(st, 2, today_s, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, yesterday_s, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 4, CARE_TICK_BATCH);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        j->rows++;
        j->last_id = sqlite3_column_int64(st, 0);
        int kind;
        if (care_plan_kind_parse((const char *)sqlite3_column_text(st, 2), &kind))
            continue;
        int tod = sqlite3_column_int(st, 3);
        int weekday = sqlite3_column_type(st, 4) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 4);
        int interval = sqlite3_column_type(st, 5) == SQLITE_NULL ? 0 : sqlite3_column_int(st, 5);
        int64_t starts, ends = INT64_MAX, last = INT64_MIN;
        if (care__parse_date((const char *)sqlite3_column_text(st, 6), &starts))
            continue;
        if (sqlite3_column_type(st, 7) != SQLITE_NULL &&
            care__parse_date((const char *)sqlite3_column_text(st, 7), &ends))
            continue;
        if (sqlite3_column_type(st, 8) != SQLITE_NULL &&
            care__parse_date((const char *)sqlite3_column_text(st, 8), &last))
            continue;
        int64_t created = sqlite3_column_int64(st, 9);
        const unsigned char *birth = sqlite3_column_text(st, 10);
        const unsigned char *community = sqlite3_column_text(st, 11);
        for (int64_t day = today - 1; day <= today; day++) {
            if (day <= last || day > ends || day < care__local_day(created) ||
                !plan_due_on(kind, starts, weekday, interval, (const char *)birth, day))
                continue;
            struct due *u = &j->dues[j->n];
            memset(u, 0, sizeof *u);
            u->expected = care__day_start_ms(day) + (int64_t)tod * 60000;
            u->checkin = kind == PLAN_DAILY_CHECKIN;
            u->due_at = u->checkin ? u->expected + CARE_CHECKIN_GRACE_MIN * 60000LL : u->expected;
            if (u->due_at > j->now || (u->checkin && u->due_at <= created))
                continue;
            u->plan_id = j->last_id;
            u->person_id = sqlite3_column_int64(st, 1);
            snprintf(u->community, sizeof u->community, "%s",
                     community ? (const char *)community : "");
            u->task_kind = plan_task_kind[kind];
            u->day = day;
            j->n++;
        }
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_fail(c, rc, "reading care plans", err);
    sqlite3_reset(st);
    return LINLI_OK;
}

static const char SQL_SUBSCRIBED_AT[] =
    "SELECT 1 FROM subscriptions WHERE person_id = ?1 AND starts_at <= ?2"
    "   AND (ends_at IS NULL OR ends_at > ?3) LIMIT 1";
static const char SQL_CHECKED_IN[] =
    "SELECT 1 FROM device_events WHERE person_id = ?1 AND kind = 'checkin'"
    "   AND received_at >= ?2 AND received_at < ?3 LIMIT 1";
static const char SQL_PLAN_DEALT[] = "UPDATE care_plans SET last_due_on = ?2 WHERE id = ?1"
                                     "   AND (last_due_on IS NULL OR last_due_on < ?2)";

/* 1 when the query `sql` with (person, a, b) bound finds a row. */
static int exists3(struct store_conn *c, const char *sql, int64_t person, int64_t a, int64_t b,
                   struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, sql, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, person);
    sqlite3_bind_int64(st, 2, a);
    sqlite3_bind_int64(st, 3, b);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_fail(c, rc, "checking a plan", err);
    sqlite3_reset(st);
    return rc == SQLITE_ROW;
}

struct make_job {
    const struct due *dues;
    int n;
    int64_t *made; /* ids of new tasks, up to n */
    int nmade;
};

/* Makes the tasks of a batch of dues and records each plan's day as dealt with. */
static int make_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct make_job *j = arg;
    for (int i = 0; i < j->n; i++) {
        const struct due *u = &j->dues[i];
        char date[16], dedupe[64], note[160];
        care__format_date(u->day, date, sizeof date);
        struct task_seed seed = {.kind = u->task_kind,
                                 .person_id = u->person_id,
                                 .community_code = u->community,
                                 .due_at = u->due_at,
                                 .note = "",
                                 .dedupe = dedupe};
        bool make = true;
        snprintf(dedupe, sizeof dedupe, "plan:%lld:%s", (long long)u->plan_id, date);
        if (u->checkin) {
            int64_t day_start = care__day_start_ms(u->day);
            int rc = exists3(c, SQL_SUBSCRIBED_AT, u->person_id, u->expected, u->due_at, err);
            if (rc < 0)
                return rc;
            if (!rc) { /* no device to check in with: a call instead */
                seed.kind = TASK_CHECKIN_CALL;
                seed.due_at = u->expected;
                seed.note = "Daily check-in plan, but no call device in force: call instead";
            } else {
                rc = exists3(c, SQL_CHECKED_IN, u->person_id, day_start, u->due_at, err);
                if (rc < 0)
                    return rc;
                make = !rc;
                int tod = (int)((u->expected - day_start) / 60000);
                snprintf(dedupe, sizeof dedupe, "checkin:%lld:%s", (long long)u->plan_id, date);
                snprintf(note, sizeof note, "No \"I'm OK\" check-in on %s (expected by %02d:%02d)",
                         date, tod / 60, tod % 60);
                seed.note = note;
            }
        }
        if (make) {
            int64_t id;
            bool made;
            int rc = care__task_insert(c, &seed, u->plan_id, &id, &made, err);
            if (rc)
                return rc;
            if (made)
                j->made[j->nmade++] = id;
        }
        sqlite3_stmt *st = store_stmt(c, SQL_PLAN_DEALT, err);
        if (!st)
            return err->status;
        sqlite3_bind_int64(st, 1, u->plan_id);
        sqlite3_bind_text(st, 2, date, -1, SQLITE_TRANSIENT);
        int rc = sqlite3_step(st);
        if (rc != SQLITE_DONE)
            return store_fail(c, rc, "recording a plan's day", err);
    }
    return LINLI_OK;
}

static void announce_all(struct domain *d, const int64_t *ids, int n)
{
    for (int i = 0; i < n; i++)
        care_task_announce(d, ids[i]);
}

static int tick_plans(struct domain *d, int64_t now, int *made_total, struct linli_err *err)
{
    struct due *dues = calloc(2 * CARE_TICK_BATCH, sizeof *dues);
    int64_t *made = calloc(2 * CARE_TICK_BATCH, sizeof *made);
    if (!dues || !made) {
        free(dues);
        free(made);
        return linli_fail(err, LINLI_ENOMEM, "Out of memory for care plans.");
    }
    int64_t after = 0;
    int rc = LINLI_OK;
    for (;;) {
        struct scan_job s = {.now = now, .after_id = after, .dues = dues};
        if ((rc = store_read(d->store, scan_job, &s, err)))
            break;
        if (s.n) {
            struct make_job m = {dues, s.n, made, 0};
            if ((rc = store_write(d->store, make_job, &m, err)))
                break;
            announce_all(d, made, m.nmade);
            *made_total += m.nmade;
        }
        if (s.rows < CARE_TICK_BATCH)
            break;
        after = s.last_id;
    }
    free(dues);
    free(made);
    return rc;
}

/* ---- the device watchdog ---- */

static const char SQL_SILENT_DEVICES[] =
    "SELECT d.id, s.person_id, p.community_code, d.last_seen_at"
    " FROM subscriptions s JOIN devices d ON d.id = s.device_id"
    " JOIN people p ON p.id = s.person_id"
    " WHERE d.id > ?1 AND d.status = 'active' AND s.starts_at <= ?2"
    "   AND (s.ends_at IS NULL OR s.ends_at > ?2)"
    "   AND (d.last_seen_at < ?3 OR (d.last_seen_at IS NULL AND s.starts_at < ?3))"
    "   AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.dedupe = 'silent:' || d.id)"
    " ORDER BY d.id LIMIT ?4";
static const char SQL_HEARD_AGAIN[] =
    "UPDATE tasks SET state = 'cancelled', outcome = 'the device was heard from again',"
    " dedupe = NULL, done_at = ?2, updated_at = ?2"
    " WHERE kind = 'device_silent' AND state = 'open'"
    "   AND EXISTS (SELECT 1 FROM devices d WHERE d.id = tasks.device_id"
    "               AND d.last_seen_at >= ?1)"
    " RETURNING id";

struct silent {
    int64_t device_id, person_id, last_seen;
    char community[AREA_CODE_LEN + 1];
};

struct silent_scan {
    int64_t now, cut, after_id;
    struct silent *items;
    int n;
};

static int silent_scan_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct silent_scan *j = arg;
    sqlite3_stmt *st = store_stmt(c, SQL_SILENT_DEVICES, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, j->after_id);
    sqlite3_bind_int64(st, 2, j->now);
    sqlite3_bind_int64(st, 3, j->cut);
    sqlite3_bind_int(st, 4, CARE_TICK_BATCH);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct silent *s = &j->items[j->n++];
        s->device_id = sqlite3_column_int64(st, 0);
        s->person_id = sqlite3_column_int64(st, 1);
        const unsigned char *v = sqlite3_column_text(st, 2);
        snprintf(s->community, sizeof s->community, "%s", v ? (const char *)v : "");
        s->last_seen = sqlite3_column_type(st, 3) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, 3);
    }
    if (rc != SQLITE_DONE)
        return store_fail(c, rc, "looking for silent devices", err);
    sqlite3_reset(st);
    return LINLI_OK;
}

struct silent_make {
    const struct silent *items;
    int n;
    int64_t *made;
    int nmade;
};

static int silent_make_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct silent_make *j = arg;
    for (int i = 0; i < j->n; i++) {
        const struct silent *s = &j->items[i];
        char dedupe[40], note[96], when[40];
        snprintf(dedupe, sizeof dedupe, "silent:%lld", (long long)s->device_id);
        if (s->last_seen) {
            clock_format_rfc3339(s->last_seen, when, sizeof when);
            snprintf(note, sizeof note, "Device silent: last heard at %s", when);
        } else {
            snprintf(note, sizeof note, "Device never heard from since its subscription began");
        }
        struct task_seed seed = {.kind = TASK_DEVICE_SILENT,
                                 .person_id = s->person_id,
                                 .device_id = s->device_id,
                                 .community_code = s->community,
                                 .note = note,
                                 .dedupe = dedupe};
        int64_t id;
        bool made;
        int rc = care__task_insert(c, &seed, 0, &id, &made, err);
        if (rc)
            return rc;
        if (made)
            j->made[j->nmade++] = id;
    }
    return LINLI_OK;
}

struct heard_job {
    int64_t cut, now;
    int64_t *ids;
    int n, max;
};

static int heard_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct heard_job *j = arg;
    sqlite3_stmt *st = store_stmt(c, SQL_HEARD_AGAIN, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, j->cut);
    sqlite3_bind_int64(st, 2, j->now);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (j->n < j->max)
            j->ids[j->n] = sqlite3_column_int64(st, 0);
        j->n++;
    }
    if (rc != SQLITE_DONE)
        return store_fail(c, rc, "closing tasks of devices heard again", err);
    sqlite3_reset(st);
    return LINLI_OK;
}

static int tick_devices(struct domain *d, int64_t now, int *made_total, struct linli_err *err)
{
    int64_t limit_s = care__silent_limit(d);
    if (limit_s <= 0)
        return LINLI_OK;
    int64_t cut = now - limit_s * 1000;
    struct silent *items = calloc(CARE_TICK_BATCH, sizeof *items);
    int64_t *made = calloc(CARE_TICK_BATCH, sizeof *made);
    if (!items || !made) {
        free(items);
        free(made);
        return linli_fail(err, LINLI_ENOMEM, "Out of memory for the device watchdog.");
    }
    /* First the open tasks of devices heard from again: cancelled, their keys released. */
    struct heard_job h = {cut, now, made, 0, CARE_TICK_BATCH};
    int rc = store_write(d->store, heard_job, &h, err);
    if (!rc)
        announce_all(d, made, h.n < h.max ? h.n : h.max);
    int64_t after = 0;
    while (!rc) {
        struct silent_scan s = {now, cut, after, items, 0};
        if ((rc = store_read(d->store, silent_scan_job, &s, err)) || !s.n)
            break;
        struct silent_make m = {items, s.n, made, 0};
        if ((rc = store_write(d->store, silent_make_job, &m, err)))
            break;
        announce_all(d, made, m.nmade);
        *made_total += m.nmade;
        if (s.n < CARE_TICK_BATCH)
            break;
        after = items[s.n - 1].device_id;
    }
    free(items);
    free(made);
    return rc;
}

int care_tick(struct domain *d, int64_t now_ms, struct linli_err *err)
{
    int made = 0;
    int rc = tick_plans(d, now_ms, &made, err);
    if (!rc)
        rc = tick_devices(d, now_ms, &made, err);
    if (made)
        log_info("care: %d new task%s", made, made == 1 ? "" : "s");
    return rc;
}
