/* test_config.c - settings from defaults, file, environment and flags
 * (src/base/config.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "support.h"

#include "base/config.h"
#include "base/status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ARGC(argv) ((int)(sizeof(argv) / sizeof((argv)[0])))

struct settings {
    char config[256];
    char name[16];
    long port;
    int verbose;
    long max_body;
};

#define S(f) offsetof(struct settings, f)

static const struct cfg_option opts[] = {
    {"config", CFG_STR, S(config), sizeof(((struct settings *)0)->config), "", 0, 0, "file"},
    {"tst-name", CFG_STR, S(name), sizeof(((struct settings *)0)->name), "linli", 0, 0, "name"},
    {"tst-port", CFG_INT, S(port), 0, "8080", 1, 65535, "port"},
    {"tst-verbose", CFG_BOOL, S(verbose), 0, "false", 0, 0, "chatty"},
    {"tst-max-body", CFG_INT, S(max_body), 0, "1024", 0, 1000000, "limit"},
};
#define NOPTS (sizeof opts / sizeof opts[0])

static const char *const env_names[] = {"LINLI_CONFIG", "LINLI_TST_NAME", "LINLI_TST_PORT",
                                        "LINLI_TST_VERBOSE", "LINLI_TST_MAX_BODY"};

struct fixture {
    char dir[64];
    char file[128];
    struct settings st;
    struct linli_err err;
};

static void clear_env(void)
{
    for (size_t i = 0; i < sizeof env_names / sizeof env_names[0]; i++)
        unsetenv(env_names[i]);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (make_temp_dir("config", f->dir, sizeof f->dir, "linli.conf", f->file, sizeof f->file))
        return -1;
    memset(&f->st, 0x5A, sizeof f->st); /* garbage: defaults must overwrite it */
    linli_err_clear(&f->err);
    clear_env();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    clear_env();
    unlink(f->file);
    rmdir(f->dir);
    free(f);
    return 0;
}

