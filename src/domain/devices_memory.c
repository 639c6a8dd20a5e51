/* devices_memory.c - what the device intake keeps in memory: each device's
 * secret, its subscription in force and its heartbeat state, the batched
 * flush of that state to the store, the intake's counters and its
 * rate-limited refusal log.
 *
 * A hash map serial -> entry in SHARDS shards, one mutex each. An entry holds
 * what the store said about the device (id, secret, retired, the
 * subscription in force and its person's community) until fresh_until, then
 * it is read again; an unknown serial is remembered as such for as long (up
 * to NEGATIVE_MAX of them), so a flood of made-up serials does not reach
 * SQLite either. Heartbeats change only the entry (battery, signal, last
 * seen, location) and put it on its shard's dirty list; devices_flush writes
 * the dirty entries in id order, FLUSH_CHUNK_ROWS to a write job.
 *
 * A write to devices or subscriptions in this process calls devices__forget
 * after its commit. A read racing that write could put the old values back
 * in memory; a generation number bumped by every forget makes such a read
 * serve its own event only, never the cache. */
#include "domain/devices.h"

#include "base/clock.h"
#include "base/log.h"
#include "domain/devices_internal.h"

#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHARDS            64
#define SHARD_BUCKETS_MIN 1024
#define NEGATIVE_MAX      65536 /* unknown serials remembered at once */
#define LOG_LINES_PER_S   5     /* refusal lines logged per second; the rest are counted */
#define STAMP_CHECK_MS    DEVICE_CACHE_MS
/* Rows of one flush write job. The writer runs one transaction at a time, so
 * a key press committed during a flush waits for the chunk being written
 * (and the next, if it joins that one's transaction): ~2,000 rows in id order
 * are a few milliseconds, where one job of the 40,000 rows a flush holds at
 * 20,000 heartbeats a second took hundreds. */
#define FLUSH_CHUNK_ROWS 2000

static const char *const outcome_names[DEVICES__OUTCOMES] = {
    "accepted", "duplicate", "unknown_device",  "bad_signature",
    "replayed", "malformed", "no_subscription", "failed"};
static const char *const door_names[2] = {"http", "mqtt"};

struct entry {
    struct entry *next;       /* in its bucket */
    struct entry *dirty_next; /* on its shard's dirty list while dirty */
    char serial[DEVICE_SERIAL_MAX + 1];
    bool known;          /* false: the store has no such serial */
    int64_t fresh_until; /* ms: read the store again after this */
    uint64_t stamp_gen;  /* the store's stamp generation it was read under */
    /* from the store */
    int64_t id;
    unsigned char secret[DEVICE_SECRET_BYTES];
    bool retired;
    int64_t subscription_id, person_id;
    char community[AREA_CODE_LEN + 1];
    /* heartbeat state, newer than the store's while dirty */
    int battery, signal;
    int64_t last_seen_at;
    bool has_location;
    struct geo_point location;
    int64_t located_at;
    bool dirty;
    bool low_reported; /* a low battery has made its task; reset by a good battery */
};

struct shard {
    pthread_mutex_t lock;
    struct entry **buckets;
    size_t nbuckets, n;
    struct entry *dirty;
};

struct devices_state {
    struct shard shards[SHARDS];
    atomic_uint_fast64_t gen; /* bumped by every devices__forget */
    /* Changes by other processes: every STAMP_CHECK_MS one intake thread
     * reads a stamp of the devices and subscriptions tables; when it moved,
     * stamp_gen is bumped and every entry is read again on its next use. */
    atomic_int_fast64_t stamp_checked_at;
    atomic_uint_fast64_t stamp_gen;
    pthread_mutex_t stamp_lock;
    bool stamp_known;
    int64_t stamp[4];
    atomic_long negatives, dirty, entries;
    atomic_uint_fast64_t counts[2][DEV_KINDS + 1]
                               [DEVICES__OUTCOMES]; /* door, kind (+unknown), outcome */
    atomic_uint_fast64_t flushes, flushed_rows, flush_failures, low_battery_tasks;
    pthread_mutex_t log_lock;
    int64_t log_second;
    int log_lines;
    uint64_t log_held; /* refusals not logged in the current second */
    atomic_uint_fast64_t log_suppressed;
};

