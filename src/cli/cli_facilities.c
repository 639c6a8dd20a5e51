/* cli_facilities.c - linli import facilities / linli export facilities: the
 * elderly-service directory as CSV (UTF-8, one header line):
 *
 *   kind,name,operator_type,status,registration,address,lat,lon,crs,area_code,
 *   phone,hours,closures,capacity,beds_total,beds_free,rating,consortium,services
 *
 * The structured cells have text forms of their own: `hours` is the form of
 * hours_parse_week ("mon-fri 08:00-20:00; sat 09:00-17:00"), `closures` is
 * "2026-10-01..2026-10-07 国庆; 2027-02-05..2027-02-11 春节" (parsed here),
 * `services` is a JSON array in the API's shape, `crs` says whether the row's
 * lat/lon are WGS-84 (the default) or GCJ-02.
 *
 * An import decodes every row, then lets the domain check them all before
 * anything is written, and reports each problem as "line N, field F:
 * reason". A file with bad rows changes nothing unless --skip-bad is given.
 * A row naming a facility that exists (same name and area) replaces it.
 *
 * Export writes what import reads: export, import into a fresh database and
 * export again gives the same file. Text cells that a spreadsheet would take
 * for a formula (beginning with = + - @, a tab or a carriage return) are
 * written with a leading single quote, and so is text that begins with a
 * quote itself; import removes one such guard quote (a quote followed by one
 * of those characters), so the guard is undone exactly. */
#include "cli/cli.h"

#include "base/arena.h"
#include "base/csv.h"
#include "domain/directory.h"
#include "geo/geo.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FACILITIES_CSV_MAX_LINE    65536 /* bytes of one record (services can be long) */
#define FACILITIES_EXPORT_PAGE     FACILITIES_PAGE_MAX
#define HOURS_TEXT_MAX             1024 /* bytes of a formatted week */
#define FORMULA_CHARS              "=+-@\t\r"
#define GUARD_QUOTE                '\''

enum col {
    C_KIND,
    C_NAME,
    C_OPERATOR,
    C_STATUS,
    C_REGISTRATION,
    C_ADDRESS,
    C_LAT,
    C_LON,
    C_CRS,
    C_AREA,
    C_PHONE,
    C_HOURS,
    C_CLOSURES,
    C_CAPACITY,
    C_BEDS_TOTAL,
    C_BEDS_FREE,
    C_RATING,
    C_CONSORTIUM,
    C_SERVICES,
    NCOLS
};
static const char *const columns[NCOLS] = {
    "kind",      "name",   "operator_type", "status",   "registration",
    "address",   "lat",    "lon",           "crs",      "area_code",
    "phone",     "hours",  "closures",      "capacity", "beds_total",
    "beds_free", "rating", "consortium",    "services"};
/* Columns a file must have: without them no row can be right. */
static const enum col required[] = {C_KIND, C_NAME, C_OPERATOR, C_AREA, C_LAT, C_LON};
/* Numeric columns are written as they are; every other cell is text and
 * carries the formula guard. */
static bool is_text_column(int k)
{
    return k != C_LAT && k != C_LON && k != C_CAPACITY && k != C_BEDS_TOTAL && k != C_BEDS_FREE &&
           k != C_RATING;
}

/* ---- the formula guard ---- */

static bool guard_needed(const char *s)
{
    return s && *s && (strchr(FORMULA_CHARS, *s) || *s == GUARD_QUOTE);
}

/* The text without its guard quote (a quote followed by a formula character
 * or by another quote); any other text is returned as is. */
static const char *guard_strip(const char *s)
{
    if (s[0] == GUARD_QUOTE && s[1] && (strchr(FORMULA_CHARS, s[1]) || s[1] == GUARD_QUOTE))
        return s + 1;
    return s;
}

/* Writes one cell; a text cell that needs the guard is written quoted, with
 * the guard quote inside (valid CSV whatever it holds, and no copy). */
