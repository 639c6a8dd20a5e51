/* directory.h - the elderly-service directory: where the district's
 * services are, what they offer, when they are open, what they cost and what
 * a resident pays after subsidy.
 *
 * Facilities (institutions, stations, dining tables, regional centres,
 * family-bed providers, community health centres, service providers) are
 * public: anyone may read and search them. Admins and district or street
 * staff whose scope holds a facility's area create and change them. A
 * facility is never deleted: closing it (status "closed") takes it out of
 * every search while its record and history stay.
 *
 * Each facility lists its services from a district-wide catalogue, each with
 * a price, a unit, whom it serves (an age and care levels) and subsidy rules
 * (which subsidy classes, ages and care levels get which discount).
 *
 * The searchable copy of the open facilities lives in memory (a spatial
 * index). Every write bumps a revision number in the same transaction; a
 * search first compares the stored revision with the index's and reloads
 * the facilities changed since, so writes made by this process or by another
 * one (the command line) are seen by the next search.
 *
 * Amounts of money are integer fen (1/100 yuan) here and yuan with at most
 * two decimals in the API. Times of day are minutes after midnight in
 * Asia/Shanghai (UTC+8). */
#ifndef LINLI_DIRECTORY_H
#define LINLI_DIRECTORY_H

#include "domain/domain.h"
#include "domain/idem.h"
#include "domain/principal.h"
#include "domain/registry.h"
#include "geo/geo.h"
#include "geo/walk.h"

#include <jansson.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FACILITY_NAME_MAX        64        /* characters */
#define FACILITY_ADDRESS_MAX     128       /* characters */
#define FACILITY_REG_MAX         64        /* characters of a registration number */
#define FACILITY_CONSORTIUM_MAX  64        /* characters */
#define FACILITY_SERVICES_MAX    12        /* services per facility */
#define FACILITY_SPANS_MAX       4         /* opening spans per day */
#define FACILITY_CLOSURES_MAX    16        /* holiday closures per facility */
#define FACILITY_CLOSURE_WHY_MAX 32        /* characters */
#define SERVICE_RULES_MAX        6         /* subsidy rules per service */
#define SERVICE_NOTE_MAX         48        /* characters */
#define RULE_LABEL_MAX           24        /* characters */
#define SERVICE_CODE_MAX         31        /* bytes: [a-z0-9_] */
#define SERVICE_NAME_MAX         32        /* characters */
#define CATALOGUE_MAX            64        /* services in the catalogue */
#define PRICE_MAX_FEN            100000000 /* 1,000,000 yuan */
#define FACILITIES_PAGE_MAX      500
#define FACILITY_IMPORT_MAX      20000 /* rows in one import (one transaction) */
#define DIRECTORY_HITS_MAX       200   /* most hits of one search */
#define DIRECTORY_MINUTES_MAX    120   /* longest walk a search or report accepts */
#define DIRECTORY_SERVED_KM      50    /* how far outside the district's outline a query may be */

enum facility_kind {
    FACILITY_INSTITUTION,     /* 养老机构: residential care, with beds */
    FACILITY_STATION,         /* 养老驿站: community elderly-care station */
    FACILITY_DINING,          /* 老年餐桌: dining table */
    FACILITY_REGIONAL_CENTRE, /* 街乡区域养老服务中心 */
    FACILITY_FAMILY_BED,      /* 家庭养老照护床位 provider */
    FACILITY_HEALTH,          /* 社区卫生服务中心（站） */
    FACILITY_PROVIDER,        /* 服务商: home-service provider */
    FACILITY_KINDS
};

enum operator_type { OPERATOR_PUBLIC, OPERATOR_PRIVATE, OPERATOR_PUBLIC_PRIVATE, OPERATOR_TYPES };

enum facility_status { FACILITY_OPEN, FACILITY_SUSPENDED, FACILITY_CLOSED, FACILITY_STATUSES };

enum price_unit { UNIT_MEAL, UNIT_HOUR, UNIT_VISIT, UNIT_DAY, UNIT_MONTH, UNIT_UNITS };

/* Codes, Chinese labels; parse accepts either and returns 0 or -1. */
const char *facility_kind_name(int kind);  /* "institution", "station", "dining_table",
                                              "regional_centre", "family_bed_provider",
                                              "health_centre", "provider" */
