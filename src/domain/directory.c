/* directory.c - facilities and the service catalogue: checks, storage,
 * create, change, read, list, import. Search is in directory_search.c, the
 * memory copy in directory_index.c, the pure rules in directory_rules.c.
 *
 * Every write adds one to directory_rev and stamps the facilities it wrote
 * with the new number in the same transaction (see directory_index.c), then
 * refreshes this process's memory copy once committed. */
#include "domain/directory_internal.h"

#include "base/clock.h"
#include "base/idnum.h"
#include "domain/audit.h"
#include "domain/people.h"
#include "domain/stations_internal.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IMPORT_ROWS_MAX   20000
#define REPORT_ERRORS_MAX 100

/* ---- who may write ---- */

static bool writer_role(const struct principal *who)
{
    return who->role == ROLE_ADMIN || who->role == ROLE_DISTRICT || who->role == ROLE_STREET;
}

static bool may_write_area(const struct principal *who, const char *code)
{
    return who->role == ROLE_ADMIN || (writer_role(who) && area_within(who->scope, code));
}

static int forbidden_role(struct linli_err *err, const char *what)
{
    return linli_fail(err, LINLI_EFORBIDDEN, "Only admins and district or street staff may %s.",
                      what);
}

static int forbidden_area(struct linli_err *err, const char *code)
{
    return linli_fail(err, LINLI_EFORBIDDEN, "Area %s is outside your scope.", code);
}

/* ---- checks ---- */

