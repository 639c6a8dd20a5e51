/* cases_read.c - reading and finding cases for a caller: one case (by id or
 * number), its history in the view the caller is allowed, lists with
 * filters, open cases nearby, Open311's updates since a time, and a case's
 * photo. Everything here runs on a read connection. */
#include "domain/cases.h"

#include "base/clock.h"
#include "domain/cases_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- reading ---- */

struct get_job {
    const struct principal *who;
    int64_t id;
    const char *number;
    struct case_record *out;
};

static int get_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct get_job *j = arg;
    struct case_actor a;
    int rc = cases__actor(c, j->who, &a, err);
    if (rc)
        return rc;
    if (j->number) {
        bool found;
        if ((rc = cases__load_by_number(c, j->number, j->out, &found, err)))
            return rc;
        if (!found || !cases__visible(&a, j->out))
            return linli_fail(err, LINLI_ENOTFOUND, "No case numbered %s.", j->number);
    } else if ((rc = cases__load_visible(c, &a, j->id, j->out, err))) {
        return rc;
    }
    cases__redact(&a, j->out);
    return LINLI_OK;
}

int cases_get(struct domain *d, const struct principal *who, int64_t id, struct case_record *out,
              struct linli_err *err)
{
    struct get_job j = {who, id, NULL, out};
    return store_read(d->store, get_job, &j, err);
}

int cases_get_by_number(struct domain *d, const struct principal *who, const char *number,
                        struct case_record *out, struct linli_err *err)
{
    struct get_job j = {who, 0, number, out};
    return store_read(d->store, get_job, &j, err);
}

bool case_visible_to(struct domain *d, const struct principal *who, const struct case_record *c)
{
    struct case_record *r = malloc(sizeof *r);
    if (!r)
        return false;
    struct linli_err err;
    linli_err_clear(&err);
    struct get_job j = {who, c->id, NULL, r};
    bool visible = store_read(d->store, get_job, &j, &err) == LINLI_OK;
    free(r);
    return visible;
}

struct handled_job {
    const struct principal *who;
    int64_t id;
    bool handled;
};

static int handled_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct handled_job *j = arg;
    struct case_actor a;
    struct case_record *r = malloc(sizeof *r);
    if (!r)
        return linli_fail(err, LINLI_ENOMEM, "Out of memory.");
    int rc = cases__actor(c, j->who, &a, err);
    bool found = false;
    if (!rc)
        rc = cases__load(c, j->id, r, &found, err);
    j->handled = !rc && found && cases__handles(&a, r, NULL);
    free(r);
    return rc;
}

bool case_handled_by(struct domain *d, const struct principal *who, const struct case_record *c)
{
    struct linli_err err;
    linli_err_clear(&err);
    struct handled_job j = {who, c->id, false};
    return store_read(d->store, handled_job, &j, &err) == LINLI_OK && j.handled;
}

/* ---- events ---- */

#define EVENT_COLUMNS                                                                              \
    "e.id, e.case_id, e.at, e.kind, e.state, e.actor_user_id,"                                     \
    " COALESCE(NULLIF(u.display_name, ''), u.username, ''), e.actor_unit, e.note, e.public,"       \
    " e.detail"

static const char SQL_EVENTS_OF[] =
    "SELECT " EVENT_COLUMNS " FROM case_events e LEFT JOIN users u ON u.id = e.actor_user_id"
    " WHERE e.case_id = ? ORDER BY e.id LIMIT 1000";

static const char SQL_EVENTS_SINCE[] =
    "SELECT " EVENT_COLUMNS " FROM case_events e LEFT JOIN users u ON u.id = e.actor_user_id"
    " JOIN cases c ON c.id = e.case_id"
    " WHERE e.id > ?1 AND e.at >= ?2 AND (?3 IS NULL OR c.channel = ?3)"
    "   AND (e.kind IN ('submitted', 'accepted', 'dispatched', 'in_progress', 'resolved',"
    "        'closed', 'rejected', 'duplicate', 'reopened') OR (e.kind = 'note' AND e.public = 1))"
    " ORDER BY e.id LIMIT ?4";

