/* spindex.h - an in-memory spatial index of points with 64-bit ids: a hash
 * of square grid cells, for "everything within r metres" and "the k nearest
 * that pass a filter". Pure: no I/O, no locks (the owner serialises writes
 * and lets readers share it between them).
 *
 * Answers are exact: candidates come from the cells a query's circle can
 * touch (conservatively, whatever the latitude), and every candidate is
 * measured with geo_distance_m, the same haversine a brute-force scan uses.
 * Ties in distance are broken by id, so the index and a scan return the same
 * list in the same order. Circles that cross the 180th meridian or reach a
 * pole are handled; far from where the grid was laid out (the first put's
 * latitude) the cells are just less square, which costs speed, not answers.
 *
 * Points are places: latitude within +-90, longitude finite (any turn). A
 * query from anything else, or with a negative or NaN radius, finds nothing. */
#ifndef LINLI_SPINDEX_H
#define LINLI_SPINDEX_H

#include "geo/geo.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct spindex;

struct spindex_hit {
    int64_t id;
    double dist_m;
};

/* Keeps or drops a candidate: nonzero keeps it. */
typedef int (*spindex_filter)(void *ctx, int64_t id);

/* A new empty index with cells about `cell_m` metres on a side (0 = 250;
 * kept within 10 m .. 1000 km). NULL when out of memory. */
struct spindex *spindex_new(double cell_m);
void spindex_free(struct spindex *ix);

/* Adds point `id` at `p`, or moves it there when it is already present.
 * Returns 0, or -1 when out of memory or `p` is not a place (the index is
 * then unchanged). */
int spindex_put(struct spindex *ix, int64_t id, struct geo_point p);
/* Removes `id`; returns 1 when it was present, 0 when not. */
int spindex_remove(struct spindex *ix, int64_t id);
/* Whether `id` is present, and where (p may be NULL). */
bool spindex_get(const struct spindex *ix, int64_t id, struct geo_point *p);
size_t spindex_count(const struct spindex *ix);

/* Every point within `radius_m` of `p` (distance <= radius) that passes
 * `filter` (NULL = all), nearest first, ties by id. *hits is malloc'd (free
 * it; NULL when *n is 0). Returns 0, or -1 when out of memory. */
int spindex_within(const struct spindex *ix, struct geo_point p, double radius_m,
                   spindex_filter filter, void *ctx, struct spindex_hit **hits, size_t *n);

/* The `k` nearest points to `p` that pass `filter` and lie within
 * `max_radius_m` (<= 0 = no limit), nearest first, ties by id. Fills
 * hits[0..*n) of the caller's array of k. Searches rings of cells outward and
 * stops as soon as no unvisited cell can hold anything nearer than the k-th
 * hit. Returns 0 (it allocates nothing; -1 is kept for a future that does). */
int spindex_nearest(const struct spindex *ix, struct geo_point p, size_t k, double max_radius_m,
                    spindex_filter filter, void *ctx, struct spindex_hit *hits, size_t *n);

/* True when some point passing `filter` lies within `radius_m` of `p`;
 * stops at the first one. */
bool spindex_any_within(const struct spindex *ix, struct geo_point p, double radius_m,
                        spindex_filter filter, void *ctx);

/* Calls `fn` with every point within `radius_m` of `p` (no order, no
 * allocation). `fn` returning nonzero stops the walk; it must not change the
 * index. */
typedef int (*spindex_visit)(void *ctx, int64_t id, struct geo_point at, double dist_m);
void spindex_visit_within(const struct spindex *ix, struct geo_point p, double radius_m,
                          spindex_visit fn, void *ctx);

#endif
