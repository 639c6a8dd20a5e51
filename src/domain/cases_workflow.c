/* cases_workflow.c - what happens to a case after it is raised: state
 * transitions (the state machine of cases_rules.c, enforced with who may
 * make each move), notes, photos, the whistle and report-ins (吹哨报到), and
 * the reporter's rating. Each call is one write job: the case is read,
 * checked and changed, its event and audit entry written, all in the same
 * transaction; the bus hears of it after the commit. */
#include "domain/cases.h"

#include "base/clock.h"
#include "domain/audit.h"
#include "domain/cases_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A write job's common frame: the caller, the case as loaded (then as
 * changed: re-read after the write), the time, and what to publish. */
struct act {
    struct domain *d;
    const struct principal *who;
    int64_t id, at;
    struct case_record *out;
    struct case_actor actor;
    json_t *publish; /* [[topic, payload], ...] */
};

static int load_for_act(struct store_conn *c, struct act *a, struct linli_err *err)
{
    int rc = cases__actor(c, a->who, &a->actor, err);
    if (rc)
        return rc;
    return cases__load_visible(c, &a->actor, a->id, a->out, err);
}

/* Re-reads the case after the change and queues its bus event. */
static int finish_act(struct store_conn *c, struct act *a, const char *topic, const char *kind,
                      json_t *extra, struct linli_err *err)
{
    bool found;
    int rc = cases__load(c, a->id, a->out, &found, err);
    if (rc) {
        json_decref(extra);
        return rc;
    }
    cases__redact(&a->actor, a->out);
    json_t *payload = cases__summary(a->out, kind);
    if (extra)
        json_object_update(payload, extra);
    json_decref(extra);
    json_array_append_new(a->publish, json_pack("[s, o]", topic, payload));
    return LINLI_OK;
}

static int audit_case(struct store_conn *c, const struct principal *who, const char *action,
                      int64_t id, json_t *detail, struct linli_err *err)
{
    char object[32];
    cases__object(id, object);
    return audit_append(c, who, action, object, detail, err);
}

static const char SQL_TOUCH[] = "UPDATE cases SET updated_at = ?2 WHERE id = ?1";

static int touch(struct store_conn *c, int64_t id, int64_t at, struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_TOUCH, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, at);
    int rc = sqlite3_step(st);
    return rc == SQLITE_DONE ? LINLI_OK : store_fail(c, rc, "changing a case", err);
}

/* Runs `sql` with ?1 = id, ?2 = int64 value, ?3 = text value (may be NULL);
 * a statement without ?2 or ?3 ignores them. */
static int exec3(struct store_conn *c, const char *sql, int64_t id, int64_t v, const char *text,
                 struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, sql, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, v);
    if (text)
        sqlite3_bind_text(st, 3, text, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    return rc == SQLITE_DONE ? LINLI_OK : store_fail(c, rc, "changing a case", err);
}

static int run_act(struct domain *d, store_fn fn, struct act *a, struct linli_err *err)
{
    a->publish = json_array();
    int rc = store_write(d->store, fn, a, err);
    if (rc) {
        json_decref(a->publish);
        return rc;
    }
    cases__publish_all(d, a->publish);
    return LINLI_OK;
}

/* ---- transitions ---- */

static const char SQL_SET_STATE[] = "UPDATE cases SET state = ?3, updated_at = ?2 WHERE id = ?1";
static const char SQL_ACCEPTED[] =
    "UPDATE cases SET accepted_at = ?2, resolve_due_at = ?2 + resolve_minutes * 60000"
    " WHERE id = ?1";
static const char SQL_REOPENED[] =
    "UPDATE cases SET resolve_due_at = ?2 + resolve_minutes * 60000, flags = flags & ~12"
    " WHERE id = ?1";
static const char SQL_RESOLVED[] =
    "UPDATE cases SET resolved_at = ?2, resolutions = resolutions + 1 WHERE id = ?1";
