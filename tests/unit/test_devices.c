/* test_devices.c - devices, subscriptions and the intake (src/domain/devices.c,
 * devices_intake.c): signatures against vectors computed elsewhere, the
 * replay window's edges, duplicates, each malformed field named, events
 * without a subscription, heartbeats that reach the store only by a flush
 * (a large one in several write jobs), and a low battery that makes exactly
 * one task; on a real store holding one street with two communities and two
 * people. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "support.h"

#include "base/clock.h"
#include "base/log.h"
#include "domain/calls.h"
#include "domain/devices.h"
#include "domain/people.h"
#include "domain/registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DISTRICT "110105000000"
#define STREET   "110105001000"
#define C1       "110105001001"
#define C2       "110105001002"

struct fixture {
    char dir[64];
    char db[128];
    struct domain d;
    struct principal admin, community, resident;
    int64_t person1, person2; /* in C1, C2 */
    struct linli_err err;
};

static struct principal as_user(int64_t id, enum role role, const char *scope)
{
    struct principal p;
    memset(&p, 0, sizeof p);
    p.user_id = id;
    p.role = role;
    snprintf(p.username, sizeof p.username, "%s-%lld", role_name(role), (long long)id);
    snprintf(p.scope, sizeof p.scope, "%s", scope ? scope : "");
    snprintf(p.ip, sizeof p.ip, "10.0.0.9");
    return p;
}

static int64_t add_person(struct fixture *f, const char *name, const char *community)
{
    struct person_in in = {.name = name, .community_code = community, .consent = true};
    struct person p;
    linli_err_clear(&f->err);
    if (people_create(&f->d, &f->admin, &in, NULL, &p, NULL, &f->err))
        fail_msg("person %s: %s", name, f->err.detail);
    return p.id;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    *state = f;
    if (make_temp_dir("devices", f->dir, sizeof f->dir, "linli.db", f->db, sizeof f->db))
        return -1;
    linli_err_clear(&f->err);
    if (open_domain(&f->d, f->db, NULL, &f->err))
        return -1;
    f->admin = as_user(1, ROLE_ADMIN, NULL);
    f->community = as_user(2, ROLE_COMMUNITY, C1);
    f->resident = as_user(3, ROLE_RESIDENT, NULL);
    static const struct area_row rows[] = {
        {DISTRICT, "朝阳区", "", "district"},
        {STREET, "建外街道", DISTRICT, "street"},
        {C1, "一社区", STREET, "community"},
        {C2, "二社区", STREET, "community"},
    };
    struct principal sys;
    principal_system(&sys, "test");
    struct import_report rep;
    if (registry_import(&f->d, &sys, 2020, rows, sizeof rows / sizeof rows[0], NULL, 0, &rep,
                        &f->err))
        return -1;
    f->person1 = add_person(f, "周桂英", C1);
    f->person2 = add_person(f, "吴秀兰", C2);
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    calls_close_dispatch(&f->d);
    devices_close(&f->d);
    close_domain(&f->d);
    remove_tree(f->dir);
    free(f);
    return 0;
}

/* ---- helpers ---- */

struct dev {
    int64_t id;
    char serial[DEVICE_SERIAL_MAX + 1];
    char secret[2 * DEVICE_SECRET_BYTES + 1];
};

static struct dev device_ok(struct fixture *f, const char *serial)
{
    struct dev out;
    struct device d;
    struct device_in in = {serial, "LX-5", "1.0"};
    linli_err_clear(&f->err);
    if (devices_create(&f->d, &f->admin, &in, &d, out.secret, &f->err))
        fail_msg("device %s: %s", serial, f->err.detail);
    out.id = d.id;
    snprintf(out.serial, sizeof out.serial, "%s", serial);
    return out;
}

static int64_t subscribe_ok(struct fixture *f, int64_t device, int64_t person)
{
    struct subscription s;
    linli_err_clear(&f->err);
    if (subscriptions_create(&f->d, &f->admin, device, person, 0, 0, &s, &f->err))
        fail_msg("subscribe: %s", f->err.detail);
    return s.id;
}

