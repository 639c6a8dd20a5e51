/* people_import.c - bulk import of residents' profiles: an importer checks
 * rows first (the profile rules, current communities, the caller's area, ID
 * numbers already recorded or repeated within the import), then writes good
 * rows in batches, one transaction and one audit entry each; people_import
 * runs both over a whole set. */
#include "domain/people_internal.h"

#include "base/clock.h"
#include "domain/audit.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char SQL_ID_NUMBER_OWNER[] = "SELECT id FROM people WHERE id_number = ?";
static const char SQL_CURRENT_COMMUNITIES[] =
    "SELECT code FROM areas WHERE level = 2 AND retired_edition IS NULL ORDER BY code";

/* The ID numbers an import has seen, with the label of the row that had each:
 * open addressing over the first 17 digits (a valid number's check character
 * follows from them, and no province code is 00, so 0 marks a free slot). */
struct id_set {
    uint64_t *keys;
    long *labels;
    size_t cap, n;
};

static uint64_t id_key(const char *normalized)
{
    uint64_t k = 0;
    for (int i = 0; i < 17; i++)
        k = k * 10 + (uint64_t)(normalized[i] - '0');
    return k;
}

static size_t id_slot(const struct id_set *s, uint64_t key)
{
    size_t i = (size_t)((key * 0x9E3779B97F4A7C15ull) >> 17) & (s->cap - 1);
    while (s->keys[i] && s->keys[i] != key)
        i = (i + 1) & (s->cap - 1);
    return i;
}

static int id_set_grow(struct id_set *s)
{
    struct id_set bigger = {calloc(s->cap ? s->cap * 2 : 4096, sizeof(uint64_t)),
                            calloc(s->cap ? s->cap * 2 : 4096, sizeof(long)),
                            s->cap ? s->cap * 2 : 4096, s->n};
    if (!bigger.keys || !bigger.labels) {
        free(bigger.keys);
        free(bigger.labels);
        return -1;
    }
    for (size_t i = 0; i < s->cap; i++) {
        if (s->keys[i]) {
            size_t k = id_slot(&bigger, s->keys[i]);
            bigger.keys[k] = s->keys[i];
            bigger.labels[k] = s->labels[i];
        }
    }
    free(s->keys);
    free(s->labels);
    *s = bigger;
    return 0;
}

/* Adds `key`; returns 0, or 1 with *first set when it was there, -1 out of memory. */
static int id_set_add(struct id_set *s, uint64_t key, long label, long *first)
{
    if (2 * (s->n + 1) > s->cap && id_set_grow(s))
        return -1;
    size_t i = id_slot(s, key);
    if (s->keys[i]) {
        *first = s->labels[i];
        return 1;
    }
    s->keys[i] = key;
    s->labels[i] = label;
    s->n++;
    return 0;
}

struct people_importer {
    struct domain *d;
    struct principal who;
    int today;
    int64_t cache_before; /* the writer's cache_size to put back; 0 = not changed */
    char (*communities)[AREA_CODE_LEN + 1]; /* current community codes, sorted */
    size_t ncommunities;
    struct id_set ids;
    size_t checked, written;
    struct person scratch;
};

struct communities_args {
    struct people_importer *im;
    size_t cap;
};

static int communities_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct communities_args *a = arg;
    sqlite3_stmt *st = store_stmt(c, SQL_CURRENT_COMMUNITIES, err);
    if (!st)
        return err->status;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (a->im->ncommunities == a->cap) {
            size_t cap = a->cap ? a->cap * 2 : 1024;
            void *p = realloc(a->im->communities, cap * sizeof *a->im->communities);
            if (!p)
                return linli_fail(err, LINLI_ENOMEM, "out of memory");
            a->im->communities = p;
            a->cap = cap;
        }
        people__copy_col(a->im->communities[a->im->ncommunities++], AREA_CODE_LEN + 1, st, 0);
    }
    if (rc != SQLITE_DONE)
        return store_fail(c, rc, "reading the communities", err);
    sqlite3_reset(st);
    return LINLI_OK;
}

static int code_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

static bool community_current(const struct people_importer *im, const char *code)
{
    return im->ncommunities &&
           bsearch(code, im->communities, im->ncommunities, sizeof *im->communities, code_cmp);
}

/* A bulk import touches index pages all over the file: with SQLite's default
 * page cache (2 MB) every insert reads pages back from the OS. Once an import
 * writes a full batch, the writer connection gets a cache of
 * PEOPLE_IMPORT_CACHE_KIB; the old size comes back when the importer ends.
 * Small imports (the demo's, a community at a time) leave it alone. */
