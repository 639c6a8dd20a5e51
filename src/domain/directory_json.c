/* directory_json.c - the directory's JSON shapes: decoding a facility (whole
 * for a create, partial for a change) into typed values, and encoding a
 * facility, its week of hours and its services for the API.
 *
 * Decoding checks shape and converts what has a typed form here (time spans,
 * yuan, care levels, subsidy classes, the rating); the rules that need the
 * catalogue or the store (known services, the area, lengths of a whole
 * facility) are facility_check's. Every problem becomes a field error named
 * by its JSON path ("services[2].subsidies[0].percent_off", "hours.mon[1]"),
 * and decoding goes on after one, so a caller sees them all at once. */
#include "domain/directory.h"

#include "base/clock.h"
#include "base/jx.h"
#include "domain/people.h"

#include <limits.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define NFIELDS(a)       (sizeof(a) / sizeof((a)[0]))
#define CODE_TEXT_MAX    32  /* characters of a code or label as typed (kind, unit, status) */
#define PHONE_TEXT_MAX   32  /* characters of a phone number as typed (spaces, +86) */
#define AGE_MAX          150 /* the oldest age a rule may name */
#define RATING_MAX_TENTH 50  /* 5 stars */
#define FIELD_NAME_SIZE  64  /* = the field of struct linli_field_error */

