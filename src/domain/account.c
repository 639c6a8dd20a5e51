/* account.c - changing one's own password (see account.h). */
#include "domain/account.h"

#include "base/clock.h"
#include "domain/audit.h"
#include "domain/auth.h"
#include "domain/users.h"

#include <stdio.h>
#include <string.h>

/* Only when the hash is still the one that was checked and the account is
 * still enabled: a reset or a disabling in between wins. */
static const char SQL_OWN_PASSWORD_SET[] =
    "UPDATE users SET password_hash = ?2, must_change_password = 0, updated_at = ?3"
    " WHERE id = ?1 AND password_hash = ?4 AND disabled = 0";

struct change_job {
    const struct principal *who;
    const char *old_hash, *new_hash;
    int ended; /* other sessions ended */
};

static int change_job(struct store_conn *c, void *arg, struct linli_err *err)
{
    struct change_job *j = arg;
    sqlite3_stmt *st = store_stmt(c, SQL_OWN_PASSWORD_SET, err);
    if (!st)
        return err->status;
    sqlite3_bind_int64(st, 1, j->who->user_id);
    sqlite3_bind_text(st, 2, j->new_hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, clock_now_ms());
    sqlite3_bind_text(st, 4, j->old_hash, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        return store_fail(c, rc, "changing a password", err);
    if (sqlite3_changes(store_db(c)) != 1)
        return linli_fail(err, LINLI_ECONFLICT,
                          "Your account was changed by an administrator meanwhile; nothing was "
                          "changed. Log in again and retry.");
    if ((rc = auth_revoke_other_sessions(c, j->who->user_id, j->who->session, &j->ended, err)))
        return rc;
    char object[32];
    snprintf(object, sizeof object, "user:%lld", (long long)j->who->user_id);
    json_t *detail = json_pack("{s:i}", "other_sessions_ended", j->ended);
    rc = audit_append(c, j->who, "user.password_change", object, detail, err);
    json_decref(detail);
    return rc;
}

int account_change_password(struct domain *d, const struct principal *who, const char *current,
                            const char *fresh, struct linli_err *err)
{
    if (who->user_id <= 0)
        return linli_fail(err, LINLI_EFORBIDDEN,
                          "Only a logged-in account has a password to change.");
    /* Everything that needs no hashing first: bad input costs nothing and
     * counts against nothing. */
    /* No stored password is empty (every one met the rules): an empty one
     * is a form left blank, not a guess, and does not count as one. */
    if (!current || !*current)
        linli_field(err, "current_password", "is required");
    if (!fresh)
        linli_field(err, "new_password", "is required");
    else if (users_check_password_as("new_password", fresh, err) == LINLI_OK && current &&
             !strcmp(current, fresh))
        linli_field(err, "new_password", "must differ from the current password");
    if (err->nfields)
        return LINLI_EINVAL;

    char old_hash[crypto_pwhash_STRBYTES], new_hash[crypto_pwhash_STRBYTES];
    int rc = auth_check_own_password(d, who, "current_password", current, old_hash, err);
    if (rc)
        return rc;
    if ((rc = auth_hash_password(d->auth, fresh, new_hash, err))) {
        sodium_memzero(old_hash, sizeof old_hash);
        return rc;
    }
    struct change_job j = {.who = who, .old_hash = old_hash, .new_hash = new_hash};
    rc = store_write(d->store, change_job, &j, err);
    sodium_memzero(old_hash, sizeof old_hash);
    sodium_memzero(new_hash, sizeof new_hash);
    /* Cached sessions of the account (this one included) are read afresh. */
    auth_forget_user(d->auth, who->user_id);
    if (rc)
        return rc;
    if (j.ended > 0)
        domain_publish(d, "auth.revoked",
                       json_pack("{s:I, s:s}", "user_id", (json_int_t)who->user_id,
                                 "except_session", who->session));
    return LINLI_OK;
}