static const char SQL_CLOSED[] = "UPDATE cases SET closed_at = ?2 WHERE id = ?1";
static const char SQL_REJECTED[] = "UPDATE cases SET closed_at = ?2, reason = ?3 WHERE id = ?1";
static const char SQL_DUPLICATE[] =
    "UPDATE cases SET closed_at = ?2, duplicate_of = CAST(?3 AS INTEGER) WHERE id = ?1";
static const char SQL_NEW_LEAD[] = "UPDATE cases SET unit_code = ?3 WHERE id = ?1";
static const char SQL_DROP_LEAD[] = "DELETE FROM case_units WHERE case_id = ?1 AND link = 'lead'";

struct transition_job {
    struct act a;
    const struct case_transition_in *in;
    int to;
};

/* Who the caller is for this case, as CASE_BY_* bits, and the unit acted for. */
static unsigned caller_bits(const struct act *a, char unit[CASE_UNIT_CODE_MAX + 1])
{
    unsigned bits = 0;
    unit[0] = '\0';
    if (cases__is_system(a->who))
        bits |= CASE_BY_SYSTEM;
    if (cases__is_reporter(&a->actor, a->out))
        bits |= CASE_BY_REPORTER;
    if (!cases__is_system(a->who) && cases__handles(&a->actor, a->out, unit))
        bits |= CASE_BY_HANDLER;
    return bits;
}

static int check_dispatch_units(struct store_conn *c, const struct case_transition_in *in,
                                char lead[CASE_UNIT_CODE_MAX + 1],
                                char co[CASE_UNITS_MAX - 1][CASE_UNIT_CODE_MAX + 1],
                                struct linli_err *err)
{
    char why[96];
    int rc;
    lead[0] = '\0';
    if (in->unit) {
        if ((rc = cases__unit_exists(c, in->unit, lead, why, sizeof why, err)) < 0)
            return rc;
        if (rc)
            linli_field(err, "unit", "%s", why);
    }
    for (int i = 0; i < in->nco; i++) {
        char f[24];
        snprintf(f, sizeof f, "co_units[%d]", i);
        if ((rc = cases__unit_exists(c, in->co_units[i], co[i], why, sizeof why, err)) < 0)
            return rc;
        if (rc) {
            linli_field(err, f, "%s", why);
            continue;
        }
        for (int k = 0; k < i; k++)
            if (!strcmp(co[k], co[i]))
                linli_field(err, f, "is listed twice");
    }
    return err->nfields ? LINLI_EINVAL : LINLI_OK;
}