static void event_from_row(sqlite3_stmt *st, struct case_event *e)
{
    char state[24];
    memset(e, 0, sizeof *e);
    e->id = sqlite3_column_int64(st, 0);
    e->case_id = sqlite3_column_int64(st, 1);
    e->at = sqlite3_column_int64(st, 2);
    cases__col(e->kind, sizeof e->kind, st, 3);
    cases__col(state, sizeof state, st, 4);
    case_state_parse(state, &e->state);
    e->actor_user_id = cases__col_i64(st, 5);
    cases__col(e->actor_name, sizeof e->actor_name, st, 6);
    cases__col(e->actor_unit, sizeof e->actor_unit, st, 7);
    cases__col(e->note, sizeof e->note, st, 8);
    e->public_note = sqlite3_column_int(st, 9) != 0;
    cases__col(e->detail, sizeof e->detail, st, 10);
}

/* Blanks what a reader without the internal view may not see of an event. */
static void event_reduce(struct case_event *e)
{
    if (!e->public_note)
        e->note[0] = '\0';
    e->actor_user_id = 0;
    e->actor_name[0] = '\0';
}

static int read_events(struct store_conn *c, sqlite3_stmt *st, struct case_event **items, int *n,
                       int max, struct linli_err *err)
{
    *items = NULL;
    *n = 0;
    int cap = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < max) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            struct case_event *more = realloc(*items, (size_t)cap * sizeof **items);
            if (!more) {
                sqlite3_reset(st);
                free(*items);
                *items = NULL;
                *n = 0;
                return linli_fail(err, LINLI_ENOMEM, "Out of memory reading case events.");
            }
            *items = more;
        }
        event_from_row(st, &(*items)[(*n)++]);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        free(*items);
        *items = NULL;
        *n = 0;
        return store_fail(c, rc, "reading case events", err);
    }
    return LINLI_OK;
}

struct events_job {
    const struct principal *who;
    int64_t id;
    struct case_event **items;
    int *n;
};

/* Who reads internal notes and actors: admins, auditors, the system, staff who
 * see the case through their scope, and members of its units. */
static bool internal_reader(const struct case_actor *a, const struct case_record *r)
{
    const struct principal *who = a->who;
    if (!who)
        return false;
    if (who->role == ROLE_ADMIN || who->role == ROLE_AUDITOR || cases__is_system(who))
        return true;
    return cases__in_scope(who, r) || cases__linked(a, r, NULL);
}

static int events_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct events_job *j = arg;
    struct case_actor a;
    struct case_record *r = malloc(sizeof *r);
    if (!r)
        return linli_fail(err, LINLI_ENOMEM, "Out of memory.");
    int rc = cases__actor(c, j->who, &a, err);
    if (!rc)
        rc = cases__load_visible(c, &a, j->id, r, err);
    bool internal = !rc && internal_reader(&a, r);
    free(r);
    if (rc)
        return rc;
    sqlite3_stmt *st = store_stmt(c, SQL_EVENTS_OF, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, j->id);
    if ((rc = read_events(c, st, j->items, j->n, CASE_EVENTS_MAX, err)))
        return rc;
    if (!internal)
        for (int i = 0; i < *j->n; i++)
            event_reduce(&(*j->items)[i]);
    return LINLI_OK;
}

int cases_events(struct domain *d, const struct principal *who, int64_t id,
                 struct case_event **items, int *n, struct linli_err *err)
{
    struct events_job j = {who, id, items, n};
    return store_read(d->store, events_job, &j, err);
}

struct since_job {
    int64_t since, after;
    int limit;
    const int *channel;
    struct case_event **items;
    int *n;
};

static int since_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct since_job *j = arg;
    sqlite3_stmt *st = store_stmt(c, SQL_EVENTS_SINCE, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, j->after);
    sqlite3_bind_int64(st, 2, j->since);
    if (j->channel)
        sqlite3_bind_text(st, 3, case_channel_name(*j->channel), -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, j->limit);
    int rc = read_events(c, st, j->items, j->n, j->limit, err);
    if (rc)
        return rc;
    for (int i = 0; i < *j->n; i++)
        event_reduce(&(*j->items)[i]);
    return LINLI_OK;
}

