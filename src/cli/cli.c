/* cli.c - shared pieces of the command line. */
#include "cli/cli.h"

#include "domain/directory.h"

#include "base/clock.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cli_die(const char *fmt, ...)
{
    fprintf(stderr, "linli: ");
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    return 1;
}

int cli_report(const struct linli_err *err)
{
    fprintf(stderr, "linli: %s\n", err->detail[0] ? err->detail : linli_status_name(err->status));
    for (int i = 0; i < err->nfields; i++)
        fprintf(stderr, "  %s: %s\n", err->fields[i].field, err->fields[i].message);
    return 1;
}

int cli_open(struct cli *c, int create)
{
    struct linli_err err;
    linli_err_clear(&err);
    struct store_options so;
    store_options_default(&so);
    so.path = c->db;
    so.readers = 2;
    so.create = create;
    if (store_open(&so, &c->d.store, &err)) {
        if (err.status == LINLI_ENOTFOUND)
            fprintf(stderr, "linli: %s (create it with: linli --db %s init)\n", err.detail, c->db);
        else
            cli_report(&err);
        return 1;
    }
    struct auth_options ao;
    auth_options_default(&ao);
    ao.hash_wait_ms = 60000;
    c->d.auth = auth_new(&ao);
    if (!c->d.auth) {
        store_close(c->d.store);
        return cli_die("out of memory");
    }
    const char *user = getenv("USER");
    principal_system(&c->who, "cli");
    snprintf(c->who.username, sizeof c->who.username, "cli:%s", user && *user ? user : "?");
    return 0;
}

void cli_close(struct cli *c)
{
    directory_close(&c->d);
    store_close(c->d.store);
    auth_free(c->d.auth);
    c->d.store = NULL;
    c->d.auth = NULL;
}

const char *cli_opt(int argc, char **argv, const char *name)
{
    for (int i = 0; i < argc - 1; i++)
        if (!strcmp(argv[i], name))
            return argv[i + 1];
    return NULL;
}

int cli_flag(int argc, char **argv, const char *name)
{
    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], name))
            return 1;
    return 0;
}

int cli_check_opts(int argc, char **argv, const char *const *known)
{
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "--", 2) != 0)
            continue;
        int ok = 0;
        for (const char *const *k = known; *k && !ok; k++) {
            size_t n = strlen(*k);
            int takes = (*k)[n - 1] == '=';
            size_t name_len = takes ? n - 1 : n;
            if (strlen(argv[i]) == name_len && !strncmp(argv[i], *k, name_len)) {
                ok = 1;
                if (takes && ++i >= argc)
                    return cli_die("option %s needs a value", argv[i - 1]);
            }
        }
        if (!ok)
            return cli_die("unknown option %s (see linli --help)", argv[i]);
    }
    return 0;
}

void progress_start(struct progress *p, const char *label, int64_t total)
{
    memset(p, 0, sizeof *p);
    p->label = label;
    p->total = total;
    p->tty = isatty(STDERR_FILENO);
    p->start_ms = clock_now_ms();
    p->last_decile = -1;
}

void progress_update(struct progress *p, int64_t done)
{
    p->done = done;
    int64_t now = clock_now_ms();
    double frac = p->total > 0 ? (double)done / (double)p->total : 0;
    if (frac > 1)
        frac = 1;
    if (p->tty) {
        if (now - p->last_shown_ms < 100 && done < p->total)
            return;
        p->last_shown_ms = now;
        int width = 30, fill = (int)(frac * width);
        double secs = (double)(now - p->start_ms) / 1000.0;
        fprintf(stderr, "\r%s [%.*s%*s] %3d%% %lld/%lld %.0f/s ", p->label, fill,
                "##############################", width - fill, "", (int)(frac * 100),
                (long long)done, (long long)p->total, secs > 0 ? (double)done / secs : 0.0);
        fflush(stderr);
    } else {
        int decile = (int)(frac * 10);
        if (decile > p->last_decile) {
            p->last_decile = decile;
            fprintf(stderr, "%s: %d%% (%lld of %lld)\n", p->label, decile * 10, (long long)done,
                    (long long)p->total);
        }
    }
}

void progress_finish(struct progress *p)
{
    progress_update(p, p->total);
    if (p->tty)
        fprintf(stderr, "\n");
}