static bool valid_date(const char *s)
{
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
            return false;
    int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
    static const int days[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1900 || y > 2200 || m < 1 || m > 12 || d < 1 || d > days[m - 1])
        return false;
    return !(m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
}

static void check_hours(const struct week_hours *h, struct linli_err *e)
{
    static const char *const days[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
    for (int d = 0; d < 7; d++) {
        if (h->nspans[d] < 0 || h->nspans[d] > FACILITY_SPANS_MAX) {
            linli_field(e, "hours", "%s has more than %d spans", days[d], FACILITY_SPANS_MAX);
            continue;
        }
        for (int i = 0; i < h->nspans[d]; i++) {
            const struct time_span *s = &h->spans[d][i];
            if (s->open < 0 || s->open >= s->close || s->close > 1440 ||
                (i > 0 && s->open < h->spans[d][i - 1].close)) {
                linli_field(e, "hours", "%s has spans that are out of order or overlap", days[d]);
                break;
            }
        }
    }
}

static void check_rule(const struct subsidy_rule *r, const char *at, struct linli_err *e)
{
    char field[128];
    snprintf(field, sizeof field, "%s.label", at);
    stations__check_text(field, r->label, RULE_LABEL_MAX, false, e);
    int effects = (r->percent_off != 0) + (r->amount_off_fen != 0) + (r->pay_fen >= 0);
    if (effects != 1)
        linli_field(e, at, "needs exactly one of percent_off, amount_off and pay");
    if (r->percent_off < 0 || r->percent_off > 100) {
        snprintf(field, sizeof field, "%s.percent_off", at);
        linli_field(e, field, "must be 1 to 100");
    }
    if (r->amount_off_fen < 0 || r->amount_off_fen > PRICE_MAX_FEN) {
        snprintf(field, sizeof field, "%s.amount_off", at);
        linli_field(e, field, "must be more than 0");
    }
    if (r->pay_fen > PRICE_MAX_FEN) {
        snprintf(field, sizeof field, "%s.pay", at);
        linli_field(e, field, "is too large");
    }
    if (r->age_min < 0 || r->age_min > 120) {
        snprintf(field, sizeof field, "%s.age_min", at);
        linli_field(e, field, "must be 0 to 120");
    }
    if (r->classes >> SUBSIDY_CLASSES || r->care_levels >> 3) {
        snprintf(field, sizeof field, "%s.classes", at);
        linli_field(e, field, "names an unknown class or care level");
    }
}

static void check_services(struct domain *d, const struct facility *f, struct linli_err *e)
{
    char field[64];
    for (int i = 0; i < f->nservices; i++) {
        const struct facility_service *s = &f->services[i];
        snprintf(field, sizeof field, "services[%d].code", i);
        if (!services_known(d, s->code)) {
            linli_field(e, field, "\"%s\" is not in the service catalogue", s->code);
        } else {
            for (int k = 0; k < i; k++) {
                if (!strcmp(f->services[k].code, s->code)) {
                    linli_field(e, field, "\"%s\" is listed twice", s->code);
                    break;
                }
            }
        }
        if (s->price_fen < 0 || s->price_fen > PRICE_MAX_FEN) {
            snprintf(field, sizeof field, "services[%d].price", i);
            linli_field(e, field, "must be 0 to %d yuan", PRICE_MAX_FEN / 100);
        }
        if (s->unit < 0 || s->unit >= UNIT_UNITS) {
            snprintf(field, sizeof field, "services[%d].unit", i);
            linli_field(e, field, "must be meal, hour, visit, day or month");
        }
        if (s->age_min < 0 || s->age_min > 120) {
            snprintf(field, sizeof field, "services[%d].age_min", i);
            linli_field(e, field, "must be 0 to 120");
        }
        snprintf(field, sizeof field, "services[%d].note", i);
        stations__check_text(field, s->note, SERVICE_NOTE_MAX, false, e);
        if (s->nrules < 0 || s->nrules > SERVICE_RULES_MAX) {
            snprintf(field, sizeof field, "services[%d].subsidies", i);
            linli_field(e, field, "at most %d rules", SERVICE_RULES_MAX);
            continue;
        }
        for (int r = 0; r < s->nrules; r++) {
            snprintf(field, sizeof field, "services[%d].subsidies[%d]", i, r);
            check_rule(&s->rules[r], field, e);
        }
    }
}

static void check_count(const char *field, int v, struct linli_err *e)
{
    if (v < -1 || v > 100000)
        linli_field(e, field, "must be 0 to 100000");
}

int facility_check(struct domain *d, const struct facility_in *in, struct facility *out,
                   struct linli_err *err)
{
    struct linli_err e;
    linli_err_clear(&e);
    memset(out, 0, offsetof(struct facility, services));
    if (!in->kind)
        linli_field(&e, "kind", "is required");
    else if (facility_kind_parse(in->kind, &out->kind))
        linli_field(&e, "kind", "\"%s\" is not a facility kind", in->kind);
    if (!in->operator_type)
        linli_field(&e, "operator_type", "is required");
    else if (operator_type_parse(in->operator_type, &out->operator_type))
        linli_field(&e, "operator_type", "must be public, private or public_private");
    out->status = FACILITY_OPEN;
    if (in->status && facility_status_parse(in->status, &out->status))
        linli_field(&e, "status", "must be open, suspended or closed");
    stations__check_text("name", in->name, FACILITY_NAME_MAX, true, &e);
    stations__check_text("registration", in->registration, FACILITY_REG_MAX, false, &e);
    stations__check_text("address", in->address, FACILITY_ADDRESS_MAX, false, &e);
    stations__check_text("consortium", in->consortium, FACILITY_CONSORTIUM_MAX, false, &e);
    snprintf(out->name, sizeof out->name, "%s", in->name ? in->name : "");
    snprintf(out->registration, sizeof out->registration, "%s",
             in->registration ? in->registration : "");
    snprintf(out->address, sizeof out->address, "%s", in->address ? in->address : "");
    snprintf(out->consortium, sizeof out->consortium, "%s", in->consortium ? in->consortium : "");
    if (!in->has_point)
        linli_field(&e, "point", "is required");
    else
        directory__check_point(d, "point", in->point, &e);
    out->point = in->point;
    const char *why;
    if (!in->area_code || !*in->area_code)
        linli_field(&e, "area_code", "is required");
    else if (area_code_normalize(in->area_code, out->area_code, &why))
        linli_field(&e, "area_code", "%s", why);
    else if (area_code_level(out->area_code) == 0)
        linli_field(&e, "area_code", "must be a street or a community, not a district");
    if (in->phone && *in->phone && phone_check(in->phone, out->phone, sizeof out->phone, &why))
        linli_field(&e, "phone", "%s", why);
    check_hours(&in->hours, &e);
    out->hours = in->hours;
    if (in->nclosures < 0 || in->nclosures > FACILITY_CLOSURES_MAX)
        linli_field(&e, "closures", "at most %d closures", FACILITY_CLOSURES_MAX);
    for (int i = 0; i < in->nclosures && i < FACILITY_CLOSURES_MAX; i++) {
        const struct closure *c = &in->closures[i];
        char field[48];
        snprintf(field, sizeof field, "closures[%d]", i);
        if (!valid_date(c->from) || !valid_date(c->to))
            linli_field(&e, field, "needs dates YYYY-MM-DD");
        else if (strcmp(c->from, c->to) > 0)
            linli_field(&e, field, "ends before it starts");
        snprintf(field, sizeof field, "closures[%d].reason", i);
        stations__check_text(field, c->reason, FACILITY_CLOSURE_WHY_MAX, false, &e);
        out->closures[out->nclosures++] = *c;
    }
    check_count("capacity", in->capacity, &e);
    check_count("beds_total", in->beds_total, &e);
    check_count("beds_free", in->beds_free, &e);
    if (in->beds_free >= 0 && (in->beds_total < 0 || in->beds_free > in->beds_total))
        linli_field(&e, "beds_free", "must not exceed beds_total");
    if (in->rating_tenths < -1 || in->rating_tenths > 50)
        linli_field(&e, "rating", "must be 0 to 5");
    out->capacity = in->capacity;
    out->beds_total = in->beds_total;
    out->beds_free = in->beds_free;
    out->rating_tenths = in->rating_tenths;
    if (in->nservices < 0 || in->nservices > FACILITY_SERVICES_MAX) {
        linli_field(&e, "services", "at most %d services", FACILITY_SERVICES_MAX);
    } else {
        out->nservices = in->nservices;
        memcpy(out->services, in->services, (size_t)in->nservices * sizeof in->services[0]);
        check_services(d, out, &e);
    }
    if (stations__merge_fields(err, &e))
        return linli_fail(err, LINLI_EINVAL, "The facility has invalid fields.");
    return LINLI_OK;
}

/* ---- stored form ---- */

static json_t *closures_json(const struct facility *f)
{
    json_t *a = json_array();
    for (int i = 0; i < f->nclosures; i++)
        json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "from", f->closures[i].from, "to",
                                           f->closures[i].to, "reason", f->closures[i].reason));
    return a;
}

static const char *text_of(const json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v ? v : "";
}

static int closures_read(const char *text, struct facility *f)
{
    json_t *a = json_loads(text ? text : "[]", 0, NULL);
    if (!json_is_array(a)) {
        json_decref(a);
        return -1;
    }
    f->nclosures = 0;
    size_t i;
    json_t *c;
    json_array_foreach(a, i, c)
    {
        if (f->nclosures == FACILITY_CLOSURES_MAX)
            break;
        struct closure *out = &f->closures[f->nclosures++];
        snprintf(out->from, sizeof out->from, "%s", text_of(c, "from"));
        snprintf(out->to, sizeof out->to, "%s", text_of(c, "to"));
        snprintf(out->reason, sizeof out->reason, "%s", text_of(c, "reason"));
    }
    json_decref(a);
    return 0;
}

