/* test_users.c - accounts: validation, permissions, idempotent creation,
 * changes and their audit trail (src/domain/users.c, idem.c, audit.c), on a
 * real store in a temporary directory. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "support.h"

#include "base/bus.h"
#include "base/log.h"
#include "base/status.h"
#include "domain/audit.h"
#include "domain/auth.h"
#include "domain/idem.h"
#include "domain/users.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ADMIN_PASSWORD "correct horse battery"
#define ROUTE          "POST /api/v1/users"

#define CHAOYANG "110105"
#define JIANWAI  "110105001"
#define NAN_LJY  "110105001024"

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
    if (make_temp_dir("users", f->dir, sizeof f->dir, "linli.db", f->db, sizeof f->db))
        return -1;
    linli_err_clear(&f->err);
    struct auth_options ao;
    fast_auth_options(&ao);
    if (open_domain(&f->d, f->db, &ao, &f->err))
        return -1;
    bool created;
    if (admin_principal(&f->d, ADMIN_PASSWORD, &created, &f->admin, &f->err))
        return -1;
    snprintf(f->admin.request_id, sizeof f->admin.request_id, "req-42");
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    close_domain(&f->d);
    remove_tree(f->dir);
    free(f);
    return 0;
}

/* ---- helpers ---- */

static int64_t user_rows(struct fixture *f)
{
    return sql_int(f->d.store, "SELECT count(*) FROM users", NULL);
}

static int64_t audit_rows(struct fixture *f)
{
    return sql_int(f->d.store, "SELECT count(*) FROM audit_log", NULL);
}

static int create(struct fixture *f, const struct principal *who, const char *name,
                  const char *role, const char *scope, const char *password, struct user *out)
{
    struct user_new in = {.username = name, .role = role, .scope = scope, .password = password};
    linli_err_clear(&f->err);
    return users_create(&f->d, who, &in, NULL, out, NULL, &f->err);
}

static int64_t create_ok(struct fixture *f, const char *name, const char *role, const char *scope)
{
    struct user u;
    int rc = create(f, &f->admin, name, role, scope, "a good password", &u);
    if (rc)
        fail_msg("create %s: %d %s", name, rc, f->err.detail);
    return u.id;
}

/* The create is refused with EINVAL and a field error on `field` saying `text`. */
static void create_invalid(struct fixture *f, const char *name, const char *role, const char *scope,
                           const char *password, const char *field, const char *text)
{
    struct user u;
    int64_t before = user_rows(f);
    int rc = create(f, &f->admin, name, role, scope, password, &u);
    if (rc != LINLI_EINVAL)
        fail_msg("create %s/%s/%s: expected EINVAL, got %d (%s)", name, role, scope ? scope : "-",
                 rc, f->err.detail);
    assert_int_equal(f->err.status, LINLI_EINVAL);
    assert_field_error(&f->err, field, text);
    assert_int_equal(user_rows(f), before);
}

static struct principal as_user(int64_t id, const char *name, enum role role, const char *scope)
{
    struct principal p;
    memset(&p, 0, sizeof p);
    p.user_id = id;
    p.role = role;
    snprintf(p.username, sizeof p.username, "%s", name);
    snprintf(p.scope, sizeof p.scope, "%s", scope ? scope : "");
    snprintf(p.ip, sizeof p.ip, "10.0.0.5");
    return p;
}

/* ---- validation ---- */

static void users_check_username_accepts_lowercase_digits_dot_underscore_dash(void **state)
{
    (void)state;
    const char *good[] = {"abc",  "wang.fang", "li_wei-2",
                          "0day", "a.b",       "abcdefghijklmnopqrstuvwxyz012345"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        struct linli_err err;
        linli_err_clear(&err);
        if (users_check_username(good[i], &err) != LINLI_OK)
            fail_msg("\"%s\" refused: %s", good[i], err.nfields ? err.fields[0].message : "");
    }
}

static void users_check_username_refuses_bad_length(void **state)
{
    (void)state;
    const char *bad[] = {"", "a", "ab", "abcdefghijklmnopqrstuvwxyz0123456"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct linli_err err;
        linli_err_clear(&err);
        assert_int_equal(users_check_username(bad[i], &err), LINLI_EINVAL);
        assert_field_error(&err, "username", "3 to 32");
    }
}

static void users_check_username_refuses_bad_characters(void **state)
{
    (void)state;
    struct linli_err err;
    linli_err_clear(&err);
    assert_int_equal(users_check_username("Wang", &err), LINLI_EINVAL);
    assert_field_error(&err, "username", "start with a lowercase letter or a digit");
    linli_err_clear(&err);
    assert_int_equal(users_check_username(".wang", &err), LINLI_EINVAL);
    assert_field_error(&err, "username", "start with");
    const char *bad[] = {"wang fang", "wangFang", "wang@fang", "wang/fang", "王芳芳", "wang\tf"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        linli_err_clear(&err);
        if (users_check_username(bad[i], &err) != LINLI_EINVAL)
            fail_msg("\"%s\" accepted", bad[i]);
        assert_int_equal(err.nfields, 1);
        assert_string_equal(err.fields[0].field, "username");
    }
}

