/* buf.h - a growable byte buffer with a hard maximum. It refuses to grow past
 * the maximum it was created with, so a request body, an SSE queue or a CSV
 * line can never take more memory than its limit. Always NUL-terminated. */
#ifndef LINLI_BUF_H
#define LINLI_BUF_H

#include <stddef.h>

struct buf {
    char *data; /* NULL until the first append */
    size_t len;
    size_t cap;
    size_t max; /* most bytes `data` may hold, excluding the terminating NUL */
};

void buf_init(struct buf *b, size_t max);
/* Appends n bytes. Returns 0, LINLI_ETOOBIG past the maximum (nothing appended),
 * or LINLI_ENOMEM. */
int buf_append(struct buf *b, const void *data, size_t n);
int buf_appends(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_reset(struct buf *b); /* empties, keeps memory */
void buf_free(struct buf *b);  /* releases memory; b may be reused after buf_init */
/* Hands the bytes to the caller (who frees them with free()); b becomes empty. */
char *buf_detach(struct buf *b, size_t *len);

#endif
