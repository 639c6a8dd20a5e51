/* api_events.c - GET /api/v1/events: the caller's live event stream
 * (server-sent events). Each event is sent only to those allowed to see it;
 * modules add their topics to event_visible() as they arrive. Browsers'
 * EventSource cannot set headers, so the token may also come as
 * ?access_token= on this route alone. */
#include "api/api.h"

#include "domain/auth.h"
#include "domain/people.h"
#include "domain/stations.h"

#include <string.h>

/* Staff see an event about an area when their scope holds it (admins: all). */
static bool area_event_visible(const struct principal *who, json_t *payload, const char *key)
{
    const char *code = json_string_value(json_object_get(payload, key));
    if (who->role == ROLE_ADMIN)
        return true;
    return code && area_within(who->scope, code);
}

/* Who sees which topic. Events carry ids and area codes, never personal
 * data: a console that wants the details reads them through the API, which
 * checks and audits as usual. */
static bool event_visible(const void *ctx, const char *topic, json_t *payload)
{
    const struct principal *who = ctx;
    if (!strncmp(topic, "console.", 8))
        return false; /* the operators' console stream carries these (api_calls.c) */
    if (!strncmp(topic, "user.", 5))
        return who->role == ROLE_ADMIN || who->role == ROLE_AUDITOR;
    if (!strncmp(topic, "system.", 7))
        return who->role == ROLE_ADMIN;
    if (!strcmp(topic, "person.created") || !strcmp(topic, "person.updated")) {
        const char *code = json_string_value(json_object_get(payload, "community_code"));
        return people_may_read(who->role) && code && people_visible(who, code);
    }
    if (!strncmp(topic, "people.", 7))
        return who->role == ROLE_ADMIN;
    if (!strcmp(topic, "station.created") || !strcmp(topic, "station.updated"))
        return stations_staff_role(who->role) && area_event_visible(who, payload, "area_code");
    if (!strncmp(topic, "station.", 8) || !strncmp(topic, "support_team.", 13))
        return stations_staff_role(who->role);
    if (!strncmp(topic, "area.", 5))
        return stations_staff_role(who->role) && area_event_visible(who, payload, "code");
    if (!strncmp(topic, "case.", 5)) {
        /* Staff whose scope holds the case's area or its unit; the reporter. */
        json_int_t reporter = json_integer_value(json_object_get(payload, "reporter_user_id"));
        if (reporter > 0 && reporter == who->user_id)
            return true;
        return who->role == ROLE_AUDITOR || (stations_staff_role(who->role) &&
                                             (area_event_visible(who, payload, "area_code") ||
                                              area_event_visible(who, payload, "unit_code") ||
                                              area_event_visible(who, payload, "escalated_to")));
    }
    /* Call and task summaries: staff whose scope holds the community (a call
     * or task of no community: admins), and auditors. */
    if (!strncmp(topic, "call.", 5) || !strncmp(topic, "task.", 5))
        return who->role == ROLE_AUDITOR || (stations_staff_role(who->role) &&
                                             area_event_visible(who, payload, "community_code"));
    /* The directory is public: staff pages follow its changes. */
    if (!strncmp(topic, "facility.", 9) || !strncmp(topic, "service.", 8))
        return stations_staff_role(who->role);
    return false;
}

static bool revoked_matches(const void *ctx, void *arg)
{
    const struct principal *who = ctx;
    json_t *ev = arg;
    const char *session = json_string_value(json_object_get(ev, "session"));
    const char *except = json_string_value(json_object_get(ev, "except_session"));
    return who->user_id == json_integer_value(json_object_get(ev, "user_id")) &&
           (!session || !strcmp(session, who->session)) &&
           (!except || strcmp(except, who->session) != 0);
}

void api_events_on_bus(struct sse_hub *hub, const char *topic, json_t *payload)
{
    /* A stream lives only as long as the session it was opened with. */
    if (!strcmp(topic, "auth.revoked")) {
        sse_close_where(hub, revoked_matches, payload);
        return;
    }
    sse_broadcast(hub, topic, payload);
}

static void events(struct http_request *req, void *ctx)
{
    struct api *a = ctx;
    struct principal who;
    if (api_query(req, (const char *const[]){"access_token", NULL}))
        return;
    const char *qt = http_query(req, "access_token");
    if (qt && !http_header(req, "Authorization")) {
        struct linli_err err;
        linli_err_clear(&err);
        memset(&who, 0, sizeof who);
        if (auth_authenticate(a->d, qt, &who, NULL, &err)) {
            api_error(req, &err);
            return;
        }
        snprintf(who.ip, sizeof who.ip, "%s", req->ip);
    } else if (api_auth(a, req, &who)) {
        return;
    }
    struct linli_err err;
    linli_err_clear(&err);
    if (sse_open(a->hub, req, &who, &err))
        api_error(req, &err);
}

int api_events_routes(struct api *a)
{
    int rc = http_route(a->http, "GET", "/api/v1/events", events, a);
    return rc < 0 ? rc : 0;
}

sse_filter api_event_filter(void)
{
    return event_visible;
}
