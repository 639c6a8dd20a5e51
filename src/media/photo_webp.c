/* photo_webp.c - WebP by its RIFF chunks: a simple file (one VP8 or VP8L
 * bitstream) or an extended one (VP8X, then ICCP, ALPH, the bitstream, EXIF,
 * XMP). Dimensions come from the VP8 frame header, the VP8L header's 14-bit
 * fields and the VP8X canvas's 24-bit fields; in an extended file the
 * bitstream must agree with the canvas. Animations are refused. */
#include "media/photo_internal.h"

#include <stdbool.h>
#include <string.h>

#define RIFF_HEADER_LEN  12 /* "RIFF", size, "WEBP" */
#define RIFF_CHUNK_HEAD  8  /* FourCC, size */
#define VP8X_LEN         10
#define VP8_HEADER_LEN   10 /* frame tag, start code, two 16-bit sizes */
#define VP8L_HEADER_LEN  5  /* signature, 32 bits of sizes and flags */
#define VP8L_SIGNATURE   0x2f
#define VP8_SIDE_MASK    0x3fff /* 14 bits; the top two scale the output */
#define VP8L_SIDE_BITS   14
#define VP8L_VERSION_BIT 29

enum vp8x_flag {
    VP8X_ANIMATION = 0x02,
    VP8X_XMP = 0x04,
    VP8X_EXIF = 0x08,
    VP8X_ALPHA = 0x10,
    VP8X_ICC = 0x20,
};

static const uint8_t VP8_START_CODE[3] = {0x9d, 0x01, 0x2a};

struct riff_chunk {
    const uint8_t *fourcc;
    const uint8_t *data;
    size_t len;   /* of data */
    size_t total; /* header, data and pad byte, as far as the RIFF goes */
};

static bool riff_is(const struct riff_chunk *c, const char *fourcc)
{
    return memcmp(c->fourcc, fourcc, 4) == 0;
}

/* The RIFF's end: 8 + its size, which must lie within the data. */
static int riff_end(const uint8_t *p, size_t len, size_t *end, struct linli_err *err)
{
    size_t size = photo__le32(p + 4);
    if (size < 4 + RIFF_CHUNK_HEAD || size > len - 8)
        return linli_fail(err, LINLI_EINVAL, PHOTO_TRUNCATED ": the WebP is cut off.");
    *end = 8 + size;
    return LINLI_OK;
}

/* Reads the chunk at `pos` before `end`. A last chunk of odd length may lack
 * its pad byte; anything else past the end is refused. */
static int riff_chunk_at(const uint8_t *p, size_t end, size_t pos, struct riff_chunk *c,
                         struct linli_err *err)
{
    if (end - pos < RIFF_CHUNK_HEAD)
        return linli_fail(err, LINLI_EINVAL, PHOTO_TRUNCATED ": the WebP is cut off.");
    size_t n = photo__le32(p + pos + 4);
    if (n > end - pos - RIFF_CHUNK_HEAD)
        return linli_fail(err, LINLI_EINVAL, PHOTO_TRUNCATED ": a WebP chunk is cut off.");
    c->fourcc = p + pos;
    c->data = p + pos + RIFF_CHUNK_HEAD;
    c->len = n;
    c->total = RIFF_CHUNK_HEAD + n + (n & 1);
    if (c->total > end - pos)
        c->total = end - pos;
    return LINLI_OK;
}

/* The size of a VP8 or VP8L bitstream; 1 when `c` is neither, 0 when it is
 * one and fits, EINVAL when it is damaged. */
