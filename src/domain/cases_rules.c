/* cases_rules.c - the case module's pure rules: names of states, channels,
 * priorities, classes and ratings; the state machine; case numbers and
 * deadlines; units and routing decisions; text and attribute checks. No
 * store, no clock: every function here is a function of its arguments. */
#include "domain/cases.h"
#include "domain/cases_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* ---- names ---- */

static int parse_name(const char *const *names, int n, const char *text, int *out)
{
    for (int i = 0; text && i < n; i++) {
        if (!strcmp(text, names[i])) {
            *out = i;
            return 0;
        }
    }
    return -1;
}

static const char *const state_names[CASE_STATES] = {"submitted",   "accepted", "dispatched",
                                                     "in_progress", "resolved", "closed",
                                                     "rejected",    "duplicate"};

const char *case_state_name(int s)
{
    return s >= 0 && s < CASE_STATES ? state_names[s] : "?";
}

int case_state_parse(const char *text, int *s)
{
    return parse_name(state_names, CASE_STATES, text, s);
}

bool case_state_final(int s)
{
    return s == CASE_CLOSED || s == CASE_REJECTED || s == CASE_DUPLICATE;
}

const char *case_state_open311(int s)
{
    return case_state_final(s) ? "closed" : "open";
}

static const char *const channel_names[CHANNEL_COUNT] = {"snap",       "hotline",      "walk_in",
                                                         "enterprise", "deliberation", "open311"};

const char *case_channel_name(int c)
{
    return c >= 0 && c < CHANNEL_COUNT ? channel_names[c] : "?";
}

int case_channel_parse(const char *text, int *c)
{
    return parse_name(channel_names, CHANNEL_COUNT, text, c);
}

static const char *const priority_names[] = {"low", "normal", "high", "urgent"};

const char *case_priority_name(int p)
{
    return p >= PRIORITY_LOW && p <= PRIORITY_URGENT ? priority_names[p] : "?";
}

int case_priority_parse(const char *text, int *p)
{
    return parse_name(priority_names, 4, text, p);
}

static const char *const class_names[] = {"emergency", "utilities", "general", "complex"};
/* Beijing's limits (接诉即办): response from submission, resolution from acceptance. */
static const int class_response_minutes[] = {30, 2 * 60, 24 * 60, 24 * 60};
static const int class_resolve_minutes[] = {2 * 60, 24 * 60, 7 * 24 * 60, 15 * 24 * 60};

const char *deadline_class_name(int c)
{
    return c >= DEADLINE_EMERGENCY && c <= DEADLINE_COMPLEX ? class_names[c] : "?";
}

int deadline_class_parse(const char *text, int *c)
{
    return parse_name(class_names, 4, text, c);
}

int deadline_class_response_minutes(int c)
{
    return c >= DEADLINE_EMERGENCY && c <= DEADLINE_COMPLEX ? class_response_minutes[c] : 0;
}

int deadline_class_resolve_minutes(int c)
{
    return c >= DEADLINE_EMERGENCY && c <= DEADLINE_COMPLEX ? class_resolve_minutes[c] : 0;
}

static const char *const rating_names[] = {"satisfied", "basically_satisfied", "unsatisfied"};

const char *case_rating_name(int r)
{
    return r >= RATING_SATISFIED && r <= RATING_UNSATISFIED ? rating_names[r] : "?";
}

int case_rating_parse(const char *text, int *r)
{
    return parse_name(rating_names, 3, text, r);
}

static const char *const link_names[] = {"lead", "co", "summoned", "escalated"};

const char *case_link_name(int l)
{
    return l >= LINK_LEAD && l <= LINK_ESCALATED ? link_names[l] : "?";
}

static const char *const unit_kind_names[] = {"district", "street", "community", "department"};

const char *unit_kind_name(int k)
{
    return k >= UNIT_DISTRICT && k <= UNIT_DEPARTMENT ? unit_kind_names[k] : "?";
}

int unit_kind_parse(const char *text, int *k)
{
    return parse_name(unit_kind_names, 4, text, k);
}

/* ---- the state machine ---- */

