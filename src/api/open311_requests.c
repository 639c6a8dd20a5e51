/* open311_requests.c - reading Open311 service requests (cases in the
 * public view): GET requests.{fmt} by filter, requests/{id}.{fmt},
 * tokens/{token}.{fmt}, and FixMyStreet's servicerequestupdates.{fmt}. The
 * answers and errors are written by open311.c. */
#include "api/open311_internal.h"

#include "api/open311_xml.h"
#include "base/clock.h"
#include "domain/cases.h"
#include "domain/open311_clients.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS                    (24LL * 3600 * 1000)
#define OPEN311_RANGE_MAX_MS      (90 * DAY_MS) /* widest start_date..end_date */
#define OPEN311_REQUESTS_MAX      1000          /* most requests one list answers */
#define OPEN311_IDS_MAX           200           /* most service_request_id in one list */
#define OPEN311_CODES_MAX         20            /* most service_code in one list */
#define OPEN311_UPDATES_MAX       1000          /* most updates one answer holds */
#define OPEN311_UPDATES_WINDOW_MS DAY_MS        /* updates window without dates */
#define UNIT_NAMES_CACHED         64            /* lead units named per answer from memory */

/* ---- service requests: reading ---- */

/* What an answer about cases looks up once: service names and the names of
 * the units handling them. */
struct lookup {
    struct api *a;
    struct case_category *cats;
    int ncats;
    int nunits;
    struct {
        char code[CASE_UNIT_CODE_MAX + 1];
        char name[CASE_TEXT_SIZE(CASE_UNIT_NAME_MAX)];
    } units[UNIT_NAMES_CACHED];
};

static struct lookup *lookup_new(struct api *a, struct linli_err *err)
{
    struct lookup *l = calloc(1, sizeof *l);
    if (!l) {
        linli_fail(err, LINLI_ENOMEM, "Out of memory.");
        return NULL;
    }
    l->a = a;
    if (case_categories_list(a->d, true, &l->cats, &l->ncats, err)) {
        free(l);
        return NULL;
    }
    return l;
}

static void lookup_free(struct lookup *l)
{
    if (l) {
        free(l->cats);
        free(l);
    }
}

static const char *service_name(const struct lookup *l, const char *code)
{
    for (int i = 0; i < l->ncats; i++)
        if (!strcmp(l->cats[i].code, code))
            return l->cats[i].name_zh;
    return code;
}

static bool category_known(const struct lookup *l, const char *code)
{
    for (int i = 0; i < l->ncats; i++)
        if (!strcmp(l->cats[i].code, code))
            return true;
    return false;
}

/* The name of the unit handling a case (its code when it cannot be found). */
static json_t *unit_name(struct lookup *l, const char *code)
{
    if (!code[0])
        return json_null();
    for (int i = 0; i < l->nunits; i++)
        if (!strcmp(l->units[i].code, code))
            return json_string(l->units[i].name);
    struct case_unit u;
    struct linli_err err;
    linli_err_clear(&err);
    const char *name = case_units_get(l->a->d, code, &u, &err) ? code : u.name_zh;
    if (l->nunits < UNIT_NAMES_CACHED) {
        snprintf(l->units[l->nunits].code, sizeof l->units[0].code, "%s", code);
        snprintf(l->units[l->nunits].name, sizeof l->units[0].name, "%s", name);
        l->nunits++;
    }
    return json_string(name);
}

/* A case as an Open311 service request (media_url left null: see
 * add_media). */
