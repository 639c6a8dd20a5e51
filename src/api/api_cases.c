/* api_cases.c - /api/v1/cases: raising a case (JSON, or multipart/form-data
 * with photos), reading and listing cases, nearby open cases, and the
 * workflow (transitions, notes, photos, whistle, report-in, rating). The
 * district's setup (categories, settings, routing rules, units, volunteer
 * teams) is in api_case_setup.c. */
#include "api/api.h"

#include "base/buf.h"
#include "base/clock.h"
#include "domain/cases.h"
#include "domain/registry.h"
#include "media/photo.h"
#include "media/photo_store.h"
#include "net/multipart.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NFIELDS(a)          (sizeof(a) / sizeof((a)[0]))
#define CASE_FORM_PARTS_MAX 40 /* fields and photos of one multipart request */
#define PHOTO_CACHE_CONTROL "private, max-age=31536000, immutable"

/* ---- shared ---- */

static void problem(struct http_request *req, struct linli_err *err)
{
    if (err->status == LINLI_EINVAL)
        http_respond_problem(req, 422, err);
    else
        api_error(req, err);
}

/* The case in its view, with its events when `with_events`; answers. */
static void respond_case(struct api *a, struct http_request *req, const struct principal *who,
                         struct case_record *c, bool with_events, int status)
{
    struct case_event *events = NULL;
    int n = 0;
    if (with_events) {
        struct linli_err err;
        linli_err_clear(&err);
        if (cases_events(a->d, who, c->id, &events, &n, &err)) {
            api_error(req, &err);
            return;
        }
    }
    http_respond_json(req, status, case_to_json(c, events, with_events ? n : 0));
    free(events);
}

static bool is_multipart(struct http_request *req)
{
    const char *ct = http_header(req, "Content-Type");
    return ct && !strncasecmp(ct, "multipart/form-data", 19);
}

/* ---- photos from a form ---- */

static int photo_type_of(const char *mime)
{
    for (int t = PHOTO_JPEG; t <= PHOTO_WEBP; t++)
        if (!strcmp(photo_type_mime(t), mime))
            return t;
    return -1;
}

/* Inspects, strips and stores every "photo" part. Fills photos[] and *n, and
 * the first EXIF GPS position into *gps. Returns 0, or -1 after answering. */
static int store_photos(struct api *a, struct http_request *req, const struct multipart_part *parts,
                        int nparts, struct case_photo photos[CASE_PHOTOS_MAX], int *n,
                        bool *has_gps, struct geo_point *gps)
{
    struct linli_err err;
    linli_err_clear(&err);
    *n = 0;
    *has_gps = false;
    int files = 0;
    for (int i = 0; i < nparts; i++)
        files += !strcmp(parts[i].name, "photo");
    if (!files)
        return 0;
    if (files > CASE_PHOTOS_MAX) {
        linli_fail(&err, LINLI_ETOOBIG, "At most %d photos per case.", CASE_PHOTOS_MAX);
        api_error(req, &err);
        return -1;
    }
    if (!a->photo_dir || !a->photo_dir[0]) {
        linli_fail(&err, LINLI_EBUSY, "This server keeps no photos (no photo directory).");
        api_error(req, &err);
        return -1;
    }
    struct buf out;
    for (int i = 0, k = 0; i < nparts; i++) {
        const struct multipart_part *p = &parts[i];
        if (strcmp(p->name, "photo"))
            continue;
        char field[24];
        snprintf(field, sizeof field, "photo[%d]", k++);
        struct photo_info info;
        struct linli_err perr;
        linli_err_clear(&perr);
        int rc = photo_inspect(p->data, p->len, NULL, &info, &perr);
        if (rc == LINLI_ETOOBIG) {
            api_error(req, &perr);
            return -1;
        }
        if (rc) {
            linli_field(&err, field, "%s", perr.detail);
            continue;
        }
        buf_init(&out, p->len + PHOTO_STRIP_SLACK);
        if ((rc = photo_strip(p->data, p->len, &info, &out, &perr)) != 0) {
            buf_free(&out);
            linli_field(&err, field, "%s", perr.detail);
            continue;
        }
        struct case_photo *ph = &photos[*n];
        memset(ph, 0, sizeof *ph);
        rc = photo_store_put(a->photo_dir, out.data, out.len, info.type, ph->hash, &perr);
        ph->size = (int64_t)out.len;
        buf_free(&out);
        if (rc) {
            api_error(req, &perr);
            return -1;
        }
        snprintf(ph->type, sizeof ph->type, "%s", photo_type_mime(info.type));
        ph->width = info.width;
        ph->height = info.height;
        bool dup = false;
        for (int j = 0; j < *n && !dup; j++)
            dup = !strcmp(photos[j].hash, ph->hash);
        if (!dup)
            (*n)++;
        if (info.has_gps && !*has_gps) {
            *has_gps = true;
            gps->lat = info.lat;
            gps->lon = info.lon;
        }
    }
    if (err.nfields) {
        linli_fail(&err, LINLI_EINVAL, "A photo is not a JPEG, PNG or WebP image we accept.");
        http_respond_problem(req, 422, &err);
        return -1;
    }
    return 0;
}

