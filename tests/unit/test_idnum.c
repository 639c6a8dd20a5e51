/* test_idnum.c - resident ID numbers (GB 11643) and mainland phone numbers
 * (src/base/idnum.c): every row of the shared vectors
 * ($LINLI_SHARED_DATA/vectors/cn_resident_id.csv) gives its expected_basic
 * answer, and the phone rules, normal forms and masks hold. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/csv.h"
#include "base/idnum.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A fixed "today" after every birth date in the vectors, so the answers do not
 * depend on when the test runs. */
#define TODAY       20250601
#define VECTOR_ROWS 24 /* rows in cn_resident_id.csv; a shorter file is a broken checkout */

static FILE *open_vectors(char *path, size_t size)
{
    const char *dir = getenv("LINLI_SHARED_DATA");
    snprintf(path, size, "%s/vectors/cn_resident_id.csv", dir && *dir ? dir : "../shared/data");
    return fopen(path, "r");
}

static void every_vector_gives_its_expected_basic_answer(void **state)
{
    (void)state;
    char path[4096];
    FILE *f = open_vectors(path, sizeof path);
    if (!f)
        fail_msg("cannot read %s (set LINLI_SHARED_DATA)", path);
    struct csv_reader r;
    csv_init(&r, f, 4096);
    const char *why = NULL;
    assert_int_equal(csv_next(&r, &why), 1);
    int c_id = csv_column(&r, "id_number"), c_basic = csv_column(&r, "expected_basic"),
        c_reason = csv_column(&r, "reason");
    assert_true(c_id >= 0 && c_basic >= 0 && c_reason >= 0);
    int rows = 0, failures = 0;
    int got;
    while ((got = csv_next(&r, &why)) == 1) {
        const char *id = r.fields[c_id], *want = r.fields[c_basic];
        assert_true(!strcmp(want, "valid") || !strcmp(want, "invalid"));
        const char *reason = NULL;
        struct idnum_info info;
        int rc = idnum_check(id, TODAY, &info, &reason);
        bool valid = rc == 0;
        if (valid != !strcmp(want, "valid")) {
            print_error("line %ld: %s is %s, expected %s (%s)%s%s\n", r.lineno, id,
                        valid ? "valid" : "invalid", want, r.fields[c_reason], valid ? "" : ": ",
                        valid ? "" : reason);
            failures++;
        }
        if (!valid)
            assert_non_null(reason); /* every refusal says why */
        rows++;
    }
    assert_int_equal(got, 0);
    csv_free(&r);
    fclose(f);
    assert_int_equal(rows, VECTOR_ROWS);
    assert_int_equal(failures, 0);
}

static void idnum_check_derives_birth_date_and_sex(void **state)
{
    (void)state;
    struct idnum_info info;
    const char *why;
    assert_int_equal(idnum_check("11010519491231002X", TODAY, &info, &why), 0);
    assert_int_equal(info.year, 1949);
    assert_int_equal(info.month, 12);
    assert_int_equal(info.day, 31);
    assert_int_equal(info.sex, 'F');
    assert_int_equal(info.kind, 0);
    assert_string_equal(info.normalized, "11010519491231002X");
    assert_int_equal(idnum_check("321083197812162119", TODAY, &info, &why), 0);
    assert_int_equal(info.sex, 'M');
    assert_int_equal(info.year * 10000 + info.month * 100 + info.day, 19781216);
}

static void idnum_check_normalises_a_lower_case_x(void **state)
{
    (void)state;
    struct idnum_info info;
    const char *why;
    assert_int_equal(idnum_check("11010519491231002x", TODAY, &info, &why), 0);
    assert_string_equal(info.normalized, "11010519491231002X");
}

static void idnum_check_refuses_a_birth_date_after_today(void **state)
{
    (void)state;
    const char *why = NULL;
    char id[IDNUM_LEN + 1] = "11010520250602001";
    id[17] = idnum_check_char(id);
    id[18] = '\0';
    assert_int_equal(idnum_check(id, TODAY, NULL, &why), -1);
    assert_non_null(strstr(why, "birth date"));
    /* The same number is fine once that day has come. */
    assert_int_equal(idnum_check(id, 20250602, NULL, &why), 0);
}

static void idnum_check_refuses_29_february_of_a_common_year(void **state)
{
    (void)state;
    const char *why;
    char id[IDNUM_LEN + 1] = "11010519490229001";
    id[17] = idnum_check_char(id);
    id[18] = '\0';
    assert_int_equal(idnum_check(id, TODAY, NULL, &why), -1);
    memcpy(id + 6, "1948", 4); /* a leap year */
    id[17] = idnum_check_char(id);
    assert_int_equal(idnum_check(id, TODAY, NULL, &why), 0);
}