const char *facility_kind_label(int kind); /* 养老机构, ... */
int facility_kind_parse(const char *text, int *kind);
const char *operator_type_name(int t); /* "public", "private", "public_private" */
int operator_type_parse(const char *text, int *t);
const char *facility_status_name(int s); /* "open", "suspended", "closed" */
int facility_status_parse(const char *text, int *s);
const char *price_unit_name(int u); /* "meal", "hour", "visit", "day", "month" */
int price_unit_parse(const char *text, int *u);

/* Bits of care levels (enum care_level of people.h) and subsidy classes. */
#define CARE_BIT(level) (1u << (level))
/* The subsidy classes people.h knows, in this order, as bits. */
enum subsidy_class {
    SUBSIDY_DIBAO,
    SUBSIDY_TEKUN,
    SUBSIDY_LOW_INCOME,
    SUBSIDY_SHIDU,
    SUBSIDY_YOUFU,
    SUBSIDY_OTHER,
    SUBSIDY_CLASSES
};
const char *subsidy_class_name(int c); /* "dibao", ... */
int subsidy_class_parse(const char *text, int *c);

/* Who gets a discount: every condition given must hold (an empty mask or a
 * zero age is no condition). Exactly one of the three effects applies. */
struct subsidy_rule {
    char label[RULE_LABEL_MAX * 4 + 1]; /* "低保老人半价" */
    unsigned classes;                   /* bits of enum subsidy_class; 0 = anyone */
    int age_min;                        /* 0 = any age */
    unsigned care_levels;               /* CARE_BIT()s; 0 = any */
    bool living_alone;                  /* true = only people living alone */
    int percent_off;                    /* 1..100, or 0 */
    int64_t amount_off_fen;             /* > 0, or 0 */
    int64_t pay_fen;                    /* a fixed price (>= 0), or -1 */
};

struct facility_service {
    char code[SERVICE_CODE_MAX + 1];
    int64_t price_fen;    /* 0 = free */
    int unit;             /* enum price_unit */
    int age_min;          /* whom it serves: 0 = any age */
    unsigned care_levels; /* CARE_BIT()s; 0 = any */
    char note[SERVICE_NOTE_MAX * 4 + 1];
    int nrules;
    struct subsidy_rule rules[SERVICE_RULES_MAX];
};

struct time_span {
    int16_t open, close; /* minutes after midnight, open < close <= 1440 */
};

/* A week of opening hours, Monday first; a day with no span is closed. */
struct week_hours {
    int nspans[7];
    struct time_span spans[7][FACILITY_SPANS_MAX];
};

struct closure {
    char from[11], to[11]; /* YYYY-MM-DD, inclusive, Asia/Shanghai */
    char reason[FACILITY_CLOSURE_WHY_MAX * 4 + 1];
};

struct facility {
    int64_t id;
    int kind;          /* enum facility_kind */
    int operator_type; /* enum operator_type */
    int status;        /* enum facility_status */
    char name[FACILITY_NAME_MAX * 4 + 1];
    char registration[FACILITY_REG_MAX * 4 + 1];
    char address[FACILITY_ADDRESS_MAX * 4 + 1];
    struct geo_point point;                /* WGS-84; every facility has one */
    char area_code[AREA_CODE_LEN + 1];     /* a community, or a street for street-wide ones */
    char area_name[AREA_NAME_MAX * 4 + 1]; /* filled on reads */
    char street_code[AREA_CODE_LEN + 1];   /* the street of the area; filled on reads */
    char street_name[AREA_NAME_MAX * 4 + 1];
    char phone[24]; /* normalised digits, "" = none */
    struct week_hours hours;
    int nclosures;
    struct closure closures[FACILITY_CLOSURES_MAX];
    int capacity;      /* seats, places or clients a day; -1 = not given */
    int beds_total;    /* -1 = not given (kinds without beds) */
    int beds_free;     /* -1 = not given; <= beds_total */
    int rating_tenths; /* 0..50 (4.5 stars = 45), -1 = not rated */
    char consortium[FACILITY_CONSORTIUM_MAX * 4 + 1]; /* the street's 联合体, "" = none */
    int64_t created_at, updated_at;
    /* Last, so that a copy kept in memory need hold only nservices of them. */
    int nservices;
    struct facility_service services[FACILITY_SERVICES_MAX];
};

