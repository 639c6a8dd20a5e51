/* people_rules.c - the rules a resident's profile follows, without the
 * store: today's date and ages on the Asia/Shanghai calendar, care-level and
 * subsidy codes, who may read, write and see unmasked, masking, and checking
 * a profile. */
#include "domain/people.h"

#include "base/clock.h"
#include "base/jx.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHANGHAI_OFFSET_MS (8LL * 3600 * 1000) /* Asia/Shanghai has no summer time */

/* ---- dates ---- */

/* Days since 1970-01-01 to a civil date (proleptic Gregorian), after
 * H. Hinnant's algorithm. */
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

int people_today(void)
{
    int64_t ms = clock_now_ms() + SHANGHAI_OFFSET_MS;
    int64_t days = ms / 86400000;
    if (ms < 0 && ms % 86400000)
        days--;
    int y, m, d;
    civil_from_days(days, &y, &m, &d);
    return y * 10000 + m * 100 + d;
}

static int parse_date(const char *s, int *y, int *m, int *d)
{
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return -1;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return -1;
    *y = atoi(s);
    *m = atoi(s + 5);
    *d = atoi(s + 8);
    return 0;
}

int people_age(const char *birth_date, int today)
{
    int y, m, d;
    if (parse_date(birth_date, &y, &m, &d))
        return -1;
    int ty = today / 10000, tmd = today % 10000;
    int age = ty - y - (tmd < m * 100 + d ? 1 : 0);
    return age < 0 ? -1 : age;
}

void people_birth_bounds(int age_min, int age_max, int today, char born_on_or_before[11],
                         char born_after[11])
{
    int ty = today / 10000, tm = today / 100 % 100, td = today % 100;
    /* age >= A  <=>  (birth year, month, day) <= (ty - A, tm, td) */
    char buf[32];
    born_on_or_before[0] = born_after[0] = '\0';
    if (age_min >= 0) {
        snprintf(buf, sizeof buf, "%04d-%02d-%02d", ty - age_min, tm, td);
        snprintf(born_on_or_before, 11, "%.10s", buf);
    }
    /* age <= B  <=>  not (age >= B + 1) */
    if (age_max >= 0) {
        snprintf(buf, sizeof buf, "%04d-%02d-%02d", ty - age_max - 1, tm, td);
        snprintf(born_after, 11, "%.10s", buf);
    }
}

/* ---- codes ---- */

static const struct {
    const char *code, *label;
} care_levels[] = {
    [CARE_SELF] = {"self_care", "自理"},
    [CARE_PARTLY_DEPENDENT] = {"partly_dependent", "半失能"},
    [CARE_DEPENDENT] = {"dependent", "失能"},
};

static const struct {
    const char *code, *label;
} subsidy_classes[] = {
    {"dibao", "低保"}, {"tekun", "特困"}, {"low_income", "低收入"},
    {"shidu", "失独"}, {"youfu", "优抚"}, {"other", "其他"},
};

int people_care_level_parse(const char *text, enum care_level *out)
{
    for (int i = 0; i < 3; i++) {
        if (!strcmp(text, care_levels[i].code) || !strcmp(text, care_levels[i].label)) {
            *out = (enum care_level)i;
            return 0;
        }
    }
    return -1;
}

const char *people_care_level_name(enum care_level c)
{
    return (unsigned)c < 3 ? care_levels[c].code : "self_care";
}

const char *people_subsidy_code(const char *text)
{
    for (size_t i = 0; i < sizeof subsidy_classes / sizeof subsidy_classes[0]; i++)
        if (!strcmp(text, subsidy_classes[i].code) || !strcmp(text, subsidy_classes[i].label))
            return subsidy_classes[i].code;
    return NULL;
}

/* ---- who may ---- */

bool people_may_read(enum role r)
{
    return r == ROLE_ADMIN || r == ROLE_DISTRICT || r == ROLE_STREET || r == ROLE_COMMUNITY ||
           r == ROLE_OPERATOR || r == ROLE_AUDITOR;
}

bool people_may_write(enum role r)
{
    return r == ROLE_ADMIN || r == ROLE_DISTRICT || r == ROLE_STREET || r == ROLE_COMMUNITY;
}

unsigned people_may_reveal(enum role r)
{
    if (people_may_write(r))
        return PEOPLE_REVEAL_ID_NUMBER | PEOPLE_REVEAL_PHONE;
    if (r == ROLE_OPERATOR)
        return PEOPLE_REVEAL_PHONE; /* they call people back, and their contacts */
    return 0;
}

bool people_visible(const struct principal *who, const char *community_code)
{
    if (!people_may_read(who->role))
        return false;
    if (who->role == ROLE_ADMIN)
        return true;
    return area_within(who->scope, community_code);
}

void people_mask(struct person *p, unsigned reveal)
{
    p->id_number_masked = p->phone_masked = false;
    if (!(reveal & PEOPLE_REVEAL_ID_NUMBER) && p->id_number[0]) {
        char m[IDNUM_LEN + 1];
        idnum_mask(p->id_number, m);
        memcpy(p->id_number, m, sizeof m);
        p->id_number_masked = true;
    }
    if (!(reveal & PEOPLE_REVEAL_PHONE)) {
        char m[PERSON_PHONE_SIZE];
        if (p->phone[0]) {
            phone_mask(p->phone, m, sizeof m);
            memcpy(p->phone, m, sizeof m);
        }
        for (int i = 0; i < p->ncontacts; i++) {
            phone_mask(p->contacts[i].phone, m, sizeof m);
            memcpy(p->contacts[i].phone, m, sizeof m);
        }
        p->phone_masked = p->phone[0] || p->ncontacts > 0;
    }
}

