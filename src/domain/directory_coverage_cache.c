/* directory_coverage_cache.c - coverage reports kept until what they count
 * changes.
 *
 * A coverage report scans every elderly person in the caller's scope (about
 * half a second for a district of 650,000), yet the dashboard asks the same
 * question on every visit. A report depends on its parameters, the caller's
 * scope, today's date (who is old enough) and three stored things: the
 * directory (directory_rev), the people and the areas (data_revs, bumped by
 * triggers in the writing transaction, whoever writes). A kept report is
 * given out again only while all of those are unchanged; the revision
 * numbers are read once per request, which costs one indexed read.
 *
 * The numbers are read before the report is computed, so a kept report is
 * never older than the revisions it is filed under (at worst newer, when a
 * write landed during the scan: the next request sees the new revision and
 * computes again). A few recent reports are kept, the least recently used
 * going first. */
#include "domain/directory_internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define KEPT_MAX 8 /* reports kept: services x levels x scopes a district asks for */

struct kept {
    struct coverage_key key;
    struct service_coverage report; /* areas malloc'd, owned here */
    uint64_t used;                  /* tick of its last use; 0 = empty slot */
};

struct coverage_cache {
    pthread_mutex_t lock;
    uint64_t tick;
    struct kept slot[KEPT_MAX];
};

static const char SQL_REVS[] = "SELECT (SELECT rev FROM directory_rev WHERE id = 1),"
                               " (SELECT rev FROM data_revs WHERE name = 'people'),"
                               " (SELECT rev FROM data_revs WHERE name = 'areas')";

static int revs_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    int64_t *revs = arg;
    sqlite3_stmt *st = store_stmt(c, SQL_REVS, err);
    if (!st)
        return err->status;
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW)
        return store_fail(c, rc, "reading revision numbers", err);
    for (int i = 0; i < 3; i++)
        revs[i] = sqlite3_column_int64(st, i);
    sqlite3_reset(st);
    return LINLI_OK;
}

int directory__coverage_revs(struct domain *d, int64_t revs[3], struct linli_err *err)
{
    return store_read(d->store, revs_job, revs, err);
}

static struct coverage_cache *cache_get(struct domain *d)
{
    struct coverage_cache *c = __atomic_load_n(&d->coverage_cache, __ATOMIC_ACQUIRE);
    if (c)
        return c;
    struct coverage_cache *fresh = calloc(1, sizeof *fresh);
    if (!fresh)
        return NULL;
    if (pthread_mutex_init(&fresh->lock, NULL)) {
        free(fresh);
        return NULL;
    }
    struct coverage_cache *expected = NULL;
    if (__atomic_compare_exchange_n(&d->coverage_cache, &expected, fresh, false, __ATOMIC_ACQ_REL,
                                    __ATOMIC_ACQUIRE))
        return fresh;
    pthread_mutex_destroy(&fresh->lock);
    free(fresh);
    return expected;
}

/* Keys are built with memset and snprintf, so padding and the bytes after
 * each string's end are zero: memcmp compares them whole. */
static bool same_key(const struct coverage_key *a, const struct coverage_key *b)
{
    return memcmp(a, b, sizeof *a) == 0;
}

/* A deep copy of `src` into `dst`; false when out of memory (dst empty). */
static bool copy_report(struct service_coverage *dst, const struct service_coverage *src)
{
    *dst = *src;
    size_t n = src->nareas > 0 ? (size_t)src->nareas : 1;
    dst->areas = malloc(n * sizeof *dst->areas);
    if (!dst->areas) {
        memset(dst, 0, sizeof *dst);
        return false;
    }
    if (src->nareas > 0)
        memcpy(dst->areas, src->areas, (size_t)src->nareas * sizeof *dst->areas);
    return true;
}

bool directory__coverage_kept(struct domain *d, const struct coverage_key *k,
                              struct service_coverage *out)
{
    struct coverage_cache *c = cache_get(d);
    if (!c)
        return false;
    bool hit = false;
    pthread_mutex_lock(&c->lock);
    for (int i = 0; i < KEPT_MAX && !hit; i++) {
        struct kept *s = &c->slot[i];
        if (s->used && same_key(&s->key, k) && copy_report(out, &s->report)) {
            s->used = ++c->tick;
            hit = true;
        }
    }
    pthread_mutex_unlock(&c->lock);
    return hit;
}

void directory__coverage_keep(struct domain *d, const struct coverage_key *k,
                              const struct service_coverage *r)
{
    struct coverage_cache *c = cache_get(d);
    struct service_coverage copy;
    if (!c || !copy_report(&copy, r))
        return; /* not kept: the next request computes it again */
    pthread_mutex_lock(&c->lock);
    /* The slot with the same key (a race computed it twice), else an empty
     * one, else the least recently used. */
    struct kept *victim = &c->slot[0];
    for (int i = 0; i < KEPT_MAX; i++) {
        struct kept *s = &c->slot[i];
        if (s->used && same_key(&s->key, k)) {
            victim = s;
            break;
        }
        if (s->used < victim->used)
            victim = s;
    }
    service_coverage_free(&victim->report);
    victim->key = *k;
    victim->report = copy;
    victim->used = ++c->tick;
    pthread_mutex_unlock(&c->lock);
}

void directory__coverage_cache_free(struct domain *d)
{
    struct coverage_cache *c = d->coverage_cache;
    if (!c)
        return;
    for (int i = 0; i < KEPT_MAX; i++)
        service_coverage_free(&c->slot[i].report);
    pthread_mutex_destroy(&c->lock);
    free(c);
    d->coverage_cache = NULL;
}
