/* mqtt.c - the MQTT door for device events (see mqtt.h): a few libmosquitto
 * clients, each with its own network thread (mosquitto_loop_start), sharing
 * one subscription so the broker spreads the devices' messages over them.
 *
 * Sessions are persistent (clean session off) under a client id that is the
 * same at every start (linlid-HOSTNAME-INDEX), so the broker keeps the
 * subscription and queues QoS 1 messages while linlid is down. For the same
 * reason stopping does not unsubscribe: it only disconnects.
 *
 * Each message is handled on its client's thread: the envelope is checked,
 * its device compared with the topic's, the event handed to devices_intake
 * (which returns once a durable event is committed), and then the ack is
 * published to linli/devices/{id}/acks. */
#include "intake/mqtt.h"

#include "base/clock.h"
#include "base/jx.h"
#include "base/log.h"
#include "domain/devices.h"

#include <inttypes.h>
#include <mosquitto.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MQTT_CLIENTS_MAX     16
#define MQTT_KEEPALIVE_S     30
#define MQTT_RECONNECT_MIN_S 1
#define MQTT_RECONNECT_MAX_S 30
#define MQTT_TOPIC_PREFIX    "linli/devices/"
#define MQTT_SUBSCRIPTION    "$share/linli/linli/devices/+/events"
#define ENVELOPE_MAX         (2 * DEVICE_BODY_MAX + 512) /* the body escaped, and the rest */
#define LOG_LINES_PER_S      5

enum mqtt_outcome {
    MQ_ACCEPTED,  /* handed over and taken (heartbeats included) */
    MQ_DUPLICATE, /* a repeat of a stored event: acked again */
    MQ_REFUSED,   /* devices_intake refused it (its own metrics say why) */
    MQ_ENVELOPE,  /* the payload is not a valid envelope */
    MQ_TOPIC,     /* the topic is not a device's events topic, or names another device */
    MQ_OUTCOMES
};
static const char *const mq_outcome_names[MQ_OUTCOMES] = {"accepted", "duplicate", "refused",
                                                          "bad_envelope", "bad_topic"};

struct mqtt_client {
    struct mqtt_intake *m;
    struct mosquitto *mosq;
    int index;
    bool connected; /* guarded by m->lock */
    bool started;   /* its network thread runs */
};

struct mqtt_intake {
    struct domain *d;
    char host[256];
    int port;
    int n;
    struct mqtt_client clients[MQTT_CLIENTS_MAX];
    pthread_mutex_t lock;
    int connected;
    atomic_bool stopping;
    atomic_uint_fast64_t counts[MQ_OUTCOMES];
    atomic_uint_fast64_t acks, ack_failures, connects, disconnects;
    /* the refusal log's rate limit */
    int64_t log_second;
    int log_lines;
    uint64_t log_held;
};

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;

static void lib_init(void)
{
    mosquitto_lib_init();
}

/* Logs a refusal the intake does not log itself, at most LOG_LINES_PER_S a second. */
static void refusal_log(struct mqtt_intake *m, const char *what, const char *topic)
{
    int64_t second = clock_mono_us() / 1000000;
    uint64_t held = 0;
    pthread_mutex_lock(&m->lock);
    if (second != m->log_second) {
        held = m->log_held;
        m->log_held = 0;
        m->log_lines = 0;
        m->log_second = second;
    }
    bool write = m->log_lines < LOG_LINES_PER_S;
    if (write)
        m->log_lines++;
    else
        m->log_held++;
    pthread_mutex_unlock(&m->lock);
    if (!write)
        return;
    char t[128];
    size_t i = 0;
    for (; topic && topic[i] && i + 1 < sizeof t; i++)
        t[i] = topic[i] >= 0x20 && topic[i] < 0x7F ? topic[i] : '?';
    t[i] = '\0';
    log_warn("mqtt: message on %s refused: %s", t, what);
    if (held)
        log_warn("mqtt: %" PRIu64 " more refused messages were not logged", held);
}

