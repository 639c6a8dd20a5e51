/* test_open311.c - the Open311 facade's wire format (src/api/open311_xml.c:
 * XML escaping and writing, ISO 8601 dates with Beijing's offset) and its
 * clients' API keys (src/domain/open311_clients.c). */
#include "support.h"

#include "api/open311_xml.h"
#include "base/buf.h"
#include "domain/open311_clients.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 2026-11-25T13:10:47.123Z, which is 21:10:47 in Beijing */
#define SAMPLE_MS INT64_C(1795612247123)

/* `text` escaped, as a NUL-terminated string the caller frees. */
static char *escaped(const char *text, size_t len)
{
    struct buf b;
    buf_init(&b, 1 << 20);
    assert_int_equal(open311_xml_escape(&b, text, len), 0);
    size_t n;
    char *out = buf_detach(&b, &n);
    buf_free(&b);
    return out ? out : strdup("");
}

static void assert_escapes_to(const char *text, size_t len, const char *want)
{
    char *got = escaped(text, len);
    if (strcmp(got, want) != 0)
        fail_msg("escaped \"%s\" as \"%s\", want \"%s\"", text, got, want);
    free(got);
}

static char *xml_of(const char *root, json_t *v)
{
    struct buf b;
    buf_init(&b, 1 << 20);
    assert_int_equal(open311_xml_write(&b, root, v), 0);
    json_decref(v);
    size_t n;
    char *out = buf_detach(&b, &n);
    buf_free(&b);
    return out;
}

/* ---- escaping ---- */

static void xml_escapes_the_five_markup_characters(void **state)
{
    (void)state;
    assert_escapes_to("a & b < c > d \" e ' f", 21, "a &amp; b &lt; c &gt; d &quot; e &apos; f");
    assert_escapes_to("&amp;", 5, "&amp;amp;");
    assert_escapes_to("<![CDATA[x]]>", 13, "&lt;![CDATA[x]]&gt;");
}

static void xml_keeps_plain_text_and_chinese_as_they_are(void **state)
{
    (void)state;
    assert_escapes_to("路灯坏了 lamp", strlen("路灯坏了 lamp"), "路灯坏了 lamp");
    assert_escapes_to("", 0, "");
    assert_escapes_to("😀", 4, "😀"); /* four-byte UTF-8 */
}

static void xml_keeps_tab_newline_and_carriage_return(void **state)
{
    (void)state;
    assert_escapes_to("a\tb\nc\rd", 7, "a\tb\nc\rd");
}

static void xml_drops_control_characters_xml_cannot_carry(void **state)
{
    (void)state;
    assert_escapes_to("a\x01"
                      "b\x08"
                      "c\x0b"
                      "d\x0c"
                      "e\x1f"
                      "f",
                      11, "abcdef");
    const char nul[] = {'x', '\0', 'y'};
    assert_escapes_to(nul, 3, "xy");
    /* U+FFFE and U+FFFF are not XML characters either */
    assert_escapes_to("a\xef\xbf\xbe"
                      "b\xef\xbf\xbf"
                      "c",
                      9, "abc");
}

static void xml_drops_bytes_that_are_not_utf8(void **state)
{
    (void)state;
    assert_escapes_to("a\xff"
                      "b",
                      3, "ab");         /* never valid */
    assert_escapes_to("a\xc3", 2, "a"); /* truncated sequence */
    assert_escapes_to("a\xc0\xaf"
                      "b",
                      4, "ab"); /* overlong '/' */
    assert_escapes_to("a\xed\xa0\x80"
                      "b",
                      5, "ab"); /* a UTF-16 surrogate */
    assert_escapes_to("\xe8\xb7\xaf\xe8"
                      "<",
                      5, "路&lt;"); /* cut in the middle, then markup */
}

static void utf8_check_refuses_nul_and_broken_sequences(void **state)
{
    (void)state;
    assert_true(open311_utf8_valid("路灯 ok", strlen("路灯 ok")));
    assert_true(open311_utf8_valid("", 0));
    assert_false(open311_utf8_valid("a\0b", 3));
    assert_false(open311_utf8_valid("a\xff", 2));
    assert_false(open311_utf8_valid("\xe8\xb7", 2));
}

/* ---- writing ---- */

static void xml_writes_a_list_as_plural_and_singular_elements(void **state)
{
    (void)state;
    json_t *v = json_pack("[{s:s, s:b, s:n, s:i, s:f}]", "service_request_id", "12", "metadata", 1,
                          "account_id", "order", 3, "lat", 39.9219);
    char *x = xml_of("service_requests", v);
    assert_string_equal(x, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
                           "<service_requests><request><service_request_id>12</service_request_id>"
                           "<metadata>true</metadata><account_id/><order>3</order>"
                           "<lat>39.9219</lat></request></service_requests>\n");
    free(x);
}

