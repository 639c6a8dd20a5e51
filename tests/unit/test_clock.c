/* test_clock.c - time sources and RFC 3339 text (src/base/clock.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/clock.h"

#include <string.h>

/* 2026-11-25T13:10:47.123Z */
#define SAMPLE_MS INT64_C(1795612247123)

static int64_t parse_ok(const char *text)
{
    int64_t ms = -42;
    if (clock_parse_rfc3339(text, &ms) != 0)
        fail_msg("\"%s\" was refused", text);
    return ms;
}

static void parse_bad(const char *text)
{
    int64_t ms = -42;
    if (clock_parse_rfc3339(text, &ms) == 0)
        fail_msg("\"%s\" was accepted as %lld", text, (long long)ms);
}

static void clock_formats_utc_with_milliseconds(void **state)
{
    (void)state;
    char out[32];
    assert_ptr_equal(clock_format_rfc3339(SAMPLE_MS, out, sizeof out), out);
    assert_string_equal(out, "2026-11-25T13:10:47.123Z");
    clock_format_rfc3339(0, out, sizeof out);
    assert_string_equal(out, "1970-01-01T00:00:00.000Z");
    clock_format_rfc3339(951782400000, out, sizeof out); /* a leap day */
    assert_string_equal(out, "2000-02-29T00:00:00.000Z");
}

static void clock_formats_times_before_1970(void **state)
{
    (void)state;
    char out[32];
    clock_format_rfc3339(-1, out, sizeof out);
    assert_string_equal(out, "1969-12-31T23:59:59.999Z");
    clock_format_rfc3339(-1000, out, sizeof out);
    assert_string_equal(out, "1969-12-31T23:59:59.000Z");
    clock_format_rfc3339(-1001, out, sizeof out);
    assert_string_equal(out, "1969-12-31T23:59:58.999Z");
}

static void clock_format_fits_in_25_bytes(void **state)
{
    (void)state;
    char out[25];
    clock_format_rfc3339(SAMPLE_MS, out, sizeof out);
    assert_int_equal(strlen(out), 24);
}

static void clock_parses_utc_time(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("2026-11-25T13:10:47Z"), SAMPLE_MS - 123);
    assert_int_equal(parse_ok("1970-01-01T00:00:00Z"), 0);
    assert_int_equal(parse_ok("1969-12-31T23:59:59.999Z"), -1);
}

static void clock_format_and_parse_round_trip(void **state)
{
    (void)state;
    const int64_t samples[] = {0,
                               1,
                               999,
                               SAMPLE_MS,
                               951782400000,           /* 2000-02-29 */
                               INT64_C(4102444799999), /* 2099-12-31T23:59:59.999Z */
                               INT64_C(-86400000),
                               INT64_C(1709164800000) /* 2024-02-29 */};
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        char out[32];
        clock_format_rfc3339(samples[i], out, sizeof out);
        if (parse_ok(out) != samples[i])
            fail_msg("%lld -> %s -> %lld", (long long)samples[i], out, (long long)parse_ok(out));
    }
    /* and every millisecond of a second, every hour of a leap year */
    for (int64_t ms = SAMPLE_MS; ms < SAMPLE_MS + 1000; ms++) {
        char out[32];
        clock_format_rfc3339(ms, out, sizeof out);
        assert_int_equal(parse_ok(out), ms);
    }
    for (int64_t ms = INT64_C(1704067200000); ms < INT64_C(1735689600000); ms += 3600000) {
        char out[32];
        clock_format_rfc3339(ms, out, sizeof out);
        assert_int_equal(parse_ok(out), ms);
    }
}

static void clock_parses_positive_and_negative_offsets(void **state)
{
    (void)state;
    /* Beijing time is eight hours ahead of UTC */
    assert_int_equal(parse_ok("2026-11-25T21:10:47.123+08:00"), SAMPLE_MS);
    assert_int_equal(parse_ok("2026-11-25T08:10:47.123-05:00"), SAMPLE_MS);
    assert_int_equal(parse_ok("2026-11-25T13:10:47.123+00:00"), SAMPLE_MS);
    assert_int_equal(parse_ok("2026-11-25T13:10:47.123-00:00"), SAMPLE_MS);
    assert_int_equal(parse_ok("2026-11-25T18:40:47.123+05:30"), SAMPLE_MS);
    /* an offset that moves across midnight and a year end */
    assert_int_equal(parse_ok("2027-01-01T07:59:59+08:00"), parse_ok("2026-12-31T23:59:59Z"));
}

static void clock_parses_fractions_of_any_length(void **state)
{
    (void)state;
    int64_t base = SAMPLE_MS - 123;
    assert_int_equal(parse_ok("2026-11-25T13:10:47.1Z"), base + 100);
    assert_int_equal(parse_ok("2026-11-25T13:10:47.12Z"), base + 120);
    assert_int_equal(parse_ok("2026-11-25T13:10:47.123Z"), base + 123);
    assert_int_equal(parse_ok("2026-11-25T13:10:47.123999Z"), base + 123); /* truncated */
    assert_int_equal(parse_ok("2026-11-25T13:10:47.000000001Z"), base);
    assert_int_equal(parse_ok("2026-11-25T21:10:47.5+08:00"), base + 500);
}

