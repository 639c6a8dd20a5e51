/* cli_users.c - linli init and linli user add|list|passwd|disable|enable. */
#include "cli/cli.h"

#include "domain/users.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

/* Reads a password: twice with echo off on a terminal, else one stdin line. */
static int read_password(char *out, size_t size)
{
    if (!isatty(STDIN_FILENO)) {
        if (!fgets(out, (int)size, stdin))
            return cli_die("expected the password on standard input");
        out[strcspn(out, "\r\n")] = '\0';
        return 0;
    }
    char again[PASSWORD_MAX + 2];
    struct termios old, quiet;
    tcgetattr(STDIN_FILENO, &old);
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    for (int i = 0; i < 2; i++) {
        char *dst = i ? again : out;
        fprintf(stderr, i ? "Again: " : "Password: ");
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
        char *ok = fgets(dst, (int)(i ? sizeof again : size), stdin);
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fprintf(stderr, "\n");
        if (!ok)
            return 1;
        dst[strcspn(dst, "\r\n")] = '\0';
    }
    if (strcmp(out, again) != 0)
        return cli_die("the two passwords differ; nothing changed");
    return 0;
}

int cli_init(struct cli *c)
{
    if (cli_open(c, 1))
        return 1;
    struct linli_err err;
    linli_err_clear(&err);
    char generated[32];
    bool created;
    const char *given = getenv("LINLI_ADMIN_PASSWORD");
    int rc = users_ensure_admin(&c->d, given, generated, sizeof generated, &created, &err);
    if (rc) {
        cli_close(c);
        return cli_report(&err);
    }
    printf("Database %s is ready (schema %d).\n", c->db, store_schema_version(c->d.store));
    if (created && given && *given)
        printf("Created user admin with the password from LINLI_ADMIN_PASSWORD.\n");
    else if (created)
        printf("Created user admin with password: %s\n(shown this once; change it with: linli "
               "user passwd admin)\n",
               generated);
    else
        printf("An admin account exists already; nothing else changed.\n");
    cli_close(c);
    return 0;
}

static int user_add(struct cli *c, int argc, char **argv)
{
    if (argc < 1 || argv[0][0] == '-')
        return cli_die(
            "usage: linli user add NAME --role ROLE [--scope CODE] [--display-name TEXT]");
    if (cli_check_opts(
            argc - 1, argv + 1,
            (const char *const[]){"--role=", "--scope=", "--display-name=", "--no-password", NULL}))
        return 1;
    struct user_new in = {
        .username = argv[0],
        .role = cli_opt(argc, argv, "--role"),
        .scope = cli_opt(argc, argv, "--scope"),
        .display_name = cli_opt(argc, argv, "--display-name"),
    };
    if (!in.role)
        return cli_die("--role is required");
    char pw[PASSWORD_MAX + 2] = "";
    if (!cli_flag(argc, argv, "--no-password")) {
        if (read_password(pw, sizeof pw))
            return 1;
        in.password = pw;
    }
    if (cli_open(c, 0))
        return 1;
    struct linli_err err;
    linli_err_clear(&err);
    struct user u;
    int rc = users_create(&c->d, &c->who, &in, NULL, &u, NULL, &err);
    sodium_memzero(pw, sizeof pw);
    cli_close(c);
    if (rc)
        return cli_report(&err);
    printf("Created user %s (id %lld, role %s%s%s).\n", u.username, (long long)u.id,
           role_name(u.role), u.scope[0] ? ", scope " : "", u.scope);
    return 0;
}

static int user_list(struct cli *c, int argc, char **argv)
{
    if (cli_check_opts(argc, argv, (const char *const[]){"--role=", NULL}))
        return 1;
    if (cli_open(c, 0))
        return 1;
    struct linli_err err;
    linli_err_clear(&err);
    struct user_filter f = {.role = cli_opt(argc, argv, "--role"), .limit = 500};
    printf("%-6s %-20s %-10s %-12s %-8s %s\n", "ID", "USERNAME", "ROLE", "SCOPE", "STATE", "NAME");
    for (;;) {
        struct user *items;
        int n;
        int64_t next;
        if (users_list(&c->d, &c->who, &f, &items, &n, &next, &err)) {
            cli_close(c);
            return cli_report(&err);
        }
        for (int i = 0; i < n; i++)
            printf("%-6lld %-20s %-10s %-12s %-8s %s\n", (long long)items[i].id, items[i].username,
                   role_name(items[i].role), items[i].scope[0] ? items[i].scope : "-",
                   items[i].disabled       ? "disabled"
                   : items[i].has_password ? "active"
                                           : "no-pass",
                   items[i].display_name);
        free(items);
        if (!next)
            break;
        f.after_id = next;
    }
    cli_close(c);
    return 0;
}

static int user_change(struct cli *c, const char *what, int argc, char **argv)
{
    if (argc != 1 || argv[0][0] == '-')
        return cli_die("usage: linli user %s NAME", what);
    struct user_patch p = {0};
    char pw[PASSWORD_MAX + 2] = "";
    if (!strcmp(what, "passwd")) {
        if (read_password(pw, sizeof pw))
            return 1;
        p.set_password = true;
        p.password = pw;
    } else {
        p.set_disabled = true;
        p.disabled = !strcmp(what, "disable");
    }
    if (cli_open(c, 0))
        return 1;
    struct linli_err err;
    linli_err_clear(&err);
    struct user u;
    int rc = users_get_by_name(&c->d, &c->who, argv[0], &u, &err);
    if (rc == LINLI_OK)
        rc = users_update(&c->d, &c->who, u.id, &p, &u, &err);
    sodium_memzero(pw, sizeof pw);
    cli_close(c);
    if (rc) {
        if (rc == LINLI_ENOTFOUND)
            return cli_die("no user named %s", argv[0]);
        return cli_report(&err);
    }
    if (!strcmp(what, "passwd"))
        printf("Password of %s changed; its open sessions were ended.\n", u.username);
    else
        printf("User %s is now %s.\n", u.username, u.disabled ? "disabled" : "enabled");
    return 0;
}

int cli_users(struct cli *c, int argc, char **argv)
{
    if (argc < 1)
        return cli_die("usage: linli user add|list|passwd|disable|enable ...");
    const char *sub = argv[0];
    if (!strcmp(sub, "add"))
        return user_add(c, argc - 1, argv + 1);
    if (!strcmp(sub, "list"))
        return user_list(c, argc - 1, argv + 1);
    if (!strcmp(sub, "passwd") || !strcmp(sub, "disable") || !strcmp(sub, "enable"))
        return user_change(c, sub, argc - 1, argv + 1);
    return cli_die("unknown user command %s (add, list, passwd, disable, enable)", sub);
}
