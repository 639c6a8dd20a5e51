/* photo.c - recognising a photo's type by its first bytes, applying the
 * limits, and handing the structure to the format's own file
 * (photo_jpeg.c, photo_png.c, photo_webp.c). */
#include "media/photo.h"

#include "media/photo_internal.h"

#include <string.h>

static const uint8_t PNG_SIGNATURE[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

const char *photo_type_mime(int type)
{
    switch (type) {
    case PHOTO_JPEG:
        return "image/jpeg";
    case PHOTO_PNG:
        return "image/png";
    case PHOTO_WEBP:
        return "image/webp";
    default:
        return NULL;
    }
}

const char *photo_type_ext(int type)
{
    switch (type) {
    case PHOTO_JPEG:
        return "jpg";
    case PHOTO_PNG:
        return "png";
    case PHOTO_WEBP:
        return "webp";
    default:
        return NULL;
    }
}

/* The type the first bytes announce, or -1. */
static int photo_sniff(const uint8_t *p, size_t len)
{
    if (len >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff)
        return PHOTO_JPEG;
    if (len >= sizeof PNG_SIGNATURE && memcmp(p, PNG_SIGNATURE, sizeof PNG_SIGNATURE) == 0)
        return PHOTO_PNG;
    if (len >= 16 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WEBPVP8", 7) == 0 &&
        (p[15] == ' ' || p[15] == 'L' || p[15] == 'X'))
        return PHOTO_WEBP;
    return -1;
}

static void photo_limits_resolve(const struct photo_limits *lim, struct photo_limits *out)
{
    *out = lim ? *lim : (struct photo_limits){0};
    if (!out->max_bytes)
        out->max_bytes = PHOTO_MAX_BYTES;
    if (!out->max_side)
        out->max_side = PHOTO_MAX_SIDE;
    if (!out->max_pixels)
        out->max_pixels = PHOTO_MAX_PIXELS;
}

int photo__check_size(uint64_t width, uint64_t height, const struct photo_limits *lim,
                      struct photo_info *out, struct linli_err *err)
{
    if (width == 0 || height == 0)
        return linli_fail(err, LINLI_EINVAL, "The image has no pixels (it is %llu x %llu).",
                          (unsigned long long)width, (unsigned long long)height);
    /* Sides come from at most 24-bit fields, so the product cannot overflow. */
    if (width > lim->max_side || height > lim->max_side || width * height > lim->max_pixels)
        return linli_fail(err, LINLI_EINVAL,
                          "The image is %llu x %llu pixels; at most %lu pixels a side and "
                          "%llu pixels in all are accepted.",
                          (unsigned long long)width, (unsigned long long)height,
                          (unsigned long)lim->max_side, (unsigned long long)lim->max_pixels);
    out->width = (int)width;
    out->height = (int)height;
    return LINLI_OK;
}

int photo__put(struct buf *out, const void *bytes, size_t n, struct linli_err *err)
{
    int rc = buf_append(out, bytes, n);
    if (rc != LINLI_OK)
        return linli_fail(err, rc, "The photo without its metadata does not fit in %zu bytes.",
                          out->max);
    return LINLI_OK;
}

static void photo_info_empty(struct photo_info *out)
{
    memset(out, 0, sizeof *out);
    out->type = -1;
    out->orientation = 1;
}

int photo_inspect(const void *data, size_t len, const struct photo_limits *lim,
                  struct photo_info *out, struct linli_err *err)
{
    struct photo_limits l;
    photo_limits_resolve(lim, &l);
    photo_info_empty(out);
    if (len > l.max_bytes)
        return linli_fail(err, LINLI_ETOOBIG,
                          "The photo is %zu bytes; at most %zu bytes are accepted.", len,
                          l.max_bytes);
    const uint8_t *p = data;
    int type = p ? photo_sniff(p, len) : -1;
    if (type < 0)
        return linli_fail(err, LINLI_EINVAL, "The file is not a JPEG, PNG or WebP image.");
    out->type = type;
    int rc;
    if (type == PHOTO_JPEG)
        rc = photo__jpeg_inspect(p, len, &l, out, err);
    else if (type == PHOTO_PNG)
        rc = photo__png_inspect(p, len, &l, out, err);
    else
        rc = photo__webp_inspect(p, len, &l, out, err);
    if (rc != LINLI_OK) {
        photo_info_empty(out);
        return rc;
    }
    if (!out->has_gps)
        out->lat = out->lon = 0;
    return LINLI_OK;
}

int photo_strip(const void *data, size_t len, const struct photo_info *info, struct buf *out,
                struct linli_err *err)
{
    const uint8_t *p = data;
    int type = p ? photo_sniff(p, len) : -1;
    if (type < 0 || type != info->type)
        return linli_fail(err, LINLI_EINVAL,
                          "The bytes to strip are not of the type they were inspected as.");
    int orientation = info->orientation >= 1 && info->orientation <= 8 ? info->orientation : 1;
    size_t start = out->len;
    int rc;
    if (type == PHOTO_JPEG)
        rc = photo__jpeg_strip(p, len, orientation, out, err);
    else if (type == PHOTO_PNG)
        rc = photo__png_strip(p, len, out, err);
    else
        rc = photo__webp_strip(p, len, orientation, out, err);
    if (rc != LINLI_OK) {
        out->len = start;
        if (out->data)
            out->data[start] = '\0';
    }
    return rc;
}
