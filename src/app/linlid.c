/* linlid.c - the Linli server: reads its settings, opens the store, starts
 * the scheduler, the event hub and the HTTP server, and on SIGTERM or SIGINT
 * stops them in the order that loses nothing:
 *   1. HTTP stops accepting; event streams end; requests in flight finish
 *      (each one's write has committed before its answer went out); the
 *      MQTT door disconnects once the messages in hand are committed;
 *   2. the scheduler stops (no new timed work); device heartbeat state held
 *      in memory is flushed;
 *   3. the store finishes every queued write, checkpoints and closes. */
#include "api/api.h"
#include "base/clock.h"
#include "base/config.h"
#include "base/log.h"
#include "domain/auth.h"
#include "domain/calls.h"
#include "domain/devices.h"
#include "domain/care.h"
#include "domain/cases.h"
#include "domain/directory.h"
#include "domain/registry.h"
#include "intake/mqtt.h"
#include "jobs/scheduler.h"
#include "media/photo_store.h"
#include "net/sse.h"

#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef LINLI_VERSION
#define LINLI_VERSION "0.1.0"
#endif

struct settings {
    char config[1024];
    char db[1024];
    char listen[128];
    char static_dir[1024];
    char log_level[16];
    char admin_password[PASSWORD_MAX + 1];
    char boundary[1024];
    char boundary_area[16];
    char open311_jurisdiction[128];
    char map_tiles[512];
    char map_attribution[256];
    char mqtt[256];
    long mqtt_clients;
    int log_requests;
    long threads, write_threads, max_body, conn_per_ip, max_connections, idle_timeout, stop_grace;
    long readers, batch_max, checkpoint_ms;
    long token_ttl, hash_concurrency, hash_wait_ms, login_max_failures, login_max_failures_ip,
        login_window;
    long sse_max, sse_queue, sse_heartbeat, purge_interval, page_size, session_cache_ms;
    long walk_detour_pct, walk_speed;
    long offer_timeout_ms;
    long console_grace_ms;
    long device_silent_s, care_tick_s;
    char photo_dir[1024];
    long photo_body_max;
    long case_tick_s;
};

