/* cases_units.c - who handles cases: units (departments, and areas as units
 * by their codes), the accounts that are members of a unit, and the routing
 * rules (category x area -> unit and co-handlers). Reads are for staff (the
 * unit list for any account); changes are an admin's or the district's,
 * audited in their own job. */
#include "domain/cases.h"

#include "base/clock.h"
#include "domain/audit.h"
#include "domain/cases_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- units ---- */

static const char SQL_DEPARTMENTS[] =
    "SELECT d.code, d.name_zh, d.name_en,"
    " (SELECT COUNT(*) FROM unit_members m WHERE m.unit_code = d.code)"
    " FROM case_departments d WHERE ?1 IS NULL OR d.code = ?1 ORDER BY d.code";
static const char SQL_AREA_UNITS[] =
    "SELECT a.code, a.name, a.level, COALESCE(a.parent_code, ''),"
    " (SELECT COUNT(*) FROM unit_members m WHERE m.unit_code = a.code)"
    " FROM areas a WHERE a.retired_edition IS NULL"
    " AND (?1 IS NULL OR a.code = ?1) AND (?2 < 0 OR a.level = ?2)"
    " AND (?3 IS NULL OR a.code BETWEEN ?3 AND ?4) ORDER BY a.code LIMIT 5000";
static const char SQL_DEPARTMENT_INSERT[] =
    "INSERT INTO case_departments (code, name_zh, name_en, created_at) VALUES (?, ?, ?, ?)";
static const char SQL_MEMBER_INSERT[] =
    "INSERT INTO unit_members (unit_code, user_id, added_at) VALUES (?, ?, ?)"
    " ON CONFLICT (unit_code, user_id) DO NOTHING";
static const char SQL_MEMBER_DELETE[] =
    "DELETE FROM unit_members WHERE unit_code = ? AND user_id = ?";
static const char SQL_MEMBERS[] =
    "SELECT user_id FROM unit_members WHERE unit_code = ? ORDER BY user_id LIMIT 10000";
static const char SQL_USER_ROLE[] = "SELECT role FROM users WHERE id = ?";

struct units_job {
    const char *code;
    int kind; /* -1 = departments, else an area level */
    const char *parent;
    const char *district; /* parent of departments */
    struct case_unit *items;
    int n, cap;
};

static struct case_unit *units_push(struct units_job *j, struct linli_err *err)
{
    if (j->n == j->cap) {
        int cap = j->cap ? j->cap * 2 : 32;
        struct case_unit *more = realloc(j->items, (size_t)cap * sizeof *more);
        if (!more) {
            linli_fail(err, LINLI_ENOMEM, "Out of memory.");
            return NULL;
        }
        j->items = more;
        j->cap = cap;
    }
    struct case_unit *u = &j->items[j->n++];
    memset(u, 0, sizeof *u);
    return u;
}

