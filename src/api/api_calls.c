/* api_calls.c - /api/v1/calls (the call centre's calls, their queue,
 * answers, classification, actions and screen pop) and /api/v1/console
 * (the operator's presence and live console stream).
 *
 * The console stream has its own hub (struct api.console_hub) so that the
 * general /api/v1/events stream never carries console topics, and so that
 * the end of an operator's last console stream sets them away. */
#include "api/api.h"

#include "base/clock.h"
#include "domain/auth.h"
#include "domain/calls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NFIELDS(a) (sizeof(a) / sizeof((a)[0]))

static json_t *call_json(const struct call *c)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(c->id));
    json_object_set_new(o, "direction", json_string(c->outbound ? "outbound" : "inbound"));
    json_object_set_new(o, "person_id", c->person_id ? json_integer(c->person_id) : json_null());
    json_object_set_new(o, "device_id", c->device_id ? json_integer(c->device_id) : json_null());
    json_object_set_new(o, "community_code",
                        c->community_code[0] ? json_string(c->community_code) : json_null());
    json_object_set_new(o, "trigger", json_string(c->trigger));
    json_object_set_new(o, "priority", json_integer(c->priority));
    json_object_set_new(o, "urgent", json_boolean(c->priority == 0));
    json_object_set_new(o, "state", json_string(call_state_name(c->state)));
    json_object_set_new(o, "category",
                        c->category >= 0 ? json_string(call_category_name(c->category))
                                         : json_null());
    json_object_set_new(o, "category_label",
                        c->category >= 0 ? json_string(call_category_label(c->category))
                                         : json_null());
    json_object_set_new(o, "operator_id",
                        c->operator_id ? json_integer(c->operator_id) : json_null());
    json_object_set_new(o, "offered_to", c->offered_to ? json_integer(c->offered_to) : json_null());
    json_object_set_new(o, "created_at", api_time(c->created_at));
    json_object_set_new(o, "offered_at", api_time(c->offered_at));
    json_object_set_new(o, "answered_at", api_time(c->answered_at));
    json_object_set_new(o, "classified_at", api_time(c->classified_at));
    json_object_set_new(o, "closed_at", api_time(c->closed_at));
    json_object_set_new(o, "outcome", c->outcome[0] ? json_string(c->outcome) : json_null());
    return o;
}

/* ---- reads ---- */

static void calls_list_route(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    if (api_auth(a, req, &who) ||
        api_query(req, (const char *const[]){"state", "person_id", "from", "to", "limit", "cursor",
                                             NULL}))
        return;
    struct call_filter f = {.state = -1};
    if (api_page(a, req, CALLS_PAGE_MAX, &f.limit, &f.after_id))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    const char *v;
    if ((v = http_query(req, "state")) && call_state_parse(v, &f.state))
        linli_field(&err, "state",
                    "must be queued, offered, answered, classified, closed or abandoned");
    if ((v = http_query(req, "person_id"))) {
        char *end;
        long long id = strtoll(v, &end, 10);
        if (!*v || *end || id < 1)
            linli_field(&err, "person_id", "must be a positive whole number");
        else
            f.person_id = id;
    }
    if ((v = http_query(req, "from")) && clock_parse_rfc3339(v, &f.from_ms))
        linli_field(&err, "from", "must be a time in RFC 3339, e.g. 2026-11-25T08:00:00+08:00");
    if ((v = http_query(req, "to")) && clock_parse_rfc3339(v, &f.to_ms))
        linli_field(&err, "to", "must be a time in RFC 3339, e.g. 2026-11-26T08:00:00+08:00");
    if (!err.nfields && f.from_ms && f.to_ms && f.to_ms <= f.from_ms)
        linli_field(&err, "to", "must be after from");
    if (err.nfields) {
        http_respond_problem(req, 422, &err);
        return;
    }
    struct call *items;
    int n;
    int64_t next;
    if (calls_list(a->d, &who, &f, &items, &n, &next, &err)) {
        api_error(req, &err);
        return;
    }
    json_t *arr = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(arr, call_json(&items[i]));
    free(items);
    http_respond_json(req, 200, api_list(arr, next));
}

static void calls_queue_route(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    if (api_auth(a, req, &who) || api_query(req, (const char *const[]){NULL}))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    json_t *q;
    if (calls_queue(a->d, &who, &q, &err)) {
        api_error(req, &err);
        return;
    }
    http_respond_json(req, 200, json_pack("{s:o}", "items", q));
}

