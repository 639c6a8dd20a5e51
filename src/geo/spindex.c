/* spindex.c - the grid of cells behind spindex.h.
 *
 * Rows are cell_m tall; columns are cell_m wide at a reference latitude fixed
 * at the first put (so nearly square where the points are). Columns wrap round
 * the globe, so a circle across the 180th meridian is found on both sides.
 * Cell size and shape only change speed, never answers.
 *
 * Cells live in a dense array, found by (column, row) through an
 * open-addressing hash; each holds an unsorted array of its points. A second
 * hash maps id -> (cell, slot), so put, move and remove are O(1). Cells are
 * never deleted (an emptied one just gives its array back), so the occupied
 * extent only grows: the cells a district has ever used.
 *
 * A query turns its circle into the cells that surely hold it, with bounds
 * taken from the haversine formula itself plus a centimetre for rounding,
 * then measures every candidate with geo_distance_m. spindex_nearest visits
 * rings of cells around the query's cell and stops once the circle the
 * visited rings surely cover holds k hits. */
#include "geo/spindex.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>

#define CELL_DEFAULT_M  250.0
#define CELL_MIN_M      10.0 /* keeps row and column numbers small ints */
#define CELL_MAX_M      1.0e6
#define REF_LAT_DEFAULT 40.0
#define REF_LAT_MAX     80.0 /* columns stop narrowing here */
#define MARGIN_DEG      1e-7 /* ~1 cm: far above geo_distance_m's rounding */
#define TABLE_FIRST     16   /* first capacity of the hashes, cell array and hit lists */
#define CELL_FIRST      4    /* first capacity of a cell's array of points */
#define IDS_LOAD_TENTHS 7    /* the id hash grows past 70% full */
#define NONE            UINT32_MAX

static const double rad = 3.14159265358979323846 / 180.0;

struct entry {
    int64_t id;
    double lat, lon;
};

struct cell {
    int cx, cy;
    uint32_t n, cap;
    struct entry *e; /* NULL when emptied */
};

struct idslot {
    int64_t id;
    uint32_t cell, slot; /* cell == NONE: a free slot */
};

struct spindex {
    double cell_m, m_per_deg;   /* metres per degree of arc, as geo_distance_m measures */
    double ch, cw;              /* cell height and width, degrees */
    int nrows, ncols;           /* rows pole to pole, columns round the globe */
    int xmin, xmax, ymin, ymax; /* bounding box of every cell made (valid when ncells) */
    struct cell *cells;
    uint32_t ncells, capcells;
    uint32_t *cellmap; /* cell numbers by (cx, cy); NONE = free */
    size_t mapcap;     /* power of two, at least twice ncells */
    struct idslot *ids;
    size_t idcap, count; /* power of two, at most IDS_LOAD_TENTHS full */
};

/* ---- hashing ---- */