#define H CASE_BY_HANDLER
#define R CASE_BY_REPORTER
#define S CASE_BY_SYSTEM

/* moves[from][to]: who may make the move; 0 = not a move. */
static const unsigned char moves[CASE_STATES][CASE_STATES] = {
    [CASE_SUBMITTED] = {[CASE_ACCEPTED] = H | S, [CASE_REJECTED] = H | S, [CASE_DUPLICATE] = H | S},
    [CASE_ACCEPTED] =
        {[CASE_DISPATCHED] = H | S, [CASE_REJECTED] = H | S, [CASE_DUPLICATE] = H | S},
    [CASE_DISPATCHED] = {[CASE_IN_PROGRESS] = H | S},
    [CASE_IN_PROGRESS] = {[CASE_RESOLVED] = H | S},
    [CASE_RESOLVED] = {[CASE_CLOSED] = R | S, [CASE_IN_PROGRESS] = R | S},
};

#undef H
#undef R
#undef S

unsigned case_transition_allowed(int from, int to)
{
    if (from < 0 || from >= CASE_STATES || to < 0 || to >= CASE_STATES)
        return 0;
    return moves[from][to];
}

/* ---- numbers and deadlines ---- */

/* Days since 1970-01-01 to a civil date (proleptic Gregorian). */
static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

int case_local_day(int64_t at_ms)
{
    int64_t local = at_ms + CASE_LOCAL_OFFSET;
    int64_t days = local >= 0 ? local / CASE_DAY_MS : -((-local + CASE_DAY_MS - 1) / CASE_DAY_MS);
    int y, m, d;
    civil_from_days(days, &y, &m, &d);
    return y * 10000 + m * 100 + d;
}

void case_number_format(int64_t at_ms, int64_t seq, char out[CASE_NUMBER_SIZE])
{
    snprintf(out, CASE_NUMBER_SIZE, "%08d%05lld", case_local_day(at_ms), (long long)seq);
}

bool case_number_valid(const char *s)
{
    size_t n = 0;
    for (; s && s[n]; n++)
        if (s[n] < '0' || s[n] > '9')
            return false;
    return n >= 13 && n < CASE_NUMBER_SIZE;
}

int64_t case_pending_due(const struct case_record *r)
{
    switch (r->state) {
    case CASE_SUBMITTED:
        return r->response_due_at;
    case CASE_ACCEPTED:
    case CASE_DISPATCHED:
    case CASE_IN_PROGRESS:
        return r->resolve_due_at ? r->resolve_due_at : r->response_due_at;
    default:
        return 0;
    }
}

int64_t case_due_soon_at(int64_t due_at, int64_t limit_ms)
{
    int64_t window = limit_ms * CASE_DUE_SOON_PERCENT / 100;
    if (window > CASE_DUE_SOON_WINDOW_MS)
        window = CASE_DUE_SOON_WINDOW_MS;
    return due_at - window;
}

/* ---- units and routing ---- */

#define DEPARTMENT_PREFIX "dept-"

bool case_unit_is_department(const char *code)
{
    size_t pl = strlen(DEPARTMENT_PREFIX);
    if (!code || strncmp(code, DEPARTMENT_PREFIX, pl))
        return false;
    size_t n = strlen(code + pl);
    if (n < 1 || pl + n > CASE_UNIT_CODE_MAX)
        return false;
    for (const char *p = code + pl; *p; p++)
        if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_'))
            return false;
    return true;
}

/* A normalised 12-digit area code. */
static bool is_area_code(const char *code)
{
    if (!code || strlen(code) != AREA_CODE_LEN)
        return false;
    for (const char *p = code; *p; p++)
        if (!isdigit((unsigned char)*p))
            return false;
    return true;
}

void case_unit_parent(const char *unit, const char *district, char out[CASE_UNIT_CODE_MAX + 1])
{
    out[0] = '\0';
    if (case_unit_is_department(unit)) {
        snprintf(out, CASE_UNIT_CODE_MAX + 1, "%s", district ? district : "");
        return;
    }
    if (!is_area_code(unit))
        return;
    int level = area_code_level(unit);
    if (level == 2)
        snprintf(out, CASE_UNIT_CODE_MAX + 1, "%.9s000", unit);
    else if (level == 1)
        snprintf(out, CASE_UNIT_CODE_MAX + 1, "%.6s000000", unit);
}

