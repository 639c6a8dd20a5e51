/* cases_bench.c - the case workflow at district scale, for bench/cases_bench.sh.
 *
 *   cases_bench gen --db DB [--cases 1000000] [--days 365] [--seed 1] [--queries FILE]
 *       Writes CASES cases with their whole history into a database that
 *       `linli init` and `linli import areas` made. There is no bulk path in
 *       the domain (cases_create writes one case per write job, with routing,
 *       numbering, an audit entry and a bus event), so this program writes
 *       the rows itself with prepared statements on one SQLite connection, in
 *       transactions of GEN_TXN cases: cases, case_units (the lead),
 *       case_events (submitted, then accepted, dispatched, in_progress,
 *       resolved, rated, reopened, closed, or rejected / duplicate, at
 *       generated times) and case_number_seq, with the schema's own triggers
 *       (the trigram index) firing as they do for linlid. Submission times
 *       are spread over the DAYS before now, in time order; everything that
 *       would happen after now has not happened yet. --queries writes the
 *       search texts, communities and streets the latency script asks for.
 *
 *   cases_bench figures --db DB [--runs 3]
 *       Times cases_stats_compute (the domain call behind GET
 *       /api/v1/reports/cases) as the admin over the last whole month, the
 *       current month and the last 366 days, and cases_recurring over the
 *       last whole month; prints markdown rows.
 *
 *   cases_bench jpeg --out FILE [--kb 30]
 *       Writes a structurally valid baseline JPEG (SOI, JFIF, Exif, DQT, SOF0
 *       640x480, DHT, SOS, entropy-coded bytes, EOI) of about KB kilobytes.
 *       The server reads a photo's structure, never its pixels, so the
 *       entropy-coded bytes are random (never 0xFF); they hold the 20-byte
 *       placeholder PHOTO_SLOT, which the load script replaces with a counter
 *       so that every upload is a new file.
 *
 * Never run by the tests; no timing is asserted. */
#include "base/clock.h"
#include "domain/cases_stats.h"
#include "domain/domain.h"
#include "store/store.h"

#include <sqlite3.h>

#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define GEN_TXN       20000 /* cases per transaction while generating */
#define MIN_MS        60000LL
#define HOUR_MS       (60 * MIN_MS)
#define DAY_MS        (24 * HOUR_MS)
#define LOCAL_MS      (8 * HOUR_MS) /* Asia/Shanghai */
#define SIGMA_M       300.0         /* spread of case points around a community's centre */
#define M_PER_DEG_LAT 111195.0
#define PHOTO_SLOT    "PHOTOSLOT00000000000" /* 20 bytes the load script overwrites */
#define QUERY_TERMS   40                     /* community names offered to the search script */

/* ---- a small deterministic generator ---- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double uniform(void)
{
    return (double)(rnd() >> 11) / 9007199254740992.0;
}

static int pick(int n)
{
    return (int)(rnd() % (uint64_t)n);
}

static double gauss(void)
{
    double u = uniform(), v = uniform();
    return sqrt(-2.0 * log(u > 1e-300 ? u : 1e-300)) * cos(2 * M_PI * v);
}

/* A delay of about `typical` ms, exponentially spread. */
static int64_t delay(int64_t typical)
{
    double u = uniform();
    return (int64_t)(-log(1.0 - u * 0.999999) * (double)typical) + 1000;
}

