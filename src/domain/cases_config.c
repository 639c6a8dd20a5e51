/* cases_config.c - how the district sets up its case handling: who may
 * configure it, the settings (auto-close days, report-in minutes) and the
 * categories (bilingual, with deadline limits and Open311 attribute
 * definitions). Units and routing rules are in cases_units.c. Every change is
 * an admin's or the district's, audited in its own job. */
#include "domain/cases.h"

#include "base/clock.h"
#include "domain/audit.h"
#include "domain/cases_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CASE_SETTINGS_CLOSE_MAX     90
#define CASE_SETTINGS_REPORT_IN_MIN 5
#define CASE_SETTINGS_REPORT_IN_MAX 1440

/* Admins and district staff configure case handling; a district account in
 * a department is department staff and does not. */
int cases__may_configure(struct store_conn *c, const struct principal *who, struct linli_err *err)
{
    if (who->role == ROLE_ADMIN || cases__is_system(who))
        return LINLI_OK;
    if (who->role == ROLE_DISTRICT) {
        struct case_actor a;
        int rc = cases__actor(c, who, &a, err);
        if (rc)
            return rc;
        if (a.nmember == 0)
            return LINLI_OK;
    }
    return linli_fail(err, LINLI_EFORBIDDEN,
                      "Only admins and district staff change how cases are handled.");
}

static bool staff(const struct principal *who)
{
    return who &&
           (who->role == ROLE_ADMIN || who->role == ROLE_DISTRICT || who->role == ROLE_STREET ||
            who->role == ROLE_COMMUNITY || who->role == ROLE_OPERATOR ||
            who->role == ROLE_AUDITOR || cases__is_system(who));
}

int cases__staff_only(const struct principal *who, struct linli_err *err)
{
    return staff(who) ? LINLI_OK : linli_fail(err, LINLI_EFORBIDDEN, "Only staff read this.");
}

/* ---- settings ---- */

static int settings_read_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    return cases__settings(c, arg, err);
}

int cases_settings_get(struct domain *d, struct case_settings *out, struct linli_err *err)
{
    linli_err_clear(err);
    return store_read(d->store, settings_read_job, out, err);
}

static const char SQL_SETTINGS_SET[] =
    "UPDATE case_settings SET auto_close_days = ?, report_in_minutes = ?, updated_at = ?"
    " WHERE id = 1";

struct settings_job {
    const struct principal *who;
    const struct case_settings *in;
};

static int settings_write_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct settings_job *j = arg;
    sqlite3_stmt *st = store_stmt(c, SQL_SETTINGS_SET, err);
    if (!st)
        return err->status;
    sqlite3_bind_int(st, 1, j->in->auto_close_days);
    sqlite3_bind_int(st, 2, j->in->report_in_minutes);
    sqlite3_bind_int64(st, 3, clock_now_ms());
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        return store_fail(c, rc, "changing case settings", err);
    json_t *detail = json_pack("{s:i, s:i}", "auto_close_days", j->in->auto_close_days,
                               "report_in_minutes", j->in->report_in_minutes);
    rc = audit_append(c, j->who, "case.settings", "case_settings", detail, err);
    json_decref(detail);
    return rc;
}

int cases_settings_set(struct domain *d, const struct principal *who,
                       const struct case_settings *in, struct linli_err *err)
{
    linli_err_clear(err);
    if (who->role != ROLE_ADMIN && !cases__is_system(who))
        return linli_fail(err, LINLI_EFORBIDDEN, "Only admins change case settings.");
    if (in->auto_close_days < 1 || in->auto_close_days > CASE_SETTINGS_CLOSE_MAX)
        linli_field(err, "auto_close_days", "must be from 1 to %d", CASE_SETTINGS_CLOSE_MAX);
    if (in->report_in_minutes < CASE_SETTINGS_REPORT_IN_MIN ||
        in->report_in_minutes > CASE_SETTINGS_REPORT_IN_MAX)
        linli_field(err, "report_in_minutes", "must be from %d to %d", CASE_SETTINGS_REPORT_IN_MIN,
                    CASE_SETTINGS_REPORT_IN_MAX);
    if (err->nfields)
        return LINLI_EINVAL;
    struct settings_job j = {who, in};
    return store_write(d->store, settings_write_job, &j, err);
}

/* ---- categories ---- */

#define CATEGORY_COLUMNS                                                                           \
    "code, name_zh, name_en, description, grp, deadline_class, response_minutes,"                  \
    " resolve_minutes, active, attributes, created_at, updated_at"

static const char SQL_CATEGORIES[] = "SELECT " CATEGORY_COLUMNS " FROM case_categories"
                                     " WHERE ?1 = 1 OR active = 1 ORDER BY position, code";
static const char SQL_CATEGORY_GET[] =
    "SELECT " CATEGORY_COLUMNS " FROM case_categories WHERE code = ?";
static const char SQL_CATEGORY_INSERT[] =
    "INSERT INTO case_categories (code, name_zh, name_en, description, grp, deadline_class,"
    " response_minutes, resolve_minutes, active, attributes, position, created_at, updated_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,"
    " (SELECT COALESCE(MAX(position), 0) + 1 FROM case_categories), ?11, ?11)";
