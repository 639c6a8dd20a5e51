/* cases.h - matters raised by anyone through any channel, handled in one
 * workflow (接诉即办): snap-and-report, hotline service requests, walk-ins,
 * enterprise demands, deliberation outcomes and Open311 clients all become a
 * case with a number, an owner, deadlines, an append-only history and the
 * reporter's verdict.
 *
 * ---- units: who handles a case ----
 *
 * A unit is a community, a street or the district, named by its 12-digit
 * area code, or a district department, named "dept-" + a short code
 * ("dept-cgj" 城管执法局, "dept-zjw" 住建委, ...; table case_departments,
 * defaults seeded). A user ACTS FOR a unit when
 *   - the user is an admin (acts for every unit); or
 *   - the unit is an area and the user is district, street or community
 *     staff whose scope is exactly that area (the community's own staff act
 *     for the community; a street's for the street; the district's for the
 *     district, which is the top of escalation and the dispatch centre); or
 *   - the user is a member of the unit (unit_members; admins and district
 *     staff manage memberships). Department staff are accounts, usually of
 *     role "district", that are members of their department. A district
 *     account that is a member of any department acts only through its
 *     memberships, not for the district unit.
 *
 * ---- routing ----
 *
 * On creation the case gets a lead unit and co-handlers from the routing
 * rules (case_routes): category (or any) x area (an area code; a case
 * matches when its area lies within it; or any) -> a unit, "@community"
 * (the case's own community) or "@street" (the street above it), plus
 * co-handling units. The most specific rule wins: a rule naming the category
 * beats one for any category; then the deeper area (community > street >
 * district > any); then the newest rule. Without a matching rule the lead is
 * the case's community (its street or the district when the area is
 * coarser; the district when no area is known).
 *
 * A case's area is the community given, or else the current community whose
 * centre point is nearest to the case's point. That is an approximation
 * until community outlines exist: a point near a border may land in the
 * neighbour. A point must lie inside the district outline when one is loaded
 * (domain.boundary), else inside China.
 *
 * ---- the workflow ----
 *
 *   submitted -> accepted -> dispatched -> in_progress -> resolved -> closed
 *   submitted, accepted -> rejected (a reason)       final
 *   submitted, accepted -> duplicate (the original)  final
 *   resolved -> in_progress                          "reopened", by the reporter
 *   resolved -> closed                               by the reporter (confirm),
 *                                                    or by the scheduler after
 *                                                    case_settings.auto_close_days
 *
 * Any other move is ECONFLICT (409). Who may make each move is
 * case_transition_allowed(): the HANDLERS (users who act for the lead unit or
 * for the unit the case was escalated to) accept, dispatch, start, resolve,
 * reject and mark duplicates; the REPORTER (the account that reported it)
 * confirms and reopens; the SYSTEM (user id 0: the scheduler, the command
 * line) may make every move. Dispatching may hand the case to another lead
 * unit and set its co-handlers.
 *
 * Every transition, note, photo, whistle, report-in, deadline flag,
 * escalation and rating is a case_events row; the table refuses UPDATE and
 * DELETE. Figures are computed from those rows.
 *
 * ---- deadlines ----
 *
 * Each category has a deadline class with Beijing's limits as defaults:
 *
 *   class       response (from submission)   resolution (from acceptance)
 *   emergency   30 minutes                   2 hours
 *   utilities   2 hours                      24 hours
 *   general     24 hours                     7 days
 *   complex     24 hours                     15 days
 *
 * RESPONSE = the case is accepted (the reporter contacted and the matter
 * taken on) by submitted_at + response limit; RESOLUTION = resolved by
 * accepted_at + resolution limit. A category may override either limit. A
 * reopened case gets a fresh resolution limit from the reopening.
 *
 * The scheduler (cases_tick, every minute) flags a pending deadline "due
 * soon" once when less than min(2 hours, 10% of its limit) remains, and
 * "overdue" once when it has passed; an overdue case is escalated one level
 * (community -> its street -> the district; a department -> the district),
 * the escalated-to unit acting for the case from then on beside the lead. It
 * also closes resolutions left unconfirmed for auto_close_days, and flags
 * report-ins that are late.
 *
 * ---- whistle and report-in (吹哨报到) ----
 *
 * Staff acting for the street that holds the case's area (or for the
 * district, or an admin) "blow the whistle": they summon units (usually
 * departments) onto the case. Each summoned unit must report in within
 * case_settings.report_in_minutes (default 30); its members do so with
 * cases_report_in. Late report-ins are flagged by the scheduler. Summoned
 * units and co-handlers see the case and add notes and photos; only the
 * handlers move its state.
 *
 * ---- who sees what ----
 *
 *   admin, auditor                      every case in full
 *   the reporter                        their own cases in full
 *   district/street/community/operator  cases whose area their scope holds,
 *                                       and cases linked to a unit they act for
 *   any member of a unit                cases linked to that unit
 *   resident, volunteer, provider       only their own; others only through
 *                                       cases_nearby (no reporter, no text)
 * A case the caller may not see is ENOTFOUND. The reporter's contact details
 * (name, phone, e-mail given on the hotline or through Open311) are shown to
 * the reporter and to the case's handlers and linked units, never in the
 * public view; the reporter's name appears in the public view only when
 * reporter_public is set.
 *
 * Events published on the bus after commit (payload: id, number, state,
 * category, area_code, unit_code and the event's kind; never reporter data):
 *   case.created, case.updated (any state change), case.note, case.photo,
 *   case.whistle, case.report_in, case.rated,
 *   case.due_soon, case.overdue, case.escalated, case.report_in_overdue */
