/* cli_people.c - linli import people / linli export people: residents'
 * profiles as CSV (UTF-8, a header row naming the columns).
 *
 * Import reads the file twice. The first pass checks every row (the rules of
 * people_check, the registry, duplicate ID numbers within the file and
 * against the database) and reports each problem as "line N, field F:
 * reason"; with any bad row and no --skip-bad it stops there and nothing is
 * written. The second pass writes the good rows PEOPLE_IMPORT_BATCH at a
 * time, one transaction (and one audit entry) each. Only a file can be
 * imported, not a pipe, for that second pass. */
#include "cli/cli.h"

#include "base/arena.h"
#include "base/clock.h"
#include "base/csv.h"
#include "domain/people.h"
#include "geo/geo.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define PEOPLE_CSV_MAX_LINE 16384 /* bytes of one record */
#define ROW_LOCAL_ERRORS    6     /* problems found while decoding one row, kept for its report */
#define PROBLEMS_SHOWN      1000  /* problems printed before the rest are only counted */

/* The columns, in the order export writes them; contact columns follow the
 * pattern contactN_name/_relation/_phone for N = 1..PERSON_CONTACTS_MAX. */
static const char *const base_columns[] = {
    "name",           "id_number",    "phone",      "address",    "lat",           "lon",
    "community_code", "living_alone", "care_level", "disability", "subsidy_class", "conditions",
};
#define NBASE (sizeof base_columns / sizeof base_columns[0])
enum {
    COL_NAME,
    COL_ID_NUMBER,
    COL_PHONE,
    COL_ADDRESS,
    COL_LAT,
    COL_LON,
    COL_COMMUNITY,
    COL_LIVING_ALONE,
    COL_CARE_LEVEL,
    COL_DISABILITY,
    COL_SUBSIDY,
    COL_CONDITIONS,
    COL_CONTACTS, /* then 3 per contact */
    COL_CONSENT = COL_CONTACTS + 3 * PERSON_CONTACTS_MAX,
    NCOLS
};

/* Where each column is in the file, -1 when it is not there. */
struct layout {
    int at[NCOLS];
    int nfields;
};

static void column_name(int col, char *out, size_t size)
{
    if (col < COL_CONTACTS)
        snprintf(out, size, "%s", base_columns[col]);
    else if (col == COL_CONSENT)
        snprintf(out, size, "consent");
    else
        snprintf(out, size, "contact%d_%s", (col - COL_CONTACTS) / 3 + 1,
                 (const char *[]){"name", "relation", "phone"}[(col - COL_CONTACTS) % 3]);
}

static int read_header(struct csv_reader *r, const char *path, struct layout *l)
{
    const char *why;
    int got = csv_next(r, &why);
    if (got != 1)
        return cli_die("%s: %s", path,
                       got == 0 ? "the file is empty (a header row is needed)" : why);
    for (int c = 0; c < NCOLS; c++)
        l->at[c] = -1;
    l->nfields = r->nfields;
    for (int i = 0; i < r->nfields; i++) {
        int found = -1;
        for (int c = 0; c < NCOLS && found < 0; c++) {
            char name[32];
            column_name(c, name, sizeof name);
            if (!strcmp(name, r->fields[i]))
                found = c;
        }
        if (found < 0)
            return cli_die("%s: the header has an unknown column \"%s\" (the columns are "
                           "name,id_number,phone,address,lat,lon,community_code,living_alone,"
                           "care_level,disability,subsidy_class,conditions,contact1_name,"
                           "contact1_relation,contact1_phone,...,consent)",
                           path, r->fields[i]);
        if (l->at[found] >= 0)
            return cli_die("%s: the column \"%s\" appears twice in the header", path, r->fields[i]);
        l->at[found] = i;
    }
    if (l->at[COL_NAME] < 0 || l->at[COL_COMMUNITY] < 0)
        return cli_die("%s: the header needs at least the columns name and community_code", path);
    return 0;
}

/* One row being imported: its line, which file contact each contact came
 * from, and the problems found while decoding it. */
struct row_meta {
    long line;
    int contact_no[PERSON_CONTACTS_MAX];
    int nlocal;
    char local[ROW_LOCAL_ERRORS][200];
    bool malformed; /* not a record at all: nothing to check */
};

