/* directory_summary.c - the directory in figures: how many facilities of
 * each kind are open, suspended or closed in an area, the beds of those that
 * are not closed, and the same per street. Read from the facilities table in
 * one read job (the memory copy holds no closed facilities), grouped by the
 * street part of the area code, kind and status. */
#include "domain/directory_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STREET_PREFIX 9 /* digits of a 12-digit code that name its street */

/* ?1, ?2: the range of 12-digit codes within the area. */
static const char SQL_COUNTS[] =
    "SELECT substr(area_code, 1, 9), kind, status, count(*), sum(coalesce(beds_total, 0)),"
    " sum(coalesce(beds_free, 0)) FROM facilities WHERE area_code BETWEEN ?1 AND ?2"
    " GROUP BY 1, 2, 3";
static const char SQL_STREETS[] = "SELECT code, name FROM areas WHERE level = 1"
                                  " AND retired_edition IS NULL AND code BETWEEN ?1 AND ?2";
static const char SQL_AREA_NAME[] = "SELECT name FROM areas WHERE code = ?1";

/* One group of the counting query. */
struct count_row {
    char street[AREA_CODE_LEN + 1];
    int kind, status;
    int64_t n, beds_total, beds_free;
};

struct summary_job {
    const char *area; /* normalised, "" = everything */
    bool by_street;
    struct count_row *rows;
    int nrows, cap;
    struct facility_summary *out;
};

/* The codes within `area` ("" = all) as [lo, hi], keeping `keep` digits of
 * it at most. */
static void code_range(const char *area, size_t keep, char lo[AREA_CODE_LEN + 1],
                       char hi[AREA_CODE_LEN + 1])
{
    size_t n = area[0] ? (size_t[]){6, 9, 12}[area_code_level(area)] : 0;
    if (n > keep)
        n = keep;
    memcpy(lo, area, n);
    memcpy(hi, area, n);
    memset(lo + n, '0', AREA_CODE_LEN - n);
    memset(hi + n, '9', AREA_CODE_LEN - n);
    lo[AREA_CODE_LEN] = hi[AREA_CODE_LEN] = '\0';
}

static int read_counts(struct store_conn *c, struct summary_job *j, struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_COUNTS, err);
    if (!st)
        return err->status;
    char lo[AREA_CODE_LEN + 1], hi[AREA_CODE_LEN + 1];
    code_range(j->area, AREA_CODE_LEN, lo, hi);
    sqlite3_bind_text(st, 1, lo, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, hi, -1, SQLITE_TRANSIENT);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct count_row r = {0};
        const char *kind = (const char *)sqlite3_column_text(st, 1);
        const char *status = (const char *)sqlite3_column_text(st, 2);
        /* Every stored kind passed facility_check; a row that does not parse
         * was written by hand and is not a facility this report knows. */
        if (facility_kind_parse(kind, &r.kind) || facility_status_parse(status, &r.status))
            continue;
        const char *street = (const char *)sqlite3_column_text(st, 0);
        snprintf(r.street, sizeof r.street, "%.9s000", street ? street : "");
        r.n = sqlite3_column_int64(st, 3);
        r.beds_total = sqlite3_column_int64(st, 4);
        r.beds_free = sqlite3_column_int64(st, 5);
        if (j->nrows == j->cap) {
            int cap = j->cap ? j->cap * 2 : 64;
            struct count_row *more = realloc(j->rows, (size_t)cap * sizeof *more);
            if (!more) {
                sqlite3_reset(st);
                return linli_fail(err, LINLI_ENOMEM, "Out of memory counting facilities.");
            }
            j->rows = more;
            j->cap = cap;
        }
        j->rows[j->nrows++] = r;
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? LINLI_OK : store_fail(c, rc, "counting facilities", err);
}

static struct facility_street_figures *find_street(struct facility_summary *s, const char *code)
{
    for (int i = 0; i < s->nstreets; i++)
        if (!strcmp(s->streets[i].code, code))
            return &s->streets[i];
    return NULL;
}

static struct facility_street_figures *add_street(struct facility_summary *s, int *cap,
                                                  const char *code, const char *name)
{
    if (s->nstreets == *cap) {
        int more = *cap ? *cap * 2 : 64;
        struct facility_street_figures *v = realloc(s->streets, (size_t)more * sizeof *v);
        if (!v)
            return NULL;
        s->streets = v;
        *cap = more;
    }
    struct facility_street_figures *f = &s->streets[s->nstreets++];
    memset(f, 0, sizeof *f);
    snprintf(f->code, sizeof f->code, "%s", code);
    snprintf(f->name, sizeof f->name, "%s", name ? name : "");
    return f;
}

