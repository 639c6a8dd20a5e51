/* people_search.c - reading many residents' profiles at once: search (by
 * name, ID number, phone, community, street, age and living alone, a page at
 * a time), the export of an area with its audit entry, and the most
 * emergency contacts anyone has. Everything comes back masked or goes out
 * only to roles that may see it all. */
#include "domain/people_internal.h"

#include "base/jx.h"
#include "domain/audit.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT_PAGE 1000

/* ---- SQL ---- */

static const char SQL_MAX_CONTACTS[] = "SELECT coalesce(max(position), 0) FROM emergency_contacts";

/* Search: one statement per way in, so each can use its index; the other
 * filters ride along. Parameters: ?1 what leads (a phrase, an ID number, a
 * phone), ?3 the caller's scope as a code prefix ("" = all), ?4 community,
 * ?5 street prefix, ?6/?7 birth-date bounds, ?8 living alone, ?9 a LIKE
 * pattern for short names, ?10 the cursor, ?11 the limit. The scope test is
 * written with substr() so no plan uses the community index for it (a
 * district-wide range would then sort the whole table for one page). */
#define SEARCH_REST                                                                                \
    " AND substr(p.community_code, 1, length(?3)) = ?3"                                            \
    " AND (?5 IS NULL OR substr(p.community_code, 1, 9) = ?5)"                                     \
    " AND (?6 IS NULL OR p.birth_date <= ?6)"                                                      \
    " AND (?7 IS NULL OR p.birth_date > ?7)"                                                       \
    " AND (?8 IS NULL OR p.living_alone = ?8)"                                                     \
    " AND (?9 IS NULL OR p.name LIKE ?9 ESCAPE '\\')"                                              \
    " AND p.id > ?10 ORDER BY p.id LIMIT ?11"
#define SEARCH_COMMUNITY_TOO " AND (?4 IS NULL OR p.community_code = ?4)"

/* clang-format off */
static const char SQL_SEARCH_NAME[] =
    "SELECT " PERSON_COLUMNS PERSON_FROM
    " WHERE p.id IN (SELECT rowid FROM people_fts WHERE people_fts MATCH ?1)"
    SEARCH_COMMUNITY_TOO SEARCH_REST;
static const char SQL_SEARCH_ID_NUMBER[] =
    "SELECT " PERSON_COLUMNS PERSON_FROM " WHERE p.id_number = ?1" SEARCH_COMMUNITY_TOO SEARCH_REST;
static const char SQL_SEARCH_PHONE[] =
    "SELECT " PERSON_COLUMNS PERSON_FROM
    " WHERE (p.phone = ?1"
    "   OR p.id IN (SELECT person_id FROM emergency_contacts WHERE phone = ?1))"
    SEARCH_COMMUNITY_TOO SEARCH_REST;
static const char SQL_SEARCH_COMMUNITY[] =
    "SELECT " PERSON_COLUMNS PERSON_FROM " WHERE p.community_code = ?4" SEARCH_REST;
static const char SQL_SEARCH_ALL[] =
    "SELECT " PERSON_COLUMNS PERSON_FROM " WHERE ?4 IS NULL" SEARCH_REST;
/* clang-format on */

static const char SQL_EXPORT_PAGE[] =
    "SELECT " PERSON_COLUMNS PERSON_FROM
    " WHERE p.id > ?1 AND substr(p.community_code, 1, length(?2)) = ?2"
    " AND substr(p.community_code, 1, length(?3)) = ?3 ORDER BY p.id LIMIT ?4";
static const char SQL_EXPORT_COUNT[] =
    "SELECT count(*) FROM people p WHERE substr(p.community_code, 1, length(?1)) = ?1"
    " AND substr(p.community_code, 1, length(?2)) = ?2";

/* The caller's scope as a code prefix for the statements' scope test ("" = all). */
static void scope_prefix(const struct principal *who, char out[AREA_CODE_LEN + 1])
{
    out[0] = '\0';
    if (who->role == ROLE_ADMIN || strlen(who->scope) != AREA_CODE_LEN)
        return;
    size_t n = (size_t[]){6, 9, 12}[area_code_level(who->scope)];
    memcpy(out, who->scope, n);
    out[n] = '\0';
}

/* ---- search ---- */

struct search_args {
    const char *sql;
    const char *lead;              /* ?1 */
    char scope[AREA_CODE_LEN + 1]; /* ?3 */
    const char *community;         /* ?4 */
    char street[10];               /* ?5, "" = none */
    char born_on_or_before[11], born_after[11];
    int living_alone;
    char *like; /* ?9 */
    int64_t after_id;
    int limit;
    struct person *items;
    int n;
    int64_t next;
};

