/* cli_areas.c - linli import areas: reads the official lists of one edition
 * (streets_<YEAR>.csv, communities_<YEAR>.csv) and, where the code matches,
 * the centre points of divisions_2016_gcj02.csv, converted from GCJ-02 to
 * WGS-84. Prints what changed. */
#include "cli/cli.h"

#include "base/csv.h"
#include "domain/registry.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AREA_MAX_ROWS 20000
#define POINT_SOURCE  "Vonng/adcode 2016 (CC BY 4.0)"

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

/* Opens DIR/NAME and checks its header; prints the reason on failure. */
static FILE *open_list(const char *dir, const char *name, struct csv_reader *r,
                       const char *const *want)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (!f) {
        cli_die("cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    csv_init(r, f, 4096);
    const char *why;
    if (csv_next(r, &why) != 1) {
        cli_die("%s: no header line", path);
        csv_free(r);
        fclose(f);
        return NULL;
    }
    for (int i = 0; want[i]; i++) {
        if (csv_column(r, want[i]) < 0) {
            cli_die("%s: the header lacks the column \"%s\"", path, want[i]);
            csv_free(r);
            fclose(f);
            return NULL;
        }
    }
    return f;
}

struct rows {
    struct area_row *v;
    size_t n;
};

static struct area_row *add_row(struct rows *rows)
{
    if (rows->n == AREA_MAX_ROWS)
        return NULL;
    struct area_row *r = &rows->v[rows->n++];
    memset(r, 0, sizeof *r);
    return r;
}

/* Pads a 6- or 9-digit code to 12 digits; returns -1 if it is not one. */
static int pad_code(const char *in, char out[AREA_CODE_LEN + 1])
{
    const char *why;
    return area_code_normalize(in, out, &why);
}

static int read_level(const char *dir, const char *file, const char *kind_default,
                      struct rows *rows, int *bad)
{
    struct csv_reader r;
    FILE *f = open_list(dir, file, &r, (const char *const[]){"code", "name", "parent_code", NULL});
    if (!f)
        return 1;
    int ic = csv_column(&r, "code"), in = csv_column(&r, "name"),
        ip = csv_column(&r, "parent_code");
    const char *why;
    int got;
    while ((got = csv_next(&r, &why)) != 0) {
        if (got < 0 || r.nfields < 3) {
            fprintf(stderr, "%s/%s line %ld: %s\n", dir, file, r.lineno,
                    got < 0 ? why : "expected code,name,parent_code");
            (*bad)++;
            continue;
        }
        struct area_row *row = add_row(rows);
        if (!row)
            return cli_die("%s/%s: more than %d areas", dir, file, AREA_MAX_ROWS);
        if (pad_code(r.fields[ic], row->code) || pad_code(r.fields[ip], row->parent_code)) {
            fprintf(stderr, "%s/%s line %ld: \"%s\" or \"%s\" is not an area code\n", dir, file,
                    r.lineno, r.fields[ic], r.fields[ip]);
            rows->n--;
            (*bad)++;
            continue;
        }
        snprintf(row->name, sizeof row->name, "%s", r.fields[in]);
        if (!strcmp(kind_default, "street"))
            snprintf(row->kind, sizeof row->kind, "%s",
                     ends_with(row->name, "地区") ? "township" : "street");
        else
            snprintf(row->kind, sizeof row->kind, "%s",
                     ends_with(row->name, "村委会") || ends_with(row->name, "村民委员会")
                         ? "village"
                         : "community");
    }
    csv_free(&r);
    fclose(f);
    return 0;
}

int cli_import_areas(struct cli *c, int argc, char **argv)
{
    if (cli_check_opts(argc, argv,
                       (const char *const[]){"--dir=", "--edition=", "--points=", NULL}))
        return 1;
    for (int i = 0; i < argc; i++)
        if (argv[i][0] != '-' && (i == 0 || argv[i - 1][0] != '-'))
            return cli_die(
                "unexpected argument %s (usage: linli import areas [--dir DIR] [--edition YEAR])",
                argv[i]);
    const char *dir = cli_opt(argc, argv, "--dir");
    const char *ed = cli_opt(argc, argv, "--edition");
    const char *points_file = cli_opt(argc, argv, "--points");
    if (!dir)
        dir = "data/chaoyang";
    int edition = ed ? atoi(ed) : 2020;
    if (edition < 1980 || edition > 2200)
        return cli_die("--edition must be the year of the official list, such as 2020");
    if (!points_file)
        points_file = "divisions_2016_gcj02.csv";

    struct rows rows = {calloc(AREA_MAX_ROWS, sizeof(struct area_row)), 0};
    if (!rows.v)
        return cli_die("out of memory");
    int bad = 0;
    char streets[64], communities[64];
    snprintf(streets, sizeof streets, "streets_%d.csv", edition);
    snprintf(communities, sizeof communities, "communities_%d.csv", edition);
    size_t first_street = 0;
    if (read_level(dir, streets, "street", &rows, &bad)) {
        free(rows.v);
        return 1;
    }
    size_t nstreets = rows.n - first_street;
    if (read_level(dir, communities, "community", &rows, &bad)) {
        free(rows.v);
        return 1;
    }
    if (bad) {
        free(rows.v);
        return cli_die("%d bad lines; nothing was imported", bad);
    }

    /* The districts are the parents of the streets; names and points come
     * from the divisions file when it has them. */
    size_t nrows_before = rows.n;
    for (size_t i = first_street; i < first_street + nstreets; i++) {
        int seen = 0;
        for (size_t k = nrows_before; k < rows.n; k++)
            seen |= !strcmp(rows.v[k].code, rows.v[i].parent_code);
        if (!seen) {
            struct area_row *d = add_row(&rows);
            snprintf(d->code, sizeof d->code, "%s", rows.v[i].parent_code);
            snprintf(d->kind, sizeof d->kind, "district");
        }
    }
    struct area_point *points = calloc(AREA_MAX_ROWS, sizeof *points);
    size_t npoints = 0;
    struct csv_reader r;
    char ppath[4096];
    snprintf(ppath, sizeof ppath, "%s/%s", dir, points_file);
    FILE *pf = fopen(ppath, "r");
    if (pf && points) {
        csv_init(&r, pf, 4096);
        const char *why;
        if (csv_next(&r, &why) == 1) {
            int ic = csv_column(&r, "code12"), in = csv_column(&r, "name"),
                ilon = csv_column(&r, "lon_gcj02"), ilat = csv_column(&r, "lat_gcj02");
            while (ic >= 0 && ilon >= 0 && ilat >= 0 && csv_next(&r, &why) == 1) {
                if (r.nfields <= ilat || !*r.fields[ilon] || !*r.fields[ilat])
                    continue;
                for (size_t k = nrows_before; in >= 0 && k < rows.n; k++)
                    if (!strcmp(rows.v[k].code, r.fields[ic]))
                        snprintf(rows.v[k].name, sizeof rows.v[k].name, "%s", r.fields[in]);
                struct area_point *p = &points[npoints];
                if (pad_code(r.fields[ic], p->code) != 0 || npoints + 1 >= AREA_MAX_ROWS)
                    continue;
                struct geo_point g = {strtod(r.fields[ilat], NULL), strtod(r.fields[ilon], NULL)};
                if (!geo_in_china(g))
                    continue;
                p->wgs84 = geo_gcj02_to_wgs84(g);
                p->crs = "gcj02";
                p->source = POINT_SOURCE;
                npoints++;
            }
        }
        csv_free(&r);
        fclose(pf);
    } else if (!pf) {
        fprintf(stderr, "linli: no %s; importing without centre points\n", ppath);
    }

    if (cli_open(c, 0)) {
        free(rows.v);
        free(points);
        return 1;
    }
    struct linli_err err;
    linli_err_clear(&err);
    struct import_report rep;
    int rc = registry_import(&c->d, &c->who, edition, rows.v, rows.n, points, npoints, &rep, &err);
    cli_close(c);
    free(rows.v);
    free(points);
    if (rc)
        return cli_report(&err);
    printf("Imported edition %d from %s: %d added, %d renamed, %d moved, %d retired, %d restored, "
           "%d unchanged; %d centre points (GCJ-02 converted to WGS-84).\n",
           edition, dir, rep.added, rep.renamed, rep.moved, rep.retired, rep.restored,
           rep.unchanged, rep.points);
    return 0;
}
