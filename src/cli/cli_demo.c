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
 *    35 street centres, 205 community stations, and support teams;
 *  - the elderly-service directory of the article: 81 institutions with
 *    20,000+ beds (more on the outskirts), 172 care stations and 187 dining
 *    tables where old people live, regional centres in 30 of 43 streets,
 *    health centres and stations, family-bed and home-service providers,
 *    with hours, closures, prices and subsidy rules. Their counts scale with
 *    --scale (at least one of each); Spring Festival closures are the next
 *    festival's, so they follow today's date;
 *  - an account for each role the pages need, and two months of cases
 *    (cli_demo_accounts.c, cli_demo_cases.c).
 * --scale K multiplies the people (and the counts) for load tests. */
#include "cli/cli_demo.h"

#include "base/clock.h"
#include "base/idnum.h"
#include "domain/care.h"
#include "domain/directory.h"
#include "domain/people.h"
#include "domain/registry.h"
#include "domain/stations.h"

#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEMO_STREET_CENTRES     35
#define DEMO_COMMUNITY_STATIONS 205

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

void make_mobile(struct rng *r, char *out, size_t size)
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
        dm->communities[i].elderly = elderly; /* where the facilities go */
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

/* ---- the elderly-service directory ---- */

/* Facilities at scale 1. The first three and the beds are the article's
 * (老年餐桌187家, 养老机构81家, 养老驿站172家, 养老床位2万余张); a regional centre
 * stands in 30 of the 43 streets, so that "where do the next 13 go" (the
 * district's plan) has an answer; the rest are plausible for Chaoyang. The
 * dining tables are few enough that many old people have none within a
 * 15-minute walk, as in the district. */
#define DEMO_INSTITUTIONS         81
#define DEMO_INSTITUTION_BEDS     20000 /* at least this many beds in all, at scale 1 */
#define DEMO_ELDER_STATIONS       172
#define DEMO_DINING_TABLES        187
#define DEMO_REGIONAL_CENTRES     30
#define DEMO_HEALTH_CENTRES       43 /* about one per street */
#define DEMO_HEALTH_STATIONS      120
#define DEMO_FAMILY_BED_PROVIDERS 12
#define DEMO_PROVIDERS            40
#define DEMO_BEDS_MIN             50 /* beds of one institution */
#define DEMO_BEDS_MAX             800
#define DEMO_FACILITY_BATCH       1000 /* rows per facilities_import call (about 30 KB each) */

/* How many of a kind the demo places at `scale`: never none. Tests compute
 * the same (floor(base * scale + 0.5), at least 1). */
static int demo_count(int base, double scale)
{
    double n = floor(base * scale + 0.5);
    return n < 1 ? 1 : (int)n;
}

static const char *const brands[] = {"寸草春晖", "恭和", "福寿康", "椿萱茂",  "乐成", "诚和敬",
                                     "汇晨",     "安馨", "随园",   "鹤童",    "普亲", "九如",
                                     "夕阳红",   "松堂", "康盛",   "金色年华"};
static const char *const home_brands[] = {"安心",   "爱侬",   "福祥",   "幸福家",
                                          "好帮手", "小羽佳", "易到家", "邻里帮"};
static const char *const institution_suffixes[] = {"养老院", "颐养中心", "老年公寓", "护理院",
                                                   "长者之家"};
static const char *const roads[] = {
    "东三环中路", "朝阳北路", "广渠路",     "北苑路",     "姚家园路", "双桥路", "东坝中路",
    "朝阳路",     "望京西路", "来广营西路", "北四环东路", "十里河路", "金盏路", "酒仙桥路",
    "慧忠路",     "安立路",   "定福庄东街", "百子湾路",   "高碑店路", "平房路"};
#define NELEMS(a) ((int)(sizeof(a) / sizeof(a)[0]))

/* The Spring Festival closure (from the eve, a week), by year. */
static const char *const spring_festival[][2] = {
    {"2026-02-16", "2026-02-22"}, {"2027-02-05", "2027-02-11"}, {"2028-01-25", "2028-01-31"},
    {"2029-02-12", "2029-02-18"}, {"2030-02-02", "2030-02-08"}, {"2031-01-22", "2031-01-28"},
    {"2032-02-10", "2032-02-16"}, {"2033-01-30", "2033-02-05"}, {"2034-02-18", "2034-02-24"},
    {"2035-02-07", "2035-02-13"}};

/* The name without the committee's suffix, with 社区 or 村: "南郎家园社区". */
void community_short(const struct area *a, char *out, size_t size)
{
    static const char *const suffixes[] = {"社区居民委员会", "社区居委会", "社区委员会",
                                           "村民委员会",     "村委会",     "居委会",
                                           "社区",           "村"};
    char s[AREA_NAME_MAX * 4 + 1];
    snprintf(s, sizeof s, "%s", a->name);
    size_t n = strlen(s);
    for (int i = 0; i < NELEMS(suffixes); i++) {
        size_t k = strlen(suffixes[i]);
        if (n > k && !strcmp(s + n - k, suffixes[i])) {
            s[n - k] = '\0';
            break;
        }
    }
    snprintf(out, size, "%s%s", s, !strcmp(a->kind, "village") ? "村" : "社区");
}

/* "望京街道" -> "望京", "南磨房地区" -> "南磨房". */
static void street_short(const struct area *s, char *out, size_t size)
{
    snprintf(out, size, "%s", s->name);
    size_t n = strlen(out), k = strlen("街道");
    if (n > k && (!strcmp(out + n - k, "街道") || !strcmp(out + n - k, "地区")))
        out[n - k] = '\0';
}

/* Where a street's street-wide facilities go: its centre point, else its
 * first community with a point of its own, else the district's centre. */
static struct geo_point street_centre(struct demo *dm, const struct area *s, double *sigma)
{
    *sigma = 300;
    if (s->has_point)
        return s->point;
    for (int i = 0; i < dm->ncommunities; i++)
        if (dm->communities[i].has_point && !strcmp(dm->communities[i].parent_code, s->code))
            return dm->communities[i].point;
    *sigma = 3000;
    return dm->district.point;
}

struct keyed {
    double key;
    int index;
};

static int by_key_desc(const void *a, const void *b)
{
    const struct keyed *x = a, *y = b;
    if (x->key != y->key)
        return x->key > y->key ? -1 : 1;
    return x->index - y->index;
}

/* Picks `k` of `n` items by weight (w > 0), without replacement while they
 * last and then again (round[j] counts how often all were used before pick
 * j). Weighted sampling by keys u^(1/w) (Efraimidis and Spirakis). */
static int pick_weighted(struct rng *r, const double *w, int n, int k, int *out, int *round)
{
    if (n <= 0)
        return -1;
    struct keyed *ks = malloc((size_t)n * sizeof *ks);
    if (!ks)
        return -1;
    for (int done = 0, rd = 0; done < k; rd++) {
        for (int i = 0; i < n; i++) {
            double u = rng_unit(r) + 1e-12;
            ks[i].key = log(u) / (w[i] > 0 ? w[i] : 1e-9);
            ks[i].index = i;
        }
        qsort(ks, (size_t)n, sizeof *ks, by_key_desc);
        for (int j = 0; j < n && done < k; j++, done++) {
            out[done] = ks[j].index;
            round[done] = rd;
        }
    }
    free(ks);
    return 0;
}

/* A unified social credit code (GB 32100) with both check characters right:
 * `dept` "52" (民办非企业), "12" (事业单位) or "91" (企业). */
