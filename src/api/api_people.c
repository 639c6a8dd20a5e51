/* api_people.c - /api/v1/people: residents' profiles for staff within their
 * area. ID numbers and phones come masked; GET /people/{id}?reveal=... shows
 * them to the roles that need them, after the audit log has the read. */
#include "api/api.h"

#include "domain/people.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TYPED_NUMBER_MAX 32 /* characters of an ID or phone number as typed (spaces, +86) */

/* The fields of a profile; POST requires two, PATCH none. */
static const struct jx_field create_fields[] = {
    {"name", JX_STRING, true, false, PERSON_NAME_MAX},
    {"id_number", JX_STRING, false, true, TYPED_NUMBER_MAX},
    {"phone", JX_STRING, false, true, TYPED_NUMBER_MAX},
    {"address", JX_STRING, false, false, PERSON_ADDRESS_MAX},
    {"home", JX_OBJECT, false, true, 0},
    {"community_code", JX_STRING, true, false, AREA_CODE_LEN},
    {"living_alone", JX_BOOL, false, false, 0},
    {"care_level", JX_STRING, false, false, 32}, /* longest code or label */
    {"disability", JX_STRING, false, true, PERSON_DISABILITY_MAX},
    {"subsidy_class", JX_STRING, false, true, 16},
    {"conditions", JX_ARRAY, false, false, 0},
    {"emergency_contacts", JX_ARRAY, false, false, 0},
    {"consent", JX_BOOL, false, false, 0},
};
#define NFIELDS (sizeof create_fields / sizeof create_fields[0])

static const struct jx_field home_fields[] = {
    {"lat", JX_NUMBER, true, false, 0},
    {"lon", JX_NUMBER, true, false, 0},
};
static const struct jx_field contact_fields[] = {
    {"name", JX_STRING, true, false, CONTACT_NAME_MAX},
    {"relation", JX_STRING, false, false, CONTACT_RELATION_MAX},
    {"phone", JX_STRING, true, false, TYPED_NUMBER_MAX},
};

/* jx_check on a nested object, with its field errors named "prefix.field". */
static void check_nested(const json_t *obj, const struct jx_field *fields, size_t n,
                         const char *prefix, struct linli_err *err)
{
    struct linli_err inner;
    linli_err_clear(&inner);
    if (!json_is_object(obj)) {
        linli_field(err, prefix, "must be an object");
        return;
    }
    jx_check(obj, fields, n, &inner);
    for (int i = 0; i < inner.nfields; i++) {
        char name[96];
        snprintf(name, sizeof name, "%s.%s", prefix, inner.fields[i].field);
        linli_field(err, name, "%s", inner.fields[i].message);
    }
}

/* Fills the nested parts of `in` (home, conditions, contacts) from a body
 * that passed jx_check, adding a field error for each shape problem. The
 * strings stay owned by `body`. */
static void decode_nested(const json_t *body, struct person_in *in, struct linli_err *err)
{
    const json_t *home = json_object_get(body, "home");
    if (home && !json_is_null(home)) {
        size_t before = (size_t)err->nfields;
        check_nested(home, home_fields, 2, "home", err);
        if ((size_t)err->nfields == before) {
            in->has_home = true;
            in->lat = json_number_value(json_object_get(home, "lat"));
            in->lon = json_number_value(json_object_get(home, "lon"));
        }
    }
    const json_t *conds = json_object_get(body, "conditions");
    if (json_array_size(conds) > PERSON_CONDITIONS_MAX) {
        linli_field(err, "conditions", "at most %d conditions", PERSON_CONDITIONS_MAX);
    } else {
        size_t i;
        const json_t *v;
        json_array_foreach(conds, i, v)
        {
            if (!json_is_string(v)) {
                char field[48];
                snprintf(field, sizeof field, "conditions[%zu]", i);
                linli_field(err, field, "must be a string");
            }
            in->conditions[in->nconditions++] = json_string_value(v); /* NULL keeps the index */
        }
    }
    const json_t *contacts = json_object_get(body, "emergency_contacts");
    if (json_array_size(contacts) > PERSON_CONTACTS_MAX) {
        linli_field(err, "emergency_contacts", "at most %d contacts", PERSON_CONTACTS_MAX);
    } else {
        size_t i;
        const json_t *v;
        json_array_foreach(contacts, i, v)
        {
            char field[48];
            snprintf(field, sizeof field, "emergency_contacts[%zu]", i);
            check_nested(v, contact_fields, 3, field, err);
            /* Kept even when malformed, so later contacts keep their index. */
            struct contact_in *c = &in->contacts[in->ncontacts++];
            c->name = jx_str(v, "name");
            c->relation = jx_str(v, "relation");
            c->phone = jx_str(v, "phone");
        }
    }
}