static void local_error(struct row_meta *m, const char *field, const char *fmt, const char *arg)
{
    if (m->nlocal == ROW_LOCAL_ERRORS)
        return;
    char reason[160];
    snprintf(reason, sizeof reason, fmt, arg);
    snprintf(m->local[m->nlocal++], sizeof m->local[0], "line %ld, field %s: %s", m->line, field,
             reason);
}

static const char *field_at(const struct csv_reader *r, const struct layout *l, int col)
{
    int i = l->at[col];
    return i >= 0 && i < r->nfields ? r->fields[i] : "";
}

static const char *nonempty(struct arena *a, const char *s)
{
    return s && *s ? arena_strdup(a, s) : NULL;
}

/* yes/no in the forms people type; empty is no. Returns 0/1, or -1. */
static int parse_bool(const char *s)
{
    static const char *const yes[] = {"1", "true", "yes", "y", "是", NULL};
    static const char *const no[] = {"", "0", "false", "no", "n", "否", NULL};
    for (int i = 0; yes[i]; i++)
        if (!strcasecmp(s, yes[i]))
            return 1;
    for (int i = 0; no[i]; i++)
        if (!strcasecmp(s, no[i]))
            return 0;
    return -1;
}

static int parse_coord(const char *s, double *out)
{
    char *end;
    errno = 0;
    *out = strtod(s, &end);
    return *s && !*end && !errno && isfinite(*out) ? 0 : -1;
}

/* Decodes the current record into `in`, copying its text into `a`.
 * Problems the domain cannot see (numbers, yes/no, counts) go to `m`. */
static void decode_row(const struct csv_reader *r, const struct layout *l, bool gcj02,
                       struct arena *a, struct person_in *in, struct row_meta *m)
{
    memset(in, 0, sizeof *in);
    in->name = arena_strdup(a, field_at(r, l, COL_NAME));
    in->id_number = nonempty(a, field_at(r, l, COL_ID_NUMBER));
    in->phone = nonempty(a, field_at(r, l, COL_PHONE));
    in->address = arena_strdup(a, field_at(r, l, COL_ADDRESS));
    in->community_code = arena_strdup(a, field_at(r, l, COL_COMMUNITY));
    in->care_level = nonempty(a, field_at(r, l, COL_CARE_LEVEL));
    in->disability = nonempty(a, field_at(r, l, COL_DISABILITY));
    in->subsidy_class = nonempty(a, field_at(r, l, COL_SUBSIDY));
    const char *lat = field_at(r, l, COL_LAT), *lon = field_at(r, l, COL_LON);
    if (*lat || *lon) {
        struct geo_point p;
        if (!*lat || !*lon)
            local_error(m, *lat ? "lon" : "lat", "%s", "give both lat and lon, or neither");
        else if (parse_coord(lat, &p.lat))
            local_error(m, "lat", "\"%s\" is not a number", lat);
        else if (parse_coord(lon, &p.lon))
            local_error(m, "lon", "\"%s\" is not a number", lon);
        else {
            if (gcj02)
                p = geo_gcj02_to_wgs84(p);
            in->has_home = true;
            in->lat = p.lat;
            in->lon = p.lon;
        }
    }
    const char *alone = field_at(r, l, COL_LIVING_ALONE), *consent = field_at(r, l, COL_CONSENT);
    int v;
    if ((v = parse_bool(alone)) < 0)
        local_error(m, "living_alone", "\"%s\" is not yes or no (1/0, true/false, 是/否)", alone);
    in->living_alone = v == 1;
    if ((v = parse_bool(consent)) < 0)
        local_error(m, "consent", "\"%s\" is not yes or no (1/0, true/false, 是/否)", consent);
    in->consent = v == 1;
    /* conditions: "a;b;c", spaces around each trimmed, empty ones dropped */
    char *conds = arena_strdup(a, field_at(r, l, COL_CONDITIONS));
    for (char *save = NULL, *t = conds ? strtok_r(conds, ";", &save) : NULL; t;
         t = strtok_r(NULL, ";", &save)) {
        while (*t == ' ')
            t++;
        size_t n = strlen(t);
        while (n && t[n - 1] == ' ')
            t[--n] = '\0';
        if (!n)
            continue;
        if (in->nconditions == PERSON_CONDITIONS_MAX) {
            local_error(m, "conditions", "%s", "more than 16 conditions");
            break;
        }
        in->conditions[in->nconditions++] = t;
    }
    /* contacts: each numbered group with anything in it, in their order */
    for (int k = 0; k < PERSON_CONTACTS_MAX; k++) {
        const char *name = field_at(r, l, COL_CONTACTS + 3 * k),
                   *rel = field_at(r, l, COL_CONTACTS + 3 * k + 1),
                   *phone = field_at(r, l, COL_CONTACTS + 3 * k + 2);
        if (!*name && !*rel && !*phone)
            continue;
        m->contact_no[in->ncontacts] = k + 1;
        struct contact_in *c = &in->contacts[in->ncontacts++];
        c->name = arena_strdup(a, name);
        c->relation = arena_strdup(a, rel);
        c->phone = arena_strdup(a, phone);
    }
}

