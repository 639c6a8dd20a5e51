/* registry_internal.h - what registry.c and registry_import.c share: the
 * area row reader, history events and the statements both run. Not for
 * other modules: they call registry.h. */
#ifndef LINLI_REGISTRY_INTERNAL_H
#define LINLI_REGISTRY_INTERNAL_H

#include "domain/registry.h"

extern const char
    registry__sql_insert[]; /* ?1 code ?2 name ?3 level ?4 kind ?5 parent ?6 edition ?7 now */
extern const char registry__sql_retire[]; /* ?1 code ?2 edition ?3 now */

/* Appends a history event (inside a write job). */
int registry__event(struct store_conn *c, const char *code, int edition, const char *event,
                    const char *old_value, const char *new_value, const char *related,
                    struct linli_err *err);

/* Reads one area; *found tells whether it exists. */
int registry__load(struct store_conn *c, const char *code, struct area *out, bool *found,
                   struct linli_err *err);

/* 0 district, 1 street/township, 2 community/village, -1 for an unknown kind. */
int registry__level_of_kind(const char *kind);

#endif
