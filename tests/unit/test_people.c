/* test_people.c - residents' profiles (src/domain/people.c, people_rules.c, people_search.c and
 * people_import.c): the rules of a
 * profile, masking, ages, who sees whom, and on a real store in a temporary
 * directory: creating, reading with and without reveal, changing, searching,
 * bulk import (a bad row leaves the store unchanged) and export. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "support.h"

#include "base/clock.h"
#include "base/log.h"
#include "base/status.h"
#include "domain/audit.h"
#include "domain/people.h"
#include "domain/registry.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NAN_LJY  "110105001024" /* 南郎家园, street 001 建外 */
#define BEI_LJY  "110105001025" /* 北郎家园, street 001 */
#define OTHER    "110105002001" /* street 002 */
#define RETIRED  "110105002002" /* retired in edition 2021 */
#define JIANWAI  "110105001000"
#define CHAOYANG "110105000000"

struct fixture {
    char dir[64];
    char db[128];
    struct domain d;
    struct principal admin, street, community, other_community, operator_, auditor, resident;
    struct linli_err err;
};

static void principal(struct principal *p, int64_t id, enum role role, const char *scope)
{
    memset(p, 0, sizeof *p);
    p->user_id = id;
    p->role = role;
    snprintf(p->username, sizeof p->username, "%s-%lld", role_name(role), (long long)id);
    snprintf(p->scope, sizeof p->scope, "%s", scope ? scope : "");
    snprintf(p->ip, sizeof p->ip, "127.0.0.1");
    snprintf(p->request_id, sizeof p->request_id, "req-%lld", (long long)id);
}

static void area(struct area_row *r, const char *code, const char *name, const char *parent,
                 const char *kind)
{
    memset(r, 0, sizeof *r);
    snprintf(r->code, sizeof r->code, "%s", code);
    snprintf(r->name, sizeof r->name, "%s", name);
    snprintf(r->parent_code, sizeof r->parent_code, "%s", parent);
    snprintf(r->kind, sizeof r->kind, "%s", kind);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    *state = f;
    if (make_temp_dir("people", f->dir, sizeof f->dir, "linli.db", f->db, sizeof f->db))
        return -1;
    linli_err_clear(&f->err);
    if (open_domain(&f->d, f->db, NULL, &f->err))
        return -1;
    principal(&f->admin, 1, ROLE_ADMIN, NULL);
    principal(&f->street, 2, ROLE_STREET, JIANWAI);
    principal(&f->community, 3, ROLE_COMMUNITY, NAN_LJY);
    principal(&f->other_community, 4, ROLE_COMMUNITY, OTHER);
    principal(&f->operator_, 5, ROLE_OPERATOR, JIANWAI);
    principal(&f->auditor, 6, ROLE_AUDITOR, CHAOYANG);
    principal(&f->resident, 7, ROLE_RESIDENT, NULL);
    struct area_row rows[7];
    area(&rows[0], CHAOYANG, "朝阳区", "", "district");
    area(&rows[1], JIANWAI, "建外街道", CHAOYANG, "street");
    area(&rows[2], "110105002000", "朝外街道", CHAOYANG, "street");
    area(&rows[3], NAN_LJY, "南郎家园社区居委会", JIANWAI, "community");
    area(&rows[4], BEI_LJY, "北郎家园社区居委会", JIANWAI, "community");
    area(&rows[5], OTHER, "吉庆里社区居委会", "110105002000", "community");
    area(&rows[6], RETIRED, "已撤销社区居委会", "110105002000", "community");
    struct import_report rep;
    struct principal sys;
    principal_system(&sys, "test");
    if (registry_import(&f->d, &sys, 2020, rows, 7, NULL, 0, &rep, &f->err) ||
        registry_import(&f->d, &sys, 2021, rows, 6, NULL, 0, &rep, &f->err))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    close_domain(&f->d);
    remove_tree(f->dir);
    free(f);
    return 0;
}

/* ---- helpers ---- */

static int64_t people_rows(struct fixture *f)
{
    return sql_int(f->d.store, "SELECT count(*) FROM people", NULL);
}

static int64_t audit_rows(struct fixture *f)
{
    return sql_int(f->d.store, "SELECT count(*) FROM audit_log", NULL);
}

/* A valid ID number for region 110105, a birth date and a sequence (odd = male). */
static void make_id(char out[IDNUM_LEN + 1], const char *yyyymmdd, int seq)
{
    char buf[32];
    snprintf(buf, sizeof buf, "110105%.8s%03u", yyyymmdd, (unsigned)seq % 1000u);
    memcpy(out, buf, 17);
    out[17] = idnum_check_char(out);
    out[18] = '\0';
}

static struct person_in simple(const char *name, const char *id, const char *community)
{
    struct person_in in = {.name = name, .id_number = id, .community_code = community};
    return in;
}

static int64_t create(struct fixture *f, const struct principal *who, struct person_in in)
{
    struct person p;
    linli_err_clear(&f->err);
    assert_ok(people_create(&f->d, who, &in, NULL, &p, NULL, &f->err), &f->err);
    return p.id;
}

static struct person *full_input(struct person_in *in, char *id)
{
    make_id(id, "19450315", 21);
    memset(in, 0, sizeof *in);
    in->name = "张秀英";
    in->id_number = id;
    in->phone = "+86 138-0013-8000";
    in->address = "建外街道南郎家园3号楼";
    in->has_home = true;
    in->lat = 39.9;
    in->lon = 116.46;
    in->community_code = NAN_LJY;
    in->living_alone = true;
    in->care_level = "半失能";
    in->disability = "视力二级";
    in->subsidy_class = "低保";
    in->nconditions = 2;
    in->conditions[0] = "高血压";
    in->conditions[1] = "糖尿病";
    in->ncontacts = 2;
    in->contacts[0] = (struct contact_in){"张伟", "儿子", "13900139000"};
    in->contacts[1] = (struct contact_in){"李娜", "邻居", "010-65001234"};
    in->consent = true;
    return NULL;
}

/* ---- the rules, pure ---- */

