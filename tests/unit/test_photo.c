/* test_photo.c - recognising, measuring and stripping photos
 * (src/media/photo.c and its per-format files), on images built byte by
 * byte in photo_fixtures.h. */
#define _GNU_SOURCE /* memmem */
#include "support.h"

#include "base/buf.h"
#include "media/photo.h"
#include "photo_fixtures.h"

#include <math.h>
#include <stdlib.h>

/* 39°55'19"N 116°26'37"E, a courtyard in Dongcheng. */
#define BEIJING_LAT 39.921944
#define BEIJING_LON 116.443611
#define DEG_EPSILON 1e-5

/* ---- checks ---- */

static bool contains_bytes(const struct buf *b, const void *needle, size_t n)
{
    return memmem(b->data, b->len, needle, n) != NULL;
}

static bool contains(const struct buf *b, const char *needle)
{
    return contains_bytes(b, needle, strlen(needle));
}

static void inspect_ok(const struct buf *b, struct photo_info *info)
{
    struct linli_err err = {0};
    assert_ok(photo_inspect(b->data, b->len, NULL, info, &err), &err);
}

static int inspect_rc(const void *data, size_t len, struct linli_err *err)
{
    struct photo_info info;
    memset(err, 0, sizeof *err);
    return photo_inspect(data, len, NULL, &info, err);
}

static void assert_beijing(const struct photo_info *info)
{
    assert_true(info->has_gps);
    if (fabs(info->lat - BEIJING_LAT) > DEG_EPSILON || fabs(info->lon - BEIJING_LON) > DEG_EPSILON)
        fail_msg("GPS %.6f,%.6f is not %.6f,%.6f", info->lat, info->lon, BEIJING_LAT, BEIJING_LON);
}

/* Strips `in`, checks the copy passes photo_inspect with the same type and
 * size and no GPS, and leaves it in `out` (initialised here). */
static void strip_checked(const struct buf *in, struct buf *out, struct photo_info *after)
{
    struct photo_info before;
    struct linli_err err = {0};
    inspect_ok(in, &before);
    buf_init(out, in->len + PHOTO_STRIP_SLACK);
    assert_ok(photo_strip(in->data, in->len, &before, out, &err), &err);
    inspect_ok(out, after);
    assert_int_equal(after->type, before.type);
    assert_int_equal(after->width, before.width);
    assert_int_equal(after->height, before.height);
    assert_false(after->has_gps);
    assert_false(contains(out, "SECRET"));
}

/* Every proper prefix of `b` is refused (and stripping it fails cleanly);
 * each is copied to a block of exactly its size so AddressSanitizer sees any
 * read past it. */
static void assert_every_prefix_refused(const struct buf *b)
{
    struct photo_info full;
    inspect_ok(b, &full);
    for (size_t n = 0; n < b->len; n++) {
        uint8_t *copy = malloc(n ? n : 1);
        assert_non_null(copy);
        memcpy(copy, b->data, n);
        struct linli_err err = {0};
        struct photo_info info;
        if (photo_inspect(copy, n, NULL, &info, &err) == LINLI_OK)
            fail_msg("a prefix of %zu of %zu bytes was accepted", n, b->len);
        assert_int_equal(err.status, LINLI_EINVAL);
        assert_int_equal(info.type, -1);
        struct buf out;
        buf_init(&out, FIXTURE_MAX);
        assert_int_not_equal(photo_strip(copy, n, &full, &out, &err), LINLI_OK);
        assert_int_equal(out.len, 0);
        buf_free(&out);
        free(copy);
    }
}

/* Sets every byte in [from, to) of `b` in turn to a few values: nothing
 * crashes, and whatever is accepted strips to a copy that is accepted too.
 * With `must_accept`, every change must be accepted (the bytes are EXIF,
 * which may be wrong without making the photo wrong). */
static void assert_mutations_safe(const struct buf *b, size_t from, size_t to, bool must_accept)
{
    static const uint8_t values[] = {0x00, 0x01, 0x07, 0x80, 0xff};
    uint8_t *copy = malloc(b->len);
    assert_non_null(copy);
    for (size_t i = from; i < to; i++) {
        for (size_t v = 0; v < sizeof values + 1; v++) {
            memcpy(copy, b->data, b->len);
            copy[i] = v < sizeof values ? values[v] : (uint8_t)(copy[i] ^ 0x10);
            struct linli_err err = {0};
            struct photo_info info;
            int rc = photo_inspect(copy, b->len, NULL, &info, &err);
            if (must_accept && rc != LINLI_OK)
                fail_msg("changing byte %zu refused the photo: %s", i, err.detail);
            if (rc != LINLI_OK)
                continue;
            assert_in_range(info.orientation, 1, 8);
            if (info.has_gps) {
                assert_true(fabs(info.lat) <= 90 && fabs(info.lon) <= 180);
            }
            struct buf out;
            buf_init(&out, b->len + PHOTO_STRIP_SLACK);
            assert_ok(photo_strip(copy, b->len, &info, &out, &err), &err);
            struct photo_info again;
            assert_ok(photo_inspect(out.data, out.len, NULL, &again, &err), &err);
            assert_false(again.has_gps);
            buf_free(&out);
        }
    }
    free(copy);
}