/* ---- the state ---- */

static void state_free(struct devices_state *s)
{
    if (!s)
        return;
    for (int i = 0; i < SHARDS; i++) {
        struct shard *sh = &s->shards[i];
        for (size_t b = 0; b < sh->nbuckets; b++) {
            struct entry *e = sh->buckets[b];
            while (e) {
                struct entry *next = e->next;
                sodium_memzero(e->secret, sizeof e->secret);
                free(e);
                e = next;
            }
        }
        free(sh->buckets);
        pthread_mutex_destroy(&sh->lock);
    }
    pthread_mutex_destroy(&s->log_lock);
    pthread_mutex_destroy(&s->stamp_lock);
    free(s);
}

static struct devices_state *state_new(void)
{
    struct devices_state *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    pthread_mutex_init(&s->log_lock, NULL);
    pthread_mutex_init(&s->stamp_lock, NULL);
    for (int i = 0; i < SHARDS; i++) {
        struct shard *sh = &s->shards[i];
        pthread_mutex_init(&sh->lock, NULL);
        sh->nbuckets = SHARD_BUCKETS_MIN;
        sh->buckets = calloc(sh->nbuckets, sizeof *sh->buckets);
        if (!sh->buckets) {
            for (int j = i + 1; j < SHARDS; j++)
                pthread_mutex_init(&s->shards[j].lock, NULL);
            state_free(s);
            return NULL;
        }
    }
    return s;
}

/* The state, made on first use (any thread). NULL only when out of memory. */
struct devices_state *devices__state(struct domain *d)
{
    struct devices_state *s = __atomic_load_n(&d->devices, __ATOMIC_ACQUIRE);
    if (s)
        return s;
    struct devices_state *fresh = state_new();
    if (!fresh)
        return NULL;
    struct devices_state *expected = NULL;
    if (__atomic_compare_exchange_n(&d->devices, &expected, fresh, false, __ATOMIC_ACQ_REL,
                                    __ATOMIC_ACQUIRE))
        return fresh;
    state_free(fresh);
    return expected;
}

void devices_close(struct domain *d)
{
    state_free(d->devices);
    d->devices = NULL;
}