/* Sends `body` signed by `dv` with a timestamp `skew` seconds from now. */
static int send_at(struct fixture *f, const struct dev *dv, const char *body, int64_t skew,
                   struct intake_result *r)
{
    char ts[24], sig[65];
    snprintf(ts, sizeof ts, "%lld", (long long)(clock_now_ms() / 1000 + skew));
    devices_sign(dv->secret, ts, body, strlen(body), sig);
    linli_err_clear(&f->err);
    return devices_intake(&f->d, DOOR_HTTP, dv->serial, ts, sig, body, strlen(body), r, &f->err);
}

static int send_ev(struct fixture *f, const struct dev *dv, const char *body,
                   struct intake_result *r)
{
    return send_at(f, dv, body, 0, r);
}

static int64_t count_rows(struct fixture *f, const char *sql, const char *param)
{
    return sql_int(f->d.store, sql, param);
}

static const char *id_text(int64_t id, char buf[24])
{
    snprintf(buf, 24, "%lld", (long long)id);
    return buf;
}

/* ---- signatures ---- */

/* Vectors computed independently with Python's hmac module:
 *   k = bytes(range(32))
 *   hmac.new(k, b'1732500000.{"event_id":"e1","type":"key","key":"emergency"}',
 *            hashlib.sha256).hexdigest()
 *   hmac.new(k, b'0.', hashlib.sha256).hexdigest() */
static void test_sign_matches_independent_vectors(void **state)
{
    (void)state;
    const char *key = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    const char *body = "{\"event_id\":\"e1\",\"type\":\"key\",\"key\":\"emergency\"}";
    char sig[65];
    devices_sign(key, "1732500000", body, strlen(body), sig);
    assert_string_equal(sig, "84626cc43c0014bdc003c4434ea7c4b140465e129ab2fc76473cb93be1066bad");
    devices_sign(key, "0", "", 0, sig);
    assert_string_equal(sig, "0e80838223869e9517439e639ad55157d90d439a465b4e569e67014750fa80da");
    /* docs/devices.md's worked example, computed there with openssl dgst -mac HMAC */
    const char *doc = "{\"event_id\":\"k-20251125-0001\",\"type\":\"key\",\"key\":\"emergency\","
                      "\"battery\":78}";
    devices_sign("6f1c2a9e0b7d4f3851a6c2e9d0b4f7a1c3e5d7f9021b4d6f8a0c2e4f6b8d0a1c", "1764057600",
                 doc, strlen(doc), sig);
    assert_string_equal(sig, "2d2c44467f505b9549d0b7b5499943446c22795a82bb39dab10fbcc7b594d494");
}

