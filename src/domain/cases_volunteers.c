/* cases_volunteers.c - volunteer teams (随手拍志愿队): teams of a community or
 * street, their members (volunteer and resident accounts), and what each
 * member has reported and how much of it was resolved, counted from the
 * cases on every read (no counters to drift). */
#include "domain/cases.h"

#include "base/clock.h"
#include "domain/audit.h"
#include "domain/cases_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEAMS_LIST_MAX 1000

/* Staff who manage teams in `area`: admins, and district, street or
 * community staff whose scope holds it. */
static bool may_manage(const struct principal *who, const char *area)
{
    if (who->role == ROLE_ADMIN || cases__is_system(who))
        return true;
    return (who->role == ROLE_DISTRICT || who->role == ROLE_STREET ||
            who->role == ROLE_COMMUNITY) &&
           area_within(who->scope, area);
}

static bool reads_in_scope(const struct principal *who, const char *area)
{
    if (who->role == ROLE_ADMIN || who->role == ROLE_AUDITOR || cases__is_system(who))
        return true;
    return (who->role == ROLE_DISTRICT || who->role == ROLE_STREET || who->role == ROLE_COMMUNITY ||
            who->role == ROLE_OPERATOR) &&
           area_within(who->scope, area);
}

#define TEAM_COLUMNS                                                                               \
    "t.id, t.name, t.area_code, t.created_at, t.updated_at,"                                       \
    " (SELECT COUNT(*) FROM volunteer_team_members m WHERE m.team_id = t.id),"                     \
    " (SELECT COUNT(*) FROM cases c JOIN volunteer_team_members m"                                 \
    "   ON m.user_id = c.reporter_user_id WHERE m.team_id = t.id),"                                \
    " (SELECT COUNT(*) FROM cases c JOIN volunteer_team_members m"                                 \
    "   ON m.user_id = c.reporter_user_id WHERE m.team_id = t.id"                                  \
    "   AND c.state IN ('resolved', 'closed') AND c.resolutions > 0)"

static const char SQL_TEAM_GET[] = "SELECT " TEAM_COLUMNS " FROM volunteer_teams t WHERE t.id = ?";
static const char SQL_TEAM_LIST[] =
    "SELECT " TEAM_COLUMNS " FROM volunteer_teams t"
    " WHERE (?1 IS NULL OR t.area_code BETWEEN ?1 AND ?2)"
    "   AND (?3 = 0 OR EXISTS (SELECT 1 FROM volunteer_team_members m"
    "        WHERE m.team_id = t.id AND m.user_id = ?3))"
    " ORDER BY t.id LIMIT 1000";
static const char SQL_TEAM_INSERT[] =
    "INSERT INTO volunteer_teams (name, area_code, created_at, updated_at) VALUES (?, ?, ?, ?)"
    " RETURNING id";
static const char SQL_TEAM_MEMBERS[] =
    "SELECT m.user_id, u.username, u.display_name, m.joined_at,"
    " (SELECT COUNT(*) FROM cases c WHERE c.reporter_user_id = m.user_id),"
    " (SELECT COUNT(*) FROM cases c WHERE c.reporter_user_id = m.user_id"
    "   AND c.state IN ('resolved', 'closed') AND c.resolutions > 0)"
    " FROM volunteer_team_members m JOIN users u ON u.id = m.user_id WHERE m.team_id = ?"
    " ORDER BY m.user_id LIMIT 10000";
static const char SQL_IS_MEMBER[] =
    "SELECT 1 FROM volunteer_team_members WHERE team_id = ? AND user_id = ?";
static const char SQL_MEMBER_ADD[] =
    "INSERT INTO volunteer_team_members (team_id, user_id, joined_at) VALUES (?, ?, ?)"
    " ON CONFLICT (team_id, user_id) DO NOTHING";
static const char SQL_MEMBER_REMOVE[] =
    "DELETE FROM volunteer_team_members WHERE team_id = ? AND user_id = ?";
static const char SQL_TEAM_TOUCH[] = "UPDATE volunteer_teams SET updated_at = ? WHERE id = ?";
static const char SQL_USER_ROLE[] = "SELECT role FROM users WHERE id = ?";
static const char SQL_AREA_LEVEL[] =
    "SELECT level FROM areas WHERE code = ? AND retired_edition IS NULL";