static const char *const day_names[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

/* ---- field tables ---- */

static const struct jx_field facility_fields[] = {
    {"kind", JX_STRING, true, false, CODE_TEXT_MAX},
    {"operator_type", JX_STRING, true, false, CODE_TEXT_MAX},
    {"status", JX_STRING, false, false, CODE_TEXT_MAX},
    {"name", JX_STRING, true, false, FACILITY_NAME_MAX},
    {"registration", JX_STRING, false, true, FACILITY_REG_MAX},
    {"address", JX_STRING, false, false, FACILITY_ADDRESS_MAX},
    {"area_code", JX_STRING, true, false, AREA_CODE_LEN},
    {"point", JX_OBJECT, true, false, 0},
    {"phone", JX_STRING, false, true, PHONE_TEXT_MAX},
    {"hours", JX_OBJECT, false, false, 0},
    {"closures", JX_ARRAY, false, false, 0},
    {"capacity", JX_INT, false, true, 0},
    {"beds_total", JX_INT, false, true, 0},
    {"beds_free", JX_INT, false, true, 0},
    {"rating", JX_NUMBER, false, true, 0},
    {"consortium", JX_STRING, false, true, FACILITY_CONSORTIUM_MAX},
    {"services", JX_ARRAY, false, false, 0},
};

static const struct jx_field point_fields[] = {
    {"lat", JX_NUMBER, true, false, 0},
    {"lon", JX_NUMBER, true, false, 0},
};

static const struct jx_field closure_fields[] = {
    {"from", JX_STRING, true, false, 10},
    {"to", JX_STRING, true, false, 10},
    {"reason", JX_STRING, false, false, FACILITY_CLOSURE_WHY_MAX},
};

static const struct jx_field service_fields[] = {
    {"code", JX_STRING, true, false, SERVICE_CODE_MAX},
    {"price", JX_NUMBER, true, false, 0},
    {"unit", JX_STRING, true, false, CODE_TEXT_MAX},
    {"age_min", JX_INT, false, false, 0},
    {"care_levels", JX_ARRAY, false, false, 0},
    {"note", JX_STRING, false, true, SERVICE_NOTE_MAX},
    {"subsidies", JX_ARRAY, false, false, 0},
};

static const struct jx_field rule_fields[] = {
    {"label", JX_STRING, true, false, RULE_LABEL_MAX},
    {"classes", JX_ARRAY, false, false, 0},
    {"age_min", JX_INT, false, false, 0},
    {"care_levels", JX_ARRAY, false, false, 0},
    {"living_alone", JX_BOOL, false, false, 0},
    {"percent_off", JX_INT, false, false, 0},
    {"amount_off", JX_NUMBER, false, false, 0},
    {"pay", JX_NUMBER, false, false, 0},
};

/* ---- helpers ---- */

/* Formats a field name into out (FIELD_NAME_SIZE bytes); a name too long is
 * cut, as the error record would cut it anyway. */
static const char *name_of(char *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const char *name_of(char *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, FIELD_NAME_SIZE, fmt, ap);
    va_end(ap);
    return out;
}

/* jx_check on a nested value, its field errors named "prefix.field".
 * Returns true when it has problems (also when it is not an object). */
static bool check_nested(const json_t *obj, const struct jx_field *fields, size_t n,
                         const char *prefix, bool partial, struct linli_err *err)
{
    if (!json_is_object(obj)) {
        linli_field(err, prefix, "must be an object");
        return true;
    }
    struct linli_err inner;
    linli_err_clear(&inner);
    if (!(partial ? jx_check_partial : jx_check)(obj, fields, n, &inner))
        return false;
    for (int i = 0; i < inner.nfields; i++) {
        char name[FIELD_NAME_SIZE];
        name_of(name, "%s.%s", prefix, inner.fields[i].field);
        linli_field(err, name, "%s", inner.fields[i].message);
    }
    return true;
}

/* "prefix.name" into out. */
static const char *sub(char out[FIELD_NAME_SIZE], const char *prefix, const char *name)
{
    name_of(out, "%s.%s", prefix, name);
    return out;
}

/* An amount in yuan (a JSON number) into fen; a field error when it is not
 * one. Returns true when bad. */
static bool yuan(const json_t *v, const char *field, int64_t *fen, struct linli_err *err)
{
    if (price_parse_yuan(json_number_value(v), fen) == 0)
        return false;
    linli_field(err, field, "must be an amount in yuan from 0 to %d with at most two decimals",
                PRICE_MAX_FEN / 100);
    return true;
}

/* An age condition: 0..AGE_MAX; absent = 0. */
static int age_min_of(const json_t *obj, const char *field, struct linli_err *err)
{
    int64_t v = jx_int(obj, "age_min", 0);
    if (v < 0 || v > AGE_MAX) {
        linli_field(err, field, "must be an age from 0 to %d (0 = any age)", AGE_MAX);
        return 0;
    }
    return (int)v;
}

/* ["self_care", "半失能", ...] into CARE_BIT()s; each bad entry named
 * "field[i]". */
static unsigned care_levels_of(const json_t *arr, const char *field, struct linli_err *err)
{
    unsigned bits = 0;
    size_t i;
    const json_t *v;
    json_array_foreach(arr, i, v)
    {
        enum care_level c;
        if (!json_is_string(v) || people_care_level_parse(json_string_value(v), &c) != 0) {
            char name[FIELD_NAME_SIZE];
            name_of(name, "%s[%zu]", field, i);
            linli_field(err, name, "must be self_care, partly_dependent or dependent");
            continue;
        }
        bits |= CARE_BIT(c);
    }
    return bits;
}

static unsigned classes_of(const json_t *arr, const char *field, struct linli_err *err)
{
    unsigned bits = 0;
    size_t i;
    const json_t *v;
    json_array_foreach(arr, i, v)
    {
        int c;
        if (!json_is_string(v) || subsidy_class_parse(json_string_value(v), &c) != 0) {
            char name[FIELD_NAME_SIZE];
            name_of(name, "%s[%zu]", field, i);
            linli_field(err, name, "must be dibao, tekun, low_income, shidu, youfu or other");
            continue;
        }
        bits |= 1u << c;
    }
    return bits;
}

static void copy_text(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "");
}

/* ---- hours ---- */

