/* users.c - accounts. */
#include "domain/users.h"

#include "base/clock.h"
#include "base/jx.h"
#include "domain/audit.h"
#include "domain/auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define USERS_PAGE_MAX 500

static const char SQL_USER_BY_ID[] = "SELECT " USER_COLUMNS " FROM users WHERE id = ?";
static const char SQL_USER_BY_NAME[] = "SELECT " USER_COLUMNS " FROM users WHERE username = ?";
static const char SQL_USER_INSERT[] =
    "INSERT INTO users (username, display_name, role, scope, password_hash, disabled,"
    " created_at, updated_at) VALUES (?, ?, ?, ?, ?, 0, ?, ?) RETURNING id";
static const char SQL_USER_LIST[] = "SELECT " USER_COLUMNS " FROM users"
                                    " WHERE id > ?1 AND (?2 IS NULL OR role = ?2)"
                                    " ORDER BY id LIMIT ?3";
static const char SQL_USER_COUNT[] = "SELECT count(*) FROM users";
static const char SQL_USER_UPDATE[] =
    "UPDATE users SET display_name = ?2, role = ?3, scope = ?4, disabled = ?5,"
    " password_hash = COALESCE(?6, password_hash), updated_at = ?7, must_change_password = ?8"
    " WHERE id = ?1";

/* Schema step 12 (src/store/migrations.c): existing accounts keep the
 * passwords they have without being asked to change them. */
const char users_reset_schema_sql[] =
    "ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;";

static void copy_text(char *dst, size_t size, const unsigned char *src)
{
    snprintf(dst, size, "%s", src ? (const char *)src : "");
}

void users_from_row(sqlite3_stmt *st, int i, struct user *u)
{
    memset(u, 0, sizeof *u);
    u->id = sqlite3_column_int64(st, i);
    copy_text(u->username, sizeof u->username, sqlite3_column_text(st, i + 1));
    copy_text(u->display_name, sizeof u->display_name, sqlite3_column_text(st, i + 2));
    const unsigned char *role = sqlite3_column_text(st, i + 3);
    if (!role || role_parse((const char *)role, &u->role) != 0)
        u->role = ROLE_RESIDENT; /* unreachable: roles are checked on the way in */
    copy_text(u->scope, sizeof u->scope, sqlite3_column_text(st, i + 4));
    u->disabled = sqlite3_column_int(st, i + 5) != 0;
    u->has_password = sqlite3_column_int(st, i + 6) != 0;
    u->created_at = sqlite3_column_int64(st, i + 7);
    u->updated_at = sqlite3_column_int64(st, i + 8);
    u->must_change_password = sqlite3_column_int(st, i + 9) != 0;
}

int users_check_username(const char *s, struct linli_err *err)
{
    size_t n = strlen(s);
    if (n < 3 || n > USERNAME_MAX)
        return linli_field(err, "username", "must be 3 to %d characters", USERNAME_MAX);
    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
        return linli_field(err, "username", "must start with a lowercase letter or a digit");
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return linli_field(err, "username",
                               "may hold only lowercase letters, digits, '.', '_' and '-'");
    }
    return LINLI_OK;
}

int users_check_password_as(const char *field, const char *p, struct linli_err *err)
{
    size_t n = strlen(p);
    if (jx_utf8_len(p) < PASSWORD_MIN)
        return linli_field(err, field, "must be at least %d characters", PASSWORD_MIN);
    if (n > PASSWORD_MAX)
        return linli_field(err, field, "must be at most %d bytes", PASSWORD_MAX);
    return LINLI_OK;
}

int users_check_password(const char *p, struct linli_err *err)
{
    return users_check_password_as("password", p, err);
}

/* Checks role and scope together: district, street and community staff need
 * a scope of their own level; admins have none. */