static void users_check_password_counts_characters_not_bytes(void **state)
{
    (void)state;
    struct linli_err err;
    linli_err_clear(&err);
    assert_int_equal(users_check_password("1234567", &err), LINLI_EINVAL);
    assert_field_error(&err, "password", "at least 8 characters");
    linli_err_clear(&err);
    assert_int_equal(users_check_password("12345678", &err), LINLI_OK);
    /* seven Chinese characters are 21 bytes but still seven characters */
    linli_err_clear(&err);
    assert_int_equal(users_check_password("王芳的密码很", &err), LINLI_EINVAL);
    linli_err_clear(&err);
    assert_int_equal(users_check_password("王芳的密码很长长", &err), LINLI_OK);
}

static void users_check_password_refuses_more_than_128_bytes(void **state)
{
    (void)state;
    char pw[200];
    memset(pw, 'x', 128);
    pw[128] = '\0';
    struct linli_err err;
    linli_err_clear(&err);
    assert_int_equal(users_check_password(pw, &err), LINLI_OK);
    pw[128] = 'x';
    pw[129] = '\0';
    assert_int_equal(users_check_password(pw, &err), LINLI_EINVAL);
    assert_field_error(&err, "password", "at most 128 bytes");
}

static void users_create_refuses_invalid_username_and_password(void **state)
{
    struct fixture *f = *state;
    create_invalid(f, "Wang", "resident", NULL, "a good password", "username", "lowercase");
    create_invalid(f, "wa", "resident", NULL, "a good password", "username", "3 to 32");
    create_invalid(f, NULL, "resident", NULL, "a good password", "username", "required");
    create_invalid(f, "wang.fang", "resident", NULL, "short", "password", "at least 8");
}

static void users_create_refuses_a_display_name_over_64_characters(void **state)
{
    struct fixture *f = *state;
    char name[65 * 3 + 1] = "";
    for (int i = 0; i < 65; i++)
        strcat(name, "王");
    struct user_new in = {.username = "wang.fang",
                          .display_name = name,
                          .role = "resident",
                          .password = "a good password"};
    struct user u;
    linli_err_clear(&f->err);
    assert_int_equal(users_create(&f->d, &f->admin, &in, NULL, &u, NULL, &f->err), LINLI_EINVAL);
    assert_field_error(&f->err, "display_name", "64");
    /* exactly 64 characters is fine, and kept whole */
    name[64 * 3] = '\0';
    linli_err_clear(&f->err);
    assert_ok(users_create(&f->d, &f->admin, &in, NULL, &u, NULL, &f->err), &f->err);
    assert_string_equal(u.display_name, name);
}

static void users_create_refuses_an_unknown_role(void **state)
{
    struct fixture *f = *state;
    create_invalid(f, "wang.fang", "superuser", NULL, "a good password", "role", "must be one of");
    create_invalid(f, "wang.fang", NULL, NULL, "a good password", "role", "must be one of");
}

static void users_create_community_role_needs_a_community_code(void **state)
{
    struct fixture *f = *state;
    create_invalid(f, "cw1", "community", NULL, "a good password", "scope", "needs an area scope");
    create_invalid(f, "cw1", "community", CHAOYANG, "a good password", "scope", "community code");
    create_invalid(f, "cw1", "community", JIANWAI, "a good password", "scope", "community code");
    create_invalid(f, "cw1", "community", "11010500102", "a good password", "scope", "6, 9 or 12");
    struct user u;
    assert_ok(create(f, &f->admin, "cw1", "community", NAN_LJY, "a good password", &u), &f->err);
    assert_string_equal(u.scope, NAN_LJY);
    assert_int_equal(u.role, ROLE_COMMUNITY);
}

static void users_create_street_and_district_roles_need_their_own_level(void **state)
{
    struct fixture *f = *state;
    create_invalid(f, "st1", "street", CHAOYANG, "a good password", "scope", "street code");
    create_invalid(f, "st1", "street", NAN_LJY, "a good password", "scope", "street code");
    create_invalid(f, "di1", "district", JIANWAI, "a good password", "scope", "district code");
    struct user u;
    assert_ok(create(f, &f->admin, "st1", "street", JIANWAI, "a good password", &u), &f->err);
    assert_string_equal(u.scope, "110105001000"); /* stored as 12 digits */
    assert_ok(create(f, &f->admin, "di1", "district", CHAOYANG, "a good password", &u), &f->err);
    assert_string_equal(u.scope, "110105000000");
}

static void users_create_admin_must_not_have_a_scope(void **state)
{
    struct fixture *f = *state;
    create_invalid(f, "admin2", "admin", CHAOYANG, "a good password", "scope", "no scope");
    struct user u;
    assert_ok(create(f, &f->admin, "admin2", "admin", NULL, "a good password", &u), &f->err);
    assert_string_equal(u.scope, "");
}

