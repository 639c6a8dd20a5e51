/* registry.c - areas: reads, counts, splits and history (imports are in
 * registry_import.c). */
#include "domain/registry_internal.h"

#include "base/clock.h"
#include "base/jx.h"
#include "domain/audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AREA_COLUMNS                                                                               \
    "code, name, level, kind, parent_code, first_edition, last_edition, retired_edition,"          \
    " households, residents, elderly, lat, lon, point_crs, point_source, updated_at"

static const char SQL_AREA_GET[] = "SELECT " AREA_COLUMNS " FROM areas WHERE code = ?";
static const char SQL_AREA_CHILDREN[] =
    "SELECT count(*) FROM areas WHERE parent_code = ? AND retired_edition IS NULL";
const char registry__sql_insert[] =
    "INSERT INTO areas (code, name, level, kind, parent_code, first_edition, last_edition,"
    " updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7)";
const char registry__sql_retire[] =
    "UPDATE areas SET retired_edition = ?2, updated_at = ?3 WHERE code = ?1";
static const char SQL_AREA_EVENT[] =
    "INSERT INTO area_events (code, edition, event, old_value, new_value, related_code, at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)";
static const char SQL_AREA_LIST[] =
    "SELECT " AREA_COLUMNS " FROM areas"
    " WHERE code > ?1 AND (?2 IS NULL OR parent_code = ?2) AND (?3 < 0 OR level = ?3)"
    "   AND (?4 OR retired_edition IS NULL)"
    " ORDER BY code LIMIT ?5";
static const char SQL_AREA_COUNTS[] =
    "UPDATE areas SET households = coalesce(?2, households), residents = coalesce(?3, residents),"
    " elderly = coalesce(?4, elderly), updated_at = ?5 WHERE code = ?1";
static const char SQL_AREA_HISTORY[] =
    "SELECT edition, event, old_value, new_value, related_code, at FROM area_events"
    " WHERE code = ? ORDER BY id";

static void copy_col(char *dst, size_t size, sqlite3_stmt *st, int i)
{
    const unsigned char *v = sqlite3_column_text(st, i);
    snprintf(dst, size, "%s", v ? (const char *)v : "");
}

static int64_t int_or_unknown(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, i);
}

static void area_from_row(sqlite3_stmt *st, struct area *a)
{
    memset(a, 0, sizeof *a);
    copy_col(a->code, sizeof a->code, st, 0);
    copy_col(a->name, sizeof a->name, st, 1);
    a->level = sqlite3_column_int(st, 2);
    copy_col(a->kind, sizeof a->kind, st, 3);
    copy_col(a->parent_code, sizeof a->parent_code, st, 4);
    a->first_edition = sqlite3_column_int(st, 5);
    a->last_edition = sqlite3_column_int(st, 6);
    a->retired_edition = sqlite3_column_int(st, 7);
    a->households = int_or_unknown(st, 8);
    a->residents = int_or_unknown(st, 9);
    a->elderly = int_or_unknown(st, 10);
    a->has_point = sqlite3_column_type(st, 11) != SQLITE_NULL;
    a->point.lat = sqlite3_column_double(st, 11);
    a->point.lon = sqlite3_column_double(st, 12);
    copy_col(a->point_crs, sizeof a->point_crs, st, 13);
    copy_col(a->point_source, sizeof a->point_source, st, 14);
    a->updated_at = sqlite3_column_int64(st, 15);
}

int registry__event(struct store_conn *c, const char *code, int edition, const char *event,
                    const char *old_value, const char *new_value, const char *related,
                    struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_AREA_EVENT, err);
    if (!st)
        return err->status;
    sqlite3_bind_text(st, 1, code, -1, SQLITE_TRANSIENT);
    if (edition)
        sqlite3_bind_int(st, 2, edition);
    sqlite3_bind_text(st, 3, event, -1, SQLITE_STATIC);
    if (old_value)
        sqlite3_bind_text(st, 4, old_value, -1, SQLITE_TRANSIENT);
    if (new_value)
        sqlite3_bind_text(st, 5, new_value, -1, SQLITE_TRANSIENT);
    if (related)
        sqlite3_bind_text(st, 6, related, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 7, clock_now_ms());
    int rc = sqlite3_step(st);
    return rc == SQLITE_DONE ? LINLI_OK : store_fail(c, rc, "recording an area change", err);
}

