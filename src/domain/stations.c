/* stations.c - the social-work service network: stations, their checks,
 * storage, create, change, read and list. The CSV import is in
 * stations_import.c. Also defines the stations__ helpers shared with
 * support_teams.c and stations_import.c (see stations_internal.h).
 *
 * The areas table belongs to registry.c; this module only reads it, to check
 * that the area a station or a team serves exists, is current and has the
 * right level, inside the same job as the write that depends on it. */
#include "domain/stations.h"

#include "base/clock.h"
#include "base/idnum.h"
#include "domain/audit.h"
#include "domain/stations_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const level_names[STATION_LEVELS] = {"district_centre", "street_centre",
                                                        "community_station"};
static const char *const area_level_names[3] = {"district", "street", "community"};
static const char *const area_code_hint[3] = {"a 6-digit district code", "a 9-digit street code",
                                              "a 12-digit community code"};

const char *station_level_name(int level)
{
    return level >= 0 && level < STATION_LEVELS ? level_names[level] : "?";
}

int station_level_parse(const char *text, int *level)
{
    for (int i = 0; text && i < STATION_LEVELS; i++) {
        if (!strcmp(text, level_names[i])) {
            *level = i;
            return 0;
        }
    }
    return -1;
}

bool stations_staff_role(enum role r)
{
    return r == ROLE_ADMIN || r == ROLE_DISTRICT || r == ROLE_STREET || r == ROLE_COMMUNITY ||
           r == ROLE_OPERATOR || r == ROLE_AUDITOR;
}

/* Admins, and district or street staff, change stations and teams. */
bool stations__writer_role(const struct principal *who)
{
    return who->role == ROLE_ADMIN || who->role == ROLE_DISTRICT || who->role == ROLE_STREET;
}

bool stations__may_write_area(const struct principal *who, const char *code)
{
    if (who->role == ROLE_ADMIN)
        return true;
    return stations__writer_role(who) && area_within(who->scope, code);
}

/* ---- text ---- */

enum { TEXT_OK = 0, TEXT_BAD = -1, TEXT_LONG = -2 };

/* Checks that `s` is UTF-8 without control characters (line breaks
 * included: one CSV cell, one line of a printed list) and at most `max`
 * characters long. */
static int text_check(const char *s, size_t max, const char **why)
{
    size_t chars = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        size_t len;
        uint32_t cp;
        if (c < 0x80) {
            len = 1;
            cp = c;
        } else if ((c & 0xE0) == 0xC0) {
            len = 2;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4;
            cp = c & 0x07;
        } else {
            *why = "is not UTF-8 text";
            return TEXT_BAD;
        }
        for (size_t i = 1; i < len; i++) {
            if ((p[i] & 0xC0) != 0x80) { /* also stops at the NUL of a cut sequence */
                *why = "is not UTF-8 text";
                return TEXT_BAD;
            }
            cp = (cp << 6) | (p[i] & 0x3Fu);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
            (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF)) {
            *why = "is not UTF-8 text";
            return TEXT_BAD;
        }
        if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0)) {
            *why = "must not contain control characters such as line breaks";
            return TEXT_BAD;
        }
        p += len;
        chars++;
    }
    return chars > max ? TEXT_LONG : TEXT_OK;
}

static bool blank(const char *s)
{
    for (; s && *s; s++)
        if (*s != ' ' && *s != '\t')
            return false;
    return true;
}

void stations__check_text(const char *field, const char *s, size_t max, bool required,
                          struct linli_err *err)
{
    if (!s || !*s) {
        if (required)
            linli_field(err, field, "is required");
        return;
    }
    const char *why;
    int rc = text_check(s, max, &why);
    if (rc == TEXT_BAD)
        linli_field(err, field, "%s", why);
    else if (rc == TEXT_LONG)
        linli_field(err, field, "must be at most %zu characters", max);
    else if (required && blank(s))
        linli_field(err, field, "must not be blank");
}