const struct case_route *case_route_pick(const struct case_route *rules, int n,
                                         const char *category, const char *area)
{
    const struct case_route *best = NULL;
    int best_score = -1;
    bool has_area = is_area_code(area);
    for (int i = 0; i < n; i++) {
        const struct case_route *r = &rules[i];
        if (r->retired_at)
            continue;
        if (r->category[0] && (!category || strcmp(r->category, category)))
            continue;
        if (r->area[0] && (!has_area || !area_within(r->area, area)))
            continue;
        /* the category outweighs any depth of area: 10 vs at most 3 */
        int score = (r->category[0] ? 10 : 0) + (r->area[0] ? area_code_level(r->area) + 1 : 0);
        if (score > best_score || (score == best_score && r->id > best->id)) {
            best = r;
            best_score = score;
        }
    }
    return best;
}

/* The unit an "own" target or the default names for a case in `area`. */
static void own_unit(const char *target, const char *area, const char *district,
                     char out[CASE_UNIT_CODE_MAX + 1])
{
    if (!is_area_code(area)) {
        snprintf(out, CASE_UNIT_CODE_MAX + 1, "%s", district ? district : "");
        return;
    }
    if (!strcmp(target, CASE_ROUTE_OWN_STREET) && area_code_level(area) == 2)
        snprintf(out, CASE_UNIT_CODE_MAX + 1, "%.9s000", area);
    else
        snprintf(out, CASE_UNIT_CODE_MAX + 1, "%s", area);
}

void case_route_apply(const struct case_route *rule, const char *area, const char *district,
                      char lead[CASE_UNIT_CODE_MAX + 1],
                      char co[CASE_UNITS_MAX - 1][CASE_UNIT_CODE_MAX + 1], int *nco)
{
    *nco = 0;
    if (!rule) {
        own_unit(CASE_ROUTE_OWN_COMMUNITY, area, district, lead);
        return;
    }
    if (rule->unit[0] == '@')
        own_unit(rule->unit, area, district, lead);
    else
        snprintf(lead, CASE_UNIT_CODE_MAX + 1, "%s", rule->unit);
    for (int i = 0; i < rule->nco && *nco < CASE_UNITS_MAX - 1; i++) {
        char u[CASE_UNIT_CODE_MAX + 1];
        if (rule->co_units[i][0] == '@')
            own_unit(rule->co_units[i], area, district, u);
        else
            snprintf(u, sizeof u, "%s", rule->co_units[i]);
        bool dup = !u[0] || !strcmp(u, lead);
        for (int k = 0; k < *nco && !dup; k++)
            dup = !strcmp(co[k], u);
        if (!dup)
            memcpy(co[(*nco)++], u, sizeof u);
    }
}

/* ---- text ---- */

/* 0 for well-formed UTF-8 text within the limits, else a reason. */
static const char *text_problem(const char *s, bool multiline, size_t *chars_out)
{
    size_t chars = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        size_t len;
        uint32_t cp;
        if (c < 0x80) {
            len = 1;
            cp = c;
        } else if ((c & 0xE0) == 0xC0) {
            len = 2;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4;
            cp = c & 0x07;
        } else {
            return "is not UTF-8 text";
        }
        for (size_t i = 1; i < len; i++) {
            if ((p[i] & 0xC0) != 0x80)
                return "is not UTF-8 text";
            cp = (cp << 6) | (p[i] & 0x3Fu);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
            (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
            return "is not UTF-8 text";
        bool allowed_break = multiline && (cp == '\n' || cp == '\r' || cp == '\t');
        if (!allowed_break && (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0)))
            return multiline ? "must not contain control characters"
                             : "must not contain control characters such as line breaks";
        p += len;
        chars++;
    }
    *chars_out = chars;
    return NULL;
}

