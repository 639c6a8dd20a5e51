/* test_jx.c - strict JSON decoding and field checks (src/base/jx.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "support.h"

#include "base/jx.h"
#include "base/status.h"

#include <string.h>

static json_t *parse(const char *text, struct linli_err *err)
{
    linli_err_clear(err);
    return jx_parse_object(text, strlen(text), err);
}

static const struct jx_field person_fields[] = {
    {"name", JX_STRING, true, false, 4},   {"age", JX_INT, false, false, 0},
    {"score", JX_NUMBER, false, false, 0}, {"active", JX_BOOL, false, false, 0},
    {"tags", JX_ARRAY, false, false, 0},   {"address", JX_OBJECT, false, true, 0},
    {"note", JX_STRING, false, true, 0},
};
#define NPERSON (sizeof person_fields / sizeof person_fields[0])

static int check(const char *text, struct linli_err *err)
{
    json_t *v = parse(text, err);
    assert_non_null(v);
    int rc = jx_check(v, person_fields, NPERSON, err);
    json_decref(v);
    return rc;
}

static void jx_parse_accepts_an_object(void **state)
{
    (void)state;
    struct linli_err err;
    json_t *v = parse("{\"name\": \"王芳\", \"age\": 80}", &err);
    assert_non_null(v);
    assert_true(json_is_object(v));
    assert_string_equal(jx_str(v, "name"), "王芳");
    json_decref(v);
}

static void jx_parse_refuses_empty_body(void **state)
{
    (void)state;
    struct linli_err err;
    linli_err_clear(&err);
    assert_null(jx_parse_object("", 0, &err));
    assert_int_equal(err.status, LINLI_EINVAL);
    assert_contains(err.detail, "empty");
}

static void jx_parse_refuses_malformed_json_saying_where(void **state)
{
    (void)state;
    struct linli_err err;
    assert_null(parse("{\"name\": \"x\",\n \"age\": }", &err));
    assert_int_equal(err.status, LINLI_EINVAL);
    assert_contains(err.detail, "not valid JSON");
    assert_contains(err.detail, "line 2");
}

static void jx_parse_refuses_trailing_data(void **state)
{
    (void)state;
    struct linli_err err;
    assert_null(parse("{\"a\": 1} {\"b\": 2}", &err));
    assert_int_equal(err.status, LINLI_EINVAL);
    assert_true(err.detail[0] != '\0');
}

static void jx_parse_refuses_non_object_top_level(void **state)
{
    (void)state;
    const char *cases[] = {"[1, 2]", "\"text\"", "42", "null", "true"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct linli_err err;
        assert_null(parse(cases[i], &err));
        assert_int_equal(err.status, LINLI_EINVAL);
        assert_true(err.detail[0] != '\0');
    }
    struct linli_err err;
    assert_null(parse("[]", &err));
    assert_contains(err.detail, "object");
}

static void jx_parse_refuses_duplicate_keys(void **state)
{
    (void)state;
    struct linli_err err;
    assert_null(parse("{\"role\": \"resident\", \"role\": \"admin\"}", &err));
    assert_int_equal(err.status, LINLI_EINVAL);
    assert_contains(err.detail, "duplicate");
}

static void jx_parse_uses_only_len_bytes(void **state)
{
    (void)state;
    struct linli_err err;
    linli_err_clear(&err);
    const char text[] = "{\"a\": 1}garbage";
    json_t *v = jx_parse_object(text, 8, &err);
    assert_non_null(v);
    assert_int_equal(jx_int(v, "a", 0), 1);
    json_decref(v);
}

static void jx_check_accepts_a_valid_object(void **state)
{
    (void)state;
    struct linli_err err;
    assert_int_equal(check("{\"name\": \"王芳\", \"age\": 80, \"score\": 1.5, \"active\": true,"
                           " \"tags\": [], \"address\": {}, \"note\": \"x\"}",
                           &err),
                     LINLI_OK);
    assert_int_equal(err.nfields, 0);
}

static void jx_check_accepts_an_int_where_a_number_is_wanted(void **state)
{
    (void)state;
    struct linli_err err;
    assert_int_equal(check("{\"name\": \"a\", \"score\": 3}", &err), LINLI_OK);
}

static void jx_check_reports_unknown_field(void **state)
{
    (void)state;
    struct linli_err err;
    assert_int_equal(check("{\"name\": \"a\", \"colour\": \"red\"}", &err), LINLI_EINVAL);
    assert_int_equal(err.status, LINLI_EINVAL);
    assert_int_equal(err.nfields, 1);
    assert_field_error(&err, "colour", "unknown");
}

static void jx_check_reports_wrong_type(void **state)
{
    (void)state;
    struct linli_err err;
    assert_int_equal(check("{\"name\": 5, \"age\": \"80\", \"active\": 1, \"tags\": {},"
                           " \"score\": \"x\", \"address\": []}",
                           &err),
                     LINLI_EINVAL);
    assert_int_equal(err.nfields, 6);
    assert_field_error(&err, "name", "string");
    assert_field_error(&err, "age", "whole number");
    assert_field_error(&err, "active", "true or false");
    assert_field_error(&err, "tags", "array");
    assert_field_error(&err, "score", "number");
    assert_field_error(&err, "address", "object");
}

static void jx_check_refuses_fraction_for_int(void **state)
{
    (void)state;
    struct linli_err err;
    assert_int_equal(check("{\"name\": \"a\", \"age\": 80.5}", &err), LINLI_EINVAL);
    assert_field_error(&err, "age", "whole number");
}

static void jx_check_reports_missing_required(void **state)
{
    (void)state;
    struct linli_err err;
    assert_int_equal(check("{\"age\": 3}", &err), LINLI_EINVAL);
    assert_int_equal(err.nfields, 1);
    assert_field_error(&err, "name", "required");
}

static void jx_check_counts_length_in_code_points(void **state)
{
    (void)state;
    struct linli_err err;
    /* 4 characters (12 bytes) fit a limit of 4 */
    assert_int_equal(check("{\"name\": \"王芳王芳\"}", &err), LINLI_OK);
    assert_int_equal(check("{\"name\": \"王芳\"}", &err), LINLI_OK);
    /* 5 characters do not */
    assert_int_equal(check("{\"name\": \"王芳王芳王\"}", &err), LINLI_EINVAL);
    assert_field_error(&err, "name", "at most 4 characters");
    assert_int_equal(check("{\"name\": \"abcde\"}", &err), LINLI_EINVAL);
    assert_field_error(&err, "name", "at most 4");
}