static void people_check_normalises_a_full_profile(void **state)
{
    (void)state;
    struct person_in in;
    char id[IDNUM_LEN + 1];
    full_input(&in, id);
    id[17] = id[17] == 'X' ? 'x' : id[17];
    struct person p;
    struct linli_err err;
    linli_err_clear(&err);
    assert_ok(people_check(&in, 20250601, &p, &err), &err);
    assert_int_equal(p.id_number[17], idnum_check_char(p.id_number));
    assert_string_equal(p.birth_date, "1945-03-15");
    assert_int_equal(p.sex, 'M'); /* sequence 021: odd */
    assert_string_equal(p.phone, "13800138000");
    assert_int_equal(p.care_level, CARE_PARTLY_DEPENDENT);
    assert_string_equal(p.subsidy_class, "dibao");
    assert_int_equal(p.nconditions, 2);
    assert_int_equal(p.ncontacts, 2);
    assert_string_equal(p.contacts[1].phone, "01065001234");
    assert_string_equal(p.community_code, NAN_LJY);
}

static void people_check_reports_every_invalid_field_at_once(void **state)
{
    (void)state;
    struct person_in in = {
        .name = "",
        .id_number = "110105194503150212", /* wrong check character */
        .phone = "12345",
        .community_code = JIANWAI, /* a street */
        .has_home = true,
        .lat = 116.4, /* swapped */
        .lon = 39.9,
        .care_level = "bedridden",
        .subsidy_class = "rich",
        .nconditions = 3,
        .conditions = {"高血压", "a;b", "高血压"},
        .ncontacts = 1,
        .contacts = {{"张伟", "儿子", NULL}},
    };
    struct person p;
    struct linli_err err;
    linli_err_clear(&err);
    assert_int_equal(people_check(&in, 20250601, &p, &err), LINLI_EINVAL);
    assert_field_error(&err, "name", "required");
    assert_field_error(&err, "id_number", "check character");
    assert_field_error(&err, "phone", "mobile");
    assert_field_error(&err, "community_code", "community");
    assert_field_error(&err, "home.lat", "latitude");
    assert_field_error(&err, "care_level", "self_care");
    assert_field_error(&err, "subsidy_class", "dibao");
    assert_field_error(&err, "conditions[1]", ";");
    assert_field_error(&err, "conditions[2]", "twice");
    assert_field_error(&err, "emergency_contacts[0].phone", "required");
}

static void people_check_refuses_long_text_and_control_characters(void **state)
{
    (void)state;
    struct person p;
    struct linli_err err;
    linli_err_clear(&err);
    struct person_in in =
        simple("一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三", NULL,
               NAN_LJY); /* 33 characters */
    assert_int_equal(people_check(&in, 20250601, &p, &err), LINLI_EINVAL);
    assert_field_error(&err, "name", "at most 32");
    linli_err_clear(&err);
    in = simple("张\t三", NULL, NAN_LJY);
    assert_int_equal(people_check(&in, 20250601, &p, &err), LINLI_EINVAL);
    assert_field_error(&err, "name", "control");
    /* 32 characters of 3 bytes each are fine */
    linli_err_clear(&err);
    in = simple("一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二", NULL, NAN_LJY);
    assert_ok(people_check(&in, 20250601, &p, &err), &err);
}

static void people_check_takes_birth_date_only_from_the_id_number(void **state)
{
    (void)state;
    struct person p;
    struct linli_err err;
    linli_err_clear(&err);
    struct person_in in = simple("无证", NULL, NAN_LJY);
    assert_ok(people_check(&in, 20250601, &p, &err), &err);
    assert_string_equal(p.birth_date, "");
    assert_int_equal(p.sex, 0);
    assert_int_equal(people_age(p.birth_date, 20250601), -1);
}

static void people_age_counts_completed_years(void **state)
{
    (void)state;
    assert_int_equal(people_age("1945-03-15", 20250314), 79);
    assert_int_equal(people_age("1945-03-15", 20250315), 80);
    assert_int_equal(people_age("1945-03-15", 20251231), 80);
    /* Born on 29 February: a year older on 1 March in common years. */
    assert_int_equal(people_age("1948-02-29", 20250228), 76);
    assert_int_equal(people_age("1948-02-29", 20250301), 77);
    assert_int_equal(people_age("1948-02-29", 20240229), 76);
    assert_int_equal(people_age("", 20250101), -1);
    assert_int_equal(people_age("1945-3-15", 20250101), -1);
}

