/* cases.c - the case module's core: who acts for which unit and who sees
 * what of a case, reading a case with its units and photos, and writing its
 * events and unit links. Creating is in cases_create.c, reading and finding
 * in cases_read.c, the workflow in cases_workflow.c, the scheduler's job in
 * cases_jobs.c, settings and categories in cases_config.c, units and routing
 * rules in cases_units.c, volunteer teams in cases_volunteers.c. */
#include "domain/cases.h"

#include "domain/cases_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cases__col(char *dst, size_t size, sqlite3_stmt *st, int i)
{
    const unsigned char *v = sqlite3_column_text(st, i);
    snprintf(dst, size, "%s", v ? (const char *)v : "");
}

void cases__bind_text(sqlite3_stmt *st, int i, const char *v)
{
    if (v && *v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

void cases__object(int64_t id, char out[32])
{
    snprintf(out, 32, "case:%lld", (long long)id);
}

json_t *cases__summary(const struct case_record *r, const char *kind)
{
    /* The reporter's account id (an id, nothing personal) lets the event
     * stream show a reporter the changes to their own cases. */
    return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "id", (json_int_t)r->id,
                     "number", r->number, "state", case_state_name(r->state), "category",
                     r->category, "area_code", r->area_code, "unit_code", r->unit_code,
                     "escalated_to", r->escalated_to, "kind", kind, "reporter_user_id",
                     r->reporter_user_id > 0 ? json_integer(r->reporter_user_id) : json_null());
}

void cases__publish_all(struct domain *d, json_t *batch)
{
    size_t i;
    json_t *pair;
    json_array_foreach(batch, i, pair)
    {
        domain_publish(d, json_string_value(json_array_get(pair, 0)),
                       json_incref(json_array_get(pair, 1)));
    }
    json_decref(batch);
}

bool cases__staff_role(enum role r)
{
    return r == ROLE_DISTRICT || r == ROLE_STREET || r == ROLE_COMMUNITY || r == ROLE_OPERATOR;
}

static bool area_role(enum role r)
{
    return r == ROLE_DISTRICT || r == ROLE_STREET || r == ROLE_COMMUNITY;
}

/* The codes within `code` as a range [lo, hi] of 12-digit codes. */
void cases__area_range(const char *code, char lo[AREA_CODE_LEN + 1], char hi[AREA_CODE_LEN + 1])
{
    size_t keep = (size_t[]){6, 9, 12}[area_code_level(code)];
    memcpy(lo, code, keep);
    memcpy(hi, code, keep);
    memset(lo + keep, '0', AREA_CODE_LEN - keep);
    memset(hi + keep, '9', AREA_CODE_LEN - keep);
    lo[AREA_CODE_LEN] = hi[AREA_CODE_LEN] = '\0';
}

static bool is_area_code(const char *s)
{
    if (strlen(s) != AREA_CODE_LEN)
        return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return false;
    return true;
}

/* ---- who acts for what ---- */

static const char SQL_MEMBERSHIPS[] =
    "SELECT unit_code FROM unit_members WHERE user_id = ? ORDER BY unit_code LIMIT 32";

int cases__actor(struct store_conn *c, const struct principal *who, struct case_actor *a,
                 struct linli_err *err)
{
    memset(a, 0, sizeof *a);
    a->who = who;
    if (!who || !who->user_id)
        return LINLI_OK;
    sqlite3_stmt *st = store_stmt(c, SQL_MEMBERSHIPS, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, who->user_id);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && a->nmember < CASE_ACTOR_UNITS)
        cases__col(a->member[a->nmember++], CASE_UNIT_CODE_MAX + 1, st, 0);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_fail(c, rc, "reading unit memberships", err);
    sqlite3_reset(st);
    return LINLI_OK;
}

bool cases__is_system(const struct principal *who)
{
    return who && who->user_id == 0;
}

static bool is_member(const struct case_actor *a, const char *unit)
{
    for (int i = 0; i < a->nmember; i++)
        if (!strcmp(a->member[i], unit))
            return true;
    return false;
}

