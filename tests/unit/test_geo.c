/* test_geo.c - datum shifts, distances and point-in-polygon (src/geo/geo.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "geo/geo.h"

#include <math.h>

static void gcj02_round_trip_is_within_a_millimetre(void **state)
{
    (void)state;
    for (double lat = 39.70; lat < 40.20; lat += 0.05) {
        for (double lon = 116.20; lon < 116.80; lon += 0.05) {
            struct geo_point w = {lat, lon};
            struct geo_point g = geo_wgs84_to_gcj02(w);
            struct geo_point back = geo_gcj02_to_wgs84(g);
            assert_true(geo_distance_m(w, back) < 0.001);
        }
    }
}

static void gcj02_offset_in_beijing_is_hundreds_of_metres(void **state)
{
    (void)state;
    struct geo_point w = {39.92, 116.44};
    double d = geo_distance_m(w, geo_wgs84_to_gcj02(w));
    assert_true(d > 300 && d < 700);
}

static void points_outside_china_pass_unchanged(void **state)
{
    (void)state;
    struct geo_point paris = {48.8566, 2.3522};
    struct geo_point g = geo_wgs84_to_gcj02(paris);
    assert_true(g.lat == paris.lat && g.lon == paris.lon);
    g = geo_gcj02_to_wgs84(paris);
    assert_true(g.lat == paris.lat && g.lon == paris.lon);
}

static void distance_of_one_degree_of_latitude(void **state)
{
    (void)state;
    double d = geo_distance_m((struct geo_point){39, 116}, (struct geo_point){40, 116});
    assert_true(fabs(d - 111195) < 50);
    assert_true(geo_distance_m((struct geo_point){39, 116}, (struct geo_point){39, 116}) == 0);
}

static void polygon_with_a_hole(void **state)
{
    (void)state;
    const struct geo_point outer[] = {{0, 0}, {0, 10}, {10, 10}, {10, 0}};
    const struct geo_point hole[] = {{4, 4}, {4, 6}, {6, 6}, {6, 4}};
    const struct geo_ring rings[] = {{outer, 4}, {hole, 4}};
    const struct geo_polygon poly = {rings, 2};
    assert_true(geo_polygon_contains(&poly, (struct geo_point){2, 2}));
    assert_false(geo_polygon_contains(&poly, (struct geo_point){5, 5}));
    assert_false(geo_polygon_contains(&poly, (struct geo_point){11, 5}));
    assert_false(geo_polygon_contains(&poly, (struct geo_point){-1, -1}));
}

static void multipolygon_holds_points_of_every_part(void **state)
{
    (void)state;
    const struct geo_point a[] = {{0, 0}, {0, 1}, {1, 1}, {1, 0}};
    const struct geo_point b[] = {{5, 5}, {5, 6}, {6, 6}, {6, 5}};
    const struct geo_ring ra[] = {{a, 4}}, rb[] = {{b, 4}};
    const struct geo_polygon polys[] = {{ra, 1}, {rb, 1}};
    assert_true(geo_multipolygon_contains(polys, 2, (struct geo_point){0.5, 0.5}));
    assert_true(geo_multipolygon_contains(polys, 2, (struct geo_point){5.5, 5.5}));
    assert_false(geo_multipolygon_contains(polys, 2, (struct geo_point){3, 3}));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gcj02_round_trip_is_within_a_millimetre),
        cmocka_unit_test(gcj02_offset_in_beijing_is_hundreds_of_metres),
        cmocka_unit_test(points_outside_china_pass_unchanged),
        cmocka_unit_test(distance_of_one_degree_of_latitude),
        cmocka_unit_test(polygon_with_a_hole),
        cmocka_unit_test(multipolygon_holds_points_of_every_part),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
