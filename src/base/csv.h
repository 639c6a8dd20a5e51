/* csv.h - reading RFC 4180 CSV one record at a time, with a bounded line
 * length so one bad line cannot take unbounded memory. */
#ifndef LINLI_CSV_H
#define LINLI_CSV_H

#include <stddef.h>
#include <stdio.h>

#define CSV_MAX_FIELDS 64

struct csv_reader {
    FILE *f;
    char *line;      /* the current record, fields NUL-separated in place */
    size_t cap;      /* bytes allocated for line */
    size_t max_line; /* longest record accepted */
    long lineno;     /* line of the file where the current record starts (1-based) */
    long next_line;
    char *fields[CSV_MAX_FIELDS];
    int nfields;
};

/* Wraps an open file; `max_line` bounds one record in bytes. */
void csv_init(struct csv_reader *r, FILE *f, size_t max_line);
void csv_free(struct csv_reader *r);

/* Reads the next record into r->fields. Returns 1 when a record was read,
 * 0 at the end of the file, -1 on a malformed record (an unclosed quote, a
 * record over max_line bytes, more than CSV_MAX_FIELDS fields) with `why`
 * set; reading may continue with the next line. A UTF-8 byte-order mark at
 * the very start is skipped. */
int csv_next(struct csv_reader *r, const char **why);

/* Index of `name` among the fields of the current record, or -1. */
int csv_column(const struct csv_reader *r, const char *name);

/* Writes one field, quoted when it needs to be. */
void csv_write_field(FILE *out, const char *value, int last);

#endif