/* ---- checking a profile ---- */

/* Text with no control characters, 1..max characters (0..max when optional). */
static bool check_text(struct linli_err *err, const char *field, const char *s, size_t max,
                       bool required, char *out, size_t size)
{
    if (!s || !*s) {
        if (required)
            linli_field(err, field, "is required");
        if (out)
            out[0] = '\0';
        return !required;
    }
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            linli_field(err, field, "must not contain control characters (tabs, line breaks)");
            return false;
        }
    }
    if (jx_utf8_len(s) > max) {
        linli_field(err, field, "must be at most %zu characters", max);
        return false;
    }
    if (out)
        snprintf(out, size, "%s", s);
    return true;
}

int people_check(const struct person_in *in, int today, struct person *out, struct linli_err *err)
{
    int before = err->nfields;
    memset(out, 0, sizeof *out);
    const char *why;
    check_text(err, "name", in->name, PERSON_NAME_MAX, true, out->name, sizeof out->name);
    if (in->id_number && *in->id_number) {
        struct idnum_info info;
        if (idnum_check(in->id_number, today, &info, &why) != 0) {
            linli_field(err, "id_number", "%s", why);
        } else {
            memcpy(out->id_number, info.normalized, sizeof out->id_number);
            snprintf(out->birth_date, sizeof out->birth_date, "%04d-%02d-%02d", info.year,
                     info.month, info.day);
            out->sex = info.sex;
        }
    }
    if (in->phone && *in->phone &&
        phone_check(in->phone, out->phone, (int)sizeof out->phone, &why) != 0)
        linli_field(err, "phone", "%s", why);
    check_text(err, "address", in->address, PERSON_ADDRESS_MAX, false, out->address,
               sizeof out->address);
    if (in->has_home) {
        if (!isfinite(in->lat) || in->lat < -90 || in->lat > 90)
            linli_field(err, "home.lat", "must be a latitude between -90 and 90");
        if (!isfinite(in->lon) || in->lon < -180 || in->lon > 180)
            linli_field(err, "home.lon", "must be a longitude between -180 and 180");
        out->has_home = true;
        out->lat = in->lat;
        out->lon = in->lon;
    }
    if (!in->community_code || !*in->community_code) {
        linli_field(err, "community_code", "is required");
    } else {
        char norm[AREA_CODE_LEN + 1];
        if (area_code_normalize(in->community_code, norm, &why) != 0)
            linli_field(err, "community_code", "%s", why);
        else if (area_code_level(norm) != 2)
            linli_field(err, "community_code",
                        "must be a community (12-digit code), not a street or district");
        else
            memcpy(out->community_code, norm, sizeof norm);
    }
    out->living_alone = in->living_alone;
    out->care_level = CARE_SELF;
    if (in->care_level && people_care_level_parse(in->care_level, &out->care_level) != 0)
        linli_field(err, "care_level", "must be self_care, partly_dependent or dependent");
    check_text(err, "disability", in->disability, PERSON_DISABILITY_MAX, false, out->disability,
               sizeof out->disability);
    if (in->subsidy_class && *in->subsidy_class) {
        const char *code = people_subsidy_code(in->subsidy_class);
        if (!code)
            linli_field(err, "subsidy_class",
                        "must be dibao, tekun, low_income, shidu, youfu or other");
        else
            snprintf(out->subsidy_class, sizeof out->subsidy_class, "%s", code);
    }
    if (in->nconditions < 0 || in->nconditions > PERSON_CONDITIONS_MAX) {
        linli_field(err, "conditions", "at most %d conditions", PERSON_CONDITIONS_MAX);
    } else {
        for (int i = 0; i < in->nconditions; i++) {
            char field[32];
            snprintf(field, sizeof field, "conditions[%d]", i);
            const char *c = in->conditions[i];
            if (!check_text(err, field, c, PERSON_CONDITION_MAX, true, NULL, 0))
                continue;
            if (strchr(c, ';')) {
                linli_field(err, field, "must not contain ';' (it separates conditions in CSV)");
                continue;
            }
            bool dup = false;
            for (int k = 0; k < out->nconditions; k++)
                dup |= !strcmp(out->conditions[k], c);
            if (dup)
                linli_field(err, field, "is listed twice");
            else
                snprintf(out->conditions[out->nconditions++], sizeof out->conditions[0], "%s", c);
        }
    }
    if (in->ncontacts < 0 || in->ncontacts > PERSON_CONTACTS_MAX) {
        linli_field(err, "emergency_contacts", "at most %d contacts", PERSON_CONTACTS_MAX);
    } else {
        for (int i = 0; i < in->ncontacts; i++) {
            const struct contact_in *ci = &in->contacts[i];
            struct contact *co = &out->contacts[i];
            char field[48];
            snprintf(field, sizeof field, "emergency_contacts[%d].name", i);
            check_text(err, field, ci->name, CONTACT_NAME_MAX, true, co->name, sizeof co->name);
            snprintf(field, sizeof field, "emergency_contacts[%d].relation", i);
            check_text(err, field, ci->relation, CONTACT_RELATION_MAX, false, co->relation,
                       sizeof co->relation);
            snprintf(field, sizeof field, "emergency_contacts[%d].phone", i);
            if (!ci->phone || !*ci->phone)
                linli_field(err, field, "is required: a contact is someone to call");
            else if (phone_check(ci->phone, co->phone, (int)sizeof co->phone, &why) != 0)
                linli_field(err, field, "%s", why);
        }
        out->ncontacts = in->ncontacts;
    }
    out->consent = in->consent;
    return err->nfields > before ? LINLI_EINVAL : LINLI_OK;
}