/* Copies the field problems of `from` to `to`; returns EINVAL when there were any. */
int stations__merge_fields(struct linli_err *to, const struct linli_err *from)
{
    if (!from->nfields)
        return LINLI_OK;
    for (int i = 0; i < from->nfields; i++)
        linli_field(to, from->fields[i].field, "%s", from->fields[i].message);
    return LINLI_EINVAL;
}

void stations__copy_col(char *dst, size_t size, sqlite3_stmt *st, int i)
{
    const unsigned char *v = sqlite3_column_text(st, i);
    snprintf(dst, size, "%s", v ? (const char *)v : "");
}

void stations__bind_text_or_null(sqlite3_stmt *st, int i, const char *v)
{
    if (v && *v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

/* The codes within `code`: [lo, hi] over 12-digit codes. */
static void area_range(const char *code, char lo[AREA_CODE_LEN + 1], char hi[AREA_CODE_LEN + 1])
{
    size_t keep = (size_t[]){6, 9, 12}[area_code_level(code)];
    memcpy(lo, code, keep);
    memcpy(hi, code, keep);
    memset(lo + keep, '0', AREA_CODE_LEN - keep);
    memset(hi + keep, '9', AREA_CODE_LEN - keep);
    lo[AREA_CODE_LEN] = hi[AREA_CODE_LEN] = '\0';
}

/* ---- areas (read only) ---- */

static const char SQL_AREA_STATE[] = "SELECT level, retired_edition FROM areas WHERE code = ?";

/* 0 when `code` is a current area of `level`; 1 with `why` when it is not;
 * a negative status when the store failed. */
int stations__area_fits(struct store_conn *c, const char *code, int level, char *why, size_t size,
                        struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_AREA_STATE, err);
    if (!st)
        return err->status;
    sqlite3_bind_text(st, 1, code, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        snprintf(why, size, "no area has the code %s", code);
        return 1;
    }
    if (rc != SQLITE_ROW)
        return store_fail(c, rc, "reading an area", err);
    int alevel = sqlite3_column_int(st, 0);
    int retired = sqlite3_column_type(st, 1) == SQLITE_NULL ? 0 : sqlite3_column_int(st, 1);
    sqlite3_reset(st);
    if (retired) {
        snprintf(why, size, "area %s was retired in %d", code, retired);
        return 1;
    }
    if (alevel != level) {
        snprintf(why, size, "area %s is not a %s", code,
                 area_level_names[level >= 0 && level < 3 ? level : 2]);
        return 1;
    }
    return 0;
}

/* ---- stations: validation ---- */

int stations_check(const struct station_fields *in, struct station *out, struct linli_err *err)
{
    struct linli_err e;
    linli_err_clear(&e);
    memset(out, 0, sizeof *out);
    stations__check_text("name", in->name, STATION_NAME_MAX, true, &e);
    out->level = -1;
    if (!in->level || !*in->level)
        linli_field(&e, "level", "is required");
    else if (station_level_parse(in->level, &out->level))
        linli_field(&e, "level", "must be district_centre, street_centre or community_station");
    if (!in->area_code || !*in->area_code) {
        linli_field(&e, "area_code", "is required");
    } else {
        const char *why;
        if (area_code_normalize(in->area_code, out->area_code, &why)) {
            linli_field(&e, "area_code", "%s", why);
            out->area_code[0] = '\0';
        } else if (out->level >= 0 && area_code_level(out->area_code) != out->level) {
            linli_field(&e, "area_code", "a %s serves a %s: give %s", level_names[out->level],
                        area_level_names[out->level], area_code_hint[out->level]);
        }
    }
    stations__check_text("address", in->address, STATION_ADDRESS_MAX, false, &e);
    if (in->has_point) {
        double lat = in->point.lat, lon = in->point.lon;
        bool ok = true;
        if (!isfinite(lat) || lat < -90 || lat > 90) {
            linli_field(&e, "point.lat", "must be a latitude in degrees, from -90 to 90");
            ok = false;
        }
        if (!isfinite(lon) || lon < -180 || lon > 180) {
            linli_field(&e, "point.lon", "must be a longitude in degrees, from -180 to 180");
            ok = false;
        }
        if (ok && !geo_in_china(in->point)) {
            linli_field(&e, "point",
                        "must lie in China (WGS-84 degrees; are latitude and "
                        "longitude swapped?)");
            ok = false;
        }
        out->has_point = ok;
        out->point = in->point;
    }
    if (in->has_staff) {
        if (in->staff < 0 || in->staff > STATION_STAFF_MAX)
            linli_field(&e, "staff", "must be a whole number from 0 to %d", STATION_STAFF_MAX);
        else
            out->staff = in->staff;
    }
    if (in->phone && *in->phone) {
        const char *why;
        if (phone_check(in->phone, out->phone, sizeof out->phone, &why)) {
            linli_field(&e, "phone", "%s", why);
            out->phone[0] = '\0';
        }
    }
    stations__check_text("opening_hours", in->opening_hours, STATION_HOURS_MAX, false, &e);
    if (e.nfields)
        return stations__merge_fields(err, &e);
    snprintf(out->name, sizeof out->name, "%s", in->name);
    snprintf(out->address, sizeof out->address, "%s", in->address ? in->address : "");
    snprintf(out->opening_hours, sizeof out->opening_hours, "%s",
             in->opening_hours ? in->opening_hours : "");
    return LINLI_OK;
}

/* ---- stations: storage ---- */

#define STATION_COLUMNS                                                                            \
    "s.id, s.name, s.level, s.area_code, a.name, a.retired_edition IS NULL, s.address,"            \
    " s.lat, s.lon, s.staff, s.phone, s.opening_hours, s.created_at, s.updated_at"

static const char SQL_STATION_GET[] =
    "SELECT " STATION_COLUMNS " FROM stations s JOIN areas a ON a.code = s.area_code"
    " WHERE s.id = ?";
static const char SQL_STATION_LIST[] =
    "SELECT " STATION_COLUMNS " FROM stations s JOIN areas a ON a.code = s.area_code"
    " WHERE s.id > ?1 AND (?2 IS NULL OR s.area_code BETWEEN ?2 AND ?3)"
    "   AND (?4 < 0 OR s.level = ?4)"
    " ORDER BY s.id LIMIT ?5";
static const char SQL_STATION_BY_KEY[] =
    "SELECT id FROM stations WHERE area_code = ? AND level = ? AND name = ?";
static const char SQL_STATION_INSERT[] =
    "INSERT INTO stations (area_code, level, name, address, lat, lon, staff, phone,"
    " opening_hours, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)"
    " RETURNING id";
static const char SQL_STATION_UPDATE[] =
    "UPDATE stations SET area_code = ?2, level = ?3, name = ?4, address = ?5, lat = ?6, lon = ?7,"
    " staff = ?8, phone = ?9, opening_hours = ?10, updated_at = ?11 WHERE id = ?1";

static void station_from_row(sqlite3_stmt *st, struct station *s)
{
    memset(s, 0, sizeof *s);
    s->id = sqlite3_column_int64(st, 0);
    stations__copy_col(s->name, sizeof s->name, st, 1);
    s->level = sqlite3_column_int(st, 2);
    stations__copy_col(s->area_code, sizeof s->area_code, st, 3);
    stations__copy_col(s->area_name, sizeof s->area_name, st, 4);
    s->area_current = sqlite3_column_int(st, 5) != 0;
    stations__copy_col(s->address, sizeof s->address, st, 6);
    s->has_point = sqlite3_column_type(st, 7) != SQLITE_NULL;
    s->point.lat = sqlite3_column_double(st, 7);
    s->point.lon = sqlite3_column_double(st, 8);
    s->staff = sqlite3_column_int64(st, 9);
    stations__copy_col(s->phone, sizeof s->phone, st, 10);
    stations__copy_col(s->opening_hours, sizeof s->opening_hours, st, 11);
    s->created_at = sqlite3_column_int64(st, 12);
    s->updated_at = sqlite3_column_int64(st, 13);
}

int stations__load_station(struct store_conn *c, int64_t id, struct station *out, bool *found,
                           struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_STATION_GET, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    *found = rc == SQLITE_ROW;
    if (rc == SQLITE_ROW)
        station_from_row(st, out);
    else if (rc != SQLITE_DONE)
        return store_fail(c, rc, "reading a station", err);
    sqlite3_reset(st);
    return LINLI_OK;
}

/* 1 and *id when a station has the area, level and name of `s`; 0 when none. */
int stations__find_by_key(struct store_conn *c, const struct station *s, int64_t *id,
                          struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_STATION_BY_KEY, err);
    if (!st)
        return err->status;
    sqlite3_bind_text(st, 1, s->area_code, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 2, s->level);
    sqlite3_bind_text(st, 3, s->name, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        return 0;
    if (rc != SQLITE_ROW)
        return store_fail(c, rc, "looking up a station", err);
    *id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return 1;
}

static void bind_station(sqlite3_stmt *st, int first, const struct station *s)
{
    sqlite3_bind_text(st, first, s->area_code, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, first + 1, s->level);
    sqlite3_bind_text(st, first + 2, s->name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, first + 3, s->address, -1, SQLITE_TRANSIENT);
    if (s->has_point) {
        sqlite3_bind_double(st, first + 4, s->point.lat);
        sqlite3_bind_double(st, first + 5, s->point.lon);
    }
    sqlite3_bind_int64(st, first + 6, s->staff);
    stations__bind_text_or_null(st, first + 7, s->phone);
    sqlite3_bind_text(st, first + 8, s->opening_hours, -1, SQLITE_TRANSIENT);
}

int stations__insert_station(struct store_conn *c, const struct station *s, int64_t now,
                             int64_t *id, struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_STATION_INSERT, err);
    if (!st)
        return err->status;
    bind_station(st, 1, s);
    sqlite3_bind_int64(st, 10, now);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW)
        return store_fail(c, rc, "adding a station", err);
    *id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return LINLI_OK;
}

