/* test_cursor.c - opaque list cursors, by id or by a sort key and id (src/base/cursor.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/cursor.h"

#include <stdio.h>
#include <string.h>

static const char base36[] = "0123456789abcdefghijklmnopqrstuvwxyz";

static void round_trip(int64_t id)
{
    char c[CURSOR_MAX];
    cursor_encode(id, c);
    int64_t back = -1;
    if (cursor_decode(c, &back) != 0)
        fail_msg("cursor %s for id %lld was refused", c, (long long)id);
    if (back != id)
        fail_msg("cursor %s decoded to %lld, not %lld", c, (long long)back, (long long)id);
}

static void cursor_round_trips_small_and_edge_ids(void **state)
{
    (void)state;
    const int64_t ids[] = {0,
                           1,
                           2,
                           9,
                           10,
                           35,
                           36,
                           37,
                           1295,
                           1296,
                           65535,
                           1000000,
                           INT32_MAX,
                           (int64_t)INT32_MAX + 1,
                           INT64_MAX / 36,
                           INT64_MAX - 1,
                           INT64_MAX};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        round_trip(ids[i]);
}

static void cursor_round_trips_many_ids(void **state)
{
    (void)state;
    for (int64_t id = 0; id < 20000; id++)
        round_trip(id);
    /* a spread of large ids */
    for (int64_t id = 1; id > 0 && id < INT64_MAX / 3; id = id * 3 + 1)
        round_trip(id);
}

static void cursor_is_short_url_safe_text_starting_with_c(void **state)
{
    (void)state;
    const int64_t ids[] = {0, 42, INT64_MAX};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        char c[CURSOR_MAX];
        cursor_encode(ids[i], c);
        size_t len = strlen(c);
        assert_true(len >= 3 && len < CURSOR_MAX);
        assert_int_equal(c[0], 'c');
        for (size_t k = 1; k < len; k++)
            assert_non_null(strchr(base36, c[k]));
    }
}

static void cursor_differs_for_different_ids(void **state)
{
    (void)state;
    char a[CURSOR_MAX], b[CURSOR_MAX];
    cursor_encode(41, a);
    cursor_encode(42, b);
    assert_string_not_equal(a, b);
}

static void cursor_rejects_garbage(void **state)
{
    (void)state;
    const char *bad[] = {
        "",
        "c",
        "c1",
        "x12",
        "C12",
        "12",
        "c-1a",
        "c1 2",
        "c12!",
        "c1A2",
        "cccccccccccccccccccccccccccc",
        "c00000000000000000",
        "%63%31",
        "c\xe7\x8e\x8b",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t id = 12345;
        if (cursor_decode(bad[i], &id) == 0)
            fail_msg("garbage cursor \"%s\" was accepted as %lld", bad[i], (long long)id);
        assert_int_equal(id, 12345); /* untouched */
    }
}

static void cursor_rejects_a_wrong_check_digit(void **state)
{
    (void)state;
    const int64_t ids[] = {0, 1, 100, 123456789, INT64_MAX};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        char c[CURSOR_MAX];
        cursor_encode(ids[i], c);
        size_t last = strlen(c) - 1;
        for (const char *d = base36; *d; d++) {
            if (*d == c[last])
                continue;
            char t[CURSOR_MAX];
            memcpy(t, c, sizeof t);
            t[last] = *d;
            int64_t id;
            if (cursor_decode(t, &id) == 0)
                fail_msg("cursor %s (from %s) with a changed check digit was accepted", t, c);
        }
    }
}

/* A check digit exists to catch a changed character anywhere in the cursor,
 * not only in the last digit of the id. */
static void cursor_rejects_any_single_changed_character(void **state)
{
    (void)state;
    const int64_t ids[] = {100, 5000, 123456789};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        char c[CURSOR_MAX];
        cursor_encode(ids[i], c);
        size_t len = strlen(c);
        for (size_t pos = 1; pos < len; pos++) {
            for (const char *d = base36; *d; d++) {
                if (*d == c[pos])
                    continue;
                char t[CURSOR_MAX];
                memcpy(t, c, sizeof t);
                t[pos] = *d;
                int64_t id;
                if (cursor_decode(t, &id) == 0)
                    fail_msg("tampered cursor %s (from %s for id %lld) was accepted as id %lld", t,
                             c, (long long)ids[i], (long long)id);
            }
        }
    }
}

