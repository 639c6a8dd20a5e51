/* fuzz_json.c - request bodies: the bytes go through jx_parse_object and, when
 * they are an object, through jx_check against a field table shaped like the
 * users API's, then through the accessors a handler would call. Nothing may
 * crash, read out of bounds or leak (everything is freed on every path).
 *
 * Besides "no crash" it checks the contract the handlers rely on:
 *  - jx_parse_object returns an object or NULL with EINVAL and a detail;
 *  - jx_check returns OK with no field errors, or EINVAL with at least one;
 *  - after an OK check every present field has its declared type, required
 *    fields are there, strings are within max_len code points and hold no NUL. */
#include "base/jx.h"
#include "base/status.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const struct jx_field fields[] = {
    {"username", JX_STRING, true, false, 32},  {"display_name", JX_STRING, false, false, 64},
    {"role", JX_STRING, true, false, 16},      {"scope", JX_STRING, false, true, 12},
    {"password", JX_STRING, false, true, 128}, {"disabled", JX_BOOL, false, false, 0},
    {"limit", JX_INT, false, false, 0},        {"ratio", JX_NUMBER, false, true, 0},
    {"tags", JX_ARRAY, false, true, 0},        {"meta", JX_OBJECT, false, false, 0},
};
#define NFIELDS (sizeof fields / sizeof fields[0])

static void check_err(const struct linli_err *err)
{
    if (err->nfields < 0 || err->nfields > LINLI_ERR_FIELDS)
        abort();
    /* Every text must be terminated inside its buffer. */
    if (!memchr(err->detail, '\0', sizeof err->detail))
        abort();
    for (int i = 0; i < err->nfields; i++)
        if (!memchr(err->fields[i].field, '\0', sizeof err->fields[i].field) ||
            !memchr(err->fields[i].message, '\0', sizeof err->fields[i].message))
            abort();
}

static void check_valid(const json_t *obj)
{
    for (size_t i = 0; i < NFIELDS; i++) {
        const struct jx_field *f = &fields[i];
        json_t *v = json_object_get(obj, f->name);
        if (!v) {
            if (f->required)
                abort();
            continue;
        }
        if (json_is_null(v)) {
            if (!f->nullable)
                abort();
            continue;
        }
        switch (f->type) {
        case JX_STRING: {
            if (!json_is_string(v))
                abort();
            const char *s = jx_str(obj, f->name);
            if (!s || strlen(s) != json_string_length(v))
                abort();
            if (f->max_len && jx_utf8_len(s) > f->max_len)
                abort();
            break;
        }
        case JX_INT:
            if (!json_is_integer(v))
                abort();
            (void)jx_int(obj, f->name, -1);
            break;
        case JX_NUMBER:
            if (!json_is_number(v))
                abort();
            break;
        case JX_BOOL:
            if (!json_is_boolean(v))
                abort();
            if (jx_bool(obj, f->name, -1) < 0)
                abort();
            break;
        case JX_OBJECT:
            if (!json_is_object(v))
                abort();
            break;
        case JX_ARRAY:
            if (!json_is_array(v))
                abort();
            break;
        }
    }
    /* Only known fields survive a successful check. */
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        size_t i = 0;
        while (i < NFIELDS && strcmp(fields[i].name, key) != 0)
            i++;
        if (i == NFIELDS)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct linli_err err;
    linli_err_clear(&err);
    json_t *obj = jx_parse_object((const char *)data, size, &err);
    check_err(&err);
    if (!obj) {
        if (err.status != LINLI_EINVAL || !err.detail[0])
            abort();
        return 0;
    }
    if (!json_is_object(obj) || err.status != LINLI_OK)
        abort();

    linli_err_clear(&err);
    int rc = jx_check(obj, fields, NFIELDS, &err);
    check_err(&err);
    if (rc == LINLI_OK) {
        if (err.nfields != 0 || err.status != LINLI_OK)
            abort();
        check_valid(obj);
    } else if (rc != LINLI_EINVAL || err.status != LINLI_EINVAL || err.nfields == 0) {
        abort();
    }

    /* What a handler does with any object, valid or not. */
    (void)jx_str(obj, "username");
    (void)jx_str(obj, "missing");
    (void)jx_int(obj, "limit", 0);
    (void)jx_bool(obj, "disabled", 0);
    (void)jx_has(obj, "scope");
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        if (json_is_string(v))
            (void)jx_utf8_len(json_string_value(v));
    }
    /* Re-serialising must work on anything we accepted. */
    char *text = json_dumps(obj, JSON_COMPACT);
    free(text);
    json_decref(obj);
    return 0;
}
