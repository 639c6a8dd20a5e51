/* directory_bench.c - the service directory at district scale, beside a
 * brute-force scan and beside PostGIS, in one run.
 *
 * In a fresh store under the work directory it imports the Chaoyang areas
 * (with the command line's own code), then generates from a fixed seed the
 * facilities (through facilities_import, 5,000 a call) and the elderly
 * (through people_import), all around community centre points. Then:
 *
 *  - nearest 10 and within 15 minutes from Q random origins, each origin
 *    asked of the three in turn: directory_search (the domain path linlid
 *    takes), a scan of every facility in an array (the same haversine, walk
 *    model and order), and PostGIS through libpq (KNN `<->` and ST_DWithin on
 *    the sphere, prepared statements); p50/p99 of each and whether the
 *    answers agree;
 *  - the whole coverage report (meals, 15 minutes, by street) with
 *    directory_coverage, a scan of every person against every meals
 *    facility, and a count in PostGIS;
 *  - the site plan (10 meals sites, 15 minutes) with community centres and a
 *    500 m grid as candidates, each pick's gain re-counted by a scan.
 *
 * Writes a markdown section (--out) and what the HTTP check needs
 * (--expected: origins, within-15 answers and coverage totals, as JSON).
 * Run by bench/directory_bench.sh, never by the tests; no timing is asserted.
 * Without --pg the PostGIS columns are left out. */
#include "cli/cli.h"

#include "base/idnum.h"
#include "domain/directory.h"
#include "domain/people.h"
#include "domain/registry.h"

#include <libpq-fe.h>

#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define FACILITY_CHUNK     5000   /* rows per facilities_import call */
#define PEOPLE_CHUNK       100000 /* rows per people_import call */
#define NEAREST_K          10
#define WITHIN_MINUTES     15.0
#define WITHIN_LIMIT       DIRECTORY_HITS_MAX
#define WARMUP_QUERIES     20 /* origins asked of every method before timing */
#define COVERAGE_RUNS      3
#define PG_COVERAGE_RUNS   2
#define PLAN_RUNS          2
#define PLAN_SITES         10
#define PLAN_GRID_M        500
#define EXAMPLES_MAX       4
#define TIE_M              1e-9 /* distances this close are a tie for our own two methods */
#define SPHERE_TIE_M       1e-3 /* and against PostGIS, whose sphere formula differs */
#define COVERAGE_SERVICE   "meals"
#define AGE_MIN            60
#define SIGMA_COMMUNITY_M  300.0  /* spread around a community's centre point */
#define SIGMA_STREET_M     900.0  /* around its street's, when it has none */
#define SIGMA_DISTRICT_M   4000.0 /* around the district's, when neither has one */
#define SIGMA_ORIGIN_M     500.0
#define METRES_PER_DEG_LAT 111195.0
#define ID_REGIONS         11
#define ID_DAYS            60000 /* days after 1900-01-01 the sequence table covers */
#define ID_PER_SEX         499

/* ---- settings ---- */

struct opts {
    const char *work, *data, *pg, *out, *expected;
    long facilities, people, queries, brute_every;
    unsigned long long seed;
};

static void usage(void)
{
    fprintf(stderr, "usage: directory_bench --work DIR [--data data/chaoyang] [--pg CONNINFO]\n"
                    "         [--facilities 10000] [--people 1000000] [--queries 2000] [--seed 1]\n"
                    "         [--brute-every 1] [--out FILE.md] [--expected FILE.json]\n");
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
    *o = (struct opts){.data = "data/chaoyang",
                       .facilities = 10000,
                       .people = 1000000,
                       .queries = 2000,
                       .brute_every = 1,
                       .seed = 1};
    static const struct option longs[] = {{"work", required_argument, 0, 'w'},
                                          {"data", required_argument, 0, 'd'},
                                          {"pg", required_argument, 0, 'g'},
                                          {"out", required_argument, 0, 'o'},
                                          {"expected", required_argument, 0, 'e'},
                                          {"facilities", required_argument, 0, 'f'},
                                          {"people", required_argument, 0, 'p'},
                                          {"queries", required_argument, 0, 'q'},
                                          {"brute-every", required_argument, 0, 'b'},
                                          {"seed", required_argument, 0, 's'},
                                          {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        switch (c) {
        case 'w':
            o->work = optarg;
            break;
        case 'd':
            o->data = optarg;
            break;
        case 'g':
            o->pg = optarg;
            break;
        case 'o':
            o->out = optarg;
            break;
        case 'e':
            o->expected = optarg;
            break;
        case 'f':
            o->facilities = atol(optarg);
            break;
        case 'p':
            o->people = atol(optarg);
            break;
        case 'q':
            o->queries = atol(optarg);
            break;
        case 'b':
            o->brute_every = atol(optarg);
            break;
        case 's':
            o->seed = strtoull(optarg, NULL, 10);
            break;
        default:
            usage();
            return -1;
        }
    }
    if (!o->work || o->facilities < 1 || o->people < 1 || o->queries < 1 || o->brute_every < 1) {
        usage();
        return -1;
    }
    return 0;
}

/* ---- small tools ---- */

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "directory_bench: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
}

static int fail(const char *what, const struct linli_err *err)
{
    say("%s: %s", what, err->detail[0] ? err->detail : linli_status_name(err->status));
    for (int i = 0; i < err->nfields; i++)
        fprintf(stderr, "  %s: %s\n", err->fields[i].field, err->fields[i].message);
    return -1;
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p) {
        say("out of memory");
        exit(1);
    }
    return p;
}