/* The CSV column for a field the domain named as the API does. */
static void csv_field_name(const char *field, const struct row_meta *m, char *out, size_t size)
{
    int k;
    char part[32];
    if (!strncmp(field, "home.", 5))
        snprintf(out, size, "%s", field + 5);
    else if (!strncmp(field, "conditions", 10))
        snprintf(out, size, "conditions");
    else if (sscanf(field, "emergency_contacts[%d].%31s", &k, part) == 2 && k >= 0 &&
             k < PERSON_CONTACTS_MAX)
        snprintf(out, size, "contact%d_%s", m->contact_no[k], part);
    else
        snprintf(out, size, "%s", field);
}

/* ---- pass 1: check ---- */

struct check_state {
    struct row_meta *meta; /* of the current chunk */
    size_t flushed;        /* rows of the chunk whose local problems are printed */
    long *bad_lines;       /* every bad line of the file, ascending */
    size_t nbad, cap_bad;
    int64_t problems;
    int quiet_after; /* stop printing after this many problems */
};

static void print_problem(struct check_state *s, const char *text)
{
    if (s->problems++ < s->quiet_after)
        fprintf(stderr, "%s\n", text);
}

static void flush_local(struct check_state *s, size_t upto)
{
    for (; s->flushed < upto; s->flushed++)
        for (int i = 0; i < s->meta[s->flushed].nlocal; i++)
            print_problem(s, s->meta[s->flushed].local[i]);
}

static void on_bad_row(void *ctx, size_t index, const char *field, const char *reason)
{
    struct check_state *s = ctx;
    flush_local(s, index + 1);
    if (s->meta[index].malformed)
        return; /* its reason was given; the placeholder fields mean nothing */
    char col[48], text[320];
    csv_field_name(field, &s->meta[index], col, sizeof col);
    snprintf(text, sizeof text, "line %ld, field %s: %s", s->meta[index].line, col, reason);
    print_problem(s, text);
}

static int remember_bad(struct check_state *s, long line)
{
    if (s->nbad == s->cap_bad) {
        size_t cap = s->cap_bad ? s->cap_bad * 2 : 256;
        long *p = realloc(s->bad_lines, cap * sizeof *p);
        if (!p)
            return -1;
        s->bad_lines = p;
        s->cap_bad = cap;
    }
    s->bad_lines[s->nbad++] = line;
    return 0;
}

struct chunk {
    struct person_in *rows;
    struct row_meta *meta;
    long *lines;
    bool *bad;
    size_t n;
    struct arena arena;
};

static int check_chunk(struct people_importer *im, struct chunk *ch, struct check_state *s)
{
    struct linli_err err;
    linli_err_clear(&err);
    s->meta = ch->meta;
    s->flushed = 0;
    /* Malformed records take part as empty rows so the indexes line up;
     * their only report is the reason they could not be read. */
    if (people_importer_check(im, ch->rows, ch->n, ch->lines, ch->bad, on_bad_row, s, &err))
        return cli_report(&err);
    flush_local(s, ch->n);
    for (size_t i = 0; i < ch->n; i++)
        if ((ch->bad[i] || ch->meta[i].nlocal) && remember_bad(s, ch->lines[i]))
            return cli_die("out of memory");
    return 0;
}

static bool is_blank_record(const struct csv_reader *r)
{
    return r->nfields == 1 && !r->fields[0][0];
}

/* Reads the next record into chunk slot ch->n (arena copies); returns 1 for a
 * row (maybe malformed), 0 at the end of the file. */