/* ---- create ---- */

static const struct jx_field case_fields[] = {
    {"category", JX_STRING, true, false, CASE_CATEGORY_CODE_MAX},
    {"channel", JX_STRING, false, false, 16},
    {"title", JX_STRING, false, false, CASE_TITLE_MAX},
    {"description", JX_STRING, false, false, CASE_DESCRIPTION_MAX},
    {"point", JX_OBJECT, false, true, 0},
    {"address", JX_STRING, false, false, CASE_ADDRESS_MAX},
    {"area_code", JX_STRING, false, true, 12},
    {"priority", JX_STRING, false, false, 8},
    {"reporter_public", JX_BOOL, false, false, 0},
    {"contact_name", JX_STRING, false, true, CASE_CONTACT_NAME_MAX},
    {"contact_phone", JX_STRING, false, true, 32},
    {"contact_email", JX_STRING, false, true, CASE_CONTACT_EMAIL_MAX},
    {"reporter_user_id", JX_INT, false, true, 0},
    {"attributes", JX_OBJECT, false, false, 0},
};

/* "point": {"lat", "lon"} or null. Field errors into err. */
static void decode_point(json_t *body, struct case_in *in, struct linli_err *err)
{
    json_t *p = json_object_get(body, "point");
    if (!p || json_is_null(p))
        return;
    static const struct jx_field pf[] = {
        {"lat", JX_NUMBER, true, false, 0},
        {"lon", JX_NUMBER, true, false, 0},
    };
    struct linli_err inner;
    linli_err_clear(&inner);
    if (jx_check(p, pf, NFIELDS(pf), &inner)) {
        for (int i = 0; i < inner.nfields; i++) {
            char field[80];
            snprintf(field, sizeof field, "point.%s", inner.fields[i].field);
            linli_field(err, field, "%s", inner.fields[i].message);
        }
        return;
    }
    in->has_point = true;
    in->point.lat = json_number_value(json_object_get(p, "lat"));
    in->point.lon = json_number_value(json_object_get(p, "lon"));
}

static void case_in_from(json_t *body, struct case_in *in)
{
    in->category = jx_str(body, "category");
    in->channel = jx_str(body, "channel");
    in->title = jx_str(body, "title");
    in->description = jx_str(body, "description");
    in->address = jx_str(body, "address");
    in->area_code = jx_str(body, "area_code");
    in->priority = jx_str(body, "priority");
    in->reporter_public = jx_bool(body, "reporter_public", 0) != 0;
    in->contact_name = jx_str(body, "contact_name");
    in->contact_phone = jx_str(body, "contact_phone");
    in->contact_email = jx_str(body, "contact_email");
    in->reporter_user_id = jx_int(body, "reporter_user_id", 0);
    json_t *attrs = json_object_get(body, "attributes");
    in->attributes = attrs && json_is_object(attrs) ? attrs : NULL;
}

