/* people.c - residents' profiles: the rules a profile follows, reads and
 * writes with their audit entries, search, export and bulk import. */
#include "domain/people.h"

#include "base/clock.h"
#include "base/jx.h"
#include "domain/audit.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHANGHAI_OFFSET_MS (8LL * 3600 * 1000) /* Asia/Shanghai has no summer time */
#define EXPORT_PAGE        1000

/* ---- SQL ---- */

#define PERSON_COLUMNS                                                                             \
    "p.id, p.name, p.id_number, p.birth_date, p.sex, p.phone, p.address, p.lat, p.lon,"            \
    " p.community_code, a.name, p.living_alone, p.care_level, p.disability, p.subsidy_class,"      \
    " p.conditions, p.consent, p.created_at, p.updated_at"
#define PERSON_FROM " FROM people p LEFT JOIN areas a ON a.code = p.community_code"

static const char SQL_PERSON_BY_ID[] = "SELECT " PERSON_COLUMNS PERSON_FROM " WHERE p.id = ?";
static const char SQL_CONTACTS[] =
    "SELECT name, relation, phone FROM emergency_contacts WHERE person_id = ? ORDER BY position";
static const char SQL_CONTACTS_DELETE[] = "DELETE FROM emergency_contacts WHERE person_id = ?";
static const char SQL_PERSON_UPDATE[] =
    "UPDATE people SET name = ?2, id_number = ?3, birth_date = ?4, sex = ?5, phone = ?6,"
    " address = ?7, lat = ?8, lon = ?9, community_code = ?10, living_alone = ?11,"
    " care_level = ?12, disability = ?13, subsidy_class = ?14, conditions = ?15,"
    " consent = ?16,"
    " consent_at = CASE WHEN ?16 = 0 THEN NULL WHEN consent = 1 THEN consent_at ELSE ?17 END,"
    " updated_at = ?17 WHERE id = ?1";
static const char SQL_COMMUNITY_STATE[] =
    "SELECT level, retired_edition IS NULL FROM areas WHERE code = ?";
static const char SQL_MAX_CONTACTS[] = "SELECT coalesce(max(position), 0) FROM emergency_contacts";

/* Search: one statement per way in, so each can use its index; the other
 * filters ride along. Parameters: ?1 what leads (a phrase, an ID number, a
 * phone), ?3 the caller's scope as a code prefix ("" = all), ?4 community,
 * ?5 street prefix, ?6/?7 birth-date bounds, ?8 living alone, ?9 a LIKE
 * pattern for short names, ?10 the cursor, ?11 the limit. The scope test is
 * written with substr() so no plan uses the community index for it (a
 * district-wide range would then sort the whole table for one page). */
#define SEARCH_REST                                                                                \
    " AND substr(p.community_code, 1, length(?3)) = ?3"                                            \
    " AND (?5 IS NULL OR substr(p.community_code, 1, 9) = ?5)"                                     \
    " AND (?6 IS NULL OR p.birth_date <= ?6)"                                                      \
    " AND (?7 IS NULL OR p.birth_date > ?7)"                                                       \
    " AND (?8 IS NULL OR p.living_alone = ?8)"                                                     \
    " AND (?9 IS NULL OR p.name LIKE ?9 ESCAPE '\\')"                                              \
    " AND p.id > ?10 ORDER BY p.id LIMIT ?11"
#define SEARCH_COMMUNITY_TOO " AND (?4 IS NULL OR p.community_code = ?4)"

/* clang-format off */
static const char SQL_SEARCH_NAME[] =
    "SELECT " PERSON_COLUMNS PERSON_FROM
    " WHERE p.id IN (SELECT rowid FROM people_fts WHERE people_fts MATCH ?1)"
    SEARCH_COMMUNITY_TOO SEARCH_REST;
static const char SQL_SEARCH_ID_NUMBER[] =
    "SELECT " PERSON_COLUMNS PERSON_FROM " WHERE p.id_number = ?1" SEARCH_COMMUNITY_TOO SEARCH_REST;
static const char SQL_SEARCH_PHONE[] =
    "SELECT " PERSON_COLUMNS PERSON_FROM
    " WHERE (p.phone = ?1"
    "   OR p.id IN (SELECT person_id FROM emergency_contacts WHERE phone = ?1))"
    SEARCH_COMMUNITY_TOO SEARCH_REST;
static const char SQL_SEARCH_COMMUNITY[] =
    "SELECT " PERSON_COLUMNS PERSON_FROM " WHERE p.community_code = ?4" SEARCH_REST;
static const char SQL_SEARCH_ALL[] =
    "SELECT " PERSON_COLUMNS PERSON_FROM " WHERE ?4 IS NULL" SEARCH_REST;
/* clang-format on */

static const char SQL_EXPORT_PAGE[] =
    "SELECT " PERSON_COLUMNS PERSON_FROM
    " WHERE p.id > ?1 AND substr(p.community_code, 1, length(?2)) = ?2"
    " AND substr(p.community_code, 1, length(?3)) = ?3 ORDER BY p.id LIMIT ?4";
static const char SQL_EXPORT_COUNT[] =
    "SELECT count(*) FROM people p WHERE substr(p.community_code, 1, length(?1)) = ?1"
    " AND substr(p.community_code, 1, length(?2)) = ?2";

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

static void scope_prefix(const struct principal *who, char out[AREA_CODE_LEN + 1])
{
    out[0] = '\0';
    if (who->role == ROLE_ADMIN || strlen(who->scope) != AREA_CODE_LEN)
        return;
    size_t n = (size_t[]){6, 9, 12}[area_code_level(who->scope)];
    memcpy(out, who->scope, n);
    out[n] = '\0';
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

/* ---- rows ---- */

static void copy_col(char *dst, size_t size, sqlite3_stmt *st, int i)
{
    const unsigned char *v = sqlite3_column_text(st, i);
    snprintf(dst, size, "%s", v ? (const char *)v : "");
}

static void conditions_from_json(struct person *p, const char *text)
{
    p->nconditions = 0;
    json_t *arr = text ? json_loads(text, 0, NULL) : NULL;
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        if (p->nconditions == PERSON_CONDITIONS_MAX)
            break;
        if (json_is_string(v))
            snprintf(p->conditions[p->nconditions++], sizeof p->conditions[0], "%s",
                     json_string_value(v));
    }
    json_decref(arr);
}