int registry__load(struct store_conn *c, const char *code, struct area *out, bool *found,
                   struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_AREA_GET, err);
    if (!st)
        return err->status;
    sqlite3_bind_text(st, 1, code, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    *found = rc == SQLITE_ROW;
    if (rc == SQLITE_ROW)
        area_from_row(st, out);
    else if (rc != SQLITE_DONE)
        return store_fail(c, rc, "reading an area", err);
    return LINLI_OK;
}

int registry__level_of_kind(const char *kind)
{
    if (!strcmp(kind, "district"))
        return 0;
    if (!strcmp(kind, "street") || !strcmp(kind, "township"))
        return 1;
    if (!strcmp(kind, "community") || !strcmp(kind, "village"))
        return 2;
    return -1;
}

/* ---- splits ---- */

struct split_job {
    const struct principal *who;
    const char *code;
    int edition;
    const struct area_row *parts;
    size_t nparts;
};

static int split_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct split_job *j = arg;
    struct area old;
    bool found;
    int rc = registry__load(c, j->code, &old, &found, err);
    if (rc)
        return rc;
    if (!found)
        return linli_fail(err, LINLI_ENOTFOUND, "No area %s.", j->code);
    if (old.level != 2)
        return linli_fail(err, LINLI_EINVAL, "Only communities and villages are split.");
    if (old.retired_edition)
        return linli_fail(err, LINLI_ECONFLICT, "Area %s was retired in %d.", j->code,
                          old.retired_edition);
    if (!area_within(j->who->role == ROLE_ADMIN ? old.code : j->who->scope, old.code))
        return linli_fail(err, LINLI_ENOTFOUND, "No area %s.", j->code);
    int64_t now = clock_now_ms();
    for (size_t i = 0; i < j->nparts; i++) {
        const struct area_row *p = &j->parts[i];
        struct area other;
        if ((rc = registry__load(c, p->code, &other, &found, err)))
            return rc;
        if (found)
            return linli_fail(err, LINLI_ECONFLICT, "Area code %s exists already.", p->code);
        sqlite3_stmt *st = store_stmt(c, registry__sql_insert, err);
        if (!st)
            return err->status;
        sqlite3_bind_text(st, 1, p->code, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, p->name, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 3, 2);
        sqlite3_bind_text(st, 4, old.kind, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 5, old.parent_code, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, 6, j->edition);
        sqlite3_bind_int64(st, 7, now);
        if ((rc = sqlite3_step(st)) != SQLITE_DONE)
            return store_fail(c, rc, "adding a community", err);
        if ((rc = registry__event(c, p->code, j->edition, "split", NULL, p->name, old.code, err)) ||
            (rc = registry__event(c, old.code, j->edition, "split", NULL, NULL, p->code, err)))
            return rc;
    }
    sqlite3_stmt *st = store_stmt(c, registry__sql_retire, err);
    if (!st)
        return err->status;
    sqlite3_bind_text(st, 1, old.code, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 2, j->edition);
    sqlite3_bind_int64(st, 3, now);
    if ((rc = sqlite3_step(st)) != SQLITE_DONE)
        return store_fail(c, rc, "retiring the split community", err);
    if ((rc = registry__event(c, old.code, j->edition, "retired", NULL, NULL, NULL, err)))
        return rc;
    json_t *into = json_array();
    for (size_t i = 0; i < j->nparts; i++)
        json_array_append_new(into, json_string(j->parts[i].code));
    json_t *detail = json_pack("{s:i, s:o}", "edition", j->edition, "into", into);
    char object[40];
    snprintf(object, sizeof object, "area:%s", old.code);
    rc = audit_append(c, j->who, "area.split", object, detail, err);
    json_decref(detail);
    return rc;
}

