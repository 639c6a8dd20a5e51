/* test_care.c - proactive care (src/domain/care.c, care_plans.c) and the
 * hotline's figures (src/domain/hotline_report.c): tasks and their dedupe
 * keys, plan validation, what care_tick makes on which day (weekly calls,
 * missed check-ins, discharge follow-ups, birthdays, catch-up of at most one
 * day), the device watchdog, claiming and finishing, scope, and every figure
 * of the report against a hand computation, on a real store. Times are
 * chosen in the future so that "days before the plan was made" never
 * interfere. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "support.h"

#include "base/clock.h"
#include "domain/care.h"
#include "domain/care_internal.h"
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

#define MIN_MS  60000LL
#define HOUR_MS (60 * MIN_MS)

struct fixture {
    char dir[64];
    char db[128];
    struct domain d;
    struct principal admin, jianwai, chaowai, community4, op1, op2, op_chaowai, auditor;
    struct linli_err err;
    int announced; /* console.task events seen */
    json_t *last_event;
};

static struct principal as_user(int64_t id, enum role role, const char *scope, const char *name)
{
    struct principal p;
    memset(&p, 0, sizeof p);
    p.user_id = id;
    p.role = role;
    snprintf(p.username, sizeof p.username, "%s", name);
    snprintf(p.scope, sizeof p.scope, "%s", scope ? scope : "");
    snprintf(p.ip, sizeof p.ip, "10.0.0.7");
    return p;
}

static void on_event(const char *topic, json_t *payload, void *ctx)
{
    struct fixture *f = ctx;
    if (strcmp(topic, "console.task"))
        return;
    f->announced++;
    json_decref(f->last_event);
    f->last_event = json_incref(payload);
}

