/* devices_intake.c - the devices' events: signature, replay window, the
 * event's shape, and what each event does (devices_intake), with the event
 * kinds' and keys' names. What the intake keeps in memory (secrets,
 * subscriptions in force, heartbeat state) is devices_memory.c. */
#include "domain/devices.h"

#include "base/clock.h"
#include "base/jx.h"
#include "base/log.h"
#include "domain/calls.h"
#include "domain/care.h"
#include "domain/devices_internal.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TIMESTAMP_MAX 12           /* digits of a Unix time in seconds */
#define AT_MAX_S      4102444800LL /* 2100-01-01: a device clock beyond is wrong */

static const char *const door_names[2] = {"http", "mqtt"};

static int64_t col_i64(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, i);
}

/* ---- names ---- */

static const char *const kind_names[DEV_KINDS] = {
    "key", "heartbeat", "low_battery", "fall", "no_activity", "checkin", "location", "cancel"};
static const char *const key_names[KEY_COUNT] = {"emergency", "health", "service", "fire",
                                                 "family"};

const char *device_event_kind_name(int kind)
{
    return kind >= 0 && kind < DEV_KINDS ? kind_names[kind] : "unknown";
}

int device_event_kind_parse(const char *text, int *kind)
{
    for (int i = 0; text && i < DEV_KINDS; i++)
        if (!strcmp(text, kind_names[i])) {
            *kind = i;
            return 0;
        }
    return -1;
}

const char *device_key_name(int key)
{
    return key >= 0 && key < KEY_COUNT ? key_names[key] : "?";
}

int device_key_parse(const char *text, int *key)
{
    for (int i = 0; text && i < KEY_COUNT; i++)
        if (!strcmp(text, key_names[i])) {
            *key = i;
            return 0;
        }
    return -1;
}

bool devices__serial_ok(const char *s)
{
    size_t n = 0;
    for (; s && s[n]; n++) {
        char c = s[n];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return false;
        if (n >= DEVICE_SERIAL_MAX)
            return false;
    }
    return n > 0;
}

/* ---- signatures ---- */

static void mac_compute(const unsigned char key[DEVICE_SECRET_BYTES], const char *timestamp,
                        const char *body, size_t len, unsigned char out[32])
{
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key, DEVICE_SECRET_BYTES);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)timestamp, strlen(timestamp));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
    crypto_auth_hmacsha256_final(&st, out);
    sodium_memzero(&st, sizeof st);
}

void devices_sign(const char *secret_hex, const char *timestamp, const char *body, size_t len,
                  char out[65])
{
    unsigned char key[DEVICE_SECRET_BYTES], mac[32];
    size_t got = 0;
    memset(key, 0, sizeof key);
    sodium_hex2bin(key, sizeof key, secret_hex, strlen(secret_hex), NULL, &got, NULL);
    mac_compute(key, timestamp ? timestamp : "", body ? body : "", len, mac);
    sodium_bin2hex(out, 65, mac, sizeof mac);
    sodium_memzero(key, sizeof key);
}

/* 0 when `signature` is the MAC of the event under `key`. */
static int signature_check(const unsigned char key[DEVICE_SECRET_BYTES], const char *timestamp,
                           const char *signature, const char *body, size_t len)
{
    unsigned char want[32], got[32];
    size_t n = 0;
    if (!signature || strlen(signature) != 64 ||
        sodium_hex2bin(got, sizeof got, signature, 64, NULL, &n, NULL) != 0 || n != sizeof got)
        return -1;
    mac_compute(key, timestamp, body, len, want);
    return sodium_memcmp(want, got, sizeof want);
}

/* 0 and *secs for 1..TIMESTAMP_MAX decimal digits. */
static int timestamp_parse(const char *t, int64_t *secs)
{
    size_t n = t ? strlen(t) : 0;
    if (n == 0 || n > TIMESTAMP_MAX)
        return -1;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (t[i] < '0' || t[i] > '9')
            return -1;
        v = v * 10 + (t[i] - '0');
    }
    *secs = v;
    return 0;
}

/* ---- the event ---- */

static const struct jx_field event_fields[] = {
    {"event_id", JX_STRING, true, false, DEVICE_EVENT_ID_MAX},
    {"type", JX_STRING, true, false, 16},
    {"key", JX_STRING, false, false, 16},
    {"at", JX_INT, false, false, 0},
    {"battery", JX_INT, false, false, 0},
    {"signal", JX_INT, false, false, 0},
    {"lat", JX_NUMBER, false, false, 0},
    {"lon", JX_NUMBER, false, false, 0},
    {"crs", JX_STRING, false, false, 8},
    {"hours", JX_INT, false, false, 0},
};

