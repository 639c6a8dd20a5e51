/* people.c - residents' profiles in the store: create, get and update with
 * their audit entries, and the row helpers (reading a profile and its
 * contacts, inserting one) shared through people_internal.h. The rules a
 * profile follows are in people_rules.c, search and export in
 * people_search.c, bulk import in people_import.c. */
#include "domain/people_internal.h"

#include "base/clock.h"
#include "domain/audit.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- SQL ---- */

static const char SQL_PERSON_BY_ID[] = "SELECT " PERSON_COLUMNS PERSON_FROM " WHERE p.id = ?";
static const char SQL_CONTACTS[] =
    "SELECT name, relation, phone FROM emergency_contacts WHERE person_id = ? ORDER BY position";
static const char SQL_CONTACTS_DELETE[] = "DELETE FROM emergency_contacts WHERE person_id = ?";
static const char SQL_PERSON_UPDATE[] =
    "UPDATE people SET name = ?2, id_number = ?3, birth_date = ?4, sex = ?5, phone = ?6,"
    " address = ?7, lat = ?8, lon = ?9, community_code = ?10, living_alone = ?11,"
    " care_level = ?12, disability = ?13, subsidy_class = ?14, conditions = ?15,"
    " consent = ?16,"
    " consent_at = CASE WHEN ?16 = 0 THEN NULL WHEN consent = 1 THEN consent_at ELSE ?17 END,"
    " updated_at = ?17 WHERE id = ?1";
static const char SQL_COMMUNITY_STATE[] =
    "SELECT level, retired_edition IS NULL FROM areas WHERE code = ?";

/* ---- rows ---- */

void people__copy_col(char *dst, size_t size, sqlite3_stmt *st, int i)
{
    const unsigned char *v = sqlite3_column_text(st, i);
    snprintf(dst, size, "%s", v ? (const char *)v : "");
}

static void conditions_from_json(struct person *p, const char *text)
{
    p->nconditions = 0;
    json_t *arr = text ? json_loads(text, 0, NULL) : NULL;
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        if (p->nconditions == PERSON_CONDITIONS_MAX)
            break;
        if (json_is_string(v))
            snprintf(p->conditions[p->nconditions++], sizeof p->conditions[0], "%s",
                     json_string_value(v));
    }
    json_decref(arr);
}

static char *conditions_json(const struct person *p)
{
    json_t *arr = json_array();
    for (int i = 0; i < p->nconditions; i++)
        json_array_append_new(arr, json_string(p->conditions[i]));
    char *s = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    return s;
}

void people__from_row(sqlite3_stmt *st, struct person *p)
{
    memset(p, 0, sizeof *p);
    p->id = sqlite3_column_int64(st, 0);
    people__copy_col(p->name, sizeof p->name, st, 1);
    people__copy_col(p->id_number, sizeof p->id_number, st, 2);
    people__copy_col(p->birth_date, sizeof p->birth_date, st, 3);
    const unsigned char *sex = sqlite3_column_text(st, 4);
    p->sex = sex && (sex[0] == 'M' || sex[0] == 'F') ? (char)sex[0] : 0;
    people__copy_col(p->phone, sizeof p->phone, st, 5);
    people__copy_col(p->address, sizeof p->address, st, 6);
    p->has_home = sqlite3_column_type(st, 7) != SQLITE_NULL;
    p->lat = sqlite3_column_double(st, 7);
    p->lon = sqlite3_column_double(st, 8);
    people__copy_col(p->community_code, sizeof p->community_code, st, 9);
    people__copy_col(p->community_name, sizeof p->community_name, st, 10);
    p->living_alone = sqlite3_column_int(st, 11) != 0;
    const unsigned char *care = sqlite3_column_text(st, 12);
    if (!care || people_care_level_parse((const char *)care, &p->care_level) != 0)
        p->care_level = CARE_SELF; /* unreachable: a CHECK constraint holds the codes */
    people__copy_col(p->disability, sizeof p->disability, st, 13);
    people__copy_col(p->subsidy_class, sizeof p->subsidy_class, st, 14);
    conditions_from_json(p, (const char *)sqlite3_column_text(st, 15));
    p->consent = sqlite3_column_int(st, 16) != 0;
    p->created_at = sqlite3_column_int64(st, 17);
    p->updated_at = sqlite3_column_int64(st, 18);
}