static int units_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct units_job *j = arg;
    int rc;
    bool departments = j->kind == UNIT_DEPARTMENT || (j->code && case_unit_is_department(j->code));
    sqlite3_stmt *st = store_stmt(c, departments ? SQL_DEPARTMENTS : SQL_AREA_UNITS, err);
    if (!st)
        return err->status;
    cases__bind_text(st, 1, j->code);
    char lo[AREA_CODE_LEN + 1], hi[AREA_CODE_LEN + 1];
    if (!departments) {
        int level = j->kind == UNIT_DISTRICT    ? 0
                    : j->kind == UNIT_STREET    ? 1
                    : j->kind == UNIT_COMMUNITY ? 2
                                                : -1;
        sqlite3_bind_int(st, 2, level);
        if (j->parent && *j->parent) {
            size_t keep = (size_t[]){6, 9, 12}[area_code_level(j->parent)];
            memcpy(lo, j->parent, keep);
            memcpy(hi, j->parent, keep);
            memset(lo + keep, '0', AREA_CODE_LEN - keep);
            memset(hi + keep, '9', AREA_CODE_LEN - keep);
            lo[AREA_CODE_LEN] = hi[AREA_CODE_LEN] = '\0';
            sqlite3_bind_text(st, 3, lo, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 4, hi, -1, SQLITE_TRANSIENT);
        }
    }
    char district[AREA_CODE_LEN + 1] = "";
    if (departments && (rc = cases__district(c, NULL, NULL, district, err))) {
        sqlite3_reset(st);
        return rc;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct case_unit *u = units_push(j, err);
        if (!u) {
            sqlite3_reset(st);
            return err->status;
        }
        cases__col(u->code, sizeof u->code, st, 0);
        cases__col(u->name_zh, sizeof u->name_zh, st, 1);
        if (departments) {
            u->kind = UNIT_DEPARTMENT;
            cases__col(u->name_en, sizeof u->name_en, st, 2);
            snprintf(u->parent, sizeof u->parent, "%s", j->district ? j->district : district);
            u->members = sqlite3_column_int64(st, 3);
        } else {
            int level = sqlite3_column_int(st, 2);
            u->kind = level == 0 ? UNIT_DISTRICT : level == 1 ? UNIT_STREET : UNIT_COMMUNITY;
            cases__col(u->parent, sizeof u->parent, st, 3);
            u->members = sqlite3_column_int64(st, 4);
        }
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? LINLI_OK : store_fail(c, rc, "reading units", err);
}

int case_units_get(struct domain *d, const char *code, struct case_unit *out, struct linli_err *err)
{
    linli_err_clear(err);
    char norm[CASE_UNIT_CODE_MAX + 1];
    const char *why;
    if (!case_unit_is_department(code)) {
        char area[AREA_CODE_LEN + 1];
        if (area_code_normalize(code, area, &why))
            return linli_fail(err, LINLI_ENOTFOUND, "No unit %s.", code);
        snprintf(norm, sizeof norm, "%s", area);
    } else {
        snprintf(norm, sizeof norm, "%s", code);
    }
    struct units_job j = {norm, -1, NULL, d->boundary_code[0] ? d->boundary_code : NULL,
                          NULL, 0,  0};
    int rc = store_read(d->store, units_job, &j, err);
    if (!rc && j.n == 0)
        rc = linli_fail(err, LINLI_ENOTFOUND, "No unit %s.", code);
    if (!rc)
        *out = j.items[0];
    free(j.items);
    return rc;
}

int case_units_list(struct domain *d, const struct principal *who, int kind, const char *parent,
                    struct case_unit **items, int *n, struct linli_err *err)
{
    linli_err_clear(err);
    if (!who)
        return linli_fail(err, LINLI_EUNAUTH, "Log in first.");
    char p[AREA_CODE_LEN + 1] = "";
    if (parent && *parent) {
        const char *why;
        if (area_code_normalize(parent, p, &why))
            return linli_field(err, "parent", "%s", why);
    }
    struct units_job j = {NULL,
                          kind < 0 ? UNIT_DEPARTMENT : kind,
                          p[0] ? p : NULL,
                          d->boundary_code[0] ? d->boundary_code : NULL,
                          NULL,
                          0,
                          0};
    int rc = store_read(d->store, units_job, &j, err);
    if (rc) {
        free(j.items);
        return rc;
    }
    *items = j.items;
    *n = j.n;
    return LINLI_OK;
}

struct dept_job {
    const struct principal *who;
    const char *code, *name_zh, *name_en;
};

static int dept_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct dept_job *j = arg;
    int rc = cases__may_configure(c, j->who, err);
    if (rc)
        return rc;
    sqlite3_stmt *st = store_stmt(c, SQL_DEPARTMENT_INSERT, err);
    if (!st)
        return err->status;
    sqlite3_bind_text(st, 1, j->code, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, j->name_zh, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, j->name_en ? j->name_en : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 4, clock_now_ms());
    rc = sqlite3_step(st);
    if (rc == SQLITE_CONSTRAINT)
        return linli_fail(err, LINLI_ECONFLICT, "Department %s exists already.", j->code);
    if (rc != SQLITE_DONE)
        return store_fail(c, rc, "adding a department", err);
    json_t *detail = json_pack("{s:s, s:s}", "code", j->code, "name_zh", j->name_zh);
    char object[48];
    snprintf(object, sizeof object, "unit:%s", j->code);
    rc = audit_append(c, j->who, "unit.create", object, detail, err);
    json_decref(detail);
    return rc;
}

