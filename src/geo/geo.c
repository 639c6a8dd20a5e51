/* geo.c - datum shifts, distances and point-in-polygon. */
#include "geo/geo.h"

#include <math.h>

#define GCJ_A               6378245.0              /* Krasovsky 1940 semi-major axis, metres */
#define GCJ_EE              0.00669342162296594323 /* its first eccentricity squared */
#define EARTH_MEAN_RADIUS_M 6371008.8

static const double pi = 3.14159265358979323846;

bool geo_in_china(struct geo_point p)
{
    /* The rough box the published transform is meant for. */
    return p.lon >= 72.004 && p.lon <= 137.8347 && p.lat >= 0.8293 && p.lat <= 55.8271;
}

static double shift_lat(double x, double y)
{
    double r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt(fabs(x));
    r += (20.0 * sin(6.0 * x * pi) + 20.0 * sin(2.0 * x * pi)) * 2.0 / 3.0;
    r += (20.0 * sin(y * pi) + 40.0 * sin(y / 3.0 * pi)) * 2.0 / 3.0;
    r += (160.0 * sin(y / 12.0 * pi) + 320.0 * sin(y * pi / 30.0)) * 2.0 / 3.0;
    return r;
}

static double shift_lon(double x, double y)
{
    double r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt(fabs(x));
    r += (20.0 * sin(6.0 * x * pi) + 20.0 * sin(2.0 * x * pi)) * 2.0 / 3.0;
    r += (20.0 * sin(x * pi) + 40.0 * sin(x / 3.0 * pi)) * 2.0 / 3.0;
    r += (150.0 * sin(x / 12.0 * pi) + 300.0 * sin(x / 30.0 * pi)) * 2.0 / 3.0;
    return r;
}

struct geo_point geo_wgs84_to_gcj02(struct geo_point w)
{
    if (!geo_in_china(w))
        return w;
    double dlat = shift_lat(w.lon - 105.0, w.lat - 35.0);
    double dlon = shift_lon(w.lon - 105.0, w.lat - 35.0);
    double rad = w.lat / 180.0 * pi;
    double magic = 1 - GCJ_EE * sin(rad) * sin(rad);
    double sq = sqrt(magic);
    dlat = (dlat * 180.0) / ((GCJ_A * (1 - GCJ_EE)) / (magic * sq) * pi);
    dlon = (dlon * 180.0) / (GCJ_A / sq * cos(rad) * pi);
    return (struct geo_point){w.lat + dlat, w.lon + dlon};
}

struct geo_point geo_gcj02_to_wgs84(struct geo_point g)
{
    if (!geo_in_china(g))
        return g;
    /* Newton-like fixed point: w <- w - (f(w) - g). Converges in a few steps
     * because the shift varies slowly (hundreds of metres over kilometres). */
    struct geo_point w = g;
    for (int i = 0; i < 30; i++) {
        struct geo_point f = geo_wgs84_to_gcj02(w);
        double elat = f.lat - g.lat, elon = f.lon - g.lon;
        w.lat -= elat;
        w.lon -= elon;
        if (fabs(elat) < 1e-9 && fabs(elon) < 1e-9)
            break;
    }
    return w;
}

double geo_distance_m(struct geo_point a, struct geo_point b)
{
    double p1 = a.lat * pi / 180, p2 = b.lat * pi / 180;
    double dp = p2 - p1, dl = (b.lon - a.lon) * pi / 180;
    double h = sin(dp / 2) * sin(dp / 2) + cos(p1) * cos(p2) * sin(dl / 2) * sin(dl / 2);
    return 2 * EARTH_MEAN_RADIUS_M * asin(sqrt(h < 1 ? h : 1));
}

static bool ring_contains(const struct geo_ring *r, struct geo_point p)
{
    bool in = false;
    for (size_t i = 0, j = r->n - 1; i < r->n; j = i++) {
        const struct geo_point *a = &r->pts[i], *b = &r->pts[j];
        if ((a->lat > p.lat) != (b->lat > p.lat) &&
            p.lon < (b->lon - a->lon) * (p.lat - a->lat) / (b->lat - a->lat) + a->lon)
            in = !in;
    }
    return in;
}

bool geo_polygon_contains(const struct geo_polygon *poly, struct geo_point p)
{
    if (poly->nrings == 0 || poly->rings[0].n < 3 || !ring_contains(&poly->rings[0], p))
        return false;
    for (size_t k = 1; k < poly->nrings; k++)
        if (poly->rings[k].n >= 3 && ring_contains(&poly->rings[k], p))
            return false;
    return true;
}

bool geo_multipolygon_contains(const struct geo_polygon *polys, size_t n, struct geo_point p)
{
    for (size_t i = 0; i < n; i++)
        if (geo_polygon_contains(&polys[i], p))
            return true;
    return false;
}
