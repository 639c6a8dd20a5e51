/* test_spindex.c - the spatial index (src/geo/spindex.c). First a property:
 * over random points, moves and removes from fixed seeds, every query gives
 * exactly what a brute-force scan of a plain array gives. Then the edge
 * cases one by one. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "geo/spindex.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

static const double rad = 3.14159265358979323846 / 180.0;
static const struct geo_point beijing = {39.95, 116.50};

/* ---- a fixed-seed generator (splitmix64) ---- */

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double rng_between(uint64_t *s, double lo, double hi)
{
    return lo + (hi - lo) * (double)(rng_next(s) >> 11) * 0x1.0p-53;
}

static size_t rng_below(uint64_t *s, size_t n)
{
    return (size_t)(rng_next(s) % n);
}

static double metres_per_degree(void)
{
    return geo_distance_m((struct geo_point){0, 0}, (struct geo_point){1, 0});
}

static double clamp_lat(double lat)
{
    return lat > 90 ? 90 : lat < -90 ? -90 : lat;
}

static double wrap_lon(double lon)
{
    return lon > 180 ? lon - 360 : lon < -180 ? lon + 360 : lon;
}

/* ---- the reference: a plain array, scanned in full ---- */

/* Point i has id i * 7 - 3000: negative ids too, and not a dense range. */
struct ref_point {
    struct geo_point p;
    bool present;
};

struct reference {
    struct ref_point *pts;
    size_t n;
};

static int64_t ref_id(size_t i)
{
    return (int64_t)i * 7 - 3000;
}

static size_t ref_index(int64_t id)
{
    return (size_t)((id + 3000) / 7);
}

