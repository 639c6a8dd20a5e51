/* jx.h - strict JSON decoding on top of jansson. A request body is checked
 * against a table of the fields it may have: wrong types, missing required
 * fields, over-long strings and unknown fields each become a field error. */
#ifndef LINLI_JX_H
#define LINLI_JX_H

#include "base/status.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum jx_type { JX_STRING, JX_INT, JX_NUMBER, JX_BOOL, JX_OBJECT, JX_ARRAY };

struct jx_field {
    const char *name;
    enum jx_type type;
    bool required;
    bool nullable;  /* JSON null is accepted (meaning "clear") */
    size_t max_len; /* JX_STRING: most characters (code points); 0 = no limit */
};

/* Parses `len` bytes as one JSON object. Duplicate keys, trailing data and a
 * non-object top level are refused. Returns a new reference or NULL with
 * err filled (EINVAL, detail says where the JSON is broken). */
json_t *jx_parse_object(const char *data, size_t len, struct linli_err *err);

/* Checks `obj` against `fields`. Returns 0 or EINVAL with one field error per
 * problem found (all of them, not just the first). */
int jx_check(const json_t *obj, const struct jx_field *fields, size_t n, struct linli_err *err);

/* The same for a partial change (PATCH): the fields of the whole object, none
 * of them required. */
int jx_check_partial(const json_t *obj, const struct jx_field *fields, size_t n,
                     struct linli_err *err);

/* Accessors after jx_check: NULL/def when absent or null. */
const char *jx_str(const json_t *obj, const char *name);
int64_t jx_int(const json_t *obj, const char *name, int64_t def);
int jx_bool(const json_t *obj, const char *name, int def);
bool jx_has(const json_t *obj, const char *name); /* present, even as null */

/* Number of Unicode code points in valid UTF-8 text. */
size_t jx_utf8_len(const char *s);

#endif