static void idnum_check_refuses_wrong_lengths_and_characters(void **state)
{
    (void)state;
    const char *why;
    const char *bad[] = {"",
                         "11010519491231002",   /* 17 */
                         "11010519491231002X1", /* 19 */
                         "1101051949123100 X",
                         "X10105194912310021",
                         "11010519491231002Y",
                         "110105194912310０2X" /* a full-width digit */};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why = NULL;
        assert_int_equal(idnum_check(bad[i], TODAY, NULL, &why), -1);
        assert_non_null(why);
    }
}

static void idnum_check_refuses_an_unknown_province(void **state)
{
    (void)state;
    const char *why;
    char id[IDNUM_LEN + 1] = "10010519491231002";
    id[17] = idnum_check_char(id);
    id[18] = '\0';
    assert_int_equal(idnum_check(id, TODAY, NULL, &why), -1);
    assert_non_null(strstr(why, "province"));
}

static void idnum_check_char_matches_iso_7064(void **state)
{
    (void)state;
    assert_int_equal(idnum_check_char("11010519491231002"), 'X');
    assert_int_equal(idnum_check_char("36042619910101007"), '1');
    assert_int_equal(idnum_check_char("32108320080711211"), '1'); /* the vector's "computed 1" */
}

static void idnum_mask_keeps_first_six_and_last_four(void **state)
{
    (void)state;
    char out[IDNUM_LEN + 1];
    idnum_mask("11010519491231002X", out);
    assert_string_equal(out, "110105********002X");
    idnum_mask("", out);
    assert_string_equal(out, "");
}

static void phone_check_accepts_mobile_numbers_in_the_forms_people_write(void **state)
{
    (void)state;
    const struct {
        const char *in, *want;
    } ok[] = {
        {"13800138000", "13800138000"},   {"+8613800138000", "13800138000"},
        {"8613800138000", "13800138000"}, {"+86 138 0013 8000", "13800138000"},
        {"138-0013-8000", "13800138000"}, {"19912345678", "19912345678"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char out[24];
        const char *why = NULL;
        if (phone_check(ok[i].in, out, sizeof out, &why) != 0)
            fail_msg("%s refused: %s", ok[i].in, why);
        assert_string_equal(out, ok[i].want);
    }
}

static void phone_check_accepts_landlines_with_area_code(void **state)
{
    (void)state;
    const struct {
        const char *in, *want;
    } ok[] = {
        {"010-65001234", "01065001234"},        {"01065001234", "01065001234"},
        {"0755-1234567", "07551234567"},        {"021 6500 1234", "02165001234"},
        {"010-65001234-801", "01065001234801"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char out[24];
        const char *why = NULL;
        if (phone_check(ok[i].in, out, sizeof out, &why) != 0)
            fail_msg("%s refused: %s", ok[i].in, why);
        assert_string_equal(out, ok[i].want);
    }
}

static void phone_check_refuses_what_is_no_mainland_number(void **state)
{
    (void)state;
    const char *bad[] = {
        "",              /* nothing */
        "1380013800",    /* 10 digits */
        "138001380001",  /* 12 digits */
        "12800138000",   /* no mobile prefix 12 */
        "23800138000",   /* neither 1 nor 0 */
        "+85291234567",  /* Hong Kong */
        "01012345",      /* too short a local number */
        "0012345678",    /* 00 is no area code */
        "138OO138000",   /* letters */
        "(010)65001234", /* brackets */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char out[24];
        const char *why = NULL;
        if (phone_check(bad[i], out, sizeof out, &why) == 0)
            fail_msg("%s accepted as %s", bad[i], out);
        assert_non_null(why);
    }
}

static void phone_mask_keeps_first_three_and_last_four(void **state)
{
    (void)state;
    char out[24];
    phone_mask("13800138000", out, sizeof out);
    assert_string_equal(out, "138****8000");
    phone_mask("01065001234", out, sizeof out);
    assert_string_equal(out, "010****1234");
    phone_mask("123", out, sizeof out);
    assert_string_equal(out, "****");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_vector_gives_its_expected_basic_answer),
        cmocka_unit_test(idnum_check_derives_birth_date_and_sex),
        cmocka_unit_test(idnum_check_normalises_a_lower_case_x),
        cmocka_unit_test(idnum_check_refuses_a_birth_date_after_today),
        cmocka_unit_test(idnum_check_refuses_29_february_of_a_common_year),
        cmocka_unit_test(idnum_check_refuses_wrong_lengths_and_characters),
        cmocka_unit_test(idnum_check_refuses_an_unknown_province),
        cmocka_unit_test(idnum_check_char_matches_iso_7064),
        cmocka_unit_test(idnum_mask_keeps_first_six_and_last_four),
        cmocka_unit_test(phone_check_accepts_mobile_numbers_in_the_forms_people_write),
        cmocka_unit_test(phone_check_accepts_landlines_with_area_code),
        cmocka_unit_test(phone_check_refuses_what_is_no_mainland_number),
        cmocka_unit_test(phone_mask_keeps_first_three_and_last_four),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