int case_units_create_department(struct domain *d, const struct principal *who, const char *code,
                                 const char *name_zh, const char *name_en, struct case_unit *out,
                                 struct linli_err *err)
{
    linli_err_clear(err);
    if (!code || !case_unit_is_department(code))
        linli_field(err, "code",
                    "must be \"dept-\" followed by a-z, 0-9 or '_' (at most %d "
                    "characters in all)",
                    CASE_UNIT_CODE_MAX);
    cases__check_text("name_zh", name_zh, CASE_UNIT_NAME_MAX, true, false, err);
    cases__check_text("name_en", name_en, CASE_UNIT_NAME_MAX, false, false, err);
    if (err->nfields)
        return LINLI_EINVAL;
    struct dept_job j = {who, code, name_zh, name_en};
    int rc = store_write(d->store, dept_job, &j, err);
    return rc ? rc : case_units_get(d, code, out, err);
}

struct member_job {
    const struct principal *who;
    char unit[CASE_UNIT_CODE_MAX + 1];
    int64_t user_id;
    bool add;
};

static int member_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct member_job *j = arg;
    int rc = cases__may_configure(c, j->who, err);
    if (rc)
        return rc;
    char why[96], unit[CASE_UNIT_CODE_MAX + 1];
    if ((rc = cases__unit_exists(c, j->unit, unit, why, sizeof why, err)) < 0)
        return rc;
    if (rc)
        return linli_fail(err, LINLI_ENOTFOUND, "No unit %s: %s.", j->unit, why);
    sqlite3_stmt *st;
    if (j->add) {
        if (!(st = store_stmt(c, SQL_USER_ROLE, err)))
            return err->status;
        sqlite3_bind_int64(st, 1, j->user_id);
        rc = sqlite3_step(st);
        char role[16] = "";
        if (rc == SQLITE_ROW)
            cases__col(role, sizeof role, st, 0);
        sqlite3_reset(st);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            return store_fail(c, rc, "reading an account", err);
        if (rc == SQLITE_DONE)
            return linli_field(err, "user_id", "no account has this id");
        if (!strcmp(role, "resident") || !strcmp(role, "volunteer") || !strcmp(role, "provider"))
            return linli_field(err, "user_id", "a %s account cannot act for a unit", role);
    }
    if (!(st = store_stmt(c, j->add ? SQL_MEMBER_INSERT : SQL_MEMBER_DELETE, err)))
        return err->status;
    sqlite3_bind_text(st, 1, unit, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, j->user_id);
    if (j->add)
        sqlite3_bind_int64(st, 3, clock_now_ms());
    if ((rc = sqlite3_step(st)) != SQLITE_DONE)
        return store_fail(c, rc, "changing unit members", err);
    if (sqlite3_changes(store_db(c)) == 0)
        return j->add ? linli_fail(err, LINLI_ECONFLICT, "User %lld is a member of %s already.",
                                   (long long)j->user_id, unit)
                      : linli_fail(err, LINLI_ENOTFOUND, "User %lld is not a member of %s.",
                                   (long long)j->user_id, unit);
    json_t *detail = json_pack("{s:s, s:I}", "unit", unit, "user_id", (json_int_t)j->user_id);
    char object[48];
    snprintf(object, sizeof object, "unit:%s", unit);
    rc = audit_append(c, j->who, j->add ? "unit.member_add" : "unit.member_remove", object, detail,
                      err);
    json_decref(detail);
    return rc;
}