static int area_name(struct store_conn *c, const char *code, char *out, size_t size,
                     struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_AREA_NAME, err);
    if (!st)
        return err->status;
    sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    const char *name = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
    snprintf(out, size, "%s", name ? name : "");
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? LINLI_OK
                                                 : store_fail(c, rc, "reading an area", err);
}

static int by_code(const void *a, const void *b)
{
    return strcmp(((const struct facility_street_figures *)a)->code,
                  ((const struct facility_street_figures *)b)->code);
}

/* The current streets within the area (a community's own street), then every
 * street a counted facility lies in that is not among them. */
static int list_streets(struct store_conn *c, struct summary_job *j, struct linli_err *err)
{
    struct facility_summary *s = j->out;
    int cap = 0;
    sqlite3_stmt *st = store_stmt(c, SQL_STREETS, err);
    if (!st)
        return err->status;
    char lo[AREA_CODE_LEN + 1], hi[AREA_CODE_LEN + 1];
    code_range(j->area, STREET_PREFIX, lo, hi);
    sqlite3_bind_text(st, 1, lo, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, hi, -1, SQLITE_TRANSIENT);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *code = (const char *)sqlite3_column_text(st, 0);
        if (!add_street(s, &cap, code ? code : "", (const char *)sqlite3_column_text(st, 1))) {
            sqlite3_reset(st);
            return linli_fail(err, LINLI_ENOMEM, "Out of memory listing streets.");
        }
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return store_fail(c, rc, "reading streets", err);
    for (int i = 0; i < j->nrows; i++) {
        if (find_street(s, j->rows[i].street))
            continue;
        char name[AREA_NAME_MAX * 4 + 1];
        if ((rc = area_name(c, j->rows[i].street, name, sizeof name, err)))
            return rc;
        if (!add_street(s, &cap, j->rows[i].street, name))
            return linli_fail(err, LINLI_ENOMEM, "Out of memory listing streets.");
    }
    if (s->nstreets > 1)
        qsort(s->streets, (size_t)s->nstreets, sizeof *s->streets, by_code);
    return LINLI_OK;
}

static int summary_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct summary_job *j = arg;
    struct facility_summary *s = j->out;
    int rc;
    if ((j->area[0] && (rc = directory__area_known(c, j->area, err))) ||
        (rc = read_counts(c, j, err)) || (j->by_street && (rc = list_streets(c, j, err))))
        return rc;
    for (int i = 0; i < j->nrows; i++) {
        const struct count_row *r = &j->rows[i];
        struct facility_kind_figures *k = &s->kinds[r->kind];
        if (r->status == FACILITY_CLOSED) {
            k->closed += r->n;
            continue;
        }
        if (r->status == FACILITY_SUSPENDED)
            k->suspended += r->n;
        else
            k->open += r->n;
        k->beds_total += r->beds_total;
        k->beds_free += r->beds_free;
        s->total += r->n;
        s->beds_total += r->beds_total;
        s->beds_free += r->beds_free;
        struct facility_street_figures *f = j->by_street ? find_street(s, r->street) : NULL;
        if (f) {
            f->facilities += r->n;
            f->by_kind[r->kind] += r->n;
            f->beds_total += r->beds_total;
            f->beds_free += r->beds_free;
        }
    }
    return LINLI_OK;
}

int directory_summary(struct domain *d, const char *area, bool by_street,
                      struct facility_summary *out, struct linli_err *err)
{
    memset(out, 0, sizeof *out);
    linli_err_clear(err);
    const char *why;
    if (area && area_code_normalize(area, out->area, &why) != 0) {
        out->area[0] = '\0';
        return linli_field(err, "area", "%s", why);
    }
    struct summary_job j = {.area = out->area, .by_street = by_street, .out = out};
    int rc = store_read(d->store, summary_job, &j, err);
    free(j.rows);
    if (rc) {
        facility_summary_free(out);
        return rc;
    }
    return LINLI_OK;
}

void facility_summary_free(struct facility_summary *s)
{
    free(s->streets);
    s->streets = NULL;
    s->nstreets = 0;
}