static void test_signature_must_match_body_and_key(void **state)
{
    struct fixture *f = *state;
    struct dev dv = device_ok(f, "SIG-1");
    subscribe_ok(f, dv.id, f->person1);
    const char *body = "{\"event_id\":\"s1\",\"type\":\"checkin\"}";
    char ts[24], sig[65];
    snprintf(ts, sizeof ts, "%lld", (long long)(clock_now_ms() / 1000));
    devices_sign(dv.secret, ts, body, strlen(body), sig);
    struct intake_result r;
    /* one body byte changed */
    const char *other = "{\"event_id\":\"s2\",\"type\":\"checkin\"}";
    linli_err_clear(&f->err);
    assert_int_equal(
        devices_intake(&f->d, DOOR_HTTP, dv.serial, ts, sig, other, strlen(other), &r, &f->err),
        LINLI_EUNAUTH);
    assert_contains(f->err.detail, "signature");
    /* upper-case hex is the same signature */
    for (char *p = sig; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    linli_err_clear(&f->err);
    assert_ok(devices_intake(&f->d, DOOR_HTTP, dv.serial, ts, sig, body, strlen(body), &r, &f->err),
              &f->err);
    /* missing pieces */
    linli_err_clear(&f->err);
    assert_int_equal(
        devices_intake(&f->d, DOOR_HTTP, dv.serial, ts, NULL, body, strlen(body), &r, &f->err),
        LINLI_EUNAUTH);
    linli_err_clear(&f->err);
    assert_int_equal(
        devices_intake(&f->d, DOOR_HTTP, dv.serial, "12ab", sig, body, strlen(body), &r, &f->err),
        LINLI_EUNAUTH);
    assert_contains(f->err.detail, "timestamp");
}

static void test_unknown_and_retired_devices_are_refused(void **state)
{
    struct fixture *f = *state;
    struct dev ghost = {0, "GHOST-1", ""};
    memset(ghost.secret, '0', 64);
    ghost.secret[64] = '\0';
    struct intake_result r;
    assert_int_equal(send_ev(f, &ghost, "{\"event_id\":\"g\",\"type\":\"heartbeat\"}", &r),
                     LINLI_EUNAUTH);
    assert_contains(f->err.detail, "Unknown device");
    /* registered afterwards: known at once, although it was remembered as unknown */
    struct dev dv = device_ok(f, "GHOST-1");
    assert_ok(send_ev(f, &dv, "{\"event_id\":\"g\",\"type\":\"heartbeat\"}", &r), &f->err);
    struct dev old = device_ok(f, "OLD-1");
    sql_exec(f->d.store, "UPDATE devices SET status = 'retired' WHERE serial = 'OLD-1'");
    assert_int_equal(send_ev(f, &old, "{\"event_id\":\"o\",\"type\":\"heartbeat\"}", &r),
                     LINLI_EUNAUTH);
    assert_contains(f->err.detail, "retired");
}

/* ---- the replay window ---- */

static void test_replay_window_edges(void **state)
{
    struct fixture *f = *state;
    struct dev dv = device_ok(f, "WIN-1");
    subscribe_ok(f, dv.id, f->person1);
    struct intake_result r;
    /* A second may tick between signing and checking: stay 1-2 s off the edge. */
    int64_t inside = DEVICE_REPLAY_WINDOW_S - 1, outside = DEVICE_REPLAY_WINDOW_S + 2;
    assert_ok(send_at(f, &dv, "{\"event_id\":\"w1\",\"type\":\"checkin\"}", -inside, &r), &f->err);
    assert_ok(send_at(f, &dv, "{\"event_id\":\"w2\",\"type\":\"checkin\"}", inside, &r), &f->err);
    assert_int_equal(send_at(f, &dv, "{\"event_id\":\"w3\",\"type\":\"checkin\"}", -outside, &r),
                     LINLI_EUNAUTH);
    assert_contains(f->err.detail, "timestamp");
    assert_int_equal(send_at(f, &dv, "{\"event_id\":\"w4\",\"type\":\"checkin\"}", outside, &r),
                     LINLI_EUNAUTH);
    char buf[24];
    assert_int_equal(count_rows(f, "SELECT COUNT(*) FROM device_events WHERE device_id = ?1",
                                id_text(dv.id, buf)),
                     2);
}

/* ---- durable events ---- */

static void test_key_press_makes_a_call_once(void **state)
{
    struct fixture *f = *state;
    struct dev dv = device_ok(f, "KEY-1");
    subscribe_ok(f, dv.id, f->person1);
    const char *body = "{\"event_id\":\"p-1\",\"type\":\"key\",\"key\":\"fire\",\"at\":1732500000}";
    struct intake_result r1, r2;
    assert_ok(send_ev(f, &dv, body, &r1), &f->err);
    assert_true(r1.durable);
    assert_false(r1.duplicate);
    assert_true(r1.call_id > 0);
    assert_int_equal(r1.kind, DEV_KEY);
    assert_string_equal(r1.event_id, "p-1");
    char buf[24];
    assert_int_equal(
        count_rows(f, "SELECT priority FROM calls WHERE id = ?1", id_text(r1.call_id, buf)), 0);
    char text[64];
    sql_text(f->d.store, "SELECT trigger FROM calls WHERE id = ?1", id_text(r1.call_id, buf), text,
             sizeof text);
    assert_string_equal(text, "fire");
    /* the same event id again, even re-signed later: the first answer */
    assert_ok(send_ev(f, &dv, body, &r2), &f->err);
    assert_true(r2.duplicate);
    assert_int_equal(r2.call_id, r1.call_id);
    assert_int_equal(r2.event_row, r1.event_row);
    assert_int_equal(
        count_rows(f, "SELECT COUNT(*) FROM calls WHERE device_id = ?1", id_text(dv.id, buf)), 1);
    assert_int_equal(count_rows(f, "SELECT device_at FROM device_events WHERE id = ?1",
                                id_text(r1.event_row, buf)),
                     1732500000000LL);
    /* a health key is not urgent */
    assert_ok(send_ev(f, &dv, "{\"event_id\":\"p-2\",\"type\":\"key\",\"key\":\"health\"}", &r1),
              &f->err);
    assert_int_equal(
        count_rows(f, "SELECT priority FROM calls WHERE id = ?1", id_text(r1.call_id, buf)), 1);
}

static void test_no_subscription_is_a_conflict_and_stores_nothing(void **state)
{
    struct fixture *f = *state;
    struct dev dv = device_ok(f, "NOSUB-1");
    struct intake_result r;
    assert_int_equal(send_ev(f, &dv, "{\"event_id\":\"n1\",\"type\":\"fall\"}", &r),
                     LINLI_ECONFLICT);
    assert_contains(f->err.detail, "subscription");
    assert_int_equal(count_rows(f, "SELECT COUNT(*) FROM device_events", NULL) -
                         count_rows(f,
                                    "SELECT COUNT(*) FROM device_events e JOIN devices d ON"
                                    " d.id = e.device_id WHERE d.serial <> 'NOSUB-1'",
                                    NULL),
                     0);
    assert_int_equal(count_rows(f,
                                "SELECT COUNT(*) FROM calls c JOIN devices d ON d.id = c.device_id"
                                " WHERE d.serial = 'NOSUB-1'",
                                NULL),
                     0);
    /* heartbeats and locations need nobody */
    assert_ok(send_ev(f, &dv, "{\"event_id\":\"n2\",\"type\":\"heartbeat\",\"battery\":90}", &r),
              &f->err);
    assert_false(r.durable);
    /* a subscription in this process is seen at once */
    int64_t sub = subscribe_ok(f, dv.id, f->person2);
    assert_ok(send_ev(f, &dv, "{\"event_id\":\"n3\",\"type\":\"fall\"}", &r), &f->err);
    char buf[24], text[16];
    sql_text(f->d.store, "SELECT community_code FROM calls WHERE id = ?1", id_text(r.call_id, buf),
             text, sizeof text);
    assert_string_equal(text, C2);
    struct subscription s;
    linli_err_clear(&f->err);
    assert_ok(subscriptions_end(&f->d, &f->admin, sub, 0, &s, &f->err), &f->err);
    assert_int_equal(send_ev(f, &dv, "{\"event_id\":\"n4\",\"type\":\"checkin\"}", &r),
                     LINLI_ECONFLICT);
}

static void test_malformed_fields_are_each_named(void **state)
{
    struct fixture *f = *state;
    struct dev dv = device_ok(f, "BAD-1");
    subscribe_ok(f, dv.id, f->person1);
    static const struct {
        const char *body, *field;
    } cases[] = {
        {"{\"type\":\"checkin\"}", "event_id"},
        {"{\"event_id\":\"\",\"type\":\"checkin\"}", "event_id"},
        {"{\"event_id\":\"a b\",\"type\":\"checkin\"}", "event_id"},
        {"{\"event_id\":\"x\"}", "type"},
        {"{\"event_id\":\"x\",\"type\":\"sing\"}", "type"},
        {"{\"event_id\":\"x\",\"type\":\"key\"}", "key"},
        {"{\"event_id\":\"x\",\"type\":\"key\",\"key\":\"pizza\"}", "key"},
        {"{\"event_id\":\"x\",\"type\":\"fall\",\"key\":\"fire\"}", "key"},
        {"{\"event_id\":\"x\",\"type\":\"heartbeat\",\"battery\":-1}", "battery"},
        {"{\"event_id\":\"x\",\"type\":\"heartbeat\",\"battery\":1.5}", "battery"},
        {"{\"event_id\":\"x\",\"type\":\"heartbeat\",\"signal\":-151}", "signal"},
        {"{\"event_id\":\"x\",\"type\":\"location\",\"lat\":39.9}", "lon"},
        {"{\"event_id\":\"x\",\"type\":\"location\",\"lat\":39.9,\"lon\":181}", "lon"},
        {"{\"event_id\":\"x\",\"type\":\"location\"}", "lat"},
        {"{\"event_id\":\"x\",\"type\":\"location\",\"lat\":1,\"lon\":1,\"crs\":\"bd09\"}", "crs"},
        {"{\"event_id\":\"x\",\"type\":\"heartbeat\",\"crs\":\"wgs84\"}", "crs"},
        {"{\"event_id\":\"x\",\"type\":\"no_activity\"}", "hours"},
        {"{\"event_id\":\"x\",\"type\":\"no_activity\",\"hours\":0}", "hours"},
        {"{\"event_id\":\"x\",\"type\":\"checkin\",\"hours\":3}", "hours"},
        {"{\"event_id\":\"x\",\"type\":\"checkin\",\"at\":-5}", "at"},
        {"{\"event_id\":\"x\",\"type\":\"checkin\",\"colour\":\"red\"}", "colour"},
    };
    struct intake_result r;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = send_ev(f, &dv, cases[i].body, &r);
        if (rc != LINLI_EINVAL)
            fail_msg("%s: %d, want EINVAL", cases[i].body, rc);
        if (!field_error(&f->err, cases[i].field))
            fail_msg("%s: no error on %s (first: %s)", cases[i].body, cases[i].field,
                     f->err.nfields ? f->err.fields[0].field : f->err.detail);
    }
    /* not JSON at all: EINVAL without fields */
    assert_int_equal(send_ev(f, &dv, "{\"event_id\":", &r), LINLI_EINVAL);
    assert_int_equal(f->err.nfields, 0);
    char buf[24];
    assert_int_equal(count_rows(f, "SELECT COUNT(*) FROM device_events WHERE device_id = ?1",
                                id_text(dv.id, buf)),
                     0);
}