bool cases__acts_for(const struct case_actor *a, const char *unit)
{
    const struct principal *who = a->who;
    if (!who || !unit[0])
        return false;
    if (who->role == ROLE_ADMIN || cases__is_system(who))
        return true;
    if (is_member(a, unit))
        return true;
    /* A district account in a department acts only through its memberships. */
    if (who->role == ROLE_DISTRICT && a->nmember > 0)
        return false;
    return area_role(who->role) && who->scope[0] && !strcmp(who->scope, unit);
}

bool cases__handles(const struct case_actor *a, const struct case_record *r,
                    char unit[CASE_UNIT_CODE_MAX + 1])
{
    const char *u = NULL;
    if (cases__acts_for(a, r->unit_code))
        u = r->unit_code;
    else if (r->escalated_to[0] && cases__acts_for(a, r->escalated_to))
        u = r->escalated_to;
    if (u && unit)
        snprintf(unit, CASE_UNIT_CODE_MAX + 1, "%s", u);
    return u != NULL;
}

bool cases__linked(const struct case_actor *a, const struct case_record *r,
                   char unit[CASE_UNIT_CODE_MAX + 1])
{
    for (int i = 0; i < r->nunits; i++) {
        if (cases__acts_for(a, r->units[i].unit)) {
            if (unit)
                snprintf(unit, CASE_UNIT_CODE_MAX + 1, "%s", r->units[i].unit);
            return true;
        }
    }
    return false;
}

bool cases__is_reporter(const struct case_actor *a, const struct case_record *r)
{
    return a->who && a->who->user_id && r->reporter_user_id == a->who->user_id;
}

/* Staff whose scope holds the case's area or one of its units. */
bool cases__in_scope(const struct principal *who, const struct case_record *r)
{
    if (!cases__staff_role(who->role) || !who->scope[0])
        return false;
    if (r->area_code[0] && area_within(who->scope, r->area_code))
        return true;
    for (int i = 0; i < r->nunits; i++)
        if (is_area_code(r->units[i].unit) && area_within(who->scope, r->units[i].unit))
            return true;
    return false;
}

bool cases__visible(const struct case_actor *a, const struct case_record *r)
{
    const struct principal *who = a->who;
    if (!who)
        return true; /* the public view */
    if (who->role == ROLE_ADMIN || who->role == ROLE_AUDITOR || cases__is_system(who))
        return true;
    if (cases__is_reporter(a, r))
        return true;
    if (cases__in_scope(who, r))
        return true;
    for (int i = 0; i < r->nunits; i++)
        if (is_member(a, r->units[i].unit))
            return true;
    return false;
}

void cases__reduce(struct case_record *r, int view)
{
    r->view = view;
    if (view == CASE_VIEW_FULL)
        return;
    r->contact_name[0] = r->contact_phone[0] = r->contact_email[0] = '\0';
    r->recorded_by = 0;
    r->client[0] = '\0';
    if (!r->reporter_public || view == CASE_VIEW_NEARBY)
        r->reporter_name[0] = '\0';
    r->reporter_user_id = 0;
    if (view == CASE_VIEW_NEARBY) {
        r->description[0] = '\0';
        r->nphotos = 0;
        r->nunits = 0;
        snprintf(r->attributes, sizeof r->attributes, "{}");
        r->rating = -1;
        r->rating_comment[0] = '\0';
        r->reason[0] = '\0';
    }
}

void cases__redact(const struct case_actor *a, struct case_record *r)
{
    if (!a->who) {
        cases__reduce(r, CASE_VIEW_PUBLIC);
        return;
    }
    r->view = CASE_VIEW_FULL;
    const struct principal *who = a->who;
    bool contact = who->role == ROLE_ADMIN || cases__is_system(who) || cases__is_reporter(a, r) ||
                   cases__linked(a, r, NULL) || cases__handles(a, r, NULL);
    if (!contact)
        r->contact_name[0] = r->contact_phone[0] = r->contact_email[0] = '\0';
}

/* ---- reading a case ---- */

