/* test_buf.c - the bounded byte buffer (src/base/buf.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/buf.h"
#include "base/status.h"

#include <stdlib.h>
#include <string.h>

static void buf_starts_empty_without_memory(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 100);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.max, 100);
    buf_free(&b);
}

static void buf_append_keeps_bytes_and_nul_terminates(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 64);
    assert_int_equal(buf_append(&b, "abc", 3), LINLI_OK);
    assert_int_equal(buf_appends(&b, "def"), LINLI_OK);
    assert_int_equal(b.len, 6);
    assert_string_equal(b.data, "abcdef");
    assert_int_equal(b.data[b.len], '\0');
    buf_free(&b);
}

static void buf_append_holds_binary_data_with_nul_bytes(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 64);
    const char bytes[] = {'a', '\0', 'b', '\0'};
    assert_int_equal(buf_append(&b, bytes, sizeof bytes), LINLI_OK);
    assert_int_equal(b.len, 4);
    assert_memory_equal(b.data, bytes, sizeof bytes);
    buf_free(&b);
}

static void buf_grows_across_many_appends(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 100000);
    for (int i = 0; i < 10000; i++)
        assert_int_equal(buf_append(&b, "0123456789", 10), LINLI_OK);
    assert_int_equal(b.len, 100000);
    for (size_t i = 0; i < b.len; i++)
        assert_int_equal(b.data[i], '0' + (int)(i % 10));
    assert_int_equal(b.data[b.len], '\0');
    buf_free(&b);
}

static void buf_accepts_exactly_max_bytes(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 10);
    assert_int_equal(buf_append(&b, "0123456789", 10), LINLI_OK);
    assert_int_equal(b.len, 10);
    assert_string_equal(b.data, "0123456789");
    assert_int_equal(buf_append(&b, "", 0), LINLI_OK);
    buf_free(&b);
}

static void buf_refuses_to_grow_past_max(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 10);
    assert_int_equal(buf_appends(&b, "hello"), LINLI_OK);
    assert_int_equal(buf_appends(&b, "world!"), LINLI_ETOOBIG);
    assert_int_equal(b.len, 5);
    assert_string_equal(b.data, "hello");
    /* what still fits is still accepted */
    assert_int_equal(buf_appends(&b, "world"), LINLI_OK);
    assert_string_equal(b.data, "helloworld");
    assert_int_equal(buf_append(&b, "x", 1), LINLI_ETOOBIG);
    assert_string_equal(b.data, "helloworld");
    buf_free(&b);
}

static void buf_refuses_a_single_append_larger_than_max(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 4);
    assert_int_equal(buf_appends(&b, "12345"), LINLI_ETOOBIG);
    assert_int_equal(b.len, 0);
    assert_int_equal(buf_append(&b, "x", SIZE_MAX), LINLI_ETOOBIG);
    assert_int_equal(b.len, 0);
    buf_free(&b);
}

static void buf_printf_formats_and_appends(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 64);
    assert_int_equal(buf_printf(&b, "%s=%d", "n", 42), LINLI_OK);
    assert_int_equal(buf_printf(&b, ";%05.1f", 3.14159), LINLI_OK);
    assert_string_equal(b.data, "n=42;003.1");
    assert_int_equal(b.len, strlen("n=42;003.1"));
    buf_free(&b);
}

static void buf_printf_refuses_past_max_and_leaves_contents(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 8);
    assert_int_equal(buf_printf(&b, "%d", 1234), LINLI_OK);
    assert_int_equal(buf_printf(&b, "%s", "56789"), LINLI_ETOOBIG);
    assert_int_equal(b.len, 4);
    assert_string_equal(b.data, "1234");
    assert_int_equal(buf_printf(&b, "%s", "5678"), LINLI_OK);
    assert_string_equal(b.data, "12345678");
    buf_free(&b);
}

static void buf_reset_empties_but_keeps_memory(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 64);
    assert_int_equal(buf_appends(&b, "something"), LINLI_OK);
    char *before = b.data;
    size_t cap = b.cap;
    buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_ptr_equal(b.data, before);
    assert_int_equal(b.cap, cap);
    assert_string_equal(b.data, "");
    assert_int_equal(buf_appends(&b, "again"), LINLI_OK);
    assert_string_equal(b.data, "again");
    buf_free(&b);
}

static void buf_reset_of_untouched_buffer_is_harmless(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 64);
    buf_reset(&b);
    assert_int_equal(b.len, 0);
    buf_free(&b);
}

static void buf_detach_hands_over_bytes_and_empties(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 64);
    assert_int_equal(buf_appends(&b, "payload"), LINLI_OK);
    size_t len = 0;
    char *p = buf_detach(&b, &len);
    assert_non_null(p);
    assert_int_equal(len, 7);
    assert_string_equal(p, "payload");
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
    /* the buffer stays usable with the same maximum */
    assert_int_equal(buf_appends(&b, "next"), LINLI_OK);
    assert_string_equal(b.data, "next");
    free(p);
    buf_free(&b);
}

static void buf_detach_of_empty_buffer_gives_empty_string(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 64);
    size_t len = 99;
    char *p = buf_detach(&b, &len);
    assert_non_null(p);
    char first = p[0]; /* read one byte only: past it may lie nothing */
    free(p);
    buf_free(&b);
    assert_int_equal(len, 0);
    assert_int_equal(first, '\0');
}

static void buf_free_allows_reuse_after_init(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 16);
    assert_int_equal(buf_appends(&b, "one"), LINLI_OK);
    buf_free(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    buf_init(&b, 16);
    assert_int_equal(buf_appends(&b, "two"), LINLI_OK);
    assert_string_equal(b.data, "two");
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(buf_starts_empty_without_memory),
        cmocka_unit_test(buf_append_keeps_bytes_and_nul_terminates),
        cmocka_unit_test(buf_append_holds_binary_data_with_nul_bytes),
        cmocka_unit_test(buf_grows_across_many_appends),
        cmocka_unit_test(buf_accepts_exactly_max_bytes),
        cmocka_unit_test(buf_refuses_to_grow_past_max),
        cmocka_unit_test(buf_refuses_a_single_append_larger_than_max),
        cmocka_unit_test(buf_printf_formats_and_appends),
        cmocka_unit_test(buf_printf_refuses_past_max_and_leaves_contents),
        cmocka_unit_test(buf_reset_empties_but_keeps_memory),
        cmocka_unit_test(buf_reset_of_untouched_buffer_is_harmless),
        cmocka_unit_test(buf_detach_hands_over_bytes_and_empties),
        cmocka_unit_test(buf_detach_of_empty_buffer_gives_empty_string),
        cmocka_unit_test(buf_free_allows_reuse_after_init),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
