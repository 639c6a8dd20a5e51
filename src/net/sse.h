/* sse.h - server-sent events: a hub of live subscribers, each with a bounded
 * queue of events. A subscriber that falls too far behind (its queue full)
 * is dropped rather than allowed to take memory; a subscriber whose client
 * went away is removed when the connection ends. A cap on subscribers keeps
 * the hub's size known. */
#ifndef LINLI_SSE_H
#define LINLI_SSE_H

#include "net/http.h"

#include <jansson.h>
#include <stdbool.h>

struct sse_hub;

/* Decides whether a subscriber sees an event. `who` is what sse_open was
 * given (copied); topic and payload as published. */
typedef bool (*sse_filter)(const void *who, const char *topic, json_t *payload);

struct sse_hub *sse_hub_new(int max_subscribers, size_t queue_max, sse_filter filter,
                            size_t who_size);
/* Frees the hub; every stream must have ended (http_stop does that). */
void sse_hub_free(struct sse_hub *hub);

/* Answers `req` with an event stream for `who` (copied, who_size bytes).
 * EBUSY when the hub is full (the caller answers 503). */
int sse_open(struct sse_hub *hub, struct http_request *req, const void *who, struct linli_err *err);

/* Queues an event for every subscriber whose filter accepts it. */
void sse_broadcast(struct sse_hub *hub, const char *topic, json_t *payload);

/* Sends a comment line to every subscriber, which keeps proxies from timing
 * out idle streams and reveals clients that went away. */
void sse_heartbeat(struct sse_hub *hub);

/* Ends every stream whose subscriber `match` accepts (e.g. those of a user
 * whose sessions were revoked). Returns how many. */
typedef bool (*sse_match)(const void *who, void *ctx);
int sse_close_where(struct sse_hub *hub, sse_match match, void *ctx);

int sse_count(struct sse_hub *hub);

/* Calls `fn(who, ctx)` when a subscriber's stream ends, from any cause (the
 * client went away, it was dropped or closed, the server stops). Set once,
 * before any stream opens. `fn` runs on a connection thread and may block
 * briefly. */
typedef void (*sse_closed)(const void *who, void *ctx);
void sse_hub_on_close(struct sse_hub *hub, sse_closed fn, void *ctx);

#endif