static int transition_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct transition_job *j = arg;
    struct act *a = &j->a;
    const struct case_transition_in *in = j->in;
    int rc = load_for_act(c, a, err);
    if (rc)
        return rc;
    struct case_record *r = a->out;
    int from = r->state, to = j->to;
    unsigned allowed = case_transition_allowed(from, to);
    if (!allowed)
        return linli_fail(err, LINLI_ECONFLICT, "Case %s is %s: it cannot move to %s.", r->number,
                          case_state_name(from), case_state_name(to));
    char unit[CASE_UNIT_CODE_MAX + 1];
    unsigned mine = caller_bits(a, unit);
    if (!(allowed & mine)) {
        if (allowed & CASE_BY_REPORTER)
            return linli_fail(err, LINLI_EFORBIDDEN,
                              "Only the reporter of case %s may move it from %s to %s.", r->number,
                              case_state_name(from), case_state_name(to));
        return linli_fail(err, LINLI_EFORBIDDEN,
                          "Only staff of the handling unit (%s) may move case %s to %s.",
                          r->unit_code, r->number, case_state_name(to));
    }
    bool reopen = from == CASE_RESOLVED && to == CASE_IN_PROGRESS;
    json_t *detail = json_pack("{s:s}", "from", case_state_name(from));
    char lead[CASE_UNIT_CODE_MAX + 1], co[CASE_UNITS_MAX - 1][CASE_UNIT_CODE_MAX + 1];
    if (to == CASE_DISPATCHED) {
        if ((rc = check_dispatch_units(c, in, lead, co, err)))
            goto out;
        if (r->nunits + in->nco + 1 > CASE_UNITS_MAX) {
            rc =
                linli_fail(err, LINLI_ETOOBIG, "A case may have at most %d units.", CASE_UNITS_MAX);
            goto out;
        }
    }
    if (to == CASE_DUPLICATE) {
        struct case_record *orig = malloc(sizeof *orig);
        bool found = false;
        if (!orig) {
            rc = linli_fail(err, LINLI_ENOMEM, "Out of memory.");
            goto out;
        }
        rc = in->duplicate_of == r->id
                 ? linli_field(err, "duplicate_of", "a case is not a duplicate of itself")
                 : cases__load(c, in->duplicate_of, orig, &found, err);
        if (!rc && (!found || !cases__visible(&a->actor, orig)))
            rc = linli_field(err, "duplicate_of", "no case %lld", (long long)in->duplicate_of);
        else if (!rc && orig->state == CASE_DUPLICATE)
            rc = linli_field(err, "duplicate_of",
                             "case %s is itself a duplicate of case %lld: link the original",
                             orig->number, (long long)orig->duplicate_of);
        if (!rc)
            json_object_set_new(detail, "duplicate_of_number", json_string(orig->number));
        free(orig);
        if (rc)
            goto out;
        json_object_set_new(detail, "duplicate_of", json_integer(in->duplicate_of));
    }
    /* the change */
    if ((rc = exec3(c, SQL_SET_STATE, r->id, a->at, case_state_name(to), err)))
        goto out;
    switch (to) {
    case CASE_ACCEPTED:
        rc = exec3(c, SQL_ACCEPTED, r->id, a->at, NULL, err);
        break;
    case CASE_IN_PROGRESS:
        if (reopen)
            rc = exec3(c, SQL_REOPENED, r->id, a->at, NULL, err);
        break;
    case CASE_RESOLVED:
        rc = exec3(c, SQL_RESOLVED, r->id, a->at, NULL, err);
        break;
    case CASE_CLOSED:
        rc = exec3(c, SQL_CLOSED, r->id, a->at, NULL, err);
        break;
    case CASE_REJECTED:
        rc = exec3(c, SQL_REJECTED, r->id, a->at, in->reason, err);
        json_object_set_new(detail, "reason", json_string(in->reason));
        break;
    case CASE_DUPLICATE: {
        char idtext[24];
        snprintf(idtext, sizeof idtext, "%lld", (long long)in->duplicate_of);
        rc = exec3(c, SQL_DUPLICATE, r->id, a->at, idtext, err);
        break;
    }
    case CASE_DISPATCHED:
        if (lead[0] && strcmp(lead, r->unit_code)) {
            if ((rc = exec3(c, SQL_NEW_LEAD, r->id, 0, lead, err)) ||
                (rc = exec3(c, SQL_DROP_LEAD, r->id, 0, NULL, err)) ||
                (rc = cases__link_unit(c, r->id, lead, LINK_LEAD, a->at, 0, err)))
                break;
            json_object_set_new(detail, "unit_from", json_string(r->unit_code));
            json_object_set_new(detail, "unit", json_string(lead));
        }
        if (in->nco) {
            json_t *arr = json_array();
            for (int i = 0; i < in->nco && !rc; i++) {
                json_array_append_new(arr, json_string(co[i]));
                rc = cases__link_unit(c, r->id, co[i], LINK_CO, a->at, 0, err);
            }
            json_object_set_new(detail, "co_units", arr);
        }
        break;
    default:
        break;
    }
    if (rc)
        goto out;
    const char *kind = reopen ? CASE_EV_REOPENED : case_state_name(to);
    if ((rc = cases__event(c, r->id, a->at, kind, to, a->who, unit, in->note, true, detail, NULL,
                           err)))
        goto out;
    json_object_set_new(detail, "to", json_string(case_state_name(to)));
    if ((rc = audit_case(c, a->who, "case.transition", r->id, detail, err)))
        goto out;
    rc = finish_act(c, a, "case.updated", kind, NULL, err);
out:
    json_decref(detail);
    return rc;
}