static char *conditions_json(const struct person *p)
{
    json_t *arr = json_array();
    for (int i = 0; i < p->nconditions; i++)
        json_array_append_new(arr, json_string(p->conditions[i]));
    char *s = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    return s;
}

static void person_from_row(sqlite3_stmt *st, struct person *p)
{
    memset(p, 0, sizeof *p);
    p->id = sqlite3_column_int64(st, 0);
    copy_col(p->name, sizeof p->name, st, 1);
    copy_col(p->id_number, sizeof p->id_number, st, 2);
    copy_col(p->birth_date, sizeof p->birth_date, st, 3);
    const unsigned char *sex = sqlite3_column_text(st, 4);
    p->sex = sex && (sex[0] == 'M' || sex[0] == 'F') ? (char)sex[0] : 0;
    copy_col(p->phone, sizeof p->phone, st, 5);
    copy_col(p->address, sizeof p->address, st, 6);
    p->has_home = sqlite3_column_type(st, 7) != SQLITE_NULL;
    p->lat = sqlite3_column_double(st, 7);
    p->lon = sqlite3_column_double(st, 8);
    copy_col(p->community_code, sizeof p->community_code, st, 9);
    copy_col(p->community_name, sizeof p->community_name, st, 10);
    p->living_alone = sqlite3_column_int(st, 11) != 0;
    const unsigned char *care = sqlite3_column_text(st, 12);
    if (!care || people_care_level_parse((const char *)care, &p->care_level) != 0)
        p->care_level = CARE_SELF; /* unreachable: a CHECK constraint holds the codes */
    copy_col(p->disability, sizeof p->disability, st, 13);
    copy_col(p->subsidy_class, sizeof p->subsidy_class, st, 14);
    conditions_from_json(p, (const char *)sqlite3_column_text(st, 15));
    p->consent = sqlite3_column_int(st, 16) != 0;
    p->created_at = sqlite3_column_int64(st, 17);
    p->updated_at = sqlite3_column_int64(st, 18);
}

static int load_contacts(struct store_conn *c, struct person *p, struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_CONTACTS, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, p->id);
    int rc;
    p->ncontacts = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && p->ncontacts < PERSON_CONTACTS_MAX) {
        struct contact *co = &p->contacts[p->ncontacts++];
        copy_col(co->name, sizeof co->name, st, 0);
        copy_col(co->relation, sizeof co->relation, st, 1);
        copy_col(co->phone, sizeof co->phone, st, 2);
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_fail(c, rc, "reading emergency contacts", err);
    sqlite3_reset(st);
    return LINLI_OK;
}

/* Loads person `id` with its contacts; *found says whether it exists. */
static int load_person(struct store_conn *c, int64_t id, struct person *out, bool *found,
                       struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_PERSON_BY_ID, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    *found = rc == SQLITE_ROW;
    if (rc == SQLITE_ROW)
        person_from_row(st, out);
    else if (rc != SQLITE_DONE)
        return store_fail(c, rc, "reading a person", err);
    sqlite3_reset(st);
    return *found ? load_contacts(c, out, err) : LINLI_OK;
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *v)
{
    if (v && *v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

/* Binds the stored columns of `p` in the order of SQL_PERSON_INSERT's ?1..?15
 * (SQL_PERSON_UPDATE uses the same values shifted by one). */
static int bind_person(sqlite3_stmt *st, int first, const struct person *p, int64_t now)
{
    char *conditions = conditions_json(p);
    if (!conditions)
        return LINLI_ENOMEM;
    char sex[2] = {p->sex, '\0'};
    int i = first;
    sqlite3_bind_text(st, i++, p->name, -1, SQLITE_TRANSIENT);
    bind_text_or_null(st, i++, p->id_number);
    bind_text_or_null(st, i++, p->birth_date);
    bind_text_or_null(st, i++, sex);
    bind_text_or_null(st, i++, p->phone);
    sqlite3_bind_text(st, i++, p->address, -1, SQLITE_TRANSIENT);
    if (p->has_home) {
        sqlite3_bind_double(st, i++, p->lat);
        sqlite3_bind_double(st, i++, p->lon);
    } else {
        sqlite3_bind_null(st, i++);
        sqlite3_bind_null(st, i++);
    }
    sqlite3_bind_text(st, i++, p->community_code, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, i++, p->living_alone);
    sqlite3_bind_text(st, i++, people_care_level_name(p->care_level), -1, SQLITE_STATIC);
    bind_text_or_null(st, i++, p->disability);
    bind_text_or_null(st, i++, p->subsidy_class);
    sqlite3_bind_text(st, i++, conditions, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, i++, p->consent);
    sqlite3_bind_int64(st, i++, now);
    free(conditions);
    return LINLI_OK;
}

static const char SQL_PERSON_INSERT[] =
    "INSERT INTO people (name, id_number, birth_date, sex, phone, address, lat, lon,"
    " community_code, living_alone, care_level, disability, subsidy_class, conditions, consent,"
    " consent_at, created_at, updated_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15,"
    " CASE WHEN ?15 = 1 THEN ?16 END, ?16, ?16) RETURNING id";
static const char SQL_CONTACT_INSERT[] =
    "INSERT INTO emergency_contacts (person_id, position, name, relation, phone)"
    " VALUES (?, ?, ?, ?, ?)";

static int insert_contacts(struct store_conn *c, int64_t id, const struct person *p,
                           struct linli_err *err)
{
    for (int i = 0; i < p->ncontacts; i++) {
        sqlite3_stmt *st = store_stmt(c, SQL_CONTACT_INSERT, err);
        if (!st)
            return err->status;
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int(st, 2, i + 1);
        sqlite3_bind_text(st, 3, p->contacts[i].name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, p->contacts[i].relation, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, p->contacts[i].phone, -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        if (rc != SQLITE_DONE)
            return store_fail(c, rc, "adding an emergency contact", err);
        sqlite3_reset(st);
    }
    return LINLI_OK;
}

static int insert_person(struct store_conn *c, const struct person *p, int64_t now, int64_t *id,
                         struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_PERSON_INSERT, err);
    if (!st)
        return err->status;
    if (bind_person(st, 1, p, now))
        return linli_fail(err, LINLI_ENOMEM, "out of memory");
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        if ((rc & 0xff) == SQLITE_CONSTRAINT) {
            sqlite3_reset(st);
            linli_field(err, "id_number", "is already recorded for another person");
            return linli_fail(err, LINLI_ECONFLICT, "A person with this ID number exists already.");
        }
        return store_fail(c, rc, "adding a person", err);
    }
    *id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return insert_contacts(c, *id, p, err);
}

static int check_community(struct store_conn *c, const char *code, struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_COMMUNITY_STATE, err);
    if (!st)
        return err->status;
    sqlite3_bind_text(st, 1, code, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        return linli_field(err, "community_code", "is not an area in the registry");
    if (rc != SQLITE_ROW)
        return store_fail(c, rc, "reading an area", err);
    int level = sqlite3_column_int(st, 0), current = sqlite3_column_int(st, 1);
    sqlite3_reset(st);
    if (level != 2)
        return linli_field(err, "community_code", "is not a community");
    if (!current)
        return linli_field(err, "community_code", "was retired from the official list");
    return LINLI_OK;
}

static json_t *person_event(const struct person *p)
{
    return json_pack("{s:I, s:s}", "id", (json_int_t)p->id, "community_code", p->community_code);
}

/* ---- create ---- */

struct create_job {
    const struct principal *who;
    const struct person *p;
    const struct idem_req *idem;
    bool replayed;
    struct person *out;
};

static int create_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct create_job *j = arg;
    int64_t id = 0;
    bool found;
    int rc;
    if (j->idem) {
        int seen = idem_find(c, j->idem, &id, err);
        if (seen < 0)
            return seen;
        if (seen) {
            j->replayed = true;
            return load_person(c, id, j->out, &found, err);
        }
    }
    if ((rc = check_community(c, j->p->community_code, err)))
        return rc;
    if ((rc = insert_person(c, j->p, clock_now_ms(), &id, err)))
        return rc;
    if ((rc = load_person(c, id, j->out, &found, err)))
        return rc;
    char object[32];
    snprintf(object, sizeof object, "person:%lld", (long long)id);
    json_t *detail = person_event(j->out);
    rc = audit_append(c, j->who, "person.create", object, detail, err);
    json_decref(detail);
    if (rc)
        return rc;
    if (j->idem && (rc = idem_record(c, j->idem, id, err)))
        return rc;
    return LINLI_OK;
}

