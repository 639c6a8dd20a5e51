/* photo_fixtures.h - minimal JPEG, PNG, WebP and EXIF bytes for the photo
 * tests, built byte by byte from the formats' specifications: a real 1x1
 * baseline JPEG (one 8x8 block, Huffman tables of one code each), a 1x1
 * greyscale PNG whose IDAT is a stored zlib block, a 1x1 lossless WebP (VP8L
 * with one-symbol prefix codes), and TIFF/EXIF blocks in both byte orders with
 * an orientation and a GPS position. Larger sizes change only the header
 * fields: the module under test never decodes pixels.
 *
 * Every builder appends to a struct buf and fails the running test when it
 * cannot. Included by one test file; the functions are static inline so a
 * file that uses some of them compiles cleanly. */
#ifndef LINLI_TEST_PHOTO_FIXTURES_H
#define LINLI_TEST_PHOTO_FIXTURES_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/buf.h"
#include "base/status.h"

#include <stdbool.h>
#include <string.h>

#define FIXTURE_MAX (1u << 20)

/* ---- writing bytes ---- */

static inline void put(struct buf *b, const void *p, size_t n)
{
    assert_int_equal(buf_append(b, p, n), LINLI_OK);
}

static inline void put8(struct buf *b, unsigned v)
{
    uint8_t x = (uint8_t)v;
    put(b, &x, 1);
}

static inline void put16(struct buf *b, bool big, unsigned v)
{
    uint8_t x[2] = {(uint8_t)(big ? v >> 8 : v), (uint8_t)(big ? v : v >> 8)};
    put(b, x, 2);
}

static inline void put32(struct buf *b, bool big, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        put8(b, (uint8_t)(v >> (big ? 24 - 8 * i : 8 * i)));
}

static inline void patch32(struct buf *b, size_t at, bool big, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        b->data[at + i] = (char)(uint8_t)(v >> (big ? 24 - 8 * i : 8 * i));
}

static inline void patch16(struct buf *b, size_t at, bool big, unsigned v)
{
    b->data[at] = (char)(uint8_t)(big ? v >> 8 : v);
    b->data[at + 1] = (char)(uint8_t)(big ? v : v >> 8);
}

/* ---- EXIF ---- */

struct exif_spec {
    bool big;
    int orientation; /* 0: no Orientation entry */
    bool gps;
    char lat_ref, lon_ref;
    uint32_t lat[6], lon[6]; /* degrees, minutes, seconds as numerator, denominator */
};

/* Where make_tiff put things, for tests that damage them. */
struct tiff_layout {
    size_t ifd0, ifd0_next, gps_pointer, gps_ifd, gps_next, lat;
};

static const struct exif_spec BEIJING = {
    .big = true,
    .orientation = 6,
    .gps = true,
    .lat_ref = 'N',
    .lon_ref = 'E',
    .lat = {39, 1, 55, 1, 19, 1},
    .lon = {116, 1, 26, 1, 37, 1},
};

static inline void tiff_entry(struct buf *b, bool big, unsigned tag, unsigned type, uint32_t count,
                              uint32_t value)
{
    put16(b, big, tag);
    put16(b, big, type);
    put32(b, big, count);
    put32(b, big, value);
}

/* A TIFF structure: IFD0 with Orientation and a GPS pointer, then the GPS
 * IFD with the two references and the two RATIONAL triplets. */
