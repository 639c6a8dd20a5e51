/* test_multipart.c - multipart/form-data bodies (src/net/multipart.c). */
#include "support.h"

#include "base/buf.h"
#include "net/multipart.h"

#include <stdlib.h>

#define MAX_PARTS 8

/* What Chrome sends for a form with two text fields and a photo. */
static const char BROWSER_TYPE[] =
    "multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW";
static const char BROWSER_BODY[] = "------WebKitFormBoundary7MA4YWxkTrZu0gW\r\n"
                                   "Content-Disposition: form-data; name=\"title\"\r\n"
                                   "\r\n"
                                   "楼道堆物\r\n"
                                   "------WebKitFormBoundary7MA4YWxkTrZu0gW\r\n"
                                   "Content-Disposition: form-data; name=\"category\"\r\n"
                                   "\r\n"
                                   "clutter\r\n"
                                   "------WebKitFormBoundary7MA4YWxkTrZu0gW\r\n"
                                   "Content-Disposition: form-data; name=\"photo\"; "
                                   "filename=\"楼道 1.jpg\"\r\n"
                                   "Content-Type: image/jpeg\r\n"
                                   "\r\n"
                                   "\xff\xd8\xff\xe0\r\n\r\n--\x00\x01"
                                   "binary\r\n"
                                   "------WebKitFormBoundary7MA4YWxkTrZu0gW--\r\n";

static int parse(const char *type, const char *body, size_t len, struct multipart_part *parts,
                 int *n, struct linli_err *err)
{
    memset(err, 0, sizeof *err);
    return multipart_parse(type, body, len, parts, MAX_PARTS, n, err);
}

static void assert_data(const struct multipart_part *p, const char *want, size_t len)
{
    assert_int_equal(p->len, len);
    assert_memory_equal(p->data, want, len);
}

static void browser_form_gives_two_fields_and_a_file(void **state)
{
    (void)state;
    struct multipart_part parts[MAX_PARTS];
    struct linli_err err;
    int n = -1;
    assert_ok(parse(BROWSER_TYPE, BROWSER_BODY, sizeof BROWSER_BODY - 1, parts, &n, &err), &err);
    assert_int_equal(n, 3);
    assert_string_equal(parts[0].name, "title");
    assert_data(&parts[0], "楼道堆物", strlen("楼道堆物"));
    assert_false(parts[0].has_filename);
    assert_string_equal(parts[0].content_type, "");
    assert_string_equal(parts[1].name, "category");
    assert_data(&parts[1], "clutter", 7);
    assert_string_equal(parts[2].name, "photo");
    assert_true(parts[2].has_filename);
    assert_string_equal(parts[2].filename, "楼道 1.jpg");
    assert_string_equal(parts[2].content_type, "image/jpeg");
    assert_data(&parts[2],
                "\xff\xd8\xff\xe0\r\n\r\n--\x00\x01"
                "binary",
                18);
    /* No copies: the data lies in the body. */
    assert_true(parts[2].data > BROWSER_BODY && parts[2].data < BROWSER_BODY + sizeof BROWSER_BODY);
    assert_ptr_equal(multipart_find(parts, n, "category"), &parts[1]);
    assert_null(multipart_find(parts, n, "missing"));
}

static void quoted_boundary_with_spaces_and_other_parameters(void **state)
{
    (void)state;
    const char *type = "Multipart/Form-Data ; charset=utf-8; boundary=\"a:b=c? d\"";
    static const char body[] = "--a:b=c? d\r\n"
                               "content-disposition: FORM-DATA; name=\"x\"\r\n"
                               "\r\n"
                               "1\r\n"
                               "--a:b=c? d--";
    struct multipart_part parts[MAX_PARTS];
    struct linli_err err;
    int n;
    assert_ok(parse(type, body, sizeof body - 1, parts, &n, &err), &err);
    assert_int_equal(n, 1);
    assert_data(&parts[0], "1", 1);
}

