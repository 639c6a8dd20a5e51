/* hotline_load.c - the devices' side of bench/hotline_bench.sh: signed events
 * published to a Mosquitto broker the way call devices publish them
 * (docs/devices.md), on linli/devices/{serial}/events.
 *
 *   hotline_load load --port P --devices FILE [--host H] [--clients M] [--rate R]
 *                     [--seconds S] [--qos 0|1] [--window W]
 *       Heartbeats from the devices in FILE (lines "ID SERIAL SECRET-HEX [PERSON]",
 *       as the bench's setup writes them), taken in turn, over M connections,
 *       at R messages a second in all (0 = as fast as the broker takes them)
 *       for S seconds. QoS 1 keeps at most W messages per connection waiting
 *       for the broker's PUBACK; QoS 0 publishes while the socket takes more.
 *       Ends with one line:
 *         LOAD published=N acked=N errors=N seconds=X rate=X clients=M qos=Q
 *              devices=N cpu_s=X
 *       (acked counts PUBACKs; for QoS 0 it equals published).
 *
 *   hotline_load press --port P [--host H]
 *       One connection; for each line "SERIAL SECRET-HEX EVENT-ID KEY" on
 *       stdin it publishes that key press (QoS 1) and prints
 *         SENT EVENT-ID UNIX-MICROSECONDS
 *       with the time taken just before the publish. Ends at end of input.
 *
 * SIGTERM ends a load early; it still prints its line.
 *
 * Every envelope is {"device","timestamp","signature","body"}; the signature
 * is hex HMAC-SHA256 with the device's secret over timestamp "." body.
 * Loopback and bounded: the load stops after S seconds (at most
 * LOAD_SECONDS_MAX) and waits at most DRAIN_MS for outstanding PUBACKs. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <inttypes.h>
#include <mosquitto.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define SERIAL_MAX       32
#define SECRET_BYTES     32
#define CLIENTS_MAX      64
#define LOAD_SECONDS_MAX 600
#define DEFAULT_WINDOW   200 /* QoS 1 messages per connection awaiting PUBACK */
#define BURST            32  /* messages one connection publishes before the next has its turn */
#define DRAIN_MS         5000
#define KEEPALIVE_S      60
#define CONNECT_WAIT_MS  5000
#define MISC_EVERY_MS    500
#define BODY_MAX         256
#define ENVELOPE_MAX     1024
#define PRESS_LINE_MAX   512
#define BATTERY_MIN      30 /* above the server's low-battery mark: no tasks */
#define BATTERY_SPAN     71
#define SIGNAL_MIN       (-110)
#define SIGNAL_SPAN      61

struct device {
    char serial[SERIAL_MAX + 1];
    unsigned char key[SECRET_BYTES];
};

struct client {
    struct mosquitto *mosq;
    int index;
    bool connected, failed;
    long outstanding; /* QoS 1 published and not yet PUBACKed */
    uint64_t acked;
};

struct options {
    const char *host, *devices;
    int port, clients, qos, window;
    double rate, seconds;
};

static volatile sig_atomic_t stop_asked; /* SIGTERM or SIGINT: end the load early */

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_asked = 1;
}

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t real_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void usage(void)
{
    fprintf(stderr, "usage: hotline_load load --port P --devices FILE [--host H] [--clients M]\n"
                    "                         [--rate R] [--seconds S] [--qos 0|1] [--window W]\n"
                    "       hotline_load press --port P [--host H]   (lines on stdin)\n");
    exit(2);
}

static int parse_key(const char *hex, unsigned char key[SECRET_BYTES])
{
    size_t got = 0;
    return sodium_hex2bin(key, SECRET_BYTES, hex, strlen(hex), NULL, &got, NULL) == 0 &&
                   got == SECRET_BYTES
               ? 0
               : -1;
}

