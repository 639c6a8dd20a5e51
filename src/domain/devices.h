/* devices.h - one-key-call devices, who carries them, and what they send.
 *
 * A device (a small box or pendant with five keys: emergency, health
 * consultation, elderly service, fire 119, family) is known by its serial
 * (IMEI) and holds a secret shared with the server. A subscription binds it
 * to a person from a start to an (optional) end.
 *
 * Events arrive through two doors that behave the same (devices_intake):
 * HTTP (POST /api/v1/device-events) and MQTT (src/intake/mqtt.c). Each is
 * signed: hex HMAC-SHA256 with the device's secret over
 * `timestamp + "." + body`, where timestamp is Unix seconds as sent and body
 * the exact bytes of the event JSON. A timestamp more than
 * DEVICE_REPLAY_WINDOW_S away from the server's clock is refused (replay);
 * an event id already stored for the device is a duplicate: answered as the
 * first time, never a second call.
 *
 * Heartbeats only update the device's state in memory (last seen, battery,
 * signal), flushed to the store in batches by devices_flush; every other
 * event is durable before devices_intake returns, together with what it
 * causes (a call for a key press or a fall; an urgent or maintenance task).
 *
 * Every refusal is logged and counted (devices_metrics_render). */
#ifndef LINLI_DEVICES_H
#define LINLI_DEVICES_H

#include "base/buf.h"
#include "domain/domain.h"
#include "domain/principal.h"
#include "geo/geo.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DEVICE_SERIAL_MAX      32 /* bytes: [A-Za-z0-9_-] */
#define DEVICE_TEXT_MAX        32 /* characters of model and firmware */
#define DEVICE_SECRET_BYTES    32
#define DEVICE_EVENT_ID_MAX    64   /* bytes: visible ASCII */
#define DEVICE_BODY_MAX        4096 /* bytes of one event */
#define DEVICE_REPLAY_WINDOW_S 300  /* how far a device's timestamp may be from ours */
#define DEVICE_LOW_BATTERY_PCT 20   /* a heartbeat at or below this is a low battery */
#define DEVICES_PAGE_MAX       500
#define DEVICES_FLUSH_MS       2000 /* how often linlid writes heartbeat state */

/* A device's last reported state. Signal is dBm from DEVICE_SIGNAL_MIN to
 * DEVICE_SIGNAL_MAX, so "never reported" is a value outside that range; a
 * battery is a percentage, unknown below 0. The store keeps NULL for both,
 * the API shows null. */
#define DEVICE_SIGNAL_MIN      (-150)
#define DEVICE_SIGNAL_MAX      0
#define DEVICE_SIGNAL_UNKNOWN  1
#define DEVICE_BATTERY_UNKNOWN (-1)
static inline bool device_signal_known(int dbm)
{
    return dbm >= DEVICE_SIGNAL_MIN && dbm <= DEVICE_SIGNAL_MAX;
}

enum device_event_kind {
    DEV_KEY,         /* a key press: `key` says which */
    DEV_HEARTBEAT,   /* battery, signal */
    DEV_LOW_BATTERY, /* the device says its battery is low */
    DEV_FALL,        /* fall detected */
    DEV_NO_ACTIVITY, /* no movement for `hours` */
    DEV_CHECKIN,     /* "I'm OK" */
    DEV_LOCATION,    /* lat, lon */
    DEV_CANCEL,      /* the caller hung up before an answer */
    DEV_KINDS
};
/* "key", "heartbeat", "low_battery", "fall", "no_activity", "checkin",
 * "location", "cancel". */
const char *device_event_kind_name(int kind);
int device_event_kind_parse(const char *text, int *kind);

enum device_key { KEY_EMERGENCY, KEY_HEALTH, KEY_SERVICE, KEY_FIRE, KEY_FAMILY, KEY_COUNT };
/* "emergency", "health", "service", "fire", "family". */
const char *device_key_name(int key);
int device_key_parse(const char *text, int *key);

struct device {
    int64_t id;
    char serial[DEVICE_SERIAL_MAX + 1];
    char model[DEVICE_TEXT_MAX * 4 + 1];
    char firmware[DEVICE_TEXT_MAX * 4 + 1];
    bool retired;
    int battery;          /* DEVICE_BATTERY_UNKNOWN = never reported */
    int signal;           /* DEVICE_SIGNAL_UNKNOWN = never reported */
    int64_t last_seen_at; /* ms, 0 = never */
    bool has_location;
    struct geo_point location; /* WGS-84 */
    int64_t located_at;
    int64_t person_id;       /* the current subscriber, 0 = none */
    int64_t subscription_id; /* the current subscription, 0 = none */
    int64_t created_at, updated_at;
};