static void write_cell(FILE *out, int k, const char *v)
{
    int last = k == NCOLS - 1;
    if (!is_text_column(k) || !guard_needed(v)) {
        csv_write_field(out, v ? v : "", last);
        return;
    }
    fputc('"', out);
    fputc(GUARD_QUOTE, out);
    for (const char *p = v; *p; p++) {
        if (*p == '"')
            fputc('"', out);
        fputc(*p, out);
    }
    fputc('"', out);
    fputc(last ? '\n' : ',', out);
}

/* ---- closures: "YYYY-MM-DD..YYYY-MM-DD reason; ..." ----
 *
 * A ';' or a backslash inside a reason is written with a backslash before it
 * ("\;" and "\\"), so every reason comes back from an export as it went in;
 * any other backslash stands for itself. */

/* The end of the item starting at `p`: its unescaped ';' or the end. */
static const char *item_end(const char *p)
{
    for (; *p && *p != ';'; p++)
        if (p[0] == '\\' && (p[1] == ';' || p[1] == '\\'))
            p++;
    return p;
}

/* Copies n bytes of `r` into `out` undoing the escapes; returns the length. */
static size_t unescape_reason(const char *r, size_t n, char *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (r[i] == '\\' && i + 1 < n && (r[i + 1] == ';' || r[i + 1] == '\\'))
            i++;
        out[k++] = r[i];
    }
    out[k] = '\0';
    return k;
}

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Whether `s` is exactly a real date YYYY-MM-DD. */
static bool real_date(const char *s, size_t n)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (n != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (size_t i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return false;
    int y = atoi(s), m = (s[5] - '0') * 10 + (s[6] - '0'), d = (s[8] - '0') * 10 + (s[9] - '0');
    if (y < 1900 || m < 1 || m > 12 || d < 1)
        return false;
    return d <= mdays[m - 1] + (m == 2 && leap(y));
}

static size_t utf8_chars(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

static bool space(char c)
{
    return c == ' ' || c == '\t';
}

/* Parses the closures cell into `out`; "" is none. 0, or -1 with `why`. */
static int closures_parse(const char *text, struct closure *out, int *n, char *why, size_t size)
{
    *n = 0;
    int item = 0;
    for (const char *p = text; *p;) {
        const char *end = item_end(p);
        while (p < end && space(*p))
            p++;
        const char *e = end;
        while (e > p && space(e[-1]))
            e--;
        const char *next = *end ? end + 1 : end;
        if (p == e) { /* an empty item, as after a trailing ';' */
            p = next;
            continue;
        }
        item++;
        if (*n == FACILITY_CLOSURES_MAX) {
            snprintf(why, size, "at most %d closures", FACILITY_CLOSURES_MAX);
            return -1;
        }
        const char *tok_end = p;
        while (tok_end < e && !space(*tok_end))
            tok_end++;
        const char *dots = NULL;
        for (const char *q = p; q + 1 < tok_end; q++)
            if (q[0] == '.' && q[1] == '.') {
                dots = q;
                break;
            }
        const char *from = p, *to = p;
        size_t from_n = (size_t)(tok_end - p), to_n = from_n;
        if (dots) {
            from_n = (size_t)(dots - p);
            to = dots + 2;
            to_n = (size_t)(tok_end - to);
        }
        if (!real_date(from, from_n) || !real_date(to, to_n)) {
            snprintf(why, size, "closure %d: \"%.*s\" is not FROM..TO with real dates (YYYY-MM-DD)",
                     item, (int)(tok_end - p), p);
            return -1;
        }
        struct closure *c = &out[*n];
        memset(c, 0, sizeof *c);
        memcpy(c->from, from, 10);
        memcpy(c->to, to, 10);
        if (strcmp(c->from, c->to) > 0) {
            snprintf(why, size, "closure %d: %s is after %s", item, c->from, c->to);
            return -1;
        }
        const char *r = tok_end;
        while (r < e && space(*r))
            r++;
        char reason[sizeof c->reason * 2];
        size_t rn = (size_t)(e - r);
        if (rn < sizeof reason)
            rn = unescape_reason(r, rn, reason);
        if (rn >= sizeof c->reason || utf8_chars(reason, rn) > FACILITY_CLOSURE_WHY_MAX) {
            snprintf(why, size, "closure %d: the reason is longer than %d characters", item,
                     FACILITY_CLOSURE_WHY_MAX);
            return -1;
        }
        memcpy(c->reason, reason, rn + 1);
        (*n)++;
        p = next;
    }
    return 0;
}

static void closures_format(const struct closure *c, int n, char *out, size_t size)
{
    size_t at = 0;
    out[0] = '\0';
    for (int i = 0; i < n && at < size; i++) {
        at += (size_t)snprintf(out + at, size - at, "%s%s..%s%s", i ? "; " : "", c[i].from,
                               c[i].to, c[i].reason[0] ? " " : "");
        for (const char *r = c[i].reason; *r && at + 2 < size; r++) {
            if (*r == ';' || *r == '\\')
                out[at++] = '\\';
            out[at++] = *r;
        }
        if (at < size)
            out[at] = '\0';
    }
}

/* ---- import ---- */

struct errors {
    struct facility_row_error *v;
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
    struct facility_row_error *x = &e->v[e->n++];
    x->line = line;
    snprintf(x->field, sizeof x->field, "%s", field);
    snprintf(x->message, sizeof x->message, "%s", message);
    return 0;
}

static int by_line(const void *a, const void *b)
{
    const struct facility_row_error *x = a, *y = b;
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
    if (!strcmp(field, "rating_tenths"))
        return "rating";
    return field;
}

/* A coordinate cell: NAN when it is not a number. */
static double coordinate(const char *text)
{
    if (!*text)
        return NAN;
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    return errno || *end ? NAN : v;
}

struct import_args {
    const char *path;
    bool skip_bad, dry_run;
};

#define IMPORT_USAGE "usage: linli import facilities FILE [--skip-bad] [--dry-run]"

static int parse_import_args(int argc, char **argv, struct import_args *a)
{
    memset(a, 0, sizeof *a);
    if (cli_check_opts(argc, argv, (const char *const[]){"--skip-bad", "--dry-run", NULL}))
        return 1;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--skip-bad"))
            a->skip_bad = true;
        else if (!strcmp(argv[i], "--dry-run"))
            a->dry_run = true;
        else if (a->path)
            return cli_die("unexpected argument %s (" IMPORT_USAGE ")", argv[i]);
        else
            a->path = argv[i];
    }
    if (!a->path)
        return cli_die(IMPORT_USAGE);
    return 0;
}

/* The rows as read: `rows[i]` came from line `lines[i]`; `bad[i]` when a
 * cell could not be decoded (the problem is in `errors`). */
struct parsed {
    struct facility_in *rows;
    long *lines;
    bool *bad;
    bool *bad_point; /* lat or lon was no number */
    size_t n, cap;
    size_t nbad;
    struct arena strings; /* the rows' text */
    struct errors errors; /* problems found while reading */
    int unreadable;       /* lines that were no row at all */
};

static void parsed_free(struct parsed *p)
{
    free(p->rows);
    free(p->lines);
    free(p->bad);
    free(p->bad_point);
    free(p->errors.v);
    arena_free(&p->strings);
}

static int grow(struct parsed *p)
{
    size_t cap = p->cap ? p->cap * 2 : 64;
    if (cap > FACILITY_IMPORT_MAX)
        cap = FACILITY_IMPORT_MAX;
    void *r = realloc(p->rows, cap * sizeof *p->rows);
    if (!r)
        return -1;
    p->rows = r;
    void *l = realloc(p->lines, cap * sizeof *p->lines);
    if (!l)
        return -1;
    p->lines = l;
    void *b = realloc(p->bad, cap * sizeof *p->bad);
    if (!b)
        return -1;
    p->bad = b;
    void *bp = realloc(p->bad_point, cap * sizeof *p->bad_point);
    if (!bp)
        return -1;
    p->bad_point = bp;
    p->cap = cap;
    return 0;
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
            return cli_die("%s line 1: unknown column \"%s\" (the columns are kind, name, "
                           "operator_type, status, registration, address, lat, lon, crs, "
                           "area_code, phone, hours, closures, capacity, beds_total, beds_free, "
                           "rating, consortium, services)",
                           path, r->fields[i]);
        if (col[k] >= 0)
            return cli_die("%s line 1: the column \"%s\" appears twice", path, columns[k]);
        col[k] = i;
    }
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        if (col[required[i]] < 0)
            return cli_die("%s line 1: the header lacks the column \"%s\"", path,
                           columns[required[i]]);
    *ncols = r->nfields;
    return 0;
}

