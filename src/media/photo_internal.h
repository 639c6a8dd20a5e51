/* photo_internal.h - what the per-format files of the photo module share:
 * byte readers, the limit check, the EXIF reader and writer, and each
 * format's inspect and strip. Not for use outside src/media. */
#ifndef LINLI_PHOTO_INTERNAL_H
#define LINLI_PHOTO_INTERNAL_H

#include "media/photo.h"

#include <stdint.h>

static inline uint32_t photo__be16(const uint8_t *p)
{
    return (uint32_t)p[0] << 8 | p[1];
}
static inline uint32_t photo__be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint32_t photo__le16(const uint8_t *p)
{
    return (uint32_t)p[1] << 8 | p[0];
}
static inline uint32_t photo__le24(const uint8_t *p)
{
    return (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}
static inline uint32_t photo__le32(const uint8_t *p)
{
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* The detail of every "truncated" refusal, so they read alike. */
#define PHOTO_TRUNCATED "The image is truncated or damaged"

/* Fills `out` with the dimensions, or fails with EINVAL when a side is 0 or
 * over the limits (lim already has its defaults applied). */
int photo__check_size(uint64_t width, uint64_t height, const struct photo_limits *lim,
                      struct photo_info *out, struct linli_err *err);

/* buf_append that says in `err` why it failed. */
int photo__put(struct buf *out, const void *bytes, size_t n, struct linli_err *err);

/* Reads IFD0 Orientation and the GPS position from a TIFF structure (the
 * payload of an EXIF block, with or without the "Exif\0\0" prefix) into
 * out->orientation, has_gps, lat and lon. Anything unreadable is skipped;
 * never fails. */
void photo__exif_read(const uint8_t *tiff, size_t len, struct photo_info *out);

/* The smallest TIFF structure that holds only IFD0 Orientation. */
#define PHOTO_EXIF_ORIENTATION_LEN 26
void photo__exif_orientation(int orientation, uint8_t out[PHOTO_EXIF_ORIENTATION_LEN]);

/* The per-format halves of photo_inspect and photo_strip. The input has been
 * recognised as the format by its first bytes, is at most lim->max_bytes long,
 * and `out` starts with type set and orientation 1. */
int photo__jpeg_inspect(const uint8_t *p, size_t len, const struct photo_limits *lim,
                        struct photo_info *out, struct linli_err *err);
int photo__png_inspect(const uint8_t *p, size_t len, const struct photo_limits *lim,
                       struct photo_info *out, struct linli_err *err);
int photo__webp_inspect(const uint8_t *p, size_t len, const struct photo_limits *lim,
                        struct photo_info *out, struct linli_err *err);

/* Append to `out`; on failure `out` may hold a partial copy (photo_strip
 * rewinds it). */
int photo__jpeg_strip(const uint8_t *p, size_t len, int orientation, struct buf *out,
                      struct linli_err *err);
int photo__png_strip(const uint8_t *p, size_t len, struct buf *out, struct linli_err *err);
int photo__webp_strip(const uint8_t *p, size_t len, int orientation, struct buf *out,
                      struct linli_err *err);

#endif
