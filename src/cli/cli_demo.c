/* cli_demo.c - linli demo: a district that looks like Chaoyang, built from
 * the real area list. The same seed gives the same district.
 *
 *  - counts per community: households around 2,000 (villages fewer, a few
 *    above 3,000 as in the district), 2.2-2.7 residents a household, about a
 *    fifth of residents aged 60 or more;
 *  - a profile for every resident aged 60 or more, with a plausible age
 *    pyramid, an ID number (GB 11643, mostly Chaoyang-born), phone, address,
 *    home point inside their community's neighbourhood and inside the
 *    district boundary, care needs and emergency contacts;
 *  - the social-work network of the article: 1 district guidance centre,
 *    35 street centres, 205 community stations, and support teams.
 * --scale K multiplies the people (and the counts) for load tests. */
#include "cli/cli.h"

#include "base/clock.h"
#include "base/idnum.h"
#include "domain/people.h"
#include "domain/registry.h"
#include "domain/stations.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEMO_STREET_CENTRES     35
#define DEMO_COMMUNITY_STATIONS 205

/* ---- a small deterministic generator (splitmix64) ---- */

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
    if (u < 1e-12)
        u = 1e-12;
    return sqrt(-2 * log(u)) * cos(2 * 3.14159265358979323846 * v);
}

static bool chance(struct rng *r, double p)
{
    return rng_unit(r) < p;
}

/* ---- the things people are made of ---- */

static const char *const surnames[] = {
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高",
    "林", "何", "郭", "马", "罗", "梁", "宋", "郑", "谢", "韩", "唐", "冯", "于", "董", "萧",
    "程", "曹", "袁", "邓", "许", "傅", "沈", "曾", "彭", "吕", "苏", "卢", "蒋", "蔡", "贾",
    "丁", "魏", "薛", "叶", "阎", "余", "潘", "杜", "戴", "夏", "钟", "汪", "田", "任", "姜",
    "范", "方", "石", "姚", "谭", "廖", "邹", "熊", "金", "陆", "郝", "孔", "白", "崔", "康",
    "毛", "邱", "秦", "江", "史", "顾", "侯", "邵", "孟", "龙", "万", "段", "雷", "钱", "汤"};
static const char *const given_m[] = {"建国", "国强", "志明", "德华", "文斌", "振华", "国庆",
                                      "永刚", "伟",   "强",   "军",   "勇",   "杰",   "明",
                                      "华",   "平",   "刚",   "峰",   "建军", "志强", "桂林",
                                      "宝山", "长顺", "福生", "秀峰", "立新"};
static const char *const given_f[] = {"秀英", "桂英", "秀兰", "玉兰", "淑珍", "凤英", "玉珍",
                                      "桂兰", "丽",   "敏",   "静",   "芳",   "燕",   "红",
                                      "霞",   "萍",   "娟",   "英",   "淑英", "玉梅", "秀珍",
                                      "素琴", "凤兰", "丽华", "建华", "慧"};
static const char *const relations[] = {"儿子", "女儿", "配偶", "儿媳",
                                        "女婿", "孙子", "邻居", "侄女"};
static const char *const conditions[] = {"高血压",       "糖尿病",   "冠心病",       "慢阻肺",
                                         "脑卒中后遗症", "骨质疏松", "阿尔茨海默病", "关节炎",
                                         "白内障",       "慢性肾病"};
static const double condition_share[] = {0.45, 0.18, 0.12, 0.06, 0.04, 0.15, 0.04, 0.2, 0.1, 0.03};
/* Birthplaces (county codes of the ID number): mostly Chaoyang, then the rest
 * of Beijing and nearby provinces. The first is chosen with this share, the
 * rest evenly. */
static const char *const birthplaces[] = {"110105", "110101", "110102", "110108",
                                          "110106", "130102", "370102", "410102",
                                          "320102", "210102", "140105"};
#define BIRTHPLACE_CHAOYANG_SHARE 0.4

/* Age bands 60-64, 65-69, ... 90-99: share of the over-60s (a pyramid that
 * narrows with age, close to Beijing's census shape). */
static const double age_band_share[] = {0.30, 0.25, 0.18, 0.12, 0.08, 0.05, 0.02};