int people_create(struct domain *d, const struct principal *who, const struct person_in *in,
                  const struct idem_req *idem, struct person *out, bool *replayed,
                  struct linli_err *err)
{
    if (!people_may_write(who->role))
        return linli_fail(err, LINLI_EFORBIDDEN, "Your role may not add residents' profiles.");
    struct person *p = malloc(sizeof *p);
    if (!p)
        return linli_fail(err, LINLI_ENOMEM, "out of memory");
    int rc = people_check(in, people_today(), p, err);
    if (rc == LINLI_OK && !people_visible(who, p->community_code))
        rc = linli_fail(err, LINLI_EFORBIDDEN,
                        "Community %s lies outside your area; you may add people only within it.",
                        p->community_code);
    if (rc == LINLI_OK) {
        struct create_job j = {who, p, idem, false, out};
        rc = store_write(d->store, create_job, &j, err);
        if (rc == LINLI_OK && replayed)
            *replayed = j.replayed;
        if (rc == LINLI_OK && !j.replayed)
            domain_publish(d, "person.created", person_event(out));
    }
    free(p);
    if (rc == LINLI_OK)
        people_mask(out, 0);
    return rc;
}

/* ---- get ---- */

struct get_args {
    int64_t id;
    struct person *out;
    bool found;
};

static int get_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct get_args *a = arg;
    return load_person(c, a->id, a->out, &a->found, err);
}

static json_t *reveal_fields(unsigned reveal)
{
    json_t *f = json_array();
    if (reveal & PEOPLE_REVEAL_ID_NUMBER)
        json_array_append_new(f, json_string("id_number"));
    if (reveal & PEOPLE_REVEAL_PHONE)
        json_array_append_new(f, json_string("phone"));
    return f;
}

int people_get(struct domain *d, const struct principal *who, int64_t id, unsigned reveal,
               struct person *out, struct linli_err *err)
{
    if (!people_may_read(who->role))
        return linli_fail(err, LINLI_EFORBIDDEN, "Your role has no access to residents' profiles.");
    if (reveal & ~people_may_reveal(who->role))
        return linli_fail(err, LINLI_EFORBIDDEN, "Your role may not see %s unmasked.",
                          (reveal & ~people_may_reveal(who->role) & PEOPLE_REVEAL_ID_NUMBER)
                              ? "ID numbers"
                              : "phone numbers");
    struct get_args a = {id, out, false};
    int rc = store_read(d->store, get_job, &a, err);
    if (rc)
        return rc;
    if (!a.found || !people_visible(who, out->community_code)) {
        memset(out, 0, sizeof *out);
        return linli_fail(err, LINLI_ENOTFOUND, "No person %lld in your area.", (long long)id);
    }
    if (reveal) {
        char object[32];
        snprintf(object, sizeof object, "person:%lld", (long long)id);
        json_t *detail = json_pack("{s:o}", "fields", reveal_fields(reveal));
        rc = audit_record_read(d, who, "person.reveal", object, detail, err);
        json_decref(detail);
        if (rc) {
            memset(out, 0, sizeof *out); /* nothing unmasked leaves without its entry */
            return rc;
        }
    }
    people_mask(out, reveal);
    return LINLI_OK;
}

/* ---- update ---- */

struct update_job {
    const struct principal *who;
    int64_t id;
    const struct person_patch *p;
    int today;
    struct person *before, *after, *out;
    bool moved_out_of_scope;
};

/* The stored profile as input, so a patch can be laid over it and the whole
 * checked again. Strings point into `p`. */