static uint64_t mix64(uint64_t x)
{
    /* splitmix64's finaliser: every input bit affects every output bit. */
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static size_t cell_hash(int cx, int cy, size_t cap)
{
    return mix64((uint64_t)(uint32_t)cx << 32 | (uint32_t)cy) & (cap - 1);
}

/* The map slot holding cell (cx, cy), or the free slot where it would go. */
static uint32_t *cellmap_slot(const struct spindex *ix, int cx, int cy)
{
    for (size_t i = cell_hash(cx, cy, ix->mapcap);; i = (i + 1) & (ix->mapcap - 1)) {
        uint32_t c = ix->cellmap[i];
        if (c == NONE || (ix->cells[c].cx == cx && ix->cells[c].cy == cy))
            return &ix->cellmap[i];
    }
}

static int cellmap_grow(struct spindex *ix)
{
    size_t cap = ix->mapcap * 2;
    uint32_t *map = malloc(cap * sizeof *map);
    if (!map)
        return -1;
    for (size_t i = 0; i < cap; i++)
        map[i] = NONE;
    for (uint32_t c = 0; c < ix->ncells; c++) {
        size_t i = cell_hash(ix->cells[c].cx, ix->cells[c].cy, cap);
        while (map[i] != NONE)
            i = (i + 1) & (cap - 1);
        map[i] = c;
    }
    free(ix->cellmap);
    ix->cellmap = map;
    ix->mapcap = cap;
    return 0;
}

/* The slot for `id`, or the free slot where it would go. */
static struct idslot *id_slot(const struct spindex *ix, int64_t id)
{
    for (size_t i = mix64((uint64_t)id) & (ix->idcap - 1);; i = (i + 1) & (ix->idcap - 1))
        if (ix->ids[i].cell == NONE || ix->ids[i].id == id)
            return &ix->ids[i];
}

static int ids_grow(struct spindex *ix)
{
    size_t cap = ix->idcap * 2;
    struct idslot *ids = malloc(cap * sizeof *ids);
    if (!ids)
        return -1;
    for (size_t i = 0; i < cap; i++)
        ids[i].cell = NONE;
    for (size_t j = 0; j < ix->idcap; j++) {
        if (ix->ids[j].cell == NONE)
            continue;
        size_t i = mix64((uint64_t)ix->ids[j].id) & (cap - 1);
        while (ids[i].cell != NONE)
            i = (i + 1) & (cap - 1);
        ids[i] = ix->ids[j];
    }
    free(ix->ids);
    ix->ids = ids;
    ix->idcap = cap;
    return 0;
}

/* Frees slot `s` by backward shift: later entries of its probe run move up
 * when their home allows, so lookups never need tombstones. */
static void ids_erase(struct spindex *ix, struct idslot *s)
{
    size_t mask = ix->idcap - 1, hole = (size_t)(s - ix->ids);
    for (size_t j = (hole + 1) & mask; ix->ids[j].cell != NONE; j = (j + 1) & mask) {
        size_t home = mix64((uint64_t)ix->ids[j].id) & mask;
        if (((j - home) & mask) >= ((j - hole) & mask)) {
            ix->ids[hole] = ix->ids[j];
            hole = j;
        }
    }
    ix->ids[hole].cell = NONE;
}

/* ---- the grid ---- */

static void grid_set(struct spindex *ix, double ref_lat)
{
    ref_lat = fmax(-REF_LAT_MAX, fmin(REF_LAT_MAX, ref_lat));
    ix->ch = ix->cell_m / ix->m_per_deg;
    ix->nrows = (int)ceil(180.0 / ix->ch);
    double cols = floor(360.0 * ix->m_per_deg * cos(ref_lat * rad) / ix->cell_m);
    ix->ncols = cols < 1 ? 1 : (int)cols;
    ix->cw = 360.0 / ix->ncols;
}

static int clamp_index(double v, int n)
{
    if (!(v >= 0))
        return 0;
    return v >= n ? n - 1 : (int)v;
}

/* Degrees east of the 180th meridian, in [0, 360]. */
static double lon_from_west(double lon)
{
    double l = fmod(lon + 180.0, 360.0);
    return l < 0 ? l + 360.0 : l;
}

static int row_of(const struct spindex *ix, double lat)
{
    return clamp_index(floor((lat + 90.0) / ix->ch), ix->nrows);
}

static int col_of(const struct spindex *ix, double lon_west)
{
    return clamp_index(floor(lon_west / ix->cw), ix->ncols);
}

static bool point_ok(struct geo_point p)
{
    return p.lat >= -90 && p.lat <= 90 && isfinite(p.lon);
}

/* The largest longitude difference (degrees) of any point within `arc`
 * degrees of a point at `lat`, plus the margin; 180 or more means any.
 * From haversine: hav(d) = hav(dlat) + cos(lat1) cos(lat2) hav(dlon) bounds
 * hav(dlon) by hav(d) / (cos lat1 cos lat2), and cos lat2 is smallest at the
 * highest latitude the circle reaches. */
static double lon_reach_deg(double lat, double arc)
{
    double top = fabs(lat) + arc + MARGIN_DEG;
    if (top >= 90)
        return 180;
    double s = sin(arc * rad / 2) / sqrt(cos(lat * rad) * cos(top * rad));
    return s >= 1 ? 180 : 2 * asin(s) / rad + MARGIN_DEG;
}

/* The inverse: the largest arc whose circle round a point at `lat` stays
 * within `dl` degrees of longitude either side, given that no point it can
 * hold lies above latitude `top` (either hemisphere). */
static double lon_cover_deg(double lat, double dl, double top)
{
    dl -= MARGIN_DEG;
    if (top >= 90 || dl <= 0)
        return 0;
    return 2 * asin(sin(dl * rad / 2) * sqrt(cos(lat * rad) * cos(top * rad))) / rad;
}

/* Cells to search: rows y0..y1 and up to three runs of columns (a window
 * that crosses the wrap splits), all clipped to the occupied extent. */
struct box {
    int y0, y1, nruns;
    int x0[3], x1[3];
};

/* Sets the column runs of `b` for the unwrapped columns lo..hi. */
static void box_columns(const struct spindex *ix, int lo, int hi, struct box *b)
{
    int n = ix->ncols;
    b->nruns = 0;
    if (hi - lo + 1 >= n) {
        b->x0[0] = ix->xmin, b->x1[0] = ix->xmax, b->nruns = 1;
        return;
    }
    /* lo..hi is narrower than the globe and within half a turn of 0..n-1. */
    for (int k = -n; k <= n; k += n) {
        int a = lo > ix->xmin + k ? lo : ix->xmin + k;
        int z = hi < ix->xmax + k ? hi : ix->xmax + k;
        if (a <= z)
            b->x0[b->nruns] = a - k, b->x1[b->nruns++] = z - k;
    }
}

/* The occupied cells that can hold a point within `r` metres of `p`; false
 * when there are none. */
static bool circle_box(const struct spindex *ix, struct geo_point p, double r, struct box *b)
{
    if (!(r >= 0) || !point_ok(p) || ix->count == 0)
        return false;
    double arc = fmin(r / ix->m_per_deg, 180.0);
    b->y0 = row_of(ix, p.lat - arc - MARGIN_DEG);
    b->y1 = row_of(ix, p.lat + arc + MARGIN_DEG);
    b->y0 = b->y0 > ix->ymin ? b->y0 : ix->ymin;
    b->y1 = b->y1 < ix->ymax ? b->y1 : ix->ymax;
    double dl = lon_reach_deg(p.lat, arc), l = lon_from_west(p.lon);
    if (dl >= 180)
        box_columns(ix, 0, ix->ncols - 1, b);
    else
        box_columns(ix, (int)floor((l - dl) / ix->cw), (int)floor((l + dl) / ix->cw), b);
    return b->y0 <= b->y1 && b->nruns > 0;
}

static bool box_has(const struct box *b, const struct cell *c)
{
    if (c->cy < b->y0 || c->cy > b->y1)
        return false;
    for (int i = 0; i < b->nruns; i++)
        if (c->cx >= b->x0[i] && c->cx <= b->x1[i])
            return true;
    return false;
}

/* A lower bound on the distance (metres) from `p` to any point of cell
 * (x, y): the haversine of the smallest latitude and longitude gaps, with
 * the smallest cosine the cell's rows allow, gaps less the margin. */
static double cell_min_m(const struct spindex *ix, struct geo_point p, double lon_west,
                         const struct cell *c)
{
    double south = c->cy * ix->ch - 90, north = south + ix->ch;
    double dlat = fmax(0, fmax(south - p.lat, p.lat - north) - MARGIN_DEG);
    double off = fmod(lon_west - c->cx * ix->cw + 720, 360); /* p east of the cell's west edge */
    double dlon = off < ix->cw ? 0 : fmax(0, fmin(off - ix->cw, 360 - off) - MARGIN_DEG);
    double top = fmin(90, fmax(fabs(south), fabs(north)));
    double a = sin(dlat * rad / 2), b = sin(dlon * rad / 2);
    double h = a * a + cos(p.lat * rad) * cos(top * rad) * b * b;
    return 2 * asin(sqrt(fmin(h, 1))) * ix->m_per_deg / rad;
}

/* ---- life cycle and changes ---- */

struct spindex *spindex_new(double cell_m)
{
    struct spindex *ix = calloc(1, sizeof *ix);
    if (!ix)
        return NULL;
    ix->cell_m = cell_m > 0 ? fmax(CELL_MIN_M, fmin(CELL_MAX_M, cell_m)) : CELL_DEFAULT_M;
    ix->m_per_deg = geo_distance_m((struct geo_point){0, 0}, (struct geo_point){1, 0});
    grid_set(ix, REF_LAT_DEFAULT);
    ix->mapcap = ix->idcap = TABLE_FIRST;
    ix->cellmap = malloc(ix->mapcap * sizeof *ix->cellmap);
    ix->ids = malloc(ix->idcap * sizeof *ix->ids);
    if (!ix->cellmap || !ix->ids) {
        spindex_free(ix);
        return NULL;
    }
    for (size_t i = 0; i < TABLE_FIRST; i++)
        ix->cellmap[i] = NONE, ix->ids[i].cell = NONE;
    return ix;
}

void spindex_free(struct spindex *ix)
{
    if (!ix)
        return;
    for (uint32_t c = 0; c < ix->ncells; c++)
        free(ix->cells[c].e);
    free(ix->cells);
    free(ix->cellmap);
    free(ix->ids);
    free(ix);
}

/* Makes sure cell (cx, cy) exists with room for one more point and sets *out
 * to its number. -1 when out of memory, leaving no visible change. */
static int cell_reserve(struct spindex *ix, int cx, int cy, uint32_t *out)
{
    uint32_t *slot = cellmap_slot(ix, cx, cy);
    if (*slot != NONE) {
        struct cell *c = &ix->cells[*slot];
        if (c->n == c->cap) {
            uint32_t cap = c->cap ? c->cap * 2 : CELL_FIRST;
            struct entry *e = cap > c->cap ? realloc(c->e, cap * sizeof *e) : NULL;
            if (!e)
                return -1;
            c->e = e, c->cap = cap;
        }
        *out = *slot;
        return 0;
    }
    if (ix->ncells == NONE - 1 || ((ix->ncells + 1) * 2 > ix->mapcap && cellmap_grow(ix)))
        return -1;
    if (ix->ncells == ix->capcells) {
        uint32_t cap = ix->capcells ? ix->capcells * 2 : TABLE_FIRST;
        struct cell *cells = realloc(ix->cells, (size_t)cap * sizeof *cells);
        if (!cells)
            return -1;
        ix->cells = cells, ix->capcells = cap;
    }
    struct entry *e = malloc(CELL_FIRST * sizeof *e);
    if (!e)
        return -1;
    if (ix->ncells == 0)
        ix->xmin = ix->xmax = cx, ix->ymin = ix->ymax = cy;
    ix->xmin = cx < ix->xmin ? cx : ix->xmin, ix->xmax = cx > ix->xmax ? cx : ix->xmax;
    ix->ymin = cy < ix->ymin ? cy : ix->ymin, ix->ymax = cy > ix->ymax ? cy : ix->ymax;
    ix->cells[ix->ncells] = (struct cell){cx, cy, 0, CELL_FIRST, e};
    *cellmap_slot(ix, cx, cy) = *out = ix->ncells++;
    return 0;
}

/* Takes the point in `slot` out of cell `c`: the cell's last point fills the
 * gap, and its id slot learns where it went. */
static void cell_take(struct spindex *ix, uint32_t c, uint32_t slot)
{
    struct cell *cell = &ix->cells[c];
    assert(slot < cell->n);
    if (slot != --cell->n) {
        cell->e[slot] = cell->e[cell->n];
        id_slot(ix, cell->e[slot].id)->slot = slot;
    }
    if (cell->n == 0) {
        free(cell->e);
        cell->e = NULL, cell->cap = 0;
    }
}

int spindex_put(struct spindex *ix, int64_t id, struct geo_point p)
{
    if (!point_ok(p))
        return -1;
    if (ix->ncells == 0)
        grid_set(ix, p.lat); /* no cell yet, so the grid is still free to change */
    int cx = col_of(ix, lon_from_west(p.lon)), cy = row_of(ix, p.lat);
    struct idslot *s = id_slot(ix, id);
    if (s->cell != NONE && ix->cells[s->cell].cx == cx && ix->cells[s->cell].cy == cy) {
        ix->cells[s->cell].e[s->slot] = (struct entry){id, p.lat, p.lon};
        return 0;
    }
    if (s->cell == NONE && (ix->count + 1) * 10 > ix->idcap * IDS_LOAD_TENTHS) {
        if (ids_grow(ix))
            return -1;
        s = id_slot(ix, id);
    }
    uint32_t c;
    if (cell_reserve(ix, cx, cy, &c))
        return -1;
    if (s->cell != NONE)
        cell_take(ix, s->cell, s->slot);
    else
        s->id = id, ix->count++;
    struct cell *cell = &ix->cells[c];
    cell->e[cell->n] = (struct entry){id, p.lat, p.lon};
    s->cell = c, s->slot = cell->n++;
    return 0;
}

int spindex_remove(struct spindex *ix, int64_t id)
{
    struct idslot *s = id_slot(ix, id);
    if (s->cell == NONE)
        return 0;
    cell_take(ix, s->cell, s->slot);
    ids_erase(ix, s);
    ix->count--;
    return 1;
}

bool spindex_get(const struct spindex *ix, int64_t id, struct geo_point *p)
{
    const struct idslot *s = id_slot(ix, id);
    if (s->cell == NONE)
        return false;
    if (p) {
        const struct entry *e = &ix->cells[s->cell].e[s->slot];
        *p = (struct geo_point){e->lat, e->lon};
    }
    return true;
}

size_t spindex_count(const struct spindex *ix)
{
    return ix->count;
}

/* ---- circle queries ---- */

/* Called with each point within the radius; nonzero stops the scan. */
typedef int (*found_fn)(void *ctx, const struct entry *e, double dist_m);

struct circle {
    struct geo_point p;
    double lon_west, r;
    found_fn fn;
    void *ctx;
};

static int circle_cell(const struct spindex *ix, const struct circle *q, const struct cell *c)
{
    if (c->n == 0 || cell_min_m(ix, q->p, q->lon_west, c) > q->r)
        return 0;
    for (uint32_t i = 0; i < c->n; i++) {
        double d = geo_distance_m(q->p, (struct geo_point){c->e[i].lat, c->e[i].lon});
        if (d <= q->r && q->fn(q->ctx, &c->e[i], d))
            return 1;
    }
    return 0;
}

/* Calls fn with every point within `r` of `p`, looking cells up one by one
 * or, when the circle's cells outnumber the occupied ones, walking those.
 * Returns 1 when fn stopped the scan. */
static int circle_scan(const struct spindex *ix, struct geo_point p, double r, found_fn fn,
                       void *ctx)
{
    struct box b;
    if (!circle_box(ix, p, r, &b))
        return 0;
    const struct circle q = {p, lon_from_west(p.lon), r, fn, ctx};
    double ncols = 0;
    for (int i = 0; i < b.nruns; i++)
        ncols += b.x1[i] - b.x0[i] + 1;
    if (ncols * (b.y1 - b.y0 + 1) > ix->ncells) {
        for (uint32_t c = 0; c < ix->ncells; c++)
            if (box_has(&b, &ix->cells[c]) && circle_cell(ix, &q, &ix->cells[c]))
                return 1;
        return 0;
    }
    for (int y = b.y0; y <= b.y1; y++)
        for (int i = 0; i < b.nruns; i++)
            for (int x = b.x0[i]; x <= b.x1[i]; x++) {
                uint32_t c = *cellmap_slot(ix, x, y);
                if (c != NONE && circle_cell(ix, &q, &ix->cells[c]))
                    return 1;
            }
    return 0;
}

static bool hit_less(double d1, int64_t id1, const struct spindex_hit *h)
{
    return d1 < h->dist_m || (d1 == h->dist_m && id1 < h->id);
}

static int hit_cmp(const void *a, const void *b)
{
    const struct spindex_hit *x = a, *y = b;
    return hit_less(x->dist_m, x->id, y) ? -1 : hit_less(y->dist_m, y->id, x) ? 1 : 0;
}

struct collect {
    spindex_filter filter;
    void *ctx;
    struct spindex_hit *hits;
    size_t n, cap;
    bool oom;
};

static int collect_hit(void *ctx, const struct entry *e, double dist_m)
{
    struct collect *c = ctx;
    if (c->filter && !c->filter(c->ctx, e->id))
        return 0;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : TABLE_FIRST;
        struct spindex_hit *h = realloc(c->hits, cap * sizeof *h);
        if (!h)
            return c->oom = true;
        c->hits = h, c->cap = cap;
    }
    c->hits[c->n++] = (struct spindex_hit){e->id, dist_m};
    return 0;
}