int stations__update_station(struct store_conn *c, int64_t id, const struct station *s, int64_t now,
                             struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_STATION_UPDATE, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, id);
    bind_station(st, 2, s);
    sqlite3_bind_int64(st, 11, now);
    int rc = sqlite3_step(st);
    return rc == SQLITE_DONE ? LINLI_OK : store_fail(c, rc, "changing a station", err);
}

/* The names of the fields that differ between two stations, as a JSON array. */
static json_t *station_changes(const struct station *a, const struct station *b)
{
    json_t *changed = json_array();
    if (strcmp(a->name, b->name))
        json_array_append_new(changed, json_string("name"));
    if (a->level != b->level)
        json_array_append_new(changed, json_string("level"));
    if (strcmp(a->area_code, b->area_code))
        json_array_append_new(changed, json_string("area_code"));
    if (strcmp(a->address, b->address))
        json_array_append_new(changed, json_string("address"));
    if (a->has_point != b->has_point ||
        (a->has_point && (a->point.lat != b->point.lat || a->point.lon != b->point.lon)))
        json_array_append_new(changed, json_string("point"));
    if (a->staff != b->staff)
        json_array_append_new(changed, json_string("staff"));
    if (strcmp(a->phone, b->phone))
        json_array_append_new(changed, json_string("phone"));
    if (strcmp(a->opening_hours, b->opening_hours))
        json_array_append_new(changed, json_string("opening_hours"));
    return changed;
}