static int hit_order(const void *a, const void *b)
{
    const struct spindex_hit *x = a, *y = b;
    if (x->dist_m != y->dist_m)
        return x->dist_m < y->dist_m ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

/* Every present point within r that passes `filter`, nearest first, ties by
 * id; *n says how many. Free the result. */
static struct spindex_hit *brute_within(const struct reference *ref, struct geo_point p, double r,
                                        spindex_filter filter, size_t *n)
{
    struct spindex_hit *hits = malloc((ref->n + 1) * sizeof *hits);
    assert_non_null(hits);
    *n = 0;
    for (size_t i = 0; i < ref->n; i++) {
        if (!ref->pts[i].present || (filter && !filter(NULL, ref_id(i))))
            continue;
        double d = geo_distance_m(p, ref->pts[i].p);
        if (d <= r)
            hits[(*n)++] = (struct spindex_hit){ref_id(i), d};
    }
    qsort(hits, *n, sizeof *hits, hit_order);
    return hits;
}

static void assert_same_hits(const char *scenario, const char *what, const struct spindex_hit *got,
                             size_t ngot, const struct spindex_hit *want, size_t nwant)
{
    if (ngot != nwant)
        fail_msg("%s, %s: %zu hits, expected %zu", scenario, what, ngot, nwant);
    for (size_t i = 0; i < ngot; i++)
        if (got[i].id != want[i].id || got[i].dist_m != want[i].dist_m)
            fail_msg("%s, %s: hit %zu is %lld at %.9f m, expected %lld at %.9f m", scenario, what,
                     i, (long long)got[i].id, got[i].dist_m, (long long)want[i].id, want[i].dist_m);
}

static int keep_multiples_of_3(void *ctx, int64_t id)
{
    (void)ctx;
    return id % 3 == 0;
}

static int keep_one_in_97(void *ctx, int64_t id)
{
    (void)ctx;
    return id % 97 == 0;
}

/* spindex_visit_within's visitor: checks each point against the reference
 * and gathers it. */
struct visited {
    const struct reference *ref;
    struct spindex_hit *hits;
    size_t n;
};

static int gather_visit(void *ctx, int64_t id, struct geo_point at, double dist_m)
{
    struct visited *v = ctx;
    size_t i = ref_index(id);
    assert_true(i < v->ref->n && v->ref->pts[i].present);
    assert_true(v->ref->pts[i].p.lat == at.lat && v->ref->pts[i].p.lon == at.lon);
    assert_true(v->n < v->ref->n);
    v->hits[v->n++] = (struct spindex_hit){id, dist_m};
    return 0;
}

/* ---- the property ---- */

struct scenario {
    const char *name;
    struct geo_point centre;   /* of the box the points are in */
    double half_lat, half_lon; /* its half sizes in degrees; 0: 15 km */
    double cell_m;
    double radius_m; /* queries' usual largest radius; 0: 5 km */
    bool anchored;   /* point 0 sits at `anchor` and fixes the grid there */
    struct geo_point anchor;
    uint64_t seed;
};

struct world {
    const struct scenario *sc;
    uint64_t rng;
    double half_lat, half_lon; /* the box's half sizes, degrees */
    double ch, cw;             /* the grid as spindex.c lays it out */
    double radius_m;
    struct geo_point clusters[8];
    struct reference ref;
    struct spindex *ix;
};

static struct geo_point somewhere_in_box(struct world *w, double scale)
{
    return (struct geo_point){
        clamp_lat(w->sc->centre.lat + rng_between(&w->rng, -1, 1) * w->half_lat * scale),
        wrap_lon(w->sc->centre.lon + rng_between(&w->rng, -1, 1) * w->half_lon * scale)};
}

/* A point exactly on a row edge, a column edge or both. */
static struct geo_point on_cell_edge(struct world *w)
{
    struct geo_point p = somewhere_in_box(w, 1);
    size_t which = rng_below(&w->rng, 3);
    if (which != 1)
        p.lat = clamp_lat(-90 + round((p.lat + 90) / w->ch) * w->ch);
    if (which != 0)
        p.lon = wrap_lon(-180 + round((p.lon + 180) / w->cw) * w->cw);
    return p;
}

static struct geo_point some_present_point(struct world *w)
{
    for (;;) {
        size_t i = rng_below(&w->rng, w->ref.n);
        if (w->ref.pts[i].present)
            return w->ref.pts[i].p;
    }
}

static struct geo_point random_point(struct world *w)
{
    switch (rng_below(&w->rng, 8)) {
    case 0:
    case 1:
    case 2:
        return somewhere_in_box(w, 1);
    case 3:
    case 4: {
        struct geo_point c = w->clusters[rng_below(&w->rng, 8)];
        double mpd = metres_per_degree(), spread = 0;
        for (int i = 0; i < 3; i++)
            spread += rng_between(&w->rng, -200, 200);
        c.lat = clamp_lat(c.lat + spread / mpd);
        c.lon = wrap_lon(c.lon + rng_between(&w->rng, -300, 300) / (mpd * cos(c.lat * rad)));
        return c;
    }
    case 5:
    case 6:
        return on_cell_edge(w);
    default: /* the very spot of another point: ties broken by id */
        return some_present_point(w);
    }
}

static void world_put(struct world *w, size_t i, struct geo_point p)
{
    assert_int_equal(spindex_put(w->ix, ref_id(i), p), 0);
    w->ref.pts[i] = (struct ref_point){p, true};
}

static void world_make(struct world *w, const struct scenario *sc, size_t npoints)
{
    double mpd = metres_per_degree();
    *w = (struct world){.sc = sc, .rng = sc->seed};
    w->half_lat = sc->half_lat > 0 ? sc->half_lat : 15000 / mpd;
    w->half_lon = sc->half_lon > 0 ? sc->half_lon : 15000 / (mpd * cos(sc->centre.lat * rad));
    w->radius_m = sc->radius_m > 0 ? sc->radius_m : 5000;
    double cell_m = sc->cell_m > 0 ? sc->cell_m : 250;
    double ref_lat = sc->anchored ? sc->anchor.lat : sc->centre.lat;
    w->ch = cell_m / mpd;
    w->cw = 360.0 / floor(360.0 * mpd * cos(ref_lat * rad) / cell_m);
    for (int i = 0; i < 8; i++)
        w->clusters[i] = somewhere_in_box(w, 0.8);
    w->ref.pts = calloc(npoints, sizeof *w->ref.pts);
    w->ref.n = npoints;
    w->ix = spindex_new(sc->cell_m);
    assert_true(w->ref.pts && w->ix);
    world_put(w, 0, sc->anchored ? sc->anchor : sc->centre);
    for (size_t i = 1; i < npoints; i++)
        world_put(w, i, random_point(w));
}

static void world_free(struct world *w)
{
    spindex_free(w->ix);
    free(w->ref.pts);
}

/* Moves, removes and puts again, checking what each returns. */
static void world_churn(struct world *w)
{
    double mpd = metres_per_degree();
    for (size_t j = 0; j < w->ref.n / 5; j++) {
        size_t i = rng_below(&w->rng, w->ref.n);
        struct geo_point p = w->ref.pts[i].p;
        if (rng_below(&w->rng, 2)) { /* a step: often within the same cell */
            p.lat = clamp_lat(p.lat + rng_between(&w->rng, -30, 30) / mpd);
            p.lon = wrap_lon(p.lon + rng_between(&w->rng, -30, 30) / (mpd * cos(p.lat * rad)));
        } else {
            p = random_point(w);
        }
        world_put(w, i, p);
    }
    for (size_t j = 0; j < w->ref.n / 8; j++) {
        size_t i = rng_below(&w->rng, w->ref.n);
        assert_int_equal(spindex_remove(w->ix, ref_id(i)), w->ref.pts[i].present ? 1 : 0);
        w->ref.pts[i].present = false;
    }
    for (size_t j = 0; j < w->ref.n / 20; j++)
        world_put(w, rng_below(&w->rng, w->ref.n), random_point(w));
    size_t count = 0;
    for (size_t i = 0; i < w->ref.n; i++) {
        struct geo_point at;
        bool present = spindex_get(w->ix, ref_id(i), &at);
        assert_true(present == w->ref.pts[i].present);
        if (present) {
            assert_true(at.lat == w->ref.pts[i].p.lat && at.lon == w->ref.pts[i].p.lon);
            count++;
        }
    }
    assert_int_equal(spindex_count(w->ix), count);
}

/* A query centre: *far is set for one 100 km off, *touch (else -1) for one
 * with a point exactly at its circle's northern, southern, eastern or
 * western extreme, when the radius is *touch. */
static struct geo_point random_query(struct world *w, bool *far, double *touch)
{
    double mpd = metres_per_degree();
    *far = false;
    *touch = -1;
    switch (rng_below(&w->rng, 8)) {
    case 0:
    case 1:
        return somewhere_in_box(w, 1.15);
    case 2:
        return some_present_point(w);
    case 3:
        return on_cell_edge(w);
    case 4:
        return random_point(w);
    case 5:
    case 6: {
        struct geo_point p = some_present_point(w), q = p;
        double d = rng_between(&w->rng, 0, w->radius_m) / mpd;
        size_t side = rng_below(&w->rng, 4);
        if (side < 2)
            q.lat = clamp_lat(p.lat + (side ? d : -d));
        else
            q.lon = wrap_lon(p.lon + (side == 2 ? d : -d) / cos(p.lat * rad));
        *touch = geo_distance_m(q, p);
        return q;
    }
    default: { /* 100 km from the box's centre, in any direction */
        double bearing = rng_between(&w->rng, 0, 360) * rad;
        struct geo_point c = w->sc->centre;
        *far = true;
        c.lat = clamp_lat(c.lat + 100000 * cos(bearing) / mpd);
        c.lon = wrap_lon(c.lon + 100000 * sin(bearing) / (mpd * cos(c.lat * rad)));
        return c;
    }
    }
}

/* A radius: often 0 to 5 km (the scenario's radius_m), sometimes 0 or
 * exactly the distance to some point (so that "<=" is tested), sometimes far
 * enough to reach the box from 100 km away. */
static double random_radius(struct world *w, struct geo_point q, bool far)
{
    switch (rng_below(&w->rng, 10)) {
    case 0:
        return 0;
    case 1:
    case 2:
        return geo_distance_m(q, some_present_point(w));
    case 3:
        return far ? rng_between(&w->rng, 85000, 120000) : rng_between(&w->rng, 0, w->radius_m);
    default:
        return rng_between(&w->rng, 0, w->radius_m);
    }
}

static void check_query(struct world *w)
{
    static const spindex_filter filters[] = {NULL, keep_multiples_of_3, keep_one_in_97};
    bool far;
    double touch;
    struct geo_point q = random_query(w, &far, &touch);
    double r = touch >= 0 ? touch : random_radius(w, q, far);
    spindex_filter filter = filters[rng_below(&w->rng, 3)];
    size_t nwant, ngot;

    struct spindex_hit *want = brute_within(&w->ref, q, r, filter, &nwant), *got;
    assert_int_equal(spindex_within(w->ix, q, r, filter, NULL, &got, &ngot), 0);
    assert_same_hits(w->sc->name, "within", got, ngot, want, nwant);
    assert_true(spindex_any_within(w->ix, q, r, filter, NULL) == (nwant > 0));
    free(got);
    free(want);

    struct visited v = {&w->ref, malloc(w->ref.n * sizeof *v.hits), 0};
    assert_non_null(v.hits);
    want = brute_within(&w->ref, q, r, NULL, &nwant);
    spindex_visit_within(w->ix, q, r, gather_visit, &v);
    qsort(v.hits, v.n, sizeof *v.hits, hit_order);
    assert_same_hits(w->sc->name, "visit_within", v.hits, v.n, want, nwant);
    free(v.hits);
    free(want);

    /* The touching point is kept from a nearest search only by its limit. */
    bool all = touch >= 0 || rng_below(&w->rng, 10) == 0;
    size_t k = all ? w->ref.n + 5 : 1 + rng_below(&w->rng, 50);
    double limit = touch >= 0 ? touch : rng_below(&w->rng, 2) ? 0 : random_radius(w, q, far);
    want = brute_within(&w->ref, q, limit > 0 ? limit : INFINITY, filter, &nwant);
    got = malloc(k * sizeof *got); /* exactly k: ASan catches an overrun */
    assert_non_null(got);
    assert_int_equal(spindex_nearest(w->ix, q, k, limit, filter, NULL, got, &ngot), 0);
    assert_same_hits(w->sc->name, "nearest", got, ngot, want, nwant < k ? nwant : k);
    free(got);
    free(want);
}

static void run_scenario(const struct scenario *sc)
{
    struct world w;
    world_make(&w, sc, 2500);
    for (int q = 0; q < 150; q++)
        check_query(&w);
    for (int round = 0; round < 3; round++) {
        world_churn(&w);
        for (int q = 0; q < 100; q++)
            check_query(&w);
    }
    world_free(&w);
}

static void queries_match_a_brute_force_scan_in_beijing(void **state)
{
    (void)state;
    run_scenario(
        &(struct scenario){.name = "250 m cells", .centre = beijing, .cell_m = 250, .seed = 1});
    run_scenario(&(struct scenario){.name = "default cells", .centre = beijing, .seed = 2});
}

static void queries_match_with_small_and_large_cells(void **state)
{
    (void)state;
    run_scenario(
        &(struct scenario){.name = "50 m cells", .centre = beijing, .cell_m = 50, .seed = 3});
    run_scenario(
        &(struct scenario){.name = "2 km cells", .centre = beijing, .cell_m = 2000, .seed = 4});
}

static void queries_match_at_seventy_degrees_north(void **state)
{
    (void)state;
    const struct geo_point north = {70.0, 20.0};
    run_scenario(&(struct scenario){.name = "70N", .centre = north, .cell_m = 250, .seed = 5});
    /* The grid laid out for Beijing (the first put), used far north. */
    run_scenario(&(struct scenario){.name = "70N, grid of 40N",
                                    .centre = north,
                                    .cell_m = 250,
                                    .anchored = true,
                                    .anchor = beijing,
                                    .seed = 6});
}

static void queries_match_across_the_180th_meridian(void **state)
{
    (void)state;
    run_scenario(
        &(struct scenario){.name = "180E", .centre = {-17.0, 180.0}, .cell_m = 250, .seed = 7});
}

/* Cells hundreds of kilometres across: rings wrap round the globe and reach
 * the poles' rows. */
static void queries_match_over_the_whole_globe(void **state)
{
    (void)state;
    const struct scenario globe = {.name = "globe",
                                   .centre = {0, 0},
                                   .half_lat = 85,
                                   .half_lon = 180,
                                   .radius_m = 3e6,
                                   .seed = 8};
    const double cells[] = {1e6, 3e5, 5e4};
    for (int i = 0; i < 6; i++) {
        struct scenario sc = globe;
        sc.cell_m = cells[i % 3];
        sc.seed += (uint64_t)i;
        /* A grid laid out at 65N has fewer columns than rows: rings wrap
         * round the globe long before they reach the poles. */
        sc.anchored = i >= 3;
        sc.anchor = (struct geo_point){65, 10};
        run_scenario(&sc);
    }
}

/* A narrow band of latitude all round the globe: few occupied cells per
 * ring, so nearest searches go on until their rings wrap and meet. */
static void queries_match_in_a_band_round_the_globe(void **state)
{
    (void)state;
    const struct scenario band = {.name = "band",
                                  .centre = {60, 0},
                                  .half_lat = 0.3,
                                  .half_lon = 180,
                                  .radius_m = 2e6,
                                  .seed = 20};
    const double cells[] = {1e6, 4.1e5, 1.5e5};
    for (int i = 0; i < 3; i++) {
        struct scenario sc = band;
        sc.cell_m = cells[i];
        sc.seed += (uint64_t)i;
        run_scenario(&sc);
    }
}

/* ---- single behaviours ---- */

static int count_visit(void *ctx, int64_t id, struct geo_point at, double dist_m)
{
    (void)id, (void)at, (void)dist_m;
    ++*(int *)ctx;
    return 0;
}

static int stop_at_first(void *ctx, int64_t id, struct geo_point at, double dist_m)
{
    (void)id, (void)at, (void)dist_m;
    ++*(int *)ctx;
    return 1;
}

static void an_empty_index_finds_nothing(void **state)
{
    (void)state;
    struct spindex *ix = spindex_new(0);
    assert_non_null(ix);
    struct spindex_hit one, *hits = &one;
    size_t n = 99;
    int visits = 0;
    assert_int_equal(spindex_count(ix), 0);
    assert_false(spindex_get(ix, 1, NULL));
    assert_int_equal(spindex_remove(ix, 1), 0);
    assert_int_equal(spindex_within(ix, beijing, 1e6, NULL, NULL, &hits, &n), 0);
    assert_true(hits == NULL && n == 0);
    assert_int_equal(spindex_nearest(ix, beijing, 5, 0, NULL, NULL, &one, &n), 0);
    assert_int_equal(n, 0);
    assert_false(spindex_any_within(ix, beijing, 1e6, NULL, NULL));
    spindex_visit_within(ix, beijing, 1e6, count_visit, &visits);
    assert_int_equal(visits, 0);
    spindex_free(ix);
}

static void putting_a_present_id_moves_it(void **state)
{
    (void)state;
    struct spindex *ix = spindex_new(250);
    const struct geo_point a = {39.90, 116.40}, b = {40.05, 116.60};
    assert_int_equal(spindex_put(ix, 42, a), 0);
    assert_int_equal(spindex_put(ix, 42, b), 0);
    assert_int_equal(spindex_count(ix), 1);
    struct geo_point at;
    assert_true(spindex_get(ix, 42, &at));
    assert_true(at.lat == b.lat && at.lon == b.lon);
    assert_false(spindex_any_within(ix, a, 1000, NULL, NULL));
    assert_true(spindex_any_within(ix, b, 0, NULL, NULL));
    /* A step within the cell is a move too. */
    const struct geo_point c = {b.lat + 0.00001, b.lon};
    assert_int_equal(spindex_put(ix, 42, c), 0);
    assert_true(spindex_get(ix, 42, &at) && at.lat == c.lat);
    assert_int_equal(spindex_count(ix), 1);
    spindex_free(ix);
}

static void remove_says_whether_the_id_was_present(void **state)
{
    (void)state;
    struct spindex *ix = spindex_new(250);
    assert_int_equal(spindex_put(ix, 1, beijing), 0);
    assert_int_equal(spindex_put(ix, 2, beijing), 0);
    assert_int_equal(spindex_remove(ix, 3), 0);
    assert_int_equal(spindex_remove(ix, 1), 1);
    assert_int_equal(spindex_remove(ix, 1), 0);
    assert_int_equal(spindex_count(ix), 1);
    assert_false(spindex_get(ix, 1, NULL));
    assert_true(spindex_get(ix, 2, NULL));
    spindex_free(ix);
}

static void nearest_with_k_zero_returns_nothing(void **state)
{
    (void)state;
    struct spindex *ix = spindex_new(250);
    assert_int_equal(spindex_put(ix, 1, beijing), 0);
    size_t n = 99;
    assert_int_equal(spindex_nearest(ix, beijing, 0, 0, NULL, NULL, NULL, &n), 0);
    assert_int_equal(n, 0);
    spindex_free(ix);
}

static void radius_zero_finds_the_points_exactly_at_the_query(void **state)
{
    (void)state;
    struct spindex *ix = spindex_new(250);
    const int64_t ids[] = {30, -7, 12};
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(spindex_put(ix, ids[i], beijing), 0);
    assert_int_equal(spindex_put(ix, 5, (struct geo_point){beijing.lat + 1e-6, beijing.lon}), 0);
    struct spindex_hit *hits;
    size_t n;
    assert_int_equal(spindex_within(ix, beijing, 0, NULL, NULL, &hits, &n), 0);
    assert_int_equal(n, 3);
    assert_true(hits[0].id == -7 && hits[1].id == 12 && hits[2].id == 30);
    assert_true(hits[0].dist_m == 0 && hits[2].dist_m == 0);
    free(hits);
    spindex_free(ix);
}

static void equal_distances_are_ordered_by_id(void **state)
{
    (void)state;
    struct spindex *ix = spindex_new(250);
    /* East and west of the query by the same angle (2^-7 degrees, exact in
     * binary): the same distance. */
    assert_int_equal(spindex_put(ix, 9, (struct geo_point){beijing.lat, 116.5 + 0.0078125}), 0);
    assert_int_equal(spindex_put(ix, 4, (struct geo_point){beijing.lat, 116.5 - 0.0078125}), 0);
    struct spindex_hit hits[2];
    size_t n;
    assert_int_equal(spindex_nearest(ix, beijing, 2, 0, NULL, NULL, hits, &n), 0);
    assert_int_equal(n, 2);
    assert_true(hits[0].dist_m == hits[1].dist_m);
    assert_true(hits[0].id == 4 && hits[1].id == 9);
    assert_int_equal(spindex_nearest(ix, beijing, 1, 0, NULL, NULL, hits, &n), 0);
    assert_true(n == 1 && hits[0].id == 4);
    spindex_free(ix);
}

static void a_point_due_east_at_seventy_degrees_is_found_at_its_distance(void **state)
{
    (void)state;
    struct spindex *ix = spindex_new(250);
    const struct geo_point q = {70, 20};
    /* Put first at 40N, so the cells at 70N are the narrow ones of Beijing. */
    assert_int_equal(spindex_put(ix, 1, beijing), 0);
    for (int i = 0; i < 40; i++) {
        struct geo_point p = {70, 20 + 0.001 * i};
        assert_int_equal(spindex_put(ix, 100 + i, p), 0);
        double d = geo_distance_m(q, p);
        struct spindex_hit *hits;
        size_t n;
        assert_int_equal(spindex_within(ix, q, d, NULL, NULL, &hits, &n), 0);
        assert_int_equal(n, (size_t)i + 1);
        assert_true(hits[n - 1].id == 100 + i && hits[n - 1].dist_m == d);
        free(hits);
    }
    spindex_free(ix);
}

static void neighbours_across_the_180th_meridian_are_found(void **state)
{
    (void)state;
    struct spindex *ix = spindex_new(250);
    assert_int_equal(spindex_put(ix, 1, (struct geo_point){-17, 179.999}), 0);
    assert_int_equal(spindex_put(ix, 2, (struct geo_point){-17, -179.998}), 0);
    assert_int_equal(spindex_put(ix, 3, (struct geo_point){-17, 178}), 0);
    struct spindex_hit hits[3];
    size_t n;
    assert_int_equal(spindex_nearest(ix, (struct geo_point){-17, -180}, 2, 0, NULL, NULL, hits, &n),
                     0);
    assert_true(n == 2 && hits[0].id == 1 && hits[1].id == 2);
    assert_true(hits[1].dist_m < 250);
    assert_true(spindex_any_within(ix, (struct geo_point){-17, 180}, 120, NULL, NULL));
    spindex_free(ix);
}

static void points_that_are_not_places_are_refused(void **state)
{
    (void)state;
    struct spindex *ix = spindex_new(250);
    assert_int_equal(spindex_put(ix, 1, (struct geo_point){NAN, 116}), -1);
    assert_int_equal(spindex_put(ix, 1, (struct geo_point){40, INFINITY}), -1);
    assert_int_equal(spindex_put(ix, 1, (struct geo_point){90.5, 116}), -1);
    assert_int_equal(spindex_count(ix), 0);
    assert_int_equal(spindex_put(ix, 1, beijing), 0);
    assert_int_equal(spindex_put(ix, 1, (struct geo_point){NAN, 116}), -1);
    struct geo_point at;
    assert_true(spindex_get(ix, 1, &at) && at.lat == beijing.lat);
    assert_false(spindex_any_within(ix, (struct geo_point){NAN, 116}, 1e6, NULL, NULL));
    assert_false(spindex_any_within(ix, beijing, NAN, NULL, NULL));
    assert_false(spindex_any_within(ix, beijing, -1, NULL, NULL));
    spindex_free(ix);
}

static void visiting_stops_when_the_visitor_says_so(void **state)
{
    (void)state;
    struct spindex *ix = spindex_new(250);
    for (int64_t id = 0; id < 50; id++)
        assert_int_equal(spindex_put(ix, id, beijing), 0);
    int visits = 0;
    spindex_visit_within(ix, beijing, 10, stop_at_first, &visits);
    assert_int_equal(visits, 1);
    visits = 0;
    spindex_visit_within(ix, beijing, 10, count_visit, &visits);
    assert_int_equal(visits, 50);
    spindex_free(ix);
}

static void two_hundred_thousand_points_come_and_go(void **state)
{
    (void)state;
    enum { N = 200000 };
    struct spindex *ix = spindex_new(250);
    uint64_t rng = 99;
    double mpd = metres_per_degree();
    for (int64_t id = 0; id < N; id++) {
        struct geo_point p = {beijing.lat + rng_between(&rng, -15000, 15000) / mpd,
                              beijing.lon + rng_between(&rng, -19000, 19000) / mpd};
        assert_int_equal(spindex_put(ix, id * 1000003, p), 0);
    }
    assert_int_equal(spindex_count(ix), N);
    struct spindex_hit hits[10];
    size_t n;
    assert_int_equal(spindex_nearest(ix, beijing, 10, 0, NULL, NULL, hits, &n), 0);
    assert_int_equal(n, 10);
    for (int64_t id = 0; id < N; id++)
        assert_int_equal(spindex_remove(ix, id * 1000003), 1);
    assert_int_equal(spindex_count(ix), 0);
    assert_false(spindex_any_within(ix, beijing, 1e6, NULL, NULL));
    assert_int_equal(spindex_nearest(ix, beijing, 10, 0, NULL, NULL, hits, &n), 0);
    assert_int_equal(n, 0);
    /* Emptied, it still works. */
    assert_int_equal(spindex_put(ix, 7, beijing), 0);
    assert_int_equal(spindex_nearest(ix, beijing, 10, 0, NULL, NULL, hits, &n), 0);
    assert_true(n == 1 && hits[0].id == 7);
    spindex_free(ix);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(queries_match_a_brute_force_scan_in_beijing),
        cmocka_unit_test(queries_match_with_small_and_large_cells),
        cmocka_unit_test(queries_match_at_seventy_degrees_north),
        cmocka_unit_test(queries_match_across_the_180th_meridian),
        cmocka_unit_test(queries_match_over_the_whole_globe),
        cmocka_unit_test(queries_match_in_a_band_round_the_globe),
        cmocka_unit_test(an_empty_index_finds_nothing),
        cmocka_unit_test(putting_a_present_id_moves_it),
        cmocka_unit_test(remove_says_whether_the_id_was_present),
        cmocka_unit_test(nearest_with_k_zero_returns_nothing),
        cmocka_unit_test(radius_zero_finds_the_points_exactly_at_the_query),
        cmocka_unit_test(equal_distances_are_ordered_by_id),
        cmocka_unit_test(a_point_due_east_at_seventy_degrees_is_found_at_its_distance),
        cmocka_unit_test(neighbours_across_the_180th_meridian_are_found),
        cmocka_unit_test(points_that_are_not_places_are_refused),
        cmocka_unit_test(visiting_stops_when_the_visitor_says_so),
        cmocka_unit_test(two_hundred_thousand_points_come_and_go),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