static void team_from_row(sqlite3_stmt *st, struct volunteer_team *t)
{
    memset(t, 0, sizeof *t);
    t->id = sqlite3_column_int64(st, 0);
    cases__col(t->name, sizeof t->name, st, 1);
    cases__col(t->area_code, sizeof t->area_code, st, 2);
    t->created_at = sqlite3_column_int64(st, 3);
    t->updated_at = sqlite3_column_int64(st, 4);
    t->members = sqlite3_column_int64(st, 5);
    t->reports = sqlite3_column_int64(st, 6);
    t->resolved = sqlite3_column_int64(st, 7);
}

static int load_team(struct store_conn *c, int64_t id, struct volunteer_team *out, bool *found,
                     struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_TEAM_GET, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    *found = rc == SQLITE_ROW;
    if (*found)
        team_from_row(st, out);
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? LINLI_OK
                                                 : store_fail(c, rc, "reading a team", err);
}

static int is_member(struct store_conn *c, int64_t team, int64_t user, bool *yes,
                     struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_IS_MEMBER, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, team);
    sqlite3_bind_int64(st, 2, user);
    int rc = sqlite3_step(st);
    *yes = rc == SQLITE_ROW;
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? LINLI_OK
                                                 : store_fail(c, rc, "reading a team", err);
}

/* ---- create ---- */

struct create_job {
    const struct principal *who;
    const char *name;
    char area[AREA_CODE_LEN + 1];
    struct volunteer_team *out;
};

static int create_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct create_job *j = arg;
    sqlite3_stmt *st = store_stmt(c, SQL_AREA_LEVEL, err);
    if (!st)
        return err->status;
    sqlite3_bind_text(st, 1, j->area, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    int level = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_fail(c, rc, "reading an area", err);
    if (level < 1)
        return linli_field(err, "area_code", "must be a current street or community");
    if (!(st = store_stmt(c, SQL_TEAM_INSERT, err)))
        return err->status;
    int64_t now = clock_now_ms();
    sqlite3_bind_text(st, 1, j->name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, j->area, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, now);
    sqlite3_bind_int64(st, 4, now);
    rc = sqlite3_step(st);
    if (rc == SQLITE_CONSTRAINT)
        return linli_fail(err, LINLI_ECONFLICT, "Area %s has a team named \"%s\" already.", j->area,
                          j->name);
    if (rc != SQLITE_ROW)
        return store_fail(c, rc, "adding a team", err);
    int64_t id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    char object[40];
    snprintf(object, sizeof object, "volunteer_team:%lld", (long long)id);
    json_t *detail = json_pack("{s:s, s:s}", "name", j->name, "area_code", j->area);
    rc = audit_append(c, j->who, "volunteer_team.create", object, detail, err);
    json_decref(detail);
    bool found;
    return rc ? rc : load_team(c, id, j->out, &found, err);
}

int volunteer_teams_create(struct domain *d, const struct principal *who, const char *name,
                           const char *area_code, struct volunteer_team *out, struct linli_err *err)
{
    linli_err_clear(err);
    struct create_job j = {who, name, "", out};
    cases__check_text("name", name, VOLUNTEER_TEAM_NAME_MAX, true, false, err);
    const char *why;
    if (!area_code || !*area_code)
        linli_field(err, "area_code", "is required");
    else if (area_code_normalize(area_code, j.area, &why))
        linli_field(err, "area_code", "%s", why);
    if (err->nfields)
        return LINLI_EINVAL;
    if (!may_manage(who, j.area))
        return linli_fail(err, LINLI_EFORBIDDEN,
                          "Only admins and staff whose scope holds %s create its teams.", j.area);
    return store_write(d->store, create_job, &j, err);
}

/* ---- read ---- */

struct list_job {
    const struct principal *who;
    const char *area;
    struct volunteer_team *items;
    int n;
};