/* ---- rules, pure ---- */

/* "HH:MM-HH:MM" (close may be 24:00, must be after open) into a span. 0 or -1. */
int hours_parse_span(const char *text, struct time_span *out);
void hours_format_span(const struct time_span *s, char out[12]);
/* Whether `f` is open at Unix time `t` (seconds): its status is open, the
 * local date (UTC+8) is in no closure, and the local time falls in a span of
 * that weekday. */
bool facility_open_at(const struct facility *f, int64_t t);

/* Parses yuan (a JSON number >= 0 with at most two decimals, at most
 * PRICE_MAX_FEN fen) into fen. 0 or -1. */
int price_parse_yuan(double yuan, int64_t *fen);

/* Who is asking for a service: an anonymous profile or a person's. */
struct match_profile {
    int age;        /* -1 = not known */
    int care_level; /* enum care_level of people.h */
    bool living_alone;
    int subsidy_class; /* enum subsidy_class, or -1 = none */
};

/* Whether `p` is among those `s` serves (its age_min and care levels); when
 * not, `why` says which condition fails. */
bool service_serves(const struct facility_service *s, const struct match_profile *p, char *why,
                    size_t size);
/* What `p` pays for one unit of `s`: the lowest price any applicable rule
 * gives (rules do not add up), never below 0. *rule is the index of that
 * rule, or -1 when none applies. */
int64_t service_pay_fen(const struct facility_service *s, const struct match_profile *p, int *rule);

/* ---- the catalogue of services ---- */

struct service_def {
    char code[SERVICE_CODE_MAX + 1];
    char name_zh[SERVICE_NAME_MAX * 4 + 1];
    char name_en[SERVICE_NAME_MAX * 4 + 1];
    int unit;           /* the usual unit, a hint for forms */
    int64_t facilities; /* open facilities offering it; filled by services_list */
};

/* The catalogue, by code (defaults: meals, meal_delivery, bathing, cleaning,
 * day_care, respite, residential_care, home_nursing, rehabilitation,
 * medical_escort, health_check, chronic_care, psychological, emergency_response,
 * family_bed). *items malloc'd. Public. */
int services_list(struct domain *d, struct service_def **items, int *n, struct linli_err *err);
/* Adds a service to the catalogue (admin or district staff; ECONFLICT when
 * the code exists). Audited (service.create). */
int services_create(struct domain *d, const struct principal *who, const struct service_def *in,
                    struct service_def *out, struct linli_err *err);
/* true when `code` is in the catalogue (from the in-memory copy). */
bool services_known(struct domain *d, const char *code);

/* ---- facilities ---- */

/* A facility as given by a caller, already decoded from JSON or CSV into
 * typed values; text is borrowed (NULL = absent). The decoder reports
 * malformed values (a bad time span, an unknown kind) as field errors itself
 * and sets what it could. */
struct facility_in {
    const char *kind, *operator_type, *status; /* codes or labels; status NULL = open */
    const char *name, *registration, *address, *area_code, *phone, *consortium;
    bool has_point;
    struct geo_point point; /* WGS-84 */
    struct week_hours hours;
    int nclosures;
    struct closure closures[FACILITY_CLOSURES_MAX];
    int capacity, beds_total, beds_free, rating_tenths; /* -1 = not given */
    int nservices;
    struct facility_service services[FACILITY_SERVICES_MAX];
};

/* A change: fields whose set_ flag is true take their value from `v`. */
struct facility_patch {
    bool set_kind, set_operator_type, set_status, set_name, set_registration, set_address,
        set_area_code, set_phone, set_consortium, set_point, set_hours, set_closures, set_capacity,
        set_beds_total, set_beds_free, set_rating, set_services;
    struct facility_in v;
};

/* Checks `in` without the store (but with the catalogue): required name,
 * kind, operator type and point; the point inside China; text lengths; the
 * area code well formed; phone; capacity and beds (beds_free <= beds_total);
 * rating; closures (from <= to, real dates); services known, not repeated,
 * prices and rules sane. Fills `out`. EINVAL with a field error per problem,
 * named as in the API ("services[2].rules[0].percent_off"). */
int facility_check(struct domain *d, const struct facility_in *in, struct facility *out,
                   struct linli_err *err);