/* What one record is being decoded from. */
struct record {
    struct parsed *p;
    const struct csv_reader *r;
    const int *col;
    size_t index; /* into p->rows */
    int rc;       /* -1 once out of memory */
};

/* The cell of column k without its guard quote; "" when the column is absent. */
static const char *raw(const struct record *x, int k)
{
    if (x->col[k] < 0)
        return "";
    const char *v = x->r->fields[x->col[k]];
    return is_text_column(k) ? guard_strip(v) : v;
}

/* A text cell kept in the arena; NULL when empty or absent. */
static const char *text(struct record *x, int k)
{
    const char *v = raw(x, k);
    if (!*v)
        return NULL;
    char *s = arena_strdup(&x->p->strings, v);
    if (!s)
        x->rc = -1;
    return s;
}

static void row_error(struct record *x, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void row_error(struct record *x, const char *field, const char *fmt, ...)
{
    char msg[192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!x->p->bad[x->index]) {
        x->p->bad[x->index] = true;
        x->p->nbad++;
    }
    if (add_error(&x->p->errors, x->r->lineno, field, msg))
        x->rc = -1;
}

/* A whole number >= 0 from column k; -1 when empty, or when it is not one
 * (reported). */
static int count_cell(struct record *x, int k)
{
    const char *v = raw(x, k);
    if (!*v)
        return -1;
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || *end || end == v || n < 0 || n > 1000000000) {
        row_error(x, columns[k], "\"%s\" is not a whole number of 0 or more", v);
        return -1;
    }
    return (int)n;
}