void directory__copy_col(char *dst, size_t size, sqlite3_stmt *st, int i)
{
    const unsigned char *v = sqlite3_column_text(st, i);
    snprintf(dst, size, "%s", v ? (const char *)v : "");
}

static int col_int_or(sqlite3_stmt *st, int i, int none)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? none : sqlite3_column_int(st, i);
}

int directory__read_row(sqlite3_stmt *st, struct facility *f)
{
    memset(f, 0, offsetof(struct facility, services));
    f->id = sqlite3_column_int64(st, 0);
    if (facility_kind_parse((const char *)sqlite3_column_text(st, 1), &f->kind) ||
        operator_type_parse((const char *)sqlite3_column_text(st, 2), &f->operator_type) ||
        facility_status_parse((const char *)sqlite3_column_text(st, 3), &f->status))
        return -1;
    directory__copy_col(f->name, sizeof f->name, st, 4);
    directory__copy_col(f->registration, sizeof f->registration, st, 5);
    directory__copy_col(f->address, sizeof f->address, st, 6);
    f->point.lat = sqlite3_column_double(st, 7);
    f->point.lon = sqlite3_column_double(st, 8);
    directory__copy_col(f->area_code, sizeof f->area_code, st, 9);
    directory__copy_col(f->phone, sizeof f->phone, st, 10);
    char why[160];
    if (hours_parse_week((const char *)sqlite3_column_text(st, 11), &f->hours, why, sizeof why) ||
        closures_read((const char *)sqlite3_column_text(st, 12), f))
        return -1;
    f->capacity = col_int_or(st, 13, -1);
    f->beds_total = col_int_or(st, 14, -1);
    f->beds_free = col_int_or(st, 15, -1);
    f->rating_tenths = col_int_or(st, 16, -1);
    directory__copy_col(f->consortium, sizeof f->consortium, st, 17);
    json_t *services = json_loads((const char *)sqlite3_column_text(st, 18), 0, NULL);
    struct linli_err e;
    linli_err_clear(&e);
    int rc = services_from_json(services, "services", f->services, &f->nservices, &e);
    json_decref(services);
    if (rc)
        return -1;
    f->created_at = sqlite3_column_int64(st, 19);
    f->updated_at = sqlite3_column_int64(st, 20);
    directory__copy_col(f->area_name, sizeof f->area_name, st, 21);
    directory__copy_col(f->street_code, sizeof f->street_code, st, 22);
    directory__copy_col(f->street_name, sizeof f->street_name, st, 23);
    return 0;
}

static const char SQL_GET[] = "SELECT " DIRECTORY__COLUMNS DIRECTORY__FROM "WHERE f.id = ?1";

/* Reads facility `id`; *found says whether it exists. */
static int load_facility(struct store_conn *c, int64_t id, struct facility *out, bool *found,
                         struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_GET, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    *found = rc == SQLITE_ROW;
    int bad = *found ? directory__read_row(st, out) : 0;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_fail(c, rc, "reading a facility", err);
    if (bad)
        return linli_fail(err, LINLI_EIO, "Facility %lld has unreadable stored details.",
                          (long long)id);
    return LINLI_OK;
}

static const char SQL_BUMP[] = "UPDATE directory_rev SET rev = rev + 1 WHERE id = 1 RETURNING rev";

/* The revision number of this write job (bumped once per job). */
static int bump_rev(struct store_conn *c, int64_t *rev, struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_BUMP, err);
    if (!st)
        return err->status;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *rev = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? LINLI_OK : store_fail(c, rc, "counting a directory write", err);
}

static const char SQL_INSERT[] =
    "INSERT INTO facilities (kind, operator_type, status, name, registration, address, lat, lon,"
    " area_code, phone, hours, closures, capacity, beds_total, beds_free, rating_tenths,"
    " consortium, services, rev, created_at, updated_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,"
    " ?19, ?20, ?20) RETURNING id";
static const char SQL_UPDATE[] =
    "UPDATE facilities SET kind = ?1, operator_type = ?2, status = ?3, name = ?4,"
    " registration = ?5, address = ?6, lat = ?7, lon = ?8, area_code = ?9, phone = ?10,"
    " hours = ?11, closures = ?12, capacity = ?13, beds_total = ?14, beds_free = ?15,"
    " rating_tenths = ?16, consortium = ?17, services = ?18, rev = ?19, updated_at = ?20"
    " WHERE id = ?21";
static const char SQL_DROP_OFFERS[] = "DELETE FROM facility_services WHERE facility_id = ?1";
static const char SQL_ADD_OFFER[] =
    "INSERT INTO facility_services (facility_id, code, price_fen) VALUES (?1, ?2, ?3)";

static void bind_int_or_null(sqlite3_stmt *st, int i, int v)
{
    if (v < 0)
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_int(st, i, v);
}

