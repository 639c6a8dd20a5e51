/* calls_pop.c - the screen pop: what an operator sees the moment a call is
 * offered. The caller's profile (name, age, sex, address, home, conditions,
 * care level, living alone), emergency contacts with their phones unmasked
 * as far as the operator's role allows, the device's last location and
 * battery, the caller's last 5 calls, their open tasks, and the nearest
 * suitable services from the directory.
 *
 * Showing the phones unmasked is an audited read: the offer path appends the
 * entry in the job that records the offer (calls_dispatch.c), the route
 * (calls_screen_pop) records it as its own durable write first. */
#include "domain/calls.h"

#include "base/clock.h"
#include "domain/audit.h"
#include "domain/calls_internal.h"
#include "domain/directory.h"
#include "domain/people.h"
#include "domain/people_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POP_RECENT_CALLS    5
#define POP_TASKS_MAX       10
#define POP_SERVICES        5
#define POP_SERVICE_MINUTES 15.0

static const char SQL_POP_PERSON[] = "SELECT " PERSON_COLUMNS PERSON_FROM " WHERE p.id = ?";
static const char SQL_POP_DEVICE[] =
    "SELECT id, serial, model, battery, signal, last_seen_at, lat, lon, located_at"
    " FROM devices WHERE id = ?";
static const char SQL_POP_RECENT[] = "SELECT id, created_at, state, category, trigger FROM calls"
                                     " WHERE person_id = ? AND id <> ? ORDER BY id DESC LIMIT ?";
static const char SQL_POP_TASKS[] =
    "SELECT id, kind, state, priority, due_at, note FROM tasks"
    " WHERE person_id = ? AND state IN ('open', 'claimed') ORDER BY priority, due_at, id LIMIT ?";

struct pop_read {
    int64_t call_id;
    struct call call;
    bool has_person;
    struct person person;
    json_t *device, *recent, *tasks;
    bool has_origin;
    struct geo_point origin;
};

static json_t *time_at(sqlite3_stmt *st, int i)
{
    if (sqlite3_column_type(st, i) == SQLITE_NULL)
        return json_null();
    char buf[40];
    return json_string(clock_format_rfc3339(sqlite3_column_int64(st, i), buf, sizeof buf));
}

static json_t *int_at(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? json_null()
                                                     : json_integer(sqlite3_column_int64(st, i));
}

static json_t *text_at(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? json_string((const char *)t) : json_null();
}

static int pop_device(struct store_conn *c, struct pop_read *r, struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_POP_DEVICE, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, r->call.device_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        json_t *o = json_object();
        json_object_set_new(o, "id", json_integer(sqlite3_column_int64(st, 0)));
        json_object_set_new(o, "serial", text_at(st, 1));
        json_object_set_new(o, "model", text_at(st, 2));
        json_object_set_new(o, "battery", int_at(st, 3));
        json_object_set_new(o, "signal", int_at(st, 4));
        json_object_set_new(o, "last_seen_at", time_at(st, 5));
        if (sqlite3_column_type(st, 6) != SQLITE_NULL &&
            sqlite3_column_type(st, 7) != SQLITE_NULL) {
            double lat = sqlite3_column_double(st, 6), lon = sqlite3_column_double(st, 7);
            json_object_set_new(
                o, "location",
                json_pack("{s:f, s:f, s:o}", "lat", lat, "lon", lon, "at", time_at(st, 8)));
            if (!r->has_origin) {
                r->has_origin = true;
                r->origin = (struct geo_point){lat, lon};
            }
        } else {
            json_object_set_new(o, "location", json_null());
        }
        r->device = o;
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? LINLI_OK
                                                 : store_fail(c, rc, "reading a device", err);
}

static int pop_person(struct store_conn *c, struct pop_read *r, struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_POP_PERSON, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, r->call.person_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        people__from_row(st, &r->person);
        r->has_person = true;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_fail(c, rc, "reading the caller", err);
    if (!r->has_person)
        return LINLI_OK;
    if (r->person.has_home) {
        r->has_origin = true;
        r->origin = (struct geo_point){r->person.lat, r->person.lon};
    }
    return people__load_contacts(c, &r->person, err);
}

static int pop_recent(struct store_conn *c, struct pop_read *r, struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_POP_RECENT, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, r->call.person_id);
    sqlite3_bind_int64(st, 2, r->call_id);
    sqlite3_bind_int(st, 3, POP_RECENT_CALLS);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *o = json_object();
        json_object_set_new(o, "id", json_integer(sqlite3_column_int64(st, 0)));
        json_object_set_new(o, "created_at", time_at(st, 1));
        json_object_set_new(o, "state", text_at(st, 2));
        json_object_set_new(o, "category", text_at(st, 3));
        json_object_set_new(o, "trigger", text_at(st, 4));
        json_array_append_new(r->recent, o);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return store_fail(c, rc, "reading the caller's calls", err);

    if (!(st = store_stmt(c, SQL_POP_TASKS, err)))
        return err->status;
    sqlite3_bind_int64(st, 1, r->call.person_id);
    sqlite3_bind_int(st, 2, POP_TASKS_MAX);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *o = json_object();
        json_object_set_new(o, "id", json_integer(sqlite3_column_int64(st, 0)));
        json_object_set_new(o, "kind", text_at(st, 1));
        json_object_set_new(o, "state", text_at(st, 2));
        json_object_set_new(o, "priority", int_at(st, 3));
        json_object_set_new(o, "due_at", time_at(st, 4));
        json_object_set_new(o, "note", text_at(st, 5));
        json_array_append_new(r->tasks, o);
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? LINLI_OK : store_fail(c, rc, "reading the caller's tasks", err);
}