#define S(f) offsetof(struct settings, f)
static const struct cfg_option options[] = {
    {"config", CFG_STR, S(config), sizeof(((struct settings *)0)->config), "", 0, 0,
     "read settings from this file (lines of name = value)"},
    {"db", CFG_STR, S(db), sizeof(((struct settings *)0)->db), "linli.db", 0, 0,
     "the SQLite database file (created if missing)"},
    {"listen", CFG_STR, S(listen), sizeof(((struct settings *)0)->listen), "127.0.0.1:8080", 0, 0,
     "address and port to serve HTTP on, e.g. 127.0.0.1:8080 or [::1]:8080"},
    {"static-dir", CFG_STR, S(static_dir), sizeof(((struct settings *)0)->static_dir), "web", 0, 0,
     "directory of the web pages served at /"},
    {"log-level", CFG_STR, S(log_level), sizeof(((struct settings *)0)->log_level), "info", 0, 0,
     "debug, info, warn or error"},
    {"log-requests", CFG_BOOL, S(log_requests), 0, "true", 0, 0,
     "write one line per request to stderr"},
    {"admin-password", CFG_STR, S(admin_password), sizeof(((struct settings *)0)->admin_password),
     "", 0, 0, "password for the admin account made on first start (else a random one is printed)"},
    {"boundary", CFG_STR, S(boundary), sizeof(((struct settings *)0)->boundary),
     "data/chaoyang/boundary_gcj02.geojson", 0, 0,
     "GeoJSON outline (GCJ-02) of the district, for \"is this point in the district\""},
    {"boundary-area", CFG_STR, S(boundary_area), sizeof(((struct settings *)0)->boundary_area),
     "110105", 0, 0, "the area code that outline belongs to"},
    {"threads", CFG_INT, S(threads), 0, "4", 1, 256, "HTTP event threads (epoll)"},
    {"write-threads", CFG_INT, S(write_threads), 0, "64", 0, 1024,
     "threads that run writing requests while their connections wait, suspended, for the "
     "commit; more let more writes share one commit (0 = run writes on the event threads)"},
    {"max-body", CFG_INT, S(max_body), 0, "1048576", 1024, 1L << 30,
     "largest request body in bytes; larger ones get 413"},
    {"conn-per-ip", CFG_INT, S(conn_per_ip), 0, "64", 1, 100000,
     "most simultaneous connections from one client address"},
    {"max-connections", CFG_INT, S(max_connections), 0, "1024", 1, 1000000,
     "most simultaneous connections in all"},
    {"idle-timeout", CFG_INT, S(idle_timeout), 0, "30", 1, 3600,
     "seconds a connection may sit idle or mid-request before it is closed"},
    {"stop-grace", CFG_INT, S(stop_grace), 0, "10", 0, 600,
     "seconds to let requests in flight finish on shutdown"},
    {"readers", CFG_INT, S(readers), 0, "8", 1, 64, "read connections to the database"},
    {"batch-max", CFG_INT, S(batch_max), 0, "256", 1, 100000,
     "most writes committed in one transaction (1 = a transaction per write)"},
    {"checkpoint-ms", CFG_INT, S(checkpoint_ms), 0, "1000", 0, 3600000,
     "milliseconds between background WAL checkpoints (0 = let SQLite do it)"},
    {"token-ttl", CFG_INT, S(token_ttl), 0, "43200", 60, 31536000,
     "seconds a login token stays valid"},
    {"hash-concurrency", CFG_INT, S(hash_concurrency), 0, "2", 1, 64,
     "password hashes computed at once; more wait or get 503"},
    {"hash-wait-ms", CFG_INT, S(hash_wait_ms), 0, "250", 0, 60000,
     "milliseconds a login waits for a hashing slot before 503"},
    {"login-max-failures", CFG_INT, S(login_max_failures), 0, "5", 1, 1000,
     "failed logins per username within the window before 429"},
    {"login-max-failures-ip", CFG_INT, S(login_max_failures_ip), 0, "20", 1, 100000,
     "failed logins per client address within the window before 429"},
    {"login-window", CFG_INT, S(login_window), 0, "900", 1, 86400,
     "seconds over which failed logins are counted"},
    {"session-cache-ms", CFG_INT, S(session_cache_ms), 0, "2000", 0, 60000,
     "milliseconds a checked login token is trusted from memory (0 = check the database every "
     "time); changes made with the linli command reach a running server within this time"},
    {"sse-max", CFG_INT, S(sse_max), 0, "256", 1, 100000, "most live event streams at once"},
    {"sse-queue", CFG_INT, S(sse_queue), 0, "262144", 1024, 1L << 28,
     "bytes queued for a slow event-stream client before it is dropped"},
    {"sse-heartbeat", CFG_INT, S(sse_heartbeat), 0, "15", 1, 3600,
     "seconds between keep-alive comments on event streams"},
    {"purge-interval", CFG_INT, S(purge_interval), 0, "3600", 1, 86400,
     "seconds between purges of expired sessions and idempotency keys"},
    {"page-size", CFG_INT, S(page_size), 0, "50", 1, 1000,
     "default number of items in a list page"},
    {"walk-detour-pct", CFG_INT, S(walk_detour_pct), 0, "130", 100, 300,
     "walked path length per 100 m of straight line, for walking times"},
    {"walk-speed", CFG_INT, S(walk_speed), 0, "60", 10, 150,
     "an older person's walking speed in metres a minute"},
    {"offer-timeout-ms", CFG_INT, S(offer_timeout_ms), 0, "20000", 100, 600000,
     "milliseconds an operator has to answer an offered call before it goes to the next"},
    {"console-grace-ms", CFG_INT, S(console_grace_ms), 0, "10000", 0, 600000,
     "milliseconds after an operator's last console closes before they are set away (a reload "
     "keeps its ringing offer; 0 = at once)"},
    {"mqtt", CFG_STR, S(mqtt), sizeof(((struct settings *)0)->mqtt), "", 0, 0,
     "HOST:PORT of the MQTT broker the devices publish to (\"\" = no MQTT door)"},
    {"mqtt-clients", CFG_INT, S(mqtt_clients), 0, "4", 1, 16,
     "connections to the broker sharing the device events subscription (one thread each)"},
    {"device-silent-s", CFG_INT, S(device_silent_s), 0, "10800", 0, 30L * 86400,
     "seconds without a heartbeat after which a subscribed call device gets a maintenance task "
     "(0 = no device watchdog)"},
    {"care-tick-s", CFG_INT, S(care_tick_s), 0, "60", 1, 3600,
     "seconds between the care checks: plans' calls, missed check-ins, silent devices"},
    {"photo-body-max", CFG_INT, S(photo_body_max), 0, "33554432", 65536, 1L << 30,
     "bytes a request that carries photos may hold (POST /api/v1/cases, .../photos)"},
    {"photo-dir", CFG_STR, S(photo_dir), sizeof(((struct settings *)0)->photo_dir), "", 0, 0,
     "directory of case photos, stored by content hash (\"\" = \"photos\" beside the database)"},
    {"map-tiles", CFG_STR, S(map_tiles), sizeof(((struct settings *)0)->map_tiles), "", 0, 0,
     "map tile URL template for the web pages, e.g. https://tile.example.org/{z}/{x}/{y}.png "
     "(\"\" = no tiles: the pages draw the district outline and points only)"},
    {"map-attribution", CFG_STR, S(map_attribution),
     sizeof(((struct settings *)0)->map_attribution), "", 0, 0,
     "the attribution the tile source asks for, shown on every map"},
    {"open311-jurisdiction", CFG_STR, S(open311_jurisdiction),
     sizeof(((struct settings *)0)->open311_jurisdiction), "chaoyang.linli", 0, 0,
     "the jurisdiction_id Open311 clients may send (another one gets 404)"},
    {"case-tick-s", CFG_INT, S(case_tick_s), 0, "60", 1, 3600,
     "seconds between the case deadline checks: due soon, overdue and escalated, auto-close, "
     "late report-ins"},
};
#undef S

