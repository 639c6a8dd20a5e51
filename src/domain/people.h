/* people.h - residents' profiles: who they are (name, ID number, phone,
 * address, home point), where they belong (a community), what care they
 * need (living alone, care level, disability, subsidy class, conditions),
 * whom to call (ordered emergency contacts) and whether they consented.
 *
 * Birth date and sex come from the ID number, never from the caller; age is
 * computed on the Asia/Shanghai calendar date (UTC+8) when read.
 *
 * Privacy: ID numbers and phone numbers (the person's and the contacts') come
 * back masked unless the caller asks to see them and its role allows it; every
 * unmasked read is written to the audit log before the data is returned. Staff
 * see only the people of their area (scope); provider, volunteer and resident
 * accounts have no access to profiles. */
#ifndef LINLI_PEOPLE_H
#define LINLI_PEOPLE_H

#include "base/idnum.h"
#include "domain/domain.h"
#include "domain/idem.h"
#include "domain/principal.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PERSON_NAME_MAX         32           /* characters */
#define PERSON_ADDRESS_MAX      128          /* characters */
#define PERSON_DISABILITY_MAX   64           /* characters */
#define PERSON_CONDITIONS_MAX   16           /* health conditions per person */
#define PERSON_CONDITION_MAX    32           /* characters per condition */
#define PERSON_CONTACTS_MAX     5            /* emergency contacts per person */
#define CONTACT_NAME_MAX        32           /* characters */
#define CONTACT_RELATION_MAX    16           /* characters */
#define PERSON_PHONE_SIZE       24           /* a normalised phone number (digits) and its NUL */
#define PEOPLE_PAGE_MAX         500          /* most people in one page of a search */
#define PEOPLE_QUERY_MAX        64           /* characters of a name query */
#define PEOPLE_IMPORT_BATCH     5000         /* rows per write job (one transaction) of an import */
#define PEOPLE_IMPORT_CACHE_KIB (256 * 1024) /* the writer's page cache while an import runs */

/* Ask for these on people_get to see them unmasked. */
#define PEOPLE_REVEAL_ID_NUMBER 1u
#define PEOPLE_REVEAL_PHONE     2u /* the person's phone and the contacts' phones */

enum care_level { CARE_SELF, CARE_PARTLY_DEPENDENT, CARE_DEPENDENT };

#define TEXT_SIZE(chars) ((chars)*4 + 1) /* UTF-8: at most 4 bytes a character */

struct contact {
    char name[TEXT_SIZE(CONTACT_NAME_MAX)];
    char relation[TEXT_SIZE(CONTACT_RELATION_MAX)];
    char phone[PERSON_PHONE_SIZE]; /* normalised, or masked (138****5678) */
};

/* A stored profile, as read. Text fields are "" when absent. */
struct person {
    int64_t id;
    char name[TEXT_SIZE(PERSON_NAME_MAX)];
    char id_number[IDNUM_LEN + 1]; /* normalised (upper-case X), or masked */
    char birth_date[11];           /* YYYY-MM-DD from the ID number */
    char sex;                      /* 'M', 'F', or 0 without an ID number */
    char phone[PERSON_PHONE_SIZE];
    char address[TEXT_SIZE(PERSON_ADDRESS_MAX)];
    bool has_home;
    double lat, lon; /* WGS-84 */
    char community_code[AREA_CODE_LEN + 1];
    char community_name[TEXT_SIZE(64)];
    bool living_alone;
    enum care_level care_level;
    char disability[TEXT_SIZE(PERSON_DISABILITY_MAX)];
    char subsidy_class[16]; /* a code of people_subsidy_code, or "" */
    int nconditions;
    char conditions[PERSON_CONDITIONS_MAX][TEXT_SIZE(PERSON_CONDITION_MAX)];
    int ncontacts;
    struct contact contacts[PERSON_CONTACTS_MAX]; /* in order: first is called first */
    bool consent;
    int64_t created_at, updated_at;
    bool id_number_masked, phone_masked; /* what people_mask did */
};

struct contact_in {
    const char *name, *relation, *phone;
};

/* A profile as given by a caller (API body or CSV row), before validation.
 * Strings are borrowed; NULL means absent. */
struct person_in {
    const char *name;
    const char *id_number;
    const char *phone;
    const char *address;
    bool has_home;
    double lat, lon; /* WGS-84 */
    const char *community_code;
    bool living_alone;
    const char *care_level; /* NULL = self_care */
    const char *disability;
    const char *subsidy_class;
    int nconditions;
    const char *conditions[PERSON_CONDITIONS_MAX];
    int ncontacts;
    struct contact_in contacts[PERSON_CONTACTS_MAX];
    bool consent;
};

