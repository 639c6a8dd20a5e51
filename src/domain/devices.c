/* devices.c - the register of one-key-call devices and subscriptions:
 * registering a device (with its secret), rotating the secret, reading and
 * listing devices, binding a device to a person for a time and ending that.
 * Owns the devices and subscriptions tables (device_events is written by
 * devices_intake.c). Every write is audited in its job, and after its
 * commit tells the intake's memory to read the device again. */
#include "domain/devices.h"

#include "base/clock.h"
#include "base/jx.h"
#include "domain/audit.h"
#include "domain/devices_internal.h"
#include "domain/people.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool devices_may_manage(enum role r)
{
    return r == ROLE_ADMIN || r == ROLE_DISTRICT || r == ROLE_STREET || r == ROLE_COMMUNITY;
}

/* Reading devices: managers, and operators and auditors who see the state. */
static bool may_read(enum role r)
{
    return devices_may_manage(r) || r == ROLE_OPERATOR || r == ROLE_AUDITOR;
}

static int forbidden(struct linli_err *err, const char *what)
{
    return linli_fail(err, LINLI_EFORBIDDEN,
                      "Only admins and district, street or community staff may %s.", what);
}

/* 0 when `s` is at most `max` characters of UTF-8 without control characters. */
static void check_text(const char *field, const char *s, size_t max, struct linli_err *err)
{
    if (!s)
        return;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7F) {
            linli_field(err, field, "must not contain control characters");
            return;
        }
    if (jx_utf8_len(s) > max)
        linli_field(err, field, "must be at most %zu characters", max);
}

static void new_secret(unsigned char bin[DEVICE_SECRET_BYTES],
                       char hex[2 * DEVICE_SECRET_BYTES + 1])
{
    randombytes_buf(bin, DEVICE_SECRET_BYTES);
    sodium_bin2hex(hex, 2 * DEVICE_SECRET_BYTES + 1, bin, DEVICE_SECRET_BYTES);
    sodium_memzero(bin, DEVICE_SECRET_BYTES);
}

/* ---- rows ---- */

#define DEVICE_COLUMNS                                                                             \
    "d.id, d.serial, d.model, d.firmware, d.status, d.battery, d.signal, d.last_seen_at, d.lat,"   \
    " d.lon, d.located_at, d.created_at, d.updated_at, s.id, s.person_id"
#define DEVICE_FROM                                                                                \
    " FROM devices d LEFT JOIN subscriptions s ON s.device_id = d.id AND s.starts_at <= ?9"        \
    " AND (s.ends_at IS NULL OR s.ends_at > ?9)"

static const char SQL_DEVICE_GET[] = "SELECT " DEVICE_COLUMNS DEVICE_FROM " WHERE d.id = ?1";
static const char SQL_DEVICE_LIST[] =
    "SELECT " DEVICE_COLUMNS DEVICE_FROM " WHERE d.id > ?1 ORDER BY d.id LIMIT ?2";
static const char SQL_DEVICE_INSERT[] =
    "INSERT INTO devices (serial, model, firmware, secret, created_at, updated_at)"
    " VALUES (?, ?, ?, ?, ?, ?5) ON CONFLICT (serial) DO NOTHING RETURNING id";
static const char SQL_DEVICE_SECRET[] =
    "UPDATE devices SET secret = ?2, updated_at = ?3 WHERE id = ?1 RETURNING serial";

static void copy_col(char *dst, size_t size, sqlite3_stmt *st, int i)
{
    const unsigned char *v = sqlite3_column_text(st, i);
    snprintf(dst, size, "%s", v ? (const char *)v : "");
}

static int64_t col_i64(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, i);
}