static void users_create_operator_and_auditor_need_a_scope_of_any_level(void **state)
{
    struct fixture *f = *state;
    create_invalid(f, "op1", "operator", NULL, "a good password", "scope", "needs an area scope");
    create_invalid(f, "au1", "auditor", NULL, "a good password", "scope", "needs an area scope");
    create_invalid(f, "op1", "operator", "abc", "a good password", "scope", "6, 9 or 12");
    struct user u;
    assert_ok(create(f, &f->admin, "op1", "operator", CHAOYANG, "a good password", &u), &f->err);
    assert_ok(create(f, &f->admin, "op2", "operator", JIANWAI, "a good password", &u), &f->err);
    assert_ok(create(f, &f->admin, "op3", "operator", NAN_LJY, "a good password", &u), &f->err);
    assert_ok(create(f, &f->admin, "au1", "auditor", CHAOYANG, "a good password", &u), &f->err);
}

static void users_create_reports_every_invalid_field_at_once(void **state)
{
    struct fixture *f = *state;
    struct user u;
    assert_int_equal(create(f, &f->admin, "X", "superuser", NULL, "short", &u), LINLI_EINVAL);
    assert_int_equal(f->err.nfields, 3);
    assert_non_null(field_error(&f->err, "username"));
    assert_non_null(field_error(&f->err, "role"));
    assert_non_null(field_error(&f->err, "password"));
}

static void users_create_stores_the_account(void **state)
{
    struct fixture *f = *state;
    struct user_new in = {.username = "wang.fang",
                          .display_name = "王芳",
                          .role = "resident",
                          .password = "a good password"};
    struct user u;
    linli_err_clear(&f->err);
    bool replayed = true;
    assert_ok(users_create(&f->d, &f->admin, &in, NULL, &u, &replayed, &f->err), &f->err);
    assert_false(replayed);
    assert_true(u.id > 0);
    assert_string_equal(u.username, "wang.fang");
    assert_string_equal(u.display_name, "王芳");
    assert_int_equal(u.role, ROLE_RESIDENT);
    assert_string_equal(u.scope, "");
    assert_true(u.has_password);
    assert_false(u.disabled);
    assert_true(u.created_at > 0);
    assert_int_equal(u.created_at, u.updated_at);
    struct user again;
    linli_err_clear(&f->err);
    assert_ok(users_get(&f->d, &f->admin, u.id, &again, &f->err), &f->err);
    assert_memory_equal(&again, &u, sizeof u);
}

static void users_create_without_password_makes_an_account_that_cannot_log_in(void **state)
{
    struct fixture *f = *state;
    struct user u;
    assert_ok(create(f, &f->admin, "nopass", "resident", NULL, NULL, &u), &f->err);
    assert_false(u.has_password);
    struct login_result r;
    linli_err_clear(&f->err);
    assert_int_equal(auth_login(&f->d, "nopass", "", "127.0.0.1", NULL, &r, &f->err),
                     LINLI_EUNAUTH);
}

/* ---- permissions ---- */

static void users_create_by_a_non_admin_is_forbidden(void **state)
{
    struct fixture *f = *state;
    const enum role roles[] = {ROLE_DISTRICT, ROLE_STREET,    ROLE_COMMUNITY, ROLE_OPERATOR,
                               ROLE_PROVIDER, ROLE_VOLUNTEER, ROLE_RESIDENT,  ROLE_AUDITOR};
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++) {
        struct principal p = as_user(99, "someone", roles[i], "110105000000");
        struct user u;
        assert_int_equal(create(f, &p, "wang.fang", "resident", NULL, "a good password", &u),
                         LINLI_EFORBIDDEN);
        assert_int_equal(f->err.status, LINLI_EFORBIDDEN);
        /* forbidden comes before validation: even a bad request learns nothing more */
        assert_int_equal(create(f, &p, "X", "bogus", NULL, "x", &u), LINLI_EFORBIDDEN);
        assert_int_equal(f->err.nfields, 0);
    }
    assert_int_equal(user_rows(f), 1);
}

static void users_update_by_a_non_admin_is_forbidden(void **state)
{
    struct fixture *f = *state;
    int64_t id = create_ok(f, "wang.fang", "resident", NULL);
    const enum role roles[] = {ROLE_DISTRICT, ROLE_STREET,    ROLE_COMMUNITY, ROLE_OPERATOR,
                               ROLE_PROVIDER, ROLE_VOLUNTEER, ROLE_RESIDENT,  ROLE_AUDITOR};
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++) {
        struct principal p = as_user(id, "wang.fang", roles[i], "110105000000");
        struct user_patch patch = {.set_display_name = true, .display_name = "hacked"};
        struct user u;
        linli_err_clear(&f->err);
        /* not even on one's own account */
        assert_int_equal(users_update(&f->d, &p, id, &patch, &u, &f->err), LINLI_EFORBIDDEN);
    }
    char name[64];
    sql_text(f->d.store, "SELECT display_name FROM users WHERE username = 'wang.fang'", NULL, name,
             sizeof name);
    assert_string_equal(name, "");
}

