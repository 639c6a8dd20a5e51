/* cli_backup.c - `linli backup FILE`: an online copy of the database and of
 * every case photo the copy refers to.
 *
 * The photos go to `photos` beside FILE, which is where linlid looks for them
 * when FILE is its database and no photo-dir is set: restoring is putting
 * FILE and that directory in place. Photos are stored by content hash and
 * never change, so backups written to one directory share one photo store
 * and each run copies only the photos it does not find there. The database
 * is copied first; the photos it names were all on disk before their cases
 * were committed, so a photo missing at the source is a real loss, reported
 * by name with exit status 1 (the database copy stands). */
#include "cli/cli.h"

#include "base/clock.h"
#include "media/photo.h"
#include "media/photo_store.h"
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MISSING_SHOWN 10 /* missing or damaged photos named one by one */

/* `dir`/photos for the directory part of `file` ("photos" when it has none). */
static int photos_beside(const char *file, char *out, size_t size)
{
    const char *slash = strrchr(file, '/');
    int n = slash ? (int)(slash - file + 1) : 0;
    return (size_t)snprintf(out, size, "%.*sphotos", n, file) < size ? 0 : -1;
}

/* True when both paths name one existing directory. */
static bool same_dir(const char *a, const char *b)
{
    char ra[PATH_MAX], rb[PATH_MAX];
    return realpath(a, ra) && realpath(b, rb) && !strcmp(ra, rb);
}

struct photo_tally {
    int64_t copied, present, missing, damaged, bytes;
};

/* Reads the whole stored photo `hash` of `type` from `dir` into *data
 * (malloc'd, the caller frees). 0, LINLI_ENOTFOUND, or LINLI_EIO. */
static int read_photo(const char *dir, const char *hash, int type, unsigned char **data,
                      size_t *len, struct linli_err *err)
{
    int fd;
    off_t size;
    int rc = photo_store_open(dir, hash, type, &fd, &size, err);
    if (rc)
        return rc;
    unsigned char *p = malloc(size > 0 ? (size_t)size : 1);
    if (!p) {
        close(fd);
        return linli_fail(err, LINLI_ENOMEM, "out of memory reading photo %s", hash);
    }
    size_t got = 0;
    while (got < (size_t)size) {
        ssize_t r = read(fd, p + got, (size_t)size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            int e = r < 0 ? errno : EIO;
            free(p);
            close(fd);
            return linli_fail(err, LINLI_EIO, "cannot read photo %s: %s", hash, strerror(e));
        }
        got += (size_t)r;
    }
    close(fd);
    *data = p;
    *len = got;
    return LINLI_OK;
}

/* Copies one photo unless `to` has it. A photo whose bytes no longer hash to
 * its name is counted damaged and not copied. Fails only when `to` cannot be
 * written. */
static int copy_photo(const char *from, const char *to, const char *hash, int type,
                      struct photo_tally *t, struct linli_err *err)
{
    char path[4096];
    if (photo_store_path(to, hash, type, path, sizeof path))
        return linli_fail(err, LINLI_EINVAL, "photo path too long under %s", to);
    if (access(path, F_OK) == 0) {
        t->present++;
        return LINLI_OK;
    }
    unsigned char *data = NULL;
    size_t len = 0;
    struct linli_err rerr;
    linli_err_clear(&rerr);
    int rc = read_photo(from, hash, type, &data, &len, &rerr);
    if (rc == LINLI_ENOTFOUND) {
        if (t->missing++ < MISSING_SHOWN)
            fprintf(stderr, "linli: photo %s is not in %s\n", hash, from);
        return LINLI_OK;
    }
    if (rc)
        return linli_fail(err, rc, "%s", rerr.detail);
    char got[PHOTO_HASH_HEX];
    rc = photo_store_put(to, data, len, type, got, err);
    free(data);
    if (rc)
        return rc;
    if (strcmp(got, hash) != 0) {
        /* Written under its true hash, which nothing refers to: take it back. */
        if (photo_store_path(to, got, type, path, sizeof path) == 0)
            unlink(path);
        if (t->damaged++ < MISSING_SHOWN)
            fprintf(stderr, "linli: photo %s in %s is damaged (its bytes changed)\n", hash, from);
        return LINLI_OK;
    }
    t->copied++;
    t->bytes += (int64_t)len;
    return LINLI_OK;
}