static inline struct tiff_layout make_tiff(struct buf *b, const struct exif_spec *s)
{
    struct tiff_layout l = {0};
    bool big = s->big;
    size_t base = b->len;
    put(b, big ? "MM" : "II", 2);
    put16(b, big, 42);
    put32(b, big, 8);
    unsigned n0 = (s->orientation ? 1u : 0u) + (s->gps ? 1u : 0u);
    l.ifd0 = 8;
    l.gps_ifd = 8 + 2 + 12 * n0 + 4;
    l.lat = l.gps_ifd + 2 + 4 * 12 + 4;
    put16(b, big, n0);
    if (s->orientation) {
        /* A SHORT sits in the first two bytes of the value field. */
        tiff_entry(b, big, 0x0112, 3, 1,
                   big ? (uint32_t)s->orientation << 16 : (uint32_t)s->orientation);
    }
    if (s->gps) {
        l.gps_pointer = b->len - base + 8;
        tiff_entry(b, big, 0x8825, 4, 1, (uint32_t)l.gps_ifd);
    }
    l.ifd0_next = b->len - base;
    put32(b, big, 0);
    if (!s->gps)
        return l;
    put16(b, big, 4);
    uint32_t lat_ref = big ? (uint32_t)s->lat_ref << 24 : (uint32_t)s->lat_ref;
    uint32_t lon_ref = big ? (uint32_t)s->lon_ref << 24 : (uint32_t)s->lon_ref;
    tiff_entry(b, big, 1, 2, 2, lat_ref);
    tiff_entry(b, big, 2, 5, 3, (uint32_t)l.lat);
    tiff_entry(b, big, 3, 2, 2, lon_ref);
    tiff_entry(b, big, 4, 5, 3, (uint32_t)l.lat + 24);
    l.gps_next = b->len - base;
    put32(b, big, 0);
    for (int i = 0; i < 6; i++)
        put32(b, big, s->lat[i]);
    for (int i = 0; i < 6; i++)
        put32(b, big, s->lon[i]);
    return l;
}

/* ---- JPEG ---- */

struct jpeg_spec {
    unsigned width, height;
    const struct buf *tiff; /* an APP1 Exif, when not NULL */
    bool jfif, jfif_thumbnail;
    bool metadata;  /* COM, XMP, Photoshop and MPF segments, and an ICC profile */
    bool busy_scan; /* entropy-coded data with stuffed bytes and a restart marker */
    bool trailer;   /* bytes after EOI */
};

static inline void jpeg_segment(struct buf *b, unsigned marker, const void *payload, size_t n)
{
    put8(b, 0xff);
    put8(b, marker);
    put16(b, true, (unsigned)n + 2);
    put(b, payload, n);
}

static const char ICC_PAYLOAD[] = "ICC_PROFILE\0\x01\x01not really a profile";

/* A baseline greyscale JPEG whose one 8x8 block is DC 0 and EOB: with a
 * one-code DC table and a one-code AC table both are the bit 0, so the scan
 * is 00 then padding ones: 0x3F. */
static inline void make_jpeg(struct buf *b, const struct jpeg_spec *s)
{
    put(b, "\xff\xd8", 2);
    if (s->jfif) {
        uint8_t jfif[17] = {'J', 'F', 'I', 'F', 0, 1, 2, 1, 0, 72, 0, 72, 0, 0};
        size_t n = 14;
        if (s->jfif_thumbnail) {
            jfif[12] = jfif[13] = 1; /* a 1x1 RGB thumbnail follows */
            jfif[14] = 0xaa, jfif[15] = 0xbb, jfif[16] = 0xcc;
            n = 17;
        }
        jpeg_segment(b, 0xe0, jfif, n);
    }
    if (s->tiff) {
        struct buf app1;
        buf_init(&app1, FIXTURE_MAX);
        put(&app1, "Exif\0\0", 6);
        put(&app1, s->tiff->data, s->tiff->len);
        jpeg_segment(b, 0xe1, app1.data, app1.len);
        buf_free(&app1);
    }
    if (s->metadata) {
        static const char xmp[] = "http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>SECRET-XMP</x:xmpmeta>";
        static const char ps[] = "Photoshop 3.0\0SECRET-IPTC";
        static const char mpf[] = "MPF\0SECRET-MPF";
        static const char com[] = "SECRET-COMMENT";
        jpeg_segment(b, 0xfe, com, sizeof com - 1);
        jpeg_segment(b, 0xe1, xmp, sizeof xmp - 1);
        jpeg_segment(b, 0xed, ps, sizeof ps - 1);
        jpeg_segment(b, 0xe2, mpf, sizeof mpf - 1);
        jpeg_segment(b, 0xe2, ICC_PAYLOAD, sizeof ICC_PAYLOAD - 1);
    }
    uint8_t dqt[65] = {0}; /* table 0, 8-bit, all ones */
    memset(dqt + 1, 1, 64);
    jpeg_segment(b, 0xdb, dqt, sizeof dqt);
    uint8_t sof[9] = {8,
                      (uint8_t)(s->height >> 8),
                      (uint8_t)s->height,
                      (uint8_t)(s->width >> 8),
                      (uint8_t)s->width,
                      1,
                      1,
                      0x11,
                      0};
    jpeg_segment(b, 0xc0, sof, sizeof sof);
    uint8_t dht[18] = {0x00, 1}; /* class 0 (DC) table 0: one code of length 1, symbol 0 */
    jpeg_segment(b, 0xc4, dht, sizeof dht);
    dht[0] = 0x10; /* class 1 (AC) table 0: the same, symbol 0 is end-of-block */
    jpeg_segment(b, 0xc4, dht, sizeof dht);
    static const uint8_t sos[6] = {1, 1, 0x00, 0, 63, 0};
    jpeg_segment(b, 0xda, sos, sizeof sos);
    if (s->busy_scan)
        put(b, "\x3f\xff\x00\x12\xff\xd0\x34", 7);
    else
        put8(b, 0x3f);
    put(b, "\xff\xd9", 2);
    if (s->trailer)
        put(b, "SECRET-TRAILER", 14);
}