static uint64_t hash_serial(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

static struct shard *shard_of(struct devices_state *s, uint64_t h)
{
    return &s->shards[h % SHARDS];
}

/* Under the shard's lock. */
static struct entry *find(struct shard *sh, uint64_t h, const char *serial)
{
    for (struct entry *e = sh->buckets[(h / SHARDS) % sh->nbuckets]; e; e = e->next)
        if (!strcmp(e->serial, serial))
            return e;
    return NULL;
}

/* Under the shard's lock: doubles the buckets when the chains grow long. */
static void maybe_grow(struct shard *sh)
{
    if (sh->n < sh->nbuckets * 2)
        return;
    size_t nb = sh->nbuckets * 2;
    struct entry **b = calloc(nb, sizeof *b);
    if (!b)
        return; /* longer chains, still correct */
    for (size_t i = 0; i < sh->nbuckets; i++) {
        struct entry *e = sh->buckets[i];
        while (e) {
            struct entry *next = e->next;
            size_t j = (hash_serial(e->serial) / SHARDS) % nb;
            e->next = b[j];
            b[j] = e;
            e = next;
        }
    }
    free(sh->buckets);
    sh->buckets = b;
    sh->nbuckets = nb;
}

/* Under the shard's lock. NULL when out of memory. */
static struct entry *insert(struct devices_state *s, struct shard *sh, uint64_t h,
                            const char *serial)
{
    struct entry *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    snprintf(e->serial, sizeof e->serial, "%s", serial);
    e->battery = DEVICE_BATTERY_UNKNOWN;
    e->signal = DEVICE_SIGNAL_UNKNOWN;
    maybe_grow(sh);
    size_t i = (h / SHARDS) % sh->nbuckets;
    e->next = sh->buckets[i];
    sh->buckets[i] = e;
    sh->n++;
    atomic_fetch_add(&s->entries, 1);
    return e;
}

/* Under the shard's lock. */
static void mark_dirty(struct devices_state *s, struct shard *sh, struct entry *e)
{
    if (e->dirty)
        return;
    e->dirty = true;
    e->dirty_next = sh->dirty;
    sh->dirty = e;
    atomic_fetch_add(&s->dirty, 1);
}

void devices__forget(struct domain *d, const char *serial)
{
    struct devices_state *s = devices__state(d);
    if (!s || !serial)
        return;
    atomic_fetch_add(&s->gen, 1);
    uint64_t h = hash_serial(serial);
    struct shard *sh = shard_of(s, h);
    pthread_mutex_lock(&sh->lock);
    struct entry *e = find(sh, h, serial);
    if (e)
        e->fresh_until = 0;
    pthread_mutex_unlock(&sh->lock);
}

void devices__overlay(struct domain *d, struct device *dev)
{
    struct devices_state *s = __atomic_load_n(&d->devices, __ATOMIC_ACQUIRE);
    if (!s)
        return;
    uint64_t h = hash_serial(dev->serial);
    struct shard *sh = shard_of(s, h);
    pthread_mutex_lock(&sh->lock);
    struct entry *e = find(sh, h, dev->serial);
    if (e && e->known && e->id == dev->id && e->last_seen_at >= dev->last_seen_at) {
        dev->battery = e->battery;
        dev->signal = e->signal;
        dev->last_seen_at = e->last_seen_at;
        if (e->has_location) {
            dev->has_location = true;
            dev->location = e->location;
            dev->located_at = e->located_at;
        }
    }
    pthread_mutex_unlock(&sh->lock);
}

/* ---- reading a device for the intake ---- */

struct row {
    bool found;
    struct devices__view v;
    int battery, signal;
    int64_t last_seen_at, located_at;
    bool has_location;
    struct geo_point location;
    int64_t valid_until; /* the subscription in force ends, or the next one starts */
};

static const char SQL_DEVICE_FOR_INTAKE[] =
    "SELECT d.id, d.secret, d.status, d.battery, d.signal, d.last_seen_at, d.lat, d.lon,"
    " d.located_at, s.id, s.person_id, p.community_code, s.ends_at,"
    " (SELECT MIN(n.starts_at) FROM subscriptions n WHERE n.device_id = d.id AND n.starts_at > ?2)"
    " FROM devices d"
    " LEFT JOIN subscriptions s ON s.device_id = d.id AND s.starts_at <= ?2"
    "  AND (s.ends_at IS NULL OR s.ends_at > ?2)"
    " LEFT JOIN people p ON p.id = s.person_id"
    " WHERE d.serial = ?1 ORDER BY s.starts_at DESC LIMIT 1";

struct load_args {
    const char *serial;
    int64_t now;
    struct row *r;
};

static int col_int_or(sqlite3_stmt *st, int i, int def)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? def : sqlite3_column_int(st, i);
}

static int64_t col_i64(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, i);
}