static int pop_read_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct pop_read *r = arg;
    int rc = calls__load(c, r->call_id, &r->call, err);
    if (rc)
        return rc;
    if (r->call.person_id && (rc = pop_person(c, r, err)))
        return rc;
    if (r->call.device_id && (rc = pop_device(c, r, err)))
        return rc;
    if (r->call.person_id && (rc = pop_recent(c, r, err)))
        return rc;
    return LINLI_OK;
}

/* ---- the nearest services ---- */

/* What the trigger asks for: catalogue codes, or a kind of facility. */
static void wanted(const char *trigger, const char **services, int *nservices, int *kind)
{
    *nservices = 0;
    *kind = -1;
    if (!strcmp(trigger, "health")) {
        *kind = FACILITY_HEALTH;
    } else if (!strcmp(trigger, "emergency") || !strcmp(trigger, "fall") ||
               !strcmp(trigger, "fire")) {
        services[(*nservices)++] = "emergency_response";
        services[(*nservices)++] = "home_nursing";
    } else if (!strcmp(trigger, "service")) {
        services[(*nservices)++] = "meals";
        services[(*nservices)++] = "cleaning";
    }
}

static int hit_order(const void *a, const void *b)
{
    const struct directory_hit *x = a, *y = b;
    if (x->walk_minutes != y->walk_minutes)
        return x->walk_minutes < y->walk_minutes ? -1 : 1;
    return x->f.id < y->f.id ? -1 : x->f.id > y->f.id;
}

static json_t *hit_json(const struct directory_hit *h, const char *service)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(h->f.id));
    json_object_set_new(o, "name", json_string(h->f.name));
    json_object_set_new(o, "kind", json_string(facility_kind_name(h->f.kind)));
    /* suspended ones are listed too: the operator sees why not to send there */
    json_object_set_new(o, "status", json_string(facility_status_name(h->f.status)));
    json_t *offers = json_array();
    for (int i = 0; i < h->f.nservices; i++)
        json_array_append_new(offers, json_string(h->f.services[i].code));
    json_object_set_new(o, "services", offers);
    json_object_set_new(o, "address", json_string(h->f.address));
    json_object_set_new(o, "phone", h->f.phone[0] ? json_string(h->f.phone) : json_null());
    json_object_set_new(o, "service", service ? json_string(service) : json_null());
    json_object_set_new(o, "distance_m", json_integer((json_int_t)(h->dist_m + 0.5)));
    json_object_set_new(o, "walk_minutes", json_real(walk_minutes_tenths(h->walk_minutes)));
    json_object_set_new(o, "open_now", json_boolean(h->open));
    return o;
}

/* The nearest facilities for the call's trigger, merged over the services
 * it names, by walking time, at most POP_SERVICES. An origin the directory
 * refuses (far outside the district) gives an empty list. */
static json_t *pop_services(struct domain *d, const struct pop_read *r)
{
    json_t *items = json_array();
    if (!r->has_origin)
        return items;
    const char *services[2];
    int nservices, kind;
    wanted(r->call.trigger, services, &nservices, &kind);
    if (!nservices && kind < 0)
        return items;
    struct directory_hit all[2 * POP_SERVICES];
    const char *which[2 * POP_SERVICES];
    int nall = 0;
    for (int s = 0; s < (nservices ? nservices : 1); s++) {
        struct directory_query q = {.origin = r->origin,
                                    .minutes = POP_SERVICE_MINUTES,
                                    .service = nservices ? services[s] : NULL,
                                    .kind = kind,
                                    .max_price_fen = -1,
                                    .at = clock_now_ms() / 1000,
                                    .limit = POP_SERVICES};
        struct linli_err err;
        linli_err_clear(&err);
        if (q.service && !services_known(d, q.service))
            continue;
        if (directory_query_check(d, &q, &err))
            return items;
        struct directory_hit *hits = NULL;
        int n = 0;
        if (directory_search(d, &q, &hits, &n, &err))
            continue;
        for (int i = 0; i < n && nall < 2 * POP_SERVICES; i++) {
            bool dup = false;
            for (int k = 0; k < nall; k++)
                dup = dup || all[k].f.id == hits[i].f.id;
            if (dup)
                continue;
            which[nall] = q.service;
            all[nall++] = hits[i];
        }
        free(hits);
    }
    /* Sort an index, to keep each hit with its service. */
    int idx[2 * POP_SERVICES];
    for (int i = 0; i < nall; i++)
        idx[i] = i;
    for (int i = 1; i < nall; i++)
        for (int k = i; k > 0 && hit_order(&all[idx[k]], &all[idx[k - 1]]) < 0; k--) {
            int t = idx[k];
            idx[k] = idx[k - 1];
            idx[k - 1] = t;
        }
    for (int i = 0; i < nall && i < POP_SERVICES; i++)
        json_array_append_new(items, hit_json(&all[idx[i]], which[idx[i]]));
    return items;
}

