/* jx.c - strict JSON decoding. */
#include "base/jx.h"

#include <string.h>

json_t *jx_parse_object(const char *data, size_t len, struct linli_err *err)
{
    json_error_t je;
    if (len == 0) {
        linli_fail(err, LINLI_EINVAL, "The request body is empty; a JSON object is expected.");
        return NULL;
    }
    json_t *v = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
    if (!v) {
        linli_fail(err, LINLI_EINVAL, "The body is not valid JSON: %s (line %d, column %d).",
                   je.text, je.line, je.column);
        return NULL;
    }
    if (!json_is_object(v)) {
        json_decref(v);
        linli_fail(err, LINLI_EINVAL, "The body must be a JSON object.");
        return NULL;
    }
    return v;
}

static const char *type_name(enum jx_type t)
{
    switch (t) {
    case JX_STRING:
        return "a string";
    case JX_INT:
        return "a whole number";
    case JX_NUMBER:
        return "a number";
    case JX_BOOL:
        return "true or false";
    case JX_OBJECT:
        return "an object";
    case JX_ARRAY:
        return "an array";
    }
    return "?";
}

static bool type_ok(const json_t *v, enum jx_type t)
{
    switch (t) {
    case JX_STRING:
        return json_is_string(v);
    case JX_INT:
        return json_is_integer(v);
    case JX_NUMBER:
        return json_is_number(v);
    case JX_BOOL:
        return json_is_boolean(v);
    case JX_OBJECT:
        return json_is_object(v);
    case JX_ARRAY:
        return json_is_array(v);
    }
    return false;
}

size_t jx_utf8_len(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

static int check(const json_t *obj, const struct jx_field *fields, size_t n, bool partial,
                 struct linli_err *err)
{
    int bad = 0;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        const struct jx_field *f = NULL;
        for (size_t i = 0; i < n; i++)
            if (!strcmp(fields[i].name, key))
                f = &fields[i];
        if (!f) {
            bad = linli_field(err, key, "unknown field");
            continue;
        }
        if (json_is_null(v)) {
            if (!f->nullable)
                bad = linli_field(err, key, "must not be null");
            continue;
        }
        if (!type_ok(v, f->type)) {
            bad = linli_field(err, key, "must be %s", type_name(f->type));
            continue;
        }
        if (f->type == JX_STRING && f->max_len && jx_utf8_len(json_string_value(v)) > f->max_len)
            bad = linli_field(err, key, "must be at most %zu characters", f->max_len);
        if (f->type == JX_STRING && strlen(json_string_value(v)) != json_string_length(v))
            bad = linli_field(err, key, "must not contain NUL characters");
    }
    for (size_t i = 0; i < n && !partial; i++)
        if (fields[i].required && !json_object_get(obj, fields[i].name))
            bad = linli_field(err, fields[i].name, "is required");
    return bad ? LINLI_EINVAL : LINLI_OK;
}

int jx_check(const json_t *obj, const struct jx_field *fields, size_t n, struct linli_err *err)
{
    return check(obj, fields, n, false, err);
}

int jx_check_partial(const json_t *obj, const struct jx_field *fields, size_t n,
                     struct linli_err *err)
{
    return check(obj, fields, n, true, err);
}

const char *jx_str(const json_t *obj, const char *name)
{
    return json_string_value(json_object_get(obj, name));
}

int64_t jx_int(const json_t *obj, const char *name, int64_t def)
{
    json_t *v = json_object_get(obj, name);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : def;
}

int jx_bool(const json_t *obj, const char *name, int def)
{
    json_t *v = json_object_get(obj, name);
    return json_is_boolean(v) ? json_is_true(v) : def;
}

bool jx_has(const json_t *obj, const char *name)
{
    return json_object_get(obj, name) != NULL;
}