static int load_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct load_args *a = arg;
    struct row *r = a->r;
    sqlite3_stmt *st = store_stmt(c, SQL_DEVICE_FOR_INTAKE, err);
    if (!st)
        return err->status;
    sqlite3_bind_text(st, 1, a->serial, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, a->now);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        r->found = false;
        return LINLI_OK;
    }
    if (rc != SQLITE_ROW)
        return store_fail(c, rc, "reading a device", err);
    r->found = true;
    r->v.known = true;
    r->v.id = sqlite3_column_int64(st, 0);
    const char *hex = (const char *)sqlite3_column_text(st, 1);
    size_t got = 0;
    if (!hex ||
        sodium_hex2bin(r->v.secret, sizeof r->v.secret, hex, strlen(hex), NULL, &got, NULL) != 0 ||
        got != DEVICE_SECRET_BYTES)
        r->v.retired = true; /* a damaged secret: nothing can be signed for it */
    const char *status = (const char *)sqlite3_column_text(st, 2);
    if (status && !strcmp(status, "retired"))
        r->v.retired = true;
    r->battery = col_int_or(st, 3, DEVICE_BATTERY_UNKNOWN);
    r->signal = col_int_or(st, 4, DEVICE_SIGNAL_UNKNOWN);
    r->last_seen_at = col_i64(st, 5);
    r->has_location = sqlite3_column_type(st, 6) != SQLITE_NULL;
    r->location.lat = sqlite3_column_double(st, 6);
    r->location.lon = sqlite3_column_double(st, 7);
    r->located_at = col_i64(st, 8);
    r->v.subscription_id = col_i64(st, 9);
    r->v.person_id = col_i64(st, 10);
    const unsigned char *code = sqlite3_column_text(st, 11);
    snprintf(r->v.community, sizeof r->v.community, "%s", code ? (const char *)code : "");
    int64_t ends = col_i64(st, 12), next_start = col_i64(st, 13);
    r->valid_until = INT64_MAX;
    if (ends && ends < r->valid_until)
        r->valid_until = ends;
    if (next_start && next_start < r->valid_until)
        r->valid_until = next_start;
    sqlite3_reset(st);
    return LINLI_OK;
}

/* What moves when another process registers, changes or subscribes a
 * device (heartbeat flushes touch neither updated_at nor the counts). */
static const char SQL_STAMP[] =
    "SELECT (SELECT MAX(updated_at) FROM devices), (SELECT COUNT(*) FROM devices),"
    " (SELECT MAX(updated_at) FROM subscriptions), (SELECT COUNT(*) FROM subscriptions)";

static int stamp_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    int64_t *stamp = arg;
    sqlite3_stmt *st = store_stmt(c, SQL_STAMP, err);
    if (!st)
        return err->status;
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW)
        return store_fail(c, rc, "reading the devices' stamp", err);
    for (int i = 0; i < 4; i++)
        stamp[i] = col_i64(st, i);
    sqlite3_reset(st);
    return LINLI_OK;
}

/* At most every STAMP_CHECK_MS, on the thread that notices first. */
static void stamp_check(struct domain *d, struct devices_state *s, int64_t now)
{
    int_fast64_t last = atomic_load(&s->stamp_checked_at);
    if (now - last < STAMP_CHECK_MS ||
        !atomic_compare_exchange_strong(&s->stamp_checked_at, &last, now))
        return;
    int64_t stamp[4];
    struct linli_err err;
    linli_err_clear(&err);
    if (store_read(d->store, stamp_job, stamp, &err))
        return; /* entries stay as they are until the next check */
    pthread_mutex_lock(&s->stamp_lock);
    if (s->stamp_known && memcmp(stamp, s->stamp, sizeof stamp))
        atomic_fetch_add(&s->stamp_gen, 1);
    memcpy(s->stamp, stamp, sizeof stamp);
    s->stamp_known = true;
    pthread_mutex_unlock(&s->stamp_lock);
}

/* Fills `v` for `serial` from memory, or from the store when memory has
 * nothing fresh. 0, or a negative status with err filled. */
