/* cli_cases.c - linli export cases: the cases matching the filters as CSV,
 * newest first, with the columns of GET /api/v1/cases/export.csv (the public
 * view's and the handlers', never the reporter's contact details; the
 * formula guard on text cells). Acts as the system, so every case counts;
 * the export is audited as case.export. */
#include "cli/cli.h"

#include "base/clock.h"
#include "domain/cases_stats.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_export_cases(struct cli *c, int argc, char **argv);

#define USAGE                                                                                      \
    "usage: linli export cases [--q TEXT] [--status open|STATE] [--category CODE] [--unit UNIT]"   \
    " [--area CODE] [--from TIME] [--to TIME] [FILE|-]"

/* RFC 3339, or a date YYYY-MM-DD meaning its midnight in Asia/Shanghai. */
static int parse_when(const char *text, int64_t *ms)
{
    char t[40];
    if (!clock_parse_rfc3339(text, ms))
        return 0;
    if (strlen(text) != 10)
        return -1;
    snprintf(t, sizeof t, "%sT00:00:00+08:00", text);
    return clock_parse_rfc3339(t, ms);
}

static int export_row(void *ctx, const struct case_record *r)
{
    return cases_csv_row(ctx, r) ? LINLI_EIO : LINLI_OK;
}

/* Fills the query from the options; prints why and returns 1 when one is wrong. */
static int read_options(int argc, char **argv, struct cases_search_query *q, const char **path)
{
    static const char *const known[] = {
        "--q=", "--status=", "--category=", "--unit=", "--area=", "--from=", "--to=", NULL};
    if (cli_check_opts(argc, argv, known))
        return 1;
    *path = NULL;
    for (int i = 0; i < argc; i++) {
        if (!strncmp(argv[i], "--", 2))
            i++; /* an option and its value */
        else if (!*path && (argv[i][0] != '-' || !strcmp(argv[i], "-")))
            *path = argv[i];
        else
            return cli_die(USAGE);
    }
    *q = (struct cases_search_query){.state = -1, .limit = 1};
    q->q = cli_opt(argc, argv, "--q");
    q->category = cli_opt(argc, argv, "--category");
    q->unit = cli_opt(argc, argv, "--unit");
    q->area = cli_opt(argc, argv, "--area");
    const char *status = cli_opt(argc, argv, "--status");
    if (status && !strcmp(status, "open"))
        q->open_only = true;
    else if (status && case_state_parse(status, &q->state))
        return cli_die("--status: neither open nor a case state: %s", status);
    const char *from = cli_opt(argc, argv, "--from"), *to = cli_opt(argc, argv, "--to");
    if (from && parse_when(from, &q->from_ms))
        return cli_die("--from: neither a date (YYYY-MM-DD) nor an RFC 3339 time: %s", from);
    if (to && parse_when(to, &q->to_ms))
        return cli_die("--to: neither a date (YYYY-MM-DD) nor an RFC 3339 time: %s", to);
    struct linli_err err;
    linli_err_clear(&err);
    if (cases_search_check(q, &err))
        return cli_report(&err);
    return 0;
}

int cli_export_cases(struct cli *c, int argc, char **argv)
{
    struct cases_search_query q;
    const char *path;
    if (read_options(argc, argv, &q, &path))
        return 1;
    bool to_stdout = !path || !strcmp(path, "-");
    char tmp[4096];
    FILE *f = stdout;
    if (!to_stdout) {
        /* Written beside the target and renamed: a reader never sees half a file. */
        if ((size_t)snprintf(tmp, sizeof tmp, "%s.part", path) >= sizeof tmp)
            return cli_die("file name too long: %s", path);
        if (!(f = fopen(tmp, "w")))
            return cli_die("cannot write %s: %s", tmp, strerror(errno));
    }
    if (cli_open(c, 0)) {
        if (!to_stdout) {
            fclose(f);
            remove(tmp);
        }
        return 1;
    }
    struct linli_err err;
    linli_err_clear(&err);
    int64_t count = 0;
    int rc = cases_csv_header(f) ? LINLI_EIO
                                 : cases_export(&c->d, &c->who, &q, export_row, f, &count, &err);
    cli_close(c);
    if (rc == LINLI_EIO && !err.detail[0])
        linli_fail(&err, LINLI_EIO, "writing the export failed: %s", strerror(errno));
    if (!to_stdout) {
        if (fclose(f) != 0 && !rc)
            rc = linli_fail(&err, LINLI_EIO, "cannot write %s: %s", tmp, strerror(errno));
        if (!rc && rename(tmp, path) != 0)
            rc = linli_fail(&err, LINLI_EIO, "cannot rename %s to %s: %s", tmp, path,
                            strerror(errno));
        if (rc)
            remove(tmp);
    } else if (fflush(stdout) != 0 && !rc) {
        rc = linli_fail(&err, LINLI_EIO, "writing to stdout failed: %s", strerror(errno));
    }
    if (rc)
        return cli_report(&err);
    fprintf(stderr,
            "Exported %lld cases to %s (no contact details; the audit log has the "
            "export).\n",
            (long long)count, to_stdout ? "stdout" : path);
    return 0;
}
