/* directory_index.c - the directory's memory copy: the catalogue and every
 * facility that is not closed, with a spatial index of their points.
 *
 * The copy follows the store by revision. Every directory write adds one to
 * directory_rev and stamps the rows it touched with the new number, in the
 * same transaction; directory_refresh reads the stored number (one indexed
 * read) and, when it moved, reloads the facilities stamped after the copy's
 * own number, all inside one read transaction so the number and the rows
 * agree. Writes by this process refresh right after their commit; writes by
 * another process (the command line) are picked up by the next search.
 *
 * Readers share the copy under a read lock; a refresh takes the write lock
 * only when there is something to apply. The copy is made on first use and
 * installed with a compare-and-swap, so no caller needs to set it up. */
#include "domain/directory_internal.h"

#include "base/log.h"

#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

struct directory {
    pthread_rwlock_t lock;
    int64_t rev; /* the store revision the copy reflects; -1 = nothing loaded */
    struct spindex *ix;
    struct facility **by_id; /* trimmed copies (see copy_size), by id; NULL = none */
    size_t cap;
    size_t count;
    int ncatalogue;
    struct service_def catalogue[CATALOGUE_MAX];
};

static size_t copy_size(const struct facility *f)
{
    return offsetof(struct facility, services) +
           (size_t)f->nservices * sizeof(struct facility_service);
}

static struct directory *dir_new(void)
{
    struct directory *dir = calloc(1, sizeof *dir);
    if (!dir)
        return NULL;
    dir->ix = spindex_new(0);
    if (!dir->ix || pthread_rwlock_init(&dir->lock, NULL)) {
        spindex_free(dir->ix);
        free(dir);
        return NULL;
    }
    dir->rev = -1;
    return dir;
}

static void dir_free(struct directory *dir)
{
    if (!dir)
        return;
    for (size_t i = 0; i < dir->cap; i++)
        free(dir->by_id[i]);
    free(dir->by_id);
    spindex_free(dir->ix);
    pthread_rwlock_destroy(&dir->lock);
    free(dir);
}

static struct directory *dir_get(struct domain *d, struct linli_err *err)
{
    struct directory *dir = __atomic_load_n(&d->directory, __ATOMIC_ACQUIRE);
    if (dir)
        return dir;
    struct directory *fresh = dir_new();
    if (!fresh) {
        linli_fail(err, LINLI_ENOMEM, "Out of memory for the service directory.");
        return NULL;
    }
    struct directory *expected = NULL;
    if (__atomic_compare_exchange_n(&d->directory, &expected, fresh, false, __ATOMIC_ACQ_REL,
                                    __ATOMIC_ACQUIRE))
        return fresh;
    dir_free(fresh);
    return expected;
}

void directory_close(struct domain *d)
{
    directory__coverage_cache_free(d);
    dir_free(d->directory);
    d->directory = NULL;
}

void directory_walk_model(const struct domain *d, struct walk_model *out)
{
    walk_straight_line(out, d->walk_detour > 0 ? d->walk_detour : WALK_DETOUR_DEFAULT,
                       d->walk_speed > 0 ? d->walk_speed : WALK_SPEED_DEFAULT);
}

/* ---- loading ---- */

static int put_facility(struct directory *dir, const struct facility *f, struct linli_err *err)
{
    if (f->id <= 0 || f->id > DIRECTORY_ID_MAX)
        return linli_fail(err, LINLI_EIO, "Facility id %lld is out of range.", (long long)f->id);
    size_t id = (size_t)f->id;
    if (id >= dir->cap) {
        size_t cap = dir->cap ? dir->cap : 1024;
        while (cap <= id)
            cap *= 2;
        struct facility **grown = realloc(dir->by_id, cap * sizeof *grown);
        if (!grown)
            return linli_fail(err, LINLI_ENOMEM, "Out of memory for the service directory.");
        memset(grown + dir->cap, 0, (cap - dir->cap) * sizeof *grown);
        dir->by_id = grown;
        dir->cap = cap;
    }
    if (f->status == FACILITY_CLOSED) {
        if (dir->by_id[id]) {
            free(dir->by_id[id]);
            dir->by_id[id] = NULL;
            dir->count--;
            spindex_remove(dir->ix, f->id);
        }
        return LINLI_OK;
    }
    size_t size = copy_size(f);
    struct facility *copy = malloc(size);
    if (!copy || spindex_put(dir->ix, f->id, f->point)) {
        free(copy);
        return linli_fail(err, LINLI_ENOMEM, "Out of memory for the service directory.");
    }
    memcpy(copy, f, size);
    if (dir->by_id[id])
        free(dir->by_id[id]);
    else
        dir->count++;
    dir->by_id[id] = copy;
    return LINLI_OK;
}

