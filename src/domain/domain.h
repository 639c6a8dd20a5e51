/* domain.h - what every domain call needs: the store to read and write, the
 * bus to announce committed changes, and the settings of the domain. One
 * instance per process, made by linlid or linli at start. */
#ifndef LINLI_DOMAIN_H
#define LINLI_DOMAIN_H

#include "base/bus.h"
#include "geo/walk.h"
#include "store/store.h"

struct auth;
struct boundary;
struct directory;
struct devices_state;
struct dispatch;
struct care_state;

struct domain {
    struct store *store;
    struct bus *bus; /* may be NULL (command line): nothing is published */
    struct auth *auth;
    /* The district's outline (WGS-84) and its code, when loaded; NULL otherwise. */
    struct boundary *boundary;
    char boundary_code[13];
    /* The searchable copy of the service directory, made on first use
     * (directory.h); freed by directory_close. */
    struct directory *directory;
    /* Coverage reports kept until their inputs change
     * (directory_coverage_cache.c); freed by directory_close. */
    struct coverage_cache *coverage_cache;
    /* Walking-time settings; zero = the defaults of walk.h. */
    double walk_detour, walk_speed;
    /* The one-key call centre's memory: device heartbeat state (devices.h),
     * the call queue and operators' presence (calls.h), care settings
     * (care.h). Each is made on first use by its module and freed by it. */
    struct devices_state *devices;
    struct dispatch *dispatch;
    struct care_state *care;
};

/* Publishes `payload` (reference taken) on the bus if there is one. */
void domain_publish(struct domain *d, const char *topic, json_t *payload);

#endif