/* ---- JPEG ---- */

static void jpeg_is_recognised_with_its_size(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, FIXTURE_MAX);
    make_jpeg(&b, &(struct jpeg_spec){.width = 640, .height = 480, .jfif = true});
    struct photo_info info;
    inspect_ok(&b, &info);
    assert_int_equal(info.type, PHOTO_JPEG);
    assert_int_equal(info.width, 640);
    assert_int_equal(info.height, 480);
    assert_int_equal(info.orientation, 1);
    assert_false(info.has_gps);
    assert_string_equal(photo_type_mime(info.type), "image/jpeg");
    assert_string_equal(photo_type_ext(info.type), "jpg");
    buf_free(&b);
}

static void jpeg_exif_big_endian_gives_gps_and_orientation(void **state)
{
    (void)state;
    struct buf tiff, b;
    buf_init(&tiff, FIXTURE_MAX);
    buf_init(&b, FIXTURE_MAX);
    make_tiff(&tiff, &BEIJING);
    make_jpeg(&b, &(struct jpeg_spec){.width = 1, .height = 1, .tiff = &tiff});
    struct photo_info info;
    inspect_ok(&b, &info);
    assert_int_equal(info.orientation, 6);
    assert_beijing(&info);
    buf_free(&tiff);
    buf_free(&b);
}

static void jpeg_exif_little_endian_gives_gps_and_orientation(void **state)
{
    (void)state;
    struct exif_spec s = BEIJING;
    s.big = false;
    s.orientation = 8;
    struct buf tiff, b;
    buf_init(&tiff, FIXTURE_MAX);
    buf_init(&b, FIXTURE_MAX);
    make_tiff(&tiff, &s);
    assert_memory_equal(tiff.data, "II*\0", 4);
    make_jpeg(&b, &(struct jpeg_spec){.width = 1, .height = 1, .tiff = &tiff, .jfif = true});
    struct photo_info info;
    inspect_ok(&b, &info);
    assert_int_equal(info.orientation, 8);
    assert_beijing(&info);
    buf_free(&tiff);
    buf_free(&b);
}

static void southern_and_western_positions_are_negative(void **state)
{
    (void)state;
    /* Decimal minutes, as some phones write them: 33°51.5'S 151°12.6'W. */
    struct exif_spec s = {.big = false,
                          .gps = true,
                          .lat_ref = 'S',
                          .lon_ref = 'W',
                          .lat = {33, 1, 515, 10, 0, 1},
                          .lon = {151, 1, 126, 10, 0, 1}};
    struct buf tiff, b;
    buf_init(&tiff, FIXTURE_MAX);
    buf_init(&b, FIXTURE_MAX);
    make_tiff(&tiff, &s);
    make_jpeg(&b, &(struct jpeg_spec){.width = 1, .height = 1, .tiff = &tiff});
    struct photo_info info;
    inspect_ok(&b, &info);
    assert_true(info.has_gps);
    assert_true(fabs(info.lat - -(33 + 51.5 / 60)) < DEG_EPSILON);
    assert_true(fabs(info.lon - -(151 + 12.6 / 60)) < DEG_EPSILON);
    assert_int_equal(info.orientation, 1);
    buf_free(&tiff);
    buf_free(&b);
}

static void gps_at_zero_zero_or_without_references_is_no_gps(void **state)
{
    (void)state;
    struct exif_spec zero = {.big = true,
                             .gps = true,
                             .lat_ref = 'N',
                             .lon_ref = 'E',
                             .lat = {0, 1, 0, 1, 0, 1},
                             .lon = {0, 1, 0, 1, 0, 1}};
    struct exif_spec noref = BEIJING;
    noref.lat_ref = 'X';
    struct exif_spec nodenominator = BEIJING;
    nodenominator.lon[5] = 0;
    const struct exif_spec *specs[] = {&zero, &noref, &nodenominator};
    for (size_t i = 0; i < 3; i++) {
        struct buf tiff, b;
        buf_init(&tiff, FIXTURE_MAX);
        buf_init(&b, FIXTURE_MAX);
        make_tiff(&tiff, specs[i]);
        make_jpeg(&b, &(struct jpeg_spec){.width = 1, .height = 1, .tiff = &tiff});
        struct photo_info info;
        inspect_ok(&b, &info);
        assert_false(info.has_gps);
        assert_true(info.lat == 0 && info.lon == 0);
        buf_free(&tiff);
        buf_free(&b);
    }
}