/* Stars 0..5 with at most one decimal, as tenths; -1 when empty or bad
 * (reported). */
static int rating_cell(struct record *x)
{
    const char *v = raw(x, C_RATING);
    if (!*v)
        return -1;
    char *end;
    errno = 0;
    double stars = strtod(v, &end);
    const char *dot = strchr(v, '.');
    if (errno || *end || end == v || !(stars >= 0 && stars <= 5) || (dot && strlen(dot) > 2)) {
        row_error(x, "rating", "\"%s\" is not a rating from 0 to 5 with at most one decimal", v);
        return -1;
    }
    return (int)lround(stars * 10);
}

static void services_cell(struct record *x, struct facility_in *in)
{
    const char *v = raw(x, C_SERVICES);
    if (!*v)
        return;
    json_error_t je;
    json_t *arr = json_loads(v, JSON_REJECT_DUPLICATES, &je);
    if (!arr) {
        row_error(x, "services", "not JSON (column %d: %s)", je.column, je.text);
        return;
    }
    if (!json_is_array(arr)) {
        json_decref(arr);
        row_error(x, "services", "must be a JSON array of services");
        return;
    }
    struct linli_err err;
    linli_err_clear(&err);
    if (services_from_json(arr, "services", in->services, &in->nservices, &err)) {
        for (int i = 0; i < err.nfields; i++)
            row_error(x, err.fields[i].field, "%s", err.fields[i].message);
        if (!err.nfields)
            row_error(x, "services", "%s",
                      err.detail[0] ? err.detail : linli_status_name(err.status));
        in->nservices = 0;
    }
    json_decref(arr);
}

