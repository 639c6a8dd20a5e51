/* test_principal.c - roles and area codes (src/domain/principal.c). Codes are
 * real ones from Beijing Chaoyang District (110105). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "domain/principal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHAOYANG        "110105000000"
#define JIANWAI         "110105001000" /* 建外街道 */
#define CHAOWAI         "110105002000" /* 朝外街道 */
#define AIRPORT         "110105400000" /* 首都机场街道 */
#define NAN_LANGJIAYUAN "110105001024" /* 南郎家园社区, in 建外 */
#define BEI_LANGJIAYUAN "110105001025" /* 北郎家园社区, in 建外 */
#define TIDONG          "110105002024" /* 体东社区, in 朝外 */
#define DONGCHENG       "110101000000" /* another district */

static void normalize_ok(const char *in, const char *want)
{
    char out[AREA_CODE_LEN + 1];
    const char *why = NULL;
    if (area_code_normalize(in, out, &why) != 0)
        fail_msg("\"%s\" was refused: %s", in, why);
    assert_string_equal(out, want);
}

static const char *normalize_bad(const char *in)
{
    char out[AREA_CODE_LEN + 1];
    const char *why = NULL;
    if (area_code_normalize(in, out, &why) == 0)
        fail_msg("\"%s\" was accepted as %s", in, out);
    assert_non_null(why);
    assert_true(why[0] != '\0');
    return why;
}

static void role_parse_and_role_name_round_trip_for_every_role(void **state)
{
    (void)state;
    const char *names[ROLE_COUNT] = {"admin",    "district",  "street",   "community", "operator",
                                     "provider", "volunteer", "resident", "auditor"};
    for (int i = 0; i < ROLE_COUNT; i++) {
        assert_string_equal(role_name((enum role)i), names[i]);
        enum role r = ROLE_COUNT;
        assert_int_equal(role_parse(names[i], &r), 0);
        assert_int_equal(r, i);
        assert_int_equal(role_parse(role_name(r), &r), 0);
        assert_int_equal(r, i);
    }
}

static void role_parse_refuses_unknown_names(void **state)
{
    (void)state;
    const char *bad[] = {"",     "Admin",     "ADMIN", "admin ", " admin",
                         "root", "superuser", "admi",  "adminx", "community-worker"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        enum role r = ROLE_RESIDENT;
        if (role_parse(bad[i], &r) != -1)
            fail_msg("\"%s\" was parsed as a role", bad[i]);
        assert_int_equal(r, ROLE_RESIDENT); /* untouched */
    }
}

static void role_name_of_an_out_of_range_role_is_a_placeholder(void **state)
{
    (void)state;
    assert_string_equal(role_name(ROLE_COUNT), "?");
    assert_string_equal(role_name((enum role) - 1), "?");
}

static void role_needs_scope_for_staff_roles_only(void **state)
{
    (void)state;
    assert_true(role_needs_scope(ROLE_DISTRICT));
    assert_true(role_needs_scope(ROLE_STREET));
    assert_true(role_needs_scope(ROLE_COMMUNITY));
    assert_true(role_needs_scope(ROLE_OPERATOR));
    assert_true(role_needs_scope(ROLE_AUDITOR));
    assert_false(role_needs_scope(ROLE_ADMIN));
    assert_false(role_needs_scope(ROLE_PROVIDER));
    assert_false(role_needs_scope(ROLE_VOLUNTEER));
    assert_false(role_needs_scope(ROLE_RESIDENT));
}

static void principal_system_is_an_unscoped_admin_with_user_id_zero(void **state)
{
    (void)state;
    struct principal p;
    memset(&p, 0x7F, sizeof p);
    principal_system(&p, "cli");
    assert_int_equal(p.user_id, 0);
    assert_string_equal(p.username, "system");
    assert_int_equal(p.role, ROLE_ADMIN);
    assert_string_equal(p.scope, "");
    assert_string_equal(p.ip, "cli");
    assert_string_equal(p.request_id, "");
}

