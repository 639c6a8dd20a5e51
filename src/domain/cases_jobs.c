/* cases_jobs.c - the scheduler's work on cases (cases_tick): deadlines that
 * come near or pass, escalation of overdue cases one level up, resolutions
 * that close themselves when the reporter stays silent, and summoned units
 * that did not report in on time.
 *
 * Each pass selects what needs doing with one indexed query inside a write
 * job, changes at most CASE_TICK_BATCH cases, and repeats while a batch came
 * back full, so a backlog (the scheduler was stopped for a day) is worked off
 * without one long transaction. Every condition is also a WHERE clause on the
 * flags, so a second run at the same time finds nothing to do. */
#include "domain/cases.h"

#include "base/clock.h"
#include "domain/audit.h"
#include "domain/cases_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum pass { PASS_RESPONSE, PASS_RESOLVE, PASS_AUTO_CLOSE, PASS_REPORT_IN, PASSES };

/* ?1 now, ?2 the due-soon window (ms), ?3 the due-soon percent, ?4 batch size. */
static const char SQL_RESPONSE_DUE[] =
    "SELECT id FROM cases WHERE state = 'submitted' AND ("
    " ((flags & 1) = 0 AND response_due_at - MIN(?2, response_minutes * 60000 * ?3 / 100) <= ?1)"
    " OR ((flags & 2) = 0 AND response_due_at < ?1)) ORDER BY id LIMIT ?4";
static const char SQL_RESOLVE_DUE[] =
    "SELECT id FROM cases WHERE state IN ('accepted', 'dispatched', 'in_progress')"
    " AND resolve_due_at IS NOT NULL AND ("
    " ((flags & 4) = 0 AND resolve_due_at - MIN(?2, resolve_minutes * 60000 * ?3 / 100) <= ?1)"
    " OR ((flags & 8) = 0 AND resolve_due_at < ?1)) ORDER BY id LIMIT ?4";
/* ?1 now - auto-close days */
static const char SQL_AUTO_CLOSE_DUE[] =
    "SELECT id FROM cases WHERE state = 'resolved' AND resolved_at <= ?1 ORDER BY id LIMIT ?4";
static const char SQL_REPORT_IN_DUE[] =
    "SELECT case_id, unit_code FROM case_units WHERE link = 'summoned' AND reported_at IS NULL"
    " AND late = 0 AND due_at < ?1 ORDER BY due_at, case_id LIMIT ?4";

static const char SQL_SET_FLAGS[] = "UPDATE cases SET flags = flags | ?2 WHERE id = ?1";
static const char SQL_ESCALATE[] =
    "UPDATE cases SET escalated_to = ?2, escalations = escalations + 1, updated_at = ?3"
    " WHERE id = ?1";
static const char SQL_AUTO_CLOSE[] =
    "UPDATE cases SET state = 'closed', closed_at = ?2, updated_at = ?2 WHERE id = ?1"
    " AND state = 'resolved'";
static const char SQL_MARK_LATE[] =
    "UPDATE case_units SET late = 1 WHERE case_id = ?1 AND unit_code = ?2 AND link = 'summoned'";

struct tick_job {
    struct domain *d;
    struct principal system;
    int64_t now;
    enum pass pass;
    struct case_settings settings;
    struct case_tick_report *rep;
    json_t *publish;
    int done; /* rows this batch looked at */
    struct case_record r;
};

static void queue(struct tick_job *j, const char *topic, const char *kind, json_t *extra)
{
    json_t *payload = cases__summary(&j->r, kind);
    if (extra) {
        json_object_update(payload, extra);
        json_decref(extra);
    }
    json_array_append_new(j->publish, json_pack("[s, o]", topic, payload));
}

static int set_flags(struct store_conn *c, int64_t id, unsigned flags, struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_SET_FLAGS, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int(st, 2, (int)flags);
    int rc = sqlite3_step(st);
    return rc == SQLITE_DONE ? LINLI_OK : store_fail(c, rc, "flagging a case", err);
}