static void jpeg_strip_drops_metadata_and_keeps_orientation(void **state)
{
    (void)state;
    struct buf tiff, b, out;
    buf_init(&tiff, FIXTURE_MAX);
    buf_init(&b, FIXTURE_MAX);
    make_tiff(&tiff, &BEIJING);
    make_jpeg(&b, &(struct jpeg_spec){.width = 4000,
                                      .height = 3000,
                                      .tiff = &tiff,
                                      .jfif = true,
                                      .jfif_thumbnail = true,
                                      .metadata = true,
                                      .busy_scan = true,
                                      .trailer = true});
    struct photo_info after;
    strip_checked(&b, &out, &after);
    assert_int_equal(after.orientation, 6);
    assert_true(out.len < b.len);
    /* JFIF first, without its thumbnail; then the minimal Exif. */
    assert_memory_equal(out.data, "\xff\xd8\xff\xe0\x00\x10JFIF\0\x01\x02\x01\0\x48\0\x48\0\0", 20);
    assert_memory_equal(out.data + 20,
                        "\xff\xe1\x00\x22"
                        "Exif\0\0MM\0*",
                        14);
    assert_true(contains(&out, "ICC_PROFILE"));
    assert_false(contains(&out, "MPF"));
    /* The scan, stuffed bytes and restart marker included, verbatim; nothing after EOI. */
    assert_true(memmem(out.data, out.len,
                       "\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00"
                       "\x3f\xff\x00\x12\xff\xd0\x34\xff\xd9",
                       19) != NULL);
    assert_memory_equal(out.data + out.len - 2, "\xff\xd9", 2);
    buf_free(&tiff);
    buf_free(&b);
    buf_free(&out);
}

static void jpeg_strip_with_upright_photo_writes_no_exif(void **state)
{
    (void)state;
    struct exif_spec s = BEIJING;
    s.orientation = 1;
    struct buf tiff, b, out;
    buf_init(&tiff, FIXTURE_MAX);
    buf_init(&b, FIXTURE_MAX);
    make_tiff(&tiff, &s);
    make_jpeg(&b, &(struct jpeg_spec){.width = 1, .height = 1, .tiff = &tiff});
    struct photo_info after;
    strip_checked(&b, &out, &after);
    assert_int_equal(after.orientation, 1);
    assert_false(contains(&out, "Exif"));
    /* Stripping again changes nothing. */
    struct buf twice;
    struct linli_err err = {0};
    buf_init(&twice, out.len + PHOTO_STRIP_SLACK);
    assert_ok(photo_strip(out.data, out.len, &after, &twice, &err), &err);
    assert_int_equal(twice.len, out.len);
    assert_memory_equal(twice.data, out.data, out.len);
    buf_free(&twice);
    buf_free(&tiff);
    buf_free(&b);
    buf_free(&out);
}

static void jpeg_without_frame_scan_or_end_is_refused(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, FIXTURE_MAX);
    make_jpeg(&b, &(struct jpeg_spec){.width = 1, .height = 1});
    struct linli_err err;
    /* No end: EOI cut off, with a complete scan before it. */
    assert_int_equal(inspect_rc(b.data, b.len - 2, &err), LINLI_EINVAL);
    assert_contains(err.detail, "truncated");
    /* No frame: SOI straight to EOI. */
    assert_int_equal(inspect_rc("\xff\xd8\xff\xd9", 4, &err), LINLI_EINVAL);
    /* A frame but no scan. */
    struct buf c;
    buf_init(&c, FIXTURE_MAX);
    put(&c, "\xff\xd8", 2);
    jpeg_segment(&c, 0xc0, "\x08\x00\x01\x00\x01\x01\x01\x11\x00", 9);
    put(&c, "\xff\xd9", 2);
    assert_int_equal(inspect_rc(c.data, c.len, &err), LINLI_EINVAL);
    assert_contains(err.detail, "no image data");
    /* A segment longer than the file. */
    buf_reset(&c);
    put(&c,
        "\xff\xd8\xff\xe1\x7f\xff"
        "Exif",
        10);
    assert_int_equal(inspect_rc(c.data, c.len, &err), LINLI_EINVAL);
    buf_free(&c);
    buf_free(&b);
}

static void jpeg_truncated_at_every_length_is_refused(void **state)
{
    (void)state;
    struct buf tiff, b;
    buf_init(&tiff, FIXTURE_MAX);
    buf_init(&b, FIXTURE_MAX);
    make_tiff(&tiff, &BEIJING);
    make_jpeg(&b, &(struct jpeg_spec){.width = 1,
                                      .height = 1,
                                      .tiff = &tiff,
                                      .jfif = true,
                                      .metadata = true,
                                      .busy_scan = true});
    assert_every_prefix_refused(&b);
    buf_free(&tiff);
    buf_free(&b);
}

static void jpeg_with_bytes_after_the_end_is_accepted(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, FIXTURE_MAX);
    make_jpeg(&b, &(struct jpeg_spec){.width = 3, .height = 2, .trailer = true});
    struct photo_info info;
    inspect_ok(&b, &info);
    assert_int_equal(info.width, 3);
    buf_free(&b);
}

static void jpeg_second_frame_is_refused(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, FIXTURE_MAX);
    put(&b, "\xff\xd8", 2);
    /* A small frame to pass a glance, then a huge one. */
    jpeg_segment(&b, 0xc0, "\x08\x00\x01\x00\x01\x01\x01\x11\x00", 9);
    jpeg_segment(&b, 0xc2, "\x08\xff\xff\xff\xff\x01\x01\x11\x00", 9);
    jpeg_segment(&b, 0xda, "\x01\x01\x00\x00\x3f\x00", 6);
    put(&b, "\x3f\xff\xd9", 3);
    struct linli_err err;
    assert_int_equal(inspect_rc(b.data, b.len, &err), LINLI_EINVAL);
    assert_contains(err.detail, "more than one frame");
    buf_free(&b);
}