static int yyyymmdd_from_days(int64_t days)
{
    time_t t = (time_t)(days * 86400);
    struct tm tm;
    gmtime_r(&t, &tm);
    return (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
}

static void people_birth_bounds_agree_with_people_age(void **state)
{
    (void)state;
    /* Every birth date over eight years, against three "today"s (one a 29 February). */
    const int todays[] = {20250301, 20240229, 20251231};
    for (size_t t = 0; t < sizeof todays / sizeof todays[0]; t++) {
        int today = todays[t];
        for (int64_t day = 7000; day < 7000 + 8 * 366; day++) { /* from 1989 on */
            int b = yyyymmdd_from_days(day);
            char birth[32];
            snprintf(birth, sizeof birth, "%04d-%02d-%02d", b / 10000, b / 100 % 100, b % 100);
            int age = people_age(birth, today);
            for (int a = 28; a <= 36; a++) {
                char lo[11], hi[11];
                people_birth_bounds(a, a, today, lo, hi);
                bool at_least = strcmp(birth, lo) <= 0, at_most = strcmp(birth, hi) > 0;
                if (at_least != (age >= a) || at_most != (age <= a))
                    fail_msg("born %s, today %d, age %d: bounds %s/%s say %d/%d for %d", birth,
                             today, age, lo, hi, at_least, at_most, a);
            }
        }
    }
    char lo[11], hi[11];
    people_birth_bounds(-1, -1, 20250101, lo, hi);
    assert_string_equal(lo, "");
    assert_string_equal(hi, "");
}

static void people_today_is_the_date_in_shanghai(void **state)
{
    (void)state;
    int64_t before = clock_now_ms();
    int today = people_today();
    int64_t after = clock_now_ms();
    int a = yyyymmdd_from_days((before / 1000 + 8 * 3600) / 86400);
    int b = yyyymmdd_from_days((after / 1000 + 8 * 3600) / 86400);
    assert_true(today == a || today == b);
}

static void people_mask_hides_id_number_and_every_phone_unless_revealed(void **state)
{
    (void)state;
    struct person p = {0};
    snprintf(p.id_number, sizeof p.id_number, "11010519491231002X");
    snprintf(p.phone, sizeof p.phone, "13800138000");
    p.ncontacts = 1;
    snprintf(p.contacts[0].phone, sizeof p.contacts[0].phone, "13900139000");
    struct person m = p;
    people_mask(&m, 0);
    assert_string_equal(m.id_number, "110105********002X");
    assert_string_equal(m.phone, "138****8000");
    assert_string_equal(m.contacts[0].phone, "139****9000");
    assert_true(m.id_number_masked && m.phone_masked);
    m = p;
    people_mask(&m, PEOPLE_REVEAL_PHONE);
    assert_string_equal(m.id_number, "110105********002X");
    assert_string_equal(m.phone, "13800138000");
    assert_string_equal(m.contacts[0].phone, "13900139000");
    assert_true(m.id_number_masked && !m.phone_masked);
    m = p;
    people_mask(&m, PEOPLE_REVEAL_ID_NUMBER | PEOPLE_REVEAL_PHONE);
    assert_string_equal(m.id_number, "11010519491231002X");
    assert_false(m.id_number_masked || m.phone_masked);
    /* Nothing to mask: nothing claimed masked. */
    struct person empty = {0};
    people_mask(&empty, 0);
    assert_false(empty.id_number_masked || empty.phone_masked);
}

static void people_visible_follows_role_and_scope(void **state)
{
    struct fixture *f = *state;
    assert_true(people_visible(&f->admin, OTHER));
    assert_true(people_visible(&f->street, NAN_LJY));
    assert_true(people_visible(&f->street, BEI_LJY));
    assert_false(people_visible(&f->street, OTHER));
    assert_true(people_visible(&f->community, NAN_LJY));
    assert_false(people_visible(&f->community, BEI_LJY));
    assert_true(people_visible(&f->operator_, BEI_LJY));
    assert_false(people_visible(&f->operator_, OTHER));
    assert_true(people_visible(&f->auditor, OTHER));
    assert_false(people_visible(&f->resident, NAN_LJY));
    struct principal p;
    principal(&p, 9, ROLE_VOLUNTEER, NULL);
    assert_false(people_visible(&p, NAN_LJY));
    principal(&p, 9, ROLE_PROVIDER, CHAOYANG);
    assert_false(people_visible(&p, NAN_LJY));
}

static void people_may_reveal_by_role(void **state)
{
    (void)state;
    const unsigned both = PEOPLE_REVEAL_ID_NUMBER | PEOPLE_REVEAL_PHONE;
    assert_int_equal(people_may_reveal(ROLE_ADMIN), both);
    assert_int_equal(people_may_reveal(ROLE_DISTRICT), both);
    assert_int_equal(people_may_reveal(ROLE_STREET), both);
    assert_int_equal(people_may_reveal(ROLE_COMMUNITY), both);
    assert_int_equal(people_may_reveal(ROLE_OPERATOR), PEOPLE_REVEAL_PHONE);
    assert_int_equal(people_may_reveal(ROLE_AUDITOR), 0);
    assert_int_equal(people_may_reveal(ROLE_PROVIDER), 0);
    assert_int_equal(people_may_reveal(ROLE_VOLUNTEER), 0);
    assert_int_equal(people_may_reveal(ROLE_RESIDENT), 0);
}

static void people_codes_accept_chinese_labels(void **state)
{
    (void)state;
    enum care_level c;
    assert_int_equal(people_care_level_parse("失能", &c), 0);
    assert_int_equal(c, CARE_DEPENDENT);
    assert_int_equal(people_care_level_parse("自理", &c), 0);
    assert_int_equal(c, CARE_SELF);
    assert_int_equal(people_care_level_parse("Dependent", &c), -1);
    assert_string_equal(people_subsidy_code("特困"), "tekun");
    assert_string_equal(people_subsidy_code("失独"), "shidu");
    assert_string_equal(people_subsidy_code("youfu"), "youfu");
    assert_null(people_subsidy_code("低保户"));
}

/* ---- creating and reading ---- */

static void people_create_stores_the_profile_and_returns_it_masked(void **state)
{
    struct fixture *f = *state;
    struct person_in in;
    char id[IDNUM_LEN + 1];
    full_input(&in, id);
    struct person p;
    assert_ok(people_create(&f->d, &f->community, &in, NULL, &p, NULL, &f->err), &f->err);
    assert_true(p.id > 0);
    assert_true(p.id_number_masked && p.phone_masked);
    assert_string_equal(p.phone, "138****8000");
    assert_string_equal(p.community_name, "南郎家园社区居委会");
    assert_string_equal(p.contacts[0].name, "张伟");
    assert_string_equal(p.contacts[1].name, "李娜");
    char stored[64];
    sql_text(f->d.store,
             "SELECT id_number || '|' || phone || '|' || birth_date || '|' || sex FROM people",
             NULL, stored, sizeof stored);
    char want[64];
    snprintf(want, sizeof want, "%s|13800138000|1945-03-15|M", id);
    assert_string_equal(stored, want);
    assert_int_equal(sql_int(f->d.store,
                             "SELECT count(*) FROM audit_log WHERE action = 'person.create'"
                             " AND object = 'person:1' AND user_id = 3",
                             NULL),
                     1);
    /* The audit entry holds no personal data. */
    sql_text(f->d.store, "SELECT detail FROM audit_log WHERE action = 'person.create'", NULL,
             stored, sizeof stored);
    assert_null(strstr(stored, "张"));
    assert_null(strstr(stored, "138"));
    assert_int_equal(sql_int(f->d.store, "SELECT consent_at IS NOT NULL FROM people", NULL), 1);
}

static void people_create_outside_the_callers_area_is_forbidden(void **state)
{
    struct fixture *f = *state;
    struct person p;
    struct person_in in = simple("王五", NULL, BEI_LJY);
    assert_int_equal(people_create(&f->d, &f->community, &in, NULL, &p, NULL, &f->err),
                     LINLI_EFORBIDDEN);
    linli_err_clear(&f->err);
    in.community_code = OTHER;
    assert_int_equal(people_create(&f->d, &f->street, &in, NULL, &p, NULL, &f->err),
                     LINLI_EFORBIDDEN);
    assert_int_equal(people_rows(f), 0);
    assert_int_equal(audit_rows(f),
                     sql_int(f->d.store,
                             "SELECT count(*) FROM audit_log WHERE action NOT LIKE 'person.%'",
                             NULL));
}

static void people_create_by_roles_that_may_not_write_is_forbidden(void **state)
{
    struct fixture *f = *state;
    const struct principal *who[] = {&f->operator_, &f->auditor, &f->resident};
    for (size_t i = 0; i < 3; i++) {
        struct person p;
        struct person_in in = simple("王五", NULL, NAN_LJY);
        linli_err_clear(&f->err);
        assert_int_equal(people_create(&f->d, who[i], &in, NULL, &p, NULL, &f->err),
                         LINLI_EFORBIDDEN);
    }
    assert_int_equal(people_rows(f), 0);
}

static void people_create_needs_a_current_community_in_the_registry(void **state)
{
    struct fixture *f = *state;
    struct person p;
    struct person_in in = simple("王五", NULL, "110105001999");
    assert_int_equal(people_create(&f->d, &f->admin, &in, NULL, &p, NULL, &f->err), LINLI_EINVAL);
    assert_field_error(&f->err, "community_code", "not an area");
    linli_err_clear(&f->err);
    in.community_code = RETIRED;
    assert_int_equal(people_create(&f->d, &f->admin, &in, NULL, &p, NULL, &f->err), LINLI_EINVAL);
    assert_field_error(&f->err, "community_code", "retired");
    assert_int_equal(people_rows(f), 0);
}

static void people_create_with_a_known_id_number_is_conflict(void **state)
{
    struct fixture *f = *state;
    char id[IDNUM_LEN + 1];
    make_id(id, "19400101", 11);
    create(f, &f->admin, simple("甲", id, NAN_LJY));
    int64_t audits = audit_rows(f);
    struct person p;
    struct person_in in = simple("乙", id, BEI_LJY);
    linli_err_clear(&f->err);
    assert_int_equal(people_create(&f->d, &f->admin, &in, NULL, &p, NULL, &f->err),
                     LINLI_ECONFLICT);
    assert_field_error(&f->err, "id_number", "already");
    assert_int_equal(people_rows(f), 1);
    assert_int_equal(audit_rows(f), audits);
}

static void people_create_with_the_same_idempotency_key_replays(void **state)
{
    struct fixture *f = *state;
    struct idem_req idem;
    const char body[] = "{\"name\":\"甲\"}";
    assert_ok(idem_prepare(&idem, "key-1", f->admin.user_id, "POST /api/v1/people", body,
                           sizeof body - 1, &f->err),
              &f->err);
    struct person a, b;
    bool replayed = true;
    struct person_in in = simple("甲", NULL, NAN_LJY);
    assert_ok(people_create(&f->d, &f->admin, &in, &idem, &a, &replayed, &f->err), &f->err);
    assert_false(replayed);
    assert_ok(people_create(&f->d, &f->admin, &in, &idem, &b, &replayed, &f->err), &f->err);
    assert_true(replayed);
    assert_int_equal(a.id, b.id);
    assert_int_equal(people_rows(f), 1);
}

static void people_get_outside_the_callers_area_is_not_found(void **state)
{
    struct fixture *f = *state;
    int64_t here = create(f, &f->admin, simple("甲", NULL, NAN_LJY));
    int64_t there = create(f, &f->admin, simple("乙", NULL, OTHER));
    struct person p;
    assert_ok(people_get(&f->d, &f->community, here, 0, &p, &f->err), &f->err);
    assert_string_equal(p.name, "甲");
    assert_int_equal(people_get(&f->d, &f->community, there, 0, &p, &f->err), LINLI_ENOTFOUND);
    assert_string_equal(p.name, "");
    linli_err_clear(&f->err);
    assert_int_equal(people_get(&f->d, &f->street, there, 0, &p, &f->err), LINLI_ENOTFOUND);
    linli_err_clear(&f->err);
    assert_int_equal(people_get(&f->d, &f->other_community, here, 0, &p, &f->err), LINLI_ENOTFOUND);
    linli_err_clear(&f->err);
    assert_int_equal(people_get(&f->d, &f->admin, 999, 0, &p, &f->err), LINLI_ENOTFOUND);
    linli_err_clear(&f->err);
    assert_int_equal(people_get(&f->d, &f->resident, here, 0, &p, &f->err), LINLI_EFORBIDDEN);
    linli_err_clear(&f->err);
    assert_ok(people_get(&f->d, &f->auditor, there, 0, &p, &f->err), &f->err);
}

static void people_get_with_reveal_is_audited_before_it_returns(void **state)
{
    struct fixture *f = *state;
    struct person_in in;
    char id[IDNUM_LEN + 1];
    full_input(&in, id);
    int64_t pid = create(f, &f->admin, in);
    int64_t audits = audit_rows(f);
    struct person p;
    assert_ok(people_get(&f->d, &f->community, pid, 0, &p, &f->err), &f->err);
    assert_true(p.id_number_masked);
    assert_int_equal(audit_rows(f), audits); /* a masked read is not audited */
    assert_ok(people_get(&f->d, &f->community, pid, PEOPLE_REVEAL_ID_NUMBER | PEOPLE_REVEAL_PHONE,
                         &p, &f->err),
              &f->err);
    assert_string_equal(p.id_number, id);
    assert_string_equal(p.contacts[0].phone, "13900139000");
    assert_false(p.id_number_masked);
    assert_int_equal(audit_rows(f), audits + 1);
    char detail[128];
    sql_text(f->d.store,
             "SELECT action || ' ' || object || ' ' || detail || ' ' || user_id FROM audit_log"
             " ORDER BY id DESC LIMIT 1",
             NULL, detail, sizeof detail);
    assert_string_equal(detail, "person.reveal person:1 {\"fields\":[\"id_number\",\"phone\"]} 3");
}

static void people_get_reveal_follows_the_role(void **state)
{
    struct fixture *f = *state;
    struct person_in in;
    char id[IDNUM_LEN + 1];
    full_input(&in, id);
    int64_t pid = create(f, &f->admin, in);
    int64_t audits = audit_rows(f);
    struct person p;
    assert_ok(people_get(&f->d, &f->operator_, pid, PEOPLE_REVEAL_PHONE, &p, &f->err), &f->err);
    assert_string_equal(p.phone, "13800138000");
    assert_true(p.id_number_masked);
    assert_int_equal(people_get(&f->d, &f->operator_, pid, PEOPLE_REVEAL_ID_NUMBER, &p, &f->err),
                     LINLI_EFORBIDDEN);
    linli_err_clear(&f->err);
    assert_int_equal(people_get(&f->d, &f->auditor, pid, PEOPLE_REVEAL_PHONE, &p, &f->err),
                     LINLI_EFORBIDDEN);
    linli_err_clear(&f->err);
    /* Out of scope with reveal: not found, and nothing audited. */
    assert_int_equal(people_get(&f->d, &f->other_community, pid, PEOPLE_REVEAL_PHONE, &p, &f->err),
                     LINLI_ENOTFOUND);
    assert_int_equal(audit_rows(f), audits + 1);
}

/* ---- changing ---- */

static void people_update_changes_what_is_set_and_audits_field_names(void **state)
{
    struct fixture *f = *state;
    struct person_in in;
    char id[IDNUM_LEN + 1];
    full_input(&in, id);
    int64_t pid = create(f, &f->admin, in);
    struct person_patch patch = {
        .set_phone = true, .set_contacts = true, .set_living_alone = true, .set_disability = true};
    patch.v.phone = "13700137000";
    patch.v.living_alone = false;
    patch.v.disability = NULL;
    patch.v.ncontacts = 2;
    patch.v.contacts[0] = (struct contact_in){"李娜", "邻居", "010-65001234"};
    patch.v.contacts[1] = (struct contact_in){"张伟", "儿子", "13900139000"};
    struct person p;
    assert_ok(people_update(&f->d, &f->street, pid, &patch, &p, &f->err), &f->err);
    assert_string_equal(p.phone, "137****7000");
    assert_false(p.living_alone);
    assert_string_equal(p.disability, "");
    assert_string_equal(p.contacts[0].name, "李娜"); /* order as given */
    assert_string_equal(p.contacts[1].name, "张伟");
    assert_string_equal(p.name, "张秀英"); /* untouched */
    assert_int_equal(p.nconditions, 2);
    char detail[256];
    sql_text(f->d.store, "SELECT detail FROM audit_log WHERE action = 'person.update'", NULL,
             detail, sizeof detail);
    assert_contains(detail, "\"changed\":[\"phone\",\"living_alone\",\"disability\","
                            "\"emergency_contacts\"]");
    assert_null(strstr(detail, "137"));
    assert_int_equal(sql_int(f->d.store, "SELECT count(*) FROM emergency_contacts", NULL), 2);
}

static void people_update_checks_the_result_as_a_whole(void **state)
{
    struct fixture *f = *state;
    int64_t pid = create(f, &f->admin, simple("甲", NULL, NAN_LJY));
    struct person_patch patch = {.set_name = true, .set_phone = true};
    patch.v.name = "";
    patch.v.phone = "123";
    struct person p;
    assert_int_equal(people_update(&f->d, &f->admin, pid, &patch, &p, &f->err), LINLI_EINVAL);
    assert_field_error(&f->err, "name", "required");
    assert_field_error(&f->err, "phone", "");
    assert_int_equal(
        sql_int(f->d.store, "SELECT count(*) FROM audit_log WHERE action = 'person.update'", NULL),
        0);
}

static void people_update_out_of_area_is_not_found_and_moving_out_is_forbidden(void **state)
{
    struct fixture *f = *state;
    int64_t pid = create(f, &f->admin, simple("甲", NULL, NAN_LJY));
    int64_t there = create(f, &f->admin, simple("乙", NULL, OTHER));
    struct person_patch patch = {.set_community_code = true};
    struct person p;
    patch.v.community_code = OTHER;
    assert_int_equal(people_update(&f->d, &f->street, pid, &patch, &p, &f->err), LINLI_EFORBIDDEN);
    linli_err_clear(&f->err);
    patch.v.community_code = BEI_LJY;
    assert_int_equal(people_update(&f->d, &f->street, there, &patch, &p, &f->err), LINLI_ENOTFOUND);
    linli_err_clear(&f->err);
    assert_ok(people_update(&f->d, &f->street, pid, &patch, &p, &f->err), &f->err);
    assert_string_equal(p.community_code, BEI_LJY);
    /* The community worker of 南郎家园 no longer sees them. */
    assert_int_equal(people_get(&f->d, &f->community, pid, 0, &p, &f->err), LINLI_ENOTFOUND);
}

static void people_update_to_a_known_id_number_is_conflict(void **state)
{
    struct fixture *f = *state;
    char a[IDNUM_LEN + 1], b[IDNUM_LEN + 1];
    make_id(a, "19400101", 11);
    make_id(b, "19400101", 12);
    create(f, &f->admin, simple("甲", a, NAN_LJY));
    int64_t pid = create(f, &f->admin, simple("乙", b, NAN_LJY));
    struct person_patch patch = {.set_id_number = true};
    patch.v.id_number = a;
    struct person p;
    assert_int_equal(people_update(&f->d, &f->admin, pid, &patch, &p, &f->err), LINLI_ECONFLICT);
    /* Clearing it is allowed; birth date and sex go with it. */
    linli_err_clear(&f->err);
    patch.v.id_number = NULL;
    assert_ok(people_update(&f->d, &f->admin, pid, &patch, &p, &f->err), &f->err);
    assert_string_equal(p.id_number, "");
    assert_string_equal(p.birth_date, "");
}

/* ---- search ---- */

static void seed_search(struct fixture *f)
{
    const struct {
        const char *name, *born, *community;
        bool alone;
        const char *phone;
    } rows[] = {
        {"张伟", "19400101", NAN_LJY, true, "13800000001"},
        {"张伟明", "19500101", NAN_LJY, false, "13800000002"},
        {"欧阳娜娜", "19600101", BEI_LJY, true, "13800000003"},
        {"李秀英", "19450601", OTHER, true, "13800000004"},
        {"王100%_纯", "19550101", NAN_LJY, false, NULL},
        {"王某", NULL, NAN_LJY, false, NULL},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char id[IDNUM_LEN + 1];
        struct person_in in = simple(rows[i].name, NULL, rows[i].community);
        if (rows[i].born) {
            make_id(id, rows[i].born, (int)i + 1);
            in.id_number = id;
        }
        in.living_alone = rows[i].alone;
        in.phone = rows[i].phone;
        if (i == 3) {
            in.ncontacts = 1;
            in.contacts[0] = (struct contact_in){"李四", "儿子", "13900000009"};
        }
        create(f, &f->admin, in);
    }
}

/* Names found by `who` with query `q`, joined by ',' in id order. */
static void search_names(struct fixture *f, const struct principal *who, struct people_query q,
                         char *out, size_t size)
{
    if (!q.limit)
        q.limit = 50;
    struct person *items;
    int n;
    int64_t next;
    linli_err_clear(&f->err);
    assert_ok(people_search(&f->d, who, &q, &items, &n, &next, &f->err), &f->err);
    size_t at = 0;
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        at += (size_t)snprintf(out + at, size - at, "%s%s", i ? "," : "", items[i].name);
        assert_true(!items[i].id_number[0] || items[i].id_number_masked);
    }
    free(items);
}

