/* linli.c - the Linli command line. It works on the database file directly
 * (safe beside a running linlid: SQLite WAL and the same write rules), acting
 * as the system with the operator's login name recorded in the audit log.
 *
 *   linli init                       create the database and the admin account
 *   linli user add NAME --role R [--scope CODE] [--display-name TEXT]
 *   linli user list [--role R]
 *   linli user passwd NAME           new password from the terminal or stdin
 *   linli user disable NAME | enable NAME
 *   linli backup FILE                online copy of the database
 *   linli version
 * Every command takes --db FILE (or LINLI_DB). */
#include "base/log.h"
#include "base/clock.h"
#include "domain/auth.h"
#include "domain/users.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#ifndef LINLI_VERSION
#define LINLI_VERSION "0.1.0"
#endif

static const char usage[] =
    "Usage: linli [--db FILE] COMMAND ...\n"
    "\n"
    "  init                          create the database (if missing) and the admin account\n"
    "  user add NAME --role ROLE [--scope CODE] [--display-name TEXT] [--no-password]\n"
    "                                add an account; asks for its password\n"
    "  user list [--role ROLE]       list accounts\n"
    "  user passwd NAME              set a new password (asked, or one line on stdin)\n"
    "  user disable NAME             stop an account from logging in; ends its sessions\n"
    "  user enable NAME              allow it again\n"
    "  backup FILE                   copy the database, even while linlid runs\n"
    "  version                       print the version\n"
    "\n"
    "Roles: admin district street community operator provider volunteer resident auditor.\n"
    "The database is --db FILE, else $LINLI_DB, else linli.db.\n"
    "A first admin password can be given in $LINLI_ADMIN_PASSWORD for init.\n";

struct cli {
    const char *db;
    struct domain d;
    struct principal who;
};

static int die(const char *fmt, const char *arg)
{
    fprintf(stderr, "linli: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    return 1;
}

static int report(const struct linli_err *err)
{
    fprintf(stderr, "linli: %s\n", err->detail[0] ? err->detail : linli_status_name(err->status));
    for (int i = 0; i < err->nfields; i++)
        fprintf(stderr, "  %s: %s\n", err->fields[i].field, err->fields[i].message);
    return 1;
}

static int open_db(struct cli *c, int create)
{
    struct linli_err err;
    linli_err_clear(&err);
    struct store_options so;
    store_options_default(&so);
    so.path = c->db;
    so.readers = 1;
    so.create = create;
    if (store_open(&so, &c->d.store, &err)) {
        if (err.status == LINLI_ENOTFOUND)
            fprintf(stderr, "linli: %s (create it with: linli --db %s init)\n", err.detail, c->db);
        else
            report(&err);
        return 1;
    }
    struct auth_options ao;
    auth_options_default(&ao);
    ao.hash_wait_ms = 60000;
    c->d.auth = auth_new(&ao);
    if (!c->d.auth) {
        store_close(c->d.store);
        return die("%s", "out of memory");
    }
    const char *user = getenv("USER");
    principal_system(&c->who, "cli");
    snprintf(c->who.username, sizeof c->who.username, "cli:%s", user && *user ? user : "?");
    return 0;
}

static void close_db(struct cli *c)
{
    store_close(c->d.store);
    auth_free(c->d.auth);
}

/* Reads a password: twice with echo off on a terminal, else one stdin line. */
static int read_password(char *out, size_t size)
{
    if (!isatty(STDIN_FILENO)) {
        if (!fgets(out, (int)size, stdin))
            return die("%s", "expected the password on standard input");
        out[strcspn(out, "\r\n")] = '\0';
        return 0;
    }
    char again[PASSWORD_MAX + 2];
    struct termios old, quiet;
    tcgetattr(STDIN_FILENO, &old);
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    for (int i = 0; i < 2; i++) {
        fprintf(stderr, i ? "Again: " : "Password: ");
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
        char *ok = fgets(i ? again : out, (int)(i ? sizeof again : size), stdin);
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fprintf(stderr, "\n");
        if (!ok)
            return 1;
        (i ? again : out)[strcspn(i ? again : out, "\r\n")] = '\0';
    }
    if (strcmp(out, again) != 0)
        return die("%s", "the two passwords differ; nothing changed");
    return 0;
}

static int cmd_init(struct cli *c)
{
    if (open_db(c, 1))
        return 1;
    struct linli_err err;
    linli_err_clear(&err);
    char generated[32];
    bool created;
    int rc = users_ensure_admin(&c->d, getenv("LINLI_ADMIN_PASSWORD"), generated,
                                sizeof generated, &created, &err);
    if (rc) {
        close_db(c);
        return report(&err);
    }
    printf("Database %s is ready (schema %d).\n", c->db, store_schema_version(c->d.store));
    if (created && getenv("LINLI_ADMIN_PASSWORD") && *getenv("LINLI_ADMIN_PASSWORD"))
        printf("Created user admin with the password from LINLI_ADMIN_PASSWORD.\n");
    else if (created)
        printf("Created user admin with password: %s\n(shown this once; change it with: linli "
               "user passwd admin)\n",
               generated);
    else
        printf("An admin account exists already; nothing else changed.\n");
    close_db(c);
    return 0;
}

static const char *opt_value(int argc, char **argv, const char *name)
{
    for (int i = 0; i < argc - 1; i++)
        if (!strcmp(argv[i], name))
            return argv[i + 1];
    return NULL;
}

static int opt_flag(int argc, char **argv, const char *name)
{
    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], name))
            return 1;
    return 0;
}

