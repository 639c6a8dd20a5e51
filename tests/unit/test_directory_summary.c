/* test_directory_summary.c - the directory in figures (directory_summary in
 * src/domain/directory_summary.c): counts by kind and status, beds of the
 * facilities that are not closed, areas, and the per-street rows. */
#include "support.h"

#include "domain/directory.h"
#include "domain/registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DISTRICT "110105000000"
#define JIANWAI  "110105001000"
#define CHAOWAI  "110105002000"
#define SANLITUN "110105003000" /* a street with no facility */
#define C1       "110105001001"
#define C2       "110105001002"
#define C4       "110105002001"

struct fixture {
    char dir[64];
    char db[128];
    struct domain d;
    struct principal admin;
    struct linli_err err;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    *state = f;
    if (make_temp_dir("dirsum", f->dir, sizeof f->dir, "linli.db", f->db, sizeof f->db))
        return -1;
    linli_err_clear(&f->err);
    if (open_domain(&f->d, f->db, NULL, &f->err))
        return -1;
    memset(&f->admin, 0, sizeof f->admin);
    f->admin.user_id = 1;
    f->admin.role = ROLE_ADMIN;
    snprintf(f->admin.username, sizeof f->admin.username, "admin");
    snprintf(f->admin.ip, sizeof f->admin.ip, "10.0.0.7");
    static const struct area_row rows[] = {
        {DISTRICT, "朝阳区", "", "district"},      {JIANWAI, "建外街道", DISTRICT, "street"},
        {CHAOWAI, "朝外街道", DISTRICT, "street"}, {SANLITUN, "三里屯街道", DISTRICT, "street"},
        {C1, "一社区", JIANWAI, "community"},      {C2, "二社区", JIANWAI, "community"},
        {C4, "四社区", CHAOWAI, "community"},
    };
    struct principal sys;
    principal_system(&sys, "test");
    struct import_report rep;
    return registry_import(&f->d, &sys, 2020, rows, sizeof rows / sizeof rows[0], NULL, 0, &rep,
                           &f->err);
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    close_domain(&f->d);
    remove_tree(f->dir);
    free(f);
    return 0;
}

/* Creates a facility of `kind` in `area` with `beds` beds (`free` of them
 * free; beds < 0 = none given) and `status` ("open", "suspended"); returns
 * its id. */
static int64_t add(struct fixture *f, const char *name, const char *kind, const char *area,
                   int beds, int free_beds, const char *status)
{
    struct facility_in in;
    memset(&in, 0, sizeof in);
    in.kind = kind;
    in.operator_type = "private";
    in.status = status;
    in.name = name;
    in.area_code = area;
    in.has_point = true;
    in.point = (struct geo_point){39.91, 116.46};
    in.capacity = in.rating_tenths = -1;
    in.beds_total = beds;
    in.beds_free = beds < 0 ? -1 : free_beds;
    struct facility out;
    linli_err_clear(&f->err);
    assert_ok(facilities_create(&f->d, &f->admin, &in, NULL, &out, NULL, &f->err), &f->err);
    return out.id;
}

static void close_facility(struct fixture *f, int64_t id)
{
    struct facility_patch p;
    memset(&p, 0, sizeof p);
    p.set_status = true;
    p.v.status = "closed";
    struct facility out;
    linli_err_clear(&f->err);
    assert_ok(facilities_update(&f->d, &f->admin, id, &p, &out, &f->err), &f->err);
    assert_int_equal(out.status, FACILITY_CLOSED);
}

/* The district of the tests:
 *   一社区 (建外)  institution A 100 beds, 10 free, open; dining table D, open
 *   二社区 (建外)  institution C 80 beds, 8 free, closed
 *   建外街道      regional centre R (street-wide, no beds), open
 *   四社区 (朝外)  institution B 50 beds, 5 free, suspended
 *   朝外街道      family-bed provider F 20 beds, 2 free, open
 *   三里屯街道     nothing */
