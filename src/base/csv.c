/* csv.c - a small RFC 4180 reader and writer. */
#include "base/csv.h"

#include <stdlib.h>
#include <string.h>

void csv_init(struct csv_reader *r, FILE *f, size_t max_line)
{
    memset(r, 0, sizeof *r);
    r->f = f;
    r->max_line = max_line;
    r->next_line = 1;
}

void csv_free(struct csv_reader *r)
{
    free(r->line);
    r->line = NULL;
}

/* Appends one byte to the record buffer; -1 past max_line. */
static int put(struct csv_reader *r, size_t *len, char c)
{
    if (*len + 1 >= r->max_line)
        return -1;
    if (*len + 1 >= r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 256;
        if (cap > r->max_line)
            cap = r->max_line;
        char *p = realloc(r->line, cap);
        if (!p)
            return -1;
        r->line = p;
        r->cap = cap;
    }
    r->line[(*len)++] = c;
    return 0;
}

int csv_next(struct csv_reader *r, const char **why)
{
    size_t len = 0;
    size_t starts[CSV_MAX_FIELDS];
    int nf = 0, quoted = 0, at_start = 1, c, too_long = 0, too_many = 0;
    r->lineno = r->next_line;
    if (r->lineno == 1) {
        int b1 = fgetc(r->f);
        if (b1 == 0xEF) {
            int b2 = fgetc(r->f), b3 = fgetc(r->f);
            if (b2 != 0xBB || b3 != 0xBF) {
                *why = "the file starts with bytes that are not UTF-8 text";
                return -1;
            }
        } else if (b1 != EOF) {
            ungetc(b1, r->f);
        }
    }
    c = fgetc(r->f);
    if (c == EOF)
        return 0;
    starts[nf++] = 0;
    for (;; c = fgetc(r->f)) {
        if (c == EOF) {
            if (quoted) {
                *why = "a quoted field is not closed before the end of the file";
                return -1;
            }
            break;
        }
        if (quoted) {
            if (c == '"') {
                int d = fgetc(r->f);
                if (d == '"') {
                    too_long |= put(r, &len, '"');
                    continue;
                }
                quoted = 0;
                if (d == EOF)
                    break;
                c = d; /* fall through to the unquoted handling of d */
            } else {
                if (c == '\n')
                    r->next_line++;
                too_long |= put(r, &len, (char)c);
                continue;
            }
        }
        if (c == '"' && at_start) {
            quoted = 1;
            at_start = 0;
            continue;
        }
        if (c == ',') {
            too_long |= put(r, &len, '\0');
            if (nf < CSV_MAX_FIELDS)
                starts[nf++] = len;
            else
                too_many = 1;
            at_start = 1;
            continue;
        }
        if (c == '\n') {
            r->next_line++;
            break;
        }
        if (c == '\r')
            continue;
        at_start = 0;
        too_long |= put(r, &len, (char)c);
    }
    if (c != '\n')
        r->next_line++;
    too_long |= put(r, &len, '\0');
    if (too_long) {
        *why = "the line is too long";
        return -1;
    }
    if (too_many) {
        *why = "the line has too many fields";
        return -1;
    }
    r->nfields = nf;
    for (int i = 0; i < nf; i++)
        r->fields[i] = r->line + starts[i];
    return 1;
}

int csv_column(const struct csv_reader *r, const char *name)
{
    for (int i = 0; i < r->nfields; i++)
        if (!strcmp(r->fields[i], name))
            return i;
    return -1;
}

void csv_write_field(FILE *out, const char *v, int last)
{
    if (v && strpbrk(v, ",\"\r\n")) {
        fputc('"', out);
        for (const char *p = v; *p; p++) {
            if (*p == '"')
                fputc('"', out);
            fputc(*p, out);
        }
        fputc('"', out);
    } else if (v) {
        fputs(v, out);
    }
    fputc(last ? '\n' : ',', out);
}