/* Creates a facility (admin, or district/street staff whose scope holds the
 * area: else EFORBIDDEN). The area must be a current street or community
 * (422 on "area_code"). The same name in the same area is ECONFLICT. With
 * `idem`, a repeat returns the first result and sets *replayed. Audited
 * (facility.create); publishes "facility.created". */
int facilities_create(struct domain *d, const struct principal *who, const struct facility_in *in,
                      const struct idem_req *idem, struct facility *out, bool *replayed,
                      struct linli_err *err);
/* Changes a facility; the rules of create hold for its area before and
 * after. Audited (facility.update with the changed fields); publishes
 * "facility.updated". */
int facilities_update(struct domain *d, const struct principal *who, int64_t id,
                      const struct facility_patch *p, struct facility *out, struct linli_err *err);
/* Anyone may read a facility, closed ones too. ENOTFOUND when absent. */
int facilities_get(struct domain *d, int64_t id, struct facility *out, struct linli_err *err);

struct facility_filter {
    const char *area;    /* normalised code: facilities in it; NULL = all */
    int kind;            /* -1 = any */
    const char *service; /* a catalogue code; NULL = any */
    int status;          /* -1 = any */
    int64_t after_id;
    int limit;
};
/* Pages by id. *items malloc'd; *next is the last id when more follow. */
int facilities_list(struct domain *d, const struct facility_filter *f, struct facility **items,
                    int *n, int64_t *next, struct linli_err *err);

/* ---- import ---- */

struct facility_row_error {
    long line;
    char field[48];
    char message[192];
};

struct facility_import_opts {
    bool skip_bad, dry_run;
    const char *source; /* the file, for the audit entry */
};

struct facility_import_report {
    long rows, created, updated, bad;
    struct facility_row_error *errors; /* malloc'd, first 100 */
    int nerrors;
};

/* Imports rows (a row whose name and area match an existing facility
 * replaces it; others are created). Every row is checked before anything is
 * written (the store's checks, such as unknown areas, included); with a bad
 * row and !skip_bad nothing is written (EINVAL). A dry run reports what would
 * be created and updated. At most FACILITY_IMPORT_MAX rows, written in one
 * transaction, audited once
 * (facility.import); publishes "facility.imported". `lines` numbers each row
 * for the errors. */
int facilities_import(struct domain *d, const struct principal *who, const struct facility_in *rows,
                      const long *lines, size_t n, const struct facility_import_opts *o,
                      struct facility_import_report *rep, struct linli_err *err);
void facility_import_report_free(struct facility_import_report *rep);

/* ---- JSON, the API's shapes (directory_json.c); the CSV import reuses
 * them for its structured columns ---- */

/* Decodes a facility object for a create (required fields enforced, unknown
 * fields refused) into `in`. Strings point into `obj`: keep it alive while
 * `in` is used. Field errors are named as in the API. 0 or EINVAL. */
int facility_in_from_json(json_t *obj, struct facility_in *in, struct linli_err *err);
/* The same for a PATCH: every field optional; sets the set_ flags. */
int facility_patch_from_json(json_t *obj, struct facility_patch *p, struct linli_err *err);
/* The API's facility object. */
json_t *facility_to_json(const struct facility *f);
/* {"mon": ["08:00-12:00", ...], ...}: days absent or [] are closed. `field`
 * prefixes the names of field errors. */
int week_hours_from_json(json_t *v, const char *field, struct week_hours *out,
                         struct linli_err *err);
json_t *week_hours_to_json(const struct week_hours *h);
/* The "services" array of a facility. */
int services_from_json(json_t *arr, const char *field, struct facility_service *out, int *n,
                       struct linli_err *err);
json_t *services_to_json(const struct facility_service *s, int n);

/* The text form of a week for CSV files and forms:
 * "mon-fri 08:00-12:00,13:00-18:00; sat,sun 09:00-17:00"; "" = never open;
 * "daily 00:00-24:00" = always. 0, or -1 with `why` filled. */
int hours_parse_week(const char *text, struct week_hours *out, char *why, size_t size);
void hours_format_week(const struct week_hours *h, char *out, size_t size);

/* ---- the in-memory directory ---- */

struct directory;

/* The memory copy is made on first use (any call below loads the catalogue
 * and every facility that is not closed). directory_close frees it; call it
 * before closing the store. */
void directory_close(struct domain *d);