int spindex_within(const struct spindex *ix, struct geo_point p, double radius_m,
                   spindex_filter filter, void *ctx, struct spindex_hit **hits, size_t *n)
{
    struct collect c = {filter, ctx, NULL, 0, 0, false};
    circle_scan(ix, p, radius_m, collect_hit, &c);
    if (c.oom || c.n == 0) {
        free(c.hits);
        *hits = NULL, *n = 0;
        return c.oom ? -1 : 0;
    }
    qsort(c.hits, c.n, sizeof *c.hits, hit_cmp);
    *hits = c.hits, *n = c.n;
    return 0;
}

/* Carries spindex_any_within's filter or spindex_visit_within's visitor. */
struct pass {
    spindex_filter filter;
    spindex_visit visit;
    void *ctx;
};

static int pass_any(void *ctx, const struct entry *e, double dist_m)
{
    const struct pass *a = ctx;
    (void)dist_m;
    return !a->filter || a->filter(a->ctx, e->id);
}

static int pass_visit(void *ctx, const struct entry *e, double dist_m)
{
    const struct pass *v = ctx;
    return v->visit(v->ctx, e->id, (struct geo_point){e->lat, e->lon}, dist_m);
}

bool spindex_any_within(const struct spindex *ix, struct geo_point p, double radius_m,
                        spindex_filter filter, void *ctx)
{
    struct pass a = {filter, NULL, ctx};
    return circle_scan(ix, p, radius_m, pass_any, &a) != 0;
}

