/* config.h - settings from defaults, a config file, LINLI_* environment
 * variables and command-line flags, in rising order of precedence.
 *
 * A program describes its settings once, as a table of cfg_option, and
 * cfg_load fills a struct of its own from that table. For an option named
 * "max-body" the flag is --max-body (or --max-body=VALUE), the environment
 * variable LINLI_MAX_BODY and the config-file line "max-body = VALUE". */
#ifndef LINLI_CONFIG_H
#define LINLI_CONFIG_H

#include "base/status.h"

#include <stddef.h>
#include <stdio.h>

enum cfg_type { CFG_STR, CFG_INT, CFG_BOOL };

struct cfg_option {
    const char *name;
    enum cfg_type type;
    size_t offset; /* offsetof the field in the target struct */
    size_t size;   /* CFG_STR: size of the char array; others: ignored */
    const char *def;
    long min, max; /* CFG_INT bounds */
    const char *help;
};

/* Loads settings into `target`. The file named by --config or LINLI_CONFIG is
 * read if given. Returns 0; 1 when --help was asked for; or LINLI_EINVAL with
 * `err` naming the setting and what is wrong with it (nothing is half-set in
 * a way that matters: the caller exits). Positional arguments are refused
 * unless `rest` is given, in which case argv indexes of the first positional
 * argument is stored there. */
int cfg_load(const struct cfg_option *opts, size_t n, void *target, int argc, char **argv,
             int *rest, struct linli_err *err);

void cfg_print_help(FILE *out, const struct cfg_option *opts, size_t n);

#endif