#define CASE_COLUMNS                                                                               \
    "c.id, c.number, c.channel, c.category, c.title, c.description, c.lat, c.lon, c.address,"      \
    " c.area_code, c.area_from_point, c.state, c.priority, c.reporter_user_id,"                    \
    " COALESCE(NULLIF(u.display_name, ''), u.username, c.contact_name), c.reporter_public,"        \
    " c.contact_name, c.contact_phone, c.contact_email, c.client, c.recorded_by, c.unit_code,"     \
    " c.escalated_to, c.escalations, c.deadline_class, c.response_minutes, c.resolve_minutes,"     \
    " c.response_due_at, c.resolve_due_at, c.flags, c.created_at, c.accepted_at, c.resolved_at,"   \
    " c.closed_at, c.updated_at, c.resolutions, c.rated_resolution, c.rating, c.rating_comment,"   \
    " c.duplicate_of, c.reason, c.attributes"

static const char SQL_CASE_GET[] =
    "SELECT " CASE_COLUMNS " FROM cases c LEFT JOIN users u ON u.id = c.reporter_user_id"
    " WHERE c.id = ?";
static const char SQL_CASE_BY_NUMBER[] = "SELECT c.id FROM cases c WHERE c.number = ?";
static const char SQL_CASE_UNITS[] =
    "SELECT unit_code, link, linked_at, due_at, reported_at, late FROM case_units"
    " WHERE case_id = ? ORDER BY link <> 'lead', linked_at, unit_code LIMIT 16";
static const char SQL_CASE_PHOTOS[] =
    "SELECT hash, type, size, width, height, event_id, added_at FROM case_photos"
    " WHERE case_id = ? ORDER BY added_at, hash LIMIT 9";

int64_t cases__col_i64(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, i);
}

static void case_from_row(sqlite3_stmt *st, struct case_record *r)
{
    char text[32];
    memset(r, 0, sizeof *r);
    r->id = sqlite3_column_int64(st, 0);
    cases__col(r->number, sizeof r->number, st, 1);
    cases__col(text, sizeof text, st, 2);
    case_channel_parse(text, &r->channel);
    cases__col(r->category, sizeof r->category, st, 3);
    cases__col(r->title, sizeof r->title, st, 4);
    cases__col(r->description, sizeof r->description, st, 5);
    r->has_point = sqlite3_column_type(st, 6) != SQLITE_NULL;
    r->point.lat = sqlite3_column_double(st, 6);
    r->point.lon = sqlite3_column_double(st, 7);
    cases__col(r->address, sizeof r->address, st, 8);
    cases__col(r->area_code, sizeof r->area_code, st, 9);
    r->area_from_point = sqlite3_column_int(st, 10) != 0;
    cases__col(text, sizeof text, st, 11);
    case_state_parse(text, &r->state);
    r->priority = sqlite3_column_int(st, 12);
    r->reporter_user_id = cases__col_i64(st, 13);
    cases__col(r->reporter_name, sizeof r->reporter_name, st, 14);
    r->reporter_public = sqlite3_column_int(st, 15) != 0;
    cases__col(r->contact_name, sizeof r->contact_name, st, 16);
    cases__col(r->contact_phone, sizeof r->contact_phone, st, 17);
    cases__col(r->contact_email, sizeof r->contact_email, st, 18);
    cases__col(r->client, sizeof r->client, st, 19);
    r->recorded_by = cases__col_i64(st, 20);
    cases__col(r->unit_code, sizeof r->unit_code, st, 21);
    cases__col(r->escalated_to, sizeof r->escalated_to, st, 22);
    r->escalations = sqlite3_column_int(st, 23);
    cases__col(text, sizeof text, st, 24);
    deadline_class_parse(text, &r->deadline_class);
    r->response_minutes = sqlite3_column_int(st, 25);
    r->resolve_minutes = sqlite3_column_int(st, 26);
    r->response_due_at = cases__col_i64(st, 27);
    r->resolve_due_at = cases__col_i64(st, 28);
    r->flags = (unsigned)sqlite3_column_int(st, 29);
    r->created_at = cases__col_i64(st, 30);
    r->accepted_at = cases__col_i64(st, 31);
    r->resolved_at = cases__col_i64(st, 32);
    r->closed_at = cases__col_i64(st, 33);
    r->updated_at = cases__col_i64(st, 34);
    r->resolutions = sqlite3_column_int(st, 35);
    r->rated_resolution = sqlite3_column_int(st, 36);
    r->rating = -1;
    if (sqlite3_column_type(st, 37) != SQLITE_NULL) {
        cases__col(text, sizeof text, st, 37);
        case_rating_parse(text, &r->rating);
    }
    cases__col(r->rating_comment, sizeof r->rating_comment, st, 38);
    r->duplicate_of = cases__col_i64(st, 39);
    cases__col(r->reason, sizeof r->reason, st, 40);
    cases__col(r->attributes, sizeof r->attributes, st, 41);
}