static void decode_person(const json_t *body, struct person_in *in, struct linli_err *err)
{
    memset(in, 0, sizeof *in);
    in->name = jx_str(body, "name");
    in->id_number = jx_str(body, "id_number");
    in->phone = jx_str(body, "phone");
    in->address = jx_str(body, "address");
    in->community_code = jx_str(body, "community_code");
    in->living_alone = jx_bool(body, "living_alone", 0);
    in->care_level = jx_str(body, "care_level");
    in->disability = jx_str(body, "disability");
    in->subsidy_class = jx_str(body, "subsidy_class");
    in->consent = jx_bool(body, "consent", 0);
    decode_nested(body, in, err);
}

static json_t *text_or_null(const char *s)
{
    return s[0] ? json_string(s) : json_null();
}

static json_t *person_json(const struct person *p, int today)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(p->id));
    json_object_set_new(o, "name", json_string(p->name));
    json_object_set_new(o, "id_number", text_or_null(p->id_number));
    json_object_set_new(o, "id_number_masked", json_boolean(p->id_number_masked));
    json_object_set_new(o, "birth_date", text_or_null(p->birth_date));
    json_object_set_new(o, "sex", p->sex ? json_stringn(&p->sex, 1) : json_null());
    int age = people_age(p->birth_date, today);
    json_object_set_new(o, "age", age >= 0 ? json_integer(age) : json_null());
    json_object_set_new(o, "phone", text_or_null(p->phone));
    json_object_set_new(o, "phone_masked", json_boolean(p->phone_masked));
    json_object_set_new(o, "address", json_string(p->address));
    json_object_set_new(o, "home",
                        p->has_home ? json_pack("{s:f, s:f}", "lat", p->lat, "lon", p->lon)
                                    : json_null());
    json_object_set_new(o, "community_code", json_string(p->community_code));
    json_object_set_new(o, "community_name", text_or_null(p->community_name));
    json_object_set_new(o, "living_alone", json_boolean(p->living_alone));
    json_object_set_new(o, "care_level", json_string(people_care_level_name(p->care_level)));
    json_object_set_new(o, "disability", text_or_null(p->disability));
    json_object_set_new(o, "subsidy_class", text_or_null(p->subsidy_class));
    json_t *conds = json_array();
    for (int i = 0; i < p->nconditions; i++)
        json_array_append_new(conds, json_string(p->conditions[i]));
    json_object_set_new(o, "conditions", conds);
    json_t *contacts = json_array();
    for (int i = 0; i < p->ncontacts; i++)
        json_array_append_new(contacts,
                              json_pack("{s:s, s:s, s:s}", "name", p->contacts[i].name, "relation",
                                        p->contacts[i].relation, "phone", p->contacts[i].phone));
    json_object_set_new(o, "emergency_contacts", contacts);
    json_object_set_new(o, "consent", json_boolean(p->consent));
    json_object_set_new(o, "created_at", api_time(p->created_at));
    json_object_set_new(o, "updated_at", api_time(p->updated_at));
    return o;
}

