/* photo.h - uploaded photos: recognising JPEG, PNG and WebP by their bytes,
 * measuring them, reading the EXIF orientation and GPS position, and writing
 * a copy without metadata.
 *
 * Only the files' structure is read (JPEG markers, PNG chunks, RIFF chunks),
 * never their pixels: nothing here decodes or re-encodes an image. Every
 * length and offset in the input is checked before it is used, so any bytes at
 * all may be given to these functions. File names are never consulted. */
#ifndef LINLI_PHOTO_H
#define LINLI_PHOTO_H

#include "base/buf.h"
#include "base/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum photo_type { PHOTO_JPEG, PHOTO_PNG, PHOTO_WEBP };

/* "image/jpeg", "image/png", "image/webp"; NULL for any other value. */
const char *photo_type_mime(int type);
/* "jpg", "png", "webp" (no dot); NULL for any other value. */
const char *photo_type_ext(int type);

/* Defaults of struct photo_limits. A "photo bomb" is a small file whose header
 * claims a huge picture: whoever decodes it (a browser, a thumbnailer) would
 * need width * height * 4 bytes, so both sides and their product are bounded. */
#define PHOTO_MAX_BYTES  (10u * 1024u * 1024u) /* 10 MiB */
#define PHOTO_MAX_SIDE   10000u                /* pixels, either side */
#define PHOTO_MAX_PIXELS 40000000u             /* 40 megapixels */

/* What photo_inspect accepts. A field left 0 takes its default above, so
 * `(struct photo_limits){.max_bytes = n}` changes one limit only. */
struct photo_limits {
    size_t max_bytes;
    uint32_t max_side;
    uint64_t max_pixels;
};

struct photo_info {
    int type; /* enum photo_type */
    int width, height;
    int orientation; /* EXIF 1-8, 1 when absent or unreadable */
    bool has_gps;
    double lat, lon; /* decimal degrees, WGS-84 as the camera wrote it; 0 when !has_gps */
};

/* Recognises `data` by its first bytes (JPEG FF D8 FF; the PNG signature;
 * RIFF....WEBP with a VP8, VP8L or VP8X chunk), walks its whole structure and
 * fills `out`. `lim` may be NULL for the defaults.
 *
 * Fails with LINLI_ETOOBIG when len is over lim->max_bytes, and with
 * LINLI_EINVAL (err->detail says why, in a sentence fit for the uploader) for
 * anything else: bytes of no known type; a truncated structure (a segment or
 * chunk running past the end, a JPEG without frame header, scan or
 * end-of-image marker, a PNG without IEND or with a wrong chunk CRC, a RIFF size
 * past the end); a side of 0 or over max_side, or more than max_pixels; an
 * animated WebP (not a photo, and not strippable without re-encoding).
 *
 * EXIF (JPEG APP1 "Exif", PNG eXIf, WebP EXIF in a VP8X file) is read for IFD0
 * Orientation and the GPS latitude and longitude. EXIF that cannot be read is
 * ignored: the photo is accepted with orientation 1 and no GPS. A position of
 * exactly 0,0 is what some phones write without a fix and counts as none.
 * Bytes after the end of the image (after JPEG EOI, PNG IEND or the RIFF size)
 * are allowed and ignored; photo_strip drops them. On failure `out` holds no
 * photo (type -1, sides 0). */
int photo_inspect(const void *data, size_t len, const struct photo_limits *lim,
                  struct photo_info *out, struct linli_err *err);

/* Appends to `out` a copy of `data` without its metadata; `info` is what
 * photo_inspect said of the same bytes (its type and orientation are used).
 * The copy has the same pixels, dimensions and type, and passes photo_inspect.
 *
 *  - JPEG: drops APP1..APP15 and COM segments, keeping APP0 JFIF (without its
 *    thumbnail) and APP2 ICC_PROFILE, which colour needs; the entropy-coded
 *    data is copied verbatim; nothing after EOI. When the orientation is not 1
 *    a minimal APP1 Exif holding only IFD0 Orientation is written, so viewers
 *    still turn the photo upright.
 *  - PNG: keeps IHDR, PLTE, IDAT, IEND and the colour chunks (tRNS, gAMA, cHRM,
 *    sRGB, iCCP, cICP, sBIT) and pHYs; drops everything else (tEXt, zTXt, iTXt,
 *    eXIf, tIME, APNG frames, private chunks). The orientation is dropped
 *    too: few viewers honour it in PNG, and phones do not write it there.
 *  - WebP: keeps VP8X, ICCP, ALPH and the VP8/VP8L bitstream; drops EXIF, XMP
 *    and unknown chunks and clears the VP8X EXIF and XMP flags; when the
 *    orientation is not 1 an EXIF chunk with only the orientation (and its
 *    flag) is written. The RIFF size is set to what is written.
 *
 * `out` must have room for len + PHOTO_STRIP_SLACK bytes (its maximum). Give
 * it only bytes photo_inspect accepted: it walks the structure again and
 * fails with LINLI_EINVAL when the bytes are not of info->type or cannot be
 * walked, but it does not repeat every check. Fails with buf_append's status
 * when `out` is too small. On failure `out` is left as it was. */
#define PHOTO_STRIP_SLACK 64
int photo_strip(const void *data, size_t len, const struct photo_info *info, struct buf *out,
                struct linli_err *err);

#endif
