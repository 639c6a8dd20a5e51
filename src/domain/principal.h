/* principal.h - who is calling: the user behind a request or a command, with
 * the role and area scope every domain call checks. */
#ifndef LINLI_PRINCIPAL_H
#define LINLI_PRINCIPAL_H

#include <stdbool.h>
#include <stdint.h>

enum role {
    ROLE_ADMIN,
    ROLE_DISTRICT,
    ROLE_STREET,
    ROLE_COMMUNITY,
    ROLE_OPERATOR,
    ROLE_PROVIDER,
    ROLE_VOLUNTEER,
    ROLE_RESIDENT,
    ROLE_AUDITOR,
    ROLE_COUNT
};

#define AREA_CODE_LEN 12

struct principal {
    int64_t user_id; /* 0 for the system itself (start-up, CLI maintenance) */
    char username[64];
    enum role role;
    char scope[AREA_CODE_LEN + 1]; /* "" when the role has no area scope */
    char ip[64];                   /* where the call came from: an address, or "cli" */
    char request_id[24];
    char session[17]; /* first 16 hex digits of the token's hash: names the session */
};

const char *role_name(enum role r);
int role_parse(const char *name, enum role *out); /* 0 or -1 */

/* Staff roles work for an area and must carry a scope. */
bool role_needs_scope(enum role r);

/* The principal used by the command line and start-up jobs: acts as admin. */
void principal_system(struct principal *p, const char *origin);

/* Normalises an area code of 6 (district), 9 (street) or 12 digits to 12
 * digits. Returns 0, or -1 with `why` filled. */
int area_code_normalize(const char *in, char out[AREA_CODE_LEN + 1], const char **why);

/* 0 district, 1 street/township, 2 community/village, for a normalised code. */
int area_code_level(const char *code12);

/* True when `code` lies within `scope` (both normalised); an empty scope holds nothing. */
bool area_within(const char *scope, const char *code);

#endif
