/* cases_create.c - raising a case: the checks that need no store, who may
 * use which channel, then in one write job the area (given, or the community
 * with the nearest centre point), the routing rule, the day's number, the
 * response deadline, the row with its units, photos and first event, the
 * audit entry and the idempotency record. */
#include "domain/cases.h"

#include "base/clock.h"
#include "base/idnum.h"
#include "domain/audit.h"
#include "domain/cases_internal.h"
#include "domain/registry.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The current community whose centre point is nearest to `p`: first among
 * those within about 11 km, then among all. *found = false when no community
 * has a point. */
static const char SQL_COMMUNITIES_NEAR[] =
    "SELECT code, lat, lon FROM areas WHERE level = 2 AND retired_edition IS NULL"
    " AND lat IS NOT NULL AND lon IS NOT NULL"
    " AND (?1 IS NULL OR (lat BETWEEN ?1 AND ?2 AND lon BETWEEN ?3 AND ?4))";

#define NEAREST_BOX_DEG 0.1

static int nearest_community(struct store_conn *c, struct geo_point p, char out[AREA_CODE_LEN + 1],
                             bool *found, struct linli_err *err)
{
    *found = false;
    for (int pass = 0; pass < 2 && !*found; pass++) {
        sqlite3_stmt *st = store_stmt(c, SQL_COMMUNITIES_NEAR, err);
        if (!st)
            return err->status;
        if (pass == 0) {
            sqlite3_bind_double(st, 1, p.lat - NEAREST_BOX_DEG);
            sqlite3_bind_double(st, 2, p.lat + NEAREST_BOX_DEG);
            sqlite3_bind_double(st, 3, p.lon - NEAREST_BOX_DEG);
            sqlite3_bind_double(st, 4, p.lon + NEAREST_BOX_DEG);
        }
        double best = INFINITY;
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            struct geo_point q = {sqlite3_column_double(st, 1), sqlite3_column_double(st, 2)};
            double dist = geo_distance_m(p, q);
            if (dist < best) {
                best = dist;
                cases__col(out, AREA_CODE_LEN + 1, st, 0);
                *found = true;
            }
        }
        if (rc != SQLITE_DONE)
            return store_fail(c, rc, "finding the nearest community", err);
        sqlite3_reset(st);
    }
    return LINLI_OK;
}

/* ---- categories and routes (read, inside the create job) ---- */

static const char SQL_CATEGORY_FOR_CASE[] =
    "SELECT name_zh, deadline_class, response_minutes, resolve_minutes, active, attributes"
    " FROM case_categories WHERE code = ?";

static const char SQL_ROUTES_FOR[] =
    "SELECT id, COALESCE(category, ''), COALESCE(area, ''), unit, co_units FROM case_routes"
    " WHERE retired_at IS NULL AND (category IS NULL OR category = ?) LIMIT 1000";

struct category_row {
    char name_zh[CASE_TEXT_SIZE(CASE_CATEGORY_NAME_MAX)];
    int deadline_class, response_minutes, resolve_minutes;
    bool active;
    char attributes[CASE_ATTRIBUTES_MAX + 1];
};

static int read_category(struct store_conn *c, const char *code, struct category_row *out,
                         bool *found, struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_CATEGORY_FOR_CASE, err);
    if (!st)
        return err->status;
    sqlite3_bind_text(st, 1, code, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    *found = rc == SQLITE_ROW;
    if (rc == SQLITE_ROW) {
        char cls[16];
        cases__col(out->name_zh, sizeof out->name_zh, st, 0);
        cases__col(cls, sizeof cls, st, 1);
        out->deadline_class = DEADLINE_GENERAL;
        deadline_class_parse(cls, &out->deadline_class);
        out->response_minutes = sqlite3_column_int(st, 2);
        out->resolve_minutes = sqlite3_column_int(st, 3);
        out->active = sqlite3_column_int(st, 4) != 0;
        cases__col(out->attributes, sizeof out->attributes, st, 5);
    } else if (rc != SQLITE_DONE) {
        return store_fail(c, rc, "reading a category", err);
    }
    sqlite3_reset(st);
    return LINLI_OK;
}

/* Fills a route's co-handlers from its JSON array text. */
static void route_co_units(struct case_route *r, const char *json)
{
    json_t *arr = json_loads(json ? json : "[]", 0, NULL);
    size_t i;
    json_t *v;
    r->nco = 0;
    json_array_foreach(arr, i, v)
    {
        if (json_is_string(v) && r->nco < CASE_UNITS_MAX - 1)
            snprintf(r->co_units[r->nco++], CASE_UNIT_CODE_MAX + 1, "%s", json_string_value(v));
    }
    json_decref(arr);
}