int registry_split(struct domain *d, const struct principal *who, const char *code, int edition,
                   const struct area_row *parts, size_t nparts, struct linli_err *err)
{
    if (who->role != ROLE_ADMIN && who->role != ROLE_DISTRICT && who->role != ROLE_STREET)
        return linli_fail(err, LINLI_EFORBIDDEN,
                          "Only admins and district or street staff may split a community.");
    if (nparts < 2 || nparts > 16)
        return linli_field(err, "parts", "a split makes 2 to 16 communities");
    if (edition < 1980 || edition > 2200)
        return linli_field(err, "edition", "must be the year the split takes effect");
    for (size_t i = 0; i < nparts; i++) {
        char norm[AREA_CODE_LEN + 1];
        const char *why;
        char field[32];
        snprintf(field, sizeof field, "parts[%zu]", i);
        if (area_code_normalize(parts[i].code, norm, &why) || strcmp(norm, parts[i].code) ||
            area_code_level(norm) != 2 || strncmp(norm, code, 9) != 0)
            linli_field(err, field, "code must be a 12-digit community code under the same street");
        else if (!parts[i].name[0] || jx_utf8_len(parts[i].name) > AREA_NAME_MAX)
            linli_field(err, field, "name must be 1 to %d characters", AREA_NAME_MAX);
        for (size_t k = 0; k < i; k++)
            if (!strcmp(parts[k].code, parts[i].code))
                linli_field(err, field, "code appears twice");
    }
    if (err->nfields)
        return LINLI_EINVAL;
    struct split_job j = {who, code, edition, parts, nparts};
    int rc = store_write(d->store, split_job, &j, err);
    if (rc == LINLI_OK)
        domain_publish(d, "area.split", json_pack("{s:s, s:i}", "code", code, "edition", edition));
    return rc;
}

/* ---- reads ---- */

struct get_args {
    const char *code;
    struct area *out;
    bool found;
};

static int get_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct get_args *a = arg;
    int rc = registry__load(c, a->code, a->out, &a->found, err);
    if (rc || !a->found)
        return rc;
    sqlite3_stmt *st = store_stmt(c, SQL_AREA_CHILDREN, err);
    if (!st)
        return err->status;
    sqlite3_bind_text(st, 1, a->code, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        a->out->children = sqlite3_column_int64(st, 0);
    return LINLI_OK;
}

int registry_get(struct domain *d, const struct principal *who, const char *code, struct area *out,
                 struct linli_err *err)
{
    (void)who; /* official areas are public facts */
    char norm[AREA_CODE_LEN + 1];
    const char *why;
    if (area_code_normalize(code, norm, &why) != 0)
        return linli_fail(err, LINLI_ENOTFOUND, "No area %s: the code %s.", code, why);
    struct get_args a = {norm, out, false};
    int rc = store_read(d->store, get_job, &a, err);
    if (rc == LINLI_OK && !a.found)
        return linli_fail(err, LINLI_ENOTFOUND, "No area %s.", norm);
    return rc;
}

struct list_args {
    const struct area_filter *f;
    struct area *items;
    int n;
    bool more;
};

static int list_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct list_args *a = arg;
    sqlite3_stmt *st = store_stmt(c, SQL_AREA_LIST, err);
    if (!st)
        return err->status;
    sqlite3_bind_text(st, 1, a->f->after_code ? a->f->after_code : "", -1, SQLITE_STATIC);
    if (a->f->parent)
        sqlite3_bind_text(st, 2, a->f->parent, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, a->f->level);
    sqlite3_bind_int(st, 4, a->f->include_retired);
    sqlite3_bind_int(st, 5, a->f->limit + 1);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (a->n == a->f->limit) {
            a->more = true;
            break;
        }
        area_from_row(st, &a->items[a->n++]);
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_fail(c, rc, "listing areas", err);
    return LINLI_OK;
}