/* The serial of "linli/devices/{serial}/events" into `out`; -1 for any other topic. */
static int topic_serial(const char *topic, char out[DEVICE_SERIAL_MAX + 1])
{
    size_t plen = strlen(MQTT_TOPIC_PREFIX);
    if (!topic || strncmp(topic, MQTT_TOPIC_PREFIX, plen))
        return -1;
    const char *id = topic + plen, *slash = strchr(id, '/');
    if (!slash || strcmp(slash, "/events") || slash == id ||
        (size_t)(slash - id) > DEVICE_SERIAL_MAX)
        return -1;
    memcpy(out, id, (size_t)(slash - id));
    out[slash - id] = '\0';
    return 0;
}

static void publish_ack(struct mqtt_client *c, const char *serial, const struct intake_result *r)
{
    struct mqtt_intake *m = c->m;
    char topic[sizeof MQTT_TOPIC_PREFIX + DEVICE_SERIAL_MAX + 8];
    snprintf(topic, sizeof topic, MQTT_TOPIC_PREFIX "%s/acks", serial);
    json_t *o = json_object();
    json_object_set_new(o, "event_id", json_string(r->event_id));
    json_object_set_new(o, "status", json_string(r->duplicate ? "duplicate" : "accepted"));
    json_object_set_new(o, "call_id", r->call_id ? json_integer(r->call_id) : json_null());
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    int rc = text ? mosquitto_publish(c->mosq, NULL, topic, (int)strlen(text), text, 1, false)
                  : MOSQ_ERR_NOMEM;
    free(text);
    if (rc == MOSQ_ERR_SUCCESS) {
        atomic_fetch_add(&m->acks, 1);
    } else {
        atomic_fetch_add(&m->ack_failures, 1);
        log_warn("mqtt: cannot publish the ack for device %s: %s", serial, mosquitto_strerror(rc));
    }
}

static const struct jx_field envelope_fields[] = {
    {"device", JX_STRING, true, false, DEVICE_SERIAL_MAX},
    {"timestamp", JX_STRING, true, false, 16},
    {"signature", JX_STRING, true, false, 128},
    {"body", JX_STRING, true, false, 0},
};

static void on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg)
{
    (void)mosq;
    struct mqtt_client *c = obj;
    struct mqtt_intake *m = c->m;
    char serial[DEVICE_SERIAL_MAX + 1];
    if (topic_serial(msg->topic, serial)) {
        atomic_fetch_add(&m->counts[MQ_TOPIC], 1);
        refusal_log(m, "not a device events topic", msg->topic);
        return;
    }
    struct linli_err err;
    linli_err_clear(&err);
    if (msg->payloadlen <= 0 || msg->payloadlen > ENVELOPE_MAX) {
        atomic_fetch_add(&m->counts[MQ_ENVELOPE], 1);
        refusal_log(m, msg->payloadlen <= 0 ? "empty payload" : "payload too big", msg->topic);
        return;
    }
    json_t *env = jx_parse_object(msg->payload, (size_t)msg->payloadlen, &err);
    if (!env ||
        jx_check(env, envelope_fields, sizeof envelope_fields / sizeof envelope_fields[0], &err)) {
        json_decref(env);
        atomic_fetch_add(&m->counts[MQ_ENVELOPE], 1);
        char why[sizeof err.detail + sizeof err.fields[0].field + 64];
        snprintf(why, sizeof why, "bad envelope: %s%s%s", err.detail, err.nfields ? " field " : "",
                 err.nfields ? err.fields[0].field : "");
        refusal_log(m, why, msg->topic);
        return;
    }
    const char *device = jx_str(env, "device");
    if (strcmp(device, serial)) {
        json_decref(env);
        atomic_fetch_add(&m->counts[MQ_TOPIC], 1);
        refusal_log(m, "the envelope names another device than the topic", msg->topic);
        return;
    }
    json_t *body = json_object_get(env, "body");
    struct intake_result r;
    int rc =
        devices_intake(m->d, DOOR_MQTT, device, jx_str(env, "timestamp"), jx_str(env, "signature"),
                       json_string_value(body), json_string_length(body), &r, &err);
    json_decref(env);
    if (rc) {
        atomic_fetch_add(&m->counts[MQ_REFUSED], 1); /* logged by the intake */
        return;
    }
    atomic_fetch_add(&m->counts[r.duplicate ? MQ_DUPLICATE : MQ_ACCEPTED], 1);
    if (r.durable)
        publish_ack(c, serial, &r);
}