static bool event_id_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > DEVICE_EVENT_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7E)
            return false;
    return true;
}

static bool field_has(const struct linli_err *err, const char *field)
{
    for (int i = 0; i < err->nfields; i++)
        if (!strcmp(err->fields[i].field, field))
            return true;
    return false;
}

/* Checks the body of an event and fills `ev`. 0, or EINVAL with one field
 * error per problem. ev->kind and ev->event_id are set as soon as known. */
static int event_parse(const char *body, size_t len, struct devices__event *ev,
                       struct linli_err *err)
{
    memset(ev, 0, sizeof *ev);
    ev->kind = ev->key = -1;
    ev->battery = DEVICE_BATTERY_UNKNOWN;
    ev->signal = DEVICE_SIGNAL_UNKNOWN;
    json_t *o = jx_parse_object(body, len, err);
    if (!o)
        return LINLI_EINVAL;
    jx_check(o, event_fields, sizeof event_fields / sizeof event_fields[0], err);
    const char *id = jx_str(o, "event_id");
    if (id && json_is_string(json_object_get(o, "event_id"))) {
        if (event_id_ok(id))
            snprintf(ev->event_id, sizeof ev->event_id, "%s", id);
        else if (!field_has(err, "event_id"))
            linli_field(err, "event_id", "must be 1 to %d visible ASCII characters",
                        DEVICE_EVENT_ID_MAX);
    }
    const char *type = json_is_string(json_object_get(o, "type")) ? jx_str(o, "type") : NULL;
    if (type && device_event_kind_parse(type, &ev->kind))
        linli_field(err, "type",
                    "must be key, heartbeat, low_battery, fall, no_activity, checkin, location "
                    "or cancel");
    json_t *key = json_object_get(o, "key");
    if (ev->kind == DEV_KEY && !key)
        linli_field(err, "key", "is required for a key press");
    else if (key && ev->kind >= 0 && ev->kind != DEV_KEY)
        linli_field(err, "key", "is only for type key");
    else if (json_is_string(key) && device_key_parse(json_string_value(key), &ev->key))
        linli_field(err, "key", "must be emergency, health, service, fire or family");
    json_t *v;
    if ((v = json_object_get(o, "at")) && json_is_integer(v)) {
        json_int_t at = json_integer_value(v);
        if (at < 1 || at > AT_MAX_S)
            linli_field(err, "at", "must be Unix seconds between 1970 and 2100");
        else
            ev->at_ms = (int64_t)at * 1000;
    }
    if ((v = json_object_get(o, "battery")) && json_is_integer(v)) {
        json_int_t b = json_integer_value(v);
        if (b < 0 || b > 100)
            linli_field(err, "battery", "must be a percentage from 0 to 100");
        ev->has_battery = true;
        ev->battery = (int)(b < 0 ? 0 : b > 100 ? 100 : b);
    }
    if ((v = json_object_get(o, "signal")) && json_is_integer(v)) {
        json_int_t s = json_integer_value(v);
        if (s < DEVICE_SIGNAL_MIN || s > DEVICE_SIGNAL_MAX)
            linli_field(err, "signal", "must be dBm from %d to %d", DEVICE_SIGNAL_MIN,
                        DEVICE_SIGNAL_MAX);
        ev->has_signal = true;
        ev->signal = (int)(s < DEVICE_SIGNAL_MIN   ? DEVICE_SIGNAL_MIN
                           : s > DEVICE_SIGNAL_MAX ? DEVICE_SIGNAL_MAX
                                                   : s);
    }
    json_t *lat = json_object_get(o, "lat"), *lon = json_object_get(o, "lon");
    if (lat && !lon)
        linli_field(err, "lon", "is required with lat");
    else if (lon && !lat)
        linli_field(err, "lat", "is required with lon");
    else if (json_is_number(lat) && json_is_number(lon)) {
        double la = json_number_value(lat), lo = json_number_value(lon);
        bool ok = true;
        if (!(la >= -90 && la <= 90)) {
            linli_field(err, "lat", "must be degrees from -90 to 90");
            ok = false;
        }
        if (!(lo >= -180 && lo <= 180)) {
            linli_field(err, "lon", "must be degrees from -180 to 180");
            ok = false;
        }
        ev->has_location = ok;
        ev->location = (struct geo_point){.lat = la, .lon = lo};
    }
    if ((v = json_object_get(o, "crs")) && json_is_string(v)) {
        const char *crs = json_string_value(v);
        if (!lat)
            linli_field(err, "crs", "is only for a location (lat, lon)");
        else if (!strcmp(crs, "gcj02"))
            ev->location = geo_gcj02_to_wgs84(ev->location);
        else if (strcmp(crs, "wgs84"))
            linli_field(err, "crs", "must be wgs84 or gcj02");
    }
    if (ev->kind == DEV_LOCATION && !lat && !field_has(err, "lat"))
        linli_field(err, "lat", "is required for a location");
    if (ev->kind == DEV_LOCATION && !lon && !field_has(err, "lon"))
        linli_field(err, "lon", "is required for a location");
    v = json_object_get(o, "hours");
    if (ev->kind == DEV_NO_ACTIVITY && !v)
        linli_field(err, "hours", "is required for no_activity");
    else if (v && ev->kind >= 0 && ev->kind != DEV_NO_ACTIVITY)
        linli_field(err, "hours", "is only for type no_activity");
    else if (json_is_integer(v)) {
        json_int_t hrs = json_integer_value(v);
        if (hrs < 1 || hrs > 168)
            linli_field(err, "hours", "must be from 1 to 168");
        ev->hours = (int)(hrs < 1 ? 1 : hrs > 168 ? 168 : hrs);
    }
    if (err->nfields) {
        json_decref(o);
        if (!err->detail[0])
            snprintf(err->detail, sizeof err->detail, "The event is not valid.");
        return LINLI_EINVAL;
    }
    json_t *detail = json_object();
    if (ev->has_battery)
        json_object_set_new(detail, "battery", json_integer(ev->battery));
    if (ev->has_signal)
        json_object_set_new(detail, "signal", json_integer(ev->signal));
    if (ev->has_location) {
        json_object_set_new(detail, "lat", json_real(ev->location.lat));
        json_object_set_new(detail, "lon", json_real(ev->location.lon));
    }
    if (ev->hours)
        json_object_set_new(detail, "hours", json_integer(ev->hours));
    ev->detail = json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(detail);
    json_decref(o);
    return ev->detail ? LINLI_OK : linli_fail(err, LINLI_ENOMEM, "out of memory");
}

