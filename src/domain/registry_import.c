/* registry_import.c - importing one edition of the official area lists:
 * adds, renames, moves, restores and retires areas, sets centre points, and
 * records each change in the areas' history; all or nothing. */
#include "domain/registry_internal.h"

#include "base/clock.h"
#include "base/jx.h"
#include "domain/audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char SQL_AREA_CURRENT_IN[] =
    "SELECT code, name FROM areas WHERE substr(code, 1, 6) = ? AND retired_edition IS NULL";
static const char SQL_AREA_MAX_EDITION[] =
    "SELECT max(last_edition) FROM areas WHERE substr(code, 1, 6) = ?";
static const char SQL_AREA_POINT[] =
    "UPDATE areas SET lat = ?2, lon = ?3, point_crs = ?4, point_source = ?5, updated_at = ?6"
    " WHERE code = ?1";
static const char SQL_AREA_UPDATE_IMPORT[] =
    "UPDATE areas SET name = ?2, kind = ?3, parent_code = ?4, last_edition = ?5,"
    " retired_edition = NULL, updated_at = ?6 WHERE code = ?1";
/* ---- import ---- */

struct import_job {
    const struct principal *who;
    int edition;
    const struct area_row *rows;
    size_t n;
    const struct area_point *points;
    size_t npoints;
    struct import_report *report;
};

static int row_index(const struct area_row *rows, size_t n, const char *code)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(rows[i].code, code))
            return (int)i;
    return -1;
}

static int import_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct import_job *j = arg;
    struct import_report *r = j->report;
    memset(r, 0, sizeof *r);
    int64_t now = clock_now_ms();
    char districts[16][7];
    int nd = 0;
    for (size_t i = 0; i < j->n; i++) {
        bool seen = false;
        for (int k = 0; k < nd; k++)
            seen |= !strncmp(districts[k], j->rows[i].code, 6);
        if (!seen && nd < 16) {
            snprintf(districts[nd++], 7, "%.6s", j->rows[i].code);
        }
    }
    for (int k = 0; k < nd; k++) {
        sqlite3_stmt *st = store_stmt(c, SQL_AREA_MAX_EDITION, err);
        if (!st)
            return err->status;
        sqlite3_bind_text(st, 1, districts[k], -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL &&
            sqlite3_column_int(st, 0) > j->edition)
            return linli_fail(err, LINLI_ECONFLICT,
                              "Edition %d is older than edition %d already imported for %s; "
                              "nothing was changed.",
                              j->edition, sqlite3_column_int(st, 0), districts[k]);
    }
    /* Parents before children: rows come sorted by level. */
    for (int level = 0; level <= 2; level++) {
        for (size_t i = 0; i < j->n; i++) {
            const struct area_row *row = &j->rows[i];
            if (registry__level_of_kind(row->kind) != level)
                continue;
            struct area old;
            bool found;
            int rc = registry__load(c, row->code, &old, &found, err);
            if (rc)
                return rc;
            const char *parent = row->parent_code[0] ? row->parent_code : NULL;
            if (!found) {
                sqlite3_stmt *st = store_stmt(c, registry__sql_insert, err);
                if (!st)
                    return err->status;
                sqlite3_bind_text(st, 1, row->code, -1, SQLITE_STATIC);
                sqlite3_bind_text(st, 2, row->name[0] ? row->name : row->code, -1, SQLITE_STATIC);
                sqlite3_bind_int(st, 3, level);
                sqlite3_bind_text(st, 4, row->kind, -1, SQLITE_STATIC);
                if (parent)
                    sqlite3_bind_text(st, 5, parent, -1, SQLITE_STATIC);
                sqlite3_bind_int(st, 6, j->edition);
                sqlite3_bind_int64(st, 7, now);
                if ((rc = sqlite3_step(st)) != SQLITE_DONE)
                    return store_fail(c, rc, "adding an area", err);
                if ((rc = registry__event(c, row->code, j->edition, "added", NULL, row->name, NULL,
                                          err)))
                    return rc;
                r->added++;
                continue;
            }
            /* A district row may come without a name (the lists name only
             * streets and communities): it keeps the one it has. */
            const char *name = row->name[0] ? row->name : old.name;
            bool renamed = strcmp(old.name, name) != 0;
            bool moved = strcmp(old.parent_code, parent ? parent : "") != 0;
            bool restored = old.retired_edition != 0;
            sqlite3_stmt *st = store_stmt(c, SQL_AREA_UPDATE_IMPORT, err);
            if (!st)
                return err->status;
            sqlite3_bind_text(st, 1, row->code, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 3, row->kind, -1, SQLITE_STATIC);
            if (parent)
                sqlite3_bind_text(st, 4, parent, -1, SQLITE_STATIC);
            sqlite3_bind_int(st, 5, j->edition > old.last_edition ? j->edition : old.last_edition);
            sqlite3_bind_int64(st, 6, now);
            if ((rc = sqlite3_step(st)) != SQLITE_DONE)
                return store_fail(c, rc, "updating an area", err);
            if (renamed && (rc = registry__event(c, row->code, j->edition, "renamed", old.name,
                                                 name, NULL, err)))
                return rc;
            if (moved && (rc = registry__event(c, row->code, j->edition, "moved", old.parent_code,
                                               parent, NULL, err)))
                return rc;
            if (restored &&
                (rc = registry__event(c, row->code, j->edition, "restored", NULL, NULL, NULL, err)))
                return rc;
            r->renamed += renamed;
            r->moved += moved;
            r->restored += restored;
            r->unchanged += !renamed && !moved && !restored;
        }
    }
    /* Whatever of these districts the edition no longer lists is retired. */
    for (int k = 0; k < nd; k++) {
        sqlite3_stmt *st = store_stmt(c, SQL_AREA_CURRENT_IN, err);
        if (!st)
            return err->status;
        sqlite3_bind_text(st, 1, districts[k], -1, SQLITE_STATIC);
        char(*gone)[AREA_CODE_LEN + 1] = NULL;
        size_t ngone = 0, cap = 0;
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            const char *code = (const char *)sqlite3_column_text(st, 0);
            if (row_index(j->rows, j->n, code) >= 0)
                continue;
            if (ngone == cap) {
                cap = cap ? cap * 2 : 16;
                void *p = realloc(gone, cap * sizeof *gone);
                if (!p) {
                    free(gone);
                    return linli_fail(err, LINLI_ENOMEM, "out of memory");
                }
                gone = p;
            }
            snprintf(gone[ngone++], AREA_CODE_LEN + 1, "%s", code);
        }
        sqlite3_reset(st);
        for (size_t g = 0; g < ngone && rc == SQLITE_DONE; g++) {
            sqlite3_stmt *ret = store_stmt(c, registry__sql_retire, err);
            if (!ret) {
                free(gone);
                return err->status;
            }
            sqlite3_bind_text(ret, 1, gone[g], -1, SQLITE_TRANSIENT);
            sqlite3_bind_int(ret, 2, j->edition);
            sqlite3_bind_int64(ret, 3, now);
            int r2 = sqlite3_step(ret);
            if (r2 != SQLITE_DONE) {
                free(gone);
                return store_fail(c, r2, "retiring an area", err);
            }
            if ((r2 = registry__event(c, gone[g], j->edition, "retired", NULL, NULL, NULL, err))) {
                free(gone);
                return r2;
            }
            r->retired++;
        }
        free(gone);
        if (rc != SQLITE_DONE)
            return store_fail(c, rc, "finding retired areas", err);
    }
    for (size_t i = 0; i < j->npoints; i++) {
        const struct area_point *p = &j->points[i];
        if (row_index(j->rows, j->n, p->code) < 0)
            continue; /* a point for a code this edition lacks */
        sqlite3_stmt *st = store_stmt(c, SQL_AREA_POINT, err);
        if (!st)
            return err->status;
        sqlite3_bind_text(st, 1, p->code, -1, SQLITE_STATIC);
        sqlite3_bind_double(st, 2, p->wgs84.lat);
        sqlite3_bind_double(st, 3, p->wgs84.lon);
        sqlite3_bind_text(st, 4, p->crs, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, p->source, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 6, now);
        int rc = sqlite3_step(st);
        if (rc != SQLITE_DONE)
            return store_fail(c, rc, "setting an area's point", err);
        r->points++;
    }
    json_t *detail = json_pack("{s:i, s:i, s:i, s:i, s:i, s:i}", "edition", j->edition, "added",
                               r->added, "renamed", r->renamed, "moved", r->moved, "retired",
                               r->retired, "restored", r->restored);
    int rc = audit_append(c, j->who, "area.import", NULL, detail, err);
    json_decref(detail);
    return rc;
}