static json_t *station_summary(const struct station *s)
{
    return json_pack("{s:I, s:s, s:s, s:s}", "id", (json_int_t)s->id, "name", s->name, "level",
                     station_level_name(s->level), "area_code", s->area_code);
}

static int audit_station(struct store_conn *c, const struct principal *who, const char *action,
                         const struct station *s, json_t *changed, struct linli_err *err)
{
    char object[40];
    snprintf(object, sizeof object, "station:%lld", (long long)s->id);
    json_t *detail = station_summary(s);
    if (changed)
        json_object_set(detail, "changed", changed);
    int rc = audit_append(c, who, action, object, detail, err);
    json_decref(detail);
    return rc;
}

/* ---- stations: create and change ---- */

struct create_job {
    const struct principal *who;
    const struct station *in;
    const struct idem_req *idem;
    bool replayed;
    struct station *out;
};

static int conflict(struct linli_err *err, int64_t other, const struct station *s)
{
    return linli_fail(err, LINLI_ECONFLICT,
                      "Station %lld is already the %s named \"%s\" for area %s.", (long long)other,
                      station_level_name(s->level), s->name, s->area_code);
}

static int create_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct create_job *j = arg;
    int64_t id = 0;
    bool found;
    int rc;
    if (j->idem) {
        if ((rc = idem_find(c, j->idem, &id, err)) < 0)
            return rc;
        if (rc) {
            j->replayed = true;
            if ((rc = stations__load_station(c, id, j->out, &found, err)))
                return rc;
            return found ? LINLI_OK : linli_fail(err, LINLI_ENOTFOUND, "No such station.");
        }
    }
    char why[160];
    if ((rc = stations__area_fits(c, j->in->area_code, j->in->level, why, sizeof why, err)) < 0)
        return rc;
    if (rc)
        return linli_field(err, "area_code", "%s", why);
    int64_t other;
    if ((rc = stations__find_by_key(c, j->in, &other, err)) < 0)
        return rc;
    if (rc)
        return conflict(err, other, j->in);
    if ((rc = stations__insert_station(c, j->in, clock_now_ms(), &id, err)) ||
        (rc = stations__load_station(c, id, j->out, &found, err)) ||
        (rc = audit_station(c, j->who, "station.create", j->out, NULL, err)))
        return rc;
    if (j->idem && (rc = idem_record(c, j->idem, id, err)))
        return rc;
    return LINLI_OK;
}

