/* bus.h - the in-process event bus. Domain modules publish an event after
 * the write it describes has committed; live consoles and the scheduler
 * subscribe. Delivery is synchronous on the publisher's thread, so a
 * subscriber must be quick (queue the event and return). */
#ifndef LINLI_BUS_H
#define LINLI_BUS_H

#include <jansson.h>

/* `payload` is borrowed: take a reference (json_incref) to keep it. */
typedef void (*bus_handler)(const char *topic, json_t *payload, void *ctx);

struct bus;

struct bus *bus_new(void);
void bus_free(struct bus *bus);

/* Subscribes to every topic that starts with `prefix` ("" for all).
 * Returns a positive subscription id, or a negative status. */
int bus_subscribe(struct bus *bus, const char *prefix, bus_handler fn, void *ctx);
/* After it returns, the handler is not running and will not be called again. */
void bus_unsubscribe(struct bus *bus, int id);
/* Calls every matching handler; returns how many were called. */
int bus_publish(struct bus *bus, const char *topic, json_t *payload);

#endif