/* Q(...) starts from "no filter" and the arguments override those defaults. */
#if defined(__clang__)
#pragma clang diagnostic ignored "-Winitializer-overrides"
#else
#pragma GCC diagnostic ignored "-Woverride-init"
#endif
#define Q(...)                                                                                     \
    ((struct people_query){.age_min = -1, .age_max = -1, .living_alone = -1, __VA_ARGS__})

static void people_search_by_names_of_every_length(void **state)
{
    struct fixture *f = *state;
    seed_search(f);
    char got[256];
    search_names(f, &f->admin, Q(.q = "张"), got, sizeof got);
    assert_string_equal(got, "张伟,张伟明");
    search_names(f, &f->admin, Q(.q = "伟明"), got, sizeof got);
    assert_string_equal(got, "张伟明");
    search_names(f, &f->admin, Q(.q = "阳娜娜"), got, sizeof got);
    assert_string_equal(got, "欧阳娜娜");
    search_names(f, &f->admin, Q(.q = "欧阳娜娜"), got, sizeof got);
    assert_string_equal(got, "欧阳娜娜");
    search_names(f, &f->admin, Q(.q = "娜欧阳"), got, sizeof got);
    assert_string_equal(got, "");
    /* % and _ are themselves, not wildcards */
    search_names(f, &f->admin, Q(.q = "%"), got, sizeof got);
    assert_string_equal(got, "王100%_纯");
    search_names(f, &f->admin, Q(.q = "_"), got, sizeof got);
    assert_string_equal(got, "王100%_纯");
    search_names(f, &f->admin, Q(.q = "0%_"), got, sizeof got);
    assert_string_equal(got, "王100%_纯");
    /* a quote cannot break out of the phrase */
    search_names(f, &f->admin, Q(.q = "\"张\" OR 李"), got, sizeof got);
    assert_string_equal(got, "");
}

