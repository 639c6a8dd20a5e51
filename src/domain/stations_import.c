/* stations_import.c - the CSV import of stations: every row is checked
 * (the station rules, the caller's scope, current areas of the right level,
 * rows naming the same station) before anything is written; then new
 * stations are added and changed ones updated in one job, with one audit
 * entry. Unless told to skip them, nothing is written when a row is bad. */
#include "domain/stations.h"

#include "base/clock.h"
#include "domain/audit.h"
#include "domain/stations_internal.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct import_job {
    const struct principal *who;
    const struct station_import_row *rows;
    size_t n;
    const struct station_import_opts *o;
    struct station_import_report *rep;
    struct station *checked; /* one per row */
    bool *bad;               /* one per row */
    size_t errcap;
    bool oom;
};

static void row_error(struct import_job *j, long line, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void row_error(struct import_job *j, long line, const char *field, const char *fmt, ...)
{
    struct station_import_report *r = j->rep;
    if (r->nerrors == j->errcap) {
        size_t cap = j->errcap ? j->errcap * 2 : 32;
        void *p = realloc(r->errors, cap * sizeof *r->errors);
        if (!p) {
            j->oom = true;
            return;
        }
        r->errors = p;
        j->errcap = cap;
    }
    struct station_row_error *e = &r->errors[r->nerrors++];
    e->line = line;
    snprintf(e->field, sizeof e->field, "%s", field ? field : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
}

static int by_line(const void *a, const void *b)
{
    const struct station_row_error *x = a, *y = b;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    return x < y ? -1 : x > y; /* qsort is not stable; keep the order found */
}

/* For finding rows that name the same station: rows sorted by key, then line. */
struct key_ref {
    const struct station *s;
    long line;
    size_t row;
};

static int by_key(const void *a, const void *b)
{
    const struct key_ref *x = a, *y = b;
    int c = strcmp(x->s->area_code, y->s->area_code);
    if (!c)
        c = x->s->level - y->s->level;
    if (!c)
        c = strcmp(x->s->name, y->s->name);
    if (!c)
        c = x->line < y->line ? -1 : x->line > y->line;
    return c;
}

static bool same_key(const struct station *a, const struct station *b)
{
    return !strcmp(a->area_code, b->area_code) && a->level == b->level && !strcmp(a->name, b->name);
}

static bool same_station(const struct station *a, const struct station *b)
{
    return !strcmp(a->name, b->name) && a->level == b->level &&
           !strcmp(a->area_code, b->area_code) && !strcmp(a->address, b->address) &&
           a->has_point == b->has_point &&
           (!a->has_point || (a->point.lat == b->point.lat && a->point.lon == b->point.lon)) &&
           a->staff == b->staff && !strcmp(a->phone, b->phone) &&
           !strcmp(a->opening_hours, b->opening_hours);
}

static void progress(const struct import_job *j, size_t done)
{
    if (j->o->progress)
        j->o->progress(j->o->progress_ctx, done, 2 * j->n);
}

/* Checks every row; marks the bad ones and records why. */
static int import_validate(struct store_conn *c, struct import_job *j, struct linli_err *err)
{
    for (size_t i = 0; i < j->n; i++) {
        const struct station_import_row *row = &j->rows[i];
        progress(j, i + 1);
        struct linli_err e;
        linli_err_clear(&e);
        if (stations_check(&row->f, &j->checked[i], &e)) {
            j->bad[i] = true;
            for (int k = 0; k < e.nfields; k++)
                row_error(j, row->line, e.fields[k].field, "%s", e.fields[k].message);
            continue;
        }
        const struct station *s = &j->checked[i];
        if (!stations__may_write_area(j->who, s->area_code)) {
            j->bad[i] = true;
            row_error(j, row->line, "area_code", "area %s is outside your scope", s->area_code);
            continue;
        }
        char why[160];
        int rc = stations__area_fits(c, s->area_code, s->level, why, sizeof why, err);
        if (rc < 0)
            return rc;
        if (rc) {
            j->bad[i] = true;
            row_error(j, row->line, "area_code", "%s", why);
        }
    }
    /* Two rows naming the same station (area, level, name): the later ones are bad. */
    struct key_ref *refs = malloc((j->n ? j->n : 1) * sizeof *refs);
    if (!refs)
        return linli_fail(err, LINLI_ENOMEM, "out of memory");
    size_t m = 0;
    for (size_t i = 0; i < j->n; i++)
        if (!j->bad[i])
            refs[m++] = (struct key_ref){&j->checked[i], j->rows[i].line, i};
    if (m)
        qsort(refs, m, sizeof *refs, by_key);
    size_t first = 0; /* the earliest row of the current run of equal keys */
    for (size_t k = 1; k < m; k++) {
        if (!same_key(refs[first].s, refs[k].s)) {
            first = k;
            continue;
        }
        j->bad[refs[k].row] = true;
        row_error(j, refs[k].line, "name", "names the same station as line %ld", refs[first].line);
    }
    free(refs);
    return j->oom ? linli_fail(err, LINLI_ENOMEM, "out of memory") : LINLI_OK;
}

static int import_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct import_job *j = arg;
    struct station_import_report *r = j->rep;
    int rc = import_validate(c, j, err);
    if (rc)
        return rc;
    int bad = 0;
    for (size_t i = 0; i < j->n; i++)
        bad += j->bad[i];
    r->bad = bad + j->o->bad_before;
    if (r->nerrors)
        qsort(r->errors, r->nerrors, sizeof *r->errors, by_line);
    if (r->bad && !j->o->skip_bad)
        return linli_fail(err, LINLI_EINVAL, "%d of %zu rows are bad; nothing was imported.",
                          r->bad, j->n + (size_t)j->o->bad_before);
    int64_t now = clock_now_ms();
    for (size_t i = 0; i < j->n; i++) {
        progress(j, j->n + i + 1);
        if (j->bad[i])
            continue;
        const struct station *s = &j->checked[i];
        int64_t id;
        if ((rc = stations__find_by_key(c, s, &id, err)) < 0)
            return rc;
        if (rc == 0) {
            r->added++;
            if (!j->o->dry_run && (rc = stations__insert_station(c, s, now, &id, err)))
                return rc;
            continue;
        }
        struct station old;
        bool found;
        if ((rc = stations__load_station(c, id, &old, &found, err)))
            return rc;
        if (same_station(&old, s)) {
            r->unchanged++;
            continue;
        }
        r->updated++;
        if (!j->o->dry_run && (rc = stations__update_station(c, id, s, now, err)))
            return rc;
    }
    if (j->o->dry_run)
        return LINLI_OK;
    json_t *detail = json_pack("{s:s?, s:I, s:i, s:i, s:i, s:i}", "source", j->o->source, "rows",
                               (json_int_t)j->n + j->o->bad_before, "added", r->added, "updated",
                               r->updated, "unchanged", r->unchanged, "skipped", r->bad);
    rc = audit_append(c, j->who, "station.import", NULL, detail, err);
    json_decref(detail);
    return rc;
}

int stations_import(struct domain *d, const struct principal *who,
                    const struct station_import_row *rows, size_t n,
                    const struct station_import_opts *opts, struct station_import_report *report,
                    struct linli_err *err)
{
    memset(report, 0, sizeof *report);
    if (!stations__writer_role(who))
        return stations__forbidden_role(err, "import stations");
    if (n == 0 && opts->bad_before == 0)
        return linli_fail(err, LINLI_EINVAL, "The file holds no stations.");
    struct import_job j = {.who = who, .rows = rows, .n = n, .o = opts, .rep = report};
    j.checked = calloc(n ? n : 1, sizeof *j.checked);
    j.bad = calloc(n ? n : 1, sizeof *j.bad);
    if (!j.checked || !j.bad) {
        free(j.checked);
        free(j.bad);
        return linli_fail(err, LINLI_ENOMEM, "out of memory");
    }
    int rc = opts->dry_run ? store_read(d->store, import_job, &j, err)
                           : store_write(d->store, import_job, &j, err);
    free(j.checked);
    free(j.bad);
    if (rc == LINLI_OK && !opts->dry_run && report->added + report->updated > 0)
        domain_publish(d, "station.imported",
                       json_pack("{s:i, s:i}", "added", report->added, "updated", report->updated));
    return rc;
}

void stations_import_report_free(struct station_import_report *r)
{
    free(r->errors);
    r->errors = NULL;
    r->nerrors = 0;
}
