/* multipart.c - multipart/form-data bodies (RFC 7578, RFC 2046 framing):
 * the boundary parameter, the delimiters, and each part's headers. */
#define _GNU_SOURCE /* memmem */
#include "net/multipart.h"

#include <string.h>
#include <strings.h>

#define DELIM_PREFIX     "\r\n--"
#define DELIM_PREFIX_LEN 4

/* A body and the delimiter that splits it. */
struct mp {
    const char *b;
    size_t len;
    char delim[DELIM_PREFIX_LEN + MULTIPART_MAX_BOUNDARY]; /* CRLF "--" boundary */
    size_t delim_len;
};

/* ---- header values: type/subtype or a token, then *(; name=value) ---- */

/* A cursor over a header value. */
struct hv {
    const char *p, *end;
};

enum hv_status { HV_OK = 0, HV_MALFORMED = -1, HV_TOO_LONG = -2 };

static bool is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool is_ctl(unsigned char c)
{
    return (c < 0x20 && c != '\t') || c == 0x7f;
}

static void hv_ows(struct hv *v)
{
    while (v->p < v->end && (*v->p == ' ' || *v->p == '\t'))
        v->p++;
}

static size_t hv_token(struct hv *v)
{
    const char *s = v->p;
    while (v->p < v->end && is_tchar((unsigned char)*v->p))
        v->p++;
    return (size_t)(v->p - s);
}

/* Reads a token or a quoted string (with backslash escapes) into `out`
 * (NUL-terminated; NULL to skip it). */
static int hv_value(struct hv *v, char *out, size_t size)
{
    size_t n = 0;
    if (v->p < v->end && *v->p == '"') {
        v->p++;
        for (;;) {
            if (v->p >= v->end)
                return HV_MALFORMED;
            char c = *v->p++;
            if (c == '"')
                break;
            if (c == '\\') {
                if (v->p >= v->end)
                    return HV_MALFORMED;
                c = *v->p++;
            }
            if (is_ctl((unsigned char)c))
                return HV_MALFORMED;
            if (out && n + 1 >= size)
                return HV_TOO_LONG;
            if (out)
                out[n] = c;
            n++;
        }
    } else {
        const char *s = v->p;
        n = hv_token(v);
        if (n == 0)
            return HV_MALFORMED;
        if (out && n >= size)
            return HV_TOO_LONG;
        if (out)
            memcpy(out, s, n);
    }
    if (out)
        out[n] = '\0';
    return HV_OK;
}

/* Moves to the next parameter: 1 with its name (not NUL-terminated), 0 at
 * the end of the value, HV_MALFORMED. The caller then reads its value. */
static int hv_param(struct hv *v, const char **name, size_t *name_len)
{
    hv_ows(v);
    if (v->p == v->end)
        return 0;
    if (*v->p != ';')
        return HV_MALFORMED;
    v->p++;
    hv_ows(v);
    if (v->p == v->end)
        return 0; /* a trailing ';' */
    *name = v->p;
    *name_len = hv_token(v);
    if (*name_len == 0 || v->p == v->end || *v->p != '=')
        return HV_MALFORMED;
    v->p++;
    return 1;
}

static bool name_is(const char *name, size_t len, const char *want)
{
    return len == strlen(want) && strncasecmp(name, want, len) == 0;
}

/* ---- the boundary ---- */

static bool boundary_valid(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > MULTIPART_MAX_BOUNDARY || s[n - 1] == ' ')
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && !strchr("'()+_,-./:=? ", c))
            return false;
    }
    return true;
}

static int mp_boundary(const char *content_type, struct mp *m, struct linli_err *err)
{
    static const char TYPE[] = "multipart/form-data";
    if (!content_type)
        content_type = "";
    struct hv v = {content_type, content_type + strlen(content_type)};
    hv_ows(&v);
    const char *type = v.p;
    while (v.p < v.end && (is_tchar((unsigned char)*v.p) || *v.p == '/'))
        v.p++;
    if (!name_is(type, (size_t)(v.p - type), TYPE))
        return linli_fail(err, LINLI_EINVAL,
                          "The body must be sent with Content-Type: multipart/form-data.");
    char boundary[MULTIPART_MAX_BOUNDARY + 1] = "";
    bool found = false;
    const char *name;
    size_t name_len;
    int rc;
    while ((rc = hv_param(&v, &name, &name_len)) == 1) {
        bool is_boundary = name_is(name, name_len, "boundary");
        if (is_boundary && found)
            return linli_fail(err, LINLI_EINVAL, "The Content-Type has two boundaries.");
        rc = hv_value(&v, is_boundary ? boundary : NULL, sizeof boundary);
        if (rc != HV_OK)
            break;
        found |= is_boundary;
    }
    if (rc < 0 || !found || !boundary_valid(boundary))
        return linli_fail(err, LINLI_EINVAL,
                          "The Content-Type needs a boundary of 1 to %d letters, digits or "
                          "'()+_,-./:=? characters.",
                          MULTIPART_MAX_BOUNDARY);
    size_t n = strlen(boundary);
    memcpy(m->delim, DELIM_PREFIX, DELIM_PREFIX_LEN);
    memcpy(m->delim + DELIM_PREFIX_LEN, boundary, n);
    m->delim_len = DELIM_PREFIX_LEN + n;
    return LINLI_OK;
}