/* Reads FILE's devices into *out (the caller frees). -1 with a message on failure. */
static int devices_read(const char *path, struct device **out, size_t *n)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "hotline_load: cannot open %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t cap = 1024, len = 0;
    struct device *v = malloc(cap * sizeof *v);
    char line[512], serial[SERIAL_MAX + 2], hex[2 * SECRET_BYTES + 2];
    long long id;
    while (v && fgets(line, sizeof line, f)) {
        if (sscanf(line, "%lld %33s %65s", &id, serial, hex) != 3)
            continue;
        if (strlen(serial) > SERIAL_MAX)
            continue;
        if (len == cap) {
            struct device *more = realloc(v, cap * 2 * sizeof *v);
            if (!more)
                break;
            v = more;
            cap *= 2;
        }
        memcpy(v[len].serial, serial, strlen(serial) + 1); /* checked: at most SERIAL_MAX */
        if (parse_key(hex, v[len].key) == 0)
            len++;
    }
    fclose(f);
    if (!v || len == 0) {
        fprintf(stderr, "hotline_load: no devices in %s\n", path);
        free(v);
        return -1;
    }
    *out = v;
    *n = len;
    return 0;
}

/* Writes `in` as a JSON string's content (quotes and backslashes escaped). */
static size_t json_escape(char *out, size_t size, const char *in)
{
    size_t o = 0;
    for (; *in && o + 2 < size; in++) {
        if (*in == '"' || *in == '\\')
            out[o++] = '\\';
        out[o++] = *in;
    }
    out[o] = '\0';
    return o;
}

/* Builds the signed envelope for `body` from device `dv` into `out`; its length. */
static int envelope(char *out, size_t size, const struct device *dv, long long ts, const char *body)
{
    char stamp[24], esc[2 * BODY_MAX], sig[2 * crypto_auth_hmacsha256_BYTES + 1];
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    snprintf(stamp, sizeof stamp, "%lld", ts);
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, dv->key, SECRET_BYTES);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)stamp, strlen(stamp));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, strlen(body));
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2hex(sig, sizeof sig, mac, sizeof mac);
    json_escape(esc, sizeof esc, body);
    int n = snprintf(
        out, size, "{\"device\":\"%s\",\"timestamp\":\"%s\",\"signature\":\"%s\",\"body\":\"%s\"}",
        dv->serial, stamp, sig, esc);
    return n > 0 && (size_t)n < size ? n : -1;
}

static void on_connect(struct mosquitto *mosq, void *obj, int rc)
{
    (void)mosq;
    struct client *c = obj;
    if (rc) {
        fprintf(stderr, "hotline_load: connection %d refused: %s\n", c->index,
                mosquitto_connack_string(rc));
        c->failed = true;
        return;
    }
    c->connected = true;
}

static void on_disconnect(struct mosquitto *mosq, void *obj, int rc)
{
    (void)mosq;
    struct client *c = obj;
    if (c->connected && rc)
        fprintf(stderr, "hotline_load: connection %d lost: %s\n", c->index, mosquitto_strerror(rc));
    c->connected = false;
    c->failed = rc != 0;
}

static void on_publish(struct mosquitto *mosq, void *obj, int mid)
{
    (void)mosq;
    (void)mid;
    struct client *c = obj;
    c->outstanding--;
    c->acked++;
}

/* Reads and writes what each connection's socket allows, waiting at most
 * wait_ms for something to happen. */
static void pump(struct client *cs, int n, int wait_ms)
{
    struct pollfd fds[CLIENTS_MAX + 1];
    int idx[CLIENTS_MAX + 1], k = 0;
    for (int i = 0; i < n; i++) {
        int fd = cs[i].mosq ? mosquitto_socket(cs[i].mosq) : -1;
        if (fd < 0)
            continue;
        fds[k].fd = fd;
        fds[k].events = (short)(POLLIN | (mosquitto_want_write(cs[i].mosq) ? POLLOUT : 0));
        fds[k].revents = 0;
        idx[k++] = i;
    }
    if (k == 0 || poll(fds, (nfds_t)k, wait_ms) <= 0)
        return;
    for (int j = 0; j < k; j++) {
        struct client *c = &cs[idx[j]];
        if (fds[j].revents & (POLLIN | POLLERR | POLLHUP))
            mosquitto_loop_read(c->mosq, 1);
        if (c->mosq && mosquitto_socket(c->mosq) >= 0 && (fds[j].revents & POLLOUT))
            mosquitto_loop_write(c->mosq, 1);
    }
}