static json_t *request_json(struct lookup *l, const struct case_record *c)
{
    json_t *o = json_object();
    json_object_set_new(o, "service_request_id", open311__id(c->id));
    json_object_set_new(o, "status", json_string(case_state_open311(c->state)));
    json_t *notes = json_null();
    if (c->state == CASE_REJECTED && c->reason[0])
        notes = json_string(c->reason);
    else if (c->state == CASE_DUPLICATE && c->duplicate_of) {
        char t[80];
        snprintf(t, sizeof t, "Duplicate of service request %lld.", (long long)c->duplicate_of);
        notes = json_string(t);
    }
    json_object_set_new(o, "status_notes", notes);
    json_object_set_new(o, "service_name", json_string(service_name(l, c->category)));
    json_object_set_new(o, "service_code", json_string(c->category));
    json_object_set_new(o, "description", open311__text(c->description));
    json_object_set_new(o, "agency_responsible", unit_name(l, c->unit_code));
    json_object_set_new(o, "service_notice", json_null());
    json_object_set_new(o, "requested_datetime", open311__time(c->created_at));
    json_object_set_new(o, "updated_datetime", open311__time(c->updated_at));
    json_object_set_new(o, "expected_datetime", open311__time(c->resolve_due_at));
    json_object_set_new(o, "address", open311__text(c->address));
    json_object_set_new(o, "address_id", json_null());
    json_object_set_new(o, "zipcode", json_null());
    json_object_set_new(o, "lat", c->has_point ? json_real(c->point.lat) : json_null());
    json_object_set_new(o, "long", c->has_point ? json_real(c->point.lon) : json_null());
    json_object_set_new(o, "media_url", json_null());
    return o;
}

/* Fills "media_url" of the requests in `list` that have one. */
static int add_media(struct api *a, json_t *list, struct linli_err *err)
{
    size_t n = json_array_size(list);
    for (size_t start = 0; start < n; start += CASES_PAGE_MAX) {
        int64_t ids[CASES_PAGE_MAX];
        int k = 0;
        for (size_t i = start; i < n && k < CASES_PAGE_MAX; i++)
            ids[k++] = strtoll(
                json_string_value(json_object_get(json_array_get(list, i), "service_request_id")),
                NULL, 10);
        struct open311_media *m;
        int nm;
        int rc = open311_media_get(a->d, ids, k, &m, &nm, err);
        if (rc)
            return rc;
        for (int j = 0; j < nm; j++)
            for (int i = 0; i < k; i++)
                if (ids[i] == m[j].case_id)
                    json_object_set_new(json_array_get(list, start + (size_t)i), "media_url",
                                        json_string(m[j].url));
        free(m);
    }
    return LINLI_OK;
}

/* A date parameter; answers 400 and returns -1 when present but not a date. */
static int query_time(struct http_request *req, int fmt, const char *name, bool *given, int64_t *ms)
{
    const char *v = http_query(req, name);
    *given = v && *v;
    if (*given && open311_parse_time(v, ms)) {
        open311__error(req, fmt, 400,
                       "%s: must be an ISO 8601 date and time, such as 2026-11-25T09:00:00+08:00",
                       name);
        return -1;
    }
    return 0;
}

/* start_date and end_date as a range [*from, *to) of at most 90 days:
 * neither = the last `default_ms` up to now; start only = up to now; end only
 * = the 90 days before it. Answers 400 and returns -1 otherwise. */
static int date_range(struct http_request *req, int fmt, int64_t default_ms, int64_t *from,
                      int64_t *to)
{
    bool has_start, has_end;
    int64_t start = 0, end = 0, now = clock_now_ms();
    if (query_time(req, fmt, "start_date", &has_start, &start) ||
        query_time(req, fmt, "end_date", &has_end, &end))
        return -1;
    if (!has_start && !has_end) {
        *from = now - default_ms;
        *to = now + 1;
        return 0;
    }
    if (has_start && has_end && end < start) {
        open311__error(req, fmt, 400, "end_date: must not be before start_date");
        return -1;
    }
    *from = has_start ? start : end - OPEN311_RANGE_MAX_MS;
    *to = (has_end ? end : (now > start ? now : start)) + 1; /* end_date is included */
    if (*to - 1 - *from > OPEN311_RANGE_MAX_MS) {
        open311__error(req, fmt, 400, "start_date and end_date: may be at most 90 days apart%s",
                       has_end ? "" : " (without end_date, start_date may be at most 90 days ago)");
        return -1;
    }
    return 0;
}

/* Splits a comma list into at most `max` items in `out` (pointers into
 * `copy`, a modifiable copy of the text). Returns the count, or -1 when there
 * are more or an item is empty. */
static int comma_list(char *copy, const char **out, int max)
{
    int n = 0;
    for (char *save = NULL, *item = strtok_r(copy, ",", &save); item;
         item = strtok_r(NULL, ",", &save)) {
        while (*item == ' ')
            item++;
        size_t len = strlen(item);
        while (len && item[len - 1] == ' ')
            item[--len] = '\0';
        if (!len || n == max)
            return -1;
        out[n++] = item;
    }
    return n;
}