static int next_row(struct csv_reader *r, const struct layout *l, bool gcj02, struct chunk *ch)
{
    for (;;) {
        const char *why;
        int got = csv_next(r, &why);
        if (got == 0)
            return 0;
        struct row_meta *m = &ch->meta[ch->n];
        memset(m, 0, sizeof *m);
        m->line = r->lineno;
        ch->lines[ch->n] = r->lineno;
        if (got > 0 && is_blank_record(r))
            continue;
        if (got < 0 || r->nfields != l->nfields) {
            char reason[96];
            if (got < 0)
                snprintf(reason, sizeof reason, "%s", why);
            else
                snprintf(reason, sizeof reason, "has %d fields where the header has %d", r->nfields,
                         l->nfields);
            snprintf(m->local[0], sizeof m->local[0], "line %ld: %s", m->line, reason);
            m->nlocal = 1;
            m->malformed = true;
            memset(&ch->rows[ch->n], 0, sizeof ch->rows[0]);
            ch->rows[ch->n].name = "?";
            ch->rows[ch->n].community_code = "?";
        } else {
            decode_row(r, l, gcj02, &ch->arena, &ch->rows[ch->n], m);
        }
        ch->n++;
        return 1;
    }
}

static void chunk_reset(struct chunk *ch)
{
    arena_free(&ch->arena);
    arena_init(&ch->arena, 256 * 1024);
    ch->n = 0;
}

static int chunk_alloc(struct chunk *ch, size_t cap)
{
    memset(ch, 0, sizeof *ch);
    ch->rows = calloc(cap, sizeof *ch->rows);
    ch->meta = calloc(cap, sizeof *ch->meta);
    ch->lines = calloc(cap, sizeof *ch->lines);
    ch->bad = calloc(cap, sizeof *ch->bad);
    arena_init(&ch->arena, 256 * 1024);
    return ch->rows && ch->meta && ch->lines && ch->bad ? 0 : -1;
}

static void chunk_free(struct chunk *ch)
{
    free(ch->rows);
    free(ch->meta);
    free(ch->lines);
    free(ch->bad);
    arena_free(&ch->arena);
}

/* ---- the command ---- */

struct import_run {
    const char *path;
    FILE *f;
    long size;
    struct layout layout;
    bool gcj02, skip_bad;
    struct chunk ch;
    struct check_state s;
    size_t rows;
};

static int pass_check(struct people_importer *im, struct import_run *run)
{
    struct csv_reader r;
    csv_init(&r, run->f, PEOPLE_CSV_MAX_LINE);
    int rc = read_header(&r, run->path, &run->layout);
    struct progress p;
    progress_start(&p, "checking (bytes)", run->size);
    while (!rc) {
        int more = next_row(&r, &run->layout, run->gcj02, &run->ch);
        if (more)
            run->rows++;
        if (run->ch.n == PEOPLE_IMPORT_BATCH || (!more && run->ch.n)) {
            rc = check_chunk(im, &run->ch, &run->s);
            chunk_reset(&run->ch);
            progress_update(&p, ftell(run->f));
        }
        if (!more)
            break;
    }
    if (!rc)
        progress_finish(&p);
    csv_free(&r);
    return rc;
}

static bool line_is_bad(const struct check_state *s, size_t *cursor, long line)
{
    while (*cursor < s->nbad && s->bad_lines[*cursor] < line)
        (*cursor)++;
    return *cursor < s->nbad && s->bad_lines[*cursor] == line;
}

static int write_chunk(struct people_importer *im, struct chunk *ch)
{
    struct linli_err err;
    linli_err_clear(&err);
    size_t failed = 0;
    if (people_importer_write(im, ch->rows, ch->n, &failed, &err) == LINLI_OK)
        return 0;
    if (failed < ch->n && (err.status == LINLI_EINVAL || err.status == LINLI_ECONFLICT)) {
        for (int i = 0; i < err.nfields; i++) {
            char col[48];
            csv_field_name(err.fields[i].field, &ch->meta[failed], col, sizeof col);
            fprintf(stderr, "line %ld, field %s: %s\n", ch->meta[failed].line, col,
                    err.fields[i].message);
        }
    }
    return cli_report(&err);
}