static void call_get_route(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    int64_t id;
    if (api_auth(a, req, &who) || api_query(req, (const char *const[]){NULL}) ||
        api_path_id(req, 0, &id))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    json_t *out;
    if (calls_get(a->d, &who, id, &out, &err)) {
        api_error(req, &err);
        return;
    }
    http_respond_json(req, 200, out);
}

static void call_pop_route(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    int64_t id;
    if (api_auth(a, req, &who) || api_query(req, (const char *const[]){NULL}) ||
        api_path_id(req, 0, &id))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    json_t *out;
    if (calls_screen_pop(a->d, &who, id, &out, &err)) {
        api_error(req, &err);
        return;
    }
    http_respond_json(req, 200, out);
}

/* ---- the operator's steps ---- */

/* Reads the call id and authenticates a POST without a body. */
static int step_start(struct api *a, struct http_request *req, struct principal *who, int64_t *id)
{
    return api_auth(a, req, who) || api_query(req, (const char *const[]){NULL}) ||
           api_path_id(req, 0, id);
}

static void call_answer_route(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    int64_t id;
    if (step_start(a, req, &who, &id))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    struct call c;
    if (calls_answer(a->d, &who, id, &c, &err)) {
        api_error(req, &err);
        return;
    }
    http_respond_json(req, 200, call_json(&c));
}

static void call_decline_route(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    int64_t id;
    if (step_start(a, req, &who, &id))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    if (calls_decline(a->d, &who, id, &err)) {
        api_error(req, &err);
        return;
    }
    json_t *out;
    if (calls_get(a->d, &who, id, &out, &err)) {
        api_error(req, &err);
        return;
    }
    http_respond_json(req, 200, out);
}

static const struct jx_field classify_fields[] = {
    {"category", JX_STRING, true, false, 32},
    {"note", JX_STRING, false, true, CALL_NOTE_MAX},
};

static void call_classify_route(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    int64_t id;
    if (step_start(a, req, &who, &id))
        return;
    json_t *body = api_body(req, classify_fields, NFIELDS(classify_fields));
    if (!body)
        return;
    struct linli_err err;
    linli_err_clear(&err);
    int category;
    if (call_category_parse(jx_str(body, "category"), &category)) {
        linli_field(&err, "category",
                    "must be health_consultation, convenience_service, emergency, fire, family, "
                    "false_alarm or other (or its Chinese label)");
        json_decref(body);
        http_respond_problem(req, 422, &err);
        return;
    }
    struct call c;
    int rc = calls_classify(a->d, &who, id, category, jx_str(body, "note"), &c, &err);
    json_decref(body);
    if (rc) {
        api_error(req, &err);
        return;
    }
    http_respond_json(req, 200, call_json(&c));
}

static const struct jx_field close_fields[] = {
    {"outcome", JX_STRING, false, true, CALL_NOTE_MAX},
};

static void call_close_route(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    int64_t id;
    if (step_start(a, req, &who, &id))
        return;
    json_t *body = api_body(req, close_fields, NFIELDS(close_fields));
    if (!body)
        return;
    struct linli_err err;
    linli_err_clear(&err);
    struct call c;
    int rc = calls_close(a->d, &who, id, jx_str(body, "outcome"), &c, &err);
    json_decref(body);
    if (rc) {
        api_error(req, &err);
        return;
    }
    http_respond_json(req, 200, call_json(&c));
}

/* ---- actions ---- */

static const struct jx_field action_fields[] = {
    {"kind", JX_STRING, true, false, 32},     {"facility_id", JX_INT, false, false, 0},
    {"service", JX_STRING, false, false, 64}, {"contact_position", JX_INT, false, false, 0},
    {"reached", JX_BOOL, false, false, 0},    {"target", JX_STRING, false, false, 8},
    {"due_at", JX_STRING, false, false, 40},  {"note", JX_STRING, false, true, CALL_NOTE_MAX},
};