static void misc(struct client *cs, int n)
{
    for (int i = 0; i < n; i++)
        if (cs[i].mosq)
            mosquitto_loop_misc(cs[i].mosq);
}

/* Connects n clients (not threaded: this thread drives their sockets). */
static int connect_all(struct client *cs, int n, const char *host, int port, const char *role)
{
    for (int i = 0; i < n; i++) {
        char id[64];
        snprintf(id, sizeof id, "hotline-%s-%ld-%d", role, (long)getpid(), i);
        cs[i].index = i;
        cs[i].mosq = mosquitto_new(id, true, &cs[i]);
        if (!cs[i].mosq) {
            fprintf(stderr, "hotline_load: cannot make an MQTT client\n");
            return -1;
        }
        mosquitto_connect_callback_set(cs[i].mosq, on_connect);
        mosquitto_disconnect_callback_set(cs[i].mosq, on_disconnect);
        mosquitto_publish_callback_set(cs[i].mosq, on_publish);
        /* Our own window bounds what waits for a PUBACK; the library's
         * (default 20) would queue the rest in memory instead. */
        mosquitto_max_inflight_messages_set(cs[i].mosq, 0);
        int rc = mosquitto_connect(cs[i].mosq, host, port, KEEPALIVE_S);
        if (rc != MOSQ_ERR_SUCCESS) {
            fprintf(stderr, "hotline_load: cannot connect to %s:%d: %s\n", host, port,
                    mosquitto_strerror(rc));
            return -1;
        }
    }
    int64_t until = mono_us() + (int64_t)CONNECT_WAIT_MS * 1000;
    for (;;) {
        int up = 0;
        for (int i = 0; i < n; i++) {
            if (cs[i].failed)
                return -1;
            up += cs[i].connected;
        }
        if (up == n)
            return 0;
        if (mono_us() > until) {
            fprintf(stderr, "hotline_load: only %d of %d connections were accepted\n", up, n);
            return -1;
        }
        pump(cs, n, 10);
    }
}

static void disconnect_all(struct client *cs, int n)
{
    for (int i = 0; i < n; i++) {
        if (!cs[i].mosq)
            continue;
        mosquitto_disconnect(cs[i].mosq);
        mosquitto_destroy(cs[i].mosq);
        cs[i].mosq = NULL;
    }
}