struct demo {
    struct cli *c;
    struct rng rng;
    double scale;
    struct boundary *boundary;
    struct area *communities;
    int ncommunities;
    struct area *streets;
    int nstreets;
    struct area district;
    uint16_t (*seq)[2]; /* next sequence per (birthplace, day, sex) */
    int today;
    int64_t people_total;
};

static int day_index(int y, int m, int d)
{
    /* days since 1900-01-01, for the sequence table */
    int a = (14 - m) / 12, yy = y + 4800 - a, mm = m + 12 * a - 3;
    return d + (153 * mm + 2) / 5 + 365 * yy + yy / 4 - yy / 100 + yy / 400 - 32045 - 2415021;
}

#define DEMO_DAYS 60000

/* Makes a unique valid ID number for someone born on y-m-d. */
static int make_id(struct demo *dm, int y, int m, int d, bool male, char out[IDNUM_LEN + 1])
{
    int nb = (int)(sizeof birthplaces / sizeof birthplaces[0]);
    int bp = chance(&dm->rng, BIRTHPLACE_CHAOYANG_SHARE) ? 0 : 1 + rng_below(&dm->rng, nb - 1);
    int day = day_index(y, m, d);
    if (day < 0 || day >= DEMO_DAYS)
        return -1;
    uint16_t *n = &dm->seq[(size_t)bp * DEMO_DAYS + (size_t)day][male];
    if (*n >= 499)
        return -1;
    int seq = 2 * (*n)++ + (male ? 1 : 0) + 2; /* 002..999, parity gives the sex */
    char first[48];
    snprintf(first, sizeof first, "%s%04d%02d%02d%03d", birthplaces[bp], y, m, d, seq);
    if (strlen(first) != IDNUM_LEN - 1)
        return -1;
    memcpy(out, first, IDNUM_LEN - 1);
    out[IDNUM_LEN - 1] = idnum_check_char(first);
    out[IDNUM_LEN] = '\0';
    return 0;
}

static void make_name(struct rng *r, bool male, char *out, size_t size)
{
    const char *s = surnames[rng_below(r, (int)(sizeof surnames / sizeof surnames[0]))];
    const char *g = male ? given_m[rng_below(r, (int)(sizeof given_m / sizeof given_m[0]))]
                         : given_f[rng_below(r, (int)(sizeof given_f / sizeof given_f[0]))];
    snprintf(out, size, "%s%s", s, g);
}

static void make_mobile(struct rng *r, char *out, size_t size)
{
    static const char *const prefixes[] = {"138", "139", "135", "136", "137", "150", "151", "152",
                                           "186", "185", "133", "153", "180", "189", "177", "199"};
    snprintf(out, size, "%s%08d", prefixes[rng_below(r, 16)], rng_below(r, 100000000));
}

/* A home point near `centre`, inside the district. */
static struct geo_point place(struct demo *dm, struct geo_point centre, double sigma_m)
{
    for (int tries = 0; tries < 50; tries++) {
        struct geo_point p = {centre.lat + rng_normal(&dm->rng) * sigma_m / 111000.0,
                              centre.lon + rng_normal(&dm->rng) * sigma_m / 85000.0};
        if (!dm->boundary || boundary_contains(dm->boundary, p))
            return p;
        sigma_m *= 0.8;
    }
    return centre;
}

static const struct area *parent_street(struct demo *dm, const struct area *a)
{
    for (int i = 0; i < dm->nstreets; i++)
        if (!strcmp(dm->streets[i].code, a->parent_code))
            return &dm->streets[i];
    return NULL;
}

/* The centre to place a community's people around, and how far they spread. */
static struct geo_point community_centre(struct demo *dm, const struct area *a, double *sigma)
{
    if (a->has_point) {
        *sigma = 300;
        return a->point;
    }
    const struct area *s = parent_street(dm, a);
    if (s && s->has_point) {
        *sigma = 900;
        return s->point;
    }
    *sigma = 4000;
    return dm->district.point;
}

static int load_areas(struct demo *dm, int level, struct area **out, int *n)
{
    struct linli_err err;
    linli_err_clear(&err);
    struct area_filter f = {.level = level, .limit = 1000};
    bool more;
    if (registry_list(&dm->c->d, &dm->c->who, &f, out, n, &more, &err))
        return cli_report(&err);
    return 0;
}

struct person_buf {
    struct person_in in;
    char name[64], id[IDNUM_LEN + 1], phone[24], address[400];
    char cname[3][64], cphone[3][24];
};

