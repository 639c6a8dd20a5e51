/* test_photo_store.c - photos on disk by content hash (src/media/photo_store.c). */
#include "support.h"

#include "media/photo.h"
#include "media/photo_store.h"

#include <dirent.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* SHA-256 of "abc" (FIPS 180-2, appendix B.1). */
static const char ABC_SHA256[] = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

struct fixture {
    char dir[256];
    char photos[300];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    char unused[300];
    if (!f || make_temp_dir("photos", f->dir, sizeof f->dir, "x", unused, sizeof unused) != 0)
        return -1;
    snprintf(f->photos, sizeof f->photos, "%s/photos", f->dir);
    *state = f;
    return 0;
}

/* Removes dir/photos/ab/files, dir/photos/ab, dir/photos, dir. */
static int teardown(void **state)
{
    struct fixture *f = *state;
    DIR *d = opendir(f->photos);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char sub[600];
        snprintf(sub, sizeof sub, "%s/%s", f->photos, e->d_name);
        remove_tree(sub);
    }
    if (d)
        closedir(d);
    remove_tree(f->photos);
    remove_tree(f->dir);
    free(f);
    return 0;
}

static void read_file(const char *path, char *out, size_t size, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    *len = fread(out, 1, size, fp);
    fclose(fp);
}

static void put_writes_the_bytes_under_their_hash(void **state)
{
    struct fixture *f = *state;
    struct linli_err err = {0};
    assert_ok(photo_store_init(f->photos, &err), &err);
    char hash[PHOTO_HASH_HEX];
    assert_ok(photo_store_put(f->photos, "abc", 3, PHOTO_JPEG, hash, &err), &err);
    assert_string_equal(hash, ABC_SHA256);

    char path[600], want[600];
    assert_int_equal(photo_store_path(f->photos, hash, PHOTO_JPEG, path, sizeof path), LINLI_OK);
    snprintf(want, sizeof want, "%s/ba/%s.jpg", f->photos, ABC_SHA256 + 2);
    assert_string_equal(path, want);
    char got[16];
    size_t len;
    read_file(path, got, sizeof got, &len);
    assert_int_equal(len, 3);
    assert_memory_equal(got, "abc", 3);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0640);
}

static void put_of_the_same_bytes_is_one_file(void **state)
{
    struct fixture *f = *state;
    struct linli_err err = {0};
    assert_ok(photo_store_init(f->photos, &err), &err);
    char h1[PHOTO_HASH_HEX], h2[PHOTO_HASH_HEX];
    assert_ok(photo_store_put(f->photos, "abc", 3, PHOTO_PNG, h1, &err), &err);
    char path[600];
    assert_int_equal(photo_store_path(f->photos, h1, PHOTO_PNG, path, sizeof path), LINLI_OK);
    struct stat before, after;
    assert_int_equal(stat(path, &before), 0);
    assert_ok(photo_store_put(f->photos, "abc", 3, PHOTO_PNG, h2, &err), &err);
    assert_string_equal(h1, h2);
    assert_int_equal(stat(path, &after), 0);
    assert_int_equal(before.st_ino, after.st_ino); /* not rewritten */

    /* One photo file, no temporary left behind. */
    char sub[600];
    snprintf(sub, sizeof sub, "%s/ba", f->photos);
    DIR *d = opendir(sub);
    assert_non_null(d);
    int files = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        files += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    assert_int_equal(files, 1);
}

static void a_damaged_copy_is_written_again(void **state)
{
    struct fixture *f = *state;
    struct linli_err err = {0};
    assert_ok(photo_store_init(f->photos, &err), &err);
    char hash[PHOTO_HASH_HEX], path[600];
    assert_ok(photo_store_put(f->photos, "abc", 3, PHOTO_WEBP, hash, &err), &err);
    assert_int_equal(photo_store_path(f->photos, hash, PHOTO_WEBP, path, sizeof path), LINLI_OK);
    assert_int_equal(truncate(path, 1), 0);
    assert_ok(photo_store_put(f->photos, "abc", 3, PHOTO_WEBP, hash, &err), &err);
    char got[16];
    size_t len;
    read_file(path, got, sizeof got, &len);
    assert_int_equal(len, 3);
}

static void init_removes_what_a_crashed_put_left(void **state)
{
    struct fixture *f = *state;
    struct linli_err err = {0};
    assert_ok(photo_store_init(f->photos, &err), &err);
    char hash[PHOTO_HASH_HEX], path[600], tmp[600];
    assert_ok(photo_store_put(f->photos, "abc", 3, PHOTO_JPEG, hash, &err), &err);
    assert_int_equal(photo_store_path(f->photos, hash, PHOTO_JPEG, path, sizeof path), LINLI_OK);
    snprintf(tmp, sizeof tmp, "%s/ba/.tmp-AbC123", f->photos);
    FILE *fp = fopen(tmp, "w");
    assert_non_null(fp);
    fputs("half a pho", fp);
    fclose(fp);
    assert_ok(photo_store_init(f->photos, &err), &err);
    assert_int_equal(access(tmp, F_OK), -1);
    assert_int_equal(access(path, F_OK), 0); /* the photo stays */
}

