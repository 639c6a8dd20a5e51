/* open311_xml.h - the wire format of Open311 GeoReport v2 (open311.c): the
 * XML form of an answer, written from the same JSON value the .json form
 * sends, and dates in ISO 8601 with Beijing's offset.
 *
 * XML follows the specification's examples: a declaration, a root element
 * (<services>, <service_requests>, <errors>, ...), one element per object
 * member in the member's order, and a list as its plural element holding one
 * singular element per item (<attributes><attribute>, <values><value>, ...).
 * null, "" and an empty list are an empty element (<x/>); true and false
 * are the words; numbers are written as the JSON form writes them. */
#ifndef LINLI_OPEN311_XML_H
#define LINLI_OPEN311_XML_H

#include "base/buf.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Open311 dates carry an offset; ours is Beijing's, which has no daylight
 * saving time (Asia/Shanghai is UTC+08:00 all year). */
#define OPEN311_UTC_OFFSET_S (8 * 3600)
#define OPEN311_TIME_SIZE    32 /* "2026-11-25T21:10:47+08:00" and its NUL, with room */
/* Numbers are written with 12 significant digits: coordinates to a tenth of
 * a millimetre, without binary noise such as 39.921900000000001. */
#define OPEN311_REAL_PRECISION JSON_REAL_PRECISION(12)

/* Appends `len` bytes of UTF-8 `text` escaped for XML character data and
 * attribute values: & < > " ' become entities. What XML 1.0 cannot carry at
 * all is dropped: control characters other than tab, line feed and carriage
 * return, U+FFFE and U+FFFF, and bytes that are not well-formed UTF-8
 * (overlong forms and surrogates included). Returns 0, or the status of
 * buf_append (ETOOBIG, ENOMEM). */
int open311_xml_escape(struct buf *out, const char *text, size_t len);

/* True when `len` bytes at `text` are well-formed UTF-8 without NUL. */
bool open311_utf8_valid(const char *text, size_t len);

/* The element of one item of the list element `plural` ("services" ->
 * "service", "service_requests" -> "request", ...); "item" for a list the
 * table does not know. */
const char *open311_xml_item_name(const char *plural);

/* Appends the XML declaration and `v` as the element `root`. Member names
 * that are not XML names are skipped (ours always are). Returns 0, or the
 * status of buf_append. */
int open311_xml_write(struct buf *out, const char *root, json_t *v);

/* Writes `ms` (UTC milliseconds) as Beijing time with its offset, to the
 * second: "2026-11-25T21:10:47+08:00". Returns out. */
char *open311_format_time(int64_t ms, char out[OPEN311_TIME_SIZE]);

/* Parses a date as clients send it: RFC 3339 with Z or an offset (and an
 * optional fraction); the same with a space where the offset's '+' was (a
 * '+' left unescaped in a query string arrives as a space); a date and time
 * without offset, or a bare date ("2026-11-25", midnight), both taken as
 * Beijing time. Returns 0 with *ms set, or -1. */
int open311_parse_time(const char *text, int64_t *ms);

#endif
