/* test_walk.c - the straight-line walking model (src/geo/walk.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "geo/walk.h"

#include <math.h>

/* A point `dist_m` metres due north of `from`, as geo_distance_m measures. */
static struct geo_point north_of(struct geo_point from, double dist_m)
{
    double m_per_deg = geo_distance_m((struct geo_point){0, 0}, (struct geo_point){1, 0});
    return (struct geo_point){from.lat + dist_m / m_per_deg, from.lon};
}

static const struct geo_point tiantan = {39.8822, 116.4066};

static void nine_hundred_metres_take_nineteen_and_a_half_minutes(void **state)
{
    (void)state;
    struct walk_model m;
    walk_straight_line(&m, WALK_DETOUR_DEFAULT, WALK_SPEED_DEFAULT);
    assert_true(fabs(m.minutes_for(&m, 900) - 19.5) < 1e-12);
    struct geo_point b = north_of(tiantan, 900);
    assert_true(fabs(geo_distance_m(tiantan, b) - 900) < 1e-6);
    assert_true(fabs(m.minutes(&m, tiantan, b) - 19.5) < 1e-6);
}

static void reach_of_fifteen_minutes_is_the_straight_line_radius(void **state)
{
    (void)state;
    struct walk_model m;
    walk_straight_line(&m, WALK_DETOUR_DEFAULT, WALK_SPEED_DEFAULT);
    double r = m.reach_m(&m, 15);
    assert_true(fabs(r - 15 * 60 / 1.3) < 1e-9);
    assert_true(fabs(r - 692.3) < 0.01);
}

static void minutes_to_the_edge_of_the_reach_is_the_time_asked(void **state)
{
    (void)state;
    const double settings[][2] = {
        {1.3, 60}, {1.0, 80}, {2.5, 35}, {WALK_DETOUR_MAX, WALK_SPEED_MIN}};
    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++) {
        struct walk_model m;
        walk_straight_line(&m, settings[i][0], settings[i][1]);
        for (double t = 1; t <= 30; t += 2.5) {
            struct geo_point edge = north_of(tiantan, m.reach_m(&m, t));
            assert_true(fabs(m.minutes(&m, tiantan, edge) - t) < 1e-9);
            assert_true(fabs(m.minutes_for(&m, m.reach_m(&m, t)) - t) < 1e-9);
        }
    }
}

static void the_model_keeps_its_settings(void **state)
{
    (void)state;
    struct walk_model m;
    walk_straight_line(&m, 1.6, 45);
    assert_true(m.detour == 1.6 && m.speed_m_min == 45);
    /* Slower and more roundabout: 450 m walked as 720 m at 45 m a minute. */
    assert_true(fabs(m.minutes_for(&m, 450) - 16) < 1e-12);
    assert_true(m.minutes(&m, tiantan, tiantan) == 0);
}

/* What a person reads is rounded up, the tenths and the whole minute alike,
 * so that a page rounding the tenths up shows the minute the search ranked. */
static void minutes_shown_are_rounded_up(void **state)
{
    (void)state;
    assert_true(walk_minutes_tenths(5.4166) == 5.5);
    assert_int_equal(walk_minutes_whole(5.4166), 6);
    assert_true(walk_minutes_tenths(13.0) == 13.0);
    assert_int_equal(walk_minutes_whole(13.0), 13);
    assert_int_equal(walk_minutes_whole(13.0 + 1e-12), 13); /* float noise is not a minute */
    assert_int_equal(walk_minutes_whole(13.01), 14);
    assert_true(walk_minutes_tenths(0.04) == 0.1);
    assert_int_equal(walk_minutes_whole(0.2), 1); /* at least a minute */
    assert_int_equal(walk_minutes_whole(0), 1);
    assert_true(walk_minutes_tenths(0) == 0 && !signbit(walk_minutes_tenths(1e-12)));
    for (int i = 1; i < 200000; i++) {
        double m = i * 0.000731;
        double t = walk_minutes_tenths(m);
        if (t < m - 1e-9 || t - m >= 0.1 || (long)ceil(t) != walk_minutes_whole(m))
            fail_msg("%.9f minutes: %.9f tenths, %ld whole", m, t, walk_minutes_whole(m));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nine_hundred_metres_take_nineteen_and_a_half_minutes),
        cmocka_unit_test(reach_of_fifteen_minutes_is_the_straight_line_radius),
        cmocka_unit_test(minutes_to_the_edge_of_the_reach_is_the_time_asked),
        cmocka_unit_test(the_model_keeps_its_settings),
        cmocka_unit_test(minutes_shown_are_rounded_up),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
