/* cli_stations.c - linli import stations / linli export stations: the
 * social-work service network as CSV (UTF-8, one header line):
 *
 *   name,level,area_code,address,lat,lon,staff,phone,opening_hours
 *
 * An import reads and checks every row before anything is written and
 * reports each bad one as "line N, field F: reason". A file with bad rows
 * changes nothing unless --skip-bad is given; then the good rows are written,
 * all in one transaction. A station already present (same area, level and
 * name) is updated, so importing the same file twice changes nothing. */
#include "cli/cli.h"

#include "base/arena.h"
#include "base/csv.h"
#include "domain/stations.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATIONS_CSV_MAX_LINE    8192  /* bytes of one record */
#define STATIONS_IMPORT_MAX_ROWS 20000 /* a city of 16 districts has about 12,000 */
#define STATIONS_PROGRESS_MIN    1000  /* rows from which a progress bar is shown */
#define STATIONS_EXPORT_PAGE     500

enum col { C_NAME, C_LEVEL, C_AREA, C_ADDRESS, C_LAT, C_LON, C_STAFF, C_PHONE, C_HOURS, NCOLS };
static const char *const columns[NCOLS] = {"name", "level", "area_code", "address",      "lat",
                                           "lon",  "staff", "phone",     "opening_hours"};

/* ---- import ---- */

struct errors {
    struct station_row_error *v;
    size_t n, cap;
};

static int add_error(struct errors *e, long line, const char *field, const char *message)
{
    if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 32;
        void *p = realloc(e->v, cap * sizeof *e->v);
        if (!p)
            return -1;
        e->v = p;
        e->cap = cap;
    }
    struct station_row_error *x = &e->v[e->n++];
    x->line = line;
    snprintf(x->field, sizeof x->field, "%s", field);
    snprintf(x->message, sizeof x->message, "%s", message);
    return 0;
}

static int by_line(const void *a, const void *b)
{
    const struct station_row_error *x = a, *y = b;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    return x < y ? -1 : x > y;
}

/* The CSV column a domain field error is about. */
static const char *csv_field(const char *field)
{
    if (!strcmp(field, "point.lat"))
        return "lat";
    if (!strcmp(field, "point.lon"))
        return "lon";
    if (!strcmp(field, "point"))
        return "lat,lon";
    return field;
}

/* A coordinate cell: NAN when it is not a number, so the domain's check
 * reports it on its column. */
static double coordinate(const char *text)
{
    if (!text || !*text)
        return NAN;
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    return errno || *end ? NAN : v;
}

struct import_args {
    const char *path;
    bool skip_bad, dry_run, gcj02;
};

static int parse_import_args(int argc, char **argv, struct import_args *a)
{
    memset(a, 0, sizeof *a);
    if (cli_check_opts(argc, argv,
                       (const char *const[]){"--skip-bad", "--dry-run", "--crs=", NULL}))
        return 1;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--crs")) {
            const char *crs = argv[++i];
            if (!strcmp(crs, "gcj02"))
                a->gcj02 = true;
            else if (strcmp(crs, "wgs84") != 0)
                return cli_die("--crs must be wgs84 or gcj02");
        } else if (!strcmp(argv[i], "--skip-bad")) {
            a->skip_bad = true;
        } else if (!strcmp(argv[i], "--dry-run")) {
            a->dry_run = true;
        } else if (a->path) {
            return cli_die("unexpected argument %s (usage: linli import stations FILE "
                           "[--skip-bad] [--crs wgs84|gcj02] [--dry-run])",
                           argv[i]);
        } else {
            a->path = argv[i];
        }
    }
    if (!a->path)
        return cli_die("usage: linli import stations FILE [--skip-bad] [--crs wgs84|gcj02] "
                       "[--dry-run]");
    return 0;
}

struct parsed {
    struct station_import_row *rows;
    size_t n, cap;
    struct arena strings; /* the rows' text */
    struct errors errors; /* lines that could not be read as rows */
    int unreadable;
};

static void parsed_free(struct parsed *p)
{
    free(p->rows);
    free(p->errors.v);
    arena_free(&p->strings);
}

/* Reads the header: which column holds which field. Unknown or repeated
 * columns are refused (a misspelt column must not be silently dropped). */
static int read_header(struct csv_reader *r, const char *path, int col[NCOLS], int *ncols)
{
    const char *why;
    int got = csv_next(r, &why);
    if (got != 1)
        return cli_die("%s: %s", path, got < 0 ? why : "no header line");
    for (int k = 0; k < NCOLS; k++)
        col[k] = -1;
    for (int i = 0; i < r->nfields; i++) {
        int k = 0;
        while (k < NCOLS && strcmp(r->fields[i], columns[k]) != 0)
            k++;
        if (k == NCOLS)
            return cli_die("%s line 1: unknown column \"%s\" (the columns are name, level, "
                           "area_code, address, lat, lon, staff, phone, opening_hours)",
                           path, r->fields[i]);
        if (col[k] >= 0)
            return cli_die("%s line 1: the column \"%s\" appears twice", path, columns[k]);
        col[k] = i;
    }
    for (int k = C_NAME; k <= C_AREA; k++)
        if (col[k] < 0)
            return cli_die("%s line 1: the header lacks the column \"%s\"", path, columns[k]);
    *ncols = r->nfields;
    return 0;
}

