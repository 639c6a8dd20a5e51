/* auth.h - passwords, logins, sessions and their limits.
 *
 * Passwords are hashed with argon2id (libsodium). Hashing is deliberately
 * slow and memory-hungry, so at most `hash_concurrency` run at once; a caller
 * that cannot get a slot within `hash_wait_ms` gets EBUSY (503), which keeps
 * a login flood from taking the machine's memory.
 *
 * A login hands out an opaque bearer token ("lnl_" + 43 base64url
 * characters, 256 random bits). Only its SHA-256 is stored, with an expiry;
 * logout revokes it. Failed logins are counted per username and per client
 * address over a sliding window; past the limit, logins are refused (429)
 * until the window has passed. */
#ifndef LINLI_AUTH_H
#define LINLI_AUTH_H

#include "domain/domain.h"
#include "domain/principal.h"
#include "domain/users.h"

#include <sodium.h>

#define TOKEN_MAX 64

struct auth_options {
    int64_t token_ttl_s;
    int hash_concurrency;
    int hash_wait_ms;
    int max_failures_user; /* per username per window */
    int max_failures_ip;   /* per client address per window */
    int window_s;
    unsigned long long argon_ops; /* argon2id passes */
    size_t argon_mem;             /* argon2id memory, bytes */
    int64_t session_cache_ms;     /* how long a checked session is trusted from memory; 0 = never */
};

void auth_options_default(struct auth_options *o);

struct auth *auth_new(const struct auth_options *o);
void auth_free(struct auth *a);

/* Hashes a password into `out`. EBUSY when no hashing slot frees in time. */
int auth_hash_password(struct auth *a, const char *password, char out[crypto_pwhash_STRBYTES],
                       struct linli_err *err);

struct login_result {
    char token[TOKEN_MAX];
    int64_t expires_at; /* ms */
    struct user user;
};

/* Checks the password and opens a session. A wrong username or password both
 * answer EUNAUTH with the same message. Audited ("auth.login"). */
int auth_login(struct domain *d, const char *username, const char *password, const char *ip,
               const char *request_id, struct login_result *out, struct linli_err *err);

/* Resolves a bearer token to the principal behind it (and, when `user` is not
 * NULL, the whole account). EUNAUTH for a token that is malformed, unknown,
 * expired, revoked or of a disabled account. One read. */
int auth_authenticate(struct domain *d, const char *token, struct principal *out, struct user *user,
                      struct linli_err *err);

/* Revokes the caller's token. Audited ("auth.logout"). */
int auth_logout(struct domain *d, const struct principal *who, const char *token,
                struct linli_err *err);

/* Drops what memory holds of a user's sessions (after a change to the account). */
void auth_forget_user(struct auth *a, int64_t user_id);

/* Inside a write job: ends every open session of a user. */
int auth_revoke_user_sessions(struct store_conn *c, int64_t user_id, struct linli_err *err);

/* Inside a write job: ends every open session of a user except the one
 * named `keep_session` (principal.session: the first 16 hex digits of its
 * token's hash). Sets *ended to how many it ended. */
int auth_revoke_other_sessions(struct store_conn *c, int64_t user_id, const char *keep_session,
                               int *ended, struct linli_err *err);

/* Checks `password` against the caller's own (enabled) account, under the
 * login limits: a wrong one counts as a failed login of who->username from
 * who->ip, a right one clears the username's count. Returns 0 with the
 * stored hash in `hash`; ELIMIT (429) once the limits are reached; EINVAL
 * with a field error on `field` when it does not match; EBUSY when no
 * hashing slot frees in time. Changes nothing in the store. */
int auth_check_own_password(struct domain *d, const struct principal *who, const char *field,
                            const char *password, char hash[crypto_pwhash_STRBYTES],
                            struct linli_err *err);

/* Deletes sessions expired more than a day ago and old idempotency keys.
 * Returns 0 or a status; run by the scheduler. */
int auth_purge(struct domain *d, struct linli_err *err);

#endif