int week_hours_from_json(json_t *v, const char *field, struct week_hours *out,
                         struct linli_err *err)
{
    memset(out, 0, sizeof *out);
    if (!v || json_is_null(v))
        return LINLI_OK;
    static const struct jx_field day_fields[] = {
        {"mon", JX_ARRAY, false, true, 0}, {"tue", JX_ARRAY, false, true, 0},
        {"wed", JX_ARRAY, false, true, 0}, {"thu", JX_ARRAY, false, true, 0},
        {"fri", JX_ARRAY, false, true, 0}, {"sat", JX_ARRAY, false, true, 0},
        {"sun", JX_ARRAY, false, true, 0},
    };
    bool bad = check_nested(v, day_fields, NFIELDS(day_fields), field, false, err);
    if (!json_is_object(v))
        return LINLI_EINVAL;
    for (int d = 0; d < 7; d++) {
        json_t *spans = json_object_get(v, day_names[d]);
        if (!json_is_array(spans))
            continue; /* absent or null: closed (a wrong type is reported above) */
        char day[FIELD_NAME_SIZE];
        sub(day, field, day_names[d]);
        if (json_array_size(spans) > FACILITY_SPANS_MAX) {
            bad = true;
            linli_field(err, day, "may hold at most %d opening spans", FACILITY_SPANS_MAX);
            continue;
        }
        size_t i;
        json_t *s;
        json_array_foreach(spans, i, s)
        {
            char name[FIELD_NAME_SIZE];
            name_of(name, "%s[%zu]", day, i);
            struct time_span span;
            if (!json_is_string(s) || hours_parse_span(json_string_value(s), &span) != 0) {
                bad = true;
                linli_field(err, name,
                            "must be a span \"HH:MM-HH:MM\" (close after open, "
                            "at most 24:00)");
                continue;
            }
            int k = out->nspans[d];
            if (k > 0 && span.open < out->spans[d][k - 1].close) {
                bad = true;
                linli_field(err, name,
                            "must start after the span before it ends (list the "
                            "spans of a day in order)");
                continue;
            }
            out->spans[d][out->nspans[d]++] = span;
        }
    }
    return bad ? LINLI_EINVAL : LINLI_OK;
}

json_t *week_hours_to_json(const struct week_hours *h)
{
    json_t *o = json_object();
    for (int d = 0; d < 7; d++) {
        json_t *arr = json_array();
        for (int i = 0; i < h->nspans[d] && i < FACILITY_SPANS_MAX; i++) {
            char text[12];
            hours_format_span(&h->spans[d][i], text);
            json_array_append_new(arr, json_string(text));
        }
        json_object_set_new(o, day_names[d], arr);
    }
    return o;
}

/* ---- services ---- */

/* One subsidy rule; prefix names it ("services[0].subsidies[1]"). */
static void rule_from_json(const json_t *obj, const char *prefix, struct subsidy_rule *r,
                           struct linli_err *err)
{
    memset(r, 0, sizeof *r);
    r->pay_fen = -1;
    check_nested(obj, rule_fields, NFIELDS(rule_fields), prefix, false, err);
    if (!json_is_object(obj))
        return;
    char name[FIELD_NAME_SIZE];
    copy_text(r->label, sizeof r->label, jx_str(obj, "label"));
    const json_t *classes = json_object_get(obj, "classes");
    if (json_is_array(classes))
        r->classes = classes_of(classes, sub(name, prefix, "classes"), err);
    r->age_min = age_min_of(obj, sub(name, prefix, "age_min"), err);
    const json_t *care = json_object_get(obj, "care_levels");
    if (json_is_array(care))
        r->care_levels = care_levels_of(care, sub(name, prefix, "care_levels"), err);
    r->living_alone = jx_bool(obj, "living_alone", 0) == 1;

    /* Exactly one effect. A present one of the wrong type was reported above
     * and still counts, so the caller is not also told one is missing. */
    int effects = jx_has(obj, "percent_off") + jx_has(obj, "amount_off") + jx_has(obj, "pay");
    json_t *pct = json_object_get(obj, "percent_off");
    if (json_is_integer(pct)) {
        json_int_t p = json_integer_value(pct);
        if (p < 1 || p > 100)
            linli_field(err, sub(name, prefix, "percent_off"), "must be from 1 to 100");
        else
            r->percent_off = (int)p;
    }
    json_t *amount = json_object_get(obj, "amount_off");
    if (json_is_number(amount) &&
        !yuan(amount, sub(name, prefix, "amount_off"), &r->amount_off_fen, err) &&
        r->amount_off_fen == 0)
        linli_field(err, name, "must be more than 0");
    json_t *pay = json_object_get(obj, "pay");
    if (json_is_number(pay))
        yuan(pay, sub(name, prefix, "pay"), &r->pay_fen, err);
    if (effects == 0)
        linli_field(err, prefix, "needs one of percent_off, amount_off or pay");
    else if (effects > 1)
        linli_field(err, prefix, "takes only one of percent_off, amount_off or pay");
}

