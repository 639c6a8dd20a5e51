/* directory_rules.c - the directory's pure rules: the names of kinds,
 * operator types, statuses, units and subsidy classes; opening hours and
 * whether a facility is open at a moment; money; whom a service serves and
 * what a person pays for it. No store, no globals. */
#include "domain/directory.h"

#include "domain/people.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define LOCAL_OFFSET_S (8 * 3600) /* Asia/Shanghai, no daylight saving */

/* ---- names ---- */

struct name_pair {
    const char *code, *label;
};

static const struct name_pair kinds[FACILITY_KINDS] = {
    {"institution", "养老机构"},
    {"station", "养老驿站"},
    {"dining_table", "老年餐桌"},
    {"regional_centre", "区域养老服务中心"},
    {"family_bed_provider", "家庭养老照护床位"},
    {"health_centre", "社区卫生服务中心"},
    {"provider", "服务商"},
};
static const struct name_pair operators[OPERATOR_TYPES] = {
    {"public", "公办"}, {"private", "民办"}, {"public_private", "公建民营"}};
static const struct name_pair statuses[FACILITY_STATUSES] = {
    {"open", "开放"}, {"suspended", "暂停"}, {"closed", "关闭"}};
static const struct name_pair units[UNIT_UNITS] = {
    {"meal", "餐"}, {"hour", "小时"}, {"visit", "次"}, {"day", "天"}, {"month", "月"}};
static const struct name_pair subsidies[SUBSIDY_CLASSES] = {
    {"dibao", "低保"}, {"tekun", "特困"}, {"low_income", "低收入"},
    {"shidu", "失独"}, {"youfu", "优抚"}, {"other", "其他"}};

static int pair_parse(const struct name_pair *p, int n, const char *text, int *out)
{
    for (int i = 0; text && i < n; i++) {
        if (!strcmp(text, p[i].code) || !strcmp(text, p[i].label)) {
            *out = i;
            return 0;
        }
    }
    return -1;
}

#define PAIR_NAME(tbl, n, i) ((i) >= 0 && (i) < (n) ? (tbl)[i].code : "?")

const char *facility_kind_name(int kind)
{
    return PAIR_NAME(kinds, FACILITY_KINDS, kind);
}

const char *facility_kind_label(int kind)
{
    return kind >= 0 && kind < FACILITY_KINDS ? kinds[kind].label : "?";
}

const char *facility_kind_label_en(int kind)
{
    static const char *const en[FACILITY_KINDS] = {"Care home",
                                                   "Elderly-care station",
                                                   "Dining table",
                                                   "Regional centre",
                                                   "Family care bed provider",
                                                   "Community health centre",
                                                   "Home-service provider"};
    return kind >= 0 && kind < FACILITY_KINDS ? en[kind] : "?";
}

int facility_kind_parse(const char *text, int *kind)
{
    /* The long official name of health centres is accepted too. */
    if (text && (!strcmp(text, "社区卫生服务中心（站）") || !strcmp(text, "社区卫生服务站"))) {
        *kind = FACILITY_HEALTH;
        return 0;
    }
    return pair_parse(kinds, FACILITY_KINDS, text, kind);
}

const char *operator_type_name(int t)
{
    return PAIR_NAME(operators, OPERATOR_TYPES, t);
}

int operator_type_parse(const char *text, int *t)
{
    return pair_parse(operators, OPERATOR_TYPES, text, t);
}

const char *facility_status_name(int s)
{
    return PAIR_NAME(statuses, FACILITY_STATUSES, s);
}

int facility_status_parse(const char *text, int *s)
{
    return pair_parse(statuses, FACILITY_STATUSES, text, s);
}

const char *price_unit_name(int u)
{
    return PAIR_NAME(units, UNIT_UNITS, u);
}

int price_unit_parse(const char *text, int *u)
{
    return pair_parse(units, UNIT_UNITS, text, u);
}

const char *subsidy_class_name(int c)
{
    return PAIR_NAME(subsidies, SUBSIDY_CLASSES, c);
}

int subsidy_class_parse(const char *text, int *c)
{
    return pair_parse(subsidies, SUBSIDY_CLASSES, text, c);
}

/* ---- opening hours ---- */

/* "HH:MM" at *p into minutes; advances *p. -1 when malformed. */
static int parse_clock(const char **p)
{
    const char *s = *p;
    if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) || s[2] != ':' ||
        !isdigit((unsigned char)s[3]) || !isdigit((unsigned char)s[4]))
        return -1;
    int h = (s[0] - '0') * 10 + (s[1] - '0');
    int m = (s[3] - '0') * 10 + (s[4] - '0');
    if (m > 59 || h > 24 || (h == 24 && m != 0))
        return -1;
    *p = s + 5;
    return h * 60 + m;
}

