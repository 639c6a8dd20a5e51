/* directory_search.c - "what is near me": facilities around a point, by
 * walking time, then price, from the memory copy and its spatial index.
 *
 * Walking times are compared in whole minutes, rounded up (as a resident
 * reads them: "6 minutes"), so that between two places the same walk away
 * the cheaper comes first; then distance, then id. Candidates are ranked by
 * small keys; only the hits returned are copied out of the memory copy. */
#include "domain/directory_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void directory__check_point(struct domain *d, const char *field, struct geo_point p,
                            struct linli_err *err)
{
    if (!isfinite(p.lat) || !isfinite(p.lon) || p.lat < -90 || p.lat > 90 || p.lon < -180 ||
        p.lon > 180) {
        linli_field(err, field, "is not a latitude and longitude in degrees");
        return;
    }
    if (!geo_in_china(p)) {
        linli_field(err, field, "%.5f,%.5f is outside China", p.lat, p.lon);
        return;
    }
    struct geo_point lo, hi;
    if (!d->boundary || boundary_bbox(d->boundary, &lo, &hi))
        return;
    /* The distance from the point to the outline's bounding box. */
    struct geo_point q = {p.lat < lo.lat   ? lo.lat
                          : p.lat > hi.lat ? hi.lat
                                           : p.lat,
                          p.lon < lo.lon   ? lo.lon
                          : p.lon > hi.lon ? hi.lon
                                           : p.lon};
    double km = geo_distance_m(p, q) / 1000.0;
    if (km > DIRECTORY_SERVED_KM)
        linli_field(err, field, "%.5f,%.5f is %.0f km outside the district served", p.lat, p.lon,
                    km);
}

int directory_query_check(struct domain *d, const struct directory_query *q, struct linli_err *err)
{
    struct linli_err e;
    linli_err_clear(&e);
    directory__check_point(d, "near", q->origin, &e);
    if (!isfinite(q->minutes) || q->minutes < 0 || q->minutes > DIRECTORY_MINUTES_MAX)
        linli_field(&e, "minutes", "must be more than 0 and at most %d", DIRECTORY_MINUTES_MAX);
    if (q->service && !services_known(d, q->service))
        linli_field(&e, "service", "\"%s\" is not in the service catalogue", q->service);
    if (q->kind < -1 || q->kind >= FACILITY_KINDS)
        linli_field(&e, "kind", "is not a facility kind");
    if (q->max_price_fen >= 0 && !q->service)
        linli_field(&e, "max_price", "needs a service to compare the price of");
    if (q->limit < 1 || q->limit > DIRECTORY_HITS_MAX)
        linli_field(&e, "limit", "must be 1 to %d", DIRECTORY_HITS_MAX);
    if (!e.nfields)
        return LINLI_OK;
    for (int i = 0; i < e.nfields; i++)
        linli_field(err, e.fields[i].field, "%s", e.fields[i].message);
    return linli_fail(err, LINLI_EINVAL, "The search has invalid parameters.");
}

struct search_ctx {
    const struct directory *dir;
    const struct directory_query *q;
};

/* Whether facility `id` answers the query, walking time aside. */
static int keep(void *ctx, int64_t id)
{
    struct search_ctx *s = ctx;
    const struct directory_query *q = s->q;
    const struct facility *f = directory__find(s->dir, id);
    if (!f || (q->kind >= 0 && f->kind != q->kind))
        return 0;
    if (q->service) {
        int i = facility__service(f, q->service);
        if (i < 0 || (q->max_price_fen >= 0 && f->services[i].price_fen > q->max_price_fen))
            return 0;
    }
    if (q->beds_free && f->beds_free <= 0)
        return 0;
    if (q->only_open && !facility_open_at(f, q->at))
        return 0;
    return 1;
}

/* What a candidate is ordered by, small enough to sort many of; only the
 * hits kept get a copy of their facility. */