static void people_search_by_id_number_phone_community_street(void **state)
{
    struct fixture *f = *state;
    seed_search(f);
    char got[256], id[IDNUM_LEN + 1];
    make_id(id, "19600101", 3);
    search_names(f, &f->admin, Q(.id_number = id), got, sizeof got);
    assert_string_equal(got, "欧阳娜娜");
    id[17] = (char)(id[17] == 'X' ? 'x' : id[17]);
    search_names(f, &f->admin, Q(.id_number = id), got, sizeof got);
    assert_string_equal(got, "欧阳娜娜");
    search_names(f, &f->admin, Q(.phone = "138-0000-0002"), got, sizeof got);
    assert_string_equal(got, "张伟明");
    search_names(f, &f->admin, Q(.phone = "13900000009"), got, sizeof got); /* a contact's */
    assert_string_equal(got, "李秀英");
    search_names(f, &f->admin, Q(.community = BEI_LJY), got, sizeof got);
    assert_string_equal(got, "欧阳娜娜");
    search_names(f, &f->admin, Q(.street = "110105001"), got, sizeof got);
    assert_string_equal(got, "张伟,张伟明,欧阳娜娜,王100%_纯,王某");
    search_names(f, &f->admin, Q(.street = "110105002", .q = "李"), got, sizeof got);
    assert_string_equal(got, "李秀英");
}