static void xml_names_the_items_of_each_open311_list(void **state)
{
    (void)state;
    assert_string_equal(open311_xml_item_name("services"), "service");
    assert_string_equal(open311_xml_item_name("service_requests"), "request");
    assert_string_equal(open311_xml_item_name("attributes"), "attribute");
    assert_string_equal(open311_xml_item_name("values"), "value");
    assert_string_equal(open311_xml_item_name("errors"), "error");
    assert_string_equal(open311_xml_item_name("service_requests_updates"), "request_update");
    assert_string_equal(open311_xml_item_name("formats"), "format");
    assert_string_equal(open311_xml_item_name("anything_else"), "item");
}

static void xml_nests_a_service_definition_like_the_specification(void **state)
{
    (void)state;
    json_t *v = json_pack("{s:s, s:[{s:s, s:[{s:s, s:s}]}]}", "service_code", "DMV66", "attributes",
                          "code", "WHISHETN", "values", "key", "123", "name", "Ford & <Sons>");
    char *x = xml_of("service_definition", v);
    assert_contains(x, "<service_definition><service_code>DMV66</service_code><attributes>"
                       "<attribute><code>WHISHETN</code><values><value><key>123</key>"
                       "<name>Ford &amp; &lt;Sons&gt;</name></value></values></attribute>"
                       "</attributes></service_definition>");
    free(x);
}

static void xml_writes_empty_text_and_empty_lists_as_empty_elements(void **state)
{
    (void)state;
    char *x = xml_of("errors", json_pack("[{s:s, s:[]}]", "description", "", "values"));
    assert_contains(x, "<errors><error><description/><values/></error></errors>");
    free(x);
    x = xml_of("service_requests", json_array());
    assert_contains(x, "<service_requests/>");
    free(x);
}

static void xml_skips_member_names_that_are_not_xml_names(void **state)
{
    (void)state;
    char *x = xml_of("r", json_pack("{s:s, s:s, s:s}", "ok", "1", "bad name", "2", "<x>", "3"));
    assert_contains(x, "<r><ok>1</ok></r>");
    free(x);
}

/* ---- dates ---- */

static void dates_are_written_in_beijing_time_with_the_offset(void **state)
{
    (void)state;
    char t[OPEN311_TIME_SIZE];
    assert_string_equal(open311_format_time(SAMPLE_MS, t), "2026-11-25T21:10:47+08:00");
    assert_string_equal(open311_format_time(0, t), "1970-01-01T08:00:00+08:00");
    /* 16:00 UTC is already the next day in Beijing */
    assert_string_equal(open311_format_time(INT64_C(1795622400000), t),
                        "2026-11-26T00:00:00+08:00");
    assert_string_equal(open311_format_time(-1, t), "1970-01-01T07:59:59+08:00");
}

static int64_t parsed(const char *text)
{
    int64_t ms = -42;
    if (open311_parse_time(text, &ms) != 0)
        fail_msg("\"%s\" was refused", text);
    return ms;
}

static void dates_read_with_any_offset_or_z(void **state)
{
    (void)state;
    int64_t want = SAMPLE_MS / 1000 * 1000;
    assert_int_equal(parsed("2026-11-25T13:10:47Z"), want);
    assert_int_equal(parsed("2026-11-25T21:10:47+08:00"), want);
    assert_int_equal(parsed("2026-11-25T05:10:47-08:00"), want);
    assert_int_equal(parsed("2026-11-25T13:10:47.123Z"), SAMPLE_MS);
}

static void dates_read_a_plus_that_became_a_space(void **state)
{
    (void)state;
    assert_int_equal(parsed("2026-11-25T21:10:47 08:00"), SAMPLE_MS / 1000 * 1000);
}

static void dates_without_offset_are_beijing_time(void **state)
{
    (void)state;
    assert_int_equal(parsed("2026-11-25T21:10:47"), SAMPLE_MS / 1000 * 1000);
    assert_int_equal(parsed("2026-11-26"), INT64_C(1795622400000));
    char t[OPEN311_TIME_SIZE];
    assert_string_equal(open311_format_time(parsed("2026-11-26"), t), "2026-11-26T00:00:00+08:00");
}