static double mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("cases_bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

/* ---- what cases are about ---- */

struct category {
    const char *code;
    int weight;                    /* per thousand */
    int response_min, resolve_min; /* the seeded defaults */
    const char *unit;              /* a department that leads it, or NULL: the community */
    const char *titles[5];
    const char *things[6];
    const char *effects[4];
};

static const struct category categories[] = {
    {"corridor_clutter",
     200,
     1440,
     10080,
     NULL,
     {"楼道堆物", "楼道堆放杂物", "消防通道堆物", "楼梯间堆放纸箱", "地下室堆物"},
     {"纸箱", "旧家具", "自行车", "杂物", "花盆", "电动车"},
     {"影响通行", "存在消防隐患", "邻居反映多次", "请尽快清理"}},
    {"small_ads",
     120,
     1440,
     10080,
     NULL,
     {"小广告", "电线杆小广告", "楼道小广告", "单元门小广告", "墙面涂写广告"},
     {"开锁", "疏通下水道", "办证", "搬家", "收购旧物", "家政"},
     {"影响市容", "清理后又贴上", "贴满整面墙", "请清理"}},
    {"public_facility",
     120,
     1440,
     10080,
     NULL,
     {"路灯不亮", "健身器材损坏", "井盖缺失", "座椅损坏", "护栏损坏"},
     {"路灯", "健身器材", "井盖", "长椅", "护栏", "指示牌"},
     {"存在安全隐患", "夜间出行不便", "老人容易摔倒", "请尽快维修"}},
    {"sanitation",
     140,
     1440,
     10080,
     NULL,
     {"垃圾未清运", "垃圾桶满溢", "绿地有垃圾", "污水外溢", "宠物粪便"},
     {"垃圾桶", "绿地", "垃圾站", "排水沟", "便道", "楼前空地"},
     {"气味难闻", "招引蚊蝇", "多日无人清理", "影响环境"}},
    {"illegal_parking",
     120,
     1440,
     10080,
     "dept-jtzd",
     {"违章停车", "占用消防通道停车", "人行道停车", "共享单车乱停", "僵尸车"},
     {"小区门口", "消防通道", "人行道", "地铁口", "公交站", "路口"},
     {"堵塞交通", "救护车无法通行", "长期占用", "请尽快处理"}},
    {"noise",
     80,
     1440,
     10080,
     NULL,
     {"夜间施工噪音", "广场舞噪音", "商铺外放音乐", "装修噪音", "空调外机噪音"},
     {"工地", "广场", "商铺", "楼上住户", "餐馆", "空调外机"},
     {"影响休息", "持续到深夜", "老人孩子无法入睡", "多次沟通无效"}},
    {"property_mgmt",
     100,
     1440,
     10080,
     NULL,
     {"电梯故障", "物业不作为", "楼顶漏水", "门禁损坏", "地库渗水"},
     {"电梯", "楼顶", "门禁", "地库", "单元门", "外墙"},
     {"物业迟迟不修", "老人上下楼困难", "已报修多次", "请督促物业"}},
    {"elderly_service",
     40,
     1440,
     10080,
     NULL,
     {"助餐点服务", "老人需要助浴", "养老驿站咨询", "独居老人探访", "适老化改造"},
     {"助餐点", "养老驿站", "社区食堂", "日间照料中心", "卫生服务站", "老年活动室"},
     {"希望增加服务", "排队时间长", "请上门服务", "咨询办理流程"}},
    {"utilities",
     50,
     120,
     1440,
     "dept-cgw",
     {"停水", "暖气不热", "停电", "燃气异味", "水压低"},
     {"自来水", "暖气", "电", "燃气", "热水", "水表"},
     {"全楼受影响", "家中有老人", "已持续一天", "请尽快恢复"}},
    {"other",
     30,
     1440,
     10080,
     NULL,
     {"其他问题", "咨询建议", "流浪动物", "树木遮挡", "违建"},
     {"流浪猫", "大树", "围墙", "棚子", "空地", "水池"},
     {"请有关部门处理", "希望改善", "存在隐患", "请回复"}},
};
#define NCATEGORIES (sizeof categories / sizeof categories[0])

static const struct category *pick_category(void)
{
    int r = pick(1000), acc = 0;
    for (size_t i = 0; i < NCATEGORIES; i++)
        if (r < (acc += categories[i].weight))
            return &categories[i];
    return &categories[NCATEGORIES - 1];
}

struct community {
    char code[13], street[13];
    char name[128], short_name[128];
    bool has_point;
    double lat, lon;
};

static struct community *communities;
static int ncommunities;

static void load_communities(sqlite3 *db)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT code, name, parent_code, lat, lon FROM areas"
                           " WHERE level = 2 AND retired_edition IS NULL ORDER BY code",
                           -1, &st, NULL))
        die("reading areas: %s", sqlite3_errmsg(db));
    int cap = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (ncommunities == cap) {
            cap = cap ? cap * 2 : 1024;
            communities = realloc(communities, (size_t)cap * sizeof *communities);
            if (!communities)
                die("out of memory");
        }
        struct community *c = &communities[ncommunities++];
        memset(c, 0, sizeof *c);
        snprintf(c->code, sizeof c->code, "%s", (const char *)sqlite3_column_text(st, 0));
        snprintf(c->name, sizeof c->name, "%s", (const char *)sqlite3_column_text(st, 1));
        const unsigned char *parent = sqlite3_column_text(st, 2);
        snprintf(c->street, sizeof c->street, "%s", parent ? (const char *)parent : "");
        c->has_point = sqlite3_column_type(st, 3) != SQLITE_NULL;
        c->lat = sqlite3_column_double(st, 3);
        c->lon = sqlite3_column_double(st, 4);
        /* 南郎家园社区居委会 -> 南郎家园 */
        snprintf(c->short_name, sizeof c->short_name, "%s", c->name);
        static const char *const tails[] = {"社区居委会", "村委会", "居委会", "社区"};
        for (size_t k = 0; k < sizeof tails / sizeof tails[0]; k++) {
            char *t = strstr(c->short_name, tails[k]);
            if (t && t > c->short_name) {
                *t = '\0';
                break;
            }
        }
    }
    sqlite3_finalize(st);
    if (!ncommunities)
        die("no communities: run `linli import areas` first");
}

