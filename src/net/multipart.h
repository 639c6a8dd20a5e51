/* multipart.h - reading a multipart/form-data request body (RFC 7578, on the
 * framing of RFC 2046): the boundary from the Content-Type, then each part's
 * field name, file name, content type and bytes. The bytes are not copied:
 * each part points into the body, which must outlive the parts. */
#ifndef LINLI_MULTIPART_H
#define LINLI_MULTIPART_H

#include "base/status.h"

#include <stdbool.h>
#include <stddef.h>

#define MULTIPART_MAX_BOUNDARY     70   /* RFC 2046 */
#define MULTIPART_MAX_HEADER_LINE  1000 /* bytes in one part header line, without CRLF */
#define MULTIPART_MAX_HEADER_LINES 16   /* header lines in one part */
#define MULTIPART_NAME_SIZE        128  /* longest field name + 1 */
#define MULTIPART_TYPE_SIZE        128  /* longest part Content-Type + 1 */
/* A file name is part of one header line, so it always fits. */
#define MULTIPART_FILENAME_SIZE (MULTIPART_MAX_HEADER_LINE + 1)

struct multipart_part {
    char name[MULTIPART_NAME_SIZE];         /* the form field, unquoted; never empty */
    char filename[MULTIPART_FILENAME_SIZE]; /* unquoted as sent; "" when none */
    bool has_filename;                      /* filename="" (an empty file input) counts */
    char content_type[MULTIPART_TYPE_SIZE]; /* as sent; "" when absent (then text/plain) */
    const char *data;                       /* into the body; not NUL-terminated */
    size_t len;
};

/* Splits `body` (len bytes) into at most `max_parts` parts, in the order
 * sent, and sets *n to their number. `content_type` is the request's header:
 * it must be multipart/form-data with a boundary parameter (token or quoted
 * string, 1-70 characters of those RFC 2046 allows).
 *
 * The preamble before the first delimiter and the epilogue after the closing
 * one are ignored. A delimiter is CRLF "--" boundary (or "--" boundary at the
 * very start of the body) followed by optional spaces and CRLF, or by "--"
 * for the closing one; the boundary text anywhere else is data. Each part
 * needs a Content-Disposition: form-data with a name; quoted values may use
 * backslash escapes; unknown headers and parameters (filename* among them)
 * are ignored. Filenames are returned as sent and never interpreted.
 *
 * Fails with LINLI_EINVAL (err->detail says why, *n is 0) when: the content
 * type is not multipart/form-data or its boundary is missing or invalid;
 * there is no delimiter, no part, or no closing delimiter (a truncated body);
 * there are more than `max_parts` parts; a part has no name, a name over
 * MULTIPART_NAME_SIZE - 1 bytes, or a header line that is folded, holds a
 * control character, or is over MULTIPART_MAX_HEADER_LINE bytes; a part has
 * more than MULTIPART_MAX_HEADER_LINES header lines or repeats
 * Content-Disposition or Content-Type. */
int multipart_parse(const char *content_type, const void *body, size_t len,
                    struct multipart_part *parts, int max_parts, int *n, struct linli_err *err);

/* The first of `n` parts named `name`, or NULL. */
const struct multipart_part *multipart_find(const struct multipart_part *parts, int n,
                                            const char *name);

#endif