int devices__lookup(struct domain *d, struct devices_state *s, const char *serial, int64_t now,
                    struct devices__view *v, struct linli_err *err)
{
    stamp_check(d, s, now);
    uint64_t h = hash_serial(serial);
    struct shard *sh = shard_of(s, h);
    pthread_mutex_lock(&sh->lock);
    struct entry *e = find(sh, h, serial);
    if (e && now < e->fresh_until && e->stamp_gen == atomic_load(&s->stamp_gen)) {
        v->known = e->known;
        v->retired = e->retired;
        v->id = e->id;
        memcpy(v->secret, e->secret, sizeof v->secret);
        v->subscription_id = e->subscription_id;
        v->person_id = e->person_id;
        memcpy(v->community, e->community, sizeof v->community);
        pthread_mutex_unlock(&sh->lock);
        return LINLI_OK;
    }
    pthread_mutex_unlock(&sh->lock);

    uint64_t gen = atomic_load(&s->gen), stamp_gen = atomic_load(&s->stamp_gen);
    struct row r;
    memset(&r, 0, sizeof r);
    struct load_args a = {serial, now, &r};
    int rc = store_read(d->store, load_job, &a, err);
    if (rc)
        return rc;
    *v = r.v; /* known false when not found */

    pthread_mutex_lock(&sh->lock);
    e = find(sh, h, serial);
    if (!e && (r.found || atomic_load(&s->negatives) < NEGATIVE_MAX)) {
        e = insert(s, sh, h, serial);
        if (e && r.found) {
            e->known = true;
            e->battery = r.battery;
            e->signal = r.signal;
            e->last_seen_at = r.last_seen_at;
            e->has_location = r.has_location;
            e->location = r.location;
            e->located_at = r.located_at;
            e->low_reported = r.battery >= 0 && r.battery <= DEVICE_LOW_BATTERY_PCT;
        } else if (e) {
            atomic_fetch_add(&s->negatives, 1);
        }
    }
    if (e) {
        if (e->known != r.found) {
            atomic_fetch_add(&s->negatives, r.found ? -1 : 1);
            if (e->known && !r.found) { /* deleted under us: forget its state */
                e->battery = DEVICE_BATTERY_UNKNOWN;
                e->signal = DEVICE_SIGNAL_UNKNOWN;
            }
        }
        if (r.found && e->known && e->id != r.v.id) { /* a serial re-registered elsewhere */
            e->battery = r.battery;
            e->signal = r.signal;
            e->last_seen_at = r.last_seen_at;
            e->has_location = r.has_location;
            e->location = r.location;
            e->located_at = r.located_at;
        }
        e->known = r.found;
        e->id = r.v.id;
        e->retired = r.v.retired;
        memcpy(e->secret, r.v.secret, sizeof e->secret);
        e->subscription_id = r.v.subscription_id;
        e->person_id = r.v.person_id;
        memcpy(e->community, r.v.community, sizeof e->community);
        /* A known device stays until something changes it (a forget, the
         * stamp, its subscription's end or the next one's start); an unknown
         * serial is asked about again after DEVICE_CACHE_MS. */
        int64_t until = r.found ? r.valid_until : now + DEVICE_CACHE_MS;
        /* A forget since the read began: this read may predate that write. */
        e->fresh_until = atomic_load(&s->gen) == gen ? until : 0;
        e->stamp_gen = stamp_gen;
    }
    pthread_mutex_unlock(&sh->lock);
    return LINLI_OK;
}

/* ---- metrics and the refusal log ---- */

void devices__count(struct devices_state *s, int door, int kind, int outcome)
{
    int k = kind >= 0 && kind < DEV_KINDS ? kind : DEV_KINDS;
    atomic_fetch_add(&s->counts[door == DOOR_MQTT][k][outcome], 1);
}

/* Copies `in` with anything but printable ASCII replaced, so text a device
 * sent cannot forge log lines. */
static void printable(char *out, size_t size, const char *in)
{
    size_t i = 0;
    for (; in && in[i] && i + 1 < size; i++)
        out[i] = (in[i] >= 0x20 && in[i] < 0x7F) ? in[i] : '?';
    out[i] = '\0';
}

