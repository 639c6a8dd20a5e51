/* fuzz_photo.c - what a photo upload meets first: multipart_parse over the
 * request body, then photo_inspect and photo_strip over each file.
 *
 * The whole input is inspected as a photo. Beyond "no crash, no leak" it
 * checks what the cases module relies on:
 *  - an accepted photo strips without error, and the copy is accepted with
 *    the same type and size, no GPS, and (JPEG, WebP) the same orientation;
 *  - stripping the copy again gives the same bytes (strip is a fixed point);
 *  - a refused photo fills err with the status it returns.
 *
 * The input is also parsed as a multipart body twice: with a fixed boundary,
 * and with its first line as the Content-Type and the rest as the body.
 * Every part must lie inside the body, have a name and be at most max_parts
 * many; each part's data is then inspected as a photo, as the API will do.
 * Inputs are copied to blocks of exactly their size so AddressSanitizer sees
 * any read past the end. */
#include "base/buf.h"
#include "media/photo.h"
#include "net/multipart.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PARTS        8
#define MAX_CONTENT_TYPE 256

static void check_photo(const uint8_t *data, size_t size)
{
    struct photo_info info;
    struct linli_err err = {0};
    int rc = photo_inspect(data, size, NULL, &info, &err);
    if (rc != LINLI_OK) {
        if (err.status != rc || info.type != -1 || !memchr(err.detail, '\0', sizeof err.detail))
            abort();
        return;
    }
    if (info.width < 1 || info.height < 1 || info.orientation < 1 || info.orientation > 8)
        abort();

    struct buf once, twice;
    buf_init(&once, size + PHOTO_STRIP_SLACK);
    buf_init(&twice, size + PHOTO_STRIP_SLACK);
    if (photo_strip(data, size, &info, &once, &err) != LINLI_OK)
        abort();
    struct photo_info after;
    if (photo_inspect(once.data, once.len, NULL, &after, &err) != LINLI_OK)
        abort();
    if (after.type != info.type || after.width != info.width || after.height != info.height ||
        after.has_gps)
        abort();
    if (info.type != PHOTO_PNG && after.orientation != info.orientation)
        abort();
    if (photo_strip(once.data, once.len, &after, &twice, &err) != LINLI_OK ||
        twice.len != once.len || memcmp(twice.data, once.data, once.len) != 0)
        abort();
    buf_free(&once);
    buf_free(&twice);
}

static void check_form(const char *content_type, const uint8_t *body, size_t size)
{
    struct multipart_part parts[MAX_PARTS];
    struct linli_err err = {0};
    int n = -1;
    int rc = multipart_parse(content_type, body, size, parts, MAX_PARTS, &n, &err);
    if (rc != LINLI_OK) {
        if (n != 0 || err.status != rc)
            abort();
        return;
    }
    if (n < 1 || n > MAX_PARTS)
        abort();
    const char *begin = (const char *)body, *end = begin + size;
    for (int i = 0; i < n; i++) {
        const struct multipart_part *p = &parts[i];
        if (!p->name[0] || !memchr(p->name, '\0', sizeof p->name) ||
            !memchr(p->filename, '\0', sizeof p->filename) ||
            !memchr(p->content_type, '\0', sizeof p->content_type))
            abort();
        if (p->data < begin || p->data > end || p->len > (size_t)(end - p->data))
            abort();
        if (multipart_find(parts, n, p->name) > p)
            abort();
        check_photo((const uint8_t *)p->data, p->len);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    check_photo(copy, size);
    check_form("multipart/form-data; boundary=XyZ", copy, size);
    free(copy);

    const uint8_t *nl = memchr(data, '\n', size < MAX_CONTENT_TYPE ? size : MAX_CONTENT_TYPE);
    if (nl) {
        size_t line = (size_t)(nl - data);
        char type[MAX_CONTENT_TYPE + 1];
        memcpy(type, data, line);
        type[line] = '\0';
        size_t rest = size - line - 1;
        uint8_t *body = malloc(rest ? rest : 1);
        if (!body)
            return 0;
        memcpy(body, nl + 1, rest);
        check_form(type, body, rest);
        free(body);
    }
    return 0;
}
