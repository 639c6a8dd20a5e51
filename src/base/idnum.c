/* idnum.c - identity and phone numbers. The rules are GB 11643-1999 (the
 * check character is ISO 7064 MOD 11-2) and the public numbering plan of
 * mainland China; the prefixes below are the province-level codes of
 * GB/T 2260 plus 81/82/83 for the Hong Kong, Macau and Taiwan residents'
 * residence permits. */
#include "base/idnum.h"

#include <stdio.h>
#include <string.h>

static const int province_codes[] = {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34,
                                     35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
                                     53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83};

static bool known_province(int code)
{
    for (size_t i = 0; i < sizeof province_codes / sizeof province_codes[0]; i++)
        if (province_codes[i] == code)
            return true;
    return false;
}

static int days_in_month(int y, int m)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return d[m - 1];
}

char idnum_check_char(const char *s)
{
    static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    int sum = 0;
    for (int i = 0; i < 17; i++)
        sum += (s[i] - '0') * w[i];
    return "10X98765432"[sum % 11];
}

int idnum_check(const char *t, int today, struct idnum_info *info, const char **why)
{
    if (strlen(t) != IDNUM_LEN) {
        *why = "must be 18 characters";
        return -1;
    }
    for (int i = 0; i < 17; i++) {
        if (t[i] < '0' || t[i] > '9') {
            *why = "must be 17 digits followed by a digit or X";
            return -1;
        }
    }
    char last = t[17] == 'x' ? 'X' : t[17];
    if (!((last >= '0' && last <= '9') || last == 'X')) {
        *why = "must be 17 digits followed by a digit or X";
        return -1;
    }
    int kind = 0;
    int prov = (t[0] - '0') * 10 + (t[1] - '0');
    if (t[0] == '9') {
        /* 2023 foreigner permanent residence ID: 9 + issuing province + country. */
        kind = 2;
        prov = (t[1] - '0') * 10 + (t[2] - '0');
        if (!known_province(prov) || prov >= 71) {
            *why = "has an unknown issuing-province code";
            return -1;
        }
    } else if (!known_province(prov)) {
        *why = "has an unknown province code";
        return -1;
    } else if (prov >= 81) {
        kind = 1;
    }
    int y = 0, m = 0, d = 0;
    for (int i = 6; i < 10; i++)
        y = y * 10 + (t[i] - '0');
    m = (t[10] - '0') * 10 + (t[11] - '0');
    d = (t[12] - '0') * 10 + (t[13] - '0');
    if (y < 1800 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m) ||
        y * 10000 + m * 100 + d > today) {
        *why = "has a birth date that does not exist or lies in the future";
        return -1;
    }
    if (idnum_check_char(t) != last) {
        *why = "has a wrong check character (a digit was probably mistyped)";
        return -1;
    }
    if (info) {
        memcpy(info->normalized, t, 17);
        info->normalized[17] = last;
        info->normalized[18] = '\0';
        info->year = y;
        info->month = m;
        info->day = d;
        info->sex = ((t[16] - '0') % 2) ? 'M' : 'F';
        info->kind = kind;
    }
    return 0;
}

void idnum_mask(const char *id, char out[IDNUM_LEN + 1])
{
    size_t n = strlen(id);
    if (n != IDNUM_LEN) {
        snprintf(out, IDNUM_LEN + 1, "%s", n ? "******" : "");
        return;
    }
    memcpy(out, id, 6);
    memset(out + 6, '*', 8);
    memcpy(out + 14, id + 14, 4);
    out[18] = '\0';
}

int phone_check(const char *text, char *out, int size, const char **why)
{
    char digits[32];
    int n = 0, dashes = 0;
    const char *p = text;
    if (*p == '+') {
        if (strncmp(p, "+86", 3) != 0) {
            *why = "must be a mainland China number (+86)";
            return -1;
        }
        p += 3;
    }
    for (; *p; p++) {
        if (*p >= '0' && *p <= '9') {
            if (n >= (int)sizeof digits - 1) {
                *why = "is too long";
                return -1;
            }
            digits[n++] = *p;
        } else if (*p == '-' || *p == ' ') {
            dashes++;
        } else {
            *why = "may contain only digits, spaces, '-' and a leading +86";
            return -1;
        }
    }
    digits[n] = '\0';
    const char *s = digits;
    if (n == 13 && !strncmp(s, "86", 2) && s[2] == '1') {
        s += 2;
        n -= 2;
    }
    if (s[0] == '1') {
        if (n != 11 || s[1] < '3' || s[1] > '9') {
            *why = "is not a mainland mobile number (11 digits starting 13-19)";
            return -1;
        }
    } else if (s[0] == '0') {
        /* 0 + area code (2 digits for 010 and 02X, else 3) + 7 or 8 digits,
         * optionally followed by an extension of up to 6 digits. */
        int area = (s[1] == '1' || s[1] == '2') ? 3 : 4;
        int local = n - area;
        if (s[1] == '0' || local < 7 || local > 8 + 6) {
            *why = "is not a landline number (0 + area code + 7 or 8 digits)";
            return -1;
        }
    } else {
        *why = "must start with 1 (mobile) or 0 (landline with area code)";
        return -1;
    }
    (void)dashes;
    if ((int)strlen(s) >= size) {
        *why = "is too long";
        return -1;
    }
    snprintf(out, (size_t)size, "%s", s);
    return 0;
}

void phone_mask(const char *phone, char *out, int size)
{
    int n = (int)strlen(phone);
    if (n < 8) {
        snprintf(out, (size_t)size, "****");
        return;
    }
    snprintf(out, (size_t)size, "%.3s****%s", phone, phone + n - 4);
}