/* A cell's text, kept in the arena; NULL for an absent column. */
static const char *cell(struct parsed *p, const struct csv_reader *r, int col)
{
    return col < 0 ? NULL : arena_strdup(&p->strings, r->fields[col]);
}

static int read_rows(FILE *f, const struct import_args *a, struct parsed *p)
{
    struct csv_reader r;
    csv_init(&r, f, STATIONS_CSV_MAX_LINE);
    int col[NCOLS], ncols = 0;
    if (read_header(&r, a->path, col, &ncols)) {
        csv_free(&r);
        return 1;
    }
    const char *why;
    int got, rc = 0;
    char msg[96];
    while (rc == 0 && (got = csv_next(&r, &why)) != 0) {
        if (got < 0) {
            p->unreadable++;
            rc = add_error(&p->errors, r.lineno, "", why);
            continue;
        }
        if (r.nfields == 1 && !r.fields[0][0])
            continue; /* a blank line */
        if (r.nfields != ncols) {
            p->unreadable++;
            snprintf(msg, sizeof msg, "has %d fields; the header has %d", r.nfields, ncols);
            rc = add_error(&p->errors, r.lineno, "", msg);
            continue;
        }
        if (p->n == STATIONS_IMPORT_MAX_ROWS) {
            csv_free(&r);
            return cli_die("%s: more than %d rows", a->path, STATIONS_IMPORT_MAX_ROWS);
        }
        if (p->n == p->cap) {
            size_t cap = p->cap ? p->cap * 2 : 256;
            void *np = realloc(p->rows, cap * sizeof *p->rows);
            if (!np) {
                rc = -1;
                break;
            }
            p->rows = np;
            p->cap = cap;
        }
        struct station_import_row *row = &p->rows[p->n++];
        memset(row, 0, sizeof *row);
        row->line = r.lineno;
        struct station_fields *sf = &row->f;
        sf->name = cell(p, &r, col[C_NAME]);
        sf->level = cell(p, &r, col[C_LEVEL]);
        sf->area_code = cell(p, &r, col[C_AREA]);
        sf->address = cell(p, &r, col[C_ADDRESS]);
        sf->phone = cell(p, &r, col[C_PHONE]);
        sf->opening_hours = cell(p, &r, col[C_HOURS]);
        const char *lat = col[C_LAT] >= 0 ? r.fields[col[C_LAT]] : "";
        const char *lon = col[C_LON] >= 0 ? r.fields[col[C_LON]] : "";
        if (*lat || *lon) {
            sf->has_point = true;
            sf->point.lat = coordinate(lat);
            sf->point.lon = coordinate(lon);
            if (a->gcj02 && isfinite(sf->point.lat) && isfinite(sf->point.lon))
                sf->point = geo_gcj02_to_wgs84(sf->point);
        }
        const char *staff = col[C_STAFF] >= 0 ? r.fields[col[C_STAFF]] : "";
        if (*staff) {
            char *end;
            errno = 0;
            long long v = strtoll(staff, &end, 10);
            sf->has_staff = true;
            sf->staff = errno || *end ? -1 : v; /* -1: the check names the column */
        }
        if (!sf->name || !sf->level || !sf->area_code)
            rc = -1; /* out of memory in the arena */
    }
    csv_free(&r);
    if (rc)
        return cli_die("out of memory");
    return 0;
}

struct bar {
    struct progress p;
    bool on;
};

static void on_progress(void *ctx, size_t done, size_t total)
{
    struct bar *b = ctx;
    if (!b->on) {
        progress_start(&b->p, "stations", (int64_t)total);
        b->on = true;
    }
    progress_update(&b->p, (int64_t)done);
}

/* Prints every problem, in line order, as "line N, field F: reason". */
static void print_errors(struct errors *cli_errors, const struct station_import_report *rep)
{
    for (size_t i = 0; i < rep->nerrors; i++) {
        const struct station_row_error *e = &rep->errors[i];
        if (add_error(cli_errors, e->line, csv_field(e->field), e->message))
            break;
    }
    if (cli_errors->n)
        qsort(cli_errors->v, cli_errors->n, sizeof *cli_errors->v, by_line);
    for (size_t i = 0; i < cli_errors->n; i++) {
        const struct station_row_error *e = &cli_errors->v[i];
        if (e->field[0])
            fprintf(stderr, "line %ld, field %s: %s\n", e->line, e->field, e->message);
        else
            fprintf(stderr, "line %ld: %s\n", e->line, e->message);
    }
}