void spindex_visit_within(const struct spindex *ix, struct geo_point p, double radius_m,
                          spindex_visit fn, void *ctx)
{
    struct pass v = {NULL, fn, ctx};
    circle_scan(ix, p, radius_m, pass_visit, &v);
}

/* ---- nearest: rings of cells outward ---- */

static int imin(int a, int b)
{
    return a < b ? a : b;
}

static int imax(int a, int b)
{
    return a > b ? a : b;
}

/* A search outward from the query's cell (qx, qy). hits[0..m) is a max-heap
 * on (distance, id) holding the best k so far. */
struct rings {
    struct geo_point p;
    double lon_west, limit, top; /* top: highest |latitude| of any cell */
    int qx, qy, cover_cols;      /* cover_cols: the ring whose columns span the extent */
    spindex_filter filter;
    void *ctx;
    struct spindex_hit *hits;
    size_t k, m, lookups;
};

static void hits_swap(struct spindex_hit *h, size_t i, size_t j)
{
    struct spindex_hit t = h[i];
    h[i] = h[j], h[j] = t;
}

static void heap_down(struct spindex_hit *h, size_t m, size_t i)
{
    for (;;) {
        size_t big = i, l = 2 * i + 1, r = l + 1;
        if (l < m && hit_less(h[big].dist_m, h[big].id, &h[l]))
            big = l;
        if (r < m && hit_less(h[big].dist_m, h[big].id, &h[r]))
            big = r;
        if (big == i)
            return;
        hits_swap(h, i, big);
        i = big;
    }
}