static void input_from_person(const struct person *p, struct person_in *in)
{
    memset(in, 0, sizeof *in);
    in->name = p->name;
    in->id_number = p->id_number[0] ? p->id_number : NULL;
    in->phone = p->phone[0] ? p->phone : NULL;
    in->address = p->address;
    in->has_home = p->has_home;
    in->lat = p->lat;
    in->lon = p->lon;
    in->community_code = p->community_code;
    in->living_alone = p->living_alone;
    in->care_level = people_care_level_name(p->care_level);
    in->disability = p->disability[0] ? p->disability : NULL;
    in->subsidy_class = p->subsidy_class[0] ? p->subsidy_class : NULL;
    in->nconditions = p->nconditions;
    for (int i = 0; i < p->nconditions; i++)
        in->conditions[i] = p->conditions[i];
    in->ncontacts = p->ncontacts;
    for (int i = 0; i < p->ncontacts; i++) {
        in->contacts[i].name = p->contacts[i].name;
        in->contacts[i].relation = p->contacts[i].relation;
        in->contacts[i].phone = p->contacts[i].phone;
    }
    in->consent = p->consent;
}

static void apply_patch(struct person_in *in, const struct person_patch *p)
{
    const struct person_in *v = &p->v;
    if (p->set_name)
        in->name = v->name;
    if (p->set_id_number)
        in->id_number = v->id_number;
    if (p->set_phone)
        in->phone = v->phone;
    if (p->set_address)
        in->address = v->address;
    if (p->set_home) {
        in->has_home = v->has_home;
        in->lat = v->lat;
        in->lon = v->lon;
    }
    if (p->set_community_code)
        in->community_code = v->community_code;
    if (p->set_living_alone)
        in->living_alone = v->living_alone;
    if (p->set_care_level)
        in->care_level = v->care_level;
    if (p->set_disability)
        in->disability = v->disability;
    if (p->set_subsidy_class)
        in->subsidy_class = v->subsidy_class;
    if (p->set_conditions) {
        in->nconditions = v->nconditions;
        memcpy(in->conditions, v->conditions, sizeof in->conditions);
    }
    if (p->set_contacts) {
        in->ncontacts = v->ncontacts;
        memcpy(in->contacts, v->contacts, sizeof in->contacts);
    }
    if (p->set_consent)
        in->consent = v->consent;
}

static json_t *changed_fields(const struct person_patch *p)
{
    json_t *a = json_array();
    const struct {
        bool set;
        const char *name;
    } f[] = {
        {p->set_name, "name"},
        {p->set_id_number, "id_number"},
        {p->set_phone, "phone"},
        {p->set_address, "address"},
        {p->set_home, "home"},
        {p->set_community_code, "community_code"},
        {p->set_living_alone, "living_alone"},
        {p->set_care_level, "care_level"},
        {p->set_disability, "disability"},
        {p->set_subsidy_class, "subsidy_class"},
        {p->set_conditions, "conditions"},
        {p->set_contacts, "emergency_contacts"},
        {p->set_consent, "consent"},
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        if (f[i].set)
            json_array_append_new(a, json_string(f[i].name));
    return a;
}

static int update_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct update_job *j = arg;
    bool found;
    int rc = load_person(c, j->id, j->before, &found, err);
    if (rc)
        return rc;
    if (!found || !people_visible(j->who, j->before->community_code))
        return linli_fail(err, LINLI_ENOTFOUND, "No person %lld in your area.", (long long)j->id);
    struct person_in in;
    input_from_person(j->before, &in);
    apply_patch(&in, j->p);
    if ((rc = people_check(&in, j->today, j->after, err)))
        return rc;
    if (strcmp(j->after->community_code, j->before->community_code) != 0) {
        if (!people_visible(j->who, j->after->community_code))
            return linli_fail(err, LINLI_EFORBIDDEN,
                              "Community %s lies outside your area; you may not move people there.",
                              j->after->community_code);
        if ((rc = check_community(c, j->after->community_code, err)))
            return rc;
    }
    sqlite3_stmt *st = store_stmt(c, SQL_PERSON_UPDATE, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, j->id);
    if (bind_person(st, 2, j->after, clock_now_ms()))
        return linli_fail(err, LINLI_ENOMEM, "out of memory");
    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        if ((rc & 0xff) == SQLITE_CONSTRAINT) {
            sqlite3_reset(st);
            linli_field(err, "id_number", "is already recorded for another person");
            return linli_fail(err, LINLI_ECONFLICT, "A person with this ID number exists already.");
        }
        return store_fail(c, rc, "changing a person", err);
    }
    sqlite3_reset(st);
    if (j->p->set_contacts) {
        if (!(st = store_stmt(c, SQL_CONTACTS_DELETE, err)))
            return err->status;
        sqlite3_bind_int64(st, 1, j->id);
        if ((rc = sqlite3_step(st)) != SQLITE_DONE)
            return store_fail(c, rc, "replacing emergency contacts", err);
        sqlite3_reset(st);
        if ((rc = insert_contacts(c, j->id, j->after, err)))
            return rc;
    }
    if ((rc = load_person(c, j->id, j->out, &found, err)))
        return rc;
    json_t *detail = person_event(j->out);
    json_object_set_new(detail, "changed", changed_fields(j->p));
    if (strcmp(j->before->community_code, j->out->community_code) != 0)
        json_object_set_new(detail, "from_community_code", json_string(j->before->community_code));
    char object[32];
    snprintf(object, sizeof object, "person:%lld", (long long)j->id);
    rc = audit_append(c, j->who, "person.update", object, detail, err);
    json_decref(detail);
    return rc;
}

int people_update(struct domain *d, const struct principal *who, int64_t id,
                  const struct person_patch *p, struct person *out, struct linli_err *err)
{
    if (!people_may_write(who->role))
        return linli_fail(err, LINLI_EFORBIDDEN, "Your role may not change residents' profiles.");
    struct person *work = malloc(2 * sizeof *work);
    if (!work)
        return linli_fail(err, LINLI_ENOMEM, "out of memory");
    struct update_job j = {who, id, p, people_today(), &work[0], &work[1], out, false};
    int rc = store_write(d->store, update_job, &j, err);
    free(work);
    if (rc)
        return rc;
    domain_publish(d, "person.updated", person_event(out));
    people_mask(out, 0);
    return LINLI_OK;
}

