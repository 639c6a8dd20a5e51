/* stations.h - the social-work service network.
 *
 * Stations: the district guidance centre (社工指导中心), the street centres
 * (街道社工站) and the community stations (社区社工室), each serving one
 * current area of its own level. They are public facilities: anyone may
 * read them; admins and district or street staff whose scope holds the
 * area create and change them. A CSV import validates every row before
 * anything is written and, unless told to skip them, writes nothing when a
 * row is bad.
 *
 * Every write is audited in its own job and announced on the bus after it
 * commits (station.created, station.updated, station.imported).
 *
 * The support teams (support_teams.h) are included at the end, so a file
 * that includes this header sees both. */
#ifndef LINLI_STATIONS_H
#define LINLI_STATIONS_H

#include "domain/domain.h"
#include "domain/idem.h"
#include "domain/principal.h"
#include "domain/registry.h"
#include "geo/geo.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STATION_NAME_MAX    64  /* characters */
#define STATION_ADDRESS_MAX 128 /* characters */
#define STATION_HOURS_MAX   128 /* characters */
#define STATION_STAFF_MAX   10000
#define STATION_PHONE_SIZE  24 /* the normalised number with its NUL */
#define STATIONS_PAGE_MAX   500

enum station_level {
    STATION_DISTRICT_CENTRE,   /* serves the district */
    STATION_STREET_CENTRE,     /* serves a street or township */
    STATION_COMMUNITY_STATION, /* serves a community or village */
    STATION_LEVELS
};

/* "district_centre", "street_centre", "community_station". */
const char *station_level_name(int level);
/* 0 and *level, or -1 when `text` names no level. */
int station_level_parse(const char *text, int *level);

struct station {
    int64_t id;
    char name[STATION_NAME_MAX * 4 + 1];
    int level;
    char area_code[AREA_CODE_LEN + 1];
    char area_name[AREA_NAME_MAX * 4 + 1]; /* filled on reads */
    bool area_current;                     /* the area is not retired; filled on reads */
    char address[STATION_ADDRESS_MAX * 4 + 1];
    bool has_point;
    struct geo_point point; /* WGS-84 */
    int64_t staff;
    char phone[STATION_PHONE_SIZE]; /* "" = none */
    char opening_hours[STATION_HOURS_MAX * 4 + 1];
    int64_t created_at, updated_at;
};

/* A station as given by a caller, before validation. Text may be NULL. */
struct station_fields {
    const char *name;
    const char *level;     /* a level name */
    const char *area_code; /* 6, 9 or 12 digits */
    const char *address;   /* NULL = "" */
    bool has_point;
    struct geo_point point; /* WGS-84 degrees */
    bool has_staff;         /* false = 0 */
    int64_t staff;
    const char *phone;         /* NULL or "" = none */
    const char *opening_hours; /* NULL = "" */
};

/* A change: the fields whose set_ flag is true take their value from `v`;
 * set_point with v.has_point false, or set_phone with v.phone NULL, clears. */
struct station_patch {
    bool set_name, set_level, set_area_code, set_address, set_point, set_staff, set_phone,
        set_opening_hours;
    struct station_fields v;
};

struct station_filter {
    const char *area; /* a normalised code: stations serving it or an area within it; NULL = all */
    int level;        /* -1 = any */
    int64_t after_id; /* cursor */
    int limit;        /* 1..STATIONS_PAGE_MAX */
};

/* Checks and normalises `in` without touching the store: text lengths and
 * UTF-8, the level, the area code and that its level fits the station's, the
 * point, staff and phone. Fills `out` (id, area name and times untouched).
 * Returns 0 or EINVAL with one field error per problem ("name", "level",
 * "area_code", "address", "point.lat", "point.lon", "staff", "phone",
 * "opening_hours"). */
int stations_check(const struct station_fields *in, struct station *out, struct linli_err *err);

/* Creates a station (admin, or district/street staff whose scope holds the
 * area; else EFORBIDDEN). The area must exist and be current (EINVAL on
 * "area_code"). Another station with the same area, level and name is
 * ECONFLICT. With `idem`, a repeat returns the first result and sets *replayed. */
int stations_create(struct domain *d, const struct principal *who, const struct station_fields *in,
                    const struct idem_req *idem, struct station *out, bool *replayed,
                    struct linli_err *err);

/* Changes a station; the same rules hold for its area before and after. */
int stations_update(struct domain *d, const struct principal *who, int64_t id,
                    const struct station_patch *p, struct station *out, struct linli_err *err);

/* Anyone may read stations (`who` is not consulted). ENOTFOUND when absent. */
int stations_get(struct domain *d, const struct principal *who, int64_t id, struct station *out,
                 struct linli_err *err);

/* Pages of stations by id. *items is malloc'd (caller frees); *next is the
 * last id when another page follows, else 0. */
int stations_list(struct domain *d, const struct principal *who, const struct station_filter *f,
                  struct station **items, int *n, int64_t *next, struct linli_err *err);

/* ---- CSV import ---- */

/* One row of an import, with the line of the file it came from. */
struct station_import_row {
    long line;
    struct station_fields f;
};

struct station_row_error {
    long line;
    char field[32]; /* "" when the problem is the whole row */
    char message[192];
};

struct station_import_opts {
    bool skip_bad;      /* import the good rows even when some are bad */
    bool dry_run;       /* validate only; never writes */
    int bad_before;     /* rows the caller already refused (unreadable lines), for the counts */
    const char *source; /* the file, for the audit entry (may be NULL) */
    /* Called as rows are written (done of total), on the store's writer thread. */
    void (*progress)(void *ctx, size_t done, size_t total);
    void *progress_ctx;
};

struct station_import_report {
    int added, updated, unchanged, bad;
    struct station_row_error
        *errors; /* malloc'd, in line order; free with stations_import_report_free */
    size_t nerrors;
};

/* Validates every row (stations_check, the area, the caller's scope, and
 * rows naming the same station twice), recording each problem in
 * report->errors. With bad rows and no skip_bad, returns EINVAL and writes
 * nothing. Otherwise, in one write job, adds each new station and updates
 * the one with the same area, level and name; audits "station.import" with
 * the counts. */
int stations_import(struct domain *d, const struct principal *who,
                    const struct station_import_row *rows, size_t n,
                    const struct station_import_opts *opts, struct station_import_report *report,
                    struct linli_err *err);
void stations_import_report_free(struct station_import_report *r);

/* True for the roles that read support teams and reports. */
bool stations_staff_role(enum role r);

/* Last: support_teams.h uses STATION_PHONE_SIZE and stations_staff_role. */
#include "domain/support_teams.h"

#endif