static void jx_check_refuses_null_where_not_nullable(void **state)
{
    (void)state;
    struct linli_err err;
    assert_int_equal(check("{\"name\": \"a\", \"age\": null}", &err), LINLI_EINVAL);
    assert_field_error(&err, "age", "null");
}

static void jx_check_accepts_null_where_nullable(void **state)
{
    (void)state;
    struct linli_err err;
    assert_int_equal(check("{\"name\": \"a\", \"note\": null, \"address\": null}", &err), LINLI_OK);
    assert_int_equal(err.nfields, 0);
}

static void jx_check_refuses_null_for_a_required_field(void **state)
{
    (void)state;
    struct linli_err err;
    assert_int_equal(check("{\"name\": null}", &err), LINLI_EINVAL);
    assert_field_error(&err, "name", "null");
}

static void jx_check_refuses_embedded_nul(void **state)
{
    (void)state;
    struct linli_err err;
    linli_err_clear(&err);
    json_t *obj = json_object();
    json_object_set_new(obj, "name", json_stringn("a\0b", 3));
    assert_int_equal(jx_check(obj, person_fields, NPERSON, &err), LINLI_EINVAL);
    assert_field_error(&err, "name", "NUL");
    json_decref(obj);
}

static void jx_parse_refuses_escaped_nul(void **state)
{
    (void)state;
    struct linli_err err;
    assert_null(parse("{\"name\": \"a\\u0000b\"}", &err));
    assert_int_equal(err.status, LINLI_EINVAL);
}