/* ---- durable events ---- */

struct event_job {
    const struct devices__view *v;
    const struct devices__event *ev;
    int door;
    int64_t now;
    /* out */
    bool duplicate;
    int64_t row, call_id, task_id;
};

static const char SQL_EVENT_FIND[] =
    "SELECT id, call_id FROM device_events WHERE device_id = ? AND event_id = ?";
static const char SQL_EVENT_INSERT[] =
    "INSERT INTO device_events (device_id, event_id, person_id, kind, key, detail, device_at,"
    " received_at, door, call_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id";

static int event_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct event_job *j = arg;
    const struct devices__event *ev = j->ev;
    sqlite3_stmt *st = store_stmt(c, SQL_EVENT_FIND, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, j->v->id);
    sqlite3_bind_text(st, 2, ev->event_id, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        j->duplicate = true;
        j->row = sqlite3_column_int64(st, 0);
        j->call_id = col_i64(st, 1);
        sqlite3_reset(st);
        return LINLI_OK;
    }
    if (rc != SQLITE_DONE)
        return store_fail(c, rc, "looking up a device event", err);
    if (!j->v->person_id)
        return linli_fail(err, LINLI_ECONFLICT,
                          "Device %lld has no subscription in force: nobody to help.",
                          (long long)j->v->id);
    const char *community = j->v->community[0] ? j->v->community : NULL;
    char dedupe[96];
    struct task_seed task = {.person_id = j->v->person_id,
                             .device_id = j->v->id,
                             .community_code = community,
                             .due_at = j->now,
                             .dedupe = dedupe};
    switch (ev->kind) {
    case DEV_KEY:
    case DEV_FALL: {
        bool urgent = ev->kind == DEV_FALL || ev->key == KEY_EMERGENCY || ev->key == KEY_FIRE;
        struct call_seed seed = {.person_id = j->v->person_id,
                                 .device_id = j->v->id,
                                 .community_code = community,
                                 .trigger =
                                     ev->kind == DEV_FALL ? "fall" : device_key_name(ev->key),
                                 .priority = urgent ? 0 : 1,
                                 .at = j->now};
        if ((rc = calls__insert(c, &seed, &j->call_id, err)))
            return rc;
        break;
    }
    case DEV_CANCEL:
        if ((rc = calls__cancel_in_job(c, j->v->id, j->now, &j->call_id, err)))
            return rc;
        break;
    case DEV_NO_ACTIVITY:
        snprintf(dedupe, sizeof dedupe, "noact:%lld:%s", (long long)j->v->id, ev->event_id);
        task.kind = TASK_NO_ACTIVITY;
        task.note = "The device reports no movement.";
        if ((rc = care__task_in_job(c, &task, &j->task_id, err)))
            return rc;
        break;
    case DEV_LOW_BATTERY:
        snprintf(dedupe, sizeof dedupe, "battery:%lld", (long long)j->v->id);
        task.kind = TASK_LOW_BATTERY;
        task.note = "The device reports a low battery.";
        if ((rc = care__task_in_job(c, &task, &j->task_id, err)))
            return rc;
        break;
    default: /* a check-in: the row is the whole of it */
        break;
    }
    if (!(st = store_stmt(c, SQL_EVENT_INSERT, err)))
        return err->status;
    sqlite3_bind_int64(st, 1, j->v->id);
    sqlite3_bind_text(st, 2, ev->event_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, j->v->person_id);
    sqlite3_bind_text(st, 4, device_event_kind_name(ev->kind), -1, SQLITE_STATIC);
    if (ev->kind == DEV_KEY)
        sqlite3_bind_text(st, 5, device_key_name(ev->key), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, ev->detail ? ev->detail : "{}", -1, SQLITE_TRANSIENT);
    if (ev->at_ms)
        sqlite3_bind_int64(st, 7, ev->at_ms);
    sqlite3_bind_int64(st, 8, j->now);
    sqlite3_bind_text(st, 9, door_names[j->door == DOOR_MQTT], -1, SQLITE_STATIC);
    if (j->call_id)
        sqlite3_bind_int64(st, 10, j->call_id);
    if ((rc = sqlite3_step(st)) != SQLITE_ROW)
        return store_fail(c, rc, "storing a device event", err);
    j->row = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return LINLI_OK;
}