static void device_from_row(sqlite3_stmt *st, struct device *o)
{
    memset(o, 0, sizeof *o);
    o->id = sqlite3_column_int64(st, 0);
    copy_col(o->serial, sizeof o->serial, st, 1);
    copy_col(o->model, sizeof o->model, st, 2);
    copy_col(o->firmware, sizeof o->firmware, st, 3);
    const unsigned char *status = sqlite3_column_text(st, 4);
    o->retired = status && !strcmp((const char *)status, "retired");
    o->battery = sqlite3_column_type(st, 5) == SQLITE_NULL ? DEVICE_BATTERY_UNKNOWN
                                                           : sqlite3_column_int(st, 5);
    o->signal = sqlite3_column_type(st, 6) == SQLITE_NULL ? DEVICE_SIGNAL_UNKNOWN
                                                          : sqlite3_column_int(st, 6);
    o->last_seen_at = col_i64(st, 7);
    o->has_location = sqlite3_column_type(st, 8) != SQLITE_NULL;
    o->location.lat = sqlite3_column_double(st, 8);
    o->location.lon = sqlite3_column_double(st, 9);
    o->located_at = col_i64(st, 10);
    o->created_at = sqlite3_column_int64(st, 11);
    o->updated_at = sqlite3_column_int64(st, 12);
    o->subscription_id = col_i64(st, 13);
    o->person_id = col_i64(st, 14);
}

static int load_device(struct store_conn *c, int64_t id, int64_t now, struct device *out,
                       bool *found, struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_DEVICE_GET, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 9, now);
    int rc = sqlite3_step(st);
    *found = rc == SQLITE_ROW;
    if (rc == SQLITE_ROW)
        device_from_row(st, out);
    else if (rc != SQLITE_DONE)
        return store_fail(c, rc, "reading a device", err);
    sqlite3_reset(st);
    return LINLI_OK;
}

static int audit_device(struct store_conn *c, const struct principal *who, const char *action,
                        int64_t id, const char *serial, struct linli_err *err)
{
    char object[40];
    snprintf(object, sizeof object, "device:%lld", (long long)id);
    json_t *detail = json_pack("{s:s}", "serial", serial);
    int rc = audit_append(c, who, action, object, detail, err);
    json_decref(detail);
    return rc;
}

/* ---- create, rotate ---- */

struct create_job {
    const struct principal *who;
    const struct device_in *in;
    const char *secret;
    struct device *out;
};

static int create_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct create_job *j = arg;
    int64_t now = clock_now_ms();
    sqlite3_stmt *st = store_stmt(c, SQL_DEVICE_INSERT, err);
    if (!st)
        return err->status;
    sqlite3_bind_text(st, 1, j->in->serial, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, j->in->model ? j->in->model : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, j->in->firmware ? j->in->firmware : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, j->secret, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 5, now);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        return linli_fail(err, LINLI_ECONFLICT, "A device with serial %s is already registered.",
                          j->in->serial);
    if (rc != SQLITE_ROW)
        return store_fail(c, rc, "registering a device", err);
    int64_t id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    bool found;
    if ((rc = load_device(c, id, now, j->out, &found, err)))
        return rc;
    return audit_device(c, j->who, "device.create", id, j->in->serial, err);
}

int devices_create(struct domain *d, const struct principal *who, const struct device_in *in,
                   struct device *out, char secret_hex[2 * DEVICE_SECRET_BYTES + 1],
                   struct linli_err *err)
{
    if (!devices_may_manage(who->role))
        return forbidden(err, "register devices");
    if (!in->serial || !*in->serial)
        linli_field(err, "serial", "is required");
    else if (!devices__serial_ok(in->serial))
        linli_field(err, "serial", "must be 1 to %d letters, digits, '-' or '_'",
                    DEVICE_SERIAL_MAX);
    check_text("model", in->model, DEVICE_TEXT_MAX, err);
    check_text("firmware", in->firmware, DEVICE_TEXT_MAX, err);
    if (err->nfields)
        return LINLI_EINVAL;
    unsigned char bin[DEVICE_SECRET_BYTES];
    new_secret(bin, secret_hex);
    struct create_job j = {who, in, secret_hex, out};
    int rc = store_write(d->store, create_job, &j, err);
    if (rc) {
        sodium_memzero(secret_hex, 2 * DEVICE_SECRET_BYTES + 1);
        return rc;
    }
    devices__forget(d, out->serial); /* it may be remembered as unknown */
    return LINLI_OK;
}

struct rotate_job {
    const struct principal *who;
    int64_t id;
    const char *secret;
    char serial[DEVICE_SERIAL_MAX + 1];
};

