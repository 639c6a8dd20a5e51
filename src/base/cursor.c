/* cursor.c - "c" + the id in base 36 with a check digit; short, URL-safe and
 * opaque enough that clients do not build their own. */
#include "base/cursor.h"

#include <string.h>

static const char digits36[] = "0123456789abcdefghijklmnopqrstuvwxyz";

static int check_digit(uint64_t v)
{
    return (int)((v * 2654435761u + 7) % 36);
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
    out[k++] = digits36[check_digit((uint64_t)last_id)];
    out[k] = '\0';
}

int cursor_decode(const char *t, int64_t *last_id)
{
    size_t len = strlen(t);
    if (len < 3 || len > 16 || t[0] != 'c')
        return -1;
    uint64_t v = 0;
    for (size_t i = 1; i + 1 < len; i++) {
        const char *p = strchr(digits36, t[i]);
        if (!p || !t[i])
            return -1;
        v = v * 36 + (uint64_t)(p - digits36);
    }
    if (v > INT64_MAX || digits36[check_digit(v)] != t[len - 1])
        return -1;
    *last_id = (int64_t)v;
    return 0;
}