/* A change: each set_* field replaces the stored value with the given one
 * (NULL clears a nullable field). Lists are replaced whole. */
struct person_patch {
    bool set_name, set_id_number, set_phone, set_address, set_home, set_community_code,
        set_living_alone, set_care_level, set_disability, set_subsidy_class, set_conditions,
        set_contacts, set_consent;
    struct person_in v; /* the new values of the fields that are set */
};

/* ---- rules, pure (no store) ---- */

/* Today's date in Asia/Shanghai (UTC+8) as yyyymmdd. */
int people_today(void);

/* Completed years between `birth_date` (YYYY-MM-DD) and `today` (yyyymmdd);
 * -1 when birth_date is empty or malformed. */
int people_age(const char *birth_date, int today);

/* Translates an age range into birth dates: a person is at least `age_min`
 * years old on `today` when born on or before *born_on_or_before, and at most
 * `age_max` when born after *born_after (both YYYY-MM-DD, compared as text;
 * the bound may be a 29 February that does not exist, which compares right).
 * A negative age leaves its bound "". */
void people_birth_bounds(int age_min, int age_max, int today, char born_on_or_before[11],
                         char born_after[11]);

/* Checks every field of `in` (all problems, not just the first, as field
 * errors named as in the API: "id_number", "emergency_contacts[1].phone",
 * "home.lat", ...) and fills `out` with the normalised values: ID number with
 * upper-case X, birth date and sex from it, phone digits, codes for care level
 * and subsidy class. Does not look at the store: that the community exists and
 * that the ID number is new are checked when writing. `today` is yyyymmdd. */
int people_check(const struct person_in *in, int today, struct person *out, struct linli_err *err);

/* Codes from codes or Chinese labels: "self_care"/"自理", "partly_dependent"/
 * "半失能", "dependent"/"失能". Returns 0 or -1. */
int people_care_level_parse(const char *text, enum care_level *out);
const char *people_care_level_name(enum care_level c);
/* "dibao"/"低保", "tekun"/"特困", "low_income"/"低收入", "shidu"/"失独",
 * "youfu"/"优抚", "other"/"其他": the code, or NULL when unknown. */
const char *people_subsidy_code(const char *text);

/* Who may do what; the scope check is people_visible. */
bool people_may_read(enum role r);  /* admin, district, street, community, operator, auditor */
bool people_may_write(enum role r); /* admin, district, street, community */
/* The PEOPLE_REVEAL_* fields `r` may see unmasked: both for admin, district,
 * street and community staff; the phone alone for operators; none otherwise. */
unsigned people_may_reveal(enum role r);
/* True when `who` may read the people of `community_code` at all. */
bool people_visible(const struct principal *who, const char *community_code);

/* Masks the ID number and phones that `reveal` does not name, and records
 * which were masked. */
void people_mask(struct person *p, unsigned reveal);

/* ---- reads and writes ---- */

/* Creates a profile. The caller must be allowed to write and the community a
 * current community-level area within its scope (else 403 for the scope, 422
 * for a community that does not exist). A duplicate ID number is ECONFLICT.
 * With `idem`, a repeated request returns the first result and sets
 * *replayed. Audited (person.create); publishes "person.created" with the
 * id and community only. `out` comes back masked. */
int people_create(struct domain *d, const struct principal *who, const struct person_in *in,
                  const struct idem_req *idem, struct person *out, bool *replayed,
                  struct linli_err *err);

/* Reads one profile. Roles without access get EFORBIDDEN; a person outside
 * the caller's scope (or none) is ENOTFOUND. `reveal` (PEOPLE_REVEAL_*) asks
 * for unmasked fields: a role that may not see one of them gets EFORBIDDEN;
 * otherwise an audit entry (person.reveal, with the fields) is made durable
 * before this returns the data. */
int people_get(struct domain *d, const struct principal *who, int64_t id, unsigned reveal,
               struct person *out, struct linli_err *err);

/* Changes a profile (a person outside the caller's scope is ENOTFOUND; moving
 * one to a community outside it is EFORBIDDEN). The result is validated as a
 * whole. Audited (person.update, with the names of the changed fields);
 * publishes "person.updated". `out` comes back masked. */
int people_update(struct domain *d, const struct principal *who, int64_t id,
                  const struct person_patch *p, struct person *out, struct linli_err *err);