static int writer_cache_grow(struct store_conn *c, int64_t *before, struct linli_err *err)
{
    sqlite3 *db = store_db(c);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "PRAGMA cache_size", -1, &st, NULL) != SQLITE_OK)
        return store_fail(c, sqlite3_errcode(db), "reading the cache size", err);
    if (sqlite3_step(st) == SQLITE_ROW)
        *before = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA cache_size=-%d", PEOPLE_IMPORT_CACHE_KIB);
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? LINLI_OK : store_fail(c, rc, "setting the cache size", err);
}

static int cache_restore_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA cache_size=%lld", (long long)*(int64_t *)arg);
    int rc = sqlite3_exec(store_db(c), sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? LINLI_OK : store_fail(c, rc, "setting the cache size", err);
}

int people_importer_new(struct domain *d, const struct principal *who, struct people_importer **out,
                        struct linli_err *err)
{
    *out = NULL;
    if (!people_may_write(who->role))
        return linli_fail(err, LINLI_EFORBIDDEN, "Your role may not add residents' profiles.");
    struct people_importer *im = calloc(1, sizeof *im);
    if (!im)
        return linli_fail(err, LINLI_ENOMEM, "out of memory");
    im->d = d;
    im->who = *who;
    im->today = people_today();
    struct communities_args a = {im, 0};
    int rc = store_read(d->store, communities_job, &a, err);
    if (rc) {
        people_importer_free(im);
        return rc;
    }
    *out = im;
    return LINLI_OK;
}

void people_importer_free(struct people_importer *im)
{
    if (!im)
        return;
    if (im->cache_before) {
        struct linli_err err;
        linli_err_clear(&err);
        /* A failure (the store stopping) only leaves the cache bigger. */
        store_write(im->d->store, cache_restore_job, &im->cache_before, &err);
    }
    free(im->communities);
    free(im->ids.keys);
    free(im->ids.labels);
    free(im);
}

size_t people_importer_written(const struct people_importer *im)
{
    return im->written;
}

struct owners_args {
    const char (*ids)[IDNUM_LEN + 1];
    int64_t *owner;
    size_t n;
};

static int owners_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct owners_args *a = arg;
    sqlite3_stmt *st = store_stmt(c, SQL_ID_NUMBER_OWNER, err);
    if (!st)
        return err->status;
    for (size_t i = 0; i < a->n; i++) {
        if (!a->ids[i][0])
            continue;
        sqlite3_bind_text(st, 1, a->ids[i], IDNUM_LEN, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
            a->owner[i] = sqlite3_column_int64(st, 0);
        else if (rc != SQLITE_DONE)
            return store_fail(c, rc, "looking up an ID number", err);
        sqlite3_reset(st);
    }
    return LINLI_OK;
}

int people_importer_check(struct people_importer *im, const struct person_in *rows, size_t n,
                          const long *labels, bool *bad, people_bad_row_fn bad_row, void *ctx,
                          struct linli_err *err)
{
    struct owners_args a = {calloc(n ? n : 1, IDNUM_LEN + 1), calloc(n ? n : 1, sizeof(int64_t)),
                            n};
    if (!a.ids || !a.owner) {
        free((void *)a.ids);
        free(a.owner);
        return linli_fail(err, LINLI_ENOMEM, "out of memory");
    }
    char(*ids)[IDNUM_LEN + 1] = (char(*)[IDNUM_LEN + 1]) a.ids;
    for (size_t i = 0; i < n; i++) {
        struct idnum_info info;
        const char *why;
        if (rows[i].id_number && idnum_check(rows[i].id_number, im->today, &info, &why) == 0)
            memcpy(ids[i], info.normalized, IDNUM_LEN + 1);
    }
    int rc = store_read(im->d->store, owners_job, &a, err);
    const char *word = labels ? "line" : "row";
    for (size_t i = 0; i < n && rc == LINLI_OK; i++) {
        struct linli_err e;
        linli_err_clear(&e);
        long label = labels ? labels[i] : (long)(im->checked + i + 1);
        people_check(&rows[i], im->today, &im->scratch, &e);
        const char *code = im->scratch.community_code;
        if (code[0] && !community_current(im, code))
            linli_field(&e, "community_code", "is not a current community in the registry");
        else if (code[0] && !people_visible(&im->who, code))
            linli_field(&e, "community_code", "lies outside your area");
        if (ids[i][0] && a.owner[i]) {
            linli_field(&e, "id_number", "is already recorded (person %lld)",
                        (long long)a.owner[i]);
        } else if (ids[i][0]) {
            long first = 0;
            int seen = id_set_add(&im->ids, id_key(ids[i]), label, &first);
            if (seen < 0)
                rc = linli_fail(err, LINLI_ENOMEM, "out of memory");
            else if (seen)
                linli_field(&e, "id_number", "appears twice in this import (first on %s %ld)", word,
                            first);
        }
        bad[i] = e.nfields > 0;
        for (int k = 0; bad_row && k < e.nfields; k++)
            bad_row(ctx, i, e.fields[k].field, e.fields[k].message);
    }
    im->checked += n;
    free((void *)a.ids);
    free(a.owner);
    return rc;
}