static int change_member(struct domain *d, const struct principal *who, const char *unit,
                         int64_t user_id, bool add, struct linli_err *err)
{
    linli_err_clear(err);
    if (!unit || strlen(unit) > CASE_UNIT_CODE_MAX)
        return linli_fail(err, LINLI_ENOTFOUND, "No such unit.");
    struct member_job j = {who, "", user_id, add};
    snprintf(j.unit, sizeof j.unit, "%s", unit);
    return store_write(d->store, member_job, &j, err);
}

int case_units_add_member(struct domain *d, const struct principal *who, const char *unit,
                          int64_t user_id, struct linli_err *err)
{
    return change_member(d, who, unit, user_id, true, err);
}

int case_units_remove_member(struct domain *d, const struct principal *who, const char *unit,
                             int64_t user_id, struct linli_err *err)
{
    return change_member(d, who, unit, user_id, false, err);
}

struct members_job {
    char unit[CASE_UNIT_CODE_MAX + 1];
    int64_t *ids;
    int n;
};

static int members_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct members_job *j = arg;
    char why[96], unit[CASE_UNIT_CODE_MAX + 1];
    int rc = cases__unit_exists(c, j->unit, unit, why, sizeof why, err);
    if (rc < 0)
        return rc;
    if (rc)
        return linli_fail(err, LINLI_ENOTFOUND, "No unit %s.", j->unit);
    sqlite3_stmt *st = store_stmt(c, SQL_MEMBERS, err);
    if (!st)
        return err->status;
    sqlite3_bind_text(st, 1, unit, -1, SQLITE_TRANSIENT);
    int cap = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (j->n == cap) {
            cap = cap ? cap * 2 : 16;
            int64_t *more = realloc(j->ids, (size_t)cap * sizeof *more);
            if (!more) {
                sqlite3_reset(st);
                return linli_fail(err, LINLI_ENOMEM, "Out of memory.");
            }
            j->ids = more;
        }
        j->ids[j->n++] = sqlite3_column_int64(st, 0);
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? LINLI_OK : store_fail(c, rc, "reading unit members", err);
}

int case_units_members(struct domain *d, const struct principal *who, const char *unit,
                       int64_t **ids, int *n, struct linli_err *err)
{
    linli_err_clear(err);
    int rc = cases__staff_only(who, err);
    if (rc)
        return rc;
    struct members_job j = {"", NULL, 0};
    snprintf(j.unit, sizeof j.unit, "%s", unit ? unit : "");
    if ((rc = store_read(d->store, members_job, &j, err))) {
        free(j.ids);
        return rc;
    }
    *ids = j.ids;
    *n = j.n;
    return LINLI_OK;
}

struct units_of_job {
    const struct principal *who;
    struct case_actor a;
};

static int units_of_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct units_of_job *j = arg;
    return cases__actor(c, j->who, &j->a, err);
}

int case_units_of(struct domain *d, const struct principal *who,
                  char (**units)[CASE_UNIT_CODE_MAX + 1], int *n, bool *all, struct linli_err *err)
{
    linli_err_clear(err);
    *units = NULL;
    *n = 0;
    *all = who->role == ROLE_ADMIN || cases__is_system(who);
    if (*all)
        return LINLI_OK;
    struct units_of_job *j = calloc(1, sizeof *j);
    if (!j)
        return linli_fail(err, LINLI_ENOMEM, "Out of memory.");
    j->who = who;
    int rc = store_read(d->store, units_of_job, j, err);
    if (rc) {
        free(j);
        return rc;
    }
    *units = calloc((size_t)j->a.nmember + 1, sizeof **units);
    if (!*units) {
        free(j);
        return linli_fail(err, LINLI_ENOMEM, "Out of memory.");
    }
    for (int i = 0; i < j->a.nmember; i++)
        memcpy((*units)[(*n)++], j->a.member[i], CASE_UNIT_CODE_MAX + 1);
    bool area_staff = (who->role == ROLE_STREET || who->role == ROLE_COMMUNITY ||
                       (who->role == ROLE_DISTRICT && j->a.nmember == 0)) &&
                      who->scope[0];
    for (int i = 0; area_staff && i < *n; i++)
        if (!strcmp((*units)[i], who->scope))
            area_staff = false; /* a member of it as well: listed once */
    if (area_staff)
        snprintf((*units)[(*n)++], CASE_UNIT_CODE_MAX + 1, "%s", who->scope);
    free(j);
    return LINLI_OK;
}

