/* stations.h - the social-work service network and its support teams.
 *
 * Stations: the district guidance centre (社工指导中心), the street centres
 * (街道社工站) and the community stations (社区社工室), each serving one
 * current area of its own level. They are public facilities: anyone may
 * read them; admins and district or street staff whose scope holds the
 * area create and change them. A CSV import validates every row before
 * anything is written and, unless told to skip them, writes nothing when a
 * row is bad.
 *
 * Support teams (社区成长伙伴): planners, lawyers, property-management
 * experts, psychological counsellors and social organisations, assigned to
 * communities. Staff read them; admins and district or street staff change a
 * team when every community it serves, before and after, lies in their scope.
 *
 * Every write is audited in its own job and announced on the bus after it
 * commits (station.created, station.updated, station.imported,
 * support_team.created, support_team.updated). */
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

/* ---- support teams ---- */

#define TEAM_NAME_MAX        64  /* characters */
#define TEAM_ORG_MAX         128 /* characters */
#define TEAM_MEMBERS_MAX     10000
#define TEAM_COMMUNITIES_MAX 1000
#define TEAMS_PAGE_MAX       500

enum team_kind {
    TEAM_PLANNER,    /* 社区规划师 */
    TEAM_LAWYER,     /* 社区律师 */
    TEAM_PROPERTY,   /* 物业管理专家 */
    TEAM_COUNSELLOR, /* 心理咨询师 */
    TEAM_SOCIAL_ORG, /* 社会组织 */
    TEAM_KINDS
};

const char *team_kind_name(int kind);
int team_kind_parse(const char *text, int *kind);

struct support_team {
    int64_t id;
    char name[TEAM_NAME_MAX * 4 + 1];
    int kind;
    char organisation[TEAM_ORG_MAX * 4 + 1];
    char contact_phone[STATION_PHONE_SIZE]; /* "" = none */
    int64_t members;
    char (*communities)[AREA_CODE_LEN + 1]; /* malloc'd, in code order */
    size_t ncommunities;
    int64_t created_at, updated_at;
};

struct team_fields {
    const char *name;
    const char *kind;
    const char *organisation;  /* NULL = "" */
    const char *contact_phone; /* NULL or "" = none */
    bool has_members;
    int64_t members;
    const char *const *communities; /* codes, with set_communities */
    size_t ncommunities;
    bool set_communities;
};

struct team_patch {
    bool set_name, set_kind, set_organisation, set_contact_phone, set_members;
    struct team_fields v;
};

struct team_filter {
    const char *community; /* normalised; NULL = any */
    int64_t after_id;
    int limit;
};

/* Creates a team, with its communities when given (admin, district or street
 * staff; every community current and within the caller's scope). */
int support_teams_create(struct domain *d, const struct principal *who,
                         const struct team_fields *in, const struct idem_req *idem,
                         struct support_team *out, bool *replayed, struct linli_err *err);
int support_teams_update(struct domain *d, const struct principal *who, int64_t id,
                         const struct team_patch *p, struct support_team *out,
                         struct linli_err *err);
/* Replaces the set of communities a team serves. */
int support_teams_assign(struct domain *d, const struct principal *who, int64_t id,
                         const char *const *codes, size_t n, struct support_team *out,
                         struct linli_err *err);
/* Staff roles only (admin, district, street, community, operator, auditor). */
int support_teams_get(struct domain *d, const struct principal *who, int64_t id,
                      struct support_team *out, struct linli_err *err);
int support_teams_list(struct domain *d, const struct principal *who, const struct team_filter *f,
                       struct support_team **items, int *n, int64_t *next, struct linli_err *err);
/* Frees what the teams own (their community lists), not the array itself. */
void support_teams_release(struct support_team *teams, int n);

/* True for the roles that read support teams and reports. */
bool stations_staff_role(enum role r);

#endif
