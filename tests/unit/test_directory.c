/* test_directory.c - the service directory's rules (hours, open-at, money,
 * subsidies), its writes and reads, the memory copy following the store, and
 * the search (src/domain/directory*.c). */
#include "support.h"

#include "domain/directory.h"
#include "domain/people.h"
#include "domain/registry.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DISTRICT "110105000000"
#define JIANWAI  "110105001000"
#define CHAOWAI  "110105002000"
#define C1       "110105001001"
#define C2       "110105001002"
#define C4       "110105002001"

/* 2026-11-25 is a Wednesday; 10:00 in Beijing is 02:00 UTC. */
#define WED_10H 1795572000LL
#define HOUR    3600LL
#define DAY     86400LL

/* ---- pure rules ---- */

static void week_hours_parse_and_format_round_trip(void **state)
{
    (void)state;
    struct week_hours h;
    char why[160], text[256];
    assert_int_equal(hours_parse_week("mon-fri 08:00-12:00,13:00-18:00; sat,sun 09:00-17:00", &h,
                                      why, sizeof why),
                     0);
    assert_int_equal(h.nspans[0], 2);
    assert_int_equal(h.spans[0][1].open, 13 * 60);
    assert_int_equal(h.nspans[6], 1);
    assert_int_equal(h.spans[6][0].close, 17 * 60);
    hours_format_week(&h, text, sizeof text);
    assert_string_equal(text, "mon-fri 08:00-12:00,13:00-18:00; sat-sun 09:00-17:00");
    struct week_hours back;
    assert_int_equal(hours_parse_week(text, &back, why, sizeof why), 0);
    assert_memory_equal(&h, &back, sizeof h);

    assert_int_equal(hours_parse_week("daily 00:00-24:00", &h, why, sizeof why), 0);
    hours_format_week(&h, text, sizeof text);
    assert_string_equal(text, "daily 00:00-24:00");
    assert_int_equal(hours_parse_week("", &h, why, sizeof why), 0);
    hours_format_week(&h, text, sizeof text);
    assert_string_equal(text, "");
    /* A gap mid-week keeps its days apart. */
    assert_int_equal(hours_parse_week("mon,wed 10:30-13:00", &h, why, sizeof why), 0);
    hours_format_week(&h, text, sizeof text);
    assert_string_equal(text, "mon 10:30-13:00; wed 10:30-13:00");

    static const char *const bad[] = {"mon 12:00-08:00",
                                      "xyz 08:00-09:00",
                                      "mon 25:00-26:00",
                                      "mon 08:00-12:00,11:00-13:00",
                                      "mon",
                                      "fri-mon 08:00-09:00",
                                      "mon 8:00-9:00",
                                      "mon 08:00-24:01",
                                      "mon 08:00-09:00,,",
                                      "daily 00:00-00:00"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why[0] = '\0';
        if (hours_parse_week(bad[i], &h, why, sizeof why) == 0)
            fail_msg("\"%s\" was accepted", bad[i]);
        assert_true(why[0] != '\0');
    }
}

static struct facility open_weekdays(void)
{
    struct facility f;
    memset(&f, 0, sizeof f);
    f.status = FACILITY_OPEN;
    char why[160];
    assert_int_equal(hours_parse_week("mon-fri 08:00-18:00", &f.hours, why, sizeof why), 0);
    f.nclosures = 1;
    snprintf(f.closures[0].from, sizeof f.closures[0].from, "2026-10-01");
    snprintf(f.closures[0].to, sizeof f.closures[0].to, "2026-10-07");
    return f;
}

static void open_at_follows_weekday_time_and_closures(void **state)
{
    (void)state;
    struct facility f = open_weekdays();
    assert_true(facility_open_at(&f, WED_10H));
    assert_true(facility_open_at(&f, WED_10H - 2 * HOUR));  /* 08:00 opens */
    assert_false(facility_open_at(&f, WED_10H + 8 * HOUR)); /* 18:00 has closed */
    assert_false(facility_open_at(&f, WED_10H - 3 * HOUR)); /* 07:00 */
    assert_false(facility_open_at(&f, WED_10H + 4 * DAY));  /* Sunday */
    assert_true(facility_open_at(&f, WED_10H + 5 * DAY));   /* Monday */
    /* 23:30 UTC on Tuesday is 07:30 Wednesday in Beijing: still closed; an
     * hour later it is open. */
    assert_false(facility_open_at(&f, WED_10H - 2 * HOUR - 30 * 60));
    /* 2026-10-02 was a Friday, inside the National Day closure. */
    int64_t fri_oct2 = WED_10H - 54 * DAY;
    assert_false(facility_open_at(&f, fri_oct2));
    assert_true(facility_open_at(&f, fri_oct2 + 7 * DAY));
    f.status = FACILITY_SUSPENDED;
    assert_false(facility_open_at(&f, WED_10H));
}