/* The text fields of a form as a JSON object typed like the JSON body:
 * lat and lon become "point", numbers and booleans are read from their text,
 * "attributes" is JSON text. Returns a new object, or NULL with field errors. */
static json_t *form_to_json(const struct multipart_part *parts, int n, struct linli_err *err)
{
    json_t *o = json_object();
    double lat = NAN, lon = NAN;
    for (int i = 0; i < n; i++) {
        const struct multipart_part *p = &parts[i];
        if (!strcmp(p->name, "photo"))
            continue;
        char *text = strndup(p->data, p->len);
        if (!text) {
            json_decref(o);
            linli_fail(err, LINLI_ENOMEM, "Out of memory.");
            return NULL;
        }
        if (strlen(text) != p->len) {
            linli_field(err, p->name, "must be text");
        } else if (json_object_get(o, p->name) || ((!strcmp(p->name, "lat") && !isnan(lat)) ||
                                                   (!strcmp(p->name, "lon") && !isnan(lon)))) {
            linli_field(err, p->name, "is given twice");
        } else if (!strcmp(p->name, "lat") || !strcmp(p->name, "lon")) {
            char *end;
            double v = strtod(text, &end);
            if (!*text || *end || !isfinite(v))
                linli_field(err, p->name, "must be a number of degrees");
            else if (p->name[1] == 'a')
                lat = v;
            else
                lon = v;
        } else if (!strcmp(p->name, "reporter_public")) {
            bool yes = !strcmp(text, "true") || !strcmp(text, "1") || !strcmp(text, "on");
            bool no = !strcmp(text, "false") || !strcmp(text, "0") || !strcmp(text, "off");
            if (!yes && !no)
                linli_field(err, p->name, "must be true or false");
            json_object_set_new(o, p->name, json_boolean(yes));
        } else if (!strcmp(p->name, "reporter_user_id")) {
            char *end;
            long long v = strtoll(text, &end, 10);
            if (!*text || *end)
                linli_field(err, p->name, "must be a whole number");
            json_object_set_new(o, p->name, json_integer(v));
        } else if (!strcmp(p->name, "attributes")) {
            json_t *v = json_loads(text, 0, NULL);
            if (!json_is_object(v))
                linli_field(err, p->name, "must be a JSON object");
            json_object_set_new(o, p->name, v ? v : json_null());
        } else {
            json_t *s = json_string(text);
            if (!s)
                linli_field(err, p->name, "is not UTF-8 text");
            json_object_set_new(o, p->name, s ? s : json_null());
        }
        free(text);
    }
    if (!isnan(lat) || !isnan(lon)) {
        if (isnan(lat) || isnan(lon))
            linli_field(err, isnan(lat) ? "lat" : "lon", "is required with %s",
                        isnan(lat) ? "lon" : "lat");
        else
            json_object_set_new(o, "point", json_pack("{s:f, s:f}", "lat", lat, "lon", lon));
    }
    if (err->nfields) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static void case_create(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    if (api_auth(a, req, &who) || api_query(req, (const char *const[]){NULL}))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    struct case_in in = {0};
    json_t *body = NULL;
    bool form = is_multipart(req);
    bool has_gps = false;
    struct geo_point gps = {0, 0};
    if (form) {
        struct multipart_part *parts = calloc(CASE_FORM_PARTS_MAX, sizeof *parts);
        int nparts = 0;
        if (!parts) {
            linli_fail(&err, LINLI_ENOMEM, "Out of memory.");
            api_error(req, &err);
            return;
        }
        if (multipart_parse(http_header(req, "Content-Type"), req->body.data, req->body.len, parts,
                            CASE_FORM_PARTS_MAX, &nparts, &err)) {
            free(parts);
            http_respond_problem(req, 400, &err);
            return;
        }
        body = form_to_json(parts, nparts, &err);
        if (body && jx_check(body, case_fields, NFIELDS(case_fields), &err)) {
            json_decref(body);
            body = NULL;
        }
        if (!body) {
            free(parts);
            problem(req, &err);
            return;
        }
        /* photos are stored only once the fields are good */
        if (store_photos(a, req, parts, nparts, in.photos, &in.nphotos, &has_gps, &gps)) {
            free(parts);
            json_decref(body);
            return;
        }
        free(parts);
    } else if (!(body = api_body(req, case_fields, NFIELDS(case_fields)))) {
        return;
    }
    case_in_from(body, &in);
    decode_point(body, &in, &err);
    /* the photo's position fills a missing point, when it lies in the district */
    if (!in.has_point && has_gps &&
        (a->d->boundary ? boundary_contains(a->d->boundary, gps) : geo_in_china(gps))) {
        in.has_point = true;
        in.point = gps;
    }
    if (err.nfields) {
        json_decref(body);
        http_respond_problem(req, 422, &err);
        return;
    }
    struct idem_req idem;
    const struct idem_req *ip;
    if (api_idempotency(req, &who, "POST /api/v1/cases", &idem, &ip)) {
        json_decref(body);
        return;
    }
    struct case_record *c = malloc(sizeof *c);
    bool replayed = false;
    int rc = c ? cases_create(a->d, &who, &in, ip, c, &replayed, &err)
               : linli_fail(&err, LINLI_ENOMEM, "Out of memory.");
    json_decref(body);
    if (rc) {
        free(c);
        problem(req, &err);
        return;
    }
    api_created(req, "cases", c->id, replayed, case_to_json(c, NULL, 0));
    free(c);
}

/* ---- read ---- */

static void case_get(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    int64_t id;
    if (api_auth(a, req, &who) || api_query(req, (const char *const[]){NULL}) ||
        api_path_id(req, 0, &id))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    struct case_record *c = malloc(sizeof *c);
    if (!c || cases_get(a->d, &who, id, c, &err)) {
        if (!c)
            linli_fail(&err, LINLI_ENOMEM, "Out of memory.");
        free(c);
        api_error(req, &err);
        return;
    }
    respond_case(a, req, &who, c, true, 200);
    free(c);
}

static void case_list(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    if (api_auth(a, req, &who) ||
        api_query(req, (const char *const[]){"status", "category", "unit", "area", "channel",
                                             "from", "to", "mine", "number", "overdue", "sort",
                                             "limit", "cursor", NULL}))
        return;
    struct case_filter f = {.state = -1, .channel = -1};
    const char *v = http_query(req, "sort");
    f.by_due = v && !strcmp(v, "due");
    /* The order decides which cursor is valid: it is read first. */
    if (f.by_due ? api_page_keyed(a, req, CASES_PAGE_MAX, &f.limit, &f.after_due, &f.after_id)
                 : api_page(a, req, CASES_PAGE_MAX, &f.limit, &f.before_id))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    if (v && !f.by_due && strcmp(v, "newest"))
        linli_field(&err, "sort", "must be newest or due");
    if ((v = http_query(req, "status"))) {
        if (!strcmp(v, "open"))
            f.open_only = true;
        else if (case_state_parse(v, &f.state))
            linli_field(&err, "status", "must be open or a state (submitted, accepted, ...)");
        else if (f.by_due && f.state != CASE_SUBMITTED && f.state != CASE_ACCEPTED &&
                 f.state != CASE_DISPATCHED && f.state != CASE_IN_PROGRESS)
            linli_field(&err, "status",
                        "with sort=due, must be open or a state with a pending deadline "
                        "(submitted, accepted, dispatched, in_progress)");
    }
    if ((v = http_query(req, "number"))) {
        if (case_number_valid(v))
            f.number = v;
        else
            linli_field(&err, "number", "must be a case number: 13 or more digits");
    }
    if ((v = http_query(req, "overdue"))) {
        if (strcmp(v, "true") && strcmp(v, "false"))
            linli_field(&err, "overdue", "must be true or false");
        f.overdue = !strcmp(v, "true");
    }
    f.category = http_query(req, "category");
    f.unit = http_query(req, "unit");
    char area[AREA_CODE_LEN + 1];
    if ((v = http_query(req, "area"))) {
        const char *why;
        if (area_code_normalize(v, area, &why))
            linli_field(&err, "area", "%s", why);
        else
            f.area = area;
    }
    if ((v = http_query(req, "channel")) && case_channel_parse(v, &f.channel))
        linli_field(&err, "channel", "is not a channel");
    api_query_time(req, "from", &f.from_ms, &err);
    api_query_time(req, "to", &f.to_ms, &err);
    if ((v = http_query(req, "mine"))) {
        if (strcmp(v, "true") && strcmp(v, "false"))
            linli_field(&err, "mine", "must be true or false");
        f.mine = !strcmp(v, "true");
    }
    if (err.nfields) {
        http_respond_problem(req, 422, &err);
        return;
    }
    struct case_record *items;
    int n;
    int64_t next;
    if (cases_list(a->d, &who, &f, &items, &n, &next, &err)) {
        problem(req, &err);
        return;
    }
    json_t *arr = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(arr, case_to_json(&items[i], NULL, 0));
    /* By deadline, the cursor carries the last case's deadline with its id:
     * read in the same transaction as the page, it is the one it was sorted by. */
    int64_t due = f.by_due && n ? case_pending_due(&items[n - 1]) : 0;
    int64_t last = n ? items[n - 1].id : 0;
    free(items);
    http_respond_json(req, 200,
                      f.by_due ? api_list_keyed(arr, next != 0, due, last) : api_list(arr, next));
}

static int query_number(struct http_request *req, const char *name, bool required, double *out,
                        struct linli_err *err)
{
    const char *v = http_query(req, name);
    if (!v) {
        if (required)
            linli_field(err, name, "is required");
        return -1;
    }
    char *end;
    double d = strtod(v, &end);
    if (!*v || *end || !isfinite(d)) {
        linli_field(err, name, "must be a number");
        return -1;
    }
    *out = d;
    return 0;
}

static void case_nearby(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    if (api_auth(a, req, &who) ||
        api_query(req, (const char *const[]){"lat", "lon", "category", "radius", NULL}))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    struct geo_point p = {NAN, NAN};
    double radius = 0;
    query_number(req, "lat", true, &p.lat, &err);
    query_number(req, "lon", true, &p.lon, &err);
    query_number(req, "radius", false, &radius, &err);
    const char *category = http_query(req, "category");
    if (!category)
        linli_field(&err, "category", "is required");
    if (err.nfields) {
        http_respond_problem(req, 422, &err);
        return;
    }
    struct case_record *items;
    int n;
    if (cases_nearby(a->d, &who, p, category, radius, &items, &n, &err)) {
        problem(req, &err);
        return;
    }
    json_t *arr = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(arr, case_to_json(&items[i], NULL, 0));
    free(items);
    json_t *o = json_object();
    json_object_set_new(o, "radius_m", json_real(radius > 0 ? radius : CASE_NEARBY_RADIUS_M));
    json_object_set_new(o, "items", arr);
    http_respond_json(req, 200, o);
}

/* ---- the workflow ---- */

/* Authenticates, reads the case id and the body. Returns the body or NULL after answering. */
static json_t *begin_action(struct api *a, struct http_request *req, struct principal *who,
                            int64_t *id, const struct jx_field *fields, size_t n)
{
    if (api_auth(a, req, who) || api_query(req, (const char *const[]){NULL}) ||
        api_path_id(req, 0, id))
        return NULL;
    return api_body(req, fields, n);
}

/* Answers with the changed case (and its events), or the error. */
static void finish_action(struct api *a, struct http_request *req, const struct principal *who,
                          struct case_record *c, int rc, struct linli_err *err)
{
    if (rc)
        problem(req, err);
    else
        respond_case(a, req, who, c, true, 200);
    free(c);
}

/* Reads body[name] as an array of at most `max` strings into out[]. */
static int string_array(json_t *body, const char *name, const char **out, int max, int *n,
                        struct linli_err *err)
{
    json_t *arr = json_object_get(body, name);
    *n = 0;
    if (!arr)
        return 0;
    if (json_array_size(arr) > (size_t)max) {
        linli_field(err, name, "at most %d units", max);
        return -1;
    }
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        if (!json_is_string(v)) {
            char f[40];
            snprintf(f, sizeof f, "%s[%zu]", name, i);
            linli_field(err, f, "must be a unit code (text)");
            continue;
        }
        out[(*n)++] = json_string_value(v);
    }
    return err->nfields ? -1 : 0;
}