static void on_connect(struct mosquitto *mosq, void *obj, int rc)
{
    struct mqtt_client *c = obj;
    struct mqtt_intake *m = c->m;
    if (rc) {
        log_warn("mqtt: client %d: the broker refused the connection: %s", c->index,
                 mosquitto_connack_string(rc));
        return;
    }
    int src = mosquitto_subscribe(mosq, NULL, MQTT_SUBSCRIPTION, 1);
    if (src != MOSQ_ERR_SUCCESS)
        log_warn("mqtt: client %d: cannot subscribe: %s", c->index, mosquitto_strerror(src));
    pthread_mutex_lock(&m->lock);
    if (!c->connected) {
        c->connected = true;
        m->connected++;
    }
    pthread_mutex_unlock(&m->lock);
    if (atomic_fetch_add(&m->connects, 1) >= (uint64_t)m->n)
        log_info("mqtt: client %d connected again to %s:%d", c->index, m->host, m->port);
}

static void on_disconnect(struct mosquitto *mosq, void *obj, int rc)
{
    (void)mosq;
    struct mqtt_client *c = obj;
    struct mqtt_intake *m = c->m;
    pthread_mutex_lock(&m->lock);
    if (c->connected) {
        c->connected = false;
        m->connected--;
    }
    pthread_mutex_unlock(&m->lock);
    atomic_fetch_add(&m->disconnects, 1);
    if (!atomic_load(&m->stopping))
        log_warn("mqtt: client %d lost the broker (%s); reconnecting with backoff", c->index,
                 rc ? mosquitto_strerror(rc) : "closed");
}

/* Splits "HOST:PORT" or "[V6]:PORT". */
static int parse_hostport(const char *hp, char *host, size_t size, int *port)
{
    const char *colon = strrchr(hp, ':');
    if (!colon || colon == hp)
        return -1;
    const char *h = hp;
    size_t hlen = (size_t)(colon - hp);
    if (h[0] == '[') {
        if (hlen < 3 || h[hlen - 1] != ']')
            return -1;
        h++;
        hlen -= 2;
    }
    if (hlen + 1 > size)
        return -1;
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (!colon[1] || *end || p < 1 || p > 65535)
        return -1;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    *port = (int)p;
    return 0;
}

static void client_free(struct mqtt_client *c)
{
    if (!c->mosq)
        return;
    if (c->started) {
        mosquitto_disconnect(c->mosq);
        mosquitto_loop_stop(c->mosq, false);
    }
    mosquitto_destroy(c->mosq);
    c->mosq = NULL;
}