struct found {
    int64_t id;
    json_t *item;
};

static int found_newest_first(const void *x, const void *y)
{
    const struct found *a = x, *b = y;
    return a->id < b->id ? 1 : a->id > b->id ? -1 : 0;
}

/* Runs one cases_list with `f` (limit and cursor set here), newest first,
 * up to OPEN311_REQUESTS_MAX cases, appending to *found. */
static int collect(struct lookup *l, struct case_filter *f, struct found **found, int *n, int *cap,
                   struct linli_err *err)
{
    int taken = 0;
    f->before_id = 0;
    for (;;) {
        f->limit = CASES_PAGE_MAX;
        struct case_record *items;
        int k;
        int64_t next;
        int rc = cases_list(l->a->d, NULL, f, &items, &k, &next, err);
        if (rc)
            return rc;
        for (int i = 0; i < k && taken < OPEN311_REQUESTS_MAX; i++, taken++) {
            if (*n == *cap) {
                int ncap = *cap ? *cap * 2 : 64;
                struct found *grown = realloc(*found, (size_t)ncap * sizeof *grown);
                if (!grown) {
                    free(items);
                    return linli_fail(err, LINLI_ENOMEM, "Out of memory listing requests.");
                }
                *found = grown;
                *cap = ncap;
            }
            (*found)[(*n)++] = (struct found){items[i].id, request_json(l, &items[i])};
        }
        free(items);
        if (!next || taken >= OPEN311_REQUESTS_MAX)
            return LINLI_OK;
        f->before_id = next;
    }
}

/* The filters of GET requests, as the sub-queries of one answer: every
 * service_code (or any) times every state set (open, each closed state, or
 * any). */
struct list_query {
    const char *codes[OPEN311_CODES_MAX];
    int ncodes; /* 0 = any */
    bool open, closed;
    int64_t ids[OPEN311_IDS_MAX];
    int nids; /* > 0: these requests, other filters ignored */
    int64_t from, to;
};

/* Reads the query's filters into q; answers 400 and returns -1 when one is
 * malformed. */
static int list_query_parse(struct http_request *req, int fmt, struct lookup *l,
                            struct list_query *q)
{
    memset(q, 0, sizeof *q);
    const char *ids = http_query(req, "service_request_id");
    if (ids && *ids) {
        char *copy = arena_strdup(&req->arena, ids);
        const char *items[OPEN311_IDS_MAX];
        int n = copy ? comma_list(copy, items, OPEN311_IDS_MAX) : -1;
        for (int i = 0; i < n; i++) {
            char *end;
            long long v = strtoll(items[i], &end, 10);
            if (*end || v <= 0 || strlen(items[i]) > 18) {
                n = -1;
                break;
            }
            q->ids[i] = v;
        }
        if (n < 0) {
            open311__error(req, fmt, 400,
                           "service_request_id: must be a comma-separated list of at most %d "
                           "request ids",
                           OPEN311_IDS_MAX);
            return -1;
        }
        q->nids = n;
        return 0; /* the specification: a list of ids overrides the other filters */
    }
    const char *codes = http_query(req, "service_code");
    if (codes && *codes) {
        char *copy = arena_strdup(&req->arena, codes);
        int n = copy ? comma_list(copy, q->codes, OPEN311_CODES_MAX) : -1;
        if (n < 0) {
            open311__error(req, fmt, 400,
                           "service_code: must be a comma-separated list of at most %d codes",
                           OPEN311_CODES_MAX);
            return -1;
        }
        for (int i = 0; i < n; i++) {
            if (!category_known(l, q->codes[i])) {
                open311__error(req, fmt, 400, "service_code not found: %s", q->codes[i]);
                return -1;
            }
        }
        q->ncodes = n;
    }
    const char *status = http_query(req, "status");
    if (status && *status) {
        char *copy = arena_strdup(&req->arena, status);
        const char *items[4];
        int n = copy ? comma_list(copy, items, 4) : -1;
        for (int i = 0; i < n; i++) {
            if (!strcasecmp(items[i], "open"))
                q->open = true;
            else if (!strcasecmp(items[i], "closed"))
                q->closed = true;
            else
                n = -1;
        }
        if (n < 0) {
            open311__error(req, fmt, 400, "status: must be open, closed or open,closed");
            return -1;
        }
    }
    if (!q->open && !q->closed)
        q->open = q->closed = true;
    return date_range(req, fmt, OPEN311_RANGE_MAX_MS, &q->from, &q->to);
}