/* ---- heartbeats ---- */

static void test_heartbeat_is_written_by_the_flush(void **state)
{
    struct fixture *f = *state;
    struct dev dv = device_ok(f, "HB-1");
    struct intake_result r;
    assert_ok(send_ev(f, &dv,
                      "{\"event_id\":\"h1\",\"type\":\"heartbeat\",\"battery\":77,\"signal\":-80}",
                      &r),
              &f->err);
    assert_false(r.durable);
    assert_int_equal(r.event_row, 0);
    char buf[24];
    id_text(dv.id, buf);
    /* not in the store yet, but in what devices_get answers */
    assert_int_equal(
        count_rows(f, "SELECT COUNT(*) FROM devices WHERE id = ?1 AND battery IS NULL", buf), 1);
    struct device d;
    linli_err_clear(&f->err);
    assert_ok(devices_get(&f->d, &f->admin, dv.id, &d, &f->err), &f->err);
    assert_int_equal(d.battery, 77);
    assert_int_equal(d.signal, -80);
    assert_true(d.last_seen_at > 0);
    assert_ok(send_ev(f, &dv,
                      "{\"event_id\":\"h2\",\"type\":\"location\",\"lat\":39.91,\"lon\":116.46}",
                      &r),
              &f->err);
    linli_err_clear(&f->err);
    assert_ok(devices_flush(&f->d, &f->err), &f->err);
    assert_int_equal(count_rows(f, "SELECT battery FROM devices WHERE id = ?1", buf), 77);
    assert_int_equal(count_rows(f, "SELECT signal FROM devices WHERE id = ?1", buf), -80);
    assert_true(count_rows(f, "SELECT last_seen_at FROM devices WHERE id = ?1", buf) > 0);
    assert_int_equal(
        count_rows(f, "SELECT CAST(ROUND(lat * 100) AS INTEGER) FROM devices WHERE id = ?1", buf),
        3991);
    /* nothing dirty: a second flush writes nothing and succeeds */
    assert_ok(devices_flush(&f->d, &f->err), &f->err);
    struct buf m;
    buf_init(&m, 1 << 20);
    devices_metrics_render(&f->d, &m);
    assert_contains(m.data, "linli_device_heartbeats_pending 0");
    assert_contains(m.data, "linli_device_events_total{door=\"http\",kind=\"heartbeat\",outcome="
                            "\"accepted\"}");
    buf_free(&m);
}