/* Every photo the database at `db` refers to, from `from` into `to`. */
static int copy_photos(const char *db, const char *from, const char *to, struct photo_tally *t,
                       struct linli_err *err)
{
    sqlite3 *conn = NULL;
    if (sqlite3_open_v2(db, &conn, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        linli_fail(err, LINLI_EIO, "cannot open the copy %s: %s", db,
                   conn ? sqlite3_errmsg(conn) : "out of memory");
        sqlite3_close(conn);
        return LINLI_EIO;
    }
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(conn, "SELECT DISTINCT hash, type FROM case_photos ORDER BY hash",
                                -1, &st, NULL);
    if (rc != SQLITE_OK) {
        /* A database from before cases existed has no photos to copy. */
        bool none = strstr(sqlite3_errmsg(conn), "no such table") != NULL;
        if (!none)
            linli_fail(err, LINLI_EIO, "cannot list photos: %s", sqlite3_errmsg(conn));
        sqlite3_close(conn);
        return none ? LINLI_OK : LINLI_EIO;
    }
    if (photo_store_init(to, err)) {
        sqlite3_finalize(st);
        sqlite3_close(conn);
        return err->status;
    }
    int status = LINLI_OK;
    while (!status && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *hash = (const char *)sqlite3_column_text(st, 0);
        const char *mime = (const char *)sqlite3_column_text(st, 1);
        int type = -1;
        for (int k = PHOTO_JPEG; k <= PHOTO_WEBP && mime; k++)
            if (!strcmp(photo_type_mime(k), mime))
                type = k;
        if (!hash || !photo_store_hash_valid(hash) || type < 0) {
            if (t->damaged++ < MISSING_SHOWN)
                fprintf(stderr, "linli: a photo row names %s of type %s, which cannot be stored\n",
                        hash ? hash : "nothing", mime ? mime : "none");
            continue;
        }
        status = copy_photo(from, to, hash, type, t, err);
    }
    if (!status && rc != SQLITE_DONE)
        status = linli_fail(err, LINLI_EIO, "cannot list photos: %s", sqlite3_errmsg(conn));
    sqlite3_finalize(st);
    sqlite3_close(conn);
    return status;
}

int cli_backup(struct cli *c, int argc, char **argv)
{
    static const char *const known[] = {"--photo-dir=", "--no-photos", NULL};
    if (cli_check_opts(argc, argv, known))
        return 2;
    const char *file = NULL;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--photo-dir")) {
            i++;
            continue;
        }
        if (!strncmp(argv[i], "--", 2))
            continue;
        if (file)
            return cli_die("usage: linli backup FILE [--photo-dir DIR] [--no-photos]");
        file = argv[i];
    }
    if (!file || file[0] == '-')
        return cli_die("usage: linli backup FILE [--photo-dir DIR] [--no-photos]");
    /* Where linlid keeps the photos: the same rule as its photo-dir setting. */
    char from[4096], to[4096];
    const char *given = cli_opt(argc, argv, "--photo-dir");
    if (!given || !*given)
        given = getenv("LINLI_PHOTO_DIR");
    if (given && *given) {
        if ((size_t)snprintf(from, sizeof from, "%s", given) >= sizeof from)
            return cli_die("--photo-dir is too long");
    } else if (photos_beside(c->db, from, sizeof from)) {
        return cli_die("the database path is too long");
    }
    if (photos_beside(file, to, sizeof to))
        return cli_die("the backup path is too long");
    bool photos = !cli_flag(argc, argv, "--no-photos");

    struct linli_err err;
    linli_err_clear(&err);
    int64_t t0 = clock_mono_us();
    if (store_backup(c->db, file, &err))
        return cli_report(&err);
    printf("Backed up %s to %s in %.1f s; the copy passed its integrity check.\n", c->db, file,
           (double)(clock_mono_us() - t0) / 1e6);
    if (!photos)
        return 0;
    if (same_dir(from, to)) {
        printf("Photos: not copied; the copy is beside the live photo directory %s. Back up into "
               "another directory to keep the photos too.\n",
               from);
        return 0;
    }
    t0 = clock_mono_us();
    struct photo_tally t = {0};
    if (copy_photos(file, from, to, &t, &err))
        return cli_report(&err);
    printf("Photos: %lld copied (%.1f MB), %lld already in %s, in %.1f s.\n", (long long)t.copied,
           (double)t.bytes / 1e6, (long long)t.present, to,
           (double)(clock_mono_us() - t0) / 1e6);
    if (t.missing || t.damaged)
        return cli_die("%lld photo(s) the database refers to are missing from %s and %lld are "
                       "damaged; they are not in the backup",
                       (long long)t.missing, from, (long long)t.damaged);
    return 0;
}
