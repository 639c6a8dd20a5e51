/* test_arena.c - the per-request memory pool (src/base/arena.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/arena.h"

#include <stdalign.h>
#include <string.h>

static void arena_alloc_returns_max_aligned_memory(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a, 256);
    for (size_t size = 1; size < 100; size += 3) {
        void *p = arena_alloc(&a, size);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % alignof(max_align_t), 0);
    }
    arena_free(&a);
}

static void arena_alloc_returns_zeroed_memory(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a, 128);
    /* dirty a chunk, then release and reuse: new memory must still read zero */
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 20; i++) {
            unsigned char *p = arena_alloc(&a, 40);
            assert_non_null(p);
            for (int k = 0; k < 40; k++)
                assert_int_equal(p[k], 0);
            memset(p, 0xAB, 40);
        }
        arena_free(&a);
    }
}

static void arena_allocations_do_not_overlap(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a, 100);
    unsigned char *ptrs[50];
    for (int i = 0; i < 50; i++) {
        ptrs[i] = arena_alloc(&a, 24);
        assert_non_null(ptrs[i]);
        memset(ptrs[i], i + 1, 24);
    }
    for (int i = 0; i < 50; i++)
        for (int k = 0; k < 24; k++)
            assert_int_equal(ptrs[i][k], i + 1);
    arena_free(&a);
}

static void arena_serves_allocations_larger_than_a_chunk(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a, 64);
    unsigned char *small1 = arena_alloc(&a, 16);
    unsigned char *big = arena_alloc(&a, 10000);
    unsigned char *small2 = arena_alloc(&a, 16);
    assert_non_null(small1);
    assert_non_null(big);
    assert_non_null(small2);
    assert_int_equal((uintptr_t)big % alignof(max_align_t), 0);
    for (int k = 0; k < 10000; k++)
        assert_int_equal(big[k], 0);
    memset(small1, 1, 16);
    memset(big, 2, 10000);
    memset(small2, 3, 16);
    for (int k = 0; k < 16; k++) {
        assert_int_equal(small1[k], 1);
        assert_int_equal(small2[k], 3);
    }
    for (int k = 0; k < 10000; k++)
        assert_int_equal(big[k], 2);
    arena_free(&a);
}

static void arena_with_zero_chunk_size_uses_a_default(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a, 0);
    assert_true(a.chunk_size > 0);
    char *p = arena_alloc(&a, 10);
    assert_non_null(p);
    arena_free(&a);
}

static void arena_alloc_of_zero_bytes_is_valid(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a, 64);
    void *p = arena_alloc(&a, 0);
    assert_non_null(p);
    arena_free(&a);
}

static void arena_alloc_refuses_a_size_that_overflows(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a, 64);
    /* rounding SIZE_MAX up to the alignment must not wrap to a tiny block */
    void *huge = arena_alloc(&a, SIZE_MAX);
    void *almost = arena_alloc(&a, SIZE_MAX - 3);
    arena_free(&a);
    assert_null(huge);
    assert_null(almost);
}

static void arena_strdup_copies_the_string(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a, 64);
    char src[] = "王芳 lives here";
    char *p = arena_strdup(&a, src);
    assert_non_null(p);
    assert_ptr_not_equal(p, src);
    assert_string_equal(p, src);
    src[0] = 'X';
    assert_string_equal(p, "王芳 lives here");
    char *e = arena_strdup(&a, "");
    assert_non_null(e);
    assert_string_equal(e, "");
    arena_free(&a);
}

static void arena_strndup_copies_a_prefix_and_terminates(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a, 64);
    char *p = arena_strndup(&a, "abcdef", 3);
    assert_non_null(p);
    assert_string_equal(p, "abc");
    /* not NUL-terminated input is fine: only n bytes are read */
    const char raw[4] = {'w', 'x', 'y', 'z'};
    char *q = arena_strndup(&a, raw, 4);
    assert_string_equal(q, "wxyz");
    arena_free(&a);
}

static void arena_free_releases_everything_and_arena_is_reusable(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a, 64);
    for (int i = 0; i < 100; i++)
        assert_non_null(arena_alloc(&a, (size_t)(i * 7 + 1)));
    assert_non_null(arena_alloc(&a, 5000));
    arena_free(&a);
    assert_null(a.head);
    char *p = arena_strdup(&a, "after free");
    assert_string_equal(p, "after free");
    arena_free(&a);
    arena_free(&a); /* twice is harmless */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(arena_alloc_returns_max_aligned_memory),
        cmocka_unit_test(arena_alloc_returns_zeroed_memory),
        cmocka_unit_test(arena_allocations_do_not_overlap),
        cmocka_unit_test(arena_serves_allocations_larger_than_a_chunk),
        cmocka_unit_test(arena_with_zero_chunk_size_uses_a_default),
        cmocka_unit_test(arena_alloc_of_zero_bytes_is_valid),
        cmocka_unit_test(arena_alloc_refuses_a_size_that_overflows),
        cmocka_unit_test(arena_strdup_copies_the_string),
        cmocka_unit_test(arena_strndup_copies_a_prefix_and_terminates),
        cmocka_unit_test(arena_free_releases_everything_and_arena_is_reusable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
