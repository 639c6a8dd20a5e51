/* account.h - what people do to their own account: choose their own
 * password. (Admins change other accounts through users.h.) */
#ifndef LINLI_ACCOUNT_H
#define LINLI_ACCOUNT_H

#include "domain/domain.h"
#include "domain/principal.h"

/* Replaces the caller's password. `current` must be the password the
 * account has now (checked under the login limits: a wrong one counts as a
 * failed login and answers EINVAL with a field error on
 * "current_password"); `fresh` must meet the rules every password meets
 * (users_check_password, field "new_password") and differ from `current`.
 * On success the new hash is stored, must_change_password is cleared, every
 * other session of the account ends (the caller's own, who->session, stays
 * open) and an audit entry "user.password_change" is written in the same
 * transaction; then "auth.revoked" is published for the other sessions.
 * Neither password is logged or audited. ECONFLICT when the account was
 * reset or disabled while the password was being checked; ELIMIT, EBUSY as
 * auth_check_own_password. On any failure nothing is changed. */
int account_change_password(struct domain *d, const struct principal *who, const char *current,
                            const char *fresh, struct linli_err *err);

#endif