static int check_role_scope(const char *role_text, const char *scope_text, enum role *role,
                            char scope[AREA_CODE_LEN + 1], struct linli_err *err)
{
    if (!role_text || role_parse(role_text, role) != 0)
        return linli_field(err, "role",
                           "must be one of admin, district, street, community, operator, "
                           "provider, volunteer, resident, auditor");
    scope[0] = '\0';
    if (scope_text) {
        const char *why;
        if (area_code_normalize(scope_text, scope, &why) != 0)
            return linli_field(err, "scope", "%s", why);
    }
    if (*role == ROLE_ADMIN && scope[0])
        return linli_field(err, "scope", "an admin works for the whole system and has no scope");
    if (role_needs_scope(*role) && !scope[0])
        return linli_field(err, "scope", "the role %s needs an area scope (an area code)",
                           role_name(*role));
    static const int want_level[ROLE_COUNT] = {
        [ROLE_DISTRICT] = 0, [ROLE_STREET] = 1, [ROLE_COMMUNITY] = 2};
    if ((*role == ROLE_DISTRICT || *role == ROLE_STREET || *role == ROLE_COMMUNITY) &&
        area_code_level(scope) != want_level[*role])
        return linli_field(err, "scope", "a %s account needs a %s code", role_name(*role),
                           (const char *[]){"district", "street", "community"}[want_level[*role]]);
    return LINLI_OK;
}

struct read_one {
    const char *sql;
    int64_t id;
    const char *name;
    struct user *out;
};

static int read_one_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct read_one *a = arg;
    sqlite3_stmt *st = store_stmt(c, a->sql, err);
    if (!st)
        return err->status;
    if (a->name)
        sqlite3_bind_text(st, 1, a->name, -1, SQLITE_STATIC);
    else
        sqlite3_bind_int64(st, 1, a->id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        users_from_row(st, 0, a->out);
        return LINLI_OK;
    }
    if (rc == SQLITE_DONE)
        return linli_fail(err, LINLI_ENOTFOUND, "No such user.");
    return store_fail(c, rc, "reading a user", err);
}

static int load_in_job(struct store_conn *c, int64_t id, struct user *out, struct linli_err *err)
{
    struct read_one a = {SQL_USER_BY_ID, id, NULL, out};
    return read_one_job(c, &a, err);
}

int users_get(struct domain *d, const struct principal *who, int64_t id, struct user *out,
              struct linli_err *err)
{
    if (who->role != ROLE_ADMIN && who->role != ROLE_AUDITOR && who->user_id != id)
        return linli_fail(err, LINLI_ENOTFOUND, "No such user.");
    struct read_one a = {SQL_USER_BY_ID, id, NULL, out};
    return store_read(d->store, read_one_job, &a, err);
}

int users_get_by_name(struct domain *d, const struct principal *who, const char *username,
                      struct user *out, struct linli_err *err)
{
    struct read_one a = {SQL_USER_BY_NAME, 0, username, out};
    int rc = store_read(d->store, read_one_job, &a, err);
    if (rc == LINLI_OK && who->role != ROLE_ADMIN && who->role != ROLE_AUDITOR &&
        who->user_id != out->id)
        return linli_fail(err, LINLI_ENOTFOUND, "No such user.");
    return rc;
}

struct create_job {
    const struct principal *who;
    const struct user_new *in;
    enum role role;
    char scope[AREA_CODE_LEN + 1];
    const char *hash;
    const struct idem_req *idem;
    bool replayed;
    struct user *out;
};

static json_t *user_summary(const struct user *u)
{
    return json_pack("{s:I, s:s, s:s, s:o}", "id", (json_int_t)u->id, "username", u->username,
                     "role", role_name(u->role), "scope",
                     u->scope[0] ? json_string(u->scope) : json_null());
}