/* ---- delimiters ---- */

/* Whether "--boundary" at `at` is a delimiter: followed by "--" (the closing
 * one) or by optional spaces and CRLF. Sets *next to the byte after it. */
static bool delim_at(const struct mp *m, size_t at, size_t *next, bool *close)
{
    size_t dash_len = m->delim_len - 2; /* without the CRLF */
    if (m->len - at < dash_len || memcmp(m->b + at, m->delim + 2, dash_len) != 0)
        return false;
    size_t i = at + dash_len;
    if (m->len - i >= 2 && m->b[i] == '-' && m->b[i + 1] == '-') {
        *close = true;
        *next = i + 2;
        return true;
    }
    while (i < m->len && (m->b[i] == ' ' || m->b[i] == '\t'))
        i++;
    if (m->len - i >= 2 && m->b[i] == '\r' && m->b[i + 1] == '\n') {
        *close = false;
        *next = i + 2;
        return true;
    }
    return false;
}

/* The first delimiter at or after `from`: *at is its CRLF. */
static bool delim_find(const struct mp *m, size_t from, size_t *at, size_t *next, bool *close)
{
    while (from < m->len) {
        const char *hit = memmem(m->b + from, m->len - from, m->delim, m->delim_len);
        if (!hit)
            return false;
        *at = (size_t)(hit - m->b);
        if (delim_at(m, *at + 2, next, close))
            return true;
        from = *at + 1;
    }
    return false;
}

/* ---- part headers ---- */

struct seen {
    bool disposition, type;
};

static int part_disposition(struct hv *v, struct multipart_part *part, struct linli_err *err)
{
    const char *type = v->p;
    if (!name_is(type, hv_token(v), "form-data"))
        return linli_fail(err, LINLI_EINVAL, "A form part is not Content-Disposition: form-data.");
    bool named = false;
    const char *name;
    size_t name_len;
    int rc;
    while ((rc = hv_param(v, &name, &name_len)) == 1) {
        bool is_name = name_is(name, name_len, "name");
        bool is_file = name_is(name, name_len, "filename");
        if ((is_name && named) || (is_file && part->has_filename))
            return linli_fail(err, LINLI_EINVAL, "A form part names itself twice.");
        if (is_name)
            rc = hv_value(v, part->name, sizeof part->name);
        else if (is_file)
            rc = hv_value(v, part->filename, sizeof part->filename);
        else
            rc = hv_value(v, NULL, 0);
        if (rc == HV_TOO_LONG)
            return linli_fail(err, LINLI_EINVAL, "A form field name is over %d bytes.",
                              MULTIPART_NAME_SIZE - 1);
        if (rc != HV_OK)
            break;
        named |= is_name;
        part->has_filename |= is_file;
    }
    if (rc < 0)
        return linli_fail(err, LINLI_EINVAL, "A form part's Content-Disposition is malformed.");
    return LINLI_OK;
}