#ifndef LINLI_CASES_H
#define LINLI_CASES_H

#include "domain/domain.h"
#include "domain/idem.h"
#include "domain/principal.h"
#include "geo/geo.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CASE_NUMBER_SIZE        24   /* "2026112500123" and its NUL; see case_number_format */
#define CASE_TITLE_MAX          64   /* characters */
#define CASE_DESCRIPTION_MAX    2000 /* characters */
#define CASE_ADDRESS_MAX        128  /* characters */
#define CASE_NOTE_MAX           1000 /* characters, of a note, reason or rating comment */
#define CASE_CONTACT_NAME_MAX   32   /* characters */
#define CASE_CONTACT_EMAIL_MAX  128  /* bytes */
#define CASE_PHONE_SIZE         24   /* digits and NUL */
#define CASE_CLIENT_MAX         64   /* bytes: the Open311 client's name */
#define CASE_ATTRIBUTES_MAX     4096 /* bytes of the attributes object as compact JSON */
#define CASE_PHOTOS_MAX         9    /* photos per case, over its whole life */
#define CASE_UNITS_MAX          16   /* units linked to one case: lead, co-handlers, summoned */
#define CASE_CATEGORY_CODE_MAX  32   /* [a-z0-9_] */
#define CASE_CATEGORY_NAME_MAX  32   /* characters, each language */
#define CASE_UNIT_CODE_MAX      32   /* "dept-" + [a-z0-9_], or a 12-digit area code */
#define CASE_UNIT_NAME_MAX      64   /* characters */
#define CASES_PAGE_MAX          500
#define CASE_EVENTS_MAX         1000 /* events returned with one case (the oldest first) */
#define CASE_NEARBY_RADIUS_M    200  /* default radius of cases_nearby */
#define CASE_NEARBY_RADIUS_MAX  2000
#define CASE_NEARBY_MAX         50                  /* most cases one nearby search returns */
#define CASE_DUE_SOON_WINDOW_MS (2LL * 3600 * 1000) /* "due soon": at most 2 hours ahead */
#define CASE_DUE_SOON_PERCENT   10                  /* ... or 10% of the limit, if shorter */
#define CASE_AUTO_CLOSE_DAYS    7                   /* default of case_settings */
#define CASE_REPORT_IN_MINUTES  30                  /* default of case_settings */
#define CASE_ROUTING_RULES_MAX  1000

#define CASE_TEXT_SIZE(chars) ((chars)*4 + 1) /* UTF-8: at most 4 bytes a character */

/* ---- enums and their names (codes in the API and the store) ---- */

enum case_state {
    CASE_SUBMITTED,
    CASE_ACCEPTED,
    CASE_DISPATCHED,
    CASE_IN_PROGRESS,
    CASE_RESOLVED,
    CASE_CLOSED,
    CASE_REJECTED,
    CASE_DUPLICATE,
    CASE_STATES
};
/* "submitted", "accepted", "dispatched", "in_progress", "resolved",
 * "closed", "rejected", "duplicate". parse: 0 or -1. */
const char *case_state_name(int s);
int case_state_parse(const char *text, int *s);
/* Open311's two statuses: "closed" for closed, rejected and duplicate;
 * "open" for every other state (resolved included: it awaits the reporter). */
const char *case_state_open311(int s);
/* true for closed, rejected and duplicate. */
bool case_state_final(int s);

enum case_channel {
    CHANNEL_SNAP,         /* 随手拍: a resident or volunteer with the app */
    CHANNEL_HOTLINE,      /* a call to the one-key call centre or 12345 */
    CHANNEL_WALK_IN,      /* at the community office, or by phone to it */
    CHANNEL_ENTERPRISE,   /* an enterprise's demand (服务企业接待日) */
    CHANNEL_DELIBERATION, /* an outcome of the deliberation hall (议事厅) */
    CHANNEL_OPEN311,      /* an Open311 GeoReport v2 client */
    CHANNEL_COUNT
};
/* "snap", "hotline", "walk_in", "enterprise", "deliberation", "open311". */
const char *case_channel_name(int c);
int case_channel_parse(const char *text, int *c);

enum case_priority { PRIORITY_LOW, PRIORITY_NORMAL, PRIORITY_HIGH, PRIORITY_URGENT };
/* "low", "normal", "high", "urgent". */
const char *case_priority_name(int p);
int case_priority_parse(const char *text, int *p);

enum deadline_class { DEADLINE_EMERGENCY, DEADLINE_UTILITIES, DEADLINE_GENERAL, DEADLINE_COMPLEX };
/* "emergency", "utilities", "general", "complex". */
const char *deadline_class_name(int c);
int deadline_class_parse(const char *text, int *c);
/* The class's default limits in minutes (table above). */
int deadline_class_response_minutes(int c);
int deadline_class_resolve_minutes(int c);