static void make_district(struct fixture *f)
{
    add(f, "甲养老院", "institution", C1, 100, 10, NULL);
    add(f, "一社区老年餐桌", "dining_table", C1, -1, 0, NULL);
    close_facility(f, add(f, "丙养老院", "institution", C2, 80, 8, "open"));
    add(f, "建外区域养老服务中心", "regional_centre", JIANWAI, -1, 0, NULL);
    add(f, "乙养老院", "institution", C4, 50, 5, "suspended");
    add(f, "朝外家庭照护床位", "family_bed_provider", CHAOWAI, 20, 2, NULL);
}

static void counts_every_kind_and_keeps_closed_ones_out_of_totals_and_beds(void **state)
{
    struct fixture *f = *state;
    make_district(f);
    struct facility_summary s;
    assert_ok(directory_summary(&f->d, NULL, false, &s, &f->err), &f->err);
    assert_string_equal(s.area, "");
    assert_int_equal(s.total, 5);
    assert_int_equal(s.beds_total, 100 + 50 + 20);
    assert_int_equal(s.beds_free, 10 + 5 + 2);
    const struct facility_kind_figures *inst = &s.kinds[FACILITY_INSTITUTION];
    assert_int_equal(inst->open, 1);
    assert_int_equal(inst->suspended, 1);
    assert_int_equal(inst->closed, 1);
    assert_int_equal(inst->beds_total, 150);
    assert_int_equal(inst->beds_free, 15);
    assert_int_equal(s.kinds[FACILITY_DINING].open, 1);
    assert_int_equal(s.kinds[FACILITY_DINING].beds_total, 0);
    assert_int_equal(s.kinds[FACILITY_REGIONAL_CENTRE].open, 1);
    assert_int_equal(s.kinds[FACILITY_FAMILY_BED].beds_total, 20);
    const struct facility_kind_figures *none = &s.kinds[FACILITY_PROVIDER];
    assert_int_equal(none->open + none->suspended + none->closed + none->beds_total, 0);
    assert_int_equal(s.nstreets, 0); /* not asked for */
    assert_null(s.streets);
    facility_summary_free(&s);
}

static void an_area_keeps_the_facilities_within_it(void **state)
{
    struct fixture *f = *state;
    make_district(f);
    struct facility_summary s;
    /* A street by its 9 digits: its communities' facilities and its own. */
    assert_ok(directory_summary(&f->d, "110105001", false, &s, &f->err), &f->err);
    assert_string_equal(s.area, JIANWAI);
    assert_int_equal(s.total, 3);
    assert_int_equal(s.kinds[FACILITY_INSTITUTION].open, 1);
    assert_int_equal(s.kinds[FACILITY_INSTITUTION].closed, 1);
    assert_int_equal(s.beds_total, 100);
    assert_int_equal(s.beds_free, 10);
    facility_summary_free(&s);
    /* A community: not its street's street-wide facilities. */
    assert_ok(directory_summary(&f->d, C4, false, &s, &f->err), &f->err);
    assert_int_equal(s.total, 1);
    assert_int_equal(s.kinds[FACILITY_INSTITUTION].suspended, 1);
    assert_int_equal(s.kinds[FACILITY_FAMILY_BED].open, 0);
    assert_int_equal(s.beds_total, 50);
    facility_summary_free(&s);
    /* The district by its 6 digits is everything. */
    assert_ok(directory_summary(&f->d, "110105", false, &s, &f->err), &f->err);
    assert_string_equal(s.area, DISTRICT);
    assert_int_equal(s.total, 5);
    facility_summary_free(&s);
    /* A street with nothing in it. */
    assert_ok(directory_summary(&f->d, SANLITUN, false, &s, &f->err), &f->err);
    assert_int_equal(s.total, 0);
    assert_int_equal(s.kinds[FACILITY_INSTITUTION].closed, 0);
    facility_summary_free(&s);
}

static const struct facility_street_figures *street(const struct facility_summary *s,
                                                    const char *code)
{
    for (int i = 0; i < s->nstreets; i++)
        if (!strcmp(s->streets[i].code, code))
            return &s->streets[i];
    fail_msg("no row for street %s", code);
    return NULL;
}