/* ---- the pop ---- */

static json_t *person_json(const struct person *p)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(p->id));
    json_object_set_new(o, "name", json_string(p->name));
    int age = people_age(p->birth_date, people_today());
    json_object_set_new(o, "age", age >= 0 ? json_integer(age) : json_null());
    json_object_set_new(o, "sex", p->sex ? json_stringn(&p->sex, 1) : json_null());
    json_object_set_new(o, "phone", p->phone[0] ? json_string(p->phone) : json_null());
    json_object_set_new(o, "address", json_string(p->address));
    json_object_set_new(o, "home",
                        p->has_home ? json_pack("{s:f, s:f}", "lat", p->lat, "lon", p->lon)
                                    : json_null());
    json_object_set_new(o, "community_code", json_string(p->community_code));
    json_object_set_new(o, "community_name", json_string(p->community_name));
    json_object_set_new(o, "living_alone", json_boolean(p->living_alone));
    json_object_set_new(o, "care_level", json_string(people_care_level_name(p->care_level)));
    json_object_set_new(o, "disability",
                        p->disability[0] ? json_string(p->disability) : json_null());
    json_t *conds = json_array();
    for (int i = 0; i < p->nconditions; i++)
        json_array_append_new(conds, json_string(p->conditions[i]));
    json_object_set_new(o, "conditions", conds);
    return o;
}

static json_t *contacts_json(const struct person *p)
{
    json_t *a = json_array();
    for (int i = 0; i < p->ncontacts; i++)
        json_array_append_new(a, json_pack("{s:i, s:s, s:s, s:s}", "position", i + 1, "name",
                                           p->contacts[i].name, "relation", p->contacts[i].relation,
                                           "phone", p->contacts[i].phone));
    return a;
}

int calls__pop_build(struct domain *d, const struct principal *who, int64_t call_id, json_t **out,
                     int64_t *person_id, struct linli_err *err)
{
    *out = NULL;
    *person_id = 0;
    struct pop_read *r = calloc(1, sizeof *r);
    if (!r)
        return linli_fail(err, LINLI_ENOMEM, "Out of memory for a screen pop.");
    r->call_id = call_id;
    r->recent = json_array();
    r->tasks = json_array();
    int rc = store_read(d->store, pop_read_job, r, err);
    if (!rc && !calls__in_scope(who, r->call.community_code))
        rc = linli_fail(err, LINLI_ENOTFOUND, "No call %lld in your area.", (long long)call_id);
    if (rc) {
        json_decref(r->device);
        json_decref(r->recent);
        json_decref(r->tasks);
        free(r);
        return rc;
    }
    json_t *pop = json_object();
    json_object_set_new(pop, "call_id", json_integer(call_id));
    json_object_set_new(pop, "trigger", json_string(r->call.trigger));
    json_object_set_new(pop, "urgent", json_boolean(r->call.priority == 0));
    if (r->has_person) {
        people_mask(&r->person, people_may_reveal(who->role) & PEOPLE_REVEAL_PHONE);
        json_object_set_new(pop, "person", person_json(&r->person));
        json_object_set_new(pop, "contacts", contacts_json(&r->person));
        *person_id = r->person.id;
    } else {
        json_object_set_new(pop, "person", json_null());
        json_object_set_new(pop, "contacts", json_array());
    }
    json_object_set_new(pop, "device", r->device ? r->device : json_null());
    json_object_set_new(pop, "recent_calls", r->recent);
    json_object_set_new(pop, "open_tasks", r->tasks);
    json_object_set_new(pop, "services", pop_services(d, r));
    free(r);
    *out = pop;
    return LINLI_OK;
}

int calls_screen_pop(struct domain *d, const struct principal *who, int64_t call_id, json_t **out,
                     struct linli_err *err)
{
    if (!calls__may_work(who))
        return linli_fail(err, LINLI_EFORBIDDEN, "Only operators see the screen pop.");
    int64_t person_id = 0;
    json_t *pop = NULL;
    int rc = calls__pop_build(d, who, call_id, &pop, &person_id, err);
    if (rc)
        return rc;
    if (person_id && (people_may_reveal(who->role) & PEOPLE_REVEAL_PHONE)) {
        char object[32], reason[48];
        snprintf(object, sizeof object, "person:%lld", (long long)person_id);
        snprintf(reason, sizeof reason, "call %lld", (long long)call_id);
        json_t *detail = json_pack("{s:[s], s:s}", "fields", "phone", "reason", reason);
        rc = audit_record_read(d, who, "person.reveal", object, detail, err);
        json_decref(detail);
        if (rc) { /* nothing unmasked leaves without its entry */
            json_decref(pop);
            return rc;
        }
    }
    *out = pop;
    return LINLI_OK;
}
