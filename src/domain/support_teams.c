/* support_teams.c - the professional support teams (社区成长伙伴) and the
 * communities they are assigned to: checks, storage, create, change, assign,
 * read and list.
 *
 * Teams share their text checks, area lookups and scope rules with stations
 * (stations_internal.h); the areas table is only read, inside the same job as
 * the write that depends on it. */
#include "domain/support_teams.h"

#include "base/clock.h"
#include "base/idnum.h"
#include "domain/audit.h"
#include "domain/stations_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[TEAM_KINDS] = {"planner", "lawyer", "property", "counsellor",
                                                   "social_org"};

const char *team_kind_name(int kind)
{
    return kind >= 0 && kind < TEAM_KINDS ? kind_names[kind] : "?";
}

int team_kind_parse(const char *text, int *kind)
{
    for (int i = 0; text && i < TEAM_KINDS; i++) {
        if (!strcmp(text, kind_names[i])) {
            *kind = i;
            return 0;
        }
    }
    return -1;
}

#define TEAM_COLUMNS "id, name, kind, organisation, contact_phone, members, created_at, updated_at"

static const char SQL_TEAM_GET[] = "SELECT " TEAM_COLUMNS " FROM support_teams WHERE id = ?";
static const char SQL_TEAM_LIST[] =
    "SELECT " TEAM_COLUMNS " FROM support_teams"
    " WHERE id > ?1 AND (?2 IS NULL OR id IN"
    "   (SELECT team_id FROM support_assignments WHERE area_code = ?2))"
    " ORDER BY id LIMIT ?3";
static const char SQL_TEAM_INSERT[] =
    "INSERT INTO support_teams (name, kind, organisation, contact_phone, members, created_at,"
    " updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6) RETURNING id";
static const char SQL_TEAM_UPDATE[] =
    "UPDATE support_teams SET name = ?2, kind = ?3, organisation = ?4, contact_phone = ?5,"
    " members = ?6, updated_at = ?7 WHERE id = ?1";
static const char SQL_TEAM_TOUCH[] = "UPDATE support_teams SET updated_at = ?2 WHERE id = ?1";
static const char SQL_TEAM_COMMUNITIES[] =
    "SELECT area_code FROM support_assignments WHERE team_id = ? ORDER BY area_code";
static const char SQL_TEAM_ASSIGN[] =
    "INSERT INTO support_assignments (team_id, area_code, since) VALUES (?, ?, ?)";
static const char SQL_TEAM_UNASSIGN[] =
    "DELETE FROM support_assignments WHERE team_id = ? AND area_code = ?";

typedef char code_t[AREA_CODE_LEN + 1];

void support_teams_release(struct support_team *teams, int n)
{
    for (int i = 0; teams && i < n; i++) {
        free(teams[i].communities);
        teams[i].communities = NULL;
        teams[i].ncommunities = 0;
    }
}

static int team_communities(struct store_conn *c, struct support_team *t, struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_TEAM_COMMUNITIES, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, t->id);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (t->ncommunities == cap) {
            cap = cap ? cap * 2 : 8;
            void *p = realloc(t->communities, cap * sizeof *t->communities);
            if (!p) {
                sqlite3_reset(st);
                return linli_fail(err, LINLI_ENOMEM, "out of memory");
            }
            t->communities = p;
        }
        stations__copy_col(t->communities[t->ncommunities++], sizeof(code_t), st, 0);
    }
    return rc == SQLITE_DONE ? LINLI_OK : store_fail(c, rc, "reading a team's communities", err);
}

static void team_from_row(sqlite3_stmt *st, struct support_team *t)
{
    memset(t, 0, sizeof *t);
    t->id = sqlite3_column_int64(st, 0);
    stations__copy_col(t->name, sizeof t->name, st, 1);
    const unsigned char *kind = sqlite3_column_text(st, 2);
    if (!kind || team_kind_parse((const char *)kind, &t->kind))
        t->kind = TEAM_SOCIAL_ORG; /* unreachable: the table checks kinds */
    stations__copy_col(t->organisation, sizeof t->organisation, st, 3);
    stations__copy_col(t->contact_phone, sizeof t->contact_phone, st, 4);
    t->members = sqlite3_column_int64(st, 5);
    t->created_at = sqlite3_column_int64(st, 6);
    t->updated_at = sqlite3_column_int64(st, 7);
}