int cases_transition(struct domain *d, const struct principal *who, int64_t id,
                     const struct case_transition_in *in, struct case_record *out,
                     struct linli_err *err)
{
    linli_err_clear(err);
    int to = -1;
    if (!in->to || case_state_parse(in->to, &to))
        linli_field(err, "to",
                    "must be a state: accepted, dispatched, in_progress, resolved, closed, "
                    "rejected or duplicate");
    cases__check_text("note", in->note, CASE_NOTE_MAX, false, true, err);
    cases__check_text("reason", in->reason, CASE_NOTE_MAX, to == CASE_REJECTED, true, err);
    if (to == CASE_RESOLVED && !(in->note && *in->note))
        linli_field(err, "note", "is required: say how the matter was resolved");
    if (to == CASE_DUPLICATE && in->duplicate_of <= 0)
        linli_field(err, "duplicate_of", "is required: the id of the original case");
    if (to != CASE_DUPLICATE && in->duplicate_of)
        linli_field(err, "duplicate_of", "is only for a move to duplicate");
    if (to != CASE_DISPATCHED && (in->unit || in->nco))
        linli_field(err, in->unit ? "unit" : "co_units", "is only for a move to dispatched");
    if (in->nco < 0 || in->nco > CASE_UNITS_MAX - 1)
        linli_field(err, "co_units", "at most %d units", CASE_UNITS_MAX - 1);
    if (err->nfields)
        return LINLI_EINVAL;
    struct transition_job j = {
        {d, who, id, in->at ? in->at : clock_now_ms(), out, {0}, NULL}, in, to};
    return run_act(d, transition_job, &j.a, err);
}

/* ---- notes ---- */

struct note_job {
    struct act a;
    const char *text;
    bool public_note;
    struct case_event *ev;
};

/* Who may add to a case that they see: anyone but auditors (read-only);
 * not to a final case. */
static int may_add(const struct act *a, struct linli_err *err)
{
    if (a->who && a->who->role == ROLE_AUDITOR)
        return linli_fail(err, LINLI_EFORBIDDEN, "Auditors read cases; they do not add to them.");
    if (case_state_final(a->out->state))
        return linli_fail(err, LINLI_ECONFLICT, "Case %s is %s: nothing more can be added.",
                          a->out->number, case_state_name(a->out->state));
    return LINLI_OK;
}

static int note_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct note_job *j = arg;
    struct act *a = &j->a;
    int rc = load_for_act(c, a, err);
    if (rc || (rc = may_add(a, err)))
        return rc;
    char unit[CASE_UNIT_CODE_MAX + 1] = "";
    if (!cases__handles(&a->actor, a->out, unit))
        cases__linked(&a->actor, a->out, unit);
    bool pub = j->public_note || cases__is_reporter(&a->actor, a->out);
    int64_t ev;
    if ((rc = cases__event(c, a->id, a->at, CASE_EV_NOTE, a->out->state, a->who, unit, j->text, pub,
                           NULL, &ev, err)) ||
        (rc = touch(c, a->id, a->at, err)))
        return rc;
    json_t *detail = json_pack("{s:I, s:b}", "event_id", (json_int_t)ev, "public", pub);
    rc = audit_case(c, a->who, "case.note", a->id, detail, err);
    json_decref(detail);
    if (rc)
        return rc;
    memset(j->ev, 0, sizeof *j->ev);
    j->ev->id = ev;
    j->ev->case_id = a->id;
    j->ev->at = a->at;
    snprintf(j->ev->kind, sizeof j->ev->kind, "%s", CASE_EV_NOTE);
    j->ev->state = a->out->state;
    j->ev->actor_user_id = a->who ? a->who->user_id : 0;
    snprintf(j->ev->actor_name, sizeof j->ev->actor_name, "%s", a->who ? a->who->username : "");
    snprintf(j->ev->actor_unit, sizeof j->ev->actor_unit, "%s", unit);
    snprintf(j->ev->note, sizeof j->ev->note, "%s", j->text);
    j->ev->public_note = pub;
    snprintf(j->ev->detail, sizeof j->ev->detail, "{}");
    return finish_act(c, a, "case.note", CASE_EV_NOTE, NULL, err);
}

