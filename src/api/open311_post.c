/* open311_post.c - POST /open311/v2/requests.{json,xml}: a service request
 * from an Open311 client becomes a case (channel open311), made at once.
 *
 * The body is application/x-www-form-urlencoded; a parameter missing from
 * the body is looked for in the query string. Checked in this order, each
 * failure answering in the specification's error shape: the form itself
 * (400), jurisdiction_id (404), api_key (403), service_code (400), then every
 * other field at once (400, one error per problem: the location, each
 * attribute against the service's definitions, contact details, lengths).
 * The case is created by the system principal on the client's behalf, the
 * client named by its key; the answer is 200 with the request's id, a notice
 * with its number, and the number again as a token for clients that ask
 * tokens/{token} for the id. */
#include "api/open311_internal.h"

#include "api/open311_xml.h"
#include "base/log.h"
#include "domain/cases.h"
#include "domain/open311_clients.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FORM_FIELDS_MAX    256 /* fields in one form body */
#define ATTRIBUTE_CODE_MAX 64  /* bytes of the code in attribute[code] */

/* ---- the form ---- */

struct form {
    int n;
    const char *name[FORM_FIELDS_MAX];
    const char *value[FORM_FIELDS_MAX];
};

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes one form component ('+' is a space, %HH a byte) into arena
 * memory. NULL with *why set when an escape is malformed or the result is
 * not UTF-8 text. */
static char *form_decode(struct arena *ar, const char *s, size_t len, const char **why)
{
    char *out = arena_alloc(ar, len + 1);
    if (!out) {
        *why = "the server is out of memory";
        return NULL;
    }
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '+') {
            out[o++] = ' ';
        } else if (s[i] == '%') {
            int hi = i + 2 < len ? hex_value(s[i + 1]) : -1;
            int lo = i + 2 < len ? hex_value(s[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                *why = "has a malformed percent-escape";
                return NULL;
            }
            out[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    if (!open311_utf8_valid(out, o)) {
        *why = "is not UTF-8 text";
        return NULL;
    }
    return out;
}

/* Parses the body as name=value pairs joined by '&'. Answers 400 and returns
 * -1 when it is not a form. */
static int form_parse(struct http_request *req, int fmt, struct form *form)
{
    form->n = 0;
    const char *p = req->body.data ? req->body.data : "";
    const char *end = p + req->body.len;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        if (stop > p) {
            const char *eq = memchr(p, '=', (size_t)(stop - p));
            const char *name_end = eq ? eq : stop;
            const char *why = NULL;
            if (form->n == FORM_FIELDS_MAX) {
                open311__error(req, fmt, 400, "The form has more than %d fields.", FORM_FIELDS_MAX);
                return -1;
            }
            char *name = form_decode(&req->arena, p, (size_t)(name_end - p), &why);
            char *value = name ? form_decode(&req->arena, eq ? eq + 1 : stop,
                                             eq ? (size_t)(stop - eq - 1) : 0, &why)
                               : NULL;
            if (!name || !value) {
                open311__error(req, fmt, 400, "The form field %.*s %s.",
                               (int)((name_end - p) > 64 ? 64 : (name_end - p)), p, why);
                return -1;
            }
            form->name[form->n] = name;
            form->value[form->n] = value;
            form->n++;
        }
        if (!amp)
            break;
        p = amp + 1;
    }
    return 0;
}

/* A parameter: its first value in the body, else in the query string; NULL
 * (never "") when absent or empty. */
static const char *param(struct http_request *req, const struct form *form, const char *name)
{
    for (int i = 0; i < form->n; i++)
        if (!strcmp(form->name[i], name))
            return form->value[i][0] ? form->value[i] : NULL;
    const char *q = http_query(req, name);
    return q && *q ? q : NULL;
}

static bool form_body_ok(struct http_request *req)
{
    const char *ct = http_header(req, "Content-Type");
    static const char form_type[] = "application/x-www-form-urlencoded";
    size_t n = sizeof form_type - 1;
    return !ct || !*ct ||
           (!strncasecmp(ct, form_type, n) && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' '));
}

/* ---- attributes ---- */

static json_t *definition_of(json_t *defs, const char *code)
{
    size_t i;
    json_t *d;
    json_array_foreach(defs, i, d)
    {
        const char *c = json_string_value(json_object_get(d, "code"));
        if (c && !strcmp(c, code))
            return d;
    }
    return NULL;
}

/* One attribute value typed by its definition's datatype. A number that
 * does not read as one stays text, for cases_create to refuse together with
 * the other attributes' problems; a datetime it cannot check, so that is
 * refused here (NULL with a field error). */
static json_t *attribute_value(const char *type, const char *field, const char *v,
                               struct linli_err *err)
{
    if (!strcmp(type, "number")) {
        char *end;
        long long i = strtoll(v, &end, 10);
        if (!*end && strlen(v) <= 15)
            return json_integer(i);
        double d = strtod(v, &end);
        return *end || !isfinite(d) ? json_string(v) : json_real(d);
    }
    if (!strcmp(type, "datetime")) {
        int64_t ms;
        char t[OPEN311_TIME_SIZE];
        if (open311_parse_time(v, &ms)) {
            linli_field(err, field, "must be a date and time (ISO 8601)");
            return NULL;
        }
        return json_string(open311_format_time(ms, t));
    }
    return json_string(v);
}

