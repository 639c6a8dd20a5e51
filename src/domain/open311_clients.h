/* open311_clients.h - the clients of the Open311 GeoReport v2 facade
 * (src/api/open311.c): their API keys, and what a client sends with a
 * request that a case has no field for (its media_url).
 *
 * A key is "o311_" followed by 43 base64url characters (256 random bits). It
 * is shown once, when it is made; only its SHA-256 is stored, as with login
 * tokens. A client is known by its name: one name may hold several keys at
 * once, so a key can be replaced without a gap, and cases record the name
 * (case_record.client). A revoked key stays in the table with the time it was
 * revoked and is refused from then on. Keys are made, listed and revoked on
 * the command line (linli open311 key ...); making and revoking are audited
 * as open311_key.create and open311_key.revoke. */
#ifndef LINLI_OPEN311_CLIENTS_H
#define LINLI_OPEN311_CLIENTS_H

#include "domain/cases.h"
#include "domain/domain.h"
#include "domain/principal.h"

#include <stdbool.h>
#include <stdint.h>

#define OPEN311_KEY_PREFIX      "o311_"
#define OPEN311_KEY_RANDOM      32              /* bytes behind a key */
#define OPEN311_KEY_SIZE        (5 + 43 + 1)    /* prefix, base64url of 32 bytes, NUL */
#define OPEN311_KEY_HINT_SIZE   (5 + 4 + 1)     /* prefix and 4 characters: to tell keys apart */
#define OPEN311_CLIENT_NAME_MAX CASE_CLIENT_MAX /* bytes */
#define OPEN311_MEDIA_URL_MAX   1024            /* bytes */

struct open311_client {
    int64_t id; /* of the key */
    char name[OPEN311_CLIENT_NAME_MAX + 1];
    char hint[OPEN311_KEY_HINT_SIZE]; /* "o311_AbCd" */
    int64_t created_at;
    int64_t revoked_at; /* 0 = in use */
};

/* A client name: 1 to 64 of letters, digits, '.', '_' and '-', starting
 * with a letter (so a name is never taken for a key's id). 0, or -1 with
 * `why` set. */
int open311_client_name_check(const char *name, const char **why);

/* Makes a key for client `name` (the system principal only: the command
 * line; else EFORBIDDEN). Fills `out` and `key` (the key itself, which
 * exists nowhere else afterwards). Audited. */
int open311_clients_add(struct domain *d, const struct principal *who, const char *name,
                        struct open311_client *out, char key[OPEN311_KEY_SIZE],
                        struct linli_err *err);

/* Every key, revoked ones included, by id. *items malloc'd. */
int open311_clients_list(struct domain *d, struct open311_client **items, int *n,
                         struct linli_err *err);

/* Revokes the key with id `id_or_name` (all digits), or every key in use of
 * the client of that name. The system principal only. *revoked counts the
 * keys revoked; ENOTFOUND when there was none in use. Audited. */
int open311_clients_revoke(struct domain *d, const struct principal *who, const char *id_or_name,
                           int *revoked, struct linli_err *err);

/* The client a key belongs to. EFORBIDDEN (the facade answers 403) when the
 * key is missing, malformed, unknown or revoked, with a detail saying which.
 * One read. */
int open311_clients_check(struct domain *d, const char *key, struct open311_client *out,
                          struct linli_err *err);

/* ---- media_url ----
 * The URL a client gave with a request (media the client keeps), by case. */

/* 0 when `url` is an http or https URL of at most OPEN311_MEDIA_URL_MAX bytes
 * of visible ASCII; -1 with `why` set otherwise. */
int open311_media_url_check(const char *url, const char **why);

/* Records the media URL of case `case_id`, sent by client key `client_id`. */
int open311_media_set(struct domain *d, int64_t case_id, int64_t client_id, const char *url,
                      struct linli_err *err);

struct open311_media {
    int64_t case_id;
    char url[OPEN311_MEDIA_URL_MAX + 1];
};

/* The media URLs of those of `ids` (at most CASES_PAGE_MAX) that have one.
 * *items malloc'd (NULL when none). */
int open311_media_get(struct domain *d, const int64_t *ids, int nids, struct open311_media **items,
                      int *n, struct linli_err *err);

#endif