static int rotate_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct rotate_job *j = arg;
    sqlite3_stmt *st = store_stmt(c, SQL_DEVICE_SECRET, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, j->id);
    sqlite3_bind_text(st, 2, j->secret, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, clock_now_ms());
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        return linli_fail(err, LINLI_ENOTFOUND, "No device %lld.", (long long)j->id);
    if (rc != SQLITE_ROW)
        return store_fail(c, rc, "replacing a device's secret", err);
    copy_col(j->serial, sizeof j->serial, st, 0);
    sqlite3_reset(st);
    return audit_device(c, j->who, "device.rotate_secret", j->id, j->serial, err);
}

int devices_rotate_secret(struct domain *d, const struct principal *who, int64_t id,
                          char secret_hex[2 * DEVICE_SECRET_BYTES + 1], struct linli_err *err)
{
    if (!devices_may_manage(who->role))
        return forbidden(err, "replace device secrets");
    unsigned char bin[DEVICE_SECRET_BYTES];
    new_secret(bin, secret_hex);
    struct rotate_job j = {who, id, secret_hex, ""};
    int rc = store_write(d->store, rotate_job, &j, err);
    if (rc) {
        sodium_memzero(secret_hex, 2 * DEVICE_SECRET_BYTES + 1);
        return rc;
    }
    devices__forget(d, j.serial);
    return LINLI_OK;
}

/* ---- reads ---- */

struct get_args {
    int64_t id;
    struct device *out;
};

static int get_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct get_args *a = arg;
    bool found;
    int rc = load_device(c, a->id, clock_now_ms(), a->out, &found, err);
    if (rc == LINLI_OK && !found)
        return linli_fail(err, LINLI_ENOTFOUND, "No device %lld.", (long long)a->id);
    return rc;
}

int devices_get(struct domain *d, const struct principal *who, int64_t id, struct device *out,
                struct linli_err *err)
{
    if (!may_read(who->role))
        return linli_fail(err, LINLI_EFORBIDDEN, "Your role may not read devices.");
    struct get_args a = {id, out};
    int rc = store_read(d->store, get_job, &a, err);
    if (rc == LINLI_OK)
        devices__overlay(d, out);
    return rc;
}

struct list_args {
    int64_t after_id;
    int limit;
    struct device *items;
    int n;
    int64_t next;
};

static int list_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct list_args *a = arg;
    sqlite3_stmt *st = store_stmt(c, SQL_DEVICE_LIST, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, a->after_id);
    sqlite3_bind_int(st, 2, a->limit + 1);
    sqlite3_bind_int64(st, 9, clock_now_ms());
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (a->n == a->limit) {
            a->next = a->items[a->n - 1].id;
            break;
        }
        device_from_row(st, &a->items[a->n++]);
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_fail(c, rc, "listing devices", err);
    sqlite3_reset(st);
    return LINLI_OK;
}

int devices_list(struct domain *d, const struct principal *who, int64_t after_id, int limit,
                 struct device **items, int *n, int64_t *next, struct linli_err *err)
{
    if (!may_read(who->role))
        return linli_fail(err, LINLI_EFORBIDDEN, "Your role may not read devices.");
    if (limit < 1 || limit > DEVICES_PAGE_MAX)
        return linli_field(err, "limit", "must be between 1 and %d", DEVICES_PAGE_MAX);
    struct list_args a = {after_id, limit, calloc((size_t)limit, sizeof(struct device)), 0, 0};
    if (!a.items)
        return linli_fail(err, LINLI_ENOMEM, "out of memory");
    int rc = store_read(d->store, list_job, &a, err);
    if (rc) {
        free(a.items);
        return rc;
    }
    for (int i = 0; i < a.n; i++)
        devices__overlay(d, &a.items[i]);
    *items = a.items;
    *n = a.n;
    *next = a.next;
    return LINLI_OK;
}

/* ---- subscriptions ---- */

static const char SQL_PERSON_COMMUNITY[] = "SELECT community_code FROM people WHERE id = ?";
static const char SQL_DEVICE_BRIEF[] = "SELECT serial, status FROM devices WHERE id = ?";
static const char SQL_SUB_OVERLAP[] =
    "SELECT id FROM subscriptions WHERE device_id = ?1 AND (ends_at IS NULL OR ends_at > ?2)"
    " AND (?3 = 0 OR starts_at < ?3) LIMIT 1";
static const char SQL_SUB_INSERT[] =
    "INSERT INTO subscriptions (device_id, person_id, starts_at, ends_at, created_at, updated_at)"
    " VALUES (?, ?, ?, ?, ?, ?5) RETURNING id";