/* Loads a team with its communities; on success the caller releases it. */
static int load_team(struct store_conn *c, int64_t id, struct support_team *out, bool *found,
                     struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_TEAM_GET, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    *found = rc == SQLITE_ROW;
    if (rc == SQLITE_DONE)
        return LINLI_OK;
    if (rc != SQLITE_ROW)
        return store_fail(c, rc, "reading a support team", err);
    team_from_row(st, out);
    sqlite3_reset(st);
    rc = team_communities(c, out, err);
    if (rc)
        support_teams_release(out, 1);
    return rc;
}

/* A team's fields, checked: the normalised communities are malloc'd into *codes. */
struct team_checked {
    struct support_team t;
    code_t *codes;
    size_t ncodes;
};

static int team_check(const struct team_fields *in, struct team_checked *out, struct linli_err *err)
{
    struct linli_err e;
    linli_err_clear(&e);
    memset(out, 0, sizeof *out);
    stations__check_text("name", in->name, TEAM_NAME_MAX, true, &e);
    if (!in->kind || !*in->kind)
        linli_field(&e, "kind", "is required");
    else if (team_kind_parse(in->kind, &out->t.kind))
        linli_field(&e, "kind", "must be planner, lawyer, property, counsellor or social_org");
    stations__check_text("organisation", in->organisation, TEAM_ORG_MAX, false, &e);
    if (in->contact_phone && *in->contact_phone) {
        const char *why;
        if (phone_check(in->contact_phone, out->t.contact_phone, sizeof out->t.contact_phone, &why))
            linli_field(&e, "contact_phone", "%s", why);
    }
    if (in->has_members && (in->members < 0 || in->members > TEAM_MEMBERS_MAX))
        linli_field(&e, "members", "must be a whole number from 0 to %d", TEAM_MEMBERS_MAX);
    if (in->set_communities) {
        if (in->ncommunities > TEAM_COMMUNITIES_MAX) {
            linli_field(&e, "communities", "may hold at most %d communities", TEAM_COMMUNITIES_MAX);
        } else {
            out->codes = calloc(in->ncommunities ? in->ncommunities : 1, sizeof(code_t));
            if (!out->codes)
                return linli_fail(err, LINLI_ENOMEM, "out of memory");
            for (size_t i = 0; i < in->ncommunities; i++) {
                char field[40];
                snprintf(field, sizeof field, "communities[%zu]", i);
                const char *why;
                code_t code;
                if (!in->communities[i] || area_code_normalize(in->communities[i], code, &why) ||
                    area_code_level(code) != 2) {
                    linli_field(&e, field, "must be a 12-digit community code");
                    continue;
                }
                bool dup = false;
                for (size_t k = 0; k < out->ncodes && !dup; k++)
                    dup = !strcmp(out->codes[k], code);
                if (dup)
                    linli_field(&e, field, "appears twice");
                else
                    memcpy(out->codes[out->ncodes++], code, sizeof code);
            }
        }
    }
    if (e.nfields) {
        free(out->codes);
        out->codes = NULL;
        return stations__merge_fields(err, &e);
    }
    snprintf(out->t.name, sizeof out->t.name, "%s", in->name);
    snprintf(out->t.organisation, sizeof out->t.organisation, "%s",
             in->organisation ? in->organisation : "");
    out->t.members = in->has_members ? in->members : 0;
    return LINLI_OK;
}

/* Checks, inside the job, that each code is a current community within the
 * caller's scope: EFORBIDDEN for one outside, EINVAL for unknown or retired ones. */
static int check_communities(struct store_conn *c, const struct principal *who, const code_t *codes,
                             size_t n, struct linli_err *err)
{
    for (size_t i = 0; i < n; i++)
        if (!stations__may_write_area(who, codes[i]))
            return stations__forbidden_area(err, codes[i]);
    for (size_t i = 0; i < n; i++) {
        char why[160], field[40];
        int rc = stations__area_fits(c, codes[i], 2, why, sizeof why, err);
        if (rc < 0)
            return rc;
        snprintf(field, sizeof field, "communities[%zu]", i);
        if (rc)
            linli_field(err, field, "%s", why);
    }
    return err->nfields ? LINLI_EINVAL : LINLI_OK;
}

/* A team whose communities all lie in the caller's scope may be changed by them. */
static int check_team_scope(const struct principal *who, const struct support_team *t,
                            struct linli_err *err)
{
    for (size_t i = 0; i < t->ncommunities; i++)
        if (!stations__may_write_area(who, t->communities[i]))
            return linli_fail(err, LINLI_EFORBIDDEN,
                              "Support team %lld serves community %s, outside your scope.",
                              (long long)t->id, t->communities[i]);
    return LINLI_OK;
}