/* ---- bombs and limits ---- */

static void huge_dimensions_are_refused_in_every_format(void **state)
{
    (void)state;
    struct buf jpeg, png, webp, lossy;
    buf_init(&jpeg, FIXTURE_MAX);
    buf_init(&png, FIXTURE_MAX);
    buf_init(&webp, FIXTURE_MAX);
    buf_init(&lossy, FIXTURE_MAX);
    make_jpeg(&jpeg, &(struct jpeg_spec){.width = 65535, .height = 65535});
    make_png(&png, &(struct png_spec){.width = 65535, .height = 65535});
    make_webp_extended(&webp, &(struct webp_spec){.canvas_w = 65535, .canvas_h = 65535});
    make_webp_lossy(&lossy, 16383, 16383);
    const struct buf *all[] = {&jpeg, &png, &webp, &lossy};
    for (size_t i = 0; i < 4; i++) {
        struct linli_err err;
        assert_int_equal(inspect_rc(all[i]->data, all[i]->len, &err), LINLI_EINVAL);
        assert_contains(err.detail, "pixels");
    }
    buf_free(&jpeg);
    buf_free(&png);
    buf_free(&webp);
    buf_free(&lossy);
}

static void too_many_pixels_is_refused_though_each_side_fits(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, FIXTURE_MAX);
    make_jpeg(&b, &(struct jpeg_spec){.width = 8000, .height = 6000}); /* 48 megapixels */
    struct linli_err err;
    assert_int_equal(inspect_rc(b.data, b.len, &err), LINLI_EINVAL);
    assert_contains(err.detail, "8000 x 6000");
    buf_reset(&b);
    make_jpeg(&b, &(struct jpeg_spec){.width = 10000, .height = 4000}); /* exactly at both limits */
    assert_int_equal(inspect_rc(b.data, b.len, &err), LINLI_OK);
    buf_free(&b);
}

static void zero_dimensions_are_refused(void **state)
{
    (void)state;
    struct buf jpeg, png, lossy;
    buf_init(&jpeg, FIXTURE_MAX);
    buf_init(&png, FIXTURE_MAX);
    buf_init(&lossy, FIXTURE_MAX);
    make_jpeg(&jpeg, &(struct jpeg_spec){.width = 10, .height = 0}); /* height set later by DNL */
    make_png(&png, &(struct png_spec){.width = 0, .height = 10});
    make_webp_lossy(&lossy, 10, 0);
    struct linli_err err;
    assert_int_equal(inspect_rc(jpeg.data, jpeg.len, &err), LINLI_EINVAL);
    assert_int_equal(inspect_rc(png.data, png.len, &err), LINLI_EINVAL);
    assert_int_equal(inspect_rc(lossy.data, lossy.len, &err), LINLI_EINVAL);
    buf_free(&jpeg);
    buf_free(&png);
    buf_free(&lossy);
}

static void limits_are_the_callers_and_bytes_over_them_are_too_big(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, FIXTURE_MAX);
    make_jpeg(&b, &(struct jpeg_spec){.width = 200, .height = 100});
    struct photo_info info;
    struct linli_err err = {0};
    struct photo_limits side = {.max_side = 150};
    assert_int_equal(photo_inspect(b.data, b.len, &side, &info, &err), LINLI_EINVAL);
    struct photo_limits pixels = {.max_pixels = 19999};
    assert_int_equal(photo_inspect(b.data, b.len, &pixels, &info, &err), LINLI_EINVAL);
    struct photo_limits bytes = {.max_bytes = b.len - 1};
    assert_int_equal(photo_inspect(b.data, b.len, &bytes, &info, &err), LINLI_ETOOBIG);
    assert_int_equal(err.status, LINLI_ETOOBIG);
    bytes.max_bytes = b.len;
    assert_ok(photo_inspect(b.data, b.len, &bytes, &info, &err), &err);
    /* The default: 10 MiB, whatever the bytes are. */
    size_t big = PHOTO_MAX_BYTES + 1;
    char *huge = calloc(1, big);
    assert_non_null(huge);
    assert_int_equal(photo_inspect(huge, big, NULL, &info, &err), LINLI_ETOOBIG);
    free(huge);
    buf_free(&b);
}

/* ---- what the bytes are ---- */

static void type_comes_from_the_bytes_alone(void **state)
{
    (void)state;
    /* Whatever a name said (photo.jpg), these bytes are a PNG: names are never consulted. */
    struct buf b;
    buf_init(&b, FIXTURE_MAX);
    make_png(&b, &(struct png_spec){.width = 1, .height = 1});
    struct photo_info info;
    inspect_ok(&b, &info);
    assert_int_equal(info.type, PHOTO_PNG);
    assert_string_equal(photo_type_mime(info.type), "image/png");
    buf_free(&b);
    assert_null(photo_type_mime(7));
    assert_null(photo_type_ext(-1));
}