static void bad_row(void *ctx, size_t index, const char *field, const char *reason)
{
    (void)ctx;
    fprintf(stderr, "linli: demo row %zu, %s: %s\n", index, field, reason);
}

/* Generates and imports the over-60s of one community. */
static int people_of(struct demo *dm, const struct area *a, int64_t elderly, struct person_buf *buf,
                     struct progress *bar)
{
    double sigma;
    struct geo_point centre = community_centre(dm, a, &sigma);
    char short_name[300];
    snprintf(short_name, sizeof short_name, "%s", a->name);
    char *cut = strstr(short_name, "社区居委会");
    if (!cut)
        cut = strstr(short_name, "村委会");
    if (!cut)
        cut = strstr(short_name, "村民委员会");
    if (cut)
        *cut = '\0';
    int ty = dm->today / 10000;
    for (int64_t i = 0; i < elderly; i++) {
        struct person_buf *b = &buf[i];
        memset(b, 0, sizeof *b);
        struct rng *r = &dm->rng;
        double u = rng_unit(r), acc = 0;
        int band = 0;
        for (; band < 6; band++) {
            acc += age_band_share[band];
            if (u < acc)
                break;
        }
        int age = 60 + band * 5 + rng_below(r, band == 6 ? 10 : 5);
        bool male = chance(r, age >= 80 ? 0.42 : 0.48);
        int m = 1 + rng_below(r, 12), d = 1 + rng_below(r, 28);
        int y = ty - age - (m * 100 + d > dm->today % 10000 ? 1 : 0);
        if (make_id(dm, y, m, d, male, b->id) != 0)
            b->id[0] = '\0';
        make_name(r, male, b->name, sizeof b->name);
        struct person_in *p = &b->in;
        p->name = b->name;
        p->id_number = b->id[0] ? b->id : NULL;
        if (chance(r, 0.8)) {
            if (chance(r, 0.85))
                make_mobile(r, b->phone, sizeof b->phone);
            else
                snprintf(b->phone, sizeof b->phone, "010-6%07d", rng_below(r, 10000000));
            p->phone = b->phone;
        }
        snprintf(b->address, sizeof b->address, "%s%d号楼%d单元%d号", short_name,
                 1 + rng_below(r, 30), 1 + rng_below(r, 6),
                 101 + rng_below(r, 18) * 100 + rng_below(r, 4));
        p->address = b->address;
        struct geo_point h = place(dm, centre, sigma);
        p->has_home = true;
        p->lat = h.lat;
        p->lon = h.lon;
        p->community_code = a->code;
        p->living_alone = chance(r, age >= 80 ? 0.25 : age >= 70 ? 0.18 : 0.12);
        double dep = age >= 85 ? 0.30 : age >= 75 ? 0.12 : 0.04;
        p->care_level =
            chance(r, dep) ? (chance(r, 0.4) ? "dependent" : "partly_dependent") : "self_care";
        if (chance(r, 0.06))
            p->disability = chance(r, 0.5) ? "肢体三级" : "视力二级";
        double s = rng_unit(r);
        p->subsidy_class = s < 0.02    ? "dibao"
                           : s < 0.025 ? "tekun"
                           : s < 0.055 ? "low_income"
                           : s < 0.058 ? "shidu"
                           : s < 0.068 ? "youfu"
                                       : NULL;
        for (size_t k = 0; k < sizeof conditions / sizeof conditions[0]; k++)
            if (chance(r, condition_share[k] * (age >= 75 ? 1.3 : 1.0)) &&
                p->nconditions < PERSON_CONDITIONS_MAX)
                p->conditions[p->nconditions++] = conditions[k];
        int nc = p->living_alone ? 1 + rng_below(r, 2) : 1 + rng_below(r, 3);
        for (int k = 0; k < nc; k++) {
            make_name(r, chance(r, 0.5), b->cname[k], sizeof b->cname[k]);
            make_mobile(r, b->cphone[k], sizeof b->cphone[k]);
            p->contacts[k].name = b->cname[k];
            p->contacts[k].relation = relations[rng_below(r, 8)];
            p->contacts[k].phone = b->cphone[k];
        }
        p->ncontacts = nc;
        p->consent = chance(r, 0.85);
    }
    struct person_in *rows = malloc((size_t)elderly * sizeof *rows);
    if (!rows)
        return cli_die("out of memory");
    for (int64_t i = 0; i < elderly; i++)
        rows[i] = buf[i].in;
    struct people_import_options o = {.skip_bad = false, .bad_row = bad_row};
    struct people_import_report rep;
    struct linli_err err;
    linli_err_clear(&err);
    int rc = people_import(&dm->c->d, &dm->c->who, rows, (size_t)elderly, &o, &rep, &err);
    free(rows);
    if (rc)
        return cli_report(&err);
    dm->people_total += (int64_t)rep.imported;
    progress_update(bar, dm->people_total);
    return 0;
}