/* Runs the sub-queries and leaves the newest OPEN311_REQUESTS_MAX requests
 * in `out`. */
static int list_query_run(struct lookup *l, const struct list_query *q, json_t *out,
                          struct linli_err *err)
{
    struct found *found = NULL;
    int n = 0, cap = 0, rc = LINLI_OK;
    if (q->nids) {
        struct case_filter f = {.state = -1, .channel = -1, .ids = q->ids, .nids = q->nids};
        rc = collect(l, &f, &found, &n, &cap, err);
    } else {
        /* open = every state but the final ones; closed = each final state */
        static const int closed_states[] = {CASE_CLOSED, CASE_REJECTED, CASE_DUPLICATE};
        int states[4], nstates = 0;
        bool open_only = false;
        if (q->open && q->closed) {
            states[nstates++] = -1;
        } else if (q->open) {
            states[nstates++] = -1;
            open_only = true;
        } else {
            for (int i = 0; i < 3; i++)
                states[nstates++] = closed_states[i];
        }
        for (int c = 0; c < (q->ncodes ? q->ncodes : 1) && !rc; c++) {
            for (int s = 0; s < nstates && !rc; s++) {
                struct case_filter f = {.state = states[s],
                                        .open_only = open_only,
                                        .category = q->ncodes ? q->codes[c] : NULL,
                                        .channel = -1,
                                        .from_ms = q->from,
                                        .to_ms = q->to};
                rc = collect(l, &f, &found, &n, &cap, err);
            }
        }
    }
    if (!rc && n > 1)
        qsort(found, (size_t)n, sizeof *found, found_newest_first);
    for (int i = 0; i < n; i++) {
        if (!rc && i < OPEN311_REQUESTS_MAX)
            json_array_append_new(out, found[i].item);
        else
            json_decref(found[i].item);
    }
    free(found);
    return rc;
}

void open311__requests_list(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    int fmt = open311__doc_format(req);
    if (open311__jurisdiction(a, req, fmt, http_query(req, "jurisdiction_id")))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    struct lookup *l = lookup_new(a, &err);
    if (!l) {
        open311__fail(req, fmt, &err);
        return;
    }
    struct list_query *q = arena_alloc(&req->arena, sizeof *q);
    if (!q) {
        lookup_free(l);
        http_respond(req, 500, "text/plain; charset=utf-8", "out of memory\n", 14);
        return;
    }
    if (list_query_parse(req, fmt, l, q)) {
        lookup_free(l);
        return;
    }
    json_t *list = json_array();
    int rc = list_query_run(l, q, list, &err);
    lookup_free(l);
    if (!rc)
        rc = add_media(a, list, &err);
    if (rc) {
        json_decref(list);
        open311__fail(req, fmt, &err);
        return;
    }
    open311__respond(req, fmt, 200, "service_requests", list);
}

void open311__request_get(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    char stem[OPEN311_SEGMENT_MAX];
    int fmt = open311__segment_format(req, stem, sizeof stem);
    if (fmt < 0 || open311__jurisdiction(a, req, fmt, http_query(req, "jurisdiction_id")))
        return;
    char *end;
    long long id = strtoll(stem, &end, 10);
    if (*end || id <= 0 || strlen(stem) > 18) {
        open311__error(req, fmt, 404, "service_request_id not found: %s", stem);
        return;
    }
    struct linli_err err;
    linli_err_clear(&err);
    struct case_record *c = malloc(sizeof *c);
    struct lookup *l = c ? lookup_new(a, &err) : NULL;
    if (!c || !l) {
        free(c);
        if (!err.status)
            linli_fail(&err, LINLI_ENOMEM, "Out of memory.");
        open311__fail(req, fmt, &err);
        return;
    }
    int rc = cases_get(a->d, NULL, id, c, &err);
    if (rc == LINLI_ENOTFOUND) {
        free(c);
        lookup_free(l);
        open311__error(req, fmt, 404, "service_request_id not found: %s", stem);
        return;
    }
    json_t *list = json_array();
    if (!rc)
        json_array_append_new(list, request_json(l, c));
    free(c);
    lookup_free(l);
    if (!rc)
        rc = add_media(a, list, &err);
    if (rc) {
        json_decref(list);
        open311__fail(req, fmt, &err);
        return;
    }
    open311__respond(req, fmt, 200, "service_requests", list);
}