int cases_add_note(struct domain *d, const struct principal *who, int64_t id, const char *text,
                   bool public_note, struct case_event *out, struct linli_err *err)
{
    linli_err_clear(err);
    cases__check_text("text", text, CASE_NOTE_MAX, true, true, err);
    if (err->nfields)
        return LINLI_EINVAL;
    struct case_record *r = malloc(sizeof *r);
    if (!r)
        return linli_fail(err, LINLI_ENOMEM, "Out of memory.");
    struct note_job j = {{d, who, id, clock_now_ms(), r, {0}, NULL}, text, public_note, out};
    int rc = run_act(d, note_job, &j.a, err);
    free(r);
    return rc;
}

/* ---- photos ---- */

struct photos_job {
    struct act a;
    const struct case_photo *photos;
    int n;
    const char *note;
};

static int photos_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct photos_job *j = arg;
    struct act *a = &j->a;
    int rc = load_for_act(c, a, err);
    if (rc || (rc = may_add(a, err)))
        return rc;
    int fresh = 0;
    for (int i = 0; i < j->n; i++) {
        bool had = false;
        for (int k = 0; k < a->out->nphotos && !had; k++)
            had = !strcmp(a->out->photos[k].hash, j->photos[i].hash);
        fresh += !had;
    }
    if (a->out->nphotos + fresh > CASE_PHOTOS_MAX)
        return linli_fail(err, LINLI_ETOOBIG, "Case %s has %d photos; at most %d are kept.",
                          a->out->number, a->out->nphotos, CASE_PHOTOS_MAX);
    char unit[CASE_UNIT_CODE_MAX + 1] = "";
    if (!cases__handles(&a->actor, a->out, unit))
        cases__linked(&a->actor, a->out, unit);
    json_t *hashes = json_array();
    bool noted = false;
    for (int i = 0; i < j->n; i++) {
        const struct case_photo *p = &j->photos[i];
        bool had = false;
        for (int k = 0; k < a->out->nphotos && !had; k++)
            had = !strcmp(a->out->photos[k].hash, p->hash);
        for (int k = 0; k < i && !had; k++)
            had = !strcmp(j->photos[k].hash, p->hash);
        if (had)
            continue;
        json_t *detail = json_pack("{s:s, s:s, s:I}", "hash", p->hash, "type", p->type, "size",
                                   (json_int_t)p->size);
        int64_t ev;
        rc = cases__event(c, a->id, a->at, CASE_EV_PHOTO, a->out->state, a->who, unit,
                          noted ? NULL : j->note, true, detail, &ev, err);
        json_decref(detail);
        noted = true;
        if (rc || (rc = cases__insert_photo(c, a->id, p, ev, a->who, a->at, err)) < 0) {
            json_decref(hashes);
            return rc;
        }
        json_array_append_new(hashes, json_string(p->hash));
    }
    if ((rc = touch(c, a->id, a->at, err))) {
        json_decref(hashes);
        return rc;
    }
    json_t *detail = json_pack("{s:O}", "photos", hashes);
    rc = audit_case(c, a->who, "case.photo", a->id, detail, err);
    json_decref(detail);
    if (rc) {
        json_decref(hashes);
        return rc;
    }
    return finish_act(c, a, "case.photo", CASE_EV_PHOTO, json_pack("{s:o}", "photos", hashes), err);
}

int cases_add_photos(struct domain *d, const struct principal *who, int64_t id,
                     const struct case_photo *photos, int n, const char *note,
                     struct case_record *out, struct linli_err *err)
{
    linli_err_clear(err);
    if (n < 1)
        linli_field(err, "photo", "send at least one photo");
    if (n > CASE_PHOTOS_MAX)
        return linli_fail(err, LINLI_ETOOBIG, "At most %d photos per case.", CASE_PHOTOS_MAX);
    for (int i = 0; i < n; i++) {
        char f[24];
        snprintf(f, sizeof f, "photos[%d]", i);
        cases__check_photo(f, &photos[i], err);
    }
    cases__check_text("note", note, CASE_NOTE_MAX, false, true, err);
    if (err->nfields)
        return LINLI_EINVAL;
    struct photos_job j = {{d, who, id, clock_now_ms(), out, {0}, NULL}, photos, n, note};
    return run_act(d, photos_job, &j.a, err);
}

