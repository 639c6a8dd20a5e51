/* cases_json.c - the API's JSON shapes of cases, their events, categories,
 * units and routing rules. What a reader may see was decided when the record
 * was read (case_record.view); this file only leaves out what that view
 * blanked, so a reduced record never leaks through a field left empty. */
#include "domain/cases.h"

#include "base/clock.h"

#include <stdio.h>
#include <string.h>

static json_t *time_json(int64_t ms)
{
    if (!ms)
        return json_null();
    char t[32];
    return json_string(clock_format_rfc3339(ms, t, sizeof t));
}

static json_t *text_or_null(const char *s)
{
    return s[0] ? json_string(s) : json_null();
}

static json_t *parsed(const char *text, const char *fallback)
{
    json_t *v = json_loads(text && *text ? text : fallback, JSON_DECODE_ANY, NULL);
    return v ? v : json_loads(fallback, JSON_DECODE_ANY, NULL);
}

static json_t *photo_json(int64_t case_id, const struct case_photo *p)
{
    char url[128];
    snprintf(url, sizeof url, "/api/v1/cases/%lld/photos/%s", (long long)case_id, p->hash);
    return json_pack("{s:s, s:s, s:I, s:i, s:i, s:o, s:s}", "hash", p->hash, "type", p->type,
                     "size", (json_int_t)p->size, "width", p->width, "height", p->height,
                     "added_at", time_json(p->added_at), "url", url);
}

static json_t *link_json(const struct case_unit_link *l)
{
    json_t *o = json_pack("{s:s, s:s, s:o}", "unit", l->unit, "link", case_link_name(l->link),
                          "linked_at", time_json(l->linked_at));
    if (l->link == LINK_SUMMONED) {
        json_object_set_new(o, "due_at", time_json(l->due_at));
        json_object_set_new(o, "reported_at", time_json(l->reported_at));
        json_object_set_new(o, "late", json_boolean(l->late || (l->reported_at > l->due_at)));
    }
    return o;
}

json_t *case_event_to_json(const struct case_event *e, int view)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(e->id));
    json_object_set_new(o, "case_id", json_integer(e->case_id));
    json_object_set_new(o, "at", time_json(e->at));
    json_object_set_new(o, "kind", json_string(e->kind));
    json_object_set_new(o, "state", json_string(case_state_name(e->state)));
    if (view == CASE_VIEW_FULL) {
        json_object_set_new(
            o, "actor",
            e->actor_user_id
                ? json_pack("{s:I, s:s}", "id", (json_int_t)e->actor_user_id, "name", e->actor_name)
                : json_null());
    }
    json_object_set_new(o, "unit", text_or_null(e->actor_unit));
    json_object_set_new(o, "note", text_or_null(e->note));
    json_object_set_new(o, "public", json_boolean(e->public_note));
    json_object_set_new(o, "detail", parsed(e->detail, "{}"));
    return o;
}