/* ---- search ---- */

struct search_args {
    const char *sql;
    const char *lead;              /* ?1 */
    char scope[AREA_CODE_LEN + 1]; /* ?3 */
    const char *community;         /* ?4 */
    char street[10];               /* ?5, "" = none */
    char born_on_or_before[11], born_after[11];
    int living_alone;
    char *like; /* ?9 */
    int64_t after_id;
    int limit;
    struct person *items;
    int n;
    int64_t next;
};

static int search_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct search_args *a = arg;
    sqlite3_stmt *st = store_stmt(c, a->sql, err);
    if (!st)
        return err->status;
    if (a->lead)
        sqlite3_bind_text(st, 1, a->lead, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, a->scope, -1, SQLITE_STATIC);
    if (a->community)
        sqlite3_bind_text(st, 4, a->community, -1, SQLITE_STATIC);
    if (a->street[0])
        sqlite3_bind_text(st, 5, a->street, -1, SQLITE_STATIC);
    if (a->born_on_or_before[0])
        sqlite3_bind_text(st, 6, a->born_on_or_before, -1, SQLITE_STATIC);
    if (a->born_after[0])
        sqlite3_bind_text(st, 7, a->born_after, -1, SQLITE_STATIC);
    if (a->living_alone >= 0)
        sqlite3_bind_int(st, 8, a->living_alone);
    if (a->like)
        sqlite3_bind_text(st, 9, a->like, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 10, a->after_id);
    sqlite3_bind_int(st, 11, a->limit + 1);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (a->n == a->limit) {
            a->next = a->items[a->n - 1].id;
            break;
        }
        person_from_row(st, &a->items[a->n++]);
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_fail(c, rc, "searching people", err);
    sqlite3_reset(st);
    for (int i = 0; i < a->n; i++)
        if ((rc = load_contacts(c, &a->items[i], err)))
            return rc;
    return LINLI_OK;
}

/* `"text"` with inner quotes doubled: an FTS5 phrase, so nothing in a name is syntax. */
static char *fts_phrase(const char *q)
{
    size_t n = strlen(q), k = 0;
    char *out = malloc(2 * n + 3);
    if (!out)
        return NULL;
    out[k++] = '"';
    for (; *q; q++) {
        if (*q == '"')
            out[k++] = '"';
        out[k++] = *q;
    }
    out[k++] = '"';
    out[k] = '\0';
    return out;
}

/* `%text%` with %, _ and \ escaped by \. */
static char *like_pattern(const char *q)
{
    size_t n = strlen(q), k = 0;
    char *out = malloc(2 * n + 3);
    if (!out)
        return NULL;
    out[k++] = '%';
    for (; *q; q++) {
        if (*q == '%' || *q == '_' || *q == '\\')
            out[k++] = '\\';
        out[k++] = *q;
    }
    out[k++] = '%';
    out[k] = '\0';
    return out;
}

int people_search(struct domain *d, const struct principal *who, const struct people_query *q,
                  struct person **items, int *n, int64_t *next, struct linli_err *err)
{
    if (!people_may_read(who->role))
        return linli_fail(err, LINLI_EFORBIDDEN, "Your role has no access to residents' profiles.");
    struct search_args a = {
        .living_alone = q->living_alone, .after_id = q->after_id, .limit = q->limit};
    scope_prefix(who, a.scope);
    char id_number[IDNUM_LEN + 1] = "", phone[PERSON_PHONE_SIZE] = "";
    char community[AREA_CODE_LEN + 1] = "";
    const char *why;
    size_t qlen = q->q ? jx_utf8_len(q->q) : 0;
    if (q->q && (qlen == 0 || qlen > PEOPLE_QUERY_MAX))
        linli_field(err, "q", "must be 1 to %d characters", PEOPLE_QUERY_MAX);
    if (q->id_number) {
        struct idnum_info info;
        if (idnum_check(q->id_number, people_today(), &info, &why) != 0)
            linli_field(err, "id_number", "%s", why);
        else
            memcpy(id_number, info.normalized, sizeof id_number);
    }
    if (q->phone && phone_check(q->phone, phone, (int)sizeof phone, &why) != 0)
        linli_field(err, "phone", "%s", why);
    if (q->community) {
        if (area_code_normalize(q->community, community, &why) != 0)
            linli_field(err, "community", "%s", why);
        else if (area_code_level(community) != 2)
            linli_field(err, "community", "must be a community code (12 digits)");
    }
    if (q->street) {
        char s[AREA_CODE_LEN + 1];
        if (area_code_normalize(q->street, s, &why) != 0)
            linli_field(err, "street", "%s", why);
        else if (area_code_level(s) != 1)
            linli_field(err, "street", "must be a street or township code (9 digits)");
        else
            snprintf(a.street, sizeof a.street, "%.9s", s);
    }
    if (q->age_min > 150)
        linli_field(err, "age_min", "must be between 0 and 150");
    if (q->age_max > 150)
        linli_field(err, "age_max", "must be between 0 and 150");
    if (q->age_min >= 0 && q->age_max >= 0 && q->age_min > q->age_max)
        linli_field(err, "age_max", "must not be less than age_min");
    if (q->limit < 1 || q->limit > PEOPLE_PAGE_MAX)
        linli_field(err, "limit", "must be between 1 and %d", PEOPLE_PAGE_MAX);
    if (err->nfields)
        return LINLI_EINVAL;
    people_birth_bounds(q->age_min, q->age_max, people_today(), a.born_on_or_before, a.born_after);
    /* A community worker's own community is the narrowest way in. */
    if (community[0])
        a.community = community;
    else if (who->role != ROLE_ADMIN && strlen(a.scope) == AREA_CODE_LEN)
        a.community = a.scope;
    char *phrase = NULL;
    if (id_number[0]) {
        a.sql = SQL_SEARCH_ID_NUMBER;
        a.lead = id_number;
    } else if (phone[0]) {
        a.sql = SQL_SEARCH_PHONE;
        a.lead = phone;
    } else if (q->q && qlen >= 3) {
        a.sql = SQL_SEARCH_NAME;
        a.lead = phrase = fts_phrase(q->q);
    } else if (a.community) {
        a.sql = SQL_SEARCH_COMMUNITY;
    } else {
        a.sql = SQL_SEARCH_ALL;
    }
    /* Names of one or two characters hold no trigram: substring match. With an
     * ID number or phone leading, a longer name filters by substring too. */
    if (q->q && (qlen < 3 || a.sql != SQL_SEARCH_NAME))
        a.like = like_pattern(q->q);
    a.items = calloc((size_t)q->limit, sizeof *a.items);
    int rc;
    if (!a.items || (q->q && !a.like && !phrase))
        rc = linli_fail(err, LINLI_ENOMEM, "out of memory");
    else
        rc = store_read(d->store, search_job, &a, err);
    free(phrase);
    free(a.like);
    if (rc) {
        free(a.items);
        return rc;
    }
    for (int i = 0; i < a.n; i++)
        people_mask(&a.items[i], 0);
    *items = a.items;
    *n = a.n;
    *next = a.next;
    return LINLI_OK;
}