void cases__check_text(const char *field, const char *s, size_t max, bool required, bool multiline,
                       struct linli_err *err)
{
    if (!s || !*s) {
        if (required)
            linli_field(err, field, "is required");
        return;
    }
    size_t chars = 0;
    const char *why = text_problem(s, multiline, &chars);
    if (why) {
        linli_field(err, field, "%s", why);
        return;
    }
    if (chars > max) {
        linli_field(err, field, "must be at most %zu characters", max);
        return;
    }
    if (required) {
        const char *p = s;
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
            p++;
        if (!*p)
            linli_field(err, field, "must not be blank");
    }
}

void cases__check_photo(const char *field, const struct case_photo *p, struct linli_err *err)
{
    char f[80];
    bool hex = strlen(p->hash) == 64;
    for (const char *c = p->hash; hex && *c; c++)
        hex = isdigit((unsigned char)*c) || (*c >= 'a' && *c <= 'f');
    if (!hex) {
        snprintf(f, sizeof f, "%s.hash", field);
        linli_field(err, f, "must be a lower-case hex SHA-256 (64 characters)");
    }
    if (strcmp(p->type, "image/jpeg") && strcmp(p->type, "image/png") &&
        strcmp(p->type, "image/webp")) {
        snprintf(f, sizeof f, "%s.type", field);
        linli_field(err, f, "must be image/jpeg, image/png or image/webp");
    }
    if (p->size <= 0) {
        snprintf(f, sizeof f, "%s.size", field);
        linli_field(err, f, "must be a positive number of bytes");
    }
    if (p->width < 0 || p->height < 0) {
        snprintf(f, sizeof f, "%s.width", field);
        linli_field(err, f, "must not be negative");
    }
}

/* ---- attributes (Open311 service definitions) ---- */

static const char *const datatypes[] = {"string",          "number",         "datetime", "text",
                                        "singlevaluelist", "multivaluelist", NULL};

static bool datatype_known(const char *t)
{
    for (int i = 0; t && datatypes[i]; i++)
        if (!strcmp(t, datatypes[i]))
            return true;
    return false;
}

void cases__check_definitions(json_t *defs, struct linli_err *err)
{
    if (!json_is_array(defs)) {
        linli_field(err, "attributes", "must be an array of attribute definitions");
        return;
    }
    size_t i;
    json_t *def;
    char f[96];
    json_array_foreach(defs, i, def)
    {
        if (!json_is_object(def)) {
            snprintf(f, sizeof f, "attributes[%zu]", i);
            linli_field(err, f, "must be an object");
            continue;
        }
        const char *key;
        json_t *v;
        json_object_foreach(def, key, v)
        {
            if (strcmp(key, "code") && strcmp(key, "datatype") && strcmp(key, "required") &&
                strcmp(key, "description") && strcmp(key, "order") && strcmp(key, "values") &&
                strcmp(key, "variable") && strcmp(key, "datatype_description")) {
                snprintf(f, sizeof f, "attributes[%zu].%.32s", i, key);
                linli_field(err, f, "is not a field of an attribute definition");
            }
        }
        const char *code = json_string_value(json_object_get(def, "code"));
        bool code_ok = code && *code && strlen(code) <= 32;
        for (const char *p = code; code_ok && *p; p++)
            code_ok = isalnum((unsigned char)*p) || *p == '_' || *p == '-';
        if (!code_ok) {
            snprintf(f, sizeof f, "attributes[%zu].code", i);
            linli_field(err, f, "must be 1 to 32 letters, digits, '_' or '-'");
        } else {
            for (size_t k = 0; k < i; k++) {
                const char *other =
                    json_string_value(json_object_get(json_array_get(defs, k), "code"));
                if (other && !strcmp(other, code)) {
                    snprintf(f, sizeof f, "attributes[%zu].code", i);
                    linli_field(err, f, "is used by an earlier attribute");
                    break;
                }
            }
        }
        const char *type = json_string_value(json_object_get(def, "datatype"));
        if (!datatype_known(type)) {
            snprintf(f, sizeof f, "attributes[%zu].datatype", i);
            linli_field(err, f,
                        "must be string, number, datetime, text, singlevaluelist or "
                        "multivaluelist");
        }
        json_t *req = json_object_get(def, "required");
        if (req && !json_is_boolean(req)) {
            snprintf(f, sizeof f, "attributes[%zu].required", i);
            linli_field(err, f, "must be true or false");
        }
        json_t *desc = json_object_get(def, "description");
        if (desc && !json_is_string(desc)) {
            snprintf(f, sizeof f, "attributes[%zu].description", i);
            linli_field(err, f, "must be text");
        }
        json_t *values = json_object_get(def, "values");
        bool list = type && strstr(type, "valuelist");
        if (list && (!json_is_array(values) || json_array_size(values) == 0)) {
            snprintf(f, sizeof f, "attributes[%zu].values", i);
            linli_field(err, f, "must list the values of a value list: [{\"key\", \"name\"}]");
        } else if (values) {
            size_t k;
            json_t *val;
            json_array_foreach(values, k, val)
            {
                if (!json_is_string(json_object_get(val, "key")) ||
                    !json_is_string(json_object_get(val, "name"))) {
                    snprintf(f, sizeof f, "attributes[%zu].values[%zu]", i, k);
                    linli_field(err, f, "must be {\"key\": text, \"name\": text}");
                }
            }
        }
    }
}