/* One service; prefix names it ("services[2]"). */
static void service_from_json(const json_t *obj, const char *prefix, struct facility_service *s,
                              struct linli_err *err)
{
    memset(s, 0, sizeof *s);
    check_nested(obj, service_fields, NFIELDS(service_fields), prefix, false, err);
    if (!json_is_object(obj))
        return;
    char name[FIELD_NAME_SIZE];
    const char *code = jx_str(obj, "code");
    if (code && strlen(code) > SERVICE_CODE_MAX)
        linli_field(err, sub(name, prefix, "code"), "must be at most %d letters, digits or _",
                    SERVICE_CODE_MAX);
    copy_text(s->code, sizeof s->code, code);
    json_t *price = json_object_get(obj, "price");
    if (json_is_number(price))
        yuan(price, sub(name, prefix, "price"), &s->price_fen, err);
    const char *unit = jx_str(obj, "unit");
    if (unit && price_unit_parse(unit, &s->unit) != 0)
        linli_field(err, sub(name, prefix, "unit"), "must be meal, hour, visit, day or month");
    s->age_min = age_min_of(obj, sub(name, prefix, "age_min"), err);
    const json_t *care = json_object_get(obj, "care_levels");
    if (json_is_array(care))
        s->care_levels = care_levels_of(care, sub(name, prefix, "care_levels"), err);
    copy_text(s->note, sizeof s->note, jx_str(obj, "note"));
    const json_t *rules = json_object_get(obj, "subsidies");
    if (!json_is_array(rules))
        return;
    if (json_array_size(rules) > SERVICE_RULES_MAX) {
        linli_field(err, sub(name, prefix, "subsidies"), "may hold at most %d rules",
                    SERVICE_RULES_MAX);
        return;
    }
    size_t i;
    const json_t *r;
    json_array_foreach(rules, i, r)
    {
        char rn[FIELD_NAME_SIZE];
        name_of(rn, "%s.subsidies[%zu]", prefix, i);
        rule_from_json(r, rn, &s->rules[s->nrules++], err);
    }
}

/* Copies the problems of `inner` into `err`; EINVAL when there were any. */
static int merge(const struct linli_err *inner, struct linli_err *err)
{
    if (inner->status != LINLI_EINVAL)
        return LINLI_OK;
    for (int i = 0; i < inner->nfields; i++)
        linli_field(err, inner->fields[i].field, "%s", inner->fields[i].message);
    if (!inner->nfields)
        linli_fail(err, LINLI_EINVAL, "%s", inner->detail);
    return LINLI_EINVAL;
}

static void services_decode(json_t *arr, const char *field, struct facility_service *out, int *n,
                            struct linli_err *err)
{
    if (!json_is_array(arr)) {
        linli_field(err, field, "must be an array");
        return;
    }
    if (json_array_size(arr) > FACILITY_SERVICES_MAX) {
        linli_field(err, field, "may hold at most %d services", FACILITY_SERVICES_MAX);
        return;
    }
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        char name[FIELD_NAME_SIZE];
        name_of(name, "%s[%zu]", field, i);
        service_from_json(v, name, &out[(*n)++], err); /* kept, so later indexes stay right */
    }
}

int services_from_json(json_t *arr, const char *field, struct facility_service *out, int *n,
                       struct linli_err *err)
{
    *n = 0;
    if (!arr || json_is_null(arr))
        return LINLI_OK;
    struct linli_err inner;
    linli_err_clear(&inner);
    services_decode(arr, field, out, n, &inner);
    return merge(&inner, err);
}