static void test_a_signal_never_reported_is_never_stored(void **state)
{
    struct fixture *f = *state;
    struct dev dv = device_ok(f, "HB-NOSIG");
    struct intake_result r;
    char buf[24];
    id_text(dv.id, buf);
    assert_ok(send_ev(f, &dv, "{\"event_id\":\"n1\",\"type\":\"heartbeat\",\"battery\":60}", &r),
              &f->err);
    struct device d;
    assert_ok(devices_get(&f->d, &f->admin, dv.id, &d, &f->err), &f->err);
    assert_int_equal(d.battery, 60);
    assert_false(device_signal_known(d.signal));
    assert_ok(devices_flush(&f->d, &f->err), &f->err);
    assert_int_equal(
        count_rows(f, "SELECT COUNT(*) FROM devices WHERE id = ?1 AND signal IS NULL", buf), 1);
    assert_int_equal(count_rows(f, "SELECT battery FROM devices WHERE id = ?1", buf), 60);
    /* a reading, then a heartbeat without one: the reading stays */
    assert_ok(send_ev(f, &dv, "{\"event_id\":\"n2\",\"type\":\"heartbeat\",\"signal\":-85}", &r),
              &f->err);
    assert_ok(send_ev(f, &dv, "{\"event_id\":\"n3\",\"type\":\"heartbeat\",\"battery\":59}", &r),
              &f->err);
    assert_ok(devices_flush(&f->d, &f->err), &f->err);
    assert_int_equal(count_rows(f, "SELECT signal FROM devices WHERE id = ?1", buf), -85);
    assert_ok(devices_get(&f->d, &f->admin, dv.id, &d, &f->err), &f->err);
    assert_int_equal(d.signal, -85);
    assert_true(device_signal_known(d.signal));
    /* the bounds of the dBm range are readings; a mark outside it is not */
    assert_true(device_signal_known(DEVICE_SIGNAL_MIN) && device_signal_known(DEVICE_SIGNAL_MAX));
    assert_false(device_signal_known(DEVICE_SIGNAL_UNKNOWN));
}