struct write_job {
    struct people_importer *im;
    const struct person_in *rows;
    size_t n;
    size_t failed_row;
};

static int write_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct write_job *j = arg;
    struct people_importer *im = j->im;
    struct person *p = &im->scratch;
    int64_t now = clock_now_ms(), first_id = 0, id = 0;
    if (!im->cache_before && j->n >= PEOPLE_IMPORT_BATCH) {
        int64_t before = 0;
        int rc = writer_cache_grow(c, &before, err);
        if (rc)
            return rc;
        im->cache_before = before ? before : -2000; /* -2000: SQLite's default, 2 MB */
    }
    for (size_t i = 0; i < j->n; i++) {
        j->failed_row = i;
        int rc = people_check(&j->rows[i], im->today, p, err);
        if (rc == LINLI_OK && !community_current(im, p->community_code))
            rc = linli_field(err, "community_code", "is not a current community in the registry");
        if (rc == LINLI_OK && !people_visible(&im->who, p->community_code))
            rc = linli_field(err, "community_code", "lies outside your area");
        if (rc == LINLI_OK)
            rc = people__insert(c, p, now, &id, err);
        if (rc) {
            if (rc == LINLI_EINVAL)
                linli_fail(err, LINLI_EINVAL, "A row became invalid between check and write.");
            return rc;
        }
        if (!first_id)
            first_id = id;
    }
    json_t *detail = json_pack("{s:I, s:I, s:I}", "rows", (json_int_t)j->n, "first_id",
                               (json_int_t)first_id, "last_id", (json_int_t)id);
    int rc = audit_append(c, &im->who, "person.import", "people", detail, err);
    json_decref(detail);
    return rc;
}

int people_importer_write(struct people_importer *im, const struct person_in *rows, size_t n,
                          size_t *failed_row, struct linli_err *err)
{
    if (n == 0)
        return LINLI_OK;
    struct write_job j = {im, rows, n, 0};
    int rc = store_write(im->d->store, write_job, &j, err);
    if (rc == LINLI_OK)
        im->written += n;
    else if (failed_row)
        *failed_row = j.failed_row;
    return rc;
}

/* Bad rows of a chunk, reported with their index in the whole set. */
struct chunk_ctx {
    const struct people_import_options *o;
    size_t at;
};

static void chunk_bad_row(void *ctx, size_t index, const char *field, const char *reason)
{
    struct chunk_ctx *cc = ctx;
    cc->o->bad_row(cc->o->ctx, cc->at + index, field, reason);
}

int people_import(struct domain *d, const struct principal *who, const struct person_in *rows,
                  size_t n, const struct people_import_options *o,
                  struct people_import_report *report, struct linli_err *err)
{
    memset(report, 0, sizeof *report);
    report->rows = n;
    size_t batch = o->batch_rows > 0 ? (size_t)o->batch_rows : PEOPLE_IMPORT_BATCH;
    struct people_importer *im;
    int rc = people_importer_new(d, who, &im, err);
    if (rc)
        return rc;
    bool *bad = calloc(n ? n : 1, sizeof *bad);
    struct person_in *good = malloc(batch * sizeof *good);
    if (!bad || !good) {
        rc = linli_fail(err, LINLI_ENOMEM, "out of memory");
        goto out;
    }
    struct chunk_ctx cc = {o, 0};
    for (size_t at = 0; at < n && rc == LINLI_OK; at += batch) {
        size_t k = n - at < batch ? n - at : batch;
        cc.at = at;
        rc = people_importer_check(im, rows + at, k, NULL, bad + at,
                                   o->bad_row ? chunk_bad_row : NULL, &cc, err);
    }
    for (size_t i = 0; i < n; i++)
        report->bad += bad[i];
    if (rc == LINLI_OK && report->bad && !o->skip_bad) {
        rc = linli_fail(err, LINLI_EINVAL, "%zu of %zu rows are bad; nothing was imported.",
                        report->bad, n);
        goto out;
    }
    size_t k = 0, done = 0, total = n - report->bad;
    for (size_t i = 0; rc == LINLI_OK && i <= n; i++) {
        if (i < n && !bad[i])
            good[k++] = rows[i];
        if (k == batch || (i == n && k)) {
            rc = people_importer_write(im, good, k, NULL, err);
            if (rc == LINLI_OK) {
                done += k;
                if (o->progress)
                    o->progress(o->ctx, done, total);
            }
            k = 0;
        }
    }
    report->imported = people_importer_written(im);
    if (report->imported)
        domain_publish(d, "people.imported",
                       json_pack("{s:I}", "count", (json_int_t)report->imported));
out:
    free(bad);
    free(good);
    people_importer_free(im);
    return rc;
}