/* The walking model from d's settings (defaults where they are 0). */
void directory_walk_model(const struct domain *d, struct walk_model *out);

/* Brings the memory copy up to the store's revision (a no-op when they
 * match: one indexed read). Every search calls it. */
int directory_refresh(struct domain *d, struct linli_err *err);

/* ---- search ---- */

struct directory_query {
    struct geo_point origin; /* WGS-84, checked: inside China and near the district */
    double minutes;          /* > 0; 0 = no limit (nearest first) */
    const char *service;     /* a catalogue code; NULL = any */
    int kind;                /* -1 = any */
    int64_t max_price_fen;   /* -1 = any; needs service */
    int64_t at;              /* Unix seconds: "open at" is computed for this time */
    bool only_open;          /* keep only those open at `at` */
    bool beds_free;          /* keep only those with a free bed */
    int limit;               /* 1..DIRECTORY_HITS_MAX */
};

struct directory_hit {
    struct facility f; /* a copy, as of the search */
    double dist_m, walk_minutes;
    int service_index; /* into f.services for the queried service, or -1 */
    bool open;         /* open at query.at */
};

/* Checks a query: origin inside China and within DIRECTORY_SERVED_KM of the
 * district outline (when one is loaded), minutes in (0, DIRECTORY_MINUTES_MAX],
 * service known, max_price without service. Field errors are named "near",
 * "minutes", "service", "max_price", ... */
int directory_query_check(struct domain *d, const struct directory_query *q, struct linli_err *err);

/* The open (not closed; suspended ones too, marked not open) facilities
 * matching `q`, by walking time, then price of the queried service, then id.
 * *hits malloc'd. */
int directory_search(struct domain *d, const struct directory_query *q, struct directory_hit **hits,
                     int *n, struct linli_err *err);

/* ---- a personal match ---- */

struct match_request {
    int64_t person_id; /* > 0: a stored person (the caller must be allowed
                          to read them); else the anonymous profile below */
    struct match_profile profile;
    bool has_origin;
    struct geo_point origin; /* required for an anonymous profile; a person's home otherwise */
    const char *community;   /* or a community code as the origin */
    int64_t budget_fen;      /* -1 = no budget */
    int nneeds;
    const char *needs[FACILITY_SERVICES_MAX]; /* catalogue codes; none = from the profile */
    double minutes;                           /* how far to look; 0 = 30 */
    int limit;                                /* results; 0 = 10 */
};

struct match_result {
    struct facility f;
    int service_index;
    double dist_m, walk_minutes;
    bool eligible;     /* serves this profile */
    bool has_capacity; /* a free bed when the service needs one; true otherwise */
    bool within_budget;
    int64_t price_fen, pay_fen;
    int rule;             /* the subsidy rule applied, or -1 */
    double score;         /* lower is better */
    char reasons[4][160]; /* distance, eligibility, capacity, price: short Chinese/English text */
    int nreasons;
};

/* Ranks, for each need, the facilities offering it: eligible ones with
 * capacity and within budget first, then by walking time and what the person
 * pays. `who` may be NULL for an anonymous profile. A person's profile is
 * read in scope (people_visible) and not revealed in the answer. *out
 * malloc'd. *needs_used lists the needs considered (given, or derived from
 * the profile). */
int directory_match(struct domain *d, const struct principal *who, const struct match_request *r,
                    struct match_result **out, int *n, char needs_used[][SERVICE_CODE_MAX + 1],
                    int *nneeds_used, struct linli_err *err);

/* ---- coverage planning ---- */

struct service_coverage_area {
    char code[AREA_CODE_LEN + 1];
    char name[AREA_NAME_MAX * 4 + 1];
    int64_t elderly; /* people at or over age_min in this area */
    int64_t located; /* of them, with a home point */
    int64_t covered; /* of those located, within reach of the service */
};

struct service_coverage {
    char service[SERVICE_CODE_MAX + 1];
    double minutes;
    int level; /* 1 street, 2 community */
    int age_min;
    int64_t facilities; /* open facilities offering the service */
    struct service_coverage_area total;
    int nareas;
    struct service_coverage_area *areas; /* malloc'd, by code */
};

/* Who among people aged `age_min` or more (in `area`, NULL = all within the
 * caller's scope) can walk to an open facility offering `service` within
 * `minutes`, counted per area of `level`. Staff roles only. */