int cases_updates_since(struct domain *d, int64_t since_ms, int64_t after_event_id, int limit,
                        const int *channel_or_null, struct case_event **items, int *n,
                        struct linli_err *err)
{
    if (limit < 1 || limit > CASE_EVENTS_MAX)
        limit = CASE_EVENTS_MAX;
    struct since_job j = {since_ms, after_event_id, limit, channel_or_null, items, n};
    return store_read(d->store, since_job, &j, err);
}

/* ---- lists ---- */

/* ?1 every case, ?2 the caller's id, ?3/?4 the caller's scope: the visibility
 * rule of cases.h; ?5..?17 the filters of struct case_filter. */
#define LIST_WHERE                                                                                 \
    " (?1 = 1 OR (?2 > 0 AND c.reporter_user_id = ?2)"                                             \
    "  OR (?3 IS NOT NULL AND (c.area_code BETWEEN ?3 AND ?4 OR c.unit_code BETWEEN ?3 AND ?4"     \
    "      OR EXISTS (SELECT 1 FROM case_units cu WHERE cu.case_id = c.id"                         \
    "                 AND cu.unit_code BETWEEN ?3 AND ?4)))"                                       \
    "  OR (?2 > 0 AND EXISTS (SELECT 1 FROM case_units cu JOIN unit_members m"                     \
    "      ON m.unit_code = cu.unit_code WHERE cu.case_id = c.id AND m.user_id = ?2)))"            \
    " AND (?5 IS NULL OR c.state = ?5)"                                                            \
    " AND (?6 = 0 OR c.state NOT IN ('closed', 'rejected', 'duplicate'))"                          \
    " AND (?7 IS NULL OR c.category = ?7)"                                                         \
    " AND (?8 IS NULL OR c.unit_code = ?8 OR EXISTS (SELECT 1 FROM case_units cu"                  \
    "      WHERE cu.case_id = c.id AND cu.unit_code = ?8))"                                        \
    " AND (?9 IS NULL OR c.area_code BETWEEN ?9 AND ?10)"                                          \
    " AND (?11 IS NULL OR c.channel = ?11)"                                                        \
    " AND (?12 IS NULL OR c.client = ?12)"                                                         \
    " AND (?13 = 0 OR c.created_at >= ?13) AND (?14 = 0 OR c.created_at < ?14)"                    \
    " AND (?15 = 0 OR c.updated_at >= ?15)"                                                        \
    " AND (?16 = 0 OR c.reporter_user_id = ?2)"                                                    \
    " AND (?17 IS NULL OR c.id IN (SELECT value FROM json_each(?17)))"

/* The pending deadline (case_pending_due), NULL for a case that waits on
 * none, written exactly as the index cases_pending_due (cases_schema.c)
 * states it: SQLite uses an expression index only for the same expression,
 * and a partial one only when the query implies its WHERE (here "IS NOT
 * NULL", implied by any comparison with the expression). The terms that
 * need the index are plain ANDs, never "?N = 0 OR ...": one statement per
 * combination below, not one with switches. */
#define PENDING_DUE                                                                                \
    " (CASE WHEN c.state = 'submitted' THEN c.response_due_at"                                     \
    "  WHEN c.state IN ('accepted', 'dispatched', 'in_progress')"                                  \
    "  THEN COALESCE(c.resolve_due_at, c.response_due_at) END)"
/* ?20 now. The overdue are few beside the cases: the index range gives them,
 * and "+c.id" keeps SQLite from walking every case by id for the order. */
#define LIST_OVERDUE  " AND" PENDING_DUE " < ?20"
#define OVERDUE_BY_ID " AND (?18 = 0 OR c.id < ?18) ORDER BY +c.id DESC LIMIT ?19"
/* ?18 the id cursor (0 = none), ?19 rows */
#define LIST_BY_ID " AND (?18 = 0 OR c.id < ?18) ORDER BY c.id DESC LIMIT ?19"
/* ?21/?22 the keyed cursor: after (due, id); the first term bounds the index
 * range (and leaves out the cases without a pending deadline), the second
 * skips the ties already sent. */
#define LIST_BY_DUE                                                                                \
    " AND" PENDING_DUE " >= ?21 AND (" PENDING_DUE " > ?21 OR c.id > ?22)"                         \
    " ORDER BY" PENDING_DUE ", c.id LIMIT ?19"