static void make_credit_code(struct rng *r, const char *dept, char out[19])
{
    static const char charset[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    static const int org_w[] = {3, 7, 9, 10, 5, 8, 4, 2};
    static const int w[] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};
    char body[9];
    if (!strcmp(dept, "12")) {
        /* Eight digits: 40000000 + [0, 9999999) never needs more. */
        unsigned n = 40000000u + (unsigned)rng_below(r, 9999999) % 10000000u;
        snprintf(body, sizeof body, "%08u", n % 100000000u);
    } else {
        body[0] = 'M';
        body[1] = !strcmp(dept, "52") ? 'J' : 'A';
        for (int i = 2; i < 8; i++)
            body[i] = charset[rng_below(r, !strcmp(dept, "52") ? 10 : 31)];
        body[8] = '\0';
    }
    int sum = 0;
    for (int i = 0; i < 8; i++) {
        char c = body[i];
        sum += (c <= '9' ? c - '0' : c - 'A' + 10) * org_w[i];
    }
    int c9 = 11 - sum % 11;
    char org_check = c9 == 10 ? 'X' : c9 == 11 ? '0' : (char)('0' + c9);
    snprintf(out, 19, "%s110105%s%c", dept, body, org_check);
    sum = 0;
    for (int i = 0; i < 17; i++)
        sum += (int)(strchr(charset, out[i]) - charset) * w[i];
    out[17] = charset[(31 - sum % 31) % 31];
    out[18] = '\0';
}

static void make_landline(struct rng *r, char *out, size_t size)
{
    static const char *const first[] = {"5", "6", "8"};
    snprintf(out, size, "010-%s%07d", first[rng_below(r, 3)], rng_below(r, 10000000));
}

#define DAYS_ALL      0x7Fu
#define DAYS_WEEKDAYS 0x1Fu
#define DAYS_WEEKEND  0x60u

static void open_on(struct week_hours *h, unsigned days, int open_min, int close_min)
{
    for (int d = 0; d < 7; d++)
        if (days & (1u << d) && h->nspans[d] < FACILITY_SPANS_MAX)
            h->spans[d][h->nspans[d]++] = (struct time_span){(int16_t)open_min, (int16_t)close_min};
}

#define HM(h, m) ((h)*60 + (m))

/* ---- services, prices and subsidies ---- */

static struct facility_service *service(struct facility_in *in, const char *code, int unit,
                                        int64_t price_fen, int age_min, unsigned care,
                                        const char *note)
{
    if (in->nservices == FACILITY_SERVICES_MAX)
        return NULL;
    struct facility_service *s = &in->services[in->nservices++];
    memset(s, 0, sizeof *s);
    snprintf(s->code, sizeof s->code, "%s", code);
    s->price_fen = price_fen;
    s->unit = unit;
    s->age_min = age_min;
    s->care_levels = care;
    snprintf(s->note, sizeof s->note, "%s", note);
    return s;
}

enum rule_effect { PERCENT_OFF, AMOUNT_OFF, PAY };

static void rule(struct facility_service *s, const char *label, unsigned classes, int age_min,
                 unsigned care, bool alone, enum rule_effect effect, int64_t value)
{
    if (!s || s->nrules == SERVICE_RULES_MAX)
        return;
    struct subsidy_rule *r = &s->rules[s->nrules++];
    memset(r, 0, sizeof *r);
    snprintf(r->label, sizeof r->label, "%s", label);
    r->classes = classes;
    r->age_min = age_min;
    r->care_levels = care;
    r->living_alone = alone;
    r->pay_fen = effect == PAY ? value : -1;
    r->percent_off = effect == PERCENT_OFF ? (int)value : 0;
    r->amount_off_fen = effect == AMOUNT_OFF ? value : 0;
}

#define CLASS(c)     (1u << (c))
#define POOR         (CLASS(SUBSIDY_DIBAO) | CLASS(SUBSIDY_TEKUN))
#define HONOURED     (CLASS(SUBSIDY_SHIDU) | CLASS(SUBSIDY_YOUFU))
#define NEEDS_CARE   (CARE_BIT(CARE_PARTLY_DEPENDENT) | CARE_BIT(CARE_DEPENDENT))
#define YUAN(lo, hi) ((int64_t)((lo) + rng_below(&dm->rng, (hi) - (lo) + 1)) * 100)

/* Meals served on site (`on_site`) and delivered (`delivery`), with the
 * district's meal subsidies. */
static void add_meals(struct demo *dm, struct facility_in *in, bool on_site, bool delivery)
{
    if (on_site) {
        struct facility_service *s =
            service(in, "meals", UNIT_MEAL, YUAN(12, 25), 60, 0, "两荤一素一汤，主食不限量");
        rule(s, "特困老人免费就餐", CLASS(SUBSIDY_TEKUN), 0, 0, false, PAY, 0);
        rule(s, "低保老人半价", CLASS(SUBSIDY_DIBAO), 0, 0, false, PERCENT_OFF, 50);
        rule(s, "80岁以上每餐减3元", 0, 80, 0, false, AMOUNT_OFF, 300);
        rule(s, "失独、优抚老人八折", HONOURED, 0, 0, false, PERCENT_OFF, 20);
    }
    if (delivery) {
        struct facility_service *s =
            service(in, "meal_delivery", UNIT_MEAL, YUAN(18, 30), 60, 0, "送餐上门，提前一天预订");
        rule(s, "低保、特困老人半价", POOR, 0, 0, false, PERCENT_OFF, 50);
        rule(s, "80岁以上独居老人免配送费", 0, 80, 0, true, AMOUNT_OFF, 500);
        rule(s, "失能老人免配送费", 0, 0, NEEDS_CARE, false, AMOUNT_OFF, 500);
    }
}

/* The usual discounts of a care service, and what the poorest pay. */
static void care_rules(struct facility_service *s)
{
    rule(s, "低保、特困老人半价", POOR, 0, 0, false, PERCENT_OFF, 50);
    rule(s, "失独、优抚老人八折", HONOURED, 0, 0, false, PERCENT_OFF, 20);
}

static void add_day_care(struct demo *dm, struct facility_in *in)
{
    care_rules(service(in, "day_care", UNIT_DAY, YUAN(80, 150), 60, 0, "含午餐、午休和文娱活动"));
}

static void add_cleaning(struct demo *dm, struct facility_in *in)
{
    struct facility_service *s =
        service(in, "cleaning", UNIT_HOUR, YUAN(40, 60), 60, 0, "居家保洁，2小时起");
    care_rules(s);
    rule(s, "80岁以上独居老人每小时减10元", 0, 80, 0, true, AMOUNT_OFF, 1000);
}

static void add_bathing(struct demo *dm, struct facility_in *in)
{
    struct facility_service *s =
        service(in, "bathing", UNIT_VISIT, YUAN(60, 120), 60, 0, "上门助浴，两名护理员");
    care_rules(s);
    rule(s, "失能老人助浴补贴30元", 0, 0, NEEDS_CARE, false, AMOUNT_OFF, 3000);
}

static void add_respite(struct demo *dm, struct facility_in *in)
{
    care_rules(service(in, "respite", UNIT_DAY, YUAN(150, 300), 60, 0, "短期托养，最长30天"));
}

static void add_rehabilitation(struct demo *dm, struct facility_in *in)
{
    care_rules(service(in, "rehabilitation", UNIT_VISIT, YUAN(80, 200), 0, 0, "康复评估与训练"));
}

static void add_home_nursing(struct demo *dm, struct facility_in *in)
{
    care_rules(service(in, "home_nursing", UNIT_VISIT, YUAN(100, 200), 60, NEEDS_CARE,
                       "上门护理：换药、导尿、压疮护理"));
}

static void add_escort(struct demo *dm, struct facility_in *in)
{
    care_rules(service(in, "medical_escort", UNIT_HOUR, YUAN(50, 80), 60, 0, "陪同就医、取药"));
}

