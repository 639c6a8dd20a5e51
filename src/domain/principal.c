/* principal.c - roles and area codes. */
#include "domain/principal.h"

#include <stdio.h>
#include <string.h>

static const char *const role_names[ROLE_COUNT] = {
    "admin",    "district",  "street",   "community", "operator",
    "provider", "volunteer", "resident", "auditor",
};

const char *role_name(enum role r)
{
    return (unsigned)r < ROLE_COUNT ? role_names[r] : "?";
}

int role_parse(const char *name, enum role *out)
{
    for (int i = 0; i < ROLE_COUNT; i++) {
        if (!strcmp(name, role_names[i])) {
            *out = (enum role)i;
            return 0;
        }
    }
    return -1;
}

bool role_needs_scope(enum role r)
{
    return r == ROLE_DISTRICT || r == ROLE_STREET || r == ROLE_COMMUNITY || r == ROLE_OPERATOR ||
           r == ROLE_AUDITOR;
}

void principal_system(struct principal *p, const char *origin)
{
    memset(p, 0, sizeof *p);
    p->user_id = 0;
    snprintf(p->username, sizeof p->username, "system");
    p->role = ROLE_ADMIN;
    snprintf(p->ip, sizeof p->ip, "%s", origin);
}

int area_code_normalize(const char *in, char out[AREA_CODE_LEN + 1], const char **why)
{
    size_t n = strlen(in);
    if (n != 6 && n != 9 && n != 12) {
        *why = "must be an official area code of 6, 9 or 12 digits";
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (in[i] < '0' || in[i] > '9') {
            *why = "must contain digits only";
            return -1;
        }
    }
    if (in[0] == '0' || !strncmp(in + 4, "00", 2)) {
        *why = "is not a district-level or lower area code";
        return -1;
    }
    memcpy(out, in, n);
    memset(out + n, '0', AREA_CODE_LEN - n);
    out[AREA_CODE_LEN] = '\0';
    return 0;
}

int area_code_level(const char *c)
{
    if (!strcmp(c + 6, "000000"))
        return 0;
    if (!strcmp(c + 9, "000"))
        return 1;
    return 2;
}

bool area_within(const char *scope, const char *code)
{
    if (!scope[0] || strlen(code) != AREA_CODE_LEN)
        return false;
    size_t prefix = (size_t[]){6, 9, 12}[area_code_level(scope)];
    return strncmp(scope, code, prefix) == 0;
}