static const char SQL_SUB_GET[] =
    "SELECT s.id, s.device_id, s.person_id, s.starts_at, s.ends_at, s.created_at, s.updated_at,"
    " p.community_code, d.serial FROM subscriptions s JOIN people p ON p.id = s.person_id"
    " JOIN devices d ON d.id = s.device_id WHERE s.id = ?";
static const char SQL_SUB_END[] =
    "UPDATE subscriptions SET ends_at = ?2, updated_at = ?3 WHERE id = ?1";

/* 1 with the community of person `id`, 0 when there is no such person. */
static int person_community(struct store_conn *c, int64_t id, char out[AREA_CODE_LEN + 1],
                            struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_PERSON_COMMUNITY, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        return 0;
    if (rc != SQLITE_ROW)
        return store_fail(c, rc, "reading a person", err);
    copy_col(out, AREA_CODE_LEN + 1, st, 0);
    sqlite3_reset(st);
    return 1;
}

static int audit_subscription(struct store_conn *c, const struct principal *who, const char *action,
                              const struct subscription *s, struct linli_err *err)
{
    char object[48];
    snprintf(object, sizeof object, "subscription:%lld", (long long)s->id);
    json_t *detail =
        json_pack("{s:I, s:I, s:I}", "device_id", (json_int_t)s->device_id, "person_id",
                  (json_int_t)s->person_id, "starts_at", (json_int_t)s->starts_at);
    json_object_set_new(detail, "ends_at", s->ends_at ? json_integer(s->ends_at) : json_null());
    int rc = audit_append(c, who, action, object, detail, err);
    json_decref(detail);
    return rc;
}

static void sub_from_row(sqlite3_stmt *st, struct subscription *s)
{
    s->id = sqlite3_column_int64(st, 0);
    s->device_id = sqlite3_column_int64(st, 1);
    s->person_id = sqlite3_column_int64(st, 2);
    s->starts_at = sqlite3_column_int64(st, 3);
    s->ends_at = col_i64(st, 4);
    s->created_at = sqlite3_column_int64(st, 5);
    s->updated_at = sqlite3_column_int64(st, 6);
}

struct sub_create_job {
    const struct principal *who;
    int64_t device_id, person_id, starts_at, ends_at;
    struct subscription *out;
    char serial[DEVICE_SERIAL_MAX + 1];
};

static int sub_create_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct sub_create_job *j = arg;
    char community[AREA_CODE_LEN + 1];
    int rc = person_community(c, j->person_id, community, err);
    if (rc < 0)
        return rc;
    if (rc == 0 || !people_visible(j->who, community))
        return linli_field(err, "person_id", "no such person in your scope");
    sqlite3_stmt *st = store_stmt(c, SQL_DEVICE_BRIEF, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, j->device_id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        return linli_field(err, "device_id", "no such device");
    if (rc != SQLITE_ROW)
        return store_fail(c, rc, "reading a device", err);
    copy_col(j->serial, sizeof j->serial, st, 0);
    const unsigned char *status = sqlite3_column_text(st, 1);
    bool retired = status && !strcmp((const char *)status, "retired");
    sqlite3_reset(st);
    if (retired)
        return linli_fail(err, LINLI_ECONFLICT, "Device %lld is retired.", (long long)j->device_id);
    if (!(st = store_stmt(c, SQL_SUB_OVERLAP, err)))
        return err->status;
    sqlite3_bind_int64(st, 1, j->device_id);
    sqlite3_bind_int64(st, 2, j->starts_at);
    sqlite3_bind_int64(st, 3, j->ends_at);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        int64_t other = sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
        return linli_fail(err, LINLI_ECONFLICT,
                          "Device %lld is already subscribed for that time (subscription %lld).",
                          (long long)j->device_id, (long long)other);
    }
    if (rc != SQLITE_DONE)
        return store_fail(c, rc, "checking a device's subscriptions", err);
    int64_t now = clock_now_ms();
    if (!(st = store_stmt(c, SQL_SUB_INSERT, err)))
        return err->status;
    sqlite3_bind_int64(st, 1, j->device_id);
    sqlite3_bind_int64(st, 2, j->person_id);
    sqlite3_bind_int64(st, 3, j->starts_at);
    if (j->ends_at)
        sqlite3_bind_int64(st, 4, j->ends_at);
    sqlite3_bind_int64(st, 5, now);
    if ((rc = sqlite3_step(st)) != SQLITE_ROW)
        return store_fail(c, rc, "adding a subscription", err);
    *j->out = (struct subscription){.id = sqlite3_column_int64(st, 0),
                                    .device_id = j->device_id,
                                    .person_id = j->person_id,
                                    .starts_at = j->starts_at,
                                    .ends_at = j->ends_at,
                                    .created_at = now,
                                    .updated_at = now};
    sqlite3_reset(st);
    return audit_subscription(c, j->who, "subscription.create", j->out, err);
}