static void respond_422(struct http_request *req, json_t *body, struct linli_err *err)
{
    json_decref(body);
    http_respond_problem(req, 422, err);
}

static void create(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    if (api_auth(a, req, &who) || api_query(req, (const char *const[]){NULL}))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    /* A role that may not write learns so before its body is looked at. */
    if (!people_may_write(who.role)) {
        linli_fail(&err, LINLI_EFORBIDDEN, "Your role may not add residents' profiles.");
        api_error(req, &err);
        return;
    }
    json_t *body = api_body(req, create_fields, NFIELDS);
    if (!body)
        return;
    struct person_in in;
    decode_person(body, &in, &err);
    if (err.nfields) {
        /* List the rule problems of the rest too: every problem at once. */
        struct person *scratch = malloc(sizeof *scratch);
        struct linli_err rules;
        linli_err_clear(&rules);
        if (scratch)
            people_check(&in, people_today(), scratch, &rules);
        free(scratch);
        for (int i = 0; i < rules.nfields; i++) {
            bool known = false;
            for (int k = 0; k < err.nfields; k++)
                known |= !strcmp(err.fields[k].field, rules.fields[i].field);
            if (!known)
                linli_field(&err, rules.fields[i].field, "%s", rules.fields[i].message);
        }
        respond_422(req, body, &err);
        return;
    }
    struct idem_req idem;
    const struct idem_req *ip;
    if (api_idempotency(req, &who, "POST /api/v1/people", &idem, &ip)) {
        json_decref(body);
        return;
    }
    struct person *p = malloc(sizeof *p);
    if (!p) {
        json_decref(body);
        linli_fail(&err, LINLI_ENOMEM, "out of memory");
        api_error(req, &err);
        return;
    }
    bool replayed = false;
    int rc = people_create(a->d, &who, &in, ip, p, &replayed, &err);
    json_decref(body);
    if (rc) {
        free(p);
        api_error(req, &err);
        return;
    }
    api_created(req, "people", p->id, replayed, person_json(p, people_today()));
    free(p);
}

/* A whole number from 0 to 150, or -1 when absent. */
static int query_age(struct http_request *req, const char *name, struct linli_err *err)
{
    const char *s = http_query(req, name);
    if (!s)
        return -1;
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < 0 || v > 150) {
        linli_field(err, name, "must be a whole number of years from 0 to 150");
        return -1;
    }
    return (int)v;
}

static void list(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    if (api_auth(a, req, &who) ||
        api_query(req,
                  (const char *const[]){"q", "id_number", "phone", "community", "street", "age_min",
                                        "age_max", "living_alone", "limit", "cursor", NULL}))
        return;
    struct people_query q = {
        .q = http_query(req, "q"),
        .id_number = http_query(req, "id_number"),
        .phone = http_query(req, "phone"),
        .community = http_query(req, "community"),
        .street = http_query(req, "street"),
        .living_alone = -1,
    };
    if (api_page(a, req, PEOPLE_PAGE_MAX, &q.limit, &q.after_id))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    q.age_min = query_age(req, "age_min", &err);
    q.age_max = query_age(req, "age_max", &err);
    const char *alone = http_query(req, "living_alone");
    if (alone) {
        if (!strcmp(alone, "true") || !strcmp(alone, "1"))
            q.living_alone = 1;
        else if (!strcmp(alone, "false") || !strcmp(alone, "0"))
            q.living_alone = 0;
        else
            linli_field(&err, "living_alone", "must be true or false");
    }
    if (err.nfields) {
        http_respond_problem(req, 422, &err);
        return;
    }
    struct person *items;
    int n;
    int64_t next;
    if (people_search(a->d, &who, &q, &items, &n, &next, &err)) {
        api_error(req, &err);
        return;
    }
    int today = people_today();
    json_t *arr = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(arr, person_json(&items[i], today));
    free(items);
    http_respond_json(req, 200, api_list(arr, next));
}