static void people_search_by_age_and_living_alone(void **state)
{
    struct fixture *f = *state;
    seed_search(f);
    /* In seed (id) order; 王某 has no ID number, so no age, and never matches an age filter. */
    const char *names[] = {"张伟", "张伟明", "欧阳娜娜", "李秀英", "王100%_纯"};
    const char *born[] = {"1940-01-01", "1950-01-01", "1960-01-01", "1945-06-01", "1955-01-01"};
    int today = people_today(), age[5];
    for (int i = 0; i < 5; i++)
        age[i] = people_age(born[i], today);
    const int ranges[][2] = {{age[1], age[0]}, {age[0], -1},         {-1, age[2]},
                             {age[3], age[3]}, {age[2] + 1, age[4]}, {0, 150}};
    for (size_t r = 0; r < sizeof ranges / sizeof ranges[0]; r++) {
        char want[256] = "", got[256];
        size_t at = 0;
        for (int i = 0; i < 5; i++)
            if ((ranges[r][0] < 0 || age[i] >= ranges[r][0]) &&
                (ranges[r][1] < 0 || age[i] <= ranges[r][1]))
                at +=
                    (size_t)snprintf(want + at, sizeof want - at, "%s%s", at ? "," : "", names[i]);
        search_names(f, &f->admin, Q(.age_min = ranges[r][0], .age_max = ranges[r][1]), got,
                     sizeof got);
        if (strcmp(got, want))
            fail_msg("ages %d..%d: got \"%s\", want \"%s\"", ranges[r][0], ranges[r][1], got, want);
    }
    char got[256];
    search_names(f, &f->admin, Q(.living_alone = 1), got, sizeof got);
    assert_string_equal(got, "张伟,欧阳娜娜,李秀英");
    search_names(f, &f->admin, Q(.living_alone = 0, .q = "王"), got, sizeof got);
    assert_string_equal(got, "王100%_纯,王某");
}