static const struct jx_field transition_fields[] = {
    {"to", JX_STRING, true, false, 16},
    {"note", JX_STRING, false, true, CASE_NOTE_MAX},
    {"reason", JX_STRING, false, true, CASE_NOTE_MAX},
    {"duplicate_of", JX_INT, false, true, 0},
    {"unit", JX_STRING, false, true, CASE_UNIT_CODE_MAX},
    {"co_units", JX_ARRAY, false, false, 0},
};

static void case_transition(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    int64_t id;
    json_t *body = begin_action(a, req, &who, &id, transition_fields, NFIELDS(transition_fields));
    if (!body)
        return;
    struct linli_err err;
    linli_err_clear(&err);
    struct case_transition_in in = {
        .to = jx_str(body, "to"),
        .note = jx_str(body, "note"),
        .reason = jx_str(body, "reason"),
        .duplicate_of = jx_int(body, "duplicate_of", 0),
        .unit = jx_str(body, "unit"),
    };
    if (string_array(body, "co_units", in.co_units, CASE_UNITS_MAX - 1, &in.nco, &err)) {
        json_decref(body);
        http_respond_problem(req, 422, &err);
        return;
    }
    struct case_record *c = malloc(sizeof *c);
    int rc = c ? cases_transition(a->d, &who, id, &in, c, &err)
               : linli_fail(&err, LINLI_ENOMEM, "Out of memory.");
    json_decref(body);
    finish_action(a, req, &who, c, rc, &err);
}