int stations__forbidden_area(struct linli_err *err, const char *code)
{
    return linli_fail(err, LINLI_EFORBIDDEN, "Area %s is outside your scope.", code);
}

int stations__forbidden_role(struct linli_err *err, const char *what)
{
    return linli_fail(err, LINLI_EFORBIDDEN, "Only admins and district or street staff may %s.",
                      what);
}

int stations_create(struct domain *d, const struct principal *who, const struct station_fields *in,
                    const struct idem_req *idem, struct station *out, bool *replayed,
                    struct linli_err *err)
{
    if (!stations__writer_role(who))
        return stations__forbidden_role(err, "create stations");
    struct station s;
    if (stations_check(in, &s, err))
        return LINLI_EINVAL;
    if (!stations__may_write_area(who, s.area_code))
        return stations__forbidden_area(err, s.area_code);
    struct create_job j = {who, &s, idem, false, out};
    int rc = store_write(d->store, create_job, &j, err);
    if (rc)
        return rc;
    if (replayed)
        *replayed = j.replayed;
    if (!j.replayed)
        domain_publish(d, "station.created", station_summary(out));
    return LINLI_OK;
}

struct update_job {
    const struct principal *who;
    int64_t id;
    const struct station_patch *p;
    struct station *out;
    bool changed;
};

static int update_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct update_job *j = arg;
    const struct station_patch *p = j->p;
    struct station before;
    bool found;
    int rc = stations__load_station(c, j->id, &before, &found, err);
    if (rc)
        return rc;
    if (!found)
        return linli_fail(err, LINLI_ENOTFOUND, "No station %lld.", (long long)j->id);
    if (!stations__may_write_area(j->who, before.area_code))
        return linli_fail(err, LINLI_EFORBIDDEN, "Station %lld serves area %s, outside your scope.",
                          (long long)j->id, before.area_code);
    struct station_fields f = {
        .name = p->set_name ? p->v.name : before.name,
        .level = p->set_level ? p->v.level : level_names[before.level],
        .area_code = p->set_area_code ? p->v.area_code : before.area_code,
        .address = p->set_address ? p->v.address : before.address,
        .has_point = p->set_point ? p->v.has_point : before.has_point,
        .point = p->set_point ? p->v.point : before.point,
        .has_staff = true,
        .staff = p->set_staff ? p->v.staff : before.staff,
        .phone = p->set_phone ? p->v.phone : before.phone,
        .opening_hours = p->set_opening_hours ? p->v.opening_hours : before.opening_hours,
    };
    struct station next;
    if (stations_check(&f, &next, err))
        return LINLI_EINVAL;
    next.id = before.id;
    if (!stations__may_write_area(j->who, next.area_code))
        return stations__forbidden_area(err, next.area_code);
    char why[160];
    if (strcmp(next.area_code, before.area_code) || next.level != before.level) {
        if ((rc = stations__area_fits(c, next.area_code, next.level, why, sizeof why, err)) < 0)
            return rc;
        if (rc)
            return linli_field(err, "area_code", "%s", why);
    }
    int64_t other;
    if ((rc = stations__find_by_key(c, &next, &other, err)) < 0)
        return rc;
    if (rc && other != j->id)
        return conflict(err, other, &next);
    json_t *changed = station_changes(&before, &next);
    if (json_array_size(changed) == 0) {
        json_decref(changed);
        *j->out = before;
        return LINLI_OK;
    }
    j->changed = true;
    if ((rc = stations__update_station(c, j->id, &next, clock_now_ms(), err)) == LINLI_OK &&
        (rc = stations__load_station(c, j->id, j->out, &found, err)) == LINLI_OK)
        rc = audit_station(c, j->who, "station.update", j->out, changed, err);
    json_decref(changed);
    return rc;
}