struct app {
    struct domain d;
    struct api api;
    struct sched *sched;
    struct sse_hub *hub;
    struct http_server *http;
    int bus_sub;
    struct sse_hub *console_hub; /* operators' console streams */
    int console_sub;
};

static void on_bus_event(const char *topic, json_t *payload, void *ctx)
{
    api_events_on_bus(ctx, topic, payload);
}

static void heartbeat_job(void *arg)
{
    sse_heartbeat(arg);
}

static void on_console_event(const char *topic, json_t *payload, void *ctx)
{
    api_console_on_bus(ctx, topic, payload);
}

/* Offers not answered in time move on to the next operator. */
static void calls_tick_job(void *arg)
{
    calls_tick(arg, clock_now_ms());
}

/* Device heartbeat state gathered in memory goes to the store (devices_flush). */
static void devices_flush_job(void *arg)
{
    struct domain *d = arg;
    struct linli_err err;
    linli_err_clear(&err);
    if (devices_flush(d, &err) && err.status != LINLI_ESHUTDOWN)
        log_warn("devices: flush: %s", err.detail);
}

static void purge_job(void *arg)
{
    struct domain *d = arg;
    struct linli_err err;
    linli_err_clear(&err);
    if (auth_purge(d, &err) && err.status != LINLI_ESHUTDOWN)
        log_warn("purge: %s", err.detail);
}

/* Case deadlines: due soon, overdue and escalated, auto-close, late report-ins (cases.h). */
static void cases_job(void *arg)
{
    struct domain *d = arg;
    struct linli_err err;
    struct case_tick_report rep;
    if (cases_tick(d, clock_now_ms(), &rep, &err) && err.status != LINLI_ESHUTDOWN)
        log_warn("cases: %s", err.detail);
}