/* One warning line per refusal, at most LOG_LINES_PER_S a second; the rest
 * are counted and the count logged with the next line. */
void devices__refusal_log(struct devices_state *s, int door, const char *serial, int outcome,
                          const struct linli_err *err)
{
    int64_t second = clock_mono_us() / 1000000;
    uint64_t held = 0;
    pthread_mutex_lock(&s->log_lock);
    if (second != s->log_second) {
        held = s->log_held;
        s->log_held = 0;
        s->log_lines = 0;
        s->log_second = second;
    }
    bool write = s->log_lines < LOG_LINES_PER_S;
    if (write)
        s->log_lines++;
    else
        s->log_held++;
    pthread_mutex_unlock(&s->log_lock);
    if (!write) {
        atomic_fetch_add(&s->log_suppressed, 1);
        return;
    }
    char who[DEVICE_SERIAL_MAX + 1], why[200];
    printable(who, sizeof who, devices__serial_ok(serial) ? serial : "(not a serial)");
    printable(why, sizeof why,
              err->detail[0] ? err->detail
              : err->nfields ? err->fields[0].field
                             : "");
    if (err->nfields && err->detail[0]) {
        char field[64];
        printable(field, sizeof field, err->fields[0].field);
        log_warn("device event refused (%s door, device %s): %s: %s (%s)", door_names[door == 1],
                 who, outcome_names[outcome], why, field);
    } else {
        log_warn("device event refused (%s door, device %s): %s: %s", door_names[door == 1], who,
                 outcome_names[outcome], why);
    }
    if (held)
        log_warn("device events: %" PRIu64 " more refusals were not logged", held);
}

/* Records what an authenticated event says about the device's state.
 * Returns true when a heartbeat's battery has just gone low (the caller
 * makes the task, and calls battery_unreport if that fails). */
bool devices__update(struct devices_state *s, const char *serial, const struct devices__event *ev,
                     int64_t now)
{
    uint64_t h = hash_serial(serial);
    struct shard *sh = shard_of(s, h);
    bool went_low = false;
    pthread_mutex_lock(&sh->lock);
    struct entry *e = find(sh, h, serial);
    if (e && e->known) {
        e->last_seen_at = now;
        if (ev->has_battery) {
            e->battery = ev->battery;
            if (ev->battery > DEVICE_LOW_BATTERY_PCT) {
                e->low_reported = false;
            } else if (!e->low_reported) {
                e->low_reported = true;
                went_low = ev->kind != DEV_LOW_BATTERY; /* that one makes its own task */
            }
        }
        if (ev->kind == DEV_LOW_BATTERY)
            e->low_reported = true;
        if (ev->has_signal)
            e->signal = ev->signal;
        if (ev->has_location) {
            e->has_location = true;
            e->location = ev->location;
            e->located_at = now;
        }
        mark_dirty(s, sh, e);
    }
    pthread_mutex_unlock(&sh->lock);
    return went_low;
}

void devices__unreport_battery(struct devices_state *s, const char *serial)
{
    uint64_t h = hash_serial(serial);
    struct shard *sh = shard_of(s, h);
    pthread_mutex_lock(&sh->lock);
    struct entry *e = find(sh, h, serial);
    if (e)
        e->low_reported = false;
    pthread_mutex_unlock(&sh->lock);
}

void devices__low_battery_made(struct devices_state *s)
{
    atomic_fetch_add(&s->low_battery_tasks, 1);
}

/* ---- flush ---- */

struct flush_row {
    char serial[DEVICE_SERIAL_MAX + 1];
    int64_t id;
    int battery, signal;
    int64_t last_seen_at;
    bool has_location;
    struct geo_point location;
    int64_t located_at;
};

struct flush_job {
    struct flush_row *rows;
    size_t n;
};