static void people_search_is_limited_to_the_callers_area(void **state)
{
    struct fixture *f = *state;
    seed_search(f);
    char got[256];
    search_names(f, &f->community, Q(0), got, sizeof got);
    assert_string_equal(got, "张伟,张伟明,王100%_纯,王某");
    search_names(f, &f->community, Q(.q = "欧阳娜娜"), got, sizeof got);
    assert_string_equal(got, "");
    search_names(f, &f->community, Q(.community = BEI_LJY), got, sizeof got);
    assert_string_equal(got, "");
    search_names(f, &f->street, Q(.q = "秀英"), got, sizeof got);
    assert_string_equal(got, "");
    search_names(f, &f->operator_, Q(.phone = "13900000009"), got, sizeof got);
    assert_string_equal(got, "");
    search_names(f, &f->auditor, Q(.q = "李秀英"), got, sizeof got);
    assert_string_equal(got, "李秀英");
    struct person *items;
    int n;
    int64_t next;
    struct people_query q = Q(.limit = 10);
    assert_int_equal(people_search(&f->d, &f->resident, &q, &items, &n, &next, &f->err),
                     LINLI_EFORBIDDEN);
}

static void people_search_pages_by_id(void **state)
{
    struct fixture *f = *state;
    seed_search(f);
    struct people_query q = Q(.limit = 4);
    struct person *items;
    int n;
    int64_t next;
    assert_ok(people_search(&f->d, &f->admin, &q, &items, &n, &next, &f->err), &f->err);
    assert_int_equal(n, 4);
    assert_int_equal(next, items[3].id);
    free(items);
    q.after_id = next;
    assert_ok(people_search(&f->d, &f->admin, &q, &items, &n, &next, &f->err), &f->err);
    assert_int_equal(n, 2);
    assert_int_equal(next, 0);
    assert_string_equal(items[1].name, "王某");
    free(items);
}

static void people_search_refuses_malformed_filters(void **state)
{
    struct fixture *f = *state;
    struct person *items;
    int n;
    int64_t next;
    struct people_query q =
        Q(.limit = 10, .id_number = "1234", .phone = "abc", .community = JIANWAI, .street = NAN_LJY,
          .age_min = 90, .age_max = 80, .q = "");
    assert_int_equal(people_search(&f->d, &f->admin, &q, &items, &n, &next, &f->err), LINLI_EINVAL);
    assert_field_error(&f->err, "id_number", "18");
    assert_field_error(&f->err, "phone", "");
    assert_field_error(&f->err, "community", "community");
    assert_field_error(&f->err, "street", "street");
    assert_field_error(&f->err, "age_max", "age_min");
    assert_field_error(&f->err, "q", "1 to");
}

/* ---- import and export ---- */

struct bad_report {
    char text[16][160];
    int n;
};

static void collect_bad(void *ctx, size_t index, const char *field, const char *reason)
{
    struct bad_report *r = ctx;
    if (r->n < 16)
        snprintf(r->text[r->n++], sizeof r->text[0], "%zu %s: %s", index, field, reason);
}

static void people_import_with_a_bad_row_changes_nothing(void **state)
{
    struct fixture *f = *state;
    char a[IDNUM_LEN + 1], b[IDNUM_LEN + 1];
    make_id(a, "19400101", 1);
    make_id(b, "19400101", 2);
    struct person_in rows[4] = {
        simple("甲", a, NAN_LJY), simple("乙", b, BEI_LJY),
        simple("丙", NULL, "110105001999"), /* no such community */
        simple("丁", a, OTHER),             /* the same ID number as row 0 */
    };
    int64_t audits = audit_rows(f);
    struct bad_report bad = {0};
    struct people_import_options o = {.bad_row = collect_bad, .ctx = &bad};
    struct people_import_report rep;
    assert_int_equal(people_import(&f->d, &f->admin, rows, 4, &o, &rep, &f->err), LINLI_EINVAL);
    assert_int_equal(rep.bad, 2);
    assert_int_equal(rep.imported, 0);
    assert_int_equal(bad.n, 2);
    assert_string_equal(bad.text[0],
                        "2 community_code: is not a current community in the registry");
    assert_string_equal(bad.text[1], "3 id_number: appears twice in this import (first on row 1)");
    assert_int_equal(people_rows(f), 0);
    assert_int_equal(audit_rows(f), audits);
}

static void people_import_skip_bad_writes_the_good_rows_a_batch_per_transaction(void **state)
{
    struct fixture *f = *state;
    char ids[6][IDNUM_LEN + 1];
    struct person_in rows[7];
    for (int i = 0; i < 6; i++) {
        make_id(ids[i], "19300101", i + 1);
        rows[i] = simple("某", ids[i], i % 2 ? NAN_LJY : BEI_LJY);
    }
    rows[6] = simple("", NULL, NAN_LJY); /* no name */
    struct person_in first = rows[0];
    rows[0] = rows[6];
    rows[6] = first;
    struct people_import_options o = {.skip_bad = true, .batch_rows = 2};
    struct people_import_report rep;
    assert_ok(people_import(&f->d, &f->admin, rows, 7, &o, &rep, &f->err), &f->err);
    assert_int_equal(rep.rows, 7);
    assert_int_equal(rep.bad, 1);
    assert_int_equal(rep.imported, 6);
    assert_int_equal(people_rows(f), 6);
    assert_int_equal(
        sql_int(f->d.store, "SELECT count(*) FROM audit_log WHERE action = 'person.import'", NULL),
        3);
    char detail[128];
    sql_text(f->d.store,
             "SELECT detail FROM audit_log WHERE action = 'person.import' ORDER BY id LIMIT 1",
             NULL, detail, sizeof detail);
    assert_string_equal(detail, "{\"first_id\":1,\"last_id\":2,\"rows\":2}");
    /* The names are searchable through the trigram index's triggers too. */
    assert_int_equal(sql_int(f->d.store, "SELECT count(*) FROM people_fts", NULL), 6);
}