int people__load_contacts(struct store_conn *c, struct person *p, struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_CONTACTS, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, p->id);
    int rc;
    p->ncontacts = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && p->ncontacts < PERSON_CONTACTS_MAX) {
        struct contact *co = &p->contacts[p->ncontacts++];
        people__copy_col(co->name, sizeof co->name, st, 0);
        people__copy_col(co->relation, sizeof co->relation, st, 1);
        people__copy_col(co->phone, sizeof co->phone, st, 2);
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_fail(c, rc, "reading emergency contacts", err);
    sqlite3_reset(st);
    return LINLI_OK;
}

/* Loads person `id` with its contacts; *found says whether it exists. */
static int load_person(struct store_conn *c, int64_t id, struct person *out, bool *found,
                       struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_PERSON_BY_ID, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    *found = rc == SQLITE_ROW;
    if (rc == SQLITE_ROW)
        people__from_row(st, out);
    else if (rc != SQLITE_DONE)
        return store_fail(c, rc, "reading a person", err);
    sqlite3_reset(st);
    return *found ? people__load_contacts(c, out, err) : LINLI_OK;
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *v)
{
    if (v && *v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

/* Binds the stored columns of `p` in the order of SQL_PERSON_INSERT's ?1..?15
 * (SQL_PERSON_UPDATE uses the same values shifted by one). */
static int bind_person(sqlite3_stmt *st, int first, const struct person *p, int64_t now)
{
    char *conditions = conditions_json(p);
    if (!conditions)
        return LINLI_ENOMEM;
    char sex[2] = {p->sex, '\0'};
    int i = first;
    sqlite3_bind_text(st, i++, p->name, -1, SQLITE_TRANSIENT);
    bind_text_or_null(st, i++, p->id_number);
    bind_text_or_null(st, i++, p->birth_date);
    bind_text_or_null(st, i++, sex);
    bind_text_or_null(st, i++, p->phone);
    sqlite3_bind_text(st, i++, p->address, -1, SQLITE_TRANSIENT);
    if (p->has_home) {
        sqlite3_bind_double(st, i++, p->lat);
        sqlite3_bind_double(st, i++, p->lon);
    } else {
        sqlite3_bind_null(st, i++);
        sqlite3_bind_null(st, i++);
    }
    sqlite3_bind_text(st, i++, p->community_code, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, i++, p->living_alone);
    sqlite3_bind_text(st, i++, people_care_level_name(p->care_level), -1, SQLITE_STATIC);
    bind_text_or_null(st, i++, p->disability);
    bind_text_or_null(st, i++, p->subsidy_class);
    sqlite3_bind_text(st, i++, conditions, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, i++, p->consent);
    sqlite3_bind_int64(st, i++, now);
    free(conditions);
    return LINLI_OK;
}

static const char SQL_PERSON_INSERT[] =
    "INSERT INTO people (name, id_number, birth_date, sex, phone, address, lat, lon,"
    " community_code, living_alone, care_level, disability, subsidy_class, conditions, consent,"
    " consent_at, created_at, updated_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15,"
    " CASE WHEN ?15 = 1 THEN ?16 END, ?16, ?16) RETURNING id";
static const char SQL_CONTACT_INSERT[] =
    "INSERT INTO emergency_contacts (person_id, position, name, relation, phone)"
    " VALUES (?, ?, ?, ?, ?)";

static int insert_contacts(struct store_conn *c, int64_t id, const struct person *p,
                           struct linli_err *err)
{
    for (int i = 0; i < p->ncontacts; i++) {
        sqlite3_stmt *st = store_stmt(c, SQL_CONTACT_INSERT, err);
        if (!st)
            return err->status;
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int(st, 2, i + 1);
        sqlite3_bind_text(st, 3, p->contacts[i].name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, p->contacts[i].relation, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, p->contacts[i].phone, -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        if (rc != SQLITE_DONE)
            return store_fail(c, rc, "adding an emergency contact", err);
        sqlite3_reset(st);
    }
    return LINLI_OK;
}

int people__insert(struct store_conn *c, const struct person *p, int64_t now, int64_t *id,
                   struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_PERSON_INSERT, err);
    if (!st)
        return err->status;
    if (bind_person(st, 1, p, now))
        return linli_fail(err, LINLI_ENOMEM, "out of memory");
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        if ((rc & 0xff) == SQLITE_CONSTRAINT) {
            sqlite3_reset(st);
            linli_field(err, "id_number", "is already recorded for another person");
            return linli_fail(err, LINLI_ECONFLICT, "A person with this ID number exists already.");
        }
        return store_fail(c, rc, "adding a person", err);
    }
    *id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return insert_contacts(c, *id, p, err);
}

static int check_community(struct store_conn *c, const char *code, struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_COMMUNITY_STATE, err);
    if (!st)
        return err->status;
    sqlite3_bind_text(st, 1, code, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        return linli_field(err, "community_code", "is not an area in the registry");
    if (rc != SQLITE_ROW)
        return store_fail(c, rc, "reading an area", err);
    int level = sqlite3_column_int(st, 0), current = sqlite3_column_int(st, 1);
    sqlite3_reset(st);
    if (level != 2)
        return linli_field(err, "community_code", "is not a community");
    if (!current)
        return linli_field(err, "community_code", "was retired from the official list");
    return LINLI_OK;
}

static json_t *person_event(const struct person *p)
{
    return json_pack("{s:I, s:s}", "id", (json_int_t)p->id, "community_code", p->community_code);
}

/* ---- create ---- */

struct create_job {
    const struct principal *who;
    const struct person *p;
    const struct idem_req *idem;
    bool replayed;
    struct person *out;
};

static int create_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct create_job *j = arg;
    int64_t id = 0;
    bool found;
    int rc;
    if (j->idem) {
        int seen = idem_find(c, j->idem, &id, err);
        if (seen < 0)
            return seen;
        if (seen) {
            j->replayed = true;
            return load_person(c, id, j->out, &found, err);
        }
    }
    if ((rc = check_community(c, j->p->community_code, err)))
        return rc;
    if ((rc = people__insert(c, j->p, clock_now_ms(), &id, err)))
        return rc;
    if ((rc = load_person(c, id, j->out, &found, err)))
        return rc;
    char object[32];
    snprintf(object, sizeof object, "person:%lld", (long long)id);
    json_t *detail = person_event(j->out);
    rc = audit_append(c, j->who, "person.create", object, detail, err);
    json_decref(detail);
    if (rc)
        return rc;
    if (j->idem && (rc = idem_record(c, j->idem, id, err)))
        return rc;
    return LINLI_OK;
}