/* ---- whistle and report-in ---- */

/* May blow the whistle: admins and the system; staff acting for the street
 * or the district that holds the case's area; handlers whose unit is a
 * street or the district. */
static bool may_whistle(struct store_conn *c, struct act *a, struct linli_err *err)
{
    const struct principal *who = a->who;
    const struct case_record *r = a->out;
    if (who->role == ROLE_ADMIN || cases__is_system(who))
        return true;
    char street[CASE_UNIT_CODE_MAX + 1] = "", district[AREA_CODE_LEN + 1] = "";
    if (r->area_code[0]) {
        if (area_code_level(r->area_code) == 2)
            case_unit_parent(r->area_code, "", street);
        else if (area_code_level(r->area_code) == 1)
            snprintf(street, sizeof street, "%s", r->area_code);
    }
    if (cases__district(c, a->d, r->area_code, district, err))
        return false;
    if ((street[0] && cases__acts_for(&a->actor, street)) ||
        (district[0] && cases__acts_for(&a->actor, district)))
        return true;
    char unit[CASE_UNIT_CODE_MAX + 1];
    if (cases__handles(&a->actor, r, unit) && !case_unit_is_department(unit) &&
        area_code_level(unit) < 2)
        return true;
    return false;
}

static const char SQL_SETTINGS[] =
    "SELECT auto_close_days, report_in_minutes FROM case_settings WHERE id = 1";

int cases__settings(struct store_conn *c, struct case_settings *out, struct linli_err *err)
{
    out->auto_close_days = CASE_AUTO_CLOSE_DAYS;
    out->report_in_minutes = CASE_REPORT_IN_MINUTES;
    sqlite3_stmt *st = store_stmt(c, SQL_SETTINGS, err);
    if (!st)
        return err->status;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        out->auto_close_days = sqlite3_column_int(st, 0);
        out->report_in_minutes = sqlite3_column_int(st, 1);
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? LINLI_OK
                                                 : store_fail(c, rc, "reading case settings", err);
}

struct whistle_job {
    struct act a;
    const char *const *units;
    int n;
    const char *note;
};

static int whistle_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct whistle_job *j = arg;
    struct act *a = &j->a;
    int rc = load_for_act(c, a, err);
    if (rc)
        return rc;
    struct case_record *r = a->out;
    if (!may_whistle(c, a, err))
        return err->status ? err->status
                           : linli_fail(err, LINLI_EFORBIDDEN,
                                        "Only the street or the district holding case %s may "
                                        "blow the whistle on it.",
                                        r->number);
    if (case_state_final(r->state) || r->state == CASE_RESOLVED)
        return linli_fail(err, LINLI_ECONFLICT, "Case %s is %s: no one can be summoned now.",
                          r->number, case_state_name(r->state));
    char codes[CASE_UNITS_MAX][CASE_UNIT_CODE_MAX + 1];
    char why[96];
    for (int i = 0; i < j->n; i++) {
        char f[24];
        snprintf(f, sizeof f, "units[%d]", i);
        if ((rc = cases__unit_exists(c, j->units[i], codes[i], why, sizeof why, err)) < 0)
            return rc;
        if (rc) {
            linli_field(err, f, "%s", why);
            continue;
        }
        for (int k = 0; k < i; k++)
            if (!strcmp(codes[k], codes[i]))
                linli_field(err, f, "is listed twice");
        for (int k = 0; k < r->nunits; k++)
            if (r->units[k].link == LINK_SUMMONED && !strcmp(r->units[k].unit, codes[i]))
                linli_field(err, f, "%s was summoned already", codes[i]);
    }
    if (err->nfields)
        return LINLI_EINVAL;
    if (r->nunits + j->n > CASE_UNITS_MAX)
        return linli_fail(err, LINLI_ETOOBIG, "A case may have at most %d units.", CASE_UNITS_MAX);
    struct case_settings s;
    if ((rc = cases__settings(c, &s, err)))
        return rc;
    int64_t due = a->at + s.report_in_minutes * CASE_MINUTE_MS;
    json_t *arr = json_array();
    for (int i = 0; i < j->n && !rc; i++) {
        json_array_append_new(arr, json_string(codes[i]));
        rc = cases__link_unit(c, r->id, codes[i], LINK_SUMMONED, a->at, due, err);
    }
    char unit[CASE_UNIT_CODE_MAX + 1] = "";
    cases__handles(&a->actor, r, unit);
    char due_text[32];
    clock_format_rfc3339(due, due_text, sizeof due_text);
    json_t *detail = json_pack("{s:O, s:s}", "units", arr, "due_at", due_text);
    if (!rc)
        rc = cases__event(c, r->id, a->at, CASE_EV_WHISTLE, r->state, a->who, unit, j->note, false,
                          detail, NULL, err);
    if (!rc)
        rc = touch(c, r->id, a->at, err);
    if (!rc)
        rc = audit_case(c, a->who, "case.whistle", r->id, detail, err);
    json_decref(detail);
    if (rc) {
        json_decref(arr);
        return rc;
    }
    return finish_act(c, a, "case.whistle", CASE_EV_WHISTLE, json_pack("{s:o}", "units", arr), err);
}