static void users_get_shows_others_only_to_admin_and_auditor(void **state)
{
    struct fixture *f = *state;
    int64_t a = create_ok(f, "wang.fang", "resident", NULL);
    int64_t b = create_ok(f, "li.wei", "resident", NULL);
    struct principal pa = as_user(a, "wang.fang", ROLE_RESIDENT, NULL);
    struct user u;
    linli_err_clear(&f->err);
    assert_ok(users_get(&f->d, &pa, a, &u, &f->err), &f->err);
    assert_string_equal(u.username, "wang.fang");
    assert_int_equal(users_get(&f->d, &pa, b, &u, &f->err), LINLI_ENOTFOUND);
    assert_int_equal(users_get_by_name(&f->d, &pa, "li.wei", &u, &f->err), LINLI_ENOTFOUND);
    struct principal auditor = as_user(0, "aud", ROLE_AUDITOR, "110105000000");
    linli_err_clear(&f->err);
    assert_ok(users_get(&f->d, &auditor, b, &u, &f->err), &f->err);
    assert_string_equal(u.username, "li.wei");
    assert_int_equal(users_get(&f->d, &f->admin, 424242, &u, &f->err), LINLI_ENOTFOUND);
}

static void users_list_pages_by_id_and_filters_by_role(void **state)
{
    struct fixture *f = *state;
    create_ok(f, "res1", "resident", NULL);
    create_ok(f, "vol1", "volunteer", NULL);
    create_ok(f, "res2", "resident", NULL);
    create_ok(f, "res3", "resident", NULL);
    struct user_filter flt = {.role = "resident", .after_id = 0, .limit = 2};
    struct user *items = NULL;
    int n = 0;
    int64_t next = 0;
    linli_err_clear(&f->err);
    assert_ok(users_list(&f->d, &f->admin, &flt, &items, &n, &next, &f->err), &f->err);
    assert_int_equal(n, 2);
    assert_string_equal(items[0].username, "res1");
    assert_string_equal(items[1].username, "res2");
    assert_int_equal(next, items[1].id);
    free(items);
    flt.after_id = next;
    assert_ok(users_list(&f->d, &f->admin, &flt, &items, &n, &next, &f->err), &f->err);
    assert_int_equal(n, 1);
    assert_string_equal(items[0].username, "res3");
    assert_int_equal(next, 0);
    free(items);

    struct principal resident = as_user(2, "res1", ROLE_RESIDENT, NULL);
    assert_int_equal(users_list(&f->d, &resident, &flt, &items, &n, &next, &f->err),
                     LINLI_EFORBIDDEN);
    flt.limit = 0;
    linli_err_clear(&f->err);
    assert_int_equal(users_list(&f->d, &f->admin, &flt, &items, &n, &next, &f->err), LINLI_EINVAL);
    flt.limit = 10;
    flt.role = "wizard";
    linli_err_clear(&f->err);
    assert_int_equal(users_list(&f->d, &f->admin, &flt, &items, &n, &next, &f->err), LINLI_EINVAL);
}

/* ---- conflicts and idempotency ---- */

static void users_create_duplicate_username_is_conflict(void **state)
{
    struct fixture *f = *state;
    create_ok(f, "wang.fang", "resident", NULL);
    int64_t audits = audit_rows(f);
    struct user u;
    assert_int_equal(create(f, &f->admin, "wang.fang", "volunteer", NULL, "another password", &u),
                     LINLI_ECONFLICT);
    assert_int_equal(f->err.status, LINLI_ECONFLICT);
    assert_field_error(&f->err, "username", "taken");
    assert_int_equal(user_rows(f), 2);
    assert_int_equal(audit_rows(f), audits);
    assert_int_equal(create(f, &f->admin, "admin", "admin", NULL, "another password", &u),
                     LINLI_ECONFLICT);
}

static void prepare_idem(struct idem_req *r, const char *key, int64_t user_id, const char *body)
{
    struct linli_err err;
    linli_err_clear(&err);
    if (idem_prepare(r, key, user_id, ROUTE, body, strlen(body), &err))
        fail_msg("idem_prepare: %s", err.detail);
}

