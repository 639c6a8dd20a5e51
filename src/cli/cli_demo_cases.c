/* cli_demo_cases.c - linli demo: two months of cases (接诉即办) in the
 * communities where people live, so that the case desk and the district's
 * case figures have something to show.
 *
 * The cases are made through the cases domain itself, not written as rows:
 * cases_create, cases_transition and cases_rate take the time of the act,
 * and cases_tick the time it runs at, so a demo clock can walk through the
 * last 60 days. Every case gets a script (when it is accepted, dispatched,
 * started, resolved, confirmed and rated, or reopened, or closed after a
 * call back), drawn from the seed; the steps of all the cases then run in
 * the order of their times, with the scheduler's pass run at every hour of
 * demo time in between. A step due after now does not happen, so the newest
 * cases are still submitted, some are being handled, some resolved ones
 * await the reporter, and those that took too long are flagged overdue and
 * escalated by the pass, as the running system would have done. Every time
 * written is in the past and agrees with the deadlines the domain computed.
 *
 * Who acts: the snap reports are demo-resident's and demo-volunteer's, and
 * some hotline calls are demo-resident's; these reporters confirm, rate and
 * reopen their cases. Hotline cases are recorded by demo-operator; the demo
 * community's worker records its walk-ins and handles the cases its
 * community leads; every other step is the system's (the command line, which
 * the workflow allows every move). Callers without an account give a name
 * and a phone number, and their resolved cases close after a call back or by
 * themselves after the settings' auto-close days. */
#include "cli/cli_demo.h"

#include "base/clock.h"
#include "domain/cases.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEMO_CASES           3000 /* at scale 1, over DEMO_CASE_DAYS */
#define DEMO_CASES_MIN       30
#define DEMO_CASE_DAYS       60
#define DEMO_TICK_MS         3600000LL /* the scheduler's pass, in demo time */
#define DEMO_HOME_SHARE      0.03      /* of the cases, in the demo community */
#define DEMO_HOME_MIN        12
#define DEMO_SNAP_SHARE      0.50
#define DEMO_HOTLINE_SHARE   0.32 /* walk-ins are the rest */
#define DEMO_VOLUNTEER_SHARE 0.30 /* of the snap reports; the resident's are the rest */
#define DEMO_ON_ACCOUNT      0.40 /* of the hotline calls: demo-resident calling */
#define DEMO_REJECT_SHARE    0.03
/* How long a response and a resolution take, as a share of the category's
 * limit: log-normal (about 3% of responses and 7% of resolutions late),
 * never more than DEMO_LATE_CAP limits. */
#define DEMO_RESPONSE_MEDIAN 0.12
#define DEMO_RESPONSE_SIGMA  1.1
#define DEMO_RESOLVE_MEDIAN  0.30
#define DEMO_RESOLVE_SIGMA   0.8
#define DEMO_REDO_MEDIAN     0.30 /* after a reopening */
#define DEMO_LATE_CAP        3.0
/* What a reporter with an account does after a resolution; the rest stay
 * silent and the case closes by itself. */
#define DEMO_REOPEN_SHARE  0.04
#define DEMO_CONFIRM_SHARE 0.80
/* Callers without an account: resolutions closed after a call back. */
#define DEMO_CALLBACK_SHARE 0.60
/* Ratings: satisfied, basically satisfied, else unsatisfied. */
#define DEMO_SATISFIED       0.78
#define DEMO_BASICALLY       0.15
#define DEMO_REDO_DISCOUNT   0.25 /* fewer "satisfied" after a reopening */
#define DEMO_MINUTE_MS       60000LL
#define DEMO_HOUR_MS         3600000LL
#define DEMO_DAY_MS          86400000LL
#define DEMO_LOCAL_OFFSET_MS (8 * DEMO_HOUR_MS) /* Asia/Shanghai */

/* ---- what the cases are about ---- */

struct demo_text {
    const char *title, *text; /* text follows "<community>12号楼" */
};