static json_t *team_summary(const struct support_team *t)
{
    return json_pack("{s:I, s:s, s:s}", "id", (json_int_t)t->id, "name", t->name, "kind",
                     team_kind_name(t->kind));
}

static int audit_team(struct store_conn *c, const struct principal *who, const char *action,
                      const struct support_team *t, const char *key, json_t *extra,
                      struct linli_err *err)
{
    char object[40];
    snprintf(object, sizeof object, "support_team:%lld", (long long)t->id);
    json_t *detail = team_summary(t);
    if (extra)
        json_object_set(detail, key, extra);
    int rc = audit_append(c, who, action, object, detail, err);
    json_decref(detail);
    return rc;
}

static int assign(struct store_conn *c, int64_t team, const char *code, int64_t now,
                  struct linli_err *err)
{
    sqlite3_stmt *st = store_stmt(c, SQL_TEAM_ASSIGN, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, team);
    sqlite3_bind_text(st, 2, code, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, now);
    int rc = sqlite3_step(st);
    return rc == SQLITE_DONE ? LINLI_OK : store_fail(c, rc, "assigning a community", err);
}

static void bind_team(sqlite3_stmt *st, int first, const struct support_team *t)
{
    sqlite3_bind_text(st, first, t->name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, first + 1, team_kind_name(t->kind), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, first + 2, t->organisation, -1, SQLITE_TRANSIENT);
    stations__bind_text_or_null(st, first + 3, t->contact_phone);
    sqlite3_bind_int64(st, first + 4, t->members);
}

struct team_create_job {
    const struct principal *who;
    const struct team_checked *in;
    const struct idem_req *idem;
    bool replayed;
    struct support_team *out;
};

static int team_create_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct team_create_job *j = arg;
    int64_t id = 0;
    bool found;
    int rc;
    if (j->idem) {
        if ((rc = idem_find(c, j->idem, &id, err)) < 0)
            return rc;
        if (rc) {
            j->replayed = true;
            if ((rc = load_team(c, id, j->out, &found, err)))
                return rc;
            return found ? LINLI_OK : linli_fail(err, LINLI_ENOTFOUND, "No such support team.");
        }
    }
    if ((rc = check_communities(c, j->who, (const code_t *)j->in->codes, j->in->ncodes, err)))
        return rc;
    sqlite3_stmt *st = store_stmt(c, SQL_TEAM_INSERT, err);
    if (!st)
        return err->status;
    int64_t now = clock_now_ms();
    bind_team(st, 1, &j->in->t);
    sqlite3_bind_int64(st, 6, now);
    if ((rc = sqlite3_step(st)) != SQLITE_ROW)
        return store_fail(c, rc, "adding a support team", err);
    id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    for (size_t i = 0; i < j->in->ncodes; i++)
        if ((rc = assign(c, id, j->in->codes[i], now, err)))
            return rc;
    if ((rc = load_team(c, id, j->out, &found, err)))
        return rc;
    json_t *codes = json_array();
    for (size_t i = 0; i < j->out->ncommunities; i++)
        json_array_append_new(codes, json_string(j->out->communities[i]));
    rc = audit_team(c, j->who, "support_team.create", j->out, "communities", codes, err);
    json_decref(codes);
    if (rc == LINLI_OK && j->idem)
        rc = idem_record(c, j->idem, id, err);
    if (rc)
        support_teams_release(j->out, 1);
    return rc;
}

int support_teams_create(struct domain *d, const struct principal *who,
                         const struct team_fields *in, const struct idem_req *idem,
                         struct support_team *out, bool *replayed, struct linli_err *err)
{
    memset(out, 0, sizeof *out);
    if (!stations__writer_role(who))
        return stations__forbidden_role(err, "create support teams");
    struct team_checked tc;
    if (team_check(in, &tc, err))
        return err->status;
    struct team_create_job j = {who, &tc, idem, false, out};
    int rc = store_write(d->store, team_create_job, &j, err);
    free(tc.codes);
    if (rc)
        return rc;
    if (replayed)
        *replayed = j.replayed;
    if (!j.replayed)
        domain_publish(d, "support_team.created", team_summary(out));
    return LINLI_OK;
}