enum case_rating { RATING_SATISFIED, RATING_BASICALLY_SATISFIED, RATING_UNSATISFIED };
/* "satisfied", "basically_satisfied", "unsatisfied". */
const char *case_rating_name(int r);
int case_rating_parse(const char *text, int *r);

/* Who makes a transition (bits, for case_transition_allowed). */
#define CASE_BY_HANDLER  1u
#define CASE_BY_REPORTER 2u
#define CASE_BY_SYSTEM   4u

/* The state machine, pure: the CASE_BY_* bits of who may move a case from
 * `from` to `to`; 0 when the move is not allowed at all (ECONFLICT). */
unsigned case_transition_allowed(int from, int to);

/* Event kinds (case_events.kind). Transitions record the state they reach,
 * "reopened" for resolved -> in_progress. */
#define CASE_EV_SUBMITTED         "submitted"
#define CASE_EV_ACCEPTED          "accepted"
#define CASE_EV_DISPATCHED        "dispatched"
#define CASE_EV_IN_PROGRESS       "in_progress"
#define CASE_EV_RESOLVED          "resolved"
#define CASE_EV_CLOSED            "closed"
#define CASE_EV_REJECTED          "rejected"
#define CASE_EV_DUPLICATE         "duplicate"
#define CASE_EV_REOPENED          "reopened"
#define CASE_EV_NOTE              "note"
#define CASE_EV_PHOTO             "photo"
#define CASE_EV_WHISTLE           "whistle"
#define CASE_EV_REPORT_IN         "report_in"
#define CASE_EV_REPORT_IN_OVERDUE "report_in_overdue"
#define CASE_EV_DUE_SOON          "due_soon"
#define CASE_EV_OVERDUE           "overdue"
#define CASE_EV_ESCALATED         "escalated"
#define CASE_EV_RATED             "rated"

/* Deadline flags (case_record.flags), each set once. */
#define CASE_FLAG_RESPONSE_DUE_SOON 1u
#define CASE_FLAG_RESPONSE_OVERDUE  2u
#define CASE_FLAG_RESOLVE_DUE_SOON  4u
#define CASE_FLAG_RESOLVE_OVERDUE   8u

/* ---- records ---- */

/* A photo of a case: the content hash under which photo_store keeps the
 * (metadata-stripped) bytes, its type and size. */
struct case_photo {
    char hash[65];     /* lower-case hex SHA-256 */
    char type[24];     /* "image/jpeg", "image/png", "image/webp" */
    int64_t size;      /* bytes */
    int width, height; /* pixels, 0 = not known */
    int64_t event_id;  /* the event that added it (0 in a create's input) */
    int64_t added_at;
};

/* A unit linked to a case. */
enum case_link { LINK_LEAD, LINK_CO, LINK_SUMMONED, LINK_ESCALATED };
const char *case_link_name(int l); /* "lead", "co", "summoned", "escalated" */

struct case_unit_link {
    char unit[CASE_UNIT_CODE_MAX + 1];
    int link;            /* enum case_link */
    int64_t linked_at;   /* ms */
    int64_t due_at;      /* summoned: report in by then; 0 otherwise */
    int64_t reported_at; /* summoned: when it reported in; 0 = not yet */
    bool late;           /* summoned: flagged as late by the scheduler */
};

enum case_view {
    CASE_VIEW_FULL,   /* the reporter, handlers, staff in scope: everything */
    CASE_VIEW_PUBLIC, /* no contact details, no reporter unless public, no internal notes */
    CASE_VIEW_NEARBY  /* number, category, title, state, point, times: for duplicates */
};

/* A case, as read. Text fields are "" when absent; times are UTC ms, 0 = not
 * (yet). */