int cases_whistle(struct domain *d, const struct principal *who, int64_t id,
                  const char *const *units, int n, const char *note, int64_t at,
                  struct case_record *out, struct linli_err *err)
{
    linli_err_clear(err);
    if (n < 1 || n > CASE_UNITS_MAX - 1)
        linli_field(err, "units", "summon from 1 to %d units", CASE_UNITS_MAX - 1);
    cases__check_text("note", note, CASE_NOTE_MAX, false, true, err);
    if (err->nfields)
        return LINLI_EINVAL;
    if (!who)
        return linli_fail(err, LINLI_EUNAUTH, "Log in first.");
    struct whistle_job j = {{d, who, id, at ? at : clock_now_ms(), out, {0}, NULL}, units, n, note};
    return run_act(d, whistle_job, &j.a, err);
}

static const char SQL_REPORTED_IN[] =
    "UPDATE case_units SET reported_at = ?2 WHERE case_id = ?1 AND unit_code = ?3"
    " AND link = 'summoned'";

struct report_in_job {
    struct act a;
    const char *unit;
    const char *note;
};

static int report_in_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct report_in_job *j = arg;
    struct act *a = &j->a;
    int rc = load_for_act(c, a, err);
    if (rc)
        return rc;
    struct case_record *r = a->out;
    const struct case_unit_link *pick = NULL;
    int pending = 0, summoned = 0;
    for (int i = 0; i < r->nunits; i++) {
        const struct case_unit_link *l = &r->units[i];
        if (l->link != LINK_SUMMONED || !cases__acts_for(&a->actor, l->unit))
            continue;
        if (j->unit && strcmp(j->unit, l->unit))
            continue;
        summoned++;
        if (!l->reported_at) {
            pending++;
            pick = l;
        }
    }
    if (!summoned && j->unit)
        return linli_fail(err, LINLI_EFORBIDDEN,
                          "%s was not summoned onto case %s, or you do not act for it.", j->unit,
                          r->number);
    if (!summoned)
        return linli_fail(err, LINLI_EFORBIDDEN, "No unit you act for was summoned onto case %s.",
                          r->number);
    if (!pending)
        return linli_fail(err, LINLI_ECONFLICT, "Your unit has reported in on case %s already.",
                          r->number);
    if (pending > 1)
        return linli_field(err, "unit", "you act for several summoned units: name one");
    bool late = a->at > pick->due_at;
    char unit[CASE_UNIT_CODE_MAX + 1];
    snprintf(unit, sizeof unit, "%s", pick->unit);
    if ((rc = exec3(c, SQL_REPORTED_IN, r->id, a->at, unit, err)))
        return rc;
    json_t *detail = json_pack("{s:s, s:b}", "unit", unit, "late", late);
    rc = cases__event(c, r->id, a->at, CASE_EV_REPORT_IN, r->state, a->who, unit, j->note, false,
                      detail, NULL, err);
    if (!rc)
        rc = touch(c, r->id, a->at, err);
    if (!rc)
        rc = audit_case(c, a->who, "case.report_in", r->id, detail, err);
    json_decref(detail);
    if (rc)
        return rc;
    return finish_act(c, a, "case.report_in", CASE_EV_REPORT_IN,
                      json_pack("{s:s, s:b}", "unit", unit, "late", late), err);
}