static const struct {
    const char *category;
    double weight;
    const char *resolution;
    struct demo_text texts[4]; /* ends at a NULL title */
} topics[] = {
    {"corridor_clutter",
     14,
     "已联系物业和楼门长清理，通道已恢复畅通。",
     {{"楼道堆放杂物",
       "单元楼道内长期堆放纸箱、旧家具等杂物，影响通行，存在消防隐患，希望尽快清理。"},
      {"楼前堆放装修垃圾", "楼前空地堆放装修产生的建筑垃圾，一周多没人清运，老人出门要绕着走。"},
      {"消防通道被杂物占用", "消防通道被旧自行车和花盆占住，万一着火消防车进不来。"}}},
    {"small_ads",
     6,
     "已组织保洁人员清除小广告，并在单元门口张贴提示。",
     {{"单元门贴满小广告", "单元门和电梯间贴满了开锁、办证类小广告，屡清屡贴，影响小区环境。"},
      {"墙上喷涂小广告", "外墙和电线杆上被喷涂了电话号码类小广告，很不美观，希望清除。"}}},
    {"public_facility",
     13,
     "已通知责任单位维修完毕，设施恢复正常使用。",
     {{"路灯不亮", "楼前的路灯坏了好几天，晚上一片漆黑，老人出门很不安全。"},
      {"健身器材损坏", "楼下小广场的健身器材扶手断了，容易伤人，请尽快维修。"},
      {"井盖松动", "楼前道路上的井盖松动，踩上去晃动作响，存在安全隐患。"},
      {"休闲座椅损坏", "楼旁休闲座椅的木板断裂，老人常在这里休息，希望更换。"}}},
    {"sanitation",
     13,
     "已安排保洁清理，并增加了清运次数。",
     {{"垃圾桶满溢", "楼下垃圾桶已经满溢，周边散落垃圾，气味很大，希望增加清运次数。"},
      {"绿地内狗粪较多", "楼旁绿地里狗粪很多，没人清理，孩子和老人常在这里活动。"},
      {"雨水口积水发臭", "楼前雨水口附近积水发臭，蚊虫很多，希望疏通清理。"}}},
    {"illegal_parking",
     9,
     "已联系交警和物业劝离违停车辆，并施划禁停标识。",
     {{"车辆占用消防通道", "楼前消防通道常年停着几辆私家车，救护车曾经进不来。"},
      {"机动车占用盲道", "楼外人行道上的盲道被机动车长期占用，视障居民无法通行。"},
      {"共享单车乱停放", "楼门口堆满了共享单车，轮椅和婴儿车都过不去。"}}},
    {"noise",
     9,
     "已现场协调，相关方承诺按规定时间作业、降低音量。",
     {{"夜间施工噪音", "附近工地晚上十点以后还在施工，噪音很大，影响老人和孩子休息。"},
      {"广场舞音响声音过大", "楼下广场舞音响音量太大，一直到晚上九点多，希望协调降低音量。"},
      {"装修噪音扰民", "有住户周末一早就开始装修电钻，希望按规定时间施工。"}}},
    {"property_mgmt",
     15,
     "已督促物业维修完毕，并约定定期检查。",
     {{"电梯经常故障", "单元电梯这个月已经坏了三次，楼里住着好几位行动不便的老人，上下楼很困难。"},
      {"屋顶漏水无人维修", "顶层住户家里漏水，多次找物业都没有人来维修。"},
      {"单元门禁损坏", "单元门禁坏了一周多，门一直敞开，居民担心安全。"}}},
    {"elderly_service",
     10,
     "社区工作人员已上门对接，老人已纳入相应服务。",
     {{"希望增加助餐服务", "附近没有老年餐桌，行动不便的老人吃饭困难，希望增加助餐点或送餐服务。"},
      {"独居老人需要探访", "有位独居老人最近很少出门，邻居担心，希望社区上门看看。"},
      {"咨询适老化改造", "住着一位失能老人，家属想咨询卫生间扶手、防滑等适老化改造的补贴政策。"},
      {"预约上门助浴", "一位卧床老人希望预约上门助浴服务，想了解价格和补贴。"}}},
    {"utilities",
     7,
     "已联系供热、供水、供电单位抢修，现已恢复正常。",
     {{"家中暖气不热", "一户居民家中暖气片温度很低，室内只有十四五度，家里有八十多岁的老人。"},
      {"自来水水压低", "这几天自来水水压很低，高层几乎没有水，做饭洗漱都困难。"},
      {"突然停电", "突然停电，电梯也停了，楼里有需要吸氧的老人，请尽快抢修。"}}},
    {"other",
     4,
     "已答复反映人并协调处理。",
     {{"流浪猫聚集", "楼下有很多流浪猫聚集，夜里叫声很大，也有居民担心卫生问题。"},
      {"咨询社区活动报名", "一位居民想咨询社区老年大学书法班和合唱团怎么报名。"}}},
};
#define NTOPICS ((int)(sizeof topics / sizeof topics[0]))