static void jx_check_reports_every_problem_at_once(void **state)
{
    (void)state;
    struct linli_err err;
    assert_int_equal(check("{\"age\": \"old\", \"extra\": 1, \"active\": null,"
                           " \"note\": null}",
                           &err),
                     LINLI_EINVAL);
    assert_int_equal(err.nfields, 4);
    assert_field_error(&err, "age", "whole number");
    assert_field_error(&err, "extra", "unknown");
    assert_field_error(&err, "active", "null");
    assert_field_error(&err, "name", "required");
    assert_null(field_error(&err, "note"));
    assert_true(err.detail[0] != '\0');
}

static void jx_accessors_give_values_or_defaults(void **state)
{
    (void)state;
    struct linli_err err;
    json_t *v = parse("{\"s\": \"x\", \"i\": 7, \"b\": true, \"n\": null}", &err);
    assert_non_null(v);
    assert_string_equal(jx_str(v, "s"), "x");
    assert_null(jx_str(v, "i"));
    assert_null(jx_str(v, "n"));
    assert_null(jx_str(v, "absent"));
    assert_int_equal(jx_int(v, "i", -1), 7);
    assert_int_equal(jx_int(v, "s", -1), -1);
    assert_int_equal(jx_int(v, "absent", 42), 42);
    assert_int_equal(jx_bool(v, "b", 0), 1);
    assert_int_equal(jx_bool(v, "i", -1), -1);
    assert_true(jx_has(v, "n"));
    assert_false(jx_has(v, "absent"));
    json_decref(v);
}

static void jx_utf8_len_counts_code_points(void **state)
{
    (void)state;
    assert_int_equal(jx_utf8_len(""), 0);
    assert_int_equal(jx_utf8_len("abc"), 3);
    assert_int_equal(jx_utf8_len("王芳"), 2);
    assert_int_equal(jx_utf8_len("é"), 1);
    assert_int_equal(jx_utf8_len("\xF0\x9F\x98\x80"), 1); /* an emoji, 4 bytes */
    assert_int_equal(jx_utf8_len("a王b"), 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(jx_parse_accepts_an_object),
        cmocka_unit_test(jx_parse_refuses_empty_body),
        cmocka_unit_test(jx_parse_refuses_malformed_json_saying_where),
        cmocka_unit_test(jx_parse_refuses_trailing_data),
        cmocka_unit_test(jx_parse_refuses_non_object_top_level),
        cmocka_unit_test(jx_parse_refuses_duplicate_keys),
        cmocka_unit_test(jx_parse_uses_only_len_bytes),
        cmocka_unit_test(jx_check_accepts_a_valid_object),
        cmocka_unit_test(jx_check_accepts_an_int_where_a_number_is_wanted),
        cmocka_unit_test(jx_check_reports_unknown_field),
        cmocka_unit_test(jx_check_reports_wrong_type),
        cmocka_unit_test(jx_check_refuses_fraction_for_int),
        cmocka_unit_test(jx_check_reports_missing_required),
        cmocka_unit_test(jx_check_counts_length_in_code_points),
        cmocka_unit_test(jx_check_refuses_null_where_not_nullable),
        cmocka_unit_test(jx_check_accepts_null_where_nullable),
        cmocka_unit_test(jx_check_refuses_null_for_a_required_field),
        cmocka_unit_test(jx_check_refuses_embedded_nul),
        cmocka_unit_test(jx_parse_refuses_escaped_nul),
        cmocka_unit_test(jx_check_reports_every_problem_at_once),
        cmocka_unit_test(jx_accessors_give_values_or_defaults),
        cmocka_unit_test(jx_utf8_len_counts_code_points),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