static int pass_write(struct people_importer *im, struct import_run *run)
{
    if (fseek(run->f, 0, SEEK_SET) != 0)
        return cli_die("%s: cannot read it again: %s", run->path, strerror(errno));
    struct csv_reader r;
    csv_init(&r, run->f, PEOPLE_CSV_MAX_LINE);
    struct layout again;
    int rc = read_header(&r, run->path, &again);
    size_t cursor = 0, total = run->rows - run->s.nbad;
    struct progress p;
    progress_start(&p, "importing", (int64_t)total);
    while (!rc) {
        int more = next_row(&r, &again, run->gcj02, &run->ch);
        if (more && line_is_bad(&run->s, &cursor, run->ch.lines[run->ch.n - 1]))
            run->ch.n--; /* the arena keeps its copies until the chunk is reset */
        if (run->ch.n == PEOPLE_IMPORT_BATCH || (!more && run->ch.n)) {
            rc = write_chunk(im, &run->ch);
            chunk_reset(&run->ch);
            progress_update(&p, (int64_t)people_importer_written(im));
        }
        if (!more)
            break;
    }
    if (!rc)
        progress_finish(&p);
    csv_free(&r);
    return rc;
}

int cli_import_people(struct cli *c, int argc, char **argv)
{
    if (cli_check_opts(argc, argv, (const char *const[]){"--skip-bad", "--crs=", NULL}))
        return 1;
    struct import_run run = {.s.quiet_after = PROBLEMS_SHOWN};
    const char *crs = cli_opt(argc, argv, "--crs");
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--crs"))
            i++;
        else if (argv[i][0] != '-' && !run.path)
            run.path = argv[i];
        else if (strcmp(argv[i], "--skip-bad"))
            return cli_die("usage: linli import people FILE [--skip-bad] [--crs wgs84|gcj02]");
    }
    if (!run.path)
        return cli_die("usage: linli import people FILE [--skip-bad] [--crs wgs84|gcj02]");
    if (crs && strcmp(crs, "wgs84") && strcmp(crs, "gcj02"))
        return cli_die("--crs must be wgs84 or gcj02");
    run.gcj02 = crs && !strcmp(crs, "gcj02");
    run.skip_bad = cli_flag(argc, argv, "--skip-bad");
    struct stat sb;
    if (stat(run.path, &sb) != 0)
        return cli_die("cannot read %s: %s", run.path, strerror(errno));
    if (!S_ISREG(sb.st_mode))
        return cli_die("%s is not a file (the import reads it twice: once to check, once to write)",
                       run.path);
    run.size = (long)sb.st_size;
    run.f = fopen(run.path, "r");
    if (!run.f)
        return cli_die("cannot read %s: %s", run.path, strerror(errno));
    if (chunk_alloc(&run.ch, PEOPLE_IMPORT_BATCH)) {
        fclose(run.f);
        chunk_free(&run.ch);
        return cli_die("out of memory");
    }
    int rc = cli_open(c, 0);
    if (rc) {
        fclose(run.f);
        chunk_free(&run.ch);
        return rc;
    }
    struct linli_err err;
    linli_err_clear(&err);
    struct people_importer *im = NULL;
    int64_t t0 = clock_mono_us();
    if (people_importer_new(&c->d, &c->who, &im, &err))
        rc = cli_report(&err);
    if (!rc)
        rc = pass_check(im, &run);
    if (!rc && run.s.problems > run.s.quiet_after)
        fprintf(stderr, "... and %lld more problems\n",
                (long long)(run.s.problems - run.s.quiet_after));
    if (!rc && run.s.nbad && !run.skip_bad)
        rc = cli_die("%zu of %zu rows in %s are bad; nothing was imported "
                     "(fix them, or import the others with --skip-bad)",
                     run.s.nbad, run.rows, run.path);
    int64_t t1 = clock_mono_us();
    if (!rc)
        rc = pass_write(im, &run);
    int64_t t2 = clock_mono_us();
    size_t written = im ? people_importer_written(im) : 0;
    if (!rc) {
        double secs = (double)(t2 - t0) / 1e6;
        printf("Imported %zu people from %s (%zu bad rows skipped) in %.1f s: %.0f rows/s "
               "(checking %.1f s, writing %.1f s).\n",
               written, run.path, run.s.nbad, secs, secs > 0 ? (double)written / secs : 0.0,
               (double)(t1 - t0) / 1e6, (double)(t2 - t1) / 1e6);
    } else if (written) {
        fprintf(stderr, "linli: %zu people were imported before the failure; the rest were not\n",
                written);
    }
    people_importer_free(im);
    cli_close(c);
    fclose(run.f);
    chunk_free(&run.ch);
    free(run.s.bad_lines);
    return rc;
}

