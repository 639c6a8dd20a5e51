/* idnum.h - Chinese resident identity numbers (GB 11643-1999) and mainland
 * phone numbers: validation, and the facts an ID number carries (birth date,
 * sex), so they are computed, never typed. */
#ifndef LINLI_IDNUM_H
#define LINLI_IDNUM_H

#include <stdbool.h>
#include <stdint.h>

#define IDNUM_LEN 18

struct idnum_info {
    char normalized[IDNUM_LEN + 1]; /* upper-case X */
    int year, month, day;
    char sex; /* 'M' or 'F' */
    int kind; /* 0 mainland resident, 1 HK/Macau/Taiwan residence permit, 2 foreigner permanent
                 residence */
};

/* Checks format (17 digits + digit or X), a known province-level prefix,
 * a real birth date between 1800 and `today_yyyymmdd`, and the ISO 7064
 * MOD 11-2 check character. Returns 0 and fills `info` (may be NULL), or -1
 * with `why` set to a sentence naming the problem. */
int idnum_check(const char *text, int today_yyyymmdd, struct idnum_info *info, const char **why);

/* The check character for the first 17 digits. */
char idnum_check_char(const char *first17);

/* Copies `id` masked as 110105********002X (first 6 and last 4 kept). */
void idnum_mask(const char *id, char out[IDNUM_LEN + 1]);

/* Mainland mobile (1[3-9]X, 11 digits, optional +86/86 prefix) or landline
 * (0 + area code 2-3 digits + 7-8 digit number, optional '-' after the area
 * code, optional -extension). Writes the digits-only normal form into `out`
 * (size >= 24). Returns 0 or -1 with `why`. */
int phone_check(const char *text, char *out, int size, const char **why);

/* Masks all but the first 3 and last 4 digits: 138****5678. */
void phone_mask(const char *phone, char *out, int size);

#endif