/* splitmix64: the same seed gives the same district. */
struct rng {
    uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double rng_unit(struct rng *r) /* [0, 1) */
{
    return (double)(rng_next(r) >> 11) / 9007199254740992.0;
}

static int rng_below(struct rng *r, int n)
{
    return (int)(rng_unit(r) * n);
}

static double rng_normal(struct rng *r)
{
    double u = rng_unit(r), v = rng_unit(r);
    return sqrt(-2 * log(u < 1e-12 ? 1e-12 : u)) * cos(2 * M_PI * v);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Latencies of one method and kind, in milliseconds. */
struct timings {
    double *ms;
    size_t n;
};

static double percentile(const struct timings *t, double p)
{
    if (!t->n)
        return NAN;
    double *s = xcalloc(t->n, sizeof *s);
    memcpy(s, t->ms, t->n * sizeof *s);
    qsort(s, t->n, sizeof *s, cmp_double);
    double k = round(p / 100.0 * (double)(t->n - 1));
    double v = s[(size_t)k];
    free(s);
    return v;
}

static double mean(const struct timings *t)
{
    double sum = 0;
    for (size_t i = 0; i < t->n; i++)
        sum += t->ms[i];
    return t->n ? sum / (double)t->n : NAN;
}

static void format_runs(const double *s, int n, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < n && used < size; i++)
        used += (size_t)snprintf(out + used, size - used, "%s%.2f", i ? " / " : "", s[i]);
}

static double median_of(const double *s, int n)
{
    double c[16];
    memcpy(c, s, (size_t)n * sizeof *c);
    qsort(c, (size_t)n, sizeof *c, cmp_double);
    return n % 2 ? c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2;
}

/* ---- the district ---- */

/* Where a community's facilities and people are placed around. */
struct centre {
    const char *code;
    struct geo_point p;
    double sigma_m;
};

struct fac {
    int64_t id;
    struct geo_point p;
    bool meals;
};

/* An answer: facility ids with their distances from the origin. */
struct answer {
    size_t n;
    int64_t *id;
    double *dist;
};

struct agree {
    long identical, ties, capped, differ;
    int nexamples;
    char examples[EXAMPLES_MAX][240];
};

struct bench {
    struct opts o;
    struct cli cli;
    struct rng rng;
    struct area *communities, *streets, *districts;
    int ncommunities, nstreets, ndistricts;
    struct centre *centres;
    struct fac *facs; /* as stored, by id */
    size_t nfacs, nmeals_facs;
    struct geo_point *meals; /* points of the facilities offering meals */
    struct geo_point *homes; /* every person's home, in import order */
    size_t nhomes;
    uint64_t *covered; /* bit per person: within reach of a meals facility (the scan) */
    bool covered_known;
    struct geo_point *origins;
    struct walk_model walk;
    double reach_m;
    PGconn *pg;
    FILE *md;
    double facilities_s, people_s, people_check_s, load_ms;
    double pg_load_s[5];
};

static int load_level(struct bench *b, int level, struct area **out, int *n)
{
    *out = NULL;
    *n = 0;
    const char *after = NULL;
    char cursor[AREA_CODE_LEN + 1];
    for (;;) {
        struct area_filter f = {.level = level, .limit = 1000, .after_code = after};
        struct area *page;
        int np;
        bool more;
        struct linli_err err;
        linli_err_clear(&err);
        if (registry_list(&b->cli.d, &b->cli.who, &f, &page, &np, &more, &err))
            return fail("listing areas", &err);
        struct area *grown = realloc(*out, (size_t)(*n + np + 1) * sizeof *grown);
        if (!grown) {
            free(page);
            say("out of memory");
            return -1;
        }
        *out = grown;
        memcpy(*out + *n, page, (size_t)np * sizeof *page);
        *n += np;
        free(page);
        if (!more || np == 0)
            return 0;
        snprintf(cursor, sizeof cursor, "%s", (*out)[*n - 1].code);
        after = cursor;
    }
}

/* A community's own point, else its street's, else the district's. */
static int make_centres(struct bench *b)
{
    if (load_level(b, 0, &b->districts, &b->ndistricts) ||
        load_level(b, 1, &b->streets, &b->nstreets) ||
        load_level(b, 2, &b->communities, &b->ncommunities))
        return -1;
    if (b->ncommunities == 0 || b->ndistricts == 0) {
        say("no communities in the area list");
        return -1;
    }
    b->centres = xcalloc((size_t)b->ncommunities, sizeof *b->centres);
    for (int i = 0; i < b->ncommunities; i++) {
        const struct area *a = &b->communities[i];
        struct centre *c = &b->centres[i];
        c->code = a->code;
        c->p = b->districts[0].point;
        c->sigma_m = SIGMA_DISTRICT_M;
        if (a->has_point) {
            c->p = a->point;
            c->sigma_m = SIGMA_COMMUNITY_M;
            continue;
        }
        for (int k = 0; k < b->nstreets; k++) {
            if (!strcmp(b->streets[k].code, a->parent_code) && b->streets[k].has_point) {
                c->p = b->streets[k].point;
                c->sigma_m = SIGMA_STREET_M;
            }
        }
    }
    return 0;
}

static struct geo_point scatter(struct rng *r, struct geo_point c, double sigma_m)
{
    double m_per_deg_lon = METRES_PER_DEG_LAT * cos(c.lat * M_PI / 180);
    return (struct geo_point){c.lat + rng_normal(r) * sigma_m / METRES_PER_DEG_LAT,
                              c.lon + rng_normal(r) * sigma_m / m_per_deg_lon};
}

/* ---- facilities ---- */

/* The mix of kinds, the share of each offering meals, and a second service. */
static const struct {
    int kind;
    double share, meals;
    const char *other;
    int other_unit;
} KINDS[] = {
    {FACILITY_STATION, 0.30, 0.45, "day_care", UNIT_DAY},
    {FACILITY_DINING, 0.15, 1.00, "meal_delivery", UNIT_MEAL},
    {FACILITY_INSTITUTION, 0.10, 0.25, "residential_care", UNIT_MONTH},
    {FACILITY_REGIONAL_CENTRE, 0.02, 0.60, "day_care", UNIT_DAY},
    {FACILITY_FAMILY_BED, 0.10, 0.00, "family_bed", UNIT_MONTH},
    {FACILITY_HEALTH, 0.08, 0.00, "chronic_care", UNIT_VISIT},
    {FACILITY_PROVIDER, 0.25, 0.00, "cleaning", UNIT_HOUR},
};
#define NKINDS (sizeof KINDS / sizeof KINDS[0])

typedef char facility_name[FACILITY_NAME_MAX * 4 + 1];

/* Facility i (0-based) into `in`; its name lives in `name`. */
static void make_facility(struct bench *b, long i, struct facility_in *in, char *name)
{
    struct rng *r = &b->rng;
    memset(in, 0, sizeof *in);
    double u = rng_unit(r), acc = 0;
    size_t k = 0;
    for (; k < NKINDS - 1; k++) {
        acc += KINDS[k].share;
        if (u < acc)
            break;
    }
    const struct centre *c = &b->centres[rng_below(r, b->ncommunities)];
    snprintf(name, sizeof(facility_name), "%s%ld号", facility_kind_label(KINDS[k].kind), i + 1);
    in->kind = facility_kind_name(KINDS[k].kind);
    in->operator_type = operator_type_name(rng_below(r, OPERATOR_TYPES));
    in->name = name;
    in->area_code = c->code;
    in->has_point = true;
    in->point = scatter(r, c->p, c->sigma_m);
    bool all_day = KINDS[k].kind == FACILITY_INSTITUTION || KINDS[k].kind == FACILITY_FAMILY_BED;
    for (int d = 0; d < 7; d++) {
        in->hours.nspans[d] = 1;
        in->hours.spans[d][0] =
            all_day ? (struct time_span){0, 1440} : (struct time_span){420, 1200}; /* 07:00-20:00 */
    }
    in->capacity = 20 + rng_below(r, 180);
    in->beds_total = in->beds_free = in->rating_tenths = -1;
    if (KINDS[k].kind == FACILITY_INSTITUTION) {
        in->beds_total = 50 + rng_below(r, 250);
        in->beds_free = rng_below(r, in->beds_total / 5 + 1);
    }
    if (rng_unit(r) < KINDS[k].meals) {
        struct facility_service *s = &in->services[in->nservices++];
        snprintf(s->code, sizeof s->code, "meals");
        s->price_fen = 800 + 100 * rng_below(r, 13); /* 8-20 yuan a meal */
        s->unit = UNIT_MEAL;
        s->age_min = AGE_MIN;
        s->nrules = 1;
        struct subsidy_rule *rule = &s->rules[0];
        snprintf(rule->label, sizeof rule->label, "低保老人半价");
        rule->classes = 1u << SUBSIDY_DIBAO;
        rule->percent_off = 50;
        rule->pay_fen = -1;
    }
    struct facility_service *s = &in->services[in->nservices++];
    snprintf(s->code, sizeof s->code, "%s", KINDS[k].other);
    s->price_fen = 100 * (20 + rng_below(r, 200));
    s->unit = KINDS[k].other_unit;
}

static int import_facilities(struct bench *b)
{
    facility_name *names = xcalloc(FACILITY_CHUNK, sizeof *names);
    struct facility_in *in = xcalloc(FACILITY_CHUNK, sizeof *in);
    double t0 = now_ms();
    for (long done = 0; done < b->o.facilities;) {
        size_t n = (size_t)(b->o.facilities - done < FACILITY_CHUNK ? b->o.facilities - done
                                                                    : FACILITY_CHUNK);
        for (size_t i = 0; i < n; i++)
            make_facility(b, done + (long)i, &in[i], names[i]);
        struct facility_import_opts o = {.source = "directory_bench"};
        struct facility_import_report rep;
        struct linli_err err;
        linli_err_clear(&err);
        int rc = facilities_import(&b->cli.d, &b->cli.who, in, NULL, n, &o, &rep, &err);
        for (int e = 0; rc && e < rep.nerrors && e < 5; e++)
            say("facility row %ld, %s: %s", rep.errors[e].line, rep.errors[e].field,
                rep.errors[e].message);
        facility_import_report_free(&rep);
        if (rc) {
            free(names);
            free(in);
            return fail("importing facilities", &err);
        }
        done += (long)n;
    }
    b->facilities_s = (now_ms() - t0) / 1e3;
    free(names);
    free(in);
    say("%ld facilities imported in %.1f s", b->o.facilities, b->facilities_s);
    return 0;
}

/* The facilities as stored (ids, points, services): what every method gets. */
static int read_facilities(struct bench *b)
{
    b->facs = xcalloc((size_t)b->o.facilities, sizeof *b->facs);
    b->meals = xcalloc((size_t)b->o.facilities, sizeof *b->meals);
    int64_t after = 0;
    for (;;) {
        struct facility_filter f = {
            .kind = -1, .status = -1, .after_id = after, .limit = FACILITIES_PAGE_MAX};
        struct facility *items;
        int n;
        int64_t next;
        struct linli_err err;
        linli_err_clear(&err);
        if (facilities_list(&b->cli.d, &f, &items, &n, &next, &err))
            return fail("listing facilities", &err);
        for (int i = 0; i < n && b->nfacs < (size_t)b->o.facilities; i++) {
            struct fac *x = &b->facs[b->nfacs++];
            x->id = items[i].id;
            x->p = items[i].point;
            for (int s = 0; s < items[i].nservices; s++)
                x->meals |= !strcmp(items[i].services[s].code, COVERAGE_SERVICE);
            if (x->meals && items[i].status == FACILITY_OPEN)
                b->meals[b->nmeals_facs++] = x->p;
        }
        free(items);
        if (!next)
            break;
        after = next;
    }
    if (b->nfacs != (size_t)b->o.facilities) {
        say("read back %zu facilities, expected %ld", b->nfacs, b->o.facilities);
        return -1;
    }
    return 0;
}

/* ---- people ---- */

/* Birthplaces for the ID numbers: Chaoyang first, then elsewhere. */
static const char *const BIRTHPLACES[ID_REGIONS] = {"110105", "110101", "110102", "110108",
                                                    "110106", "130102", "370102", "410102",
                                                    "320102", "210102", "140105"};
/* Shares of the age bands 60-64, 65-69, ... 85-89, 90-100. */
static const double AGE_BANDS[] = {0.30, 0.25, 0.18, 0.12, 0.08, 0.05, 0.02};

static const char SURNAMES[][4] = {"王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴",
                                   "徐", "孙", "胡", "朱", "高", "林", "何", "郭", "马", "罗"};
static const char GIVEN[][7] = {"秀英", "桂英", "秀兰", "玉兰", "淑珍", "建国", "国强", "志明",
                                "德华", "振华", "伟",   "强",   "军",   "敏",   "静",   "芳"};

struct person_row {
    char name[16];
    char id[IDNUM_LEN + 1];
};

static int day_index(int y, int m, int d) /* days since 1900-01-01 */
{
    int a = (14 - m) / 12, yy = y + 4800 - a, mm = m + 12 * a - 3;
    return d + (153 * mm + 2) / 5 + 365 * yy + yy / 4 - yy / 100 + yy / 400 - 32045 - 2415021;
}

/* A unique valid ID number for someone born on y-m-d: per birthplace, day
 * and sex a counter gives the sequence (its parity is the sex). */
static int make_id(struct rng *r, uint16_t (*seq)[2], int y, int m, int d, bool male,
                   char out[IDNUM_LEN + 1])
{
    int day = day_index(y, m, d);
    if (day < 0 || day >= ID_DAYS)
        return -1;
    int first = rng_below(r, ID_REGIONS);
    for (int k = 0; k < ID_REGIONS; k++) {
        int region = (first + k) % ID_REGIONS;
        uint16_t *n = &seq[(size_t)region * ID_DAYS + (size_t)day][male];
        if (*n >= ID_PER_SEX)
            continue;
        int s = 2 * (*n)++ + (male ? 1 : 0) + 2;
        char first17[64];
        snprintf(first17, sizeof first17, "%s%04d%02d%02d%03d", BIRTHPLACES[region], y, m, d, s);
        memcpy(out, first17, IDNUM_LEN - 1);
        out[IDNUM_LEN - 1] = idnum_check_char(first17);
        out[IDNUM_LEN] = '\0';
        return 0;
    }
    return -1;
}

static void bad_person(void *ctx, size_t index, const char *field, const char *reason)
{
    (void)ctx;
    say("person row %zu, %s: %s", index, field, reason);
}

static int import_people(struct bench *b)
{
    size_t total = (size_t)b->o.people;
    b->homes = xcalloc(total, sizeof *b->homes);
    uint16_t(*seq)[2] = xcalloc((size_t)ID_REGIONS * ID_DAYS, sizeof *seq);
    struct person_in *rows = xcalloc(PEOPLE_CHUNK, sizeof *rows);
    struct person_row *bufs = xcalloc(PEOPLE_CHUNK, sizeof *bufs);
    int today = people_today(), ty = today / 10000, tmd = today % 10000;
    struct rng *r = &b->rng;
    double t0 = now_ms();
    int rc = 0;
    while (!rc && b->nhomes < total) {
        size_t n = total - b->nhomes < PEOPLE_CHUNK ? total - b->nhomes : PEOPLE_CHUNK;
        for (size_t i = 0; i < n && !rc; i++) {
            double u = rng_unit(r), acc = 0;
            int band = 0;
            for (; band < 6; band++) {
                acc += AGE_BANDS[band];
                if (u < acc)
                    break;
            }
            int age = 60 + band * 5 + rng_below(r, band == 6 ? 11 : 5);
            bool male = rng_unit(r) < (age >= 80 ? 0.42 : 0.48);
            int m = 1 + rng_below(r, 12), d = 1 + rng_below(r, 28);
            int y = ty - age - (m * 100 + d > tmd ? 1 : 0);
            struct person_row *pb = &bufs[i];
            if (make_id(r, seq, y, m, d, male, pb->id)) {
                say("ran out of ID numbers for %04d-%02d-%02d", y, m, d);
                rc = -1;
                break;
            }
            snprintf(pb->name, sizeof pb->name, "%s%s",
                     SURNAMES[rng_below(r, (int)(sizeof SURNAMES / sizeof SURNAMES[0]))],
                     GIVEN[rng_below(r, (int)(sizeof GIVEN / sizeof GIVEN[0]))]);
            const struct centre *c = &b->centres[rng_below(r, b->ncommunities)];
            struct geo_point h = scatter(r, c->p, c->sigma_m);
            b->homes[b->nhomes + i] = h;
            rows[i] = (struct person_in){.name = pb->name,
                                         .id_number = pb->id,
                                         .has_home = true,
                                         .lat = h.lat,
                                         .lon = h.lon,
                                         .community_code = c->code,
                                         .consent = true};
        }
        if (rc)
            break;
        struct people_import_options o = {.bad_row = bad_person};
        struct people_import_report rep;
        struct linli_err err;
        linli_err_clear(&err);
        if (people_import(&b->cli.d, &b->cli.who, rows, n, &o, &rep, &err)) {
            rc = fail("importing people", &err);
        } else if (rep.imported != n) {
            say("people_import took %zu of %zu rows", rep.imported, n);
            rc = -1;
        }
        b->nhomes += n;
        say("people: %zu of %zu", b->nhomes, total);
    }
    b->people_s = (now_ms() - t0) / 1e3;
    free(seq);
    free(rows);
    free(bufs);
    return rc;
}

/* ---- the scans ---- */

/* Our order for hits without a service: whole minutes rounded up, then
 * distance, then id (directory_search.c; the price is 0 for every hit). */
struct scan_hit {
    double minutes, dist;
    int64_t id;
};

static int scan_hit_cmp(const void *a, const void *b)
{
    const struct scan_hit *x = a, *y = b;
    double mx = ceil(x->minutes - 1e-9), my = ceil(y->minutes - 1e-9);
    if (mx != my)
        return mx < my ? -1 : 1;
    if (x->dist != y->dist)
        return x->dist < y->dist ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* The k nearest by distance, then id: insertion into a sorted list. */
static void scan_nearest(const struct bench *b, struct geo_point o, size_t k, struct answer *a)
{
    a->n = 0;
    for (size_t i = 0; i < b->nfacs; i++) {
        double d = geo_distance_m(o, b->facs[i].p);
        int64_t id = b->facs[i].id;
        if (a->n == k && (d > a->dist[k - 1] || (d == a->dist[k - 1] && id > a->id[k - 1])))
            continue;
        size_t j = a->n < k ? a->n++ : k - 1;
        while (j > 0 && (a->dist[j - 1] > d || (a->dist[j - 1] == d && a->id[j - 1] > id))) {
            a->dist[j] = a->dist[j - 1];
            a->id[j] = a->id[j - 1];
            j--;
        }
        a->dist[j] = d;
        a->id[j] = id;
    }
}

static void scan_within(const struct bench *b, struct geo_point o, double minutes, size_t limit,
                        struct scan_hit *buf, struct answer *a)
{
    size_t n = 0;
    for (size_t i = 0; i < b->nfacs; i++) {
        double d = geo_distance_m(o, b->facs[i].p);
        double m = b->walk.minutes_for(&b->walk, d);
        if (m <= minutes)
            buf[n++] = (struct scan_hit){m, d, b->facs[i].id};
    }
    qsort(buf, n, sizeof *buf, scan_hit_cmp);
    a->n = n < limit ? n : limit;
    for (size_t i = 0; i < a->n; i++) {
        a->id[i] = buf[i].id;
        a->dist[i] = buf[i].dist;
    }
}

/* Whether home reaches a meals facility: every one in turn, stopping at the first. */
static bool scan_reached(const struct bench *b, struct geo_point home)
{
    for (size_t i = 0; i < b->nmeals_facs; i++)
        if (b->walk.minutes(&b->walk, home, b->meals[i]) <= WITHIN_MINUTES)
            return true;
    return false;
}

/* ---- the directory ---- */

static int directory_answer(struct bench *b, struct geo_point o, double minutes, int limit,
                            struct answer *a)
{
    struct directory_query q = {.origin = o,
                                .minutes = minutes,
                                .kind = -1,
                                .max_price_fen = -1,
                                .at = (int64_t)time(NULL),
                                .limit = limit};
    struct directory_hit *hits;
    int n;
    struct linli_err err;
    linli_err_clear(&err);
    if (directory_search(&b->cli.d, &q, &hits, &n, &err))
        return fail("directory_search", &err);
    a->n = (size_t)n;
    for (int i = 0; i < n; i++) {
        a->id[i] = hits[i].f.id;
        a->dist[i] = hits[i].dist_m;
    }
    free(hits);
    return 0;
}

/* ---- PostGIS ---- */

#define FLOAT8_OID 701

static const char SQL_PG_KNN[] =
    "SELECT id, geog <-> ST_SetSRID(ST_MakePoint($2, $1), 4326)::geography FROM facilities"
    " ORDER BY geog <-> ST_SetSRID(ST_MakePoint($2, $1), 4326)::geography LIMIT 10";
static const char SQL_PG_WITHIN[] =
    "SELECT id FROM facilities"
    " WHERE ST_DWithin(geog, ST_SetSRID(ST_MakePoint($2, $1), 4326)::geography, $3, false)";
static const char SQL_PG_COVERAGE[] =
    "SELECT count(*) FROM people p WHERE EXISTS (SELECT 1 FROM facilities f"
    " WHERE f.meals AND ST_DWithin(f.geog, p.geog, $1, false))";

static int pg_ok(PGresult *res, const char *what)
{
    ExecStatusType s = PQresultStatus(res);
    if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK)
        return 0;
    say("PostgreSQL, %s: %s", what, PQresultErrorMessage(res));
    return -1;
}

static int pg_cmd(PGconn *c, const char *sql)
{
    PGresult *res = PQexec(c, sql);
    int rc = pg_ok(res, sql);
    PQclear(res);
    return rc;
}

/* COPY text rows through a buffer flushed every 64 KiB. */
struct pg_copy {
    PGconn *c;
    char buf[65536];
    size_t used;
    int failed;
};

static void pg_copy_flush(struct pg_copy *cp)
{
    if (cp->used && PQputCopyData(cp->c, cp->buf, (int)cp->used) != 1)
        cp->failed = 1;
    cp->used = 0;
}

static void pg_copy_row(struct pg_copy *cp, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void pg_copy_row(struct pg_copy *cp, const char *fmt, ...)
{
    if (sizeof cp->buf - cp->used < 256)
        pg_copy_flush(cp);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(cp->buf + cp->used, sizeof cp->buf - cp->used, fmt, ap);
    va_end(ap);
    if (n > 0)
        cp->used += (size_t)n;
}

static int pg_copy_end(struct pg_copy *cp, const char *what)
{
    pg_copy_flush(cp);
    if (PQputCopyEnd(cp->c, NULL) != 1 || cp->failed) {
        say("PostgreSQL, %s: %s", what, PQerrorMessage(cp->c));
        return -1;
    }
    PGresult *res = PQgetResult(cp->c);
    int rc = pg_ok(res, what);
    PQclear(res);
    while ((res = PQgetResult(cp->c)))
        PQclear(res);
    return rc;
}

static int pg_copy_begin(struct pg_copy *cp, PGconn *c, const char *sql)
{
    cp->c = c;
    cp->used = 0;
    cp->failed = 0;
    PGresult *res = PQexec(c, sql);
    int ok = PQresultStatus(res) == PGRES_COPY_IN;
    if (!ok)
        say("PostgreSQL, %s: %s", sql, PQresultErrorMessage(res));
    PQclear(res);
    return ok ? 0 : -1;
}

/* Tables, the same points by COPY, GiST indexes, statistics; the steps timed. */
static int pg_load(struct bench *b)
{
    PGconn *c = b->pg;
    if (pg_cmd(c, "DROP TABLE IF EXISTS facilities, people") ||
        pg_cmd(c, "CREATE TABLE facilities (id bigint NOT NULL,"
                  " geog geography(Point, 4326) NOT NULL, meals bool NOT NULL)") ||
        pg_cmd(c, "CREATE TABLE people (id bigint NOT NULL,"
                  " geog geography(Point, 4326) NOT NULL)"))
        return -1;
    struct pg_copy *cp = xcalloc(1, sizeof *cp);
    double t = now_ms();
    int rc = pg_copy_begin(cp, c, "COPY facilities (id, geog, meals) FROM STDIN");
    for (size_t i = 0; !rc && i < b->nfacs; i++)
        pg_copy_row(cp, "%lld\tSRID=4326;POINT(%.17g %.17g)\t%c\n", (long long)b->facs[i].id,
                    b->facs[i].p.lon, b->facs[i].p.lat, b->facs[i].meals ? 't' : 'f');
    if (!rc)
        rc = pg_copy_end(cp, "COPY facilities");
    b->pg_load_s[0] = (now_ms() - t) / 1e3;
    t = now_ms();
    if (!rc)
        rc = pg_copy_begin(cp, c, "COPY people (id, geog) FROM STDIN");
    for (size_t i = 0; !rc && i < b->nhomes; i++)
        pg_copy_row(cp, "%zu\tSRID=4326;POINT(%.17g %.17g)\n", i + 1, b->homes[i].lon,
                    b->homes[i].lat);
    if (!rc)
        rc = pg_copy_end(cp, "COPY people");
    free(cp);
    b->pg_load_s[1] = (now_ms() - t) / 1e3;
    t = now_ms();
    if (!rc)
        rc = pg_cmd(c, "CREATE INDEX facilities_geog ON facilities USING gist (geog)");
    b->pg_load_s[2] = (now_ms() - t) / 1e3;
    t = now_ms();
    if (!rc)
        rc = pg_cmd(c, "CREATE INDEX people_geog ON people USING gist (geog)");
    b->pg_load_s[3] = (now_ms() - t) / 1e3;
    t = now_ms();
    if (!rc)
        rc = pg_cmd(c, "VACUUM ANALYZE facilities") || pg_cmd(c, "VACUUM ANALYZE people");
    b->pg_load_s[4] = (now_ms() - t) / 1e3;
    if (rc)
        return rc;
    PGresult *res = PQprepare(c, "knn", SQL_PG_KNN, 2, (const Oid[]){FLOAT8_OID, FLOAT8_OID});
    rc = pg_ok(res, "preparing the KNN query");
    PQclear(res);
    if (rc)
        return rc;
    res =
        PQprepare(c, "within", SQL_PG_WITHIN, 3, (const Oid[]){FLOAT8_OID, FLOAT8_OID, FLOAT8_OID});
    rc = pg_ok(res, "preparing the ST_DWithin query");
    PQclear(res);
    say("PostGIS loaded: facilities %.1f s, people %.1f s, indexes %.1f + %.1f s, analyze %.1f s",
        b->pg_load_s[0], b->pg_load_s[1], b->pg_load_s[2], b->pg_load_s[3], b->pg_load_s[4]);
    return rc;
}

/* The plan's nodes, one line each without costs, joined by " > ". */
static void pg_plan(PGconn *c, const char *sql, char *out, size_t size)
{
    char q[1024];
    snprintf(q, sizeof q, "EXPLAIN (COSTS OFF) %s", sql);
    PGresult *res = PQexec(c, q);
    out[0] = '\0';
    if (PQresultStatus(res) == PGRES_TUPLES_OK) {
        size_t used = 0;
        for (int i = 0; i < PQntuples(res) && used < size; i++) {
            const char *line = PQgetvalue(res, i, 0);
            while (*line == ' ' || *line == '-' || *line == '>')
                line++;
            if (!strncmp(line, "Index Cond", 10) || !strncmp(line, "Filter", 6) ||
                !strncmp(line, "Order By", 8) || !strncmp(line, "Sort Key", 8) ||
                !strncmp(line, "Workers", 7))
                continue;
            used += (size_t)snprintf(out + used, size - used, "%s%s", used ? " > " : "", line);
        }
        fprintf(stderr, "%s\n  %s\n", sql, out);
    } else {
        snprintf(out, size, "(EXPLAIN failed: %s)", PQresultErrorMessage(res));
    }
    PQclear(res);
}

static int pg_knn(struct bench *b, struct geo_point o, struct answer *a)
{
    char lat[32], lon[32];
    snprintf(lat, sizeof lat, "%.17g", o.lat);
    snprintf(lon, sizeof lon, "%.17g", o.lon);
    PGresult *res = PQexecPrepared(b->pg, "knn", 2, (const char *const[]){lat, lon}, NULL, NULL, 0);
    int rc = pg_ok(res, "KNN");
    a->n = 0;
    for (int i = 0; !rc && i < PQntuples(res); i++) {
        a->id[a->n] = strtoll(PQgetvalue(res, i, 0), NULL, 10);
        a->dist[a->n++] = strtod(PQgetvalue(res, i, 1), NULL);
    }
    PQclear(res);
    return rc;
}

static int pg_within(struct bench *b, struct geo_point o, double radius_m, struct answer *a)
{
    char lat[32], lon[32], r[32];
    snprintf(lat, sizeof lat, "%.17g", o.lat);
    snprintf(lon, sizeof lon, "%.17g", o.lon);
    snprintf(r, sizeof r, "%.17g", radius_m);
    PGresult *res =
        PQexecPrepared(b->pg, "within", 3, (const char *const[]){lat, lon, r}, NULL, NULL, 0);
    int rc = pg_ok(res, "ST_DWithin");
    a->n = 0;
    for (int i = 0; !rc && i < PQntuples(res) && a->n < b->nfacs; i++) {
        a->id[a->n] = strtoll(PQgetvalue(res, i, 0), NULL, 10);
        a->dist[a->n++] = NAN;
    }
    PQclear(res);
    return rc;
}

/* ---- comparing answers ---- */

static void example(struct agree *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void example(struct agree *g, const char *fmt, ...)
{
    if (g->nexamples >= EXAMPLES_MAX)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g->examples[g->nexamples++], sizeof g->examples[0], fmt, ap);
    va_end(ap);
}

static bool same_order(const struct answer *x, const struct answer *y)
{
    if (x->n != y->n)
        return false;
    for (size_t i = 0; i < x->n; i++)
        if (x->id[i] != y->id[i])
            return false;
    return true;
}

/* The same length and, position by position, distances within tol: the
 * lists differ only in the order of equally distant facilities (or, against
 * PostGIS, of facilities whose distances the two formulas rank differently). */
static bool tie_only(const struct answer *x, const struct answer *y, double tol)
{
    if (x->n != y->n)
        return false;
    for (size_t i = 0; i < x->n; i++)
        if (fabs(x->dist[i] - y->dist[i]) > tol)
            return false;
    return true;
}

static const struct fac *fac_by_id(const struct bench *b, int64_t id)
{
    size_t lo = 0, hi = b->nfacs;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (b->facs[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < b->nfacs && b->facs[lo].id == id ? &b->facs[lo] : NULL;
}

/* Ordered lists (nearest 10; within 15 against the scan). */
static void compare_ordered(const struct bench *b, struct agree *g, const char *who,
                            struct geo_point o, const struct answer *ours,
                            const struct answer *theirs, double tol)
{
    if (same_order(ours, theirs)) {
        g->identical++;
        return;
    }
    if (tie_only(ours, theirs, tol)) {
        g->ties++;
        return;
    }
    g->differ++;
    size_t i = 0;
    while (i < ours->n && i < theirs->n && ours->id[i] == theirs->id[i])
        i++;
    if (i < ours->n && i < theirs->n) {
        const struct fac *fa = fac_by_id(b, ours->id[i]), *fb = fac_by_id(b, theirs->id[i]);
        example(g, "origin %.6f,%.6f, position %zu: directory #%lld at %.6f m, %s #%lld at %.6f m",
                o.lat, o.lon, i + 1, (long long)ours->id[i], fa ? geo_distance_m(o, fa->p) : NAN,
                who, (long long)theirs->id[i], fb ? geo_distance_m(o, fb->p) : NAN);
    } else {
        example(g, "origin %.6f,%.6f: directory %zu hits, %s %zu", o.lat, o.lon, ours->n, who,
                theirs->n);
    }
}

/* Id sets (within 15 against PostGIS). When ours stopped at the limit, its
 * ids must all be in theirs. */
static void compare_sets(const struct bench *b, struct agree *g, struct geo_point o,
                         const struct answer *ours, const struct answer *theirs, int64_t *scratch)
{
    size_t n = ours->n, m = theirs->n;
    int64_t *x = scratch, *y = scratch + b->nfacs;
    memcpy(x, ours->id, n * sizeof *x);
    memcpy(y, theirs->id, m * sizeof *y);
    qsort(x, n, sizeof *x, cmp_id);
    qsort(y, m, sizeof *y, cmp_id);
    bool capped = n == WITHIN_LIMIT && m > n;
    size_t i = 0, j = 0, only_ours = 0, only_theirs = 0;
    int64_t first_ours = 0, first_theirs = 0;
    while (i < n || j < m) {
        if (j == m || (i < n && x[i] < y[j])) {
            if (!only_ours++)
                first_ours = x[i];
            i++;
        } else if (i == n || y[j] < x[i]) {
            if (!only_theirs++)
                first_theirs = y[j];
            j++;
        } else {
            i++;
            j++;
        }
    }
    if (!only_ours && (!only_theirs || capped)) {
        if (capped)
            g->capped++;
        else
            g->identical++;
        return;
    }
    g->differ++;
    int64_t id = only_ours ? first_ours : first_theirs;
    const struct fac *f = fac_by_id(b, id);
    double d = f ? geo_distance_m(o, f->p) : NAN;
    example(g, "origin %.6f,%.6f: #%lld only in %s, at %.6f m (radius %.6f m, %+.2e m)", o.lat,
            o.lon, (long long)id, only_ours ? "the directory's" : "PostGIS's", d, b->reach_m,
            d - b->reach_m);
}

/* ---- the queries ---- */

enum method { M_DIRECTORY, M_SCAN, M_PG, METHODS };
enum kind { K_NEAREST, K_WITHIN, KINDS_N };
static const char *const METHOD_NAMES[METHODS] = {"directory_search (spatial index)",
                                                  "brute-force scan", "PostGIS (libpq, loopback)"};
static const char *const KIND_NAMES[KINDS_N] = {"nearest 10", "within 15 minutes"};

static struct answer answer_new(size_t cap)
{
    return (struct answer){0, xcalloc(cap, sizeof(int64_t)), xcalloc(cap, sizeof(double))};
}

static void answer_free(struct answer *a)
{
    free(a->id);
    free(a->dist);
}

static void make_origins(struct bench *b)
{
    b->origins = xcalloc((size_t)b->o.queries, sizeof *b->origins);
    for (long i = 0; i < b->o.queries; i++) {
        const struct centre *c = &b->centres[rng_below(&b->rng, b->ncommunities)];
        b->origins[i] = scatter(&b->rng, c->p, SIGMA_ORIGIN_M);
    }
}

static int write_expected_origin(FILE *f, long i, struct geo_point o, const struct answer *w)
{
    fprintf(f, "%s\n  {\"lat\": %.17g, \"lon\": %.17g, \"within\": [", i ? "," : "", o.lat, o.lon);
    for (size_t k = 0; k < w->n; k++)
        fprintf(f, "%s%lld", k ? ", " : "", (long long)w->id[k]);
    fprintf(f, "]}");
    return ferror(f) ? -1 : 0;
}

static int run_queries(struct bench *b, FILE *expected)
{
    size_t q = (size_t)b->o.queries;
    bool pg = b->pg != NULL;
    struct timings t[METHODS][KINDS_N];
    for (int m = 0; m < METHODS; m++)
        for (int k = 0; k < KINDS_N; k++)
            t[m][k] = (struct timings){xcalloc(q, sizeof(double)), 0};
    struct answer a[METHODS][KINDS_N];
    for (int m = 0; m < METHODS; m++)
        for (int k = 0; k < KINDS_N; k++)
            a[m][k] = answer_new(b->nfacs);
    struct scan_hit *buf = xcalloc(b->nfacs, sizeof *buf);
    int64_t *scratch = xcalloc(2 * b->nfacs, sizeof *scratch);
    struct agree vs_scan_near = {0}, vs_scan_within = {0}, vs_pg_near = {0}, vs_pg_within = {0};
    double pg_dist_max = 0, pg_dist_rel = 0, hits_sum = 0;
    long capped = 0;
    int rc = 0;

    /* The first search makes the memory copy of the directory. */
    double t0 = now_ms();
    rc = directory_answer(b, b->origins[0], 0, NEAREST_K, &a[M_DIRECTORY][K_NEAREST]);
    b->load_ms = now_ms() - t0;
    say("first search (loads the directory's memory copy): %.1f ms", b->load_ms);

    /* Pass 0 warms every method on the first origins; pass 1 times them all. */
    size_t warm = q < WARMUP_QUERIES ? q : WARMUP_QUERIES;
    for (int pass = 0; pass < 2 && !rc; pass++) {
        bool timed = pass == 1;
        for (size_t i = 0; i < (timed ? q : warm) && !rc; i++) {
            struct geo_point o = b->origins[i];
            double s, e;
#define TIME(M, K, CALL)                                                                           \
    do {                                                                                           \
        s = now_ms();                                                                              \
        rc = rc ? rc : (CALL);                                                                     \
        e = now_ms();                                                                              \
        if (timed)                                                                                 \
            t[M][K].ms[t[M][K].n++] = e - s;                                                       \
    } while (0)
            TIME(M_DIRECTORY, K_NEAREST,
                 directory_answer(b, o, 0, NEAREST_K, &a[M_DIRECTORY][K_NEAREST]));
            TIME(M_DIRECTORY, K_WITHIN,
                 directory_answer(b, o, WITHIN_MINUTES, WITHIN_LIMIT, &a[M_DIRECTORY][K_WITHIN]));
            TIME(M_SCAN, K_NEAREST, (scan_nearest(b, o, NEAREST_K, &a[M_SCAN][K_NEAREST]), 0));
            TIME(M_SCAN, K_WITHIN,
                 (scan_within(b, o, WITHIN_MINUTES, WITHIN_LIMIT, buf, &a[M_SCAN][K_WITHIN]), 0));
            if (pg) {
                TIME(M_PG, K_NEAREST, pg_knn(b, o, &a[M_PG][K_NEAREST]));
                TIME(M_PG, K_WITHIN, pg_within(b, o, b->reach_m, &a[M_PG][K_WITHIN]));
            }
#undef TIME
            if (!timed || rc)
                continue;
            const struct answer *dn = &a[M_DIRECTORY][K_NEAREST], *dw = &a[M_DIRECTORY][K_WITHIN];
            compare_ordered(b, &vs_scan_near, "the scan", o, dn, &a[M_SCAN][K_NEAREST], TIE_M);
            compare_ordered(b, &vs_scan_within, "the scan", o, dw, &a[M_SCAN][K_WITHIN], TIE_M);
            hits_sum += (double)dw->n;
            capped += dw->n == WITHIN_LIMIT;
            if (pg) {
                const struct answer *pn = &a[M_PG][K_NEAREST];
                compare_ordered(b, &vs_pg_near, "PostGIS", o, dn, pn, SPHERE_TIE_M);
                for (size_t k = 0; k < pn->n && k < dn->n; k++) {
                    if (pn->id[k] != dn->id[k])
                        continue;
                    double diff = fabs(pn->dist[k] - dn->dist[k]);
                    pg_dist_max = fmax(pg_dist_max, diff);
                    if (dn->dist[k] > 0)
                        pg_dist_rel = fmax(pg_dist_rel, diff / dn->dist[k]);
                }
                compare_sets(b, &vs_pg_within, o, dw, &a[M_PG][K_WITHIN], scratch);
            }
            if (expected && write_expected_origin(expected, (long)i, o, dw)) {
                say("cannot write the expected answers");
                rc = -1;
            }
            if ((i + 1) % 500 == 0)
                say("queries: %zu of %zu", i + 1, q);
        }
    }
    if (!rc) {
        FILE *md = b->md;
        fprintf(md, "### Nearest 10 and within 15 minutes (%zu origins)\n\n", q);
        fprintf(md,
                "Each origin is asked of the three methods in turn (so noise falls on all of them "
                "alike), after %zu untimed warm-up origins. Times are per query, in the calling "
                "process (PostGIS: one `PQexecPrepared` round trip over TCP on 127.0.0.1, "
                "including the rows' transfer and parsing). Within 15 minutes returns on average "
                "%.1f facilities (%ld of %zu origins reach the limit of %d).\n\n",
                warm, hits_sum / (double)q, capped, q, WITHIN_LIMIT);
        fprintf(md, "| query | method | p50 ms | p99 ms | mean ms | p50 ÷ directory | p99 ÷ "
                    "directory |\n|---|---|---:|---:|---:|---:|---:|\n");
        for (int k = 0; k < KINDS_N; k++) {
            double base50 = percentile(&t[M_DIRECTORY][k], 50);
            double base99 = percentile(&t[M_DIRECTORY][k], 99);
            for (int m = 0; m < METHODS; m++) {
                if (m == M_PG && !pg)
                    continue;
                double p50 = percentile(&t[m][k], 50), p99 = percentile(&t[m][k], 99);
                fprintf(md, "| %s | %s | %.4f | %.4f | %.4f | %.1fx | %.1fx |\n", KIND_NAMES[k],
                        METHOD_NAMES[m], p50, p99, mean(&t[m][k]), p50 / base50, p99 / base99);
            }
        }
        fprintf(md, "\n**Agreement** (directory_search against each):\n\n");
        fprintf(md,
                "| query | against | identical | ties ordered differently | directory "
                "stopped at %d, rest agree | different |\n|---|---|---:|---:|---:|---:|\n",
                WITHIN_LIMIT);
        struct {
            const char *kind, *who;
            const struct agree *g;
        } rows[] = {{"nearest 10 (ordered)", "scan", &vs_scan_near},
                    {"within 15 (ordered, first 200)", "scan", &vs_scan_within},
                    {"nearest 10 (ordered)", "PostGIS `<->`", &vs_pg_near},
                    {"within 15 (as sets)", "PostGIS `ST_DWithin`", &vs_pg_within}};
        for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
            if (r >= 2 && !pg)
                continue;
            fprintf(md, "| %s | %s | %ld | %ld | %ld | %ld |\n", rows[r].kind, rows[r].who,
                    rows[r].g->identical, rows[r].g->ties, rows[r].g->capped, rows[r].g->differ);
        }
        fprintf(md, "\n");
        for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++)
            for (int e = 0; e < rows[r].g->nexamples; e++)
                fprintf(md, "- %s vs %s: %s\n", rows[r].kind, rows[r].who, rows[r].g->examples[e]);
        if (pg)
            fprintf(md,
                    "- PostGIS's `<->` distance to the same facility differs from ours by at "
                    "most %.2g m (%.2g relative) over all nearest-10 answers. Its sphere has "
                    "the WGS-84 mean radius (2a+b)/3 = 6,371,008.771 m and its own formula; "
                    "ours is haversine on 6,371,008.8 m, 4.5e-9 longer: about 3 µm at the "
                    "692 m radius, so only two facilities within micrometres of each other "
                    "(or of the radius) could be ranked or cut differently.\n",
                    pg_dist_max, pg_dist_rel);
        fprintf(md, "\n");
    }
    for (int m = 0; m < METHODS; m++)
        for (int k = 0; k < KINDS_N; k++) {
            free(t[m][k].ms);
            answer_free(&a[m][k]);
        }
    free(buf);
    free(scratch);
    return rc;
}

/* ---- coverage ---- */

static int run_coverage(struct bench *b, FILE *expected)
{
    double runs[COVERAGE_RUNS];
    struct service_coverage cov = {0};
    for (int i = 0; i < COVERAGE_RUNS; i++) {
        service_coverage_free(&cov);
        struct linli_err err;
        linli_err_clear(&err);
        double t0 = now_ms();
        if (directory_coverage(&b->cli.d, &b->cli.who, COVERAGE_SERVICE, WITHIN_MINUTES, 1, AGE_MIN,
                               NULL, &cov, &err))
            return fail("directory_coverage", &err);
        runs[i] = (now_ms() - t0) / 1e3;
        say("directory_coverage: %.2f s, %lld of %lld covered", runs[i],
            (long long)cov.total.covered, (long long)cov.total.located);
    }

    /* The scan: every person (or every k-th) against every meals facility. */
    size_t every = (size_t)b->o.brute_every, scanned = 0, reached = 0;
    b->covered_known = every == 1;
    if (b->covered_known)
        b->covered = xcalloc(b->nhomes / 64 + 1, sizeof *b->covered);
    double t0 = now_ms();
    for (size_t i = 0; i < b->nhomes; i += every) {
        scanned++;
        if (scan_reached(b, b->homes[i])) {
            reached++;
            if (b->covered_known)
                b->covered[i / 64] |= UINT64_C(1) << (i % 64);
        }
    }
    double scan_s = (now_ms() - t0) / 1e3;
    double scan_full_s = scan_s * (double)b->nhomes / (double)scanned;
    double scan_covered = (double)reached * (double)b->nhomes / (double)scanned;
    say("scan: %.1f s for %zu people, %zu reached", scan_s, scanned, reached);

    double pg_runs[PG_COVERAGE_RUNS];
    long long pg_covered = -1;
    char plan[512] = "";
    if (b->pg) {
        char sql[512];
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM people p WHERE EXISTS (SELECT 1 FROM facilities f"
                 " WHERE f.meals AND ST_DWithin(f.geog, p.geog, %.17g, false))",
                 b->reach_m);
        pg_plan(b->pg, sql, plan, sizeof plan);
        char r[32];
        snprintf(r, sizeof r, "%.17g", b->reach_m);
        for (int i = 0; i < PG_COVERAGE_RUNS; i++) {
            t0 = now_ms();
            PGresult *res = PQexecParams(b->pg, SQL_PG_COVERAGE, 1, (const Oid[]){FLOAT8_OID},
                                         (const char *const[]){r}, NULL, NULL, 0);
            pg_runs[i] = (now_ms() - t0) / 1e3;
            int rc = pg_ok(res, "coverage count");
            if (!rc)
                pg_covered = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
            PQclear(res);
            if (rc)
                return -1;
            say("PostGIS coverage: %.1f s, %lld covered", pg_runs[i], pg_covered);
        }
    }

    FILE *md = b->md;
    char text[128];
    double ours = median_of(runs, COVERAGE_RUNS);
    fprintf(md, "### Coverage report (meals, 15 minutes, by street, everyone aged %d+)\n\n",
            AGE_MIN);
    fprintf(md,
            "%lld open facilities offer meals; %lld people aged %d or more, %lld with a home "
            "point; %d street rows.\n\n",
            (long long)cov.facilities, (long long)cov.total.elderly, AGE_MIN,
            (long long)cov.total.located, cov.nareas);
    fprintf(md, "| method | seconds (median) | runs | covered | ÷ directory (time) |\n"
                "|---|---:|---|---:|---:|\n");
    format_runs(runs, COVERAGE_RUNS, text, sizeof text);
    fprintf(md,
            "| directory_coverage (one SQLite scan of people, spatial index of meals "
            "facilities) | %.2f | %s | %lld | 1.0x |\n",
            ours, text, (long long)cov.total.covered);
    if (every == 1)
        fprintf(md,
                "| brute-force scan (each person against every meals facility, stopping at "
                "the first within reach) | %.2f | 1 run | %zu | %.0fx |\n",
                scan_s, reached, scan_s / ours);
    else
        fprintf(md,
                "| brute-force scan, every %zu-th person (%zu people in %.2f s), "
                "**extrapolated** to all | %.1f (est.) | 1 run | %.0f (est.) | %.0fx (est.) |\n",
                every, scanned, scan_s, scan_full_s, scan_covered, scan_full_s / ours);
    if (b->pg) {
        format_runs(pg_runs, PG_COVERAGE_RUNS, text, sizeof text);
        double pm = median_of(pg_runs, PG_COVERAGE_RUNS);
        fprintf(md,
                "| PostGIS: `count(*)` of people with `EXISTS` a meals facility within "
                "`ST_DWithin(..., %.1f, false)` | %.2f | %s | %lld | %.1fx |\n",
                b->reach_m, pm, text, pg_covered, pm / ours);
    }
    fprintf(md, "\n");
    bool scan_agrees = every == 1 && (int64_t)reached == cov.total.covered;
    fprintf(md, "Agreement of the totals: directory %lld", (long long)cov.total.covered);
    if (every == 1)
        fprintf(md, ", scan %zu (%s)", reached, scan_agrees ? "identical" : "DIFFERENT");
    else
        fprintf(md, ", scan estimate %.0f (a sample: only roughly comparable)", scan_covered);
    if (b->pg)
        fprintf(md, ", PostGIS %lld (%s)", pg_covered,
                pg_covered == cov.total.covered ? "identical" : "DIFFERENT");
    fprintf(md, ".%s%s%s\n\n", b->pg ? " PostGIS plan: `" : "", b->pg ? plan : "",
            b->pg ? "`." : "");
    if (expected)
        fprintf(expected,
                "\n],\n\"coverage\": {\"elderly\": %lld, \"located\": %lld, \"covered\": %lld}\n",
                (long long)cov.total.elderly, (long long)cov.total.located,
                (long long)cov.total.covered);
    service_coverage_free(&cov);
    return 0;
}

/* ---- the site plan ---- */

/* Re-counts each pick's gain by scanning every person not yet reached. */
static bool plan_checks(const struct bench *b, const struct site_plan *p, int64_t *first_bad)
{
    size_t words = b->nhomes / 64 + 1;
    uint64_t *cov = xcalloc(words, sizeof *cov);
    memcpy(cov, b->covered, words * sizeof *cov);
    bool ok = true;
    for (int k = 0; k < p->npicks && ok; k++) {
        int64_t gain = 0;
        for (size_t i = 0; i < b->nhomes; i++) {
            if (cov[i / 64] >> (i % 64) & 1)
                continue;
            if (b->walk.minutes(&b->walk, b->homes[i], p->picks[k].c.point) <= WITHIN_MINUTES) {
                cov[i / 64] |= UINT64_C(1) << (i % 64);
                gain++;
            }
        }
        if (gain != p->picks[k].gain) {
            ok = false;
            *first_bad = k;
        }
    }
    free(cov);
    return ok;
}

static int run_plans(struct bench *b)
{
    FILE *md = b->md;
    fprintf(md, "### Site plan (%d meals sites, 15 minutes, greedy maximal covering)\n\n",
            PLAN_SITES);
    fprintf(md,
            "| candidates | seconds (median) | runs | candidates considered | covered "
            "before | after %d sites | first picks (gain) | gains re-counted by a scan |\n"
            "|---|---:|---|---:|---:|---:|---|---|\n",
            PLAN_SITES);
    for (int source = CANDIDATES_COMMUNITIES; source <= CANDIDATES_GRID; source++) {
        struct site_plan_request r = {.service = COVERAGE_SERVICE,
                                      .count = PLAN_SITES,
                                      .minutes = WITHIN_MINUTES,
                                      .age_min = AGE_MIN,
                                      .source = source,
                                      .grid_m = PLAN_GRID_M};
        struct site_plan p = {0};
        double runs[PLAN_RUNS];
        for (int i = 0; i < PLAN_RUNS; i++) {
            site_plan_free(&p);
            struct linli_err err;
            linli_err_clear(&err);
            double t0 = now_ms();
            if (directory_plan_sites(&b->cli.d, &b->cli.who, &r, &p, &err))
                return fail("directory_plan_sites", &err);
            runs[i] = (now_ms() - t0) / 1e3;
            say("plan (%s): %.2f s", source == CANDIDATES_GRID ? "grid" : "communities", runs[i]);
        }
        char text[128], picks[512] = "";
        format_runs(runs, PLAN_RUNS, text, sizeof text);
        size_t used = 0;
        for (int k = 0; k < p.npicks && k < 3 && used < sizeof picks; k++)
            used += (size_t)snprintf(picks + used, sizeof picks - used, "%s%s (%lld)",
                                     k ? ", " : "", p.picks[k].c.label, (long long)p.picks[k].gain);
        const char *check = "not checked (the scan was sampled)";
        char why[96];
        if (b->covered_known) {
            int64_t bad = -1;
            check = plan_checks(b, &p, &bad) ? "all identical" : why;
            if (bad >= 0)
                snprintf(why, sizeof why, "DIFFERENT from pick %lld", (long long)bad + 1);
        }
        char label[64];
        if (source == CANDIDATES_GRID)
            snprintf(label, sizeof label, "grid, %d m", PLAN_GRID_M);
        else
            snprintf(label, sizeof label, "community centres");
        fprintf(md, "| %s | %.2f | %s | %lld | %lld | %lld | %s | %s |\n", label,
                median_of(runs, PLAN_RUNS), text, (long long)p.candidates_considered,
                (long long)p.covered_before,
                (long long)(p.npicks ? p.picks[p.npicks - 1].covered_after : p.covered_before),
                picks, check);
        site_plan_free(&p);
    }
    fprintf(md, "\nPostGIS is not asked to plan (a greedy covering is not one query); the scan "
                "re-counts each pick's gain from the people not yet within reach.\n\n");
    return 0;
}

/* ---- setup ---- */

static int make_store(struct bench *b, char *db, size_t size)
{
    snprintf(db, size, "%s/directory.db", b->o.work);
    struct stat st;
    if (stat(db, &st) == 0) {
        say("%s exists; give an empty work directory", db);
        return -1;
    }
    b->cli.db = db;
    if (cli_open(&b->cli, 1))
        return -1;
    cli_close(&b->cli);
    /* The command line's own import; it prints its summary on stdout. */
    char dir_opt[] = "--dir";
    char *args[] = {dir_opt, (char *)b->o.data};
    if (cli_import_areas(&b->cli, 2, args))
        return -1;
    if (cli_open(&b->cli, 0))
        return -1;
    return make_centres(b);
}

int main(int argc, char **argv)
{
    struct bench b = {0};
    if (parse_opts(argc, argv, &b.o))
        return 2;
    b.rng.s = b.o.seed * 0x2545F4914F6CDD1Dull + 1;
    b.md = b.o.out ? fopen(b.o.out, "w") : stdout;
    if (!b.md) {
        say("cannot write %s", b.o.out);
        return 1;
    }
    FILE *expected = b.o.expected ? fopen(b.o.expected, "w") : NULL;
    if (b.o.expected && !expected) {
        say("cannot write %s", b.o.expected);
        return 1;
    }
    if (b.o.pg) {
        b.pg = PQconnectdb(b.o.pg);
        if (PQstatus(b.pg) != CONNECTION_OK) {
            say("cannot connect to PostgreSQL: %s", PQerrorMessage(b.pg));
            return 1;
        }
    }
    char db[4096];
    int rc = make_store(&b, db, sizeof db);
    if (!rc)
        rc = import_facilities(&b);
    if (!rc)
        rc = import_people(&b);
    if (!rc) {
        /* Reopened, so that the first search below makes the memory copy from the store. */
        cli_close(&b.cli);
        rc = cli_open(&b.cli, 0) ? -1 : read_facilities(&b);
    }
    directory_walk_model(&b.cli.d, &b.walk);
    b.reach_m = b.walk.reach_m(&b.walk, WITHIN_MINUTES);
    if (!rc && b.pg)
        rc = pg_load(&b);
    if (!rc) {
        make_origins(&b);
        fprintf(b.md,
                "Data (seed %llu): %zu facilities (%zu offering meals, all open), mixed kinds, "
                "around the %d community centre points of Chaoyang (a community without one: "
                "its street's); %zu people aged 60-100 with valid ID numbers and home points "
                "around their community's. Walking model: detour %.1f, %.0f m a minute, so 15 "
                "minutes reach %.3f m in a straight line.\n\n",
                b.o.seed, b.nfacs, b.nmeals_facs, b.ncommunities, b.nhomes, b.walk.detour,
                b.walk.speed_m_min, b.reach_m);
        fprintf(b.md, "| setup | seconds |\n|---|---:|\n");
        fprintf(b.md, "| facilities_import, %zu rows in calls of %d | %.1f |\n", b.nfacs,
                FACILITY_CHUNK, b.facilities_s);
        fprintf(b.md, "| people_import, %zu rows in calls of %d (%.0f rows/s) | %.1f |\n", b.nhomes,
                PEOPLE_CHUNK, (double)b.nhomes / b.people_s, b.people_s);
        if (b.pg)
            fprintf(b.md,
                    "| PostGIS: COPY facilities / COPY people / GiST facilities / GiST people / "
                    "VACUUM ANALYZE | %.1f / %.1f / %.1f / %.1f / %.1f |\n",
                    b.pg_load_s[0], b.pg_load_s[1], b.pg_load_s[2], b.pg_load_s[3], b.pg_load_s[4]);
        fprintf(b.md, "\n");
        if (expected)
            fprintf(expected, "{\"reach_m\": %.17g, \"origins\": [", b.reach_m);
        rc = run_queries(&b, expected);
        if (!rc) {
            fprintf(b.md,
                    "The first search after opening the store made the directory's "
                    "memory copy (%zu facilities) in %.1f ms.\n\n",
                    b.nfacs, b.load_ms);
            if (b.pg) {
                char plan[512];
                fprintf(b.md, "PostGIS plans: ");
                pg_plan(b.pg, "EXECUTE knn(39.92, 116.48)", plan, sizeof plan);
                fprintf(b.md, "KNN `%s`; ", plan);
                pg_plan(b.pg, "EXECUTE within(39.92, 116.48, 692.3)", plan, sizeof plan);
                fprintf(b.md, "ST_DWithin `%s`.\n\n", plan);
            }
        }
    }
    if (!rc)
        rc = run_coverage(&b, expected);
    if (!rc)
        rc = run_plans(&b);
    if (expected) {
        fprintf(expected, "}\n");
        if (fclose(expected) && !rc) {
            say("cannot write %s", b.o.expected);
            rc = -1;
        }
    }
    if (b.md != stdout)
        fclose(b.md);
    if (b.pg)
        PQfinish(b.pg);
    cli_close(&b.cli);
    free(b.communities);
    free(b.streets);
    free(b.districts);
    free(b.centres);
    free(b.facs);
    free(b.meals);
    free(b.homes);
    free(b.covered);
    free(b.origins);
    return rc ? 1 : 0;
}