static void prices_take_at_most_two_decimals(void **state)
{
    (void)state;
    int64_t fen = -1;
    assert_int_equal(price_parse_yuan(15, &fen), 0);
    assert_int_equal(fen, 1500);
    assert_int_equal(price_parse_yuan(15.5, &fen), 0);
    assert_int_equal(fen, 1550);
    assert_int_equal(price_parse_yuan(0.01, &fen), 0);
    assert_int_equal(fen, 1);
    assert_int_equal(price_parse_yuan(19.99, &fen), 0);
    assert_int_equal(fen, 1999);
    assert_int_equal(price_parse_yuan(0, &fen), 0);
    assert_int_equal(fen, 0);
    assert_int_equal(price_parse_yuan(15.555, &fen), -1);
    assert_int_equal(price_parse_yuan(-1, &fen), -1);
    assert_int_equal(price_parse_yuan(NAN, &fen), -1);
    assert_int_equal(price_parse_yuan(2e6, &fen), -1);
}

static struct facility_service meal_service(void)
{
    struct facility_service s;
    memset(&s, 0, sizeof s);
    snprintf(s.code, sizeof s.code, "meals");
    s.price_fen = 1500;
    s.unit = UNIT_MEAL;
    s.age_min = 60;
    s.nrules = 3;
    s.rules[0] = (struct subsidy_rule){
        .label = "低保半价", .classes = 1u << SUBSIDY_DIBAO, .percent_off = 50, .pay_fen = -1};
    s.rules[1] = (struct subsidy_rule){
        .label = "80岁以上减3元", .age_min = 80, .amount_off_fen = 300, .pay_fen = -1};
    s.rules[2] =
        (struct subsidy_rule){.label = "特困免费", .classes = 1u << SUBSIDY_TEKUN, .pay_fen = 0};
    return s;
}

static void subsidies_give_the_lowest_price_that_applies(void **state)
{
    (void)state;
    struct facility_service s = meal_service();
    int rule = 99;
    struct match_profile p = {.age = 70, .care_level = CARE_SELF, .subsidy_class = SUBSIDY_DIBAO};
    assert_int_equal(service_pay_fen(&s, &p, &rule), 750);
    assert_int_equal(rule, 0);
    p = (struct match_profile){.age = 85, .care_level = CARE_SELF, .subsidy_class = -1};
    assert_int_equal(service_pay_fen(&s, &p, &rule), 1200);
    assert_int_equal(rule, 1);
    p.subsidy_class = SUBSIDY_DIBAO; /* both apply: half price is lower; they do not add up */
    assert_int_equal(service_pay_fen(&s, &p, &rule), 750);
    assert_int_equal(rule, 0);
    p.subsidy_class = SUBSIDY_TEKUN;
    assert_int_equal(service_pay_fen(&s, &p, &rule), 0);
    assert_int_equal(rule, 2);
    p = (struct match_profile){.age = 70, .care_level = CARE_SELF, .subsidy_class = SUBSIDY_SHIDU};
    assert_int_equal(service_pay_fen(&s, &p, &rule), 1500);
    assert_int_equal(rule, -1);
    /* An amount off larger than the price pays nothing, never less. */
    s.rules[1].amount_off_fen = 5000;
    p = (struct match_profile){.age = 90, .care_level = CARE_SELF, .subsidy_class = -1};
    assert_int_equal(service_pay_fen(&s, &p, &rule), 0);
    /* Only people living alone. */
    s.nrules = 1;
    s.rules[0] = (struct subsidy_rule){.living_alone = true, .percent_off = 20, .pay_fen = -1};
    p.living_alone = false;
    assert_int_equal(service_pay_fen(&s, &p, &rule), 1500);
    p.living_alone = true;
    assert_int_equal(service_pay_fen(&s, &p, &rule), 1200);
}

static void services_serve_by_age_and_care_level(void **state)
{
    (void)state;
    struct facility_service s = meal_service();
    char why[128];
    struct match_profile p = {.age = 55, .care_level = CARE_SELF, .subsidy_class = -1};
    assert_false(service_serves(&s, &p, why, sizeof why));
    assert_contains(why, "60");
    p.age = 60;
    assert_true(service_serves(&s, &p, why, sizeof why));
    p.age = -1; /* unknown age does not pass an age limit */
    assert_false(service_serves(&s, &p, why, sizeof why));
    s.care_levels = CARE_BIT(CARE_SELF) | CARE_BIT(CARE_PARTLY_DEPENDENT);
    p = (struct match_profile){.age = 70, .care_level = CARE_DEPENDENT, .subsidy_class = -1};
    assert_false(service_serves(&s, &p, why, sizeof why));
    assert_contains(why, "dependent");
}