static int counts_and_people(struct demo *dm)
{
    struct area_counts *counts = calloc((size_t)dm->ncommunities, sizeof *counts);
    if (!counts)
        return cli_die("out of memory");
    int64_t total_elderly = 0, max_elderly = 0;
    for (int i = 0; i < dm->ncommunities; i++) {
        const struct area *a = &dm->communities[i];
        bool village = !strcmp(a->kind, "village");
        double h = exp(log(village ? 1100.0 : 2100.0) + 0.45 * rng_normal(&dm->rng));
        if (h < 250)
            h = 250;
        if (h > 9000)
            h = 9000;
        int64_t households = (int64_t)(h * dm->scale + 0.5);
        int64_t residents = (int64_t)((double)households * (2.2 + 0.5 * rng_unit(&dm->rng)));
        int64_t elderly = (int64_t)((double)residents * (0.16 + 0.08 * rng_unit(&dm->rng)));
        snprintf(counts[i].code, sizeof counts[i].code, "%s", a->code);
        counts[i].households = households;
        counts[i].residents = residents;
        counts[i].elderly = elderly;
        total_elderly += elderly;
        if (elderly > max_elderly)
            max_elderly = elderly;
    }
    struct linli_err err;
    linli_err_clear(&err);
    if (registry_set_counts_many(&dm->c->d, &dm->c->who, counts, (size_t)dm->ncommunities, &err)) {
        free(counts);
        return cli_report(&err);
    }
    struct person_buf *buf = calloc((size_t)(max_elderly > 0 ? max_elderly : 1), sizeof *buf);
    if (!buf) {
        free(counts);
        return cli_die("out of memory");
    }
    struct progress bar;
    progress_start(&bar, "people", total_elderly);
    int rc = 0;
    for (int i = 0; i < dm->ncommunities && !rc; i++)
        rc = people_of(dm, &dm->communities[i], counts[i].elderly, buf, &bar);
    if (!rc)
        progress_finish(&bar);
    free(buf);
    free(counts);
    return rc;
}