/* linli_store_jobs_total, the write jobs the store has run. */
static long long store_jobs(struct fixture *f)
{
    struct buf m;
    buf_init(&m, 1 << 20);
    store_metrics_render(f->d.store, &m);
    const char *at = strstr(m.data, "\nlinli_store_jobs_total ");
    long long jobs = at ? atoll(at + strlen("\nlinli_store_jobs_total ")) : -1;
    buf_free(&m);
    return jobs;
}

/* More devices than one flush job holds: all are written, in several jobs
 * (so a durable event never waits behind one long transaction). */
static void test_a_large_flush_writes_every_device_in_several_jobs(void **state)
{
    struct fixture *f = *state;
    enum { N = 5000 };
    static const char secret[] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    char sql[512];
    snprintf(sql, sizeof sql,
             "INSERT INTO devices (serial, secret, created_at, updated_at)"
             " WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d)"
             " SELECT 'BULK-' || i, '%s', 1, 1 FROM n",
             N, secret);
    sql_exec(f->d.store, sql);
    struct intake_result r;
    for (int i = N; i >= 1; i--) { /* against id order: the flush sorts */
        struct dev dv = {.id = 0};
        snprintf(dv.serial, sizeof dv.serial, "BULK-%d", i);
        snprintf(dv.secret, sizeof dv.secret, "%s", secret);
        char body[96];
        snprintf(body, sizeof body, "{\"event_id\":\"b%d\",\"type\":\"heartbeat\",\"battery\":66}",
                 i);
        assert_ok(send_ev(f, &dv, body, &r), &f->err);
    }
    long long jobs = store_jobs(f);
    linli_err_clear(&f->err);
    assert_ok(devices_flush(&f->d, &f->err), &f->err);
    assert_true(store_jobs(f) - jobs >= 2);
    assert_int_equal(count_rows(f, "SELECT COUNT(*) FROM devices WHERE battery = ?1", "66"), N);
    struct buf m;
    buf_init(&m, 1 << 20);
    devices_metrics_render(&f->d, &m);
    assert_contains(m.data, "linli_device_heartbeats_pending 0");
    assert_contains(m.data, "linli_device_flushed_rows_total 5000");
    assert_contains(m.data, "linli_device_flushes_total 1\n");
    buf_free(&m);
}

