/* cursor.c - "c" + the id in base 36 + two check characters from a mix of
 * all the id's bits; short, URL-safe, and opaque enough that clients do not
 * build their own (a mistyped cursor is caught 1295 times in 1296). */
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

void cursor_encode(int64_t last_id, char out[CURSOR_MAX])
{
    uint64_t v = (uint64_t)last_id;
    char tmp[16];
    int n = 0;
    do {
        tmp[n++] = digits36[v % 36];
        v /= 36;
    } while (v && n < 15);
    int k = 0;
    out[k++] = 'c';
    while (n)
        out[k++] = tmp[--n];
    unsigned c = check_value((uint64_t)last_id);
    out[k++] = digits36[c / 36];
    out[k++] = digits36[c % 36];
    out[k] = '\0';
}

int cursor_decode(const char *t, int64_t *last_id)
{
    size_t len = strlen(t);
    if (len < 4 || len > 18 || t[0] != 'c' || (t[1] == '0' && len > 4))
        return -1; /* only the form cursor_encode makes: no leading zeros */
    uint64_t v = 0;
    for (size_t i = 1; i + 2 < len; i++) {
        const char *p = strchr(digits36, t[i]);
        if (!p || !t[i] || v > (UINT64_MAX - 35) / 36)
            return -1;
        v = v * 36 + (uint64_t)(p - digits36);
    }
    unsigned c = check_value(v);
    if (v > INT64_MAX || digits36[c / 36] != t[len - 2] || digits36[c % 36] != t[len - 1])
        return -1;
    *last_id = (int64_t)v;
    return 0;
}
