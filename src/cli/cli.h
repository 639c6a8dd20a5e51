/* cli.h - what the commands of `linli` share: the open database, the
 * principal they act as, error reporting and a progress bar. Each command
 * group lives in its own file (cli_users.c, cli_areas.c, ...). */
#ifndef LINLI_CLI_H
#define LINLI_CLI_H

#include "domain/auth.h"
#include "domain/domain.h"
#include "domain/principal.h"

#include <stdint.h>

struct cli {
    const char *db;
    struct domain d;
    struct principal who; /* the system, with the operator's login name */
};

/* Opens the database (creating it when `create`); prints why on failure. */
int cli_open(struct cli *c, int create);
void cli_close(struct cli *c);

/* Print "linli: ..." and return 1 (an exit status). */
int cli_die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int cli_report(const struct linli_err *err);

/* Option helpers over argv (after the command words). */
const char *cli_opt(int argc, char **argv, const char *name);
int cli_flag(int argc, char **argv, const char *name);
/* Refuses options not in `known` (names taking a value end in '='). */
int cli_check_opts(int argc, char **argv, const char *const *known);

/* A progress bar on stderr when it is a terminal, else a line every 10%. */
struct progress {
    const char *label;
    int64_t total, done, last_shown_ms, start_ms;
    int tty, last_decile;
};
void progress_start(struct progress *p, const char *label, int64_t total);
void progress_update(struct progress *p, int64_t done);
void progress_finish(struct progress *p);

/* Command groups: each takes the words after its name. */
int cli_users(struct cli *c, int argc, char **argv);
int cli_import(struct cli *c, int argc, char **argv);
int cli_export(struct cli *c, int argc, char **argv);
int cli_demo(struct cli *c, int argc, char **argv);
int cli_backup(struct cli *c, int argc, char **argv);

/* Import and export kinds, each in its own file. */
int cli_import_areas(struct cli *c, int argc, char **argv);
int cli_import_people(struct cli *c, int argc, char **argv);
int cli_export_people(struct cli *c, int argc, char **argv);
int cli_import_stations(struct cli *c, int argc, char **argv);
int cli_export_stations(struct cli *c, int argc, char **argv);
int cli_import_facilities(struct cli *c, int argc, char **argv);
int cli_export_facilities(struct cli *c, int argc, char **argv);

#endif