static void per_street_rows_list_every_street_and_add_up(void **state)
{
    struct fixture *f = *state;
    make_district(f);
    struct facility_summary s;
    assert_ok(directory_summary(&f->d, NULL, true, &s, &f->err), &f->err);
    assert_int_equal(s.nstreets, 3);
    assert_string_equal(s.streets[0].code, JIANWAI); /* by code */
    assert_string_equal(s.streets[2].code, SANLITUN);
    const struct facility_street_figures *jw = street(&s, JIANWAI);
    assert_string_equal(jw->name, "建外街道");
    assert_int_equal(jw->facilities, 3);
    assert_int_equal(jw->by_kind[FACILITY_INSTITUTION], 1);
    assert_int_equal(jw->by_kind[FACILITY_DINING], 1);
    assert_int_equal(jw->by_kind[FACILITY_REGIONAL_CENTRE], 1);
    assert_int_equal(jw->beds_total, 100);
    assert_int_equal(jw->beds_free, 10);
    const struct facility_street_figures *cw = street(&s, CHAOWAI);
    assert_int_equal(cw->facilities, 2);
    assert_int_equal(cw->beds_total, 70);
    const struct facility_street_figures *sl = street(&s, SANLITUN);
    assert_string_equal(sl->name, "三里屯街道");
    assert_int_equal(sl->facilities + sl->beds_total + sl->beds_free, 0);
    int64_t facilities = 0, beds = 0, free_beds = 0;
    for (int i = 0; i < s.nstreets; i++) {
        facilities += s.streets[i].facilities;
        beds += s.streets[i].beds_total;
        free_beds += s.streets[i].beds_free;
    }
    assert_int_equal(facilities, s.total);
    assert_int_equal(beds, s.beds_total);
    assert_int_equal(free_beds, s.beds_free);
    facility_summary_free(&s);

    /* For a community, the one row is its street, counting the community only. */
    assert_ok(directory_summary(&f->d, C1, true, &s, &f->err), &f->err);
    assert_int_equal(s.nstreets, 1);
    assert_string_equal(s.streets[0].code, JIANWAI);
    assert_int_equal(s.streets[0].facilities, 2);
    facility_summary_free(&s);
    /* For a street, that street alone. */
    assert_ok(directory_summary(&f->d, CHAOWAI, true, &s, &f->err), &f->err);
    assert_int_equal(s.nstreets, 1);
    assert_int_equal(s.streets[0].facilities, 2);
    facility_summary_free(&s);
}

static void malformed_and_unknown_areas_are_field_errors(void **state)
{
    struct fixture *f = *state;
    struct facility_summary s;
    static const char *const bad[] = {"12345", "11010500100x", "000000", "110105001999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        linli_err_clear(&f->err);
        assert_int_equal(directory_summary(&f->d, bad[i], true, &s, &f->err), LINLI_EINVAL);
        assert_non_null(field_error(&f->err, "area"));
        assert_null(s.streets);
    }
    assert_field_error(&f->err, "area", "not a known area");
}

static void every_kind_has_an_english_name(void **state)
{
    (void)state;
    for (int k = 0; k < FACILITY_KINDS; k++)
        assert_string_not_equal(facility_kind_label_en(k), "?");
    assert_string_equal(facility_kind_label_en(FACILITY_DINING), "Dining table");
    assert_string_equal(facility_kind_label_en(FACILITY_KINDS), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            counts_every_kind_and_keeps_closed_ones_out_of_totals_and_beds, setup, teardown),
        cmocka_unit_test_setup_teardown(an_area_keeps_the_facilities_within_it, setup, teardown),
        cmocka_unit_test_setup_teardown(per_street_rows_list_every_street_and_add_up, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(malformed_and_unknown_areas_are_field_errors, setup,
                                        teardown),
        cmocka_unit_test(every_kind_has_an_english_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