/* Escalates j->r one level above the unit it is with now; nothing at the top. */
static int escalate(struct store_conn *c, struct tick_job *j, const char *deadline,
                    struct linli_err *err)
{
    struct case_record *r = &j->r;
    const char *from = r->escalated_to[0] ? r->escalated_to : r->unit_code;
    char district[AREA_CODE_LEN + 1], to[CASE_UNIT_CODE_MAX + 1];
    int rc = cases__district(c, j->d, r->area_code, district, err);
    if (rc)
        return rc;
    case_unit_parent(from, district, to);
    if (!to[0] || !strcmp(to, from))
        return LINLI_OK; /* at the top already: the overdue flag says it all */
    sqlite3_stmt *st = store_stmt(c, SQL_ESCALATE, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, r->id);
    sqlite3_bind_text(st, 2, to, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, j->now);
    if ((rc = sqlite3_step(st)) != SQLITE_DONE)
        return store_fail(c, rc, "escalating a case", err);
    if ((rc = cases__link_unit(c, r->id, to, LINK_ESCALATED, j->now, 0, err)))
        return rc;
    json_t *detail = json_pack("{s:s, s:s, s:s}", "from", from, "to", to, "deadline", deadline);
    rc = cases__event(c, r->id, j->now, CASE_EV_ESCALATED, r->state, NULL, to, NULL, false, detail,
                      NULL, err);
    if (!rc) {
        char object[32];
        cases__object(r->id, object);
        rc = audit_append(c, &j->system, "case.escalate", object, detail, err);
    }
    json_decref(detail);
    if (rc)
        return rc;
    snprintf(r->escalated_to, sizeof r->escalated_to, "%s", to);
    j->rep->escalated++;
    queue(j, "case.escalated", CASE_EV_ESCALATED, json_pack("{s:s, s:s}", "from", from, "to", to));
    return LINLI_OK;
}

/* A deadline pass over case j->r: due soon, or overdue and escalated. */
static int check_deadline(struct store_conn *c, struct tick_job *j, bool response,
                          struct linli_err *err)
{
    struct case_record *r = &j->r;
    int64_t due = response ? r->response_due_at : r->resolve_due_at;
    int64_t limit = (response ? r->response_minutes : r->resolve_minutes) * CASE_MINUTE_MS;
    unsigned soon_flag = response ? CASE_FLAG_RESPONSE_DUE_SOON : CASE_FLAG_RESOLVE_DUE_SOON;
    unsigned over_flag = response ? CASE_FLAG_RESPONSE_OVERDUE : CASE_FLAG_RESOLVE_OVERDUE;
    const char *deadline = response ? "response" : "resolution";
    char due_text[32];
    clock_format_rfc3339(due, due_text, sizeof due_text);
    int rc;
    if (j->now > due && !(r->flags & over_flag)) {
        /* an overdue case is not announced as due soon afterwards */
        if ((rc = set_flags(c, r->id, soon_flag | over_flag, err)))
            return rc;
        json_t *detail = json_pack("{s:s, s:s}", "deadline", deadline, "due_at", due_text);
        rc = cases__event(c, r->id, j->now, CASE_EV_OVERDUE, r->state, NULL, "", NULL, false,
                          detail, NULL, err);
        json_decref(detail);
        if (rc)
            return rc;
        j->rep->overdue++;
        queue(j, "case.overdue", CASE_EV_OVERDUE,
              json_pack("{s:s, s:s}", "deadline", deadline, "due_at", due_text));
        return escalate(c, j, deadline, err);
    }
    if (!(r->flags & soon_flag) && j->now >= case_due_soon_at(due, limit) && j->now <= due) {
        if ((rc = set_flags(c, r->id, soon_flag, err)))
            return rc;
        json_t *detail = json_pack("{s:s, s:s}", "deadline", deadline, "due_at", due_text);
        rc = cases__event(c, r->id, j->now, CASE_EV_DUE_SOON, r->state, NULL, "", NULL, false,
                          detail, NULL, err);
        json_decref(detail);
        if (rc)
            return rc;
        j->rep->due_soon++;
        queue(j, "case.due_soon", CASE_EV_DUE_SOON,
              json_pack("{s:s, s:s}", "deadline", deadline, "due_at", due_text));
    }
    return LINLI_OK;
}

static int auto_close(struct store_conn *c, struct tick_job *j, struct linli_err *err)
{
    struct case_record *r = &j->r;
    sqlite3_stmt *st = store_stmt(c, SQL_AUTO_CLOSE, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, r->id);
    sqlite3_bind_int64(st, 2, j->now);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        return store_fail(c, rc, "closing a case", err);
    char note[96];
    snprintf(note, sizeof note, "解决后%d天未确认，自动结案 (closed: not confirmed within %d days)",
             j->settings.auto_close_days, j->settings.auto_close_days);
    json_t *detail = json_pack("{s:s, s:b, s:i}", "from", "resolved", "auto", 1, "days",
                               j->settings.auto_close_days);
    rc = cases__event(c, r->id, j->now, CASE_EV_CLOSED, CASE_CLOSED, NULL, "", note, true, detail,
                      NULL, err);
    if (!rc) {
        char object[32];
        cases__object(r->id, object);
        json_object_set_new(detail, "to", json_string("closed"));
        rc = audit_append(c, &j->system, "case.transition", object, detail, err);
    }
    json_decref(detail);
    if (rc)
        return rc;
    r->state = CASE_CLOSED;
    j->rep->auto_closed++;
    queue(j, "case.updated", CASE_EV_CLOSED, NULL);
    return LINLI_OK;
}

