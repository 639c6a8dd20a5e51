/* boundary.c - an area's outline, read from GeoJSON (GCJ-02) and kept in
 * WGS-84 for "is this point in the district" questions. */
#include "domain/registry.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct boundary {
    struct geo_polygon *polys;
    size_t npolys;
    struct geo_ring *rings; /* all rings, in one allocation */
    struct geo_point *pts;  /* all points, in one allocation */
    struct geo_point min, max;
};

void boundary_free(struct boundary *b)
{
    if (!b)
        return;
    free(b->polys);
    free(b->rings);
    free(b->pts);
    free(b);
}

/* Counts rings and points of a MultiPolygon's coordinate array; -1 if malformed. */
static int count_shape(json_t *multi, size_t *nrings, size_t *npts)
{
    size_t i, k, m;
    json_t *poly, *ring, *pt;
    json_array_foreach(multi, i, poly)
    {
        if (!json_is_array(poly) || json_array_size(poly) == 0)
            return -1;
        json_array_foreach(poly, k, ring)
        {
            if (!json_is_array(ring) || json_array_size(ring) < 4)
                return -1;
            (*nrings)++;
            json_array_foreach(ring, m, pt)
            {
                if (!json_is_array(pt) || json_array_size(pt) < 2 ||
                    !json_is_number(json_array_get(pt, 0)) ||
                    !json_is_number(json_array_get(pt, 1)))
                    return -1;
                (*npts)++;
            }
        }
    }
    return 0;
}

struct boundary *boundary_load_gcj02(const char *path, struct linli_err *err)
{
    json_error_t je;
    json_t *doc = json_load_file(path, 0, &je);
    if (!doc) {
        linli_fail(err, LINLI_EINVAL, "cannot read the boundary %s: %s", path, je.text);
        return NULL;
    }
    json_t *geom = doc;
    const char *doc_type = json_string_value(json_object_get(doc, "type"));
    if (doc_type && !strcmp(doc_type, "Feature"))
        geom = json_object_get(doc, "geometry");
    const char *type = json_string_value(json_object_get(geom, "type"));
    json_t *coords = json_object_get(geom, "coordinates");
    json_t *multi = NULL;
    if (type && !strcmp(type, "MultiPolygon") && json_is_array(coords)) {
        multi = json_incref(coords);
    } else if (type && !strcmp(type, "Polygon") && json_is_array(coords)) {
        multi = json_array();
        json_array_append(multi, coords);
    }
    size_t nrings = 0, npts = 0;
    if (!multi || json_array_size(multi) == 0 || count_shape(multi, &nrings, &npts) != 0) {
        json_decref(multi);
        json_decref(doc);
        linli_fail(err, LINLI_EINVAL, "%s is not a GeoJSON Polygon or MultiPolygon", path);
        return NULL;
    }
    struct boundary *b = calloc(1, sizeof *b);
    if (b) {
        b->npolys = json_array_size(multi);
        b->polys = calloc(b->npolys, sizeof *b->polys);
        b->rings = calloc(nrings, sizeof *b->rings);
        b->pts = calloc(npts, sizeof *b->pts);
    }
    if (!b || !b->polys || !b->rings || !b->pts) {
        boundary_free(b);
        json_decref(multi);
        json_decref(doc);
        linli_fail(err, LINLI_ENOMEM, "out of memory reading %s", path);
        return NULL;
    }
    b->min = (struct geo_point){90, 180};
    b->max = (struct geo_point){-90, -180};
    size_t ri = 0, pi = 0, i, k, m;
    json_t *poly, *ring, *pt;
    json_array_foreach(multi, i, poly)
    {
        b->polys[i].rings = &b->rings[ri];
        b->polys[i].nrings = json_array_size(poly);
        json_array_foreach(poly, k, ring)
        {
            b->rings[ri].pts = &b->pts[pi];
            b->rings[ri].n = json_array_size(ring);
            json_array_foreach(ring, m, pt)
            {
                struct geo_point g = {json_number_value(json_array_get(pt, 1)),
                                      json_number_value(json_array_get(pt, 0))};
                struct geo_point w = geo_gcj02_to_wgs84(g);
                b->pts[pi++] = w;
                if (w.lat < b->min.lat)
                    b->min.lat = w.lat;
                if (w.lon < b->min.lon)
                    b->min.lon = w.lon;
                if (w.lat > b->max.lat)
                    b->max.lat = w.lat;
                if (w.lon > b->max.lon)
                    b->max.lon = w.lon;
            }
            ri++;
        }
    }
    json_decref(multi);
    json_decref(doc);
    return b;
}

bool boundary_contains(const struct boundary *b, struct geo_point p)
{
    if (p.lat < b->min.lat || p.lat > b->max.lat || p.lon < b->min.lon || p.lon > b->max.lon)
        return false;
    return geo_multipolygon_contains(b->polys, b->npolys, p);
}

int boundary_bbox(const struct boundary *b, struct geo_point *min, struct geo_point *max)
{
    *min = b->min;
    *max = b->max;
    return 0;
}

json_t *boundary_geojson(const struct boundary *b)
{
    json_t *polys = json_array();
    for (size_t i = 0; polys && i < b->npolys; i++) {
        json_t *poly = json_array();
        for (size_t r = 0; poly && r < b->polys[i].nrings; r++) {
            const struct geo_ring *ring = &b->polys[i].rings[r];
            json_t *coords = json_array();
            for (size_t k = 0; coords && k < ring->n; k++)
                json_array_append_new(coords,
                                      json_pack("[f, f]", round(ring->pts[k].lon * 1e6) / 1e6,
                                                round(ring->pts[k].lat * 1e6) / 1e6));
            if (!coords || json_array_append_new(poly, coords) != 0) {
                json_decref(poly);
                poly = NULL;
            }
        }
        if (!poly || json_array_append_new(polys, poly) != 0) {
            json_decref(polys);
            return NULL;
        }
    }
    return polys ? json_pack("{s:s, s:o}", "type", "MultiPolygon", "coordinates", polys) : NULL;
}