static void open_gives_a_descriptor_and_the_size(void **state)
{
    struct fixture *f = *state;
    struct linli_err err = {0};
    assert_ok(photo_store_init(f->photos, &err), &err);
    char hash[PHOTO_HASH_HEX];
    const char data[] = "\x89PNG pretend";
    assert_ok(photo_store_put(f->photos, data, sizeof data - 1, PHOTO_PNG, hash, &err), &err);
    int fd = -1;
    off_t size = 0;
    assert_ok(photo_store_open(f->photos, hash, PHOTO_PNG, &fd, &size, &err), &err);
    assert_true(fd >= 0);
    assert_int_equal(size, sizeof data - 1);
    char got[32];
    assert_int_equal(read(fd, got, sizeof got), sizeof data - 1);
    assert_memory_equal(got, data, sizeof data - 1);
    close(fd);

    /* The same hash as another type is another file, which is not there. */
    assert_int_equal(photo_store_open(f->photos, hash, PHOTO_JPEG, &fd, &size, &err),
                     LINLI_ENOTFOUND);
    assert_int_equal(fd, -1);
    char absent[PHOTO_HASH_HEX];
    memset(absent, 'e', PHOTO_HASH_HEX - 1);
    absent[PHOTO_HASH_HEX - 1] = '\0';
    assert_int_equal(photo_store_open(f->photos, absent, PHOTO_PNG, &fd, &size, &err),
                     LINLI_ENOTFOUND);
}

static void names_that_are_not_hashes_are_refused(void **state)
{
    struct fixture *f = *state;
    struct linli_err err = {0};
    assert_ok(photo_store_init(f->photos, &err), &err);
    const char *bad[] = {
        "",
        "../../../../etc/passwd",
        "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD",  /* upper case */
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a",   /* 63 */
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015add", /* 65 */
        "ba/816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f2001.ad",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_false(photo_store_hash_valid(bad[i]));
        int fd = 7;
        off_t size = 7;
        assert_int_equal(photo_store_open(f->photos, bad[i], PHOTO_JPEG, &fd, &size, &err),
                         LINLI_EINVAL);
        assert_int_equal(fd, -1);
        char path[600];
        assert_int_equal(photo_store_path(f->photos, bad[i], PHOTO_JPEG, path, sizeof path),
                         LINLI_EINVAL);
    }
    assert_false(photo_store_hash_valid(NULL));
    assert_true(photo_store_hash_valid(ABC_SHA256));
    /* Unknown types and short buffers. */
    char path[600], tiny[8];
    assert_int_equal(photo_store_path(f->photos, ABC_SHA256, 9, path, sizeof path), LINLI_EINVAL);
    assert_int_equal(photo_store_path(f->photos, ABC_SHA256, PHOTO_JPEG, tiny, sizeof tiny),
                     LINLI_ETOOBIG);
    char hash[PHOTO_HASH_HEX];
    assert_int_equal(photo_store_put(f->photos, "abc", 3, -1, hash, &err), LINLI_EINVAL);
}

static void a_store_that_cannot_be_written_fails_with_eio(void **state)
{
    struct fixture *f = *state;
    struct linli_err err = {0};
    char hash[PHOTO_HASH_HEX];
    /* The directory was never made. */
    assert_int_equal(photo_store_put(f->photos, "abc", 3, PHOTO_JPEG, hash, &err), LINLI_EIO);
    assert_int_equal(err.status, LINLI_EIO);
    assert_null(strstr(err.detail, f->dir)); /* no server path in what a client may see */
    /* A file where the directory should be. */
    FILE *fp = fopen(f->photos, "w");
    assert_non_null(fp);
    fclose(fp);
    assert_int_equal(photo_store_init(f->photos, &err), LINLI_EIO);
    unlink(f->photos);
    assert_int_equal(photo_store_init("", &err), LINLI_EIO);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(put_writes_the_bytes_under_their_hash, setup, teardown),
        cmocka_unit_test_setup_teardown(put_of_the_same_bytes_is_one_file, setup, teardown),
        cmocka_unit_test_setup_teardown(a_damaged_copy_is_written_again, setup, teardown),
        cmocka_unit_test_setup_teardown(init_removes_what_a_crashed_put_left, setup, teardown),
        cmocka_unit_test_setup_teardown(open_gives_a_descriptor_and_the_size, setup, teardown),
        cmocka_unit_test_setup_teardown(names_that_are_not_hashes_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(a_store_that_cannot_be_written_fails_with_eio, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
