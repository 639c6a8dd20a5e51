/* test_csv.c - the RFC 4180 reader and writer (src/base/csv.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/csv.h"

#include <stdio.h>
#include <string.h>

static FILE *text(const char *s)
{
    return fmemopen((void *)s, strlen(s), "r");
}

static void reads_plain_and_quoted_fields(void **state)
{
    (void)state;
    FILE *f = text("\xEF\xBB\xBFname,note\n王芳,\"a, \"\"b\"\"\nc\"\r\nlast,\n");
    struct csv_reader r;
    csv_init(&r, f, 1024);
    const char *why;
    assert_int_equal(csv_next(&r, &why), 1);
    assert_string_equal(r.fields[0], "name"); /* the byte-order mark is skipped */
    assert_int_equal(csv_next(&r, &why), 1);
    assert_int_equal(r.lineno, 2);
    assert_int_equal(r.nfields, 2);
    assert_string_equal(r.fields[0], "王芳");
    assert_string_equal(r.fields[1], "a, \"b\"\nc");
    assert_int_equal(csv_next(&r, &why), 1);
    assert_int_equal(r.lineno, 4); /* the quoted newline moved the count on */
    assert_int_equal(r.nfields, 2);
    assert_string_equal(r.fields[1], "");
    assert_int_equal(csv_next(&r, &why), 0);
    csv_free(&r);
    fclose(f);
}

static void refuses_an_over_long_line_and_goes_on(void **state)
{
    (void)state;
    char big[300];
    memset(big, 'x', sizeof big - 2);
    big[sizeof big - 2] = '\n';
    big[sizeof big - 1] = '\0';
    char all[400];
    snprintf(all, sizeof all, "%sok\n", big);
    FILE *f = text(all);
    struct csv_reader r;
    csv_init(&r, f, 64);
    const char *why = NULL;
    assert_int_equal(csv_next(&r, &why), -1);
    assert_non_null(why);
    assert_int_equal(csv_next(&r, &why), 1);
    assert_string_equal(r.fields[0], "ok");
    assert_int_equal(r.lineno, 2);
    csv_free(&r);
    fclose(f);
}

static void refuses_an_unclosed_quote(void **state)
{
    (void)state;
    FILE *f = text("a,\"never closed\n");
    struct csv_reader r;
    csv_init(&r, f, 1024);
    const char *why = NULL;
    assert_int_equal(csv_next(&r, &why), -1);
    assert_non_null(why);
    csv_free(&r);
    fclose(f);
}

static void column_lookup_by_header_name(void **state)
{
    (void)state;
    FILE *f = text("code,name,parent_code\n");
    struct csv_reader r;
    csv_init(&r, f, 1024);
    const char *why;
    assert_int_equal(csv_next(&r, &why), 1);
    assert_int_equal(csv_column(&r, "name"), 1);
    assert_int_equal(csv_column(&r, "nope"), -1);
    csv_free(&r);
    fclose(f);
}

static void writer_quotes_only_what_needs_it(void **state)
{
    (void)state;
    char out[128] = "";
    FILE *f = fmemopen(out, sizeof out, "w");
    csv_write_field(f, "plain", 0);
    csv_write_field(f, "a,b", 0);
    csv_write_field(f, "say \"hi\"", 1);
    fclose(f);
    assert_string_equal(out, "plain,\"a,b\",\"say \"\"hi\"\"\"\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reads_plain_and_quoted_fields),
        cmocka_unit_test(refuses_an_over_long_line_and_goes_on),
        cmocka_unit_test(refuses_an_unclosed_quote),
        cmocka_unit_test(column_lookup_by_header_name),
        cmocka_unit_test(writer_quotes_only_what_needs_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
