/* support_teams.h - the professional support teams (社区成长伙伴):
 * planners, lawyers, property-management experts, psychological counsellors
 * and social organisations, assigned to communities. Staff read them; admins
 * and district or street staff change a team when every community it serves,
 * before and after, lies in their scope.
 *
 * Every write is audited in its own job and announced on the bus after it
 * commits (support_team.created, support_team.updated). */
#ifndef LINLI_SUPPORT_TEAMS_H
#define LINLI_SUPPORT_TEAMS_H

/* For STATION_PHONE_SIZE and stations_staff_role(); stations.h in turn
 * includes this header at its end, and the guards make either order work. */
#include "domain/stations.h"

#include "domain/domain.h"
#include "domain/idem.h"
#include "domain/principal.h"
#include "domain/registry.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

#endif