/* Decodes one record into p->rows[index]. */
static void decode(struct record *x)
{
    struct facility_in *in = &x->p->rows[x->index];
    memset(in, 0, sizeof *in);
    in->kind = text(x, C_KIND);
    in->operator_type = text(x, C_OPERATOR);
    in->status = text(x, C_STATUS);
    in->name = text(x, C_NAME);
    in->registration = text(x, C_REGISTRATION);
    in->address = text(x, C_ADDRESS);
    in->area_code = text(x, C_AREA);
    in->phone = text(x, C_PHONE);
    in->consortium = text(x, C_CONSORTIUM);

    const char *crs = raw(x, C_CRS);
    bool gcj02 = !strcmp(crs, "gcj02");
    if (*crs && !gcj02 && strcmp(crs, "wgs84") != 0)
        row_error(x, "crs", "\"%s\" is not wgs84 or gcj02", crs);
    const char *lat = raw(x, C_LAT), *lon = raw(x, C_LON);
    if (*lat || *lon) {
        in->has_point = true;
        in->point.lat = coordinate(lat);
        in->point.lon = coordinate(lon);
        if (*lat && !isfinite(in->point.lat))
            row_error(x, "lat", "\"%s\" is not a number", lat);
        if (*lon && !isfinite(in->point.lon))
            row_error(x, "lon", "\"%s\" is not a number", lon);
        x->p->bad_point[x->index] =
            (*lat && !isfinite(in->point.lat)) || (*lon && !isfinite(in->point.lon));
        if (gcj02 && isfinite(in->point.lat) && isfinite(in->point.lon))
            in->point = geo_gcj02_to_wgs84(in->point);
    }

    char why[160];
    const char *hours = raw(x, C_HOURS);
    if (*hours && hours_parse_week(hours, &in->hours, why, sizeof why) != 0) {
        row_error(x, "hours", "%s", why);
        memset(&in->hours, 0, sizeof in->hours);
    }
    if (closures_parse(raw(x, C_CLOSURES), in->closures, &in->nclosures, why, sizeof why)) {
        row_error(x, "closures", "%s", why);
        in->nclosures = 0;
    }
    in->capacity = count_cell(x, C_CAPACITY);
    in->beds_total = count_cell(x, C_BEDS_TOTAL);
    in->beds_free = count_cell(x, C_BEDS_FREE);
    in->rating_tenths = rating_cell(x);
    services_cell(x, in);
}

static int read_rows(FILE *f, const struct import_args *a, struct parsed *p)
{
    struct csv_reader r;
    csv_init(&r, f, FACILITIES_CSV_MAX_LINE);
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
        if (p->n == FACILITY_IMPORT_MAX) {
            csv_free(&r);
            return cli_die("%s: more than %d rows", a->path, FACILITY_IMPORT_MAX);
        }
        if (p->n == p->cap && grow(p)) {
            rc = -1;
            break;
        }
        size_t i = p->n++;
        p->lines[i] = r.lineno;
        p->bad[i] = false;
        p->bad_point[i] = false;
        struct record x = {.p = p, .r = &r, .col = col, .index = i};
        decode(&x);
        rc = x.rc;
    }
    csv_free(&r);
    if (rc)
        return cli_die("out of memory");
    return 0;
}

/* Adds the domain's problems to `e`, each on its CSV column; with
 * `only_bad`, just those of rows that could not be decoded. */