static int create_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct create_job *j = arg;
    int64_t id = 0;
    if (j->idem) {
        int found = idem_find(c, j->idem, &id, err);
        if (found < 0)
            return found;
        if (found) {
            j->replayed = true;
            return load_in_job(c, id, j->out, err);
        }
    }
    sqlite3_stmt *st = store_stmt(c, SQL_USER_INSERT, err);
    if (!st)
        return err->status;
    int64_t now = clock_now_ms();
    sqlite3_bind_text(st, 1, j->in->username, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, j->in->display_name ? j->in->display_name : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, role_name(j->role), -1, SQLITE_STATIC);
    if (j->scope[0])
        sqlite3_bind_text(st, 4, j->scope, -1, SQLITE_STATIC);
    if (j->hash)
        sqlite3_bind_text(st, 5, j->hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, now);
    sqlite3_bind_int64(st, 7, now);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        if ((rc & 0xff) == SQLITE_CONSTRAINT) {
            linli_field(err, "username", "is taken");
            return linli_fail(err, LINLI_ECONFLICT, "A user named %s exists already.",
                              j->in->username);
        }
        return store_fail(c, rc, "creating a user", err);
    }
    id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if ((rc = load_in_job(c, id, j->out, err)))
        return rc;
    char object[32];
    snprintf(object, sizeof object, "user:%lld", (long long)id);
    json_t *detail = user_summary(j->out);
    rc = audit_append(c, j->who, "user.create", object, detail, err);
    json_decref(detail);
    if (rc)
        return rc;
    if (j->idem && (rc = idem_record(c, j->idem, id, err)))
        return rc;
    return LINLI_OK;
}

int users_create(struct domain *d, const struct principal *who, const struct user_new *in,
                 const struct idem_req *idem, struct user *out, bool *replayed,
                 struct linli_err *err)
{
    if (who->role != ROLE_ADMIN)
        return linli_fail(err, LINLI_EFORBIDDEN, "Only admins may create accounts.");
    struct create_job j = {.who = who, .in = in, .idem = idem, .out = out};
    if (!in->username)
        linli_field(err, "username", "is required");
    else
        users_check_username(in->username, err);
    if (in->display_name && jx_utf8_len(in->display_name) > DISPLAY_NAME_MAX)
        linli_field(err, "display_name", "must be at most %d characters", DISPLAY_NAME_MAX);
    check_role_scope(in->role, in->scope, &j.role, j.scope, err);
    if (in->password)
        users_check_password(in->password, err);
    if (err->nfields)
        return LINLI_EINVAL;

    char hash[crypto_pwhash_STRBYTES];
    if (in->password) {
        int rc = auth_hash_password(d->auth, in->password, hash, err);
        if (rc)
            return rc;
        j.hash = hash;
    }
    int rc = store_write(d->store, create_job, &j, err);
    sodium_memzero(hash, sizeof hash);
    if (rc)
        return rc;
    if (replayed)
        *replayed = j.replayed;
    if (!j.replayed)
        domain_publish(d, "user.created", user_summary(out));
    return LINLI_OK;
}

struct list_job_args {
    const struct user_filter *f;
    struct user *items;
    int n;
    int64_t next;
};

static int list_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct list_job_args *a = arg;
    sqlite3_stmt *st = store_stmt(c, SQL_USER_LIST, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, a->f->after_id);
    if (a->f->role)
        sqlite3_bind_text(st, 2, a->f->role, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, a->f->limit + 1);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (a->n == a->f->limit) {
            a->next = a->items[a->n - 1].id;
            break;
        }
        users_from_row(st, 0, &a->items[a->n++]);
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_fail(c, rc, "listing users", err);
    return LINLI_OK;
}