int directory_coverage(struct domain *d, const struct principal *who, const char *service,
                       double minutes, int level, int age_min, const char *area,
                       struct service_coverage *out, struct linli_err *err);
void service_coverage_free(struct service_coverage *r);

struct uncovered_person {
    int64_t id;
    char name[32 * 4 + 1];
    char community_code[AREA_CODE_LEN + 1];
    int age;
    struct geo_point home;
    double nearest_m; /* to the nearest facility offering the service, -1 = none */
};

/* People out of reach (as above), by id, for roles that may read people, in
 * scope; paged like the people search. */
int directory_uncovered(struct domain *d, const struct principal *who, const char *service,
                        double minutes, int age_min, const char *area, int64_t after_id, int limit,
                        struct uncovered_person **items, int *n, int64_t *next,
                        struct linli_err *err);

enum candidate_source { CANDIDATES_COMMUNITIES, CANDIDATES_GRID, CANDIDATES_GIVEN };

struct site_candidate {
    struct geo_point point;
    char label[64 * 4 + 1];
    char area_code[AREA_CODE_LEN + 1]; /* "" when not known */
};

struct site_plan_request {
    const char *service;
    int count; /* 1..100 sites to place */
    double minutes;
    int age_min;      /* 0 = 60 */
    const char *area; /* only people and candidates in this area; NULL = the district */
    int source;       /* enum candidate_source */
    int grid_m;       /* grid spacing, 100..5000 (0 = 500) */
    int ncandidates;  /* CANDIDATES_GIVEN */
    const struct site_candidate *candidates;
};

struct site_pick {
    struct site_candidate c;
    int64_t gain;          /* people newly within reach */
    int64_t covered_after; /* cumulative */
};

struct site_plan {
    int64_t located, covered_before;
    int npicks;
    struct site_pick *picks; /* malloc'd, in the order chosen */
    int64_t candidates_considered;
};

/* Greedy maximal covering: starting from who the open facilities already
 * reach, repeatedly picks the candidate that brings the most people not yet
 * within reach within `minutes` (ties: the lower candidate index), until
 * `count` sites are placed or no candidate gains anyone. Admin, district and
 * street staff (in scope). */
int directory_plan_sites(struct domain *d, const struct principal *who,
                         const struct site_plan_request *r, struct site_plan *out,
                         struct linli_err *err);
void site_plan_free(struct site_plan *p);

/* ---- the directory in figures (directory_summary.c) ---- */

/* A kind's name in English ("Dining table"), for reports; "?" when unknown. */
const char *facility_kind_label_en(int kind);

/* One kind's figures. A closed facility counts in `closed` only; the beds
 * are those of open and suspended facilities (a facility without a bed
 * count adds none). */
struct facility_kind_figures {
    int64_t open, suspended, closed;
    int64_t beds_total, beds_free;
};

/* One street's figures, over its facilities that are not closed: the
 * street-wide ones and those of its communities (within the area asked for). */
struct facility_street_figures {
    char code[AREA_CODE_LEN + 1];
    char name[AREA_NAME_MAX * 4 + 1]; /* "" when the registry has no such area */
    int64_t facilities, beds_total, beds_free;
    int64_t by_kind[FACILITY_KINDS];
};

struct facility_summary {
    char area[AREA_CODE_LEN + 1];  /* the area asked for, normalised; "" = everywhere */
    int64_t total;                 /* facilities that are not closed */
    int64_t beds_total, beds_free; /* of those */
    struct facility_kind_figures kinds[FACILITY_KINDS]; /* by enum facility_kind */
    int nstreets;
    struct facility_street_figures *streets; /* malloc'd, by code; only with by_street */
};

/* Counts the facilities whose area lies within `area` (6, 9 or 12 digits;
 * NULL = all of them) by kind and status, with their beds. With `by_street`,
 * also per street: every current street within the area (for a community,
 * its own street), zeros included, and any other street holding a counted
 * facility, so that the rows add up to the totals. Public: no principal.
 * EINVAL on "area" when it is malformed or names no known area. Free with
 * facility_summary_free (also after a failure). */
int directory_summary(struct domain *d, const char *area, bool by_street,
                      struct facility_summary *out, struct linli_err *err);
void facility_summary_free(struct facility_summary *s);

#endif