static void add_psychological(struct demo *dm, struct facility_in *in)
{
    struct facility_service *s =
        service(in, "psychological", UNIT_HOUR, YUAN(100, 200), 60, 0, "心理咨询与精神慰藉");
    rule(s, "低保、特困老人免费", POOR, 0, 0, false, PAY, 0);
    rule(s, "失独老人免费", CLASS(SUBSIDY_SHIDU), 0, 0, false, PAY, 0);
}

static void add_residential(struct demo *dm, struct facility_in *in, bool public_run)
{
    struct facility_service *s = service(in, "residential_care", UNIT_MONTH, YUAN(40, 120) * 100,
                                         60, 0, "床位费与基础护理，护理等级另计");
    if (public_run)
        rule(s, "特困人员集中供养", CLASS(SUBSIDY_TEKUN), 0, 0, false, PAY, 0);
    rule(s, "低保老人每月减1000元", CLASS(SUBSIDY_DIBAO), 0, 0, false, AMOUNT_OFF, 100000);
    rule(s, "失独、优抚老人九折", HONOURED, 0, 0, false, PERCENT_OFF, 10);
    rule(s, "失能老人护理补贴每月600元", 0, 0, CARE_BIT(CARE_DEPENDENT), false, AMOUNT_OFF, 60000);
}

static void add_family_bed(struct demo *dm, struct facility_in *in)
{
    struct facility_service *s =
        service(in, "family_bed", UNIT_MONTH, YUAN(15, 30) * 100, 60, NEEDS_CARE,
                "家庭养老照护床位：适老化改造、上门照护、远程监测");
    rule(s, "重度失能老人每月补贴1200元", 0, 0, CARE_BIT(CARE_DEPENDENT), false, AMOUNT_OFF,
         120000);
    rule(s, "低保、特困老人半价", POOR, 0, 0, false, PERCENT_OFF, 50);
}

static void add_health(struct facility_in *in, bool centre)
{
    service(in, "health_check", UNIT_VISIT, 0, 65, 0, "65岁以上老人每年一次免费体检");
    service(in, "chronic_care", UNIT_VISIT, 0, 0, 0, "家庭医生签约，慢病随访");
    if (centre) {
        service(in, "rehabilitation", UNIT_VISIT, 3000, 0, 0, "医保报销后自付");
        service(in, "home_nursing", UNIT_VISIT, 5000, 60, NEEDS_CARE, "家庭病床，医保报销后自付");
    }
}

/* ---- placing them ---- */

/* Room for any name the patterns make; the domain refuses the too long. */
#define DEMO_TEXT_MAX 1024

struct fac_text {
    char name[DEMO_TEXT_MAX];
    char registration[FACILITY_REG_MAX + 1];
    char address[DEMO_TEXT_MAX];
    char phone[24];
    char consortium[DEMO_TEXT_MAX];
};

struct fac_gen {
    struct demo *dm;
    struct facility_in *rows;
    struct fac_text *text;
    long *lines;
    int n;
    long line;
    int count[FACILITY_KINDS];
    int *beds; /* of each institution, in order */
    int64_t institution_beds, institution_free, other_beds;
    const char *spring_from, *spring_to;
    char national_from[11], national_to[11];
    double *street_elderly; /* by index of dm->streets */
};

static int fac_flush(struct fac_gen *g)
{
    if (g->n == 0)
        return 0;
    struct facility_import_opts o = {.source = "linli demo"};
    struct facility_import_report rep;
    memset(&rep, 0, sizeof rep);
    struct linli_err err;
    linli_err_clear(&err);
    int rc = facilities_import(&g->dm->c->d, &g->dm->c->who, g->rows, g->lines, (size_t)g->n, &o,
                               &rep, &err);
    for (int i = 0; rc && i < rep.nerrors; i++)
        fprintf(stderr, "linli: demo facility %ld, %s: %s\n", rep.errors[i].line,
                rep.errors[i].field, rep.errors[i].message);
    facility_import_report_free(&rep);
    g->n = 0;
    return rc ? cli_report(&err) : 0;
}

/* The next row to fill, with its text buffers wired in; NULL when a flush
 * failed. */
static struct facility_in *fac_row(struct fac_gen *g, int kind, const char *op, struct fac_text **t)
{
    if (g->n == DEMO_FACILITY_BATCH && fac_flush(g))
        return NULL;
    struct facility_in *in = &g->rows[g->n];
    *t = &g->text[g->n];
    memset(in, 0, sizeof *in);
    memset(*t, 0, sizeof **t);
    g->lines[g->n] = ++g->line;
    g->n++;
    g->count[kind]++;
    in->kind = facility_kind_name(kind);
    in->operator_type = op;
    in->name = (*t)->name;
    in->registration = (*t)->registration;
    in->address = (*t)->address;
    in->phone = (*t)->phone;
    in->has_point = true;
    in->capacity = in->beds_total = in->beds_free = -1;
    struct rng *r = &g->dm->rng;
    in->rating_tenths = chance(r, 0.7) ? 35 + rng_below(r, 16) : -1;
    make_landline(r, (*t)->phone, sizeof(*t)->phone);
    return in;
}

/* Fills in the street's consortium, when the facility belongs to one. */
static void fac_consortium(struct fac_text *t, struct facility_in *in, const struct area *street)
{
    if (!street)
        return;
    snprintf(t->consortium, sizeof t->consortium, "%s养老服务联合体", street->name);
    in->consortium = t->consortium;
}

static void fac_spring_closure(struct fac_gen *g, struct facility_in *in)
{
    struct closure *c = &in->closures[in->nclosures++];
    snprintf(c->from, sizeof c->from, "%s", g->spring_from);
    snprintf(c->to, sizeof c->to, "%s", g->spring_to);
    snprintf(c->reason, sizeof c->reason, "春节");
}

static const char *pick_op(struct rng *r, double p_public, double p_public_private)
{
    double u = rng_unit(r);
    return u < p_public ? "public" : u < p_public + p_public_private ? "public_private" : "private";
}

static const char *credit_dept(const char *op)
{
    return !strcmp(op, "public") ? "12" : "52";
}

static void round_suffix(char *name, size_t size, int round)
{
    if (round > 0) {
        size_t n = strlen(name);
        snprintf(name + n, size - n, "（%d）", round + 1);
    }
}

/* Community-level facilities of one kind, `k` of them where old people
 * live (weights w by community). */