static void action_add_route(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    int64_t id;
    if (step_start(a, req, &who, &id))
        return;
    json_t *body = api_body(req, action_fields, NFIELDS(action_fields));
    if (!body)
        return;
    struct linli_err err;
    linli_err_clear(&err);
    struct call_action_in in = {.kind = -1};
    if (call_action_kind_parse(jx_str(body, "kind"), &in.kind))
        linli_field(&err, "kind", "must be service_order, contact, escalation, follow_up or note");
    in.facility_id = jx_int(body, "facility_id", 0);
    in.service = jx_str(body, "service");
    int64_t pos = jx_int(body, "contact_position", 0);
    in.contact_position = pos > 0 && pos < 100 ? (int)pos : (pos ? -1 : 0);
    in.reached = jx_bool(body, "reached", 0) != 0;
    in.target = jx_str(body, "target");
    in.note = jx_str(body, "note");
    const char *due = jx_str(body, "due_at");
    if (due && clock_parse_rfc3339(due, &in.due_at))
        linli_field(&err, "due_at", "must be a time in RFC 3339, e.g. 2026-11-26T10:00:00+08:00");
    if (in.kind == ACTION_CONTACT && !jx_has(body, "reached"))
        linli_field(&err, "reached", "is required for a contact: was the contact reached?");
    if (err.nfields) {
        json_decref(body);
        http_respond_problem(req, 422, &err);
        return;
    }
    json_t *out;
    int rc = calls_add_action(a->d, &who, id, &in, &out, &err);
    json_decref(body);
    if (rc) {
        api_error(req, &err);
        return;
    }
    char path[64];
    snprintf(path, sizeof path, "calls/%lld/actions", (long long)id);
    api_created(req, path, json_integer_value(json_object_get(out, "id")), false, out);
}

static const struct jx_field action_patch_fields[] = {
    {"state", JX_STRING, true, false, 32},
    {"note", JX_STRING, false, true, CALL_NOTE_MAX},
};

static void action_patch_route(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    int64_t id, action_id;
    if (api_auth(a, req, &who) || api_query(req, (const char *const[]){NULL}) ||
        api_path_id(req, 0, &id) || api_path_id(req, 1, &action_id))
        return;
    json_t *body = api_body(req, action_patch_fields, NFIELDS(action_patch_fields));
    if (!body)
        return;
    struct linli_err err;
    linli_err_clear(&err);
    json_t *out;
    int rc = calls_update_action(a->d, &who, id, action_id, jx_str(body, "state"),
                                 jx_str(body, "note"), &out, &err);
    json_decref(body);
    if (rc) {
        api_error(req, &err);
        return;
    }
    http_respond_json(req, 200, out);
}

/* ---- presence ---- */

static json_t *presence_json(const struct principal *who, int state, int64_t since)
{
    return json_pack("{s:I, s:s, s:o}", "operator_id", (json_int_t)who->user_id, "state",
                     presence_name(state), "since", api_time(since));
}

static void presence_get_route(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    if (api_auth(a, req, &who) || api_query(req, (const char *const[]){NULL}))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    int state;
    int64_t since;
    if (calls_get_presence(a->d, &who, &state, &since, &err)) {
        api_error(req, &err);
        return;
    }
    http_respond_json(req, 200, presence_json(&who, state, since));
}

static const struct jx_field presence_fields[] = {
    {"state", JX_STRING, true, false, 16},
};

static void presence_put_route(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    if (api_auth(a, req, &who) || api_query(req, (const char *const[]){NULL}))
        return;
    json_t *body = api_body(req, presence_fields, NFIELDS(presence_fields));
    if (!body)
        return;
    struct linli_err err;
    linli_err_clear(&err);
    int state;
    if (presence_parse(jx_str(body, "state"), &state)) {
        json_decref(body);
        linli_field(&err, "state", "must be available, busy or away");
        http_respond_problem(req, 422, &err);
        return;
    }
    json_decref(body);
    int64_t since;
    if (calls_set_presence(a->d, &who, state, &err) ||
        calls_get_presence(a->d, &who, &state, &since, &err)) {
        api_error(req, &err);
        return;
    }
    http_respond_json(req, 200, presence_json(&who, state, since));
}

/* ---- the console stream ---- */

/* Which console events an operator (or admin) sees: offers and presence
 * meant for them, and queue, call and task changes in their scope. */
static bool console_visible(const void *ctx, const char *topic, json_t *payload)
{
    const struct principal *who = ctx;
    if (strncmp(topic, "console.", 8) != 0)
        return false;
    const char *t = topic + 8;
    if (!strcmp(t, "offer") || !strcmp(t, "presence") || !strcmp(t, "sync"))
        return json_integer_value(json_object_get(payload, "operator_id")) == who->user_id;
    if (!strcmp(t, "queue") || !strcmp(t, "call") || !strcmp(t, "task")) {
        if (who->role == ROLE_ADMIN)
            return true;
        const char *code = json_string_value(json_object_get(payload, "community_code"));
        return who->role == ROLE_OPERATOR && code && area_within(who->scope, code);
    }
    return false;
}

sse_filter api_console_filter(void)
{
    return console_visible;
}

static bool console_revoked(const void *ctx, void *arg)
{
    const struct principal *who = ctx;
    json_t *ev = arg;
    const char *session = json_string_value(json_object_get(ev, "session"));
    const char *except = json_string_value(json_object_get(ev, "except_session"));
    return who->user_id == json_integer_value(json_object_get(ev, "user_id")) &&
           (!session || !strcmp(session, who->session)) &&
           (!except || strcmp(except, who->session) != 0);
}

