/* cli_demo.h - what the files of `linli demo` share: the seeded generator,
 * two makers of plausible text, the district as the demo built it, and the
 * steps kept in files of their own: the demo accounts
 * (cli_demo_accounts.c) and two months of cases (cli_demo_cases.c).
 * Internal to src/cli. */
#ifndef LINLI_CLI_DEMO_H
#define LINLI_CLI_DEMO_H

#include "cli/cli.h"
#include "domain/registry.h"
#include "domain/users.h"

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- a small deterministic generator (splitmix64) ---- */

struct rng {
    uint64_t s;
};

static inline uint64_t rng_next(struct rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static inline double rng_unit(struct rng *r) /* [0, 1) */
{
    return (double)(rng_next(r) >> 11) / 9007199254740992.0;
}

static inline int rng_below(struct rng *r, int n)
{
    return (int)(rng_unit(r) * n);
}

static inline double rng_normal(struct rng *r)
{
    double u = rng_unit(r), v = rng_unit(r);
    if (u < 1e-12)
        u = 1e-12;
    return sqrt(-2 * log(u)) * cos(2 * 3.14159265358979323846 * v);
}

static inline bool chance(struct rng *r, double p)
{
    return rng_unit(r) < p;
}

/* The community's name without the committee's suffix, with 社区 or 村:
 * "南郎家园社区" (cli_demo.c). */
void community_short(const struct area *a, char *out, size_t size);
/* A mainland mobile number, 11 digits (cli_demo.c). */
void make_mobile(struct rng *r, char *out, size_t size);

/* The district as the demo made it, for the steps that come after the
 * people and the directory. Borrowed from cli_demo.c. */
struct demo_district {
    struct cli *c;
    double scale;
    uint64_t seed; /* where the step's own generator starts */
    const struct area *district;
    const struct area *streets;
    int nstreets;
    const struct area *communities; /* with .elderly: the over-60s the demo made there */
    int ncommunities;
    const struct boundary *boundary; /* WGS-84; NULL when none was loaded */
};

/* ---- the demo accounts (cli_demo_accounts.c) ---- */

enum demo_account {
    DEMO_OPERATOR,  /* demo-operator: the call centre, the district's scope */
    DEMO_DISTRICT,  /* demo-district: district staff */
    DEMO_STREET,    /* demo-street: staff of the demo community's street */
    DEMO_COMMUNITY, /* demo-community: the demo community's worker */
    DEMO_VOLUNTEER, /* demo-volunteer */
    DEMO_RESIDENT,  /* demo-resident: linked to nothing */
    DEMO_ACCOUNTS
};

/* The environment variable that sets the accounts' one password. */
#define DEMO_PASSWORD_ENV "LINLI_DEMO_PASSWORD"

struct demo_accounts {
    struct user users[DEMO_ACCOUNTS]; /* as created, by enum demo_account */
    const struct area *community;     /* the demo community, in demo_district.communities */
    const struct area *street;        /* its street, in demo_district.streets */
    char password[PASSWORD_MAX + 1];  /* "" once printed, or when from the environment */
    bool password_from_env;
};

/* Before the demo does anything: refuses a database that holds any demo
 * account (like the people, the accounts go into a new database) and a
 * $LINLI_DEMO_PASSWORD that users_create would refuse. Returns 0, or 1 (an
 * exit status) after printing why. */
int demo_accounts_check(struct cli *c);

/* Picks the demo community deterministically (among those with people, the
 * one with the most facilities, then the most people, then the lowest code)
 * and creates the accounts through users_create (hashed and audited like any
 * other), all with one password: $LINLI_DEMO_PASSWORD when set, else a random
 * one (libsodium) of four groups of four letters and digits. Staff act for
 * their unit by their scope (cases.h), so no unit membership is made. Prints
 * one summary line. Returns 0, or 1 after printing why. */
int demo_accounts_create(const struct demo_district *w, struct demo_accounts *out);

/* The principal of demo account `which`, acting from "linli demo". */
void demo_account_principal(const struct demo_accounts *a, enum demo_account which,
                            struct principal *out);

/* Prints the accounts and their password (once: it is wiped afterwards). */
void demo_accounts_print(struct demo_accounts *a);

/* ---- the cases (cli_demo_cases.c) ---- */

/* About 3,000 cases at scale 1 (at least 30) over the last 60 days, made
 * through the cases domain with past times (cli_demo_cases.c says how).
 * Prints one summary line. Returns 0, or 1 after printing why. */
int demo_cases(const struct demo_district *w, const struct demo_accounts *a);

#endif