static const char SQL_REV[] = "SELECT rev FROM directory_rev WHERE id = 1";
static const char SQL_CHANGED[] =
    "SELECT " DIRECTORY__COLUMNS DIRECTORY__FROM "WHERE f.rev > ?1 ORDER BY f.id";
static const char SQL_CATALOGUE[] =
    "SELECT code, name_zh, name_en, unit FROM services ORDER BY position, code";

static int read_rev(struct store_conn *c, int64_t *rev, struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_REV, err);
    if (!st)
        return err->status;
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW)
        return store_fail(c, rc, "reading the directory's revision", err);
    *rev = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return LINLI_OK;
}

static int rev_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    return read_rev(c, arg, err);
}

static int load_catalogue(struct store_conn *c, struct directory *dir, struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_CATALOGUE, err);
    if (!st)
        return err->status;
    int n = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < CATALOGUE_MAX) {
        struct service_def *s = &dir->catalogue[n++];
        memset(s, 0, sizeof *s);
        directory__copy_col(s->code, sizeof s->code, st, 0);
        directory__copy_col(s->name_zh, sizeof s->name_zh, st, 1);
        directory__copy_col(s->name_en, sizeof s->name_en, st, 2);
        if (price_unit_parse((const char *)sqlite3_column_text(st, 3), &s->unit))
            s->unit = UNIT_VISIT;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_fail(c, rc, "reading the service catalogue", err);
    dir->ncatalogue = n;
    return LINLI_OK;
}

/* Applies, under the write lock, the rows changed since the copy's revision,
 * all read in one transaction together with the revision they add up to. */
static int reload_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct directory *dir = arg;
    sqlite3 *db = store_db(c);
    int rc = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return store_fail(c, rc, "starting a read of the directory", err);
    int64_t rev = 0;
    if ((rc = read_rev(c, &rev, err)) || (rc = load_catalogue(c, dir, err)))
        goto done;
    sqlite3_stmt *st = store_stmt(c, SQL_CHANGED, err);
    if (!st) {
        rc = err->status;
        goto done;
    }
    sqlite3_bind_int64(st, 1, dir->rev);
    struct facility *f = malloc(sizeof *f);
    if (!f) {
        sqlite3_reset(st);
        rc = linli_fail(err, LINLI_ENOMEM, "Out of memory for the service directory.");
        goto done;
    }
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (directory__read_row(st, f)) {
            log_warn("directory: facility %lld has unreadable stored details; skipped",
                     (long long)sqlite3_column_int64(st, 0));
            continue;
        }
        if ((rc = put_facility(dir, f, err)))
            break;
    }
    free(f);
    sqlite3_reset(st);
    if (!rc && step != SQLITE_DONE)
        rc = store_fail(c, step, "reading facilities", err);
    if (!rc)
        dir->rev = rev;
done:
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    return rc;
}

int directory_refresh(struct domain *d, struct linli_err *err)
{
    struct directory *dir = dir_get(d, err);
    if (!dir)
        return err->status;
    int64_t rev = 0;
    int rc = store_read(d->store, rev_job, &rev, err);
    if (rc)
        return rc;
    if (rev == __atomic_load_n(&dir->rev, __ATOMIC_ACQUIRE))
        return LINLI_OK;
    pthread_rwlock_wrlock(&dir->lock);
    if (dir->rev != rev)
        rc = store_read(d->store, reload_job, dir, err);
    pthread_rwlock_unlock(&dir->lock);
    return rc;
}

