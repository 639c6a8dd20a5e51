/* photo_store.c - content-addressed photo files: SHA-256 names, a two-hex
 * fan-out directory, and writes made durable by temp file, fsync, rename and
 * a directory fsync. */
#define _GNU_SOURCE /* mkostemp */
#include "media/photo_store.h"

#include "media/photo.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PHOTO_DIR_MODE  0750
#define PHOTO_FILE_MODE 0640
#define FANOUT_HEX      2 /* dir/ab/...: at most 256 subdirectories */
#define TEMP_NAME       ".tmp-XXXXXX"
#define TEMP_PREFIX_LEN 5 /* ".tmp-" */

bool photo_store_hash_valid(const char *hash_hex)
{
    if (!hash_hex)
        return false;
    size_t n = strspn(hash_hex, "0123456789abcdef");
    return n == PHOTO_HASH_HEX - 1 && hash_hex[n] == '\0';
}

/* dir/ab, or with `file` set dir/ab/cdef...ext. */
static int store_path(const char *dir, const char *hash_hex, int type, bool file, char *buf,
                      size_t size)
{
    const char *ext = photo_type_ext(type);
    if (!ext || !photo_store_hash_valid(hash_hex) || !dir || !*dir)
        return LINLI_EINVAL;
    int n = file ? snprintf(buf, size, "%s/%.*s/%s.%s", dir, FANOUT_HEX, hash_hex,
                            hash_hex + FANOUT_HEX, ext)
                 : snprintf(buf, size, "%s/%.*s", dir, FANOUT_HEX, hash_hex);
    return n < 0 || (size_t)n >= size ? LINLI_ETOOBIG : LINLI_OK;
}

int photo_store_path(const char *dir, const char *hash_hex, int type, char *buf, size_t size)
{
    return store_path(dir, hash_hex, type, true, buf, size);
}

static int store_fail(struct linli_err *err, const char *what, const char *hash_hex)
{
    int e = errno;
    return linli_fail(err, LINLI_EIO, "Cannot %s photo %.12s: %s.", what, hash_hex ? hash_hex : "",
                      strerror(e));
}

static int fsync_path(const char *path, int flags)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | flags);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

/* Removes the temporary files that puts cut short by a crash left in the
 * fan-out directories; they are never renamed into place by anyone. */
static void store_sweep(const char *dir)
{
    DIR *top = opendir(dir);
    struct dirent *e;
    while (top && (e = readdir(top))) {
        if (strlen(e->d_name) != FANOUT_HEX || strspn(e->d_name, "0123456789abcdef") != FANOUT_HEX)
            continue;
        char sub[4096];
        if (snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name) >= (int)sizeof sub)
            continue;
        DIR *d = opendir(sub);
        struct dirent *f;
        while (d && (f = readdir(d))) {
            char tmp[4096 + 256];
            if (strncmp(f->d_name, TEMP_NAME, TEMP_PREFIX_LEN) == 0 &&
                snprintf(tmp, sizeof tmp, "%s/%s", sub, f->d_name) < (int)sizeof tmp)
                unlink(tmp);
        }
        if (d)
            closedir(d);
    }
    if (top)
        closedir(top);
}

int photo_store_init(const char *dir, struct linli_err *err)
{
    struct stat st;
    if (!dir || !*dir)
        return linli_fail(err, LINLI_EIO, "The photo directory is not set.");
    if (mkdir(dir, PHOTO_DIR_MODE) != 0 && errno != EEXIST)
        return store_fail(err, "create the directory for", NULL);
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return linli_fail(err, LINLI_EIO, "The photo directory is not a directory.");
    if (access(dir, W_OK | X_OK) != 0)
        return store_fail(err, "write the directory for", NULL);
    store_sweep(dir);
    return LINLI_OK;
}