static const struct jx_field note_fields[] = {
    {"text", JX_STRING, true, false, CASE_NOTE_MAX},
    {"public", JX_BOOL, false, false, 0},
};

static void case_note(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    int64_t id;
    json_t *body = begin_action(a, req, &who, &id, note_fields, NFIELDS(note_fields));
    if (!body)
        return;
    struct linli_err err;
    linli_err_clear(&err);
    struct case_event ev;
    int rc = cases_add_note(a->d, &who, id, jx_str(body, "text"), jx_bool(body, "public", 0) != 0,
                            &ev, &err);
    json_decref(body);
    if (rc) {
        problem(req, &err);
        return;
    }
    http_respond_json(req, 201, case_event_to_json(&ev, CASE_VIEW_FULL));
}

static void case_photos_add(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    int64_t id;
    if (api_auth(a, req, &who) || api_query(req, (const char *const[]){NULL}) ||
        api_path_id(req, 0, &id))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    if (!is_multipart(req)) {
        linli_fail(&err, LINLI_EINVAL,
                   "Send photos as multipart/form-data with one or more \"photo\" files.");
        http_respond_problem(req, 415, &err);
        return;
    }
    struct multipart_part *parts = calloc(CASE_FORM_PARTS_MAX, sizeof *parts);
    struct case_record *c = malloc(sizeof *c);
    int nparts = 0;
    if (!parts || !c) {
        free(parts);
        free(c);
        linli_fail(&err, LINLI_ENOMEM, "Out of memory.");
        api_error(req, &err);
        return;
    }
    if (multipart_parse(http_header(req, "Content-Type"), req->body.data, req->body.len, parts,
                        CASE_FORM_PARTS_MAX, &nparts, &err)) {
        free(parts);
        free(c);
        http_respond_problem(req, 400, &err);
        return;
    }
    char *note = NULL;
    for (int i = 0; i < nparts; i++) {
        if (!strcmp(parts[i].name, "note") && !note)
            note = strndup(parts[i].data, parts[i].len);
        else if (strcmp(parts[i].name, "photo"))
            linli_field(&err, parts[i].name, "is not a field of this form (photo, note)");
    }
    if (err.nfields) {
        free(parts);
        free(c);
        free(note);
        http_respond_problem(req, 422, &err);
        return;
    }
    /* who may add is checked before any photo is stored */
    int rc = cases_get(a->d, &who, id, c, &err);
    struct case_photo photos[CASE_PHOTOS_MAX];
    int n = 0;
    bool has_gps;
    struct geo_point gps;
    if (rc) {
        free(parts);
        free(note);
        free(c);
        api_error(req, &err);
        return;
    }
    if (store_photos(a, req, parts, nparts, photos, &n, &has_gps, &gps)) {
        free(parts);
        free(note);
        free(c);
        return;
    }
    free(parts);
    rc = cases_add_photos(a->d, &who, id, photos, n, note, c, &err);
    free(note);
    finish_action(a, req, &who, c, rc, &err);
}

