/* geo.h - pure geometry: no I/O, no globals. Coordinates are degrees,
 * latitude and longitude, WGS-84 unless a name says otherwise.
 *
 * GCJ-02 is the offset datum Chinese map providers publish in; the forward
 * transform is the published one, and the inverse has no closed form, so
 * gcj02_to_wgs84 iterates the forward transform until it lands within a
 * millimetre. */
#ifndef LINLI_GEO_H
#define LINLI_GEO_H

#include <stdbool.h>
#include <stddef.h>

struct geo_point {
    double lat, lon;
};

/* GCJ-02 applies only inside mainland China; outside, points pass unchanged. */
bool geo_in_china(struct geo_point p);
struct geo_point geo_wgs84_to_gcj02(struct geo_point wgs);
struct geo_point geo_gcj02_to_wgs84(struct geo_point gcj);

/* Great-circle distance in metres (haversine, mean Earth radius). */
double geo_distance_m(struct geo_point a, struct geo_point b);

/* A polygon: rings[0] is the outer boundary, the rest are holes. Rings need
 * not repeat their first point at the end. */
struct geo_ring {
    const struct geo_point *pts;
    size_t n;
};
struct geo_polygon {
    const struct geo_ring *rings;
    size_t nrings;
};

/* Even-odd rule: inside the outer ring and outside every hole. */
bool geo_polygon_contains(const struct geo_polygon *poly, struct geo_point p);
bool geo_multipolygon_contains(const struct geo_polygon *polys, size_t n, struct geo_point p);

#endif
