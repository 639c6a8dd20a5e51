/* arena.h - a per-request memory pool. Everything a request allocates from
 * its arena is released at once when the request completes; nothing in it
 * is freed individually. */
#ifndef LINLI_ARENA_H
#define LINLI_ARENA_H

#include <stddef.h>

struct arena_chunk;

struct arena {
    struct arena_chunk *head;
    size_t chunk_size;
};

void arena_init(struct arena *a, size_t chunk_size);
/* Returns zeroed, max-aligned memory owned by the arena, or NULL when out of memory. */
void *arena_alloc(struct arena *a, size_t size);
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
void arena_free(struct arena *a); /* releases every allocation */

#endif