static int bind_facility(sqlite3_stmt *st, const struct facility *f, int64_t rev, int64_t now)
{
    char hours[512];
    hours_format_week(&f->hours, hours, sizeof hours);
    json_t *closures = closures_json(f);
    json_t *services = services_to_json(f->services, f->nservices);
    char *ctext = json_dumps(closures, JSON_COMPACT);
    char *stext = json_dumps(services, JSON_COMPACT);
    json_decref(closures);
    json_decref(services);
    if (!ctext || !stext) {
        free(ctext);
        free(stext);
        return -1;
    }
    sqlite3_bind_text(st, 1, facility_kind_name(f->kind), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, operator_type_name(f->operator_type), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, facility_status_name(f->status), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, f->name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, f->registration, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 6, f->address, -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(st, 7, f->point.lat);
    sqlite3_bind_double(st, 8, f->point.lon);
    sqlite3_bind_text(st, 9, f->area_code, -1, SQLITE_TRANSIENT);
    stations__bind_text_or_null(st, 10, f->phone);
    sqlite3_bind_text(st, 11, hours, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 12, ctext, -1, free);
    bind_int_or_null(st, 13, f->capacity);
    bind_int_or_null(st, 14, f->beds_total);
    bind_int_or_null(st, 15, f->beds_free);
    bind_int_or_null(st, 16, f->rating_tenths);
    sqlite3_bind_text(st, 17, f->consortium, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 18, stext, -1, free);
    sqlite3_bind_int64(st, 19, rev);
    sqlite3_bind_int64(st, 20, now);
    return 0;
}

static int write_offers(struct store_conn *c, const struct facility *f, struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_DROP_OFFERS, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, f->id);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return store_fail(c, rc, "replacing a facility's services", err);
    for (int i = 0; i < f->nservices; i++) {
        if (!(st = store_stmt(c, SQL_ADD_OFFER, err)))
            return err->status;
        sqlite3_bind_int64(st, 1, f->id);
        sqlite3_bind_text(st, 2, f->services[i].code, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 3, f->services[i].price_fen);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
            return store_fail(c, rc, "recording a facility's services", err);
    }
    return LINLI_OK;
}

/* Inserts (id 0) or overwrites facility `f`, stamped with `rev`. */
static int store_facility(struct store_conn *c, struct facility *f, int64_t rev,
                          struct linli_err *err)
{
    int64_t now = clock_now_ms();
    sqlite3_stmt *st = store_stmt(c, f->id ? SQL_UPDATE : SQL_INSERT, err);
    if (!st)
        return err->status;
    if (bind_facility(st, f, rev, now)) {
        sqlite3_reset(st);
        return linli_fail(err, LINLI_ENOMEM, "Out of memory writing a facility.");
    }
    if (f->id)
        sqlite3_bind_int64(st, 21, f->id);
    int rc = sqlite3_step(st);
    if (!f->id && rc == SQLITE_ROW) {
        f->id = sqlite3_column_int64(st, 0);
        rc = sqlite3_step(st);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return store_fail(c, rc, "writing a facility", err);
    return write_offers(c, f, err);
}

/* ---- areas ---- */

/* 0 when `code` is a current street or community; 1 with `why` when not. */
static int area_fits(struct store_conn *c, const char *code, char *why, size_t size,
                     struct linli_err *err)
{
    int level = area_code_level(code);
    return stations__area_fits(c, code, level == 1 ? 1 : 2, why, size, err);
}

static const char SQL_BY_KEY[] = "SELECT id FROM facilities WHERE area_code = ?1 AND name = ?2";

static int find_by_key(struct store_conn *c, const char *area, const char *name, int64_t *id,
                       struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_BY_KEY, err);
    if (!st)
        return err->status;
    sqlite3_bind_text(st, 1, area, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_fail(c, rc, "looking up a facility", err);
    return rc == SQLITE_ROW;
}

static json_t *summary(const struct facility *f)
{
    return json_pack("{s:I, s:s, s:s, s:s, s:s}", "id", (json_int_t)f->id, "name", f->name, "kind",
                     facility_kind_name(f->kind), "area_code", f->area_code, "status",
                     facility_status_name(f->status));
}

static int audit_facility(struct store_conn *c, const struct principal *who, const char *action,
                          const struct facility *f, json_t *changed, struct linli_err *err)
{
    char object[40];
    snprintf(object, sizeof object, "facility:%lld", (long long)f->id);
    json_t *detail = summary(f);
    if (changed)
        json_object_set(detail, "changed", changed);
    int rc = audit_append(c, who, action, object, detail, err);
    json_decref(detail);
    return rc;
}

static int conflict(struct linli_err *err, int64_t other, const struct facility *f)
{
    return linli_fail(err, LINLI_ECONFLICT, "Facility %lld is already named \"%s\" in area %s.",
                      (long long)other, f->name, f->area_code);
}

/* Refreshes this process's memory copy after a committed write. A failure
 * here loses nothing: the next search refreshes again. */
static void refresh_after_write(struct domain *d)
{
    struct linli_err err;
    linli_err_clear(&err);
    directory_refresh(d, &err);
}

/* ---- create ---- */

struct create_job {
    const struct principal *who;
    struct facility *f;
    const struct idem_req *idem;
    bool replayed;
    struct facility *out;
};

static int create_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct create_job *j = arg;
    int64_t id = 0, rev;
    bool found;
    int rc;
    if (j->idem) {
        if ((rc = idem_find(c, j->idem, &id, err)) < 0)
            return rc;
        if (rc) {
            j->replayed = true;
            if ((rc = load_facility(c, id, j->out, &found, err)))
                return rc;
            return found ? LINLI_OK : linli_fail(err, LINLI_ENOTFOUND, "No such facility.");
        }
    }
    char why[160];
    if ((rc = area_fits(c, j->f->area_code, why, sizeof why, err)) < 0)
        return rc;
    if (rc) {
        linli_field(err, "area_code", "%s", why);
        return linli_fail(err, LINLI_EINVAL, "The facility has invalid fields.");
    }
    if ((rc = find_by_key(c, j->f->area_code, j->f->name, &id, err)) < 0)
        return rc;
    if (rc)
        return conflict(err, id, j->f);
    j->f->id = 0;
    if ((rc = bump_rev(c, &rev, err)) || (rc = store_facility(c, j->f, rev, err)) ||
        (rc = load_facility(c, j->f->id, j->out, &found, err)) ||
        (rc = audit_facility(c, j->who, "facility.create", j->out, NULL, err)))
        return rc;
    if (j->idem && (rc = idem_record(c, j->idem, j->f->id, err)))
        return rc;
    return LINLI_OK;
}