/* ---- PNG ---- */

static inline uint32_t crc32_bitwise(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
    }
    return ~c;
}

static inline uint32_t adler32(const uint8_t *p, size_t n)
{
    uint32_t a = 1, b = 0;
    for (size_t i = 0; i < n; i++) {
        a = (a + p[i]) % 65521;
        b = (b + a) % 65521;
    }
    return b << 16 | a;
}

static inline void png_chunk(struct buf *b, const char *type, const void *data, size_t n)
{
    put32(b, true, (uint32_t)n);
    size_t at = b->len;
    put(b, type, 4);
    put(b, data, n);
    put32(b, true, crc32_bitwise((const uint8_t *)b->data + at, n + 4));
}

struct png_spec {
    unsigned width, height;
    const struct buf *tiff; /* an eXIf chunk, when not NULL */
    bool text;              /* tEXt, iTXt, tIME and a private chunk */
    bool colour;            /* gAMA and sRGB */
};

/* A greyscale 8-bit PNG; its IDAT is one mid-grey 1x1 row (filter byte 0,
 * then the pixel) in a stored (uncompressed) deflate block. */
static inline void make_png(struct buf *b, const struct png_spec *s)
{
    put(b, "\x89PNG\r\n\x1a\n", 8);
    uint8_t ihdr[13] = {0};
    for (int i = 0; i < 4; i++) {
        ihdr[i] = (uint8_t)(s->width >> (24 - 8 * i));
        ihdr[4 + i] = (uint8_t)(s->height >> (24 - 8 * i));
    }
    ihdr[8] = 8; /* bit depth; colour type 0, compression 0, filter 0, no interlace */
    png_chunk(b, "IHDR", ihdr, sizeof ihdr);
    if (s->colour) {
        static const uint8_t gama[4] = {0, 0, 0xb1, 0x8f};
        png_chunk(b, "gAMA", gama, sizeof gama);
        png_chunk(b, "sRGB", "\0", 1);
    }
    if (s->text) {
        png_chunk(b, "tEXt", "Comment\0SECRET-TEXT", 19);
        png_chunk(b, "iTXt", "Author\0\0\0\0\0SECRET-ITXT", 22);
        png_chunk(b, "tIME", "\x07\xe8\x05\x01\x0c\x00\x00", 7);
        png_chunk(b, "prVt", "SECRET-PRIVATE", 14);
    }
    if (s->tiff)
        png_chunk(b, "eXIf", s->tiff->data, s->tiff->len);
    static const uint8_t row[2] = {0, 0x80};
    uint8_t z[2 + 5 + 2 + 4] = {0x78, 0x01, 0x01, 2, 0, 0xfd, 0xff, row[0], row[1]};
    uint32_t a = adler32(row, sizeof row);
    for (int i = 0; i < 4; i++)
        z[9 + i] = (uint8_t)(a >> (24 - 8 * i));
    png_chunk(b, "IDAT", z, sizeof z);
    png_chunk(b, "IEND", NULL, 0);
}