int hours_parse_span(const char *text, struct time_span *out)
{
    if (!text)
        return -1;
    const char *p = text;
    int open = parse_clock(&p);
    if (open < 0 || *p++ != '-')
        return -1;
    int close = parse_clock(&p);
    if (close < 0 || *p || close <= open || open >= 1440)
        return -1;
    out->open = (int16_t)open;
    out->close = (int16_t)close;
    return 0;
}

void hours_format_span(const struct time_span *s, char out[12])
{
    /* Spans are checked to lie within 00:00-24:00; clamp so any value fits. */
    unsigned o = (unsigned)s->open % 1441, c = (unsigned)s->close % 1441;
    snprintf(out, 12, "%02u:%02u-%02u:%02u", (o / 60) % 25, o % 60, (c / 60) % 25, c % 60);
}

static const char *const day_names[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

static int day_parse(const char *s, size_t len)
{
    for (int i = 0; i < 7; i++)
        if (len == 3 && !strncmp(s, day_names[i], 3))
            return i;
    return -1;
}

/* Adds `span` to day `d` unless the day is full or the span overlaps one it
 * has; keeps the day's spans in order. 0 or -1 with `why`. */
static int add_span(struct week_hours *h, int d, struct time_span span, char *why, size_t size)
{
    if (h->nspans[d] == FACILITY_SPANS_MAX) {
        snprintf(why, size, "%s has more than %d opening spans", day_names[d], FACILITY_SPANS_MAX);
        return -1;
    }
    int i = h->nspans[d];
    while (i > 0 && h->spans[d][i - 1].open > span.open) {
        h->spans[d][i] = h->spans[d][i - 1];
        i--;
    }
    h->spans[d][i] = span;
    h->nspans[d]++;
    for (int k = 1; k < h->nspans[d]; k++) {
        if (h->spans[d][k].open < h->spans[d][k - 1].close) {
            snprintf(why, size, "%s has overlapping spans", day_names[d]);
            return -1;
        }
    }
    return 0;
}

/* The days of one group: "mon-fri", "sat,sun", "daily". A bit per day. */
static int parse_days(const char *s, size_t len, unsigned *days)
{
    *days = 0;
    if (len == 5 && !strncmp(s, "daily", 5)) {
        *days = 0x7f;
        return 0;
    }
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && s[j] != ',')
            j++;
        const char *dash = memchr(s + i, '-', j - i);
        int a, b;
        if (dash) {
            a = day_parse(s + i, (size_t)(dash - (s + i)));
            b = day_parse(dash + 1, (size_t)(s + j - dash - 1));
        } else {
            a = b = day_parse(s + i, j - i);
        }
        if (a < 0 || b < 0 || b < a)
            return -1;
        for (int d = a; d <= b; d++)
            *days |= 1u << d;
        i = j + 1;
    }
    return *days ? 0 : -1;
}

int hours_parse_week(const char *text, struct week_hours *out, char *why, size_t size)
{
    memset(out, 0, sizeof *out);
    const char *p = text ? text : "";
    while (*p) {
        while (*p == ' ' || *p == ';')
            p++;
        if (!*p)
            break;
        const char *group = p;
        while (*p && *p != ' ' && *p != ';')
            p++;
        unsigned days;
        if (parse_days(group, (size_t)(p - group), &days)) {
            snprintf(why, size, "\"%.*s\" is not a day list (mon-fri, sat,sun, daily)",
                     (int)(p - group) > 40 ? 40 : (int)(p - group), group);
            return -1;
        }
        while (*p == ' ')
            p++;
        const char *spans = p;
        while (*p && *p != ';')
            p++;
        /* Comma-separated spans up to the ';'. */
        const char *q = spans;
        int nspans = 0;
        while (q < p) {
            while (q < p && *q == ' ')
                q++;
            const char *e = q;
            while (e < p && *e != ',')
                e++;
            const char *end = e;
            while (end > q && end[-1] == ' ')
                end--;
            char buf[16];
            size_t len = (size_t)(end - q);
            struct time_span span;
            if (len == 0 || len >= sizeof buf) {
                snprintf(why, size, "expected HH:MM-HH:MM after the days");
                return -1;
            }
            memcpy(buf, q, len);
            buf[len] = '\0';
            if (hours_parse_span(buf, &span)) {
                snprintf(why, size, "\"%s\" is not a span HH:MM-HH:MM that ends after it starts",
                         buf);
                return -1;
            }
            for (int d = 0; d < 7; d++)
                if ((days & (1u << d)) && add_span(out, d, span, why, size))
                    return -1;
            nspans++;
            q = e < p ? e + 1 : e;
        }
        if (!nspans) {
            snprintf(why, size, "expected HH:MM-HH:MM after the days");
            return -1;
        }
    }
    return 0;
}

static bool same_day(const struct week_hours *h, int a, int b)
{
    if (h->nspans[a] != h->nspans[b])
        return false;
    for (int i = 0; i < h->nspans[a]; i++)
        if (h->spans[a][i].open != h->spans[b][i].open ||
            h->spans[a][i].close != h->spans[b][i].close)
            return false;
    return true;
}