static json_t *care_levels_json(unsigned bits)
{
    json_t *arr = json_array();
    for (int c = CARE_SELF; c <= CARE_DEPENDENT; c++)
        if (bits & CARE_BIT(c))
            json_array_append_new(arr, json_string(people_care_level_name((enum care_level)c)));
    return arr;
}

static json_t *yuan_json(int64_t fen)
{
    return json_real((double)fen / 100.0);
}

static json_t *rule_json(const struct subsidy_rule *r)
{
    json_t *classes = json_array();
    for (int c = 0; c < SUBSIDY_CLASSES; c++)
        if (r->classes & (1u << c))
            json_array_append_new(classes, json_string(subsidy_class_name(c)));
    json_t *o = json_object();
    json_object_set_new(o, "label", json_string(r->label));
    json_object_set_new(o, "classes", classes);
    json_object_set_new(o, "age_min", json_integer(r->age_min));
    json_object_set_new(o, "care_levels", care_levels_json(r->care_levels));
    json_object_set_new(o, "living_alone", json_boolean(r->living_alone));
    if (r->percent_off > 0)
        json_object_set_new(o, "percent_off", json_integer(r->percent_off));
    else if (r->amount_off_fen > 0)
        json_object_set_new(o, "amount_off", yuan_json(r->amount_off_fen));
    else
        json_object_set_new(o, "pay", yuan_json(r->pay_fen > 0 ? r->pay_fen : 0));
    return o;
}

json_t *services_to_json(const struct facility_service *s, int n)
{
    json_t *arr = json_array();
    for (int i = 0; i < n; i++) {
        json_t *rules = json_array();
        for (int k = 0; k < s[i].nrules && k < SERVICE_RULES_MAX; k++)
            json_array_append_new(rules, rule_json(&s[i].rules[k]));
        json_t *o = json_object();
        json_object_set_new(o, "code", json_string(s[i].code));
        json_object_set_new(o, "price", yuan_json(s[i].price_fen));
        json_object_set_new(o, "unit", json_string(price_unit_name(s[i].unit)));
        json_object_set_new(o, "age_min", json_integer(s[i].age_min));
        json_object_set_new(o, "care_levels", care_levels_json(s[i].care_levels));
        json_object_set_new(o, "note", json_string(s[i].note));
        json_object_set_new(o, "subsidies", rules);
        json_array_append_new(arr, o);
    }
    return arr;
}

/* ---- facilities ---- */

/* A count (capacity, beds): a whole number >= 0, or null/absent = -1. */
static int count_of(const json_t *obj, const char *name, struct linli_err *err)
{
    json_t *v = json_object_get(obj, name);
    if (!json_is_integer(v))
        return -1;
    json_int_t n = json_integer_value(v);
    if (n < 0 || n > INT_MAX) {
        linli_field(err, name, "must be a whole number from 0 up, or null");
        return -1;
    }
    return (int)n;
}

static int rating_of(const json_t *obj, struct linli_err *err)
{
    json_t *v = json_object_get(obj, "rating");
    if (!json_is_number(v))
        return -1;
    double r = json_number_value(v) * 10.0;
    double tenths = round(r);
    if (!(r >= 0 && r <= RATING_MAX_TENTH) || fabs(r - tenths) > 1e-6) {
        linli_field(err, "rating", "must be from 0 to 5 with at most one decimal, or null");
        return -1;
    }
    return (int)tenths;
}

static void point_of(const json_t *obj, struct facility_in *in, struct linli_err *err)
{
    const json_t *p = json_object_get(obj, "point");
    if (!p)
        return;
    if (check_nested(p, point_fields, NFIELDS(point_fields), "point", false, err))
        return;
    in->has_point = true;
    in->point.lat = json_number_value(json_object_get(p, "lat"));
    in->point.lon = json_number_value(json_object_get(p, "lon"));
}

