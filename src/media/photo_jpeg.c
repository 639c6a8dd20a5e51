/* photo_jpeg.c - JPEG (ITU T.81, JFIF, Exif) by its markers: one walker over
 * the segments and the entropy-coded data after each scan header, used both
 * to inspect and to strip. */
#include "media/photo_internal.h"

#include <stdbool.h>
#include <string.h>

enum jpeg_marker {
    M_SOF0 = 0xc0,
    M_DHT = 0xc4,
    M_JPG = 0xc8,
    M_DAC = 0xcc,
    M_SOF15 = 0xcf,
    M_RST0 = 0xd0,
    M_RST7 = 0xd7,
    M_SOI = 0xd8,
    M_EOI = 0xd9,
    M_SOS = 0xda,
    M_APP0 = 0xe0,
    M_APP1 = 0xe1,
    M_APP2 = 0xe2,
    M_APP15 = 0xef,
    M_COM = 0xfe,
    M_TEM = 0x01,
};

#define JPEG_SOF_MIN_LEN 6  /* precision, height, width, component count */
#define JFIF_LEN         14 /* "JFIF\0", version, units, densities, thumbnail size */

static const char JFIF_ID[5] = {'J', 'F', 'I', 'F', 0};
static const char EXIF_ID[6] = {'E', 'x', 'i', 'f', 0, 0};
static const char ICC_ID[12] = {'I', 'C', 'C', '_', 'P', 'R', 'O', 'F', 'I', 'L', 'E', 0};

struct jpeg_walk {
    const uint8_t *p;
    size_t len;
    size_t pos;
};

/* One marker and what belongs to it. */
struct jpeg_seg {
    uint8_t marker;
    const uint8_t *payload; /* after the length field; NULL for a marker without one */
    size_t plen;
    const uint8_t *scan; /* SOS only: the entropy-coded data up to the next marker */
    size_t scan_len;
};

static bool jpeg_is_sof(uint8_t m)
{
    return m >= M_SOF0 && m <= M_SOF15 && m != M_DHT && m != M_JPG && m != M_DAC;
}

/* Moves to the next segment. Returns 1 with `s` filled, 0 at EOI (s->marker
 * is EOI; the walk ends there), or EINVAL when the bytes break the structure:
 * stray bytes between segments, a segment or scan running past the end. */
static int jpeg_next(struct jpeg_walk *w, struct jpeg_seg *s, struct linli_err *err)
{
    const uint8_t *p = w->p;
    memset(s, 0, sizeof *s);
    if (w->pos >= w->len)
        return linli_fail(err, LINLI_EINVAL, PHOTO_TRUNCATED ": the JPEG has no end marker.");
    if (p[w->pos] != 0xff)
        return linli_fail(err, LINLI_EINVAL, PHOTO_TRUNCATED ": stray bytes in the JPEG.");
    while (w->pos < w->len && p[w->pos] == 0xff) /* fill bytes may precede a marker */
        w->pos++;
    if (w->pos >= w->len)
        return linli_fail(err, LINLI_EINVAL, PHOTO_TRUNCATED ": the JPEG has no end marker.");
    s->marker = p[w->pos++];
    if (s->marker == M_EOI)
        return 0;
    if (s->marker == 0x00 || s->marker == M_SOI)
        return linli_fail(err, LINLI_EINVAL, PHOTO_TRUNCATED ": a misplaced JPEG marker.");
    if ((s->marker >= M_RST0 && s->marker <= M_RST7) || s->marker == M_TEM)
        return 1;
    if (w->len - w->pos < 2)
        return linli_fail(err, LINLI_EINVAL, PHOTO_TRUNCATED ": a JPEG segment is cut off.");
    size_t seglen = photo__be16(p + w->pos);
    if (seglen < 2 || seglen > w->len - w->pos)
        return linli_fail(err, LINLI_EINVAL, PHOTO_TRUNCATED ": a JPEG segment is cut off.");
    s->payload = p + w->pos + 2;
    s->plen = seglen - 2;
    w->pos += seglen;
    if (s->marker != M_SOS)
        return 1;

    /* Entropy-coded data ends at the first 0xFF that is neither a stuffed
     * 0xFF 0x00 nor a restart marker. */
    size_t i = w->pos;
    for (;;) {
        const uint8_t *ff = memchr(p + i, 0xff, w->len - i);
        if (!ff || (size_t)(ff - p) + 1 >= w->len)
            return linli_fail(err, LINLI_EINVAL,
                              PHOTO_TRUNCATED ": the JPEG image data is cut off.");
        i = (size_t)(ff - p);
        uint8_t next = p[i + 1];
        if (next != 0x00 && !(next >= M_RST0 && next <= M_RST7))
            break;
        i += 2;
    }
    s->scan = p + w->pos;
    s->scan_len = i - w->pos;
    w->pos = i;
    return 1;
}

