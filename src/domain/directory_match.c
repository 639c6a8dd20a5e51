/* directory_match.c - a personal match: for each need of an older person
 * (named by the caller, or derived from their profile), the facilities within
 * walking reach that offer it, ranked so that the ones the person can
 * actually use come first (they serve the person, have a bed free when the
 * service needs one, and cost no more than the budget after subsidy), then by
 * a score that weighs walking time against what the person pays.
 *
 * The search walks the memory copy twice: once to judge and rank light
 * candidates, once to copy the few facilities that made the cut. Copying
 * every facility in reach would cost tens of kilobytes each for a list that
 * is mostly thrown away. */
#include "domain/directory_internal.h"

#include "domain/people.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MATCH_MINUTES_DEFAULT 30.0 /* how far to look when the caller does not say */
#define MATCH_LIMIT_DEFAULT   10   /* results per need when the caller does not say */
#define MATCH_LIMIT_MAX       50   /* most results per need */
#define MATCH_AGE_MAX         130
#define MATCH_ELDERLY_AGE     60 /* from this age meals and health checks are default needs */
/* What a yuan is worth against walking: one minute for every two yuan paid,
 * so a facility 5 minutes further away wins when it is 10 yuan cheaper. */
#define MATCH_MINUTES_PER_YUAN 0.5
#define REASON_SIZE            160 /* = struct match_result.reasons[i] */

/* ---- needs ---- */

static const char *const needs_elderly[] = {"meals", "health_check"};
static const char *const needs_alone[] = {"cleaning", "emergency_response", "psychological"};
static const char *const needs_partly[] = {"home_nursing", "rehabilitation", "bathing", "day_care"};
static const char *const needs_dependent[] = {"residential_care", "home_nursing", "family_bed"};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Services that are of no use without a free bed. */
static bool needs_bed(const char *code)
{
    return !strcmp(code, "residential_care") || !strcmp(code, "respite") ||
           !strcmp(code, "family_bed");
}

static void add_needs(struct domain *d, const char *const *codes, size_t n,
                      char needs[][SERVICE_CODE_MAX + 1], int *count)
{
    for (size_t i = 0; i < n && *count < FACILITY_SERVICES_MAX; i++) {
        bool have = false;
        for (int k = 0; k < *count; k++)
            have |= !strcmp(needs[k], codes[i]);
        if (!have && services_known(d, codes[i]))
            snprintf(needs[(*count)++], SERVICE_CODE_MAX + 1, "%s", codes[i]);
    }
}

/* The needs a profile implies: everyone 60 or older (or of unknown age) meals
 * and health checks; living alone adds cleaning, an emergency response and
 * psychological support; partly dependent people home nursing, rehabilitation,
 * bathing and day care; dependent people residential care, home nursing and
 * a family care bed. */
static void derive_needs(struct domain *d, const struct match_profile *p,
                         char needs[][SERVICE_CODE_MAX + 1], int *count)
{
    if (p->age < 0 || p->age >= MATCH_ELDERLY_AGE)
        add_needs(d, needs_elderly, COUNT(needs_elderly), needs, count);
    if (p->living_alone)
        add_needs(d, needs_alone, COUNT(needs_alone), needs, count);
    if (p->care_level == CARE_PARTLY_DEPENDENT)
        add_needs(d, needs_partly, COUNT(needs_partly), needs, count);
    if (p->care_level == CARE_DEPENDENT)
        add_needs(d, needs_dependent, COUNT(needs_dependent), needs, count);
}

/* ---- candidates ---- */

/* A candidate: everything of a match_result but the facility, which is
 * copied only for the candidates kept. */
struct cand {
    int need; /* index into the needs */
    int64_t id;
    int service_index;
    double dist_m, walk_minutes, score;
    bool eligible, has_capacity, within_budget;
    int64_t price_fen, pay_fen;
    int rule;
    char reasons[4][REASON_SIZE];
    int nreasons;
};
_Static_assert(sizeof((struct cand *)0)->reasons == sizeof((struct match_result *)0)->reasons,
               "a candidate's reasons are copied into the result's");

/* ---- reasons ---- */