void hours_format_week(const struct week_hours *h, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    int d = 0;
    bool all = true;
    for (int i = 1; i < 7; i++)
        all = all && same_day(h, 0, i);
    while (d < 7) {
        int e = d;
        while (e + 1 < 7 && same_day(h, d, e + 1))
            e++;
        if (h->nspans[d]) {
            char days[16];
            if (all && d == 0 && e == 6)
                snprintf(days, sizeof days, "daily");
            else if (e > d)
                snprintf(days, sizeof days, "%s-%s", day_names[d], day_names[e]);
            else
                snprintf(days, sizeof days, "%s", day_names[d]);
            int n = snprintf(out + used, size - used, "%s%s ", used ? "; " : "", days);
            used = n > 0 && (size_t)n < size - used ? used + (size_t)n : size - 1;
            for (int i = 0; i < h->nspans[d]; i++) {
                char span[12];
                hours_format_span(&h->spans[d][i], span);
                n = snprintf(out + used, size - used, "%s%s", i ? "," : "", span);
                used = n > 0 && (size_t)n < size - used ? used + (size_t)n : size - 1;
            }
        }
        d = e + 1;
    }
}

/* Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm). */
static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

bool facility_open_at(const struct facility *f, int64_t t)
{
    if (f->status != FACILITY_OPEN)
        return false;
    int64_t local = t + LOCAL_OFFSET_S;
    int64_t day = local >= 0 ? local / 86400 : (local - 86399) / 86400;
    int minute = (int)((local - day * 86400) / 60);
    int weekday = (int)(((day % 7) + 7 + 3) % 7); /* 1970-01-01 was a Thursday */
    if (f->nclosures) {
        int y, m, d;
        civil_from_days(day, &y, &m, &d);
        char date[16];
        snprintf(date, sizeof date, "%04d-%02d-%02d", y % 10000, m, d);
        for (int i = 0; i < f->nclosures; i++)
            if (strcmp(date, f->closures[i].from) >= 0 && strcmp(date, f->closures[i].to) <= 0)
                return false;
    }
    for (int i = 0; i < f->hours.nspans[weekday]; i++)
        if (minute >= f->hours.spans[weekday][i].open && minute < f->hours.spans[weekday][i].close)
            return true;
    return false;
}

/* ---- money ---- */

int price_parse_yuan(double yuan, int64_t *fen)
{
    if (!isfinite(yuan) || yuan < 0 || yuan > PRICE_MAX_FEN / 100.0)
        return -1;
    double f = yuan * 100.0;
    double r = round(f);
    if (fabs(f - r) > 1e-6 * (r > 1 ? r : 1))
        return -1; /* more than two decimals */
    *fen = (int64_t)r;
    return 0;
}

/* ---- who is served, who pays what ---- */

bool service_serves(const struct facility_service *s, const struct match_profile *p, char *why,
                    size_t size)
{
    if (s->age_min > 0 && (p->age < 0 || p->age < s->age_min)) {
        if (why)
            snprintf(why, size, "serves people aged %d or more", s->age_min);
        return false;
    }
    if (s->care_levels && !(s->care_levels & CARE_BIT(p->care_level))) {
        if (why)
            snprintf(why, size, "does not serve people who are %s",
                     people_care_level_name((enum care_level)p->care_level));
        return false;
    }
    if (why && size)
        why[0] = '\0';
    return true;
}

static bool rule_applies(const struct subsidy_rule *r, const struct match_profile *p)
{
    if (r->classes && (p->subsidy_class < 0 || !(r->classes & (1u << (unsigned)p->subsidy_class))))
        return false;
    if (r->age_min > 0 && (p->age < 0 || p->age < r->age_min))
        return false;
    if (r->care_levels && !(r->care_levels & CARE_BIT(p->care_level)))
        return false;
    if (r->living_alone && !p->living_alone)
        return false;
    return true;
}

int64_t service_pay_fen(const struct facility_service *s, const struct match_profile *p, int *rule)
{
    int64_t best = s->price_fen;
    int which = -1;
    for (int i = 0; i < s->nrules; i++) {
        const struct subsidy_rule *r = &s->rules[i];
        if (!rule_applies(r, p))
            continue;
        int64_t pay = s->price_fen;
        if (r->pay_fen >= 0)
            pay = r->pay_fen < pay ? r->pay_fen : pay;
        else if (r->percent_off > 0)
            pay = s->price_fen - (s->price_fen * r->percent_off + 50) / 100;
        else if (r->amount_off_fen > 0)
            pay = s->price_fen - r->amount_off_fen;
        if (pay < 0)
            pay = 0;
        if (pay < best) {
            best = pay;
            which = i;
        }
    }
    if (rule)
        *rule = which;
    return best;
}