int users_list(struct domain *d, const struct principal *who, const struct user_filter *f,
               struct user **items, int *n, int64_t *next, struct linli_err *err)
{
    if (who->role != ROLE_ADMIN && who->role != ROLE_AUDITOR)
        return linli_fail(err, LINLI_EFORBIDDEN, "Only admins and auditors may list accounts.");
    enum role r;
    if (f->role && role_parse(f->role, &r) != 0)
        return linli_field(err, "role", "is not a known role");
    if (f->limit < 1 || f->limit > USERS_PAGE_MAX)
        return linli_field(err, "limit", "must be between 1 and %d", USERS_PAGE_MAX);
    struct list_job_args a = {f, calloc((size_t)f->limit, sizeof(struct user)), 0, 0};
    if (!a.items)
        return linli_fail(err, LINLI_ENOMEM, "out of memory");
    int rc = store_read(d->store, list_job, &a, err);
    if (rc) {
        free(a.items);
        return rc;
    }
    *items = a.items;
    *n = a.n;
    *next = a.next;
    return LINLI_OK;
}

struct update_job {
    const struct principal *who;
    int64_t id;
    const struct user_patch *p;
    enum role role;
    char scope[AREA_CODE_LEN + 1];
    const char *hash;
    struct user *out;
    bool sessions_ended;
};

static int update_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct update_job *j = arg;
    const struct user_patch *p = j->p;
    struct user before;
    int rc = load_in_job(c, j->id, &before, err);
    if (rc)
        return rc;
    enum role role = p->set_role ? j->role : before.role;
    const char *scope = p->set_scope ? j->scope : before.scope;
    /* The pair must still make sense after a partial change. */
    struct linli_err check;
    linli_err_clear(&check);
    enum role r2;
    char s2[AREA_CODE_LEN + 1];
    if (check_role_scope(role_name(role), scope[0] ? scope : NULL, &r2, s2, &check)) {
        *err = check;
        return LINLI_EINVAL;
    }
    if (j->id == j->who->user_id &&
        ((p->set_disabled && p->disabled) || (p->set_role && role != ROLE_ADMIN)))
        return linli_fail(err, LINLI_ECONFLICT,
                          "You cannot disable your own account or take away your own admin role.");
    sqlite3_stmt *st = store_stmt(c, SQL_USER_UPDATE, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, j->id);
    sqlite3_bind_text(st, 2, p->set_display_name ? p->display_name : before.display_name, -1,
                      SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, role_name(role), -1, SQLITE_STATIC);
    if (scope[0])
        sqlite3_bind_text(st, 4, scope, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 5, p->set_disabled ? p->disabled : before.disabled);
    if (j->hash)
        sqlite3_bind_text(st, 6, j->hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, clock_now_ms());
    /* A password set by an admin for someone else is one its owner did not
     * choose; the command line (user_id 0) is the machine's operator, most
     * often resetting their own forgotten admin password. */
    bool must_change = p->set_password ? j->who->user_id != 0 && j->who->user_id != j->id
                                       : before.must_change_password;
    sqlite3_bind_int(st, 8, must_change);
    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        return store_fail(c, rc, "updating a user", err);
    sqlite3_reset(st);
    if ((p->set_disabled && p->disabled) || p->set_password || role != before.role ||
        strcmp(scope, before.scope) != 0) {
        if ((rc = auth_revoke_user_sessions(c, j->id, err)))
            return rc;
        j->sessions_ended = true;
    }
    if ((rc = load_in_job(c, j->id, j->out, err)))
        return rc;
    json_t *changed = json_array();
    if (p->set_display_name)
        json_array_append_new(changed, json_string("display_name"));
    if (p->set_role)
        json_array_append_new(changed, json_string("role"));
    if (p->set_scope)
        json_array_append_new(changed, json_string("scope"));
    if (p->set_disabled)
        json_array_append_new(changed, json_string("disabled"));
    if (p->set_password)
        json_array_append_new(changed, json_string("password"));
    json_t *detail = user_summary(j->out);
    json_object_set_new(detail, "changed", changed);
    json_object_set_new(detail, "disabled", json_boolean(j->out->disabled));
    char object[32];
    snprintf(object, sizeof object, "user:%lld", (long long)j->id);
    rc = audit_append(c, j->who, "user.update", object, detail, err);
    json_decref(detail);
    return rc;
}