/* A heartbeat's low battery, the first time: a maintenance task. */
struct battery_job {
    const struct devices__view *v;
    int battery;
    int64_t now;
    int64_t task_id;
};

static int battery_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct battery_job *j = arg;
    char dedupe[48], note[96];
    snprintf(dedupe, sizeof dedupe, "battery:%lld", (long long)j->v->id);
    snprintf(note, sizeof note, "The device's battery is at %d%%.", j->battery);
    struct task_seed task = {.kind = TASK_LOW_BATTERY,
                             .person_id = j->v->person_id,
                             .device_id = j->v->id,
                             .community_code = j->v->community[0] ? j->v->community : NULL,
                             .due_at = j->now,
                             .note = note,
                             .dedupe = dedupe};
    return care__task_in_job(c, &task, &j->task_id, err);
}

/* The task of a battery that has just gone low, as its own durable write
 * (rare: once per device until the battery is good again). */
static void low_battery_task(struct domain *d, struct devices_state *s, const char *serial,
                             const struct devices__view *v, int battery, int64_t now,
                             struct intake_result *out)
{
    struct battery_job bj = {v, battery, now, 0};
    struct linli_err err;
    linli_err_clear(&err);
    if (store_write(d->store, battery_job, &bj, &err)) {
        devices__unreport_battery(s, serial);
        if (err.status != LINLI_ESHUTDOWN)
            log_warn("device %s: cannot make its low-battery task: %s", serial, err.detail);
        return;
    }
    devices__low_battery_made(s);
    if (!out->task_id)
        out->task_id = bj.task_id;
    care_task_announce(d, bj.task_id);
}

int devices_intake(struct domain *d, int door, const char *serial, const char *timestamp,
                   const char *signature, const char *body, size_t len, struct intake_result *out,
                   struct linli_err *err)
{
    memset(out, 0, sizeof *out);
    out->kind = -1;
    door = door == DOOR_MQTT ? DOOR_MQTT : DOOR_HTTP;
    struct devices_state *s = devices__state(d);
    if (!s)
        return linli_fail(err, LINLI_ENOMEM, "Out of memory for the device intake.");
    int outcome = DEVICES__OUT_FAILED, rc;
    struct devices__event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = -1;
    struct devices__view v;
    memset(&v, 0, sizeof v);
    int64_t now = clock_now_ms(), ts;