static const char *const surnames[] = {"王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴",
                                       "徐", "孙", "马", "朱", "胡", "郭", "何", "林", "高", "罗"};
static const char *const forms_of_address[] = {"先生", "女士", "大爷", "阿姨"};
#define NSURNAMES ((int)(sizeof surnames / sizeof surnames[0]))
#define NFORMS    ((int)(sizeof forms_of_address / sizeof forms_of_address[0]))

#define NOTE_ACCEPTED   "已联系反映人，正在核实处理。"
#define NOTE_DISPATCHED "已派单至网格员处理。"
#define NOTE_STARTED    "工作人员已到现场查看。"
#define NOTE_REJECTED   "经核实，该事项不属于本单位职责范围，已告知反映人向相关部门反映。"
#define NOTE_CONFIRMED  "问题已解决，谢谢！"
#define NOTE_REOPENED   "问题又出现了，希望再处理一下。"
#define NOTE_CALLBACK   "电话回访，反映人确认问题已解决。"

/* ---- the scripts ---- */

enum demo_step {
    STEP_CREATE,
    STEP_ACCEPT,
    STEP_REJECT,
    STEP_DISPATCH,
    STEP_START,
    STEP_RESOLVE,
    STEP_CONFIRM, /* the reporter closes and rates */
    STEP_REOPEN,  /* the reporter rates "unsatisfied" and reopens */
    STEP_CALLBACK,
    STEP_DONE
};

struct demo_case {
    int64_t at; /* when its next step happens */
    int step;   /* enum demo_step */
    int topic, text, community, channel;
    int reporter; /* enum demo_account, or -1: a caller without an account */
    int64_t id;
    int state;                             /* as of its last step */
    int response_minutes, resolve_minutes; /* the limits the domain gave it */
    int64_t response_due, resolve_due, resolved_at;
    int64_t accepted_at, resolve_at; /* the planned resolution */
    bool led_home;                   /* the demo community leads it: its worker acts */
    bool reopened;
};

struct sim {
    const struct demo_district *w;
    struct domain *d;
    struct rng rng;
    int64_t now, next_tick;
    struct demo_case *cases;
    int n;
    int *heap; /* indices into cases, by (at, index) */
    int nheap;
    bool topic_active[NTOPICS];
    double *cumulative; /* community weights, summed; over ncommunities */
    int home;           /* index of the demo community */
    struct principal system, worker, call_centre, by_account[DEMO_ACCOUNTS];
    struct case_record *rec; /* scratch for the domain's answers */
    int auto_close_days;
    /* what happened */
    int64_t escalated, ratings, satisfied;
    int channels[CHANNEL_COUNT];
};

static bool before(const struct sim *s, int a, int b)
{
    const struct demo_case *x = &s->cases[a], *y = &s->cases[b];
    return x->at != y->at ? x->at < y->at : a < b;
}

static void heap_push(struct sim *s, int i)
{
    int k = s->nheap++;
    s->heap[k] = i;
    while (k > 0 && before(s, s->heap[k], s->heap[(k - 1) / 2])) {
        int p = (k - 1) / 2, t = s->heap[p];
        s->heap[p] = s->heap[k];
        s->heap[k] = t;
        k = p;
    }
}

static int heap_pop(struct sim *s)
{
    int top = s->heap[0];
    s->heap[0] = s->heap[--s->nheap];
    for (int k = 0;;) {
        int l = 2 * k + 1, r = l + 1, m = k;
        if (l < s->nheap && before(s, s->heap[l], s->heap[m]))
            m = l;
        if (r < s->nheap && before(s, s->heap[r], s->heap[m]))
            m = r;
        if (m == k)
            break;
        int t = s->heap[m];
        s->heap[m] = s->heap[k];
        s->heap[k] = t;
        k = m;
    }
    return top;
}

/* A share of a limit, log-normal around `median`, at most DEMO_LATE_CAP. */
static double share_of_limit(struct rng *r, double median, double sigma)
{
    double f = exp(log(median) + sigma * rng_normal(r));
    return f < DEMO_LATE_CAP ? f : DEMO_LATE_CAP;
}