void mqtt_intake_stop(struct mqtt_intake *m)
{
    if (!m)
        return;
    atomic_store(&m->stopping, true);
    for (int i = 0; i < m->n; i++)
        client_free(&m->clients[i]);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

struct mqtt_intake *mqtt_intake_start(struct domain *d, const char *hostport, int clients,
                                      struct linli_err *err)
{
    pthread_once(&lib_once, lib_init);
    if (clients < 1 || clients > MQTT_CLIENTS_MAX) {
        linli_fail(err, LINLI_EINVAL, "--mqtt-clients must be from 1 to %d.", MQTT_CLIENTS_MAX);
        return NULL;
    }
    struct mqtt_intake *m = calloc(1, sizeof *m);
    if (!m) {
        linli_fail(err, LINLI_ENOMEM, "Out of memory for the MQTT door.");
        return NULL;
    }
    m->d = d;
    pthread_mutex_init(&m->lock, NULL);
    if (!hostport || parse_hostport(hostport, m->host, sizeof m->host, &m->port)) {
        linli_fail(err, LINLI_EINVAL, "--mqtt must be HOST:PORT, e.g. 127.0.0.1:1883.");
        mqtt_intake_stop(m);
        return NULL;
    }
    char hostname[64] = "";
    if (gethostname(hostname, sizeof hostname - 1) != 0 || !hostname[0])
        snprintf(hostname, sizeof hostname, "linli");
    for (size_t i = 0; hostname[i]; i++) /* a client id of safe characters */
        if (!((hostname[i] >= 'a' && hostname[i] <= 'z') ||
              (hostname[i] >= 'A' && hostname[i] <= 'Z') ||
              (hostname[i] >= '0' && hostname[i] <= '9') || hostname[i] == '-'))
            hostname[i] = '-';
    m->n = clients;
    for (int i = 0; i < clients; i++) {
        struct mqtt_client *c = &m->clients[i];
        c->m = m;
        c->index = i;
        char id[96];
        snprintf(id, sizeof id, "linlid-%.40s-%d", hostname, i);
        c->mosq = mosquitto_new(id, false, c);
        if (!c->mosq) {
            linli_fail(err, LINLI_ENOMEM, "Cannot make an MQTT client.");
            mqtt_intake_stop(m);
            return NULL;
        }
        mosquitto_connect_callback_set(c->mosq, on_connect);
        mosquitto_disconnect_callback_set(c->mosq, on_disconnect);
        mosquitto_message_callback_set(c->mosq, on_message);
        mosquitto_reconnect_delay_set(c->mosq, MQTT_RECONNECT_MIN_S, MQTT_RECONNECT_MAX_S, true);
        int rc = mosquitto_connect(c->mosq, m->host, m->port, MQTT_KEEPALIVE_S);
        if (rc != MOSQ_ERR_SUCCESS) {
            linli_fail(err, LINLI_EIO, "Cannot reach the MQTT broker at %s: %s", hostport,
                       rc == MOSQ_ERR_ERRNO ? "connection refused or unreachable"
                                            : mosquitto_strerror(rc));
            mqtt_intake_stop(m);
            return NULL;
        }
        if ((rc = mosquitto_loop_start(c->mosq)) != MOSQ_ERR_SUCCESS) {
            linli_fail(err, LINLI_EIO, "Cannot start an MQTT thread: %s", mosquitto_strerror(rc));
            mqtt_intake_stop(m);
            return NULL;
        }
        c->started = true;
    }
    log_info("mqtt: %d clients subscribed to %s at %s", clients, MQTT_SUBSCRIPTION, hostport);
    return m;
}

void mqtt_intake_metrics_render(struct mqtt_intake *m, struct buf *out)
{
    if (!m)
        return;
    buf_printf(out, "# HELP linli_mqtt_messages_total MQTT messages on the device events topics, "
                    "by outcome.\n# TYPE linli_mqtt_messages_total counter\n");
    for (int i = 0; i < MQ_OUTCOMES; i++)
        buf_printf(out, "linli_mqtt_messages_total{outcome=\"%s\"} %" PRIu64 "\n",
                   mq_outcome_names[i], (uint64_t)atomic_load(&m->counts[i]));
    pthread_mutex_lock(&m->lock);
    int connected = m->connected;
    pthread_mutex_unlock(&m->lock);
    buf_printf(out,
               "# HELP linli_mqtt_acks_total Acks published to devices.\n"
               "# TYPE linli_mqtt_acks_total counter\nlinli_mqtt_acks_total %" PRIu64 "\n"
               "# HELP linli_mqtt_ack_failures_total Acks that could not be published.\n"
               "# TYPE linli_mqtt_ack_failures_total counter\n"
               "linli_mqtt_ack_failures_total %" PRIu64 "\n"
               "# HELP linli_mqtt_clients Client connections to the broker.\n"
               "# TYPE linli_mqtt_clients gauge\nlinli_mqtt_clients %d\n"
               "# HELP linli_mqtt_clients_connected Client connections up now.\n"
               "# TYPE linli_mqtt_clients_connected gauge\nlinli_mqtt_clients_connected %d\n"
               "# HELP linli_mqtt_disconnects_total Connections lost (each retried).\n"
               "# TYPE linli_mqtt_disconnects_total counter\n"
               "linli_mqtt_disconnects_total %" PRIu64 "\n",
               (uint64_t)atomic_load(&m->acks), (uint64_t)atomic_load(&m->ack_failures), m->n,
               connected, (uint64_t)atomic_load(&m->disconnects));
}