struct acting_job {
    struct domain *d;
    char (*codes)[CASE_UNIT_CODE_MAX + 1];
    int n;
    struct case_unit *items; /* n of them, in the order of codes */
};

static int acting_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct acting_job *a = arg;
    const char *district = a->d->boundary_code[0] ? a->d->boundary_code : NULL;
    for (int i = 0; i < a->n; i++) {
        struct units_job j = {a->codes[i], -1, NULL, district, NULL, 0, 0};
        int rc = units_job(c, &j, err);
        struct case_unit *u = &a->items[i];
        if (!rc && j.n > 0) {
            *u = j.items[0];
        } else if (!rc) { /* an area retired since: still the account's unit */
            memset(u, 0, sizeof *u);
            snprintf(u->code, sizeof u->code, "%s", a->codes[i]);
            int level = area_code_level(u->code);
            u->kind = case_unit_is_department(u->code) ? UNIT_DEPARTMENT
                      : level == 0                     ? UNIT_DISTRICT
                      : level == 1                     ? UNIT_STREET
                                                       : UNIT_COMMUNITY;
        }
        free(j.items);
        if (rc)
            return rc;
    }
    return LINLI_OK;
}

int case_units_acting(struct domain *d, const struct principal *who, struct case_unit **units,
                      int *n, bool *all, struct linli_err *err)
{
    *units = NULL;
    *n = 0;
    struct acting_job a = {d, NULL, 0, NULL};
    int rc = case_units_of(d, who, &a.codes, &a.n, all, err);
    if (rc || a.n == 0) {
        free(a.codes);
        return rc;
    }
    a.items = calloc((size_t)a.n, sizeof *a.items);
    if (!a.items) {
        free(a.codes);
        return linli_fail(err, LINLI_ENOMEM, "Out of memory.");
    }
    rc = store_read(d->store, acting_job, &a, err);
    free(a.codes);
    if (rc) {
        free(a.items);
        return rc;
    }
    *units = a.items;
    *n = a.n;
    return LINLI_OK;
}

/* ---- routing rules ---- */

static const char SQL_ROUTES[] =
    "SELECT id, COALESCE(category, ''), COALESCE(area, ''), unit, co_units, created_at,"
    " retired_at FROM case_routes WHERE ?1 = 1 OR retired_at IS NULL ORDER BY id LIMIT 1000";
static const char SQL_ROUTE_SAME[] =
    "SELECT id FROM case_routes WHERE retired_at IS NULL AND COALESCE(category, '') = ?"
    " AND COALESCE(area, '') = ?";
static const char SQL_ROUTE_INSERT[] =
    "INSERT INTO case_routes (category, area, unit, co_units, created_at) VALUES (?, ?, ?, ?, ?)"
    " RETURNING id";
static const char SQL_ROUTE_RETIRE[] =
    "UPDATE case_routes SET retired_at = ? WHERE id = ? AND retired_at IS NULL";
static const char SQL_CATEGORY_EXISTS[] = "SELECT 1 FROM case_categories WHERE code = ?";

static void route_from_row(sqlite3_stmt *st, struct case_route *r)
{
    memset(r, 0, sizeof *r);
    r->id = sqlite3_column_int64(st, 0);
    cases__col(r->category, sizeof r->category, st, 1);
    cases__col(r->area, sizeof r->area, st, 2);
    cases__col(r->unit, sizeof r->unit, st, 3);
    json_t *arr = json_loads((const char *)sqlite3_column_text(st, 4), 0, NULL);
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        if (json_is_string(v) && r->nco < CASE_UNITS_MAX - 1)
            snprintf(r->co_units[r->nco++], CASE_UNIT_CODE_MAX + 1, "%s", json_string_value(v));
    }
    json_decref(arr);
    r->created_at = sqlite3_column_int64(st, 5);
    r->retired_at = sqlite3_column_type(st, 6) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, 6);
}