static int mark_late(struct store_conn *c, struct tick_job *j, const char *unit,
                     struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_MARK_LATE, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, j->r.id);
    sqlite3_bind_text(st, 2, unit, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        return store_fail(c, rc, "flagging a late report-in", err);
    json_t *detail = json_pack("{s:s}", "unit", unit);
    rc = cases__event(c, j->r.id, j->now, CASE_EV_REPORT_IN_OVERDUE, j->r.state, NULL, unit, NULL,
                      false, detail, NULL, err);
    json_decref(detail);
    if (rc)
        return rc;
    j->rep->report_ins_late++;
    queue(j, "case.report_in_overdue", CASE_EV_REPORT_IN_OVERDUE, json_pack("{s:s}", "unit", unit));
    return LINLI_OK;
}

static int tick_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct tick_job *j = arg;
    static const char *const sql[PASSES] = {SQL_RESPONSE_DUE, SQL_RESOLVE_DUE, SQL_AUTO_CLOSE_DUE,
                                            SQL_REPORT_IN_DUE};
    sqlite3_stmt *st = store_stmt(c, sql[j->pass], err);
    if (!st)
        return err->status;
    int64_t now = j->now;
    if (j->pass == PASS_AUTO_CLOSE)
        now -= j->settings.auto_close_days * CASE_DAY_MS;
    sqlite3_bind_int64(st, 1, now);
    if (j->pass == PASS_RESPONSE || j->pass == PASS_RESOLVE) {
        sqlite3_bind_int64(st, 2, CASE_DUE_SOON_WINDOW_MS);
        sqlite3_bind_int(st, 3, CASE_DUE_SOON_PERCENT);
    }
    sqlite3_bind_int(st, 4, CASE_TICK_BATCH);
    int64_t ids[CASE_TICK_BATCH];
    char units[CASE_TICK_BATCH][CASE_UNIT_CODE_MAX + 1];
    int n = 0, rc;
    while (n < CASE_TICK_BATCH && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        ids[n] = sqlite3_column_int64(st, 0);
        if (j->pass == PASS_REPORT_IN)
            cases__col(units[n], sizeof units[n], st, 1);
        n++;
    }
    sqlite3_reset(st);
    if (n < CASE_TICK_BATCH && rc != SQLITE_DONE)
        return store_fail(c, rc, "finding cases with deadlines", err);
    j->done = n;
    for (int i = 0; i < n; i++) {
        bool found;
        if ((rc = cases__load(c, ids[i], &j->r, &found, err)))
            return rc;
        if (!found)
            continue;
        switch (j->pass) {
        case PASS_RESPONSE:
            rc = check_deadline(c, j, true, err);
            break;
        case PASS_RESOLVE:
            rc = check_deadline(c, j, false, err);
            break;
        case PASS_AUTO_CLOSE:
            rc = auto_close(c, j, err);
            break;
        default:
            rc = mark_late(c, j, units[i], err);
            break;
        }
        if (rc)
            return rc;
    }
    return LINLI_OK;
}

static int settings_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    return cases__settings(c, arg, err);
}

int cases_tick(struct domain *d, int64_t now_ms, struct case_tick_report *rep,
               struct linli_err *err)
{
    linli_err_clear(err);
    memset(rep, 0, sizeof *rep);
    struct tick_job *j = calloc(1, sizeof *j);
    if (!j)
        return linli_fail(err, LINLI_ENOMEM, "Out of memory.");
    j->d = d;
    principal_system(&j->system, "scheduler");
    j->now = now_ms;
    j->rep = rep;
    int rc = store_read(d->store, settings_job, &j->settings, err);
    for (int pass = 0; !rc && pass < PASSES; pass++) {
        j->pass = (enum pass)pass;
        do {
            j->publish = json_array();
            j->done = 0;
            rc = store_write(d->store, tick_job, j, err);
            if (rc) {
                json_decref(j->publish);
                break;
            }
            cases__publish_all(d, j->publish);
        } while (j->done == CASE_TICK_BATCH);
    }
    free(j);
    return rc;
}