static const char SQL_CATEGORY_UPDATE[] =
    "UPDATE case_categories SET name_zh = ?2, name_en = ?3, description = ?4, grp = ?5,"
    " deadline_class = ?6, response_minutes = ?7, resolve_minutes = ?8, active = ?9,"
    " attributes = ?10, updated_at = ?11 WHERE code = ?1";

static void category_from_row(sqlite3_stmt *st, struct case_category *c)
{
    char cls[16];
    memset(c, 0, sizeof *c);
    cases__col(c->code, sizeof c->code, st, 0);
    cases__col(c->name_zh, sizeof c->name_zh, st, 1);
    cases__col(c->name_en, sizeof c->name_en, st, 2);
    cases__col(c->description, sizeof c->description, st, 3);
    cases__col(c->group, sizeof c->group, st, 4);
    cases__col(cls, sizeof cls, st, 5);
    c->deadline_class = DEADLINE_GENERAL;
    deadline_class_parse(cls, &c->deadline_class);
    c->response_minutes = sqlite3_column_int(st, 6);
    c->resolve_minutes = sqlite3_column_int(st, 7);
    c->active = sqlite3_column_int(st, 8) != 0;
    cases__col(c->attributes, sizeof c->attributes, st, 9);
    c->created_at = sqlite3_column_int64(st, 10);
    c->updated_at = sqlite3_column_int64(st, 11);
}

struct categories_job {
    bool inactive;
    const char *code;
    struct case_category *items;
    int n;
};

static int categories_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct categories_job *j = arg;
    sqlite3_stmt *st = store_stmt(c, j->code ? SQL_CATEGORY_GET : SQL_CATEGORIES, err);
    if (!st)
        return err->status;
    if (j->code)
        sqlite3_bind_text(st, 1, j->code, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_int(st, 1, j->inactive ? 1 : 0);
    int cap = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (j->n == cap) {
            cap = cap ? cap * 2 : 16;
            struct case_category *more = realloc(j->items, (size_t)cap * sizeof *more);
            if (!more) {
                sqlite3_reset(st);
                return linli_fail(err, LINLI_ENOMEM, "Out of memory.");
            }
            j->items = more;
        }
        category_from_row(st, &j->items[j->n++]);
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? LINLI_OK : store_fail(c, rc, "reading categories", err);
}

int case_categories_list(struct domain *d, bool include_inactive, struct case_category **items,
                         int *n, struct linli_err *err)
{
    linli_err_clear(err);
    struct categories_job j = {include_inactive, NULL, NULL, 0};
    int rc = store_read(d->store, categories_job, &j, err);
    if (rc) {
        free(j.items);
        return rc;
    }
    *items = j.items;
    *n = j.n;
    return LINLI_OK;
}

int case_categories_get(struct domain *d, const char *code, struct case_category *out,
                        struct linli_err *err)
{
    linli_err_clear(err);
    struct categories_job j = {true, code, NULL, 0};
    int rc = store_read(d->store, categories_job, &j, err);
    if (!rc && j.n == 0)
        rc = linli_fail(err, LINLI_ENOTFOUND, "No category %s.", code);
    if (!rc)
        *out = j.items[0];
    free(j.items);
    return rc;
}

static bool code_ok(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n < 1 || n > max || !islower((unsigned char)s[0]))
        return false;
    for (; *s; s++)
        if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '_'))
            return false;
    return true;
}