static void test_low_battery_makes_exactly_one_task(void **state)
{
    struct fixture *f = *state;
    struct dev dv = device_ok(f, "LOW-1");
    subscribe_ok(f, dv.id, f->person1);
    char body[128], buf[24];
    id_text(dv.id, buf);
    static const int levels[] = {60, DEVICE_LOW_BATTERY_PCT + 1, DEVICE_LOW_BATTERY_PCT, 15, 9, 5};
    struct intake_result r;
    int made = 0;
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
        snprintf(body, sizeof body, "{\"event_id\":\"b%zu\",\"type\":\"heartbeat\",\"battery\":%d}",
                 i, levels[i]);
        assert_ok(send_ev(f, &dv, body, &r), &f->err);
        made += r.task_id != 0;
    }
    assert_int_equal(made, 1);
    assert_int_equal(count_rows(f,
                                "SELECT COUNT(*) FROM tasks WHERE device_id = ?1"
                                " AND kind = 'low_battery' AND state = 'open'",
                                buf),
                     1);
    /* charged, then low again: the open task is the one (deduplicated) */
    assert_ok(send_ev(f, &dv, "{\"event_id\":\"c1\",\"type\":\"heartbeat\",\"battery\":95}", &r),
              &f->err);
    assert_ok(send_ev(f, &dv, "{\"event_id\":\"c2\",\"type\":\"heartbeat\",\"battery\":3}", &r),
              &f->err);
    assert_int_equal(count_rows(f, "SELECT COUNT(*) FROM tasks WHERE device_id = ?1", buf), 1);
    /* the device saying so itself is a durable event, same task */
    assert_ok(send_ev(f, &dv, "{\"event_id\":\"c3\",\"type\":\"low_battery\",\"battery\":3}", &r),
              &f->err);
    assert_true(r.durable);
    assert_int_equal(count_rows(f, "SELECT COUNT(*) FROM tasks WHERE device_id = ?1", buf), 1);
}

static void test_no_activity_and_cancel(void **state)
{
    struct fixture *f = *state;
    struct dev dv = device_ok(f, "NA-1");
    subscribe_ok(f, dv.id, f->person1);
    struct intake_result r;
    assert_ok(send_ev(f, &dv, "{\"event_id\":\"na\",\"type\":\"no_activity\",\"hours\":24}", &r),
              &f->err);
    assert_true(r.task_id > 0);
    char buf[24], text[32];
    sql_text(f->d.store, "SELECT kind FROM tasks WHERE id = ?1", id_text(r.task_id, buf), text,
             sizeof text);
    assert_string_equal(text, "no_activity");
    /* a cancel with no call waiting is stored, with no call */
    assert_ok(send_ev(f, &dv, "{\"event_id\":\"x0\",\"type\":\"cancel\"}", &r), &f->err);
    assert_int_equal(r.call_id, 0);
    assert_ok(send_ev(f, &dv, "{\"event_id\":\"k\",\"type\":\"key\",\"key\":\"family\"}", &r),
              &f->err);
    int64_t call = r.call_id;
    assert_ok(send_ev(f, &dv, "{\"event_id\":\"x1\",\"type\":\"cancel\"}", &r), &f->err);
    assert_int_equal(r.call_id, call);
    sql_text(f->d.store, "SELECT state FROM calls WHERE id = ?1", id_text(call, buf), text,
             sizeof text);
    assert_string_equal(text, "abandoned");
}

/* ---- memory ---- */

/* A change written around this process (as the linli command would) is
 * seen within DEVICE_CACHE_MS and a little. */