static void other_bytes_are_refused(void **state)
{
    (void)state;
#define BYTES(s)                                                                                   \
    {                                                                                              \
        s, sizeof s - 1                                                                            \
    }
    static const struct {
        const char *s;
        size_t n;
    } others[] = {
        BYTES(""),
        BYTES("hello, this is a text file\n"),
        BYTES("GIF89a\x01\x00\x01\x00\x00\x00\x00;"),
        BYTES("RIFF\x0c\x00\x00\x00WAVEfmt \x00\x00\x00\x00"),
        BYTES("RIFF\x0c\x00\x00\x00WEBPABCD\x00\x00\x00\x00"),
        BYTES("\xff\xd8"), /* a JPEG's first two bytes only */
        BYTES("\x89PNG\r\n"),
        BYTES("%PDF-1.7\n"),
    };
#undef BYTES
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        struct linli_err err;
        assert_int_equal(inspect_rc(others[i].s, others[i].n, &err), LINLI_EINVAL);
        assert_contains(err.detail, "not a JPEG, PNG or WebP image");
    }
    struct linli_err err;
    assert_int_equal(inspect_rc(NULL, 0, &err), LINLI_EINVAL);
}

/* ---- EXIF that lies ---- */

static void cyclic_ifd_offsets_end(void **state)
{
    (void)state;
    for (int big = 0; big < 2; big++) {
        struct exif_spec s = BEIJING;
        s.big = big;
        struct buf tiff, b;
        buf_init(&tiff, FIXTURE_MAX);
        buf_init(&b, FIXTURE_MAX);
        struct tiff_layout l = make_tiff(&tiff, &s);
        /* IFD0's next link to itself, the GPS IFD's to IFD0, and the GPS pointer to IFD0. */
        patch32(&tiff, l.ifd0_next, s.big, (uint32_t)l.ifd0);
        patch32(&tiff, l.gps_next, s.big, (uint32_t)l.ifd0);
        make_jpeg(&b, &(struct jpeg_spec){.width = 1, .height = 1, .tiff = &tiff});
        struct photo_info info;
        inspect_ok(&b, &info);
        assert_beijing(&info); /* next links are never followed */
        patch32(&tiff, l.gps_pointer, s.big, (uint32_t)l.ifd0);
        buf_reset(&b);
        make_jpeg(&b, &(struct jpeg_spec){.width = 1, .height = 1, .tiff = &tiff});
        inspect_ok(&b, &info);
        assert_false(info.has_gps);
        assert_int_equal(info.orientation, 6);
        buf_free(&tiff);
        buf_free(&b);
    }
}

static void exif_offsets_past_the_end_are_ignored(void **state)
{
    (void)state;
    struct {
        int what;
        uint32_t value;
    } cases[] = {
        {0, 0xfffffff0u},                   /* the GPS pointer */
        {0, 0xffffffffu}, {1, 0x7ffffff0u}, /* the latitude's RATIONALs */
        {1, 0xfffffffcu}, {2, 0xffffff00u}, /* IFD0 itself, in the header */
        {3, 0xffff},                        /* IFD0's entry count */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct buf tiff, b;
        buf_init(&tiff, FIXTURE_MAX);
        buf_init(&b, FIXTURE_MAX);
        struct tiff_layout l = make_tiff(&tiff, &BEIJING);
        if (cases[i].what == 0)
            patch32(&tiff, l.gps_pointer, true, cases[i].value);
        else if (cases[i].what == 1)
            patch32(&tiff, l.gps_ifd + 2 + 12 + 8, true, cases[i].value);
        else if (cases[i].what == 2)
            patch32(&tiff, 4, true, cases[i].value);
        else
            patch16(&tiff, l.ifd0, true, cases[i].value);
        make_jpeg(&b, &(struct jpeg_spec){.width = 1, .height = 1, .tiff = &tiff});
        struct photo_info info;
        inspect_ok(&b, &info);
        assert_false(info.has_gps);
        assert_int_equal(info.orientation, cases[i].what >= 2 ? 1 : 6);
        buf_free(&tiff);
        buf_free(&b);
    }
}

static void exif_values_of_the_wrong_type_are_ignored(void **state)
{
    (void)state;
    /* Latitude as LONGs, the reference as a SHORT, orientation as a LONG. */
    static const struct {
        int entry; /* 0: orientation in IFD0; 1, 2: GPS entries */
        unsigned type;
    } cases[] = {{2, 4}, {2, 10}, {1, 3}, {0, 4}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct buf tiff, b;
        buf_init(&tiff, FIXTURE_MAX);
        buf_init(&b, FIXTURE_MAX);
        struct tiff_layout l = make_tiff(&tiff, &BEIJING);
        size_t at = cases[i].entry == 0 ? l.ifd0 + 2 : l.gps_ifd + 2 + 12 * (cases[i].entry - 1);
        patch16(&tiff, at + 2, true, cases[i].type);
        make_jpeg(&b, &(struct jpeg_spec){.width = 1, .height = 1, .tiff = &tiff});
        struct photo_info info;
        inspect_ok(&b, &info);
        assert_int_equal(info.has_gps, cases[i].entry == 0);
        assert_int_equal(info.orientation, cases[i].entry == 0 ? 1 : 6);
        buf_free(&tiff);
        buf_free(&b);
    }
}