static int take_errors(struct errors *e, const struct facility_import_report *rep,
                       const struct parsed *p, bool only_bad)
{
    for (int i = 0; i < rep->nerrors; i++) {
        const struct facility_row_error *x = &rep->errors[i];
        const char *field = csv_field(x->field);
        /* The row of the line: lines only grow. */
        size_t lo = 0, hi = p->n;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (p->lines[mid] < x->line)
                lo = mid + 1;
            else
                hi = mid;
        }
        bool found = lo < p->n && p->lines[lo] == x->line;
        if (only_bad && !(found && p->bad[lo]))
            continue;
        /* A coordinate that was no number is reported already, on its column. */
        if (found && p->bad_point[lo] && !strncmp(field, "lat", 3))
            continue;
        if (add_error(e, x->line, field, x->message))
            return -1;
    }
    return 0;
}

/* How many lines have a problem. */
static long distinct_lines(struct errors *e)
{
    if (e->n)
        qsort(e->v, e->n, sizeof *e->v, by_line);
    long n = 0;
    for (size_t i = 0; i < e->n; i++)
        n += i == 0 || e->v[i].line != e->v[i - 1].line;
    return n;
}

/* Prints every problem, in line order, as "line N, field F: reason". */
static void print_errors(struct errors *e)
{
    if (e->n)
        qsort(e->v, e->n, sizeof *e->v, by_line);
    for (size_t i = 0; i < e->n; i++) {
        const struct facility_row_error *x = &e->v[i];
        if (x->field[0])
            fprintf(stderr, "line %ld, field %s: %s\n", x->line, x->field, x->message);
        else
            fprintf(stderr, "line %ld: %s\n", x->line, x->message);
    }
}

/* Keeps only the rows that decoded cleanly, moved to the front (in place:
 * a row is about 15 KB). */
static void keep_good_rows(struct parsed *p)
{
    size_t n = 0;
    for (size_t i = 0; i < p->n; i++) {
        if (p->bad[i])
            continue;
        if (n != i) {
            p->rows[n] = p->rows[i];
            p->lines[n] = p->lines[i];
            p->bad[n] = false;
            p->bad_point[n] = p->bad_point[i];
        }
        n++;
    }
    p->n = n;
}

/* Runs the import. Rows a cell of which could not be decoded are never
 * written; the domain still checks them (a dry run over every row) so that
 * all of a file's problems are reported at once. */
static int import_rows(struct cli *c, const struct import_args *a, struct parsed *p,
                       struct facility_import_report *rep, long *bad, struct linli_err *err)
{
    struct facility_import_opts o = {
        .skip_bad = a->skip_bad, .dry_run = a->dry_run, .source = a->path};
    *bad = (long)p->nbad + p->unreadable;
    if (p->nbad == 0 && p->unreadable == 0) {
        int rc = facilities_import(&c->d, &c->who, p->rows, p->lines, p->n, &o, rep, err);
        if (take_errors(&p->errors, rep, p, false))
            return linli_fail(err, LINLI_ENOMEM, "out of memory");
        *bad += rep->bad;
        return rc;
    }
    /* The domain's view of every row, written nowhere. */
    struct facility_import_opts check = {.skip_bad = true, .dry_run = true, .source = a->path};
    struct facility_import_report all;
    memset(&all, 0, sizeof all);
    int rc = facilities_import(&c->d, &c->who, p->rows, p->lines, p->n, &check, &all, err);
    if (rc && rc != LINLI_EINVAL) {
        facility_import_report_free(&all);
        return rc;
    }
    linli_err_clear(err);
    if (!a->skip_bad) {
        long domain_bad = all.bad;
        rc = take_errors(&p->errors, &all, p, false);
        facility_import_report_free(&all);
        if (rc)
            return linli_fail(err, LINLI_ENOMEM, "out of memory");
        long rows_bad = distinct_lines(&p->errors);
        if (rows_bad < *bad)
            rows_bad = *bad;
        if (rows_bad < domain_bad)
            rows_bad = domain_bad;
        *bad = rows_bad;
        return linli_fail(err, LINLI_EINVAL, "%ld of %zu rows are bad; nothing was written",
                          rows_bad, p->n + (size_t)p->unreadable);
    }
    /* --skip-bad: the domain's problems with undecodable rows, then the good rows. */
    rc = take_errors(&p->errors, &all, p, true);
    facility_import_report_free(&all);
    if (rc)
        return linli_fail(err, LINLI_ENOMEM, "out of memory");
    keep_good_rows(p);
    rc = facilities_import(&c->d, &c->who, p->rows, p->lines, p->n, &o, rep, err);
    if (take_errors(&p->errors, rep, p, false))
        return linli_fail(err, LINLI_ENOMEM, "out of memory");
    *bad += rep->bad;
    return rc;
}