static int community_facilities(struct fac_gen *g, int kind, int k, const double *w)
{
    struct demo *dm = g->dm;
    struct rng *r = &dm->rng;
    int *pick = malloc((size_t)k * sizeof *pick), *round = malloc((size_t)k * sizeof *round);
    if (!pick || !round || pick_weighted(r, w, dm->ncommunities, k, pick, round)) {
        free(pick);
        free(round);
        return cli_die("out of memory");
    }
    int rc = 0;
    for (int j = 0; j < k && !rc; j++) {
        const struct area *a = &dm->communities[pick[j]];
        const struct area *street = parent_street(dm, a);
        char cshort[320], sname[320];
        community_short(a, cshort, sizeof cshort);
        snprintf(sname, sizeof sname, "%s", street ? street->name : "");
        double sigma;
        struct geo_point c = community_centre(dm, a, &sigma);
        struct fac_text *t;
        struct facility_in *in;
        if (kind == FACILITY_INSTITUTION) {
            const char *op = pick_op(r, 0.25, 0.30);
            if (!(in = fac_row(g, kind, op, &t))) {
                rc = 1;
                break;
            }
            const char *brand = brands[rng_below(r, NELEMS(brands))];
            char place_name[320];
            snprintf(place_name, sizeof place_name, "%s", cshort);
            size_t pn = strlen(place_name), sk = strlen("社区");
            if (pn > sk && !strcmp(place_name + pn - sk, "社区"))
                place_name[pn - sk] = '\0';
            if (!strcmp(op, "public"))
                snprintf(t->name, sizeof t->name, "北京市朝阳区%s养老照料中心", place_name);
            else
                snprintf(t->name, sizeof t->name, "北京%s%s%s", brand, place_name,
                         institution_suffixes[rng_below(r, NELEMS(institution_suffixes))]);
            make_credit_code(r, chance(r, 0.3) && strcmp(op, "public") ? "91" : credit_dept(op),
                             t->registration);
            snprintf(t->address, sizeof t->address, "北京市朝阳区%s%s%d号", sname,
                     roads[rng_below(r, NELEMS(roads))], 1 + rng_below(r, 300));
            in->point = place(dm, c, sigma * 1.5);
            in->beds_total = g->beds[j];
            in->beds_free = (int)lround(in->beds_total * (0.05 + 0.15 * rng_unit(r)));
            g->institution_beds += in->beds_total;
            g->institution_free += in->beds_free;
            open_on(&in->hours, DAYS_ALL, 0, HM(24, 0));
            add_residential(dm, in, !strcmp(op, "public"));
            if (chance(r, 0.3))
                add_respite(dm, in);
            if (chance(r, 0.3))
                add_day_care(dm, in);
            if (chance(r, 0.4))
                add_rehabilitation(dm, in);
            if (chance(r, 0.1)) /* a canteen open to the neighbours */
                add_meals(dm, in, true, true);
        } else if (kind == FACILITY_STATION) {
            const char *op = pick_op(r, 0.05, 0.60);
            if (!(in = fac_row(g, kind, op, &t))) {
                rc = 1;
                break;
            }
            snprintf(t->name, sizeof t->name, "%s养老驿站", cshort);
            make_credit_code(r, credit_dept(op), t->registration);
            snprintf(t->address, sizeof t->address, "北京市朝阳区%s%s%d号楼一层", sname, cshort,
                     1 + rng_below(r, 30));
            in->point = place(dm, c, sigma * 0.5);
            open_on(&in->hours, DAYS_ALL, HM(8, 0), HM(20, 0));
            if (chance(r, 0.3))
                fac_spring_closure(g, in);
            in->capacity = 20 + rng_below(r, 41);
            if (chance(r, 0.4)) {
                in->beds_total = 2 + rng_below(r, 7);
                in->beds_free = rng_below(r, 3);
                g->other_beds += in->beds_total;
                add_respite(dm, in);
            }
            add_day_care(dm, in);
            if (chance(r, 0.45))
                add_meals(dm, in, true, chance(r, 0.5));
            if (chance(r, 0.5))
                add_bathing(dm, in);
            if (chance(r, 0.5))
                add_cleaning(dm, in);
            if (chance(r, 0.3))
                add_rehabilitation(dm, in);
            if (chance(r, 0.2))
                add_psychological(dm, in);
            if (chance(r, 0.02))
                in->status = "suspended";
        } else if (kind == FACILITY_DINING) {
            const char *op = pick_op(r, 0.10, 0.40);
            if (!(in = fac_row(g, kind, op, &t))) {
                rc = 1;
                break;
            }
            snprintf(t->name, sizeof t->name, "%s老年餐桌", cshort);
            make_credit_code(r, !strcmp(op, "public") ? "12" : "91", t->registration);
            snprintf(t->address, sizeof t->address, "北京市朝阳区%s%s%d号楼底商", sname, cshort,
                     1 + rng_below(r, 30));
            if (chance(r, 0.5))
                make_mobile(r, t->phone, sizeof t->phone);
            in->point = place(dm, c, sigma * 0.5);
            /* Lunch and supper only; a third close on Sundays. */
            unsigned days = chance(r, 0.33) ? 0x3Fu : DAYS_ALL;
            open_on(&in->hours, days, HM(11, 0), HM(13, 0));
            open_on(&in->hours, days, HM(17, 0), HM(18, 30));
            if (chance(r, 0.6))
                fac_spring_closure(g, in);
            if (chance(r, 0.1)) {
                struct closure *cl = &in->closures[in->nclosures++];
                snprintf(cl->from, sizeof cl->from, "%s", g->national_from);
                snprintf(cl->to, sizeof cl->to, "%s", g->national_to);
                snprintf(cl->reason, sizeof cl->reason, "国庆");
            }
            in->capacity = 30 + rng_below(r, 91);
            add_meals(dm, in, true, chance(r, 0.4));
            if (chance(r, 0.02))
                in->status = "suspended";
        } else { /* FACILITY_HEALTH: a community health station */
            if (!(in = fac_row(g, kind, "public", &t))) {
                rc = 1;
                break;
            }
            snprintf(t->name, sizeof t->name, "%s卫生服务站", cshort);
            make_credit_code(r, "12", t->registration);
            snprintf(t->address, sizeof t->address, "北京市朝阳区%s%s%d号楼", sname, cshort,
                     1 + rng_below(r, 30));
            in->point = place(dm, c, sigma * 0.5);
            open_on(&in->hours, DAYS_WEEKDAYS, HM(8, 0), HM(17, 0));
            add_health(in, false);
        }
        round_suffix(t->name, sizeof t->name, round[j]);
        in->area_code = a->code;
        fac_consortium(t, in, street);
    }
    free(pick);
    free(round);
    return rc;
}

/* Street-wide facilities of one kind: `k` of them in the streets `order`
 * (then again round the streets). */