static void any_change_to_the_exif_leaves_the_photo_accepted(void **state)
{
    (void)state;
    for (int big = 0; big < 2; big++) {
        struct exif_spec s = BEIJING;
        s.big = big;
        struct buf tiff, b;
        buf_init(&tiff, FIXTURE_MAX);
        buf_init(&b, FIXTURE_MAX);
        make_tiff(&tiff, &s);
        make_jpeg(&b, &(struct jpeg_spec){.width = 1, .height = 1, .tiff = &tiff});
        /* SOI, then the APP1 marker, length and "Exif\0\0": the TIFF follows. */
        size_t from = 2 + 4 + 6;
        assert_memory_equal(b.data + from, tiff.data, tiff.len);
        assert_mutations_safe(&b, from, from + tiff.len, true);
        buf_free(&tiff);
        buf_free(&b);
    }
}

static void any_change_to_any_byte_is_safe(void **state)
{
    (void)state;
    struct buf tiff, jpeg, png, webp;
    buf_init(&tiff, FIXTURE_MAX);
    buf_init(&jpeg, FIXTURE_MAX);
    buf_init(&png, FIXTURE_MAX);
    buf_init(&webp, FIXTURE_MAX);
    make_tiff(&tiff, &BEIJING);
    make_jpeg(&jpeg, &(struct jpeg_spec){.width = 1,
                                         .height = 1,
                                         .tiff = &tiff,
                                         .jfif = true,
                                         .metadata = true,
                                         .busy_scan = true});
    make_png(&png, &(struct png_spec){.width = 1, .height = 1, .tiff = &tiff, .text = true});
    make_webp_extended(&webp, &(struct webp_spec){.tiff = &tiff, .xmp = true, .icc = true});
    assert_mutations_safe(&jpeg, 0, jpeg.len, false);
    assert_mutations_safe(&png, 0, png.len, false);
    assert_mutations_safe(&webp, 0, webp.len, false);
    buf_free(&tiff);
    buf_free(&jpeg);
    buf_free(&png);
    buf_free(&webp);
}

/* ---- PNG ---- */

static void png_gives_size_and_exif(void **state)
{
    (void)state;
    struct exif_spec s = BEIJING;
    s.big = false;
    struct buf tiff, b;
    buf_init(&tiff, FIXTURE_MAX);
    buf_init(&b, FIXTURE_MAX);
    make_tiff(&tiff, &s);
    make_png(&b, &(struct png_spec){.width = 1920, .height = 1080, .tiff = &tiff, .text = true});
    struct photo_info info;
    inspect_ok(&b, &info);
    assert_int_equal(info.type, PHOTO_PNG);
    assert_int_equal(info.width, 1920);
    assert_int_equal(info.height, 1080);
    assert_int_equal(info.orientation, 6);
    assert_beijing(&info);
    buf_free(&tiff);
    buf_free(&b);
}

static void png_strip_keeps_colour_and_drops_text_and_exif(void **state)
{
    (void)state;
    struct buf tiff, b, out;
    buf_init(&tiff, FIXTURE_MAX);
    buf_init(&b, FIXTURE_MAX);
    make_tiff(&tiff, &BEIJING);
    make_png(&b, &(struct png_spec){
                     .width = 1, .height = 1, .tiff = &tiff, .text = true, .colour = true});
    put(&b, "SECRET-TRAILER", 14);
    struct photo_info after;
    strip_checked(&b, &out, &after);
    assert_true(contains(&out, "gAMA"));
    assert_true(contains(&out, "sRGB"));
    assert_true(contains(&out, "IDAT"));
    assert_false(contains(&out, "eXIf"));
    assert_false(contains(&out, "tIME"));
    /* The orientation is not kept in PNG (see photo.h). */
    assert_int_equal(after.orientation, 1);
    /* Exactly the signature and the five kept chunks. */
    assert_int_equal(out.len, 8 + (12 + 13) + (12 + 4) + (12 + 1) + (12 + 13) + 12);
    assert_memory_equal(out.data + out.len - 12, "\0\0\0\0IEND\xae\x42\x60\x82", 12);
    buf_free(&tiff);
    buf_free(&b);
    buf_free(&out);
}

static void png_with_a_wrong_crc_is_refused(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, FIXTURE_MAX);
    make_png(&b, &(struct png_spec){.width = 1, .height = 1});
    b.data[8 + 8 + 3] ^= 1; /* the width's last byte: IHDR's CRC no longer matches */
    struct linli_err err;
    assert_int_equal(inspect_rc(b.data, b.len, &err), LINLI_EINVAL);
    assert_contains(err.detail, "checksum");
    buf_free(&b);
}

