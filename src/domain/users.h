/* users.h - accounts: who may log in, with which role and area scope.
 * Only admins create and change accounts; admins and auditors list them;
 * everyone may read their own. */
#ifndef LINLI_USERS_H
#define LINLI_USERS_H

#include "domain/domain.h"
#include "domain/idem.h"
#include "domain/principal.h"

#include <stdbool.h>
#include <stdint.h>

#define USERNAME_MAX     32
#define DISPLAY_NAME_MAX 64 /* characters */
#define PASSWORD_MIN     8
#define PASSWORD_MAX     128 /* bytes */

struct user {
    int64_t id;
    char username[USERNAME_MAX + 1];
    char display_name[DISPLAY_NAME_MAX * 4 + 1];
    enum role role;
    char scope[AREA_CODE_LEN + 1];
    bool disabled;
    bool has_password;
    bool must_change_password; /* an admin set the password: its owner should choose another */
    int64_t created_at, updated_at;
};

/* What a caller asks for, as given (validated by users_create). */
struct user_new {
    const char *username;
    const char *display_name; /* NULL = "" */
    const char *role;
    const char *scope;    /* NULL = none */
    const char *password; /* NULL = the account cannot log in until one is set */
};

struct user_patch {
    bool set_display_name, set_role, set_scope, set_disabled, set_password;
    const char *display_name;
    const char *role;
    const char *scope; /* NULL with set_scope = remove the scope */
    bool disabled;
    const char *password;
};

struct user_filter {
    const char *role; /* NULL = any */
    int64_t after_id; /* cursor */
    int limit;
};

/* Creates an account. With `idem`, a repeated request returns the account the
 * first one created and sets *replayed. Audited; publishes "user.created". */
int users_create(struct domain *d, const struct principal *who, const struct user_new *in,
                 const struct idem_req *idem, struct user *out, bool *replayed,
                 struct linli_err *err);

int users_get(struct domain *d, const struct principal *who, int64_t id, struct user *out,
              struct linli_err *err);
int users_get_by_name(struct domain *d, const struct principal *who, const char *username,
                      struct user *out, struct linli_err *err);

/* Pages of accounts by id. *items is malloc'd (caller frees); *next is the
 * last id when another page follows, else 0. */
int users_list(struct domain *d, const struct principal *who, const struct user_filter *f,
               struct user **items, int *n, int64_t *next, struct linli_err *err);

/* Changes an account. Disabling it or changing its password, role or scope
 * ends its sessions. A password an admin sets for another account marks it
 * must_change_password (the command line's reset does not). Audited;
 * publishes "user.updated". */
int users_update(struct domain *d, const struct principal *who, int64_t id,
                 const struct user_patch *p, struct user *out, struct linli_err *err);

int users_count(struct domain *d, int64_t *n, struct linli_err *err);

/* Validation shared with the command line; each returns 0 or EINVAL with a field error. */
int users_check_username(const char *username, struct linli_err *err);
int users_check_password(const char *password, struct linli_err *err);
/* The same rules for a password that arrives under another field name
 * ("new_password"): the same messages, on `field`. */
int users_check_password_as(const char *field, const char *password, struct linli_err *err);

/* Reads one user row from a statement whose columns are USER_COLUMNS. */
#define USER_COLUMNS                                                                               \
    "id, username, display_name, role, scope, disabled, password_hash IS NOT NULL, created_at, "   \
    "updated_at, must_change_password"
void users_from_row(sqlite3_stmt *st, int first_col, struct user *u);

/* On a database with no admin account, creates "admin" with `password`, or
 * with a random password written to `generated` (size >= 25) when `password`
 * is NULL or empty. Sets *created. Nothing happens when an admin exists. */
int users_ensure_admin(struct domain *d, const char *password, char *generated, size_t gsize,
                       bool *created, struct linli_err *err);
#endif