static int webp_bitstream(const struct riff_chunk *c, uint64_t *w, uint64_t *h,
                          struct linli_err *err)
{
    const uint8_t *d = c->data;
    if (riff_is(c, "VP8 ")) {
        /* Bit 0 of the frame tag is 0 for a key frame, the only kind a still image has. */
        if (c->len < VP8_HEADER_LEN || (d[0] & 1) ||
            memcmp(d + 3, VP8_START_CODE, sizeof VP8_START_CODE) != 0)
            return linli_fail(err, LINLI_EINVAL, PHOTO_TRUNCATED ": the WebP frame is damaged.");
        *w = photo__le16(d + 6) & VP8_SIDE_MASK;
        *h = photo__le16(d + 8) & VP8_SIDE_MASK;
        return 0;
    }
    if (riff_is(c, "VP8L")) {
        uint32_t bits = c->len >= VP8L_HEADER_LEN ? photo__le32(d + 1) : 0;
        if (c->len < VP8L_HEADER_LEN || d[0] != VP8L_SIGNATURE || bits >> VP8L_VERSION_BIT)
            return linli_fail(err, LINLI_EINVAL, PHOTO_TRUNCATED ": the WebP frame is damaged.");
        *w = (bits & ((1u << VP8L_SIDE_BITS) - 1)) + 1;
        *h = ((bits >> VP8L_SIDE_BITS) & ((1u << VP8L_SIDE_BITS) - 1)) + 1;
        return 0;
    }
    return 1;
}

/* The size of a simple file's only bitstream. */
static int webp_simple(const struct riff_chunk *c, uint64_t *w, uint64_t *h, struct linli_err *err)
{
    int rc = webp_bitstream(c, w, h, err);
    if (rc == 1)
        return linli_fail(err, LINLI_EINVAL, PHOTO_TRUNCATED ": the WebP has no image data.");
    return rc;
}

static int webp_refuse_animation(struct linli_err *err)
{
    return linli_fail(err, LINLI_EINVAL, "Animated WebP images are not accepted; send a photo.");
}

/* Walks an extended file's chunks after VP8X (at `pos`): refuses
 * animations, a second bitstream, a bitstream whose size is not the
 * canvas's; finds the first EXIF chunk. */
static int webp_extended(const uint8_t *p, size_t end, size_t pos, uint64_t cw, uint64_t ch,
                         struct riff_chunk *exif, struct linli_err *err)
{
    bool image = false;
    exif->data = NULL;
    while (pos < end) {
        struct riff_chunk c;
        int rc = riff_chunk_at(p, end, pos, &c, err);
        if (rc != LINLI_OK)
            return rc;
        pos += c.total;
        if (riff_is(&c, "ANIM") || riff_is(&c, "ANMF"))
            return webp_refuse_animation(err);
        if (riff_is(&c, "EXIF") && !exif->data)
            *exif = c;
        uint64_t w, h;
        rc = webp_bitstream(&c, &w, &h, err);
        if (rc < 0)
            return rc;
        if (rc == 1)
            continue;
        if (image)
            return linli_fail(err, LINLI_EINVAL, "The WebP holds more than one image.");
        if (w != cw || h != ch)
            return linli_fail(err, LINLI_EINVAL,
                              PHOTO_TRUNCATED ": the WebP image does not fit its canvas.");
        image = true;
    }
    if (!image)
        return linli_fail(err, LINLI_EINVAL, PHOTO_TRUNCATED ": the WebP has no image data.");
    return LINLI_OK;
}

/* The canvas of a VP8X chunk; EINVAL when it is short or animated. */
static int webp_vp8x(const struct riff_chunk *c, uint64_t *w, uint64_t *h, struct linli_err *err)
{
    if (c->len < VP8X_LEN)
        return linli_fail(err, LINLI_EINVAL, PHOTO_TRUNCATED ": the WebP header is damaged.");
    if (c->data[0] & VP8X_ANIMATION)
        return webp_refuse_animation(err);
    *w = (uint64_t)photo__le24(c->data + 4) + 1;
    *h = (uint64_t)photo__le24(c->data + 7) + 1;
    return LINLI_OK;
}

int photo__webp_inspect(const uint8_t *p, size_t len, const struct photo_limits *lim,
                        struct photo_info *out, struct linli_err *err)
{
    size_t end = 0;
    struct riff_chunk first, exif;
    uint64_t w, h;
    int rc = riff_end(p, len, &end, err);
    if (rc == LINLI_OK)
        rc = riff_chunk_at(p, end, RIFF_HEADER_LEN, &first, err);
    if (rc != LINLI_OK)
        return rc;
    if (!riff_is(&first, "VP8X")) {
        rc = webp_simple(&first, &w, &h, err);
        return rc != LINLI_OK ? rc : photo__check_size(w, h, lim, out, err);
    }
    rc = webp_vp8x(&first, &w, &h, err);
    if (rc == LINLI_OK)
        rc = photo__check_size(w, h, lim, out, err);
    if (rc == LINLI_OK)
        rc = webp_extended(p, end, RIFF_HEADER_LEN + first.total, w, h, &exif, err);
    if (rc != LINLI_OK)
        return rc;
    if (exif.data)
        photo__exif_read(exif.data, exif.len, out);
    return LINLI_OK;
}