/* Proactive care: plan tasks, missed check-ins and silent devices (care.h). */
static void care_job(void *arg)
{
    struct domain *d = arg;
    struct linli_err err;
    linli_err_clear(&err);
    if (care_tick(d, clock_now_ms(), &err) && err.status != LINLI_ESHUTDOWN)
        log_warn("care: %s", err.detail);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--version")) {
            printf("linlid %s (schema %d)\n", LINLI_VERSION, store_latest_schema_version());
            return 0;
        }
        if (!strcmp(argv[i], "--routes")) {
            /* For the test that keeps docs/openapi.json in step with the code. */
            struct http_options ho = {.listen = "127.0.0.1:0", .static_dir = ""};
            struct http_server *h = http_new(&ho);
            struct api a = {.http = h};
            if (!h || api_register(&a))
                return 1;
            http_print_routes(h, stdout);
            http_free(h);
            return 0;
        }
    }
    static struct settings set;
    struct linli_err err;
    linli_err_clear(&err);
    int rc = cfg_load(options, sizeof options / sizeof options[0], &set, argc, argv, NULL, &err);
    if (rc == 1) {
        printf("Usage: linlid [options]\n\nThe Linli server. Every option can also be set by its "
               "environment variable or in a config file (--config).\n\n");
        cfg_print_help(stdout, options, sizeof options / sizeof options[0]);
        printf("  --version                    print the version and exit\n"
               "  --routes                     list the HTTP routes and exit\n");
        return 0;
    }
    if (rc) {
        fprintf(stderr, "linlid: %s\n", err.detail);
        return 2;
    }
    enum log_level lvl;
    if (log_level_parse(set.log_level, &lvl) != 0) {
        fprintf(stderr, "linlid: --log-level must be debug, info, warn or error\n");
        return 2;
    }
    log_set_level(lvl);

    /* Signals go to the main thread only: block them before any thread starts. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    static struct app app;
    struct store_options so;
    store_options_default(&so);
    so.path = set.db;
    so.readers = (int)set.readers;
    so.batch_max = (int)set.batch_max;
    so.checkpoint_ms = (int)set.checkpoint_ms;
    if (store_open(&so, &app.d.store, &err)) {
        log_error("linlid: %s", err.detail);
        return 1;
    }
    struct auth_options ao;
    auth_options_default(&ao);
    ao.token_ttl_s = set.token_ttl;
    ao.hash_concurrency = (int)set.hash_concurrency;
    ao.hash_wait_ms = (int)set.hash_wait_ms;
    ao.max_failures_user = (int)set.login_max_failures;
    ao.max_failures_ip = (int)set.login_max_failures_ip;
    ao.window_s = (int)set.login_window;
    ao.session_cache_ms = set.session_cache_ms;
    app.d.auth = auth_new(&ao);
    app.d.bus = bus_new();
    app.hub = sse_hub_new((int)set.sse_max, (size_t)set.sse_queue, api_event_filter(),
                          sizeof(struct principal));
    app.console_hub = sse_hub_new((int)set.sse_max, (size_t)set.sse_queue, api_console_filter(),
                                  sizeof(struct principal));
    if (!app.d.auth || !app.d.bus || !app.hub || !app.console_hub) {
        log_error("linlid: out of memory at start");
        return 1;
    }

    if (set.boundary[0]) {
        const char *why;
        struct linli_err gerr;
        linli_err_clear(&gerr);
        if (area_code_normalize(set.boundary_area, app.d.boundary_code, &why) != 0) {
            log_error("linlid: --boundary-area %s %s", set.boundary_area, why);
            return 2;
        }
        app.d.boundary = boundary_load_gcj02(set.boundary, &gerr);
        if (!app.d.boundary)
            log_warn("linlid: %s; point-in-district checks are off", gerr.detail);
    }

    app.d.walk_detour = (double)set.walk_detour_pct / 100.0;
    app.d.walk_speed = (double)set.walk_speed;
    /* Load the service directory now, so the first search is not the one
     * that waits for it and a damaged store shows at start. */
    if (directory_refresh(&app.d, &err)) {
        log_error("linlid: cannot load the service directory: %s", err.detail);
        store_close(app.d.store);
        return 1;
    }

    char generated[32];
    bool created;
    struct linli_err berr;
    linli_err_clear(&berr);
    if (users_ensure_admin(&app.d, set.admin_password, generated, sizeof generated, &created,
                           &berr)) {
        log_error("linlid: cannot create the admin account: %s", berr.detail);
        store_close(app.d.store);
        return 1;
    }
    if (created && !set.admin_password[0])
        fprintf(stderr,
                "\n  First start: created user \"admin\" with password %s\n"
                "  (shown this once; change it with: linli user passwd admin)\n\n",
                generated);
    else if (created)
        log_info("linlid: created user \"admin\" with the password from LINLI_ADMIN_PASSWORD");
    sodium_memzero(set.admin_password, sizeof set.admin_password);
    sodium_memzero(generated, sizeof generated);

    app.bus_sub = bus_subscribe(app.d.bus, "", on_bus_event, app.hub);
    app.console_sub = bus_subscribe(app.d.bus, "", on_console_event, app.console_hub);
    calls_set_offer_timeout(&app.d, set.offer_timeout_ms);
    calls_set_console_grace(&app.d, set.console_grace_ms);
    app.sched = sched_start();
    if (!app.sched) {
        log_error("linlid: cannot start the scheduler");
        return 1;
    }
    sched_every(app.sched, set.sse_heartbeat * 1000, heartbeat_job, app.hub, "sse heartbeat");
    sched_every(app.sched, set.purge_interval * 1000, purge_job, &app.d, "purge");
    sched_every(app.sched, set.sse_heartbeat * 1000, heartbeat_job, app.console_hub,
                "console heartbeat");
    sched_every(app.sched, 1000, calls_tick_job, &app.d, "call offers");
    sched_every(app.sched, DEVICES_FLUSH_MS, devices_flush_job, &app.d, "devices flush");
    care_set_silent_limit(&app.d, set.device_silent_s);
    sched_every(app.sched, set.care_tick_s * 1000, care_job, &app.d, "care");
    sched_every(app.sched, set.case_tick_s * 1000, cases_job, &app.d, "case deadlines");

    struct http_options ho = {
        .listen = set.listen,
        .threads = (int)set.threads,
        .write_threads = (int)set.write_threads,
        .max_body = (size_t)set.max_body,
        .conn_per_ip = (int)set.conn_per_ip,
        .max_connections = (int)set.max_connections,
        .idle_timeout_s = (int)set.idle_timeout,
        .stop_grace_s = (int)set.stop_grace,
        .static_dir = set.static_dir,
        .log_requests = set.log_requests,
    };
    app.http = http_new(&ho);
    app.api = (struct api){.d = &app.d,
                           .http = app.http,
                           .hub = app.hub,
                           .started_ms = clock_now_ms(),
                           .version = LINLI_VERSION,
                           .list_limit_default = (int)set.page_size};
    app.api.console_hub = app.console_hub;
    app.api.open311_jurisdiction = set.open311_jurisdiction;
    app.api.map_tiles = set.map_tiles;
    app.api.map_attribution = set.map_attribution;
    /* Case photos: beside the database unless a directory is named. */
    static char photo_dir[1100];
    if (set.photo_dir[0]) {
        snprintf(photo_dir, sizeof photo_dir, "%s", set.photo_dir);
    } else {
        const char *slash = strrchr(set.db, '/');
        snprintf(photo_dir, sizeof photo_dir, "%.*sphotos", slash ? (int)(slash - set.db + 1) : 0,
                 set.db);
    }
    if (photo_store_init(photo_dir, &err)) {
        log_error("linlid: %s", err.detail);
        sched_stop(app.sched);
        http_free(app.http);
        store_close(app.d.store);
        return 1;
    }
    app.api.photo_dir = photo_dir;
    app.api.photo_body_max = (size_t)set.photo_body_max;
    if (app.http && set.mqtt[0]) {
        /* The MQTT door: after the store and the API's domain are ready,
         * before HTTP listens; a broker that cannot be reached stops the start. */
        app.api.mqtt = mqtt_intake_start(&app.d, set.mqtt, (int)set.mqtt_clients, &err);
        if (!app.api.mqtt) {
            log_error("linlid: %s", err.detail);
            sched_stop(app.sched);
            http_free(app.http);
            store_close(app.d.store);
            return 1;
        }
    }
    if (!app.http || api_register(&app.api) || http_start(app.http, &err)) {
        log_error("linlid: %s", err.detail[0] ? err.detail : "cannot set up HTTP");
        mqtt_intake_stop(app.api.mqtt);
        sched_stop(app.sched);
        http_free(app.http);
        store_close(app.d.store);
        return 1;
    }
    log_info("linlid %s listening on http://%s (database %s, schema %d)", LINLI_VERSION, set.listen,
             set.db, store_schema_version(app.d.store));

    int sig = 0;
    sigwait(&sigs, &sig);
    log_info("linlid: %s received; stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");

    http_stop(app.http);
    mqtt_intake_stop(app.api.mqtt); /* waits for messages in hand to commit */
    app.api.mqtt = NULL;
    sched_stop(app.sched);
    struct linli_err ferr;
    linli_err_clear(&ferr);
    if (devices_flush(&app.d, &ferr))
        log_warn("linlid: last device flush: %s", ferr.detail);
    bus_unsubscribe(app.d.bus, app.bus_sub);
    bus_unsubscribe(app.d.bus, app.console_sub);
    store_close(app.d.store);
    directory_close(&app.d);
    calls_close_dispatch(&app.d);
    devices_close(&app.d);
    care_close(&app.d);
    http_free(app.http);
    sse_hub_free(app.hub);
    sse_hub_free(app.console_hub);
    bus_free(app.d.bus);
    auth_free(app.d.auth);
    boundary_free(app.d.boundary);
    log_info("linlid: stopped cleanly");
    return 0;
}