static void users_create_with_the_same_idempotency_key_replays_the_first_result(void **state)
{
    struct fixture *f = *state;
    const char *body = "{\"username\":\"wang.fang\",\"role\":\"resident\"}";
    struct idem_req r;
    prepare_idem(&r, "key-0001", f->admin.user_id, body);
    struct user_new in = {
        .username = "wang.fang", .role = "resident", .password = "a good password"};
    struct user first, second, third;
    bool replayed = true;
    linli_err_clear(&f->err);
    assert_ok(users_create(&f->d, &f->admin, &in, &r, &first, &replayed, &f->err), &f->err);
    assert_false(replayed);
    int64_t audits = audit_rows(f);

    prepare_idem(&r, "key-0001", f->admin.user_id, body);
    linli_err_clear(&f->err);
    assert_ok(users_create(&f->d, &f->admin, &in, &r, &second, &replayed, &f->err), &f->err);
    assert_true(replayed);
    assert_int_equal(second.id, first.id);
    assert_string_equal(second.username, "wang.fang");
    linli_err_clear(&f->err);
    assert_ok(users_create(&f->d, &f->admin, &in, &r, &third, &replayed, &f->err), &f->err);
    assert_true(replayed);
    assert_int_equal(third.id, first.id);

    assert_int_equal(
        sql_int(f->d.store, "SELECT count(*) FROM users WHERE username = 'wang.fang'", NULL), 1);
    assert_int_equal(user_rows(f), 2);
    assert_int_equal(audit_rows(f), audits); /* a replay creates nothing and audits nothing */
    assert_int_equal(sql_int(f->d.store, "SELECT count(*) FROM idempotency_keys", NULL), 1);
}

static void users_create_with_the_same_key_and_a_different_body_is_conflict(void **state)
{
    struct fixture *f = *state;
    struct idem_req r;
    prepare_idem(&r, "key-0002", f->admin.user_id, "{\"username\":\"wang.fang\"}");
    struct user_new in = {
        .username = "wang.fang", .role = "resident", .password = "a good password"};
    struct user u;
    linli_err_clear(&f->err);
    assert_ok(users_create(&f->d, &f->admin, &in, &r, &u, NULL, &f->err), &f->err);

    prepare_idem(&r, "key-0002", f->admin.user_id, "{\"username\":\"li.wei\"}");
    struct user_new other = {
        .username = "li.wei", .role = "resident", .password = "a good password"};
    linli_err_clear(&f->err);
    assert_int_equal(users_create(&f->d, &f->admin, &other, &r, &u, NULL, &f->err),
                     LINLI_ECONFLICT);
    assert_contains(f->err.detail, "Idempotency-Key");
    assert_int_equal(
        sql_int(f->d.store, "SELECT count(*) FROM users WHERE username = 'li.wei'", NULL), 0);
}

static void users_create_idempotency_keys_are_per_user(void **state)
{
    struct fixture *f = *state;
    struct user u;
    assert_ok(create(f, &f->admin, "admin2", "admin", NULL, "a good password", &u), &f->err);
    struct principal admin2 = as_user(u.id, "admin2", ROLE_ADMIN, NULL);

    struct idem_req r;
    prepare_idem(&r, "same-key", f->admin.user_id, "{\"username\":\"wang.fang\"}");
    struct user_new a = {.username = "wang.fang", .role = "resident"};
    struct user ua, ub;
    linli_err_clear(&f->err);
    assert_ok(users_create(&f->d, &f->admin, &a, &r, &ua, NULL, &f->err), &f->err);

    prepare_idem(&r, "same-key", admin2.user_id, "{\"username\":\"li.wei\"}");
    struct user_new b = {.username = "li.wei", .role = "resident"};
    bool replayed = true;
    linli_err_clear(&f->err);
    assert_ok(users_create(&f->d, &admin2, &b, &r, &ub, &replayed, &f->err), &f->err);
    assert_false(replayed);
    assert_int_not_equal(ua.id, ub.id);
}

static void users_create_that_fails_records_no_idempotency_key(void **state)
{
    struct fixture *f = *state;
    create_ok(f, "wang.fang", "resident", NULL);
    const char *body = "{\"username\":\"wang.fang\"}";
    struct idem_req r;
    prepare_idem(&r, "key-0003", f->admin.user_id, body);
    struct user_new in = {.username = "wang.fang", .role = "resident"};
    struct user u;
    linli_err_clear(&f->err);
    assert_int_equal(users_create(&f->d, &f->admin, &in, &r, &u, NULL, &f->err), LINLI_ECONFLICT);
    /* nothing was recorded for the key: the failure is not replayed as a success */
    assert_int_equal(sql_int(f->d.store, "SELECT count(*) FROM idempotency_keys", NULL), 0);
}

static void idem_prepare_refuses_bad_keys(void **state)
{
    (void)state;
    struct idem_req r;
    char longkey[300];
    memset(longkey, 'k', 256);
    longkey[256] = '\0';
    const char *bad[] = {"", "has space", "tab\there", "ünï", longkey};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct linli_err err;
        linli_err_clear(&err);
        if (idem_prepare(&r, bad[i], 1, ROUTE, "{}", 2, &err) != LINLI_EINVAL)
            fail_msg("key \"%s\" accepted", bad[i]);
        assert_field_error(&err, "Idempotency-Key", "");
    }
    longkey[255] = '\0';
    struct linli_err err;
    linli_err_clear(&err);
    assert_int_equal(idem_prepare(&r, longkey, 1, ROUTE, "{}", 2, &err), LINLI_OK);
    assert_int_equal(strlen(r.hash), 64);
}