struct case_record {
    int64_t id;
    char number[CASE_NUMBER_SIZE];
    int channel; /* enum case_channel */
    char category[CASE_CATEGORY_CODE_MAX + 1];
    char title[CASE_TEXT_SIZE(CASE_TITLE_MAX)];
    char description[CASE_TEXT_SIZE(CASE_DESCRIPTION_MAX)];
    bool has_point;
    struct geo_point point; /* WGS-84 */
    char address[CASE_TEXT_SIZE(CASE_ADDRESS_MAX)];
    char area_code[AREA_CODE_LEN + 1]; /* "" when not known */
    bool area_from_point;              /* the area was found from the point */
    int state;                         /* enum case_state */
    int priority;                      /* enum case_priority */
    /* the reporter */
    int64_t reporter_user_id;                                  /* 0 = anonymous */
    char reporter_name[CASE_TEXT_SIZE(CASE_CONTACT_NAME_MAX)]; /* display name, or contact name */
    bool reporter_public; /* the reporter agreed to be named publicly */
    char contact_name[CASE_TEXT_SIZE(CASE_CONTACT_NAME_MAX)];
    char contact_phone[CASE_PHONE_SIZE];
    char contact_email[CASE_CONTACT_EMAIL_MAX + 1];
    char client[CASE_CLIENT_MAX + 1]; /* the Open311 client, "" otherwise */
    int64_t recorded_by;              /* the account that entered it (= reporter for snap) */
    /* who handles it */
    char unit_code[CASE_UNIT_CODE_MAX + 1];    /* the lead unit */
    char escalated_to[CASE_UNIT_CODE_MAX + 1]; /* "" = not escalated */
    int escalations;
    int nunits;
    struct case_unit_link units[CASE_UNITS_MAX]; /* lead first, then by time */
    /* deadlines */
    int deadline_class;
    int response_minutes, resolve_minutes;
    int64_t response_due_at; /* submitted + response limit */
    int64_t resolve_due_at;  /* accepted (or reopened) + resolution limit; 0 before */
    unsigned flags;          /* CASE_FLAG_* */
    /* times */
    int64_t created_at, accepted_at, resolved_at, closed_at, updated_at;
    /* outcome */
    int resolutions;      /* times resolved */
    int rated_resolution; /* the resolution the last rating was for, 0 = never rated */
    int rating;           /* enum case_rating, -1 = none */
    char rating_comment[CASE_TEXT_SIZE(CASE_NOTE_MAX)];
    int64_t duplicate_of;                       /* the original's id, 0 = none */
    char reason[CASE_TEXT_SIZE(CASE_NOTE_MAX)]; /* why rejected */
    char attributes[CASE_ATTRIBUTES_MAX + 1];   /* a JSON object, "{}" when none */
    int nphotos;
    struct case_photo photos[CASE_PHOTOS_MAX];
    int view; /* enum case_view: what the reader was allowed to see */
    /* filled by cases_nearby only */
    double distance_m;
};

/* One row of a case's history. */
struct case_event {
    int64_t id, case_id;
    int64_t at;
    char kind[24];                                          /* CASE_EV_* */
    int state;                                              /* the case's state after the event */
    int64_t actor_user_id;                                  /* 0 = the system */
    char actor_name[CASE_TEXT_SIZE(CASE_CONTACT_NAME_MAX)]; /* display name, "" = system */
    char actor_unit[CASE_UNIT_CODE_MAX + 1];                /* the unit acted for, "" when none */
    char note[CASE_TEXT_SIZE(CASE_NOTE_MAX)];
    bool public_note;  /* the note may be shown to the reporter and the public */
    char detail[1024]; /* JSON object: to/from units, photo hash, rating, ... */
};

/* ---- settings (table case_settings; admin changes them) ---- */

struct case_settings {
    int auto_close_days;   /* an unconfirmed resolution closes after this, 1..90 */
    int report_in_minutes; /* a summoned unit reports in within this, 5..1440 */
};
int cases_settings_get(struct domain *d, struct case_settings *out, struct linli_err *err);
/* Admin only. Audited (case.settings). */
int cases_settings_set(struct domain *d, const struct principal *who,
                       const struct case_settings *in, struct linli_err *err);

/* ---- categories (public to read; admin and district staff change them) ---- */

struct case_category {
    char code[CASE_CATEGORY_CODE_MAX + 1];
    char name_zh[CASE_TEXT_SIZE(CASE_CATEGORY_NAME_MAX)];
    char name_en[CASE_TEXT_SIZE(CASE_CATEGORY_NAME_MAX)];
    char description[CASE_TEXT_SIZE(256)];
    char group[CASE_TEXT_SIZE(CASE_CATEGORY_NAME_MAX)]; /* Open311 "group"; "" = none */
    int deadline_class;
    int response_minutes, resolve_minutes; /* the class's unless overridden */
    bool active;                           /* inactive: kept, but no new cases */
    /* Open311 attribute definitions: a JSON array of {code, datatype
     * (string|number|datetime|text|singlevaluelist|multivaluelist), required,
     * description, order, values: [{key, name}]}; "[]" = none. */
    char attributes[CASE_ATTRIBUTES_MAX + 1];
    int64_t created_at, updated_at;
};

/* What a caller gives for a category (NULL / -1 = absent). */
struct case_category_in {
    const char *code, *name_zh, *name_en, *description, *group, *deadline_class;
    int response_minutes, resolve_minutes; /* -1 = the class's default */
    int active;                            /* -1 = absent (true on create) */
    json_t *attributes;                    /* borrowed; NULL = absent */
};

/* Defaults seeded by the migration: corridor_clutter 堆物堆料, small_ads
 * 小广告, public_facility 公共设施损坏, sanitation 环境卫生, illegal_parking
 * 违章停车, noise 噪音, property_mgmt 物业管理, elderly_service 养老服务 (all
 * general), utilities 供暖/水/电/气 (utilities), other 其他 (general). */
int case_categories_list(struct domain *d, bool include_inactive, struct case_category **items,
                         int *n, struct linli_err *err);
int case_categories_get(struct domain *d, const char *code, struct case_category *out,
                        struct linli_err *err);
/* Admin or district staff (else EFORBIDDEN). A code in use is ECONFLICT.
 * Limits 1..(90 days) minutes; attribute definitions checked. Audited
 * (case_category.create / .update with the changed fields). A changed limit
 * applies to cases created after it. */