static int search_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct search_args *a = arg;
    sqlite3_stmt *st = store_stmt(c, a->sql, err);
    if (!st)
        return err->status;
    if (a->lead)
        sqlite3_bind_text(st, 1, a->lead, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, a->scope, -1, SQLITE_STATIC);
    if (a->community)
        sqlite3_bind_text(st, 4, a->community, -1, SQLITE_STATIC);
    if (a->street[0])
        sqlite3_bind_text(st, 5, a->street, -1, SQLITE_STATIC);
    if (a->born_on_or_before[0])
        sqlite3_bind_text(st, 6, a->born_on_or_before, -1, SQLITE_STATIC);
    if (a->born_after[0])
        sqlite3_bind_text(st, 7, a->born_after, -1, SQLITE_STATIC);
    if (a->living_alone >= 0)
        sqlite3_bind_int(st, 8, a->living_alone);
    if (a->like)
        sqlite3_bind_text(st, 9, a->like, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 10, a->after_id);
    sqlite3_bind_int(st, 11, a->limit + 1);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (a->n == a->limit) {
            a->next = a->items[a->n - 1].id;
            break;
        }
        people__from_row(st, &a->items[a->n++]);
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_fail(c, rc, "searching people", err);
    sqlite3_reset(st);
    for (int i = 0; i < a->n; i++)
        if ((rc = people__load_contacts(c, &a->items[i], err)))
            return rc;
    return LINLI_OK;
}

/* `"text"` with inner quotes doubled: an FTS5 phrase, so nothing in a name is syntax. */
static char *fts_phrase(const char *q)
{
    size_t n = strlen(q), k = 0;
    char *out = malloc(2 * n + 3);
    if (!out)
        return NULL;
    out[k++] = '"';
    for (; *q; q++) {
        if (*q == '"')
            out[k++] = '"';
        out[k++] = *q;
    }
    out[k++] = '"';
    out[k] = '\0';
    return out;
}

/* `%text%` with %, _ and \ escaped by \. */
static char *like_pattern(const char *q)
{
    size_t n = strlen(q), k = 0;
    char *out = malloc(2 * n + 3);
    if (!out)
        return NULL;
    out[k++] = '%';
    for (; *q; q++) {
        if (*q == '%' || *q == '_' || *q == '\\')
            out[k++] = '\\';
        out[k++] = *q;
    }
    out[k++] = '%';
    out[k] = '\0';
    return out;
}

int people_search(struct domain *d, const struct principal *who, const struct people_query *q,
                  struct person **items, int *n, int64_t *next, struct linli_err *err)
{
    if (!people_may_read(who->role))
        return linli_fail(err, LINLI_EFORBIDDEN, "Your role has no access to residents' profiles.");
    struct search_args a = {
        .living_alone = q->living_alone, .after_id = q->after_id, .limit = q->limit};
    scope_prefix(who, a.scope);
    char id_number[IDNUM_LEN + 1] = "", phone[PERSON_PHONE_SIZE] = "";
    char community[AREA_CODE_LEN + 1] = "";
    const char *why;
    size_t qlen = q->q ? jx_utf8_len(q->q) : 0;
    if (q->q && (qlen == 0 || qlen > PEOPLE_QUERY_MAX))
        linli_field(err, "q", "must be 1 to %d characters", PEOPLE_QUERY_MAX);
    if (q->id_number) {
        struct idnum_info info;
        if (idnum_check(q->id_number, people_today(), &info, &why) != 0)
            linli_field(err, "id_number", "%s", why);
        else
            memcpy(id_number, info.normalized, sizeof id_number);
    }
    if (q->phone && phone_check(q->phone, phone, (int)sizeof phone, &why) != 0)
        linli_field(err, "phone", "%s", why);
    if (q->community) {
        if (area_code_normalize(q->community, community, &why) != 0)
            linli_field(err, "community", "%s", why);
        else if (area_code_level(community) != 2)
            linli_field(err, "community", "must be a community code (12 digits)");
    }
    if (q->street) {
        char s[AREA_CODE_LEN + 1];
        if (area_code_normalize(q->street, s, &why) != 0)
            linli_field(err, "street", "%s", why);
        else if (area_code_level(s) != 1)
            linli_field(err, "street", "must be a street or township code (9 digits)");
        else
            snprintf(a.street, sizeof a.street, "%.9s", s);
    }
    if (q->age_min > 150)
        linli_field(err, "age_min", "must be between 0 and 150");
    if (q->age_max > 150)
        linli_field(err, "age_max", "must be between 0 and 150");
    if (q->age_min >= 0 && q->age_max >= 0 && q->age_min > q->age_max)
        linli_field(err, "age_max", "must not be less than age_min");
    if (q->limit < 1 || q->limit > PEOPLE_PAGE_MAX)
        linli_field(err, "limit", "must be between 1 and %d", PEOPLE_PAGE_MAX);
    if (err->nfields)
        return LINLI_EINVAL;
    people_birth_bounds(q->age_min, q->age_max, people_today(), a.born_on_or_before, a.born_after);
    /* A community worker's own community is the narrowest way in. */
    if (community[0])
        a.community = community;
    else if (who->role != ROLE_ADMIN && strlen(a.scope) == AREA_CODE_LEN)
        a.community = a.scope;
    char *phrase = NULL;
    if (id_number[0]) {
        a.sql = SQL_SEARCH_ID_NUMBER;
        a.lead = id_number;
    } else if (phone[0]) {
        a.sql = SQL_SEARCH_PHONE;
        a.lead = phone;
    } else if (q->q && qlen >= 3) {
        a.sql = SQL_SEARCH_NAME;
        a.lead = phrase = fts_phrase(q->q);
    } else if (a.community) {
        a.sql = SQL_SEARCH_COMMUNITY;
    } else {
        a.sql = SQL_SEARCH_ALL;
    }
    /* Names of one or two characters hold no trigram: substring match. With an
     * ID number or phone leading, a longer name filters by substring too. */
    if (q->q && (qlen < 3 || a.sql != SQL_SEARCH_NAME))
        a.like = like_pattern(q->q);
    a.items = calloc((size_t)q->limit, sizeof *a.items);
    int rc;
    if (!a.items || (q->q && !a.like && !phrase))
        rc = linli_fail(err, LINLI_ENOMEM, "out of memory");
    else
        rc = store_read(d->store, search_job, &a, err);
    free(phrase);
    free(a.like);
    if (rc) {
        free(a.items);
        return rc;
    }
    for (int i = 0; i < a.n; i++)
        people_mask(&a.items[i], 0);
    *items = a.items;
    *n = a.n;
    *next = a.next;
    return LINLI_OK;
}