/* ---- updates ---- */

static void users_update_changes_role_and_scope_together(void **state)
{
    struct fixture *f = *state;
    int64_t id = create_ok(f, "cw1", "community", NAN_LJY);
    struct user_patch patch = {
        .set_role = true, .role = "street", .set_scope = true, .scope = JIANWAI};
    struct user u;
    linli_err_clear(&f->err);
    assert_ok(users_update(&f->d, &f->admin, id, &patch, &u, &f->err), &f->err);
    assert_int_equal(u.role, ROLE_STREET);
    assert_string_equal(u.scope, "110105001000");
}

static void users_update_keeps_role_and_scope_consistent(void **state)
{
    struct fixture *f = *state;
    int64_t id = create_ok(f, "cw1", "community", NAN_LJY);
    struct user u;
    /* a street role with the community's scope left in place */
    struct user_patch role_only = {.set_role = true, .role = "street"};
    linli_err_clear(&f->err);
    assert_int_equal(users_update(&f->d, &f->admin, id, &role_only, &u, &f->err), LINLI_EINVAL);
    assert_field_error(&f->err, "scope", "street code");
    /* removing the scope of a community account */
    struct user_patch no_scope = {.set_scope = true, .scope = NULL};
    linli_err_clear(&f->err);
    assert_int_equal(users_update(&f->d, &f->admin, id, &no_scope, &u, &f->err), LINLI_EINVAL);
    assert_field_error(&f->err, "scope", "needs an area scope");
    struct user_patch bad_scope = {.set_scope = true, .scope = "12ab"};
    linli_err_clear(&f->err);
    assert_int_equal(users_update(&f->d, &f->admin, id, &bad_scope, &u, &f->err), LINLI_EINVAL);
    struct user_patch bad_role = {.set_role = true, .role = "wizard"};
    linli_err_clear(&f->err);
    assert_int_equal(users_update(&f->d, &f->admin, id, &bad_role, &u, &f->err), LINLI_EINVAL);
    char role[32];
    sql_text(f->d.store, "SELECT role || ':' || scope FROM users WHERE username = 'cw1'", NULL,
             role, sizeof role);
    assert_string_equal(role, "community:110105001024");
}

static void users_update_of_a_missing_user_is_not_found(void **state)
{
    struct fixture *f = *state;
    struct user_patch patch = {.set_display_name = true, .display_name = "x"};
    struct user u;
    linli_err_clear(&f->err);
    assert_int_equal(users_update(&f->d, &f->admin, 424242, &patch, &u, &f->err), LINLI_ENOTFOUND);
}

static void users_update_refuses_to_disable_or_demote_oneself(void **state)
{
    struct fixture *f = *state;
    struct user u;
    struct user_patch disable = {.set_disabled = true, .disabled = true};
    linli_err_clear(&f->err);
    assert_int_equal(users_update(&f->d, &f->admin, f->admin.user_id, &disable, &u, &f->err),
                     LINLI_ECONFLICT);
    struct user_patch demote = {.set_role = true, .role = "resident"};
    linli_err_clear(&f->err);
    assert_int_equal(users_update(&f->d, &f->admin, f->admin.user_id, &demote, &u, &f->err),
                     LINLI_ECONFLICT);
    assert_int_equal(
        sql_int(f->d.store, "SELECT disabled FROM users WHERE username = 'admin'", NULL), 0);
    /* changing one's own display name is fine */
    struct user_patch rename = {.set_display_name = true, .display_name = "管理员"};
    linli_err_clear(&f->err);
    assert_ok(users_update(&f->d, &f->admin, f->admin.user_id, &rename, &u, &f->err), &f->err);
    assert_string_equal(u.display_name, "管理员");
}

static void users_update_audits_what_changed(void **state)
{
    struct fixture *f = *state;
    int64_t id = create_ok(f, "wang.fang", "resident", NULL);
    struct user_patch patch = {
        .set_display_name = true, .display_name = "王芳", .set_disabled = true, .disabled = true};
    struct user u;
    linli_err_clear(&f->err);
    assert_ok(users_update(&f->d, &f->admin, id, &patch, &u, &f->err), &f->err);
    char sql[200], detail[512];
    snprintf(sql, sizeof sql,
             "SELECT detail FROM audit_log WHERE action = 'user.update' AND object = 'user:%lld'"
             " AND user_id = %lld AND ip = '127.0.0.1' AND request_id = 'req-42'",
             (long long)id, (long long)f->admin.user_id);
    sql_text(f->d.store, sql, NULL, detail, sizeof detail);
    json_t *j = json_loads(detail, 0, NULL);
    assert_non_null(j);
    json_t *changed = json_object_get(j, "changed");
    assert_int_equal(json_array_size(changed), 2);
    assert_string_equal(json_string_value(json_array_get(changed, 0)), "display_name");
    assert_string_equal(json_string_value(json_array_get(changed, 1)), "disabled");
    assert_true(json_is_true(json_object_get(j, "disabled")));
    json_decref(j);
}