/* ---- export ---- */

struct export_args {
    char scope[AREA_CODE_LEN + 1];
    char area[AREA_CODE_LEN + 1];
    int64_t after_id, count;
    struct person *items;
    int n;
};

static int export_count_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct export_args *a = arg;
    sqlite3_stmt *st = store_stmt(c, SQL_EXPORT_COUNT, err);
    if (!st)
        return err->status;
    sqlite3_bind_text(st, 1, a->scope, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, a->area, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW)
        return store_fail(c, rc, "counting people", err);
    a->count = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return LINLI_OK;
}

static int export_page_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct export_args *a = arg;
    sqlite3_stmt *st = store_stmt(c, SQL_EXPORT_PAGE, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, a->after_id);
    sqlite3_bind_text(st, 2, a->scope, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, a->area, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, EXPORT_PAGE);
    int rc;
    a->n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        person_from_row(st, &a->items[a->n++]);
    if (rc != SQLITE_DONE)
        return store_fail(c, rc, "exporting people", err);
    sqlite3_reset(st);
    for (int i = 0; i < a->n; i++)
        if ((rc = load_contacts(c, &a->items[i], err)))
            return rc;
    return LINLI_OK;
}

int people_export(struct domain *d, const struct principal *who, const char *area,
                  people_export_fn fn, void *ctx, int64_t *count, struct linli_err *err)
{
    *count = 0;
    if (people_may_reveal(who->role) != (PEOPLE_REVEAL_ID_NUMBER | PEOPLE_REVEAL_PHONE))
        return linli_fail(err, LINLI_EFORBIDDEN, "Your role may not export residents' profiles.");
    struct export_args a = {0};
    scope_prefix(who, a.scope);
    if (area) {
        char norm[AREA_CODE_LEN + 1];
        const char *why;
        if (area_code_normalize(area, norm, &why) != 0)
            return linli_field(err, "community", "%s", why);
        size_t len = (size_t[]){6, 9, 12}[area_code_level(norm)];
        memcpy(a.area, norm, len);
        a.area[len] = '\0';
    }
    int rc = store_read(d->store, export_count_job, &a, err);
    if (rc)
        return rc;
    json_t *detail = json_pack("{s:o, s:I}", "area", area ? json_string(a.area) : json_null(),
                               "count", (json_int_t)a.count);
    rc = audit_record_read(d, who, "person.export", "people", detail, err);
    json_decref(detail);
    if (rc)
        return rc;
    a.items = malloc(EXPORT_PAGE * sizeof *a.items);
    if (!a.items)
        return linli_fail(err, LINLI_ENOMEM, "out of memory");
    do {
        if ((rc = store_read(d->store, export_page_job, &a, err)))
            break;
        for (int i = 0; i < a.n && !rc; i++) {
            rc = fn(ctx, &a.items[i]);
            if (!rc)
                (*count)++;
        }
        if (a.n)
            a.after_id = a.items[a.n - 1].id;
    } while (!rc && a.n == EXPORT_PAGE);
    free(a.items);
    return rc;
}

static int max_contacts_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_MAX_CONTACTS, err);
    if (!st)
        return err->status;
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW)
        return store_fail(c, rc, "counting contacts", err);
    *(int *)arg = sqlite3_column_int(st, 0);
    sqlite3_reset(st);
    return LINLI_OK;
}

int people_max_contacts(struct domain *d, int *n, struct linli_err *err)
{
    *n = 0;
    return store_read(d->store, max_contacts_job, n, err);
}

/* ---- bulk import ---- */

static const char SQL_ID_NUMBER_OWNER[] = "SELECT id FROM people WHERE id_number = ?";
static const char SQL_CURRENT_COMMUNITIES[] =
    "SELECT code FROM areas WHERE level = 2 AND retired_edition IS NULL ORDER BY code";

/* The ID numbers an import has seen, with the label of the row that had each:
 * open addressing over the first 17 digits (a valid number's check character
 * follows from them, and no province code is 00, so 0 marks a free slot). */
struct id_set {
    uint64_t *keys;
    long *labels;
    size_t cap, n;
};

static uint64_t id_key(const char *normalized)
{
    uint64_t k = 0;
    for (int i = 0; i < 17; i++)
        k = k * 10 + (uint64_t)(normalized[i] - '0');
    return k;
}

static size_t id_slot(const struct id_set *s, uint64_t key)
{
    size_t i = (size_t)((key * 0x9E3779B97F4A7C15ull) >> 17) & (s->cap - 1);
    while (s->keys[i] && s->keys[i] != key)
        i = (i + 1) & (s->cap - 1);
    return i;
}

static int id_set_grow(struct id_set *s)
{
    struct id_set bigger = {calloc(s->cap ? s->cap * 2 : 4096, sizeof(uint64_t)),
                            calloc(s->cap ? s->cap * 2 : 4096, sizeof(long)),
                            s->cap ? s->cap * 2 : 4096, s->n};
    if (!bigger.keys || !bigger.labels) {
        free(bigger.keys);
        free(bigger.labels);
        return -1;
    }
    for (size_t i = 0; i < s->cap; i++) {
        if (s->keys[i]) {
            size_t k = id_slot(&bigger, s->keys[i]);
            bigger.keys[k] = s->keys[i];
            bigger.labels[k] = s->labels[i];
        }
    }
    free(s->keys);
    free(s->labels);
    *s = bigger;
    return 0;
}