/* The attributes object from the form's attribute[code]=value and, for a
 * multivaluelist, attribute[code][]=value (repeated) fields. Empty values
 * count as not given. Codes the service does not define are passed on for
 * cases_create to refuse with the others. Adds field errors
 * ("attributes.CODE") to err. */
static json_t *form_attributes(const struct form *form, json_t *defs, struct linli_err *err)
{
    json_t *attrs = json_object();
    static const char prefix[] = "attribute[";
    for (int i = 0; i < form->n; i++) {
        const char *name = form->name[i];
        if (strncmp(name, prefix, sizeof prefix - 1) != 0)
            continue;
        const char *code = name + sizeof prefix - 1;
        const char *close = strchr(code, ']');
        char field[ATTRIBUTE_CODE_MAX + 16];
        if (!close || close == code || close - code > ATTRIBUTE_CODE_MAX ||
            (close[1] && strcmp(close + 1, "[]") != 0)) {
            snprintf(field, sizeof field, "attributes.%.*s", ATTRIBUTE_CODE_MAX, code);
            linli_field(err, field, "must be sent as attribute[code] or attribute[code][]");
            continue;
        }
        char c[ATTRIBUTE_CODE_MAX + 1];
        snprintf(c, sizeof c, "%.*s", (int)(close - code), code);
        snprintf(field, sizeof field, "attributes.%s", c);
        const char *v = form->value[i];
        if (!*v)
            continue;
        json_t *def = definition_of(defs, c);
        const char *type = def ? json_string_value(json_object_get(def, "datatype")) : NULL;
        if (!type)
            type = "string";
        if (!strcmp(type, "multivaluelist")) {
            json_t *list = json_object_get(attrs, c);
            if (!list) {
                list = json_array();
                json_object_set_new(attrs, c, list);
            }
            json_array_append_new(list, json_string(v));
            continue;
        }
        if (json_object_get(attrs, c)) {
            linli_field(err, field, "was given more than once");
            continue;
        }
        json_t *value = attribute_value(type, field, v, err);
        if (value)
            json_object_set_new(attrs, c, value);
    }
    return attrs;
}

/* ---- the other fields ---- */

static bool ascii_only(const char *s)
{
    for (; s && *s; s++)
        if ((unsigned char)*s >= 0x80)
            return false;
    return true;
}

/* first_name and last_name as one contact name: "First Last", or family
 * name first without a space when either is written in Chinese ("张" + "三"
 * -> "张三" from last_name 张, first_name 三). */
static void contact_name(const char *first, const char *last, char *out, size_t size)
{
    if (first && last && ascii_only(first) && ascii_only(last))
        snprintf(out, size, "%s %s", first, last);
    else if (first && last)
        snprintf(out, size, "%s%s", last, first);
    else
        snprintf(out, size, "%s", first ? first : last ? last : "");
}

/* The case's title: the description's first line that is not blank,
 * trimmed, cut to CASE_TITLE_MAX characters at a character boundary. "" when
 * there is none (the case then takes the category's name). */
static void title_from(const char *description, char *out, size_t size)
{
    out[0] = '\0';
    const char *p = description;
    while (p && *p) {
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
            p++;
        const char *eol = p + strcspn(p, "\r\n");
        if (eol > p) {
            size_t o = 0;
            int chars = 0;
            for (const char *q = p; q < eol && chars < CASE_TITLE_MAX;) {
                size_t n = 1;
                while (q + n < eol && ((unsigned char)q[n] & 0xC0) == 0x80)
                    n++;
                if (o + n >= size)
                    break;
                for (size_t k = 0; k < n; k++)
                    out[o++] = q[k] == '\t' ? ' ' : q[k];
                q += n;
                chars++;
            }
            while (o && out[o - 1] == ' ')
                o--;
            out[o] = '\0';
            return;
        }
        p = eol;
    }
}

/* The location: lat and long (or lon), and/or address_string. Adds field
 * errors; address_id alone is not understood here. */
static void location(struct http_request *req, const struct form *form, struct case_in *in,
                     struct linli_err *err)
{
    const char *lat = param(req, form, "lat");
    const char *lon = param(req, form, "long");
    if (!lon)
        lon = param(req, form, "lon");
    in->address = param(req, form, "address_string");
    if (lat || lon) {
        char *end;
        in->point.lat = lat ? strtod(lat, &end) : NAN;
        if (!lat || *end || !isfinite(in->point.lat))
            linli_field(err, "point.lat",
                        lat ? "must be a number (WGS-84 degrees)" : "is required with long");
        in->point.lon = lon ? strtod(lon, &end) : NAN;
        if (!lon || *end || !isfinite(in->point.lon))
            linli_field(err, "point.lon",
                        lon ? "must be a number (WGS-84 degrees)" : "is required with lat");
        in->has_point = true;
    } else if (!in->address) {
        if (param(req, form, "address_id"))
            linli_field(err, "address_id",
                        "is not supported by this endpoint: send lat and long, or "
                        "address_string");
        else
            linli_field(err, "point", "a location is required: lat and long, or address_string");
    }
}