int facilities_create(struct domain *d, const struct principal *who, const struct facility_in *in,
                      const struct idem_req *idem, struct facility *out, bool *replayed,
                      struct linli_err *err)
{
    if (!writer_role(who))
        return forbidden_role(err, "create facilities");
    struct facility *f = malloc(sizeof *f);
    if (!f)
        return linli_fail(err, LINLI_ENOMEM, "Out of memory.");
    int rc = facility_check(d, in, f, err);
    if (!rc && !may_write_area(who, f->area_code))
        rc = forbidden_area(err, f->area_code);
    struct create_job j = {who, f, idem, false, out};
    if (!rc)
        rc = store_write(d->store, create_job, &j, err);
    free(f);
    if (rc)
        return rc;
    if (replayed)
        *replayed = j.replayed;
    if (!j.replayed) {
        refresh_after_write(d);
        domain_publish(d, "facility.created", summary(out));
    }
    return LINLI_OK;
}

/* ---- change ---- */

/* The input that gives `f` back, for merging a patch over a stored facility. */
static void facility_as_input(const struct facility *f, struct facility_in *in)
{
    memset(in, 0, offsetof(struct facility_in, services));
    in->kind = facility_kind_name(f->kind);
    in->operator_type = operator_type_name(f->operator_type);
    in->status = facility_status_name(f->status);
    in->name = f->name;
    in->registration = f->registration;
    in->address = f->address;
    in->area_code = f->area_code;
    in->phone = f->phone;
    in->consortium = f->consortium;
    in->has_point = true;
    in->point = f->point;
    in->hours = f->hours;
    in->nclosures = f->nclosures;
    memcpy(in->closures, f->closures, sizeof f->closures);
    in->capacity = f->capacity;
    in->beds_total = f->beds_total;
    in->beds_free = f->beds_free;
    in->rating_tenths = f->rating_tenths;
    in->nservices = f->nservices;
    memcpy(in->services, f->services, (size_t)f->nservices * sizeof f->services[0]);
}

static void apply_patch(struct facility_in *in, const struct facility_patch *p)
{
    const struct facility_in *v = &p->v;
#define TAKE(flag, field)                                                                          \
    if (p->flag)                                                                                   \
    in->field = v->field
    TAKE(set_kind, kind);
    TAKE(set_operator_type, operator_type);
    TAKE(set_status, status);
    TAKE(set_name, name);
    TAKE(set_registration, registration);
    TAKE(set_address, address);
    TAKE(set_area_code, area_code);
    TAKE(set_phone, phone);
    TAKE(set_consortium, consortium);
    TAKE(set_capacity, capacity);
    TAKE(set_beds_total, beds_total);
    TAKE(set_beds_free, beds_free);
    TAKE(set_rating, rating_tenths);
    TAKE(set_hours, hours);
#undef TAKE
    if (p->set_point) {
        in->has_point = v->has_point;
        in->point = v->point;
    }
    if (p->set_closures) {
        in->nclosures = v->nclosures;
        memcpy(in->closures, v->closures, sizeof v->closures);
    }
    if (p->set_services) {
        in->nservices = v->nservices;
        memcpy(in->services, v->services, (size_t)v->nservices * sizeof v->services[0]);
    }
}

/* The names of the fields that differ, as a JSON array. */
static json_t *changes(const struct facility *a, const struct facility *b)
{
    json_t *out = json_array();
#define DIFF(cond, name)                                                                           \
    if (cond)                                                                                      \
    json_array_append_new(out, json_string(name))
    DIFF(a->kind != b->kind, "kind");
    DIFF(a->operator_type != b->operator_type, "operator_type");
    DIFF(a->status != b->status, "status");
    DIFF(strcmp(a->name, b->name), "name");
    DIFF(strcmp(a->registration, b->registration), "registration");
    DIFF(strcmp(a->address, b->address), "address");
    DIFF(a->point.lat != b->point.lat || a->point.lon != b->point.lon, "point");
    DIFF(strcmp(a->area_code, b->area_code), "area_code");
    DIFF(strcmp(a->phone, b->phone), "phone");
    DIFF(memcmp(&a->hours, &b->hours, sizeof a->hours), "hours");
    DIFF(a->nclosures != b->nclosures ||
             memcmp(a->closures, b->closures, (size_t)a->nclosures * sizeof a->closures[0]),
         "closures");
    DIFF(a->capacity != b->capacity, "capacity");
    DIFF(a->beds_total != b->beds_total, "beds_total");
    DIFF(a->beds_free != b->beds_free, "beds_free");
    DIFF(a->rating_tenths != b->rating_tenths, "rating");
    DIFF(strcmp(a->consortium, b->consortium), "consortium");
    json_t *sa = services_to_json(a->services, a->nservices);
    json_t *sb = services_to_json(b->services, b->nservices);
    DIFF(!json_equal(sa, sb), "services");
#undef DIFF
    json_decref(sa);
    json_decref(sb);
    return out;
}

struct update_job {
    struct domain *d;
    const struct principal *who;
    int64_t id;
    const struct facility_patch *p;
    struct facility *out;
    bool changed;
    struct facility before, next; /* scratch */
    struct facility_in in;
};