/* Adds `key`; returns 0, or 1 with *first set when it was there, -1 out of memory. */
static int id_set_add(struct id_set *s, uint64_t key, long label, long *first)
{
    if (2 * (s->n + 1) > s->cap && id_set_grow(s))
        return -1;
    size_t i = id_slot(s, key);
    if (s->keys[i]) {
        *first = s->labels[i];
        return 1;
    }
    s->keys[i] = key;
    s->labels[i] = label;
    s->n++;
    return 0;
}

struct people_importer {
    struct domain *d;
    struct principal who;
    int today;
    int64_t cache_before; /* the writer's cache_size to put back; 0 = not changed */
    char (*communities)[AREA_CODE_LEN + 1]; /* current community codes, sorted */
    size_t ncommunities;
    struct id_set ids;
    size_t checked, written;
    struct person scratch;
};

struct communities_args {
    struct people_importer *im;
    size_t cap;
};

static int communities_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct communities_args *a = arg;
    sqlite3_stmt *st = store_stmt(c, SQL_CURRENT_COMMUNITIES, err);
    if (!st)
        return err->status;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (a->im->ncommunities == a->cap) {
            size_t cap = a->cap ? a->cap * 2 : 1024;
            void *p = realloc(a->im->communities, cap * sizeof *a->im->communities);
            if (!p)
                return linli_fail(err, LINLI_ENOMEM, "out of memory");
            a->im->communities = p;
            a->cap = cap;
        }
        copy_col(a->im->communities[a->im->ncommunities++], AREA_CODE_LEN + 1, st, 0);
    }
    if (rc != SQLITE_DONE)
        return store_fail(c, rc, "reading the communities", err);
    sqlite3_reset(st);
    return LINLI_OK;
}

static int code_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

static bool community_current(const struct people_importer *im, const char *code)
{
    return im->ncommunities &&
           bsearch(code, im->communities, im->ncommunities, sizeof *im->communities, code_cmp);
}

/* A bulk import touches index pages all over the file: with SQLite's default
 * page cache (2 MB) every insert reads pages back from the OS. Once an import
 * writes a full batch, the writer connection gets a cache of
 * PEOPLE_IMPORT_CACHE_KIB; the old size comes back when the importer ends.
 * Small imports (the demo's, a community at a time) leave it alone. */
static int writer_cache_grow(struct store_conn *c, int64_t *before, struct linli_err *err)
{
    sqlite3 *db = store_db(c);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "PRAGMA cache_size", -1, &st, NULL) != SQLITE_OK)
        return store_fail(c, sqlite3_errcode(db), "reading the cache size", err);
    if (sqlite3_step(st) == SQLITE_ROW)
        *before = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA cache_size=-%d", PEOPLE_IMPORT_CACHE_KIB);
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? LINLI_OK : store_fail(c, rc, "setting the cache size", err);
}

static int cache_restore_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA cache_size=%lld", (long long)*(int64_t *)arg);
    int rc = sqlite3_exec(store_db(c), sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? LINLI_OK : store_fail(c, rc, "setting the cache size", err);
}

int people_importer_new(struct domain *d, const struct principal *who, struct people_importer **out,
                        struct linli_err *err)
{
    *out = NULL;
    if (!people_may_write(who->role))
        return linli_fail(err, LINLI_EFORBIDDEN, "Your role may not add residents' profiles.");
    struct people_importer *im = calloc(1, sizeof *im);
    if (!im)
        return linli_fail(err, LINLI_ENOMEM, "out of memory");
    im->d = d;
    im->who = *who;
    im->today = people_today();
    struct communities_args a = {im, 0};
    int rc = store_read(d->store, communities_job, &a, err);
    if (rc) {
        people_importer_free(im);
        return rc;
    }
    *out = im;
    return LINLI_OK;
}

void people_importer_free(struct people_importer *im)
{
    if (!im)
        return;
    if (im->cache_before) {
        struct linli_err err;
        linli_err_clear(&err);
        /* A failure (the store stopping) only leaves the cache bigger. */
        store_write(im->d->store, cache_restore_job, &im->cache_before, &err);
    }
    free(im->communities);
    free(im->ids.keys);
    free(im->ids.labels);
    free(im);
}

size_t people_importer_written(const struct people_importer *im)
{
    return im->written;
}

struct owners_args {
    const char (*ids)[IDNUM_LEN + 1];
    int64_t *owner;
    size_t n;
};

static int owners_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct owners_args *a = arg;
    sqlite3_stmt *st = store_stmt(c, SQL_ID_NUMBER_OWNER, err);
    if (!st)
        return err->status;
    for (size_t i = 0; i < a->n; i++) {
        if (!a->ids[i][0])
            continue;
        sqlite3_bind_text(st, 1, a->ids[i], IDNUM_LEN, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
            a->owner[i] = sqlite3_column_int64(st, 0);
        else if (rc != SQLITE_DONE)
            return store_fail(c, rc, "looking up an ID number", err);
        sqlite3_reset(st);
    }
    return LINLI_OK;
}