static int network(struct demo *dm, int *nstations)
{
    size_t cap = 1 + DEMO_STREET_CENTRES + DEMO_COMMUNITY_STATIONS;
    struct station_import_row *rows = calloc(cap, sizeof *rows);
    char(*names)[320] = calloc(cap, sizeof *names);
    char(*addrs)[320] = calloc(cap, sizeof *addrs);
    if (!rows || !names || !addrs) {
        free(rows);
        free(names);
        free(addrs);
        return cli_die("out of memory");
    }
    size_t n = 0;
    /* The district guidance centre. */
    snprintf(names[n], sizeof names[n], "%s社会工作指导中心", dm->district.name);
    snprintf(addrs[n], sizeof addrs[n], "%s日坛北路%d号", dm->district.name,
             1 + rng_below(&dm->rng, 30));
    rows[n].f = (struct station_fields){.name = names[n],
                                        .level = "district_centre",
                                        .area_code = dm->district.code,
                                        .address = addrs[n],
                                        .has_point = dm->district.has_point,
                                        .point = dm->district.point,
                                        .has_staff = true,
                                        .staff = 20,
                                        .opening_hours = "周一至周五 08:30-17:30"};
    rows[n].line = (long)n + 1;
    n++;
    /* Street centres for 35 of the streets, chosen by the seed. */
    int *order =
        malloc((size_t)(dm->nstreets > dm->ncommunities ? dm->nstreets : dm->ncommunities) *
               sizeof *order);
    if (!order) {
        free(rows);
        free(names);
        free(addrs);
        return cli_die("out of memory");
    }
    for (int i = 0; i < dm->nstreets; i++)
        order[i] = i;
    for (int i = dm->nstreets - 1; i > 0; i--) {
        int k = rng_below(&dm->rng, i + 1), t = order[i];
        order[i] = order[k];
        order[k] = t;
    }
    for (int i = 0; i < dm->nstreets && i < DEMO_STREET_CENTRES; i++) {
        const struct area *s = &dm->streets[order[i]];
        double sigma;
        struct geo_point c = s->has_point ? s->point : community_centre(dm, s, &sigma);
        snprintf(names[n], sizeof names[n], "%s社会工作服务中心", s->name);
        snprintf(addrs[n], sizeof addrs[n], "%s政务服务中心%d层", s->name,
                 1 + rng_below(&dm->rng, 3));
        rows[n].f = (struct station_fields){.name = names[n],
                                            .level = "street_centre",
                                            .area_code = s->code,
                                            .address = addrs[n],
                                            .has_point = true,
                                            .point = place(dm, c, 200),
                                            .has_staff = true,
                                            .staff = 5 + rng_below(&dm->rng, 6),
                                            .opening_hours = "周一至周五 08:30-17:30"};
        rows[n].line = (long)n + 1;
        n++;
    }
    for (int i = 0; i < dm->ncommunities; i++)
        order[i] = i;
    for (int i = dm->ncommunities - 1; i > 0; i--) {
        int k = rng_below(&dm->rng, i + 1), t = order[i];
        order[i] = order[k];
        order[k] = t;
    }
    for (int i = 0; i < dm->ncommunities && i < DEMO_COMMUNITY_STATIONS; i++) {
        const struct area *a = &dm->communities[order[i]];
        double sigma;
        struct geo_point c = community_centre(dm, a, &sigma);
        snprintf(names[n], sizeof names[n], "%s社工站", a->name);
        snprintf(addrs[n], sizeof addrs[n], "%s党群服务中心", a->name);
        rows[n].f = (struct station_fields){.name = names[n],
                                            .level = "community_station",
                                            .area_code = a->code,
                                            .address = addrs[n],
                                            .has_point = true,
                                            .point = place(dm, c, 150),
                                            .has_staff = true,
                                            .staff = 1 + rng_below(&dm->rng, 4),
                                            .opening_hours = "周一至周六 09:00-17:00"};
        rows[n].line = (long)n + 1;
        n++;
    }
    free(order);
    struct station_import_opts o = {.source = "linli demo"};
    struct station_import_report rep = {0};
    struct linli_err err;
    linli_err_clear(&err);
    int rc = stations_import(&dm->c->d, &dm->c->who, rows, n, &o, &rep, &err);
    for (size_t i = 0; rc && i < rep.nerrors; i++)
        fprintf(stderr, "linli: demo station %ld, %s: %s\n", rep.errors[i].line,
                rep.errors[i].field, rep.errors[i].message);
    stations_import_report_free(&rep);
    free(rows);
    free(names);
    free(addrs);
    if (rc)
        return cli_report(&err);
    *nstations = (int)n;
    return 0;
}

static int teams(struct demo *dm, int *nteams)
{
    static const struct {
        const char *name, *kind, *org;
        int communities;
    } defs[] = {
        {"朝阳社区规划师团队", "planner", "北京市城市规划设计研究院", 40},
        {"社区律师顾问团", "lawyer", "北京市朝阳区律师协会", 60},
        {"物业管理专家组", "property", "朝阳区物业管理行业协会", 30},
        {"心理关爱服务队", "counsellor", "朝阳区心理卫生协会", 25},
        {"邻里守望社会组织", "social_org", "朝阳区社会组织服务中心", 50},
        {"老年助餐公益组织", "social_org", "朝阳区慈善协会", 35},
    };
    const char **codes = malloc((size_t)dm->ncommunities * sizeof *codes);
    if (!codes)
        return cli_die("out of memory");
    for (size_t t = 0; t < sizeof defs / sizeof defs[0]; t++) {
        int k = 0;
        for (int i = 0; i < dm->ncommunities && k < defs[t].communities; i++)
            if (chance(&dm->rng, (double)defs[t].communities / dm->ncommunities * 1.2))
                codes[k++] = dm->communities[i].code;
        char phone[24];
        make_mobile(&dm->rng, phone, sizeof phone);
        struct team_fields f = {.name = defs[t].name,
                                .kind = defs[t].kind,
                                .organisation = defs[t].org,
                                .contact_phone = phone,
                                .has_members = true,
                                .members = 5 + rng_below(&dm->rng, 20),
                                .communities = codes,
                                .ncommunities = (size_t)k,
                                .set_communities = true};
        struct support_team out = {0};
        struct linli_err err;
        linli_err_clear(&err);
        int rc = support_teams_create(&dm->c->d, &dm->c->who, &f, NULL, &out, NULL, &err);
        support_teams_release(&out, 1);
        if (rc) {
            free(codes);
            return cli_report(&err);
        }
    }
    free(codes);
    *nteams = (int)(sizeof defs / sizeof defs[0]);
    return 0;
}