/* ---- reading the copy ---- */

struct directory *directory__lock_read(struct domain *d, struct linli_err *err)
{
    if (directory_refresh(d, err))
        return NULL;
    struct directory *dir = d->directory;
    pthread_rwlock_rdlock(&dir->lock);
    return dir;
}

void directory__unlock(struct directory *dir)
{
    pthread_rwlock_unlock(&dir->lock);
}

const struct facility *directory__find(const struct directory *dir, int64_t id)
{
    return id > 0 && (size_t)id < dir->cap ? dir->by_id[id] : NULL;
}

const struct spindex *directory__spindex(const struct directory *dir)
{
    return dir->ix;
}

size_t directory__copy_facility(struct facility *dst, const struct facility *src)
{
    size_t size = copy_size(src);
    memcpy(dst, src, size);
    return size;
}

bool services_known(struct domain *d, const char *code)
{
    struct linli_err err;
    linli_err_clear(&err);
    struct directory *dir = directory__lock_read(d, &err);
    if (!dir)
        return false;
    bool found = false;
    for (int i = 0; code && i < dir->ncatalogue && !found; i++)
        found = !strcmp(dir->catalogue[i].code, code);
    directory__unlock(dir);
    return found;
}

int directory__catalogue(struct domain *d, struct service_def *out, int *n, struct linli_err *err)
{
    struct directory *dir = directory__lock_read(d, err);
    if (!dir)
        return err->status;
    memcpy(out, dir->catalogue, (size_t)dir->ncatalogue * sizeof *out);
    *n = dir->ncatalogue;
    directory__unlock(dir);
    return LINLI_OK;
}

int directory__service_points(struct domain *d, const char *service, struct geo_point **pts,
                              size_t *n, struct linli_err *err)
{
    *pts = NULL;
    *n = 0;
    struct directory *dir = directory__lock_read(d, err);
    if (!dir)
        return err->status;
    struct geo_point *out = dir->count ? malloc(dir->count * sizeof *out) : NULL;
    if (dir->count && !out) {
        directory__unlock(dir);
        return linli_fail(err, LINLI_ENOMEM, "Out of memory.");
    }
    size_t k = 0;
    for (size_t id = 0; id < dir->cap; id++) {
        const struct facility *f = dir->by_id[id];
        if (f && f->status == FACILITY_OPEN && (!service || facility__service(f, service) >= 0))
            out[k++] = f->point;
    }
    directory__unlock(dir);
    *pts = out;
    *n = k;
    return LINLI_OK;
}

struct each_ctx {
    const struct directory *dir;
    directory_each_fn fn;
    void *ctx;
};

static int each_visit(void *ctx, int64_t id, struct geo_point at, double dist_m)
{
    (void)at;
    struct each_ctx *e = ctx;
    const struct facility *f = directory__find(e->dir, id);
    return f ? e->fn(e->ctx, f, dist_m) : 0;
}

int directory__each_near(struct domain *d, struct geo_point p, double radius_m,
                         directory_each_fn fn, void *ctx, struct linli_err *err)
{
    struct directory *dir = directory__lock_read(d, err);
    if (!dir)
        return err->status;
    if (radius_m > 0) {
        struct each_ctx e = {dir, fn, ctx};
        spindex_visit_within(dir->ix, p, radius_m, each_visit, &e);
    } else {
        for (size_t id = 0; id < dir->cap; id++) {
            const struct facility *f = dir->by_id[id];
            if (f && fn(ctx, f, geo_distance_m(p, f->point)))
                break;
        }
    }
    directory__unlock(dir);
    return LINLI_OK;
}

int facility__service(const struct facility *f, const char *code)
{
    for (int i = 0; i < f->nservices; i++)
        if (!strcmp(f->services[i].code, code))
            return i;
    return -1;
}
