/* open311_xml.c - the XML form of Open311 answers and ISO 8601 dates with
 * Beijing's offset (see open311_xml.h). */
#include "api/open311_xml.h"

#include "base/clock.h"
#include "base/status.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- escaping ---- */

/* Length of the well-formed UTF-8 sequence at s (at most `left` bytes) and
 * its code point, or 0 when the bytes are not one. */
static size_t utf8_decode(const unsigned char *s, size_t left, unsigned *cp)
{
    unsigned c = s[0];
    size_t n;
    unsigned min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2, min = 0x80, c &= 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3, min = 0x800, c &= 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4, min = 0x10000, c &= 0x07;
    } else {
        return 0;
    }
    if (left < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return n;
}

bool open311_utf8_valid(const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    for (size_t i = 0; i < len;) {
        unsigned cp;
        size_t n = utf8_decode(s + i, len - i, &cp);
        if (!n || cp == 0)
            return false;
        i += n;
    }
    return true;
}

/* True for the characters XML 1.0 allows in a document. */
static bool xml_char(unsigned cp)
{
    if (cp < 0x20)
        return cp == '\t' || cp == '\n' || cp == '\r';
    return cp != 0xFFFE && cp != 0xFFFF;
}

int open311_xml_escape(struct buf *out, const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0, run = 0; /* bytes from `run` to `i` go out as they are */
    int rc;
    while (i < len) {
        unsigned cp = 0;
        size_t n = utf8_decode(s + i, len - i, &cp);
        const char *entity = NULL;
        if (n == 1) {
            switch (cp) {
            case '&':
                entity = "&amp;";
                break;
            case '<':
                entity = "&lt;";
                break;
            case '>':
                entity = "&gt;";
                break;
            case '"':
                entity = "&quot;";
                break;
            case '\'':
                entity = "&apos;";
                break;
            default:
                break;
            }
        }
        if (n && !entity && xml_char(cp)) {
            i += n;
            continue;
        }
        if (i > run && (rc = buf_append(out, text + run, i - run)))
            return rc;
        if (entity && (rc = buf_appends(out, entity)))
            return rc;
        i += n ? n : 1; /* a byte that is not UTF-8 is dropped alone */
        run = i;
    }
    if (i > run && (rc = buf_append(out, text + run, i - run)))
        return rc;
    return LINLI_OK;
}

/* ---- elements ---- */

static const char *const item_names[][2] = {
    {"services", "service"},     {"service_requests", "request"},
    {"attributes", "attribute"}, {"values", "value"},
    {"endpoints", "endpoint"},   {"formats", "format"},
    {"errors", "error"},         {"service_requests_updates", "request_update"},
};

const char *open311_xml_item_name(const char *plural)
{
    for (size_t i = 0; i < sizeof item_names / sizeof item_names[0]; i++)
        if (!strcmp(item_names[i][0], plural))
            return item_names[i][1];
    return "item";
}

/* Our member names are fixed words; anything else is not written. */
static bool xml_name(const char *s)
{
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
        return false;
    for (s++; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '-' || *s == '.'))
            return false;
    return true;
}

static int write_element(struct buf *out, const char *name, json_t *v, int depth);

static int write_content(struct buf *out, const char *name, json_t *v, int depth)
{
    int rc = LINLI_OK;
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *key;
        json_t *member;
        json_object_foreach(v, key, member)
        {
            if (xml_name(key) && (rc = write_element(out, key, member, depth + 1)))
                return rc;
        }
        return LINLI_OK;
    }
    case JSON_ARRAY: {
        const char *item = open311_xml_item_name(name);
        size_t i;
        json_t *each;
        json_array_foreach(v, i, each)
        {
            if ((rc = write_element(out, item, each, depth + 1)))
                return rc;
        }
        return LINLI_OK;
    }
    case JSON_STRING:
        return open311_xml_escape(out, json_string_value(v), json_string_length(v));
    case JSON_TRUE:
        return buf_appends(out, "true");
    case JSON_FALSE:
        return buf_appends(out, "false");
    case JSON_INTEGER:
    case JSON_REAL: {
        char *text = json_dumps(v, JSON_ENCODE_ANY | OPEN311_REAL_PRECISION);
        if (!text)
            return LINLI_ENOMEM;
        rc = buf_appends(out, text);
        free(text);
        return rc;
    }
    case JSON_NULL:
    default:
        return LINLI_OK;
    }
}