static int64_t minutes_between(struct rng *r, int lo, int hi)
{
    return (lo + rng_below(r, hi - lo + 1)) * DEMO_MINUTE_MS;
}

/* When a case is raised: a day of the window, an hour weighted to the day
 * (Beijing time), before now. */
static int64_t raised_at(struct sim *s)
{
    static const double hour_weight[24] = {1, 1, 1,  1,  1,  2, 5, 9, 13, 14, 13, 11,
                                           8, 8, 10, 12, 11, 9, 7, 6, 4,  3,  2,  1};
    double total = 0;
    for (int h = 0; h < 24; h++)
        total += hour_weight[h];
    for (;;) {
        double u = rng_unit(&s->rng) * total;
        int hour = 0;
        while (hour < 23 && u >= hour_weight[hour])
            u -= hour_weight[hour++];
        int64_t day = s->now - rng_below(&s->rng, DEMO_CASE_DAYS) * DEMO_DAY_MS;
        day -= (day + DEMO_LOCAL_OFFSET_MS) % DEMO_DAY_MS; /* local midnight */
        int64_t t = day + hour * DEMO_HOUR_MS + rng_below(&s->rng, 3600) * 1000LL;
        if (t < s->now - DEMO_MINUTE_MS && t > s->now - DEMO_CASE_DAYS * DEMO_DAY_MS)
            return t;
    }
}

/* A point in the community's neighbourhood, inside the district. */
static struct geo_point case_point(struct sim *s, const struct area *a)
{
    const struct demo_district *w = s->w;
    struct geo_point centre = w->district->point;
    double sigma = 3000;
    if (a->has_point) {
        centre = a->point;
        sigma = 250;
    } else {
        for (int i = 0; i < w->nstreets; i++)
            if (!strcmp(w->streets[i].code, a->parent_code) && w->streets[i].has_point) {
                centre = w->streets[i].point;
                sigma = 800;
            }
    }
    for (int tries = 0; tries < 20; tries++, sigma *= 0.8) {
        struct geo_point p = {centre.lat + rng_normal(&s->rng) * sigma / 111000.0,
                              centre.lon + rng_normal(&s->rng) * sigma / 85000.0};
        if (!w->boundary || boundary_contains(w->boundary, p))
            return p;
    }
    return centre;
}

static int pick_topic(struct sim *s)
{
    double total = 0;
    for (int t = 0; t < NTOPICS; t++)
        total += s->topic_active[t] ? topics[t].weight : 0;
    double u = rng_unit(&s->rng) * total;
    int last = 0;
    for (int t = 0; t < NTOPICS; t++) {
        if (!s->topic_active[t])
            continue;
        last = t;
        if (u < topics[t].weight)
            return t;
        u -= topics[t].weight;
    }
    return last;
}