/* Appends a chunk with its pad byte, whether or not the input had one. */
static int webp_put_chunk(struct buf *out, const char *fourcc, const uint8_t *data, size_t n,
                          struct linli_err *err)
{
    uint8_t head[RIFF_CHUNK_HEAD] = {(uint8_t)fourcc[0], (uint8_t)fourcc[1], (uint8_t)fourcc[2],
                                     (uint8_t)fourcc[3], (uint8_t)n,         (uint8_t)(n >> 8),
                                     (uint8_t)(n >> 16), (uint8_t)(n >> 24)};
    static const uint8_t pad = 0;
    int rc = photo__put(out, head, sizeof head, err);
    if (rc == LINLI_OK)
        rc = photo__put(out, data, n, err);
    if (rc == LINLI_OK && (n & 1))
        rc = photo__put(out, &pad, 1, err);
    return rc;
}

static bool webp_keeps(const struct riff_chunk *c)
{
    return riff_is(c, "ICCP") || riff_is(c, "ALPH") || riff_is(c, "VP8 ") || riff_is(c, "VP8L");
}

int photo__webp_strip(const uint8_t *p, size_t len, int orientation, struct buf *out,
                      struct linli_err *err)
{
    size_t start = out->len, end = 0;
    struct riff_chunk c, exif;
    uint64_t w, h;
    int rc = riff_end(p, len, &end, err);
    if (rc == LINLI_OK)
        rc = riff_chunk_at(p, end, RIFF_HEADER_LEN, &c, err);
    if (rc == LINLI_OK && riff_is(&c, "VP8X")) {
        rc = webp_vp8x(&c, &w, &h, err);
        if (rc == LINLI_OK)
            rc = webp_extended(p, end, RIFF_HEADER_LEN + c.total, w, h, &exif, err);
    } else if (rc == LINLI_OK) {
        rc = webp_simple(&c, &w, &h, err);
    }
    if (rc == LINLI_OK)
        rc = photo__put(out, "RIFF\0\0\0\0WEBP", RIFF_HEADER_LEN, err);
    if (rc != LINLI_OK)
        return rc;

    if (!riff_is(&c, "VP8X")) {
        /* A simple file has no metadata: only its bitstream is kept. */
        rc = webp_put_chunk(out, (const char *)c.fourcc, c.data, c.len, err);
    } else {
        uint8_t vp8x[VP8X_LEN];
        memcpy(vp8x, c.data, VP8X_LEN);
        vp8x[0] =
            (uint8_t)((vp8x[0] & (VP8X_ICC | VP8X_ALPHA)) | (orientation != 1 ? VP8X_EXIF : 0));
        rc = webp_put_chunk(out, "VP8X", vp8x, sizeof vp8x, err);
        for (size_t pos = RIFF_HEADER_LEN + c.total; rc == LINLI_OK && pos < end;) {
            struct riff_chunk k;
            rc = riff_chunk_at(p, end, pos, &k, err);
            if (rc != LINLI_OK)
                break;
            if (webp_keeps(&k))
                rc = webp_put_chunk(out, (const char *)k.fourcc, k.data, k.len, err);
            pos += k.total;
        }
        if (rc == LINLI_OK && orientation != 1) {
            uint8_t tiff[PHOTO_EXIF_ORIENTATION_LEN];
            photo__exif_orientation(orientation, tiff);
            rc = webp_put_chunk(out, "EXIF", tiff, sizeof tiff, err);
        }
    }
    if (rc != LINLI_OK)
        return rc;
    size_t size = out->len - start - 8;
    uint8_t *riff_size = (uint8_t *)out->data + start + 4;
    riff_size[0] = (uint8_t)size;
    riff_size[1] = (uint8_t)(size >> 8);
    riff_size[2] = (uint8_t)(size >> 16);
    riff_size[3] = (uint8_t)(size >> 24);
    return LINLI_OK;
}
