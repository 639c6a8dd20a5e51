/* store_backup.c - an online copy of a database with SQLite's backup API,
 * through a temporary file that is checked and then renamed into place. */
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* fsyncs the directory holding `path`. 0, or -1 with errno. */
static int sync_dir_of(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else if ((size_t)(slash - path) >= sizeof dir)
        return errno = ENAMETOOLONG, -1;
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

int store_backup(const char *src_path, const char *dst_path, struct linli_err *err)
{
    if (access(src_path, R_OK) != 0)
        return linli_fail(err, LINLI_ENOTFOUND, "database %s cannot be read: %s", src_path,
                          strerror(errno));
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.part", dst_path) >= sizeof tmp)
        return linli_fail(err, LINLI_EINVAL, "backup path too long");
    unlink(tmp);
    sqlite3 *src = NULL, *dst = NULL;
    int rc = sqlite3_open_v2(src_path, &src, SQLITE_OPEN_READONLY, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        linli_fail(err, LINLI_EIO, "cannot open for backup: %s",
                   dst   ? sqlite3_errmsg(dst)
                   : src ? sqlite3_errmsg(src)
                         : sqlite3_errstr(rc));
        sqlite3_close(src);
        sqlite3_close(dst);
        return LINLI_EIO;
    }
    sqlite3_busy_timeout(src, 5000);
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
    if (!b) {
        linli_fail(err, LINLI_EIO, "cannot start backup: %s", sqlite3_errmsg(dst));
        sqlite3_close(src);
        sqlite3_close(dst);
        unlink(tmp);
        return LINLI_EIO;
    }
    /* Copy in steps so writers are not held off for the whole copy; a write
     * between steps restarts the copy, which is SQLite's documented rule. */
    do {
        rc = sqlite3_backup_step(b, 1024);
        if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
            sqlite3_sleep(20);
    } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
    sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE) {
        linli_fail(err, LINLI_EIO, "backup failed: %s", sqlite3_errstr(rc));
        sqlite3_close(src);
        sqlite3_close(dst);
        unlink(tmp);
        return LINLI_EIO;
    }
    sqlite3_stmt *st;
    int ok = 0;
    if (sqlite3_exec(dst, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(dst, "PRAGMA integrity_check", -1, &st, NULL) == SQLITE_OK) {
        ok = sqlite3_step(st) == SQLITE_ROW &&
             strcmp((const char *)sqlite3_column_text(st, 0), "ok") == 0;
        sqlite3_finalize(st);
    }
    sqlite3_close(src);
    sqlite3_close(dst);
    if (!ok) {
        unlink(tmp);
        return linli_fail(err, LINLI_EIO, "the backup copy failed its integrity check");
    }
    if (rename(tmp, dst_path) != 0) {
        unlink(tmp);
        return linli_fail(err, LINLI_EIO, "cannot move the backup into place at %s: %s", dst_path,
                          strerror(errno));
    }
    /* The rename is on disk only once the directory is: sync it. */
    if (sync_dir_of(dst_path) != 0)
        return linli_fail(err, LINLI_EIO, "cannot sync the directory of %s: %s", dst_path,
                          strerror(errno));
    return LINLI_OK;
}