static int link_parse(const char *text)
{
    for (int l = LINK_LEAD; l <= LINK_ESCALATED; l++)
        if (!strcmp(text, case_link_name(l)))
            return l;
    return LINK_CO;
}

int cases__load(struct store_conn *c, int64_t id, struct case_record *out, bool *found,
                struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_CASE_GET, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    *found = rc == SQLITE_ROW;
    if (rc == SQLITE_DONE)
        return LINLI_OK;
    if (rc != SQLITE_ROW)
        return store_fail(c, rc, "reading a case", err);
    case_from_row(st, out);
    sqlite3_reset(st);

    if (!(st = store_stmt(c, SQL_CASE_UNITS, err)))
        return err->status;
    sqlite3_bind_int64(st, 1, id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && out->nunits < CASE_UNITS_MAX) {
        struct case_unit_link *l = &out->units[out->nunits++];
        char link[16];
        cases__col(l->unit, sizeof l->unit, st, 0);
        cases__col(link, sizeof link, st, 1);
        l->link = link_parse(link);
        l->linked_at = cases__col_i64(st, 2);
        l->due_at = cases__col_i64(st, 3);
        l->reported_at = cases__col_i64(st, 4);
        l->late = sqlite3_column_int(st, 5) != 0;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_fail(c, rc, "reading a case's units", err);
    sqlite3_reset(st);

    if (!(st = store_stmt(c, SQL_CASE_PHOTOS, err)))
        return err->status;
    sqlite3_bind_int64(st, 1, id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && out->nphotos < CASE_PHOTOS_MAX) {
        struct case_photo *p = &out->photos[out->nphotos++];
        cases__col(p->hash, sizeof p->hash, st, 0);
        cases__col(p->type, sizeof p->type, st, 1);
        p->size = sqlite3_column_int64(st, 2);
        p->width = sqlite3_column_int(st, 3);
        p->height = sqlite3_column_int(st, 4);
        p->event_id = cases__col_i64(st, 5);
        p->added_at = cases__col_i64(st, 6);
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_fail(c, rc, "reading a case's photos", err);
    sqlite3_reset(st);
    return LINLI_OK;
}

int cases__load_by_number(struct store_conn *c, const char *number, struct case_record *out,
                          bool *found, struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_CASE_BY_NUMBER, err);
    if (!st)
        return err->status;
    sqlite3_bind_text(st, 1, number, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    *found = false;
    if (rc == SQLITE_DONE)
        return LINLI_OK;
    if (rc != SQLITE_ROW)
        return store_fail(c, rc, "finding a case by number", err);
    int64_t id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return cases__load(c, id, out, found, err);
}

int cases__not_found(struct linli_err *err, int64_t id)
{
    return linli_fail(err, LINLI_ENOTFOUND, "No case %lld.", (long long)id);
}

int cases__load_visible(struct store_conn *c, const struct case_actor *a, int64_t id,
                        struct case_record *out, struct linli_err *err)
{
    bool found;
    int rc = cases__load(c, id, out, &found, err);
    if (rc)
        return rc;
    if (!found || !cases__visible(a, out))
        return cases__not_found(err, id);
    return LINLI_OK;
}

/* ---- writing events and links ---- */

static const char SQL_EVENT_INSERT[] =
    "INSERT INTO case_events (case_id, at, kind, state, actor_user_id, actor_unit, note, public,"
    " detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id";

int cases__event(struct store_conn *c, int64_t case_id, int64_t at, const char *kind, int state,
                 const struct principal *who, const char *actor_unit, const char *note,
                 bool public_note, json_t *detail, int64_t *event_id, struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_EVENT_INSERT, err);
    if (!st)
        return err->status;
    char *d = detail ? json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    sqlite3_bind_int64(st, 1, case_id);
    sqlite3_bind_int64(st, 2, at);
    sqlite3_bind_text(st, 3, kind, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, case_state_name(state), -1, SQLITE_STATIC);
    if (who && who->user_id)
        sqlite3_bind_int64(st, 5, who->user_id);
    else
        sqlite3_bind_null(st, 5);
    sqlite3_bind_text(st, 6, actor_unit ? actor_unit : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 7, note ? note : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 8, public_note ? 1 : 0);
    sqlite3_bind_text(st, 9, d ? d : "{}", -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    free(d);
    if (rc != SQLITE_ROW)
        return store_fail(c, rc, "writing a case event", err);
    if (event_id)
        *event_id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return LINLI_OK;
}

static const char SQL_LINK_INSERT[] =
    "INSERT INTO case_units (case_id, unit_code, link, linked_at, due_at) VALUES (?, ?, ?, ?, ?)"
    " ON CONFLICT (case_id, unit_code, link) DO NOTHING";

int cases__link_unit(struct store_conn *c, int64_t case_id, const char *unit, int link, int64_t at,
                     int64_t due_at, struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_LINK_INSERT, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, case_id);
    sqlite3_bind_text(st, 2, unit, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, case_link_name(link), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, at);
    if (due_at)
        sqlite3_bind_int64(st, 5, due_at);
    else
        sqlite3_bind_null(st, 5);
    int rc = sqlite3_step(st);
    return rc == SQLITE_DONE ? LINLI_OK : store_fail(c, rc, "linking a unit to a case", err);
}

/* ---- units and areas (read) ---- */

static const char SQL_DEPARTMENT_EXISTS[] = "SELECT 1 FROM case_departments WHERE code = ?";
static const char SQL_AREA_CURRENT[] =
    "SELECT level FROM areas WHERE code = ? AND retired_edition IS NULL";
static const char SQL_FIRST_DISTRICT[] =
    "SELECT code FROM areas WHERE level = 0 AND retired_edition IS NULL ORDER BY code LIMIT 1";

int cases__unit_exists(struct store_conn *c, const char *code, char out[CASE_UNIT_CODE_MAX + 1],
                       char *why, size_t size, struct linli_err *err)
{
    sqlite3_stmt *st;
    int rc;
    if (case_unit_is_department(code)) {
        if (!(st = store_stmt(c, SQL_DEPARTMENT_EXISTS, err)))
            return err->status;
        sqlite3_bind_text(st, 1, code, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc == SQLITE_ROW) {
            snprintf(out, CASE_UNIT_CODE_MAX + 1, "%s", code);
            return 0;
        }
        if (rc != SQLITE_DONE)
            return store_fail(c, rc, "reading a department", err);
        snprintf(why, size, "no department has the code %s", code);
        return 1;
    }
    char area[AREA_CODE_LEN + 1];
    const char *bad;
    if (area_code_normalize(code, area, &bad)) {
        snprintf(why, size, "must be a department (dept-...) or an area code");
        return 1;
    }
    if (!(st = store_stmt(c, SQL_AREA_CURRENT, err)))
        return err->status;
    sqlite3_bind_text(st, 1, area, -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW) {
        snprintf(out, CASE_UNIT_CODE_MAX + 1, "%s", area);
        return 0;
    }
    if (rc != SQLITE_DONE)
        return store_fail(c, rc, "reading an area", err);
    snprintf(why, size, "no current area has the code %s", area);
    return 1;
}

int cases__district(struct store_conn *c, struct domain *d, const char *area,
                    char out[AREA_CODE_LEN + 1], struct linli_err *err)
{
    out[0] = '\0';
    if (area && is_area_code(area)) {
        snprintf(out, AREA_CODE_LEN + 1, "%.6s000000", area);
        return LINLI_OK;
    }
    if (d && d->boundary_code[0]) {
        snprintf(out, AREA_CODE_LEN + 1, "%s", d->boundary_code);
        return LINLI_OK;
    }
    sqlite3_stmt *st = store_stmt(c, SQL_FIRST_DISTRICT, err);
    if (!st)
        return err->status;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        cases__col(out, AREA_CODE_LEN + 1, st, 0);
    else if (rc != SQLITE_DONE)
        return store_fail(c, rc, "finding the district", err);
    sqlite3_reset(st);
    return LINLI_OK;
}