static void people_import_refuses_id_numbers_already_stored(void **state)
{
    struct fixture *f = *state;
    char a[IDNUM_LEN + 1];
    make_id(a, "19400101", 1);
    int64_t pid = create(f, &f->admin, simple("甲", a, NAN_LJY));
    struct person_in rows[1] = {simple("甲", a, NAN_LJY)};
    struct bad_report bad = {0};
    struct people_import_options o = {.bad_row = collect_bad, .ctx = &bad};
    struct people_import_report rep;
    assert_int_equal(people_import(&f->d, &f->admin, rows, 1, &o, &rep, &f->err), LINLI_EINVAL);
    char want[96];
    snprintf(want, sizeof want, "0 id_number: is already recorded (person %lld)", (long long)pid);
    assert_string_equal(bad.text[0], want);
}

static void people_import_by_staff_keeps_to_their_area(void **state)
{
    struct fixture *f = *state;
    struct person_in rows[2] = {simple("甲", NULL, NAN_LJY), simple("乙", NULL, BEI_LJY)};
    struct bad_report bad = {0};
    struct people_import_options o = {.bad_row = collect_bad, .ctx = &bad};
    struct people_import_report rep;
    assert_int_equal(people_import(&f->d, &f->community, rows, 2, &o, &rep, &f->err), LINLI_EINVAL);
    assert_string_equal(bad.text[0], "1 community_code: lies outside your area");
    linli_err_clear(&f->err);
    assert_int_equal(people_import(&f->d, &f->operator_, rows, 2, &o, &rep, &f->err),
                     LINLI_EFORBIDDEN);
}

struct export_seen {
    char names[256];
    int n;
    bool unmasked;
};

static int collect_export(void *ctx, const struct person *p)
{
    struct export_seen *s = ctx;
    size_t at = strlen(s->names);
    snprintf(s->names + at, sizeof s->names - at, "%s%s", s->n ? "," : "", p->name);
    s->n++;
    if (p->phone[0] && !strchr(p->phone, '*'))
        s->unmasked = true;
    return 0;
}

static void people_export_gives_everyone_in_the_area_unmasked_after_an_audit_entry(void **state)
{
    struct fixture *f = *state;
    seed_search(f);
    struct export_seen seen = {0};
    int64_t count;
    assert_ok(people_export(&f->d, &f->admin, "110105001", collect_export, &seen, &count, &f->err),
              &f->err);
    assert_int_equal(count, 5);
    assert_string_equal(seen.names, "张伟,张伟明,欧阳娜娜,王100%_纯,王某");
    assert_true(seen.unmasked);
    char detail[128];
    sql_text(f->d.store, "SELECT detail FROM audit_log WHERE action = 'person.export'", NULL,
             detail, sizeof detail);
    assert_string_equal(detail, "{\"area\":\"110105001\",\"count\":5}");
    memset(&seen, 0, sizeof seen);
    assert_ok(people_export(&f->d, &f->community, NULL, collect_export, &seen, &count, &f->err),
              &f->err);
    assert_int_equal(count, 4);
    assert_int_equal(
        people_export(&f->d, &f->operator_, NULL, collect_export, &seen, &count, &f->err),
        LINLI_EFORBIDDEN);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    log_set_level(LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(people_check_normalises_a_full_profile),
        cmocka_unit_test(people_check_reports_every_invalid_field_at_once),
        cmocka_unit_test(people_check_refuses_long_text_and_control_characters),
        cmocka_unit_test(people_check_takes_birth_date_only_from_the_id_number),
        cmocka_unit_test(people_age_counts_completed_years),
        cmocka_unit_test(people_birth_bounds_agree_with_people_age),
        cmocka_unit_test(people_today_is_the_date_in_shanghai),
        cmocka_unit_test(people_mask_hides_id_number_and_every_phone_unless_revealed),
        T(people_visible_follows_role_and_scope),
        cmocka_unit_test(people_may_reveal_by_role),
        cmocka_unit_test(people_codes_accept_chinese_labels),
        T(people_create_stores_the_profile_and_returns_it_masked),
        T(people_create_outside_the_callers_area_is_forbidden),
        T(people_create_by_roles_that_may_not_write_is_forbidden),
        T(people_create_needs_a_current_community_in_the_registry),
        T(people_create_with_a_known_id_number_is_conflict),
        T(people_create_with_the_same_idempotency_key_replays),
        T(people_get_outside_the_callers_area_is_not_found),
        T(people_get_with_reveal_is_audited_before_it_returns),
        T(people_get_reveal_follows_the_role),
        T(people_update_changes_what_is_set_and_audits_field_names),
        T(people_update_checks_the_result_as_a_whole),
        T(people_update_out_of_area_is_not_found_and_moving_out_is_forbidden),
        T(people_update_to_a_known_id_number_is_conflict),
        T(people_search_by_names_of_every_length),
        T(people_search_by_id_number_phone_community_street),
        T(people_search_by_age_and_living_alone),
        T(people_search_is_limited_to_the_callers_area),
        T(people_search_pages_by_id),
        T(people_search_refuses_malformed_filters),
        T(people_import_with_a_bad_row_changes_nothing),
        T(people_import_skip_bad_writes_the_good_rows_a_batch_per_transaction),
        T(people_import_refuses_id_numbers_already_stored),
        T(people_import_by_staff_keeps_to_their_area),
        T(people_export_gives_everyone_in_the_area_unmasked_after_an_audit_entry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