int case_categories_create(struct domain *d, const struct principal *who,
                           const struct case_category_in *in, struct case_category *out,
                           struct linli_err *err);
int case_categories_update(struct domain *d, const struct principal *who, const char *code,
                           const struct case_category_in *in, struct case_category *out,
                           struct linli_err *err);

/* ---- units ---- */

enum unit_kind { UNIT_DISTRICT, UNIT_STREET, UNIT_COMMUNITY, UNIT_DEPARTMENT };
const char *unit_kind_name(int k); /* "district", "street", "community", "department" */
int unit_kind_parse(const char *text, int *k);

struct case_unit {
    char code[CASE_UNIT_CODE_MAX + 1];
    int kind;
    char name_zh[CASE_TEXT_SIZE(CASE_UNIT_NAME_MAX)];
    char name_en[CASE_TEXT_SIZE(CASE_UNIT_NAME_MAX)]; /* "" for area units */
    char parent[CASE_UNIT_CODE_MAX + 1]; /* the unit above: street, district; "" at the top */
    int64_t members;                     /* unit_members rows */
};

/* Pure: true for "dept-" + 1..27 of [a-z0-9_]. */
bool case_unit_is_department(const char *code);
/* The unit above `unit` for escalation: a community's street, a street's
 * district, a department's district (`district` = the district's 12-digit
 * code). "" at the district. Pure for area codes (by their digits). */
void case_unit_parent(const char *unit, const char *district, char out[CASE_UNIT_CODE_MAX + 1]);

/* Resolves a unit code: a department, or a current area (any level; 6/9/12
 * digit codes are normalised into out->code). ENOTFOUND when neither. */
int case_units_get(struct domain *d, const char *code, struct case_unit *out,
                   struct linli_err *err);
/* Departments, by code; with `kind` >= 0 and != UNIT_DEPARTMENT, the current
 * areas of that level under `parent` (an area code or NULL). Any logged-in
 * account (`who` NULL is EUNAUTH). */
int case_units_list(struct domain *d, const struct principal *who, int kind, const char *parent,
                    struct case_unit **items, int *n, struct linli_err *err);
/* Adds a department (admin or district staff; code per
 * case_unit_is_department; ECONFLICT when it exists). Audited. */
int case_units_create_department(struct domain *d, const struct principal *who, const char *code,
                                 const char *name_zh, const char *name_en, struct case_unit *out,
                                 struct linli_err *err);
/* Memberships (admin or district staff without department memberships).
 * Add: the user must exist and not be a resident (EINVAL "user_id");
 * adding twice is ECONFLICT, removing a non-member ENOTFOUND. Audited. */
int case_units_add_member(struct domain *d, const struct principal *who, const char *unit,
                          int64_t user_id, struct linli_err *err);
int case_units_remove_member(struct domain *d, const struct principal *who, const char *unit,
                             int64_t user_id, struct linli_err *err);
/* The user ids of a unit's members, ascending. *ids malloc'd. Staff roles. */
int case_units_members(struct domain *d, const struct principal *who, const char *unit,
                       int64_t **ids, int *n, struct linli_err *err);
/* The units `who` acts for, per the rule at the top (admin: *all = true and
 * none listed). *units malloc'd. */
int case_units_of(struct domain *d, const struct principal *who,
                  char (**units)[CASE_UNIT_CODE_MAX + 1], int *n, bool *all, struct linli_err *err);
/* The same units with their kind and names (GET /api/v1/me), in the order
 * case_units_of gives; a unit whose area has been retired since keeps its
 * code and kind with empty names. *units malloc'd (NULL when none). */
int case_units_acting(struct domain *d, const struct principal *who, struct case_unit **units,
                      int *n, bool *all, struct linli_err *err);

/* ---- routing rules (admin and district staff manage; staff read) ---- */

#define CASE_ROUTE_OWN_COMMUNITY "@community"
#define CASE_ROUTE_OWN_STREET    "@street"

struct case_route {
    int64_t id;
    char category[CASE_CATEGORY_CODE_MAX + 1]; /* "" = any */
    char area[AREA_CODE_LEN + 1];              /* normalised; "" = anywhere */
    char unit[CASE_UNIT_CODE_MAX + 1];         /* a unit, or @community / @street */
    int nco;
    char co_units[CASE_UNITS_MAX - 1][CASE_UNIT_CODE_MAX + 1];
    int64_t created_at;
    int64_t retired_at; /* 0 = in force */
};

struct case_route_in {
    const char *category; /* NULL = any */
    const char *area;     /* NULL = anywhere */
    const char *unit;
    int nco;
    const char *co_units[CASE_UNITS_MAX - 1];
};

/* Rules in force (with `include_retired`, all), by id. *items malloc'd. */
int case_routes_list(struct domain *d, const struct principal *who, bool include_retired,
                     struct case_route **items, int *n, struct linli_err *err);
/* Adds a rule: the category known, the area a current area, the units
 * existing and distinct. A rule in force with the same category and area is
 * ECONFLICT (retire it first). Audited (case_route.create). */
int case_routes_create(struct domain *d, const struct principal *who,
                       const struct case_route_in *in, struct case_route *out,
                       struct linli_err *err);
