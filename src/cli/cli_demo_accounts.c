/* cli_demo_accounts.c - linli demo: one account for each role the pages
 * need, so that a demo server can be tried page by page. They are made with
 * users_create, like `linli user add`, and share one password, printed once
 * at the end of the demo (or taken from $LINLI_DEMO_PASSWORD, which the
 * browser tests set). The community worker and the street's staff act for
 * their units through their scope (cases.h), so they are members of no unit;
 * the volunteer and the resident belong to nothing. */
#include "cli/cli_demo.h"

#include "base/clock.h"
#include "domain/directory.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The generated password: DEMO_PW_GROUPS groups of DEMO_PW_GROUP characters
 * from an alphabet without look-alikes (no i, l, o, 0, 1): about 79 bits. */
#define DEMO_PW_GROUPS 4
#define DEMO_PW_GROUP  4
static const char demo_pw_alphabet[] = "abcdefghjkmnpqrstuvwxyz23456789";

static const char *const usernames[DEMO_ACCOUNTS] = {
    "demo-operator",  "demo-district",  "demo-street",
    "demo-community", "demo-volunteer", "demo-resident",
};

int demo_accounts_check(struct cli *c)
{
    for (int i = 0; i < DEMO_ACCOUNTS; i++) {
        struct user u;
        struct linli_err err;
        linli_err_clear(&err);
        int rc = users_get_by_name(&c->d, &c->who, usernames[i], &u, &err);
        if (rc == LINLI_OK)
            return cli_die("the database has the demo account %s already; the demo fills a "
                           "new database (use a new --db)",
                           usernames[i]);
        if (rc != LINLI_ENOTFOUND)
            return cli_report(&err);
    }
    const char *given = getenv(DEMO_PASSWORD_ENV);
    struct linli_err err;
    linli_err_clear(&err);
    if (given && *given && users_check_password(given, &err))
        return cli_die("%s %s", DEMO_PASSWORD_ENV,
                       err.nfields ? err.fields[0].message : "is not a usable password");
    return 0;
}

static void make_password(char *out, size_t size)
{
    size_t k = 0;
    uint32_t n = (uint32_t)(sizeof demo_pw_alphabet - 1);
    for (int g = 0; g < DEMO_PW_GROUPS; g++) {
        for (int i = 0; i < DEMO_PW_GROUP && k + 1 < size; i++)
            out[k++] = demo_pw_alphabet[randombytes_uniform(n)];
        if (g + 1 < DEMO_PW_GROUPS && k + 1 < size)
            out[k++] = '-';
    }
    out[k] = '\0';
}

static int by_code(const void *a, const void *b)
{
    return strcmp((*(const struct area *const *)a)->code, (*(const struct area *const *)b)->code);
}

/* The demo community: among those with people, the one with the most
 * facilities of its own, then the most people, then the lowest code. */
static int pick_community(const struct demo_district *w, const struct area **out)
{
    *out = NULL;
    int n = w->ncommunities;
    const struct area **sorted = malloc((size_t)(n > 0 ? n : 1) * sizeof *sorted);
    int64_t *count = calloc((size_t)(n > 0 ? n : 1), sizeof *count);
    if (!sorted || !count) {
        free(sorted);
        free(count);
        return cli_die("out of memory");
    }
    for (int i = 0; i < n; i++)
        sorted[i] = &w->communities[i];
    qsort(sorted, (size_t)n, sizeof *sorted, by_code);
    struct facility_filter f = {.kind = -1, .status = -1, .limit = FACILITIES_PAGE_MAX};
    int rc = 0;
    do {
        struct facility *items = NULL;
        int got = 0;
        int64_t next = 0;
        struct linli_err err;
        linli_err_clear(&err);
        if (facilities_list(&w->c->d, &f, &items, &got, &next, &err)) {
            rc = cli_report(&err);
            break;
        }
        for (int i = 0; i < got; i++) {
            struct area key, *kp = &key;
            snprintf(key.code, sizeof key.code, "%s", items[i].area_code);
            const struct area **hit = bsearch(&kp, sorted, (size_t)n, sizeof *sorted, by_code);
            if (hit)
                count[*hit - w->communities]++;
        }
        free(items);
        f.after_id = next;
    } while (f.after_id);
    for (int i = 0; !rc && i < n; i++) {
        const struct area *a = sorted[i], *best = *out;
        int64_t ca = count[a - w->communities], cb = best ? count[best - w->communities] : -1;
        if (a->elderly > 0 && (!best || ca > cb || (ca == cb && a->elderly > best->elderly)))
            *out = a;
    }
    free(sorted);
    free(count);
    if (!rc && !*out)
        rc = cli_die("no community has people: there is no demo community to give accounts to");
    return rc;
}