/* Refuses options not in `known` (those taking a value are followed by '='). */
static int check_opts(int argc, char **argv, const char *const *known)
{
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "--", 2) != 0)
            continue;
        int ok = 0;
        for (const char *const *k = known; *k; k++) {
            size_t n = strlen(*k);
            int takes = (*k)[n - 1] == '=';
            if (!strncmp(argv[i], *k, takes ? n - 1 : n) && strlen(argv[i]) == (takes ? n - 1 : n)) {
                ok = 1;
                if (takes) {
                    if (i + 1 >= argc)
                        return die("option %s needs a value", argv[i]);
                    i++;
                }
            }
        }
        if (!ok)
            return die("unknown option %s (see linli --help)", argv[i]);
    }
    return 0;
}

static int cmd_user_add(struct cli *c, int argc, char **argv)
{
    if (argc < 1 || argv[0][0] == '-')
        return die("%s", "usage: linli user add NAME --role ROLE [--scope CODE] [--display-name TEXT]");
    if (check_opts(argc - 1, argv + 1,
                   (const char *const[]){"--role=", "--scope=", "--display-name=", "--no-password",
                                         NULL}))
        return 1;
    struct user_new in = {
        .username = argv[0],
        .role = opt_value(argc, argv, "--role"),
        .scope = opt_value(argc, argv, "--scope"),
        .display_name = opt_value(argc, argv, "--display-name"),
    };
    if (!in.role)
        return die("%s", "--role is required");
    char pw[PASSWORD_MAX + 2] = "";
    if (!opt_flag(argc, argv, "--no-password")) {
        if (read_password(pw, sizeof pw))
            return 1;
        in.password = pw;
    }
    if (open_db(c, 0))
        return 1;
    struct linli_err err;
    linli_err_clear(&err);
    struct user u;
    int rc = users_create(&c->d, &c->who, &in, NULL, &u, NULL, &err);
    sodium_memzero(pw, sizeof pw);
    close_db(c);
    if (rc)
        return report(&err);
    printf("Created user %s (id %lld, role %s%s%s).\n", u.username, (long long)u.id,
           role_name(u.role), u.scope[0] ? ", scope " : "", u.scope);
    return 0;
}

static int cmd_user_list(struct cli *c, int argc, char **argv)
{
    if (check_opts(argc, argv, (const char *const[]){"--role=", NULL}))
        return 1;
    if (open_db(c, 0))
        return 1;
    struct linli_err err;
    linli_err_clear(&err);
    struct user_filter f = {.role = opt_value(argc, argv, "--role"), .limit = 500};
    printf("%-6s %-20s %-10s %-12s %-8s %s\n", "ID", "USERNAME", "ROLE", "SCOPE", "STATE",
           "NAME");
    for (;;) {
        struct user *items;
        int n;
        int64_t next;
        if (users_list(&c->d, &c->who, &f, &items, &n, &next, &err)) {
            close_db(c);
            return report(&err);
        }
        for (int i = 0; i < n; i++)
            printf("%-6lld %-20s %-10s %-12s %-8s %s\n", (long long)items[i].id,
                   items[i].username, role_name(items[i].role),
                   items[i].scope[0] ? items[i].scope : "-",
                   items[i].disabled ? "disabled" : items[i].has_password ? "active" : "no-pass",
                   items[i].display_name);
        free(items);
        if (!next)
            break;
        f.after_id = next;
    }
    close_db(c);
    return 0;
}