static int update_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct update_job *j = arg;
    bool found;
    int rc = load_facility(c, j->id, &j->before, &found, err);
    if (rc)
        return rc;
    if (!found)
        return linli_fail(err, LINLI_ENOTFOUND, "No facility %lld.", (long long)j->id);
    if (!may_write_area(j->who, j->before.area_code))
        return linli_fail(err, LINLI_EFORBIDDEN, "Facility %lld is in area %s, outside your scope.",
                          (long long)j->id, j->before.area_code);
    facility_as_input(&j->before, &j->in);
    apply_patch(&j->in, j->p);
    if (facility_check(j->d, &j->in, &j->next, err))
        return LINLI_EINVAL;
    j->next.id = j->id;
    if (!may_write_area(j->who, j->next.area_code))
        return forbidden_area(err, j->next.area_code);
    char why[160];
    if (strcmp(j->next.area_code, j->before.area_code)) {
        if ((rc = area_fits(c, j->next.area_code, why, sizeof why, err)) < 0)
            return rc;
        if (rc) {
            linli_field(err, "area_code", "%s", why);
            return linli_fail(err, LINLI_EINVAL, "The facility has invalid fields.");
        }
    }
    int64_t other, rev;
    if ((rc = find_by_key(c, j->next.area_code, j->next.name, &other, err)) < 0)
        return rc;
    if (rc && other != j->id)
        return conflict(err, other, &j->next);
    json_t *changed = changes(&j->before, &j->next);
    if (json_array_size(changed) == 0) {
        json_decref(changed);
        *j->out = j->before;
        return LINLI_OK;
    }
    j->changed = true;
    if ((rc = bump_rev(c, &rev, err)) == LINLI_OK &&
        (rc = store_facility(c, &j->next, rev, err)) == LINLI_OK &&
        (rc = load_facility(c, j->id, j->out, &found, err)) == LINLI_OK)
        rc = audit_facility(c, j->who, "facility.update", j->out, changed, err);
    json_decref(changed);
    return rc;
}

int facilities_update(struct domain *d, const struct principal *who, int64_t id,
                      const struct facility_patch *p, struct facility *out, struct linli_err *err)
{
    if (!writer_role(who))
        return forbidden_role(err, "change facilities");
    struct update_job *j = calloc(1, sizeof *j);
    if (!j)
        return linli_fail(err, LINLI_ENOMEM, "Out of memory.");
    j->d = d;
    j->who = who;
    j->id = id;
    j->p = p;
    j->out = out;
    int rc = store_write(d->store, update_job, j, err);
    bool changed = j->changed;
    free(j);
    if (rc == LINLI_OK && changed) {
        refresh_after_write(d);
        domain_publish(d, "facility.updated", summary(out));
    }
    return rc;
}

/* ---- reads ---- */

struct get_args {
    int64_t id;
    struct facility *out;
    bool found;
};

static int get_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct get_args *a = arg;
    return load_facility(c, a->id, a->out, &a->found, err);
}

int facilities_get(struct domain *d, int64_t id, struct facility *out, struct linli_err *err)
{
    struct get_args a = {id, out, false};
    int rc = store_read(d->store, get_job, &a, err);
    if (rc)
        return rc;
    return a.found ? LINLI_OK
                   : linli_fail(err, LINLI_ENOTFOUND, "No facility %lld.", (long long)id);
}

static const char SQL_LIST[] = "SELECT " DIRECTORY__COLUMNS DIRECTORY__FROM
                               "WHERE f.id > ?1 AND (?2 IS NULL OR f.area_code BETWEEN ?2 AND ?3)"
                               " AND (?4 IS NULL OR f.kind = ?4) AND (?5 IS NULL OR f.status = ?5)"
                               " AND (?6 IS NULL OR EXISTS (SELECT 1 FROM facility_services s"
                               "   WHERE s.facility_id = f.id AND s.code = ?6))"
                               " ORDER BY f.id LIMIT ?7";

struct list_args {
    const struct facility_filter *f;
    struct facility *items;
    int n;
    int64_t next;
};

static int list_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct list_args *a = arg;
    const struct facility_filter *f = a->f;
    sqlite3_stmt *st = store_stmt(c, SQL_LIST, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, f->after_id);
    if (f->area) {
        char lo[AREA_CODE_LEN + 1], hi[AREA_CODE_LEN + 1];
        size_t keep = (size_t[]){6, 9, 12}[area_code_level(f->area)];
        memcpy(lo, f->area, keep);
        memcpy(hi, f->area, keep);
        memset(lo + keep, '0', AREA_CODE_LEN - keep);
        memset(hi + keep, '9', AREA_CODE_LEN - keep);
        lo[AREA_CODE_LEN] = hi[AREA_CODE_LEN] = '\0';
        sqlite3_bind_text(st, 2, lo, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, hi, -1, SQLITE_TRANSIENT);
    }
    if (f->kind >= 0)
        sqlite3_bind_text(st, 4, facility_kind_name(f->kind), -1, SQLITE_STATIC);
    if (f->status >= 0)
        sqlite3_bind_text(st, 5, facility_status_name(f->status), -1, SQLITE_STATIC);
    if (f->service)
        sqlite3_bind_text(st, 6, f->service, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 7, f->limit + 1);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (a->n == f->limit) {
            a->next = a->items[a->n - 1].id;
            break;
        }
        if (directory__read_row(st, &a->items[a->n])) {
            sqlite3_reset(st);
            return linli_fail(err, LINLI_EIO, "Facility %lld has unreadable stored details.",
                              (long long)sqlite3_column_int64(st, 0));
        }
        a->n++;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_fail(c, rc, "listing facilities", err);
    return LINLI_OK;
}