struct team_update_job {
    const struct principal *who;
    int64_t id;
    const struct team_patch *p; /* a change of fields, or */
    const code_t *codes;        /* a new set of communities */
    size_t ncodes;
    struct support_team *out;
};

static int team_update_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct team_update_job *j = arg;
    struct support_team before = {0};
    bool found;
    int rc = load_team(c, j->id, &before, &found, err);
    if (rc)
        return rc;
    if (!found)
        return linli_fail(err, LINLI_ENOTFOUND, "No support team %lld.", (long long)j->id);
    if ((rc = check_team_scope(j->who, &before, err)))
        goto done;
    int64_t now = clock_now_ms();
    if (j->p) {
        const struct team_patch *p = j->p;
        struct team_fields f = {
            .name = p->set_name ? p->v.name : before.name,
            .kind = p->set_kind ? p->v.kind : kind_names[before.kind],
            .organisation = p->set_organisation ? p->v.organisation : before.organisation,
            .contact_phone = p->set_contact_phone ? p->v.contact_phone : before.contact_phone,
            .has_members = true,
            .members = p->set_members ? p->v.members : before.members,
        };
        struct team_checked tc;
        if ((rc = team_check(&f, &tc, err)))
            goto done;
        sqlite3_stmt *st = store_stmt(c, SQL_TEAM_UPDATE, err);
        if (!st) {
            rc = err->status;
            goto done;
        }
        sqlite3_bind_int64(st, 1, j->id);
        bind_team(st, 2, &tc.t);
        sqlite3_bind_int64(st, 7, now);
        if ((rc = sqlite3_step(st)) != SQLITE_DONE) {
            rc = store_fail(c, rc, "changing a support team", err);
            goto done;
        }
        json_t *changed = json_array();
        if (strcmp(tc.t.name, before.name))
            json_array_append_new(changed, json_string("name"));
        if (tc.t.kind != before.kind)
            json_array_append_new(changed, json_string("kind"));
        if (strcmp(tc.t.organisation, before.organisation))
            json_array_append_new(changed, json_string("organisation"));
        if (strcmp(tc.t.contact_phone, before.contact_phone))
            json_array_append_new(changed, json_string("contact_phone"));
        if (tc.t.members != before.members)
            json_array_append_new(changed, json_string("members"));
        if ((rc = load_team(c, j->id, j->out, &found, err)) == LINLI_OK)
            rc = audit_team(c, j->who, "support_team.update", j->out, "changed", changed, err);
        json_decref(changed);
        goto done;
    }
    if ((rc = check_communities(c, j->who, j->codes, j->ncodes, err)))
        goto done;
    json_t *added = json_array(), *removed = json_array();
    for (size_t i = 0; i < before.ncommunities && rc == LINLI_OK; i++) {
        bool keep = false;
        for (size_t k = 0; k < j->ncodes && !keep; k++)
            keep = !strcmp(before.communities[i], j->codes[k]);
        if (keep)
            continue;
        sqlite3_stmt *st = store_stmt(c, SQL_TEAM_UNASSIGN, err);
        if (!st) {
            rc = err->status;
            break;
        }
        sqlite3_bind_int64(st, 1, j->id);
        sqlite3_bind_text(st, 2, before.communities[i], -1, SQLITE_TRANSIENT);
        if ((rc = sqlite3_step(st)) != SQLITE_DONE)
            rc = store_fail(c, rc, "unassigning a community", err);
        else
            rc = LINLI_OK;
        json_array_append_new(removed, json_string(before.communities[i]));
    }
    for (size_t k = 0; k < j->ncodes && rc == LINLI_OK; k++) {
        bool had = false;
        for (size_t i = 0; i < before.ncommunities && !had; i++)
            had = !strcmp(before.communities[i], j->codes[k]);
        if (had)
            continue;
        rc = assign(c, j->id, j->codes[k], now, err);
        json_array_append_new(added, json_string(j->codes[k]));
    }
    if (rc == LINLI_OK) {
        sqlite3_stmt *st = store_stmt(c, SQL_TEAM_TOUCH, err);
        if (!st) {
            rc = err->status;
        } else {
            sqlite3_bind_int64(st, 1, j->id);
            sqlite3_bind_int64(st, 2, now);
            int step = sqlite3_step(st);
            rc = step == SQLITE_DONE ? LINLI_OK : store_fail(c, step, "touching a team", err);
        }
    }
    if (rc == LINLI_OK && (rc = load_team(c, j->id, j->out, &found, err)) == LINLI_OK) {
        json_t *change = json_pack("{s:O, s:O}", "added", added, "removed", removed);
        rc = audit_team(c, j->who, "support_team.assign", j->out, "communities", change, err);
        json_decref(change);
    }
    json_decref(added);
    json_decref(removed);