/* CPU seconds this process has used (user and system). */
static double cpu_seconds(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru))
        return 0;
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static uint64_t xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static int run_load(const struct options *o)
{
    struct device *devs = NULL;
    size_t ndev = 0;
    if (devices_read(o->devices, &devs, &ndev))
        return 1;
    /* Visit the devices in a shuffled order, each in turn, so every device
     * beats and a flush holds as many distinct devices as the rate allows. */
    uint64_t rng = UINT64_C(0x9E3779B97F4A7C15) ^ (uint64_t)getpid();
    for (size_t i = ndev - 1; i > 0; i--) {
        size_t j = (size_t)(xorshift(&rng) % (i + 1));
        struct device t = devs[i];
        devs[i] = devs[j];
        devs[j] = t;
    }
    struct client cs[CLIENTS_MAX];
    memset(cs, 0, sizeof cs);
    if (connect_all(cs, o->clients, o->host, o->port, "load")) {
        disconnect_all(cs, o->clients);
        free(devs);
        return 1;
    }
    char body[BODY_MAX], env[ENVELOPE_MAX], topic[64];
    uint64_t published = 0, errors = 0, seq = 0;
    size_t next_dev = 0;
    int64_t start = mono_us(), end = start + (int64_t)(o->seconds * 1e6), last_misc = start;
    long long ts = 0;
    int64_t ts_until = 0;
    for (;;) {
        int64_t now = mono_us();
        if (now >= end || stop_asked)
            break;
        if (now >= ts_until) { /* the device clock: whole seconds */
            int64_t r = real_us();
            ts = (long long)(r / 1000000);
            ts_until = now + (1000000 - r % 1000000);
        }
        bool any = false;
        for (int i = 0; i < o->clients; i++) {
            struct client *c = &cs[i];
            if (!c->connected)
                continue;
            for (int b = 0; b < BURST; b++) {
                if (o->rate > 0 && (double)published >= o->rate * (double)(now - start) / 1e6)
                    break;
                if (o->qos == 1 ? c->outstanding >= o->window : mosquitto_want_write(c->mosq))
                    break;
                const struct device *dv = &devs[next_dev];
                next_dev = (next_dev + 1) % ndev;
                uint64_t r = xorshift(&rng);
                snprintf(body, sizeof body,
                         "{\"event_id\":\"hb-%" PRIu64 "\",\"type\":\"heartbeat\",\"battery\":%d,"
                         "\"signal\":%d}",
                         ++seq, BATTERY_MIN + (int)(r % BATTERY_SPAN),
                         SIGNAL_MIN + (int)((r >> 8) % SIGNAL_SPAN));
                int len = envelope(env, sizeof env, dv, ts, body);
                snprintf(topic, sizeof topic, "linli/devices/%s/events", dv->serial);
                int rc = len < 0 ? MOSQ_ERR_INVAL
                                 : mosquitto_publish(c->mosq, NULL, topic, len, env, o->qos, false);
                if (rc != MOSQ_ERR_SUCCESS) {
                    errors++;
                    break;
                }
                published++;
                if (o->qos == 1)
                    c->outstanding++;
                any = true;
            }
        }
        /* Wait only when nothing could be sent: for PUBACKs, a writable
         * socket or the rate's next message. */
        pump(cs, o->clients, any ? 0 : 1);
        if (now - last_misc >= (int64_t)MISC_EVERY_MS * 1000) {
            misc(cs, o->clients);
            last_misc = now;
        }
    }
    double secs = (double)(mono_us() - start) / 1e6;
    /* Let the last PUBACKs (and the socket's backlog) come in. */
    int64_t drain_until = mono_us() + (int64_t)DRAIN_MS * 1000;
    for (;;) {
        long waiting = 0;
        bool writing = false;
        for (int i = 0; i < o->clients; i++) {
            if (cs[i].connected) {
                waiting += o->qos == 1 ? cs[i].outstanding : 0;
                writing = writing || mosquitto_want_write(cs[i].mosq);
            }
        }
        if ((!waiting && !writing) || mono_us() > drain_until)
            break;
        pump(cs, o->clients, 10);
    }
    uint64_t acked = 0;
    for (int i = 0; i < o->clients; i++)
        acked += o->qos == 1 ? cs[i].acked : 0;
    if (o->qos == 0)
        acked = published;
    disconnect_all(cs, o->clients);
    printf("LOAD published=%" PRIu64 " acked=%" PRIu64 " errors=%" PRIu64
           " seconds=%.3f rate=%.0f clients=%d qos=%d devices=%zu cpu_s=%.2f\n",
           published, acked, errors, secs, (double)published / secs, o->clients, o->qos, ndev,
           cpu_seconds());
    fflush(stdout);
    free(devs);
    return 0;
}

