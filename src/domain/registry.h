/* registry.h - the district's official areas: district -> street/township
 * -> community/village, keyed by the official 12-digit code, with the
 * edition (year) of the official list each one comes from, counts of
 * households, residents and elderly people, and a centre point. Importing a
 * newer edition adds, renames, moves and retires areas and records each
 * change; nothing is ever deleted. A community split is recorded on both
 * sides. */
#ifndef LINLI_REGISTRY_H
#define LINLI_REGISTRY_H

#include "domain/domain.h"
#include "domain/principal.h"
#include "geo/geo.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define AREA_NAME_MAX 64 /* characters */

struct area {
    char code[AREA_CODE_LEN + 1];
    char name[AREA_NAME_MAX * 4 + 1];
    int level;     /* 0 district, 1 street/township, 2 community/village */
    char kind[12]; /* district, street, township, community, village */
    char parent_code[AREA_CODE_LEN + 1];
    int first_edition, last_edition, retired_edition; /* retired_edition 0 = current */
    int64_t households, residents, elderly;           /* -1 = not known */
    bool has_point;
    struct geo_point point; /* WGS-84 */
    char point_crs[8];
    char point_source[64];
    int64_t updated_at;
    int64_t children; /* current sub-areas, filled by registry_get */
};

/* One row of an official list, as read from a file. */
struct area_row {
    char code[AREA_CODE_LEN + 1];
    char name[AREA_NAME_MAX * 4 + 1];
    char parent_code[AREA_CODE_LEN + 1]; /* "" for the top of the import */
    char kind[12];
};

struct area_point {
    char code[AREA_CODE_LEN + 1];
    struct geo_point wgs84;
    const char *crs; /* the system it came in */
    const char *source;
};

struct import_report {
    int added, renamed, moved, retired, restored, unchanged, points;
};

/* Imports one edition of the official lists for the districts among `rows`
 * (admin only). Areas of those districts that the edition lacks are marked
 * retired. An edition older than one already imported is refused. All or
 * nothing, in one transaction. */
int registry_import(struct domain *d, const struct principal *who, int edition,
                    const struct area_row *rows, size_t n, const struct area_point *points,
                    size_t npoints, struct import_report *report, struct linli_err *err);

/* Splits a community into new ones (admin, or district/street staff whose scope
 * holds it): the original is retired in `edition`, the parts are added under
 * the same parent, and each side records the other. */
int registry_split(struct domain *d, const struct principal *who, const char *code, int edition,
                   const struct area_row *parts, size_t nparts, struct linli_err *err);

int registry_get(struct domain *d, const struct principal *who, const char *code, struct area *out,
                 struct linli_err *err);

struct area_filter {
    const char *parent; /* normalised code or NULL */
    int level;          /* -1 = any */
    bool include_retired;
    const char *after_code; /* cursor */
    int limit;
};

/* Areas in code order. *items is malloc'd; *more tells if another page follows. */
int registry_list(struct domain *d, const struct principal *who, const struct area_filter *f,
                  struct area **items, int *n, bool *more, struct linli_err *err);

/* Staff whose scope holds the area (or admin) set its counts; -1 leaves one unchanged. */
int registry_set_counts(struct domain *d, const struct principal *who, const char *code,
                        int64_t households, int64_t residents, int64_t elderly, struct area *out,
                        struct linli_err *err);

struct area_counts {
    char code[AREA_CODE_LEN + 1];
    int64_t households, residents, elderly;
};

/* Sets the counts of many areas in one transaction (admin only; used by
 * bulk loads such as the demo). One audit entry; a history event per area. */
int registry_set_counts_many(struct domain *d, const struct principal *who,
                             const struct area_counts *v, size_t n, struct linli_err *err);

/* The history of one area, oldest first: JSON array of events. */
int registry_history(struct domain *d, const struct principal *who, const char *code, json_t **out,
                     struct linli_err *err);

/* ---- boundaries ---- */

struct boundary; /* one area's outline, in WGS-84 */

/* Reads a GeoJSON Polygon or MultiPolygon in GCJ-02 and converts it. */
struct boundary *boundary_load_gcj02(const char *path, struct linli_err *err);
void boundary_free(struct boundary *b);
bool boundary_contains(const struct boundary *b, struct geo_point wgs84);
/* A point inside, for tests and demos: the centroid of the largest ring's box, nudged inside. */
int boundary_bbox(const struct boundary *b, struct geo_point *min, struct geo_point *max);
/* The outline as a GeoJSON MultiPolygon geometry in WGS-84 ([lon, lat],
 * rounded to 1e-6 degrees, about 0.1 m), for maps. NULL when out of memory. */
json_t *boundary_geojson(const struct boundary *b);

#endif