static int part_header(const char *line, size_t n, struct multipart_part *part, struct seen *seen,
                       struct linli_err *err)
{
    if (line[0] == ' ' || line[0] == '\t')
        return linli_fail(err, LINLI_EINVAL, "A form part has a folded header line.");
    for (size_t i = 0; i < n; i++)
        if (is_ctl((unsigned char)line[i]))
            return linli_fail(err, LINLI_EINVAL, "A form part's header holds a control character.");
    struct hv v = {line, line + n};
    size_t name_len = hv_token(&v);
    if (name_len == 0 || v.p == v.end || *v.p != ':')
        return linli_fail(err, LINLI_EINVAL, "A form part has a malformed header line.");
    v.p++;
    hv_ows(&v);
    while (v.end > v.p && (v.end[-1] == ' ' || v.end[-1] == '\t'))
        v.end--;
    if (name_is(line, name_len, "Content-Disposition")) {
        if (seen->disposition)
            return linli_fail(err, LINLI_EINVAL, "A form part has two Content-Dispositions.");
        seen->disposition = true;
        return part_disposition(&v, part, err);
    }
    if (name_is(line, name_len, "Content-Type")) {
        size_t len = (size_t)(v.end - v.p);
        if (seen->type)
            return linli_fail(err, LINLI_EINVAL, "A form part has two Content-Types.");
        if (len >= sizeof part->content_type)
            return linli_fail(err, LINLI_EINVAL, "A form part's Content-Type is over %d bytes.",
                              MULTIPART_TYPE_SIZE - 1);
        seen->type = true;
        memcpy(part->content_type, v.p, len);
        part->content_type[len] = '\0';
    }
    return LINLI_OK;
}

/* Reads the header lines from `pos` to the empty line; *data is where the
 * part's data begins. */
static int part_headers(const struct mp *m, size_t pos, struct multipart_part *part, size_t *data,
                        struct linli_err *err)
{
    struct seen seen = {0};
    for (int lines = 0;; lines++) {
        size_t avail = m->len - pos;
        size_t window =
            avail < MULTIPART_MAX_HEADER_LINE + 2 ? avail : MULTIPART_MAX_HEADER_LINE + 2;
        const char *eol = memmem(m->b + pos, window, "\r\n", 2);
        if (!eol && window == avail)
            return linli_fail(err, LINLI_EINVAL, "The form data is cut off in a part's headers.");
        if (!eol)
            return linli_fail(err, LINLI_EINVAL, "A form part has a header line over %d bytes.",
                              MULTIPART_MAX_HEADER_LINE);
        size_t n = (size_t)(eol - (m->b + pos));
        if (n == 0) {
            *data = pos + 2;
            return LINLI_OK;
        }
        if (lines == MULTIPART_MAX_HEADER_LINES)
            return linli_fail(err, LINLI_EINVAL, "A form part has more than %d header lines.",
                              MULTIPART_MAX_HEADER_LINES);
        int rc = part_header(m->b + pos, n, part, &seen, err);
        if (rc != LINLI_OK)
            return rc;
        pos += n + 2;
    }
}

/* ---- the body ---- */

static int mp_parts(const struct mp *m, struct multipart_part *parts, int max_parts, int *n,
                    struct linli_err *err)
{
    size_t next, at;
    bool close;
    /* The first delimiter may open the body, without the CRLF before it. */
    if (!delim_at(m, 0, &next, &close) && !delim_find(m, 0, &at, &next, &close))
        return linli_fail(err, LINLI_EINVAL, "The form data has no boundary line.");
    int count = 0;
    while (!close) {
        if (count == max_parts)
            return linli_fail(err, LINLI_EINVAL, "The form has more than %d parts.", max_parts);
        struct multipart_part *part = &parts[count];
        memset(part, 0, sizeof *part);
        size_t data = 0;
        int rc = part_headers(m, next, part, &data, err);
        if (rc != LINLI_OK)
            return rc;
        if (!part->name[0])
            return linli_fail(err, LINLI_EINVAL, "A form part has no field name.");
        /* Searching from the empty line's CRLF: a part may end right after its headers. */
        if (!delim_find(m, data - 2, &at, &next, &close))
            return linli_fail(err, LINLI_EINVAL,
                              "The form data is cut off: it has no closing boundary.");
        part->data = m->b + data;
        part->len = at > data ? at - data : 0;
        count++;
    }
    if (count == 0)
        return linli_fail(err, LINLI_EINVAL, "The form has no parts.");
    *n = count;
    return LINLI_OK;
}

int multipart_parse(const char *content_type, const void *body, size_t len,
                    struct multipart_part *parts, int max_parts, int *n, struct linli_err *err)
{
    struct mp m = {.b = body ? body : "", .len = body ? len : 0};
    *n = 0;
    int rc = mp_boundary(content_type, &m, err);
    if (rc == LINLI_OK)
        rc = mp_parts(&m, parts, max_parts, n, err);
    if (rc != LINLI_OK)
        *n = 0;
    return rc;
}

const struct multipart_part *multipart_find(const struct multipart_part *parts, int n,
                                            const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(parts[i].name, name) == 0)
            return &parts[i];
    return NULL;
}