int cli_import_stations(struct cli *c, int argc, char **argv)
{
    struct import_args a;
    if (parse_import_args(argc, argv, &a))
        return 1;
    FILE *f = strcmp(a.path, "-") ? fopen(a.path, "r") : stdin;
    if (!f)
        return cli_die("cannot read %s: %s", a.path, strerror(errno));
    struct parsed p = {0};
    arena_init(&p.strings, 64 * 1024);
    int bad_read = read_rows(f, &a, &p);
    if (f != stdin)
        fclose(f);
    if (bad_read) {
        parsed_free(&p);
        return 1;
    }
    if (cli_open(c, 0)) {
        parsed_free(&p);
        return 1;
    }
    struct bar bar = {0};
    struct station_import_opts o = {
        .skip_bad = a.skip_bad,
        .dry_run = a.dry_run,
        .bad_before = p.unreadable,
        .source = a.path,
        .progress = p.n >= STATIONS_PROGRESS_MIN ? on_progress : NULL,
        .progress_ctx = &bar,
    };
    struct linli_err err;
    linli_err_clear(&err);
    struct station_import_report rep;
    int rc = stations_import(&c->d, &c->who, p.rows, p.n, &o, &rep, &err);
    cli_close(c);
    if (bar.on) {
        if (rc == LINLI_OK)
            progress_finish(&bar.p);
        else if (bar.p.tty)
            fputc('\n', stderr);
    }
    print_errors(&p.errors, &rep);
    stations_import_report_free(&rep);
    parsed_free(&p);
    if (rc) {
        cli_report(&err);
        if (err.status == LINLI_EINVAL && rep.bad && !a.skip_bad)
            fprintf(stderr, "linli: fix the rows above, or give --skip-bad to import the "
                            "good ones\n");
        return 1;
    }
    printf("%s stations from %s: %d %s, %d %s, %d unchanged, %d bad %s skipped.\n",
           a.dry_run ? "Checked" : "Imported", a.path, rep.added, a.dry_run ? "to add" : "added",
           rep.updated, a.dry_run ? "to update" : "updated", rep.unchanged, rep.bad,
           rep.bad == 1 ? "row" : "rows");
    return 0;
}

/* ---- export ---- */

static void write_station(FILE *out, const struct station *s, bool gcj02)
{
    char lat[32] = "", lon[32] = "", staff[24];
    if (s->has_point) {
        struct geo_point pt = gcj02 ? geo_wgs84_to_gcj02(s->point) : s->point;
        snprintf(lat, sizeof lat, "%.7f", pt.lat);
        snprintf(lon, sizeof lon, "%.7f", pt.lon);
    }
    snprintf(staff, sizeof staff, "%lld", (long long)s->staff);
    const char *v[NCOLS] = {s->name,
                            station_level_name(s->level),
                            s->area_code,
                            s->address,
                            lat,
                            lon,
                            staff,
                            s->phone,
                            s->opening_hours};
    for (int k = 0; k < NCOLS; k++)
        csv_write_field(out, v[k], k == NCOLS - 1);
}

int cli_export_stations(struct cli *c, int argc, char **argv)
{
    if (cli_check_opts(argc, argv, (const char *const[]){"--crs=", NULL}))
        return 1;
    const char *path = NULL;
    bool gcj02 = false;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--crs")) {
            const char *crs = argv[++i];
            if (!strcmp(crs, "gcj02"))
                gcj02 = true;
            else if (strcmp(crs, "wgs84") != 0)
                return cli_die("--crs must be wgs84 or gcj02");
        } else if (path) {
            return cli_die("usage: linli export stations [FILE|-] [--crs wgs84|gcj02]");
        } else {
            path = argv[i];
        }
    }
    bool to_stdout = !path || !strcmp(path, "-");
    char tmp[4096];
    FILE *out = stdout;
    if (!to_stdout) {
        /* Written beside the target and renamed into place: never half a file. */
        if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
            return cli_die("%s: the path is too long", path);
        out = fopen(tmp, "w");
        if (!out)
            return cli_die("cannot write %s: %s", tmp, strerror(errno));
    }
    if (cli_open(c, 0)) {
        if (!to_stdout) {
            fclose(out);
            remove(tmp);
        }
        return 1;
    }
    for (int k = 0; k < NCOLS; k++)
        csv_write_field(out, columns[k], k == NCOLS - 1);
    struct station_filter f = {.level = -1, .limit = STATIONS_EXPORT_PAGE};
    struct linli_err err;
    linli_err_clear(&err);
    long total = 0;
    int rc;
    for (;;) {
        struct station *items;
        int n;
        int64_t next;
        if ((rc = stations_list(&c->d, &c->who, &f, &items, &n, &next, &err)))
            break;
        for (int i = 0; i < n; i++)
            write_station(out, &items[i], gcj02);
        total += n;
        free(items);
        if (!next)
            break;
        f.after_id = next;
    }
    cli_close(c);
    int werr = ferror(out) | fflush(out);
    if (!to_stdout) {
        werr |= fclose(out);
        if (rc || werr || rename(tmp, path) != 0) {
            remove(tmp);
            return rc ? cli_report(&err) : cli_die("cannot write %s: %s", path, strerror(errno));
        }
    }
    if (rc)
        return cli_report(&err);
    if (werr)
        return cli_die("writing the export failed: %s", strerror(errno));
    fprintf(stderr, "Exported %ld stations%s%s%s.\n", total, to_stdout ? "" : " to ",
            to_stdout ? "" : path, gcj02 ? " (coordinates in GCJ-02)" : "");
    return 0;
}