static int list_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct list_job *j = arg;
    const struct principal *who = j->who;
    sqlite3_stmt *st = store_stmt(c, SQL_TEAM_LIST, err);
    if (!st)
        return err->status;
    /* staff see the teams of their scope (narrowed by ?area); others theirs */
    bool staff = who->role == ROLE_ADMIN || who->role == ROLE_AUDITOR ||
                 ((who->role == ROLE_DISTRICT || who->role == ROLE_STREET ||
                   who->role == ROLE_COMMUNITY || who->role == ROLE_OPERATOR) &&
                  who->scope[0]);
    const char *area = j->area;
    if (staff && who->scope[0] && who->role != ROLE_ADMIN && who->role != ROLE_AUDITOR) {
        if (!area || area_within(who->scope, area))
            area = area ? area : who->scope;
        else if (!area_within(area, who->scope))
            return LINLI_OK; /* outside the scope: nothing */
        else
            area = who->scope;
    }
    char lo[AREA_CODE_LEN + 1], hi[AREA_CODE_LEN + 1];
    if (area) {
        size_t keep = (size_t[]){6, 9, 12}[area_code_level(area)];
        memcpy(lo, area, keep);
        memcpy(hi, area, keep);
        memset(lo + keep, '0', AREA_CODE_LEN - keep);
        memset(hi + keep, '9', AREA_CODE_LEN - keep);
        lo[AREA_CODE_LEN] = hi[AREA_CODE_LEN] = '\0';
        sqlite3_bind_text(st, 1, lo, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, hi, -1, SQLITE_TRANSIENT);
    }
    sqlite3_bind_int64(st, 3, staff ? 0 : who->user_id);
    int cap = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && j->n < TEAMS_LIST_MAX) {
        if (j->n == cap) {
            cap = cap ? cap * 2 : 16;
            struct volunteer_team *more = realloc(j->items, (size_t)cap * sizeof *more);
            if (!more) {
                sqlite3_reset(st);
                return linli_fail(err, LINLI_ENOMEM, "Out of memory.");
            }
            j->items = more;
        }
        team_from_row(st, &j->items[j->n++]);
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? LINLI_OK
                                                 : store_fail(c, rc, "listing teams", err);
}

int volunteer_teams_list(struct domain *d, const struct principal *who, const char *area,
                         struct volunteer_team **items, int *n, struct linli_err *err)
{
    linli_err_clear(err);
    char a[AREA_CODE_LEN + 1];
    if (area && *area) {
        const char *why;
        if (area_code_normalize(area, a, &why))
            return linli_field(err, "area", "%s", why);
    }
    struct list_job j = {who, area && *area ? a : NULL, NULL, 0};
    int rc = store_read(d->store, list_job, &j, err);
    if (rc) {
        free(j.items);
        return rc;
    }
    *items = j.items;
    *n = j.n;
    return LINLI_OK;
}

struct get_job {
    const struct principal *who;
    int64_t id;
    struct volunteer_team *out;
    struct volunteer_member *members;
    int n;
};

static int get_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct get_job *j = arg;
    bool found, member = false;
    int rc = load_team(c, j->id, j->out, &found, err);
    if (!rc && found && !reads_in_scope(j->who, j->out->area_code))
        rc = is_member(c, j->id, j->who->user_id, &member, err);
    if (rc)
        return rc;
    if (!found || (!reads_in_scope(j->who, j->out->area_code) && !member))
        return linli_fail(err, LINLI_ENOTFOUND, "No team %lld.", (long long)j->id);
    sqlite3_stmt *st = store_stmt(c, SQL_TEAM_MEMBERS, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, j->id);
    int cap = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (j->n == cap) {
            cap = cap ? cap * 2 : 16;
            struct volunteer_member *more = realloc(j->members, (size_t)cap * sizeof *more);
            if (!more) {
                sqlite3_reset(st);
                return linli_fail(err, LINLI_ENOMEM, "Out of memory.");
            }
            j->members = more;
        }
        struct volunteer_member *m = &j->members[j->n++];
        memset(m, 0, sizeof *m);
        m->user_id = sqlite3_column_int64(st, 0);
        cases__col(m->username, sizeof m->username, st, 1);
        cases__col(m->display_name, sizeof m->display_name, st, 2);
        m->joined_at = sqlite3_column_int64(st, 3);
        m->reports = sqlite3_column_int64(st, 4);
        m->resolved = sqlite3_column_int64(st, 5);
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? LINLI_OK : store_fail(c, rc, "reading team members", err);
}