static int route_case(struct store_conn *c, const char *category, const char *area,
                      const char *district, char lead[CASE_UNIT_CODE_MAX + 1],
                      char co[CASE_UNITS_MAX - 1][CASE_UNIT_CODE_MAX + 1], int *nco,
                      struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_ROUTES_FOR, err);
    if (!st)
        return err->status;
    sqlite3_bind_text(st, 1, category, -1, SQLITE_TRANSIENT);
    struct case_route *rules = NULL;
    int n = 0, cap = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            struct case_route *more = realloc(rules, (size_t)cap * sizeof *rules);
            if (!more) {
                free(rules);
                sqlite3_reset(st);
                return linli_fail(err, LINLI_ENOMEM, "Out of memory routing a case.");
            }
            rules = more;
        }
        struct case_route *r = &rules[n++];
        memset(r, 0, sizeof *r);
        r->id = sqlite3_column_int64(st, 0);
        cases__col(r->category, sizeof r->category, st, 1);
        cases__col(r->area, sizeof r->area, st, 2);
        cases__col(r->unit, sizeof r->unit, st, 3);
        route_co_units(r, (const char *)sqlite3_column_text(st, 4));
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        free(rules);
        return store_fail(c, rc, "reading the routing rules", err);
    }
    case_route_apply(case_route_pick(rules, n, category, area), area, district, lead, co, nco);
    free(rules);
    return LINLI_OK;
}

/* ---- creating ---- */

static const char SQL_NUMBER_NEXT[] =
    "INSERT INTO case_number_seq (day, last) VALUES (?, 1)"
    " ON CONFLICT (day) DO UPDATE SET last = case_number_seq.last + 1 RETURNING last";

static const char SQL_CASE_INSERT[] =
    "INSERT INTO cases (number, channel, category, title, description, lat, lon, address,"
    " area_code, area_from_point, state, priority, reporter_user_id, reporter_public,"
    " contact_name, contact_phone, contact_email, client, recorded_by, unit_code,"
    " deadline_class, response_minutes, resolve_minutes, response_due_at, created_at,"
    " updated_at, attributes)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'submitted', ?11, ?12, ?13, ?14, ?15,"
    " ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?24, ?25) RETURNING id";

static const char SQL_PHOTO_INSERT[] =
    "INSERT INTO case_photos (case_id, hash, type, size, width, height, event_id, added_by,"
    " added_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (case_id, hash) DO NOTHING";

static const char SQL_USER_EXISTS[] = "SELECT role FROM users WHERE id = ? AND disabled = 0";

int cases__insert_photo(struct store_conn *c, int64_t case_id, const struct case_photo *p,
                        int64_t event_id, const struct principal *who, int64_t at,
                        struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_PHOTO_INSERT, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, case_id);
    sqlite3_bind_text(st, 2, p->hash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, p->type, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 4, p->size);
    sqlite3_bind_int(st, 5, p->width);
    sqlite3_bind_int(st, 6, p->height);
    if (event_id)
        sqlite3_bind_int64(st, 7, event_id);
    else
        sqlite3_bind_null(st, 7);
    if (who && who->user_id)
        sqlite3_bind_int64(st, 8, who->user_id);
    else
        sqlite3_bind_null(st, 8);
    sqlite3_bind_int64(st, 9, at);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        return store_fail(c, rc, "adding a photo to a case", err);
    return sqlite3_changes(store_db(c)) ? 0 : 1;
}

/* The checked input of a create, ready for the job. */
struct case_new {
    int channel, priority; /* priority -1 = the category's default */
    const char *category, *title, *description, *address, *client;
    bool has_point;
    struct geo_point point;
    char area[AREA_CODE_LEN + 1]; /* normalised, "" = find from the point */
    bool reporter_public;
    int64_t reporter_user_id;
    const char *contact_name, *contact_email;
    char contact_phone[CASE_PHONE_SIZE];
    json_t *attributes;
    int nphotos;
    const struct case_photo *photos;
    int64_t at;
};

struct create_job {
    struct domain *d;
    const struct principal *who;
    const struct case_new *in;
    const struct idem_req *idem;
    struct case_record *out;
    bool replayed;
};