#define LIST_HEAD   "SELECT c.id FROM cases c WHERE"
#define LIST_NUMBER " c.number = ?23 AND" /* the unique index finds the one case */

/* Indexed by (number ? 4 : 0) | (overdue ? 2 : 0) | (by_due ? 1 : 0). */
static const char *const SQL_CASE_LISTS[8] = {
    LIST_HEAD LIST_WHERE LIST_BY_ID,
    LIST_HEAD LIST_WHERE LIST_BY_DUE,
    LIST_HEAD LIST_WHERE LIST_OVERDUE OVERDUE_BY_ID,
    LIST_HEAD LIST_WHERE LIST_OVERDUE LIST_BY_DUE,
    LIST_HEAD LIST_NUMBER LIST_WHERE LIST_BY_ID,
    LIST_HEAD LIST_NUMBER LIST_WHERE LIST_BY_DUE,
    LIST_HEAD LIST_NUMBER LIST_WHERE LIST_OVERDUE LIST_BY_ID,
    LIST_HEAD LIST_NUMBER LIST_WHERE LIST_OVERDUE LIST_BY_DUE,
};

struct list_job {
    const struct principal *who;
    const struct case_filter *f;
    struct case_record *items;
    int n;
    int64_t next;
};

static int list_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct list_job *j = arg;
    const struct case_filter *f = j->f;
    const struct principal *who = j->who;
    struct case_actor a;
    int rc = cases__actor(c, who, &a, err);
    if (rc)
        return rc;
    int which = (f->number ? 4 : 0) | (f->overdue ? 2 : 0) | (f->by_due ? 1 : 0);
    sqlite3_stmt *st = store_stmt(c, SQL_CASE_LISTS[which], err);
    if (!st)
        return err->status;
    bool all =
        !who || who->role == ROLE_ADMIN || who->role == ROLE_AUDITOR || cases__is_system(who);
    sqlite3_bind_int(st, 1, all ? 1 : 0);
    sqlite3_bind_int64(st, 2, who ? who->user_id : 0);
    char lo[AREA_CODE_LEN + 1], hi[AREA_CODE_LEN + 1];
    if (who && cases__staff_role(who->role) && who->scope[0]) {
        cases__area_range(who->scope, lo, hi);
        sqlite3_bind_text(st, 3, lo, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 4, hi, -1, SQLITE_TRANSIENT);
    }
    if (f->state >= 0)
        sqlite3_bind_text(st, 5, case_state_name(f->state), -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 6, f->open_only ? 1 : 0);
    cases__bind_text(st, 7, f->category);
    cases__bind_text(st, 8, f->unit);
    char alo[AREA_CODE_LEN + 1], ahi[AREA_CODE_LEN + 1];
    if (f->area && *f->area) {
        cases__area_range(f->area, alo, ahi);
        sqlite3_bind_text(st, 9, alo, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 10, ahi, -1, SQLITE_TRANSIENT);
    }
    if (f->channel >= 0)
        sqlite3_bind_text(st, 11, case_channel_name(f->channel), -1, SQLITE_STATIC);
    cases__bind_text(st, 12, f->client);
    sqlite3_bind_int64(st, 13, f->from_ms);
    sqlite3_bind_int64(st, 14, f->to_ms);
    sqlite3_bind_int64(st, 15, f->updated_since);
    sqlite3_bind_int(st, 16, f->mine && who ? 1 : 0);
    char *ids = NULL;
    if (f->ids) {
        json_t *arr = json_array();
        for (int i = 0; i < f->nids; i++)
            json_array_append_new(arr, json_integer(f->ids[i]));
        ids = json_dumps(arr, JSON_COMPACT);
        json_decref(arr);
        sqlite3_bind_text(st, 17, ids ? ids : "[]", -1, SQLITE_TRANSIENT);
    }
    /* Each statement has only some of these: binding one it lacks is a
     * harmless SQLITE_RANGE. */
    sqlite3_bind_int64(st, 18, f->before_id);
    sqlite3_bind_int(st, 19, f->limit + 1);
    sqlite3_bind_int64(st, 20, f->now_ms ? f->now_ms : clock_now_ms());
    sqlite3_bind_int64(st, 21, f->after_id ? f->after_due : INT64_MIN);
    sqlite3_bind_int64(st, 22, f->after_id);
    cases__bind_text(st, 23, f->number);
    int64_t *found_ids = malloc((size_t)(f->limit + 1) * sizeof *found_ids);
    if (!found_ids) {
        free(ids);
        sqlite3_reset(st);
        return linli_fail(err, LINLI_ENOMEM, "Out of memory listing cases.");
    }
    int nids = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && nids < f->limit + 1)
        found_ids[nids++] = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    free(ids);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        free(found_ids);
        return store_fail(c, rc, "listing cases", err);
    }
    int take = nids > f->limit ? f->limit : nids;
    j->items = take ? calloc((size_t)take, sizeof *j->items) : NULL;
    if (take && !j->items) {
        free(found_ids);
        return linli_fail(err, LINLI_ENOMEM, "Out of memory listing cases.");
    }
    j->n = 0;
    for (int i = 0; i < take; i++) {
        bool found;
        if ((rc = cases__load(c, found_ids[i], &j->items[j->n], &found, err))) {
            free(found_ids);
            free(j->items);
            j->items = NULL;
            return rc;
        }
        if (found) {
            cases__redact(&a, &j->items[j->n]);
            j->n++;
        }
    }
    j->next = nids > f->limit && take ? found_ids[take - 1] : 0;
    free(found_ids);
    return LINLI_OK;
}