struct routes_job {
    bool retired;
    struct case_route *items;
    int n;
};

static int routes_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct routes_job *j = arg;
    sqlite3_stmt *st = store_stmt(c, SQL_ROUTES, err);
    if (!st)
        return err->status;
    sqlite3_bind_int(st, 1, j->retired ? 1 : 0);
    int cap = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (j->n == cap) {
            cap = cap ? cap * 2 : 16;
            struct case_route *more = realloc(j->items, (size_t)cap * sizeof *more);
            if (!more) {
                sqlite3_reset(st);
                return linli_fail(err, LINLI_ENOMEM, "Out of memory.");
            }
            j->items = more;
        }
        route_from_row(st, &j->items[j->n++]);
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? LINLI_OK : store_fail(c, rc, "reading routing rules", err);
}

int case_routes_list(struct domain *d, const struct principal *who, bool include_retired,
                     struct case_route **items, int *n, struct linli_err *err)
{
    linli_err_clear(err);
    int rc = cases__staff_only(who, err);
    if (rc)
        return rc;
    struct routes_job j = {include_retired, NULL, 0};
    if ((rc = store_read(d->store, routes_job, &j, err))) {
        free(j.items);
        return rc;
    }
    *items = j.items;
    *n = j.n;
    return LINLI_OK;
}

struct route_write {
    const struct principal *who;
    const struct case_route_in *in;
    char area[AREA_CODE_LEN + 1];
    struct case_route *out;
};

/* Checks one target of a rule: a unit, or @community / @street. */
static int route_target(struct store_conn *c, const char *field, const char *code,
                        char out[CASE_UNIT_CODE_MAX + 1], struct linli_err *err)
{
    if (!code || !*code)
        return linli_field(err, field, "is required");
    if (!strcmp(code, CASE_ROUTE_OWN_COMMUNITY) || !strcmp(code, CASE_ROUTE_OWN_STREET)) {
        snprintf(out, CASE_UNIT_CODE_MAX + 1, "%s", code);
        return LINLI_OK;
    }
    char why[96];
    int rc = cases__unit_exists(c, code, out, why, sizeof why, err);
    if (rc < 0)
        return rc;
    if (rc)
        linli_field(err, field, "%s (or use @community or @street)", why);
    return LINLI_OK;
}