int registry_list(struct domain *d, const struct principal *who, const struct area_filter *f,
                  struct area **items, int *n, bool *more, struct linli_err *err)
{
    (void)who;
    if (f->limit < 1 || f->limit > 1000)
        return linli_field(err, "limit", "must be between 1 and 1000");
    struct list_args a = {f, calloc((size_t)f->limit, sizeof(struct area)), 0, false};
    if (!a.items)
        return linli_fail(err, LINLI_ENOMEM, "out of memory");
    int rc = store_read(d->store, list_job, &a, err);
    if (rc) {
        free(a.items);
        return rc;
    }
    *items = a.items;
    *n = a.n;
    *more = a.more;
    return LINLI_OK;
}

struct counts_job {
    const struct principal *who;
    const char *code;
    int64_t households, residents, elderly;
    struct area *out;
};

static void bind_count(sqlite3_stmt *st, int i, int64_t v)
{
    if (v >= 0)
        sqlite3_bind_int64(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

static int counts_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct counts_job *j = arg;
    bool found;
    struct area before;
    int rc = registry__load(c, j->code, &before, &found, err);
    if (rc)
        return rc;
    if (!found || (j->who->role != ROLE_ADMIN && !area_within(j->who->scope, j->code)))
        return linli_fail(err, LINLI_ENOTFOUND, "No area %s in your scope.", j->code);
    if (before.retired_edition)
        return linli_fail(err, LINLI_ECONFLICT, "Area %s was retired in %d.", j->code,
                          before.retired_edition);
    sqlite3_stmt *st = store_stmt(c, SQL_AREA_COUNTS, err);
    if (!st)
        return err->status;
    sqlite3_bind_text(st, 1, j->code, -1, SQLITE_STATIC);
    bind_count(st, 2, j->households);
    bind_count(st, 3, j->residents);
    bind_count(st, 4, j->elderly);
    sqlite3_bind_int64(st, 5, clock_now_ms());
    if ((rc = sqlite3_step(st)) != SQLITE_DONE)
        return store_fail(c, rc, "updating area counts", err);
    sqlite3_reset(st);
    if ((rc = registry__load(c, j->code, j->out, &found, err)))
        return rc;
    char old[96], now[96];
    snprintf(old, sizeof old, "%lld/%lld/%lld", (long long)before.households,
             (long long)before.residents, (long long)before.elderly);
    snprintf(now, sizeof now, "%lld/%lld/%lld", (long long)j->out->households,
             (long long)j->out->residents, (long long)j->out->elderly);
    if ((rc = registry__event(c, j->code, 0, "counts", old, now, NULL, err)))
        return rc;
    json_t *detail = json_pack("{s:s, s:s}", "before", old, "after", now);
    char object[40];
    snprintf(object, sizeof object, "area:%s", j->code);
    rc = audit_append(c, j->who, "area.counts", object, detail, err);
    json_decref(detail);
    return rc;
}

int registry_set_counts(struct domain *d, const struct principal *who, const char *code,
                        int64_t households, int64_t residents, int64_t elderly, struct area *out,
                        struct linli_err *err)
{
    if (who->role != ROLE_ADMIN && who->role != ROLE_DISTRICT && who->role != ROLE_STREET &&
        who->role != ROLE_COMMUNITY)
        return linli_fail(err, LINLI_EFORBIDDEN,
                          "Only district, street and community staff "
                          "may change an area's counts.");
    char norm[AREA_CODE_LEN + 1];
    const char *why;
    if (area_code_normalize(code, norm, &why) != 0)
        return linli_fail(err, LINLI_ENOTFOUND, "No area %s.", code);
    if (households < -1 || residents < -1 || elderly < -1)
        return linli_fail(err, LINLI_EINVAL, "Counts cannot be negative.");
    if (households < 0 && residents < 0 && elderly < 0)
        return linli_fail(err, LINLI_EINVAL, "Nothing to change.");
    if (residents >= 0 && elderly > residents)
        return linli_field(err, "elderly", "cannot exceed residents");
    struct counts_job j = {who, norm, households, residents, elderly, out};
    int rc = store_write(d->store, counts_job, &j, err);
    if (rc == LINLI_OK)
        domain_publish(d, "area.counts", json_pack("{s:s}", "code", norm));
    return rc;
}

struct counts_many_job {
    const struct principal *who;
    const struct area_counts *v;
    size_t n;
};

static int counts_many_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct counts_many_job *j = arg;
    int64_t now = clock_now_ms();
    for (size_t i = 0; i < j->n; i++) {
        const struct area_counts *a = &j->v[i];
        sqlite3_stmt *st = store_stmt(c, SQL_AREA_COUNTS, err);
        if (!st)
            return err->status;
        sqlite3_bind_text(st, 1, a->code, -1, SQLITE_STATIC);
        bind_count(st, 2, a->households);
        bind_count(st, 3, a->residents);
        bind_count(st, 4, a->elderly);
        sqlite3_bind_int64(st, 5, now);
        int rc = sqlite3_step(st);
        if (rc != SQLITE_DONE)
            return store_fail(c, rc, "updating area counts", err);
        if (sqlite3_changes(store_db(c)) != 1)
            return linli_fail(err, LINLI_ENOTFOUND, "No area %s.", a->code);
        char now_text[96];
        snprintf(now_text, sizeof now_text, "%lld/%lld/%lld", (long long)a->households,
                 (long long)a->residents, (long long)a->elderly);
        if ((rc = registry__event(c, a->code, 0, "counts", NULL, now_text, NULL, err)))
            return rc;
    }
    json_t *detail = json_pack("{s:I}", "areas", (json_int_t)j->n);
    int rc = audit_append(c, j->who, "area.counts", NULL, detail, err);
    json_decref(detail);
    return rc;
}

