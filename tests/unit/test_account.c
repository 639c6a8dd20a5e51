/* test_account.c - changing one's own password (src/domain/account.c) and the
 * must_change_password flag an admin's reset sets (src/domain/users.c), on a
 * real store in a temporary directory. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "support.h"

#include "base/log.h"
#include "base/status.h"
#include "domain/account.h"
#include "domain/auth.h"
#include "domain/users.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ADMIN_PASSWORD "correct horse battery"
#define OLD_PW         "old password 1"
#define NEW_PW         "new password 2"

struct fixture {
    char dir[64];
    char db[128];
    struct auth_options ao;
    struct domain d;
    struct principal admin;
    struct linli_err err;
    int64_t id; /* "li.hua", a resident with OLD_PW */
    char mine[TOKEN_MAX], other[TOKEN_MAX];
    struct principal me; /* li.hua through the session `mine` */
};

static int login(struct fixture *f, const char *password, char token[TOKEN_MAX])
{
    struct login_result r;
    linli_err_clear(&f->err);
    int rc = auth_login(&f->d, "li.hua", password, "127.0.0.1", "req-1", &r, &f->err);
    if (rc == LINLI_OK)
        snprintf(token, TOKEN_MAX, "%s", r.token);
    return rc;
}

static int authenticate(struct fixture *f, const char *token, struct principal *p)
{
    linli_err_clear(&f->err);
    memset(p, 0, sizeof *p);
    int rc = auth_authenticate(&f->d, token, p, NULL, &f->err);
    snprintf(p->ip, sizeof p->ip, "127.0.0.1");
    return rc;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (make_temp_dir("account", f->dir, sizeof f->dir, "linli.db", f->db, sizeof f->db))
        return -1;
    fast_auth_options(&f->ao);
    f->ao.max_failures_user = 3;
    linli_err_clear(&f->err);
    *state = f;
    bool created;
    if (open_domain(&f->d, f->db, &f->ao, &f->err) ||
        admin_principal(&f->d, ADMIN_PASSWORD, &created, &f->admin, &f->err))
        return -1;
    struct user_new in = {.username = "li.hua", .role = "resident", .password = OLD_PW};
    struct user u;
    if (users_create(&f->d, &f->admin, &in, NULL, &u, NULL, &f->err))
        return -1;
    f->id = u.id;
    if (login(f, OLD_PW, f->mine) || login(f, OLD_PW, f->other) || authenticate(f, f->mine, &f->me))
        return -1;
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

static int change(struct fixture *f, const char *current, const char *fresh)
{
    linli_err_clear(&f->err);
    return account_change_password(&f->d, &f->me, current, fresh, &f->err);
}

static int64_t audit_count(struct fixture *f)
{
    return sql_int(f->d.store, "SELECT count(*) FROM audit_log WHERE action = ?1",
                   "user.password_change");
}

static void account_change_stores_the_new_password_and_keeps_only_this_session(void **state)
{
    struct fixture *f = *state;
    assert_ok(change(f, OLD_PW, NEW_PW), &f->err);
    struct principal p;
    assert_int_equal(authenticate(f, f->mine, &p), LINLI_OK);
    assert_int_equal(authenticate(f, f->other, &p), LINLI_EUNAUTH);
    char t[TOKEN_MAX];
    assert_int_equal(login(f, OLD_PW, t), LINLI_EUNAUTH);
    assert_int_equal(login(f, NEW_PW, t), LINLI_OK);
}

static void account_change_is_audited_without_the_passwords(void **state)
{
    struct fixture *f = *state;
    assert_ok(change(f, OLD_PW, NEW_PW), &f->err);
    char detail[256], object[32];
    sql_text(f->d.store, "SELECT detail FROM audit_log WHERE action = ?1", "user.password_change",
             detail, sizeof detail);
    sql_text(f->d.store, "SELECT object FROM audit_log WHERE action = ?1", "user.password_change",
             object, sizeof object);
    assert_string_equal(detail, "{\"other_sessions_ended\":1}");
    char want[32];
    snprintf(want, sizeof want, "user:%lld", (long long)f->id);
    assert_string_equal(object, want);
    assert_int_equal(sql_int(f->d.store,
                             "SELECT count(*) FROM audit_log WHERE detail LIKE '%password 1%'"
                             " OR detail LIKE '%password 2%'",
                             NULL),
                     0);
}

static void account_change_with_a_wrong_current_password_changes_nothing(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(change(f, "not it at all", NEW_PW), LINLI_EINVAL);
    assert_field_error(&f->err, "current_password", "is not your current password");
    struct principal p;
    assert_int_equal(authenticate(f, f->other, &p), LINLI_OK);
    char t[TOKEN_MAX];
    assert_int_equal(login(f, OLD_PW, t), LINLI_OK);
    assert_int_equal(audit_count(f), 0);
}

static void account_wrong_current_passwords_count_as_failed_logins(void **state)
{
    struct fixture *f = *state;
    for (int i = 0; i < f->ao.max_failures_user; i++)
        assert_int_equal(change(f, "not it at all", NEW_PW), LINLI_EINVAL);
    assert_int_equal(change(f, OLD_PW, NEW_PW), LINLI_ELIMIT);
    assert_true(f->err.retry_after > 0);
    char t[TOKEN_MAX];
    assert_int_equal(login(f, OLD_PW, t), LINLI_ELIMIT);
    assert_int_equal(audit_count(f), 0);
}

static void account_new_password_meets_the_rules_of_every_password(void **state)
{
    struct fixture *f = *state;
    struct linli_err want;
    linli_err_clear(&want);
    assert_int_equal(users_check_password("short", &want), LINLI_EINVAL);
    assert_int_equal(change(f, OLD_PW, "short"), LINLI_EINVAL);
    assert_int_equal(f->err.nfields, 1);
    assert_string_equal(f->err.fields[0].field, "new_password");
    assert_string_equal(f->err.fields[0].message, want.fields[0].message);
    assert_int_equal(change(f, OLD_PW, OLD_PW), LINLI_EINVAL);
    assert_field_error(&f->err, "new_password", "must differ from the current password");
    assert_int_equal(change(f, "", NEW_PW), LINLI_EINVAL);
    assert_field_error(&f->err, "current_password", "is required");
    /* None of it was a guess: the right password still gets through. */
    assert_ok(change(f, OLD_PW, NEW_PW), &f->err);
}

static void account_change_checks_the_stored_password_not_the_one_logged_in_with(void **state)
{
    struct fixture *f = *state;
    /* An admin resets the password after this principal was made: the old
     * password no longer counts, whatever the caller logged in with. */
    struct user_patch p = {.set_password = true, .password = "admin chose this"};
    struct user u;
    linli_err_clear(&f->err);
    assert_ok(users_update(&f->d, &f->admin, f->id, &p, &u, &f->err), &f->err);
    assert_int_equal(change(f, OLD_PW, NEW_PW), LINLI_EINVAL);
    assert_field_error(&f->err, "current_password", "is not your current password");
    char t[TOKEN_MAX];
    assert_int_equal(login(f, "admin chose this", t), LINLI_OK);
}

static void users_admin_reset_of_another_account_asks_for_a_change(void **state)
{
    struct fixture *f = *state;
    struct user_patch p = {.set_password = true, .password = "admin chose this"};
    struct user u;
    linli_err_clear(&f->err);
    assert_ok(users_update(&f->d, &f->admin, f->id, &p, &u, &f->err), &f->err);
    assert_true(u.must_change_password);
    /* A change of something else keeps it. */
    struct user_patch name = {.set_display_name = true, .display_name = "李华"};
    assert_ok(users_update(&f->d, &f->admin, f->id, &name, &u, &f->err), &f->err);
    assert_true(u.must_change_password);
    /* The owner's own change clears it. */
    assert_int_equal(login(f, "admin chose this", f->mine), LINLI_OK);
    assert_int_equal(authenticate(f, f->mine, &f->me), LINLI_OK);
    assert_ok(change(f, "admin chose this", NEW_PW), &f->err);
    assert_ok(users_get(&f->d, &f->admin, f->id, &u, &f->err), &f->err);
    assert_false(u.must_change_password);
}

static void users_reset_by_the_command_line_or_of_ones_own_asks_nothing(void **state)
{
    struct fixture *f = *state;
    struct principal cli;
    principal_system(&cli, "cli");
    struct user_patch p = {.set_password = true, .password = "typed at the console"};
    struct user u;
    linli_err_clear(&f->err);
    assert_ok(users_update(&f->d, &cli, f->id, &p, &u, &f->err), &f->err);
    assert_false(u.must_change_password);
    assert_ok(users_update(&f->d, &f->admin, f->admin.user_id, &p, &u, &f->err), &f->err);
    assert_false(u.must_change_password);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    log_set_level(LOG_WARN);
    const struct CMUnitTest tests[] = {
        T(account_change_stores_the_new_password_and_keeps_only_this_session),
        T(account_change_is_audited_without_the_passwords),
        T(account_change_with_a_wrong_current_password_changes_nothing),
        T(account_wrong_current_passwords_count_as_failed_logins),
        T(account_new_password_meets_the_rules_of_every_password),
        T(account_change_checks_the_stored_password_not_the_one_logged_in_with),
        T(users_admin_reset_of_another_account_asks_for_a_change),
        T(users_reset_by_the_command_line_or_of_ones_own_asks_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