    if (!serial || !*serial) {
        outcome = DEVICES__OUT_UNKNOWN_DEVICE;
        rc = linli_fail(err, LINLI_EUNAUTH, "The event names no device.");
        goto refused;
    }
    if (!devices__serial_ok(serial)) {
        outcome = DEVICES__OUT_UNKNOWN_DEVICE;
        rc = linli_fail(err, LINLI_EUNAUTH, "Unknown device: not a device serial.");
        goto refused;
    }
    if (len > DEVICE_BODY_MAX) {
        outcome = DEVICES__OUT_MALFORMED;
        rc = linli_fail(err, LINLI_ETOOBIG, "An event may be at most %d bytes.", DEVICE_BODY_MAX);
        goto refused;
    }
    if ((rc = devices__lookup(d, s, serial, now, &v, err)))
        goto refused;
    if (!v.known) {
        outcome = DEVICES__OUT_UNKNOWN_DEVICE;
        rc = linli_fail(err, LINLI_EUNAUTH, "Unknown device %s.", serial);
        goto refused;
    }
    if (v.retired) {
        outcome = DEVICES__OUT_UNKNOWN_DEVICE;
        rc = linli_fail(err, LINLI_EUNAUTH, "Device %s is retired.", serial);
        goto refused;
    }
    if (!signature || !*signature || !timestamp || !*timestamp) {
        outcome = DEVICES__OUT_BAD_SIGNATURE;
        rc = linli_fail(err, LINLI_EUNAUTH, "The event is not signed: it needs a %s.",
                        !timestamp || !*timestamp ? "timestamp" : "signature");
        goto refused;
    }
    if (timestamp_parse(timestamp, &ts)) {
        outcome = DEVICES__OUT_BAD_SIGNATURE;
        rc = linli_fail(err, LINLI_EUNAUTH, "The timestamp must be Unix seconds (digits only).");
        goto refused;
    }
    if (signature_check(v.secret, timestamp, signature, body ? body : "", body ? len : 0)) {
        outcome = DEVICES__OUT_BAD_SIGNATURE;
        rc = linli_fail(err, LINLI_EUNAUTH, "Bad signature for device %s.", serial);
        goto refused;
    }
    int64_t skew = ts - now / 1000;
    if (skew > DEVICE_REPLAY_WINDOW_S || skew < -DEVICE_REPLAY_WINDOW_S) {
        outcome = DEVICES__OUT_REPLAYED;
        rc = linli_fail(err, LINLI_EUNAUTH,
                        "The timestamp is %lld s from the server's clock; at most %d s is "
                        "accepted (a replay, or a device clock that is wrong).",
                        (long long)skew, DEVICE_REPLAY_WINDOW_S);
        goto refused;
    }
    if ((rc = event_parse(body ? body : "", body ? len : 0, &ev, err))) {
        outcome = rc == LINLI_EINVAL ? DEVICES__OUT_MALFORMED : DEVICES__OUT_FAILED;
        out->kind = ev.kind;
        snprintf(out->event_id, sizeof out->event_id, "%s", ev.event_id);
        goto refused;
    }
    out->kind = ev.kind;
    snprintf(out->event_id, sizeof out->event_id, "%s", ev.event_id);

    if (ev.kind == DEV_HEARTBEAT || ev.kind == DEV_LOCATION) {
        if (devices__update(s, serial, &ev, now))
            low_battery_task(d, s, serial, &v, ev.battery, now, out);
        devices__count(s, door, ev.kind, DEVICES__OUT_ACCEPTED);
        free(ev.detail);
        sodium_memzero(&v, sizeof v);
        return LINLI_OK;
    }

    struct event_job j = {.v = &v, .ev = &ev, .door = door, .now = now};
    if ((rc = store_write(d->store, event_job, &j, err))) {
        outcome = rc == LINLI_ECONFLICT ? DEVICES__OUT_NO_SUBSCRIPTION : DEVICES__OUT_FAILED;
        goto refused;
    }
    out->durable = true;
    out->duplicate = j.duplicate;
    out->event_row = j.row;
    out->call_id = j.call_id;
    out->task_id = j.duplicate ? 0 : j.task_id;
    if (!j.duplicate) {
        if ((ev.kind == DEV_KEY || ev.kind == DEV_FALL) && j.call_id)
            calls_enqueue(d, j.call_id);
        else if (ev.kind == DEV_CANCEL && j.call_id)
            calls_dequeue(d, j.call_id);
        if (j.task_id)
            care_task_announce(d, j.task_id);
    }
    if (devices__update(s, serial, &ev, now))
        low_battery_task(d, s, serial, &v, ev.battery, now, out); /* deduplicated by care */
    devices__count(s, door, ev.kind, j.duplicate ? DEVICES__OUT_DUPLICATE : DEVICES__OUT_ACCEPTED);
    free(ev.detail);
    sodium_memzero(&v, sizeof v);
    return LINLI_OK;

refused:
    free(ev.detail);
    sodium_memzero(&v, sizeof v);
    devices__count(s, door, ev.kind, outcome);
    if (outcome != DEVICES__OUT_FAILED || rc != LINLI_ESHUTDOWN)
        devices__refusal_log(s, door, serial, outcome, err);
    return rc;
}