static void boundary_inside_data_without_crlf_does_not_split(void **state)
{
    (void)state;
    const char *type = "multipart/form-data; boundary=XyZ";
    /* "--XyZ" after a byte other than LF, and "\r\n--XyZ" followed by
     * neither "--" nor CRLF, are both data. */
    static const char body[] = "--XyZ\r\n"
                               "Content-Disposition: form-data; name=\"f\"; filename=\"a.bin\"\r\n"
                               "\r\n"
                               "ab--XyZ\r\ncd\r\n--XyZabc\n--XyZ \r\nnot yet\r\n--XyZ-x"
                               "\r\n--XyZ\t \r\n"
                               "Content-Disposition: form-data; name=\"g\"\r\n"
                               "\r\n"
                               "\r\n--XyZ--\r\nepilogue";
    struct multipart_part parts[MAX_PARTS];
    struct linli_err err;
    int n;
    assert_ok(parse(type, body, sizeof body - 1, parts, &n, &err), &err);
    assert_int_equal(n, 2);
    const char *want = "ab--XyZ\r\ncd\r\n--XyZabc\n--XyZ \r\nnot yet\r\n--XyZ-x";
    assert_data(&parts[0], want, strlen(want));
    assert_data(&parts[1], "", 0); /* transport padding after the boundary is allowed */
}

static void preamble_and_epilogue_are_ignored(void **state)
{
    (void)state;
    const char *type = "multipart/form-data; boundary=b";
    static const char body[] = "This is a preamble.\r\n--b not a delimiter\r\n"
                               "\r\n--b\r\n"
                               "Content-Disposition: form-data; name=a\r\n"
                               "X-Unknown: ignored\r\n"
                               "\r\n"
                               "value\r\n"
                               "--b--\r\n--b\r\nthis is epilogue";
    struct multipart_part parts[MAX_PARTS];
    struct linli_err err;
    int n;
    assert_ok(parse(type, body, sizeof body - 1, parts, &n, &err), &err);
    assert_int_equal(n, 1);
    assert_string_equal(parts[0].name, "a");
    assert_data(&parts[0], "value", 5);
}

static void quoted_names_take_escapes_and_empty_filename_counts(void **state)
{
    (void)state;
    const char *type = "multipart/form-data; boundary=q";
    static const char body[] =
        "--q\r\n"
        "Content-Disposition: form-data; filename*=UTF-8''x.jpg; name=\"a\\\"b\\\\c\"; "
        "filename=\"\"\r\n"
        "Content-Type:   application/octet-stream  \r\n"
        "\r\n"
        "\r\n--q--";
    struct multipart_part parts[MAX_PARTS];
    struct linli_err err;
    int n;
    assert_ok(parse(type, body, sizeof body - 1, parts, &n, &err), &err);
    assert_string_equal(parts[0].name, "a\"b\\c");
    assert_true(parts[0].has_filename);
    assert_string_equal(parts[0].filename, "");
    assert_string_equal(parts[0].content_type, "application/octet-stream");
    assert_int_equal(parts[0].len, 0);
}

static void part_may_end_right_after_its_headers(void **state)
{
    (void)state;
    /* RFC 2046 lets a part be headers only: their CRLF starts the delimiter. */
    const char *type = "multipart/form-data; boundary=q";
    static const char body[] = "--q\r\nContent-Disposition: form-data; name=a\r\n\r\n--q--";
    struct multipart_part parts[MAX_PARTS];
    struct linli_err err;
    int n;
    assert_ok(parse(type, body, sizeof body - 1, parts, &n, &err), &err);
    assert_int_equal(n, 1);
    assert_int_equal(parts[0].len, 0);
}

static void bad_content_types_are_refused(void **state)
{
    (void)state;
    static const char body[] = "--b\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n--b--";
    const char *types[] = {
        NULL,
        "",
        "application/json",
        "multipart/mixed; boundary=b",
        "multipart/form-data",
        "multipart/form-data; boundary=",
        "multipart/form-data; boundary=\"\"",
        "multipart/form-data; boundary=\"b \"",
        "multipart/form-data; boundary=\"b",
        "multipart/form-data; boundary=b; boundary=b",
        "multipart/form-data; boundary=\"a<b\"",
        "multipart/form-data; boundary "
        "=b",
        "multipart/form-data; boundary="
        "12345678901234567890123456789012345678901234567890123456789012345678901",
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        struct multipart_part parts[MAX_PARTS];
        struct linli_err err;
        int n = -1;
        if (parse(types[i], body, sizeof body - 1, parts, &n, &err) != LINLI_EINVAL)
            fail_msg("accepted Content-Type %s", types[i] ? types[i] : "(none)");
        assert_int_equal(n, 0);
        assert_int_equal(err.status, LINLI_EINVAL);
        assert_contains(err.detail, "Content-Type");
    }
    /* Seventy characters is the longest allowed. */
    char type[128], long_body[256];
    const char *b70 = "1234567890123456789012345678901234567890123456789012345678901234567890";
    snprintf(type, sizeof type, "multipart/form-data; boundary=%s", b70);
    int len =
        snprintf(long_body, sizeof long_body,
                 "--%s\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n--%s--", b70, b70);
    struct multipart_part parts[MAX_PARTS];
    struct linli_err err;
    int n;
    assert_ok(parse(type, long_body, (size_t)len, parts, &n, &err), &err);
}

