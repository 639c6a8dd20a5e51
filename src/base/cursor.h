/* cursor.h - opaque list cursors. A cursor carries the sort key of the last
 * row a page returned; clients pass it back verbatim and never parse it. */
#ifndef LINLI_CURSOR_H
#define LINLI_CURSOR_H

#include <stdint.h>

#define CURSOR_MAX 32

void cursor_encode(int64_t last_id, char out[CURSOR_MAX]);
/* Returns 0 and the id, or -1 when the text is not a cursor we made. */
int cursor_decode(const char *text, int64_t *last_id);

/* A cursor for a list in another order than by id: the last row's sort key
 * (>= 0, e.g. a time in ms) and its id, which breaks ties. "k" + both in
 * base 36 + two check characters; never mistaken for an id cursor. */
void cursor_encode_key(int64_t key, int64_t last_id, char out[CURSOR_MAX]);
/* Returns 0 with the key and id, or -1 when the text is not such a cursor. */
int cursor_decode_key(const char *text, int64_t *key, int64_t *last_id);

#endif