/* ---- WebP ---- */

/* A 1x1 lossless bitstream: the 0x2F signature, width-1 and height-1 in 14
 * bits each, no alpha, version 0; then no transform, no colour cache, no
 * meta codes, and five simple prefix codes of one symbol each (green, red and
 * blue 0, alpha 255, distance 0), so the one pixel takes no bits. */
static const uint8_t VP8L_1X1[9] = {0x2f, 0, 0, 0, 0, 0x88, 0x88, 0xfe, 0x07};

static inline void riff_chunk(struct buf *b, const char *fourcc, const void *data, size_t n)
{
    put(b, fourcc, 4);
    put32(b, false, (uint32_t)n);
    put(b, data, n);
    if (n & 1)
        put8(b, 0);
}

static inline void riff_close(struct buf *b)
{
    patch32(b, 4, false, (uint32_t)b->len - 8);
}

static inline void make_webp_lossless(struct buf *b)
{
    put(b, "RIFF\0\0\0\0WEBP", 12);
    riff_chunk(b, "VP8L", VP8L_1X1, sizeof VP8L_1X1);
    riff_close(b);
}

/* A lossy key frame header of the given size (the partitions are not read). */
static inline void make_webp_lossy(struct buf *b, unsigned width, unsigned height)
{
    uint8_t vp8[16] = {0x10,
                       0,
                       0,
                       0x9d,
                       0x01,
                       0x2a,
                       (uint8_t)width,
                       (uint8_t)(width >> 8),
                       (uint8_t)height,
                       (uint8_t)(height >> 8)};
    put(b, "RIFF\0\0\0\0WEBP", 12);
    riff_chunk(b, "VP8 ", vp8, sizeof vp8);
    riff_close(b);
}

struct webp_spec {
    unsigned canvas_w, canvas_h; /* 0: 1x1 */
    const struct buf *tiff;      /* an EXIF chunk, when not NULL */
    bool xmp, icc, unknown, animated;
};

/* An extended file: VP8X, optional ICCP, the 1x1 VP8L, EXIF, XMP. */
static inline void make_webp_extended(struct buf *b, const struct webp_spec *s)
{
    unsigned w = s->canvas_w ? s->canvas_w : 1, h = s->canvas_h ? s->canvas_h : 1;
    uint8_t flags = (uint8_t)((s->icc ? 0x20 : 0) | (s->tiff ? 0x08 : 0) | (s->xmp ? 0x04 : 0) |
                              (s->animated ? 0x02 : 0));
    uint8_t vp8x[10] = {flags,
                        0,
                        0,
                        0,
                        (uint8_t)(w - 1),
                        (uint8_t)((w - 1) >> 8),
                        (uint8_t)((w - 1) >> 16),
                        (uint8_t)(h - 1),
                        (uint8_t)((h - 1) >> 8),
                        (uint8_t)((h - 1) >> 16)};
    put(b, "RIFF\0\0\0\0WEBP", 12);
    riff_chunk(b, "VP8X", vp8x, sizeof vp8x);
    if (s->icc)
        riff_chunk(b, "ICCP", "not really a profile", 20);
    riff_chunk(b, "VP8L", VP8L_1X1, sizeof VP8L_1X1);
    if (s->unknown)
        riff_chunk(b, "ZZZZ", "SECRET-UNKNOWN", 14);
    if (s->tiff)
        riff_chunk(b, "EXIF", s->tiff->data, s->tiff->len);
    if (s->xmp)
        riff_chunk(b, "XMP ", "<x:xmpmeta>SECRET-XMP</x:xmpmeta>", 33);
    riff_close(b);
}

#endif