static int create_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct create_job *j = arg;
    const struct case_new *in = j->in;
    bool found;
    int rc;
    int64_t id = 0;
    if (j->idem) {
        if ((rc = idem_find(c, j->idem, &id, err)) < 0)
            return rc;
        if (rc) {
            j->replayed = true;
            if ((rc = cases__load(c, id, j->out, &found, err)))
                return rc;
            return found ? LINLI_OK : cases__not_found(err, id);
        }
    }
    /* the category, its limits and attributes */
    struct category_row cat;
    if ((rc = read_category(c, in->category, &cat, &found, err)))
        return rc;
    if (!found || !cat.active)
        return linli_field(err, "category",
                           "%s is not an active category (see GET "
                           "/api/v1/case-categories)",
                           in->category);
    struct linli_err fe;
    linli_err_clear(&fe);
    cases__check_attributes(in->attributes, cat.attributes, &fe);
    if (fe.nfields) {
        for (int i = 0; i < fe.nfields; i++)
            linli_field(err, fe.fields[i].field, "%s", fe.fields[i].message);
        return LINLI_EINVAL;
    }
    /* the area: given, or from the point */
    char area[AREA_CODE_LEN + 1];
    bool from_point = false;
    snprintf(area, sizeof area, "%s", in->area);
    if (area[0]) {
        char why[96], unit[CASE_UNIT_CODE_MAX + 1];
        if ((rc = cases__unit_exists(c, area, unit, why, sizeof why, err)) < 0)
            return rc;
        if (rc)
            return linli_field(err, "area_code", "%s", why);
    } else if (in->has_point) {
        if ((rc = nearest_community(c, in->point, area, &found, err)))
            return rc;
        from_point = found;
    }
    if (in->reporter_user_id) {
        sqlite3_stmt *st = store_stmt(c, SQL_USER_EXISTS, err);
        if (!st)
            return err->status;
        sqlite3_bind_int64(st, 1, in->reporter_user_id);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc == SQLITE_DONE)
            return linli_field(err, "reporter_user_id", "no active account has this id");
        if (rc != SQLITE_ROW)
            return store_fail(c, rc, "reading an account", err);
    }
    /* routing */
    char district[AREA_CODE_LEN + 1], lead[CASE_UNIT_CODE_MAX + 1];
    char co[CASE_UNITS_MAX - 1][CASE_UNIT_CODE_MAX + 1];
    int nco = 0;
    if ((rc = cases__district(c, j->d, area, district, err)) ||
        (rc = route_case(c, in->category, area, district, lead, co, &nco, err)))
        return rc;
    if (!lead[0])
        return linli_field(err, "point",
                           "the case's area cannot be found: give area_code or a point near a "
                           "community (no district is loaded)");
    /* the number */
    sqlite3_stmt *st = store_stmt(c, SQL_NUMBER_NEXT, err);
    if (!st)
        return err->status;
    sqlite3_bind_int(st, 1, case_local_day(in->at));
    if ((rc = sqlite3_step(st)) != SQLITE_ROW)
        return store_fail(c, rc, "numbering a case", err);
    int64_t seq = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    char number[CASE_NUMBER_SIZE];
    case_number_format(in->at, seq, number);
    /* the row */
    int priority = in->priority >= 0                          ? in->priority
                   : cat.deadline_class == DEADLINE_EMERGENCY ? PRIORITY_URGENT
                                                              : PRIORITY_NORMAL;
    char *attrs = in->attributes ? json_dumps(in->attributes, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    if (!(st = store_stmt(c, SQL_CASE_INSERT, err))) {
        free(attrs);
        return err->status;
    }
    sqlite3_bind_text(st, 1, number, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, case_channel_name(in->channel), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, in->category, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, in->title && *in->title ? in->title : cat.name_zh, -1,
                      SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, in->description ? in->description : "", -1, SQLITE_TRANSIENT);
    if (in->has_point) {
        sqlite3_bind_double(st, 6, in->point.lat);
        sqlite3_bind_double(st, 7, in->point.lon);
    }
    sqlite3_bind_text(st, 8, in->address ? in->address : "", -1, SQLITE_TRANSIENT);
    cases__bind_text(st, 9, area);
    sqlite3_bind_int(st, 10, from_point ? 1 : 0);
    sqlite3_bind_int(st, 11, priority);
    if (in->reporter_user_id)
        sqlite3_bind_int64(st, 12, in->reporter_user_id);
    sqlite3_bind_int(st, 13, in->reporter_public ? 1 : 0);
    sqlite3_bind_text(st, 14, in->contact_name ? in->contact_name : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 15, in->contact_phone, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 16, in->contact_email ? in->contact_email : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 17, in->client ? in->client : "", -1, SQLITE_TRANSIENT);
    if (j->who->user_id)
        sqlite3_bind_int64(st, 18, j->who->user_id);
    sqlite3_bind_text(st, 19, lead, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 20, deadline_class_name(cat.deadline_class), -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 21, cat.response_minutes);
    sqlite3_bind_int(st, 22, cat.resolve_minutes);
    sqlite3_bind_int64(st, 23, in->at + cat.response_minutes * CASE_MINUTE_MS);
    sqlite3_bind_int64(st, 24, in->at);
    sqlite3_bind_text(st, 25, attrs ? attrs : "{}", -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(st);
    free(attrs);
    if (rc != SQLITE_ROW)
        return store_fail(c, rc, "adding a case", err);
    id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    /* its units, event, photos, audit */
    if ((rc = cases__link_unit(c, id, lead, LINK_LEAD, in->at, 0, err)))
        return rc;
    json_t *co_json = json_array();
    for (int i = 0; i < nco; i++) {
        json_array_append_new(co_json, json_string(co[i]));
        if ((rc = cases__link_unit(c, id, co[i], LINK_CO, in->at, 0, err))) {
            json_decref(co_json);
            return rc;
        }
    }
    json_t *detail = json_pack("{s:s, s:s, s:o, s:b}", "channel", case_channel_name(in->channel),
                               "unit", lead, "co_units", co_json, "area_from_point", from_point);
    int64_t event_id = 0;
    rc = cases__event(c, id, in->at, CASE_EV_SUBMITTED, CASE_SUBMITTED, j->who, "", NULL, true,
                      detail, &event_id, err);
    if (rc) {
        json_decref(detail);
        return rc;
    }
    for (int i = 0; i < in->nphotos; i++) {
        if ((rc = cases__insert_photo(c, id, &in->photos[i], event_id, j->who, in->at, err)) < 0) {
            json_decref(detail);
            return rc;
        }
    }
    char object[32];
    cases__object(id, object);
    json_object_set_new(detail, "number", json_string(number));
    json_object_set_new(detail, "category", json_string(in->category));
    rc = audit_append(c, j->who, "case.create", object, detail, err);
    json_decref(detail);
    if (rc)
        return rc;
    if (j->idem && (rc = idem_record(c, j->idem, id, err)))
        return rc;
    if ((rc = cases__load(c, id, j->out, &found, err)))
        return rc;
    return found ? LINLI_OK : cases__not_found(err, id);
}

/* Who may create through which channel (cases.h). */
static int may_create(const struct principal *who, int channel, struct linli_err *err)
{
    if (cases__is_system(who))
        return LINLI_OK;
    if (channel == CHANNEL_OPEN311)
        return linli_fail(err, LINLI_EFORBIDDEN,
                          "Open311 requests come through /open311/v2 with an API key.");
    if (channel == CHANNEL_SNAP) {
        if (who->role == ROLE_PROVIDER || who->role == ROLE_AUDITOR)
            return linli_fail(err, LINLI_EFORBIDDEN, "A %s account may not report cases.",
                              role_name(who->role));
        return LINLI_OK;
    }
    if (who->role == ROLE_ADMIN || cases__staff_role(who->role))
        return LINLI_OK;
    return linli_fail(err, LINLI_EFORBIDDEN,
                      "Only staff record cases from the %s channel; report with channel "
                      "\"snap\".",
                      case_channel_name(channel));
}

static bool email_ok(const char *s)
{
    const char *at = strchr(s, '@');
    if (!at || at == s || !strchr(at, '.') || strlen(s) > CASE_CONTACT_EMAIL_MAX)
        return false;
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7F)
            return false;
    return true;
}