static int street_facilities(struct fac_gen *g, int kind, int k, const int *order,
                             const int *rounds)
{
    struct demo *dm = g->dm;
    struct rng *r = &dm->rng;
    for (int j = 0; j < k; j++) {
        const struct area *s = &dm->streets[order[j]];
        char sshort[320];
        street_short(s, sshort, sizeof sshort);
        double sigma;
        struct geo_point c = street_centre(dm, s, &sigma);
        struct fac_text *t;
        struct facility_in *in;
        if (kind == FACILITY_REGIONAL_CENTRE) {
            const char *op = chance(r, 0.3) ? "public" : "public_private";
            if (!(in = fac_row(g, kind, op, &t)))
                return 1;
            snprintf(t->name, sizeof t->name, "%s区域养老服务中心", s->name);
            make_credit_code(r, credit_dept(op), t->registration);
            snprintf(t->address, sizeof t->address, "北京市朝阳区%s%s%d号", s->name,
                     roads[rng_below(r, NELEMS(roads))], 1 + rng_below(r, 200));
            open_on(&in->hours, DAYS_WEEKDAYS, HM(8, 30), HM(17, 30));
            in->capacity = 80 + rng_below(r, 121);
            add_day_care(dm, in);
            add_meals(dm, in, true, true);
            add_bathing(dm, in);
            add_cleaning(dm, in);
            add_rehabilitation(dm, in);
            add_psychological(dm, in);
            add_escort(dm, in);
            add_respite(dm, in);
        } else if (kind == FACILITY_HEALTH) {
            if (!(in = fac_row(g, kind, "public", &t)))
                return 1;
            snprintf(t->name, sizeof t->name, "北京市朝阳区%s社区卫生服务中心", sshort);
            make_credit_code(r, "12", t->registration);
            snprintf(t->address, sizeof t->address, "北京市朝阳区%s%s%d号", s->name,
                     roads[rng_below(r, NELEMS(roads))], 1 + rng_below(r, 200));
            open_on(&in->hours, DAYS_WEEKDAYS, HM(8, 0), HM(17, 0));
            open_on(&in->hours, DAYS_WEEKEND, HM(8, 0), HM(12, 0));
            add_health(in, true);
        } else if (kind == FACILITY_FAMILY_BED) {
            if (!(in = fac_row(g, kind, "private", &t)))
                return 1;
            snprintf(t->name, sizeof t->name, "北京%s家庭养老照护服务中心（%s）",
                     brands[rng_below(r, NELEMS(brands))], sshort);
            make_credit_code(r, "52", t->registration);
            snprintf(t->address, sizeof t->address, "北京市朝阳区%s%s%d号", s->name,
                     roads[rng_below(r, NELEMS(roads))], 1 + rng_below(r, 200));
            open_on(&in->hours, DAYS_ALL, 0, HM(24, 0));
            in->capacity = 20 + rng_below(r, 41);
            in->beds_total = 10 + rng_below(r, 31);
            in->beds_free = rng_below(r, 6);
            g->other_beds += in->beds_total;
            add_family_bed(dm, in);
            add_home_nursing(dm, in);
            if (chance(r, 0.5))
                add_rehabilitation(dm, in);
        } else { /* FACILITY_PROVIDER */
            if (!(in = fac_row(g, kind, "private", &t)))
                return 1;
            snprintf(t->name, sizeof t->name, "北京%s家政服务有限公司%s服务部",
                     home_brands[rng_below(r, NELEMS(home_brands))], sshort);
            make_credit_code(r, "91", t->registration);
            snprintf(t->address, sizeof t->address, "北京市朝阳区%s%s%d号", s->name,
                     roads[rng_below(r, NELEMS(roads))], 1 + rng_below(r, 200));
            make_mobile(r, t->phone, sizeof t->phone);
            open_on(&in->hours, DAYS_ALL, HM(8, 0), HM(18, 0));
            in->capacity = 20 + rng_below(r, 81);
            add_cleaning(dm, in);
            if (chance(r, 0.6))
                add_bathing(dm, in);
            if (chance(r, 0.5))
                add_meals(dm, in, false, true);
            if (chance(r, 0.5))
                add_escort(dm, in);
            if (chance(r, 0.3))
                add_home_nursing(dm, in);
        }
        round_suffix(t->name, sizeof t->name, rounds[j]);
        in->area_code = s->code;
        in->point = place(dm, c, sigma);
        if (kind != FACILITY_PROVIDER || chance(r, 0.7))
            fac_consortium(t, in, s);
    }
    return 0;
}

/* The streets in an order: shuffled (weights NULL) or by weight, k of them
 * (round and round the streets when k is more). */
static int street_order(struct demo *dm, const double *w, int k, int **order, int **rounds)
{
    *order = malloc((size_t)k * sizeof **order);
    *rounds = malloc((size_t)k * sizeof **rounds);
    double *ones = malloc((size_t)dm->nstreets * sizeof *ones);
    if (!*order || !*rounds || !ones) {
        free(ones);
        return -1;
    }
    for (int i = 0; i < dm->nstreets; i++)
        ones[i] = 1;
    int rc = pick_weighted(&dm->rng, w ? w : ones, dm->nstreets, k, *order, *rounds);
    free(ones);
    return rc;
}

static int street_kind(struct fac_gen *g, int kind, int k, const double *w)
{
    int *order = NULL, *rounds = NULL;
    int rc = street_order(g->dm, w, k, &order, &rounds)
                 ? cli_die("out of memory")
                 : street_facilities(g, kind, k, order, rounds);
    free(order);
    free(rounds);
    return rc;
}

/* The beds of `n` institutions into g->beds (malloc'd): at least
 * DEMO_INSTITUTION_BEDS * scale in all, each DEMO_BEDS_MIN..DEMO_BEDS_MAX,
 * large homes rarer than small ones. */
static int institution_beds(struct fac_gen *g, int n)
{
    struct rng *r = &g->dm->rng;
    double target = DEMO_INSTITUTION_BEDS * g->dm->scale * (1.01 + 0.06 * rng_unit(r));
    double *w = malloc((size_t)n * sizeof *w), sum = 0;
    g->beds = malloc((size_t)n * sizeof *g->beds);
    if (!w || !g->beds) {
        free(w);
        return cli_die("out of memory");
    }
    for (int i = 0; i < n; i++) {
        w[i] = exp(0.7 * rng_normal(r));
        sum += w[i];
    }
    int64_t total = 0;
    for (int i = 0; i < n; i++) {
        int beds = (int)(w[i] / sum * target);
        beds = beds < DEMO_BEDS_MIN ? DEMO_BEDS_MIN : beds > DEMO_BEDS_MAX ? DEMO_BEDS_MAX : beds;
        g->beds[i] = beds;
        total += beds;
    }
    /* Clipping lost some: give it to those with room, round and round. */
    for (int pass = 0; pass < 100 && total < (int64_t)target; pass++)
        for (int i = 0; i < n && total < (int64_t)target; i++) {
            int add = g->beds[i] + 10 <= DEMO_BEDS_MAX ? 10 : 0;
            g->beds[i] += add;
            total += add;
        }
    free(w);
    return 0;
}

static int facilities(struct demo *dm, struct fac_gen *g)
{
    if (dm->nstreets <= 0 || dm->ncommunities <= 0)
        return cli_die("no streets or communities to place the facilities in");
    int rc = 0;
    int n_comm = dm->ncommunities;
    double *w = malloc((size_t)(n_comm > 0 ? n_comm : 1) * sizeof *w);
    double *far = malloc((size_t)(n_comm > 0 ? n_comm : 1) * sizeof *far);
    g->street_elderly = calloc((size_t)(dm->nstreets > 0 ? dm->nstreets : 1), sizeof(double));
    g->rows = calloc(DEMO_FACILITY_BATCH, sizeof *g->rows);
    g->text = calloc(DEMO_FACILITY_BATCH, sizeof *g->text);
    g->lines = calloc(DEMO_FACILITY_BATCH, sizeof *g->lines);
    if (!w || !far || !g->street_elderly || !g->rows || !g->text || !g->lines)
        rc = cli_die("out of memory");
    /* Where old people live, and how far out each community lies. */
    double far_max = 1;
    for (int i = 0; !rc && i < n_comm; i++) {
        const struct area *a = &dm->communities[i];
        w[i] = a->elderly > 0 ? (double)a->elderly : 0.5;
        double sigma;
        far[i] = geo_distance_m(community_centre(dm, a, &sigma), dm->district.point);
        if (far[i] > far_max)
            far_max = far[i];
        for (int s = 0; s < dm->nstreets; s++)
            if (!strcmp(dm->streets[s].code, a->parent_code))
                g->street_elderly[s] += w[i];
    }
    /* Spring Festival: the next one not over yet; National Day likewise. */
    int ns = NELEMS(spring_festival), f = 0;
    char today[11];
    unsigned ty = (unsigned)dm->today / 10000u % 10000u, tmd = (unsigned)dm->today % 10000u;
    snprintf(today, sizeof today, "%04u-%02u-%02u", ty, tmd / 100u % 100u, tmd % 100u);
    while (f < ns - 1 && strcmp(spring_festival[f][1], today) < 0)
        f++;
    g->spring_from = spring_festival[f][0];
    g->spring_to = spring_festival[f][1];
    unsigned ny = (ty + (tmd > 1007u)) % 10000u;
    snprintf(g->national_from, sizeof g->national_from, "%04u-10-01", ny);
    snprintf(g->national_to, sizeof g->national_to, "%04u-10-07", ny);

    /* Institutions: more on the outskirts, where land is. */
    if (!rc) {
        double *wi = malloc((size_t)(n_comm > 0 ? n_comm : 1) * sizeof *wi);
        if (!wi)
            rc = cli_die("out of memory");
        for (int i = 0; !rc && i < n_comm; i++) {
            double out = far[i] / far_max;
            wi[i] = sqrt(w[i]) * (0.15 + out * out) *
                    (!strcmp(dm->communities[i].kind, "village") ? 1.5 : 1.0);
        }
        int k = demo_count(DEMO_INSTITUTIONS, dm->scale);
        if (!rc)
            rc = institution_beds(g, k);
        if (!rc)
            rc = community_facilities(g, FACILITY_INSTITUTION, k, wi);
        free(wi);
    }
    if (!rc)
        rc = community_facilities(g, FACILITY_STATION, demo_count(DEMO_ELDER_STATIONS, dm->scale),
                                  w);
    if (!rc)
        rc = community_facilities(g, FACILITY_DINING, demo_count(DEMO_DINING_TABLES, dm->scale), w);
    if (!rc)
        rc = street_kind(g, FACILITY_REGIONAL_CENTRE, demo_count(DEMO_REGIONAL_CENTRES, dm->scale),
                         NULL);
    if (!rc)
        rc = street_kind(g, FACILITY_HEALTH, demo_count(DEMO_HEALTH_CENTRES, dm->scale), NULL);
    if (!rc)
        rc = community_facilities(g, FACILITY_HEALTH, demo_count(DEMO_HEALTH_STATIONS, dm->scale),
                                  w);
    if (!rc)
        rc = street_kind(g, FACILITY_FAMILY_BED, demo_count(DEMO_FAMILY_BED_PROVIDERS, dm->scale),
                         g->street_elderly);
    if (!rc)
        rc = street_kind(g, FACILITY_PROVIDER, demo_count(DEMO_PROVIDERS, dm->scale),
                         g->street_elderly);
    if (!rc)
        rc = fac_flush(g);
    free(w);
    free(far);
    free(g->street_elderly);
    free(g->beds);
    free(g->rows);
    free(g->text);
    free(g->lines);
    return rc;
}