done:
    support_teams_release(&before, 1);
    if (rc)
        support_teams_release(j->out, 1);
    return rc;
}

int support_teams_update(struct domain *d, const struct principal *who, int64_t id,
                         const struct team_patch *p, struct support_team *out,
                         struct linli_err *err)
{
    memset(out, 0, sizeof *out);
    if (!stations__writer_role(who))
        return stations__forbidden_role(err, "change support teams");
    struct team_update_job j = {who, id, p, NULL, 0, out};
    int rc = store_write(d->store, team_update_job, &j, err);
    if (rc == LINLI_OK)
        domain_publish(d, "support_team.updated", team_summary(out));
    return rc;
}

int support_teams_assign(struct domain *d, const struct principal *who, int64_t id,
                         const char *const *codes, size_t n, struct support_team *out,
                         struct linli_err *err)
{
    memset(out, 0, sizeof *out);
    if (!stations__writer_role(who))
        return stations__forbidden_role(err, "assign support teams");
    /* Only the community list is checked here; the other fields are placeholders. */
    struct team_fields f = {.name = "-",
                            .kind = "planner",
                            .communities = codes,
                            .ncommunities = n,
                            .set_communities = true};
    struct team_checked tc;
    if (team_check(&f, &tc, err))
        return err->status;
    struct team_update_job j = {who, id, NULL, (const code_t *)tc.codes, tc.ncodes, out};
    int rc = store_write(d->store, team_update_job, &j, err);
    free(tc.codes);
    if (rc == LINLI_OK)
        domain_publish(d, "support_team.updated", team_summary(out));
    return rc;
}

struct team_get_args {
    int64_t id;
    struct support_team *out;
};

static int team_get_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct team_get_args *a = arg;
    bool found;
    int rc = load_team(c, a->id, a->out, &found, err);
    if (rc == LINLI_OK && !found)
        return linli_fail(err, LINLI_ENOTFOUND, "No support team %lld.", (long long)a->id);
    return rc;
}

static int forbidden_reader(struct linli_err *err)
{
    return linli_fail(err, LINLI_EFORBIDDEN, "Only staff may read support teams.");
}

int support_teams_get(struct domain *d, const struct principal *who, int64_t id,
                      struct support_team *out, struct linli_err *err)
{
    memset(out, 0, sizeof *out);
    if (!stations_staff_role(who->role))
        return forbidden_reader(err);
    struct team_get_args a = {id, out};
    return store_read(d->store, team_get_job, &a, err);
}

struct team_list_args {
    const struct team_filter *f;
    struct support_team *items;
    int n;
    int64_t next;
};

static int team_list_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct team_list_args *a = arg;
    sqlite3_stmt *st = store_stmt(c, SQL_TEAM_LIST, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, a->f->after_id);
    if (a->f->community)
        sqlite3_bind_text(st, 2, a->f->community, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 3, a->f->limit + 1);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (a->n == a->f->limit) {
            a->next = a->items[a->n - 1].id;
            break;
        }
        team_from_row(st, &a->items[a->n++]);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_fail(c, rc, "listing support teams", err);
    for (int i = 0; i < a->n; i++)
        if ((rc = team_communities(c, &a->items[i], err)))
            return rc;
    return LINLI_OK;
}

int support_teams_list(struct domain *d, const struct principal *who, const struct team_filter *f,
                       struct support_team **items, int *n, int64_t *next, struct linli_err *err)
{
    if (!stations_staff_role(who->role))
        return forbidden_reader(err);
    if (f->limit < 1 || f->limit > TEAMS_PAGE_MAX)
        return linli_field(err, "limit", "must be between 1 and %d", TEAMS_PAGE_MAX);
    struct team_list_args a = {f, calloc((size_t)f->limit, sizeof(struct support_team)), 0, 0};
    if (!a.items)
        return linli_fail(err, LINLI_ENOMEM, "out of memory");
    int rc = store_read(d->store, team_list_job, &a, err);
    if (rc) {
        support_teams_release(a.items, a.n);
        free(a.items);
        return rc;
    }
    *items = a.items;
    *n = a.n;
    *next = a.next;
    return LINLI_OK;
}