struct device_in {
    const char *serial, *model, *firmware;
};

/* Who may manage devices and subscriptions: admin, district, street,
 * community staff (subscriptions: for people in their scope). */
bool devices_may_manage(enum role r);

/* Registers a device with a new random secret, returned once in
 * secret_hex (64 hex digits + NUL). ECONFLICT for a known serial. Audited. */
int devices_create(struct domain *d, const struct principal *who, const struct device_in *in,
                   struct device *out, char secret_hex[2 * DEVICE_SECRET_BYTES + 1],
                   struct linli_err *err);
/* Replaces the secret (the old one stops working at once). Audited. */
int devices_rotate_secret(struct domain *d, const struct principal *who, int64_t id,
                          char secret_hex[2 * DEVICE_SECRET_BYTES + 1], struct linli_err *err);
int devices_get(struct domain *d, const struct principal *who, int64_t id, struct device *out,
                struct linli_err *err);
int devices_list(struct domain *d, const struct principal *who, int64_t after_id, int limit,
                 struct device **items, int *n, int64_t *next, struct linli_err *err);

struct subscription {
    int64_t id, device_id, person_id;
    int64_t starts_at, ends_at; /* ms; ends_at 0 = open-ended */
    int64_t created_at, updated_at;
};

/* Binds a device to a person from starts_at (0 = now) to ends_at (0 = open).
 * A device has at most one subscription at a time (ECONFLICT on overlap);
 * the person must be in the caller's scope. Audited. */
int subscriptions_create(struct domain *d, const struct principal *who, int64_t device_id,
                         int64_t person_id, int64_t starts_at, int64_t ends_at,
                         struct subscription *out, struct linli_err *err);
/* Ends a subscription at `at` (0 = now). Audited. */
int subscriptions_end(struct domain *d, const struct principal *who, int64_t id, int64_t at,
                      struct subscription *out, struct linli_err *err);

/* ---- intake ---- */

enum device_door { DOOR_HTTP, DOOR_MQTT };

struct intake_result {
    int kind;                               /* enum device_event_kind, -1 = not known */
    char event_id[DEVICE_EVENT_ID_MAX + 1]; /* as sent, "" when the body was not read */
    bool duplicate;                         /* the event id was seen before: nothing new was done */
    bool durable;                           /* false for heartbeats */
    int64_t event_row;                      /* device_events.id, 0 for heartbeats */
    int64_t call_id; /* the call the event made (or made the first time), 0 = none */
    int64_t task_id; /* the task it made, 0 = none */
};

/* Checks and applies one signed event. `serial`, `timestamp` and
 * `signature` are as sent (header values, or the MQTT envelope's fields);
 * `body` the exact bytes signed. Refusals:
 *   EUNAUTH  unknown or retired device, bad or missing signature, timestamp
 *            outside the replay window (detail says which);
 *   EINVAL   body not a valid event (field errors: "event_id", "type",
 *            "key", "battery", "lat", ...);
 *   ECONFLICT the device has no subscription in force (events other than
 *            heartbeats and locations need a person).
 * A durable event is stored with what it causes in one transaction before
 * this returns 0. Thread-safe. */
int devices_intake(struct domain *d, int door, const char *serial, const char *timestamp,
                   const char *signature, const char *body, size_t len, struct intake_result *out,
                   struct linli_err *err);

/* Writes the heartbeat state gathered in memory since the last flush: the
 * devices that changed, in id order, a few thousand to a write job, so a
 * durable event never waits behind more than one of them. Rows whose job
 * failed stay pending for the next flush. The scheduler calls it every few
 * seconds and linlid once more at shutdown. */
int devices_flush(struct domain *d, struct linli_err *err);

/* Appends the intake's Prometheus series: events by door, kind and outcome
 * (accepted, duplicate, unknown_device, bad_signature, replayed, malformed,
 * no_subscription), and heartbeats pending a flush. */
void devices_metrics_render(struct domain *d, struct buf *out);

/* Frees the in-memory device state (after the last flush). */
void devices_close(struct domain *d);

/* Computes the signature a device would send (for tests, tools and the
 * demo's simulated devices): hex HMAC-SHA256 of timestamp "." body. */
void devices_sign(const char *secret_hex, const char *timestamp, const char *body, size_t len,
                  char out[65]);

#endif