int people_importer_check(struct people_importer *im, const struct person_in *rows, size_t n,
                          const long *labels, bool *bad, people_bad_row_fn bad_row, void *ctx,
                          struct linli_err *err)
{
    struct owners_args a = {calloc(n ? n : 1, IDNUM_LEN + 1), calloc(n ? n : 1, sizeof(int64_t)),
                            n};
    if (!a.ids || !a.owner) {
        free((void *)a.ids);
        free(a.owner);
        return linli_fail(err, LINLI_ENOMEM, "out of memory");
    }
    char(*ids)[IDNUM_LEN + 1] = (char(*)[IDNUM_LEN + 1]) a.ids;
    for (size_t i = 0; i < n; i++) {
        struct idnum_info info;
        const char *why;
        if (rows[i].id_number && idnum_check(rows[i].id_number, im->today, &info, &why) == 0)
            memcpy(ids[i], info.normalized, IDNUM_LEN + 1);
    }
    int rc = store_read(im->d->store, owners_job, &a, err);
    const char *word = labels ? "line" : "row";
    for (size_t i = 0; i < n && rc == LINLI_OK; i++) {
        struct linli_err e;
        linli_err_clear(&e);
        long label = labels ? labels[i] : (long)(im->checked + i + 1);
        people_check(&rows[i], im->today, &im->scratch, &e);
        const char *code = im->scratch.community_code;
        if (code[0] && !community_current(im, code))
            linli_field(&e, "community_code", "is not a current community in the registry");
        else if (code[0] && !people_visible(&im->who, code))
            linli_field(&e, "community_code", "lies outside your area");
        if (ids[i][0] && a.owner[i]) {
            linli_field(&e, "id_number", "is already recorded (person %lld)",
                        (long long)a.owner[i]);
        } else if (ids[i][0]) {
            long first = 0;
            int seen = id_set_add(&im->ids, id_key(ids[i]), label, &first);
            if (seen < 0)
                rc = linli_fail(err, LINLI_ENOMEM, "out of memory");
            else if (seen)
                linli_field(&e, "id_number", "appears twice in this import (first on %s %ld)", word,
                            first);
        }
        bad[i] = e.nfields > 0;
        for (int k = 0; bad_row && k < e.nfields; k++)
            bad_row(ctx, i, e.fields[k].field, e.fields[k].message);
    }
    im->checked += n;
    free((void *)a.ids);
    free(a.owner);
    return rc;
}

struct write_job {
    struct people_importer *im;
    const struct person_in *rows;
    size_t n;
    size_t failed_row;
};

static int write_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct write_job *j = arg;
    struct people_importer *im = j->im;
    struct person *p = &im->scratch;
    int64_t now = clock_now_ms(), first_id = 0, id = 0;
    if (!im->cache_before && j->n >= PEOPLE_IMPORT_BATCH) {
        int64_t before = 0;
        int rc = writer_cache_grow(c, &before, err);
        if (rc)
            return rc;
        im->cache_before = before ? before : -2000; /* -2000: SQLite's default, 2 MB */
    }
    for (size_t i = 0; i < j->n; i++) {
        j->failed_row = i;
        int rc = people_check(&j->rows[i], im->today, p, err);
        if (rc == LINLI_OK && !community_current(im, p->community_code))
            rc = linli_field(err, "community_code", "is not a current community in the registry");
        if (rc == LINLI_OK && !people_visible(&im->who, p->community_code))
            rc = linli_field(err, "community_code", "lies outside your area");
        if (rc == LINLI_OK)
            rc = insert_person(c, p, now, &id, err);
        if (rc) {
            if (rc == LINLI_EINVAL)
                linli_fail(err, LINLI_EINVAL, "A row became invalid between check and write.");
            return rc;
        }
        if (!first_id)
            first_id = id;
    }
    json_t *detail = json_pack("{s:I, s:I, s:I}", "rows", (json_int_t)j->n, "first_id",
                               (json_int_t)first_id, "last_id", (json_int_t)id);
    int rc = audit_append(c, &im->who, "person.import", "people", detail, err);
    json_decref(detail);
    return rc;
}

int people_importer_write(struct people_importer *im, const struct person_in *rows, size_t n,
                          size_t *failed_row, struct linli_err *err)
{
    if (n == 0)
        return LINLI_OK;
    struct write_job j = {im, rows, n, 0};
    int rc = store_write(im->d->store, write_job, &j, err);
    if (rc == LINLI_OK)
        im->written += n;
    else if (failed_row)
        *failed_row = j.failed_row;
    return rc;
}

/* Bad rows of a chunk, reported with their index in the whole set. */
struct chunk_ctx {
    const struct people_import_options *o;
    size_t at;
};

static void chunk_bad_row(void *ctx, size_t index, const char *field, const char *reason)
{
    struct chunk_ctx *cc = ctx;
    cc->o->bad_row(cc->o->ctx, cc->at + index, field, reason);
}

int people_import(struct domain *d, const struct principal *who, const struct person_in *rows,
                  size_t n, const struct people_import_options *o,
                  struct people_import_report *report, struct linli_err *err)
{
    memset(report, 0, sizeof *report);
    report->rows = n;
    size_t batch = o->batch_rows > 0 ? (size_t)o->batch_rows : PEOPLE_IMPORT_BATCH;
    struct people_importer *im;
    int rc = people_importer_new(d, who, &im, err);
    if (rc)
        return rc;
    bool *bad = calloc(n ? n : 1, sizeof *bad);
    struct person_in *good = malloc(batch * sizeof *good);
    if (!bad || !good) {
        rc = linli_fail(err, LINLI_ENOMEM, "out of memory");
        goto out;
    }
    struct chunk_ctx cc = {o, 0};
    for (size_t at = 0; at < n && rc == LINLI_OK; at += batch) {
        size_t k = n - at < batch ? n - at : batch;
        cc.at = at;
        rc = people_importer_check(im, rows + at, k, NULL, bad + at,
                                   o->bad_row ? chunk_bad_row : NULL, &cc, err);
    }
    for (size_t i = 0; i < n; i++)
        report->bad += bad[i];
    if (rc == LINLI_OK && report->bad && !o->skip_bad) {
        rc = linli_fail(err, LINLI_EINVAL, "%zu of %zu rows are bad; nothing was imported.",
                        report->bad, n);
        goto out;
    }
    size_t k = 0, done = 0, total = n - report->bad;
    for (size_t i = 0; rc == LINLI_OK && i <= n; i++) {
        if (i < n && !bad[i])
            good[k++] = rows[i];
        if (k == batch || (i == n && k)) {
            rc = people_importer_write(im, good, k, NULL, err);
            if (rc == LINLI_OK) {
                done += k;
                if (o->progress)
                    o->progress(o->ctx, done, total);
            }
            k = 0;
        }
    }
    report->imported = people_importer_written(im);
    if (report->imported)
        domain_publish(d, "people.imported",
                       json_pack("{s:I}", "count", (json_int_t)report->imported));
out:
    free(bad);
    free(good);
    people_importer_free(im);
    return rc;
}