/* ---- the audit log ---- */

static void users_create_writes_an_audit_entry(void **state)
{
    struct fixture *f = *state;
    int64_t before = audit_rows(f);
    int64_t id = create_ok(f, "wang.fang", "community", NAN_LJY);
    assert_int_equal(audit_rows(f), before + 1);
    char sql[200], detail[512];
    snprintf(sql, sizeof sql,
             "SELECT detail FROM audit_log WHERE action = 'user.create' AND object = 'user:%lld'"
             " AND user_id = %lld AND username = 'admin'",
             (long long)id, (long long)f->admin.user_id);
    sql_text(f->d.store, sql, NULL, detail, sizeof detail);
    json_t *j = json_loads(detail, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "username")), "wang.fang");
    assert_string_equal(json_string_value(json_object_get(j, "role")), "community");
    assert_string_equal(json_string_value(json_object_get(j, "scope")), NAN_LJY);
    assert_null(json_object_get(j, "password"));
    json_decref(j);
    assert_int_equal(sql_int(f->d.store,
                             "SELECT count(*) FROM audit_log WHERE detail LIKE '%good password%'",
                             NULL),
                     0);
}

struct audited_change {
    const struct principal *who;
    int fail;
};

static int audited_change_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct audited_change *a = arg;
    char *msg = NULL;
    if (sqlite3_exec(store_db(c),
                     "UPDATE users SET display_name = 'changed' WHERE username = 'admin'", NULL,
                     NULL, &msg) != SQLITE_OK) {
        sqlite3_free(msg);
        return linli_fail(err, LINLI_EIO, "update failed");
    }
    json_t *detail = json_pack("{s:s}", "why", "test");
    int rc = audit_append(c, a->who, "test.change", "user:1", detail, err);
    json_decref(detail);
    if (rc)
        return rc;
    return a->fail ? linli_fail(err, LINLI_ECONFLICT, "the change is refused after all") : LINLI_OK;
}

static void audit_entry_is_written_in_the_same_transaction_as_the_change(void **state)
{
    struct fixture *f = *state;
    int64_t before = audit_rows(f);
    struct audited_change failing = {&f->admin, 1};
    linli_err_clear(&f->err);
    assert_int_equal(store_write(f->d.store, audited_change_job, &failing, &f->err),
                     LINLI_ECONFLICT);
    assert_int_equal(audit_rows(f), before);
    assert_int_equal(
        sql_int(f->d.store, "SELECT count(*) FROM users WHERE display_name = 'changed'", NULL), 0);

    struct audited_change ok = {&f->admin, 0};
    linli_err_clear(&f->err);
    assert_ok(store_write(f->d.store, audited_change_job, &ok, &f->err), &f->err);
    assert_int_equal(audit_rows(f), before + 1);
    assert_int_equal(
        sql_int(f->d.store, "SELECT count(*) FROM users WHERE display_name = 'changed'", NULL), 1);
    assert_int_equal(
        sql_int(f->d.store, "SELECT count(*) FROM audit_log WHERE action = 'test.change'", NULL),
        1);
}

static void audit_log_refuses_update(void **state)
{
    struct fixture *f = *state;
    int64_t before = audit_rows(f);
    assert_true(before >= 1);
    char first[64];
    sql_text(f->d.store, "SELECT action FROM audit_log ORDER BY id LIMIT 1", NULL, first,
             sizeof first);
    linli_err_clear(&f->err);
    int rc = store_write(f->d.store, exec_job, (void *)"UPDATE audit_log SET action = 'forged'",
                         &f->err);
    assert_int_not_equal(rc, LINLI_OK);
    assert_contains(f->err.detail, "append-only");
    assert_int_equal(
        sql_int(f->d.store, "SELECT count(*) FROM audit_log WHERE action = 'forged'", NULL), 0);
    char after[64];
    sql_text(f->d.store, "SELECT action FROM audit_log ORDER BY id LIMIT 1", NULL, after,
             sizeof after);
    assert_string_equal(after, first);
    assert_int_equal(audit_rows(f), before);
}

static void audit_log_refuses_delete(void **state)
{
    struct fixture *f = *state;
    int64_t before = audit_rows(f);
    assert_true(before >= 1);
    linli_err_clear(&f->err);
    int rc = store_write(f->d.store, exec_job, (void *)"DELETE FROM audit_log", &f->err);
    assert_int_not_equal(rc, LINLI_OK);
    assert_contains(f->err.detail, "append-only");
    assert_int_equal(audit_rows(f), before);
}