static void case_photo_get(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    int64_t id;
    if (api_auth(a, req, &who) || api_query(req, (const char *const[]){NULL}) ||
        api_path_id(req, 0, &id))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    const char *hash = req->params[1];
    struct case_photo p;
    if (!photo_store_hash_valid(hash)) {
        linli_fail(&err, LINLI_ENOTFOUND, "No such photo.");
        api_error(req, &err);
        return;
    }
    if (cases_photo_get(a->d, &who, id, hash, &p, &err)) {
        api_error(req, &err);
        return;
    }
    char *etag = arena_alloc(&req->arena, 80);
    if (etag)
        snprintf(etag, 80, "\"%s\"", p.hash);
    http_add_header(req, "Cache-Control", PHOTO_CACHE_CONTROL);
    if (etag)
        http_add_header(req, "ETag", etag);
    const char *inm = http_header(req, "If-None-Match");
    if (etag && inm && (strstr(inm, p.hash) || !strcmp(inm, "*"))) {
        http_respond(req, 304, NULL, "", 0);
        return;
    }
    int type = photo_type_of(p.type);
    int fd = -1;
    off_t size = 0;
    if (!a->photo_dir || !a->photo_dir[0]) {
        linli_fail(&err, LINLI_ENOTFOUND, "This server keeps no photos.");
        api_error(req, &err);
        return;
    }
    if (photo_store_open(a->photo_dir, p.hash, type, &fd, &size, &err)) {
        api_error(req, &err);
        return;
    }
    char *bytes = malloc(size > 0 ? (size_t)size : 1);
    size_t got = 0;
    while (bytes && got < (size_t)size) {
        ssize_t r = read(fd, bytes + got, (size_t)size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (!bytes || got != (size_t)size) {
        free(bytes);
        linli_fail(&err, LINLI_EIO, "Cannot read the photo.");
        api_error(req, &err);
        return;
    }
    http_respond_owned(req, 200, photo_type_mime(type), bytes, got);
}

static const struct jx_field whistle_fields[] = {
    {"units", JX_ARRAY, true, false, 0},
    {"note", JX_STRING, false, true, CASE_NOTE_MAX},
};

static void case_whistle(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    int64_t id;
    json_t *body = begin_action(a, req, &who, &id, whistle_fields, NFIELDS(whistle_fields));
    if (!body)
        return;
    struct linli_err err;
    linli_err_clear(&err);
    const char *units[CASE_UNITS_MAX];
    int n;
    if (string_array(body, "units", units, CASE_UNITS_MAX - 1, &n, &err)) {
        json_decref(body);
        http_respond_problem(req, 422, &err);
        return;
    }
    struct case_record *c = malloc(sizeof *c);
    int rc = c ? cases_whistle(a->d, &who, id, units, n, jx_str(body, "note"), 0, c, &err)
               : linli_fail(&err, LINLI_ENOMEM, "Out of memory.");
    json_decref(body);
    finish_action(a, req, &who, c, rc, &err);
}

static const struct jx_field report_in_fields[] = {
    {"unit", JX_STRING, false, true, CASE_UNIT_CODE_MAX},
    {"note", JX_STRING, false, true, CASE_NOTE_MAX},
};

static void case_report_in(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    int64_t id;
    json_t *body = begin_action(a, req, &who, &id, report_in_fields, NFIELDS(report_in_fields));
    if (!body)
        return;
    struct linli_err err;
    linli_err_clear(&err);
    struct case_record *c = malloc(sizeof *c);
    int rc =
        c ? cases_report_in(a->d, &who, id, jx_str(body, "unit"), jx_str(body, "note"), 0, c, &err)
          : linli_fail(&err, LINLI_ENOMEM, "Out of memory.");
    json_decref(body);
    finish_action(a, req, &who, c, rc, &err);
}

static const struct jx_field rating_fields[] = {
    {"rating", JX_STRING, true, false, 24},
    {"comment", JX_STRING, false, true, CASE_NOTE_MAX},
};

static void case_rating(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    int64_t id;
    json_t *body = begin_action(a, req, &who, &id, rating_fields, NFIELDS(rating_fields));
    if (!body)
        return;
    struct linli_err err;
    linli_err_clear(&err);
    struct case_record *c = malloc(sizeof *c);
    int rc =
        c ? cases_rate(a->d, &who, id, jx_str(body, "rating"), jx_str(body, "comment"), 0, c, &err)
          : linli_fail(&err, LINLI_ENOMEM, "Out of memory.");
    json_decref(body);
    finish_action(a, req, &who, c, rc, &err);
}

/* A POST route that takes photos: its body may be as large as
 * --photo-body-max rather than --max-body. */
static int photo_route(struct api *a, const char *pattern, http_handler fn)
{
    int rc = http_route(a->http, "POST", pattern, fn, a);
    if (rc >= 0 && a->photo_body_max)
        http_route_body_limit(a->http, rc, a->photo_body_max);
    return rc;
}

int api_cases_routes(struct api *a)
{
    struct http_server *h = a->http;
    int rc;
    if ((rc = photo_route(a, "/api/v1/cases", case_create)) < 0 ||
        (rc = http_route(h, "GET", "/api/v1/cases", case_list, a)) < 0 ||
        (rc = http_route(h, "GET", "/api/v1/cases/nearby", case_nearby, a)) < 0 ||
        (rc = http_route(h, "GET", "/api/v1/cases/{id}", case_get, a)) < 0 ||
        (rc = http_route(h, "POST", "/api/v1/cases/{id}/transitions", case_transition, a)) < 0 ||
        (rc = http_route(h, "POST", "/api/v1/cases/{id}/notes", case_note, a)) < 0 ||
        (rc = photo_route(a, "/api/v1/cases/{id}/photos", case_photos_add)) < 0 ||
        (rc = http_route(h, "GET", "/api/v1/cases/{id}/photos/{hash}", case_photo_get, a)) < 0 ||
        (rc = http_route(h, "POST", "/api/v1/cases/{id}/whistle", case_whistle, a)) < 0 ||
        (rc = http_route(h, "POST", "/api/v1/cases/{id}/report-in", case_report_in, a)) < 0 ||
        (rc = http_route(h, "POST", "/api/v1/cases/{id}/rating", case_rating, a)) < 0)
        return rc;
    return api_case_setup_routes(a);
}