static void write_file(struct fixture *f, const char *text)
{
    FILE *fp = fopen(f->file, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static int load(struct fixture *f, int argc, char **argv)
{
    return cfg_load(opts, NOPTS, &f->st, argc, argv, NULL, &f->err);
}

static void config_defaults_apply_without_file_env_or_flags(void **state)
{
    struct fixture *f = *state;
    char *argv[] = {"prog"};
    assert_int_equal(load(f, ARGC(argv), argv), 0);
    assert_string_equal(f->st.config, "");
    assert_string_equal(f->st.name, "linli");
    assert_int_equal(f->st.port, 8080);
    assert_int_equal(f->st.verbose, 0);
    assert_int_equal(f->st.max_body, 1024);
}

static void config_file_values_override_defaults(void **state)
{
    struct fixture *f = *state;
    write_file(f, "# a comment\n"
                  "\n"
                  "tst-name = fromfile\n"
                  "   tst-port=9000   \n"
                  "tst-verbose = yes\n");
    char flag[200];
    snprintf(flag, sizeof flag, "--config=%s", f->file);
    char *argv[] = {"prog", flag};
    assert_int_equal(load(f, ARGC(argv), argv), 0);
    assert_string_equal(f->st.name, "fromfile");
    assert_int_equal(f->st.port, 9000);
    assert_int_equal(f->st.verbose, 1);
    assert_int_equal(f->st.max_body, 1024); /* untouched by the file: default */
}

static void config_file_named_by_linli_config_env_is_read(void **state)
{
    struct fixture *f = *state;
    write_file(f, "tst-port = 7000\n");
    setenv("LINLI_CONFIG", f->file, 1);
    char *argv[] = {"prog"};
    assert_int_equal(load(f, ARGC(argv), argv), 0);
    assert_int_equal(f->st.port, 7000);
}

static void config_file_named_by_separate_config_flag_is_read(void **state)
{
    struct fixture *f = *state;
    write_file(f, "tst-port = 7001\n");
    char *argv[] = {"prog", "--config", f->file};
    assert_int_equal(load(f, ARGC(argv), argv), 0);
    assert_int_equal(f->st.port, 7001);
    assert_string_equal(f->st.config, f->file);
}

static void config_env_overrides_file(void **state)
{
    struct fixture *f = *state;
    write_file(f, "tst-port = 9000\ntst-name = fromfile\n");
    setenv("LINLI_TST_PORT", "9100", 1);
    char flag[200];
    snprintf(flag, sizeof flag, "--config=%s", f->file);
    char *argv[] = {"prog", flag};
    assert_int_equal(load(f, ARGC(argv), argv), 0);
    assert_int_equal(f->st.port, 9100);
    assert_string_equal(f->st.name, "fromfile");
}

static void config_env_name_maps_dashes_to_underscores(void **state)
{
    struct fixture *f = *state;
    setenv("LINLI_TST_MAX_BODY", "4096", 1);
    char *argv[] = {"prog"};
    assert_int_equal(load(f, ARGC(argv), argv), 0);
    assert_int_equal(f->st.max_body, 4096);
}

static void config_flags_override_env_and_file(void **state)
{
    struct fixture *f = *state;
    write_file(f, "tst-port = 9000\n");
    setenv("LINLI_TST_PORT", "9100", 1);
    setenv("LINLI_TST_NAME", "fromenv", 1);
    char flag[200];
    snprintf(flag, sizeof flag, "--config=%s", f->file);
    char *argv[] = {"prog", flag, "--tst-port=9200", "--tst-name", "fromflag"};
    assert_int_equal(load(f, ARGC(argv), argv), 0);
    assert_int_equal(f->st.port, 9200);
    assert_string_equal(f->st.name, "fromflag");
}

static void config_flag_accepts_equals_and_separate_value(void **state)
{
    struct fixture *f = *state;
    char *argv[] = {"prog", "--tst-port=1234", "--tst-max-body", "77"};
    assert_int_equal(load(f, ARGC(argv), argv), 0);
    assert_int_equal(f->st.port, 1234);
    assert_int_equal(f->st.max_body, 77);
}

static void config_bare_bool_flag_means_true(void **state)
{
    struct fixture *f = *state;
    char *argv[] = {"prog", "--tst-verbose", "--tst-port", "10"};
    assert_int_equal(load(f, ARGC(argv), argv), 0);
    assert_int_equal(f->st.verbose, 1);
    assert_int_equal(f->st.port, 10); /* the bool did not eat the next argument */
}

static void config_bool_flag_with_value_can_turn_off(void **state)
{
    struct fixture *f = *state;
    setenv("LINLI_TST_VERBOSE", "on", 1);
    char *argv[] = {"prog", "--tst-verbose=off"};
    assert_int_equal(load(f, ARGC(argv), argv), 0);
    assert_int_equal(f->st.verbose, 0);
}

static void config_bool_refuses_other_words(void **state)
{
    struct fixture *f = *state;
    char *argv[] = {"prog", "--tst-verbose=maybe"};
    assert_int_equal(load(f, ARGC(argv), argv), LINLI_EINVAL);
    assert_int_equal(f->err.status, LINLI_EINVAL);
    assert_contains(f->err.detail, "tst-verbose");
    assert_contains(f->err.detail, "maybe");
}

static void config_unknown_flag_is_einval_naming_it(void **state)
{
    struct fixture *f = *state;
    char *argv[] = {"prog", "--no-such-thing=1"};
    assert_int_equal(load(f, ARGC(argv), argv), LINLI_EINVAL);
    assert_contains(f->err.detail, "no-such-thing");
}

static void config_flag_name_must_match_whole_option(void **state)
{
    struct fixture *f = *state;
    char *argv[] = {"prog", "--tst-po=1"};
    assert_int_equal(load(f, ARGC(argv), argv), LINLI_EINVAL);
    assert_contains(f->err.detail, "tst-po");
}

static void config_unknown_file_key_is_einval_naming_it(void **state)
{
    struct fixture *f = *state;
    write_file(f, "tst-port = 9000\nbogus-key = 3\n");
    char flag[200];
    snprintf(flag, sizeof flag, "--config=%s", f->file);
    char *argv[] = {"prog", flag};
    assert_int_equal(load(f, ARGC(argv), argv), LINLI_EINVAL);
    assert_contains(f->err.detail, "bogus-key");
    assert_contains(f->err.detail, ":2"); /* the line it is on */
}

static void config_file_may_not_name_another_config_file(void **state)
{
    struct fixture *f = *state;
    write_file(f, "config = /etc/other.conf\n");
    char flag[200];
    snprintf(flag, sizeof flag, "--config=%s", f->file);
    char *argv[] = {"prog", flag};
    assert_int_equal(load(f, ARGC(argv), argv), LINLI_EINVAL);
    assert_contains(f->err.detail, "config");
}

static void config_file_line_without_equals_is_einval(void **state)
{
    struct fixture *f = *state;
    write_file(f, "tst-port 9000\n");
    char flag[200];
    snprintf(flag, sizeof flag, "--config=%s", f->file);
    char *argv[] = {"prog", flag};
    assert_int_equal(load(f, ARGC(argv), argv), LINLI_EINVAL);
    assert_contains(f->err.detail, f->file);
}

static void config_missing_file_is_einval_naming_it(void **state)
{
    struct fixture *f = *state;
    char flag[200];
    snprintf(flag, sizeof flag, "--config=%s/absent.conf", f->dir);
    char *argv[] = {"prog", flag};
    assert_int_equal(load(f, ARGC(argv), argv), LINLI_EINVAL);
    assert_contains(f->err.detail, "absent.conf");
}

static void config_out_of_range_int_is_einval_naming_setting(void **state)
{
    struct fixture *f = *state;
    char *argv[] = {"prog", "--tst-port=70000"};
    assert_int_equal(load(f, ARGC(argv), argv), LINLI_EINVAL);
    assert_contains(f->err.detail, "tst-port");
    assert_contains(f->err.detail, "65535");
}

static void config_int_below_minimum_is_einval(void **state)
{
    struct fixture *f = *state;
    char *argv[] = {"prog", "--tst-port", "0"};
    assert_int_equal(load(f, ARGC(argv), argv), LINLI_EINVAL);
    assert_contains(f->err.detail, "tst-port");
}

static void config_non_number_is_einval_naming_setting(void **state)
{
    struct fixture *f = *state;
    char *argv[] = {"prog", "--tst-port=80x"};
    assert_int_equal(load(f, ARGC(argv), argv), LINLI_EINVAL);
    assert_contains(f->err.detail, "tst-port");
    assert_contains(f->err.detail, "80x");
}

static void config_empty_number_is_einval(void **state)
{
    struct fixture *f = *state;
    char *argv[] = {"prog", "--tst-port="};
    assert_int_equal(load(f, ARGC(argv), argv), LINLI_EINVAL);
    assert_contains(f->err.detail, "tst-port");
}

static void config_bad_env_value_is_einval_naming_variable(void **state)
{
    struct fixture *f = *state;
    setenv("LINLI_TST_PORT", "lots", 1);
    char *argv[] = {"prog"};
    assert_int_equal(load(f, ARGC(argv), argv), LINLI_EINVAL);
    assert_contains(f->err.detail, "LINLI_TST_PORT");
}

static void config_bad_file_value_is_einval_naming_setting(void **state)
{
    struct fixture *f = *state;
    write_file(f, "tst-max-body = -5\n");
    char flag[200];
    snprintf(flag, sizeof flag, "--config=%s", f->file);
    char *argv[] = {"prog", flag};
    assert_int_equal(load(f, ARGC(argv), argv), LINLI_EINVAL);
    assert_contains(f->err.detail, "tst-max-body");
}

static void config_too_long_string_is_einval(void **state)
{
    struct fixture *f = *state;
    char *argv[] = {"prog", "--tst-name=this-is-sixteen-chars-or-more"};
    assert_int_equal(load(f, ARGC(argv), argv), LINLI_EINVAL);
    assert_contains(f->err.detail, "tst-name");
}

static void config_flag_without_value_at_end_is_einval(void **state)
{
    struct fixture *f = *state;
    char *argv[] = {"prog", "--tst-port"};
    assert_int_equal(load(f, ARGC(argv), argv), LINLI_EINVAL);
    assert_contains(f->err.detail, "tst-port");
}

static void config_help_returns_one(void **state)
{
    struct fixture *f = *state;
    char *argv[] = {"prog", "--tst-port=10", "--help"};
    assert_int_equal(load(f, ARGC(argv), argv), 1);
    char *argv2[] = {"prog", "-h"};
    assert_int_equal(load(f, ARGC(argv2), argv2), 1);
}

static void config_positional_argument_refused_without_rest(void **state)
{
    struct fixture *f = *state;
    char *argv[] = {"prog", "stray"};
    assert_int_equal(load(f, ARGC(argv), argv), LINLI_EINVAL);
    assert_contains(f->err.detail, "stray");
}

static void config_positional_arguments_reported_through_rest(void **state)
{
    struct fixture *f = *state;
    char *argv[] = {"prog", "--tst-port=5", "user", "add", "--tst-port=6"};
    int rest = -1;
    assert_int_equal(cfg_load(opts, NOPTS, &f->st, ARGC(argv), argv, &rest, &f->err), 0);
    assert_int_equal(rest, 2);
    assert_int_equal(f->st.port, 5); /* flags after the first positional are the command's */

    char *argv2[] = {"prog", "--", "--tst-port=6"};
    assert_int_equal(cfg_load(opts, NOPTS, &f->st, ARGC(argv2), argv2, &rest, &f->err), 0);
    assert_int_equal(rest, 2);

    char *argv3[] = {"prog", "--tst-verbose"};
    assert_int_equal(cfg_load(opts, NOPTS, &f->st, ARGC(argv3), argv3, &rest, &f->err), 0);
    assert_int_equal(rest, 2); /* none: argc */
}

static void config_help_text_lists_flags_env_and_defaults(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    cfg_print_help(out, opts, NOPTS);
    fclose(out);
    assert_contains(text, "--tst-port N");
    assert_contains(text, "LINLI_TST_MAX_BODY");
    assert_contains(text, "default 8080");
    free(text);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(config_defaults_apply_without_file_env_or_flags),
        T(config_file_values_override_defaults),
        T(config_file_named_by_linli_config_env_is_read),
        T(config_file_named_by_separate_config_flag_is_read),
        T(config_env_overrides_file),
        T(config_env_name_maps_dashes_to_underscores),
        T(config_flags_override_env_and_file),
        T(config_flag_accepts_equals_and_separate_value),
        T(config_bare_bool_flag_means_true),
        T(config_bool_flag_with_value_can_turn_off),
        T(config_bool_refuses_other_words),
        T(config_unknown_flag_is_einval_naming_it),
        T(config_flag_name_must_match_whole_option),
        T(config_unknown_file_key_is_einval_naming_it),
        T(config_file_may_not_name_another_config_file),
        T(config_file_line_without_equals_is_einval),
        T(config_missing_file_is_einval_naming_it),
        T(config_out_of_range_int_is_einval_naming_setting),
        T(config_int_below_minimum_is_einval),
        T(config_non_number_is_einval_naming_setting),
        T(config_empty_number_is_einval),
        T(config_bad_env_value_is_einval_naming_variable),
        T(config_bad_file_value_is_einval_naming_setting),
        T(config_too_long_string_is_einval),
        T(config_flag_without_value_at_end_is_einval),
        T(config_help_returns_one),
        T(config_positional_argument_refused_without_rest),
        T(config_positional_arguments_reported_through_rest),
        T(config_help_text_lists_flags_env_and_defaults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
