/* photo_png.c - PNG by its chunks: the signature, IHDR first, every chunk's
 * CRC checked, IEND last; stripping keeps the chunks that make the picture
 * and its colours and drops the rest. */
#include "media/photo_internal.h"

#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#define PNG_SIGNATURE_LEN  8
#define PNG_CHUNK_OVERHEAD 12          /* length, type and CRC around the data */
#define PNG_CHUNK_MAX      0x7fffffffu /* the spec's largest chunk length */
#define PNG_IHDR_LEN       13
#define PNG_CRC_POLY       0xedb88320u /* CRC-32 of ISO 3309, reflected */

enum png_colour { PNG_GREY = 0, PNG_RGB = 2, PNG_INDEXED = 3, PNG_GREY_ALPHA = 4, PNG_RGBA = 6 };

/* Chunks kept by photo_strip: the critical ones, then those the colours
 * depend on, and the pixel density (harmless, and printing wants it). */
static const char *const PNG_KEEP[] = {"IHDR", "PLTE", "IDAT", "IEND", "tRNS", "gAMA",
                                       "cHRM", "sRGB", "iCCP", "cICP", "sBIT", "pHYs"};

static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? PNG_CRC_POLY ^ (c >> 1) : c >> 1;
        crc_table[n] = c;
    }
}

static uint32_t png_crc(const uint8_t *p, size_t n)
{
    pthread_once(&crc_once, crc_init);
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++)
        c = crc_table[(c ^ p[i]) & 0xff] ^ (c >> 8);
    return c ^ 0xffffffffu;
}

struct png_chunk {
    const uint8_t *type; /* 4 ASCII letters */
    const uint8_t *data;
    size_t len;   /* of data */
    size_t total; /* of the whole chunk, length field to CRC */
};

static bool png_is(const struct png_chunk *c, const char *type)
{
    return memcmp(c->type, type, 4) == 0;
}

/* Reads the chunk at `pos`; EINVAL when it runs past the end, its type is
 * not four letters, or its CRC is wrong. */
static int png_chunk_at(const uint8_t *p, size_t len, size_t pos, struct png_chunk *c,
                        struct linli_err *err)
{
    if (len - pos < PNG_CHUNK_OVERHEAD)
        return linli_fail(err, LINLI_EINVAL, PHOTO_TRUNCATED ": the PNG has no IEND chunk.");
    size_t n = photo__be32(p + pos);
    if (n > PNG_CHUNK_MAX || n > len - pos - PNG_CHUNK_OVERHEAD)
        return linli_fail(err, LINLI_EINVAL, PHOTO_TRUNCATED ": a PNG chunk is cut off.");
    c->type = p + pos + 4;
    c->data = p + pos + 8;
    c->len = n;
    c->total = n + PNG_CHUNK_OVERHEAD;
    for (int i = 0; i < 4; i++) {
        uint8_t b = (uint8_t)(c->type[i] | 0x20);
        if (b < 'a' || b > 'z')
            return linli_fail(err, LINLI_EINVAL, PHOTO_TRUNCATED ": a PNG chunk is damaged.");
    }
    if (png_crc(c->type, n + 4) != photo__be32(c->data + n))
        return linli_fail(err, LINLI_EINVAL,
                          PHOTO_TRUNCATED ": a PNG chunk does not match its checksum.");
    return LINLI_OK;
}

static bool png_depth_ok(uint8_t colour, uint8_t depth)
{
    switch (colour) {
    case PNG_GREY:
        return depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16;
    case PNG_INDEXED:
        return depth == 1 || depth == 2 || depth == 4 || depth == 8;
    case PNG_RGB:
    case PNG_GREY_ALPHA:
    case PNG_RGBA:
        return depth == 8 || depth == 16;
    default:
        return false;
    }
}

static int png_ihdr(const struct png_chunk *c, const struct photo_limits *lim,
                    struct photo_info *out, struct linli_err *err)
{
    const uint8_t *d = c->data;
    if (c->len != PNG_IHDR_LEN || !png_depth_ok(d[9], d[8]) || d[10] != 0 || d[11] != 0 ||
        d[12] > 1)
        return linli_fail(err, LINLI_EINVAL, PHOTO_TRUNCATED ": the PNG header is damaged.");
    return photo__check_size(photo__be32(d), photo__be32(d + 4), lim, out, err);
}

int photo__png_inspect(const uint8_t *p, size_t len, const struct photo_limits *lim,
                       struct photo_info *out, struct linli_err *err)
{
    size_t pos = PNG_SIGNATURE_LEN;
    bool palette = false, data = false;
    uint8_t colour = 0;
    const struct png_chunk *exif = NULL;
    struct png_chunk c, exif_chunk;
    for (;;) {
        int rc = png_chunk_at(p, len, pos, &c, err);
        if (rc != LINLI_OK)
            return rc;
        bool first = pos == PNG_SIGNATURE_LEN;
        pos += c.total;
        if (first != png_is(&c, "IHDR"))
            return linli_fail(err, LINLI_EINVAL,
                              PHOTO_TRUNCATED ": the PNG does not start with its header.");
        if (first) {
            rc = png_ihdr(&c, lim, out, err);
            if (rc != LINLI_OK)
                return rc;
            colour = c.data[9];
        } else if (png_is(&c, "PLTE")) {
            palette = true;
        } else if (png_is(&c, "IDAT")) {
            if (colour == PNG_INDEXED && !palette)
                return linli_fail(err, LINLI_EINVAL,
                                  PHOTO_TRUNCATED ": the PNG has no palette for its colours.");
            data = true;
        } else if (png_is(&c, "IEND")) {
            break;
        } else if (png_is(&c, "eXIf")) {
            if (!exif) {
                exif_chunk = c;
                exif = &exif_chunk;
            }
        } else if (!(c.type[0] & 0x20)) {
            /* A critical chunk we do not know: a decoder must refuse it too. */
            return linli_fail(err, LINLI_EINVAL, "The PNG uses a chunk (%.4s) that is not known.",
                              (const char *)c.type);
        }
    }
    if (c.len != 0 || !data)
        return linli_fail(err, LINLI_EINVAL, PHOTO_TRUNCATED ": the PNG has no image data.");
    if (exif)
        photo__exif_read(exif->data, exif->len, out);
    return LINLI_OK;
}

static bool png_keeps(const struct png_chunk *c)
{
    for (size_t i = 0; i < sizeof PNG_KEEP / sizeof PNG_KEEP[0]; i++)
        if (png_is(c, PNG_KEEP[i]))
            return true;
    return false;
}

int photo__png_strip(const uint8_t *p, size_t len, struct buf *out, struct linli_err *err)
{
    if (len < PNG_SIGNATURE_LEN)
        return linli_fail(err, LINLI_EINVAL, PHOTO_TRUNCATED ": the PNG has no IEND chunk.");
    int rc = photo__put(out, p, PNG_SIGNATURE_LEN, err);
    size_t pos = PNG_SIGNATURE_LEN;
    bool end = false, header = false, data = false;
    while (rc == LINLI_OK && !end) {
        struct png_chunk c;
        rc = png_chunk_at(p, len, pos, &c, err);
        if (rc != LINLI_OK)
            break;
        header |= png_is(&c, "IHDR");
        data |= png_is(&c, "IDAT");
        end = png_is(&c, "IEND");
        if (png_keeps(&c))
            rc = photo__put(out, p + pos, c.total, err);
        pos += c.total;
    }
    if (rc == LINLI_OK && (!header || !data))
        return linli_fail(err, LINLI_EINVAL, PHOTO_TRUNCATED ": the PNG has no image data.");
    return rc;
}