int cases_list(struct domain *d, const struct principal *who, const struct case_filter *f,
               struct case_record **items, int *n, int64_t *next, struct linli_err *err)
{
    linli_err_clear(err);
    struct case_filter fl = *f;
    if (fl.limit < 1 || fl.limit > CASES_PAGE_MAX)
        return linli_field(err, "limit", "must be from 1 to %d", CASES_PAGE_MAX);
    if (fl.nids < 0 || fl.nids > CASES_PAGE_MAX)
        return linli_field(err, "ids", "at most %d ids", CASES_PAGE_MAX);
    if (fl.number && !case_number_valid(fl.number))
        return linli_field(err, "number", "must be a case number: 13 or more digits");
    struct list_job j = {who, &fl, NULL, 0, 0};
    int rc = store_read(d->store, list_job, &j, err);
    if (rc)
        return rc;
    *items = j.items;
    *n = j.n;
    *next = j.next;
    return LINLI_OK;
}

/* ---- nearby ---- */

static const char SQL_NEARBY[] =
    "SELECT id, lat, lon FROM cases WHERE category = ?1"
    " AND state IN ('submitted', 'accepted', 'dispatched', 'in_progress')"
    " AND lat BETWEEN ?2 AND ?3 AND lon BETWEEN ?4 AND ?5 LIMIT 5000";

struct nearby_hit {
    int64_t id;
    double dist;
};