/* ---- generating ---- */

struct gen {
    sqlite3 *db;
    sqlite3_stmt *ins_case, *ins_event, *ins_unit, *ins_seq;
    int64_t now;
    int64_t events;
};

static sqlite3_stmt *prep(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL))
        die("preparing %s: %s", sql, sqlite3_errmsg(db));
    return st;
}

static void exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg))
        die("%s: %s", sql, msg ? msg : "?");
}

static void step(sqlite3 *db, sqlite3_stmt *st)
{
    if (sqlite3_step(st) != SQLITE_DONE)
        die("writing: %s", sqlite3_errmsg(db));
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

static void event(struct gen *g, int64_t id, int64_t at, const char *kind, const char *state,
                  const char *unit, const char *detail)
{
    sqlite3_stmt *st = g->ins_event;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, at);
    sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, state, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, unit ? unit : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 6, detail ? detail : "{}", -1, SQLITE_TRANSIENT);
    step(g->db, st);
    g->events++;
}

static int local_day(int64_t ms)
{
    time_t t = (time_t)((ms + LOCAL_MS) / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    return (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static const char *const channels[] = {"snap",    "snap",    "snap",    "snap",    "snap",
                                       "hotline", "hotline", "hotline", "walk_in", "open311"};
static const char *const ratings[] = {"satisfied", "basically_satisfied", "unsatisfied"};

/* One case and its history up to g->now. */
static void gen_case(struct gen *g, int64_t id, int64_t created, int day, int seq)
{
    const struct category *cat = pick_category();
    const struct community *cm = &communities[pick(ncommunities)];
    const char *unit = cat->unit ? cat->unit : (pick(20) == 0 ? cm->street : cm->code);
    int64_t resp_ms = cat->response_min * MIN_MS, res_ms = cat->resolve_min * MIN_MS;
    char number[24], title[128], desc[512], address[256], detail[96];
    snprintf(number, sizeof number, "%08d%05d", day, seq);
    snprintf(title, sizeof title, "%s", cat->titles[pick(5)]);
    int bld = 1 + pick(30), gate = 1 + pick(6);
    const char *thing = cat->things[pick(6)], *effect = cat->effects[pick(4)];
    switch (pick(3)) {
    case 0:
        snprintf(desc, sizeof desc, "%s%d号楼%d单元附近%s问题，%s。", cm->short_name, bld, gate,
                 thing, effect);
        break;
    case 1:
        snprintf(desc, sizeof desc, "居民反映%s%d号楼旁%s：%s，%s。", cm->short_name, bld, thing,
                 title, effect);
        break;
    default:
        snprintf(desc, sizeof desc, "%s，位置在%d号楼%d单元，%s。", title, bld, gate, effect);
    }
    snprintf(address, sizeof address, "%s%d号楼", cm->name, bld);

    /* the history */
    const char *state = "submitted";
    int64_t accepted = 0, resolved = 0, closed = 0, resolve_due = 0, last = created;
    int resolutions = 0, rated_resolution = 0;
    const char *rating = NULL;
    int r = pick(100);
    int64_t ev_at[16];
    const char *ev_kind[16], *ev_state[16];
    char ev_detail[16][96];
    int nev = 0;
#define EV(at_, kind_, state_, detail_)                                                            \
    do {                                                                                           \
        ev_at[nev] = (at_);                                                                        \
        ev_kind[nev] = (kind_);                                                                    \
        ev_state[nev] = (state_);                                                                  \
        snprintf(ev_detail[nev], sizeof ev_detail[nev], "%s", (detail_));                          \
        nev++;                                                                                     \
    } while (0)
    EV(created, "submitted", "submitted", "{}");
    int64_t t;
    if (r < 3) {
        if ((t = created + delay(HOUR_MS)) < g->now) {
            EV(t, "duplicate", "duplicate", "{}");
            state = "duplicate";
            last = t;
        }
    } else if (r < 6) {
        if ((t = created + delay(2 * HOUR_MS)) < g->now) {
            EV(t, "rejected", "rejected", "{}");
            state = "rejected";
            last = t;
        }
    } else {
        /* 90% accepted within the limit, the rest up to three limits late */
        t = created + (pick(10) ? delay(resp_ms / 4) % resp_ms : resp_ms + delay(resp_ms));
        if (t < g->now) {
            accepted = t;
            EV(t, "accepted", "accepted", "{}");
            state = "accepted";
            last = t;
            resolve_due = t + res_ms;
            int64_t cycle = t;
            for (int round = 0; round < 2; round++) {
                if (round == 0) {
                    if ((t = last + delay(2 * HOUR_MS)) >= g->now)
                        break;
                    EV(t, "dispatched", "dispatched", "{}");
                    state = "dispatched";
                    last = t;
                    if ((t = last + delay(4 * HOUR_MS)) >= g->now)
                        break;
                    EV(t, "in_progress", "in_progress", "{}");
                    state = "in_progress";
                    last = t;
                }
                /* 85% resolved within the limit */
                t = cycle + (pick(100) < 85 ? delay(res_ms / 4) % res_ms : res_ms + delay(res_ms));
                if (t <= last)
                    t = last + delay(HOUR_MS);
                if (t >= g->now)
                    break;
                resolved = t;
                resolutions++;
                EV(t, "resolved", "resolved", "{}");
                state = "resolved";
                last = t;
                if (pick(100) < 60 && (t = last + delay(DAY_MS / 2)) < g->now) {
                    int k = pick(10);
                    rating = ratings[k < 7 ? 0 : k < 9 ? 1 : 2];
                    rated_resolution = resolutions;
                    snprintf(detail, sizeof detail, "{\"rating\": \"%s\", \"resolution\": %d}",
                             rating, resolutions);
                    EV(t, "rated", "resolved", detail);
                    last = t;
                }
                if (round == 0 && pick(100) < 4 && (t = last + delay(DAY_MS)) < g->now) {
                    EV(t, "reopened", "in_progress", "{}");
                    state = "in_progress";
                    last = cycle = t;
                    resolve_due = t + res_ms;
                    continue;
                }
                if ((t = resolved + 7 * DAY_MS) < g->now) {
                    closed = t;
                    EV(t, "closed", "closed", "{\"auto\": true}");
                    state = "closed";
                    last = t;
                }
                break;
            }
        }
    }
#undef EV

    const char *channel = channels[pick(10)];
    sqlite3_stmt *st = g->ins_case;
    const struct community *home = cm;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, number, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, channel, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, cat->code, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, title, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 6, desc, -1, SQLITE_TRANSIENT);
    if (home->has_point) {
        double dn = gauss() * SIGMA_M, de = gauss() * SIGMA_M;
        sqlite3_bind_double(st, 7, home->lat + dn / M_PER_DEG_LAT);
        sqlite3_bind_double(st, 8,
                            home->lon + de / (M_PER_DEG_LAT * cos(home->lat * M_PI / 180.0)));
    }
    sqlite3_bind_text(st, 9, address, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 10, home->code, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 11, state, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 12, unit, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 13, cat->response_min == 120 ? "utilities" : "general", -1,
                      SQLITE_STATIC);
    sqlite3_bind_int(st, 14, cat->response_min);
    sqlite3_bind_int(st, 15, cat->resolve_min);
    sqlite3_bind_int64(st, 16, created + resp_ms);
    if (resolve_due)
        sqlite3_bind_int64(st, 17, resolve_due);
    sqlite3_bind_int64(st, 18, created);
    if (accepted)
        sqlite3_bind_int64(st, 19, accepted);
    if (resolved)
        sqlite3_bind_int64(st, 20, resolved);
    if (closed)
        sqlite3_bind_int64(st, 21, closed);
    sqlite3_bind_int64(st, 22, last);
    sqlite3_bind_int(st, 23, resolutions);
    sqlite3_bind_int(st, 24, rated_resolution);
    if (rating)
        sqlite3_bind_text(st, 25, rating, -1, SQLITE_STATIC);
    if (!strcmp(channel, "hotline")) /* the caller's number, kept for the handlers */
        sqlite3_bind_text(st, 26, "13800138000", -1, SQLITE_STATIC);
    step(g->db, st);
    st = g->ins_unit;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, unit, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, created);
    step(g->db, st);
    for (int i = 0; i < nev; i++)
        event(g, id, ev_at[i], ev_kind[i], ev_state[i], i ? unit : "", ev_detail[i]);
}

static const char SQL_INS_CASE[] =
    "INSERT INTO cases (id, number, channel, category, title, description, lat, lon, address,"
    " area_code, area_from_point, state, unit_code, deadline_class, response_minutes,"
    " resolve_minutes, response_due_at, resolve_due_at, created_at, accepted_at, resolved_at,"
    " closed_at, updated_at, resolutions, rated_resolution, rating, contact_phone)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 1, ?11, ?12, ?13, ?14, ?15, ?16, ?17,"
    " ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, coalesce(?26, ''))";
static const char SQL_INS_EVENT[] =
    "INSERT INTO case_events (case_id, at, kind, state, actor_unit, detail)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
static const char SQL_INS_UNIT[] =
    "INSERT INTO case_units (case_id, unit_code, link, linked_at) VALUES (?1, ?2, 'lead', ?3)";
static const char SQL_INS_SEQ[] =
    "INSERT INTO case_number_seq (day, last) VALUES (?1, ?2)"
    " ON CONFLICT (day) DO UPDATE SET last = max(last, excluded.last)";

static void write_queries(const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        die("cannot write %s", path);
    /* texts of 3+ characters: phrases every category uses, and community names (rare);
     * names of 2 characters go with the 2-character texts */
    fputs("{\"three\": [\"小广告\", \"楼道堆放杂物\", \"影响通行\", \"存在安全隐患\", "
          "\"暖气不热\", \"夜间施工噪音\", \"共享单车乱停\", \"请督促物业\"",
          f);
    for (int i = 0; i < QUERY_TERMS && i < ncommunities; i++) {
        const char *name = communities[(i * 7919) % ncommunities].short_name;
        if (strlen(name) >= 9) /* 3 characters of UTF-8 Chinese */
            fprintf(f, ", \"%s\"", name);
    }
    fputs("],\n \"two\": [\"楼道\", \"噪音\", \"停车\", \"暖气\", \"井盖\", \"电梯\", \"垃圾\", "
          "\"漏水\"",
          f);
    for (int i = 0; i < QUERY_TERMS && i < ncommunities; i++) {
        const char *name = communities[(i * 7919) % ncommunities].short_name;
        if (strlen(name) == 6)
            fprintf(f, ", \"%s\"", name);
    }
    fputs("],\n \"one\": [\"灯\", \"水\", \"猫\", \"墙\"],\n \"communities\": [", f);
    for (int i = 0; i < ncommunities; i++)
        fprintf(f, "%s\"%s\"", i ? ", " : "", communities[i].code);
    fputs("],\n \"streets\": [", f);
    int k = 0;
    for (int i = 0; i < ncommunities; i++)
        if (!i || strcmp(communities[i].street, communities[i - 1].street))
            fprintf(f, "%s\"%s\"", k++ ? ", " : "", communities[i].street);
    fputs("],\n \"categories\": [", f);
    for (size_t i = 0; i < NCATEGORIES; i++)
        fprintf(f, "%s\"%s\"", i ? ", " : "", categories[i].code);
    fputs("]}\n", f);
    fclose(f);
}

static int gen_main(const char *path, long n, int days, const char *queries)
{
    struct gen g = {.now = clock_now_ms()};
    if (sqlite3_open_v2(path, &g.db, SQLITE_OPEN_READWRITE, NULL))
        die("opening %s: %s", path, sqlite3_errmsg(g.db));
    exec(g.db, "PRAGMA synchronous=OFF; PRAGMA cache_size=-524288; PRAGMA foreign_keys=OFF");
    load_communities(g.db);
    if (queries)
        write_queries(queries);
    if (sqlite3_exec(g.db, "SELECT 1 FROM cases LIMIT 1", NULL, NULL, NULL) != SQLITE_OK)
        die("no cases table: run `linli init` first");
    int64_t first = 0;
    {
        sqlite3_stmt *st = prep(g.db, "SELECT coalesce(max(id), 0) FROM cases");
        if (sqlite3_step(st) == SQLITE_ROW)
            first = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    int64_t *times = malloc((size_t)n * sizeof *times);
    if (!times)
        die("out of memory");
    int64_t span = (int64_t)days * DAY_MS;
    for (long i = 0; i < n; i++)
        times[i] = g.now - span + (int64_t)(uniform() * (double)span);
    qsort(times, (size_t)n, sizeof *times, cmp_i64);
    g.ins_case = prep(g.db, SQL_INS_CASE);
    g.ins_event = prep(g.db, SQL_INS_EVENT);
    g.ins_unit = prep(g.db, SQL_INS_UNIT);
    g.ins_seq = prep(g.db, SQL_INS_SEQ);
    double t0 = mono_ms();
    int day = 0, seq = 0;
    exec(g.db, "BEGIN");
    for (long i = 0; i < n; i++) {
        int d = local_day(times[i]);
        if (d != day) {
            if (day) {
                sqlite3_bind_int(g.ins_seq, 1, day);
                sqlite3_bind_int(g.ins_seq, 2, seq);
                step(g.db, g.ins_seq);
            }
            day = d;
            seq = 0;
        }
        gen_case(&g, first + i + 1, times[i], day, ++seq);
        if ((i + 1) % GEN_TXN == 0) {
            exec(g.db, "COMMIT");
            exec(g.db, "BEGIN");
            if ((i + 1) % (GEN_TXN * 10) == 0)
                fprintf(stderr, "  %ld cases, %.0f s\n", i + 1, (mono_ms() - t0) / 1e3);
        }
    }
    if (day) {
        sqlite3_bind_int(g.ins_seq, 1, day);
        sqlite3_bind_int(g.ins_seq, 2, seq);
        step(g.db, g.ins_seq);
    }
    exec(g.db, "COMMIT");
    double secs = (mono_ms() - t0) / 1e3;
    sqlite3_finalize(g.ins_case);
    sqlite3_finalize(g.ins_event);
    sqlite3_finalize(g.ins_unit);
    sqlite3_finalize(g.ins_seq);
    exec(g.db, "PRAGMA wal_checkpoint(TRUNCATE)");
    sqlite3_close(g.db);
    free(times);
    printf("Generated %ld cases with %lld events over %d days in %.1f s (%.0f cases/s), "
           "%d communities.\n",
           n, (long long)g.events, days, secs, (double)n / secs, ncommunities);
    return 0;
}

/* ---- timing the figures in the domain ---- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int figures_main(const char *path, int runs)
{
    struct store_options so;
    store_options_default(&so);
    so.path = path;
    so.readers = 2;
    so.checkpoint_ms = 0;
    struct domain d = {0};
    struct linli_err err;
    linli_err_clear(&err);
    if (store_open(&so, &d.store, &err))
        die("opening %s: %s", path, err.detail);
    struct principal admin;
    principal_system(&admin, "bench");
    int64_t now = clock_now_ms(), cur, next, last;
    cases_month_of(now, &cur, &next);
    cases_month_of(cur - 1, &last, &next);
    /* street staff of the first street that has cases, and its first community as ?unit= */
    struct principal street;
    memset(&street, 0, sizeof street);
    street.user_id = INT64_MAX; /* no account: no memberships */
    street.role = ROLE_STREET;
    char community[16] = "";
    {
        sqlite3 *db;
        sqlite3_stmt *st;
        if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) ||
            sqlite3_prepare_v2(db, "SELECT area_code FROM cases ORDER BY id LIMIT 1", -1, &st,
                               NULL))
            die("reading %s: %s", path, sqlite3_errmsg(db));
        if (sqlite3_step(st) == SQLITE_ROW) {
            snprintf(community, sizeof community, "%s", (const char *)sqlite3_column_text(st, 0));
            snprintf(street.scope, sizeof street.scope, "%.9s000", community);
        }
        sqlite3_finalize(st);
        sqlite3_close(db);
    }
    struct {
        const char *what;
        const struct principal *who;
        const char *unit;
        int64_t from, to;
    } windows[] = {
        {"last whole month", &admin, NULL, last, cur},
        {"current month (to its end)", &admin, NULL, cur, 0},
        {"last 366 days", &admin, NULL, now - 366 * DAY_MS, now},
        {"last whole month, street staff (their street)", &street, NULL, last, cur},
        {"last whole month, ?unit= one community", &admin, community, last, cur},
    };
    printf("| call | period | units | received | response due | resolution due | rated | "
           "seconds (median) | runs |\n|---|---|---:|---:|---:|---:|---:|---:|---|\n");
    double *t = calloc((size_t)runs, sizeof *t);
    for (size_t w = 0; w < sizeof windows / sizeof windows[0]; w++) {
        struct cases_stats_query q = {
            .from_ms = windows[w].from, .to_ms = windows[w].to, .unit = windows[w].unit};
        if (!q.to_ms)
            cases_month_of(now, &q.from_ms, &q.to_ms);
        struct cases_unit_figures *u = NULL, tot;
        int n = 0;
        char runs_text[256] = "";
        size_t at = 0;
        for (int r = 0; r < runs; r++) {
            free(u);
            double t0 = mono_ms();
            if (cases_stats_compute(&d, windows[w].who, &q, &u, &n, &tot, &err))
                die("figures: %s", err.detail);
            t[r] = (mono_ms() - t0) / 1e3;
            at += (size_t)snprintf(runs_text + at, sizeof runs_text - at, "%s%.2f", r ? " / " : "",
                                   t[r]);
        }
        free(u);
        qsort(t, (size_t)runs, sizeof *t, cmp_double);
        printf("| cases_stats_compute | %s | %d | %lld | %lld | %lld | %lld | %.2f | %s |\n",
               windows[w].what, n, (long long)tot.received, (long long)tot.response.due,
               (long long)tot.resolution.due, (long long)tot.rated, t[runs / 2], runs_text);
        fflush(stdout);
    }
    {
        char month[8];
        time_t s = (time_t)((last + LOCAL_MS) / 1000);
        struct tm tm;
        gmtime_r(&s, &tm);
        snprintf(month, sizeof month, "%04u-%02u", (unsigned)(tm.tm_year + 1900) % 10000u,
                 (unsigned)(tm.tm_mon + 1) % 100u);
        struct cases_recurring_query q = {.month = month, .limit = 10};
        char runs_text[256] = "";
        size_t at = 0;
        int n = 0;
        int64_t total = 0;
        for (int r = 0; r < runs; r++) {
            struct cases_recurring_item *items;
            int64_t start;
            double t0 = mono_ms();
            if (cases_recurring(&d, &admin, &q, &items, &n, &start, &err))
                die("recurring: %s", err.detail);
            t[r] = (mono_ms() - t0) / 1e3;
            total = n ? items[0].count : 0;
            free(items);
            at += (size_t)snprintf(runs_text + at, sizeof runs_text - at, "%s%.2f", r ? " / " : "",
                                   t[r]);
        }
        qsort(t, (size_t)runs, sizeof *t, cmp_double);
        printf("| cases_recurring (top 10) | %s | - | top pair: %lld | - | - | - | %.2f | %s |\n",
               month, (long long)total, t[runs / 2], runs_text);
    }
    free(t);
    store_close(d.store);
    return 0;
}