/* Each body is refused with a detail that contains `why`. */
static void assert_refused(const char *body, const char *why)
{
    struct multipart_part parts[MAX_PARTS];
    struct linli_err err;
    int n = -1;
    if (parse("multipart/form-data; boundary=b", body, strlen(body), parts, &n, &err) !=
        LINLI_EINVAL)
        fail_msg("accepted: %s", body);
    assert_int_equal(n, 0);
    assert_contains(err.detail, why);
}

static void malformed_bodies_are_refused(void **state)
{
    (void)state;
    assert_refused("", "no boundary line");
    assert_refused("just text", "no boundary line");
    assert_refused("--b--", "no parts");
    assert_refused("--b\r\nContent-Disposition: form-data; name=a\r\n\r\nv", "closing boundary");
    assert_refused("--b\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n--b", "closing");
    assert_refused("--b\r\nContent-Disposition: form-data\r\n\r\nv\r\n--b--", "no field name");
    assert_refused("--b\r\nContent-Disposition: form-data; name=\"\"\r\n\r\nv\r\n--b--",
                   "no field name");
    assert_refused("--b\r\nContent-Type: text/plain\r\n\r\nv\r\n--b--", "no field name");
    assert_refused("--b\r\nContent-Disposition: attachment; name=a\r\n\r\nv\r\n--b--", "form-data");
    assert_refused("--b\r\nContent-Disposition: form-data; name=a; name=c\r\n\r\nv\r\n--b--",
                   "twice");
    assert_refused("--b\r\nContent-Disposition: form-data; name=a\r\n"
                   "Content-Disposition: form-data; name=c\r\n\r\nv\r\n--b--",
                   "two Content-Dispositions");
    assert_refused("--b\r\nContent-Disposition: form-data; name=a\r\n"
                   "Content-Type: a/b\r\nContent-Type: a/b\r\n\r\nv\r\n--b--",
                   "two Content-Types");
    assert_refused("--b\r\nContent-Disposition: form-data;\r\n name=a\r\n\r\nv\r\n--b--", "folded");
    assert_refused("--b\r\nContent-Disposition: form-data; name=\"a\rb\"\r\n\r\nv\r\n--b--",
                   "control character");
    assert_refused("--b\r\nContent-Disposition: form-data; name=\"a\r\n\r\nv\r\n--b--",
                   "malformed");
    assert_refused("--b\r\nContent-Disposition form-data; name=a\r\n\r\nv\r\n--b--", "malformed");
    assert_refused("--b\r\nContent-Disposition: form-data; name=a\r\n", "cut off");
}