static bool value_in_list(json_t *values, const char *key)
{
    size_t k;
    json_t *val;
    json_array_foreach(values, k, val)
    {
        const char *vk = json_string_value(json_object_get(val, "key"));
        if (vk && key && !strcmp(vk, key))
            return true;
    }
    return false;
}

void cases__check_attributes(json_t *attributes, const char *definitions, struct linli_err *err)
{
    if (attributes && !json_is_object(attributes)) {
        linli_field(err, "attributes", "must be an object");
        return;
    }
    json_t *defs = json_loads(definitions ? definitions : "[]", 0, NULL);
    if (!json_is_array(defs)) {
        json_decref(defs);
        return;
    }
    char f[80];
    const char *key;
    json_t *v;
    if (attributes) {
        json_object_foreach(attributes, key, v)
        {
            json_t *def = NULL;
            size_t i;
            json_t *d;
            json_array_foreach(defs, i, d)
            {
                const char *code = json_string_value(json_object_get(d, "code"));
                if (code && !strcmp(code, key))
                    def = d;
            }
            snprintf(f, sizeof f, "attributes.%.64s", key);
            if (!def) {
                linli_field(err, f, "is not an attribute of this category");
                continue;
            }
            const char *type = json_string_value(json_object_get(def, "datatype"));
            json_t *values = json_object_get(def, "values");
            if (!type)
                continue;
            if (!strcmp(type, "number")) {
                if (!json_is_number(v))
                    linli_field(err, f, "must be a number");
            } else if (!strcmp(type, "singlevaluelist")) {
                if (!json_is_string(v) || !value_in_list(values, json_string_value(v)))
                    linli_field(err, f, "must be one of the keys of the attribute's values");
            } else if (!strcmp(type, "multivaluelist")) {
                bool ok = json_is_array(v);
                size_t k;
                json_t *item;
                if (ok) {
                    json_array_foreach(v, k, item)
                    {
                        if (!json_is_string(item) ||
                            !value_in_list(values, json_string_value(item)))
                            ok = false;
                    }
                }
                if (!ok)
                    linli_field(err, f, "must be an array of keys of the attribute's values");
            } else if (!json_is_string(v)) {
                linli_field(err, f, "must be text");
            } else {
                cases__check_text(f, json_string_value(v), CASE_NOTE_MAX, false,
                                  !strcmp(type, "text"), err);
            }
        }
    }
    size_t i;
    json_t *d;
    json_array_foreach(defs, i, d)
    {
        const char *code = json_string_value(json_object_get(d, "code"));
        if (code && json_is_true(json_object_get(d, "required")) &&
            !(attributes && json_object_get(attributes, code))) {
            snprintf(f, sizeof f, "attributes.%.64s", code);
            linli_field(err, f, "is required for this category");
        }
    }
    json_decref(defs);
}