static void rings_offer(struct rings *s, const struct entry *e, double d)
{
    struct spindex_hit *h = s->hits;
    if (d > s->limit || (s->m == s->k && !hit_less(d, e->id, &h[0])))
        return;
    if (s->filter && !s->filter(s->ctx, e->id))
        return;
    if (s->m == s->k) {
        h[0] = (struct spindex_hit){e->id, d};
        heap_down(h, s->m, 0);
        return;
    }
    size_t i = s->m++;
    h[i] = (struct spindex_hit){e->id, d};
    for (; i > 0 && hit_less(h[(i - 1) / 2].dist_m, h[(i - 1) / 2].id, &h[i]); i = (i - 1) / 2)
        hits_swap(h, i, (i - 1) / 2);
}

/* Offers the points of `cell` unless none can be nearer than the k-th hit
 * or lie within the limit. */
static void rings_scan(const struct spindex *ix, struct rings *s, const struct cell *cell)
{
    if (cell->n == 0)
        return;
    double least = cell_min_m(ix, s->p, s->lon_west, cell);
    if (least > s->limit || (s->m == s->k && least > s->hits[0].dist_m))
        return;
    for (uint32_t i = 0; i < cell->n; i++)
        rings_offer(s, &cell->e[i],
                    geo_distance_m(s->p, (struct geo_point){cell->e[i].lat, cell->e[i].lon}));
}