static const char SQL_DEVICE_STATE[] =
    "UPDATE devices SET battery = ?2, signal = ?3, last_seen_at = ?4, lat = ?5, lon = ?6,"
    " located_at = ?7 WHERE id = ?1 AND (last_seen_at IS NULL OR last_seen_at <= ?4)";

static int flush_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct flush_job *j = arg;
    for (size_t i = 0; i < j->n; i++) {
        const struct flush_row *r = &j->rows[i];
        sqlite3_stmt *st = store_stmt(c, SQL_DEVICE_STATE, err);
        if (!st)
            return err->status;
        sqlite3_bind_int64(st, 1, r->id);
        if (r->battery >= 0)
            sqlite3_bind_int(st, 2, r->battery);
        if (device_signal_known(r->signal)) /* else NULL: never reported */
            sqlite3_bind_int(st, 3, r->signal);
        sqlite3_bind_int64(st, 4, r->last_seen_at);
        if (r->has_location) {
            sqlite3_bind_double(st, 5, r->location.lat);
            sqlite3_bind_double(st, 6, r->location.lon);
            sqlite3_bind_int64(st, 7, r->located_at);
        }
        int rc = sqlite3_step(st);
        if (rc != SQLITE_DONE)
            return store_fail(c, rc, "saving a device's state", err);
    }
    return LINLI_OK;
}

static int flush_row_cmp(const void *a, const void *b)
{
    int64_t x = ((const struct flush_row *)a)->id, y = ((const struct flush_row *)b)->id;
    return (x > y) - (x < y);
}

/* Puts rows whose write failed back on their shards' dirty lists: the next
 * flush tries again (newer values win). */
static void flush_put_back(struct devices_state *s, const struct flush_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t h = hash_serial(rows[i].serial);
        struct shard *sh = shard_of(s, h);
        pthread_mutex_lock(&sh->lock);
        struct entry *e = find(sh, h, rows[i].serial);
        if (e && e->known)
            mark_dirty(s, sh, e);
        pthread_mutex_unlock(&sh->lock);
    }
}

int devices_flush(struct domain *d, struct linli_err *err)
{
    struct devices_state *s = __atomic_load_n(&d->devices, __ATOMIC_ACQUIRE);
    if (!s || atomic_load(&s->dirty) == 0)
        return LINLI_OK;
    size_t cap = (size_t)atomic_load(&s->dirty) + 64, n = 0;
    struct flush_row *rows = malloc(cap * sizeof *rows);
    if (!rows)
        return linli_fail(err, LINLI_ENOMEM, "Out of memory for a device flush.");
    for (int i = 0; i < SHARDS; i++) {
        struct shard *sh = &s->shards[i];
        pthread_mutex_lock(&sh->lock);
        while (sh->dirty) {
            if (n == cap) {
                struct flush_row *more = realloc(rows, cap * 2 * sizeof *rows);
                if (!more)
                    break; /* the rest waits for the next flush */
                rows = more;
                cap *= 2;
            }
            struct entry *e = sh->dirty;
            sh->dirty = e->dirty_next;
            e->dirty_next = NULL;
            e->dirty = false;
            atomic_fetch_sub(&s->dirty, 1);
            if (!e->known)
                continue;
            struct flush_row *r = &rows[n++];
            memcpy(r->serial, e->serial, sizeof r->serial);
            r->id = e->id;
            r->battery = e->battery;
            r->signal = e->signal;
            r->last_seen_at = e->last_seen_at;
            r->has_location = e->has_location;
            r->location = e->location;
            r->located_at = e->located_at;
        }
        pthread_mutex_unlock(&sh->lock);
    }
    /* In id order, so that each chunk updates neighbouring rows: the pages it
     * dirties stay few and in SQLite's page cache. In the shards' hash order
     * a large flush spilled the cache and read pages back over and over. */
    qsort(rows, n, sizeof *rows, flush_row_cmp);
    int rc = LINLI_OK;
    for (size_t first = 0; first < n; first += FLUSH_CHUNK_ROWS) {
        size_t m = n - first < FLUSH_CHUNK_ROWS ? n - first : FLUSH_CHUNK_ROWS;
        struct flush_job j = {rows + first, m};
        if ((rc = store_write(d->store, flush_job, &j, err))) {
            atomic_fetch_add(&s->flush_failures, 1);
            flush_put_back(s, rows + first, n - first);
            break;
        }
        atomic_fetch_add(&s->flushed_rows, m);
    }
    if (!rc)
        atomic_fetch_add(&s->flushes, 1);
    free(rows);
    return rc;
}