/* Retires a rule (kept for the history). ENOTFOUND when absent or retired. */
int case_routes_retire(struct domain *d, const struct principal *who, int64_t id,
                       struct linli_err *err);

/* The routing decision, pure: among `rules` (in force), the most specific one
 * matching (category, area) per the order at the top, or NULL. */
const struct case_route *case_route_pick(const struct case_route *rules, int n,
                                         const char *category, const char *area);
/* Applies a rule (or the default when NULL) to a case in `area` ("" = not
 * known): the lead unit and the co-handlers. `district` is the district's
 * code for cases without an area. */
void case_route_apply(const struct case_route *rule, const char *area, const char *district,
                      char lead[CASE_UNIT_CODE_MAX + 1],
                      char co[CASE_UNITS_MAX - 1][CASE_UNIT_CODE_MAX + 1], int *nco);

/* ---- numbers and deadlines, pure ---- */

/* The number of the `seq`-th case (1-based) of the Asia/Shanghai day of
 * `at_ms`: yyyymmdd followed by seq on at least 5 digits ("2026112500123").
 * Unique as long as seq is unique per day (case_number_seq keeps it). */
void case_number_format(int64_t at_ms, int64_t seq, char out[CASE_NUMBER_SIZE]);
/* yyyymmdd of the Asia/Shanghai date of at_ms. */
int case_local_day(int64_t at_ms);
/* True for what case_number_format makes: 13 to CASE_NUMBER_SIZE - 1 digits. */
bool case_number_valid(const char *s);
/* The deadline the case is waiting on now: the response deadline while
 * submitted, the resolution deadline while accepted, dispatched or in
 * progress; 0 for the other states (resolved waits on the reporter; the
 * final states on nothing). The same as the SQL in cases_read.c. */
int64_t case_pending_due(const struct case_record *r);
/* When "due soon" starts for a deadline `due_at` of a limit of `limit_ms`:
 * due_at - min(CASE_DUE_SOON_WINDOW_MS, limit_ms * CASE_DUE_SOON_PERCENT / 100). */
int64_t case_due_soon_at(int64_t due_at, int64_t limit_ms);

/* ---- creating ---- */

/* A case as given by a caller. Strings are borrowed; NULL = absent. */
struct case_in {
    const char *channel;  /* NULL = "snap" */
    const char *category; /* required: an active category (Open311 service_code) */
    const char *title;    /* NULL = the category's Chinese name */
    const char *description;
    bool has_point;
    struct geo_point point; /* WGS-84 */
    const char *address;
    const char *area_code; /* any level; a given area wins over the point */
    const char *priority;  /* NULL = "normal" ("urgent" for emergency-class categories) */
    bool reporter_public;
    /* For channels other than snap: the person who raised it (never public). */
    const char *contact_name, *contact_phone, *contact_email;
    int64_t reporter_user_id; /* hotline/walk-in on behalf of an account; 0 = none */
    const char *client;       /* the Open311 client (its API key's name) */
    json_t *attributes;       /* borrowed; an object; NULL = {} */
    int nphotos;
    struct case_photo photos[CASE_PHOTOS_MAX]; /* already in photo_store */
    int64_t at;                                /* submission time; 0 = now (tests set it) */
};

/* Who may create through which channel:
 *   snap          any logged-in account but provider and auditor; the
 *                 reporter is the caller.
 *   hotline, walk_in, enterprise, deliberation
 *                 admin, district, street, community and operator staff,
 *                 recording for someone (contact_* and/or reporter_user_id).
 *   open311       only the system principal (user id 0), i.e. trusted code
 *                 that has checked its own credentials: the Open311 facade
 *                 with its API key, or the command line. The reporter is
 *                 anonymous with contact_* as given.
 * The system principal may create through every channel.
 *
 * Checks every field (all problems as field errors named as in the API:
 * "category", "point", "area_code", "title", "photos[2]", "attributes.x",
 * ...): a location is required (point, address or area); the point inside
 * the district outline; the area a current area; attributes against the
 * category's definitions. Then, in one write job: finds the area, routes the
 * case, numbers it, computes the response deadline, writes the case, its
 * units, photos and a "submitted" event, the audit entry (case.create) and
 * the idempotency record. Publishes "case.created". `out` is the full view. */
int cases_create(struct domain *d, const struct principal *who, const struct case_in *in,
                 const struct idem_req *idem, struct case_record *out, bool *replayed,
                 struct linli_err *err);

/* ---- reading ---- */

/* One case by id, in the view the caller is allowed (`who` NULL = public
 * view: what the Open311 facade shows). ENOTFOUND when absent or not
 * visible. */
int cases_get(struct domain *d, const struct principal *who, int64_t id, struct case_record *out,
              struct linli_err *err);
int cases_get_by_number(struct domain *d, const struct principal *who, const char *number,
                        struct case_record *out, struct linli_err *err);

/* A case's history, oldest first (at most CASE_EVENTS_MAX). Internal notes
 * and the names of the staff who acted are for staff who see the case
 * through their scope or a linked unit (and admins, auditors): for anyone
 * else, the reporter included, notes that are not public come back "" and
 * actors unnamed. *items malloc'd. */