static int write_all(int fd, const unsigned char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Makes dir/ab, syncing `dir` when it is new so the subdirectory lasts. */
static int store_subdir(const char *dir, const char *sub, const char *hash_hex,
                        struct linli_err *err)
{
    if (mkdir(sub, PHOTO_DIR_MODE) == 0) {
        if (fsync_path(dir, O_DIRECTORY) != 0)
            return store_fail(err, "sync the directory of", hash_hex);
    } else if (errno != EEXIST) {
        return store_fail(err, "create the directory of", hash_hex);
    }
    return LINLI_OK;
}

/* The photo is already there: make sure it is on disk, as its writer may
 * not have synced it yet. 1 when it is there with `len` bytes, 0 when it is
 * absent (or not whole: it is then written again), or LINLI_EIO. */
static int store_existing(const char *path, const char *sub, size_t len, const char *hash_hex,
                          struct linli_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errno == ENOENT ? 0 : store_fail(err, "open", hash_hex);
    struct stat st;
    int rc = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size == len;
    if (rc && fsync(fd) != 0)
        rc = store_fail(err, "sync", hash_hex);
    close(fd);
    if (rc == 1 && fsync_path(sub, O_DIRECTORY) != 0)
        rc = store_fail(err, "sync the directory of", hash_hex);
    return rc;
}

int photo_store_put(const char *dir, const void *data, size_t len, int type,
                    char hash_hex[PHOTO_HASH_HEX], struct linli_err *err)
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, data ? data : (const void *)"", len);
    sodium_bin2hex(hash_hex, PHOTO_HASH_HEX, h, sizeof h);

    char path[4096], sub[4096], tmp[4096];
    int rc = store_path(dir, hash_hex, type, true, path, sizeof path);
    if (rc == LINLI_OK)
        rc = store_path(dir, hash_hex, type, false, sub, sizeof sub);
    if (rc == LINLI_OK && snprintf(tmp, sizeof tmp, "%s/" TEMP_NAME, sub) >= (int)sizeof tmp)
        rc = LINLI_ETOOBIG;
    if (rc != LINLI_OK)
        return linli_fail(err, LINLI_EINVAL, "The photo type or directory is not valid.");

    rc = store_existing(path, sub, len, hash_hex, err);
    if (rc != 0)
        return rc < 0 ? rc : LINLI_OK;
    rc = store_subdir(dir, sub, hash_hex, err);
    if (rc != LINLI_OK)
        return rc;

    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return store_fail(err, "create a file for", hash_hex);
    if (write_all(fd, data, len) != 0)
        rc = store_fail(err, "write", hash_hex);
    else if (fchmod(fd, PHOTO_FILE_MODE) != 0 || fsync(fd) != 0)
        rc = store_fail(err, "sync", hash_hex);
    if (close(fd) != 0 && rc == LINLI_OK)
        rc = store_fail(err, "close", hash_hex);
    if (rc == LINLI_OK && rename(tmp, path) != 0)
        rc = store_fail(err, "rename", hash_hex);
    if (rc != LINLI_OK) {
        unlink(tmp);
        return rc;
    }
    if (fsync_path(sub, O_DIRECTORY) != 0)
        return store_fail(err, "sync the directory of", hash_hex);
    return LINLI_OK;
}

int photo_store_open(const char *dir, const char *hash_hex, int type, int *fd, off_t *size,
                     struct linli_err *err)
{
    char path[4096];
    *fd = -1;
    *size = 0;
    int rc = store_path(dir, hash_hex, type, true, path, sizeof path);
    if (rc == LINLI_EINVAL)
        return linli_fail(err, LINLI_EINVAL, "That is not a photo name.");
    if (rc != LINLI_OK)
        return linli_fail(err, LINLI_EIO, "The photo directory's name is too long.");
    int f = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (f < 0)
        return errno == ENOENT ? linli_fail(err, LINLI_ENOTFOUND, "There is no such photo.")
                               : store_fail(err, "open", hash_hex);
    struct stat st;
    if (fstat(f, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(f);
        return linli_fail(err, LINLI_EIO, "Photo %.12s is not a regular file.", hash_hex);
    }
    *fd = f;
    *size = st.st_size;
    return LINLI_OK;
}
