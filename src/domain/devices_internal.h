/* devices_internal.h - what devices.c (the register: devices and
 * subscriptions) and devices_intake.c (the doors' memory: secrets,
 * subscriptions in force, heartbeat state) share. Not for other modules. */
#ifndef LINLI_DEVICES_INTERNAL_H
#define LINLI_DEVICES_INTERNAL_H

#include "domain/devices.h"

#include <stdbool.h>
#include <stdint.h>

/* Changes made in this process reach the intake's memory at once
 * (devices__forget); changes made by another process (the linli command)
 * within this: the intake reads a stamp of the devices and subscriptions
 * tables this often, and an unknown serial is asked about again after it. */
#define DEVICE_CACHE_MS 2000

/* True for 1..DEVICE_SERIAL_MAX characters of [A-Za-z0-9_-]. */
bool devices__serial_ok(const char *s);

/* After a write to a device or its subscriptions committed: the next event
 * from `serial` reads them from the store again. */
void devices__forget(struct domain *d, const char *serial);

/* ---- the intake's memory (devices_memory.c) ---- */

enum devices__outcome {
    DEVICES__OUT_ACCEPTED,
    DEVICES__OUT_DUPLICATE,
    DEVICES__OUT_UNKNOWN_DEVICE,
    DEVICES__OUT_BAD_SIGNATURE,
    DEVICES__OUT_REPLAYED,
    DEVICES__OUT_MALFORMED,
    DEVICES__OUT_NO_SUBSCRIPTION,
    DEVICES__OUT_FAILED, /* the store failed or is stopping */
    DEVICES__OUTCOMES
};

/* What the intake needs of a device, copied out of memory. */
struct devices__view {
    bool known, retired;
    int64_t id;
    unsigned char secret[DEVICE_SECRET_BYTES];
    int64_t subscription_id, person_id; /* the subscription in force, 0 = none */
    char community[AREA_CODE_LEN + 1];  /* its person's */
};

/* An event as checked by the intake. */
struct devices__event {
    int kind, key; /* -1 = not known */
    char event_id[DEVICE_EVENT_ID_MAX + 1];
    int64_t at_ms;       /* the device's clock, 0 = not sent */
    int battery, signal; /* DEVICE_BATTERY_UNKNOWN / DEVICE_SIGNAL_UNKNOWN when not sent */
    bool has_battery, has_signal, has_location;
    struct geo_point location; /* WGS-84 */
    int hours;
    char *detail; /* malloc'd JSON of the fields kept with the event */
};

/* The intake's memory, made on first use (any thread). NULL only when out of memory. */
struct devices_state *devices__state(struct domain *d);

/* Fills `v` for `serial` from memory, or from the store when memory has
 * nothing fresh (v->known false: no such device). 0, or a negative status. */
int devices__lookup(struct domain *d, struct devices_state *s, const char *serial, int64_t now,
                    struct devices__view *v, struct linli_err *err);

/* Records what an authenticated event says about the device's state (last
 * seen, battery, signal, location) and marks it for the next flush. True
 * when the battery has just gone low and no task was made for it yet: the
 * caller makes one, or calls devices__unreport_battery when it cannot. */
bool devices__update(struct devices_state *s, const char *serial, const struct devices__event *ev,
                     int64_t now);
void devices__unreport_battery(struct devices_state *s, const char *serial);
void devices__low_battery_made(struct devices_state *s);

/* Counts an event by door, kind (-1 = not known) and outcome. */
void devices__count(struct devices_state *s, int door, int kind, int outcome);
/* One warning line per refusal, at most a few a second; the rest are counted. */
void devices__refusal_log(struct devices_state *s, int door, const char *serial, int outcome,
                          const struct linli_err *err);

/* Puts the heartbeat state held in memory (newer than the store's until the
 * next flush) over `dev` as read from the store. */
void devices__overlay(struct domain *d, struct device *dev);

#endif