/* ---- the one-key call centre (一键呼) ---- */

/* At scale 1, the article's figures: 46,700 subscribers; 56,600 incoming
 * calls and 124,000 proactive services a year, of which the demo writes the
 * last 30 days as history. */
#define DEMO_SUBSCRIBERS        46700
#define DEMO_CALLS_A_YEAR       56600
#define DEMO_PROACTIVE_A_YEAR   124000
#define DEMO_HISTORY_DAYS       30
#define DEMO_HOTLINE_BATCH      5000 /* rows per write job */
#define DEMO_WEEKLY_CALL_SHARE  0.2  /* of the other subscribers, who get a weekly call */
#define DEMO_ABANDONED_SHARE    0.012
#define DEMO_ANSWER_MEDIAN_MS   12000.0 /* answer times: log-normal, ~98% within 60 s */
#define DEMO_ANSWER_SIGMA       0.8
#define DEMO_HANDLING_MEDIAN_MS 180000.0
#define DEMO_DAY_MS             86400000LL

struct subscriber {
    int64_t person_id, device_id;
    char community[AREA_CODE_LEN + 1];
    int age;
    bool alone;
    double key; /* for the weighted draw */
};

struct people_read {
    int today;
    struct subscriber *v;
    size_t n, cap;
};

static const char DEMO_SQL_PEOPLE[] =
    "SELECT id, birth_date, living_alone, community_code FROM people ORDER BY id";

/* Reads who could carry a device: everyone with an age (all are 60 or more). */
static int people_read_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct people_read *r = arg;
    sqlite3_stmt *st = store_stmt(c, DEMO_SQL_PEOPLE, err);
    if (!st)
        return err->status;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *birth = sqlite3_column_text(st, 1);
        int age = people_age(birth ? (const char *)birth : "", r->today);
        if (age < 0)
            continue;
        if (r->n == r->cap) {
            size_t cap = r->cap ? r->cap * 2 : 4096;
            struct subscriber *v = realloc(r->v, cap * sizeof *v);
            if (!v) {
                sqlite3_reset(st);
                return linli_fail(err, LINLI_ENOMEM, "out of memory");
            }
            r->v = v;
            r->cap = cap;
        }
        struct subscriber *s = &r->v[r->n++];
        memset(s, 0, sizeof *s);
        s->person_id = sqlite3_column_int64(st, 0);
        s->age = age;
        s->alone = sqlite3_column_int(st, 2) != 0;
        const unsigned char *code = sqlite3_column_text(st, 3);
        snprintf(s->community, sizeof s->community, "%s", code ? (const char *)code : "");
    }
    if (rc != SQLITE_DONE)
        return store_fail(c, rc, "reading people", err);
    sqlite3_reset(st);
    return LINLI_OK;
}

static int by_draw_key(const void *a, const void *b)
{
    double x = ((const struct subscriber *)a)->key, y = ((const struct subscriber *)b)->key;
    return x < y ? 1 : x > y ? -1 : 0;
}

static int by_person(const void *a, const void *b)
{
    int64_t x = ((const struct subscriber *)a)->person_id,
            y = ((const struct subscriber *)b)->person_id;
    return x < y ? -1 : x > y;
}

/* A 15-digit IMEI-style serial: "860000", 8 digits that differ for every
 * index (a multiplication that is a bijection modulo 10^8) and a Luhn check
 * digit, as on a real IMEI. */
static void demo_serial(uint64_t mix, size_t index, char out[16])
{
    uint64_t body = (mix + (uint64_t)index * 3659u) % 100000000u;
    snprintf(out, 16, "860000%08llu", (unsigned long long)body);
    int sum = 0;
    for (int i = 0; i < 14; i++) {
        int d = out[i] - '0';
        if (i % 2) {
            d *= 2;
            if (d > 9)
                d -= 9;
        }
        sum += d;
    }
    out[14] = (char)('0' + (10 - sum % 10) % 10);
    out[15] = '\0';
}

/* The device's secret, from the seed's draw and the index: the same seed
 * gives the same secrets (demo secrets are not secret). */
static void demo_secret(uint64_t seed_draw, size_t index, char hex[2 * 32 + 1])
{
    unsigned char in[32], key[32];
    memcpy(in, "linli demo device secret", 24);
    uint64_t idx = (uint64_t)index;
    for (int i = 0; i < 4; i++) {
        in[24 + i] = (unsigned char)(seed_draw >> (8 * i));
        in[28 + i] = (unsigned char)(idx >> (8 * i));
    }
    crypto_generichash(key, sizeof key, in, sizeof in, (const unsigned char *)&seed_draw,
                       sizeof seed_draw);
    sodium_bin2hex(hex, 2 * 32 + 1, key, sizeof key);
}

static const char DEMO_SQL_DEVICE[] =
    "INSERT INTO devices (serial, model, firmware, secret, battery, signal, last_seen_at,"
    " created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8) RETURNING id";
static const char DEMO_SQL_SUBSCRIPTION[] =
    "INSERT INTO subscriptions (device_id, person_id, starts_at, created_at, updated_at)"
    " VALUES (?1, ?2, ?3, ?3, ?3)";

struct device_job {
    struct demo *dm;
    struct subscriber *subs;
    size_t first, n;
    uint64_t serial_mix, secret_draw;
    int64_t now;
};

/* Devices and their subscriptions, one batch. The devices module has no bulk
 * import: the demo writes its two tables directly, with the same columns
 * devices_create and subscriptions_create fill. */