static int check_rows(const struct area_row *rows, size_t n, struct linli_err *err)
{
    for (size_t i = 0; i < n && err->nfields < LINLI_ERR_FIELDS; i++) {
        const struct area_row *r = &rows[i];
        char field[48];
        snprintf(field, sizeof field, "row %zu", i + 1);
        char norm[AREA_CODE_LEN + 1];
        const char *why;
        int level = registry__level_of_kind(r->kind);
        if (area_code_normalize(r->code, norm, &why) != 0 || strcmp(norm, r->code) != 0)
            linli_field(err, field, "code %s is not a 12-digit area code", r->code);
        else if (level < 0 || area_code_level(r->code) != level)
            linli_field(err, field, "code %s does not fit the kind \"%s\"", r->code, r->kind);
        else if ((!r->name[0] && level > 0) || jx_utf8_len(r->name) > AREA_NAME_MAX)
            linli_field(err, field, "the name of %s is empty or too long", r->code);
        else if (level > 0 && row_index(rows, n, r->parent_code) < 0)
            linli_field(err, field, "the parent %s of %s is not in the list", r->parent_code,
                        r->code);
        else if (row_index(rows, n, r->code) != (int)i)
            linli_field(err, field, "code %s appears twice", r->code);
    }
    return err->nfields ? LINLI_EINVAL : LINLI_OK;
}

int registry_import(struct domain *d, const struct principal *who, int edition,
                    const struct area_row *rows, size_t n, const struct area_point *points,
                    size_t npoints, struct import_report *report, struct linli_err *err)
{
    if (who->role != ROLE_ADMIN)
        return linli_fail(err, LINLI_EFORBIDDEN, "Only admins may import official area lists.");
    if (edition < 1980 || edition > 2200)
        return linli_field(err, "edition", "must be the year of the official list");
    if (n == 0)
        return linli_fail(err, LINLI_EINVAL, "The list holds no areas.");
    if (check_rows(rows, n, err))
        return LINLI_EINVAL;
    struct import_job j = {who, edition, rows, n, points, npoints, report};
    return store_write(d->store, import_job, &j, err);
}