static void dates_refuse_what_is_not_a_date(void **state)
{
    (void)state;
    const char *bad[] = {"",
                         "yesterday",
                         "2026-13-01",
                         "2026-11-31",
                         "2026-11-25T25:00:00",
                         "2026-11-25T21:10",
                         "20261125",
                         "2026-11-25T21:10:47+8",
                         "2026-11-25T21:10:47 08",
                         "2026-11-25T21:10:47+08:00 and more text that is far too long"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t ms;
        if (open311_parse_time(bad[i], &ms) == 0)
            fail_msg("\"%s\" was accepted", bad[i]);
    }
    int64_t ms;
    assert_int_equal(open311_parse_time(NULL, &ms), -1);
}

/* ---- API keys ---- */

struct keys {
    char dir[256], db[320];
    struct domain d;
    struct principal system;
};

static int keys_setup(void **state)
{
    struct keys *k = calloc(1, sizeof *k);
    struct linli_err err;
    linli_err_clear(&err);
    if (!k || make_temp_dir("open311", k->dir, sizeof k->dir, "t.db", k->db, sizeof k->db) ||
        open_domain(&k->d, k->db, NULL, &err))
        return -1;
    principal_system(&k->system, "test");
    *state = k;
    return 0;
}

static int keys_teardown(void **state)
{
    struct keys *k = *state;
    close_domain(&k->d);
    remove_tree(k->dir);
    free(k);
    return 0;
}

static void key_is_shown_once_and_stored_only_as_a_hash(void **state)
{
    struct keys *k = *state;
    struct linli_err err;
    linli_err_clear(&err);
    struct open311_client c;
    char key[OPEN311_KEY_SIZE];
    assert_ok(open311_clients_add(&k->d, &k->system, "fixmystreet", &c, key, &err), &err);
    assert_int_equal(strlen(key), OPEN311_KEY_SIZE - 1);
    assert_int_equal(strncmp(key, OPEN311_KEY_PREFIX, 5), 0);
    assert_int_equal(strncmp(c.hint, key, OPEN311_KEY_HINT_SIZE - 1), 0);
    assert_int_equal(
        sql_int(k->d.store, "SELECT count(*) FROM open311_clients WHERE key_hash = ?1", key), 0);
    char hash[80];
    sql_text(k->d.store, "SELECT key_hash FROM open311_clients WHERE id = 1", NULL, hash,
             sizeof hash);
    assert_int_equal(strlen(hash), 64);
    assert_int_equal(sql_int(k->d.store,
                             "SELECT count(*) FROM audit_log WHERE action = 'open311_key.create'",
                             NULL),
                     1);
    struct open311_client who;
    assert_ok(open311_clients_check(&k->d, key, &who, &err), &err);
    assert_string_equal(who.name, "fixmystreet");
    assert_int_equal(who.id, c.id);
}

static void key_check_refuses_missing_malformed_unknown_and_revoked_keys(void **state)
{
    struct keys *k = *state;
    struct linli_err err;
    linli_err_clear(&err);
    struct open311_client c, who;
    char key[OPEN311_KEY_SIZE];
    assert_ok(open311_clients_add(&k->d, &k->system, "client-a", &c, key, &err), &err);
    assert_int_equal(open311_clients_check(&k->d, NULL, &who, &err), LINLI_EFORBIDDEN);
    assert_int_equal(open311_clients_check(&k->d, "", &who, &err), LINLI_EFORBIDDEN);
    assert_int_equal(open311_clients_check(&k->d, "o311_short", &who, &err), LINLI_EFORBIDDEN);
    char other[OPEN311_KEY_SIZE];
    snprintf(other, sizeof other, "%s", key);
    other[10] = other[10] == 'A' ? 'B' : 'A';
    assert_int_equal(open311_clients_check(&k->d, other, &who, &err), LINLI_EFORBIDDEN);
    int n;
    assert_ok(open311_clients_revoke(&k->d, &k->system, "client-a", &n, &err), &err);
    assert_int_equal(n, 1);
    linli_err_clear(&err);
    assert_int_equal(open311_clients_check(&k->d, key, &who, &err), LINLI_EFORBIDDEN);
    assert_contains(err.detail, "revoked");
}