/* ---- export ---- */

struct export_args {
    char scope[AREA_CODE_LEN + 1];
    char area[AREA_CODE_LEN + 1];
    int64_t after_id, count;
    struct person *items;
    int n;
};

static int export_count_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct export_args *a = arg;
    sqlite3_stmt *st = store_stmt(c, SQL_EXPORT_COUNT, err);
    if (!st)
        return err->status;
    sqlite3_bind_text(st, 1, a->scope, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, a->area, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW)
        return store_fail(c, rc, "counting people", err);
    a->count = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return LINLI_OK;
}

static int export_page_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct export_args *a = arg;
    sqlite3_stmt *st = store_stmt(c, SQL_EXPORT_PAGE, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, a->after_id);
    sqlite3_bind_text(st, 2, a->scope, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, a->area, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, EXPORT_PAGE);
    int rc;
    a->n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        people__from_row(st, &a->items[a->n++]);
    if (rc != SQLITE_DONE)
        return store_fail(c, rc, "exporting people", err);
    sqlite3_reset(st);
    for (int i = 0; i < a->n; i++)
        if ((rc = people__load_contacts(c, &a->items[i], err)))
            return rc;
    return LINLI_OK;
}

int people_export(struct domain *d, const struct principal *who, const char *area,
                  people_export_fn fn, void *ctx, int64_t *count, struct linli_err *err)
{
    *count = 0;
    if (people_may_reveal(who->role) != (PEOPLE_REVEAL_ID_NUMBER | PEOPLE_REVEAL_PHONE))
        return linli_fail(err, LINLI_EFORBIDDEN, "Your role may not export residents' profiles.");
    struct export_args a = {0};
    scope_prefix(who, a.scope);
    if (area) {
        char norm[AREA_CODE_LEN + 1];
        const char *why;
        if (area_code_normalize(area, norm, &why) != 0)
            return linli_field(err, "community", "%s", why);
        size_t len = (size_t[]){6, 9, 12}[area_code_level(norm)];
        memcpy(a.area, norm, len);
        a.area[len] = '\0';
    }
    int rc = store_read(d->store, export_count_job, &a, err);
    if (rc)
        return rc;
    json_t *detail = json_pack("{s:o, s:I}", "area", area ? json_string(a.area) : json_null(),
                               "count", (json_int_t)a.count);
    rc = audit_record_read(d, who, "person.export", "people", detail, err);
    json_decref(detail);
    if (rc)
        return rc;
    a.items = malloc(EXPORT_PAGE * sizeof *a.items);
    if (!a.items)
        return linli_fail(err, LINLI_ENOMEM, "out of memory");
    do {
        if ((rc = store_read(d->store, export_page_job, &a, err)))
            break;
        for (int i = 0; i < a.n && !rc; i++) {
            rc = fn(ctx, &a.items[i]);
            if (!rc)
                (*count)++;
        }
        if (a.n)
            a.after_id = a.items[a.n - 1].id;
    } while (!rc && a.n == EXPORT_PAGE);
    free(a.items);
    return rc;
}

static int max_contacts_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_MAX_CONTACTS, err);
    if (!st)
        return err->status;
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW)
        return store_fail(c, rc, "counting contacts", err);
    *(int *)arg = sqlite3_column_int(st, 0);
    sqlite3_reset(st);
    return LINLI_OK;
}

int people_max_contacts(struct domain *d, int *n, struct linli_err *err)
{
    *n = 0;
    return store_read(d->store, max_contacts_job, n, err);
}