json_t *case_to_json(const struct case_record *c, const struct case_event *events, int nevents)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(c->id));
    json_object_set_new(o, "number", json_string(c->number));
    json_object_set_new(o, "channel", json_string(case_channel_name(c->channel)));
    json_object_set_new(o, "category", json_string(c->category));
    json_object_set_new(o, "title", json_string(c->title));
    json_object_set_new(o, "state", json_string(case_state_name(c->state)));
    json_object_set_new(o, "status", json_string(case_state_open311(c->state)));
    json_object_set_new(o, "priority", json_string(case_priority_name(c->priority)));
    json_object_set_new(o, "point",
                        c->has_point
                            ? json_pack("{s:f, s:f}", "lat", c->point.lat, "lon", c->point.lon)
                            : json_null());
    json_object_set_new(o, "address", json_string(c->address));
    json_object_set_new(o, "area_code", text_or_null(c->area_code));
    json_object_set_new(o, "area_from_point", json_boolean(c->area_from_point));
    json_object_set_new(o, "created_at", time_json(c->created_at));
    json_object_set_new(o, "updated_at", time_json(c->updated_at));
    if (c->view == CASE_VIEW_NEARBY) {
        json_object_set_new(o, "distance_m", json_real((double)(int64_t)(c->distance_m * 10) / 10));
        return o;
    }
    json_object_set_new(o, "description", json_string(c->description));
    json_object_set_new(o, "unit_code", json_string(c->unit_code));
    json_object_set_new(o, "escalated_to", text_or_null(c->escalated_to));
    json_object_set_new(o, "escalations", json_integer(c->escalations));
    json_t *units = json_array();
    for (int i = 0; i < c->nunits; i++)
        json_array_append_new(units, link_json(&c->units[i]));
    json_object_set_new(o, "units", units);
    json_object_set_new(o, "deadline_class", json_string(deadline_class_name(c->deadline_class)));
    json_object_set_new(o, "response_due_at", time_json(c->response_due_at));
    json_object_set_new(o, "resolve_due_at", time_json(c->resolve_due_at));
    json_object_set_new(o, "flags",
                        json_pack("{s:b, s:b, s:b, s:b}", "response_due_soon",
                                  (c->flags & CASE_FLAG_RESPONSE_DUE_SOON) != 0, "response_overdue",
                                  (c->flags & CASE_FLAG_RESPONSE_OVERDUE) != 0, "resolve_due_soon",
                                  (c->flags & CASE_FLAG_RESOLVE_DUE_SOON) != 0, "resolve_overdue",
                                  (c->flags & CASE_FLAG_RESOLVE_OVERDUE) != 0));
    json_object_set_new(o, "accepted_at", time_json(c->accepted_at));
    json_object_set_new(o, "resolved_at", time_json(c->resolved_at));
    json_object_set_new(o, "closed_at", time_json(c->closed_at));
    json_object_set_new(o, "resolutions", json_integer(c->resolutions));
    json_object_set_new(
        o, "rating",
        c->rating >= 0 ? json_pack("{s:s, s:s, s:i}", "rating", case_rating_name(c->rating),
                                   "comment", c->rating_comment, "resolution", c->rated_resolution)
                       : json_null());
    json_object_set_new(o, "duplicate_of",
                        c->duplicate_of ? json_integer(c->duplicate_of) : json_null());
    json_object_set_new(o, "reason", text_or_null(c->reason));
    json_object_set_new(o, "attributes", parsed(c->attributes, "{}"));
    json_t *photos = json_array();
    for (int i = 0; i < c->nphotos; i++)
        json_array_append_new(photos, photo_json(c->id, &c->photos[i]));
    json_object_set_new(o, "photos", photos);
    json_t *rep = json_object();
    json_object_set_new(rep, "public", json_boolean(c->reporter_public));
    json_object_set_new(rep, "name", text_or_null(c->reporter_name));
    if (c->view == CASE_VIEW_FULL) {
        json_object_set_new(rep, "user_id",
                            c->reporter_user_id ? json_integer(c->reporter_user_id) : json_null());
        json_object_set_new(rep, "contact_name", text_or_null(c->contact_name));
        json_object_set_new(rep, "contact_phone", text_or_null(c->contact_phone));
        json_object_set_new(rep, "contact_email", text_or_null(c->contact_email));
        json_object_set_new(o, "client", text_or_null(c->client));
        json_object_set_new(o, "recorded_by",
                            c->recorded_by ? json_integer(c->recorded_by) : json_null());
    }
    json_object_set_new(o, "reporter", rep);
    if (events) {
        json_t *arr = json_array();
        for (int i = 0; i < nevents; i++)
            json_array_append_new(arr, case_event_to_json(&events[i], c->view));
        json_object_set_new(o, "events", arr);
    }
    return o;
}

json_t *case_category_to_json(const struct case_category *c)
{
    json_t *o = json_object();
    json_object_set_new(o, "code", json_string(c->code));
    json_object_set_new(o, "name_zh", json_string(c->name_zh));
    json_object_set_new(o, "name_en", json_string(c->name_en));
    json_object_set_new(o, "description", json_string(c->description));
    json_object_set_new(o, "group", text_or_null(c->group));
    json_object_set_new(o, "deadline_class", json_string(deadline_class_name(c->deadline_class)));
    json_object_set_new(o, "response_minutes", json_integer(c->response_minutes));
    json_object_set_new(o, "resolve_minutes", json_integer(c->resolve_minutes));
    json_object_set_new(o, "active", json_boolean(c->active));
    json_object_set_new(o, "attributes", parsed(c->attributes, "[]"));
    json_object_set_new(o, "created_at", time_json(c->created_at));
    json_object_set_new(o, "updated_at", time_json(c->updated_at));
    return o;
}

json_t *case_unit_to_json(const struct case_unit *u)
{
    json_t *o = json_object();
    json_object_set_new(o, "code", json_string(u->code));
    json_object_set_new(o, "kind", json_string(unit_kind_name(u->kind)));
    json_object_set_new(o, "name_zh", json_string(u->name_zh));
    json_object_set_new(o, "name_en", text_or_null(u->name_en));
    json_object_set_new(o, "parent", text_or_null(u->parent));
    json_object_set_new(o, "members", json_integer(u->members));
    return o;
}

json_t *case_route_to_json(const struct case_route *r)
{
    json_t *co = json_array();
    for (int i = 0; i < r->nco; i++)
        json_array_append_new(co, json_string(r->co_units[i]));
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(r->id));
    json_object_set_new(o, "category", text_or_null(r->category));
    json_object_set_new(o, "area", text_or_null(r->area));
    json_object_set_new(o, "unit", json_string(r->unit));
    json_object_set_new(o, "co_units", co);
    json_object_set_new(o, "created_at", time_json(r->created_at));
    json_object_set_new(o, "retired_at", time_json(r->retired_at));
    return o;
}