int users_update(struct domain *d, const struct principal *who, int64_t id,
                 const struct user_patch *p, struct user *out, struct linli_err *err)
{
    if (who->role != ROLE_ADMIN)
        return linli_fail(err, LINLI_EFORBIDDEN, "Only admins may change accounts.");
    struct update_job j = {.who = who, .id = id, .p = p, .out = out};
    if (p->set_display_name &&
        (!p->display_name || jx_utf8_len(p->display_name) > DISPLAY_NAME_MAX))
        linli_field(err, "display_name", "must be text of at most %d characters", DISPLAY_NAME_MAX);
    if (p->set_role && (!p->role || role_parse(p->role, &j.role) != 0))
        linli_field(err, "role", "is not a known role");
    if (p->set_scope && p->scope) {
        const char *why;
        if (area_code_normalize(p->scope, j.scope, &why) != 0)
            linli_field(err, "scope", "%s", why);
    }
    if (p->set_password && (!p->password || users_check_password(p->password, err)))
        if (!p->password)
            linli_field(err, "password", "must be a string");
    if (err->nfields)
        return LINLI_EINVAL;
    char hash[crypto_pwhash_STRBYTES];
    if (p->set_password) {
        int rc = auth_hash_password(d->auth, p->password, hash, err);
        if (rc)
            return rc;
        j.hash = hash;
    }
    int rc = store_write(d->store, update_job, &j, err);
    sodium_memzero(hash, sizeof hash);
    auth_forget_user(d->auth, id);
    if (rc)
        return rc;
    if (j.sessions_ended)
        domain_publish(d, "auth.revoked", json_pack("{s:I}", "user_id", (json_int_t)id));
    domain_publish(d, "user.updated", user_summary(out));
    return LINLI_OK;
}

static int count_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_USER_COUNT, err);
    if (!st)
        return err->status;
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW)
        return store_fail(c, rc, "counting users", err);
    *(int64_t *)arg = sqlite3_column_int64(st, 0);
    return LINLI_OK;
}

int users_count(struct domain *d, int64_t *n, struct linli_err *err)
{
    return store_read(d->store, count_job, n, err);
}

static const char SQL_ADMIN_EXISTS[] = "SELECT count(*) FROM users WHERE role = 'admin'";

static int admin_count_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_ADMIN_EXISTS, err);
    if (!st)
        return err->status;
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW)
        return store_fail(c, rc, "counting admins", err);
    *(int64_t *)arg = sqlite3_column_int64(st, 0);
    return LINLI_OK;
}

int users_ensure_admin(struct domain *d, const char *password, char *generated, size_t gsize,
                       bool *created, struct linli_err *err)
{
    *created = false;
    int64_t n = 0;
    int rc = store_read(d->store, admin_count_job, &n, err);
    if (rc || n > 0)
        return rc;
    if (!password || !*password) {
        /* 20 characters from an alphabet without look-alikes (0/O, 1/l/I). */
        static const char alphabet[] = "abcdefghijkmnpqrstuvwxyzACDEFGHJKLMNPQRTUVWXY346789";
        if (gsize < 21)
            return linli_fail(err, LINLI_EINVAL, "buffer too small");
        for (int i = 0; i < 20; i++)
            generated[i] = alphabet[randombytes_uniform(sizeof alphabet - 1)];
        generated[20] = '\0';
        password = generated;
    } else if (users_check_password(password, err)) {
        return linli_fail(err, LINLI_EINVAL, "LINLI_ADMIN_PASSWORD is too weak: %s",
                          err->fields[0].message);
    }
    struct principal sys;
    principal_system(&sys, "bootstrap");
    struct user_new in = {.username = "admin",
                          .display_name = "Administrator",
                          .role = "admin",
                          .password = password};
    struct user u;
    rc = users_create(d, &sys, &in, NULL, &u, NULL, err);
    if (rc == LINLI_OK)
        *created = true;
    return rc;
}