/* ---- metrics ---- */

void devices_metrics_render(struct domain *d, struct buf *out)
{
    struct devices_state *s = devices__state(d);
    if (!s)
        return;
    buf_printf(out, "# HELP linli_device_events_total Device events by door, kind and outcome.\n"
                    "# TYPE linli_device_events_total counter\n");
    for (int door = 0; door < 2; door++)
        for (int k = 0; k <= DEV_KINDS; k++)
            for (int o = 0; o < DEVICES__OUTCOMES; o++) {
                uint64_t v = atomic_load(&s->counts[door][k][o]);
                /* Always show the accepted and refused series of each door, so
                 * a dashboard sees zeros before the first event. */
                if (!v &&
                    !(k == DEV_KINDS && o >= DEVICES__OUT_UNKNOWN_DEVICE &&
                      o <= DEVICES__OUT_REPLAYED) &&
                    !(k == DEV_KEY && o <= DEVICES__OUT_DUPLICATE) &&
                    !(k == DEV_HEARTBEAT && o == 0))
                    continue;
                buf_printf(out,
                           "linli_device_events_total{door=\"%s\",kind=\"%s\",outcome=\"%s\"} "
                           "%" PRIu64 "\n",
                           door_names[door], device_event_kind_name(k), outcome_names[o], v);
            }
    buf_printf(out,
               "# HELP linli_device_heartbeats_pending Devices whose state waits for a flush.\n"
               "# TYPE linli_device_heartbeats_pending gauge\nlinli_device_heartbeats_pending "
               "%ld\n"
               "# HELP linli_device_flushes_total Flushes of device state to the store.\n"
               "# TYPE linli_device_flushes_total counter\nlinli_device_flushes_total %" PRIu64 "\n"
               "# HELP linli_device_flushed_rows_total Device rows written by flushes.\n"
               "# TYPE linli_device_flushed_rows_total counter\n"
               "linli_device_flushed_rows_total %" PRIu64 "\n"
               "# HELP linli_device_flush_failures_total Flushes that failed (retried).\n"
               "# TYPE linli_device_flush_failures_total counter\n"
               "linli_device_flush_failures_total %" PRIu64 "\n"
               "# HELP linli_device_low_battery_tasks_total Tasks made by heartbeats with a low "
               "battery.\n"
               "# TYPE linli_device_low_battery_tasks_total counter\n"
               "linli_device_low_battery_tasks_total %" PRIu64 "\n"
               "# HELP linli_device_cache_entries Devices (and unknown serials) held in memory.\n"
               "# TYPE linli_device_cache_entries gauge\nlinli_device_cache_entries %ld\n"
               "# HELP linli_device_refusals_unlogged_total Refusals counted but not logged "
               "(log rate limit).\n"
               "# TYPE linli_device_refusals_unlogged_total counter\n"
               "linli_device_refusals_unlogged_total %" PRIu64 "\n",
               atomic_load(&s->dirty), (uint64_t)atomic_load(&s->flushes),
               (uint64_t)atomic_load(&s->flushed_rows), (uint64_t)atomic_load(&s->flush_failures),
               (uint64_t)atomic_load(&s->low_battery_tasks), atomic_load(&s->entries),
               (uint64_t)atomic_load(&s->log_suppressed));
}