int stations_update(struct domain *d, const struct principal *who, int64_t id,
                    const struct station_patch *p, struct station *out, struct linli_err *err)
{
    if (!stations__writer_role(who))
        return stations__forbidden_role(err, "change stations");
    struct update_job j = {who, id, p, out, false};
    int rc = store_write(d->store, update_job, &j, err);
    if (rc == LINLI_OK && j.changed)
        domain_publish(d, "station.updated", station_summary(out));
    return rc;
}

/* ---- stations: reads ---- */

struct get_args {
    int64_t id;
    struct station *out;
};

static int get_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct get_args *a = arg;
    bool found;
    int rc = stations__load_station(c, a->id, a->out, &found, err);
    if (rc == LINLI_OK && !found)
        return linli_fail(err, LINLI_ENOTFOUND, "No station %lld.", (long long)a->id);
    return rc;
}

int stations_get(struct domain *d, const struct principal *who, int64_t id, struct station *out,
                 struct linli_err *err)
{
    (void)who; /* stations are public facilities */
    struct get_args a = {id, out};
    return store_read(d->store, get_job, &a, err);
}

struct list_args {
    const struct station_filter *f;
    struct station *items;
    int n;
    int64_t next;
};

static int list_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct list_args *a = arg;
    sqlite3_stmt *st = store_stmt(c, SQL_STATION_LIST, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, a->f->after_id);
    if (a->f->area) {
        char lo[AREA_CODE_LEN + 1], hi[AREA_CODE_LEN + 1];
        area_range(a->f->area, lo, hi);
        sqlite3_bind_text(st, 2, lo, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, hi, -1, SQLITE_TRANSIENT);
    }
    sqlite3_bind_int(st, 4, a->f->level);
    sqlite3_bind_int(st, 5, a->f->limit + 1);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (a->n == a->f->limit) {
            a->next = a->items[a->n - 1].id;
            break;
        }
        station_from_row(st, &a->items[a->n++]);
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_fail(c, rc, "listing stations", err);
    return LINLI_OK;
}

int stations_list(struct domain *d, const struct principal *who, const struct station_filter *f,
                  struct station **items, int *n, int64_t *next, struct linli_err *err)
{
    (void)who;
    if (f->limit < 1 || f->limit > STATIONS_PAGE_MAX)
        return linli_field(err, "limit", "must be between 1 and %d", STATIONS_PAGE_MAX);
    if (f->level < -1 || f->level >= STATION_LEVELS)
        return linli_field(err, "level", "is not a station level");
    struct list_args a = {f, calloc((size_t)f->limit, sizeof(struct station)), 0, 0};
    if (!a.items)
        return linli_fail(err, LINLI_ENOMEM, "out of memory");
    int rc = store_read(d->store, list_job, &a, err);
    if (rc) {
        free(a.items);
        return rc;
    }
    *items = a.items;
    *n = a.n;
    *next = a.next;
    return LINLI_OK;
}
