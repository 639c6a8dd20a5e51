/* cursor.c - "c" + the id in base 36 + two check characters from a mix of
 * all the id's bits; short, URL-safe, and opaque enough that clients do not
 * build their own (a mistyped cursor is caught 1295 times in 1296). A keyed
 * cursor is "k" + the key + "-" + the id, checked the same way over both. */
#include "base/cursor.h"

#include <string.h>

static const char digits36[] = "0123456789abcdefghijklmnopqrstuvwxyz";

static unsigned check_value(uint64_t v)
{
    /* splitmix64's finaliser: every input bit affects every output bit. */
    v ^= v >> 30;
    v *= 0xbf58476d1ce4e5b9ull;
    v ^= v >> 27;
    v *= 0x94d049bb133111ebull;
    v ^= v >> 31;
    return (unsigned)(v % (36 * 36));
}

/* Writes v in base 36 at out (no leading zeros); returns the characters written. */
static int put36(uint64_t v, char *out)
{
    char tmp[16];
    int n = 0;
    do {
        tmp[n++] = digits36[v % 36];
        v /= 36;
    } while (v && n < 15);
    for (int i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}

/* Reads base 36 from t[0..len) in the form put36 writes; 0 or -1. */
static int get36(const char *t, size_t len, uint64_t *out)
{
    if (len < 1 || len > 13 || (t[0] == '0' && len > 1))
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        const char *p = t[i] ? strchr(digits36, t[i]) : NULL;
        if (!p || v > (UINT64_MAX - 35) / 36)
            return -1;
        v = v * 36 + (uint64_t)(p - digits36);
    }
    if (v > INT64_MAX)
        return -1;
    *out = v;
    return 0;
}

void cursor_encode(int64_t last_id, char out[CURSOR_MAX])
{
    int n = 0;
    out[n++] = 'c';
    n += put36((uint64_t)last_id, out + n);
    unsigned c = check_value((uint64_t)last_id);
    out[n++] = digits36[c / 36];
    out[n++] = digits36[c % 36];
    out[n] = '\0';
}

int cursor_decode(const char *t, int64_t *last_id)
{
    size_t len = strlen(t);
    uint64_t v;
    if (len < 4 || len > 18 || t[0] != 'c' || get36(t + 1, len - 3, &v))
        return -1; /* only the form cursor_encode makes: no leading zeros */
    unsigned c = check_value(v);
    if (digits36[c / 36] != t[len - 2] || digits36[c % 36] != t[len - 1])
        return -1;
    *last_id = (int64_t)v;
    return 0;
}

static unsigned check_pair(uint64_t key, uint64_t id)
{
    return check_value(key * 0x9e3779b97f4a7c15ull ^ id);
}

void cursor_encode_key(int64_t key, int64_t last_id, char out[CURSOR_MAX])
{
    uint64_t k = key > 0 ? (uint64_t)key : 0, id = last_id > 0 ? (uint64_t)last_id : 0;
    int n = 0;
    out[n++] = 'k';
    n += put36(k, out + n);
    out[n++] = '-';
    n += put36(id, out + n);
    unsigned c = check_pair(k, id);
    out[n++] = digits36[c / 36];
    out[n++] = digits36[c % 36];
    out[n] = '\0';
}

int cursor_decode_key(const char *t, int64_t *key, int64_t *last_id)
{
    size_t len = strlen(t);
    if (len < 6 || len > CURSOR_MAX - 1 || t[0] != 'k')
        return -1;
    const char *dash = memchr(t + 1, '-', len - 3);
    if (!dash)
        return -1;
    size_t klen = (size_t)(dash - (t + 1)), ilen = len - 2 - (size_t)(dash + 1 - t);
    uint64_t k, id;
    if (get36(t + 1, klen, &k) || get36(dash + 1, ilen, &id))
        return -1;
    unsigned c = check_pair(k, id);
    if (digits36[c / 36] != t[len - 2] || digits36[c % 36] != t[len - 1])
        return -1;
    *key = (int64_t)k;
    *last_id = (int64_t)id;
    return 0;
}