int volunteer_teams_get(struct domain *d, const struct principal *who, int64_t id,
                        struct volunteer_team *out, struct volunteer_member **members, int *n,
                        struct linli_err *err)
{
    linli_err_clear(err);
    struct get_job j = {who, id, out, NULL, 0};
    int rc = store_read(d->store, get_job, &j, err);
    if (rc) {
        free(j.members);
        return rc;
    }
    *members = j.members;
    *n = j.n;
    return LINLI_OK;
}

/* ---- members ---- */

struct member_job {
    const struct principal *who;
    int64_t team, user;
    bool add;
};

static int member_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct member_job *j = arg;
    struct volunteer_team t;
    bool found;
    int rc = load_team(c, j->team, &t, &found, err);
    if (rc)
        return rc;
    if (!found || !reads_in_scope(j->who, t.area_code))
        return linli_fail(err, LINLI_ENOTFOUND, "No team %lld.", (long long)j->team);
    if (!may_manage(j->who, t.area_code))
        return linli_fail(err, LINLI_EFORBIDDEN, "Only staff of %s change its teams.", t.area_code);
    sqlite3_stmt *st;
    if (j->add) {
        if (!(st = store_stmt(c, SQL_USER_ROLE, err)))
            return err->status;
        sqlite3_bind_int64(st, 1, j->user);
        rc = sqlite3_step(st);
        char role[16] = "";
        if (rc == SQLITE_ROW)
            cases__col(role, sizeof role, st, 0);
        sqlite3_reset(st);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            return store_fail(c, rc, "reading an account", err);
        if (rc == SQLITE_DONE)
            return linli_field(err, "user_id", "no account has this id");
        if (strcmp(role, "volunteer") && strcmp(role, "resident"))
            return linli_field(err, "user_id", "must be a volunteer or resident account, not %s",
                               role);
    }
    if (!(st = store_stmt(c, j->add ? SQL_MEMBER_ADD : SQL_MEMBER_REMOVE, err)))
        return err->status;
    sqlite3_bind_int64(st, 1, j->team);
    sqlite3_bind_int64(st, 2, j->user);
    if (j->add)
        sqlite3_bind_int64(st, 3, clock_now_ms());
    if ((rc = sqlite3_step(st)) != SQLITE_DONE)
        return store_fail(c, rc, "changing team members", err);
    if (sqlite3_changes(store_db(c)) == 0)
        return j->add ? linli_fail(err, LINLI_ECONFLICT, "User %lld is in team %lld already.",
                                   (long long)j->user, (long long)j->team)
                      : linli_fail(err, LINLI_ENOTFOUND, "User %lld is not in team %lld.",
                                   (long long)j->user, (long long)j->team);
    if (!(st = store_stmt(c, SQL_TEAM_TOUCH, err)))
        return err->status;
    sqlite3_bind_int64(st, 1, clock_now_ms());
    sqlite3_bind_int64(st, 2, j->team);
    if ((rc = sqlite3_step(st)) != SQLITE_DONE)
        return store_fail(c, rc, "changing a team", err);
    char object[40];
    snprintf(object, sizeof object, "volunteer_team:%lld", (long long)j->team);
    json_t *detail = json_pack("{s:I}", "user_id", (json_int_t)j->user);
    rc = audit_append(c, j->who,
                      j->add ? "volunteer_team.member_add" : "volunteer_team.member_remove", object,
                      detail, err);
    json_decref(detail);
    return rc;
}

int volunteer_teams_add_member(struct domain *d, const struct principal *who, int64_t team_id,
                               int64_t user_id, struct linli_err *err)
{
    linli_err_clear(err);
    struct member_job j = {who, team_id, user_id, true};
    return store_write(d->store, member_job, &j, err);
}

int volunteer_teams_remove_member(struct domain *d, const struct principal *who, int64_t team_id,
                                  int64_t user_id, struct linli_err *err)
{
    linli_err_clear(err);
    struct member_job j = {who, team_id, user_id, false};
    return store_write(d->store, member_job, &j, err);
}