/* One key press per line of stdin, each printed with the time it was sent. */
static int run_press(const struct options *o)
{
    struct client c;
    memset(&c, 0, sizeof c);
    if (connect_all(&c, 1, o->host, o->port, "press")) {
        disconnect_all(&c, 1);
        return 1;
    }
    char line[PRESS_LINE_MAX], pending[PRESS_LINE_MAX];
    size_t have = 0;
    bool eof = false;
    int64_t last_misc = mono_us(), eof_at = 0;
    while (!eof || c.outstanding > 0) {
        if (eof && mono_us() - eof_at > (int64_t)DRAIN_MS * 1000)
            break;
        struct pollfd fds[2] = {
            {.fd = eof ? -1 : 0, .events = POLLIN},
            {.fd = mosquitto_socket(c.mosq),
             .events = (short)(POLLIN | (mosquitto_want_write(c.mosq) ? POLLOUT : 0))}};
        if (fds[1].fd < 0) {
            fprintf(stderr, "hotline_load: the press connection is gone\n");
            break;
        }
        int pr = poll(fds, 2, 100);
        if (pr < 0 && errno != EINTR)
            break;
        if (fds[1].revents & (POLLIN | POLLERR | POLLHUP))
            mosquitto_loop_read(c.mosq, 1);
        if (fds[1].revents & POLLOUT)
            mosquitto_loop_write(c.mosq, 1);
        if (mono_us() - last_misc >= (int64_t)MISC_EVERY_MS * 1000) {
            mosquitto_loop_misc(c.mosq);
            last_misc = mono_us();
        }
        if (!(fds[0].revents & (POLLIN | POLLHUP)))
            continue;
        ssize_t got = read(0, pending + have, sizeof pending - have - 1);
        if (got <= 0) {
            eof = true;
            eof_at = mono_us();
            continue;
        }
        have += (size_t)got;
        pending[have] = '\0';
        char *nl;
        while ((nl = strchr(pending, '\n'))) {
            size_t ll = (size_t)(nl - pending);
            memcpy(line, pending, ll);
            line[ll] = '\0';
            memmove(pending, nl + 1, have - ll - 1);
            have -= ll + 1;
            pending[have] = '\0';
            char serial[SERIAL_MAX + 2], hex[2 * SECRET_BYTES + 2], event_id[72], key[24];
            struct device dv;
            if (sscanf(line, "%33s %65s %71s %23s", serial, hex, event_id, key) != 4 ||
                strlen(serial) > SERIAL_MAX || strlen(event_id) > 64 || parse_key(hex, dv.key)) {
                fprintf(stderr, "hotline_load: bad press line: %s\n", line);
                continue;
            }
            memcpy(dv.serial, serial, strlen(serial) + 1); /* checked: at most SERIAL_MAX */
            char body[BODY_MAX], env[ENVELOPE_MAX], topic[64];
            snprintf(body, sizeof body, "{\"event_id\":\"%s\",\"type\":\"key\",\"key\":\"%s\"}",
                     event_id, key);
            int64_t t = real_us();
            int len = envelope(env, sizeof env, &dv, (long long)(t / 1000000), body);
            snprintf(topic, sizeof topic, "linli/devices/%s/events", serial);
            int rc = len < 0 ? MOSQ_ERR_INVAL
                             : mosquitto_publish(c.mosq, NULL, topic, len, env, 1, false);
            if (rc != MOSQ_ERR_SUCCESS) {
                printf("FAILED %s %s\n", event_id, mosquitto_strerror(rc));
            } else {
                c.outstanding++;
                printf("SENT %s %" PRId64 "\n", event_id, t);
            }
            fflush(stdout);
        }
        if (have == sizeof pending - 1) /* a line longer than any press: drop it */
            have = 0;
    }
    disconnect_all(&c, 1);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        usage();
    struct options o = {
        .host = "127.0.0.1", .clients = 4, .qos = 1, .window = DEFAULT_WINDOW, .seconds = 10};
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 >= argc)
            usage();
        const char *v = argv[++i];
        if (!strcmp(a, "--host"))
            o.host = v;
        else if (!strcmp(a, "--port"))
            o.port = atoi(v);
        else if (!strcmp(a, "--devices"))
            o.devices = v;
        else if (!strcmp(a, "--clients"))
            o.clients = atoi(v);
        else if (!strcmp(a, "--rate"))
            o.rate = atof(v);
        else if (!strcmp(a, "--seconds"))
            o.seconds = atof(v);
        else if (!strcmp(a, "--qos"))
            o.qos = atoi(v);
        else if (!strcmp(a, "--window"))
            o.window = atoi(v);
        else
            usage();
    }
    if (o.port < 1 || o.port > 65535 || o.clients < 1 || o.clients > CLIENTS_MAX ||
        (o.qos != 0 && o.qos != 1) || o.window < 1 || o.rate < 0 || o.seconds <= 0 ||
        o.seconds > LOAD_SECONDS_MAX)
        usage();
    if (sodium_init() < 0) {
        fprintf(stderr, "hotline_load: libsodium did not start\n");
        return 1;
    }
    mosquitto_lib_init();
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    int rc;
    if (!strcmp(argv[1], "load")) {
        if (!o.devices)
            usage();
        rc = run_load(&o);
    } else if (!strcmp(argv[1], "press")) {
        rc = run_press(&o);
    } else {
        usage();
        rc = 2;
    }
    mosquitto_lib_cleanup();
    return rc;
}