static void names_parse_as_codes_or_chinese(void **state)
{
    (void)state;
    int v;
    assert_int_equal(facility_kind_parse("老年餐桌", &v), 0);
    assert_int_equal(v, FACILITY_DINING);
    assert_int_equal(facility_kind_parse("dining_table", &v), 0);
    assert_int_equal(facility_kind_parse("社区卫生服务中心（站）", &v), 0);
    assert_int_equal(v, FACILITY_HEALTH);
    assert_int_equal(facility_kind_parse("canteen", &v), -1);
    assert_int_equal(operator_type_parse("公建民营", &v), 0);
    assert_int_equal(v, OPERATOR_PUBLIC_PRIVATE);
    assert_int_equal(subsidy_class_parse("低保", &v), 0);
    assert_int_equal(v, SUBSIDY_DIBAO);
    assert_int_equal(price_unit_parse("month", &v), 0);
    assert_int_equal(v, UNIT_MONTH);
    for (int k = 0; k < FACILITY_KINDS; k++) {
        assert_int_equal(facility_kind_parse(facility_kind_name(k), &v), 0);
        assert_int_equal(v, k);
        assert_int_equal(facility_kind_parse(facility_kind_label(k), &v), 0);
        assert_int_equal(v, k);
    }
}

/* ---- the store and the memory copy ---- */

struct fixture {
    char dir[64];
    char db[128];
    struct domain d;
    struct principal admin, district, jianwai, chaowai, resident;
    struct linli_err err;
};