static int device_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct device_job *j = arg;
    struct rng *r = &j->dm->rng;
    for (size_t i = 0; i < j->n; i++) {
        struct subscriber *s = &j->subs[i];
        size_t index = j->first + i;
        char serial[16], secret[2 * 32 + 1];
        demo_serial(j->serial_mix, index, serial);
        demo_secret(j->secret_draw, index, secret);
        sqlite3_stmt *st = store_stmt(c, DEMO_SQL_DEVICE, err);
        if (!st)
            return err->status;
        bool cn = chance(r, 0.25);
        sqlite3_bind_text(st, 1, serial, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, cn ? "一键呼 5键" : "LX-5K", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, chance(r, 0.8) ? "2.4.1" : "2.3.0", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, secret, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, 5, 30 + rng_below(r, 71));
        sqlite3_bind_int(st, 6, -55 - rng_below(r, 51));
        sqlite3_bind_int64(st, 7, j->now - rng_below(r, 600) * 1000LL);
        int64_t starts = j->now - (30 + rng_below(r, 3 * 365)) * DEMO_DAY_MS;
        sqlite3_bind_int64(st, 8, starts);
        int rc = sqlite3_step(st);
        if (rc != SQLITE_ROW)
            return store_fail(c, rc, "adding a demo device", err);
        s->device_id = sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
        if (!(st = store_stmt(c, DEMO_SQL_SUBSCRIPTION, err)))
            return err->status;
        sqlite3_bind_int64(st, 1, s->device_id);
        sqlite3_bind_int64(st, 2, s->person_id);
        sqlite3_bind_int64(st, 3, starts);
        if ((rc = sqlite3_step(st)) != SQLITE_DONE)
            return store_fail(c, rc, "adding a demo subscription", err);
    }
    return LINLI_OK;
}

/* A time in the last `days` days, more often in the day than at night. */
static int64_t demo_past(struct rng *r, int64_t now, int days)
{
    static const double hour_weight[24] = {1, 1, 1, 1,  1,  2, 4, 8, 12, 14, 13, 11,
                                           8, 7, 9, 11, 10, 8, 6, 5, 4,  3,  2,  1};
    double total = 0;
    for (int h = 0; h < 24; h++)
        total += hour_weight[h];
    double u = rng_unit(r) * total;
    int hour = 0;
    while (hour < 23 && u >= hour_weight[hour])
        u -= hour_weight[hour++];
    int64_t day_start = now - (1 + rng_below(r, days)) * DEMO_DAY_MS;
    day_start -= (day_start + 8 * 3600000LL) % DEMO_DAY_MS; /* local midnight, Beijing */
    return day_start + hour * 3600000LL + rng_below(r, 3600) * 1000LL + rng_below(r, 1000);
}

/* The call mix of the article's figures (2.8万 health consultations, 3.1万
 * convenience services of 5.66万 calls), the rest spread over the other
 * keys and false alarms. */
static const struct {
    const char *category, *trigger;
    int priority;
    double share;
} demo_call_mix[] = {
    {"health_consultation", "health", 1, 0.445},
    {"convenience_service", "service", 1, 0.490},
    {"emergency", "emergency", 0, 0.025},
    {"family", "family", 1, 0.020},
    {"false_alarm", "emergency", 0, 0.012},
    {"fire", "fire", 0, 0.002},
    {"other", "service", 1, 0.006},
};

static const struct {
    const char *kind;
    int priority;
    double share;
} demo_task_mix[] = {
    {"weekly_call", 1, 0.45},    {"checkin_call", 1, 0.20}, {"missed_checkin", 0, 0.15},
    {"follow_up", 1, 0.10},      {"callback", 0, 0.05},     {"birthday_call", 1, 0.03},
    {"discharge_call", 1, 0.02},
};

static const char DEMO_SQL_CALL[] =
    "INSERT INTO calls (direction, person_id, device_id, community_code, trigger, priority,"
    " state, category, created_at, offered_at, answered_at, classified_at, closed_at, outcome,"
    " updated_at) VALUES ('inbound', ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)";
static const char DEMO_SQL_TASK[] =
    "INSERT INTO tasks (kind, priority, state, person_id, community_code, due_at, outcome,"
    " note, created_at, done_at, updated_at) VALUES (?1, ?2, 'done', ?3, ?4, ?5,"
    " '演示数据：已完成', '演示数据', ?5, ?6, ?6)";

struct history_job {
    struct demo *dm;
    const struct subscriber *subs;
    size_t nsubs;
    int calls, tasks; /* to write in this job */
    int64_t now;
};

/* Generated history that the running system cannot make (its times are in
 * the past): closed calls with realistic answer times and done proactive
 * tasks, written straight to the calls and tasks tables. Outcomes say
 * "演示数据" (demo data); no operator accounts are made, so the calls have no
 * operator. */
static int history_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct history_job *j = arg;
    struct rng *r = &j->dm->rng;
    for (int i = 0; i < j->calls; i++) {
        const struct subscriber *s = &j->subs[rng_below(r, (int)j->nsubs)];
        double u = rng_unit(r);
        int k = 0;
        while (k < NELEMS(demo_call_mix) - 1 && u >= demo_call_mix[k].share)
            u -= demo_call_mix[k++].share;
        int64_t created = demo_past(r, j->now, DEMO_HISTORY_DAYS);
        bool abandoned = chance(r, DEMO_ABANDONED_SHARE);
        double answer = exp(log(DEMO_ANSWER_MEDIAN_MS) + DEMO_ANSWER_SIGMA * rng_normal(r));
        if (answer > 900000)
            answer = 900000;
        int64_t answered = created + (int64_t)answer;
        int64_t closed =
            answered + (int64_t)exp(log(DEMO_HANDLING_MEDIAN_MS) + 0.5 * rng_normal(r));
        sqlite3_stmt *st = store_stmt(c, DEMO_SQL_CALL, err);
        if (!st)
            return err->status;
        sqlite3_bind_int64(st, 1, s->person_id);
        sqlite3_bind_int64(st, 2, s->device_id);
        sqlite3_bind_text(st, 3, s->community, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 4, demo_call_mix[k].trigger, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 5, demo_call_mix[k].priority);
        sqlite3_bind_text(st, 6, abandoned ? "abandoned" : "closed", -1, SQLITE_STATIC);
        if (!abandoned) {
            sqlite3_bind_text(st, 7, demo_call_mix[k].category, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 9, created + 300);
            sqlite3_bind_int64(st, 10, answered);
            sqlite3_bind_int64(st, 11, answered + 20000 + rng_below(r, 60000));
            sqlite3_bind_int64(st, 12, closed);
            sqlite3_bind_text(st, 13, "演示数据：已处理", -1, SQLITE_STATIC);
        }
        sqlite3_bind_int64(st, 8, created);
        sqlite3_bind_int64(st, 14, abandoned ? created + 30000 : closed);
        int rc = sqlite3_step(st);
        if (rc != SQLITE_DONE)
            return store_fail(c, rc, "adding a demo call", err);
    }
    for (int i = 0; i < j->tasks; i++) {
        const struct subscriber *s = &j->subs[rng_below(r, (int)j->nsubs)];
        double u = rng_unit(r);
        int k = 0;
        while (k < NELEMS(demo_task_mix) - 1 && u >= demo_task_mix[k].share)
            u -= demo_task_mix[k++].share;
        int64_t due = demo_past(r, j->now, DEMO_HISTORY_DAYS);
        sqlite3_stmt *st = store_stmt(c, DEMO_SQL_TASK, err);
        if (!st)
            return err->status;
        sqlite3_bind_text(st, 1, demo_task_mix[k].kind, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, demo_task_mix[k].priority);
        sqlite3_bind_int64(st, 3, s->person_id);
        sqlite3_bind_text(st, 4, s->community, -1, SQLITE_TRANSIENT);
        int64_t done = due + (5 + rng_below(r, 240)) * 60000LL;
        sqlite3_bind_int64(st, 5, due);
        sqlite3_bind_int64(st, 6, done < j->now ? done : j->now - 1000); /* never in the future */
        int rc = sqlite3_step(st);
        if (rc != SQLITE_DONE)
            return store_fail(c, rc, "adding a demo task", err);
    }
    return LINLI_OK;
}

