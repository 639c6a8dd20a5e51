/* api_web.c - GET /api/v1/map: what the pages need to draw a map of the
 * district: the tile source (if any), the district's outline in WGS-84 and
 * its bounds. Public: the outline is published data and the tile address is
 * the operator's choice. */
#include "api/api.h"
#include "domain/registry.h"

#include <stdlib.h>
#include <string.h>

static void map_doc(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    if (api_query(req, (const char *const[]){NULL}))
        return;
    json_t *o = json_object();
    json_t *tiles = json_null();
    if (a->map_tiles && *a->map_tiles)
        tiles = json_pack("{s:s, s:s, s:i}", "url", a->map_tiles, "attribution",
                          a->map_attribution ? a->map_attribution : "", "max_zoom", 18);
    json_object_set_new(o, "tiles", tiles ? tiles : json_null());
    const struct boundary *b = a->d->boundary;
    if (b) {
        struct geo_point min, max;
        boundary_bbox(b, &min, &max);
        json_object_set_new(o, "area_code", json_string(a->d->boundary_code));
        json_object_set_new(o, "bounds",
                            json_pack("[[f, f], [f, f]]", min.lat, min.lon, max.lat, max.lon));
        json_object_set_new(o, "center",
                            json_pack("{s:f, s:f}", "lat", (min.lat + max.lat) / 2, "lon",
                                      (min.lon + max.lon) / 2));
        json_t *geom = boundary_geojson(b);
        json_object_set_new(o, "boundary",
                            geom ? json_pack("{s:s, s:{s:s}, s:o}", "type", "Feature", "properties",
                                             "code", a->d->boundary_code, "geometry", geom)
                                 : json_null());
    } else {
        json_object_set_new(o, "area_code", json_null());
        json_object_set_new(o, "bounds", json_null());
        json_object_set_new(o, "center", json_null());
        json_object_set_new(o, "boundary", json_null());
    }
    http_add_header(req, "Cache-Control", "public, max-age=300");
    http_respond_json(req, 200, o);
}

int api_web_routes(struct api *a)
{
    return http_route(a->http, "GET", "/api/v1/map", map_doc, a) < 0 ? -1 : 0;
}