/* Checks everything that needs no store; fills `n`. */
static int check_new(struct domain *d, const struct principal *who, const struct case_in *in,
                     struct case_new *n, struct linli_err *err)
{
    struct linli_err e;
    linli_err_clear(&e);
    memset(n, 0, sizeof *n);
    n->channel = CHANNEL_SNAP;
    if (in->channel && case_channel_parse(in->channel, &n->channel))
        linli_field(&e, "channel",
                    "must be snap, hotline, walk_in, enterprise, deliberation or open311");
    n->priority = -1;
    if (in->priority && case_priority_parse(in->priority, &n->priority))
        linli_field(&e, "priority", "must be low, normal, high or urgent");
    if (!in->category || !*in->category)
        linli_field(&e, "category", "is required");
    n->category = in->category;
    cases__check_text("title", in->title, CASE_TITLE_MAX, false, false, &e);
    cases__check_text("description", in->description, CASE_DESCRIPTION_MAX, false, true, &e);
    cases__check_text("address", in->address, CASE_ADDRESS_MAX, false, false, &e);
    n->title = in->title;
    n->description = in->description;
    n->address = in->address;
    if (in->has_point) {
        struct geo_point p = in->point;
        if (!isfinite(p.lat) || p.lat < -90 || p.lat > 90)
            linli_field(&e, "point.lat", "must be a latitude in degrees, from -90 to 90");
        else if (!isfinite(p.lon) || p.lon < -180 || p.lon > 180)
            linli_field(&e, "point.lon", "must be a longitude in degrees, from -180 to 180");
        else if (d->boundary && !boundary_contains(d->boundary, p))
            linli_field(&e, "point", "must lie inside the district (WGS-84 degrees)");
        else if (!d->boundary && !geo_in_china(p))
            linli_field(&e, "point",
                        "must lie in China (WGS-84 degrees; are latitude and longitude "
                        "swapped?)");
        n->has_point = true;
        n->point = p;
    }
    if (in->area_code && *in->area_code) {
        const char *why;
        if (area_code_normalize(in->area_code, n->area, &why))
            linli_field(&e, "area_code", "%s", why);
    }
    if (!in->has_point && !(in->area_code && *in->area_code) && !(in->address && *in->address))
        linli_field(&e, "point", "a location is required: a point, an address or an area_code");
    n->reporter_public = in->reporter_public;
    cases__check_text("contact_name", in->contact_name, CASE_CONTACT_NAME_MAX, false, false, &e);
    n->contact_name = in->contact_name;
    if (in->contact_phone && *in->contact_phone) {
        const char *why;
        if (phone_check(in->contact_phone, n->contact_phone, sizeof n->contact_phone, &why))
            linli_field(&e, "contact_phone", "%s", why);
    }
    if (in->contact_email && *in->contact_email && !email_ok(in->contact_email))
        linli_field(&e, "contact_email", "must be an e-mail address");
    n->contact_email = in->contact_email;
    if (in->client && strlen(in->client) > CASE_CLIENT_MAX)
        linli_field(&e, "client", "must be at most %d bytes", CASE_CLIENT_MAX);
    n->client = in->client;
    if (in->attributes && !json_is_object(in->attributes)) {
        linli_field(&e, "attributes", "must be an object");
    } else if (in->attributes) {
        char *text = json_dumps(in->attributes, JSON_COMPACT);
        if (text && strlen(text) > CASE_ATTRIBUTES_MAX)
            linli_field(&e, "attributes", "must be at most %d bytes as JSON", CASE_ATTRIBUTES_MAX);
        free(text);
    }
    n->attributes = in->attributes;
    if (in->nphotos < 0 || in->nphotos > CASE_PHOTOS_MAX)
        linli_field(&e, "photos", "at most %d photos", CASE_PHOTOS_MAX);
    for (int i = 0; i < in->nphotos && i < CASE_PHOTOS_MAX; i++) {
        char f[24];
        snprintf(f, sizeof f, "photos[%d]", i);
        cases__check_photo(f, &in->photos[i], &e);
        for (int k = 0; k < i; k++)
            if (!strcmp(in->photos[k].hash, in->photos[i].hash))
                linli_field(&e, f, "is the same photo as photos[%d]", k);
    }
    n->nphotos = in->nphotos;
    n->photos = in->photos;
    n->at = in->at ? in->at : clock_now_ms();
    if (e.nfields) {
        for (int i = 0; i < e.nfields; i++)
            linli_field(err, e.fields[i].field, "%s", e.fields[i].message);
        return LINLI_EINVAL;
    }
    /* the reporter */
    if (n->channel == CHANNEL_SNAP && !cases__is_system(who)) {
        if (in->reporter_user_id && in->reporter_user_id != who->user_id)
            return linli_field(err, "reporter_user_id",
                               "a snap report is reported by the caller itself");
        n->reporter_user_id = who->user_id;
    } else {
        n->reporter_user_id = in->reporter_user_id;
    }
    return LINLI_OK;
}

int cases_create(struct domain *d, const struct principal *who, const struct case_in *in,
                 const struct idem_req *idem, struct case_record *out, bool *replayed,
                 struct linli_err *err)
{
    linli_err_clear(err);
    struct case_new n;
    int rc = check_new(d, who, in, &n, err);
    if (rc)
        return rc;
    if ((rc = may_create(who, n.channel, err)))
        return rc;
    struct create_job j = {d, who, &n, idem, out, false};
    if ((rc = store_write(d->store, create_job, &j, err)))
        return rc;
    if (replayed)
        *replayed = j.replayed;
    out->view = CASE_VIEW_FULL;
    if (!j.replayed)
        domain_publish(d, "case.created", cases__summary(out, CASE_EV_SUBMITTED));
    return LINLI_OK;
}
