/* mqtt.h - the MQTT door for device events.
 *
 * linlid connects to a Mosquitto broker (--mqtt HOST:PORT) with a few
 * client connections sharing one subscription ($share/linli/linli/devices/+/events,
 * QoS 1), so events spread over several threads. Each message's payload is
 * the envelope
 *
 *   {"device": SERIAL, "timestamp": "UNIX-SECONDS", "signature": HEX, "body": "EVENT-JSON"}
 *
 * whose fields mean what the HTTP door's headers and body mean; the topic's
 * {id} must name the same device. Every message goes through
 * devices_intake. libmosquitto 2.0 sends the broker's acknowledgement
 * (PUBACK) of a QoS 1 message BEFORE it calls the message callback (seen on
 * 2.0.11: a client killed inside the callback is not sent the message again),
 * so a PUBACK does not mean durable. What does: the device receives, on
 * linli/devices/{id}/acks, {"event_id", "status", "call_id"} once its durable
 * event is committed, so a device that retries until it sees that answer
 * loses nothing (a retry with the same event id is a duplicate, never a
 * second call). */
#ifndef LINLI_MQTT_H
#define LINLI_MQTT_H

#include "base/buf.h"
#include "base/status.h"
#include "domain/domain.h"

struct mqtt_intake;

/* Connects `clients` (1..16) connections to `hostport` and subscribes.
 * Returns NULL with err filled when the broker cannot be reached at start;
 * later disconnections are retried with backoff and logged. */
struct mqtt_intake *mqtt_intake_start(struct domain *d, const char *hostport, int clients,
                                      struct linli_err *err);
/* Disconnects (without unsubscribing: the broker keeps the persistent
 * sessions and queues QoS 1 messages until linlid is back) and waits for the
 * threads, so a message in hand finishes first. Safe on NULL. */
void mqtt_intake_stop(struct mqtt_intake *m);
/* Appends the door's Prometheus series (messages, connected clients). */
void mqtt_intake_metrics_render(struct mqtt_intake *m, struct buf *out);

#endif