/* "诉求已登记，编号 …；将于 … 前响应。" with the response deadline in Beijing time. */
static void service_notice(const struct case_record *c, char *out, size_t size)
{
    char due[32] = "";
    if (c->response_due_at > 0) {
        time_t t = (time_t)(c->response_due_at / 1000 + OPEN311_UTC_OFFSET_S);
        struct tm tm;
        if (gmtime_r(&t, &tm))
            strftime(due, sizeof due, "%Y-%m-%d %H:%M", &tm);
    }
    if (due[0])
        snprintf(out, size, "诉求已登记，编号 %s；将于 %s 前响应。", c->number, due);
    else
        snprintf(out, size, "诉求已登记，编号 %s。", c->number);
}

/* ---- the request ---- */

void open311__post_request(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    int fmt = open311__format(req->path, NULL, 0);
    if (fmt < 0)
        fmt = OPEN311_JSON;
    if (!form_body_ok(req)) {
        open311__error(req, fmt, 400,
                       "The body must be form-encoded (application/x-www-form-urlencoded).");
        return;
    }
    struct form *form = arena_alloc(&req->arena, sizeof *form);
    if (!form) {
        http_respond(req, 500, "text/plain; charset=utf-8", "out of memory\n", 14);
        return;
    }
    if (form_parse(req, fmt, form) ||
        open311__jurisdiction(a, req, fmt, param(req, form, "jurisdiction_id")))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    struct open311_client client;
    if (open311_clients_check(a->d, param(req, form, "api_key"), &client, &err)) {
        open311__fail(req, fmt, &err);
        return;
    }
    const char *code = param(req, form, "service_code");
    if (!code) {
        open311__error(req, fmt, 400, "service_code: is required");
        return;
    }
    struct case_category cat;
    int rc = case_categories_get(a->d, code, &cat, &err);
    if (rc == LINLI_ENOTFOUND || (!rc && !cat.active)) {
        open311__error(req, fmt, 400, "service_code not found: %.64s", code);
        return;
    }
    if (rc) {
        open311__fail(req, fmt, &err);
        return;
    }

    /* Every other problem is reported together. */
    struct linli_err bad;
    linli_err_clear(&bad);
    struct case_in in = {.channel = "open311", .category = cat.code, .client = client.name};
    location(req, form, &in, &bad);
    json_t *defs = json_loads(cat.attributes, 0, NULL);
    in.attributes = form_attributes(form, defs, &bad);
    json_decref(defs);
    const char *description = param(req, form, "description");
    char title[CASE_TEXT_SIZE(CASE_TITLE_MAX)];
    title_from(description, title, sizeof title);
    in.description = description;
    in.title = title[0] ? title : NULL;
    char name[512]; /* longer than any name allowed: cases_create refuses a long one */
    contact_name(param(req, form, "first_name"), param(req, form, "last_name"), name, sizeof name);
    in.contact_name = name[0] ? name : NULL;
    in.contact_phone = param(req, form, "phone");
    in.contact_email = param(req, form, "email");
    const char *media_url = param(req, form, "media_url");
    const char *why;
    if (media_url && open311_media_url_check(media_url, &why))
        linli_field(&bad, "media_url", "%s", why);
    if (bad.nfields) {
        json_decref(in.attributes);
        open311__fail(req, fmt, &bad);
        return;
    }

    struct principal who;
    principal_system(&who, req->ip);
    snprintf(who.username, sizeof who.username, "open311:%.55s", client.name);
    snprintf(who.request_id, sizeof who.request_id, "%s", req->id_text);
    struct case_record *c = malloc(sizeof *c);
    rc = c ? cases_create(a->d, &who, &in, NULL, c, NULL, &err)
           : linli_fail(&err, LINLI_ENOMEM, "Out of memory.");
    json_decref(in.attributes);
    if (rc) {
        free(c);
        open311__fail(req, fmt, &err);
        return;
    }
    /* The case is made: a media URL that cannot be recorded is logged, not
     * answered as a failure the client would retry into a second case. */
    struct linli_err merr;
    linli_err_clear(&merr);
    if (media_url && open311_media_set(a->d, c->id, client.id, media_url, &merr))
        log_warn("open311: req=%s case %lld: media_url not recorded: %s", req->id_text,
                 (long long)c->id, merr.detail);
    char notice[256], id[24];
    service_notice(c, notice, sizeof notice);
    snprintf(id, sizeof id, "%lld", (long long)c->id);
    json_t *item = json_pack("{s:s, s:s, s:n, s:s}", "service_request_id", id, "service_notice",
                             notice, "account_id", "token", c->number);
    free(c);
    json_t *list = json_array();
    json_array_append_new(list, item);
    open311__respond(req, fmt, 200, "service_requests", list);
}