int facilities_list(struct domain *d, const struct facility_filter *f, struct facility **items,
                    int *n, int64_t *next, struct linli_err *err)
{
    *items = NULL;
    *n = 0;
    *next = 0;
    if (f->limit < 1 || f->limit > FACILITIES_PAGE_MAX)
        return linli_field(err, "limit", "must be 1 to %d", FACILITIES_PAGE_MAX);
    struct list_args a = {f, calloc((size_t)f->limit, sizeof(struct facility)), 0, 0};
    if (!a.items)
        return linli_fail(err, LINLI_ENOMEM, "Out of memory.");
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

/* ---- the catalogue ---- */

static const char SQL_OFFER_COUNTS[] =
    "SELECT s.code, count(*) FROM facility_services s JOIN facilities f ON f.id = s.facility_id"
    " WHERE f.status = 'open' GROUP BY s.code";

struct counts_args {
    struct service_def *items;
    int n;
};

static int counts_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct counts_args *a = arg;
    sqlite3_stmt *st = store_stmt(c, SQL_OFFER_COUNTS, err);
    if (!st)
        return err->status;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *code = (const char *)sqlite3_column_text(st, 0);
        for (int i = 0; i < a->n; i++)
            if (code && !strcmp(a->items[i].code, code))
                a->items[i].facilities = sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? LINLI_OK : store_fail(c, rc, "counting offers", err);
}

int services_list(struct domain *d, struct service_def **items, int *n, struct linli_err *err)
{
    *items = calloc(CATALOGUE_MAX, sizeof **items);
    *n = 0;
    if (!*items)
        return linli_fail(err, LINLI_ENOMEM, "Out of memory.");
    struct counts_args a = {*items, 0};
    int rc = directory__catalogue(d, a.items, &a.n, err);
    if (!rc)
        rc = store_read(d->store, counts_job, &a, err);
    if (rc) {
        free(*items);
        *items = NULL;
        return rc;
    }
    *n = a.n;
    return LINLI_OK;
}

static const char SQL_SERVICE_INSERT[] =
    "INSERT INTO services (code, name_zh, name_en, unit, position, created_at)"
    " SELECT ?1, ?2, ?3, ?4, coalesce(max(position), 0) + 1, ?5 FROM services"
    " WHERE (SELECT count(*) FROM services) < ?6"
    " ON CONFLICT (code) DO NOTHING";

struct service_job {
    const struct principal *who;
    const struct service_def *s;
};

static int service_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct service_job *j = arg;
    int64_t rev;
    sqlite3_stmt *st = store_stmt(c, SQL_SERVICE_INSERT, err);
    if (!st)
        return err->status;
    sqlite3_bind_text(st, 1, j->s->code, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, j->s->name_zh, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, j->s->name_en, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, price_unit_name(j->s->unit), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, clock_now_ms());
    sqlite3_bind_int(st, 6, CATALOGUE_MAX);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return store_fail(c, rc, "adding a service", err);
    if (sqlite3_changes(store_db(c)) == 0)
        return linli_fail(err, LINLI_ECONFLICT,
                          "The catalogue already has \"%s\" or is full (%d services).", j->s->code,
                          CATALOGUE_MAX);
    if ((rc = bump_rev(c, &rev, err)))
        return rc;
    json_t *detail = json_pack("{s:s, s:s}", "code", j->s->code, "name_zh", j->s->name_zh);
    char object[48];
    snprintf(object, sizeof object, "service:%s", j->s->code);
    rc = audit_append(c, j->who, "service.create", object, detail, err);
    json_decref(detail);
    return rc;
}

int services_create(struct domain *d, const struct principal *who, const struct service_def *in,
                    struct service_def *out, struct linli_err *err)
{
    if (who->role != ROLE_ADMIN && who->role != ROLE_DISTRICT)
        return linli_fail(err, LINLI_EFORBIDDEN,
                          "Only admins and district staff may change the service catalogue.");
    struct linli_err e;
    linli_err_clear(&e);
    size_t len = strlen(in->code);
    bool code_ok = len >= 1 && len <= SERVICE_CODE_MAX && islower((unsigned char)in->code[0]);
    for (size_t i = 0; code_ok && i < len; i++)
        code_ok = islower((unsigned char)in->code[i]) || isdigit((unsigned char)in->code[i]) ||
                  in->code[i] == '_';
    if (!code_ok)
        linli_field(&e, "code", "must be 1 to %d of a-z, 0-9 and _, starting with a letter",
                    SERVICE_CODE_MAX);
    stations__check_text("name_zh", in->name_zh, SERVICE_NAME_MAX, true, &e);
    stations__check_text("name_en", in->name_en, SERVICE_NAME_MAX, true, &e);
    if (in->unit < 0 || in->unit >= UNIT_UNITS)
        linli_field(&e, "unit", "must be meal, hour, visit, day or month");
    if (stations__merge_fields(err, &e))
        return linli_fail(err, LINLI_EINVAL, "The service has invalid fields.");
    struct service_job j = {who, in};
    int rc = store_write(d->store, service_job, &j, err);
    if (rc)
        return rc;
    refresh_after_write(d);
    *out = *in;
    out->facilities = 0;
    domain_publish(d, "service.created", json_pack("{s:s}", "code", in->code));
    return LINLI_OK;
}

/* ---- import ---- */

static void row_error(struct facility_import_report *rep, long line, const char *field,
                      const char *message)
{
    if (rep->nerrors >= REPORT_ERRORS_MAX)
        return;
    struct facility_row_error *e = &rep->errors[rep->nerrors++];
    e->line = line;
    snprintf(e->field, sizeof e->field, "%s", field ? field : "");
    snprintf(e->message, sizeof e->message, "%s", message);
}