static void png_without_iend_or_header_or_with_unknown_critical_chunk_is_refused(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, FIXTURE_MAX);
    make_png(&b, &(struct png_spec){.width = 1, .height = 1});
    struct linli_err err;
    assert_int_equal(inspect_rc(b.data, b.len - 12, &err), LINLI_EINVAL); /* no IEND */
    assert_contains(err.detail, "IEND");

    struct buf c;
    buf_init(&c, FIXTURE_MAX);
    put(&c, "\x89PNG\r\n\x1a\n", 8);
    png_chunk(&c, "IEND", NULL, 0);
    assert_int_equal(inspect_rc(c.data, c.len, &err), LINLI_EINVAL); /* no IHDR */

    /* Indexed colour (type 3) with no PLTE before the data. */
    buf_reset(&c);
    put(&c, "\x89PNG\r\n\x1a\n", 8);
    png_chunk(&c, "IHDR", "\0\0\0\x01\0\0\0\x01\x08\x03\0\0\0", 13);
    put(&c, b.data + 8 + 25, b.len - 8 - 25);
    assert_int_equal(inspect_rc(c.data, c.len, &err), LINLI_EINVAL);
    assert_contains(err.detail, "palette");

    buf_reset(&c);
    put(&c, b.data, 8 + 25);
    png_chunk(&c, "QRST", "x", 1);
    put(&c, b.data + 8 + 25, b.len - 8 - 25);
    assert_int_equal(inspect_rc(c.data, c.len, &err), LINLI_EINVAL);
    assert_contains(err.detail, "QRST");
    buf_free(&c);
    buf_free(&b);
}

static void png_truncated_at_every_length_is_refused(void **state)
{
    (void)state;
    struct buf tiff, b;
    buf_init(&tiff, FIXTURE_MAX);
    buf_init(&b, FIXTURE_MAX);
    make_tiff(&tiff, &BEIJING);
    make_png(&b, &(struct png_spec){.width = 1, .height = 1, .tiff = &tiff, .text = true});
    assert_every_prefix_refused(&b);
    buf_free(&tiff);
    buf_free(&b);
}

/* ---- WebP ---- */

static void webp_lossless_and_lossy_give_their_size(void **state)
{
    (void)state;
    struct buf ll, lossy;
    buf_init(&ll, FIXTURE_MAX);
    buf_init(&lossy, FIXTURE_MAX);
    make_webp_lossless(&ll);
    make_webp_lossy(&lossy, 1024, 768);
    struct photo_info info;
    inspect_ok(&ll, &info);
    assert_int_equal(info.type, PHOTO_WEBP);
    assert_int_equal(info.width, 1);
    assert_int_equal(info.height, 1);
    assert_string_equal(photo_type_mime(info.type), "image/webp");
    inspect_ok(&lossy, &info);
    assert_int_equal(info.width, 1024);
    assert_int_equal(info.height, 768);
    buf_free(&ll);
    buf_free(&lossy);
}

static void webp_extended_gives_exif_and_strips_to_orientation_only(void **state)
{
    (void)state;
    struct buf tiff, b, out;
    buf_init(&tiff, FIXTURE_MAX);
    buf_init(&b, FIXTURE_MAX);
    make_tiff(&tiff, &BEIJING);
    make_webp_extended(
        &b, &(struct webp_spec){.tiff = &tiff, .xmp = true, .icc = true, .unknown = true});
    struct photo_info info, after;
    inspect_ok(&b, &info);
    assert_int_equal(info.orientation, 6);
    assert_beijing(&info);
    strip_checked(&b, &out, &after);
    assert_int_equal(after.orientation, 6);
    /* VP8X keeps ICC, loses XMP, keeps EXIF for the orientation alone. */
    assert_int_equal((uint8_t)out.data[20], 0x20 | 0x08);
    assert_true(contains(&out, "ICCP"));
    assert_false(contains(&out, "XMP "));
    assert_true(contains_bytes(&out, "EXIF\x1a\0\0\0MM", 10));
    uint32_t riff = (uint8_t)out.data[4] | (uint32_t)(uint8_t)out.data[5] << 8 |
                    (uint32_t)(uint8_t)out.data[6] << 16 | (uint32_t)(uint8_t)out.data[7] << 24;
    assert_int_equal(riff, out.len - 8);
    buf_free(&tiff);
    buf_free(&b);
    buf_free(&out);
}

static void webp_strip_of_upright_photo_clears_the_exif_flag(void **state)
{
    (void)state;
    struct exif_spec s = BEIJING;
    s.orientation = 0;
    struct buf tiff, b, out;
    buf_init(&tiff, FIXTURE_MAX);
    buf_init(&b, FIXTURE_MAX);
    make_tiff(&tiff, &s);
    make_webp_extended(&b, &(struct webp_spec){.tiff = &tiff, .xmp = true});
    struct photo_info after;
    strip_checked(&b, &out, &after);
    assert_int_equal((uint8_t)out.data[20], 0);
    assert_false(contains(&out, "EXIF"));
    assert_int_equal(out.len, 12 + 18 + 18);
    buf_free(&tiff);
    buf_free(&b);
    buf_free(&out);
}