int cli_demo(struct cli *c, int argc, char **argv)
{
    if (cli_check_opts(argc, argv, (const char *const[]){"--seed=", "--scale=", "--dir=", NULL}))
        return 1;
    const char *seed_text = cli_opt(argc, argv, "--seed");
    const char *scale_text = cli_opt(argc, argv, "--scale");
    const char *dir = cli_opt(argc, argv, "--dir");
    if (!dir)
        dir = "data/chaoyang";
    char *end;
    unsigned long long seed = seed_text ? strtoull(seed_text, &end, 10) : 1;
    if (seed_text && (*end || !*seed_text))
        return cli_die("--seed wants a whole number");
    double scale = scale_text ? strtod(scale_text, &end) : 1.0;
    if (scale_text && (*end || !(scale > 0.0009 && scale <= 100)))
        return cli_die("--scale wants a number from 0.001 to 100");

    /* The areas first: the real list (a re-import changes nothing). */
    char dir_opt[] = "--dir";
    char *import_args[] = {dir_opt, (char *)dir};
    if (cli_import_areas(c, 2, import_args))
        return 1;
    if (cli_open(c, 0))
        return 1;
    struct demo dm = {.c = c, .rng = {seed * 0x2545F4914F6CDD1Dull + 1}, .scale = scale};
    dm.today = people_today();
    struct linli_err err;
    linli_err_clear(&err);
    struct people_query q = {.age_min = -1, .age_max = -1, .living_alone = -1, .limit = 1};
    struct person *some;
    int nsome = 0;
    int64_t next;
    if (people_search(&c->d, &c->who, &q, &some, &nsome, &next, &err)) {
        cli_close(c);
        return cli_report(&err);
    }
    free(some);
    if (nsome > 0) {
        cli_close(c);
        return cli_die("the database holds people already; the demo fills an empty registry "
                       "(use a new --db)");
    }
    char bpath[4096];
    snprintf(bpath, sizeof bpath, "%s/boundary_gcj02.geojson", dir);
    dm.boundary = boundary_load_gcj02(bpath, &err);
    linli_err_clear(&err);
    dm.seq =
        calloc((size_t)(sizeof birthplaces / sizeof birthplaces[0]) * DEMO_DAYS, sizeof *dm.seq);
    int rc = !dm.seq ? cli_die("out of memory") : 0;
    struct area *districts = NULL;
    int nd = 0;
    if (!rc)
        rc = load_areas(&dm, 0, &districts, &nd);
    if (!rc && nd < 1)
        rc = cli_die("no district in the area list");
    if (!rc) {
        dm.district = districts[0];
        rc = load_areas(&dm, 1, &dm.streets, &dm.nstreets);
    }
    if (!rc)
        rc = load_areas(&dm, 2, &dm.communities, &dm.ncommunities);
    int64_t t0 = clock_mono_us();
    int nstations = 0, nteams = 0;
    if (!rc)
        rc = counts_and_people(&dm);
    if (!rc)
        rc = network(&dm, &nstations);
    if (!rc)
        rc = teams(&dm, &nteams);
    if (!rc)
        printf("Demo district (seed %llu, scale %g): %d streets, %d communities, %lld people aged "
               "60+, %d social-work centres and stations, %d support teams, in %.1f s.\n",
               seed, scale, dm.nstreets, dm.ncommunities, (long long)dm.people_total, nstations,
               nteams, (double)(clock_mono_us() - t0) / 1e6);
    free(districts);
    free(dm.streets);
    free(dm.communities);
    free(dm.seq);
    boundary_free(dm.boundary);
    cli_close(c);
    return rc;
}