static void sqlf(struct fixture *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sqlf(struct fixture *f, const char *fmt, ...)
{
    char sql[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    sql_exec(f->d.store, sql);
}

static int64_t sql_intf(struct fixture *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int64_t sql_intf(struct fixture *f, const char *fmt, ...)
{
    char sql[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    return sql_int(f->d.store, sql, NULL);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    *state = f;
    if (make_temp_dir("care", f->dir, sizeof f->dir, "linli.db", f->db, sizeof f->db))
        return -1;
    linli_err_clear(&f->err);
    if (open_domain(&f->d, f->db, NULL, &f->err))
        return -1;
    f->d.bus = bus_new();
    bus_subscribe(f->d.bus, "console.", on_event, f);
    f->admin = as_user(1, ROLE_ADMIN, NULL, "admin");
    f->jianwai = as_user(2, ROLE_STREET, JIANWAI, "jianwai");
    f->chaowai = as_user(3, ROLE_STREET, CHAOWAI, "chaowai");
    f->community4 = as_user(4, ROLE_COMMUNITY, C4, "c4");
    f->op1 = as_user(10, ROLE_OPERATOR, DISTRICT, "op1");
    f->op2 = as_user(11, ROLE_OPERATOR, DISTRICT, "op2");
    f->op_chaowai = as_user(12, ROLE_OPERATOR, CHAOWAI, "op3");
    f->auditor = as_user(13, ROLE_AUDITOR, DISTRICT, "aud");
    static const struct area_row rows[] = {
        {DISTRICT, "朝阳区", "", "district"},      {JIANWAI, "建外街道", DISTRICT, "street"},
        {CHAOWAI, "朝外街道", DISTRICT, "street"}, {C1, "一社区", JIANWAI, "community"},
        {C2, "二社区", JIANWAI, "community"},      {C4, "四社区", CHAOWAI, "community"},
    };
    struct principal sys;
    principal_system(&sys, "test");
    struct import_report rep;
    if (registry_import(&f->d, &sys, 2020, rows, sizeof rows / sizeof rows[0], NULL, 0, &rep,
                        &f->err))
        return -1;
    sql_exec(f->d.store,
             "INSERT INTO users (id, username, role, scope, created_at, updated_at) VALUES"
             " (10, 'op1', 'operator', '110105000000', 0, 0),"
             " (11, 'op2', 'operator', '110105000000', 0, 0),"
             " (12, 'op3', 'operator', '110105002000', 0, 0);"
             "INSERT INTO people (id, name, birth_date, community_code, living_alone, created_at,"
             " updated_at) VALUES"
             " (1, '张一', '1940-03-15', '110105001001', 1, 0, 0),"
             " (2, '李二', '1944-02-29', '110105002001', 0, 0, 0),"
             " (3, '王三', NULL, '110105001002', 1, 0, 0);"
             "INSERT INTO devices (id, serial, secret, created_at, updated_at) VALUES"
             " (1, '860000000000001', 'aa', 0, 0), (2, '860000000000002', 'bb', 0, 0);");
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    json_decref(f->last_event);
    care_close(&f->d);
    close_domain(&f->d);
    remove_tree(f->dir);
    free(f);
    return 0;
}

/* ---- helpers ---- */

static int64_t today(void)
{
    return care__local_day(clock_now_ms());
}

/* Local (Asia/Shanghai) time on `day` at hh:mm, as UTC ms. */
static int64_t at(int64_t day, int hh, int mm)
{
    return care__day_start_ms(day) + hh * HOUR_MS + mm * MIN_MS;
}

static const char *date_of(int64_t day, char buf[16])
{
    care__format_date(day, buf, 16);
    return buf;
}

static void subscribe(struct fixture *f, int64_t device, int64_t person, int64_t starts)
{
    sqlf(f,
         "INSERT INTO subscriptions (device_id, person_id, starts_at, created_at, updated_at)"
         " VALUES (%lld, %lld, %lld, 0, 0)",
         (long long)device, (long long)person, (long long)starts);
}

static json_t *plan_ok(struct fixture *f, const struct care_plan_in *in)
{
    json_t *out = NULL;
    linli_err_clear(&f->err);
    assert_ok(care_plans_create(&f->d, &f->admin, in, &out, &f->err), &f->err);
    return out;
}

static int64_t plan_id(struct fixture *f, const struct care_plan_in *in)
{
    json_t *p = plan_ok(f, in);
    int64_t id = json_integer_value(json_object_get(p, "id"));
    json_decref(p);
    return id;
}

static void tick(struct fixture *f, int64_t now)
{
    linli_err_clear(&f->err);
    assert_ok(care_tick(&f->d, now, &f->err), &f->err);
}

static int64_t count_tasks(struct fixture *f, const char *where)
{
    return sql_intf(f, "SELECT COUNT(*) FROM tasks WHERE %s", where);
}

static struct care_plan_in plan_in(int64_t person, const char *kind)
{
    return (struct care_plan_in){
        .person_id = person, .kind = kind, .time_of_day = -1, .weekday = -1, .interval_days = -1};
}

struct seed_job {
    struct task_seed seed;
    int64_t id;
};

static int seed_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct seed_job *j = arg;
    return care__task_in_job(c, &j->seed, &j->id, err);
}

static int64_t make_task(struct fixture *f, int kind, int64_t person, const char *dedupe,
                         int64_t due)
{
    struct seed_job j = {{.kind = kind, .person_id = person, .due_at = due, .dedupe = dedupe}, 0};
    linli_err_clear(&f->err);
    assert_ok(store_write(f->d.store, seed_job, &j, &f->err), &f->err);
    return j.id;
}

static json_int_t jint(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v))
        fail_msg("%s is not an integer", key);
    return json_integer_value(v);
}

static const char *jstr(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    if (!s)
        fail_msg("%s is not a string", key);
    return s;
}

static void assert_near(double got, double want)
{
    if (fabs(got - want) > 1e-9)
        fail_msg("got %.12f, want %.12f", got, want);
}

/* ---- names ---- */

static void kinds_have_priorities_and_names(void **state)
{
    (void)state;
    assert_int_equal(task_kind_priority(TASK_MISSED_CHECKIN), 0);
    assert_int_equal(task_kind_priority(TASK_CALLBACK), 0);
    assert_int_equal(task_kind_priority(TASK_WEEKLY_CALL), 1);
    assert_int_equal(task_kind_priority(TASK_DEVICE_SILENT), 2);
    assert_true(task_kind_proactive(TASK_BIRTHDAY_CALL));
    assert_true(task_kind_proactive(TASK_MISSED_CHECKIN));
    assert_false(task_kind_proactive(TASK_LOW_BATTERY));
    for (int k = 0; k < TASK_KINDS; k++) {
        int back = -1;
        assert_int_equal(task_kind_parse(task_kind_name(k), &back), 0);
        assert_int_equal(back, k);
    }
    for (int k = 0; k < PLAN_KINDS; k++) {
        int back = -1;
        assert_int_equal(care_plan_kind_parse(care_plan_kind_name(k), &back), 0);
        assert_int_equal(back, k);
    }
    int s;
    assert_int_equal(task_state_parse("nonsense", &s), -1);
}

static void calendar_is_shanghai_local(void **state)
{
    (void)state;
    int64_t day;
    assert_int_equal(care__parse_date("2026-11-25", &day), 0);
    assert_int_equal(care__weekday(day), 2); /* a Wednesday */
    /* 2026-11-24T16:00:00Z is midnight of the 25th in Beijing. */
    assert_int_equal(care__day_start_ms(day), 1795536000000LL);
    assert_int_equal(care__local_day(1795536000000LL), day);
    assert_int_equal(care__local_day(1795536000000LL - 1), day - 1);
    assert_int_equal(care__parse_date("2027-02-29", &day), -1);
    assert_int_equal(care__parse_date("2028-02-29", &day), 0);
    assert_int_equal(care__parse_date("2028-2-29", &day), -1);
}

/* ---- tasks ---- */

static void a_dedupe_key_holds_while_open_and_is_released_when_finished(void **state)
{
    struct fixture *f = *state;
    int64_t a = make_task(f, TASK_CALLBACK, 1, "callback:1", 0);
    int64_t b = make_task(f, TASK_CALLBACK, 1, "callback:1", 0);
    assert_int_equal(a, b);
    assert_int_equal(count_tasks(f, "1"), 1);
    json_t *out = NULL;
    assert_ok(tasks_claim(&f->d, &f->op1, a, &out, &f->err), &f->err);
    json_decref(out);
    assert_int_equal(make_task(f, TASK_CALLBACK, 1, "callback:1", 0), a); /* claimed: still held */
    assert_ok(tasks_finish(&f->d, &f->op1, a, TASK_DONE, "rang back, all well", &out, &f->err),
              &f->err);
    assert_string_equal(jstr(out, "state"), "done");
    assert_true(json_is_string(json_object_get(out, "done_at")));
    json_decref(out);
    assert_int_equal(sql_intf(f, "SELECT dedupe IS NULL FROM tasks WHERE id = %lld", (long long)a),
                     1);
    int64_t c = make_task(f, TASK_CALLBACK, 1, "callback:1", 0);
    assert_true(c != a);
    /* no key: every call makes a task */
    assert_true(make_task(f, TASK_FOLLOW_UP, 1, NULL, 0) !=
                make_task(f, TASK_FOLLOW_UP, 1, NULL, 0));
}

static void a_task_takes_its_persons_community_and_is_announced(void **state)
{
    struct fixture *f = *state;
    int64_t id = make_task(f, TASK_NO_ACTIVITY, 2, NULL, 0);
    char code[16];
    sql_text(f->d.store, "SELECT community_code FROM tasks WHERE id = ?1", "1", code, sizeof code);
    assert_string_equal(code, C4);
    assert_int_equal(f->announced, 0); /* inside a job: nothing published yet */
    care_task_announce(&f->d, id);
    assert_int_equal(f->announced, 1);
    assert_string_equal(jstr(f->last_event, "community_code"), C4);
    json_t *task = json_object_get(f->last_event, "task");
    assert_int_equal(jint(task, "id"), id);
    assert_string_equal(jstr(task, "kind"), "no_activity");
    assert_int_equal(jint(task, "priority"), 0);
    assert_string_equal(jstr(task, "person_name"), "李二");
}

static void claiming_and_finishing_follow_the_rules(void **state)
{
    struct fixture *f = *state;
    int64_t id = make_task(f, TASK_WEEKLY_CALL, 1, NULL, 0); /* person 1 lives in C1 (Jianwai) */
    json_t *out = NULL;
    assert_int_equal(tasks_claim(&f->d, &f->op_chaowai, id, &out, &f->err), LINLI_ENOTFOUND);
    assert_int_equal(tasks_claim(&f->d, &f->jianwai, id, &out, &f->err), LINLI_EFORBIDDEN);
    assert_int_equal(tasks_finish(&f->d, &f->op1, id, TASK_DONE, "done", &out, &f->err),
                     LINLI_ECONFLICT); /* not claimed yet */
    assert_ok(tasks_claim(&f->d, &f->op1, id, &out, &f->err), &f->err);
    assert_string_equal(jstr(out, "state"), "claimed");
    assert_string_equal(jstr(out, "operator"), "op1");
    json_decref(out);
    int before = f->announced;
    assert_ok(tasks_claim(&f->d, &f->op1, id, &out, &f->err), &f->err); /* repeated: fine */
    json_decref(out);
    assert_int_equal(f->announced, before); /* nothing changed, nothing announced */
    linli_err_clear(&f->err);
    assert_int_equal(tasks_claim(&f->d, &f->op2, id, &out, &f->err), LINLI_ECONFLICT);
    assert_contains(f->err.detail, "op1");
    assert_int_equal(tasks_finish(&f->d, &f->op2, id, TASK_DONE, "x", &out, &f->err),
                     LINLI_ECONFLICT);
    linli_err_clear(&f->err);
    assert_int_equal(tasks_finish(&f->d, &f->op1, id, TASK_DONE, "", &out, &f->err), LINLI_EINVAL);
    assert_field_error(&f->err, "outcome", "required");
    assert_int_equal(tasks_finish(&f->d, &f->op1, id, TASK_CANCELLED, NULL, &out, &f->err),
                     LINLI_EFORBIDDEN);
    assert_ok(
        tasks_finish(&f->d, &f->op1, id, TASK_FAILED, "no answer, three tries", &out, &f->err),
        &f->err);
    assert_string_equal(jstr(out, "outcome"), "no answer, three tries");
    json_decref(out);
    assert_int_equal(f->announced, before + 1);
    assert_int_equal(tasks_finish(&f->d, &f->op1, id, TASK_DONE, "again", &out, &f->err),
                     LINLI_ECONFLICT);
    /* staff cancel, in their scope only */
    int64_t other = make_task(f, TASK_WEEKLY_CALL, 2, NULL, 0); /* C4 */
    assert_int_equal(tasks_finish(&f->d, &f->jianwai, other, TASK_CANCELLED, NULL, &out, &f->err),
                     LINLI_ENOTFOUND);
    assert_ok(
        tasks_finish(&f->d, &f->community4, other, TASK_CANCELLED, "moved away", &out, &f->err),
        &f->err);
    assert_string_equal(jstr(out, "state"), "cancelled");
    json_decref(out);
    assert_int_equal(sql_intf(f, "SELECT COUNT(*) FROM audit_log WHERE action LIKE 'task.%%'"), 3);
}

static void the_list_is_scoped_most_urgent_first_and_pages(void **state)
{
    struct fixture *f = *state;
    int64_t now = clock_now_ms();
    int64_t silent = make_task(f, TASK_DEVICE_SILENT, 1, NULL, now - 5 * HOUR_MS);
    int64_t weekly_late = make_task(f, TASK_WEEKLY_CALL, 1, NULL, now);
    int64_t weekly_early = make_task(f, TASK_WEEKLY_CALL, 3, NULL, now - HOUR_MS);
    int64_t urgent = make_task(f, TASK_MISSED_CHECKIN, 1, NULL, now);
    int64_t elsewhere = make_task(f, TASK_MISSED_CHECKIN, 2, NULL, now - 9 * HOUR_MS);
    int64_t want[] = {urgent, weekly_early, weekly_late, silent};
    struct task_filter flt = {.state = -1, .kind = -1, .limit = 3};
    json_t *items;
    int64_t next;
    assert_ok(tasks_list(&f->d, &f->jianwai, &flt, &items, &next, &f->err), &f->err);
    assert_int_equal(json_array_size(items), 3);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(jint(json_array_get(items, i), "id"), want[i]);
    assert_int_equal(next, weekly_late);
    json_decref(items);
    flt.after_id = next;
    assert_ok(tasks_list(&f->d, &f->jianwai, &flt, &items, &next, &f->err), &f->err);
    assert_int_equal(json_array_size(items), 1);
    assert_int_equal(jint(json_array_get(items, 0), "id"), silent);
    assert_int_equal(next, 0);
    json_decref(items);
    /* the admin sees the other street's task too, first of all */
    struct task_filter all = {.state = -1, .kind = -1, .limit = 10};
    assert_ok(tasks_list(&f->d, &f->admin, &all, &items, &next, &f->err), &f->err);
    assert_int_equal(json_array_size(items), 5);
    assert_int_equal(jint(json_array_get(items, 0), "id"), elsewhere);
    json_decref(items);
    /* filters */
    struct task_filter k = {.state = -1, .kind = TASK_WEEKLY_CALL, .person_id = 3, .limit = 10};
    assert_ok(tasks_list(&f->d, &f->admin, &k, &items, &next, &f->err), &f->err);
    assert_int_equal(json_array_size(items), 1);
    assert_int_equal(jint(json_array_get(items, 0), "id"), weekly_early);
    json_decref(items);
    struct task_filter done = {.state = TASK_DONE, .kind = -1, .limit = 10};
    assert_ok(tasks_list(&f->d, &f->admin, &done, &items, &next, &f->err), &f->err);
    assert_int_equal(json_array_size(items), 0);
    json_decref(items);
    struct principal resident = as_user(20, ROLE_RESIDENT, NULL, "r");
    assert_int_equal(tasks_list(&f->d, &resident, &all, &items, &next, &f->err), LINLI_EFORBIDDEN);
}

/* ---- plans: validation ---- */

static void a_plan_is_checked_field_by_field(void **state)
{
    struct fixture *f = *state;
    json_t *out = NULL;
    struct care_plan_in in = plan_in(0, "monthly");
    in.weekday = 2;
    in.starts_on = "2026-13-01";
    linli_err_clear(&f->err);
    assert_int_equal(care_plans_create(&f->d, &f->admin, &in, &out, &f->err), LINLI_EINVAL);
    assert_field_error(&f->err, "person_id", "required");
    assert_field_error(&f->err, "kind", "daily_checkin, weekly_call");
    assert_field_error(&f->err, "starts_on", "YYYY-MM-DD");
    in = plan_in(1, "weekly_call");
    linli_err_clear(&f->err);
    assert_int_equal(care_plans_create(&f->d, &f->admin, &in, &out, &f->err), LINLI_EINVAL);
    assert_field_error(&f->err, "weekday", "required for a weekly call");
    in = plan_in(1, "custom");
    in.weekday = 1;
    in.starts_on = "2030-01-10";
    in.ends_on = "2030-01-09";
    linli_err_clear(&f->err);
    assert_int_equal(care_plans_create(&f->d, &f->admin, &in, &out, &f->err), LINLI_EINVAL);
    assert_field_error(&f->err, "interval_days", "required for a custom plan");
    assert_field_error(&f->err, "weekday", "only for weekly_call");
    assert_field_error(&f->err, "ends_on", "before starts_on");
    in = plan_in(99, "weekly_call");
    in.weekday = 0;
    linli_err_clear(&f->err);
    assert_int_equal(care_plans_create(&f->d, &f->admin, &in, &out, &f->err), LINLI_EINVAL);
    assert_field_error(&f->err, "person_id", "no person 99");
}

static void a_daily_checkin_needs_a_device_and_a_birthday_a_birth_date(void **state)
{
    struct fixture *f = *state;
    json_t *out = NULL;
    struct care_plan_in in = plan_in(1, "daily_checkin");
    linli_err_clear(&f->err);
    assert_int_equal(care_plans_create(&f->d, &f->admin, &in, &out, &f->err), LINLI_EINVAL);
    assert_field_error(&f->err, "person_id", "no call device subscription");
    /* an ended subscription does not count; one in force does */
    sqlf(f, "INSERT INTO subscriptions (device_id, person_id, starts_at, ends_at, created_at,"
            " updated_at) VALUES (1, 1, 0, 1000, 0, 0)");
    linli_err_clear(&f->err);
    assert_int_equal(care_plans_create(&f->d, &f->admin, &in, &out, &f->err), LINLI_EINVAL);
    subscribe(f, 1, 1, clock_now_ms() - HOUR_MS);
    out = plan_ok(f, &in);
    assert_string_equal(jstr(out, "kind"), "daily_checkin");
    assert_string_equal(jstr(out, "time_of_day"), "10:00");
    assert_string_equal(jstr(out, "person_name"), "张一");
    assert_true(json_is_true(json_object_get(out, "active")));
    json_decref(out);
    linli_err_clear(&f->err);
    assert_int_equal(care_plans_create(&f->d, &f->admin, &in, &out, &f->err), LINLI_ECONFLICT);
    in = plan_in(3, "birthday_call");
    linli_err_clear(&f->err);
    assert_int_equal(care_plans_create(&f->d, &f->admin, &in, &out, &f->err), LINLI_EINVAL);
    assert_field_error(&f->err, "person_id", "no birth date");
    assert_int_equal(sql_intf(f, "SELECT COUNT(*) FROM audit_log WHERE action = "
                                 "'care_plan.create'"),
                     1);
}

static void plans_are_made_by_staff_in_scope_and_changed(void **state)
{
    struct fixture *f = *state;
    json_t *out = NULL;
    struct care_plan_in in = plan_in(1, "weekly_call");
    in.weekday = 3;
    in.note = "喜欢聊京剧";
    assert_int_equal(care_plans_create(&f->d, &f->op1, &in, &out, &f->err), LINLI_EFORBIDDEN);
    linli_err_clear(&f->err);
    assert_int_equal(care_plans_create(&f->d, &f->chaowai, &in, &out, &f->err), LINLI_EINVAL);
    assert_field_error(&f->err, "person_id", "in your area");
    linli_err_clear(&f->err);
    assert_ok(care_plans_create(&f->d, &f->jianwai, &in, &out, &f->err), &f->err);
    int64_t id = jint(out, "id");
    assert_int_equal(jint(out, "weekday"), 3);
    assert_int_equal(jint(out, "created_by"), 2);
    json_decref(out);
    json_t *patch = json_pack("{s:b, s:s}", "active", 0, "ends_on", "2099-12-31");
    assert_int_equal(care_plans_update(&f->d, &f->chaowai, id, patch, &out, &f->err),
                     LINLI_ENOTFOUND);
    assert_ok(care_plans_update(&f->d, &f->jianwai, id, patch, &out, &f->err), &f->err);
    json_decref(patch);
    assert_false(json_is_true(json_object_get(out, "active")));
    assert_string_equal(jstr(out, "ends_on"), "2099-12-31");
    json_decref(out);
    patch = json_pack("{s:s}", "ends_on", "2000-01-01");
    linli_err_clear(&f->err);
    assert_int_equal(care_plans_update(&f->d, &f->jianwai, id, patch, &out, &f->err), LINLI_EINVAL);
    assert_field_error(&f->err, "ends_on", "before starts_on");
    json_decref(patch);
    patch = json_pack("{s:s}", "kind", "custom");
    linli_err_clear(&f->err);
    assert_int_equal(care_plans_update(&f->d, &f->jianwai, id, patch, &out, &f->err), LINLI_EINVAL);
    assert_field_error(&f->err, "kind", "");
    json_decref(patch);
    /* lists: scoped */
    json_t *items;
    int64_t next;
    assert_ok(care_plans_list(&f->d, &f->op1, 0, 0, 10, &items, &next, &f->err), &f->err);
    assert_int_equal(json_array_size(items), 1);
    json_decref(items);
    assert_ok(care_plans_list(&f->d, &f->chaowai, 0, 0, 10, &items, &next, &f->err), &f->err);
    assert_int_equal(json_array_size(items), 0);
    json_decref(items);
}

static void plans_are_imported_in_batches_each_row_checked(void **state)
{
    struct fixture *f = *state;
    subscribe(f, 1, 1, clock_now_ms() - HOUR_MS);
    struct care_plan_in rows[3] = {plan_in(1, "weekly_call"), plan_in(1, "daily_checkin"),
                                   plan_in(2, "birthday_call")};
    rows[0].weekday = 0;
    size_t made = 9;
    linli_err_clear(&f->err);
    assert_int_equal(care_plans_import(&f->d, &f->op1, rows, 3, &made, &f->err), LINLI_EFORBIDDEN);
    assert_int_equal(made, 0);
    rows[0].weekday = -1;
    linli_err_clear(&f->err);
    assert_int_equal(care_plans_import(&f->d, &f->admin, rows, 3, &made, &f->err), LINLI_EINVAL);
    assert_field_error(&f->err, "rows", "row 0, weekday");
    assert_int_equal(sql_intf(f, "SELECT COUNT(*) FROM care_plans"), 0);
    rows[0].weekday = 0;
    assert_ok(care_plans_import(&f->d, &f->admin, rows, 3, &made, &f->err), &f->err);
    assert_int_equal(made, 3);
    assert_int_equal(sql_intf(f, "SELECT COUNT(*) FROM care_plans"), 3);
    assert_int_equal(sql_intf(f, "SELECT COUNT(*) FROM audit_log WHERE action = "
                                 "'care_plan.import'"),
                     1);
    struct care_plan_in lonely = plan_in(3, "daily_checkin"); /* no device */
    linli_err_clear(&f->err);
    assert_int_equal(care_plans_import(&f->d, &f->admin, &lonely, 1, &made, &f->err), LINLI_EINVAL);
    assert_field_error(&f->err, "rows", "row 0, person_id: has no call device");
}

/* ---- care_tick ---- */

static void a_weekly_call_comes_once_on_its_weekday_at_its_time(void **state)
{
    struct fixture *f = *state;
    int64_t day = today() + 7; /* a future day: its weekday is the plan's */
    struct care_plan_in in = plan_in(1, "weekly_call");
    in.weekday = care__weekday(day);
    in.time_of_day = 9 * 60 + 30;
    int64_t id = plan_id(f, &in);
    tick(f, at(day, 9, 29));
    assert_int_equal(count_tasks(f, "1"), 0);
    tick(f, at(day, 9, 30));
    assert_int_equal(count_tasks(f, "kind = 'weekly_call' AND priority = 1"), 1);
    char d[16], key[64];
    snprintf(key, sizeof key, "plan:%lld:%s", (long long)id, date_of(day, d));
    assert_int_equal(sql_int(f->d.store, "SELECT COUNT(*) FROM tasks WHERE dedupe = ?1", key), 1);
    assert_int_equal(sql_intf(f, "SELECT due_at FROM tasks"), at(day, 9, 30));
    assert_int_equal(f->announced, 1);
    tick(f, at(day, 9, 31));
    assert_int_equal(count_tasks(f, "1"), 1);
    /* finished tasks release their key, but the plan's day is dealt with */
    int64_t task = sql_intf(f, "SELECT id FROM tasks");
    json_t *out;
    assert_ok(tasks_claim(&f->d, &f->op1, task, &out, &f->err), &f->err);
    json_decref(out);
    assert_ok(tasks_finish(&f->d, &f->op1, task, TASK_DONE, "chatted", &out, &f->err), &f->err);
    json_decref(out);
    tick(f, at(day, 23, 0));
    tick(f, at(day + 1, 9, 30));
    assert_int_equal(count_tasks(f, "1"), 1);
    tick(f, at(day + 7, 9, 30));
    assert_int_equal(count_tasks(f, "1"), 2);
    /* an inactive plan makes nothing */
    json_t *patch = json_pack("{s:b}", "active", 0);
    assert_ok(care_plans_update(&f->d, &f->admin, id, patch, &out, &f->err), &f->err);
    json_decref(patch);
    json_decref(out);
    tick(f, at(day + 14, 9, 30));
    assert_int_equal(count_tasks(f, "1"), 2);
}

static void a_missed_checkin_makes_an_urgent_task_after_the_grace(void **state)
{
    struct fixture *f = *state;
    care_set_silent_limit(&f->d, 0); /* the device sends no heartbeats here */
    subscribe(f, 1, 1, clock_now_ms() - HOUR_MS);
    int64_t day = today() + 2;
    char d[16];
    struct care_plan_in in = plan_in(1, "daily_checkin");
    in.time_of_day = 9 * 60;
    in.starts_on = date_of(day, d);
    int64_t id = plan_id(f, &in);
    /* day: checked in at 08:30 -> nothing */
    sqlf(f,
         "INSERT INTO device_events (device_id, event_id, person_id, kind, received_at, door)"
         " VALUES (1, 'e1', 1, 'checkin', %lld, 'http')",
         (long long)at(day, 8, 30));
    tick(f, at(day, 10, 59));
    tick(f, at(day, 11, 0));
    assert_int_equal(count_tasks(f, "1"), 0);
    char last[16];
    sql_text(f->d.store, "SELECT last_due_on FROM care_plans", NULL, last, sizeof last);
    assert_string_equal(last, date_of(day, d));
    /* day + 1: the check-in comes after the deadline: missed all the same */
    sqlf(f,
         "INSERT INTO device_events (device_id, event_id, person_id, kind, received_at, door)"
         " VALUES (1, 'e2', 1, 'checkin', %lld, 'http')",
         (long long)at(day + 1, 11, 5));
    tick(f, at(day + 1, 10, 59));
    assert_int_equal(count_tasks(f, "1"), 0); /* 9:00 + 120 min grace not yet over */
    tick(f, at(day + 1, 11, 0));
    assert_int_equal(count_tasks(f, "kind = 'missed_checkin' AND priority = 0"), 1);
    char key[64];
    snprintf(key, sizeof key, "checkin:%lld:%s", (long long)id, date_of(day + 1, d));
    assert_int_equal(sql_int(f->d.store, "SELECT COUNT(*) FROM tasks WHERE dedupe = ?1", key), 1);
    assert_int_equal(sql_intf(f, "SELECT plan_id FROM tasks"), id);
    tick(f, at(day + 1, 11, 30));
    assert_int_equal(count_tasks(f, "1"), 1);
    /* without a device in force, the plan asks for a call instead */
    sql_exec(f->d.store, "UPDATE subscriptions SET ends_at = 1");
    tick(f, at(day + 2, 11, 0));
    assert_int_equal(count_tasks(f, "kind = 'checkin_call' AND priority = 1"), 1);
}

static void the_tick_catches_up_at_most_one_day(void **state)
{
    struct fixture *f = *state;
    int64_t start = today() + 1;
    struct care_plan_in in = plan_in(1, "custom");
    char d[16];
    in.starts_on = date_of(start, d);
    in.interval_days = 1;
    plan_id(f, &in);
    tick(f, at(start + 5, 12, 0)); /* the server was "down" for days 1..4 */
    assert_int_equal(count_tasks(f, "kind = 'custom_call'"), 2);
    assert_int_equal(count_tasks(f, "1"), 2);
    assert_int_equal(sql_intf(f, "SELECT MIN(due_at) FROM tasks"), at(start + 4, 10, 0));
    assert_int_equal(sql_intf(f, "SELECT MAX(due_at) FROM tasks"), at(start + 5, 10, 0));
}

static void discharge_calls_come_on_days_1_3_and_7(void **state)
{
    struct fixture *f = *state;
    int64_t start = today() + 1;
    struct care_plan_in in = plan_in(3, "discharge_followup");
    char d[16];
    in.starts_on = date_of(start, d);
    plan_id(f, &in);
    for (int i = 0; i <= 10; i++) {
        tick(f, at(start + i, 10, 0));
        int64_t want = i < 1 ? 0 : i < 3 ? 1 : i < 7 ? 2 : 3;
        if (count_tasks(f, "kind = 'discharge_call'") != want)
            fail_msg("day %d: %lld tasks, want %lld", i,
                     (long long)count_tasks(f, "kind = 'discharge_call'"), (long long)want);
    }
}

static void a_29_february_birthday_is_kept_on_28_february_in_other_years(void **state)
{
    struct fixture *f = *state;
    int y, m, dd;
    care__civil_from_days(today(), &y, &m, &dd);
    int common = y + 1, leap = y + 1;
    while (care__leap_year(common))
        common++;
    while (!care__leap_year(leap))
        leap++;
    plan_id(f, &(struct care_plan_in){.person_id = 2,
                                      .kind = "birthday_call",
                                      .time_of_day = -1,
                                      .weekday = -1,
                                      .interval_days = -1});
    int64_t feb28 = care__days_from_civil(common, 2, 28);
    tick(f, at(feb28 - 1, 12, 0));
    assert_int_equal(count_tasks(f, "1"), 0);
    tick(f, at(feb28, 12, 0));
    tick(f, at(feb28 + 1, 12, 0));
    assert_int_equal(count_tasks(f, "kind = 'birthday_call'"), 1);
    assert_int_equal(sql_intf(f, "SELECT due_at FROM tasks"), at(feb28, 10, 0));
    int64_t leap28 = care__days_from_civil(leap, 2, 28);
    tick(f, at(leap28, 12, 0));
    assert_int_equal(count_tasks(f, "1"), 1);
    tick(f, at(leap28 + 1, 12, 0)); /* 29 February */
    assert_int_equal(count_tasks(f, "1"), 2);
}

static void a_silent_device_gets_one_task_until_heard_again(void **state)
{
    struct fixture *f = *state;
    int64_t now = clock_now_ms() + 30 * 86400000LL;
    subscribe(f, 1, 1, now - 86400000LL);
    subscribe(f, 2, 2, now - HOUR_MS); /* never heard from, but only subscribed an hour ago */
    sqlf(f, "UPDATE devices SET last_seen_at = %lld WHERE id = 1", (long long)(now - 4 * HOUR_MS));
    tick(f, now);
    assert_int_equal(count_tasks(f, "kind = 'device_silent' AND priority = 2 AND device_id = 1"),
                     1);
    assert_int_equal(count_tasks(f, "1"), 1);
    tick(f, now + MIN_MS);
    assert_int_equal(count_tasks(f, "1"), 1);
    /* device 2, never heard from, passes the limit too */
    tick(f, now + 2 * HOUR_MS + MIN_MS);
    assert_int_equal(count_tasks(f, "device_id = 2 AND state = 'open'"), 1);
    /* device 1 heard again: its open task is cancelled and its key released */
    sqlf(f, "UPDATE devices SET last_seen_at = %lld WHERE id = 1", (long long)(now + 3 * HOUR_MS));
    tick(f, now + 3 * HOUR_MS);
    assert_int_equal(count_tasks(f, "device_id = 1 AND state = 'cancelled' AND dedupe IS NULL"), 1);
    /* silent again: a new task; claimed, it stays when the device is heard from */
    tick(f, now + 7 * HOUR_MS);
    assert_int_equal(count_tasks(f, "device_id = 1"), 2);
    assert_int_equal(count_tasks(f, "device_id = 1 AND state = 'open'"), 1);
    int64_t again = sql_intf(f, "SELECT id FROM tasks WHERE device_id = 1 AND state = 'open'");
    json_t *out;
    assert_ok(tasks_claim(&f->d, &f->op1, again, &out, &f->err), &f->err);
    json_decref(out);
    sqlf(f, "UPDATE devices SET last_seen_at = %lld WHERE id = 1", (long long)(now + 8 * HOUR_MS));
    tick(f, now + 8 * HOUR_MS);
    assert_int_equal(count_tasks(f, "device_id = 1 AND state = 'claimed'"), 1);
    /* an ended subscription, or the watchdog off: nothing more */
    sql_exec(f->d.store, "UPDATE tasks SET state = 'done', dedupe = NULL");
    care_set_silent_limit(&f->d, 0);
    tick(f, now + 20 * HOUR_MS);
    assert_int_equal(count_tasks(f, "state = 'open'"), 0);
    care_set_silent_limit(&f->d, 3600);
    sqlf(f, "UPDATE subscriptions SET ends_at = %lld WHERE device_id = 2",
         (long long)(now + 10 * HOUR_MS));
    tick(f, now + 20 * HOUR_MS);
    assert_int_equal(count_tasks(f, "state = 'open'"), 1);
    assert_int_equal(count_tasks(f, "state = 'open' AND device_id = 1"), 1);
}

/* ---- the figures ---- */

static void insert_call(struct fixture *f, const char *community, const char *category,
                        int64_t created, int64_t answer_ms, int64_t operator_id, int64_t handle_ms,
                        const char *state)
{
    char cat[48], answered[32], op[32], closed[32];
    snprintf(cat, sizeof cat, category ? "'%s'" : "NULL", category);
    snprintf(answered, sizeof answered, answer_ms >= 0 ? "%lld" : "NULL",
             (long long)(created + answer_ms));
    snprintf(op, sizeof op, operator_id ? "%lld" : "NULL", (long long)operator_id);
    snprintf(closed, sizeof closed, handle_ms >= 0 ? "%lld" : "NULL",
             (long long)(created + answer_ms + handle_ms));
    sqlf(f,
         "INSERT INTO calls (community_code, trigger, state, category, operator_id, created_at,"
         " answered_at, closed_at, updated_at) VALUES ('%s', 'health', '%s', %s, %s, %lld, %s,"
         " %s, 0)",
         community, state, cat, op, (long long)created, answered, closed);
}

static void the_report_matches_a_hand_computation(void **state)
{
    struct fixture *f = *state;
    const int64_t from = 1790000000000LL, to = from + 10 * 86400000LL, s = 1000;
    /* ten answered calls in Jianwai, by two operators (answer time s, handling s) */
    insert_call(f, C1, "health_consultation", from + 1 * HOUR_MS, 5 * s, 10, 100 * s, "closed");
    insert_call(f, C1, "health_consultation", from + 2 * HOUR_MS, 10 * s, 11, 200 * s, "closed");
    insert_call(f, C1, "convenience_service", from + 3 * HOUR_MS, 15 * s, 10, 300 * s, "closed");
    insert_call(f, C2, "convenience_service", from + 4 * HOUR_MS, 20 * s, 11, -1, "answered");
    insert_call(f, C1, "emergency", from + 5 * HOUR_MS, 30 * s, 10, 500 * s, "closed");
    insert_call(f, C1, "family", from + 6 * HOUR_MS, 45 * s, 11, 60 * s, "closed");
    insert_call(f, C2, "false_alarm", from + 7 * HOUR_MS, 60 * s, 10, 20 * s, "closed");
    insert_call(f, C1, "health_consultation", from + 8 * HOUR_MS, 61 * s, 11, 40 * s, "closed");
    insert_call(f, C1, NULL, from + 9 * HOUR_MS, 120 * s, 10, -1, "answered");
    insert_call(f, C2, "fire", from + 10 * HOUR_MS, 200 * s, 11, 100 * s, "closed");
    /* two abandoned, one still waiting */
    insert_call(f, C1, NULL, from + 11 * HOUR_MS, -1, 0, -1, "abandoned");
    insert_call(f, C2, NULL, from + 12 * HOUR_MS, -1, 0, -1, "abandoned");
    insert_call(f, C1, NULL, to - 1, -1, 0, -1, "queued");
    /* outside the window or the area */
    insert_call(f, C1, "health_consultation", from - 1, 1 * s, 10, 1 * s, "closed");
    insert_call(f, C1, "health_consultation", to, 1 * s, 10, 1 * s, "closed");
    insert_call(f, C4, "health_consultation", from + HOUR_MS, 300 * s, 12, 1 * s, "closed");
    /* subscribers in force at `to`: person 1 (twice: counted once), not person 3 (ended) */
    subscribe(f, 1, 1, from - 1);
    subscribe(f, 2, 1, from);
    sqlf(f,
         "INSERT INTO subscriptions (device_id, person_id, starts_at, ends_at, created_at,"
         " updated_at) VALUES (1, 3, 0, %lld, 0, 0), (2, 2, 0, NULL, 0, 0)",
         (long long)to);
    /* tasks done in the window: op1 a weekly call and a silent device, op2 a missed check-in */
    sqlf(f,
         "INSERT INTO tasks (kind, priority, state, person_id, community_code, due_at,"
         " operator_id, created_at, done_at, updated_at) VALUES"
         " ('weekly_call', 1, 'done', 1, '%s', 0, 10, 0, %lld, 0),"
         " ('device_silent', 2, 'done', 1, '%s', 0, 10, 0, %lld, 0),"
         " ('missed_checkin', 0, 'done', 3, '%s', 0, 11, 0, %lld, 0),"
         " ('weekly_call', 1, 'failed', 3, '%s', 0, 11, 0, %lld, 0),"
         " ('weekly_call', 1, 'done', 3, '%s', 0, 11, 0, %lld, 0),"
         " ('weekly_call', 1, 'done', 2, '%s', 0, 12, 0, %lld, 0)",
         C1, (long long)(from + 1), C1, (long long)(from + 2), C2, (long long)(from + 3), C2,
         (long long)(from + 4), C2, (long long)(to + 1), C4, (long long)(from + 5));

    json_t *r = NULL;
    linli_err_clear(&f->err);
    assert_ok(hotline_report(&f->d, &f->admin, from, to, JIANWAI, &r, &f->err), &f->err);
    assert_string_equal(jstr(r, "area"), JIANWAI);
    assert_int_equal(jint(r, "subscribers"), 1);
    json_t *calls = json_object_get(r, "calls");
    assert_int_equal(jint(calls, "total"), 13);
    assert_int_equal(jint(calls, "answered"), 10);
    assert_int_equal(jint(calls, "abandoned"), 2);
    assert_int_equal(jint(r, "abandoned"), 2);
    json_t *by = json_object_get(calls, "by_category");
    assert_int_equal(jint(by, "health_consultation"), 3);
    assert_int_equal(jint(by, "convenience_service"), 2);
    assert_int_equal(jint(by, "emergency"), 1);
    assert_int_equal(jint(by, "fire"), 1);
    assert_int_equal(jint(by, "family"), 1);
    assert_int_equal(jint(by, "false_alarm"), 1);
    assert_int_equal(jint(by, "other"), 0);
    assert_int_equal(jint(by, "unclassified"), 4);
    /* sorted answer times: 5 10 15 20 30 45 60 61 120 200; nearest rank of 10 */
    json_t *at_ = json_object_get(r, "answer_time_s");
    assert_near(json_real_value(json_object_get(at_, "p50")), 30);  /* rank 5 */
    assert_near(json_real_value(json_object_get(at_, "p90")), 120); /* rank 9 */
    assert_near(json_real_value(json_object_get(at_, "p99")), 200); /* rank 10 */
    assert_int_equal(jint(at_, "calls"), 10);
    assert_near(json_real_value(json_object_get(r, "answered_within_60s")), 7.0 / 12.0);
    assert_near(json_real_value(json_object_get(r, "answered_within_180s")), 9.0 / 12.0);
    /* proactive: op1's weekly call and op2's missed check-in; not the maintenance task, not the
     * failed one, not the one done after `to`, not the one in Chaowai */
    assert_int_equal(jint(r, "proactive_services_done"), 2);
    json_t *ops = json_object_get(r, "operators");
    assert_int_equal(json_array_size(ops), 2);
    json_t *o1 = json_array_get(ops, 0), *o2 = json_array_get(ops, 1);
    assert_string_equal(jstr(o1, "username"), "op1");
    assert_int_equal(jint(o1, "calls_answered"), 5); /* 5 15 30 60 120 */
    assert_near(json_real_value(json_object_get(o1, "median_answer_s")), 30);
    assert_near(json_real_value(json_object_get(o1, "mean_handling_s")), 920.0 / 4.0);
    assert_int_equal(jint(o1, "tasks_done"), 2);
    assert_string_equal(jstr(o2, "username"), "op2");
    assert_int_equal(jint(o2, "calls_answered"), 5); /* 10 20 45 61 200 */
    assert_near(json_real_value(json_object_get(o2, "median_answer_s")), 45);
    assert_near(json_real_value(json_object_get(o2, "mean_handling_s")), 400.0 / 4.0);
    assert_int_equal(jint(o2, "tasks_done"), 1);
    json_decref(r);

    /* one community: C1 only */
    assert_ok(hotline_report(&f->d, &f->admin, from, to, C1, &r, &f->err), &f->err);
    assert_int_equal(jint(json_object_get(r, "calls"), "total"), 9);
    /* C1 answer times: 5 10 15 30 45 61 120 -> p50 rank 4 = 30 */
    assert_near(json_real_value(json_object_get(json_object_get(r, "answer_time_s"), "p50")), 30);
    json_decref(r);
    /* the whole district for the admin without an area */
    assert_ok(hotline_report(&f->d, &f->admin, from, to, NULL, &r, &f->err), &f->err);
    assert_int_equal(jint(json_object_get(r, "calls"), "total"), 14);
    assert_int_equal(jint(r, "subscribers"), 2);
    assert_int_equal(json_array_size(json_object_get(r, "operators")), 3);
    assert_true(json_is_null(json_object_get(r, "area")));
    json_decref(r);
    /* scoped staff: their own area by default; others' refused */
    assert_ok(hotline_report(&f->d, &f->community4, from, to, NULL, &r, &f->err), &f->err);
    assert_int_equal(jint(json_object_get(r, "calls"), "total"), 1);
    assert_int_equal(jint(r, "proactive_services_done"), 1);
    json_decref(r);
    assert_int_equal(hotline_report(&f->d, &f->community4, from, to, C1, &r, &f->err),
                     LINLI_EFORBIDDEN);
    /* an empty window has no percentiles */
    assert_ok(
        hotline_report(&f->d, &f->auditor, to + 86400000LL, to + 2 * 86400000LL, NULL, &r, &f->err),
        &f->err);
    assert_true(json_is_null(json_object_get(json_object_get(r, "answer_time_s"), "p50")));
    assert_true(json_is_null(json_object_get(r, "answered_within_60s")));
    json_decref(r);
}

static void the_report_refuses_bad_windows_and_areas(void **state)
{
    struct fixture *f = *state;
    json_t *r = NULL;
    const int64_t t = 1790000000000LL;
    linli_err_clear(&f->err);
    assert_int_equal(hotline_report(&f->d, &f->admin, t, t, NULL, &r, &f->err), LINLI_EINVAL);
    assert_field_error(&f->err, "to", "after from");
    linli_err_clear(&f->err);
    assert_int_equal(hotline_report(&f->d, &f->admin, t - 367 * 86400000LL, t, NULL, &r, &f->err),
                     LINLI_EINVAL);
    assert_field_error(&f->err, "from", "366 days");
    assert_ok(hotline_report(&f->d, &f->admin, t - 366 * 86400000LL, t, NULL, &r, &f->err),
              &f->err);
    json_decref(r);
    linli_err_clear(&f->err);
    assert_int_equal(hotline_report(&f->d, &f->admin, t - 1, t, "12", &r, &f->err), LINLI_EINVAL);
    assert_field_error(&f->err, "area", "");
    struct principal resident = as_user(20, ROLE_RESIDENT, NULL, "r");
    assert_int_equal(hotline_report(&f->d, &resident, t - 1, t, NULL, &r, &f->err),
                     LINLI_EFORBIDDEN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kinds_have_priorities_and_names),
        cmocka_unit_test(calendar_is_shanghai_local),
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(a_dedupe_key_holds_while_open_and_is_released_when_finished),
        T(a_task_takes_its_persons_community_and_is_announced),
        T(claiming_and_finishing_follow_the_rules),
        T(the_list_is_scoped_most_urgent_first_and_pages),
        T(a_plan_is_checked_field_by_field),
        T(a_daily_checkin_needs_a_device_and_a_birthday_a_birth_date),
        T(plans_are_made_by_staff_in_scope_and_changed),
        T(plans_are_imported_in_batches_each_row_checked),
        T(a_weekly_call_comes_once_on_its_weekday_at_its_time),
        T(a_missed_checkin_makes_an_urgent_task_after_the_grace),
        T(the_tick_catches_up_at_most_one_day),
        T(discharge_calls_come_on_days_1_3_and_7),
        T(a_29_february_birthday_is_kept_on_28_february_in_other_years),
        T(a_silent_device_gets_one_task_until_heard_again),
        T(the_report_matches_a_hand_computation),
        T(the_report_refuses_bad_windows_and_areas),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