static void webp_animated_or_mismatched_is_refused(void **state)
{
    (void)state;
    struct buf anim, mismatch;
    buf_init(&anim, FIXTURE_MAX);
    buf_init(&mismatch, FIXTURE_MAX);
    make_webp_extended(&anim, &(struct webp_spec){.animated = true});
    make_webp_extended(&mismatch, &(struct webp_spec){.canvas_w = 2, .canvas_h = 1});
    struct linli_err err;
    assert_int_equal(inspect_rc(anim.data, anim.len, &err), LINLI_EINVAL);
    assert_contains(err.detail, "Animated");
    assert_int_equal(inspect_rc(mismatch.data, mismatch.len, &err), LINLI_EINVAL);
    assert_contains(err.detail, "canvas");
    /* A frame chunk is an animation whatever the flags say. */
    struct buf frames;
    buf_init(&frames, FIXTURE_MAX);
    make_webp_extended(&frames, &(struct webp_spec){0});
    riff_chunk(&frames, "ANMF", "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
    riff_close(&frames);
    assert_int_equal(inspect_rc(frames.data, frames.len, &err), LINLI_EINVAL);
    assert_contains(err.detail, "Animated");
    buf_free(&frames);
    buf_free(&anim);
    buf_free(&mismatch);
}

static void webp_truncated_at_every_length_is_refused(void **state)
{
    (void)state;
    struct buf tiff, b, ll;
    buf_init(&tiff, FIXTURE_MAX);
    buf_init(&b, FIXTURE_MAX);
    buf_init(&ll, FIXTURE_MAX);
    make_tiff(&tiff, &BEIJING);
    make_webp_extended(&b, &(struct webp_spec){.tiff = &tiff, .xmp = true, .icc = true});
    make_webp_lossless(&ll);
    assert_every_prefix_refused(&b);
    assert_every_prefix_refused(&ll);
    buf_free(&tiff);
    buf_free(&b);
    buf_free(&ll);
}

/* ---- strip's own contract ---- */

static void strip_refuses_bytes_of_another_type_and_leaves_out_as_it_was(void **state)
{
    (void)state;
    struct buf jpeg, png, out;
    buf_init(&jpeg, FIXTURE_MAX);
    buf_init(&png, FIXTURE_MAX);
    make_jpeg(&jpeg, &(struct jpeg_spec){.width = 1, .height = 1});
    make_png(&png, &(struct png_spec){.width = 1, .height = 1});
    struct photo_info info;
    inspect_ok(&jpeg, &info);
    buf_init(&out, FIXTURE_MAX);
    put(&out, "kept", 4);
    struct linli_err err = {0};
    assert_int_equal(photo_strip(png.data, png.len, &info, &out, &err), LINLI_EINVAL);
    assert_int_equal(out.len, 4);
    /* An output buffer too small: refused, and rewound. */
    struct buf small;
    buf_init(&small, 10);
    assert_int_equal(photo_strip(jpeg.data, jpeg.len, &info, &small, &err), LINLI_ETOOBIG);
    assert_int_equal(err.status, LINLI_ETOOBIG);
    assert_int_equal(small.len, 0);
    buf_free(&small);
    buf_free(&out);
    buf_free(&jpeg);
    buf_free(&png);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(jpeg_is_recognised_with_its_size),
        cmocka_unit_test(jpeg_exif_big_endian_gives_gps_and_orientation),
        cmocka_unit_test(jpeg_exif_little_endian_gives_gps_and_orientation),
        cmocka_unit_test(southern_and_western_positions_are_negative),
        cmocka_unit_test(gps_at_zero_zero_or_without_references_is_no_gps),
        cmocka_unit_test(jpeg_strip_drops_metadata_and_keeps_orientation),
        cmocka_unit_test(jpeg_strip_with_upright_photo_writes_no_exif),
        cmocka_unit_test(jpeg_without_frame_scan_or_end_is_refused),
        cmocka_unit_test(jpeg_truncated_at_every_length_is_refused),
        cmocka_unit_test(jpeg_with_bytes_after_the_end_is_accepted),
        cmocka_unit_test(jpeg_second_frame_is_refused),
        cmocka_unit_test(huge_dimensions_are_refused_in_every_format),
        cmocka_unit_test(too_many_pixels_is_refused_though_each_side_fits),
        cmocka_unit_test(zero_dimensions_are_refused),
        cmocka_unit_test(limits_are_the_callers_and_bytes_over_them_are_too_big),
        cmocka_unit_test(type_comes_from_the_bytes_alone),
        cmocka_unit_test(other_bytes_are_refused),
        cmocka_unit_test(cyclic_ifd_offsets_end),
        cmocka_unit_test(exif_offsets_past_the_end_are_ignored),
        cmocka_unit_test(exif_values_of_the_wrong_type_are_ignored),
        cmocka_unit_test(any_change_to_the_exif_leaves_the_photo_accepted),
        cmocka_unit_test(any_change_to_any_byte_is_safe),
        cmocka_unit_test(png_gives_size_and_exif),
        cmocka_unit_test(png_strip_keeps_colour_and_drops_text_and_exif),
        cmocka_unit_test(png_with_a_wrong_crc_is_refused),
        cmocka_unit_test(png_without_iend_or_header_or_with_unknown_critical_chunk_is_refused),
        cmocka_unit_test(png_truncated_at_every_length_is_refused),
        cmocka_unit_test(webp_lossless_and_lossy_give_their_size),
        cmocka_unit_test(webp_extended_gives_exif_and_strips_to_orientation_only),
        cmocka_unit_test(webp_strip_of_upright_photo_clears_the_exif_flag),
        cmocka_unit_test(webp_animated_or_mismatched_is_refused),
        cmocka_unit_test(webp_truncated_at_every_length_is_refused),
        cmocka_unit_test(strip_refuses_bytes_of_another_type_and_leaves_out_as_it_was),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