static void audit_list_is_for_admins_and_auditors_newest_first(void **state)
{
    struct fixture *f = *state;
    create_ok(f, "usr1", "resident", NULL);
    create_ok(f, "usr2", "resident", NULL);
    struct audit_filter flt = {.action = "user.", .limit = 2};
    json_t *out = NULL;
    int64_t next = 0;
    linli_err_clear(&f->err);
    assert_ok(audit_list(&f->d, &f->admin, &flt, &out, &next, &f->err), &f->err);
    assert_int_equal(json_array_size(out), 2);
    json_t *newest = json_array_get(out, 0);
    assert_string_equal(json_string_value(json_object_get(newest, "action")), "user.create");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(newest, "detail"), "username")), "usr2");
    assert_true(next > 0); /* the admin's own creation is older */
    json_decref(out);

    struct principal resident = as_user(5, "usr1", ROLE_RESIDENT, NULL);
    linli_err_clear(&f->err);
    assert_int_equal(audit_list(&f->d, &resident, &flt, &out, &next, &f->err), LINLI_EFORBIDDEN);
}

/* ---- events ---- */

struct seen {
    int calls;
    char topic[64];
    char username[64];
};

static void on_event(const char *topic, json_t *payload, void *ctx)
{
    struct seen *s = ctx;
    s->calls++;
    snprintf(s->topic, sizeof s->topic, "%s", topic);
    snprintf(s->username, sizeof s->username, "%s",
             json_string_value(json_object_get(payload, "username")));
}

static void users_create_publishes_user_created_once_not_on_replay(void **state)
{
    struct fixture *f = *state;
    f->d.bus = bus_new();
    struct seen seen = {0};
    bus_subscribe(f->d.bus, "user.", on_event, &seen);
    struct idem_req r;
    prepare_idem(&r, "key-bus", f->admin.user_id, "{}");
    struct user_new in = {.username = "wang.fang", .role = "resident"};
    struct user u;
    linli_err_clear(&f->err);
    assert_ok(users_create(&f->d, &f->admin, &in, &r, &u, NULL, &f->err), &f->err);
    assert_int_equal(seen.calls, 1);
    assert_string_equal(seen.topic, "user.created");
    assert_string_equal(seen.username, "wang.fang");
    linli_err_clear(&f->err);
    assert_ok(users_create(&f->d, &f->admin, &in, &r, &u, NULL, &f->err), &f->err);
    assert_int_equal(seen.calls, 1);
    /* a refused create publishes nothing */
    struct user_new dup = {.username = "wang.fang", .role = "volunteer"};
    linli_err_clear(&f->err);
    assert_int_equal(users_create(&f->d, &f->admin, &dup, NULL, &u, NULL, &f->err),
                     LINLI_ECONFLICT);
    assert_int_equal(seen.calls, 1);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    log_set_level(LOG_WARN); /* keep migrations and logins out of the output */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(users_check_username_accepts_lowercase_digits_dot_underscore_dash),
        cmocka_unit_test(users_check_username_refuses_bad_length),
        cmocka_unit_test(users_check_username_refuses_bad_characters),
        cmocka_unit_test(users_check_password_counts_characters_not_bytes),
        cmocka_unit_test(users_check_password_refuses_more_than_128_bytes),
        cmocka_unit_test(idem_prepare_refuses_bad_keys),
        T(users_create_refuses_invalid_username_and_password),
        T(users_create_refuses_a_display_name_over_64_characters),
        T(users_create_refuses_an_unknown_role),
        T(users_create_community_role_needs_a_community_code),
        T(users_create_street_and_district_roles_need_their_own_level),
        T(users_create_admin_must_not_have_a_scope),
        T(users_create_operator_and_auditor_need_a_scope_of_any_level),
        T(users_create_reports_every_invalid_field_at_once),
        T(users_create_stores_the_account),
        T(users_create_without_password_makes_an_account_that_cannot_log_in),
        T(users_create_by_a_non_admin_is_forbidden),
        T(users_update_by_a_non_admin_is_forbidden),
        T(users_get_shows_others_only_to_admin_and_auditor),
        T(users_list_pages_by_id_and_filters_by_role),
        T(users_create_duplicate_username_is_conflict),
        T(users_create_with_the_same_idempotency_key_replays_the_first_result),
        T(users_create_with_the_same_key_and_a_different_body_is_conflict),
        T(users_create_idempotency_keys_are_per_user),
        T(users_create_that_fails_records_no_idempotency_key),
        T(users_update_changes_role_and_scope_together),
        T(users_update_keeps_role_and_scope_consistent),
        T(users_update_of_a_missing_user_is_not_found),
        T(users_update_refuses_to_disable_or_demote_oneself),
        T(users_update_audits_what_changed),
        T(users_create_writes_an_audit_entry),
        T(audit_entry_is_written_in_the_same_transaction_as_the_change),
        T(audit_log_refuses_update),
        T(audit_log_refuses_delete),
        T(audit_list_is_for_admins_and_auditors_newest_first),
        T(users_create_publishes_user_created_once_not_on_replay),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