static void rings_cell(const struct spindex *ix, struct rings *s, int x, int y)
{
    if (y < ix->ymin || y > ix->ymax || x < ix->xmin || x > ix->xmax)
        return;
    s->lookups++;
    uint32_t c = *cellmap_slot(ix, x, y);
    if (c != NONE)
        rings_scan(ix, s, &ix->cells[c]);
}

/* Visits every cell beyond ring R at once: cheaper than more rings when
 * these have already looked up more cells than exist (sparse points). */
static void rings_rest(const struct spindex *ix, struct rings *s, int R)
{
    int n = ix->ncols;
    for (uint32_t c = 0; c < ix->ncells; c++) {
        const struct cell *cell = &ix->cells[c];
        int dx = abs(cell->cx - s->qx), dy = abs(cell->cy - s->qy);
        if (imax(imin(dx, n - dx), dy) > R)
            rings_scan(ix, s, cell);
    }
}

/* Visits ring R: the cells R rows or columns from the query's, seen by no
 * smaller ring. That is rows qy-R and qy+R in full, and between them columns
 * qx-R and qx+R while the window has not yet wrapped round the globe (when
 * it closes, they can be one column). */
static void rings_visit(const struct spindex *ix, struct rings *s, int R)
{
    if (R == 0) {
        rings_cell(ix, s, s->qx, s->qy);
        return;
    }
    struct box b;
    box_columns(ix, s->qx - R, s->qx + R, &b);
    for (int y = s->qy - R; y <= s->qy + R; y += 2 * R)
        for (int i = 0; i < b.nruns && y >= ix->ymin && y <= ix->ymax; i++)
            for (int x = b.x0[i]; x <= b.x1[i]; x++)
                rings_cell(ix, s, x, y);
    int n = ix->ncols;
    if (R > n / 2)
        return;
    int west = ((s->qx - R) % n + n) % n, east = (s->qx + R) % n;
    int y0 = imax(s->qy - R + 1, ix->ymin), y1 = imin(s->qy + R - 1, ix->ymax);
    for (int y = y0; y <= y1; y++) {
        rings_cell(ix, s, west, y);
        if (east != west)
            rings_cell(ix, s, east, y);
    }
}