static void test_changes_by_another_process_are_seen_within_seconds(void **state)
{
    struct fixture *f = *state;
    struct dev dv = device_ok(f, "OTHER-1");
    subscribe_ok(f, dv.id, f->person1);
    struct intake_result r;
    assert_ok(send_ev(f, &dv, "{\"event_id\":\"o1\",\"type\":\"checkin\"}", &r), &f->err);
    struct dev fresh = dv;
    memset(fresh.secret, 'a', 64);
    sql_exec(f->d.store, "UPDATE devices SET secret = '"
                         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',"
                         " updated_at = updated_at + 1 WHERE serial = 'OTHER-1'");
    int rc = -1;
    char body[80];
    for (int i = 0; i < 100 && rc != LINLI_OK; i++) { /* at most 5 s */
        snprintf(body, sizeof body, "{\"event_id\":\"o2-%d\",\"type\":\"checkin\"}", i);
        rc = send_ev(f, &fresh, body, &r);
        if (rc != LINLI_OK)
            sleep_ms(50);
    }
    assert_int_equal(rc, LINLI_OK);
    assert_int_equal(send_ev(f, &dv, "{\"event_id\":\"o3\",\"type\":\"checkin\"}", &r),
                     LINLI_EUNAUTH);
}

/* ---- the register ---- */

static void test_register_rules(void **state)
{
    struct fixture *f = *state;
    struct device d;
    char secret[65];
    struct device_in in = {"REG-1", "M", "F"};
    linli_err_clear(&f->err);
    assert_int_equal(devices_create(&f->d, &f->resident, &in, &d, secret, &f->err),
                     LINLI_EFORBIDDEN);
    linli_err_clear(&f->err);
    assert_ok(devices_create(&f->d, &f->community, &in, &d, secret, &f->err), &f->err);
    assert_int_equal((int)strlen(secret), 64);
    char stored[80];
    sql_text(f->d.store, "SELECT secret FROM devices WHERE serial = 'REG-1'", NULL, stored,
             sizeof stored);
    assert_string_equal(stored, secret);
    linli_err_clear(&f->err);
    assert_int_equal(devices_create(&f->d, &f->admin, &in, &d, secret, &f->err), LINLI_ECONFLICT);
    struct device_in bad = {"no spaces", "x", "y"};
    linli_err_clear(&f->err);
    assert_int_equal(devices_create(&f->d, &f->admin, &bad, &d, secret, &f->err), LINLI_EINVAL);
    assert_field_error(&f->err, "serial", "letters");
    /* community staff subscribe only people of their community */
    struct subscription s;
    linli_err_clear(&f->err);
    assert_int_equal(
        subscriptions_create(&f->d, &f->community, d.id, f->person2, 0, 0, &s, &f->err),
        LINLI_EINVAL);
    assert_field_error(&f->err, "person_id", "scope");
    int64_t start = clock_now_ms() + 3600 * 1000;
    linli_err_clear(&f->err);
    assert_ok(subscriptions_create(&f->d, &f->community, d.id, f->person1, start,
                                   start + 7200 * 1000, &s, &f->err),
              &f->err);
    /* overlapping: refused; before it: fine */
    linli_err_clear(&f->err);
    assert_int_equal(
        subscriptions_create(&f->d, &f->admin, d.id, f->person2, start + 1000, 0, &s, &f->err),
        LINLI_ECONFLICT);
    linli_err_clear(&f->err);
    assert_ok(subscriptions_create(&f->d, &f->admin, d.id, f->person2, 0, start, &s, &f->err),
              &f->err);
    linli_err_clear(&f->err);
    assert_ok(devices_get(&f->d, &f->admin, d.id, &d, &f->err), &f->err);
    assert_int_equal(d.person_id, f->person2);
    /* rotating changes the stored secret */
    char fresh[65];
    linli_err_clear(&f->err);
    assert_ok(devices_rotate_secret(&f->d, &f->admin, d.id, fresh, &f->err), &f->err);
    assert_string_not_equal(fresh, secret);
}

int main(void)
{
    log_set_level(LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sign_matches_independent_vectors),
        cmocka_unit_test_setup_teardown(test_signature_must_match_body_and_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_and_retired_devices_are_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_replay_window_edges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_press_makes_a_call_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_subscription_is_a_conflict_and_stores_nothing,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_fields_are_each_named, setup, teardown),
        cmocka_unit_test_setup_teardown(test_heartbeat_is_written_by_the_flush, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_signal_never_reported_is_never_stored, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_large_flush_writes_every_device_in_several_jobs,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_low_battery_makes_exactly_one_task, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_activity_and_cancel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changes_by_another_process_are_seen_within_seconds,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_register_rules, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