static int cmd_user_change(struct cli *c, const char *what, int argc, char **argv)
{
    if (argc != 1 || argv[0][0] == '-')
        return die("usage: linli user %s NAME", what);
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
    if (open_db(c, 0))
        return 1;
    struct linli_err err;
    linli_err_clear(&err);
    struct user u;
    int rc = users_get_by_name(&c->d, &c->who, argv[0], &u, &err);
    if (rc == LINLI_OK)
        rc = users_update(&c->d, &c->who, u.id, &p, &u, &err);
    sodium_memzero(pw, sizeof pw);
    close_db(c);
    if (rc) {
        if (rc == LINLI_ENOTFOUND)
            return die("no user named %s", argv[0]);
        return report(&err);
    }
    if (!strcmp(what, "passwd"))
        printf("Password of %s changed; its open sessions were ended.\n", u.username);
    else
        printf("User %s is now %s.\n", u.username, u.disabled ? "disabled" : "enabled");
    return 0;
}

static int cmd_backup(struct cli *c, int argc, char **argv)
{
    if (argc != 1 || argv[0][0] == '-')
        return die("%s", "usage: linli backup FILE");
    struct linli_err err;
    linli_err_clear(&err);
    int64_t t0 = clock_mono_us();
    if (store_backup(c->db, argv[0], &err))
        return report(&err);
    printf("Backed up %s to %s in %.1f s; the copy passed its integrity check.\n", c->db, argv[0],
           (double)(clock_mono_us() - t0) / 1e6);
    return 0;
}

int main(int argc, char **argv)
{
    struct cli c = {0};
    c.db = getenv("LINLI_DB");
    if (!c.db || !*c.db)
        c.db = "linli.db";
    log_set_level(LOG_WARN);
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--db") && i + 1 < argc)
            c.db = argv[++i];
        else if (!strncmp(argv[i], "--db=", 5))
            c.db = argv[i] + 5;
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage, stdout);
            return 0;
        } else if (!strcmp(argv[i], "--version")) {
            printf("linli %s\n", LINLI_VERSION);
            return 0;
        } else
            return die("unknown option %s (see linli --help)", argv[i]);
    }
    if (i >= argc) {
        fputs(usage, stderr);
        return 2;
    }
    const char *cmd = argv[i++];
    int rest = argc - i;
    char **rv = argv + i;
    /* Allow --db after the command too. */
    for (int k = 0; k < rest; k++) {
        if (!strcmp(rv[k], "--db") && k + 1 < rest) {
            c.db = rv[k + 1];
            memmove(rv + k, rv + k + 2, (size_t)(rest - k - 2) * sizeof *rv);
            rest -= 2;
            k--;
        }
    }
    if (!strcmp(cmd, "init"))
        return rest ? die("%s", "init takes no arguments") : cmd_init(&c);
    if (!strcmp(cmd, "version")) {
        printf("linli %s (schema %d)\n", LINLI_VERSION, store_latest_schema_version());
        return 0;
    }
    if (!strcmp(cmd, "backup"))
        return cmd_backup(&c, rest, rv);
    if (!strcmp(cmd, "user") && rest >= 1) {
        const char *sub = rv[0];
        if (!strcmp(sub, "add"))
            return cmd_user_add(&c, rest - 1, rv + 1);
        if (!strcmp(sub, "list"))
            return cmd_user_list(&c, rest - 1, rv + 1);
        if (!strcmp(sub, "passwd") || !strcmp(sub, "disable") || !strcmp(sub, "enable"))
            return cmd_user_change(&c, sub, rest - 1, rv + 1);
        return die("unknown user command %s (add, list, passwd, disable, enable)", sub);
    }
    return die("unknown command %s (see linli --help)", cmd);
}