int subscriptions_create(struct domain *d, const struct principal *who, int64_t device_id,
                         int64_t person_id, int64_t starts_at, int64_t ends_at,
                         struct subscription *out, struct linli_err *err)
{
    if (!devices_may_manage(who->role))
        return forbidden(err, "subscribe devices");
    if (device_id <= 0)
        linli_field(err, "device_id", "must be a device id");
    if (person_id <= 0)
        linli_field(err, "person_id", "must be a person id");
    if (starts_at < 0)
        linli_field(err, "starts_at", "must be a time");
    if (!starts_at)
        starts_at = clock_now_ms();
    if (ends_at && ends_at <= starts_at)
        linli_field(err, "ends_at", "must be after starts_at");
    if (err->nfields)
        return LINLI_EINVAL;
    struct sub_create_job j = {who, device_id, person_id, starts_at, ends_at, out, ""};
    int rc = store_write(d->store, sub_create_job, &j, err);
    if (rc == LINLI_OK)
        devices__forget(d, j.serial);
    return rc;
}

struct sub_end_job {
    const struct principal *who;
    int64_t id, at;
    struct subscription *out;
    char serial[DEVICE_SERIAL_MAX + 1];
};

static int sub_end_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct sub_end_job *j = arg;
    sqlite3_stmt *st = store_stmt(c, SQL_SUB_GET, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, j->id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        return linli_fail(err, LINLI_ENOTFOUND, "No subscription %lld.", (long long)j->id);
    if (rc != SQLITE_ROW)
        return store_fail(c, rc, "reading a subscription", err);
    struct subscription s;
    sub_from_row(st, &s);
    char community[AREA_CODE_LEN + 1];
    copy_col(community, sizeof community, st, 7);
    copy_col(j->serial, sizeof j->serial, st, 8);
    sqlite3_reset(st);
    if (!people_visible(j->who, community))
        return linli_fail(err, LINLI_ENOTFOUND, "No subscription %lld.", (long long)j->id);
    int64_t now = clock_now_ms();
    if (s.ends_at && s.ends_at <= now)
        return linli_fail(err, LINLI_ECONFLICT, "Subscription %lld has already ended.",
                          (long long)j->id);
    if (j->at < s.starts_at)
        return linli_field(err, "at", "must not be before the subscription starts");
    if (s.ends_at && j->at > s.ends_at)
        return linli_field(err, "at", "must not be after the subscription's end");
    if (!(st = store_stmt(c, SQL_SUB_END, err)))
        return err->status;
    sqlite3_bind_int64(st, 1, j->id);
    sqlite3_bind_int64(st, 2, j->at);
    sqlite3_bind_int64(st, 3, now);
    if ((rc = sqlite3_step(st)) != SQLITE_DONE)
        return store_fail(c, rc, "ending a subscription", err);
    s.ends_at = j->at;
    s.updated_at = now;
    *j->out = s;
    return audit_subscription(c, j->who, "subscription.end", &s, err);
}

int subscriptions_end(struct domain *d, const struct principal *who, int64_t id, int64_t at,
                      struct subscription *out, struct linli_err *err)
{
    if (!devices_may_manage(who->role))
        return forbidden(err, "end subscriptions");
    if (at < 0)
        return linli_field(err, "at", "must be a time");
    struct sub_end_job j = {who, id, at ? at : clock_now_ms(), out, ""};
    int rc = store_write(d->store, sub_end_job, &j, err);
    if (rc == LINLI_OK)
        devices__forget(d, j.serial);
    return rc;
}