int people_create(struct domain *d, const struct principal *who, const struct person_in *in,
                  const struct idem_req *idem, struct person *out, bool *replayed,
                  struct linli_err *err)
{
    if (!people_may_write(who->role))
        return linli_fail(err, LINLI_EFORBIDDEN, "Your role may not add residents' profiles.");
    struct person *p = malloc(sizeof *p);
    if (!p)
        return linli_fail(err, LINLI_ENOMEM, "out of memory");
    int rc = people_check(in, people_today(), p, err);
    if (rc == LINLI_OK && !people_visible(who, p->community_code))
        rc = linli_fail(err, LINLI_EFORBIDDEN,
                        "Community %s lies outside your area; you may add people only within it.",
                        p->community_code);
    if (rc == LINLI_OK) {
        struct create_job j = {who, p, idem, false, out};
        rc = store_write(d->store, create_job, &j, err);
        if (rc == LINLI_OK && replayed)
            *replayed = j.replayed;
        if (rc == LINLI_OK && !j.replayed)
            domain_publish(d, "person.created", person_event(out));
    }
    free(p);
    if (rc == LINLI_OK)
        people_mask(out, 0);
    return rc;
}

/* ---- get ---- */

struct get_args {
    int64_t id;
    struct person *out;
    bool found;
};

static int get_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct get_args *a = arg;
    return load_person(c, a->id, a->out, &a->found, err);
}