int cases_events(struct domain *d, const struct principal *who, int64_t id,
                 struct case_event **items, int *n, struct linli_err *err);

struct case_filter {
    int state;              /* -1 = any */
    bool open_only;         /* states that are not final */
    const char *category;   /* NULL = any */
    const char *unit;       /* linked to this unit (any link); NULL = any */
    const char *area;       /* normalised area code: cases within it; NULL = any */
    int channel;            /* -1 = any */
    const char *client;     /* Open311 client; NULL = any */
    int64_t from_ms, to_ms; /* created_at in [from, to); 0 = open */
    int64_t updated_since;  /* updated_at >= this; 0 = any */
    bool mine;              /* only cases the caller reported */
    const int64_t *ids;     /* only these ids (Open311 service_request_id list) */
    int nids;
    const char *number; /* exactly this case number (case_number_valid); NULL = any */
    bool overdue;       /* only cases whose pending deadline passed before now_ms */
    int64_t now_ms;     /* for overdue; 0 = the clock */
    bool by_due;        /* by pending deadline, then id (only cases that have one) */
    int64_t after_due;  /* by_due's cursor: the rows after (after_due, after_id); */
    int64_t after_id;   /* after_id 0 = the first page */
    int64_t before_id;  /* cursor: newest first, ids below this; 0 = from the newest */
    int limit;          /* 1..CASES_PAGE_MAX */
};

/* The cases the caller may see matching every filter, newest first (or, with
 * by_due, earliest pending deadline first, then id). `who` NULL = public view
 * of every case. *items malloc'd; *next the last id when another page follows,
 * else 0 (with by_due the next page starts after (case_pending_due(last),
 * *next)). EINVAL with field "number" for a malformed number.
 *
 * Served by indexes at a million cases: `number` by its unique index,
 * `overdue` and `by_due` by cases_pending_due (the pending deadline of the
 * cases that have one, and id); the default order walks ids down. */
int cases_list(struct domain *d, const struct principal *who, const struct case_filter *f,
               struct case_record **items, int *n, int64_t *next, struct linli_err *err);

/* Open cases (not final, not resolved) of `category` within `radius_m`
 * (0 = CASE_NEARBY_RADIUS_M; at most CASE_NEARBY_RADIUS_MAX) of `p`, nearest
 * first, at most CASE_NEARBY_MAX, in the nearby view (the caller's own cases
 * in full). Any logged-in account. */
int cases_nearby(struct domain *d, const struct principal *who, struct geo_point p,
                 const char *category, double radius_m, struct case_record **items, int *n,
                 struct linli_err *err);

/* Events of every case with a public meaning (transitions and public notes),
 * oldest first, after event id `after_event_id` and at or after `since_ms`,
 * at most `limit`: what Open311's servicerequestupdates reports. Public view
 * (no actor names, internal notes ""). *items malloc'd; each event's case_id
 * names its case. */
int cases_updates_since(struct domain *d, int64_t since_ms, int64_t after_event_id, int limit,
                        const int *channel_or_null, struct case_event **items, int *n,
                        struct linli_err *err);

/* True when `who` may see the case / acts for it (handler). For the API's
 * photo route and tests; the functions above check for themselves. */
bool case_visible_to(struct domain *d, const struct principal *who, const struct case_record *c);
bool case_handled_by(struct domain *d, const struct principal *who, const struct case_record *c);

/* ---- the workflow ---- */

struct case_transition_in {
    const char *to;       /* a state name */
    const char *note;     /* optional; public (the reporter sees it) */
    const char *reason;   /* required for rejected */
    int64_t duplicate_of; /* required for duplicate: another case, not final-duplicate */
    const char *unit;     /* dispatched: a new lead unit; NULL = keep */
    int nco;              /* dispatched: co-handlers to add */
    const char *co_units[CASE_UNITS_MAX - 1];
    int64_t at; /* 0 = now */
};

/* Moves a case. ENOTFOUND when the caller may not see it; EINVAL for an
 * unknown state, a missing reason (rejected), original (duplicate) or note
 * (resolved: how it was resolved); ECONFLICT when the move is not
 * allowed from the current state (the detail names both states);
 * EFORBIDDEN when the caller is not who may make it. Sets the times
 * (accepted_at and the resolution deadline on acceptance; resolved_at and
 * resolutions on resolution; closed_at), writes the event and the audit
 * entry (case.transition) in one job; publishes "case.updated". */
int cases_transition(struct domain *d, const struct principal *who, int64_t id,
                     const struct case_transition_in *in, struct case_record *out,
                     struct linli_err *err);

/* Adds a note (the reporter, handlers, linked units' members, staff who see
 * it; not on a final case: ECONFLICT). `public_note` lets the reporter and
 * the public read it (the reporter's own notes are always public). Audited;
 * publishes "case.note". */
int cases_add_note(struct domain *d, const struct principal *who, int64_t id, const char *text,
                   bool public_note, struct case_event *out, struct linli_err *err);

/* Adds photos already in photo_store (same callers as a note). More than
 * CASE_PHOTOS_MAX over the case's life is ETOOBIG; a photo the case has is
 * skipped. One "photo" event per photo; publishes "case.photo". */