static void area_code_normalize_pads_district_and_street_codes_to_12_digits(void **state)
{
    (void)state;
    normalize_ok("110105", CHAOYANG);
    normalize_ok("110105001", JIANWAI);
    normalize_ok("110105400", AIRPORT);
    normalize_ok("110105001024", NAN_LANGJIAYUAN);
    normalize_ok(CHAOYANG, CHAOYANG);
    normalize_ok(JIANWAI, JIANWAI);
}

static void area_code_normalize_refuses_other_lengths(void **state)
{
    (void)state;
    const char *bad[] = {"",           "1",           "11010",         "1101050",        "11010500",
                         "1101050010", "11010500102", "1101050010241", "110105001024000"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *why = normalize_bad(bad[i]);
        if (!strstr(why, "6, 9 or 12"))
            fail_msg("\"%s\": unexpected reason \"%s\"", bad[i], why);
    }
}

static void area_code_normalize_refuses_non_digits(void **state)
{
    (void)state;
    const char *bad[] = {"11010a", "110105OO1", "11010500102x", "-11010", "110 05", "１１０１０５"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        normalize_bad(bad[i]);
    assert_non_null(strstr(normalize_bad("11010a"), "digits"));
}

static void area_code_normalize_refuses_a_leading_zero(void **state)
{
    (void)state;
    normalize_bad("010105");
    normalize_bad("010105001");
    normalize_bad("000000000000");
}

static void area_code_normalize_refuses_province_level_codes(void **state)
{
    (void)state;
    const char *why = normalize_bad("110000"); /* Beijing as a whole */
    assert_non_null(strstr(why, "district"));
    normalize_bad("440000000");
    normalize_bad("110000000000");
}

/* Prefecture-level codes (the last two of six digits "00", e.g. 440300
 * Shenzhen) are above district level as well. */
static void area_code_normalize_refuses_prefecture_level_codes(void **state)
{
    (void)state;
    normalize_bad("440300");
    normalize_bad("110100");
    normalize_bad("440300000000");
}

static void area_code_level_tells_district_street_and_community(void **state)
{
    (void)state;
    assert_int_equal(area_code_level(CHAOYANG), 0);
    assert_int_equal(area_code_level(JIANWAI), 1);
    assert_int_equal(area_code_level(AIRPORT), 1);
    assert_int_equal(area_code_level(NAN_LANGJIAYUAN), 2);
    assert_int_equal(area_code_level("110105400400"), 2); /* 机场工作区社区 */
}

static void area_within_district_contains_its_streets_and_communities(void **state)
{
    (void)state;
    assert_true(area_within(CHAOYANG, CHAOYANG));
    assert_true(area_within(CHAOYANG, JIANWAI));
    assert_true(area_within(CHAOYANG, CHAOWAI));
    assert_true(area_within(CHAOYANG, AIRPORT));
    assert_true(area_within(CHAOYANG, NAN_LANGJIAYUAN));
    assert_true(area_within(CHAOYANG, TIDONG));
    assert_false(area_within(CHAOYANG, DONGCHENG));
    assert_false(area_within(CHAOYANG, "110101001001"));
    assert_false(area_within(DONGCHENG, NAN_LANGJIAYUAN));
}

static void area_within_street_contains_only_its_own_communities(void **state)
{
    (void)state;
    assert_true(area_within(JIANWAI, JIANWAI));
    assert_true(area_within(JIANWAI, NAN_LANGJIAYUAN));
    assert_true(area_within(JIANWAI, BEI_LANGJIAYUAN));
    assert_false(area_within(JIANWAI, TIDONG));
    assert_false(area_within(JIANWAI, CHAOWAI));
    assert_false(area_within(JIANWAI, CHAOYANG)); /* not the district above it */
    assert_false(area_within(CHAOWAI, NAN_LANGJIAYUAN));
}

static void area_within_community_contains_only_itself(void **state)
{
    (void)state;
    assert_true(area_within(NAN_LANGJIAYUAN, NAN_LANGJIAYUAN));
    assert_false(area_within(NAN_LANGJIAYUAN, BEI_LANGJIAYUAN));
    assert_false(area_within(NAN_LANGJIAYUAN, JIANWAI));
    assert_false(area_within(NAN_LANGJIAYUAN, CHAOYANG));
    assert_false(area_within(NAN_LANGJIAYUAN, TIDONG));
}

static void area_within_empty_scope_holds_nothing(void **state)
{
    (void)state;
    assert_false(area_within("", CHAOYANG));
    assert_false(area_within("", NAN_LANGJIAYUAN));
}

static void area_within_refuses_codes_that_are_not_normalised(void **state)
{
    (void)state;
    assert_false(area_within(CHAOYANG, "110105"));
    assert_false(area_within(CHAOYANG, "110105001"));
    assert_false(area_within(CHAOYANG, ""));
}

/* Every community of Chaoyang (NBS 2020 edition) lies in its own street and
 * the district, and in no other street. */
static void area_within_holds_for_every_chaoyang_community(void **state)
{
    (void)state;
    const char *data = getenv("LINLI_SHARED_DATA");
    char path[512];
    snprintf(path, sizeof path, "%s/chaoyang/communities_2020.csv", data ? data : ".");
    FILE *fp = fopen(path, "r");
    if (!fp) {
        print_message("no %s; skipping\n", path);
        skip();
    }
    char line[512];
    int n = 0;
    assert_non_null(fgets(line, sizeof line, fp)); /* header */
    while (fgets(line, sizeof line, fp)) {
        char code[16], parent[16];
        char *c1 = strchr(line, ','), *c2 = c1 ? strrchr(line, ',') : NULL;
        if (!c1 || c2 == c1)
            fail_msg("bad line: %s", line);
        snprintf(code, sizeof code, "%.*s", (int)(c1 - line), line);
        snprintf(parent, sizeof parent, "%.9s", c2 + 1);
        char c12[AREA_CODE_LEN + 1], s12[AREA_CODE_LEN + 1], other[32];
        const char *why;
        assert_int_equal(area_code_normalize(code, c12, &why), 0);
        assert_int_equal(area_code_normalize(parent, s12, &why), 0);
        assert_int_equal(area_code_level(c12), 2);
        assert_int_equal(area_code_level(s12), 1);
        assert_true(area_within(s12, c12));
        assert_true(area_within(CHAOYANG, c12));
        assert_true(area_within(c12, c12));
        assert_false(area_within(c12, s12));
        /* the neighbouring street number holds none of this street's communities */
        int street = atoi(parent + 6) % 1000;
        snprintf(other, sizeof other, "110105%03d000", street == 1 ? 2 : street - 1);
        assert_false(area_within(other, c12));
        n++;
    }
    fclose(fp);
    assert_true(n > 600);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(role_parse_and_role_name_round_trip_for_every_role),
        cmocka_unit_test(role_parse_refuses_unknown_names),
        cmocka_unit_test(role_name_of_an_out_of_range_role_is_a_placeholder),
        cmocka_unit_test(role_needs_scope_for_staff_roles_only),
        cmocka_unit_test(principal_system_is_an_unscoped_admin_with_user_id_zero),
        cmocka_unit_test(area_code_normalize_pads_district_and_street_codes_to_12_digits),
        cmocka_unit_test(area_code_normalize_refuses_other_lengths),
        cmocka_unit_test(area_code_normalize_refuses_non_digits),
        cmocka_unit_test(area_code_normalize_refuses_a_leading_zero),
        cmocka_unit_test(area_code_normalize_refuses_province_level_codes),
        cmocka_unit_test(area_code_normalize_refuses_prefecture_level_codes),
        cmocka_unit_test(area_code_level_tells_district_street_and_community),
        cmocka_unit_test(area_within_district_contains_its_streets_and_communities),
        cmocka_unit_test(area_within_street_contains_only_its_own_communities),
        cmocka_unit_test(area_within_community_contains_only_itself),
        cmocka_unit_test(area_within_empty_scope_holds_nothing),
        cmocka_unit_test(area_within_refuses_codes_that_are_not_normalised),
        cmocka_unit_test(area_within_holds_for_every_chaoyang_community),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