static int pick_community(struct sim *s)
{
    int n = s->w->ncommunities;
    double u = rng_unit(&s->rng) * s->cumulative[n - 1];
    int lo = 0, hi = n - 1;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (s->cumulative[mid] > u)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* Draws the case's subject, place, channel and reporter, and when it is raised. */
static void plan_case(struct sim *s, struct demo_case *cs, bool home)
{
    memset(cs, 0, sizeof *cs);
    cs->step = STEP_CREATE;
    cs->at = raised_at(s);
    cs->topic = pick_topic(s);
    int ntexts = 0;
    while (ntexts < 4 && topics[cs->topic].texts[ntexts].title)
        ntexts++;
    cs->text = rng_below(&s->rng, ntexts);
    cs->community = home ? s->home : pick_community(s);
    double u = rng_unit(&s->rng);
    cs->channel = u < DEMO_SNAP_SHARE                        ? CHANNEL_SNAP
                  : u < DEMO_SNAP_SHARE + DEMO_HOTLINE_SHARE ? CHANNEL_HOTLINE
                                                             : CHANNEL_WALK_IN;
    if (cs->channel == CHANNEL_SNAP)
        cs->reporter = chance(&s->rng, DEMO_VOLUNTEER_SHARE) ? DEMO_VOLUNTEER : DEMO_RESIDENT;
    else if (cs->channel == CHANNEL_HOTLINE && chance(&s->rng, DEMO_ON_ACCOUNT))
        cs->reporter = DEMO_RESIDENT;
    else
        cs->reporter = -1;
}

/* Reads the domain's answer into the script. */
static void took(struct demo_case *cs, const struct case_record *r)
{
    cs->state = r->state;
    cs->response_due = r->response_due_at;
    cs->resolve_due = r->resolve_due_at;
    cs->response_minutes = r->response_minutes;
    cs->resolve_minutes = r->resolve_minutes;
}

static const struct principal *handler(struct sim *s, const struct demo_case *cs)
{
    return cs->led_home ? &s->worker : &s->system;
}

static int fail(const char *what, const struct demo_case *cs, const struct linli_err *err)
{
    if (cs->id)
        fprintf(stderr, "linli: demo case %lld, %s:\n", (long long)cs->id, what);
    else
        fprintf(stderr, "linli: a demo case, %s:\n", what);
    return cli_report(err);
}

static int create(struct sim *s, struct demo_case *cs)
{
    const struct area *a = &s->w->communities[cs->community];
    const struct demo_text *t = &topics[cs->topic].texts[cs->text];
    char cshort[AREA_NAME_MAX * 4 + 16], address[sizeof cshort + 24];
    char description[CASE_TEXT_SIZE(CASE_DESCRIPTION_MAX)], name[32], phone[24];
    community_short(a, cshort, sizeof cshort);
    snprintf(address, sizeof address, "%s%d号楼", cshort, 1 + rng_below(&s->rng, 30));
    snprintf(description, sizeof description, "%s%s", address, t->text);
    struct case_in in = {.channel = case_channel_name(cs->channel),
                         .category = topics[cs->topic].category,
                         .title = t->title,
                         .description = description,
                         .has_point = true,
                         .point = case_point(s, a),
                         .address = address,
                         .area_code = a->code,
                         .at = cs->at};
    const struct principal *who = &s->system;
    if (cs->channel == CHANNEL_SNAP) {
        who = &s->by_account[cs->reporter];
    } else if (cs->reporter >= 0) {
        in.reporter_user_id = s->by_account[cs->reporter].user_id;
    } else {
        snprintf(name, sizeof name, "%s%s", surnames[rng_below(&s->rng, NSURNAMES)],
                 forms_of_address[rng_below(&s->rng, NFORMS)]);
        make_mobile(&s->rng, phone, sizeof phone);
        in.contact_name = name;
        in.contact_phone = phone;
    }
    if (cs->channel == CHANNEL_HOTLINE)
        who = &s->call_centre;
    else if (cs->channel == CHANNEL_WALK_IN && cs->community == s->home)
        who = &s->worker;
    struct linli_err err;
    if (cases_create(s->d, who, &in, NULL, s->rec, NULL, &err))
        return fail("raising it", cs, &err);
    cs->id = s->rec->id;
    cs->led_home = !strcmp(s->rec->unit_code, s->w->communities[s->home].code);
    took(cs, s->rec);
    s->channels[cs->channel]++;
    double f = share_of_limit(&s->rng, DEMO_RESPONSE_MEDIAN, DEMO_RESPONSE_SIGMA);
    int64_t delay = (int64_t)(f * cs->response_minutes * DEMO_MINUTE_MS);
    cs->at += delay > 2 * DEMO_MINUTE_MS ? delay : 2 * DEMO_MINUTE_MS;
    cs->step = chance(&s->rng, DEMO_REJECT_SHARE) ? STEP_REJECT : STEP_ACCEPT;
    return 0;
}

static int move(struct sim *s, struct demo_case *cs, const struct principal *who, const char *to,
                const char *note, int64_t at)
{
    struct case_transition_in in = {.to = to, .at = at};
    if (!strcmp(to, "rejected"))
        in.reason = note;
    else
        in.note = note;
    struct linli_err err;
    if (cases_transition(s->d, who, cs->id, &in, s->rec, &err))
        return fail(to, cs, &err);
    took(cs, s->rec);
    return 0;
}

static int rate(struct sim *s, struct demo_case *cs, const char *rating, int64_t at)
{
    const char *comment = !strcmp(rating, "satisfied")
                              ? (chance(&s->rng, 0.5) ? "处理及时，非常满意。" : NULL)
                          : !strcmp(rating, "basically_satisfied") ? "基本解决了，希望以后多留意。"
                                                                   : "问题没有彻底解决。";
    struct linli_err err;
    if (cases_rate(s->d, &s->by_account[cs->reporter], cs->id, rating, comment, at, s->rec, &err))
        return fail("rating it", cs, &err);
    s->ratings++;
    if (strcmp(rating, "unsatisfied") != 0)
        s->satisfied++;
    return 0;
}

/* The resolution's schedule from `from`: dispatched and started early on,
 * resolved after a share of the limit. */
static void plan_resolution(struct sim *s, struct demo_case *cs, int64_t from, double median)
{
    double f = share_of_limit(&s->rng, median, DEMO_RESOLVE_SIGMA);
    int64_t total = (int64_t)(f * cs->resolve_minutes * DEMO_MINUTE_MS);
    if (total < 30 * DEMO_MINUTE_MS)
        total = 30 * DEMO_MINUTE_MS;
    cs->accepted_at = from;
    cs->resolve_at = from + total;
}

/* Runs the case's next step and plans the one after. */
static int step(struct sim *s, struct demo_case *cs)
{
    struct rng *r = &s->rng;
    int64_t t = cs->at;
    int rc = 0;
    switch (cs->step) {
    case STEP_CREATE:
        return create(s, cs);
    case STEP_REJECT:
        cs->step = STEP_DONE;
        return move(s, cs, handler(s, cs), "rejected", NOTE_REJECTED, t);
    case STEP_ACCEPT:
        rc = move(s, cs, handler(s, cs), "accepted", NOTE_ACCEPTED, t);
        plan_resolution(s, cs, t, DEMO_RESOLVE_MEDIAN);
        cs->step = STEP_DISPATCH;
        cs->at = t + (cs->resolve_at - t) / 10;
        return rc;
    case STEP_DISPATCH:
        rc = move(s, cs, handler(s, cs), "dispatched", NOTE_DISPATCHED, t);
        cs->step = STEP_START;
        cs->at = cs->accepted_at + (cs->resolve_at - cs->accepted_at) / 4;
        return rc;
    case STEP_START:
        rc = move(s, cs, handler(s, cs), "in_progress", NOTE_STARTED, t);
        cs->step = STEP_RESOLVE;
        cs->at = cs->resolve_at;
        return rc;
    case STEP_RESOLVE:
        rc = move(s, cs, handler(s, cs), "resolved", topics[cs->topic].resolution, t);
        cs->resolved_at = t;
        cs->step = STEP_DONE;
        if (cs->reporter >= 0) {
            double u = rng_unit(r);
            if (!cs->reopened && u < DEMO_REOPEN_SHARE) {
                cs->step = STEP_REOPEN;
                cs->at = t + minutes_between(r, 120, 3 * 24 * 60);
            } else if (u < DEMO_REOPEN_SHARE + DEMO_CONFIRM_SHARE || cs->reopened) {
                cs->step = STEP_CONFIRM;
                cs->at = t + minutes_between(r, 60, 4 * 24 * 60);
            }
        } else if (chance(r, DEMO_CALLBACK_SHARE)) {
            cs->step = STEP_CALLBACK;
            cs->at = t + minutes_between(r, 240, 3 * 24 * 60);
        }
        return rc;
    case STEP_CONFIRM: {
        const struct principal *reporter = &s->by_account[cs->reporter];
        if ((rc = move(s, cs, reporter, "closed", NOTE_CONFIRMED, t)))
            return rc;
        double u = rng_unit(r), worse = cs->reopened ? DEMO_REDO_DISCOUNT : 0;
        const char *rating = u < DEMO_SATISFIED - worse                    ? "satisfied"
                             : u < DEMO_SATISFIED + DEMO_BASICALLY - worse ? "basically_satisfied"
                                                                           : "unsatisfied";
        int64_t at = t + minutes_between(r, 1, 20);
        cs->step = STEP_DONE;
        return at < s->now ? rate(s, cs, rating, at) : 0;
    }
    case STEP_REOPEN:
        if ((rc = rate(s, cs, "unsatisfied", t)))
            return rc;
        cs->step = STEP_DONE;
        if (t + DEMO_MINUTE_MS >= s->now)
            return 0;
        if ((rc = move(s, cs, &s->by_account[cs->reporter], "in_progress", NOTE_REOPENED,
                       t + DEMO_MINUTE_MS)))
            return rc;
        cs->reopened = true;
        plan_resolution(s, cs, t + DEMO_MINUTE_MS, DEMO_REDO_MEDIAN);
        cs->step = STEP_RESOLVE;
        cs->at = cs->resolve_at;
        return 0;
    case STEP_CALLBACK:
        cs->step = STEP_DONE;
        return move(s, cs, &s->system, "closed", NOTE_CALLBACK, t);
    default:
        return 0;
    }
}

/* Whether a case's deadline moment falls in (from, to]: when the pass
 * (cases_tick, per cases.h) starts to have something to do with it, given
 * the state it is in. A moment before `from` was the business of an earlier
 * pass, which ran. */
static bool moment_in(int64_t m, int64_t from, int64_t to)
{
    return m > from && m <= to;
}

static bool pass_has_work(const struct sim *s, int64_t from, int64_t to)
{
    for (int i = 0; i < s->n; i++) {
        const struct demo_case *cs = &s->cases[i];
        int64_t due = 0, limit = 0;
        if (!cs->id)
            continue;
        if (cs->state == CASE_SUBMITTED) {
            due = cs->response_due;
            limit = cs->response_minutes * DEMO_MINUTE_MS;
        } else if (cs->state == CASE_ACCEPTED || cs->state == CASE_DISPATCHED ||
                   cs->state == CASE_IN_PROGRESS) {
            due = cs->resolve_due;
            limit = cs->resolve_minutes * DEMO_MINUTE_MS;
        } else if (cs->state == CASE_RESOLVED &&
                   moment_in(cs->resolved_at + s->auto_close_days * DEMO_DAY_MS, from, to)) {
            return true;
        }
        if (due &&
            (moment_in(case_due_soon_at(due, limit), from, to) || moment_in(due + 1, from, to)))
            return true;
    }
    return false;
}

/* The scheduler's passes at every DEMO_TICK_MS of demo time up to `until`.
 * A pass that would find nothing to do is not run (it would change
 * nothing); the others run at the time they fall on. */
static int ticks_until(struct sim *s, int64_t until)
{
    while (s->next_tick <= until) {
        if (!pass_has_work(s, s->next_tick - DEMO_TICK_MS, s->next_tick)) {
            s->next_tick += DEMO_TICK_MS;
            continue;
        }
        struct case_tick_report rep;
        struct linli_err err;
        if (cases_tick(s->d, s->next_tick, &rep, &err)) {
            fprintf(stderr, "linli: the demo's deadline pass:\n");
            return cli_report(&err);
        }
        s->escalated += rep.escalated;
        s->next_tick += DEMO_TICK_MS;
    }
    return 0;
}

static int setup(struct sim *s, const struct demo_district *w, const struct demo_accounts *a)
{
    s->w = w;
    s->d = &w->c->d;
    s->rng.s = w->seed;
    s->now = clock_now_ms();
    s->home = (int)(a->community - w->communities);
    principal_system(&s->system, "linli demo");
    for (int i = 0; i < DEMO_ACCOUNTS; i++)
        demo_account_principal(a, (enum demo_account)i, &s->by_account[i]);
    s->worker = s->by_account[DEMO_COMMUNITY];
    s->call_centre = s->by_account[DEMO_OPERATOR];
    struct linli_err err;
    struct case_category *cats = NULL;
    int ncats = 0;
    if (case_categories_list(s->d, false, &cats, &ncats, &err))
        return cli_report(&err);
    bool any = false;
    for (int t = 0; t < NTOPICS; t++)
        for (int k = 0; k < ncats; k++)
            if (!strcmp(cats[k].code, topics[t].category))
                any = s->topic_active[t] = true;
    free(cats);
    if (!any)
        return cli_die("none of the default case categories is active: no demo cases to make");
    struct case_settings settings;
    if (cases_settings_get(s->d, &settings, &err))
        return cli_report(&err);
    s->auto_close_days = settings.auto_close_days;
    int nc = w->ncommunities;
    s->cumulative = malloc((size_t)(nc > 0 ? nc : 1) * sizeof *s->cumulative);
    s->rec = malloc(sizeof *s->rec);
    if (!s->cumulative || !s->rec)
        return cli_die("out of memory");
    double sum = 0;
    for (int i = 0; i < nc; i++) {
        if (w->communities[i].elderly > 0)
            sum += (double)w->communities[i].elderly;
        s->cumulative[i] = sum;
    }
    if (sum <= 0)
        return cli_die("no community has people: no demo cases to make");
    double want = floor(DEMO_CASES * w->scale + 0.5);
    s->n = want < DEMO_CASES_MIN ? DEMO_CASES_MIN : (int)want;
    s->cases = calloc((size_t)s->n, sizeof *s->cases);
    s->heap = malloc((size_t)s->n * sizeof *s->heap);
    if (!s->cases || !s->heap)
        return cli_die("out of memory");
    int home = (int)floor(s->n * DEMO_HOME_SHARE + 0.5);
    home = home < DEMO_HOME_MIN ? DEMO_HOME_MIN : home;
    home = home > s->n / 3 ? s->n / 3 : home;
    for (int i = 0; i < s->n; i++) {
        plan_case(s, &s->cases[i], i < home);
        heap_push(s, i);
    }
    int64_t start = s->now - DEMO_CASE_DAYS * DEMO_DAY_MS;
    s->next_tick = start - start % DEMO_TICK_MS + DEMO_TICK_MS;
    return 0;
}

static void summary(const struct sim *s, double seconds)
{
    int states[CASE_STATES] = {0}, overdue = 0, places = 0;
    char *seen = calloc((size_t)s->w->ncommunities, 1);
    int64_t close_before = s->now - s->auto_close_days * DEMO_DAY_MS;
    for (int i = 0; i < s->n; i++) {
        const struct demo_case *cs = &s->cases[i];
        int st = cs->state;
        if (st == CASE_RESOLVED && cs->resolved_at <= close_before)
            st = CASE_CLOSED; /* by the deadline pass */
        states[st]++;
        if ((st == CASE_SUBMITTED && cs->response_due < s->now) ||
            ((st == CASE_ACCEPTED || st == CASE_DISPATCHED || st == CASE_IN_PROGRESS) &&
             cs->resolve_due < s->now))
            overdue++;
        if (seen && !seen[cs->community]) {
            seen[cs->community] = 1;
            places++;
        }
    }
    free(seen);
    printf("Cases: %d raised over the last %d days in %d communities (%d snap, %d hotline, %d "
           "walk-in): %d closed, %d resolved awaiting the reporter, %d being handled, %d "
           "submitted, %d rejected, %d of the open ones overdue; %lld ratings, %.0f%% satisfied "
           "or basically satisfied; %lld escalated by the deadline pass, in %.1f s.\n",
           s->n, DEMO_CASE_DAYS, places, s->channels[CHANNEL_SNAP], s->channels[CHANNEL_HOTLINE],
           s->channels[CHANNEL_WALK_IN], states[CASE_CLOSED], states[CASE_RESOLVED],
           states[CASE_ACCEPTED] + states[CASE_DISPATCHED] + states[CASE_IN_PROGRESS],
           states[CASE_SUBMITTED], states[CASE_REJECTED], overdue, (long long)s->ratings,
           s->ratings ? 100.0 * (double)s->satisfied / (double)s->ratings : 0.0,
           (long long)s->escalated, seconds);
}

int demo_cases(const struct demo_district *w, const struct demo_accounts *a)
{
    int64_t t0 = clock_mono_us();
    struct sim s;
    memset(&s, 0, sizeof s);
    int rc = setup(&s, w, a);
    while (!rc && s.nheap > 0) {
        int i = heap_pop(&s);
        struct demo_case *cs = &s.cases[i];
        if ((rc = ticks_until(&s, cs->at)) || (rc = step(&s, cs)))
            break;
        /* A step due from now on has not happened yet: the case stays as it is. */
        if (cs->step != STEP_DONE && cs->at < s.now)
            heap_push(&s, i);
    }
    /* The passes up to now, and a last one at now itself. */
    if (!rc && (rc = ticks_until(&s, s.now)) == 0) {
        struct case_tick_report rep;
        struct linli_err err;
        if (cases_tick(s.d, s.now, &rep, &err))
            rc = cli_report(&err);
        s.escalated += rep.escalated;
    }
    if (!rc)
        summary(&s, (double)(clock_mono_us() - t0) / 1e6);
    free(s.cases);
    free(s.heap);
    free(s.cumulative);
    free(s.rec);
    return rc;
}