int cli_import_facilities(struct cli *c, int argc, char **argv)
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
    struct linli_err err;
    linli_err_clear(&err);
    struct facility_import_report rep;
    memset(&rep, 0, sizeof rep);
    long bad = 0;
    int rc = import_rows(c, &a, &p, &rep, &bad, &err);
    cli_close(c);
    print_errors(&p.errors);
    parsed_free(&p);
    if (rc) {
        facility_import_report_free(&rep);
        cli_report(&err);
        if (err.status == LINLI_EINVAL && !a.skip_bad)
            fprintf(stderr, "linli: fix the rows above, or give --skip-bad to import the "
                            "good ones\n");
        return 1;
    }
    if (a.dry_run)
        printf("Checked facilities from %s: %ld good %s to write (%ld to create, %ld to "
               "update), %ld bad %s to skip; nothing was written.\n",
               a.path, rep.rows - rep.bad, rep.rows - rep.bad == 1 ? "row" : "rows", rep.created,
               rep.updated, bad, bad == 1 ? "row" : "rows");
    else
        printf("Imported facilities from %s: %ld created, %ld updated, %ld bad %s skipped.\n",
               a.path, rep.created, rep.updated, bad, bad == 1 ? "row" : "rows");
    facility_import_report_free(&rep);
    return 0;
}

/* ---- export ---- */

static void write_facility(FILE *out, const struct facility *f, bool gcj02)
{
    char lat[32], lon[32], capacity[16] = "", beds_total[16] = "", beds_free[16] = "",
                           rating[16] = "";
    struct geo_point pt = gcj02 ? geo_wgs84_to_gcj02(f->point) : f->point;
    snprintf(lat, sizeof lat, "%.7f", pt.lat);
    snprintf(lon, sizeof lon, "%.7f", pt.lon);
    if (f->capacity >= 0)
        snprintf(capacity, sizeof capacity, "%d", f->capacity);
    if (f->beds_total >= 0)
        snprintf(beds_total, sizeof beds_total, "%d", f->beds_total);
    if (f->beds_free >= 0)
        snprintf(beds_free, sizeof beds_free, "%d", f->beds_free);
    if (f->rating_tenths >= 0)
        snprintf(rating, sizeof rating, "%d.%d", f->rating_tenths / 10, f->rating_tenths % 10);
    char hours[HOURS_TEXT_MAX];
    hours_format_week(&f->hours, hours, sizeof hours);
    char closures[FACILITY_CLOSURES_MAX * (24 + 2 * sizeof f->closures[0].reason) + 1];
    closures_format(f->closures, f->nclosures, closures, sizeof closures);
    char *services = NULL;
    if (f->nservices > 0) {
        json_t *s = services_to_json(f->services, f->nservices);
        services = s ? json_dumps(s, JSON_COMPACT) : NULL;
        json_decref(s);
    }
    const char *v[NCOLS] = {
        [C_KIND] = facility_kind_name(f->kind),
        [C_NAME] = f->name,
        [C_OPERATOR] = operator_type_name(f->operator_type),
        [C_STATUS] = facility_status_name(f->status),
        [C_REGISTRATION] = f->registration,
        [C_ADDRESS] = f->address,
        [C_LAT] = lat,
        [C_LON] = lon,
        [C_CRS] = gcj02 ? "gcj02" : "wgs84",
        [C_AREA] = f->area_code,
        [C_PHONE] = f->phone,
        [C_HOURS] = hours,
        [C_CLOSURES] = closures,
        [C_CAPACITY] = capacity,
        [C_BEDS_TOTAL] = beds_total,
        [C_BEDS_FREE] = beds_free,
        [C_RATING] = rating,
        [C_CONSORTIUM] = f->consortium,
        [C_SERVICES] = services ? services : "",
    };
    for (int k = 0; k < NCOLS; k++)
        write_cell(out, k, v[k]);
    free(services);
}