/* Merges `in` over `base` (NULL for a create) into `out`, checking every field. */
static int category_check(const struct case_category_in *in, const struct case_category *base,
                          struct case_category *out, struct linli_err *err)
{
    if (base)
        *out = *base;
    else {
        memset(out, 0, sizeof *out);
        out->active = true;
        snprintf(out->attributes, sizeof out->attributes, "[]");
        out->deadline_class = -1;
        if (!in->code || !code_ok(in->code, CASE_CATEGORY_CODE_MAX))
            linli_field(err, "code", "must be 1 to %d of a-z, 0-9 and '_', starting with a letter",
                        CASE_CATEGORY_CODE_MAX);
        else
            snprintf(out->code, sizeof out->code, "%s", in->code);
    }
    cases__check_text("name_zh", in->name_zh, CASE_CATEGORY_NAME_MAX, !base, false, err);
    cases__check_text("name_en", in->name_en, CASE_CATEGORY_NAME_MAX, !base, false, err);
    cases__check_text("description", in->description, 256, false, false, err);
    cases__check_text("group", in->group, CASE_CATEGORY_NAME_MAX, false, false, err);
    if (in->name_zh)
        snprintf(out->name_zh, sizeof out->name_zh, "%s", in->name_zh);
    if (in->name_en)
        snprintf(out->name_en, sizeof out->name_en, "%s", in->name_en);
    if (in->description)
        snprintf(out->description, sizeof out->description, "%s", in->description);
    if (in->group)
        snprintf(out->group, sizeof out->group, "%s", in->group);
    bool class_changed = false;
    if (in->deadline_class) {
        int cls;
        if (deadline_class_parse(in->deadline_class, &cls))
            linli_field(err, "deadline_class", "must be emergency, utilities, general or complex");
        else {
            class_changed = cls != out->deadline_class;
            out->deadline_class = cls;
        }
    } else if (!base) {
        linli_field(err, "deadline_class", "is required");
    }
    /* a new class brings its limits unless the caller names others */
    if (class_changed) {
        out->response_minutes = deadline_class_response_minutes(out->deadline_class);
        out->resolve_minutes = deadline_class_resolve_minutes(out->deadline_class);
    }
    if (in->response_minutes >= 0) {
        if (in->response_minutes < 1 || in->response_minutes > CASE_LIMIT_MINUTES)
            linli_field(err, "response_minutes", "must be from 1 to %d", CASE_LIMIT_MINUTES);
        out->response_minutes = in->response_minutes;
    }
    if (in->resolve_minutes >= 0) {
        if (in->resolve_minutes < 1 || in->resolve_minutes > CASE_LIMIT_MINUTES)
            linli_field(err, "resolve_minutes", "must be from 1 to %d", CASE_LIMIT_MINUTES);
        out->resolve_minutes = in->resolve_minutes;
    }
    if (in->active >= 0)
        out->active = in->active != 0;
    if (in->attributes) {
        cases__check_definitions(in->attributes, err);
        char *text = json_dumps(in->attributes, JSON_COMPACT);
        if (!text || strlen(text) > CASE_ATTRIBUTES_MAX)
            linli_field(err, "attributes", "must be at most %d bytes as JSON", CASE_ATTRIBUTES_MAX);
        else
            snprintf(out->attributes, sizeof out->attributes, "%s", text);
        free(text);
    }
    return err->nfields ? LINLI_EINVAL : LINLI_OK;
}

struct category_write {
    const struct principal *who;
    const char *code; /* NULL = create */
    const struct case_category_in *in;
    struct case_category *out;
};

static int category_write_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct category_write *j = arg;
    int rc = cases__may_configure(c, j->who, err);
    if (rc)
        return rc;
    struct categories_job look = {true, j->code ? j->code : j->in->code, NULL, 0};
    if (look.code && (rc = categories_job(c, &look, err))) {
        free(look.items);
        return rc;
    }
    struct case_category base;
    bool exists = look.n > 0;
    if (exists)
        base = look.items[0];
    free(look.items);
    if (j->code && !exists)
        return linli_fail(err, LINLI_ENOTFOUND, "No category %s.", j->code);
    if (!j->code && exists)
        return linli_fail(err, LINLI_ECONFLICT, "Category %s exists already.", j->in->code);
    struct case_category next;
    if ((rc = category_check(j->in, j->code ? &base : NULL, &next, err)))
        return rc;
    sqlite3_stmt *st = store_stmt(c, j->code ? SQL_CATEGORY_UPDATE : SQL_CATEGORY_INSERT, err);
    if (!st)
        return err->status;
    sqlite3_bind_text(st, 1, next.code, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, next.name_zh, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, next.name_en, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, next.description, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, next.group, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 6, deadline_class_name(next.deadline_class), -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 7, next.response_minutes);
    sqlite3_bind_int(st, 8, next.resolve_minutes);
    sqlite3_bind_int(st, 9, next.active ? 1 : 0);
    sqlite3_bind_text(st, 10, next.attributes, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 11, clock_now_ms());
    if ((rc = sqlite3_step(st)) != SQLITE_DONE)
        return store_fail(c, rc, "writing a category", err);
    json_t *detail = json_pack("{s:s, s:s, s:i, s:i, s:b}", "code", next.code, "deadline_class",
                               deadline_class_name(next.deadline_class), "response_minutes",
                               next.response_minutes, "resolve_minutes", next.resolve_minutes,
                               "active", next.active);
    char object[64];
    snprintf(object, sizeof object, "case_category:%s", next.code);
    rc = audit_append(c, j->who, j->code ? "case_category.update" : "case_category.create", object,
                      detail, err);
    json_decref(detail);
    if (rc)
        return rc;
    struct categories_job again = {true, next.code, NULL, 0};
    rc = categories_job(c, &again, err);
    if (!rc && again.n)
        *j->out = again.items[0];
    free(again.items);
    return rc;
}

int case_categories_create(struct domain *d, const struct principal *who,
                           const struct case_category_in *in, struct case_category *out,
                           struct linli_err *err)
{
    linli_err_clear(err);
    struct category_write j = {who, NULL, in, out};
    return store_write(d->store, category_write_job, &j, err);
}

int case_categories_update(struct domain *d, const struct principal *who, const char *code,
                           const struct case_category_in *in, struct case_category *out,
                           struct linli_err *err)
{
    linli_err_clear(err);
    if (in->code && strcmp(in->code, code))
        return linli_field(err, "code", "cannot be changed");
    struct category_write j = {who, code, in, out};
    return store_write(d->store, category_write_job, &j, err);
}