static json_t *reveal_fields(unsigned reveal)
{
    json_t *f = json_array();
    if (reveal & PEOPLE_REVEAL_ID_NUMBER)
        json_array_append_new(f, json_string("id_number"));
    if (reveal & PEOPLE_REVEAL_PHONE)
        json_array_append_new(f, json_string("phone"));
    return f;
}

int people_get(struct domain *d, const struct principal *who, int64_t id, unsigned reveal,
               struct person *out, struct linli_err *err)
{
    if (!people_may_read(who->role))
        return linli_fail(err, LINLI_EFORBIDDEN, "Your role has no access to residents' profiles.");
    if (reveal & ~people_may_reveal(who->role))
        return linli_fail(err, LINLI_EFORBIDDEN, "Your role may not see %s unmasked.",
                          (reveal & ~people_may_reveal(who->role) & PEOPLE_REVEAL_ID_NUMBER)
                              ? "ID numbers"
                              : "phone numbers");
    struct get_args a = {id, out, false};
    int rc = store_read(d->store, get_job, &a, err);
    if (rc)
        return rc;
    if (!a.found || !people_visible(who, out->community_code)) {
        memset(out, 0, sizeof *out);
        return linli_fail(err, LINLI_ENOTFOUND, "No person %lld in your area.", (long long)id);
    }
    if (reveal) {
        char object[32];
        snprintf(object, sizeof object, "person:%lld", (long long)id);
        json_t *detail = json_pack("{s:o}", "fields", reveal_fields(reveal));
        rc = audit_record_read(d, who, "person.reveal", object, detail, err);
        json_decref(detail);
        if (rc) {
            memset(out, 0, sizeof *out); /* nothing unmasked leaves without its entry */
            return rc;
        }
    }
    people_mask(out, reveal);
    return LINLI_OK;
}

/* ---- update ---- */

struct update_job {
    const struct principal *who;
    int64_t id;
    const struct person_patch *p;
    int today;
    struct person *before, *after, *out;
    bool moved_out_of_scope;
};

/* The stored profile as input, so a patch can be laid over it and the whole
 * checked again. Strings point into `p`. */
static void input_from_person(const struct person *p, struct person_in *in)
{
    memset(in, 0, sizeof *in);
    in->name = p->name;
    in->id_number = p->id_number[0] ? p->id_number : NULL;
    in->phone = p->phone[0] ? p->phone : NULL;
    in->address = p->address;
    in->has_home = p->has_home;
    in->lat = p->lat;
    in->lon = p->lon;
    in->community_code = p->community_code;
    in->living_alone = p->living_alone;
    in->care_level = people_care_level_name(p->care_level);
    in->disability = p->disability[0] ? p->disability : NULL;
    in->subsidy_class = p->subsidy_class[0] ? p->subsidy_class : NULL;
    in->nconditions = p->nconditions;
    for (int i = 0; i < p->nconditions; i++)
        in->conditions[i] = p->conditions[i];
    in->ncontacts = p->ncontacts;
    for (int i = 0; i < p->ncontacts; i++) {
        in->contacts[i].name = p->contacts[i].name;
        in->contacts[i].relation = p->contacts[i].relation;
        in->contacts[i].phone = p->contacts[i].phone;
    }
    in->consent = p->consent;
}

static void apply_patch(struct person_in *in, const struct person_patch *p)
{
    const struct person_in *v = &p->v;
    if (p->set_name)
        in->name = v->name;
    if (p->set_id_number)
        in->id_number = v->id_number;
    if (p->set_phone)
        in->phone = v->phone;
    if (p->set_address)
        in->address = v->address;
    if (p->set_home) {
        in->has_home = v->has_home;
        in->lat = v->lat;
        in->lon = v->lon;
    }
    if (p->set_community_code)
        in->community_code = v->community_code;
    if (p->set_living_alone)
        in->living_alone = v->living_alone;
    if (p->set_care_level)
        in->care_level = v->care_level;
    if (p->set_disability)
        in->disability = v->disability;
    if (p->set_subsidy_class)
        in->subsidy_class = v->subsidy_class;
    if (p->set_conditions) {
        in->nconditions = v->nconditions;
        memcpy(in->conditions, v->conditions, sizeof in->conditions);
    }
    if (p->set_contacts) {
        in->ncontacts = v->ncontacts;
        memcpy(in->contacts, v->contacts, sizeof in->contacts);
    }
    if (p->set_consent)
        in->consent = v->consent;
}