static int route_write_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct route_write *j = arg;
    const struct case_route_in *in = j->in;
    int rc = cases__may_configure(c, j->who, err);
    if (rc)
        return rc;
    sqlite3_stmt *st;
    if (in->category && *in->category) {
        if (!(st = store_stmt(c, SQL_CATEGORY_EXISTS, err)))
            return err->status;
        sqlite3_bind_text(st, 1, in->category, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc == SQLITE_DONE)
            linli_field(err, "category", "no category %s", in->category);
        else if (rc != SQLITE_ROW)
            return store_fail(c, rc, "reading a category", err);
    }
    char unit[CASE_UNIT_CODE_MAX + 1], why[96], area_unit[CASE_UNIT_CODE_MAX + 1];
    if (j->area[0]) {
        if ((rc = cases__unit_exists(c, j->area, area_unit, why, sizeof why, err)) < 0)
            return rc;
        if (rc)
            linli_field(err, "area", "%s", why);
    }
    if ((rc = route_target(c, "unit", in->unit, unit, err)) < 0)
        return rc;
    char co[CASE_UNITS_MAX - 1][CASE_UNIT_CODE_MAX + 1];
    json_t *co_json = json_array();
    for (int i = 0; i < in->nco; i++) {
        char f[24];
        snprintf(f, sizeof f, "co_units[%d]", i);
        if ((rc = route_target(c, f, in->co_units[i], co[i], err)) < 0) {
            json_decref(co_json);
            return rc;
        }
        for (int k = 0; k < i; k++)
            if (!strcmp(co[k], co[i]))
                linli_field(err, f, "is listed twice");
        if (!strcmp(co[i], unit))
            linli_field(err, f, "is the lead unit");
        json_array_append_new(co_json, json_string(co[i]));
    }
    if (err->nfields) {
        json_decref(co_json);
        return LINLI_EINVAL;
    }
    if (!(st = store_stmt(c, SQL_ROUTE_SAME, err))) {
        json_decref(co_json);
        return err->status;
    }
    sqlite3_bind_text(st, 1, in->category ? in->category : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, j->area, -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(st);
    int64_t other = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        json_decref(co_json);
        return store_fail(c, rc, "reading routing rules", err);
    }
    if (other) {
        json_decref(co_json);
        return linli_fail(err, LINLI_ECONFLICT,
                          "Rule %lld already routes this category and area: retire it first.",
                          (long long)other);
    }
    char *co_text = json_dumps(co_json, JSON_COMPACT);
    if (!(st = store_stmt(c, SQL_ROUTE_INSERT, err))) {
        free(co_text);
        json_decref(co_json);
        return err->status;
    }
    cases__bind_text(st, 1, in->category);
    cases__bind_text(st, 2, j->area);
    sqlite3_bind_text(st, 3, unit, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, co_text ? co_text : "[]", -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 5, clock_now_ms());
    rc = sqlite3_step(st);
    free(co_text);
    if (rc != SQLITE_ROW) {
        json_decref(co_json);
        return store_fail(c, rc, "adding a routing rule", err);
    }
    int64_t id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    json_t *detail = json_pack("{s:s, s:s, s:s, s:o}", "category", in->category ? in->category : "",
                               "area", j->area, "unit", unit, "co_units", co_json);
    char object[40];
    snprintf(object, sizeof object, "case_route:%lld", (long long)id);
    rc = audit_append(c, j->who, "case_route.create", object, detail, err);
    json_decref(detail);
    if (rc)
        return rc;
    struct routes_job all = {true, NULL, 0};
    if ((rc = routes_job(c, &all, err))) {
        free(all.items);
        return rc;
    }
    for (int i = 0; i < all.n; i++)
        if (all.items[i].id == id)
            *j->out = all.items[i];
    free(all.items);
    return LINLI_OK;
}

int case_routes_create(struct domain *d, const struct principal *who,
                       const struct case_route_in *in, struct case_route *out,
                       struct linli_err *err)
{
    linli_err_clear(err);
    struct route_write j = {who, in, "", out};
    if (in->area && *in->area) {
        const char *why;
        if (area_code_normalize(in->area, j.area, &why))
            linli_field(err, "area", "%s", why);
    }
    if (in->nco < 0 || in->nco > CASE_UNITS_MAX - 1)
        linli_field(err, "co_units", "at most %d units", CASE_UNITS_MAX - 1);
    if (err->nfields)
        return LINLI_EINVAL;
    return store_write(d->store, route_write_job, &j, err);
}

struct retire_job {
    const struct principal *who;
    int64_t id;
};

static int retire_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct retire_job *j = arg;
    int rc = cases__may_configure(c, j->who, err);
    if (rc)
        return rc;
    sqlite3_stmt *st = store_stmt(c, SQL_ROUTE_RETIRE, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, clock_now_ms());
    sqlite3_bind_int64(st, 2, j->id);
    if ((rc = sqlite3_step(st)) != SQLITE_DONE)
        return store_fail(c, rc, "retiring a routing rule", err);
    if (sqlite3_changes(store_db(c)) == 0)
        return linli_fail(err, LINLI_ENOTFOUND, "No routing rule %lld in force.", (long long)j->id);
    char object[40];
    snprintf(object, sizeof object, "case_route:%lld", (long long)j->id);
    return audit_append(c, j->who, "case_route.retire", object, NULL, err);
}

int case_routes_retire(struct domain *d, const struct principal *who, int64_t id,
                       struct linli_err *err)
{
    linli_err_clear(err);
    struct retire_job j = {who, id};
    return store_write(d->store, retire_job, &j, err);
}