static bool date_shaped(const char *s)
{
    if (!s || strlen(s) != 10)
        return false;
    for (int i = 0; i < 10; i++)
        if (i == 4 || i == 7 ? s[i] != '-' : (s[i] < '0' || s[i] > '9'))
            return false;
    return true;
}

static void closures_of(const json_t *arr, struct facility_in *in, struct linli_err *err)
{
    if (!json_is_array(arr))
        return;
    if (json_array_size(arr) > FACILITY_CLOSURES_MAX) {
        linli_field(err, "closures", "may hold at most %d closures", FACILITY_CLOSURES_MAX);
        return;
    }
    size_t i;
    const json_t *c;
    json_array_foreach(arr, i, c)
    {
        char prefix[FIELD_NAME_SIZE], name[FIELD_NAME_SIZE];
        name_of(prefix, "closures[%zu]", i);
        struct closure *out = &in->closures[in->nclosures++];
        memset(out, 0, sizeof *out);
        if (check_nested(c, closure_fields, NFIELDS(closure_fields), prefix, false, err) &&
            !json_is_object(c))
            continue;
        const char *ends[2] = {"from", "to"};
        char *dst[2] = {out->from, out->to};
        for (int k = 0; k < 2; k++) {
            const char *v = jx_str(c, ends[k]);
            if (!v)
                continue;
            if (!date_shaped(v)) {
                linli_field(err, sub(name, prefix, ends[k]), "must be a date YYYY-MM-DD");
                continue;
            }
            memcpy(dst[k], v, 11);
        }
        copy_text(out->reason, sizeof out->reason, jx_str(c, "reason"));
    }
}

/* Decodes a body that passed the field table into `in`. */
static void facility_decode(json_t *obj, struct facility_in *in, struct linli_err *err)
{
    memset(in, 0, sizeof *in);
    in->capacity = in->beds_total = in->beds_free = in->rating_tenths = -1;
    in->kind = jx_str(obj, "kind");
    in->operator_type = jx_str(obj, "operator_type");
    in->status = jx_str(obj, "status");
    in->name = jx_str(obj, "name");
    in->registration = jx_str(obj, "registration");
    in->address = jx_str(obj, "address");
    in->area_code = jx_str(obj, "area_code");
    in->phone = jx_str(obj, "phone");
    in->consortium = jx_str(obj, "consortium");
    int t;
    if (in->kind && facility_kind_parse(in->kind, &t) != 0)
        linli_field(err, "kind",
                    "must be institution, station, dining_table, regional_centre, "
                    "family_bed_provider, health_centre or provider");
    if (in->operator_type && operator_type_parse(in->operator_type, &t) != 0)
        linli_field(err, "operator_type", "must be public, private or public_private");
    if (in->status && facility_status_parse(in->status, &t) != 0)
        linli_field(err, "status", "must be open, suspended or closed");
    point_of(obj, in, err);
    json_t *hours = json_object_get(obj, "hours");
    if (json_is_object(hours))
        week_hours_from_json(hours, "hours", &in->hours, err);
    closures_of(json_object_get(obj, "closures"), in, err);
    in->capacity = count_of(obj, "capacity", err);
    in->beds_total = count_of(obj, "beds_total", err);
    in->beds_free = count_of(obj, "beds_free", err);
    in->rating_tenths = rating_of(obj, err);
    json_t *services = json_object_get(obj, "services");
    if (json_is_array(services))
        services_decode(services, "services", in->services, &in->nservices, err);
}

int facility_in_from_json(json_t *obj, struct facility_in *in, struct linli_err *err)
{
    memset(in, 0, sizeof *in);
    in->capacity = in->beds_total = in->beds_free = in->rating_tenths = -1;
    if (!json_is_object(obj))
        return linli_fail(err, LINLI_EINVAL, "A facility must be a JSON object.");
    struct linli_err inner;
    linli_err_clear(&inner);
    jx_check(obj, facility_fields, NFIELDS(facility_fields), &inner);
    facility_decode(obj, in, &inner);
    return merge(&inner, err);
}

