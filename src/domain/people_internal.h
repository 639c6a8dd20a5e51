/* people_internal.h - what people.c shares with people_search.c and
 * people_import.c: the columns a profile is read with, reading a row and its
 * contacts, and inserting a profile. Internal to src/domain: other modules
 * call people.h. Defined in people.c. */
#ifndef LINLI_PEOPLE_INTERNAL_H
#define LINLI_PEOPLE_INTERNAL_H

#include "base/status.h"
#include "domain/people.h"
#include "store/store.h"

#include <stddef.h>
#include <stdint.h>

/* The columns people__from_row reads, in its order, and the join that names
 * the community; statements are written as "SELECT " PERSON_COLUMNS PERSON_FROM. */
#define PERSON_COLUMNS                                                                             \
    "p.id, p.name, p.id_number, p.birth_date, p.sex, p.phone, p.address, p.lat, p.lon,"            \
    " p.community_code, a.name, p.living_alone, p.care_level, p.disability, p.subsidy_class,"      \
    " p.conditions, p.consent, p.created_at, p.updated_at"
#define PERSON_FROM " FROM people p LEFT JOIN areas a ON a.code = p.community_code"

/* Copies text column `i` into `dst` ("" for NULL), cut to `size`. */
void people__copy_col(char *dst, size_t size, sqlite3_stmt *st, int i);
/* Fills `p` from a row of PERSON_COLUMNS; its contacts are left empty. */
void people__from_row(sqlite3_stmt *st, struct person *p);
/* Reads the emergency contacts of person p->id into `p`, in order (call inside a store job). */
int people__load_contacts(struct store_conn *c, struct person *p, struct linli_err *err);
/* Inserts checked profile `p` and its contacts inside a write job and sets *id;
 * ECONFLICT with a field error when its ID number is recorded already. */
int people__insert(struct store_conn *c, const struct person *p, int64_t now, int64_t *id,
                   struct linli_err *err);

#endif