int cases_add_photos(struct domain *d, const struct principal *who, int64_t id,
                     const struct case_photo *photos, int n, const char *note,
                     struct case_record *out, struct linli_err *err);

/* Finds photo `hash` of case `id` for a caller who may see the case
 * (ENOTFOUND otherwise, and when the case has no such photo). */
int cases_photo_get(struct domain *d, const struct principal *who, int64_t id, const char *hash,
                    struct case_photo *out, struct linli_err *err);

/* Blows the whistle: summons `units` (existing, not already summoned) onto a
 * case that is not final. Staff acting for the street holding the case's
 * area, for the case's lead or escalated unit when that is a street or the
 * district, or admins; else EFORBIDDEN. Each unit's report-in is due
 * report_in_minutes from now. One "whistle" event; audited; publishes
 * "case.whistle" (with the units). */
int cases_whistle(struct domain *d, const struct principal *who, int64_t id,
                  const char *const *units, int n, const char *note, int64_t at,
                  struct case_record *out, struct linli_err *err);

/* Reports in for a summoned unit the caller is a member of (`unit` names it
 * when the caller is a member of several; NULL otherwise). EFORBIDDEN when
 * the caller acts for no summoned unit; ECONFLICT when that unit has
 * reported in. Late report-ins are recorded as late ("late": true in the
 * event). Publishes "case.report_in". */
int cases_report_in(struct domain *d, const struct principal *who, int64_t id, const char *unit,
                    const char *note, int64_t at, struct case_record *out, struct linli_err *err);

/* The reporter rates the outcome of the latest resolution, once per
 * resolution, while the case is resolved or closed (ECONFLICT otherwise, or
 * when already rated; EFORBIDDEN for anyone but the reporter). A rating does
 * not close or reopen the case. Publishes "case.rated". */
int cases_rate(struct domain *d, const struct principal *who, int64_t id, const char *rating,
               const char *comment, int64_t at, struct case_record *out, struct linli_err *err);

/* ---- the scheduler's job ---- */

struct case_tick_report {
    int due_soon, overdue, escalated, auto_closed, report_ins_late;
};

/* Runs once over every open case as of `now_ms`: due-soon and overdue flags
 * (each once per deadline), escalation of overdue cases one level up, auto
 * close of resolutions older than auto_close_days, late report-ins. Each
 * change is an event, written by the system (user 0), in write jobs of a
 * bounded size; then published ("case.due_soon", "case.overdue",
 * "case.escalated", "case.updated", "case.report_in_overdue"). Idempotent:
 * a second run at the same time changes nothing. */
int cases_tick(struct domain *d, int64_t now_ms, struct case_tick_report *rep,
               struct linli_err *err);

/* ---- volunteer teams (随手拍志愿队) ---- */

#define VOLUNTEER_TEAM_NAME_MAX    64 /* characters */
#define VOLUNTEER_TEAM_MEMBERS_MAX 10000

struct volunteer_team {
    int64_t id;
    char name[CASE_TEXT_SIZE(VOLUNTEER_TEAM_NAME_MAX)];
    char area_code[AREA_CODE_LEN + 1]; /* the community or street it works in */
    int64_t members;
    int64_t reports, resolved; /* cases its current members reported, and of them resolved
                                  (resolved or closed) */
    int64_t created_at, updated_at;
};

struct volunteer_member {
    int64_t user_id;
    char username[33];
    char display_name[CASE_TEXT_SIZE(64)];
    int64_t joined_at;
    int64_t reports, resolved; /* computed from cases */
};

/* Staff (admin, district, street, community) whose scope holds the area
 * create teams and change their members; staff in scope read them; a
 * volunteer or resident reads the teams they belong to. Audited. */
int volunteer_teams_create(struct domain *d, const struct principal *who, const char *name,
                           const char *area_code, struct volunteer_team *out,
                           struct linli_err *err);
int volunteer_teams_list(struct domain *d, const struct principal *who, const char *area,
                         struct volunteer_team **items, int *n, struct linli_err *err);
int volunteer_teams_get(struct domain *d, const struct principal *who, int64_t id,
                        struct volunteer_team *out, struct volunteer_member **members, int *n,
                        struct linli_err *err);
/* Adds an account (role volunteer or resident) to a team; twice is ECONFLICT. */
int volunteer_teams_add_member(struct domain *d, const struct principal *who, int64_t team_id,
                               int64_t user_id, struct linli_err *err);
int volunteer_teams_remove_member(struct domain *d, const struct principal *who, int64_t team_id,
                                  int64_t user_id, struct linli_err *err);

/* ---- JSON, the API's shapes (cases_json.c) ---- */

/* The API's case object in the record's view (c->view); events (may be
 * NULL) are added as "events". */
json_t *case_to_json(const struct case_record *c, const struct case_event *events, int nevents);
json_t *case_event_to_json(const struct case_event *e, int view);
json_t *case_category_to_json(const struct case_category *c);
json_t *case_unit_to_json(const struct case_unit *u);
json_t *case_route_to_json(const struct case_route *r);

#endif