int cases_report_in(struct domain *d, const struct principal *who, int64_t id, const char *unit,
                    const char *note, int64_t at, struct case_record *out, struct linli_err *err)
{
    linli_err_clear(err);
    cases__check_text("note", note, CASE_NOTE_MAX, false, true, err);
    if (unit && strlen(unit) > CASE_UNIT_CODE_MAX)
        linli_field(err, "unit", "is not a unit code");
    if (err->nfields)
        return LINLI_EINVAL;
    if (!who)
        return linli_fail(err, LINLI_EUNAUTH, "Log in first.");
    struct report_in_job j = {{d, who, id, at ? at : clock_now_ms(), out, {0}, NULL}, unit, note};
    return run_act(d, report_in_job, &j.a, err);
}

/* ---- rating ---- */

static const char SQL_RATE[] =
    "UPDATE cases SET rating = ?3, rating_comment = ?4, rated_resolution = resolutions,"
    " updated_at = ?2 WHERE id = ?1";

struct rate_job {
    struct act a;
    int rating;
    const char *comment;
};

static int rate_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct rate_job *j = arg;
    struct act *a = &j->a;
    int rc = load_for_act(c, a, err);
    if (rc)
        return rc;
    struct case_record *r = a->out;
    if (!cases__is_reporter(&a->actor, r))
        return linli_fail(err, LINLI_EFORBIDDEN, "Only the reporter of case %s rates it.",
                          r->number);
    if (r->state != CASE_RESOLVED && r->state != CASE_CLOSED)
        return linli_fail(err, LINLI_ECONFLICT, "Case %s is %s: a rating follows a resolution.",
                          r->number, case_state_name(r->state));
    if (r->resolutions == 0)
        return linli_fail(err, LINLI_ECONFLICT, "Case %s was never resolved.", r->number);
    if (r->rated_resolution >= r->resolutions)
        return linli_fail(err, LINLI_ECONFLICT, "Case %s's resolution is rated already.",
                          r->number);
    sqlite3_stmt *st = store_stmt(c, SQL_RATE, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, r->id);
    sqlite3_bind_int64(st, 2, a->at);
    sqlite3_bind_text(st, 3, case_rating_name(j->rating), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, j->comment ? j->comment : "", -1, SQLITE_TRANSIENT);
    if ((rc = sqlite3_step(st)) != SQLITE_DONE)
        return store_fail(c, rc, "rating a case", err);
    json_t *detail = json_pack("{s:s, s:i}", "rating", case_rating_name(j->rating), "resolution",
                               r->resolutions);
    rc = cases__event(c, r->id, a->at, CASE_EV_RATED, r->state, a->who, "", j->comment, true,
                      detail, NULL, err);
    if (!rc)
        rc = audit_case(c, a->who, "case.rate", r->id, detail, err);
    json_decref(detail);
    if (rc)
        return rc;
    return finish_act(c, a, "case.rated", CASE_EV_RATED,
                      json_pack("{s:s}", "rating", case_rating_name(j->rating)), err);
}

int cases_rate(struct domain *d, const struct principal *who, int64_t id, const char *rating,
               const char *comment, int64_t at, struct case_record *out, struct linli_err *err)
{
    linli_err_clear(err);
    int r = -1;
    if (!rating || case_rating_parse(rating, &r))
        linli_field(err, "rating", "must be satisfied, basically_satisfied or unsatisfied");
    cases__check_text("comment", comment, CASE_NOTE_MAX, false, true, err);
    if (err->nfields)
        return LINLI_EINVAL;
    if (!who)
        return linli_fail(err, LINLI_EUNAUTH, "Log in first.");
    struct rate_job j = {{d, who, id, at ? at : clock_now_ms(), out, {0}, NULL}, r, comment};
    return run_act(d, rate_job, &j.a, err);
}