int facility_patch_from_json(json_t *obj, struct facility_patch *p, struct linli_err *err)
{
    memset(p, 0, sizeof *p);
    p->v.capacity = p->v.beds_total = p->v.beds_free = p->v.rating_tenths = -1;
    if (!json_is_object(obj))
        return linli_fail(err, LINLI_EINVAL, "A change must be a JSON object.");
    struct linli_err inner;
    linli_err_clear(&inner);
    jx_check_partial(obj, facility_fields, NFIELDS(facility_fields), &inner);
    facility_decode(obj, &p->v, &inner);
    p->set_kind = jx_has(obj, "kind");
    p->set_operator_type = jx_has(obj, "operator_type");
    p->set_status = jx_has(obj, "status");
    p->set_name = jx_has(obj, "name");
    p->set_registration = jx_has(obj, "registration");
    p->set_address = jx_has(obj, "address");
    p->set_area_code = jx_has(obj, "area_code");
    p->set_phone = jx_has(obj, "phone");
    p->set_consortium = jx_has(obj, "consortium");
    p->set_point = jx_has(obj, "point");
    p->set_hours = jx_has(obj, "hours");
    p->set_closures = jx_has(obj, "closures");
    p->set_capacity = jx_has(obj, "capacity");
    p->set_beds_total = jx_has(obj, "beds_total");
    p->set_beds_free = jx_has(obj, "beds_free");
    p->set_rating = jx_has(obj, "rating");
    p->set_services = jx_has(obj, "services");
    return merge(&inner, err);
}

static json_t *text_or_null(const char *s)
{
    return s[0] ? json_string(s) : json_null();
}

static json_t *count_json(int n)
{
    return n >= 0 ? json_integer(n) : json_null();
}

static json_t *time_json(int64_t ms)
{
    if (!ms)
        return json_null();
    char t[32];
    return json_string(clock_format_rfc3339(ms, t, sizeof t));
}

json_t *facility_to_json(const struct facility *f)
{
    json_t *closures = json_array();
    for (int i = 0; i < f->nclosures && i < FACILITY_CLOSURES_MAX; i++)
        json_array_append_new(closures,
                              json_pack("{s:s, s:s, s:s}", "from", f->closures[i].from, "to",
                                        f->closures[i].to, "reason", f->closures[i].reason));
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(f->id));
    json_object_set_new(o, "kind", json_string(facility_kind_name(f->kind)));
    json_object_set_new(o, "kind_label", json_string(facility_kind_label(f->kind)));
    json_object_set_new(o, "name", json_string(f->name));
    json_object_set_new(o, "operator_type", json_string(operator_type_name(f->operator_type)));
    json_object_set_new(o, "status", json_string(facility_status_name(f->status)));
    json_object_set_new(o, "registration", text_or_null(f->registration));
    json_object_set_new(o, "address", json_string(f->address));
    json_object_set_new(o, "point",
                        json_pack("{s:f, s:f}", "lat", f->point.lat, "lon", f->point.lon));
    json_object_set_new(o, "area_code", json_string(f->area_code));
    json_object_set_new(o, "area_name", text_or_null(f->area_name));
    json_object_set_new(o, "street_code", text_or_null(f->street_code));
    json_object_set_new(o, "street_name", text_or_null(f->street_name));
    json_object_set_new(o, "phone", text_or_null(f->phone));
    json_object_set_new(o, "hours", week_hours_to_json(&f->hours));
    json_object_set_new(o, "closures", closures);
    json_object_set_new(o, "capacity", count_json(f->capacity));
    json_object_set_new(o, "beds_total", count_json(f->beds_total));
    json_object_set_new(o, "beds_free", count_json(f->beds_free));
    json_object_set_new(o, "rating",
                        f->rating_tenths >= 0 ? json_real((double)f->rating_tenths / 10.0)
                                              : json_null());
    json_object_set_new(o, "consortium", text_or_null(f->consortium));
    json_object_set_new(o, "services", services_to_json(f->services, f->nservices));
    json_object_set_new(o, "created_at", time_json(f->created_at));
    json_object_set_new(o, "updated_at", time_json(f->updated_at));
    return o;
}