static json_t *changed_fields(const struct person_patch *p)
{
    json_t *a = json_array();
    const struct {
        bool set;
        const char *name;
    } f[] = {
        {p->set_name, "name"},
        {p->set_id_number, "id_number"},
        {p->set_phone, "phone"},
        {p->set_address, "address"},
        {p->set_home, "home"},
        {p->set_community_code, "community_code"},
        {p->set_living_alone, "living_alone"},
        {p->set_care_level, "care_level"},
        {p->set_disability, "disability"},
        {p->set_subsidy_class, "subsidy_class"},
        {p->set_conditions, "conditions"},
        {p->set_contacts, "emergency_contacts"},
        {p->set_consent, "consent"},
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        if (f[i].set)
            json_array_append_new(a, json_string(f[i].name));
    return a;
}

static int update_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct update_job *j = arg;
    bool found;
    int rc = load_person(c, j->id, j->before, &found, err);
    if (rc)
        return rc;
    if (!found || !people_visible(j->who, j->before->community_code))
        return linli_fail(err, LINLI_ENOTFOUND, "No person %lld in your area.", (long long)j->id);
    struct person_in in;
    input_from_person(j->before, &in);
    apply_patch(&in, j->p);
    if ((rc = people_check(&in, j->today, j->after, err)))
        return rc;
    if (strcmp(j->after->community_code, j->before->community_code) != 0) {
        if (!people_visible(j->who, j->after->community_code))
            return linli_fail(err, LINLI_EFORBIDDEN,
                              "Community %s lies outside your area; you may not move people there.",
                              j->after->community_code);
        if ((rc = check_community(c, j->after->community_code, err)))
            return rc;
    }
    sqlite3_stmt *st = store_stmt(c, SQL_PERSON_UPDATE, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, j->id);
    if (bind_person(st, 2, j->after, clock_now_ms()))
        return linli_fail(err, LINLI_ENOMEM, "out of memory");
    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        if ((rc & 0xff) == SQLITE_CONSTRAINT) {
            sqlite3_reset(st);
            linli_field(err, "id_number", "is already recorded for another person");
            return linli_fail(err, LINLI_ECONFLICT, "A person with this ID number exists already.");
        }
        return store_fail(c, rc, "changing a person", err);
    }
    sqlite3_reset(st);
    if (j->p->set_contacts) {
        if (!(st = store_stmt(c, SQL_CONTACTS_DELETE, err)))
            return err->status;
        sqlite3_bind_int64(st, 1, j->id);
        if ((rc = sqlite3_step(st)) != SQLITE_DONE)
            return store_fail(c, rc, "replacing emergency contacts", err);
        sqlite3_reset(st);
        if ((rc = insert_contacts(c, j->id, j->after, err)))
            return rc;
    }
    if ((rc = load_person(c, j->id, j->out, &found, err)))
        return rc;
    json_t *detail = person_event(j->out);
    json_object_set_new(detail, "changed", changed_fields(j->p));
    if (strcmp(j->before->community_code, j->out->community_code) != 0)
        json_object_set_new(detail, "from_community_code", json_string(j->before->community_code));
    char object[32];
    snprintf(object, sizeof object, "person:%lld", (long long)j->id);
    rc = audit_append(c, j->who, "person.update", object, detail, err);
    json_decref(detail);
    return rc;
}

int people_update(struct domain *d, const struct principal *who, int64_t id,
                  const struct person_patch *p, struct person *out, struct linli_err *err)
{
    if (!people_may_write(who->role))
        return linli_fail(err, LINLI_EFORBIDDEN, "Your role may not change residents' profiles.");
    struct person *work = malloc(2 * sizeof *work);
    if (!work)
        return linli_fail(err, LINLI_ENOMEM, "out of memory");
    struct update_job j = {who, id, p, people_today(), &work[0], &work[1], out, false};
    int rc = store_write(d->store, update_job, &j, err);
    free(work);
    if (rc)
        return rc;
    domain_publish(d, "person.updated", person_event(out));
    people_mask(out, 0);
    return LINLI_OK;
}