/* ---- export ---- */

struct export_out {
    FILE *f;
    int ncontacts;
};

static void write_text(FILE *f, const char *s)
{
    csv_write_field(f, s, 0);
}

static int export_row(void *ctx, const struct person *p)
{
    struct export_out *o = ctx;
    FILE *f = o->f;
    char num[32];
    write_text(f, p->name);
    write_text(f, p->id_number);
    write_text(f, p->phone);
    write_text(f, p->address);
    if (p->has_home) {
        snprintf(num, sizeof num, "%.7f", p->lat);
        write_text(f, num);
        snprintf(num, sizeof num, "%.7f", p->lon);
        write_text(f, num);
    } else {
        write_text(f, "");
        write_text(f, "");
    }
    write_text(f, p->community_code);
    write_text(f, p->living_alone ? "1" : "0");
    write_text(f, people_care_level_name(p->care_level));
    write_text(f, p->disability);
    write_text(f, p->subsidy_class);
    char conds[PERSON_CONDITIONS_MAX * TEXT_SIZE(PERSON_CONDITION_MAX) + PERSON_CONDITIONS_MAX];
    size_t at = 0;
    conds[0] = '\0';
    for (int i = 0; i < p->nconditions; i++)
        at +=
            (size_t)snprintf(conds + at, sizeof conds - at, "%s%s", i ? ";" : "", p->conditions[i]);
    write_text(f, conds);
    for (int i = 0; i < o->ncontacts; i++) {
        const struct contact *ct = i < p->ncontacts ? &p->contacts[i] : NULL;
        write_text(f, ct ? ct->name : "");
        write_text(f, ct ? ct->relation : "");
        write_text(f, ct ? ct->phone : "");
    }
    csv_write_field(f, p->consent ? "1" : "0", 1);
    return ferror(f) ? LINLI_EIO : LINLI_OK;
}

int cli_export_people(struct cli *c, int argc, char **argv)
{
    if (cli_check_opts(argc, argv, (const char *const[]){"--community=", NULL}))
        return 1;
    const char *area = cli_opt(argc, argv, "--community");
    const char *path = NULL;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--community"))
            i++;
        else if (!path && (argv[i][0] != '-' || !strcmp(argv[i], "-")))
            path = argv[i];
        else
            return cli_die("usage: linli export people [--community CODE] [FILE|-]");
    }
    bool to_stdout = !path || !strcmp(path, "-");
    if (cli_open(c, 0))
        return 1;
    struct linli_err err;
    linli_err_clear(&err);
    struct export_out o = {NULL, 0};
    int rc = people_max_contacts(&c->d, &o.ncontacts, &err);
    if (rc) {
        cli_close(c);
        return cli_report(&err);
    }
    if (o.ncontacts < 2)
        o.ncontacts = 2;
    char tmp[4096];
    if (to_stdout) {
        o.f = stdout;
    } else {
        /* Written beside the target and renamed: a reader never sees half a file. */
        snprintf(tmp, sizeof tmp, "%s.part", path);
        o.f = fopen(tmp, "w");
        if (!o.f) {
            cli_close(c);
            return cli_die("cannot write %s: %s", tmp, strerror(errno));
        }
    }
    for (size_t i = 0; i < NBASE; i++)
        csv_write_field(o.f, base_columns[i], 0);
    for (int k = 0; k < o.ncontacts; k++)
        fprintf(o.f, "contact%d_name,contact%d_relation,contact%d_phone,", k + 1, k + 1, k + 1);
    csv_write_field(o.f, "consent", 1);
    int64_t count = 0;
    rc = people_export(&c->d, &c->who, area, export_row, &o, &count, &err);
    cli_close(c);
    if (rc == LINLI_EIO && !err.detail[0])
        linli_fail(&err, LINLI_EIO, "writing the export failed: %s", strerror(errno));
    if (!to_stdout) {
        if (fclose(o.f) != 0 && !rc)
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
            "Exported %lld people%s%s to %s (ID numbers and phones unmasked; the audit "
            "log has the export).\n",
            (long long)count, area ? " of " : "", area ? area : "", to_stdout ? "stdout" : path);
    return 0;
}