/* The radius (metres) rings 0..R surely cover: every point nearer is in a
 * visited cell. INFINITY once they cover the whole occupied extent. */
static double rings_cover_m(const struct spindex *ix, const struct rings *s, int R)
{
    double south = s->qy - R <= ix->ymin ? INFINITY : s->p.lat - ((s->qy - R) * ix->ch - 90);
    double north = s->qy + R >= ix->ymax ? INFINITY : (s->qy + R + 1) * ix->ch - 90 - s->p.lat;
    double arc = fmin(south, north) - MARGIN_DEG;
    if (R < s->cover_cols) {
        double west = s->lon_west - (s->qx - R) * ix->cw;
        double east = (s->qx + R + 1) * ix->cw - s->lon_west;
        double top = fmin(fabs(s->p.lat) + fmin(arc, 180) + MARGIN_DEG, s->top);
        arc = fmin(arc, lon_cover_deg(s->p.lat, fmin(west, east), top));
    }
    return arc > 0 ? arc * ix->m_per_deg : 0;
}

/* The first ring that reaches an occupied cell (columns wrap). */
static int rings_first(const struct spindex *ix, int qx, int qy)
{
    int n = ix->ncols, dx = 0;
    int dy = qy < ix->ymin ? ix->ymin - qy : qy > ix->ymax ? qy - ix->ymax : 0;
    if (qx < ix->xmin)
        dx = imin(ix->xmin - qx, qx + n - ix->xmax);
    else if (qx > ix->xmax)
        dx = imin(qx - ix->xmax, ix->xmin + n - qx);
    return imax(dx, dy);
}

