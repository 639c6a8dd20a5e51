/* cursor.h - opaque list cursors. A cursor carries the sort key of the last
 * row a page returned; clients pass it back verbatim and never parse it. */
#ifndef LINLI_CURSOR_H
#define LINLI_CURSOR_H

#include <stdint.h>

#define CURSOR_MAX 32

void cursor_encode(int64_t last_id, char out[CURSOR_MAX]);
/* Returns 0 and the id, or -1 when the text is not a cursor we made. */
int cursor_decode(const char *text, int64_t *last_id);

#endif
