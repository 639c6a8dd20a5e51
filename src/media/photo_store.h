/* photo_store.h - photos on disk, addressed by content. A photo is stored
 * once, as dir/ab/cdef...89.ext where abcdef...89 is the SHA-256 of its
 * bytes in lowercase hex and ext its type's (photo_type_ext); the same bytes
 * put twice are one file. Files are never changed once written.
 *
 * The store knows nothing of cases or permissions: whoever serves a photo
 * checks first that the caller may see the case that refers to it. */
#ifndef LINLI_PHOTO_STORE_H
#define LINLI_PHOTO_STORE_H

#include "base/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define PHOTO_HASH_HEX 65 /* 64 lowercase hex digits and a NUL */

/* Creates `dir` (one level, mode 0750) unless it exists, checks that it is
 * a directory we may write in, and removes the temporary files of puts a
 * crash cut short. For startup, before any put, so a bad setting fails
 * early. 0, or LINLI_EIO with err->detail saying why. */
int photo_store_init(const char *dir, struct linli_err *err);

/* Writes `len` bytes of `type` (enum photo_type) into the store under `dir`
 * and sets `hash_hex` to their SHA-256. The bytes go to a temporary file in
 * the same directory, which is fsynced, renamed into place, and its
 * directory fsynced: when put returns 0 the photo survives a power cut, and
 * no reader ever sees part of one. Putting bytes already there writes
 * nothing (it syncs the file and its directory, in case an earlier put by
 * someone else is still finishing) and returns the same hash.
 * 0; LINLI_EINVAL for an unknown type; LINLI_EIO when the disk fails (the
 * temporary file is removed). */
int photo_store_put(const char *dir, const void *data, size_t len, int type,
                    char hash_hex[PHOTO_HASH_HEX], struct linli_err *err);

/* True when `hash_hex` is exactly 64 lowercase hex digits: the only names
 * the store resolves, so no request can reach outside it. */
bool photo_store_hash_valid(const char *hash_hex);

/* Writes the file's path into `buf`. 0; LINLI_EINVAL for a hash that is not
 * valid or an unknown type; LINLI_ETOOBIG when `size` is too small. */
int photo_store_path(const char *dir, const char *hash_hex, int type, char *buf, size_t size);

/* Opens a stored photo for reading (close-on-exec, symbolic links refused)
 * and gives its size, for serving with e.g. MHD_create_response_from_fd
 * (which then owns the descriptor). The caller closes *fd otherwise.
 * 0; LINLI_EINVAL for a bad hash or type; LINLI_ENOTFOUND when there is no
 * such photo; LINLI_EIO. */
int photo_store_open(const char *dir, const char *hash_hex, int type, int *fd, off_t *size,
                     struct linli_err *err);

#endif