/* The first ring whose columns hold every occupied column. */
static int rings_covering_columns(const struct spindex *ix, int qx)
{
    int n = ix->ncols, need;
    if (qx < ix->xmin)
        need = imin(ix->xmax - qx, qx + n - ix->xmin);
    else if (qx > ix->xmax)
        need = imin(qx - ix->xmin, ix->xmax + n - qx);
    else
        need = imax(qx - ix->xmin, ix->xmax - qx);
    return imin(need, n / 2);
}

int spindex_nearest(const struct spindex *ix, struct geo_point p, size_t k, double max_radius_m,
                    spindex_filter filter, void *ctx, struct spindex_hit *hits, size_t *n)
{
    *n = 0;
    if (k == 0 || ix->count == 0 || !point_ok(p))
        return 0;
    struct rings s = {.p = p, .filter = filter, .ctx = ctx, .hits = hits, .k = k};
    s.lon_west = lon_from_west(p.lon);
    s.limit = max_radius_m > 0 ? max_radius_m : INFINITY;
    s.top = fmax(fabs(ix->ymin * ix->ch - 90), fabs((ix->ymax + 1) * ix->ch - 90)) + MARGIN_DEG;
    s.qx = col_of(ix, s.lon_west), s.qy = row_of(ix, p.lat);
    s.cover_cols = rings_covering_columns(ix, s.qx);
    for (int R = rings_first(ix, s.qx, s.qy);; R++) {
        if (s.lookups > ix->ncells) {
            rings_rest(ix, &s, R - 1);
            break;
        }
        rings_visit(ix, &s, R);
        double cover = rings_cover_m(ix, &s, R);
        if (cover >= s.limit || (s.m == k && cover >= hits[0].dist_m))
            break;
    }
    for (size_t m = s.m; m > 1; m--) { /* heap sort: nearest first */
        hits_swap(hits, 0, m - 1);
        heap_down(hits, m - 1, 0);
    }
    *n = s.m;
    return 0;
}