int photo__jpeg_inspect(const uint8_t *p, size_t len, const struct photo_limits *lim,
                        struct photo_info *out, struct linli_err *err)
{
    struct jpeg_walk w = {.p = p, .len = len, .pos = 2};
    struct jpeg_seg s;
    bool frame = false, scan = false;
    const uint8_t *exif = NULL;
    size_t exif_len = 0;
    int rc;
    while ((rc = jpeg_next(&w, &s, err)) == 1) {
        if (jpeg_is_sof(s.marker)) {
            if (frame)
                return linli_fail(err, LINLI_EINVAL, "The JPEG has more than one frame.");
            if (s.plen < JPEG_SOF_MIN_LEN || s.payload[5] == 0 ||
                s.plen < JPEG_SOF_MIN_LEN + 3u * s.payload[5])
                return linli_fail(err, LINLI_EINVAL,
                                  PHOTO_TRUNCATED ": the JPEG frame header is damaged.");
            rc = photo__check_size(photo__be16(s.payload + 3), photo__be16(s.payload + 1), lim, out,
                                   err);
            if (rc != LINLI_OK)
                return rc;
            frame = true;
        } else if (s.marker == M_SOS) {
            if (!frame)
                return linli_fail(err, LINLI_EINVAL,
                                  PHOTO_TRUNCATED ": the JPEG image data comes before its frame.");
            scan = true;
        } else if (s.marker == M_APP1 && !exif && s.plen >= sizeof EXIF_ID &&
                   memcmp(s.payload, EXIF_ID, sizeof EXIF_ID) == 0) {
            exif = s.payload + sizeof EXIF_ID;
            exif_len = s.plen - sizeof EXIF_ID;
        }
    }
    if (rc < 0)
        return rc;
    if (!frame || !scan)
        return linli_fail(err, LINLI_EINVAL, PHOTO_TRUNCATED ": the JPEG has no image data.");
    if (exif)
        photo__exif_read(exif, exif_len, out);
    return LINLI_OK;
}

static int jpeg_put_segment(struct buf *out, uint8_t marker, const uint8_t *payload, size_t plen,
                            struct linli_err *err)
{
    uint8_t head[4] = {0xff, marker, (uint8_t)((plen + 2) >> 8), (uint8_t)(plen + 2)};
    int rc = photo__put(out, head, payload ? 4 : 2, err);
    if (rc == LINLI_OK && payload)
        rc = photo__put(out, payload, plen, err);
    return rc;
}

/* JFIF may carry a thumbnail, which may show what the photo showed before it
 * was cropped; the header is kept without it. */
static int jpeg_put_jfif(struct buf *out, const uint8_t *payload, struct linli_err *err)
{
    uint8_t jfif[JFIF_LEN];
    memcpy(jfif, payload, JFIF_LEN - 2);
    jfif[JFIF_LEN - 2] = 0;
    jfif[JFIF_LEN - 1] = 0;
    return jpeg_put_segment(out, M_APP0, jfif, sizeof jfif, err);
}

static int jpeg_put_orientation(struct buf *out, int orientation, struct linli_err *err)
{
    uint8_t app1[sizeof EXIF_ID + PHOTO_EXIF_ORIENTATION_LEN];
    memcpy(app1, EXIF_ID, sizeof EXIF_ID);
    photo__exif_orientation(orientation, app1 + sizeof EXIF_ID);
    return jpeg_put_segment(out, M_APP1, app1, sizeof app1, err);
}

/* Whether a segment survives stripping; APP0 JFIF is rewritten, not kept. */
static bool jpeg_keeps(const struct jpeg_seg *s)
{
    if (s->marker == M_APP2)
        return s->plen >= sizeof ICC_ID && memcmp(s->payload, ICC_ID, sizeof ICC_ID) == 0;
    return !(s->marker >= M_APP0 && s->marker <= M_APP15) && s->marker != M_COM;
}

int photo__jpeg_strip(const uint8_t *p, size_t len, int orientation, struct buf *out,
                      struct linli_err *err)
{
    static const uint8_t soi[2] = {0xff, M_SOI}, eoi[2] = {0xff, M_EOI};
    struct jpeg_walk w = {.p = p, .len = len, .pos = 2};
    struct jpeg_seg s;
    bool orientation_due = orientation != 1, frame = false, scan = false;
    int rc = photo__put(out, soi, sizeof soi, err);
    int more = 0;
    while (rc == LINLI_OK && (more = jpeg_next(&w, &s, err)) == 1) {
        frame |= jpeg_is_sof(s.marker);
        scan |= s.marker == M_SOS;
        /* The Exif APP1 goes first, after JFIF APP0 where there is one. */
        if (orientation_due && s.marker != M_APP0) {
            orientation_due = false;
            rc = jpeg_put_orientation(out, orientation, err);
            if (rc != LINLI_OK)
                break;
        }
        if (s.marker == M_APP0 && s.plen >= JFIF_LEN && memcmp(s.payload, JFIF_ID, 5) == 0)
            rc = jpeg_put_jfif(out, s.payload, err);
        else if (jpeg_keeps(&s))
            rc = jpeg_put_segment(out, s.marker, s.payload, s.plen, err);
        if (rc == LINLI_OK && s.scan_len)
            rc = photo__put(out, s.scan, s.scan_len, err);
    }
    if (rc != LINLI_OK)
        return rc;
    if (more < 0)
        return more;
    if (!frame || !scan)
        return linli_fail(err, LINLI_EINVAL, PHOTO_TRUNCATED ": the JPEG has no image data.");
    return photo__put(out, eoi, sizeof eoi, err);
}