static int hit_cmp(const void *a, const void *b)
{
    const struct nearby_hit *x = a, *y = b;
    if (x->dist != y->dist)
        return x->dist < y->dist ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

struct nearby_job {
    const struct principal *who;
    struct geo_point p;
    const char *category;
    double radius;
    struct case_record *items;
    int n;
};

#define METRES_PER_DEG_LAT 111320.0

static int nearby_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct nearby_job *j = arg;
    struct case_actor a;
    int rc = cases__actor(c, j->who, &a, err);
    if (rc)
        return rc;
    sqlite3_stmt *st = store_stmt(c, SQL_NEARBY, err);
    if (!st)
        return err->status;
    /* a box a little larger than the circle, then the exact distance */
    double dlat = j->radius / METRES_PER_DEG_LAT * 1.01;
    double coslat = cos(j->p.lat * M_PI / 180.0);
    double dlon = j->radius / (METRES_PER_DEG_LAT * (coslat > 0.01 ? coslat : 0.01)) * 1.01;
    sqlite3_bind_text(st, 1, j->category, -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(st, 2, j->p.lat - dlat);
    sqlite3_bind_double(st, 3, j->p.lat + dlat);
    sqlite3_bind_double(st, 4, j->p.lon - dlon);
    sqlite3_bind_double(st, 5, j->p.lon + dlon);
    struct nearby_hit *hits = NULL;
    int n = 0, cap = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct geo_point q = {sqlite3_column_double(st, 1), sqlite3_column_double(st, 2)};
        double dist = geo_distance_m(j->p, q);
        if (dist > j->radius)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            struct nearby_hit *more = realloc(hits, (size_t)cap * sizeof *hits);
            if (!more) {
                free(hits);
                sqlite3_reset(st);
                return linli_fail(err, LINLI_ENOMEM, "Out of memory.");
            }
            hits = more;
        }
        hits[n++] = (struct nearby_hit){sqlite3_column_int64(st, 0), dist};
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        free(hits);
        return store_fail(c, rc, "finding cases nearby", err);
    }
    if (n > 1)
        qsort(hits, (size_t)n, sizeof *hits, hit_cmp);
    if (n > CASE_NEARBY_MAX)
        n = CASE_NEARBY_MAX;
    j->items = n ? calloc((size_t)n, sizeof *j->items) : NULL;
    if (n && !j->items) {
        free(hits);
        return linli_fail(err, LINLI_ENOMEM, "Out of memory.");
    }
    for (int i = 0; i < n; i++) {
        bool found;
        struct case_record *r = &j->items[j->n];
        if ((rc = cases__load(c, hits[i].id, r, &found, err))) {
            free(hits);
            return rc;
        }
        if (!found)
            continue;
        r->distance_m = hits[i].dist;
        if (cases__is_reporter(&a, r))
            cases__redact(&a, r);
        else
            cases__reduce(r, CASE_VIEW_NEARBY);
        j->n++;
    }
    free(hits);
    return LINLI_OK;
}

int cases_nearby(struct domain *d, const struct principal *who, struct geo_point p,
                 const char *category, double radius_m, struct case_record **items, int *n,
                 struct linli_err *err)
{
    linli_err_clear(err);
    if (!who)
        return linli_fail(err, LINLI_EUNAUTH, "Log in to search cases nearby.");
    if (!isfinite(p.lat) || p.lat < -90 || p.lat > 90)
        linli_field(err, "lat", "must be a latitude in degrees, from -90 to 90");
    if (!isfinite(p.lon) || p.lon < -180 || p.lon > 180)
        linli_field(err, "lon", "must be a longitude in degrees, from -180 to 180");
    if (!category || !*category)
        linli_field(err, "category", "is required");
    if (radius_m == 0)
        radius_m = CASE_NEARBY_RADIUS_M;
    if (!isfinite(radius_m) || radius_m < 1 || radius_m > CASE_NEARBY_RADIUS_MAX)
        linli_field(err, "radius", "must be from 1 to %d metres", CASE_NEARBY_RADIUS_MAX);
    if (err->nfields)
        return LINLI_EINVAL;
    struct nearby_job j = {who, p, category, radius_m, NULL, 0};
    int rc = store_read(d->store, nearby_job, &j, err);
    if (rc) {
        free(j.items);
        return rc;
    }
    *items = j.items;
    *n = j.n;
    return LINLI_OK;
}

/* ---- photos ---- */

struct photo_job {
    const struct principal *who;
    int64_t id;
    const char *hash;
    struct case_photo *out;
};

static int photo_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct photo_job *j = arg;
    struct case_actor a;
    struct case_record *r = malloc(sizeof *r);
    if (!r)
        return linli_fail(err, LINLI_ENOMEM, "Out of memory.");
    int rc = cases__actor(c, j->who, &a, err);
    if (!rc)
        rc = cases__load_visible(c, &a, j->id, r, err);
    if (!rc) {
        rc = linli_fail(err, LINLI_ENOTFOUND, "Case %lld has no such photo.", (long long)j->id);
        for (int i = 0; i < r->nphotos; i++) {
            if (!strcmp(r->photos[i].hash, j->hash)) {
                *j->out = r->photos[i];
                linli_err_clear(err);
                rc = LINLI_OK;
            }
        }
    }
    free(r);
    return rc;
}

int cases_photo_get(struct domain *d, const struct principal *who, int64_t id, const char *hash,
                    struct case_photo *out, struct linli_err *err)
{
    struct photo_job j = {who, id, hash, out};
    return store_read(d->store, photo_job, &j, err);
}