void api_console_on_bus(struct sse_hub *hub, const char *topic, json_t *payload)
{
    if (!strcmp(topic, "auth.revoked")) {
        sse_close_where(hub, console_revoked, payload);
        return;
    }
    if (!strncmp(topic, "console.", 8))
        sse_broadcast(hub, topic, payload);
}

/* The hub's close hook: an operator whose last console ended goes away. */
static void console_closed(const void *who, void *ctx)
{
    calls_console_closed(ctx, who);
}

static void console_events_route(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    if (api_query(req, (const char *const[]){"access_token", NULL}))
        return;
    struct linli_err err;
    linli_err_clear(&err);
    const char *qt = http_query(req, "access_token");
    if (qt && !http_header(req, "Authorization")) {
        /* EventSource cannot set headers: the token may come in the query. */
        memset(&who, 0, sizeof who);
        if (auth_authenticate(a->d, qt, &who, NULL, &err)) {
            api_error(req, &err);
            return;
        }
        snprintf(who.ip, sizeof who.ip, "%s", req->ip);
    } else if (api_auth(a, req, &who)) {
        return;
    }
    if (who.role != ROLE_OPERATOR && who.role != ROLE_ADMIN) {
        linli_fail(&err, LINLI_EFORBIDDEN, "The console is for operators.");
        api_error(req, &err);
        return;
    }
    if (!a->console_hub) {
        linli_fail(&err, LINLI_EBUSY, "The console is not available.");
        api_error(req, &err);
        return;
    }
    calls_console_opened(a->d, &who);
    if (sse_open(a->console_hub, req, &who, &err)) {
        calls_console_closed(a->d, &who);
        api_error(req, &err);
        return;
    }
    /* The first event puts a (re)connecting console in step: the queue it
     * may take from, the operator's presence, the call they are on and the
     * call ringing for them, with when it stops ringing. It goes to every
     * console of this operator, which is harmless: they all show the same. */
    int state = PRESENCE_AWAY;
    int64_t since = 0;
    json_t *queue = NULL;
    struct linli_err qerr;
    linli_err_clear(&qerr);
    int64_t current = 0, offer = 0, offer_expires_at = 0;
    calls_get_presence(a->d, &who, &state, &since, &qerr);
    calls_console_calls(a->d, &who, &current, &offer, &offer_expires_at, &qerr);
    if (calls_queue(a->d, &who, &queue, &qerr))
        queue = json_array();
    json_t *sync =
        json_pack("{s:I, s:s, s:o, s:o}", "operator_id", (json_int_t)who.user_id, "presence",
                  presence_name(state), "since", api_time(since), "queue", queue);
    json_object_set_new(sync, "current_call", current ? json_integer(current) : json_null());
    json_object_set_new(sync, "offer", offer ? json_integer(offer) : json_null());
    json_object_set_new(sync, "offer_expires_at", api_time(offer_expires_at));
    domain_publish(a->d, "console.sync", sync);
}

int api_calls_routes(struct api *a)
{
    static const struct {
        const char *method, *pattern;
        http_handler fn;
    } routes[] = {
        {"GET", "/api/v1/calls", calls_list_route},
        {"GET", "/api/v1/calls/queue", calls_queue_route},
        {"GET", "/api/v1/calls/{id}", call_get_route},
        {"GET", "/api/v1/calls/{id}/screen-pop", call_pop_route},
        {"POST", "/api/v1/calls/{id}/answer", call_answer_route},
        {"POST", "/api/v1/calls/{id}/decline", call_decline_route},
        {"POST", "/api/v1/calls/{id}/classify", call_classify_route},
        {"POST", "/api/v1/calls/{id}/close", call_close_route},
        {"POST", "/api/v1/calls/{id}/actions", action_add_route},
        {"PATCH", "/api/v1/calls/{id}/actions/{action_id}", action_patch_route},
        {"GET", "/api/v1/console/presence", presence_get_route},
        {"PUT", "/api/v1/console/presence", presence_put_route},
        {"GET", "/api/v1/console/events", console_events_route},
    };
    for (size_t i = 0; i < NFIELDS(routes); i++) {
        int rc = http_route(a->http, routes[i].method, routes[i].pattern, routes[i].fn, a);
        if (rc < 0)
            return rc;
    }
    if (a->console_hub && a->d)
        sse_hub_on_close(a->console_hub, console_closed, a->d);
    return 0;
}