static const struct area *street_of(const struct demo_district *w, const struct area *community)
{
    for (int i = 0; i < w->nstreets; i++)
        if (!strcmp(w->streets[i].code, community->parent_code))
            return &w->streets[i];
    return NULL;
}

int demo_accounts_create(const struct demo_district *w, struct demo_accounts *out)
{
    int64_t t0 = clock_mono_us();
    memset(out, 0, sizeof *out);
    int rc = pick_community(w, &out->community);
    if (rc)
        return rc;
    out->street = street_of(w, out->community);
    if (!out->street)
        return cli_die("community %s has no street in the area list", out->community->code);
    const char *given = getenv(DEMO_PASSWORD_ENV);
    if (given && *given) {
        out->password_from_env = true;
        snprintf(out->password, sizeof out->password, "%s", given);
    } else {
        make_password(out->password, sizeof out->password);
    }
    char cshort[AREA_NAME_MAX * 4 + 16];
    community_short(out->community, cshort, sizeof cshort);
    char names[DEMO_ACCOUNTS]
              [AREA_NAME_MAX * 4 + 64]; /* area names are short: users_create checks */
    snprintf(names[DEMO_OPERATOR], sizeof names[0], "话务员 陈静");
    snprintf(names[DEMO_DISTRICT], sizeof names[0], "%s民政局 李建华", w->district->name);
    snprintf(names[DEMO_STREET], sizeof names[0], "%s 王磊", out->street->name);
    snprintf(names[DEMO_COMMUNITY], sizeof names[0], "%s 刘敏", cshort);
    snprintf(names[DEMO_VOLUNTEER], sizeof names[0], "志愿者 孙丽华");
    snprintf(names[DEMO_RESIDENT], sizeof names[0], "居民 周桂兰");
    const char *roles[DEMO_ACCOUNTS] = {"operator",  "district",  "street",
                                        "community", "volunteer", "resident"};
    const char *scopes[DEMO_ACCOUNTS] = {
        w->district->code, w->district->code, out->street->code, out->community->code, NULL, NULL};
    for (int i = 0; i < DEMO_ACCOUNTS; i++) {
        struct user_new in = {.username = usernames[i],
                              .display_name = names[i],
                              .role = roles[i],
                              .scope = scopes[i],
                              .password = out->password};
        struct linli_err err;
        linli_err_clear(&err);
        if (users_create(&w->c->d, &w->c->who, &in, NULL, &out->users[i], NULL, &err)) {
            sodium_memzero(out->password, sizeof out->password);
            fprintf(stderr, "linli: demo account %s:\n", usernames[i]);
            return cli_report(&err);
        }
    }
    if (out->password_from_env)
        sodium_memzero(out->password, sizeof out->password);
    printf("Demo accounts: demo-operator, demo-district, demo-street (%s), demo-community (%s), "
           "demo-volunteer and demo-resident, with one password (%s), in %.1f s.\n",
           out->street->name, out->community->name,
           out->password_from_env ? "from " DEMO_PASSWORD_ENV : "shown at the end",
           (double)(clock_mono_us() - t0) / 1e6);
    return 0;
}

void demo_account_principal(const struct demo_accounts *a, enum demo_account which,
                            struct principal *out)
{
    const struct user *u = &a->users[which];
    principal_system(out, "linli demo");
    out->user_id = u->id;
    snprintf(out->username, sizeof out->username, "%s", u->username);
    out->role = u->role;
    snprintf(out->scope, sizeof out->scope, "%s", u->scope);
}

void demo_accounts_print(struct demo_accounts *a)
{
    if (a->password_from_env)
        printf("\nDemo accounts (log in with the password in %s):\n", DEMO_PASSWORD_ENV);
    else
        printf("\nDemo accounts, one password for all: %s\n", a->password);
    for (int i = 0; i < DEMO_ACCOUNTS; i++) {
        const struct user *u = &a->users[i];
        printf("  %-15s %-9s %-12s %s\n", u->username, role_name(u->role),
               u->scope[0] ? u->scope : "-", u->display_name);
    }
    fflush(stdout);
    sodium_memzero(a->password, sizeof a->password);
}
