/* fuzz_decode.c - the small parsers that see text from clients: list cursors,
 * RFC 3339 times, area codes, usernames, passwords and Idempotency-Keys.
 *
 * The input is split at '\n' into pieces; each piece is copied into a buffer
 * of exactly its length + 1 (so AddressSanitizer sees any over-read) and given
 * to every decoder. Beyond "no crash, no leak" it checks what callers rely on:
 *  - a decoded cursor re-encodes to a cursor that decodes to the same id, and
 *    a keyed cursor (sort key and id) to the very text it came from;
 *  - a parsed time, formatted and parsed again, is the same instant;
 *  - a normalised area code is 12 digits, has a level 0..2 and lies within itself;
 *  - a validator that accepts leaves no field error; one that refuses leaves one;
 *  - idem_prepare accepts only 1..255 visible ASCII characters and yields a hex hash.
 *
 * Set LINLI_FUZZ_STRICT=1 to also require that an accepted cursor is one
 * cursor_encode() makes, up to leading zeros: its digits must be the id's
 * (today a 14-digit text whose value overflows 64 bits wraps around and can
 * pass, decoding to an id its digits do not spell). */
#include "base/clock.h"
#include "base/cursor.h"
#include "domain/idem.h"
#include "domain/principal.h"
#include "domain/users.h"

#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int strict;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *s = getenv("LINLI_FUZZ_STRICT");
    strict = s && *s == '1';
    return sodium_init() < 0 ? -1 : 0;
}

static void check_err_shape(const struct linli_err *err, int rc)
{
    if (rc == LINLI_OK) {
        if (err->nfields != 0 || err->status != LINLI_OK)
            abort();
    } else if (rc != LINLI_EINVAL || err->status != LINLI_EINVAL || err->nfields != 1 ||
               !memchr(err->fields[0].message, '\0', sizeof err->fields[0].message)) {
        abort();
    }
}

static void run_cursor(const char *s)
{
    int64_t id = -1;
    if (cursor_decode(s, &id) != 0)
        return;
    if (id < 0)
        abort();
    char again[CURSOR_MAX];
    cursor_encode(id, again);
    int64_t id2 = -1;
    if (cursor_decode(again, &id2) != 0 || id2 != id)
        abort();
    if (strict) {
        /* "c", the digits without leading zeros, the check digit. */
        size_t len = strlen(s);
        size_t i = 1;
        while (i + 2 < len && s[i] == '0')
            i++;
        char canon[40];
        snprintf(canon, sizeof canon, "c%.*s", (int)(len - i), s + i);
        if (strcmp(canon, again) != 0)
            abort();
    }
}

/* A keyed cursor is accepted only in the form cursor_encode_key makes: it
 * re-encodes to the very same text. */
static void run_cursor_key(const char *s)
{
    int64_t key = -1, id = -1;
    if (cursor_decode_key(s, &key, &id) != 0)
        return;
    if (key < 0 || id < 0)
        abort();
    char again[CURSOR_MAX];
    cursor_encode_key(key, id, again);
    if (strcmp(again, s) != 0)
        abort();
}

static void run_time(const char *s)
{
    int64_t ms = 0;
    if (clock_parse_rfc3339(s, &ms) != 0)
        return;
    /* Years 0001..9998 print as four digits and so parse back. */
    const int64_t lo = -62135596800000LL + 86400000LL; /* 0001-01-02 */
    const int64_t hi = 253370678400000LL;              /* 9998-12-31 */
    if (ms < lo || ms > hi)
        return;
    char out[40];
    clock_format_rfc3339(ms, out, sizeof out);
    int64_t ms2 = 0;
    if (clock_parse_rfc3339(out, &ms2) != 0 || ms2 != ms)
        abort();
}

static void run_area(const char *s, char prev[AREA_CODE_LEN + 1])
{
    char code[AREA_CODE_LEN + 1];
    const char *why = NULL;
    if (area_code_normalize(s, code, &why) != 0) {
        if (!why)
            abort();
        return;
    }
    if (strlen(code) != AREA_CODE_LEN || strspn(code, "0123456789") != AREA_CODE_LEN)
        abort();
    int level = area_code_level(code);
    if (level < 0 || level > 2)
        abort();
    if (!area_within(code, code))
        abort();
    if (prev[0]) {
        bool in = area_within(prev, code);
        /* A code within a community-level scope is that very code. */
        if (in && area_code_level(prev) == 2 && strcmp(prev, code) != 0)
            abort();
        (void)area_within(code, prev);
    }
    memcpy(prev, code, sizeof code);
}

static void run_validators(const char *s)
{
    struct linli_err err;
    memset(&err, 0, sizeof err);
    check_err_shape(&err, users_check_username(s, &err));
    memset(&err, 0, sizeof err);
    check_err_shape(&err, users_check_password(s, &err));
}

static void run_idem(const char *key, const uint8_t *body, size_t len)
{
    struct linli_err err;
    memset(&err, 0, sizeof err);
    struct idem_req r;
    memset(&r, 0, sizeof r);
    int rc = idem_prepare(&r, key, 42, "POST /api/v1/users", body, len, &err);
    check_err_shape(&err, rc);
    size_t n = strlen(key);
    int visible = n >= 1 && n <= 255;
    for (size_t i = 0; visible && i < n; i++)
        visible = key[i] >= 0x21 && key[i] <= 0x7e;
    if ((rc == LINLI_OK) != visible)
        abort();
    if (rc == LINLI_OK && (r.key != key || r.user_id != 42 || strlen(r.hash) != 64 ||
                           strspn(r.hash, "0123456789abcdef") != 64))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char prev_area[AREA_CODE_LEN + 1] = "";
    size_t start = 0;
    int pieces = 0;
    while (start <= size && pieces < 64) {
        const uint8_t *nl = memchr(data + start, '\n', size - start);
        size_t end = nl ? (size_t)(nl - data) : size;
        size_t len = end - start;
        char *piece = malloc(len + 1);
        if (!piece)
            return 0;
        memcpy(piece, data + start, len);
        piece[len] = '\0';

        run_cursor(piece);
        run_cursor_key(piece);
        run_time(piece);
        run_area(piece, prev_area);
        run_validators(piece);
        /* The body hashed is what follows the key in the input. */
        run_idem(piece, data + end, size - end);
        run_idem(piece, NULL, 0);

        free(piece);
        pieces++;
        start = end + 1;
    }
    return 0;
}