/* A token is the case's number (the one residents and staff quote): the id
 * is known as soon as the request is answered, so the token is only for
 * clients that ask for one. */
void open311__token_get(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    char token[OPEN311_SEGMENT_MAX];
    int fmt = open311__segment_format(req, token, sizeof token);
    if (fmt < 0 || open311__jurisdiction(a, req, fmt, http_query(req, "jurisdiction_id")))
        return;
    bool digits = strlen(token) < CASE_NUMBER_SIZE;
    for (const char *p = token; digits && *p; p++)
        digits = *p >= '0' && *p <= '9';
    struct linli_err err;
    linli_err_clear(&err);
    struct case_record *c = digits ? malloc(sizeof *c) : NULL;
    int rc = !digits ? LINLI_ENOTFOUND
             : c     ? cases_get_by_number(a->d, NULL, token, c, &err)
                     : linli_fail(&err, LINLI_ENOMEM, "Out of memory.");
    int64_t id = rc ? 0 : c->id;
    free(c);
    if (rc == LINLI_ENOTFOUND) {
        open311__error(req, fmt, 404, "token not found: %s", token);
        return;
    }
    if (rc) {
        open311__fail(req, fmt, &err);
        return;
    }
    json_t *list = json_array();
    json_array_append_new(
        list, json_pack("{s:o, s:s}", "service_request_id", open311__id(id), "token", token));
    open311__respond(req, fmt, 200, "service_requests", list);
}

/* ---- servicerequestupdates (FixMyStreet's extension) ---- */

/* FixMyStreet's status words for our states: it maps open, investigating,
 * action_scheduled, in_progress, fixed, closed, duplicate and
 * no_further_action onto its own. */
static const char *update_status(int state)
{
    switch (state) {
    case CASE_SUBMITTED:
        return "open";
    case CASE_ACCEPTED:
        return "investigating";
    case CASE_DISPATCHED:
        return "action_scheduled";
    case CASE_IN_PROGRESS:
        return "in_progress";
    case CASE_RESOLVED:
        return "fixed";
    case CASE_CLOSED:
        return "closed";
    case CASE_REJECTED:
        return "no_further_action";
    case CASE_DUPLICATE:
        return "duplicate";
    default:
        return "open";
    }
}

static json_t *update_json(const struct case_event *e)
{
    json_t *o = json_object();
    json_object_set_new(o, "update_id", open311__id(e->id));
    json_object_set_new(o, "service_request_id", open311__id(e->case_id));
    json_object_set_new(o, "status", json_string(update_status(e->state)));
    json_object_set_new(o, "updated_datetime", open311__time(e->at));
    json_object_set_new(o, "description", json_string(e->note));
    json_object_set_new(o, "media_url", json_string(""));
    json_object_set_new(o, "external_status_code", json_string(case_state_name(e->state)));
    return o;
}

void open311__updates(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    int fmt = open311__doc_format(req);
    if (open311__jurisdiction(a, req, fmt, http_query(req, "jurisdiction_id")))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    struct open311_client client;
    if (open311_clients_check(a->d, http_query(req, "api_key"), &client, &err)) {
        open311__fail(req, fmt, &err);
        return;
    }
    int64_t from, to;
    if (date_range(req, fmt, OPEN311_UPDATES_WINDOW_MS, &from, &to))
        return;
    /* Oldest first, so a client that got a full answer asks again from the
     * last updated_datetime it saw. */
    const int channel = CHANNEL_OPEN311;
    struct case_event *items;
    int n;
    if (cases_updates_since(a->d, from, 0, OPEN311_UPDATES_MAX, &channel, &items, &n, &err)) {
        open311__fail(req, fmt, &err);
        return;
    }
    json_t *list = json_array();
    for (int i = 0; i < n; i++)
        if (items[i].at < to)
            json_array_append_new(list, update_json(&items[i]));
    free(items);
    open311__respond(req, fmt, 200, "service_requests_updates", list);
}