static void cursor_rejects_a_truncated_or_extended_cursor(void **state)
{
    (void)state;
    char c[CURSOR_MAX];
    cursor_encode(987654321, c);
    char t[CURSOR_MAX + 2];
    int64_t id;
    snprintf(t, sizeof t, "%.*s", (int)strlen(c) - 1, c); /* check digit cut off */
    assert_int_not_equal(cursor_decode(t, &id), 0);
    snprintf(t, sizeof t, "%s0", c);
    assert_int_not_equal(cursor_decode(t, &id), 0);
}

/* ---- keyed cursors (a sort key and an id) ---- */

static void keyed_cursor_round_trips(void **state)
{
    (void)state;
    const int64_t keys[] = {0, 1, 35, 36, 1767225600000, INT64_MAX};
    const int64_t ids[] = {0, 1, 1295, 1296, 1000000, INT64_MAX};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        for (size_t k = 0; k < sizeof ids / sizeof ids[0]; k++) {
            char c[CURSOR_MAX];
            cursor_encode_key(keys[i], ids[k], c);
            assert_true(strlen(c) < CURSOR_MAX);
            assert_int_equal(c[0], 'k');
            int64_t key = -1, id = -1;
            if (cursor_decode_key(c, &key, &id) != 0)
                fail_msg("keyed cursor %s was refused", c);
            assert_int_equal(key, keys[i]);
            assert_int_equal(id, ids[k]);
        }
}

static void keyed_and_id_cursors_are_not_taken_for_each_other(void **state)
{
    (void)state;
    char c[CURSOR_MAX], k[CURSOR_MAX];
    cursor_encode(42, c);
    cursor_encode_key(1767225600000, 42, k);
    int64_t key, id;
    assert_int_not_equal(cursor_decode_key(c, &key, &id), 0);
    assert_int_not_equal(cursor_decode(k, &id), 0);
}

static void keyed_cursor_rejects_garbage_and_tampering(void **state)
{
    (void)state;
    const char *bad[] = {"",        "k",        "k-",     "k1-",    "k-1ab", "k01-1ab",
                         "k1-01ab", "k1-2-3ab", "k1_2ab", "K1-2ab", "k1-2",  "k1 -2ab"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t key = 7, id = 9;
        if (cursor_decode_key(bad[i], &key, &id) == 0)
            fail_msg("garbage keyed cursor \"%s\" was accepted", bad[i]);
        assert_int_equal(key, 7);
        assert_int_equal(id, 9);
    }
    /* a changed check digit is always caught; a changed key or id digit
     * almost always (1 time in 1296 it can pass by chance) */
    char c[CURSOR_MAX];
    cursor_encode_key(1767225600000, 123456, c);
    size_t len = strlen(c);
    int tried = 0, passed = 0;
    for (size_t pos = 1; pos < len; pos++)
        for (const char *d = base36; *d; d++) {
            if (*d == c[pos] || c[pos] == '-')
                continue;
            char t[CURSOR_MAX];
            memcpy(t, c, sizeof t);
            t[pos] = *d;
            int64_t key, id;
            tried++;
            if (cursor_decode_key(t, &key, &id) == 0) {
                if (pos >= len - 2)
                    fail_msg("keyed cursor %s with a changed check digit was accepted", t);
                passed++;
            }
        }
    assert_true(tried > 400);
    assert_true(passed * 100 < tried);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cursor_round_trips_small_and_edge_ids),
        cmocka_unit_test(cursor_round_trips_many_ids),
        cmocka_unit_test(cursor_is_short_url_safe_text_starting_with_c),
        cmocka_unit_test(cursor_differs_for_different_ids),
        cmocka_unit_test(cursor_rejects_garbage),
        cmocka_unit_test(cursor_rejects_a_wrong_check_digit),
        cmocka_unit_test(cursor_rejects_any_single_changed_character),
        cmocka_unit_test(cursor_rejects_a_truncated_or_extended_cursor),
        cmocka_unit_test(keyed_cursor_round_trips),
        cmocka_unit_test(keyed_and_id_cursors_are_not_taken_for_each_other),
        cmocka_unit_test(keyed_cursor_rejects_garbage_and_tampering),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