static void clock_accepts_lowercase_and_space_separators(void **state)
{
    (void)state;
    int64_t base = SAMPLE_MS - 123;
    assert_int_equal(parse_ok("2026-11-25t13:10:47z"), base);
    assert_int_equal(parse_ok("2026-11-25 13:10:47Z"), base);
}

static void clock_accepts_leap_days_only_in_leap_years(void **state)
{
    (void)state;
    parse_ok("2024-02-29T00:00:00Z");
    parse_ok("2000-02-29T00:00:00Z");
    parse_bad("2026-02-29T00:00:00Z");
    parse_bad("2100-02-29T00:00:00Z");
}

static void clock_accepts_a_leap_second_as_the_last_second(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("2016-12-31T23:59:60Z"), parse_ok("2016-12-31T23:59:59Z"));
}

static void clock_refuses_impossible_dates(void **state)
{
    (void)state;
    parse_bad("2026-02-30T00:00:00Z");
    parse_bad("2026-04-31T00:00:00Z");
    parse_bad("2026-13-01T00:00:00Z");
    parse_bad("2026-00-10T00:00:00Z");
    parse_bad("2026-01-00T00:00:00Z");
    parse_bad("2026-01-32T00:00:00Z");
    parse_bad("2026-01-01T24:00:00Z");
    parse_bad("2026-01-01T23:60:00Z");
    parse_bad("2026-01-01T23:59:61Z");
}

static void clock_refuses_a_time_without_zone(void **state)
{
    (void)state;
    parse_bad("2026-11-25T13:10:47");
    parse_bad("2026-11-25T13:10:47.123");
    parse_bad("2026-11-25T13:10:47 ");
}

static void clock_refuses_malformed_text(void **state)
{
    (void)state;
    const char *bad[] = {
        "",
        "2026-11-25",
        "2026-11-25T13:10Z",
        "26-11-25T13:10:47Z",
        "2026/11/25T13:10:47Z",
        "2026-11-25X13:10:47Z",
        "2026-11-25T13-10-47Z",
        "2026-1a-25T13:10:47Z",
        "2026-11-25T13:10:47.Z", /* a dot without digits */
        "2026-11-25T13:10:47ZZ", /* trailing text */
        "2026-11-25T13:10:47Z junk",
        "2026-11-25T13:10:47+8:00", /* offset hours need two digits */
        "2026-11-25T13:10:47+08",   /* and minutes */
        "2026-11-25T13:10:47+0800",
        "2026-11-25T13:10:47+24:00",
        "2026-11-25T13:10:47+08:60",
        "2026-11-25T13:10:47+08:00:00",
        "+2026-11-25T13:10:47Z",
        "2026-11-25T13:10:47UTC",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        parse_bad(bad[i]);
}

static void clock_parse_leaves_result_alone_on_error(void **state)
{
    (void)state;
    int64_t ms = 777;
    assert_int_equal(clock_parse_rfc3339("2026-02-30T00:00:00Z", &ms), -1);
    assert_int_equal(ms, 777);
}

static void clock_now_is_a_plausible_unix_time_in_ms(void **state)
{
    (void)state;
    int64_t now = clock_now_ms();
    assert_true(now > INT64_C(1704067200000)); /* after 2024-01-01 */
    assert_true(now < INT64_C(4102444800000)); /* before 2100-01-01 */
}

static void clock_mono_never_goes_backwards(void **state)
{
    (void)state;
    int64_t prev = clock_mono_us();
    for (int i = 0; i < 10000; i++) {
        int64_t t = clock_mono_us();
        assert_true(t >= prev);
        prev = t;
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(clock_formats_utc_with_milliseconds),
        cmocka_unit_test(clock_formats_times_before_1970),
        cmocka_unit_test(clock_format_fits_in_25_bytes),
        cmocka_unit_test(clock_parses_utc_time),
        cmocka_unit_test(clock_format_and_parse_round_trip),
        cmocka_unit_test(clock_parses_positive_and_negative_offsets),
        cmocka_unit_test(clock_parses_fractions_of_any_length),
        cmocka_unit_test(clock_accepts_lowercase_and_space_separators),
        cmocka_unit_test(clock_accepts_leap_days_only_in_leap_years),
        cmocka_unit_test(clock_accepts_a_leap_second_as_the_last_second),
        cmocka_unit_test(clock_refuses_impossible_dates),
        cmocka_unit_test(clock_refuses_a_time_without_zone),
        cmocka_unit_test(clock_refuses_malformed_text),
        cmocka_unit_test(clock_parse_leaves_result_alone_on_error),
        cmocka_unit_test(clock_now_is_a_plausible_unix_time_in_ms),
        cmocka_unit_test(clock_mono_never_goes_backwards),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