static struct principal as_user(int64_t id, enum role role, const char *scope)
{
    struct principal p;
    memset(&p, 0, sizeof p);
    p.user_id = id;
    p.role = role;
    snprintf(p.username, sizeof p.username, "%s-%lld", role_name(role), (long long)id);
    snprintf(p.scope, sizeof p.scope, "%s", scope ? scope : "");
    snprintf(p.ip, sizeof p.ip, "10.0.0.7");
    return p;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    *state = f;
    if (make_temp_dir("directory", f->dir, sizeof f->dir, "linli.db", f->db, sizeof f->db))
        return -1;
    linli_err_clear(&f->err);
    if (open_domain(&f->d, f->db, NULL, &f->err))
        return -1;
    f->admin = as_user(1, ROLE_ADMIN, NULL);
    f->district = as_user(2, ROLE_DISTRICT, DISTRICT);
    f->jianwai = as_user(3, ROLE_STREET, JIANWAI);
    f->chaowai = as_user(4, ROLE_STREET, CHAOWAI);
    f->resident = as_user(7, ROLE_RESIDENT, NULL);
    static const struct area_row rows[] = {
        {DISTRICT, "朝阳区", "", "district"},      {JIANWAI, "建外街道", DISTRICT, "street"},
        {CHAOWAI, "朝外街道", DISTRICT, "street"}, {C1, "一社区", JIANWAI, "community"},
        {C2, "二社区", JIANWAI, "community"},      {C4, "四社区", CHAOWAI, "community"},
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

/* A dining table `east_m` metres east of the origin, with meals at `price_fen`. */
static struct facility_in dining(const char *name, const char *area, double east_m,
                                 int64_t price_fen)
{
    struct facility_in in;
    memset(&in, 0, sizeof in);
    in.kind = "dining_table";
    in.operator_type = "private";
    in.name = name;
    in.area_code = area;
    in.has_point = true;
    in.point = (struct geo_point){39.90, 116.45 + east_m / (111195.0 * cos(39.90 * M_PI / 180))};
    in.capacity = 40;
    in.beds_total = in.beds_free = in.rating_tenths = -1;
    char why[160];
    assert_int_equal(hours_parse_week("daily 10:30-13:00,16:30-18:30", &in.hours, why, sizeof why),
                     0);
    in.nservices = 1;
    in.services[0] = meal_service();
    in.services[0].price_fen = price_fen;
    return in;
}

static int64_t create(struct fixture *f, const struct principal *who, const struct facility_in *in)
{
    struct facility out;
    linli_err_clear(&f->err);
    int rc = facilities_create(&f->d, who, in, NULL, &out, NULL, &f->err);
    return rc ? rc : out.id;
}

static struct directory_query near_origin(double minutes)
{
    return (struct directory_query){.origin = {39.90, 116.45},
                                    .minutes = minutes,
                                    .kind = -1,
                                    .max_price_fen = -1,
                                    .at = WED_10H,
                                    .limit = 50};
}

static void facilities_are_created_read_and_listed(void **state)
{
    struct fixture *f = *state;
    struct facility_in in = dining("一社区老年餐桌", C1, 100, 1500);
    in.phone = "010-65001234";
    in.nclosures = 1;
    snprintf(in.closures[0].from, sizeof in.closures[0].from, "2027-02-16");
    snprintf(in.closures[0].to, sizeof in.closures[0].to, "2027-02-22");
    snprintf(in.closures[0].reason, sizeof in.closures[0].reason, "春节");
    int64_t id = create(f, &f->jianwai, &in);
    assert_true(id > 0);
    struct facility got;
    assert_ok(facilities_get(&f->d, id, &got, &f->err), &f->err);
    assert_string_equal(got.name, "一社区老年餐桌");
    assert_string_equal(got.area_name, "一社区");
    assert_string_equal(got.street_code, JIANWAI);
    assert_string_equal(got.street_name, "建外街道");
    assert_string_equal(got.phone, "01065001234");
    assert_int_equal(got.nclosures, 1);
    assert_string_equal(got.closures[0].reason, "春节");
    assert_int_equal(got.nservices, 1);
    assert_int_equal(got.services[0].price_fen, 1500);
    assert_int_equal(got.services[0].nrules, 3);
    assert_int_equal(got.services[0].rules[2].pay_fen, 0);
    assert_int_equal(got.services[0].rules[0].pay_fen, -1);
    assert_memory_equal(&got.hours, &in.hours, sizeof got.hours);
    assert_int_equal(got.beds_total, -1);
    /* The same name in the same area is a conflict; elsewhere it is fine. */
    assert_int_equal(create(f, &f->jianwai, &in), LINLI_ECONFLICT);
    in.area_code = C2;
    assert_true(create(f, &f->jianwai, &in) > 0);
    assert_int_equal(sql_int(f->d.store,
                             "SELECT count(*) FROM audit_log WHERE action = "
                             "'facility.create'",
                             NULL),
                     2);

    struct facility_filter ff = {
        .kind = FACILITY_DINING, .status = -1, .service = "meals", .limit = 1};
    struct facility *items;
    int n;
    int64_t next;
    assert_ok(facilities_list(&f->d, &ff, &items, &n, &next, &f->err), &f->err);
    assert_int_equal(n, 1);
    assert_int_equal(next, id);
    free(items);
    ff.after_id = next;
    assert_ok(facilities_list(&f->d, &ff, &items, &n, &next, &f->err), &f->err);
    assert_int_equal(n, 1);
    assert_int_equal(next, 0);
    free(items);
    ff = (struct facility_filter){.area = C2, .kind = -1, .status = -1, .limit = 10};
    assert_ok(facilities_list(&f->d, &ff, &items, &n, &next, &f->err), &f->err);
    assert_int_equal(n, 1);
    assert_string_equal(items[0].area_code, C2);
    free(items);
}

static void writes_are_checked_and_scoped(void **state)
{
    struct fixture *f = *state;
    struct facility_in in = dining("四社区老年餐桌", C4, 0, 1500);
    assert_int_equal(create(f, &f->jianwai, &in), LINLI_EFORBIDDEN);
    assert_int_equal(create(f, &f->resident, &in), LINLI_EFORBIDDEN);
    in.area_code = DISTRICT;
    assert_int_equal(create(f, &f->admin, &in), LINLI_EINVAL);
    assert_field_error(&f->err, "area_code", "street or a community");
    in.area_code = "110105009009"; /* well formed, not in the registry */
    assert_int_equal(create(f, &f->admin, &in), LINLI_EINVAL);
    assert_field_error(&f->err, "area_code", "no area");
    in = dining("坏餐桌", C4, 0, 1500);
    snprintf(in.services[0].code, sizeof in.services[0].code, "massage");
    in.beds_free = 3;
    in.point.lat = 60.0; /* north of China */
    in.nclosures = 1;
    snprintf(in.closures[0].from, sizeof in.closures[0].from, "2027-02-30");
    snprintf(in.closures[0].to, sizeof in.closures[0].to, "2027-03-01");
    in.services[0].rules[0].amount_off_fen = 100; /* two effects on one rule */
    assert_int_equal(create(f, &f->admin, &in), LINLI_EINVAL);
    assert_field_error(&f->err, "services[0].code", "catalogue");
    assert_field_error(&f->err, "beds_free", "beds_total");
    assert_field_error(&f->err, "point", "outside China");
    assert_field_error(&f->err, "closures[0]", "YYYY-MM-DD");
    assert_field_error(&f->err, "services[0].subsidies[0]", "exactly one");
    assert_int_equal(sql_int(f->d.store, "SELECT count(*) FROM facilities", NULL), 0);
}

static void search_orders_by_whole_minutes_then_price(void **state)
{
    struct fixture *f = *state;
    /* 150 m and 170 m are both a 4-minute walk (3.25 and 3.68 minutes,
     * rounded up): the cheaper comes first though it is farther. */
    int64_t a = create(f, &f->jianwai, &(struct facility_in){0});
    assert_int_equal(a, LINLI_EINVAL); /* an empty facility is refused */
    struct facility_in near_dear = dining("近而贵", C1, 150, 2000);
    struct facility_in far_cheap = dining("远而廉", C1, 170, 1200);
    struct facility_in farther = dining("更远", C2, 600, 800);
    struct facility_in beyond = dining("太远", C2, 900, 500);
    int64_t id_dear = create(f, &f->jianwai, &near_dear);
    int64_t id_cheap = create(f, &f->jianwai, &far_cheap);
    int64_t id_farther = create(f, &f->jianwai, &farther);
    int64_t id_beyond = create(f, &f->jianwai, &beyond);
    assert_true(id_dear > 0 && id_cheap > 0 && id_farther > 0 && id_beyond > 0);

    struct directory_query q = near_origin(15);
    q.service = "meals";
    struct directory_hit *hits;
    int n;
    assert_ok(directory_search(&f->d, &q, &hits, &n, &f->err), &f->err);
    assert_int_equal(n, 3); /* 900 m is 19.5 minutes away */
    assert_int_equal(hits[0].f.id, id_cheap);
    assert_int_equal(hits[1].f.id, id_dear);
    assert_int_equal(hits[2].f.id, id_farther);
    assert_true(fabs(hits[2].dist_m - 600) < 1);
    assert_true(fabs(hits[2].walk_minutes - 13.0) < 0.05);
    assert_int_equal(hits[0].service_index, 0);
    assert_false(hits[0].open); /* lunch is 10:30-13:00; the query is at 10:00 */
    free(hits);

    /* No limit: the nearest first, the 900 m one included. */
    q = near_origin(0);
    q.limit = 4;
    assert_ok(directory_search(&f->d, &q, &hits, &n, &f->err), &f->err);
    assert_int_equal(n, 4);
    assert_int_equal(hits[3].f.id, id_beyond);
    free(hits);

    q = near_origin(15);
    q.service = "meals";
    q.max_price_fen = 1000;
    assert_ok(directory_search(&f->d, &q, &hits, &n, &f->err), &f->err);
    assert_int_equal(n, 1);
    assert_int_equal(hits[0].f.id, id_farther);
    free(hits);

    /* Closing one takes it out at once; moving one moves it in the index. */
    struct facility out;
    struct facility_patch p = {.set_status = true, .v.status = "closed"};
    assert_ok(facilities_update(&f->d, &f->jianwai, id_cheap, &p, &out, &f->err), &f->err);
    p = (struct facility_patch){.set_point = true, .v.has_point = true, .v.point = beyond.point};
    p.v.point.lon = 116.45 + 50 / (111195.0 * cos(39.90 * M_PI / 180));
    assert_ok(facilities_update(&f->d, &f->jianwai, id_beyond, &p, &out, &f->err), &f->err);
    q = near_origin(15);
    assert_ok(directory_search(&f->d, &q, &hits, &n, &f->err), &f->err);
    assert_int_equal(n, 3);
    assert_int_equal(hits[0].f.id, id_beyond);
    for (int i = 0; i < n; i++)
        assert_true(hits[i].f.id != id_cheap);
    free(hits);
    assert_int_equal(sql_int(f->d.store,
                             "SELECT count(*) FROM audit_log WHERE action = "
                             "'facility.update'",
                             NULL),
                     2);
}

static void open_only_and_beds_filters(void **state)
{
    struct fixture *f = *state;
    struct facility_in lunch = dining("午餐", C1, 100, 1500);
    struct facility_in home = dining("养老院", C1, 200, 500000);
    home.kind = "institution";
    char why[160];
    assert_int_equal(hours_parse_week("daily 00:00-24:00", &home.hours, why, sizeof why), 0);
    home.beds_total = 100;
    home.beds_free = 0;
    snprintf(home.services[0].code, sizeof home.services[0].code, "residential_care");
    home.services[0].unit = UNIT_MONTH;
    home.services[0].nrules = 0;
    int64_t id_lunch = create(f, &f->jianwai, &lunch);
    int64_t id_home = create(f, &f->jianwai, &home);
    assert_true(id_lunch > 0 && id_home > 0);
    struct directory_query q = near_origin(15);
    q.only_open = true;
    q.at = WED_10H; /* lunch opens at 10:30 */
    struct directory_hit *hits;
    int n;
    assert_ok(directory_search(&f->d, &q, &hits, &n, &f->err), &f->err);
    assert_int_equal(n, 1);
    assert_int_equal(hits[0].f.id, id_home);
    free(hits);
    q.at = WED_10H + HOUR;
    assert_ok(directory_search(&f->d, &q, &hits, &n, &f->err), &f->err);
    assert_int_equal(n, 2);
    free(hits);
    q = near_origin(15);
    q.beds_free = true;
    assert_ok(directory_search(&f->d, &q, &hits, &n, &f->err), &f->err);
    assert_int_equal(n, 0);
    free(hits);
    q.kind = FACILITY_INSTITUTION;
    q.beds_free = false;
    assert_ok(directory_search(&f->d, &q, &hits, &n, &f->err), &f->err);
    assert_int_equal(n, 1);
    free(hits);
}

static void another_process_writes_are_seen_by_the_next_search(void **state)
{
    struct fixture *f = *state;
    struct directory_query q = near_origin(15);
    struct directory_hit *hits;
    int n;
    assert_ok(directory_search(&f->d, &q, &hits, &n, &f->err), &f->err);
    assert_int_equal(n, 0);
    free(hits);
    /* A second domain on the same file stands for the command line. */
    struct domain other;
    memset(&other, 0, sizeof other);
    assert_ok(open_domain(&other, f->db, NULL, &f->err), &f->err);
    struct facility_in in = dining("别处写入", C1, 100, 1500);
    struct facility out;
    assert_ok(facilities_create(&other, &f->admin, &in, NULL, &out, NULL, &f->err), &f->err);
    close_domain(&other);
    assert_ok(directory_search(&f->d, &q, &hits, &n, &f->err), &f->err);
    assert_int_equal(n, 1);
    assert_int_equal(hits[0].f.id, out.id);
    free(hits);
}

static void bad_queries_name_their_field(void **state)
{
    struct fixture *f = *state;
    struct directory_query q = near_origin(-1);
    q.origin = (struct geo_point){48.85, 2.35}; /* Paris */
    q.service = "massage";
    q.kind = FACILITY_KINDS;
    q.max_price_fen = 100;
    q.limit = 0;
    struct directory_hit *hits;
    int n;
    assert_int_equal(directory_search(&f->d, &q, &hits, &n, &f->err), LINLI_EINVAL);
    assert_field_error(&f->err, "near", "outside China");
    assert_field_error(&f->err, "minutes", "more than 0");
    assert_field_error(&f->err, "service", "catalogue");
    assert_field_error(&f->err, "kind", "kind");
    assert_field_error(&f->err, "limit", "1 to");
    linli_err_clear(&f->err);
    q = near_origin(121);
    assert_int_equal(directory_search(&f->d, &q, &hits, &n, &f->err), LINLI_EINVAL);
    assert_field_error(&f->err, "minutes", "at most 120");
}

static void imports_write_all_or_nothing(void **state)
{
    struct fixture *f = *state;
    struct facility_in rows[3] = {dining("甲", C1, 100, 1500), dining("乙", C4, 200, 1500),
                                  dining("甲", C1, 300, 1500)};
    long lines[3] = {2, 3, 4};
    struct facility_import_opts o = {.source = "test.csv"};
    struct facility_import_report rep;
    /* A repeated name and area, and a row outside the street's scope. */
    assert_int_equal(facilities_import(&f->d, &f->jianwai, rows, lines, 3, &o, &rep, &f->err),
                     LINLI_EINVAL);
    assert_int_equal(rep.bad, 2);
    assert_int_equal(rep.nerrors, 2);
    assert_int_equal(rep.errors[0].line, 3);
    assert_string_equal(rep.errors[0].field, "area_code");
    assert_int_equal(rep.errors[1].line, 4);
    assert_contains(rep.errors[1].message, "line 2");
    facility_import_report_free(&rep);
    assert_int_equal(sql_int(f->d.store, "SELECT count(*) FROM facilities", NULL), 0);
    o.skip_bad = true;
    assert_ok(facilities_import(&f->d, &f->jianwai, rows, lines, 3, &o, &rep, &f->err), &f->err);
    assert_int_equal(rep.created, 1);
    facility_import_report_free(&rep);
    /* Again, with a new price: the same name and area is updated, not added. */
    rows[0].services[0].price_fen = 1800;
    assert_ok(facilities_import(&f->d, &f->district, rows, lines, 2, &o, &rep, &f->err), &f->err);
    assert_int_equal(rep.created, 1);
    assert_int_equal(rep.updated, 1);
    facility_import_report_free(&rep);
    assert_int_equal(sql_int(f->d.store, "SELECT count(*) FROM facilities", NULL), 2);
    assert_int_equal(sql_int(f->d.store,
                             "SELECT price_fen FROM facility_services s JOIN "
                             "facilities f ON f.id = s.facility_id WHERE f.name = ?1",
                             "甲"),
                     1800);
    struct directory_query q = near_origin(15);
    struct directory_hit *hits;
    int n;
    assert_ok(directory_search(&f->d, &q, &hits, &n, &f->err), &f->err);
    assert_int_equal(n, 2);
    free(hits);
}

static void imports_report_store_problems_with_the_others(void **state)
{
    struct fixture *f = *state;
    struct facility_in rows[3] = {dining("甲", "110105001009", 100, 1500),
                                  dining("乙", C1, 200, 1500), dining("丙", C2, 300, 1500)};
    rows[1].kind = "canteen";
    long lines[3] = {2, 3, 4};
    struct facility_import_opts o = {.source = "test.csv"};
    struct facility_import_report rep;
    /* The unknown area (a store check) is reported beside the bad kind. */
    assert_int_equal(facilities_import(&f->d, &f->admin, rows, lines, 3, &o, &rep, &f->err),
                     LINLI_EINVAL);
    assert_int_equal(rep.bad, 2);
    assert_int_equal(rep.nerrors, 2);
    bool area = false, kind = false;
    for (int i = 0; i < rep.nerrors; i++) {
        area |= rep.errors[i].line == 2 && !strcmp(rep.errors[i].field, "area_code");
        kind |= rep.errors[i].line == 3 && !strcmp(rep.errors[i].field, "kind");
    }
    assert_true(area && kind);
    facility_import_report_free(&rep);
    /* A dry run counts what it would create and update, and writes nothing. */
    assert_true(create(f, &f->admin, &rows[2]) > 0);
    o.skip_bad = true;
    o.dry_run = true;
    assert_ok(facilities_import(&f->d, &f->admin, rows, lines, 3, &o, &rep, &f->err), &f->err);
    assert_int_equal(rep.created, 0);
    assert_int_equal(rep.updated, 1);
    assert_int_equal(rep.bad, 2);
    facility_import_report_free(&rep);
    assert_int_equal(sql_int(f->d.store, "SELECT count(*) FROM facilities", NULL), 1);
}

/* ---- the search against a brute-force scan ---- */

static uint64_t next_random(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double uniform(uint64_t *s, double lo, double hi)
{
    return lo + (hi - lo) * (double)(next_random(s) >> 11) / 9007199254740992.0;
}

struct brute {
    int64_t id;
    int kind;
    struct geo_point p;
    int64_t price; /* of meals; -1 = not offered */
    double minutes, dist;
};

static int brute_cmp(const void *a, const void *b)
{
    const struct brute *x = a, *y = b;
    double mx = ceil(x->minutes - 1e-9), my = ceil(y->minutes - 1e-9);
    if (mx != my)
        return mx < my ? -1 : 1;
    int64_t px = x->price < 0 ? 0 : x->price, py = y->price < 0 ? 0 : y->price;
    if (px != py)
        return px < py ? -1 : 1;
    if (x->dist != y->dist)
        return x->dist < y->dist ? -1 : 1;
    return x->id < y->id ? -1 : 1;
}

static void search_equals_a_brute_force_scan(void **state)
{
    struct fixture *f = *state;
    enum { N = 400, QUERIES = 300 };
    static struct facility_in rows[N];
    static struct brute all[N], want[N];
    long lines[N];
    uint64_t seed = 20261125;
    for (int i = 0; i < N; i++) {
        char name[32];
        snprintf(name, sizeof name, "设施%d", i);
        rows[i] =
            dining(strdup(name), i % 2 ? C1 : C2, 0, 100 * (int64_t)(next_random(&seed) % 40));
        rows[i].point =
            (struct geo_point){uniform(&seed, 39.88, 39.94), uniform(&seed, 116.40, 116.50)};
        if (i % 3 == 0) { /* a third are institutions without meals */
            rows[i].kind = "institution";
            snprintf(rows[i].services[0].code, sizeof rows[i].services[0].code, "residential_care");
        }
        lines[i] = i + 2;
    }
    struct facility_import_opts o = {.source = "random"};
    struct facility_import_report rep;
    assert_ok(facilities_import(&f->d, &f->admin, rows, lines, N, &o, &rep, &f->err), &f->err);
    facility_import_report_free(&rep);
    struct facility *items;
    int n;
    int64_t next = 0, after = 0;
    int k = 0;
    do { /* ids and stored points, as the store has them */
        struct facility_filter ff = {.kind = -1, .status = -1, .after_id = after, .limit = 500};
        assert_ok(facilities_list(&f->d, &ff, &items, &n, &next, &f->err), &f->err);
        for (int i = 0; i < n; i++) {
            all[k].id = items[i].id;
            all[k].kind = items[i].kind;
            all[k].p = items[i].point;
            all[k].price = items[i].kind == FACILITY_DINING ? items[i].services[0].price_fen : -1;
            k++;
        }
        free(items);
        after = next;
    } while (next);
    assert_int_equal(k, N);
    struct walk_model m;
    directory_walk_model(&f->d, &m);
    for (int qi = 0; qi < QUERIES; qi++) {
        struct directory_query q = near_origin(qi % 4 == 0 ? 0 : uniform(&seed, 1, 30));
        q.origin = (struct geo_point){uniform(&seed, 39.87, 39.95), uniform(&seed, 116.39, 116.51)};
        q.limit = 1 + (int)(next_random(&seed) % 60);
        bool meals = qi % 2;
        if (meals)
            q.service = "meals";
        if (meals && qi % 3 == 0)
            q.max_price_fen = 2000;
        int nw = 0;
        for (int i = 0; i < N; i++) {
            struct brute b = all[i];
            if (meals && (b.price < 0 || (q.max_price_fen >= 0 && b.price > q.max_price_fen)))
                continue;
            b.dist = geo_distance_m(q.origin, b.p);
            b.minutes = m.minutes(&m, q.origin, b.p);
            if (!meals)
                b.price = -1; /* the price only orders hits of a queried service */
            if (q.minutes > 0 && b.minutes > q.minutes)
                continue;
            want[nw++] = b;
        }
        qsort(want, (size_t)nw, sizeof want[0], brute_cmp);
        if (nw > q.limit)
            nw = q.limit;
        struct directory_hit *hits;
        assert_ok(directory_search(&f->d, &q, &hits, &n, &f->err), &f->err);
        if (n != nw)
            fail_msg("query %d: %d hits, the scan finds %d", qi, n, nw);
        for (int i = 0; i < n; i++) {
            if (hits[i].f.id != want[i].id)
                fail_msg("query %d hit %d: id %lld, the scan has %lld", qi, i,
                         (long long)hits[i].f.id, (long long)want[i].id);
            assert_true(fabs(hits[i].dist_m - want[i].dist) < 1e-6);
        }
        free(hits);
    }
    for (int i = 0; i < N; i++)
        free((char *)rows[i].name);
}

static void the_catalogue_grows_with_checked_codes(void **state)
{
    struct fixture *f = *state;
    struct service_def *items;
    int n;
    assert_ok(services_list(&f->d, &items, &n, &f->err), &f->err);
    assert_int_equal(n, 15);
    assert_string_equal(items[0].code, "meals");
    free(items);
    struct service_def in = {
        .code = "haircut", .name_zh = "助理发", .name_en = "Haircuts", .unit = UNIT_VISIT};
    struct service_def out;
    assert_int_equal(services_create(&f->d, &f->jianwai, &in, &out, &f->err), LINLI_EFORBIDDEN);
    assert_ok(services_create(&f->d, &f->district, &in, &out, &f->err), &f->err);
    assert_true(services_known(&f->d, "haircut"));
    assert_int_equal(services_create(&f->d, &f->district, &in, &out, &f->err), LINLI_ECONFLICT);
    struct service_def bad = {.code = "Hair Cut", .name_zh = "", .name_en = "x", .unit = 9};
    linli_err_clear(&f->err);
    assert_int_equal(services_create(&f->d, &f->district, &bad, &out, &f->err), LINLI_EINVAL);
    assert_field_error(&f->err, "code", "a-z");
    assert_field_error(&f->err, "name_zh", "required");
    assert_field_error(&f->err, "unit", "meal");
    struct facility_in d1 = dining("理发点", C1, 100, 1500);
    snprintf(d1.services[0].code, sizeof d1.services[0].code, "haircut");
    assert_true(create(f, &f->jianwai, &d1) > 0);
    assert_ok(services_list(&f->d, &items, &n, &f->err), &f->err);
    assert_int_equal(n, 16);
    assert_string_equal(items[15].code, "haircut");
    assert_int_equal(items[15].facilities, 1);
    free(items);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(week_hours_parse_and_format_round_trip),
        cmocka_unit_test(open_at_follows_weekday_time_and_closures),
        cmocka_unit_test(prices_take_at_most_two_decimals),
        cmocka_unit_test(subsidies_give_the_lowest_price_that_applies),
        cmocka_unit_test(services_serve_by_age_and_care_level),
        cmocka_unit_test(names_parse_as_codes_or_chinese),
        cmocka_unit_test_setup_teardown(facilities_are_created_read_and_listed, setup, teardown),
        cmocka_unit_test_setup_teardown(writes_are_checked_and_scoped, setup, teardown),
        cmocka_unit_test_setup_teardown(search_orders_by_whole_minutes_then_price, setup, teardown),
        cmocka_unit_test_setup_teardown(open_only_and_beds_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(another_process_writes_are_seen_by_the_next_search, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(bad_queries_name_their_field, setup, teardown),
        cmocka_unit_test_setup_teardown(imports_write_all_or_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(search_equals_a_brute_force_scan, setup, teardown),
        cmocka_unit_test_setup_teardown(imports_report_store_problems_with_the_others, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(the_catalogue_grows_with_checked_codes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