/* Nesting deeper than this is not an Open311 answer; it is cut short. */
#define XML_DEPTH_MAX 16

static int write_element(struct buf *out, const char *name, json_t *v, int depth)
{
    if (depth > XML_DEPTH_MAX)
        return LINLI_OK;
    int rc;
    if (json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0) ||
        ((json_is_array(v) && json_array_size(v) == 0) ||
         (json_is_object(v) && json_object_size(v) == 0)))
        return buf_printf(out, "<%s/>", name);
    if ((rc = buf_printf(out, "<%s>", name)) || (rc = write_content(out, name, v, depth)))
        return rc;
    return buf_printf(out, "</%s>", name);
}

int open311_xml_write(struct buf *out, const char *root, json_t *v)
{
    int rc = buf_appends(out, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    if (rc)
        return rc;
    if ((rc = write_element(out, root, v, 0)))
        return rc;
    return buf_appends(out, "\n");
}

/* ---- dates ---- */

char *open311_format_time(int64_t ms, char out[OPEN311_TIME_SIZE])
{
    int64_t s = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000); /* floor */
    time_t t = (time_t)(s + OPEN311_UTC_OFFSET_S);
    struct tm tm;
    if (!gmtime_r(&t, &tm)) {
        snprintf(out, OPEN311_TIME_SIZE, "1970-01-01T08:00:00+08:00");
        return out;
    }
    int off = OPEN311_UTC_OFFSET_S < 0 ? -OPEN311_UTC_OFFSET_S : OPEN311_UTC_OFFSET_S;
    char offset[8] = {OPEN311_UTC_OFFSET_S >= 0 ? '+' : '-',
                      (char)('0' + off / 36000 % 10),
                      (char)('0' + off / 3600 % 10),
                      ':',
                      (char)('0' + off / 600 % 6),
                      (char)('0' + off / 60 % 10),
                      '\0'};
    /* strftime writes the date and time; the offset is fixed text. */
    size_t n = strftime(out, OPEN311_TIME_SIZE - sizeof offset + 1, "%Y-%m-%dT%H:%M:%S", &tm);
    memcpy(out + n, offset, sizeof offset - 1);
    out[n + sizeof offset - 2] = '\0';
    return out;
}

/* Longest date text taken: a date, a time, nine digits of fraction and an offset. */
#define TIME_TEXT_MAX 40

int open311_parse_time(const char *text, int64_t *ms)
{
    size_t len = text ? strlen(text) : 0;
    char t[TIME_TEXT_MAX + 8];
    if (len < 10 || len > TIME_TEXT_MAX)
        return -1;
    memcpy(t, text, len + 1);
    char offset[8];
    snprintf(offset, sizeof offset, "%c%02d:%02d", OPEN311_UTC_OFFSET_S >= 0 ? '+' : '-',
             OPEN311_UTC_OFFSET_S / 3600 % 24, OPEN311_UTC_OFFSET_S / 60 % 60);
    if (len == 10) {
        /* a bare date: midnight in Beijing */
        snprintf(t + 10, sizeof t - 10, "T00:00:00%s", offset);
        return clock_parse_rfc3339(t, ms);
    }
    if (len < 19)
        return -1;
    size_t p = 19;
    if (t[p] == '.')
        for (p++; t[p] >= '0' && t[p] <= '9'; p++)
            ;
    if (t[p] == '\0')
        snprintf(t + p, sizeof t - p, "%s", offset); /* no offset: Beijing time */
    else if (t[p] == ' ' && strlen(t + p) == 6)
        t[p] = '+'; /* "+08:00" arrived as " 08:00" */
    return clock_parse_rfc3339(t, ms);
}