static void keys_of_one_client_are_revoked_by_name_or_one_by_id(void **state)
{
    struct keys *k = *state;
    struct linli_err err;
    linli_err_clear(&err);
    struct open311_client c1, c2, c3, who;
    char k1[OPEN311_KEY_SIZE], k2[OPEN311_KEY_SIZE], k3[OPEN311_KEY_SIZE];
    assert_ok(open311_clients_add(&k->d, &k->system, "rotating", &c1, k1, &err), &err);
    assert_ok(open311_clients_add(&k->d, &k->system, "rotating", &c2, k2, &err), &err);
    assert_ok(open311_clients_add(&k->d, &k->system, "rotating", &c3, k3, &err), &err);
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)c1.id);
    int n;
    assert_ok(open311_clients_revoke(&k->d, &k->system, id, &n, &err), &err);
    assert_int_equal(n, 1);
    assert_int_equal(open311_clients_check(&k->d, k1, &who, &err), LINLI_EFORBIDDEN);
    assert_ok(open311_clients_check(&k->d, k2, &who, &err), &err);
    assert_ok(open311_clients_revoke(&k->d, &k->system, "rotating", &n, &err), &err);
    assert_int_equal(n, 2);
    assert_int_equal(open311_clients_check(&k->d, k3, &who, &err), LINLI_EFORBIDDEN);
    assert_int_equal(open311_clients_revoke(&k->d, &k->system, "rotating", &n, &err),
                     LINLI_ENOTFOUND);
    struct open311_client *items;
    int count;
    assert_ok(open311_clients_list(&k->d, &items, &count, &err), &err);
    assert_int_equal(count, 3);
    for (int i = 0; i < count; i++)
        assert_true(items[i].revoked_at > 0);
    free(items);
}

static void keys_are_made_by_the_system_only_with_a_sound_name(void **state)
{
    struct keys *k = *state;
    struct linli_err err;
    linli_err_clear(&err);
    struct open311_client c;
    char key[OPEN311_KEY_SIZE];
    struct principal admin = k->system;
    admin.user_id = 1;
    assert_int_equal(open311_clients_add(&k->d, &admin, "x", &c, key, &err), LINLI_EFORBIDDEN);
    const char *bad[] = {"", "1abc", "has space", "semi;colon",
                         "a-name-far-too-long-for-a-client-a-name-far-too-long-for-a-client-x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        linli_err_clear(&err);
        if (open311_clients_add(&k->d, &k->system, bad[i], &c, key, &err) != LINLI_EINVAL)
            fail_msg("the client name \"%s\" was accepted", bad[i]);
    }
    assert_int_equal(sql_int(k->d.store, "SELECT count(*) FROM open311_clients", NULL), 0);
}

static void media_urls_are_http_or_https_of_visible_ascii(void **state)
{
    (void)state;
    const char *why;
    assert_int_equal(open311_media_url_check("https://example.org/a.jpg", &why), 0);
    assert_int_equal(open311_media_url_check("http://example.org/a%20b.jpg", &why), 0);
    assert_int_equal(open311_media_url_check("ftp://example.org/a.jpg", &why), -1);
    assert_int_equal(open311_media_url_check("javascript:alert(1)", &why), -1);
    assert_int_equal(open311_media_url_check("https://example.org/a b.jpg", &why), -1);
    assert_int_equal(open311_media_url_check("https://例子.org/", &why), -1);
    assert_int_equal(open311_media_url_check(NULL, &why), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(xml_escapes_the_five_markup_characters),
        cmocka_unit_test(xml_keeps_plain_text_and_chinese_as_they_are),
        cmocka_unit_test(xml_keeps_tab_newline_and_carriage_return),
        cmocka_unit_test(xml_drops_control_characters_xml_cannot_carry),
        cmocka_unit_test(xml_drops_bytes_that_are_not_utf8),
        cmocka_unit_test(utf8_check_refuses_nul_and_broken_sequences),
        cmocka_unit_test(xml_writes_a_list_as_plural_and_singular_elements),
        cmocka_unit_test(xml_names_the_items_of_each_open311_list),
        cmocka_unit_test(xml_nests_a_service_definition_like_the_specification),
        cmocka_unit_test(xml_writes_empty_text_and_empty_lists_as_empty_elements),
        cmocka_unit_test(xml_skips_member_names_that_are_not_xml_names),
        cmocka_unit_test(dates_are_written_in_beijing_time_with_the_offset),
        cmocka_unit_test(dates_read_with_any_offset_or_z),
        cmocka_unit_test(dates_read_a_plus_that_became_a_space),
        cmocka_unit_test(dates_without_offset_are_beijing_time),
        cmocka_unit_test(dates_refuse_what_is_not_a_date),
        cmocka_unit_test_setup_teardown(key_is_shown_once_and_stored_only_as_a_hash, keys_setup,
                                        keys_teardown),
        cmocka_unit_test_setup_teardown(
            key_check_refuses_missing_malformed_unknown_and_revoked_keys, keys_setup,
            keys_teardown),
        cmocka_unit_test_setup_teardown(keys_of_one_client_are_revoked_by_name_or_one_by_id,
                                        keys_setup, keys_teardown),
        cmocka_unit_test_setup_teardown(keys_are_made_by_the_system_only_with_a_sound_name,
                                        keys_setup, keys_teardown),
        cmocka_unit_test(media_urls_are_http_or_https_of_visible_ascii),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
