/* linli.c - the Linli command line: argument handling and dispatch. The
 * commands work on the database file directly (safe beside a running
 * linlid: SQLite WAL and the same write rules), acting as the system with
 * the operator's login name recorded in the audit log. */
#include "base/log.h"
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef LINLI_VERSION
#define LINLI_VERSION "0.1.0"
#endif

int cli_init(struct cli *c);
int cli_open311(struct cli *c, int argc, char **argv);      /* cli_open311.c */
int cli_export_cases(struct cli *c, int argc, char **argv); /* cli_cases.c */

struct kind {
    const char *name;
    int (*fn)(struct cli *c, int argc, char **argv);
    const char *usage;
};

/* What `linli import KIND` and `linli export KIND` know; one line each. */
static const struct kind import_kinds[] = {
    {"areas", cli_import_areas, "import areas [--edition YEAR] [--dir DIR]   official area lists"},
    {"stations", cli_import_stations,
     "import stations FILE [--skip-bad] [--crs wgs84|gcj02] [--dry-run]\n                          "
     "      social-work centres and stations (CSV)"},
    {"people", cli_import_people,
     "import people FILE [--skip-bad] [--crs wgs84|gcj02]\n                                "
     "residents' profiles (CSV)"},
    {"facilities", cli_import_facilities,
     "import facilities FILE [--skip-bad] [--dry-run]\n"
     "                                elderly-service facilities (CSV); a leading ' before\n"
     "                                = + - @ in a text cell (the export's guard) is dropped"},
};
static const struct kind export_kinds[] = {
    {"stations", cli_export_stations,
     "export stations [FILE|-] [--crs wgs84|gcj02]   the stations as CSV"},
    {"people", cli_export_people,
     "export people [--community CODE] [FILE|-]\n                                residents' "
     "profiles as CSV, unmasked"},
    {"facilities", cli_export_facilities,
     "export facilities [FILE|-] [--area CODE] [--kind KIND] [--crs wgs84|gcj02]\n"
     "                                the facilities as CSV; text that starts with = + - @ gets a\n"
     "                                leading ' against spreadsheet formulas"},
    {"cases", cli_export_cases,
     "export cases [--q TEXT] [--status S] [--category C] [--unit U] [--area CODE]\n"
     "                                [--from TIME] [--to TIME] [FILE|-]   cases as CSV, newest\n"
     "                                first, without contact details; = + - @ guarded by a '"},
    {NULL, NULL, NULL},
};

static void print_usage(FILE *out)
{
    fprintf(
        out,
        "Usage: linli [--db FILE] COMMAND ...\n"
        "\n"
        "  init                          create the database (if missing) and the admin account\n"
        "  user add NAME --role ROLE [--scope CODE] [--display-name TEXT] [--no-password]\n"
        "                                add an account; asks for its password\n"
        "  user list [--role ROLE]       list accounts\n"
        "  user passwd NAME              set a new password (asked, or one line on stdin)\n"
        "  user disable NAME             stop an account from logging in; ends its sessions\n"
        "  user enable NAME              allow it again\n");
    for (size_t i = 0; i < sizeof import_kinds / sizeof import_kinds[0]; i++)
        if (import_kinds[i].name)
            fprintf(out, "  %s\n", import_kinds[i].usage);
    for (size_t i = 0; i < sizeof export_kinds / sizeof export_kinds[0]; i++)
        if (export_kinds[i].name)
            fprintf(out, "  %s\n", export_kinds[i].usage);
    fprintf(out,
            "  open311 key add NAME          make an API key for an Open311 client (shown once)\n"
            "  open311 key list              list the Open311 keys\n"
            "  open311 key revoke ID|NAME    revoke a key, or every key of a client\n"
            "  demo [--seed N] [--scale K] [--dir DIR]\n"
            "                                build a demo district from the real area list\n"
            "  backup FILE [--photo-dir DIR] [--no-photos]\n"
            "                                copy the database, even while linlid runs, and the\n"
            "                                case photos it names into photos/ beside FILE\n"
            "  version                       print the version\n"
            "\n"
            "Roles: admin district street community operator provider volunteer resident auditor.\n"
            "The database is --db FILE, else $LINLI_DB, else linli.db.\n"
            "A first admin password can be given in $LINLI_ADMIN_PASSWORD for init.\n");
}

static int dispatch_kind(struct cli *c, const char *verb, const struct kind *kinds, size_t n,
                         int argc, char **argv)
{
    if (argc < 1)
        return cli_die("usage: linli %s KIND ... (see linli --help)", verb);
    for (size_t i = 0; i < n; i++)
        if (kinds[i].name && !strcmp(kinds[i].name, argv[0]))
            return kinds[i].fn(c, argc - 1, argv + 1);
    return cli_die("cannot %s \"%s\" (see linli --help)", verb, argv[0]);
}

int cli_import(struct cli *c, int argc, char **argv)
{
    return dispatch_kind(c, "import", import_kinds, sizeof import_kinds / sizeof import_kinds[0],
                         argc, argv);
}

int cli_export(struct cli *c, int argc, char **argv)
{
    return dispatch_kind(c, "export", export_kinds, sizeof export_kinds / sizeof export_kinds[0],
                         argc, argv);
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
        if (!strcmp(argv[i], "--db") && i + 1 < argc) {
            c.db = argv[++i];
        } else if (!strncmp(argv[i], "--db=", 5)) {
            c.db = argv[i] + 5;
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            print_usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--version")) {
            printf("linli %s\n", LINLI_VERSION);
            return 0;
        } else {
            return cli_die("unknown option %s (see linli --help)", argv[i]);
        }
    }
    if (i >= argc) {
        print_usage(stderr);
        return 2;
    }
    const char *cmd = argv[i++];
    int rest = argc - i;
    char **rv = argv + i;
    /* --db may also follow the command. */
    for (int k = 0; k < rest; k++) {
        if (!strcmp(rv[k], "--db") && k + 1 < rest) {
            c.db = rv[k + 1];
            memmove(rv + k, rv + k + 2, (size_t)(rest - k - 2) * sizeof *rv);
            rest -= 2;
            k--;
        }
    }
    if (!strcmp(cmd, "init"))
        return rest ? cli_die("init takes no arguments") : cli_init(&c);
    if (!strcmp(cmd, "version")) {
        printf("linli %s (schema %d)\n", LINLI_VERSION, store_latest_schema_version());
        return 0;
    }
    if (!strcmp(cmd, "backup"))
        return cli_backup(&c, rest, rv);
    if (!strcmp(cmd, "user"))
        return cli_users(&c, rest, rv);
    if (!strcmp(cmd, "import"))
        return cli_import(&c, rest, rv);
    if (!strcmp(cmd, "open311"))
        return cli_open311(&c, rest, rv);
    if (!strcmp(cmd, "demo"))
        return cli_demo(&c, rest, rv);
    if (!strcmp(cmd, "export"))
        return cli_export(&c, rest, rv);
    return cli_die("unknown command %s (see linli --help)", cmd);
}