static void header_limits_are_enforced(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 1 << 16);
    /* A 1,000-byte line passes; 1,001 does not. */
    for (int extra = 0; extra < 2; extra++) {
        buf_reset(&b);
        buf_appends(&b, "--b\r\nContent-Disposition: form-data; name=a\r\nX-Pad: ");
        size_t line = 1000 + (size_t)extra - strlen("X-Pad: ");
        for (size_t i = 0; i < line; i++)
            buf_appends(&b, "x");
        buf_appends(&b, "\r\n\r\nv\r\n--b--");
        struct multipart_part parts[MAX_PARTS];
        struct linli_err err;
        int n;
        int rc = parse("multipart/form-data; boundary=b", b.data, b.len, parts, &n, &err);
        if (extra == 0) {
            assert_ok(rc, &err);
        } else {
            assert_int_equal(rc, LINLI_EINVAL);
            assert_contains(err.detail, "over 1000 bytes");
        }
    }
    /* Sixteen header lines pass; seventeen do not. */
    for (int extra = 0; extra < 2; extra++) {
        buf_reset(&b);
        buf_appends(&b, "--b\r\nContent-Disposition: form-data; name=a\r\n");
        for (int i = 1; i < 16 + extra; i++)
            buf_printf(&b, "X-Header-%d: %d\r\n", i, i);
        buf_appends(&b, "\r\nv\r\n--b--");
        struct multipart_part parts[MAX_PARTS];
        struct linli_err err;
        int n;
        int rc = parse("multipart/form-data; boundary=b", b.data, b.len, parts, &n, &err);
        if (extra == 0) {
            assert_ok(rc, &err);
        } else {
            assert_int_equal(rc, LINLI_EINVAL);
            assert_contains(err.detail, "more than 16 header lines");
        }
    }
    /* A field name of 127 bytes passes; 128 does not. */
    for (int extra = 0; extra < 2; extra++) {
        char name[MULTIPART_NAME_SIZE + 1];
        memset(name, 'n', sizeof name);
        name[MULTIPART_NAME_SIZE - 1 + extra] = '\0';
        buf_reset(&b);
        buf_printf(&b, "--b\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\nv\r\n--b--",
                   name);
        struct multipart_part parts[MAX_PARTS];
        struct linli_err err;
        int n;
        int rc = parse("multipart/form-data; boundary=b", b.data, b.len, parts, &n, &err);
        assert_int_equal(rc, extra ? LINLI_EINVAL : LINLI_OK);
    }
    buf_free(&b);
}

static void too_many_parts_are_refused(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 1 << 16);
    for (int i = 0; i < 3; i++)
        buf_printf(&b, "--b\r\nContent-Disposition: form-data; name=f%d\r\n\r\n%d\r\n", i, i);
    buf_appends(&b, "--b--\r\n");
    struct multipart_part parts[3];
    struct linli_err err = {0};
    int n;
    assert_ok(multipart_parse("multipart/form-data; boundary=b", b.data, b.len, parts, 3, &n, &err),
              &err);
    assert_int_equal(n, 3);
    assert_int_equal(
        multipart_parse("multipart/form-data; boundary=b", b.data, b.len, parts, 2, &n, &err),
        LINLI_EINVAL);
    assert_contains(err.detail, "more than 2 parts");
    assert_int_equal(n, 0);
    buf_free(&b);
}

static void truncated_at_every_length_is_refused(void **state)
{
    (void)state;
    const size_t full = sizeof BROWSER_BODY - 1;
    /* The body ends "--\r\n": every prefix without the closing "--" is refused. */
    const size_t closed = full - 2;
    for (size_t len = 0; len <= full; len++) {
        char *copy = malloc(len ? len : 1); /* exactly len bytes, for AddressSanitizer */
        assert_non_null(copy);
        memcpy(copy, BROWSER_BODY, len);
        struct multipart_part parts[MAX_PARTS];
        struct linli_err err;
        int n = -1;
        int rc = parse(BROWSER_TYPE, copy, len, parts, &n, &err);
        if (len < closed) {
            if (rc != LINLI_EINVAL)
                fail_msg("a prefix of %zu of %zu bytes was accepted", len, full);
            assert_int_equal(n, 0);
        } else {
            assert_ok(rc, &err);
            assert_int_equal(n, 3);
            assert_int_equal(parts[2].len, 18);
        }
        free(copy);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(browser_form_gives_two_fields_and_a_file),
        cmocka_unit_test(quoted_boundary_with_spaces_and_other_parameters),
        cmocka_unit_test(boundary_inside_data_without_crlf_does_not_split),
        cmocka_unit_test(preamble_and_epilogue_are_ignored),
        cmocka_unit_test(quoted_names_take_escapes_and_empty_filename_counts),
        cmocka_unit_test(part_may_end_right_after_its_headers),
        cmocka_unit_test(bad_content_types_are_refused),
        cmocka_unit_test(malformed_bodies_are_refused),
        cmocka_unit_test(header_limits_are_enforced),
        cmocka_unit_test(too_many_parts_are_refused),
        cmocka_unit_test(truncated_at_every_length_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