/* ---- the photo ---- */

static void put16(FILE *f, unsigned v)
{
    fputc((int)(v >> 8) & 0xff, f);
    fputc((int)v & 0xff, f);
}

static void segment(FILE *f, unsigned marker, const void *payload, size_t n)
{
    fputc(0xff, f);
    fputc((int)marker, f);
    put16(f, (unsigned)n + 2);
    fwrite(payload, 1, n, f);
}

static int jpeg_main(const char *path, int kb)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        die("cannot write %s", path);
    fputc(0xff, f);
    fputc(0xd8, f);
    static const unsigned char jfif[14] = {'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 72, 0, 72, 0, 0};
    segment(f, 0xe0, jfif, sizeof jfif);
    /* Exif with an empty IFD, as many cameras write more of: stripped by the server */
    static const unsigned char exif[] = {'E', 'x', 'i', 'f', 0, 0, 'I', 'I', 42, 0,
                                         8,   0,   0,   0,   0, 0, 0,   0,   0,  0};
    segment(f, 0xe1, exif, sizeof exif);
    unsigned char dqt[65];
    dqt[0] = 0;
    for (int i = 1; i < 65; i++)
        dqt[i] = (unsigned char)(1 + i % 50);
    segment(f, 0xdb, dqt, sizeof dqt);
    static const unsigned char sof[9] = {8, 480 >> 8, 480 & 0xff, 640 >> 8, 640 & 0xff,
                                         1, 1,        0x11,       0};
    segment(f, 0xc0, sof, sizeof sof);
    unsigned char dht[18] = {0x00, 1};
    segment(f, 0xc4, dht, sizeof dht);
    dht[0] = 0x10;
    segment(f, 0xc4, dht, sizeof dht);
    static const unsigned char sos[6] = {1, 1, 0x00, 0, 63, 0};
    segment(f, 0xda, sos, sizeof sos);
    long bytes = (long)kb * 1024;
    for (long i = 0; i < bytes / 2; i++)
        fputc((int)(rnd() % 255), f); /* never 0xff */
    fputs(PHOTO_SLOT, f);
    for (long i = 0; i < bytes / 2; i++)
        fputc((int)(rnd() % 255), f);
    fputc(0xff, f);
    fputc(0xd9, f);
    fclose(f);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        die("usage: cases_bench gen|figures|jpeg [options] (see bench/cases_bench.c)");
    const char *mode = argv[1];
    const char *db = NULL, *queries = NULL, *out = NULL;
    long n = 1000000;
    int days = 365, runs = 3, kb = 30;
    unsigned long long seed = 1;
    static const struct option longs[] = {{"db", required_argument, 0, 'd'},
                                          {"cases", required_argument, 0, 'n'},
                                          {"days", required_argument, 0, 'D'},
                                          {"seed", required_argument, 0, 's'},
                                          {"queries", required_argument, 0, 'q'},
                                          {"runs", required_argument, 0, 'r'},
                                          {"out", required_argument, 0, 'o'},
                                          {"kb", required_argument, 0, 'k'},
                                          {0, 0, 0, 0}};
    int c;
    optind = 2;
    while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case 'n':
            n = atol(optarg);
            break;
        case 'D':
            days = atoi(optarg);
            break;
        case 's':
            seed = strtoull(optarg, NULL, 10);
            break;
        case 'q':
            queries = optarg;
            break;
        case 'r':
            runs = atoi(optarg);
            break;
        case 'o':
            out = optarg;
            break;
        case 'k':
            kb = atoi(optarg);
            break;
        default:
            die("unknown option");
        }
    }
    rng_state = seed;
    if (!strcmp(mode, "gen") && db && n > 0 && days > 0)
        return gen_main(db, n, days, queries);
    if (!strcmp(mode, "figures") && db && runs > 0)
        return figures_main(db, runs);
    if (!strcmp(mode, "jpeg") && out && kb > 0)
        return jpeg_main(out, kb);
    die("usage: cases_bench gen --db DB [--cases N] [--days D] [--seed S] [--queries FILE] |"
        " figures --db DB [--runs R] | jpeg --out FILE [--kb KB]");
}