int registry_set_counts_many(struct domain *d, const struct principal *who,
                             const struct area_counts *v, size_t n, struct linli_err *err)
{
    if (who->role != ROLE_ADMIN)
        return linli_fail(err, LINLI_EFORBIDDEN, "Only admins may set counts in bulk.");
    for (size_t i = 0; i < n; i++) {
        char norm[AREA_CODE_LEN + 1];
        const char *why;
        if (area_code_normalize(v[i].code, norm, &why) || strcmp(norm, v[i].code) ||
            v[i].households < -1 || v[i].residents < -1 || v[i].elderly < -1 ||
            (v[i].residents >= 0 && v[i].elderly > v[i].residents))
            return linli_fail(err, LINLI_EINVAL, "Counts for %s are not valid.", v[i].code);
    }
    struct counts_many_job j = {who, v, n};
    return store_write(d->store, counts_many_job, &j, err);
}

struct history_args {
    const char *code;
    json_t *out;
};

static int history_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct history_args *a = arg;
    sqlite3_stmt *st = store_stmt(c, SQL_AREA_HISTORY, err);
    if (!st)
        return err->status;
    sqlite3_bind_text(st, 1, a->code, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        char at[32];
        clock_format_rfc3339(sqlite3_column_int64(st, 5), at, sizeof at);
        json_t *e = json_object();
        json_object_set_new(e, "edition",
                            sqlite3_column_type(st, 0) == SQLITE_NULL
                                ? json_null()
                                : json_integer(sqlite3_column_int(st, 0)));
        json_object_set_new(e, "event", json_string((const char *)sqlite3_column_text(st, 1)));
        const char *names[] = {"old", "new", "related_code"};
        for (int i = 0; i < 3; i++) {
            const unsigned char *v = sqlite3_column_text(st, 2 + i);
            json_object_set_new(e, names[i], v ? json_string((const char *)v) : json_null());
        }
        json_object_set_new(e, "at", json_string(at));
        json_array_append_new(a->out, e);
    }
    return rc == SQLITE_DONE ? LINLI_OK : store_fail(c, rc, "reading area history", err);
}

int registry_history(struct domain *d, const struct principal *who, const char *code, json_t **out,
                     struct linli_err *err)
{
    struct area a;
    int rc = registry_get(d, who, code, &a, err);
    if (rc)
        return rc;
    struct history_args h = {a.code, json_array()};
    if ((rc = store_read(d->store, history_job, &h, err))) {
        json_decref(h.out);
        return rc;
    }
    *out = h.out;
    return LINLI_OK;
}