static const char *unit_zh(int unit)
{
    static const char *const zh[] = {"餐", "小时", "次", "天", "月"};
    return unit >= 0 && unit < UNIT_UNITS ? zh[unit] : "次";
}

static const char *unit_en(int unit)
{
    static const char *const en[] = {"a meal", "an hour", "a visit", "a day", "a month"};
    return unit >= 0 && unit < UNIT_UNITS ? en[unit] : "a visit";
}

/* Copies `text` into a reason, cutting it at a character boundary. */
static void put_reason(struct cand *m, const char *text)
{
    if (m->nreasons >= (int)COUNT(m->reasons))
        return;
    char *out = m->reasons[m->nreasons++];
    size_t n = strlen(text);
    if (n >= REASON_SIZE) {
        n = REASON_SIZE - 1;
        while (n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(out, text, n);
    out[n] = '\0';
}

static void fen_text(int64_t fen, char out[32])
{
    snprintf(out, 32, "%lld.%02lld", (long long)(fen / 100), (long long)(fen % 100));
}

static void price_reason(struct cand *m, const struct facility_service *s)
{
    char text[512], pay[32];
    fen_text(m->pay_fen, pay);
    const char *over_zh = m->within_budget ? "" : "，超出预算";
    const char *over_en = m->within_budget ? "" : ", over budget";
    if (m->pay_fen == 0 && m->price_fen == 0) {
        snprintf(text, sizeof text, "免费%s / free%s", over_zh, over_en);
    } else if (m->rule >= 0) {
        const char *label = s->rules[m->rule].label;
        snprintf(text, sizeof text, "补贴后 %s 元/%s (%s)%s / %s yuan %s after subsidy%s", pay,
                 unit_zh(s->unit), label, over_zh, pay, unit_en(s->unit), over_en);
        if (strlen(text) >= REASON_SIZE) /* a long label: leave it out rather than cut */
            snprintf(text, sizeof text, "补贴后 %s 元/%s%s / %s yuan %s after subsidy%s", pay,
                     unit_zh(s->unit), over_zh, pay, unit_en(s->unit), over_en);
    } else {
        snprintf(text, sizeof text, "%s 元/%s%s / %s yuan %s%s", pay, unit_zh(s->unit), over_zh,
                 pay, unit_en(s->unit), over_en);
    }
    put_reason(m, text);
}

static void reasons(struct cand *m, const struct facility *f, const struct facility_service *s,
                    const char *why)
{
    char text[512];
    long minutes = walk_minutes_whole(m->walk_minutes); /* as the search ranks and shows it */
    snprintf(text, sizeof text, "步行约%ld分钟 (%ld m) / %ld min walk", minutes, lround(m->dist_m),
             minutes);
    put_reason(m, text);
    if (f->status == FACILITY_SUSPENDED)
        snprintf(text, sizeof text, "暂停服务 / suspended");
    else if (!m->eligible)
        snprintf(text, sizeof text, "不符合服务条件 / not eligible: %s", why);
    else if (s->age_min > 0)
        snprintf(text, sizeof text, "%d岁以上可用 / serves %d+", s->age_min, s->age_min);
    else
        snprintf(text, sizeof text, "不限年龄 / open to all ages");
    put_reason(m, text);
    if (needs_bed(s->code) && f->beds_free >= 0) {
        if (f->beds_free > 0)
            snprintf(text, sizeof text, "尚有%d张空床 / %d free beds", f->beds_free, f->beds_free);
        else
            snprintf(text, sizeof text, "床位已满 / no free bed");
        put_reason(m, text);
    }
    price_reason(m, s);
}

/* ---- collecting ---- */

struct collect {
    const struct match_request *r;
    const struct match_profile *p;
    struct walk_model wm;
    struct geo_point origin;
    double minutes;
    char (*needs)[SERVICE_CODE_MAX + 1];
    int nneeds;
    struct cand *items;
    size_t n, cap;
    int rc;
};

static void judge(struct collect *c, const struct facility *f, int si, double dist_m,
                  double minutes, struct cand *m)
{
    const struct facility_service *s = &f->services[si];
    char why[128] = "";
    m->service_index = si;
    m->dist_m = dist_m;
    m->walk_minutes = minutes;
    m->eligible = service_serves(s, c->p, why, sizeof why) && f->status == FACILITY_OPEN;
    m->has_capacity = !needs_bed(s->code) || f->beds_free != 0; /* -1: beds not counted */
    m->price_fen = s->price_fen;
    m->pay_fen = service_pay_fen(s, c->p, &m->rule);
    m->within_budget = c->r->budget_fen < 0 || m->pay_fen <= c->r->budget_fen;
    m->score = minutes + (double)m->pay_fen / 100.0 * MATCH_MINUTES_PER_YUAN;
    reasons(m, f, s, why[0] ? why : "-");
}

static int collect_one(void *ctx, const struct facility *f, double dist_m)
{
    struct collect *c = ctx;
    if (f->status == FACILITY_CLOSED)
        return 0;
    double minutes = c->wm.minutes(&c->wm, c->origin, f->point);
    if (minutes > c->minutes)
        return 0;
    for (int k = 0; k < c->nneeds; k++) {
        int si = facility__service(f, c->needs[k]);
        if (si < 0)
            continue;
        if (c->n == c->cap) {
            size_t cap = c->cap ? c->cap * 2 : 64;
            struct cand *more = realloc(c->items, cap * sizeof *more);
            if (!more) {
                c->rc = LINLI_ENOMEM;
                return 1;
            }
            c->items = more;
            c->cap = cap;
        }
        struct cand *x = &c->items[c->n++];
        memset(x, 0, sizeof *x);
        x->need = k;
        x->id = f->id;
        judge(c, f, si, dist_m, minutes, x);
    }
    return 0;
}

static bool usable(const struct cand *m)
{
    return m->eligible && m->has_capacity && m->within_budget;
}

/* By need, usable first, then score, then id. */
static int cand_cmp(const void *pa, const void *pb)
{
    const struct cand *a = pa, *b = pb;
    if (a->need != b->need)
        return a->need < b->need ? -1 : 1;
    if (usable(a) != usable(b))
        return usable(a) ? -1 : 1;
    if (a->score != b->score)
        return a->score < b->score ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

struct copy_back {
    struct match_result *out;
    const int64_t *ids;
    bool *found;
    int n;
};

static int copy_one(void *ctx, const struct facility *f, double dist_m)
{
    (void)dist_m;
    struct copy_back *c = ctx;
    for (int i = 0; i < c->n; i++)
        if (c->ids[i] == f->id) {
            directory__copy_facility(&c->out[i].f, f); /* f is a trimmed copy */
            c->found[i] = true;
        }
    return 0;
}

/* ---- checking the request ---- */

/* The centre point of a community as an origin. */
static void community_origin(struct domain *d, const struct principal *who, const char *code,
                             struct geo_point *out, struct linli_err *err)
{
    char norm[AREA_CODE_LEN + 1];
    const char *why;
    if (area_code_normalize(code, norm, &why) != 0) {
        linli_field(err, "community", "%s", why);
        return;
    }
    if (area_code_level(norm) != 2) {
        linli_field(err, "community", "must be a 12-digit community code");
        return;
    }
    struct principal anyone = {0};
    struct area a;
    struct linli_err aerr;
    linli_err_clear(&aerr);
    int rc = registry_get(d, who ? who : &anyone, norm, &a, &aerr);
    if (rc == LINLI_ENOTFOUND) {
        linli_field(err, "community", "is not a community in the registry");
        return;
    }
    if (rc) {
        *err = aerr;
        return;
    }
    if (!a.has_point) {
        linli_field(err, "community", "has no centre point on record; send near instead");
        return;
    }
    *out = a.point;
}

static void check_profile(const struct match_profile *p, struct linli_err *err)
{
    if (p->age < -1 || p->age > MATCH_AGE_MAX)
        linli_field(err, "profile.age", "must be an age from 0 to %d", MATCH_AGE_MAX);
    if (p->care_level < CARE_SELF || p->care_level > CARE_DEPENDENT)
        linli_field(err, "profile.care_level", "must be self_care, partly_dependent or dependent");
    if (p->subsidy_class < -1 || p->subsidy_class >= SUBSIDY_CLASSES)
        linli_field(err, "profile.subsidy_class",
                    "must be dibao, tekun, low_income, shidu, youfu, other or null");
}

static void check_request(struct domain *d, const struct match_request *r, struct linli_err *err)
{
    if (r->person_id < 0)
        linli_field(err, "person_id", "must be a positive id");
    if (r->person_id <= 0)
        check_profile(&r->profile, err);
    if (r->has_origin && r->community)
        linli_field(err, "community", "send either near or community, not both");
    else if (r->person_id <= 0 && !r->has_origin && !r->community)
        linli_field(err, "near", "is required for a profile: send near or community");
    if (r->has_origin)
        directory__check_point(d, "near", r->origin, err);
    if (r->budget_fen < -1)
        linli_field(err, "budget", "must be an amount in yuan, 0 or more");
    if (r->nneeds < 0 || r->nneeds > FACILITY_SERVICES_MAX)
        linli_field(err, "needs", "may list at most %d services", FACILITY_SERVICES_MAX);
    for (int i = 0; i < r->nneeds && i < FACILITY_SERVICES_MAX; i++) {
        char field[32];
        snprintf(field, sizeof field, "needs[%d]", i);
        if (!r->needs[i] || !services_known(d, r->needs[i])) {
            linli_field(err, field, "is not a service in the catalogue");
            continue;
        }
        for (int k = 0; k < i; k++)
            if (r->needs[k] && !strcmp(r->needs[k], r->needs[i])) {
                linli_field(err, field, "is listed twice");
                break;
            }
    }
    if (!(r->minutes >= 0 && r->minutes <= DIRECTORY_MINUTES_MAX))
        linli_field(err, "minutes", "must be more than 0 and at most %d", DIRECTORY_MINUTES_MAX);
    if (r->limit < 0 || r->limit > MATCH_LIMIT_MAX)
        linli_field(err, "limit", "must be from 1 to %d", MATCH_LIMIT_MAX);
}

/* A stored person's profile and home; the person is read in the caller's
 * scope (people_get: ENOTFOUND outside it). */
static int person_profile(struct domain *d, const struct principal *who, int64_t id,
                          struct match_profile *p, bool *has_home, struct geo_point *home,
                          char community[AREA_CODE_LEN + 1], struct linli_err *err)
{
    if (!who)
        return linli_fail(err, LINLI_EUNAUTH, "Log in to match a stored person.");
    struct person *person = malloc(sizeof *person);
    if (!person)
        return linli_fail(err, LINLI_ENOMEM, "out of memory");
    int rc = people_get(d, who, id, 0, person, err);
    if (rc == LINLI_OK) {
        p->age = people_age(person->birth_date, people_today());
        p->care_level = (int)person->care_level;
        p->living_alone = person->living_alone;
        p->subsidy_class = -1;
        if (person->subsidy_class[0] &&
            subsidy_class_parse(person->subsidy_class, &p->subsidy_class) != 0)
            p->subsidy_class = -1;
        *has_home = person->has_home;
        home->lat = person->lat;
        home->lon = person->lon;
        snprintf(community, AREA_CODE_LEN + 1, "%s", person->community_code);
    }
    free(person);
    return rc;
}

/* ---- the match ---- */

int directory_match(struct domain *d, const struct principal *who, const struct match_request *r,
                    struct match_result **out, int *n, char needs_used[][SERVICE_CODE_MAX + 1],
                    int *nneeds_used, struct linli_err *err)
{
    *out = NULL;
    *n = 0;
    *nneeds_used = 0;
    struct linli_err problems;
    linli_err_clear(&problems);
    check_request(d, r, &problems);
    if (problems.status == LINLI_EINVAL) {
        *err = problems;
        return LINLI_EINVAL;
    }

    struct match_profile profile = r->profile;
    struct geo_point origin = r->origin;
    bool has_origin = r->has_origin;
    if (r->person_id > 0) {
        bool has_home = false;
        struct geo_point home = {0};
        char community[AREA_CODE_LEN + 1] = "";
        int rc = person_profile(d, who, r->person_id, &profile, &has_home, &home, community, err);
        if (rc)
            return rc;
        if (!has_origin && !r->community && has_home) {
            origin = home;
            has_origin = true;
        } else if (!has_origin && !r->community) {
            /* No home point: the centre of their community stands in. */
            struct linli_err cerr;
            linli_err_clear(&cerr);
            community_origin(d, who, community, &origin, &cerr);
            if (cerr.status)
                return linli_field(err, "person_id",
                                   "has no home point on record; send near or community");
            has_origin = true;
        }
    }
    if (!has_origin && r->community) {
        community_origin(d, who, r->community, &origin, &problems);
        if (problems.status) {
            *err = problems;
            return problems.status;
        }
    }

    for (int i = 0; i < r->nneeds; i++)
        snprintf(needs_used[(*nneeds_used)++], SERVICE_CODE_MAX + 1, "%s", r->needs[i]);
    if (r->nneeds == 0) {
        derive_needs(d, &profile, needs_used, nneeds_used);
        if (*nneeds_used == 0)
            return linli_field(err, "needs",
                               "none follow from this profile (under %d, self-care, not living "
                               "alone): name the services needed",
                               MATCH_ELDERLY_AGE);
    }

    struct collect c = {
        .r = r, .p = &profile, .origin = origin, .needs = needs_used, .nneeds = *nneeds_used};
    c.minutes = r->minutes > 0 ? r->minutes : MATCH_MINUTES_DEFAULT;
    directory_walk_model(d, &c.wm);
    double radius = c.wm.reach_m(&c.wm, c.minutes);
    int rc = directory__each_near(d, origin, radius, collect_one, &c, err);
    if (rc == LINLI_OK && c.rc)
        rc = linli_fail(err, c.rc, "out of memory");
    if (rc) {
        free(c.items);
        return rc;
    }
    if (c.n > 1)
        qsort(c.items, c.n, sizeof *c.items, cand_cmp);

    /* Keep the first `limit` of each need, in that order. */
    int limit = r->limit > 0 ? r->limit : MATCH_LIMIT_DEFAULT;
    size_t kept = 0;
    for (size_t i = 0, run = 0; i < c.n; i++) {
        run = i > 0 && c.items[i].need == c.items[i - 1].need ? run + 1 : 0;
        if (run < (size_t)limit)
            c.items[kept++] = c.items[i];
    }
    if (kept == 0) {
        free(c.items);
        return LINLI_OK;
    }
    struct match_result *res = calloc(kept, sizeof *res);
    int64_t *ids = calloc(kept, sizeof *ids);
    bool *found = calloc(kept, sizeof *found);
    if (!res || !ids || !found) {
        free(res);
        free(ids);
        free(found);
        free(c.items);
        return linli_fail(err, LINLI_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < kept; i++) {
        const struct cand *x = &c.items[i];
        struct match_result *m = &res[i];
        m->service_index = x->service_index;
        m->dist_m = x->dist_m;
        m->walk_minutes = x->walk_minutes;
        m->eligible = x->eligible;
        m->has_capacity = x->has_capacity;
        m->within_budget = x->within_budget;
        m->price_fen = x->price_fen;
        m->pay_fen = x->pay_fen;
        m->rule = x->rule;
        m->score = x->score;
        memcpy(m->reasons, x->reasons, sizeof m->reasons);
        m->nreasons = x->nreasons;
        ids[i] = x->id;
    }
    free(c.items);
    struct copy_back cb = {res, ids, found, (int)kept};
    rc = directory__each_near(d, origin, radius, copy_one, &cb, err);
    /* A facility closed between the two walks drops out; the order holds. */
    size_t m = 0;
    for (size_t i = 0; rc == LINLI_OK && i < kept; i++)
        if (found[i])
            res[m++] = res[i];
    free(ids);
    free(found);
    if (rc || m == 0) {
        free(res);
        return rc;
    }
    *out = res;
    *n = (int)m;
    return LINLI_OK;
}