struct hotline_counts {
    size_t subscribers, alone80, checkin_plans, weekly_plans;
    int calls, tasks;
};

/* Devices for the people most in need (over 80 and living alone first, then
 * the other over-80s and those living alone), their subscriptions, care
 * plans (a daily check-in for every subscriber over 80 living alone, a
 * weekly call for a fifth of the others) and 30 days of call history. */
static int hotline(struct demo *dm, struct hotline_counts *out)
{
    memset(out, 0, sizeof *out);
    struct people_read pr = {.today = dm->today};
    struct linli_err err;
    linli_err_clear(&err);
    if (store_read(dm->c->d.store, people_read_job, &pr, &err)) {
        free(pr.v);
        return cli_report(&err);
    }
    size_t want = (size_t)demo_count(DEMO_SUBSCRIBERS, dm->scale);
    if (want > pr.n)
        want = pr.n;
    /* A weighted draw without replacement (Efraimidis-Spirakis): the largest
     * u^(1/w) win, so the weights favour without excluding. */
    for (size_t i = 0; i < pr.n; i++) {
        struct subscriber *s = &pr.v[i];
        double w = s->age >= 80 && s->alone ? 200 : s->age >= 80 ? 10 : s->alone ? 4 : 1;
        double u = rng_unit(&dm->rng);
        s->key = log(u > 0 ? u : 1e-300) / w;
    }
    qsort(pr.v, pr.n, sizeof *pr.v, by_draw_key);
    qsort(pr.v, want, sizeof *pr.v, by_person);
    struct subscriber *subs = pr.v;
    int64_t now = clock_now_ms();
    uint64_t serial_mix = rng_next(&dm->rng) % 100000000u, secret_draw = rng_next(&dm->rng);
    struct progress bar;
    progress_start(&bar, "devices", (int64_t)want);
    int rc = 0;
    for (size_t first = 0; first < want && !rc; first += DEMO_HOTLINE_BATCH) {
        size_t n = want - first < DEMO_HOTLINE_BATCH ? want - first : DEMO_HOTLINE_BATCH;
        struct device_job j = {dm, subs + first, first, n, serial_mix, secret_draw, now};
        if (store_write(dm->c->d.store, device_job, &j, &err))
            rc = cli_report(&err);
        else
            progress_update(&bar, (int64_t)(first + n));
    }
    if (!rc)
        progress_finish(&bar);
    out->subscribers = rc ? 0 : want;
    /* Care plans, through the care module (checked like any plan). */
    struct care_plan_in *plans = rc ? NULL : calloc(want ? want : 1, sizeof *plans);
    if (!rc && !plans)
        rc = cli_die("out of memory");
    size_t np = 0;
    for (size_t i = 0; !rc && i < want; i++) {
        const struct subscriber *s = &subs[i];
        struct care_plan_in p = {.person_id = s->person_id, .weekday = -1, .interval_days = -1};
        if (s->age >= 80 && s->alone) {
            out->alone80++;
            p.kind = "daily_checkin";
            p.time_of_day = 8 * 60 + 30 * rng_below(&dm->rng, 5); /* 08:00 to 10:00 */
            out->checkin_plans++;
        } else if (chance(&dm->rng, DEMO_WEEKLY_CALL_SHARE)) {
            p.kind = "weekly_call";
            p.weekday = rng_below(&dm->rng, 7);
            p.time_of_day = 9 * 60 + 30 * rng_below(&dm->rng, 14); /* 09:00 to 15:30 */
            out->weekly_plans++;
        } else {
            continue;
        }
        plans[np++] = p;
    }
    size_t made = 0;
    if (!rc && care_plans_import(&dm->c->d, &dm->c->who, plans, np, &made, &err))
        rc = cli_report(&err);
    free(plans);
    /* History: a month of the year's calls and proactive services. */
    out->calls = demo_count((int)floor((double)DEMO_CALLS_A_YEAR * DEMO_HISTORY_DAYS / 365.0 + 0.5),
                            dm->scale);
    out->tasks = demo_count(
        (int)floor((double)DEMO_PROACTIVE_A_YEAR * DEMO_HISTORY_DAYS / 365.0 + 0.5), dm->scale);
    int calls_left = out->calls, tasks_left = out->tasks;
    while (!rc && want && (calls_left > 0 || tasks_left > 0)) {
        int nc = calls_left < DEMO_HOTLINE_BATCH ? calls_left : DEMO_HOTLINE_BATCH;
        int nt = tasks_left < DEMO_HOTLINE_BATCH ? tasks_left : DEMO_HOTLINE_BATCH;
        struct history_job h = {dm, subs, want, nc, nt, now};
        if (store_write(dm->c->d.store, history_job, &h, &err))
            rc = cli_report(&err);
        calls_left -= nc;
        tasks_left -= nt;
    }
    if (!want)
        out->calls = out->tasks = 0;
    free(pr.v);
    return rc;
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
    if (demo_accounts_check(c)) {
        cli_close(c);
        return 1;
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
    struct fac_gen g = {.dm = &dm};
    int64_t t1 = clock_mono_us();
    if (!rc)
        rc = facilities(&dm, &g);
    if (!rc) {
        int centres = g.count[FACILITY_REGIONAL_CENTRE];
        printf("Elderly services: %d institutions (%lld beds, %lld free), %d care stations, %d "
               "dining tables, %d regional centres in %d of %d streets, %d health centres and "
               "stations, %d family-bed providers (%lld family and station beds), %d home-service "
               "providers, in %.1f s.\n",
               g.count[FACILITY_INSTITUTION], (long long)g.institution_beds,
               (long long)g.institution_free, g.count[FACILITY_STATION], g.count[FACILITY_DINING],
               centres, centres < dm.nstreets ? centres : dm.nstreets, dm.nstreets,
               g.count[FACILITY_HEALTH], g.count[FACILITY_FAMILY_BED], (long long)g.other_beds,
               g.count[FACILITY_PROVIDER], (double)(clock_mono_us() - t1) / 1e6);
    }
    struct hotline_counts hc;
    int64_t t2 = clock_mono_us();
    if (!rc)
        rc = hotline(&dm, &hc);
    if (!rc)
        printf("One-key call centre: %zu devices and subscriptions (%zu subscribers over 80 living "
               "alone), %zu daily check-in and %zu weekly-call plans, and as generated history of "
               "the last %d days %d calls and %d proactive services done, in %.1f s. Demo device "
               "secrets are derived from the seed: they are not secret.\n",
               hc.subscribers, hc.alone80, hc.checkin_plans, hc.weekly_plans, DEMO_HISTORY_DAYS,
               hc.calls, hc.tasks, (double)(clock_mono_us() - t2) / 1e6);
    /* Accounts to try the pages with, and a history of cases for them. */
    struct demo_district w = {.c = c,
                              .scale = scale,
                              .seed = rng_next(&dm.rng),
                              .district = &dm.district,
                              .streets = dm.streets,
                              .nstreets = dm.nstreets,
                              .communities = dm.communities,
                              .ncommunities = dm.ncommunities,
                              .boundary = dm.boundary};
    struct demo_accounts accounts = {0};
    if (!rc)
        rc = demo_accounts_create(&w, &accounts);
    if (!rc)
        rc = demo_cases(&w, &accounts);
    if (!rc)
        demo_accounts_print(&accounts);
    free(districts);
    free(dm.streets);
    free(dm.communities);
    free(dm.seq);
    boundary_free(dm.boundary);
    cli_close(c);
    return rc;
}