struct import_job {
    const struct principal *who;
    struct facility *rows; /* checked */
    bool *bad;
    const long *lines;
    size_t n;
    const struct facility_import_opts *o;
    struct facility_import_report *rep;
    bool write; /* false: check the areas and count what would be written */
};

/* Checks each good row's area against the store (marking and reporting the
 * bad ones) and counts the rows that would update an existing facility. */
static int import_check_areas(struct store_conn *c, struct import_job *j, struct linli_err *err)
{
    char why[160];
    int rc;
    j->rep->created = j->rep->updated = 0;
    for (size_t i = 0; i < j->n; i++) {
        if (j->bad[i])
            continue;
        if ((rc = area_fits(c, j->rows[i].area_code, why, sizeof why, err)) < 0)
            return rc;
        if (rc) {
            j->bad[i] = true;
            j->rep->bad++;
            row_error(j->rep, j->lines ? j->lines[i] : (long)i + 1, "area_code", why);
            continue;
        }
        int64_t id = 0;
        if ((rc = find_by_key(c, j->rows[i].area_code, j->rows[i].name, &id, err)) < 0)
            return rc;
        j->rows[i].id = rc ? id : 0;
        if (rc)
            j->rep->updated++;
        else
            j->rep->created++;
    }
    return LINLI_OK;
}

/* Check pass (a read job) or write pass (a write job: the areas are checked
 * again, since they may have changed in between; one revision, one audit
 * entry). */
static int import_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct import_job *j = arg;
    long bad_before = j->rep->bad;
    int rc = import_check_areas(c, j, err);
    if (rc || !j->write)
        return rc;
    if (j->rep->bad > bad_before && !j->o->skip_bad)
        return linli_fail(err, LINLI_EINVAL, "%ld of %ld rows are bad; nothing was imported.",
                          j->rep->bad, j->rep->rows);
    int64_t rev;
    if ((rc = bump_rev(c, &rev, err)))
        return rc;
    for (size_t i = 0; i < j->n; i++)
        if (!j->bad[i] && (rc = store_facility(c, &j->rows[i], rev, err)))
            return rc;
    json_t *detail = json_pack("{s:I, s:I, s:I, s:s}", "rows", (json_int_t)j->rep->rows,
                               "created", (json_int_t)j->rep->created, "updated",
                               (json_int_t)j->rep->updated, "source",
                               j->o->source ? j->o->source : "");
    rc = audit_append(c, j->who, "facility.import", "facilities", detail, err);
    json_decref(detail);
    return rc;
}

int facilities_import(struct domain *d, const struct principal *who, const struct facility_in *rows,
                      const long *lines, size_t n, const struct facility_import_opts *o,
                      struct facility_import_report *rep, struct linli_err *err)
{
    memset(rep, 0, sizeof *rep);
    if (!writer_role(who))
        return forbidden_role(err, "import facilities");
    if (n > FACILITY_IMPORT_MAX)
        return linli_fail(err, LINLI_ETOOBIG, "At most %d facilities in one import; this has %zu.",
                          FACILITY_IMPORT_MAX, n);
    rep->rows = (long)n;
    rep->errors = calloc(REPORT_ERRORS_MAX, sizeof *rep->errors);
    struct facility *checked = calloc(n ? n : 1, sizeof *checked);
    bool *bad = calloc(n ? n : 1, sizeof *bad);
    if (!rep->errors || !checked || !bad) {
        free(checked);
        free(bad);
        return linli_fail(err, LINLI_ENOMEM, "Out of memory for the import.");
    }
    for (size_t i = 0; i < n; i++) {
        long line = lines ? lines[i] : (long)i + 1;
        struct linli_err e;
        linli_err_clear(&e);
        if (facility_check(d, &rows[i], &checked[i], &e)) {
            for (int k = 0; k < e.nfields; k++)
                row_error(rep, line, e.fields[k].field, e.fields[k].message);
            bad[i] = true;
        } else if (!may_write_area(who, checked[i].area_code)) {
            row_error(rep, line, "area_code", "is outside your scope");
            bad[i] = true;
        } else {
            for (size_t k = 0; k < i; k++) {
                if (!bad[k] && !strcmp(checked[k].area_code, checked[i].area_code) &&
                    !strcmp(checked[k].name, checked[i].name)) {
                    char msg[96];
                    snprintf(msg, sizeof msg, "repeats the name and area of line %ld",
                             lines ? lines[k] : (long)k + 1);
                    row_error(rep, line, "name", msg);
                    bad[i] = true;
                    break;
                }
            }
        }
        rep->bad += bad[i];
    }
    /* The store's checks run on every row that passed the others, so one
     * run reports every problem of the file. */
    struct import_job j = {who, checked, bad, lines, n, o, rep, false};
    int rc = store_read(d->store, import_job, &j, err);
    if (!rc && rep->bad && !o->skip_bad)
        rc = linli_fail(err, LINLI_EINVAL, "%ld of %ld rows are bad; nothing was imported.",
                        rep->bad, rep->rows);
    if (!rc && !o->dry_run) {
        j.write = true;
        rc = store_write(d->store, import_job, &j, err);
        if (rc) {
            rep->created = rep->updated = 0;
        } else {
            refresh_after_write(d);
            domain_publish(d, "facility.imported",
                           json_pack("{s:I, s:I}", "created", (json_int_t)rep->created, "updated",
                                     (json_int_t)rep->updated));
        }
    } else if (rc) {
        rep->created = rep->updated = 0;
    }
    free(checked);
    free(bad);
    return rc;
}

void facility_import_report_free(struct facility_import_report *rep)
{
    free(rep->errors);
    rep->errors = NULL;
    rep->nerrors = 0;
}