#define EXPORT_USAGE                                                                               \
    "usage: linli export facilities [FILE|-] [--area CODE] [--kind KIND] [--crs wgs84|gcj02]"

struct export_args {
    const char *path;
    char area[AREA_CODE_LEN + 1];
    bool has_area;
    int kind;
    bool gcj02;
};

static int parse_export_args(int argc, char **argv, struct export_args *a)
{
    memset(a, 0, sizeof *a);
    a->kind = -1;
    if (cli_check_opts(argc, argv, (const char *const[]){"--area=", "--kind=", "--crs=", NULL}))
        return 1;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--crs")) {
            const char *crs = argv[++i];
            if (!strcmp(crs, "gcj02"))
                a->gcj02 = true;
            else if (strcmp(crs, "wgs84") != 0)
                return cli_die("--crs must be wgs84 or gcj02");
        } else if (!strcmp(argv[i], "--area")) {
            const char *why;
            if (area_code_normalize(argv[++i], a->area, &why))
                return cli_die("--area %s: %s", argv[i], why);
            a->has_area = true;
        } else if (!strcmp(argv[i], "--kind")) {
            if (facility_kind_parse(argv[++i], &a->kind))
                return cli_die("--kind %s: not a kind (institution, station, dining_table, "
                               "regional_centre, family_bed_provider, health_centre, provider)",
                               argv[i]);
        } else if (a->path) {
            return cli_die(EXPORT_USAGE);
        } else {
            a->path = argv[i];
        }
    }
    return 0;
}

int cli_export_facilities(struct cli *c, int argc, char **argv)
{
    struct export_args a;
    if (parse_export_args(argc, argv, &a))
        return 1;
    bool to_stdout = !a.path || !strcmp(a.path, "-");
    char tmp[4096];
    FILE *out = stdout;
    if (!to_stdout) {
        /* Written beside the target and renamed into place: never half a file. */
        if (snprintf(tmp, sizeof tmp, "%s.tmp", a.path) >= (int)sizeof tmp)
            return cli_die("%s: the path is too long", a.path);
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
    struct facility_filter f = {.area = a.has_area ? a.area : NULL,
                                .kind = a.kind,
                                .status = -1,
                                .limit = FACILITIES_EXPORT_PAGE};
    struct linli_err err;
    linli_err_clear(&err);
    long total = 0;
    int rc;
    for (;;) {
        struct facility *items;
        int n;
        int64_t next;
        if ((rc = facilities_list(&c->d, &f, &items, &n, &next, &err)))
            break;
        for (int i = 0; i < n; i++)
            write_facility(out, &items[i], a.gcj02);
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
        if (rc || werr || rename(tmp, a.path) != 0) {
            remove(tmp);
            return rc ? cli_report(&err) : cli_die("cannot write %s: %s", a.path, strerror(errno));
        }
    }
    if (rc)
        return cli_report(&err);
    if (werr)
        return cli_die("writing the export failed: %s", strerror(errno));
    fprintf(stderr, "Exported %ld facilities%s%s%s.\n", total, to_stdout ? "" : " to ",
            to_stdout ? "" : a.path, a.gcj02 ? " (coordinates in GCJ-02)" : "");
    return 0;
}