struct people_query {
    const char *q;         /* a name or part of one; NULL = any */
    const char *id_number; /* exact */
    const char *phone;     /* the person's or one of the contacts' */
    const char *community; /* a community code */
    const char *street;    /* a street code */
    int age_min, age_max;  /* -1 = open */
    int living_alone;      /* -1 any, 0, 1 */
    int64_t after_id;      /* cursor */
    int limit;
};

/* People within the caller's scope matching every given filter, by id, masked.
 * Names of three characters or more are found through the trigram index,
 * shorter ones by substring. *items is malloc'd (caller frees); *next is the
 * last id when another page follows, else 0. Filters that are not well formed
 * are EINVAL with field errors named as the query parameters. */
int people_search(struct domain *d, const struct principal *who, const struct people_query *q,
                  struct person **items, int *n, int64_t *next, struct linli_err *err);

/* Calls `fn` with every person within the caller's scope and within `area`
 * (any area code, normalised; NULL = all), by id, UNMASKED, after one durable
 * audit entry (person.export, with the area and the count). Only roles that
 * may reveal both fields. `fn` returning nonzero stops the export (that
 * status is returned). Sets *count to the people exported. */
typedef int (*people_export_fn)(void *ctx, const struct person *p);
int people_export(struct domain *d, const struct principal *who, const char *area,
                  people_export_fn fn, void *ctx, int64_t *count, struct linli_err *err);

/* The most emergency contacts any person has (for export columns). */
int people_max_contacts(struct domain *d, int *n, struct linli_err *err);

/* ---- bulk import ----
 *
 * people_import() is the whole contract for a set of rows in memory (the CSV
 * import and the demo generator use it):
 *
 *  1. Every row is checked first: people_check's rules; the community exists,
 *     is current and lies in the caller's scope; the ID number is not in the
 *     store and not on an earlier row of the same import. Each problem is
 *     reported through `bad_row(ctx, index, field, reason)` (index 0-based,
 *     field as in the API).
 *  2. If any row is bad and !skip_bad: nothing is written; returns EINVAL.
 *  3. Otherwise the good rows are written in order, `batch_rows` per write job
 *     (one transaction each, with one audit entry person.import holding the
 *     row count and id range; no personal data), calling `progress(ctx, done,
 *     total)` after each. A failure stops at that batch: earlier batches stay
 *     committed, report->imported says how many rows that is.
 *  4. Publishes one "people.imported" event with the count.
 *
 * Only roles that may write. Runs at about the store's bulk insert speed: the
 * checks of step 1 are done in memory plus one indexed lookup per ID number.
 *
 * Callers that stream rows (a file too big to hold) use the importer below in
 * two passes: check every chunk, then write the good ones. */
typedef void (*people_bad_row_fn)(void *ctx, size_t index, const char *field, const char *reason);
typedef void (*people_progress_fn)(void *ctx, size_t done, size_t total);

struct people_import_options {
    bool skip_bad;
    int batch_rows; /* 0 = PEOPLE_IMPORT_BATCH */
    people_bad_row_fn bad_row;
    people_progress_fn progress;
    void *ctx;
};

struct people_import_report {
    size_t rows, bad, imported;
};

int people_import(struct domain *d, const struct principal *who, const struct person_in *rows,
                  size_t n, const struct people_import_options *o,
                  struct people_import_report *report, struct linli_err *err);

struct people_importer;

/* Starts an import for `who` (EFORBIDDEN unless it may write). */
int people_importer_new(struct domain *d, const struct principal *who, struct people_importer **out,
                        struct linli_err *err);
void people_importer_free(struct people_importer *im);

/* Checks `n` rows (step 1 above). `labels` (may be NULL) names each row in
 * reasons that point back to an earlier one ("line 12"); NULL = positions
 * counted over every row this importer checked. Sets bad[i] for each bad row
 * and calls `bad_row` for each problem. Returns 0, or a store failure. */
int people_importer_check(struct people_importer *im, const struct person_in *rows, size_t n,
                          const long *labels, bool *bad, people_bad_row_fn bad_row, void *ctx,
                          struct linli_err *err);

/* Writes `n` checked rows in one transaction with one audit entry. Rows are
 * checked again as they are written (a row that became bad since, such as an
 * ID number another writer added meanwhile, fails the whole batch with its
 * index in *failed_row). Returns 0 or the failure. */
int people_importer_write(struct people_importer *im, const struct person_in *rows, size_t n,
                          size_t *failed_row, struct linli_err *err);

/* Rows written so far by this importer. */
size_t people_importer_written(const struct people_importer *im);

#endif