/* ?reveal=id_number,phone */
static int parse_reveal(const char *s, unsigned *out, struct linli_err *err)
{
    *out = 0;
    if (!s)
        return 0;
    const char *p = s;
    while (1) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == 9 && !strncmp(p, "id_number", 9))
            *out |= PEOPLE_REVEAL_ID_NUMBER;
        else if (n == 5 && !strncmp(p, "phone", 5))
            *out |= PEOPLE_REVEAL_PHONE;
        else
            return linli_field(err, "reveal", "must list id_number and/or phone, comma-separated");
        if (!end)
            return 0;
        p = end + 1;
    }
}

static void get(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    int64_t id;
    if (api_auth(a, req, &who) || api_query(req, (const char *const[]){"reveal", NULL}) ||
        api_path_id(req, 0, &id))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    unsigned reveal;
    if (parse_reveal(http_query(req, "reveal"), &reveal, &err)) {
        http_respond_problem(req, 422, &err);
        return;
    }
    struct person *p = malloc(sizeof *p);
    if (!p) {
        linli_fail(&err, LINLI_ENOMEM, "out of memory");
        api_error(req, &err);
        return;
    }
    if (people_get(a->d, &who, id, reveal, p, &err)) {
        free(p);
        api_error(req, &err);
        return;
    }
    if (reveal)
        http_add_header(req, "Cache-Control", "no-store");
    http_respond_json(req, 200, person_json(p, people_today()));
    free(p);
}

static void patch(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    int64_t id;
    if (api_auth(a, req, &who) || api_query(req, (const char *const[]){NULL}) ||
        api_path_id(req, 0, &id))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    if (!people_may_write(who.role)) {
        linli_fail(&err, LINLI_EFORBIDDEN, "Your role may not change residents' profiles.");
        api_error(req, &err);
        return;
    }
    json_t *body = api_body_partial(req, create_fields, NFIELDS);
    if (!body)
        return;
    if (json_object_size(body) == 0) {
        linli_fail(&err, LINLI_EINVAL, "Nothing to change: send at least one field.");
        respond_422(req, body, &err);
        return;
    }
    struct person_patch p = {
        .set_name = jx_has(body, "name"),
        .set_id_number = jx_has(body, "id_number"),
        .set_phone = jx_has(body, "phone"),
        .set_address = jx_has(body, "address"),
        .set_home = jx_has(body, "home"),
        .set_community_code = jx_has(body, "community_code"),
        .set_living_alone = jx_has(body, "living_alone"),
        .set_care_level = jx_has(body, "care_level"),
        .set_disability = jx_has(body, "disability"),
        .set_subsidy_class = jx_has(body, "subsidy_class"),
        .set_conditions = jx_has(body, "conditions"),
        .set_contacts = jx_has(body, "emergency_contacts"),
        .set_consent = jx_has(body, "consent"),
    };
    decode_person(body, &p.v, &err);
    if (err.nfields) {
        respond_422(req, body, &err);
        return;
    }
    struct person *out = malloc(sizeof *out);
    if (!out) {
        json_decref(body);
        linli_fail(&err, LINLI_ENOMEM, "out of memory");
        api_error(req, &err);
        return;
    }
    int rc = people_update(a->d, &who, id, &p, out, &err);
    json_decref(body);
    if (rc) {
        free(out);
        api_error(req, &err);
        return;
    }
    http_respond_json(req, 200, person_json(out, people_today()));
    free(out);
}

int api_people_routes(struct api *a)
{
    int rc;
    if ((rc = http_route(a->http, "POST", "/api/v1/people", create, a)) < 0 ||
        (rc = http_route(a->http, "GET", "/api/v1/people", list, a)) < 0 ||
        (rc = http_route(a->http, "GET", "/api/v1/people/{id}", get, a)) < 0 ||
        (rc = http_route(a->http, "PATCH", "/api/v1/people/{id}", patch, a)) < 0)
        return rc;
    return 0;
}