struct ranked {
    double minutes_up; /* walking minutes rounded up (walk_minutes_whole) */
    int64_t price;     /* of the queried service, 0 without one */
    double dist_m, minutes;
    int64_t id;
    const struct facility *f;
    int service_index;
};

static int ranked_cmp(const void *a, const void *b)
{
    const struct ranked *x = a, *y = b;
    if (x->minutes_up != y->minutes_up)
        return x->minutes_up < y->minutes_up ? -1 : 1;
    if (x->price != y->price)
        return x->price < y->price ? -1 : 1;
    if (x->dist_m != y->dist_m)
        return x->dist_m < y->dist_m ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

int directory_search(struct domain *d, const struct directory_query *q, struct directory_hit **hits,
                     int *n, struct linli_err *err)
{
    *hits = NULL;
    *n = 0;
    if (directory_query_check(d, q, err))
        return LINLI_EINVAL;
    struct walk_model m;
    directory_walk_model(d, &m);
    struct directory *dir = directory__lock_read(d, err);
    if (!dir)
        return err->status;
    const struct spindex *ix = directory__spindex(dir);
    struct search_ctx ctx = {dir, q};
    double radius = q->minutes > 0 ? m.reach_m(&m, q->minutes) : 0;
    struct spindex_hit *cand = NULL;
    size_t ncand = 0;
    int rc = 0;
    if (radius <= 0) {
        /* No time limit: the nearest `limit`, plus whatever else lies within
         * the same whole minute as the last of them (a cheaper one may). */
        struct spindex_hit *near = malloc((size_t)q->limit * sizeof *near);
        size_t nn = 0;
        rc =
            !near ? -1 : spindex_nearest(ix, q->origin, (size_t)q->limit, 0, keep, &ctx, near, &nn);
        if (!rc && nn) {
            double last = (double)walk_minutes_whole(m.minutes_for(&m, near[nn - 1].dist_m));
            rc = spindex_within(ix, q->origin, m.reach_m(&m, last) + 1e-6, keep, &ctx, &cand,
                                &ncand);
        }
        free(near);
    } else {
        rc = spindex_within(ix, q->origin, radius, keep, &ctx, &cand, &ncand);
    }
    struct ranked *rank = NULL;
    size_t k = 0;
    if (!rc && ncand) {
        rank = malloc(ncand * sizeof *rank);
        rc = rank ? 0 : -1;
    }
    for (size_t i = 0; !rc && i < ncand; i++) {
        const struct facility *f = directory__find(dir, cand[i].id);
        double minutes = m.minutes(&m, q->origin, f->point);
        if (q->minutes > 0 && minutes > q->minutes)
            continue;
        int si = q->service ? facility__service(f, q->service) : -1;
        rank[k++] = (struct ranked){(double)walk_minutes_whole(minutes),
                                    si >= 0 ? f->services[si].price_fen : 0,
                                    cand[i].dist_m,
                                    minutes,
                                    f->id,
                                    f,
                                    si};
    }
    free(cand);
    size_t keep_n = k < (size_t)q->limit ? k : (size_t)q->limit;
    struct directory_hit *out = NULL;
    if (!rc && keep_n) {
        qsort(rank, k, sizeof *rank, ranked_cmp);
        out = calloc(keep_n, sizeof *out);
        rc = out ? 0 : -1;
    }
    for (size_t i = 0; !rc && i < keep_n; i++) {
        struct directory_hit *h = &out[i];
        directory__copy_facility(&h->f, rank[i].f);
        h->dist_m = rank[i].dist_m;
        h->walk_minutes = rank[i].minutes;
        h->service_index = rank[i].service_index;
        h->open = facility_open_at(rank[i].f, q->at);
    }
    directory__unlock(dir);
    free(rank);
    if (rc) {
        free(out);
        return linli_fail(err, LINLI_ENOMEM, "Out of memory for the search.");
    }
    *hits = out;
    *n = (int)keep_n;
    return LINLI_OK;
}
