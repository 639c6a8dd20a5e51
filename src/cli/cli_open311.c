/* cli_open311.c - linli open311 key add|list|revoke: the API keys of Open311
 * clients (domain/open311_clients.h). A key is printed once, when made. */
#include "cli/cli.h"

#include "base/clock.h"
#include "domain/open311_clients.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int key_add(struct cli *c, int argc, char **argv)
{
    if (argc != 1 || argv[0][0] == '-')
        return cli_die("usage: linli open311 key add NAME");
    const char *why;
    if (open311_client_name_check(argv[0], &why))
        return cli_die("the client name %s", why);
    if (cli_open(c, 0))
        return 1;
    struct linli_err err;
    linli_err_clear(&err);
    struct open311_client k;
    char key[OPEN311_KEY_SIZE];
    int rc = open311_clients_add(&c->d, &c->who, argv[0], &k, key, &err);
    cli_close(c);
    if (rc)
        return cli_report(&err);
    printf("Made Open311 key %lld for client %s:\n\n  %s\n\n"
           "It is shown this once; give it to the client as its api_key.\n",
           (long long)k.id, k.name, key);
    sodium_memzero(key, sizeof key);
    return 0;
}

static int key_list(struct cli *c, int argc, char **argv)
{
    (void)argv;
    if (argc != 0)
        return cli_die("usage: linli open311 key list");
    if (cli_open(c, 0))
        return 1;
    struct linli_err err;
    linli_err_clear(&err);
    struct open311_client *items;
    int n;
    int rc = open311_clients_list(&c->d, &items, &n, &err);
    cli_close(c);
    if (rc)
        return cli_report(&err);
    printf("%-6s %-24s %-12s %-25s %s\n", "ID", "CLIENT", "KEY", "CREATED", "REVOKED");
    for (int i = 0; i < n; i++) {
        char created[32], revoked[32] = "-";
        clock_format_rfc3339(items[i].created_at, created, sizeof created);
        if (items[i].revoked_at)
            clock_format_rfc3339(items[i].revoked_at, revoked, sizeof revoked);
        printf("%-6lld %-24s %-12s %-25s %s\n", (long long)items[i].id, items[i].name,
               items[i].hint, created, revoked);
    }
    free(items);
    return 0;
}

static int key_revoke(struct cli *c, int argc, char **argv)
{
    if (argc != 1 || argv[0][0] == '-')
        return cli_die("usage: linli open311 key revoke ID|NAME");
    if (cli_open(c, 0))
        return 1;
    struct linli_err err;
    linli_err_clear(&err);
    int revoked;
    int rc = open311_clients_revoke(&c->d, &c->who, argv[0], &revoked, &err);
    cli_close(c);
    if (rc)
        return cli_report(&err);
    printf("Revoked %d Open311 key%s (%s); %s refused from now on.\n", revoked,
           revoked == 1 ? "" : "s", argv[0], revoked == 1 ? "it is" : "they are");
    return 0;
}

int cli_open311(struct cli *c, int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[0], "key") != 0)
        return cli_die("usage: linli open311 key add NAME | key list | key revoke ID|NAME");
    const char *sub = argv[1];
    if (!strcmp(sub, "add"))
        return key_add(c, argc - 2, argv + 2);
    if (!strcmp(sub, "list"))
        return key_list(c, argc - 2, argv + 2);
    if (!strcmp(sub, "revoke"))
        return key_revoke(c, argc - 2, argv + 2);
    return cli_die("unknown open311 key command %s (add, list, revoke)", sub);
}
